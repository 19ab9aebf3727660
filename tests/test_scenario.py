"""Scenario files: loading, validation with file/line/key, writing back."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.countries import COUNTRY_CODES
from hzlogistics.scenario import (
    PHASING_KEYS,
    QUOTA_KEYS,
    SECTIONS,
    CountryQuota,
    Phasing,
    Scenario,
    builtin_scenario_text,
    builtin_scenarios,
    default_scenario,
    load_scenario,
    loads_scenario,
    name_problem,
    safe_name,
    scenario_problems,
    scenario_to_toml,
    validate_scenario,
)

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path_or_text: Path | str) -> list[str]:
    with pytest.raises(ValidationError) as info:
        if isinstance(path_or_text, Path):
            load_scenario(path_or_text)
        else:
            loads_scenario(path_or_text, source="t.toml")
    return info.value.problems


# ----------------------------------------------------------------------------- built-in
def test_builtin_scenario_is_the_hangzhou_plan() -> None:
    s = default_scenario()
    assert s == Scenario()
    assert s.name == "hangzhou-2020"
    assert s.countries is None and len(COUNTRY_CODES) == 50
    assert (s.count_min, s.count_max) == (950, 1050)
    assert s.area_budget_m2 == 200_000.0
    assert s.size_tiers_m2 == list(settings.SIZE_TIERS_M2)
    assert s.min_sites_per_country == 1
    assert s.keep_existing is True
    assert s.service_level == "next-day"
    assert s.time_limit_s == 60.0
    assert s.gap == 0.001


def test_builtin_scenarios_are_listed_and_loaded_by_name() -> None:
    assert "hangzhou-2020" in builtin_scenarios()
    assert load_scenario("hangzhou-2020") == default_scenario()
    assert 'name = "hangzhou-2020"' in builtin_scenario_text()


def test_unknown_builtin_name_suggests_the_closest() -> None:
    problems = problems_of(Path("hangzhou-2002"))
    assert len(problems) == 1
    assert "hangzhou-2002" in problems[0] and "did you mean 'hangzhou-2020'" in problems[0]


def test_missing_file_is_a_validation_error(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "nope.toml")
    assert "nope.toml" in problems[0] and "no such scenario file" in problems[0]


def test_example_scenarios_all_load() -> None:
    files = sorted((REPO / "scenarios").rglob("*.toml"))
    assert files, "the repository ships example scenarios"
    for path in files:
        s = load_scenario(path)
        assert name_problem(s.name) is None


# ----------------------------------------------------------------------------- reading
def test_sections_map_onto_fields(tmp_path: Path) -> None:
    path = write(tmp_path, """
name = "eu"
objective = "min-area"
countries = ["de", "FR"]

[coverage]
service_level = "two-day"
cross_border_groups = ["EU"]
circuity = 1.5

[network]
area_budget_m2 = 50000
size_tiers_m2 = [100, 250]
count = 40
min_sites_per_country = 2
capacity_per_m2 = "none"
keep_existing = false
forbidden_sites = ["S1", 17]

[quotas.de]
min_sites = 5
max_area_m2 = 9000

[model]
required_share = 0.8

