"""Outcomes (docs/model.md 3.5, "Outcomes" and "Money"): satisfaction, trust, memory,
follows, money and producers.

For each accepted order the buyer experiences quality ``x = q_p + ε``, ``ε ~ N(0, quality_noise)``,
and is satisfied when ``x ≥ Q - t``, with ``t`` the tolerance of the seller's type (creators,
storefronts): ``tolerance``, or with ``satisfaction = 'rate'`` the one solved at set-up
(:func:`tolerances`) so that the mean chance of disappointment over the type's listings is
``disappointment_creators`` or ``disappointment_storefronts``. The trust in the source becomes ``T +
trust_gain · (1 - T)`` if satisfied and ``T - trust_loss · T`` if not (it rises slowly and falls
fast); the memory with the source becomes +1 or -1. When a user orders several times through the
same source on one day, the last order in the day's random order sets the source's trust and memory.
A satisfied stranger from discovery follows the creator with probability ``follow_prob``. The
selling creator earns ``commission`` of an order's value and the producer of a specialty
``income_share``.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.special import ndtr

from ...metrics import DISCOVERY, STOREFRONT
from ...scenario import Outcomes, Scenario
from ..exposures import (
    REF_BUFFER,
    REF_FOLLOW,
    REF_NONE,
    REF_SOCIAL,
    REF_STOREFRONT,
    Exposures,
    Orders,
)
from ..market import Market
from ..memories import remember
from ..sampling import normal
from ..state import Ledger
from ..streams import Stream
from .word_of_mouth import said

__all__ = [
    "apply_outcomes",
    "count_customers",
    "last_per_key",
    "satisfaction",
    "solve_tolerance",
    "tolerances",
    "trust_after",
]


def trust_after(trust: np.ndarray, satisfied: np.ndarray, outcomes: Outcomes) -> np.ndarray:
    """The trust in the source after an order: ``T + trust_gain · (1 - T)`` if the buyer was
    satisfied, ``T - trust_loss · T`` if not (float32).

    Examples
    --------
    >>> from laotie.scenario import Outcomes
    >>> rules = Outcomes(trust_gain=0.1, trust_loss=0.5)
    >>> trust_after(np.float32([0.5, 0.5]), np.array([True, False]), rules).tolist()
    [0.550000011920929, 0.25]
    """
    o = outcomes
    return np.where(
        satisfied, trust + o.trust_gain * (1 - trust), trust - o.trust_loss * trust
    ).astype(np.float32)


def solve_tolerance(gaps: np.ndarray, noise: float, rate: float) -> float:
    """The tolerance ``t`` at which the mean chance of disappointment over listings whose
    promise exceeds the quality by ``gaps`` is ``rate``: the root of
    ``mean(Φ((gap - t) / noise)) = rate`` (with ``noise`` 0, the ``1 - rate`` quantile of
    the gaps). ``rate`` is in (0, 1).

    Examples
    --------
    >>> round(solve_tolerance(np.zeros(3), 0.1, 0.5), 12)
    0.0
    >>> t = solve_tolerance(np.array([0.0, 0.2]), 0.1, 0.3)
    >>> round(float(np.mean(ndtr((np.array([0.0, 0.2]) - t) / 0.1))), 9)
    0.3
    """
    from scipy.optimize import brentq  # here: importing it costs 0.2 s of `import laotie`

    gaps = np.asarray(gaps, np.float64)
    if noise == 0:
        return float(np.quantile(gaps, 1 - rate))
    low = float(gaps.min()) - 40 * noise - 1
    high = float(gaps.max()) + 40 * noise + 1
    return float(
        brentq(lambda t: float(np.mean(ndtr((gaps - t) / noise))) - rate, low, high, xtol=1e-12)
    )


def tolerances(market: Market, outcomes: Outcomes) -> np.ndarray:
    """The tolerance of each replication (rows) and seller type (columns: creators,
    storefronts; float32): ``outcomes.tolerance``, or under ``satisfaction = 'rate'`` the one solved
    from the type's listings at set-up (:func:`solve_tolerance`; the gap of a listing is its
    promise less the product's quality). A type without listings keeps ``tolerance``."""
    m = market
    R = m.replications
    # float32, as the promises it is subtracted from (the comparison is the same as with
    # the parameter given directly).
    table = np.full((R, 2), outcomes.tolerance, np.float32)
    if outcomes.satisfaction == "tolerance":
        return table
    gap = m.listing_promise.astype(np.float64) - m.product_known_quality[m.listing_product]
    store = m.listing_seller >= m.n_creators
    rates = (outcomes.disappointment_creators, outcomes.disappointment_storefronts)
    for r in range(R):
        mine = m.listing_replication == r
        for kind, rate in enumerate(rates):
            gaps = gap[mine & (store == bool(kind))]
            if len(gaps):
                table[r, kind] = solve_tolerance(gaps, outcomes.quality_noise, rate)
    return table


