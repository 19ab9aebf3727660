"""Why a siting problem has no feasible plan, in a planner's words.

:func:`explain_infeasibility` checks the obvious conflicts between the
site-side constraints before any solver runs (counts against candidates,
minimum areas against budgets, existing sites against limits, rents against
the cap) and names each with its numbers. :func:`diagnose_infeasibility`
covers the rest: it asks CP-SAT, with one assumption literal per constraint
group, for a set of groups that cannot hold together, shrinks that set to a
minimal one and names its members.

Demand never makes the coverage model infeasible: only the sites' constraints
do, so both functions look at the sites alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from hzlogistics.solvers.cpsat import site_model, solve_model
from hzlogistics.solvers.lp import lp_feasible, min_resource
from hzlogistics.solvers.problem import SitingProblem
from hzlogistics.solvers.sites import SiteTable, fmt, site_rows, site_table

logger = logging.getLogger(__name__)


def _smallest_sum(values: np.ndarray, k: int) -> float:
    """Sum of the ``k`` smallest values (``inf`` if there are fewer than ``k``)."""
    if k <= 0:
        return 0.0
    if values.size < k:
        return np.inf
    return float(np.sort(values)[:k].sum())


def _largest_sum(values: np.ndarray, k: int) -> float:
    if k <= 0:
        return 0.0
    return float(np.sort(values)[::-1][:k].sum())


def explain_infeasibility(problem: SitingProblem | SiteTable, *, lp: bool = True) -> list[str]:
    """The obvious conflicts between the constraints of ``problem``.

    Parameters
    ----------
    problem
        The siting problem (or its :class:`~hzlogistics.solvers.sites.SiteTable`).
    lp
        When the simple checks find nothing, also bound the least area and the
        least rent that the other constraints need with an LP (GLOP, a fraction
        of a second for a thousand sites) and compare them with the budget and
        the rent cap.

    Returns
    -------
    list of str
        One sentence per conflict, with the numbers involved; empty when no
        obvious conflict was found (the problem may still be infeasible in a
        less obvious way: see :func:`diagnose_infeasibility`).

    Raises
    ------
    ValidationError
        When the problem's arrays are malformed.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
    ...                   tiers_m2=np.array([100.]), count_min=3)
    >>> explain_infeasibility(p)
    ['count_min 3 > number of allowed candidate sites 2']
    """
    t = problem if isinstance(problem, SiteTable) else site_table(problem)
    out = _site_checks(t)
    needs = _group_checks(t, out)
    if t.n_groups:
        _group_total_checks(t, needs, out)
    _count_checks(t, out)
    if not out and t.n_groups and np.all(np.isfinite(needs.area_lb)):
        _group_area_check(t, needs, out)
    if not out and lp:
        out.extend(_lp_checks(t))
    return out


@dataclass
class _GroupNeeds:
    """What each group needs at least and allows at most."""

    need: np.ndarray  # sites each group must have
    area_lb: np.ndarray  # least area each group must have
    count_lb_area: np.ndarray  # least area for the group's count alone
    rent_lb: np.ndarray  # least rent for the group's count alone
    room: np.ndarray  # sites each group may have


def _min_rent(t: SiteTable) -> np.ndarray:
    """Rent of every site at its smallest allowed area (``inf`` where it cannot open)."""
    can = t.can_open
    return np.where(can, np.where(can, t.min_area_m2, 0.0) * t.rent_usd_m2_year, np.inf)


def _existing(t: SiteTable) -> tuple[float, float]:
    """Area and rent of the existing (kept) sites."""
    forced = t.forced
    return (float(t.existing_m2[forced].sum()),
            float(t.existing_m2[forced] @ t.rent_usd_m2_year[forced]))


def _site_checks(t: SiteTable) -> list[str]:
    """Existing sites that cannot open, and the totals against the candidates and limits."""
    out: list[str] = []
    can = t.can_open
    forced = t.forced
    budget = t.area_budget_m2
    existing_area, existing_rent = _existing(t)
    # sites that must open but cannot
    for i in np.flatnonzero(forced & t.forbidden):
        out.append(f"existing site {t.site_label(i)} is forbidden but existing sites are kept open")
    for i in np.flatnonzero(forced & ~t.forbidden & ~can):
        out.append(f"existing site {t.site_label(i)} has {fmt(t.existing_m2[i], 'm²')} > its "
                   f"max area {fmt(t.max_area_m2[i], 'm²')}")
    n_allowed = int(can.sum())
    n_forced = int(forced.sum())
    if t.count_min > t.count_max and t.count_max < t.n_sites:
        out.append(f"count_min {t.count_min} > count_max {t.count_max}")
    if t.count_min > n_allowed:
        out.append(f"count_min {t.count_min} > number of allowed candidate sites {n_allowed}")
    if n_forced > t.count_max:
        out.append(f"{n_forced} existing sites must stay open > count_max {t.count_max}")
    if existing_area > budget * (1 + 1e-9):
        out.append(f"existing sites already use {fmt(existing_area, 'm²')} of a "
                   f"{fmt(budget, 'm²')} budget")
    if existing_rent > t.rent_cap_usd_year * (1 + 1e-9):
        out.append(f"existing sites already cost {fmt(existing_rent, 'USD')}/year in rent > "
                   f"rent cap {fmt(t.rent_cap_usd_year, 'USD')}/year")

    return out


def _group_checks(t: SiteTable, out: list[str]) -> _GroupNeeds:
    """Each group's counts and areas against its limits (appended to ``out``), and its needs."""
    can = t.can_open
    forced = t.forced
    min_area = t.min_area_m2
    top_area = t.top_area_m2
    min_rent = _min_rent(t)
    need = np.zeros(t.n_groups, dtype=np.int64)  # sites each group must have
    area_lb = np.zeros(t.n_groups)  # least area each group must have
    count_lb_area = np.zeros(t.n_groups)  # least area for the group's count alone
    rent_lb = np.zeros(t.n_groups)
    room = np.zeros(t.n_groups, dtype=np.int64)  # sites each group may have
    for g in range(t.n_groups):
        name = t.group_names[g]
        in_g = t.group == g
        f_g = forced & in_g
        new_g = in_g & can & ~forced
        n_f = int(f_g.sum())
        n_cand = int((in_g & can).sum())
        cmin, cmax = int(t.group_count_min[g]), int(t.group_count_max[g])
        amin, amax = float(t.group_area_min_m2[g]), float(t.group_area_max_m2[g])
        if cmin > cmax:
            out.append(f"{name} needs ≥ {cmin} sites but allows at most {cmax}")
        if cmin > n_cand:
            out.append(f"{name} needs ≥ {cmin} sites but has {n_cand} allowed candidates")
        if n_f > cmax:
            out.append(f"{name} has {n_f} existing sites > its maximum of {cmax} sites")
        e_area = float(t.existing_m2[f_g].sum())
        if e_area > amax * (1 + 1e-9):
            out.append(f"existing sites in {name} ({fmt(e_area, 'm²')}) exceed its max area "
                       f"{fmt(amax, 'm²')}")
        if amin > amax * (1 + 1e-9):
            out.append(f"{name} needs ≥ {fmt(amin, 'm²')} but allows at most {fmt(amax, 'm²')}")
        most = float(top_area[f_g & can].sum()) + _largest_sum(top_area[new_g], cmax - n_f)
        if amin > most * (1 + 1e-9):
            out.append(f"{name} needs ≥ {fmt(amin, 'm²')} but its sites allow at most "
                       f"{fmt(most, 'm²')} (largest tiers of at most {cmax} sites)")
        need[g] = max(cmin, n_f)
        count_lb_area[g] = float(min_area[f_g & can].sum()) + _smallest_sum(
            min_area[new_g], need[g] - n_f)
        rent_lb[g] = float(min_rent[f_g & can].sum()) + _smallest_sum(
            min_rent[new_g], need[g] - n_f)
        if np.isfinite(count_lb_area[g]) and count_lb_area[g] > amax * (1 + 1e-9) and \
                e_area <= amax * (1 + 1e-9):
            out.append(f"{name} needs ≥ {need[g]} sites, at least {fmt(count_lb_area[g], 'm²')}"
                       f" > its max area {fmt(amax, 'm²')}")
        area_lb[g] = max(count_lb_area[g], amin)
        room[g] = min(cmax, n_cand)
    return _GroupNeeds(need=need, area_lb=area_lb, count_lb_area=count_lb_area,
                       rent_lb=rent_lb, room=room)


