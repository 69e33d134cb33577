"""Trust graphs in and out of files: CSV edge and node lists, and a lossless ``.npz`` format.

Every loader validates what it reads and names the file, the column, how many entries are
wrong and a few of them. CSV columns follow the networkx conventions of
:mod:`laotie.graph.convert` (whose :func:`from_networkx` and :func:`to_networkx` are importable
from here too): ``trust`` and ``layer`` per edge, ``region``, ``hometown``, ``rural``,
``user`` and ``creator_kind`` per node, with the same defaults when a column is absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._io import Archive, atomic_write, json_default, read_errors, read_npz, reading, write_npz
from .._memory import small_pages
from ..errors import GraphError
from ._core import CREATOR_KINDS, LAYERS, TrustGraph
from ._messages import SHOWN, few
from .convert import from_networkx, layer_trust, to_networkx

__all__ = [
    "FORMATS",
    "from_networkx",
    "graph_format",
    "load",
    "read_csv",
    "read_graph",
    "save",
    "to_networkx",
    "write_csv",
]

_FORMAT = "laotie.TrustGraph"
_FORMAT_VERSION = 1


# ---------------------------------------------------------------------------- CSV
EDGE_COLUMNS = ("source", "target", "trust", "layer")
NODE_COLUMNS = ("id", "region", "hometown", "rural", "user", "creator_kind")


def write_csv(
    graph: TrustGraph, edges: str | os.PathLike[str], nodes: str | os.PathLike[str]
) -> None:
    """Write the edge list (source, target, trust, layer) and node list (id and attributes).

    Trust is written with enough digits that :func:`read_csv` gives back the same float32.
    Each file is written to a temporary name and renamed, so no half-written file is left.

    Parameters
    ----------
    graph : TrustGraph
        The graph to write.
    edges, nodes : str or path
        The edge list's and the node list's files.

    Raises
    ------
    GraphError
        If a file cannot be written.
    """
    import pandas as pd

    labels = np.arange(graph.n_nodes) if graph.labels is None else graph.labels
    node_frame = graph.node_frame().reset_index()
    node_frame["id"] = labels
    edge_frame = pd.DataFrame(
        {
            "source": labels[graph.sources()],
            "target": labels[graph.indices],
            "trust": graph.trust.astype(np.float64),
            "layer": np.asarray(LAYERS, dtype=object)[graph.layer],
        }
    )
    _atomic(Path(nodes), lambda p: node_frame.to_csv(p, index=False))
    _atomic(Path(edges), lambda p: edge_frame.to_csv(p, index=False, float_format="%.9g"))


def read_csv(
    edges: str | os.PathLike[str], nodes: str | os.PathLike[str] | None = None
) -> TrustGraph:
    """Read a graph from a CSV edge list and, optionally, a CSV node list.

    The edge list needs columns ``source`` and ``target``; ``trust`` and ``layer`` are
    optional (defaults as for networkx). The node list needs ``id``; the other attribute
    columns are optional. Without a node list the nodes are the ids seen in the edge list.

    Parameters
    ----------
    edges : str or path
        The edge list (CSV with a header row).
    nodes : str or path, optional
        The node list (CSV with a header row).

    Returns
    -------
    TrustGraph
        With the ids as node labels (integers when every id is one, else strings).

    Raises
    ------
    GraphError
        Naming the file, the column and the first bad rows (1-based, header excluded).
    """
    import pandas as pd

    edges = Path(edges)
    # Node ids are read as text in both files, so that the same id is matched whatever type
    # pandas would guess for each column; see _as_ids for the labels they become.
    edge_frame = _read_frame(edges, required=("source", "target"), allowed=EDGE_COLUMNS)
    _no_blanks(edge_frame, "source", edges)
    _no_blanks(edge_frame, "target", edges)
    if nodes is not None:
        nodes = Path(nodes)
        node_frame = _read_frame(nodes, required=("id",), allowed=NODE_COLUMNS)
        _no_blanks(node_frame, "id", nodes)
        ids = node_frame["id"]
        dup = ids[ids.duplicated()]
        if len(dup):
            raise GraphError(
                f"{nodes}: {len(dup)} duplicate id(s) in column 'id', e.g. rows "
                f"{few((dup.index[:SHOWN] + 1).tolist())} (ids {few(dup.tolist())})"
            )
        labels = _as_ids(ids.tolist())
    else:
        node_frame = None
        seen = pd.unique(pd.concat([edge_frame["source"], edge_frame["target"]]))
        labels = sorted(_as_ids(list(seen)))
    index = pd.Index([str(label) for label in labels])
    src = index.get_indexer(edge_frame["source"])
    dst = index.get_indexer(edge_frame["target"])
    for column, found in (("source", src), ("target", dst)):
        bad = np.flatnonzero(found < 0)
        if bad.size:
            raise GraphError(
                f"{edges}: {bad.size} row(s) have a {column} that is not a node of {nodes}, "
                f"e.g. rows {few((bad[:SHOWN] + 1).tolist())} "
                f"({column} {few(edge_frame[column].iloc[bad[:SHOWN]].tolist())})"
            )
    layer = np.zeros(len(edge_frame), dtype=np.int8)
    if "layer" in edge_frame:
        names = edge_frame["layer"].astype(str)
        bad = np.flatnonzero(~names.isin(LAYERS).to_numpy())
        if bad.size:
            raise GraphError(
                f"{edges}: {bad.size} row(s) have an unknown layer in column 'layer' (allowed: "
                f"{', '.join(LAYERS)}), e.g. rows {few((bad[:SHOWN] + 1).tolist())} "
                f"(values {few(names.iloc[bad[:SHOWN]].tolist())})"
            )
        layer = pd.Categorical(names, categories=LAYERS).codes.astype(np.int8)
    if "trust" in edge_frame:
        trust = pd.to_numeric(edge_frame["trust"], errors="coerce").to_numpy(np.float64)
        text = edge_frame["trust"].astype(str)
        bad = np.flatnonzero(np.isnan(trust) & (text.str.lower() != "nan").to_numpy())
        if bad.size:
            raise GraphError(
                f"{edges}: {bad.size} row(s) have a trust that is not a number, e.g. rows "
                f"{few((bad[:SHOWN] + 1).tolist())} "
                f"(values {few(text.iloc[bad[:SHOWN]].tolist())})"
            )
    else:
        defaults = layer_trust()
        trust = np.array([defaults[name] for name in LAYERS])[layer]

    attrs: dict[str, Any] = {}
    names_list: list[str] = ["all"]
    if node_frame is not None:
        attrs, names_list = _node_attributes(node_frame, nodes)  # type: ignore[arg-type]
    plain = labels == list(range(len(labels)))
    return TrustGraph.from_edges(
        len(labels),
        src,
        dst,
        trust,
        layer,
        region_names=names_list,
        labels=None if plain else labels,
        where=str(edges),
        **attrs,
    )


def _as_ids(text: list[str]) -> list[Any]:
    """Node ids read as text: ints when every id is written as a plain integer, else text."""
    try:
        ints = [int(t) for t in text]
    except ValueError:
        return text
    return ints if all(str(i) == t for i, t in zip(ints, text, strict=True)) else text


def _read_frame(path: Path, required: tuple[str, ...], allowed: tuple[str, ...]) -> Any:
    import pandas as pd

    if not path.exists():
        raise GraphError(f"{path}: no such file")
    ids = {"id": str, "source": str, "target": str}
    with reading(path, GraphError, what="not a readable CSV file", named=False):
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=ids)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise GraphError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, frame.columns))}"
        )
    unknown = [c for c in frame.columns if c not in allowed]
    if unknown:
        from ..params import did_you_mean

        hint = did_you_mean(unknown[0], list(allowed))
        raise GraphError(
            f"{path}: unknown column {unknown[0]!r}{hint} (allowed: {', '.join(allowed)})"
        )
    return frame


def _node_attributes(frame: Any, path: Path) -> tuple[dict[str, Any], list[str]]:
    attrs: dict[str, Any] = {}
    names: list[str] = ["all"]
    if "region" in frame or "hometown" in frame:
        values = []
        for col in ("region", "hometown"):
            if col in frame:
                _no_blanks(frame, col, path)
                values += frame[col].astype(str).tolist()
        names = list(dict.fromkeys(values))
        code = {name: i for i, name in enumerate(names)}
        for col in ("region", "hometown"):
            if col in frame:
                attrs[col] = np.array([code[v] for v in frame[col].astype(str)], dtype=np.int16)
    for col in ("rural", "user"):
        if col in frame:
            attrs[col] = _bool_column(frame, col, path)
    if "creator_kind" in frame:
        _no_blanks(frame, "creator_kind", path)
        kinds = frame["creator_kind"].astype(str)
        bad = np.flatnonzero(~kinds.isin(CREATOR_KINDS).to_numpy())
        if bad.size:
            raise GraphError(
                f"{path}: {bad.size} row(s) have an unknown creator_kind (allowed: "
                f"{', '.join(CREATOR_KINDS)}), e.g. rows {few((bad[:SHOWN] + 1).tolist())} "
                f"(values {few(kinds.iloc[bad[:SHOWN]].tolist())})"
            )
        attrs["creator_kind"] = np.array([CREATOR_KINDS.index(k) for k in kinds], dtype=np.int8)
    return attrs, names


def _no_blanks(frame: Any, col: str, path: Path) -> None:
    bad = np.flatnonzero(frame[col].isna().to_numpy())
    if bad.size:
        raise GraphError(
            f"{path}: {bad.size} row(s) have no value in column {col!r}, e.g. rows "
            f"{few((bad[:SHOWN] + 1).tolist())}"
        )


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _bool_column(frame: Any, col: str, path: Path) -> np.ndarray:
    text = frame[col].astype(str).str.strip().str.lower()
    bad = np.flatnonzero(~text.isin(_TRUE | _FALSE).to_numpy())
    if bad.size:
        raise GraphError(
            f"{path}: {bad.size} row(s) have a value in column {col!r} that is not true or "
            f"false, e.g. rows {few((bad[:SHOWN] + 1).tolist())} "
            f"(values {few(frame[col].iloc[bad[:SHOWN]].tolist())})"
        )
    return text.isin(_TRUE).to_numpy()


# ---------------------------------------------------------------------------- npz
_ARRAYS = (
    "indptr",
    "indices",
    "trust",
    "layer",
    "region",
    "hometown",
    "rural",
    "user",
    "creator_kind",
)


def save(graph: TrustGraph, path: str | os.PathLike[str]) -> None:
    """Save losslessly to an uncompressed ``.npz`` file (written atomically).

    Parameters
    ----------
    graph : TrustGraph
        The graph; its labels, when present, must be str, int or float.
    path : str or path
        The file (``.npz``), replaced if it exists.

    Raises
    ------
    GraphError
        For labels or metadata that JSON cannot hold, or a file that cannot be written.
    """
    path = Path(path)
    if graph.labels is not None:
        odd = [x for x in graph.labels if not isinstance(x, str | int | float | np.generic)]
        if odd:
            raise GraphError(
                f"{path}: cannot save {len(odd)} label(s) that are not str, int or float, "
                f"e.g. {few(odd)}"
            )
    header = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "region_names": list(graph.region_names),
        "labels": None if graph.labels is None else list(graph.labels),
        "meta": graph.meta,
    }
    try:
        encoded = json.dumps(header, default=json_default)
    except TypeError as err:
        raise GraphError(f"{path}: cannot save labels or metadata as JSON ({err})") from err
    arrays = {name: getattr(graph, name) for name in _ARRAYS}

    _atomic(path, lambda tmp: write_npz(tmp, {"header": np.array(encoded), **arrays}))


@small_pages()
def load(path: str | os.PathLike[str]) -> TrustGraph:
    """Load a graph written by :func:`save`, validating it.

    Parameters
    ----------
    path : str or path
        A ``.npz`` file written by :func:`save`.

    Returns
    -------
    TrustGraph

    Raises
    ------
    GraphError
        If the file is missing, is not a laotie graph (empty, truncated or damaged
        included), was written by a newer laotie, or holds a graph that fails
        :meth:`TrustGraph.validate`.
    """
    path = Path(path)
    if not path.exists():
        raise GraphError(f"{path}: no such file")
    with reading(path, GraphError, what="not a laotie graph file", named=False):
        data = read_npz(path)
        missing = [name for name in ("header", *_ARRAYS) if name not in data]
        if missing:
            raise GraphError(
                f"{path}: not a laotie graph file (no array {few(missing)}; it holds "
                f"{few(sorted(data)) if data else 'none'})"
            )
        header = json.loads(str(data["header"]))
        arrays = {name: data[name] for name in _ARRAYS}
    fmt = header.get("format") if isinstance(header, dict) else None
    if fmt != _FORMAT:
        raise GraphError(f"{path}: not a laotie graph file (format {fmt!r})")
    _check_header(path, header)
    if header.get("format_version", 0) > _FORMAT_VERSION:
        raise GraphError(
            f"{path}: written by a newer laotie (format version {header['format_version']}); "
            "upgrade laotie to read it"
        )
    return TrustGraph(
        arrays.pop("indptr"),
        arrays.pop("indices"),
        arrays.pop("trust"),
        arrays.pop("layer"),
        region_names=header.get("region_names", ()),
        labels=header.get("labels"),
        meta=header.get("meta"),
        where=str(path),
        **arrays,
    )


_HEADER_FIELDS: dict[str, tuple[str, Any]] = {
    "format_version": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "region_names": ("a list of names", lambda v: isinstance(v, list)),
    "labels": ("a list of labels or null", lambda v: v is None or isinstance(v, list)),
    "meta": ("an object (a dict) or null", lambda v: v is None or isinstance(v, dict)),
}
"""The fields of a saved graph's header, what each must be, and its test."""


