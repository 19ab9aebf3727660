"""The result of a coverage build: sparse site × demand matrices and the ids they index."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.projection import from_local, local_crs, project_points

#: Smallest stored travel time / distance, so that a site at the same place as
#: a demand point keeps a non-zero entry through sparse arithmetic.
TINY = 1e-9


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
        known = ~np.isnan(t)
        np.maximum.at(max_t, rows[known], t[known])
        max_t[np.bincount(rows[~known], minlength=self.n_sites) > 0] = np.nan  # not known
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
    t = np.where(np.isnan(t), t, np.maximum(t, TINY))
    d = np.where(np.isnan(d), d, np.maximum(d, TINY))
    cover, tt, dd = _csr(len(sids), len(dids), rows, cols, t, d)
    reached = np.zeros(len(dids), dtype=bool)
    reached[cols] = True
    return Coverage(sids, dids, cover, tt, dd, mode, service_level, cutoff_h, radius_km,
                    dids[~reached])
