"""The poverty-alleviation experiment in quick mode: its tables agree with the runs it stored."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie.experiment import load_experiment, run_experiment
from laotie.sweep import collect

TABLES = ("distribution", "who_gains", "recruiting")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("poverty_alleviation")
    return out, run_experiment("poverty_alleviation", quick=True, out=out)


@pytest.fixture(scope="module")
def module():  # type: ignore[no-untyped-def]
    return load_experiment("poverty_alleviation")


@pytest.fixture(scope="module")
def stored(report, module):  # type: ignore[no-untyped-def]
    out, _ = report
    return collect(module.make_sweep(True), out / "sweep")


def _brackets(table: pd.DataFrame) -> None:
    for column in table.columns:
        low, high = f"{column}_low", f"{column}_high"
        if low in table.columns and high in table.columns:
            defined = table[low].notna()
            assert defined.any(), column
            assert (table.loc[defined, low] <= table.loc[defined, column] + 1e-9).all(), column
            assert (table.loc[defined, column] <= table.loc[defined, high] + 1e-9).all(), column


def test_files_columns_and_intervals(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    for name in TABLES:
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        _brackets(result.tables[name])
    for figure in ("distribution", "recruiting"):
        assert (out / "figures" / f"poverty_alleviation_{figure}.png").exists()
    distribution = pd.read_csv(out / "distribution.csv")
    assert {"channel", "recruit", "training", *module.MEASURES} <= set(distribution.columns)
    arms = set(
        zip(distribution["channel"], distribution["recruit"], distribution["training"], strict=True)
    )
    assert arms == {module.label(arm) for arm in module.ARMS}
    # storefronts: one arm (the recruit rule is moot); creators and both: every rule
    assert ("storefronts", module.NO_RECRUIT, "none") in arms
    for channel in module.RECRUIT_CHANNELS:
        assert {(channel, r, "none") for r in module.RECRUIT} <= arms
    recruiting = result.tables["recruiting"]
    assert set(zip(recruiting["channel"], recruiting["recruit"], strict=True)) == {
        (c, r) for c in module.RECRUIT_CHANNELS for r in module.RECRUIT[1:]
    }
    assert {"income_gini_change", "share_with_income_change", *module.CHANGES} - {
        "change_mean"
    } <= set(recruiting.columns)
    # buyers reached: mean, median and share with a buyer per arm; paired change in the mean
    buyers = ("buyers_mean", "buyers_p50", "share_with_buyers")
    for column in buyers:
        assert {column, f"{column}_low", f"{column}_high"} <= set(distribution.columns)
    for name in ("who_gains", "recruiting"):
        columns = set(pd.read_csv(out / f"{name}.csv").columns)
        change = module.BUYERS_CHANGE
        assert {change, f"{change}_low", f"{change}_high"} <= columns, name
    assert "[95 % CI]" in (out / "distribution.md").read_text()
    assert "poverty_alleviation --quick" in (out / "report.md").read_text()


def test_distributions_are_distributions(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    table = result.tables["distribution"]
    assert table["share_with_income"].between(0, 1).all()
    quantiles = table[["income_p25", "income_p50", "income_p75", "income_p90"]].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    for name in ("who_gains", "recruiting"):
        t = result.tables[name]
        assert (t["share_gaining"] + t["share_losing"] <= 1 + 1e-12).all()
        assert (t["change_p10"] <= t["change_p50"]).all() and (
            t["change_p50"] <= t["change_p90"]
        ).all()


def test_buyers_reached_follow_orders_and_income(stored, module) -> None:  # type: ignore[no-untyped-def]
    """Per producer and run: distinct buyers never exceed orders, and a producer has income
    exactly when it has a buyer (every accepted order has a positive value)."""
    n = module.settings(True)["scenario"].producers.n_producers
    repeat = False
    for run in stored.runs["run"]:
        arrays = stored.arrays(int(run))
        income, orders, buyers = (
            arrays[k] for k in ("producer_income", "producer_orders", "producer_buyers")
        )
        assert orders.shape == buyers.shape == (n,)
        assert (buyers >= 0).all() and (buyers <= orders).all(), run
        np.testing.assert_array_equal(income > 0, buyers > 0)
        repeat |= bool((orders > buyers).any())
    assert repeat  # some buyer ordered the same specialty twice somewhere


def test_arms_share_producers(stored, module) -> None:  # type: ignore[no-untyped-def]
    """Every run of the sweep has the scenario's producers, one income each."""
    assert (stored.runs["status"] == "ok").all()
    assert len(stored.runs) == len(module.arms(True)) * module.settings(True)["replications"]
    n = module.settings(True)["scenario"].producers.n_producers
    for run in stored.runs["run"]:
        assert stored.arrays(int(run))["producer_income"].shape == (n,)


