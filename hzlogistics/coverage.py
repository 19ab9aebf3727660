"""Coverage: which demand points each candidate site reaches within a service level.

:func:`build_coverage` builds, country by country, the delivery network of
:mod:`hzlogistics.network` and runs a Dijkstra search with a cutoff from every
candidate site (``mode="network"``), or takes every demand point within a
geodesic radius (``mode="geodesic"``). The result is a :class:`Coverage`: the
sparse ``(n_sites, n_demand)`` matrices the optimization models need, plus
the ids, the demand no site can reach at all and per-country statistics.

Countries are independent unless cross-border delivery is allowed inside a
group of :data:`~hzlogistics.settings.CROSS_BORDER_GROUPS`; then the group's
countries form one unit whose networks are joined at the borders. Each unit
is one call of :func:`build_country_coverage` on a small picklable
:class:`CountryTask`, mapped with ``map_fn`` (the built-in ``map`` or, for
example, a Dask client's ``map`` followed by ``gather``).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.network import (
    CountryPoints,
    RoadArrays,
    attach_points,
    join_networks,
    link_components,
    network_from_points,
    read_road_graph,
    road_mask,
)
from hzlogistics.projection import (
    SPHERE_ERROR,
    chord_for_km,
    from_local,
    geodesic_km,
    local_crs,
    project_points,
    unit_vectors,
)

logger = logging.getLogger(__name__)

#: Travel times within this of the cutoff count as within it, hours.
_CUTOFF_TOL_H = 1e-9

#: Smallest stored travel time / distance, so that a site at the same place as
#: a demand point keeps a non-zero entry through sparse arithmetic.
_TINY = 1e-9

#: Upper bound on the number of cells of one block of Dijkstra rows.
_BLOCK_CELLS = 4_000_000

#: At most this many problems are spelled out in one error message.
_MAX_PROBLEMS = 20

MODES = ("network", "geodesic")
ENGINES = ("scipy", "networkx")


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


@dataclass
class Coverage:
    """Which demand points each candidate site reaches, as sparse matrices.

    Attributes
    ----------
    site_ids, demand_ids
        Ids, in the order of the input frames (rows and columns of the matrices).
    cover
        ``(n_sites, n_demand)`` CSR bool: a stored ``True`` means the site
        reaches the demand point within the cutoff.
    travel_time_h
        CSR float with exactly the pattern of ``cover``: travel time of each
        covered pair, hours. Pairs at the same place hold ``1e-9`` rather than
        0, so that sparse arithmetic cannot drop them. NaN where unknown (a CSV
        without travel times).
    distance_km
        CSR float, same pattern: road km along the fastest path (network mode),
        geodesic km (geodesic mode), or the file's values (CSV; NaN if absent).
    mode
        ``"network"``, ``"geodesic"`` or ``"csv"``.
    service_level
        Name of the service level, or ``None``.
    cutoff_h
        Travel-time cutoff, hours (``None`` for a CSV).
    radius_km
        Geodesic radius (geodesic mode only).
    unreachable
        Ids of the demand points no site can reach at all, at any travel time
        (no site in their part of the network, or in their country).
    stats
        Per unit (a country, or a cross-border group): ``nodes``, ``edges``,
        ``nonzeros``, ``seconds`` and more.
    site_component, demand_component
        Part of the network each site / demand point lies in (global labels);
        used by :meth:`subset` to tell what stays reachable. ``None`` for a CSV.
    """

    site_ids: np.ndarray
    demand_ids: np.ndarray
    cover: sp.csr_matrix
    travel_time_h: sp.csr_matrix
    distance_km: sp.csr_matrix
    mode: str
    service_level: str | None
    cutoff_h: float | None
    radius_km: float | None
    unreachable: np.ndarray
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    site_component: np.ndarray | None = None
    demand_component: np.ndarray | None = None

    def __post_init__(self) -> None:
        shape = (len(self.site_ids), len(self.demand_ids))
        problems = []
        for name in ("cover", "travel_time_h", "distance_km"):
            m = getattr(self, name)
            if m.shape != shape:
                problems.append(f"Coverage.{name}: shape {m.shape}, expected {shape}")
            elif name != "cover" and not (
                np.array_equal(m.indptr, self.cover.indptr)
                and np.array_equal(m.indices, self.cover.indices)
            ):
                problems.append(f"Coverage.{name}: pattern differs from Coverage.cover")
        if problems:
            raise ValidationError(problems)

    @property
    def n_sites(self) -> int:
        """Number of candidate sites (rows)."""
        return len(self.site_ids)

    @property
    def n_demand(self) -> int:
        """Number of demand points (columns)."""
        return len(self.demand_ids)

    @property
    def nnz(self) -> int:
        """Number of covered pairs."""
        return int(self.cover.nnz)

    def _pairs(self, site_mask: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        rows = np.repeat(np.arange(self.n_sites), np.diff(self.cover.indptr))
        cols = self.cover.indices
        t, d = self.travel_time_h.data, self.distance_km.data
        if site_mask is not None:
            keep = _as_mask(site_mask, self.n_sites)[rows]
            rows, cols, t, d = rows[keep], cols[keep], t[keep], d[keep]
        return rows, cols, t, d

    def stats_frame(self) -> pd.DataFrame:
        """The per-unit statistics as a DataFrame (one row per unit)."""
        return pd.DataFrame.from_dict(self.stats, orient="index")

    def to_graph(self) -> nx.Graph:
        """Bipartite graph site → demand of the covered pairs.

        Returns
        -------
        networkx.Graph
            Nodes ``("site", id)`` (``bipartite=0``) and ``("demand", id)``
            (``bipartite=1``); edges with ``travel_time_h`` and ``distance_km``.

        Examples
        --------
        >>> cov = coverage_from_pairs(["s"], ["a", "b"], [0], [1], travel_time_h=[0.5])
        >>> list(cov.to_graph().edges(data="travel_time_h"))
        [(('site', 's'), ('demand', 'b'), 0.5)]
        """
        B = nx.Graph()
        B.add_nodes_from((("site", s) for s in self.site_ids.tolist()), bipartite=0)
        B.add_nodes_from((("demand", d) for d in self.demand_ids.tolist()), bipartite=1)
        rows, cols, t, d = self._pairs()
        sid, did = self.site_ids, self.demand_ids
        B.add_edges_from(
            (("site", sid[r]), ("demand", did[c]), {"travel_time_h": tt, "distance_km": dd})
            for r, c, tt, dd in zip(rows.tolist(), cols.tolist(), t.tolist(), d.tolist(),
                                    strict=True)
        )
        return B

    def subset(self, site_mask: np.ndarray | Sequence[int]) -> Coverage:
        """The coverage of some of the sites only.

        Parameters
        ----------
        site_mask
            ``(n_sites,)`` bool, or integer positions of the sites to keep.

        Returns
        -------
        Coverage
            Same demand columns; ``unreachable`` recomputed for the kept sites.

        Examples
        --------
        >>> cov = coverage_from_pairs(["s", "t"], ["a", "b"], [0, 1], [0, 1])
        >>> sub = cov.subset(np.array([True, False]))
        >>> sub.site_ids.tolist(), sub.unreachable.tolist()
        (['s'], ['b'])
        """
        mask = _as_mask(site_mask, self.n_sites)
        idx = np.flatnonzero(mask)
        cover = self.cover[idx]
        if self.site_component is not None and self.demand_component is not None:
            reach = np.isin(self.demand_component, self.site_component[idx])
        else:
            reach = np.asarray(cover.sum(axis=0)).ravel() > 0
        return Coverage(
            site_ids=self.site_ids[idx],
            demand_ids=self.demand_ids,
            cover=cover,
            travel_time_h=self.travel_time_h[idx],
            distance_km=self.distance_km[idx],
            mode=self.mode,
            service_level=self.service_level,
            cutoff_h=self.cutoff_h,
            radius_km=self.radius_km,
            unreachable=self.demand_ids[~reach],
            stats=dict(self.stats),
            site_component=None if self.site_component is None else self.site_component[idx],
            demand_component=self.demand_component,
        )

    def _coords(
        self, sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Longitudes and latitudes of the sites, then of the demand points, in this order."""
        slon, slat = _coords_by_id(sites, self.site_ids, "sites")
        dlon, dlat = _coords_by_id(demand, self.demand_ids, "demand")
        return slon, slat, dlon, dlat

    def edges_frame(
        self,
        demand: gpd.GeoDataFrame,
        sites: gpd.GeoDataFrame,
        *,
        site_mask: np.ndarray | None = None,
    ) -> gpd.GeoDataFrame:
        """The covered pairs as straight lines (for maps and checks).

        Parameters
        ----------
        demand, sites
            The frames the coverage was built from (``id`` and Point geometry).
        site_mask
            Only the pairs of these sites.

        Returns
        -------
        geopandas.GeoDataFrame
            ``site_id``, ``demand_id``, ``travel_time_h``, ``distance_km`` and a
            LineString site → demand, EPSG:4326.

        Raises
        ------
        ValidationError
            When an id of the coverage is not in the frames.
        """
        slon, slat, dlon, dlat = self._coords(sites, demand)
        rows, cols, t, d = self._pairs(site_mask)
        coords = np.stack(
            [np.column_stack([slon[rows], slat[rows]]), np.column_stack([dlon[cols], dlat[cols]])],
            axis=1,
        )
        lines = shapely.linestrings(coords) if len(rows) else np.array([], dtype=object)
        return gpd.GeoDataFrame(
            {
                "site_id": self.site_ids[rows],
                "demand_id": self.demand_ids[cols],
                "travel_time_h": t,
                "distance_km": d,
            },
            geometry=gpd.GeoSeries(lines, crs="EPSG:4326"),
            crs="EPSG:4326",
        )

    def service_areas(
        self,
        sites: gpd.GeoDataFrame,
        demand: gpd.GeoDataFrame,
        *,
        site_mask: np.ndarray | None = None,
        buffer_km: float = settings.SERVICE_AREA_BUFFER_KM,
    ) -> gpd.GeoDataFrame:
        """One polygon per site: the hull of the site and what it covers, buffered.

        Parameters
        ----------
        sites, demand
            The frames the coverage was built from. A ``weight`` column of
            ``demand`` is summed per site; a ``country`` column of ``sites``
            picks the local projection.
        site_mask
            Only these sites (default: all).
        buffer_km
            Buffer around the hull, km (a site covering nothing gets a disc).

        Returns
        -------
        geopandas.GeoDataFrame
            ``site_id``, ``n_demand``, ``weight`` (if known),
            ``max_travel_time_h`` and the polygon, EPSG:4326.

        Raises
        ------
        ValidationError
            When an id of the coverage is not in the frames.
        """
        slon, slat, dlon, dlat = self._coords(sites, demand)
        keep = np.ones(self.n_sites, dtype=bool) if site_mask is None else _as_mask(
            site_mask, self.n_sites)
        sel = np.flatnonzero(keep)
        rows, cols, t, _ = self._pairs(keep)
        n_cov = np.bincount(rows, minlength=self.n_sites)[sel]
        max_t = np.zeros(self.n_sites)
        np.maximum.at(max_t, rows, t)
        out: dict[str, Any] = {"site_id": self.site_ids[sel], "n_demand": n_cov}
        if "weight" in demand.columns:
            w = _column_by_id(demand, self.demand_ids, "weight").astype(float)
            out["weight"] = np.bincount(rows, weights=w[cols], minlength=self.n_sites)[sel]
        out["max_travel_time_h"] = max_t[sel]
        polygons = np.empty(self.n_sites, dtype=object)
        if "country" in sites.columns:
            group = _column_by_id(sites, self.site_ids, "country").astype(str)
        else:
            group = np.full(self.n_sites, "")
        for g in np.unique(group[sel]):
            gsites = sel[group[sel] == g]
            crs = local_crs(slon[gsites], slat[gsites])
            in_group = np.isin(rows, gsites)
            owner = np.concatenate([gsites, rows[in_group]])
            lon = np.concatenate([slon[gsites], dlon[cols[in_group]]])
            lat = np.concatenate([slat[gsites], dlat[cols[in_group]]])
            order = np.argsort(owner, kind="stable")
            xy = project_points(lon[order], lat[order], crs)
            _, owner_idx = np.unique(owner[order], return_inverse=True)
            hulls = shapely.convex_hull(shapely.multipoints(xy, indices=owner_idx))
            areas = shapely.buffer(hulls, buffer_km * 1_000.0, quad_segs=8)
            back = from_local(crs)
            polygons[np.unique(owner)] = shapely.transform(
                areas, lambda c, back=back: np.column_stack(back.transform(c[:, 0], c[:, 1]))
            )
        return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(polygons[sel], crs="EPSG:4326"),
                                crs="EPSG:4326")


