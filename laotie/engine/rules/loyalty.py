"""Loyalty and return visits (回头客; docs/model.md 3.5, "Loyalty").

A satisfied buyer becomes loyal to the seller (creator or storefront): after a satisfying
order the buyer's loyalty ``L`` to the seller gains ``gain`` of its distance to 1; without a
satisfying order it halves every ``half_life`` days; a disappointing order ends it. Each day,
an active user comes back to each seller they are loyal to with probability
``return_k · L`` (``k`` the seller's type): a **return visit** shows a listing drawn
uniformly from the seller's catalogue, with the utility of any exposure plus
``weight · L``. A creator's return visits count in the follow channel, a storefront's in the
storefront channel; a returning customer came on purpose, so a return visit has no click
stage.
"""

from __future__ import annotations

import numpy as np

from ...metrics import FOLLOW, STOREFRONT
from ...scenario import Loyalty, Scenario
from ..exposures import REF_BUFFER, REF_FOLLOW, REF_NONE, REF_STOREFRONT, Exposures, Orders
from ..market import Market
from ..state import Today
from ..streams import Stream
from .decisions import Weights, utilities
from .outcomes import last_per_key

__all__ = ["FORGET_BELOW", "Loyalties", "active", "return_visits", "update_loyalty"]

FORGET_BELOW = 1e-3
"""A loyalty that has decayed below this is forgotten (at the start of each month)."""


class Loyalties:
    """Every (buyer, seller) pair with a loyalty, sorted by key ``buyer * n_sellers +
    seller`` (stacked ids): the loyalty at the pair's last satisfying order and that day."""

    def __init__(self, n_sellers: int) -> None:
        self.n_sellers = n_sellers
        self.key = np.zeros(0, np.int64)
        self.level = np.zeros(0, np.float64)
        self.day = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.key)

    def current(
        self, day: int, half_life: float, at: np.ndarray | slice = slice(None)
    ) -> np.ndarray:
        """The loyalties of the pairs ``at`` on ``day``: ``L · 2^(-(day - last) / half_life)``."""
        return self.level[at] * np.exp2(-(day - self.day[at]) / half_life)

    def forget(self, day: int, half_life: float) -> None:
        """Drop the pairs whose loyalty has decayed below :data:`FORGET_BELOW`."""
        keep = self.current(day, half_life) >= FORGET_BELOW
        if not keep.all():
            self.key, self.level, self.day = self.key[keep], self.level[keep], self.day[keep]


