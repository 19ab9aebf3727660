"""Interactive maps of a plan, drawn with Folium (Leaflet).

:func:`plan_map` draws one plan: the warehouses (clustered, sized and coloured by
floor-area tier, with a popup each), their service areas, demand as a heat map
with the uncovered points marked, a choropleth of the share of demand covered per
country, the inbound sea lanes from Ningbo–Zhoushan, a legend and a panel with the
headline figures. :func:`compare_map` shows what changes between two plans.

The maps work offline: no tile server is needed (country outlines are the base
map; tiles are optional) and, by default, Leaflet and its plugins are inlined
(``self_contained=True``), so that the HTML file opens with no network at all. Nothing is
downloaded when a map is built or written.

Every string that comes from data or from a user (site names, titles, country
names) passes through :func:`escape_text` before it reaches the page.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from folium.elements import JSCSSMixin

from hzlogistics import settings
from hzlogistics._errors import HzLogisticsError, MissingDependencyError, ValidationError
from hzlogistics.maps import assets as _assets
from hzlogistics.maps.layers import (
    CLUSTER_ASSETS,
    HEAT_ASSETS,
    HEAT_JS,
    POINTS_JS,
    SHAPES_JS,
    DataLayer,
    RawHtml,
    shapes_payload,
)
from hzlogistics.maps.sealanes import sea_lanes as _sea_lanes
from hzlogistics.maps.text import DASH, escape_text, finite, fmt, pct, rows_html

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------- colours

#: Sites: floor-area tiers, smallest to largest (light to dark purple).
TIER_COLORS: tuple[str, ...] = ("#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3",
                                "#54278f", "#3f007d")
#: Countries: share of demand covered, in five bins of 20 % (pale to dark green).
COVERAGE_COLORS: tuple[str, ...] = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")
#: Compare map: change of each site.
CHANGE_COLORS: dict[str, str] = {
    "opened": "#1a9641", "closed": "#d7191c", "grown": "#2c7bb6", "shrunk": "#fdae61",
    "unchanged": "#969696",
}
#: Compare map: change of the covered share per country, percentage points.
DELTA_BINS_PP: tuple[float, ...] = (-10.0, -2.0, 2.0, 10.0)
DELTA_COLORS: tuple[str, ...] = ("#d7191c", "#fdae61", "#f7f7f7", "#a6d96a", "#1a9641")

_SEA = "#dbe9f4"
_LAND = "#f6f4ee"
_OUTLINE = "#8f8f8f"
_SERVICE = "#6a51a3"
_UNCOVERED = "#e7298a"
_LANE = "#1f4e79"
_NO_DEMAND = "#d9d9d9"
_HEAT_GRADIENT = {"0.2": "#fee391", "0.45": "#fec44f", "0.65": "#fe9929", "0.85": "#ec7014",
                  "1": "#cc4c02"}
# chunked loading is left off: markercluster 1.1.0 can fail on a move during it, and
# adding a few thousand markers at once takes well under a second
_CLUSTER_OPTIONS = {"maxClusterRadius": 45, "showCoverageOnHover": False,
                    "spiderfyOnMaxZoom": True, "chunkedLoading": False}
#: Parts of country outlines smaller than this are left out of the map, square degrees.
_MIN_PART_DEG2 = 0.005


def _hex_to_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _ramp(colors: Sequence[str], n: int) -> list[str]:
    """``n`` colours spread evenly along a palette (interpolated in RGB)."""
    if n <= 0:
        return []
    if n == 1:
        return [colors[-1]]
    rgb = np.array([_hex_to_rgb(c) for c in colors], dtype=float)
    out = []
    for p in np.linspace(0.0, len(colors) - 1.0, n):
        i = min(int(p), len(colors) - 2)
        r, g, b = np.rint(rgb[i] * (1 - (p - i)) + rgb[i + 1] * (p - i)).astype(int)
        out.append(f"#{r:02x}{g:02x}{b:02x}")
    return out


def _tiers(plan: Plan) -> np.ndarray:
    if plan.problem is not None and len(plan.problem.tiers_m2):
        return np.asarray(plan.problem.tiers_m2, dtype=float)
    return np.asarray(settings.SIZE_TIERS_M2, dtype=float)


def _tier_index(area_m2: np.ndarray, tiers: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(tiers, np.asarray(area_m2, dtype=float) + 1e-9, side="right") - 1
    return np.clip(idx, 0, len(tiers) - 1)


def _tier_radius(idx: np.ndarray | int, n_tiers: int) -> np.ndarray:
    return np.round(4.0 + 12.0 * np.asarray(idx, dtype=float) / max(n_tiers - 1, 1), 1)


def _coverage_bin(share: float | None) -> int:
    """Index into COVERAGE_COLORS, or 5 (grey) for a country without demand."""
    return 5 if share is None else min(int(max(share, 0.0) * 5), 4)


def _delta_bin(delta_pp: float | None) -> int:
    """Index into DELTA_COLORS, or 5 (grey) where the change is unknown."""
    return 5 if delta_pp is None else int(np.searchsorted(DELTA_BINS_PP, delta_pp, side="right"))


# -------------------------------------------------------------------- geometry

def _lon_lat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of point geometries (centroids of others)."""
    geom = np.asarray(gdf.geometry.values, dtype=object)
    if len(geom) and not bool(np.all(shapely.get_type_id(geom) == 0)):
        geom = shapely.centroid(geom)
    xy = shapely.get_coordinates(geom)
    if len(xy) != len(gdf):
        raise ValidationError(f"{len(gdf) - len(xy)} rows have no location (empty geometry)")
    return xy[:, 0], xy[:, 1]


