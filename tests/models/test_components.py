"""Large median and cost problems: by connected components without capacity, and the
nearest-within-capacity plan with the rent-aware bound with it."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import hzlogistics.models.location.engine as engine
from hzlogistics.models.cost import solve_cost
from hzlogistics.models.median import solve_median
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from tests.models.test_cost import DAYS, RATE, brute_cost, cases, check_plan, pair_cost

OPTIONS = SolveOptions(time_limit_s=20, gap=0.0)


@st.composite
def block_problems(draw: st.DrawFn) -> SitingProblem:
    """Two to four blocks of sites and demand points; no pair links two blocks."""
    blocks = draw(st.integers(2, 4))
    covers, hours = [], []
    for _ in range(blocks):
        n = draw(st.integers(1, 3))
        m = draw(st.integers(1, 3))
        c = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)),
                     dtype=bool).reshape(n, m)
        for j in np.flatnonzero(~c.any(axis=0)):
            c[draw(st.integers(0, n - 1)), j] = True
        covers.append(c)
        hours.append(np.array(draw(st.lists(st.integers(1, 9), min_size=n * m,
                                            max_size=n * m)), dtype=float).reshape(n, m))
    cover = sp.block_diag(covers).toarray().astype(bool)
    tt = sp.block_diag(hours).toarray() * cover
    n, m = cover.shape
    weight = np.array(draw(st.lists(st.integers(1, 9), min_size=m, max_size=m)), dtype=float)
    existing = np.zeros(n)
    if draw(st.booleans()):
        existing[draw(st.integers(0, n - 1))] = 100.0
    group = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    gmin = np.array([draw(st.integers(0, 1)), 0])
    count_min = draw(st.integers(0, n))
    count_max = draw(st.integers(max(count_min, 1), n))
    return SitingProblem(
        weight=weight, cover=sp.csr_matrix(cover), travel_time_h=sp.csr_matrix(tt),
        tiers_m2=np.array([100.0]), existing_area_m2=existing,
        rent_usd_m2_year=np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
                                  dtype=float),
        fixed_cost_usd_year=np.array(draw(st.lists(st.integers(0, 50), min_size=n,
                                                   max_size=n)), dtype=float),
        group=group, group_names=("AA", "BB"), group_count_min=gmin,
        area_budget_m2=draw(st.sampled_from([None, 100.0 * n])),
        count_min=count_min, count_max=count_max,
    )


def brute(p: SitingProblem, pair: np.ndarray, site_cost: np.ndarray) -> float:
    """Least cost over every site set that meets the counts and serves every point."""
    n = p.n_sites
    forced = p.existing_area_m2 > 0
    best = math.inf
    for k in range(p.count_min, (p.count_max or n) + 1):
        for subset in itertools.combinations(range(n), k):
            open_ = np.zeros(n, dtype=bool)
            open_[list(subset)] = True
            if np.any(forced & ~open_) or not open_.any():
                continue
            if np.sum(open_ & (p.group == 0)) < p.group_count_min[0]:
                continue
            each = np.where(p.cover.toarray()[open_], pair[open_], np.inf).min(axis=0)
            if np.all(np.isfinite(each)):
                best = min(best, float(each.sum() + site_cost[open_].sum()))
    return best


@pytest.fixture
def small_dense_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the toy blocks 'large', so that the component path runs."""
    monkeypatch.setattr(engine, "DENSE_LIMIT", 9)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(p=block_problems(), objective=st.sampled_from(["median", "cost"]))
def test_components_plan_is_feasible_and_bounded(small_dense_limit: None, p: SitingProblem,
                                                 objective: str) -> None:
    tt = p.travel_time_h.toarray()
    if objective == "median":
        pair = p.weight[None, :] * tt
        site_cost = np.zeros(p.n_sites)
        r = solve_median(p, OPTIONS)
    else:
        pair = p.weight[None, :] * tt * 2.0
        site_cost = p.fixed_cost_usd_year + 100.0 * p.rent_usd_m2_year
        r = solve_cost(p, OPTIONS, cost_usd_per_parcel_h=1.0, days_per_year=2.0)
    expected = brute(p, pair, site_cost)
    if not math.isfinite(expected):
        assert not r.has_solution
        return
    event("by components" if "components" in r.info else "whole")
    served = check_plan(p, r, full=True)
    # the objective is the plan's own cost
    area = np.asarray(r.area_m2)
    own = float((served / p.weight[None, :] * pair).sum() + site_cost[area > 0].sum())
    assert r.objective == pytest.approx(own, rel=1e-9, abs=1e-9)
    assert r.objective >= expected - 1e-6
    assert r.bound <= expected + 1e-6
    if r.status == "optimal":
        assert r.objective == pytest.approx(expected, abs=1e-6)


