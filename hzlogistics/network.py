"""Delivery networks: networkx graphs on which parcels travel from sites to demand.

A country's network has one node per demand point and per candidate site.
Without a road graph, edges come from a planar proximity graph: the Delaunay
triangulation of the points in a local azimuthal equidistant projection,
minus every edge that leaves the country (its polygon buffered by
:data:`~hzlogistics.settings.NETWORK_BORDER_BUFFER_KM`). Each edge carries

``length_km``
    geodesic length × circuity (road km),
``travel_time_h``
    from the speed bands of :data:`~hzlogistics.settings.ROAD_SPEED_BANDS_KPH`
    (see :func:`road_travel_time_h`),
``mode``
    ``"road"`` or ``"ferry"``.

Parts of a network that end up disconnected (islands, exclaves) are joined by
ferry links along a minimum spanning tree of the parts (each link at most
:data:`~hzlogistics.settings.FERRY_MAX_KM`, travelling at
:data:`~hzlogistics.settings.FERRY_SPEED_KPH` after a fixed
:data:`~hzlogistics.settings.FERRY_HANDLING_H`); parts farther apart stay
disconnected, and :func:`unreachable_nodes` names the demand points no site
can reach.

A planner may supply a real road graph (GraphML, or OSM XML read by osmnx):
:func:`read_road_graph` validates it, demand points and sites are snapped to
their nearest road node by an access edge.

Node keys are ``("demand", id)``, ``("site", id)`` and ``("road", key)``;
every node has ``kind``, ``x`` (longitude), ``y`` (latitude), and points also
``id`` and ``country``. The graphs are undirected: one-way restrictions of a
road graph are not modelled.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pyproj
import shapely
from scipy.spatial import Delaunay, QhullError, cKDTree
from shapely.geometry.base import BaseGeometry

from hzlogistics import settings
from hzlogistics._errors import MissingDependencyError, ValidationError
from hzlogistics.projection import (
    geodesic_km,
    local_crs,
    project_geometry,
    project_points,
    unit_vectors,
)

logger = logging.getLogger(__name__)

#: Points closer than this in the projected plane count as one place for the triangulation, m.
_SAME_PLACE_M = 1.0


# --------------------------------------------------------------------------------------------
# Travel times
# --------------------------------------------------------------------------------------------


def _check_bands(bands: Sequence[tuple[float, float]]) -> None:
    problems = []
    if len(bands) == 0:
        problems.append("speed bands: none given; expected ((up_to_km, km_per_h), ...)")
    previous = 0.0
    for i, (up_to_km, speed) in enumerate(bands):
        if not up_to_km > previous:
            problems.append(
                f"speed band {i}: upper bound {up_to_km} km is not above the previous "
                f"{previous} km; bounds must increase"
            )
        if not (np.isfinite(speed) and speed > 0):
            problems.append(f"speed band {i}: speed {speed} km/h must be a positive number")
        previous = up_to_km
    if len(bands) and np.isfinite(bands[-1][0]):
        problems.append("speed bands: the last band must reach float('inf') km")
    if problems:
        raise ValidationError(problems)


def road_travel_time_h(
    length_km: np.ndarray | float,
    *,
    bands: Sequence[tuple[float, float]] = settings.ROAD_SPEED_BANDS_KPH,
) -> np.ndarray:
    """Road travel time of hops of the given road length, from marginal speed bands.

    With bands ``((5, 25), (20, 45), (60, 70), (inf, 85))`` the first 5 km of a
    hop take 25 km/h, km 5-20 take 45 km/h, km 20-60 take 70 km/h and the rest
    85 km/h: short urban hops are slow, long highway hops fast, and the time
    grows continuously with the length.

    Parameters
    ----------
    length_km
        Road length of each hop, km (≥ 0).
    bands
        ``(up_to_km, speed_kph)`` pairs with increasing bounds, the last one
        ``inf``.

    Returns
    -------
    numpy.ndarray
        Travel time of each hop, hours.

    Raises
    ------
    ValidationError
        When the bands are not increasing or a speed is not positive.

    Examples
    --------
    >>> road_travel_time_h(np.array([5.0, 20.0]), bands=((5.0, 25.0), (float("inf"), 50.0)))
    array([0.2, 0.5])
    """
    _check_bands(bands)
    length = np.asarray(length_km, dtype=float)
    time_h = np.zeros_like(length)
    lower = 0.0
    for upper, speed in bands:
        time_h += np.clip(length - lower, 0.0, upper - lower) / speed
        lower = upper
    return time_h


def ferry_travel_time_h(
    length_km: np.ndarray | float,
    *,
    speed_kph: float = settings.FERRY_SPEED_KPH,
    handling_h: float = settings.FERRY_HANDLING_H,
) -> np.ndarray:
    """Travel time of ferry links: fixed handling delay plus sailing time.

    Examples
    --------
    >>> ferry_travel_time_h(np.array([60.0]), speed_kph=30.0, handling_h=2.0)
    array([4.])
    """
    return handling_h + np.asarray(length_km, dtype=float) / speed_kph


# --------------------------------------------------------------------------------------------
# Proximity graph
# --------------------------------------------------------------------------------------------


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


def _country_area(polygon: BaseGeometry, crs: pyproj.CRS, buffer_km: float) -> BaseGeometry:
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


def _segments_inside(area: BaseGeometry, xy: np.ndarray, edges: np.ndarray) -> np.ndarray:
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


def _node_arrays(G: nx.Graph) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    nodes = list(G.nodes)
    lon = np.fromiter((G.nodes[k]["x"] for k in nodes), dtype=float, count=len(nodes))
    lat = np.fromiter((G.nodes[k]["y"] for k in nodes), dtype=float, count=len(nodes))
    return nodes, lon, lat


def _add_points(
    G: nx.Graph,
    keys: Sequence[Hashable],
    lon: np.ndarray,
    lat: np.ndarray,
    node_attrs: Mapping[str, Sequence[Any]] | None,
) -> None:
    attrs = dict(node_attrs or {})
    names = list(attrs)
    columns = [list(attrs[a]) for a in names]
    G.add_nodes_from(
        (key, {**dict(zip(names, values, strict=True)), "x": x, "y": y})
        for key, x, y, *values in zip(keys, np.asarray(lon, dtype=float).tolist(),
                                      np.asarray(lat, dtype=float).tolist(), *columns,
                                      strict=True)
    )


def _add_edges(
    G: nx.Graph,
    keys: Sequence[Hashable],
    edges: np.ndarray,
    length_km: np.ndarray,
    travel_time_h: np.ndarray,
    mode: str,
    **extra: Any,
) -> None:
    G.add_edges_from(
        (
            keys[i],
            keys[j],
            {"length_km": float(d), "travel_time_h": float(t), "mode": mode, **extra},
        )
        for (i, j), d, t in zip(edges.tolist(), length_km.tolist(), travel_time_h.tolist(),
                                strict=True)
    )


def _check_circuity(circuity: float) -> None:
    if not (np.isfinite(circuity) and circuity >= 1.0):
        raise ValidationError(
            f"circuity {circuity!r}: must be a number ≥ 1 (road km per geodesic km), "
            f"default {settings.CIRCUITY}"
        )


def build_network(
    lon: np.ndarray,
    lat: np.ndarray,
    keys: Sequence[Hashable],
    *,
    polygon: BaseGeometry | None = None,
    node_attrs: Mapping[str, Sequence[Any]] | None = None,
    circuity: float = settings.CIRCUITY,
    border_buffer_km: float = settings.NETWORK_BORDER_BUFFER_KM,
    bands: Sequence[tuple[float, float]] = settings.ROAD_SPEED_BANDS_KPH,
    link_islands: bool = True,
    ferry_max_km: float = settings.FERRY_MAX_KM,
    name: str | None = None,
) -> nx.Graph:
    """Proximity road network on a set of points.

    Parameters
    ----------
    lon, lat
        Coordinates of the points, degrees (EPSG:4326).
    keys
        Node key of each point (hashable, unique).
    polygon
        The country in EPSG:4326; an edge that leaves it (buffered by
        ``border_buffer_km``) is dropped. ``None`` keeps every edge.
    node_attrs
        Extra node attributes, one sequence per attribute name.
    circuity
        Road km per geodesic km (≥ 1).
    border_buffer_km
        Buffer of ``polygon``, km.
    bands
        Road speed bands, see :func:`road_travel_time_h`.
    link_islands
        Join disconnected parts by ferry links (:func:`link_components`).
    ferry_max_km
        Longest ferry link, km.
    name
        Stored as ``G.graph["name"]``.

    Returns
    -------
    networkx.Graph
        Edges carry ``length_km``, ``travel_time_h``, ``mode``. ``G.graph``
        holds ``crs`` (the local projection, PROJ string), ``dropped_edges``
        (edges that left the country), ``parts`` (connected parts before
        linking) and ``ferry_links``.

    Raises
    ------
    ValidationError
        On mismatched lengths, duplicate keys or a circuity below 1.

    Examples
    --------
    >>> G = build_network(np.array([0.0, 0.1, 0.0]), np.array([0.0, 0.0, 0.1]), ["a", "b", "c"])
    >>> sorted(G.edges)
    [('a', 'b'), ('a', 'c'), ('b', 'c')]
    >>> round(G.edges["a", "b"]["length_km"], 2)  # 11.13 km geodesic × 1.3
    14.47
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    keys = list(keys)
    if not (len(lon) == len(lat) == len(keys)):
        raise ValidationError(
            f"build_network: lon ({len(lon)}), lat ({len(lat)}) and keys ({len(keys)}) "
            "must have the same length"
        )
    if len(set(keys)) != len(keys):
        raise ValidationError("build_network: node keys must be unique")
    _check_circuity(circuity)
    G = nx.Graph(name=name, dropped_edges=0, parts=0, ferry_links=0)
    _add_points(G, keys, lon, lat, node_attrs)
    if len(keys) == 0:
        return G
    crs = local_crs(lon, lat)
    G.graph["crs"] = crs.srs
    xy = project_points(lon, lat, crs)
    edges = proximity_edges(xy)
    if polygon is not None and not polygon.is_empty and len(edges):
        area = _country_area(polygon, crs, border_buffer_km)
        keep = _segments_inside(area, xy, edges)
        G.graph["dropped_edges"] = int((~keep).sum())
        edges = edges[keep]
    length_km = geodesic_km(lon[edges[:, 0]], lat[edges[:, 0]], lon[edges[:, 1]],
                            lat[edges[:, 1]]) * circuity
    _add_edges(G, keys, edges, length_km, road_travel_time_h(length_km, bands=bands), "road")
    if link_islands:
        link_components(G, ferry_max_km=ferry_max_km)
    else:
        G.graph["parts"] = nx.number_connected_components(G)
    return G


