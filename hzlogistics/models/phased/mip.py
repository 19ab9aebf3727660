"""The whole multi-period model as one MIP (by :class:`~hzlogistics.solvers.mip.Mip`), and values.

:func:`solve_phased_mip` states every year, the nesting between years and the
objective summed over the years in one model. It is exact and meant for small
instances (a few hundred sites and classes); :func:`evaluate_rollout` gives
the value of a roll-out year by year with an exact transport LP.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.phased.problem import (
    PhasedProblem,
    PhasedResult,
    effective_limits,
    phasing_conflicts,
    rollout_violations,
    validate_phased,
)
from hzlogistics.solvers.mip import Mip
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, Status, relative_gap
from hzlogistics.solvers.sites import SiteTable, site_table
from hzlogistics.solvers.track import Tracker, stop_requested


@dataclass
class YearClasses:
    """Demand points merged into classes with identical covering sites and value.

    Attributes
    ----------
    cover
        ``(n_sites, n_classes)`` bool CSR.
    weight
        ``(n_years, n_classes)`` parcels/day of each class in each year.
    value
        ``(n_classes,)``.
    """

    cover: sp.csr_matrix
    weight: np.ndarray
    value: np.ndarray


def year_classes(phased: PhasedProblem) -> YearClasses:
    """Merge the demand points of ``phased`` into classes (weights summed per year)."""
    base = phased.base
    value = (np.ones(base.n_demand) if base.value is None
             else np.asarray(base.value, dtype=float))
    w = np.asarray(phased.weight, dtype=float)
    csc = sp.csc_matrix(base.cover != 0)
    csc.sort_indices()
    keys: dict[tuple[float, bytes], int] = {}
    label = np.full(base.n_demand, -1, dtype=np.int64)
    for j in range(base.n_demand):
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        if rows.size == 0 or value[j] <= 0 or not np.any(w[:, j] > 0):
            continue
        label[j] = keys.setdefault((float(value[j]), rows.tobytes()), len(keys))
    k = len(keys)
    kept = np.flatnonzero(label >= 0)
    pick = sp.csr_matrix((np.ones(kept.size), (kept, label[kept])), shape=(base.n_demand, k))
    cover = sp.csr_matrix((csc @ pick) > 0)
    weight = np.asarray(w @ pick)
    val = np.zeros(k)
    val[label[kept]] = value[kept]
    return YearClasses(cover=cover, weight=weight, value=val)


def site_capacity(problem: SitingProblem, area_m2: np.ndarray) -> np.ndarray:
    """Parcels/day each site handles at ``area_m2`` (``inf`` without capacity, 0 when closed)."""
    a = np.asarray(area_m2, dtype=float)
    cap = (a * float(problem.capacity_per_m2) if problem.capacity_per_m2 is not None
           else np.full(a.shape, np.inf))
    if problem.site_capacity is not None:
        cap = np.minimum(cap, np.asarray(problem.site_capacity, dtype=float))
    return np.where(a > 0, cap, 0.0)


def evaluate_year(problem: SitingProblem, weight: np.ndarray,
                  area_m2: np.ndarray) -> tuple[float, sp.csr_matrix]:
    """Value and served parcels/day of one year's plan (exact transport LP with capacity).

    Parameters
    ----------
    problem
        The siting problem (cover, capacity, value).
    weight
        ``(n_demand,)`` the year's demand.
    area_m2
        ``(n_sites,)`` the plan.

    Returns
    -------
    value : float
        Value-weighted parcels/day served.
    served : scipy.sparse.csr_matrix
        ``(n_sites, n_demand)``.
    """
    from scipy.optimize import linprog

    n, m = problem.n_sites, problem.n_demand
    value = np.ones(m) if problem.value is None else np.asarray(problem.value, dtype=float)
    w = np.asarray(weight, dtype=float)
    a = np.asarray(area_m2, dtype=float)
    cap = site_capacity(problem, a)
    cov = sp.csr_matrix(problem.cover != 0)[np.flatnonzero(a > 0)].tocoo()
    rows = np.flatnonzero(a > 0)[cov.row]
    cols = cov.col
    keep = (w[cols] > 0) & (value[cols] > 0)
    rows, cols = rows[keep], cols[keep]
    if rows.size == 0:
        return 0.0, sp.csr_matrix((n, m))
    if np.all(np.isinf(cap[np.unique(rows)])):
        first = np.ones(cols.size, dtype=bool)
        order = np.lexsort((rows, cols))
        rows, cols = rows[order], cols[order]
        first[1:] = cols[1:] != cols[:-1]
        served = sp.csr_matrix((w[cols[first]], (rows[first], cols[first])), shape=(n, m))
        return float(w[cols[first]] @ value[cols[first]]), served
    e = rows.size
    ucols, cidx = np.unique(cols, return_inverse=True)
    usites, sidx = np.unique(rows, return_inverse=True)
    finite = np.isfinite(cap[usites])
    a_d = sp.csr_matrix((np.ones(e), (cidx, np.arange(e))), shape=(ucols.size, e))
    a_s = sp.csr_matrix((np.ones(e), (sidx, np.arange(e))), shape=(usites.size, e))[finite]
    res = linprog(-value[cols], A_ub=sp.vstack([a_d, a_s]).tocsr(),
                  b_ub=np.r_[w[ucols], cap[usites][finite]], bounds=(0, None), method="highs")
    if res.status != 0:  # pragma: no cover - a transport LP with x = 0 feasible is solvable
        raise RuntimeError(f"transport LP failed: {res.message}")
    x = np.maximum(res.x, 0.0)
    served = sp.csr_matrix((x, (rows, cols)), shape=(n, m))
    served.eliminate_zeros()
    return float(x @ value[cols]), served


def evaluate_rollout(phased: PhasedProblem,
                     area_m2: np.ndarray) -> tuple[np.ndarray, list[sp.csr_matrix]]:
    """Each year's value and served parcels/day of a roll-out.

    Returns
    -------
    values : numpy.ndarray
        ``(n_years,)`` value-weighted parcels/day served (undiscounted).
    served : list of scipy.sparse.csr_matrix
        Per year, ``(n_sites, n_demand)``.
    """
    values = np.zeros(phased.n_years)
    served: list[sp.csr_matrix] = []
    for t in range(phased.n_years):
        values[t], s = evaluate_year(phased.base, phased.weight[t], area_m2[t])
        served.append(s)
    return values, served


def result_of(phased: PhasedProblem, area_m2: np.ndarray, *, status: Status, bound: float,
              t0: float, method: str, log: list[tuple[float, float, float]] | None = None,
              values: np.ndarray | None = None, served: list[sp.csr_matrix] | None = None,
              gap_target: float = 0.0, info: dict[str, object] | None = None) -> PhasedResult:
    """A :class:`PhasedResult` for a feasible roll-out (values computed when not given)."""
    if values is None or served is None:
        values, served = evaluate_rollout(phased, area_m2)
    d = phased.discount_factors()
    objective = float(d @ values)
    bound = max(bound, objective)
    gap = relative_gap(objective, bound)
    if gap <= gap_target + 1e-12 and status != "interrupted":
        status = "optimal"
    return PhasedResult(
        status=status, years=np.asarray(phased.years), area_m2=np.asarray(area_m2, dtype=float),
        year_objective=np.asarray(values, dtype=float),
        covered_weight=np.array([float(s.sum()) for s in served]),
        total_weight=np.asarray(phased.weight, dtype=float).sum(axis=1), discount_factor=d,
        objective=objective, bound=bound, gap=gap, wall_s=time.perf_counter() - t0,
        served=served, log=list(log or []), method=method, info=dict(info or {}))


def empty_result(phased: PhasedProblem, status: Status, t0: float, reasons: list[str],
                 info: dict[str, object] | None = None) -> PhasedResult:
    """A :class:`PhasedResult` without a roll-out."""
    n = phased.n_years
    return PhasedResult(
        status=status, years=np.asarray(phased.years),
        area_m2=np.zeros((n, phased.n_sites)), year_objective=np.full(n, np.nan),
        covered_weight=np.full(n, np.nan),
        total_weight=np.asarray(phased.weight, dtype=float).sum(axis=1),
        discount_factor=phased.discount_factors(), objective=math.nan, bound=math.nan,
        gap=math.inf, wall_s=time.perf_counter() - t0, reasons=reasons, info=dict(info or {}))


def solve_phased_mip(phased: PhasedProblem, options: SolveOptions | None = None, *,
                     hint: np.ndarray | None = None) -> PhasedResult:
    r"""Solve the whole multi-period model as one MIP (exact; for small instances).

    Parameters
    ----------
    phased
        The phased problem.
    options
        Time limit, gap target, threads, seed, stop event.
    hint
        ``(n_years, n_sites)`` a feasible roll-out to start from.

    Returns
    -------
    PhasedResult

    Notes
    -----
    Years :math:`t`, sites :math:`i` with allowed areas :math:`a_{ik}`
    (increasing in :math:`k`), classes :math:`c` of weight :math:`w_{tc}` and
    value :math:`v_c`, discount :math:`d_t = (1+r)^{-(t - t_0)}`.
    :math:`y_{tik} \in \{0, 1\}` site :math:`i` has area :math:`a_{ik}` in
    year :math:`t`, :math:`o_{ti} = \sum_k y_{tik}`. Nesting, for every
    :math:`k`: :math:`\sum_{k' \ge k} y_{tik'} \le \sum_{k' \ge k} y_{t+1,ik'}`
    (a site that has at least area :math:`a_{ik}` keeps it). Each year keeps
    every site-side constraint of the base problem with its own budget and
    count range; openings :math:`\sum_i o_{ti} - o_{t-1,i} \le M_t`. With
    capacity, flows :math:`x_{tic} \le w_{tc} o_{ti}`,
    :math:`\sum_i x_{tic} \le w_{tc}`, :math:`\sum_c x_{tic} \le
    \sum_k \kappa_{ik} y_{tik}`, and the objective
    :math:`\max \sum_t d_t \sum_{ic} v_c x_{tic}`; without capacity
    :math:`z_{tc} \le \sum_{i \in N_c} o_{ti}`, :math:`\max \sum_t d_t
    \sum_c v_c w_{tc} z_{tc}`.
    """
    options = options or SolveOptions()
    t0 = time.perf_counter()
    validate_phased(phased)
    reasons = phasing_conflicts(phased)
    if reasons:
        return empty_result(phased, "infeasible", t0, reasons)
    table = site_table(phased.base)
    mip = Mip()
    # y[t][i]: the ids of site i's size variables in year t (empty when it may not open)
    y = [[mip.add_vars(table.areas[i].size, integer=True) for i in range(table.n_sites)]
         for _ in range(phased.n_years)]
    _site_rows(mip, phased, table, y)
    _service_rows(mip, phased, table, y)
    hint_pair = None
    if hint is not None and not rollout_violations(phased, hint):
        ids = np.concatenate([v for year in y for v in year])
        chosen = np.concatenate([
            np.abs(float(hint[t][i]) - table.areas[i]) <= 1e-9 * np.maximum(1.0, table.areas[i])
            for t, year in enumerate(y) for i in range(len(year))])
        hint_pair = (ids, chosen.astype(float))
    tracker = Tracker(options.progress, t0)  # type: ignore[arg-type]
    out = mip.solve(options, time_limit_s=float(options.time_limit_s), hint=hint_pair)
    if out.status == "infeasible":
        return empty_result(phased, "infeasible", t0, [
            "no roll-out satisfies every year's limits and the nesting of the years "
            "(proven by the multi-period MIP)"])
    if out.values is None:
        status: Status = "interrupted" if stop_requested(options.stop) else "error"
        return empty_result(phased, status, t0, [
            f"no roll-out found within {float(options.time_limit_s):g} s"])
    area = np.zeros((phased.n_years, table.n_sites))
    for t, year in enumerate(y):
        for i, ids in enumerate(year):
            on = np.flatnonzero(out.values[ids] > 0.5)
            if on.size:
                area[t, i] = table.areas[i][on[0]]
    objective = -float(out.objective)
    bound = -float(out.bound) if math.isfinite(out.bound) else math.inf
    tracker.update(incumbent=objective, bound=bound)
    status = "interrupted" if stop_requested(options.stop) else "feasible"
    return result_of(phased, area, status=status, bound=bound, t0=t0, method="mip",
                     log=tracker.log, gap_target=options.gap,
                     info={"mip_status": out.status, "mip_objective": objective})


def _site_rows(mip: Mip, phased: PhasedProblem, table: SiteTable,
               y: list[list[np.ndarray]]) -> None:
    """Every year's site-side rows (one size per site, counts, areas, rent, groups, openings)
    and the nesting of each year in the next."""
    lim = effective_limits(phased)
    n_years, n = phased.n_years, table.n_sites
    opens = (None if phased.max_openings is None
             else np.asarray(phased.max_openings, dtype=float))
    rent_cap = table.rent_cap_usd_year
    all_ids = [np.concatenate(year) for year in y]
    all_areas = np.concatenate([table.areas[i] for i in range(n)])
    all_rent = np.concatenate([table.areas[i] * table.rent_usd_m2_year[i] for i in range(n)])
    for t in range(n_years):
        for i in range(n):
            ids = y[t][i]
            if ids.size == 0:
                continue
            mip.add_row(ids, np.ones(ids.size), lb=1.0 if table.forced[i] else -np.inf, ub=1.0)
            if t + 1 < n_years:
                # a site that has at least its k-th size keeps it the next year
                for k in range(ids.size):
                    mip.add_row(np.r_[ids[k:], y[t + 1][i][k:]],
                                np.r_[np.ones(ids.size - k), -np.ones(ids.size - k)], ub=0.0)
        mip.add_row(all_ids[t], np.ones(all_ids[t].size), lb=float(lim.count_min[t]),
                    ub=float(lim.count_max[t]))
        if math.isfinite(phased.area_budget_m2[t]):
            mip.add_row(all_ids[t], all_areas, ub=float(phased.area_budget_m2[t]))
        if math.isfinite(rent_cap):
            mip.add_row(all_ids[t], all_rent, ub=float(rent_cap))
        _group_rows(mip, table, y[t])
        if opens is not None and math.isfinite(opens[t]):
            if t == 0:
                mip.add_row(all_ids[0], np.ones(all_ids[0].size),
                            ub=float(opens[0]) + float(table.forced.sum()))
            else:
                mip.add_row(np.r_[all_ids[t], all_ids[t - 1]],
                            np.r_[np.ones(all_ids[t].size), -np.ones(all_ids[t - 1].size)],
                            ub=float(opens[t]))


def _group_rows(mip: Mip, table: SiteTable, year: list[np.ndarray]) -> None:
    """One year's per-group count and area limits."""
    for g in range(table.n_groups):
        members = np.flatnonzero(table.group == g)
        ids = np.concatenate([year[i] for i in members]) if members.size else np.zeros(0, int)
        areas = (np.concatenate([table.areas[i] for i in members]) if members.size
                 else np.zeros(0))
        if table.group_count_min[g] > 0 or table.group_count_max[g] < members.size:
            mip.add_row(ids, np.ones(ids.size), lb=float(table.group_count_min[g]),
                        ub=float(table.group_count_max[g]) if
                        table.group_count_max[g] < members.size else np.inf)
        if table.group_area_min_m2[g] > 0 or math.isfinite(table.group_area_max_m2[g]):
            mip.add_row(ids, areas, lb=float(table.group_area_min_m2[g]),
                        ub=float(table.group_area_max_m2[g]))


