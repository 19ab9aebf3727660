"""Scenario sweeps: solve a grid of parameter values and draw the trade-off curve.

A sweep varies one or more scenario fields (the area budget, the service level,
the number of sites, ...) over lists of values, solves every combination and
returns one row per combination. The expensive step that does not depend on the
budget, the delivery coverage, is built once per distinct set of
coverage-relevant values (service level, cutoff, radius, circuity, coverage mode,
cross-border groups) and reused by every point that shares it.

Points that share a coverage are solved as a *chain*: each point is
warm-started from the plan of the point before it, adapted to the new limits
(:func:`adapt_hint`). When that plan still satisfies every constraint of the new
point, it is kept if the solver does not find a better one, so the covered
demand of a coverage sweep never drops when a limit is relaxed.

The points run in this process by default, or on a Dask cluster
(``client=``): the inputs and each coverage are sent to the workers once
(``client.scatter(..., broadcast=True)``), every point is a task that Dask
retries if its worker dies, and a chain's tasks depend on each other in order,
so a sweep gives the same table on a cluster as in this process for the same
settings. Pass ``chains=N`` to cut each chain into ``N`` pieces that start cold
and run side by side.

The package is split by concern:

- :mod:`~hzlogistics.sweep.values`: which scenario keys may vary and how their
  values are read and checked (by the scenario's own checks);
- :mod:`~hzlogistics.sweep.warm`: warm starts adapted to the next point's limits;
- :mod:`~hzlogistics.sweep.point`: one point, solved;
- :mod:`~hzlogistics.sweep.cluster`: Dask;
- :mod:`~hzlogistics.sweep.run`: the grid, its chains and the table;
- :mod:`~hzlogistics.sweep.charts`: the CSV, PNG and HTML files of a sweep.
"""

from hzlogistics.sweep.charts import write_sweep
from hzlogistics.sweep.cluster import dask_client, dask_map
from hzlogistics.sweep.point import CoverageArrays, PointOutcome, SweepPoint, solve_point
from hzlogistics.sweep.run import RESULT_COLUMNS, plan_points, sweep
from hzlogistics.sweep.values import (
    SWEEP_ALIASES,
    SWEEP_PARAMETERS,
    SweepParameter,
    apply_values,
    normalize_vary,
    parse_vary,
    sweep_parameter,
)
from hzlogistics.sweep.warm import adapt_hint, service_violations

__all__ = [
    "RESULT_COLUMNS",
    "SWEEP_ALIASES",
    "SWEEP_PARAMETERS",
    "CoverageArrays",
    "PointOutcome",
    "SweepParameter",
    "SweepPoint",
    "adapt_hint",
    "apply_values",
    "dask_client",
    "dask_map",
    "normalize_vary",
    "parse_vary",
    "plan_points",
    "service_violations",
    "solve_point",
    "sweep",
    "sweep_parameter",
    "write_sweep",
]
