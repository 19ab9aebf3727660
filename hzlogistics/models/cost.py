r"""Yearly-cost siting: open sites and serve all demand at the least yearly cost.

:func:`solve_cost` prices rent, fixed costs and delivery; it is the
capacitated (or uncapacitated) facility location problem, solved by the
location engine of :mod:`hzlogistics.models.location` that it shares with
:func:`~hzlogistics.models.median.solve_median` and
:func:`~hzlogistics.models.min_area.solve_min_area`.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.models.location import (
    LocationSpec,
    cover_pairs,
    pair_costs,
    solve_location,
    validate_location,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult

logger = logging.getLogger(__name__)

Assignment = Literal["split", "single"]


def solve_cost(
    problem: SitingProblem,
    options: SolveOptions | None = None,
    *,
    assignment: Assignment = "split",
    cost_usd_per_parcel_h: float = settings.DELIVERY_COST_USD_PER_PARCEL_H,
    days_per_year: float = settings.OPERATING_DAYS_PER_YEAR,
) -> SolveResult:
    # Over 100 lines with its docstring, which states the formulation; the code is 20 lines.
    r"""Open sites and serve all demand at the least yearly cost.

    Parameters
    ----------
    problem
        The siting problem. ``rent_usd_m2_year`` prices the floor area,
        ``fixed_cost_usd_year`` each open site, and ``assign_cost`` the delivery
        (cost of serving all of demand point j from site i, USD/year) or, when
        absent, ``travel_time_h`` at ``cost_usd_per_parcel_h``. Capacity comes
        from ``capacity_per_m2`` × area and/or ``site_capacity``.
    options
        Time limit, gap target, seed, progress callback, stop event and warm
        start (default: :class:`~hzlogistics.solvers.problem.SolveOptions`).
    assignment
        ``"split"``: a demand point may be shared between sites (what capacity
        needs); ``"single"``: each demand point is served by one site. Without
        capacity both give the same plan.
    cost_usd_per_parcel_h
        Delivery cost of a parcel per hour of travel, USD (only without ``assign_cost``).
    days_per_year
        Operating days per year, turning parcels/day into parcels/year.

    Returns
    -------
    SolveResult
        ``objective`` is the yearly cost (USD), ``bound`` a proven lower bound,
        ``sense`` ``"min"``. ``status`` is ``"optimal"`` when the gap target is
        reached, ``"feasible"`` when time ran out first, ``"interrupted"``,
        ``"infeasible"`` (with ``reasons``) or ``"error"`` (no plan in time).

    Raises
    ------
    ValidationError
        If an array is malformed, or neither ``assign_cost`` nor
        ``travel_time_h`` is given.

    Notes
    -----
    Sites :math:`i`, size options :math:`t \in T_i` of area :math:`a_t`, demand
    points :math:`j` of weight :math:`w_j` (parcels/day), covered pairs
    :math:`(i, j)` with cost :math:`c_{ij}` of serving all of :math:`j` from
    :math:`i`, fixed cost :math:`f_i`, rent :math:`r_i` per m². Variables
    :math:`y_i \in \{0,1\}` (open), :math:`u_{it} \in \{0,1\}` (size, only with
    capacity per m² or area minimums; otherwise each open site takes its
    smallest allowed area :math:`a_i`), :math:`x_{ij} \in [0,1]` share of
    :math:`j` served by :math:`i` (binary for ``"single"``):

    .. math::

        \min \sum_i f_i y_i + \sum_{i,t} r_i a_t u_{it} + \sum_{ij} c_{ij} x_{ij}

        \sum_i x_{ij} = 1 \;\forall j, \qquad x_{ij} \le y_i, \qquad
        \sum_j w_j x_{ij} \le K \sum_t a_t u_{it}, \qquad
        \sum_j w_j x_{ij} \le s_i y_i

    with the site constraints of the coverage model: :math:`\sum_t u_{it} = y_i`;
    existing sites open, forbidden ones closed; :math:`n_{min} \le \sum_i y_i \le
    n_{max}`; total area :math:`\le B`; rent :math:`\le R`; per-group count and
    area quotas. The valid inequality :math:`\sum_i K a_i \ge \sum_j w_j`
    strengthens the LP. Without capacity the assignment is the radius
    formulation (see :func:`~hzlogistics.models.median.solve_median`), after a
    vertex-substitution plan, Lagrangian site fixing and, when only counts
    constrain the sites, a Lagrangian branch and bound. With capacity and split
    demand, a Lagrangian bound with a continuous knapsack per site, plans whose
    demand a transportation LP assigns, and a MIP over the sites of least
    reduced cost come first (see :mod:`hzlogistics.models.location`).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> cost = np.array([[1., 9., 9.], [9., 1., 1.]])     # USD/year per (site, point)
    >>> p = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.ones((2, 3))),
    ...                   tiers_m2=np.array([1.]), area_budget_m2=None,
    ...                   fixed_cost_usd_year=np.array([10., 10.]),
    ...                   assign_cost=sp.csr_matrix(cost))
    >>> r = solve_cost(p, SolveOptions(time_limit_s=10, gap=0))
    >>> r.status, r.objective, r.open.tolist()
    ('optimal', 21.0, [False, True])
    """
    if assignment not in ("split", "single"):
        raise ValidationError(f"assignment: {assignment!r}; expected 'split' or 'single'")
    if not (np.isfinite(cost_usd_per_parcel_h) and cost_usd_per_parcel_h >= 0):
        raise ValidationError(f"cost_usd_per_parcel_h: {cost_usd_per_parcel_h}; expected >= 0")
    validate_location(problem)
    rows, cols = cover_pairs(problem.cover)
    pair_cost = pair_costs(problem, rows, cols, per_parcel_h=cost_usd_per_parcel_h *
                           days_per_year, what="cost")
    n = problem.n_sites
    fixed = (np.zeros(n) if problem.fixed_cost_usd_year is None
             else np.asarray(problem.fixed_cost_usd_year, dtype=float))
    rent = (np.zeros(n) if problem.rent_usd_m2_year is None
            else np.asarray(problem.rent_usd_m2_year, dtype=float))
    spec = LocationSpec(name="cost", pair_cost=pair_cost, open_cost=fixed, area_cost=rent,
                        single=assignment == "single")
    return solve_location(problem, options, spec)


__all__ = ["solve_cost"]
