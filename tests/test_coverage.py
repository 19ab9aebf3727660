"""Tests of hzlogistics.coverage on hand-made toy instances."""

from __future__ import annotations

import pickle
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from shapely.geometry import LineString, MultiPolygon, Point, box

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.coverage import (
    CountryTask,
    Coverage,
    build_country_coverage,
    build_coverage,
    coverage_from_pairs,
    read_coverage_csv,
    resolve_cutoff_h,
)
from hzlogistics.network import CountryPoints
from tests._toy import banded_h, km

DATA = Path(__file__).resolve().parents[1] / "data" / "countries"


def points(ids, countries, xy, **extra) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(ids), "country": list(countries), **extra},
        geometry=[Point(x, y) for x, y in xy], crs="EPSG:4326",
    )


def pair(cov: Coverage, site: str, demand: str) -> tuple[bool, float, float]:
    i = cov.site_ids.tolist().index(site)
    j = cov.demand_ids.tolist().index(demand)
    return bool(cov.cover[i, j]), float(cov.travel_time_h[i, j]), float(cov.distance_km[i, j])


# ------------------------------------------------------------------ a line of towns


@pytest.fixture
def line():
    """A site at lon 0 and demand every 0.1° along the equator (one co-located)."""
    demand = points(["d0", "d1", "d2", "d3"], ["XX"] * 4,
                    [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (0.3, 0.0)], weight=[1.0, 2, 3, 4])
    sites = points(["s"], ["XX"], [(0.0, 0.0)])
    return demand, sites


@pytest.mark.parametrize("engine", ["scipy", "networkx"])
def test_line_reachable_set_and_times_by_hand(line, engine):
    demand, sites = line
    hop_km = km(0, 0, 0.1, 0) * settings.CIRCUITY
    hop_h = banded_h(hop_km)  # ≈ 0.41 h
    cov = build_coverage(demand, sites, cutoff_h=1.0, engine=engine)
    # 2 hops (0.82 h) fit in 1 h, 3 hops (1.23 h) do not
    assert cov.cover.toarray().tolist() == [[True, True, True, False]]
    _, t1, d1 = pair(cov, "s", "d1")
    _, t2, d2 = pair(cov, "s", "d2")
    assert t1 == pytest.approx(hop_h, rel=1e-9) and d1 == pytest.approx(hop_km, rel=1e-9)
    assert t2 == pytest.approx(2 * hop_h, rel=1e-9) and d2 == pytest.approx(2 * hop_km, rel=1e-9)
    assert cov.mode == "network" and cov.cutoff_h == 1.0 and cov.service_level is None
    assert cov.unreachable.tolist() == []
    assert cov.site_ids.tolist() == ["s"] and cov.demand_ids.tolist() == ["d0", "d1", "d2", "d3"]


def test_cutoff_is_inclusive_and_service_levels_apply(line):
    demand, sites = line
    hop_h = banded_h(km(0, 0, 0.1, 0) * settings.CIRCUITY)
    cov = build_coverage(demand, sites, cutoff_h=3 * hop_h)
    assert cov.cover.toarray().tolist() == [[True, True, True, True]]
    cov = build_coverage(demand, sites, service_level="same-day")
    assert cov.cutoff_h == 3.0 and cov.service_level == "same-day"
    assert cov.nnz == 4


def test_site_at_a_demand_point_keeps_its_entry(line):
    demand, sites = line
    cov = build_coverage(demand, sites, cutoff_h=1.0)
    covered, t0, d0 = pair(cov, "s", "d0")
    assert covered and 0 < t0 <= 1e-6 and 0 < d0 <= 1e-6
    # the pattern survives sparse arithmetic that drops explicit zeros
    scaled = cov.travel_time_h.multiply(2.0).tocsr()
    scaled.eliminate_zeros()
    assert scaled.nnz == cov.cover.nnz
    assert cov.travel_time_h.nnz == cov.distance_km.nnz == cov.cover.nnz
    assert cov.cover.dtype == bool and isinstance(cov.cover, sp.csr_matrix)
    assert cov.to_graph().has_edge(("site", "s"), ("demand", "d0"))


