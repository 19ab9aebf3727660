"""The site side of every siting model: allowed sizes, counts, areas, quotas, rent.

:func:`site_table` turns a :class:`~hzlogistics.solvers.problem.SitingProblem`
into a :class:`SiteTable` with every default filled in (allowed areas of each
site, forced and forbidden sites, count, area, group and rent limits). Each
model states these constraints from here and nowhere else:

- :func:`site_rows` gives them as named linear rows over the option columns
  (one column per site and allowed area), for LP relaxations and MIPs;
- :func:`plan_violations` lists every constraint a plan breaks, with numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import SupportsIndex

import numpy as np
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.solvers.problem import SitingProblem

#: Relative tolerance when comparing areas, rents and loads.
TOL = 1e-9


def fmt(x: float, unit: str = "") -> str:
    """Format a number for a message: thousands separators, no useless decimals."""
    if x == int(x) and abs(x) < 1e15:
        s = f"{int(x):,}"
    else:
        s = f"{x:,.2f}"
    return f"{s} {unit}".rstrip() if unit else s


@dataclass
class SiteTable:
    """The site-side constraints of a siting problem, every default filled in.

    Attributes
    ----------
    areas
        One increasing array per site of the floor areas it may be given, m²
        (empty: the site cannot open). An existing site may keep its current
        area or grow to any larger tier; every area respects ``max_area_m2``.
    forced
        ``(n_sites,)`` bool: existing sites, which must stay open.
    forbidden
        ``(n_sites,)`` bool.
    existing_m2
        ``(n_sites,)`` current area (0 for new sites).
    max_area_m2
        ``(n_sites,)`` largest area allowed at each site (``inf`` = any tier).
    rent_usd_m2_year
        ``(n_sites,)`` yearly rent per m².
    group
        ``(n_sites,)`` group index of each site.
    group_names
        ``(n_groups,)`` names (``"group 3"`` where none was given).
    area_budget_m2
        Total area allowed (``inf`` = none).
    count_min, count_max
        Number of open sites allowed (``count_max`` is at most ``n_sites``).
    group_count_min, group_count_max
        ``(n_groups,)`` int.
    group_area_min_m2, group_area_max_m2
        ``(n_groups,)`` float (0 / ``inf`` where absent).
    rent_cap_usd_year
        Cap on total yearly rent (``inf`` = none).
    tiers_m2
        The size tiers of the problem.
    site_ids
        Labels of the sites (their index where none was given).
    """

    areas: tuple[np.ndarray, ...]
    forced: np.ndarray
    forbidden: np.ndarray
    existing_m2: np.ndarray
    max_area_m2: np.ndarray
    rent_usd_m2_year: np.ndarray
    group: np.ndarray
    group_names: tuple[str, ...]
    area_budget_m2: float
    count_min: int
    count_max: int
    group_count_min: np.ndarray
    group_count_max: np.ndarray
    group_area_min_m2: np.ndarray
    group_area_max_m2: np.ndarray
    rent_cap_usd_year: float
    tiers_m2: np.ndarray
    site_ids: np.ndarray

    @property
    def n_sites(self) -> int:
        """Number of candidate sites."""
        return len(self.areas)

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.group_names)

    @property
    def can_open(self) -> np.ndarray:
        """``(n_sites,)`` bool: the site has at least one allowed area."""
        return np.array([a.size > 0 for a in self.areas], dtype=bool)

    @property
    def min_area_m2(self) -> np.ndarray:
        """``(n_sites,)`` smallest allowed area (``inf`` where the site cannot open)."""
        return np.array([a[0] if a.size else np.inf for a in self.areas])

    @property
    def top_area_m2(self) -> np.ndarray:
        """``(n_sites,)`` largest allowed area (0 where the site cannot open)."""
        return np.array([a[-1] if a.size else 0.0 for a in self.areas])

    def site_label(self, i: SupportsIndex) -> str:
        """Label of site ``i`` for messages."""
        return str(self.site_ids[i])

    def option_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Flat ``(site, area)`` arrays of every allowed (site, area) option."""
        sites = np.repeat(np.arange(self.n_sites), [a.size for a in self.areas])
        areas = np.concatenate(self.areas) if self.n_sites else np.zeros(0)
        return sites, areas


