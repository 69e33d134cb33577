"""Aggregation of a day's exposures and orders into per-channel metrics (docs/model.md, 3.6)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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


def order_value_histogram(channel: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Counts of orders per channel (rows: CHANNELS) and order-value bin (ORDER_VALUE_EDGES)."""
    n_bins = len(ORDER_VALUE_EDGES) - 1
    bins = np.searchsorted(ORDER_VALUE_EDGES, value, side="right") - 1
    flat = np.bincount(channel.astype(np.int64) * n_bins + bins, minlength=len(CHANNELS) * n_bins)
    return flat.reshape(len(CHANNELS), n_bins)


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
    """Counts per channel and family for one day, reusing scratch flags of size n_nodes."""

    def __init__(self, n_nodes: int) -> None:
        self._flags = np.zeros(n_nodes, dtype=bool)

    def _distinct(self, users: np.ndarray) -> int:
        # Sorting a few users is cheaper than scanning the flags of every node.
        if len(users) < 2048:
            return len(np.unique(users))
        self._flags[users] = True
        count = int(np.count_nonzero(self._flags))
        self._flags[users] = False
        return count

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
    ) -> np.ndarray:
        """An array of shape (len(ROWS), len(COUNTS)) of today's counts.

        ``exposure_users`` holds, for each channel of :data:`CHANNELS` in order, the user of
        every exposure; orders are given one entry per order with their channel code.
        """
        out = np.zeros((len(ROWS), len(COUNTS)))
        k = len(CHANNELS)
        out[:k, 0] = [len(users) for users in exposure_users]
        out[:k, 2] = np.bincount(order_channel, minlength=k)
        out[:k, 4] = np.bincount(order_channel, weights=order_value, minlength=k)
        out[:k, 5] = np.bincount(order_channel, weights=order_items, minlength=k)
        out[:k, 6] = np.bincount(order_channel, weights=order_repeat, minlength=k)
        out[:k, 7] = new_follows
        out[:k, 8] = budget_blocked
        for row, name in enumerate(ROWS):
            members = (row,) if row < k else FAMILIES[name]
            if row >= k:
                out[row] = out[list(members)].sum(axis=0)
            exposed = np.concatenate([exposure_users[c] for c in members])
            in_row = np.zeros(k, bool)
            in_row[list(members)] = True
            out[row, 1] = self._distinct(exposed)
            out[row, 3] = self._distinct(order_user[in_row[order_channel]])
        return out


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
