"""Count-only maximal covering: the LP dive, a plan near the optimum early.

The LP relaxation of a maximal covering core is tight, and the sites it opens
in full are nearly always open in an optimal plan too. The dive fixes them
open and solves what is left exactly by CP-SAT: the demand they serve leaves
the model and the count to place shrinks, so this restricted problem solves
several times faster than the whole core, and its optimum is the core's
whenever the fixing was right. The swap search then polishes the plan (it may
close a fixed site).

The dive is a heuristic: the optimum need not open every site the LP opens,
so it proves nothing and gives no bound. It runs under a deterministic budget
(:data:`DIVE_DTIME`, CP-SAT's units) so that a fixed seed gives the same plan,
and offers each plan CP-SAT finds as it finds it. When the LP opens few sites
in full the dive is about as hard as the core and ends at its budget, with the
best plan found by then.
"""

from __future__ import annotations

import time

import numpy as np
from ortools.sat.python import cp_model

from hzlogistics.models.count_core import Core, CountPlan, greedy, offer, swap_search
from hzlogistics.models.count_search import count_model
from hzlogistics.solvers.cpsat import solve_cpsat
from hzlogistics.solvers.problem import SolveOptions
from hzlogistics.solvers.track import Tracker, stop_requested

#: Deterministic time (CP-SAT units) of the dive's solve.
DIVE_DTIME = 5.0
#: The dive is skipped when its model (free sites x classes left) has more nonzeros.
DIVE_NONZEROS = 100_000
#: An LP value at least ``1 - FULL_TOL`` counts as a site opened in full.
FULL_TOL = 1e-6


def merged_hint(core: Core, plan: CountPlan, fixed: np.ndarray) -> CountPlan:
    """A plan opening every ``fixed`` site, otherwise as close to ``plan`` as the count allows.

    The fixed sites are added to ``plan`` and, while the count is exceeded,
    the open site (not fixed) whose closing loses least is closed. With group
    quotas the greedy takes the fixed sites first instead (it keeps every
    group within its bounds).
    """
    if core.quotas:
        return greedy(core, start=fixed)
    y = plan.y | fixed
    pad = plan.pad.copy()
    over = int(y.sum()) + int(pad.sum()) - core.total
    pad_used = np.flatnonzero(pad > 0)
    while over > 0 and pad_used.size:  # fillers (worth nothing) go first
        g = int(pad_used[0])
        take = min(over, int(pad[g]))
        pad[g] -= take
        over -= take
        pad_used = np.flatnonzero(pad > 0)
    for _ in range(over):
        cnt = np.asarray(core.cover_t @ y.astype(np.float64)).ravel()
        loss = np.asarray(core.cover @ np.where(cnt == 1, core.weight, 0.0)).ravel() + core.own
        cand = np.flatnonzero(y & ~fixed)
        y[cand[int(np.argmin(loss[cand]))]] = False
    return CountPlan(y, pad, core.value(y))


def lp_dive(core: Core, lp_y: np.ndarray, tracker: Tracker, options: SolveOptions,
            deadline: float, info: dict[str, object] | None = None) -> CountPlan | None:
    """Solve the core with the sites the LP opens in full fixed open; offer the plan.

    Parameters
    ----------
    core
        The reduced problem.
    lp_y
        ``(n,)`` LP values of the core's sites.
    tracker
        The solve's tracker: its best plan hints the search, and each plan the
        search finds is offered to it as found (the last after a swap search).
    options
        Seed and stop event (a stop ends the dive without a plan).
    deadline
        Wall-clock end (``time.perf_counter()``) of the dive at the latest.
    info
        Filled with the dive's size, status, deterministic time and value.

    Returns
    -------
    CountPlan or None
        The plan found, or ``None`` when the LP opens no site in full (or
        every one), the restricted model has over :data:`DIVE_NONZEROS`
        nonzeros, or the dive was stopped or found no plan.
    """
    info = {} if info is None else info
    fixed = np.asarray(lp_y) >= 1.0 - FULL_TOL
    k = int(fixed.sum())
    remaining = deadline - time.perf_counter()
    if k == 0 or k >= core.total or remaining <= 0.05 or stop_requested(options.stop):
        return None
    served = np.asarray(core.cover_t @ fixed.astype(np.float64)).ravel() > 0
    size = int(core.cover[~fixed][:, ~served].nnz)
    info.update(fixed=k, free=core.n - k, nonzeros=size)
    if size > DIVE_NONZEROS:
        return None
    start = tracker.payload
    hint = merged_hint(core, start, fixed) if isinstance(start, CountPlan) else None
    cm = count_model(core, np.where(fixed, 1, -1), hint)
    opts = SolveOptions(time_limit_s=remaining, gap=0.0, seed=options.seed, workers=1,
                        progress=None, stop=options.stop)

    def found(solution: cp_model.CpSolverSolutionCallback) -> None:
        if not stop_requested(options.stop):
            offer(tracker, cm.plan(core, solution))

    out = solve_cpsat(cm.sm.model, opts, scale=cm.sm.scale, on_solution=found,
                      extra_params={"cp_model_presolve": False,
                                    "max_deterministic_time": DIVE_DTIME,
                                    # the covering rows' LP, with its cuts, steers the search
                                    "linearization_level": 2})
    info.update(status=out.status,
                dtime=round(float(out.solver.response_proto.deterministic_time), 3))
    if out.status not in ("optimal", "feasible"):
        return None
    plan = swap_search(core, cm.plan(core, out.solver), deadline,
                       lambda: stop_requested(options.stop))
    offer(tracker, plan)
    info["value"] = core.constant + plan.value
    return plan


__all__ = ["DIVE_DTIME", "lp_dive", "merged_hint"]