def checked_vector(x: object, n: int, fill: float, name: str, problems: list[str],
                   dtype: type = float) -> np.ndarray:
    """An optional ``(n,)`` field of a problem as an array (``fill`` when absent or misshapen)."""
    if x is None:
        return np.full(n, fill, dtype=dtype)
    arr: np.ndarray = np.asarray(x, dtype=dtype)
    if arr.shape != (n,):
        problems.append(f"SitingProblem.{name}: shape {arr.shape}, expected ({n},)")
        return np.full(n, fill, dtype=dtype)
    return arr


def site_table(problem: SitingProblem) -> SiteTable:
    """Fill in the defaults of the site-side constraints of ``problem``.

    Parameters
    ----------
    problem
        The siting problem.

    Returns
    -------
    SiteTable

    Raises
    ------
    ValidationError
        When an array has the wrong shape or holds impossible values (negative
        areas, tiers that are not positive, ...); every problem is listed.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
    ...                   tiers_m2=np.array([100., 200.]), max_area_m2=np.array([150., np.inf]),
    ...                   existing_area_m2=np.array([0., 120.]))
    >>> [a.tolist() for a in site_table(p).areas]
    [[100.0], [120.0, 200.0]]
    """
    n = problem.n_sites
    problems: list[str] = []
    tiers = np.unique(np.asarray(problem.tiers_m2, dtype=float))
    if tiers.size == 0 or not np.all(np.isfinite(tiers)) or tiers[0] <= 0:
        problems.append(f"SitingProblem.tiers_m2: {np.asarray(problem.tiers_m2).tolist()}; "
                        "expected at least one finite tier > 0 m²")
        tiers = tiers[np.isfinite(tiers) & (tiers > 0)]
    max_area = checked_vector(problem.max_area_m2, n, np.inf, "max_area_m2", problems)
    existing = checked_vector(problem.existing_area_m2, n, 0.0, "existing_area_m2", problems)
    forbidden = checked_vector(problem.forbidden, n, False, "forbidden", problems, dtype=bool)
    rent = checked_vector(problem.rent_usd_m2_year, n, 0.0, "rent_usd_m2_year", problems)
    group = checked_vector(problem.group, n, 0, "group", problems, dtype=np.int64)
    for name, arr in (("max_area_m2", max_area), ("existing_area_m2", existing),
                      ("rent_usd_m2_year", rent)):
        bad = np.flatnonzero(~(arr >= 0))
        if bad.size:
            problems.append(f"SitingProblem.{name}: {bad.size} negative or NaN values "
                            f"(first at site {int(bad[0])}: {arr[bad[0]]}); expected >= 0")
    n_groups = max(len(problem.group_names), int(group.max()) + 1 if n else 0, 0)
    for name in ("group_count_min", "group_count_max", "group_area_min_m2", "group_area_max_m2"):
        arr = getattr(problem, name)
        if arr is not None:
            n_groups = max(n_groups, np.asarray(arr).shape[0])
    if n and group.min() < 0:
        problems.append("SitingProblem.group: negative group index; expected 0..n_groups-1")
    gcmin = checked_vector(problem.group_count_min, n_groups, 0, "group_count_min", problems,
                    dtype=np.int64)
    gcmax_f = checked_vector(problem.group_count_max, n_groups, np.inf, "group_count_max", problems)
    gamin = checked_vector(problem.group_area_min_m2, n_groups, 0.0, "group_area_min_m2", problems)
    gamax = checked_vector(problem.group_area_max_m2, n_groups, np.inf, "group_area_max_m2",
                           problems)
    budget = np.inf if problem.area_budget_m2 is None else float(problem.area_budget_m2)
    cap = np.inf if problem.rent_cap_usd_year is None else float(problem.rent_cap_usd_year)
    if problems:
        raise ValidationError(problems)
    gcmax = np.where(np.isfinite(gcmax_f), np.minimum(gcmax_f, n), n).astype(np.int64)
    names = list(problem.group_names) + [f"group {g}" for g in range(len(problem.group_names),
                                                                       n_groups)]
    count_max = n if problem.count_max is None else min(int(problem.count_max), n)
    areas: list[np.ndarray] = []
    for i in range(n):
        if forbidden[i]:
            areas.append(np.zeros(0))
            continue
        lim = max_area[i] * (1 + TOL)
        e = existing[i]
        if e > 0:
            larger = tiers[tiers > e * (1 + TOL)]
            opts = np.concatenate([[e], larger])
        else:
            opts = tiers
        areas.append(opts[opts <= lim].copy())
    ids = (np.asarray(problem.site_ids) if problem.site_ids is not None
           else np.arange(n))
    return SiteTable(
        areas=tuple(areas), forced=existing > 0, forbidden=forbidden, existing_m2=existing,
        max_area_m2=max_area, rent_usd_m2_year=rent, group=group, group_names=tuple(names),
        area_budget_m2=budget, count_min=int(problem.count_min), count_max=count_max,
        group_count_min=gcmin, group_count_max=gcmax, group_area_min_m2=gamin,
        group_area_max_m2=gamax, rent_cap_usd_year=cap, tiers_m2=tiers, site_ids=ids,
    )


