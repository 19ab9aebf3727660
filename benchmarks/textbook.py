r"""Textbook models of every objective, solved by plain HiGHS and by plain CP-SAT.

These are the baselines of ``benchmarks/families.py`` and of
``tests/models/test_rule.py``: each objective of
:func:`hzlogistics.models.solve` stated once, as the plain mixed-integer program
found in textbooks, over the arrays of a
:class:`~hzlogistics.solvers.problem.SitingProblem`, with no aggregation, no
heuristic, no warm start and every solver parameter at its default (except the
time limit, the relative gap and the seed).

Site side (every objective). Sites :math:`i`, their allowed size options
:math:`t \in T_i` of area :math:`a_t` (the tiers up to ``max_area_m2``; an
existing site keeps its current area or grows to a larger tier; a forbidden
site has none), binaries :math:`y_{it}`, :math:`o_i = \sum_t y_{it} \le 1`
(:math:`= 1` for existing sites), count range, area budget, group count and
area quotas, rent cap.

``coverage`` without capacity (the maximal covering problem; count-only when
there is one tier or no budget): binaries :math:`z_j`,

.. math:: \max \sum_j v_j w_j z_j \quad z_j \le \sum_{i \ni j} o_i.

``coverage`` with capacity (``capacity_per_m2`` and/or ``site_capacity``):
flows :math:`x_{ij} \ge 0` on covered pairs,

.. math:: \max \sum_{ij} v_j x_{ij} \quad \sum_i x_{ij} \le w_j, \quad
    \sum_j x_{ij} \le K \sum_t a_t y_{it}, \quad \sum_j x_{ij} \le s_i o_i.

``median`` (p-median; capacitated median with capacity) and ``cost``
(capacitated facility location): shares :math:`x_{ij} \in [0, 1]` on covered
pairs, :math:`\sum_i x_{ij} = 1`, :math:`x_{ij} \le o_i`, capacity rows
:math:`\sum_j w_j x_{ij} \le K \sum_t a_t y_{it}` and :math:`\le s_i o_i`;

.. math:: \min \sum_{ij} c_{ij} x_{ij} \;(+ \sum_i f_i o_i + \sum_{it} r_i a_t y_{it}
    \text{ for cost})

with :math:`c_{ij}` = ``assign_cost`` or :math:`w_j t_{ij}` (× USD per
parcel-hour × days per year for ``cost``), as in the package. The objective
values are therefore those of ``SolveResult.objective`` and ``.bound``.

CP-SAT has no continuous variables: flows are counted in integer units of
``1/unit`` parcel (weights and capacities rounded so that every CP-SAT plan is
feasible for the real data). For ``coverage`` the bound is raised by the most
that rounding can cost, so it stays valid; for capacitated ``median`` and
``cost`` it is the bound of the rounded model (within about ``1/unit`` parcel
per point of the real one). Rows of non-integral areas or rents are scaled by
a power of ten and rounded.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics.solvers.problem import SitingProblem

#: Relative tolerance on areas (as the package uses).
_TOL = 1e-9

OBJECTIVES = ("coverage", "median", "cost")


@dataclass
class Baseline:
    """What a plain solver returned on the textbook model.

    Attributes
    ----------
    solver
        ``"highs"`` or ``"cpsat"``.
    status
        ``"optimal"`` (proven within the gap), ``"feasible"``, ``"no-solution"``,
        ``"infeasible"`` or ``"error"``.
    objective
        Value of the plan found (``nan`` without one), in the units of
        :attr:`hzlogistics.solvers.problem.SolveResult.objective`.
    bound
        Proven bound (upper for ``max``, lower for ``min``; ``nan`` when none).
    wall_s
        Seconds, model building included.
    build_s
        Seconds spent building the model.
    area_m2
        ``(n_sites,)`` areas of the plan (``None`` without one).
    sense
        ``"max"`` or ``"min"``.
    n_vars, n_rows
        Size of the model.
    """

    solver: str
    status: str
    objective: float
    bound: float
    wall_s: float
    build_s: float
    area_m2: np.ndarray | None
    sense: str
    n_vars: int = 0
    n_rows: int = 0
    detail: str = ""

    @property
    def gap(self) -> float:
        """Relative gap between the plan and the bound (``inf`` without both)."""
        if not (math.isfinite(self.objective) and math.isfinite(self.bound)):
            return math.inf
        return abs(self.bound - self.objective) / max(abs(self.objective), 1e-9)


@dataclass
class ArrayModel:
    """A mixed-integer program as arrays: ``row_lb <= A x <= row_ub``, ``lb <= x <= ub``."""

    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    obj: np.ndarray
    a: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    maximize: bool
    offset: float = 0.0
    option_site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    option_area: np.ndarray = field(default_factory=lambda: np.zeros(0))
    allowance: float = 0.0  # added to (max) / subtracted from (min) a bound of this model

    @property
    def n_vars(self) -> int:
        return int(self.lb.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_lb.size)

    def areas(self, values: np.ndarray, n_sites: int) -> np.ndarray:
        """``(n_sites,)`` areas of a solution (the option variables come first)."""
        area = np.zeros(n_sites)
        k = self.option_site.size
        on = np.asarray(values[:k]) > 0.5
        area[self.option_site[on]] = self.option_area[on]
        return area


class _Builder:
    """Variables in blocks, rows as coefficient triplets."""

    def __init__(self) -> None:
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.obj: list[np.ndarray] = []
        self.n_vars = 0
        self.rlb: list[np.ndarray] = []
        self.rub: list[np.ndarray] = []
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.n_rows = 0

    def vars(self, n: int, *, lb: object = 0.0, ub: object = 1.0, integer: bool = True,
             obj: object = 0.0) -> np.ndarray:
        self.lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self.ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        self.integer.append(np.full(n, integer))
        self.obj.append(np.broadcast_to(np.asarray(obj, dtype=float), (n,)).copy())
        ids = np.arange(self.n_vars, self.n_vars + n, dtype=np.int64)
        self.n_vars += n
        return ids

    def rows(self, n: int, *, lb: object = -np.inf, ub: object = np.inf) -> np.ndarray:
        self.rlb.append(np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy())
        self.rub.append(np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy())
        ids = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        return ids

    def terms(self, rows: object, cols: object, vals: object) -> None:
        r = np.asarray(rows, dtype=np.int64).ravel()
        c = np.asarray(cols, dtype=np.int64).ravel()
        self.r.append(r)
        self.c.append(c)
        self.v.append(np.broadcast_to(np.asarray(vals, dtype=float), r.shape).ravel())

    def model(self, *, maximize: bool, option_site: np.ndarray, option_area: np.ndarray,
              offset: float = 0.0, allowance: float = 0.0) -> ArrayModel:
        def cat(xs: list[np.ndarray], dtype: type = float) -> np.ndarray:
            return np.concatenate(xs) if xs else np.zeros(0, dtype=dtype)

        a = sp.csr_matrix((cat(self.v), (cat(self.r, np.int64), cat(self.c, np.int64))),
                          shape=(self.n_rows, self.n_vars))
        a.sum_duplicates()
        a.eliminate_zeros()
        a.sort_indices()
        return ArrayModel(lb=cat(self.lb), ub=cat(self.ub), integer=cat(self.integer, bool),
                          obj=cat(self.obj), a=a, row_lb=cat(self.rlb), row_ub=cat(self.rub),
                          maximize=maximize, offset=offset, option_site=option_site,
                          option_area=option_area, allowance=allowance)


def site_options(problem: SitingProblem) -> tuple[np.ndarray, np.ndarray]:
    """Every allowed ``(site, area)`` option of ``problem``, as two flat arrays.

    Examples
    --------
    >>> p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
    ...                   tiers_m2=np.array([100., 200.]), max_area_m2=np.array([150., np.inf]),
    ...                   existing_area_m2=np.array([0., 120.]))
    >>> s, a = site_options(p)
    >>> s.tolist(), a.tolist()
    ([0, 1, 1], [100.0, 120.0, 200.0])
    """
    n = problem.n_sites
    tiers = np.unique(np.asarray(problem.tiers_m2, dtype=float))

    def vec(x: np.ndarray | None, fill: float) -> np.ndarray:
        return np.full(n, fill) if x is None else np.asarray(x, dtype=float)

    max_area = vec(problem.max_area_m2, np.inf)
    existing = vec(problem.existing_area_m2, 0.0)
    forbidden = (np.zeros(n, bool) if problem.forbidden is None
                 else np.asarray(problem.forbidden, dtype=bool))
    sites: list[np.ndarray] = []
    areas: list[np.ndarray] = []
    for i in range(n):
        if forbidden[i]:
            continue
        e = existing[i]
        opts = np.concatenate([[e], tiers[tiers > e * (1 + _TOL)]]) if e > 0 else tiers
        opts = opts[opts <= max_area[i] * (1 + _TOL)]
        sites.append(np.full(opts.size, i, dtype=np.int64))
        areas.append(opts)
    if not sites:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(sites), np.concatenate(areas)


def _site_rows(b: _Builder, problem: SitingProblem, y: np.ndarray, opt_site: np.ndarray,
               opt_area: np.ndarray) -> None:
    """The site-side rows over the option variables ``y``."""
    n = problem.n_sites
    existing = (np.zeros(n) if problem.existing_area_m2 is None
                else np.asarray(problem.existing_area_m2, dtype=float))
    # one size per site; existing sites open
    r = b.rows(n, lb=np.where(existing > 0, 1.0, -np.inf), ub=1.0)
    b.terms(r[opt_site], y, 1.0)
    count_max = n if problem.count_max is None else min(int(problem.count_max), n)
    r = b.rows(1, lb=float(problem.count_min), ub=float(count_max))
    b.terms(np.full(y.size, r[0]), y, 1.0)
    if problem.area_budget_m2 is not None:
        r = b.rows(1, ub=float(problem.area_budget_m2))
        b.terms(np.full(y.size, r[0]), y, opt_area)
    if problem.rent_cap_usd_year is not None:
        rent = (np.zeros(n) if problem.rent_usd_m2_year is None
                else np.asarray(problem.rent_usd_m2_year, dtype=float))
        r = b.rows(1, ub=float(problem.rent_cap_usd_year))
        b.terms(np.full(y.size, r[0]), y, rent[opt_site] * opt_area)
    group = (np.zeros(n, dtype=np.int64) if problem.group is None
             else np.asarray(problem.group, dtype=np.int64))
    g_of = group[opt_site]
    for name, coef in (("count", np.ones(y.size)), ("area", opt_area)):
        lo_arr = getattr(problem, f"group_{name}_min" + ("_m2" if name == "area" else ""))
        hi_arr = getattr(problem, f"group_{name}_max" + ("_m2" if name == "area" else ""))
        if lo_arr is None and hi_arr is None:
            continue
        n_groups = max(np.asarray(a).size for a in (lo_arr, hi_arr) if a is not None)
        lo = np.zeros(n_groups) if lo_arr is None else np.asarray(lo_arr, dtype=float)
        hi = np.full(n_groups, np.inf) if hi_arr is None else np.asarray(hi_arr, dtype=float)
        active = np.flatnonzero((lo > 0) | np.isfinite(hi))
        if active.size == 0:
            continue
        index = np.full(n_groups, -1, dtype=np.int64)
        r = b.rows(active.size, lb=np.where(lo[active] > 0, lo[active], -np.inf),
                   ub=hi[active])
        index[active] = r
        keep = (g_of < n_groups)
        keep[keep] = index[g_of[keep]] >= 0
        b.terms(index[g_of[keep]], y[keep], coef[keep])


def _pairs(problem: SitingProblem, openable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(site, demand)`` of every covered pair whose site may open, row-major."""
    c = sp.csr_matrix(problem.cover).astype(bool)
    c.sum_duplicates()
    c.eliminate_zeros()
    c.sort_indices()
    rows = np.repeat(np.arange(c.shape[0], dtype=np.int64), np.diff(c.indptr))
    cols = c.indices.astype(np.int64)
    keep = openable[rows]
    return rows[keep], cols[keep]