def link_components(
    G: nx.Graph,
    *,
    ferry_max_km: float = settings.FERRY_MAX_KM,
    speed_kph: float = settings.FERRY_SPEED_KPH,
    handling_h: float = settings.FERRY_HANDLING_H,
) -> list[tuple[Hashable, Hashable]]:
    """Join the disconnected parts of a network by ferry links, in place.

    The links are the shortest ones that connect the parts (Kruskal's minimum
    spanning tree over the parts, candidates from the Delaunay triangulation of
    every node, which contains the Euclidean minimum spanning tree). A link
    longer than ``ferry_max_km`` is never added: such parts stay apart.

    Parameters
    ----------
    G
        Graph whose nodes carry ``x``/``y`` in degrees.
    ferry_max_km
        Longest link, km (geodesic).
    speed_kph, handling_h
        Ferry speed and fixed delay, see :func:`ferry_travel_time_h`.

    Returns
    -------
    list of tuple
        The links added, each with ``mode="ferry"``, ``length_km`` (geodesic)
        and ``travel_time_h``. ``G.graph["parts"]`` is set to the number of
        parts before linking and ``G.graph["ferry_links"]`` is increased.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_nodes_from([("a", {"x": 0.0, "y": 0.0}), ("b", {"x": 0.5, "y": 0.0})])
    >>> link_components(G)
    [('a', 'b')]
    >>> G.edges["a", "b"]["mode"]
    'ferry'
    """
    parts = list(nx.connected_components(G))
    G.graph["parts"] = len(parts)
    if len(parts) < 2:
        return []
    nodes, lon, lat = _node_arrays(G)
    index = {k: i for i, k in enumerate(nodes)}
    label = np.empty(len(nodes), dtype=np.int64)
    for c, part in enumerate(parts):
        label[[index[k] for k in part]] = c
    xy = project_points(lon, lat, local_crs(lon, lat))
    cand = proximity_edges(xy)
    cand = cand[label[cand[:, 0]] != label[cand[:, 1]]]
    length = geodesic_km(lon[cand[:, 0]], lat[cand[:, 0]], lon[cand[:, 1]], lat[cand[:, 1]])
    order = np.argsort(length, kind="stable")
    parent = list(range(len(parts)))

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    added: list[tuple[Hashable, Hashable]] = []
    for e in order.tolist():
        if length[e] > ferry_max_km:
            break
        i, j = int(cand[e, 0]), int(cand[e, 1])
        ri, rj = root(int(label[i])), root(int(label[j]))
        if ri == rj:
            continue
        parent[ri] = rj
        d = float(length[e])
        G.add_edge(
            nodes[i], nodes[j], length_km=d, mode="ferry",
            travel_time_h=float(ferry_travel_time_h(d, speed_kph=speed_kph,
                                                    handling_h=handling_h)),
        )
        added.append((nodes[i], nodes[j]))
        if len(added) == len(parts) - 1:
            break
    G.graph["ferry_links"] = G.graph.get("ferry_links", 0) + len(added)
    left = len(parts) - len(added)
    if left > 1:
        logger.info(
            "%s: %d parts stay disconnected (farther than %.0f km apart)",
            G.graph.get("name") or "network", left, ferry_max_km,
        )
    return added


