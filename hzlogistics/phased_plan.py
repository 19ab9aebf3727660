"""Phased roll-outs at the plan layer: a scenario's ``[phasing]`` turned into arrays and back.

A scenario with a ``[phasing]`` section plans several years at once (see
:mod:`hzlogistics.models.phased` for the model). This module holds what lies
between the scenario and the model, and between the model's result and the
plans a planner reads:

- :func:`year_limits` and :func:`year_weights`: each year's budget, count,
  openings and demand, with the documented defaults;
- :func:`build_phased_problem`: the :class:`~hzlogistics.models.phased.PhasedProblem`;
- :func:`year_problem_of`, :func:`year_result`, :func:`rollout_result`: each
  year's problem and result as one-period ones, and the roll-out's as a whole;
- :class:`Phases`: what a phased :class:`~hzlogistics.plan.Plan` knows of its
  years (each year's plan, the roll-out, the per-year table);
- :func:`rollout_site_columns`: ``open_year`` and ``area_m2_<year>`` of every site.

:func:`hzlogistics.plan.run_scenario` and :func:`hzlogistics.plan.solve_plan`
call these when a scenario is phased; the plan they return answers
``plan.year(2019)`` with that year's plan and its KPIs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hzlogistics._errors import ValidationError
from hzlogistics.models.phased import PhasedProblem, PhasedResult, phased_problem
from hzlogistics.solvers.problem import SitingProblem, SolveResult, relative_gap

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

    from hzlogistics.plan import Plan
    from hzlogistics.scenario import Phasing, Scenario

#: What the objective of a phased plan is called in summaries and reports.
PHASED_OBJECTIVE = "coverage, summed over the years"


@dataclass
class YearLimits:
    """Each year's limits as a scenario gives them (defaults filled in).

    Attributes
    ----------
    years
        The years.
    area_budget_m2
        ``(n_years,)`` cumulative area budget (``inf`` = none).
    count
        ``(n_years, 2)`` cumulative ``[min, max]`` sites (``max`` may be ``inf``).
    max_openings
        ``(n_years,)`` most openings each year, or ``None``.
    """

    years: list[int]
    area_budget_m2: np.ndarray
    count: np.ndarray
    max_openings: np.ndarray | None


def year_limits(scenario: Scenario) -> YearLimits:
    """Each year's budget, count range and openings of a phased scenario.

    A per-year list the ``[phasing]`` section leaves out shares the
    ``[network]`` value out evenly: year ``k`` of ``n`` (from 1) gets
    ``k / n`` of the area budget, at least ``floor(count_min * k / n)`` and at
    most ``ceil(count_max * k / n)`` sites.

    Raises
    ------
    ValidationError
        When the scenario is not phased.

    Examples
    --------
    >>> from hzlogistics.scenario import Phasing, Scenario
    >>> lim = year_limits(Scenario(phasing=Phasing(years=[2019, 2020])))
    >>> lim.area_budget_m2.tolist(), lim.count.tolist()
    ([100000.0, 200000.0], [[475.0, 525.0], [950.0, 1050.0]])
    """
    ph = _phasing(scenario)
    years = list(ph.years)
    n = len(years)
    share = np.arange(1, n + 1) / n
    if ph.area_budget_m2 is not None:
        budget = np.asarray(ph.area_budget_m2, dtype=float)
    elif scenario.area_budget_m2 is None:
        budget = np.full(n, np.inf)
    else:
        budget = float(scenario.area_budget_m2) * share
    if ph.count is not None:
        count = np.array([[lo, math.inf if hi is None else hi] for lo, hi in ph.count],
                         dtype=float)
    else:
        lo = np.floor(int(scenario.count_min or 0) * share + 1e-9)
        hi = (np.full(n, np.inf) if scenario.count_max is None
              else np.ceil(int(scenario.count_max) * share - 1e-9))
        count = np.column_stack([lo, hi])
    openings = None if ph.max_openings is None else np.asarray(ph.max_openings, dtype=float)
    return YearLimits(years=years, area_budget_m2=budget, count=count, max_openings=openings)


def _phasing(scenario: Scenario) -> Phasing:
    if scenario.phasing is None:
        raise ValidationError(f"scenario '{scenario.name}' has no [phasing] section; add one "
                              "(or --years 2017:2020) to plan a roll-out")
    return scenario.phasing


def read_year_demand(path: str | Path, demand_ids: np.ndarray) -> np.ndarray:
    """One year's demand from a CSV ``id,weight`` naming the plan's demand points.

    Parameters
    ----------
    path
        The file.
    demand_ids
        ``(n_demand,)`` ids of the plan's demand points.

    Returns
    -------
    numpy.ndarray
        ``(n_demand,)`` parcels/day (0 for a point the file does not list).

    Raises
    ------
    ValidationError
        Naming the file and every problem: a missing column, repeated ids,
        weights that are not numbers >= 0, ids that name no demand point.
    """
    from hzlogistics._validate import check_columns, check_numeric, check_unique, raise_problems
    from hzlogistics.io import MAX_INPUT_VALUE

    source = str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{source}: cannot read the yearly demand file ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    problems = check_columns(df, ["id", "weight"], source)
    if not problems:
        problems += check_unique(df, "id", source)
        problems += check_numeric(df, "weight", source, min_value=0.0, max_value=MAX_INPUT_VALUE)
        index = pd.Index(np.asarray(demand_ids).astype(str))
        pos = index.get_indexer(df["id"].astype(str).str.strip())
        unknown = df["id"][pos < 0].tolist()
        if unknown:
            shown = ", ".join(repr(x) for x in unknown[:5]) + (", ..." if len(unknown) > 5
                                                               else "")
            problems.append(f"{source}: {len(unknown):,} ids name no demand point of the plan "
                            f"({shown}); ids are matched exactly")
    raise_problems(problems)
    out = np.zeros(len(demand_ids))
    out[pos] = pd.to_numeric(df["weight"]).to_numpy(dtype=float)
    return out


def year_weights(scenario: Scenario, demand: pd.DataFrame) -> np.ndarray:
    """Each year's parcels/day of every demand point.

    With ``demand_files`` each year's file gives its demand; otherwise the
    demand of the data (``demand["weight"]``) is the last year's, and each
    earlier year's is the next one's divided by ``1 + rate``: the country's
    rate in ``country_growth``, else ``demand_growth``.

    Returns
    -------
    numpy.ndarray
        ``(n_years, n_demand)``.

    Raises
    ------
    ValidationError
        When a yearly demand file is malformed, or ``country_growth`` is given
        for demand points without a country.

    Examples
    --------
    >>> from hzlogistics.scenario import Phasing, Scenario
    >>> s = Scenario(phasing=Phasing(years=[2019, 2020], demand_growth=1.0,
    ...                              country_growth={"DE": 0.0}))
    >>> d = pd.DataFrame({"id": ["a", "b"], "weight": [8.0, 8.0], "country": ["FR", "DE"]})
    >>> year_weights(s, d).tolist()
    [[4.0, 8.0], [8.0, 8.0]]
    """
    from hzlogistics.models.phased import growth_weights

    ph = _phasing(scenario)
    if ph.demand_files is not None:
        ids = demand["id"].to_numpy()
        return np.vstack([read_year_demand(f, ids) for f in ph.demand_files])
    weight = demand["weight"].to_numpy(dtype=float)
    if ph.country_growth and "country" not in demand.columns:
        raise ValidationError(f"scenario '{scenario.name}': phasing.country_growth names "
                              f"{', '.join(ph.country_growth)}, but the demand points carry no "
                              "country; add a country column to the demand file, or use "
                              "demand_growth alone")
    if ph.country_growth:
        countries = demand["country"].astype(str).str.upper()
        rate = countries.map(lambda c: ph.country_growth.get(c, ph.demand_growth)).to_numpy(
            dtype=float)
        return growth_weights(weight, ph.years, rate, demand_group=np.arange(len(weight)))
    return growth_weights(weight, ph.years, float(ph.demand_growth))


def build_phased_problem(scenario: Scenario, problem: SitingProblem,
                         demand: pd.DataFrame) -> PhasedProblem:
    """The phased problem of a scenario, on the one-period problem of its last year.

    Parameters
    ----------
    scenario
        A phased scenario.
    problem
        The scenario's one-period problem (:func:`hzlogistics.plan.build_problem`):
        candidates, coverage, tiers, capacity, quotas and existing sites.
    demand
        The demand points, in the problem's order (``id``, ``weight``, ``country``).

    Returns
    -------
    PhasedProblem
    """
    ph = _phasing(scenario)
    lim = year_limits(scenario)
    return phased_problem(problem, lim.years, area_budget_m2=lim.area_budget_m2,
                          count=lim.count, weight=year_weights(scenario, demand),
                          max_openings=lim.max_openings, discount=float(ph.discount))


def year_problem_of(phased: PhasedProblem, t: int) -> SitingProblem:
    """Year ``t``'s one-period problem as the scenario states it (its KPIs are read on it)."""
    budget = float(phased.area_budget_m2[t])
    hi = float(phased.count_max[t])
    return replace(phased.base, weight=np.asarray(phased.weight, dtype=float)[t],
                   area_budget_m2=None if math.isinf(budget) else budget,
                   count_min=int(phased.count_min[t]),
                   count_max=None if math.isinf(hi) else int(hi))


