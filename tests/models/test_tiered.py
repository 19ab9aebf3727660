"""The Lagrangian bound with size options and the transportation-LP plans of large
capacitated problems, against the brute-force optimum of tiny random instances."""

from __future__ import annotations

import math
import time

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hzlogistics.models.location.capacitated import site_options, transport_start
from hzlogistics.models.location.pairs import cover_pairs, pair_costs
from hzlogistics.models.location.state import LocationSpec, new_tracker
from hzlogistics.solvers.lagrange import cheapest_pairs
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.sites import site_table
from hzlogistics.solvers.tiered import tiered_lagrangian
from tests.models.test_cost import brute_cost, capacity_of, cases, pair_cost, site_violations

RATE = 0.5


def _spec(p: SitingProblem, rows: np.ndarray, cols: np.ndarray) -> LocationSpec:
    rent = np.asarray(p.rent_usd_m2_year, dtype=float)
    fixed = np.asarray(p.fixed_cost_usd_year, dtype=float)
    return LocationSpec(name="cost", pair_cost=pair_costs(p, rows, cols, per_parcel_h=RATE,
                                                          what="cost"),
                        open_cost=fixed, area_cost=rent)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(capacitated=True, max_sites=3, max_demand=4), keep=st.integers(1, 3))
def test_tiered_bound_never_exceeds_the_optimum(p: SitingProblem, keep: int) -> None:
    expected = brute_cost(p, pair_cost(p, RATE), site_cost=True)
    assume(expected is not None)
    table = site_table(p)
    rows, cols = cover_pairs(p.cover)
    spec = _spec(p, rows, cols)
    can = table.can_open
    ok = can[rows]
    assert spec.pair_cost is not None
    # only the ``keep`` cheapest pairs of each point: the bound still holds for all of them
    pairs = cheapest_pairs(rows[ok], cols[ok], spec.pair_cost[ok], n_sites=p.n_sites,
                           n_demand=p.n_demand, keep=keep)
    dual = tiered_lagrangian(pairs, p.weight, site_options(p, table, spec), can=can,
                             forced=table.forced & can, kmin=table.count_min,
                             kmax=table.count_max, upper=float(expected) + 1.0,
                             deadline=math.inf, max_iter=300)
    assert dual.bound <= expected + 1e-6 * max(1.0, abs(expected))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(capacitated=True, max_sites=3, max_demand=4))
def test_transport_start_plan_is_feasible_and_brackets_the_optimum(p: SitingProblem) -> None:
    expected = brute_cost(p, pair_cost(p, RATE), site_cost=True)
    assume(expected is not None)
    table = site_table(p)
    rows, cols = cover_pairs(p.cover)
    spec = _spec(p, rows, cols)
    assert spec.pair_cost is not None
    info: dict[str, object] = {}
    now = time.perf_counter()
    plan, bound = transport_start(
        p, table, rows, cols, spec.pair_cost, spec=spec, incumbent=None,
        plans_until=now + 10.0, bound_until=now + 10.0, heuristic_until=now + 10.0,
        log=new_tracker(SolveOptions(), now), stop=None, info=info)
    tol = 1e-6 * max(1.0, abs(expected))
    assert bound <= expected + tol
    if plan is None:
        return
    assert site_violations(p, plan.area) == []
    served = plan.served.toarray()
    assert np.allclose(served.sum(axis=0), p.weight, atol=1e-6)
    assert np.all(served[~p.cover.toarray().astype(bool)] <= 1e-9)
    assert np.all(served.sum(axis=1) <= capacity_of(p, plan.area) * (1 + 1e-6) + 1e-6)
    # the plan's value is what it costs, and no plan costs less than the optimum
    c = np.nan_to_num(pair_cost(p, RATE))
    value = float((c * served / p.weight[None, :]).sum() + p.fixed_cost_usd_year @ (plan.area > 0)
                  + p.rent_usd_m2_year @ plan.area)
    assert plan.objective == np.float64(value) or abs(plan.objective - value) <= tol
    assert plan.objective >= expected - tol
