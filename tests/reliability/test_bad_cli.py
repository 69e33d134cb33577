"""Bad command lines and faults while ``laotie run`` writes its folder: each ends with exit
status 2 and one line ``laotie: error: ...`` naming the flag, the value and what is allowed,
before any work starts; an output folder is complete or absent, an earlier one never lost."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import laotie._io
import laotie.runs
from laotie import graph
from laotie.scenario import Scenario
from tests.reliability.faults import assert_refused, cli, leftovers

pytestmark = pytest.mark.integration  # the command line end to end

ROOT = Path(__file__).resolve().parents[2]


def case(argv: list[str], *parts: str, id: str, marks: object = ()) -> object:
    return pytest.param(argv, parts, id=id, marks=marks)


FLAGS = [
    case(["run", "village", "--days", "0"], "--days 0: expected an integer ≥ 1", id="days-0"),
    case(
        ["run", "village", "--days", "100001"],
        "--days 100001: Run: days = 100001 is not allowed; expected an integer, 0 ≤ value ≤ "
        "100000 days",
        id="days-above-the-bound",
    ),
    case(
        ["run", "village", "--days", "abc"],
        "argument --days: invalid int value: 'abc' (laotie run --help shows the usage)",
        id="days-not-a-number",
    ),
    case(
        ["run", "village", "--seed", str(2**63)],
        f"--seed {2**63}: Run: seed = {2**63} is not allowed; expected an integer, 0 ≤ value ≤ "
        f"{2**63 - 1}",
        id="seed-above-the-bound",
    ),
    case(
        ["run", "poverty_county", "--set", "information.training_rule=targeted"],
        "--set information.training_rule: training_rule = 'targeted' takes its targets from the "
        "Python API (laotie.policy), not from a scenario file or --set",
        id="api-only-choice-by-set",
    ),
    case(
        ["run", "{targeted}"],
        "{targeted} [training]: rule = 'targeted' takes its targets from the Python API",
        id="api-only-choice-in-a-file",
    ),
    case(
        ["run", "village", "--workers", "0"], "--workers 0: expected an integer ≥ 1", id="workers-0"
    ),
    case(
        ["run", "village", "-R", "0"],
        "--replications 0: expected an integer, 1 ≤ value ≤ 100,000",
        id="replications-0",
    ),
    case(
        ["run", "village", "-R", "1000000000000"],
        "--replications 1000000000000: expected an integer, 1 ≤ value ≤ 100,000",
        id="a-trillion-replications",
    ),
    case(
        ["run", "village", "--scale", "0"],
        "scale = 0.0 is not allowed; expected a number > 0",
        id="scale-0",
    ),
    case(
        ["run", "village", "--scale", "1e17"],
        "scale = 1e+17 is not allowed: region 'Village' would have",
        "residents; expected at most 10,000,000,000 per region",
        id="scale-that-overflows-a-population",
    ),
    case(
        ["run", "village", "--set", "policy.reach"],
        "--set 'policy.reach': expected KEY=VALUE, e.g. policy.reach=0.5",
        id="set-without-a-value",
    ),
    case(
        ["run", "village", "--set", "reach=0.5"],
        "--set 'reach=0.5': expected a dotted key, section.key",
        "(did you mean policy.reach?)",
        id="set-undotted-key",
    ),
    case(
        ["run", "village", "--set", "policy.reech=0.5"],
        "Scenario [policy]: unknown key 'reech'; did you mean 'reach'?",
        id="set-unknown-key",
    ),
    case(
        ["run", "village", "--set", "policy.reach=lots"],
        "Policy: reach = 'lots' is not allowed; expected a number, 0 ≤ value ≤ 1",
        id="set-text-for-a-number",
    ),
    case(
        ["run", "village", "--set", "policy.traffic=hed"],
        "Policy: traffic = 'hed' is not allowed; expected one of 'head', 'inclusive'; did you "
        "mean 'head'?",
        id="set-misspelt-choice",
    ),
    case(
        [
            "run",
            "village",
            "--days",
            "3",
            "--set",
            "training.day=5",
            "--set",
            "training.n_creators=1",
        ],
        "--days 3: scenario 'village': training.day = 5 is not within run.days = 3",
        id="set-a-training-day-after-the-run",
    ),
    case(
        ["run", "vilage"],
        "unknown scenario 'vilage'; did you mean 'village'? (known: county,",
        id="unknown-scenario",
    ),
    case(
        ["rn", "village"],
        "argument COMMAND: invalid choice: 'rn' (choose from 'graph', 'run',",
        id="unknown-subcommand",
    ),
    case(
        ["run", "village", "--dayz", "3"],
        "unrecognized arguments: --dayz 3",
        id="unknown-flag",
    ),
    case(
        ["run", "village", "--graph", "{graph}", "--scale", "2"],
        "is the graph of every replication: no --vary-graph or --scale",
        id="graph-and-scale",
    ),
    case(
        ["run", "village", "--graph", "{tmp}/none.npz"],
        "none.npz: no such file",
        id="graph-file-missing",
    ),
    case(
        ["run", "village", "--graph", "{truncated}"],
        "truncated.npz: not a laotie graph file",
        id="graph-file-truncated",
    ),
    case(
        ["validate", "village", "--days", "100001"],
        "--days 100001: Run: days = 100001 is not allowed; expected an integer, 0 ≤ value ≤ "
        "100000 days",
        id="validate-days-above-the-bound",
    ),
    case(
        ["validate", "village", "--seed", str(2**63)],
        f"--seed {2**63}: Run: seed = {2**63} is not allowed; expected an integer, 0 ≤ value",
        id="validate-seed-above-the-bound",
    ),
    case(
        ["graph", "village", "--out", "{tmp}/g.weird"],
        "--out {tmp}/g.weird: unknown file type '.weird'; use .npz or .csv",
        id="graph-out-of-unknown-type",
    ),
    case(
        ["graph", "village", "--out", "{file}/g.npz"],
        "--out {file}/g.npz: cannot write below {file}, a file, not a folder",
        id="graph-out-below-a-file",
    ),
    case(
        ["graph", "village", "--out", "{tmp}"],
        "--out {tmp}: unknown file type ''",
        id="graph-out-a-folder",
    ),
    case(
        ["graph", "--from", "{graph}", "--chunk-rows", "0"],
        "--chunk-rows 0: expected an integer ≥ 1",
        id="graph-chunk-rows-0",
    ),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A village's graph, the same cut in half, and a plain file."""
    folder = tmp_path_factory.mktemp("files")
    saved = folder / "village.npz"
    graph.city(Scenario.preset("village").city, seed=1).save(saved)
    data = saved.read_bytes()
    (folder / "truncated.npz").write_bytes(data[: len(data) // 2])
    (folder / "a_file").write_text("not a folder")
    targeted = folder / "targeted.toml"
    targeted.write_text('[city]\npreset = "mudanjiang"\n[training]\nrule = "targeted"\n')
    return {
        "graph": saved,
        "truncated": folder / "truncated.npz",
        "file": folder / "a_file",
        "targeted": targeted,
    }


@pytest.mark.parametrize(("argv", "parts"), FLAGS)
def test_a_bad_command_line_is_one_line_before_any_work(
    argv: list[str],
    parts: tuple[str, ...],
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_work: None,
) -> None:
    names = {key: str(path) for key, path in files.items()} | {"tmp": str(tmp_path)}
    out = tmp_path / "out"
    assert_refused(
        cli(capsys, *[arg.format(**names) for arg in argv], "--out", out)
        if argv[0] == "run"
        else cli(capsys, *[arg.format(**names) for arg in argv]),
        *[part.format(**names) for part in parts],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["run", "{tmp}/binary.toml"], id="binary-scenario-file"),
        pytest.param(["run", "village", "--days", "abc"], id="days-not-a-number"),
    ],
)
def test_the_installed_command_prints_one_line_and_no_traceback(
    argv: list[str], tmp_path: Path
) -> None:
    """The same refusals from ``python -m laotie`` in a process of its own: what a user sees
    is one line on standard error and nothing else."""
    (tmp_path / "binary.toml").write_bytes(b"\x00\xff\xfe\x89PNG")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "laotie", *[arg.format(tmp=tmp_path) for arg in argv]],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("laotie: error: ")