def year_result(result: PhasedResult, t: int) -> SolveResult:
    """Year ``t`` of a roll-out as a one-period result.

    Its objective is the year's covered value; its bound is the year's own
    proven bound when the solve gives one (the year solved alone), else NaN.
    """
    bounds = result.info.get("year_bound")
    objective = float(result.year_objective[t])
    bound = (float(bounds[t]) if isinstance(bounds, list) and len(bounds) > t  # type: ignore[arg-type]
             else math.nan)
    bound = max(bound, objective) if math.isfinite(bound) else bound
    return SolveResult(
        status=result.status, objective=objective, bound=bound,
        gap=relative_gap(objective, bound) if math.isfinite(bound) else math.nan,
        wall_s=float(result.wall_s), area_m2=np.asarray(result.area_m2)[t],
        served=result.served[t], reasons=list(result.reasons), objective_name="coverage",
        info={"year": int(result.years[t])})


def rollout_result(result: PhasedResult) -> SolveResult:
    """The whole roll-out as one result: discounted objective, bound and gap; the last
    year's areas and assignments."""
    return SolveResult(
        status=result.status, objective=float(result.objective), bound=float(result.bound),
        gap=float(result.gap), wall_s=float(result.wall_s),
        area_m2=np.asarray(result.area_m2)[-1], served=result.served[-1],
        log=list(result.log), reasons=list(result.reasons), objective_name="coverage",
        info=dict(result.info, method=result.method))


