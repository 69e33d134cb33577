"""``laotie graph``: build a city's trust graph (or load one) and print its statistics."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LaotieError, ScenarioError
from ..graph.roles import MappingWarning, describe_mapping, missing_roles
from ._common import load_scenario, said_warnings

if TYPE_CHECKING:
    from ..graph import TrustGraph
    from ..scenario import Scenario
    from ._common import Subcommands

__all__ = ["add_mapping_arguments", "add_parser", "command", "mapping_options"]


def add_parser(sub: Subcommands, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie graph`` to the subcommands ``sub``."""
    graph = sub.add_parser(
        "graph",
        parents=[common],
        help="build (or load) a trust graph and print its statistics",
        description=(
            "Build the trust graph (同乡 local ties, 同城 city ties, follow ties to creators) "
            "of a scenario's city (a shipped scenario's name or a scenario file, as for "
            "laotie run), or load one from a file, and print its statistics."
        ),
        epilog=(
            "examples:\n"
            "  laotie graph village\n"
            "  laotie graph mudanjiang --scale 0.01 --seed 1\n"
            "  laotie graph mudanjiang --scale 0.1 --set city.local_degree=30 "
            "--out graphs/mdj.npz\n"
            "  laotie graph --from graphs/mdj.npz\n"
            "  laotie graph --from edges.csv --nodes nodes.csv\n"
            "  laotie graph --from lesmis.txt --trust-attr weight --transform rank "
            "--creators top-degree:5 --regions louvain --grow-follows village --out g.npz\n"
            "  laotie graph --from ties.csv --source-col from --target-col to "
            "--trust-attr w --transform saturating"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    graph.add_argument(
        "scenario",
        nargs="?",
        help="a shipped scenario's name or a scenario file: its city is built",
    )
    source = graph.add_mutually_exclusive_group()
    source.add_argument("--preset", default=None, help="the same as the scenario argument")
    source.add_argument(
        "--from",
        dest="source",
        metavar="FILE",
        type=Path,
        help="load a graph instead: a .npz saved by laotie, a CSV edge list (laotie's, or "
        "with named columns), a whitespace or SNAP edge list (.txt, .edges, .edgelist, .el, "
        ".tsv; .gz read through), GraphML or GEXF",
    )
    graph.add_argument(
        "--nodes", metavar="FILE", type=Path, help="CSV node list to go with a CSV edge list"
    )
    add_mapping_arguments(graph)
    graph.add_argument(
        "--scale",
        type=float,
        default=None,
        help=(
            "population scale of the scenario's city; 1 is the whole city (default: 1, but a "
            f"city of more than {WHOLE_CITY_GUARD:,} residents is built only with --scale given)"
        ),
    )
    graph.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    graph.add_argument(
        "--set",
        dest="overrides",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="override a city parameter, e.g. --set city.local_degree=30 (repeatable; "
        "the city. may be left out)",
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
    from ..scenario import scenario_graph

    outputs = _output_files(args.out) if args.out else []
    for path in outputs:
        _check_output(path, args.force)
    if args.scenario is not None and args.preset is not None:
        raise ScenarioError(f"give the scenario once: {args.scenario!r} or --preset {args.preset}")
    name = args.scenario or args.preset
    if args.source is not None:
        if name is not None:
            raise ScenarioError(f"--from {args.source} loads a graph: no scenario {name!r} too")
        if args.overrides or args.scale is not None:
            raise ScenarioError("--set and --scale apply to a scenario's city, not to --from FILE")
        with said_warnings(MappingWarning):
            g = lg.read_graph(args.source, nodes=args.nodes, progress=True, **mapping_options(args))
        _say_read(g, f"Loaded {args.source}: {g}")
    else:
        if args.nodes is not None:
            raise ScenarioError("--nodes goes with --from EDGES.csv")
        given = [flag for flag, value in mapping_flags(args) if value is not None]
        if given:
            raise ScenarioError(f"{', '.join(given)} map a graph read with --from FILE")
        if name is None:
            raise ScenarioError(
                "name a scenario whose city to build (e.g. laotie graph village, laotie graph "
                "mudanjiang --scale 0.01; the whole of Mudanjiang is 2.5 M residents) or load "
                "one with --from FILE"
            )
        scale = 1.0 if args.scale is None else args.scale
        scenario = load_scenario(name, scale, _city_keys(args.overrides), simulate=False)
        if scenario.graph.file:
            g = _scenario_file_graph(scenario, name)
            print(g.stats(seed=args.seed))
            _save(g, args.out, outputs)
            return 0
        spec = scenario.city
        saved = _cached_file(scenario, args.seed)  # where the graph cache keeps this city
        cached = saved is not None and saved.exists()
        # A city of millions in the graph cache is read in seconds: only a build is refused.
        if args.scale is None and spec.n_residents > WHOLE_CITY_GUARD and not cached:
            raise ScenarioError(
                f"{name}'s city has {spec.n_residents:,} residents (a city of millions takes "
                f"about 10 s and 3 GB to build, the first time): give --scale, e.g. "
                f"--scale 0.01 for a 1 % sample, or --scale 1 for the whole city"
            )
        print(
            f"{'Reading' if cached else 'Building'} {name} at scale {scale:g} "
            f"({spec.n_residents:,} residents, {spec.n_users:,} users), seed {args.seed}"
            f"{' from the graph cache' if cached else ''} ...",
            file=sys.stderr,
        )
        # A read only touches the file (its time: recently used); a damaged file is deleted
        # and the city saved again, as a new file (whose inode may be the old one's, freed:
        # the size tells a truncated file, the usual damage, from the rebuilt one).
        before = _identity(saved) if cached and saved is not None else None
        start = time.perf_counter()
        g = scenario_graph(scenario, args.seed)  # a large city through the graph cache
        took = time.perf_counter() - start
        if saved is not None and cached and (not saved.exists() or _identity(saved) != before):
            # The cached file could not be read: the cache built the city again and saved it.
            cached = False
            print("The cached graph was damaged: built again", file=sys.stderr)
        print(f"{'Read' if cached else 'Built'} {g} in {took:.1f} s", file=sys.stderr)
    start = time.perf_counter()
    stats = g.stats(seed=args.seed)
    print(stats)
    print(f"Described in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    _save(g, args.out, outputs)
    return 0


def _identity(path: Path) -> tuple[int, int]:
    """A file's inode and size."""
    stat = path.stat()
    return stat.st_ino, stat.st_size


def _cached_file(scenario: Scenario, seed: int) -> Path | None:
    """Where the graph cache keeps (or would keep) the scenario's city; None when it does not
    cache it (off, a limit of 0, or a city too small)."""
    from ..graph import cache

    folder = cache.cache_folder()
    if (
        folder is None
        or cache.cache_limit() == 0
        or scenario.city.n_residents < cache.MIN_RESIDENTS
    ):
        return None
    key = cache.graph_key(scenario.city, seed)
    return None if key is None else folder / f"{key}.npz"


def _scenario_file_graph(scenario: Scenario, name: str) -> TrustGraph:
    """The graph file of a scenario with ``[graph] from``, read and mapped as its runs map it
    (:func:`laotie.scenario.scenario_graph`), with what was assigned."""
    from ..scenario import scenario_graph

    with said_warnings(MappingWarning):
        g = scenario_graph(scenario, progress=True)
    _say_read(g, f"Read {scenario.graph.file} ([graph] of {name}): {g}")
    return g


def _say_read(g: TrustGraph, line: str) -> None:
    """Say what was read (``line``, to standard error), what its mapping assigned, and the
    roles the graph lacks."""
    print(line, file=sys.stderr)
    described = describe_mapping(g)
    if described:
        print(described)
    for gap in missing_roles(g):
        print(f"Note: the graph has {gap}", file=sys.stderr)


def _save(g: TrustGraph, out: Path | None, outputs: list[Path]) -> None:
    if out:
        if out.suffix == ".npz":
            g.save(out)
        else:
            g.to_csv(outputs[0], outputs[1])
        print(f"Saved {', '.join(str(p) for p in outputs)}", file=sys.stderr)


WHOLE_CITY_GUARD = 250_000
"""Residents above which ``laotie graph`` builds a city only when ``--scale`` is given (about
a tenth of Mudanjiang): a bare ``laotie graph mudanjiang`` would take minutes and gigabytes."""


def _city_keys(items: list[str]) -> list[str]:
    """``--set`` items with ``city.`` added to the undotted keys; keys of sections other than
    the city and the graph's source are refused (they do not shape the graph)."""
    out = []
    for item in items:
        key, equals, _ = item.partition("=")
        if equals and key.strip() and "." not in key:
            item = f"city.{item.strip()}"
        elif equals and not key.strip().startswith(("city.", "graph.")):
            raise ScenarioError(
                f"--set {item}: laotie graph builds the city; only city.* keys (and graph.* "
                "keys, which map a scenario's graph file)"
            )
        out.append(item)
    return out


def _check_output(path: Path, force: bool) -> None:
    """Refuse, before the graph is built or read, an output file that could not be written:
    one that exists (without ``--force``), a folder, or one below a file."""
    if path.is_dir():
        raise LaotieError(f"--out {path} is a folder; give a file name ending in .npz or .csv")
    if path.exists() and not force:
        raise LaotieError(f"{path} exists; pass --force to overwrite it")
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise LaotieError(f"--out {path}: cannot write below {parent}, a file, not a folder")


def _output_files(out: Path) -> list[Path]:
    if out.suffix == ".npz":
        return [out]
    if out.suffix == ".csv":
        return [out, out.with_name(f"{out.stem}_nodes.csv")]
    raise ScenarioError(f"--out {out}: unknown file type {out.suffix!r}; use .npz or .csv")


MAPPING_FLAGS: dict[str, tuple[str, str]] = {
    "format": ("--format", "the file's format (default: by suffix): {formats}"),
    "source": ("--source-col", "the CSV column of the ties' first ends (default: source)"),
    "target": ("--target-col", "the CSV column of the ties' second ends (default: target)"),
    "trust": (
        "--trust-attr",
        "the edge attribute or column holding raw trust (信任), e.g. weight (default: trust, "
        "if present)",
    ),
    "transform": (
        "--transform",
        "how raw values become trust in (0, 1]: identity, minmax[:LOW], rank, "
        "saturating[:K] (w / (w + K), K the median unless given) (default: identity)",
    ),
    "creators": (
        "--creators",
        "rule marking creators (达人, among users): attr:NAME, top-degree:K, top:NAME:K, "
        "random:SHARE, none",
    ),
    "users": (
        "--users",
        "rule marking users: attr:NAME, top-degree:K, top:NAME:K, random:SHARE, all, none",
    ),
    "rural": (
        "--rural",
        "rule marking rural nodes, where producers are drawn: attr:NAME, "
        "top-degree:K, top:NAME:K, random:SHARE, all, none",
    ),
    "regions": ("--regions", "rule assigning regions: attr:NAME, louvain, greedy, none"),
    "creator_kind": (
        "--creator-kind",
        "kind of the creators a rule marks: local, head or gov (default: local)",
    ),
    "follows": (
        "--grow-follows",
        "grow follow ties (关注) onto the graph with this scenario's follower model, e.g. village",
    ),
}
"""The mapping flags of ``laotie graph --from``, one per keyword of
:func:`laotie.graph.read_graph` (``--seed`` is its ``seed``)."""


_METAVARS = {
    "source": "COLUMN",
    "target": "COLUMN",
    "trust": "NAME",
    "transform": "TRANSFORM",
    "creator_kind": "KIND",
    "follows": "SCENARIO",
}


def add_mapping_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the mapping flags (:data:`MAPPING_FLAGS`) and ``--directed``, ``--chunk-rows``."""
    from ..graph.io import FORMATS

    group = parser.add_argument_group("mapping a graph read with --from (see docs/own_graph.md)")
    for dest, (flag, text) in MAPPING_FLAGS.items():
        choices = list(FORMATS) if dest == "format" else None
        group.add_argument(
            flag,
            dest=f"map_{dest}",
            default=None,
            choices=choices,
            metavar=None if choices else _METAVARS.get(dest, "RULE"),
            help=text.format(formats=", ".join(FORMATS)),
        )
    group.add_argument("--directed", action="store_true", help="an edge list's ties are one-way")
    group.add_argument(
        "--chunk-rows",
        type=int,
        default=None,
        help="rows of an edge list read at a time (default: 1,000,000)",
    )


def mapping_flags(args: argparse.Namespace) -> list[tuple[str, object]]:
    """The mapping flags given, as (flag, value) pairs (value None when not given)."""
    pairs: list[tuple[str, object]] = [
        (flag, getattr(args, f"map_{dest}")) for dest, (flag, _) in MAPPING_FLAGS.items()
    ]
    pairs.append(("--directed", args.directed or None))
    pairs.append(("--chunk-rows", args.chunk_rows))
    return pairs


def mapping_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of :func:`laotie.graph.read_graph` that the flags give."""
    options: dict[str, Any] = {
        dest: getattr(args, f"map_{dest}")
        for dest in MAPPING_FLAGS
        if getattr(args, f"map_{dest}") is not None
    }
    if "follows" in options:
        options["follows"] = load_scenario(str(options["follows"]), 1.0, [], simulate=False).city
    if args.chunk_rows is not None:
        if args.chunk_rows < 1:
            raise ScenarioError(f"--chunk-rows {args.chunk_rows}: expected an integer ≥ 1")
        options["chunk_rows"] = args.chunk_rows
    options["directed"] = args.directed
    options["seed"] = args.seed
    return options
