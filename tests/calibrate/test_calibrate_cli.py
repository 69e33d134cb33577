"""``laotie calibrate``: the files it writes, what it prints, and named errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("sbi")

from laotie import Scenario
from laotie.cli import main


@pytest.mark.integration
def test_calibrate_writes_the_posterior_and_checks(
    village_targets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cal"
    argv = ["calibrate", "village", "--targets", str(village_targets / "targets.toml")]
    options = ["--budget", "60", "--recover", "4", "--predictive", "3", "--scale-check", "2"]
    options += ["--ensemble", "2"]
    options.append("--quiet")
    posterior_keys = ("decision.intercept", "storefronts.click_prob")
    status = main([*argv, *options, "--out", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "90 % posterior intervals (60 of 60 simulations used)" in printed
    assert "synthetic recovery over 4 problems" in printed
    assert "inside band (fit):" in printed and "inside band (held_out): 0 of 1" in printed
    names = {p.name for p in out.iterdir()}
    assert {"posterior.csv", "intervals.csv", "recovery.csv", "predictive.csv"} <= names
    assert "the bands alone, by rejection over the first round's prior simulations" in printed
    assert pd.read_csv(out / "prior_check.csv")["parameter"].tolist() == list(posterior_keys)
    assert "moments at scales 1 and 2 (20 paired runs)" in printed
    assert pd.read_csv(out / "scales.csv")["id"].tolist() == ["T1a", "T1c", "T7b"]
    assert {"calibration.json", "simulations"} <= names
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior.columns) == ["decision.intercept", "storefronts.click_prob"]
    assert len(pd.read_csv(out / "recovery.csv")) == 2 * 4
    # The calibrated scenario: the village at its own scale, free parameters at the medians.
    calibrated = Scenario.from_toml(out / "scenario.toml")
    assert calibrated.city.n_residents == Scenario.preset("village").city.n_residents
    medians = pd.read_csv(out / "intervals.csv").set_index("parameter")["median"]
    assert calibrated.decision.intercept == pytest.approx(medians["decision.intercept"], rel=1e-3)
    assert calibrated.storefronts.click_prob == pytest.approx(
        medians["storefronts.click_prob"], rel=1e-3
    )
    assert "posterior medians" in calibrated.description
    assert (out / "corner.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["county"], "has no targets file"),
        (["nowhere"], "no scenario 'nowhere'"),
        (["village", "--budget", "10"], "--budget 10: expected an integer ≥ 50"),
        (["village", "--recover", "-1"], "--recover -1"),
        (["village", "--scale-check", "0"], "--scale-check 0.0: expected a number > 0"),
        (["village", "--ensemble", "0"], "--ensemble 0: expected an integer ≥ 1"),
        (["village", "--ensemble", "51"], "--ensemble 51: expected an integer from 1 to 50"),
        (["village", "--rounds", "0"], "--rounds 0: expected an integer ≥ 1"),
        (["village", "--rounds", "11"], "--rounds 11: expected an integer from 1 to 10"),
    ],
)
def test_bad_calibrations_are_named_errors(
    argv: list[str], message: str, village_targets: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "village":
        argv = [*argv, "--targets", str(village_targets / "targets.toml")]
    assert main(["calibrate", *argv]) == 2
    assert message in capsys.readouterr().err


def test_days_that_leave_a_fitted_moment_undefined_are_refused_before_running(
    village_targets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (village_targets / "targets.toml").read_text(encoding="utf-8")
    text = text.replace("days = 20", "days = 40").replace('role = "held_out"', 'role = "fit"')
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    argv = ["calibrate", "village", "--targets", str(path), "--out", str(tmp_path / "out")]
    assert main([*argv, "--days", "20"]) == 2
    assert "--days = 20: the fitted moments T7b (≥ 30) are undefined" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
