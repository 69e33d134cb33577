"""The engine: the day's conductor.

:class:`Engine` holds the state (the market, today's activity, the ledger, the streams) and
calls the rules of :mod:`laotie.engine.rules` in the order of docs/model.md 1.3, one day
per :meth:`Engine.step`; with lockstep replications it keeps each replication's records
apart (:meth:`Engine.replication`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._memory import check_fits, touch
from .._random import SeedLike, as_seed_sequences
from ..errors import GraphError, LaotieError, ScenarioError
from ..graph._core import TrustGraph
from ..metrics import (
    CHANNELS,
    DISCOVERY,
    FOLLOW,
    ORDER_VALUE_EDGES,
    STOREFRONT,
    WOM,
    order_value_histogram,
)
from ..scenario import Scenario
from ..sections import Run
from .counts import DayCounter
from .exposures import REF_NONE, Exposures, Orders
from .market import Market
from .rules.activity import ACTIVITY_DRAWS, activity
from .rules.decisions import Candidates
from .rules.discovery import discovery_exposures
from .rules.follow import follow_exposures
from .rules.growth import GrowthState, grow
from .rules.growth import active as growth_active
from .rules.growth import start as start_growth
from .rules.information import InformationState, operator_regions, resident_ids
from .rules.loyalty import Loyalties, return_visits, update_loyalty
from .rules.loyalty import active as loyalty_active
from .rules.month import MONTH_DAYS, end_month, new_month
from .rules.outcomes import apply_outcomes, tolerances
from .rules.posts import Posts, posts
from .rules.shock import QualityShock
from .rules.storefront import storefront_exposures
from .rules.training import targeted, train
from .rules.word_of_mouth import (
    Recommendations,
    apply_warnings,
    hear_warnings,
    said,
    word_of_mouth_exposures,
)
from .sizing import engine_bytes
from .state import Ledger, Today
from .streams import PHASES, phase_streams
from .threads import Chunks, SideThread, default_threads

__all__ = ["Engine", "Replication"]

MAX_RUN_DAYS = int(Run.params()["days"].high or 0)
"""The most days :meth:`Engine.run` advances in one call (``run.days``' bound)."""


def _shown(value: object) -> str:
    """A value as an error names it: its repr, cut short, with its type."""
    text = repr(value)
    return f"{text[:60]}{'...' if len(text) > 60 else ''} ({type(value).__name__})"


@dataclass
class ReplicationMarket:
    """The parts of the market a replication's results read (local ids and nodes)."""

    is_head: np.ndarray
    creator_node: np.ndarray
    producer_node: np.ndarray
    producer_offline: np.ndarray
    """Each producer's offline income per day before the platform."""
    producer_listed: np.ndarray
    """Whether some seller lists the producer's specialty."""
    producer_days_online: np.ndarray
    """The days the producer's specialty has sold online (growth: since it entered; 0 when
    no seller lists it)."""


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
    active: list[int]
    months: list[dict[str, int]]
    repurchase: list[dict[str, float]]
    order_values: np.ndarray
    information: InformationState
    creator_income: np.ndarray
    creator_exposures: np.ndarray
    producer_income: np.ndarray
    producer_orders: np.ndarray
    producer_buyers: np.ndarray
    seller_gmv: np.ndarray
    seller_customers: np.ndarray
    seller_repeat_customers: np.ndarray
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
        operations for all of them and the graph's structure is shared. Replication r's
        numbers are identical to those of an engine given ``seed[r]`` alone (each
        replication draws from its own streams, in the same order); read them with
        :meth:`replication`.
    threads : int, optional
        2 builds the storefront exposures in a second thread while the other channels'
        are built (the first thread then takes the storefront's chunks left), shares the
        activity's passes between the two, and, while the day ends, draws the next day's
        activity uniforms and writes the day before's records (counts, order values,
        creators' exposures) there; 1 does all of it in turn.
        The results are identical. Default: 2 from
        :data:`~laotie.engine.threads.THREAD_THRESHOLD` stacked residents, else 1.
    trained : sequence of int, optional
        With ``training.rule = "targeted"``, the creators trained on ``training.day``: their
        graph node ids, distinct creators living in the city (what :mod:`laotie.policy`
        chooses), in the order their new followers are drawn; every replication trains the
        same ones. Only with that rule.
    operators : sequence of str or int, optional
        With ``information.training_rule = "targeted"``, the regions (names, or indices into
        the graph's ``region_names``) whose government accounts' operators are trained on
        ``information.training_day`` (what :mod:`laotie.policy` chooses); every replication
        trains the same ones. Only with that rule.
    seeds : sequence of int, optional
        Residents' graph node ids, each given every government message on the message's
        posting day (seeds of the cascade, what :mod:`laotie.policy` chooses); they pass it
        on from the next day as anyone who learnt it. Every replication seeds the same ones.
        None or empty: no seed (the engine is the one without this keyword). Refused when the
        scenario posts no message (``information.n_messages = 0``).
    enrolled : sequence of int, optional
        Residents' graph node ids: the poor producers, those a 精准扶贫 programme enrols
        (what :mod:`laotie.policy` chooses), the same in every replication, instead of
        ``producers.n_producers`` drawn among rural residents. Their specialties, offline
        incomes and listings are drawn by node, so that a producer enrolled in two sets is
        the same in both (common random numbers). None: the producers are drawn.

    Raises
    ------
    ScenarioError
        Before anything is built, if the engine would need more memory than is available
        (:func:`~laotie.engine.sizing.engine_bytes`), or for more stacked residents than its
        int32 ids hold; for ``trained`` without the rule ``"targeted"``, or that rule without
        ``trained``, or a node that is not a creator living in the city; for ``operators``
        likewise with ``information.training_rule``, or a region not of the graph; for
        ``seeds`` or ``enrolled`` that are not node ids, out of the graph's range, not
        residents, or named twice; for seeds when the scenario posts no government message.

    Examples
    --------
    >>> from laotie import Scenario, graph
    >>> village = Scenario.preset("village")
    >>> engine = Engine(graph.city(village.city, seed=1), village, seed=1)
    >>> counts = engine.step()  # rows: metrics.ROWS, columns: metrics.COUNTS
    >>> engine.day
    1
    """

    def __init__(
        self,
        graph: TrustGraph,
        scenario: Scenario,
        seed: SeedLike | Sequence[SeedLike] | np.ndarray = None,
        threads: int | None = None,
        trained: Sequence[int] | np.ndarray | None = None,
        operators: Sequence[str | int] | np.ndarray | None = None,
        seeds: Sequence[int] | np.ndarray | None = None,
        enrolled: Sequence[int] | np.ndarray | None = None,
    ) -> None:
        if not isinstance(graph, TrustGraph):
            raise GraphError(
                f"Engine: graph = {_shown(graph)}; expected a laotie TrustGraph (laotie.graph.city"
                "(scenario.city, seed=...), laotie.graph.load(path) or "
                "laotie.graph.from_networkx(g, ...))"
            )
        if not isinstance(scenario, Scenario):
            raise ScenarioError(
                f"Engine: scenario = {_shown(scenario)}; expected a laotie Scenario "
                "(Scenario.preset(name) or Scenario.load(path))"
            )
        self.graph = graph
        self.scenario = scenario
        if (trained is not None) != (scenario.training.rule == "targeted"):
            raise ScenarioError(
                f"Engine: training.rule = {scenario.training.rule!r} with "
                f"{'no ' if trained is None else ''}trained creators; the rule 'targeted' trains "
                "the creators given as trained= (laotie.policy gives them), and only it does"
            )
        if (operators is not None) != (scenario.information.training_rule == "targeted"):
            raise ScenarioError(
                f"Engine: information.training_rule = {scenario.information.training_rule!r} "
                f"with {'no ' if operators is None else ''}operators; the rule 'targeted' trains "
                "the operators of the regions given as operators= (laotie.policy gives them), "
                "and only it does"
            )
        regions = None if operators is None else operator_regions(graph, operators)
        seeded = None if seeds is None else resident_ids(graph, seeds, "seeds")
        if seeded is not None and len(seeded) and scenario.information.n_messages == 0:
            raise ScenarioError(
                f"Engine: seeds = {len(seeded):,} resident(s) with information.n_messages = 0: "
                "there is no government message to give them; set information.n_messages ≥ 1 "
                "or give no seeds"
            )
        producers = None if enrolled is None else resident_ids(graph, enrolled, "enrolled")
        sequences = as_seed_sequences(seed, "Engine: seed")
        R = len(sequences)
        if R * graph.n_nodes >= 2**31:
            raise ScenarioError(
                f"Engine: {R} lockstep replications of {graph.n_nodes:,} residents exceed the "
                "2**31 stacked node ids of the engine; use fewer replications per engine"
            )
        check_fits(
            f"Engine: {R} replication(s) of a city of {graph.n_nodes:,} residents",
            engine_bytes(graph, scenario, R, None if producers is None else len(producers)),
            "use fewer lockstep replications per engine, a smaller city or fewer storefronts"
            + ("" if producers is None else f" (or enrol fewer than {len(producers):,} producers)"),
            ScenarioError,
        )
        self.replications = R
        if threads is not None and (
            isinstance(threads, bool) or not isinstance(threads, int | np.integer) or threads < 1
        ):
            raise ScenarioError(
                f"Engine: threads = {threads!r}; expected an integer ≥ 1 (2 or more: a second "
                "thread) or None"
            )
        self.threads = default_threads(R * graph.n_nodes) if threads is None else int(threads)
        self._side = SideThread()
        self.seed_sequences = sequences
        spawned = [sequence.spawn(2) for sequence in self.seed_sequences]
        self.market = Market(
            graph,
            scenario,
            [np.random.default_rng(market) for market, _ in spawned],
            producers,
            threads=self.threads,
        )
        # One stream per phase (and per replication): changing one phase's parameters (or
        # turning it off) leaves the other phases' draws as they were, so arms of a
        # comparison share their random numbers wherever their rules agree.
        children = [dict(zip(PHASES, day.spawn(len(PHASES)), strict=True)) for _, day in spawned]
        self._streams = phase_streams(children)
        self._training_rngs = [np.random.default_rng(c["training"]) for c in children]
        m = self.market
        self._growth_rngs = [np.random.default_rng(c["growth"]) for c in children]
        self.growth: GrowthState | None = (
            start_growth(m, scenario.growth, self._growth_rngs)
            if growth_active(scenario.growth)
            else None
        )
        self.day = 0
        self.today = Today.of(m.n_nodes)
        touch(m.listeners.memory, m.storefront_memory.table, m.has_storefront_memory)
        self.ledger = Ledger.zeros(
            m.n_nodes, m.n_creators, m.n_sellers, len(m.listing_product), m.n_producers, R
        )
        self.recommendations = Recommendations()
        self.warnings = Recommendations()
        self.loyalties = Loyalties(m.n_sellers)
        # The tolerance of each replication and seller type (docs/model.md 3.5, "Outcomes").
        self.tolerance = tolerances(m, scenario.outcomes)
        self.shock = QualityShock(scenario.shock, R)
        self.trained: np.ndarray = np.zeros(0, np.int32)
        self._targets = None if trained is None else targeted(m, trained)
        # The last simulated day's accepted orders (buyer, channel, listing, value, satisfied,
        # ...), kept for observers that follow particular buyers or products between days.
        self.orders_today = Orders(Exposures.empty(FOLLOW), np.zeros(0, np.int64), np.zeros(0))
        # Per day, the counts of every replication: shape (R, len(ROWS), len(COUNTS)).
        self._history: list[np.ndarray] = []
        # Per day, the active users of every replication.
        self._active: list[np.ndarray] = []
        self._order_values = np.zeros((R, len(CHANNELS), len(ORDER_VALUE_EDGES) - 1), np.int64)
        self._counter = DayCounter(m.n_nodes, m.layout.nodes)
        self._recording: Future[None] | None = None
        self._unrecorded: _Record | None = None
        # With two threads, the next day's activity uniforms, drawn in the second thread.
        self._drawing: Future[np.ndarray] | None = None
        self._drawn: np.ndarray | None = None
        self._informations = [
            InformationState(
                graph, m.listeners.replication(r), scenario, c["information"], regions, seeded
            )
            for r, c in enumerate(children)
        ]

    # ------------------------------------------------------------------ the day
    def step(self) -> np.ndarray:
        """Advance one day: the rules of docs/model.md 1.3 in order.

        Returns
        -------
        numpy.ndarray
            The day's counts, rows :data:`laotie.metrics.ROWS` and columns
            :data:`laotie.metrics.COUNTS`; with lockstep replications, a first axis of
            replications.
        """
        self._advance()
        self._settle()
        counts = self._history[-1]
        return counts[0] if self.replications == 1 else counts

    def _advance(self) -> None:
        """One day; with two threads its records may still be written in the second thread
        (read them after :meth:`_settle`)."""
        s = self.scenario
        m = self.market
        streams = self._streams
        m.follows.merge_buffer()
        if self.day == s.training.day:
            self.trained = train(m, self._training_rngs, s, self._targets)
        if self.shock.due(self.day):
            self.shock.apply(self.day, m, self.ledger.listing_orders)
        loyal = loyalty_active(s.loyalty)
        if self.day % MONTH_DAYS == 0:
            new_month(self.ledger, self.day, self.replications)
            if self.growth is not None and self.day > 0:
                grow(
                    m, self.ledger, self.growth, s.growth, s.producers, self.day, self._growth_rngs
                )
            if loyal:
                self.loyalties.forget(self.day, s.loyalty.half_life)
        side = self._side if self.threads > 1 else None
        activity(self.today, m, self.ledger, streams["activity"], side, self._ahead())
        # The channels read the state without changing it and draw from their own streams:
        # with two threads the storefront's are built in the second (started before the
        # posts, which it does not read) while this one builds the others, then helps with
        # the storefront's chunks left, and the results are those of one.
        # Each part's candidates are found as soon as it and those before it are built
        # (the decisions draw in the order of the parts).
        chunks = Chunks()
        other = None
        if self.threads > 1:
            other = self._side.submit(lambda: self._storefront(chunks))
            # Tomorrow's activity uniforms and yesterday's records, in the second thread
            # after the storefront, while this thread ends the day.
            self._draw_ahead()
            self._write_records()
        today_posts = posts(m, streams["posts"], s.creators)
        found = Candidates(m, streams["decide"], s)
        for part in self._creator_channels(today_posts):
            found.add(part)
        if other is None:
            found.add(self._storefront())
            word_of_mouth = self._word_of_mouth()
        else:
            word_of_mouth = self._word_of_mouth()
            chunks.help()
            found.add(other.result())
        found.add(word_of_mouth)
        if loyal:
            for part in return_visits(
                self.loyalties, self.day, m, self.today, streams["loyalty"], s
            ):
                found.add(part)
        warned = hear_warnings(
            self.warnings, self.day, m, self.today, streams["warnings"], s.word_of_mouth
        )
        orders, blocked, clicks = found.decide(self.ledger)
        batches = found.exposures
        new_follows, recommendations = apply_outcomes(
            orders, m, self.ledger, streams["outcomes"], s, self.tolerance
        )
        if loyal:
            update_loyalty(self.loyalties, orders, m, self.day, s.loyalty)
        if s.word_of_mouth.warn_prob > 0:
            apply_warnings(warned, m, s.outcomes.trust_loss)
            self.warnings.add(said(orders, satisfied=False), self.day)
        self.recommendations.add(recommendations, self.day)
        self.orders_today = orders
        n = m.layout.nodes
        for r, information in enumerate(self._informations):
            a, b = self.today.bounds[r], self.today.bounds[r + 1]
            information.step(self.day, self.today.users[a:b] - r * n)
        # The day's records read only the day's own arrays and write only the records: with
        # two threads they are written in the second one the next day, after its
        # storefront exposures, and read after :meth:`_settle`.
        record = _Record(batches, orders, clicks, new_follows, blocked, self.today.counts.copy())
        failed: BaseException | None = None
        if self.threads > 1:
            try:
                self._settle()  # yesterday's, long written
            except BaseException as error:  # raised once this day is done and its record kept
                failed = error
            self._unrecorded = record
        else:
            self._record(record)
        if (self.day + 1) % MONTH_DAYS == 0:
            end_month(self.ledger, self.day, m)
        self.day += 1
        if failed is not None:
            raise failed

    def _write_records(self) -> None:
        """Start writing the last day's records in the second thread, if they wait."""
        unrecorded, self._unrecorded = self._unrecorded, None
        if unrecorded is not None:
            self._recording = self._side.submit(lambda: self._record(unrecorded))

    def _draw_ahead(self) -> None:
        """Draw the next day's activity uniforms in the second thread: every day draws one
        per user of each replication from the activity's own stream, adopted or not
        (:mod:`.rules.growth`), so they are the numbers that day would draw itself."""
        stream = self._streams["activity"]
        users = self.market.layout.users
        counts = np.full(self.replications, users)
        out = self.today.working(ACTIVITY_DRAWS, self.replications * users, np.float32)
        self._drawing = self._side.submit(lambda: stream.take32(counts, out))

    def _wait_for_draws(self) -> None:
        """Wait for the activity uniforms drawn ahead, if they are being drawn, into
        ``_drawn`` (an interrupted wait is waited for again)."""
        drawing = self._drawing
        if drawing is not None:
            try:
                self._drawn = drawing.result()
            finally:
                if drawing.done():
                    self._drawing = None

    def _ahead(self) -> np.ndarray | None:
        """The activity uniforms drawn ahead for this day, if any (waited for)."""
        self._wait_for_draws()
        drawn, self._drawn = self._drawn, None
        return drawn

    def _settle(self) -> None:
        """Wait for the records the second thread writes, and write those that wait (and
        raise their error, if any: once; an interrupted wait is waited for again), and for
        the next day's activity uniforms."""
        self._wait_for_draws()
        recording = self._recording
        if recording is not None:
            try:
                recording.result()
            finally:
                if recording.done():
                    self._recording = None
        unrecorded, self._unrecorded = self._unrecorded, None
        if unrecorded is not None:
            self._record(unrecorded)

    def __getstate__(self) -> dict[str, object]:
        # A copy or a pickle holds every record so far (written first), not a thread's work.
        self._settle()
        return self.__dict__.copy()

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        # The information states read each replication's listener ties through views of
        # the market's arrays (ListenerTies.replication), which a copy or a pickle makes
        # arrays of their own: they would read the ties' trust as it was when copied.
        for r, information in enumerate(self._informations):
            information.listeners = self.market.listeners.replication(r)

    def _creator_channels(self, today_posts: Posts) -> tuple[Exposures, Exposures]:
        m, s, streams = self.market, self.scenario, self._streams
        return (
            follow_exposures(m, self.today, today_posts, streams["follow"], s),
            discovery_exposures(m, self.today, today_posts, streams["discovery"], s),
        )

    def _storefront(self, chunks: Chunks | None = None) -> Exposures:
        return storefront_exposures(
            self.market, self.today, self._streams["storefront"], self.scenario, chunks
        )

    def _word_of_mouth(self) -> Exposures:
        return word_of_mouth_exposures(
            self.recommendations,
            self.day,
            self.market,
            self.today,
            self._streams["wom"],
            self.scenario.word_of_mouth,
        )

    def _record(self, record: _Record) -> None:
        """The day's counts, active users, order values and creators' exposures."""
        batches, orders, clicks, new_follows, blocked, active = record
        m = self.market
        by_channel: dict[int, list[np.ndarray]] = {c: [] for c in range(len(CHANNELS))}
        # Impressions shown and not clicked: their viewers, each once, and the rest as counts.
        unseen = np.zeros((self.replications, len(CHANNELS)), np.int64)
        for batch in batches:
            if len(batch):
                by_channel[int(batch.channel[0])].append(batch.user)
            if batch.unclicked is not None:
                users, impressions = batch.unclicked
                by_channel[STOREFRONT].append(users)
                unseen[:, STOREFRONT] += impressions - np.bincount(
                    users // m.layout.nodes, minlength=self.replications
                )
        follows = np.zeros((self.replications, len(CHANNELS)), np.int64)
        follows[:, DISCOVERY] = new_follows
        o = orders.exposures
        self._history.append(
            self._counter.count(
                [_joined(by_channel[c]) for c in by_channel],
                o.channel,
                o.user,
                orders.value,
                orders.items,
                (o.memory != 0).astype(np.float64),
                orders.first.astype(np.float64),
                (~orders.satisfied).astype(np.float64),
                clicks,
                follows,
                blocked,
                unseen,
            )
        )
        self._active.append(active)
        self._order_values += order_value_histogram(
            o.channel, orders.value, o.user // m.layout.nodes, self.replications
        )
        for batch in batches:
            if len(batch) and batch.channel[0] <= DISCOVERY:
                self.ledger.creator_exposures += np.bincount(batch.source, minlength=m.n_creators)

    def run(
        self, days: int, progress: bool = False, each_day: Callable[[], None] | None = None
    ) -> None:
        """Advance ``days`` days.

        Parameters
        ----------
        days : int
            Days to simulate.
        progress : bool, default False
            Show a progress bar over the days.
        each_day : callable, optional
            Called with no argument after each day (a caller's own progress display; the
            day's counts are read after the run, from :attr:`history` or
            :meth:`replication`).
        """
        if (
            isinstance(days, bool)
            or not isinstance(days, int | np.integer)
            or not 0 <= days <= MAX_RUN_DAYS
        ):
            raise LaotieError(
                f"Engine.run: days = {_shown(days)}; expected an integer from 0 to "
                f"{MAX_RUN_DAYS:,} (run.days' bound)"
            )
        steps = range(days)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="days", unit="day")
        for _ in steps:
            self._advance()
            if each_day is not None:
                each_day()
        self._settle()

    def close(self) -> None:
        """Stop the engine's helper thread (it is also stopped when the engine is collected)."""
        self._settle()
        self._side.close()

    def __del__(self) -> None:
        side = getattr(self, "_side", None)
        if side is not None:
            side.close(wait=False)

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

        Raises
        ------
        ScenarioError
            If a user is not a registered user's node id, a listing id is out of range, or a
            listing is not on offer (growth: its seller does not sell yet, or its producer is
            not online).
        """
        m = self.market
        n = m.layout.nodes
        users = _integers("users", users, np.atleast_1d(np.asarray(users)))
        if users.ndim != 1:
            raise ScenarioError(f"Engine.recommend: users must be 1-d, got shape {users.shape}")
        bad = (users < 0) | (users >= n)
        bad[~bad] = ~m.is_user[users[~bad]]
        if bad.any():
            raise ScenarioError(
                f"Engine.recommend: users must be node ids (0 .. {n - 1}) of registered users; "
                f"{int(bad.sum())} are not, e.g. {users[bad][:5].tolist()}"
            )
        listing = _integers("listing", listing, np.asarray(listing))
        n_listings = min(len(index) for index in m.listing_index)
        if listing.ndim > 1 or (listing.ndim == 1 and len(listing) != len(users)):
            raise ScenarioError(
                f"Engine.recommend: listing must be one id or one per user ({len(users)}), got "
                f"shape {listing.shape}"
            )
        listing = np.broadcast_to(listing, users.shape)
        if listing.size and (listing.min() < 0 or listing.max() >= n_listings):
            every = " (in every lockstep replication)" if self.replications > 1 else ""
            raise ScenarioError(
                f"Engine.recommend: listing ids must be in 0 .. {n_listings - 1}{every}; got "
                f"{listing[(listing < 0) | (listing >= n_listings)][:5].tolist()}"
            )
        if quality is not None:
            q = np.asarray(quality, np.float64)
            if q.ndim > 1 or (q.ndim == 1 and len(q) != len(users)):
                raise ScenarioError(
                    f"Engine.recommend: quality must be one number or one per user "
                    f"({len(users)}), got shape {q.shape}"
                )
            outside = ~((q >= 0) & (q <= 1))
            if outside.any():
                raise ScenarioError(
                    f"Engine.recommend: quality must be in [0, 1]; got {q[outside][:5].tolist()}"
                )
            quality = np.broadcast_to(q.astype(np.float32), users.shape)
        R = self.replications
        local = listing
        if R > 1:
            listing = np.concatenate([index[listing] for index in m.listing_index])
            users = (users[None, :] + n * np.arange(R)[:, None]).ravel()
            if quality is not None:
                quality = np.tile(quality, R)
        # Only what is on offer can be recommended (growth: a closed storefront, a creator
        # who does not sell, a specialty whose producer is not online).
        seller = m.listing_seller[listing]
        selling = np.concatenate([m.selling, m.storefront_open])[seller]
        off = ~(m.listing_on_shelf[listing] & selling)
        if off.any():
            first = int(local[np.flatnonzero(off)[0] % len(local)])
            raise ScenarioError(
                f"Engine.recommend: listing {first} is not "
                f"on offer today (its seller does not sell yet, or its producer is not online); "
                f"recommend a listing on a seller's shelf (Market.listing_on_shelf)"
            )
        said = Exposures.make(
            len(users),
            WOM,
            user=users,
            listing=listing,
            trust=0,
            memory=0,
            quality=m.product_quality[m.listing_product[listing]] if quality is None else quality,
            ref_kind=REF_NONE,
            ref=-1,
            source=m.listing_seller[listing],
        )
        self.recommendations.add(said, self.day - 1)
        self.ledger.ever_ordered[users] = True

    # ------------------------------------------------------------------ replications
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
        self._settle()
        return [counts[0] for counts in self._history]

    @property
    def repurchase(self) -> list[dict[str, float]]:
        """Monthly repurchase rates so far (one engine run; see :meth:`replication`)."""
        self._single("repurchase")
        return self.ledger.repurchase[0]

    @property
    def order_values(self) -> np.ndarray:
        """Orders per channel and order-value bin (one engine run; see :meth:`replication`)."""
        self._single("order_values")
        self._settle()
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
        return int(self.shock.listing[0])

    @property
    def shock_product(self) -> int:
        """The shocked product (-1 before a shock; one engine run)."""
        self._single("shock_product")
        return int(self.shock.product[0])

    @property
    def shock_seller(self) -> int:
        """The seller of the shocked listing (-1 before a shock; one engine run)."""
        self._single("shock_seller")
        return int(self.shock.seller[0])

    def replication(self, r: int) -> Replication:
        """What replication ``r`` recorded, with the names and local ids an engine of that
        replication alone would have (``Result.from_engine`` reads it).

        Raises
        ------
        LaotieError
            If ``r`` is not a replication of this engine.
        """
        R = self.replications
        if not 0 <= r < R:
            raise LaotieError(f"Engine.replication({r!r}): replications are 0 .. {R - 1}")
        self._settle()
        m = self.market
        L = self.ledger
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
            market=ReplicationMarket(
                is_head=m.is_head[creators],
                creator_node=m.creator_node[creators] - r * layout.nodes,
                producer_node=m.producer_node[producers] - r * layout.nodes,
                producer_offline=m.producer_offline[producers],
                producer_listed=m.producer_listed[producers],
                producer_days_online=np.where(
                    m.producer_online[producers], self.day - m.producer_since[producers], 0
                ),
            ),
            history=[counts[r] for counts in self._history],
            active=[int(counts[r]) for counts in self._active],
            months=L.months[r],
            repurchase=L.repurchase[r],
            order_values=self._order_values[r],
            information=self._informations[r],
            creator_income=L.creator_income[creators],
            creator_exposures=L.creator_exposures[creators],
            producer_income=L.producer_income[producers],
            producer_orders=L.producer_orders[producers],
            producer_buyers=L.producer_buyers[producers],
            seller_gmv=np.concatenate([L.seller_gmv[creators], L.seller_gmv[storefronts]]),
            seller_customers=np.concatenate(
                [L.seller_customers[creators], L.seller_customers[storefronts]]
            ),
            seller_repeat_customers=np.concatenate(
                [L.seller_repeat_customers[creators], L.seller_repeat_customers[storefronts]]
            ),
            listing_orders=L.listing_orders[m.listing_index[r]],
        )


class _Record(NamedTuple):
    """What a day's records are written from (:meth:`Engine._record`): its exposures, orders,
    clicks, new follows, blocked orders and active users per replication."""

    batches: list[Exposures]
    orders: Orders
    clicks: np.ndarray
    new_follows: np.ndarray
    blocked: np.ndarray
    active: np.ndarray


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    """The arrays one after the other (the one array itself, without a copy, if only one)."""
    if len(arrays) == 1:
        return arrays[0]
    return np.concatenate([np.zeros(0, np.int32), *arrays])


def _integers(name: str, given: object, values: np.ndarray) -> np.ndarray:
    """``values`` as int64, or a ScenarioError naming ``name`` if they are not integers."""
    if values.size == 0 or values.dtype.kind in "iu":
        return values.astype(np.int64)
    if (
        values.dtype.kind == "f"
        and np.isfinite(values).all()
        and (values == np.round(values)).all()
    ):
        return values.astype(np.int64)
    raise ScenarioError(
        f"Engine.recommend: {name} = {given!r} must be integer ids (got dtype {values.dtype})"
    )
