"""The 50 markets: boundaries, demand points and candidate warehouse sites.

The data are built offline from pinned packages by :mod:`hzlogistics.databuild`
and shipped as plain files (``boundaries.geojson``, ``demand.csv``, ``sites.csv``,
``provenance.json``); ``data/countries/README.md`` documents their sources,
licences and the demand formula. The loaders here find those files, check them
and return GeoDataFrames in EPSG:4326.

The data directory is looked up in this order:

1. the ``data_dir`` argument of a loader;
2. the environment variable ``HZLOGISTICS_DATA_DIR``;
3. ``data/countries`` of a source checkout (next to the ``hzlogistics`` package);
4. ``share/hzlogistics/countries`` under the installation prefix (wheel installs),
   then under the user prefix (``pip install --user``).

Parsed files are cached (keyed by path, size and modification time) and every
loader returns a fresh copy, so callers may modify what they get.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import sysconfig
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics._validate import (
    check_choice,
    check_columns,
    check_geometries,
    check_numeric,
    check_points,
    check_unique,
    close_match,
    raise_problems,
)

logger = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])

#: English short names of the 50 markets, by ISO 3166-1 alpha-2 code.
COUNTRY_NAMES: MappingProxyType[str, str] = MappingProxyType(
    {
        "AE": "United Arab Emirates",
        "AR": "Argentina",
        "AU": "Australia",
        "BD": "Bangladesh",
        "BE": "Belgium",
        "BR": "Brazil",
        "CA": "Canada",
        "CL": "Chile",
        "CO": "Colombia",
        "CZ": "Czechia",
        "DE": "Germany",
        "EG": "Egypt",
        "ES": "Spain",
        "FR": "France",
        "GB": "United Kingdom",
        "GH": "Ghana",
        "HU": "Hungary",
        "ID": "Indonesia",
        "IL": "Israel",
        "IN": "India",
        "IT": "Italy",
        "JO": "Jordan",
        "JP": "Japan",
        "KE": "Kenya",
        "KR": "South Korea",
        "KW": "Kuwait",
        "KZ": "Kazakhstan",
        "MA": "Morocco",
        "MX": "Mexico",
        "MY": "Malaysia",
        "NG": "Nigeria",
        "NL": "Netherlands",
        "NZ": "New Zealand",
        "PE": "Peru",
        "PH": "Philippines",
        "PK": "Pakistan",
        "PL": "Poland",
        "PT": "Portugal",
        "QA": "Qatar",
        "RO": "Romania",
        "RU": "Russia",
        "SA": "Saudi Arabia",
        "SE": "Sweden",
        "SG": "Singapore",
        "TH": "Thailand",
        "TR": "Turkey",
        "US": "United States",
        "UZ": "Uzbekistan",
        "VN": "Vietnam",
        "ZA": "South Africa",
    }
)

#: ISO 3166-1 alpha-2 codes of the 50 markets, sorted.
COUNTRY_CODES: tuple[str, ...] = tuple(sorted(COUNTRY_NAMES))

#: The 19 markets named in the Hangzhou plan (the other 31 complete the 50).
PLAN_COUNTRY_CODES: tuple[str, ...] = (
    "US", "CA", "AU", "DE", "NL", "FR", "RU", "JP", "SA", "GH",
    "MX", "TH", "TR", "IN", "JO", "ZA", "PL", "EG", "AE",
)

#: Environment variable naming a directory that holds the data files.
DATA_DIR_ENV: str = "HZLOGISTICS_DATA_DIR"

BOUNDARIES_FILE: str = "boundaries.geojson"
DEMAND_FILE: str = "demand.csv"
SITES_FILE: str = "sites.csv"
PROVENANCE_FILE: str = "provenance.json"

#: Kinds of candidate site in ``sites.csv``.
SITE_KINDS: tuple[str, ...] = ("town", "airport", "port", "existing")

BOUNDARY_COLUMNS: tuple[str, ...] = ("country", "name", "population", "gdp_musd",
                                     "gdp_per_capita_usd")
DEMAND_COLUMNS: tuple[str, ...] = ("id", "name", "country", "lon", "lat", "population", "weight")
SITE_COLUMNS: tuple[str, ...] = ("id", "name", "country", "kind", "lon", "lat",
                                 "rent_usd_m2_year", "max_area_m2", "existing_area_m2")

_CHECKOUT_DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "countries"
_SHARE_SUBDIR = Path("share") / "hzlogistics" / "countries"


def _installed_data_dirs() -> list[Path]:
    """Candidate ``share/hzlogistics/countries`` directories of an installed package."""
    prefixes = [sysconfig.get_path("data")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        prefixes.append(sysconfig.get_path("data", user_scheme))
    dirs: list[Path] = []
    for prefix in prefixes:
        path = Path(prefix) / _SHARE_SUBDIR
        if path not in dirs:
            dirs.append(path)
    return dirs


def find_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the directory holding the country data files.

    Parameters
    ----------
    data_dir
        Directory to use; when ``None``, the environment variable
        ``HZLOGISTICS_DATA_DIR``, the checkout's ``data/countries`` and the
        installed ``share/hzlogistics/countries`` are tried in this order.

    Returns
    -------
    pathlib.Path
        The directory (its files are checked only when loaded).

    Raises
    ------
    ValidationError
        If ``data_dir`` or ``HZLOGISTICS_DATA_DIR`` is not a directory, or if no
        data directory is found.

    Examples
    --------
    >>> find_data_dir().joinpath("demand.csv").is_file()
    True
    """
    if data_dir is not None:
        path = Path(data_dir)
        if not path.is_dir():
            raise ValidationError(f"data directory {path} does not exist or is not a directory")
        return path
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env)
        if not path.is_dir():
            raise ValidationError(
                f"{DATA_DIR_ENV}={env}: not a directory; point it at a directory holding "
                f"{BOUNDARIES_FILE}, {DEMAND_FILE} and {SITES_FILE}, or unset it"
            )
        return path
    tried = [_CHECKOUT_DATA_DIR, *_installed_data_dirs()]
    for path in tried:
        if (path / BOUNDARIES_FILE).is_file():
            return path
    raise ValidationError(
        "country data not found; looked in "
        + ", ".join(str(p) for p in tried)
        + f"; set {DATA_DIR_ENV} to a directory holding {BOUNDARIES_FILE}, {DEMAND_FILE} and "
        f"{SITES_FILE}, or rebuild them with `hzlogistics data build`"
    )


