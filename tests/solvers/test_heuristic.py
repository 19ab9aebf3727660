"""Tests of the site table, the greedy, the capacity flow and the local searches."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from hzlogistics.solvers.capacity import Capacity, CapacityFlow
from hzlogistics.solvers.heuristic import (
    CapacityGain,
    CoverGain,
    PlanState,
    greedy_plan,
    round_down,
)
from hzlogistics.solvers.local_search import rebalance_search, swap_search
from hzlogistics.solvers.problem import SitingProblem
from hzlogistics.solvers.sites import plan_violations, site_rows, site_table


def random_problem(seed: int, *, n: int = 8, m: int = 30, capacity: float | None = 0.5,
                   **kw) -> SitingProblem:
    rng = np.random.default_rng(seed)
    dense = rng.random((n, m)) < 0.3
    base = dict(
        weight=rng.integers(1, 100, m).astype(float),
        cover=sp.csr_matrix(dense),
        tiers_m2=np.array([100.0, 200.0, 500.0]),
        group=rng.permutation(np.arange(n) % 2),
        group_names=("AA", "BB"),
        area_budget_m2=900.0,
        count_min=2,
        count_max=5,
        capacity_per_m2=capacity,
        group_count_min=np.array([1, 1]),
        rent_usd_m2_year=rng.uniform(1, 10, n),
        value=np.where(rng.random(m) < 0.3, 0.5, 1.0),
    )
    base.update(kw)
    return SitingProblem(**base)


def flow_value_lp(cover, weight, value, cap_site) -> float:
    """Max-value flow by scipy's HiGHS LP (an independent check of CapacityFlow)."""
    rows, cols = sp.csr_matrix(cover).nonzero()
    n, m = cover.shape
    a = np.zeros((n + m, rows.size))
    a[rows, np.arange(rows.size)] = 1.0
    a[n + cols, np.arange(rows.size)] = 1.0
    res = linprog(-value[cols], A_ub=a, b_ub=np.concatenate([cap_site, weight]),
                  bounds=(0, None), method="highs")
    return float(-res.fun)


# --- the site table and plan checks ---------------------------------------------------------


def test_site_table_options():
    p = SitingProblem(weight=np.ones(4), cover=sp.csr_matrix(np.eye(4)),
                      tiers_m2=np.array([200.0, 100.0, 500.0]),
                      max_area_m2=np.array([np.inf, 200.0, 50.0, 600.0]),
                      existing_area_m2=np.array([0.0, 0.0, 0.0, 150.0]),
                      forbidden=np.array([False, False, False, False]))
    t = site_table(p)
    assert [a.tolist() for a in t.areas] == [[100.0, 200.0, 500.0], [100.0, 200.0], [],
                                             [150.0, 200.0, 500.0]]
    assert t.forced.tolist() == [False, False, False, True]
    assert t.can_open.tolist() == [True, True, False, True]
    assert t.count_max == 4 and t.area_budget_m2 == 200_000.0


def test_plan_violations_lists_every_broken_constraint():
    p = random_problem(0, n=4, capacity=None, group=np.array([0, 0, 1, 1]),
                       existing_area_m2=np.array([100.0, 0, 0, 0]), count_max=2,
                       area_budget_m2=300.0, group_area_max_m2=np.array([np.inf, 150.0]),
                       rent_usd_m2_year=np.ones(4), rent_cap_usd_year=350.0)
    out = plan_violations(p, np.array([0.0, 150.0, 200.0, 100.0]))
    assert "existing site 0 (100 m²) is closed" in out
    assert any(s.startswith("site 1 has area 150 m²") for s in out)
    assert "3 open sites > count_max 2" in out
    assert "total area 450 m² > area budget 300 m²" in out
    assert "BB has 300 m² > maximum 150 m²" in out
    assert "AA has 1 sites < minimum 1" not in out
    assert "yearly rent 450 USD > rent cap 350 USD" in out
    assert plan_violations(p, np.array([100.0, 0.0, 100.0, 0.0])) == []


def test_plan_state_checks_moves():
    p = random_problem(1, n=4, capacity=None, group=np.array([0, 0, 1, 1]), count_min=2,
                       count_max=3, area_budget_m2=400.0)
    state = PlanState(site_table(p), np.array([100.0, 0.0, 100.0, 0.0]))
    assert state.allows(1, 200.0)
    assert not state.allows(1, 500.0)  # budget
    assert not state.allows(0, 0.0)  # count_min 2 and AA's minimum 1
    state.set(1, 100.0)
    assert not state.allows(3, 100.0)  # three open sites: count_max 3 refuses a fourth
    assert state.count == 3 and state.total == 300.0


