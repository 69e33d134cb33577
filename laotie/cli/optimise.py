"""``laotie optimise``: choose whom a programme should target, by simulation, resumably."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..executors import add_executor_arguments

if TYPE_CHECKING:
    from ._common import Subcommands

__all__ = ["add_parser", "command"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie optimise`` to the subcommands ``sub``."""
    parser = sub.add_parser(
        "optimise",
        aliases=["optimize"],
        parents=[common],
        help="choose whom a programme should train, within a budget, by simulation",
        description=(
            "Choose a set of targets (creators to train) within a budget by greedy selection "
            "over simulated, paired gains (common random numbers), then compare it with the "
            "sets a planner would pick by rule of thumb (most followers, most rural, random, "
            "equal per region) on fresh replications that played no part in choosing it. "
            "Every evaluation is stored under DIR/evaluations as it finishes: running the "
            "same command again resumes. See docs/policy.md."
        ),
        epilog=(
            "example spec (optimise.toml):\n"
            '  scenario = "poverty_county"\n  scale = 0.05\n  seed = 1\n'
            '  objective = "producer_net_total"\n  budget = 10\n'
            "  replications = 8             # per set while choosing\n"
            "  fresh = 16                   # per policy in the comparison\n"
            '  [set]\n  "training.day" = 30\n\n'
            "example:\n  laotie optimise optimise.toml --out out/optimise --workers 2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", type=Path, help="the policy-design spec (TOML)")
    parser.add_argument(
        "--out", metavar="DIR", type=Path, help="results folder (default: out/optimise/SPEC)"
    )
    add_executor_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the spec into its folder, print the picks and the comparison."""
    from ..executors import executor_for
    from ..policy import load_optimise, run_optimise
    from ._common import memory_per_run

    spec = load_optimise(args.spec)
    out = args.out if args.out is not None else Path("out") / "optimise" / args.spec.stem
    memory = memory_per_run([spec.scenario])
    executor = executor_for(args.workers, args.scheduler, memory_per_task=memory)
    print(
        f"Optimise {args.spec}: {spec.target} within a budget of {spec.budget:g}, objective "
        f"{spec.objective}, {spec.replications} replications per set while choosing and "
        f"{spec.fresh} fresh ones to compare ({executor.describe()}), into {out}",
        file=sys.stderr,
    )
    try:
        found = run_optimise(spec, out, executor=executor, progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"laotie: interrupted; the finished evaluations are kept in {out}/evaluations: "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    selection = found.selection
    print(f"Chosen ({selection.rule}; {selection.stopped}; {selection.evaluations} sets judged):")
    for row in selection.steps.itertuples():
        sure = "" if row.p_best != row.p_best else f", p_best {row.p_best:.2f}"
        print(
            f"  {row.step}. {row.target}: gain {row.gain:+.4g} "
            f"[{row.gain_low:+.4g}, {row.gain_high:+.4g}]{sure}"
        )
    table = found.table
    print(f"On {spec.fresh} fresh replications, against the best heuristic (95 % paired):")
    for row in table.itertuples():
        against = (
            "the best heuristic"
            if row.difference_low != row.difference_low  # NaN: the baseline itself
            else f"difference {row.difference:+.4g} [{row.difference_low:+.4g}, "
            f"{row.difference_high:+.4g}]"
        )
        print(
            f"  {row.policy:<16} {row.targets:>4} targets  mean {row.mean:.4g} "
            f"[{row.mean_low:.4g}, {row.mean_high:.4g}]  {against}"
        )
    print(f"results in {out}: steps.csv, comparison.csv, values.csv, sets.json")
    return 0
