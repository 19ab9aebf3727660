"""Tiny siting problems with optima known by hand, and a brute-force solver.

Each fixture returns ``(problem, optimum)`` where ``optimum`` holds the best
value and the plan (areas) that reaches it; the reasoning is in the docstring.
"""

from __future__ import annotations

import itertools
import types
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from hzlogistics.solvers.problem import SitingProblem


@dataclass
class Optimum:
    value: float
    area_m2: np.ndarray


def _cover(rows: list[list[int]], n_demand: int) -> sp.csr_matrix:
    dense = np.zeros((len(rows), n_demand), dtype=bool)
    for i, js in enumerate(rows):
        dense[i, js] = True
    return sp.csr_matrix(dense)


@pytest.fixture
def split_capacity() -> tuple[SitingProblem, Optimum]:
    """Capacity 4 parcels/day per m², budget 300 m², tiers 100 / 200 m².

    A covers t1 (600) and t2 (600); B covers t2 and t3 (100). A at 200 m²
    (800) and B at 100 m² (400) serve t1 600 + t2 200 from A and t3 100 +
    t2 300 from B = 1,200 (all capacity used; the budget allows no more).
    A 100 + B 200 serves only 400 + 700 = 1,100.
    """
    problem = SitingProblem(
        weight=np.array([600.0, 600.0, 100.0]),
        cover=_cover([[0, 1], [1, 2]], 3),
        tiers_m2=np.array([100.0, 200.0]),
        area_budget_m2=300.0,
        capacity_per_m2=4.0,
        count_max=2,
    )
    return problem, Optimum(1_200.0, np.array([200.0, 100.0]))


@pytest.fixture
def rent_knapsack() -> tuple[SitingProblem, Optimum]:
    """No capacity; a rent cap of 5,000 USD/year picks two of four sites.

    Rents per 100 m² site: 1,000, 2,000, 3,000, 4,000. Coverage: s0 {t0: 5},
    s1 {t1: 7}, s2 {t0: 5, t2: 9}, s3 {t3: 12}. Within 5,000: {s1, s2} covers
    21, {s0, s3} 17, {s0, s1} 12, {s0, s2} 14: the optimum is {s1, s2}.
    """
    problem = SitingProblem(
        weight=np.array([5.0, 7.0, 9.0, 12.0]),
        cover=_cover([[0], [1], [0, 2], [3]], 4),
        tiers_m2=np.array([100.0]),
        rent_usd_m2_year=np.array([10.0, 20.0, 30.0, 40.0]),
        rent_cap_usd_year=5_000.0,
        area_budget_m2=None,
    )
    return problem, Optimum(21.0, np.array([0.0, 100.0, 100.0, 0.0]))


@pytest.fixture
def quota_groups() -> tuple[SitingProblem, Optimum]:
    """Two countries, each needs a site; at most 3 sites and 400 m² in all.

    Capacity 1 parcel/day per m²; tiers 100 / 200 m². Country AA (sites 0-2)
    has towns of 150, 150 and 120 parcels/day each covered by one site; BB
    (site 3) has one town of 30. BB must have a 100 m² site (serving 30), so
    300 m² and two sites are left for AA: 200 m² at site 0 or 1 (150) and
    100 m² at the other (100): 250. Total 280.
    """
    problem = SitingProblem(
        weight=np.array([150.0, 150.0, 120.0, 30.0]),
        cover=_cover([[0], [1], [2], [3]], 4),
        tiers_m2=np.array([100.0, 200.0]),
        group=np.array([0, 0, 0, 1]),
        group_names=("AA", "BB"),
        demand_group=np.array([0, 0, 0, 1]),
        group_count_min=np.array([1, 1]),
        area_budget_m2=400.0,
        count_max=3,
        capacity_per_m2=1.0,
    )
    return problem, Optimum(280.0, np.array([200.0, 100.0, 0.0, 100.0]))


@pytest.fixture
def existing_and_forbidden() -> tuple[SitingProblem, Optimum]:
    """An existing site is kept; the best new site is forbidden.

    Capacity 2 parcels/day per m²; tiers 100 / 200 m²; budget 450 m²; at most
    2 sites. Site 0 exists with 150 m² and reaches only t0 (100); site 1
    (forbidden) reaches everything; site 2 reaches t1 (400) and t2 (100).
    Site 0 keeps 150 m² (serving 100); 300 m² remain, so site 2 gets 200 m²
    (capacity 400 of its 500): 500 in all.
    """
    problem = SitingProblem(
        weight=np.array([100.0, 400.0, 100.0]),
        cover=_cover([[0], [0, 1, 2], [1, 2]], 3),
        tiers_m2=np.array([100.0, 200.0]),
        existing_area_m2=np.array([150.0, 0.0, 0.0]),
        forbidden=np.array([False, True, False]),
        area_budget_m2=450.0,
        count_max=2,
        capacity_per_m2=2.0,
    )
    return problem, Optimum(500.0, np.array([150.0, 0.0, 200.0]))


