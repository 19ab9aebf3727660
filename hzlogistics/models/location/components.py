"""Large uncapacitated problems split into connected components (countries) tied by the counts.

Without capacity, and when the area budget, rent cap and area quotas cannot
bind, sites of different components interact only through the site counts.
:func:`solve_components` bounds the whole problem with a sparse Lagrangian,
gives each component its number of sites, solves each one with the dense
engine, then moves sites between components (:func:`transfer_sites`) while
that lowers the total.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.location.pairs import values_at
from hzlogistics.models.location.state import (
    SPARSE_KEEP,
    LocationPlan,
    LocationSpec,
    finish,
    only_counts,
    prune_threshold,
)
from hzlogistics.solvers.interchange import interchange, nearest_two
from hzlogistics.solvers.lagrange import (
    SparseDual,
    SparsePairs,
    by_demand_then_cost,
    cheapest_pairs,
    sparse_lagrangian,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult, relative_gap
from hzlogistics.solvers.sites import SiteTable
from hzlogistics.solvers.track import Tracker, stop_requested

#: Solves one component: ``solve(problem, options, spec)``.
Solve = Callable[[SitingProblem, SolveOptions, LocationSpec], SolveResult]

#: Shares of the time left that the first sparse Lagrangian ascent, and then the
#: components, may take; the rest goes to a second ascent.
_SPARSE_SHARE, _PARTS_SHARE = 0.15, 0.75

#: Share of the time left after the components that moving sites between them may take.
_MOVE_SHARE = 0.5

#: Step factor of the second ascent, which starts from the first one's best multipliers.
_SPARSE_THETA = 0.5


def _sites_only_counted(table: SiteTable, base_area: np.ndarray) -> bool:
    """Whether, at base areas, no plan can break the area budget, rent cap or area quotas."""
    can = table.can_open
    area = np.where(can, base_area, 0.0)

    def most(values: np.ndarray, k: int) -> float:
        return float(np.sort(values)[::-1][:k].sum())

    if most(area, table.count_max) > table.area_budget_m2 * (1 + 1e-12):
        return False
    if most(area * table.rent_usd_m2_year, table.count_max) > \
            table.rent_cap_usd_year * (1 + 1e-12):
        return False
    for g in range(table.n_groups):
        in_g = table.group == g
        if table.group_area_min_m2[g] > 0:
            return False
        k = min(int(table.group_count_max[g]), table.count_max)
        if most(area[in_g], k) > table.group_area_max_m2[g] * (1 + 1e-12):
            return False
    return True


def component_labels(rows: np.ndarray, cols: np.ndarray, n: int, n_d: int
                ) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of the site–demand pairs: count, site labels, demand labels.

    A site or demand point in no pair is labelled -1 (such demand has weight 0,
    or the problem would be infeasible).

    Examples
    --------
    >>> k, s, d = component_labels(np.array([0, 2]), np.array([1, 0]), 3, 3)
    >>> k, s.tolist(), d.tolist()
    (2, [0, -1, 1], [1, 0, -1])
    """
    from scipy.sparse.csgraph import connected_components

    graph = sp.coo_matrix((np.ones(rows.size), (rows, n + cols)), shape=(n + n_d, n + n_d))
    k, label = connected_components(graph, directed=False)
    in_pair = np.zeros(n + n_d, dtype=bool)
    in_pair[rows] = True
    in_pair[n + cols] = True
    # renumber the components that hold a pair 0..k-1
    used = np.unique(label[in_pair])
    remap = np.full(k, -1)
    remap[used] = np.arange(used.size)
    label = np.where(in_pair, remap[label], -1)
    return int(used.size), label[:n].astype(np.int64), label[n:].astype(np.int64)


