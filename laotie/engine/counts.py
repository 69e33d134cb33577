"""A day's counts per replication, channel and family (docs/model.md 3.6).

The engine hands its day's exposures and accepted orders to :class:`DayCounter`, which counts
them in one compiled pass per channel: exposures, orders and their sums (GMV, items, repeat
orders), and the distinct exposed users and buyers of every row of
:data:`laotie.metrics.ROWS` (each channel and family).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numba
import numpy as np

from .._memory import touch
from ..metrics import CHANNELS, COUNTS, FAMILIES, ROWS
from .lockstep import quotient
from .prefetch import prefetch

__all__ = ["DayCounter"]

ROW_BITS = np.array(
    [1 << c for c in range(len(CHANNELS))]
    + [sum(1 << c for c in FAMILIES[name]) for name in ROWS[len(CHANNELS) :]],
    np.uint8,
)
"""The channel bits of each row of :data:`~laotie.metrics.ROWS`."""

EXPOSURES, ORDERS, GMV, ITEMS, REPEAT_ORDERS, FIRST_ORDERS, DISAPPOINTED = (
    COUNTS.index(name)
    for name in (
        "exposures",
        "orders",
        "gmv",
        "items",
        "repeat_orders",
        "first_orders",
        "disappointed",
    )
)
"""Positions in :data:`~laotie.metrics.COUNTS` (the compiled counter reads them as constants:
a change of COUNTS must change this module too, or numba's cache keeps the old ones)."""


FLAGS_AHEAD = 16
"""Exposures (and touched users) ahead whose flag :func:`day_counts` asks for: the viewers
come in no order, and a whole city's flags (2.5 MB) are not all in the cache."""


class OrderColumns(NamedTuple):
    """What the day counter reads of each accepted order: its channel, buyer, value, items,
    and whether it was a repeat order, the buyer's first order ever and disappointing (1.0
    or 0.0 each)."""

    channel: np.ndarray
    user: np.ndarray
    value: np.ndarray
    items: np.ndarray
    repeat: np.ndarray
    first: np.ndarray
    disappointed: np.ndarray


class DayCounter:
    """Counts per replication, channel and family for one day.

    Users are node ids; with lockstep replications, stacked ids whose replication is
    ``user // nodes_per_replication``.
    """

    def __init__(self, n_nodes: int, nodes_per_replication: int | None = None) -> None:
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
        order_first: np.ndarray,
        order_disappointed: np.ndarray,
        clicks: np.ndarray,
        new_follows: np.ndarray,
        budget_blocked: np.ndarray,
        more_exposures: np.ndarray | None = None,
    ) -> np.ndarray:
        """An array of shape (replications, len(ROWS), len(COUNTS)) of today's counts.

        ``exposure_users`` holds, for each channel of :data:`~laotie.metrics.CHANNELS` in
        order, the user of every exposure; orders are given one entry per order with their
        channel code; ``clicks``, ``new_follows`` and ``budget_blocked`` per channel, or per
        replication and channel; ``more_exposures`` (per replication and channel, optional)
        exposures beyond those of ``exposure_users`` (impressions not clicked whose viewers
        are already there).
        """
        R = self._replications
        k = len(CHANNELS)
        out = np.zeros((R, len(ROWS), len(COUNTS)))
        # Distinct exposed users and buyers of every row.
        distinct = np.zeros((R, len(ROWS), 2))
        day_counts(
            self._nodes,
            tuple(np.asarray(users, np.int32) for users in exposure_users),
            OrderColumns(
                channel=order_channel,
                user=order_user,
                value=np.asarray(order_value, np.float64),
                items=np.asarray(order_items, np.float64),
                repeat=np.asarray(order_repeat, np.float64),
                first=np.asarray(order_first, np.float64),
                disappointed=np.asarray(order_disappointed, np.float64),
            ),
            ROW_BITS,
            self._flags,
            out,
            distinct,
        )
        out[:, :k, COUNTS.index("clicks")] = clicks
        out[:, :k, COUNTS.index("new_follows")] = new_follows
        out[:, :k, COUNTS.index("budget_blocked")] = budget_blocked
        if more_exposures is not None:
            out[:, :k, EXPOSURES] += more_exposures
        for row, name in enumerate(ROWS[k:], start=k):
            out[:, row] = out[:, list(FAMILIES[name])].sum(axis=1)
        out[:, :, COUNTS.index("exposed_users")] = distinct[..., 0]
        out[:, :, COUNTS.index("buyers")] = distinct[..., 1]
        return out


