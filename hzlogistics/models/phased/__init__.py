"""Phased roll-out: which sites open in which year, over a horizon of years.

A multi-period version of the coverage model. Every year has its own
cumulative area budget, range of open sites, demand and optionally a most
openings limit; the networks nest (a site that opens stays open, its size
tier may grow but never shrink, existing sites are open from the first
year); the objective is the coverage objective of each year summed over the
years, discounted at an optional yearly rate.

- :class:`PhasedProblem`, :func:`phased_problem`, :func:`growth_weights`:
  the problem as arrays;
- :func:`solve_phased`: the roll-out with a proven bound (decomposition over
  the years, with the plain MIP on small instances);
- :func:`solve_myopic`, :func:`solve_last_year_first`: the two baselines;
- :func:`solve_phased_mip`: the whole model as one MIP (small instances);
- :func:`phasing_conflicts`, :func:`rollout_violations`,
  :func:`evaluate_rollout`: checks and values.

Only the ``coverage`` objective is supported.
"""

from __future__ import annotations

from hzlogistics.models.phased.mip import evaluate_rollout, solve_phased_mip
from hzlogistics.models.phased.problem import (
    Limits,
    PhasedProblem,
    PhasedResult,
    effective_limits,
    growth_weights,
    phased_problem,
    phasing_conflicts,
    rollout_violations,
    validate_phased,
    year_problem,
)
from hzlogistics.models.phased.solve import solve_last_year_first, solve_myopic, solve_phased

__all__ = [
    "Limits",
    "PhasedProblem",
    "PhasedResult",
    "effective_limits",
    "evaluate_rollout",
    "growth_weights",
    "phased_problem",
    "phasing_conflicts",
    "rollout_violations",
    "solve_last_year_first",
    "solve_myopic",
    "solve_phased",
    "solve_phased_mip",
    "validate_phased",
    "year_problem",
]
