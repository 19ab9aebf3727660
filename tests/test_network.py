"""Tests of hzlogistics.network on hand-made toy graphs."""

from __future__ import annotations

import importlib.util

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from hzlogistics import settings
from hzlogistics._errors import MissingDependencyError, ValidationError
from hzlogistics.network import (
    CountryPoints,
    RoadArrays,
    attach_points,
    build_country_network,
    build_network,
    ferry_travel_time_h,
    join_networks,
    link_components,
    network_from_points,
    proximity_edges,
    read_road_graph,
    road_mask,
    road_travel_time_h,
    unreachable_nodes,
)
from tests._toy import banded_h, km

# ------------------------------------------------------------------ travel times


def test_road_travel_time_default_bands_by_hand():
    lengths = np.array([0.0, 2.0, 5.0, 20.0, 60.0, 145.0])
    expected = [0.0, 0.08, 0.2, 0.2 + 15 / 45, 0.2 + 15 / 45 + 40 / 70,
                0.2 + 15 / 45 + 40 / 70 + 1.0]
    np.testing.assert_allclose(road_travel_time_h(lengths), expected, rtol=1e-12)


def test_road_travel_time_is_continuous_and_faster_on_long_hops():
    lengths = np.linspace(0.0, 300.0, 3001)
    t = road_travel_time_h(lengths)
    assert np.all(np.diff(t) > 0)
    assert np.max(np.diff(t)) < 0.1 / 20  # no jump: at most 0.1 km at 20 km/h
    avg_speed = lengths[1:] / t[1:]
    assert np.all(np.diff(avg_speed) >= -1e-9)


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        (((10.0, 30.0), (5.0, 40.0), (float("inf"), 50.0)), "not above"),
        (((10.0, 0.0), (float("inf"), 50.0)), "positive"),
        (((10.0, 30.0), (20.0, 50.0)), "inf"),
        ((), "none given"),
    ],
)
def test_road_travel_time_rejects_bad_bands(bands, message):
    with pytest.raises(ValidationError, match=message):
        road_travel_time_h(np.array([1.0]), bands=bands)


def test_ferry_travel_time_adds_handling():
    np.testing.assert_allclose(ferry_travel_time_h(np.array([0.0, 90.0])),
                               [settings.FERRY_HANDLING_H,
                                settings.FERRY_HANDLING_H + 90.0 / settings.FERRY_SPEED_KPH])


# ------------------------------------------------------------------ proximity graph


def test_proximity_edges_square_with_centre():
    xy = np.array([[0, 0], [1000, 0], [1000, 1000], [0, 1000], [500, 500]], dtype=float)
    edges = {tuple(e) for e in proximity_edges(xy).tolist()}
    assert edges == {(0, 1), (1, 2), (2, 3), (0, 3), (0, 4), (1, 4), (2, 4), (3, 4)}


def test_proximity_edges_duplicates_collinear_and_tiny():
    xy = np.array([[0, 0], [2000, 0], [1000, 0], [0, 0]], dtype=float)
    # collinear: chained in order along the line; the copy of point 0 hangs on it
    assert proximity_edges(xy).tolist() == [[0, 2], [0, 3], [1, 2]]
    assert proximity_edges(np.array([[5.0, 5.0]])).shape == (0, 2)
    assert proximity_edges(np.array([[5.0, 5.0], [5.0, 5.0]])).tolist() == [[0, 1]]


def test_build_network_edge_attributes_by_hand():
    lon = np.array([0.0, 0.1, 0.0])
    lat = np.array([0.0, 0.0, 0.1])
    G = build_network(lon, lat, ["a", "b", "c"], circuity=1.5,
                      node_attrs={"kind": ["site", "demand", "demand"]})
    assert G.number_of_edges() == 3
    e = G.edges["a", "b"]
    assert e["length_km"] == pytest.approx(km(0, 0, 0.1, 0) * 1.5, rel=1e-12)
    assert e["travel_time_h"] == pytest.approx(banded_h(km(0, 0, 0.1, 0) * 1.5), rel=1e-12)
    assert e["mode"] == "road"
    assert G.nodes["b"] == {"kind": "demand", "x": 0.1, "y": 0.0}
    assert G.graph["parts"] == 1 and G.graph["ferry_links"] == 0


