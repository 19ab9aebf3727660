"""Count-only maximal covering at the scale of tens of thousands of points.

When only the number of open sites matters (no capacity, no area quotas per
group, no rent cap; an area budget with a single smallest tier is only a cap on
the count), siting is the maximal covering location problem (MCLP). This module
solves it with a proof of quality: every result carries an upper bound and the
gap between the plan and that bound.

The solve runs in stages sharing one time limit:

1. **Reduction.** Demand points covered by an existing (forced open) site are
   served whatever happens and leave the model; points with identical sets of
   covering sites merge into one class (isomorphic aggregation); a candidate
   whose covered set is contained in another candidate's (of the same quota
   group) is dropped (dominance), kept only as a zero-value *filler* for count
   minimums; classes covered by a single candidate become that candidate's own
   weight. The remaining *core* splits into independent connected components.
2. **Greedy and swap search.** A lazy greedy plan, then best-improvement
   swaps (one site in, one out) applied in batches of independent moves.
3. **LP bound,** solved by HiGHS (through MathOpt, which releases the GIL) in
   a background thread while the region search (5) starts on the other core.
   Its duals give a certified bound through the Lagrangian of the covering
   rows, so solver tolerances cannot make the bound invalid.
4. **Integer Lagrangian per component.** With the count and quota rows priced
   by their LP duals, the problem separates by component; each component with a
   fractional LP solution is solved as an integer program by CP-SAT, which
   removes its share of the LP's integrality gap from the bound. Each such
   solution is also optimal for its own count of sites and goes into the plan
   when it serves more (the total count restored elsewhere).
5. **Region search.** Neighbourhoods of one to two hundred nearby candidates
   are re-optimized exactly by CP-SAT with everything outside fixed, two at a
   time; without quotas a region may also trade one site with the rest of the
   plan (close the cheapest or open the best site away from it). Regions are
   drawn mostly where the plan falls short of the LP, and the swap search runs
   between rounds, until the gap target or the time limit.
6. **Exact finish.** Candidates that provably cannot be part of a better plan
   (the LP's Lagrangian bound with the candidate forced in or out is below the
   plan) are fixed, and CP-SAT solves what is left with the plan as a hint.
   Small problems go straight to this stage.

CP-SAT runs with its presolve off: presolve turns the covering rows into
clauses and loses their LP strength, which is what proves optimality here.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model
from scipy.sparse.csgraph import breadth_first_order, connected_components

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import (
    SitingProblem,
    SolveOptions,
    SolveResult,
    Status,
    relative_gap,
)
from hzlogistics.solvers.reduce import aggregate_demand
from hzlogistics.solvers.sites import checked_vector

logger = logging.getLogger(__name__)

#: Relative tolerance on areas (as in the other coverage models).
_TOL = 1e-9
#: Cores up to this many candidates go straight to one exact CP-SAT solve.
_SMALL_SITES = 400
#: Largest number of candidate pairs examined by the dominance test.
_DOMINANCE_PAIRS = 400_000_000
#: Region search: first and largest number of candidates per region.
_REGION_SITES = 120
_REGION_SITES_MAX = 220
#: Deterministic time (CP-SAT units) given to one region or component solve.
_SUB_DTIME = 0.6
#: Components above this many candidates keep their LP share of the bound.
_LAGRANGIAN_SITES = 900
#: Deterministic time (CP-SAT units) spent on the components in all.
_LAGRANGIAN_DTIME = 25.0
#: The exact finish starts once fixing leaves at most this many candidates free.
_EXACT_FREE = 1500
#: Regions solved together from one plan (on as many threads as allowed).
_BATCH = 2
#: Region batches run on one thread while the LP solves on the other, one per
#: this many nonzeros of the core (about the LP's time); then the search waits
#: for the LP (a count rather than a clock keeps the solve repeatable).
_NONZEROS_PER_BATCH = 15_000
#: Region batches between two attempts at fixing sites.
_BATCHES_PER_ROUND = 25


# --------------------------------------------------------------------------
# Preparation: which sites may open, count limits per group and in total
# --------------------------------------------------------------------------


@dataclass
class _Prepared:
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


_vec = checked_vector


def _prepare(problem: SitingProblem) -> tuple[_Prepared | None, list[str]]:
    """Check the problem and resolve its count limits.

    Returns the prepared problem, or ``None`` and the reasons it is infeasible.

    Raises
    ------
    ValidationError
        On arrays of the wrong shape or impossible values, or when the problem
        is not count-only.
    """
    n, m = problem.cover.shape
    problems: list[str] = []
    w = np.asarray(problem.weight, dtype=float)
    if w.shape != (m,):
        problems.append(f"SitingProblem.weight: shape {w.shape}, expected ({m},) "
                        "(one weight per column of cover)")
        w = np.zeros(m)
    elif not np.all(np.isfinite(w)) or np.any(w < 0):
        problems.append("SitingProblem.weight: expected finite parcels/day >= 0")
    value = _vec(problem.value, m, 1.0, "value", problems)
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
    max_area = _vec(problem.max_area_m2, n, np.inf, "max_area_m2", problems)
    existing = _vec(problem.existing_area_m2, n, 0.0, "existing_area_m2", problems)
    forbidden = _vec(problem.forbidden, n, False, "forbidden", problems, dtype=bool)
    group = _vec(problem.group, n, 0, "group", problems, dtype=np.int64)
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
    gcmin = _vec(problem.group_count_min, n_groups, 0, "group_count_min", problems,
                 dtype=np.int64)
    gcmax = _vec(problem.group_count_max, n_groups, np.inf, "group_count_max", problems)
    if problem.count_max is not None and problem.count_max < problem.count_min:
        problems.append(f"SitingProblem.count_min {problem.count_min} > count_max "
                        f"{problem.count_max}; expected count_min <= count_max")
    if problems:
        raise ValidationError(problems)

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
    prep = _Prepared(
        weight=w * value, cover=sp.csr_matrix(problem.cover, dtype=bool), openable=openable,
        forced=forced, area_open_m2=np.where(openable, area_open, 0.0), egroup=emap[group],
        n_egroups=n_eg, xlo=exlo, xhi=exhi, total_lo=max(0, total_lo - n_forced),
        total=total_hi - n_forced, quotas=bool(binding.any()),
    )
    return prep, []


# --------------------------------------------------------------------------
# Reduction to the core
# --------------------------------------------------------------------------


@dataclass
class _Core:
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


def _dominated(cov: sp.csr_matrix, group: np.ndarray) -> np.ndarray:
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


def _reduce(prep: _Prepared) -> _Core:
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
    drop = _dominated(cls_cover, fgroup)
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
    core = _Core(
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


# --------------------------------------------------------------------------
# Plans of the core: counts per group, greedy, swap search
# --------------------------------------------------------------------------


@dataclass
class _Plan:
    y: np.ndarray  # (n,) bool core sites open
    pad: np.ndarray  # (n_groups,) fillers used
    value: float

    def copy(self) -> _Plan:
        return _Plan(self.y.copy(), self.pad.copy(), self.value)


def _greedy(core: _Core, start: np.ndarray | None = None) -> _Plan:
    """Lazy greedy respecting the group bounds; ``start`` sites are taken first."""
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
    heap: list[tuple[float, int]] = [(-float(base[i]), i) for i in range(n) if not y[i]]
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
    plan = _Plan(y, pad, 0.0)
    plan.value = core.value(y)
    return plan


def _swap_search(core: _Core, plan: _Plan, deadline: float,
                 stop: Callable[[], bool] | None = None) -> _Plan:
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


# --------------------------------------------------------------------------
# Bounds
# --------------------------------------------------------------------------


def _top_choice(core: _Core, c: np.ndarray) -> tuple[float, np.ndarray]:
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


def _dual_bound(core: _Core, pi: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Lagrangian bound of the covering rows at multipliers ``pi >= 0``.

    ``max sum_j w_j z_j + own.y  s.t.  z_j <= sum_{i in N(j)} y_i`` relaxed with
    ``pi``: the classes give ``sum_j max(0, w_j - pi_j)`` and the sites a top-k
    choice of ``own_i + sum_{j in N(i)} pi_j``. Valid for any ``pi >= 0``.
    Returns the bound, the site prices and the chosen sites.
    """
    pi = np.maximum(pi, 0.0)
    price = np.asarray(core.cover @ pi).ravel() + core.own
    top, chosen = _top_choice(core, price)
    return float(np.maximum(core.weight - pi, 0.0).sum()) + top, price, chosen