def _outline_geoms(countries: gpd.GeoDataFrame) -> np.ndarray:
    """Country shapes for a world map: tiny islets dropped, rings simplified.

    Each ring is simplified on its own (Douglas-Peucker); a ring that collapses is
    dropped, except a country's largest outline, which is kept as it was.
    """
    geoms = np.asarray(countries.geometry.values, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    ok = ~shapely.is_missing(geoms)
    ok[ok] = ~shapely.is_empty(geoms[ok])
    if not ok.any():
        return out
    parts, owner = shapely.get_parts(geoms[ok], return_index=True)
    owner = np.flatnonzero(ok)[owner]
    area = shapely.area(parts)
    largest = pd.Series(area).groupby(owner).transform("max").to_numpy()
    keep = (area >= _MIN_PART_DEG2) | (area == largest)
    parts, owner, largest_part = parts[keep], owner[keep], (area == largest)[keep]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    simple = shapely.simplify(rings, settings.MAP_SIMPLIFY_DEG, preserve_topology=False)
    n_coords = shapely.get_num_coordinates(simple)
    polygons: dict[int, list[shapely.Polygon]] = {}
    first = np.r_[True, ring_part[1:] != ring_part[:-1]]  # each part's exterior comes first
    shell: Any = None
    holes: list[Any] = []

    def flush(part: int) -> None:
        if shell is not None:
            polygons.setdefault(int(owner[part]), []).append(shapely.Polygon(shell, holes))

    for k in range(len(rings)):
        p = int(ring_part[k])
        if first[k]:
            if k:
                flush(int(ring_part[k - 1]))
            holes = []
            if n_coords[k] >= 4:
                shell = simple[k]
            else:
                shell = rings[k] if largest_part[p] else None
        elif shell is not None and n_coords[k] >= 4:
            holes.append(simple[k])
    if len(rings):
        flush(int(ring_part[-1]))
    for i, polys in polygons.items():
        out[i] = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    return out


def service_areas(plan: Plan) -> gpd.GeoDataFrame:
    """Service-area polygons of the open sites.

    The plan's coverage draws them when it can
    (``plan.coverage.service_areas``). Otherwise each area is the convex hull of
    the demand points the site serves in ``plan.assignments`` (and the site
    itself), buffered by :data:`hzlogistics.settings.SERVICE_AREA_BUFFER_KM`.

    Parameters
    ----------
    plan
        A solved plan.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id`` and a polygon per open site, EPSG:4326.
    """
    sites = plan.sites
    is_open = np.asarray(sites["open"], dtype=bool)
    cov = plan.coverage
    if cov is not None and hasattr(cov, "service_areas"):
        try:
            areas = cov.service_areas(sites, plan.demand, site_mask=is_open)
            return _align_service_areas(areas, sites, is_open)
        except Exception:  # the hulls of the assignments below stand in for them
            logger.warning("coverage.service_areas failed; drawing hulls of the assignments",
                           exc_info=True)
    return _hull_service_areas(plan, is_open)


def _align_service_areas(areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame,
                         is_open: np.ndarray) -> gpd.GeoDataFrame:
    open_ids = sites["id"].to_numpy()[is_open]
    if areas.crs is not None:
        areas = areas.to_crs("EPSG:4326")
    for col in ("site_id", "id"):
        if col in areas.columns:
            out = areas[areas[col].isin(open_ids)]
            return gpd.GeoDataFrame({"site_id": out[col].to_numpy()},
                                    geometry=out.geometry.to_numpy(), crs="EPSG:4326")
    if len(areas) == len(open_ids):
        geoms = areas.geometry.to_numpy()
    elif len(areas) == len(sites):
        geoms = areas.geometry.to_numpy()[is_open]
    else:
        raise HzLogisticsError(f"service_areas returned {len(areas)} rows for "
                               f"{len(open_ids)} open sites and no site_id column")
    return gpd.GeoDataFrame({"site_id": open_ids}, geometry=geoms, crs="EPSG:4326")


def _hull_service_areas(plan: Plan, is_open: np.ndarray) -> gpd.GeoDataFrame:
    sites, demand, a = plan.sites, plan.demand, plan.assignments
    open_idx = np.flatnonzero(is_open)
    open_ids = sites["id"].to_numpy()[open_idx]
    if not len(open_idx):
        return gpd.GeoDataFrame({"site_id": open_ids}, geometry=[], crs="EPSG:4326")
    slon, slat = _lon_lat(sites.iloc[open_idx])
    group = pd.Index(open_ids).get_indexer(a["site_id"])
    dpos = pd.Index(demand["id"]).get_indexer(a["demand_id"])
    keep = (group >= 0) & (dpos >= 0) & (a["weight"].to_numpy(dtype=float) > 0)
    dlon, dlat = _lon_lat(demand) if len(demand) else (np.empty(0), np.empty(0))
    g = np.concatenate([group[keep], np.arange(len(open_idx))])
    lon = np.concatenate([dlon[dpos[keep]], slon])
    lat = np.concatenate([dlat[dpos[keep]], slat])
    lon = lon + 360.0 * np.round((slon[g] - lon) / 360.0)  # stay on the site's side of ±180°
    # shrink longitudes by cos(latitude) so that a buffer in degrees is round on the ground
    shrink = np.maximum(np.cos(np.radians(slat)), 0.05)
    x = slon[g] + (lon - slon[g]) * shrink[g]
    order = np.argsort(g, kind="stable")
    points = shapely.multipoints(np.column_stack([x, lat])[order], indices=g[order])
    hulls = shapely.buffer(shapely.convex_hull(points),
                           settings.SERVICE_AREA_BUFFER_KM / 111.32, quad_segs=4)
    coords, index = shapely.get_coordinates(hulls, return_index=True)
    coords[:, 0] = slon[index] + (coords[:, 0] - slon[index]) / shrink[index]
    hulls = shapely.set_coordinates(hulls.copy(), coords)
    return gpd.GeoDataFrame({"site_id": open_ids}, geometry=hulls, crs="EPSG:4326")


# ---------------------------------------------------------------------- layers

def _new_map(bounds: list[list[float]] | None, tiles: str | None,
             tiles_attribution: str | None) -> folium.Map:
    m = folium.Map(location=(25.0, 60.0), zoom_start=2, tiles=None, control_scale=True)
    m.options.update({"minZoom": 1, "maxZoom": 18})  # the clusters need a maximum zoom
    if tiles:
        folium.TileLayer(tiles, attr=tiles_attribution, name=escape_text(tiles),
                         overlay=False, control=True).add_to(m)
    if bounds is not None:
        fit = folium.map.FitBounds(bounds, padding=(10, 10))
        fit.options["animate"] = False  # no zoom transition while the layers load
        fit.add_to(m)
    folium.map.CustomPane("hzLanes", z_index=430).add_to(m)
    folium.map.CustomPane("hzDemand", z_index=440).add_to(m)
    folium.map.CustomPane("hzSites", z_index=450).add_to(m)
    return m


def _bounds(*frames: gpd.GeoDataFrame) -> list[list[float]] | None:
    lons, lats = [], []
    for f in frames:
        if f is not None and len(f):
            lon, lat = _lon_lat(f)
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return None
    lon, lat = np.concatenate(lons), np.concatenate(lats)
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]


