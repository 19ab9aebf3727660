"""The inputs of the ``landed`` objective, built from a scenario, and the landed cost of
any plan.

:func:`build_landed_inputs` turns a scenario's ``[landed]`` rates, its sea
distance file and its sites into the keyword arguments of
:func:`hzlogistics.models.landed.solve_landed` (each site's port of entry and
inbound cost); :func:`hzlogistics.plan.run_scenario` and a sweep's points call
it. :func:`landed_cost_of` prices a plan of any objective at its landed cost,
as notebook ``07_landed_cost`` does to compare plans.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import SitingProblem

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.coverage import Coverage
    from hzlogistics.models.landed import LandedBreakdown, LandedRates
    from hzlogistics.plan import Inputs, Plan
    from hzlogistics.scenario import Scenario


@dataclass
class _Frames:
    """The frames :func:`build_landed_inputs` reads (the fields of ``plan.Inputs``)."""

    demand: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    countries: gpd.GeoDataFrame | None


def landed_rates(scenario: Scenario) -> LandedRates:
    """The rates of the ``[landed]`` section of a scenario.

    Examples
    --------
    >>> from hzlogistics.scenario import Scenario
    >>> landed_rates(Scenario(sea_usd_per_container_km=0.3)).sea_usd_per_parcel_km
    0.00015
    """
    from hzlogistics.models.landed import LandedRates

    s = scenario
    return LandedRates(
        origin=s.origin_port, sea_usd_per_container_km=s.sea_usd_per_container_km,
        parcels_per_container=s.parcels_per_container,
        port_usd_per_container=s.port_usd_per_container,
        drayage_unit=s.drayage_unit,  # type: ignore[arg-type]
        drayage_usd_per_container_km=s.drayage_usd_per_container_km,
        drayage_usd_per_pallet_km=s.drayage_usd_per_pallet_km,
        pallets_per_container=s.pallets_per_container,
        last_mile_unit=s.last_mile_unit,  # type: ignore[arg-type]
        last_mile_usd_per_parcel_h=s.last_mile_usd_per_parcel_h,
        last_mile_usd_per_parcel_km=s.last_mile_usd_per_parcel_km,
        duty_usd_per_parcel=dict(s.duty_usd_per_parcel),
        cross_border_usd_per_parcel=dict(s.cross_border_usd_per_parcel),
        unserved=s.unserved,  # type: ignore[arg-type]
        unserved_usd_per_parcel=s.unserved_usd_per_parcel,
    )


def sea_distances_path(scenario: Scenario) -> Path:
    """The sea distance file of a scenario: its own, or its data set's."""
    from hzlogistics.countries import SEA_DISTANCES_FILE, find_data_dir

    if scenario.sea_distances_file:
        return Path(scenario.sea_distances_file)
    if scenario.dataset is not None:
        from hzlogistics.databuild import ensure_dataset

        return find_data_dir(ensure_dataset(scenario.dataset)) / SEA_DISTANCES_FILE
    return find_data_dir() / SEA_DISTANCES_FILE


def build_landed_inputs(scenario: Scenario, inputs: Inputs | _Frames, coverage: Coverage,
                        problem: SitingProblem) -> dict[str, Any]:
    """The keyword arguments of the ``landed`` objective: inbound leg, rates, distances.

    Parameters
    ----------
    scenario, inputs, coverage, problem
        The scenario and what was built from it (``inputs``: anything with the
        ``demand``, ``sites`` and ``countries`` frames, such as
        :class:`hzlogistics.plan.Inputs`).

    Returns
    -------
    dict
        ``inbound`` (each site's port of entry, :class:`~hzlogistics.models.landed.Inbound`),
        ``rates`` and ``distance_km`` (the coverage's road km, for a last mile per km).

    Raises
    ------
    ValidationError
        When no candidate site is a port of entry of the sea distance file.
    InfeasibleError
        With ``unserved = "infeasible"``, when some demand no site that may be
        opened reaches within the service level.
    """
    from hzlogistics._errors import InfeasibleError
    from hzlogistics.models.landed import inbound_from_frames, read_sea_distances

    rates = landed_rates(scenario)
    path = sea_distances_path(scenario)
    sea = read_sea_distances(path, rates.origin)
    inbound = inbound_from_frames(inputs.demand, inputs.sites, inputs.countries, sea, rates,
                                  cross_border=tuple(scenario.cross_border_groups),
                                  circuity=scenario.circuity, road_graph=scenario.road_graph)
    if not inbound.has_port.any():
        raise ValidationError(
            f"{path}: none of its ports of entry is a candidate site (ids such as "
            "'port-NLRTM' in the sites); the landed objective cannot supply any warehouse")
    if rates.unserved == "infeasible":
        forbidden = (np.zeros(problem.n_sites, bool) if problem.forbidden is None
                     else np.asarray(problem.forbidden, bool))
        reach = replace(problem, forbidden=forbidden | ~inbound.has_port).reachable()
        if not reach.all():
            ids = (problem.demand_ids[~reach] if problem.demand_ids is not None
                   else np.flatnonzero(~reach))
            raise InfeasibleError([
                f"{int((~reach).sum())} demand points (e.g. {', '.join(map(str, ids[:3]))}) are "
                "reached within the service level by no site that may be opened and has a port "
                "of entry; set [landed] unserved = \"penalty\" to charge them instead"])
    distance = coverage.distance_km if rates.last_mile_unit == "km" else None
    return {"inbound": inbound, "rates": rates, "distance_km": distance}


def landed_cost_of(plan: Plan, scenario: Scenario | None = None) -> LandedBreakdown:
    """The landed cost of any plan's warehouses and assignments, at a scenario's rates.

    A plan of another objective (coverage, the rent-only ``cost``) is priced as
    the ``landed`` objective would price it: each open site's cheapest port of
    entry, the sea, port, drayage, rent, fixed cost and last mile of what it
    serves, and the penalty of the demand it leaves unserved.

    Parameters
    ----------
    plan
        A solved plan with its problem and coverage (not one read back from files).
    scenario
        Whose ``[landed]`` rates to use (default: the plan's own scenario).

    Returns
    -------
    LandedBreakdown

    Raises
    ------
    ValidationError
        When the plan has no problem, coverage or scenario to price it with.
    """
    from hzlogistics.models.landed import landed_breakdown

    scenario = scenario or plan.scenario
    if plan.problem is None or plan.coverage is None or scenario is None:
        raise ValidationError("landed_cost_of: the plan needs its problem, coverage and "
                              "scenario (a plan read back from files has none)")
    countries = plan.countries if has_country_shapes(plan.countries) else None
    inputs = _Frames(demand=plan.demand, sites=plan.sites, countries=countries)
    rates = landed_rates(scenario)
    kwargs = build_landed_inputs(replace(scenario, unserved="penalty"), inputs,
                                 plan.coverage, plan.problem)
    return landed_breakdown(plan.problem, kwargs["inbound"], plan.result, rates,
                            distance_km=kwargs["distance_km"])


def has_country_shapes(countries: gpd.GeoDataFrame | None) -> bool:
    """Whether a country table has polygons (a plan's may have none)."""
    return (countries is not None and len(countries) > 0
            and bool(countries.geometry.notna().all()))


__all__ = ["build_landed_inputs", "has_country_shapes", "landed_cost_of", "landed_rates",
           "sea_distances_path"]
