"""`laotie validate`: the table of moments, its last line, the CSV and bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from laotie import Scenario
from laotie.cli import main
from laotie.moments import MOMENTS, validate
from laotie.runs import replicate

pytestmark = pytest.mark.integration  # the command line end to end

ARGS = ["validate", "village", "--days", "40", "-R", "2", "--seed", "5", "--quiet"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_validate_prints_every_moment_and_the_count_inside(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, *ARGS)
    assert status == 0
    assert "Scenario 'village': 2,000 residents, 40 days, 2 replication(s), seed 5" in err
    assert "Building the city graph" not in err  # --quiet
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "moment", "target"]
    rows = [line for line in lines[1:] if re.match(r"T\d", line)]
    assert [row.split()[0] for row in rows] == [m.id for m in MOMENTS]
    inside = [row.rsplit(maxsplit=1)[1] for row in rows]
    assert set(inside) <= {"yes", "no", "n/a"}
    assert lines[-1] == f"inside band: {inside.count('yes')} of {len(MOMENTS)} moments"
    # A 40-day run has no month after the first, so no repurchase rate.
    t5a = next(row for row in rows if row.startswith("T5a "))
    assert t5a.split()[-2:] == ["n/a", "n/a"]


def test_validate_reports_the_library_table_of_the_same_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "moments.csv"
    status, _, _ = run(capsys, *ARGS, "--out", str(target))
    assert status == 0
    written = pd.read_csv(target)
    # The same seed gives the same graph and markets as the library's replicate().
    from laotie._random import run_seeds
    from laotie.graph import city

    scenario = Scenario.preset("village")
    graph = city(scenario.city, seed=run_seeds(5, 2)[0])
    expected = validate(replicate(scenario, 2, days=40, seed=5, graph=graph), graph)
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    # Not over the file without --force.
    status, _, err = run(capsys, *ARGS, "--out", str(target))
    assert status == 2 and err == f"laotie: error: {target} exists; pass --force to overwrite it\n"
    assert run(capsys, *ARGS, "--out", str(target), "--force")[0] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "villag"], "did you mean 'village'"),
        (["validate", "village", "-R", "0"], "--replications 0"),
        (["validate", "village", "--workers", "0"], "--workers 0"),
        (["validate", "village", "--days", "-1"], "--days -1"),
        (["validate", "missing.toml"], "missing.toml: no such scenario file"),
        (["validate", "village", "--set", "policy.trafic=head"], "did you mean 'traffic'"),
        (["validate", "village", "--out", "."], "is a folder"),
    ],
)
def test_validate_bad_input_gives_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith("laotie: error: ") and err.count("\n") == 1
    assert message in err


def test_validate_help_has_an_example() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "laotie", "validate", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "example" in done.stdout and "laotie validate village" in done.stdout


def test_validate_against_a_targets_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --targets, the file's moments in its order, with its bands, and counts of the
    fitted and held-out moments inside their bands."""
    synthetic = Path(__file__).parents[1] / "experiments" / "calibration" / "synthetic_village.toml"
    out = tmp_path / "moments.csv"
    status, printed, _ = run(capsys, *ARGS, "--targets", str(synthetic), "--out", str(out))
    assert status == 0
    table = pd.read_csv(out)
    assert table["id"].tolist() == ["T1a", "T1c", "T7b"]
    assert table["role"].tolist() == ["fit", "fit", "held_out"]
    # The file's band for T1a (3 % to 90 %), not the registry's (3 % to 5 %).
    assert table.set_index("id").loc["T1a", "high"] == pytest.approx(0.9)
    lines = printed.splitlines()
    fitted = int(table[table.role == "fit"].inside.sum())
    assert f"inside band, fitted: {fitted} of 2" in lines
    held = int(table[table.role == "held_out"].inside.sum())
    assert f"inside band, held out: {held} of 1" in lines
    assert lines[-1] == f"inside band: {int(table.inside.sum())} of 3 moments"
    # Without --days, --seed and --scale, the file's (20 days, seed 3, scale 1).
    status, _, err = run(
        capsys, "validate", "village", "-R", "1", "--quiet", "--targets", str(synthetic)
    )
    assert status == 0 and "20 days, 1 replication(s), seed 3" in err
    # A missing targets file is refused before anything runs.
    status, _, err = run(capsys, "validate", "village", "--targets", str(tmp_path / "no.toml"))
    assert status == 2 and "no such targets file" in err and "Scenario" not in err


def test_validate_names_the_graph_build_unless_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a for a in ARGS if a != "--quiet"]
    status, _, err = run(capsys, *argv)
    assert status == 0
    assert err.index("Building the city graph (2,000 residents)…") < err.index(
        "Setting up the market…"
    )