def _allocate(chosen: np.ndarray, rho: np.ndarray, table: SiteTable, can: np.ndarray,
              site_label: np.ndarray, n_comp: int) -> np.ndarray:
    """Repair a Lagrangian site set so that its counts fit every count constraint.

    Every component opens at least one site; per-group and total counts come
    within their ranges, adding the sites of least ``rho`` and dropping those of
    most.
    """
    chosen = chosen & can | (table.forced & can)
    score = np.where(can, rho, np.inf)

    def comp_count() -> np.ndarray:
        lab = site_label[chosen & (site_label >= 0)]
        return np.bincount(lab, minlength=n_comp)

    def add(cands: np.ndarray) -> bool:
        cands = cands & can & ~chosen
        if not cands.any():
            return False
        idx = np.flatnonzero(cands)
        chosen[idx[np.argmin(score[idx])]] = True
        return True

    def drop(cands: np.ndarray) -> bool:
        cands = cands & chosen & ~table.forced
        if not cands.any():
            return False
        idx = np.flatnonzero(cands)
        chosen[idx[np.argmax(score[idx])]] = False
        return True

    for c in np.flatnonzero(comp_count() == 0):
        add(site_label == c)
    group = table.group
    for g in range(table.n_groups):
        while int((chosen & (group == g)).sum()) < table.group_count_min[g]:
            if not add(group == g):
                break
        while int((chosen & (group == g)).sum()) > table.group_count_max[g]:
            counts = comp_count()
            alone = np.isin(site_label, np.flatnonzero(counts <= 1))
            if not drop((group == g) & ~alone):
                break
    g_count = np.bincount(group[chosen], minlength=table.n_groups)
    while int(chosen.sum()) > table.count_max:
        counts = comp_count()
        g_count = np.bincount(group[chosen], minlength=table.n_groups)
        spare = (g_count > table.group_count_min)[group]
        alone = np.isin(site_label, np.flatnonzero(counts <= 1)) & (site_label >= 0)
        if not drop(spare & ~alone):
            break
    while int(chosen.sum()) < table.count_min:
        g_count = np.bincount(group[chosen], minlength=table.n_groups)
        if not add((g_count < table.group_count_max)[group]):
            break
    return chosen


def _cover_every_point(chosen: np.ndarray, rho: np.ndarray, table: SiteTable,
                       s_site: np.ndarray, s_col: np.ndarray, n_d: int) -> np.ndarray | None:
    """Open the cheapest site of each demand point no open site reaches, then drop sites.

    ``s_site``/``s_col`` are the pairs by demand point and cost. While there are more sites than
    ``count_max``, the site of most ``rho`` whose demand points all keep another
    open site (and whose group keeps its minimum) closes. ``None`` when the
    count cannot be met that way.
    """
    chosen = chosen.copy()
    reached = np.zeros(n_d, dtype=bool)
    reached[s_col[chosen[s_site]]] = True
    if not reached.all():
        first = np.r_[True, s_col[1:] != s_col[:-1]]
        need = first & ~reached[s_col]
        chosen[s_site[need]] = True
    if int(chosen.sum()) <= table.count_max:
        return chosen
    # the demand points of each site
    order = np.argsort(s_site, kind="stable")
    pair_demand = s_col[order]
    start = np.searchsorted(s_site[order], np.arange(chosen.size + 1))
    times = np.bincount(s_col[chosen[s_site]], minlength=n_d)
    g_count = np.bincount(table.group[chosen], minlength=table.n_groups)
    for i in np.argsort(-np.where(chosen & ~table.forced, rho, -np.inf)):
        if int(chosen.sum()) <= table.count_max:
            break
        if not chosen[i] or table.forced[i] or g_count[table.group[i]] <= \
                table.group_count_min[table.group[i]]:
            continue
        mine = pair_demand[start[i]:start[i + 1]]
        if np.any(times[mine] <= 1):
            continue
        chosen[i] = False
        times[mine] -= 1
        g_count[table.group[i]] -= 1
    return chosen if int(chosen.sum()) <= table.count_max else None


@dataclass
class Part:
    """One component during the transfer of sites: its dense costs and current plan.

    Attributes
    ----------
    sites, demand
        Indices of its sites and demand points in the whole problem.
    cost
        ``(len(sites), len(demand))`` costs, ``inf`` where a site does not reach.
    open_cost
        Cost of opening each of its sites.
    can, forced, open_
        Its sites that may open, must stay open, and are open.
    gain, add, loss, drop
        The best site to add and what adding it saves, the best site to drop and
        what dropping it costs (set by :meth:`assess`).
    """

    sites: np.ndarray
    demand: np.ndarray
    cost: np.ndarray
    open_cost: np.ndarray
    can: np.ndarray
    forced: np.ndarray
    open_: np.ndarray
    gain: float = -math.inf
    add: int = -1
    loss: float = math.inf
    drop: int = -1

    def assess(self) -> None:
        """The best site to add and the best to drop, and what each changes exactly."""
        idx = np.flatnonzero(self.open_)
        d1, near, d2 = nearest_two(self.cost, idx, math.inf)
        with np.errstate(invalid="ignore"):
            gain = np.maximum(d1[None, :] - self.cost, 0.0).sum(axis=1) - self.open_cost
            loss = np.bincount(near, weights=d2 - d1, minlength=self.sites.size) - \
                self.open_cost
        gain = np.where(self.open_ | ~self.can, -math.inf, gain)
        loss = np.where(~self.open_ | self.forced | (idx.size <= 1), math.inf, loss)
        self.add, self.drop = int(np.argmax(gain)), int(np.argmin(loss))
        self.gain, self.loss = float(gain[self.add]), float(loss[self.drop])

    def value(self) -> float:
        """Cost of the component's plan."""
        d1 = nearest_two(self.cost, np.flatnonzero(self.open_), math.inf)[0]
        return float(d1.sum() + self.open_cost[self.open_].sum())


