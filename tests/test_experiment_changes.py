"""``laotie experiment --set``: changes held in every scenario an experiment builds and every
sweep it runs, refused where the experiment varies or sets the parameter itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from laotie import LaotieError, Scenario
from laotie.audit import _design
from laotie.experiment import (
    Report,
    check_held,
    default_out,
    held_changes,
    holding,
    preset,
    run_sweep,
)
from laotie.sweep import Sweep

CHANGE = {"information.share_prob": 0.05}


def test_preset_holds_the_changes_only_inside_holding() -> None:
    plain = preset("village")
    with holding(CHANGE):
        assert held_changes() == CHANGE
        changed = preset("village", **{"information.n_messages": 1})
    assert held_changes() == {}
    assert preset("village").flat() == plain.flat()
    assert changed.flat()["information.share_prob"] == 0.05
    assert changed.flat()["information.n_messages"] == 1
    assert plain.flat()["information.share_prob"] != 0.05


def test_preset_refuses_a_change_to_a_key_the_experiment_sets() -> None:
    with (
        holding({"information.n_messages": 3}),
        pytest.raises(LaotieError, match=r"--set information.n_messages: the experiment sets it"),
    ):
        preset("village", **{"information.n_messages": 1})


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"draws": [{"information.share_prob": 0.1}]}, "draw of the calibrated posterior"),
        ({"grid": {"information.share_prob": [0.1, 0.2]}}, "grid varies it"),
        ({"sample": {"information.share_prob": [0.0, 0.5]}, "samples": 4}, "samples it"),
        ({"cases": [{"information.share_prob": 0.3}]}, "an arm of the experiment sets it"),
    ],
)
def test_a_sweep_that_varies_a_changed_key_is_refused(options: dict, why: str) -> None:
    with holding(CHANGE):
        sweep = Sweep(preset("village"), days=2, **options)
        with pytest.raises(LaotieError, match=why):
            check_held(sweep)


def test_a_sweep_whose_base_lost_the_change_is_refused_before_any_run(tmp_path: Path) -> None:
    with holding(CHANGE):
        overwritten = preset("village").replace(**{"information.share_prob": 0.4})
        with pytest.raises(LaotieError, match="sets it to 0.4 itself"):
            run_sweep(Sweep(overwritten, days=2), tmp_path / "sweep")
    assert not (tmp_path / "sweep").exists()  # refused before the folder is claimed


def test_a_sweep_that_holds_the_change_passes_and_outside_an_experiment_nothing_is_checked() -> (
    None
):
    varied = Sweep(Scenario.preset("village"), days=2, grid={"information.share_prob": [0.1]})
    check_held(varied)  # no experiment running: nothing held
    with holding(CHANGE):
        check_held(Sweep(preset("village"), days=2, grid={"information.n_messages": [0, 1]}))


def test_an_audit_samples_none_of_the_changed_keys() -> None:
    design = {"samples": 8, "scale": 0.002, "days": 3}
    assumed = {"information.share_prob": [0.0, 0.1], "information.offline_prob": [0.0, 0.1]}
    arms = [("plain", {})]
    posterior = "mudanjiang_calibrated"
    plain, drawn, calibrated, _ = _design(posterior, arms, assumed, design, 1, (), None, None, None)
    drawn_key = calibrated[0]
    with holding({**CHANGE, drawn_key: plain.base.flat()[drawn_key]}):
        held, held_drawn, held_calibrated, _ = _design(
            posterior, arms, assumed, design, 1, (), None, None, None
        )
    assert "information.share_prob" in drawn[0] and drawn_key in drawn[0]
    assert held.base.flat()["information.share_prob"] == 0.05
    for sample in held_drawn:
        assert "information.share_prob" not in sample and drawn_key not in sample
        assert "information.offline_prob" in sample
    assert held_calibrated == [key for key in calibrated if key != drawn_key]
    # the other calibrated parameters keep the draws they had without the change
    assert [{k: d[k] for k in held_calibrated} for d in drawn] == [
        {k: d[k] for k in held_calibrated} for d in held_drawn
    ]


def test_the_default_folder_keeps_changed_runs_apart() -> None:
    assert default_out("last_mile") == Path("out/last_mile")
    one = default_out("last_mile", CHANGE)
    assert one != default_out("last_mile")
    assert one == default_out("last_mile", dict(CHANGE))
    assert one != default_out("last_mile", {"information.share_prob": 0.06})
    assert one.name.startswith("last_mile-set-")


def test_the_report_says_what_changed() -> None:
    report = Report("x", "why?", command="laotie experiment x", changes=CHANGE)
    page = report.markdown()
    assert "Changed from the shipped scenarios" in page
    assert "`information.share_prob = 0.05`" in page
    assert "Changed from" not in Report("x", "why?").markdown()
    json.dumps(report.changes)  # a report's changes are plain values


def test_the_days_and_seed_a_sweep_gives_every_run_cannot_be_changed() -> None:
    with (
        holding({"run.seed": 99}),
        pytest.raises(LaotieError, match="--set run.seed: every run's seed comes from"),
    ):
        check_held(Sweep(preset("village"), days=2))
    with holding({"run.days": 3}):
        with pytest.raises(LaotieError, match="--set run.days: the experiment runs 2 days"):
            check_held(Sweep(preset("village"), days=2))
        check_held(Sweep(preset("village"), days=3))  # the same days: it holds
        check_held(Sweep(preset("village")))  # days from the scenario: its run.days


def test_a_changed_value_is_recorded_as_the_command_line_takes_it(tmp_path: Path) -> None:
    import numpy as np

    from laotie.cli._common import parse_overrides
    from laotie.experiment import main, toml_value

    values = {"a.b": np.float64(0.6), "a.c": np.int64(3), "a.d": True, "a.e": "head"}
    words = [f"{key}={toml_value(value)}" for key, value in values.items()]
    assert parse_overrides(words) == {
        key: value.item() if hasattr(value, "item") else value for key, value in values.items()
    }
    page = Report("x", "why?", changes={"a.d": False}).markdown()
    assert "`a.d = false`" in page  # as --set takes it, not Python's False
    # python experiments/NAME.py names a bad --set without a traceback.
    assert main(["--quick", "--set", "reach", "--out", str(tmp_path)], name="last_mile") == 2
    assert not any(tmp_path.iterdir())
