"""Head-to-head with PySAL spopt on the same maximal covering instance.

spopt is a benchmark-only dependency: it runs in its own virtual environment
(``--spopt-python``, e.g. one made with ``python3 -m venv /tmp/spopt-venv &&
/tmp/spopt-venv/bin/pip install spopt pulp``), in a subprocess. Both sides read
the same instance, written to an ``.npz`` file in the temp directory.

Two modes:

GeoNames cities (the default)
    The dense demand x candidate great-circle distance matrix (km) of the
    GeoNames cities, their populations, the service radius and p. spopt:
    ``MCLP.from_cost_matrix`` (model building) then ``solve`` with PuLP's CBC.
    hzlogistics: the coverage matrix from the same distances, then
    ``solve_count_only`` with a zero gap target (a proven optimum). Both wall
    times include model building; the optima must be equal.

Family 1 (``--family1 N``)
    The dense regional coverage instances of ``benchmarks/families.py``
    (:func:`families.dense_coverage`, seeds ``0 .. N-1``; ``--quick`` for the
    small ones): count-only maximal covering with exactly p sites. spopt gets a
    demand x sites cost matrix of 0 (covered) and 2 (not covered), service
    radius 1, the weights and p, and solves with CBC stopped after
    ``--spopt-timeout`` seconds (CBC's ``timeLimit``); its seconds are model
    building plus solve, its objective is recomputed here from the sites it
    opens, and its status is PuLP's status with the solution status of CBC
    (``feasible`` when the time limit stopped it). hzlogistics:
    :func:`hzlogistics.models.solve` for ``coverage`` with ``--time-limit``,
    ``--gap`` and ``--workers``; its seconds are those of the solve only, and
    its progress callback gives the time to match: the first second at which
    its incumbent reached spopt's objective. The ratio is spopt's seconds over
    that time to match (``-`` and counted as 0 in the median when ours never
    reaches spopt's objective). One row per instance::

        instance n_demand n_sites pairs p | spopt: objective status s
        | ours: objective bound gap s match_s | ratio

    The last line counts the instances where ours is at least as good as
    spopt and at least 10x faster to match, and gives the median ratio.

Run::

    python benchmarks/spopt_h2h.py --spopt-python /tmp/spopt-venv/bin/python
    python benchmarks/spopt_h2h.py --demand 5000 --sites 1000 --p 100 200
    python benchmarks/spopt_h2h.py --family1 5 --time-limit 60 --spopt-timeout 600
    python benchmarks/spopt_h2h.py --family1 2 --quick --time-limit 20 --spopt-timeout 30
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from hzlogistics.solvers.problem import SitingProblem

HERE = Path(__file__).resolve().parent

SPOPT_RUNNER = r'''
import json, sys, time
import numpy as np
import pulp
from spopt.locate import MCLP

data = np.load(sys.argv[1])
dist, weight = data["dist_km"], data["weight"]
radius, p = float(data["radius_km"]), int(sys.argv[2])
t0 = time.perf_counter()
model = MCLP.from_cost_matrix(dist, weight, service_radius=radius, p_facilities=p,
                              name="h2h")
t1 = time.perf_counter()
model = model.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
t2 = time.perf_counter()
opened = [j for j, v in enumerate(model.fac_vars) if v.value() is not None and v.value() > 0.5]
covered = (dist[:, opened] <= radius).any(axis=1) if opened else np.zeros(len(weight), bool)
print(json.dumps({"build_s": t1 - t0, "solve_s": t2 - t1, "open": opened,
                  "objective": float(weight[covered].sum()),
                  "status": pulp.LpStatus[model.problem.status]}))
'''


SPOPT_FAMILY1_RUNNER = r"""
import json, sys, time
import numpy as np
import pulp
from spopt.locate import MCLP

data = np.load(sys.argv[1])
cost = data["cost"].astype(float)  # demand x sites: 0 covered, 2 not
weight = data["weight"]
p, time_limit = int(sys.argv[2]), float(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else None
t0 = time.perf_counter()
model = MCLP.from_cost_matrix(cost, weight, service_radius=1.0, p_facilities=p, name="h2h")
t1 = time.perf_counter()
solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, threads=threads)
error = ""
try:
    model = model.solve(solver, results=False)
