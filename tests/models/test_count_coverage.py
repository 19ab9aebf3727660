"""Tests of the count-only maximal covering solver: spopt's case, enumeration, contracts."""

from __future__ import annotations

import itertools
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzlogistics._errors import ValidationError
from hzlogistics.models import count_core, count_coverage, count_regions, count_search
from hzlogistics.models.count_core import dominated
from hzlogistics.models.count_coverage import solve_count_only
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.track import Tracker

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SF = SHARED / "benchmarks" / "mclp" / "spopt_sf"
EXACT = SolveOptions(time_limit_s=30.0, gap=0.0, seed=0, workers=2)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def plan_value(problem: SitingProblem, opened: np.ndarray) -> float:
    """Value-weighted demand within reach of the open sites."""
    cover = sp.csr_matrix(problem.cover, dtype=bool)
    hit = np.asarray(cover[np.asarray(opened, dtype=bool)].sum(axis=0)).ravel() > 0
    value = np.ones(problem.n_demand) if problem.value is None else problem.value
    return float((problem.weight * value)[hit].sum())


def violations(problem: SitingProblem, opened: np.ndarray) -> list[str]:
    """Every count-only constraint an open set breaks."""
    out = []
    n = problem.n_sites
    k = int(opened.sum())
    if k < problem.count_min:
        out.append(f"{k} open < count_min {problem.count_min}")
    if problem.count_max is not None and k > problem.count_max:
        out.append(f"{k} open > count_max {problem.count_max}")
    if problem.forbidden is not None and np.any(opened & problem.forbidden):
        out.append("a forbidden site is open")
    if problem.existing_area_m2 is not None and np.any((problem.existing_area_m2 > 0) & ~opened):
        out.append("an existing site is closed")
    if problem.group is not None:
        k_groups = max(n, len(problem.group_count_min if problem.group_count_min is not None
                              else []), len(problem.group_count_max
                                            if problem.group_count_max is not None else []))
        counts = np.bincount(problem.group[opened], minlength=k_groups)
        for g in range(len(problem.group_count_min if problem.group_count_min is not None
                           else [])):
            if counts[g] < problem.group_count_min[g]:
                out.append(f"group {g}: {counts[g]} < {problem.group_count_min[g]}")
        for g in range(len(problem.group_count_max if problem.group_count_max is not None
                           else [])):
            if counts[g] > problem.group_count_max[g]:
                out.append(f"group {g}: {counts[g]} > {problem.group_count_max[g]}")
    return out


def brute_force(problem: SitingProblem) -> float | None:
    """Best value over every feasible open set (``None`` when none is feasible)."""
    best = None
    for bits in itertools.product([False, True], repeat=problem.n_sites):
        opened = np.array(bits, dtype=bool)
        if violations(problem, opened):
            continue
        v = plan_value(problem, opened)
        best = v if best is None else max(best, v)
    return best


def simple_greedy(problem: SitingProblem, p: int) -> float:
    """Textbook greedy: p times, open the site adding the most weight."""
    cover = sp.csr_matrix(problem.cover, dtype=float)
    w = problem.weight.astype(float).copy()
    opened = np.zeros(problem.n_sites, dtype=bool)
    for _ in range(p):
        gains = np.asarray(cover @ w).ravel()
        gains[opened] = -1
        i = int(np.argmax(gains))
        opened[i] = True
        w[cover[i].indices] = 0.0
    return plan_value(problem, opened)


def check_served(problem: SitingProblem, result) -> None:
    """Every served point goes whole to one open site that covers it."""
    served = sp.csr_matrix(result.served)
    assert served.shape == (problem.n_sites, problem.n_demand)
    opened = result.area_m2 > 0
    cover = sp.csr_matrix(problem.cover, dtype=bool)
    hit = np.asarray(cover[opened].sum(axis=0)).ravel() > 0
    per_point = np.asarray(served.sum(axis=0)).ravel()
    np.testing.assert_allclose(per_point, np.where(hit, problem.weight, 0.0))
    assert np.all(np.diff(served.tocsc().indptr)[hit] == 1), "a point split over sites"
    coo = served.tocoo()
    assert np.all(opened[coo.row]), "demand served by a closed site"
    ones = served.copy()
    ones.data[:] = 1.0
    outside = ones - ones.multiply(sp.csr_matrix(cover, dtype=float))
    assert outside.count_nonzero() == 0, "demand served out of reach"