@pytest.fixture
def competitor_value() -> tuple[SitingProblem, Optimum]:
    """One site of 100 m²; a competitor halves the value of the larger town.

    Site 0 reaches t0 (1,000, served by a competitor: value 0.5 → 500); site
    1 reaches t1 (700, value 1). Site 1 wins: 700.
    """
    problem = SitingProblem(
        weight=np.array([1_000.0, 700.0]),
        cover=_cover([[0], [1]], 2),
        tiers_m2=np.array([100.0, 200.0]),
        area_budget_m2=100.0,
        value=np.array([0.5, 1.0]),
        rent_usd_m2_year=np.array([1.0, 1.0]),
        rent_cap_usd_year=1_000.0,
    )
    return problem, Optimum(700.0, np.array([0.0, 100.0]))


# --- brute force ----------------------------------------------------------------------------


def allowed_areas(problem: SitingProblem, i: int) -> list[float]:
    """Areas site ``i`` may take, written out from the problem's definition."""
    tiers = sorted(set(np.asarray(problem.tiers_m2, dtype=float).tolist()))
    max_area = np.inf if problem.max_area_m2 is None else float(problem.max_area_m2[i])
    existing = 0.0 if problem.existing_area_m2 is None else float(problem.existing_area_m2[i])
    if problem.forbidden is not None and problem.forbidden[i]:
        return []
    opts = [t for t in tiers if t > existing] if existing > 0 else tiers
    if existing > 0 and existing not in opts:
        opts = [existing] + opts
    return [a for a in opts if a <= max_area]


def feasible(problem: SitingProblem, area: np.ndarray) -> bool:
    """Whether a plan meets every constraint (written independently of the library)."""
    n = problem.n_sites
    existing = np.zeros(n) if problem.existing_area_m2 is None else problem.existing_area_m2
    for i in range(n):
        if area[i] > 0 and area[i] not in allowed_areas(problem, i):
            return False
        if existing[i] > 0 and area[i] < existing[i]:
            return False
    opened = area > 0
    count = int(opened.sum())
    if count < problem.count_min or (problem.count_max is not None and
                                     count > problem.count_max):
        return False
    if problem.area_budget_m2 is not None and area.sum() > problem.area_budget_m2 + 1e-9:
        return False
    if problem.rent_cap_usd_year is not None:
        rent = np.zeros(n) if problem.rent_usd_m2_year is None else problem.rent_usd_m2_year
        if float(area @ rent) > problem.rent_cap_usd_year + 1e-9:
            return False
    if problem.group is not None:
        n_groups = max(int(problem.group.max()) + 1, len(problem.group_names))
        for g in range(n_groups):
            in_g = problem.group == g
            c, a = int(opened[in_g].sum()), float(area[in_g].sum())
            for arr, val, sign in ((problem.group_count_min, c, 1),
                                   (problem.group_count_max, c, -1),
                                   (problem.group_area_min_m2, a, 1),
                                   (problem.group_area_max_m2, a, -1)):
                if arr is not None and sign * (val - arr[g]) < -1e-9:
                    return False
    return True


def plan_value(problem: SitingProblem, area: np.ndarray) -> float:
    """Best value a plan serves: coverage, or a max-value flow LP (HiGHS) with capacity."""
    w = np.asarray(problem.weight, dtype=float)
    v = np.ones_like(w) if problem.value is None else np.asarray(problem.value, dtype=float)
    cover = sp.csr_matrix(problem.cover).toarray().astype(bool) & (area > 0)[:, None]
    if problem.capacity_per_m2 is None:
        return float(np.sum((w * v)[cover.any(axis=0)]))
    pairs = np.argwhere(cover)
    if pairs.size == 0:
        return 0.0
    n_pairs = len(pairs)
    a_ub = np.zeros((problem.n_sites + problem.n_demand, n_pairs))
    for e, (i, j) in enumerate(pairs):
        a_ub[i, e] = 1.0
        a_ub[problem.n_sites + j, e] = 1.0
    b_ub = np.concatenate([problem.capacity_per_m2 * area, w])
    res = linprog(-v[pairs[:, 1]], A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    return float(-res.fun)


def brute_force(problem: SitingProblem) -> Optimum | None:
    """The optimum by enumerating every plan (None when no plan is feasible)."""
    choices = [[0.0] + allowed_areas(problem, i) for i in range(problem.n_sites)]
    best: Optimum | None = None
    for combo in itertools.product(*choices):
        area = np.array(combo, dtype=float)
        if not feasible(problem, area):
            continue
        val = plan_value(problem, area)
        if best is None or val > best.value + 1e-9:
            best = Optimum(val, area)
    return best


@pytest.fixture(scope="session")
def oracle() -> types.SimpleNamespace:
    """The independent checks: ``brute_force``, ``feasible`` and ``plan_value``."""
    return types.SimpleNamespace(brute_force=brute_force, feasible=feasible, plan_value=plan_value)