# ------------------------------------------------------------------ islands


def islands():
    country = gpd.GeoDataFrame(
        {"country": ["JP"]},
        geometry=[MultiPolygon([box(0, 0, 1, 1), box(1.5, 0, 1.7, 0.2), box(19, 0, 19.2, 0.2)])],
        crs="EPSG:4326",
    )
    demand = points(["m1", "isle", "far"], ["JP"] * 3, [(0.5, 0.5), (1.6, 0.1), (19.1, 0.1)])
    sites = points(["main", "far_site"], ["JP"] * 2, [(0.9, 0.1), (19.05, 0.05)])
    return demand, sites, country


def test_island_reached_by_ferry_within_the_right_service_level():
    demand, sites, country = islands()
    ferry_h = settings.FERRY_HANDLING_H + km(0.9, 0.1, 1.6, 0.1) / settings.FERRY_SPEED_KPH
    cov = build_coverage(demand, sites, country, service_level="next-day")
    covered, t, d = pair(cov, "main", "isle")
    assert covered and t == pytest.approx(ferry_h) and d == pytest.approx(km(0.9, 0.1, 1.6, 0.1))
    assert cov.stats["JP"]["ferry_links"] == 1
    assert cov.stats["JP"]["parts"] == 2  # the far island is > FERRY_MAX_KM away
    same_day = build_coverage(demand, sites, country, service_level="same-day")
    assert not pair(same_day, "main", "isle")[0]
    assert pair(same_day, "main", "m1")[0]


def test_unreachable_far_island_is_reported_not_dropped():
    demand, sites, country = islands()
    cov = build_coverage(demand, sites.iloc[:1], country)
    assert cov.unreachable.tolist() == ["far"]
    assert cov.n_demand == 3 and cov.stats["JP"]["unreachable"] == 1
    # with a site on the far island nobody is unreachable; the subset without it is back
    full = build_coverage(demand, sites, country)
    assert full.unreachable.tolist() == []
    assert pair(full, "far_site", "far")[0]
    assert not pair(full, "main", "far")[0]
    sub = full.subset(np.array([True, False]))
    assert sub.unreachable.tolist() == ["far"]
    assert sub.site_ids.tolist() == ["main"]
    np.testing.assert_array_equal(sub.cover.toarray(), full.cover.toarray()[:1])


def test_demand_in_a_country_without_sites_is_unreachable():
    demand = points(["a", "b"], ["XX", "YY"], [(0, 0), (5, 5)])
    sites = points(["s"], ["XX"], [(0.01, 0)])
    cov = build_coverage(demand, sites)
    assert cov.unreachable.tolist() == ["b"]
    assert cov.stats["YY"]["sites"] == 0 and cov.stats["YY"]["nonzeros"] == 0


# ------------------------------------------------------------------ cross-border


def eu_pair():
    countries = gpd.GeoDataFrame({"country": ["FR", "DE"]},
                                 geometry=[box(-1, 0, 0, 1), box(0, 0, 1, 1)], crs="EPSG:4326")
    demand = points(["fr_d", "de_d"], ["FR", "DE"], [(-0.9, 0.5), (0.1, 0.5)])
    sites = points(["fr_s", "de_s"], ["FR", "DE"], [(-0.1, 0.5), (0.9, 0.5)])
    return demand, sites, countries


