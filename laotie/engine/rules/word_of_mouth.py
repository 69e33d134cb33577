"""Word of mouth (口碑; docs/model.md 3.5, "Word of mouth").

Every satisfied order placed on days ``t - days … t - 1`` is a recommendation by its buyer
``j`` of product ``p``, sold by seller ``v``, with the buyer's experienced quality ``x``. For
each recommendation and each active user ``i`` with a local or city tie ``i → j`` (``i``
trusts ``j``), ``i`` receives an exposure with probability ``prob`` (``prob · w_ij`` with
``trust_scaled``), independently: ``T =
w_ij``, ``M = m_ij``, ``Q = min(1, max(0, x))``; its order goes to seller ``v``.

Warnings (差评): every disappointing order of the same days is a warning by its buyer about the
seller, heard the same way (with the trust at the start of the day) with ``warn_prob`` instead
of ``prob``; at the end of the day each warning heard lowers the listener's trust in the
seller: a followed creator's tie trust becomes ``w_ic · (1 - trust_loss · w_ij)``, a
storefront's memory becomes -1.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ...metrics import WOM
from ...scenario import WordOfMouth
from ..exposures import REF_SOCIAL, Exposures, Orders
from ..lockstep import quotient
from ..market import Market
from ..prefetch import prefetch
from ..state import Today
from ..streams import Stream
from ..ties import Listeners

__all__ = [
    "Recommendations",
    "apply_warnings",
    "hear_warnings",
    "said",
    "word_of_mouth_exposures",
]


class Recommendations:
    """The recommendations made so far that may still be heard: the satisfied orders'
    exposures (buyer in ``user``, experienced quality in ``quality``) and the day of each."""

    def __init__(self) -> None:
        self.exposures = Exposures.empty(WOM)
        self.day = np.zeros(0, np.int32)

    def add(self, exposures: Exposures, day: int) -> None:
        """Recommendations of ``day`` (heard from the next day on)."""
        self.exposures = Exposures.concat([self.exposures, exposures])
        self.day = np.concatenate([self.day, np.full(len(exposures), day, np.int32)])

    def live(self, day: int, days: int) -> Exposures:
        """The recommendations heard on ``day``: those of the last ``days`` days (older ones
        are forgotten)."""
        keep = self.day >= day - days
        if not keep.all():
            self.exposures = self.exposures.take(np.flatnonzero(keep))
            self.day = self.day[keep]
        return self.exposures

    def __len__(self) -> int:
        return len(self.day)


class Said(NamedTuple):
    """The live recommendations: recommender (stacked node), listing and experienced
    quality."""

    user: np.ndarray
    listing: np.ndarray
    quality: np.ndarray


class Heard(NamedTuple):
    """The listeners' ties (shared structure; trust and memory stacked per replication)."""

    indptr: np.ndarray
    listener: np.ndarray
    trust: np.ndarray
    memory: np.ndarray
    n_ties: int


def word_of_mouth_exposures(
    recommendations: Recommendations,
    day: int,
    market: Market,
    today: Today,
    stream: Stream,
    params: WordOfMouth,
    prob: float | None = None,
) -> Exposures:
    """Today's word-of-mouth exposures (without utilities): one uniform per listener tie of
    each live recommendation, in order, each replication's from its own stream. ``prob``
    (default ``params.prob``) is the chance of hearing one."""
    recs = recommendations.live(day, params.days)
    if len(recs) == 0:
        return Exposures.empty(WOM)
    lis: Listeners = market.listeners
    nodes = market.layout.nodes
    counts = np.zeros(market.replications, np.int64)
    _tie_counts(recs.user, lis.indptr, nodes, counts)
    u = stream.take(counts)
    first = np.cumsum(counts) - counts
    out = Exposures.blank(int(counts.sum()), WOM)
    heard = _heard(
        Said(user=recs.user, listing=recs.listing, quality=recs.quality),
        Heard(
            indptr=lis.indptr,
            listener=lis.listener,
            trust=lis.trust,
            memory=lis.memory,
            n_ties=lis.n_ties,
        ),
        nodes,
        today.active_bits,
        u,
        first,
        params.prob if prob is None else prob,
        params.trust_scaled,
        out.kernel_fields(),
    )
    return out.take(slice(0, heard))  # without utilities: the decisions compute them


def said(orders: Orders, satisfied: bool) -> Exposures:
    """What today's buyers say from tomorrow: the satisfied orders (recommendations) or the
    disappointing ones (warnings), with the buyer's experienced quality as ``quality``."""
    which = np.flatnonzero(orders.satisfied == satisfied)
    spoken = orders.exposures.take(which)
    spoken.quality = orders.experienced[which]
    return spoken


def hear_warnings(
    warnings: Recommendations,
    day: int,
    market: Market,
    today: Today,
    stream: Stream,
    params: WordOfMouth,
) -> Exposures:
    """Today's warnings heard, as word of mouth is heard (with ``warn_prob``, the trust at
    the start of the day): their listeners, listings and the listeners' trust in the
    warners."""
    if params.warn_prob == 0:
        return Exposures.empty(WOM)
    return word_of_mouth_exposures(
        warnings, day, market, today, stream, params, prob=params.warn_prob
    )


