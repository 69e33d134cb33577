"""``laotie optimise`` of continuous levers (target = "levers"): a spec checked before anything
runs (every lever against the scenario, keys of the other target refused); a folder that
resumes to byte-identical tables, replaying its stored evaluations (optuna, seeded and told
the same values, asks the same trials); the command's report; the example spec."""

from __future__ import annotations

import dataclasses
import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from laotie import Scenario
from laotie.cli import main
from laotie.errors import LaotieError, ScenarioError
from laotie.policy import OptimiseSpec, Stored, Tuned, load_optimise, run_optimise
from laotie.policy.run import setting_key

pytest.importorskip("optuna")

SPEC = """\
scenario = "poverty_county"
scale = 0.02
seed = 3
days = 30
target = "levers"
objective = "producer_net_total"
trials = 8
batch = 4
replications = 2
fresh = 3
[levers]
"policy.head_cap" = [0.1, 0.6]
"training.follower_gain" = [0, 200]
[set]
"training.day" = 5
"""

FRONT = SPEC.replace(
    'objective = "producer_net_total"',
    'objective = { producer_income_total = "maximize", creator_income_gini = "minimize" }',
)

TRAIN = """\
scenario = "poverty_county"
scale = 0.02
seed = 3
days = 30
budget = 2
replications = 2
fresh = 3
[set]
"training.day" = 5
"""

TABLES = ("trials.csv", "comparison.csv", "values.csv", "settings.json")

EXAMPLE = Path(__file__).parents[2] / "experiments" / "policy" / "levers_poverty_county.toml"


