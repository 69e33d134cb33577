"""Random draws the engine shares between its phases: uniforms drawn ahead for lockstep
replications, and weighted choices by inverse CDF.

``Generator.choice(n, size, p=p)`` draws ``size`` uniforms and searches them in the
normalised cumulative sum of ``p``; :func:`choice_cdf` and :func:`inverse_cdf` do the same
(identical numbers, tested), so that the CDF of a fixed distribution is built once and the
search can use a look-up table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtri

__all__ = [
    "CDF_BUCKETS",
    "Uniforms",
    "cdf_table",
    "choice_cdf",
    "generator",
    "inverse_cdf",
    "normal",
    "poisson",
]


def generator(seed: np.random.SeedSequence) -> np.random.Generator:
    """The generator of one stream of the engine's day: numpy's SFC64 seeded by ``seed``
    (the compiled kernels draw the same numbers with their own copy of SFC64)."""
    return np.random.Generator(np.random.SFC64(seed))


class Uniforms:
    """The uniform draws of one phase of R replications, each from its own stream
    (:func:`generator` of its seed).

    ``take(counts)`` gives replication r the next ``counts[r]`` numbers of its stream,
    exactly those ``generator(seeds[r]).random(counts[r])`` would give (a generator's doubles
    do not depend on how the calls split them: each takes one 64-bit output), concatenated in
    replication order; ``take32`` does the same for float32 numbers (``random(dtype=
    np.float32)``), and a phase uses one of the two.

    With ``compiled``, the compiled kernels draw every take in one call, for all replications
    (:func:`laotie.engine._kernels_numba.uniforms`, numpy's SFC64 step for step). Otherwise
    numpy draws: with several replications, small takes are served from numbers drawn ahead,
    for every replication at once, at least ``block`` and twice the largest need at a time,
    so that a day's many small draws cost a few array operations instead of a generator call
    per replication; a large take (``direct`` numbers per replication on average) copies what
    each replication has left and draws the rest in place, and one replication always draws
    directly. A phase that takes its numbers here must take all of them here (any other
    call on its generators would come between numbers already drawn).

    Examples
    --------
    >>> seeds = [np.random.SeedSequence(s) for s in (1, 2)]
    >>> u = Uniforms(seeds).take(np.array([2, 3]))
    >>> alone = [generator(s) for s in seeds]
    >>> bool(np.array_equal(u, np.concatenate([alone[0].random(2), alone[1].random(3)])))
    True
    """

    block = 1024
    """The least number of uniforms a replication draws ahead at a time."""
    direct = 512
    """From this many numbers per replication (on average) a take draws in place."""

    def __init__(self, seeds: list[np.random.SeedSequence], compiled: bool = False) -> None:
        rngs = [generator(seed) for seed in seeds]
        R = len(seeds)
        self.compiled = compiled
        # Compiled, the streams are states, numpy's (s0 .. s3, has_uint32, uinteger) per
        # stream, and the generators are not kept (they would not advance); else the
        # generators draw.
        self.rngs = [] if compiled else rngs
        self._state = np.array(
            [[*g.bit_generator.state["state"]["state"], 0, 0] for g in rngs] if compiled else [],
            np.uint64,
        ).reshape(-1, 6)
        self._pool = np.zeros((R, 0))
        self._next = np.zeros(R, np.int64)

    def _compiled_take(self, kernel: Any, counts: np.ndarray, dtype: Any) -> np.ndarray:
        if len(counts) != len(self._state):  # the kernels do not check their bounds
            raise ValueError(f"Uniforms: {len(counts)} counts for {len(self._state)} streams")
        out = np.empty(int(counts.sum()), dtype)
        kernel(self._state, counts, out)
        return out

    @staticmethod
    def _kernels() -> Any:
        from . import _kernels_numba  # on use, so that an engine holds no module and pickles

        return _kernels_numba

    def take(self, counts: np.ndarray) -> np.ndarray:
        """The next ``counts[r]`` uniforms of each replication r, in replication order."""
        counts = np.asarray(counts, np.int64)
        if self.compiled:
            return self._compiled_take(self._kernels().uniforms, counts, np.float64)
        if len(self.rngs) == 1:
            return self.rngs[0].random(int(counts[0]))
        n = int(counts.sum())
        if n >= self.direct * len(self.rngs):
            return self._take_in_place(counts, n)
        width = self._pool.shape[1]
        if np.any(self._next + counts > width):
            self._refill(counts)
            width = self._pool.shape[1]
        start = np.arange(len(counts)) * width + self._next
        # Entry j of replication r reads start[r] + (j - first[r]).
        at = np.arange(n) + np.repeat(start - (np.cumsum(counts) - counts), counts)
        self._next += counts
        return self._pool.ravel()[at]

    def take32(self, counts: np.ndarray) -> np.ndarray:
        """The next ``counts[r]`` float32 uniforms of each replication r, in replication
        order (never drawn ahead: a phase that takes these takes nothing else)."""
        counts = np.asarray(counts, np.int64)
        if self.compiled:
            return self._compiled_take(self._kernels().uniforms32, counts, np.float32)
        if self._pool.shape[1]:
            raise RuntimeError("Uniforms.take32: this stream has doubles drawn ahead")
        out = np.empty(int(counts.sum()), np.float32)
        at = 0
        for rng, k in zip(self.rngs, counts.tolist(), strict=True):
            rng.random(dtype=np.float32, out=out[at : at + k])
            at += k
        return out

    def _take_in_place(self, counts: np.ndarray, n: int) -> np.ndarray:
        out = np.empty(n)
        width = self._pool.shape[1]
        at = 0
        for r, rng in enumerate(self.rngs):
            k = int(counts[r])
            first = int(self._next[r])
            kept = min(k, width - first)
            out[at : at + kept] = self._pool[r, first : first + kept]
            self._next[r] += kept
            if k > kept:
                rng.random(out=out[at + kept : at + k])
            at += k
        return out

    def _refill(self, counts: np.ndarray) -> None:
        left = self._pool.shape[1] - self._next
        width = int(max(self.block, 2 * int((left + counts).max())))
        pool = np.empty((len(self.rngs), width))
        for r, rng in enumerate(self.rngs):
            kept = int(left[r])
            pool[r, :kept] = self._pool[r, self._next[r] :]
            rng.random(width - kept, out=pool[r, kept:])
        self._pool = pool
        self._next[:] = 0


def choice_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution Generator.choice(p=p) searches (normalised to end at 1),
    in float64 as there (float32 weights would give a CDF of float32 steps); of each row,
    along the last axis, for several distributions (each row as it would be alone)."""
    cdf = np.asarray(p, dtype=np.float64).cumsum(axis=-1)
    cdf /= cdf[..., -1:]
    return cdf


POISSON_SUM_MAX = 30.0
"""Means up to this are inverted by summing the terms; larger ones by scipy's quantile."""


def poisson(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson draws of means ``lam`` from uniforms ``u`` in [0, 1), by inversion: the least
    k whose cumulative probability exceeds u. Means up to :data:`POISSON_SUM_MAX` sum the
    terms (p_k = p_(k-1) lam / k, until the sum passes u or stops growing); larger means,
    whose first term loses precision or underflows, take ``scipy.stats.poisson.ppf``.

    Examples
    --------
    >>> poisson(np.array([0.5, 0.5, 2.0, 800.0]), np.array([0.0, 0.7, 0.99, 0.5])).tolist()
    [0, 1, 6, 800]
    """
    lam = np.asarray(lam, np.float64)
    u = np.asarray(u, np.float64)
    k = np.zeros(len(u), np.int64)
    large = lam > POISSON_SUM_MAX
    if large.any():
        from scipy.stats import poisson as distribution

        k[large] = np.maximum(distribution.ppf(u[large], lam[large]), 0).astype(np.int64)
    p = np.exp(-lam)
    # The draws not yet placed, with their terms: all at the same k in each round.
    more = ~large & (u >= p)
    at, u, lam, p = np.flatnonzero(more), u[more], lam[more], p[more]
    cdf = p
    j = 0
    while len(at):
        j += 1
        k[at] = j
        p = p * (lam / j)
        grown = cdf + p
        more = (u >= grown) & (grown > cdf)
        at, u, lam, p, cdf = at[more], u[more], lam[more], p[more], grown[more]
    return k


def normal(u: np.ndarray) -> np.ndarray:
    """Standard normal draws from uniforms ``u`` in [0, 1), by inversion
    (:func:`scipy.special.ndtri`; a uniform of 0 is taken as the smallest positive double,
    so that every draw is finite)."""
    return ndtri(np.maximum(u, np.finfo(np.float64).tiny))


CDF_BUCKETS = 1024
"""Buckets of [0, 1) in the look-up tables of :func:`inverse_cdf`."""


def cdf_table(cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each bucket [b/K, (b+1)/K): how many of ``cdf`` are ≤ its start and < its end."""
    edges = np.arange(CDF_BUCKETS + 1) / CDF_BUCKETS
    return cdf.searchsorted(edges[:-1], side="right"), cdf.searchsorted(edges[1:], side="left")


def inverse_cdf(
    cdf: np.ndarray, u: np.ndarray, table: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """``cdf.searchsorted(u, side="right")`` for ``u`` in [0, 1), exactly: with a
    :func:`cdf_table`, a draw whose bucket holds no step of the CDF takes the bucket's
    count, and only the others are searched (binary searches of unsorted draws are slow,
    about 25 ns each)."""
    if table is None:
        return cdf.searchsorted(u, side="right")
    low, high = table
    bucket = (u * CDF_BUCKETS).astype(np.intp)  # exact: K is a power of two
    index = low[bucket]
    unsure = np.flatnonzero(index != high[bucket])
    index[unsure] = cdf.searchsorted(u[unsure], side="right")
    return index