def unreachable_nodes(G: nx.Graph, *, kind: str = "demand") -> list[Hashable]:
    """Nodes of a kind that no site can reach at all (no site in their part).

    Parameters
    ----------
    G
        Network whose nodes carry ``kind`` (``"demand"``, ``"site"``, ``"road"``).
    kind
        Which nodes to report.

    Returns
    -------
    list
        Node keys, in the graph's node order.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_nodes_from([(1, {"kind": "site"}), (2, {"kind": "demand"}), (3, {"kind": "demand"})])
    >>> G.add_edge(1, 2)
    >>> unreachable_nodes(G)
    [3]
    """
    served: set[Hashable] = set()
    for part in nx.connected_components(G):
        if any(G.nodes[k].get("kind") == "site" for k in part):
            served.update(part)
    return [k for k, d in G.nodes(data=True) if d.get("kind") == kind and k not in served]


# --------------------------------------------------------------------------------------------
# Road graphs supplied by the planner
# --------------------------------------------------------------------------------------------


@dataclass
class RoadArrays:
    """A validated road graph as plain arrays (small to pickle, quick to subset).

    Attributes
    ----------
    keys
        ``(n,)`` object array of the original node keys.
    lon, lat
        ``(n,)`` node coordinates, degrees.
    u, v
        ``(m,)`` int positions of each edge's ends.
    length_km, travel_time_h
        ``(m,)`` edge weights.
    """

    keys: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_km: np.ndarray
    travel_time_h: np.ndarray

    @classmethod
    def from_graph(cls, G: nx.Graph) -> RoadArrays:
        """From a graph returned by :func:`read_road_graph` (node keys ``("road", key)``)."""
        nodes, lon, lat = _node_arrays(G)
        index = {k: i for i, k in enumerate(nodes)}
        m = G.number_of_edges()
        u = np.empty(m, dtype=np.int64)
        v = np.empty(m, dtype=np.int64)
        length = np.empty(m)
        time_h = np.empty(m)
        for e, (a, b, d) in enumerate(G.edges(data=True)):
            u[e], v[e] = index[a], index[b]
            length[e], time_h[e] = d["length_km"], d["travel_time_h"]
        keys = np.empty(len(nodes), dtype=object)
        keys[:] = [k[1] if isinstance(k, tuple) and k[:1] == ("road",) else k for k in nodes]
        return cls(keys, lon, lat, u, v, length, time_h)

    @property
    def n_nodes(self) -> int:
        """Number of road nodes."""
        return len(self.keys)

    def subset(self, mask: np.ndarray) -> RoadArrays:
        """The nodes where ``mask`` holds and the edges between them."""
        mask = np.asarray(mask, dtype=bool)
        new = np.full(len(mask), -1, dtype=np.int64)
        new[mask] = np.arange(int(mask.sum()))
        keep = mask[self.u] & mask[self.v]
        return RoadArrays(
            self.keys[mask], self.lon[mask], self.lat[mask], new[self.u[keep]],
            new[self.v[keep]], self.length_km[keep], self.travel_time_h[keep],
        )

    def to_graph(self) -> nx.Graph:
        """Undirected graph with keys ``("road", key)``, ``kind="road"``, ``mode="road"``."""
        G = nx.Graph()
        keys = [("road", k) for k in self.keys.tolist()]
        _add_points(G, keys, self.lon, self.lat, {"kind": ["road"] * len(keys)})
        _add_edges(G, keys, np.column_stack([self.u, self.v]), self.length_km,
                   self.travel_time_h, "road")
        return G