def _write(folder: Path, text: str, name: str = "levers.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("levers"), SPEC)


@pytest.fixture(scope="module")
def done(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One whole search's folder, uninterrupted."""
    out = tmp_path_factory.mktemp("whole")
    run_optimise(load_optimise(spec_file), out)
    return out


def _tables(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


# The spec --------------------------------------------------------------------------------


def test_a_levers_spec_reads_its_levers_checked_against_the_scenario(spec_file: Path) -> None:
    spec = load_optimise(spec_file)
    assert (spec.trials, spec.batch) == (8, 4)
    found = {lever.key: lever for lever in spec.checked_levers}
    assert list(found) == ["policy.head_cap", "training.follower_gain"]
    assert not found["policy.head_cap"].integer and found["training.follower_gain"].integer
    assert found["policy.head_cap"].current == spec.scenario.policy.head_cap  # the baseline
    settings = spec.to_dict()
    assert settings["levers"] == {"policy.head_cap": [0.1, 0.6], "training.follower_gain": [0, 200]}
    assert settings["trials"] == 8
    assert not {"budget", "shortlist", "contenders", "stop"} & set(settings)


def test_the_defaults_of_a_levers_spec_and_a_train_spec(tmp_path: Path) -> None:
    text = SPEC.replace("trials = 8\n", "").replace("batch = 4\n", "")
    spec = load_optimise(_write(tmp_path, text))
    assert (spec.trials, spec.batch) == (40, 4)
    train = load_optimise(_write(tmp_path, TRAIN, "train.toml"))
    assert (train.trials, train.batch, train.levers, train.checked_levers) == (None, 1, None, ())
    # A train spec's record is what it was before levers existed (its folders stay valid).
    assert not {"levers", "trials"} & set(train.to_dict())
    assert train.to_dict()["batch"] == 1


def test_lever_keys_may_be_written_as_nested_tables(tmp_path: Path) -> None:
    text = SPEC.replace('"policy.head_cap" = [0.1, 0.6]', "policy.head_cap = [0.1, 0.6]")
    spec = load_optimise(_write(tmp_path, text))
    assert [lever.key for lever in spec.checked_levers] == [
        "policy.head_cap",
        "training.follower_gain",
    ]


def test_a_lever_set_in_the_scenario_starts_from_that_value(tmp_path: Path) -> None:
    spec = load_optimise(_write(tmp_path, SPEC + '"policy.head_cap" = 0.45\n'))
    assert spec.checked_levers[0].current == 0.45


def test_a_levers_spec_may_say_whom_training_reaches(tmp_path: Path) -> None:
    # training.rule and training.n_creators are the budget's and the policy's in a train spec,
    # but a levers spec may set them (who is trained, while the levers say how much).
    text = SPEC + '"training.rule" = "followers"\n"training.n_creators" = 3\n'
    spec = load_optimise(_write(tmp_path, text))
    assert (spec.scenario.training.rule, spec.scenario.training.n_creators) == ("followers", 3)


def _bad(tmp_path: Path, spec: str, line: str, section: str = "[levers]") -> Path:
    """``spec`` with the line of ``line``'s key replaced by ``line`` (placed before
    ``section``; a lever's line within ``[levers]``)."""
    key = line.split(" ")[0]
    rows = [row for row in spec.splitlines() if not row.startswith(f"{key} ")]
    if key.startswith('"') and section == "[levers]":
        rows = [row for row in rows if not row.startswith(key)]
        i = rows.index("[levers]") + 1
    else:
        i = rows.index(section)
    return _write(tmp_path, "\n".join([*rows[:i], line, *rows[i:]]) + "\n", "bad.toml")


LEVERS_TAKES = (
    "(target 'levers' takes: batch, days, fresh, graph_seed, levers, objective, replications, "
    "scale, scenario, seed, set, target, trials)"
)
TRAIN_TAKES = (
    "(target 'train' takes: batch, budget, contenders, days, fresh, graph_seed, objective, "
    "replications, scale, scenario, seed, set, shortlist, stop, target)"
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '"policy.head_cop" = [0.1, 0.5]',
            "bad.toml: [levers] unknown parameter 'policy.head_cop'; did you mean "
            "'policy.head_cap'? (see laotie params)",
        ),
        (
            '"policy.head_cap" = [0.1, 1.5]',
            "bad.toml: [levers] the range of policy.head_cap, (0.1, 1.5), leaves the "
            "parameter's bounds: Policy: head_cap = 1.5 is not allowed; expected a number, "
            "0 ≤ value ≤ 1 share",
        ),
        (
            '"training.follower_gain" = [0, 2.5]',
            "bad.toml: [levers] lever training.follower_gain: high = 2.5; expected a whole number",
        ),
        (
            '"policy.head_cap" = [0.5, 0.1]',
            "bad.toml: [levers] lever policy.head_cap: the range (0.5, 0.1) is empty; expected "
            "low < high",
        ),
        (
            '"policy.head_cap" = 0.5',
            "bad.toml: [levers] the range of policy.head_cap is 0.5; expected (low, high)",
        ),
        (
            '"training.rule" = [0, 1]',
            "bad.toml: [levers] training.rule = 'local' is not a numeric parameter",
        ),
        (
            '"run.days" = [10, 20]',
            "bad.toml: [levers] run.days cannot be a lever: tune's days, seed and replications "
            "decide the runs",
        ),
        (
            "budget = 2",
            "bad.toml: budget = 2; only target 'train', 'operators', 'seeds' "
            f"or 'enrol' takes budget {LEVERS_TAKES}",
        ),
        (
            "stop = false",
            "bad.toml: stop = False; only target 'train', 'operators', 'seeds' "
            f"or 'enrol' takes stop {LEVERS_TAKES}",
        ),
        (
            "shortlist = 9",
            "bad.toml: shortlist = 9; only target 'train', 'operators', 'seeds' "
            "or 'enrol' takes shortlist",
        ),
        (
            "contenders = 1",
            "bad.toml: contenders = 1; only target 'train', 'operators', 'seeds' "
            "or 'enrol' takes contenders",
        ),
        (
            'objective = { producer_net_total = "maximise" }',
            "bad.toml: objective producer_net_total = 'maximise'; expected 'maximize' or "
            "'minimize' for each outcome (a Pareto front), or numbers for all (weights)",
        ),
        (
            'objective = { producer_net_total = "maximize", creator_income_gini = -1 }',
            "bad.toml: objective creator_income_gini = -1; expected 'maximize' or 'minimize'",
        ),
        (
            'objective = { producer_income = "maximize" }',
            "bad.toml: objective 'producer_income' is not an outcome; outcomes: ",
        ),
        ("trials = 0", "bad.toml: trials = 0; expected an integer ≥ 1 and ≤ 100,000"),
        ("batch = 0", "bad.toml: batch = 0; expected an integer ≥ 1 and ≤ 1,000"),
        ("levers = 3", "bad.toml: levers = 3; expected a table of dotted keys and [low, high]"),
        ("days = 5", "training.day = 5 does not fall within the 5 days of the run"),
    ],
)
def test_a_bad_levers_spec_is_refused_in_one_line_naming_the_file_and_the_key(
    tmp_path: Path, line: str, message: str
) -> None:
    section = "[set]" if line.startswith("levers =") else "[levers]"
    text = SPEC.replace("[levers]\n", "") if line.startswith("levers =") else SPEC
    if line.startswith("levers ="):
        text = text.replace('"policy.head_cap" = [0.1, 0.6]\n', "").replace(
            '"training.follower_gain" = [0, 200]\n', ""
        )
    path = _bad(tmp_path, text, line, section)
    with pytest.raises(ScenarioError) as caught:
        load_optimise(path)
    text = str(caught.value)
    assert "\n" not in text
    assert message in text, text
    assert text.startswith(str(path))


def test_several_objectives_need_a_batch_of_two(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_optimise(_bad(tmp_path, FRONT, "batch = 1"))
    assert str(caught.value).endswith(
        "bad.toml: batch = 1 with 2 objectives; expected an integer ≥ 2 (NSGA-II's population)"
    )


def test_a_levers_spec_without_levers_is_refused(tmp_path: Path) -> None:
    text = SPEC.split("[levers]")[0]
    with pytest.raises(ScenarioError) as caught:
        load_optimise(_write(tmp_path, text, "bad.toml"))
    assert str(caught.value).endswith(
        "bad.toml: levers is missing; expected a [levers] table of dotted keys and [low, high], "
        'such as "policy.head_cap" = [0.1, 0.6]'
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("trials = 8", f"bad.toml: trials = 8; only target 'levers' takes trials {TRAIN_TAKES}"),
        (
            'objective = { producer_net_total = "maximize" }',
            "bad.toml: objective weight producer_net_total = 'maximize'; expected a number "
            "(directions, for a Pareto front, are for target 'levers')",
        ),
    ],
)
def test_a_levers_key_in_a_train_spec_is_refused(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_optimise(_bad(tmp_path, TRAIN, line, "[set]"))
    assert str(caught.value).startswith(str(tmp_path / "bad.toml"))
    assert message in str(caught.value)


def test_a_levers_table_in_a_train_spec_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, TRAIN + '[levers]\n"policy.head_cap" = [0.1, 0.6]\n', "bad.toml")
    with pytest.raises(ScenarioError) as caught:
        load_optimise(path)
    assert str(caught.value) == (
        f"{path}: levers = {{'policy.head_cap': [0.1, 0.6]}}; only target 'levers' takes "
        f"levers {TRAIN_TAKES}"
    )


def test_the_spec_from_python_refuses_a_key_of_the_other_target() -> None:
    county = Scenario.preset("poverty_county", scale=0.02)
    with pytest.raises(
        ScenarioError,
        match="budget = 3; only target 'train', 'operators', 'seeds' or 'enrol' takes budget",
    ):
        OptimiseSpec(county, target="levers", levers={"policy.head_cap": (0.1, 0.6)}, budget=3)
    with pytest.raises(ScenarioError, match="trials = 5; only target 'levers' takes trials"):
        OptimiseSpec(county, trials=5)
    spec = OptimiseSpec(county, target="levers", levers={"policy.head_cap": (0.1, 0.6)})
    assert spec.checked_levers[0].key == "policy.head_cap"


def test_the_command_refuses_a_bad_levers_spec_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _bad(tmp_path, SPEC, '"policy.head_cop" = [0.1, 0.5]')
    assert main(["optimise", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("laotie: error: ") and "did you mean 'policy.head_cap'" in err
    assert not (tmp_path / "out").exists()


def test_without_optuna_a_levers_spec_is_refused_before_the_folder_is_made(
    spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else find_spec(name)
    )
    with pytest.raises(LaotieError, match="target = 'levers' needs optuna; install it with pip"):
        run_optimise(load_optimise(spec_file), tmp_path / "out")
    assert not (tmp_path / "out").exists()


# The folder ------------------------------------------------------------------------------


def test_the_folder_holds_the_trials_the_comparison_and_the_settings(done: Path) -> None:
    trials = pd.read_csv(done / "trials.csv")
    assert list(trials["trial"]) == list(range(8))
    assert trials["policy.head_cap"].between(0.1, 0.6).all()
    assert trials["training.follower_gain"].between(0, 200).all()
    assert (trials["training.follower_gain"] == trials["training.follower_gain"].round()).all()
    assert trials["chosen"].sum() == 1
    best = trials[trials["chosen"]].iloc[0]
    assert best["producer_net_total"] == trials["producer_net_total"].max()
    comparison = pd.read_csv(done / "comparison.csv")
    assert list(comparison["setting"]) == ["baseline", "best"]
    assert comparison.loc[1, "policy.head_cap"] == best["policy.head_cap"]
    assert comparison.loc[0, "policy.head_cap"] == 0.3  # the scenario's own
    values = pd.read_csv(done / "values.csv")
    assert list(values.columns) == ["objective", "replication", "baseline", "best"]
    assert len(values) == 3  # the fresh replications
    np.testing.assert_allclose(values[["baseline", "best"]].mean(), comparison["mean"])
    settings = json.loads((done / "settings.json").read_text(encoding="utf-8"))
    assert settings["chosen_trials"] == [int(best["trial"])]
    assert settings["settings"]["best"]["policy.head_cap"] == best["policy.head_cap"]
    assert settings["levers"]["training.follower_gain"]["integer"] is True
    # One stored evaluation per distinct setting and phase: 8 trials, then 2 fresh.
    levers = trials[["policy.head_cap", "training.follower_gain"]]
    distinct = len(set(levers.itertuples(index=False)))
    assert len(list((done / "evaluations").iterdir())) == distinct + 2


def test_running_again_replays_every_evaluation_and_gives_the_same_tables(
    spec_file: Path, done: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    levers = importlib.import_module("laotie.policy.levers")  # the package's levers is a function

    def never(task):  # type: ignore[no-untyped-def]
        raise AssertionError("simulated again")

    before = _tables(done)
    monkeypatch.setattr(levers, "_run_setting", never)
    found = run_optimise(load_optimise(spec_file), done)
    assert isinstance(found, Tuned)
    assert _tables(done) == before


def test_a_partial_folder_resumes_to_byte_identical_tables(
    spec_file: Path, done: Path, tmp_path: Path
) -> None:
    out = tmp_path / "partial"
    shutil.copytree(done, out)
    files = sorted((out / "evaluations").iterdir())
    for path in files[::2]:  # half the evaluations lost
        path.unlink()
    files[1].write_bytes(files[1].read_bytes()[:20])  # one damaged
    for name in TABLES:
        (out / name).unlink()
    run_optimise(load_optimise(spec_file), out)
    assert _tables(out) == _tables(done)


def test_a_pareto_search_resumes_to_byte_identical_tables(tmp_path: Path) -> None:
    # NSGA-II, seeded and told the same values, breeds the same generations.
    spec = load_optimise(_write(tmp_path, FRONT))
    whole, partial = tmp_path / "whole", tmp_path / "partial"
    run_optimise(spec, whole)
    shutil.copytree(whole, partial)
    for path in sorted((partial / "evaluations").iterdir())[1::2]:
        path.unlink()
    run_optimise(spec, partial)
    assert _tables(partial) == _tables(whole)
    assert pd.read_csv(whole / "trials.csv")["chosen"].any()


def test_a_killed_search_keeps_what_finished_and_resumes_to_the_same_answer(
    spec_file: Path, done: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    levers = importlib.import_module("laotie.policy.levers")  # the package's levers is a function

    runs = []
    original = levers._run_setting

    def killed(task):  # type: ignore[no-untyped-def]
        runs.append(task)
        if len(runs) == 6:  # the second trial of the second batch
            raise KeyboardInterrupt
        return original(task)

    out = tmp_path / "killed"
    monkeypatch.setattr(levers, "_run_setting", killed)
    with pytest.raises(KeyboardInterrupt):
        run_optimise(load_optimise(spec_file), out)
    assert len(list((out / "evaluations").iterdir())) == 5  # each finished trial, at once
    assert not (out / "trials.csv").exists()
    monkeypatch.setattr(levers, "_run_setting", original)
    run_optimise(load_optimise(spec_file), out)
    assert _tables(out) == _tables(done)


def test_a_settings_key_does_not_depend_on_the_order_of_its_levers(tmp_path: Path) -> None:
    assert setting_key({"b": 2, "a": np.float64(0.5)}) == (("a", 0.5), ("b", 2))
    calls = []

    def evaluate(settings, seed, replications):  # type: ignore[no-untyped-def]
        calls.append(list(settings))
        return np.array([[[dict(s)["a"] + r for r in range(replications)]] for s in settings])

    stored = Stored(evaluate, tmp_path, shape=(1,))
    first = stored([setting_key({"a": 0.5, "b": 2})], 7, 2)
    again = stored([setting_key({"b": 2, "a": 0.5})], 7, 2)
    assert first.shape == (1, 1, 2) and len(calls) == 1
    np.testing.assert_array_equal(first, again)
    assert stored._read(stored.path(setting_key({"a": 0.5, "b": 2}), 7, 2), 2) is None  # shape


def test_another_levers_spec_is_refused_in_the_folder(spec_file: Path, done: Path) -> None:
    other = dataclasses.replace(load_optimise(spec_file), trials=4)
    with pytest.raises(LaotieError, match="different optimisation"):
        run_optimise(other, done)


# The command -----------------------------------------------------------------------------


def test_the_command_prints_the_best_setting_and_the_comparison(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "command"
    assert main(["optimise", str(spec_file), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr()
    for name in TABLES:
        assert (out / name).stat().st_size > 0
    trials = pd.read_csv(out / "trials.csv")
    best = trials[trials["chosen"]].iloc[0]
    assert "Best of 8 trials (producer_net_total, maximized):" in printed.out
    assert (
        f"  trial {best['trial']}: policy.head_cap = {best['policy.head_cap']:.4g}, "
        f"training.follower_gain = {int(best['training.follower_gain'])}  (" in printed.out
    )
    assert "against the scenario's own setting (policy.head_cap = 0.3, " in printed.out
    comparison = pd.read_csv(out / "comparison.csv")
    assert f"difference {comparison['difference'].iloc[1]:+.4g}" in printed.out
    assert "trials.csv, comparison.csv, values.csv, settings.json" in printed.out
    assert "levers policy.head_cap, training.follower_gain over 8 trials" in printed.err


def test_the_command_prints_the_pareto_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(tmp_path, FRONT.replace("trials = 8", "trials = 4"))
    out = tmp_path / "front"
    assert main(["optimise", str(spec), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    trials = pd.read_csv(out / "trials.csv")
    front = int(trials["chosen"].sum())
    assert (
        f"Pareto front, {front} of 4 trials (producer_income_total maximized, "
        "creator_income_gini minimized):" in printed
    )
    comparison = pd.read_csv(out / "comparison.csv")
    assert set(comparison["setting"]) == {"baseline", *(f"front {i}" for i in range(front))}
    assert set(comparison["objective"]) == {"producer_income_total", "creator_income_gini"}
    values = pd.read_csv(out / "values.csv")
    assert len(values) == 2 * 3  # two objectives, three fresh replications


def test_the_help_mentions_the_levers_target(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["optimise", "--help"])
    text = capsys.readouterr().out
    assert 'target = "levers"' in text and "[levers]" in text and "Pareto front" in text


# The example -----------------------------------------------------------------------------


def test_the_example_spec_loads_and_runs_smaller(tmp_path: Path) -> None:
    spec = load_optimise(EXAMPLE)
    assert spec.target == "levers" and spec.trials == 16
    assert [lever.key for lever in spec.checked_levers] == [
        "policy.head_cap",
        "policy.discovery_per_active",
    ]
    smaller = EXAMPLE.read_text(encoding="utf-8")
    for key, value in [
        ("scale", "0.02"),
        ("trials", "4"),
        ("replications", "2"),
        ("fresh", "2"),
    ]:
        smaller = "\n".join(
            f"{key} = {value}" if row.startswith(f"{key} ") else row for row in smaller.splitlines()
        )
    smaller = smaller.replace("target =", "days = 30\ntarget =")
    found = run_optimise(load_optimise(_write(tmp_path, smaller)), tmp_path / "out")
    assert isinstance(found, Tuned) and len(found.trials) == 4
    assert set(found.best) == {"policy.head_cap", "policy.discovery_per_active"}


@pytest.mark.integration
def test_workers_give_the_same_tables(spec_file: Path, done: Path, tmp_path: Path) -> None:
    from laotie.executors import Processes

    out = tmp_path / "workers"
    run_optimise(load_optimise(spec_file), out, executor=Processes(2))
    assert _tables(out) == _tables(done)


def test_training_levers_are_judged_for_the_runs_days_not_the_scenarios() -> None:
    from laotie import graph
    from laotie.policy import LeverProgramme, levers

    county = Scenario.preset("poverty_county", scale=0.02)  # trains on day 30 of 120
    ranges = {"training.follower_gain": (0, 200)}
    assert levers(county, ranges)[0].key == "training.follower_gain"
    with pytest.raises(LaotieError, match="training.day = 30 does not fall within the 30 days"):
        levers(county, ranges, days=30)
    programme = LeverProgramme(county, graph.city(county.city, seed=1), days=30)
    with pytest.raises(LaotieError, match="training.day = 30 does not fall within the 30 days"):
        programme.levers(ranges)
