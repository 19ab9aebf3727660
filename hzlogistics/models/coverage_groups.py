"""The capacitated coverage model group by group: a bound that prices the area budget, and plans.

When no demand point is reached by sites of two groups (countries), the
capacitated coverage model falls apart into one model per group, tied only
by the area budget and the site count. Pricing those two, ``λ`` per m² and
``μ`` per open site, bounds the optimum by

.. math::

    \\phi(\\lambda, \\mu) = \\lambda B + \\mu n_{max}
    + \\sum_g \\max_{x \\in X_g} \\big(v_g(x) - \\lambda A_g(x) - \\mu N_g(x)\\big)

for any ``λ, μ ≥ 0`` (the count minimum and a rent cap are dropped, which
only loosens it). Each group's maximum is bounded by the LP relaxation of its
own model with flows per covered pair, made tighter by two families of valid
rows that the whole-model LPs leave out:

- per site, ``Σ_c x_ic ≤ Σ_k min(cap_k, D_i) y_ik``: a site serves no more
  than the demand it reaches, ``D_i``, and nothing while closed;
- per covered pair (added where an LP solution breaks them),
  ``x_ic ≤ Σ_k min(w_c, cap_k) y_ik``.

The group LPs have a few thousand to a few hundred thousand columns where the
whole LP has a million, and each new price or new row re-solves only them
(:func:`group_bound`). On the default scenario at 320,000 m² this bound is
2,540,386 parcels/day after 60 s beside the search, 0.24 % below the aggregate
LP's 2,546,619 (:func:`~hzlogistics.models.coverage_lp.aggregate_lp`).

The same LPs, with the pair rows found, give plans: :func:`group_plan` solves
one group as a MIP at the bound's prices (the area a little cheaper where the
bound's price leaves no plan worth more than none, :func:`mip_area_price`), and
:func:`best_combination` picks one plan per group (the search's or a MIP's) of
the most value within the budget.

:func:`pair_lp` builds that LP for any set of sites; :func:`pair_mip` solves the
whole model so with HiGHS (every site, without the pair rows, which slow its
root more than they tighten it) from a plan (:func:`pair_hint`), for the models
small enough for CP-SAT: where the count and the area both bind, its bound
falls below the LP's.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.coverage_lp import coverage_lp
from hzlogistics.solvers.capacity import Capacity
from hzlogistics.solvers.lp import LinearProgram, lp_bound
from hzlogistics.solvers.sites import SiteTable
from hzlogistics.solvers.track import watch_stop

logger = logging.getLogger(__name__)

__all__ = ["GroupBound", "GroupLp", "GroupPlan", "GroupWork", "best_combination", "group_bound",
           "group_lps", "group_plan", "mip_area_price", "pair_hint", "pair_lp",
           "pair_mip", "PairMip"]

#: Share of its time that :class:`GroupWork` gives the bound; the MIPs of single
#: groups get the rest, at most ``GROUP_MIP_S`` each.
GROUP_BOUND_SHARE = 0.55
GROUP_MIP_S = 2.0

#: Largest group LP (columns) whose MIP :class:`GroupWork` tries: HiGHS finds no
#: useful plan of a larger one in ``GROUP_MIP_S``.
GROUP_MIP_MAX_COLUMNS = 20_000

#: Where the bound prices a m² at all it can handle (the area budget binds and
#: every fully used m² is worth nothing at that price), every group's MIP ties
#: with the empty plan. The MIPs then price the area this share lower, so that
#: a fully used m² is worth a little and they fill area with the least idle
#: capacity.
GROUP_MIP_PRICE_CUT = 0.025


@dataclass
class GroupLp:
    """The LP of one group's model, with the rows added so far.

    Attributes
    ----------
    sites
        Indices of the group's sites in the whole model.
    base
        The group's LP with the site reach rows, objective without prices.
    opt_area
        Area of each option column (columns ``0..n_opts-1``).
    pair_site, pair_class, pair_weight
        Site (within the group), class and class weight of every pair column.
    option_of_site
        ``(n_sites, n_opts)`` CSR: which options belong to which site.
    cap_k
        Capacity of every option (``inf`` where unlimited).
    cut
        ``(n_pairs,)`` bool: the pairs whose row is in the LP.
    """

    sites: np.ndarray
    base: LinearProgram
    opt_area: np.ndarray
    pair_site: np.ndarray
    pair_class: np.ndarray
    pair_weight: np.ndarray
    option_of_site: sp.csr_matrix
    cap_k: np.ndarray
    cut: np.ndarray

    @property
    def n_opts(self) -> int:
        """Number of option columns."""
        return int(self.opt_area.size)

    def _limits(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Entries ``(row in idx, option, min(w_c, cap_k))`` of the pair rows of pairs ``idx``."""
        opts = self.option_of_site[self.pair_site[idx]].tocoo()
        return opts.row, opts.col, np.minimum(self.pair_weight[idx][opts.row],
                                              self.cap_k[opts.col])

    def with_cuts(self) -> LinearProgram:
        """The LP with the pair rows of :attr:`cut`."""
        idx = np.flatnonzero(self.cut)
        if idx.size == 0:
            return self.base
        row, opt, limit = self._limits(idx)
        rows = np.concatenate([np.arange(idx.size), row])
        cols = np.concatenate([self.n_opts + idx, opt])
        vals = np.concatenate([np.ones(idx.size), -limit])
        return _at_most_zero(self.base, sp.csr_matrix((vals, (rows, cols)),
                                                      shape=(idx.size, self.base.c.size)))

    def add_broken(self, x: np.ndarray) -> int:
        """Add the pair rows that the LP solution ``x`` breaks; how many were added."""
        row, opt, limit = self._limits(np.arange(self.pair_site.size))
        allowed = np.bincount(row, weights=limit * x[opt], minlength=self.pair_site.size)
        flow = x[self.n_opts:]
        broken = (flow > allowed + 1e-7 * np.maximum(1.0, self.pair_weight)) & ~self.cut
        self.cut |= broken
        return int(broken.sum())


