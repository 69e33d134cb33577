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
        help="print a scenario's parameters: value, default, unit, allowed range, source, meaning",
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
        help="print the versions of laotie, its dependencies and optional packages",
        description=(
            "Print the versions of laotie, Python and the libraries it uses; which optional "
            "packages are installed (and the extra that installs each); and whether the "
            "compiled kernels (numba) are active."
        ),
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
            row.meaning,
        ]
        for row in table.itertuples()
    ]
    header = ["key", " value", "default", "unit", "allowed", "source", "meaning"]
    widths = [min(40, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]
    print(
        f"Scenario {scenario.name!r}: {scenario.city.n_residents:,} residents in "
        f"{len(scenario.city.regions)} regions (* = changed from the default)"
    )
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


OPTIONAL: tuple[tuple[str, str, str], ...] = (
    ("pyarrow", "parquet", "Parquet tables (CSV without it)"),
    ("SALib", "sensitivity", "laotie sensitivity (Sobol, Morris)"),
    ("distributed", "distributed", "--scheduler: sweeps on a Dask cluster"),
    ("sbi", "calibrate", "laotie calibrate"),
    ("torch", "calibrate", "laotie calibrate"),
    ("solara", "dashboard", "laotie dashboard"),
)
"""Optional packages: name, the extra of ``pip install 'laotie[EXTRA]'``, what needs it."""


def info_command(args: argparse.Namespace) -> int:
    """``laotie info``: print the versions of laotie, Python, the libraries it uses and the
    optional packages, and whether the compiled kernels are active."""
    print(f"laotie      {__version__}")
    print(f"python      {platform.python_version()} ({sys.executable})")
    for name in ("numpy", "numba", "llvmlite", "scipy", "networkx", "mesa", "pandas", "matplotlib"):
        print(f"{name:<11} {_version(name)}")
    print("\noptional packages:")
    for name, extra, used in OPTIONAL:
        print(f"{name:<11} {_version(name):<15} {used} (pip install 'laotie[{extra}]')")
    print(f"\ncompiled kernels: {_kernels()}")
    return 0


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _kernels() -> str:
    """Whether numba compiles the engine's kernels, and where it caches them."""
    from numba.core import config

    if getattr(config, "DISABLE_JIT", 0):
        return "off (NUMBA_DISABLE_JIT is set: the engine runs as plain Python, far slower)"
    cache = getattr(config, "CACHE_DIR", "") or "beside the package's modules"
    return f"on (numba {_version('numba')}; cache: {cache})"
