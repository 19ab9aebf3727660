"""The coverage of one unit (a country, or a cross-border group), as a picklable task."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import shapely
from scipy.spatial import cKDTree

from hzlogistics import settings
from hzlogistics.coverage.paths import dijkstra_networkx, dijkstra_scipy
from hzlogistics.coverage.result import TINY
from hzlogistics.network import (
    CountryPoints,
    RoadArrays,
    attach_points,
    join_networks,
    link_components,
    network_from_points,
)
from hzlogistics.projection import SPHERE_ERROR, chord_for_km, geodesic_km, unit_vectors

logger = logging.getLogger(__name__)


@dataclass
class CountryTask:
    """Everything one unit's coverage needs, as small picklable pieces.

    Attributes
    ----------
    name
        A country's ISO2 code, or a cross-border group's name.
    points
        Demand points and sites of each country of the unit.
    positions
        For each entry of ``points``: the row (site) or column (demand) of each
        point in the final matrices.
    road
        Road graph nodes and edges inside the unit's countries, or ``None``.
    road_countries
        The countries that have road nodes (the others use the proximity graph).
    mode, engine, cutoff_h, radius_km, circuity
        As in :func:`build_coverage`.
    """

    name: str
    points: tuple[CountryPoints, ...]
    positions: tuple[np.ndarray, ...]
    road: RoadArrays | None = None
    road_countries: tuple[str, ...] = ()
    mode: str = "network"
    engine: str = "scipy"
    cutoff_h: float = settings.SERVICE_LEVELS_H[settings.DEFAULT_SERVICE_LEVEL]
    radius_km: float | None = None
    circuity: float = settings.CIRCUITY

    @property
    def size(self) -> int:
        """Number of points."""
        return sum(len(p.ids) for p in self.points)


@dataclass
class CountryCoverage:
    """The covered pairs of one unit, in final row/column positions.

    Attributes
    ----------
    name
        The unit (country code or cross-border group).
    rows, cols
        int32 site row and demand column of each covered pair, sorted by
        (row, column).
    travel_time_h, distance_km
        Of each pair (at least 1e-9).
    site_pos, demand_pos
        Rows / columns of every site and demand point of the unit.
    site_component, demand_component
        Part of the unit's network each of them lies in (unit-local labels).
    stats
        Figures of the unit (``nodes``, ``edges``, ``nonzeros``, ``seconds``...).
    """

    name: str
    rows: np.ndarray
    cols: np.ndarray
    travel_time_h: np.ndarray
    distance_km: np.ndarray
    site_pos: np.ndarray
    site_component: np.ndarray
    demand_pos: np.ndarray
    demand_component: np.ndarray
    stats: dict[str, Any]


def _unit_network(task: CountryTask) -> nx.Graph:
    """The unit's network: road graph where given, proximity graphs elsewhere, joined."""
    graphs: dict[str, nx.Graph] = {}
    polygons: dict[str, Any] = {}
    on_roads = [p for p in task.points if p.country in task.road_countries]
    if on_roads and task.road is not None:
        name = "+".join(p.country for p in on_roads)
        attrs: dict[str, list[Any]] = {"kind": [], "id": [], "country": []}
        for p in on_roads:
            for a, values in p.node_attrs().items():
                attrs[a].extend(values)
        G = attach_points(
            task.road.to_graph(),
            np.concatenate([p.lon for p in on_roads]),
            np.concatenate([p.lat for p in on_roads]),
            [k for p in on_roads for k in p.keys],
            node_attrs=attrs,
            circuity=task.circuity,
        )
        G.graph.update(name=name, source="roads")
        link_components(G)
        graphs[name] = G
        shapes = [p.polygon for p in on_roads if p.polygon is not None]
        if len(shapes) == len(on_roads):
            polygons[name] = shapely.union_all(shapes)
    for p in task.points:
        if p.country in task.road_countries and task.road is not None:
            continue
        graphs[p.country] = network_from_points(p, circuity=task.circuity)
        if p.polygon is not None:
            polygons[p.country] = p.polygon
    if len(graphs) == 1:
        return next(iter(graphs.values()))
    return join_networks(graphs, polygons or None, circuity=task.circuity)


