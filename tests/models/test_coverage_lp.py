"""Tests of the coverage model's LP relaxations and its solver-free bound."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from hzlogistics.models.coverage_lp import (
    aggregate_lp,
    coverage_lp,
    coverage_parts,
    trivial_bound,
    value_levels,
)
from hzlogistics.solvers.capacity import CapacityFlow
from hzlogistics.solvers.heuristic import CapacityGain, greedy_plan
from hzlogistics.solvers.local_search import rebalance_search
from hzlogistics.solvers.lp import lp_bound
from hzlogistics.solvers.sites import site_table
from tests.solvers.test_heuristic import random_problem


@pytest.mark.parametrize("seed", range(4))
def test_lp_bounds_sandwich_the_best_plan(seed):
    p = random_problem(seed, n=6, m=20)
    t = site_table(p)
    flow = CapacityFlow(p.cover, p.weight, p.value, 0.5)
    plan = greedy_plan(t, CapacityGain(p.cover, p.weight, p.value, 0.5))
    plan, obj = rebalance_search(t, plan, flow)
    full = lp_bound(coverage_lp(t, p.cover, p.weight, p.value, capacity=0.5).lp)
    agg = lp_bound(aggregate_lp(t, p.cover, p.weight, p.value, 0.5).lp)
    triv = trivial_bound(p.cover, p.weight, p.value, table=t, capacity=0.5)
    assert full.status == "optimal" and agg.status == "optimal"
    assert obj <= full.bound + 1e-6
    assert full.bound <= agg.bound + 1e-6
    assert agg.bound <= triv + 1e-6


def test_uncapacitated_lp_bounds_the_plan_and_prices_the_budget():
    p = random_problem(1, capacity=None)
    t = site_table(p)
    clp = coverage_lp(t, p.cover, p.weight, p.value)
    res = lp_bound(clp.lp)
    assert res.status == "optimal"
    assert res.bound <= trivial_bound(p.cover, p.weight, p.value) + 1e-6
    area = clp.site_area(res.x, t.n_sites)
    assert area.sum() <= t.area_budget_m2 + 1e-6
    price = clp.move_price(t, res.duals)
    assert price.area.shape == (t.n_sites,) and np.all(price.area >= 0)


def test_value_levels_round_up_and_parts_split_the_graph():
    levels, lev = value_levels(np.array([0.11, 0.12, 0.5, 0.91, 1.0]), 2)
    assert levels.tolist() == [0.5, 1.0] and lev.tolist() == [0, 0, 0, 1, 1]
    site_q, class_q, n_parts = coverage_parts(sp.csr_matrix([[1, 1, 0], [0, 0, 1]]))
    assert n_parts == 2 and site_q.tolist() == [0, 1] and class_q.tolist() == [0, 0, 1]