def _service_rows(mip: Mip, phased: PhasedProblem, table: SiteTable,
                  y: list[list[np.ndarray]]) -> None:
    """Each year's service of the demand classes and the discounted objective (as a minimum)."""
    base = phased.base
    d = phased.discount_factors()
    classes = year_classes(phased)
    cover = classes.cover.tocsc()
    has_cap = base.capacity_per_m2 is not None or base.site_capacity is not None
    for t, year in enumerate(y):
        w = classes.weight[t]
        load: list[list[np.ndarray]] = [[] for _ in range(table.n_sites)]
        for c in range(cover.shape[1]):
            if w[c] <= 0:
                continue
            sites = [int(i) for i in cover.indices[cover.indptr[c]:cover.indptr[c + 1]]
                     if year[i].size]
            if not has_cap:
                # z_tc <= the number of open sites that reach class c
                z = mip.add_vars(1, obj=-float(d[t] * classes.value[c] * w[c]))
                ids = np.concatenate([year[i] for i in sites]) if sites else np.zeros(0, int)
                mip.add_row(np.r_[z, ids], np.r_[1.0, -np.ones(ids.size)], ub=0.0)
                continue
            xs = mip.add_vars(len(sites), ub=float(w[c]),
                              obj=-float(d[t] * classes.value[c]))
            for x, i in zip(xs, sites, strict=True):
                mip.add_row(np.r_[x, year[i]], np.r_[1.0, -float(w[c]) * np.ones(year[i].size)],
                            ub=0.0)
                load[i].append(np.array([x]))
            if len(sites) > 1:
                mip.add_row(xs, np.ones(xs.size), ub=float(w[c]))
        if has_cap:
            _capacity_rows(mip, base, table, year, load, float(w.sum()))


def _capacity_rows(mip: Mip, base: SitingProblem, table: SiteTable, year: list[np.ndarray],
                   load: list[list[np.ndarray]], total: float) -> None:
    """One year's load of each site within the capacity of its size."""
    per_m2 = math.inf if base.capacity_per_m2 is None else float(base.capacity_per_m2)
    per_site = (None if base.site_capacity is None
                else np.asarray(base.site_capacity, dtype=float))
    for i, parts in enumerate(load):
        if not parts:
            continue
        cap = table.areas[i] * per_m2
        if per_site is not None:
            cap = np.minimum(cap, per_site[i])
        if np.all(np.isinf(cap)):
            continue
        xs = np.concatenate(parts)
        mip.add_row(np.r_[xs, year[i]], np.r_[np.ones(xs.size), -np.minimum(cap, total)],
                    ub=0.0)
