"""The compiled step of :func:`laotie.cascade.independent_cascade` (optional: needs numba).

The same rules, hash and draws as the numpy path, one tie at a time, so the results are
identical; imported only when numba is installed.
"""

from __future__ import annotations

import numba
import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ZERO = np.uint64(0)


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(key: np.uint64, salt: np.uint64) -> np.uint64:
    z = key * _GOLDEN + salt
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True, inline="always")
def _bernoulli(key: np.uint64, lanes: np.uint64, p: float, salt: np.uint64) -> np.uint64:
    if p >= 1.0:
        return lanes
    won = _ZERO
    if p <= 0.0:
        return won
    undecided = lanes
    q = p
    # The first bits are compared without testing whether every lane is decided: a branch
    # per bit costs more than the bits (a lone lane is decided after 4 bits 15 times in 16).
    for k in range(64):
        q = q * 2.0
        bit = np.uint64(q >= 1.0)
        q -= np.float64(bit)
        digits = _ZERO - bit
        draw = _mix(key | np.uint64(k), salt)
        won |= undecided & ~draw & digits
        undecided &= ~(draw ^ digits)
        if k >= 3 and undecided == _ZERO:
            break
    return won


@numba.njit(cache=True, nogil=True)
def spread(indptr, target, weight, probability, frontier, masks, active, newly, salt, hits):  # type: ignore[no-untyped-def]
    """One step: try the ties of ``frontier``; OR the successes into ``newly`` (n, words).

    Writes each newly reached node once into ``hits`` and returns how many there are.
    """
    n_words = active.shape[1]
    n_hits = 0
    for f in range(len(frontier)):
        u = frontier[f]
        for w in range(n_words):
            mask = masks[f, w]
            if mask == _ZERO:
                continue
            word_key = np.uint64(w) << np.uint64(6)
            for e in range(indptr[u], indptr[u + 1]):
                v = target[e]
                lanes = mask & ~active[v, w]
                if lanes == _ZERO:
                    continue
                key = (np.uint64(e) << np.uint64(20)) | word_key
                won = _bernoulli(key, lanes, probability * np.float64(weight[e]), salt)
                if won == _ZERO:
                    continue
                fresh = True
                for x in range(n_words):
                    if newly[v, x] != _ZERO:
                        fresh = False
                        break
                if fresh:
                    hits[n_hits] = v
                    n_hits += 1
                newly[v, w] |= won
    return n_hits