def _country_names(*plans: Plan) -> dict[str, str]:
    out: dict[str, str] = {}
    for plan in plans:
        c = plan.countries
        if len(c) and "name" in c.columns:
            out.update({str(k): str(v) for k, v in zip(c["country"], c["name"], strict=True)
                        if isinstance(v, str) and v})
    return out


def _country_label(code: object, name_of: dict[str, str]) -> str:
    code = str(code)
    return f"{name_of[code]} ({code})" if code in name_of else code


def _has_shapes(countries: gpd.GeoDataFrame | None) -> bool:
    if not isinstance(countries, gpd.GeoDataFrame) or not len(countries):
        return False
    try:
        geometry = countries.geometry
    except AttributeError:  # no active geometry column
        return False
    return not geometry.isna().all()


def _countries_layers(countries: gpd.GeoDataFrame, props: list[dict[str, Any]],
                      styles: list[dict[str, Any]], *, name: str, fill_land: bool
                      ) -> tuple[DataLayer, DataLayer]:
    """The outline base layer and a choropleth drawn from the same shapes."""
    data = shapes_payload(_outline_geoms(countries), props, styles, 3)
    base = DataLayer(
        "outlines", SHAPES_JS, data,
        {"interactive": False, "style": {"color": _OUTLINE, "weight": 0.7, "fillColor": _LAND,
                                         "fillOpacity": 1.0 if fill_land else 0.0,
                                         "className": "hz-outline"}},
        name="Country outlines", control=False)
    choropleth = DataLayer(
        "countries", SHAPES_JS, None,
        {"tooltips": True, "highlight": {"weight": 2.0, "color": "#222222"}},
        data_from=base, name=name)
    return base, choropleth


def _plan_countries(plan: Plan, *, fill_land: bool) -> tuple[DataLayer, DataLayer] | None:
    c = plan.countries
    if not _has_shapes(c):
        return None
    props = []
    for row in c.itertuples(index=False):
        share = finite(getattr(row, "covered_share", None))
        if not finite(getattr(row, "demand_weight", None)):
            share = None
        name = getattr(row, "name", None)
        rows = [("Country", f"{name} ({row.country})" if isinstance(name, str) else row.country),
                ("Warehouses", fmt(getattr(row, "n_sites", None))),
                ("Floor area", fmt(getattr(row, "area_m2", None), unit=" m²")),
                ("Demand covered", f"{pct(share)} of {fmt(getattr(row, 'demand_weight', None))} "
                                   "parcels/day"),
                ("Mean travel time", fmt(getattr(row, "mean_travel_time_h", None), 1, " h"))]
        props.append({"s": _coverage_bin(share), "t": rows_html(rows)})
    styles = [{"color": "#555555", "weight": 0.6, "fillColor": col, "fillOpacity": 0.55,
               "className": "hz-country"} for col in (*COVERAGE_COLORS, _NO_DEMAND)]
    return _countries_layers(c, props, styles, name="Demand covered per country",
                             fill_land=fill_land)


def _points(key: str, name: str, lat: np.ndarray, lon: np.ndarray, style_idx: Sequence[int],
            styles: list[dict[str, Any]], titles: Sequence[str], tips: Sequence[str],
            labels: Sequence[str], cells: Sequence[Sequence[str]] | None, *,
            cluster: bool, canvas: bool = False, pane: str = "hzSites",
            show: bool = True) -> DataLayer:
    """A layer of circle markers; every string in ``titles``, ``tips``, ``cells`` is escaped."""
    lat_r, lon_r = np.round(lat, 5).tolist(), np.round(lon, 5).tolist()
    if cells is None:
        rows = [[la, lo, int(s), t, tip]
                for la, lo, s, t, tip in zip(lat_r, lon_r, style_idx, titles, tips, strict=True)]
    else:
        rows = [[la, lo, int(s), t, tip, *c]
                for la, lo, s, t, tip, c in zip(lat_r, lon_r, style_idx, titles, tips, cells,
                                                strict=True)]
    data = {"styles": styles, "labels": [escape_text(x) for x in labels], "rows": rows}
    opts: dict[str, Any] = {"pane": pane, "canvas": canvas}
    if cluster:
        opts["cluster"] = _CLUSTER_OPTIONS
    return DataLayer(key, POINTS_JS, data, opts, name=name, show=show,
                     assets=CLUSTER_ASSETS if cluster else ((), ()))


_SITE_LABELS = ("Country", "Status", "Floor area", "Parcels/day served", "Utilisation", "Rent",
                "Travel time", "Site id")


def _site_cells(row: Any, tier_m2: float, name_of: dict[str, str]) -> list[str]:
    existing = row.status == "existing"
    area = fmt(row.area_m2, unit=" m²")
    today = finite(getattr(row, "existing_area_m2", None))
    if existing and today:
        area += f" (today {fmt(today, unit=' m²')})"
    rent = finite(getattr(row, "rent_usd_year", None))
    rent_m2 = finite(getattr(row, "rent_usd_m2_year", None))
    rent_s = DASH if rent is None else f"USD {rent:,.0f} / year"
    if rent_m2:
        rent_s += f" (USD {rent_m2:,.0f} / m²)"
    cells = [
        _country_label(row.country, name_of),
        "existing warehouse" if existing else "new warehouse",
        f"{area}, tier {tier_m2:,.0f} m²",
        fmt(getattr(row, "served_weight", None)),
        pct(getattr(row, "utilisation", None), 0),
        rent_s,
        f"mean {fmt(getattr(row, 'mean_travel_time_h', None), 1, ' h')}, "
        f"max {fmt(getattr(row, 'max_travel_time_h', None), 1, ' h')}",
        row.id,
    ]
    return [escape_text(c) for c in cells]


