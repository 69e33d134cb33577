"""The `laotie` command: output, files, and one clear line on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import laotie
import laotie.cli.graph
from laotie import LaotieError, ScenarioError, graph
from laotie.cli import main, parse_overrides
from laotie.cli.run import POVERTY_OUTCOMES

pytestmark = pytest.mark.integration  # the command line end to end


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_graph_prints_the_statistics(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "graph", "--preset", "mudanjiang", "--scale", "0.001", "--seed", "3"
    )
    assert status == 0
    expected = graph.mudanjiang(0.001, seed=3).stats(seed=3)
    assert out.strip() == str(expected).strip()
    assert "Built TrustGraph(n_nodes=2540" in err
    assert "Described in" in err


def test_graph_reads_a_large_city_from_the_graph_cache(capsys: pytest.CaptureFixture[str]) -> None:
    # 203,200 residents: at least laotie.graph.cache.MIN_RESIDENTS, so built once and saved
    # (in the tests' own cache folder), then read, as laotie run gets its city.
    argv = ("graph", "mudanjiang", "--scale", "0.08", "--seed", "4")
    status, built, err = run(capsys, *argv)
    assert status == 0 and "Building mudanjiang" in err and "Built TrustGraph" in err
    status, read, err = run(capsys, *argv)
    assert status == 0 and "seed 4 from the graph cache ..." in err and "Read TrustGraph" in err
    assert read == built
    assert "2,000 of 203,200 residents sampled without replacement" in read


def test_a_city_too_large_to_build_unasked_is_read_when_cached(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without --scale, a city above the guard is refused unless the graph cache holds it
    (then it is read in seconds): here the guard is lowered below a 203,200-resident city."""
    import laotie.cli.graph

    monkeypatch.setattr(laotie.cli.graph, "WHOLE_CITY_GUARD", 100_000)
    city = tmp_path / "city.toml"
    city.write_text('[city]\npreset = "mudanjiang"\nscale = 0.08\n')
    status, _, err = run(capsys, "graph", str(city), "--seed", "5")
    assert status == 2 and "give --scale" in err
    status, built, err = run(capsys, "graph", "mudanjiang", "--scale", "0.08", "--seed", "5")
    assert status == 0 and "Built TrustGraph" in err
    status, read, err = run(capsys, "graph", str(city), "--seed", "5")
    assert status == 0 and "from the graph cache" in err and read == built
    # A damaged cached file is built again (and said so), not reported as read.
    from laotie import Scenario

    saved = laotie.cli.graph._cached_file(Scenario.load(str(city)), 5)
    assert saved is not None
    saved.write_bytes(saved.read_bytes()[:1000])
    status, again, err = run(capsys, "graph", str(city), "--seed", "5")
    assert status == 0 and "The cached graph was damaged: built again" in err
    assert "Built TrustGraph" in err and again == built


def test_commands_that_do_not_simulate_take_a_choice_for_the_api_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """training.rule = "targeted" needs creators that only laotie.policy gives: laotie run
    refuses it (tests/reliability), but the city and the parameters can be looked at."""
    targeted = tmp_path / "targeted.toml"
    village = Path(laotie.__file__).parents[1] / "models" / "village" / "scenario.toml"
    targeted.write_text(village.read_text() + '\n[training]\nrule = "targeted"\n')
    status, out, _ = run(capsys, "params", str(targeted))
    assert status == 0 and "targeted" in out
    status, _, err = run(capsys, "graph", str(targeted))
    assert status == 0 and "Built TrustGraph" in err


def test_graph_overrides_reach_the_generator(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "graph", "mudanjiang", "--scale", "0.001", "--set", "city_degree=0"
    )
    assert status == 0
    assert "edges: city                          0" in out
    # Dotted keys, as laotie run takes them, give the same graph.
    assert (
        run(capsys, "graph", "mudanjiang", "--scale", "0.001", "--set", "city.city_degree=0")[1]
        == out
    )