def _at(mat: sp.spmatrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Entries of ``mat`` at ``(rows, cols)`` (0 where none is stored)."""
    if rows.size == 0:
        return np.zeros(0)
    return np.asarray(sp.csr_matrix(mat, dtype=float)[rows, cols]).ravel()


def _capacities(problem: SitingProblem, opt_site: np.ndarray, opt_area: np.ndarray
                ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Parcels/day of each option (capacity per m²) and of each site (``site_capacity``)."""
    per_option = (None if problem.capacity_per_m2 is None
                  else float(problem.capacity_per_m2) * opt_area)
    per_site = None
    if problem.site_capacity is not None:
        per_site = np.asarray(problem.site_capacity, dtype=float)
    return per_option, per_site


def _unit(weight: np.ndarray) -> float:
    """Integer flow units per parcel for CP-SAT: fine, yet far from int64 overflow."""
    total = max(float(np.sum(weight)), 1.0)
    return float(10.0 ** max(0, min(3, math.floor(math.log10(2.0 ** 40 / total)))))


def build_model(problem: SitingProblem, objective: str = "coverage", *, integral: bool = False,
                assignment: str = "split",
                cost_usd_per_parcel_h: float = settings.DELIVERY_COST_USD_PER_PARCEL_H,
                days_per_year: float = settings.OPERATING_DAYS_PER_YEAR) -> ArrayModel:
    """The textbook model of ``objective`` on ``problem``.

    Parameters
    ----------
    problem
        The siting problem.
    objective
        ``coverage``, ``median`` or ``cost``.
    integral
        Every variable integer (flows in units of a fraction of a parcel), for CP-SAT.
    assignment
        ``cost`` only: ``"split"`` or ``"single"`` (each point served by one site).
    cost_usd_per_parcel_h, days_per_year
        ``cost`` only, without ``assign_cost``: the price of delivery.

    Returns
    -------
    ArrayModel
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}; expected one of {', '.join(OBJECTIVES)}")
    n, m = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    opt_site, opt_area = site_options(problem)
    openable = np.zeros(n, bool)
    openable[opt_site] = True
    b = _Builder()
    rent = (np.zeros(n) if problem.rent_usd_m2_year is None
            else np.asarray(problem.rent_usd_m2_year, dtype=float))
    y_obj = rent[opt_site] * opt_area if objective == "cost" else 0.0
    y = b.vars(opt_site.size, obj=y_obj)
    _site_rows(b, problem, y, opt_site, opt_area)
    cap_opt, cap_site = _capacities(problem, opt_site, opt_area)
    capacitated = cap_opt is not None or cap_site is not None
    rows, cols = _pairs(problem, openable)
    allowance = 0.0
    unit = _unit(w) if integral and capacitated else 1.0

    def capacity_rows(x: np.ndarray, load: np.ndarray) -> float:
        """Rows ``load · x <= capacity`` of every site; returns the CP-SAT rounding loss."""
        loss = 0.0
        r_site = b.rows(n, ub=0.0)
        b.terms(r_site[rows], x, load)
        if cap_opt is not None:
            k = np.floor(cap_opt * unit + 1e-9) if integral else cap_opt
            loss_opt = cap_opt - k / unit
            per_site = np.zeros(n)
            np.maximum.at(per_site, opt_site, loss_opt)
            loss += float(per_site.sum())
            b.terms(r_site[opt_site], y, -k)
            if cap_site is not None:
                r_site = b.rows(n, ub=0.0)
                b.terms(r_site[rows], x, load)
        if cap_site is not None:
            fin = np.isfinite(cap_site[opt_site])
            s = cap_site[opt_site][fin]
            k = np.floor(s * unit + 1e-9) if integral else s
            b.terms(r_site[opt_site[fin]], y[fin], -k)
            per_site = np.zeros(n)
            np.maximum.at(per_site, opt_site[fin], s - k / unit)
            loss += float(per_site.sum())
        return loss

    if objective == "coverage":
        v = np.ones(m) if problem.value is None else np.asarray(problem.value, dtype=float)
        useful = (w > 0) & (v > 0)
        keep = useful[cols]
        rows, cols = rows[keep], cols[keep]
        if not capacitated:
            points = np.unique(cols)
            z = b.vars(points.size, obj=(v * w)[points])
            pos = np.full(m, -1, dtype=np.int64)
            pos[points] = np.arange(points.size)
            r = b.rows(points.size, ub=0.0)
            b.terms(r, z, 1.0)
            # z_j <= sum of the options of the sites that cover j
            order = np.argsort(opt_site, kind="stable")
            start = np.searchsorted(opt_site[order], np.arange(n))
            stop = np.searchsorted(opt_site[order], np.arange(n), side="right")
            n_opt = stop - start
            rep = n_opt[rows]
            pair_rows = np.repeat(r[pos[cols]], rep)
            first = np.repeat(start[rows], rep)
            within = np.arange(rep.sum()) - np.repeat(np.cumsum(rep) - rep, rep)
            b.terms(pair_rows, y[order[first + within]], -1.0)
        else:
            wmax = np.floor(w * unit + 1e-9) if integral else w
            allowance = (float(np.sum(v * (w - wmax / unit))) if integral else 0.0)
            x = b.vars(rows.size, ub=wmax[cols], integer=integral, obj=v[cols] / unit)
            r = b.rows(m, ub=wmax)
            b.terms(r[cols], x, 1.0)
            loss = capacity_rows(x, np.ones(rows.size))
            if integral:
                allowance += float(v.max(initial=1.0)) * loss
        return b.model(maximize=True, option_site=opt_site, option_area=opt_area,
                       allowance=allowance)

    # median and cost: every demand point served
    if problem.assign_cost is not None:
        cost = _at(problem.assign_cost, rows, cols)
    else:
        if problem.travel_time_h is None:
            raise ValueError(f"the {objective} objective needs travel_time_h or assign_cost")
        per_h = 1.0 if objective == "median" else cost_usd_per_parcel_h * days_per_year
        cost = w[cols] * _at(problem.travel_time_h, rows, cols) * per_h
    single = objective == "cost" and assignment == "single"
    if capacitated and integral and not single:
        units = np.maximum(np.ceil(w * unit - 1e-9), 1.0)
        x = b.vars(rows.size, ub=units[cols], obj=cost / units[cols])
        r = b.rows(m, lb=units, ub=units)
        b.terms(r[cols], x, 1.0)
        link = units[cols]
        load = np.ones(rows.size)
    else:
        x = b.vars(rows.size, integer=integral or single, obj=cost)
        r = b.rows(m, lb=1.0, ub=1.0)
        b.terms(r[cols], x, 1.0)
        link = np.ones(rows.size)
        load = w[cols] * unit
    # x_ij <= o_i (times the units of j)
    r = b.rows(rows.size, ub=0.0)
    b.terms(r, x, 1.0)
    order = np.argsort(opt_site, kind="stable")
    start = np.searchsorted(opt_site[order], np.arange(n))
    stop = np.searchsorted(opt_site[order], np.arange(n), side="right")
    rep = (stop - start)[rows]
    first = np.repeat(start[rows], rep)
    within = np.arange(rep.sum()) - np.repeat(np.cumsum(rep) - rep, rep)
    b.terms(np.repeat(r, rep), y[order[first + within]], -np.repeat(link, rep))
    if capacitated:
        capacity_rows(x, load)
    if objective == "cost" and problem.fixed_cost_usd_year is not None:
        fixed = np.asarray(problem.fixed_cost_usd_year, dtype=float)
        b.obj[0] = b.obj[0] + fixed[opt_site]
    return b.model(maximize=False, option_site=opt_site, option_area=opt_area)


# --------------------------------------------------------------------------------------------
# Plain HiGHS through OR-Tools MathOpt
# --------------------------------------------------------------------------------------------


def _mathopt_proto(model: ArrayModel):  # type: ignore[no-untyped-def]
    from ortools.math_opt import model_pb2

    mp = model_pb2.ModelProto()
    mp.variables.ids.extend(range(model.n_vars))
    mp.variables.lower_bounds.extend(model.lb.tolist())
    mp.variables.upper_bounds.extend(model.ub.tolist())
    mp.variables.integers.extend(model.integer.tolist())
    nz = np.flatnonzero(model.obj)
    mp.objective.maximize = bool(model.maximize)
    mp.objective.offset = float(model.offset)
    mp.objective.linear_coefficients.ids.extend(nz.tolist())
    mp.objective.linear_coefficients.values.extend(model.obj[nz].tolist())
    mp.linear_constraints.ids.extend(range(model.n_rows))
    mp.linear_constraints.lower_bounds.extend(model.row_lb.tolist())
    mp.linear_constraints.upper_bounds.extend(model.row_ub.tolist())
    a = model.a
    rows = np.repeat(np.arange(model.n_rows, dtype=np.int64), np.diff(a.indptr))
    mp.linear_constraint_matrix.row_ids.extend(rows.tolist())
    mp.linear_constraint_matrix.column_ids.extend(a.indices.tolist())
    mp.linear_constraint_matrix.coefficients.extend(a.data.tolist())
    return mp


def _solve_highs(model: ArrayModel, *, time_limit_s: float, gap: float, seed: int,
                 log: bool) -> tuple[str, float, float, np.ndarray | None, str]:
    from ortools.math_opt import callback_pb2, parameters_pb2, result_pb2
    from ortools.math_opt.core.python import solver as core
    from ortools.math_opt.python import mathopt

    proto = _mathopt_proto(model)
    params = mathopt.SolveParameters(
        time_limit=timedelta(seconds=max(0.05, float(time_limit_s))),
        relative_gap_tolerance=float(gap), random_seed=int(seed) % 2_147_483_647,
        enable_output=bool(log))
    res = core.solve(proto, mathopt.SolverType.HIGHS.value,
                     parameters_pb2.SolverInitializerProto(), params.to_proto(),
                     mathopt.ModelSolveParameters().to_proto(), None,
                     callback_pb2.CallbackRegistrationProto(), None, None)
    term = res.termination
    values = None
    if res.solutions:
        ps = res.solutions[0].primal_solution
        if ps.feasibility_status == 2 and len(ps.variable_values.ids):
            values = np.zeros(model.n_vars)
            values[np.asarray(ps.variable_values.ids, dtype=np.int64)] = \
                np.asarray(ps.variable_values.values)
    R = result_pb2
    reason = term.reason
    if reason == R.TERMINATION_REASON_OPTIMAL:
        status = "optimal"
    elif reason == R.TERMINATION_REASON_FEASIBLE:
        status = "feasible"
    elif reason == R.TERMINATION_REASON_NO_SOLUTION_FOUND:
        status = "no-solution"
    elif reason in (R.TERMINATION_REASON_INFEASIBLE,
                    R.TERMINATION_REASON_INFEASIBLE_OR_UNBOUNDED):
        status = "infeasible"
    else:
        status = "error"
    if values is None and status in ("optimal", "feasible"):
        status = "no-solution"
    objective = float(model.obj @ values + model.offset) if values is not None else math.nan
    bound = float(term.objective_bounds.dual_bound)
    if not math.isfinite(bound):
        bound = math.nan
    return status, objective, bound, values, str(term.detail)


# --------------------------------------------------------------------------------------------
# Plain CP-SAT
# --------------------------------------------------------------------------------------------


def _row_scale(coefs: np.ndarray) -> float:
    """Smallest power of ten (up to 10^4) that makes ``coefs`` integral."""
    for k in range(5):
        s = 10.0 ** k
        if np.all(np.abs(coefs * s - np.round(coefs * s)) <= 1e-9 * np.maximum(1.0, np.abs(
                coefs * s))):
            return s
    return 1e4


def _solve_cpsat(model: ArrayModel, *, time_limit_s: float, gap: float, seed: int,
                 workers: int | None, log: bool
                 ) -> tuple[str, float, float, np.ndarray | None, str]:
    from ortools.sat.python import cp_model

    if not np.all(model.integer):
        raise ValueError("CP-SAT needs an all-integer model (build it with integral=True)")
    cp = cp_model.CpModel()
    proto = cp.proto
    lb = np.ceil(model.lb - 1e-9).astype(np.int64)
    ub = np.floor(model.ub + 1e-9).astype(np.int64)
    for lo, hi in zip(lb.tolist(), ub.tolist(), strict=True):
        proto.variables.add().domain.extend([lo, hi])
    a = model.a
    big = 2 ** 62
    frac = np.abs(a.data - np.round(a.data)) > 1e-9 * np.maximum(1.0, np.abs(a.data))
    needs_scale = np.add.reduceat(frac, a.indptr[:-1]) > 0 if a.nnz else np.zeros(0, bool)
    needs_scale &= np.diff(a.indptr) > 0
    for k in range(model.n_rows):
        s, e = a.indptr[k], a.indptr[k + 1]
        if s == e:
            continue
        coefs = a.data[s:e]
        scale = _row_scale(coefs) if needs_scale[k] else 1.0
        ic = np.round(coefs * scale).astype(np.int64)
        lo = model.row_lb[k] * scale
        hi = model.row_ub[k] * scale
        lo_i = -big if not np.isfinite(lo) else int(math.ceil(lo - 1e-6))
        hi_i = big if not np.isfinite(hi) else int(math.floor(hi + 1e-6))
        c = proto.constraints.add().linear
        c.vars.extend(a.indices[s:e].tolist())
        c.coeffs.extend(ic.tolist())
        c.domain.extend([lo_i, hi_i])
    nz = np.flatnonzero(model.obj)
    fobj = proto.floating_point_objective
    fobj.vars.extend(nz.tolist())
    fobj.coeffs.extend(model.obj[nz].tolist())
    fobj.offset = float(model.offset)
    fobj.maximize = bool(model.maximize)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit_s))
    solver.parameters.relative_gap_limit = float(gap)
    solver.parameters.random_seed = int(seed)
    solver.parameters.num_workers = int(workers or os.cpu_count() or 1)
    solver.parameters.log_search_progress = bool(log)
    code = solver.solve(cp)
    name = solver.status_name(code)
    values = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.asarray(solver.response_proto.solution, dtype=float)
    status = {"OPTIMAL": "optimal", "FEASIBLE": "feasible", "INFEASIBLE": "infeasible",
              "UNKNOWN": "no-solution"}.get(name, "error")
    objective = float(model.obj @ values + model.offset) if values is not None else math.nan
    bound = float(solver.best_objective_bound)
    if status == "no-solution" and bound == 0.0:
        bound = math.nan  # no bound reported
    if math.isfinite(bound):
        bound = bound + model.allowance if model.maximize else bound - model.allowance
    return status, objective, bound, values, name


def solve_textbook(problem: SitingProblem, objective: str = "coverage", *,
                   solver: str = "highs", time_limit_s: float = settings.TIME_LIMIT_S,
                   gap: float = settings.GAP_TARGET, seed: int = settings.SEED,
                   workers: int | None = None, log: bool = False,
                   assignment: str = "split",
                   cost_usd_per_parcel_h: float = settings.DELIVERY_COST_USD_PER_PARCEL_H,
                   days_per_year: float = settings.OPERATING_DAYS_PER_YEAR) -> Baseline:
    """Build the textbook model of ``objective`` and solve it with a plain solver.

    Parameters
    ----------
    problem
        The siting problem. For ``median`` and ``cost`` every demand point must
        be reachable (restrict the demand first, as the package does).
    objective
        ``coverage``, ``median`` or ``cost``.
    solver
        ``"highs"`` (OR-Tools MathOpt) or ``"cpsat"``.
    time_limit_s
        Wall-clock limit, model building included.
    gap
        Relative gap at which the solver stops.
    seed, workers, log
        Solver seed, CP-SAT workers (default: the machine's cores), solver log.
    assignment, cost_usd_per_parcel_h, days_per_year
        As for :func:`hzlogistics.models.cost.solve_cost`.

    Returns
    -------
    Baseline

    Examples
    --------
    >>> p = SitingProblem(weight=np.array([5., 3., 2.]),
    ...                   cover=sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]])),
    ...                   tiers_m2=np.array([100.]), area_budget_m2=None, count_max=1)
    >>> r = solve_textbook(p, "coverage", solver="highs", time_limit_s=5)
    >>> r.status, r.objective, r.area_m2.tolist()
    ('optimal', 8.0, [100.0, 0.0])
    >>> solve_textbook(p, "coverage", solver="cpsat", time_limit_s=5, workers=1).objective
    8.0
    """
    if solver not in ("highs", "cpsat"):
        raise ValueError(f"solver {solver!r}; expected 'highs' or 'cpsat'")
    t0 = time.perf_counter()
    model = build_model(problem, objective, integral=solver == "cpsat", assignment=assignment,
                        cost_usd_per_parcel_h=cost_usd_per_parcel_h,
                        days_per_year=days_per_year)
    build_s = time.perf_counter() - t0
    left = time_limit_s - build_s
    sense = "max" if model.maximize else "min"
    if left <= 0.05:
        return Baseline(solver, "no-solution", math.nan, math.nan, time.perf_counter() - t0,
                        build_s, None, sense, model.n_vars, model.n_rows,
                        "no time left after building the model")
    if solver == "highs":
        status, obj, bound, values, detail = _solve_highs(model, time_limit_s=left, gap=gap,
                                                          seed=seed, log=log)
    else:
        status, obj, bound, values, detail = _solve_cpsat(model, time_limit_s=left, gap=gap,
                                                          seed=seed, workers=workers, log=log)
    area = None if values is None else model.areas(values, problem.n_sites)
    return Baseline(solver, status, obj, bound, time.perf_counter() - t0, build_s, area, sense,
                    model.n_vars, model.n_rows, detail)


__all__ = ["ArrayModel", "Baseline", "build_model", "site_options", "solve_textbook"]