def _sites_layers(plan: Plan, *, show_candidates: bool) -> list[DataLayer]:
    sites = plan.sites
    tiers = _tiers(plan)
    colors = _ramp(TIER_COLORS, len(tiers))
    radius = _tier_radius(np.arange(len(tiers)), len(tiers))
    name_of = _country_names(plan)
    lon, lat = _lon_lat(sites)
    is_open = np.asarray(sites["open"], dtype=bool)
    idx = _tier_index(sites["area_m2"].to_numpy(dtype=float), tiers)
    existing = sites["status"].to_numpy() == "existing"
    # style 2*t is a new site of tier t, 2*t+1 an existing one
    styles = []
    for t in range(len(tiers)):
        for old in (False, True):
            styles.append({"radius": float(radius[t]), "color": "#111111" if old else "#ffffff",
                           "weight": 2.0 if old else 1.2, "fill": True, "fillColor": colors[t],
                           "fillOpacity": 0.92,
                           "className": f"hz-site hz-site-{'existing' if old else 'new'}"})
    open_pos = np.flatnonzero(is_open)
    rows = list(sites.iloc[open_pos].itertuples(index=False))
    titles = [escape_text(r.name) for r in rows]
    tips = [f"{t} · {escape_text(fmt(r.area_m2, unit=' m²'))}" for t, r in zip(titles, rows,
                                                                               strict=True)]
    cells = [_site_cells(r, float(tiers[idx[p]]), name_of)
             for r, p in zip(rows, open_pos, strict=True)]
    n_existing = int(existing[open_pos].sum())
    layers = [_points(
        "sites", f"Warehouses: {len(open_pos):,} open ({n_existing:,} existing)",
        lat[open_pos], lon[open_pos], (2 * idx[open_pos] + existing[open_pos]).tolist(), styles,
        titles, tips, _SITE_LABELS, cells, cluster=True)]
    closed_pos = np.flatnonzero(~is_open)
    if show_candidates and len(closed_pos):
        rows = list(sites.iloc[closed_pos].itertuples(index=False))
        titles = [escape_text(r.name) for r in rows]
        cells = [[escape_text(c) for c in (
            _country_label(r.country, name_of), getattr(r, "kind", DASH),
            fmt(getattr(r, "max_area_m2", None), unit=" m²"),
            fmt(getattr(r, "rent_usd_m2_year", None), unit=" USD / m² / year"), r.id)]
            for r in rows]
        style = {"radius": 3.5, "color": "#636363", "weight": 1.0, "fill": True,
                 "fillColor": "#ffffff", "fillOpacity": 0.7, "className": "hz-candidate"}
        layers.append(_points(
            "candidates", f"Candidate sites not chosen: {len(closed_pos):,}",
            lat[closed_pos], lon[closed_pos], [0] * len(closed_pos), [style], titles,
            [f"{t} · not chosen" for t in titles],
            ("Country", "Kind", "Largest area", "Rent", "Site id"), cells,
            cluster=True, show=False))
    return layers


def _service_layer(plan: Plan) -> DataLayer | None:
    areas = service_areas(plan)
    if not len(areas):
        return None
    sites = plan.sites.set_index("id")
    names = sites["name"].reindex(areas["site_id"]).to_numpy()
    served = sites["served_weight"].reindex(areas["site_id"]).to_numpy()
    geoms = shapely.simplify(areas.geometry.to_numpy(), 0.005)
    props = [{"t": escape_text(f"{n}: {fmt(s)} parcels/day covered")}
             for n, s in zip(names, served, strict=True)]
    data = shapes_payload(geoms, props, [{"color": _SERVICE, "weight": 0.8, "opacity": 0.6,
                                          "fillColor": _SERVICE, "fillOpacity": 0.06,
                                          "className": "hz-service-area"}], 3)
    n = int((~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)).sum())
    # off at first: a thousand overlapping areas hide the map until one zooms in
    return DataLayer("service_areas", SHAPES_JS, data, {"tooltips": True},
                     name=f"Service areas ({n:,})", show=False)


def _heat_points(demand: gpd.GeoDataFrame, max_points: int) -> np.ndarray:
    """``(n, 3)`` rows ``lat, lon, intensity`` (0..1), merged on a grid if there are too many."""
    if not len(demand):
        return np.empty((0, 3))
    lon, lat = _lon_lat(demand)
    w = demand["weight"].to_numpy(dtype=float)
    keep = np.isfinite(w) & (w > 0)
    lon, lat, w = lon[keep], lat[keep], w[keep]
    cell = 0.02
    while len(w) > max(int(max_points), 1):
        ix = np.floor((lon + 540.0) / cell).astype(np.int64)
        iy = np.floor((lat + 90.0) / cell).astype(np.int64)
        uniq, codes = np.unique(ix * (int(720.0 / cell) + 1) + iy, return_inverse=True)
        if len(uniq) <= max_points:
            total = np.bincount(codes, weights=w)
            lon = np.bincount(codes, weights=lon * w) / total
            lat = np.bincount(codes, weights=lat * w) / total
            w = total
            break
        cell *= 2.0
    if not len(w):
        return np.empty((0, 3))
    top = float(np.quantile(w, 0.98)) or float(w.max())
    intensity = np.clip(w / top, 0.02, 1.0)
    return np.column_stack([np.round(lat, 3), np.round(lon, 3), np.round(intensity, 2)])


def _heat_layer(plan: Plan, max_points: int) -> DataLayer | None:
    pts = _heat_points(plan.demand, max_points)
    if not len(pts):
        return None
    return DataLayer("heat", HEAT_JS, {"points": pts.tolist()},
                     {"radius": 14, "blur": 16, "minOpacity": 0.25, "maxZoom": 9,
                      "gradient": _HEAT_GRADIENT},
                     name="Demand (parcels/day, heat map)", assets=HEAT_ASSETS)


