"""Tests of the coverage model: known optima, constraints, bounds, infeasibility."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzlogistics._errors import ValidationError
from hzlogistics.models.coverage import (
    coverage_bound,
    demand_classes,
    is_count_only,
    solve_coverage,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, relative_gap

OPTS = SolveOptions(time_limit_s=20.0, gap=1e-6, seed=0, workers=1)
FIXTURES = ["split_capacity", "rent_knapsack", "quota_groups", "existing_and_forbidden",
            "competitor_value"]


def check_served(problem: SitingProblem, result) -> None:
    """Served flows respect weights, capacities and coverage, and add up to the objective."""
    served = sp.csr_matrix(result.served)
    assert served.shape == (problem.n_sites, problem.n_demand)
    assert served.data.min(initial=0.0) >= 0.0
    per_point = np.asarray(served.sum(axis=0)).ravel()
    assert np.all(per_point <= problem.weight + 1e-6)
    outside = served.copy()
    outside.data[:] = 1.0
    outside = outside - outside.multiply(sp.csr_matrix(problem.cover, dtype=float))
    assert outside.count_nonzero() == 0, "demand served by a site that does not cover it"
    per_site = np.asarray(served.sum(axis=1)).ravel()
    assert np.all(per_site[result.area_m2 <= 0] == 0)
    if problem.capacity_per_m2 is not None:
        assert np.all(per_site <= problem.capacity_per_m2 * result.area_m2 + 1e-6)
    value = np.ones(problem.n_demand) if problem.value is None else problem.value
    assert per_point @ value == pytest.approx(result.objective, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", FIXTURES)
def test_known_optimum(name, request, oracle):
    problem, optimum = request.getfixturevalue(name)
    result = solve_coverage(problem, OPTS)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(optimum.value, rel=1e-6)
    assert oracle.feasible(problem, result.area_m2)
    assert result.bound >= result.objective - 1e-9
    assert result.gap <= 1e-6
    check_served(problem, result)


def test_known_optimum_by_enumeration_too(oracle, request):
    for name in FIXTURES:
        problem, optimum = request.getfixturevalue(name)
        assert oracle.brute_force(problem).value == pytest.approx(optimum.value)


def test_unique_plans(split_capacity, existing_and_forbidden, competitor_value, rent_knapsack):
    for problem, optimum in (split_capacity, existing_and_forbidden, competitor_value,
                             rent_knapsack):
        result = solve_coverage(problem, OPTS)
        np.testing.assert_allclose(result.area_m2, optimum.area_m2)


def test_split_flows_by_hand(split_capacity):
    problem, _ = split_capacity
    served = solve_coverage(problem, OPTS).served.toarray()
    # both sites full (A 800, B 400); t3 only from B, in full; t1 only from A
    np.testing.assert_allclose(served.sum(axis=1), [800.0, 400.0], atol=1e-6)
    assert served[1, 2] == pytest.approx(100.0)
    assert served[1, 0] == 0.0 and served[0, 2] == 0.0


def test_merged_points_split_back_in_proportion():
    # points 0 and 1 have the same covering site: one class, served 60 of 90 in proportion
    problem = SitingProblem(weight=np.array([30.0, 60.0]), cover=sp.csr_matrix(np.ones((1, 2))),
                            tiers_m2=np.array([100.0]), capacity_per_m2=0.6,
                            area_budget_m2=100.0)
    assert demand_classes(problem).n_classes == 1
    result = solve_coverage(problem, OPTS)
    np.testing.assert_allclose(result.served.toarray(), [[20.0, 40.0]], atol=1e-6)


def test_nearest_open_site_serves_without_capacity():
    cover = sp.csr_matrix(np.ones((2, 2)))
    tt = sp.csr_matrix(np.array([[1.0, 5.0], [4.0, 2.0]]))
    problem = SitingProblem(weight=np.array([3.0, 4.0]), cover=cover, travel_time_h=tt,
                            tiers_m2=np.array([100.0]), rent_cap_usd_year=1e9,
                            rent_usd_m2_year=np.ones(2), count_min=2)
    result = solve_coverage(problem, OPTS)
    np.testing.assert_allclose(result.served.toarray(), [[3.0, 0.0], [0.0, 4.0]])


def test_existing_site_keeps_a_non_tier_area():
    problem = SitingProblem(weight=np.array([10.0]), cover=sp.csr_matrix(np.ones((1, 1))),
                            tiers_m2=np.array([100.0, 200.0]),
                            existing_area_m2=np.array([120.0]), capacity_per_m2=1.0,
                            area_budget_m2=150.0)
    result = solve_coverage(problem, OPTS)
    assert result.area_m2.tolist() == [120.0]
    assert result.objective == pytest.approx(10.0)


def test_site_capacity_caps_a_large_site():
    problem = SitingProblem(weight=np.array([1_000.0]), cover=sp.csr_matrix(np.ones((1, 1))),
                            tiers_m2=np.array([100.0, 200.0]), capacity_per_m2=4.0,
                            area_budget_m2=200.0)
    problem.site_capacity = np.array([500.0])
    result = solve_coverage(problem, OPTS)
    assert result.objective == pytest.approx(500.0)


def test_log_and_progress(split_capacity):
    problem, _ = split_capacity
    seen = []
    opts = SolveOptions(time_limit_s=20.0, gap=1e-6, workers=1,
                        progress=lambda t, inc, bnd: seen.append((t, inc, bnd)))
    result = solve_coverage(problem, opts)
    assert seen and result.log
    times = [t for t, _, _ in result.log]
    assert times == sorted(times)
    for _, inc, bnd in result.log:
        if np.isfinite(inc):
            assert bnd >= inc - 1e-9
    assert result.info["time_to_first_s"] is not None
    assert result.info["n_classes"] == 3


def test_same_seed_same_plan(quota_groups):
    problem, _ = quota_groups
    a = solve_coverage(problem, OPTS)
    b = solve_coverage(problem, OPTS)
    np.testing.assert_array_equal(a.area_m2, b.area_m2)
    assert a.objective == b.objective


def test_stop_event_returns_a_plan(split_capacity, oracle):
    problem, _ = split_capacity
    stop = threading.Event()
    stop.set()
    result = solve_coverage(problem, SolveOptions(time_limit_s=20.0, gap=0.0, stop=stop))
    assert result.has_solution
    assert oracle.feasible(problem, result.area_m2)


@pytest.mark.parametrize("name", FIXTURES)
def test_tiny_time_limit_still_gives_a_plan_and_a_valid_bound(name, request, oracle):
    problem, optimum = request.getfixturevalue(name)
    result = solve_coverage(problem, SolveOptions(time_limit_s=0.5, gap=0.0, workers=1))
    assert result.has_solution
    assert oracle.feasible(problem, result.area_m2)
    assert result.objective <= optimum.value + 1e-6
    assert result.bound >= optimum.value - 1e-6
    assert result.gap == pytest.approx(relative_gap(result.objective, result.bound))
    check_served(problem, result)


def test_zero_time_limit_still_gives_a_plan(quota_groups, oracle):
    problem, optimum = quota_groups
    result = solve_coverage(problem, SolveOptions(time_limit_s=0.0, gap=0.0, workers=1))
    assert result.has_solution
    assert oracle.feasible(problem, result.area_m2)
    assert result.bound >= optimum.value - 1e-6


def test_infeasible_named_before_solving():
    problem = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
                            tiers_m2=np.array([100.0]), count_min=3, capacity_per_m2=1.0)
    result = solve_coverage(problem, OPTS)
    assert result.status == "infeasible"
    assert result.reasons == ["count_min 3 > number of allowed candidate sites 2"]
    assert not result.has_solution
    assert result.area_m2.tolist() == [0.0, 0.0]


def test_infeasible_found_by_the_solver():
    # one site in group AA: areas 0, 100 or 300; AA needs 200-250 m²: only integrality conflicts
    problem = SitingProblem(weight=np.ones(1), cover=sp.csr_matrix(np.ones((1, 1))),
                            tiers_m2=np.array([100.0, 300.0]), group=np.array([0]),
                            group_names=("AA",), group_area_min_m2=np.array([200.0]),
                            group_area_max_m2=np.array([250.0]), capacity_per_m2=1.0)
    result = solve_coverage(problem, OPTS)
    assert result.status == "infeasible"
    assert len(result.reasons) == 1
    assert "AA needs ≥ 200 m²" in result.reasons[0]
    assert "AA allows ≤ 250 m²" in result.reasons[0]


def test_validation_names_the_field():
    problem = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.eye(2)),
                            capacity_per_m2=1.0)
    with pytest.raises(ValidationError, match="SitingProblem.weight"):
        solve_coverage(problem, OPTS)


def test_count_only_goes_to_the_large_scale_module(monkeypatch, rent_knapsack):
    calls = []

    def solve_count_only(problem, options):
        calls.append(problem)
        return "handled"

    import hzlogistics.models.coverage as coverage_module

    monkeypatch.setattr(coverage_module, "solve_count_only", solve_count_only)
    plain = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
                          tiers_m2=np.array([100.0]), count_max=1)
    assert is_count_only(plain)
    assert solve_coverage(plain, OPTS) == "handled"
    problem, optimum = rent_knapsack  # a rent cap: not count-only
    assert not is_count_only(problem)
    assert solve_coverage(problem, OPTS).objective == pytest.approx(optimum.value)
    assert len(calls) == 1


# --- random instances against enumeration ----------------------------------------------------


@st.composite
def small_problems(draw) -> SitingProblem:
    n = draw(st.integers(2, 4))
    m = draw(st.integers(1, 5))
    dense = np.array(draw(st.lists(st.lists(st.booleans(), min_size=m, max_size=m),
                                   min_size=n, max_size=n)))
    weight = np.array(draw(st.lists(st.integers(1, 60), min_size=m, max_size=m)), dtype=float)
    tiers = np.array(sorted(draw(st.sets(st.sampled_from([100.0, 200.0, 300.0]),
                                         min_size=1, max_size=2))))
    capacity = draw(st.sampled_from([None, 0.1, 0.25]))
    budget = draw(st.sampled_from([None, 200.0, 300.0, 500.0]))
    existing = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 0.0, 100.0, 150.0]),
                                      min_size=n, max_size=n)))
    forbidden = np.array(draw(st.lists(st.sampled_from([False, False, False, True]),
                                       min_size=n, max_size=n)))
    max_area = np.array(draw(st.lists(st.sampled_from([np.inf, np.inf, 200.0, 100.0]),
                                      min_size=n, max_size=n)))
    group = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    count_min = draw(st.integers(0, 2))
    count_max = draw(st.sampled_from([None, 1, 2, 3]))
    gcmin = np.array(draw(st.lists(st.integers(0, 1), min_size=2, max_size=2)))
    gamax = np.array(draw(st.lists(st.sampled_from([np.inf, np.inf, 300.0]),
                                   min_size=2, max_size=2)))
    rent = np.array(draw(st.lists(st.sampled_from([1.0, 2.0, 5.0]), min_size=n, max_size=n)))
    rent_cap = draw(st.sampled_from([None, None, 600.0, 1_000.0]))
    value = np.array(draw(st.lists(st.sampled_from([1.0, 1.0, 0.5]), min_size=m, max_size=m)))
    return SitingProblem(
        weight=weight, cover=sp.csr_matrix(dense), tiers_m2=tiers, capacity_per_m2=capacity,
        area_budget_m2=budget, existing_area_m2=existing, forbidden=forbidden,
        max_area_m2=max_area, group=group, group_names=("AA", "BB"), count_min=count_min,
        count_max=count_max, group_count_min=gcmin, group_area_max_m2=gamax,
        rent_usd_m2_year=rent, rent_cap_usd_year=rent_cap, value=value,
    )


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(problem=small_problems())
def test_random_against_enumeration(oracle, problem):
    best = oracle.brute_force(problem)
    result = solve_coverage(problem, OPTS)
    if best is None:
        assert result.status == "infeasible"
        assert result.reasons
        assert all(any(ch.isdigit() for ch in r) for r in result.reasons)
        return
    assert result.status == "optimal", result.reasons
    assert oracle.feasible(problem, result.area_m2)
    assert result.objective == pytest.approx(best.value, rel=1e-6, abs=1e-6)
    assert oracle.plan_value(problem, result.area_m2) == pytest.approx(result.objective, abs=1e-6)
    assert result.bound >= result.objective - 1e-9
    assert result.objective >= result.info["heuristic_objective"] - 1e-9
    check_served(problem, result)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(problem=small_problems())
def test_bound_without_a_plan_never_cuts_the_optimum(oracle, problem):
    best = oracle.brute_force(problem)
    bound, reasons = coverage_bound(problem, OPTS)
    if reasons:
        assert best is None and bound == -np.inf
        return
    if best is not None:
        assert bound >= best.value - 1e-6 * max(1.0, best.value)


def test_bound_without_a_plan_names_an_infeasible_problem():
    problem = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
                            tiers_m2=np.array([100.0]), count_min=3, capacity_per_m2=1.0)
    assert coverage_bound(problem, OPTS) == (
        -np.inf, ["count_min 3 > number of allowed candidate sites 2"])


def test_a_loose_gap_target_returns_a_plan_as_good_as_every_logged_incumbent():
    # stages stop once the target is reached: the plan kept must be the one that reached it
    rng = np.random.default_rng(3)
    n, m = 40, 300
    cover = sp.csr_matrix(rng.random((n, m)) < 0.08)
    problem = SitingProblem(weight=rng.integers(1, 100, m).astype(float), cover=cover,
                            tiers_m2=np.array([100.0, 200.0, 400.0]), area_budget_m2=2_000.0,
                            count_max=12, capacity_per_m2=2.0)
    for gap in (0.05, 0.01, 0.001):
        result = solve_coverage(problem, SolveOptions(time_limit_s=20.0, gap=gap, workers=1))
        logged = max(inc for _, inc, _ in result.log if np.isfinite(inc))
        assert result.objective >= logged - 1e-6 * max(1.0, logged)
        assert result.status == "optimal" and result.gap <= gap
