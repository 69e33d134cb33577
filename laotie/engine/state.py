"""The state a day reads and writes beyond the market: who is active today, and the ledger
of spending, purchases and income (docs/model.md 3.5, 3.6).

The market (:class:`~laotie.engine.market.Market`) holds what the set-up drew and the trust
and memories that change; :class:`Today` what the activity phase decided for the day;
:class:`Ledger` what the days have recorded so far. With lockstep replications every array
is stacked (:class:`~laotie.engine.market.Layout`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numba
import numpy as np
import numpy.typing as npt

from .._memory import touch

__all__ = ["KeySet", "Ledger", "Seats", "Today", "sorted_unique", "unpacked"]

KEY_BUFFER_MIN = 4096
"""New keys a :class:`KeySet` keeps apart from its sorted main array before a merge."""


def unpacked(bits: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` bits of ``bits`` (uint64 words; bit ``k % 64`` of word ``k // 64``) as
    a read-only bool array."""
    little = bits.astype("<u8", copy=False).view(np.uint8)
    flags = np.unpackbits(little, count=n, bitorder="little").view(bool)
    flags.flags.writeable = False
    return flags


class Seats(NamedTuple):
    """What the day's exposures read of each active user, in the order of
    :attr:`Today.users` (the seat table): one small table instead of several city-wide
    arrays (none of them changes before the day's orders)."""

    storefront_trust: np.ndarray
    """The user's trust in storefronts (float32)."""
    remembers_storefronts: np.ndarray
    """Whether the user has any storefront memory (bool)."""
    price_factor: np.ndarray
    """The price term of the user's utility per unit price (float64)."""
    user_index: np.ndarray
    """The user's index among the users (int32)."""
    follow_bits: np.ndarray
    """The user's follow bits (uint64, :attr:`~laotie.engine.ties.Follows.bits`)."""

    @classmethod
    def empty(cls, n: int) -> Seats:
        """A table of ``n`` seats, unwritten."""
        return cls(
            storefront_trust=np.empty(n, np.float32),
            remembers_storefronts=np.empty(n, bool),
            price_factor=np.empty(n, np.float64),
            user_index=np.empty(n, np.int32),
            follow_bits=np.empty(n, np.uint64),
        )


