r"""Landed cost: the yearly cost from Hangzhou to the buyer's door.

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
``unserved`` (default ``"infeasible"``)
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

Ports of entry and drayage
--------------------------
The sea distances are read from ``data/countries/sea_distances.csv``
(:func:`read_sea_distances`), precomputed at data-build time with ``searoute``;
nothing is routed at run time. A port of entry is a container port that is
also a candidate site (``candidate`` = 1, an id ``port-<LOCODE>`` in
``sites.csv``): its coordinates are those of the site. Each site takes the
port of least inbound cost per parcel (sea + port handling + drayage) among
the ports of its own country, and, with cross-border groups, of every country
that shares a group with it. Drayage within a country runs over the delivery
network (:func:`hzlogistics.network.site_network_km`, road km of the same
network the coverage uses); between two countries of a group it is the
geodesic distance × circuity (the stated approximation: the country networks
are not joined for drayage). A country with no port of entry of its own nor in
its groups (Czechia, Hungary; Jordan, Kenya, Kazakhstan and Uzbekistan, whose
container ports are not candidate sites) borrows: its sites may take any port,
the drayage again geodesic km × circuity, up to 1,500 km of geodesic distance
(a land route is assumed; the approximation is coarse where a sea lies between
them). A site with no port of entry cannot be supplied and is not opened
(in the 50 markets: Kenya's sites, with no port within 1,500 km).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult, relative_gap

logger = logging.getLogger(__name__)

#: Ports of departure of ``sea_distances.csv``.
ORIGIN_PORTS: Mapping[str, str] = {
    "port-CNNGB": "Ningbo-Zhoushan",
    "port-CNSHA": "Shanghai",
    "port-CNSZX": "Shenzhen",
}

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

    origin: str = "port-CNNGB"
    sea_usd_per_container_km: float = 0.15
    parcels_per_container: float = 2_000.0
    port_usd_per_container: float = 600.0
    drayage_unit: Literal["container", "pallet"] = "container"
    drayage_usd_per_container_km: float = 2.0
    drayage_usd_per_pallet_km: float = 0.15
    pallets_per_container: float = 20.0
    last_mile_unit: Literal["hour", "km"] = "hour"
    last_mile_usd_per_parcel_h: float = settings.DELIVERY_COST_USD_PER_PARCEL_H
    last_mile_usd_per_parcel_km: float = 0.05
    duty_usd_per_parcel: Mapping[str, float] = field(default_factory=dict)
    cross_border_usd_per_parcel: Mapping[str, float] = field(default_factory=dict)
    unserved: Literal["infeasible", "penalty"] = "infeasible"
    unserved_usd_per_parcel: float = 25.0
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


# --------------------------------------------------------------------------------------------
# Sea distances and ports of entry
# --------------------------------------------------------------------------------------------


def read_sea_distances(path: str | os.PathLike[str], origin: str = "port-CNNGB") -> pd.DataFrame:
    """The sea distances from one port of departure, as precomputed at data-build time.

    Parameters
    ----------
    path
        CSV with columns ``origin, port, country, name, candidate, distance_km``
        (``data/countries/sea_distances.csv``).
    origin
        Port of departure (e.g. ``port-CNNGB``).

    Returns
    -------
    pandas.DataFrame
        ``port, country, name, candidate, distance_km`` of the origin's rows that
        have a distance, sorted by port.

    Raises
    ------
    ValidationError
        For a missing file or column, an origin not in the file, or a distance
        that is not a number >= 0.
    """
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"{p}: sea distance file not found (it is built with the data: "
                              "data/countries/sea_distances.csv)")
    df = pd.read_csv(p, dtype={"origin": str, "port": str, "country": str, "name": str},
                     keep_default_na=False, na_values={"distance_km": [""]})
    need = ["origin", "port", "country", "name", "candidate", "distance_km"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValidationError(f"{p}: missing columns {missing}; expected {', '.join(need)}")
    origins = sorted(set(df["origin"]))
    if origin not in origins:
        raise ValidationError(f"{p}: origin {origin!r} not in the file; valid: "
                              f"{', '.join(origins)}")
    sel = df[df["origin"] == origin].copy()
    km = pd.to_numeric(sel["distance_km"], errors="coerce")
    bad = sel.index[(km.isna() & sel["distance_km"].notna()) | (km < 0)]
    if len(bad):
        raise ValidationError(f"{p}: row {int(bad[0]) + 2}, distance_km "
                              f"{df.loc[bad[0], 'distance_km']!r}; expected km >= 0 or empty")
    sel["distance_km"] = km
    sel["candidate"] = pd.to_numeric(sel["candidate"], errors="coerce").fillna(0).astype(int)
    sel = sel[sel["distance_km"].notna()]
    return sel[need[1:]].sort_values("port").reset_index(drop=True)


@dataclass
class Inbound:
    """The inbound leg of every candidate site: its port of entry and cost per parcel.

    Attributes
    ----------
    port_ids
        ``(n_ports,)`` ids of the ports of entry considered.
    port
        ``(n_sites,)`` index into ``port_ids`` of each site's port (-1: none).
    sea_km, drayage_km
        ``(n_sites,)`` sea km from the origin to the site's port, and drayage km
        from the port to the site (``inf`` without a port).
    sea_usd_per_parcel, port_usd_per_parcel, drayage_usd_per_parcel, duty_usd_per_parcel
        ``(n_sites,)`` the parts of the inbound cost per parcel (``inf`` without a
        port, except duty).
    site_ids
        ``(n_sites,)`` labels, or ``None``.
    """

    port_ids: np.ndarray
    port: np.ndarray
    sea_km: np.ndarray
    drayage_km: np.ndarray
    sea_usd_per_parcel: np.ndarray
    port_usd_per_parcel: np.ndarray
    drayage_usd_per_parcel: np.ndarray
    duty_usd_per_parcel: np.ndarray
    site_ids: np.ndarray | None = None

    @property
    def usd_per_parcel(self) -> np.ndarray:
        """``(n_sites,)`` inbound cost per parcel (``inf`` for a site without a port)."""
        return (self.sea_usd_per_parcel + self.port_usd_per_parcel
                + self.drayage_usd_per_parcel + self.duty_usd_per_parcel)

    @property
    def has_port(self) -> np.ndarray:
        """``(n_sites,)`` bool: whether the site has a port of entry."""
        return np.asarray(self.port) >= 0


def _group_of(codes: Sequence[str], cross_border: Sequence[str]) -> dict[str, set[str]]:
    """For each country, the countries whose ports it may use (itself included)."""
    allowed: dict[str, set[str]] = {c: {c} for c in codes}
    for name in cross_border:
        members = settings.CROSS_BORDER_GROUPS.get(name)
        if members is None:
            raise ValidationError(f"cross_border group {name!r} is unknown; valid: "
                                  f"{', '.join(settings.CROSS_BORDER_GROUPS)}")
        for c in members:
            allowed.setdefault(c, {c}).update(members)
    return allowed


def compute_inbound(
    site_country: Sequence[str] | np.ndarray,
    port_country: Sequence[str] | np.ndarray,
    sea_km: np.ndarray,
    drayage_km: np.ndarray,
    rates: LandedRates | None = None,
    *,
    cross_border: Sequence[str] = (),
    port_ids: Sequence[str] | np.ndarray | None = None,
    site_ids: Sequence[str] | np.ndarray | None = None,
    borrow_ports: bool = True,
) -> Inbound:
    r"""Each site's cheapest port of entry and its inbound cost per parcel.

    Parameters
    ----------
    site_country, port_country
        ISO2 code of every site, and of every port of entry.
    sea_km
        ``(n_ports,)`` sea km from the origin to each port.
    drayage_km
        ``(n_ports, n_sites)`` km from each port to each site (``inf``: no road).
    rates
        The rates (default :class:`LandedRates`).
    cross_border
        Names of cross-border groups (``settings.CROSS_BORDER_GROUPS``) inside
        which a site may take a port of another member country.
    port_ids, site_ids
        Labels carried through.
    borrow_ports
        A site of a country with no port of entry of its own, nor in its
        groups (Czechia, Hungary...), may take any port its drayage reaches.

    Returns
    -------
    Inbound

    Raises
    ------
    ValidationError
        For arrays of the wrong shape, negative or missing distances, or an
        unknown group.

    Notes
    -----
    With :math:`\rho` the sea rate, :math:`\pi` the port handling per container,
    :math:`\delta` the drayage rate per container-km (or per pallet-km ×
    pallets per container) and :math:`P` parcels per container, site :math:`i`
    takes

    .. math::

        p(i) = \arg\min_{p \in A(i)} \frac{\rho\, d^{sea}_p + \pi + \delta\, d^{road}_{pi}}{P}

    over the ports :math:`A(i)` of its own country and of its groups' countries;
    ties go to the first port.

    Examples
    --------
    >>> r = LandedRates(sea_usd_per_container_km=0.2, parcels_per_container=1000,
    ...                 port_usd_per_container=100, drayage_usd_per_container_km=2)
    >>> ib = compute_inbound(["DE", "DE"], ["DE", "NL"], np.array([20000., 19000.]),
    ...                      np.array([[10., 500.], [300., 400.]]), r, cross_border=["EU"])
    >>> ib.port.tolist(), ib.usd_per_parcel.round(3).tolist()
    ([0, 1], [4.12, 4.7])
    """
    rates = rates or LandedRates()
    sc = np.asarray(site_country).astype(str)
    pc = np.asarray(port_country).astype(str)
    sea = np.asarray(sea_km, dtype=float)
    road = np.asarray(drayage_km, dtype=float)
    n_p, n_s = len(pc), len(sc)
    problems = []
    if sea.shape != (n_p,):
        problems.append(f"sea_km: shape {sea.shape}; expected ({n_p},), one per port")
    elif np.isnan(sea).any() or (sea < 0).any():
        problems.append("sea_km: expected km >= 0 (inf: no sea route)")
    if road.shape != (n_p, n_s):
        problems.append(f"drayage_km: shape {road.shape}; expected ({n_p}, {n_s}) "
                        "(ports × sites)")
    elif np.isnan(road).any() or (road < 0).any():
        problems.append("drayage_km: expected km >= 0 (inf: no road)")
    if problems:
        raise ValidationError(problems)
    allowed = _group_of(sorted(set(sc.tolist()) | set(pc.tolist())), cross_border)
    ok = np.array([[p in allowed[s] for s in sc.tolist()] for p in pc.tolist()],
                  dtype=bool).reshape(n_p, n_s)
    if borrow_ports:
        ok[:, ~ok.any(axis=0)] = True
    ok &= np.isfinite(road) & np.isfinite(sea)[:, None]
    sea_pp = rates.sea_usd_per_parcel_km * sea
    dray_pp = rates.drayage_usd_per_parcel_km * road
    total = np.where(ok, sea_pp[:, None] + rates.port_usd_per_parcel + dray_pp, np.inf)
    port = np.full(n_s, -1, dtype=np.int64)
    if n_p:
        best = np.argmin(total, axis=0)
        has = np.isfinite(total[best, np.arange(n_s)])
        port[has] = best[has]
    has = port >= 0
    pick = np.where(has, port, 0)
    inf = np.full(n_s, np.inf)
    duty = np.array([float(rates.duty_usd_per_parcel.get(c, 0.0)) for c in sc.tolist()])
    take = (lambda a: np.where(has, a[pick, np.arange(n_s)], inf)) if n_p else (lambda a: inf)
    sea_site = np.where(has, sea[pick], np.inf) if n_p else inf.copy()
    return Inbound(
        port_ids=np.asarray(port_ids if port_ids is not None else np.arange(n_p).astype(str),
                            dtype=object),
        port=port,
        sea_km=sea_site,
        drayage_km=take(road),
        sea_usd_per_parcel=rates.sea_usd_per_parcel_km * sea_site,
        port_usd_per_parcel=np.where(has, rates.port_usd_per_parcel, np.inf),
        drayage_usd_per_parcel=take(dray_pp),
        duty_usd_per_parcel=duty,
        site_ids=None if site_ids is None else np.asarray(site_ids, dtype=object),
    )


def drayage_km_from_frames(
    demand: Any,
    sites: Any,
    countries: Any | None,
    port_ids: Sequence[str],
    *,
    cross_border: Sequence[str] = (),
    circuity: float = settings.CIRCUITY,
    road_graph: Any = None,
    borrow_max_km: float = 1_500.0,
) -> np.ndarray:
    """Drayage km from each port (a site id) to every site.

    Within a country: the delivery network
    (:func:`hzlogistics.network.site_network_km`). Between two countries of a
    cross-border group, and from every port to the sites of a country with no
    port among ``port_ids`` (nor in its groups): geodesic km × ``circuity``,
    borrowed ports only up to ``borrow_max_km`` of geodesic distance (no
    drayage across an ocean). Elsewhere ``inf``.

    Returns
    -------
    numpy.ndarray
        ``(len(port_ids), len(sites))`` km.
    """
    from hzlogistics.network import site_network_km
    from hzlogistics.projection import geodesic_km

    km = site_network_km(demand, sites, countries, sources=list(port_ids), circuity=circuity,
                         road_graph=road_graph)
    if len(port_ids):
        sc = sites["country"].astype(str).to_numpy()
        where = {s: k for k, s in enumerate(sites["id"].astype(str).tolist())}
        pos = np.array([where[str(p)] for p in port_ids], dtype=np.int64)
        allowed = _group_of(sorted(set(sc.tolist())), cross_border)
        with_port = set(sc[pos].tolist())
        portless = sorted(c for c in set(sc.tolist()) if not allowed[c] & with_port)
        lon = sites.geometry.x.to_numpy()
        lat = sites.geometry.y.to_numpy()
        for r, k in enumerate(pos.tolist()):
            abroad = np.flatnonzero((sc != sc[k]) & (np.isin(sc, sorted(allowed[sc[k]]))
                                                     | np.isin(sc, portless)))
            if len(abroad):
                geo = np.asarray(geodesic_km(lon[k], lat[k], lon[abroad], lat[abroad]),
                                 dtype=float)
                far = np.isin(sc[abroad], portless) & (geo > borrow_max_km)
                km[r, abroad] = np.where(far, np.inf, circuity * geo)
    return km


def inbound_from_frames(
    demand: Any,
    sites: Any,
    countries: Any | None,
    sea: pd.DataFrame,
    rates: LandedRates | None = None,
    *,
    cross_border: Sequence[str] = (),
    circuity: float = settings.CIRCUITY,
    road_graph: Any = None,
    borrow_max_km: float = 1_500.0,
) -> Inbound:
    """Ports of entry and inbound costs of the sites of GeoDataFrames.

    Parameters
    ----------
    demand, sites, countries
        As for :func:`hzlogistics.coverage.build_coverage`.
    sea
        The sea distances of the rates' origin (:func:`read_sea_distances`); its
        ports that are sites (``candidate`` = 1 and an id in ``sites``) are the
        ports of entry.
    rates, cross_border, circuity, road_graph, borrow_max_km
        See :func:`compute_inbound` and :func:`drayage_km_from_frames`.

    Returns
    -------
    Inbound
    """
    rates = rates or LandedRates()
    ids = sites["id"].astype(str).to_numpy()
    sea = sea[(sea["candidate"] == 1) & sea["port"].isin(set(ids.tolist()))]
    sea = sea.drop_duplicates("port")
    port_ids = sea["port"].astype(str).tolist()
    where = {s: k for k, s in enumerate(ids.tolist())}
    sc = sites["country"].astype(str).to_numpy()
    pc = sc[[where[p] for p in port_ids]] if port_ids else np.zeros(0, dtype=str)
    km = drayage_km_from_frames(demand, sites, countries, port_ids, cross_border=cross_border,
                                circuity=circuity, road_graph=road_graph,
                                borrow_max_km=borrow_max_km)
    return compute_inbound(sc, pc, sea["distance_km"].to_numpy(dtype=float), km, rates,
                           cross_border=cross_border, port_ids=port_ids, site_ids=ids)


# --------------------------------------------------------------------------------------------
# The landed-cost problem and its solution
# --------------------------------------------------------------------------------------------


@dataclass
class _Pairs:
    """Per covered pair: site, demand point and outbound cost per parcel."""

    rows: np.ndarray
    cols: np.ndarray
    last_mile: np.ndarray
    cross_border: np.ndarray


def _pairs(problem: SitingProblem, rates: LandedRates, distance_km: sp.spmatrix | None
           ) -> _Pairs:
    """Covered pairs in row-major order with their last-mile and cross-border cost per parcel."""
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
    return _Pairs(rows, cols, lm, cb)


def _check_inbound(problem: SitingProblem, inbound: Inbound) -> None:
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
    _check_inbound(problem, inbound)
    pr = _pairs(problem, rates, distance_km)
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
    return replace(problem, assign_cost=assign, forbidden=_forbidden(problem, inbound))


def _forbidden(problem: SitingProblem, inbound: Inbound) -> np.ndarray:
    """The problem's forbidden sites and the sites without a port of entry."""
    forbidden = (np.zeros(problem.n_sites, bool) if problem.forbidden is None
                 else np.asarray(problem.forbidden, dtype=bool).copy())
    return forbidden | ~inbound.has_port


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
        ``containers_year``, ``sea_km``, ``sites``.
    sites
        One row per open site: ``site``, ``country``, ``port``, ``parcels_day``,
        the inbound parts per parcel, ``rent``, ``fixed``, ``last_mile`` (USD/year)
        and ``usd_per_parcel`` (its whole landed cost per parcel).
    """

    totals: dict[str, float]
    parcels_year: float
    usd_per_parcel: float
    by_country: pd.DataFrame
    ports: pd.DataFrame
    sites: pd.DataFrame


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
        As given to :func:`solve_landed`.
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
    n = problem.n_sites
    served = sp.csr_matrix(result.served)
    pr = _pairs(problem, rates, distance_km)
    x = np.asarray(served[pr.rows, pr.cols], dtype=float).ravel()
    vol = np.asarray(served.sum(axis=1)).ravel()  # parcels/day per site
    has = inbound.has_port
    z = np.zeros(n)

    def per_site(a: np.ndarray) -> np.ndarray:
        return np.where(has, a, 0.0) * vol * days

    area = np.asarray(result.area_m2, dtype=float)
    open_ = area > 0
    rent = (z if problem.rent_usd_m2_year is None
            else np.asarray(problem.rent_usd_m2_year, dtype=float)) * area
    fixed = (z if problem.fixed_cost_usd_year is None
             else np.asarray(problem.fixed_cost_usd_year, dtype=float)) * open_
    lm = np.bincount(pr.rows, weights=x * pr.last_mile * days, minlength=n)
    cb = np.bincount(pr.rows, weights=x * pr.cross_border * days, minlength=n)
    site_parts = {
        "sea": per_site(inbound.sea_usd_per_parcel),
        "port": per_site(inbound.port_usd_per_parcel),
        "drayage": per_site(inbound.drayage_usd_per_parcel),
        "duty": per_site(inbound.duty_usd_per_parcel),
        "rent": rent, "fixed": fixed, "last_mile": lm, "cross_border": cb,
    }
    w = np.asarray(problem.weight, dtype=float)
    got = np.asarray(served.sum(axis=0)).ravel()
    missing = np.maximum(w - got, 0.0)
    missing[missing <= 1e-6 * np.maximum(w, 1.0)] = 0.0  # rounding of a split plan
    unserved_cost = missing * days * (rates.unserved_usd_per_parcel
                                      if rates.unserved == "penalty" else 0.0)
    totals = {k: float(v.sum()) for k, v in site_parts.items()}
    totals["unserved"] = float(unserved_cost.sum())
    totals = {k: totals[k] for k in COMPONENTS}
    totals["total"] = float(sum(totals.values()))
    parcels_year = float(w.sum() * days)

    names = list(problem.group_names)

    def label(g: np.ndarray | None, k: int) -> str:
        if g is None or not names:
            return ""
        return str(names[int(np.asarray(g)[k])])

    site_country = np.array([label(problem.group, i) for i in range(n)], dtype=object)
    demand_country = np.array([label(problem.demand_group, j) for j in range(len(w))],
                              dtype=object)
    frame = pd.DataFrame({k: v for k, v in site_parts.items()})
    frame["country"] = site_country
    frame["parcels_year"] = vol * days
    by = frame.groupby("country").sum()
    pen = pd.Series(unserved_cost, index=demand_country).groupby(level=0).sum()
    by = by.reindex(sorted(set(by.index) | set(pen.index)), fill_value=0.0)
    by["unserved"] = pen.reindex(by.index, fill_value=0.0)
    by = by[[*COMPONENTS, "parcels_year"]]
    by.insert(len(COMPONENTS), "total", by[list(COMPONENTS)].sum(axis=1))
    by["usd_per_parcel"] = by["total"] / by["parcels_year"].where(by["parcels_year"] > 0)
    by = by.reset_index().rename(columns={"index": "country"})

    site_ids = (np.asarray(problem.site_ids, dtype=object) if problem.site_ids is not None
                else np.arange(n).astype(str).astype(object))
    port_name = np.array([inbound.port_ids[p] if p >= 0 else "" for p in inbound.port.tolist()],
                         dtype=object)
    idx = np.flatnonzero(open_)
    sites = pd.DataFrame({
        "site": site_ids[idx], "country": site_country[idx], "port": port_name[idx],
        "parcels_day": vol[idx],
        "sea_usd_per_parcel": inbound.sea_usd_per_parcel[idx],
        "port_usd_per_parcel": inbound.port_usd_per_parcel[idx],
        "drayage_usd_per_parcel": inbound.drayage_usd_per_parcel[idx],
        "duty_usd_per_parcel": inbound.duty_usd_per_parcel[idx],
        "inbound_usd_per_parcel": inbound.usd_per_parcel[idx],
        "rent": rent[idx], "fixed": fixed[idx], "last_mile": lm[idx],
        "cross_border": cb[idx],
    })
    site_total = sum(site_parts[k][idx] for k in site_parts)
    sites["usd_per_parcel"] = site_total / np.where(vol[idx] > 0, vol[idx] * days, np.nan)

    used = idx[has[idx] & (vol[idx] > 0)]
    pframe = pd.DataFrame({"port": port_name[used], "country": "", "parcels_day": vol[used],
                           "sea_km": inbound.sea_km[used], "sites": 1})
    if len(used):
        pc = {port_name[i]: "" for i in used.tolist()}
        for i in used.tolist():
            pc[port_name[i]] = str(site_country[i])  # overwritten below when ids say more
        ports = pframe.groupby("port", as_index=False).agg(
            parcels_day=("parcels_day", "sum"), sea_km=("sea_km", "first"), sites=("sites", "sum"))
        where = {str(s): k for k, s in enumerate(site_ids.tolist())}
        ports.insert(1, "country", [str(site_country[where[p]]) if p in where else pc[p]
                                    for p in ports["port"].tolist()])
        ports.insert(3, "containers_year",
                     ports["parcels_day"] * days / rates.parcels_per_container)
        ports = ports.sort_values("parcels_day", ascending=False).reset_index(drop=True)
    else:
        ports = pd.DataFrame(columns=["port", "country", "parcels_day", "containers_year",
                                      "sea_km", "sites"])
    return LandedBreakdown(totals=totals, parcels_year=parcels_year,
                           usd_per_parcel=totals["total"] / parcels_year if parcels_year else 0.0,
                           by_country=by, ports=ports, sites=sites)


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
        Each site's port of entry and inbound cost (:func:`compute_inbound`,
        :func:`inbound_from_frames`).
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
    (see :func:`hzlogistics.models.cost.solve_cost` for its formulation). With
    ``unserved="penalty"``, the demand points no allowed site reaches are taken
    out first and their penalty, a constant, added to the objective and the
    bound alike; so the bound stays a valid lower bound of the landed cost.

    Examples
    --------
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
    from hzlogistics.models import solve

    rates = rates or LandedRates()
    _check_inbound(problem, inbound)
    if distance_km is not None and distance_km.shape != problem.cover.shape:
        raise ValidationError(f"distance_km: shape {distance_km.shape}; expected "
                              f"{problem.cover.shape} like cover")
    keep = np.ones(problem.n_demand, dtype=bool)
    if rates.unserved == "penalty":
        keep = replace(problem, forbidden=_forbidden(problem, inbound)).reachable()
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
        res = solve(sub, "cost", options, assignment=assignment)
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
    out = replace(res, served=served, objective=objective, bound=bound,
                  gap=relative_gap(objective, bound) if res.has_solution else res.gap,
                  info=info)
    if out.has_solution:
        info["landed"] = landed_breakdown(problem, inbound, out, rates, distance_km=distance_km)
    return out


__all__ = [
    "COMPONENTS",
    "ORIGIN_PORTS",
    "Inbound",
    "LandedBreakdown",
    "LandedRates",
    "build_landed_problem",
    "compute_inbound",
    "drayage_km_from_frames",
    "inbound_from_frames",
    "landed_breakdown",
    "read_sea_distances",
    "solve_landed",
]
