"""Large-neighbourhood search for capacitated coverage: a few sites at a time, solved exactly.

The local search (:func:`~hzlogistics.solvers.local_search.rebalance_search`)
moves area one greedy step at a time. Where both the area budget and the site
count bind, the better plans often differ from its own in several sites at
once: one large site becomes two small ones, and a third moves to where the
demand of the first two now waits. :class:`NeighbourhoodSearch` frees a
neighbourhood of sites and solves their sizes exactly:

1. a seed site is drawn among the open sites, more often where the demand they
   reach is not all served;
2. the neighbourhood is the seed and the ``size`` sites that share the most
   demand classes with it, open or closed;
3. the sites outside keep their areas and their flows; what they leave of each
   class is the demand the neighbourhood may serve;
4. the neighbourhood's MIP (:func:`~hzlogistics.models.coverage_groups.pair_lp`,
   with every pair row) chooses their sizes within what the rest of the plan
   leaves of the area budget, the site counts, the quotas and the rent cap,
   starting from their current sizes;
5. a plan that serves more is kept, its value counted exactly again by the
   flow (:class:`~hzlogistics.solvers.capacity.CapacityFlow`).

The search ends on its time limit, or once as many neighbourhoods in a row as
there are open sites (at least ``NEIGHBOURHOOD_PATIENCE``) bring nothing. The
coverage model runs it on the models small enough for CP-SAT
(:func:`~hzlogistics.models.coverage.solve_coverage`), and the plan it ends with
is where HiGHS (:func:`~hzlogistics.models.coverage_groups.pair_mip`) starts.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from hzlogistics.models.coverage_groups import pair_hint, pair_lp
from hzlogistics.solvers.capacity import Capacity, CapacityFlow
from hzlogistics.solvers.sites import SiteTable, plan_violations

logger = logging.getLogger(__name__)

__all__ = ["NeighbourhoodSearch"]

#: Sites of a neighbourhood besides its seed.
NEIGHBOURHOOD_SITES = 40

#: Time limit of one neighbourhood's MIP, seconds.
NEIGHBOURHOOD_MIP_S = 2.0

#: Fewest neighbourhoods in a row without a better plan before the search ends.
NEIGHBOURHOOD_PATIENCE = 10


class NeighbourhoodSearch:
    """Improve plans of the capacitated coverage model, one neighbourhood MIP at a time.

    Parameters
    ----------
    table
        The site-side constraints.
    flow
        The exact evaluator of the model (its coverage, weights, values, capacity).
    seed
        Seed of the draws of the seed sites.
    size
        Sites of a neighbourhood besides its seed.
    mip_s
        Time limit of one neighbourhood's MIP.

    Examples
    --------
    Two sites reach one class of 10 parcels/day; 100 m² handles 8 of them and
    the budget allows 200 m² in all. The plan that opens only site 0 at 100 m²
    serves 8; the search opens site 1 as well:

    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem
    >>> from hzlogistics.solvers.sites import site_table
    >>> problem = SitingProblem(cover=sp.csr_matrix(np.ones((2, 1))), weight=np.array([10.0]),
    ...                         tiers_m2=np.array([100.0]), area_budget_m2=200.0,
    ...                         capacity_per_m2=0.08)
    >>> flow = CapacityFlow(problem.cover, problem.weight, np.ones(1), 0.08)
    >>> search = NeighbourhoodSearch(site_table(problem), flow)
    >>> plan = np.array([100.0, 0.0])
    >>> obj, flows = flow.solve(plan)
    >>> new, new_obj, _ = search.improve(plan, obj, flows, time_limit_s=5.0)
    >>> new.tolist(), round(new_obj, 6)
    ([100.0, 100.0], 10.0)
    """

    def __init__(self, table: SiteTable, flow: CapacityFlow, *, seed: int = 0,
                 size: int = NEIGHBOURHOOD_SITES, mip_s: float = NEIGHBOURHOOD_MIP_S) -> None:
        self.table, self.flow = table, flow
        self.cover = sp.csr_matrix(flow.cover, dtype=float)
        self.cover.sort_indices()
        self.cover_t = self.cover.T.tocsr()
        self.size, self.mip_s = int(size), float(mip_s)
        self.rng = np.random.default_rng(seed)
        self.tried = 0
        self.kept = 0

    def improve(self, area_m2: np.ndarray, objective: float, flows: sp.csr_matrix, *,
                time_limit_s: float, stop: Callable[[], bool] | None = None,
                on_improve: Callable[[float, np.ndarray], None] | None = None,
                ) -> tuple[np.ndarray, float, sp.csr_matrix]:
        """Re-solve neighbourhoods of a feasible plan until the time is up or none helps.

        Parameters
        ----------
        area_m2
            A feasible plan.
        objective, flows
            Its exact value and flows (:meth:`CapacityFlow.solve`).
        time_limit_s
            Seconds to spend.
        stop
            Checked before each neighbourhood: when it returns True the search ends.
        on_improve
            Called with ``(objective, plan)`` on every improvement.

        Returns
        -------
        plan : numpy.ndarray
        objective : float
        flows : scipy.sparse.csr_matrix
            The best plan found (``area_m2`` itself when none serves more), its
            value and flows.
        """
        deadline = time.perf_counter() + time_limit_s
        area = np.asarray(area_m2, dtype=float)
        flows = sp.csr_matrix(flows)
        idle = 0  # neighbourhoods in a row without a better plan
        while (time.perf_counter() < deadline - 0.05 and not (stop is not None and stop())
               and idle < max(NEIGHBOURHOOD_PATIENCE, int(np.count_nonzero(area)))):
            left = deadline - time.perf_counter()
            new = self._step(area, flows, min(self.mip_s, left))
            self.tried += 1
            idle += 1
            if new is None:
                continue
            new_obj, new_flows = self.flow.solve(new)
            if new_obj > objective * (1 + 1e-12) + 1e-9:
                area, objective, flows = new, new_obj, new_flows
                self.kept += 1
                idle = 0
                if on_improve is not None:
                    on_improve(objective, area)
        # leave the evaluator's cache on the plan returned
        self.flow.solve(area)
        return area, objective, flows

    def _draw_seed(self, area: np.ndarray, flows: sp.csr_matrix) -> int | None:
        """An open site, drawn with weight 1 + the value of unserved demand it reaches."""
        opened = np.flatnonzero(area > 0)
        if opened.size == 0:
            return None
        served = np.asarray(flows.sum(axis=0)).ravel()
        unserved = np.maximum(self.flow.weight - served, 0.0) * self.flow.value
        score = np.asarray(self.cover[opened] @ unserved).ravel()
        score = 1e-3 * max(float(score.max()), 1.0) + score
        return int(self.rng.choice(opened, p=score / score.sum()))

    def _neighbourhood(self, seed: int, area: np.ndarray) -> np.ndarray:
        """The seed and the ``size`` sites that share the most classes with it."""
        shared = (self.cover[seed] @ self.cover_t).tocsr()
        others = shared.indices[shared.indices != seed]
        counts = shared.data[shared.indices != seed]
        near = others[np.argsort(-counts, kind="stable")]
        near = near[self.table.can_open[near] | (area[near] > 0)][: self.size]
        return np.sort(np.concatenate([[seed], near]))

    def _step(self, area: np.ndarray, flows: sp.csr_matrix, mip_s: float) -> np.ndarray | None:
        """One neighbourhood: a plan that serves more by its MIP, or ``None``."""
        from hzlogistics.solvers.mip import solve_integer_program

        seed = self._draw_seed(area, flows)
        if seed is None:
            return None
        hood = self._neighbourhood(seed, area)
        inside = np.zeros(self.table.n_sites, dtype=bool)
        inside[hood] = True
        left = np.maximum(self.flow.weight
                          - np.asarray(flows[~inside].sum(axis=0)).ravel(), 0.0)
        classes = np.flatnonzero((np.asarray(self.cover[hood].sum(axis=0)).ravel() > 0)
                                 & (left > 1e-9 * np.maximum(self.flow.weight, 1.0)))
        if classes.size == 0:
            return None
        cover = sp.csr_matrix(self.cover[hood][:, classes])
        cover.sort_indices()
        cap = self.flow.capacity
        sub_cap = Capacity(per_m2=cap.per_m2,
                           per_site=None if cap.per_site is None else cap.per_site[hood])
        group = pair_lp(hood, _rest_table(self.table, area, hood), cover, left[classes],
                        self.flow.value[classes], sub_cap)
        group.cut[:] = True
        lp = group.with_cuts()
        n_opts = group.n_opts
        # the current plan as a start: its options and its flows
        hint = pair_hint(group, area[hood], flows[hood][:, classes])
        current_value = float(hint[n_opts:] @ lp.c[n_opts:])
        integer = np.zeros(lp.c.size, dtype=bool)
        integer[:n_opts] = True
        out = solve_integer_program(lp, integer, time_limit_s=mip_s, gap=1e-6, hint=hint)
        if out.values is None or out.objective <= current_value * (1 + 1e-9) + 1e-9:
            return None
        y = np.round(out.values[:n_opts])
        new = area.copy()
        new[hood] = np.asarray(group.option_of_site @ (y * group.opt_area)).ravel()
        if plan_violations(self.table, new):
            logger.debug("neighbourhood of site %d broke a limit; plan dropped", seed)
            return None
        return new


def _rest_table(table: SiteTable, area: np.ndarray, hood: np.ndarray) -> SiteTable:
    """The site table of the sites ``hood`` with the limits the rest of the plan leaves them."""
    rest = np.ones(table.n_sites, dtype=bool)
    rest[hood] = False
    a = np.where(rest, area, 0.0)
    opened = a > 0
    n_groups = table.n_groups
    g_count = np.bincount(table.group[opened], minlength=n_groups)
    g_area = np.bincount(table.group, weights=a, minlength=n_groups)
    n_open = int(opened.sum())
    return dataclasses.replace(
        table, areas=tuple(table.areas[i] for i in hood), forced=table.forced[hood],
        forbidden=table.forbidden[hood], existing_m2=table.existing_m2[hood],
        max_area_m2=table.max_area_m2[hood], rent_usd_m2_year=table.rent_usd_m2_year[hood],
        group=table.group[hood], area_budget_m2=table.area_budget_m2 - float(a.sum()),
        count_min=max(0, table.count_min - n_open),
        count_max=min(max(0, table.count_max - n_open), int(hood.size)),
        group_count_min=np.maximum(table.group_count_min - g_count, 0),
        group_count_max=np.maximum(table.group_count_max - g_count, 0),
        group_area_min_m2=np.maximum(table.group_area_min_m2 - g_area, 0.0),
        group_area_max_m2=np.maximum(table.group_area_max_m2 - g_area, 0.0),
        rent_cap_usd_year=table.rent_cap_usd_year - float(a @ table.rent_usd_m2_year),
        site_ids=table.site_ids[hood])