@pytest.mark.parametrize("engine", ["scipy", "networkx"])
def test_cross_border_off_by_default_and_on_inside_a_group(engine):
    demand, sites, countries = eu_pair()
    off = build_coverage(demand, sites, countries, cutoff_h=24.0, engine=engine)
    assert not pair(off, "fr_s", "de_d")[0]
    assert not pair(off, "de_s", "fr_d")[0]
    assert set(off.stats) == {"FR", "DE"}
    on = build_coverage(demand, sites, countries, cutoff_h=24.0, cross_border=["EU"],
                        engine=engine)
    assert set(on.stats) == {"EU"} and on.stats["EU"]["border_links"] == 1
    covered, t, d = pair(on, "fr_s", "de_d")
    road_km = km(-0.1, 0.5, 0.1, 0.5) * settings.CIRCUITY
    assert covered and d == pytest.approx(road_km)
    assert t == pytest.approx(banded_h(road_km) + settings.CROSS_BORDER_DELAY_H)
    # de_s reaches fr_d through the single border link, hop by hop
    covered, t, _ = pair(on, "de_s", "fr_d")
    hops = [((0.9, 0.5), (0.1, 0.5)), ((0.1, 0.5), (-0.1, 0.5)), ((-0.1, 0.5), (-0.9, 0.5))]
    expected = sum(banded_h(km(*a, *b) * settings.CIRCUITY) for a, b in hops)
    assert covered and t == pytest.approx(expected + settings.CROSS_BORDER_DELAY_H)


def test_cross_border_group_only_joins_its_members():
    demand, sites, countries = eu_pair()
    countries.loc[1, "country"] = "GB"  # not in the EU group
    demand.loc[1, "country"] = "GB"
    sites.loc[1, "country"] = "GB"
    cov = build_coverage(demand, sites, countries, cutoff_h=24.0, cross_border=("EU",))
    assert not pair(cov, "fr_s", "de_d")[0]
    assert set(cov.stats) == {"FR", "GB"}


def test_geodesic_mode_cross_border():
    demand, sites, countries = eu_pair()
    off = build_coverage(demand, sites, countries, mode="geodesic", radius_km=50.0)
    assert off.cover.toarray().tolist() == [[False, False], [False, False]]
    on = build_coverage(demand, sites, countries, mode="geodesic", radius_km=50.0,
                        cross_border=("EU",))
    covered, t, d = pair(on, "fr_s", "de_d")
    assert covered and d == pytest.approx(km(-0.1, 0.5, 0.1, 0.5))
    assert t == pytest.approx(d * settings.CIRCUITY / settings.GEODESIC_SPEED_KPH)
    assert on.nnz == 1 and on.mode == "geodesic" and on.radius_km == 50.0


# ------------------------------------------------------------------ geodesic mode


def test_geodesic_mode_matches_pyproj_brute_force():
    rng = np.random.default_rng(7)
    # near the pole and across the antimeridian, where a flat search would fail
    n_d, n_s = 400, 40
    lon_d = (179.0 + rng.uniform(-3, 3, n_d) + 180) % 360 - 180
    lat_d = rng.uniform(60, 70, n_d)
    lon_s = (179.0 + rng.uniform(-3, 3, n_s) + 180) % 360 - 180
    lat_s = rng.uniform(60, 70, n_s)
    demand = points([f"d{i}" for i in range(n_d)], ["RU"] * n_d, zip(lon_d, lat_d, strict=True))
    sites = points([f"s{i}" for i in range(n_s)], ["RU"] * n_s, zip(lon_s, lat_s, strict=True))
    radius = 80.0
    cov = build_coverage(demand, sites, mode="geodesic", radius_km=radius, circuity=1.2)
    dist = np.array([[km(a, b, c, d) for c, d in zip(lon_d, lat_d, strict=True)]
                     for a, b in zip(lon_s, lat_s, strict=True)])
    expected = dist <= radius
    assert expected.sum() > 50  # the instance is not trivial
    np.testing.assert_array_equal(cov.cover.toarray(), expected)
    r, c = np.nonzero(expected)
    np.testing.assert_allclose(np.asarray(cov.distance_km[r, c]).ravel(), dist[r, c],
                               rtol=1e-9)
    np.testing.assert_allclose(np.asarray(cov.travel_time_h[r, c]).ravel(),
                               dist[r, c] * 1.2 / settings.GEODESIC_SPEED_KPH, rtol=1e-9)


