"""Orchestration: scenario -> inputs -> coverage -> model -> :class:`Plan`.

Each step is callable on its own from a notebook; the command line is a thin
caller of the same steps.

A :class:`Plan` is data and KPIs. Writing it is the job of the layer below,
which reads a plan without importing this module:
:func:`hzlogistics.report.write_plan` writes its files and
:func:`hzlogistics.maps.plan_map` draws its map. :meth:`Plan.to_map` and
:meth:`Plan.to_files` are thin conveniences over them for a notebook.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from hzlogistics._errors import SolverError, ValidationError
from hzlogistics.plan_landed import build_landed_inputs
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult

if TYPE_CHECKING:  # pragma: no cover
    import folium

    from hzlogistics.coverage import Coverage
    from hzlogistics.phased_plan import Phases
    from hzlogistics.scenario import Phasing, Scenario

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    """A solved plan: which sites open, how large, and whom they serve.

    Attributes
    ----------
    name
        Scenario name (used for output file names).
    title
        Human-readable title (shown on maps and reports).
    sites
        Every candidate site (EPSG:4326) with the input columns (``id``, ``name``,
        ``country``, ``kind``, ``rent_usd_m2_year``, ``max_area_m2``,
        ``existing_area_m2``) and the plan's columns: ``open`` (bool), ``area_m2``,
        ``served_weight`` (parcels/day), ``capacity_weight`` (parcels/day the area
        can handle; NaN without capacity), ``utilisation`` (served / capacity),
        ``status`` (``"new"``, ``"existing"``, ``"closed"``), ``rent_usd_year``,
        ``mean_travel_time_h`` and ``max_travel_time_h`` (over what it serves).
    demand
        Every demand point (EPSG:4326) with ``id``, ``country``, ``weight`` and the
        plan's columns: ``served_weight`` (parcels/day served within the service
        level), ``covered`` (bool, served in full or in part), ``travel_time_h``
        (weighted mean over the sites serving it; NaN if unserved).
    countries
        One row per country (EPSG:4326 polygons) with ``n_sites``, ``area_m2``,
        ``demand_weight``, ``served_weight``, ``covered_share``,
        ``mean_travel_time_h``, ``rent_usd_year``.
    assignments
        ``site_id, demand_id, weight, travel_time_h``: parcels/day of each demand
        point served by each site.
    result
        The solver's outcome (status, objective, bound, gap, wall time, log).
    problem
        The array problem that was solved.
    coverage
        The coverage used (may be ``None`` for plans read back from files).
    scenario
        The scenario, when the plan came from one.
    timings
        Wall seconds of each stage (load, coverage, solve, ...).
    phases
        For a phased roll-out, its years: each year's plan and the roll-out
        (see :meth:`year`); the plan itself is then the last year's, with the
        roll-out's objective, bound and gap and the sites' ``open_year`` and
        ``area_m2_<year>``. ``None`` for a one-period plan.
    """

    name: str
    title: str
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    countries: gpd.GeoDataFrame
    assignments: pd.DataFrame
    result: SolveResult
    problem: SitingProblem | None = None
    coverage: Coverage | None = None
    scenario: Scenario | None = None
    timings: dict[str, float] = field(default_factory=dict)
    phases: Phases | None = None

    # ----------------------------------------------------------------- years
    @property
    def years(self) -> list[int]:
        """The years of a phased roll-out (empty for a one-period plan)."""
        return [] if self.phases is None else list(self.phases.years)

    def year(self, year: int) -> Plan:
        """The plan of one year of a phased roll-out (e.g. ``plan.year(2019)``), with its KPIs.

        Raises
        ------
        ValidationError
            When the plan is not phased, or has no such year.
        """
        if self.phases is None:
            raise ValidationError(f"plan '{self.name}' is not a phased roll-out; plan a "
                                  "scenario with a [phasing] section (or --years) for one")
        return self.phases.year(year)

    # ----------------------------------------------------------------- KPIs
    @property
    def open_sites(self) -> gpd.GeoDataFrame:
        """The open sites only."""
        return self.sites[self.sites["open"]]

    def summary(self) -> dict[str, Any]:
        """Headline figures of the plan, JSON-serialisable.

        Returns
        -------
        dict
            ``status, objective_name, objective, bound, gap, covered_weight,
            total_weight, covered_share, total_area_m2, area_budget_m2, n_open,
            n_existing, rent_usd_year, mean_travel_time_h, travel_times_known,
            n_unreachable, unreachable_weight, wall_s`` and ``timings``.
            ``mean_travel_time_h`` is the parcel-weighted mean over the demand
            served (``None`` when the coverage gives no travel times:
            ``travel_times_known`` is then false); ``n_unreachable``
            counts the demand points no site that may be opened reaches
            (``unreachable_weight``: their parcels/day).
        """
        r = self.result
        total = float(self.demand["weight"].sum())
        covered = float(self.demand["served_weight"].sum()) if len(self.demand) else 0.0
        if self.problem is not None:
            budget = self.problem.area_budget_m2
        else:
            budget = None if self.scenario is None else self.scenario.area_budget_m2
        open_sites = self.open_sites
        missed = self._unreachable
        return {
            "name": self.name,
            "title": self.title,
            "status": r.status,
            "objective_name": r.objective_name,
            "sense": r.sense,
            "objective": _num(r.objective),
            "bound": _num(r.bound),
            "gap": _num(r.gap),
            "covered_weight": covered,
            "total_weight": total,
            "covered_share": covered / total if total > 0 else 0.0,
            "total_area_m2": float(open_sites["area_m2"].sum()),
            "area_budget_m2": None if budget is None else float(budget),
            "n_open": int(len(open_sites)),
            "n_existing": int((open_sites["status"] == "existing").sum()),
            "n_countries": int((self.countries["n_sites"] > 0).sum()) if len(self.countries) else 0,
            "rent_usd_year": float(open_sites["rent_usd_year"].sum()),
            "mean_travel_time_h": self._mean_travel_time_h(),
            "travel_times_known": self.travel_times_known,
            "n_unreachable": int(missed.sum()),
            "unreachable_weight": float(np.asarray(self.problem.weight)[missed].sum())
            if self.problem is not None else 0.0,
            "wall_s": float(r.wall_s),
            "timings": {k: round(float(v), 3) for k, v in self.timings.items()},
        } | self._phased_summary()

    def _phased_summary(self) -> dict[str, Any]:
        """``phased`` (how the roll-out was valued) and ``years`` (one row per year)."""
        if self.phases is None:
            return {}
        from hzlogistics.phased_plan import PHASED_OBJECTIVE

        ph = self.phases
        return {
            "phased": {"objective": PHASED_OBJECTIVE, "discount": float(ph.problem.discount),
                       "years": list(ph.years), "method": ph.result.method,
                       **{f"{k}_objective": v for k, v in ph.baselines.items()}},
            "years": ph.table(),
        }

    @property
    def travel_times_known(self) -> bool:
        """Whether the coverage gave the travel time of the parcels served.

        False when it gives none (a coverage CSV without ``travel_time_h``, a
        geodesic radius): the mean delivery time is then not known, and is not
        reported as 0.
        """
        tt = self.assignments.get("travel_time_h")
        if tt is None:
            return False
        return bool(len(tt) == 0 or tt.notna().any())

    @cached_property
    def _unreachable(self) -> np.ndarray:
        """Demand points no site that may open reaches (computed once: a pass over every pair)."""
        if self.problem is None:
            return np.zeros(0, dtype=bool)
        return ~self.problem.reachable()

    def _mean_travel_time_h(self) -> float | None:
        tt = self.demand.get("travel_time_h")
        if tt is None or not tt.notna().any():
            return None
        served = self.demand["served_weight"].where(tt.notna(), 0.0)
        total = float(served.sum())
        return _num(float((served * tt.fillna(0.0)).sum()) / total) if total > 0 else None

    # -------------------------------------------------------------- outputs
    def to_map(self, path: str | Path | None = None, **kwargs: Any) -> folium.Map:
        """Draw the plan on an interactive map (see :func:`hzlogistics.maps.plan_map`).

        Parameters
        ----------
        path
            Where to write the HTML; ``None`` only returns the map (a notebook
            shows it inline).
        **kwargs
            Passed to :func:`hzlogistics.maps.plan_map`.

        """
        from hzlogistics import maps

        return maps.plan_map(self, path=path, **kwargs)

    def to_files(self, out_dir: str | Path, **kwargs: Any) -> dict[str, Path]:
        """Write the plan's files (see :func:`hzlogistics.report.write_plan`).

        Returns
        -------
        dict
            The paths written, by kind.

        """
        from hzlogistics import report

        return report.write_plan(self, out_dir, **kwargs)


def _num(x: float) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else x


def make_plan(
    result: SolveResult,
    problem: SitingProblem,
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    countries: gpd.GeoDataFrame | None = None,
    *,
    coverage: Coverage | None = None,
    name: str = "plan",
    title: str | None = None,
    scenario: Scenario | None = None,
    timings: dict[str, float] | None = None,
) -> Plan:
    """Join a solver result back onto the geography and compute the KPIs.

    Parameters
    ----------
    result
        The solve's outcome; must hold a plan (``result.has_solution``).
    problem
        The array problem solved; its rows/columns follow ``sites`` / ``demand``.
    demand, sites, countries
        The inputs, in the order used to build ``problem``.

    Raises
    ------
    SolverError
        If the result holds no plan (e.g. the time limit hit before the first one).
    """
    if not result.has_solution:
        raise SolverError(
            f"the solve ended '{result.status}' after {result.wall_s:.1f} s without a plan; "
            "raise the time limit (time_limit_s / --time-limit-s)"
        )
    served = sp.csr_matrix(result.served)
    area = np.asarray(result.area_m2, dtype=float)
    is_open = area > 0
    existing = np.asarray(sites.get("existing_area_m2", pd.Series(0.0, index=sites.index)),
                          dtype=float)
    tt = problem.travel_time_h
    coo = served.tocoo()
    if tt is not None and coo.nnz:
        tt_pairs = np.asarray(sp.csr_matrix(tt)[coo.row, coo.col]).ravel()
    else:
        tt_pairs = np.full(coo.nnz, np.nan)
    site_ids = sites["id"].to_numpy()
    demand_ids = demand["id"].to_numpy()
    assignments = pd.DataFrame(
        {
            "site_id": site_ids[coo.row],
            "demand_id": demand_ids[coo.col],
            "weight": coo.data.astype(float),
            "travel_time_h": tt_pairs,
        }
    )
    n_sites = len(sites)
    served_by_site = np.bincount(coo.row, weights=coo.data, minlength=n_sites)
    # means of travel time over the parcels whose travel time is known (a
    # coverage CSV or a radius may give none: the mean is then unknown, not 0)
    timed = np.where(np.isfinite(tt_pairs), coo.data, 0.0)
    timed_by_site = np.bincount(coo.row, weights=timed, minlength=n_sites)
    wtt = np.bincount(coo.row, weights=timed * np.nan_to_num(tt_pairs), minlength=n_sites)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_tt = np.where(timed_by_site > 0, wtt / timed_by_site, np.nan)
    max_tt = np.full(n_sites, np.nan)
    if coo.nnz and tt is not None:
        s = pd.Series(tt_pairs).groupby(coo.row).max()
        max_tt[s.index.to_numpy()] = s.to_numpy()
    cap = problem.capacity_per_m2
    out_sites = sites.copy()
    out_sites["open"] = is_open
    out_sites["area_m2"] = area
    out_sites["served_weight"] = served_by_site
    out_sites["capacity_weight"] = area * cap if cap else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        out_sites["utilisation"] = (np.where(area > 0, served_by_site / (area * cap), np.nan)
                                    if cap else np.nan)
    out_sites["status"] = np.where(~is_open, "closed", np.where(existing > 0, "existing", "new"))
    rent = np.asarray(sites.get("rent_usd_m2_year", pd.Series(0.0, index=sites.index)),
                      dtype=float)
    out_sites["rent_usd_year"] = area * np.nan_to_num(rent)
    out_sites["mean_travel_time_h"] = mean_tt
    out_sites["max_travel_time_h"] = max_tt

    n_demand = len(demand)
    served_by_demand = np.bincount(coo.col, weights=coo.data, minlength=n_demand)
    timed_by_demand = np.bincount(coo.col, weights=timed, minlength=n_demand)
    dtt = np.bincount(coo.col, weights=timed * np.nan_to_num(tt_pairs), minlength=n_demand)
    out_demand = demand.copy()
    out_demand["served_weight"] = served_by_demand
    out_demand["covered"] = served_by_demand > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out_demand["travel_time_h"] = np.where(timed_by_demand > 0, dtt / timed_by_demand,
                                               np.nan)

    out_countries = country_table(out_sites, out_demand, countries)
    return Plan(
        name=name,
        title=title or name,
        sites=out_sites,
        demand=out_demand,
        countries=out_countries,
        assignments=assignments,
        result=result,
        problem=problem,
        coverage=coverage,
        scenario=scenario,
        timings=dict(timings or {}),
    )


def country_table(
    sites: gpd.GeoDataFrame, demand: gpd.GeoDataFrame, countries: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Per-country KPIs of a plan's sites and demand (see :attr:`Plan.countries`).

    Sites or demand points without a ``country`` column count as one country, ``ALL``.
    """
    if "country" not in sites.columns:
        sites = sites.assign(country="ALL")
    if "country" not in demand.columns:
        demand = demand.assign(country="ALL")
    s = sites[sites["open"]]
    by_site = s.groupby("country").agg(
        n_sites=("id", "size"), area_m2=("area_m2", "sum"), rent_usd_year=("rent_usd_year", "sum")
    )
    tt = demand["travel_time_h"]
    timed = demand["served_weight"].where(tt.notna(), 0.0)
    d = demand.assign(_wtt=timed * tt.fillna(0.0), _timed=timed)
    by_demand = d.groupby("country").agg(
        demand_weight=("weight", "sum"), served_weight=("served_weight", "sum"),
        _wtt=("_wtt", "sum"), _timed=("_timed", "sum"),
    )
    table = by_demand.join(by_site, how="outer").fillna(
        {"n_sites": 0, "area_m2": 0.0, "rent_usd_year": 0.0, "demand_weight": 0.0,
         "served_weight": 0.0, "_wtt": 0.0, "_timed": 0.0}
    )
    table["n_sites"] = table["n_sites"].astype(int)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["covered_share"] = np.where(table["demand_weight"] > 0,
                                          table["served_weight"] / table["demand_weight"], 0.0)
        table["mean_travel_time_h"] = np.where(table["_timed"] > 0,
                                               table["_wtt"] / table["_timed"], np.nan)
    table = table.drop(columns=["_wtt", "_timed"])
    table.index.name = "country"
    table = table.reset_index()
    if countries is not None and len(countries):
        geo = countries[["country", "name", "geometry"]].merge(table, on="country", how="left")
        for col in ("n_sites", "area_m2", "rent_usd_year", "demand_weight", "served_weight",
                    "covered_share"):
            geo[col] = geo[col].fillna(0)
        geo["n_sites"] = geo["n_sites"].astype(int)
        return gpd.GeoDataFrame(geo, geometry="geometry", crs="EPSG:4326")
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries([None] * len(table), crs="EPSG:4326"))


