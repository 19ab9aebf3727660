"""The bundled Leaflet files are the npm packages' files, byte for byte.

``npm ci --prefix tests/browser/assets`` fetches the pinned packages (see
package.json and package-lock.json there); without them the comparison skips.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hzlogistics.maps.assets import ASSET_DIR, ASSETS, CSS_IMAGES

NODE_MODULES = Path(__file__).resolve().parent / "assets" / "node_modules"
LOCK = Path(__file__).resolve().parent / "assets" / "package-lock.json"


def _npm_file(spec: str) -> tuple[str, str, Path]:
    """``leaflet@1.9.3/dist/leaflet.js`` -> (package, version, path under node_modules)."""
    package_version, _, inner = spec.partition("/")
    package, _, version = package_version.rpartition("@")
    return package, version, NODE_MODULES / package / inner


def test_every_bundled_asset_names_a_pinned_npm_file() -> None:
    lock = json.loads(LOCK.read_text(encoding="utf-8"))["packages"]
    bundled = [a for a in ASSETS if not a.in_folium]
    assert bundled
    for a in bundled:
        assert a.npm is not None
        package, version, _ = _npm_file(a.npm)
        assert lock[f"node_modules/{package}"]["version"] == version
        assert f"{package}@{version}" in a.url or f"{package}/{version}" in a.url


@pytest.mark.skipif(not NODE_MODULES.is_dir(),
                    reason="npm packages not fetched (npm ci --prefix tests/browser/assets)")
def test_bundled_assets_match_the_npm_packages() -> None:
    for a in ASSETS:
        if a.in_folium:
            continue
        package, version, path = _npm_file(a.npm or "")
        meta = json.loads((NODE_MODULES / package / "package.json").read_text(encoding="utf-8"))
        assert meta["version"] == version
        assert a.path.read_bytes() == path.read_bytes(), a.relpath
    for _, rel in CSS_IMAGES:
        assert (ASSET_DIR / rel).read_bytes() == (
            NODE_MODULES / "leaflet" / "dist" / "images" / Path(rel).name).read_bytes()
