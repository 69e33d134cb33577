"""Calibration by neural posterior estimation (laotie.calibrate.npe), checked on synthetic
data at village scale: the posterior's intervals cover known parameters at their level, the
posterior does not depend on an interruption, and the prior draws are the seed's."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sbi")  # the calibrate extra (installed by the test extra)

from laotie.calibrate import load_targets
from laotie.calibrate.npe import _weighted_quantiles, calibrate, features, prior_draws, recover
from laotie.errors import LaotieError

BUDGET = 200
PROBLEMS = 40
ENSEMBLE = 2
"""Estimators per calibration: the library's default is 5; two keep the tests' training short
and the recovery test still checks the coverage of what they give."""


@pytest.fixture(scope="module")
def folder(village_targets: Path) -> Path:
    return village_targets


@pytest.fixture(scope="module")
def calibrated(folder: Path):  # type: ignore[no-untyped-def]
    return calibrate(
        load_targets(folder), BUDGET, folder / "out", posterior_draws=2000, ensemble=ENSEMBLE
    )


def test_prior_draws_are_uniform_and_the_seeds() -> None:
    free = {"a": (0.0, 1.0), "b": (-5.0, 5.0)}
    draws = prior_draws(free, 4000, seed=1)
    pd.testing.assert_frame_equal(draws, prior_draws(free, 4000, seed=1))
    assert not draws.equals(prior_draws(free, 4000, seed=2))
    assert (draws.min() >= [0.0, -5.0]).all() and (draws.max() <= [1.0, 5.0]).all()
    # Uniform: the mean within 4 standard errors of the middle.
    se = np.array([1.0, 10.0]) / math.sqrt(12 * 4000)
    assert (np.abs(draws.mean().to_numpy() - [0.5, 0.0]) <= 4 * se).all()


def test_the_posterior_finds_the_click_probability(calibrated) -> None:  # type: ignore[no-untyped-def]
    c = calibrated
    assert c.used == BUDGET  # every fitted moment defined in every run
    assert list(c.posterior.columns) == ["decision.intercept", "storefronts.click_prob"]
    assert len(c.posterior) == 2000
    # The click-through target (0.5 ± 0.02) pins the click probability near 0.5, well inside
    # its prior [0.05, 1]; draws stay inside the prior.
    table = c.intervals(0.9).set_index("parameter")
    click = table.loc["storefronts.click_prob"]
    assert click["low"] < 0.5 < click["high"] and click["relative_width"] < 0.2
    for key, (low, high) in c.targets.free.items():
        assert c.posterior[key].between(low, high).all()
    # The held-out moment is measured (NaN: 20 days hold no complete month) and stored.
    assert c.simulations.moments["T7b"].isna().all()
    assert (c.simulations.moments["T1a"].between(0, 1)).all()


def test_the_prior_check_is_rejection_over_the_prior_simulations(calibrated) -> None:  # type: ignore[no-untyped-def]
    c = calibrated
    bands, kept = c.prior_check(0.9)
    fitted = list(c.targets.fitted())
    moments = c.simulations.moments.set_index("run")
    runs = c.simulations.runs.set_index("run")
    inside = np.ones(len(moments), bool)
    for t, row in zip(fitted, bands.itertuples(), strict=True):
        within = moments[t.id].between(t.moment.low, t.moment.high).to_numpy()
        assert row.id == t.id and row.inside == pytest.approx(within.mean())
        inside &= within
    assert 10 <= inside.sum() < len(inside)  # the bands reject some runs, keep enough
    table = kept.set_index("parameter")
    assert (table["accepted"] == inside.sum()).all()
    for key, (low, high) in c.targets.free.items():
        values = runs.loc[moments.index[inside], key]
        lo, hi = np.quantile(values, [0.05, 0.95])
        assert table.loc[key, "low"] == pytest.approx(lo)
        width = (hi - lo) / (high - low)
        assert table.loc[key, "relative_width"] == pytest.approx(width)
    # The weighted interval: every prior simulation weighted by its fitted moments'
    # closeness to the targets' values at their standard errors.
    ok = c.simulations.runs.loc[c.simulations.runs["status"] == "ok", "run"]
    distance = sum(((moments.loc[ok, t.id] - t.value) / t.se) ** 2 for t in fitted)
    weights = np.exp(-0.5 * distance.to_numpy())
    ess = weights.sum() ** 2 / (weights**2).sum()
    assert table["weighted_n"].iloc[0] == pytest.approx(ess)
    for key in c.targets.free:
        values = runs.loc[ok, key].to_numpy()
        expected = np.quantile(values, [0.05, 0.95], weights=weights, method="inverted_cdf")
        found = table.loc[key, ["weighted_low", "weighted_high"]].to_numpy(float)
        if ess >= 10:
            assert found == pytest.approx(expected)
        else:  # too few effective simulations to say
            assert np.isnan(found).all()
    rng = np.random.default_rng(4)
    values, weights = rng.normal(size=500), rng.exponential(size=500)
    levels = [0.05, 0.5, 0.95]
    assert _weighted_quantiles(values, weights, levels) == pytest.approx(
        np.quantile(values, levels, weights=weights, method="inverted_cdf")
    )
    # The bands are what "inside" means, the estimator conditions on the value with its
    # standard error: this file's click-through band (0.03-0.9) is far wider than its se
    # (0.02), so the band alone leaves the click probability loose where the posterior is
    # tight.
    posterior = c.intervals(0.9).set_index("parameter")["relative_width"]
    assert table.loc["storefronts.click_prob", "relative_width"] > 0.5
    assert posterior["storefronts.click_prob"] < 0.2


def test_synthetic_recovery_covers_the_truth(calibrated, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """Over PROBLEMS problems drawn from the prior, the 90 % intervals cover the true
    parameters in 80-100 % of (problem, parameter) pairs (the calibration issue's band; a
    calibrated posterior gives 90 % ± 3.4 % for 80 pairs, one binomial standard error), and
    the SBC ranks are not piled at either end."""
    r = recover(calibrated, PROBLEMS, folder / "recovery", level=0.9, draws=500)
    assert len(r.problems) == 2 * PROBLEMS
    assert 0.8 <= r.coverage() <= 1.0
    summary = r.summary().set_index("parameter")
    assert summary["identified"].all()
    ranks = r.problems["rank"].to_numpy() / r.draws
    # Uniform ranks: the mean within 4 standard errors of 1/2.
    assert abs(ranks.mean() - 0.5) <= 4 * math.sqrt(1 / 12 / len(ranks))


def test_an_interrupted_calibration_resumes_to_the_same_posterior(calibrated, folder: Path) -> None:  # type: ignore[no-untyped-def]
    out = folder / "resumed"
    shutil.copytree(folder / "out", out)
    for run in (3, 50, 199):  # runs whose records the interruption lost
        (out / "simulations" / "runs" / f"run_{run:06d}.json").unlink()
    again = calibrate(calibrated.targets, BUDGET, out, posterior_draws=2000, ensemble=ENSEMBLE)
    pd.testing.assert_frame_equal(again.posterior, calibrated.posterior)
    stored = pd.read_csv(folder / "out" / "posterior.csv")
    np.testing.assert_allclose(stored.to_numpy(), calibrated.posterior.to_numpy(), rtol=1e-6)


def test_bad_budgets_are_named(folder: Path) -> None:
    with pytest.raises(LaotieError, match=r"budget = 10; expected an integer ≥ 50"):
        calibrate(load_targets(folder), 10, folder / "small")
    with pytest.raises(LaotieError, match=r"ensemble = 0; expected an integer from 1 to 50"):
        calibrate(load_targets(folder), 50, folder / "small", ensemble=0)


def test_the_estimator_reads_each_moment_over_its_standard_error(folder: Path) -> None:
    targets = load_targets(folder)
    se = np.array([t.se for t in targets.fitted()])
    x = np.array([[0.0] * len(se), se, -3 * se, 1e4 * se])
    got = features(targets, x)
    np.testing.assert_allclose(got[0], 0.0)
    np.testing.assert_allclose(got[1], np.arcsinh(1.0))
    np.testing.assert_allclose(got[2], -np.arcsinh(3.0))
    # Logarithmic far out: a thousandfold larger moment adds log(1000) or so.
    np.testing.assert_allclose(got[3] - np.arcsinh(10.0), np.log(1e3), atol=0.01)


def test_posterior_predictive_moments(calibrated, folder: Path) -> None:  # type: ignore[no-untyped-def]
    table = calibrated.predictive(30, folder / "predictive").set_index("id")
    assert list(table.index) == ["T1a", "T1c", "T7b"]
    assert table.loc["T7b", "role"] == "held_out" and table.loc["T7b", "runs"] == 0
    click = table.loc["T1a"]
    # The fitted click-through comes back near its target, inside its interval.
    assert click["runs"] == 30 and click["pp_low"] <= 0.5 <= click["pp_high"]
    assert abs(click["mean"] - 0.5) < 0.1 and bool(click["inside"])


def test_predictive_runs_at_most_the_draws(calibrated, folder: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaotieError, match=r"runs = 2001; expected an integer from 1 to the 2000"):
        calibrated.predictive(2001, folder / "too_many")


def test_training_logs_stay_under_out(calibrated, folder: Path) -> None:  # type: ignore[no-untyped-def]
    assert any((folder / "out" / "training").rglob("events.out.tfevents.*"))
    assert not (Path.cwd() / "sbi-logs").exists()


def test_scale_check_pairs_the_runs_at_two_scales(calibrated, folder: Path) -> None:  # type: ignore[no-untyped-def]
    """The same posterior draws and seeds at the village's size and twice it: the
    click-through is the click probability at any size (a difference within its interval),
    and every column is there."""
    table = calibrated.scale_check((1.0, 2.0), 12, folder / "scales").set_index("id")
    assert list(table.columns) == [
        "role",
        "mean_1",
        "mean_2",
        "difference",
        "ci_low",
        "ci_high",
        "relative",
        "pairs",
    ]
    click = table.loc["T1a"]
    assert click["pairs"] == 12 and click["ci_low"] <= click["difference"] <= click["ci_high"]
    assert abs(click["relative"]) < 0.05  # the click probability does not depend on size
    assert table.loc["T7b", "pairs"] == 0 and math.isnan(table.loc["T7b", "difference"])
    with pytest.raises(LaotieError, match=r"scales = \(1.0,\); expected two numbers > 0"):
        calibrated.scale_check((1.0,), 12, folder / "bad")


@pytest.fixture(scope="module")
def two_rounds(calibrated, folder: Path):  # type: ignore[no-untyped-def]
    """A second round on the first fixture's simulations (copied: only round 2 runs)."""
    out = folder / "rounds"
    shutil.copytree(folder / "out" / "simulations", out / "simulations")
    return calibrate(load_targets(folder), BUDGET, out, posterior_draws=2000, rounds=2, ensemble=2)


