"""The landed cost of a plan in its files: ``summary.json``, ``report.md`` and ``sites.csv``.

A plan of the ``landed`` objective carries a
:class:`~hzlogistics.models.landed.LandedBreakdown` in ``plan.result.info["landed"]``;
this module turns it into

- the ``landed`` entry of ``summary.json`` (:func:`landed_summary`): the cost
  by component (sea, port, drayage, duty, rent, fixed, last mile, cross-border
  handling, unserved penalty) in total, per parcel and per country, and the
  ports of entry used with their volumes;
- the landed-cost sections of ``report.md`` (:func:`landed_markdown`);
- the columns ``port_of_entry``, ``inbound_usd_per_parcel``, ``drayage_km``
  and ``landed_usd_per_parcel`` of ``sites.csv`` (:func:`landed_site_columns`).

Plans of other objectives, and plans read back from files, carry no breakdown:
every function then returns nothing to add.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hzlogistics.maps.text import fmt

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.models.landed import LandedBreakdown
    from hzlogistics.plan import Plan

#: Display names of the cost components, in report order.
COMPONENT_LABELS: dict[str, str] = {
    "sea": "Sea freight", "port": "Port handling", "drayage": "Drayage", "duty": "Duty",
    "rent": "Rent", "fixed": "Fixed cost", "last_mile": "Last mile",
    "cross_border": "Cross-border handling", "unserved": "Unserved penalty",
}

#: Columns ``sites.csv`` gains from a landed-cost plan.
LANDED_SITE_COLUMNS: tuple[str, ...] = ("port_of_entry", "inbound_usd_per_parcel", "drayage_km",
                                        "landed_usd_per_parcel")


def landed_of(plan: Plan) -> LandedBreakdown | None:
    """The plan's landed-cost breakdown, or ``None`` when it has none."""
    info = getattr(plan.result, "info", None) or {}
    return info.get("landed")


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({str(k): (_num(v) if isinstance(v, float | np.floating) else
                             int(v) if isinstance(v, np.integer) else v)
                    for k, v in row.items()})
    return out


def port_names(plan: Plan) -> dict[str, str]:
    """Name of each site id that has one (ports of entry are sites)."""
    sites = plan.sites
    if "name" not in sites.columns:
        return {}
    names = sites[["id", "name"]].dropna()
    return {str(i): str(n) for i, n in zip(names["id"], names["name"], strict=True)}


def landed_summary(plan: Plan) -> dict[str, Any] | None:
    """The ``landed`` entry of ``summary.json``.

    Returns
    -------
    dict or None
        ``total_usd_year``, ``usd_per_parcel``, ``parcels_year``,
        ``components_usd_year`` and ``components_usd_per_parcel`` (by
        component), ``by_country`` (one record per country: the components,
        ``total``, ``parcels_year``, ``usd_per_parcel``) and ``ports`` (one
        record per port of entry used: ``port``, ``name``, ``country``,
        ``parcels_day``, ``containers_year``, ``sea_km``, ``sites``,
        ``sea_usd_year``, ``port_usd_year``); ``None`` for a plan without a
        landed-cost breakdown.
    """
    b = landed_of(plan)
    if b is None:
        return None
    parts = {k: v for k, v in b.totals.items() if k != "total"}
    per = b.parcels_year if b.parcels_year > 0 else math.nan
    names = port_names(plan)
    ports = b.ports.copy()
    ports.insert(1, "name", [names.get(str(p), "") for p in ports["port"]])
    return {
        "total_usd_year": _num(b.totals["total"]),
        "usd_per_parcel": _num(b.usd_per_parcel),
        "parcels_year": _num(b.parcels_year),
        "components_usd_year": {k: _num(v) for k, v in parts.items()},
        "components_usd_per_parcel": {k: _num(v / per) for k, v in parts.items()},
        "by_country": _records(b.by_country),
        "ports": _records(ports),
    }


