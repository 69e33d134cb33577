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
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ...metrics import STOREFRONT
from ...scenario import Scenario
from ..exposures import REF_STOREFRONT, Exposures
from ..market import Market
from ..sampling import inverse_cdf
from ..state import Today
from ..streams import Stream
from .decisions import Weights, utility

__all__ = ["storefront_exposures"]


class Shelves(NamedTuple):
    """What an impression reads of the market: the ad shares' CDF per replication with its
    look-up table, the sellers' listings on the shelf, the storefront listings by (replication,
    category), the users' storefront memories and the listings' sellers, promises and
    prices."""

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
    listing_promise: np.ndarray
    listing_price: np.ndarray


def storefront_exposures(
    market: Market, today: Today, stream: Stream, scenario: Scenario
) -> Exposures:
    """Today's storefront exposures, with the kept option's utility. Each impression takes
    ``3 + comparisons`` uniforms of its replication: the storefront, the product of its
    shelf, the viewer (a seat of today's users) and the products compared."""
    m = market
    s = scenario.storefronts
    counts = np.round(s.impressions_per_active * today.counts).astype(np.int64)
    n = int(counts.sum())
    if n == 0:
        return Exposures.empty(STOREFRONT)
    u = stream.take(counts * (3 + s.comparisons)).reshape(n, -1)
    out = Exposures.blank(n, STOREFRONT)
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
        storefront_memory=m.storefront_memory,
        listing_seller=m.listing_seller,
        listing_promise=m.listing_promise,
        listing_price=m.listing_price,
    )
    _storefront(
        counts,
        u,
        shelves,
        today.users,
        today.bounds,
        today.seats,
        Weights.of(scenario),
        out.kernel_fields(),
    )
    return out


@numba.njit(cache=True, nogil=True)
def _storefront(counts, u, shelves, active_users, active_bounds, seats, weights, out):  # type: ignore[no-untyped-def]
    """The storefront exposures, one per impression, written into ``out``
    (:class:`~laotie.engine.exposures.ExposureFields`, whose ``ref_kind`` is set): ``u``
    holds each impression's uniforms (storefront, listing of its catalogue, seat of the
    viewer, one per listing compared); ``shelves``: :class:`Shelves`; ``seats``: the
    viewers' :class:`~laotie.engine.state.Seats`."""
    # Two passes: the first finds the listing and the viewer of each impression and parks
    # what the second needs of the viewer in the output arrays (the viewer's price factor in
    # ``utility``, whether the viewer remembers storefronts in ``memory``); the second reads
    # the options of each and chooses.
    # The structures' arrays, read once (inside a loop each read costs a reference count).
    S, n_creators = shelves.storefronts, shelves.n_creators
    ad_cdf, ad_low, ad_high = shelves.ad_cdf, shelves.ad_low, shelves.ad_high
    shelf_ptr, shelf_listing = shelves.shelf_ptr, shelves.shelf_listing
    category_key, category_ptr = (
        shelves.category_key,
        shelves.category_ptr,
    )
    by_category, storefront_memory = shelves.by_category, shelves.storefront_memory
    seller_of, promise, price = (
        shelves.listing_seller,
        shelves.listing_promise,
        shelves.listing_price,
    )
    seat_trust, seat_user = seats.storefront_trust, seats.user_index
    seat_remembers, seat_factor = seats.remembers_storefronts, seats.price_factor
    user, listing, trust_of, memory_of = out.user, out.listing, out.trust, out.memory
    quality, ref, source, utility_of = out.quality, out.ref, out.source, out.utility
    i = 0
    for r in range(len(counts)):
        first_seat = active_bounds[r]
        seats_r = active_bounds[r + 1] - first_seat
        for _ in range(counts[r]):
            store = n_creators + r * S + inverse_cdf(ad_cdf, ad_low, ad_high, r, u[i, 0])
            start = shelf_ptr[store]
            size = shelf_ptr[store + 1] - start
            listing[i] = shelf_listing[start + np.int64(u[i, 1] * size)]
            at = first_seat + np.int64(u[i, 2] * seats_r)
            user[i] = active_users[at]
            trust_of[i] = seat_trust[at]
            ref[i] = seat_user[at]
            memory_of[i] = seat_remembers[at]
            utility_of[i] = seat_factor[at]
            i += 1
    k = u.shape[1] - 3
    for i in range(len(user)):
        own = listing[i]
        trust = trust_of[i]
        who = ref[i]
        known = memory_of[i] != 0
        factor = utility_of[i]
        memory = np.int8(0)
        if known:
            memory = storefront_memory[who, (seller_of[own] - n_creators) % S]
        best, best_memory = own, memory
        best_utility = utility(weights, trust, promise[own], factor, price[own], memory)
        key = category_key[own]
        lo = category_ptr[key]
        count = category_ptr[key + 1] - lo
        for option in range(k):
            candidate = by_category[lo + np.int64(u[i, 3 + option] * count)]
            memory = np.int8(0)
            if known:
                memory = storefront_memory[who, (seller_of[candidate] - n_creators) % S]
            value = utility(weights, trust, promise[candidate], factor, price[candidate], memory)
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
