"""Problems whose components no constraint ties: found, and solved one component at a time."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzlogistics.models import solve
from hzlogistics.models.location.pairs import cover_pairs
from hzlogistics.models.location.parts import independent_parts, part_problem
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.sites import site_table
from tests.models.test_rule import capacitated_instance, check_rule

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from textbook import solve_textbook


def islands(seed: int, blocks: int) -> SitingProblem:
    """``blocks`` capacitated instances side by side, each its own group; no pair links two."""
    parts = [capacitated_instance(seed * 7 + b) for b in range(blocks)]
    group = np.concatenate([np.full(p.n_sites, b) for b, p in enumerate(parts)])
    d_group = np.concatenate([np.full(p.n_demand, b) for b, p in enumerate(parts)])
    tiers = np.unique(np.concatenate([p.tiers_m2 for p in parts]))

    def cat(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name) for p in parts])

    return SitingProblem(
        weight=cat("weight"), cover=sp.csr_matrix(sp.block_diag([p.cover for p in parts])),
        travel_time_h=sp.csr_matrix(sp.block_diag([p.travel_time_h for p in parts])),
        tiers_m2=tiers, area_budget_m2=None, capacity_per_m2=8.0,
        rent_usd_m2_year=cat("rent_usd_m2_year"), fixed_cost_usd_year=cat("fixed_cost_usd_year"),
        group=group, demand_group=d_group, group_names=tuple(f"G{b}" for b in range(blocks)),
        group_count_min=np.full(blocks, 2.0))


def _parts_of(problem: SitingProblem):  # type: ignore[no-untyped-def]
    rows, cols = cover_pairs(problem.cover)
    return independent_parts(site_table(problem), rows, cols, problem.n_demand)


RULE = settings(max_examples=6, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@RULE
@given(st.integers(0, 10_000), st.integers(2, 3))
def test_islands_cost_reach_the_optimum(seed: int, blocks: int) -> None:
    problem = islands(seed, blocks)
    assert _parts_of(problem) is not None
    check_rule(problem, "cost")


@RULE
@given(st.integers(0, 10_000))
def test_islands_median_reach_the_optimum(seed: int) -> None:
    problem = dataclasses.replace(islands(seed, 2), rent_usd_m2_year=None,
                                  fixed_cost_usd_year=None)
    check_rule(problem, "median")


def test_the_solve_goes_by_components_and_adds_them_up() -> None:
    problem = islands(3, 3)
    result = solve(problem, "cost", SolveOptions(time_limit_s=30, gap=0.0, seed=0))
    assert result.info["components"] == 3
    assert result.status == "optimal"
    total = 0.0
    parts = _parts_of(problem)
    assert parts is not None
    for k in range(parts.count):
        sites = np.flatnonzero(parts.site == k)
        demand = np.flatnonzero(parts.demand == k)
        rows, cols = cover_pairs(problem.cover)
        pick = np.isin(rows, sites) & np.isin(cols, demand)
        alone = part_problem(problem, site_table(problem), sites, demand, rows[pick], cols[pick])
        exact = solve_textbook(alone, "cost", solver="highs", time_limit_s=60, gap=0.0)
        assert exact.status == "optimal"
        total += exact.objective
    assert result.objective == pytest.approx(total, rel=1e-6)
    # every demand point is served in full, by sites of its own component
    served = np.asarray(result.served.sum(axis=0)).ravel()
    assert np.allclose(served, problem.weight)
    s = result.served.tocoo()
    assert np.all(parts.site[s.row] == parts.demand[s.col])


@pytest.mark.parametrize("change", [
    {"count_max": 3},                      # the count may bind
    {"count_min": 5},
    {"area_budget_m2": 2_000.0},           # so may the area budget
    {"rent_cap_usd_year": 1e5},            # and the rent cap
])
def test_constraints_that_tie_the_components_keep_the_problem_whole(change: dict) -> None:
    problem = dataclasses.replace(islands(1, 2), **change)
    assert _parts_of(problem) is None


def test_a_group_quota_across_components_keeps_the_problem_whole() -> None:
    problem = islands(1, 2)
    one_group = dataclasses.replace(problem, group=np.zeros(problem.n_sites, dtype=np.int64),
                                    demand_group=np.zeros(problem.n_demand, dtype=np.int64),
                                    group_names=("G0",), group_count_min=np.array([3.0]))
    assert _parts_of(one_group) is None
    # without a quota, one group over both components does not tie them
    free = dataclasses.replace(one_group, group_count_min=None)
    parts = _parts_of(free)
    assert parts is not None and parts.count == 2


def test_a_stopped_or_short_solve_still_has_a_plan_for_every_component() -> None:
    import threading

    problem = islands(5, 3)
    stop = threading.Event()
    stop.set()
    stopped = solve(problem, "cost", SolveOptions(time_limit_s=30, stop=stop))
    short = solve(problem, "cost", SolveOptions(time_limit_s=0.01))
    assert stopped.status == "interrupted"
    for result in (stopped, short):
        assert result.has_solution
        served = np.asarray(result.served.sum(axis=0)).ravel()
        assert np.allclose(served, problem.weight)
        assert result.bound <= result.objective