def pair_hint(group: GroupLp, area_m2: np.ndarray, flows: sp.csr_matrix) -> np.ndarray:
    """The columns of :meth:`GroupLp.with_cuts` (or its base) for a plan of the group's sites.

    Parameters
    ----------
    group
        The LP, built over ``cover`` with sorted indices.
    area_m2
        ``(group.sites.size,)`` area of each of its sites (0 = closed).
    flows
        ``(group.sites.size, n_classes)`` parcels/day of each site to each of
        the LP's classes (a flow of the plan).

    Returns
    -------
    numpy.ndarray
        The options of the plan at 1, the others at 0, then the pair flows.
    """
    x = np.zeros(group.base.c.size)
    opt = group.option_of_site.tocoo()
    now = np.asarray(area_m2, dtype=float)[opt.row]
    x[opt.col[(now > 0) & np.isclose(group.opt_area[opt.col], now)]] = 1.0
    x[group.n_opts:] = np.asarray(
        sp.csr_matrix(flows)[group.pair_site, group.pair_class]).ravel()
    return x


def _at_most_zero(lp: LinearProgram, block: sp.csr_matrix) -> LinearProgram:
    """``lp`` with the rows ``block @ x <= 0`` added."""
    return dataclasses.replace(lp, A=sp.vstack([lp.A, block]).tocsr(),
                               row_lo=np.concatenate([lp.row_lo, np.full(block.shape[0], -np.inf)]),
                               row_hi=np.concatenate([lp.row_hi, np.zeros(block.shape[0])]))


def _sub_table(table: SiteTable, sites: np.ndarray, g: int) -> SiteTable:
    """The site table of group ``g`` alone: no budget, no count limits, its own quotas."""
    one = np.array([g])
    return dataclasses.replace(
        table, areas=tuple(table.areas[i] for i in sites), forced=table.forced[sites],
        forbidden=table.forbidden[sites], existing_m2=table.existing_m2[sites],
        max_area_m2=table.max_area_m2[sites], rent_usd_m2_year=table.rent_usd_m2_year[sites],
        group=np.zeros(sites.size, dtype=table.group.dtype),
        group_names=(table.group_names[g],), area_budget_m2=np.inf, count_min=0,
        count_max=int(sites.size), group_count_min=table.group_count_min[one],
        group_count_max=table.group_count_max[one],
        group_area_min_m2=table.group_area_min_m2[one],
        group_area_max_m2=table.group_area_max_m2[one], rent_cap_usd_year=np.inf,
        site_ids=table.site_ids[sites])


