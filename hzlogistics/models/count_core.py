"""Count-only maximal covering: the problem resolved, reduced to its core, and plans of it.

:func:`prepare` checks a count-only problem and resolves its count limits
(the area budget with a single smallest tier is a cap on the count);
:func:`reduce_core` removes what the optimization need not see (demand served
by existing sites, identical demand points, dominated candidates, classes
covered by one candidate) and splits the rest into connected components.
:func:`greedy` and :func:`swap_search` give the first plans of the core;
:func:`offer`, :func:`filled`, :func:`prefer`, :func:`best_plan` and :func:`reached`
read the solve's :class:`~hzlogistics.solvers.track.Tracker` in terms of such plans.
The solve itself is :func:`hzlogistics.models.count_coverage.solve_count_only`.
"""

from __future__ import annotations

import heapq
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import SitingProblem, relative_gap
from hzlogistics.solvers.reduce import aggregate_demand
from hzlogistics.solvers.sites import checked_vector
from hzlogistics.solvers.track import Tracker

logger = logging.getLogger(__name__)

#: Relative tolerance on areas (as in the other coverage models).
_TOL = 1e-9
#: Largest number of candidate pairs examined by the dominance test.
_DOMINANCE_PAIRS = 400_000_000


@dataclass
class Prepared:
    """Site-side facts of a count-only problem, with the count limits resolved."""

    weight: np.ndarray  # (n_demand,) weight x value: the objective coefficient
    cover: sp.csr_matrix  # (n_sites, n_demand) bool
    openable: np.ndarray  # (n_sites,) bool
    forced: np.ndarray  # (n_sites,) bool
    area_open_m2: np.ndarray  # (n_sites,) area an open site gets
    egroup: np.ndarray  # (n_sites,) effective group (quota-free groups pooled)
    n_egroups: int
    xlo: np.ndarray  # (n_egroups,) minimum number of free (non-forced) sites to open
    xhi: np.ndarray  # (n_egroups,) maximum
    total_lo: int  # free sites to open, in total: at least ...
    total: int  # ... and exactly this many are opened (never worse than fewer)
    quotas: bool  # whether some group bound can bind


@dataclass
class _Checked:
    """The arrays of a count-only problem, checked and with their defaults filled in."""

    weight: np.ndarray
    value: np.ndarray
    tiers: np.ndarray
    max_area: np.ndarray
    existing: np.ndarray
    forbidden: np.ndarray
    group: np.ndarray
    n_groups: int
    gcmin: np.ndarray
    gcmax: np.ndarray


