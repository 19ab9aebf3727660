"""The one LP runner: a linear program as arrays in, values, duals and a certified bound out.

An LP is stated as arrays (:class:`LinearProgram`: maximize ``c @ x`` subject
to ``row_lo <= A @ x <= row_hi`` and ``col_lo <= x <= col_hi``) and solved by
:func:`solve_lp` with OR-Tools: GLOP (dual simplex) or PDLP (first order)
through the model builder, which takes the sparse arrays without a Python
loop, or HiGHS through MathOpt, whose solve releases the GIL and can be
interrupted, so that it runs in a thread beside CP-SAT.

Its bound is *certified* (:func:`certified_bound`): whatever the solver's
tolerances, the value reported is the Lagrangian bound of the duals it
returned,

.. math::

    L(\\pi) = \\sum_r \\left(\\pi_r^+ \\, hi_r - \\pi_r^- \\, lo_r\\right)
            + \\sum_j \\max\\left((c - A^T \\pi)_j \\, lo_j,\\; (c - A^T \\pi)_j \\, hi_j\\right),

which bounds the LP (hence the integer program) from above for *any*
``pi``. With the LP's optimal duals it equals the LP optimum up to rounding.
:func:`lp_bound` solves and certifies in one call; :func:`lp_feasible` and
:func:`min_resource` ask the LP relaxation of the site rows
(:func:`~hzlogistics.solvers.sites.site_rows`) whether a plan can exist and
how little of a resource it needs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.sites import SiteRows

logger = logging.getLogger(__name__)

#: Status names of :func:`solve_lp`.
OPTIMAL, FEASIBLE, INFEASIBLE, OTHER = "optimal", "feasible", "infeasible", "other"


@dataclass
class LinearProgram:
    """``max c @ x  s.t.  row_lo <= A @ x <= row_hi,  col_lo <= x <= col_hi``.

    Infinite entries of ``row_lo``/``row_hi`` mean a one-sided row; the
    column bounds must be finite (every model here has them).
    """

    c: np.ndarray
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rows, n_cols)``."""
        return self.A.shape


@dataclass
class LpSolution:
    """What :func:`solve_lp` returns.

    Attributes
    ----------
    status
        ``"optimal"``, ``"feasible"`` (stopped with a solution: its duals still
        certify a bound), ``"infeasible"`` or ``"other"`` (no solution).
    objective
        The solver's objective (``nan`` without a solution).
    duals
        ``(n_rows,)`` row duals, or ``None`` without a solution.
    x
        ``(n_cols,)`` primal values, or ``None`` without a solution.
    """

    status: str
    objective: float
    duals: np.ndarray | None
    x: np.ndarray | None


@dataclass
class LpBound:
    """The outcome of :func:`lp_bound`.

    Attributes
    ----------
    bound
        Certified upper bound (``inf`` if none could be certified).
    lp_objective
        The solver's LP objective (``nan`` if it did not finish).
    status
        ``"optimal"``, ``"limit"`` (stopped early: the bound still holds),
        ``"infeasible"`` or ``"failed"``.
    wall_s
        Wall time, seconds.
    x
        The LP's primal values (zeros if none).
    duals
        The LP's row duals (zeros if none).
    """

    bound: float
    lp_objective: float
    status: str
    wall_s: float
    x: np.ndarray
    duals: np.ndarray


