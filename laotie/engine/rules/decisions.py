"""Decisions (docs/model.md 3.5, "Decisions"): the funnel, the purchase logit, baskets and
budgets.

An exposure first gets the viewer's attention (a storefront impression is clicked through to
the product page with probability ``storefronts.click_prob``, drawn with the impressions by
:mod:`~laotie.engine.rules.storefront`; a creator's post is entered with probability
``creators.enter_prob``; a heard recommendation always). Every exposure ``e`` of
user ``i`` to product ``p`` has the utility

    u = intercept + trust_weight · T + quality_weight · (Q - 0.5)
        - price_weight · ψ_i · price_p / (B_i / 30) + repeat_weight · M

and a clicked one becomes a candidate order with probability ``σ(u + α_i)``, with
``σ(x) = 1 / (1 + exp(-x))`` and ``α_i ~ N(0, population.propensity_dispersion)`` the
user's purchase propensity (one uniform ``v`` decides both stages: clicked if ``v < c``, a
candidate if ``v / c < σ(u + α_i)``).
Its basket has
``1 + Poisson(basket_extra_items · (1 + basket_trust_effect · T))`` items. Today's candidates
are put in a uniformly random order; each user's are accepted while their running total
fits the budget left this month, and the first that does not fit and all later ones are
blocked. Without repeat purchases a user who ever ordered cannot order again, and only the
first candidate of their first day counts.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from ...metrics import CHANNELS, DISCOVERY, FOLLOW
from ...scenario import Scenario
from ..exposures import Exposures, Orders
from ..lockstep import quotient
from ..market import Market
from ..sampling import poisson
from ..state import Ledger
from ..streams import Stream

__all__ = [
    "Candidates",
    "Weights",
    "attention",
    "budgets",
    "candidates",
    "decide",
    "ranked",
    "utility",
]


class Weights(NamedTuple):
    """The logit's weights as the compiled :func:`utility` takes them: the intercept, trust
    and quality weights and the quality's midpoint 0.5 as float32 (summed in float32 with
    float32 trust and quality), the repeat weight as float64. The price term comes from the
    user's price factor ``price_weight · 30 · ψ_i / B_i`` (``Market.price_factor``)."""

    intercept: np.float32
    trust_weight: np.float32
    quality_weight: np.float32
    half: np.float32
    repeat_weight: float

    @classmethod
    def of(cls, scenario: Scenario) -> Weights:
        """The weights of ``scenario.decision``."""
        d = scenario.decision
        return cls(
            intercept=np.float32(d.intercept),
            trust_weight=np.float32(d.trust_weight),
            quality_weight=np.float32(d.quality_weight),
            half=np.float32(0.5),
            repeat_weight=float(d.repeat_weight),
        )


@numba.njit(cache=True, nogil=True, inline="always")
def utility(weights, trust, quality, factor, price, memory):  # type: ignore[no-untyped-def]
    """The utility ``u`` of one exposure: ``weights`` (:class:`Weights`), the trust ``T``
    and perceived quality ``Q`` (float32), the user's price factor, the listing's price and
    the memory ``M``. The first terms are summed in float32, the price and repeat terms in
    float64."""
    first = (
        weights.intercept
        + weights.trust_weight * trust
        + weights.quality_weight * (quality - weights.half)
    )
    return (np.float64(first) - factor * price) + weights.repeat_weight * np.float64(memory)


@numba.njit(cache=True, nogil=True)
def utilities(weights, user, listing, trust, quality, memory, price_factor, listing_price, out):  # type: ignore[no-untyped-def]
    """:func:`utility` of every exposure, into ``out``."""
    for i in range(len(user)):
        out[i] = utility(
            weights,
            trust[i],
            quality[i],
            price_factor[user[i]],
            listing_price[listing[i]],
            memory[i],
        )


def attention(scenario: Scenario, channel: int) -> float:
    """The funnel's first stage of ``channel``: the probability that an exposure is entered
    (follow, discovery); 1 for word of mouth. Storefront impressions come clicked (their
    clicks are drawn with them, :func:`laotie.engine.rules.storefront.clicks`, and their
    exposures carry ``attention`` 1)."""
    if channel in (FOLLOW, DISCOVERY):
        return float(scenario.creators.enter_prob)
    return 1.0


SIXTH = 1.0 / 6.0
"""The cubic term's coefficient of :func:`candidates`' bound on the purchase probability."""


