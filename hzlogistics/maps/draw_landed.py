"""The landed-cost parts of a plan's map (:func:`hzlogistics.maps.plan_map`).

A plan of the ``landed`` objective carries its cost breakdown
(``plan.result.info["landed"]``, a
:class:`~hzlogistics.models.landed.LandedBreakdown`). Its map then shows

- the sea lanes from the port of departure to each port of entry used, their
  line weight growing with the parcels they bring, their volume, sea km and
  yearly sea freight and port handling in the tooltip;
- a choropleth of the landed cost per parcel by country (the warehouse's
  country), in five classes of the countries' values;
- in each warehouse's popup its port of entry and its cost per parcel,
  broken down into inbound (sea, port, drayage, duty), rent and fixed cost and
  last mile.

Every text is escaped (:func:`~hzlogistics.maps.text.escape_text`) before it
enters the page.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from hzlogistics import settings
from hzlogistics._errors import MissingDependencyError
from hzlogistics.maps.base import NO_DEMAND_COLOR, country_names, legend_row, swatch_box
from hzlogistics.maps.layers import SHAPES_JS, DataLayer, shapes_payload
from hzlogistics.maps.sealanes import Port, find_port, sea_route
from hzlogistics.maps.text import DASH, escape_text, finite

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.models.landed import LandedBreakdown
    from hzlogistics.plan import Plan

logger = logging.getLogger(__name__)

#: Colours of the five classes of landed cost per parcel, cheapest first.
COST_COLORS: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
_LANE = "#08519c"
#: Line weight of the busiest and of the quietest sea lane, px.
LANE_WEIGHT_PX: tuple[float, float] = (1.5, 9.0)

#: Labels of a warehouse popup's landed-cost rows.
SITE_LABELS: tuple[str, ...] = ("Port of entry", "Inbound", "Rent + fixed", "Last mile",
                                "Landed cost")


def breakdown_of(plan: Plan) -> LandedBreakdown | None:
    """The plan's landed-cost breakdown, or ``None`` (another objective, a plan read back)."""
    info = getattr(plan.result, "info", None) or {}
    return info.get("landed")


def _usd(x: object, digits: int = 2) -> str:
    v = finite(x)
    return DASH if v is None else f"USD {v:,.{digits}f}"


def _names(plan: Plan) -> dict[str, str]:
    sites = plan.sites
    if "name" not in sites.columns:
        return {}
    return {str(i): str(n) for i, n in zip(sites["id"], sites["name"], strict=True)
            if isinstance(n, str)}


# ---------------------------------------------------------------------- choropleth

def cost_classes(values: np.ndarray) -> np.ndarray:
    """Upper bounds of the five classes of cost per parcel (quintiles of ``values``).

    Examples
    --------
    >>> cost_classes(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).tolist()
    [2.0, 3.0, 4.0, 5.0, 6.0]
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return np.zeros(0)
    return np.quantile(v, [0.2, 0.4, 0.6, 0.8, 1.0])


def cost_class(value: float | None, bounds: np.ndarray) -> int:
    """Index into :data:`COST_COLORS`, or 5 (grey) for a country without a value."""
    if value is None or not len(bounds):
        return 5
    return min(int(np.searchsorted(bounds, value, side="left")), 4)


def country_props(plan: Plan) -> tuple[list[dict[str, Any]], list[dict[str, Any]], np.ndarray]:
    """Per row of ``plan.countries``: landed style (``ls``) and tooltip (``lt``).

    Returns
    -------
    props, styles, bounds
        The properties to merge into the country shapes' properties, the
        styles they index, and the class bounds (USD per parcel).
    """
    b = breakdown_of(plan)
    if b is None:
        return [], [], np.zeros(0)
    by = b.by_country.set_index("country")
    bounds = cost_classes(by["usd_per_parcel"].to_numpy(dtype=float))
    name_of = country_names(plan)
    props = []
    for code in plan.countries["country"].astype(str).tolist():
        row = by.loc[code] if code in by.index else None
        per = None if row is None else finite(row["usd_per_parcel"])
        label = f"{name_of.get(code, code)} ({code})"
        if per is None:
            tip = f"{label}: no warehouse"
        else:
            assert row is not None
            parcels = float(row["parcels_year"])
            inbound = (row["sea"] + row["port"] + row["drayage"] + row["duty"]) / parcels
            tip = (f"{label}: landed cost USD {per:,.2f} per parcel (inbound USD "
                   f"{inbound:,.2f}, rent + fixed USD {(row['rent'] + row['fixed']) / parcels:,.2f}"
                   f", last mile USD {row['last_mile'] / parcels:,.2f}); "
                   f"USD {row['total']:,.0f} / year")
        props.append({"ls": cost_class(per, bounds), "lt": escape_text(tip)})
    styles = [{"color": "#555555", "weight": 0.6, "fillColor": c, "fillOpacity": 0.6,
               "className": "hz-landed-country"} for c in (*COST_COLORS, NO_DEMAND_COLOR)]
    return props, styles, bounds


def countries_layer(base: DataLayer, styles: list[dict[str, Any]]) -> DataLayer:
    """The choropleth of landed cost per parcel, drawn from ``base``'s shapes."""
    return DataLayer("landed_countries", SHAPES_JS, None,
                     {"tooltips": True, "styleKey": "ls", "tipKey": "lt", "styles": styles,
                      "highlight": {"weight": 2.0, "color": "#222222"}},
                     data_from=base, name="Landed cost per parcel by country")


