r"""The location problem as a MIP (arrays for :class:`~hzlogistics.solvers.mip.Mip`), and its solve.

Variables :math:`y_i` (site open) and, with capacity per m² or area minimums,
:math:`u_{it}` (site :math:`i` at size option :math:`t`); otherwise each open
site takes its smallest allowed area. The site-side constraints (count range,
area budget, rent cap, per-group quotas) are the rows of
:func:`hzlogistics.solvers.sites.site_rows`, stated there once for every
model. The demand side is one of:

- the radius formulation (:func:`add_radius`), uncapacitated with every demand
  point served: one variable per distinct cost level of each demand point;
- partial cover: demand classes served by any open site, a required share;
- assignment: :math:`x_{ij} \le y_i` with capacity rows, every demand point
  (or a share of demand) served.

:func:`solve_mip` builds the model on the sites not fixed closed, warm-starts
it from the best plan known and turns HiGHS's solution into a plan.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.location.pairs import serve_covered, values_at
from hzlogistics.models.location.state import LocationPlan, LocationSpec, Reduction
from hzlogistics.solvers.mip import Mip, MipOutcome
from hzlogistics.solvers.problem import SitingProblem, SolveOptions
from hzlogistics.solvers.reduce import aggregate_demand
from hzlogistics.solvers.sites import SiteTable, site_rows
from hzlogistics.solvers.track import Tracker

logger = logging.getLogger(__name__)

#: Above this many variables HiGHS runs without presolve (which ignores the time limit).
_PRESOLVE_LIMIT = 100_000

#: From this many pairs on, a MIP is built only with at least one second left per
#: ``_MIP_PAIRS_PER_S`` pairs (HiGHS's first LP on a million pairs takes minutes).
_MIP_LARGE_PAIRS, _MIP_PAIRS_PER_S = 500_000, 4_000


def mip_fits(n_pairs: int, seconds: float) -> bool:
    """Whether :func:`solve_mip` builds a MIP of ``n_pairs`` pairs with ``seconds`` left."""
    return n_pairs < _MIP_LARGE_PAIRS or seconds * _MIP_PAIRS_PER_S >= n_pairs


def mip_pairs_within(seconds: float) -> int:
    """Pairs a MIP may have for HiGHS to get well past its first LP in ``seconds``."""
    return int(seconds * _MIP_PAIRS_PER_S)


@dataclass
class _SiteVars:
    """The site variables of the MIP.

    ``y`` one per site; ``u`` one per size option of ``opt_site``/``opt_area``
    (``None`` when each open site takes its smallest area). The area of site
    ``a_site[k]`` is ``a_coef[k]`` times variable ``a_var[k]``.
    """

    y: np.ndarray
    u: np.ndarray | None
    opt_site: np.ndarray
    opt_area: np.ndarray
    a_site: np.ndarray
    a_var: np.ndarray
    a_coef: np.ndarray
    can: np.ndarray
    forced: np.ndarray


def _merge_parallel(a: sp.csr_matrix, lo: np.ndarray, hi: np.ndarray
                    ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Rows with the same coefficients become one ranged row (``count_min`` with ``count_max``)."""
    a = sp.csr_matrix(a)
    a.sum_duplicates()
    a.eliminate_zeros()
    a.sort_indices()
    first: dict[tuple[bytes, bytes], int] = {}
    keep: list[int] = []
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    for r in range(a.shape[0]):
        sl = slice(a.indptr[r], a.indptr[r + 1])
        key = (a.indices[sl].tobytes(), a.data[sl].tobytes())
        if key in first:
            k = first[key]
            lo[k], hi[k] = max(lo[k], lo[r]), min(hi[k], hi[r])
            continue
        first[key] = r
        keep.append(r)
    idx = np.asarray(keep, dtype=np.int64)
    return a[idx], lo[idx], hi[idx]


