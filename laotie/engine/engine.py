"""The engine: one day of the market as a handful of vectorised operations.

Each phase of docs/model.md section 3.5 is one method below. Exposures are index arrays
(one entry per exposure), decisions are made in bulk, and metrics are aggregated with
bincount. Only the ties of nodes that act today are read: the followers of posting creators,
the listeners of yesterday's satisfied buyers.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

from .._random import SeedLike, as_seed_sequence
from ..graph._core import TrustGraph
from ..metrics import (
    CHANNELS,
    DISCOVERY,
    FOLLOW,
    ORDER_VALUE_EDGES,
    STOREFRONT,
    WOM,
    DayCounter,
    order_value_histogram,
)
from ..scenario import Scenario
from .information import InformationState
from .market import Market, expand_rows

__all__ = ["Engine"]

_PHASES = (
    "activity",
    "posts",
    "follow",
    "discovery",
    "storefront",
    "wom",
    "decide",
    "outcomes",
    "training",
    "information",
)

PAIR_BUFFER_MIN = 4096
"""New (producer, buyer) pairs kept apart from the sorted main array before a merge."""

THREAD_THRESHOLD = 500_000
"""Residents from which the engine builds two channels' exposures in a second thread."""

# Where the trust of an exposure's source lives.
REF_NONE, REF_SOCIAL, REF_FOLLOW, REF_BUFFER, REF_STOREFRONT = 0, 1, 2, 3, 4

_FIELDS = ("user", "channel", "listing", "trust", "memory", "quality", "ref_kind", "ref", "source")
_DTYPES = (
    np.int32,
    np.int8,
    np.int64,
    np.float32,
    np.int8,
    np.float32,
    np.int8,
    np.int64,
    np.int32,
)


@dataclass
class Batch:
    """Parallel arrays, one entry per exposure (or per order)."""

    user: np.ndarray
    channel: np.ndarray
    listing: np.ndarray
    trust: np.ndarray
    memory: np.ndarray
    quality: np.ndarray
    ref_kind: np.ndarray
    ref: np.ndarray
    source: np.ndarray

    @classmethod
    def make(cls, n: int, channel: int, **arrays: object) -> Batch:
        values = {}
        for name, dtype in zip(_FIELDS, _DTYPES, strict=True):
            if name == "channel":
                values[name] = np.full(n, channel, dtype)
            else:
                values[name] = np.broadcast_to(np.asarray(arrays[name], dtype), (n,)).copy()
        return cls(**values)

    @classmethod
    def empty(cls, channel: int) -> Batch:
        return cls.make(0, channel, **dict.fromkeys(_FIELDS[2:], 0), user=0)

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        return cls(**{f: np.concatenate([getattr(b, f) for b in batches]) for f in _FIELDS})

    def take(self, index: np.ndarray) -> Batch:
        return Batch(**{f: getattr(self, f)[index] for f in _FIELDS})

    def __len__(self) -> int:
        return len(self.user)


@dataclass
class Orders:
    """Today's accepted orders, in the day's random order."""

    batch: Batch
    items: np.ndarray
    value: np.ndarray
    satisfied: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    experienced: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))


