"""The location engine's entry point: :func:`solve_location` chains the steps of the package.

1. pre-checks name conflicting constraints with their numbers (:mod:`.diagnose`);
2. large uncapacitated problems that split into components tied only by the
   counts are solved component by component (:mod:`.components`);
3. problems with too many pairs keep each demand point's cheapest pairs, after
   a plan within capacity on all of them (:mod:`.capacitated`);
4. a start: vertex substitution, Lagrangian bound, fixing and branch and bound
   (:mod:`.uncapacitated`), or the capacitated Lagrangian with transport plans
   (:mod:`.capacitated`), or a greedy plan;
5. a MIP on the sites the start did not fix (:mod:`.formulation`), first on
   the core of the most promising sites when the start gives one.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.models.location.capacitated import (
    capacitated_start,
    consolidated_spill,
    greedy_plan,
    transport_start,
)
from hzlogistics.models.location.components import solve_components
from hzlogistics.models.location.diagnose import demand_reasons, explain_no_plan, site_reasons
from hzlogistics.models.location.formulation import mip_pairs_within, solve_mip
from hzlogistics.models.location.pairs import cover_pairs, nearest_pairs, rent_per_pair
from hzlogistics.models.location.parts import independent_parts, solve_parts
from hzlogistics.models.location.state import (
    HEURISTIC_SHARE,
    LocationPlan,
    LocationSpec,
    Start,
    finish,
    new_tracker,
    no_plan,
    validate_location,
)
from hzlogistics.models.location.uncapacitated import uncapacitated_start
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult, relative_gap
from hzlogistics.solvers.sites import SiteTable, site_table
from hzlogistics.solvers.track import Tracker, stop_requested

logger = logging.getLogger(__name__)

#: Largest ``n_sites * n_demand`` for which the heuristic and the Lagrangian bound
#: work on a dense cost matrix (about 64 MB of float64).
DENSE_LIMIT = 8_000_000

#: Most (site, demand point) pairs a MIP with one variable per pair may have;
#: beyond it each demand point keeps its cheapest (or nearest) pairs only.
PAIR_LIMIT = 1_000_000

#: Time (share of the limit) of the MIP restricted to the most promising sites.
_CORE_SHARE = 0.2

#: Ends (shares of the limit) of the steps of a large capacitated problem: the nearest
#: plan within capacity, the transportation LPs, the Lagrangian bound and the Lagrangian
#: heuristic, when a MIP follows or when none can (cutting the pairs takes a few seconds).
_SPILL_SHARE, _PLANS_SHARE = 0.1, 0.35
_BOUND_SHARE, _HEURISTIC_END = 0.5, 0.6
_BOUND_SHARE_NO_MIP, _HEURISTIC_END_NO_MIP = 0.7, 0.85

#: The same ends when the MIP sees every pair: the nearest plan within capacity, then
#: the transportation LPs, whose plan starts the MIP.
_QUICK_SPILL_SHARE, _QUICK_PLANS_SHARE = 0.05, 0.15

#: Fewest pairs per demand point for which a MIP on the cheapest pairs is worth its time.
_MIN_MIP_PAIRS = 4


@dataclass
class _Run:
    """One solve: the problem, what it minimizes, its pairs and what the steps learnt."""

    problem: SitingProblem
    options: SolveOptions
    spec: LocationSpec
    table: SiteTable
    rows: np.ndarray
    cols: np.ndarray
    pair_cost: np.ndarray | None
    t0: float
    log: Tracker
    info: dict[str, object]
    floor: float = 0.0
    restricted: bool = False
    is_integral: bool = False
    #: smallest allowed area of each site (0 where it cannot open)
    base_area: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.base_area = np.where(self.table.can_open, self.table.min_area_m2, 0.0)

    @property
    def capacitated(self) -> bool:
        """Sites have a capacity."""
        return self.problem.capacity_per_m2 is not None or \
            self.problem.site_capacity is not None

    @property
    def need_tiers(self) -> bool:
        """The MIP must choose each site's size (capacity per m², group area minimums)."""
        return self.problem.capacity_per_m2 is not None or \
            bool(np.any(self.table.group_area_min_m2 > 0))

    @property
    def full(self) -> bool:
        """Every demand point is served."""
        return self.spec.required_share is None

    def integral(self) -> bool:
        """Whether the objective takes integer values on every plan.

        It does when all its coefficients on integer variables are integers and
        continuous variables carry none (or, in the radius formulation, integer
        cost steps).
        """
        o_site, o_area = self.table.option_arrays()
        o_cost = self.spec.open_cost[o_site] + self.spec.area_cost[o_site] * o_area
        integral = bool(np.all(o_cost == np.round(o_cost)))
        if self.pair_cost is not None:
            integral &= bool(np.all(self.pair_cost == np.round(self.pair_cost))) and (
                not self.capacitated or self.spec.single)
        return integral

    def evaluate_open(self, open_: np.ndarray, source: str,
                      area: np.ndarray | None = None) -> LocationPlan:
        """The cheapest assignment of every demand point to an open site (no capacity)."""
        n, n_d = self.problem.n_sites, self.problem.n_demand
        w = np.asarray(self.problem.weight, dtype=float)
        if area is None:
            area = np.where(open_, self.base_area, 0.0)
        sel = open_[self.rows]
        r, c_, pc = self.rows[sel], self.cols[sel], self.pair_cost[sel]  # type: ignore[index]
        order = np.lexsort((r, pc, c_))
        first = np.ones(order.size, dtype=bool)
        first[1:] = c_[order][1:] != c_[order][:-1]
        pick = order[first]
        served = sp.csr_matrix((w[c_[pick]], (r[pick], c_[pick])), shape=(n, n_d))
        value = float(pc[pick].sum() + self.spec.open_cost[open_].sum()
                      + self.spec.area_cost @ area)
        return LocationPlan(area=area, objective=value, served=served, source=source)


