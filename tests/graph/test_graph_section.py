"""A scenario file's ``[graph]`` section (#26): a researcher's graph file and its mapping,
read by every face (``simulate``, ``laotie run``, sweeps, the Mesa model) through the one
``scenario_graph``, with errors that name the file, the key and the value."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import warnings
from pathlib import Path

import mesa
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from laotie import GraphError, LaotieModel, Result, Scenario, ScenarioError, TrustGraph, simulate
from laotie.cli import main
from laotie.graph import from_networkx, read_graph
from laotie.graph._core import HEAD
from laotie.graph.generators import FOLLOWER_MODEL
from laotie.graph.roles import MappingWarning, describe_mapping
from laotie.runs import EmptyChannelWarning, replicate
from laotie.scenario import scenario_graph
from laotie.sections import GraphSource
from laotie.sweep import Sweep, load_sweep, run_sweep
from laotie.sweep.spec import sample_range

MAPPING = {
    "trust": "weight",
    "transform": "saturating",
    "creators": "top-degree:3",
    "rural": "random:0.3",
    "regions": "louvain",
    "seed": 2,
}
# Busy enough that every channel has exposures within days on 34 people.
BUSY = """
[population]
activity_mean = 0.9

[decision]
intercept = -3.0

[producers]
n_producers = 3
"""


def match(*parts: str) -> str:
    """A regex matching the literal ``parts`` in this order, anything in between."""
    return ".*".join(re.escape(p) for p in parts)


def toml_graph(**keys: object) -> str:
    """A ``[graph]`` table with ``keys`` (strings quoted, booleans lower-case)."""
    lines = ["[graph]"]
    for key, value in keys.items():
        text = json.dumps(value) if not isinstance(value, bool) else str(value).lower()
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


@pytest.fixture()
def net(tmp_path: Path) -> Path:
    """A folder holding Zachary's karate club as a weighted edge list and a scenario file
    that maps it (``scenario.toml``, ``from = "karate.txt"``)."""
    folder = tmp_path / "net"
    folder.mkdir()
    nx.write_weighted_edgelist(nx.karate_club_graph(), folder / "karate.txt")
    text = 'name = "karate"\n\n' + toml_graph(**{"from": "karate.txt"}, **MAPPING, follows=True)
    text += "\n[city]\nmin_followers = 5.0\n" + BUSY
    (folder / "scenario.toml").write_text(text, encoding="utf-8")
    return folder


def mapped(net: Path, scenario: Scenario) -> TrustGraph:
    """The same graph mapped by hand: networkx's reader, then ``from_networkx``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MappingWarning)
        return from_networkx(
            nx.read_weighted_edgelist(net / "karate.txt", nodetype=int),
            follows=scenario.city,
            **MAPPING,
        )


