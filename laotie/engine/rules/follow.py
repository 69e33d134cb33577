"""Follow exposures (docs/model.md 3.5, "Creator posts and reach"): each active follower
``f`` of a posting creator ``c`` sees the post with probability ``ρ_c``, independently, with
trust ``T = w_fc``, memory ``M = m_fc`` and perceived quality ``Q = π_cp``."""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ...metrics import FOLLOW
from ...scenario import Scenario
from ..exposures import REF_BUFFER, REF_FOLLOW, Exposures, write_exposure
from ..market import Market
from ..prefetch import PREFETCH_BLOCK, prefetch
from ..state import Today
from ..streams import Stream
from .decisions import Weights, utility
from .posts import Posts, reach

__all__ = ["NARROW_UP_TO", "follow_exposures"]

NARROW_UP_TO = int(np.iinfo(np.int32).max)
"""Follow ties in the main arrays and creators (of every replication) up to which the day's
working arrays of the posting creators' ties in the main arrays (their positions and
sellers) are int32, else int64; the buffer's ties are always int64."""


class Awake(NamedTuple):
    """Follow ties whose follower is active and whose creator posts today: their positions
    (in the main arrays or the buffer), the posting sellers and one uniform each."""

    rows: np.ndarray
    sellers: np.ndarray
    draws: np.ndarray


class TieFields(NamedTuple):
    """The follow ties' users, trusts and memories (main arrays or buffer)."""

    user: np.ndarray
    trust: np.ndarray
    memory: np.ndarray


class Showing(NamedTuple):
    """What a follow exposure shows: each creator's reach and featured listing today, the
    listings' promises and prices, the users' price factors and the logit's weights."""

    reach: np.ndarray
    listing_of: np.ndarray
    listing_promise: np.ndarray
    listing_price: np.ndarray
    price_factor: np.ndarray
    weights: Weights


def follow_exposures(
    market: Market, today: Today, posts: Posts, stream: Stream, scenario: Scenario
) -> Exposures:
    """Today's follow exposures, with their utilities: the posting creators' active
    followers (main arrays, then the buffer of ties made during the run), each drawing one
    uniform of its replication, in that order, and seeing the post if it is below ``ρ_c``."""
    m = market
    f = m.follows
    posting = posts.posting
    # Only the followers of today's posting creators are read.
    creators = m.creator_node[posting].astype(np.int64)
    size = int((f.indptr[creators + 1] - f.indptr[creators]).sum())
    # The day's largest working arrays (2.3 M entries each on the whole city) in int32 where
    # the positions and sellers fit: half the bytes written and read again.
    index = np.int32 if max(len(f.user), m.n_creators) <= NARROW_UP_TO else np.int64
    main = today.working("follow rows", size, index)
    seller_main = today.working("follow sellers", size, index)
    active_followers = np.zeros(m.n_creators, np.int64)
    n = _awake_followers(
        posting,
        m.creator_node,
        f.indptr,
        f.user,
        today.active_bits,
        main,
        seller_main,
        active_followers,
    )
    main, seller_main = main[:n], seller_main[:n]
    extra = np.empty(len(f.buffer_creator), np.int64)
    extra = extra[
        : _awake_in_buffer(
            m.creator_node[posting],
            f.buffer_creator,
            f.buffer_user,
            today.active_bits,
            f.marks,
            extra,
        )
    ]
    seller_extra = m.seller_of_node[f.buffer_creator[extra]]
    active_followers += np.bincount(seller_extra, minlength=m.n_creators)
    rho = reach(m, posting, active_followers, scenario.policy)
    C = max(m.layout.creators, 1)
    u_main = stream.per_entry(seller_main, C)
    u_extra = stream.per_entry(seller_extra, C)
    listing_of = np.zeros(m.n_creators, np.int64)
    listing_of[posting] = posts.featured
    out = Exposures.blank(len(main) + len(extra), FOLLOW)
    showing = Showing(
        reach=rho,
        listing_of=listing_of,
        listing_promise=m.listing_promise,
        listing_price=m.listing_price,
        price_factor=m.price_factor,
        weights=Weights.of(scenario),
    )
    n = 0
    for awake, ties, ref_kind in (
        (
            Awake(rows=main, sellers=seller_main, draws=u_main),
            TieFields(user=f.user, trust=f.trust, memory=f.memory),
            REF_FOLLOW,
        ),
        (
            Awake(rows=extra, sellers=seller_extra, draws=u_extra),
            TieFields(user=f.buffer_user, trust=f.buffer_trust, memory=f.buffer_memory),
            REF_BUFFER,
        ),
    ):
        n = _seen(n, awake, ties, ref_kind, showing, out.kernel_fields())
    return out.head(n)


