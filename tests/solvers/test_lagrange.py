"""The sparse Lagrangian bound: a lower bound of the full problem, whatever pairs it keeps."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hzlogistics.solvers.lagrange import (
    PairIndex,
    by_demand_then_cost,
    cheapest_pairs,
    select_sites,
    sparse_lagrangian,
)


def brute_optimum(cost: np.ndarray, f: np.ndarray, forced: np.ndarray, kmin: int,
                  kmax: int) -> float:
    """Least open cost plus each column at its cheapest open site (``inf`` = no pair)."""
    n = cost.shape[0]
    best = math.inf
    for k in range(kmin, kmax + 1):
        for subset in itertools.combinations(range(n), k):
            open_ = np.zeros(n, dtype=bool)
            open_[list(subset)] = True
            if np.any(forced & ~open_) or not open_.any():
                continue
            each = cost[open_].min(axis=0)
            if np.all(np.isfinite(each)):
                best = min(best, float(each.sum() + f[open_].sum()))
    return best


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 6))
    cost = np.array(draw(st.lists(st.one_of(st.integers(0, 30), st.just(-1)),
                                  min_size=n * m, max_size=n * m)), dtype=float).reshape(n, m)
    cost[cost < 0] = np.inf
    for j in np.flatnonzero(~np.isfinite(cost).any(axis=0)):
        cost[draw(st.integers(0, n - 1)), j] = float(draw(st.integers(0, 30)))
    f = np.array(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)), dtype=float)
    forced = np.zeros(n, dtype=bool)
    if draw(st.booleans()):
        forced[draw(st.integers(0, n - 1))] = True
    kmin = draw(st.integers(int(forced.sum()), n))
    kmax = draw(st.integers(max(kmin, 1), n))
    return cost, f, forced, kmin, kmax


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=instances(), keep=st.integers(1, 4))
def test_bound_never_exceeds_the_optimum(data: tuple, keep: int) -> None:
    cost, f, forced, kmin, kmax = data
    n, m = cost.shape
    opt = brute_optimum(cost, f, forced, kmin, kmax)
    site, demand = np.nonzero(np.isfinite(cost))
    pairs = cheapest_pairs(site, demand, cost[site, demand], n_sites=n, n_demand=m, keep=keep)
    dual = sparse_lagrangian(pairs, f, can=np.ones(n, dtype=bool), forced=forced, kmin=kmin,
                             kmax=kmax, upper=opt if math.isfinite(opt) else 1e6,
                             deadline=time.perf_counter() + 10, max_iter=300)
    if math.isfinite(opt):
        assert dual.bound <= opt + 1e-6 * max(1.0, opt)
    assert np.all(dual.lam <= pairs.cap + 1e-12)
    assert int(dual.chosen.sum()) in range(kmin, kmax + 1)
    assert np.all(dual.chosen[forced])


def test_bound_reaches_the_optimum_of_an_easy_instance() -> None:
    # two clusters, two sites each side; with two sites the optimum opens one per cluster
    cost = np.array([[0.0, 1.0, 9.0, 9.0], [1.0, 0.0, 9.0, 9.0],
                     [9.0, 9.0, 0.0, 1.0], [9.0, 9.0, 1.0, 0.0]])
    site, demand = np.nonzero(cost >= 0)
    pairs = cheapest_pairs(site, demand, cost[site, demand], n_sites=4, n_demand=4, keep=4)
    dual = sparse_lagrangian(pairs, np.zeros(4), can=np.ones(4, dtype=bool),
                             forced=np.zeros(4, dtype=bool), kmin=2, kmax=2, upper=2.0,
                             deadline=time.perf_counter() + 10)
    assert dual.bound == pytest.approx(2.0, abs=1e-6)


def test_cheapest_pairs_keeps_the_cheapest_and_caps_at_the_next() -> None:
    site = np.array([0, 1, 2, 3, 0, 1])
    demand = np.array([0, 0, 0, 0, 1, 1])
    cost = np.array([4.0, 1.0, 3.0, 2.0, 5.0, 6.0])
    p = cheapest_pairs(site, demand, cost, n_sites=4, n_demand=2, keep=2)
    assert sorted(zip(p.demand.tolist(), p.site.tolist(), strict=True)) == [
        (0, 1), (0, 3), (1, 0), (1, 1)]
    assert p.cap.tolist() == [3.0, math.inf]


def test_pairs_ordered_by_demand_then_cost() -> None:
    rng = np.random.default_rng(0)
    demand = rng.integers(0, 50, 2000)
    cost = rng.random(2000) * 1e5
    order = by_demand_then_cost(demand, cost)
    d, c = demand[order], cost[order]
    assert np.all(np.diff(d) >= 0)
    same = d[1:] == d[:-1]
    assert np.all(c[1:][same] >= c[:-1][same])


def test_select_sites_respects_the_count_range() -> None:
    rho = np.array([-5.0, -1.0, 3.0, 4.0])
    forced = np.array([False, False, False, True])
    chosen, _, _ = select_sites(rho, forced, 0, 4)
    assert chosen.tolist() == [True, True, False, True]
    chosen, _, _ = select_sites(rho, forced, 4, 4)
    assert chosen.all()
    chosen, _, _ = select_sites(rho, forced, 0, 2)
    assert chosen.tolist() == [True, False, False, True]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=instances(), lam=st.lists(st.integers(-5, 40), min_size=6, max_size=6),
       pick=st.lists(st.booleans(), min_size=5, max_size=5))
def test_pair_index_matches_the_dense_formulas(data: tuple, lam: list[int],
                                               pick: list[bool]) -> None:
    """Reduced costs and the served counts from the index equal those over the whole matrix."""
    cost, f, *_ = data
    n, m = cost.shape
    mult = np.array(lam[:m], dtype=float) + 0.5 * (np.arange(m) % 2)
    chosen = np.array(pick[:n])
    index = PairIndex(cost)
    gain = np.where(np.isfinite(cost), np.minimum(cost - mult[None, :], 0.0), 0.0)
    assert np.allclose(index.rho(mult, f), f + gain.sum(axis=1))
    sites = np.flatnonzero(chosen)
    assert np.allclose(index.rho(mult, f[sites], sites), (f + gain.sum(axis=1))[sites])
    assert index.served(mult, chosen).tolist() == (cost[chosen] < mult).sum(axis=0).tolist()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=instances())
def test_dense_lagrangian_bound_never_exceeds_the_optimum(data: tuple) -> None:
    """The subgradient ascent over the pair index gives a lower bound of the brute optimum."""
    from hzlogistics.models.location.uncapacitated import lagrangian

    cost, f, forced, kmin, kmax = data
    n = cost.shape[0]
    best = brute_optimum(cost, f, forced, kmin, kmax)
    lam0 = np.where(np.isfinite(cost), cost, 0.0).max(axis=0)
    upper = best if math.isfinite(best) else float(np.where(np.isfinite(cost), cost, 0).sum()
                                                   + f.sum() + 1.0)
    dual = lagrangian(PairIndex(cost), f, sites=np.arange(n), forced=forced, kmin=kmin,
                      kmax=kmax, upper=upper, lam0=lam0, threshold=math.inf,
                      deadline=time.perf_counter() + 10.0, stop=None, max_iter=300)
    assert dual.bound <= best + 1e-6 * max(1.0, abs(best))
