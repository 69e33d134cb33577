"""Result.save and Result.load: lossless in Parquet and in the CSV fallback, atomic, careful."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import laotie.results
from laotie import LaotieError, Result, Scenario, simulate
from laotie.metrics import ROWS

RESULT_FILES = (
    "result.json",
    "summary.csv",
    "order_values.csv",
    "information.csv",
    "information_regions.csv",
    "monthly.csv",
    "producers.csv",
    "regions.csv",
    "arrays.npz",
)


@pytest.fixture(scope="module")
def result() -> Result:
    """40 days of Mudanjiang at 1/500 scale with 30 poor producers and two government
    messages (about 0.1 s)."""
    scenario = Scenario.preset("mudanjiang", scale=0.002).replace(
        **{
            "producers.n_producers": 30,
            "producers.channel": "both",
            "information.n_messages": 2,
            "information.first_day": 3,
        }
    )
    return simulate(scenario, days=40, seed=1)


@pytest.fixture(params=["parquet", "csv"])
def daily_format(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Save with Parquet (when pyarrow is installed) or with the CSV fallback."""
    if request.param == "parquet":
        pytest.importorskip("pyarrow")
    else:
        monkeypatch.setattr(laotie.results, "parquet_available", lambda: False)
    return request.param


def assert_same_outcomes(got: dict[str, float], expected: dict[str, float]) -> None:
    assert list(got) == list(expected)
    for key, value in expected.items():
        assert type(got[key]) is type(value), key
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == value, key


def assert_same_result(loaded: Result, result: Result) -> None:
    pd.testing.assert_frame_equal(loaded.daily, result.daily, check_exact=True)
    # Unordered categoricals compare equal whatever the order of their categories.
    assert list(loaded.daily["channel"].cat.categories) == list(ROWS)
    pd.testing.assert_frame_equal(loaded.summary, result.summary, check_exact=True)
    pd.testing.assert_frame_equal(loaded.order_values, result.order_values, check_exact=True)
    for name in ("information", "information_regions", "monthly", "producers", "regions"):
        pd.testing.assert_frame_equal(
            getattr(loaded, name), getattr(result, name), check_exact=True
        )
    for name in (
        "creator_income",
        "producer_income",
        "producer_orders",
        "producer_buyers",
        "seller_gmv",
    ):
        got, expected = getattr(loaded, name), getattr(result, name)
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype
    assert_same_outcomes(loaded.outcomes, result.outcomes)
    assert loaded.seed == result.seed
    assert loaded.info == result.info
    assert loaded.scenario == result.scenario


def test_round_trip_is_lossless(result: Result, daily_format: str, tmp_path: Path) -> None:
    result.save(tmp_path / "run")
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == sorted([*RESULT_FILES, f"daily.{daily_format}"])
    assert_same_result(Result.load(tmp_path / "run"), result)


def test_round_trip_of_a_run_of_no_days(daily_format: str, tmp_path: Path) -> None:
    empty = simulate(Scenario.preset("mudanjiang", scale=0.001), days=0, seed=3)
    assert len(empty.daily) == 0
    empty.save(tmp_path)
    assert_same_result(Result.load(tmp_path), empty)


def test_csv_keeps_awkward_floats_exactly(
    result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(laotie.results, "parquet_available", lambda: False)
    daily = result.daily.copy()
    awkward = [0.1 + 0.2, 1e-300, 5e-324, 1.7976931348623157e308, -0.0, np.inf, np.nan, 1 / 3]
    daily.loc[: len(awkward) - 1, "gmv"] = awkward
    odd = dataclasses.replace(result, daily=daily)
    odd.save(tmp_path)
    loaded = Result.load(tmp_path).daily["gmv"].to_numpy()
    np.testing.assert_array_equal(loaded, daily["gmv"].to_numpy())
    assert np.signbit(loaded[4])


def test_result_json_is_strict_json(result: Result, tmp_path: Path) -> None:
    result.save(tmp_path)

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} in result.json")

    meta = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"), parse_constant=refuse)
    assert meta["format_version"] == 2
    assert meta["outcomes"]["monthly_repurchase_all"] is None  # NaN: 40 days, no month pair
    assert meta["scenario"] == result.scenario.to_dict()
    channel = next(c for c in meta["frames"]["daily"]["columns"] if c["name"] == "channel")
    assert channel["categories"] == list(ROWS)


def test_refuses_to_overwrite_unless_asked(result: Result, tmp_path: Path) -> None:
    result.save(tmp_path)
    with pytest.raises(LaotieError, match=rf"{tmp_path}: already holds a result.*overwrite=True"):
        result.save(tmp_path)
    result.save(tmp_path, overwrite=True)
    assert_same_result(Result.load(tmp_path), result)