def certified_bound(lp: LinearProgram, duals: np.ndarray) -> float:
    """Lagrangian upper bound of ``lp`` for row multipliers ``duals``.

    Valid for any multipliers: a multiplier whose sign would need an
    infinite row limit is dropped (set to 0). Both ``duals`` and ``-duals``
    are tried (solvers differ in sign conventions); the smaller bound is kept.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lp = LinearProgram(c=np.array([1., 1.]), A=sp.csr_matrix([[1., 1.]]),
    ...                    row_lo=np.array([-np.inf]), row_hi=np.array([1.]),
    ...                    col_lo=np.zeros(2), col_hi=np.ones(2))
    >>> round(certified_bound(lp, np.array([1.0])), 6)
    1.0
    >>> round(certified_bound(lp, np.array([0.0])), 6)
    2.0
    """
    best = np.inf
    for sign in (1.0, -1.0):
        pi = sign * np.asarray(duals, dtype=float)
        pi = np.where(np.isfinite(pi), pi, 0.0)
        pi = np.where((pi > 0) & ~np.isfinite(lp.row_hi), 0.0, pi)
        pi = np.where((pi < 0) & ~np.isfinite(lp.row_lo), 0.0, pi)
        rows = np.where(pi > 0, pi * np.where(np.isfinite(lp.row_hi), lp.row_hi, 0.0),
                        pi * np.where(np.isfinite(lp.row_lo), lp.row_lo, 0.0))
        red = lp.c - lp.A.T @ pi
        cols = np.maximum(red * lp.col_lo, red * lp.col_hi)
        value = float(np.sum(rows) + np.sum(cols))
        best = min(best, value)
    return best + 1e-9 * max(1.0, abs(best))


def solve_lp(lp: LinearProgram, *, time_limit_s: float, solver: str = "GLOP",
             threads: int = 1, interrupter: object | None = None) -> LpSolution:
    """Solve ``lp`` (maximize) with OR-Tools.

    Parameters
    ----------
    lp
        The linear program.
    time_limit_s
        Solver time limit (at least 0.1 s is given).
    solver
        ``"GLOP"`` (dual simplex, exact), ``"PDLP"`` (first order, for very
        large LPs) or ``"HIGHS"`` (through MathOpt: the solve releases the GIL
        and stops when ``interrupter`` fires; GLOP through MathOpt when
        OR-Tools was built without HiGHS).
    threads
        Threads for PDLP.
    interrupter
        An ``ortools.util.python.solve_interrupter.SolveInterrupter`` (HiGHS only).

    Returns
    -------
    LpSolution

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lp = LinearProgram(c=np.array([3., 2.]), A=sp.csr_matrix([[1., 1.]]),
    ...                    row_lo=np.array([-np.inf]), row_hi=np.array([1.5]),
    ...                    col_lo=np.zeros(2), col_hi=np.ones(2))
    >>> sol = solve_lp(lp, time_limit_s=5, solver="HIGHS")
    >>> sol.status, round(sol.objective, 6), sol.x.round(6).tolist()
    ('optimal', 4.0, [1.0, 0.5])
    """
    if solver.upper() == "HIGHS":
        return _solve_mathopt(lp, time_limit_s=time_limit_s, interrupter=interrupter)
    return _solve_model_builder(lp, time_limit_s=time_limit_s, solver=solver, threads=threads)


def _solve_model_builder(lp: LinearProgram, *, time_limit_s: float, solver: str,
                         threads: int) -> LpSolution:
    """GLOP or PDLP through the model builder, handed the arrays as they are."""
    from ortools.linear_solver.python import model_builder_helper as mbh

    helper = mbh.ModelBuilderHelper()
    A = sp.csr_matrix(lp.A, dtype=np.float64)
    col_lo, col_hi, c, row_lo, row_hi = (
        np.asarray(x, dtype=np.float64) for x in (lp.col_lo, lp.col_hi, lp.c, lp.row_lo, lp.row_hi)
    )
    # the OR-Tools stub mistypes float64 vectors (pybind11 "ndarray[float64[m, 1]]")
    helper.fill_model_from_sparse_data(col_lo, col_hi, c, row_lo, row_hi, A)  # type: ignore[arg-type]
    helper.set_maximize(True)
    engine = mbh.ModelSolverHelper(solver.lower())
    if not engine.solver_is_supported():  # pragma: no cover - GLOP ships with OR-Tools
        return LpSolution(OTHER, np.nan, None, None)
    engine.set_time_limit_in_seconds(float(max(0.1, time_limit_s)))
    if threads > 1:
        engine.set_solver_specific_parameters(f"num_threads: {int(threads)}"
                                              if solver.upper() == "PDLP" else "")
    engine.solve(helper)
    code = engine.status()
    if code == mbh.SolveStatus.INFEASIBLE:
        return LpSolution(INFEASIBLE, np.nan, None, None)
    if code in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE) and engine.has_solution():
        status = OPTIMAL if code == mbh.SolveStatus.OPTIMAL else FEASIBLE
        return LpSolution(status, float(engine.objective_value()),
                          np.asarray(engine.dual_values()), np.asarray(engine.variable_values()))
    return LpSolution(OTHER, np.nan, None, None)


