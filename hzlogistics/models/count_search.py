"""Count-only maximal covering: bounds of the core and exact solves of its parts.

- :func:`dual_bound` is the Lagrangian bound of the covering rows for any
  multipliers (the sites' part a top-k choice, :func:`top_choice`);
  :func:`easy_bound` takes it at two obvious multipliers;
- :func:`core_lp` solves the LP relaxation of the core with the one LP runner
  (:func:`~hzlogistics.solvers.lp.solve_lp`: HiGHS, interruptible, so that it
  runs in a thread beside CP-SAT, or GLOP in the foreground) and certifies its bound through
  :func:`dual_bound` at its duals;
- :func:`component_lagrangian` prices the count and quota rows by the LP
  duals and solves each component as an integer program;
- :func:`sub_model` is the CP-SAT model of part of the core and
  :func:`sub_solve` solves it with a deterministic budget;
- :func:`count_model` is the CP-SAT model of the core with some sites fixed
  and its count rows; :func:`exact_finish` solves it once :func:`fixing` has
  fixed the sites that cannot be part of a better plan.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model

from hzlogistics.models.count_core import Core, CountPlan, best_plan, offer, swap_search
from hzlogistics.solvers.cpsat import solve_cpsat, solve_model
from hzlogistics.solvers.lp import LinearProgram, solve_lp
from hzlogistics.solvers.mip import Engine, MipInterrupter, solve_integer_program
from hzlogistics.solvers.problem import SolveOptions
from hzlogistics.solvers.track import Tracker, stop_requested

logger = logging.getLogger(__name__)

#: Deterministic time (CP-SAT units) given to one region or component solve.
SUB_DTIME = 0.6
#: Components above this many candidates keep their LP share of the bound.
LAGRANGIAN_SITES = 900
#: HiGHS's absolute MIP gap tolerance: a plan proven optimal within it counts as optimal.
_MIP_ABS_TOL = 1e-6
#: Deterministic time (CP-SAT units) spent on the components in all.
_LAGRANGIAN_DTIME = 25.0


def top_choice(core: Core, c: np.ndarray) -> tuple[float, np.ndarray]:
    """Best value of ``sum c_i y_i`` (``c >= 0``) under the count and group bounds.

    Fillers are worth 0. Exact: each group takes its best sites first, so the
    problem is a separable concave allocation of counts, solved greedily.
    Returns the value and the chosen sites.
    """
    n = core.n
    chosen = np.zeros(n, dtype=bool)
    order = np.lexsort((-c, core.group))
    gs = core.group[order]
    starts = np.searchsorted(gs, np.arange(core.n_groups))
    ends = np.searchsorted(gs, np.arange(core.n_groups), side="right")
    total = 0.0
    left = core.total
    extra_vals = []
    extra_idx = []
    for g in range(core.n_groups):
        idx = order[starts[g]:ends[g]]
        vals = c[idx]
        need = int(core.xlo[g])
        take = min(need, idx.size)
        chosen[idx[:take]] = True
        total += float(vals[:take].sum())
        left -= need  # fillers (value 0) make up for missing sites
        cap = int(core.xhi[g]) - need
        rest = idx[take:take + max(cap, 0)]
        extra_vals.append(c[rest])
        extra_idx.append(rest)
    if left > 0 and extra_vals:
        ev = np.concatenate(extra_vals)
        ei = np.concatenate(extra_idx)
        if ev.size > left:
            top = np.argpartition(-ev, left - 1)[:left]
        else:
            top = np.arange(ev.size)
        top = top[ev[top] > 0]
        chosen[ei[top]] = True
        total += float(ev[top].sum())
    return total, chosen


def dual_bound(core: Core, pi: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Lagrangian bound of the covering rows at multipliers ``pi >= 0``.

    ``max sum_j w_j z_j + own.y  s.t.  z_j <= sum_{i in N(j)} y_i`` relaxed with
    ``pi``: the classes give ``sum_j max(0, w_j - pi_j)`` and the sites a top-k
    choice of ``own_i + sum_{j in N(i)} pi_j``. Valid for any ``pi >= 0``.
    Returns the bound, the site prices and the chosen sites.
    """
    pi = np.maximum(pi, 0.0)
    price = np.asarray(core.cover @ pi).ravel() + core.own
    top, chosen = top_choice(core, price)
    return float(np.maximum(core.weight - pi, 0.0).sum()) + top, price, chosen


