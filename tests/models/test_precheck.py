"""Tests of the infeasibility explanations: each conflict is named with its numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.models.precheck import diagnose_infeasibility, explain_infeasibility
from hzlogistics.solvers.problem import SitingProblem


def problem(n: int = 4, **kw) -> SitingProblem:
    """``n`` sites in groups DE (first half) and JO, one demand point each."""
    base = dict(
        weight=np.ones(n),
        cover=sp.csr_matrix(np.eye(n, dtype=bool)),
        tiers_m2=np.array([100.0, 200.0, 500.0]),
        group=np.array([0] * (n // 2) + [1] * (n - n // 2)),
        group_names=("DE", "JO"),
        area_budget_m2=10_000.0,
        capacity_per_m2=1.0,
    )
    base.update(kw)
    return SitingProblem(**base)


def test_feasible_problem_has_no_reasons():
    assert explain_infeasibility(problem(count_min=2)) == []
    assert diagnose_infeasibility(problem(count_min=2)) == []


def test_count_min_above_candidates():
    p = problem(count_min=5, forbidden=np.array([False, True, False, False]))
    assert "count_min 5 > number of allowed candidate sites 3" in explain_infeasibility(p)


def test_count_min_above_count_max():
    p = problem(count_min=3, count_max=2)
    assert "count_min 3 > count_max 2" in explain_infeasibility(p)


def test_existing_area_above_budget():
    p = problem(existing_area_m2=np.array([6_000.0, 6_000.0, 0.0, 0.0]),
                tiers_m2=np.array([100.0]))
    assert "existing sites already use 12,000 m² of a 10,000 m² budget" in \
        explain_infeasibility(p)


def test_group_minimum_areas_above_budget():
    p = problem(n=4, tiers_m2=np.array([100.0, 200_000.0]), area_budget_m2=200_000.0,
                group_area_min_m2=np.array([120_000.0, 110_000.0]))
    assert "per-group minimum areas sum to 230,000 m² > area budget 200,000 m²" in \
        explain_infeasibility(p)


def test_group_needs_more_sites_than_candidates():
    p = problem(n=4, group_count_min=np.array([0, 3]))
    assert "JO needs ≥ 3 sites but has 2 allowed candidates" in explain_infeasibility(p)


def test_group_minimum_sites_times_smallest_tier_above_budget():
    p = problem(n=6, group_count_min=np.array([3, 3]), area_budget_m2=500.0,
                tiers_m2=np.array([100.0, 200.0]))
    reasons = explain_infeasibility(p)
    assert any("minimum sites per group need at least 600 m²" in r and "500 m²" in r
               for r in reasons), reasons


def test_count_min_times_smallest_tier_above_budget():
    p = problem(n=6, count_min=6, area_budget_m2=550.0, tiers_m2=np.array([100.0, 200.0]))
    reasons = explain_infeasibility(p)
    assert any(r.startswith("count_min 6 sites need at least 600 m²") for r in reasons), reasons


def test_existing_sites_exceed_group_max_area():
    p = problem(existing_area_m2=np.array([300.0, 300.0, 0.0, 0.0]),
                group_area_max_m2=np.array([500.0, np.inf]))
    assert "existing sites in DE (600 m²) exceed its max area 500 m²" in explain_infeasibility(p)


def test_existing_site_forbidden_or_too_large():
    p = problem(existing_area_m2=np.array([200.0, 800.0, 0.0, 0.0]),
                forbidden=np.array([True, False, False, False]),
                max_area_m2=np.array([np.inf, 500.0, np.inf, np.inf]))
    reasons = explain_infeasibility(p)
    assert "existing site 0 is forbidden but existing sites are kept open" in reasons
    assert "existing site 1 has 800 m² > its max area 500 m²" in reasons


def test_rent_cap_below_existing_rent():
    p = problem(existing_area_m2=np.array([100.0, 0.0, 0.0, 0.0]),
                rent_usd_m2_year=np.full(4, 50.0), rent_cap_usd_year=4_000.0)
    assert "existing sites already cost 5,000 USD/year in rent > rent cap 4,000 USD/year" in \
        explain_infeasibility(p)


def test_group_count_limits_against_total_count():
    p = problem(n=4, group_count_min=np.array([2, 2]), count_max=3)
    assert "per-group minimum counts sum to 4 > count_max 3" in explain_infeasibility(p)
    q = problem(n=4, group_count_max=np.array([1, 1]), count_min=3)
    assert "per-group maximum counts allow at most 2 sites < count_min 3" in \
        explain_infeasibility(q)


def test_count_min_rent_above_cap():
    # 2 sites needed; rents 10 and 20 USD/m²; 100 m² each: at least 3,000 USD > 2,500
    p = problem(n=2, count_min=2, tiers_m2=np.array([100.0]), group=np.array([0, 0]),
                rent_usd_m2_year=np.array([10.0, 20.0]), rent_cap_usd_year=2_500.0,
                group_count_min=np.array([1, 1]), group_names=("DE", "JO"))
    # JO has no site
    assert any("JO needs ≥ 1 sites but has 0" in r for r in explain_infeasibility(p))
    p.group_count_min = np.array([1, 0])
    reasons = explain_infeasibility(p)
    assert any("count_min 2 sites need at least 3,000 USD/year in rent > rent cap 2,500" in r
               for r in reasons), reasons


def test_lp_check_names_the_least_rent():
    # DE needs 300 m² from sites of 10 and 20 USD/m² (at most 200 m² each): >= 4,000 USD/year
    p = problem(n=2, tiers_m2=np.array([100.0, 200.0]), group=np.array([0, 0]),
                rent_usd_m2_year=np.array([10.0, 20.0]), rent_cap_usd_year=3_500.0,
                group_area_min_m2=np.array([300.0, 0.0]))
    assert explain_infeasibility(p, lp=False) == []
    assert explain_infeasibility(p) == [
        "the kept existing sites and the count and per-group limits need at least "
        "4,000 USD/year in rent > rent cap 3,500 USD/year"]


def test_combined_group_minimums_above_budget():
    # per group: DE needs 250 m² (tiers 100/200: LP 250 with fractions), JO 2 sites of 100;
    # the combination needs > 400 m² although each part alone fits
    p = problem(n=4, tiers_m2=np.array([100.0, 200.0]), area_budget_m2=400.0,
                group_area_min_m2=np.array([250.0, 0.0]), group_count_min=np.array([0, 2]),
                count_max=3)
    reasons = explain_infeasibility(p)
    assert reasons, "expected the combined area bound to find the conflict"
    assert all("400 m²" in r for r in reasons), reasons


def test_diagnose_with_solver_names_a_minimal_set():
    # integrality only: DE's one site can have 0, 100 or 300 m²; DE needs 200-250 m²
    p = problem(n=2, tiers_m2=np.array([100.0, 300.0]), group=np.array([0, 1]),
                group_area_min_m2=np.array([200.0, 0.0]),
                group_area_max_m2=np.array([250.0, np.inf]))
    assert explain_infeasibility(p) == []
    reasons = diagnose_infeasibility(p)
    assert reasons == ["these constraints cannot all hold: DE needs ≥ 200 m²; "
                       "DE allows ≤ 250 m²"]


def test_diagnose_with_lp_names_a_minimal_set():
    p = problem(n=4, tiers_m2=np.array([100.0]), count_min=3, area_budget_m2=250.0,
                group_count_max=np.array([1, 5]))
    reasons = diagnose_infeasibility(p)
    assert reasons == ["these constraints cannot all hold: count_min 3; "
                       "area budget 250 m²"]


def test_malformed_arrays_are_all_named():
    p = problem(max_area_m2=np.ones(3), rent_usd_m2_year=-np.ones(4))
    with pytest.raises(ValidationError) as err:
        explain_infeasibility(p)
    text = str(err.value)
    assert "SitingProblem.max_area_m2: shape (3,), expected (4,)" in text
    assert "SitingProblem.rent_usd_m2_year" in text
