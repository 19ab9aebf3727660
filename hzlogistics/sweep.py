"""Scenario sweeps: solve a grid of parameter values and draw the trade-off curve.

A sweep varies one or more scenario fields (the area budget, the service level,
the number of sites, ...) over lists of values, solves every combination and
returns one row per combination. The expensive step that does not depend on the
budget, the delivery coverage, is built once per distinct set of
coverage-relevant values (service level, cutoff, radius, circuity, coverage mode,
cross-border groups) and reused by every point that shares it.

Points that share a coverage are solved as a *chain*: each point is
warm-started from the plan of the point before it, adapted to the new limits
(:func:`adapt_hint`). When that plan still satisfies every constraint of the new
point, it is kept if the solver does not find a better one, so the covered
demand of a coverage sweep never drops when a limit is relaxed.

The points run in this process by default, or on a Dask cluster
(``client=``): the inputs and each coverage are sent to the workers once
(``client.scatter(..., broadcast=True)``), every point is a task that Dask
retries if its worker dies, and a chain's tasks depend on each other in order,
so a sweep gives the same table on a cluster as in this process for the same
settings. Pass ``chains=N`` to cut each chain into ``N`` pieces that start cold
and run side by side.
"""

from __future__ import annotations

import html
import io
import itertools
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics._errors import HzLogisticsError, MissingDependencyError, ValidationError
from hzlogistics._validate import close_match
from hzlogistics.io import write_atomic
from hzlogistics.plan import (
    Inputs,
    build_problem,
    build_scenario_coverage,
    load_inputs,
    solve_reachable,
)
from hzlogistics.scenario import Scenario
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult, relative_gap

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

logger = logging.getLogger(__name__)

#: Relative tolerance of the feasibility checks of a carried plan.
_TOL = 1e-6

#: Seconds between two looks at the stop event while waiting for Dask tasks.
_POLL_S = 0.5


# ---------------------------------------------------------------------------
# Parameters a sweep may vary
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepParameter:
    """A scenario field a sweep may vary.

    Attributes
    ----------
    name
        The key in a sweep's ``vary`` and the column of its table: a
        :class:`~hzlogistics.scenario.Scenario` field, or ``count`` (sets
        ``count_min`` and ``count_max`` to the same number of sites).
    kind
        ``"float"``, ``"int"``, ``"choice"`` or ``"groups"`` (cross-border groups,
        written ``EU+GCC``; ``none`` for no group).
    optional
        Whether ``none`` is a valid value (no limit).
    coverage
        Whether the value changes the delivery coverage (rebuilt per value).
    minimum, maximum
        Valid range of a number (inclusive).
    choices
        Valid values of a ``choice``.
    """

    name: str
    kind: str
    optional: bool = False
    coverage: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


def _p(name: str, kind: str, **kw: Any) -> tuple[str, SweepParameter]:
    return name, SweepParameter(name, kind, **kw)


#: Every parameter a sweep may vary, by its name.
SWEEP_PARAMETERS: dict[str, SweepParameter] = dict(
    [
        _p("area_budget_m2", "float", optional=True, minimum=0.0),
        _p("count", "int", minimum=0),
        _p("count_min", "int", minimum=0),
        _p("count_max", "int", optional=True, minimum=0),
        _p("min_sites_per_country", "int", minimum=0),
        _p("capacity_per_m2", "float", optional=True, minimum=0.0),
        _p("rent_cap_usd_year", "float", optional=True, minimum=0.0),
        _p("required_share", "float", minimum=0.0, maximum=1.0),
        _p("time_limit_s", "float", minimum=0.0),
        _p("gap", "float", minimum=0.0),
        _p("seed", "int", minimum=0),
        _p("service_level", "choice", coverage=True, choices=tuple(settings.SERVICE_LEVELS_H)),
        _p("cutoff_h", "float", optional=True, coverage=True, minimum=0.0),
        _p("radius_km", "float", optional=True, coverage=True, minimum=0.0),
        _p("circuity", "float", coverage=True, minimum=1.0),
        _p("coverage_mode", "choice", coverage=True, choices=("network", "geodesic")),
        _p("cross_border_groups", "groups", coverage=True,
           choices=tuple(settings.CROSS_BORDER_GROUPS)),
    ]
)

#: Short names (as on the command line) of the sweep parameters.
SWEEP_ALIASES: dict[str, str] = {
    "area_budget": "area_budget_m2",
    "budget": "area_budget_m2",
    "capacity": "capacity_per_m2",
    "rent_cap": "rent_cap_usd_year",
    "time_limit": "time_limit_s",
    "min_sites": "min_sites_per_country",
    "cutoff": "cutoff_h",
    "radius": "radius_km",
    "cross_border": "cross_border_groups",
}

#: Most points one range (``start:stop:step``) may expand to.
MAX_RANGE_POINTS: int = 10_000

_NONE_WORDS = ("none", "null", "off", "")


def sweep_parameter(name: str) -> SweepParameter:
    """Look up a sweep parameter by its name or its short name.

    Parameters
    ----------
    name
        ``area_budget_m2`` or ``area_budget``, ``service_level``, ``count``, ...
        (case and ``-``/``_`` do not matter).

    Returns
    -------
    SweepParameter

    Raises
    ------
    ValidationError
        For an unknown name; the message suggests the closest valid one.

    Examples
    --------
    >>> sweep_parameter("area-budget").name
    'area_budget_m2'
    """
    key = str(name).strip().lower().replace("-", "_")
    key = SWEEP_ALIASES.get(key, key)
    if key in SWEEP_PARAMETERS:
        return SWEEP_PARAMETERS[key]
    names = sorted(set(SWEEP_PARAMETERS) | set(SWEEP_ALIASES))
    close = close_match(key, names)
    hint = f" (did you mean '{close}'?)" if close else ""
    raise ValidationError(
        f"--vary: unknown parameter '{name}'{hint}; valid: {', '.join(names)}"
    )


def _number(param: SweepParameter, text: str) -> float | int:
    if param.kind == "int":
        value = float(text.replace("_", ""))
        if not value.is_integer():
            raise ValueError(f"{text!r} is not a whole number")
        return int(value)
    return float(text.replace("_", ""))


def _check_value(param: SweepParameter, value: Any) -> tuple[Any, str | None]:
    """Turn one raw value into a valid value of ``param``, or say what is wrong."""
    where = f"--vary {param.name}"
    if value is None or (isinstance(value, str) and value.strip().lower() in _NONE_WORDS):
        if param.optional:
            return None, None
        if param.kind == "groups":
            return (), None
        return None, f"{where}: a value is required (no 'none'); got {value!r}"
    if param.kind == "choice":
        text = str(value).strip()
        if text in param.choices:
            return text, None
        close = close_match(text, param.choices)
        hint = f" (did you mean '{close}'?)" if close else ""
        return None, f"{where}: '{text}' is not valid{hint}; valid: {', '.join(param.choices)}"
    if param.kind == "groups":
        parts = (value.split("+") if isinstance(value, str) else list(value))
        groups = tuple(sorted({str(g).strip().upper() for g in parts if str(g).strip()}))
        bad = [g for g in groups if g not in param.choices]
        if bad:
            return None, (f"{where}: unknown cross-border group(s) {', '.join(bad)}; valid: "
                          f"{', '.join(param.choices)}, joined with '+', or 'none'")
        return groups, None
    try:
        number = _number(param, value.strip()) if isinstance(value, str) else value
        if param.kind == "int":
            if isinstance(number, float) and not number.is_integer():
                raise ValueError(f"{number!r} is not a whole number")
            number = int(number)
        else:
            number = float(number)
    except (TypeError, ValueError):
        kind = "a whole number" if param.kind == "int" else "a number"
        extra = " or 'none'" if param.optional else ""
        return None, f"{where}: {value!r} is not {kind}{extra}"
    if not math.isfinite(number):
        return None, f"{where}: {value!r} is not a finite number"
    if param.minimum is not None and number < param.minimum:
        return None, f"{where}: {number:g} is below the minimum {param.minimum:g}"
    if param.maximum is not None and number > param.maximum:
        return None, f"{where}: {number:g} is above the maximum {param.maximum:g}"
    return number, None


