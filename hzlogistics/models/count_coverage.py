"""Count-only maximal covering (MCLP) at the scale of tens of thousands of points.

When only the number of open sites matters (no capacity, no area quotas per
group, no rent cap; an area budget with a single smallest tier is only a cap on
the count), siting is the maximal covering location problem (MCLP). This module
solves it with a proof of quality: every result carries an upper bound and the
gap between the plan and that bound.

The solve runs in stages sharing one time limit:

1. **Reduction.** Demand points covered by an existing (forced open) site are
   served whatever happens and leave the model; points with identical sets of
   covering sites merge into one class (isomorphic aggregation); a candidate
   whose covered set is contained in another candidate's (of the same quota
   group) is dropped (dominance), kept only as a zero-value *filler* for count
   minimums; classes covered by a single candidate become that candidate's own
   weight. The remaining *core* splits into independent connected components.
2. **Greedy and swap search.** A lazy greedy plan, then best-improvement
   swaps (one site in, one out) applied in batches of independent moves.
3. **LP bound,** solved by HiGHS (through MathOpt, which releases the GIL) in
   a background thread while the region search (5) starts on the other core.
   Its duals give a certified bound through the Lagrangian of the covering
   rows, so solver tolerances cannot make the bound invalid.
4. **Integer Lagrangian per component.** With the count and quota rows priced
   by their LP duals, the problem separates by component; each component with a
   fractional LP solution is solved as an integer program by CP-SAT, which
   removes its share of the LP's integrality gap from the bound. Each such
   solution is also optimal for its own count of sites and goes into the plan
   when it serves more (the total count restored elsewhere). When one
   component holds most of the core and the plan is still far from the
   bound, this single large solve waits for the region search (5) to bring
   the plan close first.
5. **Region search.** Neighbourhoods of one to two hundred nearby candidates
   are re-optimized exactly by CP-SAT with everything outside fixed, two at a
   time; without quotas a region may also trade one site with the rest of the
   plan (close the cheapest or open the best site away from it). Regions are
   drawn mostly where the plan falls short of the LP, and the swap search runs
   between rounds, until the gap target or the time limit.
5b. **LP dive** (:mod:`hzlogistics.models.count_dive`), once the LP is
   solved: the sites the LP opens in full are fixed open, those it leaves
   closed at a loss (negative reduced profit) fixed closed, and CP-SAT solves
   the rest exactly under a deterministic budget, each plan it finds polished
   by the swap search. The LP of a covering core is tight and nearly always
   settles these sites as an optimal plan does, so the dive often finds the
   optimum long before it is proven. A heuristic: it gives plans, no bound.
   When the LP settles too few sites for the dive to shrink the core by a
   quarter (``DIVE_SHARE``), the dive is skipped and the region search starts.
6. **Exact finish.** Candidates that provably cannot be part of a better plan
   (the LP's Lagrangian bound with the candidate forced in or out is below the
   plan) are fixed, and CP-SAT solves what is left with the plan as a hint,
   once the plan is within ``EXACT_GAP`` of the bound (or the region search
   has converged): an exact solve from a plan far below the bound spends its
   time on plans the region search finds sooner.
   With two or more workers HiGHS (a branch-and-cut MIP solver) solves the
   same integer program in a thread beside it, from the same hint
   (:class:`MipRace`); the first to prove the gap target stops the other, and
   the plan is the prover's. The two solvers prove different instances
   fastest (CP-SAT's search, HiGHS's cuts). Where the plan stays far from
   the bound of a core that is mostly one component and the region search
   stops finding better plans, the LP is weak and only branching tightens the
   bound: SCIP (``WHOLE_CORE_ENGINE``, whose cuts and branching bound such
   cores far better than HiGHS) then solves the whole core on one thread until
   the end while the search goes on. Small problems go straight to
   this stage: while SCIP solves the core, the LP (GLOP) and the dive (5b)
   run first on the other thread, then the region search (5) while the plan
   is further than ``EXACT_GAP`` from the bound, then the exact CP-SAT solve.

CP-SAT runs with its presolve off: presolve turns the covering rows into
clauses and loses their LP strength, which is what proves optimality here.

This module runs the stages; :mod:`hzlogistics.models.count_core` holds the
reduction and the first plans (1, 2), :mod:`hzlogistics.models.count_search`
the bounds and the exact solves (3, 4, 6),
:mod:`hzlogistics.models.count_regions` the region search (5) and
:mod:`hzlogistics.models.count_dive` the LP dive (5b). The LP goes
through :func:`hzlogistics.solvers.lp.solve_lp`, CP-SAT through
:mod:`hzlogistics.solvers.cpsat`, HiGHS and SCIP through
:func:`hzlogistics.solvers.mip.solve_integer_program`, and the best plan and bound are kept by one
:class:`hzlogistics.solvers.track.Tracker`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import threading
import time

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.count_core import (
    GAP_TOL,
    Core,
    CountPlan,
    Prepared,
    best_plan,
    filled,
    fits,
    greedy,
    offer,
    prefer,
    prepare,
    reached,
    reduce_core,
    swap_search,
)
from hzlogistics.models.count_core import gap as plan_gap
from hzlogistics.models.count_dive import DIVE_SHARE, lp_dive
from hzlogistics.models.count_regions import Regions, focus_seeds, region_search
from hzlogistics.models.count_search import (
    CoreLp,
    component_lagrangian,
    core_lp,
    core_mip,
    easy_bound,
    exact_finish,
    fixing,
)
from hzlogistics.solvers.mip import Engine, MipInterrupter
from hzlogistics.solvers.problem import (
    SitingProblem,
    SolveOptions,
    SolveResult,
    Status,
    relative_gap,
)
from hzlogistics.solvers.track import Tracker, stop_requested

logger = logging.getLogger(__name__)

#: Cores up to this many candidates go straight to one exact CP-SAT solve.
SMALL_SITES = 400
#: The exact finish starts once fixing leaves at most this many candidates free and
#: the plan is within ``EXACT_GAP`` of the bound (or the region search has
#: converged). Further off, the region search improves the plan first: on a dense
#: regional instance whose LP opens two sites in full, the exact finish from a plan
#: 1 % below the bound ended at 0.145 % after 60 s, the region search reached the
#: best-known plan (0.056 %) in 21 s.
EXACT_FREE = 1500
EXACT_GAP = 0.002
#: Larger cores solve their LP first, in the foreground (GLOP), up to this many nonzeros.
FOREGROUND_LP_NONZEROS = 100_000
#: HiGHS races the exact CP-SAT solve on cores up to this many nonzeros.
MIP_NONZEROS = 400_000
_MIP_THREAD = "hzlogistics-mip"
#: Seconds the race waits at the deadline for HiGHS to stop at its time limit with its plan.
_MIP_GRACE_S = 0.2
#: Seconds the race waits for an interrupted HiGHS to stop.
_MIP_STOP_S = 2.0
#: Region batches run on one thread while the LP solves on the other, one per
#: this many nonzeros of the core (about the LP's time); then the search waits
#: for the LP (a count rather than a clock keeps the solve repeatable).
_NONZEROS_PER_BATCH = 15_000
#: Region batches between two attempts at fixing sites.
_BATCHES_PER_ROUND = 25
#: A plan further than this from the bound after the dive defers the Lagrangian of a
#: core that is mostly one component, for at most LAGRANGIAN_ROUNDS region rounds
#: (see ``_large``).
LAGRANGIAN_DEFER_GAP = 0.005
LAGRANGIAN_ROUNDS = 4
#: There the region search runs STALL_CHUNK batches at a time; after STALL_BATCHES
#: batches in a row without a better plan, a MIP solver races on the whole core (see
#: ``_search_and_finish``). On two dense regional cores whose LP opens no site in
#: full, HiGHS alone had its 60 s bound after 44 s; on one whose plan the search
#: keeps improving, HiGHS spent 20 s in its root node.
STALL_CHUNK = 5
STALL_BATCHES = 10
#: The MIP engine that races on a whole core (``fix`` None); a fixed core keeps HiGHS.
WHOLE_CORE_ENGINE: Engine = "scip"
#: Copies of SCIP (random seeds ``seed``, ``seed + 1``, ...) that race on the whole core
#: once the search has stalled, up to the number of workers; the search stops meanwhile.
WHOLE_CORE_COPIES = 2
#: Seconds between two looks at the whole-core race while every thread is in it.
_RACE_POLL_S = 0.1


# Over 100 lines only for its docstring: the Notes state the model's formulation.
def solve_count_only(problem: SitingProblem, options: SolveOptions) -> SolveResult:
    """Open the sites that serve the most demand when only their number matters.

    Parameters
    ----------
    problem
        A count-only siting problem: no capacity, no area quotas per group, no
        rent cap. Count limits (``count_min``, ``count_max``, an area budget
        with the smallest tier), group count quotas, existing (forced open) and
        forbidden sites and ``value`` multipliers are honoured.
    options
        Time limit (whole solve), gap target, seed, workers, progress callback,
        stop event and an optional hint (areas of a known plan).

    Returns
    -------
    SolveResult
        ``area_m2`` gives each open site its smallest allowed area (an
        existing site keeps its own), ``served`` assigns every covered point's
        weight to one open covering site (the quickest when ``travel_time_h``
        is given, else the first), and ``objective``/``bound``/``gap`` are in
        value-weighted parcels/day. ``info`` holds the reduction sizes and the
        time spent in each stage.

    Raises
    ------
    ValidationError
        When an array has the wrong shape or the problem is not count-only.

    Notes
    -----
    With ``w_j`` the weight times value of demand point ``j``, ``N(j)`` the
    candidates covering it, ``y_i`` whether site ``i`` opens and ``z_j``
    whether point ``j`` is served:

    .. math::

        \\max \\sum_j w_j z_j \\quad\\text{s.t.}\\quad z_j \\le \\sum_{i \\in N(j)} y_i,
        \\quad L \\le \\sum_i y_i \\le U,
        \\quad l_g \\le \\sum_{i \\in g} y_i \\le u_g,
        \\quad y_i = 1 \\ (i \\text{ existing}),\\ y_i = 0 \\ (i \\text{ forbidden}).

    The bound is the smallest of the LP bound (from its duals, through the
    Lagrangian of the covering rows), the integer Lagrangian of the count and
    quota rows over the connected components, and CP-SAT's bound on the
    reduced problem. A fixed seed gives the same plan whenever the solve ends
    on the gap target rather than on the wall-clock limit, and with one worker
    or when the same solver of the exact finish proves the target first
    (CP-SAT or HiGHS, each deterministic; the plan of HiGHS when it proves
    first, even if the dive found another of the same value meanwhile). With
    a nonzero gap target on a small problem, a dive plan better than the one
    HiGHS proves may be kept or not depending on which finishes first.

    Examples
    --------
    Four towns on a line, two sites may open; each site reaches its neighbours:

    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]))
    >>> p = SitingProblem(weight=np.array([5., 1., 1., 4.]), cover=cover,
    ...                   tiers_m2=np.array([100.]), area_budget_m2=None, count_max=2)
    >>> r = solve_count_only(p, SolveOptions(time_limit_s=10, workers=1))
    >>> r.status, r.objective, r.area_m2.tolist()
    ('optimal', 11.0, [100.0, 0.0, 100.0])
    """
    t0 = time.perf_counter()
    prep, reasons = prepare(problem)
    n_sites, n_demand = problem.cover.shape
    if prep is None:
        return SolveResult(status="infeasible", objective=math.nan, bound=math.nan,
                           gap=math.inf, wall_s=time.perf_counter() - t0,
                           area_m2=np.zeros(n_sites),
                           served=sp.csr_matrix((n_sites, n_demand)), reasons=reasons)
    limit = float(options.time_limit_s)
    # Keep a little time to stop the LP thread and write the result.
    deadline = t0 + limit - min(1.0, 0.3 + 0.01 * limit)
    core = reduce_core(prep)
    progress = options.progress if callable(options.progress) else None
    tracker = Tracker(progress, t0, sense="max", offset=core.constant)
    info: dict[str, object] = dict(core.stats)
    stages: dict[str, float] = {}
    workers = int(options.workers or max(1, os.cpu_count() or 1))

    def stop() -> bool:
        return stop_requested(options.stop) or time.perf_counter() >= deadline

    def stage(name: str, since: float) -> float:
        return _timed(stages, name, since)

    t = time.perf_counter()
    plan = greedy(core)
    info["greedy_value"] = core.constant + plan.value
    offer(tracker, plan, easy_bound(core))
    if options.hint is not None:
        hint_y = np.asarray(options.hint, dtype=float)[core.sites] > 0
        hplan = greedy(core, start=hint_y)
        offer(tracker, swap_search(core, hplan, deadline, stop))
    t = stage("greedy", t)
    offer(tracker, swap_search(core, best_plan(tracker), deadline, stop))
    t = stage("swap", t)

    if core.n <= SMALL_SITES:
        with MipRace(core, tracker, options, deadline, fix=None, info=info) as race:
            lp = _dive(core, tracker, race.options, deadline, info)
            t = stage("dive", t)
            if not reached(tracker, options.gap) and lp is not None:
                threads = workers - 1 if race.thread is not None else workers
                _close_in(core, lp, tracker, race.options, deadline, max(1, threads), info)
                t = stage("regions", t)
            if not reached(tracker, options.gap):
                exact_finish(core, tracker, race.options, deadline, fix=None,
                             beaten=race.done)
        t = stage("exact", t)
    elif not reached(tracker, options.gap) and not stop():
        _large(core, tracker, options, deadline, workers, info, stages)
    info["stages_s"] = stages
    return _result(problem, prep, core, tracker, options, t0, info)


def _timed(stages: dict[str, float], name: str, since: float) -> float:
    """Add the seconds since ``since`` to stage ``name``; now."""
    now = time.perf_counter()
    stages[name] = round(stages.get(name, 0.0) + now - since, 3)
    return now


def _background_lp(core: Core, tracker: Tracker, options: SolveOptions, deadline: float,
                   workers: int, state: Regions,
                   stages: dict[str, float]) -> tuple[bool, CoreLp | None]:
    """The LP (HiGHS) in a background thread, the region search meanwhile.

    Returns whether the solve goes on (not stopped, not past the deadline)
    and the LP (``None`` when it failed).
    """
    from ortools.util.python.solve_interrupter import SolveInterrupter

    t_lp = time.perf_counter()
    box: dict[str, object] = {}
    interrupter = SolveInterrupter()

    def run_lp() -> None:
        try:
            box["lp"] = core_lp(core, max(0.1, deadline - time.perf_counter()), interrupter)
        except Exception as exc:  # pragma: no cover - reported, the solve goes on
            box["error"] = exc
        box["wall_s"] = time.perf_counter() - t_lp

    thread = threading.Thread(target=run_lp, name="hzlogistics-lp", daemon=True)
    thread.start()
    t = time.perf_counter()
    try:
        if workers > 1:
            # While the LP solves, the region search uses the other threads.
            before_lp = int(np.clip(round(core.cover.nnz / _NONZEROS_PER_BATCH), 2, 60))
            region_search(core, tracker, options, deadline, max(1, workers - 1), state,
                           before_lp)
            t = _timed(stages, "regions", t)
        while thread.is_alive() and not stop_requested(options.stop) \
                and time.perf_counter() < deadline:
            thread.join(0.05)
        if thread.is_alive() or stop_requested(options.stop):
            return False, None
    finally:
        if thread.is_alive():
            # HiGHS may take seconds to notice; the thread is left to finish on its own.
            interrupter.interrupt()
            thread.join(0.3)
            if thread.is_alive():
                logger.debug("LP interrupted; its thread ends in the background")
    stages["lp_thread"] = round(float(box.get("wall_s", 0.0)), 3)  # type: ignore[arg-type]
    if "error" in box:
        logger.warning("LP relaxation failed: %s", box["error"])
    _timed(stages, "lp_wait", t)
    return True, box.get("lp")  # type: ignore[return-value]


def _large(core: Core, tracker: Tracker, options: SolveOptions, deadline: float,
           workers: int, info: dict[str, object], stages: dict[str, float]) -> None:
    """LP bound, LP dive, integer Lagrangian, region search, then the exact finish.

    Cores up to ``FOREGROUND_LP_NONZEROS`` nonzeros solve their LP first (GLOP,
    quick at that size), so that the dive starts early; larger ones solve it
    in a background thread while the region search runs.
    """
    state = Regions.of(core, options.seed)
    lp: CoreLp | None = None
    t = time.perf_counter()
    try:
        if core.cover.nnz <= FOREGROUND_LP_NONZEROS:
            lp = core_lp(core, max(0.1, deadline - t), solver="GLOP")
            t = _timed(stages, "lp", t)
        else:
            going, lp = _background_lp(core, tracker, options, deadline, workers, state,
                                       stages)
            if not going:
                return
            t = time.perf_counter()
        # One component holding most sites makes the Lagrangian one large solve
        # (3.4 s on a dense regional core) that only tightens the bound, by
        # 0.02-0.2 %: with the plan further off than LAGRANGIAN_DEFER_GAP it waits
        # (``late``) until the plan is close, the search has converged or
        # LAGRANGIAN_ROUNDS passed, and runs at the end should the search reach
        # the target first.
        late: CoreLp | None = None
        if lp is not None:
            _bound_and_dive(core, lp, tracker, options, deadline, info)
            t = _timed(stages, "dive", t)
            if not reached(tracker, options.gap):
                if plan_gap(tracker) > LAGRANGIAN_DEFER_GAP \
                        and np.bincount(core.comp).max(initial=0) > 0.5 * core.n:
                    late = lp
                else:
                    t = _lagrangian(core, lp, tracker, options, deadline, workers, info,
                                    stages, t)
            state.seeds = focus_seeds(core, lp, best_plan(tracker), options.seed)
        _search_and_finish(core, lp, late, tracker, options, deadline, workers, info, stages,
                           state, t)
    finally:
        info["regions"] = dict(state.stats)


def _search_and_finish(core: Core, lp: CoreLp | None, late: CoreLp | None,
                       tracker: Tracker, options: SolveOptions, deadline: float,
                       workers: int, info: dict[str, object], stages: dict[str, float],
                       state: Regions, t: float) -> None:
    """Region search rounds until the exact finish can start; ``late``: the deferred Lagrangian.

    The Lagrangian of ``late`` runs once the plan is within ``EXACT_GAP`` of the
    bound, the search has converged or ``LAGRANGIAN_ROUNDS`` rounds passed, and
    at the end should the target be reached first. With ``late`` given the
    search runs ``STALL_CHUNK`` batches at a time, and once ``STALL_BATCHES``
    batches in a row find no better plan while it is still further than
    ``EXACT_GAP`` off, ``WHOLE_CORE_COPIES`` copies of SCIP solve the whole
    core for the rest of the solve (:class:`MipRace`), the search on the
    threads left, if any (with two workers the search waits for the proof).
    """
    chunk = STALL_CHUNK if late is not None else _BATCHES_PER_ROUND
    race_due = late is not None and workers > 1
    converged = False
    batches = stall = 0
    threads = workers
    race: MipRace | None = None  # the whole-core race, once it runs
    with contextlib.ExitStack() as stack:
        while not reached(tracker, options.gap) and not stop_requested(options.stop) \
                and time.perf_counter() < deadline:
            close = plan_gap(tracker) <= max(EXACT_GAP, float(options.gap))
            if late is not None and (close or converged
                                     or batches >= LAGRANGIAN_ROUNDS * _BATCHES_PER_ROUND):
                t = _lagrangian(core, late, tracker, options, deadline, threads, info, stages,
                                t)
                late = None
                continue
            fix = fixing(core, lp, tracker) if lp is not None else None
            if fix is not None and (converged or (close and int((fix < 0).sum()) <= EXACT_FREE)):
                info["fixed_sites"] = int((fix >= 0).sum())
                with MipRace(core, tracker, options, deadline, fix=fix, info=info) as race:
                    exact_finish(core, tracker, race.options, deadline, fix=fix,
                                 beaten=race.done)
                t = _timed(stages, "exact", t)
                break
            if converged:
                break
            if race_due and stall >= STALL_BATCHES and not close:
                race_due = False
                whole = stack.enter_context(MipRace(core, tracker, options, deadline,
                                                    fix=None, info=info,
                                                    copies=WHOLE_CORE_COPIES))
                if whole.thread is not None:
                    info["mip_from_s"] = round(tracker.elapsed(), 3)
                    race = whole
                    options, threads = whole.options, workers - len(whole.threads)
            if threads <= 0 and race is not None:  # every thread proves: wait for the proof
                if any(thread.is_alive() for thread in race.threads):
                    race.done.wait(_RACE_POLL_S)
                    continue
                threads = workers  # the copies ended without the proof: search again
            before = tracker.best
            converged = region_search(core, tracker, options, deadline, threads, state, chunk)
            batches += chunk
            stall = 0 if tracker.best > before else stall + chunk
            t = _timed(stages, "regions", t)
        if late is not None and not stop_requested(options.stop) \
                and time.perf_counter() < deadline:
            _lagrangian(core, late, tracker, options, deadline, max(1, threads), info, stages,
                        t)


def _lagrangian(core: Core, lp: CoreLp, tracker: Tracker, options: SolveOptions,
                deadline: float, workers: int, info: dict[str, object],
                stages: dict[str, float], since: float) -> float:
    """The integer Lagrangian of the components; now."""
    lag = component_lagrangian(core, lp, tracker, options, deadline, workers)
    info["lagrangian_bound"] = core.constant + lag
    return _timed(stages, "lagrangian", since)


def _dive(core: Core, tracker: Tracker, options: SolveOptions, deadline: float,
          info: dict[str, object]) -> CoreLp | None:
    """The LP (GLOP, in the foreground) for its bound and the dive from its full sites.

    Returns the LP (``None`` when stopped first or when it failed).
    """
    if stop_requested(options.stop) or time.perf_counter() >= deadline:
        return None
    lp = core_lp(core, max(0.1, deadline - time.perf_counter()), solver="GLOP")
    if lp is not None:
        _bound_and_dive(core, lp, tracker, options, deadline, info)
    return lp


def _close_in(core: Core, lp: CoreLp, tracker: Tracker, options: SolveOptions,
              deadline: float, threads: int, info: dict[str, object]) -> None:
    """Region search on a small core until the plan is within ``EXACT_GAP`` of the bound.

    The exact CP-SAT solve of a whole core whose LP is far from integral finds
    better plans slowly; the region search, seeded where the LP says the plan
    falls short, finds them sooner. Ends when the plan is close enough, the
    search has converged, or at the target, deadline or stop.
    """
    if plan_gap(tracker) <= max(EXACT_GAP, float(options.gap)):
        return
    state = Regions.of(core, options.seed)
    state.seeds = focus_seeds(core, lp, best_plan(tracker), options.seed)
    try:
        while not reached(tracker, options.gap) and not stop_requested(options.stop) \
                and time.perf_counter() < deadline \
                and plan_gap(tracker) > max(EXACT_GAP, float(options.gap)):
            if region_search(core, tracker, options, deadline, threads, state,
                             _BATCHES_PER_ROUND):
                break
    finally:
        info["regions"] = dict(state.stats)


def _bound_and_dive(core: Core, lp: CoreLp, tracker: Tracker, options: SolveOptions,
                    deadline: float, info: dict[str, object]) -> None:
    """Offer the LP's bound, then dive from its full sites unless the target is reached."""
    offer(tracker, bound=lp.bound)
    info["lp_bound"] = core.constant + lp.bound
    if not reached(tracker, options.gap):
        dive: dict[str, object] = {}
        reduced = np.asarray(core.cover @ lp.pi).ravel() + core.own - lp.pen
        lp_dive(core, lp.y, tracker, options, deadline, dive, reduced=reduced,
                max_share=DIVE_SHARE)
        info["dive"] = dive


