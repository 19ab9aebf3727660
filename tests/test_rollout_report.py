"""The files of a phased roll-out: sites.csv, summary.json, report.md and the chart."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hzlogistics.plan import Plan
from hzlogistics.report import PLAN_FILES, write_plan
from hzlogistics.rollout_report import ROLLOUT_FILES, rollout_html, rollout_markdown
from tests.test_phased_plan import YEARS, toy_plan


@pytest.fixture(scope="module")
def plan() -> Plan:
    return toy_plan(seed=3)


@pytest.fixture(scope="module")
def written(plan: Plan, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rollout") / "out"
    paths = write_plan(plan, out)
    assert set(paths) == set(PLAN_FILES) | set(ROLLOUT_FILES)
    return out


def test_sites_csv_has_the_open_year_and_the_area_of_every_year(plan: Plan,
                                                                 written: Path) -> None:
    sites = pd.read_csv(written / "sites.csv", dtype={"id": str})
    assert list(sites.columns[:4]) == ["id", "open", "area_m2", "served_weight"]
    for column in ["open_year"] + [f"area_m2_{y}" for y in YEARS]:
        assert column in sites.columns
    assert plan.phases is not None
    r = plan.phases.result
    for t, year in enumerate(YEARS):
        assert np.allclose(sites[f"area_m2_{year}"], r.area_m2[t])
        is_open = sites[f"area_m2_{year}"] > 0
        assert (sites.loc[is_open, "open_year"] <= year).all()
    # never opened: no year; the last year's area is the plan's
    assert sites.loc[~sites["open"], "open_year"].isna().all()
    assert np.allclose(sites["area_m2"], sites[f"area_m2_{YEARS[-1]}"])


def test_summary_json_has_a_per_year_table(plan: Plan, written: Path) -> None:
    summary = json.loads((written / "summary.json").read_text(encoding="utf-8"))
    rows = summary["years"]
    assert [row["year"] for row in rows] == YEARS
    for t, row in enumerate(rows):
        y = plan.year(YEARS[t]).summary()
        for key in ("n_open", "total_area_m2", "covered_weight", "total_weight",
                    "covered_share"):
            assert row[key] == pytest.approx(y[key]), key
        assert row["area_budget_m2"] == pytest.approx(1_000 * (t + 1) / 3)
        assert row["total_area_m2"] <= row["area_budget_m2"] + 1e-6
    assert summary["phased"]["years"] == YEARS
    assert summary["objective"] == pytest.approx(sum(row["objective"] for row in rows))


def test_report_md_has_a_section_per_year(plan: Plan, written: Path) -> None:
    text = (written / "report.md").read_text(encoding="utf-8")
    assert "## Roll-out" in text
    for t, year in enumerate(YEARS):
        assert f"\n## {year}\n" in text
        row = plan.summary()["years"][t]
        assert (f"| {year} | {row['n_open']:,} | {row['n_new']:,} | "
                f"{row['total_area_m2']:,.0f} |") in text
    assert "each year solved alone, then forced to nest" in text
    assert text.index("## 2018") < text.index("## 2019") < text.index("## 2020")


def test_chart_of_covered_share_per_year(plan: Plan, written: Path) -> None:
    png = (written / "rollout.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    page = (written / "rollout.html").read_text(encoding="utf-8")
    assert page == rollout_html(plan)
    for row in plan.summary()["years"]:
        assert f'data-year="{row["year"]}"' in page
        assert f"{100 * row['covered_share']:.1f} %" in page


def test_one_period_plans_have_no_roll_out(tmp_path: Path) -> None:
    from tests.test_report import toy_plan as one_period

    plan = one_period()
    assert rollout_markdown(plan) == ""
    paths = write_plan(plan, tmp_path / "one")
    assert set(paths) == set(PLAN_FILES)
    assert "open_year" not in pd.read_csv(tmp_path / "one" / "sites.csv").columns
