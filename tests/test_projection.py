"""Tests of hzlogistics.projection: geodesic distances and the local CRS."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from hzlogistics._errors import ValidationError
from hzlogistics.projection import (
    EARTH_RADIUS_KM,
    SPHERE_ERROR,
    chord_for_km,
    geodesic_km,
    local_crs,
    project_geometry,
    project_points,
    spherical_centre,
    unit_vectors,
    unproject_geometry,
)

WGS84 = pyproj.Geod(ellps="WGS84")


def random_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-180, 180, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def test_geodesic_km_matches_pyproj_pairwise():
    lon1, lat1 = random_points(200, seed=1)
    lon2, lat2 = random_points(200, seed=2)
    expected = np.array([WGS84.inv(a, b, c, d)[2] / 1000 for a, b, c, d in
                         zip(lon1, lat1, lon2, lat2, strict=True)])
    np.testing.assert_allclose(geodesic_km(lon1, lat1, lon2, lat2), expected, rtol=1e-12)


def test_geodesic_km_known_values_and_broadcasting():
    # one degree of longitude on the WGS84 equator: a·π/180
    assert geodesic_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(6378.137 * np.pi / 180, rel=1e-12)
    d = geodesic_km(np.array([0.0, 0.0]), 0.0, np.array([0.0, 2.0]), 0.0)
    assert d.shape == (2,)
    assert d[0] == 0.0
    assert d[1] == pytest.approx(2 * 6378.137 * np.pi / 180, rel=1e-12)
    assert geodesic_km(np.array([]), np.array([]), np.array([]), np.array([])).shape == (0,)


def test_unit_vectors_are_unit_and_oriented():
    lon, lat = random_points(50)
    v = unit_vectors(lon, lat)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0)
    np.testing.assert_allclose(unit_vectors(np.array([0.0, 0.0]), np.array([0.0, 90.0])),
                               [[1, 0, 0], [0, 0, 1]], atol=1e-15)


def test_chord_for_km_is_the_sphere_chord():
    # a quarter of the great circle is a chord of sqrt(2)
    assert chord_for_km(np.pi / 2 * EARTH_RADIUS_KM) == pytest.approx(np.sqrt(2))
    assert chord_for_km(0.0) == 0.0
    arr = chord_for_km(np.array([1.0, 10.0, 100.0]))
    assert np.all(np.diff(arr) > 0)


def test_sphere_error_bound_holds_for_geodesic_search():
    """A k-d tree search with the inflated chord never misses a point within the radius."""
    lon1, lat1 = random_points(3000, seed=3)
    rng = np.random.default_rng(4)
    # partners at up to 2000 km in every direction, many at high latitude
    az = rng.uniform(-180, 180, 3000)
    dist_m = rng.uniform(0, 2_000_000, 3000)
    lon2, lat2, _ = WGS84.fwd(lon1, lat1, az, dist_m)
    chord = np.linalg.norm(unit_vectors(lon1, lat1) - unit_vectors(lon2, lat2), axis=1)
    bound = chord_for_km(dist_m / 1000 * (1 + SPHERE_ERROR))
    assert np.all(chord <= bound)


def test_spherical_centre_across_the_antimeridian():
    lon, lat = spherical_centre(np.array([179.0, -179.0]), np.array([10.0, 10.0]))
    assert abs(abs(lon) - 180.0) < 1e-9
    assert lat == pytest.approx(10.0, abs=0.02)
    with pytest.raises(ValidationError, match="no points"):
        spherical_centre(np.array([]), np.array([]))


def test_local_crs_keeps_distances_from_its_centre():
    lon = np.array([5.0, 15.0, 10.0])
    lat = np.array([45.0, 55.0, 50.0])
    crs = local_crs(lon, lat)
    c_lon, c_lat = spherical_centre(lon, lat)
    xy = project_points(lon, lat, crs)
    expected = geodesic_km(c_lon, c_lat, lon, lat) * 1000
    # the centre is written with 6 decimals (~0.1 m)
    np.testing.assert_allclose(np.hypot(xy[:, 0], xy[:, 1]), expected, rtol=0, atol=0.5)


def test_local_crs_handles_points_either_side_of_the_antimeridian():
    lon = np.array([179.9, -179.9])
    lat = np.array([-17.0, -17.0])
    xy = project_points(lon, lat, local_crs(lon, lat))
    # the two points are ~21 km apart, not 38,000 km
    assert np.hypot(*(xy[0] - xy[1])) / 1000 == pytest.approx(
        float(geodesic_km(lon[0], lat[0], lon[1], lat[1])), rel=1e-3)


def test_project_geometry_round_trip():
    poly = shapely.box(8.0, 47.0, 10.0, 49.0)
    crs = local_crs(np.array([9.0]), np.array([48.0]))
    there = project_geometry(poly, crs)
    assert there.area / 1e6 == pytest.approx(
        abs(WGS84.geometry_area_perimeter(poly)[0]) / 1e6, rel=0.01)
    back = unproject_geometry(there, crs)
    np.testing.assert_allclose(shapely.get_coordinates(back), shapely.get_coordinates(poly),
                               atol=1e-9)
