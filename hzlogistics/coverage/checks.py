"""Input checks of a coverage build: frames, country polygons, service level and options."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzlogistics import settings
from hzlogistics._errors import ValidationError

#: At most this many problems are spelled out in one error message.
MAX_PROBLEMS = 20

MODES = ("network", "geodesic")
ENGINES = ("scipy", "networkx")


def capped(problems: list[str]) -> list[str]:
    """At most :data:`MAX_PROBLEMS` problems, then a count of the rest."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more"]


def point_table(frame: Any, label: str, problems: list[str]) -> dict[str, np.ndarray] | None:
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
    problems.extend(capped(row_problems))
    return {"ids": ids, "country": country, "lon": lon, "lat": lat}


def country_polygons(countries: Any, problems: list[str]) -> dict[str, Any] | None:
    """One (multi)polygon per country code, EPSG:4326 (problems collected)."""
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


#: The points of a demand or sites frame, as :func:`point_table` returns them.
PointTable = dict[str, np.ndarray]


def check_inputs(
    demand: Any,
    sites: Any,
    countries: Any,
    *,
    service_level: str | None,
    cutoff_h: float | None,
    mode: str,
    engine: str,
    radius_km: float | None,
    circuity: float,
    cross_border: Sequence[str],
) -> tuple[float, PointTable, PointTable, dict[str, Any] | None]:
    """Every argument of :func:`~hzlogistics.coverage.build_coverage` checked in one pass.

    Returns
    -------
    tuple
        The cutoff (hours), the demand and site tables of :func:`point_table`, and
        the country polygons by code (``None`` without ``countries``).

    Raises
    ------
    ValidationError
        Every problem found, at once.
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
    for group in cross_border:
        if group not in settings.CROSS_BORDER_GROUPS:
            problems.append(f"cross_border group {group!r} is unknown; valid: "
                            f"{sorted(settings.CROSS_BORDER_GROUPS)}")
    d = point_table(demand, "demand", problems)
    s = point_table(sites, "sites", problems)
    polygons = country_polygons(countries, problems)
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
            problems.extend(capped(outside))
    if problems or d is None or s is None:
        raise ValidationError(problems)
    return cutoff, d, s, polygons
