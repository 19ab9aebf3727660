"""Delivery networks: networkx graphs on which parcels travel from sites to demand.

A country's network has one node per demand point and per candidate site.
Without a road graph, edges come from a planar proximity graph: the Delaunay
triangulation of the points in a local azimuthal equidistant projection,
minus every edge that leaves the country (its polygon buffered by
:data:`~hzlogistics.settings.NETWORK_BORDER_BUFFER_KM`). Each edge carries

``length_km``
    geodesic length × circuity (road km),
``travel_time_h``
    from the speed bands of :data:`~hzlogistics.settings.ROAD_SPEED_BANDS_KPH`
    (see :func:`road_travel_time_h`),
``mode``
    ``"road"`` or ``"ferry"``.

Parts of a network that end up disconnected (islands, exclaves) are joined by
ferry links along a minimum spanning tree of the parts (each link at most
:data:`~hzlogistics.settings.FERRY_MAX_KM`, travelling at
:data:`~hzlogistics.settings.FERRY_SPEED_KPH` after a fixed
:data:`~hzlogistics.settings.FERRY_HANDLING_H`); parts farther apart stay
disconnected, and :func:`unreachable_nodes` names the demand points no site
can reach.

A planner may supply a real road graph (GraphML, or OSM XML read by osmnx):
:func:`read_road_graph` validates it, demand points and sites are snapped to
their nearest road node by an access edge.

Node keys are ``("demand", id)``, ``("site", id)`` and ``("road", key)``;
every node has ``kind``, ``x`` (longitude), ``y`` (latitude), and points also
``id`` and ``country``. The graphs are undirected: one-way restrictions of a
road graph are not modelled.

The package, one module per concern:

- :mod:`~hzlogistics.network.travel_time`: road speed bands and ferry times;
- :mod:`~hzlogistics.network.geometry`: proximity (Delaunay) edges, country areas;
- :mod:`~hzlogistics.network.graph`: point nodes, timed edges, node arrays;
- :mod:`~hzlogistics.network.proximity`: the proximity network of a set of points;
- :mod:`~hzlogistics.network.components`: ferry links between parts, unreachable nodes;
- :mod:`~hzlogistics.network.roads`: road graphs supplied by the planner;
- :mod:`~hzlogistics.network.country`: one country's points and network;
- :mod:`~hzlogistics.network.borders`: countries joined at their borders;
- :mod:`~hzlogistics.network.distances`: network distances between sites.
"""

from __future__ import annotations

from hzlogistics.network.borders import join_networks
from hzlogistics.network.components import link_components, unreachable_nodes
from hzlogistics.network.country import (
    CountryPoints,
    build_country_network,
    network_from_points,
    points_from_frames,
    road_mask,
)
from hzlogistics.network.distances import site_network_km
from hzlogistics.network.geometry import proximity_edges
from hzlogistics.network.proximity import build_network
from hzlogistics.network.roads import RoadArrays, attach_points, read_road_graph
from hzlogistics.network.travel_time import ferry_travel_time_h, road_travel_time_h

__all__ = [
    "CountryPoints",
    "RoadArrays",
    "attach_points",
    "build_country_network",
    "build_network",
    "ferry_travel_time_h",
    "join_networks",
    "link_components",
    "network_from_points",
    "points_from_frames",
    "proximity_edges",
    "read_road_graph",
    "road_mask",
    "road_travel_time_h",
    "site_network_km",
    "unreachable_nodes",
]
