"""Word of mouth alone: a lockstep independent cascade on the trust graph (口碑传播).

In the independent cascade (Kempe, Kleinberg and Tardos 2003) every node that becomes active
gets one chance, in the next step, to activate each of its neighbours, independently with the
tie's probability. Influence flows the way word of mouth flows in the engine
(:class:`laotie.engine.market.Listeners`): from a person ``j`` to the people who trust ``j``.
Resident ``i`` trusting ``j`` (the graph's tie ``i → j``, trust ``w[i, j]``) is the channel
``j ⇒ i``, taken with probability ``probability * w[i, j]``, or with a per-tie probability
that you give.

The coins. When node ``u`` becomes active in replication ``r`` it draws, once, which of its
ties succeed: it walks its row of ties with geometric skips at the row's largest
probability ``q = probability * max(w)`` (a skip of ``floor(ln U / ln(1 - q))`` ties, so
each tie is a candidate with probability ``q``, independently) and keeps a candidate ``e``
with probability ``w_e / max(w)`` (thinning), so that tie ``e`` succeeds with probability
``probability * w_e``, independently of every other tie. The work is proportional to the
ties that succeed, not to the ties of the row. The uniform numbers come from a counter-based
stream (SplitMix64) keyed by the node, the replication and the seed, so replication ``r``
gives the same cascade whatever the number of replications, the backend or the number of
threads, and a cascade run for more steps extends the shorter one. The logarithm of the skip
is a fixed polynomial (:func:`_ln`, within about 5 units in the last place of the exact
logarithm), evaluated in the same order by the numpy and the compiled path, so the two give
identical results.

Replications run in lockstep: the state of a node is bit-packed, one bit per replication,
and each step visits only the nodes that became active in the last step (the frontier). The
compiled path (numba) splits the replications into contiguous groups run in parallel
threads, each with its own state.
"""

from __future__ import annotations

import itertools
import numbers
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ._random import SeedLike, as_seed_sequence
from .errors import ScenarioError
from .graph._core import LAYERS, TrustGraph

__all__ = ["CascadeResult", "InfluenceTies", "independent_cascade"]

MAX_REPLICATIONS = 2**20
"""Largest number of replications of one call (the replication has 20 bits in the keys)."""

MAX_STATE_BYTES = 8_000_000_000
"""Largest state of one call (bit-packed activity and frontiers); more is refused."""

_WHERE = "independent_cascade"


@dataclass(frozen=True)
class InfluenceTies:
    """Ties grouped by influencer: row ``j`` lists the people ``j`` can activate.

    Build it once with :meth:`from_graph` to run many cascades on the same graph without
    transposing the ties each time.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n_nodes + 1,)
        Row pointers.
    target : ndarray of int32, shape (n_ties,)
        Who is influenced: the people who trust ``j``.
    weight : ndarray of float32 or float64, shape (n_ties,)
        Their trust in ``j`` (or the given per-tie probability).
    edge : ndarray of int64, shape (n_ties,)
        Position of each tie in the graph's arrays (``graph.indices``), so that results can
        be related to the graph.

    Raises
    ------
    ScenarioError
        If the arrays do not make a valid tie list: row pointers that do not start at 0,
        decrease or do not end at the number of ties, a target outside the nodes, a weight
        outside [0, 1] (or NaN), or arrays of different lengths.
    """

    indptr: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    edge: np.ndarray

    def __post_init__(self) -> None:
        _check_ties(self.indptr, self.target, self.weight, self.edge)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.indptr) - 1

    @classmethod
    def from_graph(
        cls,
        graph: TrustGraph,
        layers: Sequence[str] = ("local", "city"),
        edge_probability: Any = None,
    ) -> InfluenceTies:
        """The ties of ``layers`` reversed (``i → j`` becomes ``j ⇒ i``), grouped by ``j``.

        Parameters
        ----------
        graph : TrustGraph
            The trust graph.
        layers : sequence of str, default ("local", "city")
            Layers whose ties carry influence; word of mouth in the engine uses local and
            city ties, not follows.
        edge_probability : array of float, shape (graph.n_edges,), optional
            A probability per tie of the graph, aligned with ``graph.indices``; it replaces
            the trust weights as the ``weight`` of the influence ties.

        Raises
        ------
        ScenarioError
            For an unknown layer or a bad ``edge_probability``.
        """
        if not isinstance(graph, TrustGraph):
            raise ScenarioError(
                f"{_WHERE}: graph is a {type(graph).__name__}; expected a laotie TrustGraph "
                "or InfluenceTies"
            )
        if isinstance(layers, str):
            layers = (layers,)
        unknown = [name for name in layers if name not in LAYERS]
        if unknown or not layers:
            raise ScenarioError(
                f"{_WHERE}: layers = {list(layers)!r} is not allowed; expected one or more of "
                f"{', '.join(LAYERS)}"
            )
        weight = graph.trust
        if edge_probability is not None:
            weight = _check_probabilities(edge_probability, graph.n_edges)
        n = graph.n_nodes
        position = np.flatnonzero(graph.layer_mask(list(layers)))
        source = graph.sources()[position]
        trusted = graph.indices[position]
        # Counting sort by the trusted person; stable, so each row stays sorted by truster.
        order = np.argsort(trusted, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(trusted, minlength=n), out=indptr[1:])
        edge = position[order]
        ties = np.empty(len(edge), _tie_dtype(weight.dtype))
        ties["target"] = source[order]
        ties["weight"] = weight[edge]
        return cls(indptr=indptr, target=ties["target"], weight=ties["weight"], edge=edge)

    @cached_property
    def packed(self) -> np.ndarray:
        """Target and weight of each tie side by side (a record array), as the kernel reads
        them: one memory access per tie instead of two. :meth:`from_graph` stores the ties
        this way (``target`` and ``weight`` are views of it); otherwise this is a copy."""
        base = self.target.base
        if (
            isinstance(base, np.ndarray)
            and base.dtype == _tie_dtype(self.weight.dtype)
            and _is_field(self.target, base, "target")
            and _is_field(self.weight, base, "weight")
        ):
            return base
        ties = np.empty(len(self.target), _tie_dtype(self.weight.dtype))
        ties["target"] = self.target
        ties["weight"] = self.weight
        return ties

    @cached_property
    def row_max(self) -> np.ndarray:
        """Largest weight of each row (0 for a node without ties), float64."""
        counts = np.diff(self.indptr)
        top = np.zeros(self.n_nodes)
        rows = np.flatnonzero(counts)
        if len(rows):
            top[rows] = np.maximum.reduceat(self.weight, self.indptr[rows])
        return top