def _uncovered_layer(plan: Plan, max_points: int) -> DataLayer | None:
    d = plan.demand
    if not len(d):
        return None
    u = d[~np.asarray(d["covered"], dtype=bool)]
    if not len(u):
        return None
    n_all = len(u)
    if n_all > max_points:
        u = u.iloc[np.argsort(-u["weight"].to_numpy(), kind="stable")[:max_points]]
    lon, lat = _lon_lat(u)
    names = u["name"] if "name" in u.columns else u["id"]
    tips = [escape_text(f"{n} ({c}): {fmt(w)} parcels/day not covered")
            for n, c, w in zip(names, u["country"], u["weight"], strict=True)]
    style = {"radius": 3.5, "color": "#67001f", "weight": 0.8, "fill": True,
             "fillColor": _UNCOVERED, "fillOpacity": 0.9}
    title = (f"Uncovered demand points ({n_all:,})" if n_all == len(u) else
             f"Uncovered demand points (the {len(u):,} largest of {n_all:,})")
    return _points("uncovered", title, lat, lon,
                   [0] * len(u), [style], [""] * len(u), tips, (), None,
                   cluster=False, canvas=True, pane="hzDemand")


def _lanes_layer(plan: Plan) -> DataLayer | None:
    codes = [str(c) for c in plan.countries["country"]] if len(plan.countries) else []
    if not codes:
        codes = sorted({str(c) for c in plan.sites.loc[plan.sites["open"], "country"]})
    try:
        lanes = _sea_lanes(codes)
    except MissingDependencyError as exc:
        logger.warning("%s; the map has no sea lanes", exc)
        return None
    if not len(lanes):
        return None
    name_of = _country_names(plan)
    origin = settings.SEA_ORIGIN_NAME
    props = [{"s": 0, "t": escape_text(
        f"{origin} → {r.port_name} ({name_of.get(r.country, r.country)}): "
        f"{r.distance_km:,.0f} km, {r.days_at_sea:.0f} days "
        f"({settings.SEA_SPEED_KNOTS:g} knots + {settings.PORT_TIME_DAYS:g} days in port)")}
        for r in lanes.itertuples(index=False)]
    geoms = list(lanes.geometry.to_numpy()) + [shapely.Point(settings.SEA_ORIGIN_LON_LAT)]
    props.append({"s": 1, "t": escape_text(f"{origin}: port of departure")})
    data = shapes_payload(geoms, props, [
        {"color": _LANE, "weight": 1.6, "opacity": 0.75, "dashArray": "6 4", "fill": False,
         "className": "hz-sealane"},
        {"radius": 6, "color": "#ffffff", "weight": 2, "fill": True, "fillColor": _LANE,
         "fillOpacity": 1.0, "className": "hz-origin"}], 3)
    return DataLayer("sea_lanes", SHAPES_JS, data,
                     {"tooltips": True, "pane": "hzLanes",
                      "highlight": {"weight": 3.5, "opacity": 1.0}},
                     name=f"Sea lanes from {origin} ({len(lanes)})")


# ---------------------------------------------------------------------- panels

_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif'
_CSS = f"""<style>
.hz-panel {{position: fixed; z-index: 1000; background: rgba(255,255,255,0.94);
  border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,0.35); padding: 8px 11px;
  font: 12px/1.4 {_FONT}; color: #222;}}
.hz-title {{top: 10px; left: 56px; max-width: 460px;}}
.hz-title .hz-title-text {{font-size: 15px; font-weight: 600; margin-bottom: 4px;}}
.hz-legend {{bottom: 24px; right: 10px; max-width: 270px;}}
.hz-panel table, .hz-popup table, .hz-tip table {{border-collapse: collapse;}}
.hz-panel th, .hz-popup th, .hz-tip th {{text-align: left; font-weight: 600;
  padding: 1px 8px 1px 0; vertical-align: top; white-space: nowrap;}}
.hz-panel td, .hz-popup td, .hz-tip td {{padding: 1px 0;}}
.hz-legend .hz-h {{font-weight: 600; margin: 6px 0 2px;}}
.hz-legend .hz-h:first-child {{margin-top: 0;}}
.hz-sw {{display: inline-block; vertical-align: middle; margin-right: 6px;}}
.hz-row {{white-space: nowrap;}}
.hz-legend .hz-note {{color: #555; font-size: 11px;}}
.hz-popup, .hz-tip {{font: 12px/1.4 {_FONT};}}
.hz-popup-title {{font-size: 14px; font-weight: 600; margin-bottom: 4px;}}
.leaflet-control-layers {{font: 12px/1.5 {_FONT};}}
</style>"""


def _swatch_circle(color: str, radius: float, border: str = "#ffffff",
                   border_px: float = 1.0) -> str:
    d = 2 * radius
    return (f'<span class="hz-sw" style="width:{d:.0f}px;height:{d:.0f}px;border-radius:50%;'
            f'background:{color};border:{border_px:g}px solid {border};"></span>')


def _swatch_box(color: str, border: str = "#555555", opacity: float = 1.0) -> str:
    return (f'<span class="hz-sw" style="width:16px;height:11px;background:{color};'
            f'opacity:{opacity:g};border:1px solid {border};"></span>')


def _legend_row(swatch: str, text: str) -> str:
    return f'<div class="hz-row">{swatch}{escape_text(text)}</div>'


def _add_panels(m: folium.Map, title: str, rows: list[tuple[str, str]], legend_html: str,
                *, sea: bool) -> None:
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(RawHtml(f"<title>{escape_text(title)}</title>"), name="hz_title")
    css = _CSS
    if sea:  # after leaflet.css, which sets its own grey
        css += f"<style>html body .leaflet-container {{background: {_SEA};}}</style>"
    root.header.add_child(RawHtml(css), name="hz_css")
    panel = (f'<div class="hz-panel hz-title" id="hz-title">'
             f'<div class="hz-title-text">{escape_text(title)}</div>{rows_html(rows)}</div>')
    root.html.add_child(RawHtml(panel), name="hz_title_panel")
    root.html.add_child(
        RawHtml(f'<div class="hz-panel hz-legend" id="hz-legend">{legend_html}</div>'),
        name="hz_legend")


