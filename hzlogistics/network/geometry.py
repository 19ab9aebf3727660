"""Planar geometry of networks: proximity (Delaunay) edges, and the country area edges keep to."""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from scipy.spatial import Delaunay, QhullError
from shapely.geometry.base import BaseGeometry

from hzlogistics.projection import project_geometry

#: Points closer than this in the projected plane count as one place for the triangulation, m.
_SAME_PLACE_M = 1.0


def proximity_edges(xy: np.ndarray) -> np.ndarray:
    """Edges of the Delaunay triangulation of planar points.

    Points at the same place (within 1 m) are triangulated once; each copy is
    joined to the first one by an edge of its own. Collinear points are chained
    in order along their line.

    Parameters
    ----------
    xy
        ``(n, 2)`` projected coordinates, metres.

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` int64 pairs ``i < j`` of point indices, without repeats.

    Examples
    --------
    >>> proximity_edges(np.array([[0.0, 0.0], [1000.0, 0.0], [0.0, 1000.0]])).tolist()
    [[0, 1], [0, 2], [1, 2]]
    """
    xy = np.asarray(xy, dtype=float)
    n = len(xy)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    # one integer per place (1 m grid; projected coordinates stay within ±2^26 m)
    q = np.round(xy / _SAME_PLACE_M).astype(np.int64) + 2**26
    _, first, inverse = np.unique(q[:, 0] * 2**27 + q[:, 1], return_index=True,
                                  return_inverse=True)
    inverse = inverse.ravel()
    pairs = []
    # copies of a place hang on its first point
    copies = np.flatnonzero(first[inverse] != np.arange(n))
    if copies.size:
        pairs.append(np.column_stack([first[inverse[copies]], copies]))
    uxy = xy[first]
    m = len(uxy)
    if m == 2:
        pairs.append(first[[[0, 1]]])
    elif m >= 3:
        try:
            tri = Delaunay(uxy)
        except QhullError:
            # all on one line: chain them along it
            centred = uxy - uxy.mean(axis=0)
            direction = np.linalg.svd(centred, full_matrices=False)[2][0]
            order = np.argsort(centred @ direction, kind="stable")
            pairs.append(first[np.column_stack([order[:-1], order[1:]])])
        else:
            indptr, indices = tri.vertex_neighbor_vertices
            src = np.repeat(np.arange(m), np.diff(indptr))
            pairs.append(first[np.column_stack([src, indices])])
            if len(tri.coplanar):
                # points qhull left out of the triangulation: join to their nearest vertex
                pairs.append(first[tri.coplanar[:, [0, 2]]])
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    e = np.concatenate(pairs).astype(np.int64)
    e = np.sort(e, axis=1)
    e = e[e[:, 0] != e[:, 1]]
    key = np.unique(e[:, 0] * n + e[:, 1])
    return np.column_stack([key // n, key % n])


def country_area(polygon: BaseGeometry, crs: pyproj.CRS, buffer_km: float) -> BaseGeometry:
    """The polygon in ``crs``, simplified by a quarter of the buffer and buffered, prepared.

    Simplifying first (islands are kept) and buffering each part before the
    union keeps this fast on long, island-rich coastlines.
    """
    area = project_geometry(polygon, crs)
    buffer_m = buffer_km * 1_000.0
    if buffer_m > 0:
        area = shapely.simplify(area, buffer_m / 4.0)
        area = shapely.union_all(shapely.buffer(shapely.get_parts(area), buffer_m, quad_segs=4))
    else:
        area = shapely.make_valid(area)
    shapely.prepare(area)
    return area


def segments_inside(area: BaseGeometry, xy: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Whether each segment lies inside ``area`` (vectorised)."""
    if len(edges) == 0:
        return np.zeros(0, dtype=bool)
    a = xy[edges[:, 0]]
    b = xy[edges[:, 1]]
    inside = np.ones(len(edges), dtype=bool)
    proper = np.any(a != b, axis=1)
    lines = shapely.linestrings(np.stack([a[proper], b[proper]], axis=1))
    inside[proper] = shapely.contains(area, lines)
    # a zero-length hop is inside when its point is
    same = ~proper
    if same.any():
        inside[same] = shapely.contains_xy(area, a[same, 0], a[same, 1])
    return inside