def easy_bound(core: Core) -> float:
    """Cheapest valid bounds: all classes served, or the best single-site sums."""
    b0, _, _ = dual_bound(core, np.zeros(core.m))
    b1, _, _ = dual_bound(core, core.weight)
    return min(b0, b1)


@dataclass
class CoreLp:
    bound: float
    pi: np.ndarray  # (m,) multipliers of the covering rows
    y: np.ndarray  # (n,) LP values of the sites
    pen: np.ndarray  # (n,) price of one more open site in the site's group (count + group duals)
    pen_const: float  # sum of multipliers x right-hand sides of the count rows
    pad_pen: np.ndarray  # (n_groups,) price of one filler
    optimal: bool


def core_program(core: Core) -> LinearProgram:
    """The LP relaxation of the core as arrays.

    Columns: the sites, the classes and one filler count per group; rows: the
    covering rows ``z_j - sum_{i in N(j)} y_i <= 0``, the total count and the
    group quotas (when they bind).
    """
    n, m, ng = core.n, core.m, core.n_groups
    npads = core.n_pads
    nv = n + m + ng
    n_quota = ng if core.quotas else 0
    row_lo = np.r_[np.full(m, -math.inf), float(core.total_lo)]
    row_hi = np.r_[np.zeros(m), float(core.total)]
    if n_quota:
        row_lo = np.r_[row_lo, core.xlo.astype(float)]
        row_hi = np.r_[row_hi, core.xhi.astype(float)]
    csc = core.cover.tocsc()
    r = [np.repeat(np.arange(m), np.diff(csc.indptr)), np.arange(m), np.full(n + ng, m)]
    c = [csc.indices, n + np.arange(m), np.r_[np.arange(n), n + m + np.arange(ng)]]
    v = [-np.ones(csc.nnz), np.ones(m), np.ones(n + ng)]
    if n_quota:
        r.append(m + 1 + np.r_[core.group, np.arange(ng)])
        c.append(np.r_[np.arange(n), n + m + np.arange(ng)])
        v.append(np.ones(n + ng))
    A = sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                      shape=(m + 1 + n_quota, nv))
    return LinearProgram(c=np.r_[core.own, core.weight, np.zeros(ng)], A=A, row_lo=row_lo,
                       row_hi=row_hi, col_lo=np.zeros(nv),
                       col_hi=np.r_[np.ones(n + m), npads.astype(float)])


def core_lp(core: Core, time_limit_s: float, interrupter: object | None = None,
            solver: str = "HIGHS") -> CoreLp | None:
    """Solve the LP relaxation of the core (see :func:`~hzlogistics.solvers.lp.solve_lp`).

    The LP is :func:`core_program`. With HiGHS (the default) the solve releases
    the GIL, so it can run in a thread next to CP-SAT; GLOP (dual simplex) is
    often faster on small cores, for a solve in the foreground. Returns
    ``None`` when the solver gave no dual solution.
    """
    n, m, ng = core.n, core.m, core.n_groups
    n_quota = ng if core.quotas else 0
    lp = core_program(core)
    sol = solve_lp(lp, time_limit_s=time_limit_s, solver=solver, interrupter=interrupter)
    if sol.duals is None or sol.x is None:
        return None
    dual, yv = sol.duals, sol.x
    pi = np.maximum(np.nan_to_num(dual[:m]), 0.0)
    # Count and quota rows: a positive dual prices the upper bound, a negative the lower.
    d_tot = float(dual[m])
    pen = np.full(n, d_tot)
    pad_pen = np.full(ng, d_tot)
    const = max(d_tot, 0.0) * core.total - max(-d_tot, 0.0) * core.total_lo
    for g in range(n_quota):
        d = float(dual[m + 1 + g])
        pen[core.group == g] += d
        pad_pen[g] += d
        const += max(d, 0.0) * core.xhi[g] - max(-d, 0.0) * core.xlo[g]
    bound, _, _ = dual_bound(core, pi)
    return CoreLp(bound=bound, pi=pi, y=yv[:n], pen=pen, pen_const=float(const),
                  pad_pen=pad_pen, optimal=sol.status == "optimal")


