r"""Capacitated landed cost: the uncapacitated optimum, repaired to fit capacity.

With capacity (:math:`K` parcels/day per m², sites sized to their load), the
location engine's plan for the full data stays a few per cent above its bound
(its capacitated heuristics see every demand point's cheapest sites in turn).
The landed cost, however, is dominated by the inbound leg and the last mile,
which capacity barely changes; the uncapacitated optimum is therefore nearly
right, and its bound is a bound of the capacitated problem as well. So:

1. solve the problem without capacity (each open site at its smallest allowed
   area; :math:`\underline{z}` its proven bound). Every capacitated plan is a
   plan of this relaxation whose rent is at least as high, so
   :math:`\underline{z} \le z^*_{cap}`;
2. repair its plan: a site whose load exceeds its largest capacity
   :math:`\bar{K}_i` sheds the parcels whose move to another open site with
   room costs least per parcel (opening the cheapest closed site that covers a
   point when no open one has room), and every site takes the smallest allowed
   area that holds its load;
3. with the time left, run the capacitated engine as well; keep the cheaper
   plan and the higher of the two bounds.

The repaired plan is checked against every site rule (counts, quotas, area
budget, rent cap) and dropped if it breaks one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.problem import (
    SitingProblem,
    SolveOptions,
    SolveResult,
    Status,
    relative_gap,
)
from hzlogistics.solvers.sites import SiteTable, plan_violations, site_table

logger = logging.getLogger(__name__)

#: Share of the time limit the uncapacitated solve may take.
UNCAPACITATED_SHARE: float = 0.5

#: Least time worth giving the capacitated engine after the repair, seconds.
MIN_ENGINE_S: float = 5.0

_EPS = 1e-9


def _top_capacity(problem: SitingProblem, table: SiteTable) -> np.ndarray:
    """Parcels/day each site handles at its largest allowed area (0: cannot open)."""
    top = np.array([a[-1] if len(a) else 0.0 for a in table.areas], dtype=float)
    cap = top * float(problem.capacity_per_m2 or np.inf)
    if problem.site_capacity is not None:
        cap = np.minimum(cap, np.asarray(problem.site_capacity, dtype=float))
    return np.where(table.can_open, cap, 0.0)


class _Repair:
    """The state of a repair: flows, loads, open sites and the per-parcel costs."""

    def __init__(self, problem: SitingProblem, table: SiteTable, served: sp.csr_matrix,
                 open_: np.ndarray) -> None:
        self.w = np.asarray(problem.weight, dtype=float)
        cost = sp.csc_matrix(problem.assign_cost)
        cost.sort_indices()
        self.cost = cost  # yearly cost of all of j from i, by column
        self.cap = _top_capacity(problem, table)
        self.can = table.can_open & ~table.forbidden
        self.open = open_.copy()
        x = sp.coo_matrix(served)
        self.flow: list[dict[int, float]] = [{} for _ in range(problem.n_sites)]
        for i, j, v in zip(x.row.tolist(), x.col.tolist(), x.data.tolist(), strict=True):
            if v > 0:
                self.flow[i][j] = self.flow[i].get(j, 0.0) + v
        self.load = np.array([sum(f.values()) for f in self.flow])

    def unit(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Sites covering ``j`` and their cost per parcel/day served."""
        a, b = self.cost.indptr[j], self.cost.indptr[j + 1]
        return self.cost.indices[a:b], self.cost.data[a:b] / max(self.w[j], _EPS)

    def best_move(self, i: int, j: int, *, closed: bool = False) -> tuple[float, int]:
        """Extra cost per parcel of moving j's parcels from site i, and the site to move
        them to (-1: none): an open site with room, or with ``closed`` a closed one."""
        sites, per = self.unit(j)
        here = per[sites == i]
        base = float(here[0]) if len(here) else 0.0
        if closed:
            ok = self.can[sites] & ~self.open[sites] & (self.cap[sites] > _EPS)
        else:
            ok = (self.cap[sites] - self.load[sites] > _EPS) & self.open[sites]
        ok &= sites != i
        if not ok.any():
            return np.inf, -1
        k = int(np.argmin(np.where(ok, per, np.inf)))
        return float(per[k]) - base, int(sites[k])

    def move(self, i: int, j: int, k: int, amount: float) -> None:
        self.flow[i][j] -= amount
        if self.flow[i][j] <= _EPS:
            del self.flow[i][j]
        self.flow[k][j] = self.flow[k].get(j, 0.0) + amount
        self.load[i] -= amount
        self.load[k] += amount

    def shed(self, i: int, deadline: float) -> bool:
        """Move the cheapest parcels off site ``i`` until it fits; whether it does."""
        while self.load[i] > self.cap[i] * (1 + 1e-12) + _EPS:
            if time.perf_counter() > deadline:
                return False
            moves = [(self.best_move(i, j), j) for j in self.flow[i]]
            (_, k), j = min(moves, key=lambda m: m[0][0])
            if k < 0:  # no open site has room: open the closed site that costs least
                moves = [(self.best_move(i, j, closed=True), j) for j in self.flow[i]]
                (_, k), j = min(moves, key=lambda m: m[0][0])
                if k < 0:
                    return False
                self.open[k] = True
            room = self.cap[k] - self.load[k]
            self.move(i, j, k, min(self.flow[i][j], self.load[i] - self.cap[i], room))
        return True


