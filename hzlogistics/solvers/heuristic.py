"""Fast feasible plans for the siting models: greedy construction.

The pieces are general so that every model can use them:

- the site-side constraints come from :mod:`hzlogistics.solvers.sites`;
- :class:`PlanState` keeps the running totals of a plan so that a move (a new
  area for one site) is checked in constant time;
- :func:`greedy_plan` builds a plan that meets every constraint: first the
  lower bounds (forced sites, per-group minimum counts, the total minimum
  count, per-group minimum areas), then growth by the best marginal gain per
  m² (or per unit of :class:`MovePrice`). The gain comes from an *evaluator*
  (any object with ``gain`` and ``apply`` methods, see
  :class:`MarginalEvaluator`), so another objective plugs in its own;
- :class:`CoverGain`, :class:`CapacityGain` are the evaluators of the coverage
  objective without and with capacity;
- :func:`round_down` turns fractional areas (an LP solution) into a partial
  plan within the upper limits.

The local searches that improve a plan are in
:mod:`hzlogistics.solvers.local_search`, the exact service of demand under
capacity in :mod:`hzlogistics.solvers.capacity`, and a CP-SAT search for a
first plan when the greedy fails in :mod:`hzlogistics.solvers.cpsat`.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.capacity import Capacity
from hzlogistics.solvers.sites import TOL, SiteTable, at_most, plan_violations


def _at_most(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """:func:`~hzlogistics.solvers.sites.at_most` of arrays."""
    b = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.asarray(a <= b + TOL * np.maximum(1.0, np.abs(b)))


class PlanState:
    """Running totals of a plan, to check a one-site move in constant time.

    Parameters
    ----------
    table
        The site-side constraints.
    area_m2
        Starting plan (default: everything closed).
    """

    def __init__(self, table: SiteTable, area_m2: np.ndarray | None = None) -> None:
        self.table = table
        self.area = (np.zeros(table.n_sites) if area_m2 is None
                     else np.asarray(area_m2, dtype=float).copy())
        opened = self.area > 0
        self.count = int(opened.sum())
        self.total = float(self.area.sum())
        self.rent = float(self.area @ table.rent_usd_m2_year)
        self.group_count = np.bincount(table.group[opened], minlength=table.n_groups)
        self.group_area = np.bincount(table.group, weights=self.area, minlength=table.n_groups)
        self.version = np.zeros(table.n_sites, dtype=np.int64)

    def allows(self, i: int, new_m2: float, *, lower: bool = True) -> bool:
        """Whether giving site ``i`` the area ``new_m2`` keeps the plan within its limits.

        Upper limits are always checked; lower limits (minimum counts and areas,
        forced sites) only when ``lower`` is true and the move lowers them.
        """
        t = self.table
        old = self.area[i]
        d_area = new_m2 - old
        d_count = int(new_m2 > 0) - int(old > 0)
        g = t.group[i]
        if d_area > 0 or d_count > 0:
            if d_count > 0 and (self.count + 1 > t.count_max
                                or self.group_count[g] + 1 > t.group_count_max[g]):
                return False
            if not at_most(self.total + d_area, t.area_budget_m2):
                return False
            if not at_most(self.group_area[g] + d_area, t.group_area_max_m2[g]):
                return False
            if not at_most(self.rent + d_area * t.rent_usd_m2_year[i], t.rent_cap_usd_year):
                return False
        if lower and (d_area < 0 or d_count < 0):
            if new_m2 <= 0 and t.forced[i]:
                return False
            if d_count < 0 and (self.count - 1 < t.count_min
                                or self.group_count[g] - 1 < t.group_count_min[g]):
                return False
            if not at_most(t.group_area_min_m2[g], self.group_area[g] + d_area):
                return False
        return True

    def allows_many(self, sites: np.ndarray, new_m2: np.ndarray) -> np.ndarray:
        """:meth:`allows` (with the lower limits) of many one-site moves, each one alone.

        ``sites`` and ``new_m2`` are equal-length arrays; the result is a bool
        array: whether each move, made by itself from the current plan, keeps
        the plan within its limits.
        """
        t = self.table
        old = self.area[sites]
        d_area = new_m2 - old
        d_count = (new_m2 > 0).astype(np.int64) - (old > 0).astype(np.int64)
        g = t.group[sites]
        over = (d_count > 0) & ((self.count + 1 > t.count_max)
                                | (self.group_count[g] + 1 > t.group_count_max[g]))
        over |= ~_at_most(self.total + d_area, t.area_budget_m2)
        over |= ~_at_most(self.group_area[g] + d_area, t.group_area_max_m2[g])
        over |= ~_at_most(self.rent + d_area * t.rent_usd_m2_year[sites], t.rent_cap_usd_year)
        under = (new_m2 <= 0) & t.forced[sites]
        under |= (d_count < 0) & ((self.count - 1 < t.count_min)
                                  | (self.group_count[g] - 1 < t.group_count_min[g]))
        under |= ~_at_most(t.group_area_min_m2[g], self.group_area[g] + d_area)
        growing = (d_area > 0) | (d_count > 0)
        shrinking = (d_area < 0) | (d_count < 0)
        return ~((growing & over) | (shrinking & under))

    def set(self, i: int, new_m2: float) -> None:
        """Give site ``i`` the area ``new_m2`` (0 = close), updating the totals."""
        t = self.table
        old = self.area[i]
        d_area = new_m2 - old
        d_count = int(new_m2 > 0) - int(old > 0)
        g = t.group[i]
        self.area[i] = new_m2
        self.total += d_area
        self.count += d_count
        self.rent += d_area * t.rent_usd_m2_year[i]
        self.group_count[g] += d_count
        self.group_area[g] += d_area
        self.version[i] += 1


class MarginalEvaluator(Protocol):
    """What :func:`greedy_plan` needs from an objective.

    ``gain(i, old_m2, new_m2)`` estimates the improvement of the objective when
    site ``i`` goes from ``old_m2`` to ``new_m2`` (0 = closed) given the moves
    applied so far; ``apply`` records the move. An evaluator may also offer
    ``gains(sites, old_m2, new_m2)``, the same for arrays of moves at once
    (each from the current state), which :func:`greedy_plan` then uses to
    rank every site's first move.
    """

    def gain(self, i: int, old_m2: float, new_m2: float) -> float: ...  # pragma: no cover

    def apply(self, i: int, old_m2: float, new_m2: float) -> None: ...  # pragma: no cover


class CoverGain:
    """Marginal coverage without capacity: an open site serves every class it covers.

    Parameters
    ----------
    cover
        ``(n_sites, n_classes)`` CSR coverage.
    weight_value
        ``(n_classes,)`` value of serving each class (weight × value).
    covered_by
        Optional starting number of open sites covering each class.
    """

    def __init__(self, cover: sp.csr_matrix, weight_value: np.ndarray,
                 covered_by: np.ndarray | None = None) -> None:
        self.cover = sp.csr_matrix(cover)
        self.wv = np.asarray(weight_value, dtype=float)
        self.count = (np.zeros(self.cover.shape[1], dtype=np.int64) if covered_by is None
                      else np.asarray(covered_by, dtype=np.int64).copy())

    def _cols(self, i: int) -> np.ndarray:
        return self.cover.indices[self.cover.indptr[i]:self.cover.indptr[i + 1]]

    def gain(self, i: int, old_m2: float, new_m2: float) -> float:
        """Value of the classes that site ``i`` would newly cover (opening only)."""
        if old_m2 > 0 or new_m2 <= 0:
            return 0.0 if (old_m2 > 0) == (new_m2 > 0) else -self._loss(i)
        c = self._cols(i)
        return float(self.wv[c][self.count[c] == 0].sum())

    def gains(self, sites: np.ndarray, old_m2: np.ndarray, new_m2: np.ndarray) -> np.ndarray:
        """:meth:`gain` of many moves, each from the current state."""
        out = np.zeros(sites.size)
        was, now = old_m2 > 0, new_m2 > 0
        for moves, lone in ((~was & now, 0), (was & ~now, 1)):
            if moves.any():
                per_site = self.cover[sites[moves]] @ (self.wv * (self.count == lone))
                out[moves] = per_site if lone == 0 else -per_site
        return out

    def _loss(self, i: int) -> float:
        c = self._cols(i)
        return float(self.wv[c][self.count[c] == 1].sum())

    def apply(self, i: int, old_m2: float, new_m2: float) -> None:
        """Record that site ``i`` opened or closed."""
        if (old_m2 > 0) != (new_m2 > 0):
            self.count[self._cols(i)] += 1 if new_m2 > 0 else -1


class CapacityGain:
    """Marginal served value with capacity, serving residual demand greedily.

    Extra area at a site serves, up to the capacity it adds,
    the demand it covers that no site serves yet: highest value first, and
    among equal values the classes that fewest sites cover. The estimate
    ignores rerouting, so it is a lower bound on the true marginal gain;
    :class:`CapacityFlow` gives the exact value of a plan.

    Parameters
    ----------
    cover
        ``(n_sites, n_classes)`` CSR coverage.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel of each class.
    capacity
        Site capacities (or parcels/day per m²).
    residual
        Optional starting unserved demand of each class (default: ``weight``).
    """

    def __init__(self, cover: sp.csr_matrix, weight: np.ndarray, value: np.ndarray,
                 capacity: Capacity | float, residual: np.ndarray | None = None) -> None:
        cover = sp.csr_matrix(cover)
        self.capacity = Capacity.coerce(capacity)
        self.value = np.asarray(value, dtype=float)
        self.residual = (np.asarray(weight, dtype=float).copy() if residual is None
                         else np.asarray(residual, dtype=float).copy())
        degree = np.bincount(cover.indices, minlength=cover.shape[1])
        # each site's classes: highest value first, then fewest covering sites
        c = cover.indices
        pair_site = np.repeat(np.arange(cover.shape[0]), np.diff(cover.indptr))
        self._flat = c[np.lexsort((degree[c], -self.value[c], pair_site))]
        self._ptr = cover.indptr.astype(np.int64)
        self.order: list[np.ndarray] = np.split(self._flat, self._ptr[1:-1])
        self.slack = np.zeros(cover.shape[0])

    def _take(self, i: int, cap: float) -> tuple[np.ndarray, np.ndarray]:
        c = self.order[i]
        r = self.residual[c]
        before = np.cumsum(r) - r
        return c, np.clip(cap - before, 0.0, r)

    def _extra(self, i: int, old_m2: float, new_m2: float) -> float:
        old = float(self.capacity.site(i, old_m2))
        new = float(self.capacity.site(i, new_m2))
        if np.isinf(new):
            return 0.0 if np.isinf(old) else np.inf
        return new - old

    def gain(self, i: int, old_m2: float, new_m2: float) -> float:
        """Value served by the extra capacity (negative moves are not estimated: 0)."""
        if new_m2 <= old_m2:
            return 0.0
        c, take = self._take(i, self._extra(i, old_m2, new_m2) + self.slack[i])
        return float(take @ self.value[c])

    def gains(self, sites: np.ndarray, old_m2: np.ndarray, new_m2: np.ndarray) -> np.ndarray:
        """:meth:`gain` of many moves, each from the current state.

        The demand a site serves first comes in its own order, so the value
        taken by a capacity ``x`` is read off the running sums of residual
        and of residual value along that order (one pass over the pairs of
        the sites moved).
        """
        out = np.zeros(sites.size)
        grow = new_m2 > old_m2
        s = sites[grow]
        if s.size == 0:
            return out
        cap_new = self._caps(s, new_m2[grow])
        cap_old = self._caps(s, old_m2[grow])
        with np.errstate(invalid="ignore"):
            extra = np.where(np.isinf(cap_new), np.where(np.isinf(cap_old), 0.0, np.inf),
                             cap_new - cap_old)
        target = extra + self.slack[s]
        # the pairs of the sites moved, each site's in a row
        u, inv = np.unique(s, return_inverse=True)
        lens = self._ptr[u + 1] - self._ptr[u]
        offs = np.zeros(u.size + 1, dtype=np.int64)
        np.cumsum(lens, out=offs[1:])
        flat = self._flat[np.repeat(self._ptr[u] - offs[:-1], lens) + np.arange(offs[-1])]
        r = self.residual[flat]
        v = self.value[flat]
        run_r = _running(r)  # run_r[k]: residual before pair k
        run_v = _running(r * v)
        start, end = offs[inv], offs[inv + 1]
        out[grow] = _value_taken(run_r, run_v, v, start, end, run_r[start] + target)
        return out

    def site_gains(self, i: int, old_m2: float, new_m2: np.ndarray) -> np.ndarray:
        """:meth:`gain` of several growing moves of one site (``new_m2`` above ``old_m2``)."""
        c = self.order[i]
        r = self.residual[c]
        v = self.value[c]
        run_r = _running(r)
        run_v = _running(r * v)
        sites = np.full(new_m2.size, i)
        cap_new = self._caps(sites, new_m2)
        cap_old = float(self.capacity.site(i, old_m2))
        if np.isinf(cap_old):
            extra = np.where(np.isinf(cap_new), 0.0, -np.inf)
        else:
            extra = cap_new - cap_old
        goal = np.maximum(extra + self.slack[i], 0.0)
        return _value_taken(run_r, run_v, v, np.zeros(goal.size, dtype=np.int64),
                            np.full(goal.size, c.size), goal)

    def _caps(self, sites: np.ndarray, area_m2: np.ndarray) -> np.ndarray:
        return np.where(area_m2 > 0, self.capacity.options(sites, area_m2), 0.0)

    def apply(self, i: int, old_m2: float, new_m2: float) -> None:
        """Serve residual demand with the extra capacity of site ``i``."""
        if new_m2 <= old_m2:
            lost = -self._extra(i, new_m2, old_m2)
            self.slack[i] = max(0.0, self.slack[i] + lost) if np.isfinite(lost) else 0.0
            return
        cap = self._extra(i, old_m2, new_m2) + self.slack[i]
        c, take = self._take(i, cap)
        self.residual[c] -= take
        self.slack[i] = cap - take.sum()


def _value_taken(run_r: np.ndarray, run_v: np.ndarray, v: np.ndarray, start: np.ndarray,
                 end: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Value served by filling, in order, the pairs ``start..end-1`` up to ``run_r == goal``.

    ``run_r`` and ``run_v`` are the running sums (:func:`_running`) of the
    residual and of the residual value along the pairs, ``v`` each pair's
    value per parcel; ``goal`` is ``run_r[start]`` plus the capacity.
    """
    # the first pair whose residual the capacity does not cover in full
    k = np.clip(np.searchsorted(run_r, goal, side="right") - 1, start, end)
    got = run_v[end] - run_v[start]
    part = k < end
    kp = k[part]
    got[part] = run_v[kp] - run_v[start[part]] + (goal[part] - run_r[kp]) * v[kp]
    return got


