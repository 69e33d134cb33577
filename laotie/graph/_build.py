"""The compiled kernels of a city's build: the ties' CSR arrays and their trust weights.

:func:`merged_csr` turns the drawn pairs of the three layers into one CSR pattern with a
layer code per edge (both directions of the mutual layers, duplicates merged with the layer
precedence follow > local > city) by two counting sorts, without sorting any row;
:func:`beta_weights` draws the trust weights by inverting the Beta distributions' tabulated
quantile functions. Both split their work into blocks that two threads share (the kernels
release the GIL); a block's result does not depend on the thread that computes it, and the
trust weights of each block of :data:`TRUST_BLOCK` ties come from a random stream of their
own, so that the same seed gives the same graph whatever the number of threads.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from scipy.special import betaincinv

from .codes import CITY, FOLLOW, LOCAL

__all__ = [
    "QUANTILE_CELLS",
    "TRUST_BLOCK",
    "beta_weights",
    "build_threads",
    "group_partners",
    "merged_csr",
]

TRUST_BLOCK = 1 << 20
"""Ties whose trust weights draw from one random stream (fixed: the weights depend on it)."""

QUANTILE_CELLS = 1 << 14
"""Cells of [0, 1) over which a Beta quantile function is tabulated (:func:`beta_weights`)."""

_ROW_BLOCKS = 64
"""Blocks of nodes that the threads share, in turn."""

# bit 1 local, bit 2 city, bit 4 follow; precedence follow > local > city
_LAYER_OF_MASK = np.array([-1, LOCAL, CITY, LOCAL, FOLLOW, FOLLOW, FOLLOW, FOLLOW], np.int8)
_MASK_BITS = 3


def build_threads() -> int:
    """The threads a build uses: 2, or 1 on a machine with one processor (the result is the
    same)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(2, cpus or 1)


def _over_nodes(
    kernel: Callable[..., None], args: tuple[object, ...], blocks: np.ndarray, threads: int
) -> None:
    """``kernel(*args, first, last)`` over the nodes, cut at ``blocks``, in threads."""

    def work(first: int, last: int) -> None:
        kernel(*args, blocks[first], blocks[last])

    _in_threads(work, len(blocks) - 1, threads)


def _in_threads(work: Callable[[int, int], None], n_blocks: int, threads: int) -> None:
    """``work(first, last)`` over the blocks ``0 .. n_blocks - 1``, cut into ``threads``
    contiguous runs computed side by side."""
    threads = max(1, min(threads, n_blocks))
    cuts = [n_blocks * t // threads for t in range(threads + 1)]
    if threads == 1:
        work(0, n_blocks)
        return
    with ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="laotie-graph") as pool:
        futures = [pool.submit(work, cuts[t], cuts[t + 1]) for t in range(1, threads)]
        work(cuts[0], cuts[1])
        for future in futures:
            future.result()


