"""The rule, on small random instances of each benchmark family.

For every family of ``benchmarks/families.py`` (in miniature), plain HiGHS
proves the optimum of the textbook model (``benchmarks/textbook.py``); the
package's :func:`hzlogistics.models.solve` must then

- reach that optimum within its gap target,
- report a bound that is valid (never below the optimum of a maximization,
  never above that of a minimization),
- return a plan whose value it does not overstate: the textbook model with the
  sites fixed to the plan's areas is feasible and at least as good as the
  reported objective.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzlogistics.models import solve
from hzlogistics.solvers.problem import SitingProblem, SolveOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from textbook import solve_textbook

GAP = 1e-3
#: Floating-point slack of the comparisons (relative).
EPS = 1e-6

RULE = settings(max_examples=4, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def _neighbours(rng: np.random.Generator, n_sites: int, n_demand: int, per_point: float,
                n_groups: int = 1) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Sites covering the demand points near them on a line, inside each group."""
    site_x = rng.uniform(0, 1, n_sites)
    demand_x = rng.uniform(0, 1, n_demand)
    group = rng.integers(0, n_groups, n_sites)
    group[:n_groups] = np.arange(n_groups)
    dgroup = rng.integers(0, n_groups, n_demand)
    radius = per_point / (2.0 * n_sites) * n_groups
    near = np.abs(site_x[:, None] - demand_x[None, :]) <= radius
    near &= group[:, None] == dgroup[None, :]
    return sp.csr_matrix(near), group, dgroup


def _backbone_cover(rng: np.random.Generator, n_sites: int, n_demand: int, p: int,
                    density: float) -> sp.csr_matrix:
    """Random coverage in which ``p`` sites together reach every demand point."""
    cover = rng.random((n_sites, n_demand)) < density
    backbone = rng.choice(n_sites, size=p, replace=False)
    cover[backbone[rng.integers(0, p, n_demand)], np.arange(n_demand)] = True
    return sp.csr_matrix(cover)


