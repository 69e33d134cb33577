"""Producers' accounts and county-level units (docs/model.md 3.1, 3.4–3.6):
laotie/engine/rules/producers.py and laotie/accounts.py, under direct test."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from laotie import CitySpec, Region, Scenario, ScenarioError, graph, simulate
from laotie.accounts import poverty_outcomes, producer_outcomes
from laotie.engine.rules.producers import accounts, offline_incomes
from laotie.sections import Producers


# ------------------------------------------------------------------ the accounts' arithmetic
@settings(max_examples=60, deadline=None)
@given(
    revenue=st.lists(st.floats(0, 1e5), min_size=1, max_size=20),
    fee=st.floats(0, 1),
    cost=st.floats(0, 50),
    fixed=st.floats(0, 10),
    displacement=st.floats(0, 1),
    offline=st.floats(0, 100),
    days=st.integers(0, 400),
)
def test_net_is_receipts_less_costs_less_displaced(
    revenue: list[float],
    fee: float,
    cost: float,
    fixed: float,
    displacement: float,
    offline: float,
    days: int,
) -> None:
    p = Producers(
        platform_fee=fee, cost_per_order=cost, fixed_cost=fixed, displacement=displacement
    )
    g = np.array(revenue)
    n = np.arange(len(g)) % 4
    listed = np.arange(len(g)) % 3 != 0
    off = np.full(len(g), offline)
    a = accounts(p, g, n, off, listed, days)
    np.testing.assert_allclose(
        a["net"], g - fee * g - cost * n - np.where(listed, fixed * days, 0.0) - a["displaced"]
    )
    # Displacement takes its share of the receipts, but never more than was sold offline.
    np.testing.assert_allclose(a["displaced"], np.minimum(displacement * g, offline * days))
    assert (a["fixed"][~listed] == 0).all()
    # Each cost lowers the net change: without any, the net change is the receipts.
    bare = accounts(
        Producers(platform_fee=0, cost_per_order=0, fixed_cost=0, displacement=0),
        g,
        n,
        off,
        listed,
        days,
    )
    np.testing.assert_array_equal(bare["net"], g)
    assert (a["net"] <= bare["net"] + 1e-9).all()


def test_worked_example() -> None:
    """150 RMB of receipts from 10 orders over 30 days, offline income 20 RMB a day, at the
    defaults (fee 5 %, 6 RMB an order, 30 % displaced) and a fixed cost of 1 RMB a day."""
    p = Producers(fixed_cost=1.0)
    a = accounts(p, np.array([150.0]), np.array([10]), np.array([20.0]), np.array([True]), 30)
    assert (p.platform_fee, p.cost_per_order, p.fixed_cost, p.displacement) == (
        0.05,
        6.0,
        1.0,
        0.3,
    )
    assert a["fees"][0] == pytest.approx(7.5)
    assert a["logistics"][0] == 60
    assert a["fixed"][0] == 30
    assert a["displaced"][0] == pytest.approx(45)
    assert a["net"][0] == pytest.approx(7.5)
    # A small offline income caps what can be displaced: 1 RMB a day over 30 days.
    capped = accounts(p, np.array([150.0]), np.array([10]), np.array([1.0]), np.array([True]), 30)
    assert capped["displaced"][0] == pytest.approx(30)


def test_offline_incomes_have_the_declared_mean_and_spread() -> None:
    p = Producers(offline_income=20.0, offline_dispersion=0.8)
    draws = offline_incomes(p, np.random.default_rng(1), 200_000)
    # Log-normal: sd of the mean = mean * sqrt(exp(s²) - 1) / sqrt(n).
    se = 20.0 * math.sqrt(math.exp(0.8**2) - 1) / math.sqrt(len(draws))
    assert abs(draws.mean() - 20.0) < 4 * se
    assert abs(np.log(draws).std() - 0.8) < 0.01
    assert (offline_incomes(Producers(offline_income=0.0), np.random.default_rng(1), 5) == 0).all()


# ------------------------------------------------------------------ outcomes from the frames
def test_producer_outcomes() -> None:
    frame = pd.DataFrame({"net": [10.0, -5.0, 0.0, 35.0], "offline": [1.0, 1.0, 2.0, 1.0]})
    out = producer_outcomes(frame, days=10)
    assert out["producer_net_total"] == 40
    assert out["producer_net_effect"] == pytest.approx(40 / 50)
    assert out["producers_gaining_share"] == 0.5
    assert out["producers_losing_share"] == 0.25
    # The top 10 % of four producers is one producer: 35 of the 45 gained.
    assert out["producer_gain_top10_share"] == pytest.approx(35 / 45)
    empty = producer_outcomes(frame.iloc[:0], days=10)
    assert empty["producer_net_total"] == 0 and math.isnan(empty["producer_net_effect"])


def test_poverty_outcomes() -> None:
    frame = pd.DataFrame(
        {"poverty": [True, False, True], "earners": [3, 6, 1], "gmv_share": [0.1, 0.5, 0.05]}
    )
    out = poverty_outcomes(frame)
    assert out["poverty_earner_share"] == pytest.approx(0.4)
    assert out["poverty_gmv_share"] == pytest.approx(0.15)
    none = poverty_outcomes(frame.assign(earners=0, gmv_share=np.nan))
    assert math.isnan(none["poverty_earner_share"]) and math.isnan(none["poverty_gmv_share"])


# ------------------------------------------------------------------ a run's tables
@pytest.fixture(scope="module")
def mudanjiang_run():  # type: ignore[no-untyped-def]
    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(
        **{"producers.n_producers": 60, "producers.channel": "both"}
    )
    return simulate(scenario, days=45, seed=2)


def test_units_of_mudanjiang(mudanjiang_run) -> None:  # type: ignore[no-untyped-def]
    r = mudanjiang_run
    u = r.regions
    assert u.region.tolist() == [x.name for x in r.scenario.city.regions]
    assert u.loc[u.poverty, "name_zh"].tolist() == ["林口县"]
    assert u.residents.sum() == r.scenario.city.n_residents
    # Units hold the creators' GMV; the rest is the storefronts' as sellers (their channel's
    # orders and the word-of-mouth orders of what was bought from them).
    storefronts = r.seller_gmv[len(r.creator_income) :].sum()
    assert u.gmv.sum() + storefronts == pytest.approx(r.summary.loc["all", "gmv"], rel=1e-9)
    assert u.gmv_share.sum() + storefronts / r.summary.loc["all", "gmv"] == pytest.approx(1)
    assert u.producers.sum() == len(r.producers) == 60
    np.testing.assert_allclose(u.producer_net.sum(), r.producers.net.sum())
    assert r.outcomes["poverty_gmv_share"] == pytest.approx(u.gmv_share[u.poverty].sum())
    poor = u.poverty.to_numpy()
    assert r.outcomes["poverty_earner_share"] == pytest.approx(
        u.earners[poor].sum() / u.earners.sum()
    )
    # A producer is poor-county exactly when its unit is.
    assert (r.producers.poverty == (r.producers.region == "Linkou")).all()


def test_producer_rows(mudanjiang_run) -> None:  # type: ignore[no-untyped-def]
    r = mudanjiang_run
    a = r.producers
    np.testing.assert_array_equal(a.revenue, r.producer_income)
    np.testing.assert_array_equal(a.orders, r.producer_orders)
    np.testing.assert_array_equal(a.buyers, r.producer_buyers)
    assert a.listed.all()  # channel both: storefronts list every specialty
    assert r.outcomes["producer_net_total"] == pytest.approx(a.net.sum())
    assert (a.offline > 0).all()


def test_units_table_when_the_graph_has_undeclared_regions() -> None:
    """A graph whose regions the scenario does not declare: no unit is a poverty county."""
    spec = CitySpec(
        regions=(Region("A", 200, 0.5, poverty=True), Region("B", 150, 0.2)),
        local_degree=8,
        group_size=40,
        creator_share=0.08,
        min_followers=10,
    )
    g = graph.city(spec, seed=3)
    other = Scenario(city=CitySpec(regions=(Region("X", 350, 0.3),)))
    r = simulate(other, graph=g, days=5, seed=1)
    assert r.regions.region.tolist() == ["A", "B"]
    assert not r.regions.poverty.any()
    declared = simulate(Scenario(city=spec), graph=g, days=5, seed=1)
    assert declared.regions.poverty.tolist() == [True, False]


def test_accounts_do_not_change_the_days() -> None:
    """The accounts are measured, not simulated: costs change no sale."""
    s = Scenario.preset("poverty_county", scale=0.05).replace(
        **{"producers.n_producers": 40, "training.day": -1, "training.n_creators": 0}
    )  # 20 days, before the county's training day
    a = simulate(s, days=20, seed=3)
    b = simulate(
        s.replace(
            **{
                "producers.cost_per_order": 50.0,
                "producers.displacement": 1.0,
                "producers.offline_income": 0.0,
            }
        ),
        days=20,
        seed=3,
    )
    pd.testing.assert_frame_equal(a.daily, b.daily)
    assert not a.producers.net.equals(b.producers.net)


# ------------------------------------------------------------------ regions as declared
def test_user_weight_moves_users_between_units() -> None:
    """Odds weight 4 in A against 1 in B, all else equal: A's share of users rises as the
    exponential race says, and the city keeps its number of users (600 of 1,200)."""
    base = dict(local_degree=4, group_size=20, user_share=0.5, creator_share=0.0)
    flat = CitySpec(regions=(Region("A", 600, 0.0), Region("B", 600, 0.0)), **base)
    tilted = CitySpec(
        regions=(Region("A", 600, 0.0, user_weight=4.0), Region("B", 600, 0.0)), **base
    )
    shares = []
    for seed in range(20):
        g = graph.city(tilted, seed=seed)
        assert g.user.sum() == tilted.n_users
        shares.append(g.user[g.region == 0].mean())
    # The race's threshold t solves 600 (1 - e^{-4t}) + 600 (1 - e^{-t}) = 600.
    from scipy.optimize import brentq

    t = brentq(lambda x: (1 - math.exp(-4 * x)) + (1 - math.exp(-x)) - 1, 1e-9, 10)
    expected = 1 - math.exp(-4 * t)
    se = math.sqrt(expected * (1 - expected) / 600 / len(shares))
    assert abs(np.mean(shares) - expected) < 4 * se
    # Weights of 1 draw the very same graph as no weights.
    a, b = (
        graph.city(flat, seed=1),
        graph.city(
            CitySpec(
                regions=(Region("A", 600, 0.0, user_weight=1.0), Region("B", 600, 0.0)), **base
            ),
            seed=1,
        ),
    )
    np.testing.assert_array_equal(a.user, b.user)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('poverty = "yes"', "poverty = 'yes' is not allowed; expected true or false"),
        ("user_weight = 0", "user_weight = 0 is not allowed; expected a number, 0 < value"),
        ("povrety = true", "unknown key 'povrety'; did you mean 'poverty'?"),
    ],
)
def test_bad_region_keys_are_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        "[city]\nregions = [\n"
        f'  {{ name = "A", population = 100, urban_share = 0.5, {line} }},\n]\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as err:
        Scenario.from_toml(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert "'A'" in str(err.value) or "regions[0]" in str(err.value)


def test_creators_outside_the_city_sell_from_their_own_unit() -> None:
    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(
        **{
            "city.outside_creators": 30,
            "city.outside_min_followers": 100.0,
            "city.platform_users": 1e5,
            "information.n_messages": 1,
            "information.first_day": 1,
        }
    )
    r = simulate(scenario, days=35, seed=4)
    u = r.regions.set_index("region")
    assert list(u.index)[-1] == "Outside" and u.loc["Outside", "name_zh"] == "外地"
    assert u.loc["Outside", "residents"] == 0 and u.loc["Outside", "users"] == 0
    assert u.loc["Outside", "creators"] == 30 and u.loc["Outside", "gmv"] > 0
    assert u.residents.sum() == scenario.city.n_residents
    assert not u.loc["Outside", "poverty"] and np.isnan(u.loc["Outside", "informed"])
    # Units hold the creators' GMV; the rest is the storefronts' as sellers (their channel's
    # orders and the word-of-mouth orders of what was bought from them).
    storefronts = r.seller_gmv[len(r.creator_income) :].sum()
    assert u.gmv.sum() + storefronts == pytest.approx(r.summary.loc["all", "gmv"], rel=1e-9)
    # Residents are counted without them, in the months and the messages' regions.
    assert (r.monthly.residents == scenario.city.n_residents).all()
    assert "Outside" not in set(r.information_regions.region)
    # The heads' share of creator exposure includes theirs.
    alone = simulate(scenario.replace(**{"city.outside_creators": 0}), days=35, seed=4)
    assert r.outcomes["non_head_traffic_share"] < alone.outcomes["non_head_traffic_share"]


@pytest.mark.parametrize("rule", ["followers", "random"])
def test_creators_outside_the_city_are_never_trained_or_recruited(rule: str) -> None:
    """The most-followed creators are outside the city here; the city trains and recruits
    its own."""
    from laotie import Engine

    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(
        **{
            "city.outside_creators": 40,
            "city.outside_min_followers": 500.0,
            "city.platform_users": 3000.0,
            "training.day": 0,
            "training.n_creators": 10,
            "training.rule": rule,
            "producers.n_producers": 20,
            "producers.recruit": rule,
        }
    )
    g = graph.city(scenario.city, seed=1)
    e = Engine(g, scenario, seed=1)
    m = e.market
    assert not m.creator_resident.all()
    top = np.argsort(-g.followers()[m.creator_node], kind="stable")[:5]
    assert not m.creator_resident[top].any()  # the city's most followed are outside it
    e.step()
    assert len(e.trained) == 10 and m.creator_resident[e.trained].all()
    listed = m.listing_seller[m.product_producer[m.listing_product] >= 0]
    creators = listed[listed < m.n_creators]
    assert len(creators) and m.creator_resident[creators].all()


def test_seller_gmv_and_the_top_ten_sellers(mudanjiang_run) -> None:  # type: ignore[no-untyped-def]
    r = mudanjiang_run
    gmv = r.seller_gmv
    creators = len(r.creator_income)
    assert len(gmv) == creators + r.scenario.storefronts.n_storefronts
    assert gmv.sum() == pytest.approx(r.summary.loc["all", "gmv"], rel=1e-9)
    # A storefront sells through its channel and through word of mouth about what was bought
    # from it (docs/model.md: a recommendation's order goes to the seller of the product
    # recommended); creators through follow, discovery and word of mouth.
    channel = r.summary["gmv"]
    to_storefronts = gmv[creators:].sum() - channel["storefront"]
    to_creators = gmv[:creators].sum() - channel["follow"] - channel["discovery"]
    assert to_storefronts >= -1e-6 and to_creators >= -1e-6
    assert to_storefronts + to_creators == pytest.approx(channel["wom"], rel=1e-9, abs=1e-6)
    np.testing.assert_allclose(
        r.creator_income, r.scenario.creators.commission * gmv[:creators], rtol=1e-12
    )
    top = np.sort(gmv)[-10:].sum() / gmv.sum()
    assert r.outcomes["top10_sellers_gmv_share"] == pytest.approx(top, rel=1e-12)
