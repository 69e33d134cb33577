"""The compiled cascade of :func:`laotie.cascade.independent_cascade` (optional: needs numba).

The same rules, streams and arithmetic as the numpy path (:func:`laotie.cascade._live_ties`
and :func:`laotie.cascade._ln`, whose series this module compiles from the same function), one
(node, replication) pair at a time, so the results are identical; imported only when numba is
installed. Floating-point expressions are written in the order the numpy path evaluates them;
numba does not reorder or fuse them (fastmath is off).
"""

from __future__ import annotations

import math

import numba
import numpy as np

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
    """:func:`laotie.cascade._ln` for one number: the same reduction, the same series."""
    m, e = math.frexp(x)
    if m < _SQRT_HALF:
        m = m * 2.0
        e = e - 1
    return _log_reduced(m, np.float64(e))


@numba.njit(cache=True, nogil=True)
def ln(x):  # type: ignore[no-untyped-def]
    """:func:`_ln` over an array (for the tests: the same bits as the numpy path)."""
    out = np.empty_like(x)
    for i in range(len(x)):
        out[i] = _ln(x[i])
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _bit_index(low: np.uint64) -> np.int64:
    return _BIT_INDEX[(low * _DEBRUIJN) >> np.uint64(58)]


@numba.njit(cache=True, nogil=True)
def cascade(ties, node, seeds, first, n_lanes, steps, salt, state, counts):  # type: ignore[no-untyped-def]
    """Replications ``first`` .. ``first + n_lanes - 1``, all steps.

    ``state[v, :w]`` are node ``v``'s activity words (lane ``l`` of word ``k`` is replication
    ``first + 64 k + l``) and ``state[v, w:]`` its words of the step being built;
    ``counts[t, lane]`` receives the nodes newly active at step ``t``.

    A step works on batches of (node, replication) pairs in passes whose iterations are
    independent, so that the processor overlaps them (memory accesses and the arithmetic of
    the skips): the pairs of the frontier, then one skip of every walking pair per round
    (as the numpy path does), then the candidate ties (thinning) and their targets.
    """
    n = len(node)
    n_words = state.shape[1] // 2
    front = np.empty(n, np.int64)
    masks = np.empty((n, n_words), np.uint64)
    hits = np.empty(n, np.int64)
    cand_tie = np.empty(2 * _BATCH, np.int64)
    cand_pair = np.empty(2 * _BATCH, np.int64)
    pairs = np.empty(_BATCH, _PAIR_DTYPE)
    walking = np.empty(_BATCH, np.int64)
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
    for step in range(1, steps + 1):
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
                        n_hits = _walk(
                            ties,
                            state,
                            pairs[:n_pairs],
                            walking,
                            cand_tie,
                            cand_pair,
                            salt,
                            hits,
                            n_hits,
                        )
                        n_pairs = 0
        n_hits = _walk(
            ties, state, pairs[:n_pairs], walking, cand_tie, cand_pair, salt, hits, n_hits
        )
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
    return n_front


@numba.njit(cache=True, nogil=True)
def _walk(ties, state, pairs, walking, cand_tie, cand_pair, salt, hits, n_hits):  # type: ignore[no-untyped-def]
    """Walk the rows of a batch of pairs, one skip of every walking pair per round (round
    ``i`` takes draw ``i`` of the pair's stream); settle the candidates as they come."""
    for p in range(len(pairs)):
        pairs[p].at = pairs[p].start - 1
        walking[p] = p
    n_walking = len(pairs)
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
            n_hits = _settle(ties, state, pairs, cand_tie, cand_pair, n_cand, salt, hits, n_hits)
            n_cand = 0
    return n_hits


@numba.njit(cache=True, nogil=True)
def _settle(ties, state, pairs, cand_tie, cand_pair, n_cand, salt, hits, n_hits):  # type: ignore[no-untyped-def]
    """Thin the candidate ties (the draw of tie ``j`` of a pair's row is number
    ``(j - start + 1) << 32`` of its stream), then mark the kept ties' targets; returns the
    new number of hits."""
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