def test_geodesic_default_radius_follows_the_service_level(line):
    demand, sites = line
    cov = build_coverage(demand, sites, mode="geodesic", service_level="same-day")
    assert cov.radius_km == pytest.approx(3.0 * settings.GEODESIC_SPEED_KPH / settings.CIRCUITY)
    assert cov.nnz == 4


# ------------------------------------------------------------------ engines agree


def random_instance(seed: int):
    rng = np.random.default_rng(seed)
    countries = gpd.GeoDataFrame(
        {"country": ["FR", "DE"]},
        geometry=[MultiPolygon([box(-4, 0, 0, 3), box(-3, -1.5, -2, -0.6)]), box(0, 0, 4, 3)],
        crs="EPSG:4326",
    )
    rows = []
    for code, (x0, x1) in (("FR", (-4, 0)), ("DE", (0, 4))):
        for i in range(150):
            rows.append((f"{code}d{i}", code, rng.uniform(x0, x1), rng.uniform(0, 3)))
    rows += [(f"FRisle{i}", "FR", rng.uniform(-3, -2), rng.uniform(-1.5, -0.6))
             for i in range(10)]
    demand = points([r[0] for r in rows], [r[1] for r in rows], [(r[2], r[3]) for r in rows])
    srows = [(f"{code}s{i}", code, rng.uniform(x0, x1), rng.uniform(0, 3))
             for code, (x0, x1) in (("FR", (-4, 0)), ("DE", (0, 4))) for i in range(12)]
    sites = points([r[0] for r in srows], [r[1] for r in srows], [(r[2], r[3]) for r in srows])
    return demand, sites, countries


@pytest.mark.parametrize(("seed", "cross_border"), [(1, ()), (2, ("EU",))])
def test_networkx_and_scipy_engines_agree(seed, cross_border):
    demand, sites, countries = random_instance(seed)
    kw = dict(service_level="next-day", cross_border=cross_border)
    a = build_coverage(demand, sites, countries, engine="scipy", **kw)
    b = build_coverage(demand, sites, countries, engine="networkx", **kw)
    assert a.nnz > 1000
    assert (a.cover != b.cover).nnz == 0
    np.testing.assert_allclose(a.travel_time_h.data, b.travel_time_h.data, rtol=1e-9)
    np.testing.assert_allclose(a.distance_km.data, b.distance_km.data, rtol=1e-9)
    np.testing.assert_array_equal(a.unreachable, b.unreachable)
    # the instance exercises a ferry link (the FR island)
    assert any(s["ferry_links"] for s in a.stats.values())


def test_scipy_engine_matches_networkx_dijkstra_on_the_network():
    demand, sites, countries = random_instance(3)
    from hzlogistics.network import build_country_network

    G = build_country_network(demand, sites, countries, country="FR")
    cov = build_coverage(demand, sites, countries, cutoff_h=4.0)
    for s in ["FRs0", "FRs5"]:
        lengths = nx.single_source_dijkstra_path_length(G, ("site", s), cutoff=4.0,
                                                        weight="travel_time_h")
        expected = {k[1]: t for k, t in lengths.items() if k[0] == "demand"}
        i = cov.site_ids.tolist().index(s)
        row = cov.travel_time_h[i]
        got = {cov.demand_ids[j]: v for j, v in zip(row.indices, row.data, strict=True)}
        assert set(got) == set(expected)
        for k, t in expected.items():
            assert got[k] == pytest.approx(max(t, 1e-9), rel=1e-9)


# ------------------------------------------------------------------ map_fn and tasks


def test_map_fn_receives_small_picklable_tasks(line):
    demand, sites = line
    seen: list[CountryTask] = []

    def pickling_map(fn, tasks):
        out = []
        for task in tasks:
            seen.append(task)
            out.append(pickle.loads(pickle.dumps(fn(pickle.loads(pickle.dumps(task))))))
        return out

    a = build_coverage(demand, sites, cutoff_h=1.0, map_fn=pickling_map)
    b = build_coverage(demand, sites, cutoff_h=1.0)
    assert len(seen) == 1 and seen[0].name == "XX" and seen[0].size == 5
    assert len(pickle.dumps(seen[0])) < 5_000
    assert (a.cover != b.cover).nnz == 0
    np.testing.assert_allclose(a.travel_time_h.data, b.travel_time_h.data)