@numba.njit(cache=True, nogil=True)
def day_counts(  # type: ignore[no-untyped-def]
    nodes, exposure_users, orders, row_bits, flags, out, distinct
):
    """The per-channel counts and every row's distinct users of :meth:`DayCounter.count`:
    into ``out`` (replications x rows x counts, zeros on entry) the exposures, orders, GMV, items,
    repeat, first and disappointing orders of the channel rows (sums added in the orders' order);
    into ``distinct`` (replications x rows x 2) every row's distinct exposed users and buyers.
    ``orders``: :class:`OrderColumns`; ``flags`` is the counter's scratch of one byte per node, zero
    on entry and on return. Each flag is asked for :data:`FLAGS_AHEAD` users ahead
    (:func:`~laotie.engine.prefetch.prefetch`)."""
    k = len(exposure_users)
    inverse = 1.0 / nodes
    touched = np.empty(len(orders.user) + sum([len(e) for e in exposure_users]), np.int64)
    n_touched = 0
    for c in range(k):
        users = exposure_users[c]
        bit = np.uint8(1 << c)
        # Exposures come in runs of one replication: counted in a register, added per run.
        current, run = -1, 0
        for i in range(len(users)):
            if i + FLAGS_AHEAD < len(users):
                prefetch(flags, users[i + FLAGS_AHEAD])
            node = users[i]
            r = quotient(node, nodes, inverse)
            if r != current:
                if run:
                    out[current, c, EXPOSURES] += run
                current, run = r, 0
            run += 1
            # A node's first flag of the day puts it on the list (without a branch).
            held = flags[node]
            touched[n_touched] = node
            n_touched += held == 0
            flags[node] = held | bit
        if run:
            out[current, c, EXPOSURES] += run
    # The structure's arrays, read once (inside a loop each read costs a reference count).
    order_user, order_channel = orders.user, orders.channel
    value, items, repeat = orders.value, orders.items, orders.repeat
    first, disappointed = orders.first, orders.disappointed
    for i in range(len(order_user)):
        node = order_user[i]
        c = order_channel[i]
        r = quotient(node, nodes, inverse)
        out[r, c, ORDERS] += 1
        out[r, c, GMV] += value[i]
        out[r, c, ITEMS] += items[i]
        out[r, c, REPEAT_ORDERS] += repeat[i]
        out[r, c, FIRST_ORDERS] += first[i]
        out[r, c, DISAPPOINTED] += disappointed[i]
        if flags[node] == 0:
            touched[n_touched] = node
            n_touched += 1
        flags[node] |= np.uint8(1 << (4 + c))
    # Each replication's histogram of flag bytes (one increment per node, instead of one
    # per row and node), then the rows' distinct users from the histogram.
    histogram = np.zeros((distinct.shape[0], 256), np.int64)
    for i in range(n_touched):
        if i + FLAGS_AHEAD < n_touched:
            prefetch(flags, touched[i + FLAGS_AHEAD])
        node = touched[i]
        histogram[quotient(node, nodes, inverse), flags[node]] += 1
        flags[node] = 0
    for r in range(distinct.shape[0]):
        for held in range(1, 256):
            count = histogram[r, held]
            if count:
                for row in range(len(row_bits)):
                    distinct[r, row, 0] += count * ((held & row_bits[row]) != 0)
                    distinct[r, row, 1] += count * ((held & (row_bits[row] << 4)) != 0)
