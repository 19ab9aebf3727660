"""Benchmark: the default phased roll-out, 2017-2020, against its two baselines.

Builds the problem of the built-in scenario ``hangzhou-2017-2020`` (the bundled
50-country data, next-day network coverage, size tiers, 8 parcels/day per m²,
existing sites, at least one site per country) the way ``hzlogistics plan``
does, phased over 2017-2020 as its ``[phasing]`` section says:

- cumulative area budgets 50,000, 100,000, 150,000 and 200,000 m²;
- site counts 250-300, 500-550, 750-800 and 950-1,050: the default range of
  2020 (950-1,050) scaled with the budget, a 50-site band in the earlier years;
- demand grows 25 % a year (an assumption, ``--growth``): 2020's demand is the
  bundled data, each earlier year has 1/1.25 of the next (2017: 51 %);
- no discount (``--discount``), no limit on openings per year (``--max-openings``).

It prints the status, objective, proven bound and gap, wall time and peak
memory of :func:`~hzlogistics.models.phased.solve_phased`, each year's covered
share, and the objective against the myopic roll-out (each year solved alone,
then forced to nest) and the backward pass (2020 solved, then what opens
first), plus the wall time of the four single-year solves for comparison.

Run::

    python benchmarks/phased.py --time-limit 180 --workers 2
    python benchmarks/phased.py --growth 0.1 --discount 0.05 --skip-baselines
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace

import numpy as np

YEARS = (2017, 2018, 2019, 2020)
BUDGETS_M2 = (50_000.0, 100_000.0, 150_000.0, 200_000.0)
COUNTS = ((250, 300), (500, 550), (750, 800), (950, 1_050))
GROWTH = 0.25


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def default_base():  # type: ignore[no-untyped-def]
    """The built-in roll-out's base problem and scenario, built as ``hzlogistics.plan`` does."""
    import hzlogistics as hz
    from hzlogistics.plan import build_problem, build_scenario_coverage, load_inputs

    scenario = hz.load_scenario("hangzhou-2017-2020")
    inputs = load_inputs(scenario)
    coverage = build_scenario_coverage(scenario, inputs)
    return build_problem(scenario, inputs, coverage), scenario, inputs


def check_constants(scenario) -> None:  # type: ignore[no-untyped-def]
    """The constants here are the built-in scenario's (the README quotes this benchmark)."""
    ph = scenario.phasing
    assert tuple(ph.years) == YEARS and tuple(ph.area_budget_m2) == BUDGETS_M2
    assert tuple(tuple(c) for c in ph.count) == COUNTS and ph.demand_growth == GROWTH


def main() -> None:
    from hzlogistics.models import solve
    from hzlogistics.models.phased import (
        phased_problem,
        solve_last_year_first,
        solve_myopic,
        solve_phased,
        year_problem,
    )
    from hzlogistics.solvers.problem import SolveOptions

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=180.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gap", type=float, default=0.001)
    ap.add_argument("--growth", type=float, default=GROWTH)
    ap.add_argument("--discount", type=float, default=0.0)
    ap.add_argument("--max-openings", type=float, default=None)
    ap.add_argument("--skip-baselines", action="store_true")
    args = ap.parse_args()

    t = time.perf_counter()
    base, scenario, _ = default_base()
    check_constants(scenario)
    print(f"build: {time.perf_counter() - t:.1f} s, {base.n_sites:,} sites, "
          f"{base.n_demand:,} demand points, {base.cover.nnz:,} covered pairs")
    phased = phased_problem(
        base, YEARS, area_budget_m2=BUDGETS_M2, count=COUNTS, growth=args.growth,
        max_openings=None if args.max_openings is None else [args.max_openings] * len(YEARS),
        discount=args.discount)
    options = SolveOptions(time_limit_s=args.time_limit, gap=args.gap, workers=args.workers)

    mem0 = peak_mb()
    t = time.perf_counter()
    result = solve_phased(phased, options)
    wall = time.perf_counter() - t
    print(f"\nphased: status {result.status}, objective {result.objective:,.1f}, "
          f"bound {result.bound:,.1f}, gap {100 * result.gap:.3f} %, wall {wall:.1f} s, "
          f"peak memory {peak_mb():,.0f} MB (before the solve {mem0:,.0f} MB), "
          f"method {result.method}")
    info = result.info
    print("  stages: " + ", ".join(f"{k} {v}" for k, v in info.items()
                                   if k.endswith("_s") or k in ("n_year_solves", "sweeps")))
    for kind, year, status, secs in info.get("year_solves", []):  # type: ignore[attr-defined]
        print(f"    {year} solved {kind}: {status}, {secs:.1f} s")
    opened = result.open.sum(axis=1)
    for k, year in enumerate(result.years):
        existing = (np.asarray(base.existing_area_m2) > 0) if k == 0 else False
        new = int(((result.open_year == year) & ~existing).sum())
        print(f"  {year}: {opened[k]:,} sites ({new:,} new), "
              f"{result.area_m2[k].sum():,.0f} m², covered "
              f"{result.covered_weight[k]:,.0f} of {result.total_weight[k]:,.0f} parcels/day "
              f"({100 * result.covered_share[k]:.2f} %)")

    t = time.perf_counter()
    singles = []
    for k in range(phased.n_years):
        problem, _ = year_problem(phased, k)
        singles.append(solve(problem, "coverage", options))
    single_s = time.perf_counter() - t
    unnested = float(phased.discount_factors() @ np.array([r.objective for r in singles]))
    print(f"\nfour single-year solves: {single_s:.1f} s in all; unnested sum of objectives "
          f"{unnested:,.1f} (status {[r.status for r in singles]})")

    if not args.skip_baselines:
        for name, fn in (("myopic (forward)", solve_myopic),
                         ("last year first (backward)", solve_last_year_first)):
            t = time.perf_counter()
            b = fn(phased, replace(options))
            diff = result.objective - b.objective
            print(f"{name}: objective {b.objective:,.1f}, wall {time.perf_counter() - t:.1f} s;"
                  f" phased - {name.split()[0]} = {diff:,.1f} "
                  f"({100 * diff / max(b.objective, 1e-9):+.3f} %)")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak memory of the run: {peak_mb():,.0f} MB (largest second process "
          f"{children:,.0f} MB)")


if __name__ == "__main__":
    main()