def _add_sites(mip: Mip, spec: LocationSpec, table: SiteTable, *, can: np.ndarray,
               forced: np.ndarray, need_tiers: bool, base_area: np.ndarray) -> _SiteVars:
    """Site variables, size options and the site-side rows of :func:`site_rows`."""
    n = table.n_sites
    site_obj = spec.open_cost + (0.0 if need_tiers else spec.area_cost * base_area)
    y = mip.add_vars(n, lb=forced.astype(float), ub=can.astype(float), integer=True,
                     obj=np.where(can, site_obj, 0.0))
    rows = site_rows(table)
    o_site, o_area = rows.opt_site, rows.opt_area
    usable = can[o_site]
    col_var = np.full(o_site.size, -1, dtype=np.int64)
    u = None
    opt_site, opt_area = o_site[usable], o_area[usable]
    if need_tiers:
        u = mip.add_vars(opt_site.size, integer=True, obj=spec.area_cost[opt_site] * opt_area)
        link = mip.add_rows(n, lb=0.0, ub=0.0)
        mip.add_terms(link[opt_site], u, 1.0)
        mip.add_terms(link, y, -1.0)
        col_var[usable] = u
        a_site, a_var, a_coef = opt_site, u, opt_area
    else:
        # each open site takes its smallest area: the first option of each site is y
        smallest = np.r_[True, o_site[1:] != o_site[:-1]] if o_site.size else usable
        col_var[smallest & usable] = y[o_site[smallest & usable]]
        a_site, a_var, a_coef = np.arange(n), y, base_area
    # at most one size per site and existing sites open are the links and bounds of y
    rows = rows.select(~np.isin(rows.names, ("site options", "keep existing sites")))
    used = col_var >= 0
    a, lo, hi = _merge_parallel(rows.A[:, used], rows.lo, rows.hi)
    # a row left without variables matters only when it cannot hold
    matter = (np.diff(a.indptr) > 0) | (lo > 0) | (hi < 0)
    mip.add_matrix(a[matter], col_var[used], lb=lo[matter], ub=hi[matter])
    return _SiteVars(y=y, u=u, opt_site=opt_site, opt_area=opt_area, a_site=a_site,
                     a_var=a_var, a_coef=a_coef, can=can, forced=forced)


def _add_demand(mip: Mip, problem: SitingProblem, spec: LocationSpec, table: SiteTable,
                sv: _SiteVars, rows: np.ndarray, cols: np.ndarray, pc: np.ndarray | None, *,
                reduction: Reduction | None, info: dict[str, object]
                ) -> tuple[str, np.ndarray | None]:
    """The demand side: radius, partial cover or assignment; its name and the flows ``x``."""
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    y = sv.y
    capacitated = problem.capacity_per_m2 is not None or problem.site_capacity is not None
    full = spec.required_share is None
    total = float(w.sum())
    need = total if full else float(spec.required_share) * total  # type: ignore[arg-type]
    if full and not capacitated and pc is not None:
        info["radius_levels_cut"] = add_radius(
            mip, y, rows, cols, pc, n_d=n_d, can=sv.can, forced=sv.forced,
            count_min=int(table.count_min), reduction=reduction)
        return "radius", None
    if not capacitated:
        agg = aggregate_demand(sp.csr_matrix((np.ones(rows.size, bool), (rows, cols)),
                                             shape=(n, n_d)), w)
        s = mip.add_vars(agg.n_classes, ub=1.0)
        cover_rows = mip.add_rows(agg.n_classes, ub=0.0)
        mip.add_terms(cover_rows, s, 1.0)
        ac = agg.cover.tocoo()
        mip.add_terms(cover_rows[ac.col], y[ac.row], -1.0)
        scale = max(total, 1e-12)  # in shares of demand: keeps the row well scaled
        mip.add_row(s, agg.weight / scale, lb=need / scale * (1 - 1e-12))
        return "partial cover", None
    x = mip.add_vars(rows.size, ub=1.0, integer=spec.single, obj=pc if pc is not None else 0.0)
    dem = mip.add_rows(n_d, lb=1.0 if full else -np.inf, ub=1.0)
    served_any = np.zeros(n_d, dtype=bool)
    served_any[cols] = True
    mip.add_terms(dem[cols], x, 1.0)
    if full:
        # a demand point of weight 0 with no allowed site is still "served"
        lonely = np.flatnonzero(~served_any)
        if lonely.size:
            slack = mip.add_vars(lonely.size, lb=1.0, ub=1.0)
            mip.add_terms(dem[lonely], slack, 1.0)
    strong = mip.add_rows(rows.size, ub=0.0)
    mip.add_terms(strong, x, 1.0)
    mip.add_terms(strong, y[rows], -1.0)
    if problem.capacity_per_m2 is not None:
        k = float(problem.capacity_per_m2)
        caprow = mip.add_rows(n, ub=0.0)
        mip.add_terms(caprow[rows], x, w[cols])
        mip.add_terms(caprow[sv.a_site], sv.a_var, -k * sv.a_coef)
        mip.add_row(sv.a_var, k * sv.a_coef, lb=need * (1 - 1e-9))
    if problem.site_capacity is not None:
        sc = np.asarray(problem.site_capacity, dtype=float)
        caprow = mip.add_rows(n, ub=0.0)
        mip.add_terms(caprow[rows], x, w[cols])
        mip.add_terms(caprow, y, -sc)
        mip.add_row(y, sc, lb=need * (1 - 1e-9))
    if not full:
        scale = max(total, 1e-12)
        mip.add_row(x, w[cols] / scale, lb=need / scale * (1 - 1e-12))
    return "assignment", x


