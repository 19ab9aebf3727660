"""The files of a phased roll-out beyond a plan's own: a section per year, and its chart.

A phased :class:`~hzlogistics.plan.Plan` (``plan.phases`` set) is written by
:func:`hzlogistics.report.write_plan` like any plan, plus:

- ``report.md`` gains a roll-out table and a section per year
  (:func:`rollout_markdown`);
- ``rollout.png`` and ``rollout.html``: the share of demand covered in each
  year, with the sites open and the floor area (:func:`rollout_png`,
  :func:`rollout_html`).

The per-year table of ``summary.json`` and the ``open_year`` and
``area_m2_<year>`` columns of ``sites.csv`` come from the plan itself.
"""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING, Any

import pandas as pd

from hzlogistics.maps.text import fmt, pct

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

#: File name of each kind of output a roll-out adds.
ROLLOUT_FILES: dict[str, str] = {"rollout_png": "rollout.png", "rollout_html": "rollout.html"}


def _range(lo: Any, hi: Any) -> str:
    return f"{fmt(lo)}–{'no limit' if hi is None else fmt(hi)}"


def rollout_markdown(plan: Plan) -> str:
    """The roll-out part of ``report.md``: a table of the years, then a section per year.

    Each year's section gives its limits, the sites open and new, the floor
    area, the demand covered and the countries where sites open that year.

    Returns
    -------
    str
        Markdown text (empty for a plan that is not phased).
    """
    if plan.phases is None:
        return ""
    ph = plan.phases
    rows = ph.table()
    s = plan.summary()
    lines = ["## Roll-out", "",
             f"{len(rows)} years, {rows[0]['year']}–{rows[-1]['year']}: a site that opens "
             "stays open and its size never shrinks. The objective is the parcels/day covered "
             "each year, summed over the years"
             + (f" and discounted at {pct(s['phased']['discount'])} a year"
                if s["phased"]["discount"] else "") + f": {fmt(s['objective'], 1)} "
             f"(proven bound {fmt(s['bound'], 1)}, gap {pct(s['gap'], 3)}).", ""]
    for name, label in (("myopic", "each year solved alone, then forced to nest"),
                        ("last_year_first", f"{rows[-1]['year']} solved, then what opens first")):
        value = s["phased"].get(f"{name}_objective")
        if value is not None and s["objective"]:
            lines.append(f"- {label}: {fmt(value, 1)} (the roll-out above is "
                         f"{pct((s['objective'] - value) / max(value, 1e-9), 3)} better)")
    lines += ["", "| Year | Sites | New | Floor area (m²) | Budget (m²) | Covered (parcels/day) "
              "| Demand (parcels/day) | Covered |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['year']} | {r['n_open']:,} | {r['n_new']:,} | "
                     f"{fmt(r['total_area_m2'])} | {fmt(r['area_budget_m2'])} | "
                     f"{fmt(r['covered_weight'])} | {fmt(r['total_weight'])} | "
                     f"{pct(r['covered_share'])} |")
    lines.append("")
    sites = plan.sites
    for t, r in enumerate(rows):
        year = r["year"]
        lines += [f"## {year}", ""]
        lines += ["| | |", "|---|---|",
                  f"| Sites open | {r['n_open']:,} ({r['n_new']:,} new; allowed "
                  f"{_range(r['count_min'], r['count_max'])}"
                  + (f", at most {r['max_openings']:,} openings" if r["max_openings"] is not None
                     else "") + ") |",
                  f"| Floor area | {fmt(r['total_area_m2'])} m² of "
                  f"{fmt(r['area_budget_m2'])} m² |",
                  f"| Demand covered | {fmt(r['covered_weight'])} of "
                  f"{fmt(r['total_weight'])} parcels/day ({pct(r['covered_share'])}) |",
                  f"| Weight in the objective | {r['discount_factor']:.3f} |", ""]
        opened = sites["open_year"] == year
        grown = (sites[f"area_m2_{year}"] > sites[f"area_m2_{rows[t - 1]['year']}"]) & ~opened \
            if t > 0 else pd.Series(False, index=sites.index)
        if "country" in sites.columns and (opened.any() or grown.any()):
            by = pd.DataFrame({"country": sites["country"], "new": opened.fillna(False),
                               "grown": grown, "area": sites[f"area_m2_{year}"].where(
                                   opened.fillna(False), 0.0)})
            table = by.groupby("country").agg(new=("new", "sum"), grown=("grown", "sum"),
                                              area=("area", "sum"))
            table = table[(table["new"] > 0) | (table["grown"] > 0)].sort_values(
                ["new", "area"], ascending=False)
            label = "existing and new sites" if t == 0 else "new sites"
            lines += [f"Where {label} open in {year}:", "",
                      "| Country | Sites opening | Their floor area (m²) | Sites growing |",
                      "|---|---:|---:|---:|"]
            lines += [f"| {c} | {int(v['new']):,} | {fmt(v['area'])} | {int(v['grown']):,} |"
                      for c, v in table.iterrows()]
            lines.append("")
    return "\n".join(lines)


