"""Map layers drawn in the browser from compact data.

A map of a full plan has thousands of markers and polygons. Writing one folium
object per marker makes a page of tens of megabytes that takes seconds to build
and to load, so each layer here is one :class:`DataLayer`: a compact JSON payload
and a few lines of JavaScript that build the Leaflet layer from it (markers added
to a cluster in one call, points on a canvas, polygons from GeoJSON, popups made
only when opened).

Every string in a payload is escaped with :func:`escape_text` in Python before it
is written; the scripts only join such strings with fixed markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink
from folium.elements import JSCSSMixin
from folium.map import Layer

from hzlogistics._errors import HzLogisticsError
from hzlogistics.maps.assets import asset
from hzlogistics.maps.text import RawJson, to_js

#: Points: circle markers, optionally clustered, with a tooltip and a popup.
#: ``data.rows``: ``[lat, lon, style, title, tooltip, cell...]``; the popup is a
#: table of ``data.labels`` against the cells, made when it opens. Unclustered
#: layers bind one tooltip and one popup to the whole group (thousands of points
#: on a canvas stay light); clustered markers get their own.
POINTS_JS = """
var styles = data.styles, labels = data.labels, rows = data.rows;
var renderer = opts.canvas ? L.canvas({pane: opts.pane, padding: 0.3}) : null;
var group = opts.cluster ? L.markerClusterGroup(opts.cluster) : L.featureGroup();
var tipOptions = {sticky: true, className: 'hz-tip'};
var popupOptions = {maxWidth: 360, className: 'hz-popup-box'};
function tipText(layer) { var r = layer.hzRow; return r[4] || r[3]; }
function popupHtml(layer) {
    var r = layer.hzRow;
    var h = '<div class="hz-popup"><div class="hz-popup-title">' + r[3] + '</div><table>';
    for (var i = 0; i < labels.length; i++) {
        h += '<tr><th>' + labels[i] + '</th><td>' + r[5 + i] + '</td></tr>';
    }
    return h + '</table></div>';
}
var markers = new Array(rows.length);
for (var k = 0; k < rows.length; k++) {
    var r = rows[k];
    var o = Object.assign({pane: opts.pane}, styles[r[2]]);
    if (renderer) { o.renderer = renderer; }
    var m = L.circleMarker([r[0], r[1]], o);
    m.hzRow = r;
    if (opts.cluster) {
        m.bindTooltip(tipText, tipOptions);
        if (labels.length) { m.bindPopup(popupHtml, popupOptions); }
    }
    markers[k] = m;
}
if (opts.cluster) {
    group.addLayers(markers);
} else {
    for (var j = 0; j < markers.length; j++) { group.addLayer(markers[j]); }
    group.bindTooltip(tipText, tipOptions);
    if (labels.length) { group.bindPopup(popupHtml, popupOptions); }
}
return group;
"""

#: Shapes: GeoJSON polygons, lines or points with a style per feature
#: (``properties.s`` indexes ``data.styles``) and a tooltip (``properties.t``).
#: ``opts.styleKey``, ``opts.tipKey`` and ``opts.styles`` let a second layer read
#: other properties and styles of the same payload (``data_from``).
SHAPES_JS = """
var styles = opts.styles || data.styles;
var sKey = opts.styleKey || 's', tKey = opts.tipKey || 't';
function styleOf(f) { return Object.assign({}, styles[f.properties[sKey] || 0], opts.style || {}); }
return L.geoJSON(data.geojson, {
    pane: opts.pane || 'overlayPane',
    interactive: opts.interactive !== false,
    style: styleOf,
    pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {pane: opts.pane || 'overlayPane'});
    },
    onEachFeature: function (f, layer) {
        if (opts.tooltips && f.properties[tKey]) {
            layer.bindTooltip(f.properties[tKey], {sticky: true, className: 'hz-tip'});
        }
        if (opts.highlight) {
            layer.on('mouseover', function () { layer.setStyle(opts.highlight); });
            layer.on('mouseout', function () { layer.setStyle(styleOf(f)); });
        }
    }
});
"""

#: Heat map of ``data.points`` (``[lat, lon, intensity]``), Leaflet.heat.
HEAT_JS = """
return L.heatLayer(data.points, opts);
"""

#: Bundled assets (see :mod:`hzlogistics.maps.assets`) each kind of layer needs.
CLUSTER_ASSETS = (("markerclusterjs",), ("markerclustercss", "markerclusterdefaultcss"))
HEAT_ASSETS = (("leaflet-heat.js",), ())


def _js_string(text: str) -> str:
    """``text`` as a single-quoted JavaScript string literal (JSON needs few escapes so)."""
    body = (text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
            .replace("\r", "\\r").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
            .replace("</", "<\\/"))
    return f"'{body}'"


class DataLayer(JSCSSMixin, Layer):
    """A Leaflet layer built in the browser by a short script from a JSON payload.

    Parameters
    ----------
    key
        Name under which the page keeps the layer (``window.hzLayers[key]``).
    code
        Body of a JavaScript function of ``(data, opts, map)`` that returns the layer.
    data
        JSON-serialisable payload; its strings must already be escaped.
    opts
        JSON-serialisable options passed to ``code``.
    data_from
        Another DataLayer whose payload this one reuses (written once).
    name
        Name in the layer control.
    show, control, overlay
        As for any folium layer.
    assets
        Names of the bundled JS and CSS files the code needs.

    Examples
    --------
    >>> layer = DataLayer("empty", "return L.featureGroup();", {}, name="Nothing")
    >>> layer.payload
    '{}'
    """

    def __init__(
        self,
        key: str,
        code: str,
        data: Any,
        opts: dict[str, Any] | None = None,
        *,
        data_from: DataLayer | None = None,
        name: str | None = None,
        show: bool = True,
        control: bool = True,
        overlay: bool = True,
        assets: tuple[Sequence[str], Sequence[str]] = ((), ()),
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self._name = "DataLayer"
        self.key = key
        self.key_js = to_js(key)
        self.code = code
        self.data: Any = data if data_from is None else data_from.data
        self.data_from = data_from
        self.payload = to_js(data) if data_from is None else ""
        self.opts = dict(opts or {})
        self.opts_js = to_js(self.opts)
        js, css = assets
        self.default_js = [(k, asset(k).url) for k in js]
        self.default_css = [(k, asset(k).url) for k in css]

    @property
    def data_name(self) -> str:
        """JavaScript name of the payload this layer reads."""
        source = self if self.data_from is None else self.data_from
        return f"{source.get_name()}_data"

    def script(self) -> str:
        """The JavaScript that builds the layer (and adds it to the map if shown)."""
        if self._parent is None:
            raise HzLogisticsError("add the layer to a map before drawing it")
        name, parent = self.get_name(), self._parent.get_name()
        lines = []
        if self.data_from is None:
            # a JSON string read by JSON.parse loads faster than a large object literal
            lines.append(f"var {name}_data = JSON.parse({_js_string(self.payload)});")
        lines += [
            f"var {name} = (function (data, opts, map) {{{self.code}}})"
            f"({self.data_name}, {self.opts_js}, {parent});",
            "window.hzLayers = window.hzLayers || {};",
            f"window.hzLayers[{self.key_js}] = {name};",
            f"window.hzMap = {parent};",
        ]
        if self.show:
            lines.append(f"{name}.addTo({parent});")
        return "\n".join(lines) + "\n"

    def render(self, **kwargs: Any) -> str:
        """Add the layer's script to the page as it is.

        folium reads the output of its elements' templates as a template again;
        a payload of several megabytes is not, which is both faster and safer.
        """
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise HzLogisticsError("add the layer to a map before drawing it")
        for key, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=key)
        for key, url in self.default_css:
            figure.header.add_child(CssLink(url), name=key)
        figure.script.add_child(RawHtml(self.script()), name=self.get_name())
        return ""


def shapes_payload(geoms: Sequence[Any] | np.ndarray, props: Sequence[dict[str, Any]],
                   styles: Sequence[dict[str, Any]], decimals: int) -> RawJson:
    """The payload of a :data:`SHAPES_JS` layer: ``{"geojson": ..., "styles": [...]}``.

    Geometries are rounded to ``decimals`` and written by GEOS; missing and
    empty ones are dropped with their properties. Strings in ``props`` must
    already be escaped.

    Examples
    --------
    >>> import shapely
    >>> shapes_payload([shapely.Point(1.23456, 2.0), None], [{"t": "a"}, {"t": "b"}],
    ...                [{"color": "red"}], 2)
    '{"geojson":{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"t":"a"},"geometry":{"type":"Point","coordinates":[1.23,2.0]}}]},"styles":[{"color":"red"}]}'
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = ~shapely.is_missing(geoms)
    ok[ok] = ~shapely.is_empty(geoms[ok])
    rounded = shapely.transform(geoms[ok], lambda c: np.round(c, decimals))
    texts = shapely.to_geojson(rounded) if len(rounded) else []
    kept = (p for p, keep in zip(props, ok, strict=True) if keep)
    features = ",".join(f'{{"type":"Feature","properties":{to_js(p)},"geometry":{g}}}'
                        for p, g in zip(kept, texts, strict=True))
    return RawJson(f'{{"geojson":{{"type":"FeatureCollection","features":[{features}]}},'
                   f'"styles":{to_js(list(styles))}}}')


class RawHtml(Element):
    """A piece of HTML written as is (never read as a template).

    Parameters
    ----------
    html
        The markup; any text from data in it must already be escaped.
    """

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.html = html

    def render(self, **kwargs: Any) -> str:
        """The markup."""
        return self.html


__all__ = ["CLUSTER_ASSETS", "DataLayer", "HEAT_ASSETS", "HEAT_JS", "POINTS_JS", "RawHtml",
           "SHAPES_JS", "shapes_payload"]
