"""Tests of hzlogistics.sweep: parameter parsing, warm starts, sweeps in process and on Dask."""

from __future__ import annotations

import importlib
import itertools
import os
import re
import signal
import threading
import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from shapely.geometry import Point

from hzlogistics._errors import HzLogisticsError, ValidationError
from hzlogistics.plan import Inputs
from hzlogistics.scenario import Scenario
from hzlogistics.solvers.problem import SitingProblem, SolveResult, relative_gap
from hzlogistics.solvers.sites import plan_violations

# the package exports the function ``sweep`` under the package's name: import the package itself
sw = importlib.import_module("hzlogistics.sweep")
# the modules whose imports the tests replace
sw_run = importlib.import_module("hzlogistics.sweep.run")
sw_point = importlib.import_module("hzlogistics.sweep.point")


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------
def test_parse_vary_range_includes_stop_and_maps_cli_name():
    name, values = sw.parse_vary("area_budget=50000:400000:25000")
    assert name == "area_budget_m2"
    assert values[0] == 50_000.0 and values[-1] == 400_000.0
    assert len(values) == 15
    assert np.allclose(np.diff(values), 25_000.0)


def test_parse_vary_lists_ranges_none_and_duplicates():
    assert sw.parse_vary("count=900,950:1050:50,1000") == ("count", [900, 950, 1000, 1050])
    assert sw.parse_vary("rent_cap=none,1e6") == ("rent_cap_usd_year", [None, 1_000_000.0])
    assert sw.parse_vary("service-level=same-day,two-day") == (
        "service_level", ["same-day", "two-day"])
    assert sw.parse_vary("cross_border=none,EU,gcc+EU") == (
        "cross_border_groups", [(), ("EU",), ("EU", "GCC")])
    # float steps that do not divide exactly still reach the stop
    assert sw.parse_vary("required_share=0.1:0.4:0.1")[1] == [0.1, 0.2, 0.3, 0.4]
    assert sw.parse_vary("count=none,5") == ("count", [None, 5])
    assert sw.parse_vary("count=3:5") == ("count", [3, 4, 5])


def test_parse_vary_unknown_name_suggests_the_closest():
    with pytest.raises(ValidationError, match="did you mean 'area_budget'"):
        sw.parse_vary("area_budjet=1:2:1")
    with pytest.raises(ValidationError, match="NAME=VALUES"):
        sw.parse_vary("area_budget")


