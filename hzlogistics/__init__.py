"""hzlogistics: plan networks of overseas warehouses.

The public API, importable from the package (loaded on first use, so that
``import hzlogistics`` stays fast):

- data: :func:`load_countries`, :func:`load_demand`, :func:`load_sites`,
  :func:`country_table`, :data:`COUNTRY_CODES`
- scenarios: :class:`Scenario`, :func:`load_scenario`
- coverage: :func:`build_coverage`, :class:`Coverage`
- optimization: :class:`SitingProblem`, :class:`SolveOptions`, :class:`SolveResult`,
  :func:`solve`
- plans: :func:`run_scenario`, :func:`solve_plan`, :func:`make_plan`, :class:`Plan`,
  :func:`read_plan` (a plan folder read back)
- sweeps: :func:`sweep`
- errors: :class:`HzLogisticsError`, :class:`ValidationError`,
  :class:`InfeasibleError`, :class:`SolverError`, :class:`MissingDependencyError`
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from hzlogistics._errors import (
    HzLogisticsError,
    InfeasibleError,
    MissingDependencyError,
    SolverError,
    ValidationError,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

_LAZY: dict[str, str] = {
    "COUNTRY_CODES": "hzlogistics.countries",
    "load_countries": "hzlogistics.countries",
    "load_demand": "hzlogistics.countries",
    "load_sites": "hzlogistics.countries",
    "country_table": "hzlogistics.countries",
    "Scenario": "hzlogistics.scenario",
    "load_scenario": "hzlogistics.scenario",
    "build_coverage": "hzlogistics.coverage",
    "Coverage": "hzlogistics.coverage",
    "SitingProblem": "hzlogistics.solvers.problem",
    "SolveOptions": "hzlogistics.solvers.problem",
    "SolveResult": "hzlogistics.solvers.problem",
    "solve": "hzlogistics.models",
    "Plan": "hzlogistics.plan",
    "make_plan": "hzlogistics.plan",
    "run_scenario": "hzlogistics.plan",
    "solve_plan": "hzlogistics.plan",
    "load_inputs": "hzlogistics.plan",
    "read_plan": "hzlogistics.saved_plan",
    "sweep": "hzlogistics.sweep",
}

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.countries import (
        COUNTRY_CODES,
        country_table,
        load_countries,
        load_demand,
        load_sites,
    )
    from hzlogistics.coverage import Coverage, build_coverage
    from hzlogistics.models import solve
    from hzlogistics.plan import Plan, load_inputs, make_plan, run_scenario, solve_plan
    from hzlogistics.saved_plan import read_plan
    from hzlogistics.scenario import Scenario, load_scenario
    from hzlogistics.solvers.problem import SitingProblem, SolveOptions, SolveResult
    from hzlogistics.sweep import sweep


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hzlogistics' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "COUNTRY_CODES",
    "Coverage",
    "HzLogisticsError",
    "InfeasibleError",
    "MissingDependencyError",
    "Plan",
    "Scenario",
    "SitingProblem",
    "SolveOptions",
    "SolveResult",
    "SolverError",
    "ValidationError",
    "build_coverage",
    "country_table",
    "load_countries",
    "load_demand",
    "load_inputs",
    "load_scenario",
    "load_sites",
    "make_plan",
    "read_plan",
    "run_scenario",
    "solve",
    "solve_plan",
    "sweep",
]
