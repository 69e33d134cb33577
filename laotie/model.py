"""The Mesa face of the engine: :class:`LaotieModel`, whose ``step()`` is one simulated day.

The rules live in :class:`laotie.Engine`; this module only exposes them the way Mesa users
expect: keyword parameters (so that :func:`mesa.batch_run` works), a ``DataCollector`` with
every metric, and agents for creators and storefronts (and for consumers on request) whose
attributes read the engine's state. Agents hold no state of their own, so the Mesa model and
``laotie.simulate`` give identical numbers for the same scenario and seed.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np

from ._random import run_seeds
from .engine import Engine
from .errors import ScenarioError
from .graph import TrustGraph, city
from .metrics import COLUMNS, COUNTS, ROWS, with_ratios
from .results import Result, run_outcomes
from .scenario import Scenario

__all__ = ["ConsumerAgent", "CreatorAgent", "LaotieModel", "StorefrontAgent"]

CONSUMER_AGENT_LIMIT = 50_000
"""Largest number of residents for which consumers become Mesa agents."""


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

    def __init__(self, model: LaotieModel, store: int) -> None:
        super().__init__(model)
        self.store = store

    @property
    def authenticity(self) -> float:
        """Authenticity of the storefront's listings."""
        m = self.model.engine.market
        return float(m.authenticity[m.n_creators + self.store])

    @property
    def gmv(self) -> float:
        """Value of the orders sold so far (RMB)."""
        m = self.model.engine.market
        return float(self.model.engine.ledger.seller_gmv[m.n_creators + self.store])


class ConsumerAgent(mesa.Agent):
    """A registered user as a consumer; attributes read the engine's state.

    Parameters
    ----------
    model : LaotieModel
        The model the agent belongs to.
    node : int
        The user's node id in the trust graph.
    """

    def __init__(self, model: LaotieModel, node: int) -> None:
        super().__init__(model)
        self.node = node

    @property
    def active(self) -> bool:
        """Whether the user was active on the last simulated day."""
        return bool(self.model.engine.today.active[self.node])

    @property
    def budget(self) -> float:
        """Monthly budget (RMB)."""
        return float(self.model.engine.market.budget[self.node])

    @property
    def spent(self) -> float:
        """Spent this month (RMB)."""
        return float(self.model.engine.ledger.spent[self.node])

    @property
    def storefront_trust(self) -> float:
        """Trust in storefront sellers."""
        return float(self.model.engine.market.storefront_trust[self.node])


class LaotieModel(mesa.Model):
    """The laotie market as a Mesa model; ``step()`` simulates one day.

    Parameters
    ----------
    scenario : Scenario, optional
        The scenario; by default ``Scenario.preset(preset, scale=scale)``.
    preset : str
        City preset used when ``scenario`` is not given.
    scale : float
        Population scale of the preset (1 is the whole city).
    graph : TrustGraph, optional
        Run on this graph instead of building the scenario's city.
    seed : int, optional
        One seed for Mesa's ``random``/``rng``, the city and the engine.
    consumer_agents : bool
        Also make every user a :class:`ConsumerAgent` (up to 50,000 residents).
    **parameters
        Scenario changes as dotted keys (``**{"policy.traffic": "head"}``), or with ``__``
        in place of the dot (``policy__traffic="head"``), so that :func:`mesa.batch_run`
        can sweep them.

    Examples
    --------
    >>> model = LaotieModel(scale=0.001, seed=1, policy__traffic="head")
    >>> for _ in range(3):
    ...     model.step()
    >>> frame = model.datacollector.get_model_vars_dataframe()
    >>> len(frame), "trust_conversion" in frame.columns
    (3, True)
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        preset: str = "mudanjiang",
        scale: float = 0.001,
        graph: TrustGraph | None = None,
        seed: int | None = None,
        consumer_agents: bool = False,
        **parameters: Any,
    ) -> None:
        super().__init__(seed=seed)
        if scenario is None:
            scenario = Scenario.preset(preset, scale=scale)
        changes = {key.replace("__", "."): value for key, value in parameters.items()}
        self.scenario = scenario.replace(**changes)
        n_residents = graph.n_residents if graph is not None else self.scenario.city.n_residents
        if consumer_agents and n_residents > CONSUMER_AGENT_LIMIT:
            raise ScenarioError(
                f"consumer_agents=True needs at most {CONSUMER_AGENT_LIMIT:,} residents; this "
                f"city has {n_residents:,} (use a smaller scale)"
            )
        graph_seed, (run_seed,) = run_seeds(seed)
        self.graph = graph if graph is not None else city(self.scenario.city, seed=graph_seed)
        self.engine = Engine(self.graph, self.scenario, seed=run_seed)
        market = self.engine.market
        for seller in range(market.n_creators):
            CreatorAgent(self, seller)
        for store in range(market.n_storefronts):
            StorefrontAgent(self, store)
        if consumer_agents:
            for node in market.users:
                ConsumerAgent(self, int(node))
        reporters: dict[str, Any] = {}
        for row, channel in enumerate(ROWS):
            for col, metric in enumerate(COLUMNS):
                reporters[f"{channel}_{metric}"] = partial(_latest_metric, row=row, col=col)
        for key in run_outcomes(self.engine.replication(0)):
            reporters[key] = partial(_outcome, key=key)
        for key in INFORMATION_REPORTERS:
            reporters[f"information_{key}"] = partial(_information, key=key)
        reporters["active_users"] = _active_users
        reporters["adopted_users"] = _adopted_users
        reporters["sellers"] = _sellers
        reporters["producers_online"] = _producers_online
        self.datacollector = mesa.DataCollector(
            model_reporters=reporters,
            agenttype_reporters={
                CreatorAgent: {"followers": "followers", "income": "income"},
            },
        )
        self._latest = np.full((len(ROWS), len(COLUMNS)), np.nan)
        self._outcomes: dict[str, float] = {}

    def step(self) -> None:
        """Simulate one day and collect its metrics."""
        counts = self.engine.step()
        self._latest = with_ratios(counts.reshape(len(ROWS), len(COUNTS)))
        self._outcomes = run_outcomes(self.engine.replication(0))
        self.datacollector.collect(self)

    @property
    def outcomes(self) -> dict[str, float]:
        """Per-run outcomes so far (producer income, creator inequality, repurchase, ...).

        Returns
        -------
        dict of str to float
            Keyed as :attr:`laotie.Result.outcomes`.
        """
        return dict(self._outcomes) if self._outcomes else run_outcomes(self.engine.replication(0))

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
