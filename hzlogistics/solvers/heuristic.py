"""Fast feasible plans for the siting models: greedy construction and local search.

The pieces are general so that every model can use them:

- the site-side constraints come from :mod:`hzlogistics.solvers.sites`;
- :class:`PlanState` keeps the running totals of a plan so that a move (a new
  area for one site) is checked in constant time;
- :func:`greedy_plan` builds a plan that meets every constraint: first the
  lower bounds (forced sites, per-group minimum counts, the total minimum
  count, per-group minimum areas), then growth by the best marginal gain per
  m². The gain comes from an *evaluator* (any object with ``gain`` and
  ``apply`` methods, see :class:`MarginalEvaluator`), so another objective
  plugs in its own;
- :class:`CoverGain`, :class:`CapacityGain` are the evaluators of the coverage
  objective without and with capacity; :class:`CapacityFlow` serves demand
  exactly for a given plan (max-value flow);
- :func:`swap_search` (1-swap local search without capacity) and
  :func:`rebalance_search` (shrink idle area, regrow where demand waits, with
  capacity) improve a plan and keep it feasible;
- :func:`feasible_plan_cpsat` finds a plan meeting the site-side constraints
  with CP-SAT when the greedy cannot.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.problem import SitingProblem
from hzlogistics.solvers.sites import TOL, SiteTable, at_most, plan_violations

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

logger = logging.getLogger(__name__)

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
    applied so far; ``apply`` records the move.
    """

    def gain(self, i: int, old_m2: float, new_m2: float) -> float: ...  # pragma: no cover

    def apply(self, i: int, old_m2: float, new_m2: float) -> None: ...  # pragma: no cover


@dataclass(frozen=True)
class Capacity:
    """Parcels/day a site handles: ``min(per_m2 × area, per_site[i])``, 0 when closed.

    Attributes
    ----------
    per_m2
        Parcels/day per m² of floor (``None``: area does not limit).
    per_site
        ``(n_sites,)`` parcels/day each site handles whatever its area
        (``None``: no such limit).

    Examples
    --------
    >>> Capacity(per_m2=10.0, per_site=np.array([500.0, np.inf])).sites(np.array([100., 0.]))
    array([500.,   0.])
    """

    per_m2: float | None = None
    per_site: np.ndarray | None = None

    @classmethod
    def of_problem(cls, problem: SitingProblem) -> Capacity | None:
        """The capacity of ``problem``, or ``None`` when sites have none."""
        per_site = getattr(problem, "site_capacity", None)
        if problem.capacity_per_m2 is None and per_site is None:
            return None
        return cls(per_m2=None if problem.capacity_per_m2 is None
                   else float(problem.capacity_per_m2),
                   per_site=None if per_site is None else np.asarray(per_site, dtype=float))

    @classmethod
    def coerce(cls, capacity: Capacity | float) -> Capacity:
        """A :class:`Capacity` from itself or from a number of parcels/day per m²."""
        return capacity if isinstance(capacity, Capacity) else cls(per_m2=float(capacity))

    def site(self, i: int, area_m2: float | np.ndarray) -> float | np.ndarray:
        """Capacity of site ``i`` at one or several areas."""
        a = np.asarray(area_m2, dtype=float)
        cap = a * self.per_m2 if self.per_m2 is not None else np.where(a > 0, np.inf, 0.0)
        if self.per_site is not None:
            cap = np.minimum(cap, self.per_site[i])
        cap = np.where(a > 0, cap, 0.0)
        return float(cap) if cap.ndim == 0 else cap

    def sites(self, area_m2: np.ndarray) -> np.ndarray:
        """Capacity of every site of a plan."""
        a = np.asarray(area_m2, dtype=float)
        cap = a * self.per_m2 if self.per_m2 is not None else np.where(a > 0, np.inf, 0.0)
        if self.per_site is not None:
            cap = np.minimum(cap, self.per_site)
        return np.where(a > 0, cap, 0.0)

    def options(self, opt_site: np.ndarray, opt_area: np.ndarray) -> np.ndarray:
        """Capacity of every (site, area) option."""
        a = np.asarray(opt_area, dtype=float)
        cap = a * self.per_m2 if self.per_m2 is not None else np.full(a.shape, np.inf)
        if self.per_site is not None:
            cap = np.minimum(cap, self.per_site[opt_site])
        return cap


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
        self.order: list[np.ndarray] = []
        for i in range(cover.shape[0]):
            c = cover.indices[cover.indptr[i]:cover.indptr[i + 1]]
            self.order.append(c[np.lexsort((degree[c], -self.value[c]))])
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