@pytest.mark.parametrize("limits", [
    dict(area_budget_m2=700.0),
    dict(group_area_max_m2=np.array([400.0, 300.0])),
    dict(rent_cap_usd_year=1_500.0),
    dict(count_max=3, group_count_max=np.array([2, 5])),
    dict(count_min=3, group_count_min=np.array([2, 0])),
    dict(group_area_min_m2=np.array([250.0, 0.0]), existing_area_m2=np.r_[100.0, np.zeros(11)]),
])
def test_allows_many_agrees_with_allows(limits):
    # each case: one kind of limit that binds on some moves and not on others
    kw = dict(area_budget_m2=10_000.0, count_min=0, count_max=12,
              group_count_min=np.array([0, 0]), rent_usd_m2_year=np.linspace(1.0, 3.0, 12))
    p = random_problem(0, n=12, **{**kw, **limits})
    t = site_table(p)
    rng = np.random.default_rng(1)
    sites = np.repeat(np.arange(12), 4)
    new = np.tile([0.0, 100.0, 200.0, 500.0], 12)
    for _ in range(4):
        area = np.zeros(12)
        area[rng.choice(12, 3, replace=False)] = rng.choice([100.0, 200.0], 3)
        area[t.forced] = np.maximum(area[t.forced], 100.0)
        state = PlanState(t, area)
        got = state.allows_many(sites, new)
        want = [state.allows(int(i), float(a)) for i, a in zip(sites, new, strict=True)]
        assert got.tolist() == want
        moves = new != area[sites]
        assert 0 < got[moves].sum() < moves.sum()  # some moves fit, some do not


class _OneAtATime:
    """An evaluator without ``gains``: the greedy asks for one move at a time."""

    def __init__(self, ev):
        self.ev = ev

    def gain(self, i, old, new):
        return self.ev.gain(i, old, new)

    def apply(self, i, old, new):
        self.ev.apply(i, old, new)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("per_site", [False, True])
def test_gains_of_many_moves_agree_with_one_at_a_time(seed, per_site):
    rng = np.random.default_rng(seed)
    n, m = 15, 60
    cover = sp.csr_matrix(rng.random((n, m)) < 0.3)
    weight = rng.integers(0, 100, m).astype(float)  # some classes already without demand
    value = rng.choice([0.5, 1.0, 2.0], m)
    cap = Capacity(per_m2=0.5, per_site=np.where(rng.random(n) < 0.3, 40.0, np.inf)
                   if per_site else None)
    ev = CapacityGain(cover, weight, value, cap)
    area = rng.choice([0.0, 100.0, 200.0], n)
    for i in np.flatnonzero(area).tolist():
        ev.apply(i, 0.0, float(area[i]))
    ev.slack += np.where(area > 0, rng.uniform(0, 30, n), 0.0)
    sites = np.repeat(np.arange(n), 4)
    old = area[sites]
    new = np.tile([0.0, 100.0, 200.0, 500.0], n)
    want = [ev.gain(int(i), float(o), float(a)) for i, o, a in zip(sites, old, new, strict=True)]
    np.testing.assert_allclose(ev.gains(sites, old, new), want, rtol=1e-12, atol=1e-9)
    assert max(want) > 0
    for i in range(n):  # the growing moves of one site at once
        grow = np.array([a for a in (100.0, 200.0, 500.0, 1000.0) if a > area[i]])
        np.testing.assert_allclose(
            ev.site_gains(i, float(area[i]), grow),
            [ev.gain(i, float(area[i]), float(a)) for a in grow], rtol=1e-12, atol=1e-9)
    cg = CoverGain(cover, weight * value)
    area = np.where(np.arange(n) % 4 == seed % 4, 100.0, 0.0)  # a few open: some demand waits
    old = area[sites]
    for i in np.flatnonzero(area).tolist():
        cg.apply(i, 0.0, float(area[i]))
    want = [cg.gain(int(i), float(o), float(a)) for i, o, a in zip(sites, old, new, strict=True)]
    np.testing.assert_allclose(cg.gains(sites, old, new), want, rtol=1e-12, atol=1e-9)
    assert min(want) < 0 < max(want)  # closing loses, opening gains


@pytest.mark.parametrize("seed", range(6))
def test_greedy_is_the_same_with_gains_of_many_moves(seed):
    p = random_problem(seed, n=20, m=80, existing_area_m2=np.r_[150.0, np.zeros(19)],
                       group_area_min_m2=np.array([200.0, 0.0]), count_max=9,
                       area_budget_m2=2_000.0, rent_cap_usd_year=30_000.0)
    p.weight[:] = np.random.default_rng(seed).uniform(1.0, 100.0, 80)  # no equal gains
    t = site_table(p)
    w, v = p.weight, p.value
    for make, per_area in ((lambda: CapacityGain(p.cover, w, v, 0.5), True),
                           (lambda: CoverGain(p.cover, w * v), False)):
        batch = greedy_plan(t, make(), per_area=per_area, seed=seed)
        single = greedy_plan(t, _OneAtATime(make()), per_area=per_area, seed=seed)
        assert batch is not None and single is not None
        assert batch.tolist() == single.tolist()
        assert plan_violations(t, batch) == []