def test_parse_vary_collects_every_bad_value():
    with pytest.raises(ValidationError) as err:
        sw.parse_vary("count=10,abc,2.5,-3")
    text = str(err.value)
    assert "3 problems" in text
    assert "--vary count: must be a whole number N, a range [min, max] or \"none\", got 'abc'" \
        in text
    assert "--vary count: must be a whole number N, a range [min, max] or \"none\", got 2.5" \
        in text
    assert "--vary count: must be a whole number >= 0, got -3" in text


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("area_budget=100:50:10", "never reaches 50"),
        ("area_budget=1:5:0", "not 0"),
        ("area_budget=1:5", "start:stop:step"),
        ("service_level=next-dya", "did you mean 'next-day'"),
        ("service_level=a:b:c", "values are names"),
        ("cross_border=EU+ASEAN", "ASEAN"),
        ("seed=none", "seed: must be a whole number, got 'none'"),
        ("required_share=1.5", "required_share: must be > 0 and <= 1, got 1.5"),
        ("area_budget=0", "area_budget_m2: must be a positive number, got 0.0"),
        ("gap=0.5:1.5:0.5", "gap: must be >= 0 and < 1 (0: prove the optimum), got 1.0"),
        ("count_max=0", "count_max: must be a whole number >= 1, got 0"),
        ("area_budget=0:1e9:1", "more than 10,000"),
    ],
)
def test_parse_vary_rejects_with_a_clear_message(spec, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        sw.parse_vary(spec)


@pytest.mark.parametrize(
    ("spec", "toml"),
    [
        ("area_budget=0", "[network]\narea_budget_m2 = 0"),
        ("budget=-5e3", "[network]\narea_budget_m2 = -5e3"),
        ("count=0", "[network]\ncount = 0"),
        ("count=-3", "[network]\ncount = -3"),
        ("count=2.5", "[network]\ncount = 2.5"),
        ("count_max=0", "[network]\ncount_max = 0"),
        ("min_sites=-1", "[network]\nmin_sites_per_country = -1"),
        ("capacity=0", "[network]\ncapacity_per_m2 = 0"),
        ("rent_cap=-1", "[network]\nrent_cap_usd_year = -1"),
        ("required_share=0", "[model]\nrequired_share = 0"),
        ("time_limit=0", "[solver]\ntime_limit_s = 0"),
        ("gap=1", "[solver]\ngap = 1"),
        ("seed=abc", '[solver]\nseed = "abc"'),
        ("seed=1.5", "[solver]\nseed = 1.5"),
        ("seed=2147483648", "[solver]\nseed = 2147483648"),
        ("cutoff=-1", "[coverage]\ncutoff_h = -1"),
        ("radius=inf", "[coverage]\nradius_km = inf"),
        ("circuity=0.5", "[coverage]\ncircuity = 0.5"),
        ("service_level=next-dya", '[coverage]\nservice_level = "next-dya"'),
        ("coverage_mode=road", '[coverage]\ncoverage_mode = "road"'),
        ("cross_border=ASEAN", '[coverage]\ncross_border_groups = ["ASEAN"]'),
    ],
)
def test_vary_rejects_a_value_as_the_scenario_file_does(spec, toml):
    from hzlogistics.scenario import loads_scenario

    with pytest.raises(ValidationError) as vary_err:
        sw.parse_vary(spec)
    with pytest.raises(ValidationError) as file_err:
        loads_scenario(toml, source="t.toml")
    (vary_message,) = vary_err.value.problems
    (file_message,) = file_err.value.problems
    # "--vary area_budget_m2: <message>" and "t.toml:2: network.area_budget_m2: <message>"
    vary_key, vary_text = vary_message.removeprefix("--vary ").split(": ", 1)
    _, file_key, file_text = file_message.split(": ", 2)
    assert vary_key == file_key.split(".")[-1]
    assert vary_text == file_text
    # the same value given as a list in Python is rejected in the same words
    name, _, value = spec.partition("=")
    with pytest.raises(ValidationError) as list_err:
        sw.normalize_vary({name: [value]})
    assert list_err.value.problems == [vary_message]


def test_sweep_rejects_a_point_that_breaks_a_rule_between_keys(toy):
    # count_max below the base's count_min: each value is fine, the combination is not
    base = Scenario(name="toy", count_min=5, count_max=None, size_tiers_m2=[100.0])
    with pytest.raises(ValidationError) as err:
        sw.sweep(base, {"count_max": [3, 8]})
    assert err.value.problems == [
        "--vary point 0 (count_max=3): count_max: must be >= count_min (5), got 3"]
    assert toy.coverage_calls == []


def test_sweep_parameters_are_the_scenario_keys_marked_for_sweeps():
    from hzlogistics.scenario import KEYS

    assert set(sw.SWEEP_PARAMETERS) == {k for k, key in KEYS.items() if key.sweep is not None}
    assert sw.SWEEP_ALIASES["budget"] == "area_budget_m2"
    assert {a for k in sw.SWEEP_PARAMETERS for a in KEYS[k].sweep or ()} == set(sw.SWEEP_ALIASES)
    # the coverage keys rebuild the coverage; the others reuse it
    assert sw.SWEEP_PARAMETERS["service_level"].coverage
    assert not sw.SWEEP_PARAMETERS["area_budget_m2"].coverage
    assert "road_graph" not in sw.SWEEP_PARAMETERS  # a key without a sweep entry


def test_normalize_vary_accepts_lists_strings_and_aliases():
    out = sw.normalize_vary({"area_budget": "100:300:100", "service_level": ["next-day"],
                             "count": (5, 6)})
    assert out == {"area_budget_m2": [100.0, 200.0, 300.0], "service_level": ["next-day"],
                   "count": [5, 6]}


def test_normalize_vary_reports_all_conflicts_at_once():
    with pytest.raises(ValidationError) as err:
        sw.normalize_vary({"area_budget": [1.0], "area_budget_m2": [2.0], "count": [3],
                           "count_max": [4], "colour": [1], "seed": []})
    text = str(err.value)
    assert "given twice" in text
    assert "not both" in text
    assert "unknown parameter 'colour'" in text
    assert "seed: no values given" in text


def test_apply_values_sets_both_count_limits_and_groups_as_list():
    sc = sw.apply_values(Scenario(), {"count": 12, "cross_border_groups": ("EU", "GCC"),
                                      "area_budget_m2": None})
    assert (sc.count_min, sc.count_max) == (12, 12)
    assert sc.cross_border_groups == ["EU", "GCC"]
    assert sc.area_budget_m2 is None
    assert Scenario().count_min == 950  # the base is not changed


# ---------------------------------------------------------------------------
# Points and chains
# ---------------------------------------------------------------------------
def test_plan_points_groups_by_coverage_values_and_snakes_inside_a_group():
    vary = {"area_budget_m2": [1.0, 2.0, 3.0], "service_level": ["same-day", "next-day"],
            "count": [7, 8]}
    points, chains = sw.plan_points(vary)
    assert len(points) == 12
    # table order: the product in the order given, the last key fastest
    assert [tuple(p.values.values()) for p in points] == list(itertools.product(*vary.values()))
    assert {p.group for p in points if p.values["service_level"] == "same-day"} == {0}
    assert {p.group for p in points if p.values["service_level"] == "next-day"} == {1}
    assert len(chains) == 2
    for chain in chains:
        steps = [points[i].values for i in chain]
        assert len({s["service_level"] for s in steps}) == 1
        for a, b in itertools.pairwise(steps):  # neighbours differ in one value only
            assert sum(a[k] != b[k] for k in a) == 1


def test_plan_points_chains_and_cold_starts():
    vary = {"area_budget_m2": [1.0, 2.0, 3.0, 4.0, 5.0]}
    _, chains = sw.plan_points(vary, chains=2)
    assert chains == [[0, 1, 2], [3, 4]]
    _, chains = sw.plan_points(vary, chains=9)
    assert chains == [[0], [1], [2], [3], [4]]
    _, chains = sw.plan_points(vary, warm_start=False)
    assert chains == [[0], [1], [2], [3], [4]]


# ---------------------------------------------------------------------------
# Warm starts on arrays
# ---------------------------------------------------------------------------
def random_problem(seed: int, *, n_sites: int = 30, n_demand: int = 200,
                   capacity: float | None = 0.05) -> SitingProblem:
    rng = np.random.default_rng(seed)
    cover = sp.random(n_sites, n_demand, density=0.15, random_state=seed, format="csr") > 0
    return SitingProblem(
        weight=rng.uniform(1.0, 20.0, n_demand),
        cover=sp.csr_matrix(cover),
        tiers_m2=np.array([100.0, 200.0, 500.0, 1000.0]),
        max_area_m2=np.where(rng.random(n_sites) < 0.3, 200.0, np.inf),
        existing_area_m2=np.where(np.arange(n_sites) < 3, 200.0, 0.0),
        forbidden=np.arange(n_sites) == n_sites - 1,
        rent_usd_m2_year=rng.uniform(50.0, 300.0, n_sites),
        group=np.arange(n_sites) % 3,
        group_names=("AA", "BB", "CC"),
        group_count_min=np.ones(3),
        area_budget_m2=20_000.0,
        count_min=3,
        capacity_per_m2=capacity,
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("budget", [9_000.0, 3_000.0, 1_200.0])
def test_adapt_hint_shrinks_a_plan_into_a_smaller_budget(seed, budget):
    big = random_problem(seed)
    rng = np.random.default_rng(100 + seed)
    area = rng.choice([0.0, 500.0, 1000.0], size=big.n_sites)
    area[:3] = 1000.0
    small = SitingProblem(**{**big.__dict__, "area_budget_m2": budget})
    hint = sw.adapt_hint(small, area)
    assert plan_violations(small, hint) == []
    assert hint.sum() <= budget
    assert np.all(hint[:3] >= 200.0)  # existing sites stay open with their area
    assert hint[-1] == 0.0  # forbidden site closed
    assert np.all(hint <= area)  # only steps down, never up


def test_adapt_hint_drops_the_site_that_serves_least_per_m2():
    p = SitingProblem(weight=np.array([50.0, 10.0, 30.0]), cover=sp.csr_matrix(np.eye(3)),
                      tiers_m2=np.array([100.0, 200.0]), area_budget_m2=400.0,
                      capacity_per_m2=0.2)
    served = sp.csr_matrix(np.diag([40.0, 10.0, 30.0]))  # capacity 40 / 20 / 40
    hint = sw.adapt_hint(p, np.array([200.0, 100.0, 200.0]), served=served)
    # closing site 1 loses 10 parcels for 100 m²; downsizing site 0 or 2 loses 20
    assert hint.tolist() == [200.0, 0.0, 200.0]


def test_adapt_hint_keeps_a_feasible_plan_unchanged_and_meets_counts():
    p = random_problem(3)
    area = np.zeros(p.n_sites)
    area[:3] = 200.0
    free = [i for i in np.flatnonzero(np.isinf(p.max_area_m2)) if 3 <= i < p.n_sites - 1]
    area[free[:3]] = 500.0
    assert plan_violations(p, area) == []
    assert np.array_equal(sw.adapt_hint(p, area), area)
    fewer = SitingProblem(**{**p.__dict__, "count_max": 4})
    hint = sw.adapt_hint(fewer, area)
    assert (hint > 0).sum() == 4 and plan_violations(fewer, hint) == []
    more = SitingProblem(**{**p.__dict__, "count_min": 9})
    hint = sw.adapt_hint(more, area)
    assert (hint > 0).sum() == 9 and plan_violations(more, hint) == []
    assert np.all(hint[area > 0] == area[area > 0])  # opened sites, kept the others


def test_adapt_hint_respects_group_limits_and_rent_cap():
    p = random_problem(4, capacity=None)
    area = np.where(np.arange(p.n_sites) < p.n_sites - 1, 500.0, 0.0)
    limited = SitingProblem(**{**p.__dict__, "group_count_max": np.array([3.0, 30.0, 30.0]),
                               "group_area_max_m2": np.array([np.inf, 1_000.0, np.inf]),
                               "rent_cap_usd_year": 600_000.0})
    hint = sw.adapt_hint(limited, area)
    assert plan_violations(limited, hint) == []
    assert ((hint > 0) & (p.group == 0)).sum() <= 3
    assert hint[p.group == 1].sum() <= 1_000.0
    assert (hint * p.rent_usd_m2_year).sum() <= 600_000.0


def test_adapt_hint_rejects_wrong_length():
    with pytest.raises(ValidationError, match="one area per site"):
        sw.adapt_hint(random_problem(0), np.zeros(4))


def test_a_carried_plan_is_checked_by_the_solvers_checker_and_for_its_service():
    p = SitingProblem(weight=np.array([5.0, 5.0]), cover=sp.csr_matrix(np.array([[1, 0],
                                                                                 [0, 1]])),
                      tiers_m2=np.array([100.0, 200.0]), max_area_m2=np.array([100.0, np.inf]),
                      existing_area_m2=np.array([0.0, 200.0]), area_budget_m2=250.0,
                      capacity_per_m2=0.01, count_max=1)
    # the sweep has no checker of its own: it uses the solvers' one
    assert not hasattr(sw, "plan_violations")
    area = np.array([150.0, 0.0])
    msgs = plan_violations(p, area) + sw.service_violations(
        p, area, sp.csr_matrix(np.array([[3.0, 1.0], [0.0, 0.0]])))
    text = " | ".join(msgs)
    assert "existing site 1 (200 m²) is closed" in text
    assert "site 0 has area 150 m² (allowed: ['100'])" in text
    assert "outside the service level" in text
    assert "beyond their capacity" in text
    area = np.array([0.0, 200.0])
    assert plan_violations(p, area) == []
    served = sp.csr_matrix(np.array([[0.0, 0.0], [0.0, 2.0]]))
    assert sw.service_violations(p, area, served) == []
    assert plan_violations(p, np.array([100.0, 200.0])) == [
        "2 open sites > count_max 1", "total area 300 m² > area budget 250 m²"]
    # a closed site that serves, and demand served beyond its weight (and the capacity 2)
    assert sw.service_violations(p, np.array([0.0, 200.0]),
                                 sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 6.0]]))) == [
        "closed sites serve demand", "demand served beyond its weight",
        "sites serve beyond their capacity"]


