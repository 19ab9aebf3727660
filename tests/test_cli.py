"""The command line: every command, every exit code, Ctrl-C, files never clobbered.

Most tests replace the solve by a hand-made plan (``fake_solve``) to stay fast;
the tests marked by ``real`` in their name run the whole pipeline on small
instances, in this process or as a subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from hzlogistics._errors import InfeasibleError
from hzlogistics.cli import main, own_data_scenario
from hzlogistics.plan import Plan
from hzlogistics.report import write_plan
from hzlogistics.scenario import Scenario, default_scenario, load_scenario
from tests.test_report import toy_plan

REPO = Path(__file__).resolve().parents[1]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


class FakeSolve:
    """Stands in for plan.run_scenario: calls back like it and returns a toy plan."""

    def __init__(self) -> None:
        self.scenarios: list[Scenario] = []
        self.error: BaseException | None = None
        self.wait_for_stop_s = 0.0
        self.in_solve = threading.Event()

    def __call__(self, scenario: Scenario, *, progress: bool = False, on_stage: Any = None,
                 on_incumbent: Any = None, stop: Any = None, **kwargs: Any) -> Plan:
        self.scenarios.append(scenario)
        for stage in ("load", "coverage", "solve"):
            on_stage(stage)
        self.in_solve.set()
        on_incumbent(0.1, 20.0, 25.0)
        if self.error is not None:
            raise self.error
        if self.wait_for_stop_s:
            stop.wait(self.wait_for_stop_s)
        status = "interrupted" if stop.is_set() else "optimal"
        return toy_plan(name=scenario.name, status=status)


@pytest.fixture
def fake_solve(monkeypatch: pytest.MonkeyPatch) -> FakeSolve:
    fake = FakeSolve()
    monkeypatch.setattr("hzlogistics.plan.run_scenario", fake)

    def small_map(plan: Plan, path: Any = None, **kwargs: Any) -> None:
        Path(path).write_text(f"<html>{plan.name}</html>", encoding="utf-8")

    monkeypatch.setattr("hzlogistics.maps.plan_map", small_map)
    return fake


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# ----------------------------------------------------------------------------- plan
def test_plan_default_scenario_layout(cwd: Path, fake_solve: FakeSolve,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["plan"], capsys)
    assert code == 0, err
    assert fake_solve.scenarios == [default_scenario()]
    folder = cwd / "outputs" / "hangzhou-2020"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["sites.csv", "sites.geojson", "plan.gpkg", "assignments.csv", "summary.json",
         "report.md", "scenario.toml"])
    assert (cwd / "maps" / "hangzhou-2020.html").read_text() == "<html>hangzhou-2020</html>"
    assert load_scenario(folder / "scenario.toml") == default_scenario()
    # the summary table and the paths written
    assert "demand covered  22 of 25 parcels/day (88.0 %)" in out
    assert "floor area      400 m² of 400 m² (100.0 %)" in out
    assert "sites           3 open (1 existing) in 2 countries" in out
    assert "gap             0.000 %" in out
    assert f"outputs{os.sep}hangzhou-2020{os.sep}plan.gpkg" in out
    assert f"maps{os.sep}hangzhou-2020.html" in out
    # the stages on stderr
    for k, stage in enumerate(("load", "coverage", "solve", "outputs"), start=1):
        assert f"[{k}/4] {stage}" in err
    assert "incumbent 20.0  bound 25.0  gap 25.000 %" in err


def test_plan_json_and_quiet(cwd: Path, fake_solve: FakeSolve,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["plan", "--json", "-q"], capsys)
    assert code == 0
    assert err == ""  # -q: no progress
    summary = json.loads(out)
    assert summary["status"] == "optimal" and summary["interrupted"] is False
    assert summary["covered_weight"] == 22.0 and summary["n_open"] == 3
    for path in summary["files"].values():
        assert Path(path).is_file()


def test_plan_quiet_prints_nothing(cwd: Path, fake_solve: FakeSolve,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "-q"], capsys) == (0, "", "")
    assert (cwd / "outputs" / "hangzhou-2020" / "summary.json").is_file()


def test_plan_out_dir_and_map_dir(cwd: Path, fake_solve: FakeSolve,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(["plan", "-q", "--out-dir", "res", "--map-dir", "m", "--name", "v2"], capsys)
    assert code == 0
    assert (cwd / "res" / "v2" / "summary.json").is_file()
    assert (cwd / "m" / "v2.html").is_file()
    assert not (cwd / "outputs").exists() and not (cwd / "maps").exists()


def test_plan_no_map(cwd: Path, fake_solve: FakeSolve,
                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "-q", "--no-map"], capsys)[0] == 0
    assert not (cwd / "maps").exists()


def test_flags_override_the_scenario_file(cwd: Path, fake_solve: FakeSolve,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (cwd / "s.toml").write_text('name = "base"\n[network]\ncount = 5\n')
    code, _, err = run(["plan", "s.toml", "-q", "--area-budget", "5000", "--count", "10-20",
                        "--sizes", "100,200", "--time-limit-s", "3", "--gap", "0.01",
                        "--objective", "min-area", "--required-share", "0.9",
                        "--capacity-per-m2", "none", "--seed", "4", "--countries", "de,fr",
                        "--service-level", "two-day", "--radius-km", "80",
                        "--fixed-cost", "25000"], capsys)
    assert code == 0, err
    s = fake_solve.scenarios[0]
    assert s.fixed_cost_usd_year == 25000.0
    assert s.name == "base"
    assert (s.area_budget_m2, s.count_min, s.count_max) == (5000.0, 10, 20)
    assert s.size_tiers_m2 == [100.0, 200.0]
    assert (s.time_limit_s, s.gap, s.seed) == (3.0, 0.01, 4)
    assert (s.objective, s.required_share, s.capacity_per_m2) == ("min-area", 0.9, None)
    assert s.countries == ["DE", "FR"] and s.service_level == "two-day"
    assert s.radius_km == 80.0
    # the copy next to the outputs is the scenario actually used
    assert load_scenario(cwd / "outputs" / "base" / "scenario.toml") == s


def test_own_data_starts_without_budget_capacity_count_or_quota(
        cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    (cwd / "d.csv").write_text("id,lon,lat,weight\n1,0,0,1\n")
    (cwd / "s.csv").write_text("id,lon,lat\nA,0,0\n")
    code, _, err = run(["plan", "-q", "--demand", "d.csv", "--sites", "s.csv",
                        "--radius-km", "10", "--out", "my plan"], capsys)
    assert code == 0, err
    s = fake_solve.scenarios[0]
    assert s == dataclasses.replace(own_data_scenario("my-plan"),
                                    demand_file=str((cwd / "d.csv").resolve()),
                                    sites_file=str((cwd / "s.csv").resolve()), radius_km=10.0)
    assert (s.area_budget_m2, s.capacity_per_m2, s.count_min, s.count_max) == (None, None, 0,
                                                                                None)
    assert s.min_sites_per_country == 0 and s.quotas == {}
    # --out DIR receives every file, the map as map.html
    names = {p.name for p in (cwd / "my plan").iterdir()}
    assert {"sites.csv", "assignments.csv", "summary.json", "map.html"} <= names


# ----------------------------------------------------------------------------- exit 2
@pytest.mark.parametrize(
    ("files", "argv", "fragment"),
    [
        ({"bad.toml": 'name = "x"\n[network\n'}, ["plan", "bad.toml"], "malformed TOML"),
        ({"bad.toml": "[network]\narea_budjet_m2 = 5\n"}, ["plan", "bad.toml"],
         "bad.toml:2: network.area_budjet_m2: unknown key (did you mean 'area_budget_m2'?)"),
        ({"bad.toml": "[network]\narea_budget_m2 = -5\n"}, ["validate", "bad.toml"],
         "bad.toml:2: network.area_budget_m2: must be a positive number, got -5.0"),
        ({}, ["plan", "missing.toml"], "missing.toml: no such scenario file"),
        ({}, ["plan", "--demand", "nope.csv", "--sites", "nope2.csv"],
         "--demand: file not found: nope.csv"),
        ({}, ["plan", "--count", "ten"], "--count: expected N, LO-HI or none, got 'ten'"),
        ({}, ["plan", "--gap", "2"], "--gap: must be >= 0 and < 1 (0: prove the optimum), got 2.0"),
        ({}, ["plan", "--time-limit-s", "soon"], "--time-limit-s: expected a number"),
        ({}, ["plan", "--name", "../../escape"], "--name: must be 1-100 letters"),
        ({"blocker": "a file"}, ["plan", "--out-dir", "blocker/sub"], "is a file"),
        ({"blocker": "a file"}, ["plan", "--out", "blocker"], "exists and is not a folder"),
        ({}, ["compare", "nowhere", "nowhere2"], "no such plan folder"),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(
    cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str],
    files: dict[str, str], argv: list[str], fragment: str,
) -> None:
    for name, text in files.items():
        (cwd / name).write_text(text)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert fragment in err
    assert err.startswith("hzlogistics: error: ")
    assert "Traceback" not in err
    assert fake_solve.scenarios == []  # nothing was solved
    assert not (cwd / "outputs").exists()


def test_several_problems_are_listed_one_per_line(cwd: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (cwd / "bad.toml").write_text('objective = "fast"\n[solver]\ngap = 3\n')
    code, _, err = run(["validate", "bad.toml"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0] == "hzlogistics: error: 2 problems:"
    assert lines[1].startswith("  - bad.toml:1: objective: unknown objective 'fast'")
    assert lines[2].startswith("  - bad.toml:3: solver.gap: must be >= 0 and < 1")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run([], capsys)[0] == 2
    assert run(["plan", "--bogus"], capsys)[0] == 2
    assert run(["fly"], capsys)[0] == 2
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.startswith("hzlogistics ")


# ----------------------------------------------------------------------------- exit 3 and 1
def test_infeasible_exits_3_with_the_reasons(cwd: Path, fake_solve: FakeSolve,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    fake_solve.error = InfeasibleError(["count_min 950 exceeds the 3 candidate sites",
                                        "quota DE needs 5 sites, 2 exist"])
    code, _, err = run(["plan"], capsys)
    assert code == 3
    assert "no plan satisfies every constraint" in err
    assert "  - count_min 950 exceeds the 3 candidate sites" in err
    assert "  - quota DE needs 5 sites, 2 exist" in err
    assert not (cwd / "outputs").exists()


def test_internal_error_exits_1_with_traceback(cwd: Path, fake_solve: FakeSolve,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    fake_solve.error = RuntimeError("a bug")
    code, _, err = run(["plan"], capsys)
    assert code == 1
    assert "Traceback" in err and "RuntimeError: a bug" in err


def test_failed_rerun_keeps_the_previous_plan(cwd: Path, fake_solve: FakeSolve,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "-q"], capsys)[0] == 0
    before = tree(cwd)
    fake_solve.error = InfeasibleError("no room")
    assert run(["plan", "-q"], capsys)[0] == 3
    assert tree(cwd) == before
    # a failure while writing the files leaves the earlier plan as it was
    fake_solve.error = None

    def broken(plan: Plan) -> str:
        raise OSError("disk full")

    monkeypatch.setattr("hzlogistics.report.report_markdown", broken)
    # an OSError while writing is a problem of the machine, not a bug: exit 2, one line
    code, _, err = run(["plan", "-q"], capsys)
    assert code == 2
    assert err.strip() == "hzlogistics: error: disk full"
    assert tree(cwd) == before
    assert [p.name for p in (cwd / "outputs" / "hangzhou-2020").iterdir()
            if p.name.startswith(".")] == []


# ----------------------------------------------------------------------------- interrupt
def test_interrupt_in_process_writes_the_best_plan(cwd: Path, fake_solve: FakeSolve,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    fake_solve.wait_for_stop_s = 30.0

    def press_ctrl_c() -> None:
        fake_solve.in_solve.wait(30)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    handler_before = signal.getsignal(signal.SIGINT)
    code, _, err = run(["plan", "--no-map"], capsys)
    assert code == 130
    assert "stopping the search" in err
    summary = json.loads((cwd / "outputs" / "hangzhou-2020" / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["interrupted"] is True
    # the handler of the caller is back in place
    assert signal.getsignal(signal.SIGINT) is handler_before


# ----------------------------------------------------------------------------- validate
def test_validate_ok_and_conflicts(cwd: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    conflicts: list[str] = []
    monkeypatch.setattr("hzlogistics.plan.check_scenario",
                        lambda scenario, progress=False: list(conflicts))
    code, out, _ = run(["validate"], capsys)
    assert code == 0 and "ok: scenario 'hangzhou-2020'" in out
    conflicts.append("area budget 100 m² < 950 sites × 100 m²")
    code, out, err = run(["validate", "--json"], capsys)
    assert code == 3
    assert "  - area budget 100 m² < 950 sites × 100 m²" in err
    assert json.loads(out) == {"name": "hangzhou-2020", "ok": False,
                               "conflicts": ["area budget 100 m² < 950 sites × 100 m²"]}


# ----------------------------------------------------------------------------- compare
def test_compare_two_plan_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write_plan(toy_plan(name="a", area_m2=(200.0, 100.0, 0.0)), tmp_path / "a")
    write_plan(toy_plan(name="b", area_m2=(100.0, 100.0, 100.0)), tmp_path / "b")
    code, out, err = run(["compare", str(tmp_path / "a"), str(tmp_path / "b")], capsys)
    assert code == 0, err
    assert "sites: 1 opened, 0 closed, 1 resized" in out
    assert "FR" in out and "+70.00" in out  # FR coverage change, in share points
    code, out, _ = run(["compare", "--json", str(tmp_path / "a"), str(tmp_path / "b")], capsys)
    data = json.loads(out)
    assert {r["id"]: r["change"] for r in data["sites"]} == {"s1": "resized", "s3": "opened"}
    assert data["totals"]["covered_weight_change"] == 7.0

    drawn: list[tuple[str, str]] = []

    def fake_compare_map(plan_a: Plan, plan_b: Plan, *, path: Any = None) -> None:
        drawn.append((plan_a.name, plan_b.name))
        Path(path).write_text("<html>compare</html>")

    monkeypatch.setattr("hzlogistics.maps.compare_map", fake_compare_map)
    target = tmp_path / "maps" / "ab.html"
    code, out, _ = run(["compare", str(tmp_path / "a"), str(tmp_path / "b"),
                        "--map", str(target)], capsys)
    assert code == 0 and drawn == [("a", "b")]
    assert target.read_text() == "<html>compare</html>"


def test_real_compare_map_from_plan_folders(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    write_plan(toy_plan(name="a", area_m2=(200.0, 100.0, 0.0)), tmp_path / "a")
    write_plan(toy_plan(name="b"), tmp_path / "b")
    target = tmp_path / "ab.html"
    code, out, err = run(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--map",
                          str(target)], capsys)
    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "Paris" in html  # the opened site is drawn
    assert f"map: {target}" in out


# ----------------------------------------------------------------------------- init
def test_init_writes_the_default_and_refuses_to_overwrite(
        cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["init", "my-plan.toml"], capsys)
    assert code == 0 and "my-plan.toml" in out
    s = load_scenario(cwd / "my-plan.toml")
    assert s.name == "my-plan"
    assert s == Scenario(name="my-plan")
    text = (cwd / "my-plan.toml").read_text()
    (cwd / "my-plan.toml").write_text(text + "# edited\n")
    code, _, err = run(["init", "my-plan.toml"], capsys)
    assert code == 2 and "already exists; use --force" in err
    assert (cwd / "my-plan.toml").read_text().endswith("# edited\n")
    assert run(["init", "my-plan.toml", "--force"], capsys)[0] == 0
    assert (cwd / "my-plan.toml").read_text() == text


def test_init_default_path_and_folder(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["init"], capsys)[0] == 0
    assert load_scenario(cwd / "scenario.toml").name == "scenario"
    (cwd / "cfg").mkdir()
    assert run(["init", "cfg"], capsys)[0] == 0
    assert (cwd / "cfg" / "scenario.toml").is_file()


# ----------------------------------------------------------------------------- countries, data
def test_countries_lists_the_50(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["countries"], capsys)
    if code == 2 and "data file not found" in err:
        pytest.skip("the country data files are not built in this checkout")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 + 50 + 1  # header, rule, 50 countries, total
    assert lines[-1].split()[:2] == ["50", "countries"]
    code, out, _ = run(["countries", "--json"], capsys)
    rows = json.loads(out)
    assert len(rows) == 50 and {"code", "name", "n_demand", "n_sites"} <= set(rows[0])


def test_data_build_check_exit_codes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from hzlogistics.databuild import BuildReport

    changed: list[str] = []
    calls: list[tuple[Any, bool]] = []

    def fake_build(out_dir: Any = None, *, check: bool = False,
                   progress: bool = False) -> BuildReport:
        calls.append((out_dir, check))
        return BuildReport(out_dir=tmp_path, checked=check, files=["demand.csv"],
                           changed_files=list(changed))

    monkeypatch.setattr("hzlogistics.databuild.build_data", fake_build)
    assert run(["data", "build", "--check"], capsys)[0] == 0
    changed.append("demand.csv")
    code, _, err = run(["data", "build", "--check"], capsys)
    assert code == 1 and "demand.csv" in err
    assert run(["data", "build", "--out-dir", str(tmp_path)], capsys)[0] == 0
    assert calls == [(None, True), (None, True), (str(tmp_path), False)]


# ----------------------------------------------------------------------------- real runs
def write_points(folder: Path, n_demand: int, n_sites: int, *, seed: int = 0,
                 country: bool = False) -> tuple[Path, Path]:
    """Random demand and candidate sites in a 10° × 10° box (CSV files)."""
    rng = np.random.default_rng(seed)
    extra = {"country": "NL"} if country else {}
    demand = pd.DataFrame({"id": [f"d{i}" for i in range(n_demand)],
                           "lon": rng.uniform(0, 10, n_demand).round(4),
                           "lat": rng.uniform(40, 50, n_demand).round(4),
                           "weight": rng.integers(1, 100, n_demand), **extra})
    sites = pd.DataFrame({"id": [f"s{i}" for i in range(n_sites)],
                          "lon": rng.uniform(0, 10, n_sites).round(4),
                          "lat": rng.uniform(40, 50, n_sites).round(4), **extra})
    d, s = folder / "demand.csv", folder / "sites.csv"
    demand.to_csv(d, index=False)
    sites.to_csv(s, index=False)
    return d, s


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "hzlogistics.cli", *args]


def test_real_own_data_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, s = write_points(tmp_path, 300, 40)
    out = tmp_path / "plan"
    code, stdout, err = run(["plan", "--demand", str(d), "--sites", str(s), "--radius-km", "80",
                             "--area-budget", "1000", "--sizes", "100,200,500", "--count",
                             "2-6", "--capacity-per-m2", "50", "--time-limit-s", "10",
                             "--out", str(out), "--json"], capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    sites = pd.read_csv(out / "sites.csv", dtype={"id": str})
    assert list(sites.columns[:4]) == ["id", "open", "area_m2", "served_weight"]
    opened = sites[sites["open"]]
    assert 2 <= len(opened) <= 6
    assert opened["area_m2"].isin([100.0, 200.0, 500.0]).all()
    assert opened["area_m2"].sum() <= 1000.0
    # capacity: a site serves at most 50 parcels/day per m²
    assert (opened["served_weight"] <= 50 * opened["area_m2"] + 1e-6).all()
    a = pd.read_csv(out / "assignments.csv", dtype={"site_id": str, "demand_id": str})
    assert list(a.columns[:3]) == ["site_id", "demand_id", "weight"]
    assert set(a["site_id"]) <= set(opened["id"])
    assert a["weight"].sum() == pytest.approx(summary["covered_weight"])
    saved = json.loads((out / "summary.json").read_text())
    for key in ("status", "objective", "bound", "gap", "covered_weight", "total_weight",
                "total_area_m2", "n_open", "wall_s"):
        assert key in saved
    assert saved["total_weight"] == pd.read_csv(d)["weight"].sum()
    assert saved["n_open"] == len(opened)
    assert (out / "map.html").stat().st_size > 1000
    assert len(gpd.read_file(out / "plan.gpkg", layer="sites")) == 40


def test_real_own_data_with_coverage_csv(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "d.csv").write_text("id,lon,lat,weight\n1,0,0,5\n2,1,1,7\n3,2,2,4\n")
    (tmp_path / "s.csv").write_text("id,lon,lat\nA,0,0\nB,2,2\n")
    (tmp_path / "c.csv").write_text("site_id,demand_id\nA,1\nA,2\nB,3\n")
    code, out, err = run(["plan", "--demand", str(tmp_path / "d.csv"), "--sites",
                          str(tmp_path / "s.csv"), "--coverage", str(tmp_path / "c.csv"),
                          "--count", "1", "--sizes", "100", "--time-limit-s", "5",
                          "--out", str(tmp_path / "o"), "--no-map", "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["covered_weight"] == 12.0  # site A serves 1 and 2
    sites = pd.read_csv(tmp_path / "o" / "sites.csv")
    assert sites.set_index("id")["open"].to_dict() == {"A": True, "B": False}


def test_real_validate_example_and_infeasible(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    example = REPO / "scenarios" / "own-data" / "scenario.toml"
    code, out, err = run(["validate", str(example)], capsys)
    assert code == 0, err
    # more sites asked for than there are candidates
    d, s = write_points(tmp_path, 50, 5)
    code, out, err = run(["validate", "--demand", str(d), "--sites", str(s), "--radius-km", "50",
                          "--count", "8"], capsys)
    assert code == 3, err
    assert "cannot be satisfied" in err


def test_real_subprocess_bad_input_has_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[solver]\ntime_limit_s = -1\n")
    proc = subprocess.run(cli("validate", "bad.toml"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == ("hzlogistics: error: bad.toml:2: solver.time_limit_s: must be a "
                           "positive number, got -1.0\n")


def test_real_subprocess_commands(tmp_path: Path) -> None:
    write_plan(toy_plan(name="a", area_m2=(200.0, 100.0, 0.0)), tmp_path / "a")
    write_plan(toy_plan(name="b"), tmp_path / "b")
    proc = subprocess.run(cli("compare", "a", "b", "--json"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["totals"]["n_opened"] == 1
    proc = subprocess.run(cli("init", "x.toml"), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and load_scenario(tmp_path / "x.toml").name == "x"
    proc = subprocess.run(cli("init", "x.toml"), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "already exists" in proc.stderr
    script = Path(sys.executable).with_name("hzlogistics")
    if script.exists():  # the console script of an installed package
        proc = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0 and proc.stdout.startswith("hzlogistics ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_read_only_output_folder_exits_2_before_solving(
        cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    (cwd / "ro").mkdir()
    (cwd / "ro").chmod(0o500)
    try:
        code, _, err = run(["plan", "--out-dir", "ro"], capsys)
    finally:
        (cwd / "ro").chmod(0o700)
    assert code == 2 and "not writable" in err
    assert fake_solve.scenarios == []


def _start(args: list[str], cwd: Path) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    lines: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def _wait_for(lines: list[str], text: str, proc: subprocess.Popen[str],
              timeout_s: float = 180.0) -> None:
    t0 = time.monotonic()
    while not any(text in line for line in lines):
        if proc.poll() is not None:
            raise AssertionError(f"ended with {proc.returncode} before {text!r}: {lines}")
        if time.monotonic() - t0 > timeout_s:
            proc.kill()
            raise AssertionError(f"no {text!r} after {timeout_s} s: {lines}")
        time.sleep(0.05)


@pytest.fixture
def long_solve_args(tmp_path: Path) -> Callable[[str], list[str]]:
    """A count-only plan on many random points that does not solve within seconds."""
    d, s = write_points(tmp_path, 20_000, 4_000, seed=1)

    def args(out: str) -> list[str]:
        return cli("plan", "--demand", str(d), "--sites", str(s), "--radius-km", "25",
                   "--count", "150", "--sizes", "100", "--time-limit-s", "300",
                   "--gap", "0.000001", "--out", out, "--no-map")

    return args


def test_real_sigint_during_the_solve_writes_the_best_plan(
        tmp_path: Path, long_solve_args: Callable[[str], list[str]]) -> None:
    proc, lines = _start(long_solve_args("out"), tmp_path)
    _wait_for(lines, "[3/4] solve", proc)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=120)
    assert proc.returncode == 130, "".join(lines)
    text = "".join(lines)
    assert "stopping the search" in text and "interrupted: wrote the best plan" in text
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["interrupted"] is True
    assert summary["n_open"] == 150
    assert summary["gap"] is not None and summary["gap"] >= 0
    sites = gpd.read_file(tmp_path / "out" / "plan.gpkg", layer="sites")
    assert int(sites["open"].sum()) == 150
    assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []


def test_real_second_sigint_quits_at_once_and_keeps_the_previous_plan(
        tmp_path: Path, long_solve_args: Callable[[str], list[str]]) -> None:
    previous = write_plan(toy_plan(name="earlier"), tmp_path / "out")
    before = {p.name: p.read_bytes() for p in previous.values()}
    proc, lines = _start(long_solve_args("out"), tmp_path)
    _wait_for(lines, "[3/4] solve", proc)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _wait_for(lines, "Ctrl-C again", proc)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert proc.returncode == 130
    # the earlier plan is either untouched or fully replaced, never mixed or half-written
    after = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir() if p.is_file()}
    if after == before:
        return
    summary = json.loads(after["summary.json"])
    assert summary["status"] == "interrupted"


@pytest.mark.slow
def test_real_default_scenario(tmp_path: Path) -> None:
    proc = subprocess.run(cli("plan", "--time-limit-s", "30", "--json", "--no-map"),
                          cwd=tmp_path, capture_output=True, text=True,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert 950 <= summary["n_open"] <= 1050
    assert summary["total_area_m2"] <= 200_000.0 + 1e-6
    assert summary["n_countries"] == 50
    report = (tmp_path / "outputs" / "hangzhou-2020" / "report.md").read_text()
    assert report.count("\n| ") > 50  # a row per country


def test_summary_text_names_unreachable_demand_and_mean_delivery() -> None:
    from hzlogistics.cli import summary_text

    summary = toy_plan().summary()
    text = summary_text(summary, {})
    assert "unreachable     1 demand point (3.0 parcels/day) out of every site's reach" in text
    assert "mean delivery   0.95 h per parcel served" in text
    summary.update(n_unreachable=0, mean_travel_time_h=None)
    text = summary_text(summary, {})
    assert "unreachable" not in text and "mean delivery" not in text


# ----------------------------------------------------------------------------- roll-outs
def test_plan_builtin_roll_out_and_years_flag(cwd: Path, fake_solve: FakeSolve,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["plan", "hangzhou-2017-2020", "-q"], capsys)
    assert code == 0, err
    s = fake_solve.scenarios[-1]
    assert s.name == "hangzhou-2017-2020" and s.phasing is not None
    assert s.phasing.years == [2017, 2018, 2019, 2020]
    own = str(REPO / "scenarios" / "own-data" / "scenario.toml")
    for flag, years in (("2018:2020", [2018, 2019, 2020]), ("2019,2021", [2019, 2021])):
        code, _, err = run(["plan", own, "-q", "--years", flag, "--out", "o"], capsys)
        assert code == 0, err
        s = fake_solve.scenarios[-1]
        assert s.phasing is not None and s.phasing.years == years
        assert s.phasing.area_budget_m2 is None  # shared out from [network] when solved
        assert load_scenario(cwd / "o" / "scenario.toml").phasing == s.phasing


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--years", "2020:2017"], "--years: must be a list of years such as"),
    (["--years", "soon"], "--years: must be a list of years such as"),
    (["hangzhou-2017-2020", "--years", "2018:2020"],
     "hangzhou-2017-2020: phasing.area_budget_m2: must give one value per year (3 years"),
    (["--years", "2018:2020", "--objective", "median"],
     "phasing: a phased roll-out plans the coverage objective only"),
])
def test_bad_roll_out_values_exit_2(cwd: Path, fake_solve: FakeSolve,
                                    capsys: pytest.CaptureFixture[str], argv: list[str],
                                    fragment: str) -> None:
    code, _, err = run(["plan", *argv], capsys)
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert fake_solve.scenarios == []


def test_real_own_data_roll_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d, s = write_points(tmp_path, 300, 40)
    out = tmp_path / "plan"
    code, stdout, err = run(["plan", "--demand", str(d), "--sites", str(s), "--radius-km", "80",
                             "--area-budget", "1500", "--sizes", "100,200,500", "--count",
                             "3-9", "--capacity-per-m2", "50", "--time-limit-s", "20",
                             "--years", "2018:2020", "--out", str(out), "--json"], capsys)
    assert code == 0, err
    summary = json.loads(stdout)
    assert [row["year"] for row in summary["years"]] == [2018, 2019, 2020]
    sites = pd.read_csv(out / "sites.csv", dtype={"id": str})
    for k, year in enumerate((2018, 2019, 2020)):
        area = sites[f"area_m2_{year}"]
        assert area.sum() <= 1500 * (k + 1) / 3 + 1e-6
        assert summary["years"][k]["total_area_m2"] == pytest.approx(area.sum())
        assert summary["years"][k]["n_open"] == int((area > 0).sum())
        if k:
            before = sites[f"area_m2_{year - 1}"]
            assert (area >= before).all()  # nothing closes or shrinks
    assert (out / "rollout.png").is_file() and (out / "map.html").is_file()
    assert "## 2019" in (out / "report.md").read_text(encoding="utf-8")