def _hint(sv: _SiteVars, x: np.ndarray | None, rows: np.ndarray, cols: np.ndarray,
          w: np.ndarray, incumbent: LocationPlan | None, options: SolveOptions
          ) -> tuple[np.ndarray, np.ndarray] | None:
    """The warm start: the best plan known (with its flows), else ``options.hint``."""
    start = None
    if incumbent is not None and bool(np.all(sv.can[incumbent.area > 0])):
        start = incumbent.area
    elif options.hint is not None:
        start = np.where(sv.can, np.asarray(options.hint, dtype=float), 0.0)
    if start is None:
        return None
    ids = [sv.y]
    vals = [(start > 0).astype(float)]
    if sv.u is not None:
        match = np.isclose(sv.opt_area, start[sv.opt_site], rtol=1e-9) & (start[sv.opt_site] > 0)
        ids.append(sv.u)
        vals.append(match.astype(float))
    if x is not None and incumbent is not None and start is incumbent.area:
        # the plan's own flows complete the hint: HiGHS then needs no LP to finish it
        ids.append(x)
        vals.append(values_at(incumbent.served, rows, cols) / np.maximum(w[cols], 1e-300))
    return np.concatenate(ids), np.concatenate(vals)


def _plan(problem: SitingProblem, spec: LocationSpec, sv: _SiteVars, x: np.ndarray | None,
          out: MipOutcome, rows: np.ndarray, cols: np.ndarray, pc: np.ndarray | None, *,
          base_area: np.ndarray, evaluate_open: Callable[..., LocationPlan] | None
          ) -> LocationPlan:
    """The plan of a MIP solution."""
    n, n_d = problem.n_sites, problem.n_demand
    w = np.asarray(problem.weight, dtype=float)
    v = out.values
    assert v is not None
    open_ = (v[sv.y] > 0.5) & sv.can
    if sv.u is not None:
        area = np.zeros(n)
        pick = v[sv.u] > 0.5
        area[sv.opt_site[pick]] = sv.opt_area[pick]
        area = np.where(open_, area, 0.0)
    else:
        area = np.where(open_, base_area, 0.0)
    if evaluate_open is not None:
        return evaluate_open(open_, "mip", area)
    site_value = float(spec.open_cost[open_].sum() + spec.area_cost @ area)
    if x is not None:
        xv = np.clip(v[x], 0.0, 1.0)
        nz = xv > 1e-9
        served = sp.csr_matrix((w[cols[nz]] * xv[nz], (rows[nz], cols[nz])), shape=(n, n_d))
        value = site_value + (float(pc @ xv) if pc is not None else 0.0)
    else:
        served = serve_covered(problem, rows, cols, open_, w)
        value = site_value
    return LocationPlan(area=area, objective=value, served=served, source="mip")


