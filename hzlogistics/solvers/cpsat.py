"""Run a CP-SAT model under the solve contract: limits, seed, stop, incumbent log."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from hzlogistics._errors import SolverError
from hzlogistics.solvers.problem import SolveOptions

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


class _Watcher(cp_model.CpSolverSolutionCallback):
    def __init__(self, options: SolveOptions, log: list[tuple[float, float, float]],
                 t0: float, scale: float) -> None:
        super().__init__()
        self._options = options
        self._log = log
        self._t0 = t0
        self._scale = scale
        self.bound = float("nan")

    def on_solution_callback(self) -> None:
        t = time.perf_counter() - self._t0
        obj = self.ObjectiveValue() / self._scale
        bnd = self.BestObjectiveBound() / self._scale
        self.bound = bnd
        self._log.append((t, obj, bnd))
        if callable(self._options.progress):
            self._options.progress(t, obj, bnd)


def solve_cpsat(
    model: cp_model.CpModel,
    options: SolveOptions,
    *,
    scale: float = 1.0,
    time_limit_s: float | None = None,
    extra_params: dict[str, object] | None = None,
    on_bound: Callable[[float, float], None] | None = None,
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

    Returns
    -------
    CpSatOutcome
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, float(time_limit_s if time_limit_s is not None
                                           else options.time_limit_s))
    p.relative_gap_limit = float(options.gap)
    p.random_seed = int(options.seed)
    p.num_workers = int(options.workers or max(1, os.cpu_count() or 1))
    p.log_search_progress = bool(options.log)
    # Ctrl-C belongs to the caller, which stops the search through options.stop.
    p.catch_sigint_signal = False
    for name, value in (extra_params or {}).items():
        setattr(p, name, value)
    log: list[tuple[float, float, float]] = []
    t0 = time.perf_counter()
    watcher = _Watcher(options, log, t0, scale)
    if on_bound is not None:
        solver.best_bound_callback = lambda b: on_bound(time.perf_counter() - t0, b / scale)

    interrupted = threading.Event()
    done = threading.Event()
    stop = options.stop
    thread = None
    if stop is not None and hasattr(stop, "wait"):
        def _watch() -> None:
            while not done.is_set():
                if stop.wait(0.05):  # type: ignore[attr-defined]
                    interrupted.set()
                    solver.stop_search()
                    return
        thread = threading.Thread(target=_watch, daemon=True)
        thread.start()
    try:
        code = solver.solve(model, watcher)
    except Exception as exc:  # pragma: no cover - engine failure
        raise SolverError(f"CP-SAT failed: {exc}") from exc
    finally:
        done.set()
        if thread is not None:
            thread.join()
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
