"""The median objective: least demand-weighted travel time, every demand point served."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hzlogistics._errors import ValidationError
from hzlogistics.models.median import solve_median
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from tests.models.test_cost import EXACT, brute_cost, cases, check_plan, pair_cost


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(max_sites=3, max_demand=4))
def test_median_equals_brute_force(p: SitingProblem) -> None:
    c = pair_cost(p, 1.0)
    expected = brute_cost(p, c, site_cost=False)
    r = solve_median(p, EXACT)
    if expected is None:
        assert r.status == "infeasible" and r.reasons
        return
    assert r.status == "optimal", (r.status, r.reasons, r.info)
    served = check_plan(p, r, full=True)
    assert r.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert r.bound <= expected + 1e-6 * max(1.0, expected)
    # the objective is parcels/day x hours of the plan's own assignment
    hours = p.travel_time_h.toarray()
    assert float((served * hours).sum()) == pytest.approx(r.objective, rel=1e-6, abs=1e-6)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(capacitated=True, max_sites=3, max_demand=4))
def test_capacitated_median_equals_brute_force(p: SitingProblem) -> None:
    expected = brute_cost(p, pair_cost(p, 1.0), site_cost=False)
    r = solve_median(p, EXACT)
    if expected is None:
        assert r.status == "infeasible" and r.reasons
        return
    assert r.status == "optimal", (r.status, r.reasons, r.info)
    check_plan(p, r, full=True)
    assert r.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)


@st.composite
def pmedian(draw: st.DrawFn) -> tuple[np.ndarray, int, np.ndarray]:
    """Random p-median data: distances (inf where a site does not reach), p, weights."""
    n = draw(st.integers(2, 13))
    m = draw(st.integers(2, 30))
    d = np.array(draw(st.lists(st.integers(0, 50), min_size=n * m, max_size=n * m)),
                 dtype=float).reshape(n, m)
    far = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))).reshape(n, m)
    far &= draw(st.booleans())
    d[far] = np.inf
    d[np.argmin(d, axis=0), np.arange(m)] = np.minimum(d.min(axis=0), 50)  # one site reaches
    p = draw(st.integers(1, min(4, n)))
    w = np.array(draw(st.lists(st.integers(1, 5), min_size=m, max_size=m)), dtype=float)
    return d, p, w


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=pmedian(), budget=st.booleans())
def test_pmedian_equals_enumeration(data: tuple[np.ndarray, int, np.ndarray],
                                    budget: bool) -> None:
    """Bigger than the brute force above: the heuristic, Lagrangian fixing, the branch and
    bound, and (with an area budget that never binds, which rules the branch and bound out)
    the MIP with cut cost levels."""
    d, k, w = data
    n, m = d.shape
    cost = d * w[None, :]
    best = min((cost[list(s)].min(axis=0).sum() for s in itertools.combinations(range(n), k)
                if np.isfinite(cost[list(s)].min(axis=0)).all()), default=None)
    reach = np.isfinite(d)
    p = SitingProblem(weight=w, cover=sp.csr_matrix(reach),
                      travel_time_h=sp.csr_matrix(np.where(reach, d, 0.0)),
                      tiers_m2=np.array([100.0]), area_budget_m2=100.0 * n if budget else None,
                      count_min=k, count_max=k)
    r = solve_median(p, EXACT)
    if best is None:
        assert r.status == "infeasible"
        return
    assert r.status == "optimal", (r.reasons, r.info)
    event("branch and bound" if r.info.get("search_nodes") else
          "MIP" if "mip_status" in r.info else "Lagrangian bound")
    assert r.objective == best and r.bound == best
    assert int(r.open.sum()) == k
    assert cost[r.open].min(axis=0).sum() == best


def test_median_by_hand() -> None:
    # sites A, B, C on a line at 0, 4 and 9 h of three towns at 0, 4, 9; weights 5, 1, 1
    t = np.abs(np.subtract.outer([0.0, 4.0, 9.0], [0.0, 4.0, 9.0]))
    p = SitingProblem(weight=np.array([5.0, 1.0, 1.0]), cover=sp.csr_matrix(np.ones((3, 3))),
                      travel_time_h=sp.csr_matrix(t), tiers_m2=np.array([100.0]),
                      count_min=1, count_max=1, area_budget_m2=None)
    r = solve_median(p, EXACT)
    assert r.objective == 13.0 and r.open.tolist() == [True, False, False]  # 4 + 9
    # two sites: A and C (4 from the middle town) beat A and B (5 from the last)
    p.count_min = p.count_max = 2
    r = solve_median(p, EXACT)
    assert r.objective == 4.0 and r.open.tolist() == [True, False, True]
    # an existing site at B must stay open: A and B, the last town 5 h from B
    p.existing_area_m2 = np.array([0.0, 100.0, 0.0])
    r = solve_median(p, EXACT)
    assert r.objective == 5.0 and r.open.tolist() == [True, True, False]


def test_median_uses_assign_cost_when_given() -> None:
    t = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 1.0]]))
    cost = sp.csr_matrix(np.array([[0.0, 7.0], [3.0, 2.0]]))
    p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.ones((2, 2))), travel_time_h=t,
                      assign_cost=cost, tiers_m2=np.array([100.0]), count_min=1, count_max=1,
                      area_budget_m2=None)
    r = solve_median(p, EXACT)
    assert r.objective == 5.0 and r.open.tolist() == [False, True]


def test_median_warm_start_and_seed() -> None:
    rng = np.random.default_rng(11)
    n, m = 25, 60
    d = rng.integers(1, 60, (n, m)).astype(float)
    p = SitingProblem(weight=rng.integers(1, 5, m).astype(float),
                      cover=sp.csr_matrix(np.ones((n, m))), travel_time_h=sp.csr_matrix(d),
                      tiers_m2=np.array([100.0]), count_min=3, count_max=3,
                      area_budget_m2=None)
    a = solve_median(p, SolveOptions(time_limit_s=60, gap=0, seed=1))
    hint = np.where(np.arange(n) < 3, 100.0, 0.0)  # a poor plan as the warm start
    b = solve_median(p, SolveOptions(time_limit_s=60, gap=0, seed=1, hint=hint))
    c = solve_median(p, SolveOptions(time_limit_s=60, gap=0, seed=1))
    assert a.status == b.status == "optimal"
    assert a.objective == b.objective
    assert np.array_equal(a.area_m2, c.area_m2) and a.objective == c.objective


def test_median_infeasible_reasons() -> None:
    p = SitingProblem(weight=np.array([3.0, 2.0]), cover=sp.csr_matrix(np.array([[1, 0]])),
                      travel_time_h=sp.csr_matrix(np.array([[1.0, 0.0]])),
                      tiers_m2=np.array([100.0]), area_budget_m2=None)
    r = solve_median(p, EXACT)
    assert r.status == "infeasible" and np.isnan(r.objective)
    assert r.reasons == ["1 demand points (2 parcels/day, e.g. 1) are reached by no site that "
                         "may be opened, but every demand point must be served"]
    q = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.ones((2, 2))),
                      travel_time_h=sp.csr_matrix(np.ones((2, 2))), tiers_m2=np.array([100.0]),
                      count_min=2, forbidden=np.array([True, False]), area_budget_m2=None)
    r = solve_median(q, EXACT)
    assert r.status == "infeasible"
    assert any("count_min 2" in s and "1" in s for s in r.reasons), r.reasons


def test_median_needs_times_or_costs() -> None:
    p = SitingProblem(weight=np.ones(1), cover=sp.csr_matrix(np.ones((1, 1))))
    with pytest.raises(ValidationError, match="median objective needs"):
        solve_median(p, EXACT)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=pmedian())
def test_branch_and_bound_from_a_poor_plan(data: tuple[np.ndarray, int, np.ndarray]) -> None:
    """The Lagrangian branch and bound alone, started from the worst plan, finds the optimum."""
    from hzlogistics.models.location.uncapacitated import branch_and_bound

    d, k, w = data
    n, m = d.shape
    cost = d * w[None, :]
    plans = [(cost[list(s)].min(axis=0).sum(), s) for s in itertools.combinations(range(n), k)]
    plans = [(v, s) for v, s in plans if np.isfinite(v)]
    if not plans:
        return
    best = min(v for v, _ in plans)
    worst, worst_set = max(plans, key=lambda x: x[0])
    start = np.zeros(n, dtype=bool)
    start[list(worst_set)] = True
    lam = np.where(np.isfinite(cost), cost, np.inf).min(axis=0)
    out = branch_and_bound(cost, np.zeros(n), forced=np.zeros(n, dtype=bool), kmin=k, kmax=k,
                           upper=float(worst), upper_open=start, lam=lam,
                           threshold_of=lambda u: u - 0.5, deadline=float("inf"), stop=None)
    assert out.proven
    assert out.value == best
    assert cost[out.open_].min(axis=0).sum() == best


def test_components_leave_out_unreached_demand_of_weight_zero(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A weight-0 point no site reaches forms no component and does not bend the bound."""
    import hzlogistics.models.location.engine as engine

    rng = np.random.default_rng(1)
    reach = np.zeros((6, 11), dtype=bool)
    reach[:3, :5] = True
    reach[3:, 5:10] = True
    hours = np.where(reach, rng.uniform(1.0, 10.0, reach.shape), 0.0)
    weight = np.ones(11)
    weight[10] = 0.0
    p = SitingProblem(weight=weight, cover=sp.csr_matrix(reach),
                      travel_time_h=sp.csr_matrix(hours), tiers_m2=np.array([100.0]),
                      max_area_m2=np.full(6, 100.0), count_min=2, count_max=2)
    whole = solve_median(p, EXACT)
    monkeypatch.setattr(engine, "DENSE_LIMIT", 20)  # the split applies, each part is dense
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        parts = solve_median(p, EXACT)
    assert parts.info.get("components") == 2
    assert parts.status == whole.status == "optimal"
    assert parts.objective == pytest.approx(whole.objective, rel=1e-9)
    assert parts.bound <= whole.objective + 1e-9
    assert parts.served[:, 10].sum() == 0
