"""Site capacity and the exact service of demand under it.

:class:`Capacity` states what a site handles (parcels/day per m² of floor
and/or a fixed number per site); :class:`CapacityFlow` serves demand exactly
for a given plan (the max-value flow under those capacities, OR-Tools'
min-cost flow), one connected part of the coverage at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hzlogistics.solvers.problem import SitingProblem


@dataclass(frozen=True)
class Capacity:
    """Parcels/day a site handles: ``min(per_m2 × area, per_site[i])``, 0 when closed.

    Attributes
    ----------
    per_m2
        Parcels/day per m² of floor (``None``: area does not limit).
    per_site
        ``(n_sites,)`` parcels/day each site handles whatever its area
        (``None``: no such limit).

    Examples
    --------
    >>> Capacity(per_m2=10.0, per_site=np.array([500.0, np.inf])).sites(np.array([100., 0.]))
    array([500.,   0.])
    """

    per_m2: float | None = None
    per_site: np.ndarray | None = None

    @classmethod
    def of_problem(cls, problem: SitingProblem) -> Capacity | None:
        """The capacity of ``problem``, or ``None`` when sites have none."""
        per_site = getattr(problem, "site_capacity", None)
        if problem.capacity_per_m2 is None and per_site is None:
            return None
        return cls(per_m2=None if problem.capacity_per_m2 is None
                   else float(problem.capacity_per_m2),
                   per_site=None if per_site is None else np.asarray(per_site, dtype=float))

    @classmethod
    def coerce(cls, capacity: Capacity | float) -> Capacity:
        """A :class:`Capacity` from itself or from a number of parcels/day per m²."""
        return capacity if isinstance(capacity, Capacity) else cls(per_m2=float(capacity))

    def site(self, i: int, area_m2: float | np.ndarray) -> float | np.ndarray:
        """Capacity of site ``i`` at one or several areas."""
        if self.per_site is None and self.per_m2 is not None and isinstance(area_m2, float):
            return area_m2 * self.per_m2 if area_m2 > 0 else 0.0
        a = np.asarray(area_m2, dtype=float)
        cap = a * self.per_m2 if self.per_m2 is not None else np.where(a > 0, np.inf, 0.0)
        if self.per_site is not None:
            cap = np.minimum(cap, self.per_site[i])
        cap = np.where(a > 0, cap, 0.0)
        return float(cap) if cap.ndim == 0 else cap

    def sites(self, area_m2: np.ndarray) -> np.ndarray:
        """Capacity of every site of a plan."""
        a = np.asarray(area_m2, dtype=float)
        cap = a * self.per_m2 if self.per_m2 is not None else np.where(a > 0, np.inf, 0.0)
        if self.per_site is not None:
            cap = np.minimum(cap, self.per_site)
        return np.where(a > 0, cap, 0.0)

    def options(self, opt_site: np.ndarray, opt_area: np.ndarray) -> np.ndarray:
        """Capacity of every (site, area) option."""
        a = np.asarray(opt_area, dtype=float)
        cap = a * self.per_m2 if self.per_m2 is not None else np.full(a.shape, np.inf)
        if self.per_site is not None:
            cap = np.minimum(cap, self.per_site[opt_site])
        return cap



#: Fewest covered pairs of a block of :class:`CapacityFlow`: smaller connected
#: parts of the coverage share a block (and one flow solve).
MIN_BLOCK_PAIRS = 20_000


class CapacityFlow:
    """Serve demand exactly for a given plan: the max-value flow under capacities.

    Sites send at most their capacity (:class:`Capacity`) to the classes
    they cover; each class takes at most its weight; the flow of largest
    total value is found with OR-Tools' min-cost flow (a maximum flow of
    least cost with cost ``-value``: with positive values the most valuable
    flow is a maximum flow, since the servable demand forms a matroid).
    Weights and capacities are floored to multiples of ``1 / scale`` so that
    the flow never exceeds the real ones.

    The coverage splits into connected parts (the countries, on the built-in
    data) that share no site and no class; each block of parts has its own
    flow network, and :meth:`solve` solves again only the blocks whose site
    capacities changed since the last call, so a local search that moves a
    few sites pays for the parts it touched.

    Parameters
    ----------
    cover
        ``(n_sites, n_classes)`` CSR coverage.
    weight, value
        ``(n_classes,)`` parcels/day and value per parcel.
    capacity
        Site capacities (or parcels/day per m²).
    scale
        Integer units per parcel/day.
    """

    def __init__(self, cover: sp.csr_matrix, weight: np.ndarray, value: np.ndarray,
                 capacity: Capacity | float, *, scale: float = 1000.0) -> None:
        cover = sp.csr_matrix(cover)
        cover.sort_indices()
        self.cover = cover
        self.capacity = Capacity.coerce(capacity)
        self.scale = float(scale)
        self.weight = np.asarray(weight, dtype=float)
        self.value = np.asarray(value, dtype=float)
        self.n, self.m = cover.shape
        w_int = np.floor(self.weight * self.scale + 1e-9).astype(np.int64)
        uniq = np.unique(self.value)
        v_int = np.round(self.value * (1e6 / max(uniq.max(initial=1.0), 1e-12))).astype(np.int64)
        pair_site = np.repeat(np.arange(self.n), np.diff(cover.indptr))
        self._blocks = [_FlowBlock(cover, pair_site, sites, w_int, v_int)
                        for sites in _blocks_of(cover)]
        self._flow = np.zeros(cover.nnz)

    def capacity_units(self, area_m2: np.ndarray) -> np.ndarray:
        """Integer capacity of every site for a plan."""
        cap = np.minimum(self.capacity.sites(area_m2), float(self.weight.sum()) * 2 + 1)
        return np.floor(cap * self.scale + 1e-9).astype(np.int64)

    def solve(self, area_m2: np.ndarray) -> tuple[float, sp.csr_matrix]:
        """Exact served value and flows of a plan.

        Returns
        -------
        objective : float
            Total value served (parcels/day × value).
        flows : scipy.sparse.csr_matrix
            ``(n_sites, n_classes)`` parcels/day from each site to each class.
        """
        units = self.capacity_units(area_m2)
        for block in self._blocks:
            got = block.solve(units)
            if got is not None:
                self._flow[block.pairs] = got / self.scale
        flows = sp.csr_matrix((self._flow.copy(), self.cover.indices.copy(),
                               self.cover.indptr.copy()), shape=(self.n, self.m))
        flows.eliminate_zeros()
        served = np.asarray(flows.sum(axis=0)).ravel()
        return float(served @ self.value), flows


def _blocks_of(cover: sp.csr_matrix) -> list[np.ndarray]:
    """The sites of each block: connected parts of the coverage, small ones together."""
    from scipy.sparse.csgraph import connected_components

    n = cover.shape[0]
    graph = sp.bmat([[None, cover.astype(bool)], [cover.T.astype(bool), None]], format="csr")
    _, label = connected_components(graph, directed=False)
    site_label = label[:n]
    pairs = np.bincount(site_label, weights=np.diff(cover.indptr), minlength=label.max() + 1)
    order = np.argsort(site_label, kind="stable")
    cuts = np.flatnonzero(np.diff(site_label[order])) + 1
    blocks: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    pending_pairs = 0.0
    for sites in np.split(order, cuts) if n else []:
        part = site_label[sites[0]]
        if pairs[part] >= MIN_BLOCK_PAIRS:
            blocks.append(sites)
            continue
        pending.append(sites)
        pending_pairs += pairs[part]
        if pending_pairs >= MIN_BLOCK_PAIRS:
            blocks.append(np.concatenate(pending))
            pending, pending_pairs = [], 0.0
    if pending:
        blocks.append(np.concatenate(pending))
    return blocks


class _FlowBlock:
    """The flow network of some sites and the classes they cover, solved on demand."""

    def __init__(self, cover: sp.csr_matrix, pair_site: np.ndarray, sites: np.ndarray,
                 w_int: np.ndarray, v_int: np.ndarray) -> None:
        from ortools.graph.python import min_cost_flow

        self.sites = np.sort(sites)
        sub = cover[self.sites]
        self.pairs = np.flatnonzero(np.isin(pair_site, self.sites))  # in site order, as sub
        classes, local = np.unique(sub.indices, return_inverse=True)
        n, m = self.sites.size, classes.size
        self.src, self.sink = n + m, n + m + 1
        rows = np.searchsorted(self.sites, pair_site[self.pairs])
        tails = np.concatenate([np.full(n, self.src), rows, n + np.arange(m)])
        heads = np.concatenate([np.arange(n), n + local, np.full(m, self.sink)])
        caps = np.concatenate([np.zeros(n, dtype=np.int64), w_int[classes[local]],
                               w_int[classes]])
        self.units: np.ndarray | None = None
        self._mcf = min_cost_flow.SimpleMinCostFlow()
        costs = np.concatenate([np.zeros(n + local.size, dtype=np.int64), -v_int[classes]])
        arcs = self._mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        total = int(w_int[classes].sum())
        self._mcf.set_node_supply(self.src, total)
        self._mcf.set_node_supply(self.sink, -total)
        self._site_arcs = arcs[:n]
        self._pair_arcs = arcs[n:n + local.size]

    def solve(self, units: np.ndarray) -> np.ndarray | None:
        """Integer flow of every pair of the block; ``None`` when its capacities are unchanged."""
        mine = units[self.sites]
        if self.units is not None and np.array_equal(mine, self.units):
            return None
        self._mcf.set_arc_capacities(self._site_arcs, mine)
        status = self._mcf.solve_max_flow_with_min_cost()
        if status != self._mcf.OPTIMAL:  # pragma: no cover - the network is always well formed
            from hzlogistics._errors import SolverError

            raise SolverError(f"min-cost flow failed with status {status}")
        flows = self._mcf.flows(self._pair_arcs)
        self.units = mine.copy()
        return np.asarray(flows, dtype=float)