# --- greedy and local search ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_greedy_plan_meets_every_constraint(seed):
    p = random_problem(seed, existing_area_m2=np.r_[150.0, np.zeros(7)],
                       group_area_min_m2=np.array([200.0, 0.0]), rent_cap_usd_year=20_000.0)
    t = site_table(p)
    w, v = p.weight, p.value
    plan = greedy_plan(t, CapacityGain(p.cover, w, v, 0.5))
    assert plan is not None
    assert plan_violations(t, plan) == []
    cover_plan = greedy_plan(t, CoverGain(p.cover, w * v), per_area=False)
    assert cover_plan is not None and plan_violations(t, cover_plan) == []


def test_greedy_returns_none_when_lower_bounds_do_not_fit():
    p = random_problem(0, count_min=5, area_budget_m2=400.0)
    assert greedy_plan(site_table(p), CoverGain(p.cover, p.weight)) is None


@pytest.mark.parametrize("seed", range(4))
def test_capacity_flow_matches_an_lp(seed):
    p = random_problem(seed)
    t = site_table(p)
    plan = greedy_plan(t, CapacityGain(p.cover, p.weight, p.value, 0.5))
    flow = CapacityFlow(p.cover, p.weight, p.value, 0.5, scale=1000.0)
    obj, flows = flow.solve(plan)
    assert obj == pytest.approx(flow_value_lp(p.cover, p.weight, p.value, 0.5 * plan),
                                abs=1e-2)
    assert np.all(np.asarray(flows.sum(axis=1)).ravel() <= 0.5 * plan + 1e-9)
    assert np.all(np.asarray(flows.sum(axis=0)).ravel() <= p.weight + 1e-9)


def test_capacity_flow_solves_each_part_and_remembers_the_others():
    # three separate parts (block diagonal coverage) and a sequence of plans that
    # change one part at a time, come back to an earlier plan, then change all
    rng = np.random.default_rng(7)
    parts = [sp.csr_matrix(rng.random((4, 12)) < 0.4) for _ in range(3)]
    cover = sp.csr_matrix(sp.block_diag(parts))
    weight = rng.integers(1, 60, cover.shape[1]).astype(float)
    value = np.where(rng.random(cover.shape[1]) < 0.5, 0.5, 1.0)
    flow = CapacityFlow(cover, weight, value, 0.5, scale=1000.0)
    first = rng.choice([0.0, 100.0, 200.0], cover.shape[0])
    second = first.copy()
    second[:4] = rng.choice([0.0, 100.0, 200.0], 4)
    third = rng.choice([0.0, 100.0, 200.0], cover.shape[0])
    for plan in (first, second, first, third):
        obj, flows = flow.solve(plan)
        assert obj == pytest.approx(flow_value_lp(cover, weight, value, 0.5 * plan), abs=1e-2)
        assert np.all(np.asarray(flows.sum(axis=1)).ravel() <= 0.5 * plan + 1e-9)
        assert np.all(np.asarray(flows.sum(axis=0)).ravel() <= weight + 1e-9)
        assert set(zip(*flows.nonzero(), strict=True)) <= set(zip(*cover.nonzero(), strict=True))


def test_greedy_order_of_equal_moves_follows_the_seed():
    # every site fills its capacity: all moves gain the same per m²
    p = SitingProblem(weight=np.full(6, 1000.0), cover=sp.csr_matrix(np.eye(6)),
                      tiers_m2=np.array([100.0]), area_budget_m2=300.0, capacity_per_m2=1.0)
    t = site_table(p)

    def plan(seed: int | None) -> np.ndarray:
        out = greedy_plan(t, CapacityGain(p.cover, p.weight, np.ones(6), 1.0), seed=seed)
        assert out is not None and plan_violations(t, out) == []
        return out

    assert plan(None).tolist() == [100.0] * 3 + [0.0] * 3  # by site index
    assert np.array_equal(plan(3), plan(3))
    chosen = {tuple(np.flatnonzero(plan(s))) for s in range(8)}
    assert len(chosen) > 1  # other seeds, other sites


def test_capacity_per_site_and_per_m2():
    cap = Capacity(per_m2=2.0, per_site=np.array([150.0, np.inf]))
    np.testing.assert_allclose(cap.sites(np.array([100.0, 100.0])), [150.0, 200.0])
    np.testing.assert_allclose(cap.site(0, np.array([0.0, 50.0])), [0.0, 100.0])