# ---------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------
@dataclass
class Inputs:
    """The geography a scenario plans on (all EPSG:4326)."""

    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    countries: gpd.GeoDataFrame | None


def load_inputs(scenario: Scenario) -> Inputs:
    """Load the demand, candidate sites and countries a scenario names.

    A scenario's ``demand_file`` / ``sites_file`` replace the built-in data
    (bring your own); otherwise its ``dataset`` (by default the bundled
    50-country data set) is used, restricted to ``scenario.countries``. The
    ``world`` data set is built into the user data directory on first use.
    """
    from functools import partial

    from hzlogistics import countries as data
    from hzlogistics.databuild import ensure_dataset

    codes = scenario.countries
    folder = ensure_dataset(scenario.dataset) if scenario.dataset is not None else None
    load_countries = partial(data.load_countries, data_dir=folder)
    load_demand = partial(data.load_demand, data_dir=folder)
    load_sites = partial(data.load_sites, data_dir=folder)
    if scenario.sites_file or scenario.demand_file:
        from hzlogistics.io import read_demand_csv, read_sites_csv

        demand = (read_demand_csv(scenario.demand_file) if scenario.demand_file
                  else load_demand(codes))
        sites = read_sites_csv(scenario.sites_file) if scenario.sites_file else load_sites(codes)
        have_country = "country" in sites.columns and sites["country"].notna().all()
        countries = load_countries(codes) if have_country and codes else None
        return Inputs(demand=demand, sites=sites, countries=countries)
    return Inputs(demand=load_demand(codes), sites=load_sites(codes),
                  countries=load_countries(codes))