class _Either:
    """A stop event set when either of two events is (the caller's or the race's own)."""

    def __init__(self, first: object | None, second: threading.Event) -> None:
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return stop_requested(self.first) or self.second.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        end = time.perf_counter() + (timeout if timeout is not None else math.inf)
        while not self.is_set():
            left = end - time.perf_counter()
            if left <= 0:
                return False
            self.second.wait(min(0.05, left))
        return True


class MipRace:
    """A MIP solver on the core's integer program in a thread, racing the exact CP-SAT solve.

    On the whole core (``fix`` None) the solver is ``WHOLE_CORE_ENGINE`` (SCIP),
    on a fixed core HiGHS; "HiGHS" below stands for either.

    Used as a context manager around the CP-SAT solve, which is given
    ``race.options`` (whose stop event also fires once HiGHS has proven the
    gap target, ``race.done``). On leaving, HiGHS is interrupted if still
    running and its thread joined (it stops within a node or a few simplex
    iterations, :class:`~hzlogistics.solvers.mip.MipInterrupter`), and its
    plan goes to the tracker only if it finished on its own (its bound
    always); at the deadline, where HiGHS stops too, it is given
    ``_MIP_GRACE_S`` seconds to do so. So the plan is that of the solver that proved the
    target first, each being deterministic. Cores above ``MIP_NONZEROS``
    nonzeros (or with one worker) run without the race.

    On the whole core the solver runs without its primal heuristics (HiGHS
    without its sub-MIPs), as the plans come from the search beside it. There
    SCIP gives a far tighter bound than HiGHS in the same time: on two dense
    regional cores whose LP opens no site in full, alone on one thread for
    60 s, 187,090 and 383,206 (187,141 and 383,884 with its heuristics) where
    the whole solve with HiGHS had reached 187,286 and 384,591. On a fixed
    core (the exact finish, close to the target) HiGHS keeps its sub-MIPs, as
    its own plans may complete its proof there. SCIP also gets a cutoff: the
    value of the best plan so far, raised by the gap target, and raised again
    whenever the search beside it or SCIP itself finds a better plan. It explores
    no node that could only close the gap by less than the target, and when
    nothing lies above the cutoff its proof is the cutoff itself and the plan
    the search's: on the same two cores, SCIP alone proved a 0.1 % gap in 59 s
    and 56 s this way against 70 s and 76 s from the plan with a 0.1 % gap
    limit. Raised as the plan improves, it took seed 14 of family 1 (SCIP
    from 5.2 s, the search's plan found at 10-16 s) to the target in 63.8 s,
    against 72.4 s with SCIP started on the stalled search at 16.2 s; started
    that early, seed 8 took 49.1 s against 39.6 s and seed 4 10.2 s against
    7.2 s, so the race still waits for the search to stall
    (``STALL_BATCHES``). With a gap target of 0 it starts from the plan
    instead, without a cutoff.

    ``copies`` SCIPs (at most one per worker; a fixed core always runs one
    HiGHS) race each other with random seeds ``seed``, ``seed + 1``, ...: the
    time SCIP takes to prove a core varies with its seed (alone, seed 14's
    core at the cutoff of its 60 s plan: 60.7, 42.1, 60.9 and 70.3 s with
    seeds 0-3), and the first proof ends the race. Every copy's bound holds;
    the plan is the best of those that finished.
    """

    def __init__(self, core: Core, tracker: Tracker, options: SolveOptions, deadline: float,
                 fix: np.ndarray | None, info: dict[str, object], copies: int = 1) -> None:
        self.core, self.tracker, self.deadline, self.fix, self.info = (core, tracker, deadline,
                                                                       fix, info)
        self.done = threading.Event()
        self.options = dataclasses.replace(options, stop=_Either(options.stop, self.done))
        self.floor = tracker.best  # a fixed core's bound holds for better plans only
        self.threads: list[threading.Thread] = []
        self.interrupters: list[MipInterrupter] = []
        self.boxes: list[dict[str, object]] = []
        workers = int(options.workers or max(1, os.cpu_count() or 1))
        # Should an interrupted HiGHS outlive its join, no second one starts meanwhile.
        busy = any(t.name == _MIP_THREAD and t.is_alive() for t in threading.enumerate())
        if core.cover.nnz <= MIP_NONZEROS and workers > 1 and core.n and not busy:
            # Copies of SCIP differ by their random seed only (HiGHS runs alone).
            n_copies = max(1, min(int(copies), workers)) if self.engine == "scip" else 1
            for k in range(n_copies):
                box: dict[str, object] = {}
                stopper = MipInterrupter()
                self.boxes.append(box)
                self.interrupters.append(stopper)
                self.threads.append(threading.Thread(
                    target=self._run, args=(best_plan(tracker), float(options.gap),
                                            int(options.seed) + k, box, stopper),
                    name=_MIP_THREAD, daemon=True))

    @property
    def engine(self) -> Engine:
        """The MIP solver of this race: SCIP on the whole core, HiGHS on a fixed one."""
        return WHOLE_CORE_ENGINE if self.fix is None else "highs"

    @property
    def thread(self) -> threading.Thread | None:
        """The first solver's thread (``None`` when the race does not run)."""
        return self.threads[0] if self.threads else None

    def _run(self, plan: CountPlan, gap_target: float, seed: int, box: dict[str, object],
             stopper: MipInterrupter) -> None:
        t = time.perf_counter()
        whole = self.fix is None
        engine = self.engine
        const = self.core.constant
        tracker = self.tracker

        def cutoff(own: float) -> float:
            # The best plan so far (the search's beside SCIP, or SCIP's), raised by the target.
            have = max(plan.value, tracker.best, own)
            return have + gap_target * (const + have)

        # SCIP prunes what could only close the gap by less than the target. With no
        # target it is given the plan instead: a cutoff at the plan's own value and no
        # plan took seed 8 of family 1 to its proof in 111 s, the plan alone in 75 s.
        with_cutoff = whole and engine == "scip" and gap_target > 0
        try:
            out, bound = core_mip(self.core, plan, self.fix,
                                  max(0.1, self.deadline - time.perf_counter()), gap_target,
                                  stopper, sub_mips=not whole, engine=engine,
                                  cutoff=cutoff if with_cutoff else None, seed=seed)
            box.update(plan=out, bound=bound)
            # A fixed core's bound holds for plans better than the one fixed from, which
            # the best plan now is at least; a cutoff's, with the best plan it came from.
            have = max(self.floor, tracker.best, out.value if out is not None else -math.inf)
            if (out is not None or with_cutoff) and math.isfinite(bound) \
                    and relative_gap(const + have, const + max(bound, have)) \
                    <= gap_target + GAP_TOL:
                self.done.set()
        except Exception as exc:  # pragma: no cover - reported, the solve goes on
            box["error"] = exc
        box["wall_s"] = round(time.perf_counter() - t, 3)

    def __enter__(self) -> MipRace:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.threads:
            return
        if any(t.is_alive() for t in self.threads) and not stop_requested(self.options.stop) \
                and time.perf_counter() >= self.deadline - _MIP_GRACE_S:
            # HiGHS stops at the same deadline, its best plan in hand: a moment to take it.
            end = time.perf_counter() + _MIP_GRACE_S
            for thread in self.threads:
                thread.join(max(0.0, end - time.perf_counter()))
        finished = [not t.is_alive() for t in self.threads]
        if not all(finished):
            for stopper in self.interrupters:
                stopper.interrupt()
            end = time.perf_counter() + _MIP_STOP_S
            for thread in self.threads:
                thread.join(max(0.0, end - time.perf_counter()))
                if thread.is_alive():  # pragma: no cover - HiGHS inside a long step
                    logger.debug("%s still stopping; its thread ends in the background",
                                 self.engine)
        plans: list[CountPlan] = []
        bounds: list[float] = []
        for box, own in zip(self.boxes, finished, strict=True):
            if "error" in box:
                logger.warning("%s on the core failed: %s", self.engine, box["error"])
            out = box.get("plan")
            if isinstance(out, CountPlan) and own:  # a plan only from a solve that ended
                plans.append(out)
            bound = box.get("bound")
            if isinstance(bound, float) and not math.isnan(bound):
                bounds.append(bound)  # each copy's bound holds, even when stopped
        best = max(plans, key=lambda p: p.value, default=None)
        if best is not None:
            if fits(self.core, best):
                best = filled(self.core, best)
                offer(self.tracker, best)
                if self.done.is_set():  # the prover's plan, whatever else found its value
                    prefer(self.tracker, best)
            else:  # pragma: no cover - a solver tolerance; the plan is not used
                logger.warning("%s returned a plan outside the count bounds; not used",
                               self.engine)
        bound = min(bounds, default=None)
        if bound is not None:
            offer(self.tracker, bound=max(bound, self.floor) if self.fix is not None else bound)
        walls = [w for box in self.boxes if isinstance(w := box.get("wall_s"), float)]
        self.info["mip"] = {"wall_s": min(walls, default=None),
                            "copies": len(self.threads),
                            "value": None if best is None else self.core.constant + best.value,
                            "bound": None if bound is None else self.core.constant + bound}