# ---------------------------------------------------------------------------
# Sweeps in this process on a toy instance (exact brute-force solver)
# ---------------------------------------------------------------------------
@dataclass
class ToyCoverage:
    cover: sp.csr_matrix
    travel_time_h: sp.csr_matrix | None = None


def toy_inputs(seed: int = 0, n_sites: int = 6, n_demand: int = 30) -> Inputs:
    rng = np.random.default_rng(seed)
    country = np.where(np.arange(n_sites) % 2 == 0, "AA", "BB")
    sites = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(n_sites)], "country": country,
         "rent_usd_m2_year": rng.uniform(50, 150, n_sites)},
        geometry=[Point(float(i), 0.0) for i in range(n_sites)], crs=4326)
    demand = gpd.GeoDataFrame(
        {"id": [f"d{j}" for j in range(n_demand)],
         "country": np.where(np.arange(n_demand) % 2 == 0, "AA", "BB"),
         "weight": rng.integers(1, 20, n_demand).astype(float)},
        geometry=[Point(float(j), 1.0) for j in range(n_demand)], crs=4326)
    return Inputs(demand=demand, sites=sites, countries=None)


def toy_cover(inputs: Inputs, seed: int, density: float) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    same = (inputs.sites["country"].to_numpy()[:, None]
            == inputs.demand["country"].to_numpy()[None, :])
    return sp.csr_matrix(same & (rng.random(same.shape) < density))