def test_build_country_coverage_positions():
    pts = CountryPoints("XX", np.array(["s", "d"], dtype=object), np.array([True, False]),
                        np.array([0.0, 0.05]), np.array([0.0, 0.0]))
    res = build_country_coverage(CountryTask("XX", (pts,), (np.array([7, 3]),), cutoff_h=1.0))
    assert res.rows.tolist() == [7] and res.cols.tolist() == [3]
    assert res.travel_time_h[0] == pytest.approx(banded_h(km(0, 0, 0.05, 0) * 1.3))
    assert res.stats["nodes"] == 2 and res.stats["edges"] == 1 and res.stats["nonzeros"] == 1


# ------------------------------------------------------------------ road graphs


def road_graphml(tmp_path) -> Path:
    R = nx.Graph()
    R.add_node("r1", x=0.0, y=0.0)
    R.add_node("r2", x=0.2, y=0.0)
    R.add_node("r3", x=0.2, y=0.2)
    R.add_edge("r1", "r2", length=25_000.0, speed_kph=100.0)
    R.add_edge("r2", "r3", length=30_000.0, travel_time=1_800.0)
    path = tmp_path / "roads.graphml"
    nx.write_graphml(R, path)
    return path


def test_road_graph_from_graphml(tmp_path):
    demand = points(["d"], ["XX"], [(0.2, 0.21)])
    sites = points(["s"], ["XX"], [(0.0, 0.01)])
    cov = build_coverage(demand, sites, cutoff_h=2.0, road_graph=road_graphml(tmp_path))
    access_s = km(0.0, 0.01, 0.0, 0.0) * settings.CIRCUITY
    access_d = km(0.2, 0.21, 0.2, 0.2) * settings.CIRCUITY
    expected_h = banded_h(access_s) + 0.25 + 0.5 + banded_h(access_d)
    covered, t, d = pair(cov, "s", "d")
    assert covered and t == pytest.approx(expected_h)
    assert d == pytest.approx(access_s + 25.0 + 30.0 + access_d)
    assert cov.stats["XX"]["nodes"] == 5


def test_road_graph_from_osm_xml(tmp_path):
    pytest.importorskip("osmnx", reason="osmnx (extra 'roads') is needed to read OSM XML")
    path = tmp_path / "roads.osm"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="tests">\n'
        '<node id="1" lat="0.0" lon="0.0"/><node id="2" lat="0.0" lon="0.05"/>\n'
        '<node id="3" lat="0.0" lon="0.10"/><node id="4" lat="0.05" lon="0.05"/>\n'
        '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
        '<tag k="highway" v="primary"/></way>\n'
        '<way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="residential"/></way>\n'
        "</osm>\n"
    )
    demand = points(["d"], ["XX"], [(0.05, 0.05)])  # on node 4
    sites = points(["s"], ["XX"], [(0.0, 0.0)])  # on node 1
    cov = build_coverage(demand, sites, cutoff_h=1.0, road_graph=path)
    primary = km(0, 0, 0.05, 0)
    residential = km(0.05, 0, 0.05, 0.05)
    covered, t, d = pair(cov, "s", "d")
    assert covered
    # osmnx measures on a sphere: within 0.5 % of the ellipsoid
    assert t == pytest.approx(primary / 60.0 + residential / 25.0, rel=5e-3)
    assert d == pytest.approx(primary + residential, rel=5e-3)


def test_road_graph_with_negative_weight_is_rejected():
    R = nx.Graph()
    R.add_node(1, x=0.0, y=0.0)
    R.add_node(2, x=0.1, y=0.0)
    R.add_edge(1, 2, length=1000.0, travel_time=-3.0)
    demand = points(["d"], ["XX"], [(0.1, 0.0)])
    sites = points(["s"], ["XX"], [(0.0, 0.0)])
    with pytest.raises(ValidationError, match=r"edge \(1, 2\).*travel time"):
        build_coverage(demand, sites, road_graph=R)


