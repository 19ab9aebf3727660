"""Coverage: which demand points each candidate site reaches within a service level.

:func:`build_coverage` builds, country by country, the delivery network of
:mod:`hzlogistics.network` and runs a Dijkstra search with a cutoff from every
candidate site (``mode="network"``), or takes every demand point within a
geodesic radius (``mode="geodesic"``). The result is a :class:`Coverage`: the
sparse ``(n_sites, n_demand)`` matrices the optimization models need, plus
the ids, the demand no site can reach at all and per-country statistics.

Countries are independent unless cross-border delivery is allowed inside a
group of :data:`~hzlogistics.settings.CROSS_BORDER_GROUPS`; then the group's
countries form one unit whose networks are joined at the borders. Each unit
is one call of :func:`build_country_coverage` on a small picklable
:class:`CountryTask`, mapped with ``map_fn`` (the built-in ``map`` or, for
example, a Dask client's ``map`` followed by ``gather``).

The package, one module per concern:

- :mod:`~hzlogistics.coverage.result`: the :class:`Coverage` result and
  :func:`coverage_from_pairs`;
- :mod:`~hzlogistics.coverage.checks`: input checks and the service level's cutoff;
- :mod:`~hzlogistics.coverage.paths`: Dijkstra within the cutoff (scipy or networkx);
- :mod:`~hzlogistics.coverage.unit`: the coverage of one unit, as a picklable task;
- :mod:`~hzlogistics.coverage.build`: :func:`build_coverage`, every unit assembled;
- :mod:`~hzlogistics.coverage.csvfile`: a planner's own coverage from a CSV file.
"""

from __future__ import annotations

from hzlogistics.coverage.build import build_coverage
from hzlogistics.coverage.checks import ENGINES as ENGINES
from hzlogistics.coverage.checks import MODES as MODES
from hzlogistics.coverage.checks import resolve_cutoff_h
from hzlogistics.coverage.csvfile import read_coverage_csv
from hzlogistics.coverage.result import Coverage, coverage_from_pairs
from hzlogistics.coverage.unit import CountryCoverage, CountryTask, build_country_coverage

__all__ = [
    "Coverage",
    "CountryCoverage",
    "CountryTask",
    "build_country_coverage",
    "build_coverage",
    "coverage_from_pairs",
    "read_coverage_csv",
    "resolve_cutoff_h",
]
