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
    new_memory = np.where(orders.satisfied, 1, -1).astype(np.int8)
    f = m.follows
    for kind, trust_arr, memory_arr in (
        (REF_SOCIAL, m.listeners.trust, m.listeners.memory),
        (REF_FOLLOW, f.trust, f.memory),
        (REF_BUFFER, f.buffer_trust, f.buffer_memory),
    ):
        at = last_per_key(np.flatnonzero(b.ref_kind == kind), b.ref)
        trust_arr[b.ref[at]] = new_trust[at]
        memory_arr[b.ref[at]] = new_memory[at]
    store = np.flatnonzero(b.ref_kind == REF_STOREFRONT)
    at = last_per_key(store, b.user)
    m.storefront_trust[b.user[at]] = new_trust[at]
    pair = b.ref.astype(np.int64) * m.n_storefronts + b.source
    at = last_per_key(store, pair)
    m.storefront_memory[b.ref[at], b.source[at] % m.layout.storefronts] = new_memory[at]
    m.has_storefront_memory[b.ref[at]] = True


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
    np.add.at(L.spent, b.user, value)
    # Among the orders of buyers who never ordered (few, after the first days), the first of
    # each buyer.
    new = np.flatnonzero(~L.ever_ordered[b.user])
    _, first = np.unique(b.user[new], return_index=True)
    orders.first = np.zeros(len(orders), bool)
    orders.first[new[first]] = True
    L.ever_ordered[b.user] = True
    seller = m.listing_seller[b.listing]
    L.seller_gmv += np.bincount(seller, weights=value, minlength=m.n_sellers)
    np.add.at(L.listing_orders, b.listing, 1)
    by_creator = seller < m.n_creators
    L.creator_income += scenario.creators.commission * np.bincount(
        seller[by_creator], weights=value[by_creator], minlength=m.n_creators
    )
    producer = m.product_producer[m.listing_product[b.listing]]
    made = producer >= 0
    L.producer_income += scenario.producers.income_share * np.bincount(
        producer[made], weights=value[made], minlength=m.n_producers
    )
    if made.any():
        L.producer_orders += np.bincount(producer[made], minlength=m.n_producers)
        new = L.producer_pairs.new(producer[made].astype(np.int64) * m.n_nodes + b.user[made])
        L.producer_buyers += np.bincount(new // m.n_nodes, minlength=m.n_producers)
    count_customers(seller, b.user, m.n_nodes, L)
    family = np.where(b.channel == STOREFRONT, 2, 1).astype(np.int8)
    np.bitwise_or.at(L.month_flags, b.user, family)


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
