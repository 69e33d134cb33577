"""The last-mile experiment in quick mode: tables, files, labels and what the model guarantees,
over posterior draws × replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie.sweep import collect
from tests.experiments.checks import brackets

EXPERIMENT = "last_mile"

TABLES = ("final", "speed", "regions", "daily")


@pytest.fixture(scope="module")
def stored(report, module):  # type: ignore[no-untyped-def]
    out, _ = report
    # The sweep's stored per-day and per-region tables of every run, labelled by arm.
    result = collect(module.make_sweep(True), out / "sweep")
    assert (result.runs["status"] == "ok").all()
    return module.coverage_tables(result)


def test_files_columns_and_intervals(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    for name in TABLES:
        assert (out / f"{name}.csv").exists() and (out / f"{name}.md").exists(), name
        brackets(result.tables[name])
    for figure in ("coverage", "regions"):
        assert (out / "figures" / f"last_mile_{figure}.png").exists()
    final = pd.read_csv(out / "final.csv")
    assert set(final["measure"]) == {*module.COVERAGE, *module.PATHS}
    assert set(final["arm"]) == set(module.ARMS)
    regions = result.tables["regions"]
    assert len(regions) == len(module.base(module.settings(True)["scale"]).city.regions)
    daily = result.tables["daily"]
    assert sorted(set(daily["day"])) == list(range(1, module.DAYS + 1))
    assert "last_mile --quick" in (out / "report.md").read_text()


def test_the_untrained_arm_differs_from_itself_by_exactly_zero(report) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    final = result.tables["final"]
    assert (final.loc[final["arm"] == "no training", "vs_no_training"] == 0).all()


def test_runs_cover_the_draws_and_headlines_are_labelled(report, module) -> None:  # type: ignore[no-untyped-def]
    out, result = report
    stored = collect(module.make_sweep(True), out / "sweep")
    assert stored.runs["draw"].nunique() == module.settings(True)["draws"]
    labels = [h.label for h in result.headlines]
    # No target measures information reach: coverage is an out-of-sample prediction, TV's
    # reach is set by its parameters, training's gain is a counterfactual.
    assert labels == ["predicted", "predicted", "input", "counterfactual"]
    assert len(result.answer) == len(result.answer_zh) == 3
    assert not any("nan" in line for line in result.answer + result.answer_zh)


def test_baseline_channel_does_not_depend_on_training(stored) -> None:  # type: ignore[no-untyped-def]
    information, _ = stored
    wide = information.pivot_table(
        index=["replication", "day"], columns="arm", values="baseline_share"
    )
    assert (wide.nunique(axis=1) == 1).all()


def test_coverage_is_monotone_in_training_gain(stored, module) -> None:  # type: ignore[no-untyped-def]
    # Counter-based information draws: better government posts inform everyone they informed
    # before, no later (docs/model.md 3.5), run by run and day by day.
    information, regions = stored
    arms = list(module.ARMS)
    for measure in ("share_informed", "share_rural", "share_non_users", "share_users"):
        wide = information.pivot_table(index=["replication", "day"], columns="arm", values=measure)
        values = wide[arms].to_numpy()
        slots = module.settings(True)["draws"] * module.settings(True)["replications"]
        assert values.shape == (slots * module.DAYS, len(arms)) and not np.isnan(values).any()
        assert (np.diff(values, axis=1) >= -1e-12).all(), measure
    wide = regions.pivot_table(
        index=["replication", "day", "region"], columns="arm", values="share_informed"
    )
    assert (np.diff(wide[arms].to_numpy(), axis=1) >= -1e-12).all()


def test_tables_agree(report, stored) -> None:  # type: ignore[no-untyped-def]
    _, result = report
    information, _ = stored
    final = result.tables["final"].set_index(["measure", "arm"])
    daily = result.tables["daily"]
    last = daily[daily["day"] == daily["day"].max()].set_index("arm")
    for arm in last.index:
        assert final.at[("share_informed", arm), "value"] == pytest.approx(
            last.at[arm, "share_informed"]
        )
    top = information[information["day"] == information["day"].max()]
    assert final.at[("share_informed", "no training"), "value"] == pytest.approx(
        top.loc[top["arm"] == "no training", "share_informed"].mean()
    )


def test_set_holds_a_change_in_every_run_and_refuses_what_the_experiment_sets(  # type: ignore[no-untyped-def]
    tmp_path, capsys
) -> None:
    from laotie.audit import read_sweep
    from laotie.cli import main

    out = tmp_path / "changed"
    change = ["--set", "information.share_prob=0.05"]
    assert main(["experiment", EXPERIMENT, "--quick", *change, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Changed from the shipped scenarios in every run: information.share_prob = 0.05" in said
    result, _ = read_sweep(out / "sweep")
    assert result.sweep.base.flat()["information.share_prob"] == 0.05
    assert all("information.share_prob" not in draw for draw in result.sweep.draws)
    assert (result.runs["status"] == "ok").all()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "--set information.share_prob=0.05" in report
    assert "`information.share_prob = 0.05`" in report

    refused = tmp_path / "refused"
    set_by_experiment = ["--set", "information.n_messages=3"]
    assert main(["experiment", EXPERIMENT, "--quick", *set_by_experiment, "--out", str(refused)])
    assert "--set information.n_messages: the experiment sets it" in capsys.readouterr().err
    assert not (refused / "sweep").exists()
