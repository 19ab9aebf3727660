"""The MIP runners: known optima, warm starts, infeasibility, stop events, interruption,
the HiGHS log."""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.lp import LinearProgram
from hzlogistics.solvers.mip import Mip, MipInterrupter, parse_progress, solve_integer_program
from hzlogistics.solvers.problem import SolveOptions, relative_gap
from tests.solvers.test_lp import small_lp

OPTIONS = SolveOptions(time_limit_s=20, gap=0.0)


def knapsack_mip() -> tuple[Mip, np.ndarray]:
    """Pick items of value 6, 10, 12 and weight 1, 2, 3 within weight 5: best 22 (items 1, 2)."""
    m = Mip()
    x = m.add_vars(3, integer=True, obj=[-6.0, -10.0, -12.0])
    m.add_row(x, [1.0, 2.0, 3.0], ub=5.0)
    return m, x


def test_small_mip_reaches_its_known_optimum() -> None:
    m, x = knapsack_mip()
    out = m.solve(OPTIONS, time_limit_s=20, integral=True)
    assert out.status == "optimal"
    assert out.objective == pytest.approx(-22.0)
    assert out.bound == pytest.approx(-22.0)
    assert out.values is not None and np.round(out.values[x]).tolist() == [0.0, 1.0, 1.0]
    assert out.engine == "highs" and out.wall_s >= 0


def test_offset_objective_terms_and_ranged_rows() -> None:
    m = Mip()
    y = m.add_vars(2, lb=0.0, ub=10.0)
    m.offset = 5.0
    m.add_objective(y, [1.0, 1.0])
    m.add_objective(y[:1], [2.0])  # objective 3 y0 + y1 + 5
    rows = m.add_rows(1, lb=4.0, ub=6.0)
    m.add_terms(np.repeat(rows, 2), y, 1.0)
    assert m.n_vars == 2 and m.n_rows == 1
    lb, ub, integer, obj = m.arrays()
    assert obj.tolist() == [3.0, 1.0] and not integer.any() and ub.tolist() == [10.0, 10.0]
    out = m.solve(OPTIONS, time_limit_s=20)
    assert out.status == "optimal"
    assert out.objective == pytest.approx(9.0)  # y1 = 4, y0 = 0
    assert out.values is not None and out.values.tolist() == pytest.approx([0.0, 4.0])


def test_hint_is_accepted_and_a_bad_hint_does_no_harm() -> None:
    for values in ([0.0, 1.0, 1.0], [1.0, 1.0, 1.0]):  # the optimum, then an infeasible start
        m, x = knapsack_mip()
        out = m.solve(OPTIONS, time_limit_s=20, hint=(x, np.array(values)), integral=True)
        assert out.status == "optimal"
        assert out.objective == pytest.approx(-22.0)


def test_infeasible_model_is_reported() -> None:
    m = Mip()
    x = m.add_vars(2, integer=True)
    m.add_row(x, [1.0, 1.0], lb=3.0)  # two binaries cannot sum to 3
    out = m.solve(OPTIONS, time_limit_s=20)
    assert out.status == "infeasible"
    assert out.values is None and math.isnan(out.objective)


def test_stop_event_already_set_returns_at_once() -> None:
    m, _ = knapsack_mip()
    stop = threading.Event()
    stop.set()
    out = m.solve(SolveOptions(time_limit_s=20, gap=0.0, stop=stop), time_limit_s=20)
    assert out.status in ("interrupted", "optimal")  # a tiny model may finish first
    if out.status == "interrupted":
        assert out.values is None


def test_progress_lines_of_the_highs_log() -> None:
    line = ("        0       0         0   0.00%   -inf            inf                inf"
            "        0      0      0         0     0.0s")
    assert parse_progress(line) == (math.inf, -math.inf)
    line = (" T       0       0         0   0.00%   -25.5           -22                15.91%"
            "        0      0      0         4     0.0s")
    assert parse_progress(line) == (-22.0, -25.5)
    assert parse_progress("Solving report") is None
    assert parse_progress("a b c d e f g h i j 0.5") is None  # no seconds at the end


def test_terms_of_different_lengths_are_an_error() -> None:
    from hzlogistics._errors import SolverError

    m = Mip()
    m.add_vars(2)
    m.add_rows(1)
    with pytest.raises(SolverError, match="differ in length"):
        m.add_terms([0, 0], [0], 1.0)


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
@given(binary_programs(), st.booleans(), st.booleans(), st.sampled_from(["highs", "scip"]))
def test_solve_mip_equals_enumeration(lp, with_hint, sub_mips, engine):
    n = lp.shape[1]
    best = enumerate_best(lp)
    hint = np.zeros(n) if with_hint else None
    sol = solve_integer_program(lp, np.ones(n, dtype=bool), time_limit_s=10, hint=hint,
                                sub_mips=sub_mips, engine=engine)
    assert sol.engine == engine
    if best is None:
        assert sol.status == "infeasible"
        assert sol.values is None
        return
    assert sol.status == "optimal"
    assert sol.values is not None
    assert np.all(np.isin(np.round(sol.values, 6), [0.0, 1.0]))
    ax = lp.A @ np.round(sol.values)
    assert np.all(ax <= lp.row_hi + 1e-6) and np.all(ax >= lp.row_lo - 1e-6)
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.bound >= best - 1e-6


