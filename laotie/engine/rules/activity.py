"""Activity (docs/model.md 3.5, "Activity"): user ``i`` is active today with probability
``p_i``, independently, if the user uses the platform (always, unless it grows:
:mod:`.growth`); an active user is marked active in the month's flags."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ..lockstep import bounds
from ..market import Market
from ..state import Ledger, Seats, Today
from ..streams import Stream
from .month import ACTIVE

__all__ = ["SeatSource", "activity"]


class SeatSource(NamedTuple):
    """Where an active user's seat is read from: storefront trust, price factor and follow
    bits by node; whether the user remembers storefronts by user index."""

    storefront_trust: np.ndarray
    price_factor: np.ndarray
    follow_bits: np.ndarray
    remembers_storefronts: np.ndarray


def activity(today: Today, market: Market, ledger: Ledger, stream: Stream) -> None:
    """Draw today's active users into ``today`` (their flags, list, bounds and seats) and
    mark them in ``ledger.month_flags``, one float32 uniform per user of each
    replication."""
    users = market.layout.users
    R = market.replications
    draws = stream.take32(np.full(R, users))
    if len(today.seats.user_index) < len(draws):
        today.seats = Seats.empty(len(draws))
        today.scratch = np.empty(len(draws), np.int32)
    n = _activity(
        draws,
        market.p_active,
        market.adopted,
        market.users,
        today.active,
        today.active_bits,
        ledger.month_flags,
        today.scratch,
        SeatSource(
            storefront_trust=market.storefront_trust,
            price_factor=market.price_factor,
            follow_bits=market.follows.bits,
            remembers_storefronts=market.has_storefront_memory,
        ),
        today.seats,
    )
    today.users = today.scratch[:n].copy()
    today.bounds = bounds(today.users, market.layout.nodes, R)


@numba.njit(cache=True, nogil=True)
def _activity(draws, p_active, adopted, users, active, active_bits, month, out, viewer, seats):  # type: ignore[no-untyped-def]
    """The users who use the platform (``adopted``, :mod:`.growth`) and whose draw is below
    their activity probability, in order, into ``out``, every user's flag in ``active`` and
    in ``active_bits`` (:attr:`~laotie.engine.state.Today.active_bits`; yesterday's flags are
    overwritten) and the active users' bit ``ACTIVE`` in ``month``; returns how many.
    ``seats`` (:class:`~laotie.engine.state.Seats`) gets the active users' seats, gathered
    from ``viewer`` (:class:`SeatSource`), all read in increasing node order."""
    # The structures' arrays, read once (inside a loop each read costs a reference count).
    seat_trust, seat_remembers = seats.storefront_trust, seats.remembers_storefronts
    seat_factor, seat_user, seat_bits = seats.price_factor, seats.user_index, seats.follow_bits
    trust, remembers = viewer.storefront_trust, viewer.remembers_storefronts
    factor, bits = viewer.price_factor, viewer.follow_bits
    active_bits[:] = 0
    n = 0
    for i in range(len(draws)):
        # Written whether or not the user is active, and counted only if so (no branch).
        awake = (draws[i] < p_active[i]) & adopted[i]
        node = users[i]
        out[n] = node
        seat_user[n] = i
        active[node] = awake
        active_bits[node >> 6] |= np.uint64(awake) << np.uint64(node & 63)
        month[node] |= np.int8(ACTIVE * awake)
        n += awake
    # The seats, in a second pass over the active users only (in increasing node order).
    for j in range(n):
        node = out[j]
        seat_trust[j] = trust[node]
        seat_remembers[j] = remembers[seat_user[j]]
        seat_factor[j] = factor[node]
        seat_bits[j] = bits[node]
    return n
