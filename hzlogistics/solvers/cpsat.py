"""The one way into CP-SAT: solvers with the project's parameters, and the site model.

:func:`cpsat_solver` creates a ``CpSolver`` with the parameters every model
here uses (time limit, seed, workers, optional deterministic time, gap and
presolve setting; Ctrl-C is never taken over: the caller stops a search
through its stop event). :func:`solve_model` runs a model with such a solver
and names the outcome; :func:`solve_cpsat` runs one under the solve contract
of :class:`~hzlogistics.solvers.problem.SolveOptions` (progress log, stop
event). :func:`site_model` states the site-side constraints as a CP-SAT model
and :func:`feasible_plan_cpsat` finds a plan meeting them when the greedy
cannot; :func:`cover_rows` and :func:`flow_rows` add the coverage objective
to that model, without and with capacity.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model

from hzlogistics._errors import SolverError
from hzlogistics.solvers.capacity import Capacity
from hzlogistics.solvers.problem import SolveOptions
from hzlogistics.solvers.sites import SiteTable
from hzlogistics.solvers.track import watch_stop

logger = logging.getLogger(__name__)


@dataclass
class CpSatOutcome:
    """What a CP-SAT run produced.

    Attributes
    ----------
    status
        ``"optimal"``, ``"feasible"``, ``"interrupted"``, ``"infeasible"``,
        ``"unknown"`` (limit hit with no solution) or ``"error"``.
    objective, bound
        In the model's own (scaled, integer) units; ``nan`` when absent.
    wall_s
        Wall time of the solve.
    log
        ``[(elapsed_s, incumbent, bound), ...]`` in model units.
    solver
        The solver, from which values of the best solution can be read.
    """

    status: str
    objective: float
    bound: float
    wall_s: float
    solver: cp_model.CpSolver
    log: list[tuple[float, float, float]] = field(default_factory=list)


def cpsat_solver(
    *,
    time_limit_s: float,
    seed: int = 0,
    workers: int = 1,
    gap: float | None = None,
    deterministic_time: float | None = None,
    presolve: bool | None = None,
    log: bool = False,
    extra_params: Mapping[str, object] | None = None,
) -> cp_model.CpSolver:
    """A CP-SAT solver with the project's parameters.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit (at least 0.01 s).
    seed, workers
        Random seed and number of search workers.
    gap
        Relative gap at which the search stops (``None``: CP-SAT's default).
    deterministic_time
        Limit in CP-SAT's deterministic time units, for repeatable sub-solves.
    presolve
        ``False`` turns presolve off (it turns covering rows into clauses and
        loses their LP strength); ``None`` keeps CP-SAT's default.
    log
        Whether CP-SAT logs its search.
    extra_params
        Further CP-SAT parameters by name.

    Returns
    -------
    ortools.sat.python.cp_model.CpSolver
        The solver; Ctrl-C belongs to the caller, never to CP-SAT.
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, float(time_limit_s))
    p.random_seed = int(seed)
    p.num_workers = int(workers)
    if gap is not None:
        p.relative_gap_limit = float(gap)
    if deterministic_time is not None:
        p.max_deterministic_time = float(deterministic_time)
    if presolve is not None:
        p.cp_model_presolve = bool(presolve)
    if log:
        p.log_search_progress = True
    # Ctrl-C belongs to the caller, which stops the search through its stop event.
    p.catch_sigint_signal = False
    for name, value in (extra_params or {}).items():
        setattr(p, name, value)
    return solver


#: Outcome names of :func:`solve_model` by CP-SAT status.
STATUS_NAMES = {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible",
                cp_model.INFEASIBLE: "infeasible", cp_model.UNKNOWN: "unknown"}


