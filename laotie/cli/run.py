"""``laotie run``: simulate a scenario and print its per-channel summary with intervals."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .._io import write_manifest
from ..errors import ScenarioError
from ..scenario import shipped_scenarios
from ._common import check_run_options, folder_in_place, headless, load_scenario, said_warnings

if TYPE_CHECKING:
    import pandas as pd

    from ..results import Result
    from ..scenario import Scenario
    from ._common import Subcommands

__all__ = ["add_parser", "command", "format_outcomes", "format_summary"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie run`` to the subcommands ``sub``."""
    run = sub.add_parser(
        "run",
        parents=[common],
        help="simulate a scenario and print conversion, order value, GMV and repeat share",
        description=(
            "Simulate a scenario (a TOML file or a shipped scenario: "
            + ", ".join(shipped_scenarios())
            + ") and print, per channel, conversion (转化率), order value (客单价), GMV and "
            "repeat share, with 95 % confidence intervals over replications."
        ),
        epilog=(
            "examples:\n"
            "  laotie run village\n"
            "  laotie run mudanjiang --scale 0.01 --days 60 --replications 5\n"
            "  laotie run models/county/scenario.toml --set policy.traffic=head --out out/head\n"
            "  laotie run out/head/scenario.toml        # repeats that run exactly\n"
            "  laotie run village --graph lesmis.npz    # on a graph made by laotie graph --from\n"
            "  laotie run my_network.toml               # its [graph] section reads a graph file"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("scenario", help="a scenario file (.toml) or a shipped scenario's name")
    run.add_argument("--days", type=int, help="days to simulate (default: the scenario's run.days)")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's run.seed)")
    run.add_argument("-R", "--replications", type=int, default=1, help="replications (default: 1)")
    run.add_argument(
        "--vary-graph",
        action="store_true",
        help="build a city graph per replication, so that the intervals include the chance in "
        "the city's ties (default: one graph shared by every replication)",
    )
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
        "--graph",
        metavar="FILE",
        type=Path,
        help="run on this graph instead of building the scenario's city: a .npz written by "
        "laotie graph --from FILE ... --out G.npz (which maps a researcher's graph), or any "
        "file laotie graph --from reads, taken with laotie's conventions (a scenario file "
        "maps its own with a [graph] section: docs/own_graph.md)",
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
    run.add_argument(
        "--force", action="store_true", help="replace DIR, an earlier run's folder, entirely"
    )
    run.add_argument("--no-figures", action="store_true", help="do not draw figures in DIR")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(run=command)
    return run


def command(args: argparse.Namespace) -> int:
    """``laotie run``: simulate replications, print the summary, write the files on request."""
    from ..runs import EmptyChannelWarning, replicate, write_run
    from ..stats import summarise

    check_run_options(args.replications, args.workers, args.days)
    scenario = load_scenario(args.scenario, args.scale, args.overrides)
    # The run's days and seed go into the scenario, so that every check of them (their
    # bounds, a training or shock day beyond the run) happens before anything runs, and the
    # scenario written with --out repeats this run.
    for flag, key, value in (("--days", "run.days", args.days), ("--seed", "run.seed", args.seed)):
        if value is not None:
            try:
                scenario = scenario.replace(**{key: value})
            except ScenarioError as err:
                raise ScenarioError(f"{flag} {value}: {err}") from None
    seed, days = scenario.run.seed, scenario.run.days
    with contextlib.ExitStack() as stack:
        # The output folder is prepared first (a folder that cannot be written, or one not
        # to be replaced, fails before the graph is built or anything runs) and put in
        # place when complete.
        folder = (
            None if args.out is None else stack.enter_context(folder_in_place(args.out, args.force))
        )
        graph = None
        source = args.graph if args.graph is not None else scenario.graph.file or None
        if source is not None:
            from ..graph.roles import MappingWarning, describe_mapping

            if args.graph is not None and (args.vary_graph or args.scale != 1.0):
                raise ScenarioError(
                    f"--graph {args.graph} is the graph of every replication: no --vary-graph or "
                    "--scale (they build the scenario's city)"
                )
            if args.vary_graph:
                raise ScenarioError(
                    f"scenario {scenario.name!r} runs on the graph of {source} ([graph] from), the "
                    "same in every replication: no --vary-graph (it builds a city for each)"
                )
            if args.graph is not None and scenario.graph.file:
                raise ScenarioError(
                    f"--graph {args.graph}: scenario {scenario.name!r} reads its own graph "
                    f"({scenario.graph.file}, [graph] from); give one of them"
                )
            with said_warnings(MappingWarning):
                if args.graph is not None:
                    from ..graph import read_graph

                    graph = read_graph(args.graph)
                else:
                    from ..scenario import scenario_graph

                    graph = scenario_graph(scenario, progress=not args.quiet)
        graphs = (
            ""
            if args.replications == 1 or graph is not None
            else "; a city graph per replication"
            if args.vary_graph
            else "; one city graph shared by the replications (--vary-graph for one each)"
        )
        city = (
            f"{scenario.city.n_residents:,} residents"
            if graph is None
            else f"the graph {source} ({graph.n_nodes:,} nodes)"
        )
        print(
            f"Scenario {scenario.name!r}: {city}, {days} days, {args.replications} "
            f"replication(s), seed {seed}{graphs}",
            file=sys.stderr,
        )
        if graph is not None and describe_mapping(graph):
            print(describe_mapping(graph), file=sys.stderr)
        start = time.perf_counter()
        with said_warnings(EmptyChannelWarning):
            results = replicate(
                scenario,
                args.replications,
                days=days,
                seed=seed,
                graph=graph,
                progress=not args.quiet,
                workers=args.workers,
                vary_graph=args.vary_graph,
            )
        print(f"Done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        print(format_summary(summarise(results), len(results)))
        if scenario.producers.n_producers or any(r.poverty for r in scenario.city.regions):
            print()
            print(format_outcomes(results, scenario))
        if scenario.information.n_messages:
            print("\nGovernment messages (replication 0): coverage at the end, days to 50 % / 80 %")
            print(results[0].messages.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        if folder is not None:
            if not args.no_figures:
                headless()
            written = write_run(folder, scenario, results, seed)
            if not args.no_figures:
                from ..plot import write_figures

                written += write_figures(folder / "figures", results)
            # Last: each file's size and SHA-256, so that a damaged folder can be told.
            written.append(write_manifest(folder, written))
    if args.out is not None:
        print(f"Wrote {len(written)} files to {args.out}", file=sys.stderr)
    return 0


POVERTY_OUTCOMES: dict[str, tuple[str, str]] = {
    "producer_income_total": ("poor producers' online receipts (RMB)", "{:,.0f}"),
    "producer_net_total": ("their net income change (RMB)", "{:,.0f}"),
    "producer_net_effect": ("net change / offline income over the run", "{:.3f}"),
    "producers_gaining_share": ("share of producers who gain", "{:.3f}"),
    "producers_losing_share": ("share of producers who lose", "{:.3f}"),
    "producer_gain_top10_share": ("share of the gains to the top 10 %", "{:.3f}"),
    "poverty_earner_share": ("share of earners in poverty counties", "{:.3f}"),
    "poverty_gmv_share": ("share of GMV sold from poverty counties", "{:.3f}"),
}
"""The poverty-alleviation outcomes ``laotie run`` prints (精准扶贫), with their labels."""


def format_outcomes(results: list[Result], scenario: Scenario) -> str:
    """The poverty-alleviation outcomes as text: the mean over replications and, with more
    than one, its 95 % interval (docs/model.md 3.6, "Producers' accounts"), as in
    ``outcomes.csv`` (:func:`laotie.stats.interval_table`); the producers' lines if the
    scenario has poor producers, the poverty counties' if it declares any.

    Parameters
    ----------
    results : list of Result
    scenario : Scenario

    Returns
    -------
    str
    """
    import pandas as pd

    from ..results import OUTCOME_BOUNDS
    from ..stats import interval_table

    table = interval_table(pd.DataFrame([r.outcomes for r in results]), bounds=OUTCOME_BOUNDS)
    lines = ["Poor producers and poverty counties (精准扶贫)"]
    keys = [k for k in POVERTY_OUTCOMES if not k.startswith("poverty_")]
    shown = keys if scenario.producers.n_producers else []
    if any(r.poverty for r in scenario.city.regions):
        shown += [k for k in POVERTY_OUTCOMES if k.startswith("poverty_")]
    width = max(len(label) for label, _ in POVERTY_OUTCOMES.values())
    for key in shown:
        label, fmt = POVERTY_OUTCOMES[key]
        mean, low, high, n = table.loc[key]
        if not n:
            text = "n/a"
        else:
            text = fmt.format(mean)
            if n > 1 and low == low:
                text += f" [{fmt.format(low)}, {fmt.format(high)}]"
        lines.append(f"  {label.ljust(width)}  {text}")
    return "\n".join(lines)


def format_summary(summary: pd.DataFrame, replications: int) -> str:
    """The run's table as text: one row per channel, a column per metric.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`laotie.stats.summarise`'s table.
    replications : int
        Replications behind it: with more than one, each value is followed by its 95 %
        interval in brackets.

    Returns
    -------
    str
    """
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