def _group_total_checks(t: SiteTable, needs: _GroupNeeds, out: list[str]) -> None:
    """The groups' needs summed, against the total limits (appended to ``out``)."""
    n_allowed = int(t.can_open.sum())
    n_forced = int(t.forced.sum())
    budget = t.area_budget_m2
    existing_area, existing_rent = _existing(t)
    need, room = needs.need, needs.room
    count_lb_area, rent_lb = needs.count_lb_area, needs.rent_lb
    total_need = int(need.sum())
    if total_need > t.count_max and n_forced <= t.count_max:
        out.append(f"per-group minimum counts sum to {total_need} > count_max {t.count_max}")
    total_room = int(room.sum())
    if total_room < t.count_min <= n_allowed:
        out.append(f"per-group maximum counts allow at most {total_room} sites < count_min "
                   f"{t.count_min}")
    amin_sum = float(t.group_area_min_m2.sum())
    if amin_sum > budget * (1 + 1e-9):
        out.append(f"per-group minimum areas sum to {fmt(amin_sum, 'm²')} > area budget "
                   f"{fmt(budget, 'm²')}")
    count_area = float(count_lb_area.sum())
    if np.isfinite(count_area) and count_area > budget * (1 + 1e-9) and \
            existing_area <= budget * (1 + 1e-9) and total_need > n_forced:
        out.append(f"minimum sites per group need at least {fmt(count_area, 'm²')} "
                   f"(existing sites plus the smallest allowed tier at the other sites) > "
                   f"area budget {fmt(budget, 'm²')}")
    rent_need = float(rent_lb.sum())
    if np.isfinite(rent_need) and rent_need > t.rent_cap_usd_year * (1 + 1e-9) and \
            existing_rent <= t.rent_cap_usd_year * (1 + 1e-9):
        out.append(f"minimum sites per group need at least {fmt(rent_need, 'USD')}/year in "
                   f"rent > rent cap {fmt(t.rent_cap_usd_year, 'USD')}/year")