def _dense_parts(site_label: np.ndarray, demand_label: np.ndarray, rows: np.ndarray,
                 cols: np.ndarray, pair_cost: np.ndarray, open_cost: np.ndarray, *,
                 can: np.ndarray, forced: np.ndarray, open_: np.ndarray, n_comp: int
                 ) -> list[Part]:
    """Each component as a dense cost matrix (``inf`` where a site does not reach)."""
    by_comp = np.argsort(site_label[rows], kind="stable")
    comp_of_pair = site_label[rows][by_comp]
    bounds = np.searchsorted(comp_of_pair, np.arange(n_comp + 1))
    parts = []
    for k in range(n_comp):
        pick = by_comp[bounds[k]:bounds[k + 1]]
        sites = np.flatnonzero(site_label == k)
        demand = np.flatnonzero(demand_label == k)
        s_pos = np.searchsorted(sites, rows[pick])
        d_pos = np.searchsorted(demand, cols[pick])
        cost = np.full((sites.size, demand.size), math.inf)
        cost[s_pos, d_pos] = pair_cost[pick]
        parts.append(Part(sites=sites, demand=demand, cost=cost, open_cost=open_cost[sites],
                           can=can[sites], forced=forced[sites], open_=open_[sites].copy()))
    return parts


def transfer_sites(parts: list[Part], table: SiteTable, open_all: np.ndarray, *,
                    total: float, deadline: float, stop: object | None) -> set[int]:
    """Move sites between components while that lowers the total; the parts changed.

    The components are independent, so adding a site to one and dropping one
    from another changes the total by exactly the sum of the two changes; the
    site count stays the same (sites are also added while the count allows,
    and dropped when dropping pays). ``open_all`` is the plan's open mask over
    every site (for the per-group counts); ``total`` its value (for the tolerance).
    """
    group = table.group
    g_count = np.bincount(group[open_all], minlength=table.n_groups)
    count = int(open_all.sum())
    for p in parts:
        p.assess()
    changed: set[int] = set()
    scale = 1e-9 * max(1.0, abs(total))

    def can_add(k: int) -> bool:
        p = parts[k]
        return p.add >= 0 and math.isfinite(p.gain) and \
            g_count[group[p.sites[p.add]]] < table.group_count_max[group[p.sites[p.add]]]

    def can_drop(k: int) -> bool:
        p = parts[k]
        return math.isfinite(p.loss) and \
            g_count[group[p.sites[p.drop]]] > table.group_count_min[group[p.sites[p.drop]]]

    def apply(k: int, add: bool) -> None:
        p = parts[k]
        i = p.add if add else p.drop
        p.open_[i] = add
        g_count[group[p.sites[i]]] += 1 if add else -1
        changed.add(k)
        p.assess()

    while time.perf_counter() < deadline and not stop_requested(stop):
        gains = np.array([p.gain if can_add(k) else -math.inf for k, p in enumerate(parts)])
        losses = np.array([p.loss if can_drop(k) else math.inf for k, p in enumerate(parts)])
        a = int(np.argmax(gains))
        b = int(np.argmin(losses))
        if count < table.count_max and gains[a] > scale:
            apply(a, True)
            count += 1
            continue
        if count > table.count_min and losses[b] < -scale:
            apply(b, False)
            count -= 1
            continue
        if a == b:  # the best of each is in the same component: take the next best of one
            g2 = gains.copy()
            g2[a] = -math.inf
            l2 = losses.copy()
            l2[b] = math.inf
            a2, b2 = int(np.argmax(g2)), int(np.argmin(l2))
            a, b = (a2, b) if g2[a2] - losses[b] >= gains[a] - l2[b2] else (a, b2)
        if a == b or not gains[a] - losses[b] > scale:
            break
        apply(a, True)
        apply(b, False)
    return changed