def _running(x: np.ndarray) -> np.ndarray:
    """``[0, x0, x0 + x1, ...]``: the sums before each entry, and the total."""
    out = np.zeros(x.size + 1)
    np.cumsum(x, out=out[1:])
    return out


@dataclass
class MovePrice:
    """Prices of the scarce resources, to rank moves by gain per unit of cost.

    The cost of giving site ``i`` the area ``new`` instead of ``old`` is
    ``area[i] * (new - old) + open[i] * [old == 0 < new]``: shadow prices of
    the area budget, rent cap and per-group area limits per m² of site ``i``,
    and of the count limits per opened site (e.g. LP duals, see
    :meth:`hzlogistics.models.coverage_lp.CoverageLp.move_price`).
    """

    area: np.ndarray
    open: np.ndarray

    def cost(self, i: int, old_m2: float, new_m2: float) -> float:
        """Cost of a growing move (a tiny per-m² floor keeps it positive)."""
        d = new_m2 - old_m2
        c = self.area[i] * d + (self.open[i] if old_m2 <= 0 < new_m2 else 0.0)
        return max(c, 1e-9 * d)


def _move_cost(price: MovePrice | None, per_area: bool, i: int, old: float, new: float) -> float:
    if price is not None:
        return price.cost(i, old, new)
    return (new - old) if per_area else 1.0


