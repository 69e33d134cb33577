"""``laotie experiment``: run one of the experiments that answer the design's questions."""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from ..executors import add_executor_arguments, executor_for
from ._common import headless, parse_overrides

if TYPE_CHECKING:
    from ..experiment import Report
    from ._common import Subcommands

__all__ = ["add_parser", "command", "short_answer"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie experiment`` to the subcommands ``sub``."""
    experiment = sub.add_parser(
        "experiment",
        parents=[common],
        help="run one of the experiments that answer the design's questions",
        description=(
            "Run an experiment of experiments/ (trust against traffic, poverty alleviation, the "
            "last mile, creator training, traffic policy, trust shocks). It writes tables (CSV "
            "and Markdown, with 95 % intervals), figures and report.md under --out; rerunning "
            "it skips the runs already stored there. --set holds a parameter at a value in "
            "every run; it is refused for a parameter the experiment varies itself (its arms, "
            "or the calibrated parameters drawn from the posterior)."
        ),
        epilog=(
            "examples:\n  laotie experiment --list\n  laotie experiment trust_vs_traffic --quick"
            "\n  laotie experiment last_mile --out out/last_mile --workers 2"
            "\n  laotie experiment last_mile --quick --set information.n_messages=3"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    experiment.add_argument("name", nargs="?", help="the experiment (see --list)")
    experiment.add_argument("--list", action="store_true", help="list the experiments")
    experiment.add_argument(
        "--quick", action="store_true", help="small scale, few replications (under a minute)"
    )
    experiment.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="results folder (default: out/NAME, or out/NAME-set-HASH with --set)",
    )
    experiment.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="hold a dotted parameter at a value in every run (repeatable; see laotie params)",
    )
    experiment.add_argument(
        "--page",
        metavar="DIR",
        type=Path,
        help="also publish the report as a generated page DIR/NAME.md, with its tables in "
        "DIR/NAME/ and figures in DIR/figures/ (stamped with the model's fingerprint: "
        "docs/experiments is published this way)",
    )
    add_executor_arguments(experiment)
    experiment.set_defaults(run=command)
    return experiment


def command(args: argparse.Namespace) -> int:
    """``laotie experiment``: list the experiments, or run one, print its findings and say
    where its full report is."""
    from ..experiment import default_out, experiment_names, load_experiment, run_experiment

    if args.list or args.name is None:
        for name in experiment_names():
            print(f"{name:<22} {load_experiment(name).QUESTION}")
        return 0
    headless()
    changes = parse_overrides(args.set)
    executor = executor_for(args.workers, args.scheduler)
    words = ["laotie", "experiment", args.name] + (["--quick"] if args.quick else [])
    for item in args.set:
        words += ["--set", item]
    if args.page is not None:
        words += ["--page", str(args.page)]
    out = args.out or default_out(args.name, changes)
    try:
        report = run_experiment(
            args.name,
            quick=args.quick,
            out=out,
            executor=executor,
            command=shlex.join(words),
            page=args.page,
            changes=changes,
        )
    except KeyboardInterrupt:
        print(
            "laotie: interrupted; the finished runs are kept: run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print(short_answer(report, out))
    return 0


def short_answer(report: Report, out: Path) -> str:
    """What the terminal shows of a report: the question, the findings in plain words and
    where the full report (its tables, figures and assumptions) is."""
    width = 100
    lines = [f"{report.name}: {report.question}", ""]
    if report.changes:
        from ..experiment import toml_value

        held = ", ".join(f"{key} = {toml_value(value)}" for key, value in report.changes.items())
        lines += textwrap.wrap(f"Changed from the shipped scenarios in every run: {held}.", width)
        lines.append("")
    for answer in (report.answer, report.answer_zh):
        for line in answer:
            lines += textwrap.wrap(line, width)
        if answer:
            lines.append("")
    for finding in report.findings:
        lines += textwrap.wrap(finding, width, initial_indent="- ", subsequent_indent="  ")
    lines += [
        "",
        f"Full report (tables, figures, assumptions): {out / 'report.md'} ({report.seconds:.0f} s)",
    ]
    return "\n".join(lines)