@pytest.fixture(params=["lagrangian", "lp-only", "background-lp", "stalled"])
def force_large_path(request, monkeypatch):
    """Send small problems down the large-problem path (LP, Lagrangian, regions, exact).

    Without the integer Lagrangian the LP bound rarely closes the gap, so the
    region search runs to convergence and the exact finish with fixed sites.
    With ``background-lp`` the LP solves in a thread while regions are searched.
    With ``stalled`` the Lagrangian always waits and HiGHS races on the whole
    core as soon as the plan is not close to the bound.
    """
    monkeypatch.setattr(count_coverage, "SMALL_SITES", 0)
    monkeypatch.setattr(count_coverage, "EXACT_FREE", -1)
    monkeypatch.setattr(count_regions, "REGION_SITES", 3)
    if request.param == "lp-only":
        monkeypatch.setattr(count_search, "LAGRANGIAN_SITES", 0)
    if request.param == "background-lp":
        monkeypatch.setattr(count_coverage, "FOREGROUND_LP_NONZEROS", -1)
    if request.param == "stalled":
        monkeypatch.setattr(count_coverage, "LAGRANGIAN_DEFER_GAP", -1.0)
        monkeypatch.setattr(count_coverage, "STALL_BATCHES", 0)


# --------------------------------------------------------------------------
# spopt's San Francisco case
# --------------------------------------------------------------------------


def load_sf(service_m: float = 5000.0) -> tuple[SitingProblem, list[str]]:
    pd = pytest.importorskip("pandas")
    if not SF.is_dir():
        pytest.skip(f"spopt's San Francisco data not found at {SF} (needs ../shared/benchmarks)")
    dist = pd.read_csv(SF / "SF_network_distance_candidateStore_16_censusTract_205_new.csv",
                       dtype={"DestinationName": str, "name": str})
    tracts = pd.read_csv(SF / "SF_demand_205_centroid_uniform_weight.csv", dtype={"NAME": str})
    stores = sorted(dist["name"].unique(), key=lambda s: int(s.split("_")[1]))
    col = {t: j for j, t in enumerate(tracts["NAME"])}
    row = {s: i for i, s in enumerate(stores)}
    near = dist[dist["distance"] <= service_m]
    assert near["DestinationName"].isin(col).all(), "tract ids must match as strings"
    cover = sp.csr_matrix(
        (np.ones(len(near), dtype=bool),
         (near["name"].map(row).to_numpy(), near["DestinationName"].map(col).to_numpy())),
        shape=(len(stores), len(tracts)))
    time_h = sp.csr_matrix(
        (near["distance"].to_numpy() / 30_000.0,
         (near["name"].map(row).to_numpy(), near["DestinationName"].map(col).to_numpy())),
        shape=(len(stores), len(tracts)))
    problem = SitingProblem(weight=tracts["POP2000"].to_numpy(float), cover=cover,
                            travel_time_h=time_h, tiers_m2=np.array([100.0]),
                            area_budget_m2=None, count_max=4, site_ids=np.array(stores))
    return problem, stores


@pytest.mark.parametrize("large", [False, True])
def test_spopt_san_francisco(large, monkeypatch):
    problem, stores = load_sf()
    if large:
        monkeypatch.setattr(count_coverage, "SMALL_SITES", 0)
    result = solve_count_only(problem, EXACT)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(875_247.0)
    assert sorted(stores[i] for i in np.flatnonzero(result.open)) == sorted(
        ["Store_2", "Store_11", "Store_12", "Store_15"])
    assert result.bound == pytest.approx(875_247.0)
    served = np.asarray(result.served.sum(axis=0)).ravel() > 0
    assert int((~served).sum()) == 21  # spopt's test: 21 tracts left uncovered
    check_served(problem, result)


