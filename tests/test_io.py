"""Planners' CSV files in, atomic files out."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hzlogistics._errors import ValidationError
from hzlogistics.io import (
    UNKNOWN_COUNTRY,
    read_demand_csv,
    read_sites_csv,
    temp_path_for,
    write_atomic,
)


def csv(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(fn, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as info:
        fn(path)
    return info.value.problems


# ----------------------------------------------------------------------------- demand
def test_read_demand_csv(tmp_path: Path) -> None:
    path = csv(tmp_path, "id,lon,lat,weight,name,country,extra\n"
                         "007,120.15,30.28,12.5,Hangzhou,cn,x\n"
                         "8,-73.9,40.7,3,,us,y\n")
    gdf = read_demand_csv(path)
    assert gdf.crs.to_epsg() == 4326
    assert gdf["id"].tolist() == ["007", "8"]  # ids stay text, leading zeros kept
    assert gdf["weight"].tolist() == [12.5, 3.0]
    assert gdf["country"].tolist() == ["CN", "US"]
    assert gdf["name"].tolist() == ["Hangzhou", "8"]  # blank name -> the id
    assert gdf["extra"].tolist() == ["x", "y"]
    assert gdf.geometry.x.tolist() == [120.15, -73.9]
    assert gdf.geometry.y.tolist() == [30.28, 40.7]


def test_demand_without_country_forms_one_region(tmp_path: Path) -> None:
    gdf = read_demand_csv(csv(tmp_path, "id,lon,lat,weight\na,1,2,3\nb,4,5,6\n"))
    assert gdf["country"].tolist() == [UNKNOWN_COUNTRY, UNKNOWN_COUNTRY]
    assert gdf["name"].tolist() == ["a", "b"]


def test_demand_with_a_byte_order_mark_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid, lon, lat, weight\nA, 1.5, 2.5, 4\n".encode())
    gdf = read_demand_csv(path)
    assert gdf["id"].tolist() == ["A"] and gdf["weight"].tolist() == [4.0]


def test_demand_problems_are_collected_in_one_pass(tmp_path: Path) -> None:
    path = csv(tmp_path, "id,lon,lat,weight\n"
                         "a,10,10,1\n"
                         "a,200,10,2\n"
                         "c,10,-95,-3\n"
                         "d,ten,10,lots\n"
                         ",10,10,1\n")
    found = problems(read_demand_csv, path)
    src = str(path)
    expected = [
        f"{src}, row 2, field 'id': 'a' repeats row 1",
        f"{src}, row 5, field 'id': value is missing",
        f"{src}, row 2, field 'lon': 200 is out of range",
        f"{src}, row 4, field 'lon': 'ten' is not a number",
        f"{src}, row 3, field 'lat': -95 is out of range",
        f"{src}, row 3, field 'weight': -3 is out of range",
        f"{src}, row 4, field 'weight': 'lots' is not a number",
    ]
    for fragment in expected:
        assert any(p.startswith(fragment) for p in found), fragment
    assert len(found) == len(expected)


def test_demand_missing_columns(tmp_path: Path) -> None:
    found = problems(read_demand_csv, csv(tmp_path, "id,lon,latitude,wieght\n1,2,3,4\n"))
    assert any("missing column 'lat'" in p for p in found)
    assert any("missing column 'weight' (found 'wieght', is it misspelt?)" in p for p in found)


def test_demand_missing_file(tmp_path: Path) -> None:
    assert problems(read_demand_csv, tmp_path / "nope.csv") == [
        f"{tmp_path / 'nope.csv'}: file not found"]


def test_demand_empty_file_and_header_only(tmp_path: Path) -> None:
    assert "the file is empty" in problems(read_demand_csv, csv(tmp_path, ""))[0]
    assert "no rows" in problems(read_demand_csv, csv(tmp_path, "id,lon,lat,weight\n"))[0]


# ----------------------------------------------------------------------------- sites
def test_read_sites_csv_optional_columns(tmp_path: Path) -> None:
    path = csv(tmp_path, "id,lon,lat,max_area_m2,rent_usd_m2_year,existing_area_m2,country,"
                         "fixed_cost,capacity\n"
                         "S1,8.5,47.4,1000,120,,ch,5000,\n"
                         "S2,8.6,47.5,,90,300,CH,,2000\n")
    gdf = read_sites_csv(path)
    assert gdf["id"].tolist() == ["S1", "S2"]
    assert gdf["max_area_m2"].tolist()[0] == 1000.0 and np.isnan(gdf["max_area_m2"].iloc[1])
    assert gdf["rent_usd_m2_year"].tolist() == [120.0, 90.0]
    assert np.isnan(gdf["existing_area_m2"].iloc[0]) and gdf["existing_area_m2"].iloc[1] == 300
    assert gdf["country"].tolist() == ["CH", "CH"]
    assert gdf["fixed_cost"].iloc[0] == 5000.0 and gdf["capacity"].iloc[1] == 2000.0
    assert gdf.crs.to_epsg() == 4326


def test_sites_problems(tmp_path: Path) -> None:
    path = csv(tmp_path, "id,lon,lat,max_area_m2,rent_usd_m2_year,existing_area_m2\n"
                         "S1,8.5,47.4,0,-1,abc\n"
                         "S1,8.5,47.4,10,1,1\n")
    found = problems(read_sites_csv, path)
    src = str(path)
    for fragment in (f"{src}, row 1, field 'max_area_m2': 0 is out of range; expected a number > 0",
                     f"{src}, row 1, field 'rent_usd_m2_year': -1 is out of range",
                     f"{src}, row 1, field 'existing_area_m2': 'abc' is not a number",
                     f"{src}, row 2, field 'id': 'S1' repeats row 1"):
        assert any(p.startswith(fragment) for p in found), fragment
    assert len(found) == 4


def test_sites_missing_id_column(tmp_path: Path) -> None:
    found = problems(read_sites_csv, csv(tmp_path, "name,lon,lat\nx,1,2\n"))
    assert found == [f"{tmp_path / 'f.csv'}: missing column 'id'; required columns are id, lon, "
                     "lat"]


# ----------------------------------------------------------------------------- writing
def test_write_atomic_text_bytes_and_callable(tmp_path: Path) -> None:
    assert write_atomic(tmp_path / "a" / "t.txt", "héllo").read_text(encoding="utf-8") == "héllo"
    assert write_atomic(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    seen: list[Path] = []

    def writer(p: Path) -> None:
        seen.append(p)
        p.write_text("from a writer")

    out = write_atomic(tmp_path / "c.gpkg", writer)
    assert out.read_text() == "from a writer"
    # the writer got a hidden file in the same folder that keeps the suffix
    assert seen[0].parent == tmp_path and seen[0].name.startswith(".c.")
    assert seen[0].suffix == ".gpkg" and not seen[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b.bin", "c.gpkg"]


def test_write_atomic_files_get_normal_permissions(tmp_path: Path) -> None:
    import tempfile

    def private_writer(p: Path) -> None:
        fd, tmp = tempfile.mkstemp(dir=p.parent)
        os.write(fd, b"x")
        os.close(fd)
        os.replace(tmp, p)

    mask = os.umask(0o022)
    try:
        out = write_atomic(tmp_path / "m.html", private_writer)
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o644


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "plan.csv", "old content")

    def broken(p: Path) -> None:
        p.write_text("half a fi")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomic(target, broken)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_interrupted_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = write_atomic(tmp_path / "plan.csv", "old content")

    def interrupted(p: Path) -> None:
        p.write_text("partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, interrupted)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.csv"]


def test_write_atomic_into_a_folder_under_a_file_is_a_validation_error(tmp_path: Path) -> None:
    blocker = write_atomic(tmp_path / "file", "x")
    with pytest.raises(ValidationError, match="cannot create the output folder"):
        write_atomic(blocker / "sub" / "out.txt", "y")


def test_write_atomic_onto_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(ValidationError, match="is a folder"):
        write_atomic(tmp_path / "d", "y")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_write_atomic_into_a_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ValidationError, match="cannot write here"):
            write_atomic(folder / "x.txt", "y")
    finally:
        folder.chmod(0o700)


def test_temp_path_for_is_unique() -> None:
    names = {temp_path_for("out/summary.json").name for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith(".summary.") and n.endswith(".tmp.json") for n in names)
