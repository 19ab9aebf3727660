"""A planner's own coverage, read from a CSV file of site → demand pairs."""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hzlogistics._errors import ValidationError
from hzlogistics.coverage.checks import capped
from hzlogistics.coverage.result import Coverage, coverage_from_pairs


def read_coverage_csv(
    path: str | os.PathLike[str],
    site_ids: Sequence[Hashable] | np.ndarray,
    demand_ids: Sequence[Hashable] | np.ndarray,
) -> Coverage:
    """A planner's own coverage: a CSV of ``site_id,demand_id`` pairs.

    Parameters
    ----------
    path
        CSV with columns ``site_id`` and ``demand_id``, optionally
        ``travel_time_h`` and ``distance_km`` (numbers ≥ 0).
    site_ids, demand_ids
        All candidate sites and demand points, in matrix order.

    Returns
    -------
    Coverage
        ``mode="csv"``; repeated pairs keep the shortest travel time; demand
        points in no pair are ``unreachable``.

    Raises
    ------
    ValidationError
        A missing or unreadable file, missing columns, ids that are not among
        ``site_ids`` / ``demand_ids``, or bad numbers (every bad row named).
    """
    path = Path(path)
    label = os.fspath(path)
    if not path.is_file():
        raise ValidationError(f"{label}: no such coverage file")
    try:
        table = pd.read_csv(path, dtype={"site_id": str, "demand_id": str})
    except Exception as exc:  # any parser failure is the file's fault
        raise ValidationError(f"{label}: not a readable CSV file ({exc})") from exc
    missing = [c for c in ("site_id", "demand_id") if c not in table.columns]
    if missing:
        raise ValidationError(
            f"{label}: missing column(s) {missing}; expected site_id,demand_id"
            f"[,travel_time_h][,distance_km], found {list(table.columns)}"
        )
    sids = np.asarray(site_ids, dtype=object).astype(str).astype(object)
    dids = np.asarray(demand_ids, dtype=object).astype(str).astype(object)
    rows = pd.Index(sids).get_indexer(table["site_id"].astype(str))
    cols = pd.Index(dids).get_indexer(table["demand_id"].astype(str))
    problems: list[str] = []
    for i in range(len(table)):
        line = i + 2  # the header is line 1
        if rows[i] < 0:
            problems.append(f"{label} line {line}: site_id {table['site_id'].iat[i]!r} is not "
                            "a candidate site")
        if cols[i] < 0:
            problems.append(f"{label} line {line}: demand_id {table['demand_id'].iat[i]!r} is "
                            "not a demand point")
    values: dict[str, np.ndarray | None] = {}
    for col in ("travel_time_h", "distance_km"):
        if col not in table.columns:
            values[col] = None
            continue
        v = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=float)
        for i in np.flatnonzero(~np.isfinite(v) | (v < 0)).tolist():
            problems.append(f"{label} line {i + 2}: {col} {table[col].iat[i]!r} must be a "
                            "number ≥ 0")
        values[col] = v
    if problems:
        raise ValidationError(capped(problems))
    return coverage_from_pairs(sids, dids, rows, cols, travel_time_h=values["travel_time_h"],
                               distance_km=values["distance_km"], mode="csv")