def validate_codes(codes: str | Iterable[str] | None) -> list[str]:
    """Check country codes and return them upper-cased, without repeats.

    Parameters
    ----------
    codes
        ISO 3166-1 alpha-2 codes among :data:`COUNTRY_CODES` (any case), or one
        string of comma-separated codes; ``None`` means all 50.

    Returns
    -------
    list of str
        The codes in the order given (all 50, sorted, for ``None``).

    Raises
    ------
    ValidationError
        Listing every unknown code with a close match and the valid codes.

    Examples
    --------
    >>> validate_codes("us, de")
    ['US', 'DE']
    >>> validate_codes(["fr", "FR"])
    ['FR']
    """
    if codes is None:
        return list(COUNTRY_CODES)
    if isinstance(codes, str):
        items = codes.split(",")
    else:
        items = list(codes)
    problems: list[str] = []
    result: list[str] = []
    for item in items:
        if not isinstance(item, str):
            problems.append(f"country code {item!r} is not a text code such as 'US'")
            continue
        code = item.strip().upper()
        if code in COUNTRY_NAMES:
            if code not in result:
                result.append(code)
            continue
        problems.append(f"unknown country code {item.strip()!r}" + _suggestion(item.strip()))
    if not items:
        problems.append("no country code given")
    if problems:
        problems.append("valid codes are " + ", ".join(COUNTRY_CODES))
        raise ValidationError(problems)
    return result


def _suggestion(text: str) -> str:
    """' (did you mean ...?)' for an unknown code, matching codes and country names."""
    by_name = {name: code for code, name in COUNTRY_NAMES.items()}
    name = close_match(text, by_name, cutoff=0.6) if len(text) > 2 else None
    if name is not None:
        return f" (did you mean '{by_name[name]}' for {name}?)"
    code = close_match(text.upper(), COUNTRY_CODES, cutoff=0.5)
    if code is not None:
        return f" (did you mean '{code}' for {COUNTRY_NAMES[code]}?)"
    return ""


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Stamp:
    """What identifies one version of a file in the cache."""

    path: str
    size: int
    mtime_ns: int


