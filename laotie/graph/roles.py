"""A researcher's own graph: how raw tie weights become trust, and who is a creator, a user,
rural, and in which region, by a declared rule.

Every rule is a short string, the same in Python and on the command line
(``laotie graph --from FILE --creators top-degree:5``):

=====================  ======================================================================
rule                   meaning
=====================  ======================================================================
``attr:NAME``          the node attribute ``NAME`` says it: a bool (True marks the role), or
                       for creators a creator kind (``none``, ``head``, ``local``, ``gov``),
                       for regions the region's name
``top-degree:K``       the ``K`` nodes with the most ties, in and out (ties broken by node
                       order)
``top:NAME:K``         the ``K`` nodes with the largest numeric node attribute ``NAME``
``random:SHARE``       a share ``SHARE`` in (0, 1] of the nodes, drawn with the mapping's seed
``all``, ``none``      every node, no node (users and rural only)
``louvain``            regions: networkx's Louvain communities (``louvain_communities``) of
                       the trust-weighted graph, seeded
``greedy``             regions: networkx's greedy modularity communities, trust-weighted
=====================  ======================================================================

Creators are drawn among the users. Producers are not a role of the graph: the engine draws a
scenario's poor producers among the rural nodes (all nodes when fewer are rural), so the
``rural`` rule decides where producers come from.

Trust transforms (``transform``), from the raw values ``w`` of the mapped edge attribute:

=====================  ======================================================================
``identity``           ``t = w``; every ``w`` must already be in (0, 1]
``minmax[:LOW]``       ``t = LOW + (1 - LOW) (w - min w) / (max w - min w)`` (``LOW`` = 0.01 by
                       default; all ``t = 1`` when every ``w`` is equal)
``rank``               ``t = r / m``, ``r`` the rank of ``w`` among the ``m`` edges (1 for the
                       smallest, ties sharing their average rank)
``saturating[:K]``     ``t = w / (w + K)``, ``w > 0``; ``K`` = the median of ``w`` by default,
                       so that the median tie has trust 0.5
=====================  ======================================================================

An undirected tie is transformed once, then stored as two directed edges with the same trust.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._random import SeedLike, as_seed_sequence
from ..errors import GraphError, user_stacklevel
from ._core import CREATOR_KINDS, FOLLOW, HEAD, LOCAL_CREATOR, NOT_CREATOR, OUTSIDE, TrustGraph
from ._messages import SHOWN, few

__all__ = [
    "TRANSFORMS",
    "MappingWarning",
    "RoleMapping",
    "assign_roles",
    "describe_mapping",
    "missing_roles",
    "parse_transform",
    "transform_trust",
    "warn_unmapped",
]

TRANSFORMS: tuple[str, ...] = ("identity", "minmax", "rank", "saturating")
"""The trust transforms (formulas in the module docstring)."""

MINMAX_LOW = 0.01
"""The trust of the weakest tie under ``minmax`` unless given (``minmax:LOW``)."""

_ROLE_RULES: dict[str, tuple[str, ...]] = {
    "creators": ("attr", "top-degree", "top", "random", "none"),
    "users": ("attr", "top-degree", "top", "random", "all", "none"),
    "rural": ("attr", "top-degree", "top", "random", "all", "none"),
    "regions": ("attr", "louvain", "greedy", "none"),
}


class MappingWarning(UserWarning):
    """Something in a researcher's graph is not used: an attribute or column not mapped."""


