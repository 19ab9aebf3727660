"""Phased scenarios solved into plans that know their years (hzlogistics.phased_plan)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp

import hzlogistics as hz
from hzlogistics._errors import InfeasibleError, ValidationError
from hzlogistics.models.phased import rollout_violations
from hzlogistics.phased_plan import year_limits, year_weights
from hzlogistics.plan import Plan, run_scenario, solve_plan
from hzlogistics.scenario import Phasing, Scenario, load_scenario

REPO = Path(__file__).resolve().parents[1]
YEARS = [2018, 2019, 2020]


def toy(seed: int = 1, n_sites: int = 12, n_demand: int = 40) -> tuple[
        gpd.GeoDataFrame, gpd.GeoDataFrame, sp.csr_matrix]:
    rng = np.random.default_rng(seed)
    sites = gpd.GeoDataFrame(
        {"id": [f"s{i}" for i in range(n_sites)], "name": [f"site {i}" for i in range(n_sites)],
         "country": ["DE"] * (n_sites // 2) + ["FR"] * (n_sites - n_sites // 2),
         "existing_area_m2": [200.0] + [0.0] * (n_sites - 1)},
        geometry=gpd.points_from_xy(rng.uniform(0, 10, n_sites), rng.uniform(40, 50, n_sites)),
        crs="EPSG:4326")
    demand = gpd.GeoDataFrame(
        {"id": [f"d{j}" for j in range(n_demand)], "weight": rng.uniform(1, 100, n_demand),
         "country": ["DE"] * (n_demand // 2) + ["FR"] * (n_demand - n_demand // 2)},
        geometry=gpd.points_from_xy(rng.uniform(0, 10, n_demand), rng.uniform(40, 50, n_demand)),
        crs="EPSG:4326")
    return sites, demand, sp.csr_matrix(rng.random((n_sites, n_demand)) < 0.25)


def toy_plan(seed: int = 1, **phasing: object) -> Plan:
    sites, demand, cover = toy(seed)
    return solve_plan(demand, sites, coverage=cover, area_budget_m2=1_000,
                      sizes_m2=[100, 200, 300], count=(2, 6), capacity_per_m2=1.0,
                      time_limit_s=30, gap=0.0, phasing=Phasing(years=YEARS, **phasing))


@pytest.fixture(scope="module")
def plan() -> Plan:
    return toy_plan(country_growth={"FR": 0.5}, max_openings=[2, 2, 2])


def test_the_plan_knows_its_years(plan: Plan) -> None:
    assert plan.years == YEARS
    for year in YEARS:
        assert plan.year(year).title.endswith(str(year))
    # the plan itself is the last year's
    assert np.array_equal(plan.sites["area_m2"], plan.year(2020).sites["area_m2"])
    with pytest.raises(ValidationError, match="no year 2017; its years are 2018, 2019, 2020"):
        plan.year(2017)


def test_nesting_holds_year_to_year(plan: Plan) -> None:
    for a, b in zip(YEARS, YEARS[1:], strict=False):
        area_a = plan.year(a).sites["area_m2"].to_numpy()
        area_b = plan.year(b).sites["area_m2"].to_numpy()
        assert np.all(area_b[area_a > 0] > 0), "a site that opened closed again"
        assert np.all(area_b >= area_a - 1e-9), "a site shrank"
    # existing sites are open from the first year
    existing = plan.sites["existing_area_m2"].to_numpy() > 0
    assert existing.any()
    assert np.all(plan.year(YEARS[0]).sites["area_m2"].to_numpy()[existing] >= 200.0)


def test_every_years_limits_hold(plan: Plan) -> None:
    assert plan.phases is not None
    ph = plan.phases.problem
    area = np.vstack([plan.year(y).sites["area_m2"].to_numpy() for y in YEARS])
    assert rollout_violations(ph, area) == []
    opened = plan.sites["existing_area_m2"].to_numpy() > 0
    for t, year in enumerate(YEARS):
        s = plan.year(year).summary()
        assert s["total_area_m2"] <= 1_000 * (t + 1) / 3 + 1e-6
        assert int(np.floor(2 * (t + 1) / 3)) <= s["n_open"] <= int(np.ceil(6 * (t + 1) / 3))
        now = area[t] > 0
        assert int((now & ~opened).sum()) <= 2  # max_openings
        opened |= now


def test_per_year_kpis_match_the_roll_out(plan: Plan) -> None:
    assert plan.phases is not None
    r = plan.phases.result
    summary = plan.summary()
    rows = summary["years"]
    assert [row["year"] for row in rows] == YEARS
    for t, (year, row) in enumerate(zip(YEARS, rows, strict=True)):
        s = plan.year(year).summary()
        assert s["covered_weight"] == pytest.approx(r.covered_weight[t])
        assert s["total_weight"] == pytest.approx(r.total_weight[t])
        assert row["covered_share"] == pytest.approx(r.covered_weight[t] / r.total_weight[t])
        assert row["n_open"] == int((r.area_m2[t] > 0).sum())
        assert row["total_area_m2"] == pytest.approx(r.area_m2[t].sum())
        # the sites table carries each year's area and the year each site opened
        assert np.allclose(plan.sites[f"area_m2_{year}"], plan.year(year).sites["area_m2"])
    opened = plan.sites["open_year"].to_numpy(dtype=float, na_value=np.inf)
    for year in YEARS:
        is_open = plan.year(year).sites["open"].to_numpy()
        assert np.all(opened[is_open] <= year) and np.all(opened[~is_open] > year)
    assert sum(row["n_new"] for row in rows) + rows[0]["n_existing"] == rows[-1]["n_open"]
    # the objective is the years' coverage summed, proven within the gap
    assert summary["objective"] == pytest.approx(sum(r.year_objective))
    assert summary["bound"] >= summary["objective"] - 1e-6
    assert summary["phased"]["years"] == YEARS


def test_demand_grows_per_country(plan: Plan) -> None:
    fr = plan.demand["country"].to_numpy() == "FR"
    w18 = plan.year(2018).demand["weight"].to_numpy()
    w20 = plan.year(2020).demand["weight"].to_numpy()
    assert np.allclose(w18[fr], w20[fr] / 1.5 ** 2)
    assert np.allclose(w18[~fr], w20[~fr] / 1.25 ** 2)


def test_multi_period_plan_is_no_worse_than_myopic(plan: Plan) -> None:
    s = plan.summary()
    assert s["phased"]["myopic_objective"] <= s["objective"] + 1e-6
    assert s["phased"]["last_year_first_objective"] <= s["objective"] + 1e-6


def test_one_period_plan_has_no_years() -> None:
    sites, demand, cover = toy()
    plan = solve_plan(demand, sites, coverage=cover, count=(2, 4), time_limit_s=10)
    assert plan.years == [] and "years" not in plan.summary()
    with pytest.raises(ValidationError, match="not a phased roll-out"):
        plan.year(2020)


def test_conflicting_years_are_explained_with_numbers() -> None:
    sites, demand, cover = toy()
    with pytest.raises(InfeasibleError) as info:
        solve_plan(demand, sites, coverage=cover, area_budget_m2=1_000, sizes_m2=[100, 200],
                   time_limit_s=10,
                   phasing=Phasing(years=[2019, 2020], area_budget_m2=[300, 1_000],
                                   count=[(5, 6), (6, 8)]))
    text = str(info.value)
    assert "2019's area budget 300 m² cannot hold the 1 existing sites (200 m²) plus the 4 " \
           "more sites" in text, text


def test_solve_plan_rejects_bad_phasing_values_as_a_file_does() -> None:
    sites, demand, cover = toy()
    with pytest.raises(ValidationError, match="phasing.area_budget_m2: must give one value per "
                                              "year"):
        solve_plan(demand, sites, coverage=cover,
                   phasing=Phasing(years=YEARS, area_budget_m2=[1.0]))


def test_a_stop_before_the_solve_keeps_a_roll_out() -> None:
    sites, demand, cover = toy()
    stop = threading.Event()
    stop.set()
    plan = solve_plan(demand, sites, coverage=cover, area_budget_m2=1_000, count=(2, 6),
                      sizes_m2=[100, 200, 300], capacity_per_m2=1.0, time_limit_s=30,
                      stop=stop, phasing=Phasing(years=YEARS))
    assert plan.result.status == "interrupted"
    assert plan.phases is not None
    assert rollout_violations(plan.phases.problem, plan.phases.result.area_m2) == []


def test_year_limits_share_the_network_values_by_default() -> None:
    lim = year_limits(Scenario(phasing=Phasing()))
    assert lim.years == [2017, 2018, 2019, 2020]
    assert lim.area_budget_m2.tolist() == [50_000.0, 100_000.0, 150_000.0, 200_000.0]
    assert lim.count.tolist() == [[237, 263], [475, 525], [712, 788], [950, 1_050]]
    assert lim.max_openings is None
    own = year_limits(Scenario(area_budget_m2=None, count_min=0, count_max=None,
                               phasing=Phasing(years=[2019, 2020], max_openings=[3, 4])))
    assert np.isinf(own.area_budget_m2).all() and np.isinf(own.count[:, 1]).all()
    assert own.max_openings is not None and own.max_openings.tolist() == [3.0, 4.0]


def test_yearly_demand_files_replace_the_growth(tmp_path: Path) -> None:
    sites, demand, _ = toy()
    (tmp_path / "a.csv").write_text("id,weight\nd0,5\nd3,7\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,weight\nd0,6\n", encoding="utf-8")
    s = Scenario(phasing=Phasing(years=[2019, 2020], demand_files=[
        str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]))
    w = year_weights(s, demand)
    assert w.shape == (2, len(demand))
    assert (w[0, 0], w[0, 3], w[1, 0]) == (5.0, 7.0, 6.0)
    assert w[0].sum() == 12.0 and w[1].sum() == 6.0
    (tmp_path / "bad.csv").write_text("id,weight\nnope,1\nd1,-2\n", encoding="utf-8")
    bad = replace(s, phasing=Phasing(years=[2019, 2020], demand_files=[
        str(tmp_path / "bad.csv"), str(tmp_path / "b.csv")]))
    with pytest.raises(ValidationError) as info:
        year_weights(bad, demand)
    text = str(info.value)
    assert "bad.csv" in text and "'nope'" in text and "-2 is out of range" in text


def test_run_scenario_plans_own_data_year_by_year() -> None:
    base = load_scenario(REPO / "scenarios" / "own-data" / "scenario.toml")
    scenario = replace(base, time_limit_s=30.0, phasing=Phasing(years=[2019, 2020]))
    plan = run_scenario(scenario)
    assert plan.years == [2019, 2020] and plan.result.has_solution
    first, last = plan.year(2019), plan.year(2020)
    assert first.summary()["total_area_m2"] <= 1_500.0 + 1e-6
    assert last.summary()["total_area_m2"] <= 3_000.0 + 1e-6
    assert first.summary()["n_open"] >= 2 and last.summary()["n_open"] >= 4
    assert set(first.open_sites["id"]) <= set(last.open_sites["id"])
    assert hz.Plan is Plan


def test_builtin_roll_out_on_five_markets_nests_and_keeps_every_year_s_limits() -> None:
    base = load_scenario("hangzhou-2017-2020")
    assert base.phasing is not None
    scenario = replace(base, countries=["DE", "FR", "NL", "BE", "PL"], area_budget_m2=30_000.0,
                       count_min=100, count_max=160, time_limit_s=60.0,
                       phasing=replace(base.phasing, area_budget_m2=None, count=None))
    plan = run_scenario(scenario)
    assert plan.phases is not None and plan.result.has_solution
    ph, r = plan.phases.problem, plan.phases.result
    assert rollout_violations(ph, r.area_m2) == []
    assert ph.area_budget_m2.tolist() == [7_500.0, 15_000.0, 22_500.0, 30_000.0]
    assert ph.count_min.tolist() == [25, 50, 75, 100]
    rows = plan.summary()["years"]
    for t, row in enumerate(rows):
        assert row["total_area_m2"] <= ph.area_budget_m2[t] + 1e-6
        assert ph.count_min[t] <= row["n_open"] <= ph.count_max[t]
        assert row["n_existing"] == 3  # Frankfurt, Paris, Rotterdam: open from 2017
    # the year's demand is the data's, shrunk by 1.25 a year back from 2020
    assert rows[-1]["total_weight"] == pytest.approx(float(plan.demand["weight"].sum()))
    assert rows[0]["total_weight"] == pytest.approx(rows[-1]["total_weight"] / 1.25 ** 3)
    s = plan.summary()
    assert s["bound"] >= s["objective"] - 1e-6
    assert s["objective"] >= s["phased"]["myopic_objective"] - 1e-6
    assert s["objective"] >= s["phased"]["last_year_first_objective"] - 1e-6


def test_country_growth_needs_the_demand_s_countries() -> None:
    _, demand, _ = toy()
    s = Scenario(phasing=Phasing(years=[2019, 2020], country_growth={"DE": 0.1}))
    with pytest.raises(ValidationError, match="country_growth names DE, but the demand points "
                                              "carry no country"):
        year_weights(s, demand.drop(columns="country"))
