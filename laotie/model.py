"""The Mesa face of the engine: :class:`LaotieModel`, whose ``step()`` is one simulated day.

The rules live in :class:`laotie.Engine`; this module only exposes them the way Mesa users
expect: keyword parameters (so that :func:`mesa.batch_run` works), ``running`` that turns
False after the scenario's days, a ``DataCollector`` that collects at initialisation (step 0
is day 0) with every metric as a model reporter and ``trust``, ``orders`` and ``income`` as
agent reporters, and agents for creators, storefronts and producers (and for consumers on
request) whose attributes read the engine's state. Agents hold no state of their own, so the
Mesa model and ``laotie.simulate`` give identical numbers for the same scenario and seed.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import mesa
import numpy as np

from ._random import as_seed_sequence, run_seeds
from .engine import Engine
from .errors import ScenarioError
from .graph import TrustGraph
from .metrics import COLUMNS, COUNTS, ROWS, with_ratios
from .results import Result, run_outcomes
from .scenario import Scenario, check_graph_fits, scenario_graph

__all__ = [
    "AGENT_REPORTERS",
    "ConsumerAgent",
    "CreatorAgent",
    "LaotieModel",
    "ProducerAgent",
    "StorefrontAgent",
]

CONSUMER_AGENT_LIMIT = 50_000
"""Largest number of residents for which consumers become Mesa agents."""

AGENT_REPORTERS = ("kind", "trust", "orders", "income")
"""The agent reporters of every agent type (None where a type has no such attribute:
producers hold no trust, consumers no income)."""


class AgentView:
    """What the agents read of the engine on the latest day, computed once per day for all
    agents of a kind (rather than once per agent)."""

    def __init__(self, engine: Engine, consumers: bool) -> None:
        m, ledger, follows = engine.market, engine.ledger, engine.market.follows
        n = m.n_nodes
        trust = np.bincount(follows.creator, weights=follows.trust, minlength=n)
        trust += np.bincount(follows.buffer_creator, weights=follows.buffer_trust, minlength=n)
        ties = follows.count[m.creator_node]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.creator_trust = np.where(ties > 0, trust[m.creator_node] / ties, np.nan)
        self.seller_orders = np.bincount(
            m.listing_seller, weights=ledger.listing_orders, minlength=m.n_sellers
        ).astype(np.int64)
        self.storefront_trust = float(m.storefront_trust[m.users].mean()) if m.n_users else np.nan
        self.consumer_trust = np.zeros(0)
        if consumers:
            by_user = np.bincount(follows.user, weights=follows.trust, minlength=n)
            by_user += np.bincount(follows.buffer_user, weights=follows.buffer_trust, minlength=n)
            followed = np.bincount(follows.user, minlength=n) + np.bincount(
                follows.buffer_user, minlength=n
            )
            with np.errstate(invalid="ignore", divide="ignore"):
                self.consumer_trust = np.where(followed > 0, by_user / followed, np.nan)


class CreatorAgent(mesa.Agent):
    """A selling creator (head KOL or local creator); attributes read the engine's state.

    Parameters
    ----------
    model : LaotieModel
        The model the agent belongs to.
    seller : int
        The creator's seller index in the engine's market.
    """

    def __init__(self, model: LaotieModel, seller: int) -> None:
        super().__init__(model)
        self.seller = seller
        self.node = int(model.engine.market.creator_node[seller])

    @property
    def kind(self) -> str:
        """``"head"`` or ``"local"``."""
        return "head" if self.model.engine.market.is_head[self.seller] else "local"

    @property
    def followers(self) -> int:
        """Current number of followers."""
        return int(self.model.engine.market.follows.count[self.node])

    @property
    def trust(self) -> float:
        """Mean trust of the creator's followers in the creator, in [0, 1] (NaN without
        followers), on the latest day."""
        return float(self.model.agent_view.creator_trust[self.seller])

    @property
    def orders(self) -> int:
        """Orders sold so far."""
        return int(self.model.agent_view.seller_orders[self.seller])

    @property
    def authenticity(self) -> float:
        """Authenticity in [0, 1]."""
        return float(self.model.engine.market.authenticity[self.seller])

    @property
    def content_quality(self) -> float:
        """Content quality in [0, 1]."""
        return float(self.model.engine.market.content_quality[self.seller])

    @property
    def income(self) -> float:
        """Commission earned so far (RMB)."""
        return float(self.model.engine.ledger.creator_income[self.seller])

    @property
    def gmv(self) -> float:
        """Value of the orders sold so far (RMB)."""
        return float(self.model.engine.ledger.seller_gmv[self.seller])


class StorefrontAgent(mesa.Agent):
    """A traffic-driven storefront; attributes read the engine's state.

    Parameters
    ----------
    model : LaotieModel
        The model the agent belongs to.
    store : int
        The storefront's index (0 .. n_storefronts - 1).
    """

    kind = "storefront"

    def __init__(self, model: LaotieModel, store: int) -> None:
        super().__init__(model)
        self.store = store
        self.seller = model.engine.market.n_creators + store

    @property
    def authenticity(self) -> float:
        """Authenticity of the storefront's listings."""
        return float(self.model.engine.market.authenticity[self.seller])

    @property
    def trust(self) -> float:
        """Users' mean trust in storefronts, on the latest day. Trust in storefronts is a
        user's, not a storefront's (docs/model.md), so every storefront reports the same."""
        return self.model.agent_view.storefront_trust

    @property
    def orders(self) -> int:
        """Orders sold so far."""
        return int(self.model.agent_view.seller_orders[self.seller])

    @property
    def gmv(self) -> float:
        """Value of the orders sold so far (RMB)."""
        return float(self.model.engine.ledger.seller_gmv[self.seller])

    @property
    def income(self) -> float:
        """Sales so far (RMB): a storefront keeps the value of its orders (its ``gmv``)."""
        return self.gmv


