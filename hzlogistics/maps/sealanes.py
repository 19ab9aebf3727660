"""Inbound sea lanes: from Ningbo–Zhoushan to each country's main container port.

Routes come from the ``searoute`` package (a maritime network shipped with the
package; no network access). Distances are its shortest paths; days at sea assume a
container ship at :data:`hzlogistics.settings.SEA_SPEED_KNOTS` plus
:data:`hzlogistics.settings.PORT_TIME_DAYS` in port (loading and discharge). The
routes to the 50 markets are stored in :data:`ROUTES_FILE` (computed once with
``searoute``), so that drawing them takes no time; others are computed when asked.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
from shapely.geometry import MultiLineString

from hzlogistics import settings
from hzlogistics._errors import MissingDependencyError

logger = logging.getLogger(__name__)

#: Kilometres in a nautical mile.
KM_PER_NMI: float = 1.852

#: Stored routes from the default origin to the ports of the 50 markets, written by
#: :func:`write_routes_file` (``python -m hzlogistics.maps.sealanes``).
ROUTES_FILE: Path = Path(__file__).resolve().parent / "assets" / "sea-lanes.json"

#: Entry port (UN/LOCODE) of each country's container imports from China, where the
#: busiest port of the country is not the one used (a landlocked country: its gateway).
#: A country not listed here uses its port with the most scheduled connections in
#: ``searoute``'s port list. Landlocked markets with no sea gateway here (Kazakhstan,
#: Uzbekistan: served by rail) get no lane.
MAIN_PORTS: MappingProxyType[str, str] = MappingProxyType({
    "AT": "SIKOP", "AU": "AUSYD", "CA": "CAVAN", "CH": "NLRTM", "CZ": "DEHAM",
    "GB": "GBFXT", "HU": "SIKOP", "ID": "IDJKT", "IE": "IEDUB", "IT": "ITGOA",
    "JP": "JPTYO", "KW": "KWSWK", "MX": "MXZLO", "NZ": "NZAKL", "PH": "PHMNL", "PT": "PTLEI",
    "RU": "RUVVO", "SK": "DEHAM", "TR": "TRAMR", "US": "USLAX", "VN": "VNCMT",
})


@dataclass(frozen=True)
class Port:
    """A container port."""

    code: str
    name: str
    lon: float
    lat: float


@cache
def _ports() -> tuple[dict[str, Port], dict[str, str]]:
    """Ports of ``searoute``'s list by UN/LOCODE, and each country's busiest one."""
    try:
        raw = resources.files("searoute").joinpath("data", "ports.geojson").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise MissingDependencyError(
            "sea lanes need the 'searoute' package: pip install searoute"
        ) from exc
    by_code: dict[str, Port] = {}
    busiest: dict[str, tuple[int, str]] = {}
    for feature in json.loads(raw)["features"]:
        props = feature["properties"]
        code = str(props["port"])
        lon, lat = feature["geometry"]["coordinates"][:2]
        by_code[code] = Port(code, str(props["name"]), float(lon), float(lat))
        if props.get("t"):
            links = len(props.get("to_cty") or [])
            if links > busiest.get(code[:2], (-1, ""))[0]:
                busiest[code[:2]] = (links, code)
    return by_code, {cc: code for cc, (_, code) in busiest.items()}


def main_port(country: str) -> Port | None:
    """The port a country's imports from China enter by, or ``None`` if none is known.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code.

    Raises
    ------
    MissingDependencyError
        If the country is not in :data:`ROUTES_FILE` and ``searoute`` is not installed.

    Examples
    --------
    >>> main_port("DE").name
    'Hamburg'
    >>> main_port("KZ") is None  # landlocked, no sea gateway
    True
    """
    stored = _stored()
    if country in stored.countries:
        code = stored.countries[country]
        return None if code is None else stored.ports[code][0]
    by_code, busiest = _ports()
    code = MAIN_PORTS.get(country) or busiest.get(country)
    return None if code is None else by_code.get(code)


@cache
def _computed_route(origin: tuple[float, float], dest: tuple[float, float]
                    ) -> tuple[float, tuple[tuple[float, float], ...]]:
    try:
        import searoute
    except ImportError as exc:  # pragma: no cover - _ports() fails first
        raise MissingDependencyError(
            "sea lanes need the 'searoute' package: pip install searoute"
        ) from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feature = searoute.searoute(list(origin), list(dest), units="km")
    coords = tuple((float(c[0]), float(c[1])) for c in feature["geometry"]["coordinates"])
    return float(feature["properties"]["length"]), coords


@dataclass(frozen=True)
class _Stored:
    origin: tuple[float, float]
    countries: dict[str, str | None]
    ports: dict[str, tuple[Port, float, tuple[tuple[float, float], ...]]]


@cache
def _stored() -> _Stored:
    """What :data:`ROUTES_FILE` holds: each country's port, and the route to each port."""
    try:
        data = json.loads(ROUTES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.info("no stored sea lanes in %s; computing them", ROUTES_FILE)
        return _Stored((float("nan"), float("nan")), {}, {})
    ports = {code: (Port(code, r["name"], float(r["lon"]), float(r["lat"])),
                    float(r["distance_km"]), tuple((float(x), float(y)) for x, y in r["line"]))
             for code, r in data["ports"].items()}
    return _Stored((float(data["origin"][0]), float(data["origin"][1])),
                   dict(data["countries"]), ports)


def _route(origin: tuple[float, float], port: Port) -> tuple[float, tuple]:
    """Length (km) and line of the sea route from ``origin`` to ``port``.

    Routes from the default origin to the ports of the 50 markets are stored in
    :data:`ROUTES_FILE` (computing them takes seconds); any other is computed.
    """
    stored = _stored()
    if port.code in stored.ports and np.allclose(origin, stored.origin, atol=1e-6):
        _, km, line = stored.ports[port.code]
        return km, line
    return _computed_route(origin, (port.lon, port.lat))


def split_antimeridian(coords: Iterable[tuple[float, float]]) -> list[list[tuple[float, float]]]:
    """Cut a line where it crosses longitude ±180, with every longitude in [-180, 180].

    ``searoute`` returns lines that go on past 180°E (e.g. to 241°E for Los
    Angeles); a web map draws those off the world. Each crossing gets a point on
    both edges, interpolated in latitude.

    Examples
    --------
    >>> split_antimeridian([(170.0, 0.0), (190.0, 10.0)])
    [[(170.0, 0.0), (180.0, 5.0)], [(-180.0, 5.0), (-170.0, 10.0)]]
    """
    parts: list[list[tuple[float, float]]] = [[]]
    prev: tuple[float, float] | None = None
    for lon, lat in coords:
        wrapped = ((lon + 180.0) % 360.0) - 180.0
        if prev is not None and abs(wrapped - prev[0]) > 180.0:
            step = 360.0 if wrapped < prev[0] else -360.0  # crossing east / west
            edge = 180.0 if step > 0 else -180.0
            frac = (edge - prev[0]) / (wrapped + step - prev[0])
            lat_edge = prev[1] + frac * (lat - prev[1])
            parts[-1].append((edge, lat_edge))
            parts.append([(-edge, lat_edge)])
        parts[-1].append((wrapped, lat))
        prev = (wrapped, lat)
    return [p for p in parts if len(p) > 1]


def days_at_sea(distance_km: float, *, speed_knots: float = settings.SEA_SPEED_KNOTS,
                port_time_days: float = settings.PORT_TIME_DAYS) -> float:
    """Door-to-door days of a voyage: steaming time plus time in port.

    Examples
    --------
    >>> round(days_at_sea(20_000.0, speed_knots=16.0, port_time_days=2.0), 1)
    30.1
    """
    return distance_km / (speed_knots * KM_PER_NMI * 24.0) + port_time_days


def sea_lanes(
    countries: Iterable[str],
    *,
    origin_lon_lat: tuple[float, float] = settings.SEA_ORIGIN_LON_LAT,
    speed_knots: float = settings.SEA_SPEED_KNOTS,
    port_time_days: float = settings.PORT_TIME_DAYS,
) -> gpd.GeoDataFrame:
    """Sea routes from the origin port to each country's main container port.

    Parameters
    ----------
    countries
        ISO alpha-2 codes. A country with no known port is left out (logged).
    origin_lon_lat
        The port of departure (default: Ningbo–Zhoushan).
    speed_knots, port_time_days
        Ship speed and days in port, for ``days_at_sea``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``country, port, port_name, distance_km, days_at_sea`` and a
        MultiLineString (cut at the antimeridian), EPSG:4326, one row per country.

    Raises
    ------
    MissingDependencyError
        If a route is not stored in :data:`ROUTES_FILE` and ``searoute`` is not
        installed.

    Examples
    --------
    >>> lanes = sea_lanes(["DE", "US"])
    >>> list(lanes["port_name"])
    ['Hamburg', 'Los Angeles']
    >>> bool((lanes["days_at_sea"] > 15).all())
    True
    """
    rows = []
    origin = (float(origin_lon_lat[0]), float(origin_lon_lat[1]))
    for country in dict.fromkeys(countries):
        port = main_port(str(country))
        if port is None:
            logger.info("no container port known for %s: no sea lane drawn", country)
            continue
        length_km, coords = _route(origin, port)
        if not np.isfinite(length_km) or len(coords) < 2:
            logger.info("no sea route found to %s (%s)", port.name, country)
            continue
        rows.append({
            "country": str(country),
            "port": port.code,
            "port_name": port.name,
            "distance_km": length_km,
            "days_at_sea": days_at_sea(length_km, speed_knots=speed_knots,
                                       port_time_days=port_time_days),
            "geometry": MultiLineString(split_antimeridian(coords)),
        })
    columns = ["country", "port", "port_name", "distance_km", "days_at_sea", "geometry"]
    if not rows:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, columns=columns, geometry="geometry", crs="EPSG:4326")


