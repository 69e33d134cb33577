"""Activity (docs/model.md 3.5, "Activity"): user ``i`` is active today with probability
``p_i``, independently, if the user uses the platform (always, unless it grows:
:mod:`.growth`); an active user is marked active in the month's active bits
(``Ledger.month_active``)."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ..lockstep import bounds, search
from ..market import Market
from ..state import Ledger, Seats, Today
from ..streams import Stream
from ..threads import SideThread

__all__ = ["ACTIVITY_DRAWS", "SPLIT_FROM", "SeatSource", "activity"]


class SeatSource(NamedTuple):
    """Where an active user's seat is read from: storefront trust, price factor and follow
    bits by node; whether the user remembers storefronts by user index."""

    storefront_trust: np.ndarray
    price_factor: np.ndarray
    follow_bits: np.ndarray
    remembers_storefronts: np.ndarray


ACTIVITY_DRAWS = "activity draws"
"""The :meth:`~laotie.engine.state.Today.working` array of the day's activity uniforms."""

SPLIT_FROM = 100_000
"""Users from which an engine with a second thread shares the activity's pass with it."""


def activity(
    today: Today,
    market: Market,
    ledger: Ledger,
    stream: Stream,
    side: SideThread | None = None,
    drawn: np.ndarray | None = None,
) -> None:
    """Draw today's active users into ``today`` (their bits, list, bounds and seats) and
    mark them in ``ledger.month_active``, one float32 uniform per user of each
    replication (``drawn``: those uniforms, if they were drawn ahead from ``stream``). With
    ``side`` (and :data:`SPLIT_FROM` users or more) the pass is shared with that thread:
    the first half of the users here, the second there (split where a word of
    :attr:`~laotie.engine.state.Today.active_bits` begins), the second half's active users
    and seats then moved after the first's by both."""
    users = market.layout.users
    R = market.replications
    if drawn is None:
        draws = stream.take32(
            np.full(R, users), today.working(ACTIVITY_DRAWS, R * users, np.float32)
        )
    elif len(drawn) == R * users:
        draws = drawn
    else:  # never: every day draws as many
        raise RuntimeError(f"activity: {len(drawn)} uniforms drawn ahead for {R * users} users")
    if len(today.seats.user_index) < len(draws):
        today.seats = Seats.empty(len(draws))
    out, seats = today.working("activity", len(draws), np.int32), today.seats
    source = SeatSource(
        storefront_trust=market.storefront_trust,
        price_factor=market.price_factor,
        follow_bits=market.follows.bits,
        remembers_storefronts=market.has_storefront_memory,
    )

    def awake(lo: int, hi: int) -> int:
        return int(
            _awake(
                draws,
                market.p_active,
                market.adopted,
                market.users,
                today.active_bits,
                source,
                out,
                seats,
                lo,
                hi,
            )
        )

    N = len(draws)
    if side is None or N < SPLIT_FROM or (half := _word_start(market.users, N // 2)) >= N:
        n = awake(0, N)
    else:
        first, second = side.both(lambda: awake(0, half), lambda: awake(half, N))
        # The second half's active users and seats, written from ``half``, follow the
        # first's: the columns moved in two groups of about as many bytes, one a thread.
        n = first + second
        here = (out, seats.storefront_trust, seats.remembers_storefronts, seats.user_index)
        there = (seats.price_factor, seats.follow_bits)
        side.both(
            lambda: _close_gap(here, half, first, second),
            lambda: _close_gap(there, half, first, second),
        )
    today.users = out[:n].copy()
    today.bounds = bounds(today.users, market.layout.nodes, R)
    ledger.month_active |= today.active_bits


def _word_start(users: np.ndarray, i: int) -> int:
    """The first position from ``i`` whose user begins a word of 64 nodes among ``users``
    (increasing; ``len(users)`` if none)."""
    if i <= 0:
        return 0
    next_word = ((int(users[i - 1]) >> 6) + 1) << 6  # the first node of the next word
    return i + int(search(users[i:], next_word))


def _close_gap(columns: tuple[np.ndarray, ...], half: int, first: int, second: int) -> None:
    """Move entries ``half .. half + second - 1`` of each column to ``first``: the second
    half's active users, written from ``half``, right after the first half's ``first``."""
    for column in columns:
        column[first : first + second] = column[half : half + second]


@numba.njit(cache=True, nogil=True)
def _awake(draws, p_active, adopted, users, active_bits, source, out, seats, lo, hi):  # type: ignore[no-untyped-def]
    """The users ``lo .. hi - 1`` who use the platform (``adopted``, :mod:`.growth`) and whose
    draw is below their activity probability, in order, into ``out`` from ``lo`` with their
    seats (:class:`~laotie.engine.state.Seats`: gathered from ``source``, a
    :class:`SeatSource`, at their nodes and user indices), and every such user's bit in
    ``active_bits`` (:attr:`~laotie.engine.state.Today.active_bits`: every word holding one
    of these users' nodes is written whole, so yesterday's bits go; the other words hold no
    user and stay zero); returns how many.

    One pass: every user's seat is written whether or not the user is active, and counted
    only if so (no branch to mispredict; at one active user in four every cache line of the
    sources is read either way); a word of bits is kept in a register while the users'
    nodes stay in it (an or into memory per user waited for the last one's store)."""
    if hi <= lo:
        return 0
    # The structures' arrays, read once (inside a loop each read costs a reference count).
    seat_trust, seat_remembers = seats.storefront_trust, seats.remembers_storefronts
    seat_factor, seat_user, seat_bits = seats.price_factor, seats.user_index, seats.follow_bits
    trust, remembers = source.storefront_trust, source.remembers_storefronts
    factor, bits = source.price_factor, source.follow_bits
    # Unsigned indices: numba checks a signed index for wraparound at every access.
    six = np.uint64(6)
    word_at = np.uint64(users[lo]) >> six
    word = np.uint64(0)
    n = np.uint64(lo)
    for i in range(np.uint64(lo), np.uint64(hi)):
        awake = (draws[i] < p_active[i]) & adopted[i]
        node = np.uint64(users[i])
        if node >> six != word_at:
            active_bits[word_at] = word
            word_at = node >> six
            word = np.uint64(0)
        word |= np.uint64(awake) << (node & np.uint64(63))
        out[n] = node
        seat_user[n] = i
        seat_trust[n] = trust[node]
        seat_remembers[n] = remembers[i]
        seat_factor[n] = factor[node]
        seat_bits[n] = bits[node]
        n += np.uint64(awake)
    active_bits[word_at] = word
    return np.int64(n) - lo