def test_build_network_rejects_bad_input():
    with pytest.raises(ValidationError, match="circuity"):
        build_network(np.zeros(2), np.array([0.0, 1.0]), ["a", "b"], circuity=0.9)
    with pytest.raises(ValidationError, match="unique"):
        build_network(np.zeros(2), np.array([0.0, 1.0]), ["a", "a"])
    with pytest.raises(ValidationError, match="same length"):
        build_network(np.zeros(2), np.array([0.0]), ["a", "b"])


def islands_polygon() -> MultiPolygon:
    # mainland, an island 0.5° (~55 km) east, a far island ~2000 km east
    return MultiPolygon([box(0, 0, 1, 1), box(1.5, 0, 1.7, 0.2), box(19.0, 0, 19.2, 0.2)])


def test_island_edges_dropped_and_ferry_linked():
    lon = np.array([0.9, 0.5, 0.2, 1.6])
    lat = np.array([0.1, 0.5, 0.8, 0.1])
    keys = ["site", "m1", "m2", "isle"]
    G = build_network(lon, lat, keys, polygon=islands_polygon(),
                      node_attrs={"kind": ["site", "demand", "demand", "demand"]})
    assert G.graph["dropped_edges"] >= 1
    assert G.graph["parts"] == 2
    assert G.graph["ferry_links"] == 1
    ferries = [(u, v) for u, v, m in G.edges(data="mode") if m == "ferry"]
    assert len(ferries) == 1 and set(ferries[0]) == {"site", "isle"}
    d = km(0.9, 0.1, 1.6, 0.1)
    e = G.edges["site", "isle"]
    assert e["length_km"] == pytest.approx(d)
    assert e["travel_time_h"] == pytest.approx(2.0 + d / 30.0)
    # every road edge stays on the mainland
    for u, v, m in G.edges(data="mode"):
        if m == "road":
            assert "isle" not in (u, v)


def test_far_island_stays_apart_and_is_reported():
    lon = np.array([0.9, 0.5, 19.1])
    lat = np.array([0.1, 0.5, 0.1])
    G = build_network(lon, lat, ["s", "m", "far"], polygon=islands_polygon(),
                      node_attrs={"kind": ["site", "demand", "demand"]})
    assert G.graph["parts"] == 2 and G.graph["ferry_links"] == 0
    assert not nx.has_path(G, "s", "far")
    assert unreachable_nodes(G) == ["far"]
    # allowing longer ferries joins it
    G2 = build_network(lon, lat, ["s", "m", "far"], polygon=islands_polygon(),
                       node_attrs={"kind": ["site", "demand", "demand"]}, ferry_max_km=3000)
    assert G2.graph["ferry_links"] == 1 and unreachable_nodes(G2) == []


def test_link_components_takes_the_minimum_spanning_links():
    G = nx.Graph()
    # three parts on a line: A (0, 0.1), B (1, 1.1), C (3, 3.1)
    for k, x in {"a0": 0.0, "a1": 0.1, "b0": 1.0, "b1": 1.1, "c0": 3.0, "c1": 3.1}.items():
        G.add_node(k, x=x, y=0.0)
    G.add_edges_from([("a0", "a1"), ("b0", "b1"), ("c0", "c1")])
    added = link_components(G)
    assert {frozenset(e) for e in added} == {frozenset({"a1", "b0"}), frozenset({"b1", "c0"})}
    assert nx.is_connected(G)
    assert G.graph["parts"] == 3 and G.graph["ferry_links"] == 2


def test_unreachable_nodes_ignores_served_parts():
    G = nx.Graph()
    G.add_nodes_from([("s", {"kind": "site"}), ("d1", {"kind": "demand"}),
                      ("d2", {"kind": "demand"}), ("r", {"kind": "road"})])
    G.add_edge("s", "d1")
    G.add_edge("d2", "r")
    assert unreachable_nodes(G) == ["d2"]
    assert unreachable_nodes(G, kind="road") == ["r"]


