"""Random draws the engine shares between its phases: weighted choices by inverse CDF.

``Generator.choice(n, size, p=p)`` draws ``size`` uniforms and searches them in the
normalised cumulative sum of ``p``; :func:`choice_cdf` and :func:`inverse_cdf` do the same
(identical numbers, tested), so that the CDF of a fixed distribution is built once and the
search can use a look-up table.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CDF_BUCKETS", "cdf_table", "choice_cdf", "inverse_cdf"]


def choice_cdf(p: np.ndarray) -> np.ndarray:
    """The cumulative distribution Generator.choice(p=p) searches (normalised to end at 1),
    in float64 as there (float32 weights would give a CDF of float32 steps)."""
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf


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