@dataclass
class _LpResult:
    bound: float
    pi: np.ndarray  # (m,) multipliers of the covering rows
    y: np.ndarray  # (n,) LP values of the sites
    pen: np.ndarray  # (n,) price of one more open site in the site's group (count + group duals)
    pen_const: float  # sum of multipliers x right-hand sides of the count rows
    pad_pen: np.ndarray  # (n_groups,) price of one filler
    optimal: bool


def _lp(core: _Core, time_limit_s: float, interrupter: object | None = None) -> _LpResult | None:
    """Solve the LP relaxation of the core (HiGHS through MathOpt; GLOP if absent).

    The model is written straight into a MathOpt proto from the sparse arrays.
    The solve releases the GIL, so it can run in a thread next to CP-SAT.
    Returns ``None`` when the solver gave no dual solution.
    """
    from datetime import timedelta

    from ortools.math_opt import model_pb2, result_pb2
    from ortools.math_opt.python import mathopt

    n, m, ng = core.n, core.m, core.n_groups
    npads = core.n_pads
    nv = n + m + ng
    proto = model_pb2.ModelProto()
    var = proto.variables
    var.ids.extend(range(nv))
    var.lower_bounds.extend([0.0] * nv)
    var.upper_bounds.extend([1.0] * (n + m) + npads.astype(float).tolist())
    var.integers.extend([False] * nv)
    proto.objective.maximize = True
    coef = np.r_[core.own, core.weight, np.zeros(ng)]
    nz = np.flatnonzero(coef)
    proto.objective.linear_coefficients.ids.extend(nz.tolist())
    proto.objective.linear_coefficients.values.extend(coef[nz].tolist())
    n_quota = ng if core.quotas else 0
    rows_lo = [-math.inf] * m + [float(core.total_lo)]
    rows_hi = [0.0] * m + [float(core.total)]
    if n_quota:
        rows_lo += core.xlo.astype(float).tolist()
        rows_hi += core.xhi.astype(float).tolist()
    lc = proto.linear_constraints
    lc.ids.extend(range(m + 1 + n_quota))
    lc.lower_bounds.extend(rows_lo)
    lc.upper_bounds.extend(rows_hi)
    csc = core.cover.tocsc()
    r = [np.repeat(np.arange(m), np.diff(csc.indptr)), np.arange(m), np.full(n + ng, m)]
    c = [csc.indices, n + np.arange(m), np.r_[np.arange(n), n + m + np.arange(ng)]]
    v = [-np.ones(csc.nnz), np.ones(m), np.ones(n + ng)]
    if n_quota:
        r.append(m + 1 + np.r_[core.group, np.arange(ng)])
        c.append(np.r_[np.arange(n), n + m + np.arange(ng)])
        v.append(np.ones(n + ng))
    rr, cc, vv = np.concatenate(r), np.concatenate(c), np.concatenate(v)
    order = np.lexsort((cc, rr))
    mat = proto.linear_constraint_matrix
    mat.row_ids.extend(rr[order].tolist())
    mat.column_ids.extend(cc[order].tolist())
    mat.coefficients.extend(vv[order].tolist())
    model = mathopt.Model.from_model_proto(proto)
    params = mathopt.SolveParameters(time_limit=timedelta(seconds=max(0.1, time_limit_s)))
    try:
        result = mathopt.solve(model, mathopt.SolverType.HIGHS, params=params,
                               interrupter=interrupter)  # type: ignore[arg-type]
    except (RuntimeError, ValueError):  # pragma: no cover - OR-Tools built without HiGHS
        result = mathopt.solve(model, mathopt.SolverType.GLOP, params=params,
                               interrupter=interrupter)  # type: ignore[arg-type]
    rp = result.to_proto()
    if not rp.solutions or not rp.solutions[0].HasField("dual_solution"):
        return None
    sol = rp.solutions[0]
    dual = np.zeros(m + 1 + n_quota)
    dv = sol.dual_solution.dual_values
    dual[np.asarray(dv.ids, dtype=np.int64)] = np.asarray(dv.values, dtype=float)
    yv = np.zeros(nv)
    pv = sol.primal_solution.variable_values
    yv[np.asarray(pv.ids, dtype=np.int64)] = np.asarray(pv.values, dtype=float)
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
    bound, _, _ = _dual_bound(core, pi)
    optimal = rp.termination.reason == result_pb2.TERMINATION_REASON_OPTIMAL
    return _LpResult(bound=bound, pi=pi, y=yv[:n], pen=pen, pen_const=float(const),
                     pad_pen=pad_pen, optimal=optimal)


