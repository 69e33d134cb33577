"""The compiled cascade: the one writing of the rule of :mod:`laotie.cascade`.

The kernel takes its arguments as named structures: :class:`CascadeInput` (what every
group of replications reads: the tie and node records, the seeds, the steps and the salt of
the coins) and :class:`Group` (the replications one thread runs and the state it writes).
The tie records have the fields of :func:`tie_dtype`, the node records those of
:data:`NODE_DTYPE`. Floating-point expressions are evaluated in the order they are written:
numba does not reorder or fuse them (fastmath is off), so the coins, and the cascades, are
the same bits on every machine.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

__all__ = ["NODE_DTYPE", "CascadeInput", "Group", "cascade", "tie_dtype"]

NODE_DTYPE = np.dtype(
    [("start", np.int64), ("stop", np.int64), ("top", np.float64), ("l1q", np.float64)]
)
"""A node's record: its row of ties (``start``, ``stop``), their largest weight ``top`` (0
for a node that activates nobody) and ``l1q = ln(1 - q)``, ``q = probability * top`` (0
when ``q = 1``: every tie is a candidate)."""


def tie_dtype(weight: np.dtype) -> np.dtype:
    """A tie's record, ``target`` (int32) and ``weight``: float32 weights stay float32, others
    become float64.

    Parameters
    ----------
    weight : numpy dtype
        The dtype of the weights to store.

    Returns
    -------
    numpy dtype
        An aligned record of the tie's target and weight, read in one memory access.

    Examples
    --------
    >>> tie_dtype(np.dtype(np.float16)).fields["weight"][0]
    dtype('float64')
    """
    kind = np.float32 if weight == np.float32 else np.float64
    return np.dtype([("target", np.int32), ("weight", kind)], align=True)


class CascadeInput(NamedTuple):
    """What every group of replications reads."""

    ties: np.ndarray
    """Tie records (:func:`tie_dtype`) grouped by influencer, as the node records point."""
    node: np.ndarray
    """Node records (:data:`NODE_DTYPE`)."""
    seeds: np.ndarray
    """The seed nodes, int64, sorted and distinct."""
    steps: int
    """Steps after the seeds."""
    salt: np.uint64
    """The call's seed: draw ``i`` of a stream keyed ``key`` is ``_mix(key + i, salt)``."""


class Group(NamedTuple):
    """Replications ``first`` .. ``first + n_lanes - 1``, run by one thread, and its state."""

    first: int
    """The group's first replication."""
    n_lanes: int
    """Its number of replications (lane ``l`` of word ``k`` is replication
    ``first + 64 k + l``)."""
    state: np.ndarray
    """uint64, shape (n_nodes, 2 * words): ``state[v, :words]`` are node ``v``'s activity
    words, ``state[v, words:]`` its words of the step being built."""
    counts: np.ndarray
    """int64, shape (steps + 1, 64 * words): ``counts[t, lane]`` receives the nodes newly
    active at step ``t``."""