def return_visits(
    loyalties: Loyalties,
    day: int,
    market: Market,
    today: Today,
    stream: Stream,
    scenario: Scenario,
) -> list[Exposures]:
    """Today's return visits, with their utilities: the creators' (follow channel) and the
    storefronts' (storefront channel), each with attention 1. Draws, each replication's in
    the order of its pairs: one uniform per pair whose buyer is active, then one per visit
    (the listing)."""
    params = scenario.loyalty
    m = market
    if len(loyalties) == 0 or not active(params):
        return []
    nodes = m.layout.nodes
    user = loyalties.key // loyalties.n_sellers
    awake = np.flatnonzero(today.is_active(user))
    level = loyalties.current(day, params.half_life, awake)
    seller = loyalties.key[awake] % loyalties.n_sellers
    store = seller >= m.n_creators
    chance = np.where(store, params.return_storefronts, params.return_creators) * level
    came = stream.per_entry(user[awake] // nodes) < chance
    user, seller, store, level = user[awake][came], seller[came], store[came], level[came]
    listing = m.shelf_draw(seller, stream.per_entry(user // nodes))
    parts = []
    for channel, mine in ((FOLLOW, ~store), (STOREFRONT, store)):
        k = np.flatnonzero(mine)
        if len(k) == 0:
            continue
        if channel == FOLLOW:
            exposures = _at_creators(m, user[k], seller[k], listing[k], scenario)
        else:
            exposures = _at_storefronts(m, user[k], seller[k], listing[k])
        exposures.utility = np.empty(len(k))
        utilities(
            Weights.of(scenario),
            exposures.user,
            exposures.listing,
            exposures.trust,
            exposures.quality,
            exposures.memory,
            m.price_factor,
            m.listing_price,
            exposures.utility,
        )
        exposures.utility += params.weight * level[k]
        exposures.attention = 1.0
        parts.append(exposures)
    return parts


def _at_creators(
    m: Market, user: np.ndarray, seller: np.ndarray, listing: np.ndarray, scenario: Scenario
) -> Exposures:
    """Return visits to creators: the trust and memory of the buyer's follow tie, or a
    stranger's trust and no memory."""
    f = m.follows
    kind, index = f.find(user, m.creator_node[seller])
    main, buffer = kind == 1, kind == 2
    trust = np.full(len(user), scenario.creators.stranger_trust, np.float32)
    memory = np.zeros(len(user), np.int8)
    trust[main], memory[main] = f.trust[index[main]], f.memory[index[main]]
    trust[buffer], memory[buffer] = f.buffer_trust[index[buffer]], f.buffer_memory[index[buffer]]
    return Exposures.make(
        len(user),
        FOLLOW,
        user=user,
        listing=listing,
        trust=trust,
        memory=memory,
        quality=m.listing_promise[listing],
        ref_kind=np.where(main, REF_FOLLOW, np.where(buffer, REF_BUFFER, REF_NONE)),
        ref=index,
        source=seller,
    )


def _at_storefronts(
    m: Market, user: np.ndarray, seller: np.ndarray, listing: np.ndarray
) -> Exposures:
    """Return visits to storefronts: the buyer's storefront trust and memory of the shop."""
    store = seller - m.n_creators
    index = m.user_index[user]
    return Exposures.make(
        len(user),
        STOREFRONT,
        user=user,
        listing=listing,
        trust=m.storefront_trust[user],
        memory=m.storefront_memory.get(index, m.listing_store_column[listing]),
        quality=m.listing_promise[listing],
        ref_kind=REF_STOREFRONT,
        ref=index,
        source=store,
    )


def update_loyalty(
    loyalties: Loyalties, orders: Orders, market: Market, day: int, params: Loyalty
) -> None:
    """After today's outcomes: the last order of the day from each seller decides the
    buyer's loyalty to it (a satisfying one: ``L + gain · (1 - L)`` with ``L`` today's
    decayed loyalty, 0 for a new pair; a disappointing one: none). A creator buying from
    themself makes no pair."""
    m = market
    b = orders.exposures
    if len(b) == 0:
        return
    seller = m.listing_seller[b.listing].astype(np.int64)
    own = np.zeros(len(b), bool)
    by_creator = np.flatnonzero(seller < m.n_creators)
    own[by_creator] = m.creator_node[seller[by_creator]] == b.user[by_creator]
    key = b.user.astype(np.int64) * loyalties.n_sellers + seller
    # The last order of each pair in the day's random order (sorted by pair).
    last = last_per_key(np.arange(len(key)), key)
    unique = key[last]
    happy = orders.satisfied[last] & ~own[last]
    at = np.searchsorted(loyalties.key, unique)
    present = at < len(loyalties.key)
    present[present] = loyalties.key[at[present]] == unique[present]
    now = np.zeros(len(unique))
    now[present] = loyalties.current(day, params.half_life, at[present])
    raised = now + params.gain * (1 - now)
    # Pairs kept and raised, pairs ended, pairs begun.
    kept = present & happy
    loyalties.level[at[kept]] = raised[kept]
    loyalties.day[at[kept]] = day
    ended = at[present & ~happy]
    begun = ~present & happy
    keep = np.ones(len(loyalties.key), bool)
    keep[ended] = False
    key, level, since = loyalties.key[keep], loyalties.level[keep], loyalties.day[keep]
    # The new pairs merged in (both sides sorted): one pass, no sort.
    where = np.searchsorted(key, unique[begun])
    loyalties.key = np.insert(key, where, unique[begun])
    loyalties.level = np.insert(level, where, raised[begun])
    loyalties.day = np.insert(since, where, day)


def active(params: Loyalty) -> bool:
    """Whether loyalty has any effect (some return visits); without, it is not tracked."""
    return params.return_creators > 0 or params.return_storefronts > 0
