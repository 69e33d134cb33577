"""Aggregation of a day's exposures and orders into per-channel metrics (docs/model.md, 3.6)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._memory import touch

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "FAMILIES",
    "ORDER_VALUE_EDGES",
    "ROWS",
    "DayCounter",
    "gini",
    "order_value_histogram",
    "top_share",
]

CHANNELS: tuple[str, ...] = ("follow", "discovery", "wom", "storefront")
"""Sub-channels: a creator's post seen by a follower, discovery, word of mouth, storefront ads."""
FOLLOW, DISCOVERY, WOM, STOREFRONT = 0, 1, 2, 3

FAMILIES: dict[str, tuple[int, ...]] = {
    "trust": (FOLLOW, DISCOVERY, WOM),
    "traffic": (STOREFRONT,),
    "all": (FOLLOW, DISCOVERY, WOM, STOREFRONT),
}
"""Channel families: selling through people (trust), through ads (traffic), and everything."""

ROWS: tuple[str, ...] = CHANNELS + tuple(FAMILIES)

ORDER_VALUE_EDGES = np.concatenate(([0.0], np.logspace(0, 5, 61), [np.inf]))
"""Bin edges (RMB) of the order-value histograms: 0–1, 60 log-spaced bins up to 100,000,
and everything above."""


def order_value_histogram(
    channel: np.ndarray,
    value: np.ndarray,
    replication: np.ndarray | None = None,
    replications: int = 1,
) -> np.ndarray:
    """Counts of orders per channel (rows: CHANNELS) and order-value bin (ORDER_VALUE_EDGES);
    with ``replication`` (of each order), one such table per replication (first axis)."""
    n_bins = len(ORDER_VALUE_EDGES) - 1
    k = len(CHANNELS)
    bins = np.searchsorted(ORDER_VALUE_EDGES, value, side="right") - 1
    row = channel.astype(np.int64)
    if replication is not None:
        row = row + k * np.asarray(replication, np.int64)
    flat = np.bincount(row * n_bins + bins, minlength=replications * k * n_bins)
    table = flat.reshape(replications, k, n_bins)
    return table if replication is not None else table[0]


COUNTS: tuple[str, ...] = (
    "exposures",
    "exposed_users",
    "orders",
    "buyers",
    "gmv",
    "items",
    "repeat_orders",
    "new_follows",
    "budget_blocked",
)
RATIOS: tuple[str, ...] = (
    "conversion",
    "buyer_conversion",
    "order_value",
    "items_per_order",
    "repeat_share",
)
COLUMNS: tuple[str, ...] = (
    "exposures",
    "exposed_users",
    "orders",
    "buyers",
    "conversion",
    "buyer_conversion",
    "gmv",
    "order_value",
    "items_per_order",
    "repeat_share",
    "new_follows",
    "budget_blocked",
)
"""The columns of ``Result.daily`` after ``day`` and ``channel``."""