def rollout_site_columns(sites: gpd.GeoDataFrame, result: PhasedResult) -> gpd.GeoDataFrame:
    """``sites`` with ``open_year`` (first year open; NA: never) and ``area_m2_<year>``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from hzlogistics.models.phased import PhasedResult
    >>> r = PhasedResult("optimal", np.array([2019, 2020]), np.array([[0., 100.], [200., 100.]]),
    ...                  *[np.zeros(2)] * 4, 0., 0., 0., 0.)
    >>> s = rollout_site_columns(gpd.GeoDataFrame({"id": ["a", "b"]}), r)
    >>> s["open_year"].tolist(), s["area_m2_2020"].tolist()
    ([2020, 2019], [200.0, 100.0])
    """
    out = sites.copy()
    first = np.asarray(result.open_year)
    out["open_year"] = pd.array(np.where(first >= 0, first, 0), dtype="Int64")
    out.loc[first < 0, "open_year"] = pd.NA
    for t, year in enumerate(np.asarray(result.years)):
        out[f"area_m2_{int(year)}"] = np.asarray(result.area_m2, dtype=float)[t]
    return out


@dataclass
class Phases:
    """What a phased plan knows of its years.

    Attributes
    ----------
    years
        The years, increasing.
    plans
        Each year's :class:`~hzlogistics.plan.Plan` (its sites, demand, KPIs).
    result
        The roll-out as the model returned it (areas per year, values, bound).
    problem
        The phased problem that was solved.
    """

    years: list[int]
    plans: dict[int, Plan]
    result: PhasedResult
    problem: PhasedProblem
    baselines: dict[str, float] = field(default_factory=dict)

    def year(self, year: int) -> Plan:
        """The plan of one year.

        Raises
        ------
        ValidationError
            When the roll-out has no such year.
        """
        try:
            return self.plans[int(year)]
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                f"the roll-out has no year {year!r}; its years are "
                + ", ".join(str(y) for y in self.years)) from None

    def table(self) -> list[dict[str, Any]]:
        """One row per year: limits, openings, area, coverage and value.

        Returns
        -------
        list of dict
            ``year, n_open, n_new, n_existing, total_area_m2, area_budget_m2,
            count_min, count_max, max_openings, covered_weight, total_weight,
            covered_share, objective, bound, discount_factor, rent_usd_year``.
        """
        r = self.result
        rows = []
        opened = np.asarray(r.open_year)
        for t, year in enumerate(self.years):
            s = self.plans[year].summary()
            hi = float(self.problem.count_max[t])
            budget = float(self.problem.area_budget_m2[t])
            opens = (None if self.problem.max_openings is None
                     else float(self.problem.max_openings[t]))
            rows.append({
                "year": int(year),
                "n_open": s["n_open"],
                "n_new": int((opened == year).sum()) - (s["n_existing"] if t == 0 else 0),
                "n_existing": s["n_existing"],
                "total_area_m2": s["total_area_m2"],
                "area_budget_m2": None if math.isinf(budget) else budget,
                "count_min": int(self.problem.count_min[t]),
                "count_max": None if math.isinf(hi) else int(hi),
                "max_openings": None if opens is None or math.isinf(opens) else int(opens),
                "covered_weight": s["covered_weight"],
                "total_weight": s["total_weight"],
                "covered_share": s["covered_share"],
                "objective": s["objective"],
                "bound": s["bound"],
                "discount_factor": float(r.discount_factor[t]),
                "rent_usd_year": s["rent_usd_year"],
            })
        return rows