# --------------------------------------------------------------------------
# CP-SAT models of parts of the core
# --------------------------------------------------------------------------


def _scale_for(values: np.ndarray) -> float:
    """Factor making objective coefficients integers (1 when they already are)."""
    v = np.abs(values[np.isfinite(values)])
    total = float(v.sum())
    if total == 0:
        return 1.0
    if np.all(v == np.round(v)) and total < 2.0 ** 50:
        return 1.0
    return 2.0 ** math.floor(math.log2(2.0 ** 40 / total))


@dataclass
class _SubModel:
    model: cp_model.CpModel
    y: list[cp_model.IntVar]
    scale: float
    slack: float  # largest effect of rounding the coefficients, in model units


def _sub_model(sub: sp.csc_matrix, wcls: np.ndarray, lin: np.ndarray, scale: float,
               hint: np.ndarray | None = None,
               extra: Callable[[cp_model.CpModel, list[cp_model.IntVar]],
                               list[tuple[cp_model.IntVar, float]]] | None = None,
               ) -> _SubModel:
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
    return _SubModel(model, y, scale, slack / scale)


def _sub_solver(seed: int, dtime: float, wall_s: float, workers: int = 1) -> cp_model.CpSolver:
    s = cp_model.CpSolver()
    p = s.parameters
    p.num_workers = workers
    p.random_seed = seed
    p.max_deterministic_time = dtime
    p.max_time_in_seconds = max(0.01, wall_s)
    # Presolve turns the covering rows into clauses and loses their LP strength.
    p.cp_model_presolve = False
    p.catch_sigint_signal = False  # Ctrl-C belongs to the caller (options.stop)
    return s


# --------------------------------------------------------------------------
# The solve
# --------------------------------------------------------------------------


class _Tracker:
    """Best plan, best bound and their log, reported through ``options.progress``."""

    def __init__(self, core: _Core, options: SolveOptions, t0: float) -> None:
        self.core = core
        self.options = options
        self.t0 = t0
        self.plan: _Plan | None = None
        self.bound = math.inf
        self.log: list[tuple[float, float, float]] = []

    @property
    def value(self) -> float:
        return -math.inf if self.plan is None else self.plan.value

    @property
    def best(self) -> _Plan:
        """The best plan so far (there is one from the greedy stage on)."""
        assert self.plan is not None
        return self.plan

    def offer(self, plan: _Plan | None = None, bound: float | None = None) -> None:
        changed = False
        if plan is not None and plan.value > self.value + 1e-9 * max(1.0, abs(plan.value)):
            self.plan = plan.copy()
            changed = True
        if bound is not None and bound < self.bound:
            self.bound = bound
            changed = True
        if changed:
            t = time.perf_counter() - self.t0
            inc = self.core.constant + self.value
            bnd = self.core.constant + max(self.bound, self.value)
            self.log.append((t, inc, bnd))
            if callable(self.options.progress):
                self.options.progress(t, inc, bnd)

    def gap(self) -> float:
        if self.plan is None:
            return math.inf
        return relative_gap(self.core.constant + self.value,
                            self.core.constant + max(self.bound, self.value))

    def reached(self) -> bool:
        return self.gap() <= float(self.options.gap) + 1e-12


