"""The commands: plan, validate, compare, init, countries, data and sweep.

Each ``cmd_*`` takes the parsed arguments, the :class:`~hzlogistics.cli.console.Console`
and a ``state`` dict (what a Ctrl-C handler needs to know) and returns an
exit code. Long work runs in a :class:`Runner` thread so that a first Ctrl-C
stops the search and keeps the best plan so far.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hzlogistics import __version__, settings
from hzlogistics._errors import HzLogisticsError, InfeasibleError, ValidationError
from hzlogistics.cli.args import (
    check_not_empty,
    check_not_inputs,
    check_writable,
    output_paths,
    scenario_from_args,
)
from hzlogistics.cli.console import (
    EXIT_INFEASIBLE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Console,
    Interrupted,
    SolveDisplay,
    T,
    pct,
    plural,
    summary_text,
    text_table,
)

if TYPE_CHECKING:  # pragma: no cover
    from hzlogistics.plan import Plan

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Running with Ctrl-C handling
# ---------------------------------------------------------------------------
class _Runner:
    """Runs work in a thread so that Ctrl-C (SIGINT) can stop the search.

    The first Ctrl-C sets ``stop`` (the solver returns its best plan so far);
    the second raises :class:`KeyboardInterrupt` in the main thread at once.
    """

    def __init__(self, console: Console, tick: Callable[[], None] | None = None) -> None:
        self.console = console
        self.stop = threading.Event()
        self.tick = tick
        self.interrupts = 0
        self.thread: threading.Thread | None = None
        #: Set on the second Ctrl-C: the work must not move any file into place.
        self.quit = threading.Event()

    def _handler(self, signum: int, frame: object) -> None:
        self.interrupts += 1
        if self.interrupts == 1:
            self.stop.set()
            self.console.note("\ninterrupt: stopping the search and keeping the best plan so "
                              "far (Ctrl-C again to quit at once)")
        else:
            self.quit.set()
            raise KeyboardInterrupt

    def run(self, work: Callable[[threading.Event], T]) -> T:
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = work(self.stop)
            except BaseException as exc:  # handed to the main thread
                box["error"] = exc

        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.getsignal(signal.SIGINT) if in_main else None
        if in_main:
            signal.signal(signal.SIGINT, self._handler)
        self.thread = threading.Thread(target=target, name="hzlogistics-plan", daemon=True)
        try:
            self.thread.start()
            while self.thread.is_alive():
                self.thread.join(0.1)
                if self.tick is not None:
                    self.tick()
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
        if "error" in box:
            raise box["error"]
        return box["value"]

    @property
    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------
def cmd_plan(args: argparse.Namespace, console: Console, state: dict[str, Any]) -> int:
    from hzlogistics import plan as planning
    from hzlogistics.report import write_plan
    from hzlogistics.scenario import scenario_to_toml

    scenario, _ = scenario_from_args(args)
    out_dir, map_path = output_paths(args, scenario)
    check_writable(out_dir, "output folder")
    check_not_inputs(out_dir, scenario, args, "the plan's files")
    if map_path is not None:
        check_writable(map_path.parent, "map folder")
        check_not_inputs(map_path, scenario, args, "the map")
    display = SolveDisplay(console, stages=["load", "coverage", "solve", "outputs"],
                            time_limit_s=scenario.time_limit_s)
    runner = _Runner(console, tick=display.tick)
    state["runner"] = runner
    console.note(f"hzlogistics {__version__}: plan {scenario.name!r} "
                 f"({scenario.objective}, time limit {scenario.time_limit_s:g} s, "
                 f"gap target {pct(scenario.gap, 2)})")

    def on_stage(name: str) -> None:
        if runner.stop.is_set():
            raise Interrupted(name)
        display.stage(name)

    if getattr(args, "data_dir", None):
        from hzlogistics.countries import USER_DATA_ENV

        os.environ[USER_DATA_ENV] = str(args.data_dir)  # also seen by local Dask workers
    scheduler, local_workers = getattr(args, "scheduler", None), getattr(args, "dask_local", None)

    def work(stop: threading.Event) -> tuple[Plan, dict[str, Path]]:
        try:
            if scheduler is not None or local_workers is not None:
                from hzlogistics.sweep import dask_client, dask_map

                with dask_client(scheduler=scheduler, local_workers=local_workers) as client:
                    plan = planning.run_scenario(
                        scenario, progress=console.tty, on_stage=on_stage,
                        on_incumbent=display.incumbent, stop=stop,
                        map_fn=map if client is None else dask_map(client))
            else:
                plan = planning.run_scenario(scenario, progress=console.tty, on_stage=on_stage,
                                             on_incumbent=display.incumbent, stop=stop)
        except InfeasibleError:
            raise
        except HzLogisticsError:
            if stop.is_set():  # stopped before the solver found any plan
                raise Interrupted("solve") from None
            raise
        display.stage("outputs")
        paths = write_plan(plan, out_dir, scenario_text=scenario_to_toml(scenario),
                           map_path=map_path, cancel=runner.quit,
                           on_moved=lambda written: state.__setitem__("written", written))
        return plan, paths

    try:
        plan, paths = runner.run(work)
    except Interrupted as exc:
        console.error(f"interrupted during {exc}, before any plan was found; nothing written")
        return EXIT_INTERRUPTED
    finally:
        display.close()
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    summary["files"] = {k: str(p) for k, p in paths.items()}
    console.result(summary_text(summary, paths))
    console.json(summary)
    if summary.get("interrupted"):
        console.note(f"interrupted: wrote the best plan found so far "
                     f"(gap {pct(summary.get('gap'), 3)}) to {out_dir}")
        return EXIT_INTERRUPTED
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, console: Console, state: dict[str, Any]) -> int:
    from hzlogistics.plan import check_scenario

    scenario, source = scenario_from_args(args)
    console.note(f"scenario {scenario.name!r} ({source}): keys and values are valid; "
                 "running the pre-checks")
    runner = _Runner(console)
    state["runner"] = runner
    conflicts = runner.run(lambda stop: check_scenario(scenario, progress=console.tty))
    console.json({"name": scenario.name, "ok": not conflicts, "conflicts": conflicts})
    if conflicts:
        console.error(f"scenario {scenario.name!r} cannot be satisfied:")
        for c in conflicts:
            console.detail(c)
        return EXIT_INFEASIBLE
    console.result(f"ok: scenario {scenario.name!r} is valid and passes the pre-checks")
    return EXIT_OK


def cmd_compare(args: argparse.Namespace, console: Console, state: dict[str, Any]) -> int:
    from hzlogistics.io import write_atomic
    from hzlogistics.report import compare_plans
    from hzlogistics.saved_plan import read_plan

    if args.map is not None:
        if not args.map.strip():
            raise ValidationError("--map: empty file name; give the HTML file to write")
        check_writable(Path(args.map).parent, "map folder")
    plan_a, plan_b = read_plan(args.plan_a), read_plan(args.plan_b)
    comparison = compare_plans(plan_a, plan_b)
    written: dict[str, str] = {}
    if args.map:
        from hzlogistics.maps import compare_map

        write_atomic(args.map, lambda p: compare_map(plan_a, plan_b, path=p))
        written["map"] = str(args.map)
    data = comparison.to_dict()
    data.update(written)
    console.json(data)
    t = comparison.totals
    lines = [f"A = {args.plan_a} ({plan_a.name}), B = {args.plan_b} ({plan_b.name})", ""]
    rows = [
        ("open sites", "n_open", ",.0f"),
        ("floor area m²", "total_area_m2", ",.0f"),
        ("covered parcels/day", "covered_weight", ",.0f"),
        ("covered share %", "covered_share", ".2f"),
        ("rent USD/year", "rent_usd_year", ",.0f"),
    ]
    scale = {"covered_share": 100.0}
    table_rows = []
    for label, key, spec in rows:
        k = scale.get(key, 1.0)
        table_rows.append({"what": label, "a": format(k * t[f"{key}_a"], spec),
                           "b": format(k * t[f"{key}_b"], spec),
                           "change": format(k * t[f"{key}_change"], "+" + spec)})
    lines.append(text_table(table_rows, [("what", "", ""), ("a", "A", ">"), ("b", "B", ">"),
                                     ("change", "B - A", ">")]))
    lines += ["", f"sites: {t['n_opened']} opened, {t['n_closed']} closed, "
                  f"{t['n_resized']} resized"]
    site_rows = comparison.sites.to_dict("records")
    if site_rows:
        limit = None if console.verbose else 20
        shown = site_rows[:limit]
        lines.append(text_table(shown, [("change", "change", ""), ("id", "site", ""),
                                    ("country", "country", ""),
                                    ("area_a_m2", "A m²", ",.0f"),
                                    ("area_b_m2", "B m²", ",.0f")]))
        if limit is not None and len(site_rows) > limit:
            lines.append(f"... and {len(site_rows) - limit} more (-v lists all)")
    changed = comparison.countries[
        (comparison.countries["n_sites_a"] != comparison.countries["n_sites_b"])
        | (comparison.countries["area_a_m2"] != comparison.countries["area_b_m2"])
        | ~(comparison.countries["covered_change"].abs() <= 1e-9)
    ]
    if len(changed):
        rows_c = changed.assign(
            cov_a=100 * changed["covered_share_a"], cov_b=100 * changed["covered_share_b"],
            cov_change=100 * changed["covered_change"]).to_dict("records")
        lines += ["", "countries that changed:",
                  text_table(rows_c, [("country", "country", ""), ("n_sites_a", "A sites", "d"),
                                  ("n_sites_b", "B sites", "d"),
                                  ("area_a_m2", "A m²", ",.0f"), ("area_b_m2", "B m²", ",.0f"),
                                  ("cov_a", "A covered %", ".1f"),
                                  ("cov_b", "B covered %", ".1f"),
                                  ("cov_change", "change (points)", "+.2f")])]
    else:
        lines += ["", "no country changed"]
    if written:
        lines += ["", f"map: {written['map']}"]
    console.result("\n".join(lines))
    return EXIT_OK


def cmd_init(args: argparse.Namespace, console: Console, state: dict[str, Any]) -> int:
    from hzlogistics.io import write_atomic
    from hzlogistics.scenario import builtin_scenario_text, safe_name

    if not args.path.strip():
        raise ValidationError("init: empty file name; give the scenario file to write")
    target = Path(args.path)
    if target.is_dir():
        target = target / "scenario.toml"
    if target.exists() and not args.force:
        raise ValidationError(f"{target}: already exists; use --force to overwrite it")
    text = builtin_scenario_text(settings.DEFAULT_SCENARIO)
    name = safe_name(target.stem)
    if name != settings.DEFAULT_SCENARIO:
        text = re.sub(r'(?m)^name = ".*"$', f'name = "{name}"', text, count=1)
    check_writable(target.parent if str(target.parent) else Path("."), "scenario folder")
    write_atomic(target, text)
    console.json({"path": str(target), "name": name})
    console.result(f"wrote {target} (scenario {name!r}); edit it, then run "
                   f"`hzlogistics plan {target}`")
    return EXIT_OK


def cmd_countries(args: argparse.Namespace, console: Console, state: dict[str, Any]) -> int:
    from hzlogistics.countries import country_table, find_dataset

    table = country_table(data_dir=find_dataset(getattr(args, "dataset", None),
                                                data_dir=getattr(args, "data_dir", None)))
    records = table.to_dict("records")
    console.json(records)
    total = {"code": "", "name": f"{len(table)} countries",
             "n_demand": int(table["n_demand"].sum()), "n_sites": int(table["n_sites"].sum()),
             "n_existing": int(table["n_existing"].sum()), "weight": float(table["weight"].sum())}
    console.result(text_table(records + [total], [
        ("code", "code", ""), ("name", "country", ""), ("n_demand", "demand points", ",d"),
        ("n_sites", "sites", ",d"), ("n_existing", "existing", ",d"),
        ("weight", "parcels/day", ",.0f")]))
    return EXIT_OK


def cmd_data(args: argparse.Namespace, console: Console, state: dict[str, Any]) -> int:
    from hzlogistics import databuild

    check_not_empty(args, "out", "out_dir")
    target = args.out or args.out_dir
    if target is not None:
        check_writable(Path(target), "data folder")
    selection = {key: value for key, value in (
        ("countries", args.countries), ("min_population", args.min_population),
        ("name", args.name), ("data_dir", args.data_dir)) if value is not None}
    report = databuild.build_data(target, check=args.check, progress=console.tty, **selection)
    console.json({"ok": report.ok, "checked": report.checked, "out_dir": str(report.out_dir),
                  "files": report.files, "changed_files": report.changed_files,
                  "changed_countries": report.changed_countries})
    console.result(report.summary())
    if args.check and not report.ok:
        console.error(f"the data files in {report.out_dir} differ from a fresh build: "
                      f"{', '.join(report.changed_files)}")
        return 1
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace, console: Console, state: dict[str, Any]) -> int:
    from hzlogistics._validate import close_match
    from hzlogistics.sweep import (
        RESULT_COLUMNS,
        dask_client,
        normalize_vary,
        parse_vary,
        sweep,
        write_sweep,
    )

    scenario, _ = scenario_from_args(args)
    vary: dict[str, list[Any]] = {}
    problems: list[str] = []
    for spec in args.vary:
        try:
            name, values = parse_vary(spec)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        if name in vary:
            problems.append(f"--vary {name}: given twice; list every value in one --vary")
        vary[name] = values
    if problems:
        raise ValidationError(problems)
    normalize_vary(vary)  # count excludes count_min/count_max
    known = [*vary, *RESULT_COLUMNS]
    for flag, column in (("--x", args.x), ("--y", args.y)):
        if column is not None and column not in known:
            hint = close_match(column, known)
            raise ValidationError(f"{flag}: no column {column!r} in the sweep table"
                                  + (f" (did you mean {hint!r}?)" if hint else "")
                                  + f"; columns: {', '.join(known)}")
    check_not_empty(args, "out", "out_dir", "maps_dir")
    out_dir = Path(args.out) if args.out else (
        Path(args.out_dir or scenario.output_dir) / f"{scenario.name}-sweep")
    check_writable(out_dir, "output folder")
    check_not_inputs(out_dir, scenario, args, "the sweep's files")
    if args.maps_dir:
        check_writable(Path(args.maps_dir), "maps folder")
    n_points = math.prod(len(v) for v in vary.values())
    where = (f"Dask scheduler {args.scheduler}" if args.scheduler else
             f"a local Dask cluster of {args.dask_local} workers" if args.dask_local else
             "this process")
    console.note(f"hzlogistics {__version__}: sweep {scenario.name!r} over "
                 f"{plural(n_points, 'point', 'points')} "
                 f"({', '.join(f'{k} ×{len(v)}' for k, v in vary.items())}) in {where}; "
                 f"time limit {scenario.time_limit_s:g} s per point")
    runner = _Runner(console)
    state["runner"] = runner

    def work(stop: threading.Event) -> tuple[Any, dict[str, Path]]:
        with dask_client(scheduler=args.scheduler, local_workers=args.dask_local) as client:
            table = sweep(scenario, vary, client=client, warm_start=not args.no_warm_start,
                          chains=args.chains, workers_per_solve=args.solve_workers,
                          maps_dir=args.maps_dir, progress=console.tty, stop=stop)
        paths = write_sweep(table, out_dir, x=args.x, y=args.y)
        return table, paths

    table, paths = runner.run(work)
    rows = table.to_dict("records")
    columns = [(k, k, "") for k in vary] + [
        ("status", "status", ""), ("covered_share", "covered", ".2%"),
        ("objective", "objective", ",.0f"), ("gap", "gap", ".3%"),
        ("area_m2", "area m²", ",.0f"), ("n_sites", "sites", ",d"),
        ("wall_s", "time s", ".1f"), ("start", "start", ""),
    ]
    console.result(text_table(rows, columns) + "\nFiles\n" +
                   "\n".join(f"  {p}" for p in paths.values()))
    console.json({"points": rows, "files": {k: str(p) for k, p in paths.items()}})
    if (table["status"] == "not run").any() or runner.stop.is_set():
        console.note(f"interrupted: wrote the points solved so far to {out_dir}")
        return EXIT_INTERRUPTED
    return EXIT_OK