def _stamp(path: Path) -> _Stamp:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ValidationError(
            f"{path}: data file not found; rebuild it with `hzlogistics data build` or set "
            f"{DATA_DIR_ENV} to a directory that holds it"
        ) from None
    if not path.is_file():
        raise ValidationError(f"{path}: not a file; expected the data file {path.name}")
    return _Stamp(str(path), stat.st_size, stat.st_mtime_ns)


def _read_csv(path: Path, text_columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a CSV file; text columns stay text, the others are parsed as numbers if they can be."""
    try:
        df = pd.read_csv(path, dtype=dict.fromkeys(text_columns, object),
                         keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot be read as a UTF-8 CSV file ({exc})") from None
    return df


def _points_frame(df: pd.DataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    geometry = gpd.points_from_xy(df["lon"].to_numpy(float), df["lat"].to_numpy(float))
    return gpd.GeoDataFrame(df[columns].reset_index(drop=True), geometry=geometry,
                            crs="EPSG:4326")


@functools.lru_cache(maxsize=16)
def _read_boundaries(stamp: _Stamp) -> gpd.GeoDataFrame:
    path = Path(stamp.path)
    source = path.name
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # the reader raises several kinds for a damaged file
        raise ValidationError(
            f"{path}: cannot be read as GeoJSON ({type(exc).__name__}: {exc})"
        ) from None
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    problems = check_columns(df, BOUNDARY_COLUMNS, source)
    problems += check_choice(df, "country", COUNTRY_CODES, source)
    problems += check_unique(df, "country", source)
    problems += check_numeric(df, "population", source, min_value=0, min_inclusive=False)
    problems += check_numeric(df, "gdp_musd", source, min_value=0, min_inclusive=False)
    problems += check_numeric(df, "gdp_per_capita_usd", source, min_value=0,
                              min_inclusive=False)
    problems += check_geometries(gdf.geometry.to_numpy(), source,
                                 geom_types=("Polygon", "MultiPolygon"))
    raise_problems(problems)
    out = gpd.GeoDataFrame(
        {
            "country": df["country"].astype(str).to_numpy(),
            "name": df["name"].astype(str).to_numpy(),
            "population": pd.to_numeric(df["population"]).to_numpy(np.int64),
            "gdp_musd": pd.to_numeric(df["gdp_musd"]).to_numpy(float),
            "gdp_per_capita_usd": pd.to_numeric(df["gdp_per_capita_usd"]).to_numpy(float),
        },
        geometry=gdf.geometry.to_numpy(),
        crs="EPSG:4326",
    )
    return out.sort_values("country", kind="stable").reset_index(drop=True)


@functools.lru_cache(maxsize=16)
def _read_demand(stamp: _Stamp) -> gpd.GeoDataFrame:
    path = Path(stamp.path)
    source = path.name
    df = _read_csv(path, ("id", "name", "country"))
    problems = check_columns(df, DEMAND_COLUMNS, source)
    problems += check_unique(df, "id", source)
    problems += check_choice(df, "country", COUNTRY_CODES, source)
    problems += check_points(df, source)
    problems += check_numeric(df, "population", source, min_value=0)
    problems += check_numeric(df, "weight", source, min_value=0)
    raise_problems(problems)
    for column in ("lon", "lat", "weight"):
        df[column] = pd.to_numeric(df[column]).astype(float)
    df["population"] = pd.to_numeric(df["population"]).astype(np.int64)
    return _points_frame(df, ["id", "name", "country", "population", "weight"])


@functools.lru_cache(maxsize=16)
def _read_sites(stamp: _Stamp) -> gpd.GeoDataFrame:
    path = Path(stamp.path)
    source = path.name
    df = _read_csv(path, ("id", "name", "country", "kind"))
    problems = check_columns(df, SITE_COLUMNS, source)
    problems += check_unique(df, "id", source)
    problems += check_choice(df, "country", COUNTRY_CODES, source)
    problems += check_choice(df, "kind", SITE_KINDS, source)
    problems += check_points(df, source)
    problems += check_numeric(df, "rent_usd_m2_year", source, min_value=0, min_inclusive=False)
    problems += check_numeric(df, "existing_area_m2", source, min_value=0)
    tiers = {f"{t:g}" for t in settings.SIZE_TIERS_M2}
    if "max_area_m2" in df.columns:
        as_tier = pd.to_numeric(df["max_area_m2"], errors="coerce").map(
            lambda v: f"{v:g}" if np.isfinite(v) else "")
        problems += check_choice(pd.DataFrame({"max_area_m2": as_tier}), "max_area_m2",
                                 sorted(tiers, key=float), source)
    if not problems:
        kinds = df["kind"].to_numpy()
        existing = pd.to_numeric(df["existing_area_m2"]).to_numpy(float)
        largest = pd.to_numeric(df["max_area_m2"]).to_numpy(float)
        for pos in np.flatnonzero((kinds == "existing") & (existing <= 0))[:5]:
            problems.append(f"{source}, row {pos + 1}, field 'existing_area_m2': an existing "
                            f"site needs its current area; expected a number > 0")
        for pos in np.flatnonzero((kinds != "existing") & (existing != 0))[:5]:
            problems.append(f"{source}, row {pos + 1}, field 'existing_area_m2': only sites "
                            f"of kind 'existing' have an area today; expected 0")
        for pos in np.flatnonzero(existing > largest)[:5]:
            problems.append(f"{source}, row {pos + 1}, field 'existing_area_m2': "
                            f"{existing[pos]:g} exceeds max_area_m2 {largest[pos]:g}")
    raise_problems(problems)
    for column in ("lon", "lat", "rent_usd_m2_year", "max_area_m2", "existing_area_m2"):
        df[column] = pd.to_numeric(df[column]).astype(float)
    return _points_frame(df, ["id", "name", "country", "kind", "rent_usd_m2_year",
                              "max_area_m2", "existing_area_m2"])


def _select(gdf: gpd.GeoDataFrame, codes: str | Iterable[str] | None) -> gpd.GeoDataFrame:
    if codes is None:
        return gdf.copy()
    wanted = validate_codes(codes)
    order = {code: i for i, code in enumerate(wanted)}
    mask = gdf["country"].isin(wanted).to_numpy()
    out = gdf.loc[mask].copy()
    out["_order"] = out["country"].map(order)
    out = out.sort_values("_order", kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def _load_layer(
    reader: Callable[[_Stamp], gpd.GeoDataFrame],
    file_name: str,
    codes: str | Iterable[str] | None,
    data_dir: str | os.PathLike[str] | None,
) -> gpd.GeoDataFrame:
    """Read one data file through its cached ``reader`` and keep the rows of ``codes``."""
    path = find_data_dir(data_dir) / file_name
    return _select(reader(_stamp(path)), codes)


#: Docstring sections shared by the loaders of one data layer, by placeholder name.
_LAYER_DOC_SECTIONS = {
    "layer_parameters": """Parameters
----------
codes
    Country codes (see :func:`validate_codes`); ``None`` for all 50.
data_dir
    Directory holding the data files (see :func:`find_data_dir`).""",
    "layer_raises": """Raises
------
ValidationError
    For an unknown code, or a missing or damaged file (naming the row and field).""",
}


def _layer_doc(func: _F) -> _F:
    """Put the shared sections in place of their ``{placeholder}`` lines in the docstring."""

    def section(match: re.Match[str]) -> str:
        indent, name = match.group(1), match.group(2)
        return textwrap.indent(_LAYER_DOC_SECTIONS[name], indent)

    func.__doc__ = re.sub(r"^([ \t]*)\{(\w+)\}$", section, func.__doc__ or "", flags=re.M)
    return func


@_layer_doc
def load_countries(
    codes: str | Iterable[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Load the country boundaries.

    {layer_parameters}

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, one row per country, in the order of ``codes`` (sorted
        for ``None``), with columns

        - ``country``: ISO 3166-1 alpha-2 code;
        - ``name``: English short name;
        - ``population``: inhabitants (Natural Earth ``POP_EST``, 2019);
        - ``gdp_musd``: gross domestic product, million USD (``GDP_MD``, 2019);
        - ``gdp_per_capita_usd``: ``gdp_musd * 1e6 / population``, USD per person;
        - ``geometry``: (Multi)Polygon, simplified to about 1 km.

    {layer_raises}

    Examples
    --------
    >>> load_countries(["SG"])[["country", "name"]].to_dict("records")
    [{'country': 'SG', 'name': 'Singapore'}]
    """
    return _load_layer(_read_boundaries, BOUNDARIES_FILE, codes, data_dir)


@_layer_doc
def load_demand(
    codes: str | Iterable[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Load the demand points.

    {layer_parameters}

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, one row per populated place, with columns

        - ``id``: ``"gn-<GeoNames id>"``;
        - ``name``: place name;
        - ``country``: ISO 3166-1 alpha-2 code;
        - ``population``: inhabitants according to GeoNames;
        - ``weight``: expected cross-border parcels per day from Hangzhou firms
          (see ``data/countries/README.md``, "Demand");
        - ``geometry``: Point.

    {layer_raises}

    Examples
    --------
    >>> demand = load_demand("QA")
    >>> bool((demand["weight"] > 0).all()) and set(demand["country"]) == {"QA"}
    True
    """
    return _load_layer(_read_demand, DEMAND_FILE, codes, data_dir)


@_layer_doc
def load_sites(
    codes: str | Iterable[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> gpd.GeoDataFrame:
    """Load the candidate and existing warehouse sites.

    {layer_parameters}

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, one row per site, with columns

        - ``id``: ``"gn-<GeoNames id>"`` (town), ``"iata-<code>"`` (airport),
          ``"port-<UN/LOCODE>"`` (port) or ``"existing-<country>-<code>"``;
        - ``name``, ``country`` (ISO 3166-1 alpha-2);
        - ``kind``: ``town``, ``airport``, ``port`` or ``existing``;
        - ``rent_usd_m2_year``: indicative yearly rent, USD per m²;
        - ``max_area_m2``: the largest size tier allowed at the site, m²;
        - ``existing_area_m2``: floor area run there today, m² (0.0 for new sites);
        - ``geometry``: Point.

    {layer_raises}

    Examples
    --------
    >>> sites = load_sites(["US"])
    >>> sorted(sites.loc[sites["kind"] == "existing", "id"])
    ['existing-US-CHI', 'existing-US-EWR', 'existing-US-LAX', 'existing-US-ONT']
    """
    return _load_layer(_read_sites, SITES_FILE, codes, data_dir)


def load_provenance(*, data_dir: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """Load ``provenance.json``: sources, versions, licences, build parameters, counts.

    Parameters
    ----------
    data_dir
        Directory holding the data files (see :func:`find_data_dir`).

    Returns
    -------
    dict
        The parsed JSON document.

    Raises
    ------
    ValidationError
        If the file is missing or is not valid JSON.

    Examples
    --------
    >>> sorted(load_provenance()["countries"])[:3]
    ['AE', 'AR', 'AU']
    """
    path = find_data_dir(data_dir) / PROVENANCE_FILE
    _stamp(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot be read as JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ValidationError(f"{path}: expected a JSON object at the top level")
    return document


def country_table(*, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Summarise the 50 markets, one row per country.

    Parameters
    ----------
    data_dir
        Directory holding the data files (see :func:`find_data_dir`).

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``n_demand`` (demand points), ``n_sites``
        (candidate and existing sites), ``n_existing`` (existing sites) and
        ``weight`` (parcels per day), sorted by code.

    Raises
    ------
    ValidationError
        If a data file is missing or damaged.

    Examples
    --------
    >>> table = country_table()
    >>> len(table), int(table.loc[table["code"] == "US", "n_existing"].iloc[0])
    (50, 4)
    """
    countries = load_countries(data_dir=data_dir)
    demand = load_demand(data_dir=data_dir)
    sites = load_sites(data_dir=data_dir)
    by_demand = demand.groupby("country")["weight"].agg(["size", "sum"])
    n_sites = sites.groupby("country").size()
    n_existing = sites[sites["kind"] == "existing"].groupby("country").size()
    codes = countries["country"]
    return pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": countries["name"].to_numpy(),
            "n_demand": codes.map(by_demand["size"]).fillna(0).astype(int).to_numpy(),
            "n_sites": codes.map(n_sites).fillna(0).astype(int).to_numpy(),
            "n_existing": codes.map(n_existing).fillna(0).astype(int).to_numpy(),
            "weight": codes.map(by_demand["sum"]).fillna(0.0).astype(float).to_numpy(),
        }
    )


__all__ = [
    "BOUNDARIES_FILE",
    "COUNTRY_CODES",
    "COUNTRY_NAMES",
    "DATA_DIR_ENV",
    "DEMAND_FILE",
    "PLAN_COUNTRY_CODES",
    "PROVENANCE_FILE",
    "SITES_FILE",
    "SITE_KINDS",
    "country_table",
    "find_data_dir",
    "load_countries",
    "load_demand",
    "load_provenance",
    "load_sites",
    "validate_codes",
]
