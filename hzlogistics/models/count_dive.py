"""Count-only maximal covering: the LP dive, a plan near the optimum early.

The LP relaxation of a maximal covering core is tight, and the sites it opens
in full are nearly always open in an optimal plan too; the sites it leaves
closed at a loss (a negative reduced profit: opening one alone would lower the
LP's value) are nearly always closed. The dive fixes both and solves what is
left exactly by CP-SAT: the demand the open ones serve leaves the model, the
count to place shrinks and only the sites the LP hesitates over stay free, so
this restricted problem solves faster than the whole core, and its optimum is
the core's whenever the fixing was right. Each plan CP-SAT finds
is polished by the swap search (which may open a site fixed closed or close
one fixed open) and offered as found.

On the four seeds of the dense regional family (``benchmarks/families.py``)
the optimum never closes a site the LP opens in full; it opens one to four
sites the LP leaves at zero, on one seed one of them at a loss (the swap search
then opens it). Fixing the full sites alone leaves 219-420 sites free, fixing
both 93-189, and CP-SAT's deterministic time to the restricted optimum falls
1.1-1.9 times; with the swap search on each plan found, the whole solve
reaches the optimum of the hardest seed in 3.7 s instead of 6.4 s.

The dive is a heuristic: it proves nothing and gives no bound. It runs under a
deterministic budget (:data:`DIVE_DTIME`, CP-SAT's units) so that a fixed seed
gives the same plan. When the LP fixes few sites the dive is about as hard as
the core and ends at its budget, with the best plan found by then; the solve
then skips it (:data:`DIVE_SHARE`).
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
#: The dive is skipped when its model (free sites x classes left) has more nonzeros:
#: on the 50 markets at 100 km (73,000 nonzeros left) it ran its whole budget, 16 s,
#: without a plan, where the region search improves the plan in the meantime.
DIVE_NONZEROS = 50_000
#: The solve skips the dive too when its model would keep more than this share of
#: the core's nonzeros (``lp_dive``'s ``max_share``): the LP is then far from
#: integral (it fixed 0-2 sites open on the two such seeds of the dense regional
#: family, against 9-40 on the six others) and the dive is about the whole core,
#: which the region search improves sooner.
DIVE_SHARE = 0.75
#: An LP value at least ``1 - FULL_TOL`` counts as a site opened in full, at most
#: ``FULL_TOL`` as one left closed.
FULL_TOL = 1e-6
#: A reduced profit below ``-LOSS_TOL`` times the largest weight counts as a loss.
LOSS_TOL = 1e-7
#: CP-SAT's cut families, off in the dive: the covering LP is tight already, and
#: without them the dive reached its best plan 1.1-2.1 times sooner on seven of
#: eight seeds of the dense regional family (the eighth: a better plan, later).
NO_CUTS = {"add_cg_cuts": False, "add_mir_cuts": False, "add_zero_half_cuts": False,
           "add_clique_cuts": False, "add_lin_max_cuts": False}
#: Plans found during the dive get a swap search on cores up to this many nonzeros.
SWAP_NONZEROS = 200_000


def merged_hint(core: Core, plan: CountPlan, fixed: np.ndarray,
                closed: np.ndarray | None = None) -> CountPlan:
    """A plan opening every ``fixed`` site and no ``closed`` one, otherwise close to ``plan``.

    The fixed sites are added to ``plan`` and the closed ones removed; while
    the count is exceeded, the open site (not fixed) whose closing loses least
    is closed, and when it falls short, the greedy completes the plan from the
    sites not closed (then fillers). With group quotas the greedy takes the
    fixed sites first among the sites not closed instead (it keeps every group
    within its bounds).
    """
    closed = np.zeros(core.n, dtype=bool) if closed is None else np.asarray(closed, dtype=bool)
    if core.quotas:
        return greedy(core, start=fixed, among=~closed)
    y = (plan.y | fixed) & ~closed
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
    if int(y.sum()) + int(pad.sum()) < core.total:  # closing left it short: the greedy fills
        return greedy(core, start=y, among=~closed)
    return CountPlan(y, pad, core.value(y))


def lp_dive(core: Core, lp_y: np.ndarray, tracker: Tracker, options: SolveOptions,
            deadline: float, info: dict[str, object] | None = None,
            reduced: np.ndarray | None = None, max_share: float = 1.0) -> CountPlan | None:
    """Solve the core with the sites the LP settles fixed; offer the plans found.

    Parameters
    ----------
    core
        The reduced problem.
    lp_y
        ``(n,)`` LP values of the core's sites.
    tracker
        The solve's tracker: its best plan hints the search, and each plan the
        search finds is offered to it as found, after a swap search on cores up
        to :data:`SWAP_NONZEROS` nonzeros (and always on the last).
    options
        Seed and stop event (a stop ends the dive without a plan).
    deadline
        Wall-clock end (``time.perf_counter()``) of the dive at the latest.
    info
        Filled with the dive's size, status, deterministic time and value.
    reduced
        ``(n,)`` LP reduced profit of opening each site (its price under the
        covering rows' duals, less the count rows' price). Sites the LP leaves
        closed with a negative one are fixed closed; ``None`` fixes none closed.
    max_share
        No dive when its model keeps more than this share of the core's
        nonzeros (1: always dive; the solve passes :data:`DIVE_SHARE`).

    Returns
    -------
    CountPlan or None
        The plan found, or ``None`` when the LP fixes no site (or opens at
        least the count in full), the restricted model has over
        :data:`DIVE_NONZEROS` nonzeros or over ``max_share`` of the core's,
        or the dive was stopped or found no plan.
    """
    info = {} if info is None else info
    lp_y = np.asarray(lp_y, dtype=float)
    fixed = lp_y >= 1.0 - FULL_TOL
    closed = np.zeros(core.n, dtype=bool)
    if reduced is not None:
        tol = LOSS_TOL * max(1.0, float(core.weight.max(initial=0.0)),
                             float(core.own.max(initial=0.0)))
        closed = (lp_y <= FULL_TOL) & (np.asarray(reduced, dtype=float) < -tol) & ~fixed
    k = int(fixed.sum())
    remaining = deadline - time.perf_counter()
    if (k == 0 and not closed.any()) or k >= core.total or remaining <= 0.05 \
            or stop_requested(options.stop):
        return None
    free = ~fixed & ~closed
    if int(free.sum()) + k < core.total - int(core.n_pads.sum()):
        return None  # too few sites left to place the count
    served = np.asarray(core.cover_t @ fixed.astype(np.float64)).ravel() > 0
    size = int(core.cover[free][:, ~served].nnz)
    info.update(fixed=k, closed=int(closed.sum()), free=int(free.sum()), nonzeros=size)
    if size > DIVE_NONZEROS or size > max_share * core.cover.nnz:
        return None
    start = tracker.payload
    hint = merged_hint(core, start, fixed, closed) if isinstance(start, CountPlan) else None
    cm = count_model(core, np.where(fixed, 1, np.where(closed, 0, -1)), hint)
    opts = SolveOptions(time_limit_s=remaining, gap=0.0, seed=options.seed, workers=1,
                        progress=None, stop=options.stop)
    polish = core.cover.nnz <= SWAP_NONZEROS

    def stopped() -> bool:
        return stop_requested(options.stop)

    def found(solution: cp_model.CpSolverSolutionCallback) -> None:
        if not stopped():
            plan = cm.plan(core, solution)
            offer(tracker, swap_search(core, plan, deadline, stopped) if polish else plan)

    out = solve_cpsat(cm.sm.model, opts, scale=cm.sm.scale, on_solution=found,
                      extra_params={"cp_model_presolve": False,
                                    "max_deterministic_time": DIVE_DTIME,
                                    # the covering rows' LP steers the search
                                    "linearization_level": 2, **NO_CUTS})
    info.update(status=out.status,
                dtime=round(float(out.solver.response_proto.deterministic_time), 3))
    if out.status not in ("optimal", "feasible"):
        return None
    plan = swap_search(core, cm.plan(core, out.solver), deadline, stopped)
    offer(tracker, plan)
    info["value"] = core.constant + plan.value
    return plan


__all__ = ["DIVE_DTIME", "DIVE_SHARE", "LOSS_TOL", "lp_dive", "merged_hint"]
