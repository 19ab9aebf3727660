"""The coverage model: serve as much demand as possible within the service level.

:func:`solve_coverage` chooses which candidate sites open and at which size
tier, under the area budget and every other limit of a
:class:`~hzlogistics.solvers.problem.SitingProblem`, to maximize the
value-weighted demand served. It runs in stages that share one time limit:

1. :func:`~hzlogistics.models.precheck.explain_infeasibility` (no solver);
2. demand points with identical covering sites (and equal value) are merged
   into classes (:func:`~hzlogistics.solvers.reduce.aggregate_demand`);
3. the LP relaxations of :mod:`hzlogistics.models.coverage_lp` (GLOP, through
   :mod:`hzlogistics.solvers.lp`) give a certified upper bound;
4. greedy plans (:mod:`hzlogistics.solvers.heuristic`; with capacity up to
   :data:`GREEDY_STARTS` of them, each taking equal moves in its own random
   order, until one meets the gap target) and local search
   (:mod:`hzlogistics.solvers.local_search`) give a feasible plan within a
   few seconds; a greedy priced by the LP's duals follows when the duals
   price more than the floor area;
5. if the gap is above the target, CP-SAT (:mod:`hzlogistics.solvers.cpsat`)
   starts from the heuristic plan and runs for the remaining time; the better
   plan and the better bound win. With capacity, a neighbourhood search
   (:mod:`hzlogistics.models.coverage_lns`: a few dozen sites at a time, their
   sizes solved exactly by a MIP) improves that plan while HiGHS, in a thread
   beside it, solves the whole model with flows per covered pair
   (:func:`~hzlogistics.models.coverage_groups.pair_lp`) from it, for its plan
   and its bound; both stop once the better plan and HiGHS's bound meet the
   gap target. With one worker the search comes first, on at most
   :data:`NEIGHBOURHOOD_SHARE` of the time left, and HiGHS starts from its
   plan. CP-SAT gets what time HiGHS leaves. Above :data:`CPSAT_MAX_NONZEROS` covered
   pairs the local search goes on instead; where no demand point is reached
   from two groups (countries), a thread beside it prices the area budget
   and bounds each group by its own LP, then solves as MIPs the groups whose
   plan falls furthest below their share of that bound
   (:mod:`hzlogistics.models.coverage_groups`), and the groups' plans are
   combined with the search's under the budget.

Every stage works against the one deadline ``options.time_limit_s`` after the
start: greedy growth, local search, the LPs and CP-SAT stop on it, and a stage
with less than :data:`MIN_STAGE_S` left is skipped. Two things may run past
it: the first feasible plan (the greedy's lower-bound phase, plus a CP-SAT
search of at least a second when the greedy fails), which takes a few seconds
on the full 50-country data, and the final exact flow of the plan returned.

The count-only case (no capacity, no area quotas per group, no rent cap, one
tier or no area budget) is a maximal covering problem, handed to
:func:`hzlogistics.models.count_coverage.solve_count_only`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.models.count_coverage import solve_count_only
from hzlogistics.models.coverage_groups import GroupLp, GroupPlan, GroupWork, group_lps, pair_mip
from hzlogistics.models.coverage_lns import NeighbourhoodSearch
from hzlogistics.models.coverage_lp import CoverageLp, aggregate_lp, coverage_lp, trivial_bound
from hzlogistics.models.precheck import diagnose_infeasibility, explain_infeasibility
from hzlogistics.solvers.capacity import Capacity, CapacityFlow
from hzlogistics.solvers.cpsat import (
    cover_rows,
    feasible_plan_cpsat,
    flow_rows,
    site_model,
    solve_cpsat,
)
from hzlogistics.solvers.heuristic import (
    CapacityGain,
    CoverGain,
    MovePrice,
    greedy_plan,
    round_down,
)
from hzlogistics.solvers.local_search import rebalance_search, swap_search
from hzlogistics.solvers.lp import LpBound, lp_bound
from hzlogistics.solvers.problem import (
    SitingProblem,
    SolveOptions,
    SolveResult,
    Status,
    relative_gap,
    weight_and_capacity_problems,
)
from hzlogistics.solvers.reduce import aggregate_demand
from hzlogistics.solvers.sites import SiteTable, plan_violations, site_table
from hzlogistics.solvers.track import Tracker, stop_requested, watch_stop

logger = logging.getLogger(__name__)

#: CP-SAT parameters of the improvement stage. Presolve off keeps the covering
#: rows linear (with presolve they become clauses and the LP relaxation weakens).
CPSAT_PARAMS: dict[str, object] = {"cp_model_presolve": False, "linearization_level": 2}

#: Share of the time limit given to the heuristic stage.
HEURISTIC_SHARE = 0.3

#: Greedy plans (each with its own order of equal moves) built with capacity,
#: time permitting; the best goes on to the local search.
GREEDY_STARTS = 3

#: Largest number of (site, class) pairs for which the full LP relaxation is
#: solved (above it the aggregate LP and the trivial bound remain).
FULL_LP_MAX_NONZEROS = 300_000

#: Time below which a stage (LP, search, CP-SAT) is not started, seconds.
MIN_STAGE_S = 0.2

#: Largest number of (site, class) pairs for which the CP-SAT stage runs.
CPSAT_MAX_NONZEROS = 300_000

#: Seconds kept after the work by group ends, to combine its plans with the search's.
GROUP_MARGIN_S = 1.0

#: With capacity and one worker, share of the time left that the neighbourhood
#: search (:mod:`hzlogistics.models.coverage_lns`) may take before HiGHS and CP-SAT.
NEIGHBOURHOOD_SHARE = 0.4

#: With one worker the work by group runs first, alone, on this share of the time
#: left; with more it runs beside the search all along.
GROUP_SOLO_SHARE = 0.4


@dataclass
class DemandClasses:
    """Demand points merged into classes of identical coverage and value.

    Attributes
    ----------
    cover
        ``(n_sites, n_classes)`` CSR coverage of each class.
    weight
        ``(n_classes,)`` parcels/day of each class.
    value
        ``(n_classes,)`` value per parcel of each class.
    labels
        ``(n_demand,)`` class of every point (-1: uncovered, or of no value).
    """

    cover: sp.csr_matrix
    weight: np.ndarray
    value: np.ndarray
    labels: np.ndarray

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self.weight.shape[0])


def demand_classes(problem: SitingProblem) -> DemandClasses:
    """Merge the demand points of ``problem`` into classes.

    Points of zero weight or zero value are left out (they add nothing to the
    objective). Two points merge when the same sites cover them and their
    values are equal; with capacity a class's served flow splits back to its
    points in proportion to their weights, so nothing is lost.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = SitingProblem(weight=np.array([1., 2., 3.]),
    ...                   cover=sp.csr_matrix(np.array([[1, 1, 1]])),
    ...                   value=np.array([1., 1., .5]))
    >>> c = demand_classes(p)
    >>> c.weight.tolist(), c.value.tolist(), c.labels.tolist()
    ([3.0, 3.0], [1.0, 0.5], [0, 0, 1])
    """
    weight = np.asarray(problem.weight, dtype=float)
    value = _value(problem)
    keep = (weight > 0) & (value > 0)
    levels, key = np.unique(value, return_inverse=True)
    cover = sp.csr_matrix(problem.cover, dtype=bool)
    if not keep.all():
        cover = sp.csr_matrix(cover.astype(float) @ sp.diags(keep.astype(float)))
        cover.eliminate_zeros()
        cover = sp.csr_matrix(cover, dtype=bool)
    agg = aggregate_demand(cover, weight, key=key)
    labels = agg.labels
    cls_value = np.zeros(agg.n_classes)
    kept = labels >= 0
    cls_value[labels[kept]] = value[kept]
    return DemandClasses(cover=agg.cover, weight=agg.weight, value=cls_value, labels=labels)


def _value(problem: SitingProblem) -> np.ndarray:
    if problem.value is None:
        return np.ones(problem.n_demand)
    return np.asarray(problem.value, dtype=float)


def is_count_only(problem: SitingProblem) -> bool:
    """Whether only the number of open sites matters (a maximal covering problem).

    True without capacity (per m² or per site), area quotas per group and
    rent cap, when there is a single size tier or no area budget.
    """
    def absent(arr: np.ndarray | None, empty: float) -> bool:
        return arr is None or bool(np.all(np.asarray(arr, dtype=float) == empty))

    tiers = np.unique(np.asarray(problem.tiers_m2, dtype=float))
    return (problem.capacity_per_m2 is None
            and getattr(problem, "site_capacity", None) is None
            and (tiers.size == 1 or problem.area_budget_m2 is None)
            and absent(problem.group_area_min_m2, 0.0)
            and absent(problem.group_area_max_m2, np.inf)
            and problem.rent_cap_usd_year is None)


def _validate_demand(problem: SitingProblem) -> None:
    problems = weight_and_capacity_problems(problem)
    n, m = problem.cover.shape
    if problem.value is not None:
        v = np.asarray(problem.value, dtype=float)
        if v.shape != (m,):
            problems.append(f"SitingProblem.value: shape {v.shape}, expected ({m},)")
        elif not np.all((v >= 0) & (v <= 1)):
            problems.append("SitingProblem.value: expected multipliers in [0, 1]")
    if problem.travel_time_h is not None and problem.travel_time_h.shape != (n, m):
        problems.append(f"SitingProblem.travel_time_h: shape {problem.travel_time_h.shape}, "
                        f"expected ({n}, {m})")
    if problems:
        raise ValidationError(problems)


def _note(tracker: Tracker, *, incumbent: float | None = None,
          bound: float | None = None) -> None:
    """Offer a plan value or a bound to the tracker (a callback that returns nothing)."""
    tracker.update(incumbent=incumbent, bound=bound)


def _empty_result(problem: SitingProblem, status: Status, t0: float, *, reasons: list[str],
                  info: dict[str, object] | None = None) -> SolveResult:
    return SolveResult(
        status=status,
        objective=float("nan"), bound=float("nan"), gap=float("inf"),
        wall_s=time.perf_counter() - t0, area_m2=np.zeros(problem.n_sites),
        served=sp.csr_matrix((problem.n_sites, problem.n_demand)),
        reasons=reasons, info=info or {},
    )


@dataclass
class _Scaling:
    """Integer units of the CP-SAT model and the bound allowance they cost."""

    weight_unit: float  # integer units per parcel/day
    value_unit: float  # integer units per value 1
    w_int: np.ndarray
    v_int: np.ndarray
    allowance: float  # added to a CP-SAT bound to make it valid for the real data

    @property
    def objective_unit(self) -> float:
        return self.weight_unit * self.value_unit


def _scaling(classes: DemandClasses, table: SiteTable, cap: Capacity | None) -> _Scaling:
    n_sites = table.n_sites
    w, v = classes.weight, classes.value
    total = float(w @ v) if w.size else 0.0
    vmax = float(v.max(initial=1.0))
    value_unit = 10_000.0
    for unit in (1.0, 2.0, 4.0, 10.0, 100.0, 1000.0, 10_000.0):
        if np.all(np.abs(v * unit - np.round(v * unit)) < 1e-9):
            value_unit = unit
            break
    # rounding loss of the weights at most 1e-6 of the total, within int64 headroom
    need = (classes.n_classes + n_sites) * vmax / max(1e-6 * total, 1e-12)
    weight_unit = 10.0 ** np.ceil(np.log10(max(need, 1.0)))
    ceiling = 2.0 ** 52 / max(float(w.sum()) * value_unit * 8, 1.0)
    weight_unit = float(max(1.0, min(weight_unit, 10.0 ** np.floor(np.log10(ceiling)))))
    w_int = np.floor(w * weight_unit + 1e-9).astype(np.int64)
    v_int = np.round(v * value_unit).astype(np.int64)
    cap_loss = 0.0
    if cap is not None:
        opt_site, opt_area = table.option_arrays()
        c = cap.options(opt_site, opt_area)
        c = np.where(np.isfinite(c), c, 0.0)
        loss = c - np.floor(c * weight_unit + 1e-9) / weight_unit
        per_site = np.zeros(n_sites)
        np.maximum.at(per_site, opt_site, np.maximum(loss, 0.0))
        cap_loss = float(per_site.sum())
    allowance = (vmax * (float(np.sum(np.maximum(w - w_int / weight_unit, 0.0))) + cap_loss)
                 + float(np.sum(np.abs(v - v_int / value_unit) * w)))
    return _Scaling(weight_unit, value_unit, w_int, v_int, allowance)


# Over 100 lines only for its docstring: the Notes state the model's formulation.
def solve_coverage(problem: SitingProblem, options: SolveOptions | None = None) -> SolveResult:
    r"""Maximize the value-weighted demand served within the service level.

    Parameters
    ----------
    problem
        The siting problem (see :class:`~hzlogistics.solvers.problem.SitingProblem`).
    options
        Time limit, gap target, seed, workers, progress callback, stop event,
        warm start (default: :class:`~hzlogistics.solvers.problem.SolveOptions`).

    Returns
    -------
    SolveResult
        ``area_m2`` of every site, ``served`` parcels/day of each demand point
        by each site, the objective, a certified upper bound and the gap, the
        log of incumbent and bound over time, and in ``info`` the sizes of the
        model, the scaling and the time of each stage. ``status`` is
        ``"optimal"`` when the gap target is reached, ``"feasible"`` when the
        time ran out first, ``"interrupted"`` when ``options.stop`` was set,
        ``"infeasible"`` (with ``reasons``) or ``"error"`` (no plan found in time).

    Raises
    ------
    ValidationError
        When the problem's arrays are malformed.

    Notes
    -----
    Sites :math:`i \in I`, size options :math:`t \in T_i` of area :math:`a_{t}`
    (the tiers up to the site's largest area; an existing site keeps its
    current area or grows to a larger tier), demand classes :math:`c \in C`
    of weight :math:`w_c` (parcels/day) and value :math:`v_c \in [0, 1]`,
    :math:`N_c` the sites covering class :math:`c`. Variables: :math:`y_{it}
    \in \{0, 1\}` site :math:`i` opens with option :math:`t`;
    :math:`o_i = \sum_t y_{it}`.

    Without capacity, :math:`z_c \in \{0, 1\}` class :math:`c` is served:

    .. math::

        \max \sum_{c} v_c w_c z_c \quad\text{s.t.}\quad
        z_c \le \sum_{i \in N_c} o_i \quad \forall c.

    With capacity :math:`K` parcels/day per m², flows :math:`x_{ic} \ge 0` on
    covered pairs (demand may be split between sites):

    .. math::

        \max \sum_{c} v_c \sum_{i \in N_c} x_{ic} \quad\text{s.t.}\quad
        \sum_{i \in N_c} x_{ic} \le w_c \;\forall c, \qquad
        \sum_{c: i \in N_c} x_{ic} \le K \sum_t a_t y_{it} \;\forall i.

    Both share the site constraints:

    .. math::

        o_i \le 1,\; o_i = 1 \text{ for existing sites},\; o_i = 0 \text{ for forbidden ones}

        n_{min} \le \sum_i o_i \le n_{max}, \qquad \sum_{i,t} a_t y_{it} \le B

        n^g_{min} \le \sum_{i \in g} o_i \le n^g_{max}, \qquad
        A^g_{min} \le \sum_{i \in g, t} a_t y_{it} \le A^g_{max} \quad \forall g

        \sum_{i,t} r_i a_t y_{it} \le R \quad \text{(rent cap, optional)}

    Classes merge points with identical :math:`N_c` and value; the served flow
    of a class splits back to its points in proportion to their weights.
    CP-SAT needs integers: weights and capacities are floored to
    ``info["weight_unit"]`` units per parcel/day (so every CP-SAT plan is
    feasible for the real data) and the CP-SAT bound is raised by the most
    that rounding can cost (``info["scaling_allowance"]``). The reported
    objective is always recomputed in floating point for the plan returned.

    Reproducibility: the greedy, the local search and the LP are
    deterministic; CP-SAT is deterministic for a fixed ``seed`` and a fixed
    ``workers`` count as long as it stops on the gap target rather than on
    the wall-clock limit (set ``workers=1`` for a fully repeatable path).

    Examples
    --------
    Two sites, three towns; one site of 100 m² handles 60 parcels/day per m²:

    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> p = SitingProblem(weight=np.array([5000., 3000., 2000.]),
    ...                   cover=sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]])),
    ...                   tiers_m2=np.array([100.]), area_budget_m2=100., count_max=1,
    ...                   capacity_per_m2=60.)
    >>> r = solve_coverage(p, SolveOptions(time_limit_s=5, workers=1))
    >>> r.status, r.objective, r.area_m2.tolist()
    ('optimal', 6000.0, [100.0, 0.0])
    """
    options = options or SolveOptions()
    t0 = time.perf_counter()
    table, reasons = _checked(problem)
    if reasons:
        return _empty_result(problem, "infeasible", t0, reasons=reasons)
    if is_count_only(problem):
        result = solve_count_only(problem, options)
        # the same key as the general path: the value of the first heuristic plan
        info = getattr(result, "info", None)
        if isinstance(info, dict) and "greedy_value" in info:
            info.setdefault("heuristic_objective", info["greedy_value"])
        return result
    return _solve(problem, table, options, t0)


def _checked(problem: SitingProblem) -> tuple[SiteTable, list[str]]:
    """The site table of a validated problem, and the conflicts found before solving."""
    table = site_table(problem)
    _validate_demand(problem)
    return table, explain_infeasibility(table)


def coverage_bound(problem: SitingProblem,
                   options: SolveOptions | None = None) -> tuple[float, list[str]]:
    """A proven upper bound on the coverage objective, without looking for a plan.

    The bound :func:`solve_coverage` starts from: the demand some site can
    serve, then its LP relaxations (within ``options.time_limit_s``). On the
    large instances, where the solve runs no CP-SAT, it is the bound the
    whole solve would prove, at a fraction of its time.

    Parameters
    ----------
    problem
        The siting problem.
    options
        Time limit (for the LPs), seed.

    Returns
    -------
    bound : float
        ``-inf`` when the problem is infeasible.
    reasons : list of str
        Why it is infeasible (empty otherwise).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> p = SitingProblem(weight=np.array([5000., 3000., 2000.]),
    ...                   cover=sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]])),
    ...                   tiers_m2=np.array([100.]), area_budget_m2=100., count_max=1,
    ...                   capacity_per_m2=60.)
    >>> coverage_bound(p)
    (6000.0, [])
    """
    options = options or SolveOptions()
    t0 = time.perf_counter()
    table, reasons = _checked(problem)
    if reasons:
        return -np.inf, reasons
    if is_count_only(problem):
        result = solve_count_only(problem, options)
        return (-np.inf if result.status == "infeasible" else float(result.bound),
                list(result.reasons))
    run = _Run(problem, table, options, t0)
    run.lp_stage()
    return float(run.tracker.bound), []


class _Run:
    """One solve of the general coverage model: its data, its best plan and its log."""

    def __init__(self, problem: SitingProblem, table: SiteTable, options: SolveOptions,
                 t0: float) -> None:
        self.problem, self.table, self.options, self.t0 = problem, table, options, t0
        self.limit = float(options.time_limit_s)
        self.tracker = Tracker(options.progress if callable(options.progress) else None, t0,
                               sense="max")
        self.classes = classes = demand_classes(problem)
        self.cap = cap = Capacity.of_problem(problem)
        self.scaling = scaling = _scaling(classes, table, cap)
        self.nnz = int(classes.cover.nnz)
        self.info: dict[str, object] = dict(
            n_sites=table.n_sites, n_demand=problem.n_demand, n_classes=classes.n_classes,
            nonzeros=int(problem.cover.nnz), class_nonzeros=self.nnz,
            weight_unit=scaling.weight_unit, value_unit=scaling.value_unit,
            scaling_allowance=scaling.allowance)
        self.wv = classes.weight * classes.value
        self.best_area = np.zeros(table.n_sites)
        self.best_obj = -np.inf
        self.lps: list[tuple[CoverageLp, LpBound]] = []
        self.tracker.update(bound=trivial_bound(classes.cover, classes.weight, classes.value,
                                                table=table, capacity=cap))

    @functools.cached_property
    def flow(self) -> CapacityFlow | None:
        """The exact evaluator with capacity, built when a plan is first evaluated."""
        if self.cap is None:
            return None
        return CapacityFlow(self.classes.cover, self.classes.weight, self.classes.value,
                            self.cap, scale=self.scaling.weight_unit)

    def evaluate(self, area: np.ndarray) -> float:
        """Exact value of a plan."""
        if self.flow is not None:
            return self.flow.solve(area)[0]
        hit = np.asarray(self.classes.cover[area > 0].sum(axis=0)).ravel() > 0
        return float(self.wv[hit].sum())

    def remaining(self) -> float:
        return self.limit - self.tracker.elapsed()

    def unfinished(self) -> bool:
        """Whether another stage is worth starting: no stop, gap above target, time left."""
        return not self.settled() and self.remaining() > MIN_STAGE_S

    def settled(self) -> bool:
        """Whether a stop was requested or the best plan is within the gap target."""
        return (stop_requested(self.options.stop)
                or relative_gap(self.tracker.best, self.tracker.bound) <= self.options.gap)

    def offer(self, plan: np.ndarray | None, obj: float | None = None) -> None:
        """Keep ``plan`` if it serves more than the best plan so far."""
        if plan is None:
            return
        obj = self.evaluate(plan) if obj is None else obj
        if obj > self.best_obj:
            self.best_area, self.best_obj = plan, obj
            self.tracker.update(incumbent=obj)

    def heuristic_stage(self) -> np.ndarray | None:
        t_h = time.perf_counter()
        plan = _heuristic(self.problem, self.table, self.classes, self.flow, self.options,
                          self.tracker, time_limit_s=0.5 * HEURISTIC_SHARE * self.limit,
                          settled=self.settled)
        self.info["heuristic_s"] = round(time.perf_counter() - t_h, 3)
        return plan

    def lp_stage(self) -> None:
        """LP bounds: the small aggregate LP first (with capacity), then the full LP."""
        classes, table, cap, tracker, info = (self.classes, self.table, self.cap, self.tracker,
                                              self.info)
        if classes.n_classes == 0:
            tracker.update(bound=0.0)
        if cap is not None and classes.n_classes and self.unfinished():
            t_lp = time.perf_counter()
            alp = aggregate_lp(table, classes.cover, classes.weight, classes.value, cap)
            alb = lp_bound(alp.lp, time_limit_s=max(MIN_STAGE_S, 0.25 * self.remaining()))
            tracker.update(bound=alb.bound)
            info.update(aggregate_lp_status=alb.status, aggregate_lp_bound=alb.bound,
                        aggregate_lp_s=round(time.perf_counter() - t_lp, 3))
            if alb.status in ("optimal", "limit"):
                self.lps.append((alp, alb))
        if classes.n_classes and self.nnz <= FULL_LP_MAX_NONZEROS and self.unfinished():
            t_lp = time.perf_counter()
            clp = coverage_lp(table, classes.cover, classes.weight, classes.value, capacity=cap)
            lpb = lp_bound(clp.lp, time_limit_s=max(MIN_STAGE_S, 0.5 * self.remaining()))
            tracker.update(bound=lpb.bound)
            info.update(lp_status=lpb.status, lp_bound=lpb.bound,
                        lp_s=round(time.perf_counter() - t_lp, 3))
            if lpb.status in ("optimal", "limit"):
                self.lps.append((clp, lpb))

    def priced_stage(self) -> None:
        """A greedy priced by the last LP's duals, also completing its rounded solution.

        Skipped when the duals price the floor area alone, the same for every
        site: that greedy ranks its moves as the first one did.
        """
        t_h = time.perf_counter()
        lp, sol = self.lps[-1]
        table = self.table
        price = lp.move_price(table, sol.duals)
        if not np.any(price.open) and np.ptp(price.area) <= 1e-12 * max(1.0, price.area.max()):
            self.info["priced_heuristic_s"] = 0.0
            return
        plan = _heuristic(self.problem, table, self.classes, self.flow, self.options,
                          self.tracker,
                          time_limit_s=max(0.0, min(0.5 * HEURISTIC_SHARE * self.limit,
                                                    self.remaining() - MIN_STAGE_S)),
                          price=price, starts=[self.best_area],
                          rounded=round_down(table, lp.site_area(sol.x, table.n_sites)),
                          settled=self.settled)
        self.offer(plan)
        self.info["priced_heuristic_s"] = round(time.perf_counter() - t_h, 3)
        self.info["priced_heuristic_objective"] = self.best_obj

    def neighbourhood_stage(self, flow: CapacityFlow, share: float,
                            stop: Callable[[], bool] | None = None) -> None:
        """The neighbourhood search on ``share`` of the time left, from the best plan; it
        also ends once ``stop()`` is true."""
        t_nb = time.perf_counter()
        lns = NeighbourhoodSearch(self.table, flow, seed=self.options.seed)
        obj, flows = flow.solve(self.best_area)
        plan, obj, _ = lns.improve(
            self.best_area, obj, flows, time_limit_s=share * self.remaining(),
            stop=lambda: self.settled() or (stop is not None and stop()),
            on_improve=lambda o, _a: _note(self.tracker, incumbent=o))
        self.offer(plan, obj)
        self.info.update(neighbourhood_s=round(time.perf_counter() - t_nb, 3),
                         neighbourhoods_tried=lns.tried, neighbourhoods_kept=lns.kept)

    def mip_stage(self, flow: CapacityFlow, beside: bool = False) -> None:
        """HiGHS on the model with flows per covered pair (:func:`pair_mip`), from the best
        plan, for the time left: its bound, and its plan when it serves more.

        ``beside``: the neighbourhood search runs meanwhile on this thread, from the
        same plan, until HiGHS ends or the search stops; HiGHS's bound reaches the
        tracker as it rises, and both end once the best plan and that bound meet
        the gap target.
        """
        t_m = time.perf_counter()
        assert self.cap is not None
        start, start_area = self.best_obj, self.best_area
        start_flows = flow.solve(start_area)[1]  # here: the search uses the flow meanwhile
        box: dict[str, Any] = {}
        done = threading.Event()

        def watch(_plan: float, bound: float) -> bool:
            if math.isfinite(bound):
                self.tracker.update(bound=bound)
            return self.settled()

        def run_highs() -> None:
            assert self.cap is not None
            try:
                box["out"] = pair_mip(
                    self.table, self.classes.cover, self.classes.weight, self.classes.value,
                    self.cap, start_area, start_flows, time_limit_s=self.remaining(),
                    gap=self.options.gap, seed=self.options.seed, stop=self.options.stop,
                    watch=watch)
            except BaseException as exc:  # raised again on the caller's thread
                box["error"] = exc
            finally:
                done.set()

        if beside:
            highs = threading.Thread(target=run_highs, name="hzlogistics-pair-mip", daemon=True)
            highs.start()
            try:
                self.neighbourhood_stage(flow, 1.0, stop=done.is_set)
            finally:
                highs.join()
        else:
            run_highs()
        if "error" in box:
            raise box["error"]
        out = box["out"]
        if math.isfinite(out.bound):
            self.tracker.update(bound=out.bound)
        if out.plan is not None and not plan_violations(self.table, out.plan):
            self.offer(out.plan)
        self.info.update(mip_s=round(time.perf_counter() - t_m, 3), mip_status=out.status,
                         mip_bound=out.bound, mip_start_objective=start)

    def cpsat_stage(self) -> None:
        t_cp = time.perf_counter()
        cp = _cpsat_stage(self.table, self.classes, self.cap, self.scaling, self.best_area,
                          self.flow, self.options, self.tracker, deadline=self.t0 + self.limit)
        self.info["cpsat_s"] = round(time.perf_counter() - t_cp, 3)
        self.info["cpsat_status"] = cp["status"]
        if cp["area"] is not None and not plan_violations(self.table, cp["area"]):
            self.offer(cp["area"])

    def group_stage(self, share: float = 1.0) -> GroupWork | None:
        """Start the work by group beside the search (:class:`GroupWork`), on ``share``
        of the time left.

        Only with capacity, and where no demand point is reached from two groups.
        """
        if self.cap is None or self.flow is None or not self.unfinished():
            return None
        groups = group_lps(self.table, self.classes.cover, self.classes.weight,
                           self.classes.value, self.cap)
        if groups is None:
            return None
        area_price = count_price = 0.0
        if self.lps:
            lp, sol = self.lps[-1]
            area_price = lp.price(sol.duals, "area budget")
            count_price = lp.price(sol.duals, "count_max")
        return GroupWork(groups, self.table, area_price=area_price, count_price=count_price,
                         start=self.group_plans(groups, self.best_area),
                         time_limit_s=share * (self.remaining() - GROUP_MARGIN_S),
                         on_bound=lambda b: self.tracker.update(bound=b), stop=self.settled,
                         info=self.info)

    def group_plans(self, groups: list[GroupLp], area: np.ndarray) -> list[GroupPlan]:
        """The part of plan ``area`` in each group, with the value it serves there."""
        assert self.flow is not None
        served = np.asarray(self.flow.solve(area)[1].sum(axis=1)).ravel()
        return [GroupPlan(area_m2=area[g.sites].copy(), value=float(served[g.sites].sum()))
                for g in groups]

    def search_stage(self, flow: CapacityFlow, margin_s: float = MIN_STAGE_S,
                     handoff: threading.Event | None = None) -> None:
        """Too large for CP-SAT: the local search goes on with the time left but ``margin_s``.

        It also ends when ``handoff`` is set, for the caller to start it again
        from a better plan.
        """
        t_ls = time.perf_counter()
        price = self.lps[-1][0].move_price(self.table, self.lps[-1][1].duals) if self.lps \
            else None
        plan, obj = rebalance_search(
            self.table, self.best_area, flow, time_limit_s=self.remaining() - margin_s,
            price=price, max_rounds=10_000, restart=True,
            stop=self.settled if handoff is None
            else (lambda: self.settled() or handoff.is_set()),
            on_improve=lambda o, _a: _note(self.tracker, incumbent=o))
        self.offer(plan, obj)
        before = self.info.get("final_search_s", 0.0)  # the search may run twice
        self.info["final_search_s"] = round(time.perf_counter() - t_ls + (
            before if isinstance(before, float) else 0.0), 3)

    def result(self) -> SolveResult:
        """The best plan served exactly, with its bound, gap and status."""
        interrupted = stop_requested(self.options.stop)
        served = _served(self.problem, self.classes, self.best_area, self.flow)
        value = _value(self.problem)
        objective = float(np.asarray(served.sum(axis=0)).ravel() @ value)
        bound = max(self.tracker.bound, objective)
        gap = relative_gap(objective, bound)
        status: Status
        if gap <= self.options.gap + 1e-12:
            status = "optimal"
        elif interrupted:
            status = "interrupted"
        else:
            status = "feasible"
        self.info["time_to_first_s"] = self.tracker.first_s
        return SolveResult(status=status, objective=objective, bound=bound,
                           gap=gap, wall_s=time.perf_counter() - self.t0, area_m2=self.best_area,
                           served=served, log=self.tracker.log, info=self.info)


def _solve(problem: SitingProblem, table: SiteTable, options: SolveOptions,
           t0: float) -> SolveResult:
    """The stages of the general model, each started only while it is worth it."""
    run = _Run(problem, table, options, t0)
    classes, tracker = run.classes, run.tracker
    run.lp_stage()  # first: a plan that meets the LP bound ends the greedy starts early
    plan = run.heuristic_stage()
    if plan is None:
        # proving infeasibility gets at least a second (a conflict beats a bare "error")
        reasons = diagnose_infeasibility(table, time_limit_s=max(1.0, run.remaining()),
                                         seed=options.seed)
        if reasons:
            return _empty_result(problem, "infeasible", t0, reasons=reasons, info=run.info)
        return _empty_result(problem, "error", t0, info=run.info, reasons=[
            f"no feasible plan found within {run.limit:g} s and no conflict proven"])
    run.best_area = plan
    run.best_obj = run.evaluate(plan)
    run.info["heuristic_objective"] = run.best_obj
    tracker.update(incumbent=run.best_obj)
    if run.lps and run.unfinished():
        run.priced_stage()
    solo = int(options.workers or os.cpu_count() or 1) <= 1  # one thread at a time
    if run.flow is not None and run.nnz <= CPSAT_MAX_NONZEROS and run.unfinished():
        if solo:
            run.neighbourhood_stage(run.flow, NEIGHBOURHOOD_SHARE)
            if run.unfinished():
                run.mip_stage(run.flow)
        else:
            run.mip_stage(run.flow, beside=True)
    if classes.n_classes and run.nnz <= CPSAT_MAX_NONZEROS and run.unfinished():
        run.cpsat_stage()
    if run.flow is not None and run.nnz > CPSAT_MAX_NONZEROS and run.unfinished():
        work = run.group_stage(GROUP_SOLO_SHARE if solo else 1.0)
        if work is None:
            run.search_stage(run.flow)
        else:
            try:
                if solo:  # one thread: the work by group first, then the search alone
                    work.ready.wait()
                else:
                    run.search_stage(run.flow, GROUP_MARGIN_S, handoff=work.ready)
            finally:
                plan = work.finish(run.group_plans(work.groups, run.best_area))
            if plan is not None and not plan_violations(run.table, plan):
                run.offer(plan)
            if run.unfinished():  # the MIPs were done first: search on from their plan
                run.search_stage(run.flow)
    return run.result()


def _heuristic(problem: SitingProblem, table: SiteTable, classes: DemandClasses,
               flow: CapacityFlow | None, options: SolveOptions, tracker: Tracker, *,
               time_limit_s: float, price: MovePrice | None = None,
               starts: list[np.ndarray] | None = None,
               rounded: np.ndarray | None = None,
               settled: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Greedy plans plus local search; ``None`` when no feasible plan was found.

    Without ``price`` the greedy ranks moves by gain per m² (and, without
    capacity, also by gain alone); with ``price`` by gain per priced cost.
    Plans in ``starts`` (feasible) and ``options.hint`` are improved too;
    ``rounded`` (a partial plan within the upper limits, e.g. a rounded LP
    solution) is completed by the greedy. Once ``settled()`` returns True
    (the caller's gap target is reached, say) no further plan is improved.
    """
    t0 = time.perf_counter()
    k = Capacity.of_problem(problem)
    wv = classes.weight * classes.value

    def evaluator() -> CapacityGain | CoverGain:
        if k is not None:
            return CapacityGain(classes.cover, classes.weight, classes.value, k)
        return CoverGain(classes.cover, wv)

    def report(ev: CapacityGain | CoverGain) -> None:
        # the greedy's own assignment is feasible: its value is a valid incumbent
        if isinstance(ev, CapacityGain):
            tracker.update(incumbent=float((classes.weight - ev.residual) @ classes.value))
        else:
            tracker.update(incumbent=float(wv[ev.count > 0].sum()))

    deadline = t0 + time_limit_s

    def late() -> bool:
        return time.perf_counter() > deadline

    candidates: list[np.ndarray] = []
    modes = [(True, price)] if price is not None else [
        (per_area, None) for per_area in ((True,) if k is not None else (True, False))]
    for per_area, pr in modes:
        # with capacity, greedy plans of several tie orders; the best one goes on
        seeds = [options.seed + j for j in range(GREEDY_STARTS if flow is not None else 1)]
        best_greedy: tuple[float, np.ndarray] | None = None
        for seed in seeds:
            if (candidates or best_greedy is not None) and (
                    late() or (settled is not None and settled())):
                break
            ev = evaluator()
            plan = greedy_plan(table, ev, per_area=per_area, price=pr, deadline=deadline,
                               seed=seed)
            if plan is None:
                continue
            report(ev)
            value = flow.solve(plan)[0] if flow is not None else 0.0
            if flow is not None:
                tracker.update(incumbent=value)
            if best_greedy is None or value > best_greedy[0]:
                best_greedy = (value, plan)
        if best_greedy is not None:
            candidates.append(best_greedy[1])
    if rounded is not None and not late():
        plan = greedy_plan(table, _evaluator_at(classes, rounded, flow, k), start_m2=rounded,
                           price=price, deadline=deadline)
        if plan is not None:
            candidates.append(plan)
    for plan in starts or []:
        candidates.append(np.asarray(plan, dtype=float))
    if options.hint is not None and starts is None:
        hint = np.asarray(options.hint, dtype=float)
        if hint.shape == (table.n_sites,) and not plan_violations(table, hint):
            candidates.append(hint)
    if not candidates:
        score = classes.cover @ wv
        plan = feasible_plan_cpsat(table, score, time_limit_s=max(1.0, time_limit_s),
                                   seed=options.seed)
        if plan is None:
            return None
        grown = greedy_plan(table, _evaluator_at(classes, plan, flow, k), start_m2=plan,
                            price=price, deadline=deadline)
        candidates.append(grown if grown is not None else plan)
    best, best_obj = None, -np.inf
    for n_left, plan in zip(range(len(candidates), 0, -1), candidates, strict=True):
        left = max(0.0, (deadline - time.perf_counter()) / n_left)
        if settled is not None and settled():
            left = 0.0  # evaluated, not improved: its greedy may be the plan that settled it
        if flow is not None:
            plan, obj = rebalance_search(
                table, plan, flow, time_limit_s=left, price=price, stop=settled,
                on_improve=lambda o, _a: _note(tracker, incumbent=o))
        else:
            if left > 0:
                plan = swap_search(table, plan, classes.cover, wv, time_limit_s=left)
            obj = float(wv[np.asarray(classes.cover[plan > 0].sum(axis=0)).ravel() > 0].sum())
        tracker.update(incumbent=obj)
        if obj > best_obj:
            best, best_obj = plan, obj
    return best