[solver]
time_limit_s = 5
gap = 0.01
seed = 3
""")
    s = load_scenario(path)
    assert s.name == "eu" and s.objective == "min-area"
    assert s.countries == ["DE", "FR"]
    assert s.service_level == "two-day" and s.cross_border_groups == ["EU"]
    assert s.circuity == 1.5
    assert s.area_budget_m2 == 50_000.0 and isinstance(s.area_budget_m2, float)
    assert s.size_tiers_m2 == [100.0, 250.0]
    assert (s.count_min, s.count_max) == (40, 40)
    assert s.capacity_per_m2 is None
    assert s.keep_existing is False
    assert s.forbidden_sites == ["S1", "17"]
    assert s.quotas == {"DE": CountryQuota(min_sites=5, max_area_m2=9000.0)}
    assert s.required_share == 0.8
    assert (s.time_limit_s, s.gap, s.seed) == (5.0, 0.01, 3)
    # untouched fields keep their defaults
    assert s.min_sites_per_country == 2 and s.assignment == "split"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1000", (1000, 1000)), ("[950, 1050]", (950, 1050)), ('"none"', (0, None)),
     ('[5, "none"]', (5, None))],
)
def test_count_forms(value: str, expected: tuple[int, int | None]) -> None:
    s = loads_scenario(f"[network]\ncount = {value}\n")
    assert (s.count_min, s.count_max) == expected


def test_count_min_and_max_keys() -> None:
    s = loads_scenario('[network]\ncount_min = 3\ncount_max = "none"\n')
    assert (s.count_min, s.count_max) == (3, None)


def test_count_and_count_min_together_is_an_error() -> None:
    problems = problems_of("[network]\ncount = 5\ncount_min = 3\n")
    assert any("either count or count_min/count_max" in p for p in problems)


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, "[solver]\ntime_limit_s = 3\n", name="My plan.toml"))
    assert s.name == "My-plan"


def test_relative_paths_resolve_against_the_scenario_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "d.csv").write_text("id,lon,lat,weight\n1,0,0,1\n")
    s = load_scenario(write(folder, '[data]\ndemand_file = "d.csv"\n'))
    assert s.demand_file == str((folder / "d.csv").resolve())


def test_missing_data_file_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n\n[data]\nsites_file = "missing.csv"\n')
    problems = problems_of(path)
    assert problems == [f"{path}:4: data.sites_file: file not found: "
                        f"{(tmp_path / 'missing.csv').resolve()}"]


# ----------------------------------------------------------------------------- errors
def test_malformed_toml_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n[network\narea_budget_m2 = 5\n')
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: malformed TOML")
    assert "line 2" in problems[0] and "column" in problems[0]


def test_unknown_key_suggests_the_closest_with_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n[network]\narea_budjet_m2 = 5000\n')
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:3: network.area_budjet_m2: unknown key")
    assert "did you mean 'area_budget_m2'" in problems[0]


def test_key_in_the_wrong_section_says_where_it_belongs(tmp_path: Path) -> None:
    path = write(tmp_path, 'area_budget_m2 = 5000\n[solver]\ncount = 3\n')
    problems = problems_of(path)
    assert f"{path}:1: area_budget_m2: unknown key (it belongs in [network])" in problems[0]
    assert f"{path}:3: solver.count: unknown key (it belongs in [network])" in problems[1]


def test_misspelt_section_is_suggested(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, "[solvr]\ngap = 0.01\n"))
    assert len(problems) == 1 and "unknown section (did you mean [solver]?)" in problems[0]


def test_unknown_quota_key_and_country() -> None:
    problems = problems_of("[quotas.XX]\nmin_sites = 1\n[quotas.DE]\nmin_site = 2\n")
    assert any(p.startswith("t.toml:4: quotas.DE.min_site: unknown key") and
               "did you mean 'min_sites'" in p for p in problems)
    assert any(p.startswith("t.toml:1: quotas.XX") and "unknown country code 'XX'" in p
               for p in problems)


@pytest.mark.parametrize(
    ("text", "line", "key", "fragment"),
    [
        ("[network]\narea_budget_m2 = -5\n", 2, "network.area_budget_m2", "positive number"),
        ("[network]\narea_budget_m2 = 0\n", 2, "network.area_budget_m2", "positive number"),
        ("[network]\nsize_tiers_m2 = [200, 100]\n", 2, "network.size_tiers_m2",
         "strictly increasing"),
        ("[network]\nsize_tiers_m2 = [0, 100]\n", 2, "network.size_tiers_m2", "positive"),
        ("[network]\nsize_tiers_m2 = []\n", 2, "network.size_tiers_m2", "at least one"),
        ("[network]\ncount = [10, 5]\n", 2, "network.count", "must be >= count_min (10)"),
        ("[network]\ncount = -1\n", 2, "network.count", "whole number >= 0"),
        ("[network]\ncapacity_per_m2 = -2\n", 2, "network.capacity_per_m2", "positive"),
        ("[solver]\ngap = -0.1\n", 2, "solver.gap", ">= 0 and < 1"),
        ("[solver]\ngap = 1.0\n", 2, "solver.gap", ">= 0 and < 1"),
        ("[solver]\nseed = 2147483648\n", 2, "solver.seed", "at most 2147483647"),
        ("[solver]\ntime_limit_s = 0\n", 2, "solver.time_limit_s", "positive"),
        ("[solver]\ntime_limit_s = inf\n", 2, "solver.time_limit_s", "positive"),
        ("[model]\nrequired_share = 0\n", 2, "model.required_share", "> 0 and <= 1"),
        ("[model]\nrequired_share = 1.5\n", 2, "model.required_share", "> 0 and <= 1"),
        ("[model]\nassignment = \"singel\"\n", 2, "model.assignment",
         "did you mean 'single'"),
        ("[coverage]\nservice_level = \"next day\"\n", 2, "coverage.service_level",
         "did you mean 'next-day'"),
        ("[coverage]\ncircuity = 0.9\n", 2, "coverage.circuity", ">= 1"),
        ("[coverage]\ncross_border_groups = [\"EUU\"]\n", 2, "coverage.cross_border_groups",
         "did you mean 'EU'"),
        ("[coverage]\ncoverage_mode = \"road\"\n", 2, "coverage.coverage_mode",
         "valid: network, geodesic"),
        ("objective = \"coverge\"\n", 1, "objective", "did you mean 'coverage'"),
        ("countries = [\"DE\", \"XY\"]\n", 1, "countries", "unknown country code 'XY'"),
        ("countries = []\n", 1, "countries", "at least one country"),
        ("[competition]\ncompetitor_discount = 2\n", 2, "competition.competitor_discount",
         "between 0 and 1"),
        ("[model]\nfixed_cost_usd_year = -5\n", 2, "model.fixed_cost_usd_year",
         "number of USD >= 0"),
        ("[network]\narea_budget_m2 = \"big\"\n", 2, "network.area_budget_m2",
         'must be a number or "none"'),
        ("[network]\ncount = true\n", 2, "network.count", "whole number N"),
        ("[network]\nkeep_existing = 1\n", 2, "network.keep_existing", "true or false"),
        ("[quotas.DE]\nmin_sites = 5\nmax_sites = 2\n", 3, "quotas.DE.max_sites",
         "must be >= min_sites (5)"),
    ],
)
def test_out_of_range_values_name_file_line_and_key(
    text: str, line: int, key: str, fragment: str
) -> None:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"t.toml:{line}: {key}: "), problems[0]
    assert fragment in problems[0]


def test_quota_for_a_country_outside_the_scenario() -> None:
    problems = problems_of('countries = ["DE"]\n[quotas.FR]\nmin_sites = 1\n')
    assert problems == ["t.toml:2: quotas.FR: FR is not among the scenario's countries"]


def test_every_problem_is_collected_in_one_pass(tmp_path: Path) -> None:
    path = write(tmp_path, """name = "ok"
