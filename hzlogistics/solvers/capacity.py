"""Site capacity and the exact service of demand under it.

:class:`Capacity` states what a site handles (parcels/day per m² of floor
and/or a fixed number per site); :class:`CapacityFlow` serves demand exactly
for a given plan (the max-value flow under those capacities, OR-Tools'
min-cost flow).
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



class CapacityFlow:
    """Serve demand exactly for a given plan: the max-value flow under capacities.

    Sites send at most their capacity (:class:`Capacity`) to the classes
    they cover; each class takes at most its weight; the flow of largest total
    value is found with OR-Tools' min-cost flow (a maximum flow of least cost
    with cost ``-value``: with positive values the most valuable flow is a
    maximum flow, since the servable demand forms a matroid). Weights and
    capacities are floored to multiples of ``1 / scale`` so that the flow
    never exceeds the real ones.

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
        from ortools.graph.python import min_cost_flow

        cover = sp.csr_matrix(cover)
        cover.sort_indices()
        self.cover = cover
        self.capacity = Capacity.coerce(capacity)
        self.scale = float(scale)
        self.weight = np.asarray(weight, dtype=float)
        self.value = np.asarray(value, dtype=float)
        n, m = cover.shape
        self.n, self.m = n, m
        w_int = np.floor(self.weight * self.scale + 1e-9).astype(np.int64)
        uniq = np.unique(self.value)
        v_int = np.round(self.value * (1e6 / max(uniq.max(initial=1.0), 1e-12))).astype(np.int64)
        src, sink = n + m, n + m + 1
        rows = np.repeat(np.arange(n), np.diff(cover.indptr))
        tails = np.concatenate([np.full(n, src), rows, n + np.arange(m)])
        heads = np.concatenate([np.arange(n), n + cover.indices, np.full(m, sink)])
        caps = np.concatenate([np.zeros(n, dtype=np.int64), w_int[cover.indices], w_int])
        costs = np.concatenate([np.zeros(n + cover.nnz, dtype=np.int64), -v_int])
        self._mcf = min_cost_flow.SimpleMinCostFlow()
        self._arcs = self._mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
        total = int(w_int.sum())
        self._mcf.set_node_supply(src, total)
        self._mcf.set_node_supply(sink, -total)
        self._site_arcs = self._arcs[:n]
        self._pair_arcs = self._arcs[n:n + cover.nnz]
        self._ok = min_cost_flow.SimpleMinCostFlow.OPTIMAL

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
        self._mcf.set_arc_capacities(self._site_arcs, self.capacity_units(area_m2))
        status = self._mcf.solve_max_flow_with_min_cost()
        if status != self._ok:  # pragma: no cover - the network is always well formed
            from hzlogistics._errors import SolverError

            raise SolverError(f"min-cost flow failed with status {status}")
        f = self._mcf.flows(self._pair_arcs).astype(float) / self.scale
        flows = sp.csr_matrix((f, self.cover.indices.copy(), self.cover.indptr.copy()),
                              shape=(self.n, self.m))
        flows.eliminate_zeros()
        served = np.asarray(flows.sum(axis=0)).ravel()
        return float(served @ self.value), flows