def _evaluator_at(classes: DemandClasses, plan: np.ndarray, flow: CapacityFlow | None,
                  k: Capacity | None) -> CapacityGain | CoverGain:
    """A marginal evaluator whose state is the (partial) plan ``plan``."""
    if k is not None and flow is not None:
        _, flows = flow.solve(plan)
        served = np.asarray(flows.sum(axis=0)).ravel()
        load = np.asarray(flows.sum(axis=1)).ravel()
        ev = CapacityGain(classes.cover, classes.weight, classes.value, k,
                          residual=np.maximum(classes.weight - served, 0.0))
        ev.slack = np.maximum(np.minimum(k.sites(plan), 1e300) - load, 0.0)
        return ev
    cnt = np.asarray(classes.cover[plan > 0].sum(axis=0)).ravel().astype(np.int64)
    return CoverGain(classes.cover, classes.weight * classes.value, covered_by=cnt)


def _served(problem: SitingProblem, classes: DemandClasses, area: np.ndarray,
            flow: CapacityFlow | None) -> sp.csr_matrix:
    """Parcels/day of every demand point served by every site."""
    n, m = problem.n_sites, problem.n_demand
    weight = np.asarray(problem.weight, dtype=float)
    if flow is not None:
        _, flows = flow.solve(area)
        j = np.flatnonzero(classes.labels >= 0)
        c = classes.labels[j]
        share = np.where(classes.weight[c] > 0, weight[j] / np.maximum(classes.weight[c], 1e-300),
                         0.0)
        split = sp.csr_matrix((share, (c, j)), shape=(classes.n_classes, m))
        served = sp.csr_matrix(flows @ split)
        served.eliminate_zeros()
        return served
    opened = np.flatnonzero(area > 0)
    cov = sp.csr_matrix(problem.cover)[opened].tocoo()
    if problem.travel_time_h is not None:
        tt = sp.csr_matrix(problem.travel_time_h)[opened].tocoo()
        key = {(r, c): t for r, c, t in zip(tt.row, tt.col, tt.data, strict=True)}
        times = np.array([key.get((r, c), np.inf) for r, c in zip(cov.row, cov.col,
                                                                   strict=True)])
    else:
        times = np.zeros(cov.nnz)
    order = np.lexsort((cov.row, times, cov.col))
    cols = cov.col[order]
    first = np.ones(cols.size, dtype=bool)
    first[1:] = cols[1:] != cols[:-1]
    rows = opened[cov.row[order][first]]
    cols = cols[first]
    keep = weight[cols] > 0
    served = sp.csr_matrix((weight[cols[keep]], (rows[keep], cols[keep])), shape=(n, m))
    return served