def _move_costs(price: MovePrice | None, per_area: bool, sites: np.ndarray, old: np.ndarray,
                new: np.ndarray) -> np.ndarray:
    """:func:`_move_cost` of many moves."""
    d = new - old
    if price is None:
        return d if per_area else np.ones(d.size)
    c = price.area[sites] * d + np.where((old <= 0) & (new > 0), price.open[sites], 0.0)
    return np.maximum(c, 1e-9 * d)


def _key(gain: float, cost: float) -> float:
    """Gain per cost to 10 significant digits, so that rounding noise breaks no tie."""
    x = gain / cost
    if x == 0.0 or not math.isfinite(x):
        return x
    return round(x, 9 - math.floor(math.log10(abs(x))))


def greedy_plan(
    table: SiteTable,
    evaluator: MarginalEvaluator,
    *,
    start_m2: np.ndarray | None = None,
    per_area: bool = True,
    price: MovePrice | None = None,
    grow: bool = True,
    allowed: np.ndarray | None = None,
    deadline: float | None = None,
    seed: int | None = None,
) -> np.ndarray | None:
    """Build a plan that meets every site-side constraint, greedily.

    First the lower bounds, each by the moves of best marginal gain: forced
    sites at their smallest area; per-group minimum counts; the total minimum
    count; per-group minimum areas. Then (``grow``) the move of best gain
    (per m² of extra area when ``per_area``) is applied while one with a
    positive gain fits within the upper limits. Gains are re-evaluated lazily:
    they only fall as the plan grows.

    Parameters
    ----------
    table
        The site-side constraints.
    evaluator
        Marginal gains of the objective (:class:`MarginalEvaluator`); its state
        advances with every applied move.
    start_m2
        Starting plan (the evaluator must already account for it).
    per_area
        Rank growth moves by gain per m² (else by gain).
    price
        Rank moves by gain per priced cost instead (overrides ``per_area``).
    grow
        Whether to grow past the lower bounds.
    allowed
        Optional ``(n_sites,)`` bool: sites the greedy may change.
    deadline
        Optional ``time.perf_counter()`` instant after which growth stops
        early (the lower bounds are always met: the plan stays feasible).
    seed
        Moves of equal gain (common with capacity: every site whose demand
        fills its capacity gains the same per m²) are taken in a random order
        of the sites drawn from this seed; ``None`` takes them by site index.
        The order matters: sites taken by index cluster where the candidate
        list does, a random order spreads them.

    Returns
    -------
    numpy.ndarray or None
        ``(n_sites,)`` areas, or ``None`` when the greedy could not meet every
        lower bound within the upper limits (try :func:`feasible_plan_cpsat`).
    """
    state = PlanState(table, start_m2)
    rank = (np.arange(table.n_sites) if seed is None
            else np.random.default_rng(seed).permutation(table.n_sites))
    may = np.ones(table.n_sites, dtype=bool) if allowed is None else np.asarray(allowed, bool)
    for i in np.flatnonzero(table.forced & (state.area <= 0)).tolist():
        if table.areas[i].size == 0:
            return None
        a = table.areas[i][0]
        evaluator.apply(i, 0.0, a)
        state.set(i, a)
    # per-group minimum counts
    for g in np.flatnonzero(state.group_count < table.group_count_min).tolist():
        sel = may & (table.group == g)

        def short_of_count(g: int = g) -> bool:
            return bool(state.group_count[g] < table.group_count_min[g])

        _run(state, evaluator, rank, sel, opening_only=True, per_area=per_area, price=price,
             need=short_of_count)
    if state.count < table.count_min:
        _run(state, evaluator, rank, may, opening_only=True, per_area=per_area, price=price,
             need=lambda: state.count < table.count_min)
    for g in np.flatnonzero(state.group_area + TOL < table.group_area_min_m2).tolist():
        sel = may & (table.group == g)

        def short_of_area(g: int = g) -> bool:
            return not at_most(table.group_area_min_m2[g], state.group_area[g])

        _run(state, evaluator, rank, sel, opening_only=False, per_area=per_area, price=price,
             need=short_of_area)
    if plan_violations(table, state.area):
        return None
    if grow:
        _run(state, evaluator, rank, may, opening_only=False, per_area=per_area, price=price,
             need=None, deadline=deadline)
    return state.area