def solve_model(model: cp_model.CpModel, **params: object) -> tuple[str, cp_model.CpSolver]:
    """Solve ``model`` with :func:`cpsat_solver` (``params`` are its keywords).

    Returns
    -------
    status : str
        ``"optimal"``, ``"feasible"``, ``"infeasible"``, ``"unknown"`` (no
        solution within the limits) or ``"error"``.
    solver : ortools.sat.python.cp_model.CpSolver
        The solver, from which the values and the bound are read.

    Examples
    --------
    >>> from ortools.sat.python import cp_model
    >>> m = cp_model.CpModel()
    >>> x = m.new_int_var(0, 3, "x")
    >>> m.maximize(x)
    >>> status, solver = solve_model(m, time_limit_s=5)
    >>> status, solver.value(x)
    ('optimal', 3)
    """
    solver = cpsat_solver(**params)  # type: ignore[arg-type]
    try:
        code = solver.solve(model)
    except Exception as exc:  # pragma: no cover - engine failure
        raise SolverError(f"CP-SAT failed: {exc}") from exc
    return STATUS_NAMES.get(code, "error"), solver


class _Watcher(cp_model.CpSolverSolutionCallback):
    def __init__(self, options: SolveOptions, log: list[tuple[float, float, float]],
                 t0: float, scale: float,
                 on_solution: Callable[[cp_model.CpSolverSolutionCallback], None] | None
                 ) -> None:
        super().__init__()
        self._options = options
        self._log = log
        self._t0 = t0
        self._scale = scale
        self._on_solution = on_solution
        self.bound = float("nan")

    def on_solution_callback(self) -> None:
        t = time.perf_counter() - self._t0
        obj = self.ObjectiveValue() / self._scale
        bnd = self.BestObjectiveBound() / self._scale
        self.bound = bnd
        self._log.append((t, obj, bnd))
        if callable(self._options.progress):
            self._options.progress(t, obj, bnd)
        if self._on_solution is not None:
            self._on_solution(self)


def solve_cpsat(
    model: cp_model.CpModel,
    options: SolveOptions,
    *,
    scale: float = 1.0,
    time_limit_s: float | None = None,
    extra_params: dict[str, object] | None = None,
    on_bound: Callable[[float, float], None] | None = None,
    on_solution: Callable[[cp_model.CpSolverSolutionCallback], None] | None = None,
) -> CpSatOutcome:
    """Solve ``model`` with CP-SAT, honouring ``options``.

    Parameters
    ----------
    model
        The CP-SAT model, objective set.
    options
        Time limit, gap target, seed, workers, progress callback and stop event.
    scale
        Factor by which objective coefficients were multiplied to make them
        integer; values in the log and the outcome are divided by it.
    time_limit_s
        Overrides ``options.time_limit_s`` (for a solve that is one stage of several).
    extra_params
        CP-SAT parameters to set by name (e.g. ``{"cp_model_presolve": False}``).
    on_bound
        Called with ``(elapsed_s, bound)`` when CP-SAT improves its bound.
    on_solution
        Called with the solution callback at each solution CP-SAT finds (its
        ``value`` reads the variables), in the solver's thread.

    Returns
    -------
    CpSatOutcome
    """
    solver = cpsat_solver(
        time_limit_s=time_limit_s if time_limit_s is not None else options.time_limit_s,
        seed=options.seed, workers=options.workers or max(1, os.cpu_count() or 1),
        gap=options.gap, log=bool(options.log), extra_params=extra_params)
    log: list[tuple[float, float, float]] = []
    t0 = time.perf_counter()
    watcher = _Watcher(options, log, t0, scale, on_solution)
    if on_bound is not None:
        solver.best_bound_callback = lambda b: on_bound(time.perf_counter() - t0, b / scale)

    interrupted = threading.Event()

    def interrupt() -> None:
        interrupted.set()
        solver.stop_search()

    try:
        with watch_stop(options.stop, interrupt):
            code = solver.solve(model, watcher)
    except Exception as exc:  # pragma: no cover - engine failure
        raise SolverError(f"CP-SAT failed: {exc}") from exc
    wall = time.perf_counter() - t0
    name = solver.status_name(code)
    has_solution = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    obj = solver.objective_value / scale if has_solution else float("nan")
    bnd = solver.best_objective_bound / scale if has_solution else float("nan")
    if code == cp_model.OPTIMAL:
        status = "optimal"
    elif code == cp_model.FEASIBLE:
        status = "interrupted" if interrupted.is_set() else "feasible"
    elif code == cp_model.INFEASIBLE:
        status = "infeasible"
    elif code == cp_model.UNKNOWN:
        status = "interrupted" if interrupted.is_set() else "unknown"
    else:
        status = "error"
    if has_solution:
        log.append((wall, obj, bnd))
    logger.debug("CP-SAT %s in %.2fs: objective %s bound %s", name, wall, obj, bnd)
    return CpSatOutcome(status=status, objective=obj, bound=bnd, wall_s=wall,
                        solver=solver, log=log)