@dataclass
class MovePrice:
    """Prices of the scarce resources, to rank moves by gain per unit of cost.

    The cost of giving site ``i`` the area ``new`` instead of ``old`` is
    ``area[i] * (new - old) + open[i] * [old == 0 < new]``: shadow prices of
    the area budget, rent cap and per-group area limits per m² of site ``i``,
    and of the count limits per opened site (e.g. LP duals, see
    :meth:`hzlogistics.solvers.bound.CoverageLp.move_price`).
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

    Returns
    -------
    numpy.ndarray or None
        ``(n_sites,)`` areas, or ``None`` when the greedy could not meet every
        lower bound within the upper limits (try :func:`feasible_plan_cpsat`).
    """
    state = PlanState(table, start_m2)
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

        _run(state, evaluator, sel, opening_only=True, per_area=per_area, price=price,
             need=short_of_count)
    if state.count < table.count_min:
        _run(state, evaluator, may, opening_only=True, per_area=per_area, price=price,
             need=lambda: state.count < table.count_min)
    for g in np.flatnonzero(state.group_area + TOL < table.group_area_min_m2).tolist():
        sel = may & (table.group == g)

        def short_of_area(g: int = g) -> bool:
            return not at_most(table.group_area_min_m2[g], state.group_area[g])

        _run(state, evaluator, sel, opening_only=False, per_area=per_area, price=price,
             need=short_of_area)
    if plan_violations(table, state.area):
        return None
    if grow:
        _run(state, evaluator, may, opening_only=False, per_area=per_area, price=price, need=None,
             deadline=deadline)
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
    best = None
    for a in opts:
        if not state.allows(i, a):
            continue
        g = ev.gain(i, old, a)
        key = g / _move_cost(price, per_area, i, old, a)
        # ties: the larger move when growing (fewer, fuller steps), the smaller when
        # meeting a lower bound (just enough)
        if best is None or key > best[0] * (1 + 1e-12) + 1e-15:
            best = (key, g, a)
        elif key >= best[0] * (1 - 1e-12) and (a > best[2]) == large_first:
            best = (key, g, a)
    return best


def _run(state: PlanState, ev: MarginalEvaluator, sel: np.ndarray, *, opening_only: bool,
         per_area: bool, price: MovePrice | None, need: Callable[[], bool] | None,
         deadline: float | None = None) -> None:
    """Lazy greedy over the sites in ``sel`` until ``need()`` is false (or no gain is left).

    Growth (``need`` is ``None``) also stops at ``deadline`` (a ``perf_counter`` instant).
    """
    large = need is None
    tie = -1.0 if large else 1.0
    heap: list[tuple[float, float, int, int, float]] = []
    for i in np.flatnonzero(sel).tolist():
        m = _best_move(state, ev, int(i), opening_only, per_area, price, large)
        if m is not None:
            heap.append((-m[0], tie * m[2], int(i), int(state.version[i]), m[2]))
    heapq.heapify(heap)
    steps = 0
    while heap and (need is None or need()):
        steps += 1
        if (need is None and deadline is not None and steps % 32 == 0
                and time.perf_counter() > deadline):
            break
        negkey, _, i, ver, a = heapq.heappop(heap)
        if ver != state.version[i] or not state.allows(i, a):
            m = _best_move(state, ev, i, opening_only, per_area, price, large)
            if m is not None:
                heapq.heappush(heap, (-m[0], tie * m[2], i, int(state.version[i]), m[2]))
            continue
        old = state.area[i]
        g = ev.gain(i, old, a)
        key = g / _move_cost(price, per_area, i, old, a)
        if heap and key < -heap[0][0] * (1 - 1e-9) - 1e-12:
            m = _best_move(state, ev, i, opening_only, per_area, price, large)
            if m is not None:
                heapq.heappush(heap, (-m[0], tie * m[2], i, int(state.version[i]), m[2]))
            continue
        if need is None and g <= 1e-12:
            break
        ev.apply(i, old, a)
        state.set(i, a)
        if not opening_only:
            m = _best_move(state, ev, i, opening_only, per_area, price, large)
            if m is not None:
                heapq.heappush(heap, (-m[0], tie * m[2], i, int(state.version[i]), m[2]))