def test_recruit_rule_is_moot_under_storefronts(stored, module) -> None:  # type: ignore[no-untyped-def]
    """By construction, no creator lists a specialty under storefronts: the check arm
    (recruiting by followers) is the storefronts arm exactly, producer by producer."""
    runs = stored.runs.set_index(["point", "replication"])["run"]
    base = module.ARMS.index(("storefronts", "local", "none"))
    check = len(module.ARMS) + module.CHECK_ARMS.index(("storefronts", "followers", "none"))
    outcomes = stored.outcomes.set_index("run")
    for r in range(module.settings(True)["replications"]):
        a, b = int(runs[(base, r)]), int(runs[(check, r)])
        np.testing.assert_array_equal(
            stored.arrays(a)["producer_income"], stored.arrays(b)["producer_income"]
        )
        assert outcomes.loc[a, "producer_income_total"] == outcomes.loc[b, "producer_income_total"]


def test_tables_follow_the_stored_runs(report, stored, module) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    n = module.settings(True)["scenario"].producers.n_producers
    table = result.tables["distribution"].set_index(["channel", "recruit", "training"])
    outcomes = stored.outcomes.set_index("run")
    for point, runs in stored.runs.groupby("point")["run"]:
        if point >= len(module.ARMS):
            continue
        arm = module.label(module.arm_of(int(point)))
        # mean income per producer is the run's total over the producers, averaged over runs
        total = outcomes.loc[runs, "producer_income_total"].mean()
        assert table.at[arm, "income_mean"] == pytest.approx(total / n)
        with_income = outcomes.loc[runs, "producers_with_income"].mean()
        assert table.at[arm, "share_with_income"] == pytest.approx(with_income / n)
        buyers = [stored.arrays(int(r))["producer_buyers"] for r in runs]
        assert table.at[arm, "buyers_mean"] == pytest.approx(np.mean([b.mean() for b in buyers]))
        # with a buyer exactly when with income
        assert table.at[arm, "share_with_buyers"] == table.at[arm, "share_with_income"]

    def mean(channel: str, recruit: str, training: str = "none", of: str = "income_mean") -> float:
        return table.at[module.label((channel, recruit, training)), of]

    # Producer by producer, the mean change is the difference of the arms' means.
    who = result.tables["who_gains"].set_index("contrast")
    for to, base in module.CONTRASTS:
        expected = mean(to, "local") - mean(base, "local")
        assert who.at[f"{to} − {base}", "change_mean"] == pytest.approx(expected)
        expected = mean(to, "local", of="buyers_mean") - mean(base, "local", of="buyers_mean")
        assert who.at[f"{to} − {base}", module.BUYERS_CHANGE] == pytest.approx(expected)
    for channel in module.RECRUIT_CHANNELS:
        label = f"{channel}: {module.REFERENCE_RULE} training − none"
        expected = mean(channel, "local", module.REFERENCE_RULE) - mean(channel, "local")
        assert who.at[label, "change_mean"] == pytest.approx(expected)
    # The recruiting table's mean change is the difference from recruit = local.
    recruiting = result.tables["recruiting"].set_index(["channel", "recruit"])
    for (channel, rule), row in recruiting.iterrows():
        expected = mean(channel, rule) - mean(channel, "local")
        assert row["income_mean_change"] == pytest.approx(expected)
        expected = mean(channel, rule, of="buyers_mean") - mean(channel, "local", of="buyers_mean")
        assert row[module.BUYERS_CHANGE] == pytest.approx(expected)
        assert row["replications"] == module.settings(True)["replications"]


def test_cases_set_the_arms(module) -> None:  # type: ignore[no-untyped-def]
    scenario = module.settings(True)["scenario"]
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
