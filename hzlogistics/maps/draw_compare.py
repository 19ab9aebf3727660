"""The map of what changes between two plans (:func:`compare_map`)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from hzlogistics.maps.base import (
    NO_DEMAND_COLOR,
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
    DataLayer,
)
from hzlogistics.maps.text import DASH, escape_text, finite, fmt, pct, rows_html

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

logger = logging.getLogger(__name__)
#: Compare map: change of each site.
CHANGE_COLORS: dict[str, str] = {
    "opened": "#1a9641", "closed": "#d7191c", "grown": "#2c7bb6", "shrunk": "#fdae61",
    "unchanged": "#969696",
}
#: Compare map: change of the covered share per country, percentage points.
DELTA_BINS_PP: tuple[float, ...] = (-10.0, -2.0, 2.0, 10.0)
DELTA_COLORS: tuple[str, ...] = ("#d7191c", "#fdae61", "#f7f7f7", "#a6d96a", "#1a9641")


def _delta_bin(delta_pp: float | None) -> int:
    """Index into DELTA_COLORS, or 5 (grey) where the change is unknown."""
    return 5 if delta_pp is None else int(np.searchsorted(DELTA_BINS_PP, delta_pp, side="right"))


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
        Inline Leaflet and its plugins (see :func:`~hzlogistics.maps.draw_plan.plan_map`).
    show_unchanged
        Whether the layer of unchanged sites is on at first.
    tiles, tiles_attribution
        Optional tile layer (see :func:`~hzlogistics.maps.draw_plan.plan_map`).

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
    check_plan(plan_a, "plan_a")
    check_plan(plan_b, "plan_b")
    changes = site_changes(plan_a, plan_b)
    m = new_map(map_bounds(changes, plan_b.demand), tiles, tiles_attribution)
    layers: list[Any] = []
    delta = _delta_countries(plan_a, plan_b, fill_land=not tiles)
    if delta is not None:
        layers += delta
    name_of = country_names(plan_a, plan_b)
    lon, lat = lon_lat(changes) if len(changes) else (np.empty(0), np.empty(0))
    tiers = plan_tiers(plan_b)
    kinds = changes["change"].to_numpy()
    counts = {k: int((kinds == k).sum()) for k in CHANGE_COLORS}
    for kind in ("unchanged", "closed", "shrunk", "grown", "opened"):
        pos = np.flatnonzero(kinds == kind)
        if not len(pos):
            continue
        sub = changes.iloc[pos]
        radius = tier_radius(tier_index(np.maximum(sub["area_a_m2"], sub["area_b_m2"]),
                                          tiers), len(tiers))
        radii = sorted(set(radius.tolist()))
        styles = [{"radius": r, "color": "#67000d" if kind == "closed" else "#ffffff",
                   "weight": 1.2, "fill": True, "fillColor": CHANGE_COLORS[kind],
                   "fillOpacity": 0.5 if kind == "unchanged" else 0.92,
                   "className": f"hz-change hz-change-{kind}"} for r in radii]
        titles = [escape_text(n) for n in sub["name"]]
        cells = [[escape_text(c) for c in (
            country_label(r.country, name_of), kind,
            f"{fmt(r.area_a_m2)} → {fmt(r.area_b_m2)} m²",
            f"{fmt(r.served_a)} → {fmt(r.served_b)}", r.id)]
            for r in sub.itertuples(index=False)]
        layers.append(points_layer(
            kind, f"{kind.capitalize()}: {len(pos):,} site{'s' if len(pos) != 1 else ''}",
            lat[pos], lon[pos],
            [radii.index(r) for r in radius.tolist()], styles, titles,
            [f"{t} · {kind}" for t in titles],
            ("Country", "Change", "Floor area", "Parcels/day served", "Site id"), cells,
            cluster=kind == "unchanged", show=show_unchanged or kind != "unchanged"))
    for layer in layers:
        layer.add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    add_panels(m, f"{plan_a.title} → {plan_b.title}", _compare_rows(plan_a, plan_b, counts),
                _compare_legend(), sea=not tiles)
    use_assets(m, self_contained=self_contained)
    if path is not None:
        write_map(m, path)
    return m


def _delta_countries(plan_a: Plan, plan_b: Plan, *, fill_land: bool
                     ) -> tuple[DataLayer, DataLayer] | None:
    cb = plan_b.countries
    if not has_shapes(cb):
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
               "className": "hz-country"} for col in (*DELTA_COLORS, NO_DEMAND_COLOR)]
    return countries_layers(cb, props, styles, name="Change of demand covered per country",
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
    parts += [legend_row(swatch_circle(c, 6), k) for k, c in CHANGE_COLORS.items()]
    parts.append('<div class="hz-h">Change of demand covered</div>')
    labels = ["down 10 points or more", "down 2–10 points", "within 2 points",
              "up 2–10 points", "up 10 points or more"]
    parts += [legend_row(swatch_box(c, opacity=0.7), lab)
              for c, lab in zip(DELTA_COLORS, labels, strict=True)]
    return "".join(parts)

__all__ = [
    "CHANGE_COLORS",
    "DELTA_BINS_PP",
    "DELTA_COLORS",
    "compare_map",
    "site_changes",
]
