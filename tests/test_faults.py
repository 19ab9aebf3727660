"""Faults found by trying the planner as a hostile new user would: one test (or more) each.

Every test is named after the fault it guards against (``test_fault_NN_...``).
The promise they hold the code to: a failed or interrupted run never leaves a
half-written file nor replaces the previous plan's files, and the exit codes
are 0 done, 2 bad input (one line on stderr), 3 infeasible, 130 interrupted,
1 internal error.
"""

from __future__ import annotations

import errno
import json
import math
import shutil
import threading
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from hzlogistics._errors import ValidationError
from hzlogistics.coverage import coverage_from_pairs
from hzlogistics.io import read_demand_csv, read_sites_csv, write_atomic
from hzlogistics.plan import Inputs, Plan, build_problem, run_scenario, solve_plan
from hzlogistics.report import PLAN_FILES, report_markdown, write_plan
from hzlogistics.saved_plan import read_plan
from hzlogistics.scenario import Scenario
from tests import test_cli
from tests.test_cli import FakeSolve, run, tree
from tests.test_report import toy_plan

# the command-line fixtures: a temporary working folder, and a solve replaced by a toy plan
cwd = test_cli.cwd
fake_solve = test_cli.fake_solve

REPO = Path(__file__).resolve().parents[1]
OWN_DATA = REPO / "scenarios" / "own-data"
HAS_PROC = Path("/proc/self").is_dir()