def group_lps(table: SiteTable, cover: sp.csr_matrix, weight: np.ndarray, value: np.ndarray,
              capacity: Capacity) -> list[GroupLp] | None:
    """One LP per group, or ``None`` when a demand class is reached from two groups.

    Parameters
    ----------
    table
        The site-side constraints of the whole model.
    cover
        ``(n_sites, n_classes)`` coverage.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel.
    capacity
        What a site handles.

    Returns
    -------
    list of GroupLp or None
    """
    cover = sp.csr_matrix(cover, dtype=float)
    if table.n_groups < 2 or cover.nnz == 0:
        return None
    coo = cover.tocoo()
    g_pair = table.group[coo.row]
    lo = np.full(cover.shape[1], np.iinfo(np.int64).max)
    hi = np.full(cover.shape[1], -1)
    np.minimum.at(lo, coo.col, g_pair)
    np.maximum.at(hi, coo.col, g_pair)
    reached = hi >= 0
    if np.any(lo[reached] != hi[reached]):
        return None
    out: list[GroupLp] = []
    for g in range(table.n_groups):
        sites = np.flatnonzero(table.group == g)
        if sites.size == 0:
            continue
        classes = np.flatnonzero(reached & (hi == g))
        sub_cover = sp.csr_matrix(cover[sites][:, classes])
        sub_cover.sort_indices()
        sub_cap = Capacity(per_m2=capacity.per_m2,
                           per_site=None if capacity.per_site is None
                           else capacity.per_site[sites])
        out.append(pair_lp(sites, _sub_table(table, sites, g), sub_cover,
                             weight[classes], value[classes], sub_cap))
    return out


def pair_lp(sites: np.ndarray, table: SiteTable, cover: sp.csr_matrix, weight: np.ndarray,
            value: np.ndarray, capacity: Capacity) -> GroupLp:
    """The LP of some sites with flows per covered pair and the row per site, no pair rows yet.

    Parameters
    ----------
    sites
        Indices of the sites in the whole model (kept as :attr:`GroupLp.sites`).
    table
        The site-side constraints of these sites alone.
    cover
        ``(sites.size, n_classes)`` coverage of the classes they reach.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel.
    capacity
        What each of these sites handles.

    Returns
    -------
    GroupLp
    """
    cover = sp.csr_matrix(cover, dtype=float)
    cover.sort_indices()
    clp = coverage_lp(table, cover, weight, value, capacity=capacity)
    lp = clp.lp
    n = table.n_sites
    n_opts = clp.n_opts
    n_pairs = cover.nnz
    pair_site = np.repeat(np.arange(n), np.diff(cover.indptr))
    pair_weight = weight[cover.indices]
    cap_k = capacity.options(clp.opt_site, clp.opt_area)
    reach = np.asarray(cover @ weight).ravel()
    # sum_c x_ic - sum_k min(cap_k, D_i) y_ik <= 0
    rows = np.concatenate([pair_site, clp.opt_site])
    cols = np.concatenate([n_opts + np.arange(n_pairs), np.arange(n_opts)])
    vals = np.concatenate([np.ones(n_pairs), -np.minimum(cap_k, reach[clp.opt_site])])
    base = _at_most_zero(lp, sp.csr_matrix((vals, (rows, cols)), shape=(n, lp.c.size)))
    option_of_site = sp.csr_matrix((np.ones(n_opts), (clp.opt_site, np.arange(n_opts))),
                                   shape=(n, n_opts))
    return GroupLp(sites=sites, base=base, opt_area=clp.opt_area, pair_site=pair_site,
                   pair_class=cover.indices.copy(), pair_weight=pair_weight,
                   option_of_site=option_of_site, cap_k=cap_k, cut=np.zeros(n_pairs, dtype=bool))