@settings(max_examples=40, deadline=None)
@given(binary_programs(), st.sampled_from([0.02, 0.3]), st.booleans())
def test_highs_without_gap_pruning_ends_within_the_gap_it_is_given(lp, gap, with_hint):
    n = lp.shape[1]
    best = enumerate_best(lp)
    sol = solve_integer_program(lp, np.ones(n, dtype=bool), time_limit_s=10, gap=gap,
                                hint=np.zeros(n) if with_hint else None, gap_pruning=False)
    if best is None:
        assert sol.status == "infeasible"
        return
    assert sol.status == "optimal"
    assert sol.values is not None
    x = np.round(sol.values)
    ax = lp.A @ x
    assert np.all(ax <= lp.row_hi + 1e-6) and np.all(ax >= lp.row_lo - 1e-6)
    assert sol.objective == pytest.approx(float(lp.c @ x), abs=1e-6)
    assert sol.bound >= best - 1e-6
    # either HiGHS proved the optimum itself (it runs with a zero gap) or it was
    # stopped with its plan and bound within the gap
    assert sol.objective == pytest.approx(best, abs=1e-6) \
        or relative_gap(sol.objective, sol.bound) <= gap + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_highs_without_gap_pruning_stops_on_a_covering_program_at_the_gap(seed):
    lp, integer, best = covering_program(seed, n_sites=30, n_points=120, count=4, density=0.12)
    out = solve_integer_program(lp, integer, time_limit_s=60, gap=0.05, gap_pruning=False)
    assert out.status == "optimal"
    assert out.values is not None
    assert out.objective == pytest.approx(float(lp.c @ out.values))
    assert best * (1 - 0.05) - 1e-6 <= out.objective <= best + 1e-6
    assert out.bound >= best - 1e-6
    assert relative_gap(out.objective, out.bound) <= 0.05 + 1e-9


@pytest.mark.parametrize("seed", range(3))
def test_highs_watch_sees_plan_values_and_bounds_that_hold(seed):
    lp, integer, best = covering_program(seed, n_sites=30, n_points=120, count=4, density=0.12)
    seen = []

    def watch(plan, bound):
        seen.append((plan, bound))
        return False

    out = solve_integer_program(lp, integer, time_limit_s=60, gap=0.0, watch=watch)
    assert out.status == "optimal" and out.objective == pytest.approx(best)
    assert seen, "HiGHS never called the watch"
    plans = np.array([p for p, _ in seen])
    bounds = np.array([b for _, b in seen])
    assert np.all(plans <= best + 1e-6)  # -inf before a plan, then values of real plans
    assert np.all(bounds >= best - 1e-6)  # upper bounds, never below the optimum
    assert np.any(np.isfinite(plans))


def test_highs_watch_returning_true_stops_the_solve():
    calls = []

    def watch(plan, bound):
        calls.append(plan)
        return True

    out = solve_integer_program(market_split(3), np.ones(40, dtype=bool), time_limit_s=600,
                                watch=watch)
    assert out.status == "interrupted"  # long before the 600 s limit
    assert len(calls) >= 1


def test_watch_is_refused_for_scip():
    with pytest.raises(ValidationError, match="HiGHS only"):
        solve_integer_program(small_lp(), np.array([False, True]), time_limit_s=5,
                              engine="scip", watch=lambda _p, _b: False)


@pytest.mark.parametrize("engine", ["highs", "scip"])
def test_solve_mip_keeps_continuous_columns_continuous(engine):
    lp = small_lp()
    sol = solve_integer_program(lp, np.array([False, True]), time_limit_s=10, engine=engine)
    # y integral at 1, x continuous at 0.5
    assert sol.status == "optimal"
    assert sol.objective == pytest.approx(2.5, abs=1e-6)
    assert sol.values.tolist() == pytest.approx([0.5, 1.0], abs=1e-6)