class ProducerAgent(mesa.Agent):
    """A producer of a local specialty (the poor producers of 精准扶贫); attributes read the
    engine's state. Producers hold no trust: their ``trust`` is None in the agent table.

    Parameters
    ----------
    model : LaotieModel
        The model the agent belongs to.
    producer : int
        The producer's index (0 .. n_producers - 1).
    """

    kind = "producer"

    def __init__(self, model: LaotieModel, producer: int) -> None:
        super().__init__(model)
        self.producer = producer
        self.node = int(model.engine.market.producer_node[producer])

    @property
    def online(self) -> bool:
        """Whether the producer's specialty is on sale on the platform."""
        return bool(self.model.engine.market.producer_online[self.producer])

    @property
    def orders(self) -> int:
        """Orders of the producer's products so far."""
        return int(self.model.engine.ledger.producer_orders[self.producer])

    @property
    def buyers(self) -> int:
        """Distinct buyers of the producer's products so far."""
        return int(self.model.engine.ledger.producer_buyers[self.producer])

    @property
    def income(self) -> float:
        """Net income from the platform so far (RMB)."""
        return float(self.model.engine.ledger.producer_income[self.producer])


class ConsumerAgent(mesa.Agent):
    """A registered user as a consumer; attributes read the engine's state. The engine counts
    a consumer's spending, not its orders, and consumers have no income: their ``orders`` and
    ``income`` are None in the agent table.

    Parameters
    ----------
    model : LaotieModel
        The model the agent belongs to.
    node : int
        The user's node id in the trust graph.
    """

    kind = "consumer"

    def __init__(self, model: LaotieModel, node: int) -> None:
        super().__init__(model)
        self.node = node

    @property
    def active(self) -> bool:
        """Whether the user was active on the last simulated day."""
        return bool(self.model.engine.today.is_active(np.array([self.node]))[0])

    @property
    def budget(self) -> float:
        """Monthly budget (RMB)."""
        return float(self.model.engine.market.budget[self.node])

    @property
    def spent(self) -> float:
        """Spent this month (RMB)."""
        return float(self.model.engine.ledger.spent[self.node])

    @property
    def trust(self) -> float:
        """Mean trust of the user in the creators it follows (NaN when it follows none), on
        the latest day."""
        return float(self.model.agent_view.consumer_trust[self.node])

    @property
    def storefront_trust(self) -> float:
        """Trust in storefront sellers."""
        return float(self.model.engine.market.storefront_trust[self.node])