def build_scenario_coverage(
    scenario: Scenario, inputs: Inputs, *, progress: bool = False, map_fn: Any = map
) -> Coverage:
    """Build the coverage a scenario asks for (network, geodesic or from a CSV)."""
    from hzlogistics import coverage as cov

    if scenario.coverage_file:
        return cov.read_coverage_csv(
            scenario.coverage_file, inputs.sites["id"].to_numpy(), inputs.demand["id"].to_numpy()
        )
    cutoff = scenario.cutoff_h
    if scenario.objective in ("median", "cost") and cutoff is None:
        from hzlogistics import settings

        cutoff = settings.SERVICE_LEVELS_H["two-day"] * 3
    return cov.build_coverage(
        inputs.demand,
        inputs.sites,
        inputs.countries,
        service_level=scenario.service_level,
        cutoff_h=cutoff,
        mode="geodesic" if scenario.radius_km is not None else scenario.coverage_mode,
        radius_km=scenario.radius_km,
        circuity=scenario.circuity,
        cross_border=tuple(scenario.cross_border_groups),
        road_graph=scenario.road_graph,
        progress=progress,
        map_fn=map_fn,
    )


def check_inputs(inputs: Inputs) -> Inputs:
    """Check demand and sites given in code as the CSV readers check files.

    Parameters
    ----------
    inputs
        The demand points and candidate sites.

    Returns
    -------
    Inputs
        The same inputs, when valid.

    Raises
    ------
    ValidationError
        Listing every problem in one pass: a missing ``id`` or ``weight``
        column, no rows, empty or repeated ids, weights that are negative,
        not finite or absurd (above :data:`hzlogistics.io.MAX_INPUT_VALUE`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> sites = gpd.GeoDataFrame({"id": ["s"]}, geometry=gpd.points_from_xy([0], [0]))
    >>> demand = gpd.GeoDataFrame({"id": ["d"], "w": [1.0]}, geometry=gpd.points_from_xy([0], [0]))
    >>> check_inputs(Inputs(demand=demand, sites=sites, countries=None))
    Traceback (most recent call last):
    ...
    hzlogistics._errors.ValidationError: demand: missing column 'weight'; required columns are id, weight
    """  # noqa: E501
    from hzlogistics._validate import (
        check_columns,
        check_numeric,
        check_unique,
        raise_problems,
    )
    from hzlogistics.io import DEMAND_REQUIRED, MAX_INPUT_VALUE, SITES_REQUIRED

    problems: list[str] = []
    for label, frame, required in (("demand", inputs.demand, DEMAND_REQUIRED),
                                   ("sites", inputs.sites, SITES_REQUIRED)):
        if not isinstance(frame, pd.DataFrame):
            problems.append(f"{label}: expected a GeoDataFrame, got {type(frame).__name__}")
            continue
        # lon/lat may come from the geometry instead of columns
        problems += check_columns(frame, [c for c in required if c not in ("lon", "lat")],
                                  label)
        problems += check_unique(frame, "id", label)
        if len(frame) == 0:
            problems.append(f"{label}: has no rows; expected at least one point")
    if isinstance(inputs.demand, pd.DataFrame):
        problems += check_numeric(inputs.demand, "weight", "demand", min_value=0.0,
                                  max_value=MAX_INPUT_VALUE)
    raise_problems(problems)
    return inputs