class _CpsatStage(TypedDict):
    """What the CP-SAT stage returns."""

    area: np.ndarray | None
    status: str
    interrupted: bool


def _cpsat_stage(table: SiteTable, classes: DemandClasses, k: Capacity | None,
                 scaling: _Scaling,
                 start: np.ndarray, flow: CapacityFlow | None, options: SolveOptions,
                 tracker: Tracker, *, deadline: float) -> _CpsatStage:
    """Improve ``start`` with CP-SAT; returns the plan found (if any) and the status.

    The search gets the time left until ``deadline`` (a ``perf_counter``
    instant) once the model is built; when none is left it is skipped.
    """
    model, y, opt_site, opt_area = site_model(table)
    cover = classes.cover.tocsr()
    cover.sort_indices()
    n = cover.shape[0]
    by_site: list[list[int]] = [[] for _ in range(n)]
    for idx, i in enumerate(opt_site):
        by_site[i].append(idx)
    if k is None:
        cover_rows(model, y, by_site, cover, scaling.w_int, scaling.v_int, start)
    else:
        assert flow is not None
        flow_rows(model, y, by_site, cover, opt_site, opt_area, k, scaling.w_int,
                  scaling.v_int, scaling.weight_unit, flow.solve(start)[1])
    for idx, (i, a) in enumerate(zip(opt_site, opt_area, strict=True)):
        model.add_hint(y[idx], bool(abs(start[i] - a) <= 1e-9 * max(1.0, a)))

    unit = scaling.objective_unit
    target = tracker.bound / (1.0 + options.gap)
    reached = threading.Event()
    user_stop = options.stop

    def progress(elapsed_s: float, incumbent: float, bound: float) -> None:
        inc = incumbent  # already in parcels/day × value (solve_cpsat divides by scale)
        tracker.update(incumbent=inc, bound=bound + scaling.allowance)
        if inc >= target or tracker.best >= tracker.bound / (1.0 + options.gap):
            reached.set()

    time_limit_s = deadline - time.perf_counter()
    if time_limit_s <= MIN_STAGE_S:
        return {"area": None, "status": "skipped", "interrupted": False}
    workers = int(options.workers or max(1, os.cpu_count() or 1))
    stage_options = dataclasses.replace(options, progress=progress, stop=reached, workers=workers)
    with watch_stop(user_stop, reached.set):  # the caller's stop ends the stage too
        out = solve_cpsat(model, stage_options, scale=unit, time_limit_s=time_limit_s,
                          extra_params=dict(CPSAT_PARAMS),
                          on_bound=lambda _t, b: _note(tracker, bound=b + scaling.allowance))
    area = None
    if out.status in ("optimal", "feasible", "interrupted"):
        area = np.zeros(n)
        for idx, (i, a) in enumerate(zip(opt_site, opt_area, strict=True)):
            if out.solver.boolean_value(y[idx]):
                area[i] = a
        if np.isfinite(out.bound):
            tracker.update(bound=out.bound + scaling.allowance)
    if out.status == "infeasible":  # pragma: no cover - the start plan is feasible
        logger.warning("CP-SAT reports the coverage model infeasible despite a feasible start")
    stopped_by_user = stop_requested(user_stop)
    return {"area": area, "status": out.status, "interrupted": stopped_by_user}