def find_port(code: str) -> Port | None:
    """A port of ``searoute``'s list by UN/LOCODE (``NLRTM``), or ``None``.

    Raises
    ------
    MissingDependencyError
        If ``searoute`` is not installed.

    Examples
    --------
    >>> find_port("NLRTM").name
    'Rotterdam'
    """
    return _ports()[0].get(str(code).upper())


def sea_route(port: Port, *, origin_lon_lat: tuple[float, float] = settings.SEA_ORIGIN_LON_LAT
              ) -> tuple[float, MultiLineString] | None:
    """Length (km) and line (cut at the antimeridian) of the sea route to ``port``.

    Routes from the default origin to the stored ports come from
    :data:`ROUTES_FILE`; others are computed with ``searoute`` (a few
    milliseconds each). Only drawing uses them: the landed-cost objective reads
    the distances precomputed in ``sea_distances.csv``.

    Returns
    -------
    (float, shapely.MultiLineString) or None
        ``None`` when ``searoute`` finds no route.

    Raises
    ------
    MissingDependencyError
        If the route is not stored and ``searoute`` is not installed.

    Examples
    --------
    >>> km, line = sea_route(find_port("NLRTM"))
    >>> 18_000 < km < 21_000
    True
    """
    origin = (float(origin_lon_lat[0]), float(origin_lon_lat[1]))
    length_km, coords = _route(origin, port)
    if not np.isfinite(length_km) or len(coords) < 2:
        return None
    return length_km, MultiLineString(split_antimeridian(coords))