def test_road_graph_file_that_does_not_parse(tmp_path, line):
    demand, sites = line
    bad = tmp_path / "roads.graphml"
    bad.write_text("<graphml><graph><node id='a'>")
    with pytest.raises(ValidationError, match="roads.graphml: not a readable GraphML"):
        build_coverage(demand, sites, road_graph=bad)


def test_network_edge_with_missing_weight_is_rejected():
    G = nx.Graph()
    G.add_edge(("site", "s"), ("demand", "d"), length_km=1.0)
    from hzlogistics.coverage.paths import dijkstra_networkx, dijkstra_scipy

    for run in (dijkstra_scipy, dijkstra_networkx):
        with pytest.raises(ValidationError, match="travel_time_h None"):
            run(G, [("site", "s")], [("demand", "d")], 1.0)
    G.edges[("site", "s"), ("demand", "d")]["travel_time_h"] = -1.0
    with pytest.raises(ValidationError, match="travel_time_h -1.0"):
        dijkstra_scipy(G, [("site", "s")], [("demand", "d")], 1.0)


# ------------------------------------------------------------------ bad input


def test_unknown_service_level(line):
    demand, sites = line
    with pytest.raises(ValidationError, match="service_level 'overnight' is unknown"):
        build_coverage(demand, sites, service_level="overnight")


@pytest.mark.parametrize("cutoff", [0.0, -1.0, float("nan"), float("inf")])
def test_cutoff_must_be_positive(line, cutoff):
    demand, sites = line
    with pytest.raises(ValidationError, match="cutoff_h .* must be a number of hours > 0"):
        build_coverage(demand, sites, cutoff_h=cutoff)


def test_site_outside_every_country(line):
    demand, sites = line
    countries = gpd.GeoDataFrame({"country": ["YY"]}, geometry=[box(-1, -1, 1, 1)],
                                 crs="EPSG:4326")
    with pytest.raises(ValidationError) as info:
        build_coverage(demand, sites, countries)
    problems = info.value.problems
    assert problems[0].startswith("sites row 0 (id 's'): country 'XX' is not among")
    assert sum(p.startswith("demand row") for p in problems) == 4


def test_every_option_problem_reported_at_once(line):
    demand, sites = line
    with pytest.raises(ValidationError) as info:
        build_coverage(demand, sites, service_level="x", mode="walk", engine="igraph",
                       radius_km=-5.0, circuity=0.5, cross_border=("ASEAN",))
    text = str(info.value)
    for needle in ("service_level 'x'", "mode 'walk'", "engine 'igraph'", "radius_km -5.0",
                   "circuity 0.5", "cross_border group 'ASEAN'"):
        assert needle in text


def test_bad_frames_named_by_row(line):
    demand, sites = line
    demand = demand.copy()
    demand.loc[1, "id"] = "d0"
    demand.loc[2, "geometry"] = LineString([(0, 0), (1, 1)])
    demand.loc[3, "country"] = None
    with pytest.raises(ValidationError) as info:
        build_coverage(demand, sites.drop(columns="country"))
    text = str(info.value)
    assert "demand row 1: id 'd0' is used by an earlier row" in text
    assert "demand row 2 (id 'd2'): geometry is not a Point" in text
    assert "demand row 3 (id 'd3'): country is empty" in text
    assert "sites: missing column(s) ['country']" in text


def test_resolve_cutoff():
    assert resolve_cutoff_h("two-day", None) == 16.0
    assert resolve_cutoff_h("two-day", 2.5) == 2.5
    with pytest.raises(ValidationError, match="give a service_level or a cutoff_h"):
        resolve_cutoff_h(None, None)


