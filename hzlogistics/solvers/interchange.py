"""Vertex substitution on a dense cost matrix: the nearest open sites, and add/drop/swap moves.

Each column (a demand point) is served by its cheapest open row (a site);
:func:`nearest_two` gives the nearest and second-nearest open site of every
column, from which :func:`interchange` evaluates every add, drop and swap at
once and takes the best until none improves.
"""

from __future__ import annotations

import time

import numpy as np

from hzlogistics.solvers.track import stop_requested


def nearest_two(c: np.ndarray, open_idx: np.ndarray, big: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost of the nearest and second-nearest open site of each column, and the nearest.

    Parameters
    ----------
    c
        ``(n_sites, n_columns)`` costs.
    open_idx
        Indices of the open sites.
    big
        Cost reported where there is no (second) open site.

    Returns
    -------
    d1, near, d2 : numpy.ndarray
        ``(n_columns,)`` cost of the nearest open site, its index (-1 if none),
        and the cost of the second nearest.

    Examples
    --------
    >>> c = np.array([[1., 5.], [3., 2.], [2., 9.]])
    >>> [a.tolist() for a in nearest_two(c, np.array([0, 1, 2]), 99.)]
    [[1.0, 2.0], [0, 1], [2.0, 5.0]]
    """
    n_d = c.shape[1]
    if open_idx.size == 0:
        return np.full(n_d, big), np.full(n_d, -1, dtype=np.int64), np.full(n_d, big)
    sub = c[open_idx]
    if open_idx.size == 1:
        return sub[0].copy(), np.full(n_d, open_idx[0], dtype=np.int64), np.full(n_d, big)
    two = np.argpartition(sub, 1, axis=0)[:2]
    v = np.take_along_axis(sub, two, axis=0)
    first = np.where(v[1] < v[0], two[1], two[0])
    return v.min(axis=0), open_idx[first], v.max(axis=0)


def interchange(
    c: np.ndarray,
    f: np.ndarray,
    *,
    kmin: int,
    kmax: int,
    forced: np.ndarray,
    start: np.ndarray | None,
    deadline: float,
    stop: object | None,
) -> tuple[np.ndarray, float]:
    # Over 100 lines with its docstring; the search itself is one loop of ~60 lines.
    """Best-improvement add / drop / swap search from a greedy (or given) plan.

    Vertex substitution (Teitz and Bart 1968) with the fast evaluation of every
    move of Whitaker (1983) and Resende and Werneck (2007): each demand column
    is served by its cheapest open site.

    Parameters
    ----------
    c
        ``(n_sites, n_columns)`` costs, a large finite value where a site cannot serve.
    f
        ``(n_sites,)`` cost of opening each site.
    kmin, kmax
        Number of open sites allowed.
    forced
        ``(n_sites,)`` bool, sites that stay open.
    start
        Open mask to start from, or ``None`` for a greedy plan.
    deadline
        ``time.perf_counter()`` value at which the search stops.
    stop
        A stop event, or ``None``.

    Returns
    -------
    open_ : numpy.ndarray
        ``(n_sites,)`` bool, the plan.
    value : float
        Its cost.

    Examples
    --------
    >>> c = np.array([[1., 9., 9.], [9., 1., 1.]])
    >>> open_, value = interchange(c, np.array([10., 10.]), kmin=1, kmax=2,
    ...                            forced=np.zeros(2, bool), start=None,
    ...                            deadline=float("inf"), stop=None)
    >>> open_.tolist(), value
    ([False, True], 21.0)
    """
    n, n_d = c.shape
    big = float(c.max(initial=0.0)) + 1.0
    tol = 1e-9

    def stopped() -> bool:
        return time.perf_counter() > deadline or stop_requested(stop)

    if start is None:
        open_ = forced.copy()
        while int(open_.sum()) < kmax and not stopped():
            d1, _, _ = nearest_two(c, np.flatnonzero(open_), big)
            gain = np.maximum(d1[None, :] - c, 0.0).sum(axis=1) - f
            gain[open_] = -np.inf
            i = int(np.argmax(gain))
            if int(open_.sum()) < kmin or gain[i] > tol * max(1.0, abs(float(d1.sum()))):
                open_[i] = True
            else:
                break
    else:
        open_ = start.copy() | forced
    while not stopped():
        idx = np.flatnonzero(open_)
        k = idx.size
        d1, c1, d2 = nearest_two(c, idx, big)
        value = float(d1.sum() + f[open_].sum())
        eps = tol * max(1.0, abs(value))
        gain = np.maximum(d1[None, :] - c, 0.0).sum(axis=1)
        best, move = -eps, None
        if k < kmax:
            delta = f - gain
            delta[open_] = np.inf
            i = int(np.argmin(delta))
            if delta[i] < best:
                best, move = float(delta[i]), (i, -1)
        removable = open_ & ~forced
        loss = np.bincount(c1, weights=d2 - d1, minlength=n) if k else np.zeros(n)
        if k > kmin and removable.any():
            delta = np.where(removable, loss - f, np.inf)
            r = int(np.argmin(delta))
            if delta[r] < best:
                best, move = float(delta[r]), (-1, r)
        closed = ~open_
        if removable.any() and closed.any():
            t = np.minimum(d2[None, :], np.maximum(c, d1[None, :])) - d1[None, :]
            order = np.argsort(c1, kind="stable")
            counts = np.bincount(c1, minlength=n)
            rem = np.flatnonzero(removable)
            s = np.zeros((n, rem.size))
            has = counts[rem] > 0
            if has.any():
                starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
                sums = np.add.reduceat(t[:, order], starts[rem[has]], axis=1)
                s[:, has] = sums
            delta = (f - gain)[:, None] - f[rem][None, :] + s
            delta[~closed, :] = np.inf
            flat = int(np.argmin(delta))
            i, col = divmod(flat, rem.size)
            if delta[i, col] < best:
                best, move = float(delta[i, col]), (i, int(rem[col]))
        if move is None:
            break
        i, r = move
        if i >= 0:
            open_[i] = True
        if r >= 0:
            open_[r] = False
    d1, _, _ = nearest_two(c, np.flatnonzero(open_), big)
    return open_, float(d1.sum() + f[open_].sum())



__all__ = ["interchange", "nearest_two"]