def test_a_second_round_draws_where_the_posterior_lies(calibrated, two_rounds) -> None:  # type: ignore[no-untyped-def]
    """Truncated sequential NPE: round 2 reuses round 1's simulations and draws its own from
    the prior truncated to the first posterior's region, so they gather round the click
    probability the target pins (0.5) while staying inside the prior; the estimator is
    trained on both rounds, and the synthetic problems' truths come from that region."""
    c = two_rounds
    free = c.targets.free
    pd.testing.assert_frame_equal(c.simulations.runs, calibrated.simulations.runs)
    (second,) = c.later_rounds
    draws = second.runs[list(free)]
    assert len(draws) == BUDGET and c.used == 2 * BUDGET
    for key, (low, high) in free.items():
        assert draws[key].between(low, high).all()
    # The region keeps all but 10⁻⁴ of the first posterior's mass: for a Normal, ± 3.9
    # standard deviations against the 90 % interval's ± 1.645, so it spans about 2.4 times
    # that interval (relative width < 0.2): under half the prior. Round 2's draws fall in
    # the 90 % interval more than twice as often as uniform draws over the prior would.
    low, high = free["storefronts.click_prob"]
    first = calibrated.intervals(0.9).set_index("parameter").loc["storefronts.click_prob"]
    click_draws = draws["storefronts.click_prob"]
    assert click_draws.max() - click_draws.min() < 0.5 * (high - low)
    assert click_draws.min() < 0.5 < click_draws.max()
    inside = click_draws.between(first["low"], first["high"]).mean()
    assert inside > 2 * first["relative_width"]
    click = c.intervals(0.9).set_index("parameter").loc["storefronts.click_prob"]
    assert click["low"] < 0.5 < click["high"]
    truths = c.proposal_draws(200, seed=5)["storefronts.click_prob"]
    assert click_draws.min() - 0.05 < truths.min() and truths.max() < click_draws.max() + 0.05
    pd.testing.assert_frame_equal(c.proposal_draws(50, seed=5), c.proposal_draws(50, seed=5))
    pd.testing.assert_frame_equal(
        calibrated.proposal_draws(200, seed=5), prior_draws(free, 200, seed=5)
    )