def rollout_png(plan: Plan) -> bytes:
    """A PNG chart of the share of demand covered in each year, with the sites open.

    Returns
    -------
    bytes
        The PNG file.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    assert plan.phases is not None
    rows = plan.phases.table()
    years = [str(r["year"]) for r in rows]
    share = [r["covered_share"] for r in rows]
    fig = Figure(figsize=(8, 5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bars = ax.bar(years, share, color="#1f77b4", alpha=0.85, label="demand covered")
    for bar, r in zip(bars, rows, strict=True):
        ax.annotate(f"{100 * r['covered_share']:.1f} %\n{r['n_open']:,} sites "
                    f"(+{r['n_new']:,})", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize="small", xytext=(0, 3),
                    textcoords="offset points")
    ax.set_ylim(0, max(share + [0.01]) * 1.2 + 0.02)
    ax.set_yticks([v / 10 for v in range(11) if v / 10 <= ax.get_ylim()[1]])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Year")
    ax.set_ylabel("Demand covered within the service level")
    ax.set_title(f"{plan.title}: demand covered by year")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def rollout_html(plan: Plan) -> str:
    """A self-contained HTML page: the covered share per year as inline SVG bars, and the table.

    Returns
    -------
    str
        HTML text.
    """
    assert plan.phases is not None
    rows = plan.phases.table()
    e = html.escape
    width, height, left, top, bottom = 720, 360, 70, 30, 50
    pw, ph = width - left - 20, height - top - bottom
    top_share = max([r["covered_share"] for r in rows] + [0.01]) * 1.2 + 0.02
    slot = pw / max(1, len(rows))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="Demand covered by year">',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>']
    for v in [k / 5 for k in range(6) if k / 5 <= top_share]:
        y = top + ph * (1 - v / top_share)
        svg.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" '
                   'stroke="#e5e5e5"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{100 * v:.0f} %'
                   "</text>")
    for k, r in enumerate(rows):
        h = ph * r["covered_share"] / top_share
        x = left + slot * k + slot * 0.2
        y = top + ph - h
        tip = (f"{r['year']}: {100 * r['covered_share']:.1f} % covered, {r['n_open']:,} sites "
               f"({r['n_new']:,} new), {fmt(r['total_area_m2'])} m²")
        svg.append(f'<rect class="year" data-year="{r["year"]}" x="{x:.1f}" y="{y:.1f}" '
                   f'width="{slot * 0.6:.1f}" height="{h:.1f}" fill="#1f77b4">'
                   f"<title>{e(tip)}</title></rect>")
        svg.append(f'<text x="{x + slot * 0.3:.1f}" y="{y - 6:.1f}" text-anchor="middle">'
                   f"{100 * r['covered_share']:.1f} %</text>")
        svg.append(f'<text x="{x + slot * 0.3:.1f}" y="{top + ph + 18}" '
                   f'text-anchor="middle">{r["year"]}</text>')
    svg.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" '
               'text-anchor="middle">Demand covered</text></svg>')
    cols = [("year", "Year"), ("n_open", "Sites"), ("n_new", "New"),
            ("total_area_m2", "Floor area (m²)"), ("covered_weight", "Covered (parcels/day)"),
            ("total_weight", "Demand (parcels/day)"), ("covered_share", "Covered")]
    head = "".join(f"<th>{e(label)}</th>" for _, label in cols)
    body = "\n".join("<tr>" + "".join(
        f"<td>{pct(r[c]) if c == 'covered_share' else e(str(r[c])) if c == 'year' else fmt(r[c])}"
        "</td>" for c, _ in cols) + "</tr>" for r in rows)
    title = e(f"{plan.title}: roll-out")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>body{{font-family:system-ui,sans-serif;margin:1.5em;"
            "color:#222}svg text{font-size:12px;fill:#333}table{border-collapse:collapse;"
            "font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}"
            f"th{{background:#f4f4f4}}</style></head><body><h1>{title}</h1>\n"
            + "\n".join(svg) + f"\n<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n"
            "</tbody></table></body></html>\n")
