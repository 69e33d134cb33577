"""``laotie audit``: which parameters drive each headline outcome of an experiment."""

from __future__ import annotations

import argparse
import functools
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from .._io import atomic_write
from ..errors import LaotieError
from ..executors import add_executor_arguments, executor_for

if TYPE_CHECKING:
    from ._common import Subcommands

__all__ = ["add_parser", "command"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie audit EXPERIMENT`` to the subparsers ``sub``."""
    parser = sub.add_parser(
        "audit",
        parents=[common],
        help="which parameters drive each headline outcome of an experiment, calibrated or assumed",
        description=(
            "Claims audit (laotie.audit): run an experiment's audit sweep (posterior draws of "
            "the calibrated parameters joined with Latin-hypercube values of the assumed ones "
            "it names), estimate each headline outcome's first-order Sobol index to each "
            "parameter from those samples (SALib), and print a verdict per outcome: driven by "
            "an assumed or a calibrated parameter (S1 at least 0.3, above what noise alone "
            "reaches in a permutation test, interval above 0), robust (no parameter does), or "
            "not determined (too few samples). Writes audit.csv "
            "and audit_drivers.csv under --out; the runs are stored under --out/audit, so the "
            "same command resumes. An experiment's full mode runs the same audit."
        ),
        epilog="examples:\n  laotie audit trust_vs_traffic --workers 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("experiment", help="an experiment with an audit (laotie experiment --list)")
    parser.add_argument(
        "--out", metavar="DIR", type=Path, help="results folder (default: out/EXPERIMENT)"
    )
    add_executor_arguments(parser)
    parser.set_defaults(run=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the audit, write its tables and print the verdicts."""
    from ..experiment import load_experiment, markdown

    module = load_experiment(args.experiment)
    if not hasattr(module, "audit"):
        raise LaotieError(
            f"experiment {args.experiment!r} has no audit yet: it has not been rebuilt on the "
            f"calibrated model (docs/experiments/{args.experiment}.md says so)"
        )
    out = args.out or Path("out") / args.experiment
    out.mkdir(parents=True, exist_ok=True)
    executor = executor_for(args.workers, args.scheduler)
    try:
        found = module.audit(False, out / "audit", executor)
    except KeyboardInterrupt:
        print(
            "laotie: interrupted; the finished runs are kept: run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    verdicts, drivers = found.verdicts, found.drivers
    for name, table in (("audit", verdicts), ("audit_drivers", drivers)):
        atomic_write(out / f"{name}.csv", functools.partial(table.to_csv, index=False))
    print(markdown(drivers))
    print()
    for _, row in verdicts.iterrows():
        print(textwrap.fill(f"{row['outcome']}: {row['verdict']}", 100, subsequent_indent="  "))
    print(f"\nTables in {out / 'audit.csv'} and {out / 'audit_drivers.csv'}")
    return 0