@dataclass
class Today:
    """Who is active today: a bit per stacked node (64 nodes a word), the active users in
    increasing node order, where each replication's start among them (R + 1 bounds) and
    their seats."""

    nodes: int
    """Stacked nodes."""
    active_bits: np.ndarray
    """Bit ``node % 64`` of word ``node // 64``: whether ``node`` is active (a table an eighth
    the size of a flag per node, which stays in the processor's cache where the random reads
    of the followers' flags go: 9.2 against 5.2 ms on the whole city, caches cleared before
    each; and a sixteenth of the bytes the activity writes, where the flags and the month's
    active bit per node took a fifth of its pass)."""
    users: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    bounds: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    seats: Seats = field(default_factory=lambda: Seats.empty(0))
    reusable: dict[str, np.ndarray] = field(default_factory=dict)
    """Working arrays kept from day to day (:meth:`working`)."""

    @classmethod
    def of(cls, nodes: int) -> Today:
        """No one active, among ``nodes`` stacked nodes."""
        return cls(nodes=nodes, active_bits=np.zeros((nodes + 63) // 64, np.uint64))

    @property
    def active(self) -> np.ndarray:
        """Whether each stacked node is active today (bool, read-only: a copy of
        :attr:`active_bits` for tests and inspection; the rules read the bits)."""
        return unpacked(self.active_bits, self.nodes)

    def is_active(self, nodes: np.ndarray) -> np.ndarray:
        """Whether each of ``nodes`` (stacked ids, integers) is active today (bool)."""
        nodes = np.asarray(nodes)
        if nodes.dtype.kind not in "iu":
            raise TypeError(
                f"Today.is_active: nodes of dtype {nodes.dtype}; expected integers (node ids, "
                "not a mask)"
            )
        if nodes.size and (nodes.min() < 0 or nodes.max() >= self.nodes):
            raise IndexError(
                f"Today.is_active: nodes in 0 .. {self.nodes - 1}, not {nodes.min()} .. "
                f"{nodes.max()}"
            )
        nodes = nodes.astype(np.int64)
        return ((self.active_bits[nodes >> 6] >> (nodes & 63).astype(np.uint64)) & 1).astype(bool)

    def working(self, name: str, n: int, dtype: npt.DTypeLike) -> np.ndarray:
        """A working array ``name`` of ``n`` entries, unwritten (yesterday's values), kept for
        the next day: a phase that needs a large array for a day's pass takes it here, not
        fresh memory each day, whose first writes page by page cost a whole city's follow
        exposures several times their pass on some days (measured)."""
        array = self.reusable.get(name)
        if array is None or len(array) < n or array.dtype != dtype:
            array = np.empty(max(n, n + n // 4), dtype)
            self.reusable[name] = array
        return array[:n]

    @property
    def counts(self) -> np.ndarray:
        """Active users per replication."""
        return np.diff(self.bounds)


@dataclass
class KeySet:
    """A growing set of int64 keys (pairs such as ``seller * n_nodes + buyer``): a sorted
    main array and a small sorted buffer merged into it when it grows beyond a twentieth of
    the main array, so that adding a day's few new keys does not copy every key so far."""

    main: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.main) + len(self.buffer)

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Whether each of ``keys`` is in the set."""
        return _contains(self.main, keys) | _contains(self.buffer, keys)

    def add(self, keys: np.ndarray) -> None:
        """Add ``keys`` (any order; duplicates and keys already present are allowed)."""
        self.buffer = _union(self.buffer, np.sort(np.asarray(keys, np.int64)))
        if len(self.buffer) > max(KEY_BUFFER_MIN, len(self.main) // 20):
            self.main = _union(self.main, self.buffer)
            self.buffer = self.buffer[:0]

    def new(self, keys: np.ndarray) -> np.ndarray:
        """The distinct ``keys`` not yet in the set, sorted, and add them."""
        keys = sorted_unique(np.asarray(keys, np.int64))
        fresh = keys[~self.contains(keys)]
        self.add(fresh)
        return fresh


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of integers, by a sort and a comparison of neighbours. numpy
    2.4's ``np.unique`` (without return_index, inverse or counts) hashes instead, which for
    many distinct values is about thirty times slower (1.4 ms against 0.05 ms for 10,000
    int32 node ids, 20 ms against 0.6 ms for 100,000)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.union1d(a, b)`` of sorted int64 arrays (``a`` unique, ``b`` perhaps not), merged
    in one pass. numpy 2.4's union1d and np.unique (without return_index or counts) hash
    instead: for many distinct keys that took 0.3 s for 500,000 keys and 1.8 s to merge
    1.5 M keys with 75,000 (a merge: 6 ms), which a city's key sets of customers met every
    few days (docs/performance.md)."""
    out = np.empty(len(a) + len(b), np.int64)
    return out[: _merge_unique(a, b, out)]


@numba.njit(cache=True, nogil=True)
def _merge_unique(a, b, out):  # type: ignore[no-untyped-def]
    """Merge sorted ``a`` and ``b`` into ``out``, each key once; returns how many."""
    i = j = n = 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and a[i] <= b[j]):
            key = a[i]
            i += 1
        else:
            key = b[j]
            j += 1
        if n == 0 or out[n - 1] != key:
            out[n] = key
            n += 1
    return n


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in ``sorted_keys`` (sorted, unique)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), bool)
    keys = np.asarray(keys)
    if keys.dtype.kind == "i":  # other keys (float, uint64 past int64) as numpy compares them
        found = np.empty(len(keys), bool)
        if _gallop(sorted_keys, keys.astype(np.int64, copy=False), found):
            return found
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