@dataclass
class GroupBound:
    """The outcome of :func:`group_bound`.

    Attributes
    ----------
    bound
        The best certified upper bound found (``inf`` when none).
    area_price, count_price
        The prices ``λ`` (per m²) and ``μ`` (per site) at which it was found.
    rounds
        Prices tried (each one LP per group).
    pair_rows
        Pair rows added, over all groups.
    wall_s
        Seconds spent.
    parts
        ``(n_groups,)`` each group LP's bound at those prices.
    """

    bound: float
    area_price: float
    count_price: float
    rounds: int
    pair_rows: int
    wall_s: float
    parts: np.ndarray


def _priced(group: GroupLp, area_price: float, count_price: float) -> LinearProgram:
    lp = group.with_cuts()
    c = lp.c.copy()
    c[: group.n_opts] -= area_price * group.opt_area + count_price
    return dataclasses.replace(lp, c=c)


def _evaluate(groups: list[GroupLp], area_price: float, count_price: float,
              deadline: float, stop: Callable[[], bool]
              ) -> tuple[np.ndarray | None, float, int]:
    """The bound of each priced group LP, the area they open, and the pair rows added."""
    bounds = np.zeros(len(groups))
    area, added = 0.0, 0
    for k, group in enumerate(groups):
        left = deadline - time.perf_counter()
        if left <= 0 or stop():
            return None, np.nan, added
        res = lp_bound(_priced(group, area_price, count_price), time_limit_s=left)
        if res.status not in ("optimal", "limit") or not np.isfinite(res.bound):
            return None, np.nan, added
        bounds[k] = res.bound
        area += float(res.x[: group.n_opts] @ group.opt_area)
        added += group.add_broken(res.x)
    return bounds, area, added


def group_bound(groups: list[GroupLp], *, area_budget_m2: float, count_max: int,
                area_price: float, count_price: float, time_limit_s: float,
                max_rounds: int = 40, on_bound: Callable[[float], object] | None = None,
                stop: Callable[[], bool] | None = None) -> GroupBound:
    """Bound the model by pricing the area budget and solving each group's LP.

    The count price stays as given; the area price moves towards the one
    whose group plans use the budget exactly (a bracket, then bisection), and
    every round adds the pair rows the last LP solutions broke.

    Parameters
    ----------
    groups
        The group LPs (:func:`group_lps`); their pair rows grow.
    area_budget_m2
        The area budget ``B`` (``inf``: the area price is 0).
    count_max
        The most sites open.
    area_price, count_price
        Starting prices, e.g. the shadow prices of an LP of the whole model.
    time_limit_s
        Seconds allowed.
    max_rounds
        Most prices tried.
    on_bound
        Called with every better bound as soon as it is found.
    stop
        Polled between group LPs; ``True`` ends the search with the best bound so far.

    Returns
    -------
    GroupBound
    """
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    if not np.isfinite(area_budget_m2):
        area_price, max_rounds = 0.0, 1
    count_price = max(0.0, count_price)
    lam = max(0.0, area_price)
    best = GroupBound(np.inf, lam, count_price, 0, 0, 0.0, np.full(len(groups), np.inf))
    too_low = too_high = None  # prices whose plans overrun the budget / leave area unused
    rows = 0
    for rounds in range(1, max_rounds + 1):
        parts, used, added = _evaluate(groups, lam, count_price, deadline,
                                       stop or (lambda: False))
        rows += added
        if parts is None:
            break
        budget_term = lam * area_budget_m2 if np.isfinite(area_budget_m2) else 0.0
        value = budget_term + count_price * count_max + float(parts.sum())
        if value < best.bound:
            best = GroupBound(value, lam, count_price, rounds, rows, 0.0, parts)
            if on_bound is not None:
                on_bound(value)
        best.rounds, best.pair_rows = rounds, rows
        if not np.isfinite(area_budget_m2):
            break
        if used > area_budget_m2:
            too_low = lam
        else:
            too_high = lam
        if too_low is not None and too_high is not None:
            lam = 0.5 * (too_low + too_high)
        elif too_low is not None:
            lam = 1.5 * lam + 0.1
        elif lam > 0:
            lam = 0.6 * lam
        elif added == 0:
            break  # at λ = 0 the area is not all used and no row was added: nothing to gain
    best.wall_s = time.perf_counter() - t0
    return best