def _check_header(path: Path, header: dict[str, Any]) -> None:
    """Refuse a header whose fields are not what :func:`save` writes, naming the field."""
    for field, (what, holds) in _HEADER_FIELDS.items():
        if field in header and not holds(header[field]):
            shown = repr(header[field])
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise GraphError(
                f"{path}: not a laotie graph file (its header's {field!r} is {shown}; "
                f"expected {what})"
            )


def is_laotie_npz(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a graph :func:`save` wrote (a ``.npz`` archive with laotie's
    header), whatever its name; a file that cannot be read is not.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    bool
    """
    try:
        with Archive(path) as archive:
            return "header.npy" in archive.namelist()
    except read_errors():
        return False


def forced_npz(path: str | os.PathLike[str], format: str | None) -> bool:
    """Whether ``format = "npz"`` was forced onto a file that is not a laotie npz graph:
    one whose name does not say npz either (a damaged ``.npz`` is :func:`load`'s to name)
    and that holds no graph :func:`save` wrote."""
    if format != "npz":
        return False
    try:
        named = graph_format(path)
    except GraphError:
        named = None
    return named != "npz" and not is_laotie_npz(path)


def _atomic(path: Path, write: Any) -> None:
    """Write ``path`` atomically (see :func:`laotie._io.atomic_write`); errors are GraphErrors."""
    atomic_write(path, write, GraphError)


# ---------------------------------------------------------------------------- a researcher's files
FORMATS: dict[str, str] = {
    "npz": "a graph saved by laotie (save)",
    "csv": "CSV with a header: laotie's edge list (read_csv), or named columns (source=...)",
    "edgelist": "whitespace edge list, networkx read_edgelist style: SOURCE TARGET [WEIGHT ...]; "
    "lines from # on are comments (SNAP style)",
    "snap": "the same as edgelist",
    "graphml": "GraphML, read by networkx",
    "gexf": "GEXF, read by networkx",
}
"""The formats :func:`read_graph` reads, by name."""

_SUFFIXES = {
    ".npz": "npz",
    ".csv": "csv",
    ".txt": "edgelist",
    ".edges": "edgelist",
    ".edgelist": "edgelist",
    ".el": "edgelist",
    ".tsv": "edgelist",
    ".graphml": "graphml",
    ".gexf": "gexf",
}

CHUNK_ROWS = 1_000_000
"""Rows of an edge list read at a time."""


def graph_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """The format of ``path``: ``format`` when given, else from its suffix (``.gz``, ``.bz2``,
    ``.xz`` and ``.zip`` are read through).

    Parameters
    ----------
    path : str or path
    format : str, optional
        One of :data:`FORMATS`.

    Returns
    -------
    str

    Raises
    ------
    GraphError
        For an unknown format or suffix.

    Examples
    --------
    >>> graph_format("roads.txt.gz")
    'edgelist'
    """
    path = Path(path)
    if format is not None:
        if format not in FORMATS:
            raise GraphError(f"{path}: unknown format {format!r}; allowed: {', '.join(FORMATS)}")
        return "edgelist" if format == "snap" else format
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zip"):
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix not in _SUFFIXES:
        raise GraphError(
            f"{path}: unknown file type {suffix!r}; use one of "
            f"{', '.join(sorted(_SUFFIXES))} or name the format ({', '.join(FORMATS)})"
        )
    return _SUFFIXES[suffix]


def read_graph(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    nodes: str | os.PathLike[str] | None = None,
    source: str | None = None,
    target: str | None = None,
    trust: str | None = None,
    transform: str = "identity",
    directed: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = False,
    **roles: Any,
) -> TrustGraph:
    """Read a researcher's graph from a file and map it (:mod:`laotie.graph.roles`).

    Edge lists (whitespace or CSV) are read ``chunk_rows`` rows at a time straight into
    numpy arrays, without networkx; GraphML and GEXF go through networkx and
    :func:`from_networkx`. Both give the same graph for the same ties: node labels in order
    of first appearance, a tie listed twice keeps its last weight, an undirected tie is
    transformed once and stored both ways.

    Parameters
    ----------
    path : str or path
        The file.
    format : str, optional
        One of :data:`FORMATS` (default: by suffix, :func:`graph_format`).
    nodes : str or path, optional
        laotie's CSV node list, with laotie's CSV edge list only.
    source, target : str, optional
        The columns of a CSV file that hold the ties' ends (default ``source`` and
        ``target``). A whitespace edge list's columns are ``source``, ``target``,
        ``weight``, then ``column4``, ``column5``, ...
    trust : str, optional
        The column or edge attribute holding raw trust (e.g. ``"weight"``).
    transform : str, default "identity"
        How raw values become trust (:func:`~laotie.graph.roles.transform_trust`).
    directed : bool, default False
        Whether an edge list's ties are one-way (GraphML and GEXF say so themselves).
    chunk_rows : int, default 1_000_000
        Rows of an edge list read at a time.
    progress : bool, default False
        Show a progress bar over the rows read.
    **roles
        ``creators``, ``users``, ``rural``, ``regions``, ``creator_kind``, ``follows`` and
        ``seed``, as for :func:`from_networkx` (``attr:`` rules need node attributes:
        GraphML and GEXF only).

    Returns
    -------
    TrustGraph

    Raises
    ------
    GraphError
        Naming the file, the column or attribute, the rows and values that are wrong, and
        what is allowed. Rows are counted from 1 over the lines of data (a header and
        comment lines are not counted).
    """
    from .roles import RoleMapping

    path = Path(path)
    kind = graph_format(path, format)
    mapping = RoleMapping.checked(str(path), transform, **roles)
    if not path.exists():
        raise GraphError(f"{path}: no such file")
    if nodes is not None and kind != "csv":
        raise GraphError(f"{path}: a node list goes with laotie's CSV edge list, not {kind}")
    if kind == "npz":
        if forced_npz(path, format):
            raise GraphError(
                f"{path}: format = 'npz', but the file is not a laotie npz graph (one saved "
                f"by laotie: laotie graph --out FILE.npz); allowed formats: {', '.join(FORMATS)}: "
                "name the file's own, or none to go by its suffix"
            )
        if trust or source or target or not mapping.empty or transform != "identity":
            raise GraphError(f"{path}: a graph saved by laotie is already mapped; no mapping")
        return load(path)
    if kind in ("graphml", "gexf"):
        return _read_networkx(path, kind, trust, transform, roles)
    if kind == "csv" and source is None and target is None and trust is None:
        header = _csv_header(path)
        if set(header) <= set(EDGE_COLUMNS) and {"source", "target"} <= set(header):
            if transform != "identity":
                raise GraphError(
                    f"{path}: laotie's CSV edge list holds trust in (0, 1] already, so "
                    f"transform = {transform!r} would not apply; to transform a column of raw "
                    "weights, name it (trust=, --trust-attr) and say whether ties are "
                    "directed (directed=, --directed)"
                )
            graph = read_csv(path, nodes)
            if graph.n_nodes == 0:
                raise GraphError(f"{path}: the edge list has no ties (and no node list nodes)")
            if mapping.empty and transform == "identity":
                return graph
            from .roles import assign_roles

            return assign_roles(graph, mapping, where=str(path))
    if nodes is not None:
        raise GraphError(f"{path}: --nodes goes with laotie's CSV edge list only")
    return _read_table(
        path, kind, source, target, trust, transform, directed, chunk_rows, progress, mapping
    )


def _csv_header(path: Path) -> list[str]:
    import pandas as pd

    with reading(path, GraphError, what="not a readable CSV file", named=False):
        return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def _read_networkx(
    path: Path, kind: str, trust: str | None, transform: str, roles: dict[str, Any]
) -> TrustGraph:
    import networkx as nx

    reader = nx.read_graphml if kind == "graphml" else nx.read_gexf
    with reading(path, GraphError, what=f"not a readable {kind.upper()} file", named=False):
        graph = reader(path)
    if graph.number_of_nodes() == 0:
        raise GraphError(f"{path}: the {kind.upper()} file has no nodes (and so no ties)")
    if graph.is_multigraph():
        raise GraphError(
            f"{path}: the {kind.upper()} file has parallel edges (a multigraph); laotie "
            "takes one tie per pair"
        )
    # Errors name the file; a name the file gave the graph is kept as its title.
    title = graph.graph.pop("name", None)
    if title:
        graph.graph["title"] = title
    graph.name = str(path)
    return from_networkx(graph, trust=trust, transform=transform, **roles)


def _read_table(
    path: Path,
    kind: str,
    source: str | None,
    target: str | None,
    trust: str | None,
    transform: str,
    directed: bool,
    chunk_rows: int,
    progress: bool,
    mapping: Any,
) -> TrustGraph:
    """An edge list read in chunks into arrays, then mapped as :func:`from_networkx` maps."""
    import pandas as pd
    from tqdm.auto import tqdm

    from .roles import assign_roles, transform_trust, warn_unmapped

    where = str(path)
    if kind == "csv":
        header = _csv_header(path)
        source, target = source or "source", target or "target"
        missing = [c for c in (source, target, trust) if c is not None and c not in header]
        if missing:
            raise GraphError(
                f"{path}: no column(s) {', '.join(map(repr, missing))}; the columns are "
                f"{', '.join(map(repr, header))} (name them with source=, target=, trust=; "
                "--source-col, --target-col, --trust-attr)"
            )
        options: dict[str, Any] = {"dtype": {source: str, target: str}}
    else:
        if source is not None or target is not None:
            raise GraphError(
                f"{path}: a whitespace edge list has no column names; its columns are "
                "source, target, weight, column4, ..."
            )
        source, target = "source", "target"
        width = _edgelist_width(path)
        header = ["source", "target", "weight", *(f"column{i}" for i in range(4, width + 1))]
        header = header[:width]
        if width < 2:
            raise GraphError(f"{path}: an edge list needs two columns (source target) per line")
        _refuse_header(path)
        if trust is not None and trust not in header:
            raise GraphError(
                f"{path}: no column {trust!r}; a whitespace edge list's columns are "
                f"{', '.join(header)}"
            )
        # Read by position, without names: a line with more fields than the first is then
        # a parser error, where names would silently shift it into the index.
        options = {"sep": r"\s+", "header": None, "comment": "#", "dtype": {0: str, 1: str}}
    keep = [c for c in (source, target, trust) if c is not None]
    warn_unmapped(
        where,
        "column",
        [c for c in header if c not in keep],
        "name the trust column with trust= (--trust-attr) or delete the column",
    )
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    raws: list[np.ndarray] = []
    ids = _Labels()
    rows = 0
    with reading(path, GraphError, what=f"not a readable {kind} file", named=False):
        usecols = keep if kind == "csv" else None
        reader = pd.read_csv(
            path, usecols=usecols, chunksize=chunk_rows, keep_default_na=False, **options
        )
        with tqdm(
            desc=f"Reading {path.name}", unit=" edges", disable=not progress, leave=False
        ) as bar:
            for chunk in reader:
                if kind != "csv":
                    chunk.columns = header[: chunk.shape[1]]
                for column in (source, target):
                    ends = chunk[column]
                    blank = np.flatnonzero((ends.isna() | (ends == "")).to_numpy())
                    if blank.size:
                        raise GraphError(
                            f"{path}: {blank.size} row(s) have no value in column "
                            f"{column!r}, e.g. rows {few((rows + blank[:SHOWN] + 1).tolist())}"
                        )
                ends = np.column_stack([chunk[source].to_numpy(), chunk[target].to_numpy()])
                codes = ids.codes(ends.ravel())
                sources.append(codes[0::2])
                targets.append(codes[1::2])
                if trust is not None:
                    raws.append(_numbers(chunk[trust], path, trust, rows))
                rows += len(chunk)
                bar.update(len(chunk))
    if rows == 0:
        raise GraphError(f"{path}: the {kind} file has no ties")
    src = np.concatenate(sources) if sources else np.zeros(0, np.int64)
    dst = np.concatenate(targets) if targets else np.zeros(0, np.int64)
    raw = np.concatenate(raws) if raws else None
    n = len(ids.labels)
    # A tie listed twice keeps its last weight (as networkx does); undirected ties are pairs.
    a, b = (src, dst) if directed else (np.minimum(src, dst), np.maximum(src, dst))
    key = a * max(n, 1) + b
    _, last = np.unique(key[::-1], return_index=True)
    order = np.sort(len(key) - 1 - last)
    src, dst = src[order], dst[order]
    summary: dict[str, Any] = {}
    if raw is None:
        if transform != "identity":
            raise GraphError(
                f"{path}: transform = {transform!r} needs the raw trust values; name their "
                "column with trust= (--trust-attr)"
            )
        trust_values = np.full(len(src), layer_trust()["local"])
    else:
        trust_values, summary["trust"] = transform_trust(
            raw[order], transform, where=where, attr=str(trust), rows=order + 1
        )
    if not directed:
        loops = src == dst
        src, dst = np.concatenate([src, dst[~loops]]), np.concatenate([dst, src[~loops]])
        trust_values = np.concatenate([trust_values, trust_values[~loops]])
    labels = _as_ids(ids.labels)
    graph = TrustGraph.from_edges(
        n,
        src,
        dst,
        trust_values,
        np.zeros(len(src), np.int8),
        labels=None if labels == list(range(n)) else labels,
        meta={"source_file": path.name},
        where=where,
    )
    if mapping.empty and not summary:
        return graph
    return assign_roles(graph, mapping, where=where, summary=summary)


class _Labels:
    """Node labels met so far, numbered in order of first appearance (as networkx adds
    them: u, then v, line by line); only the labels are kept, each once."""

    def __init__(self) -> None:
        import pandas as pd

        self.labels: list[str] = []
        self._index = pd.Index([], dtype=object)

    def codes(self, text: np.ndarray) -> np.ndarray:
        """The node id of each label in ``text``, numbering the new ones."""
        import pandas as pd

        local, uniques = pd.factorize(text)
        found = self._index.get_indexer(uniques)
        new = found < 0
        found[new] = len(self.labels) + np.arange(int(new.sum()))
        if new.any():
            added = [str(x) for x in uniques[new]]
            self.labels += added
            self._index = self._index.append(pd.Index(added, dtype=object))
        return found.astype(np.int64)[local]


HEADER_WORDS = frozenset(
    {
        "source",
        "target",
        "from",
        "to",
        "src",
        "dst",
        "u",
        "v",
        "node1",
        "node2",
        "weight",
        "trust",
        "id1",
        "id2",
    }
)
"""Words that name columns: a whitespace edge list whose first line is two of them has a
header, which would otherwise be read as a tie."""


def _refuse_header(path: Path) -> None:
    """Refuse a whitespace edge list whose first line of data names its columns."""
    import pandas as pd

    with reading(path, GraphError):
        first = pd.read_csv(path, sep=r"\s+", header=None, comment="#", nrows=1, dtype=str)
    words = [str(x).lower() for x in first.iloc[0, :2]]
    if all(word in HEADER_WORDS for word in words):
        raise GraphError(
            f"{path}: the first line ({' '.join(map(str, first.iloc[0]))}) names columns, but a "
            "whitespace edge list has no header and would read it as a tie: delete the line, "
            "or comment it out with #"
        )


def _edgelist_width(path: Path) -> int:
    """The number of columns of the first line of data of a whitespace edge list."""
    import pandas as pd

    with reading(path, GraphError, what="not a readable edge list", named=False):
        try:
            first = pd.read_csv(path, sep=r"\s+", header=None, comment="#", nrows=1, dtype=str)
        except pd.errors.EmptyDataError:
            raise GraphError(f"{path}: the edge list has no ties") from None
    return int(first.shape[1])


def _numbers(column: Any, path: Path, name: str, first_row: int) -> np.ndarray:
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(np.isnan(values) & (column.astype(str).str.lower() != "nan").to_numpy())
    if bad.size:
        raise GraphError(
            f"{path}: {bad.size} row(s) have a {name!r} that is not a number, e.g. rows "
            f"{few((first_row + bad[:SHOWN] + 1).tolist())} "
            f"(values {few(column.iloc[bad[:SHOWN]].tolist())})"
        )
    return values
