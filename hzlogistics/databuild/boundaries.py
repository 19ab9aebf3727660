"""Country boundaries from Natural Earth: dissolved, simplified, with population and GDP."""

from __future__ import annotations

import pandas as pd

from hzlogistics._errors import ValidationError
from hzlogistics.databuild.geometry import round_geometry
from hzlogistics.databuild.parameters import (
    COORD_DECIMALS,
    NATURAL_EARTH_LAYER,
    NATURAL_EARTH_ZIP,
    SIMPLIFY_TOLERANCE_DEG,
)
from hzlogistics.databuild.selection import Selection
from hzlogistics.databuild.sources import Sources


def read_natural_earth(sources: Sources) -> pd.DataFrame:
    """Natural Earth's admin-0 features that have a two-letter ISO code."""
    import pyogrio

    raw = pyogrio.read_dataframe(
        f"/vsizip/{sources.natural_earth_zip}/{NATURAL_EARTH_LAYER}",
        columns=["ISO_A2_EH", "POP_EST", "GDP_MD", "NAME_EN"],
        encoding="UTF-8",  # the .dbf holds UTF-8 but says nothing (Åland, Curaçao)
    )
    return raw[raw["ISO_A2_EH"].str.fullmatch(r"[A-Z]{2}")]


def build_boundaries(raw: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """One row per country: code, name, population, gdp_musd, gdp_per_capita_usd, geometry.

    A population Natural Earth lacks is 0 here (the demand step fills it in); a GDP it
    lacks gets the fallback GDP per capita.
    """
    import shapely

    raw = raw[raw["ISO_A2_EH"].isin(selection.codes)]
    rows = []
    for code in selection.codes:
        part = raw[raw["ISO_A2_EH"] == code]
        if part.empty:
            raise ValidationError(f"{NATURAL_EARTH_ZIP}: no feature with ISO_A2_EH={code}")
        geoms = shapely.make_valid(part.geometry.to_numpy())
        merged = shapely.union_all(geoms)
        merged = shapely.simplify(merged, SIMPLIFY_TOLERANCE_DEG, preserve_topology=True)
        merged = shapely.set_precision(merged, 10.0 ** -COORD_DECIMALS)
        polygons = [
            p for p in shapely.get_parts(merged) if p.geom_type in ("Polygon", "MultiPolygon")
        ]
        polygons = [q for p in polygons for q in shapely.get_parts(p)]
        if not polygons:  # too small to survive the simplification: keep it unsimplified
            merged = shapely.set_precision(shapely.union_all(geoms), 10.0 ** -COORD_DECIMALS)
            polygons = [q for p in shapely.get_parts(merged)
                        if p.geom_type in ("Polygon", "MultiPolygon")
                        for q in shapely.get_parts(p)]
        geometry = round_geometry(shapely.MultiPolygon(polygons))
        if not shapely.is_valid(geometry):
            geometry = round_geometry(shapely.make_valid(geometry))
        population = int(round(float(part["POP_EST"].clip(lower=0).sum())))
        gdp_musd = float(part["GDP_MD"].clip(lower=0).sum())
        gdp_missing = gdp_musd <= 0
        if population > 0 and not gdp_missing:
            gdp_pc = round(gdp_musd * 1e6 / population, 1)
        else:
            gdp_pc = selection.gdp_fallback_per_capita_usd if gdp_missing else 0.0
            if gdp_missing and population > 0:
                gdp_musd = gdp_pc * population / 1e6
        rows.append(
            {
                "country": code,
                "name": selection.names[code],
                "population": population,
                "gdp_musd": gdp_musd,
                "gdp_per_capita_usd": gdp_pc,
                "geometry": geometry,
                "n_parts": len(part),
                "gdp_missing": gdp_missing,
            }
        )
    return pd.DataFrame(rows)