def write(folder: Path, text: str, name: str = "s.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- the faces
def test_simulate_runs_on_the_file_as_if_mapped_by_hand(net: Path) -> None:
    scenario = Scenario.from_toml(net / "scenario.toml")
    result = simulate(scenario, days=15, seed=3)
    by_hand = simulate(scenario, days=15, seed=3, graph=mapped(net, scenario))
    pd.testing.assert_frame_equal(result.daily, by_hand.daily)
    assert result.outcomes == pytest.approx(by_hand.outcomes, nan_ok=True)
    # Every channel reports numbers, and the run says what was assigned.
    totals = result.daily.groupby("channel", observed=True)["exposures"].sum()
    assert (totals > 0).all(), totals
    mapping = result.info["graph"]["mapping"]
    assert result.info["graph"]["nodes"] == 34
    assert mapping["creators"] == {"rule": "top-degree:3", "local": 3}
    assert mapping["trust"]["transform"] == "saturating"
    assert "graph" not in simulate(Scenario.preset("village"), days=2, seed=1).info


def test_the_graph_is_the_sections_whatever_the_runs_seed(net: Path) -> None:
    scenario = Scenario.from_toml(net / "scenario.toml")
    g = scenario_graph(scenario)
    assert g.equals(scenario_graph(scenario, seed=99))
    assert g.equals(mapped(net, scenario))
    assert "creators: top-degree:3 → local 3" in describe_mapping(g)
    other = scenario_graph(scenario.replace(**{"graph.seed": 3}))
    assert not np.array_equal(other.rural, g.rural)


def test_laotie_run_on_a_scenario_file_and_again_on_the_file_it_writes(
    net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    scenario = Scenario.from_toml(net / "scenario.toml")
    expected = simulate(scenario, days=15, seed=3)
    out = tmp_path / "out"
    argv = ["run", str(net / "scenario.toml"), "--days", "15", "--seed", "3", "--quiet"]
    assert main([*argv, "--out", str(out), "--no-figures"]) == 0
    printed, err = capsys.readouterr()
    assert re.search(match("Scenario 'karate': the graph ", "karate.txt (34 nodes)"), err)
    assert "Mapping" in err and "creators: top-degree:3 → local 3" in err
    daily = (
        pd.read_parquet(out / "daily.parquet")
        if (out / "daily.parquet").exists()
        else pd.read_csv(out / "daily.csv")
    )
    for column in ("exposures", "orders", "gmv"):
        np.testing.assert_array_equal(daily[column].to_numpy(), expected.daily[column].to_numpy())
    record = json.loads((out / "graph.json").read_text(encoding="utf-8"))
    assert record["mapping"]["creators"] == {"rule": "top-degree:3", "local": 3}
    # The written scenario names the file by its absolute path: run from elsewhere, it
    # repeats the run exactly.
    written = Scenario.from_toml(out / "scenario.toml")
    assert written.graph == scenario.graph
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["run", str(out / "scenario.toml"), "--quiet"]) == 0
    assert capsys.readouterr().out == printed


def test_laotie_run_refuses_what_a_graph_file_cannot_take(
    net: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(net / "scenario.toml")
    for extra, message in (
        (["--scale", "0.5"], "scale = 0.5 is not allowed: the graph comes from"),
        (["--vary-graph", "-R", "2"], "the same in every replication: no --vary-graph"),
        (["--graph", str(net / "karate.txt")], "reads its own graph"),
        (["--set", "graph.creators=top-deg:3"], "unknown rule 'top-deg'"),
    ):
        assert main(["run", path, "--days", "2", "--quiet", *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("laotie: error: ") and message in err, (extra, err)


def test_laotie_graph_shows_the_scenarios_mapped_graph(
    net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "g.npz"
    assert main(["graph", str(net / "scenario.toml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Mapping" in printed and "regions: louvain" in printed
    scenario = Scenario.from_toml(net / "scenario.toml")
    assert TrustGraph.load(out).equals(scenario_graph(scenario))


def test_a_sweep_over_the_mapping_runs_every_point_on_its_graph(
    net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = write(
        specs,
        'scenario = "../net/scenario.toml"\ndays = 10\nseed = 4\nreplications = 1\n\n'
        '[grid]\n"graph.creators" = ["top-degree:2", "top-degree:4"]\n',
        "sweep.toml",
    )
    sweep = load_sweep(spec)
    result = run_sweep(sweep, tmp_path / "sweep")
    assert result.runs["status"].tolist() == ["ok", "ok"]
    for run, creators in enumerate(["top-degree:2", "top-degree:4"]):
        scenario = sweep.base.replace(**{"graph.creators": creators})
        alone = simulate(scenario, days=10, seed=sweep.run_seed(run))
        daily = result.daily[result.daily["run"] == run]
        np.testing.assert_array_equal(daily["orders"].to_numpy(), alone.daily["orders"].to_numpy())
    stored = json.loads((tmp_path / "sweep" / "sweep.json").read_text(encoding="utf-8"))
    base = stored["sweep"]["base"]
    assert base["graph"]["from"] == str(net / "karate.txt")
    assert Scenario.from_dict(base) == sweep.base
    # The command line's sweep on the same spec resumes: every run is stored already.
    assert main(["sweep", str(spec), "--out", str(tmp_path / "sweep"), "--quiet"]) == 0
    capsys.readouterr()


def test_a_sweep_with_a_missing_graph_file_fails_before_any_run(net: Path, tmp_path: Path) -> None:
    base = Scenario.from_toml(net / "scenario.toml")
    gone = tmp_path / "gone.txt"
    shutil.copy(net / "karate.txt", gone)
    sweep = Sweep(base, {"graph.from": [str(net / "karate.txt"), str(gone)]}, days=2, seed=1)
    gone.unlink()
    with pytest.raises(ScenarioError, match=match("[graph]: from = ", "gone.txt", "no such file")):
        run_sweep(sweep, tmp_path / "sweep")
    assert not (tmp_path / "sweep" / "sweep.json").exists()


def test_a_relative_graph_file_in_a_sweep_spec_is_the_specs_not_the_working_folders(
    net: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the spec's scenario is; it was taken from the working folder (no such file there).
    shutil.copy(net / "karate.txt", net / "other.txt")
    spec = write(
        net,
        'scenario = "scenario.toml"\ndays = 2\nseed = 1\n\n'
        '[grid]\n"graph.from" = ["karate.txt", "other.txt"]\n\n'
        '[[cases]]\n"graph.from" = "other.txt"\n',
        "sweep.toml",
    )
    monkeypatch.chdir(tmp_path)
    sweep = load_sweep(spec)
    assert {point["graph.from"] for point in sweep.points()} == {str(net / "other.txt")}
    grid = load_sweep(write(net, spec.read_text().partition("[[cases]]")[0], "grid.toml"))
    assert [p["graph.from"] for p in grid.points()] == [
        str(net / "karate.txt"),
        str(net / "other.txt"),
    ]
    assert run_sweep(grid, tmp_path / "sweep").runs["status"].tolist() == ["ok", "ok"]


def test_a_sweep_point_with_more_producers_than_the_graph_has_residents_is_refused(
    net: Path, tmp_path: Path
) -> None:
    # simulate refuses 40 producers on the 34 members; a sweep reused the graph read for the
    # first point and ran the second with 34 producers, status "ok".
    base = Scenario.from_toml(net / "scenario.toml")
    sweep = Sweep(base, {"producers.n_producers": [3, 40]}, days=2, seed=1)
    with pytest.raises(ScenarioError, match="n_producers = 40 is more than the 34 residents"):
        run_sweep(sweep, tmp_path / "sweep")
    assert not (tmp_path / "sweep" / "sweep.json").exists()


def test_the_mesa_model_runs_on_the_graph_file(net: Path) -> None:
    path = net / "scenario.toml"
    model = LaotieModel(str(path), seed=3, run__days=10)
    model.run_model()
    expected = simulate(Scenario.from_toml(path), days=10, seed=3)
    pd.testing.assert_frame_equal(model.result().daily, expected.daily)
    assert model.graph.n_nodes == 34 and "mapping" in model.graph.meta
    rows = pd.DataFrame(
        mesa.batch_run(
            LaotieModel,
            parameters={"scenario": str(path), "seed": 3, "graph__creators": "top-degree:2"},
            max_steps=2,
            data_collection_period=1,
            display_progress=False,
        )
    )
    assert sorted(rows["Step"].unique()) == [0, 1, 2]
    assert rows[rows["Step"] == 2]["kind"].value_counts()["local"] == 2
    with pytest.raises(ScenarioError, match="a graph file is not scaled"):
        LaotieModel(str(path), scale=0.5)


def test_a_graph_without_creators_warns_from_every_face(net: Path) -> None:
    scenario = Scenario.from_toml(net / "scenario.toml").replace(
        **{"graph.creators": "", "graph.follows": False, "city.min_followers": 50.0}
    )
    with pytest.warns(EmptyChannelWarning, match=match("karate.txt has no selling creators")):
        simulate(scenario, days=2, seed=1)
    with pytest.warns(EmptyChannelWarning, match="no selling creators"):
        LaotieModel(scenario, seed=1)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("graph", "message"),
    [
        ({"from": "nope.txt"}, "[graph]: from = 'nope.txt': no such file (tried {net}/nope.txt)"),
        (
            {"from": "karate.txt", "creator": "top-degree:3"},
            "[graph]: unknown key 'creator'; did you mean 'creators'?",
        ),
        (
            {"from": "karate.txt", "creators": "top-deg:3"},
            "[graph]: creators = 'top-deg:3': unknown rule 'top-deg'; allowed for creators: "
            "attr:NAME, top-degree:K",
        ),
        (
            {"from": "karate.txt", "creators": "top-degree:many"},
            "[graph]: creators = 'top-degree:many': malformed rule",
        ),
        (
            {"from": "karate.txt", "trust": "weight", "transform": "saturate"},
            "[graph]: transform = 'saturate': unknown transform 'saturate'; allowed: identity",
        ),
        (
            {"from": "karate.txt", "transform": "rank"},
            "[graph]: transform = 'rank' needs the raw values",
        ),
        (
            {"creators": "top-degree:3"},
            "[graph]: creators = 'top-degree:3' maps a graph read from a file, but from is not "
            "given",
        ),
        ({"from": "karate.txt", "regions": 3}, "[graph]: regions = 3 is not allowed"),
        (
            {"from": "karate.txt", "source": "a"},
            "[graph]: source = 'a' names a CSV column, but {net}/karate.txt is read as edgelist",
        ),
        ({"from": "karate.dat"}, "[graph]: from: {net}/karate.dat: unknown file type '.dat'"),
        (
            {"from": "karate.txt", "creator_kind": "head"},
            "[graph]: creator_kind = 'head' is the kind of the creators a rule marks, but no "
            "creators rule is given",
        ),
    ],
)
def test_bad_graph_sections_are_named(net: Path, graph: dict, message: str) -> None:
    path = write(net, toml_graph(**graph))
    expected = f"{path} " + message.format(net=net)
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(path)
    assert expected in str(caught.value)


def test_near_misses_are_suggested(net: Path) -> None:
    for graph, hint in (
        ({"creators": "top-degre:3"}, "did you mean 'top-degree'?"),
        ({"trust": "weight", "transform": "saturate"}, "did you mean 'saturating'?"),
        ({"regions": "luvain"}, "did you mean 'louvain'?"),
    ):
        path = write(net, toml_graph(**{"from": "karate.txt"}, **graph))
        with pytest.raises(ScenarioError, match=re.escape(hint)):
            Scenario.from_toml(path)


@pytest.mark.parametrize(
    ("city", "message"),
    [
        ("scale = 0.5", "[city]: scale is not used when the graph comes from a file"),
        ('preset = "mudanjiang"', "[city]: preset is not used when the graph comes from a file"),
        (
            'regions = [{ name = "A", population = 34, urban_share = 0.5 }]',
            "[city]: regions is not used",
        ),
        ("local_degree = 30.0", "[city]: local_degree is not used when the graph comes from"),
        ("min_followers = 5.0", "[city]: min_followers = 5.0 is part of the follower model"),
        ("min_folowers = 5.0", "[city]: unknown key 'min_folowers'; did you mean 'min_followers'"),
    ],
)
def test_city_keys_a_graph_file_would_leave_unused_are_refused(
    net: Path, city: str, message: str
) -> None:
    path = write(net, toml_graph(**{"from": "karate.txt"}) + f"\n[city]\n{city}\n")
    with pytest.raises(ScenarioError, match=re.escape(f"{path} {message}")):
        Scenario.from_toml(path)


def test_a_folder_for_a_graph_file_is_named_as_a_folder(net: Path) -> None:
    # It was "unknown file type ''" (format auto) or "no such file" (a format given).
    (net / "data").mkdir()
    for extra in ({}, {"format": "csv"}):
        path = write(net, toml_graph(**{"from": "data"}, **extra))
        with pytest.raises(ScenarioError, match=match("from = ", "data' is a folder")):
            Scenario.from_toml(path)


def test_a_city_key_a_graph_file_leaves_unused_is_refused_as_unused_whatever_its_value(
    net: Path,
) -> None:
    # Its value was checked first: a sweep sampling city.local_degree within its declared
    # bounds was refused for 'local_degree must be below group_size - 1'.
    scenario = Scenario.from_toml(net / "scenario.toml")
    unused = match("city.local_degree would not be used: the graph comes from", "karate.txt")
    for value in (3.0, 500.0):
        with pytest.raises(ScenarioError, match=unused):
            scenario.replace(**{"city.local_degree": value})
    # scale and preset were "unknown key" with the keys of a city laotie builds.
    for key in ("scale", "preset"):
        with pytest.raises(ScenarioError, match=match(f"city.{key} would not be used")):
            scenario.replace(**{f"city.{key}": 2})
    with pytest.raises(ScenarioError, match=unused):
        Sweep(scenario, {}, sample={"city.local_degree": None}, samples=2, days=2)
    # Not "(the samples reach both ends: give [low, high] within the allowed values)".
    with pytest.raises(ScenarioError, match=unused) as refused:
        sample_range(scenario, "city.local_degree", [3.0, 5.0], where="s", ends=True)
    assert "samples reach both ends" not in str(refused.value)


def test_scale_is_refused_wherever_it_is_asked_for(net: Path) -> None:
    path = net / "scenario.toml"
    with pytest.raises(ScenarioError, match="scale = 0.5 is not allowed: the graph comes from"):
        Scenario.load(path, scale=0.5)
    assert Scenario.load(path, scale=1.0) == Scenario.from_toml(path)
    scenario = Scenario.from_toml(path)
    with pytest.raises(ScenarioError, match="a graph file is not scaled"):
        scenario.scaled(2)
    # From Python: a city with regions, or a construction parameter, beside a graph file.
    village = Scenario.preset("village")
    with pytest.raises(ScenarioError, match=r"the city's regions \('Village', 'Town'\) would"):
        village.replace(graph=scenario.graph)
    with pytest.raises(ScenarioError, match=r"city.local_degree = 30.0 would not be used"):
        scenario.replace(city=scenario.city.replace(local_degree=30.0))


def test_a_relative_path_is_the_scenario_files_not_the_working_folders(
    net: Path, tmp_path: Path, monkeypatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "karate.txt").write_text("1 2 1\n", encoding="utf-8")  # another graph
    monkeypatch.chdir(elsewhere)
    scenario = Scenario.from_toml(net / "scenario.toml")
    assert scenario.graph.file == str(net / "karate.txt")
    assert scenario_graph(scenario).n_nodes == 34
    # From Python or --set, a relative path is the working folder's.
    moved = scenario.replace(**{"graph.from": "karate.txt"})
    assert moved.graph.file == str(elsewhere / "karate.txt")
    assert moved.graph.sha256 != scenario.graph.sha256


def test_a_graph_file_that_changed_or_is_too_small_is_refused_before_the_run(
    net: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(net, copy)
    scenario = Scenario.from_toml(copy / "scenario.toml")
    with (copy / "karate.txt").open("a", encoding="utf-8") as fh:
        fh.write("0 33 9\n")
    with pytest.raises(ScenarioError, match=match("karate.txt", "has changed since the scenario")):
        simulate(scenario, days=2, seed=1)
    (copy / "karate.txt").unlink()
    with pytest.raises(ScenarioError, match=match("[graph]: from = ", "no such file")):
        replicate(scenario, 2, days=2, seed=1)
    crowded = Scenario.from_toml(net / "scenario.toml").replace(**{"producers.n_producers": 40})
    with pytest.raises(ScenarioError, match="n_producers = 40 is more than the 34 residents"):
        simulate(crowded, days=2, seed=1)
    with pytest.raises(ScenarioError, match="vary_graph builds a city graph per replication"):
        replicate(crowded, 2, days=2, seed=1, vary_graph=True)
    # On the graph given to the run, too: it placed 34 of the 40 producers, without a word.
    graph = scenario_graph(Scenario.from_toml(net / "scenario.toml"))
    given = "n_producers = 40 is more than the 34 residents of the graph given to the run"
    with pytest.raises(ScenarioError, match=given):
        simulate(crowded, days=2, seed=1, graph=graph)
    village = Scenario.preset("village").replace(**{"producers.n_producers": 40})
    with pytest.raises(ScenarioError, match=given):
        replicate(village, 2, days=2, seed=1, graph=graph)
    with pytest.raises(ScenarioError, match="34 residents of the graph given to the model"):
        LaotieModel(village, graph=graph)


def test_a_file_the_mapping_cannot_read_names_the_scenario_and_the_file(net: Path) -> None:
    path = write(net, 'name = "x"\n' + toml_graph(**{"from": "karate.txt"}, trust="w"))
    scenario = Scenario.from_toml(path)
    with pytest.raises(GraphError, match=match("scenario 'x' [graph]: ", "no column 'w'")):
        simulate(scenario, days=2, seed=1)


def test_a_saved_graph_takes_no_mapping(net: Path) -> None:
    scenario = Scenario.from_toml(net / "scenario.toml")
    scenario_graph(scenario).save(net / "g.npz")
    with pytest.raises(ScenarioError, match="g.npz is a graph saved by laotie, already mapped"):
        Scenario.from_toml(write(net, toml_graph(**{"from": "g.npz"}, creators="top-degree:2")))
    # Its seed would seed nothing: a sweep over graph.seed ran the same graph at every point.
    with pytest.raises(ScenarioError, match=match("seed = 3, but", "g.npz is a graph saved")):
        Scenario.from_toml(write(net, toml_graph(**{"from": "g.npz"}, seed=3)))
    saved = Scenario.from_toml(write(net, toml_graph(**{"from": "g.npz"})))
    assert scenario_graph(saved).equals(scenario_graph(scenario))


# ---------------------------------------------------------------------------- round trips
def test_a_graph_section_round_trips_through_every_serialisation(net: Path, tmp_path: Path) -> None:
    scenario = Scenario.from_toml(net / "scenario.toml")
    assert scenario.graph.file == str(net / "karate.txt") and len(scenario.graph.sha256) == 64
    # TOML, written in another folder (a run's results): the absolute path finds the file.
    elsewhere = tmp_path / "results"
    elsewhere.mkdir()
    back = Scenario.from_toml(write(elsewhere, scenario.to_toml(), "scenario.toml"))
    assert back == scenario and back.to_toml() == scenario.to_toml()
    # The dict of a saved result or a sweep's spec, which loads even when the file is gone.
    assert Scenario.from_dict(json.loads(json.dumps(scenario.to_dict()))) == scenario
    result = simulate(scenario, days=3, seed=1)
    result.save(tmp_path / "saved")
    assert Result.load(tmp_path / "saved").scenario == scenario
    shutil.move(net / "karate.txt", tmp_path / "karate.txt")
    assert Result.load(tmp_path / "saved").scenario == scenario  # the file is not needed
    sweep = Sweep(scenario, {"policy.traffic": ["head"]}, days=2)
    assert Scenario.from_dict(sweep.to_dict()["base"]) == scenario
    # The mapping is in the parameter table, not among the model's numbers; of the city,
    # only the follower model counts.
    assert not any(key.startswith("graph.") for key in scenario.flat())
    city_keys = {key for key in scenario.flat() if key.startswith("city.")}
    assert city_keys == {f"city.{key}" for key in FOLLOWER_MODEL}
    assert set(scenario.to_dict()["city"]) == set(FOLLOWER_MODEL)
    table = scenario.parameter_table().set_index("key")
    assert table.loc["graph.creators", "value"] == "top-degree:3"
    assert table.loc["graph.creators", "changed"]


def test_a_graph_section_without_follows_round_trips_without_a_city(
    net: Path, tmp_path: Path
) -> None:
    path = write(net, 'name = "bare"\n' + toml_graph(**{"from": "karate.txt"}, trust="weight"))
    scenario = Scenario.from_toml(path)
    assert "city" not in scenario.to_dict()
    assert not any(key.startswith("city.") for key in scenario.flat())
    back = Scenario.from_toml(write(tmp_path, scenario.to_toml(), "back.toml"))
    assert back == scenario and back.to_toml() == scenario.to_toml()


def test_a_scenario_without_a_graph_section_is_written_as_before() -> None:
    village = Scenario.preset("village")
    assert "graph" not in village.to_dict() and "[graph]" not in village.to_toml()
    assert village.graph == GraphSource()
    assert not any(key.startswith("graph.") for key in village.parameter_table()["key"])
    assert dataclasses.replace(village, graph=GraphSource()) == village


def test_the_section_replaces_like_any_other(net: Path) -> None:
    scenario = Scenario.from_toml(net / "scenario.toml")
    changed = scenario.replace(**{"graph.creators": "top-degree:5", "graph.creator_kind": "head"})
    assert (changed.graph.creators, changed.graph.creator_kind) == ("top-degree:5", "head")
    assert changed.graph.sha256 == scenario.graph.sha256
    g = scenario_graph(changed)
    assert np.count_nonzero(g.creator_kind == HEAD) == 5
    with pytest.raises(ScenarioError, match="did you mean 'creators'"):
        scenario.replace(**{"graph.creator": "x"})
    expected = read_graph(net / "karate.txt", follows=scenario.city, **MAPPING)
    assert scenario_graph(scenario).equals(expected)
