"""Capacity subproblems on dense arrays: each site's continuous knapsack, the transportation LP.

:func:`knapsack` is the subproblem of a site in the Lagrangian relaxation of
the demand rows of a capacitated location problem; :func:`transport` assigns
split demand to a fixed set of open sites at least cost (an LP solved by
:class:`~hzlogistics.solvers.mip.Mip`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.lp import OPTIMAL, LinearProgram, solve_lp
from hzlogistics.solvers.mip import Mip
from hzlogistics.solvers.problem import SolveOptions


def knapsack(v: np.ndarray, w: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row ``r``: least ``sum_j v_rj x_j`` with ``sum_j w_j x_j <= cap_r``, ``x`` in [0, 1].

    The continuous knapsack, solved greedily by ``v / w``.

    Parameters
    ----------
    v
        ``(n_rows, n_items)`` values, ``inf`` where the item is not available.
    w
        ``(n_items,)`` weights.
    cap
        ``(n_rows,)`` capacities.

    Returns
    -------
    values : numpy.ndarray
        ``(n_rows,)`` least value of each row.
    x : numpy.ndarray
        ``(n_rows, n_items)`` the shares taken.

    Examples
    --------
    >>> value, x = knapsack(np.array([[-4., -1., np.inf]]), np.array([2., 1., 1.]),
    ...                     np.array([1.]))
    >>> value.tolist(), x.tolist()
    ([-2.0], [[0.5, 0.0, 0.0]])
    """
    r, m = v.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v < 0, np.where(w[None, :] > 0, v / w[None, :], -np.inf), np.inf)
    order = np.argsort(ratio, axis=1, kind="stable")
    useful = np.take_along_axis(ratio, order, axis=1) < np.inf
    ws = np.where(useful, w[order], 0.0)
    before = np.cumsum(ws, axis=1) - ws
    room = cap[:, None] - before
    take = np.where(ws > 0, np.clip(room / np.where(ws > 0, ws, 1.0), 0.0, 1.0),
                    (room >= 0).astype(float))
    take = np.where(useful, take, 0.0)
    x = np.zeros((r, m))
    np.put_along_axis(x, order, take, axis=1)
    return (x * np.where(np.isfinite(v), v, 0.0)).sum(axis=1), x


def transport(c: np.ndarray, w: np.ndarray, cap: np.ndarray, open_: np.ndarray,
               options: SolveOptions, time_limit_s: float) -> tuple[float, np.ndarray] | None:
    """Least cost of serving all demand from the open sites, demand split (an LP).

    Parameters
    ----------
    c
        ``(n_sites, n_demand)`` cost of serving all of a demand point (``inf``: not allowed).
    w
        ``(n_demand,)`` demand.
    cap
        ``(n_sites,)`` capacities.
    open_
        ``(n_sites,)`` bool, the open sites.
    options
        Seed and stop event of the solve.
    time_limit_s
        Seconds for the LP.

    Returns
    -------
    tuple or None
        The cost and the ``(n_open, n_demand)`` shares, or ``None`` if infeasible.
    """
    sub = c[open_]
    r, j = np.nonzero(np.isfinite(sub))
    n_open, n_d = sub.shape
    if not np.isfinite(sub).any(axis=0).all() or cap[open_].sum() < w.sum() * (1 - 1e-12):
        return None
    lp = Mip()
    x = lp.add_vars(r.size, ub=1.0, obj=sub[r, j])
    dem = lp.add_rows(n_d, lb=1.0, ub=1.0)
    lp.add_terms(dem[j], x, 1.0)
    fin = np.isfinite(cap[open_])
    rows = lp.add_rows(n_open, ub=np.where(fin, cap[open_], np.inf))
    lp.add_terms(rows[r], x, w[j])
    out = lp.solve(replace(options, log=False, progress=None, hint=None, gap=0.0),
                   time_limit_s=time_limit_s)
    if out.values is None or out.status != "optimal":
        return None
    share = np.zeros((n_open, n_d))
    share[r, j] = np.clip(out.values[x], 0.0, 1.0)
    return float(out.objective), share


def sparse_transport(site: np.ndarray, demand: np.ndarray, cost: np.ndarray, w: np.ndarray,
                     cap: np.ndarray, *, time_limit_s: float
                     ) -> tuple[float, np.ndarray, np.ndarray] | None:
    """Least cost of serving every demand point over the given pairs, demand split (an LP).

    Parameters
    ----------
    site, demand, cost
        The pairs allowed and the cost of serving all of the point's demand over each.
    w
        ``(n_demand,)`` demand (every point with demand must be in some pair).
    cap
        ``(n_sites,)`` capacities (``inf``: none).
    time_limit_s
        Seconds for the LP (HiGHS).

    Returns
    -------
    tuple or None
        The cost, the share of each pair, and the multiplier of each demand row
        (the marginal cost of serving all of a point); ``None`` if the LP is
        infeasible or not solved to optimality in time.

    Examples
    --------
    Site 0 holds one parcel; the second point goes to site 1 at cost 3:

    >>> value, share, lam = sparse_transport(
    ...     np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([1.0, 1.0, 3.0]),
    ...     np.ones(2), np.array([1.0, np.inf]), time_limit_s=5)
    >>> round(value, 6), share.round(6).tolist()
    (4.0, [1.0, 0.0, 1.0])
    """
    n_d, m = w.size, site.size
    n = cap.size
    k = np.arange(m)
    a = sp.vstack([sp.csr_matrix((np.ones(m), (demand, k)), shape=(n_d, m)),
                   sp.csr_matrix((w[demand], (site, k)), shape=(n, m))]).tocsr()
    # points without pairs have no row to meet (their demand must be zero)
    has = np.bincount(demand, minlength=n_d) > 0
    lo = np.r_[np.where(has, 1.0, 0.0), np.full(n, -np.inf)]
    hi = np.r_[np.where(has, 1.0, 0.0), cap.astype(float)]
    lp = LinearProgram(c=-np.asarray(cost, dtype=float), A=a, row_lo=lo, row_hi=hi,
                       col_lo=np.zeros(m), col_hi=np.ones(m))
    sol = solve_lp(lp, time_limit_s=max(time_limit_s, 0.1), solver="HIGHS")
    if sol.status != OPTIMAL or sol.x is None or sol.duals is None:
        return None
    share = np.clip(sol.x, 0.0, 1.0) + 0.0  # no negative zeros
    return float(cost @ share), share, -sol.duals[:n_d]


__all__ = ["knapsack", "sparse_transport", "transport"]
