"""Shortest paths within the cutoff: Dijkstra from every site, with scipy or networkx.

Both engines take the same network and return the same covered pairs, with the
travel time and the road km along the fastest path, and the part of the
network every node lies in.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from hzlogistics._errors import ValidationError
from hzlogistics.coverage.checks import MAX_PROBLEMS

#: Travel times within this of the cutoff count as within it, hours.
_CUTOFF_TOL_H = 1e-9

#: Upper bound on the number of cells of one block of Dijkstra rows.
_BLOCK_CELLS = 4_000_000


def _adjacency(
    G: nx.Graph, nodelist: list[Hashable]
) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Symmetric CSR of travel times, the matching road km, and sorted edge keys.

    Raises
    ------
    ValidationError
        For edges whose ``travel_time_h`` or ``length_km`` is missing, negative
        or not finite (the first few named).
    """
    index = {k: i for i, k in enumerate(nodelist)}
    n = len(nodelist)
    # one pass over the adjacency gives both directions of every edge
    rows_l: list[int] = []
    cols_l: list[int] = []
    data: list[dict[str, Any]] = []
    for a, nbrs in G.adj.items():
        ia = index[a]
        for b, d in nbrs.items():
            rows_l.append(ia)
            cols_l.append(index[b])
            data.append(d)
    rows = np.asarray(rows_l, dtype=np.int64)
    cols = np.asarray(cols_l, dtype=np.int64)
    weights: dict[str, np.ndarray] = {}
    problems: list[str] = []
    for name in ("travel_time_h", "length_km"):
        values = [d.get(name) for d in data]
        try:
            w = np.array(values, dtype=float)  # None becomes NaN
        except (TypeError, ValueError):
            w = np.array([_number(x) for x in values], dtype=float)
        bad = np.flatnonzero((~np.isfinite(w) | (w < 0)) & (rows <= cols))
        problems.extend(
            f"network edge ({nodelist[rows[e]]!r}, {nodelist[cols[e]]!r}): {name} "
            f"{values[e]!r} must be a finite number ≥ 0"
            for e in bad[:MAX_PROBLEMS].tolist()
        )
        if len(bad) > MAX_PROBLEMS:
            problems.append(f"... and {len(bad) - MAX_PROBLEMS} more edges without {name}")
        weights[name] = w
    if problems:
        raise ValidationError(problems)
    keep = rows != cols  # a self-loop never shortens a path
    rows, cols = rows[keep], cols[keep]
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    A = sp.csr_array((weights["travel_time_h"][keep][order], cols, indptr), shape=(n, n))
    return A, weights["length_km"][keep][order], rows * n + cols


def _number(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def dijkstra_scipy(
    G: nx.Graph, sources: Sequence[Hashable], targets: Sequence[Hashable], cutoff_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Covered (source, target) pairs with time and road km along the fastest path."""
    nodelist = list(G.nodes)
    index = {k: i for i, k in enumerate(nodelist)}
    n = len(nodelist)
    A, length_km, edge_key = _adjacency(G, nodelist)
    _, labels = connected_components(A, directed=False)
    src = np.array([index[k] for k in sources], dtype=np.int64)
    tgt = np.array([index[k] for k in targets], dtype=np.int64)
    out: list[tuple[np.ndarray, ...]] = []
    block = max(1, min(256, _BLOCK_CELLS // max(n, 1)))
    for start in range(0, len(src), block):
        chunk = src[start:start + block]
        dist, pred = dijkstra(A, directed=False, indices=chunk,
                              limit=cutoff_h + _CUTOFF_TOL_H, return_predecessors=True)
        sub = dist[:, tgt]
        rr, cc = np.nonzero(sub <= cutoff_h + _CUTOFF_TOL_H)
        km = _tree_km(pred, length_km, edge_key, rr, tgt[cc])
        out.append(((start + rr).astype(np.int32), cc.astype(np.int32), sub[rr, cc], km))
        del dist, pred, sub
    if out:
        rows, cols, t, d = (np.concatenate(x) for x in zip(*out, strict=True))
    else:
        rows = cols = np.zeros(0, dtype=np.int64)
        t = d = np.zeros(0)
    return rows, cols, t, d, labels


def _tree_km(
    pred: np.ndarray, length_km: np.ndarray, edge_key: np.ndarray, rows: np.ndarray,
    nodes: np.ndarray,
) -> np.ndarray:
    """Road km from each row's source to ``nodes[i]`` along its shortest-path tree.

    ``pred`` is the predecessor matrix of ``scipy.sparse.csgraph.dijkstra``;
    the km of every reached node is the sum of its tree edges, found by pointer
    jumping over the reached entries only (log of the tree depth passes).
    """
    n = pred.shape[1]
    r, c = np.nonzero(pred >= 0)  # reached, not the source; row-major hence sorted
    flat = r.astype(np.int64) * n + c
    parent = pred[r, c].astype(np.int64)
    km = length_km[np.searchsorted(edge_key, parent * n + c)]
    up = np.searchsorted(flat, r.astype(np.int64) * n + parent)
    up_ok = up < len(flat)
    up_ok[up_ok] = flat[up[up_ok]] == (r[up_ok].astype(np.int64) * n + parent[up_ok])
    anc = np.where(up_ok, up, -1)  # -1: the parent is the source
    while True:
        has = anc >= 0
        if not has.any():
            break
        a = anc[has]
        km_next = km.copy()
        km_next[has] += km[a]
        anc_next = np.full_like(anc, -1)
        anc_next[has] = anc[a]
        km, anc = km_next, anc_next
    want = np.searchsorted(flat, rows.astype(np.int64) * n + nodes)
    return km[want]


def dijkstra_networkx(
    G: nx.Graph, sources: Sequence[Hashable], targets: Sequence[Hashable], cutoff_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`dijkstra_scipy`, with ``networkx.single_source_dijkstra`` (for checks)."""
    nodelist = list(G.nodes)
    _adjacency(G, nodelist)  # the same weight checks as the scipy engine
    target_pos = {k: i for i, k in enumerate(targets)}
    rows, cols, t, d = [], [], [], []
    for i, s in enumerate(sources):
        dist, paths = nx.single_source_dijkstra(
            G, s, cutoff=cutoff_h + _CUTOFF_TOL_H, weight="travel_time_h"
        )
        for k, tt in dist.items():
            j = target_pos.get(k)
            if j is None or tt > cutoff_h + _CUTOFF_TOL_H:
                continue
            rows.append(i)
            cols.append(j)
            t.append(tt)
            d.append(sum(G.edges[a, b]["length_km"] for a, b in pairwise(paths[k])))
    labels = np.empty(len(nodelist), dtype=np.int64)
    index = {k: i for i, k in enumerate(nodelist)}
    for c, part in enumerate(nx.connected_components(G)):
        labels[[index[k] for k in part]] = c
    return (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
            np.asarray(t, dtype=float), np.asarray(d, dtype=float), labels)
