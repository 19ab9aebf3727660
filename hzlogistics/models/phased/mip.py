"""The whole multi-period model as one MIP (HiGHS through OR-Tools MathOpt), and plan values.

:func:`solve_phased_mip` states every year, the nesting between years and the
objective summed over the years in one model. It is exact and meant for small
instances (a few hundred sites and classes); :func:`evaluate_rollout` gives
the value of a roll-out year by year with an exact transport LP.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

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
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, Status, relative_gap
from hzlogistics.solvers.sites import site_table
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
    from ortools.math_opt.python import mathopt

    options = options or SolveOptions()
    t0 = time.perf_counter()
    validate_phased(phased)
    reasons = phasing_conflicts(phased)
    if reasons:
        return empty_result(phased, "infeasible", t0, reasons)
    base = phased.base
    table = site_table(base)
    lim = effective_limits(phased)
    n_years, n = phased.n_years, table.n_sites
    d = phased.discount_factors()
    classes = year_classes(phased)
    model = mathopt.Model(name="phased")
    y: list[list[list[mathopt.Variable]]] = [
        [[model.add_binary_variable(name=f"y{t}_{i}_{k}") for k in range(table.areas[i].size)]
         for i in range(n)] for t in range(n_years)]
    o = [[mathopt.LinearExpression(sum(y[t][i])) for i in range(n)] for t in range(n_years)]
    opens = (None if phased.max_openings is None
             else np.asarray(phased.max_openings, dtype=float))
    rent_cap = table.rent_cap_usd_year
    for t in range(n_years):
        for i in range(n):
            if not y[t][i]:
                continue
            model.add_linear_constraint(o[t][i] <= 1)
            if table.forced[i]:
                model.add_linear_constraint(o[t][i] >= 1)
            if t + 1 < n_years:
                for k in range(len(y[t][i])):
                    model.add_linear_constraint(sum(y[t][i][k:]) <= sum(y[t + 1][i][k:]))
        count = mathopt.LinearExpression(sum(o[t]))
        model.add_linear_constraint(count >= int(lim.count_min[t]))
        model.add_linear_constraint(count <= int(lim.count_max[t]))
        area = mathopt.LinearExpression(sum(
            float(table.areas[i][k]) * y[t][i][k] for i in range(n) for k in range(len(y[t][i]))))
        if math.isfinite(phased.area_budget_m2[t]):
            model.add_linear_constraint(area <= float(phased.area_budget_m2[t]))
        if math.isfinite(rent_cap):
            model.add_linear_constraint(sum(
                float(table.areas[i][k] * table.rent_usd_m2_year[i]) * y[t][i][k]
                for i in range(n) for k in range(len(y[t][i]))) <= rent_cap)
        for g in range(table.n_groups):
            members = np.flatnonzero(table.group == g)
            gc = mathopt.LinearExpression(sum(o[t][i] for i in members))
            ga = mathopt.LinearExpression(sum(float(table.areas[i][k]) * y[t][i][k]
                                              for i in members for k in range(len(y[t][i]))))
            if table.group_count_min[g] > 0:
                model.add_linear_constraint(gc >= int(table.group_count_min[g]))
            if table.group_count_max[g] < members.size:
                model.add_linear_constraint(gc <= int(table.group_count_max[g]))
            if table.group_area_min_m2[g] > 0:
                model.add_linear_constraint(ga >= float(table.group_area_min_m2[g]))
            if math.isfinite(table.group_area_max_m2[g]):
                model.add_linear_constraint(ga <= float(table.group_area_max_m2[g]))
        if opens is not None and math.isfinite(opens[t]):
            before = (float(table.forced.sum()) if t == 0
                      else mathopt.LinearExpression(sum(o[t - 1])))
            model.add_linear_constraint(count - before <= float(opens[t]))
    objective = mathopt.LinearExpression()
    cover = classes.cover.tocsc()
    has_cap = base.capacity_per_m2 is not None or base.site_capacity is not None
    for t in range(n_years):
        w = classes.weight[t]
        if not has_cap:
            for c in range(cover.shape[1]):
                if w[c] <= 0:
                    continue
                sites = cover.indices[cover.indptr[c]:cover.indptr[c + 1]]
                z = model.add_variable(lb=0.0, ub=1.0, name=f"z{t}_{c}")
                model.add_linear_constraint(z <= sum(o[t][i] for i in sites if y[t][i]))
                objective += float(d[t] * classes.value[c] * w[c]) * z
            continue
        load: list[list[mathopt.Variable]] = [[] for _ in range(n)]
        for c in range(cover.shape[1]):
            if w[c] <= 0:
                continue
            xs = []
            for i in cover.indices[cover.indptr[c]:cover.indptr[c + 1]]:
                if not y[t][i]:
                    continue
                x = model.add_variable(lb=0.0, ub=float(w[c]), name=f"x{t}_{i}_{c}")
                model.add_linear_constraint(x <= float(w[c]) * o[t][i])
                load[i].append(x)
                xs.append(x)
                objective += float(d[t] * classes.value[c]) * x
            if len(xs) > 1:
                model.add_linear_constraint(sum(xs) <= float(w[c]))
        for i in range(n):
            if not load[i]:
                continue
            cap_k = [float(min(table.areas[i][k] * (base.capacity_per_m2 or math.inf),
                               math.inf if base.site_capacity is None
                               else float(np.asarray(base.site_capacity)[i])))
                     for k in range(len(y[t][i]))]
            if all(math.isinf(c) for c in cap_k):
                continue
            model.add_linear_constraint(sum(load[i]) <= sum(
                min(c, float(classes.weight[t].sum())) * y[t][i][k]
                for k, c in enumerate(cap_k)))
    model.maximize(objective)
    params = mathopt.SolveParameters(
        time_limit=timedelta(seconds=max(0.1, float(options.time_limit_s))),
        relative_gap_tolerance=float(options.gap),
        random_seed=int(options.seed), enable_output=bool(options.log))
    model_params = None
    if hint is not None and not rollout_violations(phased, hint):
        values = {}
        for t in range(n_years):
            for i in range(n):
                for k, var in enumerate(y[t][i]):
                    values[var] = float(abs(hint[t][i] - table.areas[i][k])
                                        <= 1e-9 * max(1.0, table.areas[i][k]))
        model_params = mathopt.ModelSolveParameters(
            solution_hints=[mathopt.SolutionHint(variable_values=values)])
    interrupter = None
    watch = None
    done = threading.Event()
    if options.stop is not None and hasattr(options.stop, "wait"):
        from ortools.util.python.solve_interrupter import SolveInterrupter

        interrupter = SolveInterrupter()
        stop = options.stop

        def _watch() -> None:
            while not done.is_set():
                if stop.wait(0.05):
                    interrupter.interrupt()
                    return

        watch = threading.Thread(target=_watch, daemon=True)
        watch.start()
    try:
        res = mathopt.solve(model, mathopt.SolverType.HIGHS, params=params,
                            model_params=model_params,
                            interrupter=interrupter)  # type: ignore[arg-type]
    finally:
        done.set()
        if watch is not None:
            watch.join()
    tracker = Tracker(options.progress, t0)  # type: ignore[arg-type]
    reason = res.termination.reason
    if reason == mathopt.TerminationReason.INFEASIBLE:
        return empty_result(phased, "infeasible", t0, [
            "no roll-out satisfies every year's limits and the nesting of the years "
            "(proven by the multi-period MIP)"])
    if not res.has_primal_feasible_solution():
        status: Status = "interrupted" if stop_requested(options.stop) else "error"
        return empty_result(phased, status, t0, [
            f"no roll-out found within {float(options.time_limit_s):g} s"])
    area = np.zeros((n_years, n))
    for t in range(n_years):
        for i in range(n):
            for k, var in enumerate(y[t][i]):
                if res.variable_values(var) > 0.5:
                    area[t, i] = table.areas[i][k]
    bound = float(res.termination.objective_bounds.dual_bound)
    if not math.isfinite(bound):
        bound = math.inf
    tracker.update(incumbent=float(res.objective_value()), bound=bound)
    status = "interrupted" if stop_requested(options.stop) else "feasible"
    return result_of(phased, area, status=status, bound=bound, t0=t0, method="mip",
                     log=tracker.log, gap_target=options.gap,
                     info={"mip_status": reason.name.lower(),
                           "mip_objective": float(res.objective_value())})