def _stopped(options: SolveOptions) -> bool:
    stop = options.stop
    return bool(stop is not None and getattr(stop, "is_set", lambda: False)())


def solve_count_only(problem: SitingProblem, options: SolveOptions) -> SolveResult:
    """Open the sites that serve the most demand when only their number matters.

    Parameters
    ----------
    problem
        A count-only siting problem: no capacity, no area quotas per group, no
        rent cap. Count limits (``count_min``, ``count_max``, an area budget
        with the smallest tier), group count quotas, existing (forced open) and
        forbidden sites and ``value`` multipliers are honoured.
    options
        Time limit (whole solve), gap target, seed, workers, progress callback,
        stop event and an optional hint (areas of a known plan).

    Returns
    -------
    SolveResult
        ``area_m2`` gives each open site its smallest allowed area (an
        existing site keeps its own), ``served`` assigns every covered point's
        weight to one open covering site (the quickest when ``travel_time_h``
        is given, else the first), and ``objective``/``bound``/``gap`` are in
        value-weighted parcels/day. ``info`` holds the reduction sizes and the
        time spent in each stage.

    Raises
    ------
    ValidationError
        When an array has the wrong shape or the problem is not count-only.

    Notes
    -----
    With ``w_j`` the weight times value of demand point ``j``, ``N(j)`` the
    candidates covering it, ``y_i`` whether site ``i`` opens and ``z_j``
    whether point ``j`` is served:

    .. math::

        \\max \\sum_j w_j z_j \\quad\\text{s.t.}\\quad z_j \\le \\sum_{i \\in N(j)} y_i,
        \\quad L \\le \\sum_i y_i \\le U,
        \\quad l_g \\le \\sum_{i \\in g} y_i \\le u_g,
        \\quad y_i = 1 \\ (i \\text{ existing}),\\ y_i = 0 \\ (i \\text{ forbidden}).

    The bound is the smallest of the LP bound (from its duals, through the
    Lagrangian of the covering rows), the integer Lagrangian of the count and
    quota rows over the connected components, and CP-SAT's bound on the
    reduced problem. A fixed seed gives the same plan whenever the solve ends
    on the gap target rather than on the wall-clock limit.

    Examples
    --------
    Four towns on a line, two sites may open; each site reaches its neighbours:

    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]))
    >>> p = SitingProblem(weight=np.array([5., 1., 1., 4.]), cover=cover,
    ...                   tiers_m2=np.array([100.]), area_budget_m2=None, count_max=2)
    >>> r = solve_count_only(p, SolveOptions(time_limit_s=10, workers=1))
    >>> r.status, r.objective, r.area_m2.tolist()
    ('optimal', 11.0, [100.0, 0.0, 100.0])
    """
    t0 = time.perf_counter()
    prep, reasons = _prepare(problem)
    n_sites, n_demand = problem.cover.shape
    if prep is None:
        return SolveResult(status="infeasible", objective=math.nan, bound=math.nan,
                           gap=math.inf, wall_s=time.perf_counter() - t0,
                           area_m2=np.zeros(n_sites),
                           served=sp.csr_matrix((n_sites, n_demand)), reasons=reasons)
    limit = float(options.time_limit_s)
    # Keep a little time to stop the LP thread and write the result.
    deadline = t0 + limit - min(1.0, 0.3 + 0.01 * limit)
    core = _reduce(prep)
    tracker = _Tracker(core, options, t0)
    info: dict[str, object] = dict(core.stats)
    stages: dict[str, float] = {}
    workers = int(options.workers or max(1, os.cpu_count() or 1))

    def stop() -> bool:
        return _stopped(options) or time.perf_counter() >= deadline

    def stage(name: str, since: float) -> float:
        now = time.perf_counter()
        stages[name] = round(stages.get(name, 0.0) + now - since, 3)
        return now

    t = time.perf_counter()
    plan = _greedy(core)
    info["greedy_value"] = core.constant + plan.value
    tracker.offer(plan, _trivial_bound(core))
    if options.hint is not None:
        hint_y = np.asarray(options.hint, dtype=float)[core.sites] > 0
        hplan = _greedy(core, start=hint_y)
        tracker.offer(_swap_search(core, hplan, deadline, stop))
    t = stage("greedy", t)
    tracker.offer(_swap_search(core, tracker.best, deadline, stop))
    t = stage("swap", t)

    if core.n <= _SMALL_SITES:
        _exact(core, tracker, options, deadline, fix=None)
        t = stage("exact", t)
    elif not tracker.reached() and not stop():
        _large(core, tracker, options, deadline, workers, info, stages)
    info["stages_s"] = stages
    return _result(problem, prep, core, tracker, options, t0, info)


