"""Residents seeded with the government messages, judged by simulation: the candidates and
their proxies, a set's values against the engine given those seeds, the checks of sets and
specs, the heuristics, and ``laotie optimise`` end to end."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from laotie import Engine, LaotieError, Scenario, ScenarioError, TrustGraph, graph
from laotie.cli import main
from laotie.graph._core import CITY, FOLLOW, LOCAL
from laotie.policy import SeedProgramme, heuristic_sets, load_optimise
from laotie.results import run_outcomes
from tests.policy.command_line import optimise

MESSAGES = {
    "information.n_messages": 2,
    "information.first_day": 1,
    "information.interval": 3,
    "information.city_feed": 0.002,
    "information.hometown_feed": 0.005,
    "information.share_prob": 0.2,
    "information.offline_prob": 0.2,
    "run.days": 8,
}


@pytest.fixture(scope="module")
def programme() -> SeedProgramme:
    county = Scenario.preset("county", scale=0.05).replace(**MESSAGES)
    return SeedProgramme(county, graph.city(county.city, seed=2), "information_rural_reach")


def test_candidates_are_the_residents_with_their_audience(programme: SeedProgramme) -> None:
    found = programme.candidates()
    g = programme.graph
    assert found.index.tolist() == np.flatnonzero(g.resident).tolist()
    sources = g.sources()
    for node in found.index[:: max(1, len(found) // 25)]:
        row = found.loc[node]
        into = g.indices == node
        # Those who trust the resident: the people it can pass a message on to.
        assert row["followers"] == len(
            set(sources[into & ((g.layer == LOCAL) | (g.layer == CITY))])
        )
        assert row["kin"] == int((into & (g.layer == LOCAL)).sum())
        assert row["rural"] == g.rural[node] and row["user"] == g.user[node]
        assert row["region"] == g.region_names[g.region[node]]
    assert (found["cost"] == 1).all() and found["followers"].max() > found["followers"].min()


def test_a_residents_audience_is_who_trusts_it_not_whom_it_trusts(
    programme: SeedProgramme,
) -> None:
    # One-way ties: 1, 2 and 3 trust 0 (two kin, one city tie); 0 trusts only 1; 3 follows 4.
    g = TrustGraph.from_edges(
        5,
        [1, 2, 3, 0, 3],
        [0, 0, 0, 1, 4],
        [0.5, 0.5, 0.5, 0.5, 0.5],
        [LOCAL, LOCAL, CITY, LOCAL, FOLLOW],
        creator_kind=[0, 0, 0, 0, 2],
    )
    found = SeedProgramme(programme.scenario, g, "information_reach").candidates()
    assert found["followers"].tolist() == [3, 1, 0, 0, 0]
    assert found["kin"].tolist() == [2, 1, 0, 0, 0]


def test_a_set_is_the_engine_with_those_seeds(programme: SeedProgramme) -> None:
    found = programme.candidates()
    top = tuple(int(i) for i in found.sort_values("followers").index[-20:])
    values = programme([top, (), top[:1], top[:1][::-1]], 5, 3)
    np.testing.assert_array_equal(values[2], values[3])
    seeds = np.random.SeedSequence(5).spawn(3)
    for row, given in ((0, list(top)), (1, None)):
        engine = Engine(programme.graph, programme.scenario, seed=seeds, seeds=given)
        engine.run(8)
        expected = [
            run_outcomes(engine.replication(r))["information_rural_reach"] for r in range(3)
        ]
        np.testing.assert_array_equal(values[row], expected)
    assert (values[0] > values[1]).all()  # 20 seeds reach more, in every replication


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ((10**7,), "the set (10000000,) names 10000000, which is not a candidate resident"),
        ((-1,), "the set (-1,) names -1, which is not a candidate resident"),
        ((2.0,), "the set (2.0,) names 2.0, which is not a candidate resident"),
        ((True,), "the set (True,) names True, which is not a candidate resident"),
        ((4, 9, 4), "the set (4, 9, 4) names resident 4 twice; expected each target once"),
    ],
)
def test_a_set_is_checked_before_anything_runs(
    programme: SeedProgramme, bad: tuple[object, ...], message: str
) -> None:
    with pytest.raises(LaotieError, match=re.escape(f"policy: {message}")):
        programme([(1,), bad], 5, 2)  # type: ignore[list-item]


@pytest.mark.parametrize("changes", [{"information.n_messages": 0}, {"information.first_day": 8}])
def test_a_programme_without_a_message_is_refused(
    programme: SeedProgramme, changes: dict[str, object]
) -> None:
    scenario = programme.scenario.replace(**changes)
    with pytest.raises(LaotieError, match="no government message is posted within the 8 days"):
        SeedProgramme(scenario, programme.graph, "information_reach")
    if "information.first_day" in changes:  # a message posted on the last day can matter
        SeedProgramme(scenario, programme.graph, "information_reach", days=9)


def test_the_heuristics_rank_residents_by_their_proxies(programme: SeedProgramme) -> None:
    found = programme.candidates()
    sets = heuristic_sets(found, 6, seed=1)
    assert sets["most followers"] == list(
        found.sort_values("followers", ascending=False, kind="stable").index[:6]
    )
    assert found.loc[sets["most rural"], "rural"].all()
    regions = found.loc[sets["equal per region"], "region"]
    assert regions.nunique() == min(6, found["region"].nunique())
    assert len(sets["random"]) == 6 and set(sets["random"]) <= set(found.index)


SPEC = """scenario = "county"
scale = 0.05
seed = 1
target = "seeds"
objective = "information_rural_reach"
budget = 2
replications = 3
fresh = 4
shortlist = 6
days = 8

