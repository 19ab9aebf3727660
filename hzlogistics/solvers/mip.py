"""The one mixed-integer program runner: arrays in, HiGHS through OR-Tools MathOpt, a status out.

A :class:`Mip` gathers a minimization MIP (or LP) as numpy arrays: variables
in blocks with their bounds, integrality and objective; rows in blocks with
their limits; coefficients as ``(row, column, value)`` triplets. :meth:`Mip.solve`
turns the arrays into a MathOpt ``ModelProto`` in one pass (far faster than
building expressions variable by variable) and solves it with HiGHS under a
time limit, a gap target, a seed, an optional warm start (hint) and an
optional stop event or interrupter, reading the incumbent and bound from
HiGHS's log as it runs (:func:`parse_progress`). The result is a
:class:`MipOutcome`. :func:`solve_integer_program` solves a
:class:`~hzlogistics.solvers.lp.LinearProgram` with integer columns by HiGHS's
own Python interface instead, which a :class:`MipInterrupter` can stop from
another thread (used where HiGHS races CP-SAT).

This module sees only arrays and :class:`~hzlogistics.solvers.problem.SolveOptions`.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, TypeGuard

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import SolverError, ValidationError
from hzlogistics.solvers.lp import LinearProgram
from hzlogistics.solvers.problem import SolveOptions, relative_gap
from hzlogistics.solvers.track import stop_requested

logger = logging.getLogger(__name__)

MipStatus = Literal["optimal", "feasible", "interrupted", "infeasible", "unknown", "error"]
#: The engines :func:`solve_integer_program` runs.
Engine = Literal["highs", "scip"]


@dataclass
class MipOutcome:
    """What a MIP run produced, in the model's own units.

    Attributes
    ----------
    status
        ``"optimal"`` (within the gap target), ``"feasible"`` (a solution, time
        ran out), ``"interrupted"`` (the stop event was set), ``"infeasible"``,
        ``"unknown"`` (no solution and no proof) or ``"error"``.
    objective
        Objective of the solution found (offset included; NaN without one).
    bound
        Proven lower bound (``-inf`` when none is known).
    values
        ``(n_vars,)`` values of the solution, or ``None``.
    wall_s
        Seconds the solve took.
    engine
        ``"highs"`` or ``"scip"``.
    detail
        The engine's own words on why it stopped.
    """

    status: MipStatus
    objective: float
    bound: float
    values: np.ndarray | None
    wall_s: float
    engine: str
    detail: str = ""


def _num(token: str) -> float:
    """A number of the HiGHS log (``inf``, ``Large`` and percentages included)."""
    t = token.strip().lower().rstrip("%")
    if t in ("inf", "+inf", "infinity", "large"):
        return math.inf
    if t in ("-inf", "-infinity"):
        return -math.inf
    return float(t)


def parse_progress(line: str) -> tuple[float, float] | None:
    """``(incumbent, bound)`` from one progress line of the HiGHS MIP log.

    Parameters
    ----------
    line
        One line of the log.

    Returns
    -------
    tuple of float or None
        ``None`` for a line that is not a progress line.

    Examples
    --------
    >>> parse_progress(" H       0       0         0   0.00%   12.5   20   37.50%"
    ...                "        0      0      0        12     0.1s")
    (20.0, 12.5)
    >>> parse_progress("Presolving model") is None
    True
    """
    tok = line.split()  # ... BestBound BestSol Gap Cuts InLp Confl. LpIters Time
    if len(tok) < 11 or not tok[-1].endswith("s"):
        return None
    try:
        float(tok[-1][:-1])
        return _num(tok[-7]), _num(tok[-8])
    except ValueError:
        return None


def _highs_parameters(options: SolveOptions, time_limit_s: float, integral: bool,
                      highs_options: dict[str, object] | None) -> Any:
    """MathOpt parameters: time limit, gap target, seed and raw HiGHS options."""
    from ortools.math_opt.python import mathopt

    params = mathopt.SolveParameters(
        time_limit=timedelta(seconds=max(0.05, float(time_limit_s))),
        relative_gap_tolerance=float(options.gap),
        # with an integral objective a plan better by less than 1 does not exist
        absolute_gap_tolerance=(1.0 - 1e-6) if integral else 1e-6,
        random_seed=int(options.seed) % 2_147_483_647,
    )
    for key, value in (highs_options or {}).items():
        if isinstance(value, bool):
            params.highs.bool_options[key] = value
        elif isinstance(value, int):
            params.highs.int_options[key] = value
        elif isinstance(value, float):
            params.highs.double_options[key] = value
        else:
            params.highs.string_options[key] = str(value)
    return params


def _status(reason: int, has_values: bool, stopped: bool) -> MipStatus:
    """Our status for a MathOpt termination reason."""
    from ortools.math_opt import result_pb2 as R

    status: MipStatus
    if reason == R.TERMINATION_REASON_OPTIMAL:
        status = "optimal"
    elif reason == R.TERMINATION_REASON_FEASIBLE:
        status = "interrupted" if stopped else "feasible"
    elif reason == R.TERMINATION_REASON_NO_SOLUTION_FOUND:
        status = "interrupted" if stopped else "unknown"
    elif reason in (R.TERMINATION_REASON_INFEASIBLE,
                    R.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED):
        status = "infeasible"
    else:
        status = "error"
    if not has_values and status in ("optimal", "feasible"):
        status = "unknown"
    return status


class Mip:
    """A minimization MIP gathered as numpy arrays.

    Variables and rows are added in blocks and referred to by integer ids;
    coefficients are triplets (duplicates add up).

    Attributes
    ----------
    n_vars, n_rows
        Variables and rows so far.
    offset
        Constant added to the objective.

    Examples
    --------
    >>> import numpy as np
    >>> from hzlogistics.solvers.problem import SolveOptions
    >>> m = Mip()
    >>> x = m.add_vars(2, ub=3.0, integer=True, obj=[-1.0, -2.0])
    >>> _ = m.add_row(x, [1.0, 1.0], ub=4.0)
    >>> out = m.solve(SolveOptions(time_limit_s=10, gap=0), time_limit_s=10)
    >>> out.status, out.objective, out.values.tolist()
    ('optimal', -7.0, [1.0, 3.0])
    """

    def __init__(self) -> None:
        self._lb: list[np.ndarray] = []
        self._ub: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._obj: list[np.ndarray] = []
        self._rlb: list[np.ndarray] = []
        self._rub: list[np.ndarray] = []
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._extra_obj: list[tuple[np.ndarray, np.ndarray]] = []
        self.n_vars = 0
        self.n_rows = 0
        self.offset = 0.0

    def add_vars(self, n: int, *, lb: object = 0.0, ub: object = 1.0, integer: object = False,
                 obj: object = 0.0) -> np.ndarray:
        """Add ``n`` variables (bounds, integrality, objective: scalars or ``(n,)``); ids."""
        n = int(n)
        self._lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)))
        self._ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)))
        self._int.append(np.broadcast_to(np.asarray(integer, dtype=bool), (n,)))
        self._obj.append(np.broadcast_to(np.asarray(obj, dtype=float), (n,)))
        ids = np.arange(self.n_vars, self.n_vars + n, dtype=np.int64)
        self.n_vars += n
        return ids

    def add_rows(self, n: int, *, lb: object = -np.inf, ub: object = np.inf) -> np.ndarray:
        """Add ``n`` empty rows ``lb <= . <= ub``; their ids."""
        n = int(n)
        self._rlb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)))
        self._rub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)))
        ids = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        return ids

    def add_terms(self, rows: object, cols: object, vals: object) -> None:
        """Add coefficients ``vals`` at ``(rows, cols)`` (same length; ``vals`` may be a scalar)."""
        r = np.asarray(rows, dtype=np.int64).ravel()
        c = np.asarray(cols, dtype=np.int64).ravel()
        v = np.broadcast_to(np.asarray(vals, dtype=float), r.shape).ravel()
        if r.shape != c.shape:
            raise SolverError("internal: row and column arrays differ in length")
        self._r.append(r)
        self._c.append(c)
        self._v.append(v)

    def add_row(self, cols: object, vals: object, *, lb: float = -np.inf,
                ub: float = np.inf) -> int:
        """Add one row ``lb <= sum vals * x[cols] <= ub``; its id."""
        c = np.asarray(cols, dtype=np.int64).ravel()
        row = int(self.add_rows(1, lb=lb, ub=ub)[0])
        self.add_terms(np.full(c.size, row), c, vals)
        return row

    def add_matrix(self, a: sp.spmatrix, cols: np.ndarray, *, lb: np.ndarray,
                   ub: np.ndarray) -> np.ndarray:
        """Add the rows of ``a`` (its column ``k`` is variable ``cols[k]``); their ids."""
        coo = sp.coo_matrix(a)
        ids = self.add_rows(coo.shape[0], lb=lb, ub=ub)
        self.add_terms(ids[coo.row], np.asarray(cols, dtype=np.int64)[coo.col], coo.data)
        return ids

    def add_objective(self, cols: object, vals: object) -> None:
        """Add ``vals`` to the objective coefficients of ``cols``."""
        c = np.asarray(cols, dtype=np.int64).ravel()
        self._extra_obj.append((c, np.broadcast_to(np.asarray(vals, dtype=float), c.shape)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``lb, ub, integer, objective`` of every variable."""
        def cat(parts: list[np.ndarray], dt: type) -> np.ndarray:
            return np.concatenate(parts).astype(dt) if parts else np.zeros(0, dtype=dt)

        obj = cat(self._obj, float).copy()
        for c, v in self._extra_obj:
            np.add.at(obj, c, v)
        return cat(self._lb, float), cat(self._ub, float), cat(self._int, bool), obj

    def proto(self) -> Any:
        """The model as a MathOpt ``ModelProto``."""
        from ortools.math_opt import model_pb2

        lb, ub, integer, obj = self.arrays()
        mp = model_pb2.ModelProto()
        mp.variables.ids.extend(range(self.n_vars))
        mp.variables.lower_bounds.extend(lb.tolist())
        mp.variables.upper_bounds.extend(ub.tolist())
        mp.variables.integers.extend(integer.tolist())
        nz = np.flatnonzero(obj)
        mp.objective.maximize = False
        mp.objective.offset = float(self.offset)
        mp.objective.linear_coefficients.ids.extend(nz.tolist())
        mp.objective.linear_coefficients.values.extend(obj[nz].tolist())
        mp.linear_constraints.ids.extend(range(self.n_rows))
        if self.n_rows:
            mp.linear_constraints.lower_bounds.extend(np.concatenate(self._rlb).tolist())
            mp.linear_constraints.upper_bounds.extend(np.concatenate(self._rub).tolist())
        if self._r:
            a = sp.csr_matrix(
                (np.concatenate(self._v), (np.concatenate(self._r), np.concatenate(self._c))),
                shape=(self.n_rows, self.n_vars),
            )
            a.sum_duplicates()
            a.eliminate_zeros()
            a.sort_indices()
            rows = np.repeat(np.arange(self.n_rows, dtype=np.int64), np.diff(a.indptr))
            m = mp.linear_constraint_matrix
            m.row_ids.extend(rows.tolist())
            m.column_ids.extend(a.indices.tolist())
            m.coefficients.extend(a.data.tolist())
        return mp

    def solve(
        self,
        options: SolveOptions,
        *,
        time_limit_s: float,
        hint: tuple[np.ndarray, np.ndarray] | None = None,
        integral: bool = False,
        on_progress: Callable[[float, float], None] | None = None,
        highs_options: dict[str, object] | None = None,
        interrupter: Any | None = None,
    ) -> MipOutcome:
        """Solve with HiGHS through MathOpt.

        Parameters
        ----------
        options
            Gap target, seed, stop event and ``log`` (print HiGHS's log);
            ``options.time_limit_s`` is not used.
        time_limit_s
            Seconds for this solve, building the model included.
        hint
            ``(variable ids, values)`` of a warm start. When HiGHS fails with it,
            the model is solved again without it.
        integral
            The objective takes integer values on every solution: a gap below 1
            is then closed.
        on_progress
            Called as ``on_progress(incumbent, bound)`` on each progress line.
        highs_options
            Raw HiGHS options (``{"presolve": "off"}``, ...).
        interrupter
            An OR-Tools ``SolveInterrupter`` another thread may fire, handed to
            MathOpt. HiGHS through MathOpt (OR-Tools 9.x) does not watch it: the
            solve then ends at its time limit. A stop event in ``options`` is
            what returns at once.

        Returns
        -------
        MipOutcome
            HiGHS cannot be interrupted from Python: with a stop event, the solve
            runs in a worker thread and, once the event is set, this returns at
            once with status ``"interrupted"`` and no values (the abandoned solve
            ends by its own time limit).

        Raises
        ------
        SolverError
            When HiGHS fails without a warm start.
        """
        if stop_requested(options.stop):  # asked to stop before the start: nothing to run
            return MipOutcome(status="interrupted", objective=math.nan, bound=-math.inf,
                              values=None, wall_s=0.0, engine="highs")
        t_build = time.perf_counter()
        proto = self.proto()
        time_limit_s -= time.perf_counter() - t_build  # building counts against the limit
        params = _highs_parameters(options, time_limit_s, integral, highs_options)
        t0 = time.perf_counter()
        box = self._run(proto, params, hint, options, on_progress, interrupter)
        if "error" in box:
            if hint is not None and len(hint[0]):
                # HiGHS can fail on a warm start it cannot complete; the hint is only a help
                logger.info("HiGHS failed with the warm start (%s); solving without it",
                            box["error"])
                left = time_limit_s - (time.perf_counter() - t0)
                return self.solve(options, time_limit_s=max(left, 0.05), hint=None,
                                  integral=integral, on_progress=on_progress,
                                  highs_options=highs_options, interrupter=interrupter)
            raise SolverError(f"MathOpt/HiGHS failed: {box['error']}") from box["error"]
        wall = time.perf_counter() - t0
        if "result" not in box:
            return MipOutcome(status="interrupted", objective=math.nan, bound=box["bound"],
                              values=None, wall_s=wall, engine="highs")
        return self._outcome(box["result"], wall, stopped=bool(box["stopped"]))

    def _run(self, proto: Any, params: Any, hint: tuple[np.ndarray, np.ndarray] | None,
             options: SolveOptions, on_progress: Callable[[float, float], None] | None,
             interrupter: Any | None) -> dict[str, Any]:
        """Run HiGHS (in a worker thread when there is a stop event to watch).

        Returns ``{"result": ...}`` or ``{"error": ...}``, with ``"stopped"``
        (the event was set) and ``"bound"`` (the last bound logged); only
        ``"bound"`` when the solve was abandoned. A stop event also fires the
        interrupter, for a MathOpt engine that watches it.
        """
        from ortools.math_opt import callback_pb2, parameters_pb2
        from ortools.math_opt.core.python import solver as core
        from ortools.math_opt.python import mathopt
        from ortools.util.python.solve_interrupter import SolveInterrupter

        if interrupter is None:
            interrupter = SolveInterrupter()

        model_params = mathopt.ModelSolveParameters().to_proto()
        if hint is not None and len(hint[0]):
            h = model_params.solution_hints.add()
            order = np.argsort(hint[0])
            h.variable_values.ids.extend(np.asarray(hint[0])[order].tolist())
            h.variable_values.values.extend(np.asarray(hint[1], dtype=float)[order].tolist())
        stopped = threading.Event()
        box: dict[str, Any] = {"bound": -math.inf}

        def on_lines(lines: list[str]) -> None:
            if stopped.is_set():
                return
            for line in lines:
                if options.log:
                    print(line, file=sys.stdout)
                parsed = parse_progress(line)
                if parsed is not None:
                    box["bound"] = parsed[1]
                    if on_progress is not None:
                        on_progress(*parsed)

        def run() -> None:
            try:
                box["result"] = core.solve(
                    proto, mathopt.SolverType.HIGHS.value,
                    parameters_pb2.SolverInitializerProto(), params.to_proto(), model_params,
                    on_lines, callback_pb2.CallbackRegistrationProto(), None,
                    interrupter.pybind_interrupter)
            except Exception as exc:  # the engine reports a bad model or fails
                box["error"] = exc

        stop = options.stop
        wait = getattr(stop, "wait", None)
        if callable(wait):
            worker = threading.Thread(target=run, daemon=True, name="hzlogistics-highs")
            worker.start()
            while worker.is_alive():
                if wait(0.05):
                    stopped.set()
                    interrupter.interrupt()
                    break
                worker.join(0.0)
            if stopped.is_set() and worker.is_alive():
                return {"bound": box["bound"]}  # abandoned: it ends by its own time limit
            worker.join()
        else:
            run()
        box["stopped"] = stopped.is_set()
        return box

    def _outcome(self, res: Any, wall: float, *, stopped: bool) -> MipOutcome:
        """A :class:`MipOutcome` from a MathOpt ``SolveResultProto``."""
        term = res.termination
        values = None
        if res.solutions:
            ps = res.solutions[0].primal_solution
            if ps.feasibility_status == 2 and len(ps.variable_values.ids):  # FEASIBLE
                values = np.zeros(self.n_vars)
                values[np.asarray(ps.variable_values.ids, dtype=np.int64)] = \
                    np.asarray(ps.variable_values.values)
        status = _status(term.reason, values is not None, stopped)
        objective = float(term.objective_bounds.primal_bound) if values is not None else math.nan
        bound = float(term.objective_bounds.dual_bound)
        logger.debug("highs %s in %.2fs: objective %s bound %s (%s vars, %s rows)", status,
                     wall, objective, bound, self.n_vars, self.n_rows)
        return MipOutcome(status=status, objective=objective, bound=bound, values=values,
                          wall_s=wall, engine="highs", detail=term.detail)


