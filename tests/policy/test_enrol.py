"""Producers to enrol in a 精准扶贫 programme, judged by simulation: the candidates, a set's
values against the engine given those producers, the checks, and ``laotie optimise`` end to
end."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from laotie import Engine, LaotieError, Scenario, ScenarioError, graph
from laotie.policy import EnrolmentProgramme, SeedProgramme, TrainingProgramme, load_optimise
from laotie.results import run_outcomes
from tests.policy.command_line import optimise


@pytest.fixture(scope="module")
def programme() -> EnrolmentProgramme:
    county = Scenario.preset("poverty_county", scale=0.05)
    return EnrolmentProgramme(
        county, graph.city(county.city, seed=2), "producer_income_total", days=20
    )


def test_candidates_are_the_rural_residents(programme: EnrolmentProgramme) -> None:
    found = programme.candidates()
    g = programme.graph
    assert found.index.tolist() == np.flatnonzero(g.resident & g.rural).tolist()
    audience = SeedProgramme.audience(g)
    np.testing.assert_array_equal(found["followers"], audience["followers"][found.index])
    assert found["rural"].all() and (found["cost"] == 1).all()
    assert found["region"].tolist() == [g.region_names[g.region[i]] for i in found.index]


def test_a_set_is_the_engine_with_those_producers(programme: EnrolmentProgramme) -> None:
    found = programme.candidates()
    ids = tuple(int(i) for i in found.index[::25][:12])
    values = programme([ids, (), ids[:3], ids[:3][::-1]], 5, 3)
    np.testing.assert_array_equal(values[2], values[3])
    assert (values[1] == 0).all()  # nobody enrolled: no producer's income
    seeds = np.random.SeedSequence(5).spawn(3)
    engine = Engine(programme.graph, programme.scenario, seed=seeds, enrolled=list(ids))
    engine.run(20)
    expected = [run_outcomes(engine.replication(r))["producer_income_total"] for r in range(3)]
    np.testing.assert_array_equal(values[0], expected)
    assert (values[0] > 0).all()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ((10**7,), "names 10000000, which is not a candidate producer"),
        ((4, 4), "names producer 4 twice"),
    ],
)
def test_a_set_is_checked_before_anything_runs(
    programme: EnrolmentProgramme, bad: tuple[int, ...], message: str
) -> None:
    first = int(programme.candidates().index[0])
    if bad == (4, 4):
        bad = (first, first)
        message = f"names producer {first} twice"
    with pytest.raises(LaotieError, match=re.escape(message)):
        programme([bad], 5, 2)


SPEC = """scenario = "poverty_county"
scale = 0.05
seed = 1
target = "enrol"
objective = "producer_income_total"
budget = 2
replications = 3
fresh = 4
shortlist = 6
days = 20
"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[set]\n"producers.n_producers" = 5\n',
            "[set] producers.n_producers = 5; the policy chooses the producers (target)",
        ),
        ("trials = 3\n", "only target 'levers' takes trials"),
    ],
)
def test_an_enrol_spec_is_checked(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "enrol.toml"
    path.write_text(SPEC.replace("days = 20\n", "days = 20\n" + extra), encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: ")) as err:
        load_optimise(path)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("target", "extra"),
    [
        ("train", '"training.day" = 5\n'),
        ("seeds", '"information.n_messages" = 2\n'),
        ("levers", ""),
    ],
)
def test_other_targets_keep_the_scenarios_producers(
    tmp_path: Path, target: str, extra: str
) -> None:
    # Only target "enrol" chooses the producers: the others take producers.n_producers.
    path = tmp_path / "spec.toml"
    levers = '[levers]\n"producers.listings" = [1, 4]\n' if target == "levers" else ""
    spec = SPEC.replace('target = "enrol"', f'target = "{target}"')
    if target == "seeds":  # messages change no purchase: seeds are judged by their reach
        spec = spec.replace('"producer_income_total"', '"information_reach"')
    if target == "levers":
        for line in ("budget = 2\n", "shortlist = 6\n"):
            spec = spec.replace(line, "")
    path.write_text(
        spec + f'[set]\n"producers.n_producers" = 50\n{extra}{levers}', encoding="utf-8"
    )
    assert load_optimise(path).scenario.producers.n_producers == 50


def test_laotie_optimise_chooses_producers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    path = tmp_path / "enrol.toml"
    path.write_text(SPEC, encoding="utf-8")
    spec = load_optimise(path)
    assert spec.target == "enrol" and spec.batch == 1
    sets, printed = optimise(path, tmp_path / "out", capsys)
    g = graph.city(spec.scenario.city, seed=1)
    chosen = sets["sets"]["optimised"]
    assert all(g.resident[t] and g.rural[t] for t in sets["shortlist"])
    assert set(chosen) <= set(sets["shortlist"]) and len(chosen) <= 2
    assert "On 4 fresh replications" in printed


@pytest.mark.parametrize(
    "objective",
    [
        "producer_net_effect",
        "producers_gaining_share",
        "producers_losing_share",
        "producer_gain_top10_share",
        {"producer_net_total": 1.0, "producers_losing_share": -1.0},
    ],
)
def test_an_objective_undefined_without_producers_is_refused_before_anything_runs(
    programme: EnrolmentProgramme, tmp_path: Path, objective: str | dict[str, float]
) -> None:
    # Greedy selection values the empty set first, and nobody enrolled has no ratio or
    # share of producers (NaN): refused with the programme, and by a spec before the graph.
    name = objective if isinstance(objective, str) else "producers_losing_share"
    why = (
        f"objective {name} is not defined when nobody is enrolled (NaN: a ratio or share of "
        "the producers), and every set of producers is judged against enrolling nobody; "
        "choose a total: producer_net_total, producer_income_total or producers_with_income"
    )
    with pytest.raises(LaotieError, match=re.escape(f"policy: {why}")):
        EnrolmentProgramme(programme.scenario, programme.graph, objective, days=20)
    path = tmp_path / "enrol.toml"
    table = (
        f'objective = "{objective}"\n'
        if isinstance(objective, str)
        else "objective = { "
        + ", ".join(f"{key} = {value}" for key, value in objective.items())
        + " }\n"
    )
    path.write_text(SPEC.replace('objective = "producer_income_total"\n', table), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_optimise(path)
    assert str(err.value) == f"{path}: {why}"
    # Training creators takes them (a run without training still has producers).
    TrainingProgramme(programme.scenario, programme.graph, objective, days=40)
