"""Index arithmetic of lockstep replications (docs/model.md 2, "Stochasticity").

With R replications in one engine, every index space is stacked: node ``i`` of replication
``r`` is ``r * nodes + i``, and so are users, creators, products and producers
(:class:`laotie.engine.market.Layout`). The helpers here find an entry's replication and
where each replication's entries start, compiled where a day calls them per entry.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["bounds", "quotient", "search", "sorted_counts"]


@numba.njit(cache=True, nogil=True, inline="always")
def quotient(node, nodes, inverse):  # type: ignore[no-untyped-def]
    """``node // nodes`` (a node's replication) for 0 <= node < 2**31, with ``inverse`` =
    1 / nodes: a multiplication, corrected by one where it rounds across a multiple (a
    division takes tens of cycles)."""
    q = np.int64(node * inverse)
    q += np.int64((q + 1) * nodes <= node)
    q -= np.int64(q * nodes > node)
    return q


@numba.njit(cache=True, nogil=True)
def sorted_counts(ids, size, inverse, counts):  # type: ignore[no-untyped-def]
    """Whether the replications ``ids // size`` (``inverse`` = 1 / size) never decrease;
    if so, ``counts`` (zeros on entry) gets the number of entries of each."""
    last, start = 0, 0
    low, high = 0, size  # the ids of replication ``last``
    for i in range(len(ids)):
        if ids[i] < low or ids[i] >= high:
            r = quotient(ids[i], size, inverse)
            if r < last:
                return False
            counts[last] += i - start
            last, start = r, i
            low = r * size
            high = low + size
    counts[last] += len(ids) - start
    return True


def bounds(ids: np.ndarray, size: int, replications: int) -> np.ndarray:
    """Where each replication's entries start in sorted stacked ``ids`` of something each
    replication has ``size`` of (R + 1 bounds, the last the number of entries)."""
    return search(ids, np.arange(replications + 1) * size)


def search(ids: np.ndarray, keys: np.ndarray | int) -> np.ndarray:
    """``np.searchsorted(ids, keys)`` for sorted integer ``ids``, with the keys taken in the
    ids' own type where they fit: numpy would otherwise cast the whole of ``ids`` to the
    keys' wider type first (1.1 ms for a whole city's 2.5 M int32 node ids, against 1.3 µs
    for the search itself)."""
    keys = np.asarray(keys)
    if keys.dtype != ids.dtype and keys.size and ids.dtype.kind in "iu":
        info = np.iinfo(ids.dtype)
        if info.min <= keys.min() and keys.max() <= info.max:
            keys = keys.astype(ids.dtype)
    return np.searchsorted(ids, keys)
