"""The coverage entry point: every unit of the countries built, then assembled into one result."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics.coverage.checks import PointTable, check_inputs
from hzlogistics.coverage.result import Coverage
from hzlogistics.coverage.unit import CountryCoverage, CountryTask, build_country_coverage
from hzlogistics.network import CountryPoints, RoadArrays, read_road_graph, road_mask

logger = logging.getLogger(__name__)


def _units(codes: Iterable[str], cross_border: Sequence[str]) -> dict[str, list[str]]:
    """Countries grouped into independent units (name → members)."""
    codes = sorted(set(codes))
    parent = {c: c for c in codes}
    names = {c: c for c in codes}

    def root(c: str) -> str:
        while parent[c] != c:
            c = parent[c]
        return c

    for group in cross_border:
        members = [c for c in settings.CROSS_BORDER_GROUPS[group] if c in parent]
        for c in members[1:]:
            ra, rb = root(members[0]), root(c)
            if ra != rb:
                parent[rb] = ra
        if len(members) > 1:
            r = root(members[0])
            names[r] = group if names[r] in members else f"{names[r]}+{group}"
    units: dict[str, list[str]] = {}
    for c in codes:
        units.setdefault(names[root(c)], []).append(c)
    return units


def _assemble(
    n_sites: int, n_demand: int, counts: np.ndarray, parts: list[CountryCoverage]
) -> list[sp.csr_matrix]:
    """CSR matrices from the units' sorted pairs, each unit's arrays freed once copied.

    Every site belongs to one unit, so a row's entries come from one unit, in
    column order already: each unit's entries are copied straight into place.
    """
    nnz = int(counts.sum())
    idx = np.int32 if max(nnz, n_demand) < 2**31 else np.int64
    indptr = np.zeros(n_sites + 1, dtype=idx)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(nnz, dtype=idx)
    time_h = np.empty(nnz)
    dist_km = np.empty(nnz)
    while parts:
        res = parts.pop()
        if len(res.rows) == 0:
            continue
        first = np.searchsorted(res.rows, res.rows)  # first entry of each row in this unit
        dest = indptr[res.rows].astype(np.int64) + (np.arange(len(res.rows)) - first)
        indices[dest] = res.cols
        time_h[dest] = res.travel_time_h
        dist_km[dest] = res.distance_km
        del res, first, dest
    shape = (n_sites, n_demand)
    out = [sp.csr_matrix((np.ones(nnz, dtype=bool), indices, indptr), shape=shape),
           sp.csr_matrix((time_h, indices.copy(), indptr.copy()), shape=shape),
           sp.csr_matrix((dist_km, indices.copy(), indptr.copy()), shape=shape)]
    for m in out:
        m.has_sorted_indices = True
    return out


def build_coverage(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    countries: gpd.GeoDataFrame | None = None,
    *,
    service_level: str = settings.DEFAULT_SERVICE_LEVEL,
    cutoff_h: float | None = None,
    mode: str = "network",
    radius_km: float | None = None,
    circuity: float = settings.CIRCUITY,
    cross_border: Sequence[str] = (),
    road_graph: str | os.PathLike[str] | nx.Graph | None = None,
    engine: str = "scipy",
    progress: bool = False,
    map_fn: Callable[..., Iterable[CountryCoverage]] = map,
) -> Coverage:
    """Which demand points each candidate site reaches within a service level.

    Parameters
    ----------
    demand
        GeoDataFrame: ``id``, ``country`` (ISO2), Point ``geometry`` (EPSG:4326).
    sites
        GeoDataFrame: ``id``, ``country``, Point ``geometry``.
    countries
        GeoDataFrame: ``country``, polygon ``geometry``. Network edges that leave
        a country are dropped (islands then get ferry links). Without it every
        proximity edge counts as road.
    service_level
        ``"same-day"``, ``"next-day"`` or ``"two-day"``
        (:data:`~hzlogistics.settings.SERVICE_LEVELS_H`).
    cutoff_h
        Travel-time cutoff overriding the service level, hours.
    mode
        ``"network"`` (Dijkstra on the delivery network) or ``"geodesic"``
        (everything within ``radius_km`` on the ellipsoid).
    radius_km
        Geodesic radius; default ``cutoff_h × GEODESIC_SPEED_KPH / circuity``.
    circuity
        Road km per geodesic km.
    cross_border
        Names of :data:`~hzlogistics.settings.CROSS_BORDER_GROUPS` inside which
        a site may serve demand across borders (default: none).
    road_graph
        GraphML / OSM XML path, or a networkx graph, used instead of the
        proximity graph in the countries where it has nodes (see
        :func:`hzlogistics.network.read_road_graph`); ignored in geodesic mode.
    engine
        ``"scipy"`` (``scipy.sparse.csgraph.dijkstra`` with a limit) or
        ``"networkx"`` (``networkx.single_source_dijkstra`` with a cutoff).
    progress
        Show a progress bar over the units.
    map_fn
        ``map``-like callable applied as ``map_fn(build_country_coverage, tasks)``;
        for Dask: ``lambda f, xs: client.gather(client.map(f, list(xs)))``.

    Returns
    -------
    Coverage

    Raises
    ------
    ValidationError
        Bad frames (missing columns, non-point geometry, duplicate ids), a site
        or demand point whose country is not among ``countries``, an unknown
        service level, mode, engine or cross-border group, a cutoff or radius
        ≤ 0, a circuity below 1, a road graph that does not parse or has
        negative or missing weights. All problems are reported at once.
    MissingDependencyError
        An OSM XML road graph without osmnx.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> demand = gpd.GeoDataFrame({"id": ["a", "b"], "country": ["XX", "XX"]},
    ...                           geometry=[Point(0.0, 0.0), Point(3.0, 0.0)], crs=4326)
    >>> sites = gpd.GeoDataFrame({"id": ["s"], "country": ["XX"]},
    ...                          geometry=[Point(0.5, 0.0)], crs=4326)
    >>> cov = build_coverage(demand, sites, service_level="same-day")
    >>> cov.cover.toarray().tolist()
    [[True, False]]
    >>> round(float(cov.distance_km[0, 0]), 1)  # 55.7 km geodesic × 1.3
    72.4
    """
    if isinstance(cross_border, str):
        cross_border = (cross_border,)
    cutoff, d, s, polygons = check_inputs(
        demand, sites, countries, service_level=service_level, cutoff_h=cutoff_h, mode=mode,
        engine=engine, radius_km=radius_km, circuity=circuity, cross_border=cross_border)
    if mode == "geodesic" and radius_km is None:
        radius_km = cutoff * settings.GEODESIC_SPEED_KPH / circuity
    road = None
    if road_graph is not None and mode == "network":
        road = RoadArrays.from_graph(read_road_graph(road_graph))

    t0 = time.perf_counter()
    tasks = _unit_tasks(d, s, polygons, cross_border, road, mode=mode, engine=engine,
                        cutoff_h=cutoff, radius_km=radius_km, circuity=float(circuity))
    results: Iterable[CountryCoverage] = map_fn(build_country_coverage, tasks)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(tasks), desc="coverage", unit="country")
    (cover, tt, dd), site_comp, demand_comp, stats = _gather(results, len(s["ids"]),
                                                             len(d["ids"]))
    unreachable = d["ids"][~np.isin(demand_comp, site_comp)]
    logger.info(
        "coverage (%s, %s, cutoff %.1f h): %d sites × %d demand, %d pairs, %d unreachable, "
        "%.1f s", mode, service_level, cutoff, len(s["ids"]), len(d["ids"]), cover.nnz,
        len(unreachable), time.perf_counter() - t0,
    )
    return Coverage(
        site_ids=s["ids"], demand_ids=d["ids"], cover=cover, travel_time_h=tt,
        distance_km=dd, mode=mode, service_level=service_level if cutoff_h is None else None,
        cutoff_h=cutoff, radius_km=radius_km if mode == "geodesic" else None,
        unreachable=unreachable, stats=stats, site_component=site_comp,
        demand_component=demand_comp,
    )


def _country_points(
    code: str, d: PointTable, s: PointTable, by_country: dict[str, dict[Any, np.ndarray]],
    polygons: dict[str, Any] | None,
) -> tuple[CountryPoints, np.ndarray]:
    """One country's sites then demand points, and their rows / columns in the matrices."""
    si = np.asarray(by_country["sites"].get(code, []), dtype=np.int64)
    di = np.asarray(by_country["demand"].get(code, []), dtype=np.int64)
    points = CountryPoints(
        code,
        np.concatenate([s["ids"][si], d["ids"][di]]).astype(object),
        np.concatenate([np.ones(len(si), bool), np.zeros(len(di), bool)]),
        np.concatenate([s["lon"][si], d["lon"][di]]),
        np.concatenate([s["lat"][si], d["lat"][di]]),
        None if polygons is None else polygons.get(code),
    )
    return points, np.concatenate([si, di])