# ------------------------------------------------------------------ the output folder

RUN = ["run", "village", "--days", "3", "--quiet", "--no-figures"]


def test_out_onto_a_file_is_refused_and_the_file_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    target = tmp_path / "results"
    target.write_text("mine")
    assert_refused(cli(capsys, *RUN, "--out", target), f"--out {target} exists and is not a folder")
    assert target.read_text() == "mine"


def test_out_into_a_folder_that_holds_files_needs_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    target = tmp_path / "results"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    outcome = cli(capsys, *RUN, "--out", target)
    line = assert_refused(outcome, f"{target} is not empty; pass --force")
    # Refused first: before the graph is built and the run announced.
    assert outcome.err == line + "\n", outcome.err
    assert_refused(
        cli(capsys, *RUN, "--out", target, "--force"),
        f"--out {target} holds files that are not an earlier run's (notes.txt); --force "
        "replaces only a folder written by laotie run",
    )
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "mine"


def test_out_below_a_file_fails_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    (tmp_path / "a_file").write_text("")
    target = tmp_path / "a_file" / "results"
    assert_refused(cli(capsys, *RUN, "--out", target), f"{target}: cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_out_in_a_folder_that_cannot_be_written_fails_before_the_run(
    unwritable: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    """What a read-only folder does (injected: the tests may run as root, whom permissions
    do not stop)."""
    shared = unwritable
    target = shared / "results"
    assert_refused(
        cli(capsys, *RUN, "--out", target), f"{target}: cannot write", "Permission denied"
    )
    assert list(shared.iterdir()) == []


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes any folder"
)
def test_out_in_a_read_only_folder_fails_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o555)
    try:
        target = shared / "results"
        assert_refused(
            cli(capsys, *RUN, "--out", target), f"{target}: cannot write", "Permission denied"
        )
        assert list(shared.iterdir()) == []
    finally:
        shared.chmod(0o755)


