"""laotie.stats: the element-wise and per-column intervals are t_interval's, cell by cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie import LaotieError, Scenario
from laotie.runs import replicate
from laotie.stats import (
    SUMMARY_BOUNDS,
    SUMMARY_METRICS,
    interval_table,
    summarise,
    t_interval,
    t_intervals,
)


def test_t_intervals_are_t_interval_cell_by_cell() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(10.0, 2.0, size=(5, 4, 3))
    values[rng.random(values.shape) < 0.3] = np.nan  # undefined in some replications
    mean, low, high, n = t_intervals(values, level=0.9)
    for cell in np.ndindex(values.shape[1:]):
        column = values[(slice(None), *cell)]
        expected = t_interval(column, level=0.9)
        assert n[cell] == np.isfinite(column).sum()
        np.testing.assert_allclose((mean[cell], low[cell], high[cell]), expected, rtol=1e-12)
    with pytest.raises(LaotieError, match="level = 1.5"):
        t_intervals(values, level=1.5)


def test_interval_table_leaves_out_undefined_and_infinite_values() -> None:
    values = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [np.nan, 3.0, np.inf], "c": [np.nan] * 3})
    table = interval_table(values)
    assert list(table.index) == ["a", "b", "c"]
    assert list(table.columns) == ["mean", "low", "high", "n_replications"]
    np.testing.assert_allclose(table.loc["a", ["mean", "low", "high"]], t_interval(values.a))
    assert table.n_replications.tolist() == [3, 1, 0]
    assert table.loc["b", "mean"] == 3.0 and np.isnan(table.loc["b", "low"])
    assert table.loc["c", ["mean", "low", "high"]].isna().all()


def test_outcome_intervals_are_clipped_to_what_an_outcome_can_take() -> None:
    from laotie.results import OUTCOME_BOUNDS, OUTCOME_COLUMNS
    from laotie.runs import run_tables

    values = pd.DataFrame(
        {"producers_gaining_share": [0.9, 1.0, 1.0], "producer_net_effect": [-0.2, 0.1, 0.4]}
    )
    free = interval_table(values)
    table = interval_table(values, bounds=OUTCOME_BOUNDS)
    assert free.loc["producers_gaining_share", "high"] > 1  # the case under test happens
    assert table.loc["producers_gaining_share", "high"] == 1.0
    assert table.loc["producers_gaining_share", "low"] == free.loc["producers_gaining_share", "low"]
    pd.testing.assert_series_equal(
        table.loc["producer_net_effect"], free.loc["producer_net_effect"]
    )
    # A share over 1 by a rounding error keeps low ≤ mean ≤ high ≤ 1.
    ulp = pd.DataFrame({"top10_sellers_gmv_share": [1.0000000000000002] * 3})
    row = interval_table(ulp, bounds=OUTCOME_BOUNDS).loc["top10_sellers_gmv_share"]
    assert row["low"] <= row["mean"] <= row["high"] <= 1.0
    with pytest.raises(LaotieError, match="interval_table: bounds = \\(1, 0\\); the low one"):
        interval_table(values, bounds={"producer_net_effect": (1, 0)})
    # None is unbounded, as for decompose.
    half = interval_table(values, bounds={"producer_net_effect": (0, None)})
    assert half.loc["producer_net_effect", "low"] == 0.0
    assert half.loc["producer_net_effect", "high"] == free.loc["producer_net_effect", "high"]
    assert set(OUTCOME_BOUNDS) <= set(OUTCOME_COLUMNS)
    assert OUTCOME_BOUNDS["creator_income_gini"] == (0.0, 1.0)
    assert "producer_net_total" not in OUTCOME_BOUNDS  # a change: either sign
    # What laotie run -R writes to outcomes.csv is clipped so.
    results = replicate(Scenario.preset("village"), 2, days=5, seed=1)
    written = run_tables(results)["outcomes"]
    for name, (floor, ceiling) in OUTCOME_BOUNDS.items():
        low, high = written.loc[name, ["low", "high"]]
        assert np.isnan(low) or floor <= low <= high <= ceiling, name


def test_summary_intervals_are_t_intervals_clipped_to_what_a_metric_can_take() -> None:
    results = replicate(Scenario.preset("village"), 3, days=5, seed=1)
    table = summarise(results)
    clipped = 0
    for channel in table.index:
        for metric in SUMMARY_METRICS:
            values = np.array([r.summary.at[channel, metric] for r in results])
            mean, low, high = t_interval(values)
            floor, ceiling = SUMMARY_BOUNDS[metric]
            row = table.loc[channel]
            np.testing.assert_allclose(
                [row[metric], row[f"{metric}_low"], row[f"{metric}_high"]],
                [mean, max(low, floor), min(high, ceiling)],
                rtol=1e-12,
            )
            clipped += bool(low < floor)
    assert clipped  # three replications of a village: some lower ends fall below 0