def test_spopt_san_francisco_optimum_is_unique():
    problem, _ = load_sf()
    values = sorted((plan_value(problem, np.isin(np.arange(16), c)), c)
                    for c in itertools.combinations(range(16), 4))
    assert values[-1][0] == 875_247.0 and values[-2][0] < 875_247.0


def test_served_goes_to_the_quickest_open_site():
    problem, _ = load_sf()
    result = solve_count_only(problem, EXACT)
    tt = problem.travel_time_h.tocsc()
    opened = result.open
    coo = result.served.tocoo()
    for i, j in zip(coo.row, coo.col, strict=True):
        rows = tt.indices[tt.indptr[j]:tt.indptr[j + 1]]
        times = tt.data[tt.indptr[j]:tt.indptr[j + 1]]
        assert tt[i, j] == times[opened[rows]].min()


# --------------------------------------------------------------------------
# enumeration on random instances
# --------------------------------------------------------------------------


@st.composite
def instances(draw, max_sites: int = 8, max_demand: int = 12, quotas: bool = True):
    n = draw(st.integers(1, max_sites))
    m = draw(st.integers(1, max_demand))
    dense = draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m))
    cover = sp.csr_matrix(np.array(dense, dtype=bool).reshape(n, m))
    weight = np.array(draw(st.lists(st.integers(0, 50), min_size=m, max_size=m)), dtype=float)
    value = None
    if draw(st.booleans()):
        value = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=m,
                                       max_size=m)))
    count_max = draw(st.integers(0, n))
    count_min = draw(st.integers(0, count_max))
    forbidden = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    existing = np.where(np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
                        & ~forbidden & draw(st.booleans()), 100.0, 0.0)
    kw = {}
    if quotas and draw(st.booleans()):
        k = draw(st.integers(1, 3))
        group = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
        gmin = np.array(draw(st.lists(st.integers(0, 2), min_size=k, max_size=k)))
        gmax = np.array(draw(st.lists(st.integers(0, n), min_size=k, max_size=k)))
        kw = dict(group=group, group_count_min=gmin, group_count_max=gmax)
    return SitingProblem(weight=weight, cover=cover, value=value, tiers_m2=np.array([100.0]),
                         area_budget_m2=None, count_min=count_min, count_max=count_max,
                         forbidden=forbidden, existing_area_m2=existing, **kw)


def check_against_enumeration(problem: SitingProblem) -> None:
    best = brute_force(problem)
    result = solve_count_only(problem, EXACT)
    if best is None:
        assert result.status == "infeasible"
        assert result.reasons
        return
    assert result.status == "optimal", result.reasons
    opened = result.area_m2 > 0
    assert violations(problem, opened) == []
    assert result.objective == pytest.approx(plan_value(problem, opened), abs=1e-9)
    assert result.objective == pytest.approx(best, abs=1e-6)
    assert result.bound >= result.objective - 1e-6
    assert result.gap <= 1e-9
    assert np.all(result.area_m2[opened] == 100.0)
    check_served(problem, result)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_optimum_equals_enumeration(problem):
    check_against_enumeration(problem)


