"""The invariants of a trust graph, checked when it is made (:meth:`TrustGraph.validate`).

Each function returns the problems it finds as sentences, each naming how many entries have
the problem and a few of them, so that one error can list them all.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from ._build import build_threads, row_spans
from ._messages import SHOWN, listed
from .codes import CREATOR_KINDS, FOLLOW, LAYERS, NODE_ATTRIBUTES, NOT_CREATOR, OUTSIDE

if TYPE_CHECKING:
    from ._core import TrustGraph

__all__ = ["array_problems", "graph_problems"]


def array_problems(
    nodes: dict[str, Any],
    indptr: Any,
    indices: Any,
    trust: Any,
    layer: Any,
    labels: np.ndarray | None,
    n_regions: int,
) -> list[str]:
    """What is wrong with the arrays a graph is made of, before they are cast.

    Parameters
    ----------
    nodes : dict of str to array_like
        The node attributes by name.
    indptr, indices, trust, layer : array_like
        The CSR arrays and the edges' weights and layer codes.
    labels : numpy.ndarray or None
        The node labels, if any.
    n_regions : int
        Number of region names.

    Returns
    -------
    list of str
        One sentence per problem (wrong shapes, dtypes, unknown node ids, repeated labels).
    """
    if np.ndim(indptr) != 1 or np.size(indptr) == 0:
        # Without a row pointer there is no number of nodes to check the rest against.
        return _check_edge_arrays(indptr, indices, trust, layer)
    n_nodes = len(indptr) - 1
    problems = _check_node_arrays(nodes, n_nodes, n_regions)
    problems += _check_edge_arrays(indptr, indices, trust, layer)
    if labels is not None:
        problems += _check_labels(labels, n_nodes)
    return problems


def graph_problems(graph: TrustGraph, *, arrays_checked: bool = False) -> list[str]:
    """What breaks the invariants of ``graph`` (see :meth:`TrustGraph.validate`).

    Parameters
    ----------
    graph : TrustGraph
        The graph, its arrays as they are now (changed in place, perhaps).
    arrays_checked : bool, default False
        Whether :func:`array_problems` found nothing in these arrays already (the
        constructor's check): if not, it runs first, and its problems are the answer.

    Returns
    -------
    list of str
        One sentence per problem; empty when the graph is valid.
    """
    if not arrays_checked:
        # Shapes, dtypes, the row pointer and the ids' bounds first: the checks below read
        # the ties row by row, and the compiled one trusts them.
        nodes = {name: getattr(graph, name) for name in NODE_ATTRIBUTES}
        problems = array_problems(
            nodes,
            graph.indptr,
            graph.indices,
            graph.trust,
            graph.layer,
            graph.labels,
            len(graph.region_names),
        )
        if problems:
            return problems
    problems = []
    kind = graph.creator_kind
    if _all_edges_hold(graph):
        # Every edge invariant holds (one compiled pass): only the nodes' are left to check.
        return problems + _node_problems(graph)
    src = graph.sources()
    dst = graph.indices
    trust = graph.trust
    nan = np.isnan(trust)
    _report(problems, graph, nan, src, "have trust weight NaN")
    _report(problems, graph, ~nan & (trust <= 0), src, "have trust weight ≤ 0")
    _report(problems, graph, ~nan & (trust > 1), src, "have trust weight > 1")
    _report(problems, graph, src == dst, src, "are self-loops")
    if dst.size:
        same_row = src[1:] == src[:-1]
        dup = np.zeros(dst.size, bool)
        dup[1:] = same_row & (dst[1:] == dst[:-1])
        _report(problems, graph, dup, src, "are duplicates of the edge before them")
        unsorted = np.zeros(dst.size, bool)
        unsorted[1:] = same_row & (dst[1:] < dst[:-1])
        _report(problems, graph, unsorted, src, "are out of order within their row")
    bad_layer = (graph.layer < 0) | (graph.layer >= len(LAYERS))
    if bad_layer.any():
        allowed = _codes(LAYERS)
        _report(problems, graph, bad_layer, src, f"have an unknown layer code (allowed: {allowed})")
    follow = graph.layer == FOLLOW
    _report(problems, graph, follow & ~graph.user[src], src, "are follow ties from a non-user")
    _report(
        problems,
        graph,
        follow & (graph.creator_kind[dst] == NOT_CREATOR),
        src,
        "are follow ties to a node that is not a creator",
    )
    _report(
        problems,
        graph,
        (kind == OUTSIDE)[src],
        src,
        "are ties from a creator outside the city",
    )
    _report(
        problems,
        graph,
        (kind == OUTSIDE)[graph.indices] & ~follow,
        src,
        "are local or city ties to a creator outside the city (only follows reach them)",
    )
    return problems + _node_problems(graph)


def _node_problems(graph: TrustGraph) -> list[str]:
    """What breaks the invariants of the nodes' attributes (the edges' are checked apart)."""
    problems: list[str] = []
    kind = graph.creator_kind
    bad_kind = (kind < 0) | (kind >= len(CREATOR_KINDS))
    if bad_kind.any():
        problems.append(
            f"{int(bad_kind.sum())} node(s) have an unknown creator_kind "
            f"(allowed: {_codes(CREATOR_KINDS)}), "
            f"e.g. nodes {_ids(graph, np.flatnonzero(bad_kind))}"
        )
    lay = (kind > 0) & (kind != OUTSIDE) & ~graph.user
    if lay.any():
        problems.append(
            f"{int(lay.sum())} creator(s) are not registered users, "
            f"e.g. nodes {_ids(graph, np.flatnonzero(lay))}"
        )
    # Creators outside the city are not the city's users and have no ties of their own.
    away = kind == OUTSIDE
    if (away & graph.user).any():
        problems.append(
            f"{int((away & graph.user).sum())} creator(s) outside the city are marked as the "
            f"city's users, e.g. nodes {_ids(graph, np.flatnonzero(away & graph.user))}"
        )
    for name in ("region", "hometown"):
        codes = getattr(graph, name)
        bad = (codes < 0) | (codes >= len(graph.region_names))
        if bad.any():
            problems.append(
                f"{int(bad.sum())} node(s) have an unknown {name} code (there are "
                f"{len(graph.region_names)} regions), "
                f"e.g. nodes {_ids(graph, np.flatnonzero(bad))}"
            )
    if len(set(graph.region_names)) != len(graph.region_names):
        problems.append(f"region names are not unique: {list(graph.region_names)}")
    return problems


THREADED_TIES = 1_000_000
"""Graphs of this many ties or more check their edges in two threads (:func:`_all_edges_hold`)."""


def _all_edges_hold(graph: TrustGraph) -> bool:
    """:func:`_edges_hold` over all the rows: for a large graph, two runs of rows with about
    as many ties each, in two threads (the kernel releases the GIL). The creator kinds are
    read in their own integer dtype: a whole city's int8 codes stay in the cache, where a
    copy in int64 did not (0.74 against 1.05 s on the whole city, in one thread). False
    (the numpy checks decide) for weights the compiled pass cannot read exactly."""
    if graph.trust.dtype.kind == "f" and graph.trust.dtype.itemsize > 8:
        return False  # long double weights: float64 would round them; the numpy checks decide
    kind = _readable(graph.creator_kind)
    user = np.asarray(graph.user, bool)
    threads = build_threads() if graph.n_edges >= THREADED_TIES else 1
    indptr, indices, trust, layer = (
        _readable(a) for a in (graph.indptr, graph.indices, graph.trust, graph.layer)
    )
    arrays = (indptr, indices, trust, layer, user, kind, len(LAYERS))
    if threads == 1:
        return bool(_edges_hold(*arrays, 0, len(graph.indptr) - 1))
    spans = row_spans(graph.indptr, threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return all(pool.map(lambda span: bool(_edges_hold(*arrays, *span)), spans))


def _readable(array: Any) -> np.ndarray:
    """``array`` as the compiled checks read it: in the machine's byte order, and float16
    as float64 (exactly). No copy when it already is. (Long double weights are not read by
    the compiled checks: :func:`_all_edges_hold`.)"""
    array = np.asarray(array)
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        return array.astype(np.float64)
    if not array.dtype.isnative:
        return array.astype(array.dtype.newbyteorder("="))
    return array


def _integers(dtype: np.dtype) -> bool:
    """Whether ``dtype`` holds integers: signed or unsigned, not bool nor timedelta64 (which
    numpy counts as integers)."""
    return dtype.kind in "iu"


@numba.njit(cache=True, nogil=True)
def _edges_hold(indptr, indices, trust, layer, user, kind, n_layers, lo, hi):  # type: ignore[no-untyped-def]
    """Whether every edge invariant of :func:`graph_problems` holds in rows ``lo``..``hi``, in
    one pass: weights in (0, 1], no self-loop, each row's targets strictly increasing
    (sorted, no duplicate), known layer codes, follows from users to creators, and no tie
    from a creator outside the city nor a local or city tie to one."""
    for i in range(lo, hi):
        away = kind[i] == OUTSIDE
        start, end = indptr[i], indptr[i + 1]
        if away and end > start:
            return False
        for k in range(start, end):
            d = indices[k]
            t = trust[k]
            if not (t > 0 and t <= 1) or d == i or (k > start and d <= indices[k - 1]):
                return False
            code = layer[k]
            if code < 0 or code >= n_layers:
                return False
            if code == FOLLOW:
                if not user[i] or kind[d] == NOT_CREATOR:
                    return False
            elif kind[d] == OUTSIDE:
                return False
    return True


def _report(
    problems: list[str], graph: TrustGraph, mask: np.ndarray, src: np.ndarray, what: str
) -> None:
    if not mask.any():
        return
    at = np.flatnonzero(mask)[:SHOWN]
    pairs = ", ".join(
        f"{_label(graph, s)}→{_label(graph, d)}"
        for s, d in zip(src[at], graph.indices[at], strict=True)
    )
    problems.append(f"{int(mask.sum())} edge(s) {what}, e.g. {pairs}")


def _label(graph: TrustGraph, i: Any) -> str:
    return repr(graph.labels[i]) if graph.labels is not None else str(int(i))


def _ids(graph: TrustGraph, nodes: np.ndarray) -> str:
    return ", ".join(_label(graph, i) for i in nodes[:SHOWN])


def _check_node_arrays(arrays: dict[str, Any], n_nodes: int, n_regions: int) -> list[str]:
    problems = []
    kinds = {
        "region": "integer",
        "hometown": "integer",
        "rural": "bool",
        "user": "bool",
        "creator_kind": "integer",
    }
    for name, values in arrays.items():
        if values is None:
            problems.append(f"node attribute {name!r} is missing")
            continue
        values = np.asarray(values)
        if values.ndim != 1 or len(values) != n_nodes:
            problems.append(
                f"node attribute {name!r} has shape {values.shape}; expected ({n_nodes},)"
            )
            continue
        ok = values.dtype == np.bool_ if kinds[name] == "bool" else _integers(values.dtype)
        if not ok and values.size:
            problems.append(
                f"node attribute {name!r} has dtype {values.dtype}; expected {kinds[name]}"
            )
    if n_regions == 0:
        problems.append("there are no regions (region_names is empty)")
    return problems


def _check_edge_arrays(indptr: Any, indices: Any, trust: Any, layer: Any) -> list[str]:
    indptr = np.asarray(indptr)
    indices = np.asarray(indices)
    if indptr.ndim != 1 or indptr.size == 0:
        return [f"indptr must be a 1-d array of length n_nodes + 1, got shape {indptr.shape}"]
    if indices.ndim != 1:
        return [f"indices must be a 1-d array of node ids, got shape {indices.shape}"]
    n_nodes = indptr.size - 1
    problems = _row_pointer_problems(indptr, indices.size)
    for name, arr in (("trust", trust), ("layer", layer)):
        if np.shape(arr) != indices.shape:
            problems.append(f"{name} has shape {np.shape(arr)}; expected {indices.shape}")
    if indices.size:
        if not _integers(indices.dtype):
            problems.append(f"node ids must be integers, got dtype {indices.dtype}")
        else:
            # The bounds first (no temporary as long as the whole graph's ties).
            if indices.min() < 0 or indices.max() >= n_nodes:
                bad = np.flatnonzero((indices < 0) | (indices >= n_nodes))
                problems.append(
                    f"{bad.size} edge(s) point to unknown node ids (valid ids are "
                    f"0 .. {n_nodes - 1}), e.g. {listed(indices[bad])}"
                )
    weights = np.asarray(trust).dtype
    if weights.kind not in "iuf":
        problems.append(f"trust weights must be real numbers, got dtype {weights}")
    if not _integers(np.asarray(layer).dtype):
        problems.append(f"layer codes must be integers, got dtype {np.asarray(layer).dtype}")
    return problems


def _row_pointer_problems(indptr: np.ndarray, n_edges: int) -> list[str]:
    """What is wrong with the row pointer ``indptr`` of ``n_edges`` ties (1-d, not empty)."""
    if not _integers(indptr.dtype):
        return [f"indptr must be integers, got dtype {indptr.dtype}"]
    if indptr[0] != 0 or indptr[-1] != n_edges or np.any(indptr[1:] < indptr[:-1]):
        return ["indptr is not a valid CSR row pointer (must rise from 0 to n_edges)"]
    return []


def _check_labels(labels: np.ndarray, n_nodes: int) -> list[str]:
    if len(labels) != n_nodes:
        return [f"there are {len(labels)} labels for {n_nodes} nodes"]
    seen: set[Any] = set()
    dup = []
    try:
        for label in labels:
            if label in seen:
                dup.append(label)
            seen.add(label)
    except TypeError as err:
        return [f"node labels must be hashable ({err})"]
    if dup:
        shown = ", ".join(repr(label) for label in dup[:SHOWN])
        return [f"{len(dup)} node label(s) are duplicates, e.g. {shown}"]
    return []


def _codes(names: tuple[str, ...]) -> str:
    return ", ".join(f"{i} = {name}" for i, name in enumerate(names))
