"""The cost objective (capacitated facility location), and helpers shared by the
median and minimum-area tests: random tiny instances, a brute-force optimum and a
checker of every constraint of a plan."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from hzlogistics._errors import ValidationError
from hzlogistics.models.cost import solve_cost
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult

EXACT = SolveOptions(time_limit_s=30, gap=0.0)
TOL = 1e-6


# --- random tiny instances -------------------------------------------------------------------


@st.composite
def cases(draw: st.DrawFn, *, capacitated: bool | None = None, max_sites: int = 4,
          max_demand: int = 5) -> SitingProblem:
    """A random problem of at most ``max_sites`` sites, all constraints possible."""
    n = draw(st.integers(1, max_sites))
    m = draw(st.integers(1, max_demand))
    cover = np.array(draw(st.lists(st.lists(st.booleans(), min_size=m, max_size=m),
                                   min_size=n, max_size=n)), dtype=bool)
    if draw(st.sampled_from([True, True, True, False])):  # mostly every point is reachable
        for j in np.flatnonzero(~cover.any(axis=0)):
            cover[draw(st.integers(0, n - 1)), j] = True
    weight = np.array(draw(st.lists(st.integers(1, 9), min_size=m, max_size=m)), dtype=float)
    hours = np.array(draw(st.lists(st.integers(0, 9), min_size=n * m, max_size=n * m)),
                     dtype=float).reshape(n, m)
    tiers = np.array(sorted(draw(st.sets(st.sampled_from([100.0, 200.0, 300.0]), min_size=1,
                                         max_size=2))))
    existing = np.zeros(n)
    forbidden = np.zeros(n, dtype=bool)
    if draw(st.booleans()):
        i = draw(st.integers(0, n - 1))
        existing[i] = draw(st.sampled_from([100.0, 150.0, 200.0]))
    if draw(st.sampled_from([True, False, False])):
        forbidden[draw(st.integers(0, n - 1))] = True
    max_area = None
    if draw(st.sampled_from([True, False, False])):
        max_area = np.array(draw(st.lists(st.sampled_from([100.0, 200.0, np.inf]), min_size=n,
                                          max_size=n)))
    count_min = min(n, draw(st.sampled_from([0, 0, 1, 2])))
    count_max = draw(st.one_of(st.none(), st.integers(count_min, n)))
    budget = draw(st.one_of(st.none(), st.sampled_from([200.0, 400.0, 800.0])))
    rent = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)), dtype=float)
    rent_cap = draw(st.one_of(st.none(), st.sampled_from([800.0, 3000.0])))
    group = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    gcmin = gamin = gamax = None
    if draw(st.sampled_from([True, False, False, False])):
        gcmin = np.array([draw(st.integers(0, 1)), 0])
        gamax = np.array([draw(st.sampled_from([200.0, np.inf])), np.inf])
    if draw(st.sampled_from([True, False, False, False])):
        gamin = np.array([0.0, draw(st.sampled_from([0.0, 200.0]))])
    use_cap = draw(st.booleans()) if capacitated is None else capacitated
    cap_m2 = site_cap = None
    if use_cap:
        if draw(st.booleans()):
            cap_m2 = draw(st.sampled_from([0.05, 0.1, 0.2, 0.4]))
        if cap_m2 is None or draw(st.booleans()):
            site_cap = np.array(draw(st.lists(st.integers(5, 40), min_size=n, max_size=n)),
                                dtype=float)
    fixed = np.array(draw(st.lists(st.integers(0, 20), min_size=n, max_size=n)), dtype=float)
    csr = sp.csr_matrix(cover)
    tt = sp.csr_matrix(np.where(cover, hours, 0.0))
    return SitingProblem(
        weight=weight, cover=csr, travel_time_h=tt, tiers_m2=tiers, max_area_m2=max_area,
        existing_area_m2=existing, forbidden=forbidden, rent_usd_m2_year=rent, group=group,
        group_names=("AA", "BB"), area_budget_m2=budget, count_min=count_min,
        count_max=count_max, capacity_per_m2=cap_m2, group_count_min=gcmin,
        group_area_min_m2=gamin, group_area_max_m2=gamax, rent_cap_usd_year=rent_cap,
        fixed_cost_usd_year=fixed, site_capacity=site_cap,
    )


# --- brute force -----------------------------------------------------------------------------


def site_options(p: SitingProblem) -> list[list[float]]:
    """Areas each site may take, 0 = closed (an existing site stays open with at
    least its area: its current area or a larger tier; max_area_m2 caps all)."""
    n = p.n_sites
    out = []
    for i in range(n):
        e = 0.0 if p.existing_area_m2 is None else float(p.existing_area_m2[i])
        cap = np.inf if p.max_area_m2 is None else float(p.max_area_m2[i])
        if p.forbidden is not None and p.forbidden[i]:
            out.append([0.0] if e == 0 else [])
            continue
        sizes = ([e] + [t for t in p.tiers_m2 if t > e]) if e > 0 else list(p.tiers_m2)
        sizes = [a for a in sizes if a <= cap]
        out.append(sizes if e > 0 else [0.0, *sizes])
    return out


def site_violations(p: SitingProblem, area: np.ndarray) -> list[str]:
    """Every site-side constraint the areas break (written independently of the package)."""
    out = []
    opts = site_options(p)
    for i, a in enumerate(area):
        if not any(abs(a - o) < 1e-9 for o in opts[i]):
            out.append(f"site {i} area {a} not in {opts[i]}")
    open_ = area > 0
    k = int(open_.sum())
    cmax = p.n_sites if p.count_max is None else p.count_max
    if not p.count_min <= k <= cmax:
        out.append(f"count {k}")
    if p.area_budget_m2 is not None and area.sum() > p.area_budget_m2 + 1e-9:
        out.append("budget")
    if p.rent_cap_usd_year is not None and area @ p.rent_usd_m2_year > p.rent_cap_usd_year + 1e-9:
        out.append("rent cap")
    for g in range(2):
        in_g = p.group == g
        if p.group_count_min is not None and open_[in_g].sum() < p.group_count_min[g]:
            out.append(f"group {g} count")
        if p.group_area_min_m2 is not None and area[in_g].sum() < p.group_area_min_m2[g] - 1e-9:
            out.append(f"group {g} area min")
        if p.group_area_max_m2 is not None and area[in_g].sum() > p.group_area_max_m2[g] + 1e-9:
            out.append(f"group {g} area max")
    return out


def capacity_of(p: SitingProblem, area: np.ndarray) -> np.ndarray:
    cap = np.full(p.n_sites, np.inf)
    if p.capacity_per_m2 is not None:
        cap = np.minimum(cap, p.capacity_per_m2 * area)
    if p.site_capacity is not None:
        cap = np.minimum(cap, np.where(area > 0, p.site_capacity, 0.0))
    return np.where(area > 0, cap, 0.0)


def best_assignment(p: SitingProblem, area: np.ndarray, c: np.ndarray, *,
                    single: bool = False) -> float | None:
    """Least cost of serving all demand from the open sites (``c``: cost of all of j
    from i, nan where i does not reach j); ``None`` if impossible."""
    cover = p.cover.toarray().astype(bool) & (area > 0)[:, None]
    w = p.weight
    cap = capacity_of(p, area)
    n, m = cover.shape
    if not cover.any(axis=0).all():
        return None
    if np.all(np.isinf(cap)):
        return float(sum(np.min(c[cover[:, j], j]) for j in range(m)))
    if single:
        best = None
        for pick in itertools.product(*[np.flatnonzero(cover[:, j]) for j in range(m)]):
            load = np.bincount(np.array(pick), weights=w, minlength=n)
            if np.all(load <= cap + 1e-9):
                v = float(sum(c[i, j] for j, i in enumerate(pick)))
                best = v if best is None else min(best, v)
        return best
    pairs = np.argwhere(cover)
    a_eq = np.zeros((m, len(pairs)))
    a_ub = np.zeros((n, len(pairs)))
    for k, (i, j) in enumerate(pairs):
        a_eq[j, k] = 1.0
        a_ub[i, k] = w[j]
    fin = np.isfinite(cap)
    res = linprog(np.array([c[i, j] for i, j in pairs]), A_ub=a_ub[fin], b_ub=cap[fin],
                  A_eq=a_eq, b_eq=np.ones(m), bounds=(0, 1), method="highs")
    return float(res.fun) if res.status == 0 else None


def most_served(p: SitingProblem, area: np.ndarray) -> float:
    """Most parcels/day the open sites can serve within the service level."""
    cover = p.cover.toarray().astype(bool) & (area > 0)[:, None]
    w = p.weight
    cap = capacity_of(p, area)
    if np.all(np.isinf(cap)):
        return float(w[cover.any(axis=0)].sum())
    pairs = np.argwhere(cover)
    if not len(pairs):
        return 0.0
    n, m = cover.shape
    a = np.zeros((n + m, len(pairs)))
    for k, (i, j) in enumerate(pairs):
        a[i, k] = w[j]
        a[n + j, k] = 1.0
    b = np.concatenate([np.where(np.isfinite(cap), cap, 1e12), np.ones(m)])
    res = linprog(-np.array([w[j] for _, j in pairs]), A_ub=a, b_ub=b, bounds=(0, 1),
                  method="highs")
    return float(-res.fun)


def all_plans(p: SitingProblem) -> list[np.ndarray]:
    """Every plan that satisfies the site-side constraints."""
    return [np.array(a) for a in itertools.product(*site_options(p))
            if not site_violations(p, np.array(a))]


def brute_cost(p: SitingProblem, c: np.ndarray, *, site_cost: bool, single: bool = False
               ) -> float | None:
    best = None
    for area in all_plans(p):
        v = best_assignment(p, area, c, single=single)
        if v is None:
            continue
        if site_cost:
            v += float(p.fixed_cost_usd_year @ (area > 0) + p.rent_usd_m2_year @ area)
        best = v if best is None else min(best, v)
    return best


# --- checks of a result ----------------------------------------------------------------------


def check_plan(p: SitingProblem, r: SolveResult, *, full: bool, share: float | None = None,
               single: bool = False) -> np.ndarray:
    """Assert every constraint of the plan in ``r``; return the served matrix."""
    assert r.has_solution, r
    area = np.asarray(r.area_m2, dtype=float)
    assert site_violations(p, area) == []
    served = r.served.toarray()
    cover = p.cover.toarray().astype(bool)
    assert np.all(served >= -TOL)
    assert np.all(served[~cover] <= TOL), "served along a pair that is not covered"
    assert np.all(served[area == 0] <= TOL), "served from a closed site"
    per_point = served.sum(axis=0)
    assert np.all(per_point <= p.weight + TOL)
    if full:
        assert np.allclose(per_point, p.weight, atol=TOL)
    if share is not None:
        assert per_point.sum() >= share * p.weight.sum() - TOL
    assert np.all(served.sum(axis=1) <= capacity_of(p, area) + TOL)
    if single:
        assert np.all((served > TOL).sum(axis=0) <= 1)
    assert r.sense == "min"
    assert r.bound <= r.objective + TOL * max(1.0, abs(r.objective))
    return served


def pair_cost(p: SitingProblem, rate: float) -> np.ndarray:
    """Cost of serving all of j from i along covered pairs (nan elsewhere)."""
    cover = p.cover.toarray().astype(bool)
    return np.where(cover, p.weight[None, :] * p.travel_time_h.toarray() * rate, np.nan)


# --- the cost objective ----------------------------------------------------------------------

RATE = 0.5  # USD per parcel-hour
DAYS = 10.0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(max_sites=3, max_demand=4), single=st.booleans())
def test_cost_equals_brute_force(p: SitingProblem, single: bool) -> None:
    c = pair_cost(p, RATE * DAYS)
    expected = brute_cost(p, c, site_cost=True, single=single)
    r = solve_cost(p, EXACT, assignment="single" if single else "split",
                   cost_usd_per_parcel_h=RATE, days_per_year=DAYS)
    if expected is None:
        event("infeasible")
        assert r.status == "infeasible" and r.reasons
        return
    event("capacitated" if p.capacity_per_m2 or p.site_capacity is not None else "uncapacitated")
    assert r.status == "optimal", (r.status, r.reasons, r.info)
    served = check_plan(p, r, full=True, single=single)
    assert r.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert r.bound <= expected + 1e-6 * max(1.0, expected)
    # the objective is the plan's own cost
    area = r.area_m2
    share = np.divide(served, p.weight[None, :])
    value = (p.fixed_cost_usd_year @ (area > 0) + p.rent_usd_m2_year @ area
             + np.nansum(np.where(share > 0, c, 0.0) * share))
    assert value == pytest.approx(r.objective, rel=1e-6, abs=1e-6)


def _two_site_problem(**kw: object) -> SitingProblem:
    base = dict(
        weight=np.array([4.0, 4.0, 4.0]), cover=sp.csr_matrix(np.ones((2, 3))),
        tiers_m2=np.array([100.0]), area_budget_m2=None,
        assign_cost=sp.csr_matrix(np.array([[1.0, 5.0, 9.0], [9.0, 5.0, 1.0]])),
        fixed_cost_usd_year=np.array([3.0, 3.0]),
    )
    base.update(kw)
    return SitingProblem(**base)  # type: ignore[arg-type]


def test_cost_by_hand_capacity_splits_demand() -> None:
    # uncapacitated: one site (3 + 1 + 5 + 9 = 18) vs both (6 + 1 + 5 + 1 = 13): both
    r = solve_cost(_two_site_problem(), EXACT)
    assert r.objective == 13.0 and r.open.tolist() == [True, True]
    # site 0 holds 6 parcels/day only: it takes point 0 (4) and half of point 1
    p = _two_site_problem(site_capacity=np.array([6.0, 100.0]))
    r = solve_cost(p, EXACT)
    assert r.objective == pytest.approx(13.0)  # point 1 costs 5 from either site
    served = r.served.toarray()
    assert served[0].sum() <= 6.0 + 1e-9
    # single assignment: point 1 goes whole to one site; still 13
    r = solve_cost(p, EXACT, assignment="single")
    assert np.all((r.served.toarray() > 0).sum(axis=0) == 1)


def test_cost_infeasible_capacity_explained() -> None:
    p = _two_site_problem(site_capacity=np.array([4.0, 5.0]))
    r = solve_cost(p, EXACT)
    assert r.status == "infeasible" and not r.has_solution
    assert any("total site capacity 9 < total demand 12" in s for s in r.reasons), r.reasons


def test_cost_unreachable_demand_explained() -> None:
    cover = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0]]))
    p = _two_site_problem(cover=cover, demand_ids=np.array(["a", "b", "c"]))
    r = solve_cost(p, EXACT)
    assert r.status == "infeasible"
    assert r.reasons == ["1 demand points (4 parcels/day, e.g. c) are reached by no site that "
                         "may be opened, but every demand point must be served"]


def test_cost_rejects_bad_options() -> None:
    with pytest.raises(ValidationError, match="assignment"):
        solve_cost(_two_site_problem(), EXACT, assignment="shared")  # type: ignore[arg-type]
    p = _two_site_problem(assign_cost=None)
    with pytest.raises(ValidationError, match="travel_time_h or SitingProblem.assign_cost"):
        solve_cost(p, EXACT)
    with pytest.raises(ValidationError, match="fixed_cost_usd_year"):
        solve_cost(_two_site_problem(fixed_cost_usd_year=np.array([1.0])), EXACT)


def test_cost_travel_time_priced_per_parcel_hour() -> None:
    # one site, one point of 2 parcels/day, 3 hours away: 2 x 3 x 0.5 USD x 365 days
    p = SitingProblem(weight=np.array([2.0]), cover=sp.csr_matrix(np.ones((1, 1))),
                      travel_time_h=sp.csr_matrix(np.array([[3.0]])), tiers_m2=np.array([100.0]),
                      rent_usd_m2_year=np.array([2.0]), area_budget_m2=None)
    r = solve_cost(p, EXACT, cost_usd_per_parcel_h=0.5)
    assert r.objective == pytest.approx(2 * 3 * 0.5 * 365 + 200.0)


def test_cost_same_seed_same_plan() -> None:
    rng = np.random.default_rng(3)
    n, m = 12, 40
    p = SitingProblem(weight=rng.integers(1, 9, m).astype(float),
                      cover=sp.csr_matrix(np.ones((n, m))), tiers_m2=np.array([1.0]),
                      area_budget_m2=None,
                      assign_cost=sp.csr_matrix(rng.integers(1, 100, (n, m)).astype(float)),
                      fixed_cost_usd_year=rng.integers(50, 150, n).astype(float),
                      site_capacity=np.full(n, 60.0))
    opts = SolveOptions(time_limit_s=30, gap=0, seed=7)
    a, b = solve_cost(p, opts), solve_cost(p, opts)
    assert a.objective == b.objective
    assert np.array_equal(a.area_m2, b.area_m2)
    assert (a.served != b.served).nnz == 0


def test_cost_stop_event_returns_interrupted_or_finished_plan() -> None:
    stop = threading.Event()
    stop.set()
    r = solve_cost(_two_site_problem(), SolveOptions(time_limit_s=30, gap=0, stop=stop))
    # stopped before anything: either no plan ("error") or the plan known so far
    assert r.status in ("interrupted", "error")
    if r.status == "interrupted":
        check_plan(_two_site_problem(), r, full=True)


def test_cost_progress_callback_sees_incumbents() -> None:
    seen: list[tuple[float, float, float]] = []
    p = _two_site_problem()
    r = solve_cost(p, SolveOptions(time_limit_s=30, gap=0,
                                   progress=lambda t, inc, bnd: seen.append((t, inc, bnd))))
    assert seen and seen[-1][1] == pytest.approx(r.objective)
    assert all(b <= inc + 1e-9 for _, inc, b in seen if np.isfinite(inc))
    assert r.log == seen


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=cases(capacitated=True, max_sites=3, max_demand=4))
def test_capacitated_cost_equals_brute_force(p: SitingProblem) -> None:
    c = pair_cost(p, RATE * DAYS)
    expected = brute_cost(p, c, site_cost=True)
    r = solve_cost(p, EXACT, cost_usd_per_parcel_h=RATE, days_per_year=DAYS)
    if expected is None:
        assert r.status == "infeasible" and r.reasons
        return
    assert r.status == "optimal", (r.status, r.reasons, r.info)
    check_plan(p, r, full=True)
    assert r.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert r.bound <= expected + 1e-6 * max(1.0, expected)


@st.composite
def uflp(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Dense UFLP data: fixed costs and assignment costs (integers)."""
    n = draw(st.integers(2, 10))
    m = draw(st.integers(2, 25))
    f = np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), dtype=float)
    c = np.array(draw(st.lists(st.integers(0, 40), min_size=n * m, max_size=n * m)),
                 dtype=float).reshape(n, m)
    return f, c


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=uflp())
def test_uncapacitated_cost_equals_enumeration(data: tuple[np.ndarray, np.ndarray]) -> None:
    f, c = data
    n, m = c.shape
    best = min(f[list(s)].sum() + c[list(s)].min(axis=0).sum()
               for k in range(1, n + 1) for s in itertools.combinations(range(n), k))
    p = SitingProblem(weight=np.ones(m), cover=sp.csr_matrix(np.ones((n, m))),
                      tiers_m2=np.array([1.0]), area_budget_m2=None,
                      fixed_cost_usd_year=f, assign_cost=sp.csr_matrix(c))
    r = solve_cost(p, EXACT)
    assert r.status == "optimal"
    event("branch and bound" if r.info.get("search_nodes") else
          "MIP" if "mip_status" in r.info else "Lagrangian bound")
    assert r.objective == best and r.bound == best
    open_ = np.flatnonzero(r.open)
    assert f[open_].sum() + c[open_].min(axis=0).sum() == best


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_continuous_knapsack_matches_lp(data: st.DataObject) -> None:
    from hzlogistics.solvers.subproblems import knapsack

    m = data.draw(st.integers(1, 8))
    v = np.array(data.draw(st.lists(st.integers(-9, 9), min_size=m, max_size=m)), dtype=float)
    v[np.array(data.draw(st.lists(st.booleans(), min_size=m, max_size=m)))] = np.inf
    w = np.array(data.draw(st.lists(st.integers(1, 6), min_size=m, max_size=m)), dtype=float)
    cap = float(data.draw(st.integers(0, 20)))
    value, x = knapsack(v[None, :], w, np.array([cap]))
    ok = np.isfinite(v)
    res = linprog(np.where(ok, v, 0.0), A_ub=w[None, :], b_ub=[cap],
                  bounds=[(0, 1 if o else 0) for o in ok], method="highs")
    assert value[0] == pytest.approx(res.fun, abs=1e-9)
    assert w @ x[0] <= cap + 1e-9 and np.all(x[0][~ok] == 0)


