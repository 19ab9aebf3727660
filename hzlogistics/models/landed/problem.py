r"""The landed-cost problem: the cost objective with a landed cost on every pair.

Goods leave Hangzhou by sea through an origin port (Ningbo–Zhoushan by
default), land at a port of entry, go by truck to a warehouse (drayage), wait
there (rent and the site's fixed cost) and go out to the buyer (last mile).
The inbound leg of a parcel depends only on its warehouse, so the landed-cost
problem is the ``cost`` objective (:func:`hzlogistics.models.solve`) with

.. math::

    c_{ij} = D\, w_j \,\bigl(s_i + \ell_{ij} + h_{ij}\bigr)

as the yearly cost of serving all of demand point :math:`j` (:math:`w_j`
parcels/day, :math:`D` days a year) from site :math:`i`, where
:math:`s_i` is the inbound cost per parcel of site :math:`i` (sea + port
handling + drayage + duty, through its cheapest port of entry),
:math:`\ell_{ij}` the last-mile cost per parcel and :math:`h_{ij}` a
cross-border handling charge; rent, size tiers, capacity and the fixed cost
per open site are the cost objective's own. Its proven bound therefore holds
for the landed cost as well.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.models.landed.inbound import Inbound
from hzlogistics.models.landed.rates import LandedRates
from hzlogistics.solvers.problem import SitingProblem


@dataclass
class PairCosts:
    """Per covered pair: site, demand point and outbound cost per parcel."""

    rows: np.ndarray
    cols: np.ndarray
    last_mile: np.ndarray
    cross_border: np.ndarray


def pair_costs(problem: SitingProblem, rates: LandedRates, distance_km: sp.spmatrix | None
               ) -> PairCosts:
    """Covered pairs in row-major order with their last-mile and cross-border cost per parcel.

    Raises
    ------
    ValidationError
        For a matrix of the wrong shape, a value < 0 or NaN at a covered pair, or
        the travel time or distance that the last-mile unit needs missing.
    """
    c = sp.csr_matrix(problem.cover).astype(bool)
    c.sum_duplicates()
    c.eliminate_zeros()
    c.sort_indices()
    rows = np.repeat(np.arange(c.shape[0], dtype=np.int64), np.diff(c.indptr))
    cols = c.indices.astype(np.int64)

    def at(m: sp.spmatrix, what: str) -> np.ndarray:
        if m.shape != c.shape:
            raise ValidationError(f"{what}: shape {m.shape}; expected {c.shape} like cover")
        v = np.asarray(sp.csr_matrix(m)[rows, cols], dtype=float).ravel()
        if np.isnan(v).any() or (v < 0).any():
            raise ValidationError(f"{what}: expected values >= 0 at every covered pair")
        return v

    if rates.last_mile_unit == "km":
        if distance_km is None:
            raise ValidationError("last_mile_unit 'km' needs distance_km (the coverage's "
                                  "distance_km matrix)")
        lm = rates.last_mile_usd_per_parcel_km * at(distance_km, "distance_km")
    else:
        if problem.travel_time_h is None:
            raise ValidationError("last_mile_unit 'hour' needs SitingProblem.travel_time_h")
        lm = rates.last_mile_usd_per_parcel_h * at(problem.travel_time_h, "travel_time_h")
    cb = np.zeros(len(rows))
    if rates.cross_border_usd_per_parcel and problem.group is not None \
            and problem.demand_group is not None:
        g, dg = np.asarray(problem.group), np.asarray(problem.demand_group)
        names = np.asarray(problem.group_names, dtype=object)
        charge = np.array([float(rates.cross_border_usd_per_parcel.get(str(n), 0.0))
                           for n in names.tolist()])
        abroad = g[rows] != dg[cols]
        cb[abroad] = charge[dg[cols][abroad]]
    return PairCosts(rows, cols, lm, cb)


def check_inbound(problem: SitingProblem, inbound: Inbound) -> None:
    """Check that ``inbound`` belongs to ``problem`` and supplies its existing sites.

    Raises
    ------
    ValidationError
        For another number or order of sites, or an existing site without a port.
    """
    n = problem.n_sites
    if np.asarray(inbound.port).shape != (n,):
        raise ValidationError(f"inbound: {np.asarray(inbound.port).shape[0]} sites; the problem "
                              f"has {n}")
    if inbound.site_ids is not None and problem.site_ids is not None and not np.array_equal(
            np.asarray(inbound.site_ids).astype(str), np.asarray(problem.site_ids).astype(str)):
        raise ValidationError("inbound: its site ids differ from the problem's (same sites, "
                              "same order expected)")
    existing = (np.zeros(n, bool) if problem.existing_area_m2 is None
                else np.asarray(problem.existing_area_m2) > 0)
    stuck = np.flatnonzero(existing & ~inbound.has_port)
    if len(stuck):
        label = (problem.site_ids[stuck[0]] if problem.site_ids is not None else int(stuck[0]))
        raise ValidationError(f"existing site {label} has no port of entry (no container port "
                              "in its country or cross-border group); it cannot be supplied")


def build_landed_problem(
    problem: SitingProblem,
    inbound: Inbound,
    rates: LandedRates | None = None,
    *,
    distance_km: sp.spmatrix | None = None,
) -> SitingProblem:
    """The cost problem whose ``assign_cost`` is the landed cost of each covered pair.

    Parameters
    ----------
    problem
        The siting problem (rent, fixed cost, tiers, capacity as for ``cost``).
    inbound
        Each site's inbound leg (:func:`compute_inbound`).
    rates
        The rates (default :class:`LandedRates`).
    distance_km
        ``(n_sites, n_demand)`` road km of each covered pair; needed with
        ``last_mile_unit="km"``.

    Returns
    -------
    SitingProblem
        A copy with ``assign_cost`` = weight × days × (inbound + last mile +
        cross-border handling) per pair; sites without a port forbidden.

    Raises
    ------
    ValidationError
        For an inbound leg that does not match the problem, an existing site
        without a port of entry, or a missing travel time or distance.
    """
    rates = rates or LandedRates()
    check_inbound(problem, inbound)
    pr = pair_costs(problem, rates, distance_km)
    w = np.asarray(problem.weight, dtype=float)
    has = inbound.has_port
    cost = np.where(has, inbound.usd_per_parcel, 0.0)[pr.rows]
    cost += pr.last_mile
    cost += pr.cross_border
    cost *= w[pr.cols]
    cost *= rates.days_per_year
    # the pairs are sorted by (site, demand point): the CSR arrays are direct
    indptr = np.zeros(problem.n_sites + 1, dtype=np.int64)
    np.cumsum(np.bincount(pr.rows, minlength=problem.n_sites), out=indptr[1:])
    assign = sp.csr_matrix((cost, pr.cols, indptr), shape=problem.cover.shape)
    return replace(problem, assign_cost=assign, forbidden=forbidden_without_port(problem, inbound))


def forbidden_without_port(problem: SitingProblem, inbound: Inbound) -> np.ndarray:
    """The problem's forbidden sites and the sites without a port of entry."""
    forbidden = (np.zeros(problem.n_sites, bool) if problem.forbidden is None
                 else np.asarray(problem.forbidden, dtype=bool).copy())
    return forbidden | ~inbound.has_port


__all__ = ["PairCosts", "build_landed_problem", "check_inbound", "forbidden_without_port",
           "pair_costs"]