def brute_force(problem: SitingProblem) -> tuple[float, np.ndarray, sp.csr_matrix]:
    """Exact optimum of a tiny count/area covering problem without capacity."""
    tier = float(np.min(problem.tiers_m2))
    cover = problem.cover.toarray().astype(bool)
    best = (-1.0, None)
    for mask in itertools.product([0, 1], repeat=problem.n_sites):
        is_open = np.array(mask, dtype=bool)
        if problem.area_budget_m2 is not None and is_open.sum() * tier > problem.area_budget_m2:
            continue
        if is_open.sum() < problem.count_min or (
                problem.count_max is not None and is_open.sum() > problem.count_max):
            continue
        if problem.group_count_min is not None and np.any(
                np.bincount(problem.group[is_open], minlength=len(problem.group_names))
                < problem.group_count_min):
            continue
        value = float(problem.weight[cover[is_open].any(axis=0)].sum())
        if value > best[0]:
            best = (value, is_open)
    value, is_open = best
    if is_open is None:
        return value, None, None
    area = np.where(is_open, tier, 0.0)
    served = np.zeros(cover.shape)
    for j in range(cover.shape[1]):
        first = np.flatnonzero(is_open & cover[:, j])
        if first.size:
            served[first[0], j] = problem.weight[j]
    return value, area, sp.csr_matrix(served)


