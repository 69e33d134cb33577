"""``laotie optimise``: a spec checked before anything runs; a folder that resumes to the same
answer, replaying its stored evaluations; other specs and damaged files refused or redone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from laotie import graph
from laotie.cli import main
from laotie.errors import LaotieError, ScenarioError
from laotie.policy import OptimiseSpec, Stored, TrainingProgramme, load_optimise, run_optimise

SPEC = """\
scenario = "poverty_county"
scale = 0.02
seed = 3
days = 30
budget = 2
replications = 2
fresh = 3
shortlist = 4
contenders = 1
stop = false
[set]
"training.day" = 5
"""

TABLES = ("steps.csv", "comparison.csv", "values.csv", "sets.json")


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("optimise") / "optimise.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def done(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One whole optimisation's folder, uninterrupted."""
    out = tmp_path_factory.mktemp("whole")
    run_optimise(load_optimise(spec_file), out)
    return out


def test_the_spec_reads_its_scenario_scale_and_changes(spec_file: Path) -> None:
    spec = load_optimise(spec_file)
    assert spec.scenario.training.day == 5
    assert spec.run_days == 30
    assert spec.scenario.city.n_residents < 5000  # 2 % of the county's 80,000
    assert spec.to_dict()["graph_seed"] == 3  # the seed, unless given
    assert spec.to_dict()["scenario"]["training"]["day"] == 5


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("budgt = 2", "unknown key 'budgt'; did you mean 'budget'"),
        ("budget = 0", "budget = 0; expected a number ≥ 1"),
        ("budget = 0.5", "budget = 0.5; expected a number ≥ 1 (each target costs 1"),
        ("objective = { producer_net_total = 0 }", "producer_net_total = 0; expected a finite"),
        ('objective = "monthly_repurchase_trust"', "runs of 30 days never define it"),
        ("replications = 1", "replications = 1; expected an integer ≥ 2"),
        ('objective = "income"', "objective 'income' is not an outcome"),
        ('objective = { producer_net_total = "1" }', "objective weight producer_net_total"),
        ('target = "recruit"', "target = 'recruit'; expected one of 'train'"),
        ("scale = -1", "scale = -1; expected a number, 0 < scale"),
        ("scale = 1e-9", "scale = 1e-09: scenario 'poverty_county': producers.n_producers"),
        ('scenario = "poverty_countie"', "scenario = 'poverty_countie': unknown scenario"),
        ('scenario = "missing.toml"', "scenario = 'missing.toml': "),
        ('stop = "no"', "stop = 'no'; expected true or false"),
        ("days = 4", "training.day = 5 does not fall within the 4 days"),
        ("days = 5", 'set "training.day" from 0 to 4 in the [set] table'),
    ],
)
def test_a_bad_spec_is_refused_naming_the_file_and_the_key(
    tmp_path: Path, line: str, message: str
) -> None:
    key = line.split(" ")[0]
    kept = [row for row in SPEC.splitlines() if not row.startswith(f"{key} ")]
    i = kept.index("[set]")
    path = tmp_path / "bad.toml"
    path.write_text("\n".join([*kept[:i], line, *kept[i:]]) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="bad.toml") as caught:
        load_optimise(path)
    assert message in str(caught.value)


def test_a_spec_with_a_byte_order_mark_is_read_as_without(
    bom_twins: Callable[[str, str], tuple[Path, Path]],
) -> None:
    plain, marked = bom_twins("optimise.toml", SPEC)
    assert load_optimise(marked) == load_optimise(plain)


def test_a_bad_scenario_change_names_the_spec(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SPEC.replace('"training.day" = 5', '"training.dya" = 5'), encoding="utf-8")
    with pytest.raises(
        ScenarioError, match=r"bad.toml: \[set\] .*unknown key 'dya'; did you mean 'day'"
    ):
        load_optimise(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('"training.rule" = "followers"', "training.rule = 'followers'; the policy chooses"),
        ('"training.n_creators" = 5', "training.n_creators = 5; the budget decides"),
        ('"run.seed" = 9', "run.seed = 9; the spec's seed decides every replication"),
        ('"run.days" = 60', "run.days = 60; set days instead"),
        (
            '"training.authenticity_gain" = 0\n"training.content_quality_gain" = 0\n'
            '"training.follower_gain" = 0',
            "all 0: training a creator changes nothing",
        ),
    ],
)
def test_a_change_the_optimisation_would_ignore_is_refused(
    tmp_path: Path, change: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SPEC + change + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="bad.toml") as caught:
        load_optimise(path)
    assert message in str(caught.value)


def test_the_spec_from_python_refuses_a_scenario_by_name() -> None:
    with pytest.raises(ScenarioError, match="scenario = 'poverty_county'; expected a Scenario"):
        OptimiseSpec("poverty_county")  # type: ignore[arg-type]


