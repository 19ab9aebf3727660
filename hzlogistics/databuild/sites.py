"""Candidate sites (towns, airports, container ports) and the existing warehouses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.countries import SITE_COLUMNS
from hzlogistics.databuild.demand import NO_PLACES
from hzlogistics.databuild.formulas import max_area_for_city, rent_usd_m2_year
from hzlogistics.databuild.geometry import chord, inside_boundary, unit_vectors
from hzlogistics.databuild.parameters import (
    AIRPORT_MIN_CITY_POPULATION,
    CITY_RADIUS_KM,
    DEDUPLICATE_KM,
    DEMAND_MIN_POPULATION,
    EXISTING_SITES,
    TOWN_MIN_POPULATION,
)
from hzlogistics.databuild.selection import Selection
from hzlogistics.databuild.sources import Sources

_AIRPORT_INTERNATIONAL = re.compile(r"international|internacional|internazionale|intl\b", re.I)
_AIRPORT_MILITARY = re.compile(
    r"air ?base|air force|\bafb\b|army|naval|military|heliport|base a[eé]rea|airfield", re.I
)


def _city_population(lon: np.ndarray, lat: np.ndarray, places: pd.DataFrame) -> np.ndarray:
    """Population of the largest place within CITY_RADIUS_KM of each point (0 if none)."""
    from scipy.spatial import cKDTree

    result = np.zeros(len(lon), dtype=float)
    if len(lon) == 0 or places.empty:
        return result
    tree = cKDTree(unit_vectors(places["lon"].to_numpy(), places["lat"].to_numpy()))
    pops = places["population"].to_numpy(float)
    neighbours = tree.query_ball_point(unit_vectors(lon, lat), chord(CITY_RADIUS_KM))
    for i, near in enumerate(neighbours):
        if near:
            result[i] = pops[near].max()
    return result


def _read_airports(sources: Sources, codes: Iterable[str]) -> pd.DataFrame:
    df = pd.read_csv(sources.airports_csv, dtype=str, keep_default_na=False)
    df = df[df["country"].isin(set(codes))]
    df = df[df["iata"].str.fullmatch(r"[A-Z]{3}") & df["icao"].str.fullmatch(r"[A-Z]{4}")]
    df = df[~df["name"].str.contains(_AIRPORT_MILITARY)]
    out = pd.DataFrame(
        {
            "id": "iata-" + df["iata"],
            "name": df["name"],
            "country": df["country"],
            "lon": df["lon"].astype(float),
            "lat": df["lat"].astype(float),
            "international": df["name"].str.contains(_AIRPORT_INTERNATIONAL).to_numpy(),
        }
    )
    return out.sort_values("id", kind="stable").reset_index(drop=True)


def _read_ports(sources: Sources, codes: Iterable[str]) -> pd.DataFrame:
    wanted = set(codes)
    with open(sources.ports_geojson, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    rows = []
    for feature in features:
        props = feature["properties"]
        code = str(props.get("port") or "")
        if not props.get("t") or code[:2] not in wanted:
            continue
        lon, lat = feature["geometry"]["coordinates"][:2]
        rows.append((f"port-{code}", str(props.get("name") or code), code[:2], float(lon),
                     float(lat)))
    df = pd.DataFrame(rows, columns=["id", "name", "country", "lon", "lat"])
    return df.drop_duplicates("id").sort_values("id", kind="stable").reset_index(drop=True)


def _deduplicate(candidates: pd.DataFrame) -> pd.DataFrame:
    """Keep, within each country, the first candidate (by priority) of every close group."""
    from scipy.spatial import cKDTree

    kept_frames = []
    for _, group in candidates.groupby("country", sort=True):
        group = group.reset_index(drop=True)
        xyz = unit_vectors(group["lon"].to_numpy(), group["lat"].to_numpy())
        tree = cKDTree(xyz)
        neighbours = tree.query_ball_point(xyz, chord(DEDUPLICATE_KM))
        suppressed = np.zeros(len(group), dtype=bool)
        keep = []
        for i in range(len(group)):  # rows are in priority order
            if suppressed[i]:
                continue
            keep.append(i)
            suppressed[neighbours[i]] = True
        kept_frames.append(group.iloc[keep])
    return pd.concat(kept_frames, ignore_index=True)


#: Candidate kinds in priority order: of close candidates, the first by priority is kept.
_PRIORITY = {"existing": 0, "airport": 1, "port": 2, "town": 3}


def build_sites(
    boundaries: pd.DataFrame, cities5000: pd.DataFrame, demand: pd.DataFrame,
    sources: Sources, selection: Selection, stats: dict[str, dict[str, object]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate and existing sites, and the container ports inside the boundaries."""
    codes = list(boundaries["country"])
    geometry = dict(zip(boundaries["country"], boundaries["geometry"], strict=True))
    gdp_pc = dict(zip(boundaries["country"], boundaries["gdp_per_capita_usd"], strict=True))
    kinds = _candidate_sources(cities5000, sources, codes)
    places_by = {str(c): g for c, g in
                 cities5000[cities5000["population"] >= DEMAND_MIN_POPULATION].groupby("country")}

    frames = []
    inside_ports = []
    for code in codes:
        places = places_by.get(code, NO_PLACES)
        part, ports_inside = _country_candidates(code, geometry[code], kinds, places, stats[code])
        inside_ports.append(ports_inside)
        if part.empty:  # no town, commercial airport or port: the largest place stands in
            part = _largest_place(code, demand, places, selection, stats[code])
        part = part.assign(_priority=part["kind"].map(_PRIORITY))
        part = part.sort_values(["_priority", "city_population", "id"],
                                ascending=[True, False, True], kind="stable")
        frames.append(part)
    candidates = pd.concat(frames, ignore_index=True)
    n_before = candidates.groupby("country").size()
    sites = _deduplicate(candidates)

    sites["existing_area_m2"] = sites["existing_area_m2"].fillna(0.0).astype(float)
    sites["rent_usd_m2_year"] = [
        rent_usd_m2_year(gdp_pc[c], p)
        for c, p in zip(sites["country"], sites["city_population"], strict=True)
    ]
    largest = max(settings.SIZE_TIERS_M2)
    sites["max_area_m2"] = [
        max_area_for_city(p) if kind == "town" else largest
        for kind, p in zip(sites["kind"], sites["city_population"], strict=True)
    ]
    for code, group in sites.groupby("country"):
        counts = group["kind"].value_counts()
        stats[str(code)].update(
            {
                "sites": len(group),
                "sites_before_deduplication": int(n_before[code]),
                "sites_by_kind": {k: int(counts.get(k, 0)) for k in _PRIORITY},
            }
        )
    sites = sites.sort_values(["country", "id"], kind="stable").reset_index(drop=True)
    ports = kinds["port"][0]
    port_frame = pd.concat(inside_ports, ignore_index=True) if inside_ports else ports.iloc[:0]
    port_frame = port_frame.sort_values(["country", "id"], kind="stable").reset_index(drop=True)
    return sites[list(SITE_COLUMNS)], port_frame


