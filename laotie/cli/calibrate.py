"""``laotie calibrate``: a scenario's posterior given its targets (sbi's neural posterior
estimation), with synthetic recovery and a posterior predictive check."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .._io import atomic_write
from ..errors import ScenarioError
from ..executors import add_executor_arguments, executor_for
from ..scenario import scenario_path
from ._common import headless, load_scenario, memory_per_run

if TYPE_CHECKING:
    from ._common import Subcommands

__all__ = ["add_parser", "command"]

_EXAMPLE = """\
examples:
  laotie calibrate village --targets my_targets.toml --budget 200 --recover 20
  laotie calibrate mudanjiang --budget 2000 --workers 2 --recover 50 --predictive 50
  laotie calibrate mudanjiang --budget 400 --rounds 2 --workers 2 --predictive 40

The targets file (default: targets.toml beside the scenario's scenario.toml) names the moments
fitted and held out, their values, bands, standard errors, sources and grades, and the free
parameters' prior ranges: see models/mudanjiang/targets.toml and docs/calibration.md.
"""


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie calibrate SCENARIO`` to the subparsers ``sub``."""
    parser = sub.add_parser(
        "calibrate",
        parents=[common],
        help="a scenario's posterior given its real-world targets (sbi)",
        description=(
            "Calibrate a scenario to its targets (校准): draw the free parameters from their "
            "uniform prior, simulate each draw once (stored under --out/simulations as it "
            "finishes, so running the same command again resumes), train a neural posterior "
            "estimator (sbi) on the simulated moments plus the targets' standard errors, and "
            "sample the posterior at the targets' values. Writes posterior.csv, intervals.csv, "
            "calibration.json, corner.png (the posterior's pairwise marginals) and "
            "scenario.toml (the scenario with its free parameters at their posterior "
            "medians: `laotie run OUT/scenario.toml` runs it); with --recover K also "
            "recovery.csv (the machinery checked on K synthetic problems), with --predictive "
            "N also predictive.csv (every target's moment over N posterior draws, fitted and "
            "held out), with --scale-check SCALE also scales.csv. Needs "
            "pip install 'laotie[calibrate]'."
        ),
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("scenario", help="a shipped scenario's name, or a scenario file/folder")
    parser.add_argument(
        "--targets", metavar="FILE", type=Path, help="the targets file (default: beside it)"
    )
    parser.add_argument(
        "--budget", type=int, default=1000, help="prior simulations (default: 1000; ≥ 50)"
    )
    parser.add_argument(
        "--out", metavar="DIR", type=Path, help="results folder (default: out/calibrate/NAME)"
    )
    parser.add_argument("--days", type=int, help="days per simulation (default: the file's)")
    parser.add_argument(
        "--ensemble",
        metavar="K",
        type=int,
        default=5,
        help="estimators trained, their posteriors mixed (default: 5; 1 to 50)",
    )
    parser.add_argument(
        "--rounds",
        metavar="R",
        type=int,
        default=1,
        help="rounds of --budget simulations each; rounds after the first draw from the "
        "prior truncated to where the posterior so far lies (truncated sequential NPE; "
        "default: 1; 1 to 10)",
    )
    parser.add_argument(
        "--recover", metavar="K", type=int, default=0, help="synthetic problems to check (0)"
    )
    parser.add_argument(
        "--predictive", metavar="N", type=int, default=0, help="posterior predictive runs (0)"
    )
    parser.add_argument(
        "--scale-check",
        metavar="SCALE",
        type=float,
        help="also simulate 20 posterior draws at SCALE and at the file's scale, paired, and "
        "compare every moment (are they scale-free enough?)",
    )
    add_executor_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=command)
    return parser


def _targets_file(scenario: str, given: Path | None) -> Path:
    """The targets file: given, or ``targets.toml`` beside the scenario's file."""
    if given is not None:
        return given
    path = Path(scenario)
    if path.is_dir():
        return path / "targets.toml"
    if path.suffix == ".toml":
        return path.parent / "targets.toml"
    shipped = scenario_path(scenario)
    if shipped is None:
        raise ScenarioError(f"calibrate: no scenario {scenario!r} (and no --targets FILE)")
    candidate = shipped.parent / "targets.toml"
    if not candidate.is_file():
        raise ScenarioError(
            f"calibrate: the scenario {scenario!r} has no targets file ({candidate}); give "
            f"--targets FILE (see models/mudanjiang/targets.toml)"
        )
    return candidate


def command(args: argparse.Namespace) -> int:
    """``laotie calibrate SCENARIO [--targets FILE] [--budget N] [--out DIR] ...``."""
    from ..calibrate import calibrate, load_targets, recover
    from ..calibrate.plots import write_corner

    for flag, value, least in (
        ("--budget", args.budget, 50),
        ("--recover", args.recover, 0),
        ("--predictive", args.predictive, 0),
        ("--workers", args.workers, 1),
        ("--ensemble", args.ensemble, 1),
        ("--rounds", args.rounds, 1),
    ):
        if value < least:
            raise ScenarioError(f"{flag} {value}: expected an integer ≥ {least}")
    if args.ensemble > 50:
        raise ScenarioError(f"--ensemble {args.ensemble}: expected an integer from 1 to 50")
    if args.rounds > 10:
        raise ScenarioError(f"--rounds {args.rounds}: expected an integer from 1 to 10")
    if args.scale_check is not None and not args.scale_check > 0:
        raise ScenarioError(f"--scale-check {args.scale_check}: expected a number > 0")
    if args.days is not None and args.days < 1:
        raise ScenarioError(f"--days {args.days}: expected an integer ≥ 1")
    targets = load_targets(_targets_file(args.scenario, args.targets))
    if args.days is not None:
        targets.check_days(args.days, "--days")
    # The scenario named on the command line, at the targets file's scale.
    unscaled = load_scenario(args.scenario, 1.0, [])
    base = load_scenario(args.scenario, targets.scale, [])
    if base.to_dict() != targets.scenario.to_dict():
        print(
            f"note: calibrating {args.scenario!r}, not the scenario the targets file names "
            f"({targets.scenario.name!r})",
            file=sys.stderr,
        )
    if args.predictive > 1000:
        raise ScenarioError(f"--predictive {args.predictive}: expected at most 1000 (the draws)")
    targets = dataclasses.replace(targets, scenario=base, base=unscaled)
    name = Path(args.scenario).stem if Path(args.scenario).suffix else Path(args.scenario).name
    out = args.out if args.out is not None else Path("out") / "calibrate" / name
    memory = memory_per_run([targets.scenario])
    executor = executor_for(args.workers, args.scheduler, memory_per_task=memory)
    print(
        f"calibrating {args.scenario} at scale {targets.scale} ({targets.days} days per run) "
        f"against {targets.path}: {len(targets.free)} free parameters, "
        f"{len(targets.fitted())} fitted and {len(targets.held_out())} held-out targets; "
        f"{args.budget} simulations"
        + (f" in each of {args.rounds} rounds" if args.rounds > 1 else "")
        + f" on {executor.describe()}, into {out}",
        file=sys.stderr,
    )
    start = time.perf_counter()
    progress = not args.quiet
    try:
        c = calibrate(
            targets,
            args.budget,
            out,
            executor=executor,
            days=args.days,
            ensemble=args.ensemble,
            rounds=args.rounds,
            progress=progress,
        )
        written = [out / "posterior.csv", out / "calibration.json"]
        # The checks' simulations depend on the posterior, which another number of rounds
        # changes: each number of rounds keeps its own.
        checks = out if args.rounds == 1 else out / f"round_{args.rounds}"
        intervals = c.intervals(0.9)
        atomic_write(out / "intervals.csv", lambda p: intervals.to_csv(p, index=False))
        written.append(out / "intervals.csv")
        calibrated = c.scenario()
        header = (
            f"# Written by `laotie calibrate {args.scenario} --budget {args.budget} --rounds "
            f"{args.rounds}`: the scenario\n# with its free parameters at their posterior "
            f"medians; posterior.csv holds the draws.\n\n"
        )
        atomic_write(
            out / "scenario.toml",
            lambda p: p.write_text(header + calibrated.to_toml(), encoding="utf-8"),
        )
        headless()
        written += [
            out / "scenario.toml",
            write_corner(c.posterior, targets.free, out / "corner.png"),
        ]
        total = args.budget * args.rounds
        print(f"\n90 % posterior intervals ({c.used} of {total} simulations used):")
        print(intervals.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        bands, kept = c.prior_check(0.9)
        atomic_write(out / "prior_check.csv", lambda p: kept.to_csv(p, index=False))
        written.append(out / "prior_check.csv")
        print(
            "\nthe bands alone, by rejection over the first round's prior simulations: "
            + ", ".join(f"{row.id} inside in {row.inside:.0%}" for row in bands.itertuples())
            + f" of {int(bands['runs'].iloc[0])}; every fitted moment inside in "
            f"{int(kept['accepted'].iloc[0])}, whose 90 % ranges follow (a width near 0.9 of "
            f"the prior's: the bands hardly constrain it); then the 90 % ranges of all of "
            f"them weighted by their moments' closeness to the targets at their standard "
            f"errors (what the estimator approximates; effective sample "
            f"{kept['weighted_n'].iloc[0]:.0f}):"
        )
        shown = kept.drop(columns="weighted_n").rename(
            columns=lambda c: c.replace("weighted_", "w_").replace("relative_width", "width")
        )
        print(shown.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        if args.recover:
            r = recover(c, args.recover, checks / "recovery", executor=executor, progress=progress)
            atomic_write(out / "recovery.csv", lambda p: r.problems.to_csv(p, index=False))
            written.append(out / "recovery.csv")
            print(
                f"\nsynthetic recovery over {r.usable} problems ({args.recover} drawn; those "
                f"with a fitted moment undefined skipped): 90 % intervals cover the truth in "
                f"{100 * r.coverage():.0f} % of parameter-problem pairs"
            )
            print(r.summary().to_string(index=False, float_format=lambda x: f"{x:.3g}"))
        if args.predictive:
            table = c.predictive(
                args.predictive, checks / "predictive", executor=executor, progress=progress
            )
            atomic_write(out / "predictive.csv", lambda p: table.to_csv(p, index=False))
            written.append(out / "predictive.csv")
            print(f"\nposterior predictive moments over {args.predictive} runs:")
            print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
            for role in ("fit", "held_out"):
                part = table[table.role == role]
                print(f"inside band ({role}): {int(part.inside.sum())} of {len(part)} moments")
        if args.scale_check is not None:
            pair = (targets.scale, args.scale_check)
            scales = c.scale_check(
                pair, 20, checks / "scales", executor=executor, progress=progress
            )
            atomic_write(out / "scales.csv", lambda p: scales.to_csv(p, index=False))
            written.append(out / "scales.csv")
            print(f"\nmoments at scales {pair[0]:g} and {pair[1]:g} (20 paired runs):")
            print(scales.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    except KeyboardInterrupt:
        print(
            f"laotie: interrupted; the finished simulations are kept in {out}: run the same "
            f"command again to resume",
            file=sys.stderr,
        )
        return 130
    print(f"\nDone in {time.perf_counter() - start:.0f} s; results in {out}")
    print("  " + ", ".join(p.name for p in written))
    return 0