def _as_mask(site_mask: np.ndarray | Sequence[int], n: int) -> np.ndarray:
    arr = np.asarray(site_mask)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValidationError(f"site_mask: shape {arr.shape}, expected ({n},) booleans")
        return arr
    if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < -n or arr.max() >= n):
        raise ValidationError(f"site_mask: expected booleans or site positions in [0, {n})")
    mask = np.zeros(n, dtype=bool)
    mask[arr.astype(np.int64)] = True
    return mask


def _index_by_id(frame: gpd.GeoDataFrame, ids: np.ndarray, label: str) -> np.ndarray:
    where = pd.Index(frame["id"].astype(str)).get_indexer(ids.astype(str))
    if (where < 0).any():
        missing = ids[where < 0][:5].tolist()
        raise ValidationError(
            f"{label}: ids {missing} of the coverage are not in the frame's 'id' column; "
            "pass the frames the coverage was built from"
        )
    return where


def _coords_by_id(frame: gpd.GeoDataFrame, ids: np.ndarray,
                  label: str) -> tuple[np.ndarray, np.ndarray]:
    where = _index_by_id(frame, ids, label)
    geom = frame.geometry.to_crs(4326).values if frame.crs is not None else frame.geometry.values
    return shapely.get_x(geom)[where], shapely.get_y(geom)[where]