objective = "fastest"
[network]
area_budget_m2 = -1
colour = "red"
[solver]
gap = 2
""")
    problems = problems_of(path)
    lines = sorted(int(re.match(rf"{re.escape(str(path))}:(\d+):", p).group(1))
                   for p in problems)
    assert lines == [2, 4, 5, 7]


def test_name_that_would_escape_the_output_folder_is_refused() -> None:
    for bad in ("../../x", "a/b", "..", ".hidden", "x\\y", ""):
        problems = problems_of(f"name = {bad!r}\n".replace("'", '"'))
        assert problems[0].startswith("t.toml:1: name: must be"), bad


def test_safe_name() -> None:
    assert safe_name("../../etc/passwd") == "etc-passwd"
    assert safe_name("..") == "plan"
    assert safe_name("Plan 2021 (draft)") == "Plan-2021-draft"
    for text in ("a/../b", "...", "ok.name", "x" * 300):
        assert name_problem(safe_name(text)) is None


# ----------------------------------------------------------------------------- in code
def test_validate_scenario_uses_the_place_given() -> None:
    s = dataclasses.replace(Scenario(), time_limit_s=-1.0, gap=5.0)
    with pytest.raises(ValidationError) as info:
        validate_scenario(s, where=lambda f: f"--{f}")
    assert info.value.problems == ["--time_limit_s: must be a positive number, got -1.0",
                                   "--gap: must be >= 0 and < 1 (0: prove the optimum), got 5.0"]


def test_scenario_problems_of_the_default_is_empty() -> None:
    assert scenario_problems(Scenario()) == []


# ----------------------------------------------------------------------------- writing
def test_default_round_trips_through_toml() -> None:
    s = default_scenario()
    assert loads_scenario(scenario_to_toml(s)) == s


def test_unusual_scenario_round_trips_through_toml(tmp_path: Path) -> None:
    demand = tmp_path / "d.csv"
    demand.write_text("id,lon,lat,weight\n")
    s = Scenario(
        name="odd.one", title='Quotes " and \\ back\tslash, 汉字', countries=["DE", "FR"],
        objective="cost", cutoff_h=4.5, radius_km=80.0, cross_border_groups=["EU"],
        area_budget_m2=None, size_tiers_m2=[50.0, 75.5], count_min=3, count_max=None,
        min_sites_per_country=0, quotas={"DE": CountryQuota(min_sites=1, max_area_m2=500.0)},
        capacity_per_m2=None, keep_existing=False, forbidden_sites=["a b", "c\"d"],
        rent_cap_usd_year=1e6, competitor_discount=0.0, required_share=1.0,
        assignment="single", fixed_cost_usd_year=1234.5, demand_file=str(demand),
        time_limit_s=0.5, gap=0.5, seed=7,
        output_dir="out dir", map_dir="m",
    )
    text = scenario_to_toml(s)
    assert loads_scenario(text) == s
    # every key written carries a comment naming what it is
    assert "# total floor area of all open sites, m²" in text


@pytest.mark.parametrize(("lo", "hi"), [(0, None), (7, 7), (2, 9)])
def test_count_round_trips(lo: int, hi: int | None) -> None:
    s = Scenario(count_min=lo, count_max=hi)
    assert loads_scenario(scenario_to_toml(s)) == s


def test_docs_describe_every_key() -> None:
    doc = (REPO / "docs" / "scenario.md").read_text(encoding="utf-8")
    keys = [k for keys in SECTIONS.values() for k in keys] + list(QUOTA_KEYS)
    missing = [k for k in keys + list(PHASING_KEYS) if f"| `{k}` |" not in doc]
    assert missing == []
    for section in SECTIONS:
        if section is not None:
            assert f"## `[{section}]`" in doc
    assert "## `[phasing]`" in doc
    # every field of the dataclass is reachable from a key ([quotas.XX] and [phasing] are
    # tables of their own dataclasses, described by their own keys)
    fields = {f.name for f in dataclasses.fields(Scenario)} - {"quotas", "phasing"}
    assert fields <= set(keys)
    assert [f.name for f in dataclasses.fields(Phasing)] == list(PHASING_KEYS)


def test_docs_give_the_current_defaults() -> None:
    from hzlogistics.scenario.write import toml_value

    doc = (REPO / "docs" / "scenario.md").read_text(encoding="utf-8")
    # [phasing] shares key names with [network]: its table is checked on its own
    doc, phasing_doc = doc.split("<!-- keys: phasing -->")
    rows = {line.split("|")[1].strip().strip("`"): line.split("|")[3]
            for line in doc.splitlines() if line.startswith("| `")}
    phasing_rows = {line.split("|")[1].strip().strip("`"): line.split("|")[3]
                    for line in phasing_doc.split("<!-- /keys -->")[0].splitlines()
                    if line.startswith("| `")}
    assert phasing_rows["years"].strip() == "`[2017, 2018, 2019, 2020]`"
    assert phasing_rows["demand_growth"].strip() == f"`{settings.DEMAND_GROWTH}`"
    defaults = Scenario()
    checked = 0
    for f in dataclasses.fields(Scenario):
        value = getattr(defaults, f.name)
        if f.name not in rows or value is None or isinstance(value, list | dict) \
                or f.name in ("name", "title"):
            continue
        text = toml_value(value)
        assert f"`{text}`" in rows[f.name] or f"`{text.strip(chr(34))}`" in rows[f.name], f.name
        checked += 1
    assert checked >= 15


def test_docs_key_tables_are_generated_from_the_keys() -> None:
    from hzlogistics.scenario import render_doc

    doc = (REPO / "docs" / "scenario.md").read_text(encoding="utf-8")
    assert render_doc(doc) == doc, (
        "docs/scenario.md is stale: run python -m hzlogistics.scenario --write-doc "
        "docs/scenario.md")
    # every section's table is generated, and a changed key would show
    assert doc.count("<!-- keys: ") == len(SECTIONS) + 2  # + [quotas.XX] and [phasing]
    stale = doc.replace("Total floor area of all open sites.", "Old text.")
    assert render_doc(stale) == doc


def test_tables_of_keys_are_derived_from_the_field_metadata() -> None:
    from hzlogistics.scenario import KEY_DOCS, KEYS

    fields = [f.name for f in dataclasses.fields(Scenario) if f.name not in ("quotas",
                                                                             "phasing")]
    assert [k for k in KEYS if k != "count"] == fields
    assert [k for keys in SECTIONS.values() for k in keys] == list(KEYS)
    assert set(KEY_DOCS) == set(KEYS) | set(QUOTA_KEYS)
    assert KEYS["count"].fields == ("count_min", "count_max")
    assert KEYS["area_budget_m2"].section == "network"
    assert KEYS["service_level"].coverage and not KEYS["area_budget_m2"].coverage


def test_check_key_words_a_value_as_a_file_does(tmp_path: Path) -> None:
    from hzlogistics.scenario import check_key

    assert check_key("area_budget_m2", "none") == (None, [])
    assert check_key("count", [5, 2])[1] == ["must be >= count_min (5), got 2"]
    path = write(tmp_path, "[network]\ncount = [5, 2]\n")
    assert problems_of(path) == [f"{path}:2: network.count: must be >= count_min (5), got 2"]


def test_doc_command_checks_and_rewrites_the_key_tables(tmp_path: Path) -> None:
    from hzlogistics.scenario.write import main

    doc = (REPO / "docs" / "scenario.md").read_text(encoding="utf-8")
    path = write(tmp_path, doc.replace("| `seed` |", "| `old_seed` |"), "scenario.md")
    assert main(["--check-doc", str(path)]) == 1
    assert main(["--write-doc", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == doc
    assert main(["--check-doc", str(path)]) == 0


# ---------------------------------------------------------------------------
# [phasing]
# ---------------------------------------------------------------------------
def test_builtin_phased_scenario_is_the_2017_2020_roll_out() -> None:
    s = load_scenario("hangzhou-2017-2020")
    assert "hangzhou-2017-2020" in builtin_scenarios()
    assert s.name == "hangzhou-2017-2020" and s.objective == "coverage"
    assert s.phasing is not None
    assert s.phasing.years == [2017, 2018, 2019, 2020]
    assert s.phasing.area_budget_m2 == [50_000.0, 100_000.0, 150_000.0, 200_000.0]
    assert s.phasing.count == [(250, 300), (500, 550), (750, 800), (950, 1_050)]
    assert s.phasing.demand_growth == settings.DEMAND_GROWTH == 0.25
    # the rest is the default plan's
    d = default_scenario()
    assert (s.area_budget_m2, s.count_min, s.count_max, s.capacity_per_m2) == (
        d.area_budget_m2, d.count_min, d.count_max, d.capacity_per_m2)
    assert loads_scenario(scenario_to_toml(s)) == s


def test_phasing_section_reads_every_key(tmp_path: Path) -> None:
    (tmp_path / "d17.csv").write_text("id,weight\nx,1\n", encoding="utf-8")
    (tmp_path / "d18.csv").write_text("id,weight\nx,2\n", encoding="utf-8")
    path = write(tmp_path, """