@st.composite
def seeded_instances(draw):
    """Denser random instances (numpy-drawn) on which a greedy plan is rarely optimal."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(rng.integers(5, 11))
    m = int(rng.integers(8, 17))
    cover = sp.csr_matrix(rng.random((n, m)) < rng.uniform(0.2, 0.5))
    weight = rng.integers(1, 60, m).astype(float)
    count_max = int(rng.integers(2, n - 1))
    kw: dict[str, object] = {}
    if draw(st.booleans()):
        kw["value"] = rng.choice([0.5, 1.0], m)
    if draw(st.booleans()):
        kw["forbidden"] = rng.random(n) < 0.15
    if draw(st.booleans()):
        kw["existing_area_m2"] = np.where(rng.random(n) < 0.1, 100.0, 0.0)
        if "forbidden" in kw:
            kw["existing_area_m2"][kw["forbidden"]] = 0.0
    if draw(st.booleans()):
        kw["count_min"] = int(rng.integers(0, count_max + 1))
    if draw(st.booleans()):
        k = int(rng.integers(2, 4))
        kw["group"] = rng.integers(0, k, n)
        kw["group_count_min"] = rng.integers(0, 2, k)
        kw["group_count_max"] = rng.integers(1, n, k)
    return SitingProblem(weight=weight, cover=cover, tiers_m2=np.array([100.0]),
                         area_budget_m2=None, count_max=count_max, **kw)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seeded_instances())
def test_large_path_optimum_equals_enumeration(force_large_path, problem):
    check_against_enumeration(problem)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seeded_instances())
def test_small_path_optimum_equals_enumeration_on_denser_instances(problem):
    check_against_enumeration(problem)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seeded_instances())
def test_one_worker_large_path_optimum_equals_enumeration(force_large_path, problem):
    best = brute_force(problem)
    result = solve_count_only(problem, SolveOptions(time_limit_s=30, gap=0.0, workers=1))
    if best is None:
        assert result.status == "infeasible"
    else:
        assert result.status == "optimal"
        assert result.objective == pytest.approx(best, abs=1e-6)
        assert violations(problem, result.area_m2 > 0) == []


def best_of_exactly(problem: SitingProblem, p: int) -> float:
    """Best value over every set of exactly ``p`` sites."""
    cover = sp.csr_matrix(problem.cover, dtype=bool).toarray()
    return max(float(problem.weight[cover[list(c)].any(axis=0)].sum())
               for c in itertools.combinations(range(problem.n_sites), p))


def fractional_instance(seed: int) -> SitingProblem:
    """20 sites, 80 points each reached by 3 sites drawn at random (a fractional LP), 5 to open."""
    rng = np.random.default_rng(seed)
    n, m = 20, 80
    rows = np.concatenate([rng.choice(n, 3, replace=False) for _ in range(m)])
    cover = sp.csr_matrix((np.ones(3 * m, dtype=bool), (rows, np.repeat(np.arange(m), 3))),
                          shape=(n, m))
    return SitingProblem(weight=rng.integers(1, 100, m).astype(float), cover=cover,
                         tiers_m2=np.array([100.0]), area_budget_m2=None, count_max=5)


@pytest.mark.parametrize("seed", range(4))
def test_whole_core_race_when_the_search_stalls_far_from_the_bound(monkeypatch, seed):
    """One component, the plan far from the LP bound, no better plan: HiGHS on the whole core."""
    monkeypatch.setattr(count_coverage, "SMALL_SITES", 0)
    monkeypatch.setattr(count_coverage, "LAGRANGIAN_DEFER_GAP", -1.0)
    monkeypatch.setattr(count_coverage, "STALL_BATCHES", 0)
    problem = fractional_instance(seed)
    result = solve_count_only(problem, EXACT)
    assert "mip_from_s" in result.info, result.info
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best_of_exactly(problem, 5))
    assert result.bound == pytest.approx(result.objective)
    check_served(problem, result)


def test_search_resumes_when_the_whole_core_race_ends_without_a_proof(monkeypatch):
    """SCIP fails on the whole core while the search waits for it: the search goes on."""
    monkeypatch.setattr(count_coverage, "SMALL_SITES", 0)
    monkeypatch.setattr(count_coverage, "LAGRANGIAN_DEFER_GAP", -1.0)
    monkeypatch.setattr(count_coverage, "STALL_BATCHES", 0)
    real = count_coverage.core_mip

    def failing(core, plan, fix, *args, **kw):
        if fix is None:
            raise RuntimeError("no MIP on the whole core")
        return real(core, plan, fix, *args, **kw)

    monkeypatch.setattr(count_coverage, "core_mip", failing)
    problem = fractional_instance(7)
    result = solve_count_only(problem, SolveOptions(time_limit_s=20, gap=0.0, workers=2))
    assert "mip_from_s" in result.info and result.info["mip"]["copies"] == 2
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best_of_exactly(problem, 5))


def test_whole_core_mip_proves_the_search_plan_by_its_cutoff(highs_only, monkeypatch):
    """Started from the optimum, SCIP finds nothing above its cutoff (the plan raised by the
    gap target): the proof is the cutoff and the plan the search's."""
    monkeypatch.setattr(count_coverage, "_dive", lambda *args, **kw: None)
    problem = regional(3, n_demand=400, n_sites=60)
    first = solve_count_only(problem, SolveOptions(time_limit_s=60, gap=0.0, workers=2))
    assert first.status == "optimal"
    again = solve_count_only(problem, SolveOptions(time_limit_s=60, gap=1e-3, workers=2,
                                                   hint=first.area_m2))
    assert again.status == "optimal"
    assert again.objective == pytest.approx(first.objective)
    assert again.info["mip"]["value"] is None  # nothing above the cutoff
    assert again.info["mip"]["bound"] == pytest.approx(first.objective * (1 + 1e-3))
    assert again.objective <= again.bound <= again.info["mip"]["bound"] + 1e-6


