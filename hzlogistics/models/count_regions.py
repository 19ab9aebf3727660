"""Count-only maximal covering: the region search.

Neighbourhoods of one to two hundred nearby candidates are re-optimized
exactly by CP-SAT with everything outside fixed, two at a time; without quotas
a region may also trade one site with the rest of the plan (close the
cheapest or open the best site away from it). Regions are drawn mostly where
the plan falls short of the LP (:func:`focus_seeds`), and the swap search runs
between rounds.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model
from scipy.sparse.csgraph import breadth_first_order

from hzlogistics.models.count_core import Core, CountPlan, best_plan, offer, reached, swap_search
from hzlogistics.models.count_search import SUB_DTIME, CoreLp, scale_for, sub_model, sub_solve
from hzlogistics.solvers.problem import SolveOptions
from hzlogistics.solvers.track import Tracker, stop_requested

#: Region search: first and largest number of candidates per region.
REGION_SITES = 120
_REGION_SITES_MAX = 220
#: Regions solved together from one plan (on as many threads as allowed).
_BATCH = 2


@dataclass
class Regions:
    """State of the region search, carried between its rounds."""

    adj: sp.csr_matrix  # sites sharing a class
    csc: sp.csc_matrix  # the core's cover, by column
    seeds: np.ndarray  # sequence of region seeds
    comp_size: np.ndarray  # sites of each component
    pos: int = 0
    size: int = REGION_SITES
    seen: dict[tuple[int, int], bytes] = field(default_factory=dict)
    since_swap: int = 0
    skipped: int = 0
    stats: dict[str, int] = field(default_factory=lambda: {"solved": 0, "optimal": 0,
                                                           "improved": 0, "traded": 0})

    @classmethod
    def of(cls, core: Core, seed: int) -> Regions:
        adj = (core.cover @ core.cover.T).tocsr()
        adj.setdiag(0)
        adj.eliminate_zeros()
        return cls(adj=adj, csc=core.cover.tocsc(),
                   seeds=np.random.default_rng(seed).permutation(max(core.n, 1)),
                   comp_size=np.bincount(core.comp, minlength=core.n_comp))


def region_search(core: Core, tracker: Tracker, options: SolveOptions, deadline: float,
                  threads: int, state: Regions, batches: int) -> bool:
    """Re-optimize neighbourhoods of nearby sites exactly, everything else fixed.

    Solves ``batches`` batches of two regions (both from the same plan, so the
    outcome does not depend on ``threads``), or stops earlier at the deadline,
    the gap target, or when every region is optimal for the current plan (then
    returns True). ``state`` carries the search between calls.
    """
    if core.n == 0:
        return True
    scale = scale_for(np.r_[core.weight, core.own])
    plan = best_plan(tracker).copy()

    def stopped() -> bool:
        return stop_requested(options.stop)

    def solve(reg: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, bool]:
        return _solve_region(core, state, scale, reg, y, seed=options.seed, deadline=deadline)

    converged = False
    with ThreadPoolExecutor(max_workers=max(1, min(threads, _BATCH))) as pool:
        for _ in range(batches):
            if reached(tracker, options.gap) or time.perf_counter() >= deadline or stopped():
                break
            size = state.size
            batch = _next_batch(core, state, plan, size)
            if not batch:
                converged = True
                break
            results = list(pool.map(solve, [r for _, r in batch], [plan.y] * len(batch)))
            n_opt = _take_results(core, state, tracker, plan, batch, results)
            # Grow regions while they solve to optimality, shrink when they do not.
            if n_opt == len(results):
                state.size = min(_REGION_SITES_MAX, size + 10)
            else:
                state.size = max(40, int(size * 0.8))
            state.since_swap += len(batch)
            if state.since_swap >= 40:
                state.since_swap = 0
                before = plan.value
                plan = swap_search(core, plan, deadline, stopped)
                offer(tracker, plan)
                if plan.value > before:
                    state.skipped = 0
    if converged and state.since_swap:
        state.since_swap = 0
        plan = swap_search(core, plan, deadline, stopped)
        offer(tracker, plan)
    return converged


def _region(core: Core, state: Regions, seed: int,
            size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The ``size`` sites nearest ``seed`` (its whole component when that is no larger)."""
    c = int(core.comp[seed])
    if state.comp_size[c] <= size:
        return np.flatnonzero(core.comp == c), (-1, c)
    order = breadth_first_order(state.adj, seed, directed=False, return_predecessors=False)
    return np.sort(order[:size]), (seed, size)


