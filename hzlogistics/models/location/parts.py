"""Problems whose connected components share no constraint, solved one component at a time.

Capacity makes a site's size a choice, but it does not tie the countries
together: when every demand point is served, no count, area budget or rent
cap can bind, and each group (country) with a quota lies in one component,
a plan of the whole problem is a plan of each component, and its cost is
their sum. :func:`solve_parts` then solves each component as a problem of
its own (smallest first, on its share of the time left, which a component
that finishes early hands on to the next) and adds up the plans and bounds.

Each component gets its own step sizes in the Lagrangian ascent, its own
transportation LPs and a MIP that fits its time, where one solve of the whole
problem has to share them: on the 50-country data at 8 parcels/day per m²
that is what takes the yearly cost within 1 % of its bound in two minutes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.location.components import Solve, component_labels
from hzlogistics.models.location.pairs import rent_per_pair, values_at
from hzlogistics.models.location.state import (
    LocationPlan,
    LocationSpec,
    finish,
    new_tracker,
    no_plan,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult, relative_gap
from hzlogistics.solvers.sites import SiteTable
from hzlogistics.solvers.track import stop_requested

#: Least time a component is given, seconds (the time left, when less), and
#: what it gets when no time is left.
_MIN_PART_S, _LAST_PART_S = 0.3, 0.05


@dataclass
class Parts:
    """The components of a problem: how many, and the label of each site and demand point.

    Sites that may not open and demand points that no such site reaches are
    labelled -1.
    """

    count: int
    site: np.ndarray
    demand: np.ndarray


def _largest_area(table: SiteTable) -> np.ndarray:
    """The largest area each site may take (0 where it cannot open)."""
    most = np.array([float(a.max()) if a.size else 0.0 for a in table.areas])
    return np.where(table.can_open, most, 0.0)


def independent_parts(table: SiteTable, rows: np.ndarray, cols: np.ndarray, n_demand: int
                      ) -> Parts | None:
    """The components of the pairs of sites that may open, when no constraint ties them.

    Parameters
    ----------
    table
        The site constraints.
    rows, cols
        The (site, demand point) pairs.
    n_demand
        Number of demand points.

    Returns
    -------
    Parts or None
        ``None`` when there are fewer than two components, or when the count
        range, the area budget, the rent cap or a group quota spanning
        components could bind.
    """
    can = table.can_open
    forced = table.forced & can
    if table.count_min > int(forced.sum()) or table.count_max < int(can.sum()):
        return None
    largest = _largest_area(table)
    if float(largest.sum()) > table.area_budget_m2 * (1 + 1e-12):
        return None
    if float(largest @ table.rent_usd_m2_year) > table.rent_cap_usd_year * (1 + 1e-12):
        return None
    keep = can[rows]
    count, site, demand = component_labels(rows[keep], cols[keep], table.group.size, n_demand)
    if count < 2:
        return None
    size = np.bincount(table.group, minlength=table.n_groups)
    area_in = np.bincount(table.group, weights=largest, minlength=table.n_groups)
    quota = (table.group_count_min > 0) | (table.group_count_max < size) | \
        (table.group_area_min_m2 > 0) | (table.group_area_max_m2 < area_in * (1 - 1e-12))
    for g in np.flatnonzero(quota).tolist():
        labels = np.unique(site[(table.group == g) & can])
        if labels.size > 1 or (labels.size == 1 and labels[0] < 0):
            return None
    return Parts(count=count, site=site, demand=demand)


def part_problem(problem: SitingProblem, table: SiteTable, sites: np.ndarray,
                 demand: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> SitingProblem:
    """The problem on ``sites`` and ``demand`` alone, with the pairs ``rows``, ``cols``.

    The pairs are given in the whole problem's indices. Counts, area budget
    and rent cap are dropped (:func:`independent_parts` found that they cannot
    bind); the quotas of groups with no site here are dropped too.
    """
    s_pos = np.full(problem.n_sites, -1, dtype=np.int64)
    s_pos[sites] = np.arange(sites.size)
    d_pos = np.full(problem.n_demand, -1, dtype=np.int64)
    d_pos[demand] = np.arange(demand.size)
    shape = (sites.size, demand.size)
    r, c = s_pos[rows], d_pos[cols]

    def pairs(mat: sp.spmatrix | None) -> sp.csr_matrix | None:
        if mat is None:
            return None
        mine = sp.csr_matrix(mat)[sites][:, demand]
        return sp.csr_matrix((values_at(mine, r, c), (r, c)), shape=shape)

    def at(a: np.ndarray | None, idx: np.ndarray) -> np.ndarray | None:
        return None if a is None else np.asarray(a)[idx]

    here = np.zeros(table.n_groups, dtype=bool)
    here[table.group[sites]] = True

    def quota(a: np.ndarray | None, absent: float) -> np.ndarray | None:
        return None if a is None else np.where(here, np.asarray(a, dtype=float), absent)

    return replace(
        problem,
        weight=np.asarray(problem.weight, dtype=float)[demand],
        cover=sp.csr_matrix((np.ones(r.size), (r, c)), shape=shape),
        travel_time_h=pairs(problem.travel_time_h), assign_cost=pairs(problem.assign_cost),
        max_area_m2=table.max_area_m2[sites], existing_area_m2=table.existing_m2[sites],
        forbidden=table.forbidden[sites], rent_usd_m2_year=table.rent_usd_m2_year[sites],
        group=table.group[sites], demand_group=at(problem.demand_group, demand),
        area_budget_m2=None, count_min=0, count_max=None, rent_cap_usd_year=None,
        group_count_min=quota(problem.group_count_min, 0.0),
        group_area_min_m2=quota(problem.group_area_min_m2, 0.0),
        value=at(problem.value, demand), site_ids=at(problem.site_ids, sites),
        demand_ids=at(problem.demand_ids, demand),
        fixed_cost_usd_year=at(problem.fixed_cost_usd_year, sites),
        site_capacity=at(problem.site_capacity, sites),
    )


def solve_parts(problem: SitingProblem, options: SolveOptions, spec: LocationSpec,
                table: SiteTable, rows: np.ndarray, cols: np.ndarray, parts: Parts, *,
                t0: float, info: dict[str, object], solve: Solve) -> SolveResult:
    """Solve each component with ``solve`` and add up the plans and bounds.

    Parameters
    ----------
    problem, options, spec
        The whole problem, its limits and what is minimized (``spec.pair_cost``
        aligned with ``rows``, ``cols``).
    table
        Its site constraints.
    rows, cols
        Every (site, demand point) pair of ``problem.cover``, row-major.
    parts
        The components, from :func:`independent_parts`.
    t0
        ``time.perf_counter()`` at the start of the solve.
    info
        Updated with the number of components and their statuses.
    solve
        Solves one component.

    Returns
    -------
    SolveResult
        The sum of the components' plans; its bound is the sum of theirs.
    """
    log = new_tracker(options, t0)
    n, n_d = problem.n_sites, problem.n_demand
    pair_part = parts.site[rows]
    order_pairs = np.argsort(pair_part, kind="stable")  # row-major within each part
    starts = np.searchsorted(pair_part[order_pairs], np.arange(-1, parts.count + 1))
    sizes = np.diff(starts)[1:].astype(float)
    area = np.zeros(n)
    # a site that may open but reaches no demand point is open only if it must be
    alone = table.forced & table.can_open & (parts.site < 0)
    area[alone] = table.min_area_m2[alone]
    value = float(spec.open_cost[alone].sum() + spec.area_cost @ area)
    bound = value
    # parcels/day of each pair served, gathered over the components
    s_site: list[np.ndarray] = []
    s_demand: list[np.ndarray] = []
    s_load: list[np.ndarray] = []
    statuses: dict[str, int] = {}
    deadline = t0 + options.time_limit_s
    # until a component is solved, its demand points at their cheapest pairs bound it
    rest = _cheapest_by_part(problem, spec, rows, cols, parts)
    # a component's share of the time: half for its pairs (the work), half for its
    # cost (what a gap there weighs in the whole)
    share = sizes / max(float(sizes.sum()), 1.0)
    if float(rest.sum()) > 0:
        share = 0.5 * share + 0.5 * rest / float(rest.sum())
    left_share = float(share.sum())
    for k in np.argsort(share, kind="stable").tolist():
        # out of time or stopped, each component still gets its first plans (they take
        # milliseconds), so that the whole problem has one
        left = deadline - time.perf_counter()
        budget = max(min(left, max(left * share[k] / max(left_share, 1e-12), _MIN_PART_S)),
                     _LAST_PART_S)
        left_share -= share[k]
        sites = np.flatnonzero(parts.site == k)
        demand = np.flatnonzero(parts.demand == k)
        pick = order_pairs[starts[k + 1]:starts[k + 2]]
        sub = part_problem(problem, table, sites, demand, rows[pick], cols[pick])
        sub_spec = replace(
            spec, open_cost=spec.open_cost[sites], area_cost=spec.area_cost[sites],
            pair_cost=None if spec.pair_cost is None else spec.pair_cost[pick])
        hint = None if options.hint is None else np.asarray(options.hint, dtype=float)[sites]
        floor_k, rest[k] = float(rest[k]), 0.0

        def report(_s: float, _incumbent: float, part_bound: float, done: float = bound) -> None:
            if math.isfinite(part_bound):
                log.update(bound=done + part_bound + float(rest.sum()))

        res = solve(sub, replace(options, time_limit_s=budget, progress=report, hint=hint),
                    sub_spec)
        statuses[res.status] = statuses.get(res.status, 0) + 1
        if not res.has_solution:
            if res.status == "infeasible":
                return no_plan(problem, spec, "infeasible", t0, info=info, log=log.log,
                               reasons=[f"among {sites.size} sites and {demand.size} demand "
                                        f"points that no other site reaches: {why}"
                                        for why in res.reasons])
            info.update(component_statuses=statuses)
            return no_plan(problem, spec, "interrupted" if res.status == "interrupted"
                           else "error", t0, info=info, log=log.log,
                           reasons=[f"no plan for the {sites.size} sites and {demand.size} "
                                    "demand points that no other site reaches, so none for "
                                    "the whole problem", *res.reasons])
        area[sites] = res.area_m2
        value += res.objective
        bound += max(res.bound, floor_k) if math.isfinite(res.bound) else floor_k
        s = sp.coo_matrix(res.served)
        s_site.append(sites[s.row])
        s_demand.append(demand[s.col])
        s_load.append(s.data)
        log.update(bound=bound + float(rest.sum()))
    info.update(components=parts.count, component_statuses=statuses)
    def joined(parts_of: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts_of) if parts_of else np.zeros(0, dtype=dtype)

    whole = sp.csr_matrix((joined(s_load, float), (joined(s_site, np.int64),
                                                   joined(s_demand, np.int64))),
                          shape=(n, n_d))
    plan = LocationPlan(area=area, objective=value, served=whole, source="components")
    bound = min(bound, value)
    gap = relative_gap(value, bound)
    status = "optimal" if gap <= max(float(options.gap), 1e-9) else "feasible"
    if stop_requested(options.stop):
        status = "interrupted"
    return finish(problem, spec, plan, bound, status, t0, log, info)


def _cheapest_by_part(problem: SitingProblem, spec: LocationSpec, rows: np.ndarray,
                      cols: np.ndarray, parts: Parts) -> np.ndarray:
    """Each component's demand points at their cheapest pairs: a bound of each component.

    A pair's cost includes the least rent its parcels occupy (with capacity per m²).
    """
    if spec.pair_cost is None:
        return np.zeros(parts.count)
    mine = parts.site[rows] >= 0
    r, c = rows[mine], cols[mine]
    cost = spec.pair_cost[mine] + rent_per_pair(problem, spec, r, c,
                                                np.asarray(problem.weight, dtype=float))
    cheapest = np.full(parts.demand.size, np.inf)
    np.minimum.at(cheapest, c, cost)
    ok = np.isfinite(cheapest) & (parts.demand >= 0)
    return np.bincount(parts.demand[ok], weights=cheapest[ok], minlength=parts.count)


__all__ = ["Parts", "independent_parts", "part_problem", "solve_parts"]