def _polish_parts(parts: list[Part], which: set[int], *, deadline: float,
                  stop: object | None) -> None:
    """Vertex substitution in the given components, each at its number of sites."""
    for k in sorted(which, key=lambda k: -parts[k].cost.size):
        if time.perf_counter() >= deadline or stop_requested(stop):
            return
        p = parts[k]
        finite = np.isfinite(p.cost)
        big = float(np.where(finite, p.cost, 0.0).max(axis=0).sum()
                    + np.abs(p.open_cost).sum()) * 2.0 + 1.0
        c_big = np.where(finite & p.can[:, None], p.cost, big)
        m = int(p.open_.sum())
        before = p.value()
        open_, _ = interchange(c_big, p.open_cost, kmin=m, kmax=m, forced=p.forced,
                               start=p.open_, deadline=deadline, stop=stop)
        trial = Part(sites=p.sites, demand=p.demand, cost=p.cost, open_cost=p.open_cost,
                      can=p.can, forced=p.forced, open_=open_)
        after = trial.value()
        if math.isfinite(after) and after < before and not np.any(open_ & ~p.can):
            p.open_ = open_
            p.assess()


def _split(table: SiteTable, rows: np.ndarray, cols: np.ndarray, n: int, n_d: int,
           base_area: np.ndarray, dense_limit: int
           ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray] | None:
    """The components, when the split applies: count, site and demand labels, sizes."""
    if not _sites_only_counted(table, base_area):
        return None
    n_comp, site_label, demand_label = component_labels(rows, cols, n, n_d)
    if n_comp < 2:
        return None
    sizes = np.bincount(site_label[site_label >= 0], minlength=n_comp) * \
        np.bincount(demand_label[demand_label >= 0], minlength=n_comp)
    if sizes.max() > dense_limit:
        return None
    in_any = site_label >= 0
    group_sizes = np.bincount(table.group, minlength=table.n_groups)
    quotas = np.any(table.group_count_min > 0) or np.any(table.group_count_max < group_sizes)
    if quotas:
        # per-group counts are then set by the components' numbers of sites, which holds
        # only when no component mixes groups
        pairs_of = np.unique(np.stack([site_label[in_any], table.group[in_any]]), axis=1)
        if pairs_of.shape[1] > np.unique(site_label[in_any]).size:
            return None
    return n_comp, site_label, demand_label, sizes


@dataclass
class _Parts:
    """The components' plans while they are solved: areas, values, bounds, status lines."""

    area: np.ndarray
    value: np.ndarray
    bound: np.ndarray
    served: dict[int, sp.csr_matrix]
    statuses: list[str]
    order: np.ndarray


