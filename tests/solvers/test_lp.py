"""Tests of the one LP runner and its certified bound."""

from __future__ import annotations

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