class DayCounter:
    """Counts per replication, channel and family for one day.

    Users are node ids; with lockstep replications, stacked ids whose replication is
    ``user // nodes_per_replication``.
    """

    def __init__(
        self,
        n_nodes: int,
        nodes_per_replication: int | None = None,
    ) -> None:
        self._nodes = nodes_per_replication or n_nodes
        self._replications = max(1, n_nodes // max(self._nodes, 1))
        # Scratch flags per node: bit c (exposed in channel c), bit 4 + c (ordered in it).
        self._flags = np.zeros(n_nodes, dtype=np.uint8)
        touch(self._flags)  # mapped now, not on the first days' writes

    def count(
        self,
        exposure_users: Sequence[np.ndarray],
        order_channel: np.ndarray,
        order_user: np.ndarray,
        order_value: np.ndarray,
        order_items: np.ndarray,
        order_repeat: np.ndarray,
        new_follows: np.ndarray,
        budget_blocked: np.ndarray,
        kernel: Callable[..., None] | None = None,
    ) -> np.ndarray:
        """An array of shape (replications, len(ROWS), len(COUNTS)) of today's counts.

        ``exposure_users`` holds, for each channel of :data:`CHANNELS` in order, the user of
        every exposure; orders are given one entry per order with their channel code;
        ``new_follows`` and ``budget_blocked`` per channel, or per replication and channel.
        ``kernel``: the compiled counter of the engine's numba backend
        (``laotie.engine._kernels_numba.day_counts``), which gives the same counts.
        """
        R = self._replications
        k = len(CHANNELS)
        out = np.zeros((R, len(ROWS), len(COUNTS)))
        # Distinct exposed users and buyers of every row.
        distinct = np.zeros((R, len(ROWS), 2))
        # The compiled counter and the numpy one take the same arguments.
        counter = self._count if kernel is None else kernel
        counter(
            self._nodes,
            tuple(np.asarray(users, np.int32) for users in exposure_users),
            order_channel,
            order_user,
            np.array([order_value, order_items, order_repeat], np.float64),
            _ROW_BITS,
            self._flags,
            out,
            distinct,
        )
        out[:, :k, 7] = new_follows
        out[:, :k, 8] = budget_blocked
        for row, name in enumerate(ROWS[k:], start=k):
            out[:, row] = out[:, list(FAMILIES[name])].sum(axis=1)
        out[:, :, 1] = distinct[..., 0]
        out[:, :, 3] = distinct[..., 1]
        return out

    def _count(
        self,
        nodes: int,
        exposure_users: tuple[np.ndarray, ...],
        order_channel: np.ndarray,
        order_user: np.ndarray,
        values: np.ndarray,
        row_bits: np.ndarray,
        flags: np.ndarray,
        out: np.ndarray,
        distinct: np.ndarray,
    ) -> None:
        """The numpy path of the kernel, with its arguments: columns 0, 2 and 4, 5, 6 (the
        order sums ``values[0..2]``) of the channel rows, and every row's distinct users."""
        R = self._replications
        k = len(CHANNELS)
        for c, users in enumerate(exposure_users):
            out[:, c, 0] = np.bincount(users // nodes, minlength=R)
        key = (order_user // nodes).astype(np.int64) * k + order_channel
        out[:, :k, 2] = np.bincount(key, minlength=R * k).reshape(R, k)
        for column, weights in zip((4, 5, 6), values, strict=True):
            out[:, :k, column] = np.bincount(key, weights=weights, minlength=R * k).reshape(R, k)
        # Distinct exposed users and buyers of every row from one set of flags per node.
        for c, users in enumerate(exposure_users):
            flags[users] |= np.uint8(1 << c)
        for c in range(k):
            flags[order_user[order_channel == c]] |= np.uint8(1 << (4 + c))
        touched = np.flatnonzero(flags)
        held = flags[touched]
        flags[touched] = 0
        # How many nodes of each replication hold each of the 256 flag bytes; a row's
        # distinct users are those whose byte has one of the row's bits.
        held_by = np.bincount((touched // nodes) * 256 + held, minlength=R * 256).reshape(R, 256)
        byte = np.arange(256)
        for row, bits in enumerate(row_bits):
            for column, shift in ((0, 0), (1, 4)):
                distinct[:, row, column] = held_by[:, (byte & (int(bits) << shift)) != 0].sum(
                    axis=1
                )


_ROW_BITS = np.array(
    [1 << c for c in range(len(CHANNELS))]
    + [sum(1 << c for c in FAMILIES[name]) for name in ROWS[len(CHANNELS) :]],
    np.uint8,
)
"""The channel bits of each row of :data:`ROWS`."""


def with_ratios(counts: np.ndarray) -> np.ndarray:
    """Columns :data:`COLUMNS` from counts of shape (..., len(COUNTS)); NaN where undefined."""
    c = dict(zip(COUNTS, np.moveaxis(counts, -1, 0), strict=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = {
            "conversion": c["orders"] / c["exposures"],
            "buyer_conversion": c["buyers"] / c["exposed_users"],
            "order_value": c["gmv"] / c["orders"],
            "items_per_order": c["items"] / c["orders"],
            "repeat_share": c["repeat_orders"] / c["orders"],
        }
    return np.stack([ratio[name] if name in ratio else c[name] for name in COLUMNS], axis=-1)


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative ``values`` (0: equal; 1: one holds everything).

    Examples
    --------
    >>> gini(np.array([1.0, 1.0, 1.0]))
    0.0
    >>> round(gini(np.array([0.0, 0.0, 0.0, 1.0])), 2)
    0.75
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0 or x.sum() == 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2 * np.sum(ranks * x) / (n * x.sum())) - (n + 1) / n)


def top_share(values: np.ndarray, share: float) -> float:
    """Share of the total held by the top ``share`` of holders (at least one holder)."""
    x = np.sort(np.asarray(values, dtype=np.float64))[::-1]
    if len(x) == 0 or x.sum() == 0:
        return float("nan")
    k = max(1, int(np.ceil(share * len(x))))
    return float(x[:k].sum() / x.sum())
