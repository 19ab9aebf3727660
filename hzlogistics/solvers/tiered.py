r"""Lagrangian bound of capacitated location with size options, on sparse pairs.

Every demand point :math:`j` (demand :math:`w_j`) is served, possibly split,
by open sites that reach it, at cost :math:`c_{ij}` for all of its demand; a
site opens at one of its size options :math:`o` (cost :math:`F_o`, capacity
:math:`C_o`) or stays closed; the number of open sites lies in
:math:`[k_{min}, k_{max}]` and some sites are forced open. Relaxing the demand
rows :math:`\sum_i x_{ij} = 1` with multipliers :math:`\lambda_j` gives

.. math::

    L(\lambda) = \sum_j \lambda_j + \min_y \sum_i y_i \rho_i, \qquad
    \rho_i = \min_{o \text{ of } i} \Big( F_o + \min_{x \in [0,1],\
    \sum_j w_j x_j \le C_o} \sum_j (c_{ij} - \lambda_j) x_j \Big),

each inner minimum a continuous knapsack solved greedily by
:math:`(c_{ij} - \lambda_j) / w_j`. The options keep the sizes integral in the
subproblem, so the bound is at least that of the linear relaxation with the
strong links :math:`x_{ij} \le y_i`. Any other site constraint (areas, quotas)
is left out, which keeps :math:`L(\lambda)` a lower bound.

As in :mod:`hzlogistics.solvers.lagrange`, only the cheapest pairs of each
demand point are stored and :math:`\lambda_j` stays at or below the cost of the
cheapest pair left out, so the bound is one of the full problem.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hzlogistics.solvers.lagrange import SparsePairs, select_sites

#: Share of the previous direction removed from a subgradient that turns against it.
DEFLECTION = 1.5


@dataclass
class SiteOptions:
    """The size options of the sites, grouped by site.

    Attributes
    ----------
    site
        ``(n_options,)`` site of each option, non-decreasing.
    cost
        ``(n_options,)`` cost of opening the site at that option.
    capacity
        ``(n_options,)`` parcels/day the site handles at that option.
    """

    site: np.ndarray
    cost: np.ndarray
    capacity: np.ndarray


@dataclass
class TieredDual:
    """Outcome of :func:`tiered_lagrangian`.

    Attributes
    ----------
    bound
        Best lower bound found.
    lam
        Multipliers of the best bound.
    rho
        ``(n_sites,)`` reduced cost of each site at ``lam`` (``inf`` where it may not open).
    option
        ``(n_sites,)`` index into the options of each site's best option (-1: none).
    chosen
        The subproblem's site set at ``lam``.
    iterations
        Subgradient steps taken.
    sets
        The last distinct site sets of improving steps (for Lagrangian heuristics).
    """

    bound: float
    lam: np.ndarray
    rho: np.ndarray
    option: np.ndarray
    chosen: np.ndarray
    iterations: int
    sets: list[np.ndarray]


@dataclass
class _Sub:
    rho: np.ndarray
    option: np.ndarray
    item_site: np.ndarray
    item_demand: np.ndarray
    item_before: np.ndarray  # demand of the items ahead at the same site
    item_w: np.ndarray


def _subproblem(pairs: SparsePairs, w: np.ndarray, lam: np.ndarray, opts: SiteOptions,
                can: np.ndarray) -> _Sub:
    """Each site's best option and knapsack value at ``lam``."""
    n = pairs.n_sites
    red = pairs.cost - lam[pairs.demand]
    neg = (red < 0) & can[pairs.site]
    s, d, r = pairs.site[neg], pairs.demand[neg], red[neg]
    ws = w[d]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ws > 0, r / np.where(ws > 0, ws, 1.0), -np.inf)
    if ratio.size:
        finite = ratio[np.isfinite(ratio)]
        low = float(finite.min()) if finite.size else 0.0
        ratio_key = np.where(np.isfinite(ratio), ratio, low - 1.0)
        span = float(ratio_key.max() - ratio_key.min()) * (1.0 + 1e-9) + 1.0
        order = np.argsort(s.astype(np.float64) * span + (ratio_key - ratio_key.min()),
                           kind="stable")
    else:
        order = np.zeros(0, dtype=np.int64)
    s, d, r, ws = s[order], d[order], r[order], ws[order]
    cum_w = np.cumsum(ws)
    cum_v = np.cumsum(r)
    first = np.searchsorted(s, np.arange(n + 1))
    b = first[:-1]
    base_w = np.where(b > 0, cum_w[np.maximum(b - 1, 0)], 0.0) if s.size else np.zeros(n)
    base_v = np.where(b > 0, cum_v[np.maximum(b - 1, 0)], 0.0) if s.size else np.zeros(n)
    # each option: the items that fit whole, then a share of the next
    o_site = opts.site
    lo, hi = first[o_site], first[o_site + 1]
    if s.size:
        pos = np.searchsorted(cum_w, base_w[o_site] + opts.capacity, side="right")
        pos = np.clip(pos, lo, hi)
        prev = np.maximum(pos - 1, 0)
        got_w = np.where(pos > lo, cum_w[prev] - base_w[o_site], 0.0)
        got_v = np.where(pos > lo, cum_v[prev] - base_v[o_site], 0.0)
        part = pos < hi
        nxt = np.minimum(pos, s.size - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(part & (ws[nxt] > 0),
                             np.clip((opts.capacity - got_w) / np.where(ws[nxt] > 0, ws[nxt], 1.0),
                                     0.0, 1.0), 0.0)
        value = opts.cost + got_v + share * np.where(part, r[nxt], 0.0)
    else:
        value = opts.cost.astype(float).copy()
    # the best option of each site
    rho = np.full(n, np.inf)
    np.minimum.at(rho, o_site, value)
    is_best = value <= rho[o_site]
    option = np.full(n, -1, dtype=np.int64)
    best_idx = np.flatnonzero(is_best)
    option[o_site[best_idx[::-1]]] = best_idx[::-1]  # the first (smallest) best option
    rho = np.where(can & (option >= 0), rho, np.inf)
    before = cum_w - ws - (base_w[s] if s.size else 0.0)
    return _Sub(rho=rho, option=option, item_site=s, item_demand=d, item_before=before,
                item_w=ws)


def _served(sub: _Sub, chosen: np.ndarray, opts: SiteOptions, n_demand: int) -> np.ndarray:
    """Share of each demand point that the chosen sites take in the subproblem."""
    s = sub.item_site
    take = chosen[s] & (sub.option[s] >= 0)
    cap = np.where(take, opts.capacity[np.maximum(sub.option[s], 0)], 0.0)
    room = cap - sub.item_before
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(sub.item_w > 0, np.clip(room / np.where(sub.item_w > 0, sub.item_w, 1.0),
                                             0.0, 1.0), (room >= 0).astype(float))
    x = np.where(take, x, 0.0)
    return np.bincount(sub.item_demand, weights=x, minlength=n_demand)


def tiered_lagrangian(
    pairs: SparsePairs,
    w: np.ndarray,
    opts: SiteOptions,
    *,
    can: np.ndarray,
    forced: np.ndarray,
    kmin: int,
    kmax: int,
    upper: float,
    deadline: float,
    lam0: np.ndarray | None = None,
    max_iter: int = 20000,
    patience: int = 20,
    theta0: float = 2.0,
    keep_sets: int = 4,
    on_bound: Callable[[float], object] | None = None,
    stopped: Callable[[], bool] | None = None,
) -> TieredDual:
    """Subgradient ascent on the Lagrangian dual of the demand rows, with size options.

    Parameters
    ----------
    pairs
        The kept pairs (see :func:`~hzlogistics.solvers.lagrange.cheapest_pairs`).
    w
        ``(n_demand,)`` demand of each point.
    opts
        The size options of every site (a site without options cannot open).
    can, forced
        ``(n_sites,)`` bool: sites that may open, sites that must.
    kmin, kmax
        Number of open sites allowed.
    upper
        Value of a known plan (the step target).
    deadline
        ``time.perf_counter()`` value at which to stop.
    lam0
        Starting multipliers (default: each point's cheapest pair).
    max_iter, patience, theta0
        Subgradient schedule: the step factor starts at ``theta0`` and halves
        after ``patience`` steps without a better bound.
    keep_sets
        How many distinct site sets of improving steps to keep.
    on_bound
        Called with each better bound.
    stopped
        Returns ``True`` when the caller wants to stop.

    Returns
    -------
    TieredDual

    Examples
    --------
    Two sites of capacity 1 at cost 1, two points of demand 1 at cost 0 from either:

    >>> from hzlogistics.solvers.lagrange import cheapest_pairs
    >>> pairs = cheapest_pairs(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
    ...                        np.zeros(4), n_sites=2, n_demand=2, keep=2)
    >>> opts = SiteOptions(site=np.array([0, 1]), cost=np.ones(2), capacity=np.ones(2))
    >>> dual = tiered_lagrangian(pairs, np.ones(2), opts, can=np.ones(2, bool),
    ...                          forced=np.zeros(2, bool), kmin=0, kmax=2, upper=2.0,
    ...                          deadline=float("inf"))
    >>> round(dual.bound, 6)
    2.0
    """
    n_d = pairs.n_demand
    w = np.asarray(w, dtype=float)
    in_pair = np.bincount(pairs.demand, minlength=n_d) > 0
    if lam0 is None:
        lam0 = np.full(n_d, np.inf)
        np.minimum.at(lam0, pairs.demand, pairs.cost)
    lam = np.minimum(np.asarray(lam0, dtype=float), pairs.cap)
    lam = np.where(np.isfinite(lam) & in_pair, np.maximum(lam, 0.0), 0.0)
    best, best_lam = -math.inf, lam.copy()
    theta, stall, it = theta0, 0, 0
    direction: np.ndarray | None = None
    sets: list[np.ndarray] = []
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        sub = _subproblem(pairs, w, lam, opts, can)
        chosen, _, _ = select_sites(sub.rho, forced, kmin, kmax)
        k = int(chosen.sum())
        if not kmin <= k <= kmax or not np.all(np.isfinite(sub.rho[chosen])):
            best = math.inf  # no site set meets the count and forced sites
            break
        value = float(lam.sum() + sub.rho[chosen].sum())
        if value > best + 1e-12 * max(1.0, abs(best) if math.isfinite(best) else 1.0):
            best, best_lam, stall = value, lam.copy(), 0
            if not sets or not np.array_equal(sets[-1], chosen):
                sets = [*sets[-(keep_sets - 1):], chosen] if keep_sets > 1 else [chosen]
            if on_bound is not None:
                on_bound(best)
        else:
            stall += 1
        if best >= upper - 1e-9 * max(1.0, abs(upper)) or time.perf_counter() > deadline or (
                stopped is not None and stopped()):
            break
        g = np.where(in_pair, 1.0 - _served(sub, chosen, opts, n_d), 0.0)
        if float(g @ g) < 1e-18:  # the subproblem's plan serves every point once: optimal
            break
        if direction is not None and float(g @ direction) < 0.0:
            # deflection (Camerini, Fratta & Maffioli 1975): damps the zigzag between steps
            g = g - DEFLECTION * float(g @ direction) / float(direction @ direction) * direction
        direction = g
        norm = float(g @ g)
        # Polyak's step towards the plan's value; without a plan, towards 5 % above the bound
        target = upper if math.isfinite(upper) else value + 0.05 * max(1.0, abs(value))
        step = theta * max(target - value, 1e-9 * max(1.0, abs(target))) / norm
        lam = np.minimum(np.maximum(lam + step * g, 0.0), pairs.cap)
        if stall >= patience:
            theta, stall = theta / 2.0, 0
            if theta < 1e-3:
                break
    sub = _subproblem(pairs, w, best_lam, opts, can)
    chosen, _, _ = select_sites(sub.rho, forced, kmin, kmax)
    return TieredDual(bound=best, lam=best_lam, rho=sub.rho, option=sub.option, chosen=chosen,
                      iterations=it, sets=sets)


__all__ = ["SiteOptions", "TieredDual", "tiered_lagrangian"]
