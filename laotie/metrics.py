"""What is measured (docs/model.md 3.6): the channels and families, the count and ratio
columns of a day, order-value bins and the inequality measures of a run. The engine's day
counter (:mod:`laotie.engine.counts`) fills the counts."""

from __future__ import annotations

import numpy as np

__all__ = [
    "CHANNELS",
    "COLUMNS",
    "FAMILIES",
    "ORDER_VALUE_EDGES",
    "ROWS",
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
    "clicks",
    "orders",
    "buyers",
    "gmv",
    "items",
    "repeat_orders",
    "first_orders",
    "disappointed",
    "new_follows",
    "budget_blocked",
)
RATIOS: tuple[str, ...] = (
    "conversion",
    "buyer_conversion",
    "click_through",
    "click_conversion",
    "order_value",
    "items_per_order",
    "repeat_share",
    "disappointed_share",
)
COLUMNS: tuple[str, ...] = (
    "exposures",
    "exposed_users",
    "clicks",
    "orders",
    "buyers",
    "conversion",
    "buyer_conversion",
    "click_through",
    "click_conversion",
    "gmv",
    "order_value",
    "items_per_order",
    "repeat_share",
    "first_orders",
    "disappointed",
    "disappointed_share",
    "new_follows",
    "budget_blocked",
)
"""The columns of ``Result.daily`` after ``day`` and ``channel``."""


def with_ratios(counts: np.ndarray) -> np.ndarray:
    """Columns :data:`COLUMNS` from counts of shape (..., len(COUNTS)); NaN where undefined."""
    c = dict(zip(COUNTS, np.moveaxis(counts, -1, 0), strict=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = {
            "conversion": c["orders"] / c["exposures"],
            "buyer_conversion": c["buyers"] / c["exposed_users"],
            "click_through": c["clicks"] / c["exposures"],
            "click_conversion": c["orders"] / c["clicks"],
            "disappointed_share": c["disappointed"] / c["orders"],
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