@dataclass(frozen=True)
class CascadeResult:
    """The outcome of :func:`independent_cascade`.

    Attributes
    ----------
    new_active : ndarray of int64, shape (replications, steps + 1)
        Nodes that became active in each replication and step; column 0 counts the seeds.
    active_words : ndarray of uint64, shape (n_nodes, ceil(replications / 64)) or None
        The final active sets, bit-packed: node ``v`` is active in replication ``r`` when bit
        ``r % 64`` of ``active_words[v, r // 64]`` is set. None unless asked for.
    """

    new_active: np.ndarray
    active_words: np.ndarray | None = None

    @property
    def size(self) -> np.ndarray:
        """Final number of active nodes per replication, seeds included."""
        return self.new_active.sum(axis=1)

    def active_nodes(self, replication: int) -> np.ndarray:
        """Sorted ids of the nodes active at the end of ``replication``."""
        if self.active_words is None:
            raise ScenarioError(
                "active_nodes: the final active sets were not kept; run independent_cascade "
                "with return_active=True"
            )
        n_replications = self.new_active.shape[0]
        if not 0 <= replication < n_replications:
            raise ScenarioError(
                f"active_nodes: replication = {replication!r} is not allowed; expected "
                f"0 .. {n_replications - 1}"
            )
        word, lane = divmod(replication, 64)
        bit = (self.active_words[:, word] >> np.uint64(lane)) & np.uint64(1)
        return np.flatnonzero(bit)