[set]
"information.n_messages" = 2
"information.first_day" = 1
"information.interval" = 3
"information.city_feed" = 0.002
"information.hometown_feed" = 0.005
"information.share_prob" = 0.2
"information.offline_prob" = 0.2
"""


def spec_file(tmp_path: Path, text: str = SPEC) -> Path:
    path = tmp_path / "seeds.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('n_messages" = 2', 'n_messages" = 0', "no government message is posted within the 8"),
        ('first_day" = 1', 'first_day" = 8', "no government message is posted within the 8"),
        ("days = 8", "days = 8\ntrials = 4", "only target 'levers' takes trials"),
        ("budget = 2", "budget = 0.5", "budget = 0.5; expected a number ≥ 1"),
        (
            "[set]",
            '[set]\n"information.training_rule" = "targeted"',
            "information.training_rule = 'targeted' trains the targets a policy gives, and only "
            "target 'operators'",
        ),
    ],
)
def test_a_seeds_spec_is_checked(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in SPEC
    path = spec_file(tmp_path, SPEC.replace(old, new, 1))
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: ")) as err:
        load_optimise(path)
    assert message in str(err.value)


def test_laotie_optimise_chooses_residents(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec_file(tmp_path)
    spec = load_optimise(path)
    assert spec.target == "seeds" and spec.batch == 1 and spec.to_dict()["budget"] == 2
    out = tmp_path / "out"
    sets, printed = optimise(path, out, capsys)
    g = graph.city(spec.scenario.city, seed=1)
    chosen = sets["sets"]["optimised"]
    assert 1 <= len(chosen) <= 2 and all(g.resident[t] for t in chosen)
    # The short list holds every heuristic's residents (here more than shortlist = 6).
    heuristics = {"most followers", "most rural", "random", "equal per region"}
    assert set(sets["sets"]) == {"optimised", *heuristics}
    for name in heuristics:
        assert len(sets["sets"][name]) == 2 and set(sets["sets"][name]) <= set(sets["shortlist"])
    assert set(chosen) <= set(sets["shortlist"]) and all(g.resident[t] for t in sets["shortlist"])
    assert f"1. {chosen[0]}: gain" in printed
    first = (out / "comparison.csv").read_bytes()
    assert main(["optimise", str(path), "--out", str(out), "--quiet"]) == 0
    assert (out / "comparison.csv").read_bytes() == first


def test_the_example_spec_is_valid() -> None:
    example = Path(__file__).parents[2] / "experiments" / "policy" / "seeds_county.toml"
    spec = load_optimise(example)
    assert spec.target == "seeds" and spec.objective == "information_rural_reach"
    assert spec.scenario.information.n_messages > 0
    assert spec.scenario.information.first_day < spec.run_days
