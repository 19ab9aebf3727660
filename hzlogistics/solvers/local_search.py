"""Local search that improves a feasible plan and keeps it feasible.

:func:`swap_search` is the 1-swap search of the coverage objective without
capacity; :func:`rebalance_search` shrinks idle area and regrows it where
demand waits, with capacity (the demand served exactly by
:class:`~hzlogistics.solvers.capacity.CapacityFlow`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.capacity import CapacityFlow
from hzlogistics.solvers.heuristic import CapacityGain, MovePrice, PlanState, greedy_plan
from hzlogistics.solvers.sites import TOL, SiteTable, at_most


def swap_search(
    table: SiteTable,
    area_m2: np.ndarray,
    cover: sp.csr_matrix,
    weight_value: np.ndarray,
    *,
    time_limit_s: float = 10.0,
    max_rounds: int = 100_000,
) -> np.ndarray:
    """1-swap local search for coverage without capacity.

    Repeatedly applies the best of: open a closed site (when count and area
    allow); swap an open site for a closed one at its smallest area. Every
    move keeps all constraints. Gains are exact: with ``n_c`` the number of
    open sites covering class ``c``, closing ``i`` loses the classes with
    ``n_c = 1`` it covers, opening ``k`` gains those with ``n_c = 0`` it
    covers, and a swap gets back what ``k`` also covers of what ``i`` loses.

    Parameters
    ----------
    table
        The site-side constraints.
    area_m2
        A feasible starting plan.
    cover
        ``(n_sites, n_classes)`` coverage.
    weight_value
        ``(n_classes,)`` value of each class.
    time_limit_s, max_rounds
        Stop after this long or this many moves.

    Returns
    -------
    numpy.ndarray
        The improved plan.
    """
    t0 = time.perf_counter()
    cover = sp.csr_matrix(cover, dtype=float)
    wv = np.asarray(weight_value, dtype=float)
    state = PlanState(table, area_m2)
    min_area = table.min_area_m2
    can = table.can_open
    tol = 1e-9 * max(1.0, float(wv.sum()))
    for _ in range(max_rounds):
        if time.perf_counter() - t0 > time_limit_s:
            break
        opened = state.area > 0
        cnt = np.asarray(cover[opened].sum(axis=0)).ravel()
        gain = cover @ (wv * (cnt == 0))
        loss = cover @ (wv * (cnt == 1))
        closed_ok = np.flatnonzero(~opened & can)
        best = (tol, -1, -1)
        # add moves
        for k in closed_ok[np.argsort(-gain[closed_ok])]:
            if gain[k] <= best[0]:
                break
            if state.allows(int(k), min_area[k]):
                best = (gain[k], -1, int(k))
                break
        # swap moves: delta(i, k) = gain_k - loss_i + overlap(i, k)
        out = np.flatnonzero(opened & ~table.forced)
        if out.size and closed_ok.size:
            only = sp.diags(wv * (cnt == 1))
            overlap = (cover[closed_ok] @ only @ cover[out].T).toarray()
            delta = gain[closed_ok][:, None] - loss[out][None, :] + overlap
            flat = np.argsort(-delta, axis=None)
            for f in flat[: min(flat.size, 20_000)]:
                kk, ii = np.unravel_index(f, delta.shape)
                d = delta[kk, ii]
                if d <= best[0]:
                    break
                k, i = int(closed_ok[kk]), int(out[ii])
                if _swap_ok(state, i, k, min_area[k]):
                    best = (d, i, k)
                    break
        if best[2] < 0:
            break
        _, i, k = best
        if i >= 0:
            state.set(i, 0.0)
        state.set(k, min_area[k])
    return state.area


def _swap_ok(state: PlanState, i: int, k: int, a_k: float) -> bool:
    """Whether closing ``i`` and opening ``k`` at ``a_k`` keeps every constraint."""
    t = state.table
    if t.forced[i] or state.area[k] > 0:
        return False
    a_i = state.area[i]
    gi, gk = t.group[i], t.group[k]
    if not at_most(state.total - a_i + a_k, t.area_budget_m2):
        return False
    if not at_most(state.rent - a_i * t.rent_usd_m2_year[i] + a_k * t.rent_usd_m2_year[k],
               t.rent_cap_usd_year):
        return False
    if gi == gk:
        new_area = state.group_area[gi] - a_i + a_k
        return (at_most(new_area, t.group_area_max_m2[gi])
                and at_most(t.group_area_min_m2[gi], new_area))
    return (state.group_count[gi] - 1 >= t.group_count_min[gi]
            and state.group_count[gk] + 1 <= t.group_count_max[gk]
            and at_most(t.group_area_min_m2[gi], state.group_area[gi] - a_i)
            and at_most(state.group_area[gk] + a_k, t.group_area_max_m2[gk]))


def rebalance_search(
    table: SiteTable,
    area_m2: np.ndarray,
    flow: CapacityFlow,
    *,
    time_limit_s: float = 10.0,
    max_rounds: int = 50,
    price: MovePrice | None = None,
    on_improve: Callable[[float, np.ndarray], None] | None = None,
    close_share: float = 0.05,
    stop: Callable[[], bool] | None = None,
    restart: bool = False,
) -> tuple[np.ndarray, float]:
    """Local search with capacity: shrink idle area, regrow it where demand waits.

    Each round serves demand exactly (:class:`CapacityFlow`), gives every site
    the smallest allowed area that still carries its load (closing idle sites
    where the counts allow), then spends the freed area greedily on unserved
    demand (:class:`CapacityGain`). A round is kept only if the exact value
    improves.

    A round that brings nothing is retried closing, besides the idle sites,
    the open sites serving the least value: ``close_share`` of the open sites
    first, then a quarter as many, down to a single site (the regrowth opens
    sites again where the count or a group needs them). This moves sites and
    area from where they serve little to where demand waits, also when the
    count or the area budget binds. With ``restart``, a search that has come
    down to a single site without a better plan starts over, closing instead
    sites drawn at random from those whose capacity idles most (in parcels/day
    and as a share of the site's, in turn): where tiers are coarse, a large site
    half used holds the floor area that smaller sites elsewhere would fill.

    Parameters
    ----------
    table
        The site-side constraints.
    area_m2
        A feasible starting plan.
    flow
        Exact evaluator of the problem.
    time_limit_s, max_rounds
        Stop after this long or this many rounds.
    price
        Prices for the regrowth (default: per m²).
    on_improve
        Called with ``(objective, plan)`` on every improvement.
    close_share
        Share of the open sites closed at first when the count limit binds
        (0: never close a site that serves demand).
    stop
        Checked before each round: when it returns True the search ends
        (for example once the caller's gap target is reached).
    restart
        Start over as above instead of ending at a local optimum (the search
        then ends on ``time_limit_s``, ``max_rounds`` or ``stop``).

    Returns
    -------
    plan : numpy.ndarray
    objective : float
    """
    t0 = time.perf_counter()
    area = np.asarray(area_m2, dtype=float).copy()
    obj, flows = flow.solve(area)
    # a round ends with an exact flow: leave time for it
    solve_s = time.perf_counter() - t0
    n_close = 0
    cycle = 0  # how many times the closing came down to one site without a better plan
    for round_no in range(max_rounds):
        if time.perf_counter() - t0 > time_limit_s - solve_s or (stop is not None and stop()):
            break
        load = np.asarray(flows.sum(axis=1)).ravel()
        state = PlanState(table, area)
        if n_close:
            if cycle == 0:
                _close_least_serving(state, flows, flow, n_close)
            else:
                _close_idlest(state, load, flow, n_close, np.random.default_rng(round_no),
                              by_share=cycle % 2 == 1)
            load = np.where(state.area > 0, load, 0.0)
        _shrink_idle(state, area, load, flow)
        kept = sp.diags((state.area > 0).astype(float)) @ flows
        served = np.asarray(kept.sum(axis=0)).ravel()
        ev = CapacityGain(flow.cover, flow.weight, flow.value, flow.capacity,
                          residual=np.maximum(flow.weight - served, 0.0))
        ev.slack = np.maximum(np.minimum(flow.capacity.sites(state.area), 1e300) - load, 0.0)
        new = greedy_plan(table, ev, start_m2=state.area, per_area=True, price=price,
                          deadline=t0 + time_limit_s - solve_s, seed=round_no)
        if new is not None:
            t_solve = time.perf_counter()
            new_obj, new_flows = flow.solve(new)
            solve_s = time.perf_counter() - t_solve
        if new is None or new_obj <= obj * (1 + 1e-12) + 1e-9:
            if n_close == 0 and close_share > 0:
                n_close = max(1, int(close_share * int((area > 0).sum())))
            elif n_close > 1:
                n_close = max(1, n_close // 4)
            elif restart and close_share > 0:
                cycle += 1
                n_close = max(1, int(close_share * int((area > 0).sum())))
            else:
                break
            continue
        area, obj, flows = new, new_obj, new_flows
        if on_improve is not None:
            on_improve(obj, area)
    return area, obj


def _close_least_serving(state: PlanState, flows: sp.csr_matrix, flow: CapacityFlow,
                         n_close: int) -> None:
    """Close up to ``n_close`` open sites of ``state``, those serving the least value first."""
    table = state.table
    served_value = np.asarray(flows @ flow.value).ravel()
    movable = np.flatnonzero((state.area > 0) & ~table.forced)
    closed = 0
    for i in movable[np.argsort(served_value[movable], kind="stable")].tolist():
        if closed >= n_close:
            break
        state.set(i, 0.0)  # minimum counts and areas: the regrowth meets them again
        closed += 1


def _close_idlest(state: PlanState, load: np.ndarray, flow: CapacityFlow, n_close: int,
                  rng: np.random.Generator, by_share: bool) -> None:
    """Close ``n_close`` open sites drawn from the ``3 n_close`` with the most idle capacity.

    Idle capacity is counted in parcels/day, or (``by_share``) as a share of the site's.
    """
    table = state.table
    cap = np.minimum(flow.capacity.sites(state.area), 1e300)
    idle = np.maximum(cap - load, 0.0)
    if by_share:
        idle = idle / np.maximum(cap, 1e-300)
    movable = np.flatnonzero((state.area > 0) & ~table.forced)
    pool = movable[np.argsort(-idle[movable], kind="stable")[:3 * n_close]]
    for i in rng.permutation(pool)[:n_close].tolist():
        state.set(int(i), 0.0)


def _shrink_idle(state: PlanState, area: np.ndarray, load: np.ndarray,
                 flow: CapacityFlow) -> None:
    """Give every site of ``area`` the smallest allowed area that carries its load, idlest first.

    A site with no load may close. ``state`` takes the moves its limits allow.
    """
    table = state.table
    idle = flow.capacity.sites(area) - load
    for i in np.argsort(-idle):
        if idle[i] <= 1e-9 or area[i] <= 0:
            break
        opts = table.areas[i]
        fits = opts[(flow.capacity.site(int(i), opts) >= load[i] - 1e-9)
                    & (opts < area[i] * (1 - TOL))]
        if load[i] <= 1e-9:
            fits = np.concatenate([[0.0], fits])
        for target in fits:
            if state.allows(int(i), float(target)):
                state.set(int(i), float(target))
                break
