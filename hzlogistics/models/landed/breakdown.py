r"""The landed cost of a solved plan, broken down by component, country, port and site.

With :math:`x_{ij}` the parcels/day of demand point :math:`j` served from site
:math:`i`, :math:`v_i = \sum_j x_{ij}` a site's volume and :math:`D` the days
of a year, the components (USD/year) are

.. math::

    \text{sea} = D \sum_i v_i\, \frac{\rho\, d^{sea}_{p(i)}}{P}, \quad
    \text{port} = D \sum_i v_i\, \frac{\pi}{P}, \quad
    \text{drayage} = D \sum_i v_i\, \frac{\delta\, d^{road}_{p(i) i}}{P}, \quad
    \text{duty} = D \sum_i v_i\, u_{c(i)},

rent (rent per m² × area), fixed (the fixed cost of each open site),
:math:`\text{last mile} = D \sum_{ij} x_{ij}\, \ell_{ij}`, the cross-border
handling :math:`D \sum_{ij} x_{ij}\, h_{ij}` and the penalty of the demand no
site reaches (``unserved="penalty"``). Their sum is the objective of
:func:`~hzlogistics.models.landed.solve.solve_landed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.models.landed.inbound import Inbound
from hzlogistics.models.landed.problem import pair_costs
from hzlogistics.models.landed.rates import COMPONENTS, LandedRates
from hzlogistics.solvers.problem import SitingProblem, SolveResult

#: Columns of :attr:`LandedBreakdown.ports`.
PORT_COLUMNS: tuple[str, ...] = ("port", "country", "parcels_day", "containers_year", "sea_km",
                                 "sites", "sea_usd_year", "port_usd_year")


@dataclass
class LandedBreakdown:
    """The landed cost of a plan, broken down.

    Attributes
    ----------
    totals
        USD/year of each of :data:`COMPONENTS`, and ``total``.
    parcels_year
        Parcels per year of all demand (served or not).
    usd_per_parcel
        ``totals["total"] / parcels_year``.
    by_country
        One row per country: the components (USD/year; inbound, rent, fixed and
        last mile by the warehouse's country, the penalty by the demand point's),
        ``total``, ``parcels_year`` served from there, ``usd_per_parcel``.
    ports
        One row per port of entry used: ``port``, ``country``, ``parcels_day``,
        ``containers_year``, ``sea_km``, ``sites``, and the lane's
        ``sea_usd_year`` and ``port_usd_year``.
    sites
        One row per open site: ``site``, ``country``, ``port``, ``parcels_day``,
        the inbound parts per parcel, ``rent``, ``fixed``, ``last_mile``,
        ``cross_border`` (USD/year) and ``usd_per_parcel`` (its whole landed
        cost per parcel).
    origin
        The port of departure (a site id of ``sea_distances.csv``).
    days_per_year
        Operating days per year of the rates.
    """

    totals: dict[str, float]
    parcels_year: float
    usd_per_parcel: float
    by_country: pd.DataFrame
    ports: pd.DataFrame
    sites: pd.DataFrame
    origin: str = settings.LANDED_ORIGIN
    days_per_year: float = settings.OPERATING_DAYS_PER_YEAR


def _labels(names: list[str], group: np.ndarray | None, n: int) -> np.ndarray:
    """The group name of each of ``n`` items (``""`` without groups)."""
    if group is None or not names:
        return np.full(n, "", dtype=object)
    g = np.asarray(group, dtype=np.int64)
    table = np.array([*names, ""], dtype=object)
    return table[np.where(g >= 0, g, len(names))]


def _site_parts(problem: SitingProblem, inbound: Inbound, result: SolveResult,
                rates: LandedRates, distance_km: sp.spmatrix | None
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """USD/year of each site-side component per site, and each site's parcels/day."""
    n = problem.n_sites
    days = rates.days_per_year
    served = sp.csr_matrix(result.served)
    pr = pair_costs(problem, rates, distance_km)
    x = np.asarray(served[pr.rows, pr.cols], dtype=float).ravel()
    vol = np.asarray(served.sum(axis=1)).ravel()
    has = inbound.has_port

    def per_site(a: np.ndarray) -> np.ndarray:
        return np.where(has, a, 0.0) * vol * days

    area = np.asarray(result.area_m2, dtype=float)
    zero = np.zeros(n)
    rent = (zero if problem.rent_usd_m2_year is None
            else np.asarray(problem.rent_usd_m2_year, dtype=float)) * area
    fixed = (zero if problem.fixed_cost_usd_year is None
             else np.asarray(problem.fixed_cost_usd_year, dtype=float)) * (area > 0)
    return {
        "sea": per_site(inbound.sea_usd_per_parcel),
        "port": per_site(inbound.port_usd_per_parcel),
        "drayage": per_site(inbound.drayage_usd_per_parcel),
        "duty": per_site(inbound.duty_usd_per_parcel),
        "rent": rent,
        "fixed": fixed,
        "last_mile": np.bincount(pr.rows, weights=x * pr.last_mile * days, minlength=n),
        "cross_border": np.bincount(pr.rows, weights=x * pr.cross_border * days, minlength=n),
    }, vol