def write_routes_file(codes: Iterable[str] | None = None, path: str | Path = ROUTES_FILE, *,
                      origin_lon_lat: tuple[float, float] = settings.SEA_ORIGIN_LON_LAT) -> Path:
    """Compute each country's port and the route to it with ``searoute``, and store them.

    Run after a change of :data:`MAIN_PORTS`, of the markets or of ``searoute``:
    ``python -c "from hzlogistics.maps.sealanes import write_routes_file as w; w()"``.

    Parameters
    ----------
    codes
        ISO codes (default: the 50 markets).
    path
        The JSON file to write (default: :data:`ROUTES_FILE`).
    origin_lon_lat
        The port of departure.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    MissingDependencyError
        If ``searoute`` is not installed.
    """
    if codes is None:
        from hzlogistics.countries import COUNTRY_CODES

        codes = COUNTRY_CODES
    by_code, busiest = _ports()  # searoute's list, not the stored file
    from searoute import __version__ as searoute_version

    origin = (float(origin_lon_lat[0]), float(origin_lon_lat[1]))
    countries: dict[str, str | None] = {}
    ports: dict[str, dict[str, object]] = {}
    for country in sorted(set(codes)):
        code = MAIN_PORTS.get(country) or busiest.get(country)
        port = None if code is None else by_code.get(code)
        countries[country] = None if port is None else port.code
        if port is None or port.code in ports:
            continue
        km, line = _computed_route(origin, (port.lon, port.lat))
        ports[port.code] = {"name": port.name, "lon": port.lon, "lat": port.lat,
                            "distance_km": round(km, 3),
                            "line": [[round(x, 4), round(y, 4)] for x, y in line]}
    data = {"origin": list(origin), "source": f"searoute {searoute_version}",
            "countries": countries, "ports": dict(sorted(ports.items()))}
    path = Path(path)
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n",
                    encoding="utf-8")
    _stored.cache_clear()
    return path


__all__ = ["MAIN_PORTS", "Port", "ROUTES_FILE", "days_at_sea", "find_port", "main_port",
           "sea_lanes", "sea_route", "split_antimeridian", "write_routes_file"]
