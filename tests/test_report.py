"""Files of a finished plan: what is written, that it opens in GDAL, and reading it back."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import scipy.sparse as sp
import shapely

from hzlogistics.plan import Plan, make_plan
from hzlogistics.report import (
    PLAN_FILES,
    assignment_lines,
    clean_staging,
    compare_plans,
    report_markdown,
    write_plan,
)
from hzlogistics.saved_plan import read_plan
from hzlogistics.scenario import Scenario, loads_scenario
from hzlogistics.solvers.problem import SitingProblem, SolveResult


def toy_plan(
    *,
    status: str = "optimal",
    area_m2: tuple[float, float, float] = (200.0, 100.0, 100.0),
    name: str = "toy",
) -> Plan:
    """Three sites (two in DE, one in FR), four demand points, 22 of 25 parcels/day served.

    Site s1 serves d1 (10), s2 serves d2 (5), s3 serves d3 (7); d4 (3) is not served.
    """
    sites = gpd.GeoDataFrame(
        {"id": ["s1", "s2", "s3"], "name": ["Köln | Nord", "Berlin", "Paris"],
         "country": ["DE", "DE", "FR"], "rent_usd_m2_year": [10.0, 20.0, 5.0],
         "existing_area_m2": [0.0, 100.0, 0.0]},
        geometry=gpd.points_from_xy([7.0, 13.4, 2.35], [50.9, 52.5, 48.85]), crs="EPSG:4326")
    demand = gpd.GeoDataFrame(
        {"id": ["d1", "d2", "d3", "d4"], "country": ["DE", "DE", "FR", "FR"],
         "weight": [10.0, 5.0, 7.0, 3.0]},
        geometry=gpd.points_from_xy([7.1, 13.5, 2.4, 5.0], [51.0, 52.6, 48.9, 45.0]),
        crs="EPSG:4326")
    countries = gpd.GeoDataFrame(
        {"country": ["DE", "FR"], "name": ["Germany", "France"]},
        geometry=[shapely.box(5.9, 47.3, 15.0, 55.0), shapely.box(-4.8, 42.3, 8.2, 51.1)],
        crs="EPSG:4326")
    area = np.asarray(area_m2)
    cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], dtype=float))
    tt = sp.csr_matrix(np.array([[1.0, 2.0, 0, 0], [0, 1.5, 0, 0], [0, 0, 0.5, 0]]))
    served = np.array([[10.0, 0, 0, 0], [0, 5.0, 0, 0], [0, 0, 7.0, 0]])
    served[area == 0] = 0.0
    problem = SitingProblem(
        weight=demand["weight"].to_numpy(), cover=cover, travel_time_h=tt,
        tiers_m2=np.array([100.0, 200.0]), area_budget_m2=400.0,
        group=np.array([0, 0, 1]), group_names=("DE", "FR"))
    objective = float(served.sum())
    bound = objective if status == "optimal" else 25.0
    result = SolveResult(
        status=status, objective=objective, bound=bound,  # type: ignore[arg-type]
        gap=abs(bound - objective) / max(objective, 1e-9), wall_s=0.5, area_m2=area,
        served=sp.csr_matrix(served))
    return make_plan(result, problem, demand, sites, countries, name=name, title="Toy plan",
                     scenario=Scenario(name=name, countries=["DE", "FR"], time_limit_s=5.0),
                     timings={"solve_s": 0.5})


@pytest.fixture
def plan() -> Plan:
    return toy_plan()


def test_write_plan_writes_every_file(plan: Plan, tmp_path: Path) -> None:
    paths = write_plan(plan, tmp_path / "out")
    assert set(paths) == set(PLAN_FILES)
    for kind, path in paths.items():
        assert path == tmp_path / "out" / PLAN_FILES[kind]
        assert path.is_file() and path.stat().st_size > 0
    # nothing else is left behind (no staging folder, no temporary file)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(PLAN_FILES.values())


def test_sites_csv(plan: Plan, tmp_path: Path) -> None:
    paths = write_plan(plan, tmp_path)
    sites = pd.read_csv(paths["sites_csv"], dtype={"id": str})
    assert list(sites.columns[:4]) == ["id", "open", "area_m2", "served_weight"]
    assert sites["id"].tolist() == ["s1", "s2", "s3"]
    assert sites["area_m2"].tolist() == [200.0, 100.0, 100.0]
    assert sites["served_weight"].tolist() == [10.0, 5.0, 7.0]
    assert sites["status"].tolist() == ["new", "existing", "new"]
    assert sites["rent_usd_year"].tolist() == [2000.0, 2000.0, 500.0]
    assert sites["lon"].tolist() == [7.0, 13.4, 2.35]
    assert sites["name"].iloc[0] == "Köln | Nord"


def test_assignments_csv(plan: Plan, tmp_path: Path) -> None:
    paths = write_plan(plan, tmp_path)
    a = pd.read_csv(paths["assignments_csv"])
    assert list(a.columns[:3]) == ["site_id", "demand_id", "weight"]
    assert sorted(zip(a["site_id"], a["demand_id"], a["weight"], strict=True)) == [
        ("s1", "d1", 10.0), ("s2", "d2", 5.0), ("s3", "d3", 7.0)]
    assert a.loc[a["site_id"] == "s3", "travel_time_h"].item() == 0.5


def test_summary_json(plan: Plan, tmp_path: Path) -> None:
    paths = write_plan(plan, tmp_path, map_path=None)
    summary = json.loads(paths["summary"].read_text())
    for key in ("status", "objective", "bound", "gap", "covered_weight", "total_weight",
                "total_area_m2", "n_open", "wall_s"):
        assert key in summary
    assert summary["status"] == "optimal" and summary["interrupted"] is False
    assert summary["covered_weight"] == 22.0 and summary["total_weight"] == 25.0
    assert summary["total_area_m2"] == 400.0 and summary["n_open"] == 3
    assert summary["files"]["gpkg"] == "plan.gpkg"


def test_interrupted_plan_is_marked(tmp_path: Path) -> None:
    paths = write_plan(toy_plan(status="interrupted"), tmp_path)
    summary = json.loads(paths["summary"].read_text())
    assert summary["status"] == "interrupted" and summary["interrupted"] is True
    assert summary["gap"] == pytest.approx(3 / 22)
    assert "**Interrupted**" in paths["report"].read_text()


def test_report_markdown_figures(plan: Plan) -> None:
    text = report_markdown(plan)
    assert "| Floor area | 400 m² of 400 m² (100.0 %) |" in text
    assert "| Demand covered | 22 of 25 parcels/day (88.0 %) |" in text
    assert "| Sites open | 3 (1 existing) in 2 countries |" in text
    # (10 × 1 h + 5 × 1.5 h + 7 × 0.5 h) / 22 parcels/day served
    assert "| Mean delivery | 0.95 h per parcel served |" in text
    # d4 is in no site's reach
    assert "| Unreachable | 1 demand point (3.0 parcels/day) out of every site's reach" in text
    # per country: sites, area, demand, covered %, mean travel time, rent
    assert "| DE Germany | 2 | 300 | 15 | 100.0 % | 1.17 | 4,000 |" in text
    assert "| FR France | 1 | 100 | 10 | 70.0 % | 0.50 | 500 |" in text
    assert "| 200 | 1 |" in text and "| 100 | 2 |" in text  # sites by size


def test_scenario_copy_reads_back(plan: Plan, tmp_path: Path) -> None:
    paths = write_plan(plan, tmp_path)
    assert loads_scenario(paths["scenario"].read_text()) == plan.scenario
    paths = write_plan(plan, tmp_path / "b", scenario_text='name = "as-written"\n')
    assert paths["scenario"].read_text() == 'name = "as-written"\n'


def test_geopackage_layers_round_trip(plan: Plan, tmp_path: Path) -> None:
    paths = write_plan(plan, tmp_path)
    layers = dict(pyogrio.list_layers(paths["gpkg"]))
    assert layers == {"sites": "Point", "demand": "Point", "assignments": "LineString",
                      "countries": "Polygon"}
    sites = gpd.read_file(paths["gpkg"], layer="sites")
    assert sites.crs.to_epsg() == 4326
    assert sites["id"].tolist() == ["s1", "s2", "s3"]
    assert sites["open"].tolist() == [True, True, True]
    assert sites.geometry.x.tolist() == [7.0, 13.4, 2.35]
    lines = gpd.read_file(paths["gpkg"], layer="assignments")
    first = lines.loc[lines["site_id"] == "s1"].geometry.iloc[0]
    assert list(first.coords) == [(7.0, 50.9), (7.1, 51.0)]  # site -> demand point
    countries = gpd.read_file(paths["gpkg"], layer="countries")
    assert countries.set_index("country")["n_sites"].to_dict() == {"DE": 2, "FR": 1}


def test_geojson_holds_the_open_sites(tmp_path: Path) -> None:
    plan = toy_plan(area_m2=(200.0, 100.0, 0.0))
    paths = write_plan(plan, tmp_path)
    gdf = gpd.read_file(paths["sites_geojson"])
    assert sorted(gdf["id"]) == ["s1", "s2"]
    assert gdf.crs.to_epsg() == 4326
    doc = json.loads(paths["sites_geojson"].read_text())
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2


def test_geojson_with_no_open_site_is_valid(plan: Plan, tmp_path: Path) -> None:
    closed = dataclasses.replace(plan, sites=plan.sites.assign(open=False, area_m2=0.0))
    paths = write_plan(closed, tmp_path)
    assert json.loads(paths["sites_geojson"].read_text()) == {"type": "FeatureCollection",
                                                              "features": []}
    assert len(gpd.read_file(paths["sites_geojson"])) == 0


@pytest.mark.skipif(shutil.which("ogrinfo") is None,
                    reason="GDAL's ogrinfo is not installed (apt-get install gdal-bin)")
def test_files_open_in_gdal(plan: Plan, tmp_path: Path) -> None:
    paths = write_plan(plan, tmp_path)
    gpkg = subprocess.run(["ogrinfo", "-ro", "-so", str(paths["gpkg"])], capture_output=True,
                          text=True, check=True)
    for layer in ("sites (Point)", "demand (Point)", "assignments (Line String)",
                  "countries (Polygon)"):
        assert layer in gpkg.stdout
    geojson = subprocess.run(["ogrinfo", "-ro", "-al", "-so", str(paths["sites_geojson"])],
                             capture_output=True, text=True, check=True)
    assert "Feature Count: 3" in geojson.stdout
    assert "Layer name: sites" in geojson.stdout


def test_read_plan_round_trip(plan: Plan, tmp_path: Path) -> None:
    write_plan(plan, tmp_path)
    back = read_plan(tmp_path)
    assert back.name == "toy" and back.title == "Toy plan"
    assert back.result.status == "optimal"
    assert back.sites["id"].tolist() == plan.sites["id"].tolist()
    np.testing.assert_array_equal(back.result.area_m2, plan.result.area_m2)
    np.testing.assert_array_equal(back.result.served.toarray(), plan.result.served.toarray())
    assert back.scenario == plan.scenario
    s, t = plan.summary(), back.summary()
    for key in ("covered_weight", "total_weight", "total_area_m2", "n_open", "n_existing",
                "objective", "bound", "gap", "rent_usd_year", "n_countries"):
        assert t[key] == s[key], key


def test_read_plan_of_a_folder_that_is_not_a_plan(tmp_path: Path) -> None:
    from hzlogistics._errors import ValidationError

    with pytest.raises(ValidationError, match="no such plan folder"):
        read_plan(tmp_path / "missing")
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(ValidationError, match="missing plan.gpkg"):
        read_plan(tmp_path)


def test_failed_write_keeps_the_previous_plan(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_plan(toy_plan(name="first"), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert json.loads(first["summary"].read_text())["name"] == "first"

    def broken(plan: Plan) -> str:
        raise RuntimeError("report failed")

    monkeypatch.setattr("hzlogistics.report.report_markdown", broken)
    with pytest.raises(RuntimeError, match="report failed"):
        write_plan(toy_plan(name="second", area_m2=(100.0, 100.0, 0.0)), tmp_path)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # same files, same bytes, no staging folder left


def test_other_files_in_the_folder_are_left_alone(plan: Plan, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    write_plan(plan, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_clean_staging_removes_only_dead_writers(tmp_path: Path) -> None:
    dead = subprocess.run(["true"])  # a process that has ended: its pid is free
    del dead
    stale = tmp_path / ".staging-999999999-abcd"
    stale.mkdir()
    live = tmp_path / f".staging-{os.getpid()}-abcd"
    live.mkdir()
    assert clean_staging(tmp_path) == 1
    assert not stale.exists() and live.exists()


def test_assignment_lines_follow_the_ids(plan: Plan) -> None:
    lines = assignment_lines(plan)
    assert len(lines) == 3
    row = lines.loc[lines["demand_id"] == "d3"].iloc[0]
    assert row["site_id"] == "s3"
    assert list(row.geometry.coords) == [(2.35, 48.85), (2.4, 48.9)]


def test_compare_plans(tmp_path: Path) -> None:
    a = toy_plan(name="a", area_m2=(200.0, 100.0, 0.0))  # s3 closed: FR uncovered
    b = toy_plan(name="b", area_m2=(100.0, 100.0, 100.0))  # s1 resized, s3 opened
    c = compare_plans(a, b)
    changes = dict(zip(c.sites["id"], c.sites["change"], strict=True))
    assert changes == {"s1": "resized", "s3": "opened"}
    row = c.sites.set_index("id").loc["s1"]
    assert (row["area_a_m2"], row["area_b_m2"]) == (200.0, 100.0)
    per = c.countries.set_index("country")
    assert per.loc["FR", "covered_share_a"] == 0.0
    assert per.loc["FR", "covered_share_b"] == pytest.approx(0.7)
    assert per.loc["FR", "covered_change"] == pytest.approx(0.7)
    assert per.loc["DE", "covered_change"] == 0.0
    assert (per.loc["FR", "n_sites_a"], per.loc["FR", "n_sites_b"]) == (0, 1)
    assert c.totals["n_opened"] == 1 and c.totals["n_resized"] == 1
    assert c.totals["n_closed"] == 0
    assert c.totals["covered_weight_change"] == 7.0
    reverse = compare_plans(b, a)
    assert dict(zip(reverse.sites["id"], reverse.sites["change"], strict=True)) == {
        "s1": "resized", "s3": "closed"}
    json.dumps(c.to_dict())  # serialisable


def test_compare_plans_read_back_from_files(tmp_path: Path) -> None:
    write_plan(toy_plan(name="a", area_m2=(200.0, 100.0, 0.0)), tmp_path / "a")
    write_plan(toy_plan(name="b"), tmp_path / "b")
    c = compare_plans(read_plan(tmp_path / "a"), read_plan(tmp_path / "b"))
    assert dict(zip(c.sites["id"], c.sites["change"], strict=True)) == {"s3": "opened"}


def test_compare_plans_with_a_country_missing_from_one_plan() -> None:
    a = toy_plan(name="a")
    full = toy_plan(name="b")
    b = dataclasses.replace(full, countries=full.countries[full.countries["country"] == "DE"])
    per = compare_plans(a, b).countries.set_index("country")
    assert per.loc["FR", "n_sites_a"] == 1 and per.loc["FR", "n_sites_b"] == 0
    assert per.loc["FR", "covered_share_a"] == pytest.approx(0.7)
    assert np.isnan(per.loc["FR", "covered_share_b"]) and np.isnan(per.loc["FR", "covered_change"])
    assert per.loc["DE", "covered_change"] == 0.0


def test_plan_report_and_maps_import_in_one_direction() -> None:
    """report -> maps -> plan, never back: a plan is data, the writers read it.

    Every import of these modules is read (at the top or inside a function),
    except those under ``TYPE_CHECKING`` and the two conveniences
    ``Plan.to_map`` / ``Plan.to_files``, which are the one documented upward call.
    """
    import ast

    package = Path(__file__).resolve().parents[1] / "hzlogistics"
    files = {"hzlogistics.plan": package / "plan.py", "hzlogistics.report": package / "report.py"}
    files.update({f"hzlogistics.maps.{p.stem}" if p.stem != "__init__" else "hzlogistics.maps": p
                  for p in (package / "maps").glob("*.py")})

    def imports(tree: ast.AST, skip: set[str]) -> set[str]:
        found: set[str] = set()
        for node in ast.iter_child_nodes(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.FunctionDef) and node.name in skip:
                continue
            if isinstance(node, ast.ImportFrom) and node.module:
                # ``from package import submodule`` imports the submodule only
                subs = {f"{node.module}.{a.name}" for a in node.names} & set(files)
                found |= subs or {node.module}
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            found |= imports(node, skip)
        return found

    graph = {}
    for name, path in files.items():
        used = imports(ast.parse(path.read_text(encoding="utf-8")), {"to_map", "to_files"})
        graph[name] = {m for m in files if m != name and m in used}
    assert graph["hzlogistics.plan"] == set()
    assert "hzlogistics.maps" in graph["hzlogistics.report"]
    for name in files:
        if name.startswith("hzlogistics.maps"):
            assert not graph[name] & {"hzlogistics.plan", "hzlogistics.report"}, name
    # no circle: a depth-first walk never meets a module on its own path
    def walk(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        for nxt in graph[node]:
            walk(nxt, (*path, node))

    for name in files:
        walk(name, ())