class Engine:
    """The market of a scenario on a trust graph, advanced one day per :meth:`step`.

    Parameters
    ----------
    graph : TrustGraph
        The city; it is not modified (the engine copies the trust it changes).
    scenario : Scenario
        Every parameter of the model.
    seed : int, SeedSequence, Generator or None
        The market is initialised from one child stream of the seed and the days draw from
        another, so the same seed gives identical results.
    threads : int, optional
        2 builds the storefront and word-of-mouth exposures in a second thread while the
        creator channels are built; 1 builds them one after the other. The results are
        identical. Default: 2 for graphs of at least ``THREAD_THRESHOLD`` residents, where
        it pays (about 1.4x at 0.76 M residents), else 1 (a thread costs more than it saves
        on small cities).
    """

    def __init__(
        self,
        graph: TrustGraph,
        scenario: Scenario,
        seed: SeedLike = None,
        threads: int | None = None,
    ) -> None:
        self.graph = graph
        self.scenario = scenario
        self.threads = (
            (2 if graph.n_nodes >= THREAD_THRESHOLD else 1) if threads is None else threads
        )
        self._executor: ThreadPoolExecutor | None = None
        self.seed_sequence = as_seed_sequence(seed)
        market_seq, day_seq = self.seed_sequence.spawn(2)
        self.market = Market(graph, scenario, np.random.default_rng(market_seq))
        # One stream per phase: changing one phase's parameters (or turning it off) leaves
        # the other phases' draws as they were, so arms of a comparison share their random
        # numbers wherever their rules agree.
        children = dict(zip(_PHASES, day_seq.spawn(len(_PHASES)), strict=True))
        self.rngs = {phase: np.random.default_rng(child) for phase, child in children.items()}
        m = self.market
        n = graph.n_nodes
        self.day = 0
        self.spent = np.zeros(n, np.float64)
        self.ever_ordered = np.zeros(n, bool)
        self.month_flags = np.zeros(n, np.int8)
        self.last_month_flags: np.ndarray | None = None
        self.repurchase: list[dict[str, float]] = []
        self.active = np.zeros(n, bool)
        self.active_users = np.zeros(0, np.int32)
        self.recommendations = Batch.empty(WOM)
        self.recommendation_day = np.zeros(0, np.int32)
        self.creator_income = np.zeros(m.n_creators)
        self.creator_exposures = np.zeros(m.n_creators)
        self.producer_income = np.zeros(m.n_producers)
        self.producer_orders = np.zeros(m.n_producers, np.int64)
        self.producer_buyers = np.zeros(m.n_producers, np.int64)
        # Every (producer, buyer) pair so far, as keys producer * n_nodes + buyer: a sorted
        # main array and a small sorted buffer merged into it when it grows (as follows do).
        self._pair_keys = np.zeros(0, np.int64)
        self._pair_buffer = np.zeros(0, np.int64)
        self.seller_gmv = np.zeros(m.n_sellers)
        self.history: list[np.ndarray] = []
        # The last simulated day's accepted orders (buyer, channel, listing, value, satisfied,
        # ...), kept for observers that follow particular buyers or products between days.
        self.orders_today: Orders = Orders(Batch.empty(FOLLOW), np.zeros(0, np.int64), np.zeros(0))
        self.order_values = np.zeros((len(CHANNELS), len(ORDER_VALUE_EDGES) - 1), np.int64)
        self._counter = DayCounter(n)
        self.trained: np.ndarray = np.zeros(0, np.int32)
        self.listing_orders = np.zeros(len(m.listing_product), np.int64)
        self.shock_listing = -1
        self.shock_product = -1
        self.shock_seller = -1
        self._shock_restore = np.float32(np.nan)
        self.information = InformationState(graph, m, scenario, children["information"])

    # ------------------------------------------------------------------ the day
    def step(self) -> np.ndarray:
        """Advance one day; return the day's counts (rows: channels, columns: metrics.COUNTS)."""
        s = self.scenario
        m = self.market
        m.follows.merge_buffer()
        if self.day == s.training.day:
            self._train()
        if s.shock.day >= 0 and self.day in (s.shock.day, s.shock.day + s.shock.days):
            self._shock()
        if self.day % 30 == 0:
            self._new_month()
        self._activity()
        posting, featured = self._posts()
        # The creator channels and the storefront/word-of-mouth channels read the state
        # without changing it and draw from their own streams, so they can run side by side
        # (numpy releases the GIL): the results are the same with one thread or two.
        if self.threads > 1:
            other = self._pool().submit(self._traffic_and_wom_exposures)
            creator = [
                self._follow_exposures(posting, featured),
                self._discovery_exposures(posting, featured),
            ]
            batches = creator + other.result()
        else:
            batches = [
                self._follow_exposures(posting, featured),
                self._discovery_exposures(posting, featured),
                *self._traffic_and_wom_exposures(),
            ]
        exposures = Batch.concat(batches)
        orders, blocked = self._decide(exposures)
        new_follows = self._outcomes(orders)
        self.orders_today = orders
        self.information.step(self.day, self.active_users)
        by_channel = {int(batch.channel[0]): batch.user for batch in batches if len(batch)}
        counts = self._counter.count(
            [by_channel.get(c, np.zeros(0, np.int32)) for c in range(len(CHANNELS))],
            orders.batch.channel,
            orders.batch.user,
            orders.value,
            orders.items,
            (orders.batch.memory != 0).astype(np.float64),
            np.array([0, new_follows, 0, 0]),
            blocked,
        )
        self.order_values += order_value_histogram(orders.batch.channel, orders.value)
        creator_exposure = exposures.channel <= DISCOVERY
        self.creator_exposures += np.bincount(
            exposures.source[creator_exposure], minlength=m.n_creators
        )
        self.history.append(counts)
        self.day += 1
        return counts

    def _traffic_and_wom_exposures(self) -> list[Batch]:
        return [self._storefront_exposures(), self._wom_exposures()]

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="laotie")
        return self._executor

    def close(self) -> None:
        """Stop the engine's helper thread (it is also stopped when the engine is collected)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def __del__(self) -> None:
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=False)

    def run(self, days: int, progress: bool = False) -> None:
        """Advance ``days`` days (with a progress bar when ``progress``)."""
        steps = range(days)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="days", unit="day")
        for _ in steps:
            self.step()

    # ------------------------------------------------------------------ phases
    def _new_month(self) -> None:
        self.spent[:] = 0
        if self.day == 0:
            return
        if self.last_month_flags is not None:
            before, now = self.last_month_flags, self.month_flags
            record = {"month": self.day // 30 - 1}
            for name, bits in (("all", 3), ("trust", 1), ("traffic", 2)):
                bought = (before & bits) != 0
                again = bought & ((now & bits) != 0)
                record[name] = again.sum() / bought.sum() if bought.any() else float("nan")
            self.repurchase.append(record)
        self.last_month_flags = self.month_flags
        self.month_flags = np.zeros_like(self.month_flags)

    def _activity(self) -> None:
        m = self.market
        self.active[self.active_users] = False
        draws = self.rngs["activity"].random(m.n_users, dtype=np.float32)
        self.active_users = m.users[draws < m.p_active]
        self.active[self.active_users] = True

    def _posts(self) -> tuple[np.ndarray, np.ndarray]:
        """Posting creators (seller ids) and the listing each features today."""
        m = self.market
        s = self.scenario.creators
        posting = np.flatnonzero(self.rngs["posts"].random(m.n_creators) < s.post_prob)
        start = m.catalogue_ptr[posting]
        size = m.catalogue_ptr[posting + 1] - start
        featured = start + (self.rngs["posts"].random(len(posting)) * size).astype(np.int64)
        return posting, featured

    def _reach(self, posting: np.ndarray, active_followers: np.ndarray) -> np.ndarray:
        """Reach ρ_c of every selling creator (0 for those not posting today)."""
        m = self.market
        p = self.scenario.policy
        rho = np.zeros(m.n_creators)
        if p.traffic == "head":
            followers = m.follows.count[m.creator_node].astype(np.float64)
            mean = followers.mean() if len(followers) else 0.0
            if mean > 0:
                rho[posting] = np.minimum(
                    1.0, p.reach * (followers[posting] / mean) ** p.head_exponent
                )
            else:
                rho[posting] = p.reach
            return rho
        rho[posting] = p.reach
        expected = rho * active_followers
        head = expected[m.is_head].sum()
        other = expected[~m.is_head].sum()
        if head > 0 and head > p.head_cap * (head + other):
            rho[m.is_head] *= p.head_cap * other / ((1 - p.head_cap) * head)
        return rho

    def _follow_exposures(self, posting: np.ndarray, featured: np.ndarray) -> Batch:
        m = self.market
        f = m.follows
        # Only the followers of today's posting creators are read.
        rows, owner = expand_rows(f.indptr, m.creator_node[posting].astype(np.int64))
        awake = self.active[f.user[rows]]
        main = rows[awake]
        seller_main = posting[owner[awake]]
        if len(f.buffer_user):
            posting_node = np.zeros(m.n_nodes, bool)
            posting_node[m.creator_node[posting]] = True
            extra = np.flatnonzero(posting_node[f.buffer_creator] & self.active[f.buffer_user])
        else:
            extra = np.zeros(0, np.int64)
        seller_extra = m.seller_of_node[f.buffer_creator[extra]]
        active_followers = np.bincount(
            np.concatenate([seller_main, seller_extra]), minlength=m.n_creators
        )
        rho = self._reach(posting, active_followers)
        see_main = self.rngs["follow"].random(len(main)) < rho[seller_main]
        see_extra = self.rngs["follow"].random(len(extra)) < rho[seller_extra]
        main, seller_main = main[see_main], seller_main[see_main]
        extra, seller_extra = extra[see_extra], seller_extra[see_extra]
        listing_of = np.zeros(m.n_creators, np.int64)
        listing_of[posting] = featured
        listing = np.concatenate([listing_of[seller_main], listing_of[seller_extra]])
        return Batch.make(
            len(main) + len(extra),
            FOLLOW,
            user=np.concatenate([f.user[main], f.buffer_user[extra]]),
            listing=listing,
            trust=np.concatenate([f.trust[main], f.buffer_trust[extra]]),
            memory=np.concatenate([f.memory[main], f.buffer_memory[extra]]),
            quality=m.listing_promise[listing],
            ref_kind=np.concatenate(
                [np.full(len(main), REF_FOLLOW), np.full(len(extra), REF_BUFFER)]
            ),
            ref=np.concatenate([main, extra]),
            source=np.concatenate([seller_main, seller_extra]),
        )

    def _discovery_exposures(self, posting: np.ndarray, featured: np.ndarray) -> Batch:
        m = self.market
        p = self.scenario.policy
        n_active = len(self.active_users)
        n = round(p.discovery_per_active * n_active)
        if p.traffic == "head":
            followers = m.follows.count[m.creator_node[posting]].astype(np.float64)
            weight = m.content_quality[posting] * (1.0 + followers) ** p.head_exponent
            eligible = np.arange(len(posting))
        else:
            eligible = np.flatnonzero(~m.is_head[posting])
            weight = m.content_quality[posting[eligible]]
        if n == 0 or len(eligible) == 0 or weight.sum() <= 0:
            return Batch.empty(DISCOVERY)
        viewer = self.active_users[self.rngs["discovery"].integers(0, n_active, n)]
        pick = eligible[self.rngs["discovery"].choice(len(weight), size=n, p=weight / weight.sum())]
        seller = posting[pick]
        creator = m.creator_node[seller]
        keep = viewer != creator
        viewer, seller, creator, pick = viewer[keep], seller[keep], creator[keep], pick[keep]
        kind, index = m.follows.find(viewer, creator)
        trust = np.full(len(viewer), self.scenario.creators.stranger_trust, np.float32)
        memory = np.zeros(len(viewer), np.int8)
        main, extra = kind == 1, kind == 2
        trust[main] = m.follows.trust[index[main]]
        memory[main] = m.follows.memory[index[main]]
        trust[extra] = m.follows.buffer_trust[index[extra]]
        memory[extra] = m.follows.buffer_memory[index[extra]]
        ref_kind = np.choose(kind, [REF_NONE, REF_FOLLOW, REF_BUFFER]).astype(np.int8)
        listing = featured[pick]
        return Batch.make(
            len(viewer),
            DISCOVERY,
            user=viewer,
            listing=listing,
            trust=trust,
            memory=memory,
            quality=m.listing_promise[listing],
            ref_kind=ref_kind,
            ref=index,
            source=seller,
        )

    def _storefront_exposures(self) -> Batch:
        m = self.market
        s = self.scenario.storefronts
        n_active = len(self.active_users)
        n = round(s.impressions_per_active * n_active)
        if n == 0:
            return Batch.empty(STOREFRONT)
        store = m.n_creators + self.rngs["storefront"].choice(m.n_storefronts, n, p=m.ad_share)
        start = m.catalogue_ptr[store]
        size = m.catalogue_ptr[store + 1] - start
        own = start + (self.rngs["storefront"].random(n) * size).astype(np.int64)
        viewer = self.active_users[self.rngs["storefront"].integers(0, n_active, n)]
        options = own[:, None]
        if s.comparisons > 0:
            category = m.product_category[m.listing_product[own]]
            lo = m.category_ptr[category][:, None]
            count = (m.category_ptr[category + 1] - m.category_ptr[category])[:, None]
            draws = lo + (self.rngs["storefront"].random((n, s.comparisons)) * count).astype(
                np.int64
            )
            options = np.concatenate([options, m.store_listings_by_category[draws]], axis=1)
        trust = m.storefront_trust[viewer]
        uidx = m.user_index[viewer]
        memory = np.zeros(options.shape, np.int8)
        known = np.flatnonzero(m.has_storefront_memory[uidx])
        memory[known] = m.storefront_memory[
            uidx[known, None], m.listing_seller[options[known]] - m.n_creators
        ]
        utility = self._utility(
            viewer[:, None], options, trust[:, None], m.listing_promise[options], memory
        )
        best = np.argmax(utility, axis=1)
        rows = np.arange(n)
        chosen = options[rows, best]
        return Batch.make(
            n,
            STOREFRONT,
            user=viewer,
            listing=chosen,
            trust=trust,
            memory=memory[rows, best],
            quality=m.listing_promise[chosen],
            ref_kind=REF_STOREFRONT,
            ref=uidx,
            source=m.listing_seller[chosen] - m.n_creators,
        )

    def _wom_exposures(self) -> Batch:
        m = self.market
        w = self.scenario.word_of_mouth
        live = self.recommendation_day >= self.day - w.days
        if not live.all():
            self.recommendations = self.recommendations.take(np.flatnonzero(live))
            self.recommendation_day = self.recommendation_day[live]
        recs = self.recommendations
        if len(recs) == 0:
            return Batch.empty(WOM)
        lis = m.listeners
        position, owner = expand_rows(lis.indptr, recs.user.astype(np.int64))
        listener = lis.listener[position]
        hear = self.active[listener] & (self.rngs["wom"].random(len(position)) < w.prob)
        position, owner, listener = position[hear], owner[hear], listener[hear]
        return Batch.make(
            len(position),
            WOM,
            user=listener,
            listing=recs.listing[owner],
            trust=lis.trust[position],
            memory=lis.memory[position],
            quality=np.clip(recs.quality[owner], 0, 1),
            ref_kind=REF_SOCIAL,
            ref=position,
            source=recs.user[owner],
        )

    # ------------------------------------------------------------------ decisions
    def _utility(
        self,
        user: np.ndarray,
        listing: np.ndarray,
        trust: np.ndarray,
        quality: np.ndarray,
        memory: np.ndarray,
    ) -> np.ndarray:
        m = self.market
        d = self.scenario.decision
        return (
            d.intercept
            + d.trust_weight * trust
            + d.quality_weight * (quality - 0.5)
            - m.price_factor[user] * m.listing_price[listing]
            + d.repeat_weight * memory
        )

    def _decide(self, e: Batch) -> tuple[Orders, np.ndarray]:
        m = self.market
        s = self.scenario
        rng = self.rngs["decide"]
        utility = self._utility(e.user, e.listing, e.trust, e.quality, e.memory)
        candidate = np.flatnonzero(rng.random(len(e)) < expit(utility))
        c = e.take(candidate)
        d = s.decision
        items = 1 + rng.poisson(d.basket_extra_items * (1 + d.basket_trust_effect * c.trust))
        value = items * m.listing_price[c.listing]
        rank = rng.permutation(len(c))
        order = np.lexsort((rank, c.user))
        user = c.user[order]
        first = np.ones(len(order), bool)
        first[1:] = user[1:] != user[:-1]
        if s.population.repeat_purchases:
            total = np.cumsum(value[order])
            group_start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
            before = np.where(group_start > 0, total[group_start - 1], 0.0)
            accept_sorted = total - before <= m.budget[user] - self.spent[user] + 1e-9
            blocked_sorted = ~accept_sorted
        else:
            fits = value[order] <= m.budget[user] - self.spent[user] + 1e-9
            eligible = first & ~self.ever_ordered[user]
            accept_sorted = eligible & fits
            blocked_sorted = eligible & ~fits
        accept = np.zeros(len(c), bool)
        accept[order] = accept_sorted
        blocked = np.zeros(len(c), bool)
        blocked[order] = blocked_sorted
        blocked_counts = np.bincount(c.channel[blocked], minlength=4)
        # Accepted orders in the day's random order.
        keep = np.flatnonzero(accept)
        keep = keep[np.argsort(rank[keep], kind="stable")]
        orders = Orders(c.take(keep), items[keep], value[keep])
        return orders, blocked_counts

    def _outcomes(self, orders: Orders) -> int:
        m = self.market
        s = self.scenario
        o = s.outcomes
        b = orders.batch
        n = len(b)
        product = m.listing_product[b.listing]
        experienced = m.product_quality[product] + self.rngs["outcomes"].normal(
            0, o.quality_noise, n
        )
        satisfied = experienced >= b.quality - o.tolerance
        orders.satisfied, orders.experienced = satisfied, experienced.astype(np.float32)
        new_trust = np.where(
            satisfied, b.trust + o.trust_gain * (1 - b.trust), b.trust - o.trust_loss * b.trust
        ).astype(np.float32)
        new_memory = np.where(satisfied, 1, -1).astype(np.int8)
        f = m.follows
        for kind, trust_arr, memory_arr in (
            (REF_SOCIAL, m.listeners.trust, m.listeners.memory),
            (REF_FOLLOW, f.trust, f.memory),
            (REF_BUFFER, f.buffer_trust, f.buffer_memory),
        ):
            at = _last_per_key(np.flatnonzero(b.ref_kind == kind), b.ref)
            trust_arr[b.ref[at]] = new_trust[at]
            memory_arr[b.ref[at]] = new_memory[at]
        store = np.flatnonzero(b.ref_kind == REF_STOREFRONT)
        at = _last_per_key(store, b.user)
        m.storefront_trust[b.user[at]] = new_trust[at]
        pair = b.ref.astype(np.int64) * m.n_storefronts + b.source
        at = _last_per_key(store, pair)
        m.storefront_memory[b.ref[at], b.source[at]] = new_memory[at]
        m.has_storefront_memory[b.ref[at]] = True

        # Satisfied strangers from discovery may follow the creator.
        stranger = np.flatnonzero((b.channel == DISCOVERY) & (b.ref_kind == REF_NONE) & satisfied)
        follow = stranger[self.rngs["outcomes"].random(len(stranger)) < s.creators.follow_prob]
        creator = m.creator_node[b.source[follow]]
        _, first = np.unique(
            b.user[follow].astype(np.int64) * m.n_nodes + creator, return_index=True
        )
        follow = follow[np.sort(first)]
        new_follows = f.add(
            b.user[follow], m.creator_node[b.source[follow]], new_trust[follow], new_memory[follow]
        )

        # Money, budgets and the record of who bought.
        value = orders.value
        np.add.at(self.spent, b.user, value)
        self.ever_ordered[b.user] = True
        seller = m.listing_seller[b.listing]
        self.seller_gmv += np.bincount(seller, weights=value, minlength=m.n_sellers)
        self.listing_orders += np.bincount(b.listing, minlength=len(self.listing_orders))
        by_creator = seller < m.n_creators
        self.creator_income += s.creators.commission * np.bincount(
            seller[by_creator], weights=value[by_creator], minlength=m.n_creators
        )
        producer = m.product_producer[product]
        made = producer >= 0
        self.producer_income += s.producers.income_share * np.bincount(
            producer[made], weights=value[made], minlength=m.n_producers
        )
        if made.any():
            self.producer_orders += np.bincount(producer[made], minlength=m.n_producers)
            keys = np.unique(producer[made].astype(np.int64) * m.n_nodes + b.user[made])
            new = keys[~(_contains(self._pair_keys, keys) | _contains(self._pair_buffer, keys))]
            self.producer_buyers += np.bincount(new // m.n_nodes, minlength=m.n_producers)
            self._pair_buffer = np.union1d(self._pair_buffer, new)
            if len(self._pair_buffer) > max(PAIR_BUFFER_MIN, len(self._pair_keys) // 20):
                self._pair_keys = np.union1d(self._pair_keys, self._pair_buffer)
                self._pair_buffer = self._pair_buffer[:0]
        family = np.where(b.channel == STOREFRONT, 2, 1).astype(np.int8)
        np.bitwise_or.at(self.month_flags, b.user, family)

        # Satisfied orders recommend from tomorrow.
        happy = np.flatnonzero(satisfied)
        rec = b.take(happy)
        rec.quality = orders.experienced[happy]
        self.recommendations = Batch.concat([self.recommendations, rec])
        self.recommendation_day = np.concatenate(
            [self.recommendation_day, np.full(len(happy), self.day, np.int32)]
        )
        return new_follows

    def recommend(
        self,
        users: np.ndarray,
        listing: int | np.ndarray,
        quality: float | np.ndarray | None = None,
    ) -> None:
        """Make ``users`` recommend ``listing`` from the next simulated day.

        The first wave of a word-of-mouth cascade: each user becomes a satisfied buyer of the
        listing whose recommendation is heard from the next day on, and counts as having
        ordered.

        Parameters
        ----------
        users : array of int
            Node ids of registered users.
        listing : int or array of int
            Listing id(s) (see ``engine.market``), one for all users or one per user.
        quality : float or array, optional
            The recommenders' experienced quality (what listeners perceive), in [0, 1];
            default: the product's true quality.
        """
        from ..errors import ScenarioError

        m = self.market
        users = np.asarray(users, dtype=np.int64)
        listing = np.broadcast_to(np.asarray(listing, dtype=np.int64), users.shape)
        if users.size and (
            users.min() < 0 or users.max() >= m.n_nodes or not m.is_user[users].all()
        ):
            raise ScenarioError("Engine.recommend: users must be node ids of registered users")
        if listing.size and (listing.min() < 0 or listing.max() >= len(m.listing_product)):
            raise ScenarioError(
                f"Engine.recommend: listing ids must be in 0 .. {len(m.listing_product) - 1}"
            )
        seller = m.listing_seller[listing]
        rec = Batch.make(
            len(users),
            WOM,
            user=users,
            listing=listing,
            trust=0,
            memory=0,
            quality=m.product_quality[m.listing_product[listing]] if quality is None else quality,
            ref_kind=REF_NONE,
            ref=-1,
            source=seller,
        )
        self.recommendations = Batch.concat([self.recommendations, rec])
        self.recommendation_day = np.concatenate(
            [self.recommendation_day, np.full(len(users), self.day - 1, np.int32)]
        )
        self.ever_ordered[users] = True

    def _shock(self) -> None:
        """On ``shock.day``, the chosen product's true quality becomes ``shock.quality``; on
        ``shock.day + shock.days`` it is restored. Promises do not change (sellers promise
        what they promised before), and no random number is drawn."""
        m = self.market
        k = self.scenario.shock
        if self.day == k.day + k.days:
            if self.shock_product >= 0:
                m.product_quality[self.shock_product] = self._shock_restore
            return
        eligible = np.ones(len(self.listing_orders), bool)
        if k.rule == "creator":
            eligible = m.listing_seller < m.n_creators
        elif k.rule == "storefront":
            eligible = m.listing_seller >= m.n_creators
        candidates = np.flatnonzero(eligible)
        if len(candidates) == 0:
            return
        # argmax returns the first maximum: ties go to the lowest listing id.
        listing = int(candidates[np.argmax(self.listing_orders[candidates])])
        self.shock_listing = listing
        self.shock_product = int(m.listing_product[listing])
        self.shock_seller = int(m.listing_seller[listing])
        self._shock_restore = m.product_quality[self.shock_product]
        m.product_quality[self.shock_product] = np.float32(k.quality)

    def _train(self) -> None:
        m = self.market
        t = self.scenario.training
        pool = np.arange(m.n_creators)
        if t.rule == "local":
            pool = pool[~m.is_head]
        elif t.rule == "rural":
            pool = pool[m.rural[m.creator_node]]
        k = min(t.n_creators, len(pool))
        if t.rule == "followers":
            followers = m.follows.count[m.creator_node]
            chosen = np.lexsort((pool, -followers[pool]))[:k]
            chosen = pool[chosen]
        else:
            # A prefix of one random order: a larger k trains a superset of a smaller k's
            # creators (with the same seed), so that sweeps over k compare like with like.
            chosen = self.rngs["training"].permutation(pool)[:k]
        self.trained = np.sort(chosen)
        m.authenticity[chosen] = np.minimum(1, m.authenticity[chosen] + t.authenticity_gain)
        m.content_quality[chosen] = np.minimum(
            1, m.content_quality[chosen] + t.content_quality_gain
        )
        m.update_promises()
        if t.follower_gain == 0 or k == 0 or m.n_users == 0:
            return
        creator = np.repeat(m.creator_node[chosen], t.follower_gain)
        user = m.users[self.rngs["training"].integers(0, m.n_users, len(creator))]
        kind, _ = m.follows.find(user, creator)
        keep = (user != creator) & (kind == 0)
        user, creator = user[keep], creator[keep]
        _, first = np.unique(user.astype(np.int64) * m.n_nodes + creator, return_index=True)
        first = np.sort(first)
        stranger = self.scenario.creators.stranger_trust
        m.follows.add(
            user[first],
            creator[first],
            np.full(len(first), stranger, np.float32),
            np.zeros(len(first), np.int8),
        )


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``keys`` is in ``sorted_keys`` (sorted, unique)."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def _last_per_key(index: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Of the entries ``index`` (in day order), the last one for each distinct ``key``."""
    if len(index) == 0:
        return index
    reversed_keys = key[index][::-1]
    _, first = np.unique(reversed_keys, return_index=True)
    return index[::-1][first]