def _best_move(state: PlanState, ev: MarginalEvaluator, i: int, opening_only: bool,
               per_area: bool, price: MovePrice | None,
               large_first: bool = True) -> tuple[float, float, float] | None:
    """Best (key, gain, new area) of site ``i`` among the moves that fit."""
    old = state.area[i]
    opts = state.table.areas[i]
    if opening_only:
        if old > 0 or opts.size == 0:
            return None
        opts = opts[:1]
    else:
        opts = opts[opts > old * (1 + TOL)]
    fit = [a for a in opts.tolist() if state.allows(i, a)]
    site_gains = getattr(ev, "site_gains", None)
    if len(fit) > 1 and callable(site_gains) and not opening_only:
        gains = np.asarray(site_gains(i, old, np.array(fit)), dtype=float).tolist()
    else:
        gains = [ev.gain(i, old, a) for a in fit]
    best = None
    for a, g in zip(fit, gains, strict=True):
        key = _key(g, _move_cost(price, per_area, i, old, a))
        if best is None or _beats(key, a, best[0], best[2], large_first):
            best = (key, g, a)
    return best


def _beats(key: float, area: float, best_key: float, best_area: float,
           large_first: bool) -> bool:
    """Whether a move of ``key`` to ``area`` beats the best one of its site so far.

    Ties go to the larger move when growing (fewer, fuller steps), to the
    smaller when meeting a lower bound (just enough).
    """
    if key > best_key * (1 + 1e-12) + 1e-15:
        return True
    return key >= best_key * (1 - 1e-12) and (area > best_area) == large_first


