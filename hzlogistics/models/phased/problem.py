"""The multi-period siting problem as arrays, its checks and its result.

A :class:`PhasedProblem` is one base
:class:`~hzlogistics.solvers.problem.SitingProblem` (candidates, tiers,
capacity, quotas, existing sites) plus, for every year of the horizon, a
cumulative area budget, a range of open sites, the demand weights and
optionally the most sites that may open that year. A roll-out is an
``(n_years, n_sites)`` array of areas (0 = closed) whose rows nest: a site
that opens stays open and its area never falls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import SitingProblem, Status
from hzlogistics.solvers.sites import SiteTable, plan_violations, site_table

#: Relative tolerance when comparing areas of two years.
AREA_TOL = 1e-9

#: Fields of :class:`SitingProblem` that hold one row or value per site.
SITE_ARRAYS: tuple[str, ...] = ("max_area_m2", "existing_area_m2", "forbidden",
                                "rent_usd_m2_year", "group", "site_ids",
                                "fixed_cost_usd_year", "site_capacity")

#: Fields of :class:`SitingProblem` that are ``(n_sites, n_demand)`` matrices.
SITE_MATRICES: tuple[str, ...] = ("cover", "travel_time_h", "assign_cost")


def _num(x: float) -> str:
    """A number for a message: thousands separators, no useless decimals."""
    if math.isinf(x):
        return "no limit"
    if x == int(x):
        return f"{int(x):,}"
    return f"{x:,.2f}"


@dataclass
class PhasedProblem:
    """A phased roll-out over several years, as arrays.

    Attributes
    ----------
    base
        The siting problem every year shares: candidates, coverage, size
        tiers, capacity, per-group quotas, rent cap and existing sites. Its
        own ``weight``, ``area_budget_m2``, ``count_min`` and ``count_max``
        are replaced year by year.
    years
        ``(n_years,)`` increasing years (e.g. ``[2017, 2018, 2019, 2020]``).
    area_budget_m2
        ``(n_years,)`` cumulative floor area allowed by each year, m²
        (``inf`` = no budget).
    count_min, count_max
        ``(n_years,)`` number of open sites allowed in each year (inclusive;
        ``count_max`` may be ``inf``).
    weight
        ``(n_years, n_demand)`` parcels/day of each demand point in each year
        (see :func:`growth_weights`).
    max_openings
        ``(n_years,)`` most sites that may open in each year (``inf`` = any);
        in the first year, the sites open besides the existing ones. ``None``:
        no such limit.
    discount
        Yearly discount rate ``r``: year ``t`` counts ``(1 + r) ** -(t - t0)``.
    """

    base: SitingProblem
    years: np.ndarray
    area_budget_m2: np.ndarray
    count_min: np.ndarray
    count_max: np.ndarray
    weight: np.ndarray
    max_openings: np.ndarray | None = None
    discount: float = 0.0

    @property
    def n_years(self) -> int:
        """Number of years."""
        return int(np.asarray(self.years).shape[0])

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return self.base.n_sites

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return self.base.n_demand

    def discount_factors(self) -> np.ndarray:
        """``(n_years,)`` weight of each year in the objective."""
        years = np.asarray(self.years, dtype=float)
        return (1.0 + float(self.discount)) ** -(years - years[0])

    def year_label(self, t: int) -> str:
        """The year ``t`` as written in messages."""
        return str(int(np.asarray(self.years)[t]))


def growth_weights(weight: np.ndarray, years: np.ndarray | list[int], rate: float | np.ndarray,
                   *, demand_group: np.ndarray | None = None,
                   base_year: int | None = None) -> np.ndarray:
    """Demand weights per year from one year's weights and a yearly growth rate.

    Parameters
    ----------
    weight
        ``(n_demand,)`` parcels/day in ``base_year``.
    years
        The years of the horizon.
    rate
        Yearly growth rate (0.25 = +25 % a year), one for all demand points or
        ``(n_groups,)`` one per group (country), read through ``demand_group``.
    demand_group
        ``(n_demand,)`` group of each demand point (needed with a rate per group;
        a point of group -1 takes the rate 0).
    base_year
        The year ``weight`` belongs to (default: the last year, so earlier
        years have less demand).

    Returns
    -------
    numpy.ndarray
        ``(n_years, n_demand)``: ``weight * (1 + rate) ** (year - base_year)``.

    Examples
    --------
    >>> growth_weights(np.array([100.0, 200.0]), [2019, 2020], 0.25).tolist()
    [[80.0, 160.0], [100.0, 200.0]]
    >>> growth_weights(np.array([100.0, 100.0]), [2019, 2020], np.array([0.0, 1.0]),
    ...                demand_group=np.array([0, 1])).tolist()
    [[100.0, 50.0], [100.0, 100.0]]
    """
    w = np.asarray(weight, dtype=float)
    yrs = np.asarray(years, dtype=float)
    r = np.asarray(rate, dtype=float)
    problems: list[str] = []
    if r.ndim == 0:
        per_point = np.full(w.shape, float(r))
    elif demand_group is None:
        raise ValidationError("growth rate per group needs demand_group")
    else:
        g = np.asarray(demand_group, dtype=np.int64)
        if g.shape != w.shape:
            problems.append(f"demand_group: shape {g.shape}, expected {w.shape}")
            g = np.zeros(w.shape, dtype=np.int64)
        if g.size and g.max() >= r.shape[0]:
            problems.append(f"growth rate: {r.shape[0]} rates for groups up to {int(g.max())}")
            g = np.minimum(g, r.shape[0] - 1)
        per_point = np.where(g >= 0, r[np.maximum(g, 0)], 0.0)
    if not np.all(np.isfinite(per_point)) or np.any(per_point <= -1):
        problems.append("growth rate: expected finite rates > -1 (e.g. 0.25 for +25 % a year)")
    if problems:
        raise ValidationError(problems)
    ref = float(yrs[-1]) if base_year is None else float(base_year)
    return w[None, :] * (1.0 + per_point[None, :]) ** (yrs[:, None] - ref)


def phased_problem(base: SitingProblem, years: np.ndarray | list[int], *,
                   area_budget_m2: np.ndarray | list[float],
                   count: np.ndarray | list[tuple[int, float]] | None = None,
                   weight: np.ndarray | None = None, growth: float | np.ndarray = 0.0,
                   max_openings: np.ndarray | list[float] | None = None,
                   discount: float = 0.0) -> PhasedProblem:
    """Build a :class:`PhasedProblem` from a base problem and per-year limits.

    Parameters
    ----------
    base
        The shared siting problem (its weight is the demand of the last year
        unless ``weight`` is given).
    years
        The years of the horizon.
    area_budget_m2
        Cumulative area budget of each year.
    count
        ``(lo, hi)`` per year (default: the base's range every year).
    weight
        ``(n_years, n_demand)`` demand per year; by default
        :func:`growth_weights` of the base's weight at ``growth``.
    growth
        Yearly demand growth (one rate, or one per group of ``base.demand_group``).
    max_openings
        Most openings per year (``None`` = no limit).
    discount
        Yearly discount rate.

    Returns
    -------
    PhasedProblem
    """
    yrs = np.asarray(years, dtype=np.int64)
    n = yrs.shape[0]
    if count is None:
        hi0 = math.inf if base.count_max is None else float(base.count_max)
        rng = np.array([[base.count_min, hi0]] * n, dtype=float)
    else:
        rng = np.asarray(count, dtype=float).reshape(-1, 2)
    if weight is None:
        weight = growth_weights(base.weight, yrs, growth, demand_group=base.demand_group)
    return PhasedProblem(
        base=base, years=yrs, area_budget_m2=np.asarray(area_budget_m2, dtype=float),
        count_min=rng[:, 0].astype(np.int64), count_max=rng[:, 1],
        weight=np.asarray(weight, dtype=float),
        max_openings=None if max_openings is None else np.asarray(max_openings, dtype=float),
        discount=float(discount))


def validate_phased(phased: PhasedProblem) -> None:
    """Check the shapes and values of a phased problem; raise once with every problem.

    Raises
    ------
    ValidationError
        Listing every malformed field and what would be valid.
    """
    problems: list[str] = []
    yrs = np.asarray(phased.years)
    n = yrs.shape[0] if yrs.ndim == 1 else 0
    if yrs.ndim != 1 or n == 0:
        problems.append(f"PhasedProblem.years: shape {yrs.shape}; expected at least one year")
    elif np.any(np.diff(yrs.astype(float)) <= 0):
        problems.append(f"PhasedProblem.years: {yrs.tolist()}; expected strictly increasing")
    for name in ("area_budget_m2", "count_min", "count_max", "max_openings"):
        arr = getattr(phased, name)
        if arr is None:
            continue
        a = np.asarray(arr, dtype=float)
        if a.shape != (n,):
            problems.append(f"PhasedProblem.{name}: shape {a.shape}, expected ({n},) "
                            "(one per year)")
        elif np.any(np.isnan(a)) or np.any(a < 0):
            problems.append(f"PhasedProblem.{name}: {a.tolist()}; expected values >= 0 "
                            "(inf for no limit)")
        elif name == "count_min" and not np.all(np.isfinite(a)):
            problems.append("PhasedProblem.count_min: expected finite counts")
    w = np.asarray(phased.weight, dtype=float)
    m = phased.base.n_demand
    if w.shape != (n, m):
        problems.append(f"PhasedProblem.weight: shape {w.shape}, expected ({n}, {m}) "
                        "(one row of demand per year)")
    elif not np.all(np.isfinite(w)) or np.any(w < 0):
        problems.append("PhasedProblem.weight: expected finite parcels/day >= 0")
    r = float(phased.discount)
    if not (math.isfinite(r) and r > -1):
        problems.append(f"PhasedProblem.discount: {r}; expected a rate > -1 (0.05 = 5 %/year)")
    if problems:
        raise ValidationError(problems)


@dataclass
class Limits:
    """Each year's limits after what the years imply for one another.

    A site that opens stays open and never shrinks, so a year's count and
    area may not exceed any later year's maxima, nor fall below any earlier
    year's minima; with a most-openings limit, a year's count is also at most
    the previous year's plus the openings allowed.

    Attributes
    ----------
    count_min, count_max
        ``(n_years,)`` int.
    area_budget_m2
        ``(n_years,)`` float (``inf`` = none).
    """

    count_min: np.ndarray
    count_max: np.ndarray
    area_budget_m2: np.ndarray


def effective_limits(phased: PhasedProblem) -> Limits:
    """The tightest per-year limits the years imply for one another.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> base = SitingProblem(weight=np.ones(1), cover=sp.csr_matrix(np.ones((5, 1))))
    >>> ph = PhasedProblem(base, np.array([1, 2]), np.array([900., 500.]), np.array([1, 3]),
    ...                    np.array([4., 3.]), np.ones((2, 1)), max_openings=np.array([9., 1.]))
    >>> lim = effective_limits(ph)
    >>> lim.count_min.tolist(), lim.count_max.tolist(), lim.area_budget_m2.tolist()
    ([2, 3], [3, 3], [500.0, 500.0])
    """
    n_sites = phased.n_sites
    n = phased.n_years
    table = site_table(phased.base)
    n_forced = int(table.forced.sum())
    cmin = np.maximum(np.asarray(phased.count_min, dtype=np.int64), n_forced)
    cmax_f = np.minimum(np.asarray(phased.count_max, dtype=float), n_sites)
    cmax = cmax_f.astype(np.int64)
    budget = np.asarray(phased.area_budget_m2, dtype=float).copy()
    opens = (np.full(n, np.inf) if phased.max_openings is None
             else np.asarray(phased.max_openings, dtype=float))
    for _ in range(2 * n + 2):
        before = (cmin.copy(), cmax.copy())
        for t in range(n):
            prev_max = n_forced if t == 0 else cmax[t - 1]
            if math.isfinite(opens[t]):
                cmax[t] = min(cmax[t], prev_max + int(opens[t]))
            if t > 0:
                cmin[t] = max(cmin[t], cmin[t - 1])
        for t in range(n - 1, -1, -1):
            if t + 1 < n:
                cmax[t] = min(cmax[t], cmax[t + 1])
                if math.isfinite(opens[t + 1]):
                    cmin[t] = max(cmin[t], cmin[t + 1] - int(opens[t + 1]))
        if np.array_equal(before[0], cmin) and np.array_equal(before[1], cmax):
            break
    for t in range(n - 2, -1, -1):
        budget[t] = min(budget[t], budget[t + 1])
    return Limits(count_min=cmin, count_max=cmax, area_budget_m2=budget)


def _least_area(table: SiteTable, count: int) -> tuple[float, int, float]:
    """Least area of a plan with ``count`` sites: (area, new sites needed, their area)."""
    forced = table.forced
    existing = float(table.existing_m2[forced].sum())
    need = max(0, count - int(forced.sum()))
    mins = table.min_area_m2[table.can_open & ~forced]
    if need > mins.size:
        return math.inf, need, math.inf
    extra = float(np.sort(mins)[:need].sum())
    return existing + extra, need, extra


def phasing_conflicts(phased: PhasedProblem) -> list[str]:
    """The conflicts between the years' limits, each stated with its numbers.

    Checks every year on its own (count range, existing sites against the
    count and the budget, the least area of the year's minimum count against
    its budget) and the years against one another: a site that opens stays
    open and never shrinks, so no later year may allow fewer sites or less
    area than an earlier year needs, and most-openings limits may not leave a
    year short of its minimum.

    Returns
    -------
    list of str
        Empty when no conflict was found (a year may still be infeasible for
        its other constraints; the solver reports those).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> base = SitingProblem(weight=np.ones(1), cover=sp.csr_matrix(np.ones((700, 1))),
    ...                      tiers_m2=np.array([100.]), existing_area_m2=np.r_[np.full(13, 200.),
    ...                                                                        np.zeros(687)])
    >>> ph = PhasedProblem(base, np.array([2018]), np.array([50_000.]), np.array([600]),
    ...                    np.array([700.]), np.ones((1, 1)))
    >>> print(phasing_conflicts(ph)[0])
    2018's area budget 50,000 m² cannot hold the 13 existing sites (2,600 m²) plus the 587 more sites of the 2018 minimum of 600 sites at 100 m² each (58,700 m²): 61,300 m² needed
    """  # noqa: E501
    table = site_table(phased.base)
    n = phased.n_years
    out: list[str] = []
    forced = table.forced
    n_forced = int(forced.sum())
    existing = float(table.existing_m2[forced].sum())
    cmin = np.asarray(phased.count_min, dtype=np.int64)
    cmax = np.asarray(phased.count_max, dtype=float)
    budget = np.asarray(phased.area_budget_m2, dtype=float)
    label = phased.year_label
    least = [_least_area(table, max(int(cmin[t]), n_forced)) for t in range(n)]
    smallest_new = table.min_area_m2[table.can_open & ~forced]
    n_new = int(smallest_new.size)
    for t in range(n):
        y = label(t)
        if cmin[t] > cmax[t]:
            out.append(f"{y}'s count_min {cmin[t]:,} > its count_max {_num(cmax[t])}")
        if n_forced > cmax[t]:
            out.append(f"{y}'s count_max {_num(cmax[t])} < the {n_forced} existing sites, "
                       f"which are open from {label(0)}")
        if existing > budget[t] * (1 + AREA_TOL):
            out.append(f"{y}'s area budget {_num(budget[t])} m² < the {_num(existing)} m² of "
                       f"the {n_forced} existing sites, which are open from {label(0)}")
            continue
        area, need, extra = least[t]
        if need > n_new:
            out.append(f"{y}'s minimum of {cmin[t]:,} sites needs {need:,} sites besides the "
                       f"{n_forced} existing ones, but only {n_new:,} candidates may open")
        elif area > budget[t] * (1 + AREA_TOL):
            each = (f"at {_num(float(smallest_new.min()))} m² each"
                    if need and np.ptp(np.sort(smallest_new)[:need]) == 0
                    else "at their smallest sizes")
            out.append(f"{y}'s area budget {_num(budget[t])} m² cannot hold the {n_forced} "
                       f"existing sites ({_num(existing)} m²) plus the {need:,} more sites of "
                       f"the {y} minimum of {cmin[t]:,} sites {each} ({_num(extra)} m²): "
                       f"{_num(area)} m² needed")
    opens = (None if phased.max_openings is None
             else np.asarray(phased.max_openings, dtype=float))
    for t in range(n):
        for s in range(t + 1, n):
            if cmax[s] < cmin[t] and cmin[t] <= cmax[t]:
                out.append(f"{label(s)}'s count_max {_num(cmax[s])} < {label(t)}'s count_min "
                           f"{cmin[t]:,}: a site that opens stays open")
                break
        for s in range(t + 1, n):
            area = least[t][0]
            if math.isfinite(area) and area <= budget[t] * (1 + AREA_TOL) \
                    and budget[s] < area * (1 - AREA_TOL):
                out.append(f"{label(s)}'s area budget {_num(budget[s])} m² < the {_num(area)} m² "
                           f"that {label(t)} needs at least for its minimum of "
                           f"{max(int(cmin[t]), n_forced):,} sites: floor area that opens "
                           "stays open")
                break
    if opens is not None:
        most = float(n_forced)
        for t in range(n):
            prev = most
            most = min(most + opens[t], float(min(cmax[t], table.n_sites)))
            if cmin[t] > most:
                before = (f"the {n_forced} existing sites" if t == 0
                          else f"at most {_num(prev)} sites by {label(t - 1)}")
                out.append(f"{label(t)}'s minimum of {cmin[t]:,} sites cannot be reached: "
                           f"{before} plus at most {_num(opens[t])} openings in {label(t)} "
                           f"give {_num(most)}")
                break
    return out


def restrict_sites(problem: SitingProblem, keep: np.ndarray) -> SitingProblem:
    """The same problem on a subset of the candidate sites (quotas and budgets unchanged).

    Parameters
    ----------
    problem
        The siting problem.
    keep
        ``(n_sites,)`` bool mask of the sites to keep.
    """
    keep = np.asarray(keep, dtype=bool)
    changes: dict[str, object] = {}
    for name in SITE_ARRAYS:
        arr = getattr(problem, name, None)
        if arr is not None:
            changes[name] = np.asarray(arr)[keep]
    for name in SITE_MATRICES:
        mat = getattr(problem, name, None)
        if mat is not None:
            changes[name] = sp.csr_matrix(mat)[keep]
    if problem.site_ids is None:
        changes["site_ids"] = np.flatnonzero(keep)
    return replace(problem, **changes)  # type: ignore[arg-type]


def year_problem(phased: PhasedProblem, t: int, *, limits: Limits | None = None,
                 lower: np.ndarray | None = None,
                 upper: np.ndarray | None = None) -> tuple[SitingProblem, np.ndarray]:
    """The single-period problem of year ``t``, optionally nested between two plans.

    Parameters
    ----------
    phased
        The phased problem.
    t
        Index of the year.
    limits
        The effective limits (default: :func:`effective_limits`).
    lower
        ``(n_sites,)`` areas of the previous year's plan: those sites stay open
        with at least that area (and the year's openings are counted from it).
    upper
        ``(n_sites,)`` areas of the next year's plan: no other site may open and
        none may be larger (and the next year's openings are counted from it).

    Returns
    -------
    problem : SitingProblem
        Year ``t``'s problem, restricted to the sites that may open.
    sites : numpy.ndarray
        Index in ``phased.base`` of each of its sites.
    """
    lim = limits or effective_limits(phased)
    base = phased.base
    n = base.n_sites
    opens = (None if phased.max_openings is None
             else np.asarray(phased.max_openings, dtype=float))
    existing = (np.zeros(n) if base.existing_area_m2 is None
                else np.asarray(base.existing_area_m2, dtype=float))
    max_area = (np.full(n, np.inf) if base.max_area_m2 is None
                else np.asarray(base.max_area_m2, dtype=float))
    forbidden = (np.zeros(n, dtype=bool) if base.forbidden is None
                 else np.asarray(base.forbidden, dtype=bool))
    cmin = int(lim.count_min[t])
    cmax = int(lim.count_max[t])
    if lower is not None:
        low = np.asarray(lower, dtype=float)
        existing = np.maximum(existing, low)
        if opens is not None and math.isfinite(opens[t]) and t > 0:
            cmax = min(cmax, int((low > 0).sum() + opens[t]))
    if upper is not None:
        up = np.asarray(upper, dtype=float)
        forbidden = forbidden | (up <= 0)
        max_area = np.minimum(max_area, np.where(up > 0, up * (1 + AREA_TOL), np.inf))
        if opens is not None and t + 1 < phased.n_years and math.isfinite(opens[t + 1]):
            cmin = max(cmin, int((up > 0).sum() - opens[t + 1]))
    problem = replace(base, weight=np.asarray(phased.weight, dtype=float)[t],
                      area_budget_m2=(None if math.isinf(lim.area_budget_m2[t])
                                      else float(lim.area_budget_m2[t])),
                      count_min=cmin, count_max=cmax, existing_area_m2=existing,
                      max_area_m2=max_area, forbidden=forbidden)
    keep = ~forbidden
    if keep.all():
        return problem, np.arange(n)
    return restrict_sites(problem, keep), np.flatnonzero(keep)


def rollout_violations(phased: PhasedProblem, area_m2: np.ndarray) -> list[str]:
    """Every constraint a roll-out breaks, each with its numbers.

    Parameters
    ----------
    phased
        The phased problem.
    area_m2
        ``(n_years, n_sites)`` areas (0 = closed).

    Returns
    -------
    list of str
        Empty when the roll-out is feasible: the years nest, each year's plan
        keeps every single-period constraint and the year's own limits, and no
        year opens more sites than allowed.
    """
    a = np.asarray(area_m2, dtype=float)
    n = phased.n_years
    if a.shape != (n, phased.n_sites):
        return [f"roll-out has shape {a.shape}, expected ({n}, {phased.n_sites})"]
    out: list[str] = []
    ids = (np.asarray(phased.base.site_ids) if phased.base.site_ids is not None
           else np.arange(phased.n_sites))
    for t in range(n):
        problem = replace(phased.base,
                          area_budget_m2=(None if math.isinf(phased.area_budget_m2[t])
                                          else float(phased.area_budget_m2[t])),
                          count_min=int(phased.count_min[t]),
                          count_max=(None if math.isinf(phased.count_max[t])
                                     else int(phased.count_max[t])))
        out += [f"{phased.year_label(t)}: {v}" for v in plan_violations(problem, a[t])]
        if t == 0:
            continue
        prev, cur = a[t - 1], a[t]
        for i in np.flatnonzero((prev > 0) & (cur <= 0)):
            out.append(f"site {ids[i]} open in {phased.year_label(t - 1)} is closed in "
                       f"{phased.year_label(t)}")
        for i in np.flatnonzero((cur > 0) & (cur < prev * (1 - AREA_TOL))):
            out.append(f"site {ids[i]} shrinks from {_num(prev[i])} m² in "
                       f"{phased.year_label(t - 1)} to {_num(cur[i])} m² in "
                       f"{phased.year_label(t)}")
    if phased.max_openings is not None:
        opened = np.asarray(phased.base.existing_area_m2 if phased.base.existing_area_m2
                            is not None else np.zeros(phased.n_sites), dtype=float) > 0
        for t in range(n):
            new = int(((a[t] > 0) & ~opened).sum())
            if new > phased.max_openings[t]:
                out.append(f"{phased.year_label(t)}: {new} sites opened > most openings "
                           f"{_num(float(phased.max_openings[t]))}")
            opened = opened | (a[t] > 0)
    return out


Method = Literal["auto", "decompose", "mip"]


@dataclass
class PhasedResult:
    """The outcome of a phased solve.

    Attributes
    ----------
    status
        As for one-period plans: ``"optimal"`` (gap target reached),
        ``"feasible"``, ``"interrupted"`` (stopped, with the best roll-out),
        ``"infeasible"`` (with ``reasons``) or ``"error"``.
    years
        ``(n_years,)``.
    area_m2
        ``(n_years, n_sites)`` area of every site in every year (0 = closed).
    year_objective
        ``(n_years,)`` value-weighted parcels/day served within the service
        level in each year (undiscounted).
    covered_weight
        ``(n_years,)`` parcels/day served in each year.
    total_weight
        ``(n_years,)`` parcels/day of demand in each year.
    discount_factor
        ``(n_years,)`` weight of each year in the objective.
    objective
        ``sum(discount_factor * year_objective)``.
    bound
        Proven upper bound on the best roll-out's objective.
    gap
        Relative gap between ``objective`` and ``bound``.
    wall_s
        Wall time, seconds.
    served
        Per year, ``(n_sites, n_demand)`` CSR of parcels/day each site serves
        each demand point (empty list without a roll-out).
    log
        ``[(elapsed_s, incumbent, bound), ...]``.
    reasons
        For ``"infeasible"`` / ``"error"``: what conflicts, with numbers.
    method
        How the roll-out was found (``"forward"``, ``"backward"``, ``"sweep"``, ``"mip"``).
    info
        Stage timings and values.
    """

    status: Status
    years: np.ndarray
    area_m2: np.ndarray
    year_objective: np.ndarray
    covered_weight: np.ndarray
    total_weight: np.ndarray
    discount_factor: np.ndarray
    objective: float
    bound: float
    gap: float
    wall_s: float
    served: list[sp.csr_matrix] = field(default_factory=list)
    log: list[tuple[float, float, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    method: str = ""
    info: dict[str, object] = field(default_factory=dict)

    @property
    def has_solution(self) -> bool:
        """Whether a feasible roll-out is available."""
        return self.status in ("optimal", "feasible", "interrupted")

    @property
    def open(self) -> np.ndarray:
        """``(n_years, n_sites)`` bool: whether each site is open in each year."""
        return np.asarray(self.area_m2) > 0

    @property
    def open_year(self) -> np.ndarray:
        """``(n_sites,)`` first year each site is open (-1: never)."""
        is_open = self.open
        first = np.argmax(is_open, axis=0) if is_open.size else np.zeros(0, dtype=np.int64)
        years = np.asarray(self.years, dtype=np.int64)
        return np.where(is_open.any(axis=0), years[first] if years.size else -1, -1)

    @property
    def covered_share(self) -> np.ndarray:
        """``(n_years,)`` share of each year's demand served."""
        return np.asarray(self.covered_weight) / np.maximum(np.asarray(self.total_weight),
                                                           1e-300)
