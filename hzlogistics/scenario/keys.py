"""The keys of a scenario file, each described once, and the dataclasses they fill.

Every field of :class:`Scenario` and :class:`CountryQuota` carries a :class:`Key`
in its metadata: section, TOML kind, unit, documentation, value check and the
names under which a sweep may vary it. :data:`KEYS`, :data:`SECTIONS`,
:data:`KEY_DOCS`, the sweep's parameters and the key tables of
``docs/scenario.md`` are derived from them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hzlogistics import settings
from hzlogistics.settings import ASSIGNMENTS, COVERAGE_MODES, OBJECTIVES

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")

NONE = "none"

#: A value check: the problems of one value (empty when it is valid).
Check = Callable[[Any], list[str]]


# ---------------------------------------------------------------------------
# Checks of single values
# ---------------------------------------------------------------------------
def is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def suggest(value: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(value), list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def one_of(value: object, valid: Iterable[str], what: str) -> str | None:
    valid = tuple(valid)
    if value in valid:
        return None
    return f"unknown {what} {value!r}{suggest(str(value), valid)}; valid: {', '.join(valid)}"


def _when(bad: Callable[[Any], bool], message: str, *, optional: bool = False) -> Check:
    """A check giving ``message`` (with ``{value!r}`` filled in) when ``bad(value)``."""

    def check(value: Any) -> list[str]:
        if optional and value is None:
            return []
        return [message.format(value=value)] if bad(value) else []

    return check


def _choice(valid: Iterable[str], what: str) -> Check:
    valid = tuple(valid)

    def check(value: Any) -> list[str]:
        problem = one_of(value, valid, what)
        return [problem] if problem else []

    return check


def _each_choice(valid: Iterable[str], what: str) -> Check:
    one = _choice(valid, what)
    return lambda values: [p for v in values for p in one(v)]


def _not_finite_number(x: object) -> bool:
    return not is_number(x) or not math.isfinite(x)  # type: ignore[arg-type]


def _positive(*, optional: bool = False) -> Check:
    return _when(lambda v: _not_finite_number(v) or v <= 0,
                 "must be a positive number, got {value!r}", optional=optional)


def _whole(minimum: int, *, optional: bool = False) -> Check:
    return _when(lambda v: not is_int(v) or v < minimum,
                 f"must be a whole number >= {minimum}, got {{value!r}}", optional=optional)


def _check_name(value: Any) -> list[str]:
    problem = name_problem(value)
    return [problem] if problem else []


def _check_tiers(tiers: Any) -> list[str]:
    if not tiers:
        return ["must list at least one size, m²"]
    if not all(is_number(t) and math.isfinite(t) and t > 0 for t in tiers):
        return [f"must be positive numbers of m², got {tiers!r}"]
    if any(b <= a for a, b in zip(tiers, tiers[1:], strict=False)):
        return [f"must be strictly increasing, got {tiers!r}"]
    return []


#: Largest seed: CP-SAT takes a 32-bit signed seed.
MAX_SEED: int = 2**31 - 1


def _seed(value: Any) -> list[str]:
    if not is_int(value) or value < 0:
        return [f"must be a whole number >= 0, got {value!r}"]
    if value > MAX_SEED:
        return [f"must be at most {MAX_SEED} (the solver's seeds are 32-bit), got {value}"]
    return []


def _check_rates(table: Any) -> list[str]:
    """Problems of a table of USD per parcel by ISO2 country code."""
    if not isinstance(table, Mapping):
        return [f"must be a table of USD per parcel by country code, e.g. {{ DE = 1.5 }}, "
                f"got {table!r}"]
    out = []
    for code, x in table.items():
        if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{2}", code):
            out.append(f"{code!r}: expected an ISO 3166-1 alpha-2 country code such as 'DE'")
        if _not_finite_number(x) or x < 0:
            out.append(f"{code}: must be a number of USD >= 0, got {x!r}")
    return out


def _non_negative(what: str) -> Check:
    return _when(lambda v: _not_finite_number(v) or v < 0,
                 f"must be a number of {what} >= 0, got {{value!r}}")


_FOLDER = _when(lambda v: not isinstance(v, str) or not v.strip(),
                "must be a folder path, got {value!r}")


# ---------------------------------------------------------------------------
# The description of a key
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Key:
    """Everything known about one scenario key, written once in its field's metadata.

    Attributes
    ----------
    name
        The key in a scenario file (the field name; ``count`` sets two fields).
    section
        Its section (``None`` = the top level, ``"quotas"`` = a ``[quotas.XX]`` table).
    kind
        How its TOML value is read: ``str``, ``path``, ``float``, ``int``,
        ``bool``, ``strs``, ``codes``, ``floats``, ``rates`` (a table of numbers by
        country code) or ``count``; a trailing ``?``
        accepts ``"none"``.
    values
        Its unit or valid values, as the documentation states them.
    doc
        One line with its unit (the comment above the key in a written file).
    meaning
        What it means (the documentation's table).
    check
        The problems of a single value (cross-key rules live in
        :func:`scenario_problems`); ``None`` = any value of its kind.
    sweep
        Names besides ``name`` under which a sweep may vary the key (``--vary``);
        ``None`` = a sweep cannot vary it.
    shown_default
        The default as the documentation shows it, where the field's default
        does not say it (``None`` = the field's default, as TOML).
    fields
        The fields the key sets (its own name, or ``count_min``, ``count_max``).
    """

    section: str | None
    kind: str
    values: str
    doc: str
    meaning: str
    check: Check | None = None
    sweep: tuple[str, ...] | None = None
    shown_default: str | None = None
    name: str = ""
    fields: tuple[str, ...] = ()

    @property
    def coverage(self) -> bool:
        """Whether the key changes the delivery coverage (a sweep rebuilds it per value)."""
        return self.section == "coverage"


def _key(default: Any, section: str | None, kind: str, values: str, doc: str, meaning: str,
         **more: Any) -> Any:
    """A dataclass field with ``default`` and its :class:`Key` in the metadata."""
    meta = {"key": Key(section, kind, values, doc, meaning, **more)}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


_NUMBER_OF_M2 = _when(lambda v: _not_finite_number(v) or v < 0,
                      "must be a number of m² >= 0, got {value!r}", optional=True)


@dataclass
class CountryQuota:
    """Per-country limits (``None`` = no limit)."""

    min_sites: int | None = _key(
        None, "quotas", "int?", "sites, ≥ 0", "fewest open sites in this country",
        "Fewest open sites in the country (raises `min_sites_per_country` there).",
        check=_whole(0, optional=True))
    max_sites: int | None = _key(
        None, "quotas", "int?", "sites, ≥ `min_sites`", "most open sites in this country",
        "Most open sites in the country.", check=_whole(0, optional=True))
    min_area_m2: float | None = _key(
        None, "quotas", "float?", "m², ≥ 0", "least floor area in this country, m²",
        "Least total floor area in the country.", check=_NUMBER_OF_M2)
    max_area_m2: float | None = _key(
        None, "quotas", "float?", "m², ≥ `min_area_m2`", "most floor area in this country, m²",
        "Most total floor area in the country.", check=_NUMBER_OF_M2)


def _check_years(years: Any) -> list[str]:
    if not years:
        return ["must list at least one year"]
    if len(years) > settings.MAX_PHASING_YEARS:
        return [f"must span at most {settings.MAX_PHASING_YEARS} years, got {len(years)}"]
    if not all(is_int(y) and 1900 <= y <= 2200 for y in years):
        return [f"must be years between 1900 and 2200, got {years!r}"]
    if any(b <= a for a, b in zip(years, years[1:], strict=False)):
        return [f"must be strictly increasing, got {years!r}"]
    return []


def _each(check: Callable[[Any], bool], message: str) -> Check:
    """A check of every item of an optional list: ``message`` names the first bad item."""

    def run(values: Any) -> list[str]:
        if values is None:
            return []
        bad = [v for v in values if check(v)]
        return [message.format(value=bad[0])] if bad else []

    return run


def _check_counts(counts: Any) -> list[str]:
    if counts is None:
        return []
    for lo, hi in counts:
        if not is_int(lo) or lo < 0:
            return [f"each year's minimum must be a whole number >= 0, got {lo!r}"]
        if hi is not None and (not is_int(hi) or hi < 1):
            return [f"each year's maximum must be a whole number >= 1 or \"none\", got {hi!r}"]
        if hi is not None and hi < lo:
            return [f"each year's maximum must be >= its minimum, got [{lo}, {hi}]"]
    return []


def _growth_rate_bad(v: Any) -> bool:
    return _not_finite_number(v) or v <= -1


def _check_country_growth(rates: Any) -> list[str]:
    bad = {c: r for c, r in rates.items() if _growth_rate_bad(r)}
    if bad:
        code, rate = next(iter(bad.items()))
        return [f"{code}: must be a yearly rate > -1 (0.25 = +25 % a year), got {rate!r}"]
    return []


@dataclass
class Phasing:
    """A roll-out over several years (the ``[phasing]`` section of a scenario).

    Every per-year list holds one entry per year of ``years``; each year's
    area budget and count are cumulative (the whole network by that year).
    """

    years: list[int] = _key(
        list(settings.PHASING_YEARS), "phasing", "years", "list of years, strictly "
        "increasing, or `\"FIRST:LAST\"`",
        "years of the roll-out, e.g. [2017, 2018, 2019, 2020] or \"2017:2020\"",
        "Years of the roll-out; the plan says which sites open in each. The last year's "
        "demand is the data's.", check=_check_years)
    area_budget_m2: list[float] | None = _key(
        None, "phasing", "floats?", "list of m², > 0, one per year",
        "total floor area open by each year, m² (cumulative)",
        "Total floor area of the network by each year (cumulative). Not set: the "
        "`[network]` budget shared evenly, e.g. 50,000, 100,000, 150,000 and 200,000 m² "
        "for 200,000 m² over 4 years.",
        check=_each(lambda v: _not_finite_number(v) or v <= 0,
                    "each year's budget must be a positive number of m², got {value!r}"),
        shown_default="the `[network]` budget × k / n in year k of n")
    count: list[tuple[int, int | None]] | None = _key(
        None, "phasing", "counts?", "list of `N`, `[min, max]` or `\"none\"`, one per year",
        "number of open sites by each year: N, [min, max] or \"none\" per year",
        "Number of open sites by each year (cumulative). Not set: the `[network]` range "
        "× k / n in year k of n (minimum rounded down, maximum up).",
        check=_check_counts, shown_default="the `[network]` range × k / n in year k of n")
    max_openings: list[int] | None = _key(
        None, "phasing", "ints?", "list of sites, ≥ 0, one per year",
        "most sites that may open in each year (the first: besides the existing ones)",
        "Most sites that may open in each year; in the first year, besides the existing "
        "warehouses.",
        check=_each(lambda v: not is_int(v) or v < 0,
                    "each year's openings must be a whole number >= 0, got {value!r}"))
    demand_growth: float = _key(
        settings.DEMAND_GROWTH, "phasing", "float", "yearly rate, > -1",
        "yearly growth of every country's demand (0.25 = +25 % a year; an assumption)",
        "Yearly growth of the demand (an assumption): the last year's demand is the "
        "data's, each earlier year's is the next one's / (1 + rate).",
        check=_when(_growth_rate_bad,
                    "must be a yearly rate > -1 (0.25 = +25 % a year), got {value!r}"))
    country_growth: dict[str, float] = _key(
        {}, "phasing", "rates", "table of country code = yearly rate",
        "yearly demand growth of single countries, e.g. { DE = 0.1, US = 0.3 }",
        "Yearly demand growth of single countries, replacing `demand_growth` there, e.g. "
        "`{ DE = 0.1, US = 0.3 }`.", check=_check_country_growth)
    discount: float = _key(
        0.0, "phasing", "float", "yearly rate, in [0, 1)",
        "yearly discount rate of the objective (0.05 = a year later counts 5 % less)",
        "Yearly discount rate: year k of the roll-out counts (1 + rate)^-k in the objective.",
        check=_when(lambda v: _not_finite_number(v) or not 0 <= v < 1,
                    "must be a rate >= 0 and < 1 (0.05 = 5 % a year), got {value!r}"))
    demand_files: list[str] | None = _key(
        None, "phasing", "paths?", "list of file paths, one per year",
        "CSV of each year's demand (id,weight), replacing the growth rates",
        "Each year's demand: CSV `id,weight` (parcels/day) naming the plan's demand points "
        "(a point not listed has no demand that year). Replaces the growth rates.")


@dataclass
class Scenario:
    """A planning scenario.

    Every field has a unit in its name or its documentation and a default from
    :mod:`hzlogistics.settings`; ``hangzhou-2020`` is the default scenario.
    Each field's metadata holds its :class:`Key` (section, unit, check, docs).
    """

    # (long because each key is described here, once, beside its field)

    # --- top level -------------------------------------------------------------------------
    name: str = _key(
        settings.DEFAULT_SCENARIO, None, "str", "text",
        "scenario name: names the output folder and map (letters, digits, - _ .)",
        "Names the plan folder `outputs/<name>/` and the map `maps/<name>.html`.",
        check=_check_name, shown_default="file name (`hangzhou-2020` for the built-in)")
    title: str = _key(
        "Hangzhou overseas warehouses, 2020 plan", None, "str", "text",
        "title shown on maps and reports", "Shown on maps and reports.",
        check=_when(lambda v: not isinstance(v, str), "must be text, got {value!r}"))
    objective: str = _key(
        "coverage", None, "str", ", ".join(f"`{o}`" for o in OBJECTIVES),
        " | ".join(OBJECTIVES),
        "`coverage`: most parcels/day delivered within the service level. `median`: fastest "
        "mean delivery with every point served. `cost`: cheapest network (rent, fixed costs, "
        "delivery). `min-area`: least floor area serving `required_share` of demand. `landed`: "
        "cheapest cost from Hangzhou to the buyer's door (sea, port, drayage, rent, fixed "
        "costs, last mile; rates in `[landed]`).",
        check=_choice(OBJECTIVES, "objective"))
    countries: list[str] | None = _key(
        None, None, "codes?", "list of ISO 3166-1 alpha-2 codes, or `\"all\"`",
        "ISO codes of the countries to plan, e.g. [\"DE\", \"FR\"]; \"all\" = the 50",
        "Countries to plan; `hzlogistics countries` lists the codes.",
        shown_default="`\"all\"` (the 50 markets)")
    # --- [coverage] ------------------------------------------------------------------------
    service_level: str = _key(
        settings.DEFAULT_SERVICE_LEVEL, "coverage", "str",
        ", ".join(f"`{k}` ({v:g} h)" for k, v in settings.SERVICE_LEVELS_H.items()),
        " | ".join(f"{k} ({v:g} h)" for k, v in settings.SERVICE_LEVELS_H.items())
        + " road travel",
        "Road travel time within which a site covers a demand point.",
        check=_choice(settings.SERVICE_LEVELS_H, "service level"), sweep=())
    cutoff_h: float | None = _key(
        None, "coverage", "float?", "hours, > 0",
        "travel-time cutoff, hours; overrides the service level",
        "Travel-time cutoff replacing the service level's.",
        check=_positive(optional=True), sweep=("cutoff",))
    coverage_mode: str = _key(
        "network", "coverage", "str", ", ".join(f"`{m}`" for m in COVERAGE_MODES),
        "network (road graph) | geodesic (straight line x circuity)",
        "`network`: shortest paths on the delivery network (road graph or proximity graph). "
        "`geodesic`: straight-line distance on the ellipsoid.",
        check=_choice(COVERAGE_MODES, "coverage mode"), sweep=())
    radius_km: float | None = _key(
        None, "coverage", "float?", "km, > 0", "coverage radius, km; implies geodesic coverage",
        "Coverage radius; setting it makes coverage geodesic.",
        check=_positive(optional=True), sweep=("radius",))
    circuity: float = _key(
        settings.CIRCUITY, "coverage", "float", "ratio, ≥ 1",
        "road distance / straight-line distance (>= 1)", "Road km per straight-line km.",
        check=_when(lambda v: _not_finite_number(v) or v < 1,
                    "must be a number >= 1 (road / straight-line distance), got {value!r}"),
        sweep=())
    cross_border_groups: list[str] = _key(
        [], "coverage", "strs", "list of " + ", ".join(f"`{g}`" for g in
                                                       settings.CROSS_BORDER_GROUPS),
        "groups inside which a site may serve other countries: "
        + ", ".join(settings.CROSS_BORDER_GROUPS),
        "Groups inside which a site may serve demand across a border.",
        check=_each_choice(settings.CROSS_BORDER_GROUPS, "cross-border group"),
        sweep=("cross_border",))
    road_graph: str | None = _key(
        None, "coverage", "path?", "file path (GraphML or OSM XML)",
        "GraphML or OSM XML road graph to use instead of the built-in one",
        "Real road graph used instead of the proximity graph.")
    # --- [network] -------------------------------------------------------------------------
    area_budget_m2: float | None = _key(
        settings.AREA_BUDGET_M2, "network", "float?", "m², > 0, or `\"none\"`",
        "total floor area of all open sites, m² (\"none\" = no budget)",
        "Total floor area of all open sites.",
        check=_positive(optional=True), sweep=("area_budget", "budget"))
    size_tiers_m2: list[float] = _key(
        list(settings.SIZE_TIERS_M2), "network", "floats",
        "list of m², positive and strictly increasing",
        "floor areas a site may be given, m², increasing", "Floor areas a site may be given.",
        check=_check_tiers)
    count_min: int = _key(
        settings.COUNT_RANGE[0], "network", "int", "sites, ≥ 0", "fewest open sites",
        "Fewest open sites (instead of `count`).", check=_whole(0), sweep=())
    count_max: int | None = _key(
        settings.COUNT_RANGE[1], "network", "int?", "sites, ≥ `count_min`, or `\"none\"`",
        "most open sites (\"none\" = no limit)", "Most open sites (instead of `count`).",
        check=_whole(1, optional=True), sweep=())
    min_sites_per_country: int = _key(
        settings.MIN_SITES_PER_COUNTRY, "network", "int", "sites, ≥ 0",
        "fewest open sites in every country",
        "Every country gets at least this many open sites.",
        check=_whole(0), sweep=("min_sites",))
    quotas: dict[str, CountryQuota] = field(default_factory=dict)
    capacity_per_m2: float | None = _key(
        settings.CAPACITY_PER_M2, "network", "float?",
        "parcels/day per m², > 0, or `\"none\"`",
        "parcels/day one m² handles (\"none\" = sizes are area only)",
        "What one m² of floor handles; ties a site's size to the demand it may serve. "
        "With `\"none\"` sizes are area only.",
        check=_positive(optional=True), sweep=("capacity",))
    keep_existing: bool = _key(
        True, "network", "bool", "`true`, `false`",
        "keep existing warehouses open at least at their current area",
        "Existing warehouses stay open, at least at their current area.",
        check=_when(lambda v: not isinstance(v, bool), "must be true or false, got {value!r}"))
    forbidden_sites: list[str] = _key(
        [], "network", "strs", "list of site ids",
        "ids of candidate sites that may not be opened",
        "Candidate sites that may not be opened.",
        check=_when(lambda v: not all(isinstance(x, str) and x for x in v),
                    "must be a list of site ids, got {value!r}"))
    rent_cap_usd_year: float | None = _key(
        None, "network", "float?", "USD/year, > 0", "cap on the total yearly rent, USD/year",
        "Cap on the total yearly rent of the open sites.",
        check=_positive(optional=True), sweep=("rent_cap",))
    # --- [model] ---------------------------------------------------------------------------
    required_share: float = _key(
        settings.REQUIRED_SHARE, "model", "float", "share, in (0, 1]",
        "min-area objective: share of demand to serve, in (0, 1]",
        "`min-area`: share of the demand (parcels/day) that must be served.",
        check=_when(lambda v: not is_number(v) or not 0 < v <= 1,
                    "must be > 0 and <= 1, got {value!r}"), sweep=())
    assignment: str = _key(
        "split", "model", "str", ", ".join(f"`{a}`" for a in ASSIGNMENTS),
        "cost and landed objectives: split | single (each demand point to one site)",
        "`cost`, `landed`: whether a demand point may be served by several sites (`split`) "
        "or by one (`single`).", check=_choice(ASSIGNMENTS, "assignment"))
    fixed_cost_usd_year: float = _key(
        0.0, "model", "float", "USD/year, ≥ 0",
        "cost objective: yearly cost of running each open site beyond its rent, USD "
        "(a site's own fixed_cost column wins)",
        "`cost`: yearly cost of running each open site on top of its rent (staff, systems, "
        "insurance); a site's own `fixed_cost` column, when the sites file has one, wins.",
        check=_when(lambda v: _not_finite_number(v) or v < 0,
                    "must be a number of USD >= 0, got {value!r}"))
    # --- [landed] --------------------------------------------------------------------------
    origin_port: str = _key(
        settings.LANDED_ORIGIN, "landed", "str",
        ", ".join(f"`{k}` ({v})" for k, v in settings.ORIGIN_PORTS.items()),
        "landed objective: port of departure from China (a port id of sea_distances.csv)",
        "`landed`: port the goods leave China from. Default Ningbo–Zhoushan, Hangzhou's "
        "container port, about 150 km by road from Hangzhou; Shanghai and Shenzhen are the "
        "other origins of `data/countries/sea_distances.csv`.",
        check=_choice(settings.ORIGIN_PORTS, "origin port"))
    sea_usd_per_container_km: float = _key(
        settings.SEA_USD_PER_CONTAINER_KM, "landed", "float", "USD per 40-ft container-km, ≥ 0",
        "landed objective: sea freight, USD per 40-ft container per km",
        "`landed`: sea freight from the origin to the port of entry. Assumption: a 40-ft "
        "container from China to northern Europe at about USD 3,000 (the order of the Drewry "
        "World Container Index Shanghai–Rotterdam spot rate in a calm market; roughly "
        "1,500–8,000 in 2019–2024) over about 19,500 km by sea via Suez.",
        check=_non_negative("USD"), sweep=("sea_rate",))
    parcels_per_container: float = _key(
        settings.PARCELS_PER_CONTAINER, "landed", "float", "parcels, > 0",
        "landed objective: parcels in one 40-ft container",
        "`landed`: turns container rates into rates per parcel. Assumption: a 40-ft high cube "
        "holds 76 m³; at 80 % fill, 60 m³ of 30-litre parcels (about 40 × 30 × 25 cm).",
        check=_positive())
    port_usd_per_container: float = _key(
        settings.PORT_USD_PER_CONTAINER, "landed", "float", "USD per container, ≥ 0",
        "landed objective: port handling at both ends and clearance, USD per container",
        "`landed`: terminal handling at both ends and customs clearance. Assumption: carriers' "
        "published terminal handling charges of about USD 200–400 per container at each end.",
        check=_non_negative("USD"))
    drayage_unit: str = _key(
        "container", "landed", "str", ", ".join(f"`{u}`" for u in settings.DRAYAGE_UNITS),
        "landed objective: drayage charged per container-km or per pallet-km",
        "`landed`: `container`: one truck per container (full truckload); `pallet`: less "
        "than truckload, per pallet.", check=_choice(settings.DRAYAGE_UNITS, "drayage unit"))
    drayage_usd_per_container_km: float = _key(
        settings.DRAYAGE_USD_PER_CONTAINER_KM, "landed", "float", "USD per container-km, ≥ 0",
        "landed objective: truck from the port of entry to the warehouse, USD per container-km",
        "`landed`: drayage over the delivery network. Assumption: one truck with one 40-ft "
        "container, empty return included; full-truckload road freight runs about USD 1.5–2.5 "
        "per km in Europe and the US.", check=_non_negative("USD"),
        sweep=("drayage_rate",))
    drayage_usd_per_pallet_km: float = _key(
        settings.DRAYAGE_USD_PER_PALLET_KM, "landed", "float", "USD per pallet-km, ≥ 0",
        "landed objective: drayage per pallet-km (drayage_unit = \"pallet\")",
        "`landed`: drayage less than truckload. Assumption: a pallet costs about 1.5 times its "
        "share of a full truck (2.0 / 20 = 0.10).", check=_non_negative("USD"))
    pallets_per_container: float = _key(
        settings.PALLETS_PER_CONTAINER, "landed", "float", "pallets, > 0",
        "landed objective: pallets in one 40-ft container",
        "`landed`: a 40-ft container takes 20–24 pallets on the floor; 20 gives 100 parcels "
        "per pallet.", check=_positive())
    last_mile_unit: str = _key(
        "hour", "landed", "str", ", ".join(f"`{u}`" for u in settings.LAST_MILE_UNITS),
        "landed objective: last mile charged per parcel-hour or per parcel-km",
        "`landed`: `hour`: per parcel-hour of travel on the delivery network; `km`: per "
        "parcel-km of road.", check=_choice(settings.LAST_MILE_UNITS, "last-mile unit"))
    last_mile_usd_per_parcel_h: float = _key(
        settings.DELIVERY_COST_USD_PER_PARCEL_H, "landed", "float", "USD per parcel-hour, ≥ 0",
        "landed objective: last mile, USD per parcel-hour of travel",
        "`landed`: the library's delivery cost, as in the `cost` objective "
        "(`settings.DELIVERY_COST_USD_PER_PARCEL_H`).", check=_non_negative("USD"))
    last_mile_usd_per_parcel_km: float = _key(
        settings.LAST_MILE_USD_PER_PARCEL_KM, "landed", "float", "USD per parcel-km, ≥ 0",
        "landed objective: last mile, USD per parcel-km (last_mile_unit = \"km\")",
        "`landed`: assumption: a van of about 100 parcels a day at about USD 5 per km of its "
        "round.", check=_non_negative("USD"))
    duty_usd_per_parcel: dict[str, float] = _key(
        {}, "landed", "rates", "table of USD per parcel by ISO code, e.g. `{ US = 1.5 }`",
        "landed objective: duty and import handling by the warehouse's country, USD per parcel",
        "`landed`: duty and import handling per parcel, by the warehouse's country. None by "
        "default: duties depend on the goods and their value.", check=_check_rates)
    cross_border_usd_per_parcel: dict[str, float] = _key(
        {}, "landed", "rates", "table of USD per parcel by ISO code, e.g. `{ NL = 0.7 }`",
        "landed objective: handling of a parcel served from another country, by the buyer's "
        "country, USD per parcel",
        "`landed`: charged on a parcel served from a warehouse in another country of a "
        "cross-border group (customs, handling), by the buyer's country. None by default.",
        check=_check_rates)
    unserved: str = _key(
        settings.UNSERVED_RULE, "landed", "str",
        ", ".join(f"`{u}`" for u in settings.UNSERVED_RULES),
        "landed objective: demand no site reaches in time is infeasible | penalty",
        "`landed`: demand that no candidate site reaches within the service level either makes "
        "the plan `infeasible` or is charged `unserved_usd_per_parcel` (`penalty`).",
        check=_choice(settings.UNSERVED_RULES, "rule for unserved demand"))
    unserved_usd_per_parcel: float = _key(
        settings.UNSERVED_USD_PER_PARCEL, "landed", "float", "USD per parcel, ≥ 0",
        "landed objective: penalty per parcel no site reaches in time, USD",
        "`landed`: assumption: the order of a small international express parcel sent from "
        "China instead.", check=_non_negative("USD"))
    sea_distances_file: str | None = _key(
        None, "landed", "path?", "file path (CSV `origin,port,country,name,candidate,"
        "distance_km`)",
        "landed objective: sea distances to use instead of the data set's sea_distances.csv",
        "`landed`: port-to-port sea distances, precomputed with `searoute` when the data set "
        "is built (`data/countries/sea_distances.csv`); a port of entry is a port that is "
        "also a candidate site.", shown_default="the data set's `sea_distances.csv`")
    # --- [competition] ---------------------------------------------------------------------
    competitor_sites: str | None = _key(
        None, "competition", "path?", "file path (CSV `id,lon,lat[,country]`)",
        "CSV of competitor warehouses (id,lon,lat)", "Competitors' warehouses.")
    competitor_discount: float = _key(
        0.5, "competition", "float", "share, in [0, 1]",
        "value of demand a competitor already reaches, in [0, 1]",
        "Value of a parcel a competitor already reaches within the service level, relative "
        "to one nobody reaches.",
        check=_when(lambda v: not is_number(v) or not 0 <= v <= 1,
                    "must be between 0 and 1, got {value!r}"))
    # --- [data] ----------------------------------------------------------------------------
    dataset: str | None = _key(
        None, "data", "str?", "name or folder",
        "country data set built by `hzlogistics data build`: a name in the user data "
        "directory or a folder (\"none\" = the built-in 50 markets)",
        "Country data set built by `hzlogistics data build --countries all|CODES`: a name in "
        "the user data directory (`$HZLOGISTICS_DATA`, `--data-dir`, or the platform's cache "
        "directory, e.g. `~/.cache/hzlogistics`) or a folder path (relative to the scenario "
        "file). `countries` may then name any code the data set holds (`hzlogistics countries "
        "--dataset NAME` lists them). `world` is built on first use.",
        shown_default="not set (the built-in 50 markets)")
    demand_file: str | None = _key(
        None, "data", "path?", "file path", "CSV of your own demand points (id,lon,lat,weight)",
        "Demand points replacing the built-in data: CSV `id,lon,lat,weight` (weight in "
        "parcels/day, ≥ 0), optional `name,country`.")
    sites_file: str | None = _key(
        None, "data", "path?", "file path", "CSV of your own candidate sites (id,lon,lat,...)",
        "Candidate sites replacing the built-in data: CSV `id,lon,lat`, optional "
        "`max_area_m2` (m²), `rent_usd_m2_year` (USD per m² per year), `country`, "
        "`existing_area_m2` (m²), `name`, `fixed_cost`, `capacity`.")
    coverage_file: str | None = _key(
        None, "data", "path?", "file path",
        "CSV of which site reaches which demand point (site_id,demand_id)",
        "Which site reaches which demand point: CSV `site_id,demand_id`, optional "
        "`travel_time_h`. Replaces the computed coverage.")
    # --- [solver] --------------------------------------------------------------------------
    time_limit_s: float = _key(
        settings.TIME_LIMIT_S, "solver", "float", "seconds, > 0",
        "wall-clock limit of the solve, seconds",
        "Wall-clock limit of the solve; the best plan found by then is kept.",
        check=_positive(), sweep=("time_limit",))
    gap: float = _key(
        settings.GAP_TARGET, "solver", "float", "share, in [0, 1)",
        "relative gap at which the solve stops (0.001 = 0.1 %; 0 proves the optimum)",
        "Relative gap between the plan and the proven bound at which the solve stops "
        "(0.001 = 0.1 %; 0 asks for proven optimality).",
        check=_when(lambda v: not is_number(v) or not 0 <= v < 1,
                    "must be >= 0 and < 1 (0: prove the optimum), got {value!r}"), sweep=())
    seed: int = _key(
        settings.SEED, "solver", "int", f"whole number, 0 to {MAX_SEED:,}",
        "random seed of the solver (same seed, same plan)",
        "Random seed; the same seed gives the same plan (the solver's seeds are 32-bit).",
        check=_seed, sweep=())
    # --- [outputs] -------------------------------------------------------------------------
    output_dir: str = _key(
        "outputs", "outputs", "str", "folder", "folder that receives <name>/ with the plan's files",
        "Receives `<name>/` with the plan's files (relative to the current folder).",
        check=_FOLDER)
    map_dir: str = _key(
        "maps", "outputs", "str", "folder", "folder that receives <name>.html, the plan's map",
        "Receives `<name>.html`, the plan's map.", check=_FOLDER)
    # --- [phasing] -------------------------------------------------------------------------
    phasing: Phasing | None = None


# ---------------------------------------------------------------------------
# The tables derived from the keys
# ---------------------------------------------------------------------------
def _keys_of(cls: type) -> dict[str, Key]:
    return {f.name: dataclasses.replace(f.metadata["key"], name=f.name, fields=(f.name,))
            for f in dataclasses.fields(cls) if "key" in f.metadata}


#: ``count = N | [min, max] | "none"``: sets ``count_min`` and ``count_max`` at once.
COUNT_KEY = Key(
    "network", "count", "`N`, `[min, max]` or `\"none\"`",
    "number of open sites: N, [min, max] or \"none\"",
    "Number of open sites: exactly `N`, within a range (`[5, \"none\"]` = at least 5), or "
    "no limit. Sets `count_min` and `count_max`.",
    sweep=(), shown_default=f"`[{settings.COUNT_RANGE[0]}, {settings.COUNT_RANGE[1]}]`",
    name="count", fields=("count_min", "count_max"))

FIELD_KEYS = _keys_of(Scenario)

def _with_count(keys: Mapping[str, Key]) -> dict[str, Key]:
    out: dict[str, Key] = {}
    for name, key in keys.items():
        if name == "count_min":
            out["count"] = COUNT_KEY
        out[name] = key
    return out


#: Every key of a scenario file outside ``[quotas.XX]``, in file order
#: (``count`` comes before ``count_min``).
KEYS: Mapping[str, Key] = _with_count(FIELD_KEYS)

#: Keys of the ``[phasing]`` section.
PHASING_KEY_INFO: Mapping[str, Key] = _keys_of(Phasing)
PHASING_KEYS: tuple[str, ...] = tuple(PHASING_KEY_INFO)

#: Keys of a ``[quotas.XX]`` table.
QUOTA_KEY_INFO: Mapping[str, Key] = _keys_of(CountryQuota)
QUOTA_KEYS: tuple[str, ...] = tuple(QUOTA_KEY_INFO)

#: The sections of a scenario file and the keys each holds (``None`` = top level).
SECTIONS: Mapping[str | None, tuple[str, ...]] = {
    section: tuple(k for k, key in KEYS.items() if key.section == section)
    for section in dict.fromkeys(key.section for key in KEYS.values())
}

#: One line describing each key, with its unit (used in written scenario files).
KEY_DOCS: Mapping[str, str] = {k: key.doc for k, key in {**KEYS, **QUOTA_KEY_INFO}.items()}

#: One line describing each key of ``[phasing]`` (some share a name with a ``[network]`` key).
PHASING_KEY_DOCS: Mapping[str, str] = {k: key.doc for k, key in PHASING_KEY_INFO.items()}

SECTION_OF: dict[str, str | None] = {k: key.section for k, key in KEYS.items()}

FILE_KEYS: tuple[str, ...] = tuple(k for k, key in KEYS.items() if key.kind == "path?")


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