@pytest.mark.parametrize("copies", [1, 2])
def test_whole_core_mip_cutoff_follows_the_search_beside_it(copies):
    """The race is given the greedy plan; the search then finds the optimum: SCIP's cutoff
    (in each copy) is the search's plan raised by the gap target, so it finds nothing above it."""
    problem = regional(3, n_demand=400, n_sites=60)
    first = solve_count_only(problem, SolveOptions(time_limit_s=60, gap=0.0, workers=2))
    assert first.status == "optimal"
    prep, _ = count_core.prepare(problem)
    core = count_core.reduce_core(prep)
    tracker = Tracker(None, time.perf_counter(), sense="max", offset=core.constant)
    start = count_core.greedy(core)
    count_core.offer(tracker, start)
    assert core.constant + start.value < first.objective / (1 + 1e-3)  # SCIP could beat it
    info: dict[str, object] = {}
    race = count_coverage.MipRace(core, tracker, SolveOptions(time_limit_s=60, gap=1e-3,
                                                              workers=2),
                                  time.perf_counter() + 60, fix=None, info=info,
                                  copies=copies)
    assert len(race.threads) == copies
    best = count_core.greedy(core, start=first.area_m2[core.sites] > 0)
    assert core.constant + best.value == pytest.approx(first.objective)
    count_core.offer(tracker, best)  # the search's plan, after the race took the greedy one
    with race:
        assert race.thread is not None
        race.done.wait(60)
    assert info["mip"]["value"] is None  # nothing above the cutoff
    assert info["mip"]["bound"] == pytest.approx(first.objective * (1 + 1e-3))
    assert info["mip"]["copies"] == copies
    assert tracker.payload.value == pytest.approx(best.value)


def test_fixed_core_race_runs_one_highs_whatever_the_copies():
    problem = regional(3, n_demand=400, n_sites=60)
    prep, _ = count_core.prepare(problem)
    core = count_core.reduce_core(prep)
    tracker = Tracker(None, time.perf_counter(), sense="max", offset=core.constant)
    count_core.offer(tracker, count_core.greedy(core))
    race = count_coverage.MipRace(core, tracker, SolveOptions(time_limit_s=10, workers=2),
                                  time.perf_counter() + 10, fix=np.full(core.n, -1), info={},
                                  copies=2)
    assert len(race.threads) == 1
    one = count_coverage.MipRace(core, tracker, SolveOptions(time_limit_s=10, workers=1),
                                 time.perf_counter() + 10, fix=None, info={}, copies=2)
    assert one.thread is None  # one worker: no race at all