def apply_warnings(heard: Exposures, market: Market, trust_loss: float) -> None:
    """At the end of the day, the warnings ``heard`` lower the listeners' trust in the
    sellers: a followed creator's tie trust is multiplied by ``1 - trust_loss · w_ij`` per
    warning, a storefront's memory becomes -1."""
    if len(heard) == 0:
        return
    m = market
    seller = m.listing_seller[heard.listing]
    factor = (1 - trust_loss * heard.trust.astype(np.float64)).astype(np.float32)
    by_creator = np.flatnonzero(seller < m.n_creators)
    f = m.follows
    kind, index = f.find(heard.user[by_creator], m.creator_node[seller[by_creator]])
    for code, trust in ((1, f.trust), (2, f.buffer_trust)):
        mine = kind == code
        np.multiply.at(trust, index[mine], factor[by_creator][mine])
    by_store = np.flatnonzero(seller >= m.n_creators)
    who = m.user_index[heard.user[by_store]]
    m.storefront_memory.set(who, m.listing_store_column[heard.listing[by_store]], -1)
    m.has_storefront_memory[who] = True


@numba.njit(cache=True, nogil=True)
def _tie_counts(user, indptr, nodes, counts):  # type: ignore[no-untyped-def]
    """The listener ties of the recommenders ``user`` (stacked ids), added to their
    replications' ``counts``: the day's draws (one per tie)."""
    inverse = 1.0 / nodes
    for j in range(len(user)):
        node = user[j]
        r = quotient(node, nodes, inverse)
        local = node - r * nodes
        counts[r] += indptr[local + 1] - indptr[local]


RUNS_AHEAD = 4
"""Recommendations ahead whose first listener ties :func:`_heard` asks for (and four times as
many ahead, their rows' bounds): each recommender's ties are a run of their own in the
listeners' arrays of a whole city (1.2 GB), so that the first reads of every run would miss
every cache one after the other."""

RUN_LINES = 4
"""Cache lines (of 64 bytes) of listeners asked for at the start of a run (64 ties of int32;
the processor follows a longer run by itself)."""


@numba.njit(cache=True, nogil=True)
def _heard(said, ties, nodes, active_bits, u, first, prob, trust_scaled, out):  # type: ignore[no-untyped-def]
    """Each recommendation (:class:`Said`) reaches each listener tie (:class:`Heard`) of its
    recommender with one draw of the tie's replication (``u[first[r]]``, ``first[r]``
    advancing), and is heard if the listener is active (``active_bits``:
    :attr:`~laotie.engine.state.Today.active_bits`, a table that stays in the cache where the
    listeners' flags are read at random) and the draw below ``prob`` (times the tie's trust
    if ``trust_scaled``). Writes the heard ones into ``out`` (all fields but the utility;
    ``ref`` is the tie's position in the stacked listeners' arrays); returns how many.

    The rows' bounds of the recommendation :data:`RUNS_AHEAD` x 4 ahead and the first
    listeners of the one :data:`RUNS_AHEAD` ahead are asked for first
    (:func:`~laotie.engine.prefetch.prefetch`). On a capture of the whole city's day 40
    (132,000 listener ties, caches cleared before each): 2.0-2.7 ms, against 3.6-5.7 with a
    flag per node and no requests ahead, and 3.3-4.4 with the bits alone."""
    # The structures' arrays, read once (inside the loop each read costs a reference count).
    said_user, said_listing, said_quality = said.user, said.listing, said.quality
    indptr, listener, tie_trust, tie_memory = ties.indptr, ties.listener, ties.trust, ties.memory
    n_ties = ties.n_ties
    user, listing, trust, memory = out.user, out.listing, out.trust, out.memory
    quality, ref_kind, ref, source = out.quality, out.ref_kind, out.ref, out.source
    inverse = 1.0 / nodes
    zero, one = np.float32(0.0), np.float32(1.0)
    said_count = len(said_user)
    bounds_ahead = 4 * RUNS_AHEAD
    per_line = max(1, 64 // listener.itemsize)  # listeners in a cache line
    for j in range(min(bounds_ahead, said_count)):
        prefetch(indptr, said_user[j] % nodes)
    n = 0
    for j in range(said_count):
        if j + bounds_ahead < said_count:
            prefetch(indptr, said_user[j + bounds_ahead] % nodes)
        if j + RUNS_AHEAD < said_count:
            ahead = said_user[j + RUNS_AHEAD] % nodes
            start, end = indptr[ahead], indptr[ahead + 1]
            for row in range(start, min(end, start + per_line * RUN_LINES), per_line):
                prefetch(listener, row)
        node = said_user[j]
        r = quotient(node, nodes, inverse)
        local = node - r * nodes
        q = said_quality[j]
        q = zero if q < zero else (one if q > one else q)  # np.clip (NaN stays NaN)
        # The draws' position in a register (an increment of ``first[r]`` in memory waited
        # for the last one's store), and unsigned indices for the draws, the listeners and
        # the bits (numba checks a signed index for wraparound at every access; the tie's
        # ``position`` stays signed: uint64 plus int64 is int64 in numba).
        at = np.uint64(first[r])
        for row in range(np.uint64(indptr[local]), np.uint64(indptr[local + 1])):
            draw = u[at]
            at += np.uint64(1)
            hearer = np.uint64(listener[row] + r * nodes)
            word = active_bits[hearer >> np.uint64(6)]
            if not (word >> (hearer & np.uint64(63))) & np.uint64(1):
                continue
            position = row + r * n_ties
            if draw < (prob * tie_trust[position] if trust_scaled else prob):
                user[n] = hearer
                listing[n] = said_listing[j]
                trust[n] = tie_trust[position]
                memory[n] = tie_memory[position]
                quality[n] = q
                ref_kind[n] = REF_SOCIAL
                ref[n] = position
                source[n] = node
                n += 1
        first[r] = at
    return n