class ToyPipeline:
    """Stands in for load_inputs / build_scenario_coverage / solve on a toy instance."""

    def __init__(self, *, poor_after: int | None = None) -> None:
        self.inputs = toy_inputs()
        self.coverage_calls: list[tuple[str, tuple[str, ...]]] = []
        self.hints: list[np.ndarray | None] = []
        self.budgets: list[float | None] = []
        self.poor_after = poor_after

    def load_inputs(self, scenario):
        return self.inputs

    def build_scenario_coverage(self, scenario, inputs, *, progress=False, map_fn=map):
        self.coverage_calls.append((scenario.service_level, tuple(scenario.cross_border_groups)))
        density = {"same-day": 0.15, "next-day": 0.3, "two-day": 0.5}[scenario.service_level]
        return ToyCoverage(toy_cover(inputs, 1, density))

    def solve(self, problem, objective, options, **kw):
        self.hints.append(None if options.hint is None else np.array(options.hint))
        self.budgets.append(problem.area_budget_m2)
        value, area, served = brute_force(problem)
        if area is None:
            return SolveResult(status="infeasible", objective=np.nan, bound=np.nan, gap=np.nan,
                               wall_s=0.0, area_m2=np.zeros(problem.n_sites),
                               served=sp.csr_matrix(problem.cover.shape), reasons=["toy"])
        bound = value + 1.0
        if self.poor_after is not None and len(self.hints) > self.poor_after:
            # a solver that returns a poor plan: only the cheapest feasible one
            keep = np.zeros(problem.n_sites, dtype=bool)
            for g in range(len(problem.group_names)):
                keep[np.flatnonzero(problem.group == g)[0]] = True
            area = np.where(keep, area.max(), 0.0)
            served = sp.csr_matrix(served.multiply(keep[:, None]))
            value = float(served.sum()) * 0.999
        return SolveResult(status="optimal", objective=value, bound=bound,
                           gap=relative_gap(value, bound), wall_s=0.0, area_m2=area,
                           served=served)


@pytest.fixture
def toy(monkeypatch):
    pipe = ToyPipeline()
    monkeypatch.setattr(sw_run, "load_inputs", pipe.load_inputs)
    monkeypatch.setattr(sw_run, "build_scenario_coverage", pipe.build_scenario_coverage)
    monkeypatch.setattr(sw_point, "solve_reachable", pipe.solve)
    return pipe


TOY = Scenario(name="toy", size_tiers_m2=[100.0], count_min=0, count_max=None,
               min_sites_per_country=1, capacity_per_m2=None, time_limit_s=5.0)


def test_sweep_builds_coverage_once_per_group_and_matches_the_optimum(toy):
    df = sw.sweep(TOY, {"area_budget": "200:600:100", "service_level": ["same-day", "two-day"]})
    assert sorted(toy.coverage_calls) == [("same-day", ()), ("two-day", ())]
    assert len(df) == 10 and list(df["point"]) == list(range(10))
    assert list(df.columns[:3]) == ["point", "area_budget_m2", "service_level"]
    for _, row in df.iterrows():
        sc = sw.apply_values(TOY, {"area_budget_m2": row["area_budget_m2"],
                                   "service_level": row["service_level"]})
        cov = toy.build_scenario_coverage(sc, toy.inputs)
        from hzlogistics.plan import build_problem

        best, _, _ = brute_force(build_problem(sc, toy.inputs, cov))
        assert row["objective"] == pytest.approx(best)
        assert row["covered_weight"] == pytest.approx(best)
        assert row["covered_share"] == pytest.approx(best / toy.inputs.demand["weight"].sum())
        assert row["n_sites"] == row["area_m2"] / 100.0
        assert row["area_m2"] <= row["area_budget_m2"]
    for level in ("same-day", "two-day"):
        cov = df[df["service_level"] == level]["objective"].to_numpy()
        assert np.all(np.diff(cov) >= 0)
    assert df.attrs["vary"] == ["area_budget_m2", "service_level"]
    assert set(df["start"]) == {"cold", "warm"}


