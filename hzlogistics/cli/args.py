"""From command-line arguments to a checked scenario and checked output paths.

Flags override the keys of the scenario file (:func:`scenario_from_args`);
output folders are checked before any work (:func:`check_writable`,
:func:`check_not_inputs`), so a run never fails on them after a long solve.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hzlogistics import settings
from hzlogistics._errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.scenario import Scenario

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Scenario from the command line
# ---------------------------------------------------------------------------
def _parse_count(text: str) -> tuple[int, int | None]:
    t = text.strip().lower()
    if t == "none":
        return 0, None
    m = re.fullmatch(r"(\d+)\s*(?:-|\.\.|:|,)\s*(\d+|none)?", t)
    if m:
        hi = m.group(2)
        return int(m.group(1)), None if hi in (None, "none") else int(hi)
    if re.fullmatch(r"\d+", t):
        return int(t), int(t)
    raise ValidationError(f"--count: expected N, LO-HI or none, got {text!r}")


def _parse_float_or_none(flag: str, text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"{flag}: expected a number or none, got {text!r}") from None


def _parse_number(flag: str, text: str, kind: type = float) -> Any:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValidationError(f"{flag}: expected {what}, got {text!r}") from None


def _overrides(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    """Scenario fields set by flags, and the flag that set each field."""
    values: dict[str, Any] = {}
    flags: dict[str, str] = {}
    problems: list[str] = []

    def put(flag: str, field: str, value: Any) -> None:
        values[field] = value
        flags[field] = flag

    def attempt(fn: Callable[[], None]) -> None:
        try:
            fn()
        except ValidationError as exc:
            problems.extend(exc.problems)

    for flag, field in (("--demand", "demand_file"), ("--sites", "sites_file"),
                        ("--coverage", "coverage_file")):
        v = getattr(args, field, None)
        if v is not None:
            p = Path(v).expanduser()
            if not p.is_file():
                problems.append(f"{flag}: file not found: {v}")
            put(flag, field, str(p.resolve()))
    if getattr(args, "radius_km", None) is not None:
        attempt(lambda: put("--radius-km", "radius_km",
                            _parse_float_or_none("--radius-km", args.radius_km)))
    if getattr(args, "cutoff_h", None) is not None:
        attempt(lambda: put("--cutoff-h", "cutoff_h",
                            _parse_float_or_none("--cutoff-h", args.cutoff_h)))
    if getattr(args, "area_budget", None) is not None:
        attempt(lambda: put("--area-budget", "area_budget_m2",
                            _parse_float_or_none("--area-budget", args.area_budget)))
    if getattr(args, "capacity_per_m2", None) is not None:
        attempt(lambda: put("--capacity-per-m2", "capacity_per_m2",
                            _parse_float_or_none("--capacity-per-m2", args.capacity_per_m2)))
    if getattr(args, "sizes", None) is not None:
        def sizes() -> None:
            try:
                tiers = [float(x) for x in args.sizes.split(",") if x.strip()]
            except ValueError:
                raise ValidationError(f"--sizes: expected sizes in m² separated by commas, "
                                      f"e.g. 100,200,500, got {args.sizes!r}") from None
            put("--sizes", "size_tiers_m2", tiers)
        attempt(sizes)
    if getattr(args, "count", None) is not None:
        def count() -> None:
            lo, hi = _parse_count(args.count)
            put("--count", "count_min", lo)
            put("--count", "count_max", hi)
        attempt(count)
    if getattr(args, "years", None) is not None:
        from hzlogistics.scenario import check_key

        text = args.years.strip()
        parts = [x.strip() for x in text.split(",")]
        given: Any = ([int(x) for x in parts] if "," in text and all(x.isdigit() for x in parts)
                      else text)
        years, found = check_key("phasing.years", given)
        problems.extend(f"--years: {m}" for m in found)
        if not found:
            put("--years", "phasing.years", years)
    if getattr(args, "countries", None) is not None:
        text = args.countries.strip()
        put("--countries", "countries", None if text.lower() == "all" else
            [c.strip().upper() for c in text.split(",") if c.strip()])
    numbers: tuple[tuple[str, str, type], ...] = (
        ("--required-share", "required_share", float), ("--time-limit-s", "time_limit_s", float),
        ("--fixed-cost", "fixed_cost_usd_year", float),
        ("--gap", "gap", float), ("--seed", "seed", int))
    for flag, field, kind in numbers:
        v = getattr(args, field, None)
        if v is not None:
            try:
                put(flag, field, _parse_number(flag, v, kind))
            except ValidationError as exc:
                problems.extend(exc.problems)
    for flag, field in (("--objective", "objective"), ("--assignment", "assignment"),
                        ("--service-level", "service_level"), ("--name", "name")):
        v = getattr(args, field, None)
        if v is not None:
            put(flag, field, v)
    if problems:
        raise ValidationError(problems)
    return values, flags


def own_data_scenario(name: str = "plan") -> Scenario:
    """The starting point of a plan on a planner's own data.

    No area budget, no capacity (sizes are area only), no count range and no
    per-country minimum unless flags or a scenario file ask for them.

    Examples
    --------
    >>> s = own_data_scenario("shops")
    >>> (s.area_budget_m2, s.capacity_per_m2, s.count_min, s.count_max, s.min_sites_per_country)
    (None, None, 0, None, 0)
    """
    from hzlogistics.scenario import Scenario

    return Scenario(name=name, title=f"{name} (own data)", area_budget_m2=None,
                    capacity_per_m2=None, count_min=0, count_max=None, min_sites_per_country=0)


def scenario_from_args(args: argparse.Namespace) -> tuple[Scenario, str]:
    """The scenario a command works on, with flags applied and validated.

    Returns the scenario and a label naming where it came from.
    """
    from hzlogistics.scenario import (
        default_scenario,
        load_scenario,
        safe_name,
        validate_scenario,
    )

    values, flags = _overrides(args)
    if getattr(args, "scenario", None):
        scenario = load_scenario(args.scenario)
        source = str(args.scenario)
    elif "demand_file" in values or "sites_file" in values:
        out = getattr(args, "out", None)
        scenario = own_data_scenario(safe_name(Path(out).resolve().name) if out else "plan")
        source = "own data"
    else:
        scenario = default_scenario()
        source = settings.DEFAULT_SCENARIO
    years = values.pop("phasing.years", None)
    if years is not None:  # --years phases the scenario, or changes its years
        from hzlogistics.scenario import Phasing

        values["phasing"] = dataclasses.replace(scenario.phasing or Phasing(), years=years)
    if values:
        if "coverage_file" in values:  # a coverage given by flag replaces a radius or cutoff
            values = {"radius_km": None, "cutoff_h": None, **values}
        scenario = dataclasses.replace(scenario, **values)
    _check_coverage_flags(scenario, flags, source)
    validate_scenario(scenario, where=lambda f: flags.get(f, flags.get(
        f.split(".")[0], f"{source}: {f}")))
    return scenario, source


def _check_coverage_flags(scenario: Scenario, flags: dict[str, str], source: str) -> None:
    """A coverage file says which site reaches which point: a radius or cutoff would be ignored.

    Refused (exit 2) rather than warned about: the planner asked for a radius
    that would silently have no effect on the plan, and a warning is easily
    lost in the progress lines of a long run.
    """
    if not scenario.coverage_file:
        return
    problems = []
    for field, label in (("radius_km", "radius"), ("cutoff_h", "travel-time cutoff")):
        if getattr(scenario, field) is None:
            continue
        where = flags.get(field, f"{source}: {field}")
        problems.append(f"{where}: a {label} has no effect with a coverage file "
                        f"({flags.get('coverage_file', 'coverage_file')}), which already says "
                        "which site reaches which demand point; drop one of the two")
    if problems:
        raise ValidationError(problems)


def check_not_empty(args: argparse.Namespace, *names: str) -> None:
    """A folder flag given as an empty string is a mistake, not "here"."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and not str(value).strip():
            flag = "--" + name.replace("_", "-")
            raise ValidationError(f"{flag}: empty folder name; give a folder, e.g. {flag} "
                                  "plan-1 (or leave the flag out for the default)")


