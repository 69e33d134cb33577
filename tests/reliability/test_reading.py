"""The one guarded reading layer (``laotie._io.reading``): what reading a damaged or
foreign file raises becomes one named error, and each reader that had no guard of its own
now uses it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from laotie import GraphError, LaotieError, Scenario, ScenarioError
from laotie._io import read_errors, reading
from laotie.sweep import Sweep, collect, run_sweep


@pytest.mark.parametrize(
    "raised",
    [
        FileNotFoundError(2, "No such file or directory"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        json.JSONDecodeError("Expecting value", "x", 0),
        pd.errors.ParserError("Error tokenizing data"),
        KeyError("values"),
        IndexError("list index out of range"),
        TypeError("a .npy file"),
        EOFError("No data left in file"),
        zipfile.BadZipFile("File is not a zip file"),
        NotImplementedError("unsupported Parquet type"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_read_error_becomes_one_named_error(raised: Exception, tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    with pytest.raises(GraphError) as caught, reading(path, GraphError, "; write it again"):
        raise raised
    assert str(caught.value).startswith(f"{path}: cannot read ({type(raised).__name__}: ")
    assert str(caught.value).endswith("; write it again")
    assert caught.value.__cause__ is raised


def test_laotie_errors_and_other_errors_pass_unchanged(tmp_path: Path) -> None:
    named = ScenarioError("already named")
    with pytest.raises(ScenarioError) as caught, reading(tmp_path / "f"):
        raise named
    assert caught.value is named  # not wrapped again (ScenarioError is a ValueError)
    with pytest.raises(RuntimeError, match="a bug"), reading(tmp_path / "f"):
        raise RuntimeError("a bug")  # not a damaged file: a bug must stay visible


def test_pyarrow_errors_are_read_errors_once_pyarrow_is_loaded(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    assert pa.lib.ArrowException in read_errors()
    bad = tmp_path / "daily.parquet"
    bad.write_bytes(b"PAR1" + bytes(64) + b"PAR1")
    with pytest.raises(LaotieError, match=r"daily\.parquet: cannot read \("), reading(bad):
        pd.read_parquet(bad)


def test_a_damaged_npz_is_named(tmp_path: Path) -> None:
    good = tmp_path / "arrays.npz"
    np.savez(good, values=np.arange(5))
    bad = tmp_path / "cut.npz"
    bad.write_bytes(good.read_bytes()[:40])
    expected = r"cut\.npz: cannot read \(BadZipFile: "
    with pytest.raises(LaotieError, match=expected), reading(bad):
        np.load(bad, allow_pickle=False)["values"]


def test_a_calibration_rounds_damaged_draws_are_named(tmp_path: Path) -> None:
    npe = pytest.importorskip("laotie.calibrate.npe")
    path = tmp_path / "round-2" / "draws.csv"
    path.parent.mkdir()
    path.write_bytes(b"\xff\xfe\x00b\x00i\x00n\x00")  # UTF-16 text: not UTF-8
    with pytest.raises(LaotieError) as caught:
        npe._round_draws(None, None, 10, 0, path)
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot read (UnicodeDecodeError: ")
    assert message.endswith(f"; delete {path.parent} to draw the round again")


def test_a_folder_in_a_toml_files_place_is_named(tmp_path: Path) -> None:
    from laotie.sweep import load_sweep

    folder = tmp_path / "scenario.toml"
    folder.mkdir()
    expected = f"{folder}: cannot read (IsADirectoryError: "
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_toml(folder)
    assert str(caught.value).startswith(expected)
    with pytest.raises(ScenarioError) as caught:
        load_sweep(folder)
    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        pytest.param(
            "g.graphml",
            '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
            '<graph edgedefault="undirected"><node id="a"><data key="nope">1</data></node>'
            "</graph></graphml>",
            "g.graphml: not a readable GRAPHML file (Bad GraphML data: no key nope)",
            id="graphml-data-without-its-key",
        ),
        pytest.param(
            "g.gexf",
            "<gexf><nodes/></gexf>",
            "g.gexf: not a readable GEXF file (No <graph> element in GEXF file.)",
            id="gexf-without-a-graph",
        ),
    ],
)
def test_what_networkx_refuses_is_named(
    name: str, text: str, expected: str, tmp_path: Path
) -> None:
    """networkx's own errors and XML parser errors are read errors (they were caught by an
    ``except Exception`` of the GraphML and GEXF reader's own)."""
    from laotie.graph import read_graph

    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(GraphError) as caught:
        read_graph(tmp_path / name)
    assert str(caught.value) == f"{tmp_path}/{expected}"


def test_a_posterior_that_is_not_text_is_named(tmp_path: Path) -> None:
    import shutil

    from laotie.posterior import load_posterior
    from laotie.scenario import scenario_path

    shipped = scenario_path("mudanjiang_calibrated")
    assert shipped is not None
    folder = Path(shutil.copytree(shipped.parent, tmp_path / "calibrated"))
    (folder / "posterior.csv").write_bytes(b"\xff\xfe\x00d\x00r\x00a\x00w\x00")
    with pytest.raises(ScenarioError) as caught:
        load_posterior(folder)
    message = str(caught.value)
    assert message.startswith(f"{folder / 'posterior.csv'}: cannot be read as CSV ('utf-8' codec")


@pytest.fixture(scope="module")
def sweep_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Sweep, Path]:
    """A finished sweep of the village (one run, three days) and its folder."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    sweep = Sweep(
        Scenario.preset("village"), {"policy.traffic": ["head"]}, replications=1, days=3, seed=1
    )
    run_sweep(sweep, out)
    return sweep, out


@pytest.mark.parametrize("fault", ["folder", "deleted", "cut"])
def test_a_stored_table_that_is_not_the_file_written_is_named(
    fault: str, sweep_store: tuple[Sweep, Path], tmp_path: Path
) -> None:
    """A folder in a run's table's place was read by pyarrow as an empty table, and a
    deleted table as none: ``SweepResult.regions()`` of a result collected before the
    damage silently lost the run's rows."""
    import shutil

    sweep, stored = sweep_store
    out = Path(shutil.copytree(stored, tmp_path / "out"))
    result = collect(sweep, out)
    table = next((out / "runs").glob("run_000000_regions.*"))
    data = table.read_bytes()
    table.unlink()
    if fault == "folder":
        table.mkdir()
        expected = (
            f"{table}: a folder, where run 0's regions table was written (its record lists "
            "the file); delete the folder and run the sweep again to redo run 0"
        )
    elif fault == "deleted":
        expected = f"{table}: damaged ({table.name} is missing); run the sweep again to redo run 0"
    else:
        table.write_bytes(data[:-10])
        expected = (
            f"{table}: damaged ({table.name} has {len(data) - 10} bytes where {len(data)} "
            "were written); run the sweep again to redo run 0"
        )
    with pytest.raises(LaotieError) as caught:
        result.regions()
    assert str(caught.value) == expected