def _as_float(value: Any) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
        return _as_float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _highway_speed(tag: Any) -> float:
    speeds = settings.ROAD_GRAPH_SPEEDS_KPH
    if isinstance(tag, str) and tag.startswith("["):
        tags = re.findall(r"[A-Za-z_]+", tag)
    elif isinstance(tag, list | tuple):
        tags = [str(t) for t in tag]
    elif tag is None:
        tags = []
    else:
        tags = [str(tag)]
    known = [speeds[t.removesuffix("_link")] for t in tags if t.removesuffix("_link") in speeds]
    return max(known) if known else speeds["default"]


def _sniff(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4096).lower()
    if b"<graphml" in head:
        return "graphml"
    if b"<osm" in head:
        return "osm"
    return "unknown"


def _load_road_file(path: Path) -> nx.Graph:
    label = f"road graph {os.fspath(path)}"
    if not path.is_file():
        raise ValidationError(f"{label}: no such file; give a GraphML or OSM XML file")
    kind = _sniff(path)
    if kind == "unknown":
        kind = {".graphml": "graphml", ".osm": "osm", ".xml": "osm"}.get(path.suffix.lower(), "")
    if kind == "graphml":
        try:
            return nx.read_graphml(path)
        except Exception as exc:  # any parser failure is the file's fault
            raise ValidationError(f"{label}: not a readable GraphML file ({exc})") from exc
    if kind == "osm":
        try:
            import osmnx
        except ImportError as exc:
            raise MissingDependencyError(
                f"{label}: reading OSM XML needs osmnx; install it with "
                "`pip install hzlogistics[roads]` or give a GraphML file"
            ) from exc
        try:
            return osmnx.graph_from_xml(path, bidirectional=True, simplify=True, retain_all=True)
        except Exception as exc:  # any parser failure is the file's fault
            raise ValidationError(f"{label}: not a readable OSM XML file ({exc})") from exc
    raise ValidationError(
        f"{label}: neither GraphML nor OSM XML; give a .graphml or .osm file"
    )


