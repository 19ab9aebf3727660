"""Plans whose objective assigns every demand point, with points no site can reach."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.coverage import Coverage, coverage_from_pairs
from hzlogistics.plan import solve_plan, solve_reachable
from hzlogistics.solvers.problem import SitingProblem, SolveOptions


def toy_inputs() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Coverage]:
    """Two sites, four demand points; d4 (3 parcels/day) is reached by no site."""
    sites = gpd.GeoDataFrame({"id": ["s1", "s2"]},
                             geometry=gpd.points_from_xy([0.0, 1.0], [0.0, 0.0]),
                             crs="EPSG:4326")
    demand = gpd.GeoDataFrame({"id": ["d1", "d2", "d3", "d4"],
                               "weight": [10.0, 5.0, 7.0, 3.0]},
                              geometry=gpd.points_from_xy([0.1, 0.5, 0.9, 5.0], [0.0] * 4),
                              crs="EPSG:4326")
    tt = sp.coo_matrix(np.array([[1.0, 3.0, 0, 0], [0, 2.0, 4.0, 0]]))
    cov = coverage_from_pairs(sites["id"].to_numpy(), demand["id"].to_numpy(), tt.row, tt.col,
                              travel_time_h=tt.data, mode="matrix")
    return sites, demand, cov


@pytest.mark.parametrize("objective", ["median", "cost"])
def test_unreachable_points_are_left_out_and_reported(objective: str) -> None:
    sites, demand, cover = toy_inputs()
    plan = solve_plan(demand, sites, coverage=cover, objective=objective, count=None,
                      area_budget_m2=None, time_limit_s=10)
    served = dict(zip(plan.demand["id"], plan.demand["served_weight"], strict=True))
    assert served == {"d1": 10.0, "d2": 5.0, "d3": 7.0, "d4": 0.0}
    summary = plan.summary()
    assert summary["n_unreachable"] == 1
    assert summary["unreachable_weight"] == pytest.approx(3.0)
    assert summary["covered_weight"] == pytest.approx(22.0)
    assert plan.result.info["unreachable_ids"] == ["d4"]


def test_coverage_objective_solves_the_problem_as_it_is() -> None:
    cover = sp.csr_matrix(np.array([[1, 0], [0, 0]], dtype=float))
    p = SitingProblem(weight=np.array([1.0, 2.0]), cover=cover, tiers_m2=np.array([100.0]),
                      area_budget_m2=None)
    r = solve_reachable(p, "coverage", SolveOptions(time_limit_s=5))
    assert r.served.shape == (2, 2)
    assert "unreachable_ids" not in r.info


def test_mean_travel_time_weighs_the_parcels_served() -> None:
    sites, demand, cov = toy_inputs()
    plan = solve_plan(demand, sites, coverage=cov, objective="median", count=None,
                      area_budget_m2=None, time_limit_s=10)
    # d1 at s1 (1 h), d2 at s2 (2 h, cheaper than 3 h), d3 at s2 (4 h)
    expected = (10 * 1.0 + 5 * 2.0 + 7 * 4.0) / 22.0
    assert plan.summary()["mean_travel_time_h"] == pytest.approx(expected)
    assert plan.result.objective == pytest.approx(10 * 1.0 + 5 * 2.0 + 7 * 4.0)


def test_restrict_demand_slices_every_demand_array() -> None:
    cover = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=float))
    tt = sp.csr_matrix(np.array([[1.0, 2.0, 0], [0, 3.0, 4.0]]))
    p = SitingProblem(weight=np.array([1.0, 2.0, 3.0]), cover=cover, travel_time_h=tt,
                      demand_group=np.array([0, 1, 1]), value=np.array([1.0, 0.5, 1.0]),
                      demand_ids=np.array(["a", "b", "c"]))
    sub = p.restrict_demand(np.array([True, False, True]))
    assert sub.n_demand == 2 and sub.n_sites == 2
    assert sub.cover.toarray().tolist() == [[1, 0], [0, 1]]
    assert sub.travel_time_h.toarray().tolist() == [[1.0, 0.0], [0.0, 4.0]]
    assert sub.weight.tolist() == [1.0, 3.0]
    assert sub.demand_group.tolist() == [0, 1]
    assert sub.value.tolist() == [1.0, 1.0]
    assert sub.demand_ids.tolist() == ["a", "c"]
    with pytest.raises(ValueError, match="shape"):
        p.restrict_demand(np.array([True, False]))


def test_median_without_travel_times_says_so() -> None:
    sites, demand, _ = toy_inputs()
    cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0]], dtype=float))
    with pytest.raises(ValidationError, match="travel time of every covered pair"):
        solve_plan(demand, sites, coverage=cover, objective="median", count=None,
                   area_budget_m2=None, time_limit_s=10)


def test_fixed_cost_of_the_scenario_fills_sites_without_their_own() -> None:
    from hzlogistics.plan import Inputs, build_problem
    from hzlogistics.scenario import Scenario

    sites, demand, cov = toy_inputs()
    scenario = Scenario(objective="cost", fixed_cost_usd_year=5000.0, countries=None)
    p = build_problem(scenario, Inputs(demand=demand, sites=sites, countries=None), cov)
    assert p.fixed_cost_usd_year.tolist() == [5000.0, 5000.0]
    own = sites.assign(fixed_cost=[100.0, np.nan])
    p = build_problem(scenario, Inputs(demand=demand, sites=own, countries=None), cov)
    assert p.fixed_cost_usd_year.tolist() == [100.0, 5000.0]
    p = build_problem(Scenario(objective="cost"), Inputs(demand=demand, sites=sites,
                                                         countries=None), cov)
    assert p.fixed_cost_usd_year is None
