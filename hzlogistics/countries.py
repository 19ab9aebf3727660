"""Country data sets: boundaries, demand points and candidate warehouse sites.

The data are built offline from pinned packages by :mod:`hzlogistics.databuild`
and shipped as plain files (``boundaries.geojson``, ``demand.csv``, ``sites.csv``,
``sea_distances.csv``, ``provenance.json``); ``data/countries/README.md``
documents their sources, licences and the demand formula. The loaders here find
those files, check them and return GeoDataFrames in EPSG:4326.

The built-in data set holds the 50 markets of the default scenario. Other data
sets (any countries Natural Earth has, built with ``hzlogistics data build
--countries ...``) live in folders of the user data directory
(:func:`user_data_dir`) and are named by :func:`find_dataset`; a data set holds
exactly the countries of its ``boundaries.geojson``.

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

import difflib
import functools
import json
import logging
import os
import re
import sys
import sysconfig
import textwrap
from collections.abc import Callable, Iterable, Mapping
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
#: Environment variable naming the user data directory, which holds built data sets.
USER_DATA_ENV: str = "HZLOGISTICS_DATA"

BOUNDARIES_FILE: str = "boundaries.geojson"
DEMAND_FILE: str = "demand.csv"
SITES_FILE: str = "sites.csv"
PROVENANCE_FILE: str = "provenance.json"
SEA_DISTANCES_FILE: str = "sea_distances.csv"

#: Kinds of candidate site in ``sites.csv``.
SITE_KINDS: tuple[str, ...] = ("town", "airport", "port", "existing")

BOUNDARY_COLUMNS: tuple[str, ...] = ("country", "name", "population", "gdp_musd",
                                     "gdp_per_capita_usd")
DEMAND_COLUMNS: tuple[str, ...] = ("id", "name", "country", "lon", "lat", "population", "weight")
SITE_COLUMNS: tuple[str, ...] = ("id", "name", "country", "kind", "lon", "lat",
                                 "rent_usd_m2_year", "max_area_m2", "existing_area_m2")
SEA_DISTANCE_COLUMNS: tuple[str, ...] = ("origin", "port", "country", "name", "candidate",
                                         "distance_km")

_CODE_RE = re.compile(r"^[A-Z]{2}$")
_DATASET_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")

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


def user_data_dir() -> Path:
    """The user data directory, which holds the data sets built by ``hzlogistics data build``.

    Returns
    -------
    pathlib.Path
        ``HZLOGISTICS_DATA`` when set; otherwise the platform's cache directory:
        ``$XDG_CACHE_HOME/hzlogistics`` (``~/.cache/hzlogistics``) on Linux,
        ``~/Library/Caches/hzlogistics`` on macOS, ``%LOCALAPPDATA%\\hzlogistics\\Cache``
        on Windows. It need not exist yet.

    Examples
    --------
    >>> import os
    >>> saved = os.environ.pop("HZLOGISTICS_DATA", None)
    >>> os.environ["HZLOGISTICS_DATA"] = "/srv/hz-data"
    >>> user_data_dir().as_posix()
    '/srv/hz-data'
    >>> _ = os.environ.pop("HZLOGISTICS_DATA") if saved is None else os.environ.update(
    ...     HZLOGISTICS_DATA=saved)
    """
    env = os.environ.get(USER_DATA_ENV)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "hzlogistics" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "hzlogistics"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hzlogistics"


def is_dataset_path(dataset: str) -> bool:
    """Whether a ``dataset`` value is a folder path rather than a name.

    Examples
    --------
    >>> is_dataset_path("world"), is_dataset_path("./my-data"), is_dataset_path("/data/x")
    (False, True, True)
    """
    return ("/" in dataset or "\\" in dataset or dataset.startswith((".", "~"))
            or Path(dataset).is_absolute())


def dataset_dir(name: str, *, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder of a named data set in the user data directory (it need not exist).

    Parameters
    ----------
    name
        Data set name: letters, digits, ``-``, ``_`` and ``.``.
    data_dir
        The user data directory (default: :func:`user_data_dir`).

    Raises
    ------
    ValidationError
        If the name is not usable as a folder name.

    Examples
    --------
    >>> dataset_dir("world", data_dir="/tmp/hz").as_posix()
    '/tmp/hz/world'
    """
    if not isinstance(name, str) or not _DATASET_NAME_RE.match(name) or ".." in name:
        raise ValidationError(
            f"data set name {name!r}: use 1-100 letters, digits, '-', '_' or '.', or give a "
            "folder path"
        )
    return (Path(data_dir).expanduser() if data_dir is not None else user_data_dir()) / name