except RuntimeError as exc:  # spopt raises when PuLP's status is not "Optimal"
    error = str(exc)
t2 = time.perf_counter()
opened = [j for j, v in enumerate(model.fac_vars) if v.value() is not None and v.value() > 0.5]
solution = {1: "optimal", 2: "feasible", 0: "none", -1: "infeasible", -2: "unbounded"}
print(json.dumps({"build_s": t1 - t0, "solve_s": t2 - t1, "open": opened,
                  "status": pulp.LpStatus[model.problem.status],
                  "solution": solution.get(model.problem.sol_status, str(model.problem.sol_status)),
                  "error": error}))
"""


def _geonames():
    spec = importlib.util.spec_from_file_location("mclp_geonames", HERE / "mclp_geonames.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["mclp_geonames"] = mod
    spec.loader.exec_module(mod)
    return mod


def write_instance(path: Path, n_demand: int, n_sites: int, radius_km: float) -> None:
    """Dense great-circle distances (demand x candidates), weights and radius."""
    geo = _geonames()
    inst = geo.build_instance(n_demand, n_sites, radius_km)
    xyz = geo.unit_vectors(inst.lat, inst.lon)
    cos = np.clip(xyz @ xyz[:n_sites].T, -1.0, 1.0)
    dist = geo.EARTH_RADIUS_KM * np.arccos(cos)
    np.savez(path, dist_km=dist, weight=inst.weight, radius_km=radius_km)


def run_ours(path: Path, p: int, time_limit_s: float, workers: int) -> dict[str, object]:
    from hzlogistics.models.count_coverage import solve_count_only
    from hzlogistics.solvers.problem import SitingProblem, SolveOptions

    data = np.load(path)
    dist, weight, radius = data["dist_km"], data["weight"], float(data["radius_km"])
    t0 = time.perf_counter()
    cover = sp.csr_matrix(dist.T <= radius)  # candidates x demand
    problem = SitingProblem(weight=weight, cover=cover, tiers_m2=np.array([100.0]),
                            area_budget_m2=None, count_max=p)
    result = solve_count_only(problem, SolveOptions(time_limit_s=time_limit_s, gap=0.0,
                                                    workers=workers))
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "build_s": wall - result.wall_s, "solve_s": result.wall_s,
            "objective": result.objective, "bound": result.bound, "status": result.status,
            "open": np.flatnonzero(result.open).tolist()}


def run_spopt(python: str, path: Path, p: int, timeout_s: float) -> dict[str, object]:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(SPOPT_RUNNER)
        runner = fh.name
    t0 = time.perf_counter()
    proc = subprocess.run([python, runner, str(path), str(p)], capture_output=True, text=True,
                          timeout=timeout_s, check=False)
    wall = time.perf_counter() - t0
    Path(runner).unlink(missing_ok=True)
    if proc.returncode != 0:
        raise RuntimeError(f"spopt run failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall  # includes the interpreter start and imports
    return out


# --------------------------------------------------------------------------------------------
# Family 1 of benchmarks/families.py
# --------------------------------------------------------------------------------------------

#: Relative tolerance of "at least as good" (floating-point sums of the weights).
TOL = 1e-7

#: Speed-up asked of hzlogistics over spopt + CBC, to the same objective.
TARGET_RATIO = 10.0


@dataclass
class SpoptRun:
    """spopt + CBC on one instance: objective recomputed here, build + solve seconds."""

    objective: float
    status: str
    seconds: float
    opened: list[int]


@dataclass
class OurRun:
    """hzlogistics on one instance: solve seconds and the ``(second, incumbent)`` trace."""

    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    trace: list[tuple[float, float]]

    def time_to(self, target: float) -> float:
        """First second of the solve at which the incumbent reached ``target`` (NaN: never)."""
        if not math.isfinite(target):  # spopt found no plan: our first incumbent matches it
            target = -math.inf
        slack = TOL * max(1.0, abs(target)) if math.isfinite(target) else 0.0
        for elapsed, incumbent in self.trace:
            if math.isfinite(incumbent) and incumbent >= target - slack:
                return elapsed
        if math.isfinite(self.objective) and self.objective >= target - slack:
            return self.seconds  # the plan was reported only at the end
        return math.nan


def covered_weight(problem: SitingProblem, opened: list[int]) -> float:
    """Weight of the demand points reached by the sites ``opened``."""
    if not opened:
        return 0.0
    reached = np.asarray(sp.csr_matrix(problem.cover)[opened].sum(axis=0)).ravel() > 0
    return float(np.asarray(problem.weight, dtype=float)[reached].sum())


def run_spopt_family1(python: str, problem: SitingProblem, p: int, timeout_s: float,
                      threads: int | None) -> SpoptRun:
    """spopt + CBC (stopped after ``timeout_s``) on a family-1 problem."""
    cost = np.where(sp.csr_matrix(problem.cover).T.toarray() != 0, 0, 2).astype(np.int8)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "instance.npz"
        np.savez(path, cost=cost, weight=np.asarray(problem.weight, dtype=float))
        runner = Path(tmp) / "runner.py"
        runner.write_text(SPOPT_FAMILY1_RUNNER)
        cmd = [python, str(runner), str(path), str(p), f"{timeout_s:g}"]
        if threads is not None:
            cmd.append(str(threads))
        try:  # CBC stops itself at the time limit; this limit only guards a hang
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                                  timeout=3 * timeout_s + 300)
        except subprocess.TimeoutExpired:
            return SpoptRun(math.nan, "killed", math.nan, [])
    if proc.returncode != 0:
        raise RuntimeError(f"spopt run failed:\n{proc.stderr[-2000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    opened = [int(j) for j in out["open"]]
    return SpoptRun(objective=covered_weight(problem, opened) if opened else math.nan,
                    status=f"{out['status']}/{out['solution']}",
                    seconds=float(out["build_s"]) + float(out["solve_s"]), opened=opened)


def run_ours_family1(problem: SitingProblem, time_limit_s: float, gap: float,
                     workers: int) -> OurRun:
    """hzlogistics on a family-1 problem; its seconds are those of the solve only."""
    from hzlogistics.models import solve
    from hzlogistics.solvers.problem import SolveOptions

    trace: list[tuple[float, float]] = []

    def progress(elapsed_s: float, incumbent: float, bound: float) -> None:
        trace.append((time.perf_counter() - t0, float(incumbent)))

    options = SolveOptions(time_limit_s=time_limit_s, gap=gap, workers=workers,
                           progress=progress)
    t0 = time.perf_counter()
    result = solve(problem, "coverage", options)
    seconds = time.perf_counter() - t0
    return OurRun(objective=float(result.objective), bound=float(result.bound),
                  gap=float(result.gap), status=result.status, seconds=seconds, trace=trace)


def _fmt(x: float, spec: str) -> str:
    return format(x, spec) if math.isfinite(x) else "-"


def main_family1(args: argparse.Namespace) -> int:
    """One row per family-1 seed, then the count of 10x wins and the median ratio."""
    sys.path.insert(0, str(HERE))
    from families import dense_coverage

    print(f"spopt + CBC (CBC time limit {args.spopt_timeout:g} s) against hzlogistics "
          f"(time limit {args.time_limit:g} s, gap {args.gap:g}, {args.workers} workers)")
    print(f"{'instance':<16} {'n_dem':>5} {'sites':>5} {'pairs':>6} {'p':>3} | "
          f"{'spopt obj':>11} {'status':<17} {'s':>7} | {'ours obj':>11} {'bound':>11} "
          f"{'gap':>7} {'s':>6} {'match':>6} | {'ratio':>7}")
    ratios: list[float] = []
    wins = worse = 0
    for seed in range(args.family1):
        problem = dense_coverage(seed, quick=args.quick)
        if problem.count_max is None or problem.count_min != problem.count_max:
            raise SystemExit(f"seed {seed}: spopt's MCLP opens exactly p sites, but the "
                             f"count is {problem.count_min}..{problem.count_max}")
        p = int(problem.count_max)
        name = f"f1-{'clustered' if seed % 2 else 'uniform'}-s{seed}"
        ours = run_ours_family1(problem, args.time_limit, args.gap, args.workers)
        theirs = run_spopt_family1(args.spopt_python, problem, p, args.spopt_timeout,
                                   args.cbc_threads)
        match = ours.time_to(theirs.objective)
        ratio = theirs.seconds / max(match, 1e-9) if math.isfinite(match) else math.nan
        as_good = math.isfinite(ours.objective) and (
            not math.isfinite(theirs.objective)
            or ours.objective >= theirs.objective - TOL * max(1.0, abs(theirs.objective)))
        worse += not as_good
        wins += as_good and math.isfinite(ratio) and ratio >= TARGET_RATIO
        ratios.append(ratio if math.isfinite(ratio) else 0.0)
        print(f"{name:<16} {problem.n_demand:>5} {problem.n_sites:>5} "
              f"{sp.csr_matrix(problem.cover).nnz:>6} {p:>3} | "
              f"{_fmt(theirs.objective, '11,.1f')} {theirs.status:<17} "
              f"{_fmt(theirs.seconds, '7.2f')} | {_fmt(ours.objective, '11,.1f')} "
              f"{_fmt(ours.bound, '11,.1f')} {_fmt(100 * ours.gap, '6.3f')}% "
              f"{_fmt(ours.seconds, '6.2f')} {_fmt(match, '6.2f')} | {_fmt(ratio, '6.1f')}x",
              flush=True)
    median = statistics.median(ratios) if ratios else math.nan
    print(f"at least as good and >= {TARGET_RATIO:g}x faster to match spopt: {wins} of "
          f"{args.family1}; median ratio {_fmt(median, '.1f')}x")
    return 1 if worse else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spopt-python", default="/tmp/spopt-venv/bin/python")
    ap.add_argument("--demand", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=2_000)
    ap.add_argument("--radius-km", type=float, default=100.0)
    ap.add_argument("--p", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--time-limit", type=float, default=600.0, help="ours, per solve")
    ap.add_argument("--spopt-timeout", type=float, default=1800.0,
                    help="seconds: the spopt process (GeoNames), CBC's timeLimit (family 1)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--family1", type=int, default=None, metavar="N",
                    help="family 1 of benchmarks/families.py, seeds 0..N-1, instead of GeoNames")
    ap.add_argument("--quick", action="store_true", help="family 1: the small instances")
    ap.add_argument("--gap", type=float, default=0.0, help="family 1: our gap target")
    ap.add_argument("--cbc-threads", type=int, default=None,
                    help="family 1: CBC threads (default: CBC's own)")
    args = ap.parse_args(argv)
    if args.family1 is not None:
        return main_family1(args)

    path = Path(tempfile.gettempdir()) / (f"hz_mclp_h2h_{args.demand}x{args.sites}_"
                                          f"{args.radius_km:g}km.npz")
    if not path.exists():
        write_instance(path, args.demand, args.sites, args.radius_km)
    print(f"instance {path}: {args.demand:,} demand x {args.sites:,} candidates, "
          f"radius {args.radius_km:g} km")
    status = 0
    for p in args.p:
        ours = run_ours(path, p, args.time_limit, args.workers)
        theirs = run_spopt(args.spopt_python, path, p, args.spopt_timeout)
        same = abs(float(ours["objective"]) - float(theirs["objective"])) < 0.5
        print(f"p = {p}:")
        print(f"  spopt + CBC : covered {theirs['objective']:,.0f} ({theirs['status']}); build "
              f"{theirs['build_s']:.1f} s + solve {theirs['solve_s']:.1f} s; process wall "
              f"{theirs['wall_s']:.1f} s")
        print(f"  hzlogistics : covered {ours['objective']:,.0f} ({ours['status']}, bound "
              f"{ours['bound']:,.0f}); build {ours['build_s']:.2f} s + solve "
              f"{ours['solve_s']:.2f} s = {ours['wall_s']:.2f} s")
        ratio = (float(theirs["build_s"]) + float(theirs["solve_s"])) / float(ours["wall_s"])
        print(f"  same optimum: {same}; spopt (build + solve) / hzlogistics (build + solve) = "
              f"{ratio:.0f}x; same sites: {sorted(theirs['open']) == sorted(ours['open'])}")
        status |= 0 if same else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
