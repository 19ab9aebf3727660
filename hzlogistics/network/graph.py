"""Graph building blocks shared by every network: point nodes, timed edges, node arrays."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np

from hzlogistics import settings
from hzlogistics._errors import ValidationError


def node_arrays(G: nx.Graph) -> tuple[list[Hashable], np.ndarray, np.ndarray]:
    """The node keys of ``G`` and their longitudes and latitudes (``x``, ``y``)."""
    nodes = list(G.nodes)
    lon = np.fromiter((G.nodes[k]["x"] for k in nodes), dtype=float, count=len(nodes))
    lat = np.fromiter((G.nodes[k]["y"] for k in nodes), dtype=float, count=len(nodes))
    return nodes, lon, lat


def add_points(
    G: nx.Graph,
    keys: Sequence[Hashable],
    lon: np.ndarray,
    lat: np.ndarray,
    node_attrs: Mapping[str, Sequence[Any]] | None,
) -> None:
    """Add one node per point: key, ``x``/``y`` and the given attributes."""
    attrs = dict(node_attrs or {})
    names = list(attrs)
    columns = [list(attrs[a]) for a in names]
    G.add_nodes_from(
        (key, {**dict(zip(names, values, strict=True)), "x": x, "y": y})
        for key, x, y, *values in zip(keys, np.asarray(lon, dtype=float).tolist(),
                                      np.asarray(lat, dtype=float).tolist(), *columns,
                                      strict=True)
    )


def add_edges(
    G: nx.Graph,
    keys: Sequence[Hashable],
    edges: np.ndarray,
    length_km: np.ndarray,
    travel_time_h: np.ndarray,
    mode: str,
    **extra: Any,
) -> None:
    """Add the edges ``keys[i]``-``keys[j]`` with their length, travel time and mode."""
    G.add_edges_from(
        (
            keys[i],
            keys[j],
            {"length_km": float(d), "travel_time_h": float(t), "mode": mode, **extra},
        )
        for (i, j), d, t in zip(edges.tolist(), length_km.tolist(), travel_time_h.tolist(),
                                strict=True)
    )


def check_circuity(circuity: float) -> None:
    """Raise :class:`ValidationError` for a circuity that is not a number ≥ 1."""
    if not (np.isfinite(circuity) and circuity >= 1.0):
        raise ValidationError(
            f"circuity {circuity!r}: must be a number ≥ 1 (road km per geodesic km), "
            f"default {settings.CIRCUITY}"
        )