def one_line(err: str) -> str:
    """The single line of an exit-2 message (fails when there are more)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hzlogistics: error: "), err
    return lines[0]


def own_data(folder: Path) -> Path:
    """A copy of the own-data example (scenario.toml, demand.csv, sites.csv) in ``folder``."""
    for p in OWN_DATA.iterdir():
        shutil.copy(p, folder / p.name)
    return folder / "scenario.toml"


def fast_map(plan: Plan, path: Any = None, **kwargs: Any) -> None:
    Path(path).write_text(f"<html>{plan.name}</html>", encoding="utf-8")


def toy_inputs() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    sites = gpd.GeoDataFrame({"id": ["s1", "s2"]},
                             geometry=gpd.points_from_xy([0.0, 1.0], [0.0, 0.0]),
                             crs="EPSG:4326")
    demand = gpd.GeoDataFrame({"id": ["d1", "d2", "d3"], "weight": [10.0, 5.0, 7.0]},
                              geometry=gpd.points_from_xy([0.1, 0.5, 0.9], [0.0] * 3),
                              crs="EPSG:4326")
    return sites, demand


TOY_COVER = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], dtype=float))


# ----------------------------------------------------------------------------- 1
def test_fault_01_a_map_folder_that_fails_keeps_the_previous_plan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hzlogistics.maps.plan_map", fast_map)
    out = tmp_path / "plan"
    write_plan(toy_plan(name="old"), out, map_path=tmp_path / "maps" / "old.html")
    before = tree(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    before["a-file"] = b"not a folder"
    with pytest.raises(ValidationError, match="cannot write the map here"):
        write_plan(toy_plan(name="new", area_m2=(100.0, 0.0, 100.0)), out,
                   map_path=tmp_path / "a-file" / "new.html")
    assert tree(tmp_path) == before  # not one file of the new plan moved in
    summary = json.loads((out / "summary.json").read_text())
    assert summary["name"] == "old" and Path(summary["map"]).is_file()


@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_fault_01_cli_map_dir_under_proc_exits_2_and_keeps_the_plan(
        cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plan", "-q"], capsys)[0] == 0
    before = tree(cwd)
    code, _, err = run(["plan", "-q", "--map-dir", "/proc/hzlogistics-x"], capsys)
    assert code == 2
    assert "/proc/hzlogistics-x" in one_line(err)
    assert tree(cwd) == before


# ----------------------------------------------------------------------------- 2
def test_fault_02_interrupt_while_drawing_the_map_keeps_the_previous_plan(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hzlogistics.maps.plan_map", fast_map)
    out, map_path = tmp_path / "plan", tmp_path / "maps" / "p.html"
    write_plan(toy_plan(name="old"), out, map_path=map_path)
    before = tree(tmp_path)

    def interrupted(plan: Plan, path: Any = None, **kwargs: Any) -> None:
        Path(path).write_text("<html>half", encoding="utf-8")
        raise KeyboardInterrupt

    monkeypatch.setattr("hzlogistics.maps.plan_map", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_plan(toy_plan(name="new"), out, map_path=map_path)
    # no new data file beside the old map, no half map, no temporary file left
    assert tree(tmp_path) == before


def test_fault_02_a_cancelled_run_moves_nothing(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hzlogistics.maps.plan_map", fast_map)
    out = tmp_path / "plan"
    write_plan(toy_plan(name="old"), out, map_path=out / "map.html")
    before = tree(tmp_path)
    quit_now = threading.Event()
    quit_now.set()
    moved: list[dict[str, Path]] = []
    with pytest.raises(KeyboardInterrupt):
        write_plan(toy_plan(name="new"), out, map_path=out / "map.html", cancel=quit_now,
                   on_moved=moved.append)
    assert tree(tmp_path) == before and moved == []


def test_fault_02_interrupt_after_the_move_does_not_say_not_written(
        cwd: Path, fake_solve: FakeSolve, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def ctrl_c(*args: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("hzlogistics.cli.commands.summary_text", ctrl_c)
    code, _, err = run(["plan"], capsys)
    assert code == 130
    assert "not written" not in err
    assert f"had been written to {Path('outputs') / 'hangzhou-2020'}" in err
    summary = json.loads((cwd / "outputs" / "hangzhou-2020" / "summary.json").read_text())
    assert Path(summary["map"]).read_text() == "<html>hangzhou-2020</html>"


# ----------------------------------------------------------------------------- 3
def test_fault_03_out_equal_to_the_folder_of_the_inputs_is_refused(
        tmp_path: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = own_data(tmp_path)
    before = tree(tmp_path)
    code, _, err = run(["plan", str(scenario), "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "would be written over the inputs of this run" in one_line(err)
    code, _, err = run(["plan", "--demand", str(tmp_path / "demand.csv"), "--sites",
                        str(tmp_path / "sites.csv"), "--radius-km", "60", "--out",
                        str(tmp_path / "." / "")], capsys)
    assert code == 2 and "demand.csv is there" in one_line(err)
    assert fake_solve.scenarios == []
    assert tree(tmp_path) == before


# ----------------------------------------------------------------------------- 4
def test_fault_04_unknown_forbidden_site_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = own_data(tmp_path)
    text = scenario.read_text().replace("min_sites_per_country = 0",
                                        'min_sites_per_country = 0\nforbidden_sites = ["s03"]')
    scenario.write_text(text)
    for argv in (["validate", "-q", str(scenario)],
                 ["plan", "-q", str(scenario), "--out", str(tmp_path / "out")]):
        code, _, err = run(argv, capsys)
        assert code == 2, err
        line = one_line(err)
        assert "forbidden_sites: no candidate site has the id 's03'" in line
        assert "(did you mean 'S03'?)" in line
    assert not (tmp_path / "out").exists()
    sites, demand = toy_inputs()
    with pytest.raises(ValidationError, match="'nope'"):
        solve_plan(demand, sites, coverage=TOY_COVER, forbidden_sites=["nope"], time_limit_s=5)


# ----------------------------------------------------------------------------- 5
def test_fault_05_seed_beyond_32_bits_is_bad_input(
        cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("validate", "plan"):
        code, _, err = run([command, "-q", "--seed", "2147483648"], capsys)
        assert code == 2
        assert one_line(err) == ("hzlogistics: error: --seed: must be at most 2147483647 "
                                 "(the solver's seeds are 32-bit), got 2147483648")
    assert fake_solve.scenarios == []
    sites, demand = toy_inputs()
    with pytest.raises(ValidationError, match="seed: must be at most"):
        solve_plan(demand, sites, coverage=TOY_COVER, seed=2**31, time_limit_s=5)


# ----------------------------------------------------------------------------- 6
def test_fault_06_output_path_with_an_exclamation_mark(tmp_path: Path) -> None:
    out = tmp_path / "plans!v2"
    paths = write_plan(toy_plan(), out)
    assert paths["gpkg"] == out / "plan.gpkg"
    back = read_plan(out)
    assert back.sites["id"].tolist() == ["s1", "s2", "s3"]
    assert back.summary()["covered_weight"] == 22.0
    assert json.loads((out / "sites.geojson").read_text())["features"]


def test_fault_06_cli_out_with_an_exclamation_mark(
        cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["plan", "-q", "--out", "wow!plan"], capsys)
    assert code == 0, err
    assert read_plan(cwd / "wow!plan").sites["id"].tolist() == ["s1", "s2", "s3"]


# ----------------------------------------------------------------------------- 7
@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_fault_07_init_and_compare_map_under_proc_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["init", "/proc/hzlogistics-x.toml"], capsys)
    assert code == 2 and "/proc" in one_line(err)
    write_plan(toy_plan(name="a"), tmp_path / "a")
    write_plan(toy_plan(name="b"), tmp_path / "b")
    code, _, err = run(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--map",
                        "/proc/hzlogistics-x.html"], capsys)
    assert code == 2 and "/proc" in one_line(err)


def test_fault_07_a_full_disk_is_bad_input_not_a_traceback(
        cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("hzlogistics.io.os.fsync", full)
    with pytest.raises(ValidationError, match="No space left on device"):
        write_atomic(cwd / "x.txt", "text")
    assert list(cwd.iterdir()) == []  # no temporary file left
    code, _, err = run(["init", "s.toml"], capsys)
    assert code == 2
    assert one_line(err).endswith("s.toml: cannot write here (No space left on device); "
                                  "choose a folder you can write to")
    assert not (cwd / "s.toml").exists()


def test_fault_07_any_os_error_reaching_the_cli_is_one_line(
        cwd: Path, fake_solve: FakeSolve, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def full(plan: Plan) -> str:
        raise OSError(errno.ENOSPC, "No space left on device", "outputs/x")

    monkeypatch.setattr("hzlogistics.report.report_markdown", full)
    code, _, err = run(["plan", "-q"], capsys)
    assert code == 2
    assert one_line(err) == "hzlogistics: error: outputs/x: No space left on device"


# ----------------------------------------------------------------------------- 8
def test_fault_08_data_build_out_dir_that_is_a_file_is_checked_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[Any] = []
    monkeypatch.setattr("hzlogistics.databuild.build_data",
                        lambda *a, **k: calls.append((a, k)))
    (tmp_path / "f").write_text("x")
    code, _, err = run(["data", "build", "--out-dir", str(tmp_path / "f")], capsys)
    assert code == 2 and "exists and is not a folder" in one_line(err)
    code, _, err = run(["data", "build", "--out-dir", str(tmp_path / "f" / "sub")], capsys)
    assert code == 2 and "is a file" in one_line(err)
    assert calls == []


# ----------------------------------------------------------------------------- 9
def test_fault_09_sweep_unknown_axis_is_checked_before_solving(
        cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    calls: list[Any] = []
    monkeypatch.setattr(importlib.import_module("hzlogistics.sweep"), "sweep",
                        lambda *a, **k: calls.append(a))
    code, _, err = run(["sweep", "--vary", "area_budget=100000,200000", "--x", "nope"], capsys)
    assert code == 2
    assert "--x: no column 'nope' in the sweep table" in one_line(err)
    code, _, err = run(["sweep", "--vary", "area_budget=100000,200000", "--y",
                        "covered_shar"], capsys)
    assert code == 2 and "(did you mean 'covered_share'?)" in one_line(err)
    assert calls == [] and not (cwd / "outputs").exists()


def test_fault_09_result_columns_name_every_column_of_a_real_sweep(tmp_path: Path) -> None:
    from hzlogistics.scenario import load_scenario
    from hzlogistics.sweep import RESULT_COLUMNS, sweep

    scenario = load_scenario(own_data(tmp_path))
    table = sweep(scenario, {"area_budget_m2": [1000.0]}, warm_start=False)
    assert set(table.columns) <= {"area_budget_m2", *RESULT_COLUMNS}
    assert set(RESULT_COLUMNS) - set(table.columns) == {"map"}  # only with maps drawn


# ----------------------------------------------------------------------------- 10
@pytest.mark.parametrize(("weight", "what"), [("1e300", "1e300 is out of range"),
                                              ("inf", "inf is not a finite number")])
def test_fault_10_absurd_weights_are_rejected(tmp_path: Path, weight: str, what: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "d.csv"
    d.write_text(f"id,lon,lat,weight\na,0,0,{weight}\nb,1,1,5\n")
    (tmp_path / "s.csv").write_text("id,lon,lat,max_area_m2\nA,0,0,1e300\n")
    with pytest.raises(ValidationError) as info:
        read_demand_csv(d)
    assert info.value.problems == [
        f"{d}, row 1, field 'weight': {what}; expected a number >= 0 and <= 1e+12"]
    with pytest.raises(ValidationError, match="max_area_m2': 1e300 is out of range"):
        read_sites_csv(tmp_path / "s.csv")
    code, _, err = run(["plan", "-q", "--demand", str(d), "--sites", str(tmp_path / "s.csv"),
                        "--radius-km", "50", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and f"field 'weight': {what}" in one_line(err)
    assert not (tmp_path / "o").exists()
    sites, demand = toy_inputs()
    with pytest.raises(ValidationError, match="weight'.*out of range"):
        solve_plan(demand.assign(weight=[1e300, 1.0, 1.0]), sites, coverage=TOY_COVER,
                   time_limit_s=5)


# ----------------------------------------------------------------------------- 11
def test_fault_11_coverage_matrix_of_the_wrong_shape(tmp_path: Path) -> None:
    sites, demand = toy_inputs()
    with pytest.raises(ValidationError, match="coverage is a 1 × 3 matrix, but there are "
                                              "2 sites and 3 demand points"):
        solve_plan(demand, sites, coverage=sp.csr_matrix(np.ones((1, 3))), time_limit_s=5)
    with pytest.raises(ValidationError, match="3 × 2 matrix"):
        solve_plan(demand, sites, coverage=sp.csr_matrix(np.ones((3, 2))), time_limit_s=5)
    wrong = coverage_from_pairs(np.array(["s1"]), demand["id"].to_numpy(), [0], [0],
                                mode="matrix")
    with pytest.raises(ValidationError, match="its matrix is 1 × 3"):
        build_problem(Scenario(), Inputs(demand=demand, sites=sites, countries=None), wrong)


# ----------------------------------------------------------------------------- 12
@pytest.mark.parametrize(("change", "message"), [
    ({"area_budget_m2": math.nan}, "solve_plan: area_budget_m2: must be a positive number"),
    ({"time_limit_s": 0}, "solve_plan: time_limit_s: must be a positive number, got 0"),
    ({"gap": 5}, "solve_plan: gap: must be >= 0 and < 1"),
    ({"sizes_m2": [200.0, 100.0]}, "solve_plan: sizes_m2: must be strictly increasing"),
    ({"demand": "empty"}, "demand: has no rows; expected at least one point"),
    ({"demand": "no weight"}, "demand: missing column 'weight'"),
])
def test_fault_12_the_library_applies_the_checks_of_the_command_line(
        change: dict[str, Any], message: str) -> None:
    sites, demand = toy_inputs()
    what = change.pop("demand", None)
    cover: Any = TOY_COVER
    if what == "empty":
        demand, cover = demand.iloc[:0], sp.csr_matrix((2, 0))
    elif what == "no weight":
        demand = demand.rename(columns={"weight": "parcels"})
    with pytest.raises(ValidationError) as info:
        solve_plan(demand, sites, coverage=cover, **change)
    assert any(p.startswith(message) for p in info.value.problems), info.value.problems


def test_fault_12_run_scenario_validates_its_scenario() -> None:
    with pytest.raises(ValidationError, match="time_limit_s: must be a positive number"):
        run_scenario(Scenario(time_limit_s=0))


# ----------------------------------------------------------------------------- 13
def test_fault_13_control_characters_never_reach_the_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = "s\x1b[2J\x1b]0;pwned\x07\u202e"
    a, b = toy_plan(name="a", area_m2=(200.0, 100.0, 0.0)), toy_plan(name="b")
    b.sites["id"] = ["s1", "s2", evil]
    b.assignments["site_id"] = b.assignments["site_id"].replace({"s3": evil})
    write_plan(a, tmp_path / "a")
    write_plan(b, tmp_path / "b")
    code, out, err = run(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "-v"], capsys)
    assert code == 0, err
    assert "s\\x1b[2J\\x1b]0;pwned\\x07\\u202e" in out
    assert not any(c in out for c in "\x1b\x07\u202e")
    code, out, _ = run(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json"], capsys)
    assert "\u202e" not in out and json.loads(out)["sites"][0]["id"] == evil
    code, _, err = run(["plan", "--demand", "a\x1b[31m.csv", "--sites", "b.csv"], capsys)
    assert code == 2 and "\x1b" not in err and "a\\x1b[31m.csv" in err


def test_fault_13_csv_outputs_neutralise_formulas_but_keep_numbers(tmp_path: Path) -> None:
    plan = toy_plan()
    plan.sites["name"] = ["=cmd|' /C calc'!A0", "+SUM(A1)", "-12.5"]
    plan.sites["lon"], plan.sites["lat"] = [-3.7, 13.4, 2.35], [40.4, 52.5, 48.85]
    plan.demand["id"] = ["@d1", "d2", "\td3", "d4"]
    plan.assignments["demand_id"] = ["@d1", "d2", "\td3"]
    write_plan(plan, tmp_path)
    sites = pd.read_csv(tmp_path / PLAN_FILES["sites_csv"])
    assert sites["name"].tolist() == ["'=cmd|' /C calc'!A0", "'+SUM(A1)", "-12.5"]
    assert sites["lon"].tolist() == [-3.7, 13.4, 2.35]  # negative numbers stay numbers
    text = (tmp_path / PLAN_FILES["assignments_csv"]).read_text()
    assert "'@d1" in text and "'\td3" in text
    assert pd.read_csv(tmp_path / PLAN_FILES["assignments_csv"])["weight"].sum() == 22.0


# ----------------------------------------------------------------------------- 14
@pytest.mark.parametrize("flag", [["--radius-km", "60"], ["--cutoff-h", "3"]])
def test_fault_14_coverage_file_with_a_radius_or_cutoff_is_refused(
        tmp_path: Path, fake_solve: FakeSolve, flag: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    own_data(tmp_path)
    (tmp_path / "c.csv").write_text("site_id,demand_id\nS00,D000\n")
    code, _, err = run(["plan", "--demand", str(tmp_path / "demand.csv"), "--sites",
                        str(tmp_path / "sites.csv"), "--coverage", str(tmp_path / "c.csv"),
                        *flag, "--out", str(tmp_path / "o")], capsys)
    assert code == 2
    assert f"{flag[0]}: a " in one_line(err) and "has no effect with a coverage file" in err
    assert fake_solve.scenarios == []


def test_fault_14_coverage_flag_replaces_the_radius_of_the_scenario_file(
        tmp_path: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = own_data(tmp_path)
    (tmp_path / "c.csv").write_text("site_id,demand_id\nS00,D000\n")
    code, _, err = run(["plan", "-q", str(scenario), "--coverage", str(tmp_path / "c.csv"),
                        "--out", str(tmp_path / "o")], capsys)
    assert code == 0, err
    used = fake_solve.scenarios[0]
    assert used.radius_km is None and used.coverage_file == str(tmp_path / "c.csv")


@pytest.mark.parametrize("argv", [["plan", "--out", ""], ["plan", "--out-dir", " "],
                                  ["plan", "--map-dir", ""], ["init", ""],
                                  ["sweep", "--vary", "count=3,4", "--out", ""]])
def test_fault_14_empty_output_paths_are_refused(
        cwd: Path, fake_solve: FakeSolve, argv: list[str],
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2 and "empty" in one_line(err)
    assert fake_solve.scenarios == [] and list(cwd.iterdir()) == []


# ----------------------------------------------------------------------------- 15
@pytest.mark.skipif(not HAS_PROC, reason="needs /proc")
def test_fault_15_output_folders_are_checked_before_the_solve(
        cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["plan", "--out-dir", "/proc/hzlogistics-x"],
                 ["plan", "--map-dir", "/proc/hzlogistics-x"],
                 ["plan", "--out", "/proc/self/hzlogistics-x"]):
        code, _, err = run(argv, capsys)
        assert code == 2 and "cannot write the" in one_line(err)
    assert fake_solve.scenarios == []


def test_fault_15_json_prints_an_error_object_on_exit_2(
        cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["plan", "--json", "--count", "abc", "--gap", "x"], capsys)
    assert code == 2
    assert json.loads(out) == {"status": "error", "exit_code": 2, "errors": [
        "--count: expected N, LO-HI or none, got 'abc'", "--gap: expected a number, got 'x'"]}
    assert err.startswith("hzlogistics: error: 2 problems:")


def test_fault_15_gap_zero_asks_for_proven_optimality(
        cwd: Path, fake_solve: FakeSolve, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["plan", "-q", "--gap", "0"], capsys)
    assert code == 0, err
    assert fake_solve.scenarios[0].gap == 0.0
    sites, demand = toy_inputs()
    plan = solve_plan(demand, sites, coverage=TOY_COVER, gap=0, count=1, time_limit_s=10)
    assert plan.result.status == "optimal" and plan.result.objective == 15.0


# ----------------------------------------------------------------------------- travel times
def test_mean_delivery_is_not_known_without_travel_times(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sites, demand = toy_inputs()
    plan = solve_plan(demand, sites, coverage=TOY_COVER, count=2, time_limit_s=10)
    summary = plan.summary()
    assert summary["covered_weight"] == 22.0
    assert summary["mean_travel_time_h"] is None and summary["travel_times_known"] is False
    assert plan.demand["travel_time_h"].isna().all()
    assert plan.sites["mean_travel_time_h"].isna().all()
    report = report_markdown(plan)
    assert "| Mean delivery | not known (the coverage gives no travel times) |" in report
    assert "0.00 h" not in report
    from hzlogistics.cli import summary_text

    text = summary_text(summary, {})
    assert "mean delivery   not known (the coverage gives no travel times)" in text
    # a plan whose coverage has travel times says them
    timed = toy_plan().summary()
    assert timed["travel_times_known"] is True and timed["mean_travel_time_h"] > 0


@pytest.mark.parametrize(("options", "message"), [
    ({"time_limit_s": math.nan}, "SolveOptions: time_limit_s: must be a number of seconds >= 0"),
    ({"time_limit_s": -1.0}, "SolveOptions: time_limit_s: must be a number of seconds >= 0"),
    ({"gap": 5.0}, "SolveOptions: gap: must be >= 0 and < 1"),
    ({"gap": math.nan}, "SolveOptions: gap: must be >= 0 and < 1"),
    ({"seed": 2**31}, "SolveOptions: seed: must be a whole number from 0 to 2147483647"),
])
def test_fault_12_solve_options_reject_limits_no_solve_can_honour(
        options: dict[str, Any], message: str) -> None:
    from hzlogistics.solvers.problem import SolveOptions

    with pytest.raises(ValidationError) as info:
        SolveOptions(**options)
    assert info.value.problems[0].startswith(message)
    assert SolveOptions(time_limit_s=0.0, gap=0.0, seed=2**31 - 1).seed == 2**31 - 1
