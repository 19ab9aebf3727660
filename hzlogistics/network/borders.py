"""Cross-border networks: neighbouring countries joined at their borders by road or ferry."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.network.geometry import country_area, segments_inside
from hzlogistics.network.graph import node_arrays
from hzlogistics.network.travel_time import ferry_travel_time_h, road_travel_time_h
from hzlogistics.projection import (
    geodesic_km,
    local_crs,
    project_geometry,
    project_points,
    unit_vectors,
)


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
    >>> from hzlogistics.network import build_network
    >>> a = build_network(np.array([0.0, 1.0]), np.array([0.0, 0.0]), ["a1", "a2"])
    >>> b = build_network(np.array([1.3, 2.3]), np.array([0.0, 0.0]), ["b1", "b2"])
    >>> G = join_networks({"A": a, "B": b})
    >>> [e for e in G.edges if G.edges[e].get("cross_border")]
    [('a2', 'b1')]
    """
    G, coords = _union(graphs)
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
                areas[c] = country_area(polygons[c], crs, border_buffer_km)
    trees = {c: cKDTree(unit_vectors(coords[c][1], coords[c][2])) for c in names}
    links = ferries = 0
    for ia, a in enumerate(names):
        for b in names[ia + 1:]:
            have_polys = a in raw and b in raw
            if have_polys and shapely.distance(raw[a], raw[b]) > link_max_km * 1_000.0:
                continue
            cand = _nearest_pairs(trees, coords, a, b)
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
                on_land = segments_inside(both, xy, np.column_stack([np.arange(n),
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


#: A network's node keys, longitudes and latitudes.
NodeArrays = tuple[list[Hashable], np.ndarray, np.ndarray]


def _union(graphs: Mapping[str, nx.Graph]) -> tuple[nx.Graph, dict[str, NodeArrays]]:
    """The networks in one graph, their figures added up, and each non-empty one's nodes."""
    G = nx.Graph()
    seen: dict[Hashable, str] = {}
    coords: dict[str, NodeArrays] = {}
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
            coords[country] = node_arrays(g)
    for attr in ("dropped_edges", "parts", "ferry_links"):
        G.graph[attr] = sum(int(g.graph.get(attr, 0)) for g in graphs.values())
    G.graph["border_links"] = 0
    return G, coords


def _nearest_pairs(trees: dict[str, cKDTree], coords: dict[str, NodeArrays], a: str,
                   b: str) -> np.ndarray:
    """Each node of ``a`` with the nearest node of ``b`` and the other way round.

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` unique pairs (position in ``a``, position in ``b``).
    """
    pairs = []
    for p, q in ((a, b), (b, a)):
        _, near = trees[q].query(unit_vectors(coords[p][1], coords[p][2]))
        idx = np.column_stack([np.arange(len(near)), near])
        pairs.append(idx if p == a else idx[:, ::-1])
    return np.unique(np.concatenate(pairs), axis=0)
