"""Capacitated location: Lagrangian bound with a knapsack per site, transport, spill plans.

- :func:`capacitated_lagrangian`: subgradient ascent on the dual of the demand
  rows, each site's subproblem a continuous knapsack;
- :func:`capacitated_start`: the engine's step for split demand: plans from
  the Lagrangian site sets with demand assigned by a transportation LP, a drop
  search, site fixing and the core of least reduced cost for a restricted MIP;
- plans without a MIP: :func:`greedy_plan` (most demand per unit of site
  cost), :func:`spill_plan` and :func:`consolidated_spill` (every demand
  point at its cheapest sites within capacity), and the bound of
  :func:`smallest_size_bound` for problems too large for the dense steps.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.location.pairs import rent_per_pair, values_at
from hzlogistics.models.location.state import (
    HEURISTIC_SHARE,
    SPARSE_KEEP,
    LocationPlan,
    LocationSpec,
    Start,
    prune_threshold,
    site_capacity_max,
)
from hzlogistics.models.location.uncapacitated import LagrangianDual
from hzlogistics.solvers.lagrange import (
    by_demand_then_cost,
    cheapest_pairs,
    fix_by_rho,
    select_sites,
    sparse_lagrangian,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.sites import SiteTable, plan_violations
from hzlogistics.solvers.subproblems import knapsack, sparse_transport, transport
from hzlogistics.solvers.tiered import SiteOptions, tiered_lagrangian
from hzlogistics.solvers.track import Tracker, stop_requested

#: Floor-use shares below which the nearest plan within capacity closes its sites, in turn.
_CONSOLIDATE_SHARES = (0.1, 0.25, 0.5, 0.75)

#: Pairs per demand point of the transportation LPs of :func:`transport_start`.
_LP_PAIRS = 8

#: Most transportation LPs of the slope scaling in :func:`transport_start`.
_SLOPE_ROUNDS = 8

def capacitated_lagrangian(
    c: np.ndarray,
    w: np.ndarray,
    f: np.ndarray,
    cap: np.ndarray,
    *,
    forced: np.ndarray,
    kmin: int,
    kmax: int,
    upper: float,
    lam0: np.ndarray,
    threshold: float,
    deadline: float,
    stop: object | None,
    max_iter: int = 1000,
    patience: int = 20,
    keep_sets: int = 4,
) -> LagrangianDual:
    """Subgradient ascent on the Lagrangian dual of the demand rows, with capacity.

    Each site's subproblem is a continuous knapsack (serve the demand of
    negative reduced cost up to its capacity); the sites are picked within the
    count range, ``kmin`` already raised to the fewest sites whose capacities
    can hold all demand.
    """
    n = f.size
    lam = lam0.astype(float).copy()
    best, best_lam = -np.inf, lam.copy()
    theta, stall, iters = 2.0, 0, 0
    sets: list[np.ndarray] = []
    for _ in range(max_iter):
        iters += 1
        value_i, x = knapsack(c - lam[None, :], w, cap)
        rho = f + value_i
        chosen, _, _ = select_sites(rho, forced, kmin, kmax)
        if not kmin <= int(chosen.sum()) <= kmax:
            best = math.inf
            break
        value = float(lam.sum() + rho[chosen].sum())
        if not math.isfinite(best) or value > best + 1e-12 * max(1.0, abs(best)):
            best, best_lam, stall = value, lam.copy(), 0
            if not sets or not np.array_equal(sets[-1], chosen):
                sets = [*sets[-(keep_sets - 1):], chosen]
        else:
            stall += 1
        if best >= threshold or time.perf_counter() > deadline or (
                stop_requested(stop)):
            break
        g = 1.0 - x[chosen].sum(axis=0)
        norm = float(g @ g)
        if norm < 1e-18:
            break
        lam = lam + theta * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm * g
        if stall >= patience:
            theta, stall = theta / 2.0, 0
            if theta < 1e-4:
                break
    return LagrangianDual(bound=best, lam=best_lam, iterations=iters, sets=sets,
                 active=np.ones(n, dtype=bool), forced=forced.copy())


def greedy_plan(problem: SitingProblem, table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                pair_cost: np.ndarray | None, *, spec: LocationSpec, deadline: float
                ) -> LocationPlan | None:
    """Open sites greedily until the required demand is served; ``None`` if that fails.

    Existing sites open first at their smallest area. Then, repeatedly, the
    (site, area) option that serves the most still-unserved demand per unit of
    site cost (area, rent and fixed cost, or per site for a count) opens, and
    takes the unserved demand it reaches, cheapest (or nearest) first, up to
    its capacity. Finally each site shrinks to the smallest area that holds
    its load. Demand may be split between sites.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    total = float(w.sum())
    need = total if spec.required_share is None else float(spec.required_share) * total
    if pair_cost is not None:
        key = pair_cost
    elif problem.travel_time_h is not None:
        key = values_at(problem.travel_time_h, rows, cols)
    else:
        key = np.zeros(rows.size)
    order = np.lexsort((cols, key, rows))  # by site, then cheapest pair first
    r_s, c_s = rows[order], cols[order]
    start = np.searchsorted(r_s, np.arange(n + 1))
    reach = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n_d))
    k_m2 = problem.capacity_per_m2
    s_cap = (np.full(n, np.inf) if problem.site_capacity is None
             else np.asarray(problem.site_capacity, dtype=float))
    unit = spec.area_cost
    fixed = spec.open_cost

    def capacity(i: int, a: float) -> float:
        return min(k_m2 * a if k_m2 is not None else np.inf, s_cap[i])

    left = w.copy()
    load = np.zeros(n)
    area = np.zeros(n)
    share = np.zeros(rows.size)  # parcels/day on each pair, in ``order``

    def take(i: int, cap: float) -> None:
        sl = slice(start[i], start[i + 1])
        js = c_s[sl]
        room = cap - load[i]
        got = np.minimum(left[js], np.maximum(room - (np.cumsum(left[js]) - left[js]), 0.0))
        share[sl] += got
        left[js] -= got
        load[i] += float(got.sum())

    for f_i in np.flatnonzero(table.forced & table.can_open).tolist():
        area[f_i] = table.min_area_m2[f_i]
        take(f_i, capacity(f_i, area[f_i]))
    opt_site, opt_area = table.option_arrays()
    while total - float(left.sum()) < need * (1 - 1e-12):
        if time.perf_counter() > deadline:
            return None
        free = area[opt_site] == 0
        if not free.any() or int((area > 0).sum()) >= table.count_max:
            return None
        reachable = reach @ left
        caps = np.array([capacity(i, a) for i, a in zip(opt_site, opt_area, strict=True)])
        gain = np.minimum(reachable[opt_site], caps)
        price = fixed[opt_site] + unit[opt_site] * opt_area
        score = np.where(free & (gain > 1e-12), gain / np.maximum(price, 1e-12), -np.inf)
        top = score.max()
        if not np.isfinite(top):
            return None
        # among the options as efficient as the best, the one that serves the most
        # (fewer, larger sites when capacity per m² makes every size equally efficient)
        best = int(np.argmax(np.where(score >= top * (1 - 1e-9), gain, -np.inf)))
        pick = int(opt_site[best])
        area[pick] = opt_area[best]
        take(pick, caps[best])
    # the smallest allowed area that still holds each site's load
    for o_i in np.flatnonzero(area > 0).tolist():
        fits = [a for a in table.areas[o_i] if capacity(o_i, a) >= load[o_i] * (1 - 1e-12)]
        if fits:
            area[o_i] = min(fits)
    if plan_violations(table, area):
        return None
    nz = share > 1e-12
    served = sp.csr_matrix((share[nz], (r_s[nz], c_s[nz])), shape=(n, n_d))
    value = float(fixed @ (area > 0) + unit @ area)
    if pair_cost is not None:
        frac = share[nz] / np.maximum(w[c_s[nz]], 1e-300)
        value += float(pair_cost[order][nz] @ frac)
    return LocationPlan(area=area, objective=value, served=served, source="greedy")


