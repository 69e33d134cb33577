"""``laotie dashboard``: serve the dashboard on localhost (:func:`laotie.dashboard.serve`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..errors import ScenarioError
from ._common import parse_overrides

if TYPE_CHECKING:
    from ._common import Subcommands

__all__ = ["add_parser", "command"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie dashboard`` to the subcommands ``sub``."""
    from ..dashboard.controls import DEFAULT_KEYS, MAX_RESIDENTS

    dashboard = sub.add_parser(
        "dashboard",
        parents=[common],
        help="serve the dashboard: move parameters, run day by day, compare two policies",
        description=(
            "Serve a page on localhost where you pick a scenario, move its parameters "
            "(sliders written from their declarations: range, unit, meaning), run it day by "
            "day or to the end and watch conversion and order value (客单价) by channel, GMV, "
            "repeat orders, producers' income and the reach of government messages; or compare "
            "two policies over replications with 95 %% intervals. The numbers come mostly from "
            "assumed parameters (only mudanjiang_calibrated sets 18 by calibration). Needs pip "
            "install 'laotie[dashboard]'."
        ),
        epilog=(
            "examples:\n"
            "  laotie dashboard\n"
            "  laotie dashboard county --port 8800\n"
            "  laotie dashboard mudanjiang --scale 0.004 --no-browser\n"
            "  laotie dashboard village --set producers.n_producers=50 "
            "--show producers.income_share"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dashboard.add_argument(
        "scenario",
        nargs="?",
        default="village",
        help="the scenario shown first: a shipped scenario's name or a scenario file "
        "(default: village); others are picked on the page",
    )
    dashboard.add_argument(
        "--scale",
        type=float,
        default=None,
        help=f"population scale of that scenario (default: 1, or less to keep the city at "
        f"{MAX_RESIDENTS:,} residents)",
    )
    dashboard.add_argument(
        "--seed", type=int, default=None, help="seed of the runs (default: the scenario's)"
    )
    dashboard.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="change a parameter of that scenario, e.g. --set policy.traffic=head (repeatable)",
    )
    dashboard.add_argument(
        "--show",
        dest="keys",
        metavar="KEY",
        action="append",
        default=[],
        help="also show this parameter's widget, e.g. --show creators.authenticity_mean "
        f"(repeatable; shown by default: {', '.join(DEFAULT_KEYS)})",
    )
    dashboard.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port to serve on; 0 picks a free one (default: 8765)",
    )
    dashboard.add_argument(
        "--host", default="localhost", help="address to listen on (default: localhost)"
    )
    dashboard.add_argument(
        "--no-browser",
        dest="browser",
        action="store_false",
        help="do not open the page in a browser",
    )
    dashboard.set_defaults(run=command)
    return dashboard


def command(args: argparse.Namespace) -> int:
    """``laotie dashboard``: check the settings and serve the page until Ctrl-C."""
    from ..dashboard import serve
    from ..dashboard.controls import DEFAULT_KEYS

    if not 0 <= args.port <= 65535:
        raise ScenarioError(f"--port {args.port}: expected a port from 0 to 65535")
    if args.seed is not None and args.seed < 0:
        raise ScenarioError(f"--seed {args.seed}: expected an integer ≥ 0")
    keys = [*DEFAULT_KEYS, *(key for key in args.keys if key not in DEFAULT_KEYS)]
    serve(
        args.scenario,
        scale=args.scale,
        keys=keys,
        seed=args.seed,
        changes=parse_overrides(args.overrides),
        host=args.host,
        port=args.port,
        open_browser=args.browser,
    )
    return 0
