"""The ``laotie`` command: one module per subcommand, each adding its parser and its command.

Every subcommand has ``--help`` with an example. Bad input ends with one line on stderr
(``laotie: error: ...``) and exit status 2; ``--debug`` shows the traceback instead. Files
are written only where ``--out`` says, never over an existing file without ``--force``.

=============== ==================================================================
module          subcommand
=============== ==================================================================
``graph``       ``laotie graph``: build or load a trust graph, print its statistics
``run``         ``laotie run``: simulate replications of a scenario
``validate``    ``laotie validate``: a scenario's moments against the calibration targets
``calibrate``   ``laotie calibrate``: a posterior given the targets (sbi), resumable
``sweep``       ``laotie sweep``: a parameter sweep, resumable
``sensitivity`` ``laotie sensitivity``: Sobol or Morris indices (SALib)
``experiment``  ``laotie experiment``: the experiments of ``experiments/``
``audit``       ``laotie audit``: what drives an experiment's headline outcomes
``dashboard``   ``laotie dashboard``: the dashboard, served on localhost (Solara)
``info``        ``laotie params`` and ``laotie info``
=============== ==================================================================
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import NoReturn

from .._version import __version__
from ..errors import LaotieError
from . import (
    audit,
    calibrate,
    dashboard,
    experiment,
    graph,
    info,
    optimise,
    run,
    sensitivity,
    sweep,
    validate,
)
from ._common import parse_overrides
from .run import format_summary

__all__ = ["format_summary", "main", "parse_overrides"]

EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``laotie`` (default: the command line's).

    Returns
    -------
    int
        The exit status: 0 on success, 1 when some runs of a sweep failed, 2 on bad input
        (one line on stderr; the traceback with ``--debug``), 130 when interrupted (Ctrl-C, or
        SIGTERM, which is handled the same way).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    args.debug = getattr(args, "debug", False)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        with _terminate_as_interrupt():
            return int(args.run(args) or 0)
    except BrokenPipeError:  # before OSError, of which it is a kind
        # The reader went away (``laotie params x | head``): not an error of ours.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except (LaotieError, OSError) as err:
        if args.debug:
            raise
        message = str(err).replace("\n", " ")
        print(f"laotie: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("laotie: interrupted", file=sys.stderr)
        return 130


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (what ``timeout``, ``kill`` and job schedulers send) handled as Ctrl-C: a sweep
    keeps its finished runs, stops its workers and says how to resume, instead of dying with
    its results half-written. Only in the main thread, where Python handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors (a flag it cannot parse, an unknown subcommand) are one
    line like laotie's own, ``laotie: error: ...``, with exit status 2; argparse would print
    the usage first. The subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            EXIT_BAD_INPUT, f"laotie: error: {message} ({self.prog} --help shows the usage)\n"
        )


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    # Typed as argparse's own, as every subcommand's module takes its subparsers.
    parser: argparse.ArgumentParser = _Parser(
        prog="laotie",
        description="laotie (老铁): simulate trust-driven and traffic-driven social commerce.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"laotie {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for module in (
        graph,
        run,
        validate,
        calibrate,
        sweep,
        sensitivity,
        optimise,
        experiment,
        audit,
        dashboard,
    ):
        module.add_parser(sub, common)
    info.add_parsers(sub, common)
    return parser
