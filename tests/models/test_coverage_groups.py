"""Tests of the bound and the plans by group of the capacitated coverage model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given

from hzlogistics.models import coverage, coverage_groups, solve
from hzlogistics.models.coverage import demand_classes
from hzlogistics.models.coverage_groups import (
    GroupPlan,
    best_combination,
    group_bound,
    group_lps,
    group_plan,
    mip_area_price,
)
from hzlogistics.models.coverage_lp import coverage_lp
from hzlogistics.solvers.capacity import Capacity, CapacityFlow
from hzlogistics.solvers.heuristic import CapacityGain, greedy_plan
from hzlogistics.solvers.lp import lp_bound
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.sites import plan_violations, site_table
from tests.models.test_rule import RULE, default_like_instance, seeds, solve_textbook


def _groups(problem: SitingProblem):
    table = site_table(problem)
    classes = demand_classes(problem)
    cap = Capacity.of_problem(problem)
    assert cap is not None
    return table, classes, group_lps(table, classes.cover, classes.weight, classes.value, cap)


def two_single_sites(budget: float) -> SitingProblem:
    """Two countries, one site and one town of 900 parcels/day each; tiers of 100-200 m²."""
    return SitingProblem(weight=np.array([900.0, 900.0]), cover=sp.csr_matrix(np.eye(2)),
                         tiers_m2=np.array([100.0, 150.0, 200.0]), area_budget_m2=budget,
                         capacity_per_m2=8.0, group=np.array([0, 1]),
                         demand_group=np.array([0, 1]), group_names=("A", "B"))


def test_the_bound_by_group_closes_what_the_lp_leaves_open():
    # 250 m²: one site at 150 m² serves its 900, the other at 100 m² serves 800
    p = two_single_sites(250.0)
    table, classes, groups = _groups(p)
    lp = lp_bound(coverage_lp(table, classes.cover, classes.weight, classes.value,
                              capacity=8.0).lp)
    assert lp.bound == pytest.approx(1800.0, abs=1e-3)  # 112.5 m² a site serve both in full
    res = group_bound(groups, area_budget_m2=250.0, count_max=2, area_price=0.0,
                      count_price=0.0, time_limit_s=30.0)
    assert res.bound >= 1700.0 - 1e-6
    assert res.bound == pytest.approx(1700.0, abs=1.0)
    assert res.area_price == pytest.approx(2.0, abs=0.01)
    assert len(res.parts) == 2


def test_no_split_when_a_town_is_reached_from_two_groups():
    p = two_single_sites(250.0)
    p.cover = sp.csr_matrix(np.array([[1.0, 1.0], [0.0, 1.0]]))
    assert _groups(p)[2] is None


@RULE
@given(seeds)
def test_the_bound_by_group_never_cuts_off_the_optimum(seed: int) -> None:
    p = default_like_instance(seed)
    table, classes, groups = _groups(p)
    if groups is None:  # one group, or a town reached from two
        return
    best = solve_textbook(p, "coverage", solver="highs", time_limit_s=60, gap=0.0)
    assert best.status == "optimal"
    slack = 1e-6 * max(1.0, best.objective)
    for area_price, count_price in [(0.0, 0.0), (1.5, 0.0), (4.0, 30.0)]:
        res = group_bound(groups, area_budget_m2=table.area_budget_m2,
                          count_max=table.count_max, area_price=area_price,
                          count_price=count_price, time_limit_s=30.0, max_rounds=6)
        assert res.bound >= best.objective - slack, (area_price, count_price, res)


@RULE
@given(seeds)
def test_a_group_plan_serves_what_it_claims(seed: int) -> None:
    p = default_like_instance(seed)
    table, classes, groups = _groups(p)
    if groups is None:
        return
    flow = CapacityFlow(classes.cover, classes.weight, classes.value, Capacity.of_problem(p))
    for g in groups:
        plan = group_plan(g, area_price=2.0, count_price=0.0, time_limit_s=10.0)
        assert plan is not None
        area = np.zeros(table.n_sites)
        area[g.sites] = plan.area_m2
        for i in g.sites:  # each site gets one of its allowed areas, or none
            assert area[i] == 0 or area[i] in table.areas[i]
        assert np.all(area[g.sites[table.forced[g.sites]]] > 0)
        group = table.group[g.sites[0]]
        assert plan.count >= table.group_count_min[group]
        served = np.asarray(flow.solve(area)[1].sum(axis=1)).ravel()
        assert plan.value == pytest.approx(float(served[g.sites].sum()), rel=1e-6, abs=1e-3)


def test_the_mips_price_the_area_below_what_a_m2_handles():
    # towns of 2,000 parcels/day fill every size; 250 m² for two: the bound prices a m² at 8
    p = two_single_sites(250.0)
    p.weight = np.array([2000.0, 2000.0])
    table, _, groups = _groups(p)
    res = group_bound(groups, area_budget_m2=250.0, count_max=2, area_price=0.0,
                      count_price=0.0, time_limit_s=30.0)
    assert res.area_price == pytest.approx(8.0, abs=0.01)
    assert res.bound == pytest.approx(2000.0, abs=1.0)
    g = groups[0]
    at_bound = group_plan(g, area_price=res.area_price, count_price=0.0, time_limit_s=10.0)
    assert at_bound is not None
    assert at_bound.value - res.area_price * at_bound.area <= 1e-6  # nothing beats no site
    price = mip_area_price(g, res.area_price)
    assert price == pytest.approx(8.0 * (1 - coverage_groups.GROUP_MIP_PRICE_CUT))
    plan = group_plan(g, area_price=price, count_price=0.0, time_limit_s=10.0)
    assert plan is not None
    assert plan.area == pytest.approx(200.0)  # the largest size, used in full
    assert plan.value == pytest.approx(1600.0)
    assert mip_area_price(g, 2.0) == 2.0  # below what a m² handles: the bound's price


def _plans(rng: np.random.Generator, k: int) -> list[GroupPlan]:
    return [GroupPlan(area_m2=rng.choice([0.0, 100.0, 150.0, 300.0], size=2),
                      value=float(rng.uniform(0, 1000))) for _ in range(k)]


@pytest.mark.parametrize("seed", range(8))
def test_best_combination_is_the_best_one(seed):
    rng = np.random.default_rng(seed)
    choices = [_plans(rng, int(rng.integers(1, 4))) for _ in range(4)]
    budget = float(rng.uniform(200, 1200))
    best, best_value = None, -np.inf
    for picks in itertools.product(*(range(len(c)) for c in choices)):
        plans = [choices[g][k] for g, k in enumerate(picks)]
        if sum(pl.area for pl in plans) <= budget and sum(pl.value for pl in plans) > best_value:
            best, best_value = list(picks), sum(pl.value for pl in plans)
    got = best_combination(choices, area_budget_m2=budget, count_min=0, count_max=100)
    if best is None:
        assert got is None
    else:
        assert got is not None
        assert sum(choices[g][k].value for g, k in enumerate(got)) == pytest.approx(best_value)
        assert sum(choices[g][k].area for g, k in enumerate(got)) <= budget


def test_best_combination_refuses_a_count_out_of_range():
    one = [GroupPlan(np.array([100.0, 0.0]), 10.0)]
    assert best_combination([one, one], area_budget_m2=500.0, count_min=3,
                            count_max=5) is None
    assert best_combination([one, one], area_budget_m2=500.0, count_min=2,
                            count_max=5) == [0, 0]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_solve_proves_by_group_what_its_lps_cannot(monkeypatch, workers):
    # the path of models too large for CP-SAT: the local search, and the work by group
    # first (one worker) or beside it (two)
    monkeypatch.setattr(coverage, "CPSAT_MAX_NONZEROS", 0)
    p = two_single_sites(250.0)
    r = solve(p, "coverage", SolveOptions(time_limit_s=20, gap=1e-4, workers=workers))
    assert r.info["aggregate_lp_bound"] >= 1800.0 - 1e-6
    assert r.objective == pytest.approx(1700.0)
    assert r.bound == pytest.approx(1700.0, abs=0.2)
    assert r.status == "optimal"
    assert sorted(r.area_m2.tolist()) == [100.0, 150.0]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_bound_by_group_costs_the_plan_nothing(monkeypatch, caplog, workers):
    monkeypatch.setattr(coverage, "CPSAT_MAX_NONZEROS", 0)

    def broken(*args, **kwargs):
        raise RuntimeError("GLOP is gone")

    monkeypatch.setattr(coverage_groups, "group_bound", broken)
    r = solve(two_single_sites(250.0), "coverage",
              SolveOptions(time_limit_s=3, gap=1e-4, workers=workers))
    assert r.objective == pytest.approx(1700.0)
    assert r.status == "feasible"  # the LP's 1,800 is all the bound left
    assert "GLOP is gone" in r.info["group_error"]
    assert "bound by group failed" in caplog.text


def _exact_flow(p: SitingProblem):
    classes = demand_classes(p)
    cap = Capacity.of_problem(p)
    assert cap is not None
    return site_table(p), classes, cap, CapacityFlow(classes.cover, classes.weight,
                                                     classes.value, cap)


@RULE
@given(seeds)
def test_the_mip_with_pair_flows_proves_the_optimum_from_a_plan(seed: int) -> None:
    p = default_like_instance(seed)
    exact = solve_textbook(p, "coverage", solver="highs", time_limit_s=60, gap=0.0)
    assert exact.status == "optimal", exact
    table, classes, cap, flow = _exact_flow(p)
    start = greedy_plan(table, CapacityGain(flow.cover, flow.weight, flow.value, cap), seed=seed)
    assert start is not None
    out = coverage_groups.pair_mip(table, classes.cover, classes.weight, classes.value, cap,
                                   start, flow.solve(start)[1], time_limit_s=60.0, gap=0.0)
    assert out.status == "optimal" and out.plan is not None
    assert not plan_violations(table, out.plan)
    assert flow.solve(out.plan)[0] == pytest.approx(exact.objective, abs=1e-3 * p.n_demand)
    assert out.bound >= exact.objective - 1e-6 * max(1.0, exact.objective)
    assert out.bound == pytest.approx(exact.objective, rel=1e-6, abs=1e-6)


def test_a_stop_event_interrupts_the_mip_with_pair_flows() -> None:
    import threading

    p = default_like_instance(3)
    table, classes, cap, flow = _exact_flow(p)
    start = np.zeros(p.n_sites)
    start[table.forced] = table.existing_m2[table.forced]
    stop = threading.Event()
    stop.set()
    out = coverage_groups.pair_mip(table, classes.cover, classes.weight, classes.value, cap,
                                   start, flow.solve(start)[1], time_limit_s=60.0, gap=0.0,
                                   stop=stop)
    assert out.status == "interrupted"