def full_disk_at(call: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the ``call``-th file ``laotie run`` writes fail half-written with ENOSPC."""
    calls: list[Path] = []
    real = laotie._io.atomic_write

    def writer(path: Path, write: object, error: type = laotie.LaotieError) -> None:
        calls.append(path)
        if len(calls) == call:

            def half(tmp: Path) -> None:
                tmp.write_bytes(b"half a table")
                raise OSError(errno.ENOSPC, "No space left on device")

            return real(path, half, error)
        return real(path, write, error)  # type: ignore[arg-type]

    monkeypatch.setattr(laotie.runs, "atomic_write", writer)


def test_a_full_disk_leaves_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    full_disk_at(3, monkeypatch)
    target = tmp_path / "results"
    line = assert_refused(
        cli(capsys, *RUN, "--out", target),
        ": cannot write ([Errno 28] No space left on device)",
        ran=True,
    )
    assert line.startswith(f"laotie: error: {target}{os.sep}"), line  # not the temporary one
    assert list(tmp_path.iterdir()) == []


def test_what_a_killed_run_left_beside_its_folder_is_removed_by_the_next(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run SIGKILLed while it wrote its folder leaves its temporary sibling: the next run
    into that folder removes it (it was left there for good), and only it."""
    target = tmp_path / "results"
    killed = tmp_path / ".results.0123456789ab.part"
    killed.mkdir()
    (killed / "daily.parquet").write_bytes(b"half")
    mine = [tmp_path / ".results.notahexdigit.part", tmp_path / ".other.0123456789ab.part"]
    for path in mine:
        path.mkdir()
    outcome = cli(capsys, *RUN, "--out", target)
    assert outcome.status == 0, outcome
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["results", *(p.name for p in mine)]
    )


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_full_disk_while_replacing_an_earlier_run_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "results"
    assert cli(capsys, *RUN, "--out", target).status == 0
    before = digest(target)
    full_disk_at(2, monkeypatch)
    assert_refused(
        cli(capsys, *RUN, "--out", target, "--force", "--seed", "9"),
        "cannot write",
        "No space left on device",
        ran=True,
    )
    assert digest(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def test_sigterm_while_the_folder_is_written_leaves_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM (what ``timeout`` and job schedulers send) is handled as Ctrl-C: exit 130, the
    half-written folder removed."""
    write_run = laotie.runs.write_run

    def terminated(folder: Path, *args: object) -> list[Path]:
        written = write_run(folder, *args)  # type: ignore[arg-type]
        os.kill(os.getpid(), signal.SIGTERM)
        return written

    monkeypatch.setattr(laotie.runs, "write_run", terminated)
    target = tmp_path / "results"
    outcome = cli(capsys, *RUN, "--out", target)
    assert outcome.status == 130 and outcome.err.endswith("laotie: interrupted\n")
    assert "Traceback" not in outcome.err
    assert list(tmp_path.iterdir()) == []
    assert leftovers(tmp_path) == []
