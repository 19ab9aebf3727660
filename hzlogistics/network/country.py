"""The delivery network of one country: its points, its road nodes, its graph."""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from hzlogistics import settings
from hzlogistics.network.components import link_components
from hzlogistics.network.geometry import country_area
from hzlogistics.network.proximity import build_network
from hzlogistics.network.roads import RoadArrays, attach_points, read_road_graph
from hzlogistics.projection import local_crs, project_points


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
        area = country_area(points.polygon, crs, border_buffer_km)
        xy = project_points(road.lon, road.lat, crs)
        return shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    pad = border_buffer_km / 111.0
    return (
        (road.lon >= points.lon.min() - pad) & (road.lon <= points.lon.max() + pad)
        & (road.lat >= points.lat.min() - pad) & (road.lat <= points.lat.max() + pad)
    )
