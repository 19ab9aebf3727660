"""Files of a finished plan: CSV, GeoJSON, GeoPackage, JSON and a Markdown report.

:func:`write_plan` writes the whole set into one folder::

    sites.csv          every candidate site: id, open, area_m2, served_weight, ...
    sites.geojson      the open sites, as points
    plan.gpkg          layers sites, demand, assignments (lines site -> demand), countries
    assignments.csv    site_id, demand_id, weight (parcels/day), travel_time_h
    summary.json       headline figures (Plan.summary()), the files, the interrupted flag;
                       a landed-cost plan adds its cost breakdown and ports of entry
    report.md          headline figures and a per-country table (and the landed cost)
    scenario.toml      the scenario that produced the plan

and, for a phased roll-out, ``rollout.png`` / ``rollout.html`` (the covered
share per year), with a section per year in ``report.md``, a per-year table in
``summary.json`` and ``open_year`` / ``area_m2_<year>`` in ``sites.csv``
(see :mod:`hzlogistics.rollout_report`).

The files are first written into a hidden staging folder inside the target
and moved into place only when all of them are complete, so a failed or
interrupted run never leaves a half-written file nor replaces the files of an
earlier plan. :func:`hzlogistics.saved_plan.read_plan` reads such a folder
back into a :class:`~hzlogistics.plan.Plan`, and :func:`compare_plans` sets two
plans side by side.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from hzlogistics._errors import ValidationError
from hzlogistics.io import csv_text, temp_path_for, write_atomic, write_gdal
from hzlogistics.maps.text import fmt, pct
from hzlogistics.report_landed import (
    LANDED_SITE_COLUMNS,
    landed_markdown,
    landed_site_columns,
    landed_summary,
)

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

logger = logging.getLogger(__name__)

#: File name of each kind of output.
PLAN_FILES: dict[str, str] = {
    "sites_csv": "sites.csv",
    "sites_geojson": "sites.geojson",
    "gpkg": "plan.gpkg",
    "assignments_csv": "assignments.csv",
    "summary": "summary.json",
    "report": "report.md",
    "scenario": "scenario.toml",
}

#: What the report and the command line say of delivery times when the
#: coverage carries none (a coverage CSV without ``travel_time_h``, or a radius).
NO_TRAVEL_TIMES: str = "not known (the coverage gives no travel times)"

#: Leading columns of ``sites.csv`` (others follow in the plan's order).
SITE_COLUMNS: tuple[str, ...] = (
    "id", "open", "area_m2", "served_weight", "status", "name", "country", "kind", "lon", "lat",
    "existing_area_m2", "max_area_m2", "rent_usd_m2_year", "rent_usd_year", "capacity_weight",
    "utilisation", "mean_travel_time_h", "max_travel_time_h",
)

_STAGING_PREFIX = ".staging-"

#: Held while the files of a plan are moved into place (a few renames). A
#: process about to quit at once takes it first, so that it never leaves half
#: of a new plan beside half of the old one.
MOVE_LOCK = threading.Lock()


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def write_plan(
    plan: Plan,
    out_dir: str | os.PathLike[str],
    *,
    scenario_text: str | None = None,
    map_path: str | os.PathLike[str] | None = None,
    on_moved: Callable[[dict[str, Path]], object] | None = None,
    cancel: threading.Event | None = None,
) -> dict[str, Path]:
    """Write a plan's files into ``out_dir``.

    Every file, the map included, is first written in full under a temporary
    name; only then are they all moved into place, one rename each, while
    :data:`MOVE_LOCK` is held. A run that fails or is interrupted before that
    leaves the previous plan's files as they were.

    Parameters
    ----------
    plan
        The plan to write.
    out_dir
        Folder to write into (created if needed). Files of an earlier plan in
        it are replaced only once every new file is complete; other files are
        left alone.
    scenario_text
        The scenario as written by the planner, copied to ``scenario.toml``;
        by default the plan's scenario is written with
        :func:`~hzlogistics.scenario.scenario_to_toml` (no copy when the plan
        has no scenario).
    map_path
        Also draw the plan's map (:func:`hzlogistics.maps.plan_map`) into this
        HTML file; it is moved into place with the other files.
    on_moved
        Called with the paths written once every file is in place, while
        :data:`MOVE_LOCK` is still held: a caller that then takes the lock
        knows for sure whether the files were moved.
    cancel
        When set before the files are moved, nothing is moved and
        :class:`KeyboardInterrupt` is raised (a caller quitting at once).

    Returns
    -------
    dict of str to pathlib.Path
        The paths written, by kind (see :data:`PLAN_FILES`; ``"map"`` when drawn).

    Raises
    ------
    ValidationError
        When a folder cannot be created or a file written, for any reason the
        system gives (no permission, a full disk); nothing is moved then.

    See Also
    --------
    hzlogistics.saved_plan.read_plan : reads the folder back into a Plan.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        clean_staging(out)
        staging = out / f"{_STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        staging.mkdir()
    except OSError as exc:
        raise ValidationError(f"{out}: cannot create the output folder here "
                              f"({exc.strerror or exc}); choose a folder you can write to"
                              ) from None
    final: dict[str, Path] = {}
    map_target = None if map_path is None else Path(map_path)
    map_tmp: Path | None = None
    try:
        writers: dict[str, Callable[[Path], object]] = {
            "sites_csv": lambda p: write_atomic(p, csv_text(sites_table(plan))),
            "sites_geojson": lambda p: _write_geojson(plan.open_sites, p),
            "gpkg": lambda p: write_atomic(
                p, lambda tmp: write_gdal(tmp, lambda q: _write_gpkg(plan, q))),
            "assignments_csv": lambda p: write_atomic(p, csv_text(plan.assignments)),
            "report": lambda p: write_atomic(p, report_markdown(plan)),
        }
        if plan.phases is not None:  # a roll-out: its chart of covered share per year
            from hzlogistics.rollout_report import ROLLOUT_FILES, rollout_html, rollout_png

            writers["rollout_png"] = lambda p: write_atomic(p, rollout_png(plan))
            writers["rollout_html"] = lambda p: write_atomic(p, rollout_html(plan))
            files = {**PLAN_FILES, **ROLLOUT_FILES}
        else:
            files = PLAN_FILES
        text = scenario_text
        if text is None and plan.scenario is not None:
            from hzlogistics.scenario import scenario_to_toml

            text = scenario_to_toml(plan.scenario)
        if text is not None:
            writers["scenario"] = lambda p: write_atomic(p, text)
        for kind, write in writers.items():
            write(staging / files[kind])
            final[kind] = out / files[kind]
        final["summary"] = out / PLAN_FILES["summary"]
        if map_target is not None:
            # drawn beside its final place (the map folder may be on another disk),
            # under a temporary name, before anything is moved
            map_tmp = _draw_map_aside(plan, map_target)
        summary = plan_summary(plan, files=final, out_dir=out, map_path=map_target)
        write_atomic(staging / PLAN_FILES["summary"], _dumps(summary))
        moves = [(staging / files[k], final[k]) for k in final if k != "summary"]
        if map_tmp is not None and map_target is not None:
            final["map"] = map_target
            moves.append((map_tmp, map_target))
        moves.append((staging / PLAN_FILES["summary"], final["summary"]))
        # every file is complete: move them into place, the summary last
        with MOVE_LOCK:
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            try:
                for source, target in moves:
                    os.replace(source, target)
            except OSError as exc:  # pragma: no cover - a rename within one folder
                raise ValidationError(f"{out}: cannot move the plan's files into place "
                                      f"({exc.strerror or exc})") from None
            if on_moved is not None:
                on_moved(dict(final))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if map_tmp is not None:
            _discard(map_tmp)
    logger.info("wrote %d files to %s", len(final), out)
    return final


