"""Growth (docs/model.md 3.5, "Growth"): a platform that residents adopt through their ties
and leave, and that sellers enter when it pays. Off at the defaults.

At the set-up (:func:`start`) a share ``initial_users`` of the registered users use the
platform (creators always do) and a share ``initial_sellers`` of the selling creators, of
the storefronts (at least one storefront) and of the listed producers sell. At the start
of every month after the first (:func:`grow`), per replication, with its own generator:

1. every registered user who does not use the platform adopts it with probability
   ``1 − exp(−(external + social · f_i) / 12)``, ``f_i`` the trust-weighted share of the
   user's local and city ties to people who use the platform (``Σ_j w_ij a_j / Σ_j w_ij``,
   0 without ties), all read at the month's start; every user who does (creators apart)
   leaves with probability ``churn``;
2. every selling creator's and every storefront's income of the month that ended is set
   against its entry threshold: a creator not yet selling starts with probability
   ``entry_rate · max(0, 1 − creator_entry_income / Ī)``, ``Ī`` the mean commission income
   of the selling creators over the month; a closed storefront opens with probability
   ``entry_rate · max(0, 1 − storefront_entry_gmv / Ḡ)``, ``Ḡ`` the mean GMV of the open
   storefronts; a listed producer not yet online goes online with probability
   ``entry_rate · max(0, 1 − producer_entry_income / N̄)``, ``N̄`` the mean net income of
   the online producers over the month (their accounts, :mod:`.producers`, over its 30
   days). Nobody exits.

A user who does not use the platform is never active (the activity phase still draws their
uniform, so that the other users' draws do not depend on who adopted); a creator who does not
sell does not post; a closed storefront gets no ad impressions; the specialty of a producer
not online is on no seller's shelf (:meth:`~laotie.engine.market.Market.update_offer`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...sections import Growth, Producers
from ..market import Market
from ..state import Ledger
from .month import MONTH_DAYS
from .producers import accounts

__all__ = ["GrowthState", "active", "grow", "start"]


def active(g: Growth) -> bool:
    """Whether growth changes anything: someone starts outside, or users churn."""
    return g.initial_users < 1 or g.initial_sellers < 1 or g.churn > 0


@dataclass
class GrowthState:
    """What growth remembers from one month to the next: the cumulative income and GMV of
    the sellers and the producers' receipts and orders at the last month's start."""

    creator_income: np.ndarray
    seller_gmv: np.ndarray
    producer_income: np.ndarray
    producer_orders: np.ndarray


def start(market: Market, g: Growth, rngs: list[np.random.Generator]) -> GrowthState:
    """Draw who uses the platform and who sells on the first day (one uniform per user, per
    selling creator, per storefront and per producer of each replication, in that order)."""
    m = market
    U, C, S, J = m.layout.users, m.layout.creators, m.layout.storefronts, m.layout.producers
    for r, rng in enumerate(rngs):
        users = slice(r * U, (r + 1) * U)
        m.adopted[users] = rng.random(U) < g.initial_users
        creators = slice(r * C, (r + 1) * C)
        m.selling[creators] = rng.random(C) < g.initial_sellers
        open_ = rng.random(S) < g.initial_sellers
        if S and not open_.any():
            open_[int(np.argmin(rng.random(S)))] = True
        m.storefront_open[r * S : (r + 1) * S] = open_
        producers = slice(r * J, (r + 1) * J)
        m.producer_online[producers] = m.producer_listed[producers] & (
            rng.random(J) < g.initial_sellers
        )
    # Creators (government accounts too) use the platform they post on.
    m.adopted[m.user_creates] = True
    m.update_offer()
    return GrowthState(
        creator_income=np.zeros(m.n_creators),
        seller_gmv=np.zeros(m.n_sellers),
        producer_income=np.zeros(m.n_producers),
        producer_orders=np.zeros(m.n_producers, np.int64),
    )


def adoption_shares(market: Market, adopted_node: np.ndarray) -> np.ndarray:
    """Per stacked node, the trust-weighted share of its local and city ties to people who
    use the platform (0 without ties)."""
    lis = market.listeners
    n = market.layout.nodes
    R = market.replications
    trusted = np.repeat(np.arange(n, dtype=np.int32), np.diff(lis.indptr))
    share = np.zeros(R * n)
    for r in range(R):
        trust = lis.replication(r).trust.astype(np.float64)
        on = adopted_node[r * n : (r + 1) * n][trusted]
        num = np.bincount(lis.listener, weights=trust * on, minlength=n)
        den = np.bincount(lis.listener, weights=trust, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            share[r * n : (r + 1) * n] = np.where(den > 0, num / den, 0.0)
    return share


def grow(
    market: Market,
    ledger: Ledger,
    state: GrowthState,
    g: Growth,
    p: Producers,
    day: int,
    rngs: list[np.random.Generator],
) -> None:
    """One month's adoption, churn and entry at the start of ``day`` (the module
    docstring), per replication."""
    m = market
    U, C, S, J = m.layout.users, m.layout.creators, m.layout.storefronts, m.layout.producers
    adopted_node = np.zeros(m.n_nodes, bool)
    adopted_node[m.users] = m.adopted
    f = adoption_shares(m, adopted_node)[m.users]
    p_adopt = -np.expm1(-(g.external + g.social * f) / 12.0)
    is_creator = m.user_creates
    income = ledger.creator_income - state.creator_income
    gmv = ledger.seller_gmv - state.seller_gmv
    net = accounts(
        p,
        ledger.producer_income - state.producer_income,
        ledger.producer_orders - state.producer_orders,
        m.producer_offline,
        m.producer_online,
        MONTH_DAYS,
    )["net"]
    for r, rng in enumerate(rngs):
        users = slice(r * U, (r + 1) * U)
        u = rng.random(U)
        was = m.adopted[users]
        stays = ~(u < g.churn) | is_creator[users]
        m.adopted[users] = np.where(was, stays, u < p_adopt[users])
        creators = slice(r * C, (r + 1) * C)
        selling = m.selling[creators]
        mean = income[creators][selling].mean() if selling.any() else 0.0
        m.selling[creators] |= rng.random(C) < _entry(g, mean, g.creator_entry_income)
        stores = slice(m.n_creators + r * S, m.n_creators + (r + 1) * S)
        open_ = m.storefront_open[r * S : (r + 1) * S]
        mean = gmv[stores][open_].mean() if open_.any() else 0.0
        m.storefront_open[r * S : (r + 1) * S] |= rng.random(S) < _entry(
            g, mean, g.storefront_entry_gmv
        )
        producers = slice(r * J, (r + 1) * J)
        online = m.producer_online[producers]
        mean = net[producers][online].mean() if online.any() else 0.0
        enters = (
            m.producer_listed[producers]
            & ~online
            & (rng.random(J) < _entry(g, mean, g.producer_entry_income))
        )
        m.producer_online[producers] |= enters
        m.producer_since[producers][enters] = day
    m.update_offer()
    state.creator_income = ledger.creator_income.copy()
    state.seller_gmv = ledger.seller_gmv.copy()
    state.producer_income = ledger.producer_income.copy()
    state.producer_orders = ledger.producer_orders.copy()


def _entry(g: Growth, mean: float, threshold: float) -> float:
    """A non-seller's monthly probability of entering, given its kind's mean income."""
    if mean <= 0:
        return 0.0
    return g.entry_rate * max(0.0, 1.0 - threshold / mean)
