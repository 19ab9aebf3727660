"""One build, step by step, into one folder.

Boundaries, demand, sites, sea distances and provenance, in this order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from hzlogistics.countries import (
    BOUNDARIES_FILE,
    DEMAND_FILE,
    PROVENANCE_FILE,
    SEA_DISTANCES_FILE,
    SITES_FILE,
)
from hzlogistics.databuild.boundaries import build_boundaries, read_natural_earth
from hzlogistics.databuild.demand import build_demand, read_geonames
from hzlogistics.databuild.provenance import provenance_document
from hzlogistics.databuild.report import CountryCounts
from hzlogistics.databuild.sea_distances import build_sea_distances
from hzlogistics.databuild.selection import select_countries
from hzlogistics.databuild.sites import build_sites
from hzlogistics.databuild.sources import locate_sources
from hzlogistics.databuild.writers import (
    write_boundaries,
    write_demand,
    write_sea_distances,
    write_sites,
)

logger = logging.getLogger(__name__)


def write_all(
    out_dir: Path, progress: bool, *, countries: str | Iterable[str] | None = None,
    min_population: int | None = None,
) -> tuple[dict[str, CountryCounts], list[str]]:
    """Build every file into ``out_dir``; return the counts per country and the warnings."""
    from tqdm.auto import tqdm

    sources = locate_sources()
    raw = read_natural_earth(sources)
    selection = select_countries(raw, countries, min_population)
    steps = tqdm(total=6, desc="data build", disable=not progress, unit="step")
    stats: dict[str, dict[str, object]] = {code: {"name": selection.names[code]}
                                           for code in selection.codes}

    steps.set_postfix_str("boundaries")
    boundaries = build_boundaries(raw, selection)
    steps.update()

    steps.set_postfix_str("places")
    cities5000 = read_geonames(sources, "cities5000", selection.codes)
    steps.update()

    steps.set_postfix_str("demand")
    demand = build_demand(
        boundaries,
        lambda extract: cities5000 if extract == "cities5000"
        else read_geonames(sources, extract, selection.codes),
        selection, stats)
    for row in boundaries.itertuples(index=False):
        stats[row.country].update(
            {"population": int(row.population), "gdp_musd": round(float(row.gdp_musd), 1),
             "gdp_per_capita_usd": float(row.gdp_per_capita_usd),
             "natural_earth_features": int(row.n_parts)}
        )
    write_boundaries(boundaries, out_dir / BOUNDARIES_FILE)
    write_demand(demand, out_dir / DEMAND_FILE)
    steps.update()

    steps.set_postfix_str("sites")
    sites, ports = build_sites(boundaries, cities5000, demand, sources, selection, stats)
    write_sites(sites, out_dir / SITES_FILE)
    steps.update()

    steps.set_postfix_str("sea distances")
    sea = build_sea_distances(sources, ports, sites, stats, progress=progress)
    write_sea_distances(sea, out_dir / SEA_DISTANCES_FILE)
    steps.update()

    steps.set_postfix_str("provenance")
    document = provenance_document(sources, stats, selection)
    (out_dir / PROVENANCE_FILE).write_text(
        json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    steps.update()
    steps.close()
    for warning in selection.warnings:
        logger.warning("data build: %s", warning)

    counts: dict[str, CountryCounts] = {}
    weights = demand.groupby("country")["weight"].sum()
    n_demand = demand.groupby("country").size()
    n_sites = sites.groupby("country").size()
    n_existing = sites[sites["kind"] == "existing"].groupby("country").size()
    for code in boundaries["country"]:
        counts[code] = CountryCounts(
            n_demand=int(n_demand.get(code, 0)),
            n_sites=int(n_sites.get(code, 0)),
            n_existing=int(n_existing.get(code, 0)),
            weight=float(weights.get(code, 0.0)),
        )
    return counts, list(selection.warnings)