class LaotieModel(mesa.Model):
    """The laotie market as a Mesa model; ``step()`` simulates one day.

    ``running`` turns False once the scenario's days (``run.days``) are simulated, so
    ``run_model()`` and :func:`mesa.batch_run` stop there. The ``DataCollector`` collects at
    initialisation and after every day: its row ``k`` (batch_run's ``Step k``) is day ``k``,
    row 0 the market before its first day. Model reporters are every metric of every channel
    on the latest day (``trust_conversion``, ``storefront_order_value`` ...), the run's
    outcomes so far and the users, sellers and producers on the platform; agent reporters
    are ``kind``, ``trust``, ``orders`` and ``income`` (:data:`AGENT_REPORTERS`), and the
    creators' type reporters ``followers`` and ``income``.

    :func:`mesa.batch_run` (Mesa 3.3) reports steps ``0 .. model.steps - 1``: a run that ends
    by itself after the scenario's days is reported up to the day before its last. To have
    day ``N`` in its table, give the scenario one day more (``run__days=N + 1``) or stop it
    with ``max_steps=N`` below the scenario's days.

    Parameters are those of ``__init__``.

    Attributes
    ----------
    scenario : Scenario
        The scenario being run (after ``**parameters``).
    engine : Engine
        The vectorised engine that holds the state and applies the rules.
    graph : TrustGraph
        The trust graph: the city's, or the scenario's graph file mapped
        (:func:`laotie.scenario.scenario_graph`; ``graph.meta["mapping"]`` says what was
        assigned), or the one given.
    days : int
        The scenario's days; ``running`` is False once they are simulated.

    Examples
    --------
    >>> model = LaotieModel("village", seed=1, policy__traffic="head")
    >>> model.run_model()  # the scenario's 90 days
    >>> model.steps, model.running
    (90, False)
    >>> frame = model.datacollector.get_model_vars_dataframe()
    >>> len(frame), "trust_conversion" in frame.columns  # day 0 and days 1-90
    (91, True)
    """

    def __init__(
        self,
        scenario: Scenario | str | os.PathLike[str] | None = None,
        *,
        preset: str | None = None,
        scale: float | None = None,
        graph: TrustGraph | None = None,
        seed: int | None = None,
        consumer_agents: bool = False,
        agent_data: bool = True,
        **parameters: Any,
    ) -> None:
        """Build the city and the market and collect day 0.

        Parameters
        ----------
        scenario : Scenario, str or path, default "village"
            A scenario, a shipped scenario's name (``"village"``, ``"county"``,
            ``"poverty_county"``, ``"mudanjiang"`` ...) or a scenario file or folder
            (:meth:`Scenario.load`).
        preset : str, optional
            Another way to give a shipped scenario's name (``preset="village"``).
        scale : float, optional
            Multiplies the scenario's population (default: the scenario's own city; the
            whole-city ``mudanjiang`` has 2.5 million residents, ``scale=0.001`` about
            2,500). A scenario whose graph is a file takes only 1.
        graph : TrustGraph, optional
            Run on this graph instead of the scenario's (its city, or its graph file,
            ``[graph] from``).
        seed : int, optional
            One seed for Mesa's ``random``/``rng``, the city and the engine, as for
            :func:`laotie.simulate` (None: a fresh seed).
        consumer_agents : bool, default False
            Also make every user a :class:`ConsumerAgent` (up to 50,000 residents).
        agent_data : bool, default True
            Collect the agent reporters each day (one row per agent per day; turn off for
            large cities when only the model reporters are wanted).
        **parameters
            Scenario changes as dotted keys (``**{"policy.traffic": "head"}``), or with
            ``__`` in place of the dot (``policy__traffic="head"``), so that
            :func:`mesa.batch_run` can sweep them (``run__days=30`` shortens the run).

        Raises
        ------
        ScenarioError
            For an unknown scenario, a bad scale or change, both ``scenario`` and
            ``preset``, or consumer agents in a city above 50,000 residents.

        Warns
        -----
        EmptyChannelWarning
            For a graph file or a given graph that lacks a role a channel needs (as
            :func:`laotie.simulate` warns).
        """
        as_seed_sequence(seed)  # a named error for a bad seed, before Mesa's numpy one
        super().__init__(seed=seed)
        if scenario is not None and preset is not None:
            raise ScenarioError(
                f"LaotieModel: give the scenario or preset, not both (scenario={scenario!r}, "
                f"preset={preset!r})"
            )
        source = scenario if scenario is not None else (preset or "village")
        base = source if isinstance(source, Scenario) else Scenario.load(source)
        if scale is not None:
            base = base.scaled(scale)
        changes = {key.replace("__", "."): value for key, value in parameters.items()}
        self.scenario = base.replace(**changes)
        self.days = int(self.scenario.run.days)
        brought = graph is not None or bool(self.scenario.graph.file)
        given = graph is not None
        if graph is None and self.scenario.graph.file:
            graph = scenario_graph(self.scenario)
        n_residents = graph.n_residents if graph is not None else self.scenario.city.n_residents
        if consumer_agents and n_residents > CONSUMER_AGENT_LIMIT:
            raise ScenarioError(
                f"consumer_agents=True needs at most {CONSUMER_AGENT_LIMIT:,} residents; this "
                f"city has {n_residents:,} (use a smaller scale)"
            )
        graph_seed, (run_seed,) = run_seeds(seed)
        self.graph = graph if graph is not None else scenario_graph(self.scenario, graph_seed)
        if brought:
            from .runs import warn_missing_roles

            warn_missing_roles(self.graph, "the graph of the model")
        if given:
            check_graph_fits(self.scenario, self.graph, "the graph given to the model")
        self.engine = Engine(self.graph, self.scenario, seed=run_seed)
        self.consumer_agents = consumer_agents
        market = self.engine.market
        for seller in range(market.n_creators):
            CreatorAgent(self, seller)
        for store in range(market.n_storefronts):
            StorefrontAgent(self, store)
        for producer in range(market.n_producers):
            ProducerAgent(self, producer)
        if consumer_agents:
            for node in market.users:
                ConsumerAgent(self, int(node))
        reporters: dict[str, Any] = {}
        for row, channel in enumerate(ROWS):
            for col, metric in enumerate(COLUMNS):
                reporters[f"{channel}_{metric}"] = partial(_latest_metric, row=row, col=col)
        self._latest = np.full((len(ROWS), len(COLUMNS)), np.nan)
        self._outcomes = run_outcomes(self.engine.replication(0))
        for key in self._outcomes:
            reporters[key] = partial(_outcome, key=key)
        for key in INFORMATION_REPORTERS:
            reporters[f"information_{key}"] = partial(_information, key=key)
        reporters["day"] = _day
        reporters["active_users"] = _active_users
        reporters["adopted_users"] = _adopted_users
        reporters["sellers"] = _sellers
        reporters["producers_online"] = _producers_online
        self.datacollector = mesa.DataCollector(
            model_reporters=reporters,
            agent_reporters={key: key for key in AGENT_REPORTERS} if agent_data else None,
            agenttype_reporters=(
                {CreatorAgent: {"followers": "followers", "income": "income"}}
                if agent_data
                else None
            ),
        )
        self._view: AgentView | None = None
        self.running = self.engine.day < self.days
        self.datacollector.collect(self)

    def step(self) -> None:
        """Simulate one day and collect its metrics; ``running`` turns False after the
        scenario's last day (further steps simulate further days)."""
        counts = self.engine.step()
        self._latest = with_ratios(counts.reshape(len(ROWS), len(COUNTS)))
        self._outcomes = run_outcomes(self.engine.replication(0))
        self._view = None
        self.running = self.engine.day < self.days
        self.datacollector.collect(self)

    @property
    def agent_view(self) -> AgentView:
        """What the agents read of the latest day, computed on first use each day (so that
        a model whose agents nobody reads pays nothing for them)."""
        if self._view is None:
            self._view = AgentView(self.engine, self.consumer_agents)
        return self._view

    @property
    def outcomes(self) -> dict[str, float]:
        """Per-run outcomes so far (producer income, creator inequality, repurchase, ...).

        Returns
        -------
        dict of str to float
            Keyed as :attr:`laotie.Result.outcomes`.
        """
        return dict(self._outcomes)

    def result(self) -> Result:
        """The run so far as a :class:`~laotie.results.Result`.

        Returns
        -------
        Result
            Equal to :func:`laotie.simulate`'s for the same scenario, seed and days.
        """
        return Result.from_engine(self.engine, {"days": self.engine.day})


