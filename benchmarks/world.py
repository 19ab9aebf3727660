"""Planning at world scale: how the cost of a plan grows with the number of countries.

Plans the built-in ``world`` scenario (every country with population data,
demand from GeoNames places of 1,000 inhabitants or more, about 3,000 sites,
600,000 m², next-day) on the ``world`` data set, and the same scenario restricted
to the 10, 25, 50 and 100 countries with the most demand. Each restricted run
scales the site count and the floor area by its share of the world's demand
(at least one site per country). Every run is a separate process, so the peak
memory of each is its own. Prints one table (countries, demand points, sites,
coverage time, solve time, peak memory, status, proven gap, covered share);
asserts nothing.

Goals (2 cores): the world data build ≤ 5 min; the world plan: coverage ≤ 90 s
in process, solve to ≤ 0.5 % proven gap in ≤ 10 min, peak memory ≤ 8 GB; its map
opens in headless Chromium in ≤ 3 s.

Usage::

    python benchmarks/world.py [--data-dir DIR] [--sizes 10,25,50,100,all]
        [--build] [--map] [--time-limit 600] [--dask-local N]

``--build`` first (re)builds the world data set into the user data directory
(``--data-dir``, ``$HZLOGISTICS_DATA`` or the platform's cache directory) and
times it; without it a missing data set is built by the first run, untimed.
``--map`` also writes the world plan's map and times its load in headless
Chromium (tests/browser/chromium.py; needs Debian's chromium and the assets).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _scaled_scenario(size: str, time_limit_s: float) -> tuple[Any, int]:
    """The world scenario, restricted to the ``size`` countries of most demand."""
    from hzlogistics.countries import country_table
    from hzlogistics.databuild import ensure_dataset
    from hzlogistics.scenario import load_scenario, validate_scenario

    scenario = load_scenario("world")
    folder = ensure_dataset(scenario.dataset or "world")
    table = country_table(data_dir=folder).sort_values(["weight", "code"],
                                                      ascending=[False, True], kind="stable")
    scenario = dataclasses.replace(scenario, time_limit_s=time_limit_s)
    if size == "all":
        return scenario, len(table)
    n = int(size)
    chosen = table.iloc[:n]
    share = float(chosen["weight"].sum() / table["weight"].sum())
    count_min = max(n, round(scenario.count_min * share))
    count_max = max(count_min, round((scenario.count_max or scenario.count_min) * share))
    area = max(1_000.0, round((scenario.area_budget_m2 or 0.0) * share, -3))
    scenario = dataclasses.replace(
        scenario, name=f"world-{n}", countries=sorted(chosen["code"]),
        count_min=count_min, count_max=count_max, area_budget_m2=area,
    )
    return validate_scenario(scenario), n


def run_one(size: str, time_limit_s: float, map_path: str | None, dask_local: int | None) -> dict:
    """Plan one size in this process; return its figures."""
    from hzlogistics.plan import run_scenario

    scenario, n_countries = _scaled_scenario(size, time_limit_s)
    started = time.perf_counter()
    if dask_local:
        from hzlogistics.sweep import dask_client, dask_map

        with dask_client(local_workers=dask_local) as client:
            assert client is not None
            plan = run_scenario(scenario, map_fn=dask_map(client))
    else:
        plan = run_scenario(scenario)
    wall = time.perf_counter() - started
    summary = plan.summary()
    out = {
        "size": size, "countries": n_countries, "demand": len(plan.demand),
        "sites": len(plan.sites), "count": [scenario.count_min, scenario.count_max],
        "area_budget_m2": scenario.area_budget_m2,
        "coverage_s": plan.timings.get("coverage_s"), "solve_s": plan.timings.get("solve_s"),
        "wall_s": wall, "peak_mb": peak_rss_mb(), "status": summary["status"],
        "gap": summary["gap"], "covered_share": summary["covered_share"],
        "n_open": summary["n_open"],
    }
    if map_path:
        t = time.perf_counter()
        plan.to_map(map_path)
        out["map_write_s"] = time.perf_counter() - t
        out["map_mb"] = os.path.getsize(map_path) / 1e6
        out["peak_mb"] = peak_rss_mb()
    return out


def time_map_load(path: str, repeat: int = 3) -> list[float]:
    """Seconds headless Chromium takes to open the map to a drawn map, per try."""
    sys.path.insert(0, str(REPO / "tests" / "browser"))
    from chromium import browser, missing_reason, open_map

    reason = missing_reason()
    if reason:
        print(f"map load timing skipped: {reason}")
        return []
    loads = []
    with browser() as b:
        for _ in range(repeat):
            page = b.new_page(viewport={"width": 1400, "height": 900})
            _, seconds = open_map(page, path)
            loads.append(seconds)
            page.close()
    return loads


def _fmt(value: object, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="user data directory holding the world data set")
    parser.add_argument("--sizes", default="10,25,50,100,all",
                        help="numbers of countries (by demand), comma-separated; all = world")
    parser.add_argument("--time-limit", type=float, default=600.0, help="solve limit, s")
    parser.add_argument("--build", action="store_true", help="time the world data build first")
    parser.add_argument("--map", action="store_true", help="time the world map in Chromium")
    parser.add_argument("--dask-local", type=int, help="build coverage on N local workers")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--map-path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.data_dir:
        os.environ["HZLOGISTICS_DATA"] = str(Path(args.data_dir).resolve())

    if args.one:  # one run, in its own process
        print(json.dumps(run_one(args.one, args.time_limit, args.map_path, args.dask_local)))
        return 0

    from hzlogistics.countries import user_data_dir

    print(f"user data directory: {user_data_dir()}; {os.cpu_count()} CPUs")
    if args.build:
        from hzlogistics.databuild import build_data

        t = time.perf_counter()
        report = build_data(countries="all", min_population=1_000, name="world")
        print(f"data build --countries all --min-population 1000: "
              f"{time.perf_counter() - t:.1f} s; {report.summary().splitlines()[0]}")

    rows = []
    map_path = None
    with tempfile.TemporaryDirectory(prefix="hz-world-") as tmp:
        for size in args.sizes.split(","):
            size = size.strip()
            cmd = [sys.executable, __file__, "--one", size, "--time-limit", str(args.time_limit)]
            if args.dask_local:
                cmd += ["--dask-local", str(args.dask_local)]
            if args.map and size == "all":
                map_path = str(Path(tmp) / "world.html")
                cmd += ["--map-path", map_path]
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{size}: failed\n{done.stderr[-2000:]}")
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"  {size}: coverage {row['coverage_s']:.1f} s, solve {row['solve_s']:.1f} s, "
                  f"gap {_fmt(row['gap'], '.3%')}, peak {row['peak_mb']:,.0f} MB", flush=True)
        loads = time_map_load(map_path) if map_path else []

    print()
    print("| countries | demand points | sites | count | area m² | coverage s | solve s "
          "| peak memory | status | proven gap | covered |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['countries']} | {r['demand']:,} | {r['sites']:,} | "
              f"{r['count'][0]:,}–{r['count'][1]:,} | {r['area_budget_m2']:,.0f} | "
              f"{r['coverage_s']:.1f} | {r['solve_s']:.1f} | {r['peak_mb'] / 1024:.2f} GB | "
              f"{r['status']} | {_fmt(r['gap'], '.2%')} | {_fmt(r['covered_share'], '.1%')} |")
    world = next((r for r in rows if r["size"] == "all"), None)
    if world and "map_mb" in world:
        print(f"\nworld map: {world['map_mb']:.1f} MB, written in {world['map_write_s']:.1f} s"
              + (f"; opens in headless Chromium in {min(loads):.2f}–{max(loads):.2f} s "
                 f"(n={len(loads)})" if loads else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
