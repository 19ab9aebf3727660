"""The file formats of a data set: GeoJSON boundaries and CSV tables, written byte-stable."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pandas as pd

from hzlogistics.countries import DEMAND_COLUMNS, SEA_DISTANCE_COLUMNS, SITE_COLUMNS
from hzlogistics.databuild.parameters import COORD_DECIMALS, SEA_DISTANCE_DECIMALS, WEIGHT_DECIMALS


def _coords(value: object) -> object:
    """GeoJSON coordinates as nested lists of rounded floats."""
    if isinstance(value, (tuple, list)):
        if value and isinstance(value[0], (int, float)):
            return [round(float(v), COORD_DECIMALS) + 0.0 for v in value]
        return [_coords(v) for v in value]
    return value


def write_boundaries(boundaries: pd.DataFrame, path: Path) -> None:
    """``boundaries.geojson``: one feature per line, coordinates rounded."""
    import shapely.geometry

    lines = ['{"type":"FeatureCollection","features":[']
    for i, row in enumerate(boundaries.itertuples(index=False)):
        mapping = shapely.geometry.mapping(row.geometry)
        feature = {
            "type": "Feature",
            "properties": {
                "country": row.country,
                "name": row.name,
                "population": int(row.population),
                "gdp_musd": round(float(row.gdp_musd), 1),
                "gdp_per_capita_usd": round(float(row.gdp_per_capita_usd), 1),
            },
            "geometry": {"type": mapping["type"], "coordinates": _coords(mapping["coordinates"])},
        }
        sep = "," if i < len(boundaries) - 1 else ""
        lines.append(json.dumps(feature, separators=(",", ":"), ensure_ascii=False) + sep)
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_csv(rows: list[list[str]], header: tuple[str, ...], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _fmt(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def write_demand(demand: pd.DataFrame, path: Path) -> None:
    """``demand.csv``."""
    rows = [
        [r.id, r.name, r.country, _fmt(r.lon, COORD_DECIMALS), _fmt(r.lat, COORD_DECIMALS),
         str(int(r.population)), _fmt(r.weight, WEIGHT_DECIMALS)]
        for r in demand.itertuples(index=False)
    ]
    _write_csv(rows, DEMAND_COLUMNS, path)


def write_sites(sites: pd.DataFrame, path: Path) -> None:
    """``sites.csv``."""
    rows = [
        [r.id, r.name, r.country, r.kind, _fmt(r.lon, COORD_DECIMALS),
         _fmt(r.lat, COORD_DECIMALS), _fmt(r.rent_usd_m2_year, 1), _fmt(r.max_area_m2, 0),
         _fmt(r.existing_area_m2, 0)]
        for r in sites.itertuples(index=False)
    ]
    _write_csv(rows, SITE_COLUMNS, path)


def write_sea_distances(table: pd.DataFrame, path: Path) -> None:
    """``sea_distances.csv`` (an empty distance where searoute finds no route)."""
    rows = [
        [r.origin, r.port, r.country, r.name, str(r.candidate),
         _fmt(r.distance_km, SEA_DISTANCE_DECIMALS) if math.isfinite(r.distance_km) else ""]
        for r in table.itertuples(index=False)
    ]
    _write_csv(rows, SEA_DISTANCE_COLUMNS, path)