def at_most(a: float, b: float) -> bool:
    """``a <= b`` up to a relative tolerance."""
    return a <= b + TOL * max(1.0, abs(b))


def plan_violations(table: SiteTable | SitingProblem, area_m2: np.ndarray) -> list[str]:
    """Every constraint a plan breaks, each with its numbers.

    Parameters
    ----------
    table
        The site-side constraints (or the problem they come from).
    area_m2
        ``(n_sites,)`` area of every site (0 = closed).

    Returns
    -------
    list of str
        Empty when the plan is feasible.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
    ...                   tiers_m2=np.array([100.]), area_budget_m2=150.0)
    >>> plan_violations(p, np.array([100., 100.]))
    ['total area 200 m² > area budget 150 m²']
    """
    t = table if isinstance(table, SiteTable) else site_table(table)
    a = np.asarray(area_m2, dtype=float)
    out: list[str] = []
    opened = a > 0
    for i in np.flatnonzero(opened):
        opts = t.areas[i]
        if not np.any(np.abs(opts - a[i]) <= TOL * max(1.0, a[i])):
            why = "forbidden" if t.forbidden[i] else f"allowed: {[fmt(x) for x in opts]}"
            out.append(f"site {t.site_label(i)} has area {fmt(a[i], 'm²')} ({why})")
    for i in np.flatnonzero(t.forced & ~opened):
        out.append(f"existing site {t.site_label(i)} ({fmt(t.existing_m2[i], 'm²')}) is closed")
    n_open = int(opened.sum())
    if n_open < t.count_min:
        out.append(f"{n_open} open sites < count_min {t.count_min}")
    if n_open > t.count_max:
        out.append(f"{n_open} open sites > count_max {t.count_max}")
    total = float(a.sum())
    if not at_most(total, t.area_budget_m2):
        out.append(f"total area {fmt(total, 'm²')} > area budget {fmt(t.area_budget_m2, 'm²')}")
    g_count = np.bincount(t.group[opened], minlength=t.n_groups)
    g_area = np.bincount(t.group, weights=a, minlength=t.n_groups)
    for g in range(t.n_groups):
        name = t.group_names[g]
        if g_count[g] < t.group_count_min[g]:
            out.append(f"{name} has {g_count[g]} sites < minimum {t.group_count_min[g]}")
        if g_count[g] > t.group_count_max[g]:
            out.append(f"{name} has {g_count[g]} sites > maximum {t.group_count_max[g]}")
        if not at_most(t.group_area_min_m2[g], g_area[g]):
            out.append(f"{name} has {fmt(g_area[g], 'm²')} < minimum "
                       f"{fmt(t.group_area_min_m2[g], 'm²')}")
        if not at_most(g_area[g], t.group_area_max_m2[g]):
            out.append(f"{name} has {fmt(g_area[g], 'm²')} > maximum "
                       f"{fmt(t.group_area_max_m2[g], 'm²')}")
    rent = float(a @ t.rent_usd_m2_year)
    if not at_most(rent, t.rent_cap_usd_year):
        out.append(f"yearly rent {fmt(rent, 'USD')} > rent cap {fmt(t.rent_cap_usd_year, 'USD')}")
    return out