@pytest.mark.parametrize("seed", range(4))
def test_local_search_keeps_feasibility_and_never_worsens(seed):
    p = random_problem(seed, n=10, m=40)
    t = site_table(p)
    wv = p.weight * p.value
    start = greedy_plan(t, CoverGain(p.cover, wv), grow=False)
    assert start is not None
    before = float(wv[np.asarray(p.cover[start > 0].sum(axis=0)).ravel() > 0].sum())
    better = swap_search(t, start, p.cover, wv)
    after = float(wv[np.asarray(p.cover[better > 0].sum(axis=0)).ravel() > 0].sum())
    assert plan_violations(t, better) == []
    assert after >= before
    flow = CapacityFlow(p.cover, p.weight, p.value, 0.5)
    plan, obj = rebalance_search(t, start, flow)
    assert plan_violations(t, plan) == []
    assert obj >= flow.solve(start)[0] - 1e-9
    assert obj == pytest.approx(flow.solve(plan)[0])


def test_rebalance_moves_idle_area_to_waiting_demand():
    # site 0 (300 m², 3 parcels/day per m²: 900) reaches 100; site 1 reaches 800
    p = SitingProblem(weight=np.array([100.0, 800.0]), cover=sp.csr_matrix(np.eye(2)),
                      tiers_m2=np.array([100.0, 300.0]), area_budget_m2=400.0,
                      capacity_per_m2=3.0)
    t = site_table(p)
    flow = CapacityFlow(p.cover, p.weight, np.ones(2), 3.0)
    plan, obj = rebalance_search(t, np.array([300.0, 100.0]), flow)
    assert plan.tolist() == [100.0, 300.0]
    assert obj == pytest.approx(100.0 + 800.0)


def test_rebalance_restarts_by_closing_the_idlest_sites():
    # site 0 (2000 m², 16,000 parcels/day) carries 9,000 and no smaller size holds them;
    # site 1 fills its 100 m²; site 2 reaches 8,000 but the budget is spent. Closing the
    # least serving site (1) only trades it for as much at site 2; closing site 0, whose
    # capacity idles most, frees room for 1000 m² there and 1000 m² at site 2
    p = SitingProblem(weight=np.array([9_000.0, 800.0, 8_000.0]),
                      cover=sp.csr_matrix(np.eye(3)), tiers_m2=np.array([100.0, 1000.0, 2000.0]),
                      area_budget_m2=2_100.0, capacity_per_m2=8.0)
    t = site_table(p)
    flow = CapacityFlow(p.cover, p.weight, np.ones(3), 8.0)
    start = np.array([2_000.0, 100.0, 0.0])
    plan, obj = rebalance_search(t, start, flow)
    assert plan.tolist() == start.tolist() and obj == pytest.approx(9_800.0)  # stuck
    plan, obj = rebalance_search(t, start, flow, restart=True)
    assert plan.tolist() == [1_000.0, 100.0, 1_000.0]
    assert obj == pytest.approx(8_000.0 + 800.0 + 8_000.0)
    assert plan_violations(t, plan) == []


def test_rebalance_moves_a_site_when_the_minimum_count_binds():
    # two sites must open (count 2..3) and the budget holds two: site 1 serves 50,
    # site 2 would serve 900; only closing site 1 below the minimum count, then
    # opening site 2 to meet it again, finds the better plan
    p = SitingProblem(weight=np.array([900.0, 50.0, 900.0]), cover=sp.csr_matrix(np.eye(3)),
                      tiers_m2=np.array([100.0]), area_budget_m2=200.0, count_min=2,
                      count_max=3, capacity_per_m2=10.0)
    t = site_table(p)
    flow = CapacityFlow(p.cover, p.weight, np.ones(3), 10.0)
    plan, obj = rebalance_search(t, np.array([100.0, 100.0, 0.0]), flow)
    assert plan.tolist() == [100.0, 0.0, 100.0]
    assert obj == pytest.approx(1800.0)
    assert plan_violations(t, plan) == []


def test_round_down_respects_upper_limits():
    p = random_problem(3, rent_cap_usd_year=3_000.0)
    t = site_table(p)
    plan = round_down(t, np.full(p.n_sites, 260.0))
    assert set(plan.tolist()) <= {0.0, 100.0, 200.0}
    assert 200.0 in plan.tolist()
    assert plan.sum() <= 900.0 and (plan > 0).sum() <= 5
    assert plan @ p.rent_usd_m2_year <= 3_000.0


def test_site_rows_are_named():
    p = random_problem(0, rent_cap_usd_year=5_000.0, group_area_max_m2=np.array([800.0, 900.0]),
                       existing_area_m2=np.r_[100.0, np.zeros(7)])
    names = set(site_rows(site_table(p)).names.tolist())
    assert {"site options", "keep existing sites", "count_min", "count_max", "area budget",
            "rent cap", "AA count_min", "BB count_min", "AA area_max",
            "BB area_max"} == names