@numba.njit(cache=True, nogil=True)
def _gallop(sorted_keys, keys, found):  # type: ignore[no-untyped-def]
    """If ``keys`` are sorted (the day's customers and producers' buyers are), whether each
    is in ``sorted_keys`` into ``found``, each searched from where the last one was found:
    steps doubling, then halving, near the last place, where a binary search of the whole
    array would miss the cache at most of its steps (0.46-0.59 against 0.79-0.98 ms for
    4,500 keys among 358,000, a whole city's customers after 90 days, caches cleared before
    each). Returns False, with ``found`` unwritten, if they are not sorted."""
    for i in range(1, len(keys)):
        if keys[i] < keys[i - 1]:
            return False
    n = len(sorted_keys)
    lo = 0  # the first position whose key is not below the last key searched
    for i in range(len(keys)):
        key = keys[i]
        if lo < n and sorted_keys[lo] < key:
            below, step, ahead = lo, 1, lo + 1
            while ahead < n and sorted_keys[ahead] < key:
                below = ahead
                step *= 2
                ahead = below + step
            a, b = below + 1, min(ahead, n)
            while a < b:
                middle = (a + b) >> 1
                if sorted_keys[middle] < key:
                    a = middle + 1
                else:
                    b = middle
            lo = a
        found[i] = lo < n and sorted_keys[lo] == key
    return True


@dataclass
class Ledger:
    """What the days have recorded: spending this month, who ever ordered, each month's
    buyers and active users (flags: 1 bought through trust channels, 2 through
    storefronts, 4 active, set at the month's end from ``month_active``), money per seller,
    creator and producer, orders per listing, producers' distinct buyers and sellers'
    distinct and repeat customers."""

    spent: np.ndarray
    ever_ordered: np.ndarray
    month_flags: np.ndarray
    month_active: np.ndarray
    """The nodes active on some day of the month so far, a bit each (as
    :attr:`Today.active_bits`: each day's bits are added to it)."""
    creator_income: np.ndarray
    creator_exposures: np.ndarray
    seller_gmv: np.ndarray
    listing_orders: np.ndarray
    producer_income: np.ndarray
    producer_orders: np.ndarray
    producer_buyers: np.ndarray
    last_month_flags: np.ndarray | None = None
    repurchase: list[list[dict[str, float]]] = field(default_factory=list)
    """Per replication, the monthly repurchase rates so far."""
    months: list[list[dict[str, int]]] = field(default_factory=list)
    """Per replication, each complete month's active users and buyers (``end_month``)."""
    producer_pairs: KeySet = field(default_factory=KeySet)
    """Every (producer, buyer) pair so far, as keys ``producer * n_nodes + buyer``."""
    seller_customers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Per seller, the distinct users who ordered from it so far."""
    seller_repeat_customers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Per seller, the distinct users who ordered from it at least twice so far (回头客)."""
    customer_pairs: KeySet = field(default_factory=KeySet)
    """Every (seller, buyer) pair so far, as keys ``seller * n_nodes + buyer``."""
    repeat_pairs: KeySet = field(default_factory=KeySet)
    """The (seller, buyer) pairs with at least two orders so far."""

    @classmethod
    def zeros(
        cls, n_nodes: int, creators: int, sellers: int, listings: int, producers: int, R: int
    ) -> Ledger:
        """An empty ledger; the arrays the days write here and there are mapped now (see
        :func:`laotie._memory.touch`)."""
        ledger = cls(
            spent=np.zeros(n_nodes, np.float64),
            ever_ordered=np.zeros(n_nodes, bool),
            month_flags=np.zeros(n_nodes, np.int8),
            month_active=np.zeros((n_nodes + 63) // 64, np.uint64),
            creator_income=np.zeros(creators),
            creator_exposures=np.zeros(creators),
            seller_gmv=np.zeros(sellers),
            listing_orders=np.zeros(listings, np.int64),
            producer_income=np.zeros(producers),
            producer_orders=np.zeros(producers, np.int64),
            producer_buyers=np.zeros(producers, np.int64),
            seller_customers=np.zeros(sellers, np.int64),
            seller_repeat_customers=np.zeros(sellers, np.int64),
            repurchase=[[] for _ in range(R)],
            months=[[] for _ in range(R)],
        )
        touch(ledger.spent, ledger.ever_ordered, ledger.month_flags)
        return ledger
