"""Trust graphs in and out: networkx, CSV edge and node lists, and a lossless ``.npz`` format.

Every loader validates what it reads and names the file (or the networkx graph), the
attribute or column, how many entries are wrong and a few of them.

networkx conventions
--------------------
Node attributes: ``region`` and ``hometown`` (region names: str, or int), ``rural`` and
``user`` (bool), ``creator_kind`` (one of ``"none"``, ``"head"``, ``"local"``, ``"gov"``).
Edge attributes: ``trust`` (a number in (0, 1]) and ``layer`` (``"local"``, ``"city"`` or
``"follow"``). The graph attribute ``regions`` (a list of names) fixes the order of region
codes; without it regions are numbered in sorted order.

An attribute must be on every node (or edge) or on none. When it is on none, the default is
used: ``region`` ``"all"``, ``hometown`` = ``region``, ``rural`` False, ``user`` True,
``creator_kind`` ``"none"``, ``layer`` ``"local"``, ``trust`` the layer's mean trust in the
default :class:`~laotie.graph.CitySpec` (local 0.6, city 0.3, follow 0.4) or
``default_trust``. An undirected graph's edges become two directed edges with the same trust;
follow ties need a directed graph.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write, json_default
from ..errors import GraphError
from ._core import CREATOR_KINDS, FOLLOW, LAYERS, TrustGraph

__all__ = ["from_networkx", "load", "read_csv", "save", "to_networkx", "write_csv"]

_SHOWN = 5
_FORMAT = "laotie.TrustGraph"
_FORMAT_VERSION = 1


def _default_trust() -> dict[str, float]:
    from .spec import CitySpec

    fields = CitySpec.params()
    return {
        "local": fields["trust_local"].default,
        "city": fields["trust_city"].default,
        "follow": fields["trust_follow"].default,
    }


def _few(items: Iterable[Any]) -> str:
    items = list(items)
    more = ", ..." if len(items) > _SHOWN else ""
    return ", ".join(repr(x) for x in items[:_SHOWN]) + more


# ---------------------------------------------------------------------------- networkx
def from_networkx(graph: Any, *, default_trust: float | None = None) -> TrustGraph:
    """Convert a networkx graph to a :class:`TrustGraph` (conventions in the module docstring).

    Parameters
    ----------
    graph : networkx.Graph or networkx.DiGraph
        Node labels may be any hashable; they are kept and given back by :func:`to_networkx`.
    default_trust : float, optional
        Trust of every edge when no edge has a ``trust`` attribute (default: the layer's mean).

    Raises
    ------
    GraphError
        For multigraphs, attributes present on some entries only, wrongly typed values, unknown
        layers or creator kinds, and every invariant of :meth:`TrustGraph.validate`.
    """

    where = f"networkx graph {graph.name!r}" if graph.name else "networkx graph"
    if graph.is_multigraph():
        raise GraphError(f"{where}: multigraphs are not supported (parallel edges)")
    labels = list(graph.nodes)
    index = {label: i for i, label in enumerate(labels)}
    n = len(labels)

    node_data = [graph.nodes[v] for v in labels]
    region_values = _node_column(node_data, labels, "region", where, (str, int))
    hometown_values = _node_column(node_data, labels, "hometown", where, (str, int))
    names = graph.graph.get("regions")
    present = [v for v in (region_values or []) + (hometown_values or [])]
    if names is None:
        names = sorted(set(present), key=lambda v: (isinstance(v, str), v)) if present else ["all"]
    names = [str(x) for x in names]
    code = {name: i for i, name in enumerate(names)}

    def region_codes(values: list[Any] | None, attr: str) -> np.ndarray | None:
        if values is None:
            return None
        unknown = [lab for lab, v in zip(labels, values, strict=True) if str(v) not in code]
        if unknown:
            raise GraphError(
                f"{where}: {len(unknown)} node(s) have a {attr} that is not in the graph's "
                f"regions {names}, e.g. nodes {_few(unknown)}"
            )
        return np.array([code[str(v)] for v in values], dtype=np.int16)

    region = region_codes(region_values, "region")
    if region is None:
        if hometown_values is not None:
            raise GraphError(
                f"{where}: nodes have a 'hometown' but no 'region'; give both (the region is "
                "where a resident lives, the hometown where they come from)"
            )
        region = np.zeros(n, dtype=np.int16)
    hometown = region_codes(hometown_values, "hometown")
    rural = _node_column(node_data, labels, "rural", where, (bool,))
    user = _node_column(node_data, labels, "user", where, (bool,))
    kinds = _node_column(node_data, labels, "creator_kind", where, (str,))
    if kinds is not None:
        unknown = [lab for lab, k in zip(labels, kinds, strict=True) if k not in CREATOR_KINDS]
        if unknown:
            raise GraphError(
                f"{where}: {len(unknown)} node(s) have an unknown creator_kind (allowed: "
                f"{', '.join(CREATOR_KINDS)}), e.g. nodes {_few(unknown)}"
            )
        kind_codes = np.array([CREATOR_KINDS.index(k) for k in kinds], dtype=np.int8)
    else:
        kind_codes = None

    edges = list(graph.edges(data=True))
    src = np.array([index[u] for u, _, _ in edges], dtype=np.int64)
    dst = np.array([index[v] for _, v, _ in edges], dtype=np.int64)
    edge_labels = [(u, v) for u, v, _ in edges]
    layer_names = _edge_column(edges, edge_labels, "layer", where, (str,))
    if layer_names is None:
        layer = np.zeros(len(edges), dtype=np.int8)
    else:
        unknown = [
            e for e, name in zip(edge_labels, layer_names, strict=True) if name not in LAYERS
        ]
        if unknown:
            raise GraphError(
                f"{where}: {len(unknown)} edge(s) have an unknown layer (allowed: "
                f"{', '.join(LAYERS)}), e.g. {_few(unknown)}"
            )
        layer = np.array([LAYERS.index(name) for name in layer_names], dtype=np.int8)
    trust_values = _edge_column(edges, edge_labels, "trust", where, (int, float))
    if trust_values is None:
        defaults = _default_trust()
        fill = [defaults[name] for name in LAYERS] if default_trust is None else [default_trust] * 3
        trust = np.array(fill, dtype=np.float64)[layer]
    else:
        trust = np.array(trust_values, dtype=np.float64)

    if not graph.is_directed():
        if np.any(layer == FOLLOW):
            raise GraphError(
                f"{where}: follow ties are one-way; give them in a networkx DiGraph "
                f"(the graph is undirected), "
                f"e.g. {_few(e for e, c in zip(edge_labels, layer, strict=True) if c == FOLLOW)}"
            )
        loops = src == dst
        src, dst = np.concatenate([src, dst[~loops]]), np.concatenate([dst, src[~loops]])
        trust = np.concatenate([trust, trust[~loops]])
        layer = np.concatenate([layer, layer[~loops]])
    meta = {k: v for k, v in graph.graph.items() if k != "regions"}
    return TrustGraph.from_edges(
        n,
        src,
        dst,
        trust,
        layer,
        region=region,
        hometown=hometown,
        rural=None if rural is None else np.array(rural, dtype=bool),
        user=None if user is None else np.array(user, dtype=bool),
        creator_kind=kind_codes,
        region_names=names,
        labels=labels if labels != list(range(n)) else None,
        meta=meta,
        where=where,
    )


def _node_column(
    data: list[dict[str, Any]], labels: list[Any], attr: str, where: str, types: tuple[type, ...]
) -> list[Any] | None:
    return _column(data, labels, attr, where, types, "node", "nodes")


def _edge_column(
    edges: list[tuple[Any, Any, dict[str, Any]]],
    labels: list[Any],
    attr: str,
    where: str,
    types: tuple[type, ...],
) -> list[Any] | None:
    return _column([d for _, _, d in edges], labels, attr, where, types, "edge", "edges")


def _column(
    data: list[dict[str, Any]],
    labels: list[Any],
    attr: str,
    where: str,
    types: tuple[type, ...],
    what: str,
    whats: str,
) -> list[Any] | None:
    """The values of ``attr`` over all entries, None when no entry has it."""
    has = [attr in d for d in data]
    if not any(has):
        return None
    if not all(has):
        missing = [lab for lab, h in zip(labels, has, strict=True) if not h]
        raise GraphError(
            f"{where}: {what} attribute {attr!r} is missing on {len(missing)} of {len(data)} "
            f"{whats} (give it on all or none), e.g. {_few(missing)}"
        )
    values = [d[attr] for d in data]
    allow_bool = bool in types

    def ok(v: Any) -> bool:
        v = v.item() if isinstance(v, np.generic) else v
        return isinstance(v, types) and (allow_bool or not isinstance(v, bool))

    wrong = [lab for lab, v in zip(labels, values, strict=True) if not ok(v)]
    if wrong:
        first = values[[lab for lab in labels].index(wrong[0])]
        allowed = " or ".join(t.__name__ for t in types)
        raise GraphError(
            f"{where}: {what} attribute {attr!r} has a wrong type on {len(wrong)} {whats} "
            f"(expected {allowed}; got {type(first).__name__} {first!r}), e.g. {_few(wrong)}"
        )
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def to_networkx(graph: TrustGraph, *, max_edges: int = 5_000_000) -> Any:
    """Export to a networkx DiGraph (conventions in the module docstring).

    Node labels are the original labels when the graph was imported with labels, else
    ``0 .. n_nodes - 1``. ``trust`` values are the float32 weights as Python floats, so a round
    trip through :func:`from_networkx` is exact.

    Raises
    ------
    GraphError
        If the graph has more than ``max_edges`` edges (networkx needs about 500 bytes each).
    """
    import networkx as nx

    if graph.n_edges > max_edges:
        raise GraphError(
            f"to_networkx: the graph has {graph.n_edges:,} edges, more than max_edges = "
            f"{max_edges:,}; networkx needs about 500 bytes per edge. Pass a larger max_edges "
            "or use write_csv / save"
        )
    labels = list(range(graph.n_nodes)) if graph.labels is None else list(graph.labels)
    out = nx.DiGraph(regions=list(graph.region_names), **graph.meta)
    nodes = graph.node_frame()
    columns = {c: nodes[c].tolist() for c in nodes.columns}
    out.add_nodes_from((lab, {c: columns[c][i] for c in columns}) for i, lab in enumerate(labels))
    src = graph.sources().tolist()
    dst = graph.indices.tolist()
    trust = graph.trust.tolist()
    layer = [LAYERS[c] for c in graph.layer.tolist()]
    out.add_edges_from(
        (labels[s], labels[d], {"trust": t, "layer": ly})
        for s, d, t, ly in zip(src, dst, trust, layer, strict=True)
    )
    return out


# ---------------------------------------------------------------------------- CSV
EDGE_COLUMNS = ("source", "target", "trust", "layer")
NODE_COLUMNS = ("id", "region", "hometown", "rural", "user", "creator_kind")


def write_csv(
    graph: TrustGraph, edges: str | os.PathLike[str], nodes: str | os.PathLike[str]
) -> None:
    """Write the edge list (source, target, trust, layer) and node list (id and attributes).

    Trust is written with enough digits that :func:`read_csv` gives back the same float32.
    Each file is written to a temporary name and renamed, so no half-written file is left.
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
                f"{_few((dup.index[:_SHOWN] + 1).tolist())} (ids {_few(dup.tolist())})"
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
                f"e.g. rows {_few((bad[:_SHOWN] + 1).tolist())} "
                f"({column} {_few(edge_frame[column].iloc[bad[:_SHOWN]].tolist())})"
            )
    layer = np.zeros(len(edge_frame), dtype=np.int8)
    if "layer" in edge_frame:
        names = edge_frame["layer"].astype(str)
        bad = np.flatnonzero(~names.isin(LAYERS).to_numpy())
        if bad.size:
            raise GraphError(
                f"{edges}: {bad.size} row(s) have an unknown layer in column 'layer' (allowed: "
                f"{', '.join(LAYERS)}), e.g. rows {_few((bad[:_SHOWN] + 1).tolist())} "
                f"(values {_few(names.iloc[bad[:_SHOWN]].tolist())})"
            )
        layer = pd.Categorical(names, categories=LAYERS).codes.astype(np.int8)
    if "trust" in edge_frame:
        trust = pd.to_numeric(edge_frame["trust"], errors="coerce").to_numpy(np.float64)
        text = edge_frame["trust"].astype(str)
        bad = np.flatnonzero(np.isnan(trust) & (text.str.lower() != "nan").to_numpy())
        if bad.size:
            raise GraphError(
                f"{edges}: {bad.size} row(s) have a trust that is not a number, e.g. rows "
                f"{_few((bad[:_SHOWN] + 1).tolist())} "
                f"(values {_few(text.iloc[bad[:_SHOWN]].tolist())})"
            )
    else:
        defaults = _default_trust()
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
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=ids)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise GraphError(f"{path}: not a readable CSV file ({err})") from err
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
                f"{', '.join(CREATOR_KINDS)}), e.g. rows {_few((bad[:_SHOWN] + 1).tolist())} "
                f"(values {_few(kinds.iloc[bad[:_SHOWN]].tolist())})"
            )
        attrs["creator_kind"] = np.array([CREATOR_KINDS.index(k) for k in kinds], dtype=np.int8)
    return attrs, names