def _next_batch(core: Core, state: Regions, plan: CountPlan,
                size: int) -> list[tuple[tuple[int, int], np.ndarray]]:
    """The next regions not yet solved to optimality for the plan as it is."""
    batch: list[tuple[tuple[int, int], np.ndarray]] = []
    while len(batch) < _BATCH and state.skipped < core.n:
        s = int(state.seeds[state.pos % len(state.seeds)])
        state.pos += 1
        reg, tag = _region(core, state, s, size)
        if (tag in state.seen and state.seen[tag] == _fingerprint(core, plan.y, reg)) \
                or any(t == tag for t, _ in batch):
            state.skipped += 1
            continue
        batch.append((tag, reg))
    return batch


def _take_results(core: Core, state: Regions, tracker: Tracker, plan: CountPlan,
                  batch: list[tuple[tuple[int, int], np.ndarray]],
                  results: list[tuple[np.ndarray, np.ndarray | None, bool]]) -> int:
    """Put the regions' solutions into ``plan`` where they serve more; the number optimal."""
    stats = state.stats
    n_opt = 0
    for (tag, reg0), (reg, sol, opt) in zip(batch, results, strict=True):
        stats["solved"] += 1
        if sol is None:
            continue
        n_opt += int(opt)
        stats["optimal"] += int(opt)
        trial = plan.y.copy()
        trial[reg] = sol
        v = core.value(trial)
        if trial.sum() == plan.y.sum() and v > plan.value + 1e-9 * max(1.0, abs(v)):
            stats["improved"] += 1
            stats["traded"] += int(reg.size > reg0.size)
            plan.y, plan.value = trial, v
            offer(tracker, plan)
            state.skipped = 0
        if opt:
            state.seen[tag] = _fingerprint(core, plan.y, reg0)
    return n_opt


def _outside_moves(core: Core, adj: sp.csr_matrix, y: np.ndarray,
                   reg: np.ndarray) -> tuple[int, float, int, float]:
    """Cheapest open site to close and best closed site to open, away from ``reg``."""
    near = np.zeros(core.n, dtype=bool)
    near[reg] = True
    near[adj[reg].indices] = True
    cnt = np.asarray(core.cover_t @ y.astype(np.float64)).ravel()
    loss = np.asarray(core.cover @ np.where(cnt == 1, core.weight, 0.0)).ravel() + core.own
    gain = np.asarray(core.cover @ np.where(cnt == 0, core.weight, 0.0)).ravel() + core.own
    can_close = np.flatnonzero(y & ~near)
    can_open = np.flatnonzero(~y & ~near)
    a = int(can_close[np.argmin(loss[can_close])]) if can_close.size else -1
    b = int(can_open[np.argmax(gain[can_open])]) if can_open.size else -1
    return a, float(loss[a]) if a >= 0 else math.inf, b, float(gain[b]) if b >= 0 else 0.0