def test_components_path_used_and_optimal(small_dense_limit: None) -> None:
    # three separate towns; one site each side of each town, count free
    cover = sp.block_diag([np.ones((2, 2))] * 3).tocsr()
    tt = sp.block_diag([np.array([[1.0, 4.0], [4.0, 1.0]])] * 3).tocsr()
    p = SitingProblem(weight=np.ones(6), cover=cover, travel_time_h=tt,
                      tiers_m2=np.array([100.0]), area_budget_m2=None,
                      fixed_cost_usd_year=np.full(6, 2.0))
    r = solve_cost(p, OPTIONS, cost_usd_per_parcel_h=1.0, days_per_year=1.0)
    assert r.info.get("components") == 3
    # per town: one site (2 + 1 + 4 = 7) beats two (4 + 1 + 1 = 6)? two sites cost 6
    assert r.status == "optimal"
    assert r.objective == pytest.approx(18.0)
    assert int(r.open.sum()) == 6


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(p=cases(capacitated=True, max_sites=3, max_demand=4),
       objective=st.sampled_from(["median", "cost"]))
def test_large_capacitated_plan_is_feasible_and_bounded(
        monkeypatch: pytest.MonkeyPatch, p: SitingProblem, objective: str) -> None:
    # every instance counts as large: its pairs are cut, the nearest plan within capacity runs
    monkeypatch.setattr(engine, "PAIR_LIMIT", 0)
    if objective == "median":
        expected = brute_cost(p, pair_cost(p, 1.0), site_cost=False)
        r = solve_median(p, OPTIONS)
    else:
        expected = brute_cost(p, pair_cost(p, RATE * DAYS), site_cost=True)
        r = solve_cost(p, OPTIONS, cost_usd_per_parcel_h=RATE, days_per_year=DAYS)
    if expected is None or not r.has_solution:
        return
    check_plan(p, r, full=True)
    assert r.objective >= expected - 1e-6 * max(1.0, expected)
    assert r.bound <= expected + 1e-6 * max(1.0, expected)


def test_nearest_plan_within_capacity_spills_to_the_next_site(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "PAIR_LIMIT", 0)
    # one big town next to site 0, which holds only 10 parcels/day at its largest size
    cover = sp.csr_matrix(np.ones((2, 2)))
    tt = sp.csr_matrix(np.array([[1.0, 1.0], [3.0, 3.0]]))
    p = SitingProblem(weight=np.array([8.0, 6.0]), cover=cover, travel_time_h=tt,
                      tiers_m2=np.array([1.0, 2.0]), max_area_m2=np.array([2.0, 2.0]),
                      capacity_per_m2=5.0, area_budget_m2=None)
    r = solve_median(p, OPTIONS)
    served = check_plan(p, r, full=True)
    assert served[0].sum() == pytest.approx(10.0)
    assert served[1].sum() == pytest.approx(4.0)
    assert r.objective == pytest.approx(10 * 1.0 + 4 * 3.0)
    # the Lagrangian bound with capacity proves it (every parcel at site 0 would give 14)
    assert r.bound == pytest.approx(10 * 1.0 + 4 * 3.0)


def test_transfer_moves_a_site_to_where_it_is_worth_more() -> None:
    from hzlogistics.models.location.components import Part, transfer_sites
    from hzlogistics.solvers.sites import site_table

    # part 0: two sites 1 apart on one demand point of 10 parcels/day: the second site
    # is worth nothing. part 1: one open site 9 h from a point of 10 parcels/day that a
    # closed site reaches in 1 h: opening it saves 80.
    inf = np.inf
    cost0 = np.array([[10.0], [10.0]])
    cost1 = np.array([[10.0, 90.0], [inf, 10.0]])
    parts = [
        Part(sites=np.array([0, 1]), demand=np.array([0]), cost=cost0, open_cost=np.zeros(2),
              can=np.ones(2, bool), forced=np.zeros(2, bool), open_=np.array([True, True])),
        Part(sites=np.array([2, 3]), demand=np.array([1, 2]), cost=cost1,
              open_cost=np.zeros(2), can=np.ones(2, bool), forced=np.zeros(2, bool),
              open_=np.array([True, False])),
    ]
    p = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.ones((4, 3))),
                      tiers_m2=np.array([100.0]), area_budget_m2=None, count_min=3,
                      count_max=3)
    table = site_table(p)
    before = parts[0].value() + parts[1].value()
    changed = transfer_sites(parts, table, np.array([True, True, True, False]),
                              total=before, deadline=float("inf"), stop=None)
    assert changed == {0, 1}
    assert int(parts[0].open_.sum()) == 1 and parts[1].open_.tolist() == [True, True]
    assert parts[0].value() + parts[1].value() == pytest.approx(before - 80.0)


def test_group_minimum_holds_when_a_component_mixes_groups(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "DENSE_LIMIT", 2)  # components of 2 and 1 pairs
    # component A: site 0 (group BB) and site 1 (group AA) reach point 0, site 0 nearer;
    # component B: site 2 (group BB) reaches point 1. AA needs one open site.
    cover = sp.csr_matrix(np.array([[1, 0], [1, 0], [0, 1]], dtype=float))
    tt = sp.csr_matrix(np.array([[1.0, 0], [5.0, 0], [0, 1.0]]))
    p = SitingProblem(weight=np.ones(2), cover=cover, travel_time_h=tt,
                      tiers_m2=np.array([100.0]), group=np.array([1, 0, 1]),
                      group_names=("AA", "BB"), group_count_min=np.array([1, 0]),
                      area_budget_m2=None, count_max=2)
    r = solve_median(p, OPTIONS)
    check_plan(p, r, full=True)
    assert r.open.tolist() == [False, True, True]
    assert r.objective == pytest.approx(6.0)