def read_road_graph(source: str | os.PathLike[str] | nx.Graph) -> nx.Graph:
    """Read and validate a road graph.

    Parameters
    ----------
    source
        A GraphML file (as written by ``osmnx.save_graphml`` or
        ``networkx.write_graphml``), an OSM XML file (needs osmnx), or a
        networkx graph. Nodes need ``x`` (longitude) and ``y`` (latitude) in
        degrees; edges need ``length`` (metres) or ``length_km``. The travel
        time is taken from ``travel_time`` (seconds) or ``travel_time_h``, else
        from ``speed_kph``, else from the ``highway`` tag
        (:data:`~hzlogistics.settings.ROAD_GRAPH_SPEEDS_KPH`).

    Returns
    -------
    networkx.Graph
        Undirected simple graph (the fastest of parallel edges is kept), keys
        ``("road", key)``, nodes with ``kind="road"``, ``x``, ``y``; edges with
        ``length_km``, ``travel_time_h`` and ``mode="road"``.

    Raises
    ------
    ValidationError
        A file that is missing or does not parse; nodes without coordinates;
        edges with a missing, negative or non-finite length or travel time
        (all named in one message).
    MissingDependencyError
        An OSM XML file without osmnx installed.

    Examples
    --------
    >>> R = nx.Graph()
    >>> R.add_node(1, x=0.0, y=0.0)
    >>> R.add_node(2, x=0.01, y=0.0)
    >>> R.add_edge(1, 2, length=1113.0, highway="primary")
    >>> G = read_road_graph(R)
    >>> round(G.edges[("road", 1), ("road", 2)]["travel_time_h"], 4)  # 1.113 km at 60 km/h
    0.0186
    """
    if isinstance(source, nx.Graph):
        raw, label = source, "road graph"
    else:
        path = Path(source)
        raw, label = _load_road_file(path), f"road graph {os.fspath(path)}"
    problems: list[str] = []
    G = nx.Graph()
    for key, data in raw.nodes(data=True):
        x, y = _as_float(data.get("x")), _as_float(data.get("y"))
        if not (np.isfinite(x) and np.isfinite(y)):
            problems.append(f"{label}: node {key!r} has no numeric 'x'/'y' (longitude/latitude)")
            continue
        if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
            problems.append(
                f"{label}: node {key!r} at x={x}, y={y} is not a longitude/latitude; "
                "the graph must be unprojected (EPSG:4326)"
            )
            continue
        G.add_node(("road", key), kind="road", x=x, y=y)
    for a, b, data in raw.edges(data=True):
        where = f"{label}: edge ({a!r}, {b!r})"
        if "length_km" in data:
            length_km = _as_float(data["length_km"])
        else:
            length_km = _as_float(data.get("length")) / 1_000.0
        if "length" not in data and "length_km" not in data:
            problems.append(f"{where} has no 'length' (metres ≥ 0)")
            continue
        if not (np.isfinite(length_km) and length_km >= 0):
            problems.append(
                f"{where}: length {data.get('length', data.get('length_km'))!r} "
                "must be a finite number ≥ 0"
            )
            continue
        if "travel_time_h" in data:
            time_h = _as_float(data["travel_time_h"])
        elif "travel_time" in data:
            time_h = _as_float(data["travel_time"]) / 3_600.0
        else:
            speed = _as_float(data.get("speed_kph"))
            if not np.isfinite(speed):
                speed = _highway_speed(data.get("highway"))
            if not speed > 0:
                problems.append(f"{where}: speed_kph {speed!r} must be > 0")
                continue
            time_h = length_km / speed
        if not (np.isfinite(time_h) and time_h >= 0):
            problems.append(f"{where}: travel time {time_h!r} h must be a finite number ≥ 0")
            continue
        ka, kb = ("road", a), ("road", b)
        if ka not in G or kb not in G or ka == kb:
            continue
        old = G.get_edge_data(ka, kb)
        if old is None or time_h < old["travel_time_h"]:
            G.add_edge(ka, kb, length_km=length_km, travel_time_h=time_h, mode="road")
    if problems:
        raise ValidationError(problems)
    if G.number_of_nodes() == 0:
        raise ValidationError(f"{label}: no nodes; a road graph needs nodes with x/y")
    logger.info("%s: %d nodes, %d edges", label, G.number_of_nodes(), G.number_of_edges())
    return G


def attach_points(
    G_road: nx.Graph,
    lon: np.ndarray,
    lat: np.ndarray,
    keys: Sequence[Hashable],
    *,
    node_attrs: Mapping[str, Sequence[Any]] | None = None,
    circuity: float = settings.CIRCUITY,
    bands: Sequence[tuple[float, float]] = settings.ROAD_SPEED_BANDS_KPH,
) -> nx.Graph:
    """A copy of a road graph with points snapped to their nearest road node.

    Each point becomes a node joined to its nearest road node by an access
    edge (``mode="road"``, ``access=True``) of geodesic length × circuity,
    timed with the speed bands.

    Parameters
    ----------
    G_road
        Road graph from :func:`read_road_graph` (or ``RoadArrays.to_graph``).
    lon, lat, keys, node_attrs
        The points, as in :func:`build_network`.
    circuity, bands
        For the access edges.

    Returns
    -------
    networkx.Graph

    Raises
    ------
    ValidationError
        When the road graph has no nodes.

    Examples
    --------
    >>> R = nx.Graph()
    >>> R.add_node("r", x=0.0, y=0.0)
    >>> G = attach_points(R, np.array([0.0]), np.array([0.01]), ["p"])
    >>> G.edges["p", "r"]["access"], round(G.edges["p", "r"]["length_km"], 2)
    (True, 1.44)
    """
    if G_road.number_of_nodes() == 0:
        raise ValidationError("attach_points: the road graph has no nodes")
    _check_circuity(circuity)
    G = G_road.copy()
    keys = list(keys)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    _add_points(G, keys, lon, lat, node_attrs)
    if not keys:
        return G
    road, rlon, rlat = _node_arrays(G_road)
    _, nearest = cKDTree(unit_vectors(rlon, rlat)).query(unit_vectors(lon, lat))
    length = geodesic_km(lon, lat, rlon[nearest], rlat[nearest]) * circuity
    edges = np.column_stack([np.arange(len(keys)), len(keys) + nearest])
    _add_edges(G, keys + road, edges, length, road_travel_time_h(length, bands=bands), "road",
               access=True)
    return G


# --------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------


@dataclass
class CountryPoints:
    """The demand points and sites of one country as plain arrays (picklable).

    Attributes
    ----------
    country
        ISO2 code.
    ids
        ``(n,)`` object array of point ids.
    is_site
        ``(n,)`` bool: candidate site (True) or demand point (False).
    lon, lat
        ``(n,)`` coordinates, degrees.
    polygon
        The country (EPSG:4326), or ``None`` when unknown.
    """

    country: str
    ids: np.ndarray
    is_site: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    polygon: BaseGeometry | None = None

    @property
    def keys(self) -> list[tuple[str, Hashable]]:
        """Node keys ``("site", id)`` / ``("demand", id)``."""
        return [
            ("site" if s else "demand", i)
            for s, i in zip(self.is_site.tolist(), self.ids.tolist(), strict=True)
        ]

    def node_attrs(self) -> dict[str, list[Any]]:
        """``kind``, ``id`` and ``country`` of every point."""
        n = len(self.ids)
        return {
            "kind": ["site" if s else "demand" for s in self.is_site.tolist()],
            "id": self.ids.tolist(),
            "country": [self.country] * n,
        }