def find_dataset(
    dataset: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Return the folder of a data set.

    Parameters
    ----------
    dataset
        ``None`` for the built-in data (see :func:`find_data_dir`); a name, for a
        data set built into the user data directory; or a folder path.
    data_dir
        The user data directory (default: :func:`user_data_dir`).

    Returns
    -------
    pathlib.Path
        A folder holding ``boundaries.geojson``.

    Raises
    ------
    ValidationError
        If the data set is not there, with the command that builds it.

    Examples
    --------
    >>> find_dataset() == find_data_dir()
    True
    """
    if dataset is None:
        return find_data_dir()
    text = os.fspath(dataset)
    if is_dataset_path(text):
        path = Path(text).expanduser()
    else:
        path = dataset_dir(text, data_dir=data_dir)
    if (path / BOUNDARIES_FILE).is_file():
        return path
    if is_dataset_path(text):
        raise ValidationError(f"data set {text}: no {BOUNDARIES_FILE} in that folder; build one "
                              f"with `hzlogistics data build --countries CODES --out {text}`")
    command = ("hzlogistics data build --countries all --min-population 1000" if text == "world"
               else f"hzlogistics data build --countries CODES --name {text}")
    where = "" if data_dir is None else f" --data-dir {data_dir}"
    raise ValidationError(
        f"data set {text!r} not found in {path.parent} (the user data directory; set "
        f"{USER_DATA_ENV} or --data-dir for another); build it with `{command}{where}`"
    )


def list_datasets(*, data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the data sets built into the user data directory, sorted.

    Examples
    --------
    >>> list_datasets(data_dir="/nonexistent")
    []
    """
    root = Path(data_dir).expanduser() if data_dir is not None else user_data_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / BOUNDARIES_FILE).is_file())


