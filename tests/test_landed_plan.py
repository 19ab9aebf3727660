"""The landed objective end to end: scenario keys, planning, files and the command line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from hzlogistics import settings
from hzlogistics._errors import InfeasibleError, ValidationError
from hzlogistics.scenario import (
    KEYS,
    Scenario,
    loads_scenario,
    scenario_to_toml,
    validate_scenario,
)

GULF = ["AE", "KW", "QA"]


def gulf_scenario(**over: object) -> Scenario:
    base = Scenario(name="gulf-landed", objective="landed", countries=GULF, count_min=0,
                    count_max=None, area_budget_m2=None, fixed_cost_usd_year=50_000.0,
                    min_sites_per_country=0, time_limit_s=30, gap=0.0)
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def gulf_plan():  # type: ignore[no-untyped-def]
    from hzlogistics.plan import run_scenario

    return run_scenario(gulf_scenario())


# --- scenario keys -----------------------------------------------------------------------------


def test_every_landed_key_has_a_unit_a_default_and_a_reason() -> None:
    landed = [k for k, key in KEYS.items() if key.section == "landed"]
    assert set(landed) >= {
        "origin_port", "sea_usd_per_container_km", "parcels_per_container",
        "port_usd_per_container", "drayage_unit", "drayage_usd_per_container_km",
        "drayage_usd_per_pallet_km", "pallets_per_container", "last_mile_unit",
        "last_mile_usd_per_parcel_h", "last_mile_usd_per_parcel_km", "duty_usd_per_parcel",
        "cross_border_usd_per_parcel", "unserved", "unserved_usd_per_parcel"}
    for name in landed:
        key = KEYS[name]
        assert key.values and key.doc and len(key.meaning) > 40, name
    # the rates' defaults are the library's, in one place
    s = Scenario()
    assert s.sea_usd_per_container_km == settings.SEA_USD_PER_CONTAINER_KM
    assert s.parcels_per_container == settings.PARCELS_PER_CONTAINER
    assert s.origin_port == settings.LANDED_ORIGIN
    doc = (Path(__file__).resolve().parents[1] / "docs" / "scenario.md").read_text()
    for name in landed:
        assert f"| `{name}` |" in doc, name
    readme = (Path(__file__).resolve().parents[1] / "data" / "countries" / "README.md").read_text()
    for name in landed:
        assert f"`{name}`" in readme, name


def test_landed_section_reads_and_writes_back() -> None:
    text = """
name = "rates"
objective = "landed"
[landed]
origin_port = "port-CNSHA"
sea_usd_per_container_km = 0.25
duty_usd_per_parcel = { us = 1.5, DE = 0 }
drayage_unit = "pallet"
unserved = "infeasible"
"""
    s = loads_scenario(text)
    assert s.objective == "landed"
    assert s.origin_port == "port-CNSHA"
    assert s.sea_usd_per_container_km == 0.25
    assert s.duty_usd_per_parcel == {"US": 1.5, "DE": 0.0}
    assert s.drayage_unit == "pallet" and s.unserved == "infeasible"
    assert loads_scenario(scenario_to_toml(s)) == s


def test_bad_landed_values_are_named_all_at_once() -> None:
    text = """
