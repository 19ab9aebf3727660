"""Tests of the one CP-SAT entry and the CP-SAT model of the site-side constraints."""

from __future__ import annotations

import threading

import numpy as np
from ortools.sat.python import cp_model

from hzlogistics.solvers.cpsat import (
    cpsat_solver,
    feasible_plan_cpsat,
    site_model,
    solve_cpsat,
    solve_model,
)
from hzlogistics.solvers.problem import SolveOptions
from hzlogistics.solvers.sites import plan_violations, site_table
from tests.solvers.test_heuristic import random_problem


def test_solver_carries_the_project_parameters():
    s = cpsat_solver(time_limit_s=3, seed=7, workers=2, gap=0.01, deterministic_time=0.5,
                     presolve=False, extra_params={"linearization_level": 2})
    p = s.parameters
    assert (p.max_time_in_seconds, p.random_seed, p.num_workers) == (3.0, 7, 2)
    assert p.relative_gap_limit == 0.01 and p.max_deterministic_time == 0.5
    assert p.cp_model_presolve is False and p.linearization_level == 2
    assert p.catch_sigint_signal is False
    default = cpsat_solver(time_limit_s=0).parameters
    assert default.max_time_in_seconds == 0.01 and default.cp_model_presolve is True


def test_solve_model_names_the_outcome():
    m = cp_model.CpModel()
    x = m.new_int_var(0, 5, "x")
    m.add(x >= 6)
    assert solve_model(m, time_limit_s=5)[0] == "infeasible"
    m2 = cp_model.CpModel()
    y = m2.new_int_var(0, 5, "y")
    m2.maximize(y)
    status, solver = solve_model(m2, time_limit_s=5)
    assert status == "optimal" and solver.value(y) == 5


def test_solve_cpsat_stops_on_the_event():
    stop = threading.Event()
    stop.set()
    m = cp_model.CpModel()
    xs = [m.new_bool_var(f"x{i}") for i in range(30)]
    m.add(sum(xs) <= 15)
    m.maximize(sum((i % 7 + 1) * x for i, x in enumerate(xs)))
    out = solve_cpsat(m, SolveOptions(time_limit_s=5, workers=1, stop=stop))
    assert out.status in ("interrupted", "optimal")
    assert out.wall_s < 5


def test_site_model_names_its_constraints():
    p = random_problem(0, rent_cap_usd_year=5_000.0)
    names: dict[str, cp_model.IntVar] = {}
    _, y, opt_site, _ = site_model(site_table(p), enforce=names)
    assert len(y) == opt_site.size
    assert {"count_min", "count_max", "area budget", "rent cap", "AA count_min",
            "BB count_min"} <= set(names)


def test_feasible_plan_cpsat():
    p = random_problem(2, rent_cap_usd_year=2_000.0)
    t = site_table(p)
    plan = feasible_plan_cpsat(t, np.arange(p.n_sites, dtype=float))
    assert plan is not None and plan_violations(t, plan) == []
    q = random_problem(2, count_min=6, count_max=5)
    assert feasible_plan_cpsat(site_table(q), time_limit_s=2.0) is None
