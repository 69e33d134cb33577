"""The run of :func:`independent_cascade`: checked arguments in, :class:`CascadeResult` out.

The call checks its arguments, builds the node table of the kernel, splits the replications
into contiguous groups (one per thread, each with its own bit-packed state), runs the
compiled kernel on every group and puts the groups' counts and active sets together.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._random import SeedLike, as_seed_sequence
from ..errors import ScenarioError
from ..graph._core import TrustGraph
from .checks import WHERE, check_int, check_number, check_seeds
from .kernel import NODE_DTYPE, CascadeInput, Group, cascade
from .ties import InfluenceTies

__all__ = ["MAX_REPLICATIONS", "MAX_STATE_BYTES", "CascadeResult", "independent_cascade"]

MAX_REPLICATIONS = 2**20
"""Largest number of replications of one call (the replication has 20 bits in the keys)."""

MAX_STATE_BYTES = 8_000_000_000
"""Largest state of one call (bit-packed activity and frontiers); more is refused."""

_MAX_THREADS = 1 << 10


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

    Examples
    --------
    >>> result = CascadeResult(
    ...     new_active=np.array([[1, 1, 0], [1, 0, 0]]),
    ...     active_words=np.array([[3], [1], [0]], np.uint64),
    ... )
    >>> result.size
    array([2, 1])
    >>> result.active_nodes(0)
    array([0, 1])
    """

    new_active: np.ndarray
    active_words: np.ndarray | None = None

    @property
    def size(self) -> np.ndarray:
        """Final number of active nodes per replication, seeds included."""
        return self.new_active.sum(axis=1)

    def active_nodes(self, replication: int) -> np.ndarray:
        """The nodes active at the end of one replication.

        Parameters
        ----------
        replication : int
            The replication, 0 .. replications - 1.

        Returns
        -------
        ndarray of int64
            Their ids, sorted.

        Raises
        ------
        ScenarioError
            If the final active sets were not kept (``return_active=False``) or
            ``replication`` is out of range.
        """
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
        Seed of the coins; replication ``r`` gets the same coins whatever ``replications``
        and ``threads``.
    layers : sequence of str, default ("local", "city")
        Layers whose ties carry influence (word of mouth in the engine uses local and city
        ties).
    edge_probability : array of float, shape (graph.n_edges,), optional
        Per-tie weights in [0, 1] aligned with ``graph.indices``, used instead of trust.
    return_active : bool, default False
        Keep the final active sets (:attr:`CascadeResult.active_words`).
    threads : int, optional
        Threads, 1 to 1,024 (default: the processors this process may use): the
        replications are split into this many contiguous groups (fewer when there are fewer
        replications), each run by its own thread with its own state. The results do not
        depend on it.

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
    bytes, and ``replications / 8`` more per node with ``return_active``; a call that would
    need more than :data:`MAX_STATE_BYTES` is refused.

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
    probability = check_number("probability", probability, 0.0, 1.0)
    steps = check_int("steps", steps, 0, 1 << 30)
    replications = check_int("replications", replications, 1, MAX_REPLICATIONS)
    seed_nodes = check_seeds(seeds, ties.n_nodes)
    if threads is None:
        threads = min(_available_cpus(), _MAX_THREADS)
    threads = min(check_int("threads", threads, 1, _MAX_THREADS), replications)
    groups = _groups(replications, threads)
    _check_memory(ties.n_nodes, replications, steps, groups, return_active)
    run = CascadeInput(
        ties=ties.packed,
        node=_node_table(ties, probability),
        seeds=seed_nodes,
        steps=steps,
        salt=np.uint64(as_seed_sequence(seed).generate_state(1, np.uint64)[0]),
    )
    return _run(run, groups, return_active)


def _node_table(ties: InfluenceTies, probability: float) -> np.ndarray:
    """The kernel's node records (:data:`~laotie.cascade.kernel.NODE_DTYPE`): each node's
    row, its largest weight ``top`` and ``l1q = ln(1 - q)``, ``q = probability * top``;
    ``l1q = 0`` marks ``q = 1`` (every tie a candidate) and ``top = 0`` a node that
    activates nobody."""
    node = np.empty(ties.n_nodes, NODE_DTYPE)
    node["start"] = ties.indptr[:-1]
    node["stop"] = ties.indptr[1:]
    q = probability * ties.row_max
    # q may round to 0 (tiny weights times a tiny probability): then nobody is activated.
    node["top"] = np.where(q > 0.0, ties.row_max, 0.0)
    with np.errstate(divide="ignore"):
        node["l1q"] = np.where(q < 1.0, np.log1p(-q), 0.0)
    return node


def _run(run: CascadeInput, groups: list[range], return_active: bool) -> CascadeResult:
    """Each group of replications in its own thread and state."""
    n_nodes = len(run.node)
    work = [
        Group(
            first=group.start,
            n_lanes=len(group),
            state=np.zeros((n_nodes, 2 * _words(len(group))), np.uint64),
            counts=np.zeros((run.steps + 1, 64 * _words(len(group))), np.int64),
        )
        for group in groups
    ]
    if len(work) == 1:
        cascade(run, work[0])
    else:
        list(_pool(len(work)).map(lambda group: cascade(run, group), work))
    new_active = np.concatenate([group.counts[:, : group.n_lanes].T for group in work])
    active = None
    if return_active:
        active = np.zeros((n_nodes, _words(groups[-1].stop)), np.uint64)
        for group in work:
            _put_lanes(active, group.state[:, : group.state.shape[1] // 2], group.first)
    return CascadeResult(new_active=np.ascontiguousarray(new_active), active_words=active)


def _put_lanes(active: np.ndarray, words: np.ndarray, first: int) -> None:
    """OR a group's words into ``active``, its lane ``l`` of word ``k`` as replication
    ``first + 64 k + l`` (the group's bits past its last replication are 0)."""
    word, shift = divmod(first, 64)
    for k in range(words.shape[1]):
        active[:, word + k] |= words[:, k] << np.uint64(shift)
        if shift and word + k + 1 < active.shape[1]:
            active[:, word + k + 1] |= words[:, k] >> np.uint64(64 - shift)


def _groups(replications: int, threads: int) -> list[range]:
    """``threads`` contiguous ranges of replications whose sizes differ by at most one."""
    return [
        range(replications * k // threads, replications * (k + 1) // threads)
        for k in range(threads)
    ]


def _check_memory(
    n_nodes: int, replications: int, steps: int, groups: list[range], return_active: bool
) -> None:
    """Refuse a call whose state cannot fit, with the estimate: the bit-packed activity
    and the step's words of every node in every group, the kernel's per-node scratch, the
    node table, the counts per replication and step, and the final active sets if kept."""
    group_words = sum(_words(len(group)) for group in groups)
    estimate = 32 * n_nodes + 8 * replications * (steps + 1)
    estimate += n_nodes * (24 * group_words + 16 * len(groups))
    estimate += 8 * n_nodes * _words(replications) if return_active else 0
    if estimate > MAX_STATE_BYTES:
        raise ScenarioError(
            f"{WHERE}: {replications:,} replications of {steps:,} steps on {n_nodes:,} nodes "
            f"need about {estimate / 1e9:.1f} GB of state; at most "
            f"{MAX_STATE_BYTES / 1e9:.0f} GB is allowed: run fewer replications or steps per "
            "call"
        )


def _words(replications: int) -> int:
    """64-bit words that hold one bit per replication."""
    return -(-replications // 64)


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
    """The processors this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows
        return os.cpu_count() or 1