def independent_cascade(
    graph: TrustGraph | InfluenceTies,
    seeds: Any,
    *,
    probability: float = 0.05,
    steps: int = 20,
    replications: int = 100,
    seed: SeedLike = None,
    layers: Sequence[str] = ("local", "city"),
    edge_probability: Any = None,
    return_active: bool = False,
    threads: int | None = None,
) -> CascadeResult:
    """Run ``replications`` independent cascades from ``seeds`` for ``steps`` steps, in lockstep.

    Parameters
    ----------
    graph : TrustGraph or InfluenceTies
        The trust graph, or its influence ties prepared once with
        :meth:`InfluenceTies.from_graph` (then ``layers`` and ``edge_probability`` are
        ignored).
    seeds : sequence of int
        Nodes active at step 0 in every replication (repeats are counted once).
    probability : float, default 0.05
        Activation probability per unit of trust: tie ``i → j`` lets ``j`` activate ``i``
        with probability ``probability * w[i, j]``. The default is the engine's
        ``word_of_mouth.prob``. With a per-tie ``weight`` that is already a probability
        (``edge_probability``), pass 1.
    steps : int, default 20
        Steps after the seeds; each step, the nodes activated in the last step try their ties.
    replications : int, default 100
        Independent replications, at most 1,048,576.
    seed : int, SeedSequence, Generator or None
        Seed of the coins; replication ``r`` gets the same coins whatever ``replications``,
        ``backend`` and ``threads``.
    layers : sequence of str, default ("local", "city")
        Layers whose ties carry influence (word of mouth in the engine uses local and city
        ties).
    edge_probability : array of float, shape (graph.n_edges,), optional
        Per-tie weights in [0, 1] aligned with ``graph.indices``, used instead of trust.
    return_active : bool, default False
        Keep the final active sets (:attr:`CascadeResult.active_words`).
    backend : {"auto", "numpy", "numba"}, default "auto"
        ``"numba"`` compiles the step (numba must be installed: ``pip install numba``);
        ``"numpy"`` is the pure numpy path; ``"auto"`` uses numba when it is installed. Both
        give identical results.
    threads : int, optional
        Threads of the compiled path: the replications are split into this many contiguous
        groups, each run by its own thread with its own state (default: the processors this
        process may use, at most ``replications``). The results do not depend on it; the
        numpy path runs in one thread.

    Returns
    -------
    CascadeResult
        ``new_active[r, t]``: nodes newly active in replication ``r`` at step ``t``.

    Raises
    ------
    ScenarioError
        If an argument is out of range (the message names it, the value and what is allowed),
        or if the state would need more than :data:`MAX_STATE_BYTES` (the message gives the
        estimate).

    Notes
    -----
    Each tie is tried at most once per replication (when its influencer becomes active), so
    the cascade is the set of nodes reachable from the seeds, within ``steps`` steps, over
    the ties whose coin succeeded (the live-edge view). A node activated by several
    influencers in the same step counts once. The work of a step is proportional to the
    frontier and the candidate ties its skips land on (about ``q`` times its ties, ``q`` the
    row's largest probability), not to the graph. The state takes about
    ``n_nodes * (3 * replications / 8 + 16 * threads + 32) + 8 * replications * (steps + 1)``
    bytes (the compiled path; the numpy path about ``5 * replications / 8`` bytes per node
    and some 800 MB of scratch); a call that would need more than :data:`MAX_STATE_BYTES`
    is refused.

    References
    ----------
    Kempe, D., Kleinberg, J. and Tardos, É. (2003). Maximizing the spread of influence
    through a social network. KDD '03, 137–146.

    Examples
    --------
    >>> from laotie import TrustGraph
    >>> g = TrustGraph.from_edges(3, [1, 2], [0, 1], [1.0, 1.0], [0, 0])
    >>> independent_cascade(g, [0], probability=1.0, steps=3, replications=2, seed=1).new_active
    array([[1, 1, 1, 0],
           [1, 1, 1, 0]])
    """
    ties = (
        graph
        if isinstance(graph, InfluenceTies)
        else InfluenceTies.from_graph(graph, layers, edge_probability)
    )
    probability = _check_number("probability", probability, 0.0, 1.0)
    steps = _check_int("steps", steps, 0, 1 << 30)
    replications = _check_int("replications", replications, 1, MAX_REPLICATIONS)
    seeds = _check_seeds(seeds, ties.n_nodes)
    if threads is None:
        threads = min(_available_cpus(), 1 << 10)
    threads = min(_check_int("threads", threads, 1, 1 << 10), replications)
    groups = _groups(replications, threads)
    _check_memory(ties.n_nodes, replications, steps, groups, return_active)
    salt = np.uint64(as_seed_sequence(seed).generate_state(1, np.uint64)[0])
    node = _node_table(ties, probability)
    return _run(ties, node, seeds, steps, groups, salt, return_active)


def _node_table(ties: InfluenceTies, probability: float) -> np.ndarray:
    """Per node: its row (start, stop), its largest weight ``top`` and ``l1q = ln(1 - q)``,
    ``q = probability * top``; ``l1q = 0`` marks ``q = 1`` (every tie a candidate) and
    ``top = 0`` a node that activates nobody."""
    node = np.empty(ties.n_nodes, _NODE_DTYPE)
    node["start"] = ties.indptr[:-1]
    node["stop"] = ties.indptr[1:]
    q = probability * ties.row_max
    # q may round to 0 (tiny weights times a tiny probability): then nobody is activated.
    node["top"] = np.where(q > 0.0, ties.row_max, 0.0)
    with np.errstate(divide="ignore"):
        node["l1q"] = np.where(q < 1.0, np.log1p(-q), 0.0)
    return node


