"""``laotie validate``: run a scenario and compare its moments with the calibration targets."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LaotieError, ScenarioError
from ..scenario import shipped_scenarios
from ._common import check_run_options, load_scenario

if TYPE_CHECKING:
    import pandas as pd

    from ._common import Subcommands

__all__ = ["add_parser", "command", "format_validation"]

DEFAULT_DAYS = 365
"""A year: twelve complete months (T5, T7, T12) and first orders over a year (T16)."""
DEFAULT_REPLICATIONS = 3


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie validate`` to the subcommands ``sub``."""
    validate = sub.add_parser(
        "validate",
        parents=[common],
        help="run a scenario and compare its moments with the calibration targets",
        description=(
            "Run replications of a scenario (a TOML file or a shipped scenario: "
            + ", ".join(shipped_scenarios())
            + ") and print each target moment of the calibration (the storefront funnel, "
            "session and live-room conversion 转化率, trust vs traffic conversion, monthly "
            "repurchase 复购率, order value 客单价, buyers, DAU and MAU, the follower "
            "distribution, mutual ties, the Bass diffusion of first orders): its target "
            "band, the model's mean over replications with its 95 % interval, and whether it "
            "lies in the band. docs/validation.md defines every moment and its band. "
            "The defaults run a year; a city of millions at full scale takes minutes and "
            "gigabytes, so try --scale 0.1 first."
        ),
        epilog=(
            "examples:\n"
            "  laotie validate village --days 60 -R 2\n"
            "  laotie validate mudanjiang --scale 0.1\n"
            "  laotie validate models/county/scenario.toml --set creators.enter_prob=0.1 "
            "--out county.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("scenario", help="a scenario file (.toml) or a shipped scenario's name")
    validate.add_argument(
        "--days",
        type=int,
        help=f"days to simulate (default: {DEFAULT_DAYS}, a year, or the targets file's)",
    )
    validate.add_argument("--seed", type=int, help="random seed (default: the scenario's run.seed)")
    validate.add_argument(
        "-R",
        "--replications",
        type=int,
        default=DEFAULT_REPLICATIONS,
        help=f"replications (default: {DEFAULT_REPLICATIONS}; intervals need 2 or more)",
    )
    validate.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes running the replications' engines (default: 1; same results)",
    )
    validate.add_argument(
        "--scale",
        type=float,
        help="multiply every region's population (default: 1, the whole scenario, or the "
        "targets file's)",
    )
    validate.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="change a parameter by its dotted key, e.g. --set policy.traffic=head (repeatable)",
    )
    validate.add_argument(
        "--out", metavar="FILE", type=Path, help="also write the table to FILE (CSV)"
    )
    validate.add_argument(
        "--targets",
        metavar="FILE",
        type=Path,
        help="a targets file (docs/calibration.md): its moments and bands, fitted or held out",
    )
    validate.add_argument("--force", action="store_true", help="overwrite an existing FILE")
    validate.add_argument("--quiet", action="store_true", help="no progress bar")
    validate.set_defaults(run=command)
    return validate


