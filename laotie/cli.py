"""The ``laotie`` command.

Every subcommand has ``--help`` with an example. Bad input ends with one line on stderr
(``laotie: error: ...``) and exit status 2; ``--debug`` shows the traceback instead. Files
are written only where ``--out`` says, never over an existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import LaotieError, ScenarioError
from .executors import add_executor_arguments

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main"]

EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.debug = getattr(args, "debug", False)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:  # before OSError, of which it is a kind
        # The reader went away (``laotie params x | head``): not an error of ours.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except (LaotieError, OSError) as err:
        if args.debug:
            raise
        message = str(err).replace("\n", " ")
        print(f"laotie: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("laotie: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    parser = argparse.ArgumentParser(
        prog="laotie",
        description="laotie (老铁): simulate trust-driven and traffic-driven social commerce.",
        parents=[common],
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    graph = sub.add_parser(
        "graph",
        parents=[common],
        help="build (or load) a trust graph and print its statistics",
        description=(
            "Build a city's trust graph (同乡 local ties, 同城 city ties, follow ties to "
            "creators) from a preset, or load one from a file, and print its statistics."
        ),
        epilog=(
            "examples:\n"
            "  laotie graph --preset mudanjiang --scale 0.01 --seed 1\n"
            "  laotie graph --preset mudanjiang --scale 0.1 --set local_degree=30 "
            "--out graphs/mdj.npz\n"
            "  laotie graph --from graphs/mdj.npz\n"
            "  laotie graph --from edges.csv --nodes nodes.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = graph.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None, help="city preset to build (default: mudanjiang)")
    source.add_argument(
        "--from",
        dest="source",
        metavar="FILE",
        type=Path,
        help="load a graph instead: a .npz saved by laotie, or a CSV edge list",
    )
    graph.add_argument(
        "--nodes", metavar="FILE", type=Path, help="CSV node list to go with a CSV edge list"
    )
    graph.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="population scale of the preset; 1 is the whole city (default: 1)",
    )
    graph.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    graph.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a graph parameter, e.g. --set local_degree=30 (repeatable)",
    )
    graph.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="also save the graph: FILE.npz (lossless) or FILE.csv (edge list, plus "
        "FILE_nodes.csv)",
    )
    graph.add_argument("--force", action="store_true", help="overwrite existing output files")
    graph.set_defaults(run=_run_graph)

    run = sub.add_parser(
        "run",
        parents=[common],
        help="simulate a scenario and print conversion, order value, GMV and repeat share",
        description=(
            "Simulate a scenario (a TOML file or a shipped scenario: "
            + ", ".join(_scenario_names())
            + ") and print, per channel, conversion (转化率), order value (客单价), GMV and "
            "repeat share, with 95 % confidence intervals over replications."
        ),
        epilog=(
            "examples:\n"
            "  laotie run village\n"
            "  laotie run mudanjiang --scale 0.01 --days 60 --replications 5\n"
            "  laotie run models/county/scenario.toml --set policy.traffic=head --out out/head\n"
            "  laotie run out/head/scenario.toml        # repeats that run exactly"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("scenario", help="a scenario file (.toml) or a shipped scenario's name")
    run.add_argument("--days", type=int, help="days to simulate (default: the scenario's run.days)")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's run.seed)")
    run.add_argument("-R", "--replications", type=int, default=1, help="replications (default: 1)")
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes running the replications' engines (default: 1; same results)",
    )
    run.add_argument(
        "--scale", type=float, default=1.0, help="multiply every region's population (default: 1)"
    )
    run.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="change a parameter by its dotted key, e.g. --set policy.traffic=head (repeatable)",
    )
    run.add_argument("--out", metavar="DIR", type=Path, help="write the results to DIR")
    run.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    run.add_argument("--no-figures", action="store_true", help="do not draw figures in DIR")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(run=_run_run)

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
    sweep.set_defaults(run=_run_sweep)

    from .sensitivity import add_parser as add_sensitivity

    add_sensitivity(sub, common)

    experiment = sub.add_parser(
        "experiment",
        parents=[common],
        help="run one of the experiments that answer the design's questions",
        description=(
            "Run an experiment of experiments/ (trust against traffic, poverty alleviation, the "
            "last mile, creator training, traffic policy, trust shocks). It writes tables (CSV "
            "and Markdown, with 95 % intervals), figures and report.md under --out; rerunning "
            "it skips the runs already stored there."
        ),
        epilog=(
            "examples:\n  laotie experiment --list\n  laotie experiment trust_vs_traffic --quick"
            "\n  laotie experiment last_mile --out out/last_mile --workers 2"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    experiment.add_argument("name", nargs="?", help="the experiment (see --list)")
    experiment.add_argument("--list", action="store_true", help="list the experiments")
    experiment.add_argument(
        "--quick", action="store_true", help="small scale, few replications (under a minute)"
    )
    experiment.add_argument(
        "--out", metavar="DIR", type=Path, help="results folder (default: out/NAME)"
    )
    add_executor_arguments(experiment)
    experiment.set_defaults(run=_run_experiment)

    params = sub.add_parser(
        "params",
        parents=[common],
        help="print a scenario's parameters: value, default, unit, allowed range, source",
        description="Print every parameter of a scenario; changed values are marked with *.",
        epilog="examples:\n  laotie params village\n  laotie params models/county/scenario.toml",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    params.add_argument("scenario", help="a scenario file (.toml) or a shipped scenario's name")
    params.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[])
    params.set_defaults(run=_run_params)

    info = sub.add_parser(
        "info",
        parents=[common],
        help="print the versions of laotie and its dependencies",
        description="Print the versions of laotie, Python and the libraries it uses.",
        epilog="example:\n  laotie info",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    info.set_defaults(run=_run_info)
    return parser


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` strings; values are read as TOML (numbers, booleans, strings).

    Examples
    --------
    >>> parse_overrides(["local_degree=30", "trust_local=0.7", "name=x"])
    {'local_degree': 30, 'trust_local': 0.7, 'name': 'x'}
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE, e.g. local_degree=30")
        try:
            out[key] = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key] = text.strip()
    return out


def _run_graph(args: argparse.Namespace) -> int:
    from . import graph as lg

    outputs = _output_files(args.out) if args.out else []
    for path in outputs:
        if path.exists() and not args.force:
            raise LaotieError(f"{path} exists; pass --force to overwrite it")
    if args.source is not None:
        if args.overrides or args.scale != 1.0:
            raise ScenarioError("--set and --scale apply to --preset, not to --from FILE")
        g = _load(args.source, args.nodes)
        print(f"Loaded {args.source}: {g}", file=sys.stderr)
    else:
        if args.nodes is not None:
            raise ScenarioError("--nodes goes with --from EDGES.csv")
        spec = lg.preset_spec(
            args.preset or "mudanjiang", args.scale, **parse_overrides(args.overrides)
        )
        print(
            f"Building {args.preset or 'mudanjiang'} at scale {args.scale:g} "
            f"({spec.n_residents:,} residents, {spec.n_users:,} users), seed {args.seed} ...",
            file=sys.stderr,
        )
        start = time.perf_counter()
        g = lg.city(spec, seed=args.seed)
        print(f"Built {g} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(g.stats(seed=args.seed))
    if args.out:
        if args.out.suffix == ".npz":
            g.save(args.out)
        else:
            g.to_csv(outputs[0], outputs[1])
        print(f"Saved {', '.join(str(p) for p in outputs)}", file=sys.stderr)
    return 0


def _output_files(out: Path) -> list[Path]:
    if out.suffix == ".npz":
        return [out]
    if out.suffix == ".csv":
        return [out, out.with_name(f"{out.stem}_nodes.csv")]
    raise ScenarioError(f"--out {out}: unknown file type {out.suffix!r}; use .npz or .csv")


def _load(path: Path, nodes: Path | None) -> Any:
    from . import graph as lg

    if path.suffix == ".npz":
        if nodes is not None:
            raise ScenarioError("--nodes goes with a CSV edge list, not with a .npz file")
        return lg.load(path)
    if path.suffix == ".csv":
        return lg.read_csv(path, nodes)
    raise ScenarioError(f"--from {path}: unknown file type {path.suffix!r}; use .npz or .csv")


def _scenario_names() -> list[str]:
    from .scenario import shipped_scenarios

    return shipped_scenarios()


def _load_scenario(name: str, scale: float, overrides: Sequence[str]) -> Any:
    from .scenario import Scenario

    path = Path(name)
    if path.is_dir():
        path = path / "scenario.toml"
    if path.suffix == ".toml" or path.exists():
        scenario = Scenario.from_toml(path)
        if scale != 1.0:
            scenario = scenario.replace(city=scenario.city.scaled(scale))
    else:
        scenario = Scenario.preset(name, scale=scale)
    return scenario.replace(**parse_overrides(overrides))


def _run_run(args: argparse.Namespace) -> int:
    from .runs import replicate, write_run
    from .stats import summarise

    if args.replications < 1:
        raise ScenarioError(f"--replications {args.replications}: expected an integer ≥ 1")
    if args.workers < 1:
        raise ScenarioError(f"--workers {args.workers}: expected an integer ≥ 1")
    if args.days is not None and args.days < 0:
        raise ScenarioError(f"--days {args.days}: expected an integer ≥ 0")
    if args.out is not None and args.out.exists():
        if not args.out.is_dir():
            raise LaotieError(f"--out {args.out} exists and is not a folder")
        if any(args.out.iterdir()) and not args.force:
            raise LaotieError(f"{args.out} is not empty; pass --force to write into it")
    scenario = _load_scenario(args.scenario, args.scale, args.overrides)
    seed = scenario.run.seed if args.seed is None else args.seed
    days = scenario.run.days if args.days is None else args.days
    print(
        f"Scenario {scenario.name!r}: {scenario.city.n_residents:,} residents, "
        f"{days} days, {args.replications} replication(s), seed {seed}",
        file=sys.stderr,
    )
    start = time.perf_counter()
    results = replicate(
        scenario,
        args.replications,
        days=days,
        seed=seed,
        progress=not args.quiet,
        workers=args.workers,
    )
    print(f"Done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(format_summary(summarise(results), len(results)))
    if scenario.information.n_messages:
        print("\nGovernment messages (replication 0): coverage at the end, days to 50 % / 80 %")
        print(results[0].messages.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if args.out is not None:
        if not args.no_figures:
            import matplotlib

            # The command draws only into files: no window, whatever the environment says.
            matplotlib.use("Agg")
        written = write_run(args.out, scenario, results, seed)
        if not args.no_figures:
            from .plot import write_figures

            written += write_figures(args.out / "figures", results[0])
        print(f"Wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0


def format_summary(summary: Any, replications: int) -> str:
    """The run's table: one row per channel, a column per metric (with 95 % CIs when R > 1)."""
    names = {
        "conversion": "conversion",
        "order_value": "order value (RMB)",
        "gmv": "GMV (RMB)",
        "repeat_share": "repeat share",
    }
    formats = {
        "conversion": "{:.4f}",
        "order_value": "{:.1f}",
        "gmv": "{:,.0f}",
        "repeat_share": "{:.3f}",
    }
    rows = []
    for channel, row in summary.iterrows():
        cells = [str(channel)]
        for metric, fmt in formats.items():
            value = row[metric]
            text = "n/a" if value != value else fmt.format(value)
            if replications > 1 and value == value:
                low, high = row[f"{metric}_low"], row[f"{metric}_high"]
                if low == low:
                    text += f" [{fmt.format(low)}, {fmt.format(high)}]"
            cells.append(text)
        rows.append(cells)
    header = ["channel", *names.values()]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]
    note = "95 % confidence intervals over replications in brackets" if replications > 1 else ""
    return "\n".join(lines + ([note] if note else []))


