"""The Mesa face: batch_run, the DataCollector and agents that read the engine's state."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from laotie import LaotieModel, Scenario, ScenarioError, simulate
from laotie.metrics import COLUMNS, ROWS
from laotie.model import ConsumerAgent, CreatorAgent, StorefrontAgent


def test_batch_run_sweeps_scenario_parameters() -> None:
    results = mesa.batch_run(
        LaotieModel,
        parameters={"scale": 0.001, "seed": [1, 2], "policy.traffic": ["head", "inclusive"]},
        iterations=1,
        max_steps=4,
        display_progress=False,
    )
    assert len(results) == 4
    assert {r["policy.traffic"] for r in results} == {"head", "inclusive"}
    assert all(r["Step"] == 4 for r in results)
    assert all("trust_conversion" in r and "storefront_order_value" in r for r in results)
    # The same parameters and seed give the same numbers in a second batch.
    again = mesa.batch_run(
        LaotieModel,
        parameters={"scale": 0.001, "seed": [1, 2], "policy.traffic": ["head", "inclusive"]},
        iterations=1,
        max_steps=4,
        display_progress=False,
    )
    key = lambda r: (r["seed"], r["policy.traffic"])  # noqa: E731
    assert [r["all_gmv"] for r in sorted(results, key=key)] == [
        r["all_gmv"] for r in sorted(again, key=key)
    ]


def test_datacollector_has_every_metric_and_matches_simulate() -> None:
    model = LaotieModel(scale=0.001, seed=5)
    for _ in range(6):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 6
    assert {f"{row}_{col}" for row in ROWS for col in COLUMNS} <= set(frame.columns)
    assert set(result_outcome_keys()) <= set(frame.columns)
    np.testing.assert_equal(
        frame["creator_income_gini"].iloc[-1], model.outcomes["creator_income_gini"]
    )
    result = simulate(Scenario.preset("mudanjiang", scale=0.001), days=6, seed=5)
    pd.testing.assert_frame_equal(model.result().daily, result.daily)
    trust = result.daily[result.daily.channel == "trust"]
    np.testing.assert_array_equal(frame["trust_orders"].to_numpy(), trust["orders"].to_numpy())
    # The day's active users, as the engine counted them.
    assert frame["active_users"].iloc[-1] == model.engine.today.counts.sum() > 0
    # Every registered user and every seller is there when the platform does not grow.
    m = model.engine.market
    assert (frame["adopted_users"] == m.n_users).all()
    assert (frame["sellers"] == m.n_creators + m.n_storefronts).all()
    assert (frame["producers_online"] == m.producer_listed.sum()).all()


def test_datacollector_follows_a_growing_platform() -> None:
    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(
        **{
            "growth.initial_users": 0.3,
            "growth.external": 12.0,
            "growth.initial_sellers": 0.5,
            "producers.n_producers": 40,
            "producers.channel": "storefronts",
        }
    )
    model = LaotieModel(scenario=scenario, seed=2)
    for _ in range(31):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    m = model.engine.market
    assert frame["adopted_users"].iloc[0] < frame["adopted_users"].iloc[-1] == m.adopted.sum()
    assert frame["sellers"].iloc[-1] == m.selling.sum() + m.storefront_open.sum()
    assert 0 < frame["producers_online"].iloc[0] < m.n_producers
    assert frame["producers_online"].iloc[-1] == m.producer_online.sum()


def result_outcome_keys() -> list[str]:
    return list(simulate(Scenario.preset("mudanjiang", scale=0.001), days=1, seed=0).outcomes)


def test_agents_read_the_engine_state() -> None:
    model = LaotieModel(scale=0.001, seed=2, consumer_agents=True)
    for _ in range(10):
        model.step()
    market = model.engine.market
    creators = list(model.agents_by_type[CreatorAgent])
    assert len(creators) == market.n_creators
    assert len(model.agents_by_type[StorefrontAgent]) == market.n_storefronts
    assert len(model.agents_by_type[ConsumerAgent]) == market.n_users
    assert sum(c.income for c in creators) == pytest.approx(
        model.engine.ledger.creator_income.sum()
    )
    assert [c.followers for c in creators] == list(market.follows.count[market.creator_node])
    assert {c.kind for c in creators} <= {"head", "local"}
    consumer = next(iter(model.agents_by_type[ConsumerAgent]))
    assert consumer.spent <= consumer.budget


def test_dunder_keys_and_errors() -> None:
    model = LaotieModel(scale=0.001, seed=1, policy__traffic="head")
    assert model.scenario.policy.traffic == "head"
    with pytest.raises(ScenarioError, match="did you mean 'traffic'"):
        LaotieModel(scale=0.001, policy__trafic="head")
    with pytest.raises(ScenarioError, match="consumer_agents=True needs at most"):
        LaotieModel(scale=0.03, consumer_agents=True)