@dataclass(frozen=True)
class RoleMapping:
    """Which rule assigns each role (rules in the module docstring); None keeps the graph's
    own attributes (``creator_kind``, ``user``, ``rural``, ``region``).

    Parameters
    ----------
    creators, users, rural, regions : str, optional
        The rules.
    creator_kind : {"local", "head", "gov"}, default "local"
        The kind of the creators chosen by ``top-degree``, ``top``, ``random`` or a bool
        attribute.
    follows : CitySpec, optional
        Grow follow ties onto the graph from this city's follower model (its
        ``min_followers``, ``follower_exponent``, ``max_follower_share``,
        ``follow_locality``, ``trust_follow`` and ``trust_concentration``), as
        :func:`laotie.graph.city` does for a built city.
    seed : int, SeedSequence, Generator or None, default 0
        Seeds the random rules, the communities and the follow ties.
    """

    creators: str | None = None
    users: str | None = None
    rural: str | None = None
    regions: str | None = None
    creator_kind: str = "local"
    follows: Any = None
    seed: SeedLike = 0
    attributes: tuple[str, ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        used = []
        for role in _ROLE_RULES:
            rule = getattr(self, role)
            if rule is None:
                continue
            name, args = parse_rule(role, rule)
            if name in ("attr", "top"):
                used.append(args[0])
        if self.creator_kind not in CREATOR_KINDS[1:4]:
            raise GraphError(
                f"creator_kind = {self.creator_kind!r}; allowed: {', '.join(CREATOR_KINDS[1:4])}"
            )
        object.__setattr__(self, "attributes", tuple(used))

    @classmethod
    def checked(cls, where: str, transform: str, **roles: Any) -> RoleMapping:
        """The mapping of ``roles``, with ``transform`` checked too; errors name ``where``.

        Parameters
        ----------
        where : str
            The graph or file, named first in errors.
        transform : str
            The trust transform (:func:`parse_transform`).
        **roles
            The fields of :class:`RoleMapping`.

        Returns
        -------
        RoleMapping

        Raises
        ------
        GraphError
            For an unknown keyword, transform or rule.
        """
        from ..params import did_you_mean

        fields = ["creators", "users", "rural", "regions", "creator_kind", "follows", "seed"]
        try:
            for key in roles:
                if key not in fields:
                    raise GraphError(
                        f"unknown mapping keyword {key!r}{did_you_mean(key, fields)} "
                        f"(allowed: trust, transform, {', '.join(fields)})"
                    )
            parse_transform(transform)
            return cls(**roles)
        except GraphError as err:
            raise GraphError(f"{where}: {err}") from None

    @property
    def empty(self) -> bool:
        """Whether no rule is given (the graph's own attributes are kept)."""
        rules = (self.creators, self.users, self.rural, self.regions, self.follows)
        return all(r is None for r in rules)


def parse_rule(role: str, rule: str) -> tuple[str, tuple[Any, ...]]:
    """Split a role rule into its name and arguments, checking both.

    Parameters
    ----------
    role : {"creators", "users", "rural", "regions"}
    rule : str
        E.g. ``"top-degree:5"``, ``"random:0.1"``, ``"attr:club"``, ``"louvain"``.

    Returns
    -------
    tuple
        ``(name, args)``: ``("top-degree", (5,))``, ``("random", (0.1,))``,
        ``("attr", ("club",))``, ``("top", ("followers", 5))``, ``("louvain", ())``.

    Raises
    ------
    GraphError
        Naming the role, the rule and the rules allowed.

    Examples
    --------
    >>> parse_rule("creators", "top:followers:3")
    ('top', ('followers', 3))
    """
    allowed = _ROLE_RULES[role]
    forms = {
        "attr": "attr:NAME",
        "top-degree": "top-degree:K",
        "top": "top:NAME:K",
        "random": "random:SHARE",
        "all": "all",
        "none": "none",
        "louvain": "louvain",
        "greedy": "greedy",
    }
    hint = f"allowed for {role}: " + ", ".join(forms[a] for a in allowed)
    if not isinstance(rule, str):
        raise GraphError(f"{role} = {rule!r}: a rule is a string; {hint}")
    name, _, rest = rule.partition(":")
    if name not in allowed:
        raise GraphError(f"{role} = {rule!r}: unknown rule {name!r}; {hint}")
    parts = rest.split(":") if rest else []
    try:
        if name in ("all", "none", "louvain", "greedy") and not parts:
            return name, ()
        if name == "attr" and len(parts) == 1 and parts[0]:
            return name, (parts[0],)
        if name == "top-degree" and len(parts) == 1 and int(parts[0]) >= 0:
            return name, (int(parts[0]),)
        if name == "top" and len(parts) == 2 and parts[0] and int(parts[1]) >= 0:
            return name, (parts[0], int(parts[1]))
        if name == "random" and len(parts) == 1 and 0 < float(parts[0]) <= 1:
            return name, (float(parts[0]),)
    except ValueError:
        pass
    bounds = {"top-degree": "K ≥ 0", "top": "K ≥ 0", "random": "0 < SHARE ≤ 1"}
    where = f" ({bounds[name]})" if name in bounds else ""
    raise GraphError(f"{role} = {rule!r}: malformed rule; {hint}{where}")


def parse_transform(transform: str) -> tuple[str, float | None]:
    """Split a trust transform into its name and its optional number.

    Parameters
    ----------
    transform : str
        ``identity``, ``minmax[:LOW]``, ``rank`` or ``saturating[:K]``.

    Returns
    -------
    tuple of (str, float or None)

    Raises
    ------
    GraphError
        For an unknown transform or a number out of range (``0 < LOW < 1``, ``K > 0``).

    Examples
    --------
    >>> parse_transform("saturating:2.5")
    ('saturating', 2.5)
    """
    hint = "allowed: identity, minmax[:LOW] (0 < LOW < 1), rank, saturating[:K] (K > 0)"
    if not isinstance(transform, str):
        raise GraphError(f"transform = {transform!r}: expected a string; {hint}")
    name, colon, rest = transform.partition(":")
    if name not in TRANSFORMS:
        raise GraphError(f"transform = {transform!r}: unknown transform {name!r}; {hint}")
    if not colon:
        return name, None
    try:
        value = float(rest)
    except ValueError:
        value = float("nan")
    ok = (name == "minmax" and 0 < value < 1) or (name == "saturating" and 0 < value < math.inf)
    if not ok:
        raise GraphError(f"transform = {transform!r}: the number {rest!r} is not allowed; {hint}")
    return name, value


def transform_trust(
    values: Any,
    transform: str,
    *,
    where: str,
    attr: str,
    labels: Any = None,
    rows: Any = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Turn the raw values of a tie attribute into trust in (0, 1] (module docstring).

    Parameters
    ----------
    values : array_like of float
        One raw value per tie.
    transform : str
        ``identity``, ``minmax[:LOW]``, ``rank`` or ``saturating[:K]``.
    where : str
        The graph or file, named in errors.
    attr : str
        The attribute or column, named in errors.
    labels : sequence, optional
        A label per tie (``(u, v)``), named in errors.
    rows : array_like of int, optional
        The file's row number of each tie (1-based), named in errors instead of labels.

    Returns
    -------
    trust : numpy.ndarray of float64
    info : dict
        The transform, its parameter as used and the raw range (for the mapping summary).

    Raises
    ------
    GraphError
        For values that are not finite numbers, or out of the transform's domain (identity:
        (0, 1]; saturating: > 0).

    Examples
    --------
    >>> t, info = transform_trust([1, 3, 5], "saturating", where="g", attr="weight")
    >>> t.tolist(), info["k"]
    ([0.25, 0.5, 0.625], 3.0)
    """
    name, number = parse_transform(transform)
    w = np.asarray(values, dtype=np.float64)

    def refuse(bad: np.ndarray, allowed: str) -> None:
        found = np.flatnonzero(bad)
        if found.size:
            if rows is not None:
                shown = "rows " + few(np.asarray(rows)[found[:SHOWN]].tolist())
            else:
                shown = few([labels[i] for i in found[:SHOWN].tolist()] if labels else found)
            raise GraphError(
                f"{where}: {found.size} tie(s) have a {attr!r} that is not {allowed} "
                f"(transform {transform!r}), e.g. {shown} (values {few(w[found].tolist())})"
            )

    refuse(~np.isfinite(w), "a finite number")
    info: dict[str, Any] = {"attribute": attr, "transform": name}
    if w.size:
        info["raw_min"], info["raw_max"] = float(w.min()), float(w.max())
    if name == "identity":
        refuse((w <= 0) | (w > 1), "in (0, 1]")
        trust = w.copy()
    elif name == "minmax":
        low = MINMAX_LOW if number is None else number
        info["low"] = low
        span = float(w.max() - w.min()) if w.size else 0.0
        trust = np.ones_like(w) if span == 0 else low + (1 - low) * (w - w.min()) / span
    elif name == "rank":
        from scipy.stats import rankdata

        trust = rankdata(w, method="average") / max(len(w), 1)
    else:
        refuse(w <= 0, "a number > 0")
        k = float(np.median(w)) if number is None and w.size else (number or 1.0)
        info["k"] = k
        trust = w / (w + k)
    return np.asarray(trust, dtype=np.float64), info


def warn_unmapped(where: str, what: str, names: Any, hint: str) -> list[str]:
    """Warn (:class:`MappingWarning`) that attributes or columns are present but not used.

    Parameters
    ----------
    where : str
        The graph or file.
    what : str
        ``"node attribute"``, ``"edge attribute"`` or ``"column"``.
    names : iterable of str
        The unused names (nothing is said when empty).
    hint : str
        How to map them.

    Returns
    -------
    list of str
        The names, sorted (recorded in the mapping summary).
    """
    names = sorted({str(n) for n in names})
    if names:
        warnings.warn(
            f"{where}: {what}(s) {', '.join(repr(n) for n in names)} not mapped, so not "
            f"used; {hint}",
            MappingWarning,
            stacklevel=user_stacklevel(),
        )
    return names


def assign_roles(
    graph: TrustGraph,
    mapping: RoleMapping,
    node_values: Mapping[str, list[Any]] | None = None,
    *,
    where: str = "graph",
    summary: dict[str, Any] | None = None,
) -> TrustGraph:
    """A copy of ``graph`` with roles assigned by ``mapping`` and follow ties grown.

    Parameters
    ----------
    graph : TrustGraph
        Without follow ties when ``mapping.follows`` is given.
    mapping : RoleMapping
        The rules.
    node_values : mapping of str to list, optional
        The node attributes that ``attr:`` and ``top:`` rules read (one value per node).
    where : str
        The graph or file, named in errors.
    summary : dict, optional
        What the importer already recorded (trust mapping, unmapped attributes); the
        assignment is added and the whole is stored in ``meta["mapping"]``.

    Returns
    -------
    TrustGraph

    Raises
    ------
    GraphError
        For an attribute a rule names that the graph does not have, values of the wrong type,
        an unknown creator kind, or more nodes asked for than there are.
    """
    values = dict(node_values or {})
    summary = dict(summary or {})
    n = graph.n_nodes
    seq = as_seed_sequence(mapping.seed)
    rng_users, rng_creators, rng_rural, rng_regions, rng_follows = (
        np.random.default_rng(s) for s in seq.spawn(5)
    )
    # Ties in and out: in a directed graph (a follower crawl) the most followed count too.
    degree = np.diff(graph.indptr) + np.bincount(graph.indices, minlength=n)
    user = graph.user.copy()
    creator_kind = graph.creator_kind.copy()
    rural = graph.rural.copy()
    region, hometown, names = graph.region, graph.hometown, graph.region_names

    def pick(role: str, rule: str, pool: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        name, args = parse_rule(role, rule)
        chosen = np.zeros(n, bool)
        if name == "all":
            chosen[pool] = True
        elif name == "random":
            k = round(args[0] * len(pool))
            chosen[rng.choice(pool, size=k, replace=False)] = True
        elif name in ("top-degree", "top"):
            k = args[-1]
            score = degree if name == "top-degree" else _numeric(values, args[0], where, role)
            if k > len(pool):
                raise GraphError(
                    f"{where}: {role} = {rule!r} asks for {k} nodes; only {len(pool)} can be "
                    f"{role}" + (" (creators are drawn among users)" if role == "creators" else "")
                )
            order = pool[np.argsort(-score[pool], kind="stable")]
            chosen[order[:k]] = True
        elif name == "attr":
            chosen = _flags(values, args[0], where, role)
            outside = np.flatnonzero(chosen & ~np.isin(np.arange(n), pool))
            if outside.size:
                raise GraphError(
                    f"{where}: {role} = {rule!r} marks {outside.size} node(s) that are not "
                    f"users, e.g. {_named(graph, outside)}; creators must be users"
                )
        return chosen

    if mapping.users is not None:
        user = pick("users", mapping.users, np.arange(n), rng_users)
        summary["users"] = {"rule": mapping.users, "n": int(user.sum())}
    if mapping.creators is not None:
        name, args = parse_rule("creators", mapping.creators)
        users = np.flatnonzero(user)
        if name == "attr" and _is_text(values, args[0], where):
            creator_kind = _kinds(values[args[0]], where, args[0], users, n)
        else:
            chosen = pick("creators", mapping.creators, users, rng_creators)
            creator_kind = np.where(
                chosen, CREATOR_KINDS.index(mapping.creator_kind), NOT_CREATOR
            ).astype(np.int8)
        counts = {k: int(np.sum(creator_kind == i)) for i, k in enumerate(CREATOR_KINDS) if i}
        summary["creators"] = {"rule": mapping.creators, **{k: v for k, v in counts.items() if v}}
    elif mapping.users is not None:
        lost = np.flatnonzero((creator_kind != NOT_CREATOR) & ~user)
        if lost.size:
            raise GraphError(
                f"{where}: users = {mapping.users!r} leaves {lost.size} creator(s) of the "
                f"graph's creator_kind outside the users, e.g. {_named(graph, lost)}; creators "
                "must be users: mark the creators by a rule too (creators=...)"
            )
    if mapping.rural is not None:
        rural = pick("rural", mapping.rural, np.arange(n), rng_rural)
        summary["rural"] = {"rule": mapping.rural, "n": int(rural.sum())}
    if mapping.regions is not None:
        region, names = _regions(graph, mapping.regions, values, where, rng_regions)
        hometown = region
        summary["regions"] = {"rule": mapping.regions, "n": len(names)}

    src, dst, trust, layer = graph.sources(), graph.indices, graph.trust, graph.layer
    if mapping.follows is not None:
        from .generators import follow_ties

        if np.any(layer == FOLLOW):
            raise GraphError(
                f"{where}: the graph has follow ties already; grow follows only onto a graph "
                "without them"
            )
        f_src, f_dst, f_trust = follow_ties(
            mapping.follows, region, len(names), user, creator_kind, rng_follows
        )
        # A pair tied in several layers is stored once, as a follow (as city() stores it);
        # a follow drawn along an existing tie keeps the tie's trust, which is data.
        code = src.astype(np.int64) * n + dst
        f_code = f_src * n + f_dst
        along = np.isin(code, f_code)
        new = ~np.isin(f_code, code)
        layer = np.where(along, FOLLOW, layer).astype(np.int8)
        f_src, f_dst, f_trust = f_src[new], f_dst[new], f_trust[new]
        src, dst = np.concatenate([src, f_src]), np.concatenate([dst, f_dst])
        trust = np.concatenate([trust, f_trust.astype(np.float32)])
        layer = np.concatenate([layer, np.full(len(f_src), FOLLOW, np.int8)])
        summary["follows"] = {
            "model": "laotie.graph.city",
            "n": int(along.sum()) + len(f_src),
            "along existing ties": int(along.sum()),
        }
    meta = dict(graph.meta)
    summary["seed"] = _seed_record(seq)
    meta["mapping"] = summary
    return TrustGraph.from_edges(
        n,
        src,
        dst,
        trust,
        layer,
        region=region,
        hometown=hometown,
        rural=rural,
        user=user,
        creator_kind=creator_kind,
        region_names=names,
        labels=None if graph.labels is None else list(graph.labels),
        meta=meta,
        where=where,
    )


def describe_mapping(graph: TrustGraph) -> str:
    """What the mapping of an imported graph did, in a few lines (``meta["mapping"]``).

    Parameters
    ----------
    graph : TrustGraph

    Returns
    -------
    str
        Empty when the graph was not mapped.
    """
    m = graph.meta.get("mapping")
    if not m:
        return ""
    lines = []
    t = m.get("trust")
    if t:
        extra = "".join(f", {k} {t[k]:g}" for k in ("k", "low") if k in t)
        span = f" (raw {t['raw_min']:g} .. {t['raw_max']:g})" if "raw_min" in t else ""
        lines.append(f"trust: {t['attribute']!r}, transform {t['transform']}{extra}{span}")
    for role in ("users", "creators", "rural", "regions", "follows"):
        if role in m:
            entry = dict(m[role])
            rule = entry.pop("rule", entry.pop("model", ""))
            counts = ", ".join(f"{k} {v:,}" if k != "n" else f"{v:,}" for k, v in entry.items())
            lines.append(f"{role}: {rule} → {counts or 'none'}")
    for what in ("unmapped_nodes", "unmapped_edges"):
        if m.get(what):
            kind = "node" if what == "unmapped_nodes" else "edge"
            lines.append(f"not used ({kind}): {', '.join(m[what])}")
    lines += missing_roles(graph)
    return "Mapping\n" + "\n".join(f"  {line}" for line in lines)


def missing_roles(graph: TrustGraph) -> list[str]:
    """The roles a graph lacks and the channels of a run that are empty for want of them.

    Selling creators (kinds ``head``, ``local`` and ``outside``; government accounts inform
    but do not sell) carry the follow, discovery and word-of-mouth channels; registered users
    carry every channel; follow ties carry the follow channel.

    Parameters
    ----------
    graph : TrustGraph

    Returns
    -------
    list of str
        One sentence per missing role; empty when every channel can report numbers.

    Examples
    --------
    >>> g = TrustGraph.from_edges(2, [0, 1], [1, 0], [0.5, 0.5], [0, 0])
    >>> missing_roles(g)[0][:40]
    'no selling creators (creator_kind head, '
    """
    if not np.any(graph.user):
        return ["no registered users (user): every channel is empty; mark users (users=...)"]
    selling = np.isin(graph.creator_kind, [HEAD, LOCAL_CREATOR, OUTSIDE])
    if not np.any(selling):
        return [
            "no selling creators (creator_kind head, local or outside): the follow, discovery "
            "and word-of-mouth (wom) channels are empty and their conversion is NaN; mark "
            "creators (creators='top-degree:K', laotie graph --creators top-degree:K)"
        ]
    if not np.any(graph.layer == FOLLOW):
        return [
            "no follow ties: the follow channel is empty and its conversion NaN; grow them "
            "(follows=Scenario.preset(...).city, laotie graph --grow-follows)"
        ]
    return []


# ---------------------------------------------------------------------------- helpers
def _column(values: Mapping[str, list[Any]], attr: str, where: str, role: str) -> list[Any]:
    if attr not in values:
        raise GraphError(
            f"{where}: {role} rule names node attribute {attr!r}, which the graph does not "
            f"have (node attributes: {', '.join(sorted(values)) or 'none'})"
        )
    return values[attr]


def _numeric(values: Mapping[str, list[Any]], attr: str, where: str, role: str) -> np.ndarray:
    column = _column(values, attr, where, role)
    try:
        out = np.asarray(column, dtype=np.float64)
    except (TypeError, ValueError):
        out = np.full(len(column), np.nan)
    bad = [i for i, v in enumerate(out.tolist()) if not np.isfinite(v)]
    if bad:
        raise GraphError(
            f"{where}: {role} rule ranks by node attribute {attr!r}, but {len(bad)} node(s) "
            f"have a value that is not a finite number, e.g. {few(column[i] for i in bad)}"
        )
    return out


def _flags(values: Mapping[str, list[Any]], attr: str, where: str, role: str) -> np.ndarray:
    column = _column(values, attr, where, role)
    bad = [v for v in column if not isinstance(v, bool | np.bool_)]
    if bad:
        raise GraphError(
            f"{where}: {role} = 'attr:{attr}' needs a bool node attribute; {len(bad)} node(s) "
            f"have another value, e.g. {few(bad)}"
        )
    return np.asarray(column, dtype=bool)


def _is_text(values: Mapping[str, list[Any]], attr: str, where: str) -> bool:
    column = _column(values, attr, where, "creators")
    return any(isinstance(v, str) for v in column)


def _kinds(column: list[Any], where: str, attr: str, users: np.ndarray, n: int) -> np.ndarray:
    bad = sorted({str(v) for v in column if v not in CREATOR_KINDS[:4]})
    if bad:
        raise GraphError(
            f"{where}: creators = 'attr:{attr}': unknown creator kind(s) {few(bad)} in node "
            f"attribute {attr!r}; allowed: {', '.join(CREATOR_KINDS[:4])}"
        )
    kinds = np.array([CREATOR_KINDS.index(v) for v in column], dtype=np.int8)
    is_user = np.zeros(n, bool)
    is_user[users] = True
    if np.any((kinds != NOT_CREATOR) & ~is_user):
        raise GraphError(
            f"{where}: creators = 'attr:{attr}' marks {int(np.sum((kinds != 0) & ~is_user))} "
            "node(s) that are not users; creators must be users"
        )
    return kinds


def _regions(
    graph: TrustGraph,
    rule: str,
    values: Mapping[str, list[Any]],
    where: str,
    rng: np.random.Generator,
) -> tuple[np.ndarray, tuple[str, ...]]:
    name, args = parse_rule("regions", rule)
    n = graph.n_nodes
    if name == "none":
        return np.zeros(n, np.int16), ("all",)
    if name == "attr":
        column = [str(v) for v in _column(values, args[0], where, "regions")]
        names = sorted(set(column))
        code = {v: i for i, v in enumerate(names)}
        return np.array([code[v] for v in column], dtype=np.int16), tuple(names)
    import networkx as nx

    undirected = nx.Graph()
    undirected.add_nodes_from(range(n))
    undirected.add_weighted_edges_from(
        zip(graph.sources().tolist(), graph.indices.tolist(), graph.trust.tolist(), strict=True)
    )
    seed = int(rng.integers(2**31))
    if name == "louvain":
        communities = nx.community.louvain_communities(undirected, seed=seed)
    else:
        communities = nx.community.greedy_modularity_communities(undirected, weight="weight")
    # Communities numbered by size (largest first), then by their smallest node.
    ordered = sorted((sorted(c) for c in communities), key=lambda c: (-len(c), c[0]))
    region = np.zeros(n, np.int16)
    for i, members in enumerate(ordered):
        region[members] = i
    return region, tuple(f"community {i}" for i in range(len(ordered)))


def _named(graph: TrustGraph, nodes: np.ndarray) -> str:
    """A few nodes by their labels (or ids)."""
    shown = nodes[:SHOWN]
    return few(shown.tolist() if graph.labels is None else graph.labels[shown].tolist())


def _seed_record(seq: np.random.SeedSequence) -> dict[str, Any]:
    return {"entropy": str(seq.entropy), "spawn_key": list(seq.spawn_key)}
