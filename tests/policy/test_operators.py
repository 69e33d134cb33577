"""Regions whose government accounts' operators are trained, judged by simulation: the
candidates and their proxies, the sets' values against the rules they generalise, the spec's
checks and ``laotie optimise`` end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from laotie import Engine, LaotieError, Scenario, ScenarioError, graph
from laotie.cli import main
from laotie.graph._core import GOV
from laotie.policy import OperatorProgramme, load_optimise
from laotie.results import run_outcomes

MESSAGES = {
    "information.n_messages": 2,
    "information.interval": 4,
    "information.training_day": 1,
    "information.training_gain": 0.5,
    "run.days": 8,
}


@pytest.fixture(scope="module")
def programme() -> OperatorProgramme:
    county = Scenario.preset("county", scale=0.1).replace(**MESSAGES)
    return OperatorProgramme(county, graph.city(county.city, seed=2), "information_rural_reach")


def test_candidates_are_the_regions_with_government_accounts(
    programme: OperatorProgramme,
) -> None:
    found = programme.candidates()
    g = programme.graph
    gov = np.flatnonzero(g.creator_kind == GOV)
    assert sorted(found.index) == sorted(set(g.region[gov].tolist())) and len(found) >= 2
    for region, row in found.iterrows():
        mine = gov[g.region[gov] == region]
        assert row["followers"] == g.followers()[mine].sum()
        assert row["accounts"] == len(mine)
        lived = g.resident & (g.region == region)
        assert row["rural"] == pytest.approx(g.rural[lived].mean())
        assert row["region"] == g.region_names[region]
    assert (found["cost"] == 1).all()


def test_a_set_is_the_engine_with_those_operators_trained(programme: OperatorProgramme) -> None:
    # Every region: the rule 'all' (every operator trained), replication by replication;
    # none: no training at all; the same set twice, the same numbers.
    ids = tuple(int(i) for i in programme.candidates().index)
    values = programme([ids, (), ids[:1], ids[:1]], 5, 3)
    np.testing.assert_array_equal(values[2], values[3])
    seeds = np.random.SeedSequence(5).spawn(3)
    base = programme.scenario.replace(**{"information.training_rule": "all"})
    untrained = base.replace(**{"information.training_day": -1})
    for row, scenario in ((0, base), (1, untrained)):
        engine = Engine(programme.graph, scenario, seed=seeds)
        engine.run(8)
        expected = [
            run_outcomes(engine.replication(r))["information_rural_reach"] for r in range(3)
        ]
        np.testing.assert_array_equal(values[row], expected)
    # Training raises the reach (a gain of 0.5 in content quality, in every replication).
    assert (values[0] > values[1]).all()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"information.training_day": 9}, "information.training_day = 9 does not fall within"),
        ({"information.n_messages": 0}, "no government message is posted within the 8 days"),
        ({"information.first_day": 8}, "no government message is posted within the 8 days"),
        ({"information.training_gain": 0.0}, "training_gain = 0: training an operator changes"),
        ({"information.training_day": -1}, "information.training_day = -1 does not fall within"),
        ({"information.first_day": 8, "information.training_day": 2}, "no government message"),
        ({"information.first_day": 7, "information.training_day": 2}, None),
    ],
)
def test_a_programme_that_cannot_matter_is_refused(
    programme: OperatorProgramme, changes: dict[str, object], message: str
) -> None:
    scenario = programme.scenario.replace(
        **{"information.training_rule": "all", "run.days": 20} | changes
    )
    if message is None:  # a message posted on the last day: training can matter
        OperatorProgramme(scenario, programme.graph, "information_reach", days=8)
        return
    with pytest.raises(LaotieError, match=message):
        OperatorProgramme(scenario, programme.graph, "information_reach", days=8)


@pytest.mark.parametrize("days", ["5", -3, 0, True, 2.5, 100_001])
def test_days_that_are_not_a_run_length_are_refused(
    programme: OperatorProgramme, days: object
) -> None:
    with pytest.raises(LaotieError, match=re.escape(f"policy: days = {days!r}; expected an")):
        OperatorProgramme(programme.scenario, programme.graph, "information_reach", days=days)


def test_a_graph_without_government_accounts_is_refused() -> None:
    county = Scenario.preset("county", scale=0.05).replace(
        **MESSAGES | {"city.gov_accounts_per_region": 0}
    )
    with pytest.raises(LaotieError, match="the graph has no government account"):
        OperatorProgramme(county, graph.city(county.city, seed=1), "information_reach")


SPEC = """scenario = "county"
scale = 0.1
seed = 1
target = "operators"
objective = "information_rural_reach"
budget = 2
replications = 3
fresh = 4
days = 8