def _solve_each(problem: SitingProblem, options: SolveOptions, spec: LocationSpec,
                table: SiteTable, rows: np.ndarray, cols: np.ndarray, pair_cost: np.ndarray,
                labels: tuple[np.ndarray, np.ndarray, np.ndarray], parts: _Parts, *,
                best_open: np.ndarray, free_counts: bool, deadline: float, log: Tracker,
                idle_value: float, solve: Solve) -> None:
    """Solve each component, largest first, on a share of the time left; update ``parts``.

    A component keeps the whole plan's sites and assignment unless its own
    solve finds a plan at least as good.
    """
    site_label, demand_label, sizes = labels
    n, n_d = problem.n_sites, problem.n_demand
    can = table.can_open
    w = np.asarray(problem.weight, dtype=float)
    remaining_pairs = float(sizes.sum())
    for c in parts.order:
        now = time.perf_counter()
        left = deadline - now
        if left <= 0.05 or stop_requested(options.stop):
            parts.statuses.append("skipped")
            parts.bound[c] = -math.inf
            continue
        budget = max(left * float(sizes[c]) / max(remaining_pairs, 1.0), min(left, 0.5))
        remaining_pairs -= float(sizes[c])
        s_idx = np.flatnonzero(site_label == c)
        d_idx = np.flatnonzero(demand_label == c)
        p_c = int(best_open[s_idx].sum())
        s_pos = np.full(n, -1)
        s_pos[s_idx] = np.arange(s_idx.size)
        d_pos = np.full(n_d, -1)
        d_pos[d_idx] = np.arange(d_idx.size)
        mine = site_label[rows] == c
        r_c, c_c, k_c = s_pos[rows[mine]], d_pos[cols[mine]], pair_cost[mine]
        sub = SitingProblem(
            weight=w[d_idx], cover=sp.csr_matrix((np.ones(r_c.size), (r_c, c_c)),
                                                 shape=(s_idx.size, d_idx.size)),
            tiers_m2=problem.tiers_m2,
            max_area_m2=table.max_area_m2[s_idx], existing_area_m2=table.existing_m2[s_idx],
            forbidden=~can[s_idx], rent_usd_m2_year=table.rent_usd_m2_year[s_idx],
            area_budget_m2=None,
            count_min=int((table.forced & can)[s_idx].sum()) if free_counts else p_c,
            count_max=None if free_counts else p_c,
        )
        key = np.lexsort((c_c, r_c))  # row-major, the order of the sub-problem's pairs
        sub_spec = LocationSpec(name=spec.name, pair_cost=k_c[key],
                                open_cost=spec.open_cost[s_idx], area_cost=spec.area_cost[s_idx])
        sub_options = SolveOptions(time_limit_s=budget, gap=options.gap, seed=options.seed,
                                   workers=options.workers, stop=options.stop,
                                   hint=parts.area[s_idx])
        res = solve(sub, sub_options, sub_spec)
        parts.statuses.append(res.status)
        if res.has_solution and res.objective <= parts.value[c] + 1e-9:
            sc = sp.coo_matrix(res.served)
            parts.served[int(c)] = sp.csr_matrix((sc.data, (s_idx[sc.row], d_idx[sc.col])),
                                                 shape=(n, n_d))
            parts.area[s_idx] = res.area_m2
            parts.value[c] = res.objective
            if math.isfinite(res.bound):
                parts.bound[c] = res.bound
        else:
            parts.statuses[-1] += " (Lagrangian plan kept)"
            parts.bound[c] = res.bound if math.isfinite(res.bound) else -math.inf
        log.update(incumbent=float(parts.value.sum() + idle_value))


def _move_sites(problem: SitingProblem, table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                pair_cost: np.ndarray, open_cost: np.ndarray, base_area: np.ndarray,
                labels: tuple[np.ndarray, np.ndarray, np.ndarray], parts: _Parts, *,
                deadline: float, stop: object | None, idle_value: float,
                info: dict[str, object], log: Tracker) -> None:
    """Move sites between components while that pays; update ``parts``."""
    site_label, demand_label, _ = labels
    n, n_d = problem.n_sites, problem.n_demand
    can = table.can_open
    w = np.asarray(problem.weight, dtype=float)
    t_m = time.perf_counter()
    dense = _dense_parts(site_label, demand_label, rows, cols, pair_cost, open_cost,
                         can=can, forced=table.forced & can, open_=parts.area > 0,
                         n_comp=parts.value.size)
    changed = transfer_sites(dense, table, parts.area > 0,
                             total=float(parts.value.sum() + idle_value),
                             deadline=deadline, stop=stop)
    _polish_parts(dense, changed, deadline=deadline, stop=stop)
    info.update(components_changed=len(changed), move_s=time.perf_counter() - t_m)
    for k in changed:
        part = dense[k]
        parts.area[part.sites] = np.where(part.open_, base_area[part.sites], 0.0)
        _, near, _ = nearest_two(part.cost, np.flatnonzero(part.open_), math.inf)
        parts.value[k] = part.value()
        parts.bound[k] = -math.inf
        parts.statuses[int(np.flatnonzero(parts.order == k)[0])] += " then resized"
        parts.served[k] = sp.csr_matrix((w[part.demand], (part.sites[near], part.demand)),
                                        shape=(n, n_d))
    if changed:
        log.update(incumbent=float(parts.value.sum() + idle_value))


def _merge_served(parts: _Parts, whole: sp.csr_matrix, shape: tuple[int, int]) -> sp.csr_matrix:
    """The components' assignments; demand of components not re-solved keeps ``whole``'s."""
    served_new = sp.csr_matrix(shape)
    for part_served in parts.served.values():
        served_new = served_new + part_served
    done = np.asarray(served_new.sum(axis=0)).ravel() > 0
    old = whole.tocoo()
    stay = ~done[old.col]
    return sp.csr_matrix(served_new + sp.csr_matrix(
        (old.data[stay], (old.row[stay], old.col[stay])), shape=shape))