def test_sweep_warm_starts_from_the_neighbour_adapted_to_the_new_budget(toy):
    df = sw.sweep(TOY, {"area_budget": [500.0, 300.0, 200.0]})
    assert toy.hints[0] is None
    assert list(df["start"]) == ["cold", "warm", "warm"]
    for k in (1, 2):
        assert toy.hints[k] is not None
        assert toy.hints[k].sum() <= toy.budgets[k]
    # without warm starts nothing is hinted
    toy.hints.clear()
    df2 = sw.sweep(TOY, {"area_budget": [500.0, 300.0, 200.0]}, warm_start=False)
    assert toy.hints == [None, None, None]
    assert list(df2["objective"]) == list(df["objective"])


def test_sweep_keeps_the_neighbours_plan_when_the_solver_finds_worse(monkeypatch):
    pipe = ToyPipeline(poor_after=1)
    monkeypatch.setattr(sw_run, "load_inputs", pipe.load_inputs)
    monkeypatch.setattr(sw_run, "build_scenario_coverage", pipe.build_scenario_coverage)
    monkeypatch.setattr(sw_point, "solve_reachable", pipe.solve)
    df = sw.sweep(TOY, {"area_budget": [300.0, 400.0, 200.0]})
    # 400 m²: the 300 m² plan still fits, so it is kept over the solver's poorer plan
    assert list(df["start"]) == ["cold", "carried", "warm"]
    assert df.loc[1, "objective"] == df.loc[0, "objective"]
    assert df.loc[1, "bound"] >= df.loc[1, "objective"]
    assert df.loc[1, "gap"] == pytest.approx(
        relative_gap(df.loc[1, "objective"], df.loc[1, "bound"]))
    # 200 m²: the previous plan no longer fits, the solver's plan stands
    assert df.loc[2, "area_m2"] <= 200.0
    assert df.loc[2, "objective"] < df.loc[1, "objective"]


def test_sweep_records_an_infeasible_point_and_goes_on(toy):
    df = sw.sweep(TOY, {"area_budget": [100.0, 300.0]})  # 2 countries need 200 m²
    assert df.loc[0, "status"] == "infeasible"
    assert df.loc[0, "message"] == "toy"
    assert np.isnan(df.loc[0, "objective"])
    assert df.loc[1, "status"] == "optimal"


def test_sweep_stop_leaves_the_remaining_points_out(toy, monkeypatch):
    stop = threading.Event()
    real = toy.solve

    def solve_then_stop(problem, objective, options, **kw):
        assert options.stop is stop  # the running solve can be stopped too
        if len(toy.hints) == 1:
            stop.set()
        return real(problem, objective, options, **kw)

    monkeypatch.setattr(sw_point, "solve_reachable", solve_then_stop)
    df = sw.sweep(TOY, {"area_budget": [200.0, 300.0, 400.0, 500.0]}, stop=stop)
    assert list(df["status"]) == ["optimal", "optimal", "not run", "not run"]
    assert df["objective"].iloc[2:].isna().all()


def test_sweep_rejects_bad_vary_before_loading_anything(toy):
    with pytest.raises(ValidationError, match="did you mean"):
        sw.sweep(TOY, {"servce_level": ["next-day"]})
    assert toy.coverage_calls == []


# ---------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------
def test_write_sweep_writes_csv_png_and_self_contained_html(toy, tmp_path):
    df = sw.sweep(TOY, {"area_budget": "200:600:100", "service_level": ["same-day", "two-day"]})
    paths = sw.write_sweep(df, tmp_path / "out")
    assert set(paths) == {"csv", "png", "html"}
    back = pd.read_csv(paths["csv"])
    assert len(back) == len(df)
    assert np.allclose(back["objective"], df["objective"])
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths["html"].read_text()
    assert page.count("<circle") == len(df)  # one marker per point
    assert page.count("<polyline") == 4  # a curve and its bound per service level
    assert "service_level same-day" in page and "service_level two-day" in page
    assert "<script" not in page and not re.search(r"(src|href)=", page)
    assert sorted(p.name for p in paths["html"].parent.iterdir()) == [
        "sweep.csv", "sweep.html", "sweep.png"]  # no temporary files left


def test_write_sweep_rejects_unknown_columns(toy, tmp_path):
    df = sw.sweep(TOY, {"area_budget": [200.0, 300.0]})
    with pytest.raises(ValidationError, match="no column y 'coverage'"):
        sw.write_sweep(df, tmp_path, y="coverage")


def test_dask_client_checks_its_options():
    with sw.dask_client() as client:
        assert client is None
    with pytest.raises(ValidationError, match="not both"):
        with sw.dask_client(scheduler="tcp://127.0.0.1:1", local_workers=2):
            pass
    with pytest.raises(ValidationError, match="1 or more"):
        with sw.dask_client(local_workers=0):
            pass