def spill_plan(problem: SitingProblem, table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                pair_cost: np.ndarray, *, spec: LocationSpec, max_rounds: int = 2000,
                closed: np.ndarray | None = None) -> LocationPlan | None:
    """Serve every demand point at its cheapest sites, within their largest capacity.

    In rounds, each demand point with parcels left asks its next cheapest site
    (delivery plus the rent its parcels occupy, per parcel); each site takes the
    requests in that order until its capacity at its largest allowed area is
    full, and what it turns away moves on to the next site. Each open site then
    takes the smallest allowed area that holds its load. ``None`` when a point
    runs out of sites or the plan breaks a site constraint (count, budget, quota).
    Sites in ``closed`` are not used.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    can = table.can_open if closed is None else table.can_open & ~closed
    ok = can[rows]
    rows, cols, pair_cost = rows[ok], cols[ok], pair_cost[ok]
    cap = site_capacity_max(problem, table)
    per_parcel = (pair_cost + rent_per_pair(problem, spec, rows, cols, w)) / np.maximum(
        w[cols], 1e-300)
    order = by_demand_then_cost(cols, per_parcel)
    s_site, s_col, s_key = rows[order], cols[order], per_parcel[order]
    first = np.searchsorted(s_col, np.arange(n_d + 1))
    ptr = first[:-1].copy()
    left = w.copy()
    load = np.zeros(n)
    taken = np.zeros(order.size)
    for _ in range(max_rounds):
        active = np.flatnonzero(left > 1e-9 * np.maximum(w, 1.0))
        if active.size == 0:
            break
        if np.any(ptr[active] >= first[active + 1]):
            return None
        ask = ptr[active]
        site = s_site[ask]
        by = np.lexsort((s_key[ask], site))
        site, ask, need = site[by], ask[by], left[active[by]]
        before = np.cumsum(need) - need
        start_of = np.searchsorted(site, site)  # first request to the same site
        before -= before[start_of]
        got = np.clip(cap[site] - load[site] - before, 0.0, need)
        taken[ask] += got
        np.add.at(load, site, got)
        left[s_col[ask]] -= got
        ptr[s_col[ask]] += (got < need - 1e-12).astype(np.int64)
    else:
        return None
    area = np.zeros(n)
    k = problem.capacity_per_m2
    s_cap = (np.full(n, np.inf) if problem.site_capacity is None
             else np.asarray(problem.site_capacity, dtype=float))
    for i in np.flatnonzero((load > 0) | (table.forced & table.can_open)).tolist():
        allowed = table.areas[i]
        holds = np.minimum(allowed * (k if k is not None else np.inf), s_cap[i]) >= \
            load[i] * (1 - 1e-12)
        if not holds.any():
            return None
        area[i] = float(allowed[np.argmax(holds)])
    if plan_violations(table, area):
        return None
    nz = taken > 0
    served = sp.csr_matrix((taken[nz], (s_site[nz], s_col[nz])), shape=(n, n_d))
    value = float(spec.open_cost @ (area > 0) + spec.area_cost @ area
                  + pair_cost[order][nz] @ (taken[nz] / np.maximum(w[s_col[nz]], 1e-300)))
    return LocationPlan(area=area, objective=value, served=served, source="nearest within capacity")


def smallest_size_bound(table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                         pair_cost: np.ndarray, *, spec: LocationSpec, n_demand: int, upper: float,
                         deadline: float, stop: object | None) -> float:
    """Lagrangian bound where every open site pays at least the rent of its smallest size.

    Capacity dropped, an open site still costs its fixed cost and the rent of
    its smallest allowed area; with the delivery of every pair, that is an
    uncapacitated location problem whose sparse Lagrangian bound
    (:func:`~hzlogistics.solvers.lagrange.sparse_lagrangian`) bounds the
    capacitated one.
    """
    can = table.can_open
    ok = can[rows]
    r, c, cost = rows[ok], cols[ok], pair_cost[ok]
    order = by_demand_then_cost(c, cost)
    pairs = cheapest_pairs(r[order], c[order], cost[order], n_sites=can.size,
                           n_demand=n_demand, keep=SPARSE_KEEP, presorted=True)
    smallest = np.where(can, table.min_area_m2, 0.0)
    open_cost = np.where(can, spec.open_cost + spec.area_cost * smallest, 0.0)
    dual = sparse_lagrangian(pairs, open_cost, can=can, forced=table.forced & can,
                             kmin=table.count_min, kmax=table.count_max, upper=upper,
                             deadline=deadline, stopped=lambda: stop_requested(stop))
    return dual.bound


def consolidated_spill(problem: SitingProblem, table: SiteTable, rows: np.ndarray,
                        cols: np.ndarray, pair_cost: np.ndarray, *, spec: LocationSpec,
                        deadline: float, log: Tracker) -> LocationPlan | None:
    """The nearest plan within capacity, then without its least used sites while that pays.

    Nearest first, every site some demand point prefers opens, at least at the
    smallest size; closing the sites that use little of their floor moves their
    parcels to the other open sites with room, and saves their rent and fixed cost.
    """
    best = spill_plan(problem, table, rows, cols, pair_cost, spec=spec)
    if best is None:
        return None
    log.update(incumbent=best.objective)
    cap = site_capacity_max(problem, table)
    k = problem.capacity_per_m2
    for share in _CONSOLIDATE_SHARES:
        if time.perf_counter() > deadline:
            break
        load = np.asarray(best.served.sum(axis=1)).ravel()
        room = np.where(best.area > 0, cap, 0.0)
        if k is not None:
            room = np.minimum(best.area * float(k), room)
        with np.errstate(invalid="ignore", divide="ignore"):
            used = np.where(room > 0, load / room, 1.0)
        is_open = best.area > 0
        drop = is_open & (used < share) & ~table.forced
        # a demand point keeps the sites it would otherwise lose all of
        keep = is_open & ~drop
        stranded = np.ones(problem.n_demand, dtype=bool)
        stranded[cols[keep[rows]]] = False
        drop[rows[stranded[cols] & drop[rows]]] = False
        if not drop.any():
            continue
        trial = spill_plan(problem, table, rows, cols, pair_cost, spec=spec,
                            closed=~is_open | drop)
        if trial is not None and trial.objective < best.objective:
            best = trial
            log.update(incumbent=best.objective)
    return best


# long: one sequence of steps over two closures that share the sets already tried and
# the best plan so far; split, each step would take them all.
def capacitated_start(
    problem: SitingProblem,
    options: SolveOptions,
    table: SiteTable,
    rows: np.ndarray,
    cols: np.ndarray,
    pair_cost: np.ndarray,
    *,
    base_area: np.ndarray,
    spec: LocationSpec,
    t0: float,
    log: Tracker,
    hint_open: np.ndarray | None,
    info: dict[str, object],
) -> Start:
    """A plan, a Lagrangian bound and site fixings for capacitated, split demand.

    Plans come from the sites the Lagrangian subproblem picks (completed to
    enough capacity, demand assigned by a transportation LP, idle sites
    closed) and from a drop search on the best of them.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    can = table.can_open
    forced = table.forced & can
    idx = np.flatnonzero(can)
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx] = np.arange(idx.size)
    c = np.full((idx.size, n_d), np.inf)
    c[pos[rows], cols] = pair_cost
    f = (spec.open_cost + spec.area_cost * base_area)[idx]
    cap = site_capacity_max(problem, table)[idx]
    forced_a = forced[idx]
    kmin, kmax = int(table.count_min), int(table.count_max)
    total = float(w.sum())
    need = int(np.searchsorted(np.cumsum(np.sort(cap)[::-1]), total * (1 - 1e-12)) + 1)
    kmin_eff = max(kmin, need)
    deadline = t0 + HEURISTIC_SHARE * options.time_limit_s
    out = Start(fix_open=np.zeros(n, dtype=bool), fix_closed=np.zeros(n, dtype=bool))
    best: list[LocationPlan | None] = [None]
    tried: set[bytes] = set()

    def plan_of(open_a: np.ndarray) -> LocationPlan | None:
        """Assign by LP; close sites left idle and re-solve; check the site rules."""
        for attempt in range(2):
            key = open_a.tobytes()
            if key in tried and attempt == 0:
                return None
            tried.add(key)
            remaining = options.time_limit_s - (time.perf_counter() - t0)
            got = transport(c, w, cap, open_a, options, max(remaining, 0.05))
            if got is None:
                return None
            value, x = got
            idle = np.flatnonzero(open_a)[(x.sum(axis=1) <= 1e-12) & ~forced_a[open_a]]
            if idle.size == 0 or int(open_a.sum()) - idle.size < kmin:
                break
            open_a = open_a.copy()
            open_a[idle] = False
        k = int(open_a.sum())
        if not kmin <= k <= kmax:
            return None
        area = np.zeros(n)
        area[idx[open_a]] = base_area[idx[open_a]]
        if plan_violations(table, area):
            return None
        r, j = np.nonzero(x > 1e-12)
        served = sp.csr_matrix((w[j] * x[r, j], (idx[np.flatnonzero(open_a)[r]], j)),
                               shape=(n, n_d))
        objective = float(value + spec.open_cost @ (area > 0) + spec.area_cost @ area)
        plan = LocationPlan(area=area, objective=objective, served=served, source="heuristic")
        if best[0] is None or plan.objective < best[0].objective - 1e-9:
            best[0] = plan
            log.update(incumbent=plan.objective)
        return plan

    def complete(open_a: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """Add the sites of least ``rho`` until the open capacity holds all demand."""
        open_a = open_a | forced_a
        for i in np.argsort(rho, kind="stable"):
            if cap[open_a].sum() >= total * (1 - 1e-12) and int(open_a.sum()) >= kmin_eff:
                break
            open_a[i] = True
        return open_a

    # a first plan: cheapest sites per unit of capacity, for the step sizes
    per_unit = (f + np.where(np.isfinite(c), c, 0.0).mean(axis=1)) / np.maximum(cap, 1e-12)
    starts = [complete(np.zeros(idx.size, dtype=bool), per_unit)]
    if hint_open is not None and hint_open.any():
        starts.append(complete(hint_open[idx], per_unit))
    for start in starts:
        plan_of(start)
    if best[0] is None:
        return out
    lam0 = np.where(np.isfinite(c), c, np.inf).min(axis=0)
    thr = prune_threshold(best[0].objective, options, integral=False)
    dual = capacitated_lagrangian(c, w, f, cap, forced=forced_a, kmin=kmin_eff, kmax=kmax,
                           upper=best[0].objective, lam0=lam0, threshold=thr,
                           deadline=deadline, stop=options.stop)
    value_i, _ = knapsack(c - dual.lam[None, :], w, cap)
    rho = f + value_i
    for chosen in reversed(dual.sets):
        if time.perf_counter() > deadline:
            break
        plan_of(complete(chosen, rho))
    # drop search: close the open site whose removal lowers the cost most
    improved = True
    while improved and time.perf_counter() < deadline and best[0] is not None:
        improved = False
        cur = best[0]
        open_a = cur.area[idx] > 0
        for i in np.flatnonzero(open_a & ~forced_a)[np.argsort(rho[open_a & ~forced_a])[::-1]]:
            if time.perf_counter() > deadline:
                break
            trial = open_a.copy()
            trial[i] = False
            if cap[trial].sum() < total * (1 - 1e-12) or int(trial.sum()) < kmin_eff:
                continue
            before = best[0].objective
            plan_of(trial)
            if best[0].objective < before - 1e-9:
                improved = True
                break
    plan = best[0]
    threshold = prune_threshold(plan.objective, options, integral=False)
    value, chosen, must_open, must_close, _ = fix_by_rho(
        float(dual.lam.sum()), rho, forced=forced_a, kmin=kmin_eff, kmax=kmax,
        threshold=threshold)
    out.incumbent, out.bound, out.threshold = plan, max(dual.bound, value), threshold
    out.fix_open[idx[must_open & ~forced_a]] = True
    out.fix_closed[idx[must_close]] = True

    def refix(upper: float) -> tuple[np.ndarray, np.ndarray, float]:
        thr = prune_threshold(upper, options, integral=False)
        _, _, m_open, m_close, _ = fix_by_rho(float(dual.lam.sum()), rho, forced=forced_a,
                                               kmin=kmin_eff, kmax=kmax, threshold=thr)
        fo = np.zeros(n, dtype=bool)
        fc = np.zeros(n, dtype=bool)
        fo[idx[m_open & ~forced_a]] = True
        fc[idx[m_close]] = True
        return fo, fc, thr

    # the sites of least reduced cost, for a MIP restricted to them
    size = min(idx.size, max(2 * kmin_eff, kmin_eff + 10, int(chosen.sum()) + 5))
    core = np.zeros(n, dtype=bool)
    core[idx[np.argsort(rho, kind="stable")[:size]]] = True
    core |= plan.area > 0
    out.core, out.refix = core, refix
    info.update(lagrangian_bound=out.bound, lagrangian_iterations=dual.iterations,
                fixed_open=int(out.fix_open.sum()), fixed_closed=int(out.fix_closed.sum()),
                transport_lps=len(tried))
    log.update(bound=min(out.bound, plan.objective))
    return out


def site_options(problem: SitingProblem, table: SiteTable, spec: LocationSpec) -> SiteOptions:
    """Every allowed (site, area) with its cost (fixed cost and rent) and capacity."""
    o_site, o_area = table.option_arrays()
    cap = np.full(o_site.size, np.inf)
    if problem.capacity_per_m2 is not None:
        cap = float(problem.capacity_per_m2) * o_area
    if problem.site_capacity is not None:
        cap = np.minimum(cap, np.asarray(problem.site_capacity, dtype=float)[o_site])
    return SiteOptions(site=o_site, cost=spec.open_cost[o_site] + spec.area_cost[o_site] * o_area,
                       capacity=cap)


def sized_plan(problem: SitingProblem, table: SiteTable, spec: LocationSpec, site: np.ndarray,
               demand: np.ndarray, share: np.ndarray, cost: np.ndarray, *, source: str
               ) -> LocationPlan | None:
    """The plan that serves ``share`` of each pair's demand point, each site at the smallest fit.

    The shares of each demand point are scaled to sum to one. Groups with
    fewer open sites than their minimum open their cheapest closed sites at
    the smallest area. ``None`` when a load fits no allowed area or the plan
    breaks a site constraint.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    nz = share > 1e-12
    site, demand, share, cost = site[nz], demand[nz], share[nz], cost[nz]
    total = np.bincount(demand, weights=share, minlength=n_d)
    share = share / np.maximum(total[demand], 1e-300)
    load = np.bincount(site, weights=w[demand] * share, minlength=n)
    k = problem.capacity_per_m2
    s_cap = (np.full(n, np.inf) if problem.site_capacity is None
             else np.asarray(problem.site_capacity, dtype=float))
    area = np.zeros(n)
    for i in np.flatnonzero((load > 0) | (table.forced & table.can_open)).tolist():
        allowed = table.areas[i]
        holds = np.minimum(allowed * (k if k is not None else np.inf), s_cap[i]) >= \
            load[i] * (1 - 1e-7)
        if not holds.any():
            return None
        area[i] = float(allowed[np.argmax(holds)])
    is_open = area > 0
    have = np.bincount(table.group[is_open], minlength=table.n_groups)
    for g in np.flatnonzero(have < table.group_count_min).tolist():
        idle = np.flatnonzero((table.group == g) & table.can_open & ~is_open)
        price = spec.open_cost[idle] + spec.area_cost[idle] * table.min_area_m2[idle]
        pick = idle[np.argsort(price, kind="stable")[:int(table.group_count_min[g] - have[g])]]
        area[pick] = table.min_area_m2[pick]
    if plan_violations(table, area):
        return None
    served = sp.csr_matrix((w[demand] * share, (site, demand)), shape=(n, n_d))
    value = float(spec.open_cost @ (area > 0) + spec.area_cost @ area + cost @ share)
    return LocationPlan(area=area, objective=value, served=served, source=source)


def transport_start(problem: SitingProblem, table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                    pair_cost: np.ndarray, *, spec: LocationSpec, incumbent: LocationPlan | None,
                    plans_until: float, bound_until: float, heuristic_until: float,
                    log: Tracker, stop: object | None, info: dict[str, object]
                    ) -> tuple[LocationPlan | None, float]:
    """Plans by slope scaling of transportation LPs, and the Lagrangian bound with size options.

    1. Each demand point keeps its :data:`_LP_PAIRS` cheapest pairs (delivery
       plus the least rent its parcels occupy); a transportation LP serves all
       demand within the sites' largest capacities, each parcel paying its
       site's cost per parcel (at first the rent of the floor it occupies);
       each site then takes the smallest area that holds its load, and its
       cost per parcel becomes what that area costs over its load (dynamic
       slope scaling, Kim & Pardalos 1999), for the next LP.
    2. The multipliers of the LPs' demand rows start the subgradient ascent of
       :func:`~hzlogistics.solvers.tiered.tiered_lagrangian`, whose bound
       holds for every pair of the problem.
    3. Until ``heuristic_until``, slope scaling again on the sites the
       Lagrangian subproblem opens at the best multipliers.

    Returns the best plan (``incumbent`` unless a better one is found) and the bound.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    can = table.can_open
    ok = can[rows]
    rows, cols, pair_cost = rows[ok], cols[ok], pair_cost[ok]
    best = incumbent
    lams: list[np.ndarray] = []
    lps = [0]

    def scale(open_: np.ndarray, until: float, source: str) -> None:
        """Slope scaling over the cheapest pairs of each point to the sites in ``open_``."""
        nonlocal best
        sel = open_[rows]
        near = cheapest_pairs(rows[sel], cols[sel], (pair_cost + rent_pp)[sel], n_sites=n,
                              n_demand=n_d, keep=_LP_PAIRS)
        near_cost = near.cost - rent_per_pair(problem, spec, near.site, near.demand, w)
        slope = spec.area_cost / float(problem.capacity_per_m2) \
            if problem.capacity_per_m2 is not None else np.zeros(n)
        for _ in range(_SLOPE_ROUNDS):
            left = until - time.perf_counter()
            if left <= 0 or stop_requested(stop):
                break
            per_pair = near_cost + slope[near.site] * w[near.demand]
            got = sparse_transport(near.site, near.demand, per_pair, w, cap, time_limit_s=left)
            if got is None:
                break
            lps[0] += 1
            _, share, lam = got
            lams.append(lam)
            plan = sized_plan(problem, table, spec, near.site, near.demand, share, near_cost,
                              source=source)
            if plan is None:
                break
            if best is None or plan.objective < best.objective - 1e-9:
                best = plan
                log.update(incumbent=plan.objective)
            load = np.asarray(plan.served.sum(axis=1)).ravel()
            used = load > 1e-9
            new = slope.copy()
            new[used] = (spec.open_cost[used] + spec.area_cost[used] * plan.area[used]) / \
                load[used]
            if np.allclose(new, slope, rtol=1e-9, atol=0.0):
                break
            slope = new

    cap = site_capacity_max(problem, table)
    rent_pp = rent_per_pair(problem, spec, rows, cols, w)
    scale(np.ones(n, dtype=bool), plans_until, "transportation LP")
    order = by_demand_then_cost(cols, pair_cost)
    wide = cheapest_pairs(rows[order], cols[order], pair_cost[order], n_sites=n, n_demand=n_d,
                          keep=SPARSE_KEEP, presorted=True)
    opts = site_options(problem, table, spec)
    forced = table.forced & can
    kmin, kmax = int(table.count_min), int(table.count_max)
    upper = best.objective if best is not None else math.inf
    lam0 = None
    start_value = -math.inf
    for lam in lams:  # the multipliers of the LP whose bound is best
        at = tiered_lagrangian(wide, w, opts, can=can, forced=forced, kmin=kmin, kmax=kmax,
                               upper=upper, deadline=math.inf, lam0=lam, max_iter=1)
        if at.bound > start_value:
            start_value, lam0 = at.bound, lam
    if not math.isfinite(upper):
        info.update(transport_lps=lps[0])
        return best, -math.inf
    dual = tiered_lagrangian(wide, w, opts, can=can, forced=forced, kmin=kmin, kmax=kmax,
                             upper=upper, deadline=bound_until, lam0=lam0,
                             theta0=0.5 if lam0 is not None else 2.0,
                             on_bound=lambda b: log.update(bound=min(b, upper)),
                             stopped=lambda: stop_requested(stop))
    # Lagrangian heuristic: the sites the subproblem opens (and each point's cheapest site)
    chosen = dual.chosen | forced
    cheapest_site = wide.site[np.searchsorted(wide.demand, np.arange(n_d)).clip(
        0, max(wide.site.size - 1, 0))] if wide.site.size else np.zeros(0, dtype=np.int64)
    chosen[cheapest_site] = True
    if time.perf_counter() < heuristic_until:
        scale(chosen, heuristic_until, "Lagrangian heuristic")
    info.update(transport_lps=lps[0], tiered_bound=dual.bound, tiered_iterations=dual.iterations)
    return best, dual.bound


__all__ = ["capacitated_lagrangian", "capacitated_start", "consolidated_spill", "greedy_plan",
           "site_options", "sized_plan", "smallest_size_bound", "spill_plan", "transport_start"]
