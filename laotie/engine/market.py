"""The market's set-up: users, sellers, products and listings (docs/model.md 3.4).

Everything is a numpy array indexed by node id, seller id, product id or listing id, built in
bulk from a :class:`~laotie.graph.TrustGraph` and a :class:`~laotie.scenario.Scenario`. The
market also holds the engine's view of the graph's ties (:mod:`laotie.engine.ties`), with its
own copies of the trust weights, because trust changes during a run; the graph a user passed
in is never modified.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._memory import size_text
from ..errors import ScenarioError
from ..graph._core import HEAD, LOCAL_CREATOR, NOT_CREATOR, OUTSIDE, TrustGraph
from ..scenario import Scenario
from .memories import StorefrontMemory, row_bytes
from .rules.information import hashed_uniform
from .rules.producers import offline_incomes
from .sampling import beta, cdf_table, lognormal
from .ties import Follows, Listeners, follow_edges

__all__ = ["Layout", "Market", "beta", "lognormal"]

MAX_STOREFRONT_MEMORY_BYTES = 2_000_000_000


@dataclass(frozen=True)
class Layout:
    """The sizes of one replication's index spaces, for R replications in lockstep.

    With R replications the engine's arrays stack them: node ``i`` of replication ``r`` is
    ``r * nodes + i`` (users, products and producers likewise); sellers are every
    replication's creators (``r * creators + c``) followed by every replication's
    storefronts (``R * creators + r * storefronts + s``); a listing's replication is that of
    its product (``Market.listing_index[r, l]`` is replication r's listing l).
    """

    replications: int
    nodes: int
    users: int
    creators: int
    storefronts: int
    products: int
    producers: int

    @classmethod
    def of(cls, part: Market, replications: int) -> Layout:
        return cls(
            replications,
            part.n_nodes,
            part.n_users,
            part.n_creators,
            part.n_storefronts,
            part.n_products,
            part.n_producers,
        )


class Market:
    """Users, selling creators, storefronts, products and listings (docs/model.md, 3.4).

    Sellers are numbered with the selling creators first (``0 .. n_creators - 1``, in node
    order) and the storefronts after them. A listing is a (seller, product) pair with the
    seller's promise of the product's quality. With several generators the replications'
    markets are drawn one by one and stacked (:class:`Layout`).

    Parameters
    ----------
    graph : TrustGraph
        The city (not modified: the market copies the trust it changes).
    scenario : Scenario
        The parameters of the set-up.
    rng : Generator or sequence of Generator
        The set-up's stream, one per lockstep replication.
    enrolled : numpy.ndarray, optional
        The poor producers, by node id (sorted, checked), the same in every replication
        (``producers.n_producers`` is not used): a programme's enrolment. Their specialties,
        offline incomes and listings are then drawn by node, not by position, so that a
        producer enrolled in two sets is the same producer in both (common random numbers).
    threads : int
        Threads that sort a large graph's ties for the listeners (the engine's; the market is
        the same for any number).

    Raises
    ------
    ScenarioError
        If no generator is given, if the table of storefront memories would be too large, or
        if lockstep replications drew markets of different sizes.
    """

    def __init__(
        self,
        graph: TrustGraph,
        scenario: Scenario,
        rng: np.random.Generator | Sequence[np.random.Generator],
        enrolled: np.ndarray | None = None,
        threads: int = 1,
    ) -> None:
        rngs = [rng] if isinstance(rng, np.random.Generator) else list(rng)
        if not rngs:
            raise ScenarioError("Market: no random generator given (one per replication)")
        # Each replication's market is drawn exactly as a run of it alone would draw it, then
        # the replications are stacked (see Layout): with one replication nothing changes.
        parts = []
        for generator in rngs:
            part = object.__new__(Market)
            part._draw(graph, scenario, generator, enrolled)
            parts.append(part)
        self.replications = len(parts)
        if len(parts) == 1:
            self.__dict__.update(parts[0].__dict__)
            self.layout = Layout.of(parts[0], 1)
        else:
            self._stack(graph, parts)
        self._finish(graph, scenario, threads)

    def _draw(
        self,
        graph: TrustGraph,
        s: Scenario,
        rng: np.random.Generator,
        enrolled: np.ndarray | None = None,
    ) -> None:
        """One replication's users, sellers, products and (unsorted) listings."""
        n = graph.n_nodes
        self.n_nodes = n
        self.rural = graph.rural
        # --- users
        self.is_user = graph.user.copy()
        users = np.flatnonzero(self.is_user)
        self.users = users.astype(np.int32)
        self.n_users = len(users)
        self.user_index = np.full(n, -1, np.int32)
        self.user_index[users] = np.arange(self.n_users, dtype=np.int32)
        # Users who create (selling creators and government accounts), by user index.
        self.user_creates = graph.creator_kind[users] != NOT_CREATOR
        pop = s.population
        # Activity probability per user (indexed like ``users``, not by node).
        self.p_active = beta(rng, pop.activity_mean, pop.activity_concentration, self.n_users)
        self.budget = np.zeros(n, np.float64)
        self.budget[users] = lognormal(rng, pop.budget_mean, pop.budget_dispersion, self.n_users)
        self.price_sensitivity = np.zeros(n, np.float32)
        self.price_sensitivity[users] = lognormal(
            rng, 1.0, pop.price_sensitivity_dispersion, self.n_users
        )
        # The price term of the logit per unit price: price_weight · ψ_i / (B_i / 30).
        self.price_factor = np.zeros(n, np.float64)
        self.price_factor[users] = (
            s.decision.price_weight * 30 * self.price_sensitivity[users] / self.budget[users]
        )
        self.storefront_trust = np.zeros(n, np.float32)
        self.storefront_trust[users] = s.storefronts.trust
        # Each user's purchase propensity α_i ~ N(0, σ): an offset of the purchase logit,
        # from a stream jumped ahead of the set-up's so that every other draw is the same
        # whatever σ (paired arms of a sweep share them).
        self.propensity = np.zeros(n, np.float64)
        if pop.propensity_dispersion > 0:
            bits: Any = rng.bit_generator  # PCG64 (default_rng) and every jumpable one
            own = np.random.Generator(bits.jumped())
            self.propensity[users] = own.normal(0.0, pop.propensity_dispersion, self.n_users)

        # --- sellers
        kinds = graph.creator_kind
        selling = (kinds == HEAD) | (kinds == LOCAL_CREATOR) | (kinds == OUTSIDE)
        creators = np.flatnonzero(selling).astype(np.int32)
        self.creator_node = creators
        self.n_creators = len(creators)
        self.seller_of_node = np.full(n, -1, np.int32)
        self.seller_of_node[creators] = np.arange(self.n_creators, dtype=np.int32)
        # Creators outside the city are heads for the traffic policy (national heads).
        self.is_head = (kinds[creators] == HEAD) | (kinds[creators] == OUTSIDE)
        self.creator_resident = kinds[creators] != OUTSIDE
        self.n_storefronts = s.storefronts.n_storefronts
        n_sellers = self.n_creators + self.n_storefronts
        self.n_sellers = n_sellers
        self.authenticity = np.concatenate(
            [
                beta(
                    rng,
                    s.creators.authenticity_mean,
                    s.creators.authenticity_concentration,
                    self.n_creators,
                ),
                beta(
                    rng,
                    s.storefronts.authenticity_mean,
                    s.storefronts.authenticity_concentration,
                    self.n_storefronts,
                ),
            ]
        )
        # Each storefront's share of the ad impressions is proportional to its ad budget.
        budget = lognormal(rng, 1.0, s.storefronts.ad_budget_dispersion, self.n_storefronts)
        self.ad_share = budget / budget.sum()
        self.content_quality = beta(
            rng,
            s.creators.content_quality_mean,
            s.creators.content_quality_concentration,
            self.n_creators,
        )

        # --- products: the sellers' (their own, or a shared catalogue's), then the
        # producers' specialties
        k = s.products.n_categories
        n_own = self.n_creators * s.creators.catalogue_size
        n_store = self.n_storefronts * s.storefronts.products_per_storefront
        seller = np.concatenate(
            [
                np.repeat(np.arange(self.n_creators), s.creators.catalogue_size),
                self.n_creators
                + np.repeat(np.arange(self.n_storefronts), s.storefronts.products_per_storefront),
            ]
        )
        if s.products.catalogue == "shared":
            category, price, quality, product = self._shared_catalogue(s, rng)
        else:
            category = rng.integers(0, k, n_own + n_store)
            price = np.concatenate(
                [
                    lognormal(rng, s.creators.price_mean, s.creators.price_dispersion, n_own),
                    lognormal(
                        rng, s.storefronts.price_mean, s.storefronts.price_dispersion, n_store
                    ),
                ]
            )
            quality = beta(
                rng, s.products.quality_mean, s.products.quality_concentration, n_own + n_store
            )
            product = np.arange(n_own + n_store)
        producer_of = np.full(len(price), -1, np.int64)

        # The producers, their specialties and each channel's listings draw from streams of
        # their own, so that arms differing in producers.channel (or listings) share the same
        # producers and products (common random numbers).
        who, goods, by_creators, by_storefronts, offline = rng.spawn(5)
        producers, spec_seller, spec_product = self._producers(
            s, graph, (who, by_creators, by_storefronts), len(price), enrolled
        )
        n_spec = len(producers)
        self.producer_node = producers
        self.n_producers = n_spec
        self.producer_listed = np.isin(np.arange(n_spec), spec_product - len(price))
        # Drawn by position, or with an enrolment by node: one draw per node of the graph,
        # each producer taking its node's (the same whichever others are enrolled).
        drawn, take = (n_spec, slice(None)) if enrolled is None else (n, producers)
        self.producer_offline = offline_incomes(s.producers, offline, drawn)[take]
        spec_price = lognormal(goods, s.producers.price_mean, s.creators.price_dispersion, drawn)
        spec_quality = beta(goods, s.products.quality_mean, s.products.quality_concentration, drawn)
        category = np.concatenate([category, np.full(n_spec, k)])
        price = np.concatenate([price, spec_price[take]])
        quality = np.concatenate([quality, spec_quality[take]])
        producer_of = np.concatenate([producer_of, np.arange(n_spec)])
        self.product_category = category.astype(np.int32)
        self.product_price = price.astype(np.float64)
        self.product_quality = quality.astype(np.float32)
        # What sellers know of their products and promise from: the true quality at the
        # start. A shock (docs/model.md 3.5) changes only the true quality.
        self.product_known_quality = self.product_quality.copy()
        self.product_producer = producer_of
        self.n_products = len(price)

        # --- listings, sorted by seller so that each seller's catalogue is a slice
        seller = np.concatenate([seller, spec_seller])
        product = np.concatenate([product, spec_product])
        order = np.lexsort((product, seller))
        self.listing_seller = seller[order].astype(np.int32)
        self.listing_product = product[order].astype(np.int32)
        self.overstatement = s.outcomes.overstatement

    def _stack(self, graph: TrustGraph, parts: list[Market]) -> None:
        """Stack the replications' markets into one (the index spaces of :class:`Layout`)."""
        first = parts[0]
        R = len(parts)
        layout = Layout.of(first, R)
        for part in parts[1:]:
            if Layout.of(part, R) != layout:
                raise ScenarioError(
                    "lockstep replications drew markets of different sizes "
                    f"({Layout.of(part, R)} vs {layout}); run the replications separately"
                )
        self.layout = layout
        n, U, C, S, P, J = (
            layout.nodes,
            layout.users,
            layout.creators,
            layout.storefronts,
            layout.products,
            layout.producers,
        )

        def cat(name: str, offset: int = 0, where_valid: bool = False) -> np.ndarray:
            arrays = []
            for r, part in enumerate(parts):
                a = getattr(part, name)
                if offset:
                    a = np.where(a >= 0, a + r * offset, a) if where_valid else a + r * offset
                arrays.append(a)
            return np.concatenate(arrays)

        self.n_nodes = R * n
        self.rural = np.tile(graph.rural, R)
        self.is_user = cat("is_user")
        self.users = cat("users", n).astype(np.int32)
        self.n_users = R * U
        self.user_index = cat("user_index", U, where_valid=True).astype(np.int32)
        self.user_creates = cat("user_creates")
        for name in (
            "p_active",
            "budget",
            "price_sensitivity",
            "price_factor",
            "storefront_trust",
            "propensity",
        ):
            setattr(self, name, cat(name))
        self.creator_node = cat("creator_node", n).astype(np.int32)
        self.n_creators = R * C
        self.seller_of_node = cat("seller_of_node", C, where_valid=True).astype(np.int32)
        self.is_head = cat("is_head")
        self.creator_resident = cat("creator_resident")
        self.n_storefronts = R * S
        self.n_sellers = R * (C + S)
        # Sellers: every replication's creators first, then every replication's storefronts.
        self.authenticity = np.concatenate(
            [p.authenticity[:C] for p in parts] + [p.authenticity[C:] for p in parts]
        )
        self.ad_share = cat("ad_share")
        self.content_quality = cat("content_quality")
        for name in ("product_category", "product_price", "product_quality"):
            setattr(self, name, cat(name))
        self.product_known_quality = cat("product_known_quality")
        self.product_producer = cat("product_producer", J, where_valid=True)
        self.n_products = R * P
        self.producer_node = cat("producer_node", n)
        self.producer_offline = cat("producer_offline")
        self.producer_listed = cat("producer_listed")
        self.n_producers = R * J
        rep = np.concatenate([np.full(len(p.listing_seller), r) for r, p in enumerate(parts)])
        local = cat("listing_seller").astype(np.int64)
        seller = np.where(local < C, rep * C + local, R * C + rep * S + (local - C))
        product = cat("listing_product", P)
        order = np.lexsort((product, seller))
        self.listing_seller = seller[order].astype(np.int32)
        self.listing_product = product[order].astype(np.int32)
        self.overstatement = first.overstatement
        # listing_index[r][l]: the stacked id of replication r's listing l.
        where = np.empty(len(order), np.int64)
        where[order] = np.arange(len(order))
        bounds = np.cumsum([0] + [len(p.listing_seller) for p in parts])
        self.listing_index = [where[a:b] for a, b in itertools.pairwise(bounds)]

    def _finish(self, graph: TrustGraph, s: Scenario, threads: int = 1) -> None:
        """What follows from the (stacked) draws: catalogues, promises, categories and the
        engine's view of the graph."""
        R = self.replications
        layout = self.layout
        if R == 1:
            self.listing_index = [np.arange(len(self.listing_seller), dtype=np.int64)]
        self.listing_replication = self.listing_product // max(layout.products, 1)
        n_sellers = self.n_sellers
        self.catalogue_ptr = np.zeros(n_sellers + 1, np.int64)
        np.cumsum(np.bincount(self.listing_seller, minlength=n_sellers), out=self.catalogue_ptr[1:])
        self.listing_price = self.product_price[self.listing_product]
        self.update_promises()
        # The key of a listing for price comparison (比价): replication * (k + 1) + category.
        self.n_category_keys = R * (s.products.n_categories + 1)
        self.listing_category_key = (
            self.listing_replication * (s.products.n_categories + 1)
            + self.product_category[self.listing_product]
        )
        # The column of a storefront's listing in its viewers' storefront-memory rows (the
        # storefront's index in its replication; -1 for a creator's listing), the one place
        # every rule that reads or writes a storefront memory finds it (the storefront's
        # choice, outcomes, warnings, return visits): a look-up for each option a storefront
        # impression compares, where a division by the storefronts took about a tenth of the
        # kernel (rules/storefront.py, `_choose`).
        store = self.listing_seller.astype(np.int64) - self.n_creators
        self.listing_store_column = np.where(
            store >= 0, store % max(layout.storefronts, 1), -1
        ).astype(np.int32)
        # Who uses the platform, which creators sell and which storefronts are open: all of
        # them unless the platform grows (rules/growth.py).
        self.adopted = np.ones(self.n_users, bool)
        self.selling = np.ones(self.n_creators, bool)
        self.storefront_open = np.ones(self.n_storefronts, bool)
        # Which producers sell online, and since which day (growth: from the day they
        # enter; every listed producer from the first day without growth).
        self.producer_online = self.producer_listed.copy()
        self.producer_since = np.zeros(self.n_producers, np.int64)
        self.update_offer()

        # --- the engine's view of the graph
        self.listeners = Listeners.from_graph(graph, R, threads)
        self.follows = Follows(graph, R)
        # Storefront memory m_is: two bits per (user, storefront of the user's replication).
        table_bytes = self.n_users * row_bytes(layout.storefronts)
        if table_bytes > MAX_STOREFRONT_MEMORY_BYTES:
            raise ScenarioError(
                f"storefronts.n_storefronts = {layout.storefronts:,} with {self.n_users:,} "
                f"users needs a {size_text(table_bytes)} table of storefront memories (two "
                f"bits per user and storefront, {row_bytes(layout.storefronts):,} bytes a user); "
                "the limit is "
                f"{size_text(MAX_STOREFRONT_MEMORY_BYTES)}: use fewer storefronts or a "
                "smaller city" + (" or fewer lockstep replications" if R > 1 else "")
            )
        self.storefront_memory = StorefrontMemory(self.n_users, layout.storefronts)
        # Whether a user has any storefront memory: most never buy at a storefront, and
        # skipping their rows avoids random reads of the large memory table.
        self.has_storefront_memory = np.zeros(self.n_users, bool)

    def _shared_catalogue(
        self, s: Scenario, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The shared catalogue's products (category, price, quality) and each seller's
        listed products: ``catalogue_size`` (creators) or ``products_per_storefront``
        (storefronts) distinct products drawn uniformly, seller by seller."""
        g = s.products
        category = rng.integers(0, g.n_categories, g.n_products)
        price = lognormal(rng, g.price_mean, g.price_dispersion, g.n_products)
        quality = beta(rng, g.quality_mean, g.quality_concentration, g.n_products)
        sizes = [s.creators.catalogue_size] * self.n_creators + [
            s.storefronts.products_per_storefront
        ] * self.n_storefronts
        chosen = [rng.choice(g.n_products, size, replace=False) for size in sizes]
        product = np.concatenate([np.zeros(0, np.int64), *chosen])
        return category, price, quality, product

    def _producers(
        self,
        s: Scenario,
        graph: TrustGraph,
        rngs: tuple[np.random.Generator, np.random.Generator, np.random.Generator],
        first_product: int,
        enrolled: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Producer nodes and the (seller, product) listings of their specialties.

        ``rngs``: the streams of who the producers are, of the creators' listings and of the
        storefronts' listings; ``enrolled``: the producers' nodes given instead of drawn, with
        the listings' draws keyed by producer node and seller."""
        rng, by_creators, by_storefronts = rngs
        p = s.producers
        empty = np.zeros(0, np.int64)
        if enrolled is not None:
            producers = np.asarray(enrolled, np.int64)
            if len(producers) == 0:
                return empty, empty, empty
        elif p.n_producers == 0:
            return empty, empty, empty
        else:
            pool = np.flatnonzero(graph.rural)
            if len(pool) < p.n_producers:
                pool = np.flatnonzero(graph.resident)
            size = min(p.n_producers, len(pool))
            producers = np.sort(rng.choice(pool, size=size, replace=False))
        products = first_product + np.arange(len(producers))
        sellers, listed = [], []
        if p.channel in ("creators", "both"):
            s_, l_ = self._recruits(
                p.recruit, p.listings, graph, producers, products, by_creators, enrolled is not None
            )
            sellers += s_
            listed += l_
        if p.channel in ("storefronts", "both"):
            take = min(p.listings, self.n_storefronts)
            if enrolled is None:
                keys = by_storefronts.random((len(producers), self.n_storefronts))
            else:
                keys = _keyed(_salt(by_storefronts), producers, np.arange(self.n_storefronts))
            chosen = np.argsort(keys, axis=1)[:, :take]
            sellers.append(self.n_creators + chosen.ravel())
            listed.append(np.repeat(products, take))
        if not sellers:
            return producers, empty, empty
        return producers, np.concatenate(sellers), np.concatenate(listed)

    def _recruits(
        self,
        rule: str,
        listings: int,
        graph: TrustGraph,
        producers: np.ndarray,
        products: np.ndarray,
        rng: np.random.Generator,
        by_node: bool = False,
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The creators who list each producer's specialty (``producers.recruit``); with
        ``by_node``, each producer's draws keyed by its node and the creators' nodes."""
        salt = _salt(rng) if by_node and rule != "followers" else None
        if rule == "followers":
            # The same most-followed creators of the city for every producer.
            # (Creators outside the city are not the city's to recruit, here as below.)
            followers = np.bincount(follow_edges(graph)[1], minlength=graph.n_nodes)
            residents = np.flatnonzero(self.creator_resident)
            order = residents[np.lexsort((residents, -followers[self.creator_node[residents]]))]
            top = order[: min(listings, len(residents))]
            return [np.tile(top, len(producers))], [np.repeat(products, len(top))]
        if rule == "random":
            pool = np.flatnonzero(self.creator_resident)
            groups = [(np.arange(len(producers)), pool)]
        else:
            candidate = ~self.is_head
            if rule == "rural":
                candidate &= graph.rural[self.creator_node]
            pool_all = np.flatnonzero(candidate)
            pool_region = graph.region[self.creator_node[pool_all]]
            groups = [
                (np.flatnonzero(graph.region[producers] == r), pool_all[pool_region == r])
                for r in np.unique(graph.region[producers])
            ]
        sellers, listed = [], []
        # Per producer: up to `listings` creators of its pool, chosen uniformly.
        for mine, pool in groups:
            if len(pool) == 0:
                continue
            take = min(listings, len(pool))
            for start in range(0, len(mine), max(1, 2**22 // len(pool))):  # bounded scratch
                part = mine[start : start + max(1, 2**22 // len(pool))]
                keys = (
                    rng.random((len(part), len(pool)))
                    if salt is None
                    else _keyed(salt, producers[part], self.creator_node[pool])
                )
                chosen = np.argsort(keys, axis=1)[:, :take]
                sellers.append(pool[chosen].ravel())
                listed.append(np.repeat(products[part], take))
        return sellers, listed

    def update_offer(self) -> None:
        """What is on offer, from :attr:`storefront_open` and :attr:`producer_online`.

        A listing is on the shelf unless it is the specialty of a producer not online; each
        seller's listings on the shelf, in listing order, are the slice
        ``shelf_listing[shelf_ptr[s]:shelf_ptr[s + 1]]`` (the whole catalogue when every
        producer is online: then ``shelf_listing`` is ``0, 1, 2, ...``). Storefront ads are
        drawn among the open storefronts only, in proportion to their ad budgets (per
        replication, the cumulative ad shares and their look-up tables,
        :func:`~laotie.engine.sampling.cdf_table`), and prices are compared among the open
        storefronts' listings on the shelf. A replication needs an open storefront when it
        has any."""
        R, S = self.replications, self.layout.storefronts
        producer = self.product_producer[self.listing_product]
        online = np.concatenate([self.producer_online, [True]])  # [-1]: no producer
        self.listing_on_shelf = online[producer]
        shelf = np.flatnonzero(self.listing_on_shelf)
        self.shelf_listing = shelf.astype(np.int64)
        self.shelf_ptr = np.zeros(self.n_sellers + 1, np.int64)
        np.cumsum(
            np.bincount(self.listing_seller[shelf], minlength=self.n_sellers),
            out=self.shelf_ptr[1:],
        )
        weights = np.where(self.storefront_open, self.ad_share, 0.0)
        shares = weights.reshape(R, S).cumsum(axis=1)
        self.ad_cdf = shares / shares[:, -1:] if S else shares
        self.ad_low, self.ad_high = cdf_table(self.ad_cdf.reshape(R, S))
        # The open storefronts' listings on the shelf by comparison key (price comparison).
        open_seller = np.concatenate([np.zeros(self.n_creators, bool), self.storefront_open])
        store_listings = np.flatnonzero(open_seller[self.listing_seller] & self.listing_on_shelf)
        cats = self.listing_category_key[store_listings]
        by_cat = np.argsort(cats, kind="stable")
        self.store_listings_by_category = store_listings[by_cat].astype(np.int64)
        self.category_ptr = np.zeros(self.n_category_keys + 1, np.int64)
        np.cumsum(np.bincount(cats, minlength=self.n_category_keys), out=self.category_ptr[1:])

    def shelf_draw(self, seller: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The listing of each ``seller``'s shelf that the uniform ``u`` picks:
        the ``⌊u·n⌋``-th of its ``n`` listings on the shelf."""
        start = self.shelf_ptr[seller]
        size = self.shelf_ptr[seller + 1] - start
        return self.shelf_listing[start + (u * size).astype(np.int64)]

    def update_promises(self) -> None:
        """Recompute every listing's promise ``min(1, q + overstatement · (1 - a_seller))``
        from the quality sellers know (the true quality before any shock)."""
        self.listing_promise = np.minimum(
            1.0,
            self.product_known_quality[self.listing_product]
            + self.overstatement * (1 - self.authenticity[self.listing_seller]),
        ).astype(np.float32)


def _salt(rng: np.random.Generator) -> np.uint64:
    """One salt of :func:`_keyed`'s hashes, drawn from ``rng``."""
    return np.uint64(rng.integers(0, 2**63, dtype=np.uint64))


def _keyed(salt: np.uint64, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Uniform numbers for every (row, column) pair of node ids (or indices), each a hash of
    the pair and ``salt``: the same pair has the same number whatever the other rows (a
    producer's listings whichever producers are enrolled with it)."""
    keys = rows.astype(np.uint64)[:, None] * np.uint64(2**32) + columns.astype(np.uint64)
    return hashed_uniform(keys, salt)
