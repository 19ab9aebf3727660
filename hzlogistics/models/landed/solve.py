r"""Solving the landed-cost problem: the cost engine, the penalty of unserved demand.

:func:`solve_landed` builds the problem of
:func:`~hzlogistics.models.landed.problem.build_landed_problem` and solves it
with the ``cost`` objective (:func:`hzlogistics.models.cost.solve_cost`). Demand
no allowed site reaches is, as the rates say, either left in (the problem is
then infeasible) or taken out and charged a penalty per parcel, a constant
added to both the objective and the bound.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.models.landed.breakdown import landed_breakdown
from hzlogistics.models.landed.inbound import Inbound
from hzlogistics.models.landed.problem import (
    build_landed_problem,
    check_inbound,
    forbidden_without_port,
)
from hzlogistics.models.landed.rates import LandedRates
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult, relative_gap


def solve_landed(
    problem: SitingProblem,
    inbound: Inbound,
    rates: LandedRates | None = None,
    options: SolveOptions | None = None,
    *,
    distance_km: sp.spmatrix | None = None,
    assignment: Literal["split", "single"] = "split",
) -> SolveResult:
    """Open sites and serve demand at the least landed cost from the origin port.

    Parameters
    ----------
    problem
        The siting problem: rent, fixed cost per site, size tiers, capacity,
        quotas as for the ``cost`` objective; ``travel_time_h`` for a last mile
        per parcel-hour.
    inbound
        Each site's port of entry and inbound cost
        (:func:`~hzlogistics.models.landed.inbound.compute_inbound`,
        :func:`~hzlogistics.models.landed.inbound.inbound_from_frames`).
    rates
        The rates (default :class:`LandedRates`).
    options
        Limits and seed, as for every objective.
    distance_km
        Road km of each covered pair, for a last mile per parcel-km.
    assignment
        ``"split"`` or ``"single"``, as for the ``cost`` objective.

    Returns
    -------
    SolveResult
        The cost objective's result over all demand points of ``problem``:
        ``objective`` and ``bound`` in USD/year include the penalty of unserved
        demand; ``info["landed"]`` holds the :class:`LandedBreakdown` of the plan,
        ``info["objective"]`` is ``"landed"``.

    Raises
    ------
    ValidationError
        See :func:`build_landed_problem`.

    Notes
    -----
    The cost objective solves the problem of :func:`build_landed_problem`
    (see :func:`hzlogistics.models.cost.solve_cost` for its formulation); with
    capacity, the uncapacitated optimum is repaired and raced against the
    capacitated engine (:mod:`hzlogistics.models.landed.capacity`). With
    ``unserved="penalty"``, the demand points no allowed site reaches are taken
    out first and their penalty, a constant, added to the objective and the
    bound alike; so the bound stays a valid lower bound of the landed cost.

    Examples
    --------
    >>> from hzlogistics.models.landed import compute_inbound
    >>> cover = sp.csr_matrix(np.ones((2, 2)))
    >>> p = SitingProblem(weight=np.array([1.0, 1.0]), cover=cover,
    ...                   travel_time_h=sp.csr_matrix(np.array([[1.0, 2.0], [2.0, 1.0]])),
    ...                   tiers_m2=np.array([1.0]), area_budget_m2=None,
    ...                   fixed_cost_usd_year=np.array([100.0, 100.0]))
    >>> r = LandedRates(parcels_per_container=1000, last_mile_usd_per_parcel_h=1.0,
    ...                 days_per_year=1.0)
    >>> ib = compute_inbound(["XX", "XX"], ["XX"], np.array([10000.0]),
    ...                      np.array([[0.0, 50.0]]), r)
    >>> res = solve_landed(p, ib, r, SolveOptions(time_limit_s=10, gap=0))
    >>> res.open.tolist(), round(res.objective, 2)
    ([True, False], 107.2)
    """
    from hzlogistics.models.cost import solve_cost
    from hzlogistics.models.landed.capacity import solve_capacitated

    rates = rates or LandedRates()
    check_inbound(problem, inbound)
    if distance_km is not None and distance_km.shape != problem.cover.shape:
        raise ValidationError(f"distance_km: shape {distance_km.shape}; expected "
                              f"{problem.cover.shape} like cover")
    keep = np.ones(problem.n_demand, dtype=bool)
    if rates.unserved == "penalty":
        keep = replace(problem, forbidden=forbidden_without_port(problem, inbound)).reachable()
    const = float(np.asarray(problem.weight, dtype=float)[~keep].sum()
                  * rates.days_per_year * rates.unserved_usd_per_parcel)
    if keep.all():
        sub = build_landed_problem(problem, inbound, rates, distance_km=distance_km)
    else:
        dist = (None if distance_km is None
                else sp.csr_matrix(sp.csc_matrix(distance_km)[:, keep]))
        sub = build_landed_problem(replace(problem, assign_cost=None).restrict_demand(keep),
                                   inbound, rates, distance_km=dist)
        del dist
    # the cost objective reads assign_cost only; dropping the times saves their memory
    sub = replace(sub, travel_time_h=None)
    if not keep.any():
        n = problem.n_sites
        res = SolveResult(status="optimal", objective=0.0, bound=0.0, gap=0.0, wall_s=0.0,
                          area_m2=np.zeros(n), served=sp.csr_matrix((n, 0)), sense="min",
                          objective_name="cost")
    else:
        options = options or SolveOptions()
        if sub.capacity_per_m2 is not None or sub.site_capacity is not None:
            res = solve_capacitated(sub, options, assignment=assignment)
        else:
            res = solve_cost(sub, options, assignment=assignment)
    served = sp.csr_matrix(res.served)
    if not keep.all():
        full = sp.csr_matrix((served.shape[0], problem.n_demand))
        if served.shape[1] == int(keep.sum()):
            cols = np.flatnonzero(keep)
            coo = served.tocoo()
            full = sp.csr_matrix((coo.data, (coo.row, cols[coo.col])),
                                 shape=(served.shape[0], problem.n_demand))
        served = full
    objective, bound = res.objective + const, res.bound + const
    info = dict(res.info)
    info.update(objective="landed", unserved_parcels_day=float(
        np.asarray(problem.weight, dtype=float)[~keep].sum()), unserved_usd_year=const)
    out = replace(res, served=served, objective=objective, bound=bound, objective_name="landed",
                  gap=relative_gap(objective, bound) if res.has_solution else res.gap,
                  info=info)
    if out.has_solution:
        info["landed"] = landed_breakdown(problem, inbound, out, rates, distance_km=distance_km)
    return out


__all__ = ["solve_landed"]