def _large(core: _Core, tracker: _Tracker, options: SolveOptions, deadline: float,
           workers: int, info: dict[str, object], stages: dict[str, float]) -> None:
    """LP bound in a background thread, region search meanwhile, then the rest."""
    from ortools.util.python.solve_interrupter import SolveInterrupter

    t_lp = time.perf_counter()
    box: dict[str, object] = {}
    interrupter = SolveInterrupter()

    def run_lp() -> None:
        try:
            box["lp"] = _lp(core, max(0.1, deadline - time.perf_counter()), interrupter)
        except Exception as exc:  # pragma: no cover - reported, the solve goes on
            box["error"] = exc
        box["wall_s"] = time.perf_counter() - t_lp

    thread = threading.Thread(target=run_lp, name="hzlogistics-lp", daemon=True)
    thread.start()
    state = _Regions.of(core, options.seed)
    lp: _LpResult | None = None

    def stage(name: str, since: float) -> float:
        now = time.perf_counter()
        stages[name] = round(stages.get(name, 0.0) + now - since, 3)
        return now

    t = time.perf_counter()
    try:
        if workers > 1:
            # While the LP solves, the region search uses the other threads.
            before_lp = int(np.clip(round(core.cover.nnz / _NONZEROS_PER_BATCH), 2, 60))
            _region_search(core, tracker, options, deadline, max(1, workers - 1), state,
                           before_lp)
            t = stage("regions", t)
        while thread.is_alive() and not _stopped(options) and time.perf_counter() < deadline:
            thread.join(0.05)
        if thread.is_alive() or _stopped(options):
            return
        stages["lp_thread"] = round(float(box.get("wall_s", 0.0)), 3)  # type: ignore[arg-type]
        if "error" in box:
            logger.warning("LP relaxation failed: %s", box["error"])
        lp = box.get("lp")  # type: ignore[assignment]
        t = stage("lp_wait", t)
        if lp is not None:
            tracker.offer(bound=lp.bound)
            info["lp_bound"] = core.constant + lp.bound
            if not tracker.reached():
                lag = _component_lagrangian(core, lp, tracker, options, deadline, workers)
                info["lagrangian_bound"] = core.constant + lag
                t = stage("lagrangian", t)
                state.seeds = _focus_seeds(core, lp, tracker.best, options.seed)
        converged = False
        while not tracker.reached() and not _stopped(options) \
                and time.perf_counter() < deadline:
            fix = _fixing(core, lp, tracker) if lp is not None else None
            if fix is not None and (converged or int((fix < 0).sum()) <= _EXACT_FREE):
                info["fixed_sites"] = int((fix >= 0).sum())
                _exact(core, tracker, options, deadline, fix=fix)
                t = stage("exact", t)
                break
            if converged:
                break
            converged = _region_search(core, tracker, options, deadline, workers, state,
                                       _BATCHES_PER_ROUND)
            t = stage("regions", t)
    finally:
        if thread.is_alive():
            # HiGHS may take seconds to notice; the thread is left to finish on its own.
            interrupter.interrupt()
            thread.join(0.3)
            if thread.is_alive():
                logger.debug("LP interrupted; its thread ends in the background")
        info["regions"] = dict(state.stats)


def _trivial_bound(core: _Core) -> float:
    """Cheapest valid bounds: all classes served, or the best single-site sums."""
    b0, _, _ = _dual_bound(core, np.zeros(core.m))
    b1, _, _ = _dual_bound(core, core.weight)
    return min(b0, b1)


def _exact(core: _Core, tracker: _Tracker, options: SolveOptions, deadline: float,
           fix: np.ndarray | None) -> None:
    """CP-SAT on the core (``fix``: -1 free, 0 closed, 1 open), the plan as a hint."""
    from hzlogistics.solvers.cpsat import solve_cpsat

    remaining = deadline - time.perf_counter()
    if remaining <= 0.05 or _stopped(options):
        return
    plan = tracker.best
    free = np.arange(core.n) if fix is None else np.flatnonzero(fix < 0)
    opened = np.zeros(core.n, dtype=bool) if fix is None else fix == 1
    cnt = np.asarray(core.cover_t @ opened.astype(np.float64)).ravel()
    cls = np.flatnonzero(cnt == 0)
    sub = core.cover[free][:, cls].tocsc()
    scale = _scale_for(np.r_[core.weight, core.own])
    sm = _sub_model(sub, core.weight[cls], core.own[free], scale, hint=plan.y[free])
    model = sm.model
    # Counts: fillers are integer variables per group.
    npads = core.n_pads
    fixed_cnt = np.bincount(core.group[opened], minlength=core.n_groups)
    pads = [model.new_int_var(0, int(npads[g]), f"pad{g}") for g in range(core.n_groups)]
    for g, v in enumerate(pads):
        model.add_hint(v, int(plan.pad[g]))
    by_group: list[list[cp_model.IntVar]] = [[] for _ in range(core.n_groups)]
    for k, i in enumerate(free):
        by_group[core.group[i]].append(sm.y[k])
    group_sums = [sum(by_group[g]) + pads[g] + int(fixed_cnt[g]) for g in range(core.n_groups)]
    model.add(sum(group_sums) == core.total)
    if core.quotas:
        for g in range(core.n_groups):
            model.add_linear_constraint(group_sums[g], int(core.xlo[g]), int(core.xhi[g]))
    base = float(core.weight[cnt > 0].sum() + core.own[opened].sum())
    # The gap target is relative to the whole objective, not to this model's part.
    allowed = float(options.gap) * (core.constant + tracker.value) * sm.scale
    extra: dict[str, object] = {"cp_model_presolve": False, "relative_gap_limit": 0.0,
             "absolute_gap_limit": max(0.0, allowed)}
    # One worker: repeatable, and with the LP doing the proving about as fast as several.
    opts = SolveOptions(time_limit_s=remaining, gap=options.gap, seed=options.seed,
                        workers=1, log=options.log, progress=None, stop=options.stop)
    out = solve_cpsat(model, opts, scale=sm.scale, extra_params=extra)
    if out.status in ("optimal", "feasible", "interrupted"):
        y = opened.copy()
        y[free] = np.array([out.solver.value(v) for v in sm.y], dtype=bool)
        pad = np.array([out.solver.value(v) for v in pads], dtype=np.int64)
        plan2 = _Plan(y, pad, 0.0)
        plan2.value = core.value(y)
        tracker.offer(plan2)
        bound = out.bound + sm.slack + base
        if fix is not None:
            bound = max(bound, tracker.value)
        tracker.offer(bound=bound)
    elif out.status == "infeasible" and fix is not None:
        # No plan beats the incumbent among the unfixed ones.
        tracker.offer(bound=tracker.value)