def _column_by_id(frame: gpd.GeoDataFrame, ids: np.ndarray, column: str) -> np.ndarray:
    return frame[column].to_numpy()[_index_by_id(frame, ids, column)]


def _csr(n_rows: int, n_cols: int, rows: np.ndarray, cols: np.ndarray,
         *data: np.ndarray) -> list[sp.csr_matrix]:
    """CSR matrices sharing one pattern (no duplicate pairs expected)."""
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    indices = cols.astype(np.int32 if n_cols < 2**31 else np.int64)
    out = [sp.csr_matrix((np.ones(len(rows), dtype=bool), indices, indptr),
                         shape=(n_rows, n_cols))]
    for values in data:
        out.append(sp.csr_matrix((np.asarray(values, dtype=float)[order], indices.copy(),
                                  indptr.copy()), shape=(n_rows, n_cols)))
    for m in out:
        m.has_sorted_indices = True
    return out


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


def coverage_from_pairs(
    site_ids: Sequence[Hashable] | np.ndarray,
    demand_ids: Sequence[Hashable] | np.ndarray,
    site_pos: Sequence[int] | np.ndarray,
    demand_pos: Sequence[int] | np.ndarray,
    *,
    travel_time_h: Sequence[float] | np.ndarray | None = None,
    distance_km: Sequence[float] | np.ndarray | None = None,
    mode: str = "csv",
    service_level: str | None = None,
    cutoff_h: float | None = None,
    radius_km: float | None = None,
) -> Coverage:
    """A :class:`Coverage` from a list of covered pairs (positions, not ids).

    Repeated pairs are merged (the shortest travel time wins). Demand points in
    no pair are ``unreachable``.

    Raises
    ------
    ValidationError
        When positions are out of range or their lengths differ.

    Examples
    --------
    >>> cov = coverage_from_pairs(["s"], ["a", "b"], [0, 0], [1, 1], travel_time_h=[2.0, 1.0])
    >>> cov.cover.toarray().tolist(), cov.travel_time_h.data.tolist(), cov.unreachable.tolist()
    ([[False, True]], [1.0], ['a'])
    """
    sids = np.asarray(site_ids, dtype=object)
    dids = np.asarray(demand_ids, dtype=object)
    rows = np.asarray(site_pos, dtype=np.int64)
    cols = np.asarray(demand_pos, dtype=np.int64)
    if len(rows) != len(cols):
        raise ValidationError(f"coverage_from_pairs: {len(rows)} site positions but "
                              f"{len(cols)} demand positions")
    if len(rows) and (rows.min() < 0 or rows.max() >= len(sids) or cols.min() < 0
                      or cols.max() >= len(dids)):
        raise ValidationError("coverage_from_pairs: a position is outside the site or demand "
                              f"ids ({len(sids)} sites, {len(dids)} demand points)")
    t = (np.full(len(rows), np.nan) if travel_time_h is None
         else np.asarray(travel_time_h, dtype=float))
    d = (np.full(len(rows), np.nan) if distance_km is None
         else np.asarray(distance_km, dtype=float))
    if len(rows):
        order = np.lexsort((np.nan_to_num(t, nan=np.inf), cols, rows))
        rows, cols, t, d = rows[order], cols[order], t[order], d[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, t, d = rows[first], cols[first], t[first], d[first]
    t = np.where(np.isnan(t), t, np.maximum(t, _TINY))
    d = np.where(np.isnan(d), d, np.maximum(d, _TINY))
    cover, tt, dd = _csr(len(sids), len(dids), rows, cols, t, d)
    reached = np.zeros(len(dids), dtype=bool)
    reached[cols] = True
    return Coverage(sids, dids, cover, tt, dd, mode, service_level, cutoff_h, radius_km,
                    dids[~reached])


# --------------------------------------------------------------------------------------------
# One unit (a country, or a cross-border group)
# --------------------------------------------------------------------------------------------


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
            for e in bad[:_MAX_PROBLEMS].tolist()
        )
        if len(bad) > _MAX_PROBLEMS:
            problems.append(f"... and {len(bad) - _MAX_PROBLEMS} more edges without {name}")
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


