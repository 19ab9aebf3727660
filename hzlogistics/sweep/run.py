"""A sweep: lay out its points and chains, build each coverage once, solve, tabulate."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.plan import Inputs, build_problem, build_scenario_coverage, load_inputs, make_plan
from hzlogistics.scenario import Scenario, scenario_problems, validate_scenario
from hzlogistics.sweep.cluster import dask_map, run_dask
from hzlogistics.sweep.point import (
    CoverageArrays,
    PointOutcome,
    SweepPoint,
    log_point,
    solve_point,
)
from hzlogistics.sweep.values import SWEEP_PARAMETERS, apply_values, display_value, normalize_vary

if TYPE_CHECKING:  # pragma: no cover
    from distributed import Client

logger = logging.getLogger(__name__)


def _snake(lists: Sequence[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """The product of ``lists`` in an order where neighbours differ in one value."""
    if not lists:
        yield ()
        return
    rest = list(_snake(lists[1:]))
    for k, v in enumerate(lists[0]):
        for tail in (rest if k % 2 == 0 else rest[::-1]):
            yield (v, *tail)


def plan_points(
    vary: Mapping[str, Sequence[Any]], *, warm_start: bool = True, chains: int | None = None
) -> tuple[list[SweepPoint], list[list[int]]]:
    """Lay out a sweep: its points, their coverage groups and the chains to solve.

    Parameters
    ----------
    vary
        ``{parameter: values}`` as returned by :func:`normalize_vary`.
    warm_start
        Whether points warm-start from their neighbour; without, every point is a
        chain of its own.
    chains
        Pieces to cut each coverage group's chain into (``None`` = 1). Each piece
        starts cold, and pieces can be solved side by side.

    Returns
    -------
    points
        Every point, in table order.
    chains
        The chains, each a list of point indices in solving order.

    Examples
    --------
    >>> points, chains = plan_points({"area_budget_m2": [1.0, 2.0, 3.0],
    ...                               "service_level": ["same-day", "next-day"]})
    >>> [p.group for p in points], chains
    ([0, 1, 0, 1, 0, 1], [[0, 2, 4], [1, 3, 5]])
    """
    keys = list(vary)
    cov_keys = [k for k in keys if SWEEP_PARAMETERS[k].coverage]
    other = [k for k in keys if not SWEEP_PARAMETERS[k].coverage]
    points: list[SweepPoint] = []
    groups: dict[tuple[Any, ...], int] = {}
    index_of: dict[tuple[Any, ...], int] = {}
    for combo in itertools.product(*(vary[k] for k in keys)):
        values = dict(zip(keys, combo, strict=True))
        gkey = tuple(values[k] for k in cov_keys)
        group = groups.setdefault(gkey, len(groups))
        index_of[tuple(combo)] = len(points)
        points.append(SweepPoint(index=len(points), values=values, group=group))
    out: list[list[int]] = []
    for gkey in groups:
        fixed = dict(zip(cov_keys, gkey, strict=True))
        order = []
        for tail in _snake([vary[k] for k in other]):
            values = {**fixed, **dict(zip(other, tail, strict=True))}
            order.append(index_of[tuple(values[k] for k in keys)])
        if not warm_start:
            pieces = [[i] for i in order]
        else:
            n = max(1, min(int(chains or 1), len(order)))
            pieces = [list(map(int, c)) for c in np.array_split(np.asarray(order), n)]
        for piece in pieces:
            for step, i in enumerate(piece):
                points[i].chain = len(out)
                points[i].step = step
            out.append(piece)
    return points, out


def sweep(
    scenario: Scenario,
    vary: Mapping[str, Any],
    *,
    client: Client | None = None,
    warm_start: bool = True,
    chains: int | None = None,
    workers_per_solve: int | None = None,
    retries: int = settings.SWEEP_RETRIES,
    maps_dir: str | Path | None = None,
    progress: bool = False,
    stop: threading.Event | None = None,
) -> pd.DataFrame:
    """Solve a scenario for every combination of the values in ``vary``.

    Parameters
    ----------
    scenario
        The base scenario; every point copies it and sets its values.
    vary
        ``{parameter: values}``; names as in :data:`SWEEP_PARAMETERS` or their
        short names (``area_budget``, ``rent_cap``, ...), values a list or a
        string such as ``"50000:400000:25000"`` (see :func:`parse_vary`).
    client
        A ``distributed.Client``: solve the points (and build the coverage) on
        its cluster. ``None`` = in this process.
    warm_start
        Warm-start every point from its neighbour's plan (see :func:`solve_point`).
    chains
        Cut each coverage group's chain of warm starts into this many pieces
        that start cold and can run side by side (``None`` = 1 piece). Gives
        the same table in this process and on a cluster.
    workers_per_solve
        Solver threads per point (``None`` = the machine's cores in this
        process, 1 on a cluster). A solve is repeatable with a fixed seed and a
        fixed thread count when it ends on its gap target; a solve stopped by
        its (wall-clock) time limit may differ from run to run.
    retries
        Times Dask re-runs a point whose task raised; the points of tasks the
        cluster lost are sent again up to ``retries + 1`` times.
    maps_dir
        Write the map of every solved point there (``<name>-p<index>.html``).
    progress
        Show progress bars.
    stop
        A ``threading.Event``: when set, the running solve (in this process)
        stops with its best plan, and the points not yet solved are left out
        with status ``"not run"``.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``point``, the varied parameters, ``status``,
        ``objective``, ``bound``, ``gap``, ``covered_weight`` (parcels/day
        served), ``covered_share`` (of all demand), ``bound_share`` (bound / all
        demand), ``area_m2``, ``n_sites``, ``rent_usd_year``, ``wall_s``,
        ``coverage_group``, ``chain``, ``start`` (cold / warm / carried),
        ``message`` and, with ``maps_dir``, ``map``. ``attrs`` holds ``vary``,
        ``total_weight``, ``scenario``, ``objective`` and ``coverage_s``.

    Raises
    ------
    ValidationError
        For an unknown parameter or an invalid value (all listed at once), or a
        phased scenario (a sweep plans one period).
    HzLogisticsError
        When a Dask cluster loses the sweep's tasks more often than that.

    Examples
    --------
    >>> from hzlogistics.scenario import Scenario
    >>> table = sweep(Scenario(countries=["SG"]),
    ...               {"area_budget": "1000:3000:1000"})  # doctest: +SKIP
    >>> table[["area_budget_m2", "covered_share"]]  # doctest: +SKIP
    """
    # (long only for its docstring: the body reads the stages in order)
    if scenario.phasing is not None:
        raise ValidationError(f"scenario '{scenario.name}': a sweep plans one period, and "
                              "this scenario is a roll-out over several years ([phasing]); "
                              "plan it with `hzlogistics plan`, or sweep it without [phasing]")
    values = normalize_vary(vary)
    points, chain_list = plan_points(values, warm_start=warm_start, chains=chains)
    scenarios = point_scenarios(scenario, points)
    retries = int(retries)
    if client is not None and workers_per_solve is None:
        workers_per_solve = 1
    logger.info("sweep of %d points in %d chains (%s)", len(points), len(chain_list),
                "in this process" if client is None else "on Dask")
    map_fn: Callable[..., Any] = map if client is None else dask_map(client, retries=retries)
    t0 = time.perf_counter()
    inputs = load_inputs(scenario)
    group_values: dict[int, dict[str, Any]] = {}
    for p in points:
        group_values.setdefault(p.group, {k: v for k, v in p.values.items()
                                          if SWEEP_PARAMETERS[k].coverage})
    coverages: dict[int, Any] = {}
    for g, gvals in group_values.items():
        logger.info("sweep: building coverage %d/%d %s", g + 1, len(group_values), gvals)
        coverages[g] = build_scenario_coverage(apply_values(scenario, gvals), inputs,
                                               progress=progress, map_fn=map_fn)
    arrays = {g: CoverageArrays(cover=sp.csr_matrix(c.cover),
                                travel_time_h=None if c.travel_time_h is None
                                else sp.csr_matrix(c.travel_time_h))
              for g, c in coverages.items()}
    coverage_s = time.perf_counter() - t0
    if client is None:
        outcomes = run_local(inputs, arrays, points, chain_list, scenarios,
                              warm_start=warm_start, workers=workers_per_solve,
                              progress=progress, stop=stop)
    else:
        outcomes = run_dask(client, inputs, arrays, points, chain_list, scenarios,
                             warm_start=warm_start, workers=workers_per_solve, retries=retries,
                             progress=progress, stop=stop)
    table = _table(points, outcomes, values)
    if maps_dir is not None:
        table["map"] = _write_maps(maps_dir, scenario, scenarios, points, outcomes, inputs,
                                   arrays, coverages)
    table.attrs.update({
        "vary": list(values), "scenario": scenario.name, "objective": scenario.objective,
        "total_weight": float(inputs.demand["weight"].astype(float).sum()),
        "coverage_s": coverage_s,
    })
    return table


def point_scenarios(scenario: Scenario, points: list[SweepPoint]) -> list[Scenario]:
    """The scenario of every point, checked as a whole as a scenario file is.

    Each value was checked on its own by :func:`~hzlogistics.sweep.values.normalize_vary`;
    this checks the rules between keys (``count_max >= count_min``, ...).

    Raises
    ------
    ValidationError
        Listing the problems of the base scenario, then those of each point.
    """
    validate_scenario(scenario)
    scenarios = [apply_values(scenario, p.values) for p in points]
    problems: list[str] = []
    for p, sc in zip(points, scenarios, strict=True):
        label = ", ".join(f"{k}={display_value(v)}" for k, v in p.values.items())
        problems += [f"--vary point {p.index} ({label}): {name}: {message}"
                     for name, message in scenario_problems(sc)]
    if problems:
        raise ValidationError(problems)
    return scenarios


def run_local(inputs: Inputs, arrays: dict[int, CoverageArrays], points: list[SweepPoint],
               chain_list: list[list[int]], scenarios: list[Scenario], *, warm_start: bool,
               workers: int | None, progress: bool,
               stop: threading.Event | None) -> list[PointOutcome]:
    from tqdm.auto import tqdm

    outcomes = [PointOutcome(None, ran=False) for _ in points]
    with tqdm(total=len(points), desc="sweep", unit="point", disable=not progress) as bar:
        for chain in chain_list:
            previous = None
            for i in chain:
                if stop is not None and stop.is_set():
                    return outcomes
                out = solve_point(inputs, arrays[points[i].group], scenarios[i],
                                  previous if warm_start else None, workers=workers, stop=stop)
                outcomes[i] = out
                previous = out  # as on Dask: after a point without a plan, the next starts cold
                log_point(points[i], out)
                bar.update(1)
    return outcomes


#: Columns of the sweep table besides the varied parameters (``map`` only when
#: maps are drawn); ``--x`` and ``--y`` are checked against them before solving.
RESULT_COLUMNS: tuple[str, ...] = (
    "point", "status", "objective", "bound", "gap", "covered_weight", "covered_share",
    "bound_share", "area_m2", "n_sites", "rent_usd_year", "wall_s", "coverage_group", "chain",
    "start", "message", "map",
)


def _table(points: list[SweepPoint], outcomes: list[PointOutcome],
           values: Mapping[str, Any]) -> pd.DataFrame:
    rows = []
    for p, out in zip(points, outcomes, strict=True):
        row: dict[str, Any] = {"point": p.index}
        row.update({k: display_value(p.values[k]) for k in values})
        r = out.result
        solved = r is not None and r.has_solution
        total = out.total_weight
        covered = float(sp.csr_matrix(r.served).sum()) if solved and r is not None else np.nan
        area = np.asarray(r.area_m2, dtype=float) if solved and r is not None else None
        bound = float(r.bound) if r is not None else np.nan
        row.update({
            "status": r.status if r is not None else ("error" if out.ran else "not run"),
            "objective": float(r.objective) if solved and r is not None else np.nan,
            "bound": bound,
            "gap": float(r.gap) if solved and r is not None else np.nan,
            "covered_weight": covered,
            "covered_share": covered / total if total > 0 else np.nan,
            "bound_share": bound / total if total > 0 else np.nan,
            "area_m2": float(area.sum()) if area is not None else np.nan,
            "n_sites": int((area > 0).sum()) if area is not None else 0,
            "rent_usd_year": out.rent_usd_year,
            "wall_s": out.wall_s,
            "coverage_group": p.group,
            "chain": p.chain,
            "start": out.start,
            "message": out.message,
        })
        rows.append(row)
    return pd.DataFrame(rows)


def _write_maps(maps_dir: str | Path, scenario: Scenario, scenarios: list[Scenario],
                points: list[SweepPoint], outcomes: list[PointOutcome], inputs: Inputs,
                arrays: dict[int, CoverageArrays], coverages: dict[int, Any]) -> list[str | None]:

    out_dir = Path(maps_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[str | None] = []
    for p, sc, out in zip(points, scenarios, outcomes, strict=True):
        r = out.result
        if r is None or not r.has_solution:
            paths.append(None)
            continue
        problem = build_problem(sc, inputs, arrays[p.group])  # type: ignore[arg-type]
        label = ", ".join(f"{k} {display_value(v)}" for k, v in p.values.items())
        plan = make_plan(r, problem, inputs.demand, inputs.sites, inputs.countries,
                         coverage=coverages[p.group], name=f"{scenario.name}-p{p.index:03d}",
                         title=f"{scenario.title} ({label})", scenario=sc)
        path = out_dir / f"{scenario.name}-p{p.index:03d}.html"
        plan.to_map(path)
        paths.append(path.name)
    return paths