[set]
"information.n_messages" = 2
"information.interval" = 4
"information.training_day" = 1
"""


def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "operators.toml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "[set]",
            '[set]\n"information.training_rule" = "all"',
            "[set] information.training_rule = 'all'; the policy chooses whose operators",
        ),
        ('training_day" = 1', 'training_day" = 8', "information.training_day = 8 does not fall"),
        ('n_messages" = 2', 'n_messages" = 0', "no government message is posted within the 8"),
        ("[set]", '[set]\n"information.training_gain" = 0.0', "information.training_gain = 0"),
        ("days = 8", "days = 8\ntrials = 4", "only target 'levers' takes trials"),
        ('training_day" = 1', 'training_day" = -1', "information.training_day = -1 does not"),
        ('"information.interval" = 4', '"information.first_day" = 8', "no government message"),
        (
            "[set]",
            '[set]\n"city.gov_accounts_per_region" = 0',
            "city.gov_accounts_per_region = 0: no region has a government account",
        ),
        (
            "[set]",
            '[set]\n"training.rule" = "targeted"',
            "training.rule = 'targeted' trains the targets a policy gives, and only target 'train'",
        ),
        (
            'target = "operators"\nobjective = "information_rural_reach"\nbudget = 2',
            'target = "levers"\nobjective = "information_rural_reach"\n[levers]\n'
            '"information.share_prob" = [0.0, 0.1]',
            "information.training_rule = 'targeted' trains the targets a policy gives, and only "
            "target 'operators'",
        ),
    ],
)
def test_an_operators_spec_is_checked(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = spec_file(tmp_path)
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    if "levers" in new:  # the rule is set in [set], which must come after [levers]' keys
        body, changes = text.split("[set]\n")
        head, levers = body.split("[levers]\n")
        text = f'{head}{changes}"information.training_rule" = "targeted"\n[levers]\n{levers}'
        text = text.replace('"information.n_messages"', '[set]\n"information.n_messages"', 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_optimise(path)


def test_the_budget_is_for_the_set_targets_only(tmp_path: Path) -> None:
    spec = load_optimise(spec_file(tmp_path))
    assert spec.target == "operators" and spec.budget == 2 and spec.batch == 1
    assert spec.to_dict()["budget"] == 2


def test_laotie_optimise_chooses_regions_and_names_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec_file(tmp_path)
    out = tmp_path / "out"
    assert main(["optimise", str(path), "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    sets = json.loads((out / "sets.json").read_text(encoding="utf-8"))
    names = sets["names"]
    chosen = sets["sets"]["optimised"]
    assert 1 <= len(chosen) <= 2
    g = graph.city(load_optimise(path).scenario.city, seed=1)
    for target in chosen:
        assert names[str(target)] == g.region_names[target]
        assert f"{names[str(target)]} ({target}): gain" in printed
    # Resumed from the stored evaluations: the same tables.
    first = (out / "comparison.csv").read_bytes()
    assert main(["optimise", str(path), "--out", str(out), "--quiet"]) == 0
    assert (out / "comparison.csv").read_bytes() == first


def test_the_example_spec_is_valid() -> None:
    example = Path(__file__).parents[2] / "experiments" / "policy" / "operators_county.toml"
    spec = load_optimise(example)
    assert spec.target == "operators" and spec.objective == "information_rural_reach"
    assert 0 <= spec.scenario.information.training_day < spec.run_days
