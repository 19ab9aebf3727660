"""What every map shares: the palette, the base map of country outlines, point
layers, the title panel and legend, the offline assets, and writing the HTML.

:mod:`hzlogistics.maps.draw_plan` and :mod:`hzlogistics.maps.draw_compare`
build their maps from these pieces.
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
from hzlogistics._errors import HzLogisticsError, ValidationError
from hzlogistics.maps import assets as _assets
from hzlogistics.maps.layers import (
    CLUSTER_ASSETS,
    POINTS_JS,
    SHAPES_JS,
    DataLayer,
    RawHtml,
    shapes_payload,
)
from hzlogistics.maps.text import escape_text, rows_html

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------- colours

#: Sites: floor-area tiers, smallest to largest (light to dark purple).
TIER_COLORS: tuple[str, ...] = ("#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3",
                                "#54278f", "#3f007d")
#: Countries: share of demand covered, in five bins of 20 % (pale to dark green).
COVERAGE_COLORS: tuple[str, ...] = ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c")

_SEA = "#dbe9f4"
_LAND = "#f6f4ee"
_OUTLINE = "#8f8f8f"
NO_DEMAND_COLOR = "#d9d9d9"
# chunked loading is left off: markercluster 1.1.0 can fail on a move during it, and
# adding a few thousand markers at once takes well under a second
_CLUSTER_OPTIONS = {"maxClusterRadius": 45, "showCoverageOnHover": False,
                    "spiderfyOnMaxZoom": True, "chunkedLoading": False}
#: Parts of country outlines smaller than this are left out of the map, square degrees.
_MIN_PART_DEG2 = 0.005


def plan_tiers(plan: Plan) -> np.ndarray:
    """The size tiers of a plan, m² (the default tiers for a plan read back from files)."""
    if plan.problem is not None and len(plan.problem.tiers_m2):
        return np.asarray(plan.problem.tiers_m2, dtype=float)
    return np.asarray(settings.SIZE_TIERS_M2, dtype=float)


def tier_index(area_m2: np.ndarray, tiers: np.ndarray) -> np.ndarray:
    """The tier of each area: the largest tier not above it (0 for smaller areas)."""
    idx = np.searchsorted(tiers, np.asarray(area_m2, dtype=float) + 1e-9, side="right") - 1
    return np.clip(idx, 0, len(tiers) - 1)


def tier_radius(idx: np.ndarray | int, n_tiers: int) -> np.ndarray:
    """Marker radius, px, of each tier index: 4 for the smallest, 16 for the largest."""
    return np.round(4.0 + 12.0 * np.asarray(idx, dtype=float) / max(n_tiers - 1, 1), 1)


# -------------------------------------------------------------------- geometry

def lon_lat(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
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


# ---------------------------------------------------------------------- layers

def new_map(bounds: list[list[float]] | None, tiles: str | None,
             tiles_attribution: str | None) -> folium.Map:
    """An empty map fitted to ``bounds``, with optional tiles and the panes of the layers."""
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


def map_bounds(*frames: gpd.GeoDataFrame) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` around every point of the frames (``None`` if none)."""
    lons, lats = [], []
    for f in frames:
        if f is not None and len(f):
            lon, lat = lon_lat(f)
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return None
    lon, lat = np.concatenate(lons), np.concatenate(lats)
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]


def country_names(*plans: Plan) -> dict[str, str]:
    """Country name by code, from the plans' country tables."""
    out: dict[str, str] = {}
    for plan in plans:
        c = plan.countries
        if len(c) and "name" in c.columns:
            out.update({str(k): str(v) for k, v in zip(c["country"], c["name"], strict=True)
                        if isinstance(v, str) and v})
    return out


def country_label(code: object, name_of: dict[str, str]) -> str:
    """``"Name (XX)"`` when the name is known, else the code."""
    code = str(code)
    return f"{name_of[code]} ({code})" if code in name_of else code


def has_shapes(countries: gpd.GeoDataFrame | None) -> bool:
    """Whether a country table has outlines to draw."""
    if not isinstance(countries, gpd.GeoDataFrame) or not len(countries):
        return False
    try:
        geometry = countries.geometry
    except AttributeError:  # no active geometry column
        return False
    return not geometry.isna().all()


def countries_layers(countries: gpd.GeoDataFrame, props: list[dict[str, Any]],
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


def points_layer(key: str, name: str, lat: np.ndarray, lon: np.ndarray, style_idx: Sequence[int],
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


def swatch_circle(color: str, radius: float, border: str = "#ffffff",
                   border_px: float = 1.0) -> str:
    """A round legend swatch (HTML)."""
    d = 2 * radius
    return (f'<span class="hz-sw" style="width:{d:.0f}px;height:{d:.0f}px;border-radius:50%;'
            f'background:{color};border:{border_px:g}px solid {border};"></span>')


def swatch_box(color: str, border: str = "#555555", opacity: float = 1.0) -> str:
    """A square legend swatch (HTML)."""
    return (f'<span class="hz-sw" style="width:16px;height:11px;background:{color};'
            f'opacity:{opacity:g};border:1px solid {border};"></span>')


def legend_row(swatch: str, text: str) -> str:
    """One legend row: a swatch and its (escaped) text (HTML)."""
    return f'<div class="hz-row">{swatch}{escape_text(text)}</div>'


def add_panels(m: folium.Map, title: str, rows: list[tuple[str, str]], legend_html: str,
                *, sea: bool) -> None:
    """Add the page title, the stylesheet, the title panel with ``rows`` and the legend."""
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


# ---------------------------------------------------------------------- assets

def _descendants(element: Element) -> Iterable[Element]:
    for child in element._children.values():
        yield child
        yield from _descendants(child)


def use_assets(m: folium.Map, *, self_contained: bool) -> None:
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


_REQUIRED = {
    "sites": ("id", "name", "country", "open", "area_m2", "status", "served_weight", "geometry"),
    "demand": ("id", "country", "weight", "covered", "geometry"),
    "countries": ("country",),
}


def check_plan(plan: Plan, label: str) -> None:
    """Raise :class:`ValidationError` when a plan lacks a table or column the maps read."""
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
    "COVERAGE_COLORS",
    "NO_DEMAND_COLOR",
    "TIER_COLORS",
    "add_panels",
    "check_plan",
    "countries_layers",
    "country_label",
    "country_names",
    "external_links",
    "has_shapes",
    "legend_row",
    "lon_lat",
    "map_bounds",
    "new_map",
    "plan_tiers",
    "points_layer",
    "swatch_box",
    "swatch_circle",
    "tier_index",
    "tier_radius",
    "use_assets",
    "write_map",
]
