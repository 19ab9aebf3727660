"""The (site, demand point) pairs of a location problem and what serving each one costs.

The pairs are the stored entries of ``cover``, row-major (:func:`cover_pairs`);
every array of the engine indexed by pair follows that order. A pair's cost is
that of serving all of its demand point from its site (:func:`pair_costs`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.models.location.state import LocationSpec
from hzlogistics.solvers.problem import SitingProblem


def cover_pairs(cover: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """``(site, demand)`` of every stored, non-zero entry of ``cover``, row-major.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> [a.tolist() for a in cover_pairs(sp.csr_matrix(np.array([[0, 1], [1, 1]])))]
    [[0, 1, 1], [1, 0, 1]]
    """
    c = sp.csr_matrix(cover).astype(bool)
    c.sum_duplicates()
    c.eliminate_zeros()
    c.sort_indices()
    rows = np.repeat(np.arange(c.shape[0], dtype=np.int64), np.diff(c.indptr))
    return rows, c.indices.astype(np.int64)


def values_at(mat: sp.spmatrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Entries of ``mat`` at ``(rows, cols)``; an entry not stored reads 0.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> m = sp.csr_matrix(np.array([[0., 2.], [3., 0.]]))
    >>> values_at(m, np.array([0, 1, 1]), np.array([1, 0, 1])).tolist()
    [2.0, 3.0, 0.0]
    """
    m = sp.csr_matrix(mat, dtype=float)
    m.sum_duplicates()
    m.sort_indices()
    n_cols = m.shape[1]
    m_rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    keys = m_rows * n_cols + m.indices
    want = rows * n_cols + cols
    pos = np.searchsorted(keys, want)
    pos_ok = np.minimum(pos, max(keys.size - 1, 0))
    found = (pos < keys.size) & (keys[pos_ok] == want) if keys.size else np.zeros(want.size, bool)
    out = np.zeros(want.size)
    out[found] = m.data[pos_ok[found]]
    return out


def pair_costs(problem: SitingProblem, rows: np.ndarray, cols: np.ndarray, *,
                per_parcel_h: float, what: str) -> np.ndarray:
    """Cost of serving all of demand point ``cols[k]`` from site ``rows[k]``.

    ``assign_cost`` when given, else ``weight × travel_time_h × per_parcel_h``.

    Raises
    ------
    ValidationError
        When neither is given, a shape is wrong, a covered pair has no travel
        time, or a cost is negative or not finite (``what`` names the objective).
    """
    shape = problem.cover.shape
    if problem.assign_cost is not None:
        if problem.assign_cost.shape != shape:
            raise ValidationError(f"SitingProblem.assign_cost: shape {problem.assign_cost.shape}, "
                                  f"expected {shape} (sites × demand points, like cover)")
        cost = values_at(problem.assign_cost, rows, cols)
    elif problem.travel_time_h is not None:
        if problem.travel_time_h.shape != shape:
            raise ValidationError(f"SitingProblem.travel_time_h: shape "
                                  f"{problem.travel_time_h.shape}, expected {shape}")
        tt = values_at(problem.travel_time_h, rows, cols)
        if np.isnan(tt).any():
            raise ValidationError(
                f"the {what} objective needs the travel time of every covered pair; "
                f"{int(np.isnan(tt).sum())} of {tt.size} pairs have none (a coverage given as "
                "a 0/1 matrix, or a coverage CSV without travel_time_h)")
        cost = np.asarray(problem.weight, dtype=float)[cols] * tt * per_parcel_h
    else:
        raise ValidationError(f"the {what} objective needs SitingProblem.travel_time_h or "
                              "SitingProblem.assign_cost (neither is given)")
    if not np.all(np.isfinite(cost)) or np.any(cost < 0):
        bad = np.flatnonzero(~np.isfinite(cost) | (cost < 0))[0]
        raise ValidationError(f"cost of serving demand point {int(cols[bad])} from site "
                              f"{int(rows[bad])} is {cost[bad]}; expected a finite value >= 0")
    return cost


# --------------------------------------------------------------------------------------------


def nearest_pairs(problem: SitingProblem, rows: np.ndarray, cols: np.ndarray,
                   cost: np.ndarray | None, *, per_point: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Keep, for each demand point, its ``per_point`` cheapest pairs.

    Pairs are ranked by ``cost`` when given, else by travel time (else by site
    index). Every demand point keeps at least one pair.
    """
    if cost is not None:
        key = cost
    elif problem.travel_time_h is not None:
        key = values_at(problem.travel_time_h, rows, cols)
    else:
        key = rows.astype(float)
    order = np.lexsort((rows, key, cols))
    c_sorted = cols[order]
    start = np.ones(order.size, dtype=bool)
    start[1:] = c_sorted[1:] != c_sorted[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(order.size), 0))
    rank = np.arange(order.size) - first
    keep = np.sort(order[rank < per_point])
    return rows[keep], cols[keep], (cost[keep] if cost is not None else None)


def rent_per_pair(problem: SitingProblem, spec: LocationSpec, rows: np.ndarray, cols: np.ndarray,
                   w: np.ndarray) -> np.ndarray:
    """Least rent the demand of each pair costs at its site (0 without capacity per m²)."""
    if problem.capacity_per_m2 is None:
        return np.zeros(rows.size)
    return spec.area_cost[rows] * w[cols] / float(problem.capacity_per_m2)


def serve_covered(problem: SitingProblem, rows: np.ndarray, cols: np.ndarray,
                   open_: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """Every demand point reached by an open site, served by the nearest one."""
    n, n_d = problem.n_sites, problem.n_demand
    sel = open_[rows]
    r, c = rows[sel], cols[sel]
    if problem.travel_time_h is not None:
        t = values_at(problem.travel_time_h, r, c)
    else:
        t = np.zeros(r.size)
    order = np.lexsort((r, t, c))
    first = np.ones(order.size, dtype=bool)
    first[1:] = c[order][1:] != c[order][:-1]
    pick = order[first]
    return sp.csr_matrix((w[c[pick]], (r[pick], c[pick])), shape=(n, n_d))


__all__ = ["cover_pairs", "nearest_pairs", "pair_costs", "rent_per_pair", "serve_covered",
           "values_at"]
