"""A test oracle: a deliberately plain implementation of the daily market rules.

This module re-implements docs/model.md sections 1.3, 3.1 (county-level units, creators outside
the city), 3.4, 3.5 (government information and growth included) and 3.6 with one Python object per
agent, dictionaries for ties and loops over agents and exposures. It is written from the
documentation only (never from ``laotie/engine``), for graphs of a few hundred residents, so
that the fast engine can be checked against it *in distribution* (it does not try to
reproduce the engine's random streams: for instance the funnel's click and the purchase logit
are two independent uniforms here, where the documentation decides both with one; the
probabilities are the same).

Where the documentation leaves a choice open, the reading taken here is marked in the code
with ``READING:`` and listed in :data:`READINGS`.

Examples
--------
>>> from laotie import graph
>>> from laotie.scenario import Scenario
>>> spec = graph.CitySpec(regions=(graph.Region("A", 120, 0.5),), local_degree=6,
...                       group_size=30, creator_share=0.1, min_followers=5)
>>> g = graph.city(spec, seed=1)
>>> daily = run_oracle(g, Scenario(city=spec), days=2, seed=3)
>>> list(daily.channel[:7])
['follow', 'discovery', 'wom', 'storefront', 'trust', 'traffic', 'all']
>>> market = Market(g, Scenario(city=spec), seed=3).run(31)
>>> market.monthly()[["month", "residents", "users"]].values.tolist()
[[0, 120, 67]]
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr

CHANNELS = ("follow", "discovery", "wom", "storefront")
FAMILIES = {
    "trust": ("follow", "discovery", "wom"),
    "traffic": ("storefront",),
    "all": CHANNELS,
}
ROWS = (*CHANNELS, *FAMILIES)
COLUMNS = (
    "day",
    "channel",
    "exposures",
    "exposed_users",
    "clicks",
    "orders",
    "buyers",
    "conversion",
    "buyer_conversion",
    "click_through",
    "click_conversion",
    "gmv",
    "order_value",
    "items_per_order",
    "repeat_share",
    "first_orders",
    "disappointed",
    "disappointed_share",
    "new_follows",
    "budget_blocked",
)
COUNTS = (
    "exposures",
    "exposed_users",
    "clicks",
    "orders",
    "buyers",
    "gmv",
    "first_orders",
    "disappointed",
    "new_follows",
    "budget_blocked",
)
MONTHLY_COLUMNS = (
    "month",
    "residents",
    "users",
    "dau",
    "mau",
    "buyers_all",
    "buyers_trust",
    "buyers_traffic",
    "adopted",
    "sellers",
    "producers_online",
    "gmv",
)
MONTH_DAYS = 30
PRODUCER_COLUMNS = (
    "producer",
    "node",
    "region",
    "poverty",
    "listed",
    "days_online",
    "orders",
    "buyers",
    "offline",
    "revenue",
    "fees",
    "logistics",
    "fixed",
    "displaced",
    "net",
)

# Graph codes (docs/model.md, section 1.2).
LOCAL, CITY, FOLLOW = 0, 1, 2
NONE, HEAD, LOCAL_CREATOR, GOV, OUTSIDE = 0, 1, 2, 3, 4
OUTSIDE_REGION = "Outside"  # the region of the creators outside the city (section 3.1, 9)
SELLING = (HEAD, LOCAL_CREATOR, OUTSIDE)  # creator kinds that sell (government accounts inform)
HEADS = (HEAD, OUTSIDE)  # heads for the traffic policy (section 3.1, 9: is_head)
INFORMATION_COLUMNS = (
    "message",
    "day",
    "posted_day",
    "share_informed",
    "share_rural",
    "share_urban",
    "share_users",
    "share_non_users",
    "by_feed",
    "by_hometown",
    "by_share",
    "by_offline",
    "baseline_share",
    "baseline_rural",
    "baseline_urban",
    "urban_rural_gap",
)
PATHS = ("feed", "hometown", "share", "offline")

READINGS: tuple[str, ...] = (
    "Prices (creators', storefronts', specialties') are LogNormal in the mean "
    "parametrisation of section 3.4: exp(N(ln price_mean - s^2/2, s)).",
    "A specialty is one product (one price, one true quality q ~ Beta(quality_mean, "
    "quality_concentration), the ordinary products' quality law), in the specialty category "
    "n_categories shared by all specialties. Each seller listing it has its own promise.",
    "Poor producers are drawn without replacement among rural residents when there are at "
    "least n_producers of them, otherwise among all residents (with replacement only if "
    "n_producers exceeds the number of residents). Users or not, creators or not; never a "
    "creator outside the city (not a resident).",
    "The creators who list a specialty are drawn uniformly without replacement from the pool "
    "of producers.recruit, `listings` of them (all of the pool if it is smaller, none if it "
    "is empty), producer by producer: `local`, the local creators (creator kind `local`, not "
    "head KOLs) of the producer's region; `rural`, those of them living in rural areas; "
    "`random`, every selling creator who lives in the city (head or local); `followers` "
    "draws nothing: the `listings` selling creators of the city with the most followers at "
    "set-up (ties by lower id), the same for every producer. The storefronts are `listings` "
    "storefronts drawn uniformly without replacement.",
    "A storefront shopper's comparison products are drawn from all storefront listings "
    "(storefront, product) of the category, the impression's own listing included.",
    "Trust updates use the exposure's T (the trust at decision time, i.e. the start of the "
    "day after training). Since every order through one source on one day has the same T, "
    "'updated once, by the last order' is the same as applying the orders in the day's "
    "random order.",
    "The source of a storefront order is the storefront: its memory m_is is set by the last "
    "order from that storefront; the user's single storefront trust tau_i is set by the "
    "last storefront order of the day (all storefronts).",
    "A word-of-mouth order updates only the tie to the recommender (w_ij, m_ij), never the "
    "trust in the seller (w_ic, tau_i, m_is); a wom order of a creator's product still "
    "earns that creator's commission.",
    "A discovery order by a viewer who does not follow the creator has no stored source; "
    "if satisfied it draws one follow with probability follow_prob per (viewer, creator) "
    "and day, decided by the last such order of the day.",
    "Ties are keyed by ordered pair and stored once (section 3.1, step 10): a new follow tie "
    "(training or discovery) from a user who already has a local or city tie to the creator "
    "replaces that tie (layer follow, new trust and memory), so that pair no longer carries "
    "word of mouth.",
    "repeat_share counts the orders whose exposure had M != 0.",
    "With repeat_purchases = false: candidates of a user who has ever ordered (an accepted "
    "order) are discarded, not counted as budget-blocked; otherwise only the user's first "
    "candidate in the day's random order is kept, if it fits the budget (counted as "
    "budget-blocked if it does not; the user's other candidates are discarded without "
    "counting). A user whose kept candidate was blocked has not ordered and may order later.",
    "'Within the budget left' means running total <= B_i - spent_i.",
    "round() is Python's round (half to even), as numpy's rint.",
    "Discovery has no impressions on a day with no eligible posting creator (or zero total "
    "weight); impressions whose viewer is the creator are dropped and not redrawn.",
    "Training happens before the monthly reset, activity and posts of its day; `followers` "
    "ranks creators by their current number of followers; `rural` draws among selling "
    "creators (head and local) living in rural areas; follower_gain draws among registered "
    "users. Every rule's pool holds only creators who live in the city (section 3.1, 9: "
    "nobody outside the city is trained).",
    "F-bar in the head policy is the mean current follower count over all selling creators, "
    "posting or not, creators outside the city included.",
    "Creators outside the city (creator kind `outside`, section 3.1, 9) sell as head KOLs do "
    "(authenticity, content quality and catalogue drawn as for every selling creator): under "
    "`inclusive` they are heads for the cap and get no discovery traffic, under `head` they "
    "are in F-bar and in discovery like any posting creator. They are not residents: not in "
    "the monthly frame's residents, not among the people information reaches or counts "
    "(feeds, baseline, sharing, shares, regions), never producers.",
    "The posting creator's featured product is drawn among its whole catalogue, specialties "
    "included; a creator posts whether or not it is active.",
    "new_follows is counted on the day of the order (discovery, trust and all rows).",
    "The funnel's click of a storefront exposure is drawn for the option kept after the "
    "comparison (比价); the comparison itself does not depend on the click. Since c is one "
    "number per channel, this is the same in distribution as clicking the impression first.",
    "Under satisfaction = 'rate', 'the type's listings' are the (seller, product) pairs of "
    "every seller of the type at set-up, specialties included (a product listed by several "
    "sellers counts once per seller), with their promises at set-up; t_k is solved once, "
    "after the producers' listings are added, and is not solved again after training.",
    "Under satisfaction = 'rate', t_k may be any real number: it is not clipped at 0 (a "
    "negative t_k, needed when rate_k exceeds the mean of Phi((pi_l - q_l) / "
    "quality_noise), disappoints a buyer whose experienced quality is slightly above the "
    "promise). A type without listings has no t_k (no order can need it).",
    "Under satisfaction = 'rate' with quality_noise = 0, 'the 1 - rate_k quantile of "
    "pi_l - q_l' is numpy.quantile's default (linear interpolation between order "
    "statistics).",
    "first_orders: an order is its buyer's first when the buyer had no accepted order on an "
    "earlier day nor earlier in the day's random order; a budget-blocked candidate is not an "
    "order. Under repeat_purchases = false every accepted order is a first order.",
    "The monthly frame: month m (numbered from 0) is days 30m ... 30m + 29 and is recorded "
    "after day 30m + 29's outcomes; only complete months appear. residents = the graph's "
    "residents (its nodes but the creators outside the city), users = its registered "
    "users; dau = the mean over the month's 30 days of the number of active users; a buyer "
    "through the trust (traffic) channels has an accepted order through follow, discovery or "
    "wom (storefront) in the month. adopted = the registered users who use the platform "
    "at the month's end (all of them without growth), sellers = the creators who sell "
    "(creators outside the city included) plus the open storefronts at its end (all of "
    "them without growth); gmv = the value of the month's accepted orders.",
    "products.catalogue = 'shared': the catalogue's products draw category, price and quality "
    "as separate products do (prices with products.price_mean and price_dispersion); a "
    "product listed by several sellers has one price and one true quality and a promise per "
    "seller. A storefront shopper's comparison pool holds one entry per storefront listing, "
    "so a product listed by two storefronts is compared twice as often. Specialties keep "
    "their own draws (priced with creators.price_dispersion, as section 3.4's producers "
    "bullet says, not products.price_dispersion) and are listed only by the recruited "
    "sellers.",
    "Warnings: every disappointing accepted order (any channel, word of mouth and return "
    "visits included) is one warning about its listing's seller, heard in the word-of-mouth "
    "phase by users active that day. w_ij, in the chance of hearing (trust_scaled) and in "
    "the factor 1 - trust_loss * w_ij, is the listener's trust in the warner at the start "
    "of the day. At the end of the day the factors multiply the tie's trust w_iv as the "
    "day's outcomes left it, if i follows v then (the day's new follows included); a "
    "warning about a storefront sets m_iv = -1 and leaves tau_i as it is.",
    "Loyalty is kept per (user, seller) (any channel's order from the seller counts, a word "
    "of mouth order for the recommended listing's seller). Today's loyalty "
    "L_last * 2^(-(t - t_last) / half_life) is the one used for the update, the chance of "
    "returning and the utility. On days 0, 30, 60, ... before activity, loyalties with "
    "today's value < 0.001 are dropped.",
    "A return visit to a creator the user does not follow (a local or city tie is not a "
    "follow) has T = stranger_trust, M = 0; its order updates no trust or memory and draws "
    "no follow (follow_prob is for discovery buyers). A storefront's return visit has no "
    "comparison (比价); its order updates m_is and tau_i as a storefront order does. Return "
    "visits count as clicks (c = 1) whatever the channel's c, do not depend on the "
    "creator's posting today, and a user may return to several sellers on one day.",
    "Producers' offline incomes o (RMB per day, section 3.4) are drawn, in producer order, from "
    "a Generator of their own (seeded with [seed, 1]), so that they change no other draw; "
    "o = offline_income when offline_dispersion = 0 (up to rounding), and 0 for all when "
    "offline_income = 0.",
    "Producers' accounts (section 3.5, 收支): G is the producer's receipts (income_share of the "
    "value of every accepted order of its specialty, any channel, word of mouth and return "
    "visits included) and n the number of those accepted orders (orders, not items). A "
    "specialty is 'listed' when at least one creator or storefront has it in its catalogue "
    "at set-up (a producer of a region without local creators under channel = 'creators' is "
    "not); only listed producers pay fixed_cost per day online (growth, below). T is the "
    "number of days run.",
    "County-level units (sections 3.1 and 3.6): a resident's unit is its graph region; a unit "
    "is a poverty county when the scenario's city declares a region of the same name with "
    "poverty = true (a graph region the scenario does not declare is not). Earners are the "
    "selling creators with commission income > 0 and the producers with receipts > 0, each "
    "counted in the unit it lives in; a creator's GMV is the value of the accepted orders "
    "whose seller it is (a word-of-mouth order of its listing included, as for its "
    "commission). poverty_earner_share (poverty_gmv_share) is NaN when there is no earner "
    "(no GMV). A creator outside the city lives in the unit Outside.",
    "Information (section 3.5): every draw of the submodel (the government accounts' content "
    "qualities included) comes from a Generator of its own (seeded with [seed, 2]), so that "
    "information changes no market draw; the documentation's hashed draws are independent "
    "per event, as these are. It runs after the day's outcomes (and warnings), on the "
    "day's active users; messages posted after the last day run never appear.",
    "Information: a government account does not know the message it posts; it learns it as "
    "any user does. The training gain applies on every day t >= training_day.",
    "Information feeds: an active user who does not know the message draws one uniform "
    "against p_city and, if not reached, a second against p_home of their hometown (0 for "
    "a hometown without government accounts).",
    "Information sharing on day t: the sharers are the people who learnt the message on day "
    "t - 1 (by any path; the baseline is no path). Each listener i with a local or city tie "
    "i -> j to a sharer j who does not know the message after today's feeds is reached in "
    "the app with probability share_prob * w_ij (if both are users) and offline with "
    "offline_prob * w_ij (if the tie is local), two independent draws per tie; reached in "
    "the app by some sharer it learns by `share`, else by `offline`. w_ij is the tie's trust "
    "as the market holds it at the end of the day's outcomes (a word-of-mouth order moves "
    "it). Sharing goes on after the post has left the feeds.",
    "Information tables: one row per message and day from its posting day to the last day "
    "run. Shares are over residents (rural, urban, users, non-users: residents of each "
    "kind); by_feed, by_hometown, by_share, by_offline are shares of the residents who know "
    "the message (NaN when nobody does); the baseline shares are of residents who learnt it "
    "from the baseline; urban_rural_gap = share_urban - share_rural. The per-region table "
    "has one row per message, day and region with residents (the Outside region of the "
    "creators outside the city has none and no row), the share of its residents who know "
    "the message.",
    "Growth (section 3.5): every growth draw comes from a Generator of its own (seeded with "
    "[seed, 3]): at set-up one uniform per registered user (in node order), then per selling "
    "creator (creators outside the city included), then per storefront, then per producer; "
    "at each month's growth step the same. The rules are applied whatever the settings: at "
    "the defaults (initial_users = initial_sellers = 1, churn = 0) everybody uses the platform and "
    "sells, and no other draw changes.",
    "Growth, set-up: 'creators always use the platform' covers every creator who is a "
    "registered user (head KOLs, local creators and government accounts); creators outside "
    "the city are not users. If no storefront drew open, one storefront drawn uniformly "
    "opens (rather than drawing again), so that at least one is open.",
    "Growth, who is meant by 'selling creators' elsewhere: the creators of a selling kind "
    "(head, local, outside), selling yet or not. F-bar of the head policy, the pools of "
    "training and of producers' recruitment, and the listings over which "
    "satisfaction = 'rate' solves t_k are those of section 3.4, unchanged by growth; only "
    "posts (and so follow and discovery exposures) need a creator who sells, and only "
    "ad impressions and price comparisons need an open storefront. Word of mouth and "
    "return visits go on from earlier orders as before (none reach a seller who never "
    "sold). A user who has left the platform is never active, so never exposed, but their "
    "recommendations and warnings of the last days are still heard (offline word of "
    "mouth). Information is unchanged: 'users' in its sharing rule are the registered "
    "users.",
    "Growth, each month from the second (days 30, 60, ..., after the month's reset and "
    "before activity): one draw per registered user; a user who did not use the platform at "
    "the step's start adopts with 1 - exp(-(external + social f_i) / 12), a user who did "
    "(not a creator) leaves with churn; f_i = sum_j w_ij a_j / sum_j w_ij over i's current "
    "local and city ties i -> j (the trust as the market holds it then), a_j = 1 for a "
    "registered user who used the platform at the step's start (before this month's "
    "adoption and churn: the update is synchronous), 0 for anybody else; f_i = 0 without "
    "such ties. A user who adopts this month does not churn in the same step.",
    "Growth, entry: I-bar is the commission income earned on the orders of the month that "
    "ended (days 30(m-1) ... 30m - 1) by the creators who sold in it (those selling at the "
    "step's start, zero-income ones included: 'mean commission income per selling "
    "creator'), divided by their number; G-bar the GMV of that month's orders from the "
    "storefronts open then, divided by their number (0 when there are none). A creator "
    "not selling starts with entry_rate * max(0, 1 - creator_entry_income / I-bar) (0 when "
    "I-bar = 0), a closed storefront opens with entry_rate * max(0, 1 - "
    "storefront_entry_gmv / G-bar) (0 when G-bar = 0); both means are taken before this "
    "step's entries.",
    "Growth, producers: at set-up a listed producer is online with probability "
    "initial_sellers (an unlisted one never is; its uniform is drawn all the same). N-bar "
    "is the mean, over the producers online at the step's start, of their net income from "
    "the orders of the month that ended, with the month's 30 days for the fixed cost and "
    "the displacement cap; a listed producer not online goes online with entry_rate * "
    "max(0, 1 - producer_entry_income / N-bar) (0 when N-bar <= 0). A specialty whose "
    "producer is not online is on no shelf: posts, ad impressions, price comparisons and "
    "return visits draw among the products on offer of the catalogue, in catalogue "
    "order. A producer's accounts run over its days online: T - since (since 0 without "
    "growth) for an online producer, 0 otherwise; only these days carry fixed_cost and "
    "cap the displacement.",
)


# ----------------------------------------------------------------------------- agents
@dataclass
class Product:
    id: int
    category: int
    price: float
    quality: float
    producer: int | None = None  # index into Market.producers, for a specialty


@dataclass
class User:
    id: int
    p_active: float
    budget: float
    psi: float
    tau: float  # trust in storefront sellers
    alpha: float = 0.0  # purchase propensity: an offset of the purchase logit
    spent: float = 0.0
    store_memory: dict[int, int] = field(default_factory=dict)  # storefront -> -1/0/+1
    has_ordered: bool = False


@dataclass
class Creator:
    id: int  # node id
    kind: int  # HEAD, LOCAL_CREATOR or OUTSIDE (a creator outside the city)
    authenticity: float
    content_quality: float
    catalogue: list[Product] = field(default_factory=list)
    promise: dict[int, float] = field(default_factory=dict)  # product id -> promise
    followers: set[int] = field(default_factory=set)
    income: float = 0.0


@dataclass
class Storefront:
    id: int
    authenticity: float
    catalogue: list[Product] = field(default_factory=list)
    promise: dict[int, float] = field(default_factory=dict)
    gmv: float = 0.0
    ad_budget: float = 1.0
    is_open: bool = True  # sells (growth: a closed storefront gets no impressions)


@dataclass
class Producer:
    id: int  # node id of the resident
    product: Product | None = None
    income: float = 0.0  # receipts G: income_share of its specialty's sales
    offline: float = 0.0  # offline income per day, before the platform (RMB)
    listed: bool = False  # some seller lists its specialty
    online: bool = True  # sells online (growth: a listed producer who entered)
    since: int = 0  # the day it went online
    orders: int = 0  # accepted orders of its specialty
    buyers: set[int] = field(default_factory=set)  # distinct buyers of its specialty


@dataclass
class Message:
    """A government message (section 3.5, Information): who knows it, how and since when."""

    id: int
    day: int  # posting day
    path: dict[int, str] = field(default_factory=dict)  # resident -> path it learnt it by
    learnt: dict[int, int] = field(default_factory=dict)  # resident -> day it learnt it
    baseline: set[int] = field(default_factory=set)  # residents the baseline reached


@dataclass
class Exposure:
    user: int
    channel: str
    product: Product
    seller: tuple[str, int]  # ("creator", node id) or ("store", storefront id)
    T: float
    M: int
    Q: float
    source: tuple  # ("tie", i, j) | ("stranger", i, c) | ("store", i, s) | ("none", i, c)
    clicked: bool = False
    loyalty: float = 0.0  # L_iv of a return visit (its utility adds weight * L_iv)
    returning: bool = False  # a return visit (回头客): no click stage


@dataclass
class Order:
    day: int
    user: int
    channel: str
    product: Product
    seller: tuple[str, int]
    items: int
    value: float
    repeat: bool
    T: float
    Q: float
    source: tuple
    first: bool = False  # the buyer's first accepted order ever
    experienced: float = float("nan")
    satisfied: bool = False


# ----------------------------------------------------------------------------- market
class Market:
    """The whole market of one run, stepped one day at a time."""

    def __init__(
        self,
        graph: Any,
        scenario: Any,
        seed: int,
        trained: list[int] | None = None,
        operators: list[int] | None = None,
        seeds: list[int] | None = None,
        enrolled: list[int] | None = None,
    ) -> None:
        missing = unsupported(scenario)
        if missing:
            raise NotImplementedError(f"the oracle does not implement {', '.join(missing)}")
        self.g = graph
        self.s = scenario
        # READING: the rule 'targeted' trains the creators given (graph node ids), in the
        # order given (each one's new followers are drawn in that order)
        self.trained = list(trained or [])
        # READING: information's rule 'targeted' trains the government accounts of the regions
        # given (region indices); the rule 'all' every account
        self.operators = set(operators or [])
        # READING: the seeds (residents' node ids) learn every message on its posting day, by the
        # path 'seeded' (not one of PATHS), before the day's feeds; they share it the next day
        self.seeds = sorted(seeds or [])
        # READING: the producers a programme enrols (residents' node ids), in node order,
        # instead of n_producers drawn; their specialties, listings and offline incomes are
        # drawn as a drawn producer's (the engine keys them by node: the same distributions)
        self.enrolled = None if enrolled is None else sorted(enrolled)
        self.rng = np.random.default_rng(seed)
        # READING: the producers' offline incomes come from a stream of their own
        self.offline_rng = np.random.default_rng([seed, 1])
        self._uniforms: list[float] = []
        self.day = -1
        self.rows: list[dict[str, Any]] = []
        self.orders: list[Order] = []
        self.new_follow_log: list[tuple[int, int, int]] = []  # (day, user, creator)
        self.month_spent: dict[tuple[int, int], float] = {}  # (user, month) -> spent
        self.n_active: list[int] = []  # active users per day
        self.month_active: set[int] = set()  # users active on some day of this month
        self.month_buyers: dict[str, set[int]] = {row: set() for row in FAMILIES}
        self.months: list[dict[str, Any]] = []
        # READING: information draws from a Generator of its own (it changes no market draw)
        self.info_rng = np.random.default_rng([seed, 2])
        # READING: growth draws from a Generator of its own (it changes no other draw)
        self.growth_rng = np.random.default_rng([seed, 3])
        self._init_ties()
        self._init_market()
        self._init_information()
        self._init_growth()

    # -- random helpers (all from the run's own Generator) -------------------------------
    def beta(self, mean: float, conc: float) -> float:
        return float(self.rng.beta(mean * conc, (1.0 - mean) * conc))

    def lognormal(self, mean: float, sd: float) -> float:
        return float(math.exp(self.rng.normal(math.log(mean) - sd * sd / 2.0, sd)))

    def uniform(self) -> float:
        """A uniform on [0, 1), drawn from the Generator in blocks (one call per draw would
        cost most of the run)."""
        if not self._uniforms:
            self._uniforms = self.rng.random(4096).tolist()
        return self._uniforms.pop()

    def randint(self, n: int) -> int:
        """A choice among n: floor(u * n)."""
        return min(int(self.uniform() * n), n - 1)

    # -- initialisation -------------------------------------------------------------------
    def _init_ties(self) -> None:
        g = self.g
        self.n = g.n_nodes
        # the ties i -> j, row by row of the CSR matrix
        rows = np.repeat(np.arange(self.n), np.diff(g.indptr)).tolist()
        pairs = list(zip(rows, g.indices.tolist(), strict=True))
        self.trust: dict[tuple[int, int], float] = dict(zip(pairs, g.trust.tolist(), strict=True))
        self.memory: dict[tuple[int, int], int] = dict.fromkeys(pairs, 0)
        self.layer: dict[tuple[int, int], int] = dict(zip(pairs, g.layer.tolist(), strict=True))
        self.trusted_by: dict[int, set[int]] = {}  # j -> {i : local/city tie i -> j}
        self.trusts: dict[int, set[int]] = {}  # i -> {j : local/city tie i -> j}
        self.followers_of: dict[int, set[int]] = {}
        for (i, j), code in self.layer.items():
            if code == FOLLOW:
                self.followers_of.setdefault(j, set()).add(i)
            else:
                self.trusted_by.setdefault(j, set()).add(i)
                self.trusts.setdefault(i, set()).add(j)
        self.is_user = [bool(x) for x in g.user.tolist()]
        self.kind = [int(x) for x in g.creator_kind.tolist()]
        self.region = [int(x) for x in g.region.tolist()]
        self.rural = [bool(x) for x in g.rural.tolist()]
        self.hometown = [int(x) for x in g.hometown.tolist()]
        # residents: every node but the creators outside the city (section 1.2)
        self.resident = [k != OUTSIDE for k in self.kind]
        self.n_residents = sum(self.resident)

    def _new_product(self, category: int, price_mean: float, price_sd: float) -> Product:
        pr = self.s.products
        p = Product(
            id=len(self.products),
            category=category,
            price=self.lognormal(price_mean, price_sd),
            quality=self.beta(pr.quality_mean, pr.quality_concentration),
        )
        self.products.append(p)
        return p

    def promise(self, product: Product, authenticity: float) -> float:
        return min(1.0, product.quality + self.s.outcomes.overstatement * (1.0 - authenticity))

    def _init_market(self) -> None:
        s = self.s
        pop, cr, st, pr = s.population, s.creators, s.storefronts, s.products
        self.users: dict[int, User] = {}
        for i in range(self.n):
            if not self.is_user[i]:
                continue  # non-users never buy online
            self.users[i] = User(
                id=i,
                p_active=self.beta(pop.activity_mean, pop.activity_concentration),
                budget=self.lognormal(pop.budget_mean, pop.budget_dispersion),
                psi=self.lognormal(1.0, pop.price_sensitivity_dispersion),
                tau=st.trust,
            )
            if pop.propensity_dispersion > 0:
                self.users[i].alpha = float(self.rng.normal(0.0, pop.propensity_dispersion))
        self.user_ids = sorted(self.users)
        self.products: list[Product] = []
        shared = self._shared_catalogue()
        self.creators: dict[int, Creator] = {}
        for c in range(self.n):
            if self.kind[c] not in SELLING:
                continue  # government accounts do not sell; creators outside the city do
            creator = Creator(
                id=c,
                kind=self.kind[c],
                authenticity=self.beta(cr.authenticity_mean, cr.authenticity_concentration),
                content_quality=self.beta(
                    cr.content_quality_mean, cr.content_quality_concentration
                ),
                followers=set(self.followers_of.get(c, ())),
            )
            if shared:
                creator.catalogue = self._listed(shared, cr.catalogue_size)
            for _ in range(0 if shared else cr.catalogue_size):
                p = self._new_product(
                    self.randint(pr.n_categories), cr.price_mean, cr.price_dispersion
                )
                creator.catalogue.append(p)
            self.creators[c] = creator
        self.storefronts: list[Storefront] = []
        for k in range(st.n_storefronts):
            store = Storefront(
                id=k, authenticity=self.beta(st.authenticity_mean, st.authenticity_concentration)
            )
            if shared:
                store.catalogue = self._listed(shared, st.products_per_storefront)
            for _ in range(0 if shared else st.products_per_storefront):
                p = self._new_product(
                    self.randint(pr.n_categories), st.price_mean, st.price_dispersion
                )
                store.catalogue.append(p)
            self.storefronts.append(store)
        for store in self.storefronts:
            store.ad_budget = self.lognormal(1.0, st.ad_budget_dispersion)
        self._init_producers()
        for c in self.creators.values():
            self._recompute_promises(c)
        for store in self.storefronts:
            self._recompute_promises(store)
        self.tolerance = self._tolerances()
        self.store_listings: dict[int, list[tuple[int, Product]]] = {}
        for store in self.storefronts:
            for p in store.catalogue:
                self.store_listings.setdefault(p.category, []).append((store.id, p))
        self.recommendations: list[tuple[int, int, Product, tuple[str, int], float]] = []
        self.warnings: list[tuple[int, int, tuple[str, int]]] = []  # (day, buyer j, seller v)
        lo = s.loyalty
        # loyalty is tracked only when it has an effect (a return probability > 0)
        self.track_loyalty = lo.return_creators > 0 or lo.return_storefronts > 0
        # (user i, seller v) -> (L_last, t_last): the loyalty set by the last satisfying order
        self.loyalty: dict[tuple[int, tuple[str, int]], tuple[float, int]] = {}

    def _shared_catalogue(self) -> list[Product]:
        """Under products.catalogue = 'shared', the catalogue's products (section 3.4,
        Products); otherwise none."""
        pr = self.s.products
        if pr.catalogue != "shared":
            return []
        largest = max(self.s.creators.catalogue_size, self.s.storefronts.products_per_storefront)
        if pr.n_products < largest:
            raise ValueError(f"n_products = {pr.n_products} < a seller's {largest} products")
        return [
            self._new_product(self.randint(pr.n_categories), pr.price_mean, pr.price_dispersion)
            for _ in range(pr.n_products)
        ]

    def _listed(self, catalogue: list[Product], size: int) -> list[Product]:
        """``size`` distinct products of ``catalogue``, drawn uniformly without replacement."""
        return [catalogue[k] for k in self.rng.choice(len(catalogue), size, replace=False)]

    def _init_producers(self) -> None:
        s = self.s
        pd_ = s.producers
        self.producers: list[Producer] = []
        n = pd_.n_producers
        if self.enrolled is not None:
            nodes = self.enrolled
        elif n == 0:
            return
        else:
            # READING: producers are residents (never a creator outside the city)
            residents = [i for i in range(self.n) if self.resident[i]]
            rural = [i for i in residents if self.rural[i]]
            pool = rural if len(rural) >= n else residents
            if n <= len(pool):
                chosen = self.rng.choice(len(pool), size=n, replace=False).tolist()
            else:  # READING: more producers than residents: draw with replacement
                chosen = self.rng.choice(len(pool), size=n, replace=True).tolist()
            nodes = [pool[idx] for idx in chosen]
        for k, node in enumerate(nodes):
            producer = Producer(id=node)
            # The specialty category: one extra category, shared by all specialties.
            p = self._new_product(
                s.products.n_categories, pd_.price_mean, s.creators.price_dispersion
            )
            p.producer = k
            producer.product = p
            self.producers.append(producer)
            if pd_.channel in ("creators", "both"):
                recruited = self.recruited(producer.id)
                for c in recruited:
                    self.creators[c].catalogue.append(p)
                producer.listed |= bool(recruited)
            if pd_.channel in ("storefronts", "both"):
                take = min(pd_.listings, len(self.storefronts))
                for idx2 in self.rng.choice(len(self.storefronts), size=take, replace=False):
                    self.storefronts[int(idx2)].catalogue.append(p)
                producer.listed |= take > 0
        # Offline income per day, LogNormal(mean offline_income, log-sd offline_dispersion)
        # (section 3.4), 0 for all when the mean is 0. READING: its own stream, producer order.
        mean, sd = pd_.offline_income, pd_.offline_dispersion
        for producer in self.producers:
            if mean > 0:
                z = float(self.offline_rng.normal(math.log(mean) - sd * sd / 2.0, sd))
                producer.offline = math.exp(z)

    def recruited(self, node: int) -> list[int]:
        """The creators who list the specialty of the producer living at ``node``, by
        producers.recruit (section 3.4, Poor producers). READING: creators outside the city
        are in no pool (section 3.1, 9); a random pool is drawn from uniformly without
        replacement, `listings` of it or all of it."""
        pd_ = self.s.producers
        city = sorted(c for c in self.creators if self.resident[c])
        if pd_.recruit == "followers":  # the same for every producer: no draw
            ranked = sorted(city, key=lambda c: (-len(self.creators[c].followers), c))
            return ranked[: pd_.listings]
        if pd_.recruit == "random":
            pool = city
        else:  # local and rural: the non-head (local) creators of the producer's region
            region = self.region[node]
            pool = [
                c
                for c in city
                if self.creators[c].kind == LOCAL_CREATOR and self.region[c] == region
            ]
            if pd_.recruit == "rural":
                pool = [c for c in pool if self.rural[c]]
        take = min(pd_.listings, len(pool))
        return [pool[k] for k in self.rng.choice(len(pool), size=take, replace=False).tolist()]

    def _tolerances(self) -> dict[str, float]:
        """The tolerance t_k of each seller type ("creator", "store"), section 3.5 Outcomes."""
        oc = self.s.outcomes
        if oc.satisfaction == "tolerance":
            return {"creator": oc.tolerance, "store": oc.tolerance}
        sellers = {"creator": list(self.creators.values()), "store": self.storefronts}
        rates = {"creator": oc.disappointment_creators, "store": oc.disappointment_storefronts}
        out = {}
        for kind, group in sellers.items():
            gaps = np.array(
                [seller.promise[p.id] - p.quality for seller in group for p in seller.catalogue]
            )
            if len(gaps) == 0:
                continue
            out[kind] = solve_tolerance(gaps, rates[kind], oc.quality_noise)
        return out

    def _recompute_promises(self, seller: Creator | Storefront) -> None:
        seller.promise = {p.id: self.promise(p, seller.authenticity) for p in seller.catalogue}

    def _init_information(self) -> None:
        """Government accounts' content quality and the messages (section 3.5,
        Information), from the information Generator."""
        inf, cr = self.s.information, self.s.creators
        self.gov = [a for a in range(self.n) if self.kind[a] == GOV]
        self.gov_quality = {
            a: float(
                self.info_rng.beta(
                    inf.gov_quality_mean * cr.content_quality_concentration,
                    (1.0 - inf.gov_quality_mean) * cr.content_quality_concentration,
                )
            )
            for a in self.gov
        }
        self.messages = [
            Message(m, inf.first_day + m * inf.interval) for m in range(inf.n_messages)
        ]
        self.info_rows: list[dict[str, Any]] = []
        self.info_region_rows: list[dict[str, Any]] = []
        # the groups of residents the shares are over (section 3.6)
        residents = [i for i in range(self.n) if self.resident[i]]
        self.info_groups = {
            "residents": residents,
            "rural": [i for i in residents if self.rural[i]],
            "urban": [i for i in residents if not self.rural[i]],
            "users": [i for i in residents if self.is_user[i]],
            "non_users": [i for i in residents if not self.is_user[i]],
        }
        self.region_residents = {
            name: [i for i in residents if self.region[i] == r]
            for r, name in enumerate(self.g.region_names)
        }

    # -- growth (section 3.5, "Growth") -----------------------------------------------------
    def _init_growth(self) -> None:
        """Who uses the platform and who sells on the first day: each registered user with
        probability initial_users (creators always), each selling creator and each
        storefront with probability initial_sellers, at least one storefront open.
        READING: one uniform per registered user, then per selling creator, then per
        storefront, from the growth Generator; with no storefront open, one drawn uniformly
        opens."""
        gr = self.s.growth
        rng = self.growth_rng
        self.adopted: dict[int, bool] = {}  # registered user -> uses the platform
        for i in self.user_ids:
            drew = float(rng.random()) < gr.initial_users
            self.adopted[i] = drew or self.kind[i] != NONE  # creators always use it
        self.selling: dict[int, bool] = {}  # selling creator -> sells
        for c in sorted(self.creators):
            self.selling[c] = float(rng.random()) < gr.initial_sellers
        for store in self.storefronts:
            store.is_open = float(rng.random()) < gr.initial_sellers
        if self.storefronts and not any(store.is_open for store in self.storefronts):
            self.storefronts[int(rng.integers(len(self.storefronts)))].is_open = True
        for producer in self.producers:  # then one per producer; only a listed one sells
            drew = float(rng.random()) < gr.initial_sellers  # drawn for every producer
            producer.online = producer.listed and drew

    def on_shelf(self, p: Product) -> bool:
        """Whether product p is on offer: a specialty only while its producer is online."""
        return p.producer is None or self.producers[p.producer].online

    def shelf(self, catalogue: list[Product]) -> list[Product]:
        """The products of a catalogue on offer, in catalogue order."""
        return [p for p in catalogue if self.on_shelf(p)]

    def adoption_share(self, i: int, uses: dict[int, bool]) -> float:
        """f_i: the trust-weighted share of user i's local and city ties i -> j to people who
        use the platform (``uses``: registered user -> uses it), 0 without ties."""
        total = used = 0.0
        for j in self.trusts.get(i, ()):
            w = self.trust[(i, j)]
            total += w
            if uses.get(j, False):
                used += w
        return used / total if total > 0 else 0.0

    def adoption_probability(self, i: int, uses: dict[int, bool]) -> float:
        """1 - exp(-(external + social f_i) / 12): the monthly chance that registered user i,
        who does not use the platform, adopts it."""
        gr = self.s.growth
        return 1.0 - math.exp(-(gr.external + gr.social * self.adoption_share(i, uses)) / 12.0)

    def entry_means(self, month: int) -> tuple[float, float]:
        """(I-bar, G-bar) of ``month``: the mean commission income of the creators who sold
        in it and the mean GMV of the storefronts open in it (0 without any)."""
        commission = self.s.creators.commission
        sellers = [c for c, on in self.selling.items() if on]
        stores = [store.id for store in self.storefronts if store.is_open]
        income = dict.fromkeys(sellers, 0.0)
        gmv = dict.fromkeys(stores, 0.0)
        for o in self.orders:
            if o.day // MONTH_DAYS != month:
                continue
            kind, v = o.seller
            if kind == "creator" and v in income:
                income[v] += commission * o.value
            elif kind == "store" and v in gmv:
                gmv[v] += o.value
        i_bar = sum(income.values()) / len(income) if income else 0.0
        g_bar = sum(gmv.values()) / len(gmv) if gmv else 0.0
        return i_bar, g_bar

    def producer_entry_mean(self, month: int) -> float:
        """N-bar of ``month``: the mean net income over its 30 days of the producers online
        in it (receipts of its orders less fees, logistics, fixed_cost * 30 and displaced
        offline income min(displacement G, o * 30)); 0 without any."""
        pd_ = self.s.producers
        online = [k for k, producer in enumerate(self.producers) if producer.online]
        receipts = dict.fromkeys(online, 0.0)
        orders = dict.fromkeys(online, 0)
        for o in self.orders:
            k = o.product.producer
            if o.day // MONTH_DAYS == month and k in receipts:
                receipts[k] += pd_.income_share * o.value
                orders[k] += 1
        nets = []
        for k in online:
            G = receipts[k]
            displaced = min(pd_.displacement * G, self.producers[k].offline * MONTH_DAYS)
            nets.append(
                G
                - pd_.platform_fee * G
                - pd_.cost_per_order * orders[k]
                - pd_.fixed_cost * MONTH_DAYS
                - displaced
            )
        return sum(nets) / len(nets) if nets else 0.0

    def _growth(self, t: int) -> None:
        """The growth step at the start of month t // 30 (t = 30, 60, ...): adoption and
        churn of registered users, then entry of creators and storefronts, from the state at
        the step's start."""
        gr, rng = self.s.growth, self.growth_rng
        uses = dict(self.adopted)  # read at the month's start (synchronous update)
        for i in self.user_ids:
            u = float(rng.random())
            if not uses[i]:
                if u < self.adoption_probability(i, uses):
                    self.adopted[i] = True
            elif self.kind[i] == NONE and u < gr.churn:  # creators never leave
                self.adopted[i] = False
        i_bar, g_bar = self.entry_means(t // MONTH_DAYS - 1)
        n_bar = self.producer_entry_mean(t // MONTH_DAYS - 1)

        def entry(threshold: float, mean: float) -> float:
            return gr.entry_rate * max(0.0, 1.0 - threshold / mean) if mean > 0 else 0.0

        p_creator = entry(gr.creator_entry_income, i_bar)
        p_store = entry(gr.storefront_entry_gmv, g_bar)
        for c in sorted(self.selling):
            u = float(rng.random())
            if not self.selling[c] and u < p_creator:
                self.selling[c] = True
        for store in self.storefronts:
            u = float(rng.random())
            if not store.is_open and u < p_store:
                store.is_open = True
        p_producer = entry(gr.producer_entry_income, n_bar)
        for producer in self.producers:
            u = float(rng.random())
            if producer.listed and not producer.online and u < p_producer:
                producer.online, producer.since = True, t

    # -- ties -----------------------------------------------------------------------------
    def add_follow(self, i: int, c: int, trust: float, memory: int) -> None:
        """A new follow tie i -> c (replacing a local or city tie of the same pair)."""
        if self.layer.get((i, c), FOLLOW) != FOLLOW:
            self.trusted_by[c].discard(i)
            self.trusts[i].discard(c)
        self.trust[(i, c)] = trust
        self.memory[(i, c)] = memory
        self.layer[(i, c)] = FOLLOW
        self.creators[c].followers.add(i)

    # -- one day --------------------------------------------------------------------------
    def step(self) -> None:
        self.day += 1
        t = self.day
        s = self.s
        self._training(t)
        if t % 30 == 0:  # month: spending resets, faded loyalties are forgotten
            for u in self.users.values():
                u.spent = 0.0
            self.loyalty = {k: v for k, v in self.loyalty.items() if self.loyal(*k, t) >= 1e-3}
            if t > 0:  # growth, each month from the second
                self._growth(t)
        # a user who does not use the platform is never active (the uniform is still drawn)
        active = [
            i for i in self.user_ids if self.uniform() < self.users[i].p_active and self.adopted[i]
        ]
        active_set = set(active)
        if t % MONTH_DAYS == 0:
            self.month_active = set()
            self.month_buyers = {row: set() for row in FAMILIES}
        self.n_active.append(len(active))
        self.month_active |= active_set
        exposures: list[Exposure] = []
        posts = self._posts()
        exposures += self._follow_exposures(posts, active_set)
        exposures += self._discovery_exposures(posts, active)
        exposures += self._storefront_exposures(active)
        exposures += self._wom_exposures(t, active)
        heard = self._warnings_heard(t, active)
        exposures += self._return_visits(t, active)
        orders, blocked = self._decide(t, exposures)
        new_follows = self._outcomes(t, orders)
        self._update_loyalty(t, orders)
        self._apply_warnings(heard)
        self._information(t, active)
        self._metrics(t, exposures, orders, blocked, new_follows)
        for o in orders:
            for row, chans in FAMILIES.items():
                if o.channel in chans:
                    self.month_buyers[row].add(o.user)
        if t % MONTH_DAYS == MONTH_DAYS - 1:
            self._month_end(t // MONTH_DAYS)
        del s

    def _month_end(self, month: int) -> None:
        days = self.n_active[month * MONTH_DAYS : (month + 1) * MONTH_DAYS]
        self.months.append(
            {
                "month": month,
                "residents": self.n_residents,
                "users": len(self.users),
                "dau": sum(days) / len(days),
                "mau": len(self.month_active),
                **{f"buyers_{row}": len(self.month_buyers[row]) for row in FAMILIES},
                # who uses the platform and who sells at the month's end (growth)
                "adopted": sum(self.adopted.values()),
                "sellers": sum(self.selling.values())
                + sum(store.is_open for store in self.storefronts),
                "producers_online": sum(producer.online for producer in self.producers),
                "gmv": sum(o.value for o in self.orders if o.day // MONTH_DAYS == month),
            }
        )

    def _training(self, t: int) -> None:
        tr = self.s.training
        if t != tr.day or (tr.n_creators == 0 and tr.rule != "targeted"):
            return
        # READING: nobody outside the city is trained (section 3.1, 9): every pool holds
        # only the selling creators who live in the city
        selling = sorted(c for c in self.creators if self.resident[c])
        if tr.rule == "targeted":
            chosen = self.trained
        elif tr.rule == "followers":
            ranked = sorted(selling, key=lambda c: (-len(self.creators[c].followers), c))
            chosen = ranked[: tr.n_creators]
        else:
            if tr.rule == "local":
                pool = [c for c in selling if self.creators[c].kind == LOCAL_CREATOR]
            elif tr.rule == "rural":
                pool = [c for c in selling if self.rural[c]]
            else:
                pool = selling
            take = min(tr.n_creators, len(pool))
            chosen = [pool[k] for k in self.rng.choice(len(pool), size=take, replace=False)]
        # READING: the set decides, not its listing: followers are drawn creator by creator
        # in the order of their ids (section 3.5, Training)
        for c in sorted(chosen):
            cr = self.creators[c]
            cr.authenticity = min(1.0, cr.authenticity + tr.authenticity_gain)
            cr.content_quality = min(1.0, cr.content_quality + tr.content_quality_gain)
            self._recompute_promises(cr)
            for _ in range(tr.follower_gain):
                u = self.user_ids[self.randint(len(self.user_ids))]
                if u == c or u in cr.followers:
                    continue
                self.add_follow(u, c, self.s.creators.stranger_trust, 0)

    def _posts(self) -> dict[int, Product]:
        posts = {}
        for c in sorted(self.creators):
            cr = self.creators[c]
            # a creator who does not sell does not post (the uniform is still drawn)
            if self.uniform() < self.s.creators.post_prob and self.selling[c]:
                offer = self.shelf(cr.catalogue)
                posts[c] = offer[self.randint(len(offer))]
        return posts

    def reach(self, posts: dict[int, Product], active: set[int]) -> dict[int, float]:
        pol = self.s.policy
        if pol.traffic == "head":
            mean_f = sum(len(cr.followers) for cr in self.creators.values()) / len(self.creators)
            out = {}
            for c in posts:
                if mean_f == 0:
                    out[c] = pol.reach
                else:
                    f = len(self.creators[c].followers)
                    out[c] = min(1.0, pol.reach * (f / mean_f) ** pol.head_exponent)
            return out
        out = {c: pol.reach for c in posts}
        e_head = e_other = 0.0
        for c in posts:
            a_c = sum(1 for f in self.creators[c].followers if f in active)
            if self.creators[c].kind in HEADS:  # creators outside the city are heads
                e_head += out[c] * a_c
            else:
                e_other += out[c] * a_c
        total = e_head + e_other
        if total > 0 and e_head / total > pol.head_cap:
            x = pol.head_cap * e_other / ((1.0 - pol.head_cap) * e_head)
            for c in posts:
                if self.creators[c].kind in HEADS:
                    out[c] *= x
        return out

    def _follow_exposures(self, posts: dict[int, Product], active: set[int]) -> list[Exposure]:
        rho = self.reach(posts, active)
        out = []
        for c, p in posts.items():
            cr = self.creators[c]
            for f in sorted(cr.followers):
                if f not in active:
                    continue
                if self.uniform() < rho[c]:
                    out.append(
                        Exposure(
                            f,
                            "follow",
                            p,
                            ("creator", c),
                            self.trust[(f, c)],
                            self.memory[(f, c)],
                            cr.promise[p.id],
                            ("tie", f, c),
                        )
                    )
        return out

    def _discovery_exposures(self, posts: dict[int, Product], active: list[int]) -> list[Exposure]:
        pol, cr_s = self.s.policy, self.s.creators
        n_imp = round(pol.discovery_per_active * len(active))
        if pol.traffic == "head":
            eligible = list(posts)
            weights = [
                self.creators[c].content_quality
                * (1 + len(self.creators[c].followers)) ** pol.head_exponent
                for c in eligible
            ]
        else:  # heads (creators outside the city included) get no discovery traffic
            eligible = [c for c in posts if self.creators[c].kind == LOCAL_CREATOR]
            weights = [self.creators[c].content_quality for c in eligible]
        total = sum(weights)
        if not active or not eligible or total <= 0:
            return []
        cum = list(itertools.accumulate(weights))
        out = []
        for _ in range(n_imp):
            v = active[self.randint(len(active))]
            r = self.uniform() * total
            k = min(bisect.bisect_right(cum, r), len(eligible) - 1)
            c = eligible[k]
            if v == c:
                continue
            cr = self.creators[c]
            p = posts[c]
            if v in cr.followers:
                out.append(
                    Exposure(
                        v,
                        "discovery",
                        p,
                        ("creator", c),
                        self.trust[(v, c)],
                        self.memory[(v, c)],
                        cr.promise[p.id],
                        ("tie", v, c),
                    )
                )
            else:
                out.append(
                    Exposure(
                        v,
                        "discovery",
                        p,
                        ("creator", c),
                        cr_s.stranger_trust,
                        0,
                        cr.promise[p.id],
                        ("stranger", v, c),
                    )
                )
        return out

    def utility(self, user: User, T: float, M: int, Q: float, price: float) -> float:
        d = self.s.decision
        return (
            d.intercept
            + d.trust_weight * T
            + d.quality_weight * (Q - 0.5)
            - d.price_weight * user.psi * price / (user.budget / 30.0)
            + d.repeat_weight * M
            + user.alpha
        )

    def _pick_storefront(self, stores: list[Storefront], cum: list[float]) -> Storefront:
        """One of ``stores`` drawn with probability proportional to its ad budget (``cum``:
        the cumulative sums of their budgets)."""
        x = self.uniform() * cum[-1]
        return stores[min(bisect.bisect_right(cum, x), len(cum) - 1)]

    def _storefront_exposures(self, active: list[int]) -> list[Exposure]:
        st = self.s.storefronts
        n_imp = round(st.impressions_per_active * len(active))
        # ads are drawn among the open storefronts, whose listings alone are compared
        stores = [store for store in self.storefronts if store.is_open]
        if not active or not stores:
            return []
        cum = list(itertools.accumulate(store.ad_budget for store in stores))
        pools = {
            category: [
                (sid, q)
                for sid, q in listings
                if self.storefronts[sid].is_open and self.on_shelf(q)
            ]
            for category, listings in self.store_listings.items()
        }
        out = []
        for _ in range(n_imp):
            store = self._pick_storefront(stores, cum)
            offer = self.shelf(store.catalogue)
            p = offer[self.randint(len(offer))]
            v = active[self.randint(len(active))]
            user = self.users[v]
            best = (store.id, p)
            best_u = self._store_utility(user, store.id, p)
            pool = pools[p.category]
            for _ in range(st.comparisons):
                sid, q = pool[self.randint(len(pool))]
                u = self._store_utility(user, sid, q)
                if u > best_u:  # ties go to the impression's own product
                    best, best_u = (sid, q), u
            sid, q = best
            out.append(
                Exposure(
                    v,
                    "storefront",
                    q,
                    ("store", sid),
                    user.tau,
                    user.store_memory.get(sid, 0),
                    self.storefronts[sid].promise[q.id],
                    ("store", v, sid),
                )
            )
        return out

    def _store_utility(self, user: User, sid: int, p: Product) -> float:
        return self.utility(
            user,
            user.tau,
            user.store_memory.get(sid, 0),
            self.storefronts[sid].promise[p.id],
            p.price,
        )

    def _wom_exposures(self, t: int, active: list[int]) -> list[Exposure]:
        wom = self.s.word_of_mouth
        active_set = set(active)
        out = []
        for day, j, p, seller, x in self.recommendations:
            if not t - wom.days <= day <= t - 1:
                continue
            for i in sorted(self.trusted_by.get(j, ())):
                if i not in active_set:
                    continue
                p_hear = wom.prob * self.trust[(i, j)] if wom.trust_scaled else wom.prob
                if self.uniform() < p_hear:
                    out.append(
                        Exposure(
                            i,
                            "wom",
                            p,
                            seller,
                            self.trust[(i, j)],
                            self.memory[(i, j)],
                            min(1.0, max(0.0, x)),
                            ("tie", i, j),
                        )
                    )
        return out

    def _warnings_heard(
        self, t: int, active: list[int]
    ) -> list[tuple[int, tuple[str, int], float]]:
        """The warnings (差评) heard today: (listener i, seller v, w_ij), section 3.5, Word of
        mouth. READING: w_ij, in the chance of hearing and in the factor applied at the end
        of the day, is the listener's trust in the warner at the start of the day (when the
        warning is heard)."""
        wom = self.s.word_of_mouth
        active_set = set(active)
        out = []
        for day, j, seller in self.warnings:
            if not t - wom.days <= day <= t - 1:
                continue
            for i in sorted(self.trusted_by.get(j, ())):
                if i not in active_set:
                    continue
                w_ij = self.trust[(i, j)]
                p_hear = wom.warn_prob * w_ij if wom.trust_scaled else wom.warn_prob
                if self.uniform() < p_hear:
                    out.append((i, seller, w_ij))
        return out

    def _apply_warnings(self, heard: list[tuple[int, tuple[str, int], float]]) -> None:
        """At the end of the day, each warning heard lowers the listener's trust in the
        seller: a followed creator's tie trust by the factor 1 - trust_loss * w_ij, a
        storefront's memory to -1. READING: the factor multiplies the tie's trust after the
        day's outcomes, and 'a creator that i follows' is judged then (after the day's new
        follows)."""
        loss = self.s.outcomes.trust_loss
        for i, (kind, v), w_ij in heard:
            if kind == "store":
                self.users[i].store_memory[v] = -1
            elif i in self.creators[v].followers:
                self.trust[(i, v)] *= 1.0 - loss * w_ij

    # -- information (section 3.5) ------------------------------------------------------------
    def feed_probabilities(self, t: int) -> tuple[float, dict[int, float]]:
        """p_city and p_home per hometown region on day t, from the government accounts'
        content quality (with the training gain from training_day on)."""
        inf = self.s.information
        trained = 0 <= inf.training_day <= t
        everyone = inf.training_rule == "all"
        cq = {
            a: min(1.0, q + inf.training_gain)
            if trained and (everyone or self.region[a] in self.operators)
            else q
            for a, q in self.gov_quality.items()
        }
        p_city = 1.0 - math.prod(1.0 - inf.city_feed * cq[a] for a in self.gov)
        p_home = {
            h: 1.0
            - math.prod(1.0 - inf.hometown_feed * cq[a] for a in self.gov if self.region[a] == h)
            for h in range(len(self.g.region_names))
        }
        return p_city, p_home

    def _information(self, t: int, active: list[int]) -> None:
        """Day t of every message posted by then, in message order: the seeds on its posting
        day, feeds and the baseline while the post is live, then sharing by those who learnt
        it yesterday; then one row per message (and per message and region)."""
        if not self.messages:
            return
        inf = self.s.information
        p_city, p_home = self.feed_probabilities(t)
        for msg in self.messages:
            if msg.day > t:
                continue
            if msg.day == t:
                for i in self.seeds:
                    msg.path[i], msg.learnt[i] = "seeded", t
            if t < msg.day + inf.live_days:  # live: the feeds and the baseline
                for i in active:  # active users (residents: nobody outside opens the app)
                    if i in msg.path or not self.resident[i]:
                        continue
                    if self.info_rng.random() < p_city:
                        msg.path[i], msg.learnt[i] = "feed", t
                    elif self.info_rng.random() < p_home.get(self.hometown[i], 0.0):
                        msg.path[i], msg.learnt[i] = "hometown", t
                for i in range(self.n):
                    if not self.resident[i] or i in msg.baseline:
                        continue  # READING: the baseline never reaches outside the city
                    tv = inf.tv_rural if self.rural[i] else inf.tv_urban
                    if self.info_rng.random() < tv:
                        msg.baseline.add(i)
            reached: dict[int, str] = {}
            for j in sorted(k for k, day in msg.learnt.items() if day == t - 1):
                for i in sorted(self.trusted_by.get(j, ())):
                    if i in msg.path or not self.resident[i]:
                        continue
                    w = self.trust[(i, j)]
                    app = self.is_user[i] and self.is_user[j]
                    if app and self.info_rng.random() < inf.share_prob * w:
                        reached[i] = "share"  # reached both ways: in the app
                    kin = self.layer[(i, j)] == LOCAL
                    if kin and self.info_rng.random() < inf.offline_prob * w:
                        reached.setdefault(i, "offline")
            for i, path in reached.items():
                msg.path[i], msg.learnt[i] = path, t
            self._information_rows(t, msg)

    def _information_rows(self, t: int, msg: Message) -> None:
        """The shares of section 3.6 over residents, for message ``msg`` on day t."""

        def share(num: int, den: int) -> float:
            return num / den if den else math.nan

        groups = self.info_groups
        residents, rural, urban = groups["residents"], groups["rural"], groups["urban"]
        users, non_users = groups["users"], groups["non_users"]
        know = {i for i in msg.path if self.resident[i]}
        seen = {i for i in msg.baseline if self.resident[i]}

        def known(group: list[int], among: set[int]) -> int:
            return sum(1 for i in group if i in among)

        row = {
            "message": msg.id,
            "day": t,
            "posted_day": msg.day,
            "share_informed": share(len(know), len(residents)),
            "share_rural": share(known(rural, know), len(rural)),
            "share_urban": share(known(urban, know), len(urban)),
            "share_users": share(known(users, know), len(users)),
            "share_non_users": share(known(non_users, know), len(non_users)),
            **{
                f"by_{path}": share(sum(1 for i in know if msg.path[i] == path), len(know))
                for path in PATHS
            },
            "baseline_share": share(len(seen), len(residents)),
            "baseline_rural": share(known(rural, seen), len(rural)),
            "baseline_urban": share(known(urban, seen), len(urban)),
        }
        row["urban_rural_gap"] = row["share_urban"] - row["share_rural"]
        self.info_rows.append(row)
        for name, members in self.region_residents.items():
            if members:  # READING: a region without residents (Outside) has no row
                self.info_region_rows.append(
                    {
                        "message": msg.id,
                        "day": t,
                        "region": name,
                        "share_informed": known(members, know) / len(members),
                    }
                )

    def information(self) -> pd.DataFrame:
        """Per message and day from its posting day: :data:`INFORMATION_COLUMNS`."""
        return pd.DataFrame(self.info_rows, columns=list(INFORMATION_COLUMNS))

    def information_regions(self) -> pd.DataFrame:
        """Per message, day and region with residents: the share of its residents who know
        the message."""
        return pd.DataFrame(
            self.info_region_rows, columns=["message", "day", "region", "share_informed"]
        )

    def loyal(self, i: int, seller: tuple[str, int], t: int) -> float:
        """Today's loyalty L_iv of user i to seller v on day t: L_last * 2^(-(t - t_last) /
        half_life), 0 for a user not loyal to v."""
        if (i, seller) not in self.loyalty:
            return 0.0
        level, t_last = self.loyalty[(i, seller)]
        return level * 2.0 ** (-(t - t_last) / self.s.loyalty.half_life)

    def _update_loyalty(self, t: int, orders: list[Order]) -> None:
        """After the outcomes, the last of the day's orders of i from v (in the day's random
        order, any channel; a wom order's seller is the recommended listing's) decides: a
        satisfying one raises today's loyalty to L + gain (1 - L), a disappointing one ends
        it. A creator buying their own listing does not become loyal to themself."""
        if not self.track_loyalty:
            return
        last: dict[tuple[int, tuple[str, int]], Order] = {}
        for o in orders:  # accepted orders, in the day's random order
            if o.seller != ("creator", o.user):
                last[(o.user, o.seller)] = o
        gain = self.s.loyalty.gain
        for key, o in last.items():
            if o.satisfied:
                level = self.loyal(*key, t)
                self.loyalty[key] = (level + gain * (1.0 - level), t)
            else:
                self.loyalty.pop(key, None)

    def _return_visits(self, t: int, active: list[int]) -> list[Exposure]:
        """Return visits (回头客), section 3.5: each loyal active user comes back to the seller
        with probability return_k * L_iv and sees a listing drawn uniformly from its
        catalogue; counted in the seller's channel (follow or storefront), no click stage,
        utility + weight * L_iv.

        READING: a return visit to a creator the user does not follow (a discovery or wom
        buyer who did not follow; a local or city tie is not a follow) has T =
        stranger_trust and M = 0, and its order updates no trust or memory and draws no
        follow (follow_prob is for discovery buyers): the follow channel has no tie of the
        user's to update. A storefront's return visit has no comparison (比价); its order
        updates m_is and tau_i as a storefront order does. Return visits do not depend on
        the creator's posting today, and a user may return to several sellers on one day.
        """
        if not self.track_loyalty:
            return []
        lo, cr_s = self.s.loyalty, self.s.creators
        active_set = set(active)
        out = []
        for key in sorted(self.loyalty):
            i, (kind, v) = key
            if i not in active_set:
                continue
            level = self.loyal(*key, t)
            rate = lo.return_creators if kind == "creator" else lo.return_storefronts
            if not self.uniform() < rate * level:
                continue
            if kind == "creator":
                cr = self.creators[v]
                offer = self.shelf(cr.catalogue)
                p = offer[self.randint(len(offer))]
                if i in cr.followers:
                    T, M, source = self.trust[(i, v)], self.memory[(i, v)], ("tie", i, v)
                else:
                    T, M, source = cr_s.stranger_trust, 0, ("none", i, v)
                e = Exposure(i, "follow", p, (kind, v), T, M, cr.promise[p.id], source)
            else:
                store = self.storefronts[v]
                offer = self.shelf(store.catalogue)
                p = offer[self.randint(len(offer))]
                M = self.users[i].store_memory.get(v, 0)
                e = Exposure(
                    i,
                    "storefront",
                    p,
                    (kind, v),
                    self.users[i].tau,
                    M,
                    store.promise[p.id],
                    ("store", i, v),
                )
            e.loyalty, e.returning = level, True
            out.append(e)
        return out

    def _decide(self, t: int, exposures: list[Exposure]) -> tuple[list[Order], dict[str, int]]:
        d, pop = self.s.decision, self.s.population
        click_prob = {
            "follow": self.s.creators.enter_prob,
            "discovery": self.s.creators.enter_prob,
            "wom": 1.0,
            "storefront": self.s.storefronts.click_prob,
        }
        candidates = []
        for e in exposures:
            c = 1.0 if e.returning else click_prob[e.channel]
            e.clicked = c >= 1.0 or self.uniform() < c
            if not e.clicked:
                continue
            user = self.users[e.user]
            u = self.utility(user, e.T, e.M, e.Q, e.product.price)
            u += self.s.loyalty.weight * e.loyalty
            if self.uniform() < 1.0 / (1.0 + math.exp(-u)):
                items = 1 + int(
                    self.rng.poisson(d.basket_extra_items * (1.0 + d.basket_trust_effect * e.T))
                )
                candidates.append((e, items, items * e.product.price))
        order = self.rng.permutation(len(candidates)).tolist()
        blocked = dict.fromkeys(CHANNELS, 0)
        stopped: set[int] = set()  # users whose budget prefix has ended today
        kept_first: set[int] = set()  # single-purchase mode: users whose first is taken
        accepted: list[Order] = []
        for k in order:
            e, items, value = candidates[k]
            user = self.users[e.user]
            if not pop.repeat_purchases:
                if user.has_ordered or e.user in kept_first:
                    continue  # READING: discarded, not budget-blocked
                kept_first.add(e.user)
            if e.user in stopped:
                blocked[e.channel] += 1
                continue
            if user.spent + value <= user.budget:
                first = not user.has_ordered
                user.spent += value
                user.has_ordered = True
                month = (e.user, t // 30)
                self.month_spent[month] = self.month_spent.get(month, 0.0) + value
                accepted.append(
                    Order(
                        t,
                        e.user,
                        e.channel,
                        e.product,
                        e.seller,
                        items,
                        value,
                        e.M != 0,
                        e.T,
                        e.Q,
                        e.source,
                        first,
                    )
                )
            else:
                stopped.add(e.user)
                blocked[e.channel] += 1
        return accepted, blocked

    def _outcomes(self, t: int, orders: list[Order]) -> dict[str, int]:
        oc, cr_s, pd_ = self.s.outcomes, self.s.creators, self.s.producers
        last: dict[tuple, Order] = {}
        last_tau: dict[int, Order] = {}
        for o in orders:
            o.experienced = o.product.quality + float(self.rng.normal(0.0, oc.quality_noise))
            # the tolerance of the seller's type (for wom, the recommended listing's seller)
            o.satisfied = o.experienced >= o.Q - self.tolerance[o.seller[0]]
            last[o.source] = o
            if o.source[0] == "store":
                last_tau[o.user] = o
            # money
            kind, sid = o.seller
            if kind == "creator":
                self.creators[sid].income += cr_s.commission * o.value
            else:
                self.storefronts[sid].gmv += o.value
            if o.product.producer is not None:
                producer = self.producers[o.product.producer]
                producer.income += pd_.income_share * o.value
                producer.orders += 1
                producer.buyers.add(o.user)
            self.orders.append(o)
            if o.satisfied:
                self.recommendations.append((t, o.user, o.product, o.seller, o.experienced))
            elif self.s.word_of_mouth.warn_prob > 0:
                self.warnings.append((t, o.user, o.seller))

        def updated(T: float, sat: bool) -> float:
            return T + oc.trust_gain * (1.0 - T) if sat else T - oc.trust_loss * T

        new_follows = dict.fromkeys(CHANNELS, 0)
        for src, o in last.items():
            kind = src[0]
            if kind == "tie":
                _, i, j = src
                self.trust[(i, j)] = updated(o.T, o.satisfied)
                self.memory[(i, j)] = 1 if o.satisfied else -1
            elif kind == "store":
                _, i, sid = src
                self.users[i].store_memory[sid] = 1 if o.satisfied else -1
            elif kind == "stranger":  # a discovery order by a non-follower
                _, i, c = src
                if o.satisfied and self.uniform() < cr_s.follow_prob:
                    self.add_follow(i, c, updated(o.T, True), 1)
                    new_follows["discovery"] += 1
                    self.new_follow_log.append((t, i, c))
        for i, o in last_tau.items():
            self.users[i].tau = updated(o.T, o.satisfied)
        # keep only recommendations that can still be heard
        keep_from = t + 1 - self.s.word_of_mouth.days
        self.recommendations = [r for r in self.recommendations if r[0] >= keep_from]
        self.warnings = [w for w in self.warnings if w[0] >= keep_from]
        return new_follows

    def _metrics(
        self,
        t: int,
        exposures: list[Exposure],
        orders: list[Order],
        blocked: dict[str, int],
        new_follows: dict[str, int],
    ) -> None:
        groups = {ch: (ch,) for ch in CHANNELS} | FAMILIES
        for row in ROWS:
            chans = groups[row]
            exp = [e for e in exposures if e.channel in chans]
            ords = [o for o in orders if o.channel in chans]
            n_exp, n_users = len(exp), len({e.user for e in exp})
            n_clicks = sum(1 for e in exp if e.clicked)
            n_ord, n_buyers = len(ords), len({o.user for o in ords})
            n_disappointed = sum(1 for o in ords if not o.satisfied)
            gmv = sum(o.value for o in ords)
            items = sum(o.items for o in ords)
            repeat = sum(1 for o in ords if o.repeat)
            self.rows.append(
                {
                    "day": t,
                    "channel": row,
                    "exposures": n_exp,
                    "exposed_users": n_users,
                    "clicks": n_clicks,
                    "orders": n_ord,
                    "buyers": n_buyers,
                    "conversion": n_ord / n_exp if n_exp else math.nan,
                    "buyer_conversion": n_buyers / n_users if n_users else math.nan,
                    "click_through": n_clicks / n_exp if n_exp else math.nan,
                    "click_conversion": n_ord / n_clicks if n_clicks else math.nan,
                    "gmv": gmv,
                    "order_value": gmv / n_ord if n_ord else math.nan,
                    "items_per_order": items / n_ord if n_ord else math.nan,
                    "repeat_share": repeat / n_ord if n_ord else math.nan,
                    "first_orders": sum(1 for o in ords if o.first),
                    "disappointed": n_disappointed,
                    "disappointed_share": n_disappointed / n_ord if n_ord else math.nan,
                    "new_follows": sum(new_follows[c] for c in chans),
                    "budget_blocked": sum(blocked[c] for c in chans),
                }
            )

    def run(self, days: int) -> Market:
        for _ in range(days):
            self.step()
        return self

    def daily(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=list(COLUMNS))
        return frame.astype({"day": "int64", "gmv": "float64"})

    def monthly(self) -> pd.DataFrame:
        """One row per complete 30-day month, columns :data:`MONTHLY_COLUMNS` (section 3.6)."""
        frame = pd.DataFrame(self.months, columns=list(MONTHLY_COLUMNS))
        real = ("dau", "gmv")
        integer = [c for c in MONTHLY_COLUMNS if c not in real]
        return frame.astype(dict.fromkeys(integer, "int64") | dict.fromkeys(real, "float64"))

    # -- producers' accounts and county-level units (sections 3.1, 3.5, 3.6) --------------
    def producer_accounts(self, days: int | None = None) -> pd.DataFrame:
        """Each poor producer's accounts (收支, section 3.5) at the end of ``days`` days (by
        default the days run), one row per producer in :data:`PRODUCER_COLUMNS`.

        ``region`` is the index of the producer's unit in the graph's regions, ``offline``
        its offline income per day ``o``, ``revenue`` its receipts ``G``; then fees
        ``platform_fee G``, logistics ``cost_per_order n`` (``n`` = ``orders``), the fixed
        cost ``fixed_cost T`` if some seller lists its specialty (else 0), displaced offline
        income ``min(displacement G, o T)`` and net = G - fees - logistics - fixed -
        displaced.
        """
        T = self.day + 1 if days is None else days
        pd_ = self.s.producers
        poverty = self.poverty_units()
        rows = []
        for k, producer in enumerate(self.producers):
            G, n, o = producer.income, producer.orders, producer.offline
            on = T - producer.since if producer.online and producer.since < T else 0
            fees = pd_.platform_fee * G
            logistics = pd_.cost_per_order * n
            fixed = pd_.fixed_cost * on
            displaced = min(pd_.displacement * G, o * on)
            region = self.region[producer.id]
            rows.append(
                {
                    "producer": k,
                    "node": producer.id,
                    "region": region,
                    "poverty": poverty[region],
                    "listed": producer.listed,
                    "days_online": on,
                    "orders": n,
                    "buyers": len(producer.buyers),
                    "offline": o,
                    "revenue": G,
                    "fees": fees,
                    "logistics": logistics,
                    "fixed": fixed,
                    "displaced": displaced,
                    "net": G - fees - logistics - fixed - displaced,
                }
            )
        frame = pd.DataFrame(rows, columns=list(PRODUCER_COLUMNS))
        return frame.astype(
            dict.fromkeys(
                ("producer", "node", "region", "days_online", "orders", "buyers"), "int64"
            )
            | {"poverty": "bool", "listed": "bool"}
            | dict.fromkeys(PRODUCER_COLUMNS[8:], "float64")
        )

    def poverty_units(self) -> list[bool]:
        """Per graph region (by index), whether the scenario treats it as a poverty county
        (section 3.1). READING: matched by name with the scenario city's regions; a graph
        region the scenario does not declare is not one."""
        declared = {r.name: bool(r.poverty) for r in self.s.city.regions}
        return [declared.get(name, False) for name in self.g.region_names]

    def poverty_shares(self) -> dict[str, float]:
        """The shares of earners and of GMV from poverty counties (section 3.6).

        Earners are the selling creators with commission income > 0 and the producers with
        receipts > 0, counted in the unit they live in; ``poverty_gmv_share`` is the GMV sold
        by creators living in poverty counties over all GMV (storefronts' sales included).
        NaN without earners (GMV)."""
        poverty = self.poverty_units()
        earners = [c for c, cr in self.creators.items() if cr.income > 0]
        earners += [p.id for p in self.producers if p.income > 0]
        poor_earners = sum(1 for i in earners if poverty[self.region[i]])
        total = sum(o.value for o in self.orders)
        poor_gmv = sum(
            o.value
            for o in self.orders
            if o.seller[0] == "creator" and poverty[self.region[o.seller[1]]]
        )
        return {
            "poverty_earner_share": poor_earners / len(earners) if earners else math.nan,
            "poverty_gmv_share": poor_gmv / total if total > 0 else math.nan,
        }

    def customers(self) -> dict[str, int]:
        """Sellers' customers (distinct buyers) and repeat customers (回头客, buyers with at
        least two orders from the seller), summed over creators and over storefronts
        (section 3.6)."""
        orders: dict[tuple[tuple[str, int], int], int] = {}
        for o in self.orders:
            orders[(o.seller, o.user)] = orders.get((o.seller, o.user), 0) + 1
        out = dict.fromkeys(CUSTOMER_COUNTS, 0)
        for (seller, _), n in orders.items():
            kind = "creators" if seller[0] == "creator" else "storefronts"
            out[f"customers_{kind}"] += 1
            out[f"repeat_customers_{kind}"] += n >= 2
        return out


CUSTOMER_COUNTS = (
    "customers_creators",
    "repeat_customers_creators",
    "customers_storefronts",
    "repeat_customers_storefronts",
)
"""The keys of :meth:`Market.customers`."""


def unsupported(scenario: Any) -> list[str]:
    """The settings of ``scenario`` whose rules the oracle does not implement (yet)."""

    def get(dotted: str, default: Any) -> Any:
        section, key = dotted.split(".")
        return getattr(getattr(scenario, section, None), key, default)

    checks = {
        "shock.day >= 0": get("shock.day", -1) >= 0,
    }
    return [name for name, on in checks.items() if on]


def solve_tolerance(gaps: np.ndarray, rate: float, noise: float) -> float:
    """The tolerance t with mean(Phi((gaps - t) / noise)) = rate, gaps = promise - quality.

    With ``noise = 0`` it is the ``1 - rate`` quantile of the gaps (docs/model.md 3.5,
    Outcomes). The mean decreases in t from 1 to 0, so the root lies between the smallest
    gap minus 40 noise widths and the largest plus 40.
    """
    if noise == 0:
        return float(np.quantile(gaps, 1.0 - rate))  # READING: numpy's default quantile

    def excess(t: float) -> float:
        return float(np.mean(ndtr((gaps - t) / noise))) - rate

    low, high = gaps.min() - 40 * noise, gaps.max() + 40 * noise
    return float(brentq(excess, low, high, xtol=1e-14, rtol=1e-14))


def run_oracle(graph: Any, scenario: Any, days: int, seed: int) -> pd.DataFrame:
    """Simulate ``days`` days on ``graph`` under ``scenario``; one row per (day, channel).

    Columns and rows are those of section 3.6 of docs/model.md, in the order of
    :data:`COLUMNS` and :data:`ROWS`; ratios are NaN when their denominator is 0.
    """
    return Market(graph, scenario, seed).run(days).daily()
