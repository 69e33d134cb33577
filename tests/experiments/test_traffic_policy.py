"""The traffic-policy experiment in quick mode: its tables agree with the sweep it ran, over
posterior draws × replications, and its headline numbers are labelled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie.experiment import load_experiment, run_experiment
from laotie.stats import decompose
from laotie.sweep import collect

EXPERIMENT = "traffic_policy"


def test_files_and_columns(report) -> None:  # type: ignore[no-untyped-def]
    out, _ = report
    for name in ("policy.csv", "policy.md", "report.md", "figures/traffic_policy.png"):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "policy.csv")
    module = load_experiment("traffic_policy")
    assert table["measure"].tolist() == list(module.MEASURES)
    for arm in ("head", "inclusive", "difference"):
        assert (table[f"{arm}_low"] <= table[arm]).all() and (
            table[arm] <= table[f"{arm}_high"]
        ).all()
    assert "laotie experiment traffic_policy --quick" in (out / "report.md").read_text()
    assert "[95 % PI]" in (out / "policy.md").read_text()


def test_the_table_is_computed_from_the_stored_runs(report) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    module = load_experiment("traffic_policy")
    mode = module.settings(True)
    stored = collect(module.sweep(True), out / "sweep")
    assert stored.runs["draw"].nunique() == mode["draws"]
    assert (stored.runs["status"] == "ok").all()
    table = result.tables["policy"].set_index("measure")
    # The inclusive arm's mean non-head share is the mean of its runs' outcome.
    inclusive = stored.runs.loc[stored.runs["policy.traffic"] == "inclusive", "run"]
    shares = stored.outcomes.set_index("run").loc[inclusive, "non_head_traffic_share"]
    assert table.at["non_head_traffic_share", "inclusive"] == pytest.approx(shares.mean())
    # The paired difference is the mean of per-slot differences, its interval and split over
    # the slots' draws.
    gmv = stored.values("gmv", "all")
    difference = gmv["policy.traffic=inclusive"] - gmv["policy.traffic=head"]
    split = decompose(difference.to_numpy(), difference.index // mode["replications"])
    assert table.at["gmv", "difference"] == pytest.approx(difference.mean())
    assert table.at["gmv", "difference_low"] == pytest.approx(split["low"])
    assert table.at["gmv", "difference_from_parameters"] == pytest.approx(
        split["param_share"], nan_ok=True
    )
    # The share of creators with a sale is bounded and the Gini is a Gini.
    assert np.all(
        (table["head"].loc[["creator_income_gini", "creators_with_a_sale_share"]]).between(0, 1)
    )


def test_rerunning_resumes_instead_of_running_again(report) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    record = out / "sweep" / "runs" / "run_000000.json"
    before = record.stat().st_mtime_ns
    again = run_experiment("traffic_policy", quick=True, out=out)
    assert record.stat().st_mtime_ns == before
    pd.testing.assert_frame_equal(again.tables["policy"], result.tables["policy"])


def test_headlines_are_labelled_and_answers_given(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    labels = {h.quantity: h.label for h in result.headlines}
    assert labels["share of creator exposures reaching non-head creators, inclusive rule"] == (
        "predicted"
    )
    assert sum(label == "counterfactual" for label in labels.values()) == 3
    assert len(result.answer) == len(result.answer_zh) == 3
    assert not any("nan" in line for line in result.answer + result.answer_zh)