def core_mip(core: Core, plan: CountPlan, fix: np.ndarray | None, time_limit_s: float,
             gap: float, interrupter: MipInterrupter | None = None, sub_mips: bool = True,
             engine: Engine = "highs", cutoff: float | Callable[[float], float] | None = None,
             seed: int = 0) -> tuple[CountPlan | None, float]:
    """Solve the core as an integer program with HiGHS or SCIP (``engine``), ``plan`` as the hint.

    ``fix`` (-1 free, 0 closed, 1 open) may fix sites that cannot be part of a
    plan better than ``plan``; the bound returned is then valid for plans
    better than ``plan`` only (the caller keeps the larger of the two).
    Returns the best plan found (``None`` if none) and the solver's bound
    (``inf`` without one; ``-inf`` when nothing beats the fixing). ``sub_mips``,
    ``cutoff`` (a core value, or a function of SCIP's best value giving it as
    it rises; SCIP only; the bound is then at least ``cutoff``, and ``None``
    comes back with it when nothing is above it) and ``seed`` (the solver's
    random seed): see :func:`~hzlogistics.solvers.mip.solve_integer_program`.
    """
    n, m, ng = core.n, core.m, core.n_groups
    lp = core_program(core)
    if fix is not None:
        lp.col_lo[:n] = np.where(fix == 1, 1.0, 0.0)
        lp.col_hi[:n] = np.where(fix == 0, 0.0, 1.0)
    cnt = np.asarray(core.cover_t @ plan.y.astype(np.float64)).ravel()
    hint = np.r_[plan.y.astype(float), (cnt > 0).astype(float), plan.pad.astype(float)]
    if fix is not None and np.any((fix >= 0) & (plan.y != (fix == 1))):
        hint = None  # the plan breaks the fixing (it is not the one the fixing used)
    integer = np.r_[np.ones(n, dtype=bool), np.zeros(m, dtype=bool), np.ones(ng, dtype=bool)]
    sol = solve_integer_program(lp, integer, time_limit_s=time_limit_s, gap=gap, hint=hint,
                                interrupter=interrupter, sub_mips=sub_mips, engine=engine,
                                cutoff=cutoff, seed=seed)
    if sol.status == "infeasible":
        return None, -math.inf
    if sol.values is None:
        return None, sol.bound if math.isfinite(sol.bound) else math.inf
    y = sol.values[:n] > 0.5
    out = CountPlan(y, np.round(sol.values[n + m:]).astype(np.int64), 0.0)
    out.value = core.value(y)
    bound = sol.bound
    if sol.status == "optimal" and bound - out.value <= _MIP_ABS_TOL + 1e-9 * abs(out.value):
        bound = out.value  # proven up to HiGHS's absolute gap tolerance
    return out, bound


def scale_for(values: np.ndarray) -> float:
    """Factor making objective coefficients integers (1 when they already are)."""
    v = np.abs(values[np.isfinite(values)])
    total = float(v.sum())
    if total == 0:
        return 1.0
    if np.all(v == np.round(v)) and total < 2.0 ** 50:
        return 1.0
    return 2.0 ** math.floor(math.log2(2.0 ** 40 / total))


@dataclass
class SubModel:
    model: cp_model.CpModel
    y: list[cp_model.IntVar]
    scale: float
    slack: float  # largest effect of rounding the coefficients, in model units