def _plan_legend(plan: Plan, *, lanes: bool, uncovered: bool,
                 drawn: Sequence[str] = ()) -> str:
    tiers = _tiers(plan)
    colors = _ramp(TIER_COLORS, len(tiers))
    radius = _tier_radius(np.arange(len(tiers)), len(tiers))
    parts = ['<div class="hz-h">Warehouse floor area</div>']
    parts += [_legend_row(_swatch_circle(c, min(float(r), 9.0)), f"{t:,.0f} m²")
              for t, c, r in zip(tiers, colors, radius, strict=True)]
    mid = colors[len(colors) // 2]
    parts.append(_legend_row(_swatch_circle(mid, 6, "#ffffff", 1.5), "new (white rim)"))
    parts.append(_legend_row(_swatch_circle(mid, 6, "#111111", 2), "existing (black rim)"))
    parts.append('<div class="hz-h">Demand covered per country</div>')
    labels = ["under 20 %", "20–40 %", "40–60 %", "60–80 %", "80 % and more"]
    parts += [_legend_row(_swatch_box(c, opacity=0.7), lab)
              for c, lab in zip(COVERAGE_COLORS, labels, strict=True)]
    parts.append('<div class="hz-h">Layers</div>')
    parts.append(_legend_row(_swatch_box(_SERVICE, _SERVICE, 0.35), "service area of a site"))
    parts.append(_legend_row(
        '<span class="hz-sw" style="width:16px;height:11px;background:linear-gradient(90deg,'
        '#fee391,#fe9929,#cc4c02);"></span>', "demand, parcels/day"))
    if uncovered:
        parts.append(_legend_row(_swatch_circle(_UNCOVERED, 4, "#67001f"),
                                 "demand point not covered"))
    if lanes:
        parts.append(_legend_row(
            f'<span class="hz-sw" style="width:18px;border-top:2px dashed {_LANE};"></span>',
            f"sea lane from {settings.SEA_ORIGIN_NAME}"))
    if drawn:
        parts.append('<div class="hz-h">Drawn at this scale</div>')
        parts += [f'<div class="hz-note">{escape_text(line)}</div>' for line in drawn]
    return "".join(parts)


def _drawn_notes(plan: Plan, max_heat_points: int, max_uncovered_points: int) -> list[str]:
    """What a large plan's map simplifies, caps or clusters (empty for a small plan)."""
    d = plan.demand
    n_heat = int((np.asarray(d["weight"], dtype=float) > 0).sum()) if len(d) else 0
    n_uncovered = int((~np.asarray(d["covered"], dtype=bool)).sum()) if len(d) else 0
    notes = []
    if n_heat > max_heat_points:
        notes.append(f"heat map: {n_heat:,} demand points merged into at most "
                     f"{max_heat_points:,} grid cells")
    if n_uncovered > max_uncovered_points:
        notes.append(f"uncovered: the {max_uncovered_points:,} largest of {n_uncovered:,} "
                     "points")
    if notes:
        notes.append(f"warehouses clustered when zoomed out; borders simplified to "
                     f"{settings.MAP_SIMPLIFY_DEG:g}°")
    return notes


def _headline_rows(plan: Plan) -> list[tuple[str, str]]:
    s = plan.summary()
    budget = s.get("area_budget_m2")
    area = f"{fmt(s['total_area_m2'])} m²"
    if budget:
        area += f" of {fmt(budget)} m² ({pct(s['total_area_m2'] / budget)})"
    gap = s.get("gap")
    n_countries = int(s.get("n_countries", 0))
    return [
        ("Warehouses", f"{s['n_open']:,} open ({s['n_existing']:,} existing) in "
                       f"{n_countries:,} {'country' if n_countries == 1 else 'countries'}"),
        ("Floor area", area),
        ("Demand covered", f"{pct(s['covered_share'])} ({fmt(s['covered_weight'])} of "
                           f"{fmt(s['total_weight'])} parcels/day)"),
        ("Optimality gap", f"{DASH if gap is None else pct(gap, 2)} ({s['status']})"),
    ]


# ---------------------------------------------------------------------- assets

def _descendants(element: Element) -> Iterable[Element]:
    for child in element._children.values():
        yield child
        yield from _descendants(child)


def _use_assets(m: folium.Map, *, self_contained: bool) -> None:
    """Link (or inline) exactly the Leaflet files the map uses, in load order.

    folium's own defaults (jQuery, Bootstrap, Font Awesome, awesome-markers,
    glyphicons) are not used by these maps and are left out.
    """
    needed = {"leaflet", "leaflet_css"}
    known = {a.key for a in _assets.ASSETS}
    for el in (m, *_descendants(m)):
        if not isinstance(el, JSCSSMixin):
            continue
        if el is not m:
            names = {name for name, _ in (*el.default_js, *el.default_css)}
            if names - known:
                raise HzLogisticsError(f"no bundled asset for {sorted(names - known)} "
                                       f"({type(el).__name__})")
            needed |= names
        el.default_js = []
        el.default_css = []
    root = m.get_root()
    assert isinstance(root, Figure)
    for a in _assets.ASSETS:
        if a.key in needed:
            tag = _assets.inline_tag(a.key) if self_contained else _assets.link_tag(a.key)
            root.header.add_child(RawHtml(tag), name=a.key)
    m.hz_self_contained = self_contained  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- public

def plan_map(
    plan: Plan,
    *,
    path: str | os.PathLike[str] | None = None,
    self_contained: bool = True,
    show_candidates: bool = False,
    sea_lanes: bool = True,
    show_service_areas: bool = True,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    max_heat_points: int = settings.MAP_MAX_HEAT_POINTS,
    max_uncovered_points: int = settings.MAP_MAX_UNCOVERED_POINTS,
) -> folium.Map:
    """Draw a plan on an interactive map.

    Layers, each switched in the layer control: warehouses (clustered; size and
    colour by floor-area tier, a black rim for existing ones; a popup with name,
    country, area, parcels/day served, utilisation, rent and travel times),
    candidate sites not chosen (optional, off at first), service areas (off at
    first: they overlap at world scale), demand as a heat map,
    uncovered demand points, a choropleth of the share of demand covered per
    country, and the sea lanes from Ningbo–Zhoushan. A panel shows the headline
    figures, another the legend. The page keeps its Leaflet layers in
    ``window.hzLayers`` (``sites``, ``service_areas``, ``heat``, ``uncovered``,
    ``countries``, ``outlines``, ``sea_lanes``, ``candidates``).

    Parameters
    ----------
    plan
        A solved plan (:class:`hzlogistics.plan.Plan`).
    path
        Where to write the HTML (atomically); ``None`` writes nothing.
    self_contained
        Inline Leaflet and its plugins into the page (the default), so that it
        opens with no network; ``False`` links them from their CDNs instead, for a
        smaller file.
    show_candidates
        Add a layer (off at first) with the candidate sites not chosen.
    sea_lanes
        Draw the inbound sea lanes (needs the ``searoute`` package; left out,
        with a warning, without it).
    show_service_areas
        Draw the service areas of the open sites.
    tiles
        A folium tile layer name or URL template (e.g. ``"OpenStreetMap"``);
        ``None`` draws no tiles: the country outlines are the base map.
    tiles_attribution
        Attribution of a custom tile URL.
    max_heat_points
        Most points in the heat map; more demand points are merged on a grid.
    max_uncovered_points
        Most uncovered demand points drawn; beyond it the largest (by parcels/day)
        are drawn and the layer's name says how many there are in all.

    Returns
    -------
    folium.Map
        Shown inline by a notebook.

    Raises
    ------
    ValidationError
        If the plan lacks a column the map needs.

    Examples
    --------
    >>> m = plan_map(plan, sea_lanes=False)  # doctest: +SKIP
    >>> plan_map(plan, path="maps/plan.html", self_contained=True)  # doctest: +SKIP
    """
    _check_plan(plan, "plan")
    m = _new_map(_bounds(plan.open_sites, plan.demand), tiles, tiles_attribution)
    layers: list[Any] = []
    countries = _plan_countries(plan, fill_land=not tiles)
    if countries is not None:
        layers += countries
    if show_service_areas:
        layers.append(_service_layer(plan))
    layers.append(_heat_layer(plan, max_heat_points))
    uncovered = _uncovered_layer(plan, max_uncovered_points)
    lanes = _lanes_layer(plan) if sea_lanes else None
    layers += [uncovered, lanes, *_sites_layers(plan, show_candidates=show_candidates)]
    for layer in layers:
        if layer is not None:
            layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _add_panels(m, plan.title, _headline_rows(plan),
                _plan_legend(plan, lanes=lanes is not None, uncovered=uncovered is not None,
                             drawn=_drawn_notes(plan, max_heat_points, max_uncovered_points)),
                sea=not tiles)
    _use_assets(m, self_contained=self_contained)
    if path is not None:
        write_map(m, path)
    return m


def site_changes(plan_a: Plan, plan_b: Plan) -> gpd.GeoDataFrame:
    """How each site changes from one plan to another.

    Parameters
    ----------
    plan_a, plan_b
        The plan before and after; sites are matched by ``id``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site open in either plan: ``id, name, country, area_a_m2,
        area_b_m2, served_a, served_b`` and ``change``: ``"opened"``,
        ``"closed"``, ``"grown"``, ``"shrunk"`` or ``"unchanged"``.
    """
    cols = ["id", "name", "country", "area_m2", "served_weight", "geometry"]
    a = pd.DataFrame(plan_a.sites[cols])
    b = pd.DataFrame(plan_b.sites[cols])
    merged = pd.merge(a, b, on="id", how="outer", suffixes=("_a", "_b"))
    for col in ("name", "country", "geometry"):
        merged[col] = merged[f"{col}_b"].where(merged[f"{col}_b"].notna(), merged[f"{col}_a"])
    area_a = merged["area_m2_a"].astype(float).fillna(0.0).to_numpy()
    area_b = merged["area_m2_b"].astype(float).fillna(0.0).to_numpy()
    change = np.full(len(merged), "unchanged", dtype=object)
    change[(area_a <= 0) & (area_b > 0)] = "opened"
    change[(area_a > 0) & (area_b <= 0)] = "closed"
    both = (area_a > 0) & (area_b > 0)
    change[both & (area_b > area_a + 1e-6)] = "grown"
    change[both & (area_b < area_a - 1e-6)] = "shrunk"
    out = pd.DataFrame({
        "id": merged["id"], "name": merged["name"], "country": merged["country"],
        "area_a_m2": area_a, "area_b_m2": area_b,
        "served_a": merged["served_weight_a"].astype(float).fillna(0.0).to_numpy(),
        "served_b": merged["served_weight_b"].astype(float).fillna(0.0).to_numpy(),
        "change": change, "geometry": merged["geometry"],
    })[(area_a > 0) | (area_b > 0)].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def compare_map(
    plan_a: Plan,
    plan_b: Plan,
    *,
    path: str | os.PathLike[str] | None = None,
    self_contained: bool = True,
    show_unchanged: bool = True,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
) -> folium.Map:
    """Map what changes from ``plan_a`` to ``plan_b``.

    Sites opened, closed, grown and shrunk each get a layer and a colour; sites
    open in both with the same area are clustered in one more layer. Countries
    are coloured by the change of their covered share, in percentage points. A
    panel puts the two plans' headline figures side by side. The page keeps its
    layers in ``window.hzLayers`` (``opened``, ``closed``, ``grown``,
    ``shrunk``, ``unchanged``, ``countries``, ``outlines``).

    Parameters
    ----------
    plan_a, plan_b
        The plan before and after (sites matched by ``id``).
    path
        Where to write the HTML (atomically); ``None`` writes nothing.
    self_contained
        Inline Leaflet and its plugins (see :func:`plan_map`).
    show_unchanged
        Whether the layer of unchanged sites is on at first.
    tiles, tiles_attribution
        Optional tile layer (see :func:`plan_map`).

    Returns
    -------
    folium.Map

    Raises
    ------
    ValidationError
        If a plan lacks a column the map needs.

    Examples
    --------
    >>> compare_map(plan_2020, plan_2025, path="maps/compare.html")  # doctest: +SKIP
    """
    _check_plan(plan_a, "plan_a")
    _check_plan(plan_b, "plan_b")
    changes = site_changes(plan_a, plan_b)
    m = _new_map(_bounds(changes, plan_b.demand), tiles, tiles_attribution)
    layers: list[Any] = []
    delta = _delta_countries(plan_a, plan_b, fill_land=not tiles)
    if delta is not None:
        layers += delta
    name_of = _country_names(plan_a, plan_b)
    lon, lat = _lon_lat(changes) if len(changes) else (np.empty(0), np.empty(0))
    tiers = _tiers(plan_b)
    kinds = changes["change"].to_numpy()
    counts = {k: int((kinds == k).sum()) for k in CHANGE_COLORS}
    for kind in ("unchanged", "closed", "shrunk", "grown", "opened"):
        pos = np.flatnonzero(kinds == kind)
        if not len(pos):
            continue
        sub = changes.iloc[pos]
        radius = _tier_radius(_tier_index(np.maximum(sub["area_a_m2"], sub["area_b_m2"]),
                                          tiers), len(tiers))
        radii = sorted(set(radius.tolist()))
        styles = [{"radius": r, "color": "#67000d" if kind == "closed" else "#ffffff",
                   "weight": 1.2, "fill": True, "fillColor": CHANGE_COLORS[kind],
                   "fillOpacity": 0.5 if kind == "unchanged" else 0.92,
                   "className": f"hz-change hz-change-{kind}"} for r in radii]
        titles = [escape_text(n) for n in sub["name"]]
        cells = [[escape_text(c) for c in (
            _country_label(r.country, name_of), kind,
            f"{fmt(r.area_a_m2)} → {fmt(r.area_b_m2)} m²",
            f"{fmt(r.served_a)} → {fmt(r.served_b)}", r.id)]
            for r in sub.itertuples(index=False)]
        layers.append(_points(
            kind, f"{kind.capitalize()}: {len(pos):,} site{'s' if len(pos) != 1 else ''}",
            lat[pos], lon[pos],
            [radii.index(r) for r in radius.tolist()], styles, titles,
            [f"{t} · {kind}" for t in titles],
            ("Country", "Change", "Floor area", "Parcels/day served", "Site id"), cells,
            cluster=kind == "unchanged", show=show_unchanged or kind != "unchanged"))
    for layer in layers:
        layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _add_panels(m, f"{plan_a.title} → {plan_b.title}", _compare_rows(plan_a, plan_b, counts),
                _compare_legend(), sea=not tiles)
    _use_assets(m, self_contained=self_contained)
    if path is not None:
        write_map(m, path)
    return m


def _delta_countries(plan_a: Plan, plan_b: Plan, *, fill_land: bool
                     ) -> tuple[DataLayer, DataLayer] | None:
    cb = plan_b.countries
    if not _has_shapes(cb):
        return None
    share_a = (plan_a.countries.set_index("country")["covered_share"]
               if len(plan_a.countries) else pd.Series(dtype=float))
    props = []
    for row in cb.itertuples(index=False):
        a = finite(share_a.get(row.country))
        b = finite(row.covered_share)
        d = None if a is None or b is None else 100.0 * (b - a)
        name = getattr(row, "name", None)
        rows = [("Country", f"{name} ({row.country})" if isinstance(name, str) else row.country),
                ("Demand covered", f"{pct(a)} → {pct(b)}"),
                ("Change", DASH if d is None else f"{d:+.1f} points")]
        props.append({"s": _delta_bin(d), "t": rows_html(rows)})
    styles = [{"color": "#555555", "weight": 0.6, "fillColor": col, "fillOpacity": 0.6,
               "className": "hz-country"} for col in (*DELTA_COLORS, _NO_DEMAND)]
    return _countries_layers(cb, props, styles, name="Change of demand covered per country",
                             fill_land=fill_land)


def _compare_rows(plan_a: Plan, plan_b: Plan, counts: dict[str, int]) -> list[tuple[str, str]]:
    a, b = plan_a.summary(), plan_b.summary()

    def gap(s: dict[str, Any]) -> str:
        return DASH if s.get("gap") is None else pct(s["gap"], 2)

    return [
        ("Warehouses", f"{a['n_open']:,} → {b['n_open']:,}"),
        ("Floor area", f"{fmt(a['total_area_m2'])} → {fmt(b['total_area_m2'])} m²"),
        ("Demand covered", f"{pct(a['covered_share'])} → {pct(b['covered_share'])}"),
        ("Optimality gap", f"{gap(a)} → {gap(b)}"),
        ("Sites", ", ".join(f"{counts[k]:,} {k}" for k in ("opened", "closed", "grown",
                                                           "shrunk"))),
    ]


def _compare_legend() -> str:
    parts = ['<div class="hz-h">Sites</div>']
    parts += [_legend_row(_swatch_circle(c, 6), k) for k, c in CHANGE_COLORS.items()]
    parts.append('<div class="hz-h">Change of demand covered</div>')
    labels = ["down 10 points or more", "down 2–10 points", "within 2 points",
              "up 2–10 points", "up 10 points or more"]
    parts += [_legend_row(_swatch_box(c, opacity=0.7), lab)
              for c, lab in zip(DELTA_COLORS, labels, strict=True)]
    return "".join(parts)


_REQUIRED = {
    "sites": ("id", "name", "country", "open", "area_m2", "status", "served_weight", "geometry"),
    "demand": ("id", "country", "weight", "covered", "geometry"),
    "countries": ("country",),
}


def _check_plan(plan: Plan, label: str) -> None:
    problems = []
    for table, cols in _REQUIRED.items():
        frame = getattr(plan, table, None)
        if frame is None:
            problems.append(f"{label}.{table} is missing")
            continue
        missing = [c for c in cols if c not in frame.columns]
        if missing and len(frame):
            problems.append(f"{label}.{table} lacks the column(s) {', '.join(missing)}")
    if problems:
        raise ValidationError(problems)


def write_map(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Write a map's HTML atomically (a temporary file in the same folder, then a rename).

    Parameters
    ----------
    m
        A map from :func:`plan_map` or :func:`compare_map`.
    path
        Target file; its folder is created if needed.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    HzLogisticsError
        If a self-contained map would still load a script, stylesheet or image
        from the web.
    """
    target = Path(path)
    html = m.get_root().render()
    if getattr(m, "hz_self_contained", False):
        external = external_links(html)
        if external:
            raise HzLogisticsError(f"the self-contained map still links {external[:3]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*?\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^\"' >]*",
    flags=re.IGNORECASE)


def external_links(html: str) -> list[str]:
    """Tags of a page that load a script, stylesheet, image or frame from the web.

    Examples
    --------
    >>> external_links('<script src="https://x.org/a.js"></script><a href="https://x.org">x</a>')
    ['<script src="https://x.org/a.js']
    """
    return [m.group(0) for m in _EXTERNAL.finditer(html)]


__all__ = [
    "compare_map", "escape_text", "external_links", "plan_map", "service_areas",
    "site_changes", "write_map",
]
