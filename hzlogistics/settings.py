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
CAPACITY_PER_M2: float = 8.0

#: Objectives a scenario may ask for (one model each in :mod:`hzlogistics.models`).
OBJECTIVES: tuple[str, ...] = ("coverage", "median", "cost", "min-area", "landed")

#: Scenario keys passed to an objective's model as keyword arguments, by objective.
OBJECTIVE_OPTIONS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {"min-area": ("required_share",), "cost": ("assignment",), "landed": ("assignment",)}
)

#: How coverage is computed: on the delivery network, or by geodesic distance.
COVERAGE_MODES: tuple[str, ...] = ("network", "geodesic")

#: How the cost objective may assign demand to sites: split, or each point to one site.
ASSIGNMENTS: tuple[str, ...] = ("split", "single")

#: Years of a phased roll-out when a scenario's ``[phasing]`` names none.
PHASING_YEARS: tuple[int, ...] = (2017, 2018, 2019, 2020)

#: Yearly growth of every country's demand in a phased roll-out (an assumption:
#: the last year's demand is the data's, each earlier year has 1 / 1.25 of the next).
DEMAND_GROWTH: float = 0.25

#: Most years a phased roll-out may span.
MAX_PHASING_YEARS: int = 30

#: Name of the built-in scenario.
DEFAULT_SCENARIO: str = "hangzhou-2020"

#: Groups inside which a scenario may allow cross-border delivery (members among the 50).
CROSS_BORDER_GROUPS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "EU": ("BE", "CZ", "DE", "ES", "FR", "HU", "IT", "NL", "PL", "PT", "RO", "SE"),
        "GCC": ("AE", "KW", "QA", "SA"),
    }
)

# --- Delivery networks and coverage ---------------------------------------------------------

#: Road speed bands of a proximity-graph edge, by road length: ``(up to km, km/h)``.
#: The bands are marginal: the first 5 km of a hop run at 25 km/h (urban), the
#: next 15 km at 45 km/h (suburban), the next 40 km at 70 km/h (regional road),
#: the rest at 85 km/h (highway). Long hops are therefore faster on average and
#: travel time grows continuously with length.
ROAD_SPEED_BANDS_KPH: tuple[tuple[float, float], ...] = (
    (5.0, 25.0),
    (20.0, 45.0),
    (60.0, 70.0),
    (float("inf"), 85.0),
)

#: Speed of a ferry (or air-freight) link between disconnected parts of a network, km/h.
FERRY_SPEED_KPH: float = 30.0

#: Fixed handling delay of every ferry link (loading, waiting, unloading), hours.
FERRY_HANDLING_H: float = 2.0

#: Longest ferry link added between disconnected parts of a network, km; parts
#: farther apart stay disconnected and their demand is reported unreachable.
FERRY_MAX_KM: float = 1_500.0

#: Buffer around a country's polygon inside which a proximity edge counts as road, km.
NETWORK_BORDER_BUFFER_KM: float = 20.0

#: Longest link joining two neighbouring countries' networks when cross-border
#: delivery is allowed, km (geodesic).
CROSS_BORDER_LINK_MAX_KM: float = 60.0

#: Extra delay of a road link across a border (customs, paperwork), hours.
CROSS_BORDER_DELAY_H: float = 0.0

#: Average road speed used in geodesic coverage mode (applied to geodesic km × circuity), km/h.
GEODESIC_SPEED_KPH: float = 60.0

#: Speeds of a planner's road graph by OSM ``highway`` tag, km/h, used for edges
#: that carry neither ``travel_time`` (s) nor ``speed_kph``; other tags use the
#: ``"default"`` entry.
ROAD_GRAPH_SPEEDS_KPH: MappingProxyType[str, float] = MappingProxyType(
    {
        "motorway": 100.0,
        "trunk": 80.0,
        "primary": 60.0,
        "secondary": 50.0,
        "tertiary": 40.0,
        "unclassified": 30.0,
        "residential": 25.0,
        "living_street": 10.0,
        "service": 15.0,
        "default": 30.0,
    }
)

#: Buffer of a site's service-area polygon (hull of what it covers), km.
SERVICE_AREA_BUFFER_KM: float = 5.0

