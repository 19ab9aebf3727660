"""Text that goes into a map page: escaping, number formats, data for scripts.

Every string that comes from data or from a user passes through
:func:`escape_text` before it reaches the page; numbers are formatted here too
so that a popup reads the same everywhere.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

_ESCAPES = str.maketrans({
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "`": "&#96;",
    "$": "&#36;",
    "\\": "&#92;",
    "\n": "&#10;",
    "\r": "&#13;",
    "{": "&#123;",
    "}": "&#125;",
    "\u2028": "&#8232;",
    "\u2029": "&#8233;",
})

#: Shown where a number is missing.
DASH = "–"


def escape_text(value: object) -> str:
    """Make any value safe to place in the page, as text.

    The result is safe inside HTML text and attributes, inside JavaScript
    string and template literals, inside a ``<script>`` element and inside a
    Jinja template: every character that means something there
    (``& < > " ' ` $ \\ { }`` and line breaks) becomes an HTML character
    reference, which the browser shows as the character itself.

    Parameters
    ----------
    value
        Anything; ``None`` and NaN become an empty string.

    Returns
    -------
    str

    Examples
    --------
    >>> escape_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> escape_text("`${alert(1)}`")
    '&#96;&#36;&#123;alert(1)&#125;&#96;'
    >>> escape_text(None)
    ''
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).translate(_ESCAPES)


class RawJson(str):
    """JSON text written as is by :func:`to_js` (made only from numbers and escaped text)."""


def to_js(obj: Any) -> str:
    """Compact JSON that is also safe inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes (so no ``</script>``
    can appear), as are the two line separators JavaScript once rejected.

    Raises
    ------
    ValueError
        For NaN or infinity (not JSON).

    Examples
    --------
    >>> to_js({"a": "</script>", "b": [1.5, None]})
    '{"a":"\\\\u003c/script\\\\u003e","b":[1.5,null]}'
    """
    if isinstance(obj, RawJson):
        return str(obj)
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def finite(x: object) -> float | None:
    """``x`` as a float, or ``None`` if it is missing, NaN or not a number."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def fmt(x: object, digits: int = 0, unit: str = "") -> str:
    """A number with thousands separators, or a dash.

    Examples
    --------
    >>> fmt(1234.5, unit=" m²"), fmt(float("nan")), fmt(2.345, 1, " h")
    ('1,234 m²', '–', '2.3 h')
    """
    v = finite(x)
    if v is None:
        return DASH
    return f"{v:,.{digits}f}{unit}"


def pct(x: object, digits: int = 1) -> str:
    """A share as a percentage, or a dash.

    Examples
    --------
    >>> pct(0.9345), pct(None)
    ('93.5 %', '–')
    """
    v = finite(x)
    return DASH if v is None else f"{100.0 * v:.{digits}f} %"


def rows_html(rows: Iterable[tuple[object, object]]) -> str:
    """A two-column HTML table, every cell escaped.

    Examples
    --------
    >>> rows_html([("Name", "<b>")])
    '<table><tr><th>Name</th><td>&lt;b&gt;</td></tr></table>'
    """
    cells = "".join(f"<tr><th>{escape_text(k)}</th><td>{escape_text(v)}</td></tr>"
                    for k, v in rows)
    return f"<table>{cells}</table>"


__all__ = ["DASH", "RawJson", "escape_text", "finite", "fmt", "pct", "rows_html", "to_js"]
