"""``laotie graph``: build a city's trust graph (or load one) and print its statistics."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LaotieError, ScenarioError
from ._common import parse_overrides

if TYPE_CHECKING:
    from ..graph import TrustGraph
    from ._common import Subcommands

__all__ = ["add_parser", "command"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie graph`` to the subcommands ``sub``."""
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
    graph.set_defaults(run=command)
    return graph


def command(args: argparse.Namespace) -> int:
    """``laotie graph``: build or load a graph, print its statistics, save it on request."""
    from .. import graph as lg

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


def _load(path: Path, nodes: Path | None) -> TrustGraph:
    from .. import graph as lg

    if path.suffix == ".npz":
        if nodes is not None:
            raise ScenarioError("--nodes goes with a CSV edge list, not with a .npz file")
        return lg.load(path)
    if path.suffix == ".csv":
        return lg.read_csv(path, nodes)
    raise ScenarioError(f"--from {path}: unknown file type {path.suffix!r}; use .npz or .csv")
