"""The map of a landed-cost plan opened in headless Chromium with no network: sea lanes
weighted by volume with their cost, the landed-cost choropleth and the warehouse popups."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromium import open_map
from plans import XSS_PAYLOADS, toy_plan

from hzlogistics.maps import plan_map
from hzlogistics.models.landed import LandedRates, compute_inbound, landed_breakdown
from hzlogistics.plan import Plan

pytestmark = pytest.mark.browser

#: The toy plan's countries and one port of entry in each (searoute LOCODEs).
PORTS = {"DE": "port-DEHAM", "US": "port-USLAX", "JP": "port-JPTYO", "BR": "port-BRSSZ"}
SEA_KM = {"DE": 19_900.0, "US": 10_700.0, "JP": 1_700.0, "BR": 20_300.0}

ZOOM_JS = """([lat, lon, zoom]) => new Promise(resolve => {
    window.hzMap.once('moveend', () => setTimeout(resolve, 400));
    window.hzMap.setView([lat, lon], zoom, {animate: false});
})"""

POINT_JS = """([lat, lon]) => {
    const p = window.hzMap.latLngToContainerPoint([lat, lon]);
    const r = window.hzMap.getContainer().getBoundingClientRect();
    return [p.x + r.left, p.y + r.top];
}"""

LANES_JS = """() => {
    const lanes = [];
    window.hzLayers.sea_lanes.eachLayer(l => {
        if (!l.feature || l.feature.geometry.type === 'Point') { return; }
        l.openTooltip();
        lanes.push([l.options.weight, l.getTooltip().getElement().textContent]);
    });
    return lanes;
}"""

COUNTRY_TIPS_JS = """() => {
    const tips = {};
    window.hzLayers.landed_countries.eachLayer(l => {
        l.openTooltip();
        const text = l.getTooltip().getElement().textContent;
        tips[text.split(' ')[0]] = [text, l.options.fillColor];
    });
    return tips;
}"""


def landed_toy(plan: Plan) -> Plan:
    """The toy plan with a landed-cost breakdown of its own assignments."""
    codes = list(PORTS)
    sites = plan.sites
    problem = dataclasses.replace(
        plan.problem, group=sites["country"].map(codes.index).to_numpy(),
        group_names=tuple(codes), demand_group=plan.demand["country"].map(codes.index).to_numpy(),
        rent_usd_m2_year=sites["rent_usd_m2_year"].to_numpy(dtype=float),
        fixed_cost_usd_year=np.full(len(sites), 20_000.0), site_ids=sites["id"].to_numpy())
    lon = sites.geometry.x.to_numpy()
    road = np.array([[100.0 + 10 * abs(lon[i] - lon[0]) + k for i in range(len(sites))]
                     for k in range(len(codes))])
    rates = LandedRates()
    inbound = compute_inbound(sites["country"].to_numpy(), codes,
                              np.array([SEA_KM[c] for c in codes]), road, rates,
                              port_ids=[PORTS[c] for c in codes], site_ids=sites["id"].to_numpy())
    b = landed_breakdown(problem, inbound, plan.result, rates)
    result = dataclasses.replace(plan.result, objective_name="landed", objective=b.totals["total"],
                                 info={**plan.result.info, "landed": b})
    return dataclasses.replace(plan, result=result, problem=problem)


@pytest.fixture(scope="module")
def landed_html(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Plan]:
    plan = landed_toy(toy_plan())
    path = tmp_path_factory.mktemp("maps") / "landed.html"
    plan_map(plan, path=path, self_contained=False)
    return path, plan


def _checked(log: Any) -> None:
    assert log.errors == []
    assert log.dialogs == []


def test_sea_lanes_carry_their_volume_and_cost(map_page, landed_html) -> None:  # type: ignore[no-untyped-def]
    page, log = map_page
    path, plan = landed_html
    traffic, _ = open_map(page, path)
    assert traffic.blocked == []
    b = plan.result.info["landed"]
    lanes = page.evaluate(LANES_JS)
    assert len(lanes) == len(b.ports) == 4
    assert page.evaluate("() => document.querySelectorAll('path.hz-landed-lane').length") == 4
    by_volume = b.ports.sort_values("parcels_day")
    weights = {text.split(" → ")[1].split(" (")[0]: w for w, text in lanes}
    # the busiest lane is the widest, the quietest the narrowest
    assert weights[by_volume["port"].iloc[-1]] == pytest.approx(9.0)
    ordered = [weights[p] for p in by_volume["port"]]
    assert ordered == sorted(ordered)
    for _, r in b.ports.iterrows():
        text = next(t for _, t in lanes if f"→ {r['port']} " in t)
        assert f"{r['parcels_day']:,.0f} parcels/day" in text
        assert f"sea freight USD {r['sea_usd_year']:,.0f}" in text
        assert f"port handling USD {r['port_usd_year']:,.0f}" in text
        assert text.startswith("Ningbo")
    _checked(log)


def test_landed_cost_choropleth_by_country(map_page, landed_html) -> None:  # type: ignore[no-untyped-def]
    page, log = map_page
    path, plan = landed_html
    open_map(page, path)
    b = plan.result.info["landed"]
    counts = page.evaluate("() => [document.querySelectorAll('path.hz-landed-country').length,"
                           " document.querySelectorAll('path.hz-country').length]")
    assert counts == [4, 0]  # the coverage choropleth is off at first
    tips = page.evaluate(COUNTRY_TIPS_JS)
    by = b.by_country.set_index("country")
    names = {"DE": "Germany", "US": "United", "JP": "Japan", "BR": "Brazil"}
    colours = {}
    for code, first in names.items():
        text, colour = tips[first]
        assert f"landed cost USD {by.loc[code, 'usd_per_parcel']:,.2f} per parcel" in text
        colours[code] = colour
    # the cheapest country per parcel has the lightest class, the dearest the darkest
    order = by["usd_per_parcel"].sort_values().index
    assert colours[order[0]] == "#ffffb2" and colours[order[-1]] == "#bd0026"
    _checked(log)


def test_warehouse_popup_has_its_breakdown(map_page, landed_html) -> None:  # type: ignore[no-untyped-def]
    page, log = map_page
    path, plan = landed_html
    open_map(page, path)
    row = plan.result.info["landed"].sites.set_index("site").loc["S3"]  # Los Angeles
    page.evaluate(ZOOM_JS, [34.05, -118.24, 9])
    page.mouse.click(*page.evaluate(POINT_JS, [34.05, -118.24]))
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    for expected in ("Port of entry", "port-USLAX", f"{row['drayage_km']:,.0f} km by road",
                     f"USD {row['inbound_usd_per_parcel']:,.2f} per parcel",
                     f"sea USD {row['sea_usd_per_parcel']:,.2f}",
                     f"USD {row['rent'] + row['fixed']:,.0f} / year",
                     f"USD {row['last_mile']:,.0f} / year",
                     f"Landed cost\tUSD {row['usd_per_parcel']:,.2f} per parcel"):
        assert expected in text, expected
    b = plan.result.info["landed"]
    assert f"USD {b.usd_per_parcel:,.2f} per parcel" in page.locator("#hz-title").inner_text()
    legend = page.locator("#hz-legend").inner_text()
    assert "Landed cost per parcel by country" in legend and "wider for more parcels" in legend
    _checked(log)


def test_landed_map_escapes_names(map_page, tmp_path: Path) -> None:
    page, log = map_page
    title = "<img src=x onerror=alert(1)> ${document.title='pwned'}"
    plan = landed_toy(toy_plan(site_names=list(XSS_PAYLOADS), title=title,
                               country_names={"DE": XSS_PAYLOADS[0], "US": XSS_PAYLOADS[1],
                                              "JP": XSS_PAYLOADS[3], "BR": XSS_PAYLOADS[7]}))
    path = tmp_path / "landed-xss.html"
    plan_map(plan, path=path, self_contained=False)
    open_map(page, path)
    page.evaluate(LANES_JS)
    tips = page.evaluate("() => { let n = 0; window.hzLayers.landed_countries.eachLayer(l => "
                         "{ l.openTooltip(); n += l.isTooltipOpen() ? 1 : 0; }); return n; }")
    assert tips == 4
    page.evaluate("""() => window.hzLayers.sites.getLayers().forEach(m => {
        window.hzMap.openPopup(m.getPopup(), m.getLatLng()); })""")
    page.wait_for_timeout(300)
    assert page.title() == title
    assert page.evaluate("() => document.getElementById('xss')") is None
    assert page.evaluate("() => document.querySelectorAll('.leaflet-tooltip img, "
                         ".leaflet-popup-content img, .leaflet-tooltip svg').length") == 0
    _checked(log)