def feasible_plan_cpsat(
    table: SiteTable,
    score: np.ndarray | None = None,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    workers: int = 1,
) -> np.ndarray | None:
    """A plan meeting every site-side constraint, found by CP-SAT.

    Minimizes the total area, then prefers sites of high ``score`` (each site
    opened at one of its allowed areas).

    Parameters
    ----------
    table
        The site-side constraints.
    score
        Optional ``(n_sites,)`` preference (e.g. the demand a site covers).
    time_limit_s, seed, workers
        CP-SAT limits.

    Returns
    -------
    numpy.ndarray or None
        ``(n_sites,)`` areas, or ``None`` when none was found in time.
    """
    model, y, opt_site, opt_area = site_model(table)
    area_unit = _area_unit(opt_area)
    area_int = np.round(opt_area * area_unit).astype(np.int64)
    s = np.zeros(table.n_sites) if score is None else np.asarray(score, dtype=float)
    s_int = np.round(1000 * s / max(float(np.abs(s).max(initial=0.0)), 1e-12)).astype(np.int64)
    big = int(s_int.sum()) + 1 if s_int.size else 1
    model.minimize(cp_model.LinearExpr.weighted_sum(
        y, [int(big * a - s_int[i]) for i, a in zip(opt_site, area_int, strict=True)]))
    status, solver = solve_model(model, time_limit_s=time_limit_s, seed=seed, workers=workers)
    if status not in ("optimal", "feasible"):
        return None
    area = np.zeros(table.n_sites)
    for v, i, a in zip(y, opt_site, opt_area, strict=True):
        if solver.boolean_value(v):
            area[i] = a
    return area


def _area_unit(areas: np.ndarray) -> int:
    """Smallest power of ten that makes every area an integer (at most 1e4)."""
    for unit in (1, 10, 100, 1000, 10_000):
        x = np.asarray(areas, dtype=float) * unit
        if np.all(np.abs(x - np.round(x)) < 1e-6):
            return unit
    return 10_000