# ------------------------------------------------------------------ road graphs


def toy_road() -> nx.Graph:
    R = nx.MultiDiGraph()
    R.add_node(1, x=0.0, y=0.0)
    R.add_node(2, x=0.1, y=0.0)
    R.add_node(3, x=0.1, y=0.1)
    R.add_edge(1, 2, length=11_000.0, highway="motorway")
    R.add_edge(2, 1, length=11_000.0, highway="motorway")
    R.add_edge(2, 3, length=12_000.0, speed_kph=40.0)
    R.add_edge(2, 3, length=11_500.0, travel_time=3_600.0)  # a slower parallel edge
    return R


def test_read_road_graph_weights_and_parallel_edges():
    G = read_road_graph(toy_road())
    assert isinstance(G, nx.Graph) and not G.is_directed()
    assert G.number_of_edges() == 2
    e12 = G.edges[("road", 1), ("road", 2)]
    assert e12["length_km"] == 11.0 and e12["travel_time_h"] == pytest.approx(0.11)
    e23 = G.edges[("road", 2), ("road", 3)]
    assert e23["length_km"] == 12.0 and e23["travel_time_h"] == pytest.approx(0.3)
    assert G.nodes[("road", 3)] == {"kind": "road", "x": 0.1, "y": 0.1}


def test_read_road_graph_graphml_round_trip(tmp_path):
    R = nx.Graph(toy_road().to_undirected())
    path = tmp_path / "roads.graphml"
    nx.write_graphml(R, path)
    G = read_road_graph(path)
    assert G.number_of_nodes() == 3 and G.number_of_edges() == 2
    assert all(G.edges[e]["travel_time_h"] > 0 for e in G.edges)


def test_read_road_graph_names_every_bad_edge():
    R = nx.Graph()
    for k in "abcd":
        R.add_node(k, x=0.0, y=0.0)
    R.add_edge("a", "b", length=-5.0)
    R.add_edge("b", "c")
    R.add_edge("c", "d", length=10.0, travel_time=float("nan"))
    with pytest.raises(ValidationError) as info:
        read_road_graph(R)
    problems = info.value.problems
    assert len(problems) == 3
    assert "('a', 'b')" in problems[0] and "-5.0" in problems[0]
    assert "('b', 'c')" in problems[1] and "no 'length'" in problems[1]
    assert "('c', 'd')" in problems[2] and "travel time" in problems[2]


def test_read_road_graph_rejects_projected_or_missing_coordinates():
    R = nx.Graph()
    R.add_node("p", x=500_000.0, y=4_000_000.0)
    R.add_node("q")
    with pytest.raises(ValidationError) as info:
        read_road_graph(R)
    text = str(info.value)
    assert "'p'" in text and "unprojected" in text
    assert "'q'" in text and "x'/'y'" in text


def test_read_road_graph_bad_files(tmp_path):
    with pytest.raises(ValidationError, match="no such file"):
        read_road_graph(tmp_path / "missing.graphml")
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph><node id='1'></graph>")
    with pytest.raises(ValidationError, match="broken.graphml: not a readable GraphML"):
        read_road_graph(broken)
    other = tmp_path / "roads.txt"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValidationError, match="neither GraphML nor OSM XML"):
        read_road_graph(other)


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hzlogistics-tests">
  <node id="1" lat="0.0" lon="0.0"/>
  <node id="2" lat="0.0" lon="0.05"/>
  <node id="3" lat="0.0" lon="0.10"/>
  <node id="4" lat="0.05" lon="0.05"/>
  <way id="10">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="primary"/>
  </way>
  <way id="11">
    <nd ref="2"/><nd ref="4"/>
    <tag k="highway" v="residential"/>
  </way>
