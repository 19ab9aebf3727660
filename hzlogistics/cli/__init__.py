"""The ``hzlogistics`` command line: plan, validate, compare, init, countries, data, sweep.

Exit codes: 0 done, 1 internal error, 2 bad input (one clear message, no
traceback), 3 infeasible (with the conflicting constraints), 130 interrupted.

The command line only parses arguments, shows progress and turns errors into
exit codes; the work is done by :mod:`hzlogistics.plan`,
:mod:`hzlogistics.report` and the other modules, which a notebook may call
directly. The package is split by concern:

- :mod:`~hzlogistics.cli.console`: exit codes, terminal output, the live solve display;
- :mod:`~hzlogistics.cli.args`: flags and scenario files to a checked scenario and outputs;
- :mod:`~hzlogistics.cli.commands`: one function per command;
- :mod:`~hzlogistics.cli.main`: the parser and :func:`main`.
"""

from hzlogistics.cli.args import own_data_scenario
from hzlogistics.cli.console import (
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    summary_text,
    terminal_text,
)
from hzlogistics.cli.main import build_parser, main

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INFEASIBLE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "build_parser",
    "main",
    "own_data_scenario",
    "summary_text",
    "terminal_text",
]
