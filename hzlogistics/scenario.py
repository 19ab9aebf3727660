"""Scenarios: what to plan, as a validated dataclass read from a TOML file.

A scenario file groups its keys into sections::

    name = "my-plan"
    objective = "coverage"

    [coverage]
    service_level = "next-day"

    [network]
    area_budget_m2 = 200000
    count = [950, 1050]

    [quotas.DE]
    min_sites = 20

Every key maps onto a field of :class:`Scenario` (``count`` onto ``count_min``
and ``count_max``); ``docs/scenario.md`` documents each with its unit and
default. A value of ``"none"`` switches an optional limit off (for instance
``area_budget_m2 = "none"``). Relative file paths are resolved against the
folder of the scenario file.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hzlogistics import settings
from hzlogistics._errors import ValidationError


@dataclass
class CountryQuota:
    """Per-country limits (``None`` = no limit)."""

    min_sites: int | None = None
    max_sites: int | None = None
    min_area_m2: float | None = None
    max_area_m2: float | None = None


@dataclass
class Scenario:
    """A planning scenario.

    Every field has a unit in its name or its documentation and a default from
    :mod:`hzlogistics.settings`; ``hangzhou-2020`` is the default scenario.
    """

    name: str = settings.DEFAULT_SCENARIO
    title: str = "Hangzhou overseas warehouses, 2020 plan"
    countries: list[str] | None = None  # None = all 50
    objective: str = "coverage"  # coverage | median | cost | min-area
    service_level: str = settings.DEFAULT_SERVICE_LEVEL
    cutoff_h: float | None = None  # overrides the service level's cutoff
    coverage_mode: str = "network"  # network | geodesic
    radius_km: float | None = None  # geodesic mode
    circuity: float = settings.CIRCUITY
    cross_border_groups: list[str] = field(default_factory=list)  # e.g. ["EU", "GCC"]
    road_graph: str | None = None  # GraphML / OSM XML path
    area_budget_m2: float | None = settings.AREA_BUDGET_M2
    size_tiers_m2: list[float] = field(default_factory=lambda: list(settings.SIZE_TIERS_M2))
    count_min: int = settings.COUNT_RANGE[0]
    count_max: int | None = settings.COUNT_RANGE[1]
    min_sites_per_country: int = settings.MIN_SITES_PER_COUNTRY
    quotas: dict[str, CountryQuota] = field(default_factory=dict)
    capacity_per_m2: float | None = settings.CAPACITY_PER_M2
    keep_existing: bool = True
    forbidden_sites: list[str] = field(default_factory=list)
    rent_cap_usd_year: float | None = None
    competitor_sites: str | None = None  # CSV of competitor warehouses (id,lon,lat)
    competitor_discount: float = 0.5  # value of demand a competitor already serves
    required_share: float = 0.95  # min-area: share of demand to serve
    assignment: str = "split"  # split | single
    fixed_cost_usd_year: float = 0.0  # cost: yearly cost of each open site beyond rent
    dataset: str | None = None  # country data set: a name in the user data dir, or a folder
    demand_file: str | None = None  # bring-your-own demand CSV
    sites_file: str | None = None  # bring-your-own sites CSV
    coverage_file: str | None = None  # bring-your-own coverage CSV
    time_limit_s: float = settings.TIME_LIMIT_S
    gap: float = settings.GAP_TARGET
    seed: int = settings.SEED
    output_dir: str = "outputs"
    map_dir: str = "maps"


# ---------------------------------------------------------------------------
# The file layout
# ---------------------------------------------------------------------------
#: Objectives a scenario may ask for.
OBJECTIVES: tuple[str, ...] = ("coverage", "median", "cost", "min-area")
#: How coverage is computed.
COVERAGE_MODES: tuple[str, ...] = ("network", "geodesic")
#: How demand may be assigned to sites.
ASSIGNMENTS: tuple[str, ...] = ("split", "single")

#: The sections of a scenario file and the keys each holds (``None`` = top level).
SECTIONS: Mapping[str | None, tuple[str, ...]] = {
    None: ("name", "title", "objective", "countries"),
    "coverage": ("service_level", "cutoff_h", "coverage_mode", "radius_km", "circuity",
                 "cross_border_groups", "road_graph"),
    "network": ("area_budget_m2", "size_tiers_m2", "count", "count_min", "count_max",
                "min_sites_per_country", "capacity_per_m2", "keep_existing", "forbidden_sites",
                "rent_cap_usd_year"),
    "model": ("required_share", "assignment", "fixed_cost_usd_year"),
    "competition": ("competitor_sites", "competitor_discount"),
    "data": ("dataset", "demand_file", "sites_file", "coverage_file"),
    "solver": ("time_limit_s", "gap", "seed"),
    "outputs": ("output_dir", "map_dir"),
}

#: Keys of a ``[quotas.XX]`` table.
QUOTA_KEYS: tuple[str, ...] = ("min_sites", "max_sites", "min_area_m2", "max_area_m2")

#: One line describing each key, with its unit (used in written scenario files).
KEY_DOCS: Mapping[str, str] = {
    "name": "scenario name: names the output folder and map (letters, digits, - _ .)",
    "title": "title shown on maps and reports",
    "objective": "coverage | median | cost | min-area",
    "countries": "ISO codes of the countries to plan, e.g. [\"DE\", \"FR\"]; \"all\" = the 50",
    "service_level": "same-day (3 h) | next-day (6 h) | two-day (16 h) road travel",
    "cutoff_h": "travel-time cutoff, hours; overrides the service level",
    "coverage_mode": "network (road graph) | geodesic (straight line x circuity)",
    "radius_km": "coverage radius, km; implies geodesic coverage",
    "circuity": "road distance / straight-line distance (>= 1)",
    "cross_border_groups": "groups inside which a site may serve other countries: EU, GCC",
    "road_graph": "GraphML or OSM XML road graph to use instead of the built-in one",
    "area_budget_m2": "total floor area of all open sites, m² (\"none\" = no budget)",
    "size_tiers_m2": "floor areas a site may be given, m², increasing",
    "count": "number of open sites: N, [min, max] or \"none\"",
    "count_min": "fewest open sites",
    "count_max": "most open sites (\"none\" = no limit)",
    "min_sites_per_country": "fewest open sites in every country",
    "capacity_per_m2": "parcels/day one m² handles (\"none\" = sizes are area only)",
    "keep_existing": "keep existing warehouses open at least at their current area",
    "forbidden_sites": "ids of candidate sites that may not be opened",
    "rent_cap_usd_year": "cap on the total yearly rent, USD/year",
    "required_share": "min-area objective: share of demand to serve, in (0, 1]",
    "assignment": "cost objective: split | single (each demand point to one site)",
    "fixed_cost_usd_year": "cost objective: yearly cost of running each open site beyond its "
                           "rent, USD (a site's own fixed_cost column wins)",
    "competitor_sites": "CSV of competitor warehouses (id,lon,lat)",
    "competitor_discount": "value of demand a competitor already reaches, in [0, 1]",
    "dataset": "country data set built by `hzlogistics data build`: a name in the user data "
               "directory or a folder (\"none\" = the built-in 50 markets)",
    "demand_file": "CSV of your own demand points (id,lon,lat,weight)",
    "sites_file": "CSV of your own candidate sites (id,lon,lat,...)",
    "coverage_file": "CSV of which site reaches which demand point (site_id,demand_id)",
    "time_limit_s": "wall-clock limit of the solve, seconds",
    "gap": "relative gap at which the solve stops (0.001 = 0.1 %)",
    "seed": "random seed of the solver (same seed, same plan)",
    "output_dir": "folder that receives <name>/ with the plan's files",
    "map_dir": "folder that receives <name>.html, the plan's map",
    "min_sites": "fewest open sites in this country",
    "max_sites": "most open sites in this country",
    "min_area_m2": "least floor area in this country, m²",
    "max_area_m2": "most floor area in this country, m²",
}

_SECTION_OF: dict[str, str | None] = {k: s for s, keys in SECTIONS.items() for k in keys}

_KIND: dict[str, str] = {
    "name": "str", "title": "str", "objective": "str", "countries": "codes?",
    "service_level": "str", "cutoff_h": "float?", "coverage_mode": "str", "radius_km": "float?",
    "circuity": "float", "cross_border_groups": "strs", "road_graph": "path?",
    "area_budget_m2": "float?", "size_tiers_m2": "floats", "count_min": "int",
    "count_max": "int?", "min_sites_per_country": "int", "capacity_per_m2": "float?",
    "keep_existing": "bool", "forbidden_sites": "strs", "rent_cap_usd_year": "float?",
    "required_share": "float", "assignment": "str", "fixed_cost_usd_year": "float",
    "competitor_sites": "path?",
    "competitor_discount": "float", "dataset": "str?", "demand_file": "path?",
    "sites_file": "path?",
    "coverage_file": "path?", "time_limit_s": "float", "gap": "float", "seed": "int",
    "output_dir": "str", "map_dir": "str",
    "min_sites": "int?", "max_sites": "int?", "min_area_m2": "float?", "max_area_m2": "float?",
}

_FILE_FIELDS: tuple[str, ...] = ("road_graph", "competitor_sites", "demand_file", "sites_file",
                                 "coverage_file")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")

_NONE = "none"


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------
def name_problem(name: object) -> str | None:
    """Say what is wrong with a scenario name, or ``None`` when it is usable.

    A name becomes a folder and a file name, so it may hold only letters,
    digits, ``-``, ``_`` and ``.``; it starts with a letter or digit and never
    contains ``..``, so no name lets output escape its folder.

    Examples
    --------
    >>> name_problem("hangzhou-2020") is None
    True
    >>> name_problem("../../x")
    "must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit, without '..' (got '../../x')"
    """  # noqa: E501
    if isinstance(name, str) and _NAME_RE.match(name) and ".." not in name:
        return None
    return ("must be 1-100 letters, digits, '-', '_' or '.', starting with a letter or digit, "
            f"without '..' (got {name!r})")


def safe_name(text: str, *, default: str = "plan") -> str:
    """Turn any text (a file stem, a folder name) into a usable scenario name.

    Examples
    --------
    >>> safe_name("My plan (v2)")
    'My-plan-v2'
    >>> safe_name("../..")
    'plan'
    """
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", str(text))
    name = re.sub(r"\.{2,}", ".", name).strip("-._")[:100].strip("-._")
    return name if name and name_problem(name) is None else default


# ---------------------------------------------------------------------------
# Validation of values
# ---------------------------------------------------------------------------
def _known_country_codes(dataset: str | None = None) -> tuple[str, ...] | None:
    """Codes of the scenario's data set; ``None`` when it is not built yet."""
    from hzlogistics.countries import COUNTRY_CODES, dataset_names, find_dataset

    if dataset is None:
        return tuple(COUNTRY_CODES)
    try:
        return tuple(dataset_names(find_dataset(dataset)))
    except ValidationError:
        return None