def command(args: argparse.Namespace) -> int:
    """``laotie validate``: run replications, print the moments against their bands."""
    from .._io import atomic_write
    from .._random import run_seeds
    from ..moments import validate
    from ..runs import replicate
    from ..scenario import scenario_graph

    # A targets file is read before anything runs; its scale, days and seed are the defaults.
    targets = None
    if args.targets is not None:
        from ..calibrate import load_targets

        targets = load_targets(args.targets)
    if args.days is None:
        args.days = targets.days if targets is not None else DEFAULT_DAYS
    if args.scale is None:
        args.scale = targets.scale if targets is not None else 1.0
    if args.seed is None and targets is not None:
        args.seed = targets.seed
    check_run_options(args.replications, args.workers, args.days)
    if args.out is not None:
        if args.out.is_dir():
            raise LaotieError(f"--out {args.out} is a folder; expected a file name, e.g. x.csv")
        if args.out.exists() and not args.force:
            raise LaotieError(f"{args.out} exists; pass --force to overwrite it")
    scenario = load_scenario(args.scenario, args.scale, args.overrides)
    # The run's days and seed go into the scenario, as laotie run puts them, so that every
    # check of them (their bounds, a training or shock day after the last day) happens
    # before the city is built.
    for flag, key, value in (("--days", "run.days", args.days), ("--seed", "run.seed", args.seed)):
        if value is not None:
            try:
                scenario = scenario.replace(**{key: value})
            except ScenarioError as err:
                raise ScenarioError(f"{flag} {value}: {err}") from None
    seed = scenario.run.seed if args.seed is None else args.seed
    city = (
        f"the graph {scenario.graph.file}"
        if scenario.graph.file
        else f"{scenario.city.n_residents:,} residents"
    )
    print(
        f"Scenario {scenario.name!r}: {city}, {args.days} days, {args.replications} "
        f"replication(s), seed {seed}",
        file=sys.stderr,
    )
    start = time.perf_counter()
    # The graph replicate() would make from the seed, made here to measure it too, and
    # named as replicate() names its own.
    if not args.quiet:
        print(
            f"Reading {city}…" if scenario.graph.file else f"Building the city graph ({city})…",
            file=sys.stderr,
            flush=True,
        )
    graph = scenario_graph(scenario, run_seeds(seed, args.replications)[0])
    results = replicate(
        scenario,
        args.replications,
        days=args.days,
        seed=seed,
        graph=graph,
        progress=not args.quiet,
        workers=args.workers,
    )
    if targets is not None:
        table = validate(results, graph, moments=targets.moments())
        roles = {t.id: t.role for t in targets.targets}
        table.insert(2, "role", [roles[i] for i in table["id"]])
    else:
        table = validate(results, graph)
    print(f"Done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    print(format_validation(table, len(results)))
    if args.out is not None:
        atomic_write(args.out, lambda path: table.to_csv(path, index=False))
        print(f"Wrote {args.out}", file=sys.stderr)
    return 0


def _number(value: float, unit: str) -> str:
    """``value`` in the unit's display: shares as percentages."""
    if math.isnan(value):
        return "n/a"
    return f"{100 * value if unit == 'share' else value:.3g}"


_SUFFIX = {"share": " %", "per year": " /yr", "RMB": " RMB"}


def format_validation(table: pd.DataFrame, replications: int) -> str:
    """The validation table as text, ending with ``inside band: N of M moments``.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`laotie.moments.validate`'s table, with a ``role`` column (``fit`` or
        ``held_out``) when a targets file chose the moments: then shown, and counted apart.
    replications : int
        Replications behind it: with more than one, each value is followed by its 95 %
        interval in brackets.

    Returns
    -------
    str
        One row per moment: id, what is measured, the target band, the model's value (and
        interval) and whether it lies in the band (``yes``, ``no``, or ``n/a`` when the run
        does not define it); then the count of moments inside their bands.
    """
    from ..moments import MOMENTS

    units = {m.id: m.unit for m in MOMENTS}
    roles = "role" in table
    header = ["id", "moment", "target band", "model", "inside"] + (["role"] if roles else [])
    rows = []
    for row in table.itertuples(index=False):
        unit = units.get(str(row.id), "")
        suffix = _SUFFIX.get(unit, "")
        value = _number(row.value, unit)
        if replications > 1 and not math.isnan(row.ci_low):
            value += f" [{_number(row.ci_low, unit)}, {_number(row.ci_high, unit)}]"
        if not math.isnan(row.value):
            value += suffix
        inside = "n/a" if math.isnan(row.value) else ("yes" if row.inside else "no")
        band = f"{_number(row.low, unit)} – {_number(row.high, unit)}{suffix}"
        rows.append(
            [str(row.id), str(row.moment), band, value, inside]
            + ([str(row.role).replace("_", " ")] if roles else [])
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]
    if replications > 1:
        lines.append("95 % confidence intervals over replications in brackets")
    if any(r[4] == "n/a" for r in rows):
        lines.append("n/a: not defined by this run (too short, or no fit); see docs/validation.md")
    if "role" in table:  # a targets file's moments: fitted and held out apart
        for role, label in (("fit", "fitted"), ("held_out", "held out")):
            part = table[table["role"] == role]
            lines.append(f"inside band, {label}: {int(part['inside'].sum())} of {len(part)}")
    lines.append(f"inside band: {int(table['inside'].sum())} of {len(table)} moments")
    return "\n".join(lines)
