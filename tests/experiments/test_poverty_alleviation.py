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


def _brackets(table: pd.DataFrame) -> None:
    for column in table.columns:
        low, high = f"{column}_low", f"{column}_high"
        if low in table.columns and high in table.columns:
            defined = table[low].notna()
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
    assert {"channel", "recruiting", *module.MEASURES} <= set(distribution.columns)
    arms = set(zip(distribution["channel"], distribution["recruiting"], strict=True))
    assert arms == {(c, r) for c in module.CHANNELS for r in module.RECRUITING}
    assert "[95 % CI]" in (out / "distribution.md").read_text()
    assert "poverty_alleviation --quick" in (out / "report.md").read_text()


def test_distributions_are_distributions(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    table = result.tables["distribution"]
    assert table["share_with_income"].between(0, 1).all()
    quantiles = table[["income_p25", "income_p50", "income_p75", "income_p90"]].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all()
    who = result.tables["who_gains"]
    assert (who["share_gaining"] + who["share_losing"] <= 1 + 1e-12).all()


def test_tables_follow_the_stored_runs(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    stored = collect(module.make_sweep(True), out / "sweep")
    assert (stored.runs["status"] == "ok").all()
    n = module.settings(True)["scenario"].producers.n_producers
    table = result.tables["distribution"].set_index(["channel", "recruiting"])
    outcomes = stored.outcomes.set_index("run")
    for point, runs in stored.runs.groupby("point")["run"]:
        arm = module.arm_of(int(point))
        # mean income per producer is the run's total over the producers, averaged over runs
        total = outcomes.loc[runs, "producer_income_total"].mean()
        assert table.at[arm, "income_mean"] == pytest.approx(total / n)
        with_income = outcomes.loc[runs, "producers_with_income"].mean()
        assert table.at[arm, "share_with_income"] == pytest.approx(with_income / n)
    # Producer by producer, the mean change is the difference of the arms' means.
    who = result.tables["who_gains"].set_index("contrast")
    for to, base in module.CONTRASTS:
        expected = table.at[(to, "none"), "income_mean"] - table.at[(base, "none"), "income_mean"]
        assert who.at[f"{to} − {base}", "change_mean"] == pytest.approx(expected)
    # The reference rows (training at random against none) agree with the recruiting table.
    recruiting = result.tables["recruiting"].set_index(["channel", "recruiting"])
    for channel in module.CHANNELS:
        label = f"{channel}: {module.REFERENCE_RULE} training − none"
        expected = recruiting.at[(channel, module.REFERENCE_RULE), "income_mean_change"]
        assert who.at[label, "change_mean"] == pytest.approx(expected)


def test_no_training_case_is_the_scenario_without_training(module) -> None:  # type: ignore[no-untyped-def]
    scenario = module.settings(True)["scenario"]
    none, *trained = module.cases(scenario)
    assert scenario.replace(**none).training.day == -1
    assert [scenario.replace(**c).training.rule for c in trained] == module.RECRUITING[1:]
    # Every case sets the same keys (a key missing from a case would become NaN in a sweep).
    assert all(set(c) == set(none) for c in trained)
