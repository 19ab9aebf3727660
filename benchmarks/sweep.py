"""Benchmark: an area-budget sweep in this process and on a local Dask cluster.

Sweeps the default scenario over 15 area budgets (50,000 ... 400,000 m², step
25,000) and prints, for each way of running it, the wall time of the whole
sweep, of the coverage and of the solves, the mean gap and the covered share at
each budget:

* in this process, warm starts (one chain);
* in this process, cold starts;
* on a ``LocalCluster`` of ``--dask-workers`` processes, cold starts (every
  point a task);
* on the cluster, warm starts cut into ``--dask-workers`` chains;
* on the cluster, warm starts in one chain (the in-process settings; the
  table must equal the in-process one when every solve ends on its gap).

Each solve gets ``--time-limit`` seconds; in this process a solve uses
``--solve-workers`` threads (default: the machine's cores), on the cluster one
thread per task. The cluster's start-up time is printed apart.

Run::

    python benchmarks/sweep.py --time-limit 20
    python benchmarks/sweep.py --countries SG,QA,KW,JO --budgets 500:4000:250  # a subset
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hzlogistics import settings
from hzlogistics.scenario import Scenario
from hzlogistics.sweep import parse_vary, sweep


def _summary(label: str, df: pd.DataFrame, wall_s: float) -> dict[str, object]:
    solved = df["objective"].notna()
    return {
        "run": label,
        "wall_s": round(wall_s, 1),
        "coverage_s": round(float(df.attrs.get("coverage_s", np.nan)), 1),
        "solve_sum_s": round(float(df["wall_s"].sum()), 1),
        "solved": f"{int(solved.sum())}/{len(df)}",
        "optimal": int((df["status"] == "optimal").sum()),
        "mean_gap_%": round(100 * float(df["gap"].mean()), 3),
        "max_gap_%": round(100 * float(df["gap"].max()), 3),
        "carried": int((df["start"] == "carried").sum()),
    }


def _monotone(df: pd.DataFrame) -> str:
    """Checks over neighbouring budgets that both have a plan."""
    obj = df["objective"].to_numpy(dtype=float)
    bound = df["bound"].to_numpy(dtype=float)
    pairs = np.isfinite(obj[:-1]) & np.isfinite(obj[1:])
    drops = int((np.diff(obj)[pairs] < -1e-6 * np.abs(obj[1:][pairs])).sum())
    bound_ok = bool(np.all(obj[:-1][pairs] <= bound[1:][pairs] * (1 + 1e-9)))
    infeasible = int((df["status"] == "infeasible").sum())
    return (f"{infeasible} infeasible; over {int(pairs.sum())} neighbouring pairs: objective "
            f"drops {drops}, objective_k <= bound_k+1 everywhere: {bound_ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="50000:400000:25000",
                        help="area budgets, m² (start:stop:step or a list)")
    parser.add_argument("--countries", default=None,
                        help="comma-separated ISO codes (default: all 50)")
    parser.add_argument("--time-limit", type=float, default=20.0, help="per solve, s")
    parser.add_argument("--gap", type=float, default=settings.GAP_TARGET)
    parser.add_argument("--seed", type=int, default=settings.SEED)
    parser.add_argument("--solve-workers", type=int, default=None,
                        help="solver threads per solve in this process (default: all cores)")
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--save", metavar="DIR", default=None,
                        help="write each run's table to DIR/<run>.csv")
    parser.add_argument("--skip", default="",
                        help="comma-separated runs to skip: warm,cold,dask-cold,dask-chains,"
                             "dask-warm")
    args = parser.parse_args()

    _, budgets = parse_vary(f"area_budget={args.budgets}")
    countries = [c.strip().upper() for c in args.countries.split(",")] if args.countries else None
    scenario = Scenario(countries=countries, time_limit_s=args.time_limit, gap=args.gap,
                        seed=args.seed)
    if countries:
        scenario.count_min, scenario.count_max = 0, None
    vary = {"area_budget_m2": budgets}
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    print(f"scenario {scenario.name}; countries {'all' if not countries else ','.join(countries)};"
          f" {len(budgets)} budgets {budgets[0]:,.0f}..{budgets[-1]:,.0f} m²;"
          f" time limit {args.time_limit:g} s per solve; gap target {args.gap:g}")

    rows: list[dict[str, object]] = []
    tables: dict[str, pd.DataFrame] = {}

    def run(label: str, **kw: object) -> None:
        if label in skip:
            return
        t0 = time.perf_counter()
        df = sweep(scenario, vary, **kw)  # type: ignore[arg-type]
        wall = time.perf_counter() - t0
        tables[label] = df
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            df.to_csv(Path(args.save) / f"{label}.csv", index=False)
        rows.append(_summary(label, df, wall))
        print(f"  {label}: {wall:.1f} s; {_monotone(df)}", flush=True)

    run("warm", warm_start=True, workers_per_solve=args.solve_workers)
    run("cold", warm_start=False, workers_per_solve=args.solve_workers)
    if not {"dask-cold", "dask-chains", "dask-warm"} <= skip:
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=40) as cluster, \
                Client(cluster) as client:
            print(f"  LocalCluster of {args.dask_workers} workers started in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
            run("dask-cold", client=client, warm_start=False)
            run("dask-chains", client=client, warm_start=True, chains=args.dask_workers)
            run("dask-warm", client=client, warm_start=True, workers_per_solve=1)

    print()
    print(pd.DataFrame(rows).to_string(index=False))
    print()
    per_point = pd.DataFrame({"area_budget_m2": budgets})
    for label, df in tables.items():
        per_point[f"{label} share%"] = (100 * df["covered_share"]).round(2)
        per_point[f"{label} gap%"] = (100 * df["gap"]).round(3)
        per_point[f"{label} s"] = df["wall_s"].round(1)
    print(per_point.to_string(index=False))
    if "warm" in tables and "dask-warm" in tables and args.solve_workers == 1:
        same = np.allclose(tables["warm"]["objective"], tables["dask-warm"]["objective"])
        print(f"\nwarm in process == warm on Dask (1 thread per solve): {same}")


if __name__ == "__main__":
    main()