def _checked(problem: SitingProblem) -> _Checked:
    """Check every array of ``problem`` in one pass; raise once with every problem found."""
    n, m = problem.cover.shape
    problems: list[str] = []
    w = np.asarray(problem.weight, dtype=float)
    if w.shape != (m,):
        problems.append(f"SitingProblem.weight: shape {w.shape}, expected ({m},) "
                        "(one weight per column of cover)")
        w = np.zeros(m)
    elif not np.all(np.isfinite(w)) or np.any(w < 0):
        problems.append("SitingProblem.weight: expected finite parcels/day >= 0")
    value = checked_vector(problem.value, m, 1.0, "value", problems)
    if not np.all((value >= 0) & (value <= 1)):
        problems.append("SitingProblem.value: expected multipliers in [0, 1]")
    tt = problem.travel_time_h
    if tt is not None and tt.shape != (n, m):
        problems.append(f"SitingProblem.travel_time_h: shape {tt.shape}, expected ({n}, {m})")
    for name in ("capacity_per_m2", "site_capacity"):
        if getattr(problem, name, None) is not None:
            problems.append(f"SitingProblem.{name} is set: not a count-only problem; "
                            "use hzlogistics.models.coverage.solve_coverage")
    for name, empty in (("group_area_min_m2", 0.0), ("group_area_max_m2", np.inf)):
        arr = getattr(problem, name)
        if arr is not None and not np.all(np.asarray(arr, dtype=float) == empty):
            problems.append(f"SitingProblem.{name} is set: not a count-only problem; "
                            "use hzlogistics.models.coverage.solve_coverage")
    if problem.rent_cap_usd_year is not None:
        problems.append("SitingProblem.rent_cap_usd_year is set: not a count-only problem; "
                        "use hzlogistics.models.coverage.solve_coverage")
    tiers = np.unique(np.asarray(problem.tiers_m2, dtype=float))
    if tiers.size and (not np.all(np.isfinite(tiers)) or tiers[0] <= 0):
        problems.append(f"SitingProblem.tiers_m2: {tiers.tolist()}; expected finite tiers > 0 m²")
    max_area = checked_vector(problem.max_area_m2, n, np.inf, "max_area_m2", problems)
    existing = checked_vector(problem.existing_area_m2, n, 0.0, "existing_area_m2", problems)
    forbidden = checked_vector(problem.forbidden, n, False, "forbidden", problems, dtype=bool)
    group = checked_vector(problem.group, n, 0, "group", problems, dtype=np.int64)
    for name, arr in (("max_area_m2", max_area), ("existing_area_m2", existing)):
        bad = np.flatnonzero(~(arr >= 0))
        if bad.size:
            problems.append(f"SitingProblem.{name}: {bad.size} negative or NaN values "
                            f"(first at site {int(bad[0])}); expected >= 0")
    if n and group.min() < 0:
        problems.append("SitingProblem.group: negative group index; expected 0..n_groups-1")
    n_groups = max(len(problem.group_names), int(group.max()) + 1 if n else 0, 1)
    for name in ("group_count_min", "group_count_max"):
        arr = getattr(problem, name)
        if arr is not None:
            n_groups = max(n_groups, np.asarray(arr).shape[0])
    gcmin = checked_vector(problem.group_count_min, n_groups, 0, "group_count_min", problems,
                 dtype=np.int64)
    gcmax = checked_vector(problem.group_count_max, n_groups, np.inf, "group_count_max", problems)
    if problem.count_max is not None and problem.count_max < problem.count_min:
        problems.append(f"SitingProblem.count_min {problem.count_min} > count_max "
                        f"{problem.count_max}; expected count_min <= count_max")
    if problems:
        raise ValidationError(problems)

    return _Checked(weight=w, value=value, tiers=tiers, max_area=max_area, existing=existing,
                    forbidden=forbidden, group=group, n_groups=n_groups, gcmin=gcmin, gcmax=gcmax)