@pytest.mark.parametrize(("weight", "caps", "expected"), [
    ((6.0, 1.0), (5.0, 5.0, 7.0), 30.0),  # HiGHS failed on the warm start of this one
    ((8.0, 1.0), (5.0, 5.0, 9.0), 40.0),  # its MIP is infeasible below the plan: optimal
])
def test_capacitated_cost_small_cases_end_optimal(weight: tuple[float, float],
                                                  caps: tuple[float, float, float],
                                                  expected: float) -> None:
    cover = np.array([[1, 0], [0, 0], [1, 1]], dtype=bool)
    hours = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    p = SitingProblem(
        weight=np.array(weight), cover=sp.csr_matrix(cover), travel_time_h=sp.csr_matrix(hours),
        tiers_m2=np.array([100.0]), existing_area_m2=np.array([0.0, 0.0, 150.0]),
        rent_usd_m2_year=np.zeros(3), group=np.zeros(3, dtype=int), group_names=("AA", "BB"),
        area_budget_m2=None, group_area_max_m2=np.array([200.0, np.inf]),
        fixed_cost_usd_year=np.zeros(3), site_capacity=np.array(caps))
    r = solve_cost(p, EXACT, cost_usd_per_parcel_h=RATE, days_per_year=DAYS)
    assert r.status == "optimal"
    check_plan(p, r, full=True)
    assert r.objective == pytest.approx(expected)
    assert r.objective == pytest.approx(brute_cost(p, pair_cost(p, RATE * DAYS), site_cost=True))