def test_overwrite_in_the_other_format_leaves_one_daily_file(
    result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    result.save(tmp_path)
    monkeypatch.setattr(laotie.results, "parquet_available", lambda: False)
    result.save(tmp_path, overwrite=True)
    assert not (tmp_path / "daily.parquet").exists()
    assert_same_result(Result.load(tmp_path), result)


def test_other_files_in_the_directory_are_left_alone(result: Result, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result.save(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_save_creates_missing_parents(result: Result, tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "run"
    result.save(target)
    assert (target / "result.json").exists()


def test_save_into_a_file_is_refused(result: Result, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(LaotieError, match="not a directory"):
        result.save(target)


def test_failed_save_leaves_no_temporary_file_and_no_result(
    result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, arrays: dict[str, np.ndarray]) -> None:
        path.write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(laotie.results, "_write_npz", broken)
    with pytest.raises(LaotieError, match="arrays.npz: cannot write .*disk full"):
        result.save(tmp_path)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not (tmp_path / "arrays.npz").exists()
    with pytest.raises(LaotieError, match="result.json is missing"):
        Result.load(tmp_path)


def test_failed_overwrite_leaves_the_directory_marked_incomplete(
    result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result.save(tmp_path)
    monkeypatch.setattr(laotie.results, "_write_csv", _raise_os_error)
    with pytest.raises(LaotieError, match="cannot write"):
        result.save(tmp_path, overwrite=True)
    with pytest.raises(LaotieError, match="not a complete result"):
        Result.load(tmp_path)


def _raise_os_error(*args: object) -> None:
    raise OSError("no space left")


def test_info_that_json_cannot_hold_is_refused_before_writing(
    result: Result, tmp_path: Path
) -> None:
    odd = dataclasses.replace(result, info={"wall": float("nan")})
    with pytest.raises(LaotieError, match="cannot save the result's info as JSON"):
        odd.save(tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_load_of_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(LaotieError, match=rf"{tmp_path / 'nowhere'}: no such result directory"):
        Result.load(tmp_path / "nowhere")


@pytest.mark.parametrize("missing", [*RESULT_FILES, "daily"])
def test_load_names_the_missing_file(result: Result, tmp_path: Path, missing: str) -> None:
    result.save(tmp_path)
    if missing == "daily":
        missing = next(p.name for p in tmp_path.glob("daily.*"))
    (tmp_path / missing).unlink()
    with pytest.raises(LaotieError, match=rf"{tmp_path}: not a complete result: {missing} is"):
        Result.load(tmp_path)


def without_manifest(folder: Path) -> None:
    """Make a saved result one saved before manifests (format version 1, no files)."""
    meta = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    del meta["files"]
    meta["format_version"] = 1
    (folder / "result.json").write_text(json.dumps(meta), encoding="utf-8")


def test_load_of_a_damaged_file_names_it(result: Result, tmp_path: Path) -> None:
    result.save(tmp_path)
    (tmp_path / "arrays.npz").write_bytes(b"not a zip")
    with pytest.raises(LaotieError, match="damaged result: arrays.npz has 9 bytes"):
        Result.load(tmp_path)
    without_manifest(tmp_path)  # as saved before manifests: the reader names the file
    with pytest.raises(LaotieError, match="arrays.npz: cannot read"):
        Result.load(tmp_path)
    (tmp_path / "result.json").write_text("{")
    with pytest.raises(LaotieError, match="result.json: cannot read"):
        Result.load(tmp_path)


def test_load_refuses_a_newer_format(result: Result, tmp_path: Path) -> None:
    result.save(tmp_path)
    meta = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    meta["format_version"] = 99
    (tmp_path / "result.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(LaotieError, match="newer laotie"):
        Result.load(tmp_path)


def test_load_of_parquet_without_pyarrow_says_what_to_install(
    result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    result.save(tmp_path)
    monkeypatch.setattr(laotie.results, "parquet_available", lambda: False)
    with pytest.raises(LaotieError, match="daily.parquet: reading Parquet needs pyarrow"):
        Result.load(tmp_path)


def test_a_csv_that_does_not_match_its_schema_is_refused(result: Result, tmp_path: Path) -> None:
    result.save(tmp_path)
    frame = pd.read_csv(tmp_path / "order_values.csv")
    frame.drop(columns="wom").to_csv(tmp_path / "order_values.csv", index=False)
    without_manifest(tmp_path)  # which would find the change first
    with pytest.raises(LaotieError, match="order_values.csv: columns .* do not match"):
        Result.load(tmp_path)


def test_an_unknown_channel_in_a_csv_is_refused(
    result: Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(laotie.results, "parquet_available", lambda: False)
    result.save(tmp_path)
    text = (tmp_path / "daily.csv").read_text().replace(",follow,", ",folow,", 1)
    (tmp_path / "daily.csv").write_text(text)
    without_manifest(tmp_path)  # which would find the change first
    with pytest.raises(LaotieError, match=r"daily.csv: cannot read .*\['folow'\]"):
        Result.load(tmp_path)


def test_outcome_columns_are_the_outcomes_a_run_reports() -> None:
    from laotie import Scenario, simulate
    from laotie.results import OUTCOME_COLUMNS

    result = simulate(Scenario.preset("village"), days=2, seed=1)
    assert tuple(result.outcomes) == OUTCOME_COLUMNS


def test_run_tables_stack_the_replications_months() -> None:
    from laotie.runs import replicate, run_tables

    results = replicate(Scenario.preset("village"), replications=2, days=61, seed=4)
    monthly = run_tables(results)["monthly"]
    assert list(monthly.columns[:2]) == ["replication", "month"]
    for r, result in enumerate(results):
        assert len(result.monthly) == 2
        mine = monthly[monthly.replication == r].drop(columns="replication")
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), result.monthly)
