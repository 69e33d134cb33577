"""The engine: one day of the market as a handful of vectorised operations.

Each phase of docs/model.md section 3.5 is one method below. Exposures are index arrays
(one entry per exposure), decisions are made in bulk, and metrics are aggregated with
bincount. Only the ties of nodes that act today are read: the followers of posting creators,
the listeners of yesterday's satisfied buyers.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit

from .._compiled import resolve_backend
from .._memory import check_fits, touch
from .._random import SeedLike, as_seed_sequence
from ..errors import LaotieError, ScenarioError
from ..graph._core import FOLLOW as FOLLOW_LAYER
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
from .draws import (
    CDF_BUCKETS,
    Uniforms,
    cdf_table,
    choice_cdf,
    inverse_cdf,
    normal,
    poisson,
)
from .information import InformationState
from .market import Market, expand_rows

__all__ = [
    "LOCKSTEP_BYTES",
    "Engine",
    "Replication",
    "engine_bytes",
    "lockstep_size",
    "replication_bytes",
]

LOCKSTEP_BYTES = 1_000_000_000
"""The state :func:`lockstep_size` lets the replications of one engine take together."""

LOCKSTEP_MAX = 64
"""At most this many replications in one engine: beyond it the speed-up no longer grows
(docs/performance.md) while the scratch arrays do."""

LOCKSTEP_NODES = 1_000_000
"""At most this many stacked residents in one engine. Lockstep spreads the fixed cost of
numpy calls (2.4x at 10,000 residents) and lets half a million stacked residents pay for the
second thread (1.5-1.7x at 30,000 and 100,000 residents); past a million stacked residents
the gain grows no further and only the memory does (docs/performance.md)."""

_UNIFORM_PHASES = (
    "activity",
    "posts",
    "follow",
    "discovery",
    "storefront",
    "wom",
    "decide",
    "outcomes",
)
"""The phases whose every random number is a uniform taken from :class:`draws.Uniforms`
(activity's are float32; training and information draw otherwise)."""

_PHASES = (*_UNIFORM_PHASES, "training", "information")
"""Every phase's stream, in the order of the seeds spawned for them (fixed: a replication's
numbers depend on it)."""

RUNS_DRAWN_IN_TURN = 8
RUN_DRAWS_FROM = 4096
"""At least ``RUN_DRAWS_FROM`` entries in at most ``RUNS_DRAWN_IN_TURN`` runs sorted by
replication draw run by run; others are sorted by replication first."""

PAIR_BUFFER_MIN = 4096
"""New (producer, buyer) pairs kept apart from the sorted main array before a merge."""

DISCOVERY_TABLES_FROM = 256
"""Creator slots per replication from which compiled discovery searches its CDFs through
look-up tables (below, the searches are short)."""

SORTED_LOOKUPS_FROM = 1 << 20
"""Follow ties from which the compiled discovery looks viewers' ties up in sorted order."""

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
    utility: np.ndarray | None = None
    """The exposures' utilities when a compiled kernel computed them as it chose the
    listings (else None; :meth:`take` and :meth:`concat` drop it)."""

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
    def blank(cls, n: int, channel: int) -> Batch:
        """``n`` exposures of ``channel`` whose other fields and ``utility`` are left
        unwritten, for a compiled kernel that writes every one of them."""
        values = {f: np.empty(n, dtype) for f, dtype in zip(_FIELDS, _DTYPES, strict=True)}
        values["channel"].fill(channel)
        return cls(**values, utility=np.empty(n))

    @classmethod
    def empty(cls, channel: int) -> Batch:
        return cls.make(0, channel, **dict.fromkeys(_FIELDS[2:], 0), user=0)

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        return cls(**{f: np.concatenate([getattr(b, f) for b in batches]) for f in _FIELDS})

    def kernel_fields(self) -> tuple[np.ndarray, ...]:
        """The arrays a compiled kernel writes exposures into: user, listing, trust, memory,
        quality, ref_kind, ref, source and utility (which must be set)."""
        assert self.utility is not None
        return (
            self.user,
            self.listing,
            self.trust,
            self.memory,
            self.quality,
            self.ref_kind,
            self.ref,
            self.source,
            self.utility,
        )

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


@dataclass
class ReplicationMarket:
    """The parts of the market a replication's results read."""

    is_head: np.ndarray


@dataclass
class Replication:
    """What one replication of a lockstep engine recorded, indexed as in an engine of that
    replication alone: creators ``0 .. C-1``, sellers (creators, then storefronts),
    producers and listings by their local ids. Arrays are views of the engine's state."""

    replication: int
    day: int
    graph: TrustGraph
    scenario: Scenario
    seed_sequence: np.random.SeedSequence
    market: ReplicationMarket
    history: list[np.ndarray]
    repurchase: list[dict[str, float]]
    order_values: np.ndarray
    information: InformationState
    creator_income: np.ndarray
    creator_exposures: np.ndarray
    producer_income: np.ndarray
    producer_orders: np.ndarray
    producer_buyers: np.ndarray
    seller_gmv: np.ndarray
    listing_orders: np.ndarray


class Engine:
    """The market of a scenario on a trust graph, advanced one day per :meth:`step`.

    Parameters
    ----------
    graph : TrustGraph
        The city; it is not modified (the engine copies the trust it changes).
    scenario : Scenario
        Every parameter of the model.
    seed : int, SeedSequence, Generator or None, or a list of them
        The market is initialised from one child stream of the seed and the days draw from
        another, so the same seed gives identical results. A list of R seeds runs R
        replications in lockstep: one engine whose state arrays stack the replications
        (:class:`~laotie.engine.market.Layout`), so that each day is one pass of the same
        vectorised operations for all of them and the graph's structure is shared.
        Replication r's numbers are identical to those of an engine given ``seed[r]`` alone
        (each replication draws from its own streams, in the same order); read them with
        :meth:`replication`.
    threads : int, optional
        2 builds the storefront and word-of-mouth exposures in a second thread while the
        creator channels are built; 1 builds them one after the other. The results are
        identical. Default: 2 from ``THREAD_THRESHOLD`` residents (counting every lockstep
        replication's), where it pays (about 1.4x at 0.76 M residents; 1.2x for 64
        replications of 10,000), else 1 (a thread costs more than it saves on small cities).
    backend : {"auto", "numpy", "numba"}, default "auto"
        ``"numba"`` runs the day's compiled kernels (numba must be installed: ``pip install
        laotie[fast]``), ``"numpy"`` the pure numpy path; ``"auto"`` uses numba when it is
        installed. The results are identical (the kernels take the same random numbers).

    Raises
    ------
    ScenarioError
        Before anything is built, if the engine would need more memory than is available
        (:func:`engine_bytes`), or for more stacked residents than its int32 ids hold.
    """

    def __init__(
        self,
        graph: TrustGraph,
        scenario: Scenario,
        seed: SeedLike = None,
        threads: int | None = None,
        backend: str = "auto",
    ) -> None:
        self.graph = graph
        self.backend = resolve_backend("Engine", backend)
        self.scenario = scenario
        self._executor: ThreadPoolExecutor | None = None
        if isinstance(seed, np.ndarray) and seed.ndim == 1:
            seed = [int(one) for one in seed]
        seeds = list(seed) if isinstance(seed, list | tuple) else [seed]
        if not seeds:
            raise ScenarioError("Engine: seed = []; give one seed per lockstep replication")
        R = len(seeds)
        if R * graph.n_nodes >= 2**31:
            raise ScenarioError(
                f"Engine: {R} lockstep replications of {graph.n_nodes:,} residents exceed the "
                "2**31 stacked node ids of the engine; use fewer replications per engine"
            )
        check_fits(
            f"Engine: {R} replication(s) of a city of {graph.n_nodes:,} residents",
            engine_bytes(graph, scenario, R),
            "use fewer lockstep replications per engine, a smaller city or fewer storefronts",
            ScenarioError,
        )
        self.replications = R
        self.threads = (
            (2 if R * graph.n_nodes >= THREAD_THRESHOLD else 1) if threads is None else threads
        )
        self.seed_sequences = [as_seed_sequence(one) for one in seeds]
        spawned = [sequence.spawn(2) for sequence in self.seed_sequences]
        self.market = Market(
            graph, scenario, [np.random.default_rng(market) for market, _ in spawned]
        )
        # One stream per phase (and per replication): changing one phase's parameters (or
        # turning it off) leaves the other phases' draws as they were, so arms of a
        # comparison share their random numbers wherever their rules agree.
        children = [dict(zip(_PHASES, day.spawn(len(_PHASES)), strict=True)) for _, day in spawned]
        # Training draws from generators; information makes its own from its seed.
        self.rngs = {"training": [np.random.default_rng(c["training"]) for c in children]}
        # The day's phases draw only uniforms from SFC64 streams, all replications' in one
        # call: with the kernels, compiled; else through pools that draw ahead for lockstep
        # replications (the same numbers either way, as one call per replication gives).
        self._streams = {
            phase: Uniforms([c[phase] for c in children], compiled=self.backend == "numba")
            for phase in _UNIFORM_PHASES
        }
        m = self.market
        layout = m.layout
        self._nodes = layout.nodes
        self._creator_replication = np.repeat(np.arange(R), layout.creators)
        n = m.n_nodes
        self.day = 0
        self.spent = np.zeros(n, np.float64)
        self.ever_ordered = np.zeros(n, bool)
        self.month_flags = np.zeros(n, np.int8)
        self.last_month_flags: np.ndarray | None = None
        self._repurchase: list[list[dict[str, float]]] = [[] for _ in range(R)]
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
        # Per day, the counts of every replication: shape (R, len(ROWS), len(COUNTS)).
        self._history: list[np.ndarray] = []
        # The last simulated day's accepted orders (buyer, channel, listing, value, satisfied,
        # ...), kept for observers that follow particular buyers or products between days.
        self.orders_today: Orders = Orders(Batch.empty(FOLLOW), np.zeros(0, np.int64), np.zeros(0))
        self._order_values = np.zeros((R, len(CHANNELS), len(ORDER_VALUE_EDGES) - 1), np.int64)
        self._counter = DayCounter(n, layout.nodes)
        self.trained: np.ndarray = np.zeros(0, np.int32)
        self.listing_orders = np.zeros(len(m.listing_product), np.int64)
        # The shocked listing, product and seller per replication (stacked ids; -1: none).
        self._shock = np.full((3, R), -1, np.int64)
        self._shock_restore = np.full(R, np.nan, np.float32)
        self._informations = [
            InformationState(graph, m.listeners.replication(r), scenario, c["information"])
            for r, c in enumerate(children)
        ]
        self._active_bounds = np.zeros(R + 1, np.int64)
        # The compiled kernels' seat table: what the day's exposures read of each active
        # user, in the order of ``active_users`` (written by the activity kernel).
        self._seats: tuple[np.ndarray, ...] | None = None
        self._active_scratch = np.zeros(0, np.int32)
        # The state arrays the days write here and there, mapped now (see _memory.touch).
        touch(
            self.spent,
            self.ever_ordered,
            self.month_flags,
            self.active,
            m.listeners.memory,
            m.storefront_memory,
            m.has_storefront_memory,
        )

    @property
    def _kernels(self) -> Any:
        """The compiled kernels' module with the numba backend, else None (imported on
        use, so that an engine holds no module and pickles)."""
        if self.backend != "numba":
            return None
        from . import _kernels_numba

        return _kernels_numba

    # ------------------------------------------------------------------ the day
    def step(self) -> np.ndarray:
        """Advance one day; return the day's counts (rows: metrics.ROWS, columns:
        metrics.COUNTS), with a first axis of replications when there are several."""
        s = self.scenario
        m = self.market
        m.follows.merge_buffer()
        if self.day == s.training.day:
            self._train()
        if s.shock.day >= 0 and self.day in (s.shock.day, s.shock.day + s.shock.days):
            self._apply_shock()
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
        orders, blocked = self._decide(batches)
        new_follows = self._outcomes(orders)
        self.orders_today = orders
        n = self._nodes
        for r, information in enumerate(self._informations):
            a, b = self._active_bounds[r], self._active_bounds[r + 1]
            information.step(self.day, self.active_users[a:b] - r * n)
        by_channel = {int(batch.channel[0]): batch.user for batch in batches if len(batch)}
        follows = np.zeros((self.replications, len(CHANNELS)), np.int64)
        follows[:, DISCOVERY] = new_follows
        counts = self._counter.count(
            [by_channel.get(c, np.zeros(0, np.int32)) for c in range(len(CHANNELS))],
            orders.batch.channel,
            orders.batch.user,
            orders.value,
            orders.items,
            (orders.batch.memory != 0).astype(np.float64),
            follows,
            blocked,
            None if self._kernels is None else self._kernels.day_counts,
        )
        self._order_values += order_value_histogram(
            orders.batch.channel, orders.value, orders.batch.user // n, self.replications
        )
        for batch in batches:
            if len(batch) and batch.channel[0] <= DISCOVERY:
                self.creator_exposures += np.bincount(batch.source, minlength=m.n_creators)
        self._history.append(counts)
        self.day += 1
        return counts[0] if self.replications == 1 else counts

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

    # ------------------------------------------------------------------ replications
    def _uniforms(self, phase: str, counts: np.ndarray) -> np.ndarray:
        """Uniforms in [0, 1) for each replication in order, concatenated: replication r's
        next ``counts[r]`` numbers of its own stream of ``phase``."""
        return self._streams[phase].take(counts)

    def _draws(self, phase: str, ids: np.ndarray, size: int = 1) -> np.ndarray:
        """One uniform per entry for entries of replications ``ids // size`` (stacked ids
        of something each replication has ``size`` of; in any order): replication r's
        entries get, in their order, the numbers its stream would give a run of it alone."""
        R = self.replications
        if R == 1:
            return self._uniforms(phase, np.array([len(ids)]))
        if self._kernels is not None:
            # Most days' entries come sorted by replication: counted in one pass.
            counts = np.zeros(R, np.int64)
            if self._kernels.sorted_counts(ids, size, 1.0 / size, counts):
                return self._uniforms(phase, counts)
        replication = ids // size if size > 1 else ids
        # Runs of entries sorted by replication (a few days' batches, say) draw run by run.
        starts = np.flatnonzero(replication[1:] < replication[:-1]) + 1
        if len(starts) == 0:
            return self._uniforms(phase, np.bincount(replication, minlength=R))
        if len(starts) < RUNS_DRAWN_IN_TURN and len(replication) >= RUN_DRAWS_FROM:
            runs = np.split(replication, starts)
            return np.concatenate(
                [np.zeros(0)]
                + [self._uniforms(phase, np.bincount(run, minlength=R)) for run in runs]
            )
        order = np.argsort(replication, kind="stable")
        out = np.empty(len(replication))
        out[order] = self._uniforms(phase, np.bincount(replication, minlength=R))
        return out

    def _bounds(self, ids: np.ndarray, size: int) -> np.ndarray:
        """Where each replication's entries start in sorted stacked ``ids`` (R + 1 bounds)."""
        return np.searchsorted(ids, np.arange(self.replications + 1) * size)

    def _single(self, name: str) -> None:
        if self.replications > 1:
            raise LaotieError(
                f"Engine.{name}: this engine runs {self.replications} replications in "
                f"lockstep; read one with engine.replication(r).{name}"
            )

    @property
    def history(self) -> list[np.ndarray]:
        """The counts of each day so far (one engine run; see :meth:`replication`)."""
        self._single("history")
        return [counts[0] for counts in self._history]

    @property
    def repurchase(self) -> list[dict[str, float]]:
        """Monthly repurchase rates so far (one engine run; see :meth:`replication`)."""
        self._single("repurchase")
        return self._repurchase[0]

    @property
    def order_values(self) -> np.ndarray:
        """Orders per channel and order-value bin (one engine run; see :meth:`replication`)."""
        self._single("order_values")
        return self._order_values[0]

    @property
    def information(self) -> InformationState:
        """Government information (one engine run; see :meth:`replication`)."""
        self._single("information")
        return self._informations[0]

    @property
    def seed_sequence(self) -> np.random.SeedSequence:
        """The run's seed (one engine run; see :meth:`replication`)."""
        self._single("seed_sequence")
        return self.seed_sequences[0]

    @property
    def shock_listing(self) -> int:
        """The shocked listing (-1 before a shock; one engine run)."""
        self._single("shock_listing")
        return int(self._shock[0, 0])

    @property
    def shock_product(self) -> int:
        """The shocked product (-1 before a shock; one engine run)."""
        self._single("shock_product")
        return int(self._shock[1, 0])

    @property
    def shock_seller(self) -> int:
        """The seller of the shocked listing (-1 before a shock; one engine run)."""
        self._single("shock_seller")
        return int(self._shock[2, 0])

    def replication(self, r: int) -> Replication:
        """What replication ``r`` recorded, with the names and local ids an engine of that
        replication alone would have (``Result.from_engine`` reads it)."""
        R = self.replications
        if not 0 <= r < R:
            raise LaotieError(f"Engine.replication({r!r}): replications are 0 .. {R - 1}")
        m = self.market
        layout = m.layout
        C, S, J = layout.creators, layout.storefronts, layout.producers
        creators = slice(r * C, (r + 1) * C)
        producers = slice(r * J, (r + 1) * J)
        storefronts = slice(m.n_creators + r * S, m.n_creators + (r + 1) * S)
        return Replication(
            replication=r,
            day=self.day,
            graph=self.graph,
            scenario=self.scenario,
            seed_sequence=self.seed_sequences[r],
            market=ReplicationMarket(is_head=m.is_head[creators]),
            history=[counts[r] for counts in self._history],
            repurchase=self._repurchase[r],
            order_values=self._order_values[r],
            information=self._informations[r],
            creator_income=self.creator_income[creators],
            creator_exposures=self.creator_exposures[creators],
            producer_income=self.producer_income[producers],
            producer_orders=self.producer_orders[producers],
            producer_buyers=self.producer_buyers[producers],
            seller_gmv=np.concatenate([self.seller_gmv[creators], self.seller_gmv[storefronts]]),
            listing_orders=self.listing_orders[m.listing_index[r]],
        )

    # ------------------------------------------------------------------ phases
    def _new_month(self) -> None:
        self.spent[:] = 0
        if self.day == 0:
            return
        if self.last_month_flags is not None:
            R = self.replications
            before = self.last_month_flags.reshape(R, -1)
            now = self.month_flags.reshape(R, -1)
            rates = {}
            for name, bits in (("all", 3), ("trust", 1), ("traffic", 2)):
                bought = (before & bits) != 0
                again = bought & ((now & bits) != 0)
                rates[name] = (again.sum(axis=1), bought.sum(axis=1))
            for r in range(R):
                record: dict[str, float] = {"month": self.day // 30 - 1}
                for name, (again_r, bought_r) in rates.items():
                    record[name] = again_r[r] / bought_r[r] if bought_r[r] else float("nan")
                self._repurchase[r].append(record)
        # The two months' flags swap buffers (a new zeroed array would be mapped page by
        # page during the month, see _memory.touch).
        previous = self.last_month_flags
        self.last_month_flags = self.month_flags
        if previous is None:
            self.month_flags = np.zeros_like(self.month_flags)
            touch(self.month_flags)
        else:
            previous.fill(0)
            self.month_flags = previous

    def _activity(self) -> None:
        m = self.market
        users = m.layout.users
        draws = self._streams["activity"].take32(np.full(self.replications, users))
        if self._kernels is not None:
            if self._seats is None or len(self._seats[0]) < len(draws):
                self._seats = (
                    np.empty(len(draws), np.float32),
                    np.empty(len(draws), bool),
                    np.empty(len(draws), np.float64),
                    np.empty(len(draws), np.int32),
                    np.empty(len(draws), np.uint64),
                )
                self._active_scratch = np.empty(len(draws), np.int32)
            n = self._kernels.activity(
                draws,
                m.p_active,
                m.users,
                self.active,
                self._active_scratch,
                (m.storefront_trust, m.has_storefront_memory, m.price_factor, m.follows.bits),
                self._seats,
            )
            self.active_users = self._active_scratch[:n].copy()
        else:
            self.active[self.active_users] = False
            self.active_users = m.users[draws < m.p_active]
            self.active[self.active_users] = True
        self._active_bounds = self._bounds(self.active_users, self._nodes)

    def _posts(self) -> tuple[np.ndarray, np.ndarray]:
        """Posting creators (seller ids) and the listing each features today."""
        m = self.market
        s = self.scenario.creators
        C = m.layout.creators
        draws = self._uniforms("posts", np.full(self.replications, C))
        posting = np.flatnonzero(draws < s.post_prob)
        start = m.catalogue_ptr[posting]
        size = m.catalogue_ptr[posting + 1] - start
        counts = np.bincount(posting // max(C, 1), minlength=self.replications)
        featured = start + (self._uniforms("posts", counts) * size).astype(np.int64)
        return posting, featured

    def _reach(self, posting: np.ndarray, active_followers: np.ndarray) -> np.ndarray:
        """Reach ρ_c of every selling creator (0 for those not posting today)."""
        m = self.market
        p = self.scenario.policy
        R = self.replications
        rho = np.zeros(m.n_creators)
        replication = self._creator_replication
        if p.traffic == "head":
            followers = m.follows.count[m.creator_node].astype(np.float64)
            mean = (followers.reshape(R, -1).mean(axis=1) if len(followers) else np.zeros(R))[
                replication[posting]
            ]
            with np.errstate(divide="ignore", invalid="ignore"):
                scaled = np.minimum(1.0, p.reach * (followers[posting] / mean) ** p.head_exponent)
            rho[posting] = np.where(mean > 0, scaled, p.reach)
            return rho
        rho[posting] = p.reach
        expected = (rho * active_followers).reshape(R, -1)
        is_head = m.is_head.reshape(R, -1)
        # Per replication: the expected exposures of head and of other creators, each summed
        # over the replication's own creators (a row's sum is that of the row alone, so a
        # replication gets the sums of a run of it alone).
        head = np.where(is_head, expected, 0.0).sum(axis=1)
        other = np.where(is_head, 0.0, expected).sum(axis=1)
        capped = (head > 0) & (head > p.head_cap * (head + other))
        if capped.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(capped, p.head_cap * other / ((1 - p.head_cap) * head), 1.0)
            rho[m.is_head] *= factor[replication[m.is_head]]
        return rho

    def _follow_exposures(self, posting: np.ndarray, featured: np.ndarray) -> Batch:
        m = self.market
        f = m.follows
        # Only the followers of today's posting creators are read.
        creators = m.creator_node[posting].astype(np.int64)
        if self._kernels is not None:
            size = int((f.indptr[creators + 1] - f.indptr[creators]).sum())
            main, seller_main = np.empty(size, np.int64), np.empty(size, posting.dtype)
            n = self._kernels.awake_followers(
                posting, m.creator_node, f.indptr, f.user, self.active, main, seller_main
            )
            main, seller_main = main[:n], seller_main[:n]
        else:
            rows, owner = expand_rows(f.indptr, creators)
            awake = self.active[f.user[rows]]
            main = rows[awake]
            seller_main = posting[owner[awake]]
        extra = np.flatnonzero(
            np.isin(f.buffer_creator, m.creator_node[posting]) & self.active[f.buffer_user]
        )
        seller_extra = m.seller_of_node[f.buffer_creator[extra]]
        active_followers = np.bincount(
            np.concatenate([seller_main, seller_extra]), minlength=m.n_creators
        )
        rho = self._reach(posting, active_followers)
        C = max(m.layout.creators, 1)
        u_main = self._draws("follow", seller_main, C)
        u_extra = self._draws("follow", seller_extra, C)
        listing_of = np.zeros(m.n_creators, np.int64)
        listing_of[posting] = featured
        if self._kernels is not None:
            k = self._kernels
            out = Batch.blank(len(main) + len(extra), FOLLOW)
            n = k.follow_fields(
                (main, seller_main, u_main),
                (extra, seller_extra, u_extra),
                rho,
                listing_of,
                ((f.user, f.trust, f.memory), (f.buffer_user, f.buffer_trust, f.buffer_memory)),
                (REF_FOLLOW, REF_BUFFER),
                m.listing_promise,
                (k.weights(self.scenario.decision), m.price_factor, m.listing_price),
                out.kernel_fields(),
            )
            utility = out.utility[:n]
            out = out.take(slice(0, n))
            out.utility = utility
            return out
        see_main = u_main < rho[seller_main]
        see_extra = u_extra < rho[seller_extra]
        main, seller_main = main[see_main], seller_main[see_main]
        extra, seller_extra = extra[see_extra], seller_extra[see_extra]
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
        R, C = self.replications, m.layout.creators
        weights = np.zeros((R, C))
        weights.ravel()[posting[eligible]] = weight
        total = weights.sum(axis=1)
        n_active = np.diff(self._active_bounds)
        counts = np.round(p.discovery_per_active * n_active).astype(np.int64)
        counts[total <= 0] = 0
        if not counts.any():
            return Batch.empty(DISCOVERY)
        with np.errstate(divide="ignore", invalid="ignore"):
            cdf = choice_cdf(weights / total[:, None])
        # The post of each creator slot (as an index into ``posting``).
        post_of = np.full(R * C, -1, np.int64)
        post_of[posting] = np.arange(len(posting))
        # Each viewer is an active user of its replication (a seat of active_users) and sees
        # a post of its replication drawn by its CDF.
        active = self._active_bounds
        seat = np.repeat(active[:-1], counts) + (
            self._uniforms("discovery", counts) * np.repeat(n_active, counts)
        ).astype(np.int64)
        u = self._uniforms("discovery", counts)
        if self._kernels is not None:
            return self._discovery_kernel(counts, u, cdf, post_of, posting, featured, seat)
        viewer = self.active_users[seat]
        bounds = _offsets(counts)
        slot = np.repeat(np.arange(R) * C, counts) + np.concatenate(
            [np.zeros(0, np.intp)]
            + [
                # A look-up table pays for itself from a few thousand draws.
                inverse_cdf(
                    cdf[r],
                    u[bounds[r] : bounds[r + 1]],
                    cdf_table(cdf[r]) if counts[r] > 4 * CDF_BUCKETS else None,
                )
                for r in np.flatnonzero(counts)
            ]
        )
        pick = post_of[slot]
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

    def _discovery_kernel(
        self,
        counts: np.ndarray,
        u: np.ndarray,
        cdf: np.ndarray,
        post_of: np.ndarray,
        posting: np.ndarray,
        featured: np.ndarray,
        seat: np.ndarray,
    ) -> Batch:
        """:meth:`_discovery_exposures` from its draws (``seat``: the viewers' positions in
        ``active_users``; ``cdf``: a row of creator slots per replication; ``post_of``: the
        post of each slot), by the compiled kernel."""
        m = self.market
        f = m.follows
        k = self._kernels
        out = Batch.blank(len(seat), DISCOVERY)
        # Wide rows (a large city's creators) are searched through look-up tables, built
        # for the day: a search of thousands of slots takes a chain of dependent loads.
        if cdf.shape[1] >= DISCOVERY_TABLES_FROM:
            tables = [cdf_table(row) for row in cdf]
            table = tuple(np.stack([t[j] for t in tables]) for j in (0, 1))
        else:
            table = (np.zeros((len(cdf), 0), np.int64),) * 2
        n = k.discovery_picks(
            counts,
            u,
            cdf,
            table,
            post_of,
            posting,
            seat,
            self.active_users,
            m.creator_node,
            out.user,
            out.ref,
        )
        out = out.take(slice(0, n))
        out.utility = np.empty(n)
        creator = m.creator_node[posting[out.ref]].astype(np.int64)
        buffer_order = np.argsort(f.buffer_keys, kind="stable")
        k.discovery_fields(
            # Sorted by (creator, viewer), the look-ups walk the follow arrays in order:
            # worth the sort once the arrays outgrow the caches (the results are the same).
            np.argsort(creator * f.n + out.user)
            if len(f.user) >= SORTED_LOOKUPS_FROM
            else np.arange(n),
            seat,
            self._seats,
            posting,
            featured,
            m.creator_node,
            (f.indptr, f.user, f.n, f.buffer_keys[buffer_order], buffer_order),
            (f.trust, f.memory, f.buffer_trust, f.buffer_memory),
            (REF_FOLLOW, REF_BUFFER, REF_NONE),
            np.float32(self.scenario.creators.stranger_trust),
            m.listing_promise,
            (k.weights(self.scenario.decision), m.listing_price),
            out.kernel_fields(),
        )
        return out

    def _storefront_exposures(self) -> Batch:
        m = self.market
        s = self.scenario.storefronts
        S = m.layout.storefronts
        active = self._active_bounds
        n_active = np.diff(active)
        counts = np.round(s.impressions_per_active * n_active).astype(np.int64)
        n = int(counts.sum())
        if n == 0:
            return Batch.empty(STOREFRONT)
        # Per impression, 3 + comparisons uniforms from the replication's stream: the
        # storefront (in shares of the ad budgets of the replication's own storefronts), the
        # product of its catalogue, the active user who sees it (a seat of active_users) and
        # the products of the same category compared with it.
        u = self._uniforms("storefront", counts * (3 + s.comparisons)).reshape(n, -1)
        if self._kernels is not None:
            # The kernel fills every field but the channel and where trust lives.
            out = Batch.blank(n, STOREFRONT)
            out.ref_kind.fill(REF_STOREFRONT)
            self._kernels.storefront(
                counts,
                u,
                m.ad_cdf,
                m.ad_low,
                m.ad_high,
                (
                    m.n_creators,
                    S,
                    m.catalogue_ptr,
                    self.active_users,
                    active,
                    self._seats,
                    m.listing_category_key,
                    m.category_ptr,
                    m.store_listings_by_category,
                    m.storefront_memory,
                    m.listing_seller,
                    m.listing_promise,
                    m.listing_price,
                ),
                self._kernels.weights(self.scenario.decision),
                out.user,
                out.listing,
                out.trust,
                out.memory,
                out.quality,
                out.ref,
                out.source,
                out.utility,
            )
            return out
        u_ad, u_own, u_seat, u_compare = u[:, 0], u[:, 1], u[:, 2], u[:, 3:]
        bounds = _offsets(counts)
        store = (
            m.n_creators
            + np.repeat(np.arange(self.replications) * S, counts)
            + np.concatenate(
                [
                    inverse_cdf(m.ad_cdf[r], u_ad[a:b], (m.ad_low[r], m.ad_high[r]))
                    for r, (a, b) in enumerate(itertools.pairwise(bounds))
                ]
            )
        )
        start = m.catalogue_ptr[store]
        size = m.catalogue_ptr[store + 1] - start
        own = start + (u_own * size).astype(np.int64)
        seat = (u_seat * np.repeat(n_active, counts)).astype(np.int64)
        viewer = self.active_users[np.repeat(active[:-1], counts) + seat]
        key = m.listing_category_key[own]
        lo = m.category_ptr[key][:, None]
        count = (m.category_ptr[key + 1] - m.category_ptr[key])[:, None]
        compared = m.store_listings_by_category[lo + (u_compare * count).astype(np.int64)]
        options = np.concatenate([own[:, None], compared], axis=1)
        trust = m.storefront_trust[viewer]
        uidx = m.user_index[viewer]
        memory = np.zeros(options.shape, np.int8)
        known = np.flatnonzero(m.has_storefront_memory[uidx])
        memory[known] = m.storefront_memory[
            uidx[known, None], (m.listing_seller[options[known]] - m.n_creators) % S
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
        if self._kernels is not None:
            return self._wom_kernel(recs)
        lis = m.listeners
        n = self._nodes
        replication = recs.user.astype(np.int64) // n
        # The graph's structure is shared: a replication's ties are offset in trust and memory.
        position, owner = expand_rows(lis.indptr, recs.user - replication * n)
        listener = lis.listener[position] + (replication * n)[owner].astype(np.int32)
        position += (replication * lis.n_ties)[owner]
        hear = self.active[listener] & (self._draws("wom", replication[owner]) < w.prob)
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

    def _wom_kernel(self, recs: Batch) -> Batch:
        """:meth:`_wom_exposures` of the live recommendations ``recs`` by the compiled
        kernels: the same draws (one per listener tie, each replication's in order)."""
        k = self._kernels
        lis = self.market.listeners
        n = self._nodes
        counts = np.zeros(self.replications, np.int64)
        k.wom_counts(recs.user, lis.indptr, n, counts)
        u = self._uniforms("wom", counts)
        first = np.cumsum(counts) - counts
        out = Batch.blank(int(counts.sum()), WOM)
        heard = k.wom_exposures(
            (recs.user, recs.listing, recs.quality),
            (lis.indptr, lis.listener, lis.trust, lis.memory, lis.n_ties),
            n,
            self.active,
            u,
            first,
            self.scenario.word_of_mouth.prob,
            REF_SOCIAL,
            out.kernel_fields(),
        )
        return out.take(slice(0, heard))  # without utilities: the decisions compute them

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

    def _kernel_utilities(self, e: Batch) -> np.ndarray:
        """The utilities of ``e``'s exposures, by the compiled kernel unless the kernel that
        made them computed them already."""
        if e.utility is not None:
            return e.utility
        m = self.market
        utility = np.empty(len(e))
        self._kernels.exposure_utilities(
            self._kernels.weights(self.scenario.decision),
            e.user,
            e.listing,
            e.trust,
            e.quality,
            e.memory,
            m.price_factor,
            m.listing_price,
            utility,
        )
        return utility

    def _decide(self, parts: list[Batch]) -> tuple[Orders, np.ndarray]:
        """Today's accepted orders and the orders blocked by budgets (replications x
        channels) among the exposures of ``parts`` (the channels' batches, one after the
        other; a kernel may have computed their utilities)."""
        m = self.market
        s = self.scenario
        R = self.replications
        # Part by part, so that each replication draws for its exposures in the order of the
        # parts' concatenation without sorting it.
        candidates = []
        for e in parts:
            draws = self._draws("decide", e.user, self._nodes)
            if self._kernels is not None:
                chosen = np.empty(len(e), np.int64)
                n = self._kernels.candidates(draws, self._kernel_utilities(e), chosen)
                candidates.append(e.take(chosen[:n]))
                continue
            utility = self._utility(e.user, e.listing, e.trust, e.quality, e.memory)
            candidates.append(e.take(np.flatnonzero(draws < expit(utility))))
        c = Batch.concat(candidates)
        replication = c.user // self._nodes
        d = s.decision
        lam = d.basket_extra_items * (1 + d.basket_trust_effect * c.trust)
        items = 1 + poisson(lam, self._draws("decide", replication))
        value = items * m.listing_price[c.listing]
        # The day's random order of each replication's candidate orders: by uniform keys.
        rank = self._draws("decide", replication)
        order = np.lexsort((rank, c.user))
        if self._kernels is not None:
            accept = np.zeros(len(c), bool)
            blocked = np.zeros(len(c), bool)
            self._kernels.budgets(
                order,
                c.user,
                value,
                m.budget,
                self.spent,
                self.ever_ordered,
                s.population.repeat_purchases,
                self._nodes,
                accept,
                blocked,
            )
        else:
            accept, blocked = self._budgets(c.user, value, order)
        blocked_counts = np.bincount(
            replication[blocked] * len(CHANNELS) + c.channel[blocked], minlength=R * len(CHANNELS)
        ).reshape(R, len(CHANNELS))
        # Accepted orders in each replication's random order of the day.
        keep = np.flatnonzero(accept)
        keep = keep[np.lexsort((rank[keep], replication[keep]))]
        orders = Orders(c.take(keep), items[keep], value[keep])
        return orders, blocked_counts

    def _budgets(
        self, buyer: np.ndarray, value: np.ndarray, order: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which candidate orders (``buyer``, ``value``; ``order`` sorts them by buyer and
        the day's rank) the budgets accept and which they block (the numpy path of the
        kernel ``budgets``)."""
        m = self.market
        user = buyer[order]
        first = np.ones(len(order), bool)
        first[1:] = user[1:] != user[:-1]
        if self.scenario.population.repeat_purchases:
            # Each buyer's running total, within the buyer's replication (users are stacked
            # by replication, so each replication is a slice of the sorted orders).
            sorted_value = value[order]
            total = np.empty(len(order))
            bounds = self._bounds(user, self._nodes)
            for a, b in itertools.pairwise(bounds):
                total[a:b] = _running_totals(sorted_value[a:b], first[a:b])
            accept_sorted = total <= m.budget[user] - self.spent[user] + 1e-9
            blocked_sorted = ~accept_sorted
        else:
            fits = value[order] <= m.budget[user] - self.spent[user] + 1e-9
            eligible = first & ~self.ever_ordered[user]
            accept_sorted = eligible & fits
            blocked_sorted = eligible & ~fits
        accept = np.zeros(len(buyer), bool)
        accept[order] = accept_sorted
        blocked = np.zeros(len(buyer), bool)
        blocked[order] = blocked_sorted
        return accept, blocked

    def _outcomes(self, orders: Orders) -> np.ndarray:
        """Apply today's orders; return the new follows of each replication."""
        m = self.market
        s = self.scenario
        o = s.outcomes
        b = orders.batch
        product = m.listing_product[b.listing]
        replication = b.user // self._nodes
        experienced = m.product_quality[product] + o.quality_noise * normal(
            self._draws("outcomes", replication)
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
        m.storefront_memory[b.ref[at], b.source[at] % m.layout.storefronts] = new_memory[at]
        m.has_storefront_memory[b.ref[at]] = True

        # Satisfied strangers from discovery may follow the creator.
        stranger = np.flatnonzero((b.channel == DISCOVERY) & (b.ref_kind == REF_NONE) & satisfied)
        follow = stranger[self._draws("outcomes", replication[stranger]) < s.creators.follow_prob]
        creator = m.creator_node[b.source[follow]]
        _, first = np.unique(
            b.user[follow].astype(np.int64) * m.n_nodes + creator, return_index=True
        )
        follow = follow[np.sort(first)]
        f.add(
            b.user[follow], m.creator_node[b.source[follow]], new_trust[follow], new_memory[follow]
        )
        new_follows = np.bincount(replication[follow], minlength=self.replications)

        # Money, budgets and the record of who bought.
        value = orders.value
        np.add.at(self.spent, b.user, value)
        self.ever_ordered[b.user] = True
        seller = m.listing_seller[b.listing]
        self.seller_gmv += np.bincount(seller, weights=value, minlength=m.n_sellers)
        np.add.at(self.listing_orders, b.listing, 1)
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
            Node ids of registered users (of the graph: with lockstep replications, the same
            users recommend in every replication).
        listing : int or array of int
            Listing id(s) (see ``engine.market``; with lockstep replications, the ids of
            each replication's own listings), one for all users or one per user.
        quality : float or array, optional
            The recommenders' experienced quality (what listeners perceive), in [0, 1];
            default: the product's true quality.
        """
        m = self.market
        n = self._nodes
        users = np.asarray(users, dtype=np.int64)
        listing = np.broadcast_to(np.asarray(listing, dtype=np.int64), users.shape)
        if users.size and (users.min() < 0 or users.max() >= n or not m.is_user[users].all()):
            raise ScenarioError("Engine.recommend: users must be node ids of registered users")
        n_listings = min(len(index) for index in m.listing_index)
        if listing.size and (listing.min() < 0 or listing.max() >= n_listings):
            every = " (in every lockstep replication)" if self.replications > 1 else ""
            raise ScenarioError(
                f"Engine.recommend: listing ids must be in 0 .. {n_listings - 1}{every}"
            )
        if quality is not None:
            quality = np.broadcast_to(np.asarray(quality, np.float32), users.shape)
        R = self.replications
        if R > 1:
            listing = np.concatenate([index[listing] for index in m.listing_index])
            users = (users[None, :] + n * np.arange(R)[:, None]).ravel()
            if quality is not None:
                quality = np.tile(quality, R)
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

    def _apply_shock(self) -> None:
        """On ``shock.day``, the chosen product's true quality becomes ``shock.quality``; on
        ``shock.day + shock.days`` it is restored. Promises do not change (sellers promise
        what they promised before), and no random number is drawn."""
        m = self.market
        k = self.scenario.shock
        listing_, product_, seller_ = self._shock
        if self.day == k.day + k.days:
            hit = product_ >= 0
            m.product_quality[product_[hit]] = self._shock_restore[hit]
            return
        eligible = np.ones(len(self.listing_orders), bool)
        if k.rule == "creator":
            eligible = m.listing_seller < m.n_creators
        elif k.rule == "storefront":
            eligible = m.listing_seller >= m.n_creators
        for r, index in enumerate(m.listing_index):
            candidates = index[eligible[index]]
            if len(candidates) == 0:
                continue
            # argmax returns the first maximum: ties go to the lowest listing id.
            listing = int(candidates[np.argmax(self.listing_orders[candidates])])
            listing_[r] = listing
            product_[r] = m.listing_product[listing]
            seller_[r] = m.listing_seller[listing]
            self._shock_restore[r] = m.product_quality[product_[r]]
            m.product_quality[product_[r]] = np.float32(k.quality)

    def _train(self) -> None:
        m = self.market
        t = self.scenario.training
        C, U = m.layout.creators, m.layout.users
        picked, creators, users = [], [], []
        for r, rng in enumerate(self.rngs["training"]):
            pool = np.arange(r * C, (r + 1) * C)
            if t.rule == "local":
                pool = pool[~m.is_head[pool]]
            elif t.rule == "rural":
                pool = pool[m.rural[m.creator_node[pool]]]
            k = min(t.n_creators, len(pool))
            if t.rule == "followers":
                followers = m.follows.count[m.creator_node[pool]]
                chosen = pool[np.lexsort((pool, -followers))[:k]]
            else:
                # A prefix of one random order: a larger k trains a superset of a smaller k's
                # creators (with the same seed), so that sweeps over k compare like with like.
                chosen = rng.permutation(pool)[:k]
            picked.append(chosen)
            if t.follower_gain == 0 or k == 0 or U == 0:
                continue
            creator = np.repeat(m.creator_node[chosen], t.follower_gain)
            creators.append(creator)
            users.append(m.users[r * U + rng.integers(0, U, len(creator))])
        chosen = np.concatenate(picked).astype(np.int64)
        self.trained = np.sort(chosen)
        m.authenticity[chosen] = np.minimum(1, m.authenticity[chosen] + t.authenticity_gain)
        m.content_quality[chosen] = np.minimum(
            1, m.content_quality[chosen] + t.content_quality_gain
        )
        m.update_promises()
        if not creators:
            return
        creator, user = np.concatenate(creators), np.concatenate(users)
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


def replication_bytes(graph: TrustGraph, scenario: Scenario) -> int:
    """An estimate of the engine state one replication adds (bytes): per resident about
    68 bytes of flags, budgets, follow bits and scratch plus one byte per government
    message; 5 per social tie (trust and memory), 25 per follow tie (ids, trust, memory,
    sorted keys), 29 per user (the compiled kernels' seat table and list of active users) and
    one per user and storefront (storefront memories)."""
    n = graph.n_nodes
    follows = int(np.count_nonzero(graph.layer == FOLLOW_LAYER))
    social = graph.n_edges - follows
    users = int(np.count_nonzero(graph.user))
    return int(
        n * (68 + scenario.information.n_messages)
        + 5 * social
        + 25 * follows
        + users * (29 + scenario.storefronts.n_storefronts)
    )


def engine_bytes(graph: TrustGraph, scenario: Scenario, replications: int = 1) -> int:
    """An estimate of an engine's peak memory beyond the graph (bytes): the state of each
    replication (:func:`replication_bytes`) and, shared, the listeners of every resident (the
    transpose of the local and city ties) with the scratch of building them, about 20 bytes
    per social tie (4.1 GB for Mudanjiang; the engine's set-up was measured at 4.0 GB beyond
    the graph, and its year peaks at 5.49 GB with the 1.43 GB graph)."""
    social = graph.n_edges - int(np.count_nonzero(graph.layer == FOLLOW_LAYER))
    return replications * replication_bytes(graph, scenario) + 20 * social


def lockstep_size(
    graph: TrustGraph, scenario: Scenario, replications: int, max_bytes: int = LOCKSTEP_BYTES
) -> int:
    """How many of ``replications`` to run in one engine: as many as fit ``max_bytes`` of
    replication state (:func:`replication_bytes`) and :data:`LOCKSTEP_NODES` stacked
    residents, at most :data:`LOCKSTEP_MAX`, at least one, and then balanced so that the
    engines get equal shares."""
    if replications < 1:
        return 1
    fit = max(
        1,
        min(
            replications,
            LOCKSTEP_MAX,
            LOCKSTEP_NODES // max(graph.n_nodes, 1),
            max_bytes // replication_bytes(graph, scenario),
        ),
    )
    engines = -(-replications // fit)
    return -(-replications // engines)


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Where each of consecutive groups of ``counts`` entries starts (and the total, last)."""
    return np.concatenate([[0], np.cumsum(counts)])


def _running_totals(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Running totals of ``values`` within groups of consecutive entries (``first`` marks
    each group's first entry): a cumulative sum minus the total before the group."""
    total = np.cumsum(values)
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(values)), 0))
    before = np.where(group_start > 0, total[group_start - 1], 0.0)
    return total - before


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