@pytest.mark.slow
def test_an_interrupted_second_round_resumes_to_the_same_posterior(
    two_rounds, folder: Path
) -> None:  # type: ignore[no-untyped-def]
    """Slow (about 20 s: the resumed calibration trains both rounds' estimators again); the
    first round's resumption, by the same store, runs in the default suite."""
    out = folder / "rounds_resumed"
    shutil.copytree(folder / "rounds", out)
    for run in (0, 120):
        (out / "round_2" / "simulations" / "runs" / f"run_{run:06d}.json").unlink()
    again = calibrate(two_rounds.targets, BUDGET, out, posterior_draws=2000, rounds=2, ensemble=2)
    pd.testing.assert_frame_equal(again.posterior, two_rounds.posterior)
    # The round's draws are kept before they run, so that a resume simulates the same ones
    # whatever its training gives; kept draws that do not fit are refused by name.
    kept = pd.read_csv(out / "round_2" / "draws.csv")
    runs = two_rounds.later_rounds[0].runs[kept.columns.tolist()].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, runs, check_dtype=False)
    kept.head(10).to_csv(out / "round_2" / "draws.csv", index=False)
    with pytest.raises(LaotieError, match=r"draws.csv: holds 10 draws .* delete .*round_2"):
        calibrate(two_rounds.targets, BUDGET, out, rounds=2, ensemble=2)


def test_bad_rounds_are_named(folder: Path) -> None:
    with pytest.raises(LaotieError, match=r"rounds = 0; expected an integer from 1 to 10"):
        calibrate(load_targets(folder), 50, folder / "small", rounds=0)
    with pytest.raises(LaotieError, match=r"truncation = 0.5; expected a number between 0"):
        calibrate(load_targets(folder), 50, folder / "small", rounds=2, truncation=0.5)
