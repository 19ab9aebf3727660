"""Geodesic helpers: distances on the WGS84 ellipsoid and a local metric CRS.

Everything the library stores is in EPSG:4326 (longitude, latitude in
degrees). Distances are measured on the WGS84 ellipsoid with
:class:`pyproj.Geod`; planar work (triangulations, buffers, hulls) happens in
an azimuthal equidistant projection centred on the data, which keeps
distances from the centre exact, handles countries that straddle the
antimeridian and needs no UTM zone bookkeeping.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from hzlogistics._errors import ValidationError

logger = logging.getLogger(__name__)

#: Mean radius of the Earth (IUGG), km; used only for spherical approximations.
EARTH_RADIUS_KM: float = 6_371.0088

#: The ellipsoid every distance is measured on.
GEOD: pyproj.Geod = pyproj.Geod(ellps="WGS84")

#: Largest relative difference between a spherical great-circle distance on a
#: sphere of radius :data:`EARTH_RADIUS_KM` and the WGS84 geodesic.
SPHERE_ERROR: float = 0.006


def geodesic_km(
    lon1: np.ndarray | float,
    lat1: np.ndarray | float,
    lon2: np.ndarray | float,
    lat2: np.ndarray | float,
) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid, element by element.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Coordinates in degrees (arrays broadcast together).

    Returns
    -------
    numpy.ndarray
        Distances in km (float64, the broadcast shape).

    Examples
    --------
    >>> round(float(geodesic_km(0.0, 0.0, 1.0, 0.0)), 3)
    111.319
    """
    a = np.broadcast_arrays(
        np.asarray(lon1, dtype=float),
        np.asarray(lat1, dtype=float),
        np.asarray(lon2, dtype=float),
        np.asarray(lat2, dtype=float),
    )
    shape = a[0].shape
    lon1_f, lat1_f, lon2_f, lat2_f = (np.ascontiguousarray(x).ravel() for x in a)
    if lon1_f.size == 0:
        return np.zeros(shape)
    _, _, dist_m = GEOD.inv(lon1_f, lat1_f, lon2_f, lat2_f)
    return np.asarray(dist_m, dtype=float).reshape(shape) / 1_000.0


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points as 3-D unit vectors (for k-d trees on the sphere).

    Parameters
    ----------
    lon, lat
        Coordinates in degrees, shape ``(n,)``.

    Returns
    -------
    numpy.ndarray
        ``(n, 3)`` unit vectors.

    Examples
    --------
    >>> unit_vectors(np.array([90.0]), np.array([0.0])).round(6).tolist()
    [[0.0, 1.0, 0.0]]
    """
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    cphi = np.cos(phi)
    return np.column_stack([cphi * np.cos(lam), cphi * np.sin(lam), np.sin(phi)])


def chord_for_km(distance_km: float | np.ndarray) -> float | np.ndarray:
    """Straight-line distance between unit vectors whose great-circle distance is given.

    A search for "everything within ``d`` km" on unit vectors uses this chord,
    inflated by :data:`SPHERE_ERROR` so that no point within ``d`` km on the
    ellipsoid is missed; candidates are then checked with :func:`geodesic_km`.

    Parameters
    ----------
    distance_km
        Great-circle distance on the mean sphere, km.

    Returns
    -------
    float or numpy.ndarray
        Chord length on the unit sphere.

    Examples
    --------
    >>> round(chord_for_km(np.pi * EARTH_RADIUS_KM), 6)
    2.0
    """
    angle = np.minimum(np.asarray(distance_km, dtype=float) / EARTH_RADIUS_KM, np.pi)
    chord = 2.0 * np.sin(angle / 2.0)
    return float(chord) if np.ndim(chord) == 0 else chord


def spherical_centre(lon: np.ndarray, lat: np.ndarray) -> tuple[float, float]:
    """Centre of a set of points on the sphere (normalised mean of unit vectors).

    Parameters
    ----------
    lon, lat
        Coordinates in degrees; at least one point.

    Returns
    -------
    tuple of float
        ``(lon, lat)`` of the centre, degrees.

    Raises
    ------
    ValidationError
        When there are no points.

    Examples
    --------
    >>> spherical_centre(np.array([179.0, -179.0]), np.array([0.0, 0.0]))
    (180.0, 0.0)
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.size == 0:
        raise ValidationError("spherical_centre: no points given; pass at least one point")
    v = unit_vectors(lon, lat).mean(axis=0)
    norm = float(np.linalg.norm(v))
    if norm < 1e-9:  # antipodal spread: any centre will do
        return float(lon[0]), float(lat[0])
    v = v / norm
    return float(np.degrees(np.arctan2(v[1], v[0]))), float(np.degrees(np.arcsin(v[2])))