# ---------------------------------------------------------------------- sea lanes

def _origin(code: str) -> tuple[str, tuple[float, float]]:
    """Name and position of the port of departure."""
    name = settings.ORIGIN_PORTS.get(code, code)
    if code == settings.LANDED_ORIGIN:
        return settings.SEA_ORIGIN_NAME, settings.SEA_ORIGIN_LON_LAT
    port = find_port(code.removeprefix("port-"))
    return name, ((port.lon, port.lat) if port is not None else settings.SEA_ORIGIN_LON_LAT)


def lane_weights(parcels_day: np.ndarray) -> np.ndarray:
    """Line weight of each lane, px: growing with the square root of its volume.

    Examples
    --------
    >>> lane_weights(np.array([0.0, 25.0, 100.0])).tolist()
    [1.5, 5.25, 9.0]
    """
    v = np.maximum(np.asarray(parcels_day, dtype=float), 0.0)
    top = float(v.max()) if len(v) else 0.0
    lo, hi = LANE_WEIGHT_PX
    if top <= 0:
        return np.full(len(v), lo)
    return np.round(lo + (hi - lo) * np.sqrt(v / top), 2)


def lanes_layer(plan: Plan) -> DataLayer | None:
    """Sea lanes from the port of departure to each port of entry used, weighted by volume."""
    b = breakdown_of(plan)
    if b is None or not len(b.ports):
        return None
    origin_name, origin_xy = _origin(b.origin)
    sites = plan.sites.set_index(plan.sites["id"].astype(str))
    names = _names(plan)
    name_of = country_names(plan)
    weights = lane_weights(b.ports["parcels_day"].to_numpy(dtype=float))
    geoms, props, styles = [], [], []
    try:
        for k, r in enumerate(b.ports.itertuples(index=False)):
            pid = str(r.port)
            port = find_port(pid.removeprefix("port-"))
            if port is None and pid in sites.index:
                pt = sites.geometry[pid]
                port = Port(pid, names.get(pid, pid), float(pt.x), float(pt.y))
            route = None if port is None else sea_route(port, origin_lon_lat=origin_xy)
            if route is None:
                logger.info("no sea route drawn to %s", pid)
                continue
            parcels_year = float(r.parcels_day) * b.days_per_year
            inbound = float(r.sea_usd_year) + float(r.port_usd_year)
            per = inbound / parcels_year if parcels_year > 0 else math.nan
            geoms.append(route[1])
            styles.append({"color": _LANE, "weight": float(weights[k]), "opacity": 0.8,
                           "fill": False, "className": "hz-landed-lane"})
            props.append({"s": len(styles) - 1, "t": escape_text(
                f"{origin_name} → {names.get(pid, pid)} "
                f"({name_of.get(str(r.country), str(r.country))}): "
                f"{float(r.parcels_day):,.0f} parcels/day, {float(r.containers_year):,.0f} "
                f"containers/year, {float(r.sea_km):,.0f} km by sea; sea freight "
                f"USD {float(r.sea_usd_year):,.0f} + port handling "
                f"USD {float(r.port_usd_year):,.0f} per year (USD {per:,.2f} per parcel); "
                f"{int(r.sites):,} warehouses")})
    except MissingDependencyError as exc:
        logger.warning("%s; the map has no sea lanes", exc)
        return None
    if not geoms:
        return None
    n = len(geoms)
    geoms.append(shapely.Point(origin_xy))
    styles.append({"radius": 6, "color": "#ffffff", "weight": 2, "fill": True,
                   "fillColor": _LANE, "fillOpacity": 1.0, "className": "hz-origin"})
    props.append({"s": len(styles) - 1, "t": escape_text(f"{origin_name}: port of departure")})
    data = shapes_payload(geoms, props, styles, 3)
    return DataLayer("sea_lanes", SHAPES_JS, data,
                     {"tooltips": True, "pane": "hzLanes",
                      "highlight": {"opacity": 1.0, "color": "#e6550d"}},
                     name=f"Sea lanes from {origin_name} to {n} ports of entry")


