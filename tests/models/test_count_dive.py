"""Tests of the LP dive of the count-only covering solver: enumeration on random cores."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzlogistics.models.count_core import (
    Core,
    CountPlan,
    filled,
    fits,
    greedy,
    offer,
    prefer,
    prepare,
    reduce_core,
)
from hzlogistics.models.count_coverage import solve_count_only
from hzlogistics.models.count_dive import lp_dive, merged_hint
from hzlogistics.models.count_search import core_lp
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.track import Tracker

OPTIONS = SolveOptions(time_limit_s=30.0, gap=0.0, seed=0, workers=1)


def random_problem(rng: np.random.Generator, quotas: bool) -> SitingProblem:
    n = int(rng.integers(5, 12))
    m = int(rng.integers(8, 20))
    cover = sp.csr_matrix(rng.random((n, m)) < rng.uniform(0.2, 0.5))
    kw: dict[str, object] = {}
    if quotas:
        k = int(rng.integers(2, 4))
        kw["group"] = rng.integers(0, k, n)
        kw["group_count_min"] = rng.integers(0, 2, k)
        kw["group_count_max"] = rng.integers(1, n, k)
    return SitingProblem(weight=rng.integers(1, 60, m).astype(float), cover=cover,
                         tiers_m2=np.array([100.0]), area_budget_m2=None,
                         count_max=int(rng.integers(2, n - 1)), **kw)


def count_ok(core: Core, y: np.ndarray) -> bool:
    """Whether fillers can complete the open core sites ``y`` to a feasible count."""
    cy = np.bincount(core.group[y], minlength=core.n_groups)
    if core.quotas:
        lo = np.maximum(core.xlo - cy, 0)
        hi = np.minimum(core.n_pads, core.xhi - cy)
    else:
        lo, hi = np.zeros(core.n_groups, dtype=np.int64), core.n_pads
    need = core.total - int(y.sum())
    return bool(np.all(lo <= hi) and lo.sum() <= need <= hi.sum())


def best_with(core: Core, fixed: np.ndarray, closed: np.ndarray | None = None) -> float | None:
    """Best core value over the feasible plans opening every ``fixed`` site and no
    ``closed`` one (enumeration)."""
    closed = np.zeros(core.n, dtype=bool) if closed is None else closed
    best = None
    for bits in itertools.product([False, True], repeat=core.n):
        y = np.array(bits, dtype=bool)
        if np.any(fixed & ~y) or np.any(closed & y) or not count_ok(core, y):
            continue
        v = core.value(y)
        best = v if best is None else max(best, v)
    return best


def assert_dive_plan(core: Core, plan: CountPlan, restricted: float, tracker: Tracker,
                     start: CountPlan) -> None:
    """A dive's plan: feasible, its value right, at least the restricted optimum (exact on
    the restricted problem, then swaps that only improve), at most the whole optimum."""
    assert fits(core, plan)
    assert plan.value == pytest.approx(core.value(plan.y))
    assert plan.value >= restricted - 1e-9
    assert plan.value <= best_with(core, np.zeros(core.n, dtype=bool)) + 1e-9
    assert tracker.best >= max(plan.value, start.value) - 1e-9


def dive_from_greedy(core: Core, lp_y: np.ndarray, **kw) -> tuple[CountPlan | None, Tracker,
                                                                   CountPlan]:
    """The dive with the greedy plan in the tracker: its plan, the tracker and that start."""
    tracker = Tracker(None, sense="max")
    start = greedy(core)
    offer(tracker, start)
    plan = lp_dive(core, lp_y, tracker, OPTIONS, time.perf_counter() + 30, **kw)
    return plan, tracker, start


@st.composite
def cores_with_fixing(draw):
    """A reduced random problem and a set of its sites to fix open (fewer than the count)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    prep, _ = prepare(random_problem(rng, quotas=draw(st.booleans())))
    if prep is None:
        return None
    core = reduce_core(prep)
    if core.n == 0 or core.n > 12 or core.total < 2:
        return None
    k = int(rng.integers(1, min(core.total, core.n + 1)))
    fixed = np.zeros(core.n, dtype=bool)
    fixed[rng.choice(core.n, size=k, replace=False)] = True
    return core, fixed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cores_with_fixing())
