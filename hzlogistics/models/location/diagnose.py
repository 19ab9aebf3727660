"""Why a location problem has no plan, in words with numbers.

Before the solve, :func:`site_reasons` (conflicts among the site constraints)
and :func:`demand_reasons` (demand no allowed site reaches, too little
capacity for the demand to serve); after a MIP proved that no plan exists,
:func:`explain_no_plan`.
"""

from __future__ import annotations

import math

import numpy as np

from hzlogistics.models.location.state import LocationSpec, site_capacity_max
from hzlogistics.models.precheck import diagnose_infeasibility, explain_infeasibility
from hzlogistics.solvers.problem import SitingProblem
from hzlogistics.solvers.sites import SiteTable, site_table


def fmt_amount(x: float) -> str:
    """A demand or capacity for a message: no decimals from 100 on, else 4 digits.

    Examples
    --------
    >>> fmt_amount(58268.0), fmt_amount(2.54321)
    ('58,268', '2.543')
    """
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def demand_reasons(problem: SitingProblem, table: SiteTable, rows: np.ndarray,
                    cols: np.ndarray, required_share: float | None) -> list[str]:
    """Objective-specific conflicts: unreachable demand and too little capacity."""
    out: list[str] = []
    w = np.asarray(problem.weight, dtype=float)
    total = float(w.sum())
    can = table.can_open
    ok = can[rows]
    reached = np.zeros(problem.n_demand, dtype=bool)
    reached[cols[ok]] = True
    ids = (np.asarray(problem.demand_ids) if problem.demand_ids is not None
           else np.arange(problem.n_demand))
    capacitated = problem.capacity_per_m2 is not None or problem.site_capacity is not None
    cap = site_capacity_max(problem, table)
    most = float(np.sort(cap)[::-1][: table.count_max].sum()) if capacitated else np.inf
    budget_cap = np.inf
    if problem.capacity_per_m2 is not None and math.isfinite(table.area_budget_m2):
        budget_cap = float(problem.capacity_per_m2) * table.area_budget_m2
    need = total if required_share is None else required_share * total
    what = ("total demand" if required_share is None
            else f"{required_share:.1%} of demand {fmt_amount(total)}")
    if budget_cap < need * (1 - 1e-9):
        out.append(f"area budget {fmt_amount(table.area_budget_m2)} m² × "
                   f"{problem.capacity_per_m2:g} parcels/day per m² = "
                   f"{fmt_amount(budget_cap)} parcels/day < {what} "
                   f"({fmt_amount(need)} parcels/day)")
    if required_share is None:
        lost = np.flatnonzero(~reached & (w > 0))
        if lost.size:
            ex = ", ".join(str(x) for x in ids[lost[:5]])
            out.append(f"{lost.size} demand points ({fmt_amount(float(w[lost].sum()))} "
                       f"parcels/day, e.g. {ex}) are reached by no site that may be opened, "
                       "but every demand point must be served")
        if capacitated and most < total * (1 - 1e-9) and budget_cap >= need * (1 - 1e-9):
            out.append(f"total site capacity {fmt_amount(most)} < total demand {fmt_amount(total)} "
                       f"parcels/day (largest allowed areas of at most {table.count_max} "
                       "sites)")
    else:
        share = float(w[reached].sum()) / total if total > 0 else 1.0
        if share < required_share - 1e-12:
            out.append(f"required share {required_share:.1%} but only {share:.1%} of demand is "
                       "reachable by any site that may be opened")
        if capacitated and most < need * (1 - 1e-9) and budget_cap >= need * (1 - 1e-9):
            out.append(f"total site capacity {fmt_amount(most)} parcels/day < "
                       f"{fmt_amount(need)} needed to serve {required_share:.1%} of demand "
                       f"{fmt_amount(total)} (largest allowed areas of at most "
                       f"{table.count_max} sites)")
    return out


def site_reasons(table: SiteTable) -> list[str]:
    """Conflicts among the site constraints alone (the pre-checks of every model)."""
    return list(explain_infeasibility(table))


def explain_no_plan(problem: SitingProblem, spec: LocationSpec) -> list[str]:
    """Why the MIP found no plan: the pre-checks' diagnosis, else a summary of the constraints."""
    found = list(diagnose_infeasibility(problem, time_limit_s=10.0))
    if found:
        return found
    what = ("serving every demand point" if spec.required_share is None
            else f"serving {spec.required_share:.1%} of demand")
    cap = ""
    if problem.capacity_per_m2 is not None:
        cap = f" at {problem.capacity_per_m2:g} parcels/day per m²"
    table = site_table(problem)
    budget = (f"area budget {fmt_amount(table.area_budget_m2)} m²"
              if math.isfinite(table.area_budget_m2) else "no area budget")
    return [f"{what}{cap} is impossible together with the site constraints (count "
            f"{table.count_min}..{table.count_max}, {budget}, per-group quotas, capacities): "
            "the solver proved that no plan satisfies them all"]


__all__ = ["demand_reasons", "explain_no_plan", "fmt_amount", "site_reasons"]
