"""The Mesa face: batch_run, the DataCollector and agents that read the engine's state."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from laotie import LaotieModel, Scenario, ScenarioError, simulate
from laotie.metrics import CHANNELS, COLUMNS, ROWS
from laotie.model import (
    AGENT_REPORTERS,
    ConsumerAgent,
    CreatorAgent,
    ProducerAgent,
    StorefrontAgent,
)
from laotie.scenario import shipped_scenarios


def test_batch_run_sweeps_scenario_parameters() -> None:
    results = mesa.batch_run(
        LaotieModel,
        parameters={
            "scenario": "mudanjiang",
            "scale": 0.001,
            "agent_data": False,  # one row per run and step
            "seed": [1, 2],
            "policy.traffic": ["head", "inclusive"],
        },
        iterations=1,
        max_steps=4,
        display_progress=False,
    )
    assert len(results) == 4
    assert {r["policy.traffic"] for r in results} == {"head", "inclusive"}
    # Row k is day k: row 0 is collected at initialisation.
    assert all(r["Step"] == 4 and r["day"] == 4 for r in results)
    assert all("trust_conversion" in r and "storefront_order_value" in r for r in results)
    # The same parameters and seed give the same numbers in a second batch.
    again = mesa.batch_run(
        LaotieModel,
        parameters={
            "scenario": "mudanjiang",
            "scale": 0.001,
            "agent_data": False,  # one row per run and step
            "seed": [1, 2],
            "policy.traffic": ["head", "inclusive"],
        },
        iterations=1,
        max_steps=4,
        display_progress=False,
    )
    key = lambda r: (r["seed"], r["policy.traffic"])  # noqa: E731
    assert [r["all_gmv"] for r in sorted(results, key=key)] == [
        r["all_gmv"] for r in sorted(again, key=key)
    ]


def test_datacollector_has_every_metric_and_matches_simulate() -> None:
    model = LaotieModel("mudanjiang", scale=0.001, seed=5)
    for _ in range(6):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe().iloc[1:]  # row 0: day 0
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
    frame = model.datacollector.get_model_vars_dataframe().iloc[1:]
    m = model.engine.market
    assert frame["adopted_users"].iloc[0] < frame["adopted_users"].iloc[-1] == m.adopted.sum()
    assert frame["sellers"].iloc[-1] == m.selling.sum() + m.storefront_open.sum()
    assert 0 < frame["producers_online"].iloc[0] < m.n_producers
    assert frame["producers_online"].iloc[-1] == m.producer_online.sum()


def result_outcome_keys() -> list[str]:
    return list(simulate(Scenario.preset("mudanjiang", scale=0.001), days=1, seed=0).outcomes)


def test_agents_read_the_engine_state() -> None:
    model = LaotieModel("mudanjiang", scale=0.001, seed=2, consumer_agents=True)
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
    model = LaotieModel("mudanjiang", scale=0.001, seed=1, policy__traffic="head")
    assert model.scenario.policy.traffic == "head"
    with pytest.raises(ScenarioError, match="did you mean 'traffic'"):
        LaotieModel("mudanjiang", scale=0.001, policy__trafic="head")
    with pytest.raises(ScenarioError, match="consumer_agents=True needs at most"):
        LaotieModel("mudanjiang", scale=0.03, consumer_agents=True)


@pytest.mark.parametrize("name", shipped_scenarios())
def test_batch_run_over_every_shipped_scenario(name: str) -> None:
    # About 3,000 residents each: small enough for the quick loop, with every scenario's
    # own creators, storefronts and producers (a graph file, not scaled, as it is).
    scenario = Scenario.load(name)
    scale = 1.0 if scenario.graph.file else min(1.0, 3000 / scenario.city.n_residents)
    rows = pd.DataFrame(
        mesa.batch_run(
            LaotieModel,
            parameters={"scenario": name, "scale": scale, "seed": 3},
            max_steps=3,
            data_collection_period=1,
            display_progress=False,
        )
    )
    # Steps 0..3, and step k is day k: step 0 is the market before its first day.
    assert sorted(rows["Step"].unique()) == [0, 1, 2, 3]
    assert (rows["day"] == rows["Step"]).all()
    first = rows[rows["Step"] == 0]
    assert first["trust_orders"].isna().all() and (first["orders"] == 0).all()
    assert (first["income"].fillna(0) == 0).all()
    # One row per agent per step, every agent of every kind there.
    model = LaotieModel(name, scale=scale, seed=3)
    m = model.engine.market
    per_step = rows.groupby("Step").size()
    assert (per_step == m.n_creators + m.n_storefronts + m.n_producers).all()
    kinds = rows[rows["Step"] == 3]["kind"].value_counts().to_dict()
    assert kinds.get("storefront", 0) == m.n_storefronts
    assert kinds.get("producer", 0) == m.n_producers
    assert kinds.get("head", 0) + kinds.get("local", 0) == m.n_creators
    assert set(AGENT_REPORTERS) <= set(rows.columns)


def test_run_model_stops_after_the_scenario_days() -> None:
    model = LaotieModel("village", seed=4, run__days=5)
    assert model.running and model.days == 5
    for _ in range(50):  # run_model(), bounded: a model that never stops fails, not hangs
        if not model.running:
            break
        model.step()
    assert model.steps == 5 and not model.running and model.engine.day == 5
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["day"].tolist() == [0, 1, 2, 3, 4, 5]
    result = simulate(Scenario.load("village"), days=5, seed=4)
    pd.testing.assert_frame_equal(model.result().daily, result.daily)


def test_agent_reporters_add_up_to_the_run() -> None:
    model = LaotieModel("village", seed=6, run__days=40, consumer_agents=True)
    for _ in range(40):
        model.step()
    agents = model.datacollector.get_agent_vars_dataframe().xs(40, level="Step")
    result = model.result()
    sellers = agents[agents["kind"].isin(["head", "local", "storefront"])]
    daily = result.daily.set_index("channel")["orders"]
    assert sellers["orders"].sum() == daily.loc[list(CHANNELS)].sum() > 0
    creators = agents[agents["kind"].isin(["head", "local"])]
    assert creators["income"].sum() == pytest.approx(result.creator_income.sum())
    producers = agents[agents["kind"] == "producer"]
    assert producers["income"].sum() == pytest.approx(result.outcomes["producer_income_total"])
    assert producers["trust"].isna().all()
    # A creator's trust is its followers' mean trust in it, read from the follow ties.
    f = model.engine.market.follows
    creator = next(iter(model.agents_by_type[CreatorAgent]))
    ties = np.concatenate(
        [f.trust[f.creator == creator.node], f.buffer_trust[f.buffer_creator == creator.node]]
    )
    assert len(ties) == creator.followers > 0
    assert creator.trust == pytest.approx(ties.mean())
    consumers = agents[agents["kind"] == "consumer"]
    assert len(consumers) == model.engine.market.n_users
    assert consumers["trust"].between(0, 1).any() and consumers["income"].isna().all()
    assert len(model.agents_by_type[ProducerAgent]) == model.engine.market.n_producers


def test_scenario_by_name_keeps_its_own_scale() -> None:
    assert LaotieModel(preset="village", seed=1).scenario.city.n_residents == 2000
    assert LaotieModel("county", scale=0.02, seed=1).scenario.city.n_residents == 2000
    with pytest.raises(ScenarioError, match="not both"):
        LaotieModel("village", preset="county")
    with pytest.raises(ScenarioError, match="unknown scenario 'vilage'.*did you mean 'village'"):
        LaotieModel("vilage")
    with pytest.raises(ScenarioError, match="seed"):
        LaotieModel("village", seed=-1)
    # help(LaotieModel.__init__) shows laotie's parameters, not Mesa's text.
    assert "consumer_agents" in (LaotieModel.__init__.__doc__ or "")