def solve_mip(
    problem: SitingProblem,
    options: SolveOptions,
    spec: LocationSpec,
    table: SiteTable,
    rows: np.ndarray,
    cols: np.ndarray,
    pair_cost: np.ndarray | None,
    *,
    t0: float,
    log: Tracker,
    info: dict[str, object],
    need_tiers: bool,
    base_area: np.ndarray,
    fix_open: np.ndarray,
    fix_closed: np.ndarray,
    integral: bool,
    incumbent: LocationPlan | None,
    evaluate_open: Callable[..., LocationPlan] | None,
    threshold: float,
    reduction: Reduction | None = None,
    time_limit_s: float | None = None,
) -> tuple[LocationPlan | None, float, str]:
    """Build and solve the MIP; returns its plan, its bound and its status.

    Sites in ``fix_closed`` stay closed and those in ``fix_open`` open (valid
    for the plans cheaper than ``threshold``, which also caps the bounds
    logged). A MIP too large for the time left (HiGHS would not finish its
    first LP, and does not stop inside it) is not built: the status is then
    ``"skipped"``.
    """
    left = options.time_limit_s - (time.perf_counter() - t0)
    if time_limit_s is not None:
        left = min(left, time_limit_s)
    n_pairs = int(np.count_nonzero((table.can_open & ~fix_closed)[rows]))
    if not mip_fits(n_pairs, left):
        info.update(mip_status="skipped", mip_pairs=n_pairs)
        logger.info("MIP skipped: %d pairs need more than the %.1f s left", n_pairs, left)
        return None, -math.inf, "skipped"
    w = np.asarray(problem.weight, dtype=float)
    can = table.can_open & ~fix_closed
    forced = (table.forced & table.can_open) | (fix_open & can)
    mip = Mip()
    t_b = time.perf_counter()
    sv = _add_sites(mip, spec, table, can=can, forced=forced, need_tiers=need_tiers,
                    base_area=base_area)
    keep = can[rows]
    rows, cols = rows[keep], cols[keep]
    pc = pair_cost[keep] if pair_cost is not None else None
    form, x = _add_demand(mip, problem, spec, table, sv, rows, cols, pc, reduction=reduction,
                          info=info)
    info.update(formulation=form, mip_vars=mip.n_vars, mip_rows=mip.n_rows,
                build_s=time.perf_counter() - t_b)
    hint = _hint(sv, x, rows, cols, w, incumbent, options)

    def on_progress(incumbent_value: float, bound_value: float) -> None:
        if math.isfinite(threshold):
            bound_value = min(bound_value, threshold)
        log.update(incumbent=incumbent_value, bound=bound_value)

    remaining = options.time_limit_s - (time.perf_counter() - t0)
    if time_limit_s is not None:
        remaining = min(remaining, time_limit_s)
    # after the Lagrangian starts the incumbent is rarely improved: spend the time on the bound
    highs: dict[str, object] = {}
    if reduction is not None:
        highs["mip_heuristic_effort"] = 0.01
    if mip.n_vars > _PRESOLVE_LIMIT:
        highs["presolve"] = "off"  # HiGHS's presolve does not watch the clock
        # nor does it stop at once on a large model: leave it a margin
        remaining -= 0.03 * options.time_limit_s
    out = mip.solve(options, time_limit_s=max(remaining, 0.05), hint=hint, integral=integral,
                    on_progress=on_progress, highs_options=highs)
    info.update(mip_status=out.status, mip_s=out.wall_s, engine=out.engine)
    bound = out.bound
    if integral and math.isfinite(bound):
        bound = math.ceil(bound - 1e-6)
    if out.values is None:
        return None, bound, out.status
    plan = _plan(problem, spec, sv, x, out, rows, cols, pc, base_area=base_area,
                 evaluate_open=evaluate_open)
    return plan, bound, out.status