def _dijkstra_scipy(
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


def _dijkstra_networkx(
    G: nx.Graph, sources: Sequence[Hashable], targets: Sequence[Hashable], cutoff_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
        run = _dijkstra_networkx if task.engine == "networkx" else _dijkstra_scipy
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
    # final positions, sorted by (row, column), zero times and distances lifted to _TINY
    rows = site_pos[rows].astype(np.int32)
    cols = demand_pos[cols].astype(np.int32)
    order = np.lexsort((cols, rows))
    stats.update(unreachable=int((~served).sum()), nonzeros=len(rows),
                 seconds=time.perf_counter() - t0)
    logger.debug("%s: %s", task.name, stats)
    return CountryCoverage(
        task.name, rows[order], cols[order], np.maximum(t[order], _TINY),
        np.maximum(d[order], _TINY), site_pos, np.asarray(site_comp, dtype=np.int64),
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


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= _MAX_PROBLEMS:
        return problems
    return problems[:_MAX_PROBLEMS] + [f"... and {len(problems) - _MAX_PROBLEMS} more"]


def _point_table(frame: Any, label: str, problems: list[str]) -> dict[str, np.ndarray] | None:
    """ids, countries and coordinates of a demand or sites frame (problems collected)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        problems.append(f"{label}: expected a GeoDataFrame with id, country and Point geometry, "
                        f"got {type(frame).__name__}")
        return None
    missing = [c for c in ("id", "country") if c not in frame.columns]
    if missing:
        problems.append(f"{label}: missing column(s) {missing}; columns are {list(frame.columns)}")
        return None
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs(4326)
    geom = frame.geometry.values
    ids = frame["id"].astype(str).to_numpy(dtype=object)
    country = frame["country"]
    bad_country = country.isna().to_numpy() | (country.astype(str).str.strip() == "").to_numpy()
    country = country.astype(str).to_numpy(dtype=object)
    is_point = (shapely.get_type_id(geom) == 0) & ~shapely.is_empty(geom)
    lon = np.where(is_point, shapely.get_x(geom), np.nan)
    lat = np.where(is_point, shapely.get_y(geom), np.nan)
    row_problems = []
    for i in np.flatnonzero(bad_country):
        row_problems.append(f"{label} row {i} (id {ids[i]!r}): country is empty; give an ISO2 code")
    for i in np.flatnonzero(~is_point):
        row_problems.append(f"{label} row {i} (id {ids[i]!r}): geometry is not a Point")
    bad_xy = is_point & ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    for i in np.flatnonzero(bad_xy):
        row_problems.append(
            f"{label} row {i} (id {ids[i]!r}): ({lon[i]}, {lat[i]}) is not a longitude/latitude"
        )
    dup = pd.Series(ids).duplicated(keep="first").to_numpy()
    for i in np.flatnonzero(dup):
        row_problems.append(f"{label} row {i}: id {ids[i]!r} is used by an earlier row; ids "
                            "must be unique")
    problems.extend(_capped(row_problems))
    return {"ids": ids, "country": country, "lon": lon, "lat": lat}


def _country_polygons(countries: Any, problems: list[str]) -> dict[str, Any] | None:
    if countries is None:
        return None
    if not isinstance(countries, gpd.GeoDataFrame) or "country" not in countries.columns:
        problems.append("countries: expected a GeoDataFrame with columns country and geometry")
        return None
    if countries.crs is not None and not countries.crs.equals("EPSG:4326"):
        countries = countries.to_crs(4326)
    polygons: dict[str, Any] = {}
    for code, rows in countries.groupby("country", sort=False):
        geoms = rows.geometry.values
        polygons[str(code)] = geoms[0] if len(geoms) == 1 else shapely.union_all(geoms)
    return polygons


def resolve_cutoff_h(service_level: str | None, cutoff_h: float | None) -> float:
    """The travel-time cutoff of a service level, or an explicit one.

    Parameters
    ----------
    service_level
        A key of :data:`~hzlogistics.settings.SERVICE_LEVELS_H`.
    cutoff_h
        Overrides the service level when given (> 0).

    Returns
    -------
    float
        Hours.

    Raises
    ------
    ValidationError
        An unknown service level, or a cutoff that is not a positive number.

    Examples
    --------
    >>> resolve_cutoff_h("same-day", None), resolve_cutoff_h("same-day", 4.5)
    (3.0, 4.5)
    """
    problems = []
    levels = settings.SERVICE_LEVELS_H
    if service_level is not None and service_level not in levels:
        problems.append(f"service_level {service_level!r} is unknown; valid: {sorted(levels)}")
    if cutoff_h is not None and not (isinstance(cutoff_h, int | float)
                                     and math.isfinite(cutoff_h) and cutoff_h > 0):
        problems.append(f"cutoff_h {cutoff_h!r} must be a number of hours > 0")
    if service_level is None and cutoff_h is None:
        problems.append("give a service_level or a cutoff_h")
    if problems:
        raise ValidationError(problems)
    if cutoff_h is not None:
        return float(cutoff_h)
    assert service_level is not None  # checked above: one of the two is given
    return float(levels[service_level])


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


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


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
    problems: list[str] = []
    try:
        cutoff = resolve_cutoff_h(service_level, cutoff_h)
    except ValidationError as exc:
        problems.extend(exc.problems)
        cutoff = float("nan")
    if mode not in MODES:
        problems.append(f"mode {mode!r} is unknown; valid: {list(MODES)}")
    if engine not in ENGINES:
        problems.append(f"engine {engine!r} is unknown; valid: {list(ENGINES)}")
    if radius_km is not None and not (isinstance(radius_km, int | float)
                                      and math.isfinite(radius_km) and radius_km > 0):
        problems.append(f"radius_km {radius_km!r} must be a number of km > 0")
    if not (isinstance(circuity, int | float) and math.isfinite(circuity) and circuity >= 1):
        problems.append(f"circuity {circuity!r} must be a number ≥ 1 (road km per geodesic km)")
    if isinstance(cross_border, str):
        cross_border = (cross_border,)
    for group in cross_border:
        if group not in settings.CROSS_BORDER_GROUPS:
            problems.append(f"cross_border group {group!r} is unknown; valid: "
                            f"{sorted(settings.CROSS_BORDER_GROUPS)}")
    d = _point_table(demand, "demand", problems)
    s = _point_table(sites, "sites", problems)
    polygons = _country_polygons(countries, problems)
    if polygons is not None:
        for label, table in (("sites", s), ("demand", d)):
            if table is None:
                continue
            outside = [
                f"{label} row {i} (id {table['ids'][i]!r}): country {table['country'][i]!r} is "
                "not among the countries, so the point lies outside every country; valid codes "
                "are the countries frame's 'country' values"
                for i in np.flatnonzero(~np.isin(table["country"], list(polygons)))
            ]
            problems.extend(_capped(outside))
    if problems or d is None or s is None:
        raise ValidationError(problems)
    if mode == "geodesic" and radius_km is None:
        radius_km = cutoff * settings.GEODESIC_SPEED_KPH / circuity
    road = None
    if road_graph is not None and mode == "network":
        road = RoadArrays.from_graph(read_road_graph(road_graph))
        taken = np.zeros(road.n_nodes, dtype=bool)  # a road node belongs to one country

    t0 = time.perf_counter()
    codes = set(d["country"].tolist()) | set(s["country"].tolist())
    units = _units(codes, list(cross_border))
    by_country = {
        label: pd.Series(np.arange(len(t["ids"]))).groupby(t["country"]).indices
        for label, t in (("demand", d), ("sites", s))
    }
    tasks = []
    for name, members in units.items():
        pts, poss = [], []
        unit_road = None if road is None else np.zeros(road.n_nodes, dtype=bool)
        road_countries = []
        for c in members:
            si = np.asarray(by_country["sites"].get(c, []), dtype=np.int64)
            di = np.asarray(by_country["demand"].get(c, []), dtype=np.int64)
            p = CountryPoints(
                c,
                np.concatenate([s["ids"][si], d["ids"][di]]).astype(object),
                np.concatenate([np.ones(len(si), bool), np.zeros(len(di), bool)]),
                np.concatenate([s["lon"][si], d["lon"][di]]),
                np.concatenate([s["lat"][si], d["lat"][di]]),
                None if polygons is None else polygons.get(c),
            )
            pts.append(p)
            poss.append(np.concatenate([si, di]))
            if road is not None and unit_road is not None:
                mine = road_mask(road, p) & ~taken
                if mine.sum() >= 2 and len(p.ids):
                    taken |= mine
                    unit_road |= mine
                    road_countries.append(c)
        tasks.append(CountryTask(
            name, tuple(pts), tuple(poss),
            road=(None if road is None or unit_road is None or not road_countries
                  else road.subset(unit_road)),
            road_countries=tuple(road_countries), mode=mode, engine=engine, cutoff_h=cutoff,
            radius_km=radius_km, circuity=float(circuity),
        ))
    tasks.sort(key=lambda tk: -tk.size)  # biggest first balances parallel workers
    results: Iterable[CountryCoverage] = map_fn(build_country_coverage, tasks)
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(tasks), desc="coverage", unit="country")
    n_sites, n_demand = len(s["ids"]), len(d["ids"])
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
    cover, tt, dd = _assemble(n_sites, n_demand, counts, parts)
    unreachable = d["ids"][~np.isin(demand_comp, site_comp)]
    logger.info(
        "coverage (%s, %s, cutoff %.1f h): %d sites × %d demand, %d pairs, %d unreachable, "
        "%.1f s", mode, service_level, cutoff, n_sites, n_demand, cover.nnz, len(unreachable),
        time.perf_counter() - t0,
    )
    return Coverage(
        site_ids=s["ids"], demand_ids=d["ids"], cover=cover, travel_time_h=tt,
        distance_km=dd, mode=mode, service_level=service_level if cutoff_h is None else None,
        cutoff_h=cutoff, radius_km=radius_km if mode == "geodesic" else None,
        unreachable=unreachable, stats=stats, site_component=site_comp,
        demand_component=demand_comp,
    )


def read_coverage_csv(
    path: str | os.PathLike[str],
    site_ids: Sequence[Hashable] | np.ndarray,
    demand_ids: Sequence[Hashable] | np.ndarray,
) -> Coverage:
    """A planner's own coverage: a CSV of ``site_id,demand_id`` pairs.

    Parameters
    ----------
    path
        CSV with columns ``site_id`` and ``demand_id``, optionally
        ``travel_time_h`` and ``distance_km`` (numbers ≥ 0).
    site_ids, demand_ids
        All candidate sites and demand points, in matrix order.

    Returns
    -------
    Coverage
        ``mode="csv"``; repeated pairs keep the shortest travel time; demand
        points in no pair are ``unreachable``.

    Raises
    ------
    ValidationError
        A missing or unreadable file, missing columns, ids that are not among
        ``site_ids`` / ``demand_ids``, or bad numbers (every bad row named).
    """
    path = Path(path)
    label = os.fspath(path)
    if not path.is_file():
        raise ValidationError(f"{label}: no such coverage file")
    try:
        table = pd.read_csv(path, dtype={"site_id": str, "demand_id": str})
    except Exception as exc:  # any parser failure is the file's fault
        raise ValidationError(f"{label}: not a readable CSV file ({exc})") from exc
    missing = [c for c in ("site_id", "demand_id") if c not in table.columns]
    if missing:
        raise ValidationError(
            f"{label}: missing column(s) {missing}; expected site_id,demand_id"
            f"[,travel_time_h][,distance_km], found {list(table.columns)}"
        )
    sids = np.asarray(site_ids, dtype=object).astype(str).astype(object)
    dids = np.asarray(demand_ids, dtype=object).astype(str).astype(object)
    rows = pd.Index(sids).get_indexer(table["site_id"].astype(str))
    cols = pd.Index(dids).get_indexer(table["demand_id"].astype(str))
    problems: list[str] = []
    for i in range(len(table)):
        line = i + 2  # the header is line 1
        if rows[i] < 0:
            problems.append(f"{label} line {line}: site_id {table['site_id'].iat[i]!r} is not "
                            "a candidate site")
        if cols[i] < 0:
            problems.append(f"{label} line {line}: demand_id {table['demand_id'].iat[i]!r} is "
                            "not a demand point")
    values: dict[str, np.ndarray | None] = {}
    for col in ("travel_time_h", "distance_km"):
        if col not in table.columns:
            values[col] = None
            continue
        v = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(~np.isfinite(v) | (v < 0)).tolist():
            problems.append(f"{label} line {i + 2}: {col} {table[col].iat[i]!r} must be a "
                            "number ≥ 0")
        values[col] = v
    if problems:
        raise ValidationError(_capped(problems))
    return coverage_from_pairs(sids, dids, rows, cols, travel_time_h=values["travel_time_h"],
                               distance_km=values["distance_km"], mode="csv")


__all__ = [
    "Coverage",
    "CountryCoverage",
    "CountryTask",
    "build_country_coverage",
    "build_coverage",
    "coverage_from_pairs",
    "read_coverage_csv",
    "resolve_cutoff_h",
]