# ---------------------------------------------------------------------- warehouses

def site_cells(plan: Plan) -> dict[str, list[str]]:
    """Escaped popup cells (:data:`SITE_LABELS`) of each open warehouse, by site id."""
    b = breakdown_of(plan)
    if b is None:
        return {}
    names = _names(plan)
    out = {}
    for r in b.sites.itertuples(index=False):
        parcels_year = float(r.parcels_day) * b.days_per_year

        def per(usd: float, p: float = parcels_year) -> float:
            return usd / p if p > 0 else math.nan

        port = str(r.port)
        duty = finite(r.duty_usd_per_parcel)
        inbound = (f"{_usd(r.inbound_usd_per_parcel)} per parcel (sea "
                   f"{_usd(r.sea_usd_per_parcel)}, port {_usd(r.port_usd_per_parcel)}, drayage "
                   f"{_usd(r.drayage_usd_per_parcel)}" + (f", duty {_usd(duty)}" if duty else "")
                   + ")")
        cells = [
            DASH if not port else f"{names.get(port, port)} ({port}), "
                                  f"{finite(r.drayage_km) or 0.0:,.0f} km by road",
            inbound,
            f"{_usd(float(r.rent) + float(r.fixed), 0)} / year "
            f"({_usd(per(float(r.rent) + float(r.fixed)))} per parcel)",
            f"{_usd(r.last_mile, 0)} / year ({_usd(per(float(r.last_mile)))} per parcel)",
            f"{_usd(r.usd_per_parcel)} per parcel",
        ]
        out[str(r.site)] = [escape_text(c) for c in cells]
    return out


# ---------------------------------------------------------------------- panels

def headline_row(plan: Plan) -> tuple[str, str] | None:
    """The landed cost for the headline panel."""
    b = breakdown_of(plan)
    if b is None:
        return None
    return ("Landed cost", f"USD {b.usd_per_parcel:,.2f} per parcel "
                           f"(USD {b.totals['total'] / 1e6:,.1f} M / year)")


def legend_html(plan: Plan, bounds: np.ndarray, *, lanes: bool) -> str:
    """The legend's landed-cost part: the cost classes and the sea lanes."""
    parts = ['<div class="hz-h">Landed cost per parcel by country</div>']
    lo = 0.0
    for c, hi in zip(COST_COLORS, bounds.tolist(), strict=False):
        parts.append(legend_row(swatch_box(c, opacity=0.7),
                                escape_text(f"USD {lo:,.2f}–{hi:,.2f}")))
        lo = hi
    if lanes:
        b = breakdown_of(plan)
        origin = _origin(b.origin)[0] if b is not None else settings.SEA_ORIGIN_NAME
        parts.append(legend_row(
            f'<span class="hz-sw" style="width:18px;border-top:4px solid {_LANE};"></span>',
            escape_text(f"sea lane from {origin}, wider for more parcels")))
    return "".join(parts)


__all__ = [
    "COST_COLORS",
    "SITE_LABELS",
    "breakdown_of",
    "cost_class",
    "cost_classes",
    "countries_layer",
    "country_props",
    "headline_row",
    "lane_weights",
    "lanes_layer",
    "legend_html",
    "site_cells",
]