def sub_model(sub: sp.csc_matrix, wcls: np.ndarray, lin: np.ndarray, scale: float,
               hint: np.ndarray | None = None,
               extra: Callable[[cp_model.CpModel, list[cp_model.IntVar]],
                               list[tuple[cp_model.IntVar, float]]] | None = None,
               ) -> SubModel:
    """CP-SAT model ``max w.z + lin.y, z_j <= sum_{i in N(j)} y_i`` on ``sub`` (sites x classes)."""
    model = cp_model.CpModel()
    n = sub.shape[0]
    y = [model.new_bool_var(f"y{i}") for i in range(n)]
    lin = lin.astype(np.float64).copy()
    deg = np.diff(sub.indptr)
    one = np.flatnonzero(deg == 1)
    np.add.at(lin, sub.indices[sub.indptr[one]], wcls[one])
    terms: list[tuple[cp_model.IntVar, int]] = []
    slack = 0.0
    for j in np.flatnonzero(deg >= 2):
        c = wcls[j] * scale
        ci = int(round(c))
        slack += abs(c - ci)
        if ci <= 0:
            continue
        zj = model.new_bool_var("")
        model.add(zj <= sum(y[i] for i in sub.indices[sub.indptr[j]:sub.indptr[j + 1]]))
        terms.append((zj, ci))
    for i in range(n):
        c = lin[i] * scale
        ci = int(round(c))
        slack += abs(c - ci)
        if ci:
            terms.append((y[i], ci))
    if extra is not None:
        for var, coef in extra(model, y):
            c = coef * scale
            ci = int(round(c))
            slack += abs(c - ci)
            if ci:
                terms.append((var, ci))
    model.maximize(sum(c * v for v, c in terms) if terms else 0)
    if hint is not None:
        for v, b in zip(y, hint, strict=True):
            model.add_hint(v, bool(b))
    return SubModel(model, y, scale, slack / scale)


def sub_solve(model: cp_model.CpModel, seed: int, dtime: float,
              wall_s: float) -> tuple[str, cp_model.CpSolver]:
    """Solve a region's or a component's model: one worker, a deterministic budget.

    Presolve is off: it turns the covering rows into clauses and loses their
    LP strength.
    """
    return solve_model(model, time_limit_s=wall_s, seed=seed, workers=1,
                       deterministic_time=dtime, presolve=False)


@dataclass
class CountModel:
    """CP-SAT model of the core with some sites fixed: :func:`count_model`."""

    sm: SubModel
    pads: list[cp_model.IntVar]  # fillers used, per group
    free: np.ndarray  # core sites the model decides (``sm.y[k]`` is site ``free[k]``)
    opened: np.ndarray  # (n,) bool: sites fixed open
    base: float  # value of the fixed open sites, outside the model's objective

    def plan(self, core: Core,
             solver: cp_model.CpSolver | cp_model.CpSolverSolutionCallback) -> CountPlan:
        """The plan of the core in a solution (of the solver, or in its solution callback)."""
        y = self.opened.copy()
        y[self.free] = np.array([solver.value(v) for v in self.sm.y], dtype=bool)
        pad = np.array([solver.value(v) for v in self.pads], dtype=np.int64)
        return CountPlan(y, pad, core.value(y))


def count_model(core: Core, fix: np.ndarray | None, hint: CountPlan | None) -> CountModel:
    """CP-SAT model of the core (``fix``: -1 free, 0 closed, 1 open) with its count rows.

    The total count and (with quotas) each group's count are those of the
    core, fillers included as integer variables per group; ``hint`` is the
    model's hint when given.
    """
    free = np.arange(core.n) if fix is None else np.flatnonzero(fix < 0)
    opened = np.zeros(core.n, dtype=bool) if fix is None else fix == 1
    cnt = np.asarray(core.cover_t @ opened.astype(np.float64)).ravel()
    cls = np.flatnonzero(cnt == 0)
    sub = core.cover[free][:, cls].tocsc()
    scale = scale_for(np.r_[core.weight, core.own])
    sm = sub_model(sub, core.weight[cls], core.own[free], scale,
                   hint=None if hint is None else hint.y[free])
    model = sm.model
    npads = core.n_pads
    fixed_cnt = np.bincount(core.group[opened], minlength=core.n_groups)
    pads = [model.new_int_var(0, int(npads[g]), f"pad{g}") for g in range(core.n_groups)]
    if hint is not None:
        for g, v in enumerate(pads):
            model.add_hint(v, int(hint.pad[g]))
    by_group: list[list[cp_model.IntVar]] = [[] for _ in range(core.n_groups)]
    for k, i in enumerate(free):
        by_group[core.group[i]].append(sm.y[k])
    group_sums = [sum(by_group[g]) + pads[g] + int(fixed_cnt[g]) for g in range(core.n_groups)]
    model.add(sum(group_sums) == core.total)
    if core.quotas:
        for g in range(core.n_groups):
            model.add_linear_constraint(group_sums[g], int(core.xlo[g]), int(core.xhi[g]))
    base = float(core.weight[cnt > 0].sum() + core.own[opened].sum())
    return CountModel(sm=sm, pads=pads, free=free, opened=opened, base=base)


