"""``laotie params`` and ``laotie info``: what a scenario sets, and what is installed."""

from __future__ import annotations

import argparse
import itertools
import platform
import shutil
import sys
import textwrap
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from .. import _numba_cache
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
    scenario = load_scenario(args.scenario, 1.0, args.overrides, simulate=False)
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
    city = (
        f"the graph {scenario.graph.file}, mapped by graph.*"
        if scenario.graph.file
        else f"{scenario.city.n_residents:,} residents in {len(scenario.city.regions)} regions"
    )
    print(f"Scenario {scenario.name!r}: {city} (* = changed from the default)")
    if not sys.stdout.isatty():  # one line per parameter, for grep and cut
        for line in table_lines([header, *rows]):
            print(line)
        return 0
    # On a terminal: the other columns wrapped to its width, each meaning below its row.
    width = shutil.get_terminal_size().columns
    rows = [header, *rows]
    indent = " " * 4
    for row, lines in zip(rows, wrapped_rows([r[:-1] for r in rows], width, 3), strict=True):
        print("\n".join(lines))
        print(textwrap.fill(row[-1], width, initial_indent=indent, subsequent_indent=indent))
    return 0


def table_lines(rows: list[list[str]]) -> list[str]:
    """Rows of text cells as aligned lines, one line per row (for ``grep`` and ``cut``; columns
    padded to at most 40 characters).

    Parameters
    ----------
    rows : list of list of str
        The header first.

    Returns
    -------
    list of str
    """
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def wrapped_rows(rows: list[list[str]], width: int, wrap_from: int = 0) -> list[list[str]]:
    """Each row's aligned lines, every cell wrapped within its column so that a line fits
    ``width`` characters: the widest of the columns from ``wrap_from`` on give way first, to
    no less than 10 characters, then (on a narrow terminal) the others, to 6.

    Parameters
    ----------
    rows : list of list of str
    width : int
    wrap_from : int, default 0
        The first column that wraps before the others do (``laotie params``: the unit, the
        allowed values and the source; the key and values keep their width).

    Returns
    -------
    list of list of str
        One list of lines per row.
    """
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for first, floor in ((wrap_from, 10), (0, 6)):
        while sum(widths) + 2 * (len(widths) - 1) > width:
            widest = max(range(first, len(widths)), key=lambda i: widths[i])
            if widths[widest] <= floor:
                break
            widths[widest] -= 1
    out = []
    for r in rows:
        cells = [textwrap.wrap(c, w) or [""] for c, w in zip(r, widths, strict=True)]
        out.append(
            [
                "  ".join(c.ljust(w) for c, w in zip(parts, widths, strict=True)).rstrip()
                for parts in itertools.zip_longest(*cells, fillvalue="")
            ]
        )
    return out


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
    if _numba_cache.caching_off:
        cache = "off, no folder can be written: each process compiles them"
    else:
        cache = getattr(config, "CACHE_DIR", "") or "beside the package's modules"
    return f"on (numba {_version('numba')}; cache: {cache})"
