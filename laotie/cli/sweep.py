"""``laotie sweep``: run a parameter sweep, resumable, and compare its arms."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..executors import add_executor_arguments

if TYPE_CHECKING:
    import pandas as pd

    from ._common import Subcommands

__all__ = ["add_parser", "command"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie sweep`` to the subcommands ``sub``."""
    sweep = sub.add_parser(
        "sweep",
        parents=[common],
        help="run a parameter sweep (grid, samples, cases; replications), resumable",
        description=(
            "Run every point of a sweep spec ([grid] combinations x [sample] points x "
            "[[cases]]) with its replications. Replication r of every point shares its random "
            "numbers (common_random_numbers = true, the default), so the arms are compared by "
            "paired differences (comparison.csv). Each run is stored under DIR/runs as it "
            "finishes; running the same command again skips the runs already done, so an "
            "interrupted sweep resumes where it stopped. See docs/many_runs.md."
        ),
        epilog=(
            "example spec (sweep.toml):\n"
            '  scenario = "village"\n  days = 30\n  seed = 1\n  replications = 3\n'
            '  [grid]\n  "policy.traffic" = ["head", "inclusive"]\n\n'
            "to sample points within bounds as well, add at the top level\n"
            '  samples = 8\n  method = "lhs"             # or "sobol", "random"\n'
            "and the table\n"
            '  [sample]\n  "decision.trust_weight" = [1.0, 6.0]\n'
            '  "creators.post_prob" = []   # [] = the declared bounds\n\n'
            "example:\n  laotie sweep sweep.toml --out out/sweep --workers 2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sweep.add_argument("spec", type=Path, help="the sweep spec (TOML)")
    sweep.add_argument("--out", metavar="DIR", type=Path, required=True, help="results folder")
    add_executor_arguments(sweep)
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(run=command)
    return sweep


def command(args: argparse.Namespace) -> int:
    """``laotie sweep``: run a sweep spec's runs not yet stored, compare the arms."""
    from .._io import atomic_write
    from ..executors import executor_for
    from ..sweep import failures, load_sweep, run_sweep
    from ..sweep.store import claim
    from ._common import memory_per_run, refuse_api_only

    spec = load_sweep(args.spec)
    # A choice for the Python API only, in the base scenario or a point, before any run.
    for point in [{}, *spec.points()]:
        refuse_api_only(
            spec.base.replace(**point), f"{args.spec} (scenario)", point, f"{args.spec}:"
        )
    # Each worker builds its own city: only the points that change the city can need more.
    cities = [p for p in spec.points() if any(key.startswith("city.") for key in p)]
    memory = memory_per_run([spec.base, *(spec.base.replace(**p) for p in cities)])
    executor = executor_for(args.workers, args.scheduler, memory_per_task=memory)
    total = len(spec.runs())
    # The output folder first (one of another sweep or of other files, or a file, is refused
    # before any line about the sweep), as run_sweep would claim it.
    claim(args.out, spec)
    print(
        f"Sweep {args.spec}: {total} runs {_where(executor.describe())}, into {args.out}",
        file=sys.stderr,
    )
    try:
        result = run_sweep(spec, args.out, executor=executor, progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"laotie: interrupted; the finished runs are kept in {args.out}/runs: run the "
            f"same command again to resume",
            file=sys.stderr,
        )
        return 130
    written = result.write()
    table = result.runs
    arms = table["point"].nunique()
    if arms > 1 and spec.replications > 1 and (table["status"] == "ok").any():
        comparison = result.comparisons()
        path = args.out / "comparison.csv"
        atomic_write(path, lambda p: comparison.to_csv(p, index=False))
        written.append(path)
        _print_comparison(comparison, spec.common_random_numbers)
    failed = failures(table)
    print(f"{(table['status'] == 'ok').sum()} of {total} runs done; results in {args.out}")
    print("  " + ", ".join(p.name for p in written))
    if len(failed):
        print(f"{len(failed)} run(s) failed:")
        for row in failed.itertuples():
            print(f"  run {row.run}: {row.error}")
        return 1
    return 0


def _print_comparison(comparison: pd.DataFrame, paired: bool) -> None:
    kind = "paired (common random numbers)" if paired else "Welch (independent runs)"
    print(f"Differences from the first arm, 95 % {kind} intervals:")
    for row in comparison.itertuples():
        if math.isnan(row.difference_low):
            continue
        name = f"{row.metric}[{row.channel}]" if row.channel else row.metric
        print(
            f"  {name:<28} {row.arm}: {row.difference:+.4g} "
            f"[{row.difference_low:+.4g}, {row.difference_high:+.4g}]"
        )


def _where(described: str) -> str:
    """``"on 2 worker processes"``, or ``"in this process"`` as it is."""
    return described if described.startswith("in ") else f"on {described}"
