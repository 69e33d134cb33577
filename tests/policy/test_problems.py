"""One writing of each programme's rule: a spec refuses a scenario where no set could matter
with the very sentence the programme refuses it with (``problem``), naming where to set it."""

from __future__ import annotations

from pathlib import Path

import pytest

from laotie import LaotieError, Scenario, ScenarioError, graph
from laotie.policy import load_optimise
from laotie.policy.training import PROGRAMMES

BASE = {
    "information.n_messages": 2,
    "information.interval": 3,
    "information.training_day": 1,
    "training.day": 2,
}
CASES = [
    ("train", {"training.day": 8}),
    (
        "train",
        {
            "training.authenticity_gain": 0.0,
            "training.content_quality_gain": 0.0,
            "training.follower_gain": 0,
        },
    ),
    ("operators", {"information.training_day": 8}),
    ("operators", {"information.n_messages": 0}),
    ("operators", {"information.first_day": 8}),
    ("operators", {"information.training_gain": 0.0}),
    ("seeds", {"information.n_messages": 0}),
    ("seeds", {"information.first_day": 9}),
]


def test_enrolment_refuses_no_scenario() -> None:
    # Every scenario lists an enrolled producer's specialty somewhere (listings ≥ 1 and a
    # city has ≥ 1 storefront): the rule has nothing to refuse.
    scenario = Scenario.preset("poverty_county", scale=0.02)
    assert PROGRAMMES["enrol"].problem(scenario, 1) is None
    assert set(PROGRAMMES) == {"train", "operators", "seeds", "enrol"}


@pytest.fixture(scope="module")
def city() -> graph.TrustGraph:
    return graph.city(Scenario.preset("county", scale=0.02).city, seed=1)


@pytest.mark.parametrize(("target", "changes"), CASES)
def test_the_spec_and_the_programme_refuse_with_one_sentence(
    tmp_path: Path, city: graph.TrustGraph, target: str, changes: dict[str, object]
) -> None:
    fine = Scenario.preset("county", scale=0.02).replace(**BASE)
    scenario = fine.replace(**changes)
    kind = PROGRAMMES[target]
    why = kind.problem(scenario, 8)
    assert why is not None and kind.problem(fine, 8) is None
    with pytest.raises(LaotieError) as refused:
        kind(scenario, city, "information_reach", days=8)
    assert str(refused.value) == f"policy: {why}"
    table = "\n".join(f'"{key}" = {value!r}' for key, value in (BASE | changes).items())
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'scenario = "county"\nscale = 0.02\ntarget = "{target}"\n'
        f'objective = "information_reach"\ndays = 8\n[set]\n{table}\n'.replace("'", '"'),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as checked:
        load_optimise(spec)
    said = kind.problem(scenario, 8, " in the [set] table")
    assert said is not None and str(checked.value) == f"{spec}: {said}"
    assert said.replace(" in the [set] table", "") == why


@pytest.mark.parametrize(
    ("target", "who"), [("seeds", "who is seeded"), ("operators", "whose operators are trained")]
)
@pytest.mark.parametrize(
    "objective", ["producer_net_total", {"information_reach": 1.0, "creator_income_gini": -1.0}]
)
def test_an_objective_messages_cannot_change_is_refused(
    tmp_path: Path,
    city: graph.TrustGraph,
    target: str,
    who: str,
    objective: str | dict[str, float],
) -> None:
    # Information changes no purchase (docs/model.md): every set of seeds or operators would
    # have the same value of any outcome but the messages' reach. Refused in one sentence.
    name = objective if isinstance(objective, str) else "creator_income_gini"
    why = (
        f"objective {name} does not depend on {who}: government messages change no purchase "
        "(docs/model.md, Information), so every set has the same value; choose "
        "information_reach or information_rural_reach"
    )
    scenario = Scenario.preset("county", scale=0.02).replace(**BASE)
    kind = PROGRAMMES[target]
    with pytest.raises(LaotieError) as refused:
        kind(scenario, city, objective, days=8)
    assert str(refused.value) == f"policy: {why}"
    kind(scenario, city, "information_rural_reach", days=8)
    table = "\n".join(f'"{key}" = {value!r}' for key, value in BASE.items())
    goal = (
        f'"{objective}"'
        if isinstance(objective, str)
        else "{ " + ", ".join(f"{k} = {v}" for k, v in objective.items()) + " }"
    )
    spec = tmp_path / "spec.toml"
    spec.write_text(
        f'scenario = "county"\nscale = 0.02\ntarget = "{target}"\nobjective = {goal}\n'
        f"days = 8\n[set]\n{table}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as checked:
        load_optimise(spec)
    assert str(checked.value) == f"{spec}: {why}"


@pytest.mark.parametrize(
    ("changes", "advice"),
    [
        ({"information.n_messages": 0}, 'set "information.n_messages" in the [set] table'),
        (
            {"information.first_day": 9},
            'set "information.first_day" from 0 to 7 in the [set] table, or lengthen days',
        ),
    ],
)
@pytest.mark.parametrize("target", ["seeds", "operators"])
def test_no_message_within_the_runs_names_the_key_to_set(
    target: str, changes: dict[str, object], advice: str
) -> None:
    # Messages due after the runs: the first day is what to change, not the number.
    scenario = Scenario.preset("county", scale=0.02).replace(**BASE | changes)
    why = PROGRAMMES[target].problem(scenario, 8, " in the [set] table")
    assert why is not None and why.endswith(advice), why