def satisfaction(
    orders: Orders, market: Market, stream: Stream, outcomes: Outcomes, tolerance: np.ndarray
) -> None:
    """Set each order's experienced quality ``x = q_p + quality_noise · Φ⁻¹(u)`` (one
    uniform per order) and whether ``x ≥ Q - t``, ``t`` the ``tolerance`` of the order's
    replication and seller type (:func:`tolerances`)."""
    b = orders.exposures
    m = market
    product = m.listing_product[b.listing]
    replication = b.user // m.layout.nodes
    experienced = m.product_quality[product] + outcomes.quality_noise * normal(
        stream.per_entry(replication)
    )
    kind = (m.listing_seller[b.listing] >= m.n_creators).astype(np.int64)
    orders.satisfied = experienced >= b.quality - tolerance[replication, kind]
    orders.experienced = experienced.astype(np.float32)


def update_ties(orders: Orders, market: Market, new_trust: np.ndarray) -> None:
    """Write the sources' new trust and memory (+1 satisfied, -1 not): each tie's (social,
    follow, buffered follow) and each user's storefront trust and per-storefront memory, the
    last order of the day through each source deciding."""
    b = orders.exposures
    m = market
    f = m.follows
    _write_sources(
        b.ref_kind,
        b.ref,
        b.user,
        b.listing,
        new_trust,
        orders.satisfied,
        m.listing_store_column,
        (m.listeners.trust, f.trust, f.buffer_trust),
        (m.listeners.memory, f.memory, f.buffer_memory),
        m.storefront_trust,
        m.storefront_memory.table,
        m.has_storefront_memory,
    )


@numba.njit(cache=True, nogil=True)
def _write_sources(  # type: ignore[no-untyped-def]
    ref_kind,
    ref,
    user,
    listing,
    new_trust,
    satisfied,
    column_of,
    tie_trust,
    tie_memory,
    storefront_trust,
    storefront_memory,
    has_storefront_memory,
):
    """:func:`update_ties`: the orders' writes in the day's order, so that the last order
    through each source stays (``tie_trust`` and ``tie_memory``: the social, follow and
    buffered follow ties' arrays, in the order of ``REF_SOCIAL``, ``REF_FOLLOW``,
    ``REF_BUFFER``; a storefront's memory in the column ``column_of`` gives the order's
    ``listing``, :attr:`~laotie.engine.market.Market.listing_store_column`). One pass instead
    of a sort for the last order of each source kind by kind (0.1 ms of a 5 % day's 3.5)."""
    for i in range(len(ref_kind)):
        kind = ref_kind[i]
        memory = np.int8(1) if satisfied[i] else np.int8(-1)
        if kind == REF_SOCIAL:
            tie_trust[0][ref[i]] = new_trust[i]
            tie_memory[0][ref[i]] = memory
        elif kind == REF_FOLLOW:
            tie_trust[1][ref[i]] = new_trust[i]
            tie_memory[1][ref[i]] = memory
        elif kind == REF_BUFFER:
            tie_trust[2][ref[i]] = new_trust[i]
            tie_memory[2][ref[i]] = memory
        elif kind == REF_STOREFRONT:
            storefront_trust[user[i]] = new_trust[i]
            remember(storefront_memory, ref[i], column_of[listing[i]], memory)
            has_storefront_memory[ref[i]] = True


def follow_strangers(
    orders: Orders, market: Market, stream: Stream, new_trust: np.ndarray, follow_prob: float
) -> np.ndarray:
    """Satisfied strangers from discovery follow the creator with probability
    ``follow_prob`` (one uniform each): the new tie starts at the updated trust and memory
    +1. Returns the new follows of each replication."""
    b = orders.exposures
    m = market
    replication = b.user // m.layout.nodes
    stranger = np.flatnonzero(
        (b.channel == DISCOVERY) & (b.ref_kind == REF_NONE) & orders.satisfied
    )
    follow = stranger[stream.per_entry(replication[stranger]) < follow_prob]
    creator = m.creator_node[b.source[follow]]
    _, first = np.unique(b.user[follow].astype(np.int64) * m.n_nodes + creator, return_index=True)
    follow = follow[np.sort(first)]
    m.follows.add(
        b.user[follow],
        m.creator_node[b.source[follow]],
        new_trust[follow],
        np.ones(len(follow), np.int8),
    )
    return np.bincount(replication[follow], minlength=m.replications)