def test_graph_builds_any_scenarios_city(capsys: pytest.CaptureFixture[str]) -> None:
    """The scenarios laotie run takes, by name (village has no graph preset of its own)."""
    from laotie.scenario import Scenario

    status, out, _ = run(capsys, "graph", "village", "--seed", "2")
    assert status == 0
    expected = graph.city(Scenario.preset("village").city, seed=2).stats(seed=2)
    assert out.strip() == str(expected).strip()


def test_save_then_load_gives_the_same_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "g.npz"
    status, built, _ = run(capsys, "graph", "mudanjiang", "--scale", "0.001", "--out", str(target))
    assert status == 0 and target.exists()
    status, loaded, _ = run(capsys, "graph", "--from", str(target), "--seed", "0")
    assert status == 0
    assert loaded == built


def test_csv_output_writes_edges_and_nodes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "g.csv"
    assert run(capsys, "graph", "mudanjiang", "--scale", "0.001", "--out", str(target))[0] == 0
    assert target.exists() and (tmp_path / "g_nodes.csv").exists()
    status, out, _ = run(
        capsys, "graph", "--from", str(target), "--nodes", str(tmp_path / "g_nodes.csv")
    )
    assert status == 0 and "residents" in out


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "g.npz"
    target.write_bytes(b"precious")
    status, _, err = run(capsys, "graph", "mudanjiang", "--scale", "0.001", "--out", str(target))
    assert status == 2
    assert err == f"laotie: error: {target} exists; pass --force to overwrite it\n"
    assert target.read_bytes() == b"precious"
    assert (
        run(capsys, "graph", "mudanjiang", "--scale", "0.001", "--out", str(target), "--force")[0]
        == 0
    )
    assert target.read_bytes() != b"precious"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["graph", "mudanjiang", "--scale", "0.001", "--set", "local_degre=3"],
            "did you mean 'local_degree'",
        ),
        (
            ["graph", "mudanjiang", "--scale", "0.001", "--set", "user_share=2"],
            "user_share = 2 is not allowed",
        ),
        (["graph", "mudanjiang", "--scale", "0.001", "--set", "oops"], "expected KEY=VALUE"),
        (["graph", "--preset", "mudanjian"], "did you mean 'mudanjiang'"),
        (["graph", "mudanjian"], "did you mean 'mudanjiang'"),
        (["graph", "--from", "missing.npz"], "missing.npz: no such file"),
        (["graph", "--from", "x.doc"], "unknown file type '.doc'"),
        (["graph", "mudanjiang", "--scale", "0"], "scale"),
        (["graph"], "name a scenario whose city to build"),
        (
            ["graph", "mudanjiang"],
            "takes about 10 s and 3 GB to build, the first time): give --scale, e.g. --scale",
        ),
        (["graph", "--from", "g.npz", "--scale", "1"], "--set and --scale apply to a scenario"),
        (["graph", "county", "--set", "decision.intercept=1"], "only city.* keys"),
        (["graph", "village", "--from", "g.npz"], "no scenario 'village' too"),
    ],
)
def test_bad_input_gives_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith("laotie: error: ") and err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_debug_shows_the_exception(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(LaotieError, match="did you mean 'mudanjiang'"):
        main(["graph", "--preset", "mudanjian", "--debug"])
    with pytest.raises(LaotieError):
        main(["--debug", "graph", "--preset", "mudanjian"])


def test_parse_overrides_reads_toml_values() -> None:
    assert parse_overrides(["s.a=1", "s.b=0.5", "s.c=true", "s.d=head", 's.e="x y"']) == {
        "s.a": 1,
        "s.b": 0.5,
        "s.c": True,
        "s.d": "head",
        "s.e": "x y",
    }


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("reach=0.5", "expected a dotted key.*did you mean policy.reach"),
        ("name=foo", "expected a dotted key.*see laotie params"),  # not Scenario's own name
        ("scale=2", "expected a dotted key"),
    ],
)
def test_set_takes_dotted_keys_only(
    item: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_overrides([item])
    status, _, err = run(capsys, "run", "village", "--days", "1", "--set", item)
    assert status == 2 and "Traceback" not in err


def test_info_lists_versions(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "info")
    assert status == 0
    for name in ("laotie", "numpy", "mesa", "networkx"):
        assert name in out


@pytest.mark.parametrize("command", ["graph", "run", "sweep", "params", "info", "dashboard"])
def test_every_subcommand_has_help_with_an_example(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "laotie", command, "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "example" in done.stdout


def test_run_prints_the_channel_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "run", "village", "--days", "20", "--quiet")
    assert status == 0
    table, producers = out.strip().split("\n\n")
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["channel", "conversion"]
    assert [line.split()[0] for line in lines[1:]] == [
        "follow",
        "discovery",
        "wom",
        "storefront",
        "trust",
        "traffic",
        "all",
    ]
    assert "Scenario 'village': 2,000 residents, 20 days" in err
    # The village has poor producers: their receipts and net income change follow.
    rows = producers.splitlines()
    assert rows[0] == "Poor producers and poverty counties (精准扶贫)"
    assert len(rows) == 1 + len(POVERTY_OUTCOMES) - 2  # no poverty county in the village
    assert rows[1].split()[-1].replace(",", "").replace(".", "").isdigit()
    # Without producers or poverty counties, no such table.
    status, out, _ = run(
        capsys, "run", "village", "--days", "5", "--quiet", "--set", "producers.n_producers=0"
    )
    assert status == 0 and "Poor producers" not in out


def test_run_names_its_stages_unless_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    """Building the graph and setting up the market are named on stderr before the bar over
    days starts (its clock starts after the set-up); --quiet shows neither."""
    status, out, err = run(capsys, "run", "village", "--days", "3", "-R", "2")
    assert status == 0
    graph_line = err.index("Building the city graph (2,000 residents)…\n")
    market_line = err.index("Setting up the market…\n")
    assert graph_line < market_line < err.index("simulating")
    status, quiet_out, quiet_err = run(
        capsys, "run", "village", "--days", "3", "-R", "2", "--quiet"
    )
    assert status == 0 and quiet_out == out
    assert "Building" not in quiet_err and "Setting up" not in quiet_err
    assert "simulating" not in quiet_err


def test_run_starts_its_bar_after_the_set_up(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bar's clock starts once the first engine is set up, so the set-up (long in a
    whole city) does not enter its estimate of the time left."""
    import time

    import tqdm.auto

    import laotie.runs

    events: list[str] = []
    engine = laotie.runs.Engine

    def slow_engine(*args: object, **kwargs: object) -> object:
        set_up = engine(*args, **kwargs)
        time.sleep(0.2)
        events.append("set up")
        return set_up

    class Bar(tqdm.auto.tqdm):
        def __init__(self, *args: object, **kwargs: object) -> None:
            events.append("bar")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(laotie.runs, "Engine", slow_engine)
    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    status, _, _ = run(capsys, "run", "village", "--days", "3", "-R", "2")
    assert status == 0 and events == ["set up", "bar"]


def test_run_with_replications_shows_intervals(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "run", "village", "--days", "20", "-R", "3", "--quiet")
    assert status == 0
    assert "95 % confidence intervals" in out
    assert "[" in out.splitlines()[-2]
    # Two processes, one engine each (lockstep is set by the library: 3 fit in one engine,
    # so --workers changes nothing here but must give the same table).
    status, spread, _ = run(
        capsys, "run", "village", "--days", "20", "-R", "3", "--workers", "2", "--quiet"
    )
    assert status == 0 and spread == out


def test_run_output_folder_repeats_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "run"
    status, first, _ = run(
        capsys,
        "run",
        "village",
        "--days",
        "15",
        "--seed",
        "7",
        "--quiet",
        "--out",
        str(out_dir),
        "--set",
        "policy.traffic=head",
    )
    assert status == 0
    names = {p.name for p in out_dir.iterdir()}
    assert {
        "summary.csv",
        "outcomes.csv",
        "outcomes_by_replication.csv",
        "monthly.csv",
        "producers.csv",
        "regions.csv",
        "scenario.toml",
        "seed.json",
        "figures",
    } <= names
    regions = pd.read_csv(out_dir / "regions.csv")
    assert regions.region.tolist() == ["Village", "Town"] and set(regions.replication) == {0}
    assert not regions.poverty.any()  # the village scenario declares no poverty county
    # 15 days: no complete month, but the table's columns.
    monthly = (out_dir / "monthly.csv").read_text().splitlines()
    assert monthly == [
        "replication,month,residents,users,dau,mau,buyers_all,buyers_trust,buyers_traffic,"
        "adopted,sellers,producers_online,gmv"
    ]
    assert names & {"daily.parquet", "daily.csv"}
    assert len(list((out_dir / "figures").glob("*.png"))) == 5
    assert not list(out_dir.rglob("*.part"))
    # The resolved scenario.toml holds the seed, the days and the --set change.
    status, again, _ = run(capsys, "run", str(out_dir / "scenario.toml"), "--quiet")
    assert again == first
    # A non-empty folder is not written without --force.
    status, _, err = run(capsys, "run", "village", "--days", "1", "--out", str(out_dir), "--quiet")
    assert status == 2 and "is not empty; pass --force" in err


def test_run_output_folder_pools_the_replications(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With -R 3 --out, outcomes.csv gives each outcome's mean over the replications and its
    interval, outcomes_by_replication.csv the values behind them, and every figure's title
    says how many replications it covers or which one it draws."""
    import numpy as np

    import laotie.plot

    titles = {}
    draw = laotie.plot.plot

    def recorded(result: object, kind: str, **kwargs: object) -> object:
        ax = draw(result, kind, **kwargs)  # type: ignore[arg-type]
        titles[kind] = ax.get_title()
        return ax

    monkeypatch.setattr(laotie.plot, "plot", recorded)
    out_dir = tmp_path / "run"
    argv = ["run", "village", "--days", "10", "-R", "3", "--quiet", "--out", str(out_dir)]
    status, printed, _ = run(capsys, *argv, "--set", "information.n_messages=1")
    assert status == 0
    outcomes = pd.read_csv(out_dir / "outcomes.csv", index_col="outcome")
    assert list(outcomes.columns) == ["mean", "low", "high", "n_replications"]
    each = pd.read_csv(out_dir / "outcomes_by_replication.csv", index_col="replication")
    assert list(each.index) == [0, 1, 2] and list(each.columns) == list(outcomes.index)
    for name, values in each.items():
        defined = values[np.isfinite(values)]
        row = outcomes.loc[name]
        assert row.n_replications == len(defined)
        if len(defined):
            assert row["mean"] == pytest.approx(defined.mean(), rel=1e-12, abs=1e-12)
        if len(defined) >= 2:
            assert row.low <= row["mean"] <= row.high
        else:
            assert np.isnan(row.low) and np.isnan(row.high)
    assert (outcomes.n_replications >= 2).sum() >= 10  # most outcomes have an interval
    # The printed poverty-alleviation lines are the file's numbers.
    net = outcomes.loc["producer_net_total"]
    assert f"{net['mean']:,.0f} [{net.low:,.0f}, {net.high:,.0f}]" in printed
    # The series over days are pooled; the pictures of one run's distribution say so.
    assert set(titles) == set(laotie.plot.KINDS)
    for kind in ("conversion", "cumulative_gmv", "coverage"):
        assert titles[kind].endswith("\nmean of 3 replications, 95 % band")
    for kind in ("order_values", "lorenz", "producer_income"):
        assert titles[kind].endswith("\nreplication 0 of 3")
    # One replication: the same layout, no interval, and titles that say "1 replication".
    titles.clear()
    one = tmp_path / "one"
    status, _, _ = run(capsys, "run", "village", "--days", "10", "--quiet", "--out", str(one))
    assert status == 0
    outcomes = pd.read_csv(one / "outcomes.csv", index_col="outcome")
    assert outcomes.low.isna().all() and outcomes.high.isna().all()
    assert set(outcomes.n_replications) <= {0, 1}
    assert titles and all(title.endswith("\n1 replication") for title in titles.values())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "villag"], "did you mean 'village'"),
        (["run", "village", "--set", "policy.trafic=head"], "did you mean 'traffic'"),
        (["run", "village", "-R", "0"], "--replications 0"),
        (["run", "village", "--workers", "0"], "--workers 0"),
        (["run", "missing.toml"], "missing.toml: no such scenario file"),
        (["params", "village", "--set", "run.days=-1"], "days = -1 is not allowed"),
    ],
)
def test_run_bad_input_gives_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith("laotie: error: ") and err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--days", "10"], "--days 10: scenario 'poverty_county': training.day = 30 is not within"),
        (["--seed", str(2**63)], f"--seed {2**63}: Run: seed = {2**63} is not allowed"),
        (["--days", "100001"], "--days 100001: Run: days = 100001 is not allowed"),
        (["--days", "0"], "--days 0: expected an integer ≥ 1"),
    ],
)
def test_run_settings_are_checked_before_it_runs(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Days and seed that the scenario does not allow are refused before anything runs or
    is written (they used to be refused while writing, after the run)."""
    out = tmp_path / "out"
    status, printed, err = run(
        capsys, "run", "poverty_county", "--scale", "0.05", *argv, "--out", str(out)
    )
    assert status == 2 and message in err and err.count("\n") == 1
    assert printed == "" and not out.exists()


def test_run_output_folder_is_written_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--force replaces an earlier run's folder whole (none of its files, such as figures,
    left beside the new tables); a failure while writing leaves the folder as it was and
    no temporary sibling."""
    out = tmp_path / "run"
    base = ["run", "village", "--days", "3", "--quiet", "--out", str(out)]
    assert run(capsys, *base)[0] == 0
    assert (out / "figures").is_dir()
    (out / "mine.txt").write_text("an earlier file")
    assert run(capsys, *base, "--force", "--no-figures", "--seed", "5")[0] == 0
    assert not (out / "figures").exists() and not (out / "mine.txt").exists()
    assert "seed = 5" in (out / "scenario.toml").read_text()
    before = sorted(p.name for p in out.iterdir())

    import errno

    import laotie.plot

    def full_disk(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(laotie.plot, "write_figures", full_disk)
    status, _, err = run(capsys, *base, "--force", "--seed", "6")
    assert status == 2 and f"{out}: cannot write" in err and "No space left" in err
    assert sorted(p.name for p in out.iterdir()) == before
    assert "seed = 5" in (out / "scenario.toml").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    # A swap interrupted after the old folder was set aside puts it back.
    monkeypatch.undo()
    import os

    import laotie.cli._common as common

    calls = []

    def second_fails(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        os.replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(common.os, "replace", second_fails)
    assert main([*base, "--force", "--seed", "7", "--no-figures"]) == 130  # interrupted
    monkeypatch.undo()
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    monkeypatch.setattr(laotie.plot, "write_figures", full_disk)
    # A first run that fails leaves no folder at all.
    fresh = tmp_path / "fresh"
    status, _, _ = run(capsys, "run", "village", "--days", "3", "--quiet", "--out", str(fresh))
    assert status == 2 and not fresh.exists() and [p.name for p in tmp_path.iterdir()] == ["run"]


def test_run_output_folder_checks_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--force replaces only an earlier run's folder (never a folder of other files), a
    folder that cannot be written fails before the run, and a link is followed."""
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "thesis.tex").write_text("mine")
    status, printed, err = run(
        capsys, "run", "village", "--days", "2", "--out", str(mine), "--force", "--quiet"
    )
    assert status == 2 and "not an earlier run's (thesis.tex)" in err and printed == ""
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    target = tmp_path / "target"
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    assert run(capsys, "run", "village", "--days", "2", "--out", str(link), "--quiet")[0] == 0
    assert link.is_symlink() and (target / "scenario.toml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents", "link", "target"]
    # A folder that cannot be made (below a file: even root cannot) fails before the run.
    (tmp_path / "a_file").write_text("")
    status, printed, err = run(
        capsys, "run", "village", "--days", "2", "--out", str(tmp_path / "a_file" / "run")
    )
    assert status == 2 and "cannot write" in err and printed == ""


def test_params_marks_changed_values(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "params", "village", "--set", "policy.traffic=head")
    assert status == 0
    line = next(x for x in out.splitlines() if x.startswith("policy.traffic"))
    assert "*head" in line and "inclusive" in line
    line = next(x for x in out.splitlines() if x.startswith("decision.intercept"))
    assert "*" not in line
    assert out.splitlines()[1].split()[-1] == "meaning"
    line = next(x for x in out.splitlines() if x.startswith("population.propensity_dispersion"))
    assert line.endswith("(0: all alike)")  # the declaration's meaning, last


def test_params_wrap_to_a_terminal_and_stay_one_line_per_key_in_a_pipe(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, piped, _ = run(capsys, "params", "village")
    keys = [x.split()[0] for x in piped.splitlines()[2:]]
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    status, shown, _ = run(capsys, "params", "village")
    assert status == 0
    lines = shown.splitlines()
    assert max(len(x) for x in lines[1:]) <= 120 < max(len(x) for x in piped.splitlines())
    # Every key still starts a line, in order (at 120 columns the keys need not wrap; the
    # narrower columns give way first); continuation lines start blank, and each
    # meaning follows its row, indented.
    starts = [x.split()[0] for x in lines[1:] if not x.startswith(" ")]
    assert starts == ["key", *keys]
    text = " ".join(shown.split())
    assert "city.user_share *0.5599606299212598" not in text  # village: the default
    first = lines.index(next(x for x in lines if x.startswith("city.user_share")))
    following = lines[first + 1 : lines.index(next(x for x in lines if x.startswith("city.rural")))]
    assert " ".join(" ".join(following).split()).endswith(
        "share of residents who are registered platform users (注册用户)"
    )


def test_version_and_info_list_the_optional_packages(capsys: pytest.CaptureFixture[str]) -> None:
    from laotie import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"laotie {__version__}\n"
    status, out, _ = run(capsys, "info")
    assert status == 0
    for name in ("pyarrow", "SALib", "sbi", "torch", "distributed", "solara"):
        line = next(x for x in out.splitlines() if x.startswith(name + " "))
        assert "pip install 'laotie[" in line
    assert "compiled kernels: on" in out


def test_experiment_list_and_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "--list"]) == 0
    listed = capsys.readouterr().out
    assert "traffic_policy" in listed and "inclusive" in listed
    assert main(["experiment", "traffic_polcy"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'traffic_polcy'" in err and "did you mean 'traffic_policy'" in err


def test_an_experiment_runs_on_worker_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # trust_shock maps its own probe function over the runs: worker processes must be able
    # to import the experiment module to unpickle it.
    out = tmp_path / "shock"
    assert main(["experiment", "trust_shock", "--quick", "--workers", "2", "--out", str(out)]) == 0
    report = (out / "report.md").read_text(encoding="utf-8")
    # The terminal gets the question, the findings and where the full report is; the
    # report's tables stay in it.
    printed = capsys.readouterr().out
    assert printed.startswith("trust_shock: When a widely sold creator product")
    assert (
        printed.rstrip()
        .splitlines()[-1]
        .startswith(f"Full report (tables, figures, assumptions): {out / 'report.md'}")
    )
    assert "## Findings" in report and "|---|" in report and "|---|" not in printed
    assert printed.count("\n- ") >= 1 and max(map(len, printed.splitlines()[2:-1])) <= 100


def test_wrapped_rows_fit_the_width_and_keep_every_word() -> None:
    from laotie.cli.info import wrapped_rows

    rows = [
        ["key", "value", "meaning"],
        ["population.propensity_dispersion", "0.5", "log-sd of users' purchase propensity"],
        ["c", "22", "short"],
    ]
    for width in (80, 40, 30):
        out = wrapped_rows(rows, width, wrap_from=2)
        assert len(out) == len(rows)
        assert max(len(line) for lines in out for line in lines) <= width
        for row, lines in zip(rows, out, strict=True):  # no character lost or added
            assert sorted("".join(lines).replace(" ", "")) == sorted("".join(row).replace(" ", ""))
    # The wrapping column gives way before the key does.
    assert wrapped_rows(rows, 60, wrap_from=2)[1][0].startswith("population.propensity_dispersion")
