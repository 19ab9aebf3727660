r"""The rates of the landed cost: every unit, default and the reason behind it.

A parcel's landed cost is the sum of its share of a container's sea freight
and port handling, its drayage from the port of entry to its warehouse, the
duty of the warehouse's country, the warehouse's rent and fixed cost, and its
last mile. The rates below turn distances into those costs; their defaults
live in :mod:`hzlogistics.settings` and are the scenario keys of the
``[landed]`` section (``docs/scenario.md``, ``data/countries/README.md``).

Rates
-----
Every rate is a field of :class:`LandedRates`; its unit, default and the
source or assumption behind the default:

``origin`` (port id, default ``port-CNNGB``)
    Ningbo–Zhoushan, Hangzhou's container port (about 150 km by road);
    ``port-CNSHA`` (Shanghai) and ``port-CNSZX`` (Shenzhen) are the other
    origins of ``sea_distances.csv``.
``sea_usd_per_container_km`` (USD per 40-ft container-km, default 0.15)
    Assumption: a 40-ft container from China to northern Europe at about
    USD 3,000 (the order of the Drewry World Container Index
    Shanghai–Rotterdam spot rate in a calm market; it ranged roughly
    1,500–8,000 in 2019–2024) over about 19,500 km by sea via Suez.
``parcels_per_container`` (parcels per 40-ft container, default 2,000)
    Assumption: a 40-ft high cube holds 76 m³; at 80 % fill, 60 m³ of parcels
    of 30 litres (about 40 × 30 × 25 cm, a typical e-commerce parcel).
``port_usd_per_container`` (USD per container, default 600)
    Assumption: terminal handling at both ends and customs clearance, about
    USD 200–400 per container at each end in carriers' published terminal
    handling charges.
``drayage_unit`` (default ``"container"``)
    ``"container"`` (one truck per container) or ``"pallet"`` (less than
    truckload).
``drayage_usd_per_container_km`` (USD per container-km, default 2.0)
    Assumption: one truck with one 40-ft container, empty return included;
    full-truckload road freight runs about USD 1.5–2.5 per km in Europe and
    the US.
``drayage_usd_per_pallet_km`` (USD per pallet-km, default 0.15)
    Assumption: pallet (LTL) freight costs about 1.5 times a full truck's
    share per pallet (2.0 / 20 = 0.10).
``pallets_per_container`` (pallets per 40-ft container, default 20)
    A 40-ft container takes 20–24 pallets on the floor; 20 gives 100 parcels
    per pallet.
``last_mile_unit`` (default ``"hour"``)
    ``"hour"`` (per parcel-hour of the delivery network) or ``"km"`` (per
    parcel-km of road).
``last_mile_usd_per_parcel_h`` (USD per parcel-hour, default 0.8)
    The library's delivery cost, ``settings.DELIVERY_COST_USD_PER_PARCEL_H``,
    as in the ``cost`` objective.
``last_mile_usd_per_parcel_km`` (USD per parcel-km, default 0.05)
    Assumption: a van of about 100 parcels a day at about USD 5 per km of
    its round.
``duty_usd_per_parcel`` (USD per parcel by warehouse country, default none)
    Duties depend on the goods and their value, so none by default.
``cross_border_usd_per_parcel`` (USD per parcel by demand country, default none)
    Charged on a parcel served from a warehouse in another country (customs
    and handling inside a cross-border group).
``unserved`` (default ``"penalty"``)
    ``"infeasible"``: demand that no candidate site reaches within the service
    level makes the problem infeasible; ``"penalty"``: such demand is charged
    ``unserved_usd_per_parcel``.
``unserved_usd_per_parcel`` (USD per parcel, default 25)
    Assumption: the order of a small international express parcel sent from
    China instead.
``days_per_year`` (days, default 365)
    ``settings.OPERATING_DAYS_PER_YEAR``.

The penalty applies to demand that no candidate site may reach in time; the
demand a candidate site reaches is always served (the cost objective serves
every point it is given).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from hzlogistics import settings
from hzlogistics._errors import ValidationError

#: Ports of departure of ``sea_distances.csv``.
ORIGIN_PORTS: Mapping[str, str] = settings.ORIGIN_PORTS

#: The cost components of a landed-cost plan, in report order.
COMPONENTS: tuple[str, ...] = ("sea", "port", "drayage", "duty", "rent", "fixed", "last_mile",
                               "cross_border", "unserved")


@dataclass(frozen=True)
class LandedRates:
    """Every rate of the landed cost, with its unit (see the module notes for sources).

    Attributes
    ----------
    origin
        Port of departure, an ``origin`` of ``sea_distances.csv``.
    sea_usd_per_container_km
        Sea freight, USD per 40-ft container per km.
    parcels_per_container
        Parcels in one 40-ft container.
    port_usd_per_container
        Port handling (both ends) and clearance, USD per container.
    drayage_unit
        ``"container"`` or ``"pallet"``: which drayage rate applies.
    drayage_usd_per_container_km
        Truck from the port of entry to the warehouse, USD per container-km.
    drayage_usd_per_pallet_km
        The same per pallet-km.
    pallets_per_container
        Pallets in one container (parcels per pallet = parcels per container / this).
    last_mile_unit
        ``"hour"`` or ``"km"``: which last-mile rate applies.
    last_mile_usd_per_parcel_h
        Last mile, USD per parcel-hour of travel.
    last_mile_usd_per_parcel_km
        Last mile, USD per parcel-km.
    duty_usd_per_parcel
        Duty and import handling, USD per parcel, by the warehouse's country (ISO2).
    cross_border_usd_per_parcel
        USD per parcel, by the demand point's country, when its warehouse lies in
        another country.
    unserved
        ``"infeasible"`` or ``"penalty"``: what demand no site reaches in time does.
    unserved_usd_per_parcel
        Penalty per parcel of such demand (``"penalty"`` only).
    days_per_year
        Operating days per year.
    """

    origin: str = settings.LANDED_ORIGIN
    sea_usd_per_container_km: float = settings.SEA_USD_PER_CONTAINER_KM
    parcels_per_container: float = settings.PARCELS_PER_CONTAINER
    port_usd_per_container: float = settings.PORT_USD_PER_CONTAINER
    drayage_unit: Literal["container", "pallet"] = "container"
    drayage_usd_per_container_km: float = settings.DRAYAGE_USD_PER_CONTAINER_KM
    drayage_usd_per_pallet_km: float = settings.DRAYAGE_USD_PER_PALLET_KM
    pallets_per_container: float = settings.PALLETS_PER_CONTAINER
    last_mile_unit: Literal["hour", "km"] = "hour"
    last_mile_usd_per_parcel_h: float = settings.DELIVERY_COST_USD_PER_PARCEL_H
    last_mile_usd_per_parcel_km: float = settings.LAST_MILE_USD_PER_PARCEL_KM
    duty_usd_per_parcel: Mapping[str, float] = field(default_factory=dict)
    cross_border_usd_per_parcel: Mapping[str, float] = field(default_factory=dict)
    unserved: Literal["infeasible", "penalty"] = "penalty"
    unserved_usd_per_parcel: float = settings.UNSERVED_USD_PER_PARCEL
    days_per_year: float = settings.OPERATING_DAYS_PER_YEAR

    def __post_init__(self) -> None:
        """Check every rate at once.

        Raises
        ------
        ValidationError
            Naming each bad field and what would be valid.
        """
        problems: list[str] = []

        def number(name: str, *, positive: bool = False) -> None:
            x = getattr(self, name)
            ok = (not isinstance(x, bool) and isinstance(x, int | float) and math.isfinite(x)
                  and (x > 0 if positive else x >= 0))
            if not ok:
                problems.append(f"LandedRates.{name}: {x!r}; expected a finite number "
                                f"{'> 0' if positive else '>= 0'}")

        for name in ("sea_usd_per_container_km", "port_usd_per_container",
                     "drayage_usd_per_container_km", "drayage_usd_per_pallet_km",
                     "last_mile_usd_per_parcel_h", "last_mile_usd_per_parcel_km",
                     "unserved_usd_per_parcel"):
            number(name)
        for name in ("parcels_per_container", "pallets_per_container", "days_per_year"):
            number(name, positive=True)
        if self.drayage_unit not in ("container", "pallet"):
            problems.append(f"LandedRates.drayage_unit: {self.drayage_unit!r}; expected "
                            "'container' or 'pallet'")
        if self.last_mile_unit not in ("hour", "km"):
            problems.append(f"LandedRates.last_mile_unit: {self.last_mile_unit!r}; expected "
                            "'hour' or 'km'")
        if self.unserved not in ("infeasible", "penalty"):
            problems.append(f"LandedRates.unserved: {self.unserved!r}; expected 'infeasible' "
                            "or 'penalty'")
        if not isinstance(self.origin, str) or not self.origin:
            problems.append(f"LandedRates.origin: {self.origin!r}; expected a port id such as "
                            "'port-CNNGB'")
        for name in ("duty_usd_per_parcel", "cross_border_usd_per_parcel"):
            table = getattr(self, name)
            if not isinstance(table, Mapping):
                problems.append(f"LandedRates.{name}: expected a mapping of ISO2 code to USD "
                                "per parcel")
                continue
            for code, x in table.items():
                if (isinstance(x, bool) or not isinstance(x, int | float)
                        or not math.isfinite(x) or x < 0):
                    problems.append(f"LandedRates.{name}[{code!r}]: {x!r}; expected a finite "
                                    "number >= 0")
        if problems:
            raise ValidationError(problems)

    @property
    def sea_usd_per_parcel_km(self) -> float:
        """Sea freight per parcel-km."""
        return self.sea_usd_per_container_km / self.parcels_per_container

    @property
    def port_usd_per_parcel(self) -> float:
        """Port handling per parcel."""
        return self.port_usd_per_container / self.parcels_per_container

    @property
    def drayage_usd_per_parcel_km(self) -> float:
        """Drayage per parcel-km, in the chosen unit."""
        if self.drayage_unit == "pallet":
            return self.drayage_usd_per_pallet_km * self.pallets_per_container / \
                self.parcels_per_container
        return self.drayage_usd_per_container_km / self.parcels_per_container


__all__ = ["COMPONENTS", "ORIGIN_PORTS", "LandedRates"]