class _Scratch(NamedTuple):
    """The kernel's working arrays, allocated once per call."""

    front: np.ndarray
    """The frontier's nodes."""
    masks: np.ndarray
    """Their words: the replications in which each became active in the last step."""
    hits: np.ndarray
    """The nodes activated in the step being built."""
    pairs: np.ndarray
    """A batch of (node, replication) pairs (``_PAIR_DTYPE``)."""
    walking: np.ndarray
    """The pairs of the batch still walking their row."""
    cand_tie: np.ndarray
    """Candidate ties (then the targets of the kept ones)."""
    cand_pair: np.ndarray
    """The pair of each candidate."""


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TWO53 = 1.0 / 9007199254740992.0
"""2**-53: the uniforms are the top 53 bits of a hash times this."""
_SQRT_HALF = 0.7071067811865476
_LN2 = 0.6931471805599453
# 1/1, 1/3, ..., 1/23: ln(m) = 2 atanh(s) = 2 (s + s^3/3 + ...), s = (m - 1) / (m + 1).
(_C1, _C3, _C5, _C7, _C9, _C11, _C13, _C15, _C17, _C19, _C21, _C23) = (
    1.0 / k for k in range(1, 24, 2)
)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_BATCH = 1 << 12
"""(node, replication) pairs walked together; candidates settle past this many."""
_PAIR_DTYPE = np.dtype(
    [
        ("base", np.uint64),  # the pair's stream: draw i is _mix(base + i, salt)
        ("top", np.float64),  # the row's largest weight
        ("start", np.int64),  # the row
        ("stop", np.int64),
        ("l1q", np.float64),  # ln(1 - q); 0 when q = 1
        ("word", np.int64),  # the replication's word and bit in the group's state
        ("low", np.uint64),
        ("at", np.int64),  # the walk's last candidate
    ]
)
# The lowest set bit of a word times this constant has the bit's index in its top 6 bits.
_DEBRUIJN = np.uint64(0x03F79D71B4CB0A89)
_BIT_INDEX = np.zeros(64, np.int64)
for _i in range(64):
    _BIT_INDEX[((1 << _i) * 0x03F79D71B4CB0A89 % 2**64) >> 58] = _i


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(key: np.uint64, salt: np.uint64) -> np.uint64:
    """64 random bits for ``key`` (the SplitMix64 finaliser of ``key * golden + salt``)."""
    z = key * _GOLDEN + salt
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True, inline="always")
def _log_reduced(m: float, e: float) -> float:
    """``e ln 2 + ln m`` for ``m`` in [sqrt(1/2), sqrt(2)): the atanh series of
    ``s = (m - 1) / (m + 1)`` to ``s**23`` (truncation below 1e-19), in Estrin's order."""
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    z2 = z * z
    z4 = z2 * z2
    z8 = z4 * z4
    a = (_C1 + _C3 * z) + (_C5 + _C7 * z) * z2
    b = (_C9 + _C11 * z) + (_C13 + _C15 * z) * z2
    c = (_C17 + _C19 * z) + (_C21 + _C23 * z) * z2
    t = a + b * z4 + c * z8
    return 2.0 * s * t + e * _LN2


@numba.njit(cache=True, nogil=True, inline="always")
def _ln(x: float) -> float:
    """Natural logarithm of ``x > 0`` by a fixed sequence of IEEE operations (libm's
    ``log`` differs between machines in the last bits): ``x = m 2**e`` with ``m`` in
    [sqrt(1/2), sqrt(2)), ``ln x = e ln 2 + 2 atanh((m - 1) / (m + 1))``."""
    m, e = math.frexp(x)
    if m < _SQRT_HALF:
        m = m * 2.0
        e = e - 1
    return _log_reduced(m, np.float64(e))


@numba.njit(cache=True, nogil=True, inline="always")
def _bit_index(low: np.uint64) -> np.int64:
    """Index of the one set bit of ``low``."""
    return _BIT_INDEX[(low * _DEBRUIJN) >> np.uint64(58)]


@numba.njit(cache=True, nogil=True)
def cascade(run: CascadeInput, group: Group) -> None:
    """Run the replications of ``group``, all steps, into its state and counts.

    A step works on batches of (node, replication) pairs in passes whose iterations are
    independent, so that the processor overlaps them (memory accesses and the arithmetic of
    the skips): the pairs of the frontier, then one skip of every walking pair per round,
    then the candidate ties (thinning) and their targets.
    """
    node = run.node
    seeds = run.seeds
    salt = run.salt
    first = group.first
    n_lanes = group.n_lanes
    state = group.state
    counts = group.counts
    n = len(node)
    n_words = state.shape[1] // 2
    scratch = _Scratch(
        front=np.empty(n, np.int64),
        masks=np.empty((n, n_words), np.uint64),
        hits=np.empty(n, np.int64),
        pairs=np.empty(_BATCH, _PAIR_DTYPE),
        walking=np.empty(_BATCH, np.int64),
        cand_tie=np.empty(2 * _BATCH, np.int64),
        cand_pair=np.empty(2 * _BATCH, np.int64),
    )
    front = scratch.front
    masks = scratch.masks
    hits = scratch.hits
    pairs = scratch.pairs
    for i in range(len(seeds)):
        front[i] = seeds[i]
        for k in range(n_words):
            lanes = n_lanes - 64 * k
            full = _ALL if lanes >= 64 else (_ONE << np.uint64(lanes)) - _ONE
            masks[i, k] = full
            state[seeds[i], k] = full
    for lane in range(n_lanes):
        counts[0, lane] = len(seeds)
    n_front = len(seeds)
    for step in range(1, run.steps + 1):
        if n_front == 0:
            break
        n_hits = 0
        n_pairs = 0
        for f in range(n_front):
            u = front[f]
            top = node[u].top
            if top <= 0.0:
                continue
            for k in range(n_words):
                mask = masks[f, k]
                while mask != _ZERO:
                    low = mask & (~mask + _ONE)
                    mask ^= low
                    r = first + 64 * k + _bit_index(low)
                    pair = pairs[n_pairs]
                    pair.base = _mix((np.uint64(u) << np.uint64(20)) | np.uint64(r), salt)
                    pair.top = top
                    pair.start = node[u].start
                    pair.stop = node[u].stop
                    pair.l1q = node[u].l1q
                    pair.word = k
                    pair.low = low
                    n_pairs += 1
                    if n_pairs == _BATCH:
                        n_hits = _walk(run, group, scratch, n_pairs, n_hits)
                        n_pairs = 0
        n_hits = _walk(run, group, scratch, n_pairs, n_hits)
        hits[:n_hits].sort()
        for i in range(n_hits):
            v = hits[i]
            front[i] = v
            for k in range(n_words):
                mask = state[v, n_words + k]
                masks[i, k] = mask
                state[v, n_words + k] = _ZERO
                state[v, k] |= mask
                while mask != _ZERO:
                    low = mask & (~mask + _ONE)
                    mask ^= low
                    counts[step, 64 * k + _bit_index(low)] += 1
        n_front = n_hits


