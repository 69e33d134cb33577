"""Discovery (docs/model.md 3.5, "Discovery"): the platform shows posts to active users who
may not follow the creator.

``round(discovery_per_active · n_active)`` impressions per replication. Each draws a viewer
uniformly among today's active users and a posting creator with weight ``cq_c · (1 +
F_c)^h`` under ``head`` (``h = head_exponent``), or ``cq_c`` over posting local creators
only under ``inclusive`` (head KOLs get no discovery traffic); the product is the creator's
post of the day. An impression whose viewer is the creator is dropped. A viewer who follows
the creator has ``T = w_vc``, ``M = m_vc``, else ``T = stranger_trust``, ``M = 0``; ``Q`` is
the promise ``π_cp``.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ...metrics import DISCOVERY
from ...scenario import Scenario
from ..exposures import REF_BUFFER, REF_FOLLOW, REF_NONE, Exposures, write_exposure
from ..market import Market
from ..prefetch import prefetch
from ..sampling import cdf_table, choice_cdf, inverse_cdf
from ..state import Today
from ..streams import Stream
from ..ties import may_follow, search_tie
from .decisions import Weights, utility
from .posts import Posts

__all__ = ["DISCOVERY_TABLES_FROM", "discovery_exposures"]

DISCOVERY_TABLES_FROM = 256
"""Creator slots per replication from which the posts are searched through look-up tables
(below, the searches are short)."""

SEATS_AHEAD = 16
"""Impressions ahead whose seat's entries :func:`_picks` (the viewer among today's users)
and :func:`_fields` (its price factor and follow bits) ask for
(:func:`~laotie.engine.prefetch.prefetch`): the seats are drawn at random from the table of
the day's active users (1.3-2.7 MB an array on the whole city). Asked for 16 impressions
ahead in the same loop, they took the whole city's discovery from 8.1-8.8 to 7.4-7.5 ms a
day; a block's seats asked for at once, before the block is read, measured slower
(docs/performance.md)."""


class Viewed(NamedTuple):
    """What a discovery exposure shows: the posts (``posting``, ``featured``), creators'
    nodes, the follow ties' trust and memory (main arrays and buffer), the stranger's trust,
    the listings' promises and prices and the logit's weights."""

    posting: np.ndarray
    featured: np.ndarray
    creator_node: np.ndarray
    main_trust: np.ndarray
    main_memory: np.ndarray
    buffer_trust: np.ndarray
    buffer_memory: np.ndarray
    stranger_trust: np.float32
    listing_promise: np.ndarray
    listing_price: np.ndarray
    weights: Weights


def discovery_exposures(
    market: Market, today: Today, posts: Posts, stream: Stream, scenario: Scenario
) -> Exposures:
    """Today's discovery exposures, with their utilities. Draws, per replication: a seat
    (viewer) per impression, then a post per impression."""
    m = market
    p = scenario.policy
    posting = posts.posting
    if p.traffic == "head":
        followers = m.follows.count[m.creator_node[posting]].astype(np.float64)
        weight = m.content_quality[posting] * (1.0 + followers) ** p.head_exponent
        eligible = np.arange(len(posting))
    else:
        eligible = np.flatnonzero(~m.is_head[posting])
        weight = m.content_quality[posting[eligible]]
    # Per replication: its active users view its eligible posts, in proportion to their
    # weights; the weights sit in one row of creator slots per replication (zero for a
    # creator not posting), so that the CDFs are built at once for every replication and
    # each is that of a run of its replication alone.
    R, C = m.replications, m.layout.creators
    weights = np.zeros((R, C))
    weights.ravel()[posting[eligible]] = weight
    total = weights.sum(axis=1)
    n_active = today.counts
    counts = np.round(p.discovery_per_active * n_active).astype(np.int64)
    counts[total <= 0] = 0
    if not counts.any():
        return Exposures.empty(DISCOVERY)
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = choice_cdf(weights / total[:, None])
    post_of = np.full(R * C, -1, np.int64)
    post_of[posting] = np.arange(len(posting))
    # Each viewer is an active user of its replication (a seat of today's users).
    seat = np.repeat(today.bounds[:-1], counts) + (
        stream.take(counts) * np.repeat(n_active, counts)
    ).astype(np.int64)
    u = stream.take(counts)
    # Wide rows (a large city's creators) are searched through look-up tables, built for
    # the day: a search of thousands of slots takes a chain of dependent loads.
    if C >= DISCOVERY_TABLES_FROM:
        low, high = cdf_table(cdf)
    else:
        low = high = np.zeros((R, 0), np.int64)
    out = Exposures.blank(len(seat), DISCOVERY)
    slot = np.empty(len(u), np.int64)
    inverse_cdf(cdf, low, high, counts, u, slot)
    n = _picks(counts, slot, post_of, seat, today.users, posting, m.creator_node, out.user, out.ref)
    out = out.head(n)
    f = m.follows
    _fields(
        seat,
        today.seats.price_factor,
        today.seats.follow_bits,
        f.index(),
        Viewed(
            posting=posting,
            featured=posts.featured,
            creator_node=m.creator_node,
            main_trust=f.trust,
            main_memory=f.memory,
            buffer_trust=f.buffer_trust,
            buffer_memory=f.buffer_memory,
            stranger_trust=np.float32(scenario.creators.stranger_trust),
            listing_promise=m.listing_promise,
            listing_price=m.listing_price,
            weights=Weights.of(scenario),
        ),
        out.kernel_fields(),
    )
    return out


@numba.njit(cache=True, nogil=True)
def _picks(counts, slot, post_of, seat, active_users, posting, creator_node, user, pick):  # type: ignore[no-untyped-def]
    """The post each impression's viewer sees: each viewer into ``user``, its seat into
    ``seat`` (overwritten in order) and the post (an index into ``posting``) into ``pick``,
    skipping a creator's view of its own post; returns how many were written. ``slot``: the
    creator slot each impression's uniform chose (replication by replication), ``post_of``
    the post in each slot (an index into ``posting``, -1 for none; one row of slots per
    replication)."""
    width = len(post_of) // max(len(counts), 1)
    i = 0
    out = 0
    for r in range(len(counts)):
        for _ in range(counts[r]):
            if i + SEATS_AHEAD < len(seat):
                prefetch(active_users, seat[i + SEATS_AHEAD])
            chosen = post_of[r * width + slot[i]]
            at = seat[i]
            viewer = active_users[at]
            i += 1
            user[out] = viewer
            seat[out] = at
            pick[out] = chosen
            out += viewer != creator_node[posting[chosen]]
    return out


@numba.njit(cache=True, nogil=True)
def _fields(seat, price_factor, follow_bits, follows, viewed, out):  # type: ignore[no-untyped-def]
    """The fields of the exposures whose viewers are ``out.user`` (at ``seat`` of the seat
    table, whose ``price_factor`` and ``follow_bits`` are given) and posts ``out.ref``
    (indices into ``posting``; replaced by where the viewer's tie to the creator lives), in
    order. ``follows``: :class:`~laotie.engine.ties.FollowIndex`; ``viewed``:
    :class:`Viewed`. (The look-ups were once taken in the order of (creator, viewer), for
    the searches to walk the follow arrays in order; with the follow bits' three bits, 479
    of a whole-city day's 100,344 viewers are searched, and the sort and the scattered
    writes cost more than they saved: 7.1 + 1.4 ms against 5.5.)"""
    # The structures' arrays, read once (inside the loop each read costs a reference count).
    posting, featured, creator_node = viewed.posting, viewed.featured, viewed.creator_node
    main_trust, main_memory = viewed.main_trust, viewed.main_memory
    buffer_trust, buffer_memory = viewed.buffer_trust, viewed.buffer_memory
    promise, price, weights = viewed.listing_promise, viewed.listing_price, viewed.weights
    indptr, main_user, n = follows.indptr, follows.user, follows.n
    buffer_keys, buffer_order = follows.buffer_keys, follows.buffer_order
    user, ref = out.user, out.ref
    for i in range(len(user)):
        if i + SEATS_AHEAD < len(user):
            ahead = seat[i + SEATS_AHEAD]
            prefetch(price_factor, ahead)
            prefetch(follow_bits, ahead)
        at = seat[i]
        viewer = user[i]
        chosen = ref[i]
        seller = posting[chosen]
        creator = creator_node[seller]
        if may_follow(follow_bits[at], creator):
            kind, index = search_tie(
                indptr, main_user, n, buffer_keys, buffer_order, viewer, creator
            )
        else:
            kind, index = 0, -1
        if kind == 1:
            trust, memory, code = main_trust[index], main_memory[index], REF_FOLLOW
        elif kind == 2:
            trust, memory, code = buffer_trust[index], buffer_memory[index], REF_BUFFER
        else:
            trust, memory, code = viewed.stranger_trust, np.int8(0), REF_NONE
        listing = featured[chosen]
        quality = promise[listing]
        u = utility(weights, trust, quality, price_factor[at], price[listing], memory)
        write_exposure(out, i, viewer, listing, trust, memory, quality, code, index, seller, u)
