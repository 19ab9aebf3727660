"""Terminal output of the command line: exit codes, the console, the live solve display.

:class:`Console` sends progress and notes to stderr and results to stdout (or
JSON with ``--json``); :class:`SolveDisplay` shows the incumbent, bound and gap
while a solve runs; :func:`terminal_text` keeps control characters of input
data off the terminal; :func:`summary_text` and :func:`text_table` format
results.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    pass

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)


EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_INTERRUPTED = 130

T = TypeVar("T")

class Interrupted(Exception):
    """Raised inside the planning thread when a stop was asked before the solve."""


# ---------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------
class Console:
    """Where messages go: progress and notes to stderr, results to stdout."""

    def __init__(self, *, quiet: bool, verbose: int, json_out: bool,
                 stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.json_out = json_out
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.tty = bool(getattr(self.err, "isatty", lambda: False)()) and not quiet

    def note(self, text: str) -> None:
        """A progress message (stderr; silenced by -q)."""
        if not self.quiet:
            print(terminal_text(text), file=self.err, flush=True)

    def error(self, text: str) -> None:
        """An error message (stderr, always)."""
        print(f"hzlogistics: error: {terminal_text(text)}", file=self.err, flush=True)

    def detail(self, text: str) -> None:
        """A line under an error message (stderr, always)."""
        print(f"  - {terminal_text(text)}", file=self.err, flush=True)

    def result(self, text: str) -> None:
        """A human-readable result (stdout; silenced by -q and by --json)."""
        if not self.quiet and not self.json_out:
            print(terminal_text(text), file=self.out, flush=True)

    def json(self, data: Any) -> None:
        """A JSON result on stdout (with --json)."""
        if self.json_out:
            text = json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)
            # JSON escapes C0 controls itself; escape DEL, C1 and bidi controls too
            print(_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text),
                  file=self.out, flush=True)


class SolveDisplay:
    """Stages and the live incumbent / bound / gap of a solve."""

    def __init__(self, console: Console, *, stages: Sequence[str], time_limit_s: float) -> None:
        self.console = console
        self.stages = list(stages)
        self.time_limit_s = time_limit_s
        self.t0 = time.perf_counter()
        self.t_stage = self.t0
        self.t_solve: float | None = None
        self.bar: Any = None
        self.last_line = -math.inf
        self.state: tuple[float, float, float] | None = None
        self.lock = threading.Lock()

    def stage(self, name: str) -> None:
        with self.lock:
            self._close_bar()
            now = time.perf_counter()
            k = self.stages.index(name) + 1 if name in self.stages else 0
            self.console.note(f"[{k}/{len(self.stages)}] {name} "
                              f"(after {now - self.t0:.1f} s)")
            self.t_stage = now
            if name == "solve":
                self.t_solve = now
                self.console.note(f"      time limit {self.time_limit_s:g} s; Ctrl-C stops the "
                                  "search and keeps the best plan so far")
                if self.console.tty:
                    from tqdm import tqdm

                    self.bar = tqdm(total=round(self.time_limit_s, 1), file=self.console.err,
                                    unit="s", leave=False, dynamic_ncols=True,
                                    bar_format="      {bar:20}| {n:.0f}/{total:.0f} s  {desc}")

    def incumbent(self, elapsed_s: float, incumbent: float, bound: float) -> None:
        from hzlogistics.solvers.problem import relative_gap

        finite = math.isfinite(bound) and math.isfinite(incumbent)
        gap = relative_gap(incumbent, bound) if finite else math.nan
        with self.lock:
            self.state = (incumbent, bound, gap)
            text = (f"incumbent {_num(incumbent, 1)}  bound {_num(bound, 1)}  "
                    f"gap {pct(gap, 3)}")
            if self.bar is not None:
                self.bar.set_description_str(text, refresh=False)
                self._tick_locked()
            elif self.console.verbose or elapsed_s - self.last_line >= 2.0:
                self.last_line = elapsed_s
                self.console.note(f"      {elapsed_s:6.1f} s  {text}")

    def tick(self) -> None:
        with self.lock:
            self._tick_locked()

    def _tick_locked(self) -> None:
        if self.bar is not None and self.t_solve is not None:
            self.bar.n = min(self.time_limit_s, time.perf_counter() - self.t_solve)
            self.bar.refresh()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        with self.lock:
            self._close_bar()


#: Characters that must not reach a terminal raw: control characters (an
#: escape sequence can rewrite the screen) and the invisible bidirectional
#: controls that reorder what is shown; newlines and tabs of our own text stay.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     "\u2066-\u2069]")


def terminal_text(text: str) -> str:
    """``text`` with control characters shown as escapes, safe to print on a terminal.

    Examples
    --------
    >>> terminal_text("site \x1b[31mA\x07")
    'site \\x1b[31mA\\x07'
    """
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def pct(x: float | None, digits: int = 1) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{100 * x:.{digits}f} %"


def _num(x: float | None, digits: int = 0) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:,.{digits}f}"


def summary_text(summary: dict[str, Any], paths: dict[str, Path]) -> str:
    budget = summary.get("area_budget_m2")
    area = f"{_num(summary['total_area_m2'])} m²"
    if budget:
        area += f" of {_num(budget)} m² ({pct(summary['total_area_m2'] / budget)})"
    timings = summary.get("timings") or {}
    parts = ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in timings.items())
    total = sum(timings.values()) if timings else summary.get("wall_s", 0.0)
    rows = [
        ("status", f"{summary['status']}"
                   + (" (stopped early: best plan so far)" if summary.get("interrupted") else "")),
        ("sites", f"{summary['n_open']:,} open ({summary['n_existing']:,} existing) in "
                  f"{plural(summary['n_countries'], 'country', 'countries')}"),
        ("floor area", area),
        ("demand covered", f"{_num(summary['covered_weight'])} of "
                           f"{_num(summary['total_weight'])} parcels/day "
                           f"({pct(summary['covered_share'])})"),
    ]
    if summary.get("n_unreachable"):
        points = plural(summary["n_unreachable"], "demand point", "demand points")
        rows.append(("unreachable", f"{points} ({_num(summary['unreachable_weight'], 1)} "
                                    "parcels/day) out of every site's reach; not served"))
    if summary.get("mean_travel_time_h") is not None:
        rows.append(("mean delivery", f"{summary['mean_travel_time_h']:.2f} h per parcel served"))
    elif not summary.get("travel_times_known", True):
        from hzlogistics.report import NO_TRAVEL_TIMES

        rows.append(("mean delivery", NO_TRAVEL_TIMES))
    rows += [
        ("objective", f"{summary['objective_name']} {_num(summary['objective'], 1)} "
                      f"(bound {_num(summary['bound'], 1)})"),
        ("gap", pct(summary.get("gap"), 3)),
        ("time", f"{total:.1f} s" + (f" ({parts})" if parts else "")),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"Plan {summary['name']}: {summary['title']}"]
    lines += [f"  {k:<{width}}  {v}" for k, v in rows]
    if summary.get("years"):
        lines.append(f"Roll-out (the figures above are {summary['years'][-1]['year']}'s; the "
                     "objective is summed over the years)")
        lines.append(text_table(summary["years"], [
            ("year", "year", ""), ("n_open", "sites", ",d"), ("n_new", "new", ",d"),
            ("total_area_m2", "floor area m²", ",.0f"),
            ("covered_weight", "covered parcels/day", ",.0f"),
            ("covered_share", "share", ".1%")]))
    lines.append("Files")
    lines += [f"  {p}" for p in paths.values()]
    return "\n".join(lines)


def text_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    """A plain text table: columns are (key, header, format spec)."""
    cells = [[h for _, h, _ in columns]]
    for r in rows:
        line = []
        for key, _, spec in columns:
            v = r.get(key)
            if isinstance(v, float) and not math.isfinite(v):
                line.append("–")
            elif spec and v is not None:
                line.append(format(v, spec))
            else:
                line.append("" if v is None else str(v))
        cells.append(line)
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    out = []
    for k, line in enumerate(cells):
        out.append("  ".join(c.ljust(w) if columns[i][2] == "" else c.rjust(w)
                             for i, (c, w) in enumerate(zip(line, widths, strict=True))).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
