"""Sweeps: seeds keyed by run, identical with any number of workers, resumable, failures kept."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from laotie import Scenario, ScenarioError
from laotie.cli import main
from laotie.sweep import Sweep, failures, load_sweep, run_sweep

GRID = {"policy.traffic": ["head", "inclusive"], "decision.trust_weight": [3.0, 5.0]}


def sweep() -> Sweep:
    return Sweep(Scenario.preset("village"), GRID, replications=2, days=8, seed=3)


def test_one_worker_or_two_give_the_same_tables(tmp_path: Path) -> None:
    runs_1, daily_1 = run_sweep(sweep(), tmp_path / "one", workers=1)
    runs_2, daily_2 = run_sweep(sweep(), tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(runs_1, runs_2)
    pd.testing.assert_frame_equal(daily_1, daily_2)
    assert (runs_1["status"] == "ok").all() and len(runs_1) == 8
    assert daily_1["run"].nunique() == 8
    # Replications of one point differ; the same run index gives the same numbers.
    first = daily_1[daily_1["run"] == 0]["orders"].to_numpy()
    second = daily_1[daily_1["run"] == 1]["orders"].to_numpy()
    assert (first != second).any()


def test_an_interrupted_sweep_resumes_to_the_same_result(tmp_path: Path) -> None:
    whole = run_sweep(sweep(), tmp_path / "whole")
    out = tmp_path / "interrupted"
    run_sweep(sweep(), out)
    # An interruption leaves some runs without their record (a run counts once it is written).
    for run in (2, 5, 6):
        (out / "runs" / f"run_{run:06d}.json").unlink()
    kept = (out / "runs" / "run_000000.json").stat().st_mtime_ns
    resumed = run_sweep(sweep(), out)
    assert (out / "runs" / "run_000000.json").stat().st_mtime_ns == kept  # not rerun
    pd.testing.assert_frame_equal(resumed[0], whole[0])
    pd.testing.assert_frame_equal(resumed[1], whole[1])


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    # 100,000 storefronts need a memory table larger than the engine allows: that run fails.
    failing = Sweep(
        Scenario.preset("county", scale=0.5),
        {"storefronts.n_storefronts": [5, 100_000]},
        days=2,
        seed=1,
    )
    table, daily = run_sweep(failing, tmp_path / "out")
    assert table["status"].tolist() == ["ok", "error"]
    failed = failures(table)
    assert failed["storefronts.n_storefronts"].tolist() == [100_000]
    assert "storefront memories" in failed["error"].iloc[0]
    assert set(daily["run"]) == {0}


def test_spec_files_and_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text(
        'scenario = "village"\ndays = 5\nseed = 2\nreplications = 2\n'
        '[grid]\n"policy.traffic" = ["head", "inclusive"]\n',
        encoding="utf-8",
    )
    assert len(load_sweep(spec).runs()) == 4
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "4 of 4 runs done" in capsys.readouterr().out
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert list(runs.columns[:3]) == ["run", "policy.traffic", "replication"]
    bad = tmp_path / "bad.toml"
    bad.write_text('scenario = "village"\n[grid]\n"policy.trafic" = ["head"]\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.toml: .*did you mean 'traffic'"):
        load_sweep(bad)
    bad.write_text('scenario = "village"\nreplicatons = 2\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="did you mean 'replications'"):
        load_sweep(bad)


def test_latin_hypercube_samples_within_declared_bounds() -> None:
    base = Scenario.preset("village")
    sampled = Sweep(
        base,
        sample={"decision.trust_weight": [1.0, 6.0], "creators.post_prob": None},
        samples=20,
        seed=4,
    )
    runs = sampled.runs()
    assert len(runs) == 20
    weights = runs["decision.trust_weight"].to_numpy()
    # A Latin hypercube puts exactly one point in each of the 20 equal strata of each range.
    assert sorted(((weights - 1.0) / 5.0 * 20).astype(int)) == list(range(20))
    post = runs["creators.post_prob"].to_numpy()  # declared bounds: 0 ≤ post_prob ≤ 1
    assert sorted((post * 20).astype(int)) == list(range(20))
    again = Sweep(base, sample=sampled.sample, samples=20, seed=4).runs()
    pd.testing.assert_frame_equal(runs, again)
    # Sobol points keep their balance properties at powers of two.
    assert (
        Sweep(base, sample=sampled.sample, samples=16, seed=4, method="sobol")
        .runs()["decision.trust_weight"]
        .between(1.0, 6.0)
        .all()
    )


def test_sampling_needs_a_finite_numeric_range() -> None:
    base = Scenario.preset("village")
    with pytest.raises(ScenarioError, match="training.follower_gain needs a finite range"):
        Sweep(base, sample={"training.follower_gain": None}, samples=3)
    with pytest.raises(ScenarioError, match="policy.traffic is not numeric"):
        Sweep(base, sample={"policy.traffic": None}, samples=3)
    with pytest.raises(ScenarioError, match="did you mean 'trust_weight'"):
        Sweep(base, sample={"decision.trust_weigth": [1, 2]}, samples=3)
