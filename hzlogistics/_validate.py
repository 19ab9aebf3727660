"""Reusable input checks that collect every problem in one pass.

Each ``check_*`` function looks at one aspect of a table and returns a list of
messages (empty when all is well) instead of raising, so that a loader can run
every check, gather all the problems of a file and raise a single
:class:`~hzlogistics._errors.ValidationError` with :func:`raise_problems`.

Every message names the source (usually a file name), the row and the field,
and says what would be valid. Rows are counted from 1 over the data rows, the
header line of a CSV file not included (row ``n`` is line ``n + 1`` of a CSV file
with one header line).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from hzlogistics._errors import ValidationError

#: At most this many offending rows are listed per check; the rest are counted.
MAX_ROWS_LISTED: int = 5


def raise_problems(problems: Iterable[str]) -> None:
    """Raise one :class:`ValidationError` carrying every problem, if there are any.

    Parameters
    ----------
    problems
        Messages collected by the ``check_*`` functions.

    Raises
    ------
    ValidationError
        If ``problems`` is not empty.

    Examples
    --------
    >>> raise_problems([])
    >>> raise_problems(["demand.csv, row 2, field 'weight': -1 is below 0"])
    Traceback (most recent call last):
    ...
    hzlogistics._errors.ValidationError: demand.csv, row 2, field 'weight': -1 is below 0
    """
    problems = list(problems)
    if problems:
        raise ValidationError(problems)


def close_match(value: str, choices: Iterable[str], *, cutoff: float = 0.5) -> str | None:
    """Return the choice closest to ``value`` (case-insensitive), or ``None``.

    Parameters
    ----------
    value
        What the user wrote.
    choices
        The valid values.
    cutoff
        Similarity ratio (0-1) below which no match is offered.

    Returns
    -------
    str or None
        The closest valid value, spelled as in ``choices``.

    Examples
    --------
    >>> close_match("airprot", ["town", "airport", "port"])
    'airport'
    >>> close_match("zzz", ["town", "airport"]) is None
    True
    """
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    found = difflib.get_close_matches(value.casefold(), list(by_folded), n=1, cutoff=cutoff)
    return by_folded[found[0]] if found else None


def _show(value: object) -> str:
    """A value as the user would have written it (no trailing '.0' on whole floats)."""
    if isinstance(value, float | np.floating):
        return f"{float(value):.15g}"
    return str(value)


def _where(source: str, row: int | None = None, field: str | None = None) -> str:
    parts = [source]
    if row is not None:
        parts.append(f"row {row}")
    if field is not None:
        parts.append(f"field '{field}'")
    return ", ".join(parts)


def _listed(
    source: str, field: str, positions: Sequence[int], describe: list[str], expected: str
) -> list[str]:
    """Messages for the first offending rows plus a count of the others."""
    messages = [
        f"{_where(source, pos + 1, field)}: {text}; {expected}"
        for pos, text in zip(positions[:MAX_ROWS_LISTED], describe[:MAX_ROWS_LISTED], strict=False)
    ]
    if len(positions) > MAX_ROWS_LISTED:
        messages.append(
            f"{_where(source, field=field)}: {len(positions) - MAX_ROWS_LISTED} more rows "
            f"with the same problem"
        )
    return messages


def check_columns(df: pd.DataFrame, required: Iterable[str], source: str) -> list[str]:
    """Check that every required column is present.

    Parameters
    ----------
    df
        The table.
    required
        Column names that must be present.
    source
        Name of the file or table, used in messages.

    Returns
    -------
    list of str
        One message per missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"id": ["a"]}), ["id", "weight"], "demand.csv")
    ["demand.csv: missing column 'weight'; required columns are id, weight"]
    """
    required = list(required)
    present = set(map(str, df.columns))
    problems = []
    for column in required:
        if column not in present:
            hint = close_match(column, present, cutoff=0.7)
            extra = f" (found '{hint}', is it misspelt?)" if hint else ""
            problems.append(
                f"{source}: missing column '{column}'{extra}; required columns are "
                + ", ".join(required)
            )
    return problems


def check_numeric(
    df: pd.DataFrame,
    column: str,
    source: str,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_inclusive: bool = True,
) -> list[str]:
    """Check that a column holds finite numbers within bounds.

    Parameters
    ----------
    df
        The table; the column may hold numbers or text to be parsed as numbers.
    column
        Column to check (absent columns are left to :func:`check_columns`).
    source
        Name of the file or table, used in messages.
    min_value, max_value
        Bounds; ``None`` for no bound. ``max_value`` is inclusive.
    min_inclusive
        Whether ``min_value`` itself is allowed (``False``: values must exceed it).

    Returns
    -------
    list of str
        Messages for missing, non-numeric, non-finite and out-of-range values.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"weight": ["1.5", "abc", "-2"]})
    >>> for m in check_numeric(df, "weight", "demand.csv", min_value=0):
    ...     print(m)
    demand.csv, row 2, field 'weight': 'abc' is not a number; expected a number >= 0
    demand.csv, row 3, field 'weight': -2 is out of range; expected a number >= 0
    """
    if column not in df.columns:
        return []
    bounds = []
    if min_value is not None:
        bounds.append(f"{'>=' if min_inclusive else '>'} {min_value:g}")
    if max_value is not None:
        bounds.append(f"<= {max_value:g}")
    expected = "expected a number" + (" " + " and ".join(bounds) if bounds else "")

    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad_pos: list[int] = []
    bad_text: list[str] = []
    for pos in np.flatnonzero(~np.isfinite(values)):
        text = raw.iloc[pos]
        if text is None or (isinstance(text, float) and np.isnan(text)) or str(text).strip() == "":
            bad_text.append("value is missing")
        elif isinstance(text, str) and np.isnan(values[pos]):
            bad_text.append(f"{text!r} is not a number")
        else:
            bad_text.append(f"{_show(text)} is not a finite number")
        bad_pos.append(int(pos))
    problems = _listed(source, column, bad_pos, bad_text, expected)

    finite = np.isfinite(values)
    out = np.zeros(len(values), dtype=bool)
    if min_value is not None:
        below = values < min_value if min_inclusive else values <= min_value
        out |= finite & below
    if max_value is not None:
        out |= finite & (values > max_value)
    out_pos = [int(p) for p in np.flatnonzero(out)]
    out_text = [f"{_show(raw.iloc[p])} is out of range" for p in out_pos]
    return problems + _listed(source, column, out_pos, out_text, expected)


def check_choice(df: pd.DataFrame, column: str, allowed: Iterable[str], source: str) -> list[str]:
    """Check that a text column holds only allowed values.

    Parameters
    ----------
    df
        The table.
    column
        Column to check (absent columns are left to :func:`check_columns`).
    allowed
        The valid values, in the order they should be listed.
    source
        Name of the file or table, used in messages.

    Returns
    -------
    list of str
        One message per offending row (up to :data:`MAX_ROWS_LISTED`), with a close match.

    Examples
    --------
    >>> import pandas as pd
    >>> check_choice(pd.DataFrame({"kind": ["town", "airprot"]}), "kind",
    ...              ["town", "airport", "port"], "sites.csv")
    ["sites.csv, row 2, field 'kind': 'airprot' is not allowed (did you mean 'airport'?); \
expected one of town, airport, port"]
    """
    if column not in df.columns:
        return []
    allowed = list(dict.fromkeys(allowed))
    allowed_set = set(allowed)
    values = df[column].astype(str).to_numpy()
    positions = [i for i, v in enumerate(values) if v not in allowed_set]
    describe = []
    for pos in positions[:MAX_ROWS_LISTED]:
        hint = close_match(values[pos], allowed)
        describe.append(
            f"{values[pos]!r} is not allowed" + (f" (did you mean '{hint}'?)" if hint else "")
        )
    listed_allowed = ", ".join(allowed) if len(allowed) <= 60 else f"{len(allowed)} values"
    return _listed(source, column, positions, describe, f"expected one of {listed_allowed}")


def check_unique(df: pd.DataFrame, column: str, source: str) -> list[str]:
    """Check that a column has no empty and no repeated values.

    Parameters
    ----------
    df
        The table.
    column
        Column to check (absent columns are left to :func:`check_columns`).
    source
        Name of the file or table, used in messages.

    Returns
    -------
    list of str
        Messages for empty values and for repeats of an earlier row's value.

    Examples
    --------
    >>> import pandas as pd
    >>> check_unique(pd.DataFrame({"id": ["a", "b", "a"]}), "id", "sites.csv")
    ["sites.csv, row 3, field 'id': 'a' repeats row 1; expected a unique, non-empty id"]
    """
    if column not in df.columns:
        return []
    values = df[column].astype(object).to_numpy()
    text = np.array(["" if v is None or v != v else str(v).strip() for v in values],
                    dtype=object)
    empty = text == ""
    repeated = pd.Series(text).duplicated(keep="first").to_numpy() & ~empty
    positions = [int(p) for p in np.flatnonzero(empty | repeated)]
    first_seen: dict[str, int] = {}
    if repeated.any():
        for pos, value in enumerate(text):
            first_seen.setdefault(value, pos)
    describe = [
        "value is missing" if empty[p] else f"{text[p]!r} repeats row {first_seen[text[p]] + 1}"
        for p in positions[:MAX_ROWS_LISTED]
    ]
    return _listed(source, column, positions, describe, "expected a unique, non-empty id")


def check_points(
    df: pd.DataFrame, source: str, *, lon: str = "lon", lat: str = "lat"
) -> list[str]:
    """Check longitude/latitude columns (WGS84 degrees).

    Parameters
    ----------
    df
        The table.
    source
        Name of the file or table, used in messages.
    lon, lat
        Column names.

    Returns
    -------
    list of str
        Messages for missing, non-numeric and out-of-range coordinates.

    Examples
    --------
    >>> import pandas as pd
    >>> check_points(pd.DataFrame({"lon": [120.2], "lat": [95.0]}), "sites.csv")
    ["sites.csv, row 1, field 'lat': 95 is out of range; expected a number >= -90 and <= 90"]
    """
    return check_numeric(df, lon, source, min_value=-180.0, max_value=180.0) + check_numeric(
        df, lat, source, min_value=-90.0, max_value=90.0
    )


def check_geometries(
    geometries: Sequence[object] | np.ndarray | pd.Series,
    source: str,
    *,
    geom_types: Iterable[str] | None = None,
    field: str = "geometry",
) -> list[str]:
    """Check that geometries are present, non-empty, valid and of an allowed type.

    Parameters
    ----------
    geometries
        Shapely geometries (or ``None``), one per row.
    source
        Name of the file or table, used in messages.
    geom_types
        Allowed geometry types (e.g. ``["Polygon", "MultiPolygon"]``); ``None`` allows any.
    field
        Field name used in messages.

    Returns
    -------
    list of str
        Messages naming the row and the reason (with GEOS's explanation when invalid).

    Examples
    --------
    >>> from shapely import Point, Polygon
    >>> bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> for m in check_geometries([Point(0, 0), bowtie], "x.geojson",
    ...                           geom_types=["Polygon", "MultiPolygon"]):
    ...     print(m)
    x.geojson, row 1, field 'geometry': Point is not allowed; expected Polygon, MultiPolygon
    x.geojson, row 2, field 'geometry': invalid (Self-intersection[0.5 0.5]); expected a valid \
geometry (e.g. repaired with shapely.make_valid)
    """
    import shapely

    geoms = np.asarray(pd.Series(list(geometries), dtype=object).to_numpy(), dtype=object)
    allowed = list(geom_types) if geom_types is not None else None
    problems: list[str] = []

    missing = [i for i, g in enumerate(geoms) if not isinstance(g, shapely.Geometry)]
    problems += _listed(
        source, field, missing, ["geometry is missing"] * len(missing), "expected a geometry"
    )
    present = np.array([isinstance(g, shapely.Geometry) for g in geoms], dtype=bool)
    if not present.any():
        return problems
    idx = np.flatnonzero(present)
    arr = geoms[idx]

    empty = [int(idx[i]) for i in np.flatnonzero(shapely.is_empty(arr))]
    problems += _listed(
        source, field, empty, ["geometry is empty"] * len(empty), "expected a non-empty geometry"
    )
    if allowed is not None:
        names = np.array([g.geom_type for g in arr], dtype=object)
        wrong = [int(idx[i]) for i in np.flatnonzero(~np.isin(names, allowed))]
        problems += _listed(
            source, field, wrong, [f"{geoms[p].geom_type} is not allowed" for p in wrong],
            "expected " + ", ".join(allowed),
        )
    invalid_local = np.flatnonzero(~shapely.is_valid(arr) & ~shapely.is_empty(arr))
    invalid = [int(idx[i]) for i in invalid_local]
    reasons = [f"invalid ({shapely.is_valid_reason(geoms[p])})" for p in invalid]
    problems += _listed(
        source, field, invalid, reasons,
        "expected a valid geometry (e.g. repaired with shapely.make_valid)",
    )
    return problems


__all__ = [
    "MAX_ROWS_LISTED",
    "check_choice",
    "check_columns",
    "check_geometries",
    "check_numeric",
    "check_points",
    "check_unique",
    "close_match",
    "raise_problems",
]