# ---------------------------------------------------------------------------
# With the real pipeline
# ---------------------------------------------------------------------------
def _need_solver():
    pytest.importorskip("hzlogistics.models.coverage", reason="coverage model not available")


#: A few small countries of the built-in data; budgets that bind (40 parcels/day per m²).
SMALL = Scenario(name="small", countries=["SG", "QA", "KW"], count_min=0, count_max=None,
                 time_limit_s=20.0, gap=1e-4, seed=0)


def test_sweep_covered_demand_grows_with_the_budget():
    _need_solver()
    scenario = Scenario(name="subset", countries=["JO", "IL", "PT", "AE"], count_min=0,
                        count_max=None, time_limit_s=3.0, gap=0.001, seed=0)
    budgets = [400.0, 700.0, 1000.0, 1300.0]  # 4 countries need at least 400 m²
    df = sw.sweep(scenario, {"area_budget": budgets}, workers_per_solve=1)
    assert list(df["area_budget_m2"]) == budgets
    assert df["status"].isin(["optimal", "feasible"]).all()
    obj = df["objective"].to_numpy()
    bound = df["bound"].to_numpy()
    assert np.all(df["area_m2"].to_numpy() <= np.array(budgets) + 1e-6)
    assert np.all(obj <= bound * (1 + 1e-9))
    # the plan of budget k fits budget k+1, so the optimum there is at least objective_k
    assert np.all(obj[:-1] <= bound[1:] * (1 + 1e-9))
    # with warm starts the plan found never loses demand when the budget grows
    assert df["start"].iloc[1:].isin(["warm", "carried"]).all()
    assert np.all(np.diff(obj) >= -1e-6 * obj[1:])
    assert obj[-1] > obj[0]  # the budget binds


def test_sweep_maps_dir_writes_one_map_per_solved_point(tmp_path):
    _need_solver()
    pytest.importorskip("hzlogistics.maps", reason="maps not available")
    df = sw.sweep(SMALL, {"area_budget": [300.0, 600.0]}, maps_dir=tmp_path)
    assert list(df["map"]) == ["small-p000.html", "small-p001.html"]
    for name in df["map"]:
        assert (tmp_path / name).stat().st_size > 1000


@pytest.fixture(scope="module")
def local_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=":0", silence_logs=40)
    client = distributed.Client(cluster)
    yield cluster, client
    client.close()
    cluster.close()


COMPARED = ["status", "objective", "covered_weight", "area_m2", "n_sites", "start"]


def test_sweep_on_dask_matches_in_process(local_cluster):
    _need_solver()
    _, client = local_cluster
    vary = {"area_budget": [300.0, 500.0, 700.0], "service_level": ["same-day", "next-day"]}
    here = sw.sweep(SMALL, vary, workers_per_solve=1)
    there = sw.sweep(SMALL, vary, client=client, workers_per_solve=1)
    assert here["status"].eq("optimal").all()
    pd.testing.assert_frame_equal(here[COMPARED], there[COMPARED])
    cold_here = sw.sweep(SMALL, vary, warm_start=False, workers_per_solve=1)
    distributed = pytest.importorskip("distributed")
    with distributed.get_task_stream(client) as stream:
        cold_there = sw.sweep(SMALL, vary, client=client, warm_start=False, workers_per_solve=1)
    ran_on = {t["worker"] for t in stream.data if str(t["key"]).startswith("hz-sweep")}
    assert len(ran_on) == 2  # independent points spread over both workers
    pd.testing.assert_frame_equal(cold_here[COMPARED], cold_there[COMPARED])
    assert np.allclose(here["objective"], cold_here["objective"])  # optimal either way


def _losing_wait(distributed, times):
    """``distributed.wait`` that first cancels every future it is given, ``times`` times."""
    real = distributed.wait
    lost = []

    def wait(fs, *args, **kwargs):
        if len(lost) < times:
            fs[0].client.cancel(fs)
            lost.append(len(fs))
        return real(fs, *args, **kwargs)

    return wait, lost


def test_sweep_on_dask_sends_lost_tasks_again(local_cluster, monkeypatch):
    _need_solver()
    distributed = pytest.importorskip("distributed")
    _, client = local_cluster
    vary = {"area_budget": [300.0, 500.0, 700.0]}
    here = sw.sweep(SMALL, vary, workers_per_solve=1)
    wait, lost = _losing_wait(distributed, 1)
    monkeypatch.setattr(distributed, "wait", wait)
    there = sw.sweep(SMALL, vary, client=client, workers_per_solve=1)
    assert lost == [3]  # the whole chain was cancelled once, then sent again
    pd.testing.assert_frame_equal(here[COMPARED], there[COMPARED])