#: Every kind of candidate: its frame, and the frame's rows by country.
CandidateSources = dict[str, tuple[pd.DataFrame, dict[str, pd.DataFrame]]]


def _candidate_sources(
    cities5000: pd.DataFrame, sources: Sources, codes: list[str]
) -> CandidateSources:
    """Existing sites, airports, container ports and towns of the countries, in priority order."""
    towns = cities5000[cities5000["population"] >= TOWN_MIN_POPULATION]
    towns = pd.DataFrame(
        {
            "id": "gn-" + towns["geonameid"].astype(str),
            "name": towns["name"],
            "country": towns["country"],
            "lon": towns["lon"],
            "lat": towns["lat"],
        }
    )
    airports = _read_airports(sources, codes)
    ports = _read_ports(sources, codes)
    chosen = [s for s in EXISTING_SITES if s.country in set(codes)]
    existing = pd.DataFrame(
        {
            "id": [s.id for s in chosen],
            "name": [s.name for s in chosen],
            "country": [s.country for s in chosen],
            "lon": [s.lon for s in chosen],
            "lat": [s.lat for s in chosen],
            "existing_area_m2": [s.area_m2 for s in chosen],
        }
    )
    return {kind: (frame, {str(c): g for c, g in frame.groupby("country")})
            for kind, frame in (("existing", existing), ("airport", airports),
                                ("port", ports), ("town", towns))}


def _country_candidates(
    code: str, geometry: object, kinds: CandidateSources, places: pd.DataFrame,
    country_stats: dict[str, object],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A country's candidates inside its boundary with their city size, and its ports there.

    Airports count as commercial if "international" or serving a large enough
    city; the others are left out.

    Raises
    ------
    ValidationError
        When an existing site lies outside its country.
    """
    parts = []
    dropped: dict[str, int] = {}
    ports_inside = None
    for kind, (frame, by_country) in kinds.items():
        part = by_country.get(code, frame.iloc[:0])
        inside = inside_boundary(geometry, part["lon"].to_numpy(), part["lat"].to_numpy())
        if kind == "port":
            ports_inside = part[inside]
        if kind == "existing" and not inside.all():
            raise ValidationError(
                f"existing site(s) {list(part.loc[~inside, 'id'])} lie outside {code}"
            )
        dropped[kind] = int((~inside).sum())
        parts.append(part[inside].assign(kind=kind))
    country_stats["sites_dropped_outside_boundary"] = dropped
    part = pd.concat(parts, ignore_index=True)
    part["city_population"] = _city_population(
        part["lon"].to_numpy(), part["lat"].to_numpy(), places
    )
    is_airport = part["kind"].eq("airport").to_numpy()
    commercial = part["international"].eq(True).to_numpy() | (
        part["city_population"].to_numpy() >= AIRPORT_MIN_CITY_POPULATION
    )
    country_stats["airports_not_commercial"] = int((is_airport & ~commercial).sum())
    assert ports_inside is not None  # "port" is one of the kinds
    return part[~is_airport | commercial], ports_inside


def _largest_place(
    code: str, demand: pd.DataFrame, places: pd.DataFrame, selection: Selection,
    country_stats: dict[str, object],
) -> pd.DataFrame:
    """The country's largest demand point as its one candidate site, with a warning."""
    top = demand[demand["country"] == code].iloc[:1]
    part = pd.DataFrame({"id": top["id"], "name": top["name"], "country": code,
                         "lon": top["lon"], "lat": top["lat"], "kind": "town",
                         "international": False, "existing_area_m2": np.nan})
    part["city_population"] = _city_population(
        part["lon"].to_numpy(), part["lat"].to_numpy(), places)
    selection.warnings.append(
        f"{code} ({selection.names[code]}): no town of {TOWN_MIN_POPULATION:,}, "
        f"commercial airport or port; its largest place, {top['name'].iloc[0]}, "
        "is the one candidate site")
    country_stats["sites_fallback"] = "largest demand point"
    return part
