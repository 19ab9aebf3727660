r"""Lagrangian bound of large uncapacitated location problems, on sparse pairs.

Every demand point :math:`j` is served by one open site :math:`i` among those
that reach it, at cost :math:`c_{ij}`; a site costs :math:`f_i` to open; the
number of open sites lies in :math:`[k_{min}, k_{max}]`, some sites are forced
open. Relaxing the assignment rows :math:`\sum_i x_{ij} = 1` with multipliers
:math:`\lambda_j` gives

.. math::

    L(\lambda) = \sum_j \lambda_j + \min_{y} \sum_i y_i \rho_i, \qquad
    \rho_i = f_i + \sum_j \min(0, c_{ij} - \lambda_j),

whose inner minimum takes the forced sites and the others in increasing
:math:`\rho_i` while negative (within the count range). :math:`L(\lambda)` is
a lower bound of the optimum for any :math:`\lambda` (Beasley 1993).

Only the ``keep`` cheapest pairs of each demand point are stored: with
:math:`\lambda_j` held at or below the cost of the cheapest pair left out,
those pairs add nothing to :math:`\rho`, so the bound stays one of the full
problem while each iteration costs one pass over the kept pairs.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np


def select_sites(rho: np.ndarray, forced: np.ndarray, kmin: int, kmax: int
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """Best site set of the Lagrangian subproblem: forced sites plus the cheapest others.

    Parameters
    ----------
    rho
        ``(n_sites,)`` reduced cost of opening each site (``inf`` = may not open).
    forced
        ``(n_sites,)`` bool, sites that must open.
    kmin, kmax
        Number of open sites allowed.

    Returns
    -------
    chosen : numpy.ndarray
        ``(n_sites,)`` bool, the set.
    order : numpy.ndarray
        The free sites by increasing ``rho``.
    m : int
        How many of ``order`` are chosen.

    Examples
    --------
    >>> chosen, _, m = select_sites(np.array([-1.0, 2.0, -3.0]), np.array([False, True, False]),
    ...                             1, 2)
    >>> chosen.tolist(), m
    ([False, True, True], 1)
    """
    free = np.flatnonzero(~forced)
    order = free[np.argsort(rho[free], kind="stable")]
    n_forced = int(forced.sum())
    m = int(np.count_nonzero(rho[order] < 0))
    m = max(0, min(max(m, kmin - n_forced), kmax - n_forced, order.size))
    chosen = forced.copy()
    chosen[order[:m]] = True
    return chosen, order, m


def fix_by_rho(lam_sum: float, rho: np.ndarray, *, forced: np.ndarray, kmin: int, kmax: int,
                threshold: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reduced-cost fixing for a Lagrangian subproblem that picks sites by ``rho``.

    The subproblem's value is ``lam_sum`` plus the ``rho`` of the forced sites
    and of the cheapest others within the count range. Forcing a site open or
    closed changes it by a swap with the next best site; a site whose forced
    value reaches ``threshold`` is fixed the other way. Returns the value, the
    chosen sites, the sites that must be open, those that must be closed, and
    the free sites not chosen, by increasing ``rho``.

    Examples
    --------
    >>> value, chosen, must_open, must_close, rest = fix_by_rho(
    ...     10.0, np.array([-5.0, -1.0, 3.0]), forced=np.zeros(3, bool), kmin=1, kmax=1,
    ...     threshold=8.0)
    >>> value, chosen.tolist(), must_open.tolist(), must_close.tolist()
    (5.0, [True, False, False], [True, False, False], [False, True, True])
    """
    n = rho.size
    chosen, order, m = select_sites(rho, forced, kmin, kmax)
    k = int(chosen.sum())
    value = float(lam_sum + rho[chosen].sum()) if kmin <= k <= kmax else math.inf
    sel, rest = order[:m], order[m:]
    last = float(rho[sel[-1]]) if m else None
    nxt = float(rho[rest[0]]) if rest.size else None
    must_close = np.zeros(n, dtype=bool)
    must_open = np.zeros(n, dtype=bool)
    if rest.size:
        if k < kmax:
            drop = max(last, 0.0) if last is not None else 0.0
            with_i = value + rho[rest] - drop
        elif last is not None:
            with_i = value + rho[rest] - last
        else:
            with_i = np.full(rest.size, np.inf)
        must_close[rest[with_i >= threshold]] = True
    if m:
        if k - 1 < kmin:
            without_i = (value - rho[sel] + nxt) if nxt is not None else np.full(m, np.inf)
        else:
            without_i = value - rho[sel] + (min(nxt, 0.0) if nxt is not None else 0.0)
        must_open[sel[without_i >= threshold]] = True
    return value, chosen, must_open, must_close, rest