@pytest.fixture
def highs_only(monkeypatch):
    """The exact CP-SAT solve only waits: HiGHS on the core must prove the optimum alone."""

    def wait(*args, **kw):
        while any(t.name == "hzlogistics-mip" and t.is_alive() for t in threading.enumerate()):
            time.sleep(0.01)

    monkeypatch.setattr(count_coverage, "exact_finish", wait)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seeded_instances())
def test_highs_on_the_core_gives_the_optimum(highs_only, problem):
    check_against_enumeration(problem)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seeded_instances())
def test_highs_on_the_fixed_core_gives_the_optimum(highs_only, force_large_path, problem):
    check_against_enumeration(problem)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(instances())
def test_highs_on_the_core_honours_existing_forbidden_and_quotas(highs_only, problem):
    check_against_enumeration(problem)


def test_core_mip_plans_fit_the_counts_and_bound_the_greedy():
    problem = big_instance(seed=4, n=200, m=800)
    prep, reasons = count_core.prepare(problem)
    assert prep is not None and not reasons
    core = count_core.reduce_core(prep)
    start = count_core.greedy(core)
    plan, bound = count_search.core_mip(core, start, None, 30.0, 0.0)
    assert plan is not None
    assert count_core.fits(core, plan)
    assert plan.value >= start.value - 1e-6
    assert bound >= plan.value - 1e-6
    assert plan.value == pytest.approx(bound, rel=1e-6)


@st.composite
def geometric(draw):
    """Sites and towns on a square, each site reaching towns within a radius."""
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(20, 120))
    m = draw(st.integers(50, 300))
    pts = rng.random((m, 2))
    sites = pts[rng.choice(m, size=min(n, m), replace=False)]
    radius = draw(st.floats(0.05, 0.2))
    d = np.linalg.norm(sites[:, None, :] - pts[None, :, :], axis=2)
    cover = sp.csr_matrix(d <= radius)
    weight = np.round(rng.pareto(1.5, m) * 1000 + 10)
    p = draw(st.integers(1, max(1, sites.shape[0] // 3)))
    return SitingProblem(weight=weight, cover=cover, tiers_m2=np.array([100.0]),
                         area_budget_m2=None, count_max=p), p


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(geometric(), st.booleans())
def test_never_worse_than_greedy_and_bound_holds(monkeypatch, case, large):
    problem, p = case
    if large:
        monkeypatch.setattr(count_coverage, "SMALL_SITES", 0)
    result = solve_count_only(problem, SolveOptions(time_limit_s=20.0, gap=1e-4, workers=2))
    opened = result.area_m2 > 0
    assert result.status in ("optimal", "feasible")
    assert opened.sum() == p
    assert result.objective >= simple_greedy(problem, p) - 1e-6
    assert result.objective == pytest.approx(plan_value(problem, opened))
    assert result.bound >= result.objective - 1e-6
    check_served(problem, result)


# --------------------------------------------------------------------------
# contract: statuses, limits, areas, determinism, validation
# --------------------------------------------------------------------------


def toy(**kw) -> SitingProblem:
    cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool))
    args = dict(weight=np.array([5.0, 1.0, 1.0, 4.0]), cover=cover, tiers_m2=np.array([100.0]),
                area_budget_m2=None, count_max=2)
    args.update(kw)
    return SitingProblem(**args)


def test_existing_sites_stay_open_and_keep_their_area():
    result = solve_count_only(toy(existing_area_m2=np.array([0.0, 120.0, 0.0])), EXACT)
    assert result.status == "optimal"
    assert result.area_m2.tolist() == [100.0, 120.0, 0.0]  # 5 + 1 + 1 = 7 beats 1 + 1 + 4
    assert result.objective == 7.0


def test_forbidden_site_and_value_discount():
    problem = toy(forbidden=np.array([True, False, False]), value=np.array([1.0, 1, 1, 0.5]))
    result = solve_count_only(problem, EXACT)
    assert result.area_m2[0] == 0
    assert result.objective == pytest.approx(1 + 1 + 2.0)  # the 4 counts at half
    assert result.served.sum() == pytest.approx(6.0)  # served keeps full parcels/day


def test_area_budget_with_one_tier_caps_the_count():
    result = solve_count_only(toy(count_max=None, area_budget_m2=150.0), EXACT)
    assert int(result.open.sum()) == 1
    assert result.objective == 6.0


def test_without_tiers_open_sites_get_area_one():
    result = solve_count_only(toy(tiers_m2=np.array([])), EXACT)
    assert sorted(result.area_m2.tolist()) == [0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        (dict(existing_area_m2=np.array([100.0, 100.0, 100.0])), "existing sites must stay"),
        (dict(group=np.array([0, 0, 1]), group_count_min=np.array([0, 2])), "group_count_min"),
        (dict(existing_area_m2=np.array([100.0, 0, 0]), forbidden=np.array([True, False, False])),
         "forbidden"),
        (dict(count_min=3, forbidden=np.array([True, False, False]), count_max=3), "count_min"),
    ],
)
def test_infeasible_reasons(kw, needle):
    result = solve_count_only(toy(**kw), EXACT)
    assert result.status == "infeasible"
    assert any(needle in r for r in result.reasons), result.reasons
    assert not result.has_solution