def _floor(run: _Run) -> float:
    """A lower bound that holds whatever restriction follows.

    Every demand point at its cheapest pair (median, cost); for the least area
    with capacity per m², the area that the required parcels need.
    """
    problem, spec, w = run.problem, run.spec, np.asarray(run.problem.weight, dtype=float)
    if run.pair_cost is not None and run.full and run.rows.size:
        cheapest = np.full(problem.n_demand, np.inf)
        # with capacity per m², a site's area holds at least its load / capacity_per_m2,
        # so each parcel also pays its share of the rent there
        np.minimum.at(cheapest, run.cols,
                      run.pair_cost + rent_per_pair(problem, spec, run.rows, run.cols, w))
        return float(cheapest[np.isfinite(cheapest)].sum())
    if spec.pair_cost is None and problem.capacity_per_m2 is not None and not run.full:
        # every m² serves at most capacity_per_m2 parcels/day
        need_w = float(spec.required_share) * float(w.sum())  # type: ignore[arg-type]
        if np.all(spec.area_cost == 1) and np.all(spec.open_cost == 0):
            return need_w / float(problem.capacity_per_m2)
    return 0.0


def _cut_pairs(run: _Run, big_dense: bool) -> LocationPlan | None:
    """With more than :data:`PAIR_LIMIT` pairs, keep each point's cheapest; the plan found first.

    Before the pairs are cut, a capacitated problem with split demand that is
    too large for the MIP in the time given gets a plan that serves every
    demand point nearest first within capacity, better plans from
    transportation LPs and the Lagrangian bound with size options
    (:func:`~hzlogistics.models.location.capacitated.transport_start`), which
    holds for all pairs.
    """
    problem, options, spec, n_d = run.problem, run.options, run.spec, run.problem.n_demand
    spill: LocationPlan | None = None
    limit = options.time_limit_s
    per_point = max(1, PAIR_LIMIT // max(n_d, 1))
    cut_to = min(run.rows.size, per_point * n_d)
    split = run.capacitated and run.full and run.pair_cost is not None and not spec.single
    # the MIP on every pair would not get past its first LPs in the time
    large = split and (run.rows.size > PAIR_LIMIT
                       or cut_to > mip_pairs_within(limit * (1 - 2 * HEURISTIC_SHARE)))
    if split and run.pair_cost is not None:
        if large:
            # the MIP that follows, if any, sees fewer pairs: those that fit in its time
            per_point = min(per_point,
                            mip_pairs_within(limit * (1 - _HEURISTIC_END)) // max(n_d, 1))
            mip_ok = per_point >= _MIN_MIP_PAIRS
            shares = (_SPILL_SHARE, _PLANS_SHARE,
                      _BOUND_SHARE if mip_ok else _BOUND_SHARE_NO_MIP,
                      _HEURISTIC_END if mip_ok else _HEURISTIC_END_NO_MIP)
        else:
            # the MIP sees every pair and gives the bound: plans only, to start it
            shares = (_QUICK_SPILL_SHARE, _QUICK_PLANS_SHARE, _QUICK_PLANS_SHARE,
                      _QUICK_PLANS_SHARE)
        spill = consolidated_spill(problem, run.table, run.rows, run.cols, run.pair_cost,
                                   spec=spec, deadline=run.t0 + shares[0] * limit,
                                   log=run.log)
        plan, bound = transport_start(
            problem, run.table, run.rows, run.cols, run.pair_cost, spec=spec, incumbent=spill,
            plans_until=run.t0 + shares[1] * limit, bound_until=run.t0 + shares[2] * limit,
            heuristic_until=run.t0 + shares[3] * limit,
            log=run.log, stop=options.stop, info=run.info)
        spill = plan
        if spill is not None and math.isfinite(bound):
            run.floor = max(run.floor, bound)
            run.log.update(bound=min(run.floor, spill.objective))
    if (run.rows.size > PAIR_LIMIT or (large and per_point * n_d < run.rows.size)) and (
            run.capacitated or (run.full and (run.need_tiers or big_dense))):
        per_point = max(1, per_point)
        run.rows, run.cols, run.pair_cost = nearest_pairs(problem, run.rows, run.cols,
                                                          run.pair_cost, per_point=per_point)
        run.restricted = True
        run.info["pairs_per_demand_point"] = per_point
        logger.info("large problem: each demand point keeps its %s cheapest sites; the bound "
                    "is the Lagrangian one of all pairs", per_point)
    return spill


def _start(run: _Run, hint_open: np.ndarray | None, spill: LocationPlan | None) -> Start:
    """The steps before the MIP: the Lagrangian starts when dense, else a greedy plan."""
    problem, options, spec, table = run.problem, run.options, run.spec, run.table
    n, n_d = problem.n_sites, problem.n_demand
    can = table.can_open
    start = Start(fix_open=np.zeros(n, dtype=bool), fix_closed=np.zeros(n, dtype=bool))
    dense = int(can.sum()) * n_d <= DENSE_LIMIT and run.pair_cost is not None and \
        not run.need_tiers
    if run.full and dense and not run.capacitated and run.pair_cost is not None:
        return uncapacitated_start(
            problem, options, table, run.rows, run.cols, run.pair_cost,
            base_area=run.base_area, spec=spec, t0=run.t0, log=run.log, hint_open=hint_open,
            info=run.info, integral=run.is_integral, evaluate_open=run.evaluate_open)
    if run.full and dense and not spec.single and run.pair_cost is not None:
        return capacitated_start(
            problem, options, table, run.rows, run.cols, run.pair_cost,
            base_area=run.base_area, spec=spec, t0=run.t0, log=run.log, hint_open=hint_open,
            info=run.info)
    if not spec.single and (run.capacitated or not run.full):
        # no Lagrangian start applies: a greedy plan gives the MIP a warm start
        plan = greedy_plan(problem, table, run.rows, run.cols, run.pair_cost, spec=spec,
                           deadline=run.t0 + HEURISTIC_SHARE * options.time_limit_s)
        if spill is not None and (plan is None or spill.objective < plan.objective):
            plan = spill
        if plan is not None:
            start.incumbent = plan
            run.log.update(incumbent=plan.objective)
    return start


def _mip(run: _Run, start: Start, **kwargs: object) -> tuple[LocationPlan | None, float, str]:
    """:func:`solve_mip` on the run's pairs, with the sites ``start`` fixed (unless overridden)."""
    args: dict[str, object] = dict(
        t0=run.t0, log=run.log, info=run.info, need_tiers=run.need_tiers,
        base_area=run.base_area, fix_open=start.fix_open, fix_closed=start.fix_closed,
        integral=run.is_integral, incumbent=start.incumbent, evaluate_open=None,
        threshold=start.threshold)
    args.update(kwargs)
    return solve_mip(run.problem, run.options, run.spec, run.table, run.rows, run.cols,
                     run.pair_cost, **args)  # type: ignore[arg-type]


def _core(run: _Run, start: Start) -> bool:
    """A MIP restricted to the most promising sites; whether it proved the plan optimal.

    A better plan lowers the threshold, so that more sites are fixed for the
    full MIP (``start`` is updated).
    """
    assert start.incumbent is not None and start.core is not None and start.refix is not None
    can = run.table.can_open
    t_c = time.perf_counter()
    core_plan, _, core_status = _mip(
        run, start, info={}, fix_closed=start.fix_closed | (can & ~start.core),
        threshold=math.inf, time_limit_s=_CORE_SHARE * run.options.time_limit_s)
    run.info.update(core_sites=int(start.core.sum()), core_status=core_status,
                    core_s=time.perf_counter() - t_c)
    if core_plan is not None and core_plan.objective < start.incumbent.objective - 1e-9:
        start.incumbent = core_plan
        start.fix_open, start.fix_closed, start.threshold = start.refix(core_plan.objective)
        run.info.update(fixed_open=int(start.fix_open.sum()),
                        fixed_closed=int(start.fix_closed.sum()))
        return start.bound >= start.threshold
    return False


def _after_mip(run: _Run, start: Start, mip_plan: LocationPlan | None, mip_bound: float,
               mip_status: str) -> SolveResult:
    """The best plan of the start and the MIP, its bound and status."""
    problem, options, spec = run.problem, run.options, run.spec
    best, threshold = start.incumbent, start.threshold
    if mip_plan is not None and (best is None or mip_plan.objective < best.objective):
        best = mip_plan
    if best is None:
        if mip_status == "infeasible" and not math.isfinite(threshold):
            return no_plan(problem, spec, "infeasible", run.t0,
                           reasons=explain_no_plan(problem, spec), log=run.log.log,
                           info=run.info)
        why = ("stopped before any plan was found" if mip_status == "interrupted"
               else f"no plan found within the time limit of {options.time_limit_s:g} s")
        return no_plan(problem, spec, "error", run.t0, log=run.log.log, info=run.info,
                       reasons=[why])
    region = mip_bound if mip_status != "infeasible" else math.inf
    if math.isfinite(threshold):
        # plans outside the reduced model (sites fixed by the Lagrangian) cost at least this
        pruned = math.ceil(threshold) if run.is_integral else threshold
        region = min(region, pruned)
    bound = min(max(region, start.bound), best.objective)
    if run.restricted:  # the MIP saw only some pairs: its bound is not one of the full problem
        bound = min(run.floor, best.objective)
    bound = min(max(bound, run.floor), best.objective)
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
    return finish(problem, spec, best, bound, status, run.t0, run.log, run.info)


def solve_location(problem: SitingProblem, options: SolveOptions | None,
                   spec: LocationSpec) -> SolveResult:
    """Minimize ``spec`` over the site constraints of ``problem``; see the module docstring.

    Parameters
    ----------
    problem
        The siting problem.
    options
        Limits, gap target, seed, progress, stop event and warm start.
    spec
        What is minimized.

    Returns
    -------
    SolveResult
        ``sense`` ``"min"``.

    Raises
    ------
    ValidationError
        For malformed arrays or a warm start of the wrong shape.
    """
    return _solve(problem, options or SolveOptions(), spec, split=True)


def _solve(problem: SitingProblem, options: SolveOptions, spec: LocationSpec, *,
           split: bool) -> SolveResult:
    """:func:`solve_location`; ``split`` whether independent components may be solved apart."""
    t0 = time.perf_counter()
    validate_location(problem)
    table = site_table(problem)
    n, n_d = problem.n_sites, problem.n_demand
    rows, cols = cover_pairs(problem.cover)
    reasons = site_reasons(table)
    reasons += demand_reasons(problem, table, rows, cols, spec.required_share)
    if reasons:
        return no_plan(problem, spec, "infeasible", t0, reasons=reasons)
    can = table.can_open
    sized = problem.capacity_per_m2 is not None or problem.site_capacity is not None or \
        bool(np.any(table.group_area_min_m2 > 0))
    if split and sized and spec.required_share is None:
        parts = independent_parts(table, rows, cols, n_d)
        if parts is not None:
            return solve_parts(problem, options, spec, table, rows, cols, parts, t0=t0,
                               info={}, solve=partial(_solve, split=False))
    keep = can[rows]
    run = _Run(problem=problem, options=options, spec=spec, table=table, rows=rows[keep],
               cols=cols[keep], pair_cost=spec.pair_cost[keep] if spec.pair_cost is not None
               else None, t0=t0, log=new_tracker(options, t0), info={})
    del rows, cols, keep  # the run holds the pairs from here (millions on the full data)
    run.floor = _floor(run)
    big_dense = int(can.sum()) * n_d > DENSE_LIMIT
    if big_dense and run.full and not run.capacitated and not run.need_tiers and \
            run.pair_cost is not None:
        by_parts = solve_components(
            problem, options, spec, table, run.rows, run.cols, run.pair_cost,
            base_area=run.base_area, t0=t0, log=run.log, info=run.info, floor=run.floor,
            dense_limit=DENSE_LIMIT, solve=solve_location)
        if by_parts is not None:
            return by_parts
    spill = _cut_pairs(run, big_dense)
    run.is_integral = run.integral()
    hint_open = None
    if options.hint is not None:
        h = np.asarray(options.hint, dtype=float)
        if h.shape != (n,):
            raise ValidationError(f"SolveOptions.hint: shape {h.shape}, expected ({n},) areas")
        hint_open = (h > 0) & can
    t_h = time.perf_counter()
    start = _start(run, hint_open, spill)
    run.info["start_s"] = time.perf_counter() - t_h
    if start.incumbent is not None:
        done = min(start.bound, start.incumbent.objective)
        if start.bound >= start.threshold or start.proven:
            return finish(problem, spec, start.incumbent, done, "optimal", t0, run.log, run.info)
        if stop_requested(options.stop):
            return finish(problem, spec, start.incumbent, done, "interrupted", t0, run.log,
                          run.info)
        if start.core is not None and start.refix is not None and \
                not (start.core | start.fix_closed).all() and _core(run, start):
            return finish(problem, spec, start.incumbent,
                          min(start.bound, start.incumbent.objective), "optimal", t0, run.log,
                          run.info)
    mip_plan, mip_bound, mip_status = _mip(
        run, start, reduction=start.reduction,
        evaluate_open=run.evaluate_open if (run.full and not run.capacitated) else None)
    return _after_mip(run, start, mip_plan, mip_bound, mip_status)


__all__ = ["DENSE_LIMIT", "PAIR_LIMIT", "solve_location"]
