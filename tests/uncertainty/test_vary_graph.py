"""Replications on their own city graphs (`replicate(vary_graph=True)`, `laotie run
--vary-graph`): replication r is the run on graph r with market seed r, whatever the number of
replications or workers."""

from __future__ import annotations

import pandas as pd
import pytest

from laotie import Scenario, ScenarioError
from laotie._random import run_seeds
from laotie.cli import main
from laotie.graph import city
from laotie.runs import replicate, replication_graph_seed

VILLAGE = Scenario.preset("village")


def test_each_replication_runs_on_its_own_graph() -> None:
    varied = replicate(VILLAGE, 3, days=4, seed=7, vary_graph=True)
    shared = replicate(VILLAGE, 3, days=4, seed=7)
    graph_seed, _ = run_seeds(7, 3)
    # Replication 0 keeps the shared graph: one replication equals simulate().
    pd.testing.assert_frame_equal(varied[0].daily, shared[0].daily)
    for r in (1, 2):
        graph = city(VILLAGE.city, seed=replication_graph_seed(graph_seed, r))
        expected = replicate(VILLAGE, 3, days=4, seed=7, graph=graph)[r]
        pd.testing.assert_frame_equal(varied[r].daily, expected.daily)
        assert not varied[r].daily.equals(shared[r].daily)  # another graph, other sales
        assert varied[r].info["vary_graph"] and not shared[r].info["vary_graph"]
    # Keyed by the replication, not by how many there are.
    pd.testing.assert_frame_equal(
        replicate(VILLAGE, 2, days=4, seed=7, vary_graph=True)[1].daily, varied[1].daily
    )


@pytest.mark.integration  # worker processes
def test_workers_give_the_same_replications() -> None:
    one = replicate(VILLAGE, 3, days=3, seed=2, vary_graph=True)
    two = replicate(VILLAGE, 3, days=3, seed=2, vary_graph=True, workers=2)
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a.daily, b.daily)


def test_a_graph_given_and_varied_is_refused() -> None:
    graph = city(VILLAGE.city, seed=1)
    with pytest.raises(ScenarioError, match="do not also give graph"):
        replicate(VILLAGE, 2, days=2, seed=1, graph=graph, vary_graph=True)


def test_the_command_says_which_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "village", "-R", "2", "--days", "2", "--quiet", "--vary-graph"]) == 0
    assert "a city graph per replication" in capsys.readouterr().err
    assert main(["run", "village", "-R", "2", "--days", "2", "--quiet"]) == 0
    assert "one city graph shared by the replications" in capsys.readouterr().err
