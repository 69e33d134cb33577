"""Trust graphs to and from networkx, the interchange format for small graphs.

The importer validates what it reads and names the graph, the attribute, how many entries
are wrong and a few of them.

Conventions
-----------
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

from typing import Any

import numpy as np

from .._random import SeedLike
from ..errors import GraphError
from ._core import CREATOR_KINDS, FOLLOW, LAYERS, TrustGraph
from ._messages import few
from .roles import transform_trust

__all__ = ["from_networkx", "layer_trust", "to_networkx"]


def layer_trust() -> dict[str, float]:
    """The trust of an edge of each layer when none is given: the layer's mean trust in the
    default :class:`~laotie.graph.CitySpec`.

    Returns
    -------
    dict of str to float
        ``{"local": ..., "city": ..., "follow": ...}``.
    """
    from .spec import CitySpec

    fields = CitySpec.params()
    return {
        "local": fields["trust_local"].default,
        "city": fields["trust_city"].default,
        "follow": fields["trust_follow"].default,
    }


def from_networkx(
    graph: Any,
    *,
    default_trust: float | None = None,
    trust: str | None = None,
    transform: str = "identity",
    creators: str | None = None,
    users: str | None = None,
    rural: str | None = None,
    regions: str | None = None,
    creator_kind: str = "local",
    follows: Any = None,
    seed: SeedLike = 0,
) -> TrustGraph:
    """Convert a networkx graph to a :class:`TrustGraph`, mapping its attributes explicitly.

    With no mapping the conventions of the module docstring apply. Each mapping argument
    replaces one convention: ``trust`` names the edge attribute that holds trust and
    ``transform`` how its raw values become trust in (0, 1]; ``creators``, ``users``,
    ``rural`` and ``regions`` are rules (:mod:`laotie.graph.roles`: ``attr:NAME``,
    ``top-degree:K``, ``top:NAME:K``, ``random:SHARE``, ``louvain``, ...). A node or edge
    attribute present in the graph and used by neither a convention nor the mapping is
    reported by a :class:`~laotie.graph.roles.MappingWarning` that names it. What was mapped
    and assigned is stored in ``meta["mapping"]``
    (:func:`~laotie.graph.roles.describe_mapping` prints it).

    Parameters
    ----------
    graph : networkx.Graph or networkx.DiGraph
        Node labels may be any hashable; they are kept and given back by :func:`to_networkx`.
    default_trust : float, optional
        Trust of every edge when no edge has a trust attribute (default: the layer's mean).
    trust : str, optional
        The edge attribute holding trust (default: ``"trust"`` when the edges have it).
    transform : str, default "identity"
        ``identity``, ``minmax[:LOW]``, ``rank`` or ``saturating[:K]``: for raw values
        ``w``, ``t = w``; ``t = LOW + (1 - LOW)(w - min w)/(max w - min w)`` (LOW = 0.01);
        ``t = rank(w) / m`` over the ``m`` ties (ties share their average rank);
        ``t = w / (w + K)`` with ``K`` the median of ``w`` unless given. An undirected tie is
        transformed once.
    creators : str, optional
        Rule marking the creators, drawn among the users (default: the ``creator_kind``
        attribute, or none).
    users : str, optional
        Rule marking the registered users (default: the ``user`` attribute, or all).
    rural : str, optional
        Rule marking rural nodes, among which the engine draws poor producers (default: the
        ``rural`` attribute, or none).
    regions : str, optional
        ``attr:NAME``, ``louvain``, ``greedy`` or ``none`` (default: the ``region`` and
        ``hometown`` attributes, or one region). Regions by rule set each hometown to the
        region.
    creator_kind : {"local", "head", "gov"}, default "local"
        The kind of creators chosen by a rule other than an ``attr:`` of kinds.
    follows : CitySpec, optional
        Grow follow ties onto the graph with this city's follower model (a directed graph
        results; the graph must have no follow ties). ``Scenario.preset("village").city``
        is a good start.
    seed : int, SeedSequence, Generator or None, default 0
        Seeds the ``random:`` rules, Louvain and the follow ties; the same seed gives the
        same graph.

    Returns
    -------
    TrustGraph
        With the node labels of ``graph`` in ``labels`` and its graph attributes in ``meta``.

    Raises
    ------
    GraphError
        For multigraphs, attributes present on some entries only, wrongly typed values, unknown
        layers or creator kinds, trust values outside the transform's domain, malformed
        rules, and every invariant of :meth:`TrustGraph.validate`.

    Examples
    --------
    >>> import networkx as nx
    >>> g = from_networkx(nx.les_miserables_graph(), trust="weight", transform="rank",
    ...                   creators="top-degree:5")
    >>> int(g.creators().size), g.n_edges
    (5, 508)
    """
    from .roles import RoleMapping, assign_roles, warn_unmapped

    where = f"networkx graph {graph.name!r}" if graph.name else "networkx graph"
    mapping = RoleMapping.checked(
        where,
        transform,
        creators=creators,
        users=users,
        rural=rural,
        regions=regions,
        creator_kind=creator_kind,
        follows=follows,
        seed=seed,
    )
    if graph.is_multigraph():
        raise GraphError(f"{where}: multigraphs are not supported (parallel edges)")
    labels = list(graph.nodes)
    index = {label: i for i, label in enumerate(labels)}
    n = len(labels)

    node_data = [graph.nodes[v] for v in labels]
    # The conventional attributes that a rule replaces are not read (and so reported).
    conventions = {
        "region": mapping.regions,
        "hometown": mapping.regions,
        "rural": mapping.rural,
        "user": mapping.users,
        "creator_kind": mapping.creators,
    }
    node_data_read = [
        {k: v for k, v in d.items() if k not in conventions or conventions[k] is None}
        for d in node_data
    ]
    region_values = _node_column(node_data_read, labels, "region", where, (str, int))
    hometown_values = _node_column(node_data_read, labels, "hometown", where, (str, int))
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
                f"regions {names}, e.g. nodes {few(unknown)}"
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
    rural_flags = _node_column(node_data_read, labels, "rural", where, (bool,))
    user = _node_column(node_data_read, labels, "user", where, (bool,))
    kinds = _node_column(node_data_read, labels, "creator_kind", where, (str,))
    if kinds is not None:
        unknown = [lab for lab, k in zip(labels, kinds, strict=True) if k not in CREATOR_KINDS]
        if unknown:
            raise GraphError(
                f"{where}: {len(unknown)} node(s) have an unknown creator_kind (allowed: "
                f"{', '.join(CREATOR_KINDS)}), e.g. nodes {few(unknown)}"
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
                f"{', '.join(LAYERS)}), e.g. {few(unknown)}"
            )
        layer = np.array([LAYERS.index(name) for name in layer_names], dtype=np.int8)
    trust_attr = "trust" if trust is None else trust
    if trust is not None and not any(trust in d for _, _, d in edges):
        raise GraphError(
            f"{where}: trust = {trust!r}, but no edge has that attribute (edge attributes: "
            f"{', '.join(sorted({k for _, _, d in edges for k in d})) or 'none'})"
        )
    trust_values = _edge_column(edges, edge_labels, trust_attr, where, (int, float))
    summary: dict[str, Any] = {}
    if trust_values is None and transform != "identity":
        raise GraphError(
            f"{where}: transform = {transform!r} needs the raw trust values; name the edge "
            "attribute that holds them with trust=..."
        )
    if trust_values is None:
        defaults = layer_trust()
        fill = [defaults[name] for name in LAYERS] if default_trust is None else [default_trust] * 3
        trust_array = np.array(fill, dtype=np.float64)[layer]
    elif trust is None and transform == "identity":
        trust_array = np.array(trust_values, dtype=np.float64)
    else:
        trust_array, summary["trust"] = transform_trust(
            trust_values, transform, where=where, attr=trust_attr, labels=edge_labels
        )
    hint = (
        "map them (trust=..., creators='attr:NAME', regions='attr:NAME', ...) or delete them "
        "from the graph"
    )
    node_keys = {k for d in node_data for k in d}
    used_nodes = {k for k, rule in conventions.items() if rule is None} | set(mapping.attributes)
    summary["unmapped_nodes"] = warn_unmapped(where, "node attribute", node_keys - used_nodes, hint)
    edge_keys = {k for _, _, d in edges for k in d}
    summary["unmapped_edges"] = warn_unmapped(
        where, "edge attribute", edge_keys - {trust_attr, "layer"}, hint
    )

    if not graph.is_directed():
        if np.any(layer == FOLLOW):
            raise GraphError(
                f"{where}: follow ties are one-way; give them in a networkx DiGraph "
                f"(the graph is undirected), "
                f"e.g. {few(e for e, c in zip(edge_labels, layer, strict=True) if c == FOLLOW)}"
            )
        loops = src == dst
        src, dst = np.concatenate([src, dst[~loops]]), np.concatenate([dst, src[~loops]])
        trust_array = np.concatenate([trust_array, trust_array[~loops]])
        layer = np.concatenate([layer, layer[~loops]])
    meta = {k: v for k, v in graph.graph.items() if k != "regions"}
    imported = TrustGraph.from_edges(
        n,
        src,
        dst,
        trust_array,
        layer,
        region=region,
        hometown=hometown,
        rural=None if rural_flags is None else np.array(rural_flags, dtype=bool),
        user=None if user is None else np.array(user, dtype=bool),
        creator_kind=kind_codes,
        region_names=names,
        labels=labels if labels != list(range(n)) else None,
        meta=meta,
        where=where,
    )
    if mapping.empty and not summary.get("trust"):
        return imported
    # The attributes that rules read, when the nodes have them (a rule names a missing one).
    values = {}
    for attr in mapping.attributes:
        column = _node_column(node_data, labels, attr, where, (object, bool))
        if column is None:
            raise GraphError(
                f"{where}: a rule names node attribute {attr!r}, which the graph does not have "
                f"(node attributes: {', '.join(map(str, sorted(node_keys))) or 'none'})"
            )
        values[attr] = column
    return assign_roles(imported, mapping, values, where=where, summary=summary)


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
            f"{whats} (give it on all or none), e.g. {few(missing)}"
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
            f"(expected {allowed}; got {type(first).__name__} {first!r}), e.g. {few(wrong)}"
        )
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def to_networkx(graph: TrustGraph, *, max_edges: int = 5_000_000) -> Any:
    """Export to a networkx DiGraph (conventions in the module docstring).

    Node labels are the original labels when the graph was imported with labels, else
    ``0 .. n_nodes - 1``. ``trust`` values are the float32 weights as Python floats, so a round
    trip through :func:`from_networkx` is exact.

    Parameters
    ----------
    graph : TrustGraph
        The graph to export.
    max_edges : int, default 5_000_000
        Refuse graphs with more edges than this (a whole city's graph would not fit).

    Returns
    -------
    networkx.DiGraph
        Node attributes ``region``, ``hometown`` (names), ``rural``, ``user``,
        ``creator_kind``; edge attributes ``trust`` and ``layer``; the graph attribute
        ``regions`` and the graph's ``meta``.

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