def _draw_map_aside(plan: Plan, target: Path) -> Path:
    """Draw the plan's map into a temporary file next to ``target``; return its path."""
    from hzlogistics import maps

    tmp = temp_path_for(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        maps.plan_map(plan, path=tmp)
        if not tmp.is_file():
            raise OSError(f"the map was not written to {tmp}")
    except OSError as exc:
        _discard(tmp)
        raise ValidationError(f"{target}: cannot write the map here ({exc.strerror or exc}); "
                              "choose a folder you can write to") from None
    except BaseException:
        _discard(tmp)
        raise
    return tmp


def _discard(path: Path) -> None:
    """Remove a temporary file if it is there (its folder may not even exist)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def plan_summary(
    plan: Plan,
    *,
    files: dict[str, Path] | None = None,
    out_dir: Path | None = None,
    map_path: Path | None = None,
) -> dict[str, Any]:
    """The content of ``summary.json``: :meth:`Plan.summary` plus files and flags.

    Returns
    -------
    dict
        JSON-serialisable; ``interrupted`` is true when the search was stopped
        before its limits, ``files`` maps each kind to its file name; a plan
        of the ``landed`` objective adds ``landed``
        (:func:`hzlogistics.report_landed.landed_summary`).
    """
    summary = _jsonable(plan.summary())
    summary["interrupted"] = plan.result.status == "interrupted"
    landed = landed_summary(plan)
    if landed is not None:
        summary["landed"] = _jsonable(landed)
    if out_dir is not None:
        summary["out_dir"] = str(out_dir)
    if files is not None:
        summary["files"] = {k: p.name for k, p in files.items()}
    if map_path is not None:
        summary["map"] = str(map_path)
    return summary


def _dumps(data: Any) -> str:
    return json.dumps(_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _jsonable(x: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN/inf to None, paths to text."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, Path):
        return str(x)
    return x


def sites_table(plan: Plan) -> pd.DataFrame:
    """Every candidate site of a plan as a flat table (``sites.csv``).

    Returns
    -------
    pandas.DataFrame
        ``id, open, area_m2, served_weight`` first, then status, place,
        rent and travel-time columns (for a roll-out, then ``open_year`` and
        ``area_m2_<year>`` of every year); ``lon``/``lat`` instead of a geometry.
        A landed-cost plan adds each open site's ``port_of_entry``,
        ``inbound_usd_per_parcel``, ``drayage_km`` and ``landed_usd_per_parcel``.
    """
    sites = plan.sites
    table = pd.DataFrame(sites.drop(columns=sites.geometry.name))
    if "lon" not in table.columns or "lat" not in table.columns:
        table["lon"] = sites.geometry.x.to_numpy()
        table["lat"] = sites.geometry.y.to_numpy()
    landed = landed_site_columns(plan)
    if landed is not None:
        ids = table["id"].astype(str)
        for col in LANDED_SITE_COLUMNS:
            table[col] = ids.map(landed[col]).to_numpy()
    first = [c for c in SITE_COLUMNS if c in table.columns]
    if "open_year" in table.columns:  # a roll-out: the year each site opens, its area by year
        first += ["open_year"] + [c for c in table.columns if c.startswith("area_m2_")]
    return table[first + [c for c in table.columns if c not in first]]


def _write_geojson(sites: gpd.GeoDataFrame, path: Path) -> None:
    if len(sites) == 0:
        write_atomic(path, '{"type": "FeatureCollection", "features": []}\n')
        return
    write_atomic(path, lambda tmp: write_gdal(
        tmp, lambda q: _clean(sites).to_file(q, driver="GeoJSON", layer="sites")))


def _clean(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GDAL can store: object columns as text, a 2-D geometry."""
    out = gdf.copy()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: v if v is None or isinstance(v, str | bool |
                                                                               int | float)
                                          else str(v))
    return out


