"""The ``laotie`` command.

Every subcommand has ``--help`` with an example. Bad input ends with one line on stderr
(``laotie: error: ...``) and exit status 2; ``--debug`` shows the traceback instead. Files
are written only where ``--out`` says, never over an existing file without ``--force``.
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import LaotieError, ScenarioError

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


def _run_info(args: argparse.Namespace) -> int:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    print(f"laotie      {__version__}")
    print(f"python      {platform.python_version()} ({sys.executable})")
    for name in ("numpy", "scipy", "networkx", "mesa", "pandas", "matplotlib"):
        try:
            found = version(name)
        except PackageNotFoundError:
            found = "not installed"
        print(f"{name:<11} {found}")
    return 0
