"""Benchmark: hzlogistics against plain HiGHS and plain CP-SAT on five families of instances.

The rule it measures: for any instance and time limit, the plan hzlogistics
returns is at least as good as the best of plain HiGHS and plain CP-SAT on the
textbook model (``benchmarks/textbook.py``), given the same time on the same
machine, and its bound is at least as tight.

The families (seeded generators; every seed gives another instance):

1. dense regional coverage: 2,000-5,000 demand points, 300-600 candidate sites,
   5-10 sites per point, count = 5-15 % of the sites, uniform (even seeds) or
   clustered (odd seeds) demand; count-only maximal covering;
2. sparse large coverage: the 50-country data, count only (no capacity, no
   area budget), at 100 km (geodesic) and at the next-day network; the seed
   picks the count range;
3. the default scenario at area budgets of 150k-400k m² (next-day), and at the
   same-day and two-day service levels (200k m²); with ``--alone`` instead six
   countries, each planned alone at the area and site count a 330k plan gives it;
4. capacitated cost and capacitated median at 8 parcels/day per m², no count,
   no area budget: on the full data (seed 0) and on a random subset of 5-10
   countries (every seed);
5. p-median with travel times given in a ``coverage.csv`` (``travel_time_h``):
   1,000-3,000 points, 200-400 sites, p = 20-40, through the CSV path of a
   scenario (``demand_file``, ``sites_file``, ``coverage_file``).

hzlogistics runs through the public API (:func:`hzlogistics.models.solve`,
:func:`hzlogistics.run_scenario`); its seconds are those of the solve (the
coverage is built before, and handed as it is to the baselines). The baselines
get the same time limit, model building included; above ``--max-pairs``
covered pairs they are not built (reported as ``-``).

Each instance prints one row::

    instance n_demand n_sites pairs | ours: objective bound gap s | highs: objective bound s
    | cpsat: objective bound s | ok

``ok`` is ``yes`` when ours is at least as good as both baselines on the
incumbent and on the bound (relative tolerance 1e-7), ``gap`` when it is so
within the gap target only, ``no`` otherwise. The last line counts them, and
the instances where ours proved the gap target.

Run::

    python benchmarks/families.py --family 1 --seeds 3 --time-limit 60
    python benchmarks/families.py --family 5 --seeds 3 --time-limit 30
    python benchmarks/families.py --family 3 --alone
    python benchmarks/families.py --quick
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import math
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from textbook import Baseline, solve_textbook

from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult

#: Tolerance of "at least as good" (floating-point noise of the solvers).
TOL = 1e-7

#: Covered pairs above which the textbook models are not built (memory).
MAX_PAIRS = 4_000_000


@dataclass
class Case:
    """One instance: how to run ours on it, and the problem the baselines see."""

    name: str
    objective: str
    run: Callable[[float, float, int], tuple[SitingProblem, SolveResult, float]]


@dataclass
class Row:
    name: str
    objective: str
    n_demand: int
    n_sites: int
    pairs: int
    ours: SolveResult
    ours_s: float
    highs: Baseline | None
    cpsat: Baseline | None

    @property
    def sense(self) -> str:
        return self.ours.sense

    def verdict(self, gap: float) -> str:
        """``yes``, ``gap`` (only within the gap target) or ``no``."""
        if all(_as_good(self, b, TOL) for b in (self.highs, self.cpsat)):
            return "yes"
        if all(_as_good(self, b, gap) for b in (self.highs, self.cpsat)):
            return "gap"
        return "no"


def _as_good(row: Row, other: Baseline | None, tol: float) -> bool:
    """Ours at least as good as ``other`` on incumbent and bound, within ``tol`` relative."""
    if other is None:
        return True
    mx = row.sense == "max"
    ours_obj, ours_bound = float(row.ours.objective), float(row.ours.bound)
    ok = True
    if math.isfinite(other.objective):
        slack = tol * max(1.0, abs(other.objective))
        ok &= math.isfinite(ours_obj) and (ours_obj >= other.objective - slack if mx
                                           else ours_obj <= other.objective + slack)
    if math.isfinite(other.bound):
        slack = tol * max(1.0, abs(other.bound))
        ok &= math.isfinite(ours_bound) and (ours_bound <= other.bound + slack if mx
                                             else ours_bound >= other.bound - slack)
    return bool(ok)


# --------------------------------------------------------------------------------------------
# Family 1: dense regional coverage
# --------------------------------------------------------------------------------------------


def _points(rng: np.random.Generator, n: int, side_km: float, clustered: bool) -> np.ndarray:
    """``(n, 2)`` km coordinates: uniform in a square, or around a few towns."""
    if not clustered:
        return rng.uniform(0.0, side_km, size=(n, 2))
    n_towns = int(rng.integers(8, 25))
    towns = rng.uniform(0.1 * side_km, 0.9 * side_km, size=(n_towns, 2))
    spread = rng.uniform(0.02, 0.08, size=n_towns) * side_km
    share = rng.dirichlet(np.full(n_towns, 1.5))
    k = rng.choice(n_towns, size=n, p=share)
    pts = towns[k] + rng.normal(size=(n, 2)) * spread[k, None]
    return np.clip(pts, 0.0, side_km)


def _within(sites: np.ndarray, demand: np.ndarray, radius: float) -> sp.csr_matrix:
    """``(n_sites, n_demand)`` CSR: site within ``radius`` of the demand point."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(sites).sparse_distance_matrix(cKDTree(demand), radius, output_type="coo_matrix")
    m = sp.csr_matrix((np.ones(pairs.nnz, dtype=bool), (pairs.row, pairs.col)),
                      shape=(len(sites), len(demand)))
    return m


