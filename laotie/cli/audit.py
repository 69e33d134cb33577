"""``laotie audit``: which parameters drive each headline outcome of an experiment, or each
outcome of a finished sweep."""

from __future__ import annotations

import argparse
import functools
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._io import atomic_write
from ..errors import LaotieError
from ..executors import add_executor_arguments, executor_for

if TYPE_CHECKING:
    from ._common import Subcommands

__all__ = ["add_parser", "command"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie audit EXPERIMENT|RESULT`` to the subparsers ``sub``."""
    parser = sub.add_parser(
        "audit",
        parents=[common],
        help="which parameters, calibrated or assumed, drive an experiment's or a sweep's outcomes",
        description=(
            "Claims audit (laotie.audit): run an experiment's audit sweep (posterior draws of "
            "the calibrated parameters joined with Latin-hypercube values of the assumed ones "
            "it names), estimate each headline outcome's first-order Sobol index to each "
            "parameter from those samples (SALib), and print a verdict per outcome: driven by "
            "an assumed or a calibrated parameter (S1 at least 0.3, above what noise alone "
            "reaches in a permutation test, interval above 0), robust (no parameter does), or "
            "not determined (too few samples). Writes audit.csv "
            "and audit_drivers.csv under --out; the runs are stored under --out/audit, so the "
            "same command resumes. An experiment's full mode runs the same audit. Given a "
            "finished sweep's folder (RESULT) instead, it runs nothing: each finished run is a "
            "sample, the parameters that vary across runs (grid, sample, posterior draws) are "
            "the inputs, and the outcomes are the whole market's gmv, conversion, order_value "
            "and repeat_share and the sweep's moments, or those named by --outcomes."
        ),
        epilog=(
            "examples:\n  laotie audit trust_vs_traffic --workers 2\n"
            "  laotie sweep spec.toml --out sweep1 && laotie audit sweep1 --outcomes gmv,T4"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "experiment",
        metavar="EXPERIMENT|RESULT",
        help="an experiment with an audit (laotie experiment --list), or a sweep's folder",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="results folder (default: out/EXPERIMENT, or the sweep's folder for a RESULT)",
    )
    parser.add_argument(
        "--outcomes",
        metavar="A,B",
        help="for a RESULT: the outcomes to audit, comma-separated (default: gmv, conversion, "
        "order_value, repeat_share and the sweep's moments)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        help="for a RESULT: the bootstrap's and the null's seed, an integer ≥ 0 (default 0)",
    )
    add_executor_arguments(parser)
    parser.set_defaults(run=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the audit, write its tables and print the verdicts."""
    from ..experiment import experiment_names, load_experiment
    from ..sweep.store import SPEC_FILE

    target = Path(args.experiment)
    if target.is_dir() and (
        (target / SPEC_FILE).exists() or args.experiment not in experiment_names()
    ):
        return _result(args)
    if args.experiment not in experiment_names() and ("/" in args.experiment or target.exists()):
        raise LaotieError(f"{args.experiment}: no such sweep folder (and not an experiment)")
    for flag, value in (("--outcomes", args.outcomes), ("--seed", args.seed)):
        if value is not None:
            raise LaotieError(
                f"{flag} is for a sweep's folder; {args.experiment!r} is an experiment, which "
                f"audits its own headline outcomes with its own seed"
            )
    module = load_experiment(args.experiment)
    if not hasattr(module, "audit"):
        why = getattr(module, "NO_AUDIT", None) or (
            f"its page says why (docs/experiments/{args.experiment}.md)"
        )
        raise LaotieError(f"experiment {args.experiment!r} has no audit: {why}")
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
    _show(found, out)
    return 0


def _result(args: argparse.Namespace) -> int:
    """``laotie audit RESULT``: audit a finished sweep's runs as they are."""
    from ..audit import audit_result
    from ..sweep.store import code_fingerprint

    if args.workers != 1 or args.scheduler is not None:
        raise LaotieError("auditing a sweep's folder runs nothing: drop --workers/--scheduler")
    folder = Path(args.experiment)
    chosen = None if args.outcomes is None else [n.strip() for n in args.outcomes.split(",")]
    found, code = audit_result(folder, chosen, seed=args.seed or 0)
    if code != code_fingerprint():
        print(
            f"laotie: note: {folder}'s runs were made by other code (laotie {code}, now "
            f"{code_fingerprint()}); the audit reads them as they are",
            file=sys.stderr,
        )
    _show(found, args.out or folder)
    return 0


def _seed(text: str) -> int:
    """``--seed``: an integer ≥ 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an integer ≥ 0")
    return value


def _show(found: Any, out: Path) -> None:
    """Write the audit's tables under ``out`` and print the drivers and the verdicts."""
    from ..experiment import markdown

    out.mkdir(parents=True, exist_ok=True)
    for name, table in (("audit", found.verdicts), ("audit_drivers", found.drivers)):
        atomic_write(out / f"{name}.csv", functools.partial(table.to_csv, index=False))
    print(markdown(found.drivers))
    print()
    for _, row in found.verdicts.iterrows():
        print(textwrap.fill(f"{row['outcome']}: {row['verdict']}", 100, subsequent_indent="  "))
    print(f"\nTables in {out / 'audit.csv'} and {out / 'audit_drivers.csv'}")
