"""The quality shock (docs/model.md 3.5): which product, when, for how long, and nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie import Engine, Scenario, ScenarioError, graph, simulate

BASE = Scenario.preset("mudanjiang", scale=0.001).replace(
    **{"producers.n_producers": 5, "producers.channel": "both", "word_of_mouth.prob": 0.2}
)
DAY, DAYS, QUALITY = 6, 4, 0.05


@pytest.fixture(scope="module")
def city() -> graph.TrustGraph:
    return graph.city(BASE.city, seed=5)


def shocked(rule: str = "creator") -> Scenario:
    return BASE.replace(
        **{"shock.day": DAY, "shock.days": DAYS, "shock.quality": QUALITY, "shock.rule": rule}
    )


@pytest.mark.parametrize("rule", ["creator", "storefront", "most_sold"])
def test_quality_is_the_given_value_during_the_shock_and_restored_after(
    city: graph.TrustGraph, rule: str
) -> None:
    engine = Engine(city, shocked(rule), seed=1)
    m = engine.market
    before = m.product_quality.copy()
    promises = m.listing_promise.copy()
    for day in range(DAY + DAYS + 3):
        if day == DAY:
            orders_so_far = engine.ledger.listing_orders.copy()
        engine.step()
        p = engine.shock_product
        if day < DAY:
            assert p == -1
            np.testing.assert_array_equal(m.product_quality, before)
        elif day < DAY + DAYS:
            assert m.product_quality[p] == np.float32(QUALITY)
            others = np.arange(m.n_products) != p
            np.testing.assert_array_equal(m.product_quality[others], before[others])
        else:
            np.testing.assert_array_equal(m.product_quality, before)
        # Sellers keep their promises.
        np.testing.assert_array_equal(m.listing_promise, promises)
    # The chosen listing is the most ordered of its kind before the shock day (lowest id on
    # ties), and the seller is that listing's.
    sellers = m.listing_seller
    eligible = {
        "creator": sellers < m.n_creators,
        "storefront": sellers >= m.n_creators,
        "most_sold": np.ones(len(sellers), bool),
    }[rule]
    counts = np.where(eligible, orders_so_far, -1)
    assert orders_so_far.sum() > 0  # not vacuous
    assert engine.shock_listing == int(np.argmax(counts))
    assert engine.shock_seller == sellers[engine.shock_listing]
    assert engine.shock_product == m.listing_product[engine.shock_listing]
    assert eligible[engine.shock_listing]


def test_shock_off_is_identical_to_no_shock_section() -> None:
    plain = simulate(BASE, days=12, seed=4)
    # Every shock key changed but the day: still off.
    off = BASE.replace(**{"shock.quality": 0.9, "shock.days": 2, "shock.rule": "most_sold"})
    again = simulate(off, days=12, seed=4)
    pd.testing.assert_frame_equal(plain.daily, again.daily)
    np.testing.assert_array_equal(plain.creator_income, again.creator_income)
    # A scenario written without a [shock] table reads back with the shock off.
    data = BASE.to_dict()
    del data["shock"]
    assert Scenario.from_dict(data) == BASE


def test_shock_changes_outcomes_but_not_what_came_before() -> None:
    plain = simulate(BASE, days=DAY + DAYS, seed=4)
    shock = simulate(shocked(), days=DAY + DAYS, seed=4)
    before = plain.daily["day"] < DAY
    pd.testing.assert_frame_equal(
        plain.daily[before].reset_index(drop=True), shock.daily[before].reset_index(drop=True)
    )


def test_toml_round_trip_keeps_the_shock() -> None:
    import tomllib

    scenario = shocked("storefront")
    assert Scenario.from_dict(tomllib.loads(scenario.to_toml())) == scenario


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("shock.day", -2),
        ("shock.quality", 1.5),
        ("shock.quality", -0.1),
        ("shock.days", 0),
        ("shock.rule", "largest"),
        ("shock.day", 0.5),
    ],
)
def test_invalid_values_name_the_key(key: str, value: object) -> None:
    with pytest.raises(ScenarioError, match=key.split(".")[1]):
        BASE.replace(**{key: value})


def test_a_shock_after_the_run_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"shock\.day = 90 .*run\.days = 90"):
        BASE.replace(**{"shock.day": 90})
    with pytest.raises(ScenarioError, match="shoc"):
        BASE.replace(**{"shoc.day": 3})


def test_orders_today_and_listing_orders_match_the_day_counts(city: graph.TrustGraph) -> None:
    from laotie.metrics import COUNTS, ROWS

    engine = Engine(city, BASE, seed=2)
    total = np.zeros(len(engine.ledger.listing_orders), np.int64)
    for _ in range(5):
        counts = engine.step()
        today = engine.orders_today
        assert len(today.exposures) == counts[ROWS.index("all"), COUNTS.index("orders")]
        assert today.value.sum() == pytest.approx(counts[ROWS.index("all"), COUNTS.index("gmv")])
        assert len(today.satisfied) == len(today.exposures)
        total += np.bincount(today.exposures.listing, minlength=len(total))
    np.testing.assert_array_equal(engine.ledger.listing_orders, total)


def test_a_shock_on_day_zero_is_refused() -> None:
    from laotie import Scenario, ScenarioError

    with pytest.raises(ScenarioError, match=r"shock.day = 0.*no orders before day 0"):
        Scenario.preset("village").replace(**{"shock.day": 0})