def solve_components(problem: SitingProblem, options: SolveOptions, spec: LocationSpec,
                     table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                     pair_cost: np.ndarray, *, base_area: np.ndarray, t0: float, log: Tracker,
                     info: dict[str, object], floor: float, dense_limit: int,
                     solve: Solve) -> SolveResult | None:
    # About 100 lines with its docstring: the sparse bound and first plan, then each step
    # in a function of its own.
    """Solve a large uncapacitated problem component by component; ``None`` if it does not apply.

    Without capacity, and when the area budget, rent cap and area quotas cannot
    bind, sites interact only through the counts. The demand points and sites
    then split into connected components (the countries, without cross-border
    delivery), each of at most ``dense_limit`` pairs. A sparse Lagrangian
    bound over every pair (:func:`~hzlogistics.solvers.lagrange.sparse_lagrangian`)
    bounds the whole problem and its site set gives the number of sites of each
    component; each component is then solved by ``solve`` for that number (or,
    when only forced and closed sites constrain the sites, for any number, so
    that the components' own bounds add up to one of the whole). With the
    numbers fixed, sites then move between components while that lowers the
    total (:func:`transfer_sites`), and each component changed improves by
    vertex substitution at its new number.
    """
    n, n_d = problem.n_sites, problem.n_demand
    split = _split(table, rows, cols, n, n_d, base_area, dense_limit)
    if split is None:
        return None
    n_comp, site_label, demand_label, sizes = split
    can = table.can_open
    w = np.asarray(problem.weight, dtype=float)
    open_cost = np.where(can, spec.open_cost + spec.area_cost * base_area, 0.0)
    free_counts = only_counts(table) and table.count_min <= int((table.forced & can).sum()) \
        and table.count_max >= int(can.sum())
    info.update(components=n_comp, largest_component_pairs=int(sizes.max()))

    # --- bound of the whole problem and a site set
    order = by_demand_then_cost(cols, pair_cost)
    s_site, s_col, s_cost = rows[order], cols[order], pair_cost[order]
    pairs = cheapest_pairs(s_site, s_col, s_cost, n_sites=n, n_demand=n_d, keep=SPARSE_KEEP,
                           presorted=True)

    n_reached = np.unique(s_col).size  # points no pair reaches have weight 0

    def evaluate(open_: np.ndarray) -> tuple[float, sp.csr_matrix]:
        sel = np.flatnonzero(open_[s_site])
        first = np.unique(s_col[sel], return_index=True)[1]
        pick = sel[first]
        served = sp.csr_matrix((w[s_col[pick]], (s_site[pick], s_col[pick])), shape=(n, n_d))
        if first.size < n_reached:
            return math.inf, served
        return float(s_cost[pick].sum() + open_cost[open_].sum()), served

    t_l = time.perf_counter()

    def allocate(chosen: np.ndarray, rho: np.ndarray) -> np.ndarray | None:
        chosen = _allocate(chosen, rho, table, can, site_label, n_comp)
        return _cover_every_point(chosen, rho, table, s_site, s_col, n_d)

    start = allocate(np.zeros(n, dtype=bool), np.where(can, open_cost, np.inf))
    if start is None:
        return None
    upper, _ = evaluate(start)
    left = options.time_limit_s - (t_l - t0)
    dual = sparse_lagrangian(
        pairs, open_cost, can=can, forced=table.forced & can, kmin=table.count_min,
        kmax=table.count_max, upper=upper, deadline=t_l + _SPARSE_SHARE * max(left, 0.0),
        on_bound=lambda b: log.update(bound=max(b, floor)),
        stopped=lambda: stop_requested(options.stop))
    bound = max(dual.bound, floor)
    chosen = allocate(dual.chosen, dual.rho)
    value, served = evaluate(chosen) if chosen is not None else (math.inf, None)
    if chosen is not None and served is not None and value < upper:
        upper, best_open, best_served = value, chosen, served
    else:
        best_open = start
        best_served = evaluate(start)[1]
    log.update(incumbent=upper, bound=bound)
    info.update(sparse_iterations=dual.iterations, sparse_s=time.perf_counter() - t_l)

    # --- each component; its share of the whole plan's value to beat
    coo = best_served.tocoo()
    used_cost = values_at(sp.csr_matrix((pair_cost, (rows, cols)), shape=(n, n_d)),
                          coo.row.astype(np.int64), coo.col.astype(np.int64))
    part_value = np.bincount(demand_label[coo.col], weights=used_cost, minlength=n_comp)
    in_comp = site_label >= 0
    part_value += np.bincount(site_label[best_open & in_comp],
                              weights=open_cost[best_open & in_comp], minlength=n_comp)
    idle_value = float(open_cost[best_open & ~in_comp].sum())
    parts = _Parts(area=np.where(best_open, base_area, 0.0), value=part_value,
                   bound=np.zeros(n_comp), served={}, statuses=[],
                   order=np.argsort(-sizes, kind="stable"))
    labels = (site_label, demand_label, sizes)
    t_parts = time.perf_counter()
    _solve_each(problem, options, spec, table, rows, cols, pair_cost, labels, parts,
                best_open=best_open, free_counts=free_counts, log=log, idle_value=idle_value,
                deadline=t_parts + _PARTS_SHARE * max(options.time_limit_s - (t_parts - t0), 0.0),
                solve=solve)
    # sites move between components while that pays (the counts tie them together)
    left = options.time_limit_s - (time.perf_counter() - t0)
    if not free_counts and left > 2.0 and not stop_requested(options.stop):
        _move_sites(problem, table, rows, cols, pair_cost, open_cost, base_area, labels, parts,
                    deadline=time.perf_counter() + _MOVE_SHARE * left, stop=options.stop,
                    idle_value=idle_value, info=info, log=log)
    served_all = _merge_served(parts, best_served, (n, n_d))
    objective = float(parts.value.sum() + idle_value)
    bound = _ascend_again(pairs, open_cost, table, options, dual, bound=bound,
                          objective=objective, floor=floor, t0=t0, log=log, info=info)
    return _result(problem, options, spec, parts, bound=bound, objective=objective,
                   served=served_all, free_counts=free_counts, t0=t0, log=log, info=info)


