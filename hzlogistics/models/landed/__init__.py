r"""Landed cost: the yearly cost from Hangzhou to the buyer's door.

Goods leave Hangzhou by sea through an origin port (Ningbo–Zhoushan by
default), land at a port of entry, go by truck to a warehouse (drayage), wait
there (rent and the site's fixed cost) and go out to the buyer (last mile).
The ``landed`` objective opens the warehouses that make the sum of these
costs least over a year:

.. math::

    \min \; \sum_i \bigl(r_i a_i + f_i y_i\bigr)
    + D \sum_{i,j} x_{ij}\,\bigl(s_i + \ell_{ij} + h_{ij}\bigr)
    + D\, \kappa \sum_{j \in U} w_j

with :math:`a_i` the area and :math:`y_i` the opening of site :math:`i`
(rent :math:`r_i` per m², fixed cost :math:`f_i`), :math:`x_{ij}` the
parcels/day of demand point :math:`j` served from :math:`i` within the
service level, :math:`s_i` the inbound cost per parcel of site :math:`i`
through its cheapest port of entry (sea + port handling + drayage + duty),
:math:`\ell_{ij}` the last mile, :math:`h_{ij}` the cross-border handling,
:math:`D` the days of a year and :math:`U` the demand no site reaches
(charged :math:`\kappa` per parcel, or the problem is infeasible); size
tiers, capacity, quotas and counts are the ``cost`` objective's.

The package is split by concern:

- :mod:`~hzlogistics.models.landed.rates`: :class:`LandedRates`, every rate
  with its unit, default and source;
- :mod:`~hzlogistics.models.landed.inbound`: the sea distances and each
  site's port of entry (:func:`compute_inbound`, :func:`inbound_from_frames`);
- :mod:`~hzlogistics.models.landed.problem`: the per-pair landed cost
  (:func:`build_landed_problem`);
- :mod:`~hzlogistics.models.landed.solve`: :func:`solve_landed`;
- :mod:`~hzlogistics.models.landed.breakdown`: the cost of a plan by
  component, country, port and site (:func:`landed_breakdown`).
"""

from hzlogistics.models.landed.breakdown import PORT_COLUMNS, LandedBreakdown, landed_breakdown
from hzlogistics.models.landed.inbound import (
    Inbound,
    compute_inbound,
    drayage_km_from_frames,
    inbound_from_frames,
    read_sea_distances,
)
from hzlogistics.models.landed.problem import build_landed_problem
from hzlogistics.models.landed.rates import COMPONENTS, ORIGIN_PORTS, LandedRates
from hzlogistics.models.landed.solve import solve_landed

__all__ = [
    "COMPONENTS",
    "ORIGIN_PORTS",
    "PORT_COLUMNS",
    "Inbound",
    "LandedBreakdown",
    "LandedRates",
    "build_landed_problem",
    "compute_inbound",
    "drayage_km_from_frames",
    "inbound_from_frames",
    "landed_breakdown",
    "read_sea_distances",
    "solve_landed",
]