def build_problem(scenario: Scenario, inputs: Inputs, coverage: Coverage) -> SitingProblem:
    """Turn a scenario, its inputs and coverage into the solver's arrays.

    Raises
    ------
    ValidationError
        When the coverage does not match the sites and demand points, or a
        forbidden site names no candidate site.
    """
    check_inputs(inputs)
    sites, demand = inputs.sites, inputs.demand
    n_sites = len(sites)
    shape = tuple(coverage.cover.shape)
    if shape != (n_sites, len(demand)):
        raise ValidationError(f"coverage: its matrix is {shape[0]} × {shape[1]}, but there are "
                              f"{n_sites} sites and {len(demand)} demand points; expected one "
                              "row per site and one column per demand point")
    _check_forbidden(scenario, sites)

    def col(frame: pd.DataFrame, name: str, default: float) -> np.ndarray:
        if name not in frame.columns:
            return np.full(len(frame), default, dtype=float)
        return frame[name].astype(float).fillna(default).to_numpy()

    has_country = "country" in sites.columns and sites["country"].notna().all()
    if has_country:
        names = tuple(sorted(set(sites["country"]) | set(demand.get("country", pd.Series([],
                                                                                dtype=object)))))
        names = tuple(n for n in names if isinstance(n, str))
        index = {c: k for k, c in enumerate(names)}
        group = sites["country"].map(index).to_numpy(dtype=np.int64)
        dgroup = (demand["country"].map(index).fillna(-1).to_numpy(dtype=np.int64)
                  if "country" in demand.columns else None)
    else:
        names, group, dgroup = ("ALL",), np.zeros(n_sites, dtype=np.int64), None
    n_groups = len(names)
    gmin = np.zeros(n_groups)
    gmax = np.full(n_groups, np.inf)
    amin = np.zeros(n_groups)
    amax = np.full(n_groups, np.inf)
    if has_country:
        counts = np.bincount(group, minlength=n_groups)
        gmin[counts > 0] = scenario.min_sites_per_country
        for code, q in scenario.quotas.items():
            if code not in index:
                continue
            k = index[code]
            if q.min_sites is not None:
                gmin[k] = max(gmin[k], q.min_sites)
            if q.max_sites is not None:
                gmax[k] = q.max_sites
            if q.min_area_m2 is not None:
                amin[k] = q.min_area_m2
            if q.max_area_m2 is not None:
                amax[k] = q.max_area_m2
    existing = col(sites, "existing_area_m2", 0.0) if scenario.keep_existing else np.zeros(n_sites)
    forbidden = sites["id"].isin(set(scenario.forbidden_sites)).to_numpy()
    value = None
    if scenario.competitor_sites:
        value = _competitor_value(scenario, inputs)
    return SitingProblem(
        weight=demand["weight"].astype(float).to_numpy(),
        cover=coverage.cover,
        travel_time_h=coverage.travel_time_h,
        tiers_m2=np.asarray(sorted(scenario.size_tiers_m2), dtype=float),
        max_area_m2=col(sites, "max_area_m2", np.inf),
        existing_area_m2=existing,
        forbidden=forbidden,
        rent_usd_m2_year=col(sites, "rent_usd_m2_year", 0.0),
        group=group,
        group_names=names,
        demand_group=dgroup,
        area_budget_m2=scenario.area_budget_m2,
        count_min=int(scenario.count_min or 0),
        count_max=scenario.count_max,
        capacity_per_m2=scenario.capacity_per_m2,
        group_count_min=gmin,
        group_count_max=gmax,
        group_area_min_m2=amin,
        group_area_max_m2=amax,
        rent_cap_usd_year=scenario.rent_cap_usd_year,
        value=value,
        site_ids=sites["id"].to_numpy(),
        demand_ids=demand["id"].to_numpy(),
        fixed_cost_usd_year=(col(sites, "fixed_cost", float(scenario.fixed_cost_usd_year))
                             if "fixed_cost" in sites.columns or scenario.fixed_cost_usd_year
                             else None),
        site_capacity=(col(sites, "capacity", np.inf) if "capacity" in sites.columns
                       else None),
    )