def network_from_points(
    points: CountryPoints,
    *,
    road: RoadArrays | None = None,
    circuity: float = settings.CIRCUITY,
    link_islands: bool = True,
) -> nx.Graph:
    """The delivery network of one country.

    Uses the road graph when ``road`` has at least two nodes, the proximity
    graph (:func:`build_network`) otherwise.

    Parameters
    ----------
    points
        The country's demand points and sites.
    road
        Road nodes and edges of this country (already selected), or ``None``.
    circuity
        Road km per geodesic km.
    link_islands
        Join disconnected parts by ferry links.

    Returns
    -------
    networkx.Graph
        ``G.graph["country"]`` is the ISO2 code, ``G.graph["source"]`` is
        ``"proximity"`` or ``"roads"``.

    Examples
    --------
    >>> pts = CountryPoints("XX", np.array(["s", "d"], dtype=object), np.array([True, False]),
    ...                     np.array([0.0, 0.1]), np.array([0.0, 0.0]))
    >>> G = network_from_points(pts)
    >>> list(G.edges), G.graph["source"]
    ([(('site', 's'), ('demand', 'd'))], 'proximity')
    """
    if road is not None and road.n_nodes >= 2:
        G = attach_points(road.to_graph(), points.lon, points.lat, points.keys,
                          node_attrs=points.node_attrs(), circuity=circuity)
        G.graph.update(name=points.country, ferry_links=0, dropped_edges=0)
        if link_islands:
            link_components(G)
        else:
            G.graph["parts"] = nx.number_connected_components(G)
        source = "roads"
    else:
        G = build_network(points.lon, points.lat, points.keys, polygon=points.polygon,
                          node_attrs=points.node_attrs(), circuity=circuity,
                          link_islands=link_islands, name=points.country)
        source = "proximity"
    G.graph["country"] = points.country
    G.graph["source"] = source
    return G


def join_networks(
    graphs: Mapping[str, nx.Graph],
    polygons: Mapping[str, BaseGeometry] | None = None,
    *,
    circuity: float = settings.CIRCUITY,
    link_max_km: float = settings.CROSS_BORDER_LINK_MAX_KM,
    delay_h: float = settings.CROSS_BORDER_DELAY_H,
    border_buffer_km: float = settings.NETWORK_BORDER_BUFFER_KM,
) -> nx.Graph:
    """Join neighbouring countries' networks across their borders.

    Two countries are neighbours when their polygons are at most
    ``link_max_km`` apart (without polygons: when some of their nodes are).
    Every node of one within ``link_max_km`` of the other is linked to its
    nearest node there, and the nearest pair is always linked. A link that
    stays inside the two (buffered) countries is a road (geodesic × circuity,
    speed bands, plus ``delay_h``); one that crosses water or a third country
    is a ferry. Cross-border links carry ``cross_border=True``.

    Parameters
    ----------
    graphs
        Network of each country (ISO2 → graph), node keys unique across them.
    polygons
        Country polygons (EPSG:4326), or ``None``.
    circuity, link_max_km, delay_h, border_buffer_km
        See :mod:`hzlogistics.settings`.

    Returns
    -------
    networkx.Graph
        The union with the links; ``G.graph["border_links"]`` counts them,
        ``ferry_links``, ``parts`` and ``dropped_edges`` add up the countries'
        figures (``ferry_links`` includes cross-border ferries).

    Raises
    ------
    ValidationError
        When two networks share a node key.

    Examples
    --------
    >>> a = build_network(np.array([0.0, 1.0]), np.array([0.0, 0.0]), ["a1", "a2"])
    >>> b = build_network(np.array([1.3, 2.3]), np.array([0.0, 0.0]), ["b1", "b2"])
    >>> G = join_networks({"A": a, "B": b})
    >>> [e for e in G.edges if G.edges[e].get("cross_border")]
    [('a2', 'b1')]
    """
    G = nx.Graph()
    seen: dict[Hashable, str] = {}
    coords: dict[str, tuple[list[Hashable], np.ndarray, np.ndarray]] = {}
    for country, g in graphs.items():
        clash = [k for k in g.nodes if k in seen]
        if clash:
            raise ValidationError(
                f"join_networks: node {clash[0]!r} is in both {seen[clash[0]]} and {country}; "
                "ids must be unique across countries"
            )
        seen.update(dict.fromkeys(g.nodes, country))
        G.add_nodes_from(g.nodes(data=True))
        G.add_edges_from(g.edges(data=True))
        if g.number_of_nodes():
            coords[country] = _node_arrays(g)
    for attr in ("dropped_edges", "parts", "ferry_links"):
        G.graph[attr] = sum(int(g.graph.get(attr, 0)) for g in graphs.values())
    G.graph["border_links"] = 0
    names = list(coords)
    if len(names) < 2:
        return G
    all_lon = np.concatenate([coords[c][1] for c in names])
    all_lat = np.concatenate([coords[c][2] for c in names])
    crs = local_crs(all_lon, all_lat)
    raw: dict[str, BaseGeometry] = {}
    areas: dict[str, BaseGeometry] = {}
    if polygons is not None:
        for c in names:
            if polygons.get(c) is not None:
                raw[c] = project_geometry(polygons[c], crs)
                areas[c] = _country_area(polygons[c], crs, border_buffer_km)
    trees = {c: cKDTree(unit_vectors(coords[c][1], coords[c][2])) for c in names}
    links = ferries = 0
    for ia, a in enumerate(names):
        for b in names[ia + 1:]:
            have_polys = a in raw and b in raw
            if have_polys and shapely.distance(raw[a], raw[b]) > link_max_km * 1_000.0:
                continue
            pairs = []
            for p, q in ((a, b), (b, a)):
                _, near = trees[q].query(unit_vectors(coords[p][1], coords[p][2]))
                idx = np.column_stack([np.arange(len(near)), near])
                pairs.append(idx if p == a else idx[:, ::-1])
            cand = np.unique(np.concatenate(pairs), axis=0)
            (ka, lon_a, lat_a), (kb, lon_b, lat_b) = coords[a], coords[b]
            d = geodesic_km(lon_a[cand[:, 0]], lat_a[cand[:, 0]], lon_b[cand[:, 1]],
                            lat_b[cand[:, 1]])
            keep = d <= link_max_km
            if not keep.any():
                if not have_polys:
                    continue
                keep[int(np.argmin(d))] = True
            cand, d = cand[keep], d[keep]
            if have_polys:
                both = shapely.union(areas[a], areas[b])
                shapely.prepare(both)
                xy = np.concatenate([
                    project_points(lon_a[cand[:, 0]], lat_a[cand[:, 0]], crs),
                    project_points(lon_b[cand[:, 1]], lat_b[cand[:, 1]], crs),
                ])
                n = len(cand)
                on_land = _segments_inside(both, xy, np.column_stack([np.arange(n),
                                                                      n + np.arange(n)]))
            else:
                on_land = np.ones(len(cand), dtype=bool)
            road_km = d * circuity
            road_h = road_travel_time_h(road_km) + delay_h
            ferry_h = ferry_travel_time_h(d) + delay_h
            for (i, j), dist, land, rk, rh, fh in zip(
                cand.tolist(), d.tolist(), on_land.tolist(), road_km.tolist(),
                road_h.tolist(), ferry_h.tolist(), strict=True,
            ):
                if land:
                    attrs = {"length_km": rk, "travel_time_h": rh, "mode": "road"}
                else:
                    attrs = {"length_km": dist, "travel_time_h": fh, "mode": "ferry"}
                G.add_edge(ka[i], kb[j], cross_border=True, **attrs)
                links += 1
                ferries += not land
    G.graph["border_links"] = links
    G.graph["ferry_links"] += ferries
    return G


