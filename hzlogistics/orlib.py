"""Readers for the OR-Library facility-location instances (p-median, CFLP, UFLP).

J. E. Beasley's OR-Library holds the classic test cases on which location
models are checked against published optima:

* ``pmedN.txt`` (Beasley 1985): an undirected graph and a number ``p`` of
  medians; every vertex is both a client (weight 1) and a candidate.
* ``capNN.txt``, ``capa/b/c.txt`` (Beasley 1988): capacitated warehouse location
  with split demand; the same files, with capacities ignored, are the
  uncapacitated instances (Beasley 1993).

Each reader returns an :class:`OrlibInstance`: the arrays of the file (costs,
demand, capacities, fixed costs, the number of medians).
:func:`~hzlogistics.models.location.orlib.orlib_problem` turns one into a
siting problem for :func:`~hzlogistics.models.median.solve_median` or
:func:`~hzlogistics.models.cost.solve_cost`.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from hzlogistics._errors import ValidationError

logger = logging.getLogger(__name__)

#: Capacities that stand for the word ``capacity`` in ``capa/b/c.txt``.
CAPACITY_VARIANTS: dict[str, tuple[int, ...]] = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}


@dataclass
class OrlibInstance:
    """One OR-Library instance as arrays.

    Attributes
    ----------
    name
        Instance name as in the optimum tables (``"pmed7"``, ``"cap41"``,
        ``"capa8000"``, ``"capa"`` for the uncapacitated case).
    kind
        ``"pmedian"``, ``"cflp"`` (capacitated, split demand) or ``"uflp"``.
    cost
        Dense ``(n_sites, n_demand)`` matrix: the distance (p-median) or the
        cost of serving all of customer j from warehouse i (CFLP/UFLP).
    p
        Number of medians (p-median only).
    demand
        ``(n_demand,)`` demand of each customer (ones for p-median).
    capacity
        ``(n_sites,)`` warehouse capacities (CFLP only).
    fixed_cost
        ``(n_sites,)`` fixed costs of opening (CFLP/UFLP only).
    """

    name: str
    kind: str
    cost: np.ndarray
    demand: np.ndarray
    p: int | None = None
    capacity: np.ndarray | None = None
    fixed_cost: np.ndarray | None = None


def _tokens(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError as exc:
        raise ValidationError(f"{path}: cannot be read ({exc})") from exc


def pmed_distance_matrix(n_vertices: int, edges: np.ndarray) -> np.ndarray:
    """All-pairs shortest-path distances of an OR-Library p-median graph.

    Edges are read in file order and the **last** cost given for a vertex pair
    wins (the OR-Library convention); the distances are then shortest paths.

    Parameters
    ----------
    n_vertices
        Number of vertices, numbered ``1..n_vertices`` in ``edges``.
    edges
        ``(n_edges, 3)`` integer rows ``i, j, cost`` in file order.

    Returns
    -------
    numpy.ndarray
        ``(n_vertices, n_vertices)`` float distances (``inf`` if disconnected).

    Examples
    --------
    >>> e = np.array([[1, 2, 5], [2, 3, 1], [1, 2, 2]])
    >>> pmed_distance_matrix(3, e).tolist()
    [[0.0, 2.0, 3.0], [2.0, 0.0, 1.0], [3.0, 1.0, 0.0]]
    """
    edges = np.asarray(edges, dtype=np.int64)
    a = np.minimum(edges[:, 0], edges[:, 1]) - 1
    b = np.maximum(edges[:, 0], edges[:, 1]) - 1
    keep = a != b
    a, b, c = a[keep], b[keep], edges[keep, 2].astype(float)
    key = a * n_vertices + b
    # Last occurrence of each pair: unique over the reversed list finds it first.
    _, first_in_reversed = np.unique(key[::-1], return_index=True)
    last = key.size - 1 - first_in_reversed
    a, b, c = a[last], b[last], c[last]
    graph = sp.csr_matrix(
        (np.concatenate([c, c]), (np.concatenate([a, b]), np.concatenate([b, a]))),
        shape=(n_vertices, n_vertices),
    )
    return shortest_path(graph, method="FW" if n_vertices <= 400 else "D", directed=False)


def read_pmed(path: str | Path) -> OrlibInstance:
    """Read an OR-Library p-median file (``pmedN.txt``).

    Parameters
    ----------
    path
        The file: ``n_vertices n_edges p`` then ``n_edges`` lines ``i j cost``.

    Returns
    -------
    OrlibInstance
        Kind ``"pmedian"``; ``cost`` holds the shortest-path distances and
        ``demand`` is 1 everywhere.

    Raises
    ------
    ValidationError
        If the file is malformed (token count, vertex ids out of range).
    """
    path = Path(path)
    tok = _tokens(path)
    if len(tok) < 3:
        raise ValidationError(f"{path}: expected a header 'n_vertices n_edges p', got {tok!r}")
    try:
        n, m, p = (int(t) for t in tok[:3])
        body = np.array(tok[3:], dtype=np.int64)
    except ValueError as exc:
        raise ValidationError(f"{path}: every token must be an integer ({exc})") from exc
    problems = []
    if body.size != 3 * m:
        problems.append(f"{path}: header announces {m} edges (= {3 * m} numbers) "
                        f"but {body.size} numbers follow")
    if not 1 <= p <= n:
        problems.append(f"{path}: p = {p} must lie in 1..{n}")
    if problems:
        raise ValidationError(problems)
    edges = body.reshape(m, 3)
    bad = np.flatnonzero((edges[:, :2] < 1).any(axis=1) | (edges[:, :2] > n).any(axis=1))
    if bad.size:
        raise ValidationError(f"{path}: edge line {bad[0] + 2} names a vertex outside 1..{n}: "
                              f"{edges[bad[0]].tolist()}")
    dist = pmed_distance_matrix(n, edges)
    if not np.isfinite(dist).all():
        raise ValidationError(f"{path}: the graph is not connected")
    return OrlibInstance(name=path.stem, kind="pmedian", cost=dist, demand=np.ones(n), p=p)


def read_cap(
    path: str | Path, *, capacity: float | None = None, uncapacitated: bool = False
) -> OrlibInstance:
    """Read an OR-Library warehouse location file (``capNN.txt``, ``capa/b/c.txt``).

    Parameters
    ----------
    path
        The file: ``m n``, then ``m`` lines ``capacity fixed_cost``, then ``n``
        blocks ``demand c_1j .. c_mj`` (line breaks carry no meaning).
    capacity
        Capacity of every warehouse, for ``capa/b/c.txt`` whose capacity field is
        the word ``capacity`` (see :data:`CAPACITY_VARIANTS`).
    uncapacitated
        Ignore capacities (the UFLP reading of the file).

    Returns
    -------
    OrlibInstance
        Kind ``"cflp"`` (named ``capa8000`` etc. for a capacity variant) or
        ``"uflp"``.

    Raises
    ------
    ValidationError
        If the token count is not ``2 + 2m + n(1+m)``, a number cannot be read,
        or a capacity is needed and not given.
    """
    path = Path(path)
    tok = _tokens(path)
    try:
        m, n = int(tok[0]), int(tok[1])
    except (IndexError, ValueError) as exc:
        raise ValidationError(f"{path}: expected a header 'm n' ({exc})") from exc
    expected = 2 + 2 * m + n * (1 + m)
    if len(tok) != expected:
        raise ValidationError(f"{path}: {len(tok)} numbers, expected 2 + 2m + n(1+m) = {expected}"
                              f" for m = {m}, n = {n}")
    head = tok[2 : 2 + 2 * m]
    cap_tok, fixed_tok = head[0::2], head[1::2]
    try:
        fixed = np.array(fixed_tok, dtype=float)
        blocks = np.array(tok[2 + 2 * m :], dtype=float).reshape(n, 1 + m)
    except ValueError as exc:
        raise ValidationError(f"{path}: a fixed cost, demand or cost is not a number ({exc})") \
            from exc
    named = any(t.lower() == "capacity" for t in cap_tok)
    if uncapacitated:
        caps = None
    elif named:
        if capacity is None:
            variants = CAPACITY_VARIANTS.get(path.stem, ())
            raise ValidationError(f"{path}: capacities are the word 'capacity'; pass capacity="
                                  f"one of {list(variants) or 'the published values'}")
        caps = np.full(m, float(capacity))
    else:
        try:
            caps = np.array(cap_tok, dtype=float)
        except ValueError as exc:
            raise ValidationError(f"{path}: a capacity is not a number ({exc})") from exc
    demand = blocks[:, 0]
    cost = np.ascontiguousarray(blocks[:, 1:].T)
    if uncapacitated:
        name, kind = path.stem, "uflp"
    else:
        name = f"{path.stem}{int(capacity)}" if named and capacity is not None else path.stem
        kind = "cflp"
    return OrlibInstance(name=name, kind=kind, cost=cost, demand=demand, capacity=caps,
                         fixed_cost=fixed)


def read_optima(path: str | Path) -> dict[tuple[str, str], float]:
    """Read the table of published optima (``optima.csv``).

    Parameters
    ----------
    path
        CSV with columns ``instance, kind, optimal_value``.

    Returns
    -------
    dict
        ``{(kind, instance): value}``, kind one of ``pmedian``, ``cflp``, ``uflp``.
    """
    path = Path(path)
    out: dict[tuple[str, str], float] = {}
    with path.open(newline="") as fh:
        for row_no, row in enumerate(csv.DictReader(fh), start=2):
            try:
                out[(row["kind"], row["instance"])] = float(row["optimal_value"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValidationError(f"{path}, row {row_no}: needs instance, kind and a numeric "
                                      f"optimal_value ({exc})") from exc
    return out


__all__ = [
    "CAPACITY_VARIANTS",
    "OrlibInstance",
    "pmed_distance_matrix",
    "read_cap",
    "read_optima",
    "read_pmed",
]
