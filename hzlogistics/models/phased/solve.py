"""Solving a phased roll-out by decomposition over the years.

The multi-period coverage problem couples the years only through nesting
(a site that opens stays open and never shrinks). :func:`solve_phased`
works year by year with the one-period coverage solver:

1. **Bound.** Each year is solved on its own (with the limits the other
   years imply, see :func:`~hzlogistics.models.phased.problem.effective_limits`).
   Nesting only removes plans, so the discounted sum of the years' proven
   bounds bounds every roll-out.
2. **Backward pass** ("solve the last year, then choose what opens first"):
   the last year's plan is kept, and each earlier year is solved on the next
   year's open sites, none larger than it will be.
3. **Forward pass** (the "myopic" roll-out): the first year's plan is kept,
   and each later year is solved with the previous year's sites forced open
   at no less than their area.
   With ``parallel``, the last year's own solve and the backward pass run
   in a second process beside the forward pass, and the years between the
   first and the last get only their bounds there (their LP relaxations,
   :func:`~hzlogistics.models.coverage.coverage_bound`); they are solved on
   their own later only if the gap is still above the target. Both passes
   always run, so the roll-out is never worse than either baseline
   (:func:`solve_myopic`, :func:`solve_last_year_first`). The passes' solves
   aim at the gap target itself, the years' own solves at
   :data:`YEAR_GAP_SHARE` of it.
4. **Sweeps** over the years while the gap is above the target: each year is
   solved again between its neighbours' plans (at least the previous year's,
   at most the next year's), starting from its current plan; the roll-out
   only improves.
5. On small instances, the plain MIP of the whole model
   (:func:`~hzlogistics.models.phased.mip.solve_phased_mip`) finishes the
   job from the best roll-out, for whatever time is left.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.phased.mip import empty_result, result_of, solve_phased_mip, year_classes
from hzlogistics.models.phased.problem import (
    Limits,
    Method,
    PhasedProblem,
    PhasedResult,
    effective_limits,
    phasing_conflicts,
    rollout_violations,
    validate_phased,
    year_problem,
)
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult, Status
from hzlogistics.solvers.sites import site_table
from hzlogistics.solvers.track import Tracker, stop_requested

#: Share of the gap target a year's own solve (which gives its bound) and a
#: sweep's solve aim at.
YEAR_GAP_SHARE = 0.5

#: Share of the gap target the solves of the forward and backward passes aim
#: at: years each within the target make a roll-out within it when the years'
#: own bounds are tight and nesting costs nothing; the sweeps close the rest.
PASS_GAP_SHARE = 1.0

#: Least time given to one year's solve, seconds.
MIN_YEAR_S = 1.0

#: Most time kept back for each later solve when a year's solve starts, seconds.
RESERVE_S = 10.0

#: Time one year's solve gets once a stop was requested, seconds.
STOPPED_YEAR_S = 0.5

#: Largest ``n_years × option columns`` and ``n_years × covered class pairs``
#: for which ``method="auto"`` tries the multi-period MIP after the sweeps.
MIP_MAX_OPTIONS = 3_000
MIP_MAX_PAIRS = 30_000

#: Seconds a side solve may run past the deadline before it is given up.
SIDE_GRACE_S = 30.0

#: Smallest number of covered pairs for which ``parallel=None`` solves the years on
#: their own in a second process.
SIDE_MIN_PAIRS = 200_000

#: Most sweeps over the years.
MAX_SWEEPS = 20


@dataclass
class Rollout:
    """A nested roll-out and each year's value."""

    area: np.ndarray
    values: np.ndarray
    served: list[sp.csr_matrix]
    method: str


@dataclass
class YearSolve:
    """One year's solve mapped back to every site."""

    result: SolveResult
    area: np.ndarray
    served: sp.csr_matrix

    @property
    def ok(self) -> bool:
        return self.result.has_solution


Step = tuple[str, int, SolveResult, np.ndarray, float]