def _expand_range(param: SweepParameter, item: str) -> tuple[list[Any], str | None]:
    """Expand ``start:stop:step`` (stop included) into its values."""
    where = f"--vary {param.name}"
    parts = item.split(":")
    if param.kind not in ("int", "float"):
        return [], f"{where}: '{item}' is a range but the values are names; list them with ','"
    if len(parts) == 2 and param.kind == "int":
        parts.append("1")
    if len(parts) != 3:
        return [], f"{where}: '{item}' is not a range; write start:stop:step (stop included)"
    try:
        start, stop, step = (_number(param, p.strip()) for p in parts)
    except ValueError:
        return [], f"{where}: '{item}' is not a range of numbers; write start:stop:step"
    if step == 0 or (stop - start) * step < 0:
        return [], (f"{where}: the step {step:g} of '{item}' never reaches {stop:g}; "
                    "use a step of the sign of stop - start, not 0")
    n = int(math.floor((stop - start) / step + 1e-9)) + 1
    if n > MAX_RANGE_POINTS:
        return [], f"{where}: '{item}' gives {n:,} points, more than {MAX_RANGE_POINTS:,}"
    if param.kind == "int":
        return [int(start + k * step) for k in range(n)], None
    return [round(start + k * step, 9) for k in range(n)], None


def _parse_values(param: SweepParameter, text: str) -> tuple[list[Any], list[str]]:
    values: list[Any] = []
    problems: list[str] = []
    for item in text.split(","):
        item = item.strip()
        if ":" in item:
            expanded, problem = _expand_range(param, item)
            if problem:
                problems.append(problem)
                continue
            candidates: list[Any] = expanded
        else:
            candidates = [item]
        for raw in candidates:
            value, problem = _check_value(param, raw)
            if problem:
                problems.append(problem)
            else:
                values.append(value)
    return values, problems


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """Read one ``--vary`` option: ``NAME=VALUES``.

    ``VALUES`` is a comma-separated list whose items are single values or
    ranges ``start:stop:step`` (stop included; ``start:stop`` steps by 1 for
    whole numbers). ``none`` means no limit where that is allowed.

    Parameters
    ----------
    spec
        For example ``area_budget=50000:400000:25000``,
        ``service_level=same-day,next-day`` or ``cross_border=none,EU,EU+GCC``.

    Returns
    -------
    tuple of (str, list)
        The parameter's name (see :data:`SWEEP_PARAMETERS`) and its values,
        duplicates removed, in the order given.

    Raises
    ------
    ValidationError
        For an unknown name (with a suggestion) or values that are not valid;
        every problem of the option is listed.

    Examples
    --------
    >>> parse_vary("area_budget=50000:100000:25000")
    ('area_budget_m2', [50000.0, 75000.0, 100000.0])
    >>> parse_vary("count=900,1000")
    ('count', [900, 1000])
    """
    name, sep, text = str(spec).partition("=")
    if not sep:
        raise ValidationError(
            f"--vary '{spec}': write NAME=VALUES, e.g. area_budget=50000:400000:25000 "
            "or service_level=same-day,next-day"
        )
    param = sweep_parameter(name)
    values, problems = _parse_values(param, text)
    if not problems and not values:
        problems.append(f"--vary {param.name}: no values given")
    if problems:
        raise ValidationError(problems)
    return param.name, _unique(values)


