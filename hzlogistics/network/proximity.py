"""The proximity road network of a set of points (no road graph needed).

The edges are those of the Delaunay triangulation of the points in a local
projection, minus every edge that leaves the country; disconnected parts are
joined by ferry links (:func:`~hzlogistics.network.components.link_components`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
from shapely.geometry.base import BaseGeometry

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.network.components import link_components
from hzlogistics.network.geometry import country_area, proximity_edges, segments_inside
from hzlogistics.network.graph import add_edges, add_points, check_circuity
from hzlogistics.network.travel_time import road_travel_time_h
from hzlogistics.projection import geodesic_km, local_crs, project_points


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
    check_circuity(circuity)
    G = nx.Graph(name=name, dropped_edges=0, parts=0, ferry_links=0)
    add_points(G, keys, lon, lat, node_attrs)
    if len(keys) == 0:
        return G
    crs = local_crs(lon, lat)
    G.graph["crs"] = crs.srs
    xy = project_points(lon, lat, crs)
    edges = proximity_edges(xy)
    if polygon is not None and not polygon.is_empty and len(edges):
        area = country_area(polygon, crs, border_buffer_km)
        keep = segments_inside(area, xy, edges)
        G.graph["dropped_edges"] = int((~keep).sum())
        edges = edges[keep]
    length_km = geodesic_km(lon[edges[:, 0]], lat[edges[:, 0]], lon[edges[:, 1]],
                            lat[edges[:, 1]]) * circuity
    add_edges(G, keys, edges, length_km, road_travel_time_h(length_km, bands=bands), "road")
    if link_islands:
        link_components(G, ferry_max_km=ferry_max_km)
    else:
        G.graph["parts"] = nx.number_connected_components(G)
    return G