def prepare(problem: SitingProblem) -> tuple[Prepared | None, list[str]]:
    """Check the problem and resolve its count limits.

    Returns the prepared problem, or ``None`` and the reasons it is infeasible.

    Raises
    ------
    ValidationError
        On arrays of the wrong shape or impossible values, or when the problem
        is not count-only.
    """
    c = _checked(problem)
    n = problem.cover.shape[0]
    n_groups, tiers, existing, max_area = c.n_groups, c.tiers, c.existing, c.max_area
    forbidden, group, gcmin, gcmax = c.forbidden, c.group, c.gcmin, c.gcmax
    names = list(problem.group_names) + [f"group {g}" for g in range(len(problem.group_names),
                                                                       n_groups)]
    labels = (np.asarray(problem.site_ids) if problem.site_ids is not None else np.arange(n))
    reasons: list[str] = []
    # Areas: without capacity an open site takes its smallest allowed area.
    smallest = float(tiers[0]) if tiers.size else 1.0
    forced = existing > 0
    lim = max_area * (1 + _TOL)
    area_new = np.where(smallest <= lim, smallest, np.inf)
    area_open = np.where(forced, existing, area_new)
    openable = ~forbidden & np.isfinite(area_open) & (area_open <= np.maximum(lim, existing))
    bad = np.flatnonzero(forced & forbidden)
    for i in bad[:5]:
        reasons.append(f"site {labels[i]} is existing ({existing[i]:g} m²) and forbidden")
    bad = np.flatnonzero(forced & ~forbidden & (existing > lim))
    for i in bad[:5]:
        reasons.append(f"site {labels[i]}: existing area {existing[i]:g} m² exceeds its "
                       f"max_area_m2 {max_area[i]:g}")
    forced &= openable
    n_forced = int(forced.sum())
    count_max = n if problem.count_max is None else int(problem.count_max)
    if problem.area_budget_m2 is not None:
        spare = float(problem.area_budget_m2) - float(existing[forced].sum())
        if spare < -_TOL * max(1.0, float(problem.area_budget_m2)):
            reasons.append(f"existing sites take {existing[forced].sum():g} m², more than the "
                           f"area budget {problem.area_budget_m2:g} m²")
        count_max = min(count_max, n_forced + max(0, int(math.floor(
            max(spare, 0.0) / smallest * (1 + _TOL) + _TOL))))
    avail = np.bincount(group[openable], minlength=n_groups)
    n_f = np.bincount(group[forced], minlength=n_groups)
    ub_f = np.where(np.isfinite(gcmax), np.minimum(gcmax, avail), avail)
    ub = np.asarray(ub_f, dtype=np.int64)
    lb = np.maximum(gcmin, n_f)
    for g in np.flatnonzero(lb > ub)[:10]:
        if gcmin[g] > avail[g]:
            reasons.append(f"group {names[g]}: group_count_min {gcmin[g]} but only "
                           f"{avail[g]} of its sites can open")
        else:
            reasons.append(f"group {names[g]}: {n_f[g]} existing sites but group_count_max "
                           f"{int(gcmax[g])}")
    total_hi = min(count_max, int(ub.sum()))
    total_lo = max(int(problem.count_min), int(lb.sum()))
    if n_forced > count_max:
        reasons.append(f"{n_forced} existing sites must stay open but at most {count_max} "
                       "sites may open (count_max / area budget)")
    elif total_lo > total_hi and not reasons:
        if int(problem.count_min) > int(ub.sum()):
            reasons.append(f"count_min {problem.count_min} but at most {int(ub.sum())} sites "
                           "can open (forbidden sites, max areas, group maxima)")
        else:
            reasons.append(f"the group minima add up to {int(lb.sum())} sites, more than the "
                           f"{total_hi} allowed (count_max / area budget)")
    if reasons:
        return None, reasons

    free = openable & ~forced
    free_g = np.bincount(group[free], minlength=n_groups)
    xlo = lb - n_f
    xhi = ub - n_f
    binding = (xlo > 0) | (xhi < free_g)
    # Pool the groups whose bounds cannot bind into one effective group.
    emap = np.full(n_groups, -1, dtype=np.int64)
    emap[binding] = np.arange(int(binding.sum()))
    pooled = int(binding.sum())
    emap[~binding] = pooled
    n_eg = pooled + (1 if (~binding).any() else 0)
    exlo = np.zeros(n_eg, dtype=np.int64)
    exhi = np.zeros(n_eg, dtype=np.int64)
    np.add.at(exlo, emap, xlo)
    np.add.at(exhi, emap, xhi)
    prep = Prepared(
        weight=c.weight * c.value, cover=sp.csr_matrix(problem.cover, dtype=bool),
        openable=openable,
        forced=forced, area_open_m2=np.where(openable, area_open, 0.0), egroup=emap[group],
        n_egroups=n_eg, xlo=exlo, xhi=exhi, total_lo=max(0, total_lo - n_forced),
        total=total_hi - n_forced, quotas=bool(binding.any()),
    )
    return prep, []