@dataclass
class SiteRows:
    """The site-side constraints as LP rows over the option columns ``y``.

    Attributes
    ----------
    A
        ``(n_rows, n_opts)`` CSR.
    lo, hi
        Row limits (infinite where one-sided).
    names
        ``(n_rows,)`` name of the constraint each row belongs to: ``"site
        options"`` (at most one area per site), ``"keep existing sites"``,
        ``"count_min"``, ``"count_max"``, ``"area budget"``, ``"rent cap"``, and
        ``"<group> count_min"`` / ``count_max`` / ``area_min`` / ``area_max``
        (the names of :func:`~hzlogistics.solvers.cpsat.site_model`).
    opt_site, opt_area
        Site and area of every option column.
    """

    A: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    names: np.ndarray
    opt_site: np.ndarray
    opt_area: np.ndarray

    def select(self, keep: np.ndarray) -> SiteRows:
        """The rows where ``keep`` is true."""
        return SiteRows(self.A[keep], self.lo[keep], self.hi[keep], self.names[keep],
                        self.opt_site, self.opt_area)


def site_rows(table: SiteTable) -> SiteRows:
    """The site-side constraints of ``table`` as named LP rows.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> from hzlogistics.solvers.sites import site_table
    >>> p = SitingProblem(weight=np.ones(2), cover=sp.csr_matrix(np.eye(2)),
    ...                   tiers_m2=np.array([100., 200.]), count_min=1, area_budget_m2=250.)
    >>> site_rows(site_table(p)).names.tolist()
    ['site options', 'site options', 'count_min', 'area budget']
    """
    n = table.n_sites
    opt_site, opt_area = table.option_arrays()
    n_opts = opt_site.size
    opts = np.arange(n_opts)
    blocks: list[sp.csr_matrix] = []
    los: list[np.ndarray] = []
    his: list[np.ndarray] = []
    names: list[np.ndarray] = []

    def row(a: sp.spmatrix, lo: np.ndarray | float, hi: np.ndarray | float,
            name: np.ndarray | str) -> None:
        a = sp.csr_matrix(a)
        k = a.shape[0]
        blocks.append(a)
        los.append(np.broadcast_to(np.asarray(lo, dtype=float), (k,)))
        his.append(np.broadcast_to(np.asarray(hi, dtype=float), (k,)))
        names.append(np.broadcast_to(np.asarray(name, dtype=object), (k,)))

    S = sp.csr_matrix((np.ones(n_opts), (opt_site, opts)), shape=(n, n_opts))
    has = np.diff(S.indptr) > 0
    row(S[has], -np.inf, 1.0, "site options")
    if table.forced.any():
        row(S[table.forced], 1.0, np.inf, "keep existing sites")
    ones = sp.csr_matrix(np.ones((1, n_opts)))
    if table.count_min > 0:
        row(ones, table.count_min, np.inf, "count_min")
    if table.count_max < n:
        row(ones, -np.inf, table.count_max, "count_max")
    if np.isfinite(table.area_budget_m2):
        row(sp.csr_matrix(opt_area[None, :]), -np.inf, table.area_budget_m2, "area budget")
    if np.isfinite(table.rent_cap_usd_year):
        rent = opt_area * table.rent_usd_m2_year[opt_site]
        row(sp.csr_matrix(rent[None, :]), -np.inf, table.rent_cap_usd_year, "rent cap")
    g = table.group[opt_site]
    G1 = sp.csr_matrix((np.ones(n_opts), (g, opts)), shape=(table.n_groups, n_opts))
    GA = sp.csr_matrix((opt_area, (g, opts)), shape=(table.n_groups, n_opts))
    gnames = np.asarray(table.group_names, dtype=object)
    n_opts_g = np.bincount(table.group[has], minlength=table.n_groups)
    sel = table.group_count_min > 0
    row(G1[sel], table.group_count_min[sel], np.inf, gnames[sel] + " count_min")
    sel = table.group_count_max < n_opts_g
    row(G1[sel], -np.inf, table.group_count_max[sel], gnames[sel] + " count_max")
    sel = table.group_area_min_m2 > 0
    row(GA[sel], table.group_area_min_m2[sel], np.inf, gnames[sel] + " area_min")
    sel = np.isfinite(table.group_area_max_m2)
    row(GA[sel], -np.inf, table.group_area_max_m2[sel], gnames[sel] + " area_max")
    return SiteRows(A=sp.vstack(blocks).tocsr(), lo=np.concatenate(los),
                    hi=np.concatenate(his), names=np.concatenate(names).astype(object),
                    opt_site=opt_site, opt_area=opt_area)
