"""The minimum-area objective: least floor area (or fewest sites) for a service target."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzlogistics._errors import ValidationError
from hzlogistics.models.min_area import solve_min_area
from hzlogistics.solvers.problem import SitingProblem
from tests.models.test_cost import EXACT, all_plans, cases, check_plan, most_served


def brute_min_area(p: SitingProblem, share: float, minimize: str) -> float | None:
    best = None
    need = share * p.weight.sum()
    for area in all_plans(p):
        if most_served(p, area) < need - 1e-9:
            continue
        v = float(area.sum()) if minimize == "area" else float((area > 0).sum())
        best = v if best is None else min(best, v)
    return best


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(max_sites=3, max_demand=4), share=st.sampled_from([0.3, 0.6, 0.9, 1.0]),
       minimize=st.sampled_from(["area", "count"]))
def test_min_area_equals_brute_force(p: SitingProblem, share: float, minimize: str) -> None:
    expected = brute_min_area(p, share, minimize)
    r = solve_min_area(p, EXACT, required_share=share, minimize=minimize)  # type: ignore[arg-type]
    if expected is None:
        assert r.status == "infeasible" and r.reasons
        return
    assert r.status == "optimal", (r.status, r.reasons, r.info)
    check_plan(p, r, full=False, share=share)
    assert r.objective == pytest.approx(expected)
    assert r.bound <= expected + 1e-9
    got = r.area_m2.sum() if minimize == "area" else (r.area_m2 > 0).sum()
    assert got == pytest.approx(r.objective)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(capacitated=True, max_sites=3, max_demand=4),
       share=st.sampled_from([0.5, 0.8, 1.0]))
def test_capacitated_min_area_equals_brute_force(p: SitingProblem, share: float) -> None:
    expected = brute_min_area(p, share, "area")
    r = solve_min_area(p, EXACT, required_share=share)
    if expected is None:
        assert r.status == "infeasible" and r.reasons
        return
    assert r.status == "optimal", (r.status, r.reasons, r.info)
    check_plan(p, r, full=False, share=share)
    assert r.objective == pytest.approx(expected)


def _two_towns(**kw: object) -> SitingProblem:
    base = dict(weight=np.array([10.0, 10.0]), cover=sp.csr_matrix(np.ones((2, 2))),
                tiers_m2=np.array([100.0, 300.0]), capacity_per_m2=0.1, area_budget_m2=None)
    base.update(kw)
    return SitingProblem(**base)  # type: ignore[arg-type]


def test_area_and_count_differ() -> None:
    # 20 parcels/day at 0.1 per m²: two 100 m² sites (200 m²) or one 300 m² site
    r = solve_min_area(_two_towns(), EXACT, required_share=1.0)
    assert r.objective == 200.0 and r.area_m2.tolist() == [100.0, 100.0]
    r = solve_min_area(_two_towns(), EXACT, required_share=1.0, minimize="count")
    assert r.objective == 1.0 and sorted(r.area_m2.tolist()) == [0.0, 300.0]
    # half the demand: one 100 m² site
    r = solve_min_area(_two_towns(), EXACT, required_share=0.5)
    assert r.objective == 100.0 and r.served.sum() == pytest.approx(10.0)


def test_unreachable_share_explained() -> None:
    p = SitingProblem(weight=np.array([912.0, 88.0]), cover=sp.csr_matrix(np.array([[1, 0]])),
                      tiers_m2=np.array([100.0]), area_budget_m2=None)
    r = solve_min_area(p, EXACT, required_share=0.95)
    assert r.status == "infeasible"
    assert r.reasons == ["required share 95.0% but only 91.2% of demand is reachable by any "
                         "site that may be opened"]
    assert solve_min_area(p, EXACT, required_share=0.9).objective == 100.0


def test_capacity_shortage_explained() -> None:
    p = _two_towns(count_max=1)  # one site of at most 300 m²: 30 parcels/day
    r = solve_min_area(p, EXACT, required_share=1.0)
    assert r.status == "optimal"  # 30 >= 20
    q = _two_towns(count_max=1, capacity_per_m2=0.05)  # 15 < 20
    r = solve_min_area(q, EXACT, required_share=1.0)
    assert r.status == "infeasible"
    assert any("total site capacity 15 parcels/day < 20 needed" in s for s in r.reasons)


def test_min_area_rejects_bad_options() -> None:
    with pytest.raises(ValidationError, match="required_share"):
        solve_min_area(_two_towns(), EXACT, required_share=1.5)
    with pytest.raises(ValidationError, match="minimize"):
        solve_min_area(_two_towns(), EXACT, minimize="rent")  # type: ignore[arg-type]
