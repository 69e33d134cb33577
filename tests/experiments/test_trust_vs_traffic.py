"""The trust-against-traffic experiment in quick mode: files, columns, labels, and what the
model guarantees (a family switched off sells nothing; attribution adds up; arms are paired
over the same posterior draws; trust weight raises the trust family's conversion)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from laotie.experiment import LABELS, load_experiment
from laotie.sweep import collect

EXPERIMENT = "trust_vs_traffic"


TABLES = {
    "moments": ["id", "role", "target", "band_low", "band_high", "model", "model_low"],
    "channels": ["channel", "conversion", "order_value", "gmv", "gmv_from_parameters"],
    "arms": ["arm", "sets", "gmv_all", "gmv_trust", "gmv_traffic", "conversion_ratio"],
    "effects": ["effect", "gmv", "gmv_low", "gmv_high", "share_of_both"],
}


def test_files_columns_answers_and_labels(report) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    module = load_experiment("trust_vs_traffic")
    for name, columns in TABLES.items():
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        table = pd.read_csv(out / f"{name}.csv")
        for column in columns:
            assert column in table.columns, (name, column)
    for kind in ("arms", "effects"):
        assert (out / "figures" / f"trust_vs_traffic_{kind}.png").exists()
    assert result.tables["arms"]["arm"].tolist() == module.names()
    text = (out / "report.md").read_text()
    assert "laotie experiment trust_vs_traffic --quick" in text
    assert "[95 % PI]" in text and ": from parameters" in text
    assert len(result.answer) == len(result.answer_zh) == 3
    assert all(re.search(r"[\u4e00-\u9fff]", line) for line in result.answer_zh)
    assert not any("nan" in line for line in result.answer + result.answer_zh + result.findings)
    assert {h.label for h in result.headlines} <= set(LABELS)


def test_labels_agree_with_the_targets_file(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    roles = {t.id: t.role for t in load_experiment("trust_vs_traffic").targets().targets}
    checked = 0
    for headline in result.headlines:
        ids = re.findall(r"\bT\d+[a-z]?\b", headline.basis)
        if headline.label == "calibrated":
            assert ids and all(roles[i] == "fit" for i in ids), headline
            checked += 1
        elif headline.label == "predicted":
            assert ids and all(roles[i] == "held_out" for i in ids), headline
            checked += 1
    assert checked >= 2
    moments = result.tables["moments"].set_index("id")
    for ident, role in moments["role"].items():
        assert role == ("fitted" if roles[ident] == "fit" else "held out")


def test_switched_off_families_sell_nothing_and_effects_add_up(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    arms = result.tables["arms"].set_index("arm")
    # A family whose channels are switched off has no exposures, hence exactly no GMV.
    assert arms.at["trust only", "gmv_traffic"] == arms.at["trust only", "gmv_traffic_high"] == 0
    assert arms.at["traffic only", "gmv_trust"] == arms.at["traffic only", "gmv_trust_high"] == 0
    for arm in arms.index:
        assert arms.at[arm, "gmv_all"] == pytest.approx(
            arms.at[arm, "gmv_trust"] + arms.at[arm, "gmv_traffic"]
        )
    # Paired effects are differences of the arms' means (every arm has every slot).
    effects = result.tables["effects"].set_index("effect")["gmv"]
    both, trust, traffic = (arms.at[a, "gmv_all"] for a in ("both", "trust only", "traffic only"))
    assert effects.iloc[0] == pytest.approx(both - traffic)
    assert effects.iloc[1] == pytest.approx(both - trust)
    assert effects.iloc[2] == pytest.approx(both - trust - traffic)


def test_arms_share_their_draws_and_trust_weight_matters(report) -> None:  # type: ignore[no-untyped-def]
    out, _ = report
    module = load_experiment("trust_vs_traffic")
    result = collect(module.sweep(True), out / "runs")
    assert (result.runs["status"] == "ok").all()
    config = module.settings(True)
    assert result.runs["draw"].nunique() == config["draws"]
    # Slot by slot, the trust family converts better with the calibrated trust weight than
    # with none: the weight is the only difference between the two arms of a slot.
    ratio = module.by_arm(result, "conversion", "trust") / module.by_arm(
        result, "conversion", "traffic"
    )
    assert (ratio["both"] > ratio["no trust weight"]).all()
    assert np.isfinite(ratio["both"]).all()
