"""Disconnected parts of a network: ferry links between them, and the nodes no site reaches."""

from __future__ import annotations

import logging
from collections.abc import Hashable

import networkx as nx
import numpy as np

from hzlogistics import settings
from hzlogistics.network.geometry import proximity_edges
from hzlogistics.network.graph import node_arrays
from hzlogistics.network.travel_time import ferry_travel_time_h
from hzlogistics.projection import geodesic_km, local_crs, project_points

logger = logging.getLogger(__name__)


def link_components(
    G: nx.Graph,
    *,
    ferry_max_km: float = settings.FERRY_MAX_KM,
    speed_kph: float = settings.FERRY_SPEED_KPH,
    handling_h: float = settings.FERRY_HANDLING_H,
) -> list[tuple[Hashable, Hashable]]:
    """Join the disconnected parts of a network by ferry links, in place.

    The links are the shortest ones that connect the parts (Kruskal's minimum
    spanning tree over the parts, candidates from the Delaunay triangulation of
    every node, which contains the Euclidean minimum spanning tree). A link
    longer than ``ferry_max_km`` is never added: such parts stay apart.

    Parameters
    ----------
    G
        Graph whose nodes carry ``x``/``y`` in degrees.
    ferry_max_km
        Longest link, km (geodesic).
    speed_kph, handling_h
        Ferry speed and fixed delay, see :func:`ferry_travel_time_h`.

    Returns
    -------
    list of tuple
        The links added, each with ``mode="ferry"``, ``length_km`` (geodesic)
        and ``travel_time_h``. ``G.graph["parts"]`` is set to the number of
        parts before linking and ``G.graph["ferry_links"]`` is increased.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_nodes_from([("a", {"x": 0.0, "y": 0.0}), ("b", {"x": 0.5, "y": 0.0})])
    >>> link_components(G)
    [('a', 'b')]
    >>> G.edges["a", "b"]["mode"]
    'ferry'
    """
    parts = list(nx.connected_components(G))
    G.graph["parts"] = len(parts)
    if len(parts) < 2:
        return []
    nodes, lon, lat = node_arrays(G)
    index = {k: i for i, k in enumerate(nodes)}
    label = np.empty(len(nodes), dtype=np.int64)
    for c, part in enumerate(parts):
        label[[index[k] for k in part]] = c
    xy = project_points(lon, lat, local_crs(lon, lat))
    cand = proximity_edges(xy)
    cand = cand[label[cand[:, 0]] != label[cand[:, 1]]]
    length = geodesic_km(lon[cand[:, 0]], lat[cand[:, 0]], lon[cand[:, 1]], lat[cand[:, 1]])
    order = np.argsort(length, kind="stable")
    parent = list(range(len(parts)))

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    added: list[tuple[Hashable, Hashable]] = []
    for e in order.tolist():
        if length[e] > ferry_max_km:
            break
        i, j = int(cand[e, 0]), int(cand[e, 1])
        ri, rj = root(int(label[i])), root(int(label[j]))
        if ri == rj:
            continue
        parent[ri] = rj
        d = float(length[e])
        G.add_edge(
            nodes[i], nodes[j], length_km=d, mode="ferry",
            travel_time_h=float(ferry_travel_time_h(d, speed_kph=speed_kph,
                                                    handling_h=handling_h)),
        )
        added.append((nodes[i], nodes[j]))
        if len(added) == len(parts) - 1:
            break
    G.graph["ferry_links"] = G.graph.get("ferry_links", 0) + len(added)
    left = len(parts) - len(added)
    if left > 1:
        logger.info(
            "%s: %d parts stay disconnected (farther than %.0f km apart)",
            G.graph.get("name") or "network", left, ferry_max_km,
        )
    return added


def unreachable_nodes(G: nx.Graph, *, kind: str = "demand") -> list[Hashable]:
    """Nodes of a kind that no site can reach at all (no site in their part).

    Parameters
    ----------
    G
        Network whose nodes carry ``kind`` (``"demand"``, ``"site"``, ``"road"``).
    kind
        Which nodes to report.

    Returns
    -------
    list
        Node keys, in the graph's node order.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_nodes_from([(1, {"kind": "site"}), (2, {"kind": "demand"}), (3, {"kind": "demand"})])
    >>> G.add_edge(1, 2)
    >>> unreachable_nodes(G)
    [3]
    """
    served: set[Hashable] = set()
    for part in nx.connected_components(G):
        if any(G.nodes[k].get("kind") == "site" for k in part):
            served.update(part)
    return [k for k, d in G.nodes(data=True) if d.get("kind") == kind and k not in served]