def exact_finish(core: Core, tracker: Tracker, options: SolveOptions, deadline: float,
                 fix: np.ndarray | None, beaten: threading.Event | None = None) -> None:
    """CP-SAT on the core (``fix``: -1 free, 0 closed, 1 open), the plan as a hint.

    ``beaten`` is set when another solver has proven the gap target first: the
    search, stopped then, offers nothing, so that what it found by the time it
    was stopped cannot change the plan.
    """

    remaining = deadline - time.perf_counter()
    if remaining <= 0.05 or stop_requested(options.stop):
        return
    cm = count_model(core, fix, best_plan(tracker))
    sm = cm.sm
    # The gap target is relative to the whole objective, not to this model's part.
    allowed = float(options.gap) * (core.constant + tracker.best) * sm.scale
    extra: dict[str, object] = {"cp_model_presolve": False, "relative_gap_limit": 0.0,
             "absolute_gap_limit": max(0.0, allowed)}
    # One worker: repeatable, and with the LP doing the proving about as fast as several.
    opts = SolveOptions(time_limit_s=remaining, gap=options.gap, seed=options.seed,
                        workers=1, log=options.log, progress=None, stop=options.stop)
    out = solve_cpsat(sm.model, opts, scale=sm.scale, extra_params=extra)
    if out.status == "interrupted" and beaten is not None and beaten.is_set():
        return
    if out.status in ("optimal", "feasible", "interrupted"):
        offer(tracker, cm.plan(core, out.solver))
        bound = out.bound + sm.slack + cm.base
        if fix is not None:
            bound = max(bound, tracker.best)
        offer(tracker, bound=bound)
    elif out.status == "infeasible" and fix is not None:
        # No plan beats the incumbent among the unfixed ones.
        offer(tracker, bound=tracker.best)


def component_lagrangian(core: Core, lp: CoreLp, tracker: Tracker,
                          options: SolveOptions, deadline: float, workers: int) -> float:
    """Integer Lagrangian bound of the count and quota rows, by component.

    Each component's share of the LP dual bound is replaced by the optimum of
    its own integer problem (sites priced by the count and quota duals) when
    its LP solution is fractional and it is small enough. Solutions that keep
    the plan's counts and serve more are taken into the plan.
    """
    pi, pen = lp.pi, lp.pen
    price = np.asarray(core.cover @ pi).ravel() + core.own - pen
    cls_part = np.maximum(core.weight - pi, 0.0)
    site_part = np.maximum(price, 0.0)
    share = (np.bincount(core.comp_cls, weights=cls_part, minlength=core.n_comp)
             + np.bincount(core.comp, weights=site_part, minlength=core.n_comp))
    best = share.copy()
    frac = np.abs(lp.y - np.round(lp.y)) > 1e-6
    comp_frac = np.bincount(core.comp, weights=frac.astype(float), minlength=core.n_comp) > 0
    comp_size = np.bincount(core.comp, minlength=core.n_comp)
    todo = [c for c in np.argsort(comp_size, kind="stable")
            if comp_frac[c] and comp_size[c] <= LAGRANGIAN_SITES]
    sites_of = _group_index(core.comp, core.n_comp)
    cls_of = _group_index(core.comp_cls, core.n_comp)
    csc = core.cover.tocsc()
    scale = scale_for(np.r_[core.weight, core.own, pen])
    pad_part = float((core.n_pads * np.maximum(-lp.pad_pen, 0.0)).sum())

    def solve_one(c: int) -> tuple[int, float, np.ndarray | None, float]:
        s_idx, c_idx = sites_of[c], cls_of[c]
        sub = csc[s_idx][:, c_idx].tocsc()
        sm = sub_model(sub, core.weight[c_idx], core.own[s_idx] - pen[s_idx], scale)
        status, solver = sub_solve(sm.model, options.seed, 4 * SUB_DTIME,
                                   deadline - time.perf_counter())
        used = float(solver.response_proto.deterministic_time)
        if status not in ("optimal", "feasible"):
            return c, math.inf, None, used
        ub = solver.best_objective_bound / sm.scale + sm.slack
        sol = np.array([solver.value(v) for v in sm.y], dtype=bool)
        return c, ub, sol if status == "optimal" else None, used

    done = 0
    spent = 0.0
    plan = best_plan(tracker).copy()
    improved = False
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # Fixed batches and a deterministic-time budget keep the outcome repeatable.
        for start in range(0, len(todo), 8):
            if time.perf_counter() >= deadline or stop_requested(options.stop) \
                    or spent > _LAGRANGIAN_DTIME:
                break
            for c2, ub, sol, used in pool.map(solve_one, todo[start:start + 8]):
                done += 1
                spent += used
                best[c2] = min(best[c2], ub)
                if sol is not None:
                    improved |= _adopt(core, plan, sites_of[c2], sol)
    bound = float(best.sum()) + lp.pen_const + pad_part
    logger.info("integer Lagrangian over %d of %d components: %.6g (LP share %.6g)", done,
                core.n_comp, bound, float(share.sum()) + lp.pen_const + pad_part)
    if improved:
        plan.value = core.value(plan.y)
        offer(tracker, swap_search(core, plan, deadline, lambda: stop_requested(options.stop)))
    offer(tracker, bound=bound)
    return bound