def _unique(values: Iterable[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def normalize_vary(vary: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Check a sweep's ``vary`` and give every parameter its canonical name.

    Parameters
    ----------
    vary
        ``{name: values}``; a name may be a short name (``area_budget``), the
        values a list (numbers, names, ``None``) or a string in the syntax of
        :func:`parse_vary` (``"50000:400000:25000"``).

    Returns
    -------
    dict
        ``{canonical name: [values]}`` in the order given.

    Raises
    ------
    ValidationError
        Listing every unknown name, invalid value, empty list, and parameter given
        twice (``count`` excludes ``count_min`` and ``count_max``).

    Examples
    --------
    >>> normalize_vary({"area_budget": [100_000, 200_000], "service_level": "next-day"})
    {'area_budget_m2': [100000.0, 200000.0], 'service_level': ['next-day']}
    """
    out: dict[str, list[Any]] = {}
    problems: list[str] = []
    for name, raw in vary.items():
        try:
            param = sweep_parameter(name)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        if param.name in out:
            problems.append(f"--vary {param.name}: given twice (as '{name}' too)")
            continue
        if isinstance(raw, str):
            values, found = _parse_values(param, raw)
            problems.extend(found)
        else:
            items = [raw] if not isinstance(raw, Iterable) else list(raw)
            values = []
            for item in items:
                value, problem = _check_value(param, item)
                if problem:
                    problems.append(problem)
                else:
                    values.append(value)
        if not values and not any(p.startswith(f"--vary {param.name}") for p in problems):
            problems.append(f"--vary {param.name}: no values given")
        out[param.name] = _unique(values)
    if "count" in out and ({"count_min", "count_max"} & set(out)):
        problems.append("--vary count sets count_min and count_max: vary either count or "
                        "count_min/count_max, not both")
    if problems:
        raise ValidationError(problems)
    return out


def apply_values(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with sweep values set (``count`` sets both count limits).

    Examples
    --------
    >>> s = apply_values(Scenario(), {"count": 900, "area_budget_m2": 1e5})
    >>> s.count_min, s.count_max, s.area_budget_m2
    (900, 900, 100000.0)
    """
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name == "count":
            changes["count_min"] = changes["count_max"] = value
        elif name == "cross_border_groups":
            changes[name] = list(value)
        else:
            changes[name] = value
    return replace(scenario, **changes)


def _display(value: Any) -> Any:
    if isinstance(value, tuple):
        return "+".join(value) if value else "none"
    return value


# ---------------------------------------------------------------------------
# Warm starts
# ---------------------------------------------------------------------------
def _site_arrays(problem: SitingProblem) -> dict[str, np.ndarray]:
    n = problem.n_sites
    g = np.zeros(n, dtype=np.int64) if problem.group is None else np.asarray(problem.group)
    n_groups = int(g.max()) + 1 if n else 0
    n_groups = max(n_groups, len(problem.group_names))

    def arr(x: np.ndarray | None, default: float, size: int) -> np.ndarray:
        return np.full(size, default, dtype=float) if x is None else np.asarray(x, dtype=float)

    return {
        "max": arr(problem.max_area_m2, np.inf, n),
        "existing": arr(problem.existing_area_m2, 0.0, n),
        "forbidden": (np.zeros(n, dtype=bool) if problem.forbidden is None
                      else np.asarray(problem.forbidden, dtype=bool)),
        "rent": np.nan_to_num(arr(problem.rent_usd_m2_year, 0.0, n)),
        "group": g,
        "gmin": arr(problem.group_count_min, 0.0, n_groups),
        "gmax": arr(problem.group_count_max, np.inf, n_groups),
        "amin": arr(problem.group_area_min_m2, 0.0, n_groups),
        "amax": arr(problem.group_area_max_m2, np.inf, n_groups),
        "site_cap": arr(problem.site_capacity, np.inf, n),
    }


def _legal_areas(tiers: np.ndarray, max_area: float, existing: float) -> list[float]:
    """Areas an open site may take: the tiers it fits, at least its existing area."""
    legal = [float(t) for t in tiers if t <= max_area * (1 + _TOL) and t >= existing * (1 - _TOL)]
    if existing > 0 and not any(abs(t - existing) <= _TOL * existing for t in legal):
        legal = sorted([float(existing), *legal])
    return legal


def _capacity(problem: SitingProblem, area: float, site_cap: float) -> float:
    by_area = np.inf if problem.capacity_per_m2 is None else float(problem.capacity_per_m2) * area
    return float(min(by_area, site_cap))


def adapt_hint(
    problem: SitingProblem,
    area_m2: np.ndarray,
    *,
    served: sp.spmatrix | None = None,
) -> np.ndarray:
    """Adapt a plan's site areas to the limits of ``problem``, to warm-start its solve.

    Sites are snapped to the size tiers they may take (forbidden sites closed,
    existing sites at least their current area); then, while a limit is
    exceeded (number of sites, per-country count or area, area budget, rent
    cap), the site step that loses the least served demand per m² (or per site,
    or per USD of rent) is taken: one tier down, or closing a new site. Closing
    respects the minimum counts. Finally, if too few sites are open, the closed
    sites that reach the most demand are opened at their smallest tier while
    the budgets allow. A plan that already satisfies ``problem`` is returned
    unchanged.

    Parameters
    ----------
    problem
        The problem to be solved next.
    area_m2
        ``(n_sites,)`` areas of the neighbouring plan (0 = closed).
    served
        ``(n_sites, n_demand)`` parcels/day served by each site in that plan; its
        row sums rank the sites (without it, the demand each site reaches).

    Returns
    -------
    numpy.ndarray
        ``(n_sites,)`` areas, as close to feasible for ``problem`` as these
        greedy steps get.

    Raises
    ------
    ValidationError
        If ``area_m2`` does not have one entry per site.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = SitingProblem(weight=np.array([4.0, 2.0, 1.0]), cover=sp.csr_matrix(np.eye(3)),
    ...                   tiers_m2=np.array([100.0, 200.0]), area_budget_m2=300.0,
    ...                   capacity_per_m2=0.02)
    >>> adapt_hint(p, np.array([200.0, 200.0, 100.0])).tolist()
    [200.0, 100.0, 0.0]
    """
    n = problem.n_sites
    area = np.asarray(area_m2, dtype=float).copy()
    if area.shape != (n,):
        raise ValidationError(f"hint: {area.shape[0] if area.ndim else 0} areas given for "
                              f"{n} candidate sites; give one area per site")
    a = _site_arrays(problem)
    tiers = np.sort(np.asarray(problem.tiers_m2, dtype=float))
    legal = [_legal_areas(tiers, a["max"][i], a["existing"][i]) for i in range(n)]
    closable = (a["existing"] <= 0)
    for i in range(n):
        if a["forbidden"][i] and closable[i]:
            area[i] = 0.0
        elif area[i] > 0 or not closable[i]:
            options = legal[i]
            if not options:
                area[i] = 0.0 if closable[i] else a["existing"][i]
                continue
            fits = [t for t in options if t <= area[i] * (1 + _TOL)]
            area[i] = fits[-1] if fits else options[0]
    if served is not None and sp.csr_matrix(served).shape[0] == n:
        gain = np.asarray(sp.csr_matrix(served).sum(axis=1), dtype=float).ravel()
    else:
        gain = np.asarray(sp.csr_matrix(problem.cover, dtype=float) @ problem.weight).ravel()
    gain = np.maximum(gain, 0.0)
    _shrink(problem, area, a, legal, closable, gain)
    _grow(problem, area, a, legal, gain)
    return area


def _totals(area: np.ndarray, a: dict[str, np.ndarray]) -> dict[str, Any]:
    is_open = area > 0
    n_groups = a["gmin"].shape[0]
    return {
        "count": int(is_open.sum()),
        "area": float(area.sum()),
        "rent": float((area * a["rent"]).sum()),
        "gcount": np.bincount(a["group"], weights=is_open.astype(float), minlength=n_groups),
        "garea": np.bincount(a["group"], weights=area, minlength=n_groups),
    }


def _over(value: float, limit: float | None) -> bool:
    return limit is not None and np.isfinite(limit) and value > limit + _TOL * max(1.0, abs(limit))


def _shrink(problem: SitingProblem, area: np.ndarray, a: dict[str, np.ndarray],
            legal: list[list[float]], closable: np.ndarray, gain: np.ndarray) -> None:
    n = problem.n_sites
    count_min = int(problem.count_min or 0)
    for _ in range(sum(len(x) + 1 for x in legal) + 1):
        t = _totals(area, a)
        scope: np.ndarray | None = None
        kind = ""
        if problem.count_max is not None and t["count"] > problem.count_max:
            kind = "count"
        elif np.any(t["gcount"] > a["gmax"] + _TOL):
            kind, g = "count", int(np.argmax(t["gcount"] - a["gmax"]))
            scope = a["group"] == g
        elif np.any(t["garea"] > a["amax"] * (1 + _TOL)):
            kind, g = "area", int(np.argmax(t["garea"] - a["amax"]))
            scope = a["group"] == g
        elif _over(t["area"], problem.area_budget_m2):
            kind = "area"
        elif _over(t["rent"], problem.rent_cap_usd_year):
            kind = "rent"
        if not kind:
            return
        best: tuple[float, float, int, float] | None = None
        for i in range(n):
            if area[i] <= 0 or (scope is not None and not scope[i]):
                continue
            g = int(a["group"][i])
            smaller = [x for x in legal[i] if x < area[i] * (1 - _TOL)]
            can_close = (closable[i] and t["count"] > count_min
                         and t["gcount"][g] > a["gmin"][g] + _TOL)
            if kind == "count" or not smaller:
                if not can_close:
                    continue
                new = 0.0
            else:
                new = smaller[-1]
            if t["garea"][g] - (area[i] - new) < a["amin"][g] * (1 - _TOL):
                continue
            before = min(gain[i], _capacity(problem, area[i], a["site_cap"][i]))
            after = 0.0 if new == 0 else min(gain[i], _capacity(problem, new, a["site_cap"][i]))
            loss = max(0.0, before - after)
            freed = {"count": 1.0, "area": area[i] - new,
                     "rent": (area[i] - new) * a["rent"][i]}[kind]
            if freed <= 0:
                continue
            key = (loss / freed, -freed, i, new)
            if best is None or key < best:
                best = key
        if best is None:
            logger.debug("warm start: cannot meet the %s limit by shrinking the plan", kind)
            return
        area[best[2]] = best[3]


def _grow(problem: SitingProblem, area: np.ndarray, a: dict[str, np.ndarray],
          legal: list[list[float]], gain: np.ndarray) -> None:
    t = _totals(area, a)
    short_total = max(0, int(problem.count_min or 0) - t["count"])
    short_group = np.maximum(0, np.ceil(a["gmin"] - t["gcount"] - _TOL)).astype(int)
    if short_total == 0 and not short_group.any():
        return
    budget = np.inf if problem.area_budget_m2 is None else float(problem.area_budget_m2)
    rent_cap = np.inf if problem.rent_cap_usd_year is None else float(problem.rent_cap_usd_year)
    order = np.argsort(-gain, kind="stable")
    for need_group in (True, False):
        for i in order:
            i = int(i)
            g = int(a["group"][i])
            if area[i] > 0 or a["forbidden"][i] or not legal[i]:
                continue
            if need_group and short_group[g] <= 0:
                continue
            if not need_group and short_total <= 0:
                return
            size = legal[i][0]
            if (t["area"] + size > budget * (1 + _TOL) or t["rent"] + size * a["rent"][i]
                    > rent_cap * (1 + _TOL) or t["gcount"][g] + 1 > a["gmax"][g] + _TOL
                    or t["garea"][g] + size > a["amax"][g] * (1 + _TOL)):
                continue
            if problem.count_max is not None and t["count"] + 1 > problem.count_max:
                return
            area[i] = size
            t["area"] += size
            t["rent"] += size * a["rent"][i]
            t["count"] += 1
            t["gcount"][g] += 1
            t["garea"][g] += size
            short_group[g] = max(0, short_group[g] - 1)
            short_total = max(0, short_total - 1)


def plan_violations(
    problem: SitingProblem, area_m2: np.ndarray, served: sp.spmatrix | None = None
) -> list[str]:
    """The constraints of ``problem`` that a plan breaks.

    Parameters
    ----------
    problem
        The problem.
    area_m2
        ``(n_sites,)`` areas of the plan (0 = closed).
    served
        Optional ``(n_sites, n_demand)`` parcels/day served; when given, the
        service is checked too (only covered pairs, only open sites, at most each
        point's weight, at most each site's capacity).

    Returns
    -------
    list of str
        One message per broken constraint; empty when the plan is feasible.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
    ...                   tiers_m2=np.array([100.0]), area_budget_m2=150.0)
    >>> plan_violations(p, np.array([100.0, 100.0]))
    ['total area 200 m² > budget 150 m²']
    """
    n = problem.n_sites
    area = np.asarray(area_m2, dtype=float)
    if area.shape != (n,):
        return [f"{area.size} areas for {n} sites"]
    a = _site_arrays(problem)
    tiers = np.sort(np.asarray(problem.tiers_m2, dtype=float))
    out: list[str] = []
    for i in range(n):
        if area[i] < 0:
            out.append(f"site {i}: negative area")
        elif area[i] == 0:
            if a["existing"][i] > 0:
                out.append(f"site {i}: existing site closed")
        else:
            if a["forbidden"][i] and a["existing"][i] <= 0:
                out.append(f"site {i}: forbidden site open")
            legal = _legal_areas(tiers, a["max"][i], a["existing"][i])
            if not any(abs(area[i] - x) <= _TOL * max(1.0, x) for x in legal):
                out.append(f"site {i}: area {area[i]:g} m² is not one of {legal}")
    t = _totals(area, a)
    if _over(t["area"], problem.area_budget_m2):
        out.append(f"total area {t['area']:,.0f} m² > budget {problem.area_budget_m2:,.0f} m²")
    if _over(t["rent"], problem.rent_cap_usd_year):
        out.append(f"rent {t['rent']:,.0f} USD/year > cap {problem.rent_cap_usd_year:,.0f}")
    if t["count"] < int(problem.count_min or 0):
        out.append(f"{t['count']} sites < minimum {problem.count_min}")
    if problem.count_max is not None and t["count"] > problem.count_max:
        out.append(f"{t['count']} sites > maximum {problem.count_max}")
    for g in range(a["gmin"].shape[0]):
        name = problem.group_names[g] if g < len(problem.group_names) else str(g)
        if t["gcount"][g] < a["gmin"][g] - _TOL:
            out.append(f"{name}: {t['gcount'][g]:.0f} sites < minimum {a['gmin'][g]:.0f}")
        if t["gcount"][g] > a["gmax"][g] + _TOL:
            out.append(f"{name}: {t['gcount'][g]:.0f} sites > maximum {a['gmax'][g]:.0f}")
        if t["garea"][g] < a["amin"][g] * (1 - _TOL):
            out.append(f"{name}: area {t['garea'][g]:,.0f} m² < minimum {a['amin'][g]:,.0f}")
        if t["garea"][g] > a["amax"][g] * (1 + _TOL):
            out.append(f"{name}: area {t['garea'][g]:,.0f} m² > maximum {a['amax'][g]:,.0f}")
    if served is not None:
        out.extend(_service_violations(problem, area, a, sp.csr_matrix(served, dtype=float)))
    return out


def _service_violations(problem: SitingProblem, area: np.ndarray, a: dict[str, np.ndarray],
                        served: sp.csr_matrix) -> list[str]:
    if served.shape != problem.cover.shape:
        return [f"served matrix of shape {served.shape}, expected {problem.cover.shape}"]
    out: list[str] = []
    served = served.copy()
    served.eliminate_zeros()
    if served.nnz and served.data.min() < 0:
        out.append("negative service")
    coo = served.tocoo()
    covered = sp.csr_matrix(problem.cover, dtype=bool)
    reach = np.asarray(covered[coo.row, coo.col]).ravel() if coo.nnz else np.ones(0, bool)
    if not reach.all():
        out.append(f"{int((~reach).sum())} served pairs outside the service level")
    by_site = np.asarray(served.sum(axis=1)).ravel()
    if np.any((area <= 0) & (by_site > 0)):
        out.append("closed sites serve demand")
    weight = np.asarray(problem.weight, dtype=float)
    by_point = np.asarray(served.sum(axis=0)).ravel()
    if np.any(by_point > weight * (1 + _TOL) + _TOL):
        out.append("demand served beyond its weight")
    cap = np.array([_capacity(problem, area[i], a["site_cap"][i]) for i in range(area.size)])
    if np.any(by_site > cap * (1 + _TOL) + _TOL):
        out.append("sites serve beyond their capacity")
    return out


# ---------------------------------------------------------------------------
# One point
# ---------------------------------------------------------------------------
@dataclass
class CoverageArrays:
    """The arrays of a coverage that a problem is built from (what workers receive).

    Attributes
    ----------
    cover
        ``(n_sites, n_demand)`` CSR: which site reaches which demand point.
    travel_time_h
        Same shape: travel time of each covered pair, hours (or ``None``).
    """

    cover: sp.csr_matrix
    travel_time_h: sp.csr_matrix | None = None


@dataclass
class PointOutcome:
    """What solving one sweep point gave.

    Attributes
    ----------
    result
        The solver's result (``None`` when the point failed with an error).
    start
        ``"cold"`` (no warm start), ``"warm"`` (hinted with the neighbour's plan)
        or ``"carried"`` (the neighbour's plan, still feasible, beat the solver's).
    message
        Why the point failed, when it did.
    total_weight
        Demand of the problem, parcels/day.
    rent_usd_year
        Rent of the plan.
    wall_s
        Wall time of the point (problem building and solve).
    ran
        ``False`` for a point left out because the sweep was stopped.
    """

    result: SolveResult | None
    start: str = "cold"
    message: str = ""
    total_weight: float = float("nan")
    rent_usd_year: float = float("nan")
    wall_s: float = 0.0
    ran: bool = True


def _solve_kwargs(scenario: Scenario) -> dict[str, Any]:
    if scenario.objective == "min-area":
        return {"required_share": scenario.required_share}
    if scenario.objective == "cost":
        return {"assignment": scenario.assignment}
    return {}


def solve_point(
    inputs: Inputs,
    coverage: CoverageArrays,
    scenario: Scenario,
    previous: PointOutcome | None = None,
    *,
    workers: int | None = None,
    stop: threading.Event | None = None,
) -> PointOutcome:
    """Solve one sweep point, warm-started from its neighbour's plan.

    This is the task a sweep runs (in this process or on a Dask worker).

    Parameters
    ----------
    inputs
        Demand, sites and countries.
    coverage
        The coverage of the point's coverage group.
    scenario
        The scenario with the point's values set.
    previous
        The neighbour's outcome: its plan is adapted to this point's limits
        (:func:`adapt_hint`) and given to the solver as a hint; for the
        ``coverage`` objective, when that plan satisfies this point's constraints
        unchanged and the solver returns a worse one, the neighbour's plan is kept.
    workers
        Solver threads for this solve (``None`` = the machine's cores).
    stop
        When set, the solve stops with its best plan so far.

    Returns
    -------
    PointOutcome
        An infeasible or failed point has ``result.status`` ``"infeasible"`` /
        ``"error"`` (or ``result=None`` and a ``message``), never an exception,
        so one bad point does not stop the sweep.
    """
    t0 = time.perf_counter()
    try:
        problem = build_problem(scenario, inputs, coverage)  # type: ignore[arg-type]
    except HzLogisticsError as exc:
        return PointOutcome(None, message=str(exc), wall_s=time.perf_counter() - t0)
    total = float(np.asarray(problem.weight, dtype=float).sum())
    hint = None
    start = "cold"
    carried: SolveResult | None = None
    prev = previous.result if previous is not None else None
    if prev is not None and prev.has_solution:
        prev_area = np.asarray(prev.area_m2, dtype=float)
        hint = adapt_hint(problem, prev_area, served=prev.served)
        start = "warm"
        if (scenario.objective == "coverage" and np.array_equal(hint, prev_area)
                and not plan_violations(problem, prev_area, prev.served)):
            carried = prev
    options = SolveOptions(time_limit_s=scenario.time_limit_s, gap=scenario.gap,
                           seed=scenario.seed, workers=workers, hint=hint, stop=stop)
    try:
        result = solve_reachable(problem, scenario.objective, options,
                                 **_solve_kwargs(scenario))
    except HzLogisticsError as exc:
        return PointOutcome(None, start=start, message=str(exc), total_weight=total,
                            wall_s=time.perf_counter() - t0)
    if carried is not None and result.status not in ("infeasible", "error") and (
            not result.has_solution
            or result.objective < carried.objective - _TOL * max(1.0, abs(carried.objective))):
        bound = float(result.bound)
        gap = relative_gap(float(carried.objective), bound) if np.isfinite(bound) else np.nan
        result = replace(
            result,
            status="interrupted" if result.status == "interrupted" else
            "optimal" if gap <= scenario.gap + 1e-12 else "feasible",
            objective=float(carried.objective),
            gap=float(gap),
            area_m2=np.asarray(carried.area_m2, dtype=float).copy(),
            served=sp.csr_matrix(carried.served),
            reasons=[],
        )
        start = "carried"
    rent = float("nan")
    if result.has_solution:
        rent_m2 = (np.zeros(problem.n_sites) if problem.rent_usd_m2_year is None
                   else np.nan_to_num(np.asarray(problem.rent_usd_m2_year, dtype=float)))
        rent = float((np.asarray(result.area_m2, dtype=float) * rent_m2).sum())
    return PointOutcome(result, start=start, message="; ".join(result.reasons),
                        total_weight=total, rent_usd_year=rent,
                        wall_s=time.perf_counter() - t0)


# ---------------------------------------------------------------------------
# The grid of points and its chains
# ---------------------------------------------------------------------------
@dataclass
class SweepPoint:
    """One combination of values of a sweep.

    Attributes
    ----------
    index
        Row of the point in the sweep's table (the product of the values in the
        order given, the last parameter changing fastest).
    values
        ``{parameter: value}``.
    group
        Index of its coverage group (points with the same coverage values).
    chain, step
        The chain the point belongs to and its place in it.
    """

    index: int
    values: dict[str, Any]
    group: int
    chain: int = 0
    step: int = 0


def _snake(lists: Sequence[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """The product of ``lists`` in an order where neighbours differ in one value."""
    if not lists:
        yield ()
        return
    rest = list(_snake(lists[1:]))
    for k, v in enumerate(lists[0]):
        for tail in (rest if k % 2 == 0 else rest[::-1]):
            yield (v, *tail)


def plan_points(
    vary: Mapping[str, Sequence[Any]], *, warm_start: bool = True, chains: int | None = None
) -> tuple[list[SweepPoint], list[list[int]]]:
    """Lay out a sweep: its points, their coverage groups and the chains to solve.

    Parameters
    ----------
    vary
        ``{parameter: values}`` as returned by :func:`normalize_vary`.
    warm_start
        Whether points warm-start from their neighbour; without, every point is a
        chain of its own.
    chains
        Pieces to cut each coverage group's chain into (``None`` = 1). Each piece
        starts cold, and pieces can be solved side by side.

    Returns
    -------
    points
        Every point, in table order.
    chains
        The chains, each a list of point indices in solving order.

    Examples
    --------
    >>> points, chains = plan_points({"area_budget_m2": [1.0, 2.0, 3.0],
    ...                               "service_level": ["same-day", "next-day"]})
    >>> [p.group for p in points], chains
    ([0, 1, 0, 1, 0, 1], [[0, 2, 4], [1, 3, 5]])
    """
    keys = list(vary)
    cov_keys = [k for k in keys if SWEEP_PARAMETERS[k].coverage]
    other = [k for k in keys if not SWEEP_PARAMETERS[k].coverage]
    points: list[SweepPoint] = []
    groups: dict[tuple[Any, ...], int] = {}
    index_of: dict[tuple[Any, ...], int] = {}
    for combo in itertools.product(*(vary[k] for k in keys)):
        values = dict(zip(keys, combo, strict=True))
        gkey = tuple(values[k] for k in cov_keys)
        group = groups.setdefault(gkey, len(groups))
        index_of[tuple(combo)] = len(points)
        points.append(SweepPoint(index=len(points), values=values, group=group))
    out: list[list[int]] = []
    for gkey in groups:
        fixed = dict(zip(cov_keys, gkey, strict=True))
        order = []
        for tail in _snake([vary[k] for k in other]):
            values = {**fixed, **dict(zip(other, tail, strict=True))}
            order.append(index_of[tuple(values[k] for k in keys)])
        if not warm_start:
            pieces = [[i] for i in order]
        else:
            n = max(1, min(int(chains or 1), len(order)))
            pieces = [list(map(int, c)) for c in np.array_split(np.asarray(order), n)]
        for piece in pieces:
            for step, i in enumerate(piece):
                points[i].chain = len(out)
                points[i].step = step
            out.append(piece)
    return points, out


# ---------------------------------------------------------------------------
# Dask
# ---------------------------------------------------------------------------
def dask_map(client: Client, *, retries: int = settings.SWEEP_RETRIES) -> Callable[..., list[Any]]:
    """A ``map``-like function that runs its calls as tasks on a Dask cluster.

    Parameters
    ----------
    client
        A connected ``distributed.Client``.
    retries
        Times Dask re-runs a task whose call raised (a task on a worker that
        died is re-run anyway).

    Returns
    -------
    callable
        ``fn(func, *iterables) -> list`` of the results, in order, e.g. the
        ``map_fn`` of :func:`hzlogistics.coverage.build_coverage`.
    """

    def _map(func: Callable[..., Any], *iterables: Iterable[Any]) -> list[Any]:
        futures = client.map(func, *(list(it) for it in iterables), retries=retries, pure=False)
        try:
            return list(client.gather(futures))
        finally:
            client.cancel(futures)

    return _map


@contextmanager
def dask_client(
    *, scheduler: str | None = None, local_workers: int | None = None
) -> Iterator[Client | None]:
    """Connect to a Dask scheduler, or start a local cluster, for the time of a block.

    Parameters
    ----------
    scheduler
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    local_workers
        Start a ``LocalCluster`` with this many worker processes (one thread each).

    Yields
    ------
    distributed.Client or None
        ``None`` when neither is given (run in this process).

    Raises
    ------
    ValidationError
        If both are given, or ``local_workers`` < 1.
    MissingDependencyError
        If ``dask.distributed`` is not installed.
    HzLogisticsError
        If the scheduler cannot be reached.
    """
    if scheduler is None and local_workers is None:
        yield None
        return
    if scheduler is not None and local_workers is not None:
        raise ValidationError("--scheduler and --dask-local: give one of them, not both")
    if local_workers is not None and int(local_workers) < 1:
        raise ValidationError(f"--dask-local: {local_workers} workers; give 1 or more")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise MissingDependencyError(
            "running a sweep on Dask needs dask.distributed: pip install 'hzlogistics[distributed]'"
        ) from exc
    cluster = None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=settings.DASK_CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise HzLogisticsError(
                f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc}); start "
                "one with 'dask scheduler' and give its tcp://HOST:PORT"
            ) from exc
    else:
        cluster = LocalCluster(n_workers=int(local_workers or 1), threads_per_worker=1,
                               processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ---------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------
def sweep(
    scenario: Scenario,
    vary: Mapping[str, Any],
    *,
    client: Client | None = None,
    warm_start: bool = True,
    chains: int | None = None,
    workers_per_solve: int | None = None,
    retries: int = settings.SWEEP_RETRIES,
    maps_dir: str | Path | None = None,
    progress: bool = False,
    stop: threading.Event | None = None,
) -> pd.DataFrame:
    """Solve a scenario for every combination of the values in ``vary``.

    Parameters
    ----------
    scenario
        The base scenario; every point copies it and sets its values.
    vary
        ``{parameter: values}``; names as in :data:`SWEEP_PARAMETERS` or their
        short names (``area_budget``, ``rent_cap``, ...), values a list or a
        string such as ``"50000:400000:25000"`` (see :func:`parse_vary`).
    client
        A ``distributed.Client``: solve the points (and build the coverage) on
        its cluster. ``None`` = in this process.
    warm_start
        Warm-start every point from its neighbour's plan (see :func:`solve_point`).
    chains
        Cut each coverage group's chain of warm starts into this many pieces
        that start cold and can run side by side (``None`` = 1 piece). Gives
        the same table in this process and on a cluster.
    workers_per_solve
        Solver threads per point (``None`` = the machine's cores in this
        process, 1 on a cluster). A solve is repeatable with a fixed seed and a
        fixed thread count when it ends on its gap target; a solve stopped by
        its (wall-clock) time limit may differ from run to run.
    retries
        Times Dask re-runs a point whose task raised.
    maps_dir
        Write the map of every solved point there (``<name>-p<index>.html``).
    progress
        Show progress bars.
    stop
        A ``threading.Event``: when set, the running solve (in this process)
        stops with its best plan, and the points not yet solved are left out
        with status ``"not run"``.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``point``, the varied parameters, ``status``,
        ``objective``, ``bound``, ``gap``, ``covered_weight`` (parcels/day
        served), ``covered_share`` (of all demand), ``bound_share`` (bound / all
        demand), ``area_m2``, ``n_sites``, ``rent_usd_year``, ``wall_s``,
        ``coverage_group``, ``chain``, ``start`` (cold / warm / carried),
        ``message`` and, with ``maps_dir``, ``map``. ``attrs`` holds ``vary``,
        ``total_weight``, ``scenario``, ``objective`` and ``coverage_s``.

    Raises
    ------
    ValidationError
        For an unknown parameter or an invalid value (all listed at once).

    Examples
    --------
    >>> from hzlogistics.scenario import Scenario
    >>> table = sweep(Scenario(countries=["SG"]),
    ...               {"area_budget": "1000:3000:1000"})  # doctest: +SKIP
    >>> table[["area_budget_m2", "covered_share"]]  # doctest: +SKIP
    """
    values = normalize_vary(vary)
    points, chain_list = plan_points(values, warm_start=warm_start, chains=chains)
    retries = int(retries)
    if client is not None and workers_per_solve is None:
        workers_per_solve = 1
    logger.info("sweep of %d points in %d chains (%s)", len(points), len(chain_list),
                "in this process" if client is None else "on Dask")
    map_fn: Callable[..., Any] = map if client is None else dask_map(client, retries=retries)
    t0 = time.perf_counter()
    inputs = load_inputs(scenario)
    group_values: dict[int, dict[str, Any]] = {}
    for p in points:
        group_values.setdefault(p.group, {k: v for k, v in p.values.items()
                                          if SWEEP_PARAMETERS[k].coverage})
    coverages: dict[int, Any] = {}
    for g, gvals in group_values.items():
        logger.info("sweep: building coverage %d/%d %s", g + 1, len(group_values), gvals)
        coverages[g] = build_scenario_coverage(apply_values(scenario, gvals), inputs,
                                               progress=progress, map_fn=map_fn)
    arrays = {g: CoverageArrays(cover=sp.csr_matrix(c.cover),
                                travel_time_h=None if c.travel_time_h is None
                                else sp.csr_matrix(c.travel_time_h))
              for g, c in coverages.items()}
    coverage_s = time.perf_counter() - t0
    scenarios = [apply_values(scenario, p.values) for p in points]
    if client is None:
        outcomes = _run_local(inputs, arrays, points, chain_list, scenarios,
                              warm_start=warm_start, workers=workers_per_solve,
                              progress=progress, stop=stop)
    else:
        outcomes = _run_dask(client, inputs, arrays, points, chain_list, scenarios,
                             warm_start=warm_start, workers=workers_per_solve, retries=retries,
                             progress=progress, stop=stop)
    table = _table(points, outcomes, values)
    if maps_dir is not None:
        table["map"] = _write_maps(maps_dir, scenario, scenarios, points, outcomes, inputs,
                                   arrays, coverages)
    table.attrs.update({
        "vary": list(values), "scenario": scenario.name, "objective": scenario.objective,
        "total_weight": float(inputs.demand["weight"].astype(float).sum()),
        "coverage_s": coverage_s,
    })
    return table


def _run_local(inputs: Inputs, arrays: dict[int, CoverageArrays], points: list[SweepPoint],
               chain_list: list[list[int]], scenarios: list[Scenario], *, warm_start: bool,
               workers: int | None, progress: bool,
               stop: threading.Event | None) -> list[PointOutcome]:
    from tqdm.auto import tqdm

    outcomes = [PointOutcome(None, ran=False) for _ in points]
    with tqdm(total=len(points), desc="sweep", unit="point", disable=not progress) as bar:
        for chain in chain_list:
            previous = None
            for i in chain:
                if stop is not None and stop.is_set():
                    return outcomes
                out = solve_point(inputs, arrays[points[i].group], scenarios[i],
                                  previous if warm_start else None, workers=workers, stop=stop)
                outcomes[i] = out
                previous = out  # as on Dask: after a point without a plan, the next starts cold
                _log_point(points[i], out)
                bar.update(1)
    return outcomes


def _run_dask(client: Client, inputs: Inputs, arrays: dict[int, CoverageArrays],
              points: list[SweepPoint], chain_list: list[list[int]], scenarios: list[Scenario],
              *, warm_start: bool, workers: int | None, retries: int,
              progress: bool, stop: threading.Event | None) -> list[PointOutcome]:
    from distributed import wait
    from tqdm.auto import tqdm

    token = uuid.uuid4().hex[:8]
    inputs_f = client.scatter(inputs, broadcast=True, hash=False)
    arrays_f = {g: client.scatter(a, broadcast=True, hash=False) for g, a in arrays.items()}
    futures: dict[Any, int] = {}
    try:
        for chain in chain_list:
            previous = None
            for i in chain:
                fut = client.submit(
                    _solve_task, inputs_f, arrays_f[points[i].group], scenarios[i],
                    previous if warm_start else None, workers,
                    key=f"hz-sweep-{token}-p{i}", retries=retries, pure=False,
                )
                futures[fut] = i
                previous = fut
        outcomes = [PointOutcome(None, ran=False) for _ in points]
        remaining = set(futures)
        with tqdm(total=len(points), desc="sweep", unit="point", disable=not progress) as bar:
            while remaining and not (stop is not None and stop.is_set()):
                try:
                    done, _ = wait(list(remaining), timeout=_POLL_S, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    continue
                for fut in sorted(done, key=lambda f: futures[f]):
                    i = futures[fut]
                    outcomes[i] = fut.result()
                    remaining.discard(fut)
                    _log_point(points[i], outcomes[i])
                    bar.update(1)
    finally:
        client.cancel(list(futures) + [inputs_f, *arrays_f.values()])
    return outcomes


def _solve_task(inputs: Inputs, coverage: CoverageArrays, scenario: Scenario,
                previous: PointOutcome | None, workers: int | None) -> PointOutcome:
    # ``workers`` passes positionally: as a keyword, ``Client.submit`` would read it as
    # the Dask workers the task may run on
    return solve_point(inputs, coverage, scenario, previous, workers=workers)


def _log_point(point: SweepPoint, out: PointOutcome | None) -> None:
    if out is None:
        return
    r = out.result
    if r is None:
        logger.warning("sweep point %d %s failed: %s", point.index, point.values, out.message)
    else:
        logger.info("sweep point %d %s: %s, objective %.6g, gap %.4g (%s, %.1f s)", point.index,
                    point.values, r.status, r.objective, r.gap, out.start, out.wall_s)


#: Columns of the sweep table besides the varied parameters (``map`` only when
#: maps are drawn); ``--x`` and ``--y`` are checked against them before solving.
RESULT_COLUMNS: tuple[str, ...] = (
    "point", "status", "objective", "bound", "gap", "covered_weight", "covered_share",
    "bound_share", "area_m2", "n_sites", "rent_usd_year", "wall_s", "coverage_group", "chain",
    "start", "message", "map",
)


def _table(points: list[SweepPoint], outcomes: list[PointOutcome],
           values: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for p, out in zip(points, outcomes, strict=True):
        row: dict[str, Any] = {"point": p.index}
        row.update({k: _display(p.values[k]) for k in values})
        r = out.result
        solved = r is not None and r.has_solution
        total = out.total_weight
        covered = float(sp.csr_matrix(r.served).sum()) if solved and r is not None else np.nan
        area = np.asarray(r.area_m2, dtype=float) if solved and r is not None else None
        bound = float(r.bound) if r is not None else np.nan
        row.update({
            "status": r.status if r is not None else ("error" if out.ran else "not run"),
            "objective": float(r.objective) if solved and r is not None else np.nan,
            "bound": bound,
            "gap": float(r.gap) if solved and r is not None else np.nan,
            "covered_weight": covered,
            "covered_share": covered / total if total > 0 else np.nan,
            "bound_share": bound / total if total > 0 else np.nan,
            "area_m2": float(area.sum()) if area is not None else np.nan,
            "n_sites": int((area > 0).sum()) if area is not None else 0,
            "rent_usd_year": out.rent_usd_year,
            "wall_s": out.wall_s,
            "coverage_group": p.group,
            "chain": p.chain,
            "start": out.start,
            "message": out.message,
        })
        rows.append(row)
    return pd.DataFrame(rows)


def _write_maps(maps_dir: str | Path, scenario: Scenario, scenarios: list[Scenario],
                points: list[SweepPoint], outcomes: list[PointOutcome], inputs: Inputs,
                arrays: dict[int, CoverageArrays], coverages: dict[int, Any]) -> list[str | None]:
    from hzlogistics.plan import make_plan

    out_dir = Path(maps_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[str | None] = []
    for p, sc, out in zip(points, scenarios, outcomes, strict=True):
        r = out.result
        if r is None or not r.has_solution:
            paths.append(None)
            continue
        problem = build_problem(sc, inputs, arrays[p.group])  # type: ignore[arg-type]
        label = ", ".join(f"{k} {_display(v)}" for k, v in p.values.items())
        plan = make_plan(r, problem, inputs.demand, inputs.sites, inputs.countries,
                         coverage=coverages[p.group], name=f"{scenario.name}-p{p.index:03d}",
                         title=f"{scenario.title} ({label})", scenario=sc)
        path = out_dir / f"{scenario.name}-p{p.index:03d}.html"
        plan.to_map(path)
        paths.append(path.name)
    return paths


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------
_LABELS: dict[str, str] = {
    "area_budget_m2": "Area budget (m²)",
    "count": "Number of sites",
    "count_min": "Minimum number of sites",
    "count_max": "Maximum number of sites",
    "capacity_per_m2": "Capacity (parcels/day per m²)",
    "rent_cap_usd_year": "Rent cap (USD/year)",
    "covered_share": "Demand covered within the service level",
    "covered_weight": "Demand covered (parcels/day)",
    "objective": "Objective",
    "area_m2": "Floor area used (m²)",
    "n_sites": "Open sites",
    "rent_usd_year": "Rent (USD/year)",
    "wall_s": "Wall time (s)",
    "gap": "Relative gap",
}
_BOUND_OF: dict[str, str] = {"objective": "bound", "covered_share": "bound_share"}
_SHARES = ("covered_share", "bound_share", "gap")


def _series(df: pd.DataFrame, x: str) -> list[tuple[str, pd.DataFrame]]:
    """Split the rows into one curve per combination of the other varied values."""
    vary = [k for k in df.attrs.get("vary", []) if k in df.columns and k != x]
    vary = [k for k in vary if df[k].nunique(dropna=False) > 1]
    if not vary:
        return [("", df)]
    out = []
    for key, part in df.groupby(vary, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        out.append((", ".join(f"{k} {v}" for k, v in zip(vary, key, strict=True)), part))
    return out


def _default_x(df: pd.DataFrame) -> str:
    vary = [k for k in df.attrs.get("vary", []) if k in df.columns]
    for k in vary:
        if pd.api.types.is_numeric_dtype(df[k]) and df[k].nunique() > 1:
            return k
    return vary[0] if vary else "point"


def write_sweep(
    df: pd.DataFrame,
    out_dir: str | Path,
    *,
    x: str | None = None,
    y: str = "covered_share",
    name: str = "sweep",
) -> dict[str, Path]:
    """Write a sweep's table and its trade-off curve (PNG and HTML).

    Every file is written to a temporary name and moved into place, so a
    reader never sees half a file.

    Parameters
    ----------
    df
        A table from :func:`sweep`.
    out_dir
        Folder to write to (created if needed).
    x
        Column on the horizontal axis (default: the first numeric varied
        parameter, e.g. ``area_budget_m2``).
    y
        Column on the vertical axis (default ``covered_share``); for
        ``covered_share`` and ``objective`` the solver's bound is drawn dashed.
        Each combination of the other varied parameters is a curve.
    name
        Stem of the file names.

    Returns
    -------
    dict
        ``{"csv": ..., "png": ..., "html": ...}`` paths.

    Raises
    ------
    ValidationError
        If ``x`` or ``y`` is not a column of ``df``.
    MissingDependencyError
        If matplotlib (for the PNG) is not installed.
    """
    x = x or _default_x(df)
    bad = [f"{label} '{c}'" for label, c in (("x", x), ("y", y)) if c not in df.columns]
    if bad:
        raise ValidationError(f"write_sweep: no column {' or '.join(bad)}; columns: "
                              f"{', '.join(map(str, df.columns))}")
    out = Path(out_dir)
    paths = {"csv": out / f"{name}.csv", "png": out / f"{name}.png", "html": out / f"{name}.html"}
    write_atomic(paths["csv"], df.to_csv(index=False))
    write_atomic(paths["png"], _png(df, x, y))
    write_atomic(paths["html"], _html(df, x, y))
    return paths


def _png(df: pd.DataFrame, x: str, y: str) -> bytes:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter, PercentFormatter
    except ImportError as exc:
        raise MissingDependencyError(
            "the sweep plot needs matplotlib: pip install matplotlib"
        ) from exc
    fig = Figure(figsize=(8, 5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bound_col = _BOUND_OF.get(y)
    for k, (label, part) in enumerate(_series(df, x)):
        part = part.sort_values(x) if pd.api.types.is_numeric_dtype(part[x]) else part
        color = f"C{k % 10}"
        ok = part[y].notna()
        ax.plot(part.loc[ok, x], part.loc[ok, y], "o-", color=color, label=label or y)
        if bound_col and part[bound_col].notna().any():
            b = part[bound_col].notna()
            ax.plot(part.loc[b, x], part.loc[b, bound_col], "--", color=color, alpha=0.6,
                    label=f"{label + ': ' if label else ''}proven bound")
    if pd.api.types.is_numeric_dtype(df[x]) and df[x].abs().max() >= 1_000:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(_LABELS.get(x, x))
    ax.set_ylabel(_LABELS.get(y, y))
    if y in _SHARES:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    title = df.attrs.get("scenario")
    if title:
        ax.set_title(f"{title}: {_LABELS.get(y, y).lower()} vs {_LABELS.get(x, x).lower()}")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    if not np.isfinite(lo) or not np.isfinite(hi):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + k * step, 12) for k in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, float | np.floating):
        if column in _SHARES:
            return f"{value:.2%}"
        number = float(value)
        return f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.3g}"
    return str(value)


def _html(df: pd.DataFrame, x: str, y: str) -> str:
    """A self-contained HTML page: the trade-off curve as inline SVG, and the table."""
    width, height = 820, 460
    left, right, top, bottom = 90, 220, 30, 60
    pw, ph = width - left - right, height - top - bottom
    numeric_x = pd.api.types.is_numeric_dtype(df[x])
    cats = list(dict.fromkeys(df[x].tolist())) if not numeric_x else []
    xs = (df[x].astype(float) if numeric_x else df[x].map({c: k for k, c in enumerate(cats)}))
    bound_col = _BOUND_OF.get(y)
    ys = [df[y]] + ([df[bound_col]] if bound_col else [])
    yvals = pd.concat(ys).astype(float)
    yvals = yvals[np.isfinite(yvals)]
    x_lo, x_hi = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    y_lo, y_hi = (float(yvals.min()), float(yvals.max())) if len(yvals) else (0.0, 1.0)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    pad = (y_hi - y_lo) * 0.08 or max(abs(y_hi) * 0.05, 1e-3)
    y_lo, y_hi = y_lo - pad, y_hi + pad

    def px(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * pw

    def py(v: float) -> float:
        return top + (1 - (v - y_lo) / (y_hi - y_lo)) * ph

    e = html.escape
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(_LABELS.get(y, y))}">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>']
    for t in _nice_ticks(y_lo, y_hi):
        svg.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                   'stroke="#e5e5e5"/>')
        svg.append(f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">'
                   f'{e(_fmt(float(t), y))}</text>')
    xticks = _nice_ticks(x_lo, x_hi) if numeric_x else list(range(len(cats)))
    for t in xticks:
        label = _fmt(float(t), x) if numeric_x else str(cats[int(t)])
        svg.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{top + ph}" '
                   'stroke="#f0f0f0"/>')
        svg.append(f'<text x="{px(t):.1f}" y="{top + ph + 18}" text-anchor="middle">'
                   f'{e(label)}</text>')
    svg.append(f'<text x="{left + pw / 2}" y="{height - 15}" text-anchor="middle">'
               f'{e(_LABELS.get(x, x))}</text>')
    svg.append(f'<text transform="translate(18 {top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{e(_LABELS.get(y, y))}</text>')
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf")
    for k, (label, part) in enumerate(_series(df, x)):
        color = palette[k % len(palette)]
        order = part.index[np.argsort(xs.loc[part.index].to_numpy(), kind="stable")]
        part = part.loc[order]
        pts = [(px(float(xs[i])), py(float(part.at[i, y])), i) for i in part.index
               if np.isfinite(float(part.at[i, y]))]
        if bound_col:
            bpts = [f"{px(float(xs[i])):.1f},{py(float(part.at[i, bound_col])):.1f}"
                    for i in part.index if np.isfinite(float(part.at[i, bound_col]))]
            if bpts:
                svg.append(f'<polyline points="{" ".join(bpts)}" fill="none" stroke="{color}" '
                           'stroke-dasharray="5 4" opacity="0.6"/>')
        if pts:
            svg.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b, _ in pts)}" '
                       f'fill="none" stroke="{color}" stroke-width="2"/>')
        for a, b, i in pts:
            tip = "\n".join(f"{c}: {_fmt(part.at[i, c], c)}" for c in part.columns
                            if c not in ("message", "map") and _fmt(part.at[i, c], c) != "")
            svg.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{color}">'
                       f'<title>{e(tip)}</title></circle>')
        ly = top + 14 + 34 * k
        svg.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly}" y2="{ly}" '
                   f'stroke="{color}" stroke-width="2"/>')
        svg.append(f'<text x="{left + pw + 42}" y="{ly + 4}">{e(label or _LABELS.get(y, y))}'
                   '</text>')
        if bound_col:
            svg.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly + 14}" '
                       f'y2="{ly + 14}" stroke="{color}" stroke-dasharray="5 4"/>')
            svg.append(f'<text x="{left + pw + 42}" y="{ly + 18}">proven bound</text>')
    svg.append("</svg>")
    cols = [c for c in df.columns if c not in ("message",)]
    head = "".join(f"<th>{e(str(c))}</th>" for c in cols)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(_fmt(row[c], c))}</td>" for c in cols) + "</tr>"
        for _, row in df.iterrows()
    )
    title = e(f"Sweep: {df.attrs.get('scenario', '')}".rstrip(": "))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
        "svg text{font-size:12px;fill:#333}"
        "table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}"
        "th{background:#f4f4f4}</style></head><body>"
        f"<h1>{title}</h1>\n" + "\n".join(svg) + "\n"
        f"<h2>Points</h2><table><thead><tr>{head}</tr></thead><tbody>\n{body}\n"
        "</tbody></table></body></html>\n"
    )


__all__ = [
    "RESULT_COLUMNS",
    "SWEEP_ALIASES",
    "SWEEP_PARAMETERS",
    "CoverageArrays",
    "PointOutcome",
    "SweepParameter",
    "SweepPoint",
    "adapt_hint",
    "apply_values",
    "dask_client",
    "dask_map",
    "normalize_vary",
    "parse_vary",
    "plan_points",
    "plan_violations",
    "solve_point",
    "sweep",
    "sweep_parameter",
    "write_sweep",
]