def test_sweep_on_dask_keeps_the_points_done_when_one_task_is_lost(local_cluster, monkeypatch):
    _need_solver()
    distributed = pytest.importorskip("distributed")
    _, client = local_cluster
    vary = {"area_budget": [300.0, 500.0, 700.0]}
    here = sw.sweep(SMALL, vary, warm_start=False, workers_per_solve=1)
    real = distributed.wait
    lost: list[str] = []

    def wait(fs, *args, **kwargs):
        if not lost:  # the others finish, then the first is lost
            real(fs[1:])
            fs[0].client.cancel([fs[0]])
            lost.append(fs[0].key)
        return real(fs, *args, **kwargs)

    submitted: list[str] = []
    submit = client.submit

    def counting(*args, **kwargs):
        submitted.append(kwargs["key"])
        return submit(*args, **kwargs)

    monkeypatch.setattr(distributed, "wait", wait)
    monkeypatch.setattr(client, "submit", counting)
    there = sw.sweep(SMALL, vary, client=client, warm_start=False, workers_per_solve=1)
    assert len(submitted) == 4  # three points, then only the lost one again
    assert submitted[-1].split("-")[-1] == lost[0].split("-")[-1]
    pd.testing.assert_frame_equal(here[COMPARED], there[COMPARED])


def test_sweep_on_dask_stops_when_tasks_keep_being_lost(local_cluster, monkeypatch):
    _need_solver()
    distributed = pytest.importorskip("distributed")
    _, client = local_cluster
    wait, lost = _losing_wait(distributed, 100)
    monkeypatch.setattr(distributed, "wait", wait)
    with pytest.raises(HzLogisticsError, match=r"the Dask cluster lost the sweep's tasks 3 "
                                               r"times; 2 of 2 points not solved"):
        sw.sweep(SMALL, {"area_budget": [300.0, 500.0]}, client=client, retries=1,
                 workers_per_solve=1)
    assert len(lost) == 3


def test_sweep_on_dask_builds_coverage_on_the_cluster(local_cluster, monkeypatch):
    _need_solver()
    _, client = local_cluster
    seen = []
    real = sw_run.build_scenario_coverage

    def spy(scenario, inputs, *, progress=False, map_fn=map):
        seen.append(map_fn)
        return real(scenario, inputs, progress=progress, map_fn=map_fn)

    monkeypatch.setattr(sw_run, "build_scenario_coverage", spy)
    calls = []
    mapper = sw.dask_map(client)

    def counting(func, *its):
        out = mapper(func, *its)
        calls.append(len(out))
        return out

    monkeypatch.setattr(sw_run, "dask_map", lambda client, retries=2: counting)
    df = sw.sweep(SMALL, {"area_budget": [300.0, 500.0]}, client=client)
    assert seen == [counting]
    assert calls == [3]  # one task per country (SG, QA, KW)
    assert df["status"].eq("optimal").all()


def test_sweep_survives_a_worker_killed_mid_sweep():
    _need_solver()
    distributed = pytest.importorskip("distributed")
    scenario = Scenario(name="kill", countries=["PT", "HU", "CZ", "NZ", "JO", "IL"],
                        count_min=0, count_max=None, time_limit_s=1.0, seed=0)
    vary = {"area_budget": [600.0, 800.0, 1000.0, 1200.0, 1400.0, 1600.0]}
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=":0", silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        killed: list[tuple[str, int]] = []
        done = threading.Event()

        def killer():
            while not done.is_set():
                busy = {w: keys for w, keys in client.processing().items()
                        if any(str(k).startswith("hz-sweep") for k in keys)}
                for worker in busy:
                    if worker in pids:
                        os.kill(pids[worker], signal.SIGKILL)
                        killed.append((worker, pids[worker]))
                        return
                time.sleep(0.02)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            df = sw.sweep(scenario, vary, client=client, warm_start=False, retries=1)
        finally:
            done.set()
            thread.join()
        assert killed, "no sweep task was seen running"
        assert len(df) == len(vary["area_budget"])
        assert df["status"].isin(["optimal", "feasible"]).all()
        assert np.all(df["area_m2"].to_numpy() <= np.array(vary["area_budget"]) + 1e-6)
        assert df["objective"].notna().all()


def test_a_phased_scenario_is_refused_with_a_clear_message():
    from hzlogistics.scenario import load_scenario

    with pytest.raises(ValidationError, match="a sweep plans one period, and this scenario is "
                                              r"a roll-out over several years \(\[phasing\]\)"):
        sw.sweep(load_scenario("hangzhou-2017-2020"), {"area_budget": "100000:200000:50000"})