def dataset_names(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Codes and names of the countries a data folder holds, sorted by code.

    Parameters
    ----------
    data_dir
        A data folder (see :func:`find_data_dir`; default: the built-in data).

    Returns
    -------
    dict
        ISO code -> English short name, from its ``boundaries.geojson``.

    Raises
    ------
    ValidationError
        If the boundaries file is missing or damaged.

    Examples
    --------
    >>> names = dataset_names()
    >>> len(names), names["SG"]
    (50, 'Singapore')
    """
    path = find_data_dir(data_dir) / BOUNDARIES_FILE
    frame = _read_boundaries(_stamp(path))
    return dict(zip(frame["country"], frame["name"], strict=True))


def validate_codes(
    codes: str | Iterable[str] | None,
    *,
    valid: Mapping[str, str] | None = None,
) -> list[str]:
    """Check country codes and return them upper-cased, without repeats.

    Parameters
    ----------
    codes
        ISO 3166-1 alpha-2 codes among the valid ones (any case), or one
        string of comma-separated codes; ``None`` means all of them.
    valid
        Code -> name of the valid countries (those of a data set, see
        :func:`dataset_names`); default: the 50 markets.

    Returns
    -------
    list of str
        The codes in the order given (all valid codes, sorted, for ``None``).

    Raises
    ------
    ValidationError
        Listing every unknown code with the nearest valid codes.

    Examples
    --------
    >>> validate_codes("us, de")
    ['US', 'DE']
    >>> validate_codes(["fr", "FR"])
    ['FR']
    """
    names = COUNTRY_NAMES if valid is None else valid
    if codes is None:
        return sorted(names)
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
        if code in names:
            if code not in result:
                result.append(code)
            continue
        problems.append(f"unknown country code {item.strip()!r}"
                        + _suggestion(item.strip(), names))
    if not items:
        problems.append("no country code given")
    if problems:
        if len(names) <= 60:
            problems.append("valid codes are " + ", ".join(sorted(names)))
        else:
            problems.append(f"the data set holds {len(names)} countries; "
                            "`hzlogistics countries --dataset NAME` lists them")
        raise ValidationError(problems)
    return result


def nearest_codes(text: str, valid: Mapping[str, str], n: int = 3) -> list[str]:
    """The valid codes nearest to an unknown code or country name, nearest first.

    Parameters
    ----------
    text
        What was given (a code or a country name).
    valid
        Code -> name of the valid countries.
    n
        How many to return at most.

    Examples
    --------
    >>> nearest_codes("Germany", {"DE": "Germany", "DK": "Denmark"})
    ['DE']
    >>> nearest_codes("UK", {"GB": "United Kingdom", "UA": "Ukraine", "US": "United States"})
    ['US', 'UA']
    """
    by_name = {name: code for code, name in valid.items()}
    if len(text) > 2:
        names = difflib.get_close_matches(text, list(by_name), n=n, cutoff=0.6)
        found = [by_name[name] for name in names]
        lowered = text.lower()
        found += [c for nm, c in by_name.items() if lowered in nm.lower() and c not in found]
        if found:
            return found[:n]
    upper = text.upper()
    codes = difflib.get_close_matches(upper, sorted(valid), n=n, cutoff=0.5)
    return codes


def _suggestion(text: str, valid: Mapping[str, str] = COUNTRY_NAMES) -> str:
    """' (did you mean ...?)' for an unknown code, matching codes and country names."""
    if valid is COUNTRY_NAMES:
        by_name = {name: code for code, name in COUNTRY_NAMES.items()}
        name = close_match(text, by_name, cutoff=0.6) if len(text) > 2 else None
        if name is not None:
            return f" (did you mean '{by_name[name]}' for {name}?)"
        code = close_match(text.upper(), COUNTRY_CODES, cutoff=0.5)
        if code is not None:
            return f" (did you mean '{code}' for {COUNTRY_NAMES[code]}?)"
        return ""
    near = nearest_codes(text, valid)
    if not near:
        return ""
    return " (nearest: " + ", ".join(f"'{c}' for {valid[c]}" for c in near) + ")"


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
    if "country" in df.columns:
        bad = [i for i, v in enumerate(df["country"]) if not _CODE_RE.match(str(v))]
        problems += [f"{source}, feature {i + 1}, field 'country': {df['country'].iloc[i]!r} is "
                     "not an ISO 3166-1 alpha-2 code such as 'DE'" for i in bad[:5]]
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


def _folder_codes(folder: Path) -> tuple[str, ...]:
    """Codes of the folder's boundaries; the 50 markets when they cannot be read."""
    try:
        return tuple(sorted(_read_boundaries(_stamp(folder / BOUNDARIES_FILE))["country"]))
    except ValidationError:
        return COUNTRY_CODES


@functools.lru_cache(maxsize=16)
def _read_demand(stamp: _Stamp, codes: tuple[str, ...] = COUNTRY_CODES) -> gpd.GeoDataFrame:
    path = Path(stamp.path)
    source = path.name
    df = _read_csv(path, ("id", "name", "country"))
    problems = check_columns(df, DEMAND_COLUMNS, source)
    problems += check_unique(df, "id", source)
    problems += check_choice(df, "country", codes, source)
    problems += check_points(df, source)
    problems += check_numeric(df, "population", source, min_value=0)
    problems += check_numeric(df, "weight", source, min_value=0)
    raise_problems(problems)
    for column in ("lon", "lat", "weight"):
        df[column] = pd.to_numeric(df[column]).astype(float)
    df["population"] = pd.to_numeric(df["population"]).astype(np.int64)
    return _points_frame(df, ["id", "name", "country", "population", "weight"])


@functools.lru_cache(maxsize=16)
def _read_sites(stamp: _Stamp, codes: tuple[str, ...] = COUNTRY_CODES) -> gpd.GeoDataFrame:
    path = Path(stamp.path)
    source = path.name
    df = _read_csv(path, ("id", "name", "country", "kind"))
    problems = check_columns(df, SITE_COLUMNS, source)
    problems += check_unique(df, "id", source)
    problems += check_choice(df, "country", codes, source)
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


def _select(gdf: gpd.GeoDataFrame, codes: str | Iterable[str] | None,
            valid: Mapping[str, str] | None = None) -> gpd.GeoDataFrame:
    if codes is None:
        return gdf.copy()
    wanted = validate_codes(codes, valid=valid)
    order = {code: i for i, code in enumerate(wanted)}
    mask = gdf["country"].isin(wanted).to_numpy()
    out = gdf.loc[mask].copy()
    out["_order"] = out["country"].map(order)
    out = out.sort_values("_order", kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def _load_layer(
    reader: Callable[..., gpd.GeoDataFrame],
    file_name: str,
    codes: str | Iterable[str] | None,
    data_dir: str | os.PathLike[str] | None,
) -> gpd.GeoDataFrame:
    """Read one data file through its cached ``reader`` and keep the rows of ``codes``."""
    folder = find_data_dir(data_dir)
    path = folder / file_name
    if reader is _read_boundaries:
        frame = reader(_stamp(path))
        valid = dict(zip(frame["country"], frame["name"], strict=True))
        return _select(frame, codes, _valid_names(valid))
    folder_codes = _folder_codes(folder)
    frame = reader(_stamp(path), folder_codes)
    if codes is None:
        return frame.copy()
    return _select(frame, codes, _valid_names(dataset_names(folder)))


def _valid_names(names: Mapping[str, str]) -> Mapping[str, str]:
    """The 50 markets' own table when a folder holds exactly them (for their messages)."""
    return COUNTRY_NAMES if set(names) == set(COUNTRY_CODES) else names


#: Docstring sections shared by the loaders of one data layer, by placeholder name.
_LAYER_DOC_SECTIONS = {
    "layer_parameters": """Parameters
----------
codes
    Country codes (see :func:`validate_codes`); ``None`` for every country of the data set.
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
    """Summarise a data set (by default the 50 markets), one row per country.

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
    "SEA_DISTANCES_FILE",
    "USER_DATA_ENV",
    "DEMAND_FILE",
    "PLAN_COUNTRY_CODES",
    "PROVENANCE_FILE",
    "SITES_FILE",
    "SITE_KINDS",
    "country_table",
    "dataset_dir",
    "dataset_names",
    "find_data_dir",
    "find_dataset",
    "is_dataset_path",
    "list_datasets",
    "nearest_codes",
    "user_data_dir",
    "load_countries",
    "load_demand",
    "load_provenance",
    "load_sites",
    "validate_codes",
]