def _first_moves(state: PlanState, ev: MarginalEvaluator, sel: np.ndarray, opening_only: bool,
                 per_area: bool, price: MovePrice | None, large_first: bool
                 ) -> list[tuple[int, float, float]] | None:
    """:func:`_best_move` of every site in ``sel`` at once: ``(site, key, area)`` of those with one.

    ``None`` when the evaluator has no ``gains`` for arrays of moves.
    """
    gains = getattr(ev, "gains", None)
    if not callable(gains):
        return None
    t = state.table
    opt_site, opt_area = t.option_arrays()
    old = state.area[opt_site]
    if opening_only:
        first = np.ones(opt_site.size, dtype=bool)
        first[1:] = opt_site[1:] != opt_site[:-1]
        keep = first & (old <= 0)
    else:
        keep = opt_area > old * (1 + TOL)
    keep &= sel[opt_site]
    si, ai = opt_site[keep], opt_area[keep]
    ok = state.allows_many(si, ai)
    si, ai = si[ok], ai[ok]
    oi = state.area[si]
    g = np.asarray(gains(si, oi, ai), dtype=float)
    cost = _move_costs(price, per_area, si, oi, ai)
    out: list[tuple[int, float, float]] = []
    best: tuple[float, float] | None = None  # key, area of the site being read
    prev = -1
    for i, gi, ci, a in zip(si.tolist(), g.tolist(), cost.tolist(), ai.tolist(), strict=True):
        if i != prev:
            if best is not None:
                out.append((prev, best[0], best[1]))
            best, prev = None, i
        key = _key(gi, ci)
        # the choice of _best_move: options in increasing area
        if best is None or _beats(key, a, best[0], best[1], large_first):
            best = (key, a)
    if best is not None:
        out.append((prev, best[0], best[1]))
    return out