def market_split(seed: int, rows: int = 4, cols: int = 40) -> LinearProgram:
    """A market split program (Cornuejols & Dawande): small, yet far beyond branch and bound.

    ``sum_j a_ij x_j = floor(sum_j a_ij / 2)`` for random ``a_ij`` in 0..99,
    ``x`` binary; the objective (the number of ones) only gives HiGHS
    something to bound.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(rows, cols)).astype(float)
    rhs = np.floor(a.sum(axis=1) / 2)
    return LinearProgram(c=np.ones(cols), A=sp.csr_matrix(a), row_lo=rhs, row_hi=rhs,
                         col_lo=np.zeros(cols), col_hi=np.ones(cols))


def _solve_in_thread(lp: LinearProgram, stopper: MipInterrupter, engine: str,
                     gap_pruning: bool = True) -> tuple[threading.Thread, dict]:
    """Start a 600 s solve of ``lp`` (all columns integer) in a thread; the outcome: box["out"]."""
    box: dict = {}

    def run():
        box["out"] = solve_integer_program(lp, np.ones(lp.shape[1], dtype=bool),
                                           time_limit_s=600, interrupter=stopper,
                                           engine=engine, gap=0.01, gap_pruning=gap_pruning)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    return worker, box


@pytest.mark.parametrize(("engine", "gap_pruning"),
                         [("highs", True), ("highs", False), ("scip", True)])
def test_interrupter_stops_a_running_solve_from_another_thread(engine, gap_pruning):
    lp = market_split(1)
    stopper = MipInterrupter()
    worker, box = _solve_in_thread(lp, stopper, engine, gap_pruning)
    worker.join(0.5)
    assert worker.is_alive(), "the market split program was expected to run for minutes"
    stopper.interrupt()
    worker.join(60)  # far below the 600 s limit: only an interrupted solve ends here
    assert not worker.is_alive()
    out = box["out"]
    assert out.status == "interrupted"
    assert stopper.fired
    assert out.detail  # the engine's own words
    assert out.engine == engine


@pytest.mark.parametrize("engine", ["highs", "scip"])
def test_a_running_solve_is_cancelled_through_the_interrupter_and_detached_after(engine):
    # SCIP, like HiGHS, hands the interrupter a way to cancel it while it runs (not
    # only its event handler's check after an LP or a node), and takes it back after
    stopper = MipInterrupter()
    worker, box = _solve_in_thread(market_split(2), stopper, engine)
    for _ in range(600):  # the model is built, then the solver attached
        if stopper._cancel is not None or not worker.is_alive():
            break
        worker.join(0.1)
    assert stopper._cancel is not None, "the running solve gave the interrupter no cancel"
    stopper.interrupt()
    worker.join(60)
    assert not worker.is_alive()
    assert box["out"].status == "interrupted"
    assert stopper._cancel is None  # detached: nothing left to cancel on a finished solver
    stopper.interrupt()  # and a late request harms nothing


@pytest.mark.parametrize("engine", ["highs", "scip"])
def test_interrupter_fired_before_the_start_returns_at_once(engine):
    stopper = MipInterrupter()
    stopper.interrupt()
    lp = small_lp()
    out = solve_integer_program(lp, np.array([False, True]), time_limit_s=600,
                                interrupter=stopper, engine=engine)
    assert out.status == "interrupted" and out.values is None


def covering_program(seed: int, n_sites: int = 14, n_points: int = 60, count: int = 3,
                     density: float = 0.15):
    """A small maximal covering program and its optimum, by enumeration.

    max w.z  s.t.  z_j - sum_i cover_ji y_i <= 0,  sum y = count;  y binary, z in [0, 1].
    """
    rng = np.random.default_rng(seed)
    cover = (rng.random((n_points, n_sites)) < density).astype(float)
    a = sp.vstack([sp.hstack([-sp.csr_matrix(cover), sp.identity(n_points)]),
                   sp.hstack([sp.csr_matrix(np.ones((1, n_sites))),
                              sp.csr_matrix((1, n_points))])]).tocsr()
    w = rng.integers(1, 20, size=n_points).astype(float)
    lp = LinearProgram(c=np.r_[np.zeros(n_sites), w], A=a,
                       row_lo=np.r_[np.full(n_points, -np.inf), float(count)],
                       row_hi=np.r_[np.zeros(n_points), float(count)],
                       col_lo=np.zeros(n_sites + n_points), col_hi=np.ones(n_sites + n_points))
    integer = np.r_[np.ones(n_sites, dtype=bool), np.zeros(n_points, dtype=bool)]
    best = max(float(w[(cover[:, list(s)].sum(axis=1) > 0)].sum())
               for s in itertools.combinations(range(n_sites), count))
    return lp, integer, best


def test_scip_proves_a_covering_optimum_in_a_thread():
    """A small maximal covering program, solved by SCIP in a worker thread."""
    lp, integer, best = covering_program(3, n_sites=30, n_points=120, count=4, density=0.12)
    box = {}
    worker = threading.Thread(target=lambda: box.update(out=solve_integer_program(
        lp, integer, time_limit_s=60, engine="scip")))
    worker.start()
    worker.join()
    out = box["out"]
    assert out.status == "optimal" and out.engine == "scip"
    assert out.objective == pytest.approx(best) and out.bound == pytest.approx(best)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("offset", [-7.0, -0.5, 0.0, 0.5, 25.0])
def test_scip_cutoff_keeps_what_is_above_it_and_bounds_by_it(seed, offset):
    lp, integer, best = covering_program(seed)
    cutoff = best + offset
    out = solve_integer_program(lp, integer, time_limit_s=30, engine="scip", cutoff=cutoff,
                                sub_mips=False)
    assert out.status == "optimal"
    assert out.bound >= best - 1e-6 and out.bound >= cutoff - 1e-9
    if best > cutoff + 1e-6:  # the optimum lies above the cutoff: SCIP finds it
        assert out.values is not None
        assert out.objective == pytest.approx(best)
        assert out.bound == pytest.approx(best)
    else:  # nothing above it: no plan, and the cutoff is the bound
        assert out.values is None
        assert out.bound == pytest.approx(cutoff)


def test_scip_cutoff_on_an_infeasible_program_claims_nothing_above_it():
    lp = small_lp()  # x + y >= 2.5 with x, y <= 1: no solution at all
    lp = dataclasses.replace(lp, row_lo=np.array([2.5, -0.5]), row_hi=np.array([np.inf, np.inf]))
    out = solve_integer_program(lp, np.array([False, True]), time_limit_s=5, engine="scip",
                                cutoff=-3.0)
    assert out.values is None and out.bound == -3.0


@pytest.mark.parametrize("seed", range(3))
def test_scip_rising_cutoff_follows_its_own_best(seed):
    """The cutoff given as a function of SCIP's best: it rises with each solution SCIP finds."""
    lp, integer, best = covering_program(seed)
    seen = []

    def cutoff(own):
        seen.append(own)
        return max(best - 7.0, own + 0.5)

    out = solve_integer_program(lp, integer, time_limit_s=30, engine="scip", cutoff=cutoff,
                                sub_mips=False)
    assert seen[0] == -math.inf and all(v <= best + 1e-6 for v in seen)
    assert out.status == "optimal" and out.values is not None
    # It stops once nothing lies 0.5 above its best: that best is within 0.5 of the optimum.
    assert best - 0.5 - 1e-6 <= out.objective <= best + 1e-6
    assert best - 1e-6 <= out.bound <= out.objective + 0.5 + 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_scip_rising_cutoff_is_never_lowered(seed):
    lp, integer, best = covering_program(seed)
    values = iter([best + 25.0, best - 7.0])

    def cutoff(own):
        return next(values, best - 7.0)

    out = solve_integer_program(lp, integer, time_limit_s=30, engine="scip", cutoff=cutoff,
                                sub_mips=False)
    assert out.status == "optimal" and out.values is None
    assert out.bound == pytest.approx(best + 25.0)