def test_the_folder_holds_the_tables_and_the_evaluations(done: Path) -> None:
    for name in TABLES:
        assert (done / name).stat().st_size > 0
    steps = pd.read_csv(done / "steps.csv")
    assert len(steps) == 2  # stop = false spends the budget of 2
    comparison = pd.read_csv(done / "comparison.csv")
    assert set(comparison["policy"]) >= {"none", "optimised", "most followers", "random"}
    values = pd.read_csv(done / "values.csv", index_col="replication")
    assert len(values) == 3  # the fresh replications


def test_policies_with_the_same_targets_have_the_same_values(done: Path) -> None:
    import json

    sets = json.loads((done / "sets.json").read_text(encoding="utf-8"))["sets"]
    values = pd.read_csv(done / "values.csv", index_col="replication")
    # Three candidates, five policies of two: some policies are the same set, in any order.
    same = [(a, b) for a in sets for b in sets if a < b and set(sets[a]) == set(sets[b])]
    assert same
    for a, b in same:
        np.testing.assert_array_equal(values[a], values[b], err_msg=f"{a} and {b}")


def test_running_again_replays_every_evaluation_and_gives_the_same_tables(
    spec_file: Path, done: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulated: list[int] = []
    original = Stored.__call__

    def counting(self: Stored, sets, seed, replications):  # type: ignore[no-untyped-def]
        answer = original(self, sets, seed, replications)
        simulated.append(self.simulated)
        return answer

    before = {name: (done / name).read_bytes() for name in TABLES}
    monkeypatch.setattr(Stored, "__call__", counting)
    run_optimise(load_optimise(spec_file), done)
    assert simulated and simulated[-1] == 0  # nothing simulated again
    assert {name: (done / name).read_bytes() for name in TABLES} == before


def test_an_interrupted_optimisation_resumes_to_the_same_answer(
    spec_file: Path, done: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import laotie.policy.training as training

    runs = []
    original = training._run_set

    def interrupted(task):  # type: ignore[no-untyped-def]
        runs.append(task[2])
        if len(runs) == 4:  # the empty set, then the third set of the first pass
            raise KeyboardInterrupt
        return original(task)

    out = tmp_path / "resumed"
    monkeypatch.setattr(training, "_run_set", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_optimise(load_optimise(spec_file), out)
    kept = len(list((out / "evaluations").iterdir()))
    assert kept == len(runs) - 1  # every set that finished is stored, the one in flight not
    assert not (out / "steps.csv").exists()
    monkeypatch.setattr(training, "_run_set", original)
    run_optimise(load_optimise(spec_file), out)
    for name in TABLES:
        assert (out / name).read_bytes() == (done / name).read_bytes(), name


def test_a_damaged_evaluation_is_simulated_again(
    spec_file: Path, done: Path, tmp_path: Path
) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(done, out)
    files = sorted((out / "evaluations").iterdir())
    files[0].write_bytes(files[0].read_bytes()[:20])  # truncated
    files[1].unlink()  # lost
    with files[2].open("wb") as npy:  # a .npy where a .npz belongs (np.load: a TypeError)
        np.save(npy, np.zeros(2))
    spec = load_optimise(spec_file)
    city = graph.city(spec.scenario.city, seed=3)
    stored = Stored(TrainingProgramme(spec.scenario, city, days=30), out / "evaluations")
    assert stored._read(files[0], 2) is None
    assert stored._read(files[2], 2) is None
    run_optimise(spec, out, graph=city)
    for name in TABLES:
        assert (out / name).read_bytes() == (done / name).read_bytes(), name


def test_another_spec_or_other_code_is_refused_in_the_folder(
    spec_file: Path, done: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    other = dataclasses.replace(load_optimise(spec_file), budget=3)
    with pytest.raises(LaotieError, match="different optimisation"):
        run_optimise(other, done)
    import laotie.policy.run as run

    monkeypatch.setattr(run, "code_fingerprint", lambda: "0.0+other")  # the model changed
    with pytest.raises(LaotieError, match="made by other code"):
        run_optimise(load_optimise(spec_file), done)
    monkeypatch.undo()
    monkeypatch.setattr(run, "policy_fingerprint", lambda: run.code_fingerprint() + "+other")
    with pytest.raises(LaotieError, match="made by other code"):  # the policy's code changed
        run_optimise(load_optimise(spec_file), done)


@pytest.mark.parametrize("text", ["", "{", "[]", "null", "3", '"spec"'])
def test_a_damaged_record_of_the_folder_is_refused_in_one_line(
    spec_file: Path, tmp_path: Path, text: str
) -> None:
    (tmp_path / "optimise.json").write_text(text, encoding="utf-8")
    with pytest.raises(LaotieError, match=r"optimise.json: .*delete .* to start over"):
        run_optimise(load_optimise(spec_file), tmp_path)


def test_evaluations_without_the_record_of_their_spec_are_refused(
    spec_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "evaluations").mkdir()
    (tmp_path / "evaluations" / "0123.npz").write_bytes(b"")
    with pytest.raises(LaotieError, match="unknown optimisation .*use another folder"):
        run_optimise(load_optimise(spec_file), tmp_path)
    assert not (tmp_path / "optimise.json").exists()


def test_of_two_optimisations_starting_in_one_folder_at_once_one_is_refused(
    spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses
    import json

    import laotie.policy.run as run

    spec = load_optimise(spec_file)
    rival = dataclasses.replace(spec, budget=3)
    claim = json.dumps({"spec": rival.to_dict(), "code": run.policy_fingerprint()})
    (tmp_path / "evaluations").mkdir()
    listing = Path.iterdir

    def raced(self: Path):  # type: ignore[no-untyped-def]
        # The rival claims the folder after this run found it free, before it claims it.
        if self == tmp_path / "evaluations":
            (tmp_path / "optimise.json").write_text(claim, encoding="utf-8")
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", raced)
    with pytest.raises(LaotieError, match="different optimisation"):
        run_optimise(spec, tmp_path)
    assert (tmp_path / "optimise.json").read_text(encoding="utf-8") == claim  # the rival's


def test_the_policy_fingerprint_follows_the_policy_sources(tmp_path: Path) -> None:
    import shutil

    import laotie.policy.run as run

    folder = tmp_path / "policy"
    shutil.copytree(Path(run.__file__).parent, folder)
    assert run.policy_fingerprint(folder) == run.policy_fingerprint()
    training = folder / "training.py"
    training.write_text(training.read_text() + "\n# changed\n")
    assert run.policy_fingerprint(folder) != run.policy_fingerprint()


def test_stored_values_are_keyed_by_set_seed_and_replications(tmp_path: Path) -> None:
    def evaluate(sets, seed, replications):  # type: ignore[no-untyped-def]
        return np.array([[len(s) + seed + r for r in range(replications)] for s in sets], float)

    stored = Stored(evaluate, tmp_path)
    first = stored([(1, 2), (3,)], 7, 2)
    assert stored.simulated == 2
    again = stored([(3,), (1, 2), (1,)], 7, 2)
    assert stored.simulated == 3 and stored.replayed == 2  # only (1,) is new
    np.testing.assert_array_equal(again[:2], first[::-1])
    stored([(3,)], 8, 2)  # another seed
    stored([(3,)], 7, 3)  # more replications
    assert stored.simulated == 5


@pytest.mark.parametrize(
    "values", [[1.0, np.nan], [1.0, np.inf], [1.0, 2.0, 3.0], [[1.0, 2.0]]], ids=str
)
def test_a_stored_value_that_is_not_finite_or_of_another_shape_is_evaluated_again(
    tmp_path: Path, values: list
) -> None:
    from laotie._io import write_npz

    def evaluate(sets, seed, replications):  # type: ignore[no-untyped-def]
        return np.full((len(sets), replications), 5.0)

    stored = Stored(evaluate, tmp_path)
    write_npz(stored.path((1,), 7, 2), {"values": np.asarray(values)})
    np.testing.assert_array_equal(stored([(1,)], 7, 2), [[5.0, 5.0]])
    assert stored.simulated == 1 and stored.replayed == 0
    np.testing.assert_array_equal(stored([(1,)], 7, 2), [[5.0, 5.0]])  # stored afresh
    assert stored.replayed == 1


def test_the_command_prints_the_picks_and_the_comparison(
    spec_file: Path, done: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["optimise", str(spec_file), "--out", str(done), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Chosen (gain; the budget is spent" in out
    assert "the best heuristic" in out and "difference" in out
    comparison = pd.read_csv(done / "comparison.csv")
    assert f"{comparison['mean'].iloc[0]:.4g}" in out


def test_the_command_refuses_a_bad_spec_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC.replace("budget = 2", "budget = -2"), encoding="utf-8")
    assert main(["optimise", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("laotie: error: ") and "budget = -2" in err
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_the_command_refuses_a_file_for_the_folder(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").write_text("mine", encoding="utf-8")
    assert main(["optimise", str(spec_file), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "out is a file; expected a folder" in capsys.readouterr().err
    assert (tmp_path / "out").read_text(encoding="utf-8") == "mine"


@pytest.mark.integration
def test_workers_give_the_same_answer(spec_file: Path, done: Path, tmp_path: Path) -> None:
    from laotie.executors import Processes

    out = tmp_path / "workers"
    run_optimise(load_optimise(spec_file), out, executor=Processes(2))
    for name in TABLES:
        assert (out / name).read_bytes() == (done / name).read_bytes(), name