name = "bad"
[landed]
origin_port = "port-XXX"
parcels_per_container = 0
sea_usd_per_container_km = -1
duty_usd_per_parcel = { Germany = 1, US = -2 }
unserved = "ignore"
"""
    with pytest.raises(ValidationError) as e:
        loads_scenario(text)
    msg = str(e.value)
    for part in ("origin_port", "unknown origin port 'port-XXX'", "parcels_per_container",
                 "must be a positive number", "sea_usd_per_container_km",
                 "'GERMANY': expected an ISO 3166-1 alpha-2", "US: must be a number of USD >= 0",
                 "unserved", "valid: infeasible, penalty"):
        assert part in msg, part
    with pytest.raises(ValidationError, match="must be a table of numbers by country code"):
        loads_scenario('[landed]\nduty_usd_per_parcel = 3\n')


def test_landed_rates_follow_the_scenario() -> None:
    from hzlogistics.plan_landed import landed_rates

    r = landed_rates(Scenario(origin_port="port-CNSZX", parcels_per_container=1_000.0,
                              port_usd_per_container=300.0, drayage_unit="pallet",
                              duty_usd_per_parcel={"US": 2.0}))
    assert r.origin == "port-CNSZX"
    assert r.port_usd_per_parcel == pytest.approx(0.3)
    assert r.drayage_usd_per_parcel_km == pytest.approx(
        settings.DRAYAGE_USD_PER_PALLET_KM * settings.PALLETS_PER_CONTAINER / 1_000.0)
    assert dict(r.duty_usd_per_parcel) == {"US": 2.0}


# --- planning ----------------------------------------------------------------------------------


def test_landed_plan_end_to_end(gulf_plan) -> None:  # type: ignore[no-untyped-def]
    plan = gulf_plan
    r = plan.result
    assert r.status == "optimal" and r.objective_name == "landed"
    b = r.info["landed"]
    assert b.totals["total"] == pytest.approx(r.objective, rel=1e-6)
    # rent and fixed cost of the breakdown are the plan's own
    assert b.totals["rent"] == pytest.approx(plan.open_sites["rent_usd_year"].sum(), rel=1e-9)
    assert b.totals["fixed"] == pytest.approx(50_000.0 * len(plan.open_sites), rel=1e-9)
    # every open site takes a port of its own country (no cross-border group here)
    ports = b.sites.set_index("site")["port"]
    country = plan.sites.set_index("id")["country"]
    for site, port in ports.items():
        assert port.startswith("port-") and country[port] == country[site]
    assert b.ports["parcels_day"].sum() == pytest.approx(plan.demand["served_weight"].sum())


def test_landed_plan_with_unserved_infeasible_names_the_demand(tmp_path: Path) -> None:
    from hzlogistics.plan import run_scenario

    # Kenya's sites have no port of entry within reach: its demand cannot be served
    s = gulf_scenario(countries=["KE", "QA"], unserved="infeasible")
    with pytest.raises(InfeasibleError, match="no site that may be opened and has a port"):
        run_scenario(s)
    plan = run_scenario(dataclasses.replace(s, unserved="penalty",
                                            unserved_usd_per_parcel=10.0))
    b = plan.result.info["landed"]
    ke = plan.demand[plan.demand["country"] == "KE"]["weight"].sum()
    assert b.totals["unserved"] == pytest.approx(ke * 365 * 10.0, rel=1e-9)
    assert not plan.open_sites["country"].eq("KE").any()


def test_a_sea_file_without_candidate_ports_is_refused(tmp_path: Path) -> None:
    from hzlogistics.plan import run_scenario

    f = tmp_path / "sea.csv"
    f.write_text("origin,port,country,name,candidate,distance_km\n"
                 "port-CNNGB,port-XXAAA,XX,Nowhere,1,100\n")
    with pytest.raises(ValidationError, match="none of its ports of entry is a candidate"):
        run_scenario(gulf_scenario(sea_distances_file=str(f)))


def test_landed_solve_needs_the_inbound_leg() -> None:
    from hzlogistics.models import solve
    from hzlogistics.solvers.problem import SitingProblem

    p = SitingProblem(weight=np.ones(1), cover=np.ones((1, 1)), tiers_m2=np.ones(1),
                      area_budget_m2=None)
    with pytest.raises(ValidationError, match="needs inbound="):
        solve(p, "landed")


def test_validate_accepts_the_landed_objective() -> None:
    assert validate_scenario(gulf_scenario()).objective == "landed"
    assert "landed" in settings.OBJECTIVES


def test_rate_table_of_the_data_readme_is_current() -> None:
    from hzlogistics.scenario import render_doc

    readme = (Path(__file__).resolve().parents[1] / "data" / "countries" / "README.md").read_text()
    assert render_doc(readme) == readme, (
        "data/countries/README.md is stale: run python -m hzlogistics.scenario --write-doc "
        "data/countries/README.md")


# --- files -------------------------------------------------------------------------------------


def test_landed_files(gulf_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import json

    import pandas as pd

    from hzlogistics.report import write_plan

    plan = gulf_plan
    b = plan.result.info["landed"]
    files = write_plan(plan, tmp_path / "out")
    summary = json.loads(files["summary"].read_text())
    landed = summary["landed"]
    parts = landed["components_usd_year"]
    assert set(parts) >= {"sea", "port", "drayage", "rent", "fixed", "last_mile"}
    assert sum(parts.values()) == pytest.approx(landed["total_usd_year"], rel=1e-9)
    assert landed["total_usd_year"] == pytest.approx(plan.result.objective, rel=1e-6)
    assert landed["usd_per_parcel"] == pytest.approx(
        landed["total_usd_year"] / (plan.demand["weight"].sum() * 365), rel=1e-9)
    assert sum(landed["components_usd_per_parcel"].values()) == pytest.approx(
        landed["usd_per_parcel"], rel=1e-9)
    countries = {r["country"]: r for r in landed["by_country"]}
    assert set(countries) == set(GULF)
    assert sum(r["total"] for r in countries.values()) == pytest.approx(
        landed["total_usd_year"], rel=1e-9)
    for code, r in countries.items():
        served = plan.sites[plan.sites["country"] == code]["served_weight"].sum()
        assert r["parcels_year"] == pytest.approx(served * 365, rel=1e-9)
    ports = landed["ports"]
    assert sum(p["parcels_day"] for p in ports) == pytest.approx(
        plan.demand["served_weight"].sum(), rel=1e-9)
    names = dict(zip(plan.sites["id"], plan.sites["name"], strict=True))
    assert all(p["name"] == names[p["port"]] for p in ports)
    # report.md: the breakdown, each country and each port
    report = files["report"].read_text()
    assert "## Landed cost" in report and "### Ports of entry" in report
    assert f"**{b.usd_per_parcel:,.3f} USD per parcel**" in report
    for code in GULF:
        assert f"| {code} |" in report
    for p in ports:
        assert f"| {p['port']} {p['name']} | {p['country']} | {p['parcels_day']:,.0f} |" in report
    # sites.csv: every open site's port of entry and landed cost per parcel
    sites = pd.read_csv(files["sites_csv"])
    open_ = sites[sites["open"]]
    assert open_["port_of_entry"].str.startswith("port-").all()
    assert sites[~sites["open"]]["port_of_entry"].isna().all()
    want = b.sites.set_index("site")["usd_per_parcel"]
    got = open_.set_index("id")["landed_usd_per_parcel"]
    assert np.allclose(got.loc[want.index].to_numpy(), want.to_numpy(), rtol=1e-9)
    assert (open_["landed_usd_per_parcel"] > open_["inbound_usd_per_parcel"]).all()


def test_files_of_other_objectives_have_no_landed_parts(tmp_path: Path) -> None:
    import json

    from hzlogistics.plan import run_scenario
    from hzlogistics.report import write_plan

    plan = run_scenario(gulf_scenario(objective="cost", time_limit_s=10, gap=0.01))
    files = write_plan(plan, tmp_path / "cost")
    assert "landed" not in json.loads(files["summary"].read_text())
    assert "## Landed cost" not in files["report"].read_text()
    assert "port_of_entry" not in files["sites_csv"].read_text().splitlines()[0]


def test_landed_map_draws_lanes_to_the_ports_used(gulf_plan, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hzlogistics.maps import plan_map

    html = plan_map(gulf_plan, path=tmp_path / "gulf.html").get_root().render()
    b = gulf_plan.result.info["landed"]
    assert html.count("hz-landed-lane") == len(b.ports)
    assert f"to {len(b.ports)} ports of entry" in html
    assert "Landed cost per parcel by country" in html
    assert html.count("hz-landed-country") == 6  # five classes and no value


def test_a_sweep_varies_the_sea_rate() -> None:
    from hzlogistics.sweep import sweep

    df = sweep(gulf_scenario(time_limit_s=20, gap=0.001), {"sea_rate": [0.15, 0.3]})
    assert df["status"].tolist() == ["optimal", "optimal"]
    assert df["sea_usd_per_container_km"].tolist() == [0.15, 0.3]
    # the same parcels cross the same sea: doubling the rate adds at least the sea freight again
    lo, hi = df["objective"].tolist()
    assert hi > lo * 1.2


# --- command line ------------------------------------------------------------------------------


def test_cli_plans_the_landed_objective(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from hzlogistics.cli import main

    monkeypatch.chdir(tmp_path)
    code = main(["plan", "--objective", "landed", "--countries", "AE,KW,QA", "--count", "0-none",
                 "--area-budget", "none", "--fixed-cost", "50000", "--time-limit-s", "20",
                 "--name", "gulf", "--no-map", "-q", "--json"])
    assert code == 0
    summary = json.loads((tmp_path / "outputs" / "gulf" / "summary.json").read_text())
    assert summary["objective_name"] == "landed"
    assert summary["landed"]["total_usd_year"] == pytest.approx(summary["objective"], rel=1e-6)
    assert "landed" in capsys.readouterr().out


def test_cli_names_a_bad_rate_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from hzlogistics.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text('objective = "landed"\n[landed]\n'
                                       'parcels_per_container = -5\n')
    assert main(["validate", "bad.toml"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("hzlogistics: error: bad.toml:3: landed.parcels_per_container: "
                           "must be a positive number, got -5.0")
