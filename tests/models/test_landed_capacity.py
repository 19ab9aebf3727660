"""Capacitated landed cost: the repair of the uncapacitated plan, and the race with the
engine, checked against a plain MIP and the formulas on random instances."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
import scipy.sparse as sp

from hzlogistics.models.cost import solve_cost
from hzlogistics.models.landed import build_landed_problem
from hzlogistics.models.landed.capacity import repair_plan, solve_capacitated
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.sites import plan_violations

from .test_landed import inbound_for, make_case, plain_mip, rates_for

EXACT = SolveOptions(time_limit_s=30, gap=0.0)


def landed_problem(seed: int, capacity: float, **over: object) -> SitingProblem:
    case = make_case(seed, capacity=capacity, n_sites=8, n_demand=14)
    rates = rates_for(seed)
    p = dataclasses.replace(case.problem, tiers_m2=np.array([1.0, 2.0, 4.0]), **over)
    return build_landed_problem(p, inbound_for(dataclasses.replace(case, problem=p), rates),
                                rates)


def check_plan(p: SitingProblem, area: np.ndarray, served: sp.csr_matrix,
               objective: float) -> None:
    """The plan serves every parcel, fits capacity and the site rules, and costs ``objective``."""
    x = served.toarray()
    assert np.allclose(x.sum(axis=0), p.weight)
    assert np.all(x[area == 0].sum(axis=1) <= 1e-9)
    assert np.all(x.sum(axis=1) <= p.capacity_per_m2 * area + 1e-6)
    assert np.all(x[p.cover.toarray() == 0] == 0)
    assert plan_violations(p, area) == []
    c = p.assign_cost.toarray()
    want = (p.rent_usd_m2_year @ area + p.fixed_cost_usd_year @ (area > 0)
            + (x * c / p.weight[None, :]).sum())
    assert objective == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_repair_fits_capacity_and_costs_what_the_formula_gives(seed: int) -> None:
    p = landed_problem(seed, capacity=10.0)  # at most 40 parcels/day per site
    first = solve_cost(dataclasses.replace(p, capacity_per_m2=None), EXACT)
    if not first.has_solution:
        pytest.skip("no plan without capacity")
    loads = np.asarray(first.served.sum(axis=1)).ravel()
    assert loads.max() > 40.0  # the relaxation overloads a site: the repair has work to do
    got = repair_plan(p, first, deadline=time.perf_counter() + 10)
    assert got is not None
    area, served, objective = got
    check_plan(p, area, served, objective)
    optimum = solve_cost(p, EXACT)
    assert optimum.status == "optimal"
    assert objective >= optimum.objective * (1 - 1e-9)
    assert first.bound <= optimum.objective * (1 + 1e-9)  # the relaxation bounds it


def test_repair_moves_the_overflow_to_the_cheapest_site_with_room() -> None:
    # site 0 is cheapest for both points but holds 10 parcels/day at most
    p = SitingProblem(
        weight=np.array([8.0, 6.0]), cover=sp.csr_matrix(np.ones((3, 2))),
        tiers_m2=np.array([1.0, 2.0]), area_budget_m2=None, capacity_per_m2=5.0,
        rent_usd_m2_year=np.array([1.0, 1.0, 1.0]),
        fixed_cost_usd_year=np.array([1.0, 50.0, 50.0]),
        assign_cost=sp.csr_matrix(np.array([[8.0, 6.0], [80.0, 12.0], [80.0, 60.0]])))
    first = solve_cost(dataclasses.replace(p, capacity_per_m2=None), EXACT)
    assert first.open.tolist() == [True, False, False]
    got = repair_plan(p, first, deadline=time.perf_counter() + 10)
    assert got is not None
    area, served, objective = got
    x = served.toarray()
    # 4 parcels of point 1 (1 USD more each at site 1, against 9 for point 0) move to site 1
    assert x.tolist() == [[8.0, 2.0], [0.0, 4.0], [0.0, 0.0]]
    assert area.tolist() == [2.0, 1.0, 0.0]
    check_plan(p, area, served, objective)
    res = solve_capacitated(p, EXACT)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(objective)  # here the repair is optimal


@pytest.mark.parametrize("seed", range(6))
def test_solve_capacitated_matches_a_plain_mip(seed: int) -> None:
    case = make_case(seed, capacity=25.0)
    rates = rates_for(seed)
    ib = inbound_for(case, rates)
    truth = plain_mip(case, rates, ib)
    p = build_landed_problem(case.problem, ib, rates)
    res = solve_capacitated(p, EXACT)
    if not np.isfinite(truth):
        assert not res.has_solution
        return
    assert res.status == "optimal"
    assert res.objective == pytest.approx(truth, rel=1e-5)
    assert res.bound <= truth * (1 + 1e-5)  # the bound never cuts off the optimum
    check_plan(p, res.area_m2, res.served, res.objective)


def test_a_repair_breaking_a_site_rule_is_dropped() -> None:
    # the relaxation opens site 0 alone; the repair must open a second site, which the
    # count limit forbids: no repaired plan, and the engine reports the problem infeasible
    p = SitingProblem(
        weight=np.array([8.0, 6.0]), cover=sp.csr_matrix(np.ones((2, 2))),
        tiers_m2=np.array([1.0, 2.0]), area_budget_m2=None, capacity_per_m2=5.0, count_max=1,
        fixed_cost_usd_year=np.array([1.0, 50.0]),
        assign_cost=sp.csr_matrix(np.array([[8.0, 6.0], [80.0, 12.0]])))
    first = solve_cost(dataclasses.replace(p, capacity_per_m2=None), EXACT)
    assert repair_plan(p, first, deadline=time.perf_counter() + 10) is None
    assert solve_capacitated(p, EXACT).status == "infeasible"
