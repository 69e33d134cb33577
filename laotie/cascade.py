"""Word of mouth alone: a lockstep independent cascade on the trust graph (口碑传播).

In the independent cascade (Kempe, Kleinberg and Tardos 2003) every node that becomes active
gets one chance, in the next step, to activate each of its neighbours, independently with the
tie's probability. Influence flows the way word of mouth flows in the engine
(:class:`laotie.engine.market.Listeners`): from a person ``j`` to the people who trust ``j``.
Resident ``i`` trusting ``j`` (the graph's tie ``i → j``, trust ``w[i, j]``) is the channel
``j ⇒ i``, taken with probability ``probability * w[i, j]``, or with a per-tie probability
that you give.

Replications run in lockstep: the state of a node is a row of 64-bit words, bit ``r % 64`` of
word ``r // 64`` for replication ``r``, so one pass over a tie serves up to 64 replications.
Each step reads only the ties of the nodes that became active in the last step in at least one
replication (the frontier).

The coin of tie ``e`` in replication ``r`` is a counter-based draw: a hash (SplitMix64) of the
tie, the replication's word and the seed, compared bit by bit with the binary expansion of
the tie's probability, which gives an exact Bernoulli draw from a few random words per tie
and word (each bit decides a lane with probability 1/2). The coin belongs to its tie and
replication whatever else happens, so replication ``r`` gives the same cascade whatever the
number of replications, and a cascade run for more steps extends the shorter one.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._random import SeedLike, as_seed_sequence
from .errors import ScenarioError
from .graph._core import LAYERS, TrustGraph

__all__ = ["CascadeResult", "InfluenceTies", "independent_cascade"]

MAX_REPLICATIONS = 2**14 * 64
"""Largest number of replications of one call (the word index has 14 bits in the keys)."""

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
# Ties are processed in chunks of about this many entries, to bound the scratch memory.
_CHUNK = 1 << 22
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
        return cls(
            indptr=indptr,
            target=source[order].astype(np.int32, copy=False),
            weight=weight[edge],
            edge=edge,
        )


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
        Seed of the coins; replication ``r`` gets the same coins whatever ``replications``.
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

    Returns
    -------
    CascadeResult
        ``new_active[r, t]``: nodes newly active in replication ``r`` at step ``t``.

    Raises
    ------
    ScenarioError
        If an argument is out of range (the message names it, the value and what is allowed).

    Notes
    -----
    Each tie is tried at most once per replication (when its influencer becomes active), so
    the cascade is the set of nodes reachable from the seeds, within ``steps`` steps, over
    the ties whose coin succeeded (the live-edge view). A node activated by several
    influencers in the same step counts once. The work per step is proportional to the ties
    of the frontier, not to the graph.

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
    salt = np.uint64(as_seed_sequence(seed).generate_state(1, np.uint64)[0])
    return _run(
        ties, seeds, probability, steps, replications, salt, return_active, _backend(backend)
    )


def _run(
    ties: InfluenceTies,
    seeds: np.ndarray,
    probability: float,
    steps: int,
    replications: int,
    salt: np.uint64,
    return_active: bool,
    backend: str,
) -> CascadeResult:
    n_words = -(-replications // 64)
    active = np.zeros((ties.n_nodes, n_words), np.uint64)
    lanes = np.full(n_words, _ALL)
    if replications % 64:
        lanes[-1] = np.uint64((1 << (replications % 64)) - 1)
    frontier = seeds
    masks = np.broadcast_to(lanes, (len(seeds), n_words)).copy()
    active[frontier] = masks
    new_active = np.zeros((steps + 1, n_words * 64), np.int64)
    new_active[0] = _lane_counts(masks)
    newly = np.zeros((ties.n_nodes, n_words), np.uint64)
    if backend == "numba":
        from ._cascade_numba import spread

        hits = np.empty(ties.n_nodes, np.int64)
    for step in range(1, steps + 1):
        if len(frontier) == 0:
            break
        if backend == "numba":
            n_hits = spread(
                ties.indptr,
                ties.target,
                ties.weight,
                probability,
                frontier,
                masks,
                active,
                newly,
                salt,
                hits,
            )
            frontier = np.sort(hits[:n_hits])
        else:
            reached = [
                _spread(ties, frontier, masks, active, newly.ravel(), probability, salt, *chunk)
                for chunk in _chunks(ties.indptr, frontier)
            ]
            frontier = np.unique(np.concatenate(reached))
        masks = newly[frontier]
        newly[frontier] = 0
        active[frontier] |= masks
        new_active[step] = _lane_counts(masks)
    return CascadeResult(
        new_active=np.ascontiguousarray(new_active[:, :replications].T),
        active_words=active if return_active else None,
    )


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


def _chunks(indptr: np.ndarray, frontier: np.ndarray) -> list[tuple[int, int]]:
    """Slices of ``frontier`` with about ``_CHUNK`` ties each."""
    ties = np.cumsum(indptr[frontier + 1] - indptr[frontier])
    if len(ties) == 0 or ties[-1] <= _CHUNK:
        return [(0, len(frontier))]
    cuts = np.searchsorted(ties, np.arange(_CHUNK, ties[-1], _CHUNK), side="right")
    bounds = np.unique(np.concatenate([[0], cuts, [len(frontier)]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def _spread(
    ties: InfluenceTies,
    frontier: np.ndarray,
    masks: np.ndarray,
    active: np.ndarray,
    newly: np.ndarray,
    probability: float,
    salt: np.uint64,
    start: int,
    stop: int,
) -> np.ndarray:
    """Try the ties of ``frontier[start:stop]``; OR the successes into ``newly``.

    Returns the targets with at least one success (with repeats).
    """
    n_words = active.shape[1]
    rows = frontier[start:stop]
    first = ties.indptr[rows]
    counts = ties.indptr[rows + 1] - first
    owner = np.repeat(np.arange(start, stop), counts)
    position = np.arange(len(owner), dtype=np.int64) + np.repeat(
        first - (np.cumsum(counts) - counts), counts
    )
    target = ties.target[position]
    # Lanes where the influencer is new and the target still inactive: the coins to toss.
    open_lanes = masks[owner] & ~active[target]
    flat = np.flatnonzero(open_lanes)
    if len(flat) == 0:
        return np.zeros(0, np.int64)
    tie, word = np.divmod(flat, n_words)
    position = position[tie]
    keys = (position.astype(np.uint64) << np.uint64(20)) | (word.astype(np.uint64) << np.uint64(6))
    p = probability * ties.weight[position].astype(np.float64)
    won = _bernoulli_lanes(keys, open_lanes.ravel()[flat], p, salt)
    hit = np.flatnonzero(won)
    slot = target[tie[hit]].astype(np.int64) * n_words + word[hit]
    np.bitwise_or.at(newly, slot, won[hit])
    return target[tie[hit]].astype(np.int64)


def _mix(keys: np.ndarray, salt: np.uint64) -> np.ndarray:
    """64 random bits per key (the SplitMix64 finaliser of ``key * golden + salt``)."""
    z = keys * _GOLDEN + salt
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _bernoulli_lanes(
    keys: np.ndarray, lanes: np.ndarray, p: np.ndarray, salt: np.uint64
) -> np.ndarray:
    """For each set bit of ``lanes``, a success with probability ``p`` (per row).

    Each lane compares a uniform number ``u = 0.b1 b2 ...`` (bit ``k`` from the hash of
    ``key | k``) with the binary expansion ``p = 0.p1 p2 ...``: the first differing bit
    decides ``u < p``. A lane is undecided after ``k`` bits with probability ``2**-k``, so
    rows leave the loop quickly; ``p = 1`` always succeeds.
    """
    won = np.where(p >= 1.0, lanes, np.uint64(0))
    todo = np.flatnonzero((p < 1.0) & (p > 0.0))
    undecided = lanes[todo]
    q = p[todo]
    keys = keys[todo]
    for k in range(64):
        if len(todo) == 0:
            break
        q = q * 2.0
        bit = q >= 1.0
        q -= bit
        digits = np.where(bit, _ALL, np.uint64(0))
        draw = _mix(keys | np.uint64(k), salt)
        won[todo] |= undecided & ~draw & digits
        undecided &= ~(draw ^ digits)
        still = np.flatnonzero(undecided)
        if len(still) < len(todo):
            todo, undecided, q, keys = todo[still], undecided[still], q[still], keys[still]
    return won


def _lane_counts(masks: np.ndarray) -> np.ndarray:
    """Number of set bits in each of the ``64 * n_words`` lanes over the rows of ``masks``."""
    n_words = masks.shape[1]
    if len(masks) == 0:
        return np.zeros(64 * n_words, np.int64)
    octets = np.ascontiguousarray(masks, dtype="<u8").view(np.uint8)
    counts = np.empty((8 * n_words, 8), np.int64)
    for bit in range(8):
        counts[:, bit] = ((octets >> bit) & 1).sum(axis=0, dtype=np.int64)
    return counts.ravel()


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