def landed_site_columns(plan: Plan) -> pd.DataFrame | None:
    """Per site id: its port of entry, inbound and landed cost per parcel.

    Returns
    -------
    pandas.DataFrame or None
        Indexed by site id, the columns of :data:`LANDED_SITE_COLUMNS` for the
        open sites; ``None`` for a plan without a landed-cost breakdown.
    """
    b = landed_of(plan)
    if b is None:
        return None
    s = b.sites
    return pd.DataFrame({
        "port_of_entry": s["port"].to_numpy(),
        "inbound_usd_per_parcel": s["inbound_usd_per_parcel"].to_numpy(dtype=float),
        "drayage_km": s["drayage_km"].to_numpy(dtype=float),
        "landed_usd_per_parcel": s["usd_per_parcel"].to_numpy(dtype=float),
    }, index=pd.Index(s["site"].astype(str).to_numpy(), name="id"))


def _md(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def landed_markdown(plan: Plan) -> list[str]:
    """The landed-cost sections of ``report.md`` (no lines without a breakdown).

    Returns
    -------
    list of str
        Markdown lines: the cost by component (USD/year, share, USD per
        parcel), by country, and the ports of entry used.
    """
    b = landed_of(plan)
    if b is None:
        return []
    total = b.totals["total"]
    per = b.parcels_year if b.parcels_year > 0 else math.nan
    lines = ["## Landed cost", "",
             f"From the origin port to the buyer's door: **{fmt(total)} USD/year**, "
             f"**{fmt(b.usd_per_parcel, 3)} USD per parcel** over "
             f"{fmt(b.parcels_year)} parcels a year.", "",
             "| Component | USD/year | Share | USD per parcel |", "|---|---:|---:|---:|"]
    for k, label in COMPONENT_LABELS.items():
        v = b.totals.get(k, 0.0)
        if k in ("duty", "cross_border", "unserved") and v == 0:
            continue
        share = f"{100 * v / total:.1f} %" if total else "–"
        lines.append(f"| {label} | {fmt(v)} | {share} | {fmt(v / per, 3)} |")
    lines += [f"| **Total** | **{fmt(total)}** | 100 % | **{fmt(total / per, 3)}** |", ""]

    lines += ["### Landed cost by country", "",
              "Inbound, rent, fixed and last mile by the warehouse's country; the penalty "
              "of unserved demand by the buyer's.", "",
              "| Country | Sea | Port | Drayage | Rent | Fixed | Last mile | Total (USD/year) "
              "| Parcels/year | USD per parcel |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for _, r in b.by_country.sort_values("country").iterrows():
        lines.append(
            f"| {_md(r['country'])} | {fmt(r['sea'])} | {fmt(r['port'])} | "
            f"{fmt(r['drayage'])} | {fmt(r['rent'])} | {fmt(r['fixed'])} | "
            f"{fmt(r['last_mile'])} | {fmt(r['total'])} | {fmt(r['parcels_year'])} | "
            f"{fmt(r['usd_per_parcel'], 3)} |")
    lines.append("")

    names = port_names(plan)
    lines += ["### Ports of entry", "",
              "| Port | Country | Parcels/day | Containers/year | Sea km | Sites | "
              "Sea + port (USD/year) |", "|---|---|---:|---:|---:|---:|---:|"]
    for _, r in b.ports.iterrows():
        label = f"{r['port']}" + (f" {names[str(r['port'])]}" if str(r['port']) in names else "")
        lines.append(
            f"| {_md(label)} | {_md(r['country'])} | {fmt(r['parcels_day'])} | "
            f"{fmt(r['containers_year'])} | {fmt(r['sea_km'])} | {int(r['sites']):,} | "
            f"{fmt(r['sea_usd_year'] + r['port_usd_year'])} |")
    lines.append("")
    return lines


__all__ = [
    "COMPONENT_LABELS",
    "LANDED_SITE_COLUMNS",
    "landed_markdown",
    "landed_of",
    "landed_site_columns",
    "landed_summary",
    "port_names",
]
