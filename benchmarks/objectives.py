"""Benchmark: the median, cost and min-area objectives on the full 50-country data.

Each objective runs on the built-in scenario ``hangzhou-2020`` (54,040 demand
points, 6,809 candidate sites, network coverage), end to end through
:func:`hzlogistics.plan.run_scenario`, each in its own process so that the peak
memory is its own. Prints one CSV row per objective::

    objective,status,objective_value,bound,gap,sites,area_m2,served_share,
    mean_delivery_h,unreachable,coverage_s,solve_s,wall_s,peak_mb

The runs, and the question each answers:

- ``median`` without capacity: with the scenario's 950-1,050 sites, the least
  parcel-weighted travel time, every reachable parcel served;
- ``cost`` without capacity, count or area budget, each site costing USD 50,000
  a year to run beyond its rent: the cheapest network (rent of the smallest
  size, fixed cost, delivery at ``settings.DELIVERY_COST_USD_PER_PARCEL_H``)
  that serves every parcel;
- ``min-area`` without count or area budget: the least floor area that serves
  95 % of demand next-day at 8 parcels/day per m²;
- with ``--all``, ``median-capacitated`` and ``cost-capacitated``: the same
  questions at the scenario's 8 parcels/day per m², with no count, no area
  budget and no fixed cost (every site sized to its load).

Run::

    python benchmarks/objectives.py --time-limit 120
    python benchmarks/objectives.py --only median --time-limit 60
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing as mp
import resource
import sys
import time

RUNS: dict[str, dict[str, object]] = {
    "median": {"objective": "median", "capacity_per_m2": None},
    "cost": {"objective": "cost", "capacity_per_m2": None, "count_min": 0, "count_max": None,
             "area_budget_m2": None, "fixed_cost_usd_year": 50_000.0},
    "min-area": {"objective": "min-area", "required_share": 0.95, "count_min": 0,
                 "count_max": None, "area_budget_m2": None},
    "median-capacitated": {"objective": "median", "count_min": 0, "count_max": None,
                           "area_budget_m2": None},
    "cost-capacitated": {"objective": "cost", "count_min": 0, "count_max": None,
                         "area_budget_m2": None},
}

COLUMNS = ("objective,status,objective_value,bound,gap,sites,area_m2,served_share,"
           "mean_delivery_h,unreachable,coverage_s,solve_s,wall_s,peak_mb")


def _run(name: str, time_limit_s: float, queue: mp.Queue) -> None:
    from hzlogistics.plan import run_scenario
    from hzlogistics.scenario import load_scenario

    base = load_scenario("hangzhou-2020")
    scenario = dataclasses.replace(base, time_limit_s=time_limit_s, **RUNS[name])
    t = time.perf_counter()
    plan = run_scenario(scenario)
    wall = time.perf_counter() - t
    s = plan.summary()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    queue.put(f"{name},{s['status']},{s['objective']:.1f},{s['bound']:.1f},{s['gap']:.5f},"
              f"{s['n_open']},{s['total_area_m2']:.0f},{s['covered_share']:.4f},"
              f"{s['mean_travel_time_h']:.3f},"
              f"{s['n_unreachable']},{s['timings']['coverage_s']:.1f},"
              f"{s['timings']['solve_s']:.1f},{wall:.1f},{peak:.0f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve")
    parser.add_argument("--only", choices=sorted(RUNS), action="append",
                        help="run only this objective (repeatable)")
    parser.add_argument("--all", action="store_true", help="also the capacitated median")
    args = parser.parse_args(argv)
    names = args.only or [n for n in RUNS if args.all or not n.endswith("-capacitated")]
    print(COLUMNS, flush=True)
    ctx = mp.get_context("spawn")
    for name in names:
        queue: mp.Queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(name, args.time_limit, queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            print(f"{name},failed (exit {proc.exitcode})" + "," * 12, flush=True)
            continue
        print(queue.get(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
