"""``laotie sensitivity``: Sobol or Morris sensitivity of an output to a scenario's parameters."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..executors import add_executor_arguments, executor_for
from ._common import headless, memory_per_run

if TYPE_CHECKING:
    from ._common import Subcommands

__all__ = ["add_parser", "command"]

_EXAMPLE = """\
example spec (trust_traffic.toml):
  scenario = "county"
  method = "sobol"          # or "morris" (screening: fewer runs)
  samples = 16              # Sobol: N, a power of 2; Morris: trajectories
  output = "trust_traffic_conversion_ratio"
  replications = 1
  days = 30
  seed = 1
  [parameters]
  "decision.trust_weight" = [3.0, 7.0]
  "policy.reach" = [0.1, 0.5]
  "storefronts.trust" = []   # [] : the declared range (0 to 1)

examples:
  laotie sensitivity experiments/sensitivity/trust_traffic.toml --out out/sensitivity
  laotie sensitivity trust_traffic.toml --out out/tt --workers 2
"""


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie sensitivity SPEC --out DIR`` to the subparsers ``sub``."""
    parser = sub.add_parser(
        "sensitivity",
        parents=[common],
        help="Sobol or Morris sensitivity of an output to a scenario's parameters (SALib)",
        description=(
            "Global sensitivity analysis (敏感性分析): sample a spec's [parameters] within "
            "their ranges (Sobol or Morris, SALib), run every point with its replications "
            "(common random numbers), and estimate how much of an output, e.g. the trust "
            "(老铁) / traffic conversion ratio, each parameter explains. Writes indices.csv, "
            "indices.md, points.csv and sensitivity.png under --out; the runs are stored under "
            "--out/sweep, so running the same command again resumes."
        ),
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", type=Path, help="the sensitivity spec (TOML)")
    parser.add_argument("--out", metavar="DIR", type=Path, required=True, help="results folder")
    add_executor_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """``laotie sensitivity SPEC --out DIR [--workers N] [--scheduler ADDRESS] [--quiet]``."""
    from ..sensitivity import load_sensitivity, run_sensitivity

    headless()
    spec = load_sensitivity(args.spec)
    memory = memory_per_run([spec.base])
    executor = executor_for(args.workers, args.scheduler, memory_per_task=memory)
    print(f"{spec.describe()}; on {executor.describe()}, into {args.out}", file=sys.stderr)
    start = time.perf_counter()
    try:
        result = run_sensitivity(spec, args.out, executor=executor, progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"laotie: interrupted; the finished runs are kept in {args.out}/sweep: run the "
            f"same command again to resume",
            file=sys.stderr,
        )
        return 130
    written = result.write(args.out)
    print(result.markdown())
    print(f"Done in {time.perf_counter() - start:.0f} s; results in {args.out}")
    print("  " + ", ".join(p.name for p in written))
    return 0