def book(orders: Orders, market: Market, ledger: Ledger, scenario: Scenario) -> None:
    """The money and the record of who bought: spending, sellers' GMV, customers and repeat
    customers, orders per listing, creators' commission, producers' income, orders and
    distinct buyers, this month's buyers (flag 1 through trust channels, 2 through
    storefronts), and which orders are their buyer's first ever (``orders.first``: the
    first of the day's orders of a buyer who had never ordered)."""
    b = orders.exposures
    m = market
    L = ledger
    value = orders.value
    seller = m.listing_seller[b.listing]
    producer = m.product_producer[m.listing_product[b.listing]]
    orders.first = np.zeros(len(orders), bool)
    # The day's sums per seller, creator and producer, each from zero in the day's order, and
    # then added to the ledger (as np.bincount would give them).
    seller_gmv = np.zeros(m.n_sellers)
    creator_income = np.zeros(m.n_creators)
    producer_income = np.zeros(m.n_producers)
    producer_orders = np.zeros(m.n_producers, np.int64)
    _book(
        b.user,
        b.listing,
        b.channel,
        value,
        seller,
        producer,
        m.n_creators,
        L.spent,
        L.ever_ordered,
        orders.first,
        L.listing_orders,
        L.month_flags,
        seller_gmv,
        creator_income,
        producer_income,
        producer_orders,
    )
    L.seller_gmv += seller_gmv
    L.creator_income += scenario.creators.commission * creator_income
    L.producer_income += scenario.producers.income_share * producer_income
    made = producer >= 0
    if made.any():
        L.producer_orders += producer_orders
        new = L.producer_pairs.new(producer[made].astype(np.int64) * m.n_nodes + b.user[made])
        L.producer_buyers += np.bincount(new // m.n_nodes, minlength=m.n_producers)
    count_customers(seller, b.user, m.n_nodes, L)


@numba.njit(cache=True, nogil=True)
def _book(  # type: ignore[no-untyped-def]
    user,
    listing,
    channel,
    value,
    seller,
    producer,
    n_creators,
    spent,
    ever_ordered,
    first,
    listing_orders,
    month_flags,
    seller_gmv,
    creator_income,
    producer_income,
    producer_orders,
):
    """:func:`book`'s sums, order by order in the day's order: the buyer's spending, its
    first order ever (``first``, ``ever_ordered``), the listing's orders, this month's flags
    (1 a trust channel, 2 a storefront), and from zero the day's GMV per seller, value per
    creator and per producer (of a specialty) and orders per producer. One pass instead of
    a dozen numpy calls (0.1 ms of a 5 % day's 3.5)."""
    for i in range(len(user)):
        buyer = user[i]
        spent[buyer] += value[i]
        if not ever_ordered[buyer]:
            first[i] = True
            ever_ordered[buyer] = True
        listing_orders[listing[i]] += 1
        month_flags[buyer] |= np.int8(2) if channel[i] == STOREFRONT else np.int8(1)
        sold_by = seller[i]
        seller_gmv[sold_by] += value[i]
        if sold_by < n_creators:
            creator_income[sold_by] += value[i]
        made_by = producer[i]
        if made_by >= 0:
            producer_income[made_by] += value[i]
            producer_orders[made_by] += 1


def count_customers(seller: np.ndarray, user: np.ndarray, n_nodes: int, ledger: Ledger) -> None:
    """Count each seller's customers (the distinct users who ordered from it) and repeat
    customers (回头客: those who ordered from it at least twice, on one day or several)
    from the day's orders' sellers and buyers (stacked ids)."""
    L = ledger
    keys, orders = np.unique(seller.astype(np.int64) * n_nodes + user, return_counts=True)
    known = L.customer_pairs.contains(keys)
    L.customer_pairs.add(keys[~known])
    again = keys[(known | (orders > 1)) & ~L.repeat_pairs.contains(keys)]
    L.repeat_pairs.add(again)
    n_sellers = len(L.seller_customers)
    L.seller_customers += np.bincount(keys[~known] // n_nodes, minlength=n_sellers)
    L.seller_repeat_customers += np.bincount(again // n_nodes, minlength=n_sellers)


def apply_outcomes(
    orders: Orders,
    market: Market,
    ledger: Ledger,
    stream: Stream,
    scenario: Scenario,
    tolerance: np.ndarray,
) -> tuple[np.ndarray, Exposures]:
    """Apply today's orders: satisfaction (with the ``tolerance`` of :func:`tolerances`),
    trust and memory, new follows, money. Returns the new follows of each replication and
    the satisfied orders' exposures, with the experienced quality as ``quality``:
    tomorrow's recommendations."""
    satisfaction(orders, market, stream, scenario.outcomes, tolerance)
    b = orders.exposures
    new_trust = trust_after(b.trust, orders.satisfied, scenario.outcomes)
    update_ties(orders, market, new_trust)
    new_follows = follow_strangers(orders, market, stream, new_trust, scenario.creators.follow_prob)
    book(orders, market, ledger, scenario)
    return new_follows, said(orders, satisfied=True)


def last_per_key(index: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Of the entries ``index`` (in day order), the last one for each distinct ``key``."""
    if len(index) == 0:
        return index
    reversed_keys = key[index][::-1]
    _, first = np.unique(reversed_keys, return_index=True)
    return index[::-1][first]