def _count_checks(t: SiteTable, out: list[str]) -> None:
    """The area and rent that ``count_min`` sites need at least (appended to ``out``)."""
    can = t.can_open
    forced = t.forced
    min_area = t.min_area_m2
    min_rent = _min_rent(t)
    n_forced = int(forced.sum())
    budget = t.area_budget_m2
    existing_area, existing_rent = _existing(t)
    new = can & ~forced
    extra = max(0, t.count_min - n_forced)
    count_area = float(min_area[forced & can].sum()) + _smallest_sum(min_area[new], extra)
    if np.isfinite(count_area) and count_area > budget * (1 + 1e-9) and \
            existing_area <= budget * (1 + 1e-9) and extra > 0:
        out.append(f"count_min {t.count_min} sites need at least {fmt(count_area, 'm²')} "
                   f"(existing sites plus the smallest allowed tier at the other sites) > "
                   f"area budget {fmt(budget, 'm²')}")
    count_rent = float(min_rent[forced & can].sum()) + _smallest_sum(min_rent[new], extra)
    if np.isfinite(count_rent) and count_rent > t.rent_cap_usd_year * (1 + 1e-9) and \
            existing_rent <= t.rent_cap_usd_year * (1 + 1e-9) and extra > 0:
        out.append(f"count_min {t.count_min} sites need at least {fmt(count_rent, 'USD')}/year "
                   f"in rent > rent cap {fmt(t.rent_cap_usd_year, 'USD')}/year")


