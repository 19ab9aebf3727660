"""Hand-written reference figures shared by the tests of coverage and network."""

from __future__ import annotations

import pyproj

_GEOD = pyproj.Geod(ellps="WGS84")


def km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on WGS84, km."""
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def banded_h(road_km: float) -> float:
    """Travel time with the default speed bands, written out by hand."""
    t = min(road_km, 5.0) / 25.0
    t += min(max(road_km - 5.0, 0.0), 15.0) / 45.0
    t += min(max(road_km - 20.0, 0.0), 40.0) / 70.0
    t += max(road_km - 60.0, 0.0) / 85.0
    return t
