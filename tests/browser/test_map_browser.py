"""Maps opened in headless Chromium with no network at all."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from chromium import open_map, screenshot
from plans import XSS_PAYLOADS, toy_plan

from hzlogistics.maps import compare_map, plan_map

pytestmark = pytest.mark.browser

COUNTS_JS = """() => {
    const q = s => document.querySelectorAll(s).length;
    const clusters = [...document.querySelectorAll('.marker-cluster')];
    const on = k => window.hzLayers[k] && window.hzMap.hasLayer(window.hzLayers[k]);
    return {
        clusterIcons: clusters.length,
        inClusters: clusters.reduce((n, e) => n + parseInt(e.textContent, 10), 0),
        sitePaths: q('path.hz-site'),
        countries: q('path.hz-country'),
        outlines: q('path.hz-outline'),
        serviceAreas: q('path.hz-service-area'),
        lanes: q('path.hz-sealane'),
        origin: q('path.hz-origin'),
        heat: q('canvas.leaflet-heatmap-layer'),
        uncoveredOn: on('uncovered'),
        uncovered: window.hzLayers.uncovered ? window.hzLayers.uncovered.getLayers().length : 0,
    };
}"""

ZOOM_JS = """([lat, lon, zoom]) => new Promise(resolve => {
    window.hzMap.once('moveend', () => setTimeout(resolve, 400));
    window.hzMap.setView([lat, lon], zoom, {animate: false});
})"""

POINT_JS = """([lat, lon]) => {
    const p = window.hzMap.latLngToContainerPoint([lat, lon]);
    const r = window.hzMap.getContainer().getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
}"""


@pytest.fixture(scope="module")
def toy_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "toy.html"
    plan_map(toy_plan(), path=path, self_contained=False)
    return path


def _checked(log: Any) -> None:
    assert log.errors == []
    assert log.dialogs == []


def test_map_renders_every_layer_offline(map_page, toy_html: Path) -> None:
    page, log = map_page
    traffic, _ = open_map(page, toy_html)
    assert traffic.blocked == []  # every request was the page or a bundled Leaflet file
    assert len(traffic.served) == 7
    counts = page.evaluate(COUNTS_JS)
    assert counts["sitePaths"] + counts["inClusters"] == 6  # the open sites
    assert counts["clusterIcons"] >= 1  # Berlin and Munich share a cluster at world zoom
    assert counts["countries"] == 4
    assert counts["outlines"] == 4
    assert counts["serviceAreas"] == 0  # off at first
    assert counts["lanes"] == 4
    assert counts["origin"] == 1
    assert counts["heat"] == 1
    assert counts["uncoveredOn"] is True and counts["uncovered"] == 5
    _checked(log)


def test_layer_control_switches_layers(map_page, toy_html: Path) -> None:
    page, log = map_page
    open_map(page, toy_html)
    label = page.locator(".leaflet-control-layers-overlays label", has_text="Service areas")
    label.click()
    assert page.evaluate(COUNTS_JS)["serviceAreas"] == 6
    page.locator(".leaflet-control-layers-overlays label", has_text="Uncovered demand").click()
    assert page.evaluate(COUNTS_JS)["uncoveredOn"] is False
    label.click()
    assert page.evaluate(COUNTS_JS)["serviceAreas"] == 0
    _checked(log)


def test_popup_and_tooltip_show_the_plan_figures(map_page, toy_html: Path) -> None:
    page, log = map_page
    open_map(page, toy_html)
    page.evaluate(ZOOM_JS, [52.52, 13.40, 9])
    x, y = page.evaluate(POINT_JS, [52.52, 13.40])
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    for expected in ("Berlin hub", "Germany (DE)", "new warehouse", "1,000 m², tier 1,000 m²",
                     "1,300", "3 %", "USD 90,000 / year", "mean 1.2 h, max 1.5 h"):
        assert expected in text
    # a country's tooltip, away from any site and service area
    x, y = page.evaluate(POINT_JS, [52.0, 11.5])
    page.mouse.click(x, y)  # closes the popup
    page.mouse.move(x + 5, y + 5)
    tip = page.locator(".leaflet-tooltip", has_text="Demand covered")
    tip.wait_for(timeout=5000)
    assert "Germany (DE)" in tip.inner_text()
    assert "76.7 % of 2,150 parcels/day" in tip.inner_text()
    _checked(log)


def test_screenshot_shows_a_map(chromium_browser, toy_html: Path, tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="Pillow reads the screenshot")
    from PIL import Image

    png = screenshot(toy_html, tmp_path / "toy.png", width=1200, height=800,
                     browser_=chromium_browser)
    image = Image.open(io.BytesIO(png.read_bytes())).convert("RGB")
    assert image.size == (1200, 800)
    colours = image.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200  # not a blank page
    # the sea is drawn in its colour and covers much of a world map
    sea = sum(n for n, c in colours if max(abs(a - b) for a, b in zip(c, (219, 233, 244),
                                                                      strict=True)) <= 3)
    assert sea > 0.3 * 1200 * 800


def test_uncovered_points_are_drawn(map_page, toy_html: Path) -> None:
    pytest.importorskip("PIL", reason="Pillow reads the screenshot")
    from PIL import Image

    page, log = map_page
    open_map(page, toy_html)
    page.evaluate(ZOOM_JS, [53.55, 9.99, 8])  # Hamburg, an uncovered demand point
    x, y = page.evaluate(POINT_JS, [53.55, 9.99])
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    r, g, b = image.getpixel((round(x), round(y)))
    assert r > 180 and g < 90 and b > 90  # magenta, #e7298a
    _checked(log)


def test_self_contained_map_needs_no_request(map_page, tmp_path: Path) -> None:
    page, log = map_page
    path = tmp_path / "toy-self-contained.html"
    plan_map(toy_plan(), path=path, self_contained=True, show_candidates=True)
    traffic, _ = open_map(page, path, serve_assets=False)
    assert traffic.blocked == []
    assert traffic.served == [path.resolve().as_uri()]
    counts = page.evaluate(COUNTS_JS)
    assert counts["sitePaths"] + counts["inClusters"] == 6
    assert counts["countries"] == 4 and counts["heat"] == 1
    assert page.evaluate("() => window.hzLayers.candidates.getLayers().length") == 2
    _checked(log)


# ------------------------------------------------------------------ safety

XSS_TITLE = "<script>document.title='pwned'</script> {{ 7*7 }} ${document.title='pwned'}"

OPEN_EVERYTHING_JS = """() => {
    const map = window.hzMap, layers = window.hzLayers;
    const titles = [];
    let tips = 0;
    for (const key of ['sites', 'candidates']) {
        for (const m of layers[key].getLayers()) {
            const popup = m.getPopup();
            map.openPopup(popup, m.getLatLng());
            const title = popup.getElement().querySelector('.hz-popup-title');
            titles.push(title ? title.textContent : null);
            map.closePopup(popup);
            m.openTooltip(m.getLatLng());
            tips += 1;
        }
    }
    const group = layers.uncovered, tip = group.getTooltip();
    for (const m of group.getLayers()) {
        tip._source = m;
        map.openTooltip(tip, m.getLatLng());
        tips += document.querySelectorAll('.leaflet-tooltip').length > 0 ? 1 : 0;
    }
    for (const key of ['countries', 'service_areas', 'sea_lanes']) {
        map.addLayer(layers[key]);
        layers[key].eachLayer(l => {
            l.openTooltip();
            tips += l.isTooltipOpen() ? 1 : 0;
        });
    }
    return [titles, tips];
}"""


@pytest.fixture(scope="module")
def xss_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "xss.html"
    plan = toy_plan(
        site_names=list(XSS_PAYLOADS),
        demand_names=[XSS_PAYLOADS[i % len(XSS_PAYLOADS)] for i in range(14)],
        country_names={"DE": XSS_PAYLOADS[0], "US": XSS_PAYLOADS[1], "JP": XSS_PAYLOADS[3],
                       "BR": XSS_PAYLOADS[7]},
        title=XSS_TITLE,
    )
    plan_map(plan, path=path, show_candidates=True)
    return path


def test_payloads_in_names_and_titles_do_not_run(map_page, xss_html: Path) -> None:
    page, log = map_page
    open_map(page, xss_html)
    titles, tips = page.evaluate(OPEN_EVERYTHING_JS)
    assert sorted(titles) == sorted(XSS_PAYLOADS)  # every popup drawn, each name as text
    # 8 sites, 5 uncovered points, 4 countries, 6 service areas, 4 lanes and their origin
    assert tips == 8 + 5 + 4 + 6 + 5
    page.wait_for_timeout(300)  # give an injected onerror handler time to fire
    assert page.title() == XSS_TITLE
    assert page.evaluate("() => document.getElementById('xss')") is None
    assert page.evaluate("() => document.querySelectorAll('.leaflet-popup-content img, "
                         ".leaflet-tooltip img, .leaflet-popup-content svg').length") == 0
    assert page.locator("#hz-title .hz-title-text").inner_text() == XSS_TITLE
    _checked(log)


def test_payload_popup_opened_by_a_click(map_page, xss_html: Path) -> None:
    page, log = map_page
    open_map(page, xss_html)
    page.evaluate(ZOOM_JS, [34.05, -118.24, 9])  # the site named with the third payload
    page.mouse.click(*page.evaluate(POINT_JS, [34.05, -118.24]))
    popup = page.locator(".leaflet-popup-content .hz-popup-title")
    popup.wait_for(timeout=5000)
    assert popup.inner_text() == XSS_PAYLOADS[2]
    page.wait_for_timeout(300)
    assert page.title() == XSS_TITLE
    _checked(log)


# ------------------------------------------------------------------ compare

def test_compare_map_in_the_browser(map_page, tmp_path: Path) -> None:
    page, log = map_page
    a = toy_plan(title="Plan A")
    b = toy_plan(title="Plan B", areas_m2=[2000, 300, 0, 300, 200, 150, 0, 200])
    path = tmp_path / "compare.html"
    compare_map(a, b, path=path, self_contained=True)
    traffic, _ = open_map(page, path, serve_assets=False)
    assert traffic.blocked == []
    counts = page.evaluate("""() => Object.fromEntries(
        ['opened', 'closed', 'grown', 'shrunk'].map(
            k => [k, document.querySelectorAll('path.hz-change-' + k).length]))""")
    assert counts == {"opened": 1, "closed": 1, "grown": 1, "shrunk": 1}
    unchanged = page.evaluate(COUNTS_JS)
    assert page.evaluate("() => window.hzLayers.unchanged.getLayers().length") == 3
    assert unchanged["countries"] == 4
    assert page.title() == "Plan A → Plan B"
    _checked(log)