def _group_area_check(t: SiteTable, needs: _GroupNeeds, out: list[str]) -> None:
    """The least area of the groups' minima plus the extra sites ``count_min`` needs.

    Each group's least area ``f_g(n) = max(area_min_g, least area of n sites)``; the
    extra sites ``count_min`` still needs go where ``f_g`` grows least (it is convex in n).
    """
    can = t.can_open
    forced = t.forced
    new = can & ~forced
    min_area = t.min_area_m2
    budget = t.area_budget_m2
    need, room, area_lb = needs.need, needs.room, needs.area_lb
    lb = float(area_lb.sum())
    short = t.count_min - int(need.sum())
    if short > 0:
        steps = []
        for g in range(t.n_groups):
            new_g = new & (t.group == g)
            base = float(min_area[forced & can & (t.group == g)].sum())
            cum = base + np.concatenate([[0.0], np.cumsum(np.sort(min_area[new_g]))])
            n_f = int((forced & (t.group == g)).sum())
            f = np.maximum(t.group_area_min_m2[g], cum[max(0, need[g] - n_f):
                                                      max(0, room[g] - n_f) + 1])
            steps.append(np.diff(f))
        lb += _smallest_sum(np.concatenate(steps), short)
    if lb > budget * (1 + 1e-9):
        out.append(f"per-group minimum counts and areas with count_min {t.count_min} need at "
                   f"least {fmt(lb, 'm²')} > area budget {fmt(budget, 'm²')}")


def _lp_checks(t: SiteTable) -> list[str]:
    """Least area and least rent the other constraints need, bounded by LP."""
    out: list[str] = []
    rows = site_rows(t)
    others = "the kept existing sites and the count and per-group limits"
    if np.isfinite(t.area_budget_m2):
        least = min_resource(rows.select(rows.names != "area budget"), rows.opt_area)
        if np.isfinite(least) and least > t.area_budget_m2 * (1 + 1e-7):
            out.append(f"{others} need at least {fmt(round(least), 'm²')} > area budget "
                       f"{fmt(t.area_budget_m2, 'm²')}")
    if np.isfinite(t.rent_cap_usd_year):
        rent = rows.opt_area * t.rent_usd_m2_year[rows.opt_site]
        least = min_resource(rows.select(rows.names != "rent cap"), rent)
        if np.isfinite(least) and least > t.rent_cap_usd_year * (1 + 1e-7):
            out.append(f"{others} need at least {fmt(round(least), 'USD')}/year in rent > "
                       f"rent cap {fmt(t.rent_cap_usd_year, 'USD')}/year")
    return out


def _describe(t: SiteTable, name: str) -> str:
    """A constraint group's name with its numbers."""
    if name == "count_min":
        return f"count_min {t.count_min}"
    if name == "count_max":
        return f"count_max {t.count_max}"
    if name == "area budget":
        return f"area budget {fmt(t.area_budget_m2, 'm²')}"
    if name == "rent cap":
        return f"rent cap {fmt(t.rent_cap_usd_year, 'USD')}/year"
    if name == "keep existing sites":
        f = t.forced
        return (f"{int(f.sum())} existing sites kept open with at least their current area "
                f"({fmt(float(t.existing_m2[f].sum()), 'm²')})")
    group, _, kind = name.rpartition(" ")
    g = t.group_names.index(group)
    if kind == "count_min":
        return f"{group} needs ≥ {t.group_count_min[g]} sites"
    if kind == "count_max":
        return f"{group} allows ≤ {t.group_count_max[g]} sites"
    if kind == "area_min":
        return f"{group} needs ≥ {fmt(t.group_area_min_m2[g], 'm²')}"
    return f"{group} allows ≤ {fmt(t.group_area_max_m2[g], 'm²')}"


