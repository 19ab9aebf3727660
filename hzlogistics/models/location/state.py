"""What the steps of the location engine hand each other, and the checks they share.

- :class:`LocationSpec`: what is minimized (pair, site and area costs, the
  share of demand to serve);
- :class:`LocationPlan`: a plan (areas, objective, parcels/day per pair);
- :class:`Reduction` and :class:`Start`: the Lagrangian reduced costs, the
  sites fixed and the plan found before the MIP;
- the input check (:func:`validate_location`), site capacities, the pruning
  :func:`prune_threshold`, the tracker of a solve, and the results with or without
  a plan (:func:`finish`, :func:`no_plan`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import (
    Objective,
    SitingProblem,
    SolveOptions,
    SolveResult,
    relative_gap,
    weight_and_capacity_problems,
)
from hzlogistics.solvers.sites import SiteTable
from hzlogistics.solvers.track import Tracker

#: Share of the time limit the heuristic and the Lagrangian bound may take.
HEURISTIC_SHARE = 0.25

#: Pairs per demand point the sparse Lagrangian bound keeps (it stays a bound of the
#: full problem, see :mod:`hzlogistics.solvers.lagrange`).
SPARSE_KEEP = 64


def new_tracker(options: SolveOptions, t0: float) -> Tracker:
    """The tracker of one location solve: smaller is better, improvements beyond 1e-12."""
    progress = options.progress if callable(options.progress) else None
    return Tracker(progress, t0, sense="min", rel_tol=1e-12)


@dataclass
class LocationSpec:
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


@dataclass
class LocationPlan:
    """A plan of the engine: areas, objective, parcels/day of each pair, and its source."""

    area: np.ndarray
    objective: float
    served: sp.csr_matrix
    source: str


@dataclass
class Reduction:
    """Lagrangian reduced costs at fixed multipliers, against a threshold.

    Any plan with a site of ``must_close`` open, a site of ``must_open`` closed,
    or (see :meth:`close_bound`) every site within some cost of a demand point
    closed, costs at least ``threshold``. Made by
    :func:`~hzlogistics.models.location.uncapacitated.fixings`; the MIP's radius
    formulation uses it to cut cost levels.
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


@dataclass
class Start:
    """What the steps before the MIP found.

    ``bound`` holds for every plan; the sites in ``fix_open``/``fix_closed``
    are fixed in the MIP, which is valid for the plans cheaper than
    ``threshold`` (the others cannot improve on ``incumbent`` enough to matter).
    """

    fix_open: np.ndarray
    fix_closed: np.ndarray
    incumbent: LocationPlan | None = None
    bound: float = -math.inf
    threshold: float = math.inf
    proven: bool = False
    reduction: Reduction | None = None
    core: np.ndarray | None = None
    refix: Callable[[float], tuple[np.ndarray, np.ndarray, float]] | None = None


def validate_location(problem: SitingProblem) -> None:
    """Check the weights, capacities, fixed costs and site capacities of ``problem``.

    Raises
    ------
    ValidationError
        Listing every problem found.
    """
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


def only_counts(table: SiteTable) -> bool:
    """Whether the site constraints are only the count range, forced and closed sites."""
    sizes = np.bincount(table.group, minlength=table.n_groups)
    return bool(not math.isfinite(table.area_budget_m2)
                and not math.isfinite(table.rent_cap_usd_year)
                and np.all(table.group_count_min <= 0)
                and np.all(table.group_count_max >= sizes)
                and np.all(table.group_area_min_m2 <= 0)
                and np.all(~np.isfinite(table.group_area_max_m2)))


def site_capacity_max(problem: SitingProblem, table: SiteTable) -> np.ndarray:
    """Most parcels/day each site can handle at its largest allowed area."""
    cap = np.full(problem.n_sites, np.inf)
    if problem.capacity_per_m2 is not None:
        cap = np.minimum(cap, float(problem.capacity_per_m2) * table.top_area_m2)
    if problem.site_capacity is not None:
        cap = np.minimum(cap, np.asarray(problem.site_capacity, dtype=float))
    return np.where(table.can_open, cap, 0.0)


def prune_threshold(upper: float, options: SolveOptions, *, integral: bool) -> float:
    """Plans at or above this value cannot improve on ``upper`` by more than the gap target."""
    if integral:  # a better plan costs at most upper - 1
        return upper - 0.5
    return upper - max(float(options.gap), 1e-9) * max(1.0, abs(upper))


def finish(problem: SitingProblem, spec: LocationSpec, plan: LocationPlan, bound: float,
           status: str, t0: float, log: Tracker, info: dict[str, object]) -> SolveResult:
    """The result of a solve with a plan: the plan, its bound and gap, the log and ``info``."""
    log.update(incumbent=plan.objective, bound=bound)
    info["plan_source"] = plan.source
    return SolveResult(
        status=status,  # type: ignore[arg-type]
        objective=plan.objective, bound=bound, gap=relative_gap(plan.objective, bound),
        wall_s=time.perf_counter() - t0, area_m2=plan.area, served=plan.served,
        log=log.log, reasons=[], sense="min", objective_name=spec.name, info=info,
    )


def no_plan(problem: SitingProblem, spec: LocationSpec, status: str, t0: float, *,
            reasons: list[str], log: list[tuple[float, float, float]] | None = None,
            bound: float = math.nan, info: dict[str, object] | None = None) -> SolveResult:
    """The result of a solve without a plan (``status`` infeasible or error, with ``reasons``)."""
    return SolveResult(
        status=status,  # type: ignore[arg-type]
        objective=math.nan, bound=bound, gap=math.inf, wall_s=time.perf_counter() - t0,
        area_m2=np.zeros(problem.n_sites), served=sp.csr_matrix((problem.n_sites,
                                                                 problem.n_demand)),
        log=log or [], reasons=reasons, sense="min", objective_name=spec.name, info=info or {},
    )


__all__ = ["HEURISTIC_SHARE", "SPARSE_KEEP", "LocationPlan", "LocationSpec", "Reduction", "Start",
           "finish", "new_tracker", "no_plan", "only_counts", "prune_threshold",
           "site_capacity_max", "validate_location"]
