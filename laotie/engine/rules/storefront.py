"""Storefront impressions (docs/model.md 3.5, "Storefront impressions"): ads buy impressions
of storefront products shown to active users; the shopper compares (比价) a few products of
the same category and keeps the one with the highest utility.

``round(impressions_per_active · n_active)`` impressions per replication, each of a
storefront drawn with probability equal to its ad share, a product drawn uniformly from its
catalogue and a viewer drawn uniformly among active users. The shopper also considers
``comparisons`` products drawn uniformly, with replacement, from all storefront products of
the same category, and keeps the option with the highest utility (``T`` the user's trust in
storefronts, ``M`` the memory of that option's storefront, ``Q`` its promise); ties go to
the impression's own product.

The click (the funnel's first stage, probability ``storefronts.click_prob``, independent of
everything else about the impression) is drawn first: an impression not clicked needs only
its viewer, to be counted, and the storefront, products and comparison are drawn for the
clicked ones alone (the same distribution as drawing every impression whole, at a fraction
of the cost when few are clicked).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ...metrics import STOREFRONT
from ...scenario import Scenario
from ..exposures import REF_STOREFRONT, ExposureFields, Exposures, Unclicked
from ..market import Market
from ..memories import LINE, memory_at
from ..prefetch import PREFETCH_BLOCK, prefetch
from ..sampling import inverse_cdf
from ..state import Today
from ..streams import Stream, next_double
from ..threads import Chunks
from .decisions import Weights, utility

__all__ = ["clicks", "storefront_exposures"]


class Shelves(NamedTuple):
    """What an impression reads of the market: the ad shares' CDF per replication with its
    look-up table, the sellers' listings on the shelf, the storefront listings by (replication,
    category), the users' storefront memories (the packed table,
    :attr:`~laotie.engine.memories.StorefrontMemory.table`) and the listings' sellers,
    storefront columns (:attr:`~laotie.engine.market.Market.listing_store_column`), promises
    and prices."""

    n_creators: int
    storefronts: int
    ad_cdf: np.ndarray
    ad_low: np.ndarray
    ad_high: np.ndarray
    shelf_ptr: np.ndarray
    shelf_listing: np.ndarray
    category_key: np.ndarray
    category_ptr: np.ndarray
    by_category: np.ndarray
    storefront_memory: np.ndarray
    listing_seller: np.ndarray
    listing_column: np.ndarray
    listing_promise: np.ndarray
    listing_price: np.ndarray


def storefront_exposures(
    market: Market, today: Today, stream: Stream, scenario: Scenario, chunks: Chunks | None = None
) -> Exposures:
    """Today's clicked storefront exposures, with the kept option's utility, and the
    impressions not clicked (``Exposures.unclicked``). After the clicks (:func:`clicks`),
    each clicked impression takes ``3 + comparisons`` uniforms of its replication: the
    storefront, the product of its shelf, the viewer (a seat of today's users) and the
    products compared.

    With ``chunks`` (:class:`~laotie.engine.threads.Chunks`), the clicked impressions are
    offered in chunks of :data:`CHUNK` that another thread may take (``chunks.help()``); the
    uniforms are drawn first, so that each chunk reads and writes only its own rows."""
    m = market
    s = scenario.storefronts
    impressions = np.round(s.impressions_per_active * today.counts).astype(np.int64)
    counts, unclicked = clicks(impressions, s.click_prob, today, stream)
    n = int(counts.sum())
    out = Exposures.empty(STOREFRONT) if n == 0 else Exposures.blank(n, STOREFRONT)
    out.attention = 1.0  # clicked, every one
    out.unclicked = unclicked
    if n == 0:
        return out
    draws = counts * (3 + s.comparisons)
    u = stream.take(draws, today.working("storefront", int(draws.sum()), np.float64))
    u = u.reshape(n, -1)
    out.ref_kind.fill(REF_STOREFRONT)
    shelves = Shelves(
        n_creators=m.n_creators,
        storefronts=m.layout.storefronts,
        ad_cdf=m.ad_cdf,
        ad_low=m.ad_low,
        ad_high=m.ad_high,
        shelf_ptr=m.shelf_ptr,
        shelf_listing=m.shelf_listing,
        category_key=m.listing_category_key,
        category_ptr=m.category_ptr,
        by_category=m.store_listings_by_category,
        storefront_memory=m.storefront_memory.table,
        listing_seller=m.listing_seller,
        listing_column=m.listing_store_column,
        listing_promise=m.listing_promise,
        listing_price=m.listing_price,
    )
    weights = Weights.of(scenario)
    fields = out.kernel_fields()
    if chunks is None:
        _storefront(counts, u, shelves, today.users, today.bounds, today.seats, weights, fields)
        return out
    # Each replication's impressions are rows ends[r - 1] .. ends[r] - 1.
    ends = np.concatenate(([0], np.cumsum(counts)))

    def chunk(i: int) -> None:
        lo, hi = i * CHUNK, min((i + 1) * CHUNK, n)
        part = np.diff(np.clip(ends, lo, hi))  # each replication's rows among lo .. hi - 1
        rows = ExposureFields(*(field[lo:hi] for field in fields))
        _storefront(part, u[lo:hi], shelves, today.users, today.bounds, today.seats, weights, rows)

    chunks.offer(chunk, -(-n // CHUNK))
    chunks.finish()
    return out


CHUNK = 4 * PREFETCH_BLOCK
"""Clicked impressions in a chunk another thread may take (:func:`storefront_exposures`)."""


def clicks(
    impressions: np.ndarray, click_prob: float, today: Today, stream: Stream
) -> tuple[np.ndarray, Unclicked | None]:
    """The clicked impressions of each replication among ``impressions[r]`` and those not
    clicked. With ``click_prob`` 1 every impression is clicked and nothing is drawn; else
    each impression takes one uniform ``w`` of its replication's stream: clicked if
    ``w < click_prob``, else shown to the seat ``(w - click_prob) / (1 - click_prob)`` of
    today's users (a uniform seat: given that it is not clicked, that ratio is uniform)."""
    if click_prob >= 1:
        return impressions, None
    clicked = np.zeros_like(impressions)
    seen = np.empty(len(today.users), np.int64)
    marks = np.zeros(len(today.users), np.uint8)
    n_seen = _clicks(
        stream.state, impressions, float(click_prob), today.bounds, marks, clicked, seen
    )
    return clicked, Unclicked(today.users[seen[:n_seen]], impressions - clicked)


@numba.njit(cache=True, nogil=True)
def _clicks(state, impressions, click_prob, bounds, marks, clicked, seen):  # type: ignore[no-untyped-def]
    """:func:`clicks`: into ``clicked`` each replication's clicks, into ``seen`` the seats
    that saw an impression they did not click, each once, in replication order (``marks``:
    one zero byte per seat, zero again on return); returns how many seats; the streams'
    ``state`` advances by one double per impression."""
    n_seen = 0
    keep = 1.0 - click_prob
    for r in range(len(impressions)):
        first = bounds[r]
        seats = bounds[r + 1] - first
        s0, s1, s2, s3 = state[r, 0], state[r, 1], state[r, 2], state[r, 3]
        start, k = n_seen, 0
        for _ in range(impressions[r]):
            w, s0, s1, s2, s3 = next_double(s0, s1, s2, s3)
            if w < click_prob:
                k += 1
                continue
            at = first + min(np.int64((w - click_prob) / keep * seats), seats - 1)
            if marks[at] == 0:
                marks[at] = 1
                seen[n_seen] = at
                n_seen += 1
        state[r, 0], state[r, 1], state[r, 2], state[r, 3] = s0, s1, s2, s3
        clicked[r] = k
        for i in range(start, n_seen):
            marks[seen[i]] = 0
    return n_seen


def _storefront(counts, u, shelves, active_users, active_bounds, seats, weights, out):  # type: ignore[no-untyped-def]
    """The storefront exposures, one per impression, written into ``out``
    (:class:`~laotie.engine.exposures.ExposureFields`, whose ``ref_kind`` is set): ``u``
    holds each impression's uniforms (storefront, listing of its catalogue, seat of the
    viewer, one per listing compared); ``shelves``: :class:`Shelves`; ``seats``: the
    viewers' :class:`~laotie.engine.state.Seats`.

    Two passes, each its own compiled kernel (one kernel holding both loops took half as
    long again, measured on the whole city): the first finds the listing and the viewer of
    each impression and parks what the second needs of the viewer in the output arrays (the
    viewer's price factor in ``utility``, whether the viewer remembers storefronts in
    ``memory``); the second reads the options of each and chooses."""
    # Each impression's storefront (among its replication's), by the ad shares.
    store = np.empty(len(u), np.int64)
    inverse_cdf(shelves.ad_cdf, shelves.ad_low, shelves.ad_high, counts, u[:, 0], store)
    _impressions(counts, u, store, shelves, active_users, active_bounds, seats, out)
    _choose(u, shelves, weights, out)


@numba.njit(cache=True, nogil=True)
def _impressions(counts, u, store, shelves, active_users, active_bounds, seats, out):  # type: ignore[no-untyped-def]
    """:func:`_storefront`'s first pass: each impression's listing (of its storefront,
    ``store``, among its replication's) and viewer, with the viewer's trust, user index,
    whether it remembers storefronts (in ``memory``) and price factor (in ``utility``)."""
    # The structures' arrays, read once (inside a loop each read costs a reference count).
    S, n_creators = shelves.storefronts, shelves.n_creators
    shelf_ptr, shelf_listing = shelves.shelf_ptr, shelves.shelf_listing
    seat_trust, seat_user = seats.storefront_trust, seats.user_index
    seat_remembers, seat_factor = seats.remembers_storefronts, seats.price_factor
    user, listing, trust_of, memory_of = out.user, out.listing, out.trust, out.memory
    ref, utility_of = out.ref, out.utility
    # Unsigned indices: numba checks a signed index for wraparound at every access.
    i = np.uint64(0)
    for r in range(len(counts)):
        first_seat = np.uint64(active_bounds[r])
        seats_r = active_bounds[r + 1] - active_bounds[r]
        first_store = np.uint64(n_creators + r * S)
        end_r = i + np.uint64(counts[r])
        # Block by block, the viewers' seats asked for first (as in :func:`_choose`: 11.9
        # against 8.0 ms on the whole city, caches cleared before each).
        while i < end_r:
            end = min(i + np.uint64(PREFETCH_BLOCK), end_r)
            for j in range(i, end):
                at = first_seat + np.uint64(u[j, np.uint64(2)] * seats_r)
                prefetch(active_users, at)
                prefetch(seat_trust, at)
                prefetch(seat_user, at)
                prefetch(seat_remembers, at)
                prefetch(seat_factor, at)
            for j in range(i, end):
                at_store = first_store + np.uint64(store[j])
                start = np.uint64(shelf_ptr[at_store])
                size = shelf_ptr[at_store + np.uint64(1)] - shelf_ptr[at_store]
                listing[j] = shelf_listing[start + np.uint64(u[j, np.uint64(1)] * size)]
                at = first_seat + np.uint64(u[j, np.uint64(2)] * seats_r)
                user[j] = active_users[at]
                trust_of[j] = seat_trust[at]
                ref[j] = seat_user[at]
                memory_of[j] = seat_remembers[at]
                utility_of[j] = seat_factor[at]
            i = end


@numba.njit(cache=True, nogil=True)
def _choose(u, shelves, weights, out):  # type: ignore[no-untyped-def]
    """:func:`_storefront`'s second pass: each impression's kept option among its own
    listing and the ``u.shape[1] - 3`` compared, with its memory, quality, storefront and
    utility.

    Block by block: first the storefront-memory rows of the block's viewers who remember
    storefronts are asked for (:func:`~laotie.engine.prefetch.prefetch`; a row of a whole
    city's table is a miss of every cache, and the loop that reads them branches on who
    remembers, so that the misses would come one after the other: 26.7 against 13.9 ms on the
    whole city with half the viewers remembering), then the block is read. A row of the
    default 50 storefronts is 16 bytes, within one cache line (:mod:`~laotie.engine.memories`)."""
    n_creators = shelves.n_creators
    category_key, category_ptr = shelves.category_key, shelves.category_ptr
    by_category, storefront_memory = shelves.by_category, shelves.storefront_memory
    seller_of, column_of = shelves.listing_seller, shelves.listing_column
    promise, price = shelves.listing_promise, shelves.listing_price
    user, listing, trust_of, memory_of = out.user, out.listing, out.trust, out.memory
    quality, ref, source, utility_of = out.quality, out.ref, out.source, out.utility
    rows = storefront_memory.reshape(-1)
    width = np.uint64(storefront_memory.shape[1])
    k = u.shape[1] - 3
    # Unsigned indices: numba checks a signed index for wraparound at every access.
    n = np.uint64(len(user))
    block_size = np.uint64(PREFETCH_BLOCK)
    for block in range(np.uint64(0), n, block_size):
        end = min(block + block_size, n)
        for i in range(block, end):
            if memory_of[i] != 0:
                prefetch(rows, np.uint64(ref[i]) * width)
                if width > LINE:
                    prefetch(rows, np.uint64(ref[i]) * width + width - np.uint64(1))
        for i in range(block, end):
            own = np.uint64(listing[i])
            trust = trust_of[i]
            who = np.uint64(ref[i])
            known = memory_of[i] != 0
            factor = utility_of[i]
            # The column is found whether or not the viewer remembers, and only the read
            # waits on the branch (17.0 against 13.8 ms on the whole city's day 200, with
            # the column inside the branch; the processor mispredicts it often).
            column = np.uint64(column_of[own])
            memory = np.int8(0)
            if known:
                memory = memory_at(storefront_memory, who, column)
            best, best_memory = own, memory
            best_utility = utility(weights, trust, promise[own], factor, price[own], memory)
            key = np.uint64(category_key[own])
            lo = np.uint64(category_ptr[key])
            count = category_ptr[key + np.uint64(1)] - category_ptr[key]
            for option in range(np.uint64(3), np.uint64(3 + k)):
                candidate = np.uint64(by_category[lo + np.uint64(u[i, option] * count)])
                column = np.uint64(column_of[candidate])
                memory = np.int8(0)
                if known:
                    memory = memory_at(storefront_memory, who, column)
                value = utility(
                    weights, trust, promise[candidate], factor, price[candidate], memory
                )
                # np.argmax: the first of the largest, or the first NaN (without branches,
                # which the processor would mispredict).
                take = (value > best_utility) | ((value != value) & (best_utility == best_utility))
                best = candidate if take else best
                best_memory = memory if take else best_memory
                best_utility = value if take else best_utility
            listing[i] = best
            memory_of[i] = best_memory
            quality[i] = promise[best]
            source[i] = seller_of[best] - n_creators
            utility_of[i] = best_utility
