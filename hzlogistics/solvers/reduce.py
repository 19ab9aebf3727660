"""Problem reductions that lose nothing: merging demand points that are alike."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class Aggregation:
    """Demand points merged by identical coverage sets.

    Attributes
    ----------
    cover
        ``(n_sites, n_classes)`` CSR coverage of each class.
    weight
        ``(n_classes,)`` summed weight of each class.
    labels
        ``(n_demand,)`` class of every original demand point.
    """

    cover: sp.csr_matrix
    weight: np.ndarray
    labels: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of merged demand classes."""
        return int(self.weight.shape[0])


def aggregate_demand(
    cover: sp.spmatrix, weight: np.ndarray, *, key: np.ndarray | None = None
) -> Aggregation:
    """Merge demand points whose sets of covering sites are identical.

    Two points covered by exactly the same sites are interchangeable in a
    covering model, so they can be one point with the summed weight
    (isomorphic aggregation). Points covered by no site form no class of
    their own: they are dropped (label ``-1``) since no plan can serve them.

    Parameters
    ----------
    cover
        ``(n_sites, n_demand)`` sparse coverage matrix.
    weight
        ``(n_demand,)`` weights.
    key
        Optional ``(n_demand,)`` integer that must also match for two points to
        merge (for example their group, when per-group figures are needed).

    Returns
    -------
    Aggregation

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> cover = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]]))
    >>> a = aggregate_demand(cover, np.array([2.0, 3.0, 4.0]))
    >>> a.weight.tolist(), a.labels.tolist()
    ([5.0, 4.0], [0, 0, 1])
    """
    csc = sp.csc_matrix(cover, dtype=bool)
    csc.sum_duplicates()
    csc.sort_indices()
    n_demand = csc.shape[1]
    weight = np.asarray(weight, dtype=float)
    labels = np.full(n_demand, -1, dtype=np.int64)
    classes: dict[tuple[bytes, int], int] = {}
    rows_of_class: list[np.ndarray] = []
    for j in range(n_demand):
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if rows.size == 0:
            continue
        k = (rows.tobytes(), int(key[j]) if key is not None else 0)
        c = classes.get(k)
        if c is None:
            c = len(rows_of_class)
            classes[k] = c
            rows_of_class.append(rows)
        labels[j] = c
    n_classes = len(rows_of_class)
    kept = labels >= 0
    agg_weight = np.bincount(labels[kept], weights=weight[kept], minlength=n_classes)
    if n_classes:
        indices = np.concatenate(rows_of_class)
        indptr = np.concatenate([[0], np.cumsum([r.size for r in rows_of_class])])
    else:
        indices = np.zeros(0, dtype=np.int32)
        indptr = np.zeros(1, dtype=np.int64)
    agg = sp.csc_matrix(
        (np.ones(indices.size, dtype=bool), indices, indptr), shape=(csc.shape[0], n_classes)
    )
    return Aggregation(cover=agg.tocsr(), weight=agg_weight, labels=labels)