def _run(
    ties: InfluenceTies,
    node: np.ndarray,
    seeds: np.ndarray,
    steps: int,
    groups: list[tuple[int, int]],
    salt: np.uint64,
    return_active: bool,
) -> CascadeResult:
    """Each group of replications in its own thread and state."""
    from ._cascade_numba import cascade

    packed = ties.packed
    replications = groups[-1][1]
    states = [np.zeros((ties.n_nodes, 2 * _words(b - a)), np.uint64) for a, b in groups]
    counts = [np.zeros((steps + 1, states[k].shape[1] * 32), np.int64) for k in range(len(groups))]

    def one(k: int) -> None:
        cascade(
            packed,
            node,
            seeds,
            groups[k][0],
            groups[k][1] - groups[k][0],
            steps,
            salt,
            states[k],
            counts[k],
        )

    if len(groups) == 1:
        one(0)
    else:
        list(_pool(len(groups)).map(one, range(len(groups))))
    new_active = np.concatenate([c[:, : b - a].T for c, (a, b) in zip(counts, groups, strict=True)])
    active = None
    if return_active:
        active = np.zeros((ties.n_nodes, _words(replications)), np.uint64)
        for state, (first, _) in zip(states, groups, strict=True):
            _put_lanes(active, state[:, : state.shape[1] // 2], first)
    return CascadeResult(new_active=np.ascontiguousarray(new_active), active_words=active)


def _put_lanes(active: np.ndarray, words: np.ndarray, first: int) -> None:
    """OR a group's words into ``active``, its lane ``l`` of word ``k`` as replication
    ``first + 64 k + l`` (the group's bits past its last replication are 0)."""
    word, shift = divmod(first, 64)
    for k in range(words.shape[1]):
        active[:, word + k] |= words[:, k] << np.uint64(shift)
        if shift and word + k + 1 < active.shape[1]:
            active[:, word + k + 1] |= words[:, k] >> np.uint64(64 - shift)


def _groups(replications: int, threads: int) -> list[tuple[int, int]]:
    """``threads`` contiguous ranges of replications whose sizes differ by at most one."""
    bounds = [replications * k // threads for k in range(threads + 1)]
    return list(itertools.pairwise(bounds))


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _forget_pools() -> None:
    """In a forked child the pools' threads do not exist: start afresh."""
    global _POOLS_LOCK
    _POOLS.clear()
    _POOLS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` threads kept for later calls (starting threads costs more than
    a small cascade)."""
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(threads, thread_name_prefix="laotie-cascade")
        return _POOLS[threads]


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1


def _check_memory(
    n_nodes: int,
    replications: int,
    steps: int,
    groups: list[tuple[int, int]],
    return_active: bool,
) -> None:
    """Refuse a call whose state cannot fit, with the estimate: the bit-packed activity
    (and the step's words) of every node, the per-node tables, the counts per replication
    and step, and for the numpy path the scratch of a chunk."""
    words = _words(replications)
    estimate = 32 * n_nodes + 8 * replications * (steps + 1)
    group_words = sum(_words(b - a) for a, b in groups)
    estimate += n_nodes * (24 * group_words + 16 * len(groups))
    estimate += 8 * n_nodes * words if return_active else 0
    if estimate > MAX_STATE_BYTES:
        raise ScenarioError(
            f"{_WHERE}: {replications:,} replications of {steps:,} steps on {n_nodes:,} nodes "
            f"need about {estimate / 1e9:.1f} GB of state; at most "
            f"{MAX_STATE_BYTES / 1e9:.0f} GB is allowed: run fewer replications or steps per "
            "call"
        )


def _words(replications: int) -> int:
    """64-bit words that hold one bit per replication."""
    return -(-replications // 64)


def _tie_dtype(weight: np.dtype) -> np.dtype:
    """The kernel's tie record: float32 weights stay float32, others become float64."""
    kind = np.float32 if weight == np.float32 else np.float64
    return np.dtype([("target", np.int32), ("weight", kind)], align=True)


def _is_field(view: np.ndarray, base: np.ndarray, name: str) -> bool:
    """Whether ``view`` is the whole field ``name`` of the record array ``base``, in order."""
    fields = base.dtype.fields
    return (
        fields is not None
        and view.base is base
        and base.ndim == 1
        and view.shape == base.shape
        and view.strides == (base.itemsize,)
        and view.__array_interface__["data"][0]
        == base.__array_interface__["data"][0] + fields[name][1]
    )


_NODE_DTYPE = np.dtype(
    [("start", np.int64), ("stop", np.int64), ("top", np.float64), ("l1q", np.float64)]
)


def _check_number(name: str, value: Any, low: float, high: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not low <= float(value) <= high
    ):
        raise ScenarioError(
            f"{_WHERE}: {name} = {value!r} is not allowed; expected a number, "
            f"{low:g} ≤ value ≤ {high:g}"
        )
    return float(value)


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= int(value) <= high
    ):
        raise ScenarioError(
            f"{_WHERE}: {name} = {value!r} is not allowed; expected an integer, "
            f"{low:,} ≤ value ≤ {high:,}"
        )
    return int(value)


def _check_seeds(seeds: Any, n_nodes: int) -> np.ndarray:
    array = np.asarray(seeds)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ScenarioError(
            f"{_WHERE}: seeds must be a 1-d sequence of integer node ids, got "
            f"{np.asarray(seeds).dtype} of shape {array.shape}"
        )
    bad = array[(array < 0) | (array >= n_nodes)]
    if bad.size:
        raise ScenarioError(
            f"{_WHERE}: seeds = {bad[:5].tolist()} {'...' if bad.size > 5 else ''}not allowed; "
            f"node ids are 0 .. {n_nodes - 1}"
        )
    return np.unique(array.astype(np.int64))


def _check_ties(indptr: Any, target: Any, weight: Any, edge: Any) -> None:
    """Validate the arrays of an :class:`InfluenceTies` (a bad one would be read out of
    bounds by the compiled kernel)."""
    where = "InfluenceTies"
    arrays = {"indptr": indptr, "target": target, "weight": weight, "edge": edge}
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray) or array.ndim != 1:
            raise ScenarioError(f"{where}: {name} must be a 1-d numpy array, got {array!r:.80}")
    for name in ("indptr", "target", "edge"):
        if not np.issubdtype(arrays[name].dtype, np.integer):
            raise ScenarioError(
                f"{where}: {name} has dtype {arrays[name].dtype}; expected integers"
            )
    if (
        weight.dtype == bool
        or not np.issubdtype(weight.dtype, np.number)
        or np.iscomplexobj(weight)
    ):
        raise ScenarioError(f"{where}: weight has dtype {weight.dtype}; expected real numbers")
    n_ties = len(target)
    if len(weight) != n_ties or len(edge) != n_ties:
        raise ScenarioError(
            f"{where}: target, weight and edge have {n_ties:,}, {len(weight):,} and "
            f"{len(edge):,} entries; expected one entry per tie in each"
        )
    steps = np.diff(indptr)
    if len(indptr) == 0 or indptr[0] != 0 or indptr[-1] != n_ties or (steps < 0).any():
        raise ScenarioError(
            f"{where}: indptr must start at 0, never decrease and end at the number of ties "
            f"({n_ties:,}); it has {len(indptr):,} entries"
        )
    n_nodes = len(indptr) - 1
    bad = np.flatnonzero((target < 0) | (target >= n_nodes))
    if len(bad):
        raise ScenarioError(
            f"{where}: target[{int(bad[0])}] = {target[bad[0]]!r} is not allowed "
            f"({len(bad):,} bad value(s)); expected node ids 0 .. {n_nodes - 1}"
        )
    bad = np.flatnonzero(~((weight >= 0) & (weight <= 1)))
    if len(bad):
        raise ScenarioError(
            f"{where}: weight[{int(bad[0])}] = {weight[bad[0]]!r} is not allowed "
            f"({len(bad):,} bad value(s)); expected trust or probabilities, 0 ≤ value ≤ 1"
        )


def _check_probabilities(values: Any, n_edges: int) -> np.ndarray:
    array = np.asarray(values)
    if array.shape != (n_edges,) or not np.issubdtype(array.dtype, np.number):
        raise ScenarioError(
            f"{_WHERE}: edge_probability has shape {array.shape} and dtype {array.dtype}; "
            f"expected {n_edges} numbers (one per tie of the graph)"
        )
    bad = np.flatnonzero(~((array >= 0) & (array <= 1)))
    if bad.size:
        raise ScenarioError(
            f"{_WHERE}: edge_probability[{int(bad[0])}] = {array[bad[0]]!r} is not allowed "
            f"({bad.size} bad value(s)); expected probabilities, 0 ≤ value ≤ 1"
        )
    return array.astype(np.float64)
