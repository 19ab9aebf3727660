"""The roll-out part of a phased plan's map: a layer per year, a year slider, a legend.

:func:`hzlogistics.maps.plan_map` draws a phased plan (``plan.phases`` set) as
any plan, and adds from here:

- one layer of warehouses per year (``window.hzLayers["year_2019"]``): the
  sites open by that year at that year's floor area, the ones opening that year
  with an orange rim;
- a slider over the years (``#hz-years``) that shows one year's layer at a time
  (the last year's at first; the layer control switches them too);
- a legend section with each year's covered share, sites and openings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import folium
import numpy as np
from branca.element import Figure

from hzlogistics.maps.base import (
    country_label,
    country_names,
    legend_row,
    lon_lat,
    plan_tiers,
    points_layer,
    swatch_circle,
    tier_index,
    tier_radius,
)
from hzlogistics.maps.layers import DataLayer, RawHtml
from hzlogistics.maps.text import escape_text, fmt, pct, to_js

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

#: Rim of a warehouse that opens in the year shown.
OPENING_COLOR = "#ff7f00"

_LABELS = ("Country", "Opens", "Floor area this year", "Floor area in the last year", "Site id")

#: Shows one year's layer at a time; ``years`` and ``keys`` are filled in.
_SLIDER_JS = """
window.addEventListener('load', function () {
    var years = %(years)s, keys = %(keys)s;
    var input = document.getElementById('hz-years');
    var label = document.getElementById('hz-year-label');
    function show(k) {
        for (var i = 0; i < keys.length; i++) {
            var layer = window.hzLayers[keys[i]];
            if (i === k) { window.hzMap.addLayer(layer); } else { window.hzMap.removeLayer(layer); }
        }
        label.textContent = String(years[k]);
        input.value = String(k);
    }
    input.addEventListener('input', function () { show(parseInt(input.value, 10)); });
    window.hzShowYear = function (year) { show(years.indexOf(year)); };
});
"""


def _warehouses(n: int) -> str:
    return f"{n:,} warehouse" + ("" if n == 1 else "s")


def year_layers(plan: Plan, colors: list[str]) -> list[DataLayer]:
    """One layer of warehouses per year of the roll-out (only the last one shown at first).

    Parameters
    ----------
    plan
        A phased plan (``plan.phases`` set).
    colors
        Fill colour of each floor-area tier (as on the plan's own layer).

    Returns
    -------
    list of DataLayer
        Keys ``year_<year>``; circles sized and coloured by that year's tier, an
        orange rim for a site opening that year, a black one for an existing site.
    """
    assert plan.phases is not None
    sites = plan.sites
    years = plan.years
    tiers = plan_tiers(plan)
    radius = tier_radius(np.arange(len(tiers)), len(tiers))
    name_of = country_names(plan)
    lon, lat = lon_lat(sites)
    existing = sites["status"].to_numpy() == "existing"
    opened = sites["open_year"].to_numpy(dtype=float, na_value=np.nan)
    last = sites[f"area_m2_{years[-1]}"].to_numpy(dtype=float)
    # style 3*t + kind: kind 0 opened in an earlier year, 1 opening this year, 2 existing
    styles = []
    for t in range(len(tiers)):
        for rim, weight, cls in (("#ffffff", 1.2, "hz-site-open"),
                                 (OPENING_COLOR, 3.0, "hz-site-opening"),
                                 ("#111111", 2.0, "hz-site-existing")):
            styles.append({"radius": float(radius[t]), "color": rim, "weight": weight,
                           "fill": True, "fillColor": colors[t], "fillOpacity": 0.92,
                           "className": f"hz-site hz-year-site {cls}"})
    rows = plan.phases.table()
    layers = []
    for k, year in enumerate(years):
        area = sites[f"area_m2_{year}"].to_numpy(dtype=float)
        pos = np.flatnonzero(area > 0)
        opening = opened[pos] == year
        kind = np.where(existing[pos], 2, np.where(opening, 1, 0))
        idx = tier_index(area[pos], tiers)
        picked = sites.iloc[pos]
        titles = [escape_text(n) for n in picked["name"]]
        tips = [f"{t} · {escape_text(fmt(a, unit=' m²'))}"
                + (f" · opens in {year}" if o else "")
                for t, a, o in zip(titles, area[pos], opening, strict=True)]
        cells = [[escape_text(c) for c in (
            country_label(country, name_of),
            "existing" if ex else str(int(first)) if np.isfinite(first) else "–",
            fmt(a, unit=" m²"), fmt(z, unit=" m²"), sid)]
            for country, ex, first, a, z, sid in zip(
                picked["country"], existing[pos], opened[pos], area[pos], last[pos],
                picked["id"], strict=True)]
        row = rows[k]
        name = (f"{year}: {_warehouses(row['n_open'])} ({row['n_new']:,} opening), "
                f"{pct(row['covered_share'])} covered")
        layers.append(points_layer(
            f"year_{year}", name, lat[pos], lon[pos], (3 * idx + kind).tolist(), styles,
            titles, tips, _LABELS, cells, cluster=True, show=k == len(years) - 1))
    return layers


def rollout_legend(plan: Plan) -> str:
    """The legend's roll-out section: the rims, and each year's covered share and sites (HTML)."""
    assert plan.phases is not None
    parts = ['<div class="hz-h">Roll-out (slider at the top)</div>',
             legend_row(swatch_circle("#bdbdbd", 6, OPENING_COLOR, 3), "opens in the year shown")]
    for row in plan.phases.table():
        parts.append(f'<div class="hz-row hz-year-row" data-year="{int(row["year"])}">'
                     + escape_text(f"{row['year']}: {pct(row['covered_share'])} covered, "
                                   f"{_warehouses(row['n_open'])} (+{row['n_new']:,})")
                     + "</div>")
    return "".join(parts)


def add_year_slider(m: folium.Map, plan: Plan) -> None:
    """Add the slider that shows one year's layer at a time (the last year's at first)."""
    years = [int(y) for y in plan.years]
    root = m.get_root()
    assert isinstance(root, Figure)
    panel = (
        '<div class="hz-panel" id="hz-year-panel" style="top: 10px; left: 50%; '
        'transform: translateX(-50%);"><label for="hz-years"><b>Year</b> '
        f'<span id="hz-year-label">{years[-1]}</span></label><br>'
        f'<input type="range" id="hz-years" min="0" max="{len(years) - 1}" step="1" '
        f'value="{len(years) - 1}" style="width: {max(120, 60 * len(years))}px;" '
        f'list="hz-year-ticks"><datalist id="hz-year-ticks">'
        + "".join(f'<option value="{k}" label="{y}"></option>' for k, y in enumerate(years))
        + "</datalist></div>")
    root.html.add_child(RawHtml(panel), name="hz_year_panel")
    # the year layers lengthen the layer control: the legend scrolls rather than run under it
    root.header.add_child(RawHtml(
        "<style>#hz-legend {max-height: calc(100vh - 360px); overflow-y: auto;}</style>"),
        name="hz_year_css")
    script = _SLIDER_JS % {"years": to_js(years), "keys": to_js([f"year_{y}" for y in years])}
    root.script.add_child(RawHtml(script), name="hz_year_slider")