@dataclass
class GroupPlan:
    """One plan of one group: its sites' areas and what it serves.

    Attributes
    ----------
    area_m2
        ``(n_sites_of_group,)`` area of each of the group's sites (0 = closed).
    value
        Value served by the plan.
    """

    area_m2: np.ndarray
    value: float

    @property
    def area(self) -> float:
        """Total area of the plan."""
        return float(self.area_m2.sum())

    @property
    def count(self) -> int:
        """Sites open."""
        return int(np.count_nonzero(self.area_m2))


def group_plan(group: GroupLp, *, area_price: float, count_price: float,
               time_limit_s: float, gap: float = 1e-4) -> GroupPlan | None:
    """The group's best plan at the given prices, by HiGHS on its LP with the rows added so far.

    The pair rows are valid for every plan, so the flows of a solution are
    the plan's exact service.

    Parameters
    ----------
    group
        The group's LP.
    area_price, count_price
        Prices per m² and per open site.
    time_limit_s
        HiGHS's time limit.
    gap
        Relative gap at which HiGHS stops.

    Returns
    -------
    GroupPlan or None
        ``None`` when HiGHS found no plan in time.
    """
    from hzlogistics.solvers.mip import solve_integer_program

    lp = _priced(group, area_price, count_price)
    integer = np.zeros(lp.c.size, dtype=bool)
    integer[: group.n_opts] = True
    out = solve_integer_program(lp, integer, time_limit_s=time_limit_s, gap=gap)
    if out.values is None:
        return None
    y = np.round(out.values[: group.n_opts])
    area = np.asarray(group.option_of_site @ (y * group.opt_area)).ravel()
    value = float(group.base.c[group.n_opts:] @ out.values[group.n_opts:])
    return GroupPlan(area_m2=area, value=value)


@dataclass
class PairMip:
    """The outcome of :func:`pair_mip`.

    Attributes
    ----------
    plan
        The area of every site in the plan HiGHS ends with (``None``: none found).
    bound
        Its bound on the model's optimum (``inf`` when none).
    status
        HiGHS's status (:class:`~hzlogistics.solvers.mip.MipOutcome`).
    """

    plan: np.ndarray | None
    bound: float
    status: str


def pair_mip(table: SiteTable, cover: sp.csr_matrix, weight: np.ndarray, value: np.ndarray,
             capacity: Capacity, start_m2: np.ndarray, start_flows: sp.csr_matrix, *,
             time_limit_s: float, gap: float, seed: int = 0, stop: object | None = None,
             watch: Callable[[float, float], bool] | None = None) -> PairMip:
    """HiGHS on the whole model with flows per covered pair (:func:`pair_lp`), from a plan.

    HiGHS searches for plans better than the start by less than the gap target
    too, and is stopped once its plan and bound meet it (``gap_pruning=False``
    in :func:`~hzlogistics.solvers.mip.solve_integer_program`).

    Parameters
    ----------
    table
        The site-side constraints.
    cover
        ``(n_sites, n_classes)`` coverage.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel.
    capacity
        What a site handles.
    start_m2, start_flows
        A feasible plan and its flows, HiGHS's start.
    time_limit_s, gap, seed
        HiGHS's time limit, relative gap target and random seed.
    stop
        A stop event (anything with ``wait``): once set, HiGHS is interrupted.
    watch
        Called with HiGHS's plan value and bound at each of its interrupt checks;
        True stops it (``watch`` in :func:`~hzlogistics.solvers.mip.solve_integer_program`).

    Returns
    -------
    PairMip
    """
    from hzlogistics.solvers.mip import MipInterrupter, solve_integer_program

    group = pair_lp(np.arange(table.n_sites), table, cover, weight, value, capacity)
    integer = np.zeros(group.base.c.size, dtype=bool)
    integer[:group.n_opts] = True
    stopper = MipInterrupter()
    with watch_stop(stop, stopper.interrupt):
        out = solve_integer_program(group.base, integer, time_limit_s=time_limit_s, gap=gap,
                                    seed=seed, hint=pair_hint(group, start_m2, start_flows),
                                    interrupter=stopper, gap_pruning=False, watch=watch)
    plan = None
    if out.values is not None:
        y = np.round(out.values[:group.n_opts])
        plan = np.asarray(group.option_of_site @ (y * group.opt_area)).ravel()
    return PairMip(plan=plan, bound=float(out.bound), status=str(out.status))


