"""The claims audit: samples that join posterior draws with assumed parameters, first-order
indices that find a planted driver and no driver in noise, and verdicts that say which."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from laotie import LaotieError, Scenario
from laotie.audit import (
    DRIVEN,
    audit_result,
    audit_samples,
    audit_sweep,
    indices,
    verdicts,
)
from laotie.cli import main
from laotie.posterior import load_posterior
from laotie.sweep import Sweep, run_sweep

ASSUMED = {"creators.authenticity_mean": [0.5, 0.9], "word_of_mouth.prob": None}


def test_samples_join_posterior_draws_and_a_hypercube_of_assumed_parameters() -> None:
    posterior = load_posterior("mudanjiang_calibrated")
    base = posterior.scenario
    samples = audit_samples(base, posterior, ASSUMED, 40, seed=3)
    assert samples == audit_samples(base, posterior, ASSUMED, 40, seed=3)
    table = pd.DataFrame(samples)
    assert set(table.columns) == set(posterior.keys) | set(ASSUMED)
    # The calibrated part is real posterior draws, rows kept whole (correlations stay).
    assert table[posterior.keys].to_dict("records") == posterior.draws(40, seed=3)
    # The assumed part is a Latin hypercube: one sample in each of 40 equal strata.
    authenticity = table["creators.authenticity_mean"].to_numpy()
    assert authenticity.min() >= 0.5 and authenticity.max() <= 0.9
    strata = np.floor((authenticity - 0.5) / 0.4 * 40).astype(int)
    assert sorted(strata) == list(range(40))
    wom = table["word_of_mouth.prob"].to_numpy()  # None: the declared bounds, 0 to 1
    assert wom.min() >= 0 and wom.max() <= 1 and wom.max() - wom.min() > 0.9


def test_samples_can_carry_a_subset_of_the_posterior_to_another_scenario() -> None:
    posterior = load_posterior("mudanjiang_calibrated")
    base = Scenario.preset("poverty_county", scale=0.1)
    keys = ["decision.intercept", "population.propensity_dispersion"]
    # A parameter of the posterior that is not carried over may be assumed instead.
    assumed = {"creators.price_mean": [30.0, 90.0]}
    samples = audit_samples(base, posterior, assumed, 16, seed=3, keys=keys)
    table = pd.DataFrame(samples)
    assert set(table.columns) == {*keys, "creators.price_mean"}
    assert table[keys].to_dict("records") == posterior.draws(16, seed=3, keys=keys)
    with pytest.raises(LaotieError, match="decision.intercept is calibrated"):
        audit_samples(base, posterior, {"decision.intercept": [-7.0, -5.0]}, 16, 3, keys=keys)


def test_bad_audits_are_named_errors() -> None:
    posterior = load_posterior("mudanjiang_calibrated")
    base = posterior.scenario
    with pytest.raises(LaotieError, match="samples = 4; expected an integer ≥ 8"):
        audit_samples(base, posterior, ASSUMED, 4, seed=1)
    with pytest.raises(LaotieError, match="decision.trust_weight is calibrated"):
        audit_samples(base, posterior, {"decision.trust_weight": [1.0, 2.0]}, 10, seed=1)
    with pytest.raises(LaotieError, match="nothing varies"):
        audit_samples(base, None, {}, 10, seed=1)
    with pytest.raises(Exception, match="audit: creators.authenticity_mean"):
        audit_samples(base, None, {"creators.authenticity_mean": [0.5, 1.5]}, 10, seed=1)


def test_indices_find_a_planted_driver_and_not_one_in_noise() -> None:
    rng = np.random.default_rng(5)
    n = 96
    samples = pd.DataFrame(rng.uniform(size=(n, 12)), columns=[f"p{i}" for i in range(12)])
    outcomes = pd.DataFrame(
        {
            "driven": 3.0 * samples["p0"] + rng.normal(0.0, 0.3, n),  # S1 of p0 ≈ 0.89
            "noise": rng.normal(size=n),
        }
    )
    table = indices(samples, outcomes, seed=1)
    driven = table[table["outcome"] == "driven"].set_index("parameter")["S1"]
    assert driven.idxmax() == "p0" and driven["p0"] > 0.6
    found = verdicts(table, calibrated=["p0"]).set_index("outcome")
    assert found.at["driven", "verdict"].startswith("driven by calibrated parameter p0")
    assert found.at["noise", "verdict"].startswith("robust")
    # The permutation null is what keeps noise from looking like a driver.
    noise = table[table["outcome"] == "noise"]
    assert noise["null_max95"].iloc[0] > noise["S1"].max() or noise["S1"].max() < DRIVEN
    # An assumed parameter is named as one.
    assert verdicts(table, calibrated=[]).set_index("outcome").at["driven", "kind"] == "assumed"


def test_an_outcome_without_enough_values_is_refused() -> None:
    samples = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0)[::-1]})
    outcomes = pd.DataFrame({"y": [np.nan] * 4 + [1.0] * 6})
    with pytest.raises(LaotieError, match="value in 6 samples; at least 8"):
        indices(samples, outcomes, seed=1)
    constant = indices(samples, pd.DataFrame({"y": np.ones(10)}), seed=1)
    assert (constant["S1"] == 0).all()


def test_the_audit_sweep_pairs_its_arms_by_sample() -> None:
    base = Scenario.preset("village")
    samples = audit_samples(base, None, ASSUMED, 8, seed=2)
    sweep = audit_sweep(base, [{}, {"word_of_mouth.prob": 0.0}], samples, days=3, seed=2)
    runs = sweep.runs()
    assert len(runs) == 16 and sweep.slots == 8
    for run in range(8):
        assert sweep.draw(run) == sweep.draw(run + 8) == samples[run]
        assert sweep.seed_key(run) == sweep.seed_key(run + 8)


def test_the_command_refuses_an_experiment_without_an_audit(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import types

    import laotie.experiment

    # Every shipped experiment has one or says why not (NO_AUDIT); a user's may do neither.
    names = laotie.experiment.experiment_names()
    for name in names:
        module = laotie.experiment.load_experiment(name)
        assert hasattr(module, "audit") != bool(getattr(module, "NO_AUDIT", "")), name
    assert main(["audit", "policy_design"]) == 2
    assert "has no audit: the policy_design page has no Sobol audit" in capsys.readouterr().err
    monkeypatch.setattr(laotie.experiment, "experiment_names", lambda: [*names, "mine"])
    monkeypatch.setattr(laotie.experiment, "load_experiment", lambda name: types.ModuleType(name))
    assert main(["audit", "mine"]) == 2
    assert "experiment 'mine' has no audit: its page says why" in capsys.readouterr().err


def _table(s1: float, conf: float, null: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "outcome": ["y", "y"],
            "parameter": ["a", "b"],
            "S1": [s1, 0.01],
            "S1_conf": [conf, 0.01],
            "null_max95": [null, null],
            "n": [96, 96],
        }
    )


def test_a_verdict_needs_the_bar_of_the_null_and_an_interval_above_zero() -> None:
    assert verdicts(_table(0.35, 0.1, 0.2), ["a"]).at[0, "verdict"].startswith("driven")
    # Above DRIVEN but below what noise alone reaches: not a driver.
    assert verdicts(_table(0.35, 0.1, 0.4), ["a"]).at[0, "verdict"].startswith("robust")
    # Above both bars but with an interval reaching 0: not a driver.
    assert verdicts(_table(0.45, 0.5, 0.2), ["a"]).at[0, "verdict"].startswith("robust")
    # A null this high means the samples are too few to say anything.
    assert verdicts(_table(0.6, 0.1, 0.7), ["a"]).at[0, "verdict"].startswith("not determined")
    # "Robust" says across what: the posterior, the assumed ranges, or both.
    for calibrated, scope in (
        (["a"], "the posterior and the assumed ranges"),
        ([], "the assumed ranges"),
        (["a", "b"], "the posterior"),
    ):
        verdict = verdicts(_table(0.35, 0.1, 0.4), calibrated).at[0, "verdict"]
        assert verdict.startswith(f"robust across {scope}: no parameter clears S1 = 0.40")
        assert verdict.endswith("its spread is chance or parameters acting together")


def test_replications_of_few_draws_name_no_driver() -> None:
    # 8 parameter vectors (posterior draws) × 4 replications, 12 parameters that move
    # together with the draws: an outcome set by the draws cannot be pinned on one of them.
    rng = np.random.default_rng(9)
    draws = pd.DataFrame(rng.uniform(size=(8, 12)), columns=[f"p{i}" for i in range(12)])
    samples = draws.loc[np.repeat(np.arange(8), 4)].reset_index(drop=True)
    effect = 5.0 * draws["p3"].to_numpy()
    outcomes = pd.DataFrame({"y": effect[np.repeat(np.arange(8), 4)] + rng.normal(0, 0.1, 32)})
    table = indices(samples, outcomes, seed=2)
    assert (table["distinct"] == 8).all() and (table["n"] == 32).all()
    verdict = verdicts(table, calibrated=list(samples.columns)).at[0, "verdict"]
    assert verdict.startswith("not determined: 8 distinct parameter vectors for 12")


def test_the_null_shuffles_whole_groups_of_replications() -> None:
    # 16 vectors × 4 replications; the outcome is a random effect of the group that depends
    # on no parameter. Shuffling single runs breaks the groups and sets the bar too low: with
    # these seeds the largest index clears such a bar in 5 of 8 outcomes, the groups' in 2.
    rng = np.random.default_rng(4)
    draws = pd.DataFrame(rng.uniform(size=(16, 3)), columns=["a", "b", "c"])
    groups = np.repeat(np.arange(16), 4)
    samples = draws.loc[groups].reset_index(drop=True)
    cleared = 0
    for trial in range(8):
        outcomes = pd.DataFrame({"y": rng.normal(size=16)[groups] + rng.normal(0, 0.05, 64)})
        table = indices(samples, outcomes, seed=trial, permutations=20)
        cleared += table["S1"].max() > table["null_max95"].iloc[0]
    assert cleared <= 2


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    out = tmp_path_factory.mktemp("audited")
    sweep = Sweep(
        Scenario.preset("village"),
        sample={"decision.trust_weight": [0.0, 8.0], "word_of_mouth.prob": [0.0, 0.2]},
        samples=24,
        days=8,
        seed=5,
    )
    run_sweep(sweep, out)
    return out  # type: ignore[return-value]


def test_a_finished_sweep_is_audited_as_it_is(finished_sweep) -> None:  # type: ignore[no-untyped-def]
    found, _ = audit_result(finished_sweep, ["gmv", "conversion"], seed=1)
    assert list(found.verdicts["outcome"]) == ["gmv", "conversion"]
    assert set(found.drivers["parameter"]) <= {"decision.trust_weight", "word_of_mouth.prob"}
    assert (found.verdicts["kind"] == "assumed").all()  # no posterior draws: none calibrated
    assert found.verdicts["verdict"].str.match("driven|robust|not determined").all()
    # The same samples and outcomes as indices() on the sweep's own tables.
    from laotie.audit import read_sweep

    result, _ = read_sweep(finished_sweep)
    market = result.summary[result.summary["channel"] == "all"].set_index("run")
    params = result.runs.set_index("run")[["decision.trust_weight", "word_of_mouth.prob"]]
    direct = indices(params, market[["gmv", "conversion"]], seed=1)
    pd.testing.assert_series_equal(
        found.drivers.groupby("outcome")["S1"].max(), direct.groupby("outcome")["S1"].max()
    )


def test_auditing_a_folder_names_what_is_wrong(finished_sweep, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LaotieError, match="no outcome 'gvm' in its runs; it has gmv, conv"):
        audit_result(finished_sweep, ["gvm"])
    with pytest.raises(LaotieError, match="not a sweep's results folder"):
        audit_result(tmp_path)
    assert main(["audit", str(finished_sweep), "--workers", "2"]) == 2
    assert "runs nothing" in capsys.readouterr().err
    assert main(["audit", "trust_vs_traffic", "--outcomes", "gmv"]) == 2
    assert "--outcomes is for a sweep's folder" in capsys.readouterr().err
    out = tmp_path / "audit"
    assert main(["audit", str(finished_sweep), "--outcomes", "gmv", "--out", str(out)]) == 0
    assert "gmv: " in capsys.readouterr().out
    assert pd.read_csv(out / "audit.csv")["outcome"].tolist() == ["gmv"]


def test_the_parameters_per_vector_and_in_all_bound_a_verdict() -> None:
    # 12 vectors × 3 replications of 8 parameters, one of which sets the outcome: fewer than
    # two vectors per parameter, so no driver is named.
    rng = np.random.default_rng(3)
    draws = pd.DataFrame(rng.uniform(size=(12, 8)), columns=[f"p{i}" for i in range(8)])
    groups = np.repeat(np.arange(12), 3)
    samples = draws.loc[groups].reset_index(drop=True)
    outcomes = pd.DataFrame({"y": 5.0 * draws["p2"].to_numpy()[groups] + rng.normal(0, 0.1, 36)})
    table = indices(samples, outcomes, seed=2)
    assert verdicts(table, calibrated=[]).at[0, "verdict"].startswith("not determined: 12")
    # A grid of two values: a permutation of two vectors is no null (it equals the index).
    two = pd.DataFrame({"a": np.repeat([0.0, 1.0], 10)})
    y = pd.DataFrame({"y": np.repeat([0.0, 1.0], 10) + rng.normal(0, 0.1, 20)})
    assert verdicts(indices(two, y, seed=1), []).at[0, "verdict"].startswith("not determined: 2")


def test_an_audit_of_a_sweep_is_reproducible_with_any_seed(finished_sweep) -> None:  # type: ignore[no-untyped-def]
    first, _ = audit_result(finished_sweep, ["gmv", "conversion"])  # seed 0
    again, _ = audit_result(finished_sweep, ["gmv", "conversion"])
    pd.testing.assert_frame_equal(first.verdicts, again.verdicts)
    pd.testing.assert_frame_equal(first.drivers, again.drivers)
    twice, _ = audit_result(finished_sweep, ["gmv", "gmv"])  # a repeated outcome counts once
    assert twice.verdicts["outcome"].tolist() == ["gmv"]
    assert (twice.drivers["n"] == 24).all()


def test_an_audit_names_unfinished_runs_and_scarce_outcomes(finished_sweep, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    copy = tmp_path / "partial"
    shutil.copytree(finished_sweep, copy)
    for path in (copy / "runs").glob("run_000003*"):
        path.unlink()
    with pytest.warns(UserWarning, match="1 of 24 runs are left out .1 missing"):
        found, _ = audit_result(copy, ["gmv"], seed=1)
    assert (found.drivers["n"] == 23).all()
    with pytest.raises(LaotieError, match="no outcome named"):
        audit_result(finished_sweep, [""])


def test_the_command_checks_its_seed_and_its_flags(finished_sweep, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        main(["audit", str(finished_sweep), "--seed", "-1"])
    assert "expected an integer ≥ 0" in capsys.readouterr().err
    assert main(["audit", "trust_vs_traffic", "--seed", "3"]) == 2
    assert "--seed is for a sweep's folder" in capsys.readouterr().err
    assert main(["audit", "/no/such/folder"]) == 2
    assert "no such sweep folder" in capsys.readouterr().err


def test_a_spec_edited_after_its_runs_relabels_nothing(finished_sweep, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import shutil

    from laotie.audit import read_sweep

    copy = tmp_path / "edited"
    shutil.copytree(finished_sweep, copy)
    spec_path = copy / "sweep.json"
    stored = json.loads(spec_path.read_text(encoding="utf-8"))
    stored["sweep"]["sample"]["decision.trust_weight"] = [1.0, 9.0]  # other values per run
    spec_path.write_text(json.dumps(stored), encoding="utf-8")
    result, _ = read_sweep(copy)
    runs = result.runs
    assert (runs["status"] == "damaged").all()
    assert runs["error"].str.contains("it ran under another spec of this sweep").all()
    assert result.outcomes.empty  # none of their numbers is read under the new labels
    # Records stored before spec keys are checked by their parameters instead.
    legacy = tmp_path / "legacy"
    shutil.copytree(copy, legacy)
    for path in (legacy / "runs").glob("run_*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        del record["spec"]
        path.write_text(json.dumps(record), encoding="utf-8")
    assert (
        read_sweep(legacy)[0]
        .runs["error"]
        .str.contains(r"it ran with decision\.trust_weight = .* where the sweep's spec now gives")
        .all()
    )
    with (
        pytest.warns(UserWarning, match="24 of 24 runs are left out \\(24 damaged\\)"),
        pytest.raises(LaotieError, match="no parameter differs between its 0 finished runs"),
    ):
        audit_result(copy)
    # The unedited folder reads every run.
    assert (read_sweep(finished_sweep)[0].runs["status"] == "ok").all()


def test_a_sweep_whose_keys_are_not_in_alphabetical_order_is_read_as_it_ran(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from laotie.audit import read_sweep

    # The order of a grid's and a sample's keys decides which values each run took:
    # sweep.json keeps it, and so do the runs' records.
    sweep = Sweep(
        Scenario.preset("village"),
        grid={"word_of_mouth.prob": [0.0, 0.2], "creators.authenticity_mean": [0.5, 0.9]},
        sample={"storefronts.comparisons": [1, 5], "creators.post_prob": [0.1, 0.9]},
        samples=3,
        days=3,
        seed=2,
    )
    ran = run_sweep(sweep, tmp_path)
    read, _ = read_sweep(tmp_path)
    assert (read.runs["status"] == "ok").all()
    assert read.sweep.points() == sweep.points()
    pd.testing.assert_frame_equal(read.outcomes, ran.outcomes)
    # A folder stored before spec keys has a sorted sweep.json: its records restore the order.
    import json

    spec = tmp_path / "sweep.json"
    spec.write_text(json.dumps(json.loads(spec.read_text("utf-8")), sort_keys=True), "utf-8")
    for path in (tmp_path / "runs").glob("run_*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        del record["spec"]
        path.write_text(json.dumps(record), encoding="utf-8")
    legacy, _ = read_sweep(tmp_path)
    assert (legacy.runs["status"] == "ok").all()
    assert legacy.sweep.points() == sweep.points()
    pd.testing.assert_frame_equal(legacy.outcomes, ran.outcomes)


def test_a_sweep_whose_grid_keys_are_also_drawn_is_read_as_it_ran(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from laotie.audit import read_sweep

    # A run's parameters put its draw's keys first; the grid's order is sweep.json's.
    sweep = Sweep(
        Scenario.preset("village"),
        {"policy.traffic": ["head", "inclusive"], "decision.trust_weight": [1.0, 6.0]},
        replications=1,
        days=2,
        seed=1,
        draws=[
            {"decision.trust_weight": 3.0, "creators.post_prob": 0.5},
            {"decision.trust_weight": 4.0, "creators.post_prob": 0.6},
        ],
    )
    ran = run_sweep(sweep, tmp_path)
    read, _ = read_sweep(tmp_path)
    assert list(read.sweep.grid) == list(sweep.grid)
    assert (read.runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(read.outcomes, ran.outcomes)
