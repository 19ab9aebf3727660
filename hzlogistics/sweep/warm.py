"""Warm starts of a sweep: a neighbour's plan adapted to the next point's limits.

:func:`adapt_hint` snaps a plan onto the sizes a site may take and steps it
into the new limits; whether the result is feasible is judged by the solvers'
one checker of the site constraints,
:func:`~hzlogistics.solvers.sites.plan_violations`, and, for the demand it
serves, by :func:`service_violations`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import SitingProblem
from hzlogistics.solvers.sites import SiteTable, site_table

logger = logging.getLogger(__name__)

#: Relative tolerance of the greedy steps and of the service checks.
_TOL = 1e-6


def _capacity(problem: SitingProblem, area: float, site_cap: float) -> float:
    by_area = np.inf if problem.capacity_per_m2 is None else float(problem.capacity_per_m2) * area
    return float(min(by_area, site_cap))


def adapt_hint(
    problem: SitingProblem,
    area_m2: np.ndarray,
    *,
    served: sp.spmatrix | None = None,
) -> np.ndarray:
    """Adapt a plan's site areas to the limits of ``problem``, to warm-start its solve.

    Sites are snapped to the size tiers they may take (forbidden sites closed,
    existing sites at least their current area); then, while a limit is
    exceeded (number of sites, per-country count or area, area budget, rent
    cap), the site step that loses the least served demand per m² (or per site,
    or per USD of rent) is taken: one tier down, or closing a new site. Closing
    respects the minimum counts. Finally, if too few sites are open, the closed
    sites that reach the most demand are opened at their smallest tier while
    the budgets allow. A plan that already satisfies ``problem`` is returned
    unchanged.

    Parameters
    ----------
    problem
        The problem to be solved next.
    area_m2
        ``(n_sites,)`` areas of the neighbouring plan (0 = closed).
    served
        ``(n_sites, n_demand)`` parcels/day served by each site in that plan; its
        row sums rank the sites (without it, the demand each site reaches).

    Returns
    -------
    numpy.ndarray
        ``(n_sites,)`` areas, as close to feasible for ``problem`` as these
        greedy steps get.

    Raises
    ------
    ValidationError
        If ``area_m2`` does not have one entry per site.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = SitingProblem(weight=np.array([4.0, 2.0, 1.0]), cover=sp.csr_matrix(np.eye(3)),
    ...                   tiers_m2=np.array([100.0, 200.0]), area_budget_m2=300.0,
    ...                   capacity_per_m2=0.02)
    >>> adapt_hint(p, np.array([200.0, 200.0, 100.0])).tolist()
    [200.0, 100.0, 0.0]
    """
    n = problem.n_sites
    area = np.asarray(area_m2, dtype=float).copy()
    if area.shape != (n,):
        raise ValidationError(f"hint: {area.shape[0] if area.ndim else 0} areas given for "
                              f"{n} candidate sites; give one area per site")
    t = site_table(problem)
    legal = [[float(x) for x in options] for options in t.areas]
    closable = ~t.forced
    for i in range(n):
        if t.forbidden[i] and closable[i]:
            area[i] = 0.0
        elif area[i] > 0 or not closable[i]:
            options = legal[i]
            if not options:
                area[i] = 0.0 if closable[i] else t.existing_m2[i]
                continue
            fits = [x for x in options if x <= area[i] * (1 + _TOL)]
            area[i] = fits[-1] if fits else options[0]
    if served is not None and sp.csr_matrix(served).shape[0] == n:
        gain = np.asarray(sp.csr_matrix(served).sum(axis=1), dtype=float).ravel()
    else:
        gain = np.asarray(sp.csr_matrix(problem.cover, dtype=float) @ problem.weight).ravel()
    gain = np.maximum(gain, 0.0)
    site_cap = _site_capacity(problem)
    _shrink(problem, t, site_cap, area, legal, closable, gain)
    _grow(t, area, legal, gain)
    return area


def _site_capacity(problem: SitingProblem) -> np.ndarray:
    """``(n_sites,)`` parcels/day each site handles whatever its area (``inf`` = no limit)."""
    if problem.site_capacity is None:
        return np.full(problem.n_sites, np.inf)
    return np.asarray(problem.site_capacity, dtype=float)


def _totals(area: np.ndarray, t: SiteTable) -> dict[str, Any]:
    is_open = area > 0
    return {
        "count": int(is_open.sum()),
        "area": float(area.sum()),
        "rent": float((area * t.rent_usd_m2_year).sum()),
        "gcount": np.bincount(t.group, weights=is_open.astype(float), minlength=t.n_groups),
        "garea": np.bincount(t.group, weights=area, minlength=t.n_groups),
    }


def _over(value: float, limit: float) -> bool:
    return bool(np.isfinite(limit)) and value > limit + _TOL * max(1.0, abs(limit))


def _shrink(problem: SitingProblem, t: SiteTable, site_cap: np.ndarray, area: np.ndarray,
            legal: list[list[float]], closable: np.ndarray, gain: np.ndarray) -> None:
    """Step sites down (or close them) while a count, area or rent limit is exceeded."""
    n = t.n_sites
    count_min = t.count_min
    for _ in range(sum(len(x) + 1 for x in legal) + 1):
        tot = _totals(area, t)
        scope: np.ndarray | None = None
        kind = ""
        if tot["count"] > t.count_max:
            kind = "count"
        elif np.any(tot["gcount"] > t.group_count_max + _TOL):
            kind, g = "count", int(np.argmax(tot["gcount"] - t.group_count_max))
            scope = t.group == g
        elif np.any(tot["garea"] > t.group_area_max_m2 * (1 + _TOL)):
            kind, g = "area", int(np.argmax(tot["garea"] - t.group_area_max_m2))
            scope = t.group == g
        elif _over(tot["area"], t.area_budget_m2):
            kind = "area"
        elif _over(tot["rent"], t.rent_cap_usd_year):
            kind = "rent"
        if not kind:
            return
        best: tuple[float, float, int, float] | None = None
        for i in range(n):
            if area[i] <= 0 or (scope is not None and not scope[i]):
                continue
            g = int(t.group[i])
            smaller = [x for x in legal[i] if x < area[i] * (1 - _TOL)]
            can_close = (closable[i] and tot["count"] > count_min
                         and tot["gcount"][g] > t.group_count_min[g] + _TOL)
            if kind == "count" or not smaller:
                if not can_close:
                    continue
                new = 0.0
            else:
                new = smaller[-1]
            if tot["garea"][g] - (area[i] - new) < t.group_area_min_m2[g] * (1 - _TOL):
                continue
            before = min(gain[i], _capacity(problem, area[i], site_cap[i]))
            after = 0.0 if new == 0 else min(gain[i], _capacity(problem, new, site_cap[i]))
            loss = max(0.0, before - after)
            freed = {"count": 1.0, "area": area[i] - new,
                     "rent": (area[i] - new) * t.rent_usd_m2_year[i]}[kind]
            if freed <= 0:
                continue
            key = (loss / freed, -freed, i, new)
            if best is None or key < best:
                best = key
        if best is None:
            logger.debug("warm start: cannot meet the %s limit by shrinking the plan", kind)
            return
        area[best[2]] = best[3]


def _grow(t: SiteTable, area: np.ndarray, legal: list[list[float]], gain: np.ndarray) -> None:
    """Open the closed sites that reach the most demand while too few sites are open."""
    tot = _totals(area, t)
    short_total = max(0, t.count_min - tot["count"])
    short_group = np.maximum(0, np.ceil(t.group_count_min - tot["gcount"] - _TOL)).astype(int)
    if short_total == 0 and not short_group.any():
        return
    budget, rent_cap = t.area_budget_m2, t.rent_cap_usd_year
    order = np.argsort(-gain, kind="stable")
    for need_group in (True, False):
        for i in order:
            i = int(i)
            g = int(t.group[i])
            if area[i] > 0 or t.forbidden[i] or not legal[i]:
                continue
            if need_group and short_group[g] <= 0:
                continue
            if not need_group and short_total <= 0:
                return
            size = legal[i][0]
            rent = size * t.rent_usd_m2_year[i]
            if (tot["area"] + size > budget * (1 + _TOL) or tot["rent"] + rent
                    > rent_cap * (1 + _TOL) or tot["gcount"][g] + 1 > t.group_count_max[g] + _TOL
                    or tot["garea"][g] + size > t.group_area_max_m2[g] * (1 + _TOL)):
                continue
            if tot["count"] + 1 > t.count_max:
                return
            area[i] = size
            tot["area"] += size
            tot["rent"] += rent
            tot["count"] += 1
            tot["gcount"][g] += 1
            tot["garea"][g] += size
            short_group[g] = max(0, short_group[g] - 1)
            short_total = max(0, short_total - 1)


def service_violations(problem: SitingProblem, area_m2: np.ndarray,
                       served: sp.spmatrix) -> list[str]:
    """The ways a plan's service breaks ``problem`` (its sites are checked by
    :func:`~hzlogistics.solvers.sites.plan_violations`).

    Parameters
    ----------
    problem
        The problem.
    area_m2
        ``(n_sites,)`` areas of the plan (0 = closed).
    served
        ``(n_sites, n_demand)`` parcels/day served.

    Returns
    -------
    list of str
        Served pairs outside the coverage, closed sites that serve, demand
        served beyond its weight, sites beyond their capacity; empty when none.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
    ...                   tiers_m2=np.array([100.0]))
    >>> service_violations(p, np.array([100.0, 0.0]), sp.csr_matrix([[1.0, 1.0], [0.0, 0.0]]))
    ['1 served pairs outside the service level']
    """
    area = np.asarray(area_m2, dtype=float)
    served = sp.csr_matrix(served, dtype=float)
    if served.shape != problem.cover.shape:
        return [f"served matrix of shape {served.shape}, expected {problem.cover.shape}"]
    out: list[str] = []
    served = served.copy()
    served.eliminate_zeros()
    if served.nnz and served.data.min() < 0:
        out.append("negative service")
    coo = served.tocoo()
    covered = sp.csr_matrix(problem.cover, dtype=bool)
    reach = np.asarray(covered[coo.row, coo.col]).ravel() if coo.nnz else np.ones(0, bool)
    if not reach.all():
        out.append(f"{int((~reach).sum())} served pairs outside the service level")
    by_site = np.asarray(served.sum(axis=1)).ravel()
    if np.any((area <= 0) & (by_site > 0)):
        out.append("closed sites serve demand")
    weight = np.asarray(problem.weight, dtype=float)
    by_point = np.asarray(served.sum(axis=0)).ravel()
    if np.any(by_point > weight * (1 + _TOL) + _TOL):
        out.append("demand served beyond its weight")
    site_cap = _site_capacity(problem)
    cap = np.array([_capacity(problem, area[i], site_cap[i]) for i in range(area.size)])
    if np.any(by_site > cap * (1 + _TOL) + _TOL):
        out.append("sites serve beyond their capacity")
    return out
