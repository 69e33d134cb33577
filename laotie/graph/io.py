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

from .._io import atomic_write, json_default
from ..errors import GraphError
from ._core import CREATOR_KINDS, LAYERS, TrustGraph
from ._messages import SHOWN, few
from .convert import from_networkx, layer_trust, to_networkx

__all__ = ["from_networkx", "load", "read_csv", "save", "to_networkx", "write_csv"]

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

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=np.array(encoded), **arrays)

    _atomic(path, write)


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
        If the file is missing, is not a laotie graph, was written by a newer laotie, or
        holds a graph that fails :meth:`TrustGraph.validate`.
    """
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