def points_from_frames(
    demand: Any,
    sites: Any,
    countries: Any | None = None,
    *,
    country: str,
) -> CountryPoints:
    """One country's demand points and sites from the GeoDataFrames.

    Parameters
    ----------
    demand, sites
        GeoDataFrames with ``id``, ``country`` and Point ``geometry`` (EPSG:4326).
    countries
        GeoDataFrame with ``country`` and ``geometry``, or ``None``.
    country
        ISO2 code.

    Returns
    -------
    CountryPoints
    """
    parts = []
    for frame, site in ((sites, True), (demand, False)):
        sel = frame[frame["country"] == country]
        geom = sel.geometry.values
        parts.append((sel["id"].astype(str).to_numpy(dtype=object),
                      np.full(len(sel), site), shapely.get_x(geom), shapely.get_y(geom)))
    polygon = None
    if countries is not None:
        rows = countries[countries["country"] == country]
        if len(rows) == 1:
            polygon = rows.geometry.values[0]
        elif len(rows) > 1:
            polygon = shapely.union_all(rows.geometry.values)
    return CountryPoints(
        country,
        np.concatenate([p[0] for p in parts]).astype(object),
        np.concatenate([p[1] for p in parts]).astype(bool),
        np.concatenate([p[2] for p in parts]).astype(float),
        np.concatenate([p[3] for p in parts]).astype(float),
        polygon,
    )


def build_country_network(
    demand: Any,
    sites: Any,
    countries: Any | None = None,
    *,
    country: str,
    circuity: float = settings.CIRCUITY,
    road_graph: str | os.PathLike[str] | nx.Graph | None = None,
    link_islands: bool = True,
) -> nx.Graph:
    """The delivery network of one country, from the GeoDataFrames.

    Parameters
    ----------
    demand, sites
        GeoDataFrames with ``id``, ``country`` and Point ``geometry`` (EPSG:4326).
    countries
        GeoDataFrame with ``country`` and ``geometry`` (edges leaving the
        country are dropped), or ``None`` (every proximity edge kept).
    country
        ISO2 code.
    circuity
        Road km per geodesic km.
    road_graph
        GraphML / OSM XML path or graph (see :func:`read_road_graph`); its
        nodes inside the country (buffered) are used.
    link_islands
        Join disconnected parts by ferry links.

    Returns
    -------
    networkx.Graph
        See :func:`build_network` and :func:`network_from_points`.

    Raises
    ------
    ValidationError
        A bad road graph or circuity.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"id": ["d1", "d2"], "country": ["XX", "XX"]},
    ...                      geometry=[Point(0, 0), Point(0.1, 0)], crs=4326)
    >>> s = gpd.GeoDataFrame({"id": ["s1"], "country": ["XX"]}, geometry=[Point(0.05, 0.05)],
    ...                      crs=4326)
    >>> G = build_country_network(d, s, country="XX")
    >>> G.number_of_nodes(), G.number_of_edges()
    (3, 3)
    """
    points = points_from_frames(demand, sites, countries, country=country)
    road = None
    if road_graph is not None:
        road = RoadArrays.from_graph(read_road_graph(road_graph))
        road = road.subset(road_mask(road, points))
    return network_from_points(points, road=road, circuity=circuity, link_islands=link_islands)