def _time_s(deadline_epoch: float, after: int) -> float:
    """All the time left but a share (at most :data:`RESERVE_S`) for each solve after it."""
    left = deadline_epoch - time.time()
    reserve = min(RESERVE_S, left / (after + 1))
    return max(MIN_YEAR_S, left - reserve * after)


def _bound_alone(problem: SitingProblem, options: SolveOptions, deadline_epoch: float,
                 after: int) -> tuple[float, list[str], float]:
    """One year's bound without its plan (second process): bound, reasons, seconds."""
    from hzlogistics.models.coverage import coverage_bound

    opts = dataclasses.replace(options, time_limit_s=_time_s(deadline_epoch, after))
    t1 = time.perf_counter()
    bound, reasons = coverage_bound(problem, opts)
    return bound, reasons, time.perf_counter() - t1


def _last_then_backward(phased: PhasedProblem, limits: Limits, options: SolveOptions,
                        deadline_epoch: float, after: int, pass_gap: float) -> list[Step]:
    """The last year on its own, then the backward pass from its plan (second process).

    The passes' solves aim at ``pass_gap``.
    """
    from hzlogistics.models import solve

    n = phased.n_years
    out: list[Step] = []
    upper: np.ndarray | None = None
    for k, t in enumerate(range(n - 1, -1, -1)):
        problem, sites = year_problem(phased, t, limits=limits, upper=upper)
        opts = dataclasses.replace(options, time_limit_s=_time_s(deadline_epoch,
                                                                 after + n - 1 - k),
                                   gap=options.gap if upper is None else pass_gap)
        t1 = time.perf_counter()
        res = solve(problem, "coverage", opts)
        out.append(("alone" if upper is None else "within next", t, res, sites,
                    time.perf_counter() - t1))
        if not res.has_solution:
            break
        upper = np.zeros(phased.n_sites)
        upper[sites] = np.asarray(res.area_m2, dtype=float)
    return out


class Side:
    """The last year's own solve, the backward pass and the years' bounds, in a second process.

    The last year solved on its own gives its bound and the plan the backward
    pass starts from; the years between the first and the last get their
    bounds from :func:`~hzlogistics.models.coverage.coverage_bound` (the LP
    relaxations, without a plan: no year but the first and the last needs
    one). They run one after another on the machine's second core while the
    first core runs the forward pass, which takes in whatever the second has
    finished at each year (its bounds count from then on; a year proven
    infeasible stops the pass).
    """

    def __init__(self, run: _Run) -> None:
        import multiprocessing

        self.run = run
        self.pool = multiprocessing.get_context("spawn").Pool(1)
        deadline_epoch = time.time() + run.left()
        options = run.year_options(run.left(), side=True)
        n = run.phased.n_years
        self.chain: Any = self.pool.apply_async(_last_then_backward, (
            run.phased, run.limits, options, deadline_epoch, n - 2,
            run.options.gap * PASS_GAP_SHARE))
        self.bounds: dict[int, Any] = {}
        for t in range(1, n - 1):
            problem, _ = year_problem(run.phased, t, limits=run.limits)
            self.bounds[t] = self.pool.apply_async(
                _bound_alone, (problem, options, deadline_epoch, n - 2 - t))
        self.pool.close()
        self.taken: set[int] = set()
        self.chain_done = False
        self.failed = False

    def poll(self, wait: bool = False) -> bool:
        """Take in the finished solves (all of them, waiting, with ``wait``); False on a failure.

        Waiting stops (as a failure) once a stop is requested or the time is
        well past the limit.
        """
        run = self.run
        if self.failed:
            return False
        if not self.chain_done and self._ready(self.chain, wait):
            self.chain_done = True
            if not self._take_chain(self.chain.get()):
                self.failed = True
                return False
        for t in sorted(self.bounds):
            if t in self.taken or not self._ready(self.bounds[t], wait):
                continue
            self.taken.add(t)
            if not run.keep_bound(t, *self.bounds[t].get()):
                self.failed = True
                return False
        if wait and (not self.chain_done or len(self.taken) < len(self.bounds)):
            run.failure = run.failure or ["the years' own solves did not finish"]
            self.failed = True
            return False
        return True

    def _ready(self, job: Any, wait: bool) -> bool:
        while not job.ready():
            if not wait or self.run.stopped() or self.run.left() < -SIDE_GRACE_S:
                return False
            job.wait(0.1)
        return True

    def _take_chain(self, steps: list[Step]) -> bool:
        run = self.run
        n = run.phased.n_years
        back: dict[int, YearSolve] = {}
        for kind, t, res, sites, secs in steps:
            ys = run.record(t, kind + " (side)", res, sites, secs)
            if kind == "alone":
                if not run.keep_independent(t, ys):
                    return False
            elif ys.ok:
                back[t] = ys
        last = run.independent[n - 1]
        if last is not None and len(back) == n - 1:
            area = np.zeros((n, run.phased.n_sites))
            values = np.zeros(n)
            served: list[sp.csr_matrix] = [last.served] * n
            area[n - 1], values[n - 1] = last.area, last.result.objective
            for t, ys in back.items():
                area[t], values[t], served[t] = ys.area, ys.result.objective, ys.served
            run.offer(Rollout(area, values, served, "backward"))
            run.info["backward_objective"] = float(run.d @ values)
        return True

    def collect(self) -> bool:
        """Wait for every solve of the second process and take them in; False on a failure."""
        return self.poll(wait=True)

    def close(self) -> None:
        """End the second process (whatever it is still solving)."""
        self.pool.terminate()
        self.pool.join()


