"""Interactive maps of a plan, drawn with Folium (Leaflet).

:func:`plan_map` draws one plan: the warehouses (clustered, sized and coloured by
floor-area tier, with a popup each), their service areas, demand as a heat map
with the uncovered points marked, a choropleth of the share of demand covered per
country, the inbound sea lanes from Ningbo–Zhoushan, a legend and a panel with the
headline figures. :func:`compare_map` shows what changes between two plans.

The maps work offline: no tile server is needed (country outlines are the base
map; tiles are optional) and, by default, Leaflet and its plugins are inlined
(``self_contained=True``), so that the HTML file opens with no network at all. Nothing is
downloaded when a map is built or written.

Every string that comes from data or from a user (site names, titles, country
names) passes through :func:`escape_text` before it reaches the page.

The package: :mod:`~hzlogistics.maps.draw_plan` (the map of one plan),
:mod:`~hzlogistics.maps.draw_compare` (two plans), :mod:`~hzlogistics.maps.base`
(what both share: palette, base map, panels, writing), and below them
:mod:`~hzlogistics.maps.layers` (the Leaflet layers), :mod:`~hzlogistics.maps.text`
(escaping and number formats), :mod:`~hzlogistics.maps.assets` (the offline
Leaflet files) and :mod:`~hzlogistics.maps.sealanes` (the inbound sea lanes).
The maps read a :class:`~hzlogistics.plan.Plan`; nothing here writes one.
"""

from __future__ import annotations

from hzlogistics.maps.base import COVERAGE_COLORS, TIER_COLORS, external_links, write_map
from hzlogistics.maps.draw_compare import (
    CHANGE_COLORS,
    DELTA_BINS_PP,
    DELTA_COLORS,
    compare_map,
    site_changes,
)
from hzlogistics.maps.draw_plan import plan_map, service_areas
from hzlogistics.maps.text import escape_text

__all__ = [
    "CHANGE_COLORS",
    "COVERAGE_COLORS",
    "DELTA_BINS_PP",
    "DELTA_COLORS",
    "TIER_COLORS",
    "compare_map",
    "escape_text",
    "external_links",
    "plan_map",
    "service_areas",
    "site_changes",
    "write_map",
]