def _mathopt_proto(lp: LinearProgram) -> object:
    """The MathOpt model proto of ``lp``, written straight from the arrays."""
    from ortools.math_opt import model_pb2

    n_rows, n_cols = lp.shape
    proto = model_pb2.ModelProto()
    var = proto.variables
    var.ids.extend(range(n_cols))
    var.lower_bounds.extend(np.asarray(lp.col_lo, dtype=float).tolist())
    var.upper_bounds.extend(np.asarray(lp.col_hi, dtype=float).tolist())
    var.integers.extend([False] * n_cols)
    proto.objective.maximize = True
    c = np.asarray(lp.c, dtype=float)
    nz = np.flatnonzero(c)
    proto.objective.linear_coefficients.ids.extend(nz.tolist())
    proto.objective.linear_coefficients.values.extend(c[nz].tolist())
    rows = proto.linear_constraints
    rows.ids.extend(range(n_rows))
    rows.lower_bounds.extend(np.asarray(lp.row_lo, dtype=float).tolist())
    rows.upper_bounds.extend(np.asarray(lp.row_hi, dtype=float).tolist())
    A = sp.csr_matrix(lp.A, dtype=np.float64)
    A.sum_duplicates()
    A.sort_indices()
    mat = proto.linear_constraint_matrix
    mat.row_ids.extend(np.repeat(np.arange(n_rows), np.diff(A.indptr)).tolist())
    mat.column_ids.extend(A.indices.tolist())
    mat.coefficients.extend(A.data.tolist())
    return proto


def _run_mathopt(proto: object, solver: str, time_limit_s: float,
                 interrupter: object | None) -> Any:
    """Solve a model proto with MathOpt; the result proto.

    The proto goes to the solver as it is, as in :mod:`hzlogistics.solvers.mip`:
    building MathOpt's Python model from it and parsing the result back costs
    more than HiGHS itself on a transportation LP of 50,000 pairs.
    """
    from datetime import timedelta

    from ortools.math_opt import callback_pb2, parameters_pb2
    from ortools.math_opt.core.python import solver as core
    from ortools.math_opt.python import mathopt
    from pybind11_abseil.status import StatusNotOk

    params = mathopt.SolveParameters(time_limit=timedelta(seconds=max(0.1, time_limit_s)))
    try:
        return core.solve(
            proto, getattr(mathopt.SolverType, solver).value,
            parameters_pb2.SolverInitializerProto(), params.to_proto(),
            mathopt.ModelSolveParameters().to_proto(), None,
            callback_pb2.CallbackRegistrationProto(), None,
            getattr(interrupter, "pybind_interrupter", None))
    except StatusNotOk as err:  # pragma: no cover - OR-Tools built without this solver
        raise RuntimeError(str(err)) from None


def _solve_mathopt(lp: LinearProgram, *, time_limit_s: float,
                   interrupter: object | None) -> LpSolution:
    """HiGHS through MathOpt (GLOP when OR-Tools was built without HiGHS)."""
    from ortools.math_opt import result_pb2

    n_rows, n_cols = lp.shape
    proto = _mathopt_proto(lp)
    try:
        rp = _run_mathopt(proto, "HIGHS", time_limit_s, interrupter)
    except (RuntimeError, ValueError):  # pragma: no cover - OR-Tools built without HiGHS
        rp = _run_mathopt(proto, "GLOP", time_limit_s, interrupter)
    if rp.termination.reason == result_pb2.TERMINATION_REASON_INFEASIBLE:
        return LpSolution(INFEASIBLE, np.nan, None, None)
    if not rp.solutions or not rp.solutions[0].HasField("dual_solution"):
        return LpSolution(OTHER, np.nan, None, None)
    sol = rp.solutions[0]
    duals = np.zeros(n_rows)
    dv = sol.dual_solution.dual_values
    duals[np.asarray(dv.ids, dtype=np.int64)] = np.asarray(dv.values, dtype=float)
    x = np.zeros(n_cols)
    pv = sol.primal_solution.variable_values
    x[np.asarray(pv.ids, dtype=np.int64)] = np.asarray(pv.values, dtype=float)
    optimal = rp.termination.reason == result_pb2.TERMINATION_REASON_OPTIMAL
    objective = (float(sol.primal_solution.objective_value)
                 if sol.HasField("primal_solution") else np.nan)
    return LpSolution(OPTIMAL if optimal else FEASIBLE, objective, duals, x)


