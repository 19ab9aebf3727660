r"""Yearly-cost siting (capacitated facility location) and the location engine.

:func:`solve_cost` opens sites and serves all demand at the least yearly cost:
rent, fixed costs and delivery. The engine behind it is shared with
:func:`~hzlogistics.models.median.solve_median` and
:func:`~hzlogistics.models.min_area.solve_min_area`:

1. pre-checks name conflicting constraints with their numbers;
2. uncapacitated, every demand point served: a greedy plan improved by vertex
   substitution (best add, drop or swap until none improves: Teitz and Bart
   1968, with the fast evaluation of Whitaker 1983 and Resende and Werneck
   2007); a Lagrangian bound (assignment rows relaxed, subgradient ascent,
   Beasley 1993) whose reduced costs fix sites and cut cost levels that cannot
   be part of a better plan, its site sets restarting the substitution; then,
   when only the count range, existing and forbidden sites constrain the
   sites, a depth-first branch and bound on the sites with a Lagrangian bound
   at every node, which usually proves the plan optimal;
3. capacitated, demand split, every demand point served: a Lagrangian bound
   with one continuous knapsack per site, plans from its site sets with the
   demand assigned by a transportation LP, a drop search, a MIP restricted to
   the sites of least reduced cost, and site fixing;
4. a mixed-integer program on what is left, gathered as arrays and solved by
   HiGHS through OR-Tools MathOpt, warm-started from the best plan known (not
   built when it is too large for the time left);
5. uncapacitated, every demand point served, too large for step 2 but split
   into connected components (the countries, without cross-border delivery)
   that only the site counts tie together: a sparse Lagrangian bound over every
   pair (:mod:`hzlogistics.solvers.lagrange`) bounds the whole and sets the
   number of sites of each component, step 2 solves each component for it, and
   sites then move between components while that lowers the total.

Uncapacitated problems use the radius formulation (Elloumi 2010; García,
Labbé and Marín 2011): one variable per distinct cost level of each demand
point instead of one per site and demand point; its LP relaxation is as strong
as the classic one. The others use the classic strong formulation
(:math:`x_{ij} \le y_i`). HiGHS runs through MathOpt on its own threads setting
(``SolveOptions.workers`` is not passed on); a stop event returns the best
plan known at once.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

import numpy as np
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics._errors import SolverError, ValidationError
from hzlogistics.solvers.lagrange import select_sites as _select
from hzlogistics.solvers.problem import (
    Objective,
    SitingProblem,
    SolveOptions,
    SolveResult,
    relative_gap,
    weight_and_capacity_problems,
)
from hzlogistics.solvers.reduce import aggregate_demand
from hzlogistics.solvers.sites import SiteTable, plan_violations, site_table

logger = logging.getLogger(__name__)

Assignment = Literal["split", "single"]

#: Largest ``n_sites * n_demand`` for which the heuristic and the Lagrangian bound
#: work on a dense cost matrix (about 64 MB of float64).
_DENSE_LIMIT = 8_000_000

#: Above this many variables HiGHS runs without presolve (which ignores the time limit).
_PRESOLVE_LIMIT = 100_000

#: From this many pairs on, a MIP is built only with at least one second left per
#: ``_MIP_PAIRS_PER_S`` pairs (HiGHS's first LP on a million pairs takes minutes).
_MIP_LARGE_PAIRS, _MIP_PAIRS_PER_S = 500_000, 4_000

#: Most (site, demand point) pairs a MIP with one variable per pair may have;
#: beyond it each demand point keeps its cheapest (or nearest) pairs only.
_PAIR_LIMIT = 1_000_000

#: Share of the time limit the heuristic and the Lagrangian bound may take.
_HEURISTIC_SHARE = 0.25

#: Time (share of the limit) of the MIP restricted to the most promising sites.
_CORE_SHARE = 0.2

#: Subgradient effort at each node of the branch and bound.
_NODE_ITER, _NODE_PATIENCE, _NODE_THETA = 200, 10, 2.0

#: Time (share of the limit, from the start) by which the Lagrangian branch and
#: bound hands over to the MIP solver.
_SEARCH_SHARE = 0.75


# --------------------------------------------------------------------------------------------
# A mixed-integer program as arrays, solved through MathOpt
# --------------------------------------------------------------------------------------------


@dataclass
class _MipOutcome:
    """What a MIP run produced (objective and bound in the model's own units)."""

    status: str  # optimal, feasible, interrupted, infeasible, unknown, error
    objective: float
    bound: float
    values: np.ndarray | None
    wall_s: float
    engine: str
    detail: str = ""


def _stopped(stop: object | None) -> bool:
    """Whether a stop event (``threading.Event`` or alike) is set."""
    is_set = getattr(stop, "is_set", None)
    return bool(is_set()) if callable(is_set) else False


def _num(token: str) -> float:
    t = token.strip().lower().rstrip("%")
    if t in ("inf", "+inf", "infinity", "large"):
        return math.inf
    if t in ("-inf", "-infinity"):
        return -math.inf
    return float(t)


def _parse_progress(line: str) -> tuple[float, float] | None:
    """``(incumbent, bound)`` from one progress line of the HiGHS log."""
    tok = line.split()  # ... BestBound BestSol Gap Cuts InLp Confl. LpIters Time
    if len(tok) < 11 or not tok[-1].endswith("s"):
        return None
    try:
        float(tok[-1][:-1])
        return _num(tok[-7]), _num(tok[-8])
    except ValueError:
        return None


class _Mip:
    """A minimization MIP gathered as numpy arrays.

    Variables and rows are added in blocks and referred to by integer ids;
    coefficients are triplets (duplicates add up). :meth:`solve` turns the
    arrays into a MathOpt ``ModelProto`` in one pass, which is far faster than
    building expressions variable by variable.
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

    def add_vars(self, n: int, *, lb: object = 0.0, ub: object = 1.0, integer: bool = False,
                 obj: object = 0.0) -> np.ndarray:
        n = int(n)
        self._lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)))
        self._ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)))
        self._int.append(np.full(n, bool(integer)))
        self._obj.append(np.broadcast_to(np.asarray(obj, dtype=float), (n,)))
        ids = np.arange(self.n_vars, self.n_vars + n, dtype=np.int64)
        self.n_vars += n
        return ids

    def add_rows(self, n: int, *, lb: object = -np.inf, ub: object = np.inf) -> np.ndarray:
        n = int(n)
        self._rlb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)))
        self._rub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)))
        ids = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        return ids

    def add_terms(self, rows: object, cols: object, vals: object) -> None:
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
        c = np.asarray(cols, dtype=np.int64).ravel()
        row = int(self.add_rows(1, lb=lb, ub=ub)[0])
        self.add_terms(np.full(c.size, row), c, vals)
        return row

    def add_objective(self, cols: object, vals: object) -> None:
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

    def proto(self, fix_lb: dict[int, float] | None = None) -> object:
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
    ) -> _MipOutcome:
        """Solve with HiGHS through MathOpt, honouring ``options``.

        HiGHS cannot be interrupted from Python; with ``options.stop`` the solve
        runs in a worker thread and, once the event is set, this returns at once
        with status ``"interrupted"`` and no values (the abandoned solve ends
        by its own time limit).
        """
        from ortools.math_opt import callback_pb2, parameters_pb2, result_pb2
        from ortools.math_opt.core.python import solver as core
        from ortools.math_opt.python import mathopt

        name = "highs"
        t_build = time.perf_counter()
        proto = self.proto()
        time_limit_s -= time.perf_counter() - t_build  # building counts against the limit
        params = mathopt.SolveParameters(
            time_limit=timedelta(seconds=max(0.05, float(time_limit_s))),
            relative_gap_tolerance=float(options.gap),
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
        model_params = mathopt.ModelSolveParameters().to_proto()
        if hint is not None and len(hint[0]):
            h = model_params.solution_hints.add()
            order = np.argsort(hint[0])
            h.variable_values.ids.extend(np.asarray(hint[0])[order].tolist())
            h.variable_values.values.extend(np.asarray(hint[1], dtype=float)[order].tolist())
        stopped = threading.Event()
        last_bound = [-math.inf]

        def on_lines(lines: list[str]) -> None:
            if stopped.is_set():
                return
            for line in lines:
                if options.log:
                    print(line, file=sys.stdout)
                parsed = _parse_progress(line)
                if parsed is not None:
                    last_bound[0] = parsed[1]
                    if on_progress is not None:
                        on_progress(*parsed)

        box: dict[str, object] = {}

        def run() -> None:
            try:
                box["result"] = core.solve(
                    proto, mathopt.SolverType.HIGHS.value,
                    parameters_pb2.SolverInitializerProto(), params.to_proto(), model_params,
                    on_lines, callback_pb2.CallbackRegistrationProto(), None, None)
            except Exception as exc:  # the engine reports a bad model or fails
                box["error"] = exc

        t0 = time.perf_counter()
        stop = options.stop
        if stop is not None and hasattr(stop, "wait"):
            worker = threading.Thread(target=run, daemon=True, name="hzlogistics-highs")
            worker.start()
            while worker.is_alive():
                if stop.wait(0.05):  # type: ignore[union-attr]
                    stopped.set()
                    break
                worker.join(0.0)
            if stopped.is_set() and worker.is_alive():
                return _MipOutcome(status="interrupted", objective=math.nan,
                                   bound=last_bound[0], values=None,
                                   wall_s=time.perf_counter() - t0, engine=name)
            worker.join()
        else:
            run()
        if "error" in box:
            if hint is not None and len(hint[0]):
                # HiGHS can fail on a warm start it cannot complete; the hint is only a help
                logger.info("HiGHS failed with the warm start (%s); solving without it",
                            box["error"])
                left = time_limit_s - (time.perf_counter() - t0)
                return self.solve(options, time_limit_s=max(left, 0.05), hint=None,
                                  integral=integral, on_progress=on_progress,
                                  highs_options=highs_options)
            raise SolverError(f"MathOpt/HiGHS failed: {box['error']}") from box["error"]  # type: ignore[misc]
        res = box["result"]
        wall = time.perf_counter() - t0
        term = res.termination  # type: ignore[attr-defined]
        reason = term.reason
        values = None
        if res.solutions:  # type: ignore[attr-defined]
            ps = res.solutions[0].primal_solution  # type: ignore[attr-defined]
            if ps.feasibility_status == 2 and len(ps.variable_values.ids):  # FEASIBLE
                values = np.zeros(self.n_vars)
                values[np.asarray(ps.variable_values.ids, dtype=np.int64)] = \
                    np.asarray(ps.variable_values.values)
        R = result_pb2
        if reason == R.TERMINATION_REASON_OPTIMAL:
            status = "optimal"
        elif reason == R.TERMINATION_REASON_FEASIBLE:
            status = "interrupted" if stopped.is_set() else "feasible"
        elif reason == R.TERMINATION_REASON_NO_SOLUTION_FOUND:
            status = "interrupted" if stopped.is_set() else "unknown"
        elif reason in (R.TERMINATION_REASON_INFEASIBLE,
                        R.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED):
            status = "infeasible"
        else:
            status = "error"
        if values is None and status in ("optimal", "feasible"):
            status = "unknown"
        objective = float(term.objective_bounds.primal_bound) if values is not None else math.nan
        bound = float(term.objective_bounds.dual_bound)
        logger.debug("%s %s in %.2fs: objective %s bound %s (%s vars, %s rows)", name, status,
                     wall, objective, bound, self.n_vars, self.n_rows)
        return _MipOutcome(status=status, objective=objective, bound=bound, values=values,
                           wall_s=wall, engine=name, detail=term.detail)


# --------------------------------------------------------------------------------------------
# Costs of serving demand point j from site i
# --------------------------------------------------------------------------------------------


def _cover_pairs(cover: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """``(site, demand)`` of every stored, non-zero entry of ``cover``, row-major."""
    c = sp.csr_matrix(cover).astype(bool)
    c.sum_duplicates()
    c.eliminate_zeros()
    c.sort_indices()
    rows = np.repeat(np.arange(c.shape[0], dtype=np.int64), np.diff(c.indptr))
    return rows, c.indices.astype(np.int64)


def _values_at(mat: sp.spmatrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Entries of ``mat`` at ``(rows, cols)``; an entry not stored reads 0."""
    m = sp.csr_matrix(mat, dtype=float)
    m.sum_duplicates()
    m.sort_indices()
    n_cols = m.shape[1]
    m_rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
    keys = m_rows * n_cols + m.indices
    want = rows * n_cols + cols
    pos = np.searchsorted(keys, want)
    pos_ok = np.minimum(pos, max(keys.size - 1, 0))
    found = (pos < keys.size) & (keys[pos_ok] == want) if keys.size else np.zeros(want.size, bool)
    out = np.zeros(want.size)
    out[found] = m.data[pos_ok[found]]
    return out


def _pair_costs(problem: SitingProblem, rows: np.ndarray, cols: np.ndarray, *,
                per_parcel_h: float, what: str) -> np.ndarray:
    """Cost of serving all of demand point ``cols[k]`` from site ``rows[k]``.

    ``assign_cost`` when given, else ``weight × travel_time_h × per_parcel_h``.
    """
    shape = problem.cover.shape
    if problem.assign_cost is not None:
        if problem.assign_cost.shape != shape:
            raise ValidationError(f"SitingProblem.assign_cost: shape {problem.assign_cost.shape}, "
                                  f"expected {shape} (sites × demand points, like cover)")
        cost = _values_at(problem.assign_cost, rows, cols)
    elif problem.travel_time_h is not None:
        if problem.travel_time_h.shape != shape:
            raise ValidationError(f"SitingProblem.travel_time_h: shape "
                                  f"{problem.travel_time_h.shape}, expected {shape}")
        tt = _values_at(problem.travel_time_h, rows, cols)
        if np.isnan(tt).any():
            raise ValidationError(
                f"the {what} objective needs the travel time of every covered pair; "
                f"{int(np.isnan(tt).sum())} of {tt.size} pairs have none (a coverage given as "
                "a 0/1 matrix, or a coverage CSV without travel_time_h)")
        cost = np.asarray(problem.weight, dtype=float)[cols] * tt * per_parcel_h
    else:
        raise ValidationError(f"the {what} objective needs SitingProblem.travel_time_h or "
                              "SitingProblem.assign_cost (neither is given)")
    if not np.all(np.isfinite(cost)) or np.any(cost < 0):
        bad = np.flatnonzero(~np.isfinite(cost) | (cost < 0))[0]
        raise ValidationError(f"cost of serving demand point {int(cols[bad])} from site "
                              f"{int(rows[bad])} is {cost[bad]}; expected a finite value >= 0")
    return cost


# --------------------------------------------------------------------------------------------
# Vertex substitution and the Lagrangian bound (uncapacitated, all demand served)
# --------------------------------------------------------------------------------------------


def _nearest_two(c: np.ndarray, open_idx: np.ndarray, big: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost of the nearest and second-nearest open site of each column, and the nearest."""
    n_d = c.shape[1]
    if open_idx.size == 0:
        return np.full(n_d, big), np.full(n_d, -1, dtype=np.int64), np.full(n_d, big)
    sub = c[open_idx]
    if open_idx.size == 1:
        return sub[0].copy(), np.full(n_d, open_idx[0], dtype=np.int64), np.full(n_d, big)
    two = np.argpartition(sub, 1, axis=0)[:2]
    v = np.take_along_axis(sub, two, axis=0)
    first = np.where(v[1] < v[0], two[1], two[0])
    return v.min(axis=0), open_idx[first], v.max(axis=0)


def _interchange(
    c: np.ndarray,
    f: np.ndarray,
    *,
    kmin: int,
    kmax: int,
    forced: np.ndarray,
    start: np.ndarray | None,
    deadline: float,
    stop: object | None,
) -> tuple[np.ndarray, float]:
    """Best-improvement add / drop / swap search from a greedy (or given) plan.

    ``c`` is ``(n, n_d)`` with a large finite value where a site cannot serve;
    returns the open mask and the plan's cost.
    """
    n, n_d = c.shape
    big = float(c.max(initial=0.0)) + 1.0
    tol = 1e-9

    def stopped() -> bool:
        return time.perf_counter() > deadline or _stopped(stop)

    if start is None:
        open_ = forced.copy()
        while int(open_.sum()) < kmax and not stopped():
            d1, _, _ = _nearest_two(c, np.flatnonzero(open_), big)
            gain = np.maximum(d1[None, :] - c, 0.0).sum(axis=1) - f
            gain[open_] = -np.inf
            i = int(np.argmax(gain))
            if int(open_.sum()) < kmin or gain[i] > tol * max(1.0, abs(float(d1.sum()))):
                open_[i] = True
            else:
                break
    else:
        open_ = start.copy() | forced
    while not stopped():
        idx = np.flatnonzero(open_)
        k = idx.size
        d1, c1, d2 = _nearest_two(c, idx, big)
        value = float(d1.sum() + f[open_].sum())
        eps = tol * max(1.0, abs(value))
        gain = np.maximum(d1[None, :] - c, 0.0).sum(axis=1)
        best, move = -eps, None
        if k < kmax:
            delta = f - gain
            delta[open_] = np.inf
            i = int(np.argmin(delta))
            if delta[i] < best:
                best, move = float(delta[i]), (i, -1)
        removable = open_ & ~forced
        loss = np.bincount(c1, weights=d2 - d1, minlength=n) if k else np.zeros(n)
        if k > kmin and removable.any():
            delta = np.where(removable, loss - f, np.inf)
            r = int(np.argmin(delta))
            if delta[r] < best:
                best, move = float(delta[r]), (-1, r)
        closed = ~open_
        if removable.any() and closed.any():
            t = np.minimum(d2[None, :], np.maximum(c, d1[None, :])) - d1[None, :]
            order = np.argsort(c1, kind="stable")
            counts = np.bincount(c1, minlength=n)
            rem = np.flatnonzero(removable)
            s = np.zeros((n, rem.size))
            has = counts[rem] > 0
            if has.any():
                starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
                sums = np.add.reduceat(t[:, order], starts[rem[has]], axis=1)
                s[:, has] = sums
            delta = (f - gain)[:, None] - f[rem][None, :] + s
            delta[~closed, :] = np.inf
            flat = int(np.argmin(delta))
            i, col = divmod(flat, rem.size)
            if delta[i, col] < best:
                best, move = float(delta[i, col]), (i, int(rem[col]))
        if move is None:
            break
        i, r = move
        if i >= 0:
            open_[i] = True
        if r >= 0:
            open_[r] = False
    d1, _, _ = _nearest_two(c, np.flatnonzero(open_), big)
    return open_, float(d1.sum() + f[open_].sum())


@dataclass
class _Dual:
    """Outcome of a subgradient run.

    ``active``/``forced`` are the sites still in play and those fixed open by
    the reduced-cost tests made along the way (against the run's threshold).
    """

    bound: float
    lam: np.ndarray
    iterations: int
    sets: list[np.ndarray]
    active: np.ndarray
    forced: np.ndarray


def _lagrangian(
    c: np.ndarray,
    f: np.ndarray,
    *,
    forced: np.ndarray,
    kmin: int,
    kmax: int,
    upper: float,
    lam0: np.ndarray,
    threshold: float,
    deadline: float,
    stop: object | None,
    max_iter: int = 2000,
    patience: int = 20,
    theta0: float = 2.0,
    shrink_every: int = 50,
    keep_sets: int = 4,
) -> _Dual:
    """Subgradient ascent on the Lagrangian dual of the assignment rows.

    ``c`` holds ``inf`` where a site cannot serve. Every ``shrink_every``
    iterations the sites that reduced costs fix closed (against ``threshold``)
    leave the subproblem, which makes later iterations cheaper; the bound then
    holds for the plans cheaper than ``threshold``. Stops when the bound
    reaches ``threshold``, when the step size has shrunk, or at the deadline.
    """
    n = f.size
    active = np.ones(n, dtype=bool)
    fixed = forced.copy()
    idx = np.arange(n)
    c_a, f_a, forced_a = c, f, fixed
    lam = lam0.astype(float).copy()
    best, best_lam = -np.inf, lam.copy()
    theta, stall, iters = theta0, 0, 0
    sets: list[np.ndarray] = []
    for _ in range(max_iter):
        iters += 1
        rho = f_a + np.minimum(c_a - lam[None, :], 0.0).sum(axis=1)
        chosen, _, _ = _select(rho, forced_a, kmin, kmax)
        if not kmin <= int(chosen.sum()) <= kmax:  # no plan left
            best = math.inf
            break
        value = float(lam.sum() + rho[chosen].sum())
        if not math.isfinite(best) or value > best + 1e-12 * max(1.0, abs(best)):
            best, best_lam, stall = value, lam.copy(), 0
            full = np.zeros(n, dtype=bool)
            full[idx[chosen]] = True
            if not sets or not np.array_equal(sets[-1], full):
                sets = [*sets[-(keep_sets - 1):], full]
        else:
            stall += 1
        if best >= threshold or time.perf_counter() > deadline or (
                _stopped(stop)):
            break
        g = 1.0 - (c_a[chosen] < lam[None, :]).sum(axis=0)
        norm = float(g @ g)
        if norm == 0.0:  # the subproblem's plan serves everyone once: it is optimal here
            break
        lam = lam + theta * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm * g
        if stall >= patience:
            theta, stall = theta / 2.0, 0
            if theta < 1e-4:
                break
        if shrink_every and iters % shrink_every == 0 and math.isfinite(threshold):
            red = _fixings(c_a, f_a, best_lam, forced=forced_a, kmin=kmin, kmax=kmax,
                           threshold=threshold)
            if red.must_close.any() or (red.must_open & ~forced_a).any():
                fixed[idx[red.must_open]] = True
                active[idx[red.must_close]] = False
                idx = np.flatnonzero(active)
                c_a, f_a, forced_a = c[idx], f[idx], fixed[idx]
    return _Dual(bound=best, lam=best_lam, iterations=iters, sets=sets, active=active,
                 forced=fixed)


@dataclass
class _Reduction:
    """Lagrangian reduced costs at fixed multipliers, against a threshold.

    Any plan with a site of ``must_close`` open, a site of ``must_open`` closed,
    or (see :meth:`close_bound`) every site within some cost of a demand point
    closed, costs at least ``threshold``.
    """

    value: float
    rho: np.ndarray
    chosen: np.ndarray
    must_open: np.ndarray
    must_close: np.ndarray
    threshold: float
    kmin: int
    kmax: int
    top_sites: np.ndarray  # the non-chosen sites of least rho, in increasing rho
    top_cost: np.ndarray  # (len(top_sites), n_demand) their costs (inf: cannot serve)
    beyond_rho: float  # rho of the next non-chosen site (inf if none)

    def close_bound(self, q: np.ndarray, rho_closed: np.ndarray, col: np.ndarray,
                    level_cost: np.ndarray) -> np.ndarray:
        """Bound of the plans with no open site within ``level_cost`` of demand point ``col``.

        ``q`` chosen sites of summed ``rho_closed`` lie within that cost; they
        close, and the subproblem refills from the non-chosen sites that lie
        beyond it (the best ``top_sites``, then at least ``beyond_rho`` each).
        """
        k = int(self.chosen.sum())
        n_top = self.top_sites.size
        if n_top:
            eligible = self.top_cost[:, col].T > level_cost[:, None] * (1 + 1e-12)
            vals = np.sort(np.where(eligible, self.rho[self.top_sites][None, :], np.inf), axis=1)
            n_elig = eligible.sum(axis=1)
            finite = np.where(np.isfinite(vals), vals, 0.0)
            prefix = np.concatenate([np.zeros((col.size, 1)), np.cumsum(finite, axis=1)], axis=1)
        else:
            n_elig = np.zeros(col.size, dtype=np.int64)
            prefix = np.zeros((col.size, 1))
        out = np.full(col.size, np.inf)
        for qq in np.unique(q):
            rows = np.flatnonzero(q == qq)
            lo, hi = max(0, self.kmin - k + int(qq)), self.kmax - k + int(qq)
            best = np.full(rows.size, np.inf)
            for t in range(lo, hi + 1):
                have = n_elig[rows]
                take = np.minimum(t, have)
                val = prefix[rows, take]
                short = t - take
                if math.isfinite(self.beyond_rho):
                    val = val + short * self.beyond_rho
                else:
                    val = np.where(short > 0, np.inf, val)
                best = np.minimum(best, val)
                if t > n_top and not math.isfinite(self.beyond_rho):
                    break
            out[rows] = self.value - rho_closed[rows] + best
        return out


def _fix_by_rho(lam_sum: float, rho: np.ndarray, *, forced: np.ndarray, kmin: int, kmax: int,
                threshold: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reduced-cost fixing for a Lagrangian subproblem that picks sites by ``rho``.

    The subproblem's value is ``lam_sum`` plus the ``rho`` of the forced sites
    and of the cheapest others within the count range. Forcing a site open or
    closed changes it by a swap with the next best site; a site whose forced
    value reaches ``threshold`` is fixed the other way. Returns the value, the
    chosen sites, the sites that must be open, those that must be closed, and
    the free sites not chosen, by increasing ``rho``.
    """
    n = rho.size
    chosen, order, m = _select(rho, forced, kmin, kmax)
    k = int(chosen.sum())
    value = float(lam_sum + rho[chosen].sum()) if kmin <= k <= kmax else math.inf
    sel, rest = order[:m], order[m:]
    last = float(rho[sel[-1]]) if m else None
    nxt = float(rho[rest[0]]) if rest.size else None
    must_close = np.zeros(n, dtype=bool)
    must_open = np.zeros(n, dtype=bool)
    if rest.size:
        if k < kmax:
            drop = max(last, 0.0) if last is not None else 0.0
            with_i = value + rho[rest] - drop
        elif last is not None:
            with_i = value + rho[rest] - last
        else:
            with_i = np.full(rest.size, np.inf)
        must_close[rest[with_i >= threshold]] = True
    if m:
        if k - 1 < kmin:
            without_i = (value - rho[sel] + nxt) if nxt is not None else np.full(m, np.inf)
        else:
            without_i = value - rho[sel] + (min(nxt, 0.0) if nxt is not None else 0.0)
        must_open[sel[without_i >= threshold]] = True
    return value, chosen, must_open, must_close, rest


def _fixings(c: np.ndarray, f: np.ndarray, lam: np.ndarray, *, forced: np.ndarray, kmin: int,
             kmax: int, threshold: float) -> _Reduction:
    """Sites that cannot be part of a plan cheaper than ``threshold`` (no capacity).

    See :func:`_fix_by_rho`; the result also carries what :func:`_add_radius`
    needs to cut cost levels.
    """
    rho = f + np.minimum(c - lam[None, :], 0.0).sum(axis=1)
    value, chosen, must_open, must_close, rest = _fix_by_rho(
        float(lam.sum()), rho, forced=forced, kmin=kmin, kmax=kmax, threshold=threshold)
    k = int(chosen.sum())
    n_top = min(rest.size, max(kmax - k, 0) + k + 64)
    top = rest[:n_top]
    return _Reduction(value=value, rho=rho, chosen=chosen, must_open=must_open,
                      must_close=must_close, threshold=threshold, kmin=kmin, kmax=kmax,
                      top_sites=top, top_cost=c[top],
                      beyond_rho=float(rho[rest[n_top]]) if rest.size > n_top else math.inf)


@dataclass
class _Search:
    """Outcome of the Lagrangian branch and bound."""

    value: float
    open_: np.ndarray | None
    bound: float
    proven: bool
    nodes: int


def _branch_and_bound(
    c: np.ndarray,
    f: np.ndarray,
    *,
    forced: np.ndarray,
    kmin: int,
    kmax: int,
    upper: float,
    upper_open: np.ndarray | None,
    lam: np.ndarray,
    threshold_of: Callable[[float], float],
    deadline: float,
    stop: object | None,
) -> _Search:
    """Depth-first branch and bound on opening sites, with Lagrangian bounds.

    Each node fixes some sites open or closed, runs a short subgradient ascent
    warm-started from its parent's multipliers, fixes more sites by reduced
    costs, tries the subproblem's site sets as plans, and branches on the
    chosen site of least reduced cost (open first). ``c`` holds ``inf`` where
    a site cannot serve; only count limits, forced and closed sites constrain
    the plans.
    """
    n = f.size
    best, best_open = upper, upper_open

    def value_of(open_: np.ndarray) -> float:
        k = int(open_.sum())
        if not kmin <= k <= kmax or k == 0:
            return math.inf
        d = c[open_].min(axis=0)
        return float(d.sum() + f[open_].sum()) if np.all(np.isfinite(d)) else math.inf

    stack: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = [
        (forced.copy(), np.zeros(n, dtype=bool), lam, -math.inf)]
    nodes = 0
    while stack:
        if time.perf_counter() > deadline or _stopped(stop):
            bound = min([best] + [b for *_, b in stack])
            return _Search(best, best_open, bound, False, nodes)
        o, z, lam_p, parent = stack.pop()
        thr = threshold_of(best)
        if parent >= thr or int(o.sum()) > kmax or int((~z).sum()) < kmin:
            continue
        nodes += 1
        idx = np.flatnonzero(~z)
        c_n, f_n = c[idx], f[idx]
        dual = _lagrangian(c_n, f_n, forced=o[idx], kmin=kmin, kmax=kmax, upper=best,
                           lam0=lam_p, threshold=thr, deadline=deadline, stop=stop,
                           max_iter=_NODE_ITER, patience=_NODE_PATIENCE, theta0=_NODE_THETA,
                           shrink_every=0)
        for chosen in dual.sets:
            open_ = np.zeros(n, dtype=bool)
            open_[idx[chosen]] = True
            v = value_of(open_)
            if v < best:
                best, best_open = v, open_
        thr = threshold_of(best)
        if dual.bound >= thr:
            continue
        red = _fixings(c_n, f_n, dual.lam, forced=o[idx], kmin=kmin, kmax=kmax, threshold=thr)
        if red.value >= thr:
            continue
        o2 = o.copy()
        o2[idx[red.must_open]] = True
        z2 = z.copy()
        z2[idx[red.must_close]] = True
        free = ~o2[idx] & ~z2[idx]
        if int(o2.sum()) >= kmax or not free.any():
            v = value_of(o2)  # nothing left to decide but the sites fixed open
            if v < best:
                best, best_open = v, o2
            continue
        cand = red.chosen & free
        pool = cand if cand.any() else free
        pick = idx[np.flatnonzero(pool)[int(np.argmin(red.rho[pool]))]]
        node_bound = max(dual.bound, red.value)
        closed_child = z2.copy()
        closed_child[pick] = True
        open_child = o2.copy()
        open_child[pick] = True
        stack.append((o2, closed_child, dual.lam, node_bound))
        stack.append((open_child, z2, dual.lam, node_bound))
    return _Search(best, best_open, threshold_of(best), True, nodes)


def _knapsack(v: np.ndarray, w: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row ``r``: least ``sum_j v_rj x_j`` with ``sum_j w_j x_j <= cap_r``, ``x`` in [0, 1].

    The continuous knapsack, solved greedily by ``v / w``; ``v`` is ``inf`` where
    the item is not available. Returns the values and the ``x``.
    """
    r, m = v.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(v < 0, np.where(w[None, :] > 0, v / w[None, :], -np.inf), np.inf)
    order = np.argsort(ratio, axis=1, kind="stable")
    useful = np.take_along_axis(ratio, order, axis=1) < np.inf
    ws = np.where(useful, w[order], 0.0)
    before = np.cumsum(ws, axis=1) - ws
    room = cap[:, None] - before
    take = np.where(ws > 0, np.clip(room / np.where(ws > 0, ws, 1.0), 0.0, 1.0),
                    (room >= 0).astype(float))
    take = np.where(useful, take, 0.0)
    x = np.zeros((r, m))
    np.put_along_axis(x, order, take, axis=1)
    return (x * np.where(np.isfinite(v), v, 0.0)).sum(axis=1), x


def _cap_lagrangian(
    c: np.ndarray,
    w: np.ndarray,
    f: np.ndarray,
    cap: np.ndarray,
    *,
    forced: np.ndarray,
    kmin: int,
    kmax: int,
    upper: float,
    lam0: np.ndarray,
    threshold: float,
    deadline: float,
    stop: object | None,
    max_iter: int = 1000,
    patience: int = 20,
    keep_sets: int = 4,
) -> _Dual:
    """Subgradient ascent on the Lagrangian dual of the demand rows, with capacity.

    Each site's subproblem is a continuous knapsack (serve the demand of
    negative reduced cost up to its capacity); the sites are picked within the
    count range, ``kmin`` already raised to the fewest sites whose capacities
    can hold all demand.
    """
    n = f.size
    lam = lam0.astype(float).copy()
    best, best_lam = -np.inf, lam.copy()
    theta, stall, iters = 2.0, 0, 0
    sets: list[np.ndarray] = []
    for _ in range(max_iter):
        iters += 1
        value_i, x = _knapsack(c - lam[None, :], w, cap)
        rho = f + value_i
        chosen, _, _ = _select(rho, forced, kmin, kmax)
        if not kmin <= int(chosen.sum()) <= kmax:
            best = math.inf
            break
        value = float(lam.sum() + rho[chosen].sum())
        if not math.isfinite(best) or value > best + 1e-12 * max(1.0, abs(best)):
            best, best_lam, stall = value, lam.copy(), 0
            if not sets or not np.array_equal(sets[-1], chosen):
                sets = [*sets[-(keep_sets - 1):], chosen]
        else:
            stall += 1
        if best >= threshold or time.perf_counter() > deadline or (
                _stopped(stop)):
            break
        g = 1.0 - x[chosen].sum(axis=0)
        norm = float(g @ g)
        if norm < 1e-18:
            break
        lam = lam + theta * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm * g
        if stall >= patience:
            theta, stall = theta / 2.0, 0
            if theta < 1e-4:
                break
    return _Dual(bound=best, lam=best_lam, iterations=iters, sets=sets,
                 active=np.ones(n, dtype=bool), forced=forced.copy())


def _transport(c: np.ndarray, w: np.ndarray, cap: np.ndarray, open_: np.ndarray,
               options: SolveOptions, time_limit_s: float) -> tuple[float, np.ndarray] | None:
    """Least cost of serving all demand from the open sites, demand split (an LP).

    ``c`` is the cost of serving all of a demand point (``inf``: not allowed).
    Returns the cost and the ``(n_open, n_d)`` shares, or ``None`` if infeasible.
    """
    from dataclasses import replace

    sub = c[open_]
    r, j = np.nonzero(np.isfinite(sub))
    n_open, n_d = sub.shape
    if not np.isfinite(sub).any(axis=0).all() or cap[open_].sum() < w.sum() * (1 - 1e-12):
        return None
    lp = _Mip()
    x = lp.add_vars(r.size, ub=1.0, obj=sub[r, j])
    dem = lp.add_rows(n_d, lb=1.0, ub=1.0)
    lp.add_terms(dem[j], x, 1.0)
    fin = np.isfinite(cap[open_])
    rows = lp.add_rows(n_open, ub=np.where(fin, cap[open_], np.inf))
    lp.add_terms(rows[r], x, w[j])
    out = lp.solve(replace(options, log=False, progress=None, hint=None, gap=0.0),
                   time_limit_s=time_limit_s)
    if out.values is None or out.status != "optimal":
        return None
    share = np.zeros((n_open, n_d))
    share[r, j] = np.clip(out.values[x], 0.0, 1.0)
    return float(out.objective), share


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


@dataclass
class _Spec:
    """What the engine minimizes.

    ``pair_cost`` (aligned with the cover pairs) is the cost of serving all of
    a demand point from a site; ``open_cost`` is paid per open site and
    ``area_cost`` per m². ``required_share`` ``None`` means all demand is served.
    """

    name: Objective
    pair_cost: np.ndarray | None
    open_cost: np.ndarray
    area_cost: np.ndarray
    required_share: float | None = None
    single: bool = False


class _Log:
    """Incumbents and bounds over the solve, forwarded to ``options.progress``."""

    def __init__(self, options: SolveOptions, t0: float) -> None:
        self.options = options
        self.t0 = t0
        self.best = math.inf
        self.bound = -math.inf
        self.entries: list[tuple[float, float, float]] = []

    def update(self, incumbent: float | None = None, bound: float | None = None) -> None:
        changed = False
        if incumbent is not None and math.isfinite(incumbent) and incumbent < self.best - 1e-12:
            self.best, changed = float(incumbent), True
        if bound is not None and math.isfinite(bound) and bound > self.bound + 1e-12:
            self.bound, changed = float(bound), True
        if changed:
            t = time.perf_counter() - self.t0
            inc = self.best if math.isfinite(self.best) else math.nan
            self.entries.append((t, inc, self.bound))
            if callable(self.options.progress):
                self.options.progress(t, inc, self.bound)


def _only_counts(table: SiteTable) -> bool:
    """Whether the site constraints are only the count range, forced and closed sites."""
    sizes = np.bincount(table.group, minlength=table.n_groups)
    return bool(not math.isfinite(table.area_budget_m2)
                and not math.isfinite(table.rent_cap_usd_year)
                and np.all(table.group_count_min <= 0)
                and np.all(table.group_count_max >= sizes)
                and np.all(table.group_area_min_m2 <= 0)
                and np.all(~np.isfinite(table.group_area_max_m2)))


def _validate(problem: SitingProblem) -> None:
    problems = weight_and_capacity_problems(problem)
    n = problem.n_sites
    for name in ("fixed_cost_usd_year", "site_capacity"):
        arr = getattr(problem, name)
        if arr is None:
            continue
        a = np.asarray(arr, dtype=float)
        if a.shape != (n,):
            problems.append(f"SitingProblem.{name}: shape {a.shape}, expected ({n},)")
        elif not np.all(np.isfinite(a)) or np.any(a < 0):
            problems.append(f"SitingProblem.{name}: expected finite values >= 0")
    if problems:
        raise ValidationError(problems)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def _site_capacity_max(problem: SitingProblem, table: SiteTable) -> np.ndarray:
    """Most parcels/day each site can handle at its largest allowed area."""
    cap = np.full(problem.n_sites, np.inf)
    if problem.capacity_per_m2 is not None:
        cap = np.minimum(cap, float(problem.capacity_per_m2) * table.top_area_m2)
    if problem.site_capacity is not None:
        cap = np.minimum(cap, np.asarray(problem.site_capacity, dtype=float))
    return np.where(table.can_open, cap, 0.0)


def _demand_reasons(problem: SitingProblem, table: SiteTable, rows: np.ndarray,
                    cols: np.ndarray, required_share: float | None) -> list[str]:
    """Objective-specific conflicts: unreachable demand and too little capacity."""
    out: list[str] = []
    w = np.asarray(problem.weight, dtype=float)
    total = float(w.sum())
    can = table.can_open
    ok = can[rows]
    reached = np.zeros(problem.n_demand, dtype=bool)
    reached[cols[ok]] = True
    ids = (np.asarray(problem.demand_ids) if problem.demand_ids is not None
           else np.arange(problem.n_demand))
    capacitated = problem.capacity_per_m2 is not None or problem.site_capacity is not None
    cap = _site_capacity_max(problem, table)
    most = float(np.sort(cap)[::-1][: table.count_max].sum()) if capacitated else np.inf
    budget_cap = np.inf
    if problem.capacity_per_m2 is not None and math.isfinite(table.area_budget_m2):
        budget_cap = float(problem.capacity_per_m2) * table.area_budget_m2
    need = total if required_share is None else required_share * total
    what = ("total demand" if required_share is None
            else f"{required_share:.1%} of demand {_fmt(total)}")
    if budget_cap < need * (1 - 1e-9):
        out.append(f"area budget {_fmt(table.area_budget_m2)} m² × {problem.capacity_per_m2:g} "
                   f"parcels/day per m² = {_fmt(budget_cap)} parcels/day < {what} "
                   f"({_fmt(need)} parcels/day)")
    if required_share is None:
        lost = np.flatnonzero(~reached & (w > 0))
        if lost.size:
            ex = ", ".join(str(x) for x in ids[lost[:5]])
            out.append(f"{lost.size} demand points ({_fmt(float(w[lost].sum()))} parcels/day, "
                       f"e.g. {ex}) are reached by no site that may be opened, but every "
                       "demand point must be served")
        if capacitated and most < total * (1 - 1e-9) and budget_cap >= need * (1 - 1e-9):
            out.append(f"total site capacity {_fmt(most)} < total demand {_fmt(total)} "
                       f"parcels/day (largest allowed areas of at most {table.count_max} "
                       "sites)")
    else:
        share = float(w[reached].sum()) / total if total > 0 else 1.0
        if share < required_share - 1e-12:
            out.append(f"required share {required_share:.1%} but only {share:.1%} of demand is "
                       "reachable by any site that may be opened")
        if capacitated and most < need * (1 - 1e-9) and budget_cap >= need * (1 - 1e-9):
            out.append(f"total site capacity {_fmt(most)} parcels/day < {_fmt(need)} needed to "
                       f"serve {required_share:.1%} of demand {_fmt(total)} (largest allowed "
                       f"areas of at most {table.count_max} sites)")
    return out


def _site_reasons(problem: SitingProblem, table: SiteTable) -> list[str]:
    try:
        from hzlogistics.models.precheck import explain_infeasibility
    except ImportError:  # pragma: no cover - the pre-checks ship with the package
        return []
    return list(explain_infeasibility(table))


def _no_plan(problem: SitingProblem, spec: _Spec, status: str, t0: float, *, reasons: list[str],
             log: list[tuple[float, float, float]] | None = None, bound: float = math.nan,
             info: dict[str, object] | None = None) -> SolveResult:
    return SolveResult(
        status=status,  # type: ignore[arg-type]
        objective=math.nan, bound=bound, gap=math.inf, wall_s=time.perf_counter() - t0,
        area_m2=np.zeros(problem.n_sites), served=sp.csr_matrix((problem.n_sites,
                                                                 problem.n_demand)),
        log=log or [], reasons=reasons, sense="min", objective_name=spec.name, info=info or {},
    )


@dataclass
class _Plan:
    area: np.ndarray
    objective: float
    served: sp.csr_matrix
    source: str
    extra: dict[str, object] = field(default_factory=dict)


def _solve_location(problem: SitingProblem, options: SolveOptions | None, spec: _Spec
                    ) -> SolveResult:
    """Minimize ``spec`` over the site constraints of ``problem``; see the module docstring."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    _validate(problem)
    table = site_table(problem)
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    rows, cols = _cover_pairs(problem.cover)
    reasons = _site_reasons(problem, table)
    reasons += _demand_reasons(problem, table, rows, cols, spec.required_share)
    if reasons:
        return _no_plan(problem, spec, "infeasible", t0, reasons=reasons)
    log = _Log(options, t0)
    info: dict[str, object] = {}
    can = table.can_open
    keep = can[rows]
    rows, cols = rows[keep], cols[keep]
    pair_cost = spec.pair_cost[keep] if spec.pair_cost is not None else None
    capacitated = problem.capacity_per_m2 is not None or problem.site_capacity is not None
    gamin = table.group_area_min_m2
    need_tiers = problem.capacity_per_m2 is not None or bool(np.any(gamin > 0))
    full = spec.required_share is None
    # a lower bound that holds whatever the restriction below: every demand point at its
    # cheapest pair (median, cost), nothing for the area
    floor = 0.0
    if pair_cost is not None and full and rows.size:
        cheapest = np.full(n_d, np.inf)
        # with capacity per m², a site's area holds at least its load / capacity_per_m2,
        # so each parcel also pays its share of the rent there
        np.minimum.at(cheapest, cols, pair_cost + _rent_per_pair(problem, spec, rows, cols, w))
        floor = float(cheapest[np.isfinite(cheapest)].sum())
    elif spec.pair_cost is None and problem.capacity_per_m2 is not None and not full:
        # every m² serves at most capacity_per_m2 parcels/day
        need_w = float(spec.required_share) * float(w.sum())  # type: ignore[arg-type]
        if np.all(spec.area_cost == 1) and np.all(spec.open_cost == 0):
            floor = need_w / float(problem.capacity_per_m2)
    restricted = False
    big_dense = int(can.sum()) * n_d > _DENSE_LIMIT
    if big_dense and full and not capacitated and not need_tiers and pair_cost is not None:
        by_parts = _solve_components(
            problem, options, spec, table, rows, cols, pair_cost,
            base_area=np.where(can, table.min_area_m2, 0.0), t0=t0, log=log, info=info,
            floor=floor)
        if by_parts is not None:
            return by_parts
    spill: _Plan | None = None
    if rows.size > _PAIR_LIMIT and capacitated and full and pair_cost is not None \
            and not spec.single:
        # before the pairs are cut: every demand point nearest first, within capacity
        spill = _consolidated_spill(problem, table, rows, cols, pair_cost, spec=spec,
                                    deadline=t0 + _HEURISTIC_SHARE * options.time_limit_s,
                                    log=log)
        if spill is not None and problem.capacity_per_m2 is not None:
            sized = _smallest_size_bound(
                table, rows, cols, pair_cost, spec=spec, n_demand=n_d, upper=spill.objective,
                deadline=time.perf_counter() + _HEURISTIC_SHARE * options.time_limit_s,
                stop=options.stop)
            info["smallest_size_bound"] = sized
            floor = max(floor, sized)
            log.update(bound=min(floor, spill.objective))
    if rows.size > _PAIR_LIMIT and (capacitated or (full and (need_tiers or big_dense))):
        rows, cols, pair_cost = _nearest_pairs(problem, rows, cols, pair_cost,
                                               per_point=max(1, _PAIR_LIMIT // max(n_d, 1)))
        restricted = True
        info["pairs_per_demand_point"] = max(1, _PAIR_LIMIT // max(n_d, 1))
        logger.info("large problem: each demand point keeps its %s cheapest sites; the bound "
                    "is that of every point at its cheapest site", _PAIR_LIMIT // max(n_d, 1))
    base_area = np.where(can, table.min_area_m2, 0.0)
    # the objective takes integer values on every plan when all its coefficients on
    # integer variables are integers and continuous variables carry none (or, in the
    # radius formulation, integer cost steps)
    o_site, o_area = table.option_arrays()
    o_cost = spec.open_cost[o_site] + spec.area_cost[o_site] * o_area
    integral = bool(np.all(o_cost == np.round(o_cost)))
    if pair_cost is not None:
        integral &= bool(np.all(pair_cost == np.round(pair_cost))) and (
            not capacitated or spec.single)

    def evaluate_open(open_: np.ndarray, source: str, area: np.ndarray | None = None) -> _Plan:
        """The cheapest assignment of every demand point to an open site (no capacity)."""
        if area is None:
            area = np.where(open_, base_area, 0.0)
        sel = open_[rows]
        r, c_, pc = rows[sel], cols[sel], pair_cost[sel]  # type: ignore[index]
        order = np.lexsort((r, pc, c_))
        first = np.ones(order.size, dtype=bool)
        first[1:] = c_[order][1:] != c_[order][:-1]
        pick = order[first]
        served = sp.csr_matrix((w[c_[pick]], (r[pick], c_[pick])), shape=(n, n_d))
        value = float(pc[pick].sum() + spec.open_cost[open_].sum() + spec.area_cost @ area)
        return _Plan(area=area, objective=value, served=served, source=source)

    hint_open = None
    if options.hint is not None:
        h = np.asarray(options.hint, dtype=float)
        if h.shape != (n,):
            raise ValidationError(f"SolveOptions.hint: shape {h.shape}, expected ({n},) areas")
        hint_open = (h > 0) & can
    start = _Start(fix_open=np.zeros(n, dtype=bool), fix_closed=np.zeros(n, dtype=bool))
    dense = int(can.sum()) * n_d <= _DENSE_LIMIT and pair_cost is not None and not need_tiers
    t_h = time.perf_counter()
    if full and dense and not capacitated and pair_cost is not None:
        start = _uncapacitated_start(
            problem, options, table, rows, cols, pair_cost, base_area=base_area, spec=spec,
            t0=t0, log=log, hint_open=hint_open, info=info, integral=integral,
            evaluate_open=evaluate_open)
    elif full and dense and not spec.single and pair_cost is not None:
        start = _capacitated_start(
            problem, options, table, rows, cols, pair_cost, base_area=base_area, spec=spec,
            t0=t0, log=log, hint_open=hint_open, info=info)
    elif not spec.single and (capacitated or not full):
        # no Lagrangian start applies: a greedy plan gives the MIP a warm start
        plan = _greedy_plan(problem, table, rows, cols, pair_cost, spec=spec,
                            deadline=t0 + _HEURISTIC_SHARE * options.time_limit_s)
        if spill is not None and (plan is None or spill.objective < plan.objective):
            plan = spill
        if plan is not None:
            start.incumbent = plan
            log.update(incumbent=plan.objective)
    info["start_s"] = time.perf_counter() - t_h
    incumbent, lagr_bound, threshold = start.incumbent, start.bound, start.threshold
    if incumbent is not None:
        if lagr_bound >= threshold or start.proven:
            return _finish(problem, spec, incumbent, min(lagr_bound, incumbent.objective),
                           "optimal", t0, log, info, options)
        if _stopped(options.stop):
            return _finish(problem, spec, incumbent, min(lagr_bound, incumbent.objective),
                           "interrupted", t0, log, info, options)
        if start.core is not None and start.refix is not None and not (
                start.core | start.fix_closed).all():
            # a MIP restricted to the most promising sites finds a good plan fast; a better
            # plan lowers the threshold, so that more sites are fixed for the full MIP
            t_c = time.perf_counter()
            core_plan, _, core_status = _solve_mip(
                problem, options, spec, table, rows, cols, pair_cost, t0=t0, log=log,
                info={}, need_tiers=need_tiers, base_area=base_area, fix_open=start.fix_open,
                fix_closed=start.fix_closed | (can & ~start.core), integral=integral,
                incumbent=incumbent, hint_open=hint_open, evaluate_open=None,
                threshold=math.inf, time_limit_s=_CORE_SHARE * options.time_limit_s)
            info.update(core_sites=int(start.core.sum()), core_status=core_status,
                        core_s=time.perf_counter() - t_c)
            if core_plan is not None and core_plan.objective < incumbent.objective - 1e-9:
                incumbent = core_plan
                start.fix_open, start.fix_closed, threshold = start.refix(incumbent.objective)
                info.update(fixed_open=int(start.fix_open.sum()),
                            fixed_closed=int(start.fix_closed.sum()))
                if lagr_bound >= threshold:
                    return _finish(problem, spec, incumbent,
                                   min(lagr_bound, incumbent.objective), "optimal", t0, log,
                                   info, options)
    mip_plan, mip_bound, mip_status = _solve_mip(
        problem, options, spec, table, rows, cols, pair_cost, t0=t0, log=log, info=info,
        need_tiers=need_tiers, base_area=base_area, fix_open=start.fix_open,
        fix_closed=start.fix_closed, integral=integral, incumbent=incumbent, hint_open=hint_open,
        evaluate_open=evaluate_open if (full and not capacitated) else None,
        threshold=threshold, reduction=start.reduction,
    )
    best = incumbent
    if mip_plan is not None and (best is None or mip_plan.objective < best.objective):
        best = mip_plan
    if best is None:
        if mip_status == "infeasible" and not math.isfinite(threshold):
            return _no_plan(problem, spec, "infeasible", t0, reasons=_explain(problem, spec),
                            log=log.entries, info=info)
        why = ("stopped before any plan was found" if mip_status == "interrupted"
               else f"no plan found within the time limit of {options.time_limit_s:g} s")
        return _no_plan(problem, spec, "error", t0, log=log.entries, info=info, reasons=[why])
    region = mip_bound if mip_status != "infeasible" else math.inf
    if math.isfinite(threshold):
        # plans outside the reduced model (sites fixed by the Lagrangian) cost at least this
        pruned = math.ceil(threshold) if integral else threshold
        region = min(region, pruned)
    bound = min(max(region, lagr_bound), best.objective)
    if restricted:  # the MIP saw only some pairs: its bound is not one of the full problem
        bound = min(floor, best.objective)
    bound = min(max(bound, floor), best.objective)
    gap = relative_gap(best.objective, bound)
    target = max(float(options.gap), 1e-9)
    if mip_status == "interrupted":
        status = "interrupted"
    elif gap <= target or (gap <= max(target, 1e-6) and (
            mip_status == "optimal"
            # no plan below the threshold: the incumbent is optimal up to its rounding
            or (mip_status == "infeasible" and math.isfinite(threshold)))):
        status = "optimal"
    else:
        status = "feasible"
    return _finish(problem, spec, best, bound, status, t0, log, info, options)


# --------------------------------------------------------------------------------------------
# Large uncapacitated problems: one connected component at a time
# --------------------------------------------------------------------------------------------

#: Pairs per demand point the sparse Lagrangian bound keeps (it stays a bound of the
#: full problem, see :mod:`hzlogistics.solvers.lagrange`).
_SPARSE_KEEP = 64

#: Shares of the time left that the first sparse Lagrangian ascent, and then the
#: components, may take; the rest goes to a second ascent.
_SPARSE_SHARE, _PARTS_SHARE = 0.15, 0.75

#: Share of the time left after the components that moving sites between them may take.
_MOVE_SHARE = 0.5

#: Step factor of the second ascent, which starts from the first one's best multipliers.
_SPARSE_THETA = 0.5


def _sites_only_counted(table: SiteTable, base_area: np.ndarray) -> bool:
    """Whether, at base areas, no plan can break the area budget, rent cap or area quotas."""
    can = table.can_open
    area = np.where(can, base_area, 0.0)

    def most(values: np.ndarray, k: int) -> float:
        return float(np.sort(values)[::-1][:k].sum())

    if most(area, table.count_max) > table.area_budget_m2 * (1 + 1e-12):
        return False
    if most(area * table.rent_usd_m2_year, table.count_max) > \
            table.rent_cap_usd_year * (1 + 1e-12):
        return False
    for g in range(table.n_groups):
        in_g = table.group == g
        if table.group_area_min_m2[g] > 0:
            return False
        k = min(int(table.group_count_max[g]), table.count_max)
        if most(area[in_g], k) > table.group_area_max_m2[g] * (1 + 1e-12):
            return False
    return True


def _components(rows: np.ndarray, cols: np.ndarray, n: int, n_d: int
                ) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components of the site–demand pairs: count, site labels, demand labels.

    A site in no pair is labelled -1.
    """
    from scipy.sparse.csgraph import connected_components

    graph = sp.coo_matrix((np.ones(rows.size), (rows, n + cols)), shape=(n + n_d, n + n_d))
    k, label = connected_components(graph, directed=False)
    site_label = label[:n].copy()
    in_pair = np.zeros(n, dtype=bool)
    in_pair[rows] = True
    site_label[~in_pair] = -1
    # renumber the components that hold demand 0..k-1
    used, demand_label = np.unique(label[n:], return_inverse=True)
    remap = np.full(k, -1)
    remap[used] = np.arange(used.size)
    site_label[in_pair] = remap[site_label[in_pair]]
    return int(used.size), site_label, demand_label.astype(np.int64)


def _allocate(chosen: np.ndarray, rho: np.ndarray, table: SiteTable, can: np.ndarray,
              site_label: np.ndarray, n_comp: int) -> np.ndarray:
    """Repair a Lagrangian site set so that its counts fit every count constraint.

    Every component opens at least one site; per-group and total counts come
    within their ranges, adding the sites of least ``rho`` and dropping those of
    most.
    """
    chosen = chosen & can | (table.forced & can)
    score = np.where(can, rho, np.inf)

    def comp_count() -> np.ndarray:
        lab = site_label[chosen & (site_label >= 0)]
        return np.bincount(lab, minlength=n_comp)

    def add(cands: np.ndarray) -> bool:
        cands = cands & can & ~chosen
        if not cands.any():
            return False
        idx = np.flatnonzero(cands)
        chosen[idx[np.argmin(score[idx])]] = True
        return True

    def drop(cands: np.ndarray) -> bool:
        cands = cands & chosen & ~table.forced
        if not cands.any():
            return False
        idx = np.flatnonzero(cands)
        chosen[idx[np.argmax(score[idx])]] = False
        return True

    for c in np.flatnonzero(comp_count() == 0):
        add(site_label == c)
    group = table.group
    for g in range(table.n_groups):
        while int((chosen & (group == g)).sum()) < table.group_count_min[g]:
            if not add(group == g):
                break
        while int((chosen & (group == g)).sum()) > table.group_count_max[g]:
            counts = comp_count()
            alone = np.isin(site_label, np.flatnonzero(counts <= 1))
            if not drop((group == g) & ~alone):
                break
    g_count = np.bincount(group[chosen], minlength=table.n_groups)
    while int(chosen.sum()) > table.count_max:
        counts = comp_count()
        g_count = np.bincount(group[chosen], minlength=table.n_groups)
        spare = (g_count > table.group_count_min)[group]
        alone = np.isin(site_label, np.flatnonzero(counts <= 1)) & (site_label >= 0)
        if not drop(spare & ~alone):
            break
    while int(chosen.sum()) < table.count_min:
        g_count = np.bincount(group[chosen], minlength=table.n_groups)
        if not add((g_count < table.group_count_max)[group]):
            break
    return chosen


def _cover_every_point(chosen: np.ndarray, rho: np.ndarray, table: SiteTable,
                       s_site: np.ndarray, s_col: np.ndarray, n_d: int) -> np.ndarray | None:
    """Open the cheapest site of each demand point no open site reaches, then drop sites.

    ``s_site``/``s_col`` are the pairs by demand point and cost. While there are more sites than
    ``count_max``, the site of most ``rho`` whose demand points all keep another
    open site (and whose group keeps its minimum) closes. ``None`` when the
    count cannot be met that way.
    """
    chosen = chosen.copy()
    reached = np.zeros(n_d, dtype=bool)
    reached[s_col[chosen[s_site]]] = True
    if not reached.all():
        first = np.r_[True, s_col[1:] != s_col[:-1]]
        need = first & ~reached[s_col]
        chosen[s_site[need]] = True
    if int(chosen.sum()) <= table.count_max:
        return chosen
    # the demand points of each site
    order = np.argsort(s_site, kind="stable")
    pair_demand = s_col[order]
    start = np.searchsorted(s_site[order], np.arange(chosen.size + 1))
    times = np.bincount(s_col[chosen[s_site]], minlength=n_d)
    g_count = np.bincount(table.group[chosen], minlength=table.n_groups)
    for i in np.argsort(-np.where(chosen & ~table.forced, rho, -np.inf)):
        if int(chosen.sum()) <= table.count_max:
            break
        if not chosen[i] or table.forced[i] or g_count[table.group[i]] <= \
                table.group_count_min[table.group[i]]:
            continue
        mine = pair_demand[start[i]:start[i + 1]]
        if np.any(times[mine] <= 1):
            continue
        chosen[i] = False
        times[mine] -= 1
        g_count[table.group[i]] -= 1
    return chosen if int(chosen.sum()) <= table.count_max else None


@dataclass
class _Part:
    """One component during the transfer of sites: its dense costs and current plan."""

    sites: np.ndarray
    demand: np.ndarray
    cost: np.ndarray
    open_cost: np.ndarray
    can: np.ndarray
    forced: np.ndarray
    open_: np.ndarray
    gain: float = -math.inf
    add: int = -1
    loss: float = math.inf
    drop: int = -1

    def assess(self) -> None:
        """The best site to add and the best to drop, and what each changes exactly."""
        idx = np.flatnonzero(self.open_)
        d1, near, d2 = _nearest_two(self.cost, idx, math.inf)
        with np.errstate(invalid="ignore"):
            gain = np.maximum(d1[None, :] - self.cost, 0.0).sum(axis=1) - self.open_cost
            loss = np.bincount(near, weights=d2 - d1, minlength=self.sites.size) - \
                self.open_cost
        gain = np.where(self.open_ | ~self.can, -math.inf, gain)
        loss = np.where(~self.open_ | self.forced | (idx.size <= 1), math.inf, loss)
        self.add, self.drop = int(np.argmax(gain)), int(np.argmin(loss))
        self.gain, self.loss = float(gain[self.add]), float(loss[self.drop])

    def value(self) -> float:
        d1 = _nearest_two(self.cost, np.flatnonzero(self.open_), math.inf)[0]
        return float(d1.sum() + self.open_cost[self.open_].sum())


def _dense_parts(site_label: np.ndarray, demand_label: np.ndarray, rows: np.ndarray,
                 cols: np.ndarray, pair_cost: np.ndarray, open_cost: np.ndarray, *,
                 can: np.ndarray, forced: np.ndarray, open_: np.ndarray, n_comp: int
                 ) -> list[_Part]:
    """Each component as a dense cost matrix (``inf`` where a site does not reach)."""
    by_comp = np.argsort(site_label[rows], kind="stable")
    comp_of_pair = site_label[rows][by_comp]
    bounds = np.searchsorted(comp_of_pair, np.arange(n_comp + 1))
    parts = []
    for k in range(n_comp):
        pick = by_comp[bounds[k]:bounds[k + 1]]
        sites = np.flatnonzero(site_label == k)
        demand = np.flatnonzero(demand_label == k)
        s_pos = np.searchsorted(sites, rows[pick])
        d_pos = np.searchsorted(demand, cols[pick])
        cost = np.full((sites.size, demand.size), math.inf)
        cost[s_pos, d_pos] = pair_cost[pick]
        parts.append(_Part(sites=sites, demand=demand, cost=cost, open_cost=open_cost[sites],
                           can=can[sites], forced=forced[sites], open_=open_[sites].copy()))
    return parts


def _transfer_sites(parts: list[_Part], table: SiteTable, open_all: np.ndarray, *,
                    total: float, deadline: float, stop: object | None) -> set[int]:
    """Move sites between components while that lowers the total; the parts changed.

    The components are independent, so adding a site to one and dropping one
    from another changes the total by exactly the sum of the two changes; the
    site count stays the same (sites are also added while the count allows,
    and dropped when dropping pays). ``open_all`` is the plan's open mask over
    every site (for the per-group counts); ``total`` its value (for the tolerance).
    """
    group = table.group
    g_count = np.bincount(group[open_all], minlength=table.n_groups)
    count = int(open_all.sum())
    for p in parts:
        p.assess()
    changed: set[int] = set()
    scale = 1e-9 * max(1.0, abs(total))

    def can_add(k: int) -> bool:
        p = parts[k]
        return p.add >= 0 and math.isfinite(p.gain) and \
            g_count[group[p.sites[p.add]]] < table.group_count_max[group[p.sites[p.add]]]

    def can_drop(k: int) -> bool:
        p = parts[k]
        return math.isfinite(p.loss) and \
            g_count[group[p.sites[p.drop]]] > table.group_count_min[group[p.sites[p.drop]]]

    def apply(k: int, add: bool) -> None:
        p = parts[k]
        i = p.add if add else p.drop
        p.open_[i] = add
        g_count[group[p.sites[i]]] += 1 if add else -1
        changed.add(k)
        p.assess()

    while time.perf_counter() < deadline and not _stopped(stop):
        gains = np.array([p.gain if can_add(k) else -math.inf for k, p in enumerate(parts)])
        losses = np.array([p.loss if can_drop(k) else math.inf for k, p in enumerate(parts)])
        a = int(np.argmax(gains))
        b = int(np.argmin(losses))
        if count < table.count_max and gains[a] > scale:
            apply(a, True)
            count += 1
            continue
        if count > table.count_min and losses[b] < -scale:
            apply(b, False)
            count -= 1
            continue
        if a == b:  # the best of each is in the same component: take the next best of one
            g2 = gains.copy()
            g2[a] = -math.inf
            l2 = losses.copy()
            l2[b] = math.inf
            a2, b2 = int(np.argmax(g2)), int(np.argmin(l2))
            a, b = (a2, b) if g2[a2] - losses[b] >= gains[a] - l2[b2] else (a, b2)
        if a == b or not gains[a] - losses[b] > scale:
            break
        apply(a, True)
        apply(b, False)
    return changed


def _polish_parts(parts: list[_Part], which: set[int], *, deadline: float,
                  stop: object | None) -> None:
    """Vertex substitution in the given components, each at its number of sites."""
    for k in sorted(which, key=lambda k: -parts[k].cost.size):
        if time.perf_counter() >= deadline or _stopped(stop):
            return
        p = parts[k]
        finite = np.isfinite(p.cost)
        big = float(np.where(finite, p.cost, 0.0).max(axis=0).sum()
                    + np.abs(p.open_cost).sum()) * 2.0 + 1.0
        c_big = np.where(finite & p.can[:, None], p.cost, big)
        m = int(p.open_.sum())
        before = p.value()
        open_, _ = _interchange(c_big, p.open_cost, kmin=m, kmax=m, forced=p.forced,
                                start=p.open_, deadline=deadline, stop=stop)
        trial = _Part(sites=p.sites, demand=p.demand, cost=p.cost, open_cost=p.open_cost,
                      can=p.can, forced=p.forced, open_=open_)
        after = trial.value()
        if math.isfinite(after) and after < before and not np.any(open_ & ~p.can):
            p.open_ = open_
            p.assess()


def _solve_components(problem: SitingProblem, options: SolveOptions, spec: _Spec,
                      table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                      pair_cost: np.ndarray, *, base_area: np.ndarray, t0: float, log: _Log,
                      info: dict[str, object], floor: float) -> SolveResult | None:
    """Solve a large uncapacitated problem component by component; ``None`` if it does not apply.

    Without capacity, and when the area budget, rent cap and area quotas cannot
    bind, sites interact only through the counts. The demand points and sites
    then split into connected components (the countries, without cross-border
    delivery), each small enough for the dense engine. A sparse Lagrangian
    bound over every pair (:func:`~hzlogistics.solvers.lagrange.sparse_lagrangian`)
    bounds the whole problem and its site set gives the number of sites of each
    component; each component is then solved for that number (or, when only
    forced and closed sites constrain the sites, for any number, so that the
    components' own bounds add up to one of the whole). With the numbers fixed,
    sites then move between components while that lowers the total
    (:func:`_transfer_sites`), and each component changed improves by vertex
    substitution at its new number.
    """
    from hzlogistics.solvers.lagrange import (
        by_demand_then_cost,
        cheapest_pairs,
        sparse_lagrangian,
    )

    n, n_d = problem.n_sites, problem.n_demand
    if not _sites_only_counted(table, base_area):
        return None
    n_comp, site_label, demand_label = _components(rows, cols, n, n_d)
    if n_comp < 2:
        return None
    sizes = np.bincount(site_label[site_label >= 0], minlength=n_comp) * \
        np.bincount(demand_label, minlength=n_comp)
    if sizes.max() > _DENSE_LIMIT:
        return None
    in_any = site_label >= 0
    group_sizes = np.bincount(table.group, minlength=table.n_groups)
    quotas = np.any(table.group_count_min > 0) or np.any(table.group_count_max < group_sizes)
    if quotas:
        # per-group counts are then set by the components' numbers of sites, which holds
        # only when no component mixes groups
        pairs_of = np.unique(np.stack([site_label[in_any], table.group[in_any]]), axis=1)
        if pairs_of.shape[1] > np.unique(site_label[in_any]).size:
            return None
    can = table.can_open
    w = np.asarray(problem.weight, dtype=float)
    open_cost = np.where(can, spec.open_cost + spec.area_cost * base_area, 0.0)
    free_counts = _only_counts(table) and table.count_min <= int((table.forced & can).sum()) \
        and table.count_max >= int(can.sum())
    info.update(components=n_comp, largest_component_pairs=int(sizes.max()))

    # --- bound of the whole problem and a site set
    order = by_demand_then_cost(cols, pair_cost)
    s_site, s_col, s_cost = rows[order], cols[order], pair_cost[order]
    pairs = cheapest_pairs(s_site, s_col, s_cost, n_sites=n, n_demand=n_d, keep=_SPARSE_KEEP,
                           presorted=True)

    def evaluate(open_: np.ndarray) -> tuple[float, sp.csr_matrix]:
        sel = np.flatnonzero(open_[s_site])
        first = np.unique(s_col[sel], return_index=True)[1]
        pick = sel[first]
        served = sp.csr_matrix((w[s_col[pick]], (s_site[pick], s_col[pick])), shape=(n, n_d))
        if first.size < n_d:
            return math.inf, served
        return float(s_cost[pick].sum() + open_cost[open_].sum()), served

    t_l = time.perf_counter()

    def allocate(chosen: np.ndarray, rho: np.ndarray) -> np.ndarray | None:
        chosen = _allocate(chosen, rho, table, can, site_label, n_comp)
        return _cover_every_point(chosen, rho, table, s_site, s_col, n_d)

    first = allocate(np.zeros(n, dtype=bool), np.where(can, open_cost, np.inf))
    if first is None:
        return None
    start: np.ndarray = first
    upper, _ = evaluate(start)
    left = options.time_limit_s - (t_l - t0)
    dual = sparse_lagrangian(
        pairs, open_cost, can=can, forced=table.forced & can, kmin=table.count_min,
        kmax=table.count_max, upper=upper, deadline=t_l + _SPARSE_SHARE * max(left, 0.0),
        on_bound=lambda b: log.update(bound=max(b, floor)),
        stopped=lambda: _stopped(options.stop))
    bound = max(dual.bound, floor)
    chosen = allocate(dual.chosen, dual.rho)
    value, served = evaluate(chosen) if chosen is not None else (math.inf, None)
    if chosen is not None and served is not None and value < upper:
        upper, best_open, best_served = value, chosen, served
    else:
        best_open = start
        best_served = evaluate(start)[1]
    log.update(incumbent=upper, bound=bound)
    info.update(sparse_iterations=dual.iterations, sparse_s=time.perf_counter() - t_l)
    t_parts = time.perf_counter()
    parts_deadline = t_parts + _PARTS_SHARE * max(options.time_limit_s - (t_parts - t0), 0.0)

    # --- each component, largest first, on a share of the time left
    area = np.where(best_open, base_area, 0.0)
    served_parts: dict[int, sp.csr_matrix] = {}
    part_bound = np.zeros(n_comp)
    coo = best_served.tocoo()
    used_cost = _values_at(sp.csr_matrix((pair_cost, (rows, cols)), shape=(n, n_d)),
                           coo.row.astype(np.int64), coo.col.astype(np.int64))
    part_value = np.bincount(demand_label[coo.col], weights=used_cost, minlength=n_comp)
    in_comp = site_label >= 0
    part_value += np.bincount(site_label[best_open & in_comp],
                              weights=open_cost[best_open & in_comp], minlength=n_comp)
    idle_value = float(open_cost[best_open & ~in_comp].sum())
    statuses: list[str] = []
    remaining_pairs = float(sizes.sum())
    order_solved = np.argsort(-sizes, kind="stable")
    for c in order_solved:
        now = time.perf_counter()
        left = parts_deadline - now
        if left <= 0.05 or _stopped(options.stop):
            statuses.append("skipped")
            part_bound[c] = -math.inf
            continue
        budget = max(left * float(sizes[c]) / max(remaining_pairs, 1.0), min(left, 0.5))
        remaining_pairs -= float(sizes[c])
        s_idx = np.flatnonzero(site_label == c)
        d_idx = np.flatnonzero(demand_label == c)
        p_c = int(best_open[s_idx].sum())
        s_pos = np.full(n, -1)
        s_pos[s_idx] = np.arange(s_idx.size)
        d_pos = np.full(n_d, -1)
        d_pos[d_idx] = np.arange(d_idx.size)
        mine = site_label[rows] == c
        r_c, c_c, k_c = s_pos[rows[mine]], d_pos[cols[mine]], pair_cost[mine]
        sub = SitingProblem(
            weight=w[d_idx], cover=sp.csr_matrix((np.ones(r_c.size), (r_c, c_c)),
                                                 shape=(s_idx.size, d_idx.size)),
            tiers_m2=problem.tiers_m2,
            max_area_m2=table.max_area_m2[s_idx], existing_area_m2=table.existing_m2[s_idx],
            forbidden=~can[s_idx], rent_usd_m2_year=table.rent_usd_m2_year[s_idx],
            area_budget_m2=None,
            count_min=int((table.forced & can)[s_idx].sum()) if free_counts else p_c,
            count_max=None if free_counts else p_c,
        )
        key = np.lexsort((c_c, r_c))  # row-major, the order of the sub-problem's pairs
        sub_spec = _Spec(name=spec.name, pair_cost=k_c[key],
                         open_cost=spec.open_cost[s_idx], area_cost=spec.area_cost[s_idx])
        sub_options = SolveOptions(time_limit_s=budget, gap=options.gap, seed=options.seed,
                                   workers=options.workers, stop=options.stop,
                                   hint=area[s_idx])
        res = _solve_location(sub, sub_options, sub_spec)
        statuses.append(res.status)
        if res.has_solution and res.objective <= part_value[c] + 1e-9:
            sc = sp.coo_matrix(res.served)
            served_parts[int(c)] = sp.csr_matrix((sc.data, (s_idx[sc.row], d_idx[sc.col])),
                                                 shape=(n, n_d))
            area[s_idx] = res.area_m2
            part_value[c] = res.objective
            if math.isfinite(res.bound):
                part_bound[c] = res.bound
        else:
            statuses[-1] += " (Lagrangian plan kept)"
            part_bound[c] = res.bound if math.isfinite(res.bound) else -math.inf
        log.update(incumbent=float(part_value.sum() + idle_value))
    # sites move between components while that pays (the counts tie them together)
    t_m = time.perf_counter()
    left = options.time_limit_s - (t_m - t0)
    moved: dict[int, _Part] = {}
    if not free_counts and left > 2.0 and not _stopped(options.stop):
        parts = _dense_parts(site_label, demand_label, rows, cols, pair_cost, open_cost,
                             can=can, forced=table.forced & can, open_=area > 0,
                             n_comp=n_comp)
        deadline = t_m + _MOVE_SHARE * left
        changed = _transfer_sites(parts, table, area > 0,
                                  total=float(part_value.sum() + idle_value),
                                  deadline=deadline, stop=options.stop)
        _polish_parts(parts, changed, deadline=deadline, stop=options.stop)
        moved = {k: parts[k] for k in changed}
        info.update(components_changed=len(moved), move_s=time.perf_counter() - t_m)
    for k, part in moved.items():
        area[part.sites] = np.where(part.open_, base_area[part.sites], 0.0)
        _, near, _ = _nearest_two(part.cost, np.flatnonzero(part.open_), math.inf)
        part_value[k] = part.value()
        part_bound[k] = -math.inf
        statuses[int(np.flatnonzero(order_solved == k)[0])] += " then resized"
        served_parts[k] = sp.csr_matrix((w[part.demand], (part.sites[near], part.demand)),
                                        shape=(n, n_d))
    if moved:
        log.update(incumbent=float(part_value.sum() + idle_value))
    # the demand of components not re-solved keeps its Lagrangian assignment
    served_new = sp.csr_matrix((n, n_d))
    for part_served in served_parts.values():
        served_new = served_new + part_served
    done = np.asarray(served_new.sum(axis=0)).ravel() > 0
    old = best_served.tocoo()
    stay = ~done[old.col]
    served_all = sp.csr_matrix(served_new + sp.csr_matrix(
        (old.data[stay], (old.row[stay], old.col[stay])), shape=(n, n_d)))
    objective = float(part_value.sum() + idle_value)
    left = options.time_limit_s - (time.perf_counter() - t0)
    if left > 4.0 and bound < _threshold(objective, options, integral=False) \
            and not _stopped(options.stop):
        # the ascent again, from its best multipliers, aiming at the plan's value
        t_2 = time.perf_counter()
        again = sparse_lagrangian(
            pairs, open_cost, can=can, forced=table.forced & can, kmin=table.count_min,
            kmax=table.count_max, upper=objective,
            deadline=t_2 + left - max(2.5, 0.04 * options.time_limit_s),
            on_bound=lambda b: log.update(bound=min(max(b, floor), objective)),
            stopped=lambda: _stopped(options.stop), lam0=dual.lam, theta0=_SPARSE_THETA)
        bound = max(bound, again.bound)
        info.update(sparse_iterations=dual.iterations + again.iterations,
                    sparse_s=float(info["sparse_s"]) + time.perf_counter() - t_2)  # type: ignore[arg-type]
    info["sparse_bound"] = bound
    if free_counts and np.all(np.isfinite(part_bound)):
        bound = max(bound, float(part_bound.sum()))
    bound = min(bound, objective)
    info.update(component_status={s: statuses.count(s) for s in set(statuses)})
    if np.all(np.isfinite(part_bound)):
        # a bound for these numbers of sites per component only
        info["components_bound"] = float(part_bound.sum())
    gap = relative_gap(objective, bound)
    status = ("interrupted" if _stopped(options.stop)
              else "optimal" if gap <= max(float(options.gap), 1e-9) else "feasible")
    plan = _Plan(area=area, objective=objective, served=served_all, source="components")
    return _finish(problem, spec, plan, bound, status, t0, log, info, options)


@dataclass
class _Start:
    """What the steps before the MIP found.

    ``bound`` holds for every plan; the sites in ``fix_open``/``fix_closed``
    are fixed in the MIP, which is valid for the plans cheaper than
    ``threshold`` (the others cannot improve on ``incumbent`` enough to matter).
    """

    fix_open: np.ndarray
    fix_closed: np.ndarray
    incumbent: _Plan | None = None
    bound: float = -math.inf
    threshold: float = math.inf
    proven: bool = False
    reduction: _Reduction | None = None
    core: np.ndarray | None = None
    refix: Callable[[float], tuple[np.ndarray, np.ndarray, float]] | None = None


def _uncapacitated_start(
    problem: SitingProblem,
    options: SolveOptions,
    table: SiteTable,
    rows: np.ndarray,
    cols: np.ndarray,
    pair_cost: np.ndarray,
    *,
    base_area: np.ndarray,
    spec: _Spec,
    t0: float,
    log: _Log,
    hint_open: np.ndarray | None,
    info: dict[str, object],
    integral: bool,
    evaluate_open: Callable[..., _Plan],
) -> _Start:
    """Vertex substitution, Lagrangian bound and fixing, then branch and bound.

    Every demand point is served by its cheapest open site; the Lagrangian
    relaxes the assignment rows. The branch and bound runs only when the
    count range, existing and forbidden sites are the only site constraints.
    """
    n, n_d = problem.n_sites, problem.n_demand
    can = table.can_open
    forced = table.forced & can
    kmin, kmax = int(table.count_min), int(table.count_max)
    idx = np.flatnonzero(can)
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx] = np.arange(idx.size)
    c_inf = np.full((idx.size, n_d), np.inf)
    c_inf[pos[rows], cols] = pair_cost
    f = (spec.open_cost + spec.area_cost * base_area)[idx]
    big = float(np.nansum(np.where(np.isfinite(c_inf), c_inf, 0.0).max(axis=0))
                + np.abs(f).sum()) * 2.0 + 1.0
    c_big = np.where(np.isfinite(c_inf), c_inf, big)
    forced_a = forced[idx]
    out = _Start(fix_open=np.zeros(n, dtype=bool), fix_closed=np.zeros(n, dtype=bool))

    def improve(start: np.ndarray | None, deadline: float) -> None:
        open_a, _ = _interchange(c_big, f, kmin=kmin, kmax=kmax, forced=forced_a,
                                 start=start, deadline=deadline, stop=options.stop)
        k = int(open_a.sum())
        if not open_a.any() or not kmin <= k <= kmax:
            return
        if not np.isfinite(c_inf[open_a]).any(axis=0).all():
            return
        open_ = np.zeros(n, dtype=bool)
        open_[idx[open_a]] = True
        plan = evaluate_open(open_, "heuristic")
        if plan_violations(table, plan.area):
            return
        if out.incumbent is None or plan.objective < out.incumbent.objective - 1e-12:
            out.incumbent = plan
            log.update(incumbent=plan.objective)

    def threshold_of(upper: float) -> float:
        return _threshold(upper, options, integral=integral)

    share = _HEURISTIC_SHARE * options.time_limit_s
    if hint_open is not None and hint_open.any():
        improve(hint_open[idx], t0 + share)
    improve(None, t0 + share)
    if out.incumbent is None:
        return out
    t_l = time.perf_counter()
    ub = out.incumbent.objective
    lam0 = np.min(c_inf[out.incumbent.area[idx] > 0], axis=0)
    dual = _lagrangian(c_inf, f, forced=forced_a, kmin=kmin, kmax=kmax, upper=ub, lam0=lam0,
                       threshold=threshold_of(ub), deadline=t0 + 2 * share, stop=options.stop)
    if dual.bound < threshold_of(ub):
        # the subproblem's site sets near the dual optimum are good starts
        for chosen in reversed(dual.sets):
            improve(chosen, t0 + 2 * share)
    ub = out.incumbent.objective
    threshold = threshold_of(ub)
    act = np.flatnonzero(dual.active)
    red = _fixings(c_inf[act], f[act], dual.lam, forced=dual.forced[act], kmin=kmin, kmax=kmax,
                   threshold=threshold)
    bound = max(dual.bound, red.value)
    if integral and math.isfinite(bound):
        bound = math.ceil(bound - 1e-6)
    open_a = dual.forced.copy()
    open_a[act[red.must_open]] = True
    closed_a = ~dual.active
    closed_a[act[red.must_close]] = True
    out.fix_open[idx[open_a & ~forced_a]] = True
    out.fix_closed[idx[closed_a]] = True
    rho_full = np.zeros(n)
    rho_full[idx[act]] = red.rho
    chosen_full = np.zeros(n, dtype=bool)
    chosen_full[idx[act]] = red.chosen
    out.reduction = _Reduction(
        value=red.value, rho=rho_full, chosen=chosen_full, must_open=out.fix_open,
        must_close=out.fix_closed, threshold=threshold, kmin=kmin, kmax=kmax,
        top_sites=idx[act[red.top_sites]], top_cost=red.top_cost, beyond_rho=red.beyond_rho)
    out.bound, out.threshold = bound, threshold
    info.update(lagrangian_bound=bound, lagrangian_iterations=dual.iterations,
                lagrangian_s=time.perf_counter() - t_l, fixed_open=int(out.fix_open.sum()),
                fixed_closed=int(out.fix_closed.sum()))
    log.update(bound=min(bound, ub))
    if bound >= threshold or _stopped(options.stop):
        return out
    if not _only_counts(table):
        return out
    t_s = time.perf_counter()
    rows_a = np.flatnonzero(~closed_a)
    search = _branch_and_bound(
        c_inf[rows_a], f[rows_a], forced=open_a[rows_a], kmin=kmin, kmax=kmax, upper=ub,
        upper_open=(out.incumbent.area[idx] > 0)[rows_a], lam=dual.lam,
        threshold_of=threshold_of, deadline=t0 + _SEARCH_SHARE * options.time_limit_s,
        stop=options.stop)
    info.update(search_nodes=search.nodes, search_s=time.perf_counter() - t_s,
                search_proven=search.proven)
    if search.open_ is not None and search.value < out.incumbent.objective:
        open_ = np.zeros(n, dtype=bool)
        open_[idx[rows_a[search.open_]]] = True
        out.incumbent = evaluate_open(open_, "search")
        log.update(incumbent=out.incumbent.objective)
    found = search.bound
    if integral and math.isfinite(found):
        found = math.ceil(found - 1e-6)
    out.bound = max(out.bound, min(found, out.incumbent.objective))
    out.threshold = threshold_of(out.incumbent.objective)
    out.proven = search.proven
    log.update(bound=out.bound)
    return out


def _capacitated_start(
    problem: SitingProblem,
    options: SolveOptions,
    table: SiteTable,
    rows: np.ndarray,
    cols: np.ndarray,
    pair_cost: np.ndarray,
    *,
    base_area: np.ndarray,
    spec: _Spec,
    t0: float,
    log: _Log,
    hint_open: np.ndarray | None,
    info: dict[str, object],
) -> _Start:
    """A plan, a Lagrangian bound and site fixings for capacitated, split demand.

    Plans come from the sites the Lagrangian subproblem picks (completed to
    enough capacity, demand assigned by a transportation LP, idle sites
    closed) and from a drop search on the best of them.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    can = table.can_open
    forced = table.forced & can
    idx = np.flatnonzero(can)
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx] = np.arange(idx.size)
    c = np.full((idx.size, n_d), np.inf)
    c[pos[rows], cols] = pair_cost
    f = (spec.open_cost + spec.area_cost * base_area)[idx]
    cap = _site_capacity_max(problem, table)[idx]
    forced_a = forced[idx]
    kmin, kmax = int(table.count_min), int(table.count_max)
    total = float(w.sum())
    need = int(np.searchsorted(np.cumsum(np.sort(cap)[::-1]), total * (1 - 1e-12)) + 1)
    kmin_eff = max(kmin, need)
    deadline = t0 + _HEURISTIC_SHARE * options.time_limit_s
    out = _Start(fix_open=np.zeros(n, dtype=bool), fix_closed=np.zeros(n, dtype=bool))
    best: list[_Plan | None] = [None]
    tried: set[bytes] = set()

    def plan_of(open_a: np.ndarray) -> _Plan | None:
        """Assign by LP; close sites left idle and re-solve; check the site rules."""
        for attempt in range(2):
            key = open_a.tobytes()
            if key in tried and attempt == 0:
                return None
            tried.add(key)
            remaining = options.time_limit_s - (time.perf_counter() - t0)
            got = _transport(c, w, cap, open_a, options, max(remaining, 0.05))
            if got is None:
                return None
            value, x = got
            idle = np.flatnonzero(open_a)[(x.sum(axis=1) <= 1e-12) & ~forced_a[open_a]]
            if idle.size == 0 or int(open_a.sum()) - idle.size < kmin:
                break
            open_a = open_a.copy()
            open_a[idle] = False
        k = int(open_a.sum())
        if not kmin <= k <= kmax:
            return None
        area = np.zeros(n)
        area[idx[open_a]] = base_area[idx[open_a]]
        if plan_violations(table, area):
            return None
        r, j = np.nonzero(x > 1e-12)
        served = sp.csr_matrix((w[j] * x[r, j], (idx[np.flatnonzero(open_a)[r]], j)),
                               shape=(n, n_d))
        objective = float(value + spec.open_cost @ (area > 0) + spec.area_cost @ area)
        plan = _Plan(area=area, objective=objective, served=served, source="heuristic")
        if best[0] is None or plan.objective < best[0].objective - 1e-9:
            best[0] = plan
            log.update(incumbent=plan.objective)
        return plan

    def complete(open_a: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """Add the sites of least ``rho`` until the open capacity holds all demand."""
        open_a = open_a | forced_a
        for i in np.argsort(rho, kind="stable"):
            if cap[open_a].sum() >= total * (1 - 1e-12) and int(open_a.sum()) >= kmin_eff:
                break
            open_a[i] = True
        return open_a

    # a first plan: cheapest sites per unit of capacity, for the step sizes
    per_unit = (f + np.where(np.isfinite(c), c, 0.0).mean(axis=1)) / np.maximum(cap, 1e-12)
    starts = [complete(np.zeros(idx.size, dtype=bool), per_unit)]
    if hint_open is not None and hint_open.any():
        starts.append(complete(hint_open[idx], per_unit))
    for start in starts:
        plan_of(start)
    if best[0] is None:
        return out
    lam0 = np.where(np.isfinite(c), c, np.inf).min(axis=0)
    thr = _threshold(best[0].objective, options, integral=False)
    dual = _cap_lagrangian(c, w, f, cap, forced=forced_a, kmin=kmin_eff, kmax=kmax,
                           upper=best[0].objective, lam0=lam0, threshold=thr,
                           deadline=deadline, stop=options.stop)
    value_i, _ = _knapsack(c - dual.lam[None, :], w, cap)
    rho = f + value_i
    for chosen in reversed(dual.sets):
        if time.perf_counter() > deadline:
            break
        plan_of(complete(chosen, rho))
    # drop search: close the open site whose removal lowers the cost most
    improved = True
    while improved and time.perf_counter() < deadline and best[0] is not None:
        improved = False
        cur = best[0]
        open_a = cur.area[idx] > 0
        for i in np.flatnonzero(open_a & ~forced_a)[np.argsort(rho[open_a & ~forced_a])[::-1]]:
            if time.perf_counter() > deadline:
                break
            trial = open_a.copy()
            trial[i] = False
            if cap[trial].sum() < total * (1 - 1e-12) or int(trial.sum()) < kmin_eff:
                continue
            before = best[0].objective
            plan_of(trial)
            if best[0].objective < before - 1e-9:
                improved = True
                break
    plan = best[0]
    threshold = _threshold(plan.objective, options, integral=False)
    value, chosen, must_open, must_close, _ = _fix_by_rho(
        float(dual.lam.sum()), rho, forced=forced_a, kmin=kmin_eff, kmax=kmax,
        threshold=threshold)
    out.incumbent, out.bound, out.threshold = plan, max(dual.bound, value), threshold
    out.fix_open[idx[must_open & ~forced_a]] = True
    out.fix_closed[idx[must_close]] = True

    def refix(upper: float) -> tuple[np.ndarray, np.ndarray, float]:
        thr = _threshold(upper, options, integral=False)
        _, _, m_open, m_close, _ = _fix_by_rho(float(dual.lam.sum()), rho, forced=forced_a,
                                               kmin=kmin_eff, kmax=kmax, threshold=thr)
        fo = np.zeros(n, dtype=bool)
        fc = np.zeros(n, dtype=bool)
        fo[idx[m_open & ~forced_a]] = True
        fc[idx[m_close]] = True
        return fo, fc, thr

    # the sites of least reduced cost, for a MIP restricted to them
    size = min(idx.size, max(2 * kmin_eff, kmin_eff + 10, int(chosen.sum()) + 5))
    core = np.zeros(n, dtype=bool)
    core[idx[np.argsort(rho, kind="stable")[:size]]] = True
    core |= plan.area > 0
    out.core, out.refix = core, refix
    info.update(lagrangian_bound=out.bound, lagrangian_iterations=dual.iterations,
                fixed_open=int(out.fix_open.sum()), fixed_closed=int(out.fix_closed.sum()),
                transport_lps=len(tried))
    log.update(bound=min(out.bound, plan.objective))
    return out


def _threshold(upper: float, options: SolveOptions, *, integral: bool) -> float:
    """Plans at or above this value cannot improve on ``upper`` by more than the gap target."""
    if integral:  # a better plan costs at most upper - 1
        return upper - 0.5
    return upper - max(float(options.gap), 1e-9) * max(1.0, abs(upper))


def _finish(problem: SitingProblem, spec: _Spec, plan: _Plan, bound: float, status: str,
            t0: float, log: _Log, info: dict[str, object], options: SolveOptions) -> SolveResult:
    log.update(incumbent=plan.objective, bound=bound)
    info.update(plan.extra)
    info["plan_source"] = plan.source
    return SolveResult(
        status=status,  # type: ignore[arg-type]
        objective=plan.objective, bound=bound, gap=relative_gap(plan.objective, bound),
        wall_s=time.perf_counter() - t0, area_m2=plan.area, served=plan.served,
        log=log.entries, reasons=[], sense="min", objective_name=spec.name, info=info,
    )


def _explain(problem: SitingProblem, spec: _Spec) -> list[str]:
    try:
        from hzlogistics.models.precheck import diagnose_infeasibility
    except ImportError:  # pragma: no cover
        diagnose_infeasibility = None  # type: ignore[assignment]
    found: list[str] = []
    if diagnose_infeasibility is not None:
        found = list(diagnose_infeasibility(problem, time_limit_s=10.0))
    if found:
        return found
    what = ("serving every demand point" if spec.required_share is None
            else f"serving {spec.required_share:.1%} of demand")
    cap = ""
    if problem.capacity_per_m2 is not None:
        cap = f" at {problem.capacity_per_m2:g} parcels/day per m²"
    table = site_table(problem)
    budget = (f"area budget {_fmt(table.area_budget_m2)} m²"
              if math.isfinite(table.area_budget_m2) else "no area budget")
    return [f"{what}{cap} is impossible together with the site constraints (count "
            f"{table.count_min}..{table.count_max}, {budget}, per-group quotas, capacities): "
            "the solver proved that no plan satisfies them all"]


def _solve_mip(
    problem: SitingProblem,
    options: SolveOptions,
    spec: _Spec,
    table: SiteTable,
    rows: np.ndarray,
    cols: np.ndarray,
    pair_cost: np.ndarray | None,
    *,
    t0: float,
    log: _Log,
    info: dict[str, object],
    need_tiers: bool,
    base_area: np.ndarray,
    fix_open: np.ndarray,
    fix_closed: np.ndarray,
    integral: bool,
    incumbent: _Plan | None,
    hint_open: np.ndarray | None,
    evaluate_open: Callable[..., _Plan] | None,
    threshold: float,
    reduction: _Reduction | None = None,
    time_limit_s: float | None = None,
) -> tuple[_Plan | None, float, str]:
    """Build and solve the MIP; returns its plan, its bound and its status.

    A MIP too large for the time left (HiGHS would not finish its first LP, and
    does not stop inside it) is not built: the status is then ``"skipped"``.
    """
    n, n_d = problem.n_sites, problem.n_demand
    left = options.time_limit_s - (time.perf_counter() - t0)
    if time_limit_s is not None:
        left = min(left, time_limit_s)
    n_pairs = int(np.count_nonzero((table.can_open & ~fix_closed)[rows]))
    if n_pairs >= _MIP_LARGE_PAIRS and left * _MIP_PAIRS_PER_S < n_pairs:
        info.update(mip_status="skipped", mip_pairs=n_pairs)
        logger.info("MIP skipped: %d pairs need more than the %.1f s left", n_pairs, left)
        return None, -math.inf, "skipped"
    w = np.asarray(problem.weight, dtype=float)
    can = table.can_open & ~fix_closed
    forced = (table.forced & table.can_open) | (fix_open & can)
    mip = _Mip()
    t_b = time.perf_counter()
    # --- sites: open y_i, size options u_it
    site_obj = spec.open_cost + (0.0 if need_tiers else spec.area_cost * base_area)
    y = mip.add_vars(n, lb=forced.astype(float), ub=can.astype(float), integer=True,
                     obj=np.where(can, site_obj, 0.0))
    opt_site, opt_area = table.option_arrays()
    if need_tiers:
        sel = can[opt_site]
        opt_site, opt_area = opt_site[sel], opt_area[sel]
        u = mip.add_vars(opt_site.size, integer=True, obj=spec.area_cost[opt_site] * opt_area)
        link = mip.add_rows(n, lb=0.0, ub=0.0)
        mip.add_terms(link[opt_site], u, 1.0)
        mip.add_terms(link, y, -1.0)
        a_site, a_var, a_coef = opt_site, u, opt_area
    else:
        a_site, a_var, a_coef = np.arange(n), y, base_area
        u = None
    mip.add_row(y, 1.0, lb=float(table.count_min), ub=float(table.count_max))
    if math.isfinite(table.area_budget_m2):
        mip.add_row(a_var, a_coef, ub=float(table.area_budget_m2))
    rent = table.rent_usd_m2_year
    if math.isfinite(table.rent_cap_usd_year):
        mip.add_row(a_var, a_coef * rent[a_site], ub=float(table.rent_cap_usd_year))
    group = table.group
    for g in range(table.n_groups):
        in_g = group == g
        cmin, cmax = int(table.group_count_min[g]), int(table.group_count_max[g])
        if cmin > 0 or cmax < int(in_g.sum()):
            mip.add_row(y[in_g], 1.0, lb=float(cmin), ub=float(cmax))
        amin, amax = float(table.group_area_min_m2[g]), float(table.group_area_max_m2[g])
        if amin > 0 or math.isfinite(amax):
            a_in = in_g[a_site]
            mip.add_row(a_var[a_in], a_coef[a_in], lb=amin, ub=amax)
    # --- demand
    keep = can[rows]
    rows, cols = rows[keep], cols[keep]
    pc = pair_cost[keep] if pair_cost is not None else None
    capacitated = problem.capacity_per_m2 is not None or problem.site_capacity is not None
    full = spec.required_share is None
    total = float(w.sum())
    need = total if full else float(spec.required_share) * total  # type: ignore[arg-type]
    x = None
    if full and not capacitated and pc is not None:
        form = "radius"
        cut = _add_radius(mip, y, rows, cols, pc, n_d=n_d, can=can, forced=forced,
                          count_min=int(table.count_min), reduction=reduction)
        info["radius_levels_cut"] = cut
    elif not capacitated:
        form = "partial cover"
        agg = aggregate_demand(sp.csr_matrix((np.ones(rows.size, bool), (rows, cols)),
                                             shape=(n, n_d)), w)
        s = mip.add_vars(agg.n_classes, ub=1.0)
        cover_rows = mip.add_rows(agg.n_classes, ub=0.0)
        mip.add_terms(cover_rows, s, 1.0)
        ac = agg.cover.tocoo()
        mip.add_terms(cover_rows[ac.col], y[ac.row], -1.0)
        scale = max(total, 1e-12)  # in shares of demand: keeps the row well scaled
        mip.add_row(s, agg.weight / scale, lb=need / scale * (1 - 1e-12))
    else:
        form = "assignment"
        x = mip.add_vars(rows.size, ub=1.0, integer=spec.single,
                         obj=pc if pc is not None else 0.0)
        dem = mip.add_rows(n_d, lb=1.0 if full else -np.inf, ub=1.0)
        served_any = np.zeros(n_d, dtype=bool)
        served_any[cols] = True
        mip.add_terms(dem[cols], x, 1.0)
        if full:
            # a demand point of weight 0 with no allowed site is still "served"
            lonely = np.flatnonzero(~served_any)
            if lonely.size:
                slack = mip.add_vars(lonely.size, lb=1.0, ub=1.0)
                mip.add_terms(dem[lonely], slack, 1.0)
        strong = mip.add_rows(rows.size, ub=0.0)
        mip.add_terms(strong, x, 1.0)
        mip.add_terms(strong, y[rows], -1.0)
        if problem.capacity_per_m2 is not None:
            k = float(problem.capacity_per_m2)
            caprow = mip.add_rows(n, ub=0.0)
            mip.add_terms(caprow[rows], x, w[cols])
            mip.add_terms(caprow[a_site], a_var, -k * a_coef)
            mip.add_row(a_var, k * a_coef, lb=need * (1 - 1e-9))
        if problem.site_capacity is not None:
            sc = np.asarray(problem.site_capacity, dtype=float)
            caprow = mip.add_rows(n, ub=0.0)
            mip.add_terms(caprow[rows], x, w[cols])
            mip.add_terms(caprow, y, -sc)
            mip.add_row(y, sc, lb=need * (1 - 1e-9))
        if not full:
            scale = max(total, 1e-12)
            mip.add_row(x, w[cols] / scale, lb=need / scale * (1 - 1e-12))
    info.update(formulation=form, mip_vars=mip.n_vars, mip_rows=mip.n_rows,
                build_s=time.perf_counter() - t_b)
    # --- warm start
    hint = None
    start = None
    if incumbent is not None and bool(np.all(can[incumbent.area > 0])):
        start = incumbent.area
    elif options.hint is not None:
        start = np.where(can, np.asarray(options.hint, dtype=float), 0.0)
    if start is not None:
        ids = [y]
        vals = [(start > 0).astype(float)]
        if u is not None:
            o_site, o_area = opt_site, opt_area
            match = np.isclose(o_area, start[o_site], rtol=1e-9) & (start[o_site] > 0)
            ids.append(u)
            vals.append(match.astype(float))
        if x is not None and incumbent is not None and start is incumbent.area:
            # the plan's own flows complete the hint: HiGHS then needs no LP to finish it
            ids.append(x)
            vals.append(_values_at(incumbent.served, rows, cols) / np.maximum(w[cols], 1e-300))
        hint = (np.concatenate(ids), np.concatenate(vals))

    def on_progress(incumbent_value: float, bound_value: float) -> None:
        if math.isfinite(threshold):
            bound_value = min(bound_value, threshold)
        log.update(incumbent=incumbent_value, bound=bound_value)

    remaining = options.time_limit_s - (time.perf_counter() - t0)
    if time_limit_s is not None:
        remaining = min(remaining, time_limit_s)
    # after the Lagrangian starts the incumbent is rarely improved: spend the time on the bound
    highs: dict[str, object] = {}
    if reduction is not None:
        highs["mip_heuristic_effort"] = 0.01
    if mip.n_vars > _PRESOLVE_LIMIT:
        highs["presolve"] = "off"  # HiGHS's presolve does not watch the clock
        # nor does it stop at once on a large model: leave it a margin
        remaining -= 0.03 * options.time_limit_s
    out = mip.solve(options, time_limit_s=max(remaining, 0.05), hint=hint, integral=integral,
                    on_progress=on_progress, highs_options=highs)
    info.update(mip_status=out.status, mip_s=out.wall_s, engine=out.engine)
    bound = out.bound
    if integral and math.isfinite(bound):
        bound = math.ceil(bound - 1e-6)
    if out.values is None:
        return None, bound, out.status
    v = out.values
    open_ = (v[y] > 0.5) & can
    if u is not None:
        area = np.zeros(n)
        pick = v[u] > 0.5
        area[opt_site[pick]] = opt_area[pick]
        area = np.where(open_, area, 0.0)
    else:
        area = np.where(open_, base_area, 0.0)
    if evaluate_open is not None:
        plan = evaluate_open(open_, "mip", area)
    else:
        site_value = float(spec.open_cost[open_].sum() + spec.area_cost @ area)
        if x is not None:
            xv = np.clip(v[x], 0.0, 1.0)
            nz = xv > 1e-9
            served = sp.csr_matrix((w[cols[nz]] * xv[nz], (rows[nz], cols[nz])), shape=(n, n_d))
            value = site_value + (float(pc @ xv) if pc is not None else 0.0)
        else:
            served = _serve_covered(problem, rows, cols, open_, w)
            value = site_value
        plan = _Plan(area=area, objective=value, served=served, source="mip")
    return plan, bound, out.status


def _greedy_plan(problem: SitingProblem, table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                 pair_cost: np.ndarray | None, *, spec: _Spec, deadline: float) -> _Plan | None:
    """Open sites greedily until the required demand is served; ``None`` if that fails.

    Existing sites open first at their smallest area. Then, repeatedly, the
    (site, area) option that serves the most still-unserved demand per unit of
    site cost (area, rent and fixed cost, or per site for a count) opens, and
    takes the unserved demand it reaches, cheapest (or nearest) first, up to
    its capacity. Finally each site shrinks to the smallest area that holds
    its load. Demand may be split between sites.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    total = float(w.sum())
    need = total if spec.required_share is None else float(spec.required_share) * total
    if pair_cost is not None:
        key = pair_cost
    elif problem.travel_time_h is not None:
        key = _values_at(problem.travel_time_h, rows, cols)
    else:
        key = np.zeros(rows.size)
    order = np.lexsort((cols, key, rows))  # by site, then cheapest pair first
    r_s, c_s = rows[order], cols[order]
    start = np.searchsorted(r_s, np.arange(n + 1))
    reach = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n_d))
    k_m2 = problem.capacity_per_m2
    s_cap = (np.full(n, np.inf) if problem.site_capacity is None
             else np.asarray(problem.site_capacity, dtype=float))
    unit = spec.area_cost
    fixed = spec.open_cost

    def capacity(i: int, a: float) -> float:
        return min(k_m2 * a if k_m2 is not None else np.inf, s_cap[i])

    left = w.copy()
    load = np.zeros(n)
    area = np.zeros(n)
    share = np.zeros(rows.size)  # parcels/day on each pair, in ``order``

    def take(i: int, cap: float) -> None:
        sl = slice(start[i], start[i + 1])
        js = c_s[sl]
        room = cap - load[i]
        got = np.minimum(left[js], np.maximum(room - (np.cumsum(left[js]) - left[js]), 0.0))
        share[sl] += got
        left[js] -= got
        load[i] += float(got.sum())

    for f_i in np.flatnonzero(table.forced & table.can_open).tolist():
        area[f_i] = table.min_area_m2[f_i]
        take(f_i, capacity(f_i, area[f_i]))
    opt_site, opt_area = table.option_arrays()
    while total - float(left.sum()) < need * (1 - 1e-12):
        if time.perf_counter() > deadline:
            return None
        free = area[opt_site] == 0
        if not free.any() or int((area > 0).sum()) >= table.count_max:
            return None
        reachable = reach @ left
        caps = np.array([capacity(i, a) for i, a in zip(opt_site, opt_area, strict=True)])
        gain = np.minimum(reachable[opt_site], caps)
        price = fixed[opt_site] + unit[opt_site] * opt_area
        score = np.where(free & (gain > 1e-12), gain / np.maximum(price, 1e-12), -np.inf)
        top = score.max()
        if not np.isfinite(top):
            return None
        # among the options as efficient as the best, the one that serves the most
        # (fewer, larger sites when capacity per m² makes every size equally efficient)
        best = int(np.argmax(np.where(score >= top * (1 - 1e-9), gain, -np.inf)))
        pick = int(opt_site[best])
        area[pick] = opt_area[best]
        take(pick, caps[best])
    # the smallest allowed area that still holds each site's load
    for o_i in np.flatnonzero(area > 0).tolist():
        fits = [a for a in table.areas[o_i] if capacity(o_i, a) >= load[o_i] * (1 - 1e-12)]
        if fits:
            area[o_i] = min(fits)
    if plan_violations(table, area):
        return None
    nz = share > 1e-12
    served = sp.csr_matrix((share[nz], (r_s[nz], c_s[nz])), shape=(n, n_d))
    value = float(fixed @ (area > 0) + unit @ area)
    if pair_cost is not None:
        frac = share[nz] / np.maximum(w[c_s[nz]], 1e-300)
        value += float(pair_cost[order][nz] @ frac)
    return _Plan(area=area, objective=value, served=served, source="greedy")


def _rent_per_pair(problem: SitingProblem, spec: _Spec, rows: np.ndarray, cols: np.ndarray,
                   w: np.ndarray) -> np.ndarray:
    """Least rent the demand of each pair costs at its site (0 without capacity per m²)."""
    if problem.capacity_per_m2 is None:
        return np.zeros(rows.size)
    return spec.area_cost[rows] * w[cols] / float(problem.capacity_per_m2)


def _spill_plan(problem: SitingProblem, table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                pair_cost: np.ndarray, *, spec: _Spec, max_rounds: int = 2000,
                closed: np.ndarray | None = None) -> _Plan | None:
    """Serve every demand point at its cheapest sites, within their largest capacity.

    In rounds, each demand point with parcels left asks its next cheapest site
    (delivery plus the rent its parcels occupy, per parcel); each site takes the
    requests in that order until its capacity at its largest allowed area is
    full, and what it turns away moves on to the next site. Each open site then
    takes the smallest allowed area that holds its load. ``None`` when a point
    runs out of sites or the plan breaks a site constraint (count, budget, quota).
    Sites in ``closed`` are not used.
    """
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    can = table.can_open if closed is None else table.can_open & ~closed
    ok = can[rows]
    rows, cols, pair_cost = rows[ok], cols[ok], pair_cost[ok]
    cap = _site_capacity_max(problem, table)
    per_parcel = (pair_cost + _rent_per_pair(problem, spec, rows, cols, w)) / np.maximum(
        w[cols], 1e-300)
    from hzlogistics.solvers.lagrange import by_demand_then_cost

    order = by_demand_then_cost(cols, per_parcel)
    s_site, s_col, s_key = rows[order], cols[order], per_parcel[order]
    first = np.searchsorted(s_col, np.arange(n_d + 1))
    ptr = first[:-1].copy()
    left = w.copy()
    load = np.zeros(n)
    taken = np.zeros(order.size)
    for _ in range(max_rounds):
        active = np.flatnonzero(left > 1e-9 * np.maximum(w, 1.0))
        if active.size == 0:
            break
        if np.any(ptr[active] >= first[active + 1]):
            return None
        ask = ptr[active]
        site = s_site[ask]
        by = np.lexsort((s_key[ask], site))
        site, ask, need = site[by], ask[by], left[active[by]]
        before = np.cumsum(need) - need
        start_of = np.searchsorted(site, site)  # first request to the same site
        before -= before[start_of]
        got = np.clip(cap[site] - load[site] - before, 0.0, need)
        taken[ask] += got
        np.add.at(load, site, got)
        left[s_col[ask]] -= got
        ptr[s_col[ask]] += (got < need - 1e-12).astype(np.int64)
    else:
        return None
    area = np.zeros(n)
    k = problem.capacity_per_m2
    s_cap = (np.full(n, np.inf) if problem.site_capacity is None
             else np.asarray(problem.site_capacity, dtype=float))
    for i in np.flatnonzero((load > 0) | (table.forced & table.can_open)).tolist():
        allowed = table.areas[i]
        holds = np.minimum(allowed * (k if k is not None else np.inf), s_cap[i]) >= \
            load[i] * (1 - 1e-12)
        if not holds.any():
            return None
        area[i] = float(allowed[np.argmax(holds)])
    if plan_violations(table, area):
        return None
    nz = taken > 0
    served = sp.csr_matrix((taken[nz], (s_site[nz], s_col[nz])), shape=(n, n_d))
    value = float(spec.open_cost @ (area > 0) + spec.area_cost @ area
                  + pair_cost[order][nz] @ (taken[nz] / np.maximum(w[s_col[nz]], 1e-300)))
    return _Plan(area=area, objective=value, served=served, source="nearest within capacity")


def _smallest_size_bound(table: SiteTable, rows: np.ndarray, cols: np.ndarray,
                         pair_cost: np.ndarray, *, spec: _Spec, n_demand: int, upper: float,
                         deadline: float, stop: object | None) -> float:
    """Lagrangian bound where every open site pays at least the rent of its smallest size.

    Capacity dropped, an open site still costs its fixed cost and the rent of
    its smallest allowed area; with the delivery of every pair, that is an
    uncapacitated location problem whose sparse Lagrangian bound
    (:func:`~hzlogistics.solvers.lagrange.sparse_lagrangian`) bounds the
    capacitated one.
    """
    from hzlogistics.solvers.lagrange import (
        by_demand_then_cost,
        cheapest_pairs,
        sparse_lagrangian,
    )

    can = table.can_open
    ok = can[rows]
    r, c, cost = rows[ok], cols[ok], pair_cost[ok]
    order = by_demand_then_cost(c, cost)
    pairs = cheapest_pairs(r[order], c[order], cost[order], n_sites=can.size,
                           n_demand=n_demand, keep=_SPARSE_KEEP, presorted=True)
    smallest = np.where(can, table.min_area_m2, 0.0)
    open_cost = np.where(can, spec.open_cost + spec.area_cost * smallest, 0.0)
    dual = sparse_lagrangian(pairs, open_cost, can=can, forced=table.forced & can,
                             kmin=table.count_min, kmax=table.count_max, upper=upper,
                             deadline=deadline, stopped=lambda: _stopped(stop))
    return dual.bound


def _consolidated_spill(problem: SitingProblem, table: SiteTable, rows: np.ndarray,
                        cols: np.ndarray, pair_cost: np.ndarray, *, spec: _Spec,
                        deadline: float, log: _Log) -> _Plan | None:
    """The nearest plan within capacity, then without its least used sites while that pays.

    Nearest first, every site some demand point prefers opens, at least at the
    smallest size; closing the sites that use little of their floor moves their
    parcels to the other open sites with room, and saves their rent and fixed cost.
    """
    best = _spill_plan(problem, table, rows, cols, pair_cost, spec=spec)
    if best is None:
        return None
    log.update(incumbent=best.objective)
    cap = _site_capacity_max(problem, table)
    k = problem.capacity_per_m2
    for share in _CONSOLIDATE_SHARES:
        if time.perf_counter() > deadline:
            break
        load = np.asarray(best.served.sum(axis=1)).ravel()
        room = np.where(best.area > 0, cap, 0.0)
        if k is not None:
            room = np.minimum(best.area * float(k), room)
        with np.errstate(invalid="ignore", divide="ignore"):
            used = np.where(room > 0, load / room, 1.0)
        is_open = best.area > 0
        drop = is_open & (used < share) & ~table.forced
        # a demand point keeps the sites it would otherwise lose all of
        keep = is_open & ~drop
        stranded = np.ones(problem.n_demand, dtype=bool)
        stranded[cols[keep[rows]]] = False
        drop[rows[stranded[cols] & drop[rows]]] = False
        if not drop.any():
            continue
        trial = _spill_plan(problem, table, rows, cols, pair_cost, spec=spec,
                            closed=~is_open | drop)
        if trial is not None and trial.objective < best.objective:
            best = trial
            log.update(incumbent=best.objective)
    return best


#: Floor-use shares below which the nearest plan within capacity closes its sites, in turn.
_CONSOLIDATE_SHARES = (0.1, 0.25, 0.5, 0.75)


def _nearest_pairs(problem: SitingProblem, rows: np.ndarray, cols: np.ndarray,
                   cost: np.ndarray | None, *, per_point: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Keep, for each demand point, its ``per_point`` cheapest pairs.

    Pairs are ranked by ``cost`` when given, else by travel time (else by site
    index). Every demand point keeps at least one pair.
    """
    if cost is not None:
        key = cost
    elif problem.travel_time_h is not None:
        key = _values_at(problem.travel_time_h, rows, cols)
    else:
        key = rows.astype(float)
    order = np.lexsort((rows, key, cols))
    c_sorted = cols[order]
    start = np.ones(order.size, dtype=bool)
    start[1:] = c_sorted[1:] != c_sorted[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(order.size), 0))
    rank = np.arange(order.size) - first
    keep = np.sort(order[rank < per_point])
    return rows[keep], cols[keep], (cost[keep] if cost is not None else None)


def _serve_covered(problem: SitingProblem, rows: np.ndarray, cols: np.ndarray,
                   open_: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """Every demand point reached by an open site, served by the nearest one."""
    n, n_d = problem.n_sites, problem.n_demand
    sel = open_[rows]
    r, c = rows[sel], cols[sel]
    if problem.travel_time_h is not None:
        t = _values_at(problem.travel_time_h, r, c)
    else:
        t = np.zeros(r.size)
    order = np.lexsort((r, t, c))
    first = np.ones(order.size, dtype=bool)
    first[1:] = c[order][1:] != c[order][:-1]
    pick = order[first]
    return sp.csr_matrix((w[c[pick]], (r[pick], c[pick])), shape=(n, n_d))


def _add_radius(mip: _Mip, y: np.ndarray, rows: np.ndarray, cols: np.ndarray, cost: np.ndarray,
                *, n_d: int, can: np.ndarray, forced: np.ndarray, count_min: int,
                reduction: _Reduction | None = None) -> int:
    r"""Add the radius formulation of "serve every demand point at its cheapest open site".

    For demand point :math:`j` with distinct costs :math:`D^0_j < \dots < D^{K-1}_j`
    over the sites that may serve it, :math:`z^k_j \in [0, 1]` is 1 when no open
    site serves :math:`j` at cost :math:`\le D^k_j`. Cost :math:`D^0_j + \sum_k
    (D^{k+1}_j - D^k_j) z^k_j`; rows :math:`z^{k-1}_j \le z^k_j + \sum_{i: c_{ij} =
    D^k_j} y_i` with :math:`z^{-1}_j = 1` and :math:`z^{K-1}_j = 0`. A level is
    cut off (its :math:`z` fixed at 0) once a forced-open site is within it, or
    once fewer than ``count_min`` allowed sites lie beyond it, since one of the
    open sites must then be within it. With a Lagrangian ``reduction``, a level
    is also cut off once closing every chosen site within it provably costs at
    least the reduction's threshold. Returns the number of levels cut off.
    """
    order = np.lexsort((rows, cost, cols))
    r, c, d = rows[order], cols[order], cost[order]
    m = r.size
    if m == 0:
        return 0
    new_col = np.ones(m, dtype=bool)
    new_col[1:] = c[1:] != c[:-1]
    new_lvl = new_col.copy()
    new_lvl[1:] |= d[1:] != d[:-1]
    lvl_of_pair = np.cumsum(new_lvl) - 1
    col_of_pair = np.cumsum(new_col) - 1
    first_pair_of_col = np.flatnonzero(new_col)
    n_lvl = int(new_lvl.sum())
    lvl_cost = d[new_lvl]
    col_of_lvl = col_of_pair[new_lvl]
    first_lvl_of_col = lvl_of_pair[new_col]
    # sites at or below each level of its column, and allowed sites beyond it
    within = np.arange(1, m + 1) - first_pair_of_col[col_of_pair]
    last_pair_of_lvl = np.append(np.flatnonzero(new_lvl)[1:], m) - 1
    beyond = int(can.sum()) - within[last_pair_of_lvl]
    stop = beyond < count_min
    stop[lvl_of_pair[forced[r]]] = True
    if reduction is not None:
        start_of_pair = first_pair_of_col[col_of_pair]
        q_cum = np.cumsum(reduction.chosen[r].astype(np.int64))
        rho_cum = np.cumsum(np.where(reduction.chosen[r], reduction.rho[r], 0.0))
        before_q = np.where(start_of_pair > 0, q_cum[start_of_pair - 1], 0)
        before_rho = np.where(start_of_pair > 0, rho_cum[start_of_pair - 1], 0.0)
        q_lvl = (q_cum - before_q)[last_pair_of_lvl]
        rho_lvl = (rho_cum - before_rho)[last_pair_of_lvl]
        stop |= reduction.close_bound(q_lvl, rho_lvl, c[new_lvl], lvl_cost) >= \
            reduction.threshold
    stop[np.append(first_lvl_of_col[1:], n_lvl) - 1] = True  # last level of each column
    lvl_index = np.arange(n_lvl)
    first_stop = np.minimum.reduceat(np.where(stop, lvl_index, n_lvl), first_lvl_of_col)
    used = lvl_index <= first_stop[col_of_lvl]
    has_z = lvl_index < first_stop[col_of_lvl]
    row_of_lvl = np.full(n_lvl, -1, dtype=np.int64)
    row_of_lvl[used] = mip.add_rows(int(used.sum()),
                                    ub=np.where(new_col[new_lvl], -1.0, 0.0)[used])
    z_lvl = np.flatnonzero(has_z)
    gaps = np.zeros(n_lvl)
    gaps[:-1] = lvl_cost[1:] - lvl_cost[:-1]
    z = mip.add_vars(z_lvl.size, ub=1.0, obj=gaps[z_lvl])
    mip.offset += float(lvl_cost[first_lvl_of_col].sum())
    # row of level k: z^{k-1} - z^k - sum_{sites at level k} y <= 0, with z^{-1} = 1 on the rhs
    pair_used = used[lvl_of_pair]
    mip.add_terms(row_of_lvl[lvl_of_pair[pair_used]], y[r[pair_used]], -1.0)
    mip.add_terms(row_of_lvl[z_lvl], z, -1.0)
    mip.add_terms(row_of_lvl[z_lvl + 1], z, 1.0)
    return int(n_lvl - used.sum())


def solve_cost(
    problem: SitingProblem,
    options: SolveOptions | None = None,
    *,
    assignment: Assignment = "split",
    cost_usd_per_parcel_h: float = settings.DELIVERY_COST_USD_PER_PARCEL_H,
    days_per_year: float = settings.OPERATING_DAYS_PER_YEAR,
) -> SolveResult:
    r"""Open sites and serve all demand at the least yearly cost.

    Parameters
    ----------
    problem
        The siting problem. ``rent_usd_m2_year`` prices the floor area,
        ``fixed_cost_usd_year`` each open site, and ``assign_cost`` the delivery
        (cost of serving all of demand point j from site i, USD/year) or, when
        absent, ``travel_time_h`` at ``cost_usd_per_parcel_h``. Capacity comes
        from ``capacity_per_m2`` × area and/or ``site_capacity``.
    options
        Time limit, gap target, seed, progress callback, stop event and warm
        start (default: :class:`~hzlogistics.solvers.problem.SolveOptions`).
    assignment
        ``"split"``: a demand point may be shared between sites (what capacity
        needs); ``"single"``: each demand point is served by one site. Without
        capacity both give the same plan.
    cost_usd_per_parcel_h
        Delivery cost of a parcel per hour of travel, USD (only without ``assign_cost``).
    days_per_year
        Operating days per year, turning parcels/day into parcels/year.

    Returns
    -------
    SolveResult
        ``objective`` is the yearly cost (USD), ``bound`` a proven lower bound,
        ``sense`` ``"min"``. ``status`` is ``"optimal"`` when the gap target is
        reached, ``"feasible"`` when time ran out first, ``"interrupted"``,
        ``"infeasible"`` (with ``reasons``) or ``"error"`` (no plan in time).

    Raises
    ------
    ValidationError
        If an array is malformed, or neither ``assign_cost`` nor
        ``travel_time_h`` is given.

    Notes
    -----
    Sites :math:`i`, size options :math:`t \in T_i` of area :math:`a_t`, demand
    points :math:`j` of weight :math:`w_j` (parcels/day), covered pairs
    :math:`(i, j)` with cost :math:`c_{ij}` of serving all of :math:`j` from
    :math:`i`, fixed cost :math:`f_i`, rent :math:`r_i` per m². Variables
    :math:`y_i \in \{0,1\}` (open), :math:`u_{it} \in \{0,1\}` (size, only with
    capacity per m² or area minimums; otherwise each open site takes its
    smallest allowed area :math:`a_i`), :math:`x_{ij} \in [0,1]` share of
    :math:`j` served by :math:`i` (binary for ``"single"``):

    .. math::

        \min \sum_i f_i y_i + \sum_{i,t} r_i a_t u_{it} + \sum_{ij} c_{ij} x_{ij}

        \sum_i x_{ij} = 1 \;\forall j, \qquad x_{ij} \le y_i, \qquad
        \sum_j w_j x_{ij} \le K \sum_t a_t u_{it}, \qquad
        \sum_j w_j x_{ij} \le s_i y_i

    with the site constraints of the coverage model: :math:`\sum_t u_{it} = y_i`;
    existing sites open, forbidden ones closed; :math:`n_{min} \le \sum_i y_i \le
    n_{max}`; total area :math:`\le B`; rent :math:`\le R`; per-group count and
    area quotas. The valid inequality :math:`\sum_i K a_i \ge \sum_j w_j`
    strengthens the LP. Without capacity the assignment is the radius
    formulation (see :func:`~hzlogistics.models.median.solve_median`), after a
    vertex-substitution plan, Lagrangian site fixing and, when only counts
    constrain the sites, a Lagrangian branch and bound. With capacity and split
    demand, a Lagrangian bound with a continuous knapsack per site, plans whose
    demand a transportation LP assigns, and a MIP over the sites of least
    reduced cost come first (see the module notes).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> cost = np.array([[1., 9., 9.], [9., 1., 1.]])     # USD/year per (site, point)
    >>> p = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.ones((2, 3))),
    ...                   tiers_m2=np.array([1.]), area_budget_m2=None,
    ...                   fixed_cost_usd_year=np.array([10., 10.]),
    ...                   assign_cost=sp.csr_matrix(cost))
    >>> r = solve_cost(p, SolveOptions(time_limit_s=10, gap=0))
    >>> r.status, r.objective, r.open.tolist()
    ('optimal', 21.0, [False, True])
    """
    if assignment not in ("split", "single"):
        raise ValidationError(f"assignment: {assignment!r}; expected 'split' or 'single'")
    if not (np.isfinite(cost_usd_per_parcel_h) and cost_usd_per_parcel_h >= 0):
        raise ValidationError(f"cost_usd_per_parcel_h: {cost_usd_per_parcel_h}; expected >= 0")
    _validate(problem)
    rows, cols = _cover_pairs(problem.cover)
    pair_cost = _pair_costs(problem, rows, cols, per_parcel_h=cost_usd_per_parcel_h *
                            days_per_year, what="cost")
    n = problem.n_sites
    fixed = (np.zeros(n) if problem.fixed_cost_usd_year is None
             else np.asarray(problem.fixed_cost_usd_year, dtype=float))
    rent = (np.zeros(n) if problem.rent_usd_m2_year is None
            else np.asarray(problem.rent_usd_m2_year, dtype=float))
    spec = _Spec(name="cost", pair_cost=pair_cost, open_cost=fixed, area_cost=rent,
                 single=assignment == "single")
    return _solve_location(problem, options, spec)


__all__ = ["solve_cost"]