@dataclass
class Core:
    """The reduced problem the optimization works on.

    ``cover`` holds only classes covered by two or more core sites; classes
    covered by one core site are in ``own``.
    """

    sites: np.ndarray  # (n,) original index of each core site
    cover: sp.csr_matrix  # (n, m) float 0/1
    cover_t: sp.csr_matrix  # (m, n)
    weight: np.ndarray  # (m,)
    own: np.ndarray  # (n,)
    group: np.ndarray  # (n,) effective group
    n_groups: int
    xlo: np.ndarray
    xhi: np.ndarray
    total_lo: int
    total: int
    pads: list[np.ndarray]  # per group: dropped free sites (zero value in the model)
    constant: float  # weight served by the forced sites
    comp: np.ndarray  # (n,) component of each site
    comp_cls: np.ndarray  # (m,) component of each class
    n_comp: int
    quotas: bool
    stats: dict[str, object] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.cover.shape[0])

    @property
    def m(self) -> int:
        return int(self.cover.shape[1])

    @property
    def n_pads(self) -> np.ndarray:
        return np.array([p.size for p in self.pads], dtype=np.int64)

    def value(self, y: np.ndarray) -> float:
        """Model value of a plan (without the constant)."""
        cnt = self.cover_t @ y.astype(np.float64)
        return float(self.weight[cnt > 0].sum() + self.own[y].sum())