@pytest.mark.parametrize("field", ["capacity_per_m2", "rent_cap_usd_year"])
def test_not_count_only_is_refused(field):
    with pytest.raises(ValidationError, match=field):
        solve_count_only(toy(**{field: 10.0}), EXACT)


def test_bad_shapes_are_listed_together():
    with pytest.raises(ValidationError) as err:
        solve_count_only(toy(weight=np.ones(3), forbidden=np.zeros(2, dtype=bool)), EXACT)
    assert len(err.value.problems) == 2


def big_instance(seed: int = 3, n: int = 700, m: int = 2500) -> SitingProblem:
    rng = np.random.default_rng(seed)
    pts = rng.random((m, 2))
    sites = pts[:n]
    d = np.linalg.norm(sites[:, None, :] - pts[None, :, :], axis=2)
    weight = np.round(rng.pareto(1.2, m) * 1000 + 10)
    return SitingProblem(weight=weight, cover=sp.csr_matrix(d <= 0.05),
                         tiers_m2=np.array([100.0]), area_budget_m2=None, count_max=60)


def test_stop_event_interrupts_with_a_plan():
    stop = threading.Event()
    stop.set()
    result = solve_count_only(big_instance(), SolveOptions(time_limit_s=30, stop=stop))
    assert result.status == "interrupted"
    assert int(result.open.sum()) == 60
    assert result.bound >= result.objective


def regional(seed: int, n_demand: int = 1500, n_sites: int = 250) -> SitingProblem:
    """Sites and demand points in the unit square; each site reaches its neighbours."""
    rng = np.random.default_rng(seed)
    demand = rng.random((n_demand, 2))
    sites = rng.random((n_sites, 2))
    d = np.linalg.norm(sites[:, None, :] - demand[None, :, :], axis=2)
    return SitingProblem(weight=np.round(rng.lognormal(3.0, 1.0, n_demand), 1),
                         cover=sp.csr_matrix(d <= 0.09), tiers_m2=np.array([100.0]),
                         area_budget_m2=None, count_max=25)


def test_the_losing_mip_stops_with_the_solve_and_the_optimum_is_called_optimal():
    # CP-SAT proves this one first (HiGHS, racing it, is interrupted); the bound of
    # CP-SAT, scaled back from integer coefficients, is the optimum up to rounding
    result = solve_count_only(regional(0), SolveOptions(time_limit_s=120, gap=0.0, workers=2))
    assert result.status == "optimal"
    assert isinstance(result.info.get("mip"), dict)
    left = [t for t in threading.enumerate() if t.name == "hzlogistics-mip" and t.is_alive()]
    assert not left, "the MIP thread outlived the solve"