def build_country_coverage(task: CountryTask) -> CountryCoverage:
    """Coverage of one unit (a country, or a cross-border group of countries).

    Parameters
    ----------
    task
        The unit's points and options (see :class:`CountryTask`).

    Returns
    -------
    CountryCoverage
        Covered pairs in final positions, component labels and statistics
        (``nodes``, ``edges``, ``ferry_links``, ``parts``, ``nonzeros``,
        ``seconds``...).

    Raises
    ------
    ValidationError
        When a network edge has a negative or missing weight.
    """
    t0 = time.perf_counter()
    is_site = np.concatenate([p.is_site for p in task.points])
    pos = np.concatenate(task.positions).astype(np.int64)
    keys = [k for p in task.points for k in p.keys]
    site_pos, demand_pos = pos[is_site], pos[~is_site]
    stats: dict[str, Any] = {
        "countries": " ".join(p.country for p in task.points),
        "sites": int(is_site.sum()),
        "demand": int((~is_site).sum()),
    }
    if task.mode == "geodesic":
        lon = np.concatenate([p.lon for p in task.points])
        lat = np.concatenate([p.lat for p in task.points])
        radius_km = float(task.radius_km or 0.0)
        rows, cols, t, d = _geodesic_pairs(lon[is_site], lat[is_site], lon[~is_site],
                                           lat[~is_site], radius_km, task.circuity)
        site_comp = np.zeros(len(site_pos), dtype=np.int64)
        demand_comp = np.zeros(len(demand_pos), dtype=np.int64)
        stats.update(nodes=len(keys), edges=0)
    else:
        G = _unit_network(task)
        sources = [k for k, s in zip(keys, is_site.tolist(), strict=True) if s]
        targets = [k for k, s in zip(keys, is_site.tolist(), strict=True) if not s]
        run = dijkstra_networkx if task.engine == "networkx" else dijkstra_scipy
        rows, cols, t, d, labels = run(G, sources, targets, task.cutoff_h)
        index = {k: i for i, k in enumerate(G.nodes)}
        site_comp = labels[[index[k] for k in sources]] if sources else np.zeros(0, np.int64)
        demand_comp = labels[[index[k] for k in targets]] if targets else np.zeros(0, np.int64)
        stats.update(
            nodes=G.number_of_nodes(),
            edges=G.number_of_edges(),
            ferry_links=int(G.graph.get("ferry_links", 0)),
            border_links=int(G.graph.get("border_links", 0)),
            parts=int(labels.max() + 1) if len(labels) else 0,
        )
    served = np.isin(demand_comp, site_comp)
    # final positions, sorted by (row, column), zero times and distances lifted to TINY
    rows = site_pos[rows].astype(np.int32)
    cols = demand_pos[cols].astype(np.int32)
    order = np.lexsort((cols, rows))
    stats.update(unreachable=int((~served).sum()), nonzeros=len(rows),
                 seconds=time.perf_counter() - t0)
    logger.debug("%s: %s", task.name, stats)
    return CountryCoverage(
        task.name, rows[order], cols[order], np.maximum(t[order], TINY),
        np.maximum(d[order], TINY), site_pos, np.asarray(site_comp, dtype=np.int64),
        demand_pos, np.asarray(demand_comp, dtype=np.int64), stats,
    )


def _geodesic_pairs(
    slon: np.ndarray, slat: np.ndarray, dlon: np.ndarray, dlat: np.ndarray,
    radius_km: float, circuity: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(site, demand) pairs within ``radius_km`` on the ellipsoid."""
    if len(slon) == 0 or len(dlon) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0), np.zeros(0)
    tree_s = cKDTree(unit_vectors(slon, slat))
    tree_d = cKDTree(unit_vectors(dlon, dlat))
    chord = chord_for_km(radius_km * (1.0 + SPHERE_ERROR))
    cand = tree_s.sparse_distance_matrix(tree_d, chord, output_type="ndarray")
    rows, cols = cand["i"].astype(np.int64), cand["j"].astype(np.int64)
    dist = geodesic_km(slon[rows], slat[rows], dlon[cols], dlat[cols])
    keep = dist <= radius_km
    rows, cols, dist = rows[keep], cols[keep], dist[keep]
    return rows, cols, dist * circuity / settings.GEODESIC_SPEED_KPH, dist
