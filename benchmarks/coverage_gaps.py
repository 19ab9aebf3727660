"""Dense regional count-only coverage: hzlogistics against plain HiGHS on the textbook MCLP.

A seeded generator of dense regional maximal covering instances (demand points
uniform or clustered in a 200 km square, candidate sites uniform, a radius
giving each point about ``k`` covering sites on average, ``p`` sites to open)
and, for each instance, one row: ours (objective, bound, gap, seconds) and
plain HiGHS through MathOpt on the textbook model (one binary per site, one
per demand point, ``z_j <= sum_{i in N(j)} y_i``, ``sum y = p``) with the same
time limit, model building included.

Run::

    python benchmarks/coverage_gaps.py --seeds 0 1 2 --time-limit 60
    python benchmarks/coverage_gaps.py --demand 3000 --sites 400 --k 7 --p 40 --seeds 0 1
    python benchmarks/coverage_gaps.py --random --seeds 3 4 5 6   # sizes drawn per seed
    python benchmarks/coverage_gaps.py --weights uniform --seeds 0 2 --highs
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.coverage import solve_coverage
from hzlogistics.solvers.problem import SitingProblem, SolveOptions


@dataclass
class Instance:
    name: str
    weight: np.ndarray
    cover: sp.csr_matrix  # (n_sites, n_demand) bool
    p: int


def make_instance(seed: int, n_demand: int, n_sites: int, k: float, p: int,
                  clustered: bool, weights: str = "lognormal") -> Instance:
    """One dense regional instance; the same arguments give the same instance."""
    rng = np.random.default_rng(seed)
    side = 200.0
    if clustered:
        n_clusters = int(rng.integers(8, 25))
        centres = rng.uniform(0, side, size=(n_clusters, 2))
        spread = rng.uniform(3.0, 15.0, size=n_clusters)
        which = rng.integers(0, n_clusters, size=n_demand)
        pts = centres[which] + rng.normal(size=(n_demand, 2)) * spread[which, None]
        pts = np.clip(pts, 0, side)
    else:
        pts = rng.uniform(0, side, size=(n_demand, 2))
    sites = rng.uniform(0, side, size=(n_sites, 2))
    if weights == "uniform":
        weight = rng.integers(1, 101, size=n_demand).astype(float)
    else:
        weight = np.round(rng.lognormal(mean=8.0, sigma=1.2, size=n_demand))
    d = np.sqrt(((sites[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
    # The radius giving k covering sites per point on average.
    radius = float(np.partition(d.ravel(), int(k * n_demand))[int(k * n_demand)])
    cover = sp.csr_matrix(d <= radius)
    kind = "clu" if clustered else "uni"
    name = f"{kind}-{n_demand}x{n_sites}-k{k:g}-p{p}-{weights[:3]}-s{seed}"
    return Instance(name, weight, cover, p)


def random_instance(seed: int) -> Instance:
    """Sizes drawn from the family's ranges (2,000-5,000 points, 300-600 sites)."""
    rng = np.random.default_rng(10_000 + seed)
    n_demand = int(rng.integers(2000, 5001))
    n_sites = int(rng.integers(300, 601))
    k = float(rng.integers(5, 11))
    p = int(round(n_sites * rng.uniform(0.05, 0.15)))
    return make_instance(seed, n_demand, n_sites, k, p, clustered=bool(seed % 2))


def solve_ours(inst: Instance, time_limit_s: float, seed: int,
               gap: float) -> tuple[float, float, float, float, int]:
    problem = SitingProblem(weight=inst.weight, cover=inst.cover, tiers_m2=np.array([100.0]),
                            area_budget_m2=None, count_max=inst.p)
    t0 = time.perf_counter()
    r = solve_coverage(problem, SolveOptions(time_limit_s=time_limit_s, seed=seed, gap=gap))
    return r.objective, r.bound, r.gap, time.perf_counter() - t0, int((r.area_m2 > 0).sum())


def solve_highs(inst: Instance, time_limit_s: float) -> tuple[float, float, float]:
    """Plain HiGHS (MathOpt) on the textbook MCLP, model building inside the limit."""
    from datetime import timedelta

    from ortools.math_opt.python import mathopt

    t0 = time.perf_counter()
    n_sites, n_demand = inst.cover.shape
    model = mathopt.Model()
    y = [model.add_binary_variable() for _ in range(n_sites)]
    z = [model.add_binary_variable() for _ in range(n_demand)]
    csc = inst.cover.tocsc()
    for j in range(n_demand):
        rows = csc.indices[csc.indptr[j]:csc.indptr[j + 1]]
        model.add_linear_constraint(z[j] <= mathopt.fast_sum(y[i] for i in rows))
    model.add_linear_constraint(mathopt.fast_sum(y) == inst.p)
    model.maximize(mathopt.fast_sum(float(inst.weight[j]) * z[j] for j in range(n_demand)))
    left = max(0.1, time_limit_s - (time.perf_counter() - t0))
    params = mathopt.SolveParameters(time_limit=timedelta(seconds=left), relative_gap_tolerance=0.0)
    res = mathopt.solve(model, mathopt.SolverType.HIGHS, params=params)
    obj = res.objective_value() if res.has_primal_feasible_solution() else float("nan")
    return obj, res.best_objective_bound(), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demand", type=int, default=3000)
    ap.add_argument("--sites", type=int, default=400)
    ap.add_argument("--k", type=float, default=7.0)
    ap.add_argument("--p", type=int, default=40)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--random", action="store_true", help="draw the sizes from each seed")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--weights", choices=["lognormal", "uniform"], default="lognormal")
    ap.add_argument("--gap", type=float, default=0.001, help="our gap target")
    ap.add_argument("--highs", action="store_true", help="also run plain HiGHS")
    args = ap.parse_args()
    print("instance pairs | ours: objective bound gap% s | highs: objective bound s")
    for seed in args.seeds:
        inst = (random_instance(seed) if args.random else
                make_instance(seed, args.demand, args.sites, args.k, args.p,
                              clustered=bool(seed % 2), weights=args.weights))
        obj, bound, gap, secs, n_open = solve_ours(inst, args.time_limit, seed, args.gap)
        if n_open > inst.p:
            raise SystemExit(f"{inst.name}: {n_open} sites open, more than {inst.p}")
        row = f"{inst.name} {inst.cover.nnz} | {obj:.0f} {bound:.0f} {100 * gap:.4f} {secs:.1f}"
        if args.highs:
            # A HiGHS thread of ours may run on after the solve: let it end first.
            for t in threading.enumerate():
                if t.name == "hzlogistics-mip":
                    t.join()
            hobj, hbound, hs = solve_highs(inst, args.time_limit)
            row += f" | {hobj:.0f} {hbound:.0f} {hs:.1f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