def output_paths(args: argparse.Namespace, scenario: Scenario) -> tuple[Path, Path | None]:
    """The plan folder and the map file a plan command writes."""
    no_map = getattr(args, "no_map", False)
    check_not_empty(args, "out", "out_dir", "map_dir")
    if getattr(args, "out", None):
        out_dir = Path(args.out)
        return out_dir, None if no_map else out_dir / "map.html"
    base = Path(args.out_dir or scenario.output_dir)
    out_dir = base / scenario.name
    map_path = Path(args.map_dir or scenario.map_dir) / f"{scenario.name}.html"
    for inside, folder in ((out_dir, base), (map_path, map_path.parent)):
        if inside.resolve().parent != folder.resolve():  # pragma: no cover - names are checked
            raise ValidationError(f"scenario name {scenario.name!r} would write outside {folder}")
    return out_dir, None if no_map else map_path


def check_writable(path: Path, what: str) -> None:
    """Fail early, before a long solve, when ``path`` (a folder) cannot be written.

    The nearest folder that exists must take a new entry: one is made there
    and removed at once (permission bits alone do not tell, e.g. for root or
    under ``/proc``). Nothing is left behind.
    """
    import tempfile

    if not str(path).strip():
        raise ValidationError(f"the {what} is an empty path; give a folder")
    if path.exists() and not path.is_dir():
        raise ValidationError(f"{path}: exists and is not a folder; choose another {what}")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ValidationError(f"{path}: cannot create the {what} there ({probe} is a file)")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".hzlogistics-probe-", dir=probe))
    except OSError as exc:
        raise ValidationError(f"{path}: cannot write the {what} there ({probe} is not "
                              f"writable: {exc.strerror or exc}); choose a folder you can "
                              "write to") from None


def _input_files(scenario: Scenario, args: argparse.Namespace) -> list[Path]:
    """The files a run reads: its scenario file and the data files it names."""
    files = [getattr(scenario, f) for f in ("demand_file", "sites_file", "coverage_file",
                                            "competitor_sites", "road_graph")]
    given = getattr(args, "scenario", None)
    if given and Path(given).is_file():
        files.append(given)
    return [Path(f).expanduser().resolve() for f in files if isinstance(f, str) and f]


def check_not_inputs(target: Path, scenario: Scenario, args: argparse.Namespace,
                      what: str) -> None:
    """Refuse to write outputs where they would replace the run's own input files.

    ``target`` is a folder (the plan's files go straight into it) or, for the
    map, a file.
    """
    resolved = target.expanduser().resolve()
    for source in _input_files(scenario, args):
        if resolved in (source, source.parent):
            raise ValidationError(
                f"{target}: {what} would be written over the inputs of this run "
                f"({source.name} is there); choose a folder of its own, e.g. "
                f"{source.parent / 'plan'}")
