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

from laotie import GraphError, LaotieError, ScenarioError
from laotie._io import read_errors, reading


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