def site_model(
    table: SiteTable,
    *,
    enforce: dict[str, cp_model.IntVar] | None = None,
) -> tuple[cp_model.CpModel, list[cp_model.IntVar], np.ndarray, np.ndarray]:
    """A CP-SAT model of the site-side constraints (no objective).

    One Boolean per allowed (site, area) option; at most one per site (exactly
    one for forced sites); the count, area, group and rent constraints as
    linear rows. Areas are scaled to integers by the smallest power of ten
    that makes them exact; rents are rounded up to cents and the rent cap
    down, so a plan the model accepts always meets the real cap.

    Parameters
    ----------
    table
        The site-side constraints.
    enforce
        Optional dict, filled with ``{constraint name: Boolean literal}``; when
        given, every constraint is only enforced if its literal is true (for
        infeasibility analysis with assumptions).

    Returns
    -------
    model : ortools.sat.python.cp_model.CpModel
    y : list
        The option Booleans.
    opt_site, opt_area : numpy.ndarray
        Site and area of every option.
    """
    model = cp_model.CpModel()
    opt_site, opt_area = table.option_arrays()
    unit = _area_unit(opt_area)
    a_int = np.round(opt_area * unit).astype(np.int64)
    y = [model.new_bool_var(f"y{i}_{a:g}") for i, a in zip(opt_site, opt_area, strict=True)]
    by_site: list[list[int]] = [[] for _ in range(table.n_sites)]
    for k, i in enumerate(opt_site):
        by_site[i].append(k)

    def add(name: str, ct: cp_model.Constraint) -> None:
        if enforce is not None:
            lit = enforce.get(name)
            if lit is None:
                lit = model.new_bool_var(name)
                enforce[name] = lit
            ct.only_enforce_if(lit)

    for i in range(table.n_sites):
        ks = by_site[i]
        if table.forced[i]:
            if ks:
                add("keep existing sites", model.add(sum(y[k] for k in ks) == 1))
            else:
                add("keep existing sites", model.add_bool_or([]))
        elif len(ks) > 1:
            model.add_at_most_one(y[k] for k in ks)
    count = cp_model.LinearExpr.sum(y)
    if table.count_min > 0:
        add("count_min", model.add(count >= table.count_min))
    if table.count_max < table.n_sites:
        add("count_max", model.add(count <= table.count_max))
    area = cp_model.LinearExpr.weighted_sum(y, [int(a) for a in a_int])
    if np.isfinite(table.area_budget_m2):
        add("area budget", model.add(area <= int(np.floor(table.area_budget_m2 * unit + 1e-6))))
    ks_of_group: list[list[int]] = [[] for _ in range(table.n_groups)]
    for k, i in enumerate(opt_site):
        ks_of_group[table.group[i]].append(k)
    for g in range(table.n_groups):
        ks = ks_of_group[g]
        name = table.group_names[g]
        cnt = cp_model.LinearExpr.sum([y[k] for k in ks])
        ar = cp_model.LinearExpr.weighted_sum([y[k] for k in ks], [int(a_int[k]) for k in ks])
        if table.group_count_min[g] > 0:
            add(f"{name} count_min", model.add(cnt >= int(table.group_count_min[g])))
        if table.group_count_max[g] < len(ks):
            add(f"{name} count_max", model.add(cnt <= int(table.group_count_max[g])))
        if table.group_area_min_m2[g] > 0:
            add(f"{name} area_min",
                model.add(ar >= int(np.ceil(table.group_area_min_m2[g] * unit - 1e-6))))
        if np.isfinite(table.group_area_max_m2[g]):
            add(f"{name} area_max",
                model.add(ar <= int(np.floor(table.group_area_max_m2[g] * unit + 1e-6))))
    if np.isfinite(table.rent_cap_usd_year):
        cents = np.ceil(opt_area * table.rent_usd_m2_year[opt_site] * 100 - 1e-6).astype(np.int64)
        rent = cp_model.LinearExpr.weighted_sum(y, [int(c) for c in cents])
        add("rent cap", model.add(rent <= int(np.floor(table.rent_cap_usd_year * 100 + 1e-6))))
    return model, y, opt_site, opt_area


def cover_rows(model: cp_model.CpModel, y: list[cp_model.IntVar], by_site: list[list[int]],
               cover: sp.csr_matrix, w_int: np.ndarray, v_int: np.ndarray,
               start: np.ndarray) -> None:
    """Coverage without capacity on a :func:`site_model`: the rows, the objective, the hint.

    ``z_c <= sum of the options covering c`` for every class ``c``, the
    objective ``sum_c w_int[c] v_int[c] z_c``, and the classes that the plan
    ``start`` (areas of the sites) covers as the hint.

    Parameters
    ----------
    model, y
        The site model and its option variables.
    by_site
        The options of each site (indices into ``y``).
    cover
        ``(n_sites, n_classes)`` coverage.
    w_int, v_int
        ``(n_classes,)`` integer weights and values.
    start
        The plan to hint.
    """
    m = cover.shape[1]
    csc = cover.tocsc()
    csc.sort_indices()
    z = [model.new_bool_var(f"z{c}") for c in range(m)]
    for c in range(m):
        sites = csc.indices[csc.indptr[c]:csc.indptr[c + 1]]
        lits = [y[o] for i in sites for o in by_site[i]]
        model.add(cp_model.LinearExpr.sum(lits) >= z[c])
    coef = [int(a) * int(b) for a, b in zip(w_int, v_int, strict=True)]
    model.maximize(cp_model.LinearExpr.weighted_sum(z, coef))
    hint_served = np.asarray(cover[start > 0].sum(axis=0)).ravel() > 0
    for c in range(m):
        model.add_hint(z[c], bool(hint_served[c]))