def road_mask(
    road: RoadArrays,
    points: CountryPoints,
    *,
    border_buffer_km: float = settings.NETWORK_BORDER_BUFFER_KM,
) -> np.ndarray:
    """Which road nodes belong to a country.

    Inside the country's polygon buffered by ``border_buffer_km`` when known,
    otherwise inside the bounding box of its points widened by the same
    distance.

    Returns
    -------
    numpy.ndarray
        ``(road.n_nodes,)`` bool.
    """
    if road.n_nodes == 0 or len(points.ids) == 0:
        return np.zeros(road.n_nodes, dtype=bool)
    if points.polygon is not None:
        crs = local_crs(points.lon, points.lat)
        area = _country_area(points.polygon, crs, border_buffer_km)
        xy = project_points(road.lon, road.lat, crs)
        return shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    pad = border_buffer_km / 111.0
    return (
        (road.lon >= points.lon.min() - pad) & (road.lon <= points.lon.max() + pad)
        & (road.lat >= points.lat.min() - pad) & (road.lat <= points.lat.max() + pad)
    )


def site_network_km(
    demand: Any,
    sites: Any,
    countries: Any | None = None,
    *,
    sources: Sequence[str],
    circuity: float = settings.CIRCUITY,
    road_graph: str | os.PathLike[str] | nx.Graph | None = None,
) -> np.ndarray:
    """Shortest delivery-network distance from given sites to every site of their country.

    Each source's country gets its delivery network (:func:`build_country_network`,
    the same network the coverage uses) and one Dijkstra search on the edges'
    ``length_km`` (scipy) from all of that country's sources at once.

    Parameters
    ----------
    demand, sites
        GeoDataFrames with ``id``, ``country`` and Point ``geometry`` (EPSG:4326).
    countries
        GeoDataFrame with ``country`` and ``geometry``, or ``None``.
    sources
        Ids of sites (e.g. container ports) to measure from.
    circuity
        Road km per geodesic km of a proximity-graph edge.
    road_graph
        As in :func:`build_country_network`.

    Returns
    -------
    numpy.ndarray
        ``(len(sources), len(sites))`` km, in the order of ``sites``; ``inf``
        for a site in another country or in a part of the network the source
        does not reach (0 from a site to itself).

    Raises
    ------
    ValidationError
        For a source that is not a site id.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"id": ["d1"], "country": ["XX"]}, geometry=[Point(0.05, 0)],
    ...                      crs=4326)
    >>> s = gpd.GeoDataFrame({"id": ["p", "w", "v"], "country": ["XX", "XX", "YY"]},
    ...                      geometry=[Point(0, 0), Point(0.1, 0), Point(5, 5)], crs=4326)
    >>> km = site_network_km(d, s, sources=["p"])
    >>> km.round(2).tolist()  # p -> d1 -> w: 2 × 5.57 km geodesic × 1.3; v is abroad
    [[0.0, 14.47, inf]]
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    site_ids = sites["id"].astype(str).to_numpy()
    site_country = sites["country"].astype(str).to_numpy()
    where = {sid: k for k, sid in enumerate(site_ids.tolist())}
    unknown = [s for s in sources if str(s) not in where]
    if unknown:
        raise ValidationError(f"site_network_km: sources {unknown[:5]} are not site ids")
    src_pos = np.array([where[str(s)] for s in sources], dtype=np.int64)
    out = np.full((len(src_pos), len(site_ids)), np.inf)
    graph = read_road_graph(road_graph) if road_graph is not None else None
    for country in sorted(set(site_country[src_pos].tolist())):
        G = build_country_network(demand, sites, countries, country=country, circuity=circuity,
                                  road_graph=graph)
        nodes = list(G.nodes)
        index = {k: i for i, k in enumerate(nodes)}
        a, b, km = [], [], []
        for u, v, length in G.edges(data="length_km"):
            a.append(index[u])
            b.append(index[v])
            km.append(max(float(length), 1e-9))  # scipy drops a stored 0 as no edge
        n = len(nodes)
        A = csr_array((np.asarray(km, dtype=float), (np.asarray(a, dtype=np.int64),
                                                     np.asarray(b, dtype=np.int64))), shape=(n, n))
        rows = np.flatnonzero(site_country[src_pos] == country)
        mine = np.flatnonzero(site_country == country)
        node_of = np.array([index[("site", site_ids[k])] for k in mine], dtype=np.int64)
        dist = dijkstra(A, directed=False, indices=np.array(
            [index[("site", site_ids[src_pos[r]])] for r in rows], dtype=np.int64))
        out[np.ix_(rows, mine)] = np.atleast_2d(dist)[:, node_of]
    return out


__all__ = [
    "CountryPoints",
    "RoadArrays",
    "attach_points",
    "build_country_network",
    "build_network",
    "ferry_travel_time_h",
    "join_networks",
    "link_components",
    "network_from_points",
    "points_from_frames",
    "proximity_edges",
    "read_road_graph",
    "road_mask",
    "road_travel_time_h",
    "site_network_km",
    "unreachable_nodes",
]