def test_dive_is_optimal_among_plans_opening_the_fixed_sites(case):
    if case is None:
        return
    core, fixed = case
    plan, tracker, start = dive_from_greedy(core, np.where(fixed, 1.0, 0.5))
    restricted = best_with(core, fixed)
    if restricted is None:
        assert plan is None
        return
    assert plan is not None
    assert_dive_plan(core, plan, restricted, tracker, start)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cores_with_fixing(), st.integers(0, 2**32 - 1))
def test_dive_closes_the_sites_the_lp_leaves_at_a_loss(case, seed):
    if case is None:
        return
    core, fixed = case
    rng = np.random.default_rng(seed)
    lp_y = np.where(fixed, 1.0, rng.choice([0.0, 0.5], core.n))
    # reduced profits: a loss on some of the sites at zero, none (or a tie) elsewhere
    reduced = np.where(rng.random(core.n) < 0.5, -rng.uniform(1.0, 50.0, core.n), 0.0)
    closed = (lp_y == 0.0) & (reduced < 0)
    info: dict[str, object] = {}
    plan, tracker, start = dive_from_greedy(core, lp_y, info=info, reduced=reduced)
    restricted = best_with(core, fixed, closed)
    if restricted is None:
        assert plan is None  # no plan opens the fixed sites and none of the closed
        return
    assert plan is not None
    assert info["closed"] == int(closed.sum()) and info["fixed"] == int(fixed.sum())
    assert_dive_plan(core, plan, restricted, tracker, start)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cores_with_fixing(), st.integers(0, 2**32 - 1))
def test_merged_hint_never_opens_a_closed_site(case, seed):
    if case is None:
        return
    core, fixed = case
    closed = (np.random.default_rng(seed).random(core.n) < 0.4) & ~fixed
    hint = merged_hint(core, greedy(core), fixed, closed)
    assert not np.any(hint.y & closed)
    assert hint.value == pytest.approx(core.value(hint.y))
    if not core.quotas:
        assert np.all(hint.y[fixed])
        # the count is made up as far as the sites not closed and the fillers allow
        room = int((~closed).sum()) + int(core.n_pads.sum())
        assert int(hint.y.sum()) + int(hint.pad.sum()) == min(core.total, room)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cores_with_fixing())
def test_merged_hint_opens_the_fixed_sites_and_keeps_the_rest_of_the_plan(case):
    if case is None:
        return
    core, fixed = case
    plan = greedy(core)
    hint = merged_hint(core, plan, fixed)
    assert hint.value == pytest.approx(core.value(hint.y))
    if core.quotas:
        return  # the greedy's plan: within the bounds, the fixed sites taken first if allowed
    assert np.all(hint.y[fixed])
    assert np.all(plan.y[hint.y & ~fixed])
    assert int(hint.y.sum()) + int(hint.pad.sum()) == min(
        core.total, int((plan.y | fixed).sum()) + int(plan.pad.sum()))


def test_dive_skips_without_full_sites_or_when_all_are():
    rng = np.random.default_rng(4)
    prep, _ = prepare(random_problem(rng, quotas=False))
    core = reduce_core(prep)
    tracker = Tracker(None, sense="max")
    offer(tracker, greedy(core))
    deadline = time.perf_counter() + 30
    assert lp_dive(core, np.full(core.n, 0.5), tracker, OPTIONS, deadline) is None
    assert lp_dive(core, np.ones(core.n), tracker, OPTIONS, deadline) is None