def _nearest_countries(value: str, dataset: str | None) -> str:
    """' (nearest: ...)' naming the valid codes nearest to an unknown one."""
    from hzlogistics.countries import COUNTRY_NAMES, dataset_names, find_dataset, nearest_codes

    names = COUNTRY_NAMES if dataset is None else dataset_names(find_dataset(dataset))
    near = nearest_codes(str(value), names)
    return (" (nearest: " + ", ".join(f"{c} {names[c]}" for c in near) + ")") if near else ""


def _suggest(value: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(value), list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _one_of(value: object, valid: Iterable[str], what: str) -> str | None:
    valid = tuple(valid)
    if value in valid:
        return None
    return f"unknown {what} {value!r}{_suggest(str(value), valid)}; valid: {', '.join(valid)}"


def scenario_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """Check every value of a scenario and every pair that must agree.

    Parameters
    ----------
    scenario
        The scenario to check.

    Returns
    -------
    list of (field, message)
        One entry per problem, in field order; empty when the scenario is valid.
        ``field`` is a dataclass field name, or ``quotas.XX.key`` for a quota.

    Examples
    --------
    >>> scenario_problems(Scenario(gap=0.0, count_min=5, count_max=2))
    [('count_max', 'must be >= count_min (5), got 2'), ('gap', 'must be > 0 and < 1, got 0.0')]
    """
    s = scenario
    out: list[tuple[str, str]] = []

    def add(name: str, message: str | None) -> None:
        if message:
            out.append((name, message))

    def positive(name: str, value: object, *, optional: bool = False) -> None:
        if value is None and optional:
            return
        if not isinstance(value, int | float) or isinstance(value, bool) \
                or not math.isfinite(value) or value <= 0:
            add(name, f"must be a positive number, got {value!r}")

    def non_negative_int(name: str, value: object) -> None:
        if not _is_int(value) or value < 0:  # type: ignore[operator]
            add(name, f"must be a whole number >= 0, got {value!r}")

    add("name", name_problem(s.name))
    if not isinstance(s.title, str):
        add("title", f"must be text, got {s.title!r}")
    codes: tuple[str, ...] | None = None
    if s.countries is not None or s.quotas:
        codes = _known_country_codes(s.dataset)
    if s.countries is not None:
        if not s.countries:
            add("countries", "must name at least one country (omit the key for all 50)")
        unknown = [c for c in s.countries if codes is not None and c not in codes]
        for c in unknown:
            hint = _suggest(c, codes or ()) or _nearest_countries(c, s.dataset)
            add("countries", f"unknown country code {c!r}{hint}; "
                             + ("see `hzlogistics countries` for the 50 codes" if s.dataset is None
                                else f"see `hzlogistics countries --dataset {s.dataset}`"))
        dupes = sorted({c for c in s.countries if s.countries.count(c) > 1})
        if dupes:
            add("countries", f"lists {', '.join(dupes)} more than once")
    add("objective", _one_of(s.objective, OBJECTIVES, "objective"))
    add("service_level", _one_of(s.service_level, settings.SERVICE_LEVELS_H, "service level"))
    positive("cutoff_h", s.cutoff_h, optional=True)
    add("coverage_mode", _one_of(s.coverage_mode, COVERAGE_MODES, "coverage mode"))
    positive("radius_km", s.radius_km, optional=True)
    if not _is_number(s.circuity) or not math.isfinite(s.circuity) or s.circuity < 1:
        add("circuity", f"must be a number >= 1 (road / straight-line distance), got "
                        f"{s.circuity!r}")
    for g in s.cross_border_groups:
        add("cross_border_groups", _one_of(g, settings.CROSS_BORDER_GROUPS, "cross-border group"))
    positive("area_budget_m2", s.area_budget_m2, optional=True)
    tiers = s.size_tiers_m2
    if not tiers:
        add("size_tiers_m2", "must list at least one size, m²")
    elif not all(_is_number(t) and math.isfinite(t) and t > 0 for t in tiers):
        add("size_tiers_m2", f"must be positive numbers of m², got {tiers!r}")
    elif any(b <= a for a, b in zip(tiers, tiers[1:], strict=False)):
        add("size_tiers_m2", f"must be strictly increasing, got {tiers!r}")
    non_negative_int("count_min", s.count_min)
    if s.count_max is not None:
        if not _is_int(s.count_max) or s.count_max < 1:
            add("count_max", f"must be a whole number >= 1, got {s.count_max!r}")
        elif _is_int(s.count_min) and s.count_max < s.count_min:
            add("count_max", f"must be >= count_min ({s.count_min}), got {s.count_max}")
    non_negative_int("min_sites_per_country", s.min_sites_per_country)
    for code, q in s.quotas.items():
        if codes is not None and code not in codes:
            add(f"quotas.{code}", f"unknown country code {code!r}{_suggest(code, codes)}")
        elif s.countries is not None and code not in s.countries:
            add(f"quotas.{code}", f"{code} is not among the scenario's countries")
        for key in ("min_sites", "max_sites"):
            v = getattr(q, key)
            if v is not None and (not _is_int(v) or v < 0):
                add(f"quotas.{code}.{key}", f"must be a whole number >= 0, got {v!r}")
        for key in ("min_area_m2", "max_area_m2"):
            v = getattr(q, key)
            if v is not None and (not _is_number(v) or not math.isfinite(v) or v < 0):
                add(f"quotas.{code}.{key}", f"must be a number of m² >= 0, got {v!r}")
        for lo, hi in (("min_sites", "max_sites"), ("min_area_m2", "max_area_m2")):
            a, b = getattr(q, lo), getattr(q, hi)
            if _is_number(a) and _is_number(b) and b < a:
                add(f"quotas.{code}.{hi}", f"must be >= {lo} ({a}), got {b}")
    positive("capacity_per_m2", s.capacity_per_m2, optional=True)
    if not isinstance(s.keep_existing, bool):
        add("keep_existing", f"must be true or false, got {s.keep_existing!r}")
    if not all(isinstance(x, str) and x for x in s.forbidden_sites):
        add("forbidden_sites", f"must be a list of site ids, got {s.forbidden_sites!r}")
    positive("rent_cap_usd_year", s.rent_cap_usd_year, optional=True)
    d = s.competitor_discount
    if not _is_number(d) or not 0 <= d <= 1:
        add("competitor_discount", f"must be between 0 and 1, got {d!r}")
    r = s.required_share
    if not _is_number(r) or not 0 < r <= 1:
        add("required_share", f"must be > 0 and <= 1, got {r!r}")
    add("assignment", _one_of(s.assignment, ASSIGNMENTS, "assignment"))
    f = s.fixed_cost_usd_year
    if not _is_number(f) or not math.isfinite(f) or f < 0:
        add("fixed_cost_usd_year", f"must be a number of USD >= 0, got {f!r}")
    positive("time_limit_s", s.time_limit_s)
    if not _is_number(s.gap) or not 0 < s.gap < 1:
        add("gap", f"must be > 0 and < 1, got {s.gap!r}")
    non_negative_int("seed", s.seed)
    for name in ("output_dir", "map_dir"):
        v = getattr(s, name)
        if not isinstance(v, str) or not v.strip():
            add(name, f"must be a folder path, got {v!r}")
    order = {f.name: k for k, f in enumerate(dataclasses.fields(Scenario))}
    out.sort(key=lambda p: order.get(p[0].split(".")[0], len(order)))
    return out


def validate_scenario(
    scenario: Scenario, *, where: Callable[[str], str] | None = None
) -> Scenario:
    """Check a scenario and raise one error listing every problem.

    Parameters
    ----------
    scenario
        The scenario to check (e.g. after overriding fields in code).
    where
        Turns a field name into the place to name in the message (a file and
        line, a command-line flag); by default ``"scenario '<name>': <field>"``.

    Returns
    -------
    Scenario
        The same scenario, when valid.

    Raises
    ------
    ValidationError
        Listing every problem found.

    Examples
    --------
    >>> validate_scenario(Scenario(time_limit_s=-1))
    Traceback (most recent call last):
    ...
    hzlogistics._errors.ValidationError: scenario 'hangzhou-2020': time_limit_s: must be a positive number, got -1
    """  # noqa: E501
    problems = scenario_problems(scenario)
    if problems:
        place = where or (lambda f: f"scenario '{scenario.name}': {f}")
        raise ValidationError([f"{place(f)}: {m}" for f, m in problems])
    return scenario


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------
def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line number (1-based) where each key path is first written in TOML text."""
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    header = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")
    key = re.compile(r"^\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')"
                     r"(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        m = header.match(line)
        if m:
            table = tuple(_key_parts(m.group(1)))
            lines.setdefault(table, number)
            continue
        m = key.match(line)
        if m:
            lines.setdefault(table + tuple(_key_parts(m.group(1))), number)
    return lines


def _key_parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", dotted)]


class _Source:
    """Names places in a scenario file: ``file:line: key``."""

    def __init__(self, label: str, text: str) -> None:
        self.label = label
        self.lines = _key_lines(text)

    def at(self, path: tuple[str, ...]) -> str:
        key = ".".join(p for p in path if p)
        for n in range(len(path), 0, -1):
            line = self.lines.get(path[:n])
            if line is not None:
                return f"{self.label}:{line}: {key}"
        return f"{self.label}: {key}"


def _coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    """Turn a TOML value into a field value of ``kind``; return (value, problem)."""
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if optional and isinstance(value, str) and value.strip().lower() == _NONE:
        return None, None
    none_hint = ' or "none"' if optional else ""
    if base == "str":
        return (value, None) if isinstance(value, str) else (
            None, f"must be text in quotes{none_hint}, got {value!r}")
    if base == "path":
        return (value, None) if isinstance(value, str) and value.strip() else (
            None, f"must be a file path in quotes{none_hint}, got {value!r}")
    if base == "float":
        if _is_number(value):
            return float(value), None
        return None, f"must be a number{none_hint}, got {value!r}"
    if base == "int":
        if _is_int(value):
            return value, None
        if isinstance(value, float) and value.is_integer():
            return int(value), None
        return None, f"must be a whole number{none_hint}, got {value!r}"
    if base == "bool":
        return (value, None) if isinstance(value, bool) else (
            None, f"must be true or false, got {value!r}")
    if base in ("strs", "codes"):
        if base == "codes" and isinstance(value, str) and value.strip().lower() == "all":
            return None, None
        if isinstance(value, list) and all(isinstance(v, str | int) and not isinstance(v, bool)
                                           for v in value):
            items = [str(v).strip() for v in value]
            return ([v.upper() for v in items] if base == "codes" else items), None
        extra = ' or "all"' if base == "codes" else ""
        return None, f"must be a list of text values{extra}, got {value!r}"
    if base == "floats":
        if isinstance(value, list) and all(_is_number(v) for v in value):
            return [float(v) for v in value], None
        return None, f"must be a list of numbers, got {value!r}"
    raise AssertionError(kind)  # pragma: no cover


def _coerce_count(value: Any) -> tuple[tuple[int, int | None] | None, str | None]:
    problem = 'must be a whole number N, a range [min, max] or "none"'
    if isinstance(value, str) and value.strip().lower() == _NONE:
        return (0, None), None
    if _is_int(value):
        return (value, value), None
    if isinstance(value, list) and len(value) == 2:
        lo, lo_err = _coerce("int", value[0])
        hi, hi_err = _coerce("int?", value[1])
        if lo_err is None and hi_err is None:
            return (lo, hi), None
    return None, f"{problem}, got {value!r}"


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    text: str = "",
    source: str = "<scenario>",
    base_dir: str | Path | None = None,
    default_name: str | None = None,
) -> Scenario:
    """Build and validate a scenario from parsed TOML.

    Parameters
    ----------
    data
        The parsed TOML (``tomllib.loads``).
    text
        The TOML text, to name the line of each problem.
    source
        The file name used in messages.
    base_dir
        Folder against which relative file paths are resolved (the scenario
        file's folder); ``None`` leaves them as written.
    default_name
        Name to use when the file has no ``name`` key.

    Returns
    -------
    Scenario

    Raises
    ------
    ValidationError
        Listing every unknown key (with a suggestion), wrong type and value out
        of range, each with the file, line and key.

    Examples
    --------
    >>> s = scenario_from_dict({"name": "toy", "network": {"count": 10}})
    >>> (s.count_min, s.count_max)
    (10, 10)
    """
    where = _Source(source, text)
    problems: list[str] = []
    values: dict[str, Any] = {}
    origin: dict[str, tuple[str, ...]] = {}
    quotas: dict[str, CountryQuota] = {}
    all_keys = [k for keys in SECTIONS.values() for k in keys]

    def unknown(path: tuple[str, ...], valid: Iterable[str]) -> None:
        key = path[-1]
        valid = list(valid)
        hint = _suggest(key, valid)
        if key in _SECTION_OF:
            home = _SECTION_OF[key]
            if path[:-1] != ((home,) if home else ()):
                hint = f" (it belongs {'in [' + home + ']' if home else 'at the top level'})"
        if not hint:
            close = difflib.get_close_matches(key, all_keys, n=1, cutoff=0.6)
            if close:
                section = _SECTION_OF[close[0]]
                hint = f" (did you mean {'[' + section + '] ' if section else ''}'{close[0]}'?)"
        problems.append(f"{where.at(path)}: unknown key{hint}; valid here: {', '.join(valid)}")

    def take(path: tuple[str, ...], key: str, value: Any) -> None:
        if key == "count":
            count, err = _coerce_count(value)
            if err:
                problems.append(f"{where.at(path)}: {err}")
                return
            assert count is not None
            for name, n in zip(("count_min", "count_max"), count, strict=True):
                values[name] = n
                origin[name] = path
            return
        v, err = _coerce(_KIND[key], value)
        if err:
            problems.append(f"{where.at(path)}: {err}")
            return
        if key == "dataset" and v is not None and base_dir is not None \
                and ("/" in v or "\\" in v or v.startswith((".", "~"))):
            v = str((Path(base_dir) / Path(v).expanduser()).resolve())
        if _KIND[key] == "path?" and v is not None and base_dir is not None:
            p = Path(v).expanduser()
            v = str(p if p.is_absolute() else (Path(base_dir) / p).resolve())
        values[key] = v
        origin[key] = path

    sections = [s for s in SECTIONS if s is not None] + ["quotas"]
    for key, value in data.items():
        if key in SECTIONS[None]:
            take((key,), key, value)
        elif key == "quotas":
            if not isinstance(value, dict):
                problems.append(f"{where.at((key,))}: must be tables such as [quotas.DE]")
                continue
            for code, table in value.items():
                qpath = ("quotas", str(code))
                if not isinstance(table, dict):
                    problems.append(f"{where.at(qpath)}: must be a table with "
                                    f"{', '.join(QUOTA_KEYS)}")
                    continue
                q = CountryQuota()
                for qk, qv in table.items():
                    if qk not in QUOTA_KEYS:
                        unknown(qpath + (qk,), QUOTA_KEYS)
                        continue
                    v, err = _coerce(_KIND[qk], qv)
                    if err:
                        problems.append(f"{where.at(qpath + (qk,))}: {err}")
                    else:
                        setattr(q, qk, v)
                quotas[str(code).upper()] = q
        elif key in SECTIONS and isinstance(value, dict):
            if "count" in value and ("count_min" in value or "count_max" in value):
                problems.append(f"{where.at((key, 'count'))}: give either count or "
                                "count_min/count_max, not both")
            for sk, sv in value.items():
                if sk in SECTIONS[key]:
                    take((key, sk), sk, sv)
                else:
                    unknown((key, sk), SECTIONS[key])
        elif key in SECTIONS:
            problems.append(f"{where.at((key,))}: must be a table [{key}]")
        else:
            hint_valid = list(SECTIONS[None]) + [f"[{s}]" for s in sections]
            if key in _SECTION_OF:
                unknown((key,), hint_valid)
            else:
                close = difflib.get_close_matches(key, sections, n=1, cutoff=0.6)
                if close:
                    problems.append(f"{where.at((key,))}: unknown section (did you mean "
                                    f"[{close[0]}]?); valid: {', '.join(hint_valid)}")
                else:
                    unknown((key,), hint_valid)
    if "name" not in values and default_name is not None:
        values["name"] = default_name
    if quotas:
        values["quotas"] = quotas
    scenario = Scenario(**values)
    if base_dir is not None:
        for name in _FILE_FIELDS:
            v = values.get(name)
            if v is not None and not Path(v).is_file():
                problems.append(f"{where.at(origin[name])}: file not found: {v}")
    count_reported = False
    for name, message in scenario_problems(scenario):
        if name.startswith("quotas."):
            fpath: tuple[str, ...] = tuple(name.split("."))
        else:
            section = _SECTION_OF.get(name)
            fpath = origin.get(name) or (((section,) if section else ()) + (name,))
        if fpath[-1] == "count":  # one message for the one key that set both fields
            if count_reported:
                continue
            count_reported = True
        problems.append(f"{where.at(fpath)}: {message}")
    if problems:
        raise ValidationError(problems)
    return scenario


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package.

    Examples
    --------
    >>> "hangzhou-2020" in builtin_scenarios()
    True
    """
    folder = resources.files("hzlogistics") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def builtin_scenario_text(name: str = settings.DEFAULT_SCENARIO) -> str:
    """The TOML text of a built-in scenario.

    Raises
    ------
    ValidationError
        If no built-in scenario has that name.
    """
    if name_problem(name) is None:
        res = resources.files("hzlogistics") / "scenarios" / f"{name}.toml"
        if res.is_file():
            return res.read_text(encoding="utf-8")
    raise ValidationError(
        f"no built-in scenario named {name!r}{_suggest(name, builtin_scenarios())}; "
        f"built-in: {', '.join(builtin_scenarios())}"
    )


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Read and validate a scenario file, or a built-in scenario by name.

    Parameters
    ----------
    path_or_name
        A TOML file, or the name of a built-in scenario (``"hangzhou-2020"``).

    Returns
    -------
    Scenario
        Relative file paths in the scenario are resolved against the file's
        folder. A file without a ``name`` key takes its file name (without
        ``.toml``) as the scenario name.

    Raises
    ------
    ValidationError
        When the file is missing or malformed, or a key or value is invalid;
        every problem is named with the file, line and key.

    Examples
    --------
    >>> s = load_scenario("hangzhou-2020")
    >>> (s.count_min, s.count_max, s.area_budget_m2)
    (950, 1050, 200000.0)
    """
    p = Path(path_or_name)
    if p.is_file():
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{p}: cannot read the scenario file: {exc}") from exc
        return loads_scenario(text, source=str(p), base_dir=p.resolve().parent,
                              default_name=safe_name(p.stem))
    if p.exists():
        raise ValidationError(f"{p}: is not a file (expected a scenario .toml file)")
    text_name = str(path_or_name)
    if "/" not in text_name and "\\" not in text_name and not text_name.endswith(".toml") \
            and text_name in builtin_scenarios():
        return loads_scenario(builtin_scenario_text(text_name), source=f"{text_name} (built-in)")
    raise ValidationError(
        f"{text_name}: no such scenario file, and no built-in scenario of that name"
        f"{_suggest(text_name, builtin_scenarios())}; built-in: {', '.join(builtin_scenarios())}"
    )


def loads_scenario(
    text: str,
    *,
    source: str = "<scenario>",
    base_dir: str | Path | None = None,
    default_name: str | None = None,
) -> Scenario:
    """Read and validate a scenario from TOML text.

    Raises
    ------
    ValidationError
        For malformed TOML (with tomllib's line and column) or invalid keys/values.

    Examples
    --------
    >>> loads_scenario('name = "toy"\\n[solver]\\ntime_limit_s = 5').time_limit_s
    5.0
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{source}: malformed TOML: {exc}") from exc
    return scenario_from_dict(data, text=text, source=source, base_dir=base_dir,
                              default_name=default_name)


def default_scenario() -> Scenario:
    """The built-in ``hangzhou-2020`` scenario.

    Examples
    --------
    >>> default_scenario().name
    'hangzhou-2020'
    """
    return load_scenario(settings.DEFAULT_SCENARIO)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def _toml_value(value: Any) -> str:
    if value is None:
        return f'"{_NONE}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
        return str(int(value)) + ".0" if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")  # pragma: no cover


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else _toml_string(key)


def scenario_to_toml(scenario: Scenario) -> str:
    """Write a scenario as commented TOML that :func:`loads_scenario` reads back.

    Parameters
    ----------
    scenario
        The scenario to write.

    Returns
    -------
    str
        TOML text; every key is written, each with a comment giving its unit.

    Examples
    --------
    >>> s = Scenario(name="toy", count_min=3, count_max=3, area_budget_m2=None)
    >>> loads_scenario(scenario_to_toml(s)) == s
    True
    """
    s = scenario
    defaults = Scenario()
    lines = ["# hzlogistics scenario (keys and units: docs/scenario.md)", ""]

    def emit(key: str, value: Any) -> None:
        lines.append(f"# {KEY_DOCS[key]}")
        lines.append(f"{key} = {_toml_value(value)}")

    for section, keys in SECTIONS.items():
        if section is not None:
            lines += ["", f"[{section}]"]
        for key in keys:
            if key in ("count_min", "count_max"):
                continue
            if key == "count":
                if s.count_max is not None and s.count_min == s.count_max:
                    emit("count", s.count_min)
                elif s.count_max is None and s.count_min == 0:
                    emit("count", None)
                elif s.count_max is None:
                    emit("count_min", s.count_min)
                    emit("count_max", None)
                else:
                    emit("count", [s.count_min, s.count_max])
                continue
            value = getattr(s, key)
            if key == "countries" and value is None:
                lines.append(f"# {KEY_DOCS[key]}")
                lines.append('countries = "all"')
                continue
            if value is None and getattr(defaults, key) is None:
                lines.append(f"# {KEY_DOCS[key]}")
                lines.append(f"# {key}: not set")
                continue
            emit(key, value)
    for code, q in sorted(s.quotas.items()):
        lines += ["", f"[quotas.{_toml_key(code)}]"]
        for key in QUOTA_KEYS:
            v = getattr(q, key)
            if v is not None:
                lines.append(f"{key} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


__all__ = [
    "ASSIGNMENTS",
    "COVERAGE_MODES",
    "CountryQuota",
    "KEY_DOCS",
    "OBJECTIVES",
    "QUOTA_KEYS",
    "SECTIONS",
    "Scenario",
    "builtin_scenario_text",
    "builtin_scenarios",
    "default_scenario",
    "load_scenario",
    "loads_scenario",
    "name_problem",
    "safe_name",
    "scenario_from_dict",
    "scenario_problems",
    "scenario_to_toml",
    "validate_scenario",
]