def assignment_lines(plan: Plan) -> gpd.GeoDataFrame:
    """The assignments as lines from each site to each demand point it serves.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id, demand_id, weight, travel_time_h`` and a LineString each (EPSG:4326).
    """
    a = plan.assignments.reset_index(drop=True)
    lines = np.empty(len(a), dtype=object)
    if len(a):
        coords = np.empty((len(a), 2, 2))
        for k, (frame, column) in enumerate(((plan.sites, "site_id"), (plan.demand, "demand_id"))):
            pos = pd.Index(frame["id"].astype(str)).get_indexer(a[column].astype(str))
            geoms = frame.geometry.to_numpy()
            xy = np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)])
            coords[:, k, :] = np.where((pos >= 0)[:, None], xy[pos], np.nan)
        lines = shapely.linestrings(coords)
    return gpd.GeoDataFrame(a, geometry=gpd.GeoSeries(lines, crs="EPSG:4326"),
                            crs="EPSG:4326")


def _write_gpkg(plan: Plan, path: Path) -> None:
    import pyogrio

    layers = {
        "sites": plan.sites,
        "demand": plan.demand,
        "assignments": assignment_lines(plan),
        "countries": plan.countries,
    }
    # The file is a temporary one, renamed into place only once complete, so
    # SQLite need not sync every transaction: one fsync at the end suffices
    # (and writing is several times faster).
    key = "OGR_SQLITE_SYNCHRONOUS"
    previous = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        for layer, gdf in layers.items():
            gdf = _clean(gpd.GeoDataFrame(gdf, geometry=gdf.geometry.name, crs="EPSG:4326"))
            gdf.to_file(path, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({key: previous})
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# The Markdown report
# ---------------------------------------------------------------------------
def _md(text: Any) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def report_markdown(plan: Plan) -> str:
    """The plan's report: headline figures, sites by size, and a per-country table.

    Returns
    -------
    str
        Markdown text (``report.md``).
    """
    s = plan.summary()
    lines = [f"# {_md(plan.title)}", ""]
    if s["status"] == "interrupted":
        lines += ["> **Interrupted**: the search was stopped before its limits; this is the "
                  f"best plan found so far (gap {pct(s['gap'], 2)}).", ""]
    budget = s.get("area_budget_m2")
    area = f"{fmt(s['total_area_m2'])} m²"
    if budget:
        area += f" of {fmt(budget)} m² ({pct(s['total_area_m2'] / budget)})"
    rows = [
        ("Scenario", f"`{plan.name}`"),
        ("Objective", f"{s['objective_name']} = {fmt(s['objective'], 1)} "
                      f"(bound {fmt(s['bound'], 1)})"),
        ("Status", f"{s['status']}, gap {pct(s['gap'], 3)}"),
        ("Sites open", f"{s['n_open']:,} ({s['n_existing']:,} existing) in "
                       f"{s['n_countries']} {'country' if s['n_countries'] == 1 else 'countries'}"),
        ("Floor area", area),
        ("Demand covered", f"{fmt(s['covered_weight'])} of {fmt(s['total_weight'])} "
                           f"parcels/day ({pct(s['covered_share'])})"),
        ("Yearly rent", f"{fmt(s['rent_usd_year'])} USD"),
        ("Solve time", f"{s['wall_s']:.1f} s"),
    ]
    if s.get("mean_travel_time_h") is not None:
        rows.insert(-2, ("Mean delivery", f"{s['mean_travel_time_h']:.2f} h per parcel served"))
    elif not s.get("travel_times_known", True):
        rows.insert(-2, ("Mean delivery", NO_TRAVEL_TIMES))
    if s.get("n_unreachable"):
        points = "demand point" if s["n_unreachable"] == 1 else "demand points"
        rows.insert(-2, ("Unreachable", f"{s['n_unreachable']:,} {points} "
                                        f"({fmt(s['unreachable_weight'], 1)} parcels/day) "
                                        "out of every site's reach; not served"))
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows] + [""]

    open_sites = plan.open_sites
    if len(open_sites):
        tiers = open_sites.groupby("area_m2").size().sort_index()
        lines += ["## Sites by size", "", "| Area (m²) | Sites |", "|---:|---:|"]
        lines += [f"| {fmt(a)} | {n:,} |" for a, n in tiers.items()] + [""]

    lines += ["## By country", ""]
    c = plan.countries
    if len(c) == 0:
        lines += ["The sites carry no country, so there is no per-country table.", ""]
    else:
        table = pd.DataFrame(c.drop(columns=c.geometry.name, errors="ignore"))
        table = table.sort_values("country")
        has_name = "name" in table.columns
        lines += ["| Country | Sites | Area (m²) | Demand (parcels/day) | Covered | "
                  "Mean travel time (h) | Rent (USD/year) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for _, r in table.iterrows():
            label = f"{r['country']}" + (f" {_md(r['name'])}" if has_name and
                                         isinstance(r["name"], str) else "")
            lines.append(
                f"| {_md(label)} | {int(r['n_sites']):,} | {fmt(r['area_m2'])} | "
                f"{fmt(r['demand_weight'])} | {pct(r['covered_share'])} | "
                f"{fmt(r.get('mean_travel_time_h'), 2)} | {fmt(r['rent_usd_year'])} |")
        lines.append("")
    lines += landed_markdown(plan)
    if plan.phases is not None:
        from hzlogistics.rollout_report import rollout_markdown

        lines.insert(2, f"The figures below are {plan.years[-1]}'s, the last year of the "
                        "roll-out; the objective is summed over the years. Each year follows "
                        "in its own section.\n")
        lines += [rollout_markdown(plan)]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------
@dataclass
class PlanComparison:
    """Two plans side by side.

    Attributes
    ----------
    sites
        One row per site whose state differs: ``id, name, country, area_a_m2,
        area_b_m2, change`` (``opened``, ``closed`` or ``resized``).
    countries
        Per country: ``n_sites_a, n_sites_b, area_a_m2, area_b_m2,
        covered_share_a, covered_share_b, covered_change`` (share of demand;
        NaN for a country that one of the plans does not cover at all).
    totals
        Headline figures of each plan and their differences.
    """

    sites: pd.DataFrame
    countries: pd.DataFrame
    totals: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return _jsonable({
            "totals": self.totals,
            "sites": self.sites.to_dict("records"),
            "countries": self.countries.to_dict("records"),
        })


def compare_plans(plan_a: Plan, plan_b: Plan) -> PlanComparison:
    """Which sites open, close or change size from plan A to plan B, and coverage per country.

    Sites are matched by ``id``; a site absent from one plan counts as closed there.

    Returns
    -------
    PlanComparison
    """
    def site_frame(plan: Plan) -> pd.DataFrame:
        cols = [c for c in ("id", "name", "country") if c in plan.sites.columns]
        frame = pd.DataFrame(plan.sites[cols + ["area_m2"]]).copy()
        frame["id"] = frame["id"].astype(str)
        return frame.set_index("id")

    a, b = site_frame(plan_a), site_frame(plan_b)
    both = a.merge(b, how="outer", left_index=True, right_index=True, suffixes=("_a", "_b"))
    both["area_a_m2"] = both.pop("area_m2_a").fillna(0.0)
    both["area_b_m2"] = both.pop("area_m2_b").fillna(0.0)
    for col in ("name", "country"):
        if f"{col}_a" in both.columns:
            both[col] = both.pop(f"{col}_a").combine_first(both.pop(f"{col}_b"))
    opened = (both["area_a_m2"] <= 0) & (both["area_b_m2"] > 0)
    closed = (both["area_a_m2"] > 0) & (both["area_b_m2"] <= 0)
    resized = (both["area_a_m2"] > 0) & (both["area_b_m2"] > 0) & ~np.isclose(
        both["area_a_m2"], both["area_b_m2"])
    both["change"] = np.select([opened, closed, resized], ["opened", "closed", "resized"], "")
    sites = both[both["change"] != ""].reset_index(names="id")
    sites = sites[[c for c in ("id", "name", "country", "area_a_m2", "area_b_m2", "change")
                   if c in sites.columns]].sort_values(["change", "id"]).reset_index(drop=True)

    def country_frame(plan: Plan) -> pd.DataFrame:
        c = plan.countries
        if len(c) == 0 or "country" not in c.columns:
            return pd.DataFrame(columns=["n_sites", "area_m2", "covered_share"])
        return pd.DataFrame(c[["country", "n_sites", "area_m2", "covered_share"]]).set_index(
            "country")

    ca, cb = country_frame(plan_a), country_frame(plan_b)
    countries = ca.merge(cb, how="outer", left_index=True, right_index=True,
                         suffixes=("_a", "_b"))
    countries = countries.rename(columns={"area_m2_a": "area_a_m2", "area_m2_b": "area_b_m2"})
    # a country planned in only one of the plans has no sites and no area in the
    # other, and no covered share there (NaN)
    for col in ("n_sites_a", "n_sites_b"):
        countries[col] = countries[col].fillna(0).astype(int)
    for col in ("area_a_m2", "area_b_m2"):
        countries[col] = countries[col].fillna(0.0).astype(float)
    for col in ("covered_share_a", "covered_share_b"):
        countries[col] = countries[col].astype(float)
    countries["covered_change"] = countries["covered_share_b"] - countries["covered_share_a"]
    countries = countries.reset_index(names="country").sort_values("country").reset_index(
        drop=True)

    sa, sb = plan_a.summary(), plan_b.summary()
    totals: dict[str, Any] = {"a": plan_a.name, "b": plan_b.name}
    for key in ("n_open", "total_area_m2", "covered_weight", "covered_share", "rent_usd_year"):
        totals[f"{key}_a"], totals[f"{key}_b"] = sa[key], sb[key]
        totals[f"{key}_change"] = sb[key] - sa[key]
    for kind in ("opened", "closed", "resized"):
        totals[f"n_{kind}"] = int((sites["change"] == kind).sum())
    return PlanComparison(sites=sites, countries=countries, totals=totals)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    except OSError:  # pragma: no cover - e.g. an invalid pid
        return False
    return True


def clean_staging(out_dir: str | os.PathLike[str]) -> int:
    """Remove staging folders left in ``out_dir`` by a process that no longer runs.

    A staging folder is named after the process that writes it; folders of a
    process still running are left alone.

    Returns
    -------
    int
        How many were removed.
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        return 0
    removed = 0
    for p in folder.iterdir():
        if not (p.is_dir() and p.name.startswith(_STAGING_PREFIX)):
            continue
        pid_text = p.name[len(_STAGING_PREFIX):].split("-", 1)[0]
        if pid_text.isdigit() and _process_alive(int(pid_text)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed += 1
    return removed


__all__ = [
    "MOVE_LOCK",
    "NO_TRAVEL_TIMES",
    "PLAN_FILES",
    "PlanComparison",
    "assignment_lines",
    "clean_staging",
    "compare_plans",
    "plan_summary",
    "report_markdown",
    "sites_table",
    "write_plan",
]