def _group_index(labels: np.ndarray, k: int) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    cuts = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[cuts[i]:cuts[i + 1]] for i in range(k)]


def _adopt(core: Core, plan: CountPlan, s_idx: np.ndarray, sol: np.ndarray) -> bool:
    """Put ``sol`` into ``plan`` on the sites ``s_idx`` if the plan then serves more.

    With other counts than the plan's there (and no quotas), the total is
    restored by closing the cheapest or opening the best sites elsewhere.
    """
    old = plan.y[s_idx]
    if np.array_equal(old, sol):
        return False
    g_old = np.bincount(core.group[s_idx][old], minlength=core.n_groups)
    g_new = np.bincount(core.group[s_idx][sol], minlength=core.n_groups)
    if core.quotas and not np.array_equal(g_old, g_new):
        return False
    trial = plan.y.copy()
    trial[s_idx] = sol
    d = int(sol.sum()) - int(old.sum())
    elsewhere = np.ones(core.n, dtype=bool)
    elsewhere[s_idx] = False
    for _ in range(abs(d)):
        cnt = np.asarray(core.cover_t @ trial.astype(np.float64)).ravel()
        if d > 0:
            loss = np.asarray(core.cover @ np.where(cnt == 1, core.weight, 0.0)).ravel()
            cand = np.flatnonzero(trial & elsewhere)
            if cand.size == 0:
                return False
            trial[cand[np.argmin(loss[cand] + core.own[cand])]] = False
        else:
            gain = np.asarray(core.cover @ np.where(cnt == 0, core.weight, 0.0)).ravel()
            cand = np.flatnonzero(~trial & elsewhere)
            if cand.size == 0:
                return False
            trial[cand[np.argmax(gain[cand] + core.own[cand])]] = True
    v = core.value(trial)
    if v > plan.value + 1e-9 * max(1.0, abs(v)):
        plan.y[:] = trial
        plan.value = v
        return True
    return False


def fixing(core: Core, lp: CoreLp, tracker: Tracker) -> np.ndarray:
    """Sites whose forcing in (out) makes the LP dual bound fall below the plan.

    Returns ``fix`` with 0 (must stay closed), 1 (must stay open) or -1 (free).
    Only without group quotas, where the site choice of the bound is a top-k.
    """
    fix = np.full(core.n, -1, dtype=np.int64)
    if core.quotas or core.n == 0:
        return fix
    bound, price, chosen = dual_bound(core, lp.pi)
    # Strictly below the plan (less a rounding margin): no better plan is cut off.
    target = tracker.best - 1e-9 * max(1.0, abs(tracker.best))
    k = int(chosen.sum())
    if k == 0:
        return fix
    inside = np.sort(price[chosen])
    outside = price[~chosen]
    first_out = float(outside.max()) if outside.size else 0.0
    if k >= core.total:
        # Forcing a closed site open pushes out the weakest chosen one.
        out_bound = bound - float(inside[0]) + price
        fix[(~chosen) & (out_bound < target)] = 0
    # Forcing a chosen site closed lets the best unchosen one in.
    in_bound = bound - price + max(first_out, 0.0)
    fix[chosen & (in_bound < target)] = 1
    return fix
