"""Damaged data is never read as valid: a result folder, a run folder and a sweep's store
carry manifests (each file's size and SHA-256), checked before anything is read; a sweep
rerun redoes a run whose files fail the check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from laotie import LaotieError, Result, Scenario, simulate
from laotie.cli import main
from laotie.sweep import Sweep, collect, failures, run_sweep


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two results of the village, saved."""
    folder = tmp_path_factory.mktemp("results")
    for seed in (1, 2):
        simulate(Scenario.preset("village"), days=6, seed=seed).save(folder / f"seed{seed}")
    return folder / "seed1", folder / "seed2"


def copy_of(folder: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(folder, tmp_path / folder.name))


def test_a_saved_result_lists_its_files_and_loads(saved: tuple[Path, Path]) -> None:
    files = json.loads((saved[0] / "result.json").read_text(encoding="utf-8"))["files"]
    on_disk = {p.name for p in saved[0].iterdir()} - {"result.json"}
    assert set(files) == on_disk
    assert all(files[name]["bytes"] == (saved[0] / name).stat().st_size for name in files)
    Result.load(saved[0])


def test_a_summary_with_rows_cut_off_is_named(saved: tuple[Path, Path], tmp_path: Path) -> None:
    folder = copy_of(saved[0], tmp_path)
    lines = (folder / "summary.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "summary.csv").write_text("".join(lines[:-2]), encoding="utf-8")
    with pytest.raises(LaotieError, match=r"damaged result: summary\.csv has \d+ bytes where"):
        Result.load(folder)


def test_a_daily_table_from_another_run_is_named(saved: tuple[Path, Path], tmp_path: Path) -> None:
    folder = copy_of(saved[0], tmp_path)
    daily = next(p.name for p in folder.iterdir() if p.name.startswith("daily."))
    shutil.copy(saved[1] / daily, folder / daily)
    with pytest.raises(LaotieError, match=rf"damaged result: {daily} (has|is not the file)"):
        Result.load(folder)


def test_an_edit_that_keeps_the_size_is_found(saved: tuple[Path, Path], tmp_path: Path) -> None:
    folder = copy_of(saved[0], tmp_path)
    data = bytearray((folder / "arrays.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "arrays.npz").write_bytes(bytes(data))
    with pytest.raises(LaotieError, match=r"arrays\.npz is not the file that was written"):
        Result.load(folder)


def sweep() -> Sweep:
    return Sweep(
        Scenario.preset("village"), {"policy.traffic": ["head", "inclusive"]}, days=5, seed=4
    )


@pytest.mark.parametrize("harm", ["delete", "truncate", "swap"])
def test_a_sweep_rerun_redoes_a_run_whose_files_are_damaged(harm: str, tmp_path: Path) -> None:
    whole = run_sweep(sweep(), tmp_path / "whole")
    out = tmp_path / "harmed"
    run_sweep(sweep(), out)
    table = next((out / "runs").glob("run_000001_daily.*"))
    other = next((out / "runs").glob("run_000000_daily.*"))
    if harm == "delete":
        table.unlink()
    elif harm == "truncate":
        table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    else:
        shutil.copy(other, table)
    # Read without a rerun, the damaged run is neither ok nor read.
    found = collect(sweep(), out)
    assert found.runs["status"].tolist() == ["ok", "damaged"]
    assert table.name in failures(found)["error"].iloc[0]
    assert sorted(found.daily["run"].unique()) == [0]
    # A rerun redoes that run alone, to the same numbers.
    kept = (out / "runs" / "run_000000.json").stat().st_mtime_ns
    again = run_sweep(sweep(), out)
    assert (out / "runs" / "run_000000.json").stat().st_mtime_ns == kept
    assert (again.runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(again.daily, whole.daily)


def test_a_run_folder_carries_a_manifest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["run", "village", "--days", "4", "--out", str(out), "--quiet"]) == 0
    files = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {"manifest.json"}
    assert any(name.startswith("figures/") for name in files)
    assert all(files[name]["bytes"] == (out / name).stat().st_size for name in files)


@pytest.mark.parametrize(
    "files", [[], "x", None, {"daily.csv": 5}, {"summary.csv": {"bytes": "1"}}]
)
def test_a_malformed_manifest_is_named(
    files: object, saved: tuple[Path, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved[0], tmp_path)
    meta = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    meta["files"] = files
    (folder / "result.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(LaotieError, match="damaged result: the manifest"):
        Result.load(folder)


def test_taking_the_manifest_out_does_not_turn_the_check_off(
    saved: tuple[Path, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved[0], tmp_path)
    meta = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    del meta["files"]
    (folder / "result.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(LaotieError, match=r"damaged result: its manifest \(files\) is missing"):
        Result.load(folder)


@pytest.mark.parametrize(
    "files",
    [
        None,
        [],
        {"run_000001_daily.csv": 5},
        # An emptied manifest, or one without the daily table or the arrays: the run was
        # "ok" and left out of the sweep's daily table unseen.
        {},
        "without-daily",
        "without-arrays",
    ],
)
def test_a_sweep_run_with_a_malformed_or_missing_manifest_is_redone(
    files: object, tmp_path: Path
) -> None:
    out = tmp_path / "sweep"
    whole = run_sweep(sweep(), out)
    path = out / "runs" / "run_000001.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    if files is None:
        del record["files"]
    elif files == "without-daily":
        record["files"] = {k: v for k, v in record["files"].items() if "_daily." not in k}
    elif files == "without-arrays":
        record["files"] = {k: v for k, v in record["files"].items() if not k.endswith(".npz")}
    else:
        record["files"] = files
    path.write_text(json.dumps(record), encoding="utf-8")
    assert collect(sweep(), out).runs["status"].tolist() == ["ok", "damaged"]
    with pytest.raises(LaotieError, match="run 1 .* is damaged"):
        collect(sweep(), out).arrays(1)
    again = run_sweep(sweep(), out)
    assert (again.runs["status"] == "ok").all()
    pd.testing.assert_frame_equal(again.daily, whole.daily)


def test_a_table_the_manifest_does_not_list_is_not_read(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    found = run_sweep(sweep(), out)
    before = found.monthly()
    listed = json.loads((out / "runs" / "run_000001.json").read_text(encoding="utf-8"))["files"]
    planted = "run_000001_monthly.csv"
    assert planted not in listed
    pd.DataFrame({"month": [0], "dau": [123456789]}).to_csv(out / "runs" / planted, index=False)
    pd.testing.assert_frame_equal(collect(sweep(), out).monthly(), before)
