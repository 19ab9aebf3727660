"""The map of one plan (:func:`plan_map`).

The warehouses (clustered, sized and coloured by floor-area tier, with a popup
each), their service areas, demand as a heat map with the uncovered points
marked, a choropleth of the share of demand covered per country, the inbound sea
lanes from Ningbo–Zhoushan, a legend and a panel with the headline figures.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzlogistics import settings
from hzlogistics._errors import HzLogisticsError, MissingDependencyError
from hzlogistics.maps import draw_landed
from hzlogistics.maps.base import (
    COVERAGE_COLORS,
    NO_DEMAND_COLOR,
    TIER_COLORS,
    add_panels,
    check_plan,
    countries_layers,
    country_label,
    country_names,
    has_shapes,
    legend_row,
    lon_lat,
    map_bounds,
    new_map,
    plan_tiers,
    points_layer,
    swatch_box,
    swatch_circle,
    tier_index,
    tier_radius,
    use_assets,
    write_map,
)
from hzlogistics.maps.layers import (
    HEAT_ASSETS,
    HEAT_JS,
    SHAPES_JS,
    DataLayer,
    shapes_payload,
)
from hzlogistics.maps.sealanes import sea_lanes as _sea_lanes
from hzlogistics.maps.text import DASH, escape_text, finite, fmt, pct, rows_html

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

logger = logging.getLogger(__name__)
_SERVICE = "#6a51a3"
_UNCOVERED = "#e7298a"
_LANE = "#1f4e79"
_HEAT_GRADIENT = {"0.2": "#fee391", "0.45": "#fec44f", "0.65": "#fe9929", "0.85": "#ec7014",
                  "1": "#cc4c02"}


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


def _coverage_bin(share: float | None) -> int:
    """Index into COVERAGE_COLORS, or 5 (grey) for a country without demand."""
    return 5 if share is None else min(int(max(share, 0.0) * 5), 4)


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
    slon, slat = lon_lat(sites.iloc[open_idx])
    group = pd.Index(open_ids).get_indexer(a["site_id"])
    dpos = pd.Index(demand["id"]).get_indexer(a["demand_id"])
    keep = (group >= 0) & (dpos >= 0) & (a["weight"].to_numpy(dtype=float) > 0)
    dlon, dlat = lon_lat(demand) if len(demand) else (np.empty(0), np.empty(0))
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


def _plan_countries(plan: Plan, *, fill_land: bool) -> list[DataLayer] | None:
    """Country outlines, the coverage choropleth and, for a landed-cost plan, the landed
    cost per parcel (shown at first instead of the coverage)."""
    c = plan.countries
    if not has_shapes(c):
        return None
    landed, landed_styles, _ = draw_landed.country_props(plan)
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
    if landed:
        props = [{**p, **q} for p, q in zip(props, landed, strict=True)]
    styles = [{"color": "#555555", "weight": 0.6, "fillColor": col, "fillOpacity": 0.55,
               "className": "hz-country"} for col in (*COVERAGE_COLORS, NO_DEMAND_COLOR)]
    base, coverage = countries_layers(c, props, styles, name="Demand covered per country",
                                      fill_land=fill_land)
    if not landed:
        return [base, coverage]
    coverage.show = False
    return [base, coverage, draw_landed.countries_layer(base, landed_styles)]


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
        country_label(row.country, name_of),
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
    tiers = plan_tiers(plan)
    colors = _ramp(TIER_COLORS, len(tiers))
    radius = tier_radius(np.arange(len(tiers)), len(tiers))
    name_of = country_names(plan)
    lon, lat = lon_lat(sites)
    is_open = np.asarray(sites["open"], dtype=bool)
    idx = tier_index(sites["area_m2"].to_numpy(dtype=float), tiers)
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
    labels: tuple[str, ...] = _SITE_LABELS
    landed = draw_landed.site_cells(plan)
    if landed:
        labels = (*_SITE_LABELS[:-1], *draw_landed.SITE_LABELS, _SITE_LABELS[-1])
        blank = [DASH] * len(draw_landed.SITE_LABELS)
        cells = [[*c[:-1], *landed.get(str(r.id), blank), c[-1]]
                 for c, r in zip(cells, rows, strict=True)]
    n_existing = int(existing[open_pos].sum())
    layers = [points_layer(
        "sites", f"Warehouses: {len(open_pos):,} open ({n_existing:,} existing)",
        lat[open_pos], lon[open_pos], (2 * idx[open_pos] + existing[open_pos]).tolist(), styles,
        titles, tips, labels, cells, cluster=True)]
    closed_pos = np.flatnonzero(~is_open)
    if show_candidates and len(closed_pos):
        rows = list(sites.iloc[closed_pos].itertuples(index=False))
        titles = [escape_text(r.name) for r in rows]
        cells = [[escape_text(c) for c in (
            country_label(r.country, name_of), getattr(r, "kind", DASH),
            fmt(getattr(r, "max_area_m2", None), unit=" m²"),
            fmt(getattr(r, "rent_usd_m2_year", None), unit=" USD / m² / year"), r.id)]
            for r in rows]
        style = {"radius": 3.5, "color": "#636363", "weight": 1.0, "fill": True,
                 "fillColor": "#ffffff", "fillOpacity": 0.7, "className": "hz-candidate"}
        layers.append(points_layer(
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
    lon, lat = lon_lat(demand)
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
    lon, lat = lon_lat(u)
    names = u["name"] if "name" in u.columns else u["id"]
    tips = [escape_text(f"{n} ({c}): {fmt(w)} parcels/day not covered")
            for n, c, w in zip(names, u["country"], u["weight"], strict=True)]
    style = {"radius": 3.5, "color": "#67001f", "weight": 0.8, "fill": True,
             "fillColor": _UNCOVERED, "fillOpacity": 0.9}
    title = (f"Uncovered demand points ({n_all:,})" if n_all == len(u) else
             f"Uncovered demand points (the {len(u):,} largest of {n_all:,})")
    return points_layer("uncovered", title, lat, lon,
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
    name_of = country_names(plan)
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


def _plan_legend(plan: Plan, *, lanes: bool, uncovered: bool,
                 drawn: Sequence[str] = (), landed_bounds: np.ndarray | None = None) -> str:
    tiers = plan_tiers(plan)
    colors = _ramp(TIER_COLORS, len(tiers))
    radius = tier_radius(np.arange(len(tiers)), len(tiers))
    parts = ['<div class="hz-h">Warehouse floor area</div>']
    parts += [legend_row(swatch_circle(c, min(float(r), 9.0)), f"{t:,.0f} m²")
              for t, c, r in zip(tiers, colors, radius, strict=True)]
    mid = colors[len(colors) // 2]
    parts.append(legend_row(swatch_circle(mid, 6, "#ffffff", 1.5), "new (white rim)"))
    parts.append(legend_row(swatch_circle(mid, 6, "#111111", 2), "existing (black rim)"))
    parts.append('<div class="hz-h">Demand covered per country</div>')
    labels = ["under 20 %", "20–40 %", "40–60 %", "60–80 %", "80 % and more"]
    parts += [legend_row(swatch_box(c, opacity=0.7), lab)
              for c, lab in zip(COVERAGE_COLORS, labels, strict=True)]
    landed = landed_bounds is not None
    if landed:
        assert landed_bounds is not None
        parts.append(draw_landed.legend_html(plan, landed_bounds, lanes=lanes))
    parts.append('<div class="hz-h">Layers</div>')
    parts.append(legend_row(swatch_box(_SERVICE, _SERVICE, 0.35), "service area of a site"))
    parts.append(legend_row(
        '<span class="hz-sw" style="width:16px;height:11px;background:linear-gradient(90deg,'
        '#fee391,#fe9929,#cc4c02);"></span>', "demand, parcels/day"))
    if uncovered:
        parts.append(legend_row(swatch_circle(_UNCOVERED, 4, "#67001f"),
                                 "demand point not covered"))
    if lanes and not landed:
        parts.append(legend_row(
            f'<span class="hz-sw" style="width:18px;border-top:2px dashed {_LANE};"></span>',
            f"sea lane from {settings.SEA_ORIGIN_NAME}"))
    if drawn:
        parts.append('<div class="hz-h">Drawn at this scale</div>')
        parts += [f'<div class="hz-note">{escape_text(line)}</div>' for line in drawn]
    return "".join(parts)


def drawn_notes(plan: Plan, max_heat_points: int, max_uncovered_points: int) -> list[str]:
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
        *([row] if (row := draw_landed.headline_row(plan)) is not None else []),
    ]


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
    country, and the sea lanes from Ningbo–Zhoushan. A plan of the ``landed``
    objective draws instead the sea lanes to its ports of entry (weighted by
    volume, their cost in the tooltip), adds a choropleth of the landed cost per
    parcel by country and each warehouse's breakdown in its popup
    (:mod:`hzlogistics.maps.draw_landed`). A panel shows the headline
    figures, another the legend. A phased roll-out adds a layer of warehouses per
    year (``year_<year>``; the sites opening that year with an orange rim), a
    slider that shows one year at a time, and each year's covered share in the
    legend (see :mod:`hzlogistics.maps.draw_rollout`); its own warehouse layer is
    then off at first. The page keeps its Leaflet layers in
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
    check_plan(plan, "plan")
    m = new_map(map_bounds(plan.open_sites, plan.demand), tiles, tiles_attribution)
    layers: list[Any] = []
    countries = _plan_countries(plan, fill_land=not tiles)
    if countries is not None:
        layers += countries
    if show_service_areas:
        layers.append(_service_layer(plan))
    layers.append(_heat_layer(plan, max_heat_points))
    uncovered = _uncovered_layer(plan, max_uncovered_points)
    landed = draw_landed.breakdown_of(plan) is not None
    if not sea_lanes:
        lanes = None
    else:
        lanes = draw_landed.lanes_layer(plan) if landed else _lanes_layer(plan)
    site_layers = _sites_layers(plan, show_candidates=show_candidates)
    legend = _plan_legend(plan, lanes=lanes is not None, uncovered=uncovered is not None,
                          drawn=drawn_notes(plan, max_heat_points, max_uncovered_points),
                          landed_bounds=draw_landed.country_props(plan)[2] if landed
                          else None)
    if plan.phases is not None:  # a roll-out: a layer per year, the last one shown
        from hzlogistics.maps import draw_rollout

        site_layers[0].show = False
        site_layers += draw_rollout.year_layers(
            plan, _ramp(TIER_COLORS, len(plan_tiers(plan))))
        legend = draw_rollout.rollout_legend(plan) + legend
    layers += [uncovered, lanes, *site_layers]
    for layer in layers:
        if layer is not None:
            layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    add_panels(m, plan.title, _headline_rows(plan), legend, sea=not tiles)
    if plan.phases is not None:
        draw_rollout.add_year_slider(m, plan)
    use_assets(m, self_contained=self_contained)
    if path is not None:
        write_map(m, path)
    return m

__all__ = [
    "plan_map",
    "service_areas",
]