@numba.njit(cache=True, nogil=True)
def candidates(draws, utility, attention, user, nodes, clicks, out):  # type: ignore[no-untyped-def]
    """The exposures clicked (draw below ``attention``) and whose draw divided by
    ``attention`` is below their purchase probability ``σ(u)``: their indices, in order,
    into ``out``; returns how many, and adds the clicks of each replication (of ``user``,
    stacked ids) to ``clicks``. The probability is ``1 / (1 + exp(-u))`` with libm's
    ``exp``, the bits of ``scipy.special.expit`` (tested, extremes and NaN included). With
    ``attention`` 1 the draws are used as they are.

    Most draws are refused without ``exp``: with ``y = -x``, exp(y) >= 1 + y + y²/2 + y³/6
    for every y (Taylor's remainder, e^ξ y⁴/24, is not negative), so for x < 1 the
    probability is at most 1 / (2 + y + y²/2 + y³/6) (the denominator is above 1 there), and
    a draw at least that (with a margin of 1e-9, far above the rounding of either side) is not
    below the probability. (Of a whole city's day-40 draws, 569,117, the first-order bound
    1 / (2 - x) sent 74,967 to ``exp`` and this one 12,785: the kernel 3.1 against 2.4-2.6
    ms.)"""
    inverse = 1.0 / nodes
    divide = attention < 1.0
    n = 0
    # The clicks of a run of exposures of one replication, counted in a register.
    r, low, high, run = -1, 0, 0, 0
    for i in range(len(draws)):
        node = user[i]
        if node < low or node >= high:
            if r >= 0:
                clicks[r] += run
            r = quotient(node, nodes, inverse)
            low, high, run = r * nodes, (r + 1) * nodes, 0
        x = utility[i]
        draw = draws[i]
        run += draw < attention
        if divide:
            draw = draw / attention
        out[n] = i
        y = -x
        if x < 1.0 and draw * (2.0 + y * (1.0 + y * (0.5 + y * SIXTH))) >= 1.000000001:
            continue
        n += draw < 1.0 / (1.0 + math.exp(-x))
    if r >= 0:
        clicks[r] += run
    return n


