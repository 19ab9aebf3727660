"""Tests of the neighbourhood search of the capacitated coverage model."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given

from hzlogistics.models import solve
from hzlogistics.models.coverage import demand_classes
from hzlogistics.models.coverage_lns import NEIGHBOURHOOD_PATIENCE, NeighbourhoodSearch
from hzlogistics.solvers.capacity import Capacity, CapacityFlow
from hzlogistics.solvers.heuristic import CapacityGain, greedy_plan
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.sites import plan_violations, site_table
from tests.models.test_rule import RULE, default_like_instance, seeds, solve_textbook


def _search(problem: SitingProblem, **kw: object) -> tuple[NeighbourhoodSearch, CapacityFlow]:
    classes = demand_classes(problem)
    cap = Capacity.of_problem(problem)
    assert cap is not None
    flow = CapacityFlow(classes.cover, classes.weight, classes.value, cap)
    return NeighbourhoodSearch(site_table(problem), flow, **kw), flow  # type: ignore[arg-type]


def hub_instance(seed: int) -> SitingProblem:
    """Every site reaches town 0, so one neighbourhood holds them all; budget and count bind."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(5, 10)), int(rng.integers(15, 40))
    cover = (rng.random((n, m)) < 0.3).astype(float)
    cover[:, 0] = 1.0
    weight = np.round(rng.lognormal(4.5, 1.0, m), 1)
    return SitingProblem(weight=weight, cover=sp.csr_matrix(cover),
                         tiers_m2=np.array([100.0, 150.0, 200.0, 300.0]),
                         area_budget_m2=float(rng.integers(3, 9)) * 100.0,
                         count_max=int(rng.integers(2, n)), capacity_per_m2=8.0,
                         group=(np.arange(n) % 2), group_count_max=np.array([n, 1 + n // 4]))


@RULE
@given(seeds)
def test_a_neighbourhood_of_every_site_reaches_the_optimum(seed: int) -> None:
    p = hub_instance(seed)
    exact = solve_textbook(p, "coverage", solver="highs", time_limit_s=60, gap=0.0)
    assert exact.status == "optimal", exact
    search, flow = _search(p, seed=seed, size=p.n_sites)
    start = np.zeros(p.n_sites)
    start[0] = 100.0  # one site at the smallest tier, inside every limit of the instance
    assert not plan_violations(site_table(p), start)
    obj, flows = flow.solve(start)
    plan, new_obj, new_flows = search.improve(start, obj, flows, time_limit_s=30.0)
    assert not plan_violations(site_table(p), plan)
    assert new_obj == pytest.approx(flow.solve(plan)[0])
    assert float(np.asarray(new_flows.sum(axis=0)).ravel() @ flow.value) == pytest.approx(new_obj)
    # the flow floors parcels to 1/1000: the exact optimum within that
    assert new_obj == pytest.approx(exact.objective, abs=1e-3 * p.n_demand + 1e-6)
    assert search.kept >= (1 if exact.objective > obj + 1e-3 * p.n_demand else 0)


@RULE
@given(seeds)
def test_small_neighbourhoods_keep_every_limit_and_never_lose(seed: int) -> None:
    # groups with minimum counts, an existing site, a forbidden one, size caps
    p = default_like_instance(seed)
    table = site_table(p)
    search, flow = _search(p, seed=seed, size=2)
    start = greedy_plan(table, CapacityGain(flow.cover, flow.weight, flow.value, flow.capacity),
                        seed=seed)
    assert start is not None and not plan_violations(table, start)
    obj, flows = flow.solve(start)
    plan, new_obj, _ = search.improve(start, obj, flows, time_limit_s=5.0)
    assert not plan_violations(table, plan)
    assert new_obj >= obj - 1e-9
    assert new_obj == pytest.approx(flow.solve(plan)[0])
    assert search.tried >= 1
    if search.kept == 0:
        np.testing.assert_array_equal(plan, start)


def test_the_search_ends_when_neighbourhoods_bring_nothing() -> None:
    # one site, one town it serves in full: nothing to improve, so it stops long before 30 s
    p = SitingProblem(weight=np.array([500.0]), cover=sp.csr_matrix(np.ones((1, 1))),
                      tiers_m2=np.array([100.0]), area_budget_m2=100.0, capacity_per_m2=8.0)
    search, flow = _search(p)
    obj, flows = flow.solve(np.array([100.0]))
    plan, new_obj, _ = search.improve(np.array([100.0]), obj, flows, time_limit_s=30.0)
    assert plan.tolist() == [100.0] and new_obj == pytest.approx(500.0)
    assert search.kept == 0
    assert search.tried == NEIGHBOURHOOD_PATIENCE  # in a row without a better plan


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_the_search_and_highs_reach_the_textbook_optimum_in_turn_or_side_by_side(
        seed: int, workers: int) -> None:
    # one worker: the search, then HiGHS; two: HiGHS in a thread beside the search
    p = hub_instance(seed)
    exact = solve_textbook(p, "coverage", solver="highs", time_limit_s=60, gap=0.0)
    assert exact.status == "optimal", exact
    ours = solve(p, "coverage", SolveOptions(time_limit_s=30, gap=0.0, seed=0, workers=workers))
    assert "mip_status" in ours.info and "neighbourhoods_tried" in ours.info  # both ran
    assert not plan_violations(site_table(p), ours.area_m2)
    slack = 1e-3 * p.n_demand + 1e-6  # the flow floors parcels to 1/1000
    assert ours.objective == pytest.approx(exact.objective, abs=slack)
    assert ours.bound >= exact.objective - slack