def lp_bound(lp: LinearProgram, *, time_limit_s: float = 30.0, solver: str = "GLOP",
             threads: int = 1) -> LpBound:
    """Solve an LP with OR-Tools and certify its bound through the duals.

    Parameters
    ----------
    lp
        The linear program.
    time_limit_s
        Solver time limit.
    solver
        ``"GLOP"`` (dual simplex, exact), ``"PDLP"`` (first-order, for very
        large LPs: a rougher dual is still certified) or ``"HIGHS"``.
    threads
        Threads for solvers that use them.

    Returns
    -------
    LpBound

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> lp = LinearProgram(c=np.array([3., 2.]), A=sp.csr_matrix([[1., 1.]]),
    ...                    row_lo=np.array([-np.inf]), row_hi=np.array([1.5]),
    ...                    col_lo=np.zeros(2), col_hi=np.ones(2))
    >>> round(lp_bound(lp).bound, 6)
    4.0
    """
    t0 = time.perf_counter()
    n_rows, n_cols = lp.shape
    sol = solve_lp(lp, time_limit_s=time_limit_s, solver=solver, threads=threads)
    if sol.duals is not None and sol.x is not None:
        duals, xs = sol.duals, sol.x
        bound = certified_bound(lp, duals)
        status = "optimal" if sol.status == OPTIMAL else "limit"
    else:
        duals = np.zeros(n_rows)
        bound = certified_bound(lp, duals)
        xs = np.zeros(n_cols)
        status = "infeasible" if sol.status == INFEASIBLE else "failed"
    wall = time.perf_counter() - t0
    logger.debug("LP %s (%d x %d) in %.2fs: objective %s, certified bound %s",
                 status, n_rows, n_cols, wall, sol.objective, bound)
    return LpBound(bound=bound, lp_objective=sol.objective, status=status, wall_s=wall, x=xs,
                   duals=duals)


def lp_feasible(rows: SiteRows, *, time_limit_s: float = 10.0) -> bool | None:
    """Whether the LP relaxation of the site rows has a solution (``None``: unknown)."""
    n_opts = rows.opt_site.size
    lp = LinearProgram(c=np.zeros(n_opts), A=rows.A, row_lo=rows.lo, row_hi=rows.hi,
                       col_lo=np.zeros(n_opts), col_hi=np.ones(n_opts))
    status = solve_lp(lp, time_limit_s=time_limit_s).status
    if status in (OPTIMAL, FEASIBLE):
        return True
    if status == INFEASIBLE:
        return False
    return None


def min_resource(rows: SiteRows, cost: np.ndarray, *, time_limit_s: float = 10.0) -> float:
    """Certified lower bound on ``sum cost_k y_k`` subject to the site rows.

    ``inf`` when the rows are infeasible, ``-inf`` when nothing was proven.
    """
    n_opts = rows.opt_site.size
    lp = LinearProgram(c=-np.asarray(cost, dtype=float), A=rows.A, row_lo=rows.lo,
                       row_hi=rows.hi, col_lo=np.zeros(n_opts), col_hi=np.ones(n_opts))
    sol = solve_lp(lp, time_limit_s=time_limit_s)
    if sol.status == INFEASIBLE:
        return np.inf
    if sol.duals is None:
        return -np.inf
    return -certified_bound(lp, sol.duals)
