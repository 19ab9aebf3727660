"""Typed defaults, in one place.

Every default that a planner may meet (service levels, size tiers, the area
budget, speeds) is defined here and nowhere else; modules import it.
"""

from __future__ import annotations

from types import MappingProxyType

#: Total floor area of the default plan, m².
AREA_BUDGET_M2: float = 200_000.0

#: Size tiers a site may be given, m².
SIZE_TIERS_M2: tuple[float, ...] = (100.0, 150.0, 200.0, 300.0, 500.0, 1_000.0, 2_000.0)

#: Number of sites of the default plan (inclusive range).
COUNT_RANGE: tuple[int, int] = (950, 1_050)

#: Minimum number of sites in every country of the default plan.
MIN_SITES_PER_COUNTRY: int = 1

#: Road-travel cutoffs of the service levels, hours.
SERVICE_LEVELS_H: MappingProxyType[str, float] = MappingProxyType(
    {"same-day": 3.0, "next-day": 6.0, "two-day": 16.0}
)
DEFAULT_SERVICE_LEVEL: str = "next-day"

#: Road distance / geodesic distance.
CIRCUITY: float = 1.3

#: Solver defaults.
TIME_LIMIT_S: float = 60.0
GAP_TARGET: float = 0.001
SEED: int = 0

#: Parcels per day that one m² of warehouse floor handles (calibrated so that the
#: 200,000 m² budget binds on the default data; see README, "Capacity").
CAPACITY_PER_M2: float = 40.0

#: Name of the built-in scenario.
DEFAULT_SCENARIO: str = "hangzhou-2020"

#: Groups inside which a scenario may allow cross-border delivery (members among the 50).
CROSS_BORDER_GROUPS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "EU": ("BE", "CZ", "DE", "ES", "FR", "HU", "IT", "NL", "PL", "PT", "RO", "SE"),
        "GCC": ("AE", "KW", "QA", "SA"),
    }
)