def _ascend_again(pairs: SparsePairs, open_cost: np.ndarray, table: SiteTable,
                  options: SolveOptions, dual: SparseDual, *, bound: float, objective: float,
                  floor: float, t0: float, log: Tracker, info: dict[str, object]) -> float:
    """The sparse ascent again, from its best multipliers, aiming at the plan's value."""
    left = options.time_limit_s - (time.perf_counter() - t0)
    if not (left > 4.0 and bound < prune_threshold(objective, options, integral=False)
            and not stop_requested(options.stop)):
        return bound
    can = table.can_open
    t_2 = time.perf_counter()
    again = sparse_lagrangian(
        pairs, open_cost, can=can, forced=table.forced & can, kmin=table.count_min,
        kmax=table.count_max, upper=objective,
        deadline=t_2 + left - max(2.5, 0.04 * options.time_limit_s),
        on_bound=lambda b: log.update(bound=min(max(b, floor), objective)),
        stopped=lambda: stop_requested(options.stop), lam0=dual.lam, theta0=_SPARSE_THETA)
    info.update(sparse_iterations=dual.iterations + again.iterations,
                sparse_s=float(info["sparse_s"]) + time.perf_counter() - t_2)  # type: ignore[arg-type]
    return max(bound, again.bound)


def _result(problem: SitingProblem, options: SolveOptions, spec: LocationSpec, parts: _Parts,
            *, bound: float, objective: float, served: sp.csr_matrix, free_counts: bool,
            t0: float, log: Tracker, info: dict[str, object]) -> SolveResult:
    """The result of the split solve: its bound, status and plan."""
    info["sparse_bound"] = bound
    if free_counts and np.all(np.isfinite(parts.bound)):
        bound = max(bound, float(parts.bound.sum()))
    bound = min(bound, objective)
    info.update(component_status={s: parts.statuses.count(s) for s in set(parts.statuses)})
    if np.all(np.isfinite(parts.bound)):
        # a bound for these numbers of sites per component only
        info["components_bound"] = float(parts.bound.sum())
    gap = relative_gap(objective, bound)
    status = ("interrupted" if stop_requested(options.stop)
              else "optimal" if gap <= max(float(options.gap), 1e-9) else "feasible")
    plan = LocationPlan(area=parts.area, objective=objective, served=served, source="components")
    return finish(problem, spec, plan, bound, status, t0, log, info)


__all__ = ["Part", "Solve", "component_labels", "solve_components", "transfer_sites"]
