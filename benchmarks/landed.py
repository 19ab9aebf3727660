"""Benchmark: the landed-cost objective on the full 50-country data.

The built-in scenario ``hangzhou-2020`` (54,040 demand points, 6,809 candidate
sites, network coverage, 3 × the two-day cutoff as for the ``cost``
objective), without count or area budget, each site costing USD 50,000 a year
beyond its rent, the default :class:`~hzlogistics.models.landed.LandedRates`
(origin Ningbo–Zhoushan) and demand no site reaches charged the penalty. Two runs,
each in its own process so that the peak memory is its own:

- ``uncapacitated``: every open site at its smallest allowed size (goal: a
  proven gap of at most 0.5 % within 120 s and 4 GB);
- ``capacitated``: the scenario's 8 parcels/day per m², sites sized to their
  load (goal: at most 2 %).

Each run prints one CSV row::

    run,status,objective_usd,bound_usd,gap,sites,ports,usd_per_parcel,coverage_s,
    inbound_s,solve_s,wall_s,peak_mb

then the cost breakdown (USD/year) and the five busiest ports of entry.
The sea distances are read from ``data/countries/sea_distances.csv`` (built with
the data set); pass ``--sea-file`` to use another copy.

Measured on 2 shared cores (default rates, origin Ningbo–Zhoushan; 127 of
6,809 sites without a port of entry, 10,153 parcels/day charged the penalty):

=============  =========  ===========  ==========  ========  ========  =======
run            status     USD/year     proven gap  solve s   wall s    peak MB
=============  =========  ===========  ==========  ========  ========  =======
uncapacitated  optimal    2,230.8 M    0.18 %      55        72        3,233
capacitated    optimal    2,255.5 M    1.11 %      68        85        3,247
=============  =========  ===========  ==========  ========  ========  =======

(USD 2.40 and 2.42 per parcel.) The capacitated plan is the uncapacitated
optimum repaired to fit capacity
(:mod:`hzlogistics.models.landed.capacity`); the capacitated engine alone
reached 2.73 % (2,293.1 M). Under a heavy load of other processes (load
average about 10) an earlier uncapacitated run stopped at the limit with a
6.4 % gap.

Run::

    python benchmarks/landed.py --time-limit 120
    python benchmarks/landed.py --only capacitated --time-limit 120
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

RUNS: dict[str, dict[str, object]] = {
    "uncapacitated": {"capacity_per_m2": None, "gap": 0.005},
    "capacitated": {"capacity_per_m2": 8.0, "gap": 0.02},
}

COLUMNS = ("run,status,objective_usd,bound_usd,gap,sites,ports,usd_per_parcel,coverage_s,"
           "inbound_s,solve_s,wall_s,peak_mb")

SEA_FILE = Path(__file__).resolve().parents[1] / "data" / "countries" / "sea_distances.csv"


def _run(name: str, time_limit_s: float, sea_file: str, origin: str, queue: mp.Queue) -> None:
    from hzlogistics.models.landed import (
        LandedRates,
        inbound_from_frames,
        read_sea_distances,
        solve_landed,
    )
    from hzlogistics.plan import build_problem, build_scenario_coverage, load_inputs
    from hzlogistics.scenario import load_scenario
    from hzlogistics.solvers.problem import SolveOptions

    run = RUNS[name]
    base = load_scenario("hangzhou-2020")
    scenario = dataclasses.replace(base, objective="cost", count_min=0, count_max=None,
                                   area_budget_m2=None, fixed_cost_usd_year=50_000.0,
                                   min_sites_per_country=0,
                                   capacity_per_m2=run["capacity_per_m2"],
                                   time_limit_s=time_limit_s)
    t0 = time.perf_counter()
    inputs = load_inputs(scenario)
    cov = build_scenario_coverage(scenario, inputs)
    problem = build_problem(scenario, inputs, cov)
    t1 = time.perf_counter()
    rates = LandedRates(origin=origin, unserved="penalty")
    sea = read_sea_distances(sea_file, origin)
    inbound = inbound_from_frames(inputs.demand, inputs.sites, inputs.countries, sea, rates,
                                  cross_border=tuple(scenario.cross_border_groups),
                                  circuity=scenario.circuity)
    t2 = time.perf_counter()
    gap = run["gap"]
    assert isinstance(gap, float)
    res = solve_landed(problem, inbound, rates,
                       SolveOptions(time_limit_s=time_limit_s, gap=gap, seed=scenario.seed))
    t3 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    lines = []
    if res.has_solution:
        b = res.info["landed"]
        lines.append(f"{name},{res.status},{res.objective:.0f},{res.bound:.0f},{res.gap:.5f},"
                     f"{int(res.open.sum())},{len(b.ports)},{b.usd_per_parcel:.3f},"
                     f"{t1 - t0:.1f},{t2 - t1:.1f},{t3 - t2:.1f},{t3 - t0:.1f},{peak:.0f}")
        lines.append("  breakdown USD/year: " + ", ".join(
            f"{k} {v:,.0f}" for k, v in b.totals.items()))
        lines.append(f"  sites without a port of entry: {int((~inbound.has_port).sum())} "
                     f"of {problem.n_sites}; unserved parcels/day: "
                     f"{res.info['unserved_parcels_day']:.0f}")
        for _, row in b.ports.head(5).iterrows():
            lines.append(f"  port {row['port']} ({row['country']}): {row['parcels_day']:,.0f} "
                         f"parcels/day, {row['containers_year']:,.0f} containers/year, "
                         f"{row['sea_km']:,.0f} km by sea, {row['sites']} sites")
    else:
        lines.append(f"{name},{res.status},,,,,,,{t1 - t0:.1f},{t2 - t1:.1f},{t3 - t2:.1f},"
                     f"{t3 - t0:.1f},{peak:.0f}")
        lines.extend(f"  {r}" for r in res.reasons[:5])
    queue.put("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve")
    parser.add_argument("--only", choices=sorted(RUNS), action="append",
                        help="run only this one (repeatable)")
    parser.add_argument("--sea-file", default=str(SEA_FILE), help="sea distance CSV")
    parser.add_argument("--origin", default="port-CNNGB", help="port of departure")
    args = parser.parse_args(argv)
    if not Path(args.sea_file).is_file():
        print(f"{args.sea_file}: not found (built with the data set); pass --sea-file",
              file=sys.stderr)
        return 2
    print(COLUMNS, flush=True)
    ctx = mp.get_context("spawn")
    for name in args.only or list(RUNS):
        queue: mp.Queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(name, args.time_limit, args.sea_file, args.origin,
                                              queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            print(f"{name},failed (exit {proc.exitcode})", flush=True)
            continue
        print(queue.get(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
