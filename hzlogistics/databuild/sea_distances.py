"""Sea distances (searoute, km) from the Chinese ports of departure to every container port."""

from __future__ import annotations

import json

import pandas as pd

from hzlogistics._errors import ValidationError
from hzlogistics.countries import SEA_DISTANCE_COLUMNS
from hzlogistics.databuild.parameters import SEA_ORIGINS
from hzlogistics.databuild.sources import Sources


def _origin_ports(sources: Sources) -> list[tuple[str, str, float, float]]:
    """(id, name, lon, lat) of the ports of departure, from searoute's port list."""
    with open(sources.ports_geojson, encoding="utf-8") as fh:
        features = json.load(fh)["features"]
    where = {}
    for feature in features:
        code = str(feature["properties"].get("port") or "")
        if code not in where:
            where[code] = feature["geometry"]["coordinates"][:2]
    out = []
    for code, name in SEA_ORIGINS:
        if code not in where:
            raise ValidationError(f"{sources.ports_geojson}: no port {code} ({name})")
        lon, lat = where[code]
        out.append((f"port-{code}", name, float(lon), float(lat)))
    return out


def build_sea_distances(
    sources: Sources, ports: pd.DataFrame, sites: pd.DataFrame,
    stats: dict[str, dict[str, object]], progress: bool = False,
) -> pd.DataFrame:
    """Sea distance (searoute, km) from every port of departure to every container port.

    One row per (origin, port): every container port inside a country of the data
    set, whether or not it stayed a candidate site after deduplication
    (``candidate``); a port searoute cannot reach has no distance.
    """
    import searoute
    from tqdm.auto import tqdm

    candidates = set(sites.loc[sites["kind"] == "port", "id"])
    rows = []
    origins = _origin_ports(sources)
    bar = tqdm(total=len(origins) * len(ports), desc="sea distances", disable=not progress,
               unit="route", leave=False)
    for origin_id, _, o_lon, o_lat in origins:
        for port in ports.itertuples(index=False):
            if (port.lon, port.lat) == (o_lon, o_lat):
                km = 0.0
            else:
                route = searoute.searoute([o_lon, o_lat], [float(port.lon), float(port.lat)],
                                          units="km")
                km = float(route["properties"]["length"])
            rows.append((origin_id, port.id, port.country, port.name,
                         int(port.id in candidates), km))
            bar.update()
    bar.close()
    table = pd.DataFrame(rows, columns=list(SEA_DISTANCE_COLUMNS))
    for code, group in table.groupby("country"):
        if str(code) in stats:
            stats[str(code)]["container_ports"] = int(group["port"].nunique())
    return table