def _result(problem: SitingProblem, prep: Prepared, core: Core, tracker: Tracker,
            options: SolveOptions, t0: float, info: dict[str, object]) -> SolveResult:
    n_sites, n_demand = problem.cover.shape
    plan = tracker.payload
    assert plan is not None
    y = prep.forced.copy()
    y[core.sites[plan.y]] = True
    cover = prep.cover
    # Fillers: the dropped sites serving the most of what is still unserved.
    for g in range(core.n_groups):
        need = int(plan.pad[g])
        if need <= 0:
            continue
        cands = core.pads[g]
        hit = np.asarray(cover[y].sum(axis=0)).ravel() > 0
        gains = np.asarray(cover[cands] @ np.where(hit, 0.0, prep.weight)).ravel()
        y[cands[np.argsort(-gains, kind="stable")[:need]]] = True
    hit = np.asarray(cover[y].sum(axis=0)).ravel() > 0
    objective = float(prep.weight[hit].sum())
    bound = core.constant + max(tracker.bound, tracker.best)
    bound = max(bound, objective)
    gap = relative_gap(objective, bound)
    status: Status
    if stop_requested(options.stop):
        status = "interrupted"
    elif gap <= float(options.gap) + GAP_TOL:
        status = "optimal"
    else:
        status = "feasible"
    area = np.where(y, prep.area_open_m2, 0.0)
    served = _served(problem, y, hit)
    wall = time.perf_counter() - t0
    log = list(tracker.log)
    log.append((wall, objective, bound))
    info.update(open_sites=int(y.sum()), fillers=int(plan.pad.sum()))
    logger.info("count-only solve: %s objective %.6g bound %.6g gap %.4g%% in %.1fs", status,
                objective, bound, 100 * gap, wall)
    return SolveResult(status=status, objective=objective, bound=bound, gap=gap, wall_s=wall,
                       area_m2=area, served=served, log=log, info=info)