def _run(state: PlanState, ev: MarginalEvaluator, rank: np.ndarray, sel: np.ndarray, *,
         opening_only: bool, per_area: bool, price: MovePrice | None,
         need: Callable[[], bool] | None, deadline: float | None = None) -> None:
    """Lazy greedy over the sites in ``sel`` until ``need()`` is false (or no gain is left).

    Growth (``need`` is ``None``) also stops at ``deadline`` (a ``perf_counter`` instant).
    Equal keys go to the larger move when growing, else the smaller, then by ``rank``.
    """
    large = need is None
    tie = -1.0 if large else 1.0
    heap: list[tuple[float, float, int, int, int, float]] = []

    def push(i: int) -> None:
        m = _best_move(state, ev, i, opening_only, per_area, price, large)
        if m is not None:
            heapq.heappush(heap, (-m[0], tie * m[2], int(rank[i]), i, int(state.version[i]),
                                  m[2]))

    first = _first_moves(state, ev, sel, opening_only, per_area, price, large)
    if first is None:
        for i in np.flatnonzero(sel).tolist():
            push(int(i))
    else:
        version = state.version.tolist()
        rank_of = rank.tolist()
        heap = [(-key, tie * a, rank_of[i], i, version[i], a) for i, key, a in first]
        heapq.heapify(heap)
    steps = 0
    while heap and (need is None or need()):
        steps += 1
        if (need is None and deadline is not None and steps % 32 == 0
                and time.perf_counter() > deadline):
            break
        _, _, _, i, ver, a = heapq.heappop(heap)
        if ver != state.version[i] or not state.allows(i, a):
            push(i)
            continue
        old = state.area[i]
        g = ev.gain(i, old, a)
        key = _key(g, _move_cost(price, per_area, i, old, a))
        if heap and key < -heap[0][0] * (1 - 1e-9) - 1e-12:
            push(i)
            continue
        if need is None and g <= 1e-12:
            break
        ev.apply(i, old, a)
        state.set(i, a)
        if not opening_only:
            push(i)


def round_down(table: SiteTable, target_m2: np.ndarray) -> np.ndarray:
    """Round fractional areas (e.g. an LP solution) down to allowed areas.

    Sites are taken in decreasing order of their target area and given the
    largest allowed area not above it when every upper limit still holds
    (forced sites at least their smallest area). Lower limits may be unmet:
    :func:`greedy_plan` with ``start_m2`` completes the plan.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> from hzlogistics.solvers.sites import site_table
    >>> p = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.eye(3)),
    ...                   tiers_m2=np.array([100., 200.]), count_max=2)
    >>> round_down(site_table(p), np.array([250., 60., 180.])).tolist()
    [200.0, 0.0, 100.0]
    """
    state = PlanState(table)
    target = np.asarray(target_m2, dtype=float)
    for i in np.argsort(-target, kind="stable"):
        opts = table.areas[i]
        fit = opts[opts <= target[i] * (1 + 1e-6)]
        if table.forced[i] and opts.size and fit.size == 0:
            fit = opts[:1]
        for a in fit[::-1]:
            if state.allows(int(i), float(a)):
                state.set(int(i), float(a))
                break
    return state.area