def dense_instance(seed: int) -> SitingProblem:
    """Family 1 in miniature: count-only maximal covering."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 26)), int(rng.integers(30, 151))
    cover, _, _ = _neighbours(rng, n, m, float(rng.uniform(2, 6)))
    p = int(rng.integers(1, max(2, n // 3) + 1))
    return SitingProblem(weight=np.round(rng.lognormal(3, 1, m), 1) + 0.1, cover=cover,
                         tiers_m2=np.array([100.0]), area_budget_m2=None,
                         count_min=p, count_max=p)


def sparse_instance(seed: int) -> SitingProblem:
    """Family 2 in miniature: count only, countries with a site each, existing sites."""
    rng = np.random.default_rng(seed)
    n_groups = int(rng.integers(2, 5))
    n, m = int(rng.integers(10, 31)), int(rng.integers(40, 201))
    cover, group, dgroup = _neighbours(rng, n, m, float(rng.uniform(1, 3)), n_groups)
    existing = np.zeros(n)
    existing[rng.choice(n, size=int(rng.integers(0, 3)), replace=False)] = 100.0
    lo = int(rng.integers(n_groups, n_groups + 4))
    return SitingProblem(weight=np.round(rng.lognormal(3, 1, m), 1) + 0.1, cover=cover,
                         tiers_m2=np.array([100.0]), area_budget_m2=None,
                         existing_area_m2=existing, group=group, demand_group=dgroup,
                         group_names=tuple(f"G{g}" for g in range(n_groups)),
                         group_count_min=np.ones(n_groups), count_min=lo,
                         count_max=lo + int(rng.integers(0, 4)))


def default_like_instance(seed: int) -> SitingProblem:
    """Family 3 in miniature: size tiers, capacity, area budget, quotas, existing sites."""
    rng = np.random.default_rng(seed)
    n_groups = int(rng.integers(1, 4))
    n, m = int(rng.integers(8, 21)), int(rng.integers(30, 121))
    cover, group, dgroup = _neighbours(rng, n, m, float(rng.uniform(2, 5)), n_groups)
    tiers = np.array([100.0, 150.0, 200.0, 300.0, 500.0])
    weight = np.round(rng.lognormal(4, 1, m), 1) + 0.1
    existing = np.zeros(n)
    two = rng.choice(n, size=2, replace=False)
    existing[two[0]] = 120.0
    forbidden = np.zeros(n, bool)
    forbidden[two[1]] = True
    max_area = np.where(rng.random(n) < 0.3, 200.0, np.inf)
    budget = float(rng.uniform(0.15, 0.5)) * weight.sum() / 8.0
    budget = max(budget, 120.0 + 100.0 * n_groups)
    return SitingProblem(weight=weight, cover=cover, tiers_m2=tiers, area_budget_m2=budget,
                         capacity_per_m2=8.0, existing_area_m2=existing, forbidden=forbidden,
                         max_area_m2=max_area, group=group, demand_group=dgroup,
                         group_names=tuple(f"G{g}" for g in range(n_groups)),
                         group_count_min=np.ones(n_groups), count_min=0,
                         count_max=int(rng.integers(n_groups + 1, n + 1)))


def capacitated_instance(seed: int) -> SitingProblem:
    """Family 4 in miniature: capacity 8 parcels/day per m², rent, fixed costs, travel times."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(6, 16)), int(rng.integers(20, 81))
    cover = _backbone_cover(rng, n, m, max(2, n // 3), float(rng.uniform(0.2, 0.6)))
    weight = np.round(rng.lognormal(4, 0.8, m), 1) + 0.1
    # the backbone alone can serve everything at the largest tier
    tiers = np.array([100.0, 200.0, 500.0, 1000.0, float(np.ceil(weight.sum() / 8.0))])
    tt = sp.csr_matrix(cover.multiply(rng.uniform(0.2, 8.0, (n, m))))
    return SitingProblem(weight=weight, cover=cover, travel_time_h=tt, tiers_m2=tiers,
                         area_budget_m2=None, capacity_per_m2=8.0,
                         rent_usd_m2_year=rng.uniform(50, 200, n),
                         fixed_cost_usd_year=rng.uniform(1e4, 1e5, n))


def pmedian_instance(seed: int) -> SitingProblem:
    """Family 5 in miniature: p-median on given (road-like) travel times."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(8, 21)), int(rng.integers(20, 101))
    p = int(rng.integers(2, max(3, n // 3) + 1))
    sites, points = rng.uniform(0, 100, (n, 2)), rng.uniform(0, 100, (m, 2))
    km = np.hypot(*(sites[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    cover = _backbone_cover(rng, n, m, p, 0.0).toarray() | (km <= rng.uniform(30, 80))
    hours = np.round(km * rng.uniform(1.2, 1.5, (n, m)) / 60.0, 4) + 0.01
    return SitingProblem(weight=np.round(rng.lognormal(3, 0.8, m), 1) + 0.1,
                         cover=sp.csr_matrix(cover),
                         travel_time_h=sp.csr_matrix(np.where(cover, hours, 0.0)),
                         tiers_m2=np.array([100.0]), area_budget_m2=None,
                         count_min=p, count_max=p)


def _fixed(problem: SitingProblem, area: np.ndarray) -> SitingProblem:
    """``problem`` with every site fixed to ``area`` (0 = closed)."""
    open_ = np.asarray(area) > 0
    return dataclasses.replace(problem, forbidden=~open_,
                               existing_area_m2=np.where(open_, area, 0.0),
                               max_area_m2=np.where(open_, area, np.inf))


def check_rule(problem: SitingProblem, objective: str) -> None:
    """Ours reaches the proven optimum within the gap, with a valid bound and an honest value."""
    exact = solve_textbook(problem, objective, solver="highs", time_limit_s=60, gap=0.0)
    assert exact.status == "optimal", exact
    best = exact.objective
    ours = solve(problem, objective, SolveOptions(time_limit_s=30, gap=GAP, seed=0, workers=1))
    assert ours.status == "optimal", (ours.status, ours.objective, ours.bound, best)
    slack = EPS * max(1.0, abs(best))
    if objective == "coverage":
        assert ours.objective >= best * (1 - GAP) - slack, (ours.objective, best)
        assert ours.bound >= best - slack, ("bound below the optimum", ours.bound, best)
    else:
        assert ours.objective <= best * (1 + GAP) + slack, (ours.objective, best)
        assert ours.bound <= best + slack, ("bound above the optimum", ours.bound, best)
    # the plan is feasible and worth at least what ours reports
    again = solve_textbook(_fixed(problem, ours.area_m2), objective, solver="highs",
                           time_limit_s=60, gap=0.0)
    assert again.status == "optimal", ("the plan breaks a constraint", again.status)
    if objective == "coverage":
        assert again.objective >= ours.objective - slack, (again.objective, ours.objective)
    else:
        assert again.objective <= ours.objective + slack, (again.objective, ours.objective)


@RULE
@given(seeds)
def test_dense_coverage(seed: int) -> None:
    check_rule(dense_instance(seed), "coverage")


@RULE
@given(seeds)
def test_sparse_count_only_with_quotas(seed: int) -> None:
    check_rule(sparse_instance(seed), "coverage")


@RULE
@given(seeds)
def test_default_like_coverage(seed: int) -> None:
    check_rule(default_like_instance(seed), "coverage")


@RULE
@given(seeds)
def test_capacitated_cost(seed: int) -> None:
    check_rule(capacitated_instance(seed), "cost")


@RULE
@given(seeds)
def test_capacitated_median(seed: int) -> None:
    check_rule(dataclasses.replace(capacitated_instance(seed), rent_usd_m2_year=None,
                                   fixed_cost_usd_year=None), "median")


@RULE
@given(seeds)
def test_pmedian_travel_times(seed: int) -> None:
    check_rule(pmedian_instance(seed), "median")


def test_textbook_agrees_with_a_hand_optimum() -> None:
    # three towns, two sites, one site: the first covers 5 + 3, the second 3 + 2
    p = SitingProblem(weight=np.array([5.0, 3.0, 2.0]),
                      cover=sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]])),
                      tiers_m2=np.array([100.0]), area_budget_m2=None, count_min=1, count_max=1)
    for solver in ("highs", "cpsat"):
        r = solve_textbook(p, "coverage", solver=solver, time_limit_s=10, gap=0.0, workers=1)
        assert r.area_m2 is not None
        assert (r.status, r.objective, r.area_m2.tolist()) == ("optimal", 8.0, [100.0, 0.0])