def _served(problem: SitingProblem, y: np.ndarray, hit: np.ndarray) -> sp.csr_matrix:
    """Each served point's weight at one open covering site (quickest, else first)."""
    n_sites, n_demand = problem.cover.shape
    open_idx = np.flatnonzero(y)
    c_open = sp.csr_matrix(problem.cover, dtype=bool)[open_idx].tocoo()
    rows, cols = c_open.row, c_open.col
    if problem.travel_time_h is not None and rows.size:
        tt = sp.csr_matrix(problem.travel_time_h)[open_idx].astype(np.float64)
        tt.data = np.abs(tt.data) + 1.0
        pattern = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=c_open.shape)
        key = pattern.maximum(tt.multiply(pattern)).tocoo()
        rows, cols, times = key.row, key.col, key.data - 1.0
    else:
        times = np.zeros(rows.size)
    order = np.lexsort((rows, times, cols))
    cs = cols[order]
    first = np.r_[True, cs[1:] != cs[:-1]] if cs.size else np.zeros(0, dtype=bool)
    pick_col = cs[first]
    pick_site = open_idx[rows[order][first]]
    w = np.asarray(problem.weight, dtype=float)
    keep = hit[pick_col]
    return sp.csr_matrix((w[pick_col[keep]], (pick_site[keep], pick_col[keep])),
                         shape=(n_sites, n_demand))


__all__ = ["solve_count_only"]
