"""Speed and memory of the coverage build on the committed country data.

Builds the coverage of a service level (next-day by default) for all 50
countries, or those given, and prints the build time per country and in
total, graph sizes, nonzeros, peak memory, and the speed of the networkx
engine relative to the scipy one. Prints figures; asserts nothing.

Goal: next-day, all 50 countries, ≤ 20 s wall and ≤ 2 GB peak on 2 cores.

Usage::

    python benchmarks/coverage.py [--countries US,DE] [--engine scipy|networkx|both]
        [--service-level next-day] [--mode network|geodesic] [--cross-border EU,GCC]
        [--compare-countries SG,QA,BE] [--workers 2]

``--workers N`` maps the per-country work over N processes (the ``map_fn``
hook of ``build_coverage``); the default 1 runs in this process.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from hzlogistics import settings
from hzlogistics.countries import load_countries, load_demand, load_sites
from hzlogistics.coverage import Coverage, build_coverage


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(demand, sites, countries, engine: str,
        args: argparse.Namespace) -> tuple[Coverage, float, float]:
    t0 = time.perf_counter()
    c0 = time.process_time()
    kwargs = dict(service_level=args.service_level, mode=args.mode, engine=engine,
                  cross_border=tuple(args.cross_border))
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            cov = build_coverage(demand, sites, countries, map_fn=pool.map, **kwargs)
    else:
        cov = build_coverage(demand, sites, countries, **kwargs)
    wall = time.perf_counter() - t0
    # CPU seconds of this process: less sensitive than wall time to other load on the machine
    cpu = time.process_time() - c0
    print(f"  [{engine}] wall {wall:.2f} s, CPU {cpu:.2f} s")
    return cov, wall, cpu


def same_coverage(a: Coverage, b: Coverage) -> str:
    if (a.cover != b.cover).nnz:
        return "DIFFERENT covered pairs"
    dt = np.max(np.abs(a.travel_time_h.data - b.travel_time_h.data), initial=0.0)
    dd = np.max(np.abs(a.distance_km.data - b.distance_km.data), initial=0.0)
    return f"same pairs; max |Δ travel_time_h| {dt:.2e}, max |Δ distance_km| {dd:.2e}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--countries", default=None,
                        help="comma-separated ISO2 codes (default: all 50)")
    parser.add_argument("--engine", choices=["scipy", "networkx", "both"], default="both")
    parser.add_argument("--service-level", default=settings.DEFAULT_SERVICE_LEVEL,
                        choices=sorted(settings.SERVICE_LEVELS_H))
    parser.add_argument("--mode", choices=["network", "geodesic"], default="network")
    parser.add_argument("--cross-border", default="",
                        help="comma-separated groups of settings.CROSS_BORDER_GROUPS")
    parser.add_argument("--compare-countries", default="JP,NZ,BE,PT,KE,QA",
                        help="countries on which networkx is compared when all 50 are built")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes for the per-country work (default 1: in process)")
    args = parser.parse_args(argv)
    args.cross_border = [g for g in args.cross_border.split(",") if g]
    codes = args.countries.split(",") if args.countries else None

    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{args.workers} worker(s), "
          f"service level {args.service_level} "
          f"({settings.SERVICE_LEVELS_H[args.service_level]} h), mode {args.mode}")
    t = time.perf_counter()
    countries = load_countries(codes)
    demand = load_demand(codes)
    sites = load_sites(codes)
    print(f"loaded {len(countries)} countries, {len(demand)} demand points, {len(sites)} sites "
          f"in {time.perf_counter() - t:.2f} s; peak {peak_rss_mb():.0f} MB")

    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    covs: dict[str, Coverage] = {}
    if args.engine in ("scipy", "both"):
        covs["scipy"], timings["scipy"], cpu["scipy"] = run(demand, sites, countries, "scipy",
                                                            args)
        cov = covs["scipy"]
        stats = cov.stats_frame()
        with pd.option_context("display.max_rows", 100, "display.width", 140):
            print(stats[["sites", "demand", "nodes", "edges", "ferry_links", "border_links",
                         "parts", "unreachable", "nonzeros", "seconds"]]
                  .sort_values("seconds", ascending=False).round(3).to_string()
                  if args.mode == "network" else stats.round(3).to_string())
        print(f"\nscipy engine: {timings['scipy']:.2f} s wall for {len(stats)} units "
              f"(sum of unit seconds {stats['seconds'].sum():.2f} s); "
              f"{cov.n_sites} sites × {cov.n_demand} demand, {cov.nnz} nonzeros "
              f"({cov.nnz / max(cov.n_sites, 1):.0f} per site), "
              f"{len(cov.unreachable)} demand points unreachable")
        print(f"peak memory so far: {peak_rss_mb():.0f} MB (this process"
              f"{'' if args.workers == 1 else '; workers below'})")

    if args.engine in ("networkx", "both") and args.mode == "network":
        if codes is None and args.engine == "both":
            small = args.compare_countries.split(",")
            sub = [f[f["country"].isin(small)] for f in (demand, sites, countries)]
            print(f"\nnetworkx vs scipy on {','.join(small)}:")
            ref, t_sp, c_sp = run(*sub, "scipy", args)
            nxc, t_nx, c_nx = run(*sub, "networkx", args)
            print(f"ratio networkx/scipy: wall {t_nx / t_sp:.1f}, CPU {c_nx / c_sp:.1f}; "
                  f"{same_coverage(ref, nxc)}")
        else:
            covs["networkx"], timings["networkx"], cpu["networkx"] = run(
                demand, sites, countries, "networkx", args)
            print(f"\nnetworkx engine: {timings['networkx']:.2f} s wall, "
                  f"{covs['networkx'].nnz} nonzeros")
            if "scipy" in covs:
                print(f"ratio networkx/scipy: wall "
                      f"{timings['networkx'] / timings['scipy']:.1f}, CPU "
                      f"{cpu['networkx'] / cpu['scipy']:.1f}; "
                      f"{same_coverage(covs['scipy'], covs['networkx'])}")
    print(f"\npeak memory (max RSS): {peak_rss_mb():.0f} MB in this process")
    if args.workers > 1:
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        print(f"largest worker process: {children:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