def dense_coverage(seed: int, *, quick: bool = False) -> SitingProblem:
    """A family-1 instance: count-only maximal covering on a regional instance.

    Parameters
    ----------
    seed
        Seed of the instance (even: uniform demand; odd: clustered).
    quick
        A small instance (300-600 points, 60-100 sites).
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng([1, seed])
    n_demand = int(rng.integers(300, 601) if quick else rng.integers(2000, 5001))
    n_sites = int(rng.integers(60, 101) if quick else rng.integers(300, 601))
    per_point = float(rng.uniform(5.0, 10.0))
    share = float(rng.uniform(0.05, 0.15))
    clustered = seed % 2 == 1
    side = 200.0
    demand = _points(rng, n_demand, side, clustered)
    # candidate sites: half where the demand is, half anywhere
    near = demand[rng.choice(n_demand, size=n_sites // 2, replace=False)]
    near = near + rng.normal(scale=2.0, size=near.shape)
    sites = np.vstack([near, rng.uniform(0.0, side, size=(n_sites - n_sites // 2, 2))])
    # the radius at which a point is reached by per_point sites on average
    dist, _ = cKDTree(sites).query(demand, k=min(30, n_sites))
    lo, hi = 0.0, float(dist[:, -1].max())
    for _ in range(40):
        mid = (lo + hi) / 2
        if (dist <= mid).sum(axis=1).mean() < per_point:
            lo = mid
        else:
            hi = mid
    cover = _within(sites, demand, hi)
    weight = np.round(rng.lognormal(mean=4.0, sigma=1.0, size=n_demand), 1) + 0.1
    count = max(1, round(share * n_sites))
    return SitingProblem(weight=weight, cover=cover, tiers_m2=np.array([100.0]),
                         area_budget_m2=None, count_min=count, count_max=count,
                         site_ids=np.array([f"S{i}" for i in range(n_sites)]),
                         demand_ids=np.array([f"D{j}" for j in range(n_demand)]))


def family_1(seeds: int, quick: bool) -> Iterator[Case]:
    from hzlogistics.models import solve

    for seed in range(seeds):
        def run(limit: float, gap: float, solver_seed: int, seed: int = seed
                ) -> tuple[SitingProblem, SolveResult, float]:
            p = dense_coverage(seed, quick=quick)
            t = time.perf_counter()
            r = solve(p, "coverage", SolveOptions(time_limit_s=limit, gap=gap, seed=solver_seed))
            return p, r, time.perf_counter() - t

        kind = "clustered" if seed % 2 else "uniform"
        yield Case(f"f1-{kind}-s{seed}", "coverage", run)


# --------------------------------------------------------------------------------------------
# Families 2, 3, 4: the built-in data through scenarios
# --------------------------------------------------------------------------------------------


def _scenario_case(name: str, changes: dict[str, object]) -> Case:
    def run(limit: float, gap: float, solver_seed: int
            ) -> tuple[SitingProblem, SolveResult, float]:
        from hzlogistics import load_scenario, run_scenario

        base = load_scenario("hangzhou-2020")
        scenario = dataclasses.replace(base, time_limit_s=limit, gap=gap, seed=solver_seed,
                                       **changes)  # type: ignore[arg-type]
        plan = run_scenario(scenario)
        assert plan.problem is not None
        problem = plan.problem
        if scenario.objective in ("median", "cost"):
            reach = problem.reachable()
            if not reach.all():  # the plan serves the reachable points only
                problem = problem.restrict_demand(reach)
        return problem, plan.result, float(plan.timings.get("solve_s", math.nan))

    return Case(name, str(changes.get("objective", "coverage")), run)


#: Small subset of countries for ``--quick`` runs of families 2-4.
QUICK_COUNTRIES = ["BE", "NL", "PT"]


def family_2(seeds: int, quick: bool) -> Iterator[Case]:
    counts = [(950, 1050), (500, 500), (2000, 2000)]
    for seed in range(seeds):
        lo, hi = counts[seed % len(counts)]
        base: dict[str, object] = {"capacity_per_m2": None, "area_budget_m2": None,
                                   "count_min": lo, "count_max": hi}
        if quick:
            base.update(countries=QUICK_COUNTRIES, count_min=10, count_max=30)
        tag = f"{lo}-{hi}" if not quick else "quick"
        yield _scenario_case(f"f2-100km-p{tag}", {**base, "radius_km": 100.0})
        yield _scenario_case(f"f2-next-day-p{tag}", {**base, "service_level": "next-day"})


#: Area budgets of family 3, m².
F3_BUDGETS = (150_000.0, 200_000.0, 250_000.0, 300_000.0, 350_000.0, 400_000.0)

#: ``--alone``: countries planned alone with the default scenario's settings, each
#: with the floor area (m²) and the most sites that a 330,000 m² plan of the whole
#: scenario gives it, so that both bind.
F3_ALONE = {"RU": (8_300.0, 59), "BR": (8_450.0, 76), "IN": (8_500.0, 65),
            "US": (122_000.0, 194), "MX": (5_200.0, 32), "AR": (2_250.0, 18)}


def family_3(seeds: int, quick: bool, budgets: tuple[float, ...] = F3_BUDGETS,
             alone: bool = False) -> Iterator[Case]:
    """The default scenario at six area budgets and two more service levels (one pass);
    with ``alone``, only the countries of :data:`F3_ALONE`, each planned alone."""
    if alone:
        for code, (area, most) in F3_ALONE.items():
            yield _scenario_case(f"f3-alone-{code}", {
                "countries": [code], "area_budget_m2": area, "count_min": 0, "count_max": most})
        return
    from hzlogistics.models import solve

    extra: dict[str, object] = {}
    scale = 1.0
    if quick:
        extra = {"countries": QUICK_COUNTRIES, "count_min": 0, "count_max": 60}
        scale = 0.03
    shared: dict[str, SitingProblem] = {}
    for budget in budgets:
        b = budget * scale
        if not shared:
            case = _scenario_case(f"f3-next-day-{budget / 1000:.0f}k",
                                  {**extra, "area_budget_m2": b})
            inner = case.run

            def first(limit: float, gap: float, solver_seed: int,
                      inner: Callable[[float, float, int], tuple[SitingProblem, SolveResult,
                                                                  float]] = inner
                      ) -> tuple[SitingProblem, SolveResult, float]:
                p, r, s = inner(limit, gap, solver_seed)
                shared["next-day"] = p
                return p, r, s

            yield Case(case.name, "coverage", first)
            continue

        def again(limit: float, gap: float, solver_seed: int, b: float = b
                  ) -> tuple[SitingProblem, SolveResult, float]:
            p = dataclasses.replace(shared["next-day"], area_budget_m2=b)
            t = time.perf_counter()
            r = solve(p, "coverage", SolveOptions(time_limit_s=limit, gap=gap, seed=solver_seed))
            return p, r, time.perf_counter() - t

        yield Case(f"f3-next-day-{budget / 1000:.0f}k", "coverage", again)
    for level in ("same-day", "two-day"):
        yield _scenario_case(f"f3-{level}-200k", {**extra, "service_level": level,
                                                 "area_budget_m2": 200_000.0 * scale})


def family_4(seeds: int, quick: bool) -> Iterator[Case]:
    from hzlogistics.countries import COUNTRY_CODES

    base: dict[str, object] = {"capacity_per_m2": 8.0, "count_min": 0, "count_max": None,
                               "area_budget_m2": None, "min_sites_per_country": 0}
    for seed in range(seeds):
        subsets: list[tuple[str, list[str] | None]]
        if quick:
            subsets = [("quick", QUICK_COUNTRIES)]
        else:
            rng = np.random.default_rng([4, seed])
            k = int(rng.integers(5, 11))
            chosen = sorted(rng.choice(sorted(COUNTRY_CODES), size=k, replace=False).tolist())
            subsets = [(f"{k}c-s{seed}", chosen)]
            if seed == 0:
                subsets.insert(0, ("full", None))
        for tag, codes in subsets:
            extra = {} if codes is None else {"countries": list(codes)}
            for objective in ("cost", "median"):
                yield _scenario_case(f"f4-{objective}-{tag}",
                                     {**base, **extra, "objective": objective})


# --------------------------------------------------------------------------------------------
# Family 5: p-median with travel times from a coverage.csv
# --------------------------------------------------------------------------------------------


def write_pmedian_files(seed: int, folder: Path, *, quick: bool = False) -> Path:
    """Write a family-5 instance as demand, sites, coverage CSVs and a scenario; its path.

    Travel time = straight-line km × a circuity of 1.2-1.5 / 60 km/h; the
    coverage keeps the pairs within a cutoff reaching about a third of the
    sites from every point (and every point's three nearest sites).
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng([5, seed])
    n_demand = int(rng.integers(200, 401) if quick else rng.integers(1000, 3001))
    n_sites = int(rng.integers(40, 81) if quick else rng.integers(200, 401))
    p = int(rng.integers(5, 11) if quick else rng.integers(20, 41))
    side = 300.0
    demand = _points(rng, n_demand, side, clustered=seed % 2 == 1)
    sites = np.vstack([demand[rng.choice(n_demand, size=n_sites // 2, replace=False)],
                       rng.uniform(0.0, side, size=(n_sites - n_sites // 2, 2))])
    weight = np.round(rng.lognormal(mean=3.5, sigma=0.8, size=n_demand), 1) + 0.1
    tree = cKDTree(sites)
    cutoff = float(np.quantile(tree.query(demand, k=max(3, n_sites // 3))[0][:, -1], 0.5))
    pairs = tree.sparse_distance_matrix(cKDTree(demand), cutoff, output_type="coo_matrix")
    rows, cols, km = list(pairs.row), list(pairs.col), list(pairs.data)
    near_d, near_i = tree.query(demand, k=3)
    rows += near_i.ravel().tolist()
    cols += np.repeat(np.arange(n_demand), 3).tolist()
    km += near_d.ravel().tolist()
    r, c, d = np.asarray(rows), np.asarray(cols), np.asarray(km)
    key = r * n_demand + c
    _, first = np.unique(key, return_index=True)
    r, c, d = r[first], c[first], d[first]
    circuity = rng.uniform(1.2, 1.5, size=r.size)
    hours = np.round(d * circuity / 60.0, 4)
    lon0, lat0 = 10.0, 50.0
    to_lon = 1.0 / (111.32 * math.cos(math.radians(lat0)))

    def lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return lon0 + xy[:, 0] * to_lon, lat0 + xy[:, 1] / 110.57

    folder.mkdir(parents=True, exist_ok=True)
    dl, da = lonlat(demand)
    with open(folder / "demand.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "lon", "lat", "weight"])
        out.writerows(zip([f"D{j}" for j in range(n_demand)], dl.round(6), da.round(6), weight,
                          strict=True))
    sl, sa = lonlat(sites)
    with open(folder / "sites.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "lon", "lat"])
        out.writerows(zip([f"S{i}" for i in range(n_sites)], sl.round(6), sa.round(6),
                          strict=True))
    with open(folder / "coverage.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["site_id", "demand_id", "travel_time_h"])
        out.writerows(zip([f"S{i}" for i in r], [f"D{j}" for j in c], hours, strict=True))
    path = folder / "scenario.toml"
    path.write_text(
        f'name = "pmedian-{seed}"\nobjective = "median"\n\n'
        '[network]\narea_budget_m2 = "none"\nsize_tiers_m2 = [100.0]\n'
        f'count = {p}\nmin_sites_per_country = 0\ncapacity_per_m2 = "none"\n'
        'keep_existing = false\n\n'
        '[data]\ndemand_file = "demand.csv"\nsites_file = "sites.csv"\n'
        'coverage_file = "coverage.csv"\n')
    return path


def family_5(seeds: int, quick: bool) -> Iterator[Case]:
    for seed in range(seeds):
        def run(limit: float, gap: float, solver_seed: int, seed: int = seed
                ) -> tuple[SitingProblem, SolveResult, float]:
            from hzlogistics import load_scenario, run_scenario

            with tempfile.TemporaryDirectory() as tmp:
                path = write_pmedian_files(seed, Path(tmp), quick=quick)
                scenario = dataclasses.replace(load_scenario(path), time_limit_s=limit,
                                               gap=gap, seed=solver_seed)
                plan = run_scenario(scenario)
            assert plan.problem is not None
            problem = plan.problem
            reach = problem.reachable()
            if not reach.all():
                problem = problem.restrict_demand(reach)
            return problem, plan.result, float(plan.timings.get("solve_s", math.nan))

        kind = "clustered" if seed % 2 else "uniform"
        yield Case(f"f5-{kind}-s{seed}", "median", run)


FAMILIES: dict[int, Callable[[int, bool], Iterator[Case]]] = {
    1: family_1, 2: family_2, 3: family_3, 4: family_4, 5: family_5}


# --------------------------------------------------------------------------------------------
# Running and printing
# --------------------------------------------------------------------------------------------


def run_case(case: Case, *, time_limit_s: float, gap: float, seed: int, max_pairs: int,
             solvers: tuple[str, ...] = ("highs", "cpsat")) -> Row:
    """Run ours and the baselines on one instance."""
    problem, ours, ours_s = case.run(time_limit_s, gap, seed)
    pairs = int(sp.csr_matrix(problem.cover).nnz)
    base: dict[str, Baseline | None] = {"highs": None, "cpsat": None}
    for name in solvers:
        if pairs > max_pairs:
            continue
        base[name] = solve_textbook(problem, case.objective, solver=name,
                                    time_limit_s=time_limit_s, gap=gap, seed=seed)
    return Row(case.name, case.objective, problem.n_demand, problem.n_sites, pairs, ours,
               ours_s, base["highs"], base["cpsat"])


HEADER = ("instance", "n_demand", "n_sites", "pairs", "ours_obj", "ours_bound", "ours_gap",
          "ours_s", "highs_obj", "highs_bound", "highs_s", "cpsat_obj", "cpsat_bound",
          "cpsat_s", "ok")


def _num(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.6g}" if abs(x) < 1e6 else f"{x:.8g}"


def row_cells(row: Row, gap: float) -> list[str]:
    def base(b: Baseline | None) -> list[str]:
        if b is None:
            return ["-", "-", "-"]
        return [_num(b.objective), _num(b.bound), f"{b.wall_s:.1f}"]

    return [row.name, str(row.n_demand), str(row.n_sites), str(row.pairs),
            _num(float(row.ours.objective)), _num(float(row.ours.bound)),
            f"{100 * float(row.ours.gap):.3f}%", f"{row.ours_s:.1f}",
            *base(row.highs), *base(row.cpsat), row.verdict(gap)]


def _budgets(text: str) -> tuple[float, ...]:
    """``--budgets``: thousands of m², comma-separated, each positive."""
    try:
        out = tuple(1000.0 * float(b) for b in text.split(",") if b.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers of thousands of m² separated by commas, got {text!r}") from None
    if not out or not all(math.isfinite(b) and b > 0 for b in out):
        raise argparse.ArgumentTypeError(f"every budget must be a positive number, got {text!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", type=int, action="append", choices=sorted(FAMILIES),
                        help="family to run (repeatable; default: all)")
    parser.add_argument("--seeds", type=int, default=3, help="instances per family")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per solver and instance (default 60; 5 with --quick)")
    parser.add_argument("--gap", type=float, default=None,
                        help="relative gap target of every solver (default: the package's)")
    parser.add_argument("--seed", type=int, default=0, help="solver seed")
    parser.add_argument("--quick", action="store_true",
                        help="small instances and short limits, for a smoke run")
    parser.add_argument("--max-pairs", type=int, default=MAX_PAIRS,
                        help="largest instance (covered pairs) the baselines are built for")
    parser.add_argument("--solvers", default="highs,cpsat",
                        help="baselines to run, comma-separated (highs, cpsat)")
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows to this CSV")
    parser.add_argument("--budgets", type=_budgets, default=None,
                        help="family 3: next-day area budgets in thousands of m², "
                             "comma-separated (default: 150,200,250,300,350,400)")
    parser.add_argument("--alone", action="store_true",
                        help="family 3: instead, each country of F3_ALONE planned alone at "
                             "the area and site count a 330,000 m² plan gives it")
    parser.add_argument("--only", action="append", default=None,
                        help="run only the instance of this name, e.g. f1-uniform-s6 "
                             "(repeatable)")
    args = parser.parse_args(argv)
    from hzlogistics import settings

    limit = args.time_limit if args.time_limit is not None else (5.0 if args.quick else 60.0)
    gap = settings.GAP_TARGET if args.gap is None else args.gap
    solvers = tuple(s.strip() for s in args.solvers.split(",") if s.strip())
    families = args.family or sorted(FAMILIES)
    makers = dict(FAMILIES)
    if args.budgets or args.alone:
        makers[3] = functools.partial(family_3, budgets=args.budgets or F3_BUDGETS,
                                      alone=args.alone)
    print(f"# time limit {limit:g} s per solver, gap target {100 * gap:g} %, "
          f"seeds {args.seeds}{', quick' if args.quick else ''}", flush=True)
    print("\t".join(HEADER), flush=True)
    rows: list[Row] = []
    writer = None
    handle = None
    if args.csv is not None:
        handle = open(args.csv, "w", newline="")
        writer = csv.writer(handle)
        writer.writerow(HEADER)
    try:
        for fam in families:
            for case in makers[fam](args.seeds, args.quick):
                if args.only and case.name not in args.only:
                    continue
                row = run_case(case, time_limit_s=limit, gap=gap, seed=args.seed,
                               max_pairs=args.max_pairs, solvers=solvers)
                rows.append(row)
                cells = row_cells(row, gap)
                print("\t".join(cells), flush=True)
                if writer is not None and handle is not None:
                    writer.writerow(cells)
                    handle.flush()
    finally:
        if handle is not None:
            handle.close()
    missing = sorted(set(args.only or ()) - {r.name for r in rows})
    if missing:
        print(f"no instance named {', '.join(missing)} in families {families} with "
              f"--seeds {args.seeds}", file=sys.stderr)
        return 2
    strict = sum(r.verdict(gap) == "yes" for r in rows)
    loose = sum(r.verdict(gap) in ("yes", "gap") for r in rows)
    contested = sum(any(b is not None and math.isfinite(b.objective)
                        for b in (r.highs, r.cpsat)) for r in rows)
    reached = sum(float(r.ours.gap) <= gap * (1 + 1e-9) for r in rows)
    print(f"ours at least as good as plain HiGHS and CP-SAT on incumbent and bound: "
          f"{strict} of {len(rows)} instances ({loose} of {len(rows)} allowing a difference "
          f"up to the {100 * gap:g} % gap target; a baseline found a plan on {contested}); "
          f"ours proved the gap target on {reached} of {len(rows)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