def repair_plan(problem: SitingProblem, result: SolveResult, *, deadline: float
                ) -> tuple[np.ndarray, sp.csr_matrix, float] | None:
    """Fit an uncapacitated plan to the capacity of ``problem``.

    Parameters
    ----------
    problem
        The capacitated problem, with ``assign_cost``.
    result
        A plan of the same problem without capacity (``served`` over all demand).
    deadline
        ``time.perf_counter()`` value after which the repair gives up.

    Returns
    -------
    (area_m2, served, objective) or None
        The repaired plan and its yearly cost; ``None`` when it breaks a site
        rule or some site cannot be brought within its capacity.
    """
    table = site_table(problem)
    state = _Repair(problem, table, sp.csr_matrix(result.served), np.asarray(result.open))
    over = np.flatnonzero(state.load > state.cap * (1 + 1e-12) + _EPS)
    for i in over[np.argsort(-(state.load[over] - state.cap[over]))].tolist():
        if not state.shed(int(i), deadline):
            return None
    n = problem.n_sites
    area = np.zeros(n)
    k = float(problem.capacity_per_m2) if problem.capacity_per_m2 is not None else np.inf
    for i in np.flatnonzero(state.open | (state.load > _EPS)).tolist():
        options = table.areas[i]
        if not len(options):
            return None
        need = state.load[i] / k if np.isfinite(k) else 0.0
        fits = np.flatnonzero(options >= need * (1 - 1e-12) - _EPS)
        if not len(fits):
            return None
        area[i] = options[fits[0]]
    idle = (state.load <= _EPS) & ~table.forced
    area[idle] = 0.0
    if plan_violations(table, area):
        return None
    rows = np.repeat(np.arange(n), [len(f) for f in state.flow])
    cols = np.array([j for f in state.flow for j in f], dtype=np.int64)
    vals = np.array([v for f in state.flow for v in f.values()], dtype=float)
    served = sp.csr_matrix((vals, (rows, cols)), shape=(n, problem.n_demand))
    unit = np.asarray(sp.csr_matrix(problem.assign_cost)[rows, cols]).ravel() \
        / np.maximum(state.w[cols], _EPS)
    rent = (np.zeros(n) if problem.rent_usd_m2_year is None
            else np.asarray(problem.rent_usd_m2_year, dtype=float))
    fixed = (np.zeros(n) if problem.fixed_cost_usd_year is None
             else np.asarray(problem.fixed_cost_usd_year, dtype=float))
    objective = float(rent @ area + fixed @ (area > 0) + (vals * unit).sum())
    return area, served, objective


def solve_capacitated(problem: SitingProblem, options: SolveOptions, *,
                      assignment: Literal["split", "single"] = "split") -> SolveResult:
    """The cost objective on a capacitated landed problem: relaxation, repair, engine.

    Parameters
    ----------
    problem
        The landed problem (:func:`~hzlogistics.models.landed.problem.build_landed_problem`)
        with ``capacity_per_m2`` or ``site_capacity``, all of its demand reachable.
    options
        Limits and seed; the time limit covers all three steps.
    assignment
        ``"split"`` (the repair splits demand points); ``"single"`` runs the
        engine alone.

    Returns
    -------
    SolveResult
        The cheaper of the repaired plan and the engine's, with the higher bound.
    """
    from hzlogistics.models.cost import solve_cost

    t0 = time.perf_counter()
    if assignment != "split":
        return solve_cost(problem, options, assignment=assignment)
    limit = float(options.time_limit_s)
    relaxed = replace(problem, capacity_per_m2=None, site_capacity=None)
    first = solve_cost(relaxed, replace(options, time_limit_s=UNCAPACITATED_SHARE * limit,
                                        progress=None, hint=None), assignment="split")
    if not first.has_solution:
        left = max(limit - (time.perf_counter() - t0), MIN_ENGINE_S)
        return solve_cost(problem, replace(options, time_limit_s=left), assignment=assignment)
    repaired = repair_plan(problem, first, deadline=t0 + 0.75 * limit)
    info: dict[str, object] = {"uncapacitated_objective": first.objective,
                               "uncapacitated_bound": first.bound,
                               "repaired_objective": None if repaired is None else repaired[2]}
    left = limit - (time.perf_counter() - t0)
    engine = None
    if left >= MIN_ENGINE_S or repaired is None:
        hint = None if repaired is None else repaired[0]
        engine = solve_cost(problem, replace(options, time_limit_s=max(left, MIN_ENGINE_S),
                                             hint=hint), assignment=assignment)
        info.update(engine_objective=engine.objective if engine.has_solution else None,
                    engine_bound=engine.bound, engine_status=engine.status)
        if not engine.has_solution and (repaired is None or engine.status == "infeasible"):
            return engine
    bound = max(first.bound, engine.bound if engine is not None and engine.has_solution
                else -np.inf)
    if repaired is not None and (engine is None or not engine.has_solution
                                 or repaired[2] < engine.objective):
        area, served, objective = repaired
        info["plan"] = "repaired"
    else:
        assert engine is not None
        area, served, objective = engine.area_m2, engine.served, engine.objective
        info["plan"] = "engine"
    bound = min(bound, objective)
    gap = relative_gap(objective, bound)
    status: Status = "optimal" if gap <= max(float(options.gap), 1e-9) else "feasible"
    if engine is not None and engine.status == "interrupted":
        status = "interrupted"
    logger.info("capacitated landed cost: uncapacitated %.6g (bound %.6g), repaired %s, "
                "engine %s; plan %s", first.objective, first.bound, info["repaired_objective"],
                info.get("engine_objective"), info["plan"])
    return SolveResult(status=status, objective=objective, bound=bound, gap=gap,
                       wall_s=time.perf_counter() - t0, area_m2=np.asarray(area, dtype=float),
                       served=sp.csr_matrix(served), sense="min", objective_name="cost",
                       info=info, log=list(engine.log) if engine is not None else [])


__all__ = ["MIN_ENGINE_S", "UNCAPACITATED_SHARE", "repair_plan", "solve_capacitated"]