class _Run:
    """The state of one phased solve: limits, deadline, bounds and the best roll-out."""

    def __init__(self, phased: PhasedProblem, options: SolveOptions, t0: float) -> None:
        self.phased = phased
        self.options = options
        self.t0 = t0
        self.deadline = t0 + float(options.time_limit_s)
        self.limits: Limits = effective_limits(phased)
        self.d = phased.discount_factors()
        self.tracker = Tracker(options.progress, t0)  # type: ignore[arg-type]
        self.year_bound = self._trivial_bounds()
        self.independent: list[YearSolve | None] = [None] * phased.n_years
        self.best: Rollout | None = None
        self.info: dict[str, object] = {"n_year_solves": 0, "year_solve_s": 0.0}
        self.solves: list[tuple[str, int, str, float]] = []
        self.info["year_solves"] = self.solves
        self.failure: list[str] = []
        self.infeasible = False

    def _trivial_bounds(self) -> np.ndarray:
        """Per year: all value-weighted demand some allowed site reaches."""
        base = self.phased.base
        reach = base.reachable()
        value = np.ones(base.n_demand) if base.value is None else np.asarray(base.value)
        return np.asarray(self.phased.weight, dtype=float)[:, reach] @ value[reach]

    def stopped(self) -> bool:
        return stop_requested(self.options.stop)

    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def slice_s(self, solves_left: int) -> float:
        """Time limit of the next year's solve, with ``solves_left`` solves still to come.

        A year's solve usually ends on its gap target well before its limit, and
        one cut short returns a much worse plan, so it may take all the time
        left but what the later solves are sure to get: an even share each, at
        most :data:`RESERVE_S`.
        """
        if self.stopped():
            return STOPPED_YEAR_S
        left = self.left()
        k = max(1, solves_left)
        reserve = min(RESERVE_S, left / k)
        return max(MIN_YEAR_S, left - reserve * (k - 1))

    def bound(self) -> float:
        return float(self.d @ self.year_bound)

    def solve_year(self, t: int, time_s: float, *, lower: np.ndarray | None = None,
                   upper: np.ndarray | None = None, hint: np.ndarray | None = None,
                   gap_share: float = YEAR_GAP_SHARE) -> YearSolve:
        from hzlogistics.models import solve

        problem, sites = year_problem(self.phased, t, limits=self.limits, lower=lower,
                                      upper=upper)
        opts = self.year_options(time_s, None if hint is None else np.asarray(hint)[sites],
                                 gap_share=gap_share)
        t1 = time.perf_counter()
        res = solve(problem, "coverage", opts)
        kind = ("alone" if lower is None and upper is None else "within next" if lower is None
                else "on previous" if upper is None else "between")
        return self.record(t, kind, res, sites, time.perf_counter() - t1)

    def year_options(self, time_s: float, hint: np.ndarray | None = None,
                     side: bool = False, gap_share: float = YEAR_GAP_SHARE) -> SolveOptions:
        workers = self.options.workers
        if side:
            workers = max(1, (workers or os.cpu_count() or 2) // 2)
        return dataclasses.replace(
            self.options, time_limit_s=time_s, gap=self.options.gap * gap_share,
            progress=None, hint=hint, workers=workers,
            stop=None if side else self.options.stop)

    def record(self, t: int, kind: str, res: SolveResult, sites: np.ndarray,
               secs: float) -> YearSolve:
        self.solves.append((kind, int(self.phased.years[t]), res.status, round(secs, 3)))
        self.info["n_year_solves"] = int(self.info["n_year_solves"]) + 1  # type: ignore[call-overload]
        self.info["year_solve_s"] = float(self.info["year_solve_s"]) + secs  # type: ignore[arg-type]
        n = self.phased.n_sites
        area = np.zeros(n)
        served = sp.csr_matrix((n, self.phased.n_demand))
        if res.has_solution:
            area[sites] = np.asarray(res.area_m2, dtype=float)
            c = sp.coo_matrix(res.served)
            served = sp.csr_matrix((c.data, (sites[c.row], c.col)), shape=served.shape)
        return YearSolve(res, area, served)

    def offer(self, rollout: Rollout) -> bool:
        value = float(self.d @ rollout.values)
        if self.best is None or value > float(self.d @ self.best.values) \
                + 1e-9 * max(1.0, abs(value)):
            self.best = rollout
            self.tracker.update(incumbent=value)
            return True
        return False

    def gap_reached(self) -> bool:
        if self.best is None:
            return False
        value = float(self.d @ self.best.values)
        return abs(self.bound() - value) / max(abs(value), 1e-9) <= self.options.gap + 1e-12

    # --- stages ---------------------------------------------------------------------

    def independent_years(self, solves_after: int, years: list[int] | None = None) -> bool:
        """Solve years (default: every year) on their own; False when one has no plan."""
        todo = list(range(self.phased.n_years)) if years is None else years
        for k, t in enumerate(todo):
            ys = self.solve_year(t, self.slice_s(len(todo) - k + solves_after))
            if not self.keep_independent(t, ys):
                return False
        return True

    def keep_independent(self, t: int, ys: YearSolve) -> bool:
        """Keep a year's own plan and bound; False (with the reasons) when it has no plan."""
        label = self.phased.year_label(t)
        if ys.result.status == "infeasible":
            self.infeasible = True
            self.failure = [f"{label}: {r}" for r in ys.result.reasons] or [
                f"{label}: no plan satisfies the year's limits"]
            return False
        if not ys.ok:
            self.failure = [f"{label}: {r}" for r in ys.result.reasons] or [
                f"{label}: no plan found in time"]
            return False
        self.independent[t] = ys
        self.tighten(t, ys.result.bound)
        if all(y is not None for y in self.independent):
            self.info["independent_objective"] = float(self.d @ np.array(
                [y.result.objective for y in self.independent if y is not None]))
            self.info["year_bound"] = self.year_bound.tolist()
        return True

    def keep_bound(self, t: int, bound: float, reasons: list[str], secs: float) -> bool:
        """Keep a year's bound found without its plan; False when the year is infeasible."""
        self.solves.append(("for its bound (side)", int(self.phased.years[t]),
                            "infeasible" if reasons else "bound", round(secs, 3)))
        if reasons:
            self.infeasible = True
            self.failure = [f"{self.phased.year_label(t)}: {r}" for r in reasons]
            return False
        self.tighten(t, bound)
        return True

    def tighten(self, t: int, bound: float) -> None:
        """Take a proven bound of year ``t`` (when finite) into the roll-out's bound."""
        if math.isfinite(bound):
            self.year_bound[t] = min(self.year_bound[t], float(bound))
        self.tracker.update(bound=self.bound())

    def start_side(self) -> Side:
        """The last year on its own, the backward pass and the other years' bounds,
        in a second process."""
        return Side(self)

    def backward(self, solves_after: int) -> Rollout | None:
        """The last year's plan, then each earlier year within the next one's."""
        n = self.phased.n_years
        last = self.independent[n - 1]
        assert last is not None
        area = np.zeros((n, self.phased.n_sites))
        values = np.zeros(n)
        served: list[sp.csr_matrix] = [last.served] * n
        area[n - 1], values[n - 1] = last.area, last.result.objective
        for t in range(n - 2, -1, -1):
            ys = self.solve_year(t, self.slice_s(t + 1 + solves_after), upper=area[t + 1],
                                 gap_share=PASS_GAP_SHARE)
            if not ys.ok:
                return None
            area[t], values[t], served[t] = ys.area, ys.result.objective, ys.served
        return Rollout(area, values, served, "backward")

    def forward(self, solves_after: int, side: Side | None = None) -> Rollout | None:
        """The first year's plan, then each later year on top of the previous one.

        With a second process, each year first takes in what that has finished.
        """
        n = self.phased.n_years
        first = self.independent[0]
        assert first is not None
        area = np.zeros((n, self.phased.n_sites))
        values = np.zeros(n)
        served: list[sp.csr_matrix] = [first.served] * n
        area[0], values[0] = first.area, first.result.objective
        for t in range(1, n):
            if side is not None and not side.poll():
                return None
            ys = self.solve_year(t, self.slice_s(n - t + solves_after), lower=area[t - 1],
                                 gap_share=PASS_GAP_SHARE)
            if not ys.ok:
                return None
            area[t], values[t], served[t] = ys.area, ys.result.objective, ys.served
        return Rollout(area, values, served, "forward")

    def sweeps(self) -> None:
        """Re-solve each year between its neighbours while that improves the roll-out."""
        n = self.phased.n_years
        assert self.best is not None
        order = list(range(n - 1, -1, -1)) + list(range(1, n - 1))
        rounds = 0
        while rounds < MAX_SWEEPS and not self.gap_reached() and not self.stopped() \
                and self.left() > MIN_YEAR_S:
            rounds += 1
            improved = False
            for k, t in enumerate(order):
                if self.gap_reached() or self.stopped() or self.left() <= MIN_YEAR_S:
                    break
                cur = self.best
                ys = self.solve_year(
                    t, self.slice_s(len(order) - k),
                    lower=cur.area[t - 1] if t > 0 else None,
                    upper=cur.area[t + 1] if t + 1 < n else None, hint=cur.area[t])
                if not ys.ok or ys.result.objective <= cur.values[t] * (1 + 1e-9) + 1e-9:
                    continue
                area = cur.area.copy()
                values = cur.values.copy()
                served = list(cur.served)
                area[t], values[t], served[t] = ys.area, ys.result.objective, ys.served
                improved |= self.offer(Rollout(area, values, served, "sweep"))
            if not improved:
                break
        self.info["sweeps"] = rounds

    def result(self, *, status: Status | None = None) -> PhasedResult:
        if self.best is None:
            if self.infeasible:
                return empty_result(self.phased, "infeasible", self.t0, self.failure,
                                    self.info)
            st: Status = "interrupted" if self.stopped() else "error"
            return empty_result(self.phased, st, self.t0, self.failure or [
                "no nested roll-out found within the time limit"], self.info)
        b = self.best
        bad = rollout_violations(self.phased, b.area)
        if bad:  # pragma: no cover - every pass keeps the years nested and within limits
            return empty_result(self.phased, "error", self.t0,
                                ["the roll-out found breaks: " + "; ".join(bad[:5])], self.info)
        if status is None:
            status = "interrupted" if self.stopped() else "feasible"
        self.info["year_solve_s"] = round(float(self.info["year_solve_s"]), 3)  # type: ignore[arg-type]
        self.info["year_bound"] = self.year_bound.tolist()
        return result_of(self.phased, b.area, status=status, bound=self.bound(), t0=self.t0,
                         method=b.method, log=self.tracker.log, values=b.values,
                         served=b.served, gap_target=self.options.gap, info=self.info)


def _start(phased: PhasedProblem, options: SolveOptions | None,
           t0: float) -> tuple[_Run | None, PhasedResult | None]:
    options = options or SolveOptions()
    validate_phased(phased)
    reasons = phasing_conflicts(phased)
    if reasons:
        return None, empty_result(phased, "infeasible", t0, reasons)
    return _Run(phased, options, t0), None


def _small(phased: PhasedProblem) -> bool:
    table = site_table(phased.base)
    n_opts = sum(a.size for a in table.areas) * phased.n_years
    if n_opts > MIP_MAX_OPTIONS or int(phased.base.cover.nnz) > 100 * MIP_MAX_PAIRS:
        return False
    return int(year_classes(phased).cover.nnz) * phased.n_years <= MIP_MAX_PAIRS


def solve_phased(phased: PhasedProblem, options: SolveOptions | None = None, *,
                 method: Method = "auto", parallel: bool | None = None) -> PhasedResult:
    """Plan a phased roll-out: the coverage objective summed (discounted) over the years.

    Parameters
    ----------
    phased
        The phased problem (see :class:`~hzlogistics.models.phased.problem.PhasedProblem`).
    options
        One time limit for the whole roll-out, the gap target, seed, workers,
        ``progress(elapsed_s, incumbent, bound)`` and a ``stop`` event: when
        it is set, the best roll-out so far is returned (``"interrupted"``);
        if none is complete yet, the pass under way is finished with short
        solves first.
    method
        ``"decompose"`` (the passes and sweeps of this module), ``"mip"`` (the
        plain multi-period MIP, for small instances) or ``"auto"`` (decompose,
        then the MIP from the best roll-out on small instances while the gap
        is above the target).
    parallel
        Solve the years on their own (for their bounds) and the backward pass
        in a second process, beside the forward pass. Default: on machines with two cores or more,
        unless ``options.workers == 1``, when the coverage has at least
        :data:`SIDE_MIN_PAIRS` covered pairs.

    Returns
    -------
    PhasedResult
        Status, the roll-out, each year's value and covered parcels/day, the
        discounted objective, a proven upper bound and the gap; for an
        infeasible problem the conflicts with their numbers.

    Raises
    ------
    ValidationError
        When the arrays are malformed.

    Examples
    --------
    Three sites of 100 m²; one opens in 2019 and a second in 2020:

    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> from hzlogistics.models.phased.problem import phased_problem
    >>> base = SitingProblem(weight=np.array([10., 20., 30.]), cover=sp.csr_matrix(np.eye(3)),
    ...                      tiers_m2=np.array([100.]))
    >>> ph = phased_problem(base, [2019, 2020], area_budget_m2=[100., 200.],
    ...                     count=[(1, 1), (2, 2)])
    >>> r = solve_phased(ph, SolveOptions(time_limit_s=10, workers=1))
    >>> r.status, r.objective, r.open_year.tolist()
    ('optimal', 80.0, [-1, 2020, 2019])
    """
    t0 = time.perf_counter()
    options = options or SolveOptions()
    if method == "mip":
        return solve_phased_mip(phased, options)
    run, done = _start(phased, options, t0)
    if done is not None:
        return done
    assert run is not None
    n = phased.n_years
    if parallel is None:
        parallel = (n > 1 and options.workers != 1 and (os.cpu_count() or 1) >= 2
                    and int(phased.base.cover.nnz) >= SIDE_MIN_PAIRS)
    if parallel and n > 1:
        # years 1.. on their own beside the forward pass; then the backward pass
        side = run.start_side()
        try:
            ok = run.independent_years(solves_after=n - 1, years=[0])
            if ok:
                _forward(run, side)
                ok = side.collect()
        finally:
            side.close()
        if not ok:
            if run.infeasible:
                run.best = None
            return run.result()
    else:
        if not run.independent_years(solves_after=2 * (n - 1)):
            return run.result()
        _backward(run)
        # the forward pass runs whatever the gap, so the roll-out is never worse than the
        # myopic one (nor, as the backward pass ran too, than the last year first)
        if not (run.stopped() and run.best is not None):
            _forward(run)
    if run.best is not None and not run.gap_reached():
        # the years known only by their LP bound get their own solve: it may prove more
        unsolved = [t for t in range(n) if run.independent[t] is None]
        if unsolved and not run.stopped() and run.left() > MIN_YEAR_S:
            run.independent_years(solves_after=n, years=unsolved)
    if run.best is not None and not run.gap_reached():
        t1 = time.perf_counter()
        run.sweeps()
        run.info["sweeps_s"] = round(time.perf_counter() - t1, 3)
    if run.best is None and not run.failure:
        run.failure = ["neither pass found a nested roll-out: a year's plan could not be "
                       "extended (or restricted) to the next one within its limits"]
    result = run.result()
    if (method == "auto" and result.has_solution and not run.gap_reached()
            and not run.stopped() and run.left() > MIN_YEAR_S and _small(phased)):
        mip = solve_phased_mip(phased, dataclasses.replace(options, time_limit_s=run.left()),
                               hint=result.area_m2)
        bound = min(result.bound, mip.bound) if math.isfinite(mip.bound) else result.bound
        best = mip if mip.has_solution and mip.objective > result.objective else result
        status: Status = "interrupted" if run.stopped() else "feasible"
        info = dict(result.info, mip_status=mip.info.get("mip_status", mip.status))
        return result_of(phased, best.area_m2, status=status, bound=bound, t0=t0,
                         method=best.method, log=run.tracker.log + mip.log,
                         values=best.year_objective, served=best.served,
                         gap_target=options.gap, info=info)
    return result


def _forward(run: _Run, side: Side | None = None) -> None:
    t1 = time.perf_counter()
    fwd = run.forward(solves_after=0, side=side)
    if fwd is not None:
        run.offer(fwd)
        run.info["forward_objective"] = float(run.d @ fwd.values)
    run.info["forward_s"] = round(time.perf_counter() - t1, 3)


def _backward(run: _Run) -> None:
    t1 = time.perf_counter()
    back = run.backward(solves_after=run.phased.n_years - 1)
    if back is not None:
        run.offer(back)
        run.info["backward_objective"] = float(run.d @ back.values)
    run.info["backward_s"] = round(time.perf_counter() - t1, 3)


def _baseline(phased: PhasedProblem, options: SolveOptions | None, which: str) -> PhasedResult:
    t0 = time.perf_counter()
    run, done = _start(phased, options, t0)
    if done is not None:
        return done
    assert run is not None
    if not run.independent_years(solves_after=phased.n_years - 1):
        return run.result()
    rollout = run.forward(0) if which == "forward" else run.backward(0)
    if rollout is not None:
        run.offer(rollout)
    else:
        run.failure = [f"the {which} pass found no nested roll-out"]
    return run.result()


def solve_myopic(phased: PhasedProblem, options: SolveOptions | None = None) -> PhasedResult:
    """The myopic roll-out: each year solved alone, then forced to nest.

    The first year's plan is solved on its own; each later year is solved with
    the previous year's sites kept open at no less than their area. The bound
    is the sum of the years solved on their own, as for :func:`solve_phased`.

    Parameters
    ----------
    phased
        The phased problem.
    options
        Time limit (of the whole roll-out), gap target, seed, workers, stop.

    Returns
    -------
    PhasedResult
        With ``method == "forward"``.
    """
    return _baseline(phased, options, "forward")


def solve_last_year_first(phased: PhasedProblem,
                          options: SolveOptions | None = None) -> PhasedResult:
    """Solve the last year, then choose what opens first.

    The last year's plan is solved on its own; each earlier year is solved on
    the next year's open sites, none larger than it will be.

    Parameters
    ----------
    phased
        The phased problem.
    options
        Time limit (of the whole roll-out), gap target, seed, workers, stop.

    Returns
    -------
    PhasedResult
        With ``method == "backward"``.
    """
    return _baseline(phased, options, "backward")
