"""Planners' own data in, files out.

:func:`read_demand_csv` and :func:`read_sites_csv` read the CSV files a planner
brings instead of the built-in 50-country data; they check every row and field
in one pass and raise a single :class:`~hzlogistics._errors.ValidationError`
naming each file, row and field. :func:`write_atomic` writes any output file so
that a crash or an interruption never leaves a half-written file behind.

Rows in messages are counted over the data rows, from 1 (row ``n`` is line
``n + 1`` of the file, after the header).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from hzlogistics._errors import ValidationError
from hzlogistics._validate import (
    check_columns,
    check_numeric,
    check_points,
    check_unique,
    raise_problems,
)

logger = logging.getLogger(__name__)

#: Largest number any input column may hold (parcels/day, m², USD): values
#: beyond it are typing mistakes, and they would overflow the solver's sums.
MAX_INPUT_VALUE: float = 1e12

#: Columns a demand CSV must have.
DEMAND_REQUIRED: tuple[str, ...] = ("id", "lon", "lat", "weight")
#: Columns a sites CSV must have.
SITES_REQUIRED: tuple[str, ...] = ("id", "lon", "lat")
#: Optional numeric columns of a sites CSV with their smallest valid value and
#: whether that value itself is allowed.
SITES_NUMERIC: dict[str, tuple[float, bool]] = {
    "max_area_m2": (0.0, False),
    "rent_usd_m2_year": (0.0, True),
    "existing_area_m2": (0.0, True),
    "fixed_cost": (0.0, True),
    "capacity": (0.0, True),
}
#: Optional text columns carried through as they are.
TEXT_COLUMNS: tuple[str, ...] = ("name", "country", "kind")
#: Country code given to every point of a file without a ``country`` column
#: (ISO 3166 reserves ``ZZ`` for an unknown region): the points then form one
#: region of their own.
UNKNOWN_COUNTRY: str = "ZZ"


def _read_table(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, str]:
    p = Path(path)
    source = str(p)
    if not p.exists():
        raise ValidationError(f"{source}: file not found")
    if not p.is_file():
        raise ValidationError(f"{source}: is not a file")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_filter=False,
                         encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise ValidationError(f"{source}: the file is empty; expected a header line "
                              "and one row per point") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise ValidationError(f"{source}: cannot be read as a UTF-8 CSV file ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    for column in df.columns:
        df[column] = df[column].str.strip()
    return df, source


def _optional_numeric(df: pd.DataFrame, column: str, source: str, min_value: float,
                      inclusive: bool) -> list[str]:
    """Check a numeric column whose blank cells mean 'not given'."""
    if column not in df.columns:
        return []
    filled = df[[column]].copy()
    blank = filled[column] == ""
    filled.loc[blank, column] = str(min_value + (0 if inclusive else 1))
    return check_numeric(filled, column, source, min_value=min_value, min_inclusive=inclusive,
                         max_value=MAX_INPUT_VALUE)


def _points(df: pd.DataFrame, numeric: list[str]) -> gpd.GeoDataFrame:
    out = df.copy()
    out["id"] = out["id"].astype(str)
    for column in numeric:
        if column in out.columns:
            out[column] = pd.to_numeric(out[column].replace("", np.nan),
                                        errors="coerce").astype(float)
    for column in TEXT_COLUMNS:
        if column in out.columns:
            out[column] = out[column].replace("", None)
    if "country" in out.columns:
        out["country"] = out["country"].map(lambda c: c.upper() if isinstance(c, str) else c)
    else:
        out["country"] = UNKNOWN_COUNTRY
    if "name" in out.columns:
        out["name"] = out["name"].where(out["name"].notna(), out["id"])
    else:
        out["name"] = out["id"]
    geometry = gpd.points_from_xy(out["lon"], out["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326")


def read_demand_csv(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read a planner's demand points.

    Parameters
    ----------
    path
        CSV with columns ``id, lon, lat, weight`` (parcels/day, >= 0) and
        optionally ``name`` and ``country`` (ISO code); other columns are kept.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per point in file order, EPSG:4326 points, ``id`` as text,
        ``lon``, ``lat`` and ``weight`` as floats, ``country`` upper-cased
        (:data:`UNKNOWN_COUNTRY` for all rows when the file has no such
        column) and ``name`` (the id where none is given).

    Raises
    ------
    ValidationError
        Listing, in one pass, a missing file or column, empty or repeated ids,
        non-numeric, non-finite or out-of-range coordinates and negative,
        non-numeric or absurd weights (above :data:`MAX_INPUT_VALUE`), each with
        the file, row and field.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "demand.csv"
    >>> _ = f.write_text("id,lon,lat,weight\\n1,120.2,30.3,5\\n2,121.5,31.2,7\\n")
    >>> read_demand_csv(f)[["id", "weight"]].to_dict("list")
    {'id': ['1', '2'], 'weight': [5.0, 7.0]}
    """
    df, source = _read_table(path)
    problems = check_columns(df, DEMAND_REQUIRED, source)
    problems += check_unique(df, "id", source)
    problems += check_points(df, source)
    problems += check_numeric(df, "weight", source, min_value=0.0, max_value=MAX_INPUT_VALUE)
    if not problems and df.empty:
        problems.append(f"{source}: has a header but no rows; expected one row per demand point")
    raise_problems(problems)
    logger.debug("read %d demand points from %s", len(df), source)
    return _points(df, ["lon", "lat", "weight"])


