"""Road graphs supplied by the planner: reading and validating them, snapping points to them."""

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
from scipy.spatial import cKDTree

from hzlogistics import settings
from hzlogistics._errors import MissingDependencyError, ValidationError
from hzlogistics.network.graph import add_edges, add_points, check_circuity, node_arrays
from hzlogistics.network.travel_time import road_travel_time_h
from hzlogistics.projection import geodesic_km, unit_vectors

logger = logging.getLogger(__name__)


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
        nodes, lon, lat = node_arrays(G)
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
        add_points(G, keys, self.lon, self.lat, {"kind": ["road"] * len(keys)})
        add_edges(G, keys, np.column_stack([self.u, self.v]), self.length_km,
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
    check_circuity(circuity)
    G = G_road.copy()
    keys = list(keys)
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    add_points(G, keys, lon, lat, node_attrs)
    if not keys:
        return G
    road, rlon, rlat = node_arrays(G_road)
    _, nearest = cKDTree(unit_vectors(rlon, rlat)).query(unit_vectors(lon, lat))
    length = geodesic_km(lon, lat, rlon[nearest], rlat[nearest]) * circuity
    edges = np.column_stack([np.arange(len(keys)), len(keys) + nearest])
    add_edges(G, keys + road, edges, length, road_travel_time_h(length, bands=bands), "road",
              access=True)
    return G