def row_spans(indptr: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """``parts`` runs of rows ``(first, last)`` of the CSR rows ``indptr``, with about as many
    ties each, covering rows ``0 .. n - 1`` once, in order (for the compiled passes over a
    graph's ties that run in threads). The cuts are kept within the rows and rising, so that
    a pass given a row pointer that is not valid (a graph changed in place) reads only its
    rows."""
    n = len(indptr) - 1
    cuts = np.clip(np.searchsorted(indptr, np.linspace(0, int(indptr[-1]), parts + 1)), 0, n)
    cuts[0], cuts[-1] = 0, n
    return list(itertools.pairwise(np.maximum.accumulate(cuts).tolist()))


# ---------------------------------------------------------------------- the pairs
@numba.njit(cache=True, nogil=True)
def group_partners(src, first, size, u):  # type: ignore[no-untyped-def]
    """The partner of each drawn local pair: ``first[s] + floor(u * size[s])`` for its
    source ``s``, the first member and the size of ``s``'s group, and its uniform ``u``
    (int32)."""
    dst = np.empty(len(src), np.int32)
    for k in range(len(src)):
        s = src[k]
        dst[k] = first[s] + np.int64(u[k] * size[s])
    return dst


# ---------------------------------------------------------------------- the CSR pattern
@numba.njit(cache=True, nogil=True)
def _count(src, dst, both, by_row, by_column):  # type: ignore[no-untyped-def]
    """Count each pair (not a self-pair) in its row and its column, and its reverse too when
    ``both``."""
    for k in range(len(src)):
        s, d = src[k], dst[k]
        if s != d:
            by_row[s + 1] += 1
            by_column[d + 1] += 1
            if both:
                by_row[d + 1] += 1
                by_column[s + 1] += 1


@numba.njit(cache=True, nogil=True)
def _by_column(src, dst, both, mask, fill, rows, first, last):  # type: ignore[no-untyped-def]
    """Write each pair's key (its row and layer bit) in its column's slots, at ``fill``,
    for the columns ``first .. last - 1``."""
    for k in range(len(src)):
        s, d = src[k], dst[k]
        if s == d:
            continue
        if first <= d < last:
            rows[fill[d]] = (s << _MASK_BITS) | mask
            fill[d] += 1
        if both and first <= s < last:
            rows[fill[s]] = (d << _MASK_BITS) | mask
            fill[s] += 1


@numba.njit(cache=True, nogil=True)
def _by_row(column_ptr, rows, fill, keys, first, last):  # type: ignore[no-untyped-def]
    """Write the keys (column and layer bit) of rows ``first .. last - 1`` in their rows,
    column by column: each row's keys come out sorted by column."""
    low = (1 << _MASK_BITS) - 1
    for c in range(len(column_ptr) - 1):
        key = (c << _MASK_BITS) | 0
        for k in range(column_ptr[c], column_ptr[c + 1]):
            r = rows[k] >> _MASK_BITS
            if first <= r < last:
                keys[fill[r]] = key | (rows[k] & low)
                fill[r] += 1


@numba.njit(cache=True, nogil=True)
def _merge_rows(indptr, keys, unique, first, last):  # type: ignore[no-untyped-def]
    """Merge the repeated columns of each (sorted) row of rows ``first .. last - 1``, their
    layer bits or'ed, in place at the row's start; ``unique[i]`` their number."""
    for i in range(first, last):
        start, end = indptr[i], indptr[i + 1]
        if end == start:
            continue
        w = start
        prev = keys[start] >> _MASK_BITS
        for k in range(start + 1, end):
            key = keys[k]
            if key >> _MASK_BITS == prev:
                keys[w] |= key
            else:
                w += 1
                keys[w] = key
                prev = key >> _MASK_BITS
        unique[i] = w + 1 - start


@numba.njit(cache=True, nogil=True)
def _copy_rows(indptr, keys, out_ptr, layer_of, indices, layer, first, last):  # type: ignore[no-untyped-def]
    """Copy each merged row of rows ``first .. last - 1`` to its place in the final arrays."""
    low = (1 << _MASK_BITS) - 1
    for i in range(first, last):
        k = indptr[i]
        for e in range(out_ptr[i], out_ptr[i + 1]):
            key = keys[k]
            indices[e] = key >> _MASK_BITS
            layer[e] = layer_of[key & low]
            k += 1


def merged_csr(
    n: int, pairs: list[tuple[np.ndarray, np.ndarray]], threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSR arrays of the three layers' pairs: local and city pairs give ties both ways,
    follow pairs (follower, creator) one way; self-pairs are dropped, and a pair tied
    several times or in several layers is stored once, in the first of follow, local, city.

    Parameters
    ----------
    n : int
        Number of nodes.
    pairs : list of three tuples of two numpy.ndarray of int
        The sources and targets of the local, city and follow pairs; the list is emptied (the
        pairs are freed once they are sorted by column).
    threads : int
        Threads that merge and copy the rows (the result is the same for any number).

    Returns
    -------
    indptr : numpy.ndarray of int64
    indices : numpy.ndarray of int32
        Sorted within each row.
    layer : numpy.ndarray of int8
    """
    layers = list(zip(pairs, (True, True, False), (1, 2, 4), strict=True))
    pairs.clear()
    row_ptr = np.zeros(n + 1, np.int64)
    column_ptr = np.zeros(n + 1, np.int64)
    for (src, dst), both, _ in layers:
        _count(src, dst, both, row_ptr, column_ptr)
    np.cumsum(row_ptr, out=row_ptr)
    np.cumsum(column_ptr, out=column_ptr)
    # A key is a node id and a layer bit: four bytes when the ids leave room for the bit.
    key_type = np.int32 if n << _MASK_BITS < 2**31 else np.int64
    blocks = np.linspace(0, n, _ROW_BLOCKS + 1).astype(np.int64)
    # The entries sorted by column (counting sort), then by row, each row's columns in order.
    rows = np.empty(int(column_ptr[-1]), key_type)
    fill = column_ptr[:-1].copy()
    # The two counting sorts scatter at random across all nodes: they stay in one thread (in
    # two, each would read every entry to write half of them).
    for (src, dst), both, mask in layers:
        _by_column(src, dst, both, key_type(mask), fill, rows, 0, n)
    del layers, src, dst
    keys = np.empty(int(row_ptr[-1]), key_type)
    fill = row_ptr[:-1].copy()
    _by_row(column_ptr, rows, fill, keys, 0, n)
    del rows, fill
    unique = np.zeros(n, np.int64)
    _over_nodes(_merge_rows, (row_ptr, keys, unique), blocks, threads)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(unique, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), np.int32)
    layer = np.empty(int(indptr[-1]), np.int8)
    args = (row_ptr, keys, indptr, _LAYER_OF_MASK, indices, layer)
    _over_nodes(_copy_rows, args, blocks, threads)
    return indptr, indices, layer


# ---------------------------------------------------------------------- trust weights
@numba.njit(cache=True, nogil=True, inline="always")
def _uniform(state):  # type: ignore[no-untyped-def]
    """The next double in [0, 1) of the SFC64 stream in ``state`` (advanced): numpy's
    ``SFC64`` and ``Generator.random()``, step for step as laotie.engine.streams draws them
    (that module cannot be imported here: the engine imports the graph package)."""
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = s0 + s1 + s3
    state[0] = s1 ^ (s1 >> np.uint64(11))
    state[1] = s2 + (s2 << np.uint64(3))
    state[2] = ((s2 << np.uint64(24)) | (s2 >> np.uint64(40))) + out
    state[3] = s3 + np.uint64(1)
    return np.float64(np.int64(out >> np.uint64(11))) * (1.0 / 9007199254740992.0)


@functools.lru_cache(maxsize=64)
def _quantiles(a: float, b: float) -> np.ndarray:
    """The quantile function of Beta(a, b) at the ends of :data:`QUANTILE_CELLS` cells."""
    table: np.ndarray = betaincinv(a, b, np.linspace(0.0, 1.0, QUANTILE_CELLS + 1))
    return table


@numba.njit(cache=True, nogil=True)
def _beta_blocks(layer, quantiles, shape_a, shape_b, states, first, last, out):  # type: ignore[no-untyped-def]
    """The trust weights of the blocks ``first .. last - 1`` of :data:`TRUST_BLOCK` ties,
    each block from its stream's state, by inversion of the tie's layer's tabulated quantile
    function (see :func:`beta_weights`), as float32 in [1.2e-38, 1]."""
    tiny = np.float32(np.finfo(np.float32).tiny)
    cells = quantiles.shape[1] - 1
    for block in range(first, last):
        state = states[block].copy()
        end = min((block + 1) * TRUST_BLOCK, len(layer))
        for k in range(block * TRUST_BLOCK, end):
            code = layer[k]
            q = quantiles[code]
            x = _uniform(state) * cells
            cell = np.int64(x)
            if cell == 0:
                w = q[1] * (x ** (1.0 / shape_a[code]))
            elif cell == cells - 1:
                w = 1.0 - (1.0 - q[cells - 1]) * ((cells - x) ** (1.0 / shape_b[code]))
            else:
                w = q[cell] + (x - cell) * (q[cell + 1] - q[cell])
            out[k] = min(max(np.float32(w), tiny), np.float32(1.0))


def beta_weights(
    layer: np.ndarray,
    means: Sequence[float],
    concentration: float,
    seed: np.random.SeedSequence,
    threads: int,
) -> np.ndarray:
    """Trust weights ``Beta(m κ, (1 - m) κ)`` per tie, with ``m = means[layer]`` and
    ``κ = concentration``, clipped to [1.2e-38, 1] (float32); block ``j`` of
    :data:`TRUST_BLOCK` ties draws its uniforms from the SFC64 stream of ``seed``'s ``j``-th
    child.

    Parameters
    ----------
    layer : numpy.ndarray of int8
        Layer code per tie (an index into ``means``).
    means : sequence of float
        Mean weight per layer code, in (0, 1).
    concentration : float
        ``κ``, the Beta's ``a + b``.
    seed : numpy.random.SeedSequence
        Root of the blocks' streams.
    threads : int
        Threads that draw the blocks (the weights are the same for any number).

    Returns
    -------
    numpy.ndarray of float32

    Notes
    -----
    A uniform ``u`` is turned into ``Q(u)``, the Beta quantile function tabulated at the ends
    of :data:`QUANTILE_CELLS` cells of width ``h`` (``scipy.special.betaincinv``) and linear
    within a cell. The drawn distribution's CDF equals the Beta's at every cell end, so they
    differ by less than ``h`` (about 6e-5) anywhere. Inside a cell the error is that of
    linear interpolation, of order ``h**2`` times ``Q``'s curvature: far less than ``h``
    where ``Q`` is smooth, but not in the cells next to the end cells when a shape parameter
    is below 1, where ``Q`` is steep (at mean 0.3 and ``κ`` 0.5 the CDF is about a quarter low
    near ``u = 1e-4``, for weights near 1e-26: still within ``h``). In the first and last
    cells, where ``Q`` is not
    smooth, it follows the Beta's tails, ``F(x) ∝ x**a`` near 0 and ``1 - F(x) ∝ (1 - x)**b``
    near 1: ``Q(u) = Q(h) (u / h)**(1/a)`` and ``1 - Q(u) = (1 - Q(1 - h)) ((1 - u) /
    h)**(1/b)``, so that even a narrow Beta (a large ``κ``) keeps its spread.
    """
    m = np.asarray(means, np.float64)
    shape_a, shape_b = m * concentration, (1 - m) * concentration
    quantiles = np.array([_quantiles(a, b) for a, b in zip(shape_a, shape_b, strict=True)])
    n_blocks = -(-len(layer) // TRUST_BLOCK)
    states = np.array(
        [np.random.SFC64(child).state["state"]["state"] for child in seed.spawn(n_blocks)],
        np.uint64,
    ).reshape(n_blocks, 4)
    out = np.empty(len(layer), np.float32)

    def draw(first: int, last: int) -> None:
        _beta_blocks(layer, quantiles, shape_a, shape_b, states, first, last, out)

    _in_threads(draw, n_blocks, threads)
    return out