def _check_forbidden(scenario: Scenario, sites: gpd.GeoDataFrame) -> None:
    """Every id in ``forbidden_sites`` names a candidate site."""
    from hzlogistics._validate import close_match

    ids = sites["id"].astype(str)
    known = set(ids)
    problems = []
    for site in scenario.forbidden_sites:
        if str(site) in known:
            continue
        hint = close_match(str(site), ids)
        problems.append(f"scenario '{scenario.name}': forbidden_sites: no candidate site has "
                        f"the id {str(site)!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                        + f"; ids are matched exactly among the {len(known):,} sites")
    if problems:
        raise ValidationError(problems)


def _competitor_value(scenario: Scenario, inputs: Inputs) -> np.ndarray:
    """Objective multiplier of each demand point given competitors' warehouses."""
    from hzlogistics.io import read_sites_csv

    assert scenario.competitor_sites is not None
    rivals = read_sites_csv(scenario.competitor_sites)
    if "country" not in rivals.columns or rivals["country"].isna().any():
        rivals = rivals.sjoin(inputs.countries[["country", "geometry"]], how="left",
                              predicate="within").drop(columns="index_right", errors="ignore") \
            if inputs.countries is not None else rivals
    sub = Inputs(demand=inputs.demand, sites=rivals, countries=inputs.countries)
    cov = build_scenario_coverage(scenario, sub)
    reached = np.asarray(cov.cover.sum(axis=0)).ravel() > 0
    return np.where(reached, scenario.competitor_discount, 1.0)



#: Objectives that assign every demand point; a point no site reaches is left out.
ASSIGN_ALL = ("median", "cost")


def solve_reachable(
    problem: SitingProblem, objective: str, options: SolveOptions, **kwargs: Any
) -> SolveResult:
    """Solve ``problem``, leaving out demand points no site can reach.

    ``median`` and ``cost`` assign every demand point to an open site; a point
    that no site which may be opened reaches (within the coverage cutoff) would
    make them infeasible. Such points are solved without and reported unserved
    (:meth:`Plan.summary` counts them); the other objectives solve ``problem``
    as it is.

    Parameters
    ----------
    problem
        The siting problem.
    objective
        One of ``coverage``, ``median``, ``cost``, ``min-area``, ``landed``
        (which charges or refuses unreachable demand itself).
    options
        Limits, seed and callbacks.
    **kwargs
        Passed to the model (see :func:`hzlogistics.models.solve`).

    Returns
    -------
    SolveResult
        With ``served`` over all of ``problem``'s demand points.
    """
    from hzlogistics.models import solve

    reach = problem.reachable()
    if objective not in ASSIGN_ALL or reach.all() or not reach.any():
        return solve(problem, objective, options, **kwargs)
    missed = ~reach
    labels = (problem.demand_ids[missed] if problem.demand_ids is not None
              else np.flatnonzero(missed))
    logger.warning(
        "%d demand points (%.1f parcels/day; e.g. %s) are reached by no site that may be "
        "opened; the %s plan serves the others", int(missed.sum()),
        float(np.asarray(problem.weight)[missed].sum()),
        ", ".join(str(x) for x in labels[:5]), objective)
    result = solve(problem.restrict_demand(reach), objective, options, **kwargs)
    served = sp.coo_matrix(result.served)
    index = np.flatnonzero(reach)
    result.served = sp.csr_matrix((served.data, (served.row, index[served.col])),
                                  shape=(problem.n_sites, problem.n_demand))
    result.info["unreachable_ids"] = [str(x) for x in labels]
    return result


def check_scenario(scenario: Scenario, *, progress: bool = False) -> list[str]:
    """Check a scenario without solving: its inputs load and no constraint obviously conflicts.

    Returns
    -------
    list of str
        The conflicts found by the pre-checks (empty when none).

    Raises
    ------
    ValidationError
        When the scenario's inputs are invalid.
    """
    from hzlogistics.models.precheck import explain_infeasibility
    from hzlogistics.scenario import validate_scenario

    validate_scenario(scenario)
    inputs = load_inputs(scenario)
    coverage = build_scenario_coverage(scenario, inputs, progress=progress)
    problem = build_problem(scenario, inputs, coverage)
    if scenario.phasing is not None:  # each year's limits, and the years against each other
        from hzlogistics.models.phased import phasing_conflicts
        from hzlogistics.phased_plan import build_phased_problem

        return phasing_conflicts(build_phased_problem(scenario, problem, inputs.demand))
    return explain_infeasibility(problem)


def run_scenario(
    scenario: Scenario,
    *,
    progress: bool = False,
    on_stage: Any = None,
    on_incumbent: Any = None,
    stop: Any = None,
    hint: np.ndarray | None = None,
    map_fn: Any = map,
    log: bool = False,
) -> Plan:
    """Plan a scenario end to end: load, build coverage, solve, join back.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`hzlogistics.scenario.load_scenario`).
    progress
        Show progress bars for long stages.
    on_stage
        Called with the name of each stage as it starts (``"load"``,
        ``"coverage"``, ``"solve"``).
    on_incumbent
        Called with ``(elapsed_s, incumbent, bound)`` during the solve.
    stop
        A ``threading.Event``; when set, the solve stops with the best plan so far.
    hint
        Areas of a known plan to warm-start from.
    map_fn
        ``map``-like function applied to per-country coverage work (e.g. a Dask
        client's map).

    Returns
    -------
    Plan

    Raises
    ------
    InfeasibleError
        When no plan satisfies the constraints; the error lists the conflicts.
    """
    from hzlogistics.scenario import validate_scenario

    validate_scenario(scenario)
    timings: dict[str, float] = {}

    def stage(name: str) -> float:
        if callable(on_stage):
            on_stage(name)
        return time.perf_counter()

    t = stage("load")
    inputs = load_inputs(scenario)
    timings["load_s"] = time.perf_counter() - t
    t = stage("coverage")
    coverage = build_scenario_coverage(scenario, inputs, progress=progress, map_fn=map_fn)
    timings["coverage_s"] = time.perf_counter() - t
    t = stage("solve")
    problem = build_problem(scenario, inputs, coverage)
    options = SolveOptions(time_limit_s=scenario.time_limit_s, gap=scenario.gap,
                           seed=scenario.seed, log=log, progress=on_incumbent, stop=stop,
                           hint=hint)
    return solve_scenario_problem(scenario, inputs, coverage, problem, options, timings, t)


def solve_scenario_problem(scenario: Scenario, inputs: Inputs, coverage: Coverage,
                           problem: SitingProblem, options: SolveOptions,
                           timings: dict[str, float], t0: float) -> Plan:
    """Solve a scenario's problem (one period, or its ``[phasing]`` roll-out) into a Plan.

    Parameters
    ----------
    scenario, inputs, coverage, problem
        The scenario and what :func:`load_inputs`, :func:`build_scenario_coverage`
        and :func:`build_problem` made of it.
    options
        Limits, seed and callbacks of the solve.
    timings
        Stage timings so far; ``solve_s`` is added (counted from ``t0``).

    Raises
    ------
    InfeasibleError
        When no plan (no roll-out) satisfies the constraints; with the conflicts.
    """
    from hzlogistics._errors import InfeasibleError
    from hzlogistics.scenario import objective_kwargs

    if scenario.phasing is not None:
        return _solve_phased(scenario, inputs, coverage, problem, options, timings, t0)
    kwargs = objective_kwargs(scenario)
    if scenario.objective == "landed":
        kwargs.update(build_landed_inputs(scenario, inputs, coverage, problem))
    result = solve_reachable(problem, scenario.objective, options, **kwargs)
    timings["solve_s"] = time.perf_counter() - t0
    if result.status == "infeasible":
        raise InfeasibleError(result.reasons or ["the solver proved the constraints conflict"])
    return make_plan(result, problem, inputs.demand, inputs.sites, inputs.countries,
                     coverage=coverage, name=scenario.name, title=scenario.title,
                     scenario=scenario, timings=timings)


def _solve_phased(scenario: Scenario, inputs: Inputs, coverage: Coverage,
                  problem: SitingProblem, options: SolveOptions,
                  timings: dict[str, float], t0: float) -> Plan:
    """The roll-out of a phased scenario: the last year's plan, knowing every year's."""
    from dataclasses import replace

    from hzlogistics import phased_plan as phasing
    from hzlogistics._errors import InfeasibleError
    from hzlogistics.models.phased import solve_phased

    phased = phasing.build_phased_problem(scenario, problem, inputs.demand)
    result = solve_phased(phased, options)
    timings["solve_s"] = time.perf_counter() - t0
    if result.status == "infeasible":
        raise InfeasibleError(result.reasons or ["the solver proved the years' limits conflict"])
    if not result.has_solution:
        raise SolverError(f"the roll-out ended '{result.status}' after {result.wall_s:.1f} s "
                          "without a plan: " + "; ".join(result.reasons or [
                              "raise the time limit (time_limit_s / --time-limit-s)"]))
    years = [int(y) for y in phased.years]
    plans = {}
    for t, year in enumerate(years):
        plans[year] = make_plan(
            phasing.year_result(result, t), phasing.year_problem_of(phased, t),
            inputs.demand.assign(weight=phased.weight[t]), inputs.sites, inputs.countries,
            coverage=coverage, name=f"{scenario.name}-{year}", title=f"{scenario.title}, {year}",
            scenario=scenario)
    last = plans[years[-1]]
    baselines = {name: float(result.info[key]) for name, key in  # type: ignore[arg-type]
                 (("myopic", "forward_objective"), ("last_year_first", "backward_objective"))
                 if isinstance(result.info.get(key), float)}
    return replace(last, name=scenario.name, title=scenario.title,
                   sites=phasing.rollout_site_columns(last.sites, result),
                   result=phasing.rollout_result(result), timings=dict(timings),
                   phases=phasing.Phases(years=years, plans=plans, result=result,
                                         problem=phased, baselines=baselines))


def solve_plan(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    countries: gpd.GeoDataFrame | None = None,
    coverage: Coverage | sp.spmatrix | None = None,
    radius_km: float | None = None,
    objective: str = "coverage",
    area_budget_m2: float | None = None,
    sizes_m2: list[float] | None = None,
    count: int | tuple[int, int] | None = None,
    capacity_per_m2: float | None = None,
    min_sites_per_country: int = 0,
    forbidden_sites: list[str] | None = None,
    required_share: float = 0.95,
    assignment: str = "split",
    time_limit_s: float | None = None,
    gap: float | None = None,
    seed: int = 0,
    name: str = "plan",
    title: str | None = None,
    on_incumbent: Any = None,
    stop: Any = None,
    phasing: Phasing | None = None,
) -> Plan:
    """Plan on a planner's own demand and candidate sites, in one call.

    Parameters
    ----------
    demand
        Points with ``id`` and ``weight`` (parcels/day); ``country`` optional.
    sites
        Points with ``id``; optional ``max_area_m2``, ``rent_usd_m2_year``,
        ``existing_area_m2``, ``country``, ``name``.
    coverage
        A :class:`~hzlogistics.coverage.Coverage`, or a ``(n_sites, n_demand)``
        sparse matrix of which site reaches which demand point. When omitted,
        ``radius_km`` gives geodesic coverage, else the delivery network is built.
    area_budget_m2, sizes_m2, count, capacity_per_m2
        Total area allowed (``None`` = no budget), the size tiers, the number of
        sites (exact or ``(lo, hi)``; ``None`` = free), parcels/day per m²
        (``None`` = no capacity).
    phasing
        Plan a roll-out over several years (see
        :class:`~hzlogistics.scenario.Phasing`): ``count`` and ``area_budget_m2``
        are then the last year's, shared out over the years unless ``phasing``
        gives each year's; the plan knows its years (:meth:`Plan.year`).

    Returns
    -------
    Plan

    Raises
    ------
    ValidationError
        For any value the scenario file would reject (e.g. a NaN budget, a
        time limit of 0, a gap of 5), a missing ``id`` or ``weight`` column, no
        demand, or a coverage matrix of the wrong shape; each problem named.
    InfeasibleError
        When no plan satisfies the constraints.
    """
    from hzlogistics import settings
    from hzlogistics.scenario import Scenario, validate_scenario

    lo, hi = (0, None) if count is None else (
        (int(count), int(count)) if isinstance(count, int | np.integer) else
        (int(count[0]), int(count[1])))
    scenario = Scenario(
        name=name, title=title or name, objective=objective,
        radius_km=radius_km, coverage_mode="geodesic" if radius_km is not None else "network",
        area_budget_m2=area_budget_m2,
        size_tiers_m2=list(sizes_m2 or settings.SIZE_TIERS_M2),
        count_min=lo, count_max=hi, min_sites_per_country=min_sites_per_country,
        capacity_per_m2=capacity_per_m2, forbidden_sites=list(forbidden_sites or []),
        required_share=required_share, assignment=assignment,
        time_limit_s=settings.TIME_LIMIT_S if time_limit_s is None else time_limit_s,
        gap=settings.GAP_TARGET if gap is None else gap, seed=seed, phasing=phasing,
    )
    arguments = {"size_tiers_m2": "sizes_m2", "count_min": "count", "count_max": "count"}
    validate_scenario(scenario, where=lambda f: f"solve_plan: {arguments.get(f, f)}")
    inputs = check_inputs(Inputs(demand=demand, sites=sites, countries=countries))

    t0 = time.perf_counter()
    if coverage is None:
        cov = build_scenario_coverage(scenario, inputs)
    elif sp.issparse(coverage):
        from hzlogistics.coverage import coverage_from_pairs

        matrix_shape = tuple(coverage.shape)  # type: ignore[union-attr]
        if matrix_shape != (len(sites), len(demand)):
            raise ValidationError(
                f"solve_plan: coverage is a {matrix_shape[0]} × {matrix_shape[1]} matrix, "
                f"but there are {len(sites)} sites and {len(demand)} demand points; expected "
                "one row per site and one column per demand point")
        pairs = sp.coo_matrix(coverage)
        cov = coverage_from_pairs(sites["id"].to_numpy(), demand["id"].to_numpy(),
                                  pairs.row, pairs.col, mode="matrix")
    else:
        cov = coverage  # type: ignore[assignment]
    t1 = time.perf_counter()
    problem = build_problem(scenario, inputs, cov)
    options = SolveOptions(time_limit_s=scenario.time_limit_s, gap=scenario.gap, seed=seed,
                           progress=on_incumbent, stop=stop)
    return solve_scenario_problem(scenario, inputs, cov, problem, options,
                                  {"coverage_s": t1 - t0}, t1)