def ranked(primary: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """``np.lexsort((rank, primary))``: the indices sorted by ``primary`` (integers), then
    by ``rank``, then by position, the same indices by two quicksorts instead of lexsort's
    stable sorts (0.13 against 0.47 ms for a whole city's 4,500 candidates): each entry's
    place in the order of ``rank`` (ties by position), then a sort of the keys ``primary · n
    + place``, all distinct. Ranks are sorted stably only if two are equal. Anything else
    falls back to lexsort: ``primary`` not of integers or out of the keys' range (negative,
    or too large for int64 keys), ``rank`` with a NaN (NaNs are not equal to each other)."""
    n = len(rank)
    if n == 0:
        return np.zeros(0, np.intp)
    primary = np.asarray(primary)
    if (
        primary.dtype.kind not in "iu"
        or int(primary.min()) < 0
        or (int(primary.max()) + 1) * n >= 2**63
        or np.isnan(rank).any()
    ):
        return np.lexsort((rank, primary))
    by_rank = np.argsort(rank)
    in_order = rank[by_rank]
    if np.any(in_order[1:] == in_order[:-1]):
        by_rank = np.argsort(rank, kind="stable")
    place = np.empty(n, np.int64)
    place[by_rank] = np.arange(n)
    return np.argsort(primary.astype(np.int64) * n + place)


@numba.njit(cache=True, nogil=True)
def budgets(  # type: ignore[no-untyped-def]
    order, user, value, budget, spent, ever_ordered, repeat_purchases, nodes, accept, blocked
):
    """Which candidate orders the buyers' budgets accept and block: ``order`` sorts them by
    buyer and the day's rank; with repeat purchases each buyer's running total (the
    replication's cumulative sum less the sum before the buyer's first candidate) must fit
    the budget left, ``budget - spent``; without, only a buyer's first candidate counts, if
    the buyer never ordered. ``accept`` and ``blocked`` are indexed like ``user`` (zeros on
    entry)."""
    cumulative = 0.0
    before = 0.0
    replication = -1
    previous = -1
    for j in range(len(order)):
        i = order[j]
        buyer = user[i]
        if buyer // nodes != replication:
            replication = buyer // nodes
            cumulative = 0.0
        first = buyer != previous
        previous = buyer
        room = budget[buyer] - spent[buyer] + 1e-9
        if repeat_purchases:
            if first:
                before = cumulative
            cumulative = cumulative + value[i]
            fits = cumulative - before <= room
            accept[i] = fits
            blocked[i] = not fits
        elif first and not ever_ordered[buyer]:
            fits = value[i] <= room
            accept[i] = fits
            blocked[i] = not fits


class Candidates:
    """The day's candidate orders, found part by part (one channel's exposures a part) in
    the order of the parts' concatenation, then decided (:meth:`decide`).

    Each replication draws a coin per exposure in that order, so a part may be added as
    soon as it and the parts before it are built: the engine adds the follow and discovery
    exposures in its own thread while the second builds the storefront's."""

    def __init__(self, market: Market, stream: Stream, scenario: Scenario) -> None:
        self.market, self.stream, self.scenario = market, stream, scenario
        self.weights = Weights.of(scenario)
        # Clicks per channel and replication.
        self.clicks = np.zeros((len(CHANNELS), market.replications), np.int64)
        self.exposures: list[Exposures] = []
        self._chosen: list[Exposures] = []

    def add(self, e: Exposures) -> None:
        """The next part: a coin per exposure, its utility if a kernel did not compute it,
        and the exposures that become candidates."""
        m, scenario = self.market, self.scenario
        nodes = m.layout.nodes
        draws = self.stream.per_entry(e.user, nodes)
        if e.utility is None:
            e.utility = np.empty(len(e))
            utilities(
                self.weights,
                e.user,
                e.listing,
                e.trust,
                e.quality,
                e.memory,
                m.price_factor,
                m.listing_price,
                e.utility,
            )
        chosen = np.empty(len(e), np.int64)
        channel = int(e.channel[0]) if len(e) else 0
        stage = attention(scenario, channel) if e.attention is None else e.attention
        # The buyer's propensity α_i shifts the purchase logit (not the choice among options,
        # which it cannot change).
        u = e.utility
        if scenario.population.propensity_dispersion > 0:
            u = u + m.propensity[e.user]
        n = candidates(draws, u, stage, e.user, nodes, self.clicks[channel], chosen)
        self.exposures.append(e)
        self._chosen.append(e.take(chosen[:n]))

    def decide(self, ledger: Ledger) -> tuple[Orders, np.ndarray, np.ndarray]:
        """Today's accepted orders, the candidates blocked by budgets and the clicks
        (replications x channels each), with a basket and a rank (the day's random order)
        drawn per candidate, each replication's in the order of the parts."""
        m, stream = self.market, self.stream
        R = m.replications
        nodes = m.layout.nodes
        k = len(CHANNELS)
        c = Exposures.concat(self._chosen)
        replication = c.user // nodes
        d = self.scenario.decision
        lam = d.basket_extra_items * (1 + d.basket_trust_effect * c.trust)
        items = 1 + poisson(lam, stream.per_entry(replication))
        value = items * m.listing_price[c.listing]
        # The day's random order of each replication's candidate orders: by uniform keys.
        rank = stream.per_entry(replication)
        order = ranked(c.user, rank)
        accept = np.zeros(len(c), bool)
        blocked = np.zeros(len(c), bool)
        budgets(
            order,
            c.user,
            value,
            m.budget,
            ledger.spent,
            ledger.ever_ordered,
            self.scenario.population.repeat_purchases,
            nodes,
            accept,
            blocked,
        )
        blocked_counts = np.bincount(
            replication[blocked] * k + c.channel[blocked], minlength=R * k
        ).reshape(R, k)
        # Accepted orders in each replication's random order of the day.
        keep = np.flatnonzero(accept)
        keep = keep[ranked(replication[keep], rank[keep])]
        orders = Orders(exposures=c.take(keep), items=items[keep], value=value[keep])
        return orders, blocked_counts, self.clicks.T


def decide(
    parts: list[Exposures],
    market: Market,
    ledger: Ledger,
    stream: Stream,
    scenario: Scenario,
) -> tuple[Orders, np.ndarray, np.ndarray]:
    """Today's accepted orders, the candidates blocked by budgets and the clicks
    (replications x channels each), among the exposures of ``parts`` (the channels'
    exposures, one channel per part, one after the other; a kernel may have computed their
    utilities): :class:`Candidates` of every part in turn, decided.

    Draws, each replication's in the order of the parts' concatenation: a coin per exposure,
    a basket per candidate, a rank per candidate (the day's random order)."""
    found = Candidates(market, stream, scenario)
    for e in parts:
        found.add(e)
    return found.decide(ledger)
