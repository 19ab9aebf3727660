"""Scenarios: what to plan, as a validated dataclass read from a TOML file.

A scenario file groups its keys into sections::

    name = "my-plan"
    objective = "coverage"

    [coverage]
    service_level = "next-day"

    [network]
    area_budget_m2 = 200000
    count = [950, 1050]

    [quotas.DE]
    min_sites = 20

    [phasing]
    years = [2017, 2018, 2019, 2020]
    area_budget_m2 = [50000, 100000, 150000, 200000]

Every key maps onto a field of :class:`Scenario` (``count`` onto ``count_min``
and ``count_max``). A value of ``"none"`` switches an optional limit off (for
instance ``area_budget_m2 = "none"``). Relative file paths are resolved against
the folder of the scenario file.

The package is split by concern:

- :mod:`~hzlogistics.scenario.keys`: the dataclasses; each key is described
  once, in its field's metadata (a :class:`Key`), and every table of keys is
  derived from there;
- :mod:`~hzlogistics.scenario.validate`: a value as a file gives it
  (:func:`check_key`) and a whole scenario (:func:`scenario_problems`);
- :mod:`~hzlogistics.scenario.read`: TOML files and built-in scenarios;
- :mod:`~hzlogistics.scenario.write`: commented TOML, and the key tables of
  ``docs/scenario.md`` (``python -m hzlogistics.scenario --write-doc
  docs/scenario.md`` regenerates them).
"""

from hzlogistics.scenario.keys import (
    ASSIGNMENTS,
    COUNT_KEY,
    COVERAGE_MODES,
    KEY_DOCS,
    KEYS,
    MAX_SEED,
    OBJECTIVES,
    PHASING_KEY_INFO,
    PHASING_KEYS,
    QUOTA_KEY_INFO,
    QUOTA_KEYS,
    SECTIONS,
    CountryQuota,
    Key,
    Phasing,
    Scenario,
    name_problem,
    safe_name,
)
from hzlogistics.scenario.read import (
    builtin_scenario_text,
    builtin_scenarios,
    default_scenario,
    load_scenario,
    loads_scenario,
    scenario_from_dict,
)
from hzlogistics.scenario.validate import (
    check_key,
    objective_kwargs,
    scenario_problems,
    validate_scenario,
)
from hzlogistics.scenario.write import keys_markdown, render_doc, scenario_to_toml

__all__ = [
    "ASSIGNMENTS",
    "COUNT_KEY",
    "COVERAGE_MODES",
    "KEYS",
    "MAX_SEED",
    "KEY_DOCS",
    "OBJECTIVES",
    "PHASING_KEYS",
    "PHASING_KEY_INFO",
    "QUOTA_KEYS",
    "QUOTA_KEY_INFO",
    "SECTIONS",
    "CountryQuota",
    "Key",
    "Phasing",
    "Scenario",
    "builtin_scenario_text",
    "builtin_scenarios",
    "check_key",
    "default_scenario",
    "keys_markdown",
    "load_scenario",
    "loads_scenario",
    "name_problem",
    "objective_kwargs",
    "render_doc",
    "safe_name",
    "scenario_from_dict",
    "scenario_problems",
    "scenario_to_toml",
    "validate_scenario",
]
