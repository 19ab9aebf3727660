"""OR-Library instances (read by :mod:`hzlogistics.orlib`) as siting problems.

The instances have no floor area: every site gets a single tier of 1 m², no
area budget and no rent. Every (site, customer) pair may be used, and its
cost, zeros included, is stored in ``assign_cost``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hzlogistics.orlib import OrlibInstance
from hzlogistics.solvers.problem import SitingProblem


def _full_pattern(values: np.ndarray) -> sp.csr_matrix:
    """CSR matrix storing every entry of a dense matrix, zeros included."""
    n_rows, n_cols = values.shape
    indptr = np.arange(0, (n_rows + 1) * n_cols, n_cols, dtype=np.int64)
    indices = np.tile(np.arange(n_cols, dtype=np.int32), n_rows)
    return sp.csr_matrix((values.ravel().astype(float), indices, indptr), shape=values.shape)


def orlib_problem(instance: OrlibInstance) -> SitingProblem:
    """The siting problem of an OR-Library instance.

    Parameters
    ----------
    instance
        As read by :func:`~hzlogistics.orlib.read_pmed` or
        :func:`~hzlogistics.orlib.read_cap`.

    Returns
    -------
    SitingProblem
        For p-median, ``count_min = count_max = p`` and ``assign_cost`` holds
        the shortest-path distances; for CFLP/UFLP ``fixed_cost_usd_year``,
        ``assign_cost`` and (CFLP only) ``site_capacity`` hold the file's figures.

    Examples
    --------
    >>> import numpy as np
    >>> inst = OrlibInstance(name="toy", kind="pmedian", cost=np.array([[0., 2.], [2., 0.]]),
    ...                      demand=np.ones(2), p=1)
    >>> p = orlib_problem(inst)
    >>> p.count_min, p.count_max, p.assign_cost.nnz
    (1, 1, 4)
    """
    cost = instance.cost
    n_sites, n_demand = cost.shape
    cover = _full_pattern(np.ones((n_sites, n_demand), dtype=bool))
    cover.data = cover.data.astype(bool)
    count = instance.p
    return SitingProblem(
        weight=np.asarray(instance.demand, dtype=float),
        cover=cover,
        tiers_m2=np.array([1.0]),
        area_budget_m2=None,
        count_min=0 if count is None else int(count),
        count_max=count,
        site_ids=np.arange(1, n_sites + 1),
        demand_ids=np.arange(1, n_demand + 1),
        fixed_cost_usd_year=(None if instance.fixed_cost is None
                             else np.asarray(instance.fixed_cost, dtype=float)),
        site_capacity=(None if instance.capacity is None
                       else np.asarray(instance.capacity, dtype=float)),
        assign_cost=_full_pattern(cost),
    )


__all__ = ["orlib_problem"]