@numba.njit(cache=True, nogil=True)
def _walk(run: CascadeInput, group: Group, scratch: _Scratch, n_pairs: int, n_hits: int) -> int:
    """Walk the rows of the batch's first ``n_pairs`` pairs, one skip of every walking pair
    per round (round ``i`` takes draw ``i`` of the pair's stream); settle the candidates as
    they come. Returns the new number of hits."""
    salt = run.salt
    pairs = scratch.pairs
    walking = scratch.walking
    cand_tie = scratch.cand_tie
    cand_pair = scratch.cand_pair
    for p in range(n_pairs):
        pairs[p].at = pairs[p].start - 1
        walking[p] = p
    n_walking = n_pairs
    n_cand = 0
    counter = _ONE
    while n_walking > 0:
        still = 0
        for w in range(n_walking):
            p = walking[w]
            pair = pairs[p]
            skip = 0.0
            if pair.l1q < 0.0:
                draw = _mix(pair.base + counter, salt)
                uniform = (np.float64(draw >> np.uint64(11)) + 1.0) * _TWO53
                skip = np.floor(_ln(uniform) / pair.l1q)
            j = pair.at
            if skip < pair.stop - j - 1:
                j += 1 + np.int64(skip)
                pair.at = j
                cand_tie[n_cand] = j
                cand_pair[n_cand] = p
                n_cand += 1
                walking[still] = p
                still += 1
        n_walking = still
        counter += _ONE
        if n_cand > _BATCH or n_walking == 0:
            n_hits = _settle(run, group, scratch, n_cand, n_hits)
            n_cand = 0
    return n_hits


@numba.njit(cache=True, nogil=True)
def _settle(run: CascadeInput, group: Group, scratch: _Scratch, n_cand: int, n_hits: int) -> int:
    """Thin the first ``n_cand`` candidate ties (the draw of tie ``j`` of a pair's row is
    number ``(j - start + 1) << 32`` of its stream), then mark the kept ties' targets in the
    words of the step being built. Returns the new number of hits."""
    ties = run.ties
    salt = run.salt
    state = group.state
    pairs = scratch.pairs
    cand_tie = scratch.cand_tie
    cand_pair = scratch.cand_pair
    hits = scratch.hits
    n_words = state.shape[1] // 2
    n_kept = 0
    for c in range(n_cand):
        j = cand_tie[c]
        pair = pairs[cand_pair[c]]
        weight = np.float64(ties[j].weight)
        if weight < pair.top:
            draw = _mix(pair.base + (np.uint64(j - pair.start + 1) << np.uint64(32)), salt)
            if not np.float64(draw >> np.uint64(11)) * _TWO53 * pair.top < weight:
                continue
        cand_tie[n_kept] = ties[j].target
        cand_pair[n_kept] = cand_pair[c]
        n_kept += 1
    for c in range(n_kept):
        v = cand_tie[c]
        k = pairs[cand_pair[c]].word
        low = pairs[cand_pair[c]].low
        if state[v, k] & low:
            continue
        building = state[v, n_words + k]
        if building & low:
            continue
        if building == _ZERO:
            fresh = True
            for x in range(n_words):
                if state[v, n_words + x] != _ZERO:
                    fresh = False
                    break
            if fresh:
                hits[n_hits] = v
                n_hits += 1
        state[v, n_words + k] = building | low
    return n_hits