@pytest.mark.parametrize("seed", range(3))
def test_scip_cutoff_raised_after_the_start_bounds_by_the_last_value(seed):
    """Raised above the optimum once SCIP is under way: whatever SCIP found before, the
    bound returned is the raised cutoff."""
    lp, integer, best = covering_program(seed, n_sites=30, n_points=120, count=4, density=0.12)
    calls = []

    def cutoff(own):
        calls.append(own)
        return best - 7.0 if len(calls) == 1 else best + 3.0

    out = solve_integer_program(lp, integer, time_limit_s=30, engine="scip", cutoff=cutoff,
                                sub_mips=False)
    assert len(calls) >= 2
    assert out.status == "optimal" and out.bound == pytest.approx(best + 3.0)
    if out.values is not None:  # a plan found before the raise: feasible, not above the optimum
        assert out.objective <= best + 1e-6


@pytest.mark.parametrize("engine, cutoff", [("highs", 1.0), ("scip", math.nan),
                                             ("scip", math.inf), ("highs", lambda own: 1.0),
                                             ("scip", lambda own: math.nan),
                                             ("scip", lambda own: "1.0")])
def test_cutoff_only_for_scip_and_finite(engine, cutoff):
    with pytest.raises(ValidationError, match="cutoff must be"):
        solve_integer_program(small_lp(), np.array([False, True]), time_limit_s=5,
                              engine=engine, cutoff=cutoff)


def test_unknown_engine_is_refused():
    with pytest.raises(ValidationError, match="engine must be"):
        solve_integer_program(small_lp(), np.array([False, True]), time_limit_s=5,
                              engine="gurobi")  # type: ignore[arg-type]