def _run_sweep(args: argparse.Namespace) -> int:
    from ._io import atomic_write
    from .executors import executor_for
    from .sweep import failures, load_sweep, run_sweep

    executor = executor_for(args.workers, args.scheduler)
    spec = load_sweep(args.spec)
    total = len(spec.runs())
    print(
        f"Sweep {args.spec}: {total} runs on {executor.describe()}, into {args.out}",
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


def _run_params(args: argparse.Namespace) -> int:
    scenario = _load_scenario(args.scenario, 1.0, args.overrides)
    table = scenario.parameter_table()
    rows = [
        [
            row.key,
            ("*" if row.changed else " ") + str(row.value),
            str(row.default),
            row.unit,
            row.allowed,
            row.source,
        ]
        for row in table.itertuples()
    ]
    header = ["key", " value", "default", "unit", "allowed", "source"]
    widths = [min(40, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]
    print(
        f"Scenario {scenario.name!r}: {scenario.city.n_residents:,} residents in "
        f"{len(scenario.city.regions)} regions (* = changed from the default)"
    )
    for r in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _run_experiment(args: argparse.Namespace) -> int:
    from .executors import executor_for
    from .experiment import experiment_names, load_experiment, run_experiment

    if args.list or args.name is None:
        for name in experiment_names():
            print(f"{name:<22} {load_experiment(name).QUESTION}")
        return 0
    import matplotlib

    matplotlib.use("Agg")  # the command draws only into files
    executor = executor_for(args.workers, args.scheduler)
    command = ["laotie", "experiment", args.name] + (["--quick"] if args.quick else [])
    out = args.out or Path("out") / args.name
    try:
        report = run_experiment(
            args.name, quick=args.quick, out=out, executor=executor, command=" ".join(command)
        )
    except KeyboardInterrupt:
        print(
            "laotie: interrupted; the finished runs are kept: run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print(report.markdown(out))
    print(f"\nResults in {out} ({report.seconds:.0f} s)")
    return 0


def _run_info(args: argparse.Namespace) -> int:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    print(f"laotie      {__version__}")
    print(f"python      {platform.python_version()} ({sys.executable})")
    for name in ("numpy", "scipy", "networkx", "mesa", "pandas", "matplotlib"):
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "not installed"
        print(f"{name:<11} {found}")
    return 0
