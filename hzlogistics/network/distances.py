"""Network distances between sites, along the same delivery network the coverage uses."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.network.country import build_country_network
from hzlogistics.network.roads import read_road_graph


def site_network_km(
    demand: Any,
    sites: Any,
    countries: Any | None = None,
    *,
    sources: Sequence[str],
    circuity: float = settings.CIRCUITY,
    road_graph: str | os.PathLike[str] | nx.Graph | None = None,
) -> np.ndarray:
    """Shortest delivery-network distance from given sites to every site of their country.

    Each source's country gets its delivery network (:func:`build_country_network`,
    the same network the coverage uses) and one Dijkstra search on the edges'
    ``length_km`` (scipy) from all of that country's sources at once.

    Parameters
    ----------
    demand, sites
        GeoDataFrames with ``id``, ``country`` and Point ``geometry`` (EPSG:4326).
    countries
        GeoDataFrame with ``country`` and ``geometry``, or ``None``.
    sources
        Ids of sites (e.g. container ports) to measure from.
    circuity
        Road km per geodesic km of a proximity-graph edge.
    road_graph
        As in :func:`build_country_network`.

    Returns
    -------
    numpy.ndarray
        ``(len(sources), len(sites))`` km, in the order of ``sites``; ``inf``
        for a site in another country or in a part of the network the source
        does not reach (0 from a site to itself).

    Raises
    ------
    ValidationError
        For a source that is not a site id.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> d = gpd.GeoDataFrame({"id": ["d1"], "country": ["XX"]}, geometry=[Point(0.05, 0)],
    ...                      crs=4326)
    >>> s = gpd.GeoDataFrame({"id": ["p", "w", "v"], "country": ["XX", "XX", "YY"]},
    ...                      geometry=[Point(0, 0), Point(0.1, 0), Point(5, 5)], crs=4326)
    >>> km = site_network_km(d, s, sources=["p"])
    >>> km.round(2).tolist()  # p -> d1 -> w: 2 × 5.57 km geodesic × 1.3; v is abroad
    [[0.0, 14.47, inf]]
    """
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    site_ids = sites["id"].astype(str).to_numpy()
    site_country = sites["country"].astype(str).to_numpy()
    where = {sid: k for k, sid in enumerate(site_ids.tolist())}
    unknown = [s for s in sources if str(s) not in where]
    if unknown:
        raise ValidationError(f"site_network_km: sources {unknown[:5]} are not site ids")
    src_pos = np.array([where[str(s)] for s in sources], dtype=np.int64)
    out = np.full((len(src_pos), len(site_ids)), np.inf)
    graph = read_road_graph(road_graph) if road_graph is not None else None
    for country in sorted(set(site_country[src_pos].tolist())):
        G = build_country_network(demand, sites, countries, country=country, circuity=circuity,
                                  road_graph=graph)
        nodes = list(G.nodes)
        index = {k: i for i, k in enumerate(nodes)}
        a, b, km = [], [], []
        for u, v, length in G.edges(data="length_km"):
            a.append(index[u])
            b.append(index[v])
            km.append(max(float(length), 1e-9))  # scipy drops a stored 0 as no edge
        n = len(nodes)
        A = csr_array((np.asarray(km, dtype=float), (np.asarray(a, dtype=np.int64),
                                                     np.asarray(b, dtype=np.int64))), shape=(n, n))
        rows = np.flatnonzero(site_country[src_pos] == country)
        mine = np.flatnonzero(site_country == country)
        node_of = np.array([index[("site", site_ids[k])] for k in mine], dtype=np.int64)
        dist = dijkstra(A, directed=False, indices=np.array(
            [index[("site", site_ids[src_pos[r]])] for r in rows], dtype=np.int64))
        out[np.ix_(rows, mine)] = np.atleast_2d(dist)[:, node_of]
    return out