def _component_lagrangian(core: _Core, lp: _LpResult, tracker: _Tracker,
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
            if comp_frac[c] and comp_size[c] <= _LAGRANGIAN_SITES]
    sites_of = _group_index(core.comp, core.n_comp)
    cls_of = _group_index(core.comp_cls, core.n_comp)
    csc = core.cover.tocsc()
    scale = _scale_for(np.r_[core.weight, core.own, pen])
    pad_part = float((core.n_pads * np.maximum(-lp.pad_pen, 0.0)).sum())

    def solve_one(c: int) -> tuple[int, float, np.ndarray | None, float]:
        s_idx, c_idx = sites_of[c], cls_of[c]
        sub = csc[s_idx][:, c_idx].tocsc()
        sm = _sub_model(sub, core.weight[c_idx], core.own[s_idx] - pen[s_idx], scale)
        solver = _sub_solver(options.seed, 4 * _SUB_DTIME, deadline - time.perf_counter())
        code = solver.solve(sm.model)
        used = float(solver.response_proto.deterministic_time)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return c, math.inf, None, used
        ub = solver.best_objective_bound / sm.scale + sm.slack
        sol = np.array([solver.value(v) for v in sm.y], dtype=bool)
        return c, ub, sol if code == cp_model.OPTIMAL else None, used

    done = 0
    spent = 0.0
    plan = tracker.best.copy()
    improved = False
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # Fixed batches and a deterministic-time budget keep the outcome repeatable.
        for start in range(0, len(todo), 8):
            if time.perf_counter() >= deadline or _stopped(options) \
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
        tracker.offer(_swap_search(core, plan, deadline, lambda: _stopped(options)))
    tracker.offer(bound=bound)
    return bound


def _group_index(labels: np.ndarray, k: int) -> list[np.ndarray]:
    order = np.argsort(labels, kind="stable")
    cuts = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[cuts[i]:cuts[i + 1]] for i in range(k)]


def _adopt(core: _Core, plan: _Plan, s_idx: np.ndarray, sol: np.ndarray) -> bool:
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


@dataclass
class _Regions:
    """State of the region search, carried between its rounds."""

    adj: sp.csr_matrix  # sites sharing a class
    csc: sp.csc_matrix  # the core's cover, by column
    seeds: np.ndarray  # sequence of region seeds
    pos: int = 0
    size: int = _REGION_SITES
    seen: dict[tuple[int, int], bytes] = field(default_factory=dict)
    since_swap: int = 0
    skipped: int = 0
    stats: dict[str, int] = field(default_factory=lambda: {"solved": 0, "optimal": 0,
                                                           "improved": 0, "traded": 0})

    @classmethod
    def of(cls, core: _Core, seed: int) -> _Regions:
        adj = (core.cover @ core.cover.T).tocsr()
        adj.setdiag(0)
        adj.eliminate_zeros()
        return cls(adj=adj, csc=core.cover.tocsc(),
                   seeds=np.random.default_rng(seed).permutation(max(core.n, 1)))