def dominated(cov: sp.csr_matrix, group: np.ndarray) -> np.ndarray:
    """Sites whose covered set lies inside another site's of the same group.

    Ties (equal sets) keep the lowest index, so every dropped site has a kept
    site of its group covering all it covers. Pairs of sites sharing a class
    are counted in row blocks to bound memory; beyond ``_DOMINANCE_PAIRS``
    pairs in all the test is skipped.
    """
    size = np.diff(cov.indptr)
    drop = size == 0
    c = sp.csr_matrix((np.ones(cov.nnz, dtype=np.int32), cov.indices, cov.indptr),
                      shape=cov.shape)
    deg = np.diff(c.tocsc().indptr).astype(np.float64)
    work = np.asarray(c @ deg).ravel()  # pairs each row takes part in
    if float(work.sum()) > _DOMINANCE_PAIRS:
        logger.info("dominance test skipped: %.3g candidate pairs", float(work.sum()))
        return drop
    ct = c.T.tocsc()
    ends = np.searchsorted(np.cumsum(work), np.arange(1, 1 + int(work.sum() // 4e6) + 1) * 4e6)
    start = 0
    for end in np.unique(np.r_[np.minimum(ends + 1, c.shape[0]), c.shape[0]]):
        if end <= start:
            continue
        g = (c[start:end] @ ct).tocoo()
        r, k = g.row + start, g.col
        sel = (r != k) & (g.data == size[r]) & (group[r] == group[k])
        r, k = r[sel], k[sel]
        sel = (size[k] > size[r]) | (k < r)
        drop[r[sel]] = True
        start = end
    return drop


def reduce_core(prep: Prepared) -> Core:
    t0 = time.perf_counter()
    cover = prep.cover
    w = prep.weight
    forced_cov = np.asarray(cover[prep.forced].sum(axis=0)).ravel() > 0 if prep.forced.any() \
        else np.zeros(cover.shape[1], dtype=bool)
    constant = float(w[forced_cov].sum())
    free = np.flatnonzero(prep.openable & ~prep.forced)
    cf = cover[free]
    covered_by_free = np.asarray(cf.sum(axis=0)).ravel() > 0
    keep_d = np.flatnonzero(~forced_cov & (w > 0) & covered_by_free)
    agg = aggregate_demand(cf[:, keep_d], w[keep_d])
    cls_cover = agg.cover.tocsr()
    cls_cover.sort_indices()
    fgroup = prep.egroup[free]
    drop = dominated(cls_cover, fgroup)
    kept = np.flatnonzero(~drop)
    pads = [free[np.flatnonzero(drop & (fgroup == g))] for g in range(prep.n_egroups)]
    agg2 = aggregate_demand(cls_cover[kept], agg.weight)
    c2 = agg2.cover.tocsc()
    deg = np.diff(c2.indptr)
    own = np.zeros(kept.size)
    single = np.flatnonzero(deg == 1)
    np.add.at(own, c2.indices[c2.indptr[single]], agg2.weight[single])
    multi = np.flatnonzero(deg >= 2)
    core_cover = sp.csr_matrix(c2[:, multi], dtype=np.float64)
    core_cover.sort_indices()
    wm = agg2.weight[multi]
    n, m = core_cover.shape
    if n:
        bip = sp.bmat([[None, core_cover], [core_cover.T, None]]).tocsr()
        n_comp, lab = connected_components(bip, directed=False)
        comp, comp_cls = lab[:n], lab[n:]
        # Renumber components 0..k-1 by first appearance among the sites.
        _, first = np.unique(comp, return_index=True)
        order = np.argsort(first)
        remap = np.full(n_comp, -1, dtype=np.int64)
        remap[np.unique(comp)[order]] = np.arange(order.size)
        comp, comp_cls = remap[comp], remap[comp_cls]
        n_comp = int(order.size)
    else:
        n_comp, comp, comp_cls = 0, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    core = Core(
        sites=free[kept], cover=core_cover, cover_t=core_cover.T.tocsr(), weight=wm, own=own,
        group=fgroup[kept], n_groups=prep.n_egroups, xlo=prep.xlo, xhi=prep.xhi,
        total_lo=prep.total_lo, total=prep.total, pads=pads, constant=constant, comp=comp,
        comp_cls=comp_cls, n_comp=n_comp, quotas=prep.quotas,
    )
    core.stats = {
        "n_sites": int(cover.shape[0]), "n_demand": int(cover.shape[1]),
        "forced": int(prep.forced.sum()), "free_sites": int(free.size),
        "classes": int(agg.n_classes), "dominated": int(drop.sum()), "core_sites": int(n),
        "core_classes": int(m), "single_classes": int(single.size),
        "core_nonzeros": int(core_cover.nnz), "components": int(n_comp),
        "reduce_s": round(time.perf_counter() - t0, 3),
    }
    logger.info("count-only core: %s", core.stats)
    return core


@dataclass
class CountPlan:
    y: np.ndarray  # (n,) bool core sites open
    pad: np.ndarray  # (n_groups,) fillers used
    value: float

    def copy(self) -> CountPlan:
        return CountPlan(self.y.copy(), self.pad.copy(), self.value)


def fits(core: Core, plan: CountPlan) -> bool:
    """Whether a plan keeps the total count and every group within their bounds."""
    counts = np.bincount(core.group[plan.y], minlength=core.n_groups) + plan.pad
    total = int(counts.sum())
    return bool(plan.y.shape == (core.n,) and np.all(plan.pad >= 0)
                and np.all(plan.pad <= core.n_pads)
                and core.total_lo <= total <= core.total
                and (not core.quotas or (np.all(counts >= core.xlo)
                                         and np.all(counts <= core.xhi))))


def greedy(core: Core, start: np.ndarray | None = None,
           among: np.ndarray | None = None) -> CountPlan:
    """Lazy greedy respecting the group bounds; ``start`` sites are taken first.

    ``among`` (boolean, per core site) limits the sites the greedy may add
    after ``start``; the count is made up with fillers where they run out.
    """
    n = core.n
    w, own, cov = core.weight, core.own, core.cover
    covered = np.zeros(core.m, dtype=bool)
    y = np.zeros(n, dtype=bool)
    cnt = np.zeros(core.n_groups, dtype=np.int64)
    deficit = int(core.xlo.sum())
    total = 0

    def gain(i: int) -> float:
        cols = cov.indices[cov.indptr[i]:cov.indptr[i + 1]]
        return float(w[cols][~covered[cols]].sum() + own[i])

    def allowed(g: int) -> bool:
        if cnt[g] >= core.xhi[g]:
            return False
        return (core.total - total) > deficit or cnt[g] < core.xlo[g]

    def take(i: int) -> None:
        nonlocal deficit, total
        g = core.group[i]
        y[i] = True
        if cnt[g] < core.xlo[g]:
            deficit -= 1
        cnt[g] += 1
        total += 1
        covered[cov.indices[cov.indptr[i]:cov.indptr[i + 1]]] = True

    if start is not None:
        for i in sorted(np.flatnonzero(start).tolist(), key=lambda i: -gain(i)):
            if total < core.total and allowed(int(core.group[i])):
                take(i)
    base = np.asarray(cov @ w).ravel() + own
    pool = np.ones(n, dtype=bool) if among is None else np.asarray(among, dtype=bool)
    heap: list[tuple[float, int]] = [(-float(base[i]), i) for i in range(n)
                                     if pool[i] and not y[i]]
    heapq.heapify(heap)
    while total < core.total and heap:
        neg, i = heapq.heappop(heap)
        g = int(core.group[i])
        if not allowed(g):
            continue
        cur = gain(i)
        if cur < -neg - 1e-12 * max(1.0, -neg):
            heapq.heappush(heap, (-cur, i))
            continue
        take(i)
    pad = np.zeros(core.n_groups, dtype=np.int64)
    npads = core.n_pads
    # Fill what is left with fillers: groups below their minimum first.
    for g in np.argsort(-(core.xlo - cnt)):
        while total < core.total and pad[g] < npads[g] and allowed(g):
            pad[g] += 1
            if cnt[g] < core.xlo[g]:
                deficit -= 1
            cnt[g] += 1
            total += 1
    plan = CountPlan(y, pad, 0.0)
    plan.value = core.value(y)
    return plan


def swap_search(core: Core, plan: CountPlan, deadline: float,
                 stop: Callable[[], bool] | None = None) -> CountPlan:
    """Best-improvement swaps (one in, one out), independent ones in batches.

    A filler in use counts as an open site of value zero that a core site may
    replace. Swaps between groups keep every group within its bounds.
    """
    plan = plan.copy()
    y, pad = plan.y, plan.pad
    n, m = core.n, core.m
    cov, cov_t, w, own, grp = core.cover, core.cover_t, core.weight, core.own, core.group
    eps = 1e-9 * max(1.0, float(w.sum() + own.sum()))
    ng = core.n_groups
    while time.perf_counter() < deadline and not (stop and stop()):
        open_idx = np.flatnonzero(y)
        if open_idx.size == 0 and not pad.any():
            break
        cnt = np.asarray(cov_t @ y.astype(np.float64)).ravel()
        unc = np.where(cnt == 0, w, 0.0)
        one = np.where(cnt == 1, w, 0.0)
        gain = np.asarray(cov @ unc).ravel() + own
        loss = np.asarray(cov @ one).ravel() + own
        counts = np.bincount(grp[y], minlength=ng) + pad
        room = counts < core.xhi
        removable = counts > core.xlo
        # Cheapest removal per group: an open site, or a filler (loss 0).
        lo = loss[open_idx]
        gbest = np.full(ng, np.inf)
        garg = np.full(ng, -1, dtype=np.int64)
        if open_idx.size:
            order = np.lexsort((lo, grp[open_idx]))
            gs = grp[open_idx][order]
            first = np.r_[True, gs[1:] != gs[:-1]]
            gbest[gs[first]] = lo[order][first]
            garg[gs[first]] = open_idx[order][first]
        has_pad = pad > 0
        gbest[has_pad] = 0.0
        garg[has_pad] = -1 - np.flatnonzero(has_pad)
        rem_val = np.where(removable, gbest, np.inf)
        h = int(np.argmin(rem_val)) if ng else 0
        best = gbest[grp].copy()
        arg = garg[grp].copy()
        cross = room[grp] & (rem_val[h] < best)
        best[cross] = rem_val[h]
        arg[cross] = garg[h]
        # Neighbours: removing i after adding k loses only what k does not cover.
        if open_idx.size:
            mm = (cov.multiply(one[None, :]).tocsr() @ cov[open_idx].T).tocoo()
            if mm.nnz:
                i_site = open_idx[mm.col]
                k_site = mm.row
                ok = (grp[i_site] == grp[k_site]) | (room[grp[k_site]] & removable[grp[i_site]])
                vals = loss[i_site] - mm.data
                k_site, i_site, vals = k_site[ok], i_site[ok], vals[ok]
                order = np.lexsort((vals, k_site))
                ks = k_site[order]
                first = np.r_[True, ks[1:] != ks[:-1]] if ks.size else np.zeros(0, bool)
                kk, vv, ii = ks[first], vals[order][first], i_site[order][first]
                better = vv < best[kk]
                best[kk[better]] = vv[better]
                arg[kk[better]] = ii[better]
        delta = gain - best
        delta[y] = -np.inf
        cand = np.flatnonzero(delta > eps)
        if cand.size == 0:
            break
        cand = cand[np.argsort(-delta[cand], kind="stable")]
        touched = np.zeros(m, dtype=bool)
        used = np.zeros(n, dtype=bool)
        applied = 0
        for k in cand:
            i = int(arg[k])
            gk = grp[k]
            gi = gk if i >= 0 and grp[i] == gk else (grp[i] if i >= 0 else -1 - i)
            if i >= 0 and used[i]:
                continue
            ck = cov.indices[cov.indptr[k]:cov.indptr[k + 1]]
            ci = cov.indices[cov.indptr[i]:cov.indptr[i + 1]] if i >= 0 else ck[:0]
            if touched[ck].any() or touched[ci].any():
                continue
            if gi != gk and not (counts[gk] < core.xhi[gk] and counts[gi] > core.xlo[gi]):
                continue
            if i < 0 and pad[gi] <= 0:
                continue
            y[k] = True
            used[k] = True
            if i >= 0:
                y[i] = False
                used[i] = True
            else:
                pad[gi] -= 1
            counts[gk] += 1
            counts[gi] -= 1
            touched[ck] = True
            touched[ci] = True
            applied += 1
        if applied == 0:
            break
    plan.value = core.value(y)
    return plan



def offer(tracker: Tracker, plan: CountPlan | None = None, bound: float | None = None) -> None:
    """Offer a plan of the core (kept, copied, as the tracker's payload) and/or a bound."""
    tracker.update(incumbent=None if plan is None else plan.value, bound=bound,
                   payload=None if plan is None else plan.copy())


def filled(core: Core, plan: CountPlan) -> CountPlan:
    """``plan`` with its count made up to the core's total, the best sites added first.

    The MIP's count row is a range, so its plan may open fewer sites than it
    may; every other plan of the solve opens all of them.
    """
    if int(plan.y.sum() + plan.pad.sum()) >= core.total:
        return plan
    full = greedy(core, start=plan.y)
    return full if full.value >= plan.value else plan


def prefer(tracker: Tracker, plan: CountPlan) -> None:
    """Keep ``plan`` as the tracker's plan if it is as good as the best one (within its tolerance).

    For a repeatable result: the plan of the solver that proved the gap
    target, rather than one of the same value found meanwhile by another.
    """
    if plan.value >= tracker.best - tracker.rel_tol * max(1.0, abs(tracker.best)):
        tracker.payload = plan.copy()


def best_plan(tracker: Tracker) -> CountPlan:
    """The best plan so far (there is one from the greedy stage on)."""
    plan = tracker.payload
    assert isinstance(plan, CountPlan)
    return plan


def gap(tracker: Tracker) -> float:
    """Relative gap of the best plan, its bound never below it (``inf`` before a plan)."""
    if not math.isfinite(tracker.best):
        return math.inf
    return relative_gap(tracker.offset + tracker.best,
                        tracker.offset + max(tracker.bound, tracker.best))


#: Relative gap counted as none: the floating-point noise of a proven bound (CP-SAT's
#: bound, scaled back from integer coefficients, can exceed its optimum by 1e-9).
GAP_TOL = 1e-9


def reached(tracker: Tracker, target: float) -> bool:
    """Whether the gap target is reached (within :data:`GAP_TOL`)."""
    return gap(tracker) <= float(target) + GAP_TOL