@numba.njit(cache=True, nogil=True)
def _awake_followers(posting, creator_node, indptr, follower, active_bits, rows, seller, counts):  # type: ignore[no-untyped-def]
    """The follow ties (in the main arrays) of today's posting creators whose follower is
    active (``active_bits``: :attr:`~laotie.engine.state.Today.active_bits`), in order: their
    positions into ``rows`` and posting sellers into ``seller``, and how many each posting
    seller has into ``counts`` (zeros on entry; a ``np.bincount`` of ``seller`` took 1.7 ms
    of a whole city's day); returns how many."""
    # Unsigned indices: numba checks a signed index for wraparound at every access, which
    # took more than half of this loop's instructions (6.7 against 2.4 ms, a day-45 capture).
    n = np.uint64(0)
    one = np.uint64(1)
    for p in range(len(posting)):
        posted = posting[p]
        creator = creator_node[posted]
        start = n
        for row in range(np.uint64(indptr[creator]), np.uint64(indptr[creator + 1])):
            # Written whether or not the follower is active, and counted only if so: a
            # branch on ``active`` (about one follower in four) is mispredicted so often that
            # it cost half again as much (measured on the whole city).
            rows[n] = row
            seller[n] = posted
            node = np.uint64(follower[row])
            n += (active_bits[node >> np.uint64(6)] >> (node & np.uint64(63))) & one
        counts[posted] += np.int64(n - start)
    return np.int64(n)


@numba.njit(cache=True, nogil=True)
def _awake_in_buffer(creators, buffer_creator, buffer_user, active_bits, marks, rows):  # type: ignore[no-untyped-def]
    """The buffer's ties (made during the run) of the posting ``creators`` (nodes) whose
    follower is active (``active_bits``), in order: their positions into ``rows``; returns
    how many.
    ``marks``: one zero byte per node, zero again on return (a set of the creators for the
    day; ``np.isin`` with a table allocated and filled one of the nodes' range each call,
    0.08 ms of a 5 % day's 3.5)."""
    for c in creators:
        marks[c] = 1
    n = 0
    for k in range(len(buffer_creator)):
        rows[n] = k
        node = buffer_user[k]
        awake = (active_bits[node >> 6] >> np.uint64(node & 63)) & np.uint64(1)
        n += marks[buffer_creator[k]] & np.uint8(awake)
    for c in creators:
        marks[c] = 0
    return n


@numba.njit(cache=True, nogil=True)
def _seen(n, awake, ties, ref_kind, showing, out):  # type: ignore[no-untyped-def]
    """Write the exposures of the ``awake`` ties (:class:`Awake`, of ``ties``) whose draw
    is below their seller's reach into ``out`` from row ``n``; returns the next row.

    Two passes: the first keeps the ties that see the post, moved to the front of
    ``awake.rows`` and ``awake.sellers`` (overwritten: they are the day's working arrays);
    the second writes them block by block, each block's tie fields and viewers' price
    factors asked for first (:func:`~laotie.engine.prefetch.prefetch`; 9.9 against 6.2 ms on
    the whole city in a side-by-side measure, caches cleared before each)."""
    # The structures' arrays, read once (inside the loop each read costs a reference count).
    rows, sellers, draws = awake.rows, awake.sellers, awake.draws
    tie_user, tie_trust, tie_memory = ties.user, ties.trust, ties.memory
    reach, listing_of, weights = showing.reach, showing.listing_of, showing.weights
    promise, price, price_factor = (
        showing.listing_promise,
        showing.listing_price,
        showing.price_factor,
    )
    k = 0
    for i in range(len(rows)):
        # Written whether or not the post is seen (no branch to mispredict).
        seller = sellers[i]
        rows[k] = rows[i]
        sellers[k] = seller
        k += draws[i] < reach[seller]
    for block in range(0, k, PREFETCH_BLOCK):
        end = min(block + PREFETCH_BLOCK, k)
        for i in range(block, end):
            prefetch(tie_user, rows[i])
            prefetch(tie_trust, rows[i])
            prefetch(tie_memory, rows[i])
        for i in range(block, end):
            prefetch(price_factor, tie_user[rows[i]])
        for i in range(block, end):
            seller = sellers[i]
            row = rows[i]
            viewer = tie_user[row]
            listing = listing_of[seller]
            trust, memory = tie_trust[row], tie_memory[row]
            quality = promise[listing]
            u = utility(weights, trust, quality, price_factor[viewer], price[listing], memory)
            write_exposure(
                out, n, viewer, listing, trust, memory, quality, ref_kind, row, seller, u
            )
            n += 1
    return n