def by_demand_then_cost(demand: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Order of the pairs by demand point, then by increasing cost.

    One sort of a single floating-point key (demand point, then cost within
    it), several times faster than :func:`numpy.lexsort` on tens of millions
    of pairs. Pairs of nearly equal cost may come in either order.

    Examples
    --------
    >>> by_demand_then_cost(np.array([1, 0, 1, 0]), np.array([1.0, 5.0, 0.5, 2.0])).tolist()
    [3, 1, 2, 0]
    """
    if cost.size == 0:
        return np.zeros(0, dtype=np.int64)
    key, _, _ = _demand_cost_key(demand, cost)
    return np.argsort(key)


def _demand_cost_key(demand: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, float, float]:
    """One float per pair that orders by demand point, then cost; with its offset and stride."""
    low = float(cost.min())
    span = (float(cost.max()) - low) * (1.0 + 1e-9) + 1.0
    return demand.astype(np.float64) * span + (cost - low), low, span


class PairIndex:
    """The finite entries of a dense cost matrix, to find those below the multipliers fast.

    Near the dual optimum each demand point has only a few pairs cheaper than
    its multiplier, and only those enter the reduced costs and the
    subgradient. The pairs are sorted by demand point then cost once; each
    query is one binary search per point and work in the number of pairs
    found, instead of a pass over the whole matrix.

    Parameters
    ----------
    c
        ``(n_sites, n_demand)`` costs, ``inf`` where a site cannot serve; kept
        as ``matrix``.

    Examples
    --------
    >>> index = PairIndex(np.array([[1.0, np.inf], [3.0, 2.0]]))
    >>> index.rho(np.array([2.5, 5.0]), np.zeros(2)).tolist()
    [-1.5, -3.0]
    >>> index.served(np.array([2.5, 5.0]), np.array([False, True])).tolist()
    [0, 1]
    """

    def __init__(self, c: np.ndarray) -> None:
        self.matrix = c
        self.n_sites, self.n_demand = c.shape
        site, demand = np.nonzero(np.isfinite(c))
        cost = c[site, demand]
        if cost.size:
            key, self._low, self._span = _demand_cost_key(demand, cost)
            order = np.argsort(key)
        else:
            key, self._low, self._span, order = cost, 0.0, 1.0, np.zeros(0, dtype=np.int64)
        self._key = key[order]
        self.site, self.demand, self.cost = site[order], demand[order], cost[order]
        self._start = np.searchsorted(self.demand, np.arange(self.n_demand))
        self._top = (float(cost.max()) - self._low) if cost.size else 0.0

    def below(self, lam: np.ndarray) -> np.ndarray:
        """Positions of the pairs whose cost is below the multiplier of their point."""
        q = np.arange(self.n_demand) * self._span + np.clip(lam - self._low, 0.0, self._top)
        end = np.searchsorted(self._key, q, side="left")
        whole = lam > self._low + self._top  # above every cost: the whole point
        end[whole] = np.searchsorted(self._key, q[whole], side="right")
        counts = end - self._start
        total = int(counts.sum())
        shift = np.repeat(self._start - (np.cumsum(counts) - counts), counts)
        return shift + np.arange(total)

    def rho(self, lam: np.ndarray, open_cost: np.ndarray, sites: np.ndarray | None = None,
            at: np.ndarray | None = None) -> np.ndarray:
        """Reduced costs ``f_i + sum_j min(0, c_ij - lam_j)`` of ``sites`` (default all).

        ``open_cost`` is given for those sites only; ``at`` is
        :meth:`below` of ``lam`` when already known.
        """
        at = self.below(lam) if at is None else at
        gain = np.minimum(self.cost[at] - lam[self.demand[at]], 0.0)
        full = np.bincount(self.site[at], weights=gain, minlength=self.n_sites)
        return open_cost + (full if sites is None else full[sites])

    def served(self, lam: np.ndarray, chosen: np.ndarray,
               at: np.ndarray | None = None) -> np.ndarray:
        """How many ``chosen`` sites (mask over all sites) reach each point below its multiplier."""
        at = self.below(lam) if at is None else at
        at = at[chosen[self.site[at]]]
        return np.bincount(self.demand[at], minlength=self.n_demand)


@dataclass
class SparsePairs:
    """The cheapest pairs of each demand point, grouped by demand point.

    Attributes
    ----------
    site, demand, cost
        The kept pairs, sorted by demand point then cost.
    cap
        ``(n_demand,)`` cost of the cheapest pair left out (``inf`` when every
        pair of the point is kept); the multipliers stay at or below it.
    n_sites, n_demand
        Sizes of the full problem.
    """

    site: np.ndarray
    demand: np.ndarray
    cost: np.ndarray
    cap: np.ndarray
    n_sites: int
    n_demand: int


def cheapest_pairs(site: np.ndarray, demand: np.ndarray, cost: np.ndarray, *, n_sites: int,
                   n_demand: int, keep: int, presorted: bool = False) -> SparsePairs:
    """Keep the ``keep`` cheapest pairs of every demand point.

    Parameters
    ----------
    site, demand, cost
        Every allowed pair and its cost.
    n_sites, n_demand
        Sizes of the problem.
    keep
        Pairs kept per demand point (at least 1).
    presorted
        The pairs already come by demand point, then cost (see
        :func:`by_demand_then_cost`).

    Returns
    -------
    SparsePairs

    Examples
    --------
    >>> p = cheapest_pairs(np.array([0, 1, 2]), np.array([0, 0, 0]), np.array([3.0, 1.0, 2.0]),
    ...                    n_sites=3, n_demand=1, keep=2)
    >>> p.site.tolist(), p.cap.tolist()
    ([1, 2], [3.0])
    """
    keep = max(int(keep), 1)
    order = np.arange(cost.size) if presorted else by_demand_then_cost(demand, cost)
    d = demand[order]
    start = np.searchsorted(d, np.arange(n_demand))
    rank = np.arange(d.size) - start[d]
    kept = rank < keep
    cap = np.full(n_demand, np.inf)
    first_out = rank == keep
    cap[d[first_out]] = cost[order][first_out]
    pick = order[kept]
    return SparsePairs(site=site[pick], demand=demand[pick], cost=cost[pick], cap=cap,
                       n_sites=n_sites, n_demand=n_demand)


@dataclass
class SparseDual:
    """Outcome of :func:`sparse_lagrangian`.

    Attributes
    ----------
    bound
        Best lower bound found.
    lam
        Multipliers of the best bound.
    rho
        Reduced cost of each site at ``lam`` (``inf`` where a site may not open).
    chosen
        The subproblem's site set at ``lam``.
    iterations
        Subgradient steps taken.
    """

    bound: float
    lam: np.ndarray
    rho: np.ndarray
    chosen: np.ndarray
    iterations: int


def _reduced(pairs: SparsePairs, lam: np.ndarray, open_cost: np.ndarray,
             can: np.ndarray) -> np.ndarray:
    gain = np.minimum(pairs.cost - lam[pairs.demand], 0.0)
    rho = open_cost + np.bincount(pairs.site, weights=gain, minlength=pairs.n_sites)
    return np.where(can, rho, np.inf)


def sparse_lagrangian(
    pairs: SparsePairs,
    open_cost: np.ndarray,
    *,
    can: np.ndarray,
    forced: np.ndarray,
    kmin: int,
    kmax: int,
    upper: float,
    deadline: float,
    max_iter: int = 3000,
    patience: int = 15,
    theta0: float = 2.0,
    on_bound: object | None = None,
    stopped: object | None = None,
    lam0: np.ndarray | None = None,
) -> SparseDual:
    """Subgradient ascent on the Lagrangian dual of the assignment rows.

    Parameters
    ----------
    pairs
        The kept pairs (see :func:`cheapest_pairs`).
    open_cost
        ``(n_sites,)`` cost of opening each site.
    can, forced
        ``(n_sites,)`` bool: sites that may open, sites that must.
    kmin, kmax
        Number of open sites allowed.
    upper
        Value of a known plan (the step target).
    deadline
        ``time.perf_counter()`` value at which to stop.
    max_iter, patience, theta0
        Subgradient schedule: the step factor starts at ``theta0`` and halves
        after ``patience`` steps without a better bound.
    on_bound
        Called with each better bound.
    stopped
        Callable returning ``True`` when the caller wants to stop.
    lam0
        Starting multipliers (default: the second-cheapest cost of each point).

    Returns
    -------
    SparseDual
    """
    n_d = pairs.n_demand
    if lam0 is None:
        cheapest = np.full(n_d, np.inf)
        np.minimum.at(cheapest, pairs.demand, pairs.cost)
        second = np.full(n_d, np.inf)
        rest = pairs.cost > cheapest[pairs.demand]
        np.minimum.at(second, pairs.demand[rest], pairs.cost[rest])
        lam0 = np.where(np.isfinite(second), second, cheapest)
    # a point in no pair (weight 0, left unserved) has no row to relax
    in_pair = np.bincount(pairs.demand, minlength=n_d) > 0
    lam = np.minimum(np.asarray(lam0, dtype=float), pairs.cap)
    lam = np.where(np.isfinite(lam) & in_pair, lam, 0.0)
    best, best_lam = -math.inf, lam.copy()
    theta, stall, it = theta0, 0, 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        rho = _reduced(pairs, lam, open_cost, can)
        chosen, _, _ = select_sites(rho, forced, kmin, kmax)
        value = float(lam.sum() + rho[chosen].sum())
        if value > best + 1e-12 * max(1.0, abs(best) if math.isfinite(best) else 1.0):
            best, best_lam, stall = value, lam.copy(), 0
            if callable(on_bound):
                on_bound(best)
        else:
            stall += 1
        if time.perf_counter() > deadline or (callable(stopped) and stopped()):
            break
        served = chosen[pairs.site] & (pairs.cost < lam[pairs.demand])
        g = np.where(in_pair, 1.0 - np.bincount(pairs.demand[served], minlength=n_d), 0.0)
        norm = float(g @ g)
        if norm == 0.0:  # the subproblem's plan serves everyone once: it is optimal
            break
        step = theta * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm
        lam = np.minimum(np.maximum(lam + step * g, 0.0), pairs.cap)
        if stall >= patience:
            theta, stall = theta / 2.0, 0
            if theta < 1e-3:
                break
    rho = _reduced(pairs, best_lam, open_cost, can)
    chosen, _, _ = select_sites(rho, forced, kmin, kmax)
    return SparseDual(bound=best, lam=best_lam, rho=rho, chosen=chosen, iterations=it)


__all__ = ["PairIndex", "SparseDual", "SparsePairs", "by_demand_then_cost", "cheapest_pairs",
           "fix_by_rho", "select_sites", "sparse_lagrangian"]