def flow_rows(model: cp_model.CpModel, y: list[cp_model.IntVar], by_site: list[list[int]],
              cover: sp.csr_matrix, opt_site: np.ndarray, opt_area: np.ndarray, k: Capacity,
              w_int: np.ndarray, v_int: np.ndarray, weight_unit: float,
              start_flows: sp.csr_matrix) -> None:
    """Coverage with capacity on a :func:`site_model`: the rows, the objective, the hint.

    An integer flow per covered pair, within each site's capacity and each
    class's weight; the objective ``sum v_int[c] x_ic``; the flows of a plan
    as the hint.

    Parameters
    ----------
    model, y
        The site model and its option variables.
    by_site
        The options of each site (indices into ``y``).
    cover
        ``(n_sites, n_classes)`` coverage, sorted indices.
    opt_site, opt_area
        Site and area of each option.
    k
        Site capacities.
    w_int, v_int
        ``(n_classes,)`` integer weights (``weight_unit`` per parcel/day) and values.
    weight_unit
        Integer units per parcel/day.
    start_flows
        ``(n_sites, n_classes)`` parcels/day of a plan, the hint.
    """
    n, m = cover.shape
    pair_class = cover.indices
    x = [model.new_int_var(0, int(w_int[c]), f"x{e}") for e, c in enumerate(pair_class)]
    cap_f = k.options(opt_site, opt_area)
    total = int(w_int.sum())
    cap = np.where(np.isfinite(cap_f),
                   np.floor(np.minimum(cap_f, total / weight_unit + 1.0)
                            * weight_unit + 1e-9),
                   -1).astype(np.int64)
    for i in range(n):
        es = range(cover.indptr[i], cover.indptr[i + 1])
        if not len(es):
            continue
        opts = by_site[i]
        if opts and cap[opts[0]] < 0:  # no capacity limit: x_ic <= w_c o_i
            open_i = cp_model.LinearExpr.sum([y[o] for o in opts])
            for e in es:
                model.add(x[e] <= int(w_int[pair_class[e]]) * open_i)
            continue
        model.add(cp_model.LinearExpr.sum([x[e] for e in es])
                  <= cp_model.LinearExpr.weighted_sum([y[o] for o in opts],
                                                      [int(cap[o]) for o in opts]))
    pair_of_csc = sp.csr_matrix((np.arange(cover.nnz) + 1, cover.indices, cover.indptr),
                                shape=cover.shape).tocsc()
    pair_of_csc.sort_indices()
    for c in range(m):
        es = pair_of_csc.data[pair_of_csc.indptr[c]:pair_of_csc.indptr[c + 1]] - 1
        if es.size > 1:
            model.add(cp_model.LinearExpr.sum([x[e] for e in es]) <= int(w_int[c]))
    model.maximize(cp_model.LinearExpr.weighted_sum(x, [int(v_int[c]) for c in pair_class]))
    f_int = np.zeros(cover.nnz, dtype=np.int64)
    fl = sp.csr_matrix(start_flows)
    for i in range(n):
        cols = fl.indices[fl.indptr[i]:fl.indptr[i + 1]]
        vals = fl.data[fl.indptr[i]:fl.indptr[i + 1]]
        lo, hi = cover.indptr[i], cover.indptr[i + 1]
        pos = lo + np.searchsorted(cover.indices[lo:hi], cols)
        f_int[pos] = np.round(vals * weight_unit).astype(np.int64)
    for e in range(cover.nnz):
        model.add_hint(x[e], int(f_int[e]))
