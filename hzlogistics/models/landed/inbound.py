r"""The inbound leg: each candidate site's port of entry and its cost per parcel.

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

Formulation
-----------
With :math:`\rho` the sea rate per container-km, :math:`\pi` the port
handling per container, :math:`\delta` the drayage rate per container-km and
:math:`P` the parcels per container, the inbound cost per parcel of site
:math:`i` through port :math:`p` is

.. math::

    s_{pi} = \frac{\rho\, d^{sea}_p + \pi + \delta\, d^{road}_{pi}}{P} + u_{c(i)},

:math:`u_c` the duty of the site's country; the site takes
:math:`s_i = \min_{p \in A(i)} s_{pi}` over the ports :math:`A(i)` it may use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.models.landed.rates import LandedRates


def read_sea_distances(path: str | os.PathLike[str],
                       origin: str = settings.LANDED_ORIGIN) -> pd.DataFrame:
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
    port_country
        ``(n_ports,)`` ISO2 code of each port of entry, or ``None``.
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
    port_country: np.ndarray | None = None

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
        port_country=pc.astype(object),
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
    borrow_max_km: float = settings.BORROW_PORT_MAX_KM,
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
    borrow_max_km: float = settings.BORROW_PORT_MAX_KM,
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


__all__ = [
    "Inbound",
    "compute_inbound",
    "drayage_km_from_frames",
    "inbound_from_frames",
    "read_sea_distances",
]
