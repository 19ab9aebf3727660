"""Shared fixtures."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

#: The committed country data of the checkout.
DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "countries"


def _subset_csv(source: Path, target: Path, codes: set[str]) -> None:
    reader = csv.reader(io.StringIO(source.read_text(encoding="utf-8")))
    header = next(reader)
    column = header.index("country")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(row for row in reader if row[column] in codes)
    target.write_text(out.getvalue(), encoding="utf-8")


def _subset_geojson(source: Path, target: Path, codes: set[str]) -> None:
    # one feature per line, as written by hzlogistics.databuild
    lines = source.read_text(encoding="utf-8").splitlines()
    features = [
        line.rstrip(",")
        for line in lines[1:-1]
        if any(f'"country":"{code}"' in line for code in codes)
    ]
    target.write_text(
        lines[0] + "\n" + ",\n".join(features) + "\n" + lines[-1] + "\n", encoding="utf-8"
    )


@pytest.fixture
def small_data_dir(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a data directory holding only some countries of the committed data.

    ``small_data_dir(["SG", "QA"])`` returns a fresh directory under ``tmp_path``
    with ``boundaries.geojson``, ``demand.csv``, ``sites.csv`` and
    ``provenance.json`` restricted to those countries, for tests that damage files.
    """
    counter = iter(range(1_000))

    def make(codes: Iterable[str] = ("SG", "QA")) -> Path:
        wanted = set(codes)
        target = tmp_path / f"data{next(counter)}"
        target.mkdir()
        _subset_geojson(DATA_DIR / "boundaries.geojson", target / "boundaries.geojson", wanted)
        _subset_csv(DATA_DIR / "demand.csv", target / "demand.csv", wanted)
        _subset_csv(DATA_DIR / "sites.csv", target / "sites.csv", wanted)
        shutil.copyfile(DATA_DIR / "provenance.json", target / "provenance.json")
        return target

    return make