#: Maps: inbound sea lanes start at Ningbo–Zhoushan, Hangzhou's container port (lon, lat).
SEA_ORIGIN_LON_LAT: tuple[float, float] = (121.85, 29.93)
SEA_ORIGIN_NAME: str = "Ningbo–Zhoushan"
#: Maps: container-ship service speed, knots, and days spent in port on a voyage
#: (loading and discharge together).
SEA_SPEED_KNOTS: float = 16.0
PORT_TIME_DAYS: float = 2.0
#: Maps: most demand points drawn in the heat map (more are merged on a grid).
MAP_MAX_HEAT_POINTS: int = 50_000
#: Most uncovered demand points drawn on a map (the largest by weight).
MAP_MAX_UNCOVERED_POINTS: int = 5_000
#: Maps: tolerance of polygon simplification, degrees (about 2 km).
MAP_SIMPLIFY_DEG: float = 0.02

# --- Sweeps and Dask ------------------------------------------------------------------------

#: Times Dask re-runs a sweep task whose call raised (tasks of a dead worker are re-run anyway).
SWEEP_RETRIES: int = 2

#: Seconds to wait for a Dask scheduler to answer before giving up.
DASK_CONNECT_TIMEOUT_S: float = 30.0

# --- Median, cost and minimum-area objectives -----------------------------------------------

#: Delivery cost of one parcel per hour of road travel from its warehouse, USD
#: (the ``cost`` objective's rate when no ``assign_cost`` is given).
DELIVERY_COST_USD_PER_PARCEL_H: float = 0.8

#: Operating days per year: turns parcels/day into parcels/year in yearly costs.
OPERATING_DAYS_PER_YEAR: float = 365.0

#: Share of demand a minimum-area plan must serve within the service level.
REQUIRED_SHARE: float = 0.95

# --- Landed cost (the ``landed`` objective) -------------------------------------------------
# The sources and assumptions behind each rate are in hzlogistics/models/landed/rates.py,
# docs/scenario.md and data/countries/README.md.

#: Ports of departure of ``data/countries/sea_distances.csv``, by site id.
ORIGIN_PORTS: MappingProxyType[str, str] = MappingProxyType(
    {"port-CNNGB": "Ningbo-Zhoushan", "port-CNSHA": "Shanghai", "port-CNSZX": "Shenzhen"}
)
#: Default port of departure: Ningbo-Zhoushan, Hangzhou's container port.
LANDED_ORIGIN: str = "port-CNNGB"
#: Sea freight, USD per 40-ft container per km.
SEA_USD_PER_CONTAINER_KM: float = 0.15
#: Parcels in one 40-ft container.
PARCELS_PER_CONTAINER: float = 2_000.0
#: Terminal handling at both ends and customs clearance, USD per container.
PORT_USD_PER_CONTAINER: float = 600.0
#: How drayage is charged: per ``container``-km (full truck) or per ``pallet``-km.
DRAYAGE_UNITS: tuple[str, ...] = ("container", "pallet")
#: Drayage (truck from the port of entry to the warehouse), USD per container-km.
DRAYAGE_USD_PER_CONTAINER_KM: float = 2.0
#: Drayage less than truckload, USD per pallet-km.
DRAYAGE_USD_PER_PALLET_KM: float = 0.15
#: Pallets in one 40-ft container.
PALLETS_PER_CONTAINER: float = 20.0
#: How the last mile is charged: per parcel-``hour`` of travel or per parcel-``km``.
LAST_MILE_UNITS: tuple[str, ...] = ("hour", "km")
#: Last mile, USD per parcel-km of road.
LAST_MILE_USD_PER_PARCEL_KM: float = 0.05
#: What demand no site reaches in time does: makes the plan ``infeasible`` or pays a ``penalty``.
UNSERVED_RULES: tuple[str, ...] = ("infeasible", "penalty")
#: Default rule for demand no site reaches in time.
UNSERVED_RULE: str = "penalty"
#: Penalty of a parcel no site reaches in time, USD per parcel.
UNSERVED_USD_PER_PARCEL: float = 25.0
#: Farthest port of entry (geodesic km) a country without a port of its own may borrow.
BORROW_PORT_MAX_KM: float = 1_500.0