def _solve_region(core: Core, state: Regions, scale: float, reg: np.ndarray, y: np.ndarray, *,
                  seed: int, deadline: float) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Best plan of ``reg`` with the rest fixed; without quotas it may trade one site
    with the outside (close the cheapest or open the best site away from it).

    Returns the sites (``reg``, plus the traded one), their new values (``None``
    when nothing was found) and whether the region was solved to optimality.
    """
    outside = y.copy()
    outside[reg] = False
    sub = state.csc[reg]
    cols = np.flatnonzero(np.diff(sub.tocsc().indptr) > 0)
    hit = np.asarray(core.cover_t[cols] @ outside.astype(np.float64)).ravel() > 0
    cols = cols[~hit]
    sub = sub[:, cols].tocsc()
    grp = core.group[reg]
    cur = np.bincount(grp[y[reg]], minlength=core.n_groups)
    flex: list[tuple[cp_model.IntVar, cp_model.IntVar, int, int]] = []

    def trade_terms(model: cp_model.CpModel,
                    yv: list[cp_model.IntVar]) -> list[tuple[cp_model.IntVar, float]]:
        if core.quotas:
            for g in np.flatnonzero(np.bincount(grp, minlength=core.n_groups)):
                model.add(sum(yv[k] for k in np.flatnonzero(grp == g)) == int(cur[g]))
            return []
        a, loss_a, b, gain_b = _outside_moves(core, state.adj, y, reg)
        more = model.new_bool_var("more")
        less = model.new_bool_var("less")
        model.add(more + less <= 1)
        if a < 0:
            model.add(more == 0)
        if b < 0:
            model.add(less == 0)
        model.add(sum(yv) == int(cur.sum()) + more - less)
        model.add_hint(more, False)
        model.add_hint(less, False)
        flex.append((more, less, a, b))
        return [(more, -loss_a if a >= 0 else 0.0), (less, gain_b)]

    sm = sub_model(sub, core.weight[cols], core.own[reg], scale, hint=y[reg], extra=trade_terms)
    status, solver = sub_solve(sm.model, seed, SUB_DTIME, deadline - time.perf_counter())
    if status not in ("optimal", "feasible"):
        return reg, None, False
    sol = np.array([solver.value(v) for v in sm.y], dtype=bool)
    for more, less, a, b in flex:
        if solver.value(more):
            sol = np.r_[sol, False]
            reg = np.r_[reg, a]
        elif solver.value(less):
            sol = np.r_[sol, True]
            reg = np.r_[reg, b]
    return reg, sol, status == "optimal"


def focus_seeds(core: Core, lp: CoreLp, plan: CountPlan, seed: int) -> np.ndarray:
    """Region seeds drawn mostly from the components the LP says the plan falls short in.

    A component's shortfall is its share of the LP dual bound minus the plan's
    value there net of the count price; seeds are drawn in proportion to it
    (70 %) or uniformly (30 %).
    """
    rng = np.random.default_rng(seed + 1)
    n = core.n
    cnt = np.asarray(core.cover_t @ plan.y.astype(np.float64)).ravel()
    value = (np.bincount(core.comp_cls, weights=core.weight * (cnt > 0), minlength=core.n_comp)
             + np.bincount(core.comp, weights=core.own * plan.y, minlength=core.n_comp))
    price = np.asarray(core.cover @ lp.pi).ravel() + core.own - lp.pen
    share = (np.bincount(core.comp_cls, weights=np.maximum(core.weight - lp.pi, 0.0),
                         minlength=core.n_comp)
             + np.bincount(core.comp, weights=np.maximum(price, 0.0), minlength=core.n_comp))
    net = value - np.bincount(core.comp, weights=lp.pen * plan.y, minlength=core.n_comp)
    short = np.maximum(share - net, 0.0)
    size = np.bincount(core.comp, minlength=core.n_comp)
    weight = short[core.comp] / np.maximum(size[core.comp], 1)
    if weight.sum() <= 0:
        return rng.permutation(n)
    focused = rng.choice(n, size=2 * n, p=weight / weight.sum())
    uniform = rng.permutation(n)
    out = np.empty(3 * n, dtype=np.int64)
    mask = np.zeros(3 * n, dtype=bool)
    mask[rng.choice(3 * n, size=n, replace=False)] = True
    out[mask] = uniform
    out[~mask] = focused
    return out


def _fingerprint(core: Core, y: np.ndarray, reg: np.ndarray) -> bytes:
    """What a region's solve depends on: its sites and the classes served from outside."""
    outside = y.copy()
    outside[reg] = False
    sub = core.cover[reg]
    cols = np.unique(sub.indices)
    hit = np.asarray(core.cover_t[cols] @ outside.astype(np.float64)).ravel() > 0
    return y[reg].tobytes() + np.packbits(hit).tobytes()
