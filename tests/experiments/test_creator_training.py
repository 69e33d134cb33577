"""The creator-training experiment in quick mode, over Mudanjiang's carried-over posterior
draws × replications: tables, labels and what the model guarantees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from laotie.experiment import load_experiment
from tests.experiments.checks import brackets

EXPERIMENT = "creator_training"


def test_files_columns_intervals_and_labels(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    for name in ("levels", "expected", "marginal"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        brackets(result.tables[name])
    assert (out / "figures" / "creator_training_returns.png").exists()
    levels = pd.read_csv(out / "levels.csv")
    k_values = module.settings(True)["k"]
    assert levels["arm"].tolist() == module.arm_labels(k_values)
    for outcome in module.OUTCOMES:
        assert {outcome, f"{outcome}_gain", f"{outcome}_gain_from_parameters"} <= set(
            levels.columns
        )
    marginal = pd.read_csv(out / "marginal.csv")
    assert set(marginal["outcome"]) == set(module.MARGINAL)
    assert [h.label for h in result.headlines] == ["predicted"] + ["counterfactual"] * 4
    assert len(result.answer) == len(result.answer_zh) == 3
    assert not any("nan" in line for line in result.answer + result.answer_zh)
    assert "creator_training --quick" in (out / "report.md").read_text()


def test_both_county_experiments_carry_the_same_draws(stored, module) -> None:  # type: ignore[no-untyped-def]
    poverty = load_experiment("poverty_alleviation")
    assert module.TRANSFERRED == poverty.TRANSFERRED
    assert module.POSTERIOR == poverty.POSTERIOR and module.SCENARIO == poverty.SCENARIO
    assert stored.runs["draw"].nunique() == module.settings(True)["draws"]
    assert all(set(draw) == set(module.TRANSFERRED) for draw in stored.sweep.draws)


def test_training_nobody_is_no_training(report, stored, module) -> None:  # type: ignore[no-untyped-def]
    # k = 0 on the training day changes nothing, and training has its own random stream:
    # the arm equals the arm without training, run by run (difference exactly 0).
    _, result = report
    gmv = stored.values("gmv", "all")
    assert (gmv.iloc[:, 1] == gmv.iloc[:, 0]).all()
    levels = result.tables["levels"].set_index("arm")
    for outcome in module.OUTCOMES:
        assert levels.at["k=0", f"{outcome}_gain"] == 0


def test_creator_training_does_not_touch_government_notices(report) -> None:  # type: ignore[no-untyped-def]
    # Notices spread through government accounts and local and city ties only (docs/model.md
    # 3.5): no arm's coverage differs from the untrained arm's.
    _, result = report
    assert (result.tables["levels"]["notice_coverage_gain"] == 0).all()


def test_trained_creators_gain_followers_and_so_exposures(stored, module) -> None:  # type: ignore[no-untyped-def]
    """Training adds followers to the trained creators, so their posts reach more people: the
    follow channel's exposures rise from no training to the largest k, slot by slot paired;
    the mean rise clears its one-sided 99 % t bound (sampling error of the slots)."""
    exposures = stored.values("exposures", "follow")
    rise = (exposures.iloc[:, -1] - exposures.iloc[:, 0]).to_numpy(float)
    n = len(rise)
    assert n == module.settings(True)["draws"] * module.settings(True)["replications"]
    bound = rise.mean() - stats.t.ppf(0.99, n - 1) * rise.std(ddof=1) / np.sqrt(n)
    assert bound > 0, rise


def test_tables_follow_the_stored_runs(report, stored, module) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    levels = result.tables["levels"].set_index("arm")
    trust = stored.values("gmv", "trust")
    income = stored.outcomes.set_index("run")["producer_net_total"]
    runs = stored.runs
    for point, label in enumerate(module.arm_labels(module.settings(True)["k"])):
        assert levels.at[label, "trust_gmv"] == pytest.approx(trust.iloc[:, point].mean())
        mine = runs.loc[runs["point"] == point, "run"]
        assert levels.at[label, "producer_net"] == pytest.approx(income.loc[mine].mean())


def test_expected_gains_are_the_paired_gains_of_each_arm(report, module) -> None:  # type: ignore[no-untyped-def]
    """With as many replications per draw, the mean of the draws' means is the mean over runs:
    the expected gain of an arm is its levels gain, and per creator that over k."""
    _, result = report
    levels = result.tables["levels"].set_index("arm")
    expected = result.tables["expected"].set_index("arm")
    assert list(expected.index) == [f"k={k}" for k in module.settings(True)["k"] if k > 0]
    for arm, row in expected.iterrows():
        for outcome in module.MARGINAL:
            gain = levels.at[arm, f"{outcome}_gain"]
            assert row[f"{outcome}_gain"] == pytest.approx(gain)
            assert row[f"{outcome}_per_creator"] == pytest.approx(gain / row["k_effective"])


def test_marginal_gains_add_up_to_the_gain(report, module) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    levels = result.tables["levels"]
    marginal = result.tables["marginal"]
    for outcome in module.MARGINAL:
        mine = marginal[marginal["outcome"] == outcome]
        total = float(np.sum(mine["marginal_per_creator"] * (mine["to_k"] - mine["from_k"])))
        top = levels.iloc[-1]
        assert total == pytest.approx(top[f"{outcome}_gain"], rel=1e-9, abs=1e-6)