def _shrink(names: list[str], infeasible: Callable[[list[str]], bool]) -> list[str]:
    """A minimal infeasible subset of ``names`` (deletion filter, in halving chunks)."""
    core = list(names)
    chunk = max(1, len(core) // 2)
    while True:
        i = 0
        while i < len(core):
            trial = core[:i] + core[i + chunk:]
            if trial and infeasible(trial):
                core = trial
            else:
                i += chunk
        if chunk == 1:
            return core
        chunk = max(1, chunk // 2)


def diagnose_infeasibility(
    problem: SitingProblem | SiteTable, *, time_limit_s: float = 10.0, seed: int = 0
) -> list[str]:
    """Name a minimal set of constraint groups that cannot hold together.

    The constraint groups are: the total count bounds, the area budget, the
    rent cap, the kept existing sites, and each group's count and area limits.
    If even the LP relaxation of the site constraints is infeasible, a
    deletion filter over the groups with LPs (GLOP) finds a minimal
    conflicting set. Otherwise every group is enforced by an assumption
    literal in CP-SAT, which returns a sufficient set of assumptions for
    infeasibility; that set is then shrunk the same way.

    Parameters
    ----------
    problem
        The siting problem (or its site table).
    time_limit_s
        Time limit of the whole diagnosis.
    seed
        CP-SAT seed.

    Returns
    -------
    list of str
        One sentence naming the conflicting constraints with their numbers
        (empty when a feasible plan exists or nothing was proven in time).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> p = SitingProblem(weight=np.ones(3), cover=sp.csr_matrix(np.eye(3)),
    ...                   tiers_m2=np.array([100., 200.]), count_min=2,
    ...                   group=np.array([0, 0, 1]), group_names=("AA", "BB"),
    ...                   group_area_min_m2=np.array([0., 150.]), area_budget_m2=250.)
    >>> diagnose_infeasibility(p)  # doctest: +NORMALIZE_WHITESPACE
    ['these constraints cannot all hold: count_min 2; area budget 250 m²;
      BB needs ≥ 150 m²']
    """
    t0 = time.perf_counter()
    t = problem if isinstance(problem, SiteTable) else site_table(problem)

    def left() -> float:
        return max(0.1, time_limit_s - (time.perf_counter() - t0))

    rows = site_rows(t)
    names = [n for n in dict.fromkeys(rows.names.tolist()) if n != "site options"]
    if not names:
        return []

    def lp_infeasible(active: list[str]) -> bool:
        keep = np.isin(rows.names, np.array(active + ["site options"], dtype=object))
        return lp_feasible(rows.select(keep), time_limit_s=left()) is False

    order = {n: i for i, n in enumerate(names)}
    if lp_infeasible(names):
        core = _shrink(names, lp_infeasible)
        core.sort(key=order.__getitem__)
        return ["these constraints cannot all hold: " + "; ".join(_describe(t, n) for n in core)]

    lits: dict[str, cp_model.IntVar] = {}
    model, *_ = site_model(t, enforce=lits)
    names = list(lits)
    order = {n: i for i, n in enumerate(names)}

    def solve(active: list[str]) -> tuple[bool, list[str]]:
        model.clear_assumptions()
        model.add_assumptions([lits[n] for n in active])
        status, solver = solve_model(model, time_limit_s=left(), seed=seed, workers=1)
        if status != "infeasible":
            return False, []
        core = set(solver.sufficient_assumptions_for_infeasibility())
        return True, [n for n in active if lits[n].index in core]

    infeasible, core = solve(names)
    if not infeasible:
        return []
    if not core or not solve(core)[0]:
        core = names
    core = _shrink(core, lambda active: solve(active)[0])
    core.sort(key=order.__getitem__)
    return ["these constraints cannot all hold: " + "; ".join(_describe(t, n) for n in core)]
