"""Geometry helpers of the build: unit vectors, chords, rounding, points inside a boundary."""

from __future__ import annotations

import math

import numpy as np

from hzlogistics.databuild.parameters import BOUNDARY_TOLERANCE_DEG, COORD_DECIMALS

#: Mean Earth radius of the chords, km.
_EARTH_RADIUS_KM = 6_371.0088


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, one row ``(x, y, z)`` per longitude/latitude."""
    lon_r = np.radians(np.asarray(lon, dtype=float))
    lat_r = np.radians(np.asarray(lat, dtype=float))
    return np.column_stack(
        [np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)]
    )


def chord(distance_km: float) -> float:
    """Chord on the unit sphere of a great-circle distance, km."""
    return 2.0 * math.sin(distance_km / (2.0 * _EARTH_RADIUS_KM))


def round_geometry(geom: object) -> object:
    """The geometry with every coordinate rounded to :data:`COORD_DECIMALS`."""
    import shapely

    return shapely.transform(geom, lambda xy: np.round(xy, COORD_DECIMALS))


def inside_boundary(geometry: object, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Whether each point lies within :data:`BOUNDARY_TOLERANCE_DEG` of the geometry."""
    import shapely

    if len(lon) == 0:
        return np.zeros(0, dtype=bool)
    shapely.prepare(geometry)
    points = shapely.points(np.asarray(lon, float), np.asarray(lat, float))
    return shapely.dwithin(geometry, points, BOUNDARY_TOLERANCE_DEG)