def _unit_tasks(
    d: PointTable, s: PointTable, polygons: dict[str, Any] | None, cross_border: Sequence[str],
    road: RoadArrays | None, *, mode: str, engine: str, cutoff_h: float,
    radius_km: float | None, circuity: float,
) -> list[CountryTask]:
    """One task per unit, biggest first (that balances parallel workers).

    A road node belongs to one country: the first, in unit order, whose area holds it.
    """
    taken = None if road is None else np.zeros(road.n_nodes, dtype=bool)
    codes = set(d["country"].tolist()) | set(s["country"].tolist())
    by_country = {
        label: pd.Series(np.arange(len(t["ids"]))).groupby(t["country"]).indices
        for label, t in (("demand", d), ("sites", s))
    }
    tasks = []
    for name, members in _units(codes, list(cross_border)).items():
        pts, poss = [], []
        unit_road = None if road is None else np.zeros(road.n_nodes, dtype=bool)
        road_countries = []
        for c in members:
            p, positions = _country_points(c, d, s, by_country, polygons)
            pts.append(p)
            poss.append(positions)
            if road is not None and unit_road is not None and taken is not None:
                mine = road_mask(road, p) & ~taken
                if mine.sum() >= 2 and len(p.ids):
                    taken |= mine
                    unit_road |= mine
                    road_countries.append(c)
        tasks.append(CountryTask(
            name, tuple(pts), tuple(poss),
            road=(None if road is None or unit_road is None or not road_countries
                  else road.subset(unit_road)),
            road_countries=tuple(road_countries), mode=mode, engine=engine, cutoff_h=cutoff_h,
            radius_km=radius_km, circuity=circuity,
        ))
    tasks.sort(key=lambda tk: -tk.size)
    return tasks


def _gather(
    results: Iterable[CountryCoverage], n_sites: int, n_demand: int
) -> tuple[list[sp.csr_matrix], np.ndarray, np.ndarray, dict[str, dict[str, Any]]]:
    """The units' results as the three matrices, global component labels and statistics."""
    site_comp = np.full(n_sites, -1, dtype=np.int64)
    demand_comp = np.full(n_demand, -1, dtype=np.int64)
    parts: list[CountryCoverage] = []
    stats: dict[str, dict[str, Any]] = {}
    offset = 0
    counts = np.zeros(n_sites, dtype=np.int64)
    for res in results:
        parts.append(res)
        counts += np.bincount(res.rows, minlength=n_sites)
        site_comp[res.site_pos] = res.site_component + offset
        demand_comp[res.demand_pos] = res.demand_component + offset
        top = max(res.site_component.max(initial=-1), res.demand_component.max(initial=-1))
        offset += int(top) + 1
        stats[res.name] = res.stats
    return _assemble(n_sites, n_demand, counts, parts), site_comp, demand_comp, stats
