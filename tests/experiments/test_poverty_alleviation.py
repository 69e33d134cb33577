"""The poverty-alleviation experiment in quick mode, over Mudanjiang's carried-over posterior
draws × replications: its tables follow the producers' accounts it stored, the arms share
their producers, and the losers are the producers the accounts say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from laotie.posterior import load_posterior
from tests.experiments.checks import brackets

EXPERIMENT = "poverty_alleviation"

TABLES = ("distribution", "who_gains", "regions")


@pytest.fixture(scope="module")
def producers(stored, module):  # type: ignore[no-untyped-def]
    return module.producer_table(stored)


def test_files_columns_labels_and_answers(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    for name in TABLES:
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        brackets(result.tables[name])
    for figure in ("distribution", "regions"):
        assert (out / "figures" / f"poverty_alleviation_{figure}.png").exists()
    distribution = result.tables["distribution"]
    assert len(distribution) == len(module.ARMS)
    assert {f"{m}_from_parameters" for m in module.MEASURES} <= set(distribution.columns)
    labels = [h.label for h in result.headlines]
    assert labels == ["predicted"] * 5 + ["counterfactual"] * 2
    assert all("carried over" in h.basis for h in result.headlines[:4])
    assert len(result.answer) == len(result.answer_zh) == 3
    assert not any("nan" in line for line in result.answer + result.answer_zh)
    assert any("carried over" in a.lower() for a in result.assumptions)
    assert "poverty_alleviation --quick" in (out / "report.md").read_text()


def test_runs_carry_mudanjiangs_platform_draws_and_nothing_else(stored, module) -> None:  # type: ignore[no-untyped-def]
    mode = module.settings(True)
    sweep = stored.sweep
    assert stored.runs["draw"].nunique() == mode["draws"]
    posterior = load_posterior(module.POSTERIOR)
    assert sweep.draws == posterior.draws(mode["draws"], seed=module.SEED, keys=module.TRANSFERRED)
    carried = set(sweep.draws[0])
    assert carried == set(module.TRANSFERRED)
    # Mudanjiang's graph shape and price levels are not carried over to the county.
    assert not carried & {"city.local_degree", "city.creator_share", "creators.price_mean"}
    assert not carried & {"storefronts.price_mean", "city.follower_exponent"}
    # The two storefront parameters fitted together travel together.
    assert {"storefronts.click_prob", "storefronts.impressions_per_active"} <= carried


def test_arms_share_their_producers_slot_by_slot(producers, module) -> None:  # type: ignore[no-untyped-def]
    n = module.base(module.settings(True)["scale"]).producers.n_producers
    for _, group in producers.groupby("slot"):
        nodes = group.pivot(index="producer", columns="run", values="node")
        assert nodes.shape == (n, len(module.arms(True)))
        assert (nodes.nunique(axis=1) == 1).all()  # the same residents in every arm
        offline = group.pivot(index="producer", columns="run", values="offline")
        assert (offline.nunique(axis=1) == 1).all()


def test_the_recruit_rule_is_moot_under_storefronts(stored, module) -> None:  # type: ignore[no-untyped-def]
    """By construction no creator lists a specialty under storefronts: the check arm
    (recruiting by followers) is the storefronts arm exactly, producer by producer."""
    runs = stored.runs.set_index(["point", "replication"])["run"]
    base = module.ARMS.index(("storefronts", "local", "none"))
    check = len(module.ARMS) + module.CHECK_ARMS.index(("storefronts", "followers", "none"))
    table = stored.producers().set_index(["run", "producer"])
    for slot in sorted(stored.runs["replication"].unique()):
        a, b = int(runs[(base, slot)]), int(runs[(check, slot)])
        pd.testing.assert_frame_equal(table.loc[a], table.loc[b])


def test_tables_follow_the_stored_accounts(report, stored, producers, module) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    table = result.tables["distribution"].set_index(["channel", "recruit", "training"])
    outcomes = stored.outcomes.set_index("run")
    runs = stored.runs
    for point, arm in enumerate(module.ARMS):
        mine = runs.loc[runs["point"] == point, "run"]
        n = module.base(module.settings(True)["scale"]).producers.n_producers
        row = table.loc[module.label(arm)]
        # The mean net change per producer is the runs' total over the producers.
        assert row["net_mean"] == pytest.approx(outcomes.loc[mine, "producer_net_total"].mean() / n)
        gaining = outcomes.loc[mine, "producers_gaining_share"].mean()
        assert row["share_gaining"] == pytest.approx(gaining)
        losing = outcomes.loc[mine, "producers_losing_share"].mean()
        assert row["share_losing"] == pytest.approx(losing)
    # Producer by producer, the mean change is the difference of the arms' means (paired).
    who = result.tables["who_gains"].set_index("contrast")
    for to, base in module.CONTRASTS:
        expected = (
            table.at[module.label((to, "local", "none")), "net_mean"]
            - table.at[module.label((base, "local", "none")), "net_mean"]
        )
        assert who.at[f"{to} − {base}", "change_mean"] == pytest.approx(expected)
    # The regions partition the producers.
    regions = result.tables["regions"]
    baseline = regions[(regions["channel"] == "both") & (regions["recruit"] == "local")]
    assert baseline["producers"].sum() == pytest.approx(
        module.base(module.settings(True)["scale"]).producers.n_producers
    )


def test_producers_whose_receipts_per_order_miss_shipping_lose(producers, module) -> None:  # type: ignore[no-untyped-def]
    """The accounts' identity behind "who loses": a producer whose receipts per order, less the
    platform's fee, do not cover the logistics of an order loses, whatever the displacement;
    one whose receipts cover fee, logistics and the largest displacement gains."""
    p = module.base(module.settings(True)["scale"]).producers
    assert p.fixed_cost == 0  # with a fixed cost the second bound would not hold
    sold = producers[producers["orders"] > 0]
    per_order = sold["revenue"] / sold["orders"]
    short = per_order < p.cost_per_order / (1 - p.platform_fee)
    ample = per_order > p.cost_per_order / (1 - p.platform_fee - p.displacement)
    assert short.any() and ample.any()
    assert (sold.loc[short, "net"] < 0).all()
    assert (sold.loc[ample, "net"] > 0).all()
    assert (producers.loc[producers["orders"] == 0, "net"] <= 0).all()


def test_both_channels_reach_more_buyers_than_creators_alone(producers, module) -> None:  # type: ignore[no-untyped-def]
    """`both` lists each specialty with the creators of `creators` and storefronts besides, so
    its producers reach more buyers: the paired difference of the mean over slots clears its
    one-sided 99 % t bound (sampling error of the slots)."""
    means = producers.groupby(["arm", "slot"])["buyers"].mean()
    difference = (
        means[("both", "local", "none")] - means[("creators", "local", "none")]
    ).to_numpy()
    n = len(difference)
    bound = difference.mean() - stats.t.ppf(0.99, n - 1) * difference.std(ddof=1) / np.sqrt(n)
    assert bound > 0, difference


def test_cases_set_the_arms(module) -> None:  # type: ignore[no-untyped-def]
    scenario = module.base(module.settings(True)["scale"])
    cases = module.cases(scenario, True)
    assert len(cases) == len(module.arms(True))
    for case, (channel, recruit, training) in zip(cases, module.arms(True), strict=True):
        s = scenario.replace(**case)
        assert (s.producers.channel, s.producers.recruit) == (channel, recruit)
        if training == "none":
            assert s.training.day == -1 and s.training.n_creators == 0
        else:
            assert s.training.rule == training and s.training.n_creators > 0
    # Every case sets the same keys (a key missing from a case would become NaN in a sweep).
    assert all(set(c) == set(cases[0]) for c in cases)
