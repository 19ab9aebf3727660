"""Small hand-made plans for the map tests (no solver involved)."""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from shapely.geometry import box

from hzlogistics.plan import Plan, make_plan
from hzlogistics.solvers.problem import SitingProblem, SolveResult

#: Strings that would run script if a map put them into the page unescaped. Each
#: one, if it ran, sets ``document.title`` to "pwned", calls ``alert`` or adds an
#: element with id ``xss``.
XSS_PAYLOADS: tuple[str, ...] = (
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(1)</script>",
    "`;document.title='pwned';`",
    "${document.title='pwned'}",
    "\\`;alert(1)//",
    "\"><svg onload=alert(1)>",
    "'); alert(1); ('",
    "<b id=xss>bold</b>",
)

#: Country boxes (lon_min, lat_min, lon_max, lat_max) and names.
COUNTRIES: dict[str, tuple[str, tuple[float, float, float, float]]] = {
    "DE": ("Germany", (6.0, 47.3, 15.0, 55.0)),
    "US": ("United States", (-124.0, 25.0, -67.0, 49.0)),
    "JP": ("Japan", (129.5, 31.0, 145.5, 45.5)),
    "BR": ("Brazil", (-73.0, -33.0, -35.0, 5.0)),
}

# id, name, country, lon, lat, area (0 = closed), existing area, rent
_SITES = [
    ("S1", "Berlin hub", "DE", 13.40, 52.52, 1000.0, 0.0, 90.0),
    ("S2", "Munich", "DE", 11.58, 48.14, 300.0, 300.0, 110.0),
    ("S3", "Los Angeles", "US", -118.24, 34.05, 2000.0, 0.0, 150.0),
    ("S4", "New York", "US", -74.00, 40.71, 500.0, 0.0, 200.0),
    ("S5", "Chicago (closed)", "US", -87.63, 41.88, 0.0, 0.0, 100.0),
    ("S6", "Tokyo", "JP", 139.69, 35.69, 150.0, 150.0, 180.0),
    ("S7", "Osaka (closed)", "JP", 135.50, 34.69, 0.0, 0.0, 120.0),
    ("S8", "Sao Paulo", "BR", -46.63, -23.55, 200.0, 0.0, 60.0),
]

# id, country, lon, lat, weight, serving site (None = uncovered)
_DEMAND = [
    ("D1", "DE", 13.30, 52.40, 900.0, "S1"),
    ("D2", "DE", 12.40, 51.34, 400.0, "S1"),
    ("D3", "DE", 11.50, 48.20, 350.0, "S2"),
    ("D4", "DE", 9.99, 53.55, 500.0, None),
    ("D5", "US", -118.10, 34.10, 2500.0, "S3"),
    ("D6", "US", -117.16, 32.72, 800.0, "S3"),
    ("D7", "US", -74.10, 40.80, 1800.0, "S4"),
    ("D8", "US", -71.06, 42.36, 600.0, "S4"),
    ("D9", "US", -87.60, 41.90, 1100.0, None),
    ("D10", "US", -95.37, 29.76, 700.0, None),
    ("D11", "JP", 139.70, 35.60, 1500.0, "S6"),
    ("D12", "JP", 135.50, 34.70, 900.0, None),
    ("D13", "BR", -46.60, -23.50, 1200.0, "S8"),
    ("D14", "BR", -43.20, -22.90, 700.0, None),
]


def toy_plan(
    *,
    site_names: Sequence[str] | None = None,
    demand_names: Sequence[str] | None = None,
    country_names: dict[str, str] | None = None,
    title: str = "Toy plan",
    areas_m2: Sequence[float] | None = None,
    name: str = "toy",
) -> Plan:
    """A plan with 8 sites (6 open: 4 new, 2 existing) and 14 demand points (5 uncovered).

    Parameters
    ----------
    site_names, demand_names, country_names
        Override the names (e.g. with XSS payloads).
    title
        The plan's title.
    areas_m2
        Override the area of each site (0 = closed), e.g. for a second plan.
    """
    n_sites, n_demand = len(_SITES), len(_DEMAND)
    names = list(site_names) if site_names is not None else [s[1] for s in _SITES]
    areas = np.array(areas_m2 if areas_m2 is not None else [s[5] for s in _SITES], dtype=float)
    sites = gpd.GeoDataFrame(
        {
            "id": [s[0] for s in _SITES],
            "name": names,
            "country": [s[2] for s in _SITES],
            "kind": ["town"] * n_sites,
            "rent_usd_m2_year": [s[7] for s in _SITES],
            "max_area_m2": [2000.0] * n_sites,
            "existing_area_m2": [s[6] for s in _SITES],
        },
        geometry=gpd.points_from_xy([s[3] for s in _SITES], [s[4] for s in _SITES]),
        crs="EPSG:4326",
    )
    demand = gpd.GeoDataFrame(
        {
            "id": [d[0] for d in _DEMAND],
            "name": list(demand_names) if demand_names is not None
            else [f"Town {d[0]}" for d in _DEMAND],
            "country": [d[1] for d in _DEMAND],
            "weight": [d[4] for d in _DEMAND],
        },
        geometry=gpd.points_from_xy([d[2] for d in _DEMAND], [d[3] for d in _DEMAND]),
        crs="EPSG:4326",
    )
    cnames = {k: v[0] for k, v in COUNTRIES.items()}
    cnames.update(country_names or {})
    countries = gpd.GeoDataFrame(
        {"country": list(COUNTRIES), "name": [cnames[k] for k in COUNTRIES]},
        geometry=[box(*v[1]) for v in COUNTRIES.values()],
        crs="EPSG:4326",
    )
    site_pos = {s[0]: i for i, s in enumerate(_SITES)}
    rows, cols, weights, times = [], [], [], []
    for j, d in enumerate(_DEMAND):
        if d[5] is not None and areas[site_pos[d[5]]] > 0:
            rows.append(site_pos[d[5]])
            cols.append(j)
            weights.append(d[4])
            times.append(1.0 + 0.5 * (j % 4))
    served = sp.csr_matrix((weights, (rows, cols)), shape=(n_sites, n_demand))
    tt = sp.csr_matrix((times, (rows, cols)), shape=(n_sites, n_demand))
    problem = SitingProblem(
        weight=demand["weight"].to_numpy(),
        cover=(tt > 0).astype(np.int8).tocsr(),
        travel_time_h=tt,
        existing_area_m2=sites["existing_area_m2"].to_numpy(),
        area_budget_m2=5000.0,
        capacity_per_m2=40.0,
    )
    objective = float(np.sum(weights))
    result = SolveResult(status="optimal", objective=objective, bound=objective * 1.0005,
                         gap=0.0005, wall_s=0.1, area_m2=areas, served=served)
    return make_plan(result, problem, demand, sites, countries, name=name, title=title)
