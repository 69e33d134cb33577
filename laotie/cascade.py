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
is a fixed polynomial (:func:`_ln`, within 2 units in the last place of ``log``), evaluated
in the same order by the numpy and the compiled path, so the two give identical results.

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

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_TWO53 = 1.0 / 9007199254740992.0
"""2**-53: the uniforms are the top 53 bits of a hash times this."""
_SQRT_HALF = 0.7071067811865476
_LN2 = 0.6931471805599453
# 1/1, 1/3, ..., 1/23: ln(m) = 2 atanh(s) = 2 (s + s^3/3 + ...), s = (m - 1) / (m + 1).
(_C1, _C3, _C5, _C7, _C9, _C11, _C13, _C15, _C17, _C19, _C21, _C23) = (
    1.0 / k for k in range(1, 24, 2)
)
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
    """

    indptr: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    edge: np.ndarray

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
            and base is self.weight.base
            and base.dtype == _tie_dtype(self.weight.dtype)
            and len(base) == len(self.target)
        ):
            return base
        ties = np.empty(len(self.target), _tie_dtype(np.asarray(self.weight).dtype))
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
    backend: str = "auto",
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
    ``n_nodes * (3 * replications / 8 + 16 * groups)`` bytes (groups = threads).

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
    backend = _backend(backend)
    if threads is None:
        threads = _available_cpus()
    threads = min(_check_int("threads", threads, 1, 1 << 10), replications)
    groups = _groups(replications, threads if backend == "numba" else 1)
    _check_memory(ties.n_nodes, replications, groups)
    salt = np.uint64(as_seed_sequence(seed).generate_state(1, np.uint64)[0])
    node = _node_table(ties, probability)
    if backend == "numba":
        return _run_numba(ties, node, seeds, steps, groups, salt, return_active)
    return _run_numpy(ties, node, seeds, steps, replications, salt, return_active)


def _node_table(ties: InfluenceTies, probability: float) -> np.ndarray:
    """Per node: its row (start, stop), its largest weight ``top`` and ``l1q = ln(1 - q)``,
    ``q = probability * top``; ``l1q = 0`` marks ``q = 1`` (every tie a candidate) and
    ``top = 0`` a node that activates nobody."""
    node = np.empty(ties.n_nodes, _NODE_DTYPE)
    node["start"] = ties.indptr[:-1]
    node["stop"] = ties.indptr[1:]
    top = ties.row_max if probability > 0 else np.zeros(ties.n_nodes)
    q = probability * top
    node["top"] = top
    with np.errstate(divide="ignore"):
        node["l1q"] = np.where(q < 1.0, np.log1p(-q), 0.0)
    return node


def _run_numpy(
    ties: InfluenceTies,
    node: np.ndarray,
    seeds: np.ndarray,
    steps: int,
    replications: int,
    salt: np.uint64,
    return_active: bool,
) -> CascadeResult:
    """The reference path: all replications at once, one (node, replication) pair a row."""
    n_words = -(-replications // 64)
    active = np.zeros((ties.n_nodes, n_words), np.uint64)
    active[seeds] = _lanes(replications)
    new_active = np.zeros((replications, steps + 1), np.int64)
    new_active[:, 0] = len(seeds)
    u = np.repeat(seeds, replications)
    r = np.tile(np.arange(replications, dtype=np.int64), len(seeds))
    for step in range(1, steps + 1):
        if len(u) == 0:
            break
        v, r = _live_ties(ties, node, u, r, salt)
        bit = np.left_shift(np.uint64(1), (r & 63).astype(np.uint64))
        fresh = (active[v, r >> 6] & bit) == 0
        key = np.unique(v[fresh] * replications + r[fresh])
        u, r = np.divmod(key, replications)
        np.bitwise_or.at(
            active, (u, r >> 6), np.left_shift(np.uint64(1), (r & 63).astype(np.uint64))
        )
        new_active[:, step] = np.bincount(r, minlength=replications)
    return CascadeResult(new_active=new_active, active_words=active if return_active else None)


def _live_ties(
    ties: InfluenceTies, node: np.ndarray, u: np.ndarray, r: np.ndarray, salt: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """The ties that succeed when node ``u[k]`` becomes active in replication ``r[k]``:
    their targets and replications.

    Each pair walks its row by geometric skips, one candidate per round: the skip of round
    ``i`` comes from draw ``i`` of the pair's stream; candidate tie ``j`` (offset ``o`` in
    the row) is kept with probability ``w_j / top``, from draw ``(o + 1) << 32``. The
    compiled kernel takes the same draws.
    """
    nd = node[u]
    keep = nd["top"] > 0.0
    nd, u, r = nd[keep], u[keep], r[keep]
    base = _mix((u.astype(np.uint64) << np.uint64(20)) | r.astype(np.uint64), salt)
    j = nd["start"] - 1
    pending = np.arange(len(u))
    targets, replications = [], []
    counter = np.uint64(1)
    while len(pending):
        l1q = nd["l1q"][pending]
        skip = np.zeros(len(pending))
        walk = np.flatnonzero(l1q < 0.0)
        draw = _mix(base[pending[walk]] + counter, salt)
        uniform = ((draw >> np.uint64(11)).astype(np.float64) + 1.0) * _TWO53
        skip[walk] = np.floor(_ln(uniform) / l1q[walk])
        counter += np.uint64(1)
        inside = skip < nd["stop"][pending] - j[pending] - 1
        pending, skip = pending[inside], skip[inside]
        j[pending] += 1 + skip.astype(np.int64)
        tie = j[pending]
        weight = ties.weight[tie].astype(np.float64)
        top = nd["top"][pending]
        thin = np.flatnonzero(weight < top)
        offset = (tie[thin] - nd["start"][pending[thin]] + 1).astype(np.uint64) << np.uint64(32)
        draw = _mix(base[pending[thin]] + offset, salt)
        kept = np.ones(len(pending), bool)
        kept[thin] = (draw >> np.uint64(11)).astype(np.float64) * _TWO53 * top[thin] < weight[thin]
        targets.append(ties.target[tie[kept]].astype(np.int64))
        replications.append(r[pending[kept]])
    if not targets:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(targets), np.concatenate(replications)


def _run_numba(
    ties: InfluenceTies,
    node: np.ndarray,
    seeds: np.ndarray,
    steps: int,
    groups: list[tuple[int, int]],
    salt: np.uint64,
    return_active: bool,
) -> CascadeResult:
    """The compiled path: each group of replications in its own thread and state."""
    from ._cascade_numba import cascade

    packed = ties.packed
    replications = groups[-1][1]
    states = [np.zeros((ties.n_nodes, 2 * -(-(b - a) // 64)), np.uint64) for a, b in groups]
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
        active = np.zeros((ties.n_nodes, -(-replications // 64)), np.uint64)
        for state, (a, b) in zip(states, groups, strict=True):
            _put_lanes(active, state[:, : state.shape[1] // 2], a, b - a)
    return CascadeResult(new_active=np.ascontiguousarray(new_active), active_words=active)


def _put_lanes(active: np.ndarray, words: np.ndarray, first: int, n_lanes: int) -> None:
    """OR lanes 0 .. n_lanes - 1 of ``words`` into ``active`` as replications ``first`` .. ."""
    if first % 64 == 0:
        active[:, first // 64 : first // 64 + words.shape[1]] |= words
        return
    for lane in range(n_lanes):
        bits = (words[:, lane // 64] >> np.uint64(lane % 64)) & np.uint64(1)
        r = first + lane
        active[:, r // 64] |= bits << np.uint64(r % 64)


def _groups(replications: int, threads: int) -> list[tuple[int, int]]:
    """``threads`` contiguous ranges of replications whose sizes differ by at most one."""
    bounds = [replications * k // threads for k in range(threads + 1)]
    return list(itertools.pairwise(bounds))


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


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


def _check_memory(n_nodes: int, replications: int, groups: list[tuple[int, int]]) -> None:
    """Refuse a call whose state cannot fit, with the estimate."""
    words = sum(-(-(b - a) // 64) for a, b in groups)
    estimate = n_nodes * (8 * (3 * words + -(-replications // 64)) + 16 * len(groups) + 32)
    if estimate > MAX_STATE_BYTES:
        raise ScenarioError(
            f"{_WHERE}: {replications:,} replications on {n_nodes:,} nodes need about "
            f"{estimate / 1e9:.1f} GB of state; at most {MAX_STATE_BYTES / 1e9:.0f} GB is "
            "allowed: run fewer replications per call"
        )


def _lanes(replications: int) -> np.ndarray:
    """The words of a node active in every replication."""
    lanes = np.full(-(-replications // 64), _ALL)
    if replications % 64:
        lanes[-1] = np.uint64((1 << (replications % 64)) - 1)
    return lanes


def _backend(backend: Any) -> str:
    if backend not in ("auto", "numpy", "numba"):
        raise ScenarioError(
            f"{_WHERE}: backend = {backend!r} is not allowed; expected 'auto', 'numpy' or 'numba'"
        )
    if backend == "numpy":
        return backend
    try:
        import numba  # noqa: F401
    except ImportError:
        if backend == "numba":
            raise ScenarioError(
                f"{_WHERE}: backend = 'numba' needs numba, which is not installed "
                "(pip install numba); use backend='numpy' or 'auto'"
            ) from None
        return "numpy"
    return "numba"


def _tie_dtype(weight: np.dtype) -> np.dtype:
    return np.dtype([("target", np.int32), ("weight", weight)], align=True)


_NODE_DTYPE = np.dtype(
    [("start", np.int64), ("stop", np.int64), ("top", np.float64), ("l1q", np.float64)]
)


def _mix(keys: np.ndarray, salt: np.uint64) -> np.ndarray:
    """64 random bits per key (the SplitMix64 finaliser of ``key * golden + salt``)."""
    z = keys * _GOLDEN + salt
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _ln(x: np.ndarray) -> np.ndarray:
    """Natural logarithm of ``x > 0`` by a fixed sequence of IEEE operations.

    ``x = m 2**e`` with ``m`` in [sqrt(1/2), sqrt(2)), ``ln x = e ln 2 + 2 atanh(s)``,
    ``s = (m - 1) / (m + 1)``, the atanh series to ``s**23`` (truncation below 1e-19). The
    compiled kernel evaluates the same expression in the same order, so both paths give
    the same bits, which ``np.log`` (SIMD on some machines, libm on others) would not.
    """
    m, e = np.frexp(x)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = e - low
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    z8 = z4 * z4
    a = (_C1 + _C3 * z) + (_C5 + _C7 * z) * z2
    b = (_C9 + _C11 * z) + (_C13 + _C15 * z) * z2
    c = (_C17 + _C19 * z) + (_C21 + _C23 * z) * z2
    t = a + b * z4 + c * z8
    return 2.0 * s * t + e.astype(np.float64) * _LN2


def _check_number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        raise ScenarioError(
            f"{_WHERE}: {name} = {value!r} is not allowed; expected a number, "
            f"{low:g} ≤ value ≤ {high:g}"
        )
    return float(value)


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= value <= high
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
