"""The JavaScript and CSS a map needs, and how to inline them.

A folium map links Leaflet and its plugins from CDNs. Each map written here links
only the few files it uses (Leaflet, the marker-cluster and heat-map plugins) at the
addresses listed in :data:`ASSETS` (those folium 0.20 uses), and
``self_contained=True`` replaces every link by the file's text, read from the copies
in ``hzlogistics/maps/assets/`` (see its README for their provenance and licences) or,
for the heat-map plugin, from the folium package. Nothing is downloaded.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from hzlogistics._errors import HzLogisticsError

#: Folder of the bundled copies.
ASSET_DIR: Path = Path(__file__).resolve().parent / "assets"


def _folium_templates() -> Path:
    import folium

    return Path(folium.__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Asset:
    """One JavaScript or CSS file of a map.

    Attributes
    ----------
    key
        Name of the link in the page header (folium's names).
    kind
        ``"js"`` or ``"css"``.
    url
        Address the page links to when the map is not self-contained.
    relpath
        Path of the local copy: under :data:`ASSET_DIR`, or under folium's
        ``templates`` folder when ``in_folium``.
    npm
        ``package@version/path`` the local copy was taken from (``None`` when
        folium ships the file).
    in_folium
        Whether the local copy is read from the folium package.
    """

    key: str
    kind: Literal["js", "css"]
    url: str
    relpath: str
    npm: str | None = None
    in_folium: bool = False

    @property
    def path(self) -> Path:
        """Where the local copy is."""
        return (_folium_templates() if self.in_folium else ASSET_DIR) / self.relpath


_JSDELIVR = "https://cdn.jsdelivr.net/npm"
_CDNJS_CLUSTER = "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0"

#: Every file a map may link, in the order the page must load them.
ASSETS: tuple[Asset, ...] = (
    Asset("leaflet", "js", f"{_JSDELIVR}/leaflet@1.9.3/dist/leaflet.js",
          "leaflet-1.9.3/leaflet.js", "leaflet@1.9.3/dist/leaflet.js"),
    Asset("leaflet_css", "css", f"{_JSDELIVR}/leaflet@1.9.3/dist/leaflet.css",
          "leaflet-1.9.3/leaflet.css", "leaflet@1.9.3/dist/leaflet.css"),
    Asset("markerclusterjs", "js", f"{_CDNJS_CLUSTER}/leaflet.markercluster.js",
          "leaflet.markercluster-1.1.0/leaflet.markercluster.js",
          "leaflet.markercluster@1.1.0/dist/leaflet.markercluster.js"),
    Asset("markerclustercss", "css", f"{_CDNJS_CLUSTER}/MarkerCluster.css",
          "leaflet.markercluster-1.1.0/MarkerCluster.css",
          "leaflet.markercluster@1.1.0/dist/MarkerCluster.css"),
    Asset("markerclusterdefaultcss", "css", f"{_CDNJS_CLUSTER}/MarkerCluster.Default.css",
          "leaflet.markercluster-1.1.0/MarkerCluster.Default.css",
          "leaflet.markercluster@1.1.0/dist/MarkerCluster.Default.css"),
    Asset("leaflet-heat.js", "js",
          "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/"
          "leaflet_heat.min.js",
          "leaflet_heat.min.js", in_folium=True),
)

#: Images that ``leaflet.css`` refers to, inlined as data URIs.
CSS_IMAGES: tuple[tuple[str, str], ...] = (
    ("images/layers.png", "leaflet-1.9.3/images/layers.png"),
    ("images/layers-2x.png", "leaflet-1.9.3/images/layers-2x.png"),
    ("images/marker-icon.png", "leaflet-1.9.3/images/marker-icon.png"),
)

_BY_KEY = {a.key: a for a in ASSETS}
_BY_URL = {a.url: a for a in ASSETS}


def asset(key: str) -> Asset:
    """The asset named ``key`` (one of the keys in :data:`ASSETS`).

    Raises
    ------
    KeyError
        If no asset has that name.
    """
    return _BY_KEY[key]


def asset_for_url(url: str) -> Asset | None:
    """The asset whose CDN address is ``url``, or ``None``."""
    return _BY_URL.get(url)


@cache
def asset_text(key: str) -> str:
    """Text of an asset, ready to inline (CSS images become data URIs).

    Raises
    ------
    HzLogisticsError
        If the local copy is missing (a broken installation).
    """
    a = asset(key)
    try:
        text = a.path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HzLogisticsError(
            f"the map asset {a.relpath} is missing from {a.path.parent} ({exc}); "
            "reinstall hzlogistics"
        ) from exc
    if a.kind == "css":
        for ref, rel in CSS_IMAGES:
            if ref in text:
                data = base64.b64encode((ASSET_DIR / rel).read_bytes()).decode("ascii")
                text = text.replace(ref, f"data:image/png;base64,{data}")
    return text


def inline_tag(key: str) -> str:
    """A ``<script>`` or ``<style>`` element holding the asset's text.

    A ``</`` inside the text is written ``<\\/`` so that it cannot end the element early.
    """
    a = asset(key)
    text = asset_text(key)
    if a.kind == "js":
        return "<script>" + re.sub(r"</(?=script)", r"<\\/", text, flags=re.I) + "</script>"
    return "<style>" + re.sub(r"</(?=style)", r"<\\/", text, flags=re.I) + "</style>"


def link_tag(key: str) -> str:
    """A ``<script src>`` or ``<link rel=stylesheet>`` element for the asset's CDN address."""
    a = asset(key)
    if a.kind == "js":
        return f'<script src="{a.url}"></script>'
    return f'<link rel="stylesheet" href="{a.url}"/>'


__all__ = ["ASSETS", "ASSET_DIR", "Asset", "asset", "asset_for_url", "asset_text", "inline_tag",
           "link_tag"]