def _region_search(core: _Core, tracker: _Tracker, options: SolveOptions, deadline: float,
                   threads: int, state: _Regions, batches: int) -> bool:
    """Re-optimize neighbourhoods of nearby sites exactly, everything else fixed.

    Solves ``batches`` batches of two regions (both from the same plan, so the
    outcome does not depend on ``threads``), or stops earlier at the deadline,
    the gap target, or when every region is optimal for the current plan (then
    returns True). ``state`` carries the search between calls.
    """
    n = core.n
    if n == 0:
        return True
    adj, csc, seen, stats = state.adj, state.csc, state.seen, state.stats
    scale = _scale_for(np.r_[core.weight, core.own])
    comp_size = np.bincount(core.comp, minlength=core.n_comp)
    plan = tracker.best.copy()

    def region(seed: int, size: int) -> tuple[np.ndarray, tuple[int, int]]:
        c = int(core.comp[seed])
        if comp_size[c] <= size:
            return np.flatnonzero(core.comp == c), (-1, c)
        order = breadth_first_order(adj, seed, directed=False, return_predecessors=False)
        return np.sort(order[:size]), (seed, size)

    def outside_moves(y: np.ndarray, reg: np.ndarray) -> tuple[int, float, int, float]:
        """Cheapest open site to close and best closed site to open, away from ``reg``."""
        near = np.zeros(n, dtype=bool)
        near[reg] = True
        near[adj[reg].indices] = True
        cnt = np.asarray(core.cover_t @ y.astype(np.float64)).ravel()
        loss = np.asarray(core.cover @ np.where(cnt == 1, core.weight, 0.0)).ravel() + core.own
        gain = np.asarray(core.cover @ np.where(cnt == 0, core.weight, 0.0)).ravel() + core.own
        can_close = np.flatnonzero(y & ~near)
        can_open = np.flatnonzero(~y & ~near)
        a = int(can_close[np.argmin(loss[can_close])]) if can_close.size else -1
        b = int(can_open[np.argmax(gain[can_open])]) if can_open.size else -1
        return a, float(loss[a]) if a >= 0 else math.inf, b, float(gain[b]) if b >= 0 else 0.0

    def solve_region(reg: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None,
                                                                bool]:
        """Best plan of ``reg`` with the rest fixed; without quotas it may trade one site
        with the outside (close the cheapest or open the best site away from it)."""
        outside = y.copy()
        outside[reg] = False
        sub = csc[reg]
        cols = np.flatnonzero(np.diff(sub.tocsc().indptr) > 0)
        hit = np.asarray(core.cover_t[cols] @ outside.astype(np.float64)).ravel() > 0
        cols = cols[~hit]
        sub = sub[:, cols].tocsc()
        grp = core.group[reg]
        cur = np.bincount(grp[y[reg]], minlength=core.n_groups)
        flex: list[tuple[cp_model.IntVar, cp_model.IntVar, int, int]] = []

        def trade_terms(model: cp_model.CpModel,
                        yv: list[cp_model.IntVar]) -> list[tuple[cp_model.IntVar, float]]:
            if core.quotas:
                for g in np.flatnonzero(np.bincount(grp, minlength=core.n_groups)):
                    model.add(sum(yv[k] for k in np.flatnonzero(grp == g)) == int(cur[g]))
                return []
            a, loss_a, b, gain_b = outside_moves(y, reg)
            more = model.new_bool_var("more")
            less = model.new_bool_var("less")
            model.add(more + less <= 1)
            if a < 0:
                model.add(more == 0)
            if b < 0:
                model.add(less == 0)
            model.add(sum(yv) == int(cur.sum()) + more - less)
            model.add_hint(more, False)
            model.add_hint(less, False)
            flex.append((more, less, a, b))
            return [(more, -loss_a if a >= 0 else 0.0), (less, gain_b)]

        sm = _sub_model(sub, core.weight[cols], core.own[reg], scale, hint=y[reg],
                        extra=trade_terms)
        model = sm.model
        solver = _sub_solver(options.seed, _SUB_DTIME, deadline - time.perf_counter())
        code = solver.solve(model)
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return reg, None, False
        sol = np.array([solver.value(v) for v in sm.y], dtype=bool)
        for more, less, a, b in flex:
            if solver.value(more):
                sol = np.r_[sol, False]
                reg = np.r_[reg, a]
            elif solver.value(less):
                sol = np.r_[sol, True]
                reg = np.r_[reg, b]
        return reg, sol, code == cp_model.OPTIMAL

    converged = False
    with ThreadPoolExecutor(max_workers=max(1, min(threads, _BATCH))) as pool:
        for _ in range(batches):
            if tracker.reached() or time.perf_counter() >= deadline or _stopped(options):
                break
            batch: list[tuple[tuple[int, int], np.ndarray]] = []
            size = state.size
            while len(batch) < _BATCH and state.skipped < n:
                s = int(state.seeds[state.pos % len(state.seeds)])
                state.pos += 1
                reg, tag = region(s, size)
                if (tag in seen and seen[tag] == _fingerprint(core, plan.y, reg)) \
                        or any(t == tag for t, _ in batch):
                    state.skipped += 1
                    continue
                batch.append((tag, reg))
            if not batch:
                converged = True
                break
            results = list(pool.map(solve_region, [r for _, r in batch],
                                    [plan.y] * len(batch)))
            n_opt = 0
            for (tag, reg0), (reg, sol, opt) in zip(batch, results, strict=True):
                stats["solved"] += 1
                if sol is None:
                    continue
                n_opt += int(opt)
                stats["optimal"] += int(opt)
                trial = plan.y.copy()
                trial[reg] = sol
                v = core.value(trial)
                if trial.sum() == plan.y.sum() and v > plan.value + 1e-9 * max(1.0, abs(v)):
                    stats["improved"] += 1
                    stats["traded"] += int(reg.size > reg0.size)
                    plan.y, plan.value = trial, v
                    tracker.offer(plan)
                    state.skipped = 0
                if opt:
                    seen[tag] = _fingerprint(core, plan.y, reg0)
            # Grow regions while they solve to optimality, shrink when they do not.
            if n_opt == len(results):
                state.size = min(_REGION_SITES_MAX, size + 10)
            else:
                state.size = max(40, int(size * 0.8))
            state.since_swap += len(batch)
            if state.since_swap >= 40:
                state.since_swap = 0
                before = plan.value
                plan = _swap_search(core, plan, deadline, lambda: _stopped(options))
                tracker.offer(plan)
                if plan.value > before:
                    state.skipped = 0
    if converged and state.since_swap:
        state.since_swap = 0
        plan = _swap_search(core, plan, deadline, lambda: _stopped(options))
        tracker.offer(plan)
    return converged