def test_dive_from_the_lp_on_a_regional_instance():
    """Sites near demand points: the LP's full sites, the dive's plan and the whole solve."""
    rng = np.random.default_rng(12)
    demand = rng.random((600, 2))
    sites = rng.random((120, 2))
    d = np.linalg.norm(sites[:, None, :] - demand[None, :, :], axis=2)
    problem = SitingProblem(weight=np.round(rng.lognormal(3.0, 1.0, 600), 1),
                            cover=sp.csr_matrix(d <= 0.12), tiers_m2=np.array([100.0]),
                            area_budget_m2=None, count_max=12)
    prep, _ = prepare(problem)
    core = reduce_core(prep)
    lp = core_lp(core, 30.0, solver="GLOP")
    assert lp is not None
    tracker = Tracker(None, sense="max")
    offer(tracker, greedy(core))
    info: dict[str, object] = {}
    plan = lp_dive(core, lp.y, tracker, OPTIONS, time.perf_counter() + 30, info)
    assert plan is not None and fits(core, plan)
    assert info["status"] == "optimal"
    assert plan.value <= lp.bound + 1e-6
    result = solve_count_only(problem, SolveOptions(time_limit_s=30, gap=0.0, workers=2))
    assert result.status == "optimal"
    assert result.objective >= core.constant + plan.value - 1e-6
    assert isinstance(result.info.get("dive"), dict)


def test_prefer_keeps_an_equal_plan_but_never_a_worse_one():
    tracker = Tracker(None, sense="max")
    a = CountPlan(np.array([True, False]), np.zeros(1, dtype=np.int64), 5.0)
    b = CountPlan(np.array([False, True]), np.zeros(1, dtype=np.int64), 5.0)
    c = CountPlan(np.array([False, True]), np.zeros(1, dtype=np.int64), 4.0)
    offer(tracker, a)
    offer(tracker, b)
    assert tracker.payload.y.tolist() == [True, False]  # an equal offer does not replace
    prefer(tracker, b)
    assert tracker.payload.y.tolist() == [False, True]
    prefer(tracker, c)
    assert tracker.payload.value == 5.0


@pytest.mark.parametrize("seed", range(6))
def test_filled_makes_a_short_plan_up_to_the_count_and_loses_nothing(seed):
    # a plan with one core site open (what the MIP, whose count row is a range, may return)
    rng = np.random.default_rng(seed)
    prep, _ = prepare(random_problem(rng, quotas=False))
    core = reduce_core(prep)
    if core.n == 0 or core.total < 2:
        pytest.skip("the core leaves no count to fill")
    y = np.zeros(core.n, dtype=bool)
    y[int(np.argmax(np.asarray(core.cover @ core.weight).ravel() + core.own))] = True
    short = CountPlan(y, np.zeros(core.n_groups, dtype=np.int64), core.value(y))
    full = filled(core, short)
    assert fits(core, full)
    assert int(full.y.sum() + full.pad.sum()) == core.total
    assert full.y[y].all() and full.value >= short.value
    assert filled(core, full) is full  # a full plan stays as it is


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cores_with_fixing())
def test_dive_is_skipped_when_its_model_keeps_more_than_the_share(case):
    if case is None:
        return
    core, fixed = case
    served = np.asarray(core.cover_t @ fixed.astype(np.float64)).ravel() > 0
    # the share of the core's nonzeros the dive's model keeps (none of none)
    kept = core.cover[~fixed][:, ~served].nnz / core.cover.nnz if core.cover.nnz else 0.0
    lp_y = np.where(fixed, 1.0, 0.5)
    if kept > 0:
        below, _, _ = dive_from_greedy(core, lp_y, max_share=kept * 0.999)
        assert below is None
    restricted = best_with(core, fixed)
    if restricted is not None:
        at, tracker, start = dive_from_greedy(core, lp_y, max_share=kept + 1e-9)
        assert at is not None
        assert_dive_plan(core, at, restricted, tracker, start)