_BANNER_LOCK = threading.Lock()
_banner_shown = False


def _new_highs() -> Any:
    """A ``highspy.Highs``; the first one of the process made with the C library's
    standard output shut, where HiGHS prints its banner (it prints it only once)."""
    import highspy

    global _banner_shown
    with _BANNER_LOCK:
        if _banner_shown:
            return highspy.Highs()
        _banner_shown = True
        sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no standard output to shut
            return highspy.Highs()
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                return highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)


class MipInterrupter:
    """Stops a :func:`solve_integer_program` run from another thread.

    :meth:`interrupt` cancels the HiGHS or SCIP solve running under it (HiGHS
    stops within its next node or simplex iterations, SCIP at its next check
    for a limit, within a strong branching or separation round too), or the
    next one before it starts. Safe to call from any thread, any number of
    times.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancel: Callable[[], object] | None = None
        self._fired = False

    @property
    def fired(self) -> bool:
        """Whether :meth:`interrupt` has been called."""
        return self._fired

    def interrupt(self) -> None:
        """Cancel the solve (now, or as soon as it starts)."""
        with self._lock:
            self._fired = True
            if self._cancel is not None:
                self._cancel()

    def _attach(self, cancel: Callable[[], object] | None) -> bool:
        """Cancel a running solve by ``cancel`` (``None``: none runs); False when already fired.

        Until it is detached, the solver ``cancel`` acts on must stay alive.
        """
        with self._lock:
            self._cancel = cancel
            return not self._fired


def solve_integer_program(lp: LinearProgram, integer: np.ndarray, *, time_limit_s: float,
                          gap: float = 0.0, seed: int = 0, hint: np.ndarray | None = None,
                          interrupter: MipInterrupter | None = None,
                          sub_mips: bool = True, engine: Engine = "highs",
                          cutoff: float | Callable[[float], float] | None = None,
                          gap_pruning: bool = True,
                          watch: Callable[[float, float], bool] | None = None) -> MipOutcome:
    """Maximize ``lp.c @ x`` over ``lp`` with the columns ``integer`` integral, by HiGHS or SCIP.

    HiGHS runs through its own Python interface (``highspy``), SCIP through
    PySCIPOpt; both release the GIL, so the solve can run in a thread beside
    CP-SAT, and both stop when ``interrupter`` fires (MathOpt's HiGHS runs on
    to its time limit, and its SCIP does not heed an interrupter cleanly).

    Parameters
    ----------
    lp
        The linear program (a maximization).
    integer
        ``(n_cols,)`` bool: which columns must take integer values.
    time_limit_s
        Solver time limit, seconds.
    gap
        Relative gap at which HiGHS stops.
    seed
        HiGHS's random seed.
    hint
        ``(n_cols,)`` values of a known solution, or ``None``.
    interrupter
        Fired from another thread, it ends the solve with status
        ``"interrupted"`` and the best solution found so far.
    sub_mips
        Whether HiGHS runs its sub-MIP heuristics (RINS, RENS, root reduced
        cost). Off, a solve whose plans come from elsewhere spends its time on
        the bound: they took 15 of the first 24 s of a 441-site covering core,
        and HiGHS does not heed an interrupt inside them. Off, SCIP runs without
        its primal heuristics.
    engine
        ``"highs"`` or ``"scip"``. On covering cores whose LP is far from
        integral SCIP's cuts and branching give a much tighter bound in the
        same time (:data:`hzlogistics.models.count_coverage.WHOLE_CORE_ENGINE`).
    cutoff
        SCIP only: an objective value already reached elsewhere (a plan of the
        caller's, perhaps raised by the gap target). Every node whose bound is
        at most ``cutoff`` is pruned, and only solutions above it are kept; the
        bound returned is at least ``cutoff``, and a solve that finds nothing
        above it ends with status ``"optimal"``, no values and ``bound ==
        cutoff``. With the gap target folded into it, the nodes that could only
        close the gap by less than the target are not explored: on two dense
        covering cores (441 and 463 sites) SCIP proved a 0.1 % gap in 59 s and
        56 s this way against 70 s and 76 s with the plan as a start and
        ``gap=1e-3``. With a cutoff SCIP also runs without conflict analysis.
        A function instead of a number gives the cutoff as it rises (a plan
        improved elsewhere while SCIP runs, or SCIP's own): after every LP
        and every node SCIP calls it with the best objective it has found
        itself (``-inf`` before one) and raises its limit to the value
        returned when that is higher (it is never lowered); the bound returned
        is then at least the last value taken, and SCIP's best solution is
        returned even when below it.
        Raising it during the solve cost nothing measurable: a 463-site core
        started at a cutoff 0.4 % lower and raised after its root node took
        46.1 s to prove, against 46.8 s from the final cutoff.
    gap_pruning
        HiGHS only. True: HiGHS is given the gap target, and with it prunes
        every node that could improve its plan by less than the target, so a
        start within the target of the optimum is rarely bettered. False: HiGHS
        runs with a zero gap, searching those nodes too, and is stopped (status
        ``"optimal"``) as soon as its own plan and bound are within ``gap``.
        On Argentina alone with capacity (the default scenario's settings at
        2,250 m² and 18 sites; 94 sites, 5,998 class pairs) HiGHS, started
        from the neighbourhood search's plan of 13,742.5 parcels/day, found no
        better one with pruning and ended the 60 s solve at a bound of
        13,769.5; without, it found 13,747.9 and met the 0.1 % target (bound
        13,761.4) 35 s into the solve.
    watch
        HiGHS only: called from HiGHS's thread each time HiGHS checks for an
        interrupt, with its best plan's value (``-inf`` before one) and its
        bound; returning True stops the solve (status ``"interrupted"``
        unless the gap target was met). For a caller that runs its own search
        beside HiGHS, to follow the bound and to stop once the two together
        meet a target.

    Returns
    -------
    MipOutcome
        Objective and bound in the program's own (maximization) sense: the
        bound is an upper bound.

    Raises
    ------
    SolverError
        When HiGHS rejects the model.
    ValidationError
        When ``engine`` is neither ``"highs"`` nor ``"scip"``, or a ``cutoff``
        is given to HiGHS or is not finite (a function: its first value).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lp = LinearProgram(c=np.array([3., 2.]), A=sp.csr_matrix([[1., 1.]]),
    ...                    row_lo=np.array([-np.inf]), row_hi=np.array([1.5]),
    ...                    col_lo=np.zeros(2), col_hi=np.ones(2))
    >>> out = solve_integer_program(lp, np.array([True, True]), time_limit_s=5)
    >>> out.status, out.objective, out.values.tolist()
    ('optimal', 3.0, [1.0, 0.0])
    """
    if engine not in ("highs", "scip"):
        raise ValidationError(f"engine must be 'highs' or 'scip', not {engine!r}")
    rising = cutoff if callable(cutoff) else None
    first: object = cutoff
    if rising is not None and engine == "scip":
        first = rising(-math.inf)
    if first is not None and (engine != "scip" or not _finite_number(first)):
        raise ValidationError(f"cutoff must be a finite number given to SCIP, not {first!r} "
                              f"with engine {engine!r}")
    if watch is not None and engine != "highs":
        raise ValidationError(f"watch is for HiGHS only, not engine {engine!r}")
    if engine == "scip":
        return _solve_scip(lp, integer, time_limit_s=time_limit_s, gap=gap, seed=seed,
                           hint=hint, interrupter=interrupter, heuristics=sub_mips,
                           cutoff=None if first is None else float(first), rising=rising)
    import highspy

    t0 = time.perf_counter()
    n_rows, n_cols = lp.shape
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = n_cols, n_rows
    model.sense_ = highspy.ObjSense.kMaximize
    model.col_cost_ = np.asarray(lp.c, dtype=float)
    model.col_lower_ = np.asarray(lp.col_lo, dtype=float)
    model.col_upper_ = np.asarray(lp.col_hi, dtype=float)
    model.row_lower_ = np.asarray(lp.row_lo, dtype=float)
    model.row_upper_ = np.asarray(lp.row_hi, dtype=float)
    a = sp.csc_matrix(lp.A)
    a.sum_duplicates()
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = a.indptr.astype(np.int32)
    model.a_matrix_.index_ = a.indices.astype(np.int32)
    model.a_matrix_.value_ = a.data.astype(float)
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    model.integrality_ = [kinds[int(b)] for b in np.asarray(integer, dtype=bool)]
    highs = _new_highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", max(0.05, float(time_limit_s) - (time.perf_counter() - t0)))
    highs.setOptionValue("mip_rel_gap", float(gap) if gap_pruning else 0.0)
    reached = threading.Event()  # the gap target met, checked here rather than by HiGHS
    own_gap = not gap_pruning and gap > 0.0
    if own_gap or watch is not None:
        def check(event: Any) -> None:
            plan, bound = event.data_out.mip_primal_bound, event.data_out.mip_dual_bound
            if own_gap and math.isfinite(plan) and math.isfinite(bound) \
                    and relative_gap(plan, bound) <= gap:
                reached.set()
                event.data_in.user_interrupt = True
            elif watch is not None and watch(plan, bound):
                event.data_in.user_interrupt = True

        highs.cbMipInterrupt.subscribe(check)
    highs.setOptionValue("random_seed", int(seed) % 2_147_483_647)
    if not sub_mips:
        for name in ("mip_heuristic_run_rins", "mip_heuristic_run_rens",
                     "mip_heuristic_run_root_reduced_cost"):
            highs.setOptionValue(name, False)
    if highs.passModel(model) == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the integer program")
    if hint is not None:
        start = highspy.HighsSolution()
        start.col_value = np.asarray(hint, dtype=float).tolist()
        highs.setSolution(start)
    highs.HandleUserInterrupt = True
    if interrupter is not None and not interrupter._attach(highs.cancelSolve):
        return MipOutcome(status="interrupted", objective=math.nan, bound=math.inf,
                          values=None, wall_s=time.perf_counter() - t0, engine="highs")
    try:
        highs.run()
    finally:
        if interrupter is not None:
            interrupter._attach(None)
    model_status = highs.getModelStatus()
    info = highs.getInfo()
    values = None
    if info.primal_solution_status == 2:  # a feasible solution
        values = np.asarray(highs.getSolution().col_value, dtype=float) + 0.0  # no -0.0
    ms = highspy.HighsModelStatus
    status: MipStatus
    if model_status == ms.kOptimal:
        status = "optimal" if values is not None else "unknown"
    elif model_status == ms.kInfeasible:
        status = "infeasible"
    elif model_status == ms.kInterrupt and reached.is_set() and values is not None:
        status = "optimal"
    elif model_status == ms.kInterrupt:
        status = "interrupted"
    elif model_status in (ms.kTimeLimit, ms.kIterationLimit, ms.kSolutionLimit):
        status = "feasible" if values is not None else "unknown"
    else:
        status = "error"
    objective = float(info.objective_function_value) if values is not None else math.nan
    bound = math.inf if math.isnan(info.mip_dual_bound) else float(info.mip_dual_bound)
    if status == "optimal" and values is not None and not math.isfinite(bound):
        bound = objective
    return MipOutcome(status=status, objective=objective, bound=bound, values=values,
                      wall_s=time.perf_counter() - t0, engine="highs",
                      detail=highs.modelStatusToString(model_status))


def _finite_number(x: object) -> TypeGuard[float]:
    """Whether ``x`` is a real number (not a bool) and finite."""
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool) \
        and math.isfinite(float(x))


#: SCIP's statuses that end a solve on a limit, with or without a plan.
_SCIP_LIMITS = frozenset({"timelimit", "nodelimit", "totalnodelimit", "stallnodelimit",
                          "memlimit", "sollimit", "bestsollimit", "restartlimit"})


def _solve_scip(lp: LinearProgram, integer: np.ndarray, *, time_limit_s: float, gap: float,
                seed: int, hint: np.ndarray | None, interrupter: MipInterrupter | None,
                heuristics: bool, cutoff: float | None = None,
                rising: Callable[[float], float] | None = None) -> MipOutcome:
    """:func:`solve_integer_program` by SCIP (PySCIPOpt), one thread, its output hidden.

    ``cutoff`` is the first objective limit; ``rising``, when given, is asked
    for a higher one after every LP and every node.
    """
    import pyscipopt as ps

    t0 = time.perf_counter()

    def stopped_early() -> MipOutcome:
        return MipOutcome(status="interrupted", objective=math.nan, bound=math.inf,
                          values=None, wall_s=time.perf_counter() - t0, engine="scip")

    if interrupter is not None and interrupter.fired:
        return stopped_early()
    n_rows, n_cols = lp.shape
    col_lo = np.asarray(lp.col_lo, dtype=float)
    col_hi = np.asarray(lp.col_hi, dtype=float)
    integer = np.asarray(integer, dtype=bool)
    binary = integer & (col_lo >= 0.0) & (col_hi <= 1.0)
    kinds = np.where(binary, "B", np.where(integer, "I", "C"))
    model = ps.Model()
    model.hideOutput()
    xs = [model.addVar(vtype=str(kinds[j]), lb=float(col_lo[j]), ub=float(col_hi[j]),
                       obj=float(lp.c[j])) for j in range(n_cols)]
    a = sp.csr_matrix(lp.A)
    a.sum_duplicates()
    for r in range(n_rows):
        if r % 512 == 0 and interrupter is not None and interrupter.fired:
            return stopped_early()  # building a large model takes a second or two
        lo, hi = float(lp.row_lo[r]), float(lp.row_hi[r])
        cols = a.indices[a.indptr[r]:a.indptr[r + 1]]
        if cols.size == 0:
            if lo > 0.0 or hi < 0.0:
                return MipOutcome(status="infeasible", objective=math.nan, bound=-math.inf,
                                  values=None, wall_s=time.perf_counter() - t0, engine="scip",
                                  detail=f"row {r} has no terms and excludes 0")
            continue
        vals = a.data[a.indptr[r]:a.indptr[r + 1]].tolist()
        expr = ps.quicksum(v * xs[j] for j, v in zip(cols.tolist(), vals, strict=True))
        model.addCons(ps.ExprCons(expr, lhs=lo if math.isfinite(lo) else None,
                                  rhs=hi if math.isfinite(hi) else None))
    model.setMaximize()
    model.setParam("limits/time", max(0.05, float(time_limit_s) - (time.perf_counter() - t0)))
    model.setParam("limits/gap", float(gap))
    model.setParam("randomization/randomseedshift", int(seed) % 2_147_483_647)
    if not heuristics:
        model.setHeuristics(ps.SCIP_PARAMSETTING.OFF)
    if cutoff is not None:
        model.setObjlimit(float(cutoff))
        # Without conflict analysis: on three covering cores and three random seeds,
        # five proofs of 0.1 % by the cutoff out of five took less time (5-26 %).
        model.setParam("conflict/enable", False)
    if hint is not None and (cutoff is None or float(np.dot(lp.c, hint)) > cutoff):
        start = model.createSol()
        for var, value in zip(xs, np.asarray(hint, dtype=float).tolist(), strict=True):
            model.setSolVal(start, var, value)
        model.addSol(start)
    limit = [-math.inf if cutoff is None else cutoff]  # the limit in force, raised by ``rising``
    if interrupter is not None or rising is not None:
        watch = interrupter

        class _Watch(ps.Eventhdlr):  # type: ignore[misc]
            events = ps.SCIP_EVENTTYPE.NODESOLVED | ps.SCIP_EVENTTYPE.LPSOLVED

            def eventinit(self) -> None:
                self.model.catchEvent(self.events, self)

            def eventexit(self) -> None:
                self.model.dropEvent(self.events, self)

            def eventexec(self, event: Any) -> None:
                if watch is not None and watch.fired:
                    self.model.interruptSolve()
                elif rising is not None:
                    own = float(self.model.getPrimalbound()) if self.model.getNSols() \
                        else -math.inf
                    now = rising(own)
                    if _finite_number(now) and float(now) > limit[0]:
                        self.model.setObjlimit(float(now))
                        limit[0] = float(now)

        model.includeEventhdlr(_Watch(), "hzlogistics-watch",
                               "stops the solve on request and raises the cutoff")

    def cancel() -> None:
        # Sets SCIP's interrupt flag, which it checks wherever it checks its limits; the
        # event handler above catches a request made before the solve could take it.
        with contextlib.suppress(Exception):  # a stage where SCIP takes no interrupt
            model.interruptSolve()

    if interrupter is not None and not interrupter._attach(cancel):
        return stopped_early()
    try:
        model.optimizeNogil()
    finally:
        if interrupter is not None:
            interrupter._attach(None)
    return _scip_outcome(model, xs, None if cutoff is None else limit[0], t0)


def _scip_outcome(model: Any, xs: list[Any], cutoff: float | None, t0: float) -> MipOutcome:
    """The outcome of a SCIP solve; ``cutoff``: the objective limit in force at its end."""
    scip_status = str(model.getStatus())
    values = None
    if model.getNSols() > 0:
        best = model.getBestSol()
        values = np.array([model.getSolVal(best, var) for var in xs], dtype=float) + 0.0
    status: MipStatus
    if scip_status in ("optimal", "gaplimit"):
        status = "optimal" if values is not None else "unknown"
    elif scip_status == "infeasible":
        status = "infeasible"
    elif scip_status == "userinterrupt":
        status = "interrupted"
    elif scip_status in _SCIP_LIMITS:
        status = "feasible" if values is not None else "unknown"
    else:
        status = "error"
    objective = float(model.getObjVal()) if values is not None else math.nan
    bound = float(model.getDualbound())
    if status == "infeasible" and cutoff is not None:
        status, bound = "optimal", float(cutoff)  # nothing above the cutoff
    elif status == "infeasible":
        bound = -math.inf
    elif bound >= model.infinity():
        bound = math.inf  # SCIP's "no bound yet"
    elif cutoff is not None:
        bound = max(bound, float(cutoff))  # the nodes pruned at the cutoff held no more
    return MipOutcome(status=status, objective=objective, bound=bound, values=values,
                      wall_s=time.perf_counter() - t0, engine="scip", detail=scip_status)


__all__ = ["Engine", "Mip", "MipInterrupter", "MipOutcome", "MipStatus", "parse_progress",
           "solve_integer_program"]