def test_frames_in_another_crs_are_converted(line):
    demand, sites = line
    a = build_coverage(demand.to_crs(3857), sites.to_crs(3857), cutoff_h=1.0)
    b = build_coverage(demand, sites, cutoff_h=1.0)
    np.testing.assert_allclose(a.travel_time_h.toarray(), b.travel_time_h.toarray(), rtol=1e-6)


# ------------------------------------------------------------------ Coverage methods


def test_to_graph_edges_frame_and_service_areas():
    demand, sites, country = islands()
    demand["weight"] = [10.0, 20.0, 30.0]
    cov = build_coverage(demand, sites, country, service_level="next-day")
    B = cov.to_graph()
    assert B.number_of_nodes() == 5 and B.number_of_edges() == cov.nnz == 3
    assert {d["bipartite"] for _, d in B.nodes(data=True)} == {0, 1}
    t = B.edges[("site", "main"), ("demand", "isle")]["travel_time_h"]
    assert t == pytest.approx(pair(cov, "main", "isle")[1])

    edges = cov.edges_frame(demand, sites)
    assert len(edges) == 3 and edges.crs.to_epsg() == 4326
    row = edges[(edges.site_id == "main") & (edges.demand_id == "isle")].iloc[0]
    assert list(row.geometry.coords) == [(0.9, 0.1), (1.6, 0.1)]

    areas = cov.service_areas(sites, demand)
    assert areas.site_id.tolist() == ["main", "far_site"]
    assert areas.n_demand.tolist() == [2, 1]
    assert areas.weight.tolist() == [30.0, 30.0]
    main = areas.geometry.iloc[0]
    for x, y in [(0.9, 0.1), (0.5, 0.5), (1.6, 0.1)]:
        assert main.covers(Point(x, y))
    assert not main.covers(Point(19.1, 0.1))
    only = cov.service_areas(sites, demand, site_mask=np.array([False, True]))
    assert only.site_id.tolist() == ["far_site"]
    assert only.geometry.iloc[0].covers(Point(19.1, 0.1))


def test_service_area_of_a_site_covering_nothing_is_a_disc():
    demand = points(["d"], ["XX"], [(5.0, 5.0)])
    sites = points(["s"], ["XX"], [(0.0, 0.0)])
    cov = build_coverage(demand, sites, cutoff_h=0.5)
    area = cov.service_areas(sites, demand, buffer_km=10.0)
    poly = area.geometry.iloc[0]
    assert area.n_demand.tolist() == [0]
    assert poly.covers(Point(0.0, 0.0)) and poly.covers(Point(0.08, 0.0))  # 8.9 km
    assert not poly.covers(Point(0.1, 0.0))  # 11.1 km


def test_methods_reject_unknown_ids(line):
    demand, sites = line
    cov = build_coverage(demand, sites, cutoff_h=1.0)
    with pytest.raises(ValidationError, match=r"ids \['s'\]"):
        cov.edges_frame(demand, points(["other"], ["XX"], [(0, 0)]))
    with pytest.raises(ValidationError, match="site_mask"):
        cov.subset(np.array([True, False]))


def test_coverage_from_pairs_rejects_bad_positions():
    with pytest.raises(ValidationError, match="outside the site or demand ids"):
        coverage_from_pairs(["s"], ["a"], [0], [1])
    with pytest.raises(ValidationError, match="1 site positions but 2 demand positions"):
        coverage_from_pairs(["s"], ["a", "b"], [0], [0, 1])


def test_progress_bar_gives_the_same_result(line, capsys):
    demand, sites = line
    a = build_coverage(demand, sites, cutoff_h=1.0, progress=True)
    b = build_coverage(demand, sites, cutoff_h=1.0)
    assert (a.cover != b.cover).nnz == 0
    assert "coverage" in capsys.readouterr().err


def test_coverage_checks_its_matrices():
    cov = coverage_from_pairs(["s"], ["a"], [0], [0], travel_time_h=[1.0])
    with pytest.raises(ValidationError, match="pattern differs"):
        Coverage(cov.site_ids, cov.demand_ids, cov.cover, sp.csr_matrix((1, 1)),
                 cov.distance_km, "csv", None, None, None, np.array([]))