[phasing]
years = "2017:2018"
area_budget_m2 = [1000, 2000]
count = [5, [6, "none"]]
max_openings = [3, 4]
demand_growth = 0.1
country_growth = { de = 0.3 }
discount = 0.05
demand_files = ["d17.csv", "d18.csv"]
""")
    s = load_scenario(path)
    assert s.phasing == Phasing(
        years=[2017, 2018], area_budget_m2=[1000.0, 2000.0], count=[(5, 5), (6, None)],
        max_openings=[3, 4], demand_growth=0.1, country_growth={"DE": 0.3}, discount=0.05,
        demand_files=[str(tmp_path / "d17.csv"), str(tmp_path / "d18.csv")])
    assert load_scenario(write(tmp_path, scenario_to_toml(s), "back.toml")) == s


def test_phasing_defaults_when_the_section_is_empty() -> None:
    s = loads_scenario("[phasing]\n")
    assert s.phasing == Phasing()
    assert s.phasing.years == list(settings.PHASING_YEARS)
    assert loads_scenario("").phasing is None


@pytest.mark.parametrize(("line", "message"), [
    ("years = [2019, 2018]", "phasing.years: must be strictly increasing, got [2019, 2018]"),
    ("years = \"2020:2017\"", "phasing.years: must be a list of years such as"),
    ("years = []", "phasing.years: must list at least one year"),
    ("area_budget_m2 = [1000, 0, 3000, 4000]",
     "phasing.area_budget_m2: each year's budget must be a positive number of m², got 0.0"),
    ("area_budget_m2 = [1000, 2000]",
     "phasing.area_budget_m2: must give one value per year (4 years: 2017, 2018, 2019, "
     "2020), got 2"),
    ("count = [1, 2, [5, 3], 4]",
     "phasing.count: each year's maximum must be >= its minimum, got [5, 3]"),
    ("count = [1, 2, \"x\", 4]", "phasing.count: must be a list with one count per year"),
    ("max_openings = [1, 2, -1, 4]",
     "phasing.max_openings: each year's openings must be a whole number >= 0, got -1"),
    ("demand_growth = -1", "phasing.demand_growth: must be a yearly rate > -1"),
    ("discount = 1", "phasing.discount: must be a rate >= 0 and < 1"),
    ("country_growth = { XX = 0.1 }", "phasing.country_growth: unknown country code 'XX'"),
    ("country_growth = { DE = \"a\" }",
     "phasing.country_growth: must be a table of numbers by country code"),
    ("demand_files = [\"nowhere.csv\", \"b.csv\", \"c.csv\", \"d.csv\"]",
     "phasing.demand_files: file not found"),
    ("yeras = [2017]", "phasing.yeras: unknown key (did you mean 'years'?)"),
])
def test_phasing_values_are_checked_with_file_line_and_key(
        tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, f"[phasing]\n{line}\n")
    found = problems_of(path)
    assert any(p.startswith(f"{path}:2: {message}") for p in found), found


def test_phasing_plans_the_coverage_objective_only() -> None:
    found = problems_of('objective = "median"\n[phasing]\nyears = [2019, 2020]\n')
    assert any("phasing: a phased roll-out plans the coverage objective only" in p
               for p in found), found


def test_check_key_words_a_phasing_value_as_a_file_does(tmp_path: Path) -> None:
    from hzlogistics.scenario import check_key

    assert check_key("phasing.years", "2017:2020") == ([2017, 2018, 2019, 2020], [])
    value, found = check_key("phasing.years", "2017-2020")
    assert value is None and found[0].startswith("must be a list of years")
    assert check_key("phasing.discount", 1.5)[1] == [
        "must be a rate >= 0 and < 1 (0.05 = 5 % a year), got 1.5"]
    path = write(tmp_path, "[phasing]\ndiscount = 1.5\n")
    assert problems_of(path) == [
        f"{path}:2: phasing.discount: must be a rate >= 0 and < 1 (0.05 = 5 % a year), got 1.5"]
