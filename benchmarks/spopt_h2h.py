"""Head-to-head with PySAL spopt on the same maximal covering instance.

spopt is a benchmark-only dependency: it runs in its own virtual environment
(``--spopt-python``, e.g. one made with ``python3 -m venv /tmp/spopt-venv &&
/tmp/spopt-venv/bin/pip install spopt pulp``), in a subprocess. Both sides read
the same instance, written to an ``.npz`` file in the temp directory: the dense
demand x candidate great-circle distance matrix (km) of the GeoNames cities,
their populations, the service radius and p.

spopt: ``MCLP.from_cost_matrix`` (model building) then ``solve`` with PuLP's
CBC. hzlogistics: the coverage matrix from the same distances, then
``solve_count_only`` with a zero gap target (a proven optimum). Both wall
times include model building; the optima must be equal.

Examples::

    python benchmarks/spopt_h2h.py --spopt-python /tmp/spopt-venv/bin/python
    python benchmarks/spopt_h2h.py --demand 5000 --sites 1000 --p 100 200
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spopt-python", default="/tmp/spopt-venv/bin/python")
    ap.add_argument("--demand", type=int, default=10_000)
    ap.add_argument("--sites", type=int, default=2_000)
    ap.add_argument("--radius-km", type=float, default=100.0)
    ap.add_argument("--p", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--time-limit", type=float, default=600.0, help="ours, per solve")
    ap.add_argument("--spopt-timeout", type=float, default=1800.0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

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