</osm>
"""


def write_osm(tmp_path):
    path = tmp_path / "roads.osm"
    path.write_text(OSM_XML)
    return path


def test_read_road_graph_osm_xml(tmp_path):
    pytest.importorskip("osmnx", reason="osmnx (extra 'roads') is needed to read OSM XML")
    G = read_road_graph(write_osm(tmp_path))
    assert set(G.nodes) == {("road", k) for k in (1, 2, 3, 4)}
    assert G.number_of_edges() == 3
    e = G.edges[("road", 2), ("road", 4)]
    # osmnx measures on a sphere; the residential speed is 25 km/h
    assert e["length_km"] == pytest.approx(km(0.05, 0, 0.05, 0.05), rel=0.01)
    assert e["travel_time_h"] == pytest.approx(e["length_km"] / 25.0)
    assert G.edges[("road", 1), ("road", 2)]["travel_time_h"] == pytest.approx(
        G.edges[("road", 1), ("road", 2)]["length_km"] / 60.0)


def test_read_road_graph_osm_xml_without_osmnx(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_osmnx(name, *args, **kwargs):
        if name == "osmnx":
            raise ImportError("No module named 'osmnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_osmnx)
    with pytest.raises(MissingDependencyError, match="osmnx"):
        read_road_graph(write_osm(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("osmnx") is None,
                    reason="osmnx (extra 'roads') is needed to read OSM XML")
def test_read_road_graph_bad_osm_xml(tmp_path):
    path = tmp_path / "bad.osm"
    path.write_text('<osm version="0.6"><node id="1" lat="x" lon="0"/></osm>')
    with pytest.raises(ValidationError, match="bad.osm: not a readable OSM XML"):
        read_road_graph(path)


def test_attach_points_snaps_to_the_nearest_road_node():
    road = read_road_graph(toy_road())
    G = attach_points(road, np.array([0.09, 0.001]), np.array([0.0, 0.0]), ["p", "q"],
                      node_attrs={"kind": ["site", "demand"]})
    assert set(G["p"]) == {("road", 2)}
    assert set(G["q"]) == {("road", 1)}
    e = G.edges["p", ("road", 2)]
    assert e["access"] is True
    assert e["length_km"] == pytest.approx(km(0.09, 0, 0.1, 0) * settings.CIRCUITY)
    assert e["travel_time_h"] == pytest.approx(banded_h(e["length_km"]))
    assert road.number_of_nodes() == 3  # the input is left alone


def test_road_arrays_round_trip_and_subset():
    road = read_road_graph(toy_road())
    arr = RoadArrays.from_graph(road)
    assert arr.n_nodes == 3
    back = arr.to_graph()
    assert set(back.edges) == set(road.edges)
    sub = arr.subset(np.array([True, True, False]))
    assert sub.n_nodes == 2 and len(sub.u) == 1
    assert sub.length_km.tolist() == [11.0]


def test_road_mask_by_polygon_and_by_box():
    arr = RoadArrays.from_graph(read_road_graph(toy_road()))
    pts = CountryPoints("XX", np.array(["d"], dtype=object), np.array([False]),
                        np.array([0.0]), np.array([0.0]), box(-0.05, -0.05, 0.05, 0.05))
    assert road_mask(arr, pts, border_buffer_km=1.0).tolist() == [True, False, False]
    pts.polygon = None
    # the point's bounding box widened by 5 km holds node 1; by 12 km (0.108°) all three
    assert road_mask(arr, pts, border_buffer_km=5.0).tolist() == [True, False, False]
    assert road_mask(arr, pts, border_buffer_km=12.0).tolist() == [True, True, True]


def test_network_from_points_uses_roads_when_given():
    pts = CountryPoints("XX", np.array(["s", "d"], dtype=object), np.array([True, False]),
                        np.array([0.0, 0.1]), np.array([0.0, 0.1]))
    road = RoadArrays.from_graph(read_road_graph(toy_road()))
    G = network_from_points(pts, road=road)
    assert G.graph["source"] == "roads"
    path = nx.shortest_path(G, ("site", "s"), ("demand", "d"), weight="travel_time_h")
    assert path == [("site", "s"), ("road", 1), ("road", 2), ("road", 3), ("demand", "d")]
    assert G.nodes[("site", "s")]["country"] == "XX"


# ------------------------------------------------------------------ cross-border


def two_countries():
    polys = {"FR": box(-1, 0, 0, 1), "DE": box(0, 0, 1, 1)}
    fr = build_network(np.array([-0.1, -0.9]), np.array([0.5, 0.5]), ["fr_s", "fr_d"],
                       polygon=polys["FR"])
    de = build_network(np.array([0.1, 0.9]), np.array([0.5, 0.5]), ["de_d", "de_s"],
                       polygon=polys["DE"])
    return {"FR": fr, "DE": de}, polys


def test_join_networks_links_nearest_nodes_across_the_border():
    graphs, polys = two_countries()
    G = join_networks(graphs, polys)
    border = [(u, v) for u, v, c in G.edges(data="cross_border") if c]
    assert len(border) == 1 and set(border[0]) == {"fr_s", "de_d"}
    e = G.edges["fr_s", "de_d"]
    road_km = km(-0.1, 0.5, 0.1, 0.5) * settings.CIRCUITY
    assert e["mode"] == "road"
    assert e["length_km"] == pytest.approx(road_km)
    assert e["travel_time_h"] == pytest.approx(banded_h(road_km) + settings.CROSS_BORDER_DELAY_H)
    assert G.graph["border_links"] == 1 and G.graph["ferry_links"] == 0
    assert G.number_of_edges() == 3


def test_join_networks_across_water_is_a_ferry():
    polys = {"FR": box(-1, 0, -0.3, 1), "DE": box(0.3, 0, 1, 1)}  # 0.6° of sea between
    fr = build_network(np.array([-0.35]), np.array([0.5]), ["fr"], polygon=polys["FR"])
    de = build_network(np.array([0.35]), np.array([0.5]), ["de"], polygon=polys["DE"])
    G = join_networks({"FR": fr, "DE": de}, polys, link_max_km=100.0)
    e = G.edges["fr", "de"]
    d = km(-0.35, 0.5, 0.35, 0.5)
    assert e["mode"] == "ferry" and e["length_km"] == pytest.approx(d)
    assert e["travel_time_h"] == pytest.approx(2.0 + d / 30.0)
    assert G.graph["ferry_links"] == 1 and G.graph["border_links"] == 1


def test_join_networks_leaves_far_countries_apart():
    graphs, _ = two_countries()
    far = build_network(np.array([30.0]), np.array([0.5]), ["far"])
    G = join_networks({**graphs, "PL": far})  # no polygons: distance decides
    assert G.degree("far") == 0
    assert G.has_edge("fr_s", "de_d")


def test_join_networks_rejects_shared_keys():
    a = build_network(np.array([0.0]), np.array([0.0]), ["x"])
    b = build_network(np.array([0.1]), np.array([0.0]), ["x"])
    with pytest.raises(ValidationError, match="'x' is in both A and B"):
        join_networks({"A": a, "B": b})


# ------------------------------------------------------------------ from frames


def test_build_country_network_from_frames():
    demand = gpd.GeoDataFrame(
        {"id": ["d1", "d2", "d3"], "country": ["JP", "JP", "KR"]},
        geometry=[Point(0.5, 0.5), Point(1.6, 0.1), Point(5, 5)], crs=4326)
    sites = gpd.GeoDataFrame({"id": ["s1"], "country": ["JP"]}, geometry=[Point(0.9, 0.1)],
                             crs=4326)
    countries = gpd.GeoDataFrame({"country": ["JP"]}, geometry=[islands_polygon()], crs=4326)
    G = build_country_network(demand, sites, countries, country="JP")
    assert set(G.nodes) == {("site", "s1"), ("demand", "d1"), ("demand", "d2")}
    assert G.edges[("site", "s1"), ("demand", "d2")]["mode"] == "ferry"
    assert G.graph["country"] == "JP" and G.graph["source"] == "proximity"
    assert shapely.Point(G.nodes[("demand", "d2")]["x"], G.nodes[("demand", "d2")]["y"]).equals(
        Point(1.6, 0.1))
