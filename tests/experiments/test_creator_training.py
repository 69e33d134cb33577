"""The creator-training experiment in quick mode: tables, files and what the model guarantees."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie.experiment import load_experiment, run_experiment
from laotie.sweep import collect


@pytest.fixture(scope="module")
def module():  # type: ignore[no-untyped-def]
    return load_experiment("creator_training")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("creator_training")
    return out, run_experiment("creator_training", quick=True, out=out)


def _brackets(table: pd.DataFrame) -> None:
    for column in table.columns:
        low, high = f"{column}_low", f"{column}_high"
        if low in table.columns and high in table.columns:
            defined = table[low].notna()
            assert (table.loc[defined, low] <= table.loc[defined, column] + 1e-9).all(), column
            assert (table.loc[defined, column] <= table.loc[defined, high] + 1e-9).all(), column


def test_files_columns_and_intervals(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    for name in ("levels", "marginal"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        _brackets(result.tables[name])
    assert (out / "figures" / "creator_training_returns.png").exists()
    levels = pd.read_csv(out / "levels.csv")
    k_values = module.settings(True)["k"]
    assert levels["arm"].tolist() == module.arm_labels(k_values)
    for outcome in module.OUTCOMES:
        assert {outcome, f"{outcome}_gain", f"{outcome}_gain_low"} <= set(levels.columns)
    marginal = pd.read_csv(out / "marginal.csv")
    assert {"outcome", "from_k", "to_k", "marginal_per_creator", "diminished"} <= set(
        marginal.columns
    )
    assert "creator_training --quick" in (out / "report.md").read_text()


def test_training_nobody_is_no_training(report, module) -> None:  # type: ignore[no-untyped-def]
    # k = 0 on the training day changes nothing, and training has its own random stream:
    # the arm equals the arm without training, run by run (difference exactly 0).
    out, result = report
    stored = collect(module.make_sweep(True), out / "sweep")
    assert (stored.runs["status"] == "ok").all()
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


def test_marginal_gains_add_up_to_the_gain(report, module) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    levels = result.tables["levels"]
    marginal = result.tables["marginal"]
    for outcome in ("trust_gmv", "producer_income"):
        mine = marginal[marginal["outcome"] == outcome]
        total = float(np.sum(mine["marginal_per_creator"] * (mine["to_k"] - mine["from_k"])))
        top = levels.iloc[-1]
        assert total == pytest.approx(top[f"{outcome}_gain"], rel=1e-9, abs=1e-6)
