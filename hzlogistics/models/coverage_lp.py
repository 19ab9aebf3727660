"""The LP relaxations of the coverage model and the bounds that need no solver.

The coverage model (:func:`~hzlogistics.models.coverage.solve_coverage`)
proves the quality of its plans with these relaxations, solved by the one LP
runner (:func:`~hzlogistics.solvers.lp.lp_bound`), which certifies the bound
through the duals:

- :func:`coverage_lp` is the full LP relaxation (a column per site option and
  per class, or per covered pair with capacity), the site-side constraints as
  the rows of :func:`~hzlogistics.solvers.sites.site_rows`;
- :func:`aggregate_lp` is a small relaxation of the capacitated model: totals
  per site and value level instead of flows, bounded per connected part of
  the coverage graph;
- :func:`trivial_bound` bounds the optimum without any solver.

:class:`CoverageLp` reads an LP solution back: the area of each site and the
shadow prices that rank the greedy's moves (:meth:`CoverageLp.move_price`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.capacity import Capacity
from hzlogistics.solvers.heuristic import MovePrice
from hzlogistics.solvers.lp import LinearProgram
from hzlogistics.solvers.sites import SiteTable, site_rows


@dataclass
class CoverageLp:
    """The LP relaxation of the coverage model and how to read its rows and columns.

    Attributes
    ----------
    lp
        The linear program.
    opt_site, opt_area
        Site and area of each option column ``y`` (columns ``0..n_opts-1``).
    n_opts
        Number of option columns.
    row_names
        Name of the constraint of each row (see :class:`SiteRows`; the demand
        rows are ``"cover"``, ``"open"``, ``"class weight"`` and ``"capacity"``).
    """

    lp: LinearProgram
    opt_site: np.ndarray
    opt_area: np.ndarray
    n_opts: int
    row_names: np.ndarray

    def site_area(self, x: np.ndarray, n_sites: int) -> np.ndarray:
        """Fractional area of every site in an LP solution ``x``."""
        return np.bincount(self.opt_site, weights=x[: self.n_opts] * self.opt_area,
                           minlength=n_sites)

    def price(self, duals: np.ndarray, name: str) -> float:
        """Shadow price of a one-row upper-limit constraint (0 if absent or slack)."""
        rows = np.flatnonzero(self.row_names == name)
        if rows.size == 0:
            return 0.0
        return float(max(0.0, duals[rows[0]]))

    def move_price(self, table: SiteTable, duals: np.ndarray) -> MovePrice:
        """Resource prices of the upper limits for the greedy, from the LP's duals.

        Per m² of site ``i``: the prices of the area budget, of the rent cap
        (times the site's rent) and of its group's area maximum; per opened
        site: the prices of ``count_max`` and of its group's count maximum.
        """
        g_area = np.array([self.price(duals, f"{name} area_max") for name in table.group_names])
        g_count = np.array([self.price(duals, f"{name} count_max") for name in table.group_names])
        area = (self.price(duals, "area budget")
                + self.price(duals, "rent cap") * table.rent_usd_m2_year
                + (g_area[table.group] if table.n_groups else 0.0))
        opened = self.price(duals, "count_max") + (g_count[table.group] if table.n_groups
                                                   else 0.0)
        return MovePrice(area=np.broadcast_to(area, (table.n_sites,)).astype(float),
                         open=np.broadcast_to(opened, (table.n_sites,)).astype(float))


def coverage_lp(
    table: SiteTable,
    cover: sp.csr_matrix,
    weight: np.ndarray,
    value: np.ndarray,
    *,
    capacity: Capacity | float | None = None,
) -> CoverageLp:
    """The LP relaxation of the coverage model.

    Columns: ``y_k`` in [0, 1] for every allowed (site, area) option ``k``,
    then either (without capacity) ``o_i`` in [0, 1] the open share of site
    ``i`` and ``z_c`` in [0, 1] the served share of class ``c``, or (with
    capacity) ``x_e`` in [0, w_c] the flow of every covered pair ``e = (i, c)``.

    Rows: the site rows (:func:`site_rows`), then without capacity
    ``o_i = sum_k y_k`` and ``z_c <= sum_{i covers c} o_i``; with capacity
    ``sum_i x_ic <= w_c`` and ``sum_c x_ic <= sum_k cap_k y_k`` (``cap_k`` the
    capacity of option ``k``; an option without a capacity limit makes the
    site's row ``x_ic <= w_c sum_k y_k`` instead).

    Parameters
    ----------
    table
        The site-side constraints.
    cover
        ``(n_sites, n_classes)`` coverage.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel of each class.
    capacity
        Site capacities or parcels/day per m² (``None``: no capacity).

    Returns
    -------
    CoverageLp
    """
    cover = sp.csr_matrix(cover, dtype=float)
    cover.sort_indices()
    n, m = cover.shape
    weight = np.asarray(weight, dtype=float)
    value = np.asarray(value, dtype=float)
    rows = site_rows(table)
    opt_site, opt_area = rows.opt_site, rows.opt_area
    n_opts = opt_site.size
    opts = np.arange(n_opts)
    if capacity is None:
        n_cols = n_opts + n + m
        c = np.concatenate([np.zeros(n_opts + n), weight * value])
        col_hi = np.ones(n_cols)
        S = sp.csr_matrix((np.ones(n_opts), (opt_site, opts)), shape=(n, n_opts))
        # o_i - sum_k y_k = 0
        link = sp.hstack([-S, sp.identity(n), sp.csr_matrix((n, m))])
        # z_c - sum_{i covers c} o_i <= 0
        cov = sp.hstack([sp.csr_matrix((m, n_opts)), -cover.T, sp.identity(m)])
        demand = sp.vstack([link, cov])
        d_lo = np.concatenate([np.zeros(n), np.full(m, -np.inf)])
        d_hi = np.zeros(n + m)
        d_names = np.array(["open"] * n + ["cover"] * m, dtype=object)
    else:
        site_of_pair = np.repeat(np.arange(n), np.diff(cover.indptr))
        n_pairs = cover.nnz
        pairs = np.arange(n_pairs)
        n_cols = n_opts + n_pairs
        c = np.concatenate([np.zeros(n_opts), value[cover.indices]])
        col_hi = np.concatenate([np.ones(n_opts), weight[cover.indices]])
        # sum_i x_ic <= w_c
        cls = sp.csr_matrix((np.ones(n_pairs), (cover.indices, n_opts + pairs)),
                            shape=(m, n_cols))
        # sum_c x_ic - sum_k cap_k y_k <= 0 (capped sites); x_ic - w_c sum_k y_k <= 0 (others)
        cap_k = Capacity.coerce(capacity).options(opt_site, opt_area)
        unlimited = np.zeros(n, dtype=bool)
        unlimited[opt_site[~np.isfinite(cap_k)]] = True
        limited_pair = ~unlimited[site_of_pair]
        limited_opt = ~unlimited[opt_site]
        r = np.concatenate([site_of_pair[limited_pair], opt_site[limited_opt]])
        k = np.concatenate([n_opts + pairs[limited_pair], opts[limited_opt]])
        vals = np.concatenate([np.ones(int(limited_pair.sum())), -cap_k[limited_opt]])
        cap = sp.csr_matrix((vals, (r, k)), shape=(n, n_cols))[~unlimited[:n]] \
            if n else sp.csr_matrix((0, n_cols))
        free = np.flatnonzero(~limited_pair)
        if free.size:
            S_opt = sp.csr_matrix((np.ones(n_opts), (opt_site, opts)), shape=(n, n_cols))
            per_pair = sp.csr_matrix((np.ones(free.size), (np.arange(free.size),
                                                           n_opts + free)),
                                     shape=(free.size, n_cols))
            per_pair = per_pair - sp.diags(weight[cover.indices[free]]) @ S_opt[site_of_pair[free]]
            cap = sp.vstack([cap, per_pair])
        demand = sp.vstack([cls, cap]).tocsr()
        d_lo = np.full(demand.shape[0], -np.inf)
        d_hi = np.concatenate([weight, np.zeros(cap.shape[0])])
        d_names = np.array(["class weight"] * m + ["capacity"] * cap.shape[0], dtype=object)
    site_part = sp.hstack([rows.A, sp.csr_matrix((rows.A.shape[0], n_cols - n_opts))])
    A = sp.vstack([site_part, demand]).tocsr()
    lp = LinearProgram(c=c, A=A, row_lo=np.concatenate([rows.lo, d_lo]),
                       row_hi=np.concatenate([rows.hi, d_hi]),
                       col_lo=np.zeros(n_cols), col_hi=col_hi)
    return CoverageLp(lp=lp, opt_site=opt_site, opt_area=opt_area, n_opts=n_opts,
                      row_names=np.concatenate([rows.names, d_names]))


def trivial_bound(cover: sp.csr_matrix, weight: np.ndarray, value: np.ndarray, *,
                  table: SiteTable | None = None,
                  capacity: Capacity | float | None = None) -> float:
    """A bound that needs no solver: the value of all covered demand (and, with
    capacity, of all the area the budget and the sites allow, at the best value).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> trivial_bound(sp.csr_matrix([[1, 0, 0]]), np.array([2., 3., 4.]), np.ones(3))
    2.0
    """
    covered = np.asarray(sp.csr_matrix(cover).sum(axis=0)).ravel() > 0
    w = np.asarray(weight, dtype=float)
    v = np.asarray(value, dtype=float)
    b = float(np.sum(w[covered] * v[covered]))
    if capacity is not None and table is not None:
        cap = Capacity.coerce(capacity)
        vmax = float(v.max(initial=0.0))
        if cap.per_m2 is not None:
            area = min(table.area_budget_m2, float(table.top_area_m2.sum()))
            b = min(b, cap.per_m2 * area * vmax)
        if cap.per_site is not None:
            top = cap.sites(table.top_area_m2)
            b = min(b, float(np.sum(np.sort(top)[::-1][:table.count_max])) * vmax)
    return b


def aggregate_lp(
    table: SiteTable,
    cover: sp.csr_matrix,
    weight: np.ndarray,
    value: np.ndarray,
    capacity: Capacity | float,
    *,
    max_levels: int = 8,
) -> CoverageLp:
    r"""A small relaxation of the capacitated coverage LP: no flows, only totals.

    Instead of a flow per covered pair it keeps, for every site ``i`` and
    value level ``l``, the parcels ``s_il`` served, bounded by what the site
    reaches (``W_il``, only if open) and by its capacity, and for every
    connected part ``q`` of the coverage graph (a country, or a cross-border
    group) by the demand there (``W_ql``):

    .. math::

        \max \sum_{i,l} v_l s_{il} \quad\text{s.t.}\quad
        s_{il} \le W_{il} \sum_k y_{ik}, \quad
        \sum_l s_{il} \le \sum_k cap_k y_{ik}, \quad
        \sum_{i \in q} s_{il} \le W_{ql},

    plus the site rows. Any plan with its flows gives a solution of the same
    value, so the LP optimum bounds the coverage optimum; it has
    ``n_opts + n_sites × n_levels`` columns whatever the number of covered
    pairs, and is tight when capacity binds and waste comes from sites with
    too little demand within reach. Values are rounded *up* to at most
    ``max_levels`` levels (still a valid bound).

    Parameters
    ----------
    table
        The site-side constraints.
    cover
        ``(n_sites, n_classes)`` coverage.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel.
    capacity
        Site capacities or parcels/day per m².
    max_levels
        Most value levels kept.

    Returns
    -------
    CoverageLp
    """
    cover = sp.csr_matrix(cover, dtype=float)
    n, m = cover.shape
    weight = np.asarray(weight, dtype=float)
    levels, lev = value_levels(np.asarray(value, dtype=float), max_levels)
    L = levels.size
    rows = site_rows(table)
    opt_site, opt_area = rows.opt_site, rows.opt_area
    n_opts = opt_site.size
    opts = np.arange(n_opts)
    onehot = sp.csr_matrix((weight, (np.arange(m), lev)), shape=(m, L))
    W_site = (cover @ onehot).toarray()  # (n, L)
    site_q, class_q, Q = coverage_parts(cover)
    W_comp = np.zeros((Q, L))
    np.add.at(W_comp, (class_q, lev), weight)
    si, li = np.nonzero(W_site > 0)
    n_s = si.size
    n_cols = n_opts + n_s
    s_cols = n_opts + np.arange(n_s)
    c = np.concatenate([np.zeros(n_opts), levels[li]])
    col_hi = np.concatenate([np.ones(n_opts), W_site[si, li]])
    S_opt = sp.csr_matrix((np.ones(n_opts), (opt_site, opts)), shape=(n, n_cols))
    # s_il - W_il sum_k y_ik <= 0
    link = (sp.csr_matrix((np.ones(n_s), (np.arange(n_s), s_cols)), shape=(n_s, n_cols))
            - sp.diags(W_site[si, li]) @ S_opt[si])
    blocks = [link]
    names = ["open"] * n_s
    hi = [np.zeros(n_s)]
    # sum_l s_il - sum_k cap_k y_ik <= 0 where capacity is finite
    cap_rows = _site_capacity_rows(Capacity.coerce(capacity).options(opt_site, opt_area),
                                   opt_site, si, s_cols, n_cols, n)
    blocks.append(cap_rows)
    names += ["capacity"] * cap_rows.shape[0]
    hi.append(np.zeros(cap_rows.shape[0]))
    # sum_{i in q} s_il <= W_ql
    ql = site_q[si] * L + li
    comp_rows = sp.csr_matrix((np.ones(n_s), (ql, s_cols)), shape=(Q * L, n_cols))
    used = np.unique(ql)
    blocks.append(comp_rows[used])
    names += ["part demand"] * used.size
    hi.append(W_comp.ravel()[used])
    site_part = sp.hstack([rows.A, sp.csr_matrix((rows.A.shape[0], n_cols - n_opts))])
    demand = sp.vstack(blocks)
    A = sp.vstack([site_part, demand]).tocsr()
    hi_all = np.concatenate(hi)
    lp = LinearProgram(c=c, A=A, row_lo=np.concatenate([rows.lo, np.full(hi_all.size, -np.inf)]),
                       row_hi=np.concatenate([rows.hi, hi_all]),
                       col_lo=np.zeros(n_cols), col_hi=col_hi)
    return CoverageLp(lp=lp, opt_site=opt_site, opt_area=opt_area, n_opts=n_opts,
                      row_names=np.concatenate([rows.names,
                                                np.array(names, dtype=object)]))


def _site_capacity_rows(cap_k: np.ndarray, opt_site: np.ndarray, si: np.ndarray,
                        s_cols: np.ndarray, n_cols: int, n: int) -> sp.csr_matrix:
    """Rows ``sum_l s_il - sum_k cap_k y_ik <= 0`` of the sites whose capacity is finite."""
    opts = np.arange(opt_site.size)
    finite = np.isfinite(cap_k)
    capped = np.zeros(n, dtype=bool)
    capped[opt_site[finite]] = True
    capped[opt_site[~finite]] = False
    r = np.concatenate([si, opt_site[finite]])
    k = np.concatenate([s_cols, opts[finite]])
    vals = np.concatenate([np.ones(si.size), -cap_k[finite]])
    keep = capped[r]
    return sp.csr_matrix((vals[keep], (r[keep], k[keep])), shape=(n, n_cols))[capped]


def value_levels(value: np.ndarray, max_levels: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (rounded *up* to ``max_levels`` steps when more) and each one's level.

    Examples
    --------
    >>> levels, lev = value_levels(np.array([0.5, 1.0, 0.5]), 8)
    >>> levels.tolist(), lev.tolist()
    ([0.5, 1.0], [0, 1, 0])
    """
    levels, lev = np.unique(value, return_inverse=True)
    if levels.size > max_levels:
        value_up = np.ceil(value * max_levels - 1e-12) / max_levels
        levels, lev = np.unique(value_up, return_inverse=True)
    return levels, lev


def coverage_parts(cover: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, int]:
    """Connected parts of the coverage graph: part of every site, of every class, and their number.

    Examples
    --------
    >>> site_q, class_q, n_parts = coverage_parts(sp.csr_matrix([[1, 0], [0, 1]]))
    >>> site_q.tolist(), class_q.tolist(), n_parts
    ([0, 1], [0, 1], 2)
    """
    from scipy.sparse.csgraph import connected_components

    n = cover.shape[0]
    graph = sp.bmat([[None, cover], [cover.T, None]], format="csr")
    _, comp = connected_components(graph, directed=False)
    comps, comp_idx = np.unique(comp, return_inverse=True)
    return comp_idx[:n], comp_idx[n:], int(comps.size)