def _focus_seeds(core: _Core, lp: _LpResult, plan: _Plan, seed: int) -> np.ndarray:
    """Region seeds drawn mostly from the components the LP says the plan falls short in.

    A component's shortfall is its share of the LP dual bound minus the plan's
    value there net of the count price; seeds are drawn in proportion to it
    (70 %) or uniformly (30 %).
    """
    rng = np.random.default_rng(seed + 1)
    n = core.n
    cnt = np.asarray(core.cover_t @ plan.y.astype(np.float64)).ravel()
    value = (np.bincount(core.comp_cls, weights=core.weight * (cnt > 0), minlength=core.n_comp)
             + np.bincount(core.comp, weights=core.own * plan.y, minlength=core.n_comp))
    price = np.asarray(core.cover @ lp.pi).ravel() + core.own - lp.pen
    share = (np.bincount(core.comp_cls, weights=np.maximum(core.weight - lp.pi, 0.0),
                         minlength=core.n_comp)
             + np.bincount(core.comp, weights=np.maximum(price, 0.0), minlength=core.n_comp))
    net = value - np.bincount(core.comp, weights=lp.pen * plan.y, minlength=core.n_comp)
    short = np.maximum(share - net, 0.0)
    size = np.bincount(core.comp, minlength=core.n_comp)
    weight = short[core.comp] / np.maximum(size[core.comp], 1)
    if weight.sum() <= 0:
        return rng.permutation(n)
    focused = rng.choice(n, size=2 * n, p=weight / weight.sum())
    uniform = rng.permutation(n)
    out = np.empty(3 * n, dtype=np.int64)
    mask = np.zeros(3 * n, dtype=bool)
    mask[rng.choice(3 * n, size=n, replace=False)] = True
    out[mask] = uniform
    out[~mask] = focused
    return out


def _fingerprint(core: _Core, y: np.ndarray, reg: np.ndarray) -> bytes:
    """What a region's solve depends on: its sites and the classes served from outside."""
    outside = y.copy()
    outside[reg] = False
    sub = core.cover[reg]
    cols = np.unique(sub.indices)
    hit = np.asarray(core.cover_t[cols] @ outside.astype(np.float64)).ravel() > 0
    return y[reg].tobytes() + np.packbits(hit).tobytes()


def _fixing(core: _Core, lp: _LpResult, tracker: _Tracker) -> np.ndarray:
    """Sites whose forcing in (out) makes the LP dual bound fall below the plan.

    Returns ``fix`` with 0 (must stay closed), 1 (must stay open) or -1 (free).
    Only without group quotas, where the site choice of the bound is a top-k.
    """
    fix = np.full(core.n, -1, dtype=np.int64)
    if core.quotas or core.n == 0:
        return fix
    bound, price, chosen = _dual_bound(core, lp.pi)
    # Strictly below the plan (less a rounding margin): no better plan is cut off.
    target = tracker.value - 1e-9 * max(1.0, abs(tracker.value))
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


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


def _result(problem: SitingProblem, prep: _Prepared, core: _Core, tracker: _Tracker,
            options: SolveOptions, t0: float, info: dict[str, object]) -> SolveResult:
    n_sites, n_demand = problem.cover.shape
    plan = tracker.plan
    assert plan is not None
    y = prep.forced.copy()
    y[core.sites[plan.y]] = True
    cover = prep.cover
    # Fillers: the dropped sites serving the most of what is still unserved.
    for g in range(core.n_groups):
        need = int(plan.pad[g])
        if need <= 0:
            continue
        cands = core.pads[g]
        hit = np.asarray(cover[y].sum(axis=0)).ravel() > 0
        gains = np.asarray(cover[cands] @ np.where(hit, 0.0, prep.weight)).ravel()
        y[cands[np.argsort(-gains, kind="stable")[:need]]] = True
    hit = np.asarray(cover[y].sum(axis=0)).ravel() > 0
    objective = float(prep.weight[hit].sum())
    bound = core.constant + max(tracker.bound, tracker.value)
    bound = max(bound, objective)
    gap = relative_gap(objective, bound)
    status: Status
    if _stopped(options):
        status = "interrupted"
    elif gap <= float(options.gap) + 1e-12:
        status = "optimal"
    else:
        status = "feasible"
    area = np.where(y, prep.area_open_m2, 0.0)
    served = _served(problem, y, hit)
    wall = time.perf_counter() - t0
    log = list(tracker.log)
    log.append((wall, objective, bound))
    info.update(open_sites=int(y.sum()), fillers=int(plan.pad.sum()))
    logger.info("count-only solve: %s objective %.6g bound %.6g gap %.4g%% in %.1fs", status,
                objective, bound, 100 * gap, wall)
    return SolveResult(status=status, objective=objective, bound=bound, gap=gap, wall_s=wall,
                       area_m2=area, served=served, log=log, info=info)


def _served(problem: SitingProblem, y: np.ndarray, hit: np.ndarray) -> sp.csr_matrix:
    """Each served point's weight at one open covering site (quickest, else first)."""
    n_sites, n_demand = problem.cover.shape
    open_idx = np.flatnonzero(y)
    c_open = sp.csr_matrix(problem.cover, dtype=bool)[open_idx].tocoo()
    rows, cols = c_open.row, c_open.col
    if problem.travel_time_h is not None and rows.size:
        tt = sp.csr_matrix(problem.travel_time_h)[open_idx].astype(np.float64)
        tt.data = np.abs(tt.data) + 1.0
        pattern = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=c_open.shape)
        key = pattern.maximum(tt.multiply(pattern)).tocoo()
        rows, cols, times = key.row, key.col, key.data - 1.0
    else:
        times = np.zeros(rows.size)
    order = np.lexsort((rows, times, cols))
    cs = cols[order]
    first = np.r_[True, cs[1:] != cs[:-1]] if cs.size else np.zeros(0, dtype=bool)
    pick_col = cs[first]
    pick_site = open_idx[rows[order][first]]
    w = np.asarray(problem.weight, dtype=float)
    keep = hit[pick_col]
    return sp.csr_matrix((w[pick_col[keep]], (pick_site[keep], pick_col[keep])),
                         shape=(n_sites, n_demand))


__all__ = ["solve_count_only"]