def _by_country(parts: dict[str, np.ndarray], vol: np.ndarray, site_country: np.ndarray,
                unserved: np.ndarray, demand_country: np.ndarray, days: float) -> pd.DataFrame:
    """The components by country (the warehouse's; the penalty by the demand point's)."""
    frame = pd.DataFrame(parts)
    frame["country"] = site_country
    frame["parcels_year"] = vol * days
    by = frame.groupby("country").sum()
    pen = pd.Series(unserved, index=demand_country).groupby(level=0).sum()
    by = by.reindex(sorted(set(by.index) | set(pen.index)), fill_value=0.0)
    by["unserved"] = pen.reindex(by.index, fill_value=0.0)
    by = by[[*COMPONENTS, "parcels_year"]]
    by.insert(len(COMPONENTS), "total", by[list(COMPONENTS)].sum(axis=1))
    by["usd_per_parcel"] = by["total"] / by["parcels_year"].where(by["parcels_year"] > 0)
    by.index.name = "country"
    return by.reset_index()


def _ports(inbound: Inbound, parts: dict[str, np.ndarray], vol: np.ndarray,
           used: np.ndarray, rates: LandedRates) -> pd.DataFrame:
    """One row per port of entry that the sites ``used`` take, busiest first."""
    if not len(used):
        return pd.DataFrame(columns=list(PORT_COLUMNS))
    k = np.asarray(inbound.port)[used]
    country = (np.asarray(inbound.port_country, dtype=object)[k]
               if inbound.port_country is not None else np.full(len(k), "", dtype=object))
    frame = pd.DataFrame({"port": np.asarray(inbound.port_ids, dtype=object)[k],
                          "country": country, "parcels_day": vol[used],
                          "sea_km": inbound.sea_km[used], "sites": 1,
                          "sea_usd_year": parts["sea"][used],
                          "port_usd_year": parts["port"][used]})
    ports = frame.groupby("port", as_index=False).agg(
        country=("country", "first"), parcels_day=("parcels_day", "sum"),
        sea_km=("sea_km", "first"), sites=("sites", "sum"),
        sea_usd_year=("sea_usd_year", "sum"), port_usd_year=("port_usd_year", "sum"))
    ports["containers_year"] = ports["parcels_day"] * rates.days_per_year \
        / rates.parcels_per_container
    ports = ports[list(PORT_COLUMNS)]
    return ports.sort_values(["parcels_day", "port"], ascending=[False, True]) \
        .reset_index(drop=True)