def read_sites_csv(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read a planner's candidate (or competitor) sites.

    Parameters
    ----------
    path
        CSV with columns ``id, lon, lat`` and optionally ``max_area_m2`` (> 0),
        ``rent_usd_m2_year``, ``existing_area_m2``, ``fixed_cost``, ``capacity``
        (all >= 0 and at most :data:`MAX_INPUT_VALUE`; a blank cell means not
        given), ``country``, ``name`` and ``kind``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site in file order, EPSG:4326 points, ``id`` as text,
        numeric columns as floats (NaN where blank), ``country`` upper-cased
        (:data:`UNKNOWN_COUNTRY` for all rows when the file has no such
        column) and ``name`` (the id where none is given).

    Raises
    ------
    ValidationError
        Listing every problem of the file in one pass, each with the file, row
        and field.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = f.write_text("id,lon,lat,max_area_m2\\nA,120.2,30.3,500\\nB,121.5,31.2,\\n")
    >>> read_sites_csv(f)["max_area_m2"].tolist()
    [500.0, nan]
    """
    df, source = _read_table(path)
    problems = check_columns(df, SITES_REQUIRED, source)
    problems += check_unique(df, "id", source)
    problems += check_points(df, source)
    for column, (low, inclusive) in SITES_NUMERIC.items():
        problems += _optional_numeric(df, column, source, low, inclusive)
    if not problems and df.empty:
        problems.append(f"{source}: has a header but no rows; expected one row per site")
    raise_problems(problems)
    logger.debug("read %d sites from %s", len(df), source)
    return _points(df, ["lon", "lat", *SITES_NUMERIC])


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def temp_path_for(path: str | os.PathLike[str]) -> Path:
    """A fresh, hidden file name next to ``path`` that keeps its suffix.

    Examples
    --------
    >>> p = temp_path_for("out/plan.gpkg")
    >>> (p.parent.name, p.name.startswith(".plan."), p.suffix)
    ('out', True, '.gpkg')
    """
    p = Path(path)
    return p.with_name(f".{p.stem}.{secrets.token_hex(4)}.tmp{p.suffix}")


def write_atomic(
    path: str | os.PathLike[str],
    data: str | bytes | Callable[[Path], object],
    *,
    encoding: str = "utf-8",
) -> Path:
    """Write a file so that readers see either the old file or the complete new one.

    The content goes to a temporary file in the same folder, which then
    replaces ``path`` in one rename (:func:`os.replace`). If writing fails the
    temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path
        The file to write; its folder is created if needed.
    data
        Text, bytes, or a function called with the temporary path that writes
        the file itself (e.g. ``lambda p: gdf.to_file(p, driver="GPKG")``).
    encoding
        Encoding of text data.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValidationError
        When the folder cannot be created or written to, for any reason the
        system gives (no permission, a full disk, a read-only file system).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a" / "note.txt"
    >>> write_atomic(f, "hello").read_text()
    'hello'
    """
    target = Path(path)
    if not str(path).strip():
        raise ValidationError("an empty path was given; expected a file path to write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"{target.parent}: cannot create the output folder "
                              f"({exc.strerror or exc})") from None
    if target.is_dir():
        raise ValidationError(f"{target}: is a folder; expected a file path to write")
    tmp = temp_path_for(target)
    try:
        if callable(data):
            data(tmp)
            if not tmp.exists():
                raise OSError(f"the writer produced no file at {tmp}")
            if tmp.is_file():  # writers that use mkstemp leave the file private (0600)
                os.chmod(tmp, 0o666 & ~_umask())
        else:
            payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:  # no permission, a full disk, a folder that takes no files
        _remove(tmp)
        raise ValidationError(f"{target}: cannot write here ({exc.strerror or exc}); "
                              "choose a folder you can write to") from None
    except BaseException:
        _remove(tmp)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except IsADirectoryError:  # pragma: no cover - a writer that made a folder
        import shutil

        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------
# Safe content
# ---------------------------------------------------------------------------
#: First characters that make a spreadsheet read a cell as a formula (OWASP's
#: list for CSV injection).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_formula(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made plain text.

    Text starting with one of :data:`FORMULA_STARTS` gets a single quote in
    front (the OWASP rule), unless it is a plain number such as ``-12.5``;
    anything else is returned as it is.

    Examples
    --------
    >>> [neutralise_formula(v) for v in ["=cmd|' /C calc'!A0", "-12.5", "@x", "Hamburg", -3.0]]
    ["'=cmd|' /C calc'!A0", '-12.5', "'@x", 'Hamburg', -3.0]
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) \
            and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(df: pd.DataFrame) -> str:
    """A table as CSV text that spreadsheets open without running any cell as a formula.

    Text columns go through :func:`neutralise_formula`; numeric columns are
    written as they are (a negative number stays a number).

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"id": ["=1+1", "A"], "x": [-1.5, 2.0]})), end="")
    id,x
    '=1+1,-1.5
    A,2.0
    """
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise_formula)
    return out.to_csv(index=False)


def write_gdal(path: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    """Run a GDAL writer on ``path`` even when GDAL would misread the path.

    GDAL reads ``!`` as the separator of a file inside an archive, ``://`` as
    a URL and a leading ``/vsi`` as a virtual file system: a folder named
    ``plans!v2`` would make the write fail. Such paths are written to a
    temporary folder first, then moved.

    Parameters
    ----------
    path
        The file to write (in practice a temporary file next to its target,
        see :func:`write_atomic`).
    write
        Called with the path GDAL should write to.
    """
    target = Path(path)
    text = str(target)
    if "!" not in text and "://" not in text and not text.startswith("/vsi"):
        write(target)
        return
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="hzlogistics-"))
    try:
        tmp = folder / f"file{target.suffix}"
        write(tmp)
        shutil.move(tmp, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def gdal_readable(path: str | os.PathLike[str]) -> tuple[Path, Callable[[], None]]:
    """A path GDAL can read holding the file ``path``, and how to clean it up.

    The file itself when GDAL reads its path as it is, else a copy in a
    temporary folder (see :func:`write_gdal`).
    """
    source = Path(path)
    text = str(source)
    if "!" not in text and "://" not in text and not text.startswith("/vsi"):
        return source, lambda: None
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="hzlogistics-"))
    copy = folder / f"file{source.suffix}"
    shutil.copyfile(source, copy)
    return copy, lambda: shutil.rmtree(folder, ignore_errors=True)


__all__ = [
    "FORMULA_STARTS",
    "MAX_INPUT_VALUE",
    "csv_text",
    "gdal_readable",
    "neutralise_formula",
    "write_gdal",
    "DEMAND_REQUIRED",
    "SITES_NUMERIC",
    "SITES_REQUIRED",
    "UNKNOWN_COUNTRY",
    "read_demand_csv",
    "read_sites_csv",
    "temp_path_for",
    "write_atomic",
]