INFORMATION_REPORTERS = ("share_informed", "share_rural", "share_non_users", "baseline_share")
"""Coverage of the latest posted government message, collected each day (NaN before)."""


def _information(model: LaotieModel, key: str) -> float:
    """A model reporter: coverage of the latest posted government message so far."""
    info = model.engine.information
    if not info.records:
        return float("nan")
    _, _, counts, _ = info.records[-1]
    return float(info.shares(counts[None, :])[key][0])


def _day(model: LaotieModel) -> int:
    """A model reporter: the days simulated so far (0 at initialisation)."""
    return int(model.engine.day)


def _active_users(model: LaotieModel) -> int:
    """A model reporter: the users active on the latest day (DAU)."""
    return int(model.engine.today.counts.sum())


def _adopted_users(model: LaotieModel) -> int:
    """A model reporter: the users who use the platform (all of them unless it grows)."""
    return int(model.engine.market.adopted.sum())


def _sellers(model: LaotieModel) -> int:
    """A model reporter: the selling creators and open storefronts (all of them unless the
    platform grows)."""
    m = model.engine.market
    return int(m.selling.sum() + m.storefront_open.sum())


def _producers_online(model: LaotieModel) -> int:
    """A model reporter: the producers whose specialty sells online (every listed producer
    unless the platform grows)."""
    return int(model.engine.market.producer_online.sum())


def _outcome(model: LaotieModel, key: str) -> float:
    """A model reporter: a per-run outcome so far (picklable as a partial)."""
    return float(model._outcomes[key])


def _latest_metric(model: LaotieModel, row: int, col: int) -> float:
    """A model reporter: one metric of one channel on the latest day (picklable as a partial)."""
    return float(model._latest[row, col])
