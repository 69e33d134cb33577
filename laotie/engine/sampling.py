"""Draws by inversion: uniforms turned into choices, Poisson counts and normal noise.

Every daily phase draws only uniforms (:mod:`laotie.engine.streams`) and turns them into
what it needs here (docs/model.md 2, "Stochasticity"): a weighted choice is the search of a
uniform in a cumulative distribution (``Generator.choice(n, size, p=p)`` draws ``size``
uniforms and searches them in the normalised cumulative sum of ``p``: :func:`choice_cdf`
and :func:`inverse_cdf` give the same numbers, tested), a Poisson count the least ``k``
whose cumulative probability exceeds the uniform, a normal noise ``Φ⁻¹(u)``.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.special import ndtri

__all__ = [
    "CDF_BUCKETS",
    "POISSON_SUM_MAX",
    "beta",
    "cdf_table",
    "choice_cdf",
    "inverse_cdf",
    "lognormal",
    "normal",
    "poisson",
    "search_left",
    "search_right",
]


def beta(rng: np.random.Generator, mean: float, concentration: float, size: int) -> np.ndarray:
    """Beta draws with the given mean and concentration a + b, as float32 (set-up draws,
    from numpy's generators)."""
    return rng.beta(mean * concentration, (1 - mean) * concentration, size).astype(np.float32)


def lognormal(rng: np.random.Generator, mean: float, log_sd: float, size: int) -> np.ndarray:
    """Log-normal draws with the given mean (not median) and log-sd (set-up draws, from
    numpy's generators)."""
    return rng.lognormal(np.log(mean) - log_sd**2 / 2, log_sd, size)


def choice_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution Generator.choice(p=p) searches (normalised to end at 1),
    in float64 as there (float32 weights would give a CDF of float32 steps); of each row,
    along the last axis, for several distributions (each row as it would be alone)."""
    cdf = np.asarray(p, dtype=np.float64).cumsum(axis=-1)
    cdf /= cdf[..., -1:]
    return cdf


CDF_BUCKETS = 1024
"""The fewest buckets of [0, 1) in the look-up tables of :func:`inverse_cdf` (a power of
two)."""


def cdf_table(cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each bucket [b/K, (b+1)/K): how many of ``cdf`` are ≤ its start and < its end.
    ``K`` is :data:`CDF_BUCKETS`, or for a longer CDF the power of two at least its length,
    so that a bucket holds about one step of a CDF of many small ones (a wide bucket's search
    is a chain of dependent loads). Of each row of a two-dimensional ``cdf``, the tables
    stacked (one row of ``low`` and of ``high`` each)."""
    rows = np.atleast_2d(cdf)
    buckets = max(CDF_BUCKETS, 1 << max(rows.shape[1] - 1, 0).bit_length())
    low = np.empty((len(rows), buckets), np.int64)
    high = np.empty((len(rows), buckets), np.int64)
    _cdf_tables(np.ascontiguousarray(rows, np.float64), low, high)
    return (low, high) if cdf.ndim > 1 else (low[0], high[0])


@numba.njit(cache=True, nogil=True)
def _cdf_tables(cdf, low, high):  # type: ignore[no-untyped-def]
    """:func:`cdf_table` of each row, by one walk along the row and the buckets' edges
    (``cdf.searchsorted(edges[:-1], side="right")`` and ``(edges[1:], side="left")`` for
    ``edges = np.arange(K + 1) / K``: the same edges, the same counts, NaN, which numpy's
    search puts after every number, never counted; two searches of a thousand edges took
    0.07 ms of a 5 % day)."""
    buckets = low.shape[1]
    width = cdf.shape[1]
    for r in range(cdf.shape[0]):
        row = cdf[r]
        at_most = below = 0
        for b in range(buckets):
            start, end = b / buckets, (b + 1) / buckets
            while at_most < width and row[at_most] <= start:
                at_most += 1
            while below < width and row[below] < end:
                below += 1
            low[r, b] = at_most
            high[r, b] = below


_LINEAR_SEARCH = 64
""":func:`search_right` and :func:`search_left` halve their range down to this length,
then count: every comparison of the last steps at once (vector instructions, cache lines
fetched together) instead of a chain of dependent loads."""


@numba.njit(cache=True, nogil=True, inline="always")
def search_right(cdf, u, lo, hi):  # type: ignore[no-untyped-def]
    """``lo + cdf[lo:hi].searchsorted(u, side="right")``, without branches on the data
    (selects, which a processor does not mispredict as it does a search's branches). The
    answer stays within [lo, lo + n]; once n is short, it is lo plus the count of entries
    <= u in [lo, lo + n), which for a sorted range is the same."""
    n = hi - lo
    while n > _LINEAR_SEARCH:
        half = n >> 1
        lo = lo + half if cdf[lo + half] <= u else lo
        n -= half
    count = 0
    for j in range(lo, lo + n):
        count += cdf[j] <= u
    return lo + count


@numba.njit(cache=True, nogil=True, inline="always")
def search_left(keys, key, lo, hi):  # type: ignore[no-untyped-def]
    """``lo + keys[lo:hi].searchsorted(key)`` (side "left"), with selects, then counting
    the keys below ``key`` in a short range (see :func:`search_right`)."""
    n = hi - lo
    while n > _LINEAR_SEARCH:
        half = n >> 1
        lo = lo + half if keys[lo + half] < key else lo
        n -= half
    count = 0
    for j in range(lo, lo + n):
        count += keys[j] < key
    return lo + count


@numba.njit(cache=True, nogil=True)
def inverse_cdf(cdf, low, high, counts, u, out):  # type: ignore[no-untyped-def]
    """The choices uniforms ``u`` in [0, 1) make in the rows of the CDFs ``cdf``: the first
    ``counts[0]`` in row 0, the next ``counts[1]`` in row 1 and so on, each
    ``cdf[r].searchsorted(u, side="right")``, into ``out``. Each row's look-up table
    ``(low[r], high[r])`` (:func:`cdf_table`) gives the range the answer lies in, and only
    that range is searched; tables of no buckets (``low.shape[1] == 0``, for short rows)
    search the whole row (:func:`search_right`).

    A whole batch in one kernel, not one choice per call from a caller's loop: a compiled
    helper holding a loop and taking arrays, called once per impression, kept its arrays'
    reference counts inside the caller's loop, and indices into two-dimensional arrays cost
    there too; the storefront's first pass took about 2.5 times as long
    (docs/performance.md)."""
    buckets = low.shape[1]  # a power of two (or none): u * buckets is exact
    i = 0
    for r in range(len(counts)):
        row, row_low, row_high = cdf[r], low[r], high[r]
        if buckets == 0:
            for _ in range(counts[r]):
                out[i] = search_right(row, u[i], 0, len(row))
                i += 1
            continue
        # Unsigned indices: numba checks a signed index for wraparound at every access.
        for j in range(np.uint64(i), np.uint64(i + counts[r])):
            x = u[j]
            bucket = np.uint64(x * buckets)
            lo = np.uint64(row_low[bucket])
            n = row_high[bucket] - row_low[bucket]
            while n > 1:
                half = n >> 1
                lo = lo + np.uint64(half) if row[lo + np.uint64(half)] <= x else lo
                n -= half
            out[j] = lo + np.uint64(1 if n == 1 and row[lo] <= x else 0)
        i += counts[r]


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
    so that every draw is finite).

    Examples
    --------
    >>> normal(np.array([0.5])).tolist()
    [0.0]
    """
    return np.asarray(ndtri(np.maximum(u, np.finfo(np.float64).tiny)))
