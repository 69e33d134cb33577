"""Messages that said something false or impossible: each names the file or key and says
what is allowed, and what it suggests works."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import laotie
from laotie import GraphError, Scenario, ScenarioError
from laotie.graph import read_graph
from tests.reliability.faults import assert_refused, cli

KARATE = Path(laotie.__file__).parents[1] / "models" / "karate_club"
FORMATS = "npz, csv, edgelist, snap, graphml, gexf"


def test_npz_forced_onto_a_graphml_file_says_it_is_not_a_laotie_graph(
    tmp_path: Path, no_work: None
) -> None:
    """It said the file "is a graph saved by laotie, already mapped"."""
    folder = Path(shutil.copytree(KARATE, tmp_path / "karate"))
    graph = folder / "karate.graphml"
    text = (folder / "scenario.toml").read_text(encoding="utf-8")
    (folder / "scenario.toml").write_text(
        text.replace('from = "karate.graphml"', 'from = "karate.graphml"\nformat = "npz"'),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(folder / "scenario.toml")
    assert str(caught.value) == (
        f"{folder / 'scenario.toml'} [graph]: format = 'npz', but {graph} is not a laotie npz "
        f"graph (one saved by laotie: laotie graph --out FILE.npz); allowed formats: auto, "
        "csv, edgelist, snap, graphml, gexf, npz: name the file's own, or 'auto' to go by its "
        "suffix"
    )
    for options in ({}, {"creators": "top-degree:2"}):
        with pytest.raises(GraphError) as caught:
            read_graph(graph, format="npz", **options)
        assert str(caught.value) == (
            f"{graph}: format = 'npz', but the file is not a laotie npz graph (one saved by "
            f"laotie: laotie graph --out FILE.npz); allowed formats: {FORMATS}: name the "
            "file's own, or none to go by its suffix"
        )


@pytest.mark.parametrize(
    ("role", "rule", "bounds"),
    [
        ("regions", "attr:", ""),
        ("creators", "top-degree:-1", " (K ≥ 0)"),
        ("creators", "top:followers", " (K ≥ 0)"),
        ("rural", "random:2", " (0 < SHARE ≤ 1)"),
    ],
)
def test_a_malformed_rule_gives_only_the_bounds_of_its_own_kind(
    role: str, rule: str, bounds: str
) -> None:
    """``regions = "attr:"`` ended with "(K ≥ 0, 0 < SHARE ≤ 1)", which regions have not."""
    from laotie.graph.roles import parse_rule

    with pytest.raises(GraphError) as caught:
        parse_rule(role, rule)
    message = str(caught.value)
    assert message.startswith(f"{role} = {rule!r}: malformed rule; allowed for {role}: ")
    assert message.endswith(bounds or "attr:NAME, louvain, greedy, none")
    assert ("K ≥ 0" in message) == ("K" in bounds)
    assert ("SHARE ≤ 1" in message) == ("SHARE" in bounds)


def test_follows_false_suggests_a_set_that_works(
    capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    """It said to "remove" city.min_followers, which the command line cannot do."""
    outcome = cli(capsys, "run", "karate_club", "--days", "2", "--set", "graph.follows=false")
    line = assert_refused(outcome, "city.min_followers = 5.0, city.max_follower_share = 0.5")
    suggested = "--set city.min_followers=50.0 --set city.max_follower_share=0.05"
    assert line.endswith(
        f"remove them from the file, or give them their defaults (on the command line: {suggested})"
    )
    # What it suggests is taken: the same command with it is refused for nothing.
    scenario = Scenario.preset("karate_club")
    fixed = scenario.replace(
        **{"graph.follows": False, "city.min_followers": 50.0, "city.max_follower_share": 0.05}
    )
    assert not fixed.graph.follows
