"""``laotie optimise``: choose whom a programme should target, or how far to turn a scenario's
levers, by simulation, resumably."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..executors import add_executor_arguments

if TYPE_CHECKING:
    from ..policy import Optimised, OptimiseSpec, Tuned
    from ._common import Subcommands

__all__ = ["add_parser", "command"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie optimise`` to the subcommands ``sub``."""
    parser = sub.add_parser(
        "optimise",
        aliases=["optimize"],
        parents=[common],
        help="choose whom a programme should train, or how far to turn levers, by simulation",
        # The raw formatter keeps the epilog's spec as written; the description is wrapped here.
        description="\n\n".join(
            textwrap.fill(paragraph, 88)
            for paragraph in (
                'target = "train": choose a set of targets (creators to train) within a budget '
                "by greedy selection over simulated, paired gains (common random numbers), then "
                "compare it with the sets a planner would pick by rule of thumb (most "
                "followers, most rural, random, equal per region) on fresh replications that "
                "played no part in choosing it.",
                'target = "operators": the same for regions whose government accounts\' '
                "operators are trained on information.training_day (which counties' media "
                "centres a programme trains), with an objective such as "
                "information_rural_reach.",
                'target = "seeds": the same for residents (node ids) told every government '
                "message on its posting day (信息员: seeds of the message's cascade), with the "
                "most trusted (followers: who trusts them through local and city ties) as the "
                "most-followed heuristic.",
                'target = "enrol": the same for rural residents enrolled as poor producers in a '
                "精准扶贫 programme (their specialties listed online by producers.channel and "
                "producers.recruit), with an objective such as producer_net_total.",
                'target = "levers": search numeric parameters within ranges with optuna (TPE; '
                "NSGA-II and a Pareto front for several objectives), then compare the best "
                "setting (or the front) with the scenario's own on fresh replications.",
                "Every evaluation is stored under DIR/evaluations as it finishes: running the "
                "same command again resumes. See docs/policy.md.",
            )
        ),
        epilog=(
            "example spec (optimise.toml):\n"
            '  scenario = "poverty_county"\n  scale = 0.05\n  seed = 1\n'
            '  objective = "producer_net_total"\n  budget = 10\n'
            "  replications = 8             # per set while choosing\n"
            "  fresh = 16                   # per policy in the comparison\n"
            '  [set]\n  "training.day" = 30\n\n'
            "example levers spec (levers.toml; needs optuna: pip install 'laotie[policy]'):\n"
            '  scenario = "poverty_county"\n  scale = 0.05\n  seed = 1\n'
            '  target = "levers"\n'
            '  objective = "producer_net_total"  # or { producer_net_total = "maximize",\n'
            '                                    #       creator_income_gini = "minimize" }\n'
            "  trials = 16                  # settings tried (default 40)\n"
            "  batch = 4                    # trials asked together (default 4)\n"
            "  replications = 4             # per trial\n"
            "  fresh = 8                    # per setting in the comparison\n"
            "  [levers]                     # dotted keys and [low, high]\n"
            '  "policy.head_cap" = [0.1, 0.6]\n'
            '  "policy.discovery_per_active" = [0.0, 2.0]\n\n'
            "examples:\n  laotie optimise optimise.toml --out out/optimise --workers 2\n"
            "  laotie optimise levers.toml --out out/levers --workers 2"
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
    if spec.target == "levers":
        what = (
            f"levers {', '.join(lever.key for lever in spec.checked_levers)} over "
            f"{spec.trials} trials in batches of {spec.batch}, objective {spec.objective}, "
            f"{spec.replications} replications per trial"
        )
    else:
        what = (
            f"{spec.target} within a budget of {spec.budget:g}, objective {spec.objective}, "
            f"{spec.replications} replications per set while choosing"
        )
    print(
        f"Optimise {args.spec}: {what} and {spec.fresh} fresh ones to compare "
        f"({executor.describe()}), into {out}",
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
    from ..policy import Tuned

    if isinstance(found, Tuned):
        _print_levers(spec, found, out)
    else:
        _print_train(spec, found, out)
    return 0


def _print_train(spec: OptimiseSpec, found: Optimised, out: Path) -> None:
    """The picks and the comparison with the heuristics."""
    import json

    from .._io import reading

    selection = found.selection
    # Regions are chosen by index: their names are in sets.json.
    with reading(out / "sets.json", hint=f"; delete {out} to start over"):
        stored = json.loads((out / "sets.json").read_text(encoding="utf-8"))
    names = stored.get("names", {}) if isinstance(stored, dict) else {}
    print(f"Chosen ({selection.rule}; {selection.stopped}; {selection.evaluations} sets judged):")
    for row in selection.steps.itertuples():
        sure = "" if row.p_best != row.p_best else f", p_best {row.p_best:.2f}"
        target = f"{names[str(row.target)]} ({row.target})" if names else row.target
        print(
            f"  {row.step}. {target}: gain {row.gain:+.4g} "
            f"[{row.gain_low:+.4g}, {row.gain_high:+.4g}]{sure}"
        )
    table = found.table
    print(f"On {spec.fresh} fresh replications, against the best heuristic (95 % paired):")
    for row in table.itertuples():
        against = _against(row, "the best heuristic")
        print(
            f"  {row.policy:<16} {row.targets:>4} targets  mean {row.mean:.4g} "
            f"[{row.mean_low:.4g}, {row.mean_high:.4g}]  {against}"
        )
    print(f"results in {out}: steps.csv, comparison.csv, values.csv, sets.json")


def _against(row: Any, baseline: str) -> str:
    """A comparison row's paired difference from the baseline, or the baseline's own name."""
    if row.difference_low != row.difference_low:  # NaN: the baseline itself
        return baseline
    return (
        f"difference {row.difference:+.4g} [{row.difference_low:+.4g}, {row.difference_high:+.4g}]"
    )


def _print_levers(spec: OptimiseSpec, found: Tuned, out: Path) -> None:
    """The best setting (or the Pareto front) and its comparison with the scenario's own."""
    trials = found.trials
    names = list(found.directions)
    chosen = trials[trials["chosen"]]
    keys = [lever.key for lever in found.levers]
    integer = {lever.key: lever.integer for lever in found.levers}

    def setting(row: dict) -> str:
        return ", ".join(
            f"{key} = {int(row[key])}" if integer[key] else f"{key} = {row[key]:.4g}"
            for key in keys
        )

    def objectives(row: dict) -> str:
        return "; ".join(
            f"{name} {row[name]:.4g} [{row[f'{name}_low']:.4g}, {row[f'{name}_high']:.4g}]"
            for name in names
        )

    if len(names) == 1:
        print(f"Best of {len(trials)} trials ({names[0]}, {found.directions[names[0]]}d):")
    else:
        directions = ", ".join(f"{name} {d}d" for name, d in found.directions.items())
        print(f"Pareto front, {len(chosen)} of {len(trials)} trials ({directions}):")
    for row in chosen.to_dict("records"):
        print(f"  trial {row['trial']}: {setting(row)}  ({objectives(row)})")
    baseline = found.settings["baseline"]
    print(
        f"On {spec.fresh} fresh replications, against the scenario's own setting "
        f"({setting(baseline)}; 95 % paired):"
    )
    for row in found.table.itertuples():
        against = _against(row, "the scenario's own")
        print(
            f"  {row.setting:<10} {row.objective}  mean {row.mean:.4g} "
            f"[{row.mean_low:.4g}, {row.mean_high:.4g}]  {against}"
        )
    print(f"results in {out}: trials.csv, comparison.csv, values.csv, settings.json")