class CapacityFlow:
    """Serve demand exactly for a given plan: the max-value flow under capacities.

    Sites send at most their capacity (:class:`Capacity`) to the classes
    they cover; each class takes at most its weight; the flow of largest total
    value is found with OR-Tools' min-cost flow (a maximum flow of least cost
    with cost ``-value``: with positive values the most valuable flow is a
    maximum flow, since the servable demand forms a matroid). Weights and
    capacities are floored to multiples of ``1 / scale`` so that the flow
    never exceeds the real ones.

    Parameters
    ----------
    cover
        ``(n_sites, n_classes)`` CSR coverage.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel.
    capacity
        Site capacities (or parcels/day per m²).
    scale
        Integer units per parcel/day.
    """

    def __init__(self, cover: sp.csr_matrix, weight: np.ndarray, value: np.ndarray,
                 capacity: Capacity | float, *, scale: float = 1000.0) -> None:
        from ortools.graph.python import min_cost_flow

        cover = sp.csr_matrix(cover)
        cover.sort_indices()
        self.cover = cover
        self.capacity = Capacity.coerce(capacity)
        self.scale = float(scale)
        self.weight = np.asarray(weight, dtype=float)
        self.value = np.asarray(value, dtype=float)
        n, m = cover.shape
        self.n, self.m = n, m
        w_int = np.floor(self.weight * self.scale + 1e-9).astype(np.int64)
        uniq = np.unique(self.value)
        v_int = np.round(self.value * (1e6 / max(uniq.max(initial=1.0), 1e-12))).astype(np.int64)
        src, sink = n + m, n + m + 1
        rows = np.repeat(np.arange(n), np.diff(cover.indptr))
        tails = np.concatenate([np.full(n, src), rows, n + np.arange(m)])
        heads = np.concatenate([np.arange(n), n + cover.indices, np.full(m, sink)])
        caps = np.concatenate([np.zeros(n, dtype=np.int64), w_int[cover.indices], w_int])
        costs = np.concatenate([np.zeros(n + cover.nnz, dtype=np.int64), -v_int])
        self._mcf = min_cost_flow.SimpleMinCostFlow()
        self._arcs = self._mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        total = int(w_int.sum())
        self._mcf.set_node_supply(src, total)
        self._mcf.set_node_supply(sink, -total)
        self._site_arcs = self._arcs[:n]
        self._pair_arcs = self._arcs[n:n + cover.nnz]
        self._ok = min_cost_flow.SimpleMinCostFlow.OPTIMAL

    def capacity_units(self, area_m2: np.ndarray) -> np.ndarray:
        """Integer capacity of every site for a plan."""
        cap = np.minimum(self.capacity.sites(area_m2), float(self.weight.sum()) * 2 + 1)
        return np.floor(cap * self.scale + 1e-9).astype(np.int64)

    def solve(self, area_m2: np.ndarray) -> tuple[float, sp.csr_matrix]:
        """Exact served value and flows of a plan.

        Returns
        -------
        objective : float
            Total value served (parcels/day × value).
        flows : scipy.sparse.csr_matrix
            ``(n_sites, n_classes)`` parcels/day from each site to each class.
        """
        self._mcf.set_arc_capacities(self._site_arcs, self.capacity_units(area_m2))
        status = self._mcf.solve_max_flow_with_min_cost()
        if status != self._ok:  # pragma: no cover - the network is always well formed
            from hzlogistics._errors import SolverError

            raise SolverError(f"min-cost flow failed with status {status}")
        f = self._mcf.flows(self._pair_arcs).astype(float) / self.scale
        flows = sp.csr_matrix((f, self.cover.indices.copy(), self.cover.indptr.copy()),
                              shape=(self.n, self.m))
        flows.eliminate_zeros()
        served = np.asarray(flows.sum(axis=0)).ravel()
        return float(served @ self.value), flows


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
) -> tuple[np.ndarray, float]:
    """Local search with capacity: shrink idle area, regrow it where demand waits.

    Each round serves demand exactly (:class:`CapacityFlow`), gives every site
    the smallest allowed area that still carries its load (closing idle sites
    where the counts allow), then spends the freed area greedily on unserved
    demand (:class:`CapacityGain`). A round is kept only if the exact value
    improves.

    When the number of open sites is at ``count_max`` (so no site can be
    added), a round that brings nothing is retried closing, besides the idle
    sites, the open sites serving the least value: ``close_share`` of the
    open sites first, then a quarter as many, down to a single site. This
    moves sites from where they serve little to where demand waits.

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
    for _ in range(max_rounds):
        if time.perf_counter() - t0 > time_limit_s - solve_s:
            break
        load = np.asarray(flows.sum(axis=1)).ravel()
        state = PlanState(table, area)
        if n_close:
            # close the open sites that serve the least value
            served_value = np.asarray(flows @ flow.value).ravel()
            movable = np.flatnonzero((area > 0) & ~table.forced)
            closed = 0
            for i in movable[np.argsort(served_value[movable], kind="stable")].tolist():
                if closed >= n_close:
                    break
                if state.allows(i, 0.0):
                    state.set(i, 0.0)
                    closed += 1
            load = np.where(state.area > 0, load, 0.0)
        # shrink, idlest first
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
        kept = sp.diags((state.area > 0).astype(float)) @ flows
        served = np.asarray(kept.sum(axis=0)).ravel()
        ev = CapacityGain(flow.cover, flow.weight, flow.value, flow.capacity,
                          residual=np.maximum(flow.weight - served, 0.0))
        ev.slack = np.maximum(np.minimum(flow.capacity.sites(state.area), 1e300) - load, 0.0)
        new = greedy_plan(table, ev, start_m2=state.area, per_area=True, price=price,
                          deadline=t0 + time_limit_s - solve_s)
        if new is None:
            break
        t_solve = time.perf_counter()
        new_obj, new_flows = flow.solve(new)
        solve_s = time.perf_counter() - t_solve
        if new_obj <= obj * (1 + 1e-12) + 1e-9:
            if n_close == 0 and close_share > 0 and int((area > 0).sum()) >= table.count_max:
                n_close = max(1, int(close_share * table.count_max))
            elif n_close > 1:
                n_close = max(1, n_close // 4)
            else:
                break
            continue
        area, obj, flows = new, new_obj, new_flows
        if on_improve is not None:
            on_improve(obj, area)
    return area, obj


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


def feasible_plan_cpsat(
    table: SiteTable,
    score: np.ndarray | None = None,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
) -> np.ndarray | None:
    """A plan meeting every site-side constraint, found by CP-SAT.

    Minimizes the total area, then prefers sites of high ``score`` (each site
    opened at one of its allowed areas).

    Parameters
    ----------
    table
        The site-side constraints.
    score
        Optional ``(n_sites,)`` preference (e.g. the demand a site covers).
    time_limit_s, seed, workers
        CP-SAT limits.

    Returns
    -------
    numpy.ndarray or None
        ``(n_sites,)`` areas, or ``None`` when none was found in time.
    """
    from ortools.sat.python import cp_model

    model, y, opt_site, opt_area = site_model(table)
    area_unit = _area_unit(opt_area)
    area_int = np.round(opt_area * area_unit).astype(np.int64)
    s = np.zeros(table.n_sites) if score is None else np.asarray(score, dtype=float)
    s_int = np.round(1000 * s / max(float(np.abs(s).max(initial=0.0)), 1e-12)).astype(np.int64)
    big = int(s_int.sum()) + 1 if s_int.size else 1
    model.minimize(cp_model.LinearExpr.weighted_sum(
        y, [int(big * a - s_int[i]) for i, a in zip(opt_site, area_int, strict=True)]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_workers = int(workers)
    solver.parameters.catch_sigint_signal = False  # Ctrl-C belongs to the caller
    code = solver.solve(model)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    area = np.zeros(table.n_sites)
    for v, i, a in zip(y, opt_site, opt_area, strict=True):
        if solver.boolean_value(v):
            area[i] = a
    return area


def _area_unit(areas: np.ndarray) -> int:
    """Smallest power of ten that makes every area an integer (at most 1e4)."""
    for unit in (1, 10, 100, 1000, 10_000):
        x = np.asarray(areas, dtype=float) * unit
        if np.all(np.abs(x - np.round(x)) < 1e-6):
            return unit
    return 10_000


def site_model(
    table: SiteTable,
    *,
    enforce: dict[str, cp_model.IntVar] | None = None,
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], np.ndarray, np.ndarray]:
    """A CP-SAT model of the site-side constraints (no objective).

    One Boolean per allowed (site, area) option; at most one per site (exactly
    one for forced sites); the count, area, group and rent constraints as
    linear rows. Areas are scaled to integers by the smallest power of ten
    that makes them exact; rents are rounded up to cents and the rent cap
    down, so a plan the model accepts always meets the real cap.

    Parameters
    ----------
    table
        The site-side constraints.
    enforce
        Optional dict, filled with ``{constraint name: Boolean literal}``; when
        given, every constraint is only enforced if its literal is true (for
        infeasibility analysis with assumptions).

    Returns
    -------
    model : ortools.sat.python.cp_model.CpModel
    y : list
        The option Booleans.
    opt_site, opt_area : numpy.ndarray
        Site and area of every option.
    """
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    opt_site, opt_area = table.option_arrays()
    unit = _area_unit(opt_area)
    a_int = np.round(opt_area * unit).astype(np.int64)
    y = [model.new_bool_var(f"y{i}_{a:g}") for i, a in zip(opt_site, opt_area, strict=True)]
    by_site: list[list[int]] = [[] for _ in range(table.n_sites)]
    for k, i in enumerate(opt_site):
        by_site[i].append(k)

    def add(name: str, ct: cp_model.Constraint) -> None:
        if enforce is not None:
            lit = enforce.get(name)
            if lit is None:
                lit = model.new_bool_var(name)
                enforce[name] = lit
            ct.only_enforce_if(lit)

    for i in range(table.n_sites):
        ks = by_site[i]
        if table.forced[i]:
            if ks:
                add("keep existing sites", model.add(sum(y[k] for k in ks) == 1))
            else:
                add("keep existing sites", model.add_bool_or([]))
        elif len(ks) > 1:
            model.add_at_most_one(y[k] for k in ks)
    count = cp_model.LinearExpr.sum(y)
    if table.count_min > 0:
        add("count_min", model.add(count >= table.count_min))
    if table.count_max < table.n_sites:
        add("count_max", model.add(count <= table.count_max))
    area = cp_model.LinearExpr.weighted_sum(y, [int(a) for a in a_int])
    if np.isfinite(table.area_budget_m2):
        add("area budget", model.add(area <= int(np.floor(table.area_budget_m2 * unit + 1e-6))))
    ks_of_group: list[list[int]] = [[] for _ in range(table.n_groups)]
    for k, i in enumerate(opt_site):
        ks_of_group[table.group[i]].append(k)
    for g in range(table.n_groups):
        ks = ks_of_group[g]
        name = table.group_names[g]
        cnt = cp_model.LinearExpr.sum([y[k] for k in ks])
        ar = cp_model.LinearExpr.weighted_sum([y[k] for k in ks], [int(a_int[k]) for k in ks])
        if table.group_count_min[g] > 0:
            add(f"{name} count_min", model.add(cnt >= int(table.group_count_min[g])))
        if table.group_count_max[g] < len(ks):
            add(f"{name} count_max", model.add(cnt <= int(table.group_count_max[g])))
        if table.group_area_min_m2[g] > 0:
            add(f"{name} area_min",
                model.add(ar >= int(np.ceil(table.group_area_min_m2[g] * unit - 1e-6))))
        if np.isfinite(table.group_area_max_m2[g]):
            add(f"{name} area_max",
                model.add(ar <= int(np.floor(table.group_area_max_m2[g] * unit + 1e-6))))
    if np.isfinite(table.rent_cap_usd_year):
        cents = np.ceil(opt_area * table.rent_usd_m2_year[opt_site] * 100 - 1e-6).astype(np.int64)
        rent = cp_model.LinearExpr.weighted_sum(y, [int(c) for c in cents])
        add("rent cap", model.add(rent <= int(np.floor(table.rent_cap_usd_year * 100 + 1e-6))))
    return model, y, opt_site, opt_area
