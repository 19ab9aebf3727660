"""Tests of the one LP runner and its certified bound."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from hzlogistics.solvers.lp import (
    LinearProgram,
    certified_bound,
    lp_bound,
    lp_feasible,
    min_resource,
    solve_lp,
    solve_mip,
)
from hzlogistics.solvers.problem import SitingProblem
from hzlogistics.solvers.sites import site_rows, site_table


def small_lp() -> LinearProgram:
    # max x + 2y, x + y <= 1.5, x - y >= -0.5, 0 <= x, y <= 1: optimum 2.5 (x = 0.5, y = 1)
    return LinearProgram(c=np.array([1.0, 2.0]), A=sp.csr_matrix([[1.0, 1.0], [1.0, -1.0]]),
                         row_lo=np.array([-np.inf, -0.5]), row_hi=np.array([1.5, np.inf]),
                         col_lo=np.zeros(2), col_hi=np.ones(2))


@settings(max_examples=25, deadline=None)
@given(duals=st.lists(st.floats(-5, 5), min_size=2, max_size=2))
def test_certified_bound_holds_for_any_multipliers(duals):
    lp = small_lp()
    assert certified_bound(lp, np.array(duals)) >= 2.5 - 1e-9
    assert lp_bound(lp).bound == pytest.approx(2.5, abs=1e-6)


@pytest.mark.parametrize("solver", ["GLOP", "HIGHS"])
def test_solve_lp_gives_the_optimum_and_duals_that_certify_it(solver):
    lp = small_lp()
    sol = solve_lp(lp, time_limit_s=5, solver=solver)
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(2.5, abs=1e-6)
    assert sol.x == pytest.approx([0.5, 1.0], abs=1e-6)
    assert certified_bound(lp, sol.duals) == pytest.approx(2.5, abs=1e-6)


@pytest.mark.parametrize("solver", ["GLOP", "HIGHS"])
def test_solve_lp_reports_infeasible(solver):
    # x + y >= 3 with x, y <= 1
    lp = LinearProgram(c=np.ones(2), A=sp.csr_matrix([[1.0, 1.0]]), row_lo=np.array([3.0]),
                       row_hi=np.array([np.inf]), col_lo=np.zeros(2), col_hi=np.ones(2))
    sol = solve_lp(lp, time_limit_s=5, solver=solver)
    assert sol.status == "infeasible" and sol.duals is None
    assert lp_bound(lp, solver=solver).status == "infeasible"


def test_site_row_lps_answer_feasibility_and_least_area():
    p = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.eye(3)),
                      tiers_m2=np.array([100.0, 200.0]), count_min=2)
    rows = site_rows(site_table(p))
    assert lp_feasible(rows) is True
    # two sites of at least 100 m² each
    assert min_resource(rows, rows.opt_area) == pytest.approx(200.0, abs=1e-6)
    q = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.eye(3)),
                      tiers_m2=np.array([100.0]), count_min=2, area_budget_m2=150.0)
    assert lp_feasible(site_rows(site_table(q))) is False


@st.composite
def binary_programs(draw):
    """Small pure 0/1 programs: ``max c x`` under a few ``<=``/``>=`` rows."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(rng.integers(1, 8))
    k = int(rng.integers(1, 4))
    A = rng.integers(-3, 6, size=(k, n)).astype(float)
    hi = rng.integers(0, 3 * n, size=k).astype(float)
    lo = np.where(rng.random(k) < 0.3, np.minimum(rng.integers(-2, 3, size=k), hi), -np.inf)
    c = rng.integers(-4, 10, size=n).astype(float)
    return LinearProgram(c=c, A=sp.csr_matrix(A), row_lo=lo, row_hi=hi, col_lo=np.zeros(n),
                         col_hi=np.ones(n))


def enumerate_best(lp: LinearProgram) -> float | None:
    best = None
    for bits in itertools.product([0.0, 1.0], repeat=lp.shape[1]):
        x = np.array(bits)
        ax = lp.A @ x
        if np.all(ax <= lp.row_hi + 1e-9) and np.all(ax >= lp.row_lo - 1e-9):
            v = float(lp.c @ x)
            best = v if best is None else max(best, v)
    return best


@settings(max_examples=60, deadline=None)
@given(binary_programs(), st.booleans())
def test_solve_mip_equals_enumeration(lp, with_hint):
    n = lp.shape[1]
    best = enumerate_best(lp)
    hint = np.zeros(n) if with_hint else None
    sol = solve_mip(lp, np.ones(n, dtype=bool), time_limit_s=10, hint=hint)
    if best is None:
        assert sol.status == "infeasible"
        assert sol.x is None
        return
    assert sol.status == "optimal"
    assert sol.x is not None
    assert np.all(np.isin(np.round(sol.x, 6), [0.0, 1.0]))
    ax = lp.A @ np.round(sol.x)
    assert np.all(ax <= lp.row_hi + 1e-6) and np.all(ax >= lp.row_lo - 1e-6)
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6


def test_solve_mip_keeps_continuous_columns_continuous():
    lp = small_lp()
    sol = solve_mip(lp, np.array([False, True]), time_limit_s=10)
    # y integral at 1, x continuous at 0.5
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(2.5, abs=1e-6)
    assert sol.x.tolist() == pytest.approx([0.5, 1.0], abs=1e-6)
