"""Maps of a plan: the folium objects, their data and the HTML written.

What the browser does with the pages is tested in tests/browser/.
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from hzlogistics import settings
from hzlogistics._errors import HzLogisticsError, MissingDependencyError, ValidationError
from hzlogistics.maps import assets as map_assets
from hzlogistics.maps import (
    compare_map,
    escape_text,
    external_links,
    plan_map,
    service_areas,
    site_changes,
    write_map,
)
from hzlogistics.maps.layers import DataLayer, RawHtml, shapes_payload
from hzlogistics.maps.sealanes import days_at_sea, main_port, sea_lanes, split_antimeridian
from hzlogistics.maps.text import RawJson, fmt, pct, rows_html, to_js

try:  # tests/ is a package
    from tests.browser.plans import XSS_PAYLOADS, toy_plan
except ModuleNotFoundError:  # tests/ itself is on the path
    from browser.plans import XSS_PAYLOADS, toy_plan  # type: ignore[no-redef]

UNSAFE = set("<>\"'`$\\{}\n\r\u2028\u2029")
BARE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+);)")


def layers_of(m: folium.Map) -> dict[str, DataLayer]:
    return {c.key: c for c in m._children.values() if isinstance(c, DataLayer)}


def payload(layer: DataLayer) -> dict:
    return json.loads(layer.payload if layer.data_from is None else layer.data_from.payload)


# ------------------------------------------------------------------- escaping

@pytest.mark.parametrize("text", [*XSS_PAYLOADS, "{{ 7*7 }}", "{% for x in y %}", "a\u2028b"])
def test_escape_text_leaves_no_active_character(text: str) -> None:
    out = escape_text(text)
    assert not UNSAFE & set(out)
    assert not BARE_AMPERSAND.search(out)
    assert html.unescape(out) == text


@given(st.text())
def test_escape_text_round_trips_through_html(text: str) -> None:
    out = escape_text(text)
    assert not UNSAFE & set(out)
    assert not BARE_AMPERSAND.search(out)
    assert html.unescape(out) == text


def test_escape_text_of_missing_values_is_empty() -> None:
    assert escape_text(None) == ""
    assert escape_text(float("nan")) == ""
    assert escape_text(12) == "12"


def test_to_js_is_json_without_markup_characters() -> None:
    obj = {"a": "</script><b>&", "n": [1.5, None, True], "u": "x\u2028y"}
    text = to_js(obj)
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == obj
    assert to_js(RawJson('{"x":1}')) == '{"x":1}'
    with pytest.raises(ValueError):
        to_js({"x": float("nan")})


def test_formats() -> None:
    assert fmt(1234567.8) == "1,234,568"
    assert fmt(None) == "–"
    assert pct(0.12345, 2) == "12.35 %"
    assert rows_html([("a", "<x>")]) == "<table><tr><th>a</th><td>&lt;x&gt;</td></tr></table>"


def test_raw_html_is_not_read_as_a_template() -> None:
    assert RawHtml("{{ 7*7 }}").render() == "{{ 7*7 }}"


# ----------------------------------------------------------------- plan map

@pytest.fixture(scope="module")
def toy() -> object:
    return toy_plan()


@pytest.fixture(scope="module")
def toy_map(toy: object) -> folium.Map:
    return plan_map(toy, self_contained=False)


def test_plan_map_has_every_layer(toy_map: folium.Map) -> None:
    layers = layers_of(toy_map)
    assert set(layers) == {"outlines", "countries", "service_areas", "heat", "uncovered",
                           "sea_lanes", "sites"}
    controls = [c for c in toy_map._children.values() if isinstance(c, folium.LayerControl)]
    assert len(controls) == 1
    assert layers["outlines"].control is False
    assert layers["countries"].data_from is layers["outlines"]
    assert layers["service_areas"].show is False and layers["sites"].show is True


def test_sites_layer_holds_the_open_sites(toy, toy_map: folium.Map) -> None:
    data = payload(layers_of(toy_map)["sites"])
    open_sites = toy.sites[toy.sites["open"]]
    assert len(data["rows"]) == len(open_sites) == 6
    titles = [r[3] for r in data["rows"]]
    assert titles == list(open_sites["name"])
    by_name = {r[3]: r for r in data["rows"]}
    berlin = by_name["Berlin hub"]
    assert berlin[:2] == [52.52, 13.4]
    cells = dict(zip(data["labels"], berlin[5:], strict=True))
    assert cells["Country"] == "Germany (DE)"
    assert cells["Status"] == "new warehouse"
    assert cells["Floor area"] == "1,000 m², tier 1,000 m²"
    assert cells["Parcels/day served"] == "1,300"  # D1 900 + D2 400
    assert cells["Utilisation"] == "3 %"  # 1,300 / (1,000 m² x 40 parcels/day/m²)
    assert cells["Rent"] == "USD 90,000 / year (USD 90 / m²)"
    assert cells["Travel time"] == "mean 1.2 h, max 1.5 h"  # (900 x 1.0 + 400 x 1.5) / 1,300
    # existing sites have a black rim; size grows with the tier
    styles = data["styles"]
    munich, la, tokyo = by_name["Munich"], by_name["Los Angeles"], by_name["Tokyo"]
    assert styles[munich[2]]["color"] == "#111111"
    assert styles[berlin[2]]["color"] == "#ffffff"
    assert "hz-site-existing" in styles[tokyo[2]]["className"]
    assert styles[la[2]]["radius"] > styles[berlin[2]]["radius"] > styles[tokyo[2]]["radius"]


def test_candidates_layer_is_optional(toy) -> None:
    m = plan_map(toy, show_candidates=True, sea_lanes=False)
    layers = layers_of(m)
    rows = payload(layers["candidates"])["rows"]
    assert sorted(r[3] for r in rows) == ["Chicago (closed)", "Osaka (closed)"]
    assert layers["candidates"].show is False
    assert "candidates" not in layers_of(plan_map(toy, sea_lanes=False))


def test_uncovered_points_are_the_unserved_demand(toy, toy_map: folium.Map) -> None:
    layer = layers_of(toy_map)["uncovered"]
    rows = payload(layer)["rows"]
    expected = toy.demand[~toy.demand["covered"]]
    assert len(rows) == len(expected) == 5
    assert {r[4].split(" (")[0] for r in rows} == set(expected["name"])
    assert "Town D4 (DE): 500 parcels/day not covered" in [r[4] for r in rows]
    assert layer.opts["canvas"] is True


def test_uncovered_points_beyond_the_cap_keep_the_largest(toy) -> None:
    layer = layers_of(plan_map(toy, sea_lanes=False, max_uncovered_points=2))["uncovered"]
    rows = payload(layer)["rows"]
    unserved = toy.demand[~toy.demand["covered"]].sort_values("weight", ascending=False)
    assert len(rows) == 2
    assert [r[4].split(" (")[0] for r in rows] == list(unserved["name"].iloc[:2])
    assert "the 2 largest of 5" in layer.layer_name


def test_choropleth_colours_follow_the_covered_share() -> None:
    # close Los Angeles: the US then covers (1,800 + 600) / 7,500 = 32 %
    plan = toy_plan(areas_m2=[1000, 300, 0, 500, 0, 150, 0, 200])
    data = payload(layers_of(plan_map(plan, sea_lanes=False))["countries"])
    feats = data["geojson"]["features"]
    tips = [f["properties"]["t"] for f in feats]
    bins = [f["properties"]["s"] for f in feats]
    us = next(i for i, t in enumerate(tips) if "United States (US)" in t)
    de = next(i for i, t in enumerate(tips) if "Germany (DE)" in t)
    assert bins[us] == 1  # 20-40 %
    assert "32.0 % of 7,500 parcels/day" in tips[us]
    assert bins[de] == 3  # (900 + 400 + 350) / 2,150 = 76.7 %
    assert "76.7 % of 2,150 parcels/day" in tips[de]
    assert data["styles"][1]["fillColor"] != data["styles"][3]["fillColor"]


def test_heat_points_keep_the_total_and_the_limit(toy, toy_map: folium.Map) -> None:
    pts = payload(layers_of(toy_map)["heat"])["points"]
    assert len(pts) == len(toy.demand)
    assert max(p[2] for p in pts) == 1.0
    few = payload(layers_of(plan_map(toy, max_heat_points=3, sea_lanes=False))["heat"])
    assert 1 <= len(few["points"]) <= 3
    lats = [p[0] for p in few["points"]]
    assert min(lats) >= toy.demand.geometry.y.min() - 1e-6
    assert max(lats) <= toy.demand.geometry.y.max() + 1e-6


def test_title_panel_shows_the_headline_figures(toy) -> None:
    text = plan_map(toy, sea_lanes=False).get_root().render()
    panel = re.search(r'<div class="hz-panel hz-title" id="hz-title">(.*?)</div></div>?', text,
                      flags=re.S)
    assert panel is not None
    body = html.unescape(re.sub(r"<[^>]+>", " ", panel.group(0)))
    assert "Toy plan" in body
    assert "6 open (2 existing) in 4 countries" in body
    assert "4,150 m² of 5,000 m² (83.0 %)" in body
    assert "72.0 % (10,050 of 13,950 parcels/day)" in body
    assert "0.05 % (optimal)" in body
    assert "<title>Toy plan</title>" in text


def test_service_areas_hold_what_each_site_serves(toy) -> None:
    areas = service_areas(toy).set_index("site_id")
    assert sorted(areas.index) == sorted(toy.sites.loc[toy.sites["open"], "id"])
    demand = toy.demand.set_index("id")
    for site_id, group in toy.assignments.groupby("site_id"):
        poly = areas.loc[site_id, "geometry"]
        site = toy.sites.set_index("id").loc[site_id, "geometry"]
        assert poly.contains(site)
        for demand_id in group["demand_id"]:
            assert poly.contains(demand.loc[demand_id, "geometry"])
    # a site serving nothing else still gets a disc around itself, about the buffer wide
    munich = areas.loc["S2", "geometry"]
    width_km = (munich.bounds[3] - munich.bounds[1]) * 111.32
    served = toy.assignments[toy.assignments["site_id"] == "S2"]
    assert len(served) == 1
    assert width_km > settings.SERVICE_AREA_BUFFER_KM


class _Coverage:
    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.calls: list[np.ndarray] = []

    def service_areas(self, sites, demand, *, site_mask=None):
        self.calls.append(np.asarray(site_mask))
        if self.fail:
            raise RuntimeError("broken")
        open_sites = sites[site_mask]
        discs = shapely.buffer(open_sites.geometry.to_numpy(), 1.0)
        return gpd.GeoDataFrame({"site_id": open_sites["id"].to_numpy()}, geometry=discs,
                                crs="EPSG:4326")


def test_service_areas_come_from_the_coverage_when_it_has_them(toy, caplog) -> None:
    cov = _Coverage(fail=False)
    toy.coverage = cov
    try:
        areas = service_areas(toy)
        assert len(cov.calls) == 1
        assert cov.calls[0].tolist() == toy.sites["open"].tolist()
        assert np.allclose(shapely.area(areas.geometry.values), np.pi, rtol=0.05)
        toy.coverage = _Coverage(fail=True)
        with caplog.at_level(logging.WARNING, logger="hzlogistics.maps"):
            fallback = service_areas(toy)
        assert "coverage.service_areas failed" in caplog.text
        assert len(fallback) == 6
        assert shapely.area(fallback.geometry.values).max() < 1.0
    finally:
        toy.coverage = None


def test_plan_lacking_a_column_is_rejected(toy) -> None:
    broken = toy_plan()
    broken.sites = broken.sites.drop(columns=["status"])
    broken.demand = broken.demand.drop(columns=["covered"])
    with pytest.raises(ValidationError) as err:
        plan_map(broken)
    assert "plan.sites lacks the column(s) status" in str(err.value)
    assert "plan.demand lacks the column(s) covered" in str(err.value)


# ------------------------------------------------------------------ safety

@pytest.fixture(scope="module")
def xss_map() -> folium.Map:
    plan = toy_plan(
        site_names=list(XSS_PAYLOADS),
        demand_names=[XSS_PAYLOADS[i % len(XSS_PAYLOADS)] for i in range(14)],
        country_names={"DE": XSS_PAYLOADS[0], "US": XSS_PAYLOADS[1], "JP": "{{ 7*7 }}"},
        title="<script>document.title='pwned'</script> {{ 7*7 }} ${1+1}",
    )
    return plan_map(plan, show_candidates=True)


@pytest.fixture(scope="module")
def xss_html(xss_map: folium.Map) -> str:
    return xss_map.get_root().render()


@pytest.mark.parametrize("text", [*XSS_PAYLOADS, "<script>document.title='pwned'</script>"])
def test_payloads_never_reach_the_page_raw(xss_html: str, text: str) -> None:
    assert text not in xss_html


def test_payloads_are_shown_as_escaped_text(xss_map: folium.Map, xss_html: str) -> None:
    layers = layers_of(xss_map)
    titles = [r[3] for k in ("sites", "candidates") for r in payload(layers[k])["rows"]]
    assert sorted(titles) == sorted(escape_text(t) for t in XSS_PAYLOADS)
    tips = [f["properties"]["t"] for f in payload(layers["countries"])["geojson"]["features"]]
    assert any(escape_text(XSS_PAYLOADS[1]) in t for t in tips)
    uncovered = [r[4] for r in payload(layers["uncovered"])["rows"]]
    assert all(r.startswith(escape_text(p)) for r, p in zip(
        uncovered, [XSS_PAYLOADS[i % len(XSS_PAYLOADS)] for i in (3, 8, 9, 11, 13)], strict=True))
    title = escape_text("<script>document.title='pwned'</script> {{ 7*7 }} ${1+1}")
    assert f"<title>{title}</title>" in xss_html
    assert f'<div class="hz-title-text">{title}</div>' in xss_html


def test_template_syntax_in_names_is_not_evaluated(xss_html: str) -> None:
    assert "{{ 7*7 }}" not in xss_html
    assert ">49<" not in xss_html and " 49 " not in xss_html
    assert "&#123;&#123; 7*7 &#125;&#125;" in xss_html


def test_only_the_page_own_scripts_run(xss_html: str) -> None:
    # every <script> element is either a bundled/linked asset or folium's and ours
    for attrs in re.findall(r"<script([^>]*)>", xss_html):
        src = re.search(r'src="([^"]+)"', attrs)
        assert src is None or map_assets.asset_for_url(src.group(1)) is not None


# ------------------------------------------------------------------ assets

def test_linked_map_links_only_the_assets_it_uses(toy_map: folium.Map) -> None:
    text = toy_map.get_root().render()
    links = set(re.findall(r'(?:src|href)="(https://[^"]+)"', text))
    expected = {a.url for a in map_assets.ASSETS}
    assert links == expected
    for unused in ("bootstrap", "jquery", "fontawesome", "awesome-markers", "glyphicons"):
        assert unused not in text
    assert "tileLayer" not in text and "tile.openstreetmap" not in text


def test_self_contained_map_loads_nothing_from_the_web(toy, tmp_path: Path) -> None:
    path = tmp_path / "toy.html"
    plan_map(toy, path=path)  # self-contained is the default
    text = path.read_text(encoding="utf-8")
    assert external_links(text) == []
    assert "https://cdn" not in text
    assert map_assets.asset_text("leaflet")[:200] in text
    assert "data:image/png;base64," in text  # leaflet.css images
    assert "</script" not in "".join(
        re.findall(r"<script>(.*?)</script>", text, flags=re.S)).lower()


def test_external_links_finds_scripts_styles_and_images() -> None:
    page = ('<script src="https://a.org/x.js"></script><link rel="stylesheet" href="//b.org/y.css">'
            '<img src="http://c.org/z.png"><a href="https://d.org">ok</a><script>var u="https://e";'
            "</script>")
    found = external_links(page)
    assert len(found) == 3
    assert all(host in " ".join(found) for host in ("a.org", "b.org", "c.org"))


def test_bundled_assets_are_there_with_their_licences() -> None:
    for a in map_assets.ASSETS:
        assert a.path.is_file(), a.path
        assert a.path.stat().st_size > 500
    for licence in ("leaflet-1.9.3/LICENSE", "leaflet.markercluster-1.1.0/MIT-LICENCE.txt"):
        assert "Permission" in (map_assets.ASSET_DIR / licence).read_text() or \
            "Redistribution" in (map_assets.ASSET_DIR / licence).read_text()
    css = map_assets.asset_text("leaflet_css")
    assert "images/layers.png" not in css and "data:image/png;base64," in css


def test_tiles_are_optional(toy) -> None:
    text = plan_map(toy, tiles="OpenStreetMap", sea_lanes=False).get_root().render()
    assert "tile.openstreetmap.org" in text
    assert "background: #dbe9f4" not in text  # the sea colour is for tile-less maps


# ------------------------------------------------------------------ writing

def test_map_is_written_atomically(toy, tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "sub" / "plan.html"
    m = toy.to_map(path, sea_lanes=False)
    assert isinstance(m, folium.Map)
    first = path.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>")
    assert [p.name for p in path.parent.iterdir()] == ["plan.html"]

    class Boom(RuntimeError):
        pass

    def fail(*args, **kwargs):
        raise Boom("disk full")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(Boom):
        write_map(m, path)
    assert path.read_text(encoding="utf-8") == first
    assert [p.name for p in path.parent.iterdir()] == ["plan.html"]


def test_self_contained_check_refuses_web_links(toy, tmp_path: Path) -> None:
    m = plan_map(toy, self_contained=True, sea_lanes=False)
    m.get_root().header.add_child(RawHtml('<script src="https://x.org/a.js"></script>'))
    with pytest.raises(HzLogisticsError, match="still links"):
        write_map(m, tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


# ------------------------------------------------------------------ sea lanes

def test_sea_lanes_reach_each_country_port() -> None:
    lanes = sea_lanes(["DE", "US", "KZ"]).set_index("country")
    assert list(lanes.index) == ["DE", "US"]  # Kazakhstan has no sea gateway
    assert lanes.loc["DE", "port_name"] == "Hamburg"
    for code, row in lanes.iterrows():
        port = main_port(code)
        assert port is not None
        coords = shapely.get_coordinates(row.geometry)
        assert (np.abs(coords[:, 0]) <= 180.0).all()
        assert np.hypot(*(coords[-1] - (port.lon, port.lat))) < 3.0
        assert row.days_at_sea == pytest.approx(
            row.distance_km / (settings.SEA_SPEED_KNOTS * 1.852 * 24) + settings.PORT_TIME_DAYS)
    # Ningbo -> Los Angeles crosses the Pacific: the line is cut at the antimeridian
    assert len(lanes.loc["US", "geometry"].geoms) == 2
    assert 9_000 < lanes.loc["US", "distance_km"] < 12_000
    assert 18_000 < lanes.loc["DE", "distance_km"] < 23_000


def test_split_antimeridian_both_ways() -> None:
    east = split_antimeridian([(170.0, 0.0), (190.0, 10.0), (200.0, 10.0)])
    assert east == [[(170.0, 0.0), (180.0, 5.0)], [(-180.0, 5.0), (-170.0, 10.0), (-160.0, 10.0)]]
    west = split_antimeridian([(-170.0, 0.0), (170.0, 10.0)])
    assert west == [[(-170.0, 0.0), (-180.0, 5.0)], [(180.0, 5.0), (170.0, 10.0)]]
    assert split_antimeridian([(0.0, 0.0), (10.0, 1.0)]) == [[(0.0, 0.0), (10.0, 1.0)]]


def test_days_at_sea() -> None:
    assert days_at_sea(0.0) == settings.PORT_TIME_DAYS
    assert days_at_sea(1.852 * 24 * 10, speed_knots=10.0, port_time_days=1.0) == pytest.approx(2.0)


def test_map_without_searoute_has_no_lanes(toy, monkeypatch, caplog) -> None:
    def missing(*args, **kwargs):
        raise MissingDependencyError("sea lanes need the 'searoute' package")

    monkeypatch.setattr("hzlogistics.maps.draw_plan._sea_lanes", missing)
    with caplog.at_level(logging.WARNING, logger="hzlogistics.maps"):
        m = plan_map(toy)
    assert "sea_lanes" not in layers_of(m)
    assert "searoute" in caplog.text
    assert "sea lane from" not in m.get_root().render()


def test_sea_lanes_layer_tooltips(toy_map: folium.Map) -> None:
    feats = payload(layers_of(toy_map)["sea_lanes"])["geojson"]["features"]
    tips = [f["properties"]["t"] for f in feats]
    assert len(tips) == 5  # four lanes and the port of departure
    hamburg = next(t for t in tips if "Hamburg" in t)
    assert hamburg.startswith("Ningbo–Zhoushan → Hamburg (Germany): ")
    assert "days (16 knots + 2 days in port)" in hamburg


# ------------------------------------------------------------------ compare

@pytest.fixture(scope="module")
def plans_ab() -> tuple[object, object]:
    a = toy_plan(title="Plan A")
    # S1 grows, S3 closes, S4 shrinks, S5 opens, the others stay
    b = toy_plan(title="Plan B", areas_m2=[2000, 300, 0, 300, 200, 150, 0, 200])
    return a, b


def test_site_changes(plans_ab) -> None:
    changes = site_changes(*plans_ab).set_index("id")["change"].to_dict()
    assert changes == {"S1": "grown", "S2": "unchanged", "S3": "closed", "S4": "shrunk",
                       "S5": "opened", "S6": "unchanged", "S8": "unchanged"}


def test_compare_map_layers_and_panel(plans_ab, tmp_path: Path) -> None:
    path = tmp_path / "compare.html"
    m = compare_map(*plans_ab, path=path)
    layers = layers_of(m)
    counts = {k: len(payload(layers[k])["rows"]) for k in ("opened", "closed", "grown", "shrunk",
                                                          "unchanged")}
    assert counts == {"opened": 1, "closed": 1, "grown": 1, "shrunk": 1, "unchanged": 3}
    grown = payload(layers["grown"])["rows"][0]
    assert grown[3] == "Berlin hub"
    assert "1,000 → 2,000 m²" in grown
    text = path.read_text(encoding="utf-8")
    assert "Plan A → Plan B" in html.unescape(text)
    assert "1 opened, 1 closed, 1 grown, 1 shrunk" in text
    # the US loses Los Angeles: its covered share falls from 76 % to 32 %
    feats = payload(layers["countries"])["geojson"]["features"]
    us = next(f for f in feats if "United States" in f["properties"]["t"])
    assert us["properties"]["s"] == 0
    assert "-44.0 points" in us["properties"]["t"]


def test_shapes_payload_drops_empty_geometries() -> None:
    data = json.loads(shapes_payload(
        [shapely.Point(1.0, 2.0), None, shapely.Polygon()], [{"t": "a"}, {"t": "b"}, {"t": "c"}],
        [{}], 1))
    assert [f["properties"]["t"] for f in data["geojson"]["features"]] == ["a"]


def test_service_areas_from_a_real_coverage() -> None:
    from hzlogistics.coverage import coverage_from_pairs

    plan = toy_plan()
    site_ids, demand_ids = list(plan.sites["id"]), list(plan.demand["id"])
    # Berlin reaches Hamburg (D4) too, though the plan serves it from nowhere
    pairs = [("S1", "D1"), ("S1", "D2"), ("S1", "D4"), ("S2", "D3"), ("S3", "D5"), ("S3", "D6"),
             ("S4", "D7"), ("S4", "D8"), ("S6", "D11"), ("S8", "D13")]
    plan.coverage = coverage_from_pairs(
        site_ids, demand_ids, [site_ids.index(s) for s, _ in pairs],
        [demand_ids.index(d) for _, d in pairs], travel_time_h=[1.0] * len(pairs))
    hamburg = plan.demand.set_index("id").loc["D4", "geometry"]
    areas = service_areas(plan).set_index("site_id")
    assert areas.loc["S1", "geometry"].contains(hamburg)
    plan.coverage = None
    assert not service_areas(plan).set_index("site_id").loc["S1", "geometry"].contains(hamburg)


def test_notebook_display_embeds_the_page(toy_map: folium.Map) -> None:
    shown = toy_map._repr_html_()
    assert "<iframe" in shown
    assert "hzLayers" in html.unescape(shown)


def test_plan_without_country_shapes_still_maps() -> None:
    plan = toy_plan()
    plan.countries = gpd.GeoDataFrame(plan.countries.drop(columns="geometry"))
    m = plan_map(plan, sea_lanes=False)
    assert "countries" not in layers_of(m)
    assert len(payload(layers_of(m)["sites"])["rows"]) == 6


def test_stored_routes_agree_with_searoute() -> None:
    pytest.importorskip("searoute", reason="the stored routes are checked against searoute")
    from hzlogistics.maps import sealanes as sl

    data = json.loads(sl.ROUTES_FILE.read_text(encoding="utf-8"))
    assert tuple(data["origin"]) == settings.SEA_ORIGIN_LON_LAT
    by_code, busiest = sl._ports()
    for country, code in data["countries"].items():
        assert code == (sl.MAIN_PORTS.get(country) or busiest.get(country))
    for code in ("DEHAM", "USLAX"):
        port = by_code[code]
        km, line = sl._computed_route(settings.SEA_ORIGIN_LON_LAT, (port.lon, port.lat))
        assert data["ports"][code]["distance_km"] == pytest.approx(km, abs=0.01)
        assert len(data["ports"][code]["line"]) == len(line)
    # a country the file does not hold is looked up in searoute's port list
    assert "FI" not in data["countries"]
    assert main_port("FI") is not None and main_port("FI").code.startswith("FI")


def test_plan_with_one_site_and_a_missing_name(tmp_path: Path) -> None:
    plan = toy_plan(areas_m2=[0.0] * 7 + [200.0],
                    site_names=["A", None, "C", "D", "E", "F", "G", "São Paulo"])
    m = plan_map(plan, path=tmp_path / "one.html", show_candidates=True)
    layers = layers_of(m)
    assert [r[3] for r in payload(layers["sites"])["rows"]] == ["São Paulo"]
    assert len(payload(layers["uncovered"])["rows"]) == 13
    assert sorted(r[3] for r in payload(layers["candidates"])["rows"])[0] == ""  # the missing one
    assert len(payload(layers["service_areas"])["geojson"]["features"]) == 1
    text = (tmp_path / "one.html").read_text(encoding="utf-8")
    assert "1 open (0 existing) in 1 country" in text


def test_committed_default_map_opens_offline() -> None:
    path = Path(__file__).resolve().parents[1] / "maps" / "hangzhou-2020.html"
    if not path.exists():
        pytest.skip("maps/hangzhou-2020.html is not in this checkout")
    text = path.read_text(encoding="utf-8")
    assert external_links(text) == []
    assert "Hangzhou overseas warehouses, 2020 plan" in text
    assert path.stat().st_size <= 10 * 1024 * 1024