def _no_blanks(frame: Any, col: str, path: Path) -> None:
    bad = np.flatnonzero(frame[col].isna().to_numpy())
    if bad.size:
        raise GraphError(
            f"{path}: {bad.size} row(s) have no value in column {col!r}, e.g. rows "
            f"{_few((bad[:_SHOWN] + 1).tolist())}"
        )


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _bool_column(frame: Any, col: str, path: Path) -> np.ndarray:
    text = frame[col].astype(str).str.strip().str.lower()
    bad = np.flatnonzero(~text.isin(_TRUE | _FALSE).to_numpy())
    if bad.size:
        raise GraphError(
            f"{path}: {bad.size} row(s) have a value in column {col!r} that is not true or "
            f"false, e.g. rows {_few((bad[:_SHOWN] + 1).tolist())} "
            f"(values {_few(frame[col].iloc[bad[:_SHOWN]].tolist())})"
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

    Labels, when present, must be JSON-serialisable (str, int, float).
    """
    path = Path(path)
    if graph.labels is not None:
        odd = [x for x in graph.labels if not isinstance(x, str | int | float | np.generic)]
        if odd:
            raise GraphError(
                f"{path}: cannot save {len(odd)} label(s) that are not str, int or float, "
                f"e.g. {_few(odd)}"
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

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=np.array(encoded), **arrays)

    _atomic(path, write)


def load(path: str | os.PathLike[str]) -> TrustGraph:
    """Load a graph written by :func:`save`, validating it."""
    path = Path(path)
    if not path.exists():
        raise GraphError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = {name: data[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError, TypeError) as err:  # TypeError: a .npy file
        raise GraphError(f"{path}: not a laotie graph file ({err})") from err
    fmt = header.get("format") if isinstance(header, dict) else None
    if fmt != _FORMAT:
        raise GraphError(f"{path}: not a laotie graph file (format {fmt!r})")
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


def _atomic(path: Path, write: Any) -> None:
    """Write ``path`` atomically (see :func:`laotie._io.atomic_write`); errors are GraphErrors."""
    atomic_write(path, write, GraphError)