def _sites(problem: SitingProblem, inbound: Inbound, parts: dict[str, np.ndarray],
           vol: np.ndarray, site_country: np.ndarray, idx: np.ndarray,
           days: float) -> pd.DataFrame:
    """One row per open site (``idx``): its port, parts and cost per parcel."""
    n = problem.n_sites
    site_ids = (np.asarray(problem.site_ids, dtype=object) if problem.site_ids is not None
                else np.arange(n).astype(str).astype(object))
    port_name = np.array([inbound.port_ids[p] if p >= 0 else "" for p in inbound.port.tolist()],
                         dtype=object)
    sites = pd.DataFrame({
        "site": site_ids[idx], "country": site_country[idx], "port": port_name[idx],
        "parcels_day": vol[idx],
        "sea_usd_per_parcel": inbound.sea_usd_per_parcel[idx],
        "port_usd_per_parcel": inbound.port_usd_per_parcel[idx],
        "drayage_usd_per_parcel": inbound.drayage_usd_per_parcel[idx],
        "duty_usd_per_parcel": inbound.duty_usd_per_parcel[idx],
        "inbound_usd_per_parcel": inbound.usd_per_parcel[idx],
        "drayage_km": inbound.drayage_km[idx],
        "rent": parts["rent"][idx], "fixed": parts["fixed"][idx],
        "last_mile": parts["last_mile"][idx], "cross_border": parts["cross_border"][idx],
    })
    site_total = sum(parts[k][idx] for k in parts)
    sites["usd_per_parcel"] = site_total / np.where(vol[idx] > 0, vol[idx] * days, np.nan)
    return sites


def landed_breakdown(
    problem: SitingProblem,
    inbound: Inbound,
    result: SolveResult,
    rates: LandedRates | None = None,
    *,
    distance_km: sp.spmatrix | None = None,
) -> LandedBreakdown:
    """Break down the landed cost of a solved plan.

    Parameters
    ----------
    problem, inbound, rates, distance_km
        As given to :func:`~hzlogistics.models.landed.solve.solve_landed`.
    result
        A result with a plan (``served`` over all demand points of ``problem``).

    Returns
    -------
    LandedBreakdown

    Raises
    ------
    ValidationError
        When the result has no plan.
    """
    rates = rates or LandedRates()
    if not result.has_solution:
        raise ValidationError(f"no plan to break down (status {result.status})")
    days = rates.days_per_year
    parts, vol = _site_parts(problem, inbound, result, rates, distance_km)
    w = np.asarray(problem.weight, dtype=float)
    got = np.asarray(sp.csr_matrix(result.served).sum(axis=0)).ravel()
    missing = np.maximum(w - got, 0.0)
    missing[missing <= 1e-6 * np.maximum(w, 1.0)] = 0.0  # rounding of a split plan
    unserved = missing * days * (rates.unserved_usd_per_parcel
                                 if rates.unserved == "penalty" else 0.0)
    totals = {k: float(v.sum()) for k, v in parts.items()}
    totals["unserved"] = float(unserved.sum())
    totals = {k: totals[k] for k in COMPONENTS}
    totals["total"] = float(sum(totals.values()))
    parcels_year = float(w.sum() * days)

    names = [str(x) for x in problem.group_names]
    site_country = _labels(names, problem.group, problem.n_sites)
    demand_country = _labels(names, problem.demand_group, len(w))
    by = _by_country(parts, vol, site_country, unserved, demand_country, days)
    idx = np.flatnonzero(np.asarray(result.area_m2, dtype=float) > 0)
    used = idx[inbound.has_port[idx] & (vol[idx] > 0)]
    return LandedBreakdown(totals=totals, parcels_year=parcels_year,
                           usd_per_parcel=totals["total"] / parcels_year if parcels_year else 0.0,
                           by_country=by, ports=_ports(inbound, parts, vol, used, rates),
                           sites=_sites(problem, inbound, parts, vol, site_country, idx, days),
                           origin=rates.origin, days_per_year=days)


__all__ = ["PORT_COLUMNS", "LandedBreakdown", "landed_breakdown"]
