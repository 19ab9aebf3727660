"""Solve OR-Library location instances and compare with the published optima.

Prints CSV ``instance,optimum,found,gap,seconds`` (one row per instance; ``gap``
is the solver's proven relative gap) and a final ``#`` line with how many
instances matched the published optimum (relative tolerance 1e-9), how many
were proven optimal, the total time and the slowest instance.

Usage::

    python benchmarks/orlib.py --set pmed
    python benchmarks/orlib.py --set cap --time-limit-s 10
    python benchmarks/orlib.py --set uncap
    python benchmarks/orlib.py --set capabc --time-limit-s 120
    python benchmarks/orlib.py --set pmed --instances pmed1,pmed7

The data are read from ``../shared/benchmarks/orlib`` next to the repository
(see its README), or from ``--data``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from hzlogistics.models.cost import solve_cost
from hzlogistics.models.location.orlib import orlib_problem
from hzlogistics.models.median import solve_median
from hzlogistics.orlib import (
    CAPACITY_VARIANTS,
    OrlibInstance,
    read_cap,
    read_optima,
    read_pmed,
)
from hzlogistics.solvers.problem import SolveOptions

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "orlib"

CAP = [f"cap{g}{k}" for g in (4, 6, 7, 8, 9, 11, 12, 13) for k in (1, 2, 3, 4)]
CAP = sorted(CAP + ["cap51", "cap101", "cap102", "cap103", "cap104"],
             key=lambda s: int(s[3:]))
UNCAP = [f"cap{g}{k}" for g in (7, 10, 13) for k in (1, 2, 3, 4)] + ["capa", "capb", "capc"]
SETS = {
    "pmed": [f"pmed{i}" for i in range(1, 41)],
    "cap": CAP,
    "uncap": UNCAP,
    "capabc": [f"{f}{c}" for f, caps in CAPACITY_VARIANTS.items() for c in caps],
}
KIND = {"pmed": "pmedian", "cap": "cflp", "uncap": "uflp", "capabc": "cflp"}
DEFAULT_TIME_S = {"pmed": 60.0, "cap": 10.0, "uncap": 60.0, "capabc": 120.0}


def load(data: Path, which: str, name: str) -> OrlibInstance:
    """Read one instance of set ``which``."""
    if which == "pmed":
        return read_pmed(data / "pmed" / f"{name}.txt")
    if which == "uncap":
        return read_cap(data / "cap" / f"{name}.txt", uncapacitated=True)
    if which == "capabc":
        return read_cap(data / "cap" / f"{name[:4]}.txt", capacity=float(name[4:]))
    return read_cap(data / "cap" / f"{name}.txt")


def run(data: Path, which: str, names: list[str], options: SolveOptions
        ) -> Iterator[tuple[str, float, float, float, float, str]]:
    """Solve each instance; yield ``(name, optimum, found, gap, seconds, status)``."""
    optima = read_optima(data / "optima.csv")
    for name in names:
        inst = load(data, which, name)
        problem = orlib_problem(inst)
        t0 = time.perf_counter()
        if which == "pmed":
            res = solve_median(problem, options)
        else:
            res = solve_cost(problem, options)
        seconds = time.perf_counter() - t0
        yield name, optima[(KIND[which], inst.name)], res.objective, res.gap, seconds, res.status


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", dest="which", choices=sorted(SETS), default="pmed")
    ap.add_argument("--instances", help="comma-separated names within the set (default: all)")
    ap.add_argument("--time-limit-s", type=float, help="per instance (default: pmed 60, cap 10, "
                    "uncap 60, capabc 120)")
    ap.add_argument("--gap", type=float, default=0.0, help="relative gap target (default 0)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DATA, help="the orlib folder")
    args = ap.parse_args(argv)
    if not (args.data / "optima.csv").is_file():
        print(f"OR-Library data not found in {args.data}", file=sys.stderr)
        return 2
    names = SETS[args.which]
    if args.instances:
        wanted = [s.strip() for s in args.instances.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in names]
        if unknown:
            print(f"not in set {args.which}: {', '.join(unknown)} (known: {', '.join(names)})",
                  file=sys.stderr)
            return 2
        names = wanted
    limit = args.time_limit_s or DEFAULT_TIME_S[args.which]
    options = SolveOptions(time_limit_s=limit, gap=args.gap, seed=args.seed)
    print("instance,optimum,found,gap,seconds", flush=True)
    matched = proven = 0
    total = 0.0
    slowest = ("", -1.0)
    for name, optimum, found, gap, seconds, status in run(args.data, args.which, names, options):
        ok = math.isfinite(found) and abs(found - optimum) <= 1e-9 * abs(optimum)
        matched += ok
        proven += status == "optimal"
        total += seconds
        if seconds > slowest[1]:
            slowest = (name, seconds)
        print(f"{name},{optimum:.3f},{found:.4f},{gap:.3g},{seconds:.2f}", flush=True)
    print(f"# {args.which}: matched {matched}/{len(names)}, proven optimal {proven}/{len(names)}, "
          f"time limit {limit:g} s, total {total:.1f} s, slowest {slowest[0]} "
          f"{slowest[1]:.1f} s", flush=True)
    return 0 if matched == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
