"""The array-level description of a siting problem and of its solution.

This module is the contract between the geography (demand points, candidate
sites, coverage) and the optimization models. Everything here is plain numpy /
scipy: no GeoDataFrame crosses this line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from hzlogistics import settings
from hzlogistics._errors import ValidationError

Objective = Literal["coverage", "median", "cost", "min-area", "landed"]
Status = Literal["optimal", "feasible", "infeasible", "interrupted", "error"]


@dataclass
class SitingProblem:
    """A siting problem as arrays.

    Demand points are indexed ``0..n_demand-1``, candidate sites ``0..n_sites-1``,
    groups (countries) ``0..n_groups-1``.

    Attributes
    ----------
    weight
        ``(n_demand,)`` parcels/day of each demand point (> 0).
    cover
        ``(n_sites, n_demand)`` CSR matrix; a stored entry means the site reaches
        the demand point within the service level.
    travel_time_h
        Optional ``(n_sites, n_demand)`` CSR matrix with the same sparsity as
        ``cover``: travel time of each covered pair, hours.
    tiers_m2
        ``(n_tiers,)`` increasing size tiers a site may be given, m². With a
        single tier and no area budget the problem is count-only.
    max_area_m2
        ``(n_sites,)`` largest floor area allowed at each site (``inf`` = any tier).
    existing_area_m2
        ``(n_sites,)`` current area of an existing site (0 for a new one).
        An existing site is forced open with at least this area.
    forbidden
        ``(n_sites,)`` bool; a forbidden site may not be opened.
    rent_usd_m2_year
        ``(n_sites,)`` yearly rent per m² (0 where unknown).
    group
        ``(n_sites,)`` int index of each site's group (country) in ``group_names``.
    group_names
        Names of the groups (ISO codes).
    demand_group
        ``(n_demand,)`` int index of each demand point's group.
    area_budget_m2
        Total floor area allowed (``None`` = no budget).
    count_min, count_max
        Number of open sites allowed (inclusive).
    capacity_per_m2
        Parcels/day one m² handles (``None`` = no capacity: sizes are area only).
    group_count_min, group_count_max, group_area_min_m2, group_area_max_m2
        ``(n_groups,)`` per-group quotas (0 / ``inf`` where absent).
    rent_cap_usd_year
        Cap on total yearly rent (``None`` = no cap).
    value
        ``(n_demand,)`` multiplier of each demand point's weight in the
        objective, in [0, 1]: 1 by default; a competitor-served point counts at
        a discount (e.g. 0.5).
    site_ids, demand_ids
        Labels, carried through to the result.
    fixed_cost_usd_year
        ``(n_sites,)`` yearly fixed cost of opening each site, on top of rent
        (``None`` = 0). Used by the ``cost`` objective.
    site_capacity
        ``(n_sites,)`` parcels/day each site can handle whatever its area
        (``None`` = no such limit). With ``capacity_per_m2`` as well, the smaller
        of the two applies.
    assign_cost
        ``(n_sites, n_demand)`` CSR: cost of serving *all* of demand point j
        from site i, read at the stored entries of ``cover`` (an entry missing
        here counts as 0). The ``cost`` objective reads it as USD/year; the
        ``median`` objective minimizes it instead of weight × travel time.
    """

    weight: np.ndarray
    cover: sp.csr_matrix
    tiers_m2: np.ndarray = field(default_factory=lambda: np.asarray(settings.SIZE_TIERS_M2))
    travel_time_h: sp.csr_matrix | None = None
    max_area_m2: np.ndarray | None = None
    existing_area_m2: np.ndarray | None = None
    forbidden: np.ndarray | None = None
    rent_usd_m2_year: np.ndarray | None = None
    group: np.ndarray | None = None
    group_names: tuple[str, ...] = ()
    demand_group: np.ndarray | None = None
    area_budget_m2: float | None = settings.AREA_BUDGET_M2
    count_min: int = 0
    count_max: int | None = None
    capacity_per_m2: float | None = None
    group_count_min: np.ndarray | None = None
    group_count_max: np.ndarray | None = None
    group_area_min_m2: np.ndarray | None = None
    group_area_max_m2: np.ndarray | None = None
    rent_cap_usd_year: float | None = None
    value: np.ndarray | None = None
    site_ids: np.ndarray | None = None
    demand_ids: np.ndarray | None = None
    fixed_cost_usd_year: np.ndarray | None = None
    site_capacity: np.ndarray | None = None
    assign_cost: sp.csr_matrix | None = None

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return int(self.cover.shape[0])

    @property
    def n_demand(self) -> int:
        """Number of demand points."""
        return int(self.cover.shape[1])

    def reachable(self) -> np.ndarray:
        """Which demand points at least one site that may be opened reaches.

        Returns
        -------
        numpy.ndarray
            ``(n_demand,)`` bool.

        Examples
        --------
        >>> cover = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0]]))
        >>> p = SitingProblem(weight=np.ones(3), cover=cover,
        ...                   forbidden=np.array([False, True]))
        >>> p.reachable().tolist()
        [True, False, False]
        """
        cover = sp.csr_matrix(self.cover)
        if self.forbidden is not None and np.any(self.forbidden):
            cover = cover[~np.asarray(self.forbidden, dtype=bool)]
        return np.asarray((cover != 0).sum(axis=0)).ravel() > 0

    def restrict_demand(self, keep: np.ndarray) -> SitingProblem:
        """The same problem on a subset of the demand points.

        Parameters
        ----------
        keep
            ``(n_demand,)`` bool mask of the demand points to keep.

        Returns
        -------
        SitingProblem
            Sites, budget and quotas unchanged; every per-demand array sliced.
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n_demand,):
            raise ValueError(f"keep must have shape ({self.n_demand},), not {keep.shape}")

        def cols(m: sp.spmatrix | None) -> sp.csr_matrix | None:
            return None if m is None else sp.csr_matrix(sp.csc_matrix(m)[:, keep])

        def rows(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.asarray(a)[keep]

        cover = cols(self.cover)
        assert cover is not None
        return replace(
            self,
            weight=np.asarray(self.weight)[keep],
            cover=cover,
            travel_time_h=cols(self.travel_time_h),
            assign_cost=cols(self.assign_cost),
            demand_group=rows(self.demand_group),
            value=rows(self.value),
            demand_ids=rows(self.demand_ids),
        )


@dataclass
class SolveOptions:
    """How to solve: limits, seed, logging.

    Attributes
    ----------
    time_limit_s
        Wall-clock limit of the whole solve, seconds.
    gap
        Relative gap at which to stop (0.001 = 0.1 %).
    seed
        Random seed; a fixed seed gives the same plan.
    workers
        Solver threads (default: the machine's cores).
    log
        Print the solver's own log.
    progress
        Callback ``progress(elapsed_s, incumbent, bound)`` called on every new
        incumbent or bound.
    stop
        Optional ``threading.Event``; when set, the solve stops and returns the
        best plan found so far with status ``"interrupted"``.
    hint
        Optional warm start: ``(n_sites,)`` areas (0 = closed) of a known plan.
    """

    time_limit_s: float = settings.TIME_LIMIT_S
    gap: float = settings.GAP_TARGET
    seed: int = settings.SEED
    workers: int | None = None
    log: bool = False
    progress: object | None = None
    stop: object | None = None
    hint: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Reject limits no solve can honour (the scenario's checks, for callers in code).

        A time limit of 0 is allowed here (a stage left with no time returns what
        it has); a scenario asks for a positive one.
        """
        problems = []
        t, g, s = self.time_limit_s, self.gap, self.seed
        if isinstance(t, bool) or not isinstance(t, int | float) or not t >= 0:
            problems.append(f"time_limit_s: must be a number of seconds >= 0, got {t!r}")
        if isinstance(g, bool) or not isinstance(g, int | float) or not 0 <= g < 1:
            problems.append(f"gap: must be >= 0 and < 1 (0: prove the optimum), got {g!r}")
        if isinstance(s, bool) or not isinstance(s, int | np.integer) or not 0 <= s < 2**31:
            problems.append(f"seed: must be a whole number from 0 to {2**31 - 1} (the "
                            f"solver's seeds are 32-bit), got {s!r}")
        if problems:
            raise ValidationError([f"SolveOptions: {p}" for p in problems])


@dataclass
class SolveResult:
    """The outcome of a solve.

    Attributes
    ----------
    status
        ``"optimal"`` (gap target reached), ``"feasible"`` (limit hit with a plan),
        ``"interrupted"`` (stopped by the caller, with a plan), ``"infeasible"``,
        or ``"error"``.
    objective
        Value of the plan found, in the objective's units (covered parcels/day
        for ``coverage``; for minimization objectives the cost).
    bound
        Proven bound on the optimum (upper for maximization, lower for minimization).
    gap
        ``|bound - objective| / max(|objective|, 1e-9)``.
    wall_s
        Wall time of the solve, seconds.
    area_m2
        ``(n_sites,)`` chosen area of every site (0 = closed).
    served
        ``(n_sites, n_demand)`` CSR: parcels/day of demand point j served by site i.
    log
        ``[(elapsed_s, incumbent, bound), ...]`` over the solve.
    reasons
        For ``"infeasible"``: the conflicting constraints, with numbers.
    sense
        ``"max"`` or ``"min"``.
    objective_name
        Which objective was solved.
    """

    status: Status
    objective: float
    bound: float
    gap: float
    wall_s: float
    area_m2: np.ndarray
    served: sp.csr_matrix
    log: list[tuple[float, float, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    sense: Literal["max", "min"] = "max"
    objective_name: Objective = "coverage"
    info: dict[str, object] = field(default_factory=dict)

    @property
    def open(self) -> np.ndarray:
        """``(n_sites,)`` bool: whether each site is open."""
        return np.asarray(self.area_m2) > 0

    @property
    def has_solution(self) -> bool:
        """Whether a feasible plan is available."""
        return self.status in ("optimal", "feasible", "interrupted")


def weight_and_capacity_problems(problem: SitingProblem) -> list[str]:
    """What is wrong with a problem's weights and capacity per m² (empty when nothing).

    The checks every model makes before it solves; each model adds its own.

    Examples
    --------
    >>> p = SitingProblem(weight=np.array([1.0, -2.0]), cover=sp.csr_matrix((1, 2)),
    ...                   capacity_per_m2=0.0)
    >>> for line in weight_and_capacity_problems(p):
    ...     print(line)
    SitingProblem.weight: expected finite parcels/day >= 0
    SitingProblem.capacity_per_m2: 0.0; expected > 0 or None
    """
    problems: list[str] = []
    m = problem.cover.shape[1]
    w = np.asarray(problem.weight, dtype=float)
    if w.shape != (m,):
        problems.append(f"SitingProblem.weight: shape {w.shape}, expected ({m},) "
                        "(one weight per column of cover)")
    elif not np.all(np.isfinite(w)) or np.any(w < 0):
        problems.append("SitingProblem.weight: expected finite parcels/day >= 0")
    k = problem.capacity_per_m2
    if k is not None and not (np.isfinite(k) and k > 0):
        problems.append(f"SitingProblem.capacity_per_m2: {k}; expected > 0 or None")
    return problems


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap between a plan's value and a proven bound.

    Examples
    --------
    >>> relative_gap(99.0, 100.0)
    0.010101010101010102
    """
    return abs(bound - objective) / max(abs(objective), 1e-9)