def mip_area_price(group: GroupLp, area_price: float) -> float:
    """The area price at which :class:`GroupWork` solves a group's MIP.

    The bound's price, but at most ``1 - GROUP_MIP_PRICE_CUT`` times the most
    parcels/day a m² of the group's sizes handles: at that price or above, no
    plan is worth more than the empty one.

    Parameters
    ----------
    group
        The group's LP.
    area_price
        The bound's price per m².

    Returns
    -------
    float
    """
    sized = (group.opt_area > 0) & np.isfinite(group.cap_k)
    if not sized.any():
        return area_price
    top = float(np.max(group.cap_k[sized] / group.opt_area[sized]))
    return min(area_price, (1.0 - GROUP_MIP_PRICE_CUT) * top)


def best_combination(choices: list[list[GroupPlan]], *, area_budget_m2: float, count_min: int,
                     count_max: int) -> list[int] | None:
    """One plan per group, of the most value within the area budget (a multiple-choice knapsack).

    Exact over the area (the Pareto front of area against value is kept
    after each group); the site count is checked on the chosen plans only.

    Parameters
    ----------
    choices
        The candidate plans of every group (none of them empty).
    area_budget_m2
        Total area allowed.
    count_min, count_max
        Sites open allowed.

    Returns
    -------
    list of int or None
        Index of the chosen plan of every group, or ``None`` when no
        combination fits the budget and the count.

    Examples
    --------
    >>> a = [GroupPlan(np.array([100.]), 800.), GroupPlan(np.array([200.]), 1500.)]
    >>> b = [GroupPlan(np.array([100.]), 700.), GroupPlan(np.array([200.]), 900.)]
    >>> best_combination([a, b], area_budget_m2=300., count_min=0, count_max=5)
    [1, 0]
    """
    area = np.zeros(1)
    value = np.zeros(1)
    back: list[tuple[np.ndarray, np.ndarray]] = []
    for plans in choices:
        a = np.array([p.area for p in plans])
        v = np.array([p.value for p in plans])
        new_area = (area[:, None] + a[None, :]).ravel()
        new_value = (value[:, None] + v[None, :]).ravel()
        fits = np.flatnonzero(new_area <= area_budget_m2 * (1 + 1e-12))
        if fits.size == 0:
            return None
        order = fits[np.lexsort((-new_value[fits], new_area[fits]))]
        keep = order[np.concatenate([[True], np.diff(np.maximum.accumulate(new_value[order]))
                                     > 0])]
        back.append((keep // a.size, keep % a.size))
        area, value = new_area[keep], new_value[keep]
    state = int(np.argmax(value))
    picks: list[int] = []
    for prev, pick in reversed(back):
        picks.append(int(pick[state]))
        state = int(prev[state])
    picks.reverse()
    count = sum(choices[g][k].count for g, k in enumerate(picks))
    if not count_min <= count <= count_max:
        return None
    return picks


class GroupWork:
    """The work by group in a thread beside a search: the bound, then MIP plans.

    The thread first tightens the bound (:func:`group_bound`), then solves
    the groups whose plan falls furthest below their share of the bound, each
    as a MIP at the bound's prices (:func:`group_plan`, :func:`mip_area_price`).
    GLOP and HiGHS release the interpreter, so on two cores it runs while the
    search does.
    :attr:`ready` is set once the MIPs are done; :meth:`finish` ends the
    thread and combines a plan of the search's with the MIPs' plans.

    Parameters
    ----------
    groups
        The group LPs (:func:`group_lps`).
    table
        The site-side constraints of the whole model.
    area_price, count_price
        Starting prices of the bound (e.g. an LP's shadow prices).
    start
        The plan of every group when the work starts, to rank them for the MIPs.
    time_limit_s
        Seconds the thread may run.
    on_bound
        Called with every better bound.
    stop
        Polled between LPs and MIPs; ``True`` ends the thread early.
    info
        Where the thread writes its figures (``group_bound``, ``group_plans``, ...).
    """

    def __init__(self, groups: list[GroupLp], table: SiteTable, *, area_price: float,
                 count_price: float, start: list[GroupPlan], time_limit_s: float,
                 on_bound: Callable[[float], object], stop: Callable[[], bool],
                 info: dict[str, object]) -> None:
        self.groups, self.table, self.info = groups, table, info
        self.found: list[list[GroupPlan]] = [[] for _ in groups]
        self.ready = threading.Event()
        self._done = threading.Event()
        self._t0 = time.perf_counter()
        self._deadline = self._t0 + time_limit_s
        self._thread = threading.Thread(
            target=self._run, args=(area_price, count_price, start, on_bound, stop),
            name="group-bound", daemon=True)
        self._thread.start()

    def _run(self, area_price: float, count_price: float, start: list[GroupPlan],
             on_bound: Callable[[float], object], stop: Callable[[], bool]) -> None:
        """:meth:`_work`; a failure there costs the search nothing but is logged and kept."""
        try:
            self._work(area_price, count_price, start, on_bound, stop)
        except Exception as exc:  # the search's plan must survive any failure here
            logger.warning("the bound by group failed: %r", exc, exc_info=True)
            self.info["group_error"] = repr(exc)
        finally:
            self.ready.set()

    def _work(self, area_price: float, count_price: float, start: list[GroupPlan],
              on_bound: Callable[[float], object], stop: Callable[[], bool]) -> None:
        def ended() -> bool:
            return self._done.is_set() or stop()

        res = group_bound(self.groups, area_budget_m2=self.table.area_budget_m2,
                          count_max=self.table.count_max, area_price=area_price,
                          count_price=count_price,
                          time_limit_s=GROUP_BOUND_SHARE * (self._deadline - self._t0),
                          on_bound=on_bound, stop=ended)
        self.info.update(group_bound=res.bound, group_bound_rounds=res.rounds,
                         group_area_price=res.area_price, group_pair_rows=res.pair_rows,
                         group_bound_s=round(time.perf_counter() - self._t0, 3))
        short = res.parts - np.array([p.value - res.area_price * p.area
                                      - res.count_price * p.count for p in start])
        short[[g.base.c.size > GROUP_MIP_MAX_COLUMNS for g in self.groups]] = 0.0
        solved = 0
        for k in np.argsort(-short):
            left = self._deadline - time.perf_counter()
            if ended() or left <= 0.1 or not short[k] > 0:
                break
            plan = group_plan(self.groups[k],
                              area_price=mip_area_price(self.groups[k], res.area_price),
                              count_price=res.count_price, time_limit_s=min(GROUP_MIP_S, left))
            if plan is not None:
                self.found[k].append(plan)
                solved += 1
        self.info["group_plans"] = solved

    def finish(self, mine: list[GroupPlan]) -> np.ndarray | None:
        """End the thread; the best plan made of ``mine`` and the MIPs' plans, group by group.

        Parameters
        ----------
        mine
            A plan of every group (the search's).

        Returns
        -------
        numpy.ndarray or None
            ``(n_sites,)`` areas, or ``None`` when no MIP plan is part of the best
            combination.
        """
        self._done.set()
        self._thread.join()
        if not any(self.found):
            return None
        choices = [[own, *more] for own, more in zip(mine, self.found, strict=True)]
        picks = best_combination(choices, area_budget_m2=self.table.area_budget_m2,
                                 count_min=self.table.count_min, count_max=self.table.count_max)
        if picks is None or not any(picks):
            return None
        plan = np.zeros(self.table.n_sites)
        for group, options, k in zip(self.groups, choices, picks, strict=True):
            plan[group.sites] = options[k].area_m2
        return plan
