"""One point of a sweep: build its problem, warm-start it from its neighbour, solve it."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import HzLogisticsError
from hzlogistics.plan import Inputs, build_problem, solve_reachable
from hzlogistics.plan_landed import build_landed_inputs
from hzlogistics.scenario import Scenario, objective_kwargs
from hzlogistics.solvers.problem import SolveOptions, SolveResult, relative_gap
from hzlogistics.solvers.sites import plan_violations
from hzlogistics.sweep.warm import adapt_hint, service_violations

logger = logging.getLogger(__name__)

#: Relative tolerance when comparing a carried plan's objective with the solver's.
_TOL = 1e-6


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
        (:func:`~hzlogistics.sweep.warm.adapt_hint`) and given to the solver as a hint; for the
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
                and not plan_violations(problem, prev_area)
                and not service_violations(problem, prev_area, prev.served)):
            carried = prev
    options = SolveOptions(time_limit_s=scenario.time_limit_s, gap=scenario.gap,
                           seed=scenario.seed, workers=workers, hint=hint, stop=stop)
    try:
        kwargs = objective_kwargs(scenario)
        if scenario.objective == "landed":
            kwargs.update(build_landed_inputs(scenario, inputs, coverage,  # type: ignore[arg-type]
                                              problem))
        result = solve_reachable(problem, scenario.objective, options, **kwargs)
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


def log_point(point: SweepPoint, out: PointOutcome | None) -> None:
    """Log how a point ended."""
    if out is None:
        return
    r = out.result
    if r is None:
        logger.warning("sweep point %d %s failed: %s", point.index, point.values, out.message)
    else:
        logger.info("sweep point %d %s: %s, objective %.6g, gap %.4g (%s, %.1f s)", point.index,
                    point.values, r.status, r.objective, r.gap, out.start, out.wall_s)