def test_short_time_limit_still_gives_a_plan_and_progress():
    seen = []
    options = SolveOptions(time_limit_s=2.0, gap=0.0, workers=2,
                           progress=lambda t, inc, bnd: seen.append((t, inc, bnd)))
    result = solve_count_only(big_instance(), options)
    assert result.has_solution
    assert int(result.open.sum()) == 60
    assert seen and all(b >= i - 1e-6 for _, i, b in seen)
    incumbents = [i for _, i, _ in seen]
    assert incumbents == sorted(incumbents)
    assert result.log[-1][1] == pytest.approx(result.objective)


@pytest.mark.parametrize("gap", [1e-3, 0.0])
def test_same_seed_same_plan(gap):
    options = SolveOptions(time_limit_s=60, gap=gap, seed=7, workers=2)
    a = solve_count_only(big_instance(seed=5), options)
    b = solve_count_only(big_instance(seed=5), options)
    assert a.status == b.status == "optimal"
    np.testing.assert_array_equal(a.area_m2, b.area_m2)
    assert [round(v) for _, v, _ in a.log] == [round(v) for _, v, _ in b.log]


def test_hint_is_used():
    problem = big_instance(seed=11)
    first = solve_count_only(problem, SolveOptions(time_limit_s=60, gap=1e-3, workers=2))
    again = solve_count_only(problem, SolveOptions(time_limit_s=60, gap=1e-3, workers=2,
                                                   hint=first.area_m2))
    assert again.objective >= first.objective - 1e-6


def test_dominated_sites_only_within_a_group():
    cover = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]], dtype=bool))
    same = dominated(cover, np.array([0, 0, 0, 0]))
    assert same.tolist() == [False, True, True, False]
    split = dominated(cover, np.array([0, 1, 1, 0]))
    assert split.tolist() == [False, False, True, False]  # twin 2 of 1 goes, 1 stays


def test_filler_sites_meet_a_group_minimum():
    # Site 1 is dominated by site 0 but group 1 needs two open sites.
    cover = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1], [1, 1, 0]], dtype=bool))
    problem = SitingProblem(weight=np.array([3.0, 2.0, 1.0]), cover=cover,
                            tiers_m2=np.array([100.0]), area_budget_m2=None, count_max=3,
                            group=np.array([1, 1, 0, 0]), group_count_min=np.array([0, 2]))
    result = solve_count_only(problem, EXACT)
    assert result.status == "optimal"
    assert result.open[[0, 1]].all()
    assert result.objective == 6.0


def test_highs_plan_at_the_deadline_is_kept(monkeypatch):
    """HiGHS stopped by its time limit, just after the race's deadline: its plan still counts."""
    problem = big_instance(seed=4, n=200, m=800)
    prep, _ = count_core.prepare(problem)
    core = count_core.reduce_core(prep)
    start = count_core.swap_search(core, count_core.greedy(core), time.perf_counter() + 10)
    best, _ = count_search.core_mip(core, start, None, 30.0, 0.0)
    assert best is not None and best.value > start.value  # the first plans are not optimal

    def late_mip(core_, plan, fix, time_limit_s, gap, interrupter=None, **kw):
        time.sleep(time_limit_s + 0.05)  # the best plan, a moment after the deadline
        return best, math.inf

    def idle(core_, tracker, options, deadline, **kw):
        while time.perf_counter() < deadline:
            time.sleep(0.01)

    monkeypatch.setattr(count_coverage, "core_mip", late_mip)
    monkeypatch.setattr(count_coverage, "exact_finish", idle)
    monkeypatch.setattr(count_coverage, "lp_dive", lambda *args, **kw: None)
    result = solve_count_only(problem, SolveOptions(time_limit_s=3.0, gap=0.0, workers=2))
    assert result.objective == pytest.approx(core.constant + best.value)
    assert result.info["mip"]["value"] == pytest.approx(result.objective)
