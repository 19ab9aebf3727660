"""Size and speed of the map of a full-size plan.

Prints, for the map of a plan the size of the default one (about 1,000 open
sites of 5,000 candidates, 40,000 demand points, 50 countries): the HTML size, the
time to build and write it, and the time headless Chromium takes to load it to a
drawn map with no network (see tests/browser/chromium.py). Targets: at most 10 MB,
5 s to write, 3 s to load.

The plan is synthetic unless ``--real`` is given: real country boundaries when the
bundled data are there (generated shapes otherwise), random demand, sites and
assignments of the right sizes. ``--real`` solves the default scenario instead
(hangzhou-2020, with its time limit).

Usage::

    python benchmarks/map.py [--out DIR] [--repeat N] [--no-browser] [--real]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from shapely.geometry import Polygon

from hzlogistics import settings
from hzlogistics.maps import plan_map
from hzlogistics.plan import Plan, make_plan
from hzlogistics.solvers.problem import SitingProblem, SolveResult

REPO = Path(__file__).resolve().parents[1]


def _countries(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Real boundaries of the 50 markets when bundled, generated shapes otherwise."""
    try:
        from hzlogistics.countries import load_countries

        gdf = load_countries()
        if len(gdf) >= n:
            return gdf.iloc[:n][["country", "name", "geometry"]].reset_index(drop=True)
    except Exception as exc:  # data not built yet: draw shapes of a similar complexity
        print(f"(no bundled boundaries: {type(exc).__name__}; using generated shapes)")
    try:
        from hzlogistics.countries import COUNTRY_CODES, COUNTRY_NAMES

        codes = list(COUNTRY_CODES)[:n]
        names = [COUNTRY_NAMES[c] for c in codes]
    except ImportError:
        codes = [f"C{i:02d}" for i in range(n)]
        names = [f"Country {i}" for i in range(n)]
    shapes = []
    cols = 10
    for i in range(n):
        cx = -160.0 + 32.0 * (i % cols) + rng.uniform(-3, 3)
        cy = -35.0 + 18.0 * (i // cols) + rng.uniform(-2, 2)
        angles = np.sort(rng.uniform(0, 2 * np.pi, 600))
        radius = rng.uniform(4.0, 8.0) * (1 + 0.15 * np.sin(7 * angles) + rng.normal(0, 0.03, 600))
        shapes.append(Polygon(np.column_stack([cx + radius * np.cos(angles),
                                               cy + 0.8 * radius * np.sin(angles)])))
    return gpd.GeoDataFrame({"country": codes, "name": names}, geometry=shapes, crs="EPSG:4326")


def _points_in(geom, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` random points inside a polygon, clustered around a few towns."""
    minx, miny, maxx, maxy = geom.bounds
    towns = []
    while len(towns) < 12:
        p = rng.uniform([minx, miny], [maxx, maxy], size=(64, 2))
        ok = gpd.GeoSeries(gpd.points_from_xy(p[:, 0], p[:, 1])).within(geom).to_numpy()
        towns.extend(p[ok].tolist())
    towns_arr = np.asarray(towns[:12])
    pick = towns_arr[rng.integers(0, len(towns_arr), k)]
    spread = 0.08 * max(maxx - minx, maxy - miny)
    return pick + rng.normal(0.0, spread, size=(k, 2))


def synthetic_plan(n_candidates: int = 5_000, n_open: int = 1_000, n_demand: int = 40_000,
                   n_countries: int = 50, *, seed: int = 0) -> Plan:
    """A plan with the sizes of the default one, without a solver."""
    rng = np.random.default_rng(seed)
    countries = _countries(n_countries, rng)
    share = rng.dirichlet(np.full(n_countries, 2.0))
    n_dem = np.maximum((share * n_demand).astype(int), 20)
    n_dem[-1] += n_demand - n_dem.sum()
    n_cand = np.maximum((share * n_candidates).astype(int), 5)
    n_cand[-1] += n_candidates - n_cand.sum()
    d_xy, d_cc, s_xy, s_cc = [], [], [], []
    for i, row in enumerate(countries.itertuples(index=False)):
        d_xy.append(_points_in(row.geometry, int(n_dem[i]), rng))
        d_cc += [row.country] * int(n_dem[i])
        s_xy.append(_points_in(row.geometry, int(n_cand[i]), rng))
        s_cc += [row.country] * int(n_cand[i])
    dxy, sxy = np.vstack(d_xy), np.vstack(s_xy)
    weight = np.round(rng.lognormal(3.0, 1.0, len(dxy)), 1)
    demand = gpd.GeoDataFrame(
        {"id": [f"D{i}" for i in range(len(dxy))], "name": [f"Town {i}" for i in range(len(dxy))],
         "country": d_cc, "weight": weight},
        geometry=gpd.points_from_xy(dxy[:, 0], dxy[:, 1]), crs="EPSG:4326")
    n_sites = len(sxy)
    existing = np.zeros(n_sites)
    existing[rng.choice(n_sites, 100, replace=False)] = 300.0
    sites = gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(n_sites)], "name": [f"Site {i}" for i in range(n_sites)],
         "country": s_cc, "kind": "town", "rent_usd_m2_year": rng.uniform(30, 250, n_sites).round(),
         "max_area_m2": 2000.0, "existing_area_m2": existing},
        geometry=gpd.points_from_xy(sxy[:, 0], sxy[:, 1]), crs="EPSG:4326")
    # open the existing sites and enough others, at least one per country
    is_open = existing > 0
    first = sites.groupby("country").head(1).index.to_numpy()
    is_open[first] = True
    rest = np.flatnonzero(~is_open)
    is_open[rng.choice(rest, n_open - int(is_open.sum()), replace=False)] = True
    tiers = np.asarray(settings.SIZE_TIERS_M2)
    area = np.where(is_open, rng.choice(tiers[:5], n_sites, p=[.35, .25, .2, .15, .05]), 0.0)
    area = np.where(existing > 0, np.maximum(area, existing), area)
    # each demand point goes to its nearest open site in its country, if within ~2 degrees
    rows, cols, times = [], [], []
    d_country = demand["country"].to_numpy()
    s_country = sites["country"].to_numpy()
    for cc in np.unique(d_country):
        s_idx = np.flatnonzero(is_open & (s_country == cc))
        d_idx = np.flatnonzero(d_country == cc)
        dist, near = cKDTree(sxy[s_idx]).query(dxy[d_idx])
        ok = dist < 2.0
        rows.append(s_idx[near[ok]])
        cols.append(d_idx[ok])
        times.append(dist[ok] * 111.0 * settings.CIRCUITY / 60.0)
    r, c, t = np.concatenate(rows), np.concatenate(cols), np.concatenate(times)
    served = sp.csr_matrix((weight[c], (r, c)), shape=(n_sites, len(dxy)))
    tt = sp.csr_matrix((np.maximum(t, 0.05), (r, c)), shape=(n_sites, len(dxy)))
    problem = SitingProblem(weight=weight, cover=(tt > 0).astype(np.int8).tocsr(),
                            travel_time_h=tt, existing_area_m2=existing,
                            capacity_per_m2=settings.CAPACITY_PER_M2)
    objective = float(weight[c].sum())
    result = SolveResult(status="feasible", objective=objective, bound=objective * 1.004,
                         gap=0.004, wall_s=60.0, area_m2=area, served=served)
    return make_plan(result, problem, demand, sites, countries, name="synthetic",
                     title="Synthetic plan of the default size")


def _real_plan() -> Plan:
    from hzlogistics.plan import run_scenario
    from hzlogistics.scenario import load_scenario

    return run_scenario(load_scenario(settings.DEFAULT_SCENARIO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the HTML files")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step")
    parser.add_argument("--no-browser", action="store_true", help="skip the load timing")
    parser.add_argument("--real", action="store_true", help="solve the default scenario")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="hz-map-bench-"))
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    plan = _real_plan() if args.real else synthetic_plan()
    s = plan.summary()
    print(f"plan: {s['n_open']:,} open of {len(plan.sites):,} candidates, "
          f"{len(plan.demand):,} demand points ({int((~plan.demand['covered']).sum()):,} "
          f"uncovered), {len(plan.countries)} countries; built in {time.perf_counter() - t0:.1f} s")

    t = time.perf_counter()
    plan_map(plan, path=out / "first.html")
    print(f"first map of the process (caches warm up): "
          f"{time.perf_counter() - t:.2f} s")
    files = {}
    for label, kw in (("default", {}), ("self-contained", {"self_contained": True}),
                      ("with candidates", {"show_candidates": True})):
        path = out / f"map-{label.replace(' ', '-')}.html"
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            plan_map(plan, path=path, **kw)
            times.append(time.perf_counter() - t)
        files[label] = path
        print(f"{label:>16}: {path.stat().st_size / 1e6:6.2f} MB, build+write "
              f"median {statistics.median(times):.2f} s (min {min(times):.2f}, "
              f"max {max(times):.2f}, n={len(times)})")

    if args.no_browser:
        return 0
    sys.path.insert(0, str(REPO / "tests" / "browser"))
    from chromium import browser, cpu_seconds, missing_reason, open_map

    reason = missing_reason()
    if reason:
        print(f"load timing skipped: {reason}")
        return 0
    with browser() as b:
        for label, path in files.items():
            loads, cpus = [], []
            errors: list[str] = []
            for _ in range(args.repeat):
                page = b.new_page(viewport={"width": 1400, "height": 900})
                page.on("pageerror", lambda e, errors=errors: errors.append(f"{e}: {e.stack}"))
                cpu0 = cpu_seconds()
                traffic, seconds = open_map(page, path)
                cpu1 = cpu_seconds()
                loads.append(seconds)
                if cpu0 is not None and cpu1 is not None:
                    cpus.append(cpu1 - cpu0)
                page.close()
            cpu = f", browser CPU median {statistics.median(cpus):.2f} s" if cpus else ""
            print(f"{label:>16}: load to drawn map in headless Chromium median "
                  f"{statistics.median(loads):.2f} s (min {min(loads):.2f}, max {max(loads):.2f}, "
                  f"n={len(loads)}){cpu}; blocked requests {len(traffic.blocked)}, "
                  f"page errors {len(errors)}" + (f" ({errors[0][:300]})" if errors else ""))
    print(f"(HTML in {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
