r"""The minimum-area objective: the least floor area (or fewest sites) for a service target.

A plan must serve at least a required share of all demand within the service
level (the pairs stored in ``cover``); among such plans it takes the least
total floor area, or the fewest open sites. Without capacity this is partial
set covering; with capacity each site serves at most ``capacity_per_m2`` ×
its area (and/or ``site_capacity``) parcels/day and a demand point may be
split between sites. The model, its site constraints and its solve steps are
those of the location engine in :mod:`hzlogistics.models.location`.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.models.location import LocationSpec, solve_location, validate_location
from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult

logger = logging.getLogger(__name__)


def solve_min_area(
    problem: SitingProblem,
    options: SolveOptions | None = None,
    *,
    required_share: float = settings.REQUIRED_SHARE,
    minimize: Literal["area", "count"] = "area",
) -> SolveResult:
    r"""Least total floor area (or fewest sites) serving a share of demand within the service level.

    Parameters
    ----------
    problem
        The siting problem; ``cover`` defines which site reaches which demand
        point within the service level. The share counts ``weight`` (parcels/day)
        of all demand points, including those no site reaches.
    options
        Time limit, gap target, seed, progress callback, stop event and warm
        start (default: :class:`~hzlogistics.solvers.problem.SolveOptions`).
    required_share
        Share of total demand to serve, in (0, 1].
    minimize
        ``"area"``: total floor area, m²; ``"count"``: number of open sites.

    Returns
    -------
    SolveResult
        ``objective`` in m² (or sites), ``bound`` a proven lower bound, ``sense``
        ``"min"``; ``served`` holds the parcels/day served at each site. ``status``
        is ``"optimal"``, ``"feasible"``, ``"interrupted"``, ``"infeasible"``
        (with ``reasons``, e.g. "required share 95.0% but only 91.2% of demand is
        reachable") or ``"error"`` (no plan within the time limit).

    Raises
    ------
    ValidationError
        If ``required_share`` is not in (0, 1], ``minimize`` is unknown, or an
        array is malformed.

    Notes
    -----
    Sites :math:`i` with size options :math:`t \in T_i` of area :math:`a_t`,
    demand points :math:`j` of weight :math:`w_j`, :math:`W = \sum_j w_j`,
    :math:`N_j` the sites reaching :math:`j`, required share :math:`\alpha`.
    Without capacity, demand points with the same :math:`N_j` are merged into
    classes :math:`c` of weight :math:`w_c` (this loses nothing), each open
    site takes its smallest allowed area :math:`a_i`, and
    :math:`s_c \in [0, 1]` is the served share of class :math:`c`:

    .. math::

        \min \sum_i a_i y_i \ \ (\text{or } \sum_i y_i) \quad\text{s.t.}\quad
        s_c \le \sum_{i \in N_c} y_i \ \forall c, \qquad
        \sum_c w_c s_c \ge \alpha W.

    With capacity :math:`K` per m² (and/or :math:`s_i` per site), size
    variables :math:`u_{it}` and flows :math:`x_{ij} \in [0, 1]` on reaching
    pairs:

    .. math::

        \min \sum_{i,t} a_t u_{it} \quad\text{s.t.}\quad
        \sum_i x_{ij} \le 1, \quad x_{ij} \le y_i, \quad
        \sum_j w_j x_{ij} \le K \sum_t a_t u_{it}, \quad
        \sum_{ij} w_j x_{ij} \ge \alpha W,

    with :math:`\sum_t u_{it} = y_i` and the site constraints of the coverage
    model (existing sites open with at least their area, forbidden ones
    closed, count range, area budget, rent cap, per-group quotas). The valid
    inequality :math:`\sum_{i,t} K a_t u_{it} \ge \alpha W` strengthens the LP.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from hzlogistics.solvers.problem import SitingProblem, SolveOptions
    >>> cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 1]]))
    >>> p = SitingProblem(weight=np.array([10., 10., 10., 70.]), cover=cover,
    ...                   tiers_m2=np.array([100.]), area_budget_m2=None)
    >>> r = solve_min_area(p, SolveOptions(time_limit_s=10, gap=0), required_share=0.9)
    >>> r.status, r.objective, r.open.tolist()
    ('optimal', 100.0, [False, False, True])
    """
    if not (0.0 < float(required_share) <= 1.0):
        raise ValidationError(f"required_share: {required_share}; expected a share in (0, 1]")
    if minimize not in ("area", "count"):
        raise ValidationError(f"minimize: {minimize!r}; expected 'area' or 'count'")
    validate_location(problem)
    n = problem.n_sites
    ones, zeros = np.ones(n), np.zeros(n)
    spec = LocationSpec(name="min-area", pair_cost=None,
                        open_cost=ones if minimize == "count" else zeros,
                        area_cost=zeros if minimize == "count" else ones,
                        required_share=float(required_share))
    return solve_location(problem, options, spec)


__all__ = ["solve_min_area"]
