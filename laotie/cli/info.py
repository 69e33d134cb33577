"""``laotie params`` and ``laotie info``: what a scenario sets, and what is installed."""

from __future__ import annotations

import argparse
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from .._version import __version__
from ._common import load_scenario

if TYPE_CHECKING:
    from ._common import Subcommands

__all__ = ["add_parsers", "info_command", "params_command"]


def add_parsers(sub: Subcommands, common: argparse.ArgumentParser) -> None:
    """Add ``laotie params`` and ``laotie info`` to the subcommands ``sub``."""
    params = sub.add_parser(
        "params",
        parents=[common],
        help="print a scenario's parameters: value, default, unit, allowed range, source",
        description=(
            "Print every parameter of a scenario; changed values are marked with *. The source "
            "column says where a default comes from: ids such as T11 or D6 are the calibration "
            "targets and source facts of docs/sources.md."
        ),
        epilog="examples:\n  laotie params village\n  laotie params models/county/scenario.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    params.add_argument("scenario", help="a scenario file (.toml) or a shipped scenario's name")
    params.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[])
    params.set_defaults(run=params_command)

    info = sub.add_parser(
        "info",
        parents=[common],
        help="print the versions of laotie and its dependencies",
        description="Print the versions of laotie, Python and the libraries it uses.",
        epilog="example:\n  laotie info",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    info.set_defaults(run=info_command)


def params_command(args: argparse.Namespace) -> int:
    """``laotie params``: print every parameter of a scenario."""
    scenario = load_scenario(args.scenario, 1.0, args.overrides)
    table = scenario.parameter_table()
    rows = [
        [
            row.key,
            ("*" if row.changed else " ") + str(row.value),
            str(row.default),
            row.unit,
            row.allowed,
            row.source,
        ]
        for row in table.itertuples()
    ]
    header = ["key", " value", "default", "unit", "allowed", "source"]
    widths = [min(40, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]
    print(
        f"Scenario {scenario.name!r}: {scenario.city.n_residents:,} residents in "
        f"{len(scenario.city.regions)} regions (* = changed from the default)"
    )
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def info_command(args: argparse.Namespace) -> int:
    """``laotie info``: print the versions of laotie, Python and the libraries it uses."""
    print(f"laotie      {__version__}")
    print(f"python      {platform.python_version()} ({sys.executable})")
    for name in ("numpy", "numba", "llvmlite", "scipy", "networkx", "mesa", "pandas", "matplotlib"):
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "not installed"
        print(f"{name:<11} {found}")
    return 0
