"""The formulas of the data set: parcels per person and per country, rent, size tiers."""

from __future__ import annotations

import numpy as np

from hzlogistics.databuild.parameters import (
    G_REF_USD,
    HANGZHOU_SHARE,
    INCOME_ELASTICITY,
    Q_MAX_PARCELS_PER_PERSON_YEAR,
    Q_REF_PARCELS_PER_PERSON_YEAR,
    RENT_CITY_ELASTICITY,
    RENT_GDP_ELASTICITY,
    RENT_REF_USD_M2_YEAR,
    TIER_BY_CITY_POPULATION,
)


def parcels_per_person_year(gdp_per_capita_usd: float | np.ndarray) -> float | np.ndarray:
    """Cross-border online purchases from China, parcels per person per year.

    Parameters
    ----------
    gdp_per_capita_usd
        GDP per capita, USD.

    Returns
    -------
    float or numpy.ndarray
        ``min(Q_MAX, Q_REF * (g / G_REF) ** ELASTICITY)``.

    Examples
    --------
    >>> round(parcels_per_person_year(40_000.0), 3)
    6.0
    """
    g = np.asarray(gdp_per_capita_usd, dtype=float)
    q = np.minimum(
        Q_MAX_PARCELS_PER_PERSON_YEAR,
        Q_REF_PARCELS_PER_PERSON_YEAR * (g / G_REF_USD) ** INCOME_ELASTICITY,
    )
    return float(q) if q.ndim == 0 else q


def national_parcels_per_day(population: float, gdp_per_capita_usd: float) -> float:
    """Hangzhou firms' cross-border parcels per day to one country.

    Parameters
    ----------
    population
        National population.
    gdp_per_capita_usd
        GDP per capita, USD.

    Returns
    -------
    float
        ``population * parcels_per_person_year(g) * HANGZHOU_SHARE / 365``; the demand
        weights of the country sum to this (up to rounding).

    Examples
    --------
    >>> round(national_parcels_per_day(1_000_000, 40_000.0), 1)
    1643.8
    """
    q = float(parcels_per_person_year(gdp_per_capita_usd))
    return float(population) * q * HANGZHOU_SHARE / 365.0


def rent_usd_m2_year(gdp_per_capita_usd: float, city_population: float) -> float:
    """Indicative yearly warehouse rent, USD per m².

    Parameters
    ----------
    gdp_per_capita_usd
        GDP per capita of the country, USD.
    city_population
        Inhabitants of the largest place within :data:`CITY_RADIUS_KM`.

    Returns
    -------
    float
        ``RENT_REF * (g / G_REF) ** 0.35 * (city / 1e6) ** 0.1``, rounded to 0.1 USD;
        a proxy, not market data.

    Examples
    --------
    >>> rent_usd_m2_year(40_000.0, 1_000_000)
    90.0
    """
    city = max(float(city_population), 10_000.0)
    value = (
        RENT_REF_USD_M2_YEAR
        * (gdp_per_capita_usd / G_REF_USD) ** RENT_GDP_ELASTICITY
        * (city / 1e6) ** RENT_CITY_ELASTICITY
    )
    return round(value, 1)


def max_area_for_city(city_population: float) -> float:
    """Largest size tier allowed at a town of the given city size, m².

    Parameters
    ----------
    city_population
        Inhabitants of the largest place within :data:`CITY_RADIUS_KM`.

    Returns
    -------
    float
        A tier of :data:`hzlogistics.settings.SIZE_TIERS_M2`.

    Examples
    --------
    >>> max_area_for_city(2_500_000), max_area_for_city(60_000)
    (2000.0, 500.0)
    """
    for threshold, tier in TIER_BY_CITY_POPULATION:
        if city_population >= threshold:
            return tier
    return TIER_BY_CITY_POPULATION[-1][1]
