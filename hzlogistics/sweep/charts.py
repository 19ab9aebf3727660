"""The files of a sweep: its table as CSV, and its trade-off curve as PNG and HTML."""

from __future__ import annotations

import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hzlogistics._errors import ValidationError
from hzlogistics.io import write_atomic

_LABELS: dict[str, str] = {
    "area_budget_m2": "Area budget (m²)",
    "count": "Number of sites",
    "count_min": "Minimum number of sites",
    "count_max": "Maximum number of sites",
    "capacity_per_m2": "Capacity (parcels/day per m²)",
    "rent_cap_usd_year": "Rent cap (USD/year)",
    "covered_share": "Demand covered within the service level",
    "covered_weight": "Demand covered (parcels/day)",
    "objective": "Objective",
    "area_m2": "Floor area used (m²)",
    "n_sites": "Open sites",
    "rent_usd_year": "Rent (USD/year)",
    "wall_s": "Wall time (s)",
    "gap": "Relative gap",
}
_BOUND_OF: dict[str, str] = {"objective": "bound", "covered_share": "bound_share"}
_SHARES = ("covered_share", "bound_share", "gap")


def _series(df: pd.DataFrame, x: str) -> list[tuple[str, pd.DataFrame]]:
    """Split the rows into one curve per combination of the other varied values."""
    vary = [k for k in df.attrs.get("vary", []) if k in df.columns and k != x]
    vary = [k for k in vary if df[k].nunique(dropna=False) > 1]
    if not vary:
        return [("", df)]
    out = []
    for key, part in df.groupby(vary, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        out.append((", ".join(f"{k} {v}" for k, v in zip(vary, key, strict=True)), part))
    return out


def _default_x(df: pd.DataFrame) -> str:
    vary = [k for k in df.attrs.get("vary", []) if k in df.columns]
    for k in vary:
        if pd.api.types.is_numeric_dtype(df[k]) and df[k].nunique() > 1:
            return k
    return vary[0] if vary else "point"


def write_sweep(
    df: pd.DataFrame,
    out_dir: str | Path,
    *,
    x: str | None = None,
    y: str = "covered_share",
    name: str = "sweep",
) -> dict[str, Path]:
    """Write a sweep's table and its trade-off curve (PNG and HTML).

    Every file is written to a temporary name and moved into place, so a
    reader never sees half a file.

    Parameters
    ----------
    df
        A table from :func:`sweep`.
    out_dir
        Folder to write to (created if needed).
    x
        Column on the horizontal axis (default: the first numeric varied
        parameter, e.g. ``area_budget_m2``).
    y
        Column on the vertical axis (default ``covered_share``); for
        ``covered_share`` and ``objective`` the solver's bound is drawn dashed.
        Each combination of the other varied parameters is a curve.
    name
        Stem of the file names.

    Returns
    -------
    dict
        ``{"csv": ..., "png": ..., "html": ...}`` paths.

    Raises
    ------
    ValidationError
        If ``x`` or ``y`` is not a column of ``df``.
    """
    x = x or _default_x(df)
    bad = [f"{label} '{c}'" for label, c in (("x", x), ("y", y)) if c not in df.columns]
    if bad:
        raise ValidationError(f"write_sweep: no column {' or '.join(bad)}; columns: "
                              f"{', '.join(map(str, df.columns))}")
    out = Path(out_dir)
    paths = {"csv": out / f"{name}.csv", "png": out / f"{name}.png", "html": out / f"{name}.html"}
    write_atomic(paths["csv"], df.to_csv(index=False))
    write_atomic(paths["png"], _png(df, x, y))
    write_atomic(paths["html"], _html(df, x, y))
    return paths


def _png(df: pd.DataFrame, x: str, y: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    fig = Figure(figsize=(8, 5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bound_col = _BOUND_OF.get(y)
    for k, (label, part) in enumerate(_series(df, x)):
        part = part.sort_values(x) if pd.api.types.is_numeric_dtype(part[x]) else part
        color = f"C{k % 10}"
        ok = part[y].notna()
        ax.plot(part.loc[ok, x], part.loc[ok, y], "o-", color=color, label=label or y)
        if bound_col and part[bound_col].notna().any():
            b = part[bound_col].notna()
            ax.plot(part.loc[b, x], part.loc[b, bound_col], "--", color=color, alpha=0.6,
                    label=f"{label + ': ' if label else ''}proven bound")
    if pd.api.types.is_numeric_dtype(df[x]) and df[x].abs().max() >= 1_000:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel(_LABELS.get(x, x))
    ax.set_ylabel(_LABELS.get(y, y))
    if y in _SHARES:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    title = df.attrs.get("scenario")
    if title:
        ax.set_title(f"{title}: {_LABELS.get(y, y).lower()} vs {_LABELS.get(x, x).lower()}")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    if not np.isfinite(lo) or not np.isfinite(hi):
        return []
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [round(first + k * step, 12) for k in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, float | np.floating):
        if column in _SHARES:
            return f"{value:.2%}"
        number = float(value)
        return f"{number:,.0f}" if abs(number) >= 100 else f"{number:,.3g}"
    return str(value)


def _html(df: pd.DataFrame, x: str, y: str) -> str:
    """A self-contained HTML page: the trade-off curve as inline SVG, and the table."""
    width, height = 820, 460
    left, right, top, bottom = 90, 220, 30, 60
    pw, ph = width - left - right, height - top - bottom
    numeric_x = pd.api.types.is_numeric_dtype(df[x])
    cats = list(dict.fromkeys(df[x].tolist())) if not numeric_x else []
    xs = (df[x].astype(float) if numeric_x else df[x].map({c: k for k, c in enumerate(cats)}))
    bound_col = _BOUND_OF.get(y)
    ys = [df[y]] + ([df[bound_col]] if bound_col else [])
    yvals = pd.concat(ys).astype(float)
    yvals = yvals[np.isfinite(yvals)]
    x_lo, x_hi = (float(xs.min()), float(xs.max())) if len(xs) else (0.0, 1.0)
    y_lo, y_hi = (float(yvals.min()), float(yvals.max())) if len(yvals) else (0.0, 1.0)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    pad = (y_hi - y_lo) * 0.08 or max(abs(y_hi) * 0.05, 1e-3)
    y_lo, y_hi = y_lo - pad, y_hi + pad

    def px(v: float) -> float:
        return left + (v - x_lo) / (x_hi - x_lo) * pw

    def py(v: float) -> float:
        return top + (1 - (v - y_lo) / (y_hi - y_lo)) * ph

    e = html.escape
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(_LABELS.get(y, y))}">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>']
    for t in _nice_ticks(y_lo, y_hi):
        svg.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                   'stroke="#e5e5e5"/>')
        svg.append(f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end">'
                   f'{e(_fmt(float(t), y))}</text>')
    xticks = _nice_ticks(x_lo, x_hi) if numeric_x else list(range(len(cats)))
    for t in xticks:
        label = _fmt(float(t), x) if numeric_x else str(cats[int(t)])
        svg.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{top + ph}" '
                   'stroke="#f0f0f0"/>')
        svg.append(f'<text x="{px(t):.1f}" y="{top + ph + 18}" text-anchor="middle">'
                   f'{e(label)}</text>')
    svg.append(f'<text x="{left + pw / 2}" y="{height - 15}" text-anchor="middle">'
               f'{e(_LABELS.get(x, x))}</text>')
    svg.append(f'<text transform="translate(18 {top + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">{e(_LABELS.get(y, y))}</text>')
    palette = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf")
    for k, (label, part) in enumerate(_series(df, x)):
        color = palette[k % len(palette)]
        order = part.index[np.argsort(xs.loc[part.index].to_numpy(), kind="stable")]
        part = part.loc[order]
        pts = [(px(float(xs[i])), py(float(part.at[i, y])), i) for i in part.index
               if np.isfinite(float(part.at[i, y]))]
        if bound_col:
            bpts = [f"{px(float(xs[i])):.1f},{py(float(part.at[i, bound_col])):.1f}"
                    for i in part.index if np.isfinite(float(part.at[i, bound_col]))]
            if bpts:
                svg.append(f'<polyline points="{" ".join(bpts)}" fill="none" stroke="{color}" '
                           'stroke-dasharray="5 4" opacity="0.6"/>')
        if pts:
            svg.append(f'<polyline points="{" ".join(f"{a:.1f},{b:.1f}" for a, b, _ in pts)}" '
                       f'fill="none" stroke="{color}" stroke-width="2"/>')
        for a, b, i in pts:
            tip = "\n".join(f"{c}: {_fmt(part.at[i, c], c)}" for c in part.columns
                            if c not in ("message", "map") and _fmt(part.at[i, c], c) != "")
            svg.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="4" fill="{color}">'
                       f'<title>{e(tip)}</title></circle>')
        ly = top + 14 + 34 * k
        svg.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly}" y2="{ly}" '
                   f'stroke="{color}" stroke-width="2"/>')
        svg.append(f'<text x="{left + pw + 42}" y="{ly + 4}">{e(label or _LABELS.get(y, y))}'
                   '</text>')
        if bound_col:
            svg.append(f'<line x1="{left + pw + 12}" x2="{left + pw + 36}" y1="{ly + 14}" '
                       f'y2="{ly + 14}" stroke="{color}" stroke-dasharray="5 4"/>')
            svg.append(f'<text x="{left + pw + 42}" y="{ly + 18}">proven bound</text>')
    svg.append("</svg>")
    cols = [c for c in df.columns if c not in ("message",)]
    head = "".join(f"<th>{e(str(c))}</th>" for c in cols)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{e(_fmt(row[c], c))}</td>" for c in cols) + "</tr>"
        for _, row in df.iterrows()
    )
    title = e(f"Sweep: {df.attrs.get('scenario', '')}".rstrip(": "))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{title}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
        "svg text{font-size:12px;fill:#333}"
        "table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}"
        "th{background:#f4f4f4}</style></head><body>"
        f"<h1>{title}</h1>\n" + "\n".join(svg) + "\n"
        f"<h2>Points</h2><table><thead><tr>{head}</tr></thead><tbody>\n{body}\n"
        "</tbody></table></body></html>\n"
    )
