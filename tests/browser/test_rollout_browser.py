"""The map of a phased roll-out, opened in headless Chromium with no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chromium import open_map

from hzlogistics.maps import plan_map
from hzlogistics.plan import Plan
from tests.test_phased_plan import YEARS, toy_plan

pytestmark = pytest.mark.browser

#: For each year's layer: on the map or not, its markers, and those marked as opening.
YEARS_JS = """(years) => years.map(y => {
    const layer = window.hzLayers['year_' + y];
    const markers = layer.getLayers();
    return {
        year: y,
        on: window.hzMap.hasLayer(layer),
        n: markers.length,
        opening: markers.filter(m => m.options.className.includes('hz-site-opening')).length,
        existing: markers.filter(m => m.options.className.includes('hz-site-existing')).length,
    };
})"""

SLIDE_JS = """(k) => {
    const input = document.getElementById('hz-years');
    input.value = String(k);
    input.dispatchEvent(new Event('input'));
    return document.getElementById('hz-year-label').textContent;
}"""


@pytest.fixture(scope="module")
def rollout() -> Plan:
    return toy_plan(seed=3)


@pytest.fixture(scope="module")
def rollout_html(rollout: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "rollout.html"
    plan_map(rollout, path=path, self_contained=False, sea_lanes=False)
    return path


def _checked(log: Any) -> None:
    assert log.errors == []
    assert log.dialogs == []


def test_a_layer_per_year_with_the_openings_marked(map_page, rollout: Plan,
                                                   rollout_html: Path) -> None:
    page, log = map_page
    traffic, _ = open_map(page, rollout_html)
    assert traffic.blocked == []
    rows = rollout.summary()["years"]
    found = page.evaluate(YEARS_JS, YEARS)
    for k, (layer, row) in enumerate(zip(found, rows, strict=True)):
        assert layer["n"] == row["n_open"]
        assert layer["opening"] == row["n_new"]
        assert layer["existing"] == row["n_existing"] >= 1  # black rim every year
        assert layer["on"] is (k == len(YEARS) - 1)  # the last year at first
    # the plan's own warehouse layer is off at first: the year layers replace it
    assert page.evaluate("() => window.hzMap.hasLayer(window.hzLayers.sites)") is False
    _checked(log)


def test_the_slider_shows_one_year_at_a_time(map_page, rollout: Plan,
                                             rollout_html: Path) -> None:
    page, log = map_page
    open_map(page, rollout_html)
    for k, year in enumerate(YEARS):
        assert page.evaluate(SLIDE_JS, k) == str(year)
        on = [layer["on"] for layer in page.evaluate(YEARS_JS, YEARS)]
        assert on == [i == k for i in range(len(YEARS))]
    # the layer control follows the slider
    checked = page.evaluate("""() => [...document.querySelectorAll(
        '.leaflet-control-layers-overlays label')].filter(l => l.querySelector('input').checked)
        .map(l => l.textContent.trim())""")
    assert any(text.startswith(f"{YEARS[-1]}:") for text in checked)
    assert not any(text.startswith(f"{YEARS[0]}:") for text in checked)
    _checked(log)


def test_legend_gives_each_years_covered_share(map_page, rollout: Plan,
                                               rollout_html: Path) -> None:
    page, log = map_page
    open_map(page, rollout_html)
    legend = page.locator("#hz-legend").inner_text()
    for row in rollout.summary()["years"]:
        n = row["n_open"]
        assert (f"{row['year']}: {100 * row['covered_share']:.1f} % covered, "
                f"{n:,} warehouse{'' if n == 1 else 's'} (+{row['n_new']:,})") in legend
    _checked(log)