# ------------------------------------------------------------------ CSV coverage


def test_read_coverage_csv(tmp_path):
    path = tmp_path / "cover.csv"
    path.write_text("site_id,demand_id,travel_time_h\ns1,d2,1.5\ns1,d2,0.5\ns2,d1,0\n")
    cov = read_coverage_csv(path, ["s1", "s2"], ["d1", "d2", "d3"])
    assert cov.cover.toarray().tolist() == [[False, True, False], [True, False, False]]
    assert cov.travel_time_h[0, 1] == 0.5  # the shortest of the repeated pair
    assert 0 < cov.travel_time_h[1, 0] <= 1e-6  # zero kept as an entry
    assert cov.unreachable.tolist() == ["d3"]
    assert cov.mode == "csv" and np.isnan(cov.distance_km.data).all()


def test_read_coverage_csv_without_times(tmp_path):
    path = tmp_path / "cover.csv"
    path.write_text("site_id,demand_id\n7,0042\n")
    cov = read_coverage_csv(path, ["7"], ["0042", "1"])
    assert cov.cover.toarray().tolist() == [[True, False]]
    assert np.isnan(cov.travel_time_h.data).all()


def test_read_coverage_csv_names_bad_rows(tmp_path):
    path = tmp_path / "cover.csv"
    path.write_text("site_id,demand_id,travel_time_h\ns1,d1,1\nsX,d1,1\ns1,dY,-2\n")
    with pytest.raises(ValidationError) as info:
        read_coverage_csv(path, ["s1"], ["d1"])
    problems = info.value.problems
    assert any("cover.csv line 3: site_id 'sX' is not a candidate site" in p for p in problems)
    assert any("cover.csv line 4: demand_id 'dY' is not a demand point" in p for p in problems)
    assert any("cover.csv line 4: travel_time_h" in p for p in problems)
    assert len(problems) == 3


def test_read_coverage_csv_bad_files(tmp_path):
    with pytest.raises(ValidationError, match="no such coverage file"):
        read_coverage_csv(tmp_path / "none.csv", ["s"], ["d"])
    path = tmp_path / "cover.csv"
    path.write_text("site,demand\ns,d\n")
    with pytest.raises(ValidationError, match=r"missing column\(s\) \['site_id', 'demand_id'\]"):
        read_coverage_csv(path, ["s"], ["d"])


# ------------------------------------------------------------------ committed data


@pytest.mark.slow
def test_committed_data_engines_agree_on_two_countries():
    if not (DATA / "demand.csv").exists():
        pytest.skip(f"country data not built yet ({DATA / 'demand.csv'} is missing)")
    from hzlogistics.countries import load_countries, load_demand, load_sites

    codes = ["QA", "NZ"]
    demand, sites, countries = load_demand(codes), load_sites(codes), load_countries(codes)
    a = build_coverage(demand, sites, countries, engine="scipy")
    b = build_coverage(demand, sites, countries, engine="networkx")
    assert (a.cover != b.cover).nnz == 0
    np.testing.assert_allclose(a.travel_time_h.data, b.travel_time_h.data, rtol=1e-9)
    np.testing.assert_allclose(a.distance_km.data, b.distance_km.data, rtol=1e-9)
    np.testing.assert_array_equal(a.unreachable, b.unreachable)
    # every site reaches at least the demand points around it
    assert (np.diff(a.cover.indptr) > 0).all()
    # no pair crosses a border: QA sites only cover QA demand
    qa_sites = np.flatnonzero(np.isin(a.site_ids, sites.loc[sites.country == "QA", "id"]))
    qa_demand = np.isin(a.demand_ids, demand.loc[demand.country == "QA", "id"])
    assert qa_demand[a.cover[qa_sites].indices].all()
    assert sum(s["nonzeros"] for s in a.stats.values()) == a.nnz
