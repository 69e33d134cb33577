"""The trust-against-traffic experiment in quick mode: files, columns, intervals, and what the
model guarantees (a family switched off sells nothing; attribution adds up)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie.experiment import load_experiment, run_experiment


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("trust_vs_traffic")
    return out, run_experiment("trust_vs_traffic", quick=True, out=out)


TABLES = {
    "channels": ["channel", "conversion", "order_value", "monthly_repurchase", "gmv"],
    "ratios": ["metric", "ratio", "value"],
    "attribution": ["arm", "gmv_all", "gmv_trust", "gmv_traffic", "share_of_both"],
    "trust_strength": [
        "trust_weight",
        "authenticity_mean",
        "conversion_trust",
        "conversion_traffic",
        "ratio_trust_traffic",
        "gap_trust_minus_traffic",
    ],
    "order_value": ["case", "order_value_trust", "order_value_traffic", "ratio", "t6_target"],
}


def test_files_and_columns(report) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    module = load_experiment("trust_vs_traffic")
    for name, columns in TABLES.items():
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        table = pd.read_csv(out / f"{name}.csv")
        for column in columns:
            assert column in table.columns, (name, column)
    for kind in ("channels", "attribution", "strength", "order_value"):
        assert (out / "figures" / f"trust_vs_traffic_{kind}.png").exists()
    assert result.tables["channels"]["channel"].tolist() == list(module.CHANNEL_ROWS)
    assert result.tables["order_value"]["case"].tolist() == [n for n, _ in module.ORDER_VALUE_CASES]
    text = (out / "report.md").read_text()
    assert "laotie experiment trust_vs_traffic --quick" in text
    assert "[95 % CI]" in (out / "channels.md").read_text()
    assert len(result.findings) >= 5 and not any("nan" in f for f in result.findings)


def test_intervals_bracket_the_means(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    for name, table in result.tables.items():
        for column in table.columns:
            if f"{column}_low" not in table.columns:
                continue
            mean, low, high = (
                table[column].to_numpy(float),
                table[f"{column}_low"].to_numpy(float),
                table[f"{column}_high"].to_numpy(float),
            )
            defined = ~np.isnan(low)
            assert np.all(low[defined] <= mean[defined] + 1e-12), (name, column)
            assert np.all(mean[defined] <= high[defined] + 1e-12), (name, column)


def test_switched_off_families_sell_nothing_and_effects_add_up(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    table = result.tables["attribution"].set_index("arm")
    # A family whose channels are switched off has no exposures, hence exactly no GMV.
    assert table.at["trust only", "gmv_traffic"] == 0
    assert table.at["trust only", "gmv_traffic_high"] == 0
    assert table.at["traffic only", "gmv_trust"] == 0
    # GMV of all channels is the sum of the families' in every arm.
    for arm in ("both", "trust only", "traffic only"):
        assert table.at[arm, "gmv_all"] == pytest.approx(
            table.at[arm, "gmv_trust"] + table.at[arm, "gmv_traffic"]
        )
    # The paired effects are differences of the arms' means (same replications).
    effects = table.index[3:]
    both, trust, traffic = (table.at[a, "gmv_all"] for a in ("both", "trust only", "traffic only"))
    assert table.at[effects[0], "gmv_all"] == pytest.approx(both - traffic)
    assert table.at[effects[1], "gmv_all"] == pytest.approx(both - trust)
    assert table.at[effects[2], "gmv_all"] == pytest.approx(both - trust - traffic)


def test_order_value_cases(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    table = result.tables["order_value"]
    # The default case compared with itself differs by exactly 0.
    assert table.loc[0, "ratio_minus_default"] == 0
    assert (table["t6_target"] == 0.6).all()
    # Every order has at least one item.
    assert (table[["items_trust", "items_traffic"]] >= 1).all().all()