def add_radius(mip: Mip, y: np.ndarray, rows: np.ndarray, cols: np.ndarray, cost: np.ndarray,
               *, n_d: int, can: np.ndarray, forced: np.ndarray, count_min: int,
               reduction: Reduction | None = None) -> int:
    r"""Add the radius formulation of "serve every demand point at its cheapest open site".

    For demand point :math:`j` with distinct costs :math:`D^0_j < \dots < D^{K-1}_j`
    over the sites that may serve it, :math:`z^k_j \in [0, 1]` is 1 when no open
    site serves :math:`j` at cost :math:`\le D^k_j`. Cost :math:`D^0_j + \sum_k
    (D^{k+1}_j - D^k_j) z^k_j`; rows :math:`z^{k-1}_j \le z^k_j + \sum_{i: c_{ij} =
    D^k_j} y_i` with :math:`z^{-1}_j = 1` and :math:`z^{K-1}_j = 0`. A level is
    cut off (its :math:`z` fixed at 0) once a forced-open site is within it, or
    once fewer than ``count_min`` allowed sites lie beyond it, since one of the
    open sites must then be within it. With a Lagrangian ``reduction``, a level
    is also cut off once closing every chosen site within it provably costs at
    least the reduction's threshold. Returns the number of levels cut off.
    """
    order = np.lexsort((rows, cost, cols))
    r, c, d = rows[order], cols[order], cost[order]
    m = r.size
    if m == 0:
        return 0
    new_col = np.ones(m, dtype=bool)
    new_col[1:] = c[1:] != c[:-1]
    new_lvl = new_col.copy()
    new_lvl[1:] |= d[1:] != d[:-1]
    lvl_of_pair = np.cumsum(new_lvl) - 1
    col_of_pair = np.cumsum(new_col) - 1
    first_pair_of_col = np.flatnonzero(new_col)
    n_lvl = int(new_lvl.sum())
    lvl_cost = d[new_lvl]
    col_of_lvl = col_of_pair[new_lvl]
    first_lvl_of_col = lvl_of_pair[new_col]
    # sites at or below each level of its column, and allowed sites beyond it
    within = np.arange(1, m + 1) - first_pair_of_col[col_of_pair]
    last_pair_of_lvl = np.append(np.flatnonzero(new_lvl)[1:], m) - 1
    beyond = int(can.sum()) - within[last_pair_of_lvl]
    stop = beyond < count_min
    stop[lvl_of_pair[forced[r]]] = True
    if reduction is not None:
        start_of_pair = first_pair_of_col[col_of_pair]
        q_cum = np.cumsum(reduction.chosen[r].astype(np.int64))
        rho_cum = np.cumsum(np.where(reduction.chosen[r], reduction.rho[r], 0.0))
        before_q = np.where(start_of_pair > 0, q_cum[start_of_pair - 1], 0)
        before_rho = np.where(start_of_pair > 0, rho_cum[start_of_pair - 1], 0.0)
        q_lvl = (q_cum - before_q)[last_pair_of_lvl]
        rho_lvl = (rho_cum - before_rho)[last_pair_of_lvl]
        stop |= reduction.close_bound(q_lvl, rho_lvl, c[new_lvl], lvl_cost) >= \
            reduction.threshold
    stop[np.append(first_lvl_of_col[1:], n_lvl) - 1] = True  # last level of each column
    lvl_index = np.arange(n_lvl)
    first_stop = np.minimum.reduceat(np.where(stop, lvl_index, n_lvl), first_lvl_of_col)
    used = lvl_index <= first_stop[col_of_lvl]
    has_z = lvl_index < first_stop[col_of_lvl]
    row_of_lvl = np.full(n_lvl, -1, dtype=np.int64)
    row_of_lvl[used] = mip.add_rows(int(used.sum()),
                                    ub=np.where(new_col[new_lvl], -1.0, 0.0)[used])
    z_lvl = np.flatnonzero(has_z)
    gaps = np.zeros(n_lvl)
    gaps[:-1] = lvl_cost[1:] - lvl_cost[:-1]
    z = mip.add_vars(z_lvl.size, ub=1.0, obj=gaps[z_lvl])
    mip.offset += float(lvl_cost[first_lvl_of_col].sum())
    # row of level k: z^{k-1} - z^k - sum_{sites at level k} y <= 0, with z^{-1} = 1 on the rhs
    pair_used = used[lvl_of_pair]
    mip.add_terms(row_of_lvl[lvl_of_pair[pair_used]], y[r[pair_used]], -1.0)
    mip.add_terms(row_of_lvl[z_lvl], z, -1.0)
    mip.add_terms(row_of_lvl[z_lvl + 1], z, 1.0)
    return int(n_lvl - used.sum())


__all__ = ["add_radius", "mip_fits", "mip_pairs_within", "solve_mip"]