def local_crs(lon: np.ndarray, lat: np.ndarray) -> pyproj.CRS:
    """A metric CRS suited to a set of points: azimuthal equidistant at their centre.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees (one country, one service area...).

    Returns
    -------
    pyproj.CRS
        Azimuthal equidistant projection on WGS84, metres, centred on
        :func:`spherical_centre` of the points.

    Examples
    --------
    >>> crs = local_crs(np.array([8.0, 9.0]), np.array([50.0, 50.0]))
    >>> crs.axis_info[0].unit_name
    'metre'
    """
    lon0, lat0 = spherical_centre(lon, lat)
    return pyproj.CRS.from_proj4(
        f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m +no_defs"
    )


@functools.lru_cache(maxsize=256)
def _transformer(srs: str, inverse: bool) -> pyproj.Transformer:
    if srs.startswith("+proj=aeqd"):
        # a PROJ pipeline skips the CRS database lookups of ``from_crs`` (~50 ms each)
        aeqd = srs.replace("+no_defs", "").replace("+type=crs", "").strip()
        if inverse:
            steps = f"+step +inv {aeqd} +step +proj=unitconvert +xy_in=rad +xy_out=deg"
        else:
            steps = f"+step +proj=unitconvert +xy_in=deg +xy_out=rad +step {aeqd}"
        return pyproj.Transformer.from_pipeline(f"+proj=pipeline {steps}")
    if inverse:
        return pyproj.Transformer.from_crs(srs, "EPSG:4326", always_xy=True)
    return pyproj.Transformer.from_crs("EPSG:4326", srs, always_xy=True)


def to_local(crs: pyproj.CRS) -> pyproj.Transformer:
    """Transformer from EPSG:4326 (lon, lat order) to ``crs`` (cached).

    Examples
    --------
    >>> tr = to_local(local_crs(np.array([0.0]), np.array([0.0])))
    >>> [round(v) for v in tr.transform(1.0, 0.0)]
    [111319, 0]
    """
    return _transformer(crs.srs, False)


def from_local(crs: pyproj.CRS) -> pyproj.Transformer:
    """Transformer from ``crs`` back to EPSG:4326 (lon, lat order, cached).

    Examples
    --------
    >>> tr = from_local(local_crs(np.array([0.0]), np.array([0.0])))
    >>> [round(v, 6) for v in tr.transform(111319.490793, 0.0)]
    [1.0, 0.0]
    """
    return _transformer(crs.srs, True)


def project_points(
    lon: np.ndarray, lat: np.ndarray, crs: pyproj.CRS
) -> np.ndarray:
    """Project points to ``crs``.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees, shape ``(n,)``.
    crs
        Target CRS (usually from :func:`local_crs`).

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` projected coordinates (metres for a metric CRS).

    Examples
    --------
    >>> lon, lat = np.array([10.0, 10.0]), np.array([0.0, 1.0])
    >>> xy = project_points(lon, lat, local_crs(lon, lat))
    >>> round(float(np.hypot(*(xy[1] - xy[0]))) / 1000, 1)
    110.6
    """
    x, y = to_local(crs).transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def _transform_fn(transformer: pyproj.Transformer) -> Callable[[np.ndarray], np.ndarray]:
    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return fn


def project_geometry(geom: BaseGeometry, crs: pyproj.CRS) -> BaseGeometry:
    """Project a shapely geometry from EPSG:4326 to ``crs`` (vertex by vertex).

    Examples
    --------
    >>> sq = shapely.box(0.0, 0.0, 1.0, 1.0)
    >>> crs = local_crs(np.array([0.5]), np.array([0.5]))
    >>> round(project_geometry(sq, crs).area / 1e6, -2)
    12300.0
    """
    return shapely.transform(geom, _transform_fn(to_local(crs)))


def unproject_geometry(geom: BaseGeometry, crs: pyproj.CRS) -> BaseGeometry:
    """Bring a shapely geometry from ``crs`` back to EPSG:4326."""
    return shapely.transform(geom, _transform_fn(from_local(crs)))


__all__ = [
    "EARTH_RADIUS_KM",
    "GEOD",
    "SPHERE_ERROR",
    "chord_for_km",
    "from_local",
    "geodesic_km",
    "local_crs",
    "project_geometry",
    "project_points",
    "spherical_centre",
    "to_local",
    "unit_vectors",
    "unproject_geometry",
]
