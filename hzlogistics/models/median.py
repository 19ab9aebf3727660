r"""The median objective: least demand-weighted travel time, all demand served.

Every demand point is served by an open site that reaches it within the
service level; the plan minimizes the sum of parcels/day × hours of travel
(the p-median problem when the number of sites is fixed, the capacitated
p-median when sites have capacity). The model, its constraints and its solve
steps are those of the location engine in :mod:`hzlogistics.models.location`.
"""

from __future__ import annotations

import logging

import numpy as np

from hzlogistics.models.location import (
    LocationSpec,
    cover_pairs,
    pair_costs,
    solve_location,
    validate_location,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult

logger = logging.getLogger(__name__)


def solve_median(problem: SitingProblem, options: SolveOptions | None = None) -> SolveResult:
    r"""Minimize the demand-weighted travel time, serving every demand point.

    Parameters
    ----------
    problem
        The siting problem. The travel time of a pair is ``travel_time_h``
        (weighted by ``weight``); when ``assign_cost`` is given it replaces
        ``weight × travel_time_h`` (for a distance or any other cost of
        serving all of a demand point from a site). Only pairs stored in
        ``cover`` may be used. Capacity (``capacity_per_m2`` × area and/or
        ``site_capacity``) allows a demand point to be split between sites.
    options
        Time limit, gap target, seed, progress callback, stop event and warm
        start (default: :class:`~hzlogistics.solvers.problem.SolveOptions`).

    Returns
    -------
    SolveResult
        ``objective`` in parcel-hours per day (or the units of ``assign_cost``),
        ``bound`` a proven lower bound, ``sense`` ``"min"``; ``served`` holds the
        parcels/day of each demand point at each site. ``status`` is
        ``"optimal"`` when the gap target is reached, ``"feasible"``,
        ``"interrupted"``, ``"infeasible"`` (with ``reasons``, e.g. demand points
        no allowed site reaches) or ``"error"`` (no plan within the time limit).

    Raises
    ------
    ValidationError
        If an array is malformed, or neither ``travel_time_h`` nor
        ``assign_cost`` is given.

    Notes
    -----
    Sites :math:`i`, demand points :math:`j` of weight :math:`w_j`, travel time
    :math:`t_{ij}` on covered pairs, :math:`c_{ij} = w_j t_{ij}` (or
    ``assign_cost``). Without capacity, the radius formulation (Elloumi 2010):
    for each :math:`j`, its distinct costs :math:`D^0_j < D^1_j < \dots <
    D^{K_j-1}_j` over the sites that reach it, and :math:`z^k_j \in [0, 1]`, 1
    when no open site serves :math:`j` at cost :math:`\le D^k_j`:

    .. math::

        \min \sum_j \Big( D^0_j + \sum_{k=0}^{K_j-2} (D^{k+1}_j - D^k_j)\, z^k_j \Big)

        z^{k-1}_j \le z^k_j + \sum_{i:\, c_{ij} = D^k_j} y_i \quad
        (z^{-1}_j = 1,\ z^{K_j-1}_j = 0)

    plus the site constraints of the coverage model (size options, existing and
    forbidden sites, count range, area budget, rent cap, per-group quotas). Its
    LP relaxation equals that of the classic formulation with
    :math:`x_{ij} \le y_i`, with one variable per distinct cost level instead of
    one per pair. Levels beyond a forced-open site, or beyond which fewer than
    ``count_min`` allowed sites lie, are cut off.

    Before the MIP, a greedy plan is improved by vertex substitution (add,
    drop, swap; Teitz and Bart 1968, Whitaker 1983), and a Lagrangian bound
    (assignment rows relaxed, subgradient ascent) fixes the sites that cannot be
    part of a better plan; often it proves the plan optimal on its own.

    With capacity :math:`K` per m² (and/or :math:`s_i` per site), the classic
    formulation: :math:`x_{ij} \in [0, 1]`, :math:`\sum_i x_{ij} = 1`,
    :math:`x_{ij} \le y_i`, :math:`\sum_j w_j x_{ij} \le K \cdot \text{area}_i`
    (and :math:`\le s_i y_i`), objective :math:`\sum c_{ij} x_{ij}`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> t = np.array([[0., 1., 4.], [4., 1., 0.], [2., 0., 2.]])   # hours, site × point
    >>> p = SitingProblem(weight=np.array([1., 1., 1.]), cover=sp.csr_matrix(np.ones((3, 3))),
    ...                   travel_time_h=sp.csr_matrix(t), tiers_m2=np.array([100.]),
    ...                   count_min=1, count_max=1)
    >>> r = solve_median(p, SolveOptions(time_limit_s=10, gap=0))
    >>> r.status, r.objective, r.open.tolist()
    ('optimal', 4.0, [False, False, True])
    """
    validate_location(problem)
    rows, cols = cover_pairs(problem.cover)
    pair_cost = pair_costs(problem, rows, cols, per_parcel_h=1.0, what="median")
    n = problem.n_sites
    spec = LocationSpec(name="median", pair_cost=pair_cost, open_cost=np.zeros(n),
                        area_cost=np.zeros(n))
    return solve_location(problem, options, spec)


__all__ = ["solve_median"]
