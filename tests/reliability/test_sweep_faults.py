"""Bad sweep specs and faults in a sweep's store: a bad spec is one named error (the file,
the key, the value, what is allowed) before any run; a damaged or interrupted store loses
nothing, and a rerun redoes only what is missing, to byte-identical tables."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import laotie
import laotie._io
import laotie.sweep.store
from laotie import LaotieError, Scenario
from laotie.sweep import Sweep, load_sweep, run_sweep
from laotie.sweep.store import SPEC_FILE as SPEC_FILE_NAME
from tests.reliability.faults import (
    assert_refused,
    assert_same_tables,
    cli,
    grow_disk,
    leftovers,
    small_disk,
)

SPEC = 'scenario = "village"\ndays = 3\nseed = 1\n'


def case(text: str | bytes, *parts: str, id: str, marks: Any = ()) -> Any:
    return pytest.param(text, parts, id=id, marks=marks)


SPECS = [
    case(
        SPEC + "grid = 5\n",
        "sweep: grid = 5 is not allowed; expected a table of dotted keys and lists of values",
        id="grid-5",
    ),
    case(
        SPEC + "samples = 2\nsample = 5\n",
        "sweep: sample must be a table of dotted keys and [low, high]",
        id="sample-5",
    ),
    case(
        SPEC + '[grid]\n"policy.traffic" = []\n',
        "sweep: grid 'policy.traffic' must be a non-empty list of values",
        id="empty-grid",
    ),
    case(
        SPEC + "replicatons = 2\n",
        "unknown key 'replicatons'; did you mean 'replications'? (valid keys: cases,",
        id="unknown-key",
    ),
    case(SPEC + "replications = 0\n", "sweep: replications = 0; expected ≥ 1", id="replications-0"),
    case(
        SPEC.replace("days = 3", 'days = "3"'),
        "sweep: days = '3'; expected an integer ≥ 0",
        id="days-as-text",
    ),
    case(
        SPEC.replace("days = 3", "days = 1_000_000"),
        "days = 1000000 is not allowed; expected an integer, 0 ≤ value ≤ 100000",
        id="days-above-the-bound",
    ),
    case("days = 3\n", "scenario is missing", id="no-scenario"),
    case(
        SPEC.replace('"village"', '"vilage"'),
        "unknown scenario 'vilage'; did you mean 'village'?",
        id="unknown-scenario",
    ),
    case(
        SPEC.replace('"village"', "5"),
        "scenario = 5; expected a name or a .toml file",
        id="scenario-5",
    ),
    case(
        SPEC + '[grid]\n"policy.reach" = [0.5, 2]\n',
        "Policy: reach = 2 is not allowed; expected a number, 0 ≤ value ≤ 1",
        id="grid-value-out-of-bounds",
    ),
    case(
        SPEC + "[grid]\nreach = [0.5]\n",
        "Scenario: unknown section 'reach'; did you mean 'policy.reach'? (sections: city,",
        id="grid-undotted-key",
    ),
    case(
        SPEC + 'samples = 2\n[sample]\n"policy.reach" = [1, 0]\n',
        "sweep: policy.reach = [1, 0]; expected a finite range with low < high",
        id="sample-range-reversed",
    ),
    case(
        SPEC + 'samples = 2\n[sample]\n"policy.traffic" = []\n',
        "only numeric parameters can be sampled (put it in the grid instead)",
        id="sample-of-a-choice",
    ),
    case(
        SPEC + "samples = 2\n",
        "sweep: samples = 2 but no key to sample; add a [sample] table",
        id="samples-without-keys",
    ),
    case(
        SPEC + 'samples = 2\nmethod = "lsh"\n[sample]\n"policy.reach" = []\n',
        "sweep: method = 'lsh'; expected 'lhs', 'sobol' or 'random'",
        id="method-misspelt",
    ),
    case(SPEC + "cases = 5\n", "sweep: cases must be a list of tables", id="cases-5"),
    case(
        SPEC + '[[cases]]\n"policy.reach" = 7\n',
        "sweep: point 0 (policy.reach = 7): Policy: reach = 7 is not allowed",
        id="case-out-of-bounds",
    ),
    case(
        SPEC + 'moments = ["T99"]\n',
        "sweep: moments: 'T99' is not a moment id; did you mean 'T9c'?",
        id="unknown-moment",
    ),
    case(
        SPEC + 'common_random_numbers = "yes"\n',
        "sweep: common_random_numbers = 'yes'; expected true or false",
        id="common-random-numbers-as-text",
    ),
    case(b"\xff\xfe\x00\x01", "not UTF-8 text; save the sweep file as UTF-8", id="binary-spec"),
    case(SPEC + "[grid\n", "not valid TOML (", id="not-toml"),
    case(
        SPEC + '[grid]\n"products.catalogue" = ["shared"]\n"products.n_products" = [1]\n',
        "products.n_products = 1 under products.catalogue = 'shared' is fewer than",
        id="grid-point-whose-keys-cannot-hold-together",
    ),
    case(
        SPEC + '[grid]\n"training.day" = [5]\n"training.n_creators" = [1]\n',
        "training.day = 5 is not within run.days = 3; the training would never happen",
        id="training-after-the-sweeps-last-day",
    ),
    case(
        SPEC
        + "replications = 1_000_000_000_000\n"
        + '[grid]\n"policy.traffic" = ["head", "inclusive"]\n',
        "sweep: 1,000,000,000,000 (replications) × 2 (grid 'policy.traffic') = "
        "2,000,000,000,000 runs is not allowed; expected at most 1,000,000 runs",
        id="replications-huge",
    ),
    case(
        SPEC + 'samples = 1_000_000_000_000\n[sample]\n"policy.reach" = []\n',
        "sweep: 1,000,000,000,000 (samples) = 1,000,000,000,000 runs is not allowed",
        id="samples-huge",
    ),
    case(
        SPEC
        + "[grid]\n"
        + "".join(
            f'"decision.{key}" = [{", ".join(["0.5"] * 10)}]\n'
            for key in ("intercept", "trust_weight", "quality_weight", "price_weight")
        )
        + '"decision.repeat_weight" = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]\n'
        + '"policy.reach" = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\n'
        + '"creators.post_prob" = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\n',
        "= 10,000,000 runs is not allowed; expected at most 1,000,000 runs",
        id="grid-of-ten-million-points",
    ),
    case(
        SPEC + '[grid]\n"run.days" = [4, 5]\n',
        "sweep: grid: 'run.days' is not allowed with days = 3, which every run simulates",
        id="grid-run-days-beside-days",
    ),
    case(
        SPEC + '[grid]\n"run.seed" = [4, 5]\n',
        "sweep: grid: 'run.seed' is not allowed; the sweep gives every run its seed",
        id="grid-run-seed",
    ),
    case(
        SPEC + '[[cases]]\n"run.seed" = 4\n',
        "sweep: cases[0]: 'run.seed' is not allowed",
        id="case-run-seed",
    ),
]


@pytest.mark.parametrize(("text", "parts"), SPECS)
def test_a_bad_sweep_spec_is_named_before_any_run(
    text: str | bytes,
    parts: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_work: None,
) -> None:
    path = tmp_path / "sweep.toml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    with pytest.raises(LaotieError) as raised:
        load_sweep(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    out = tmp_path / "out"
    assert_refused(cli(capsys, "sweep", path, "--out", out, "--quiet"), *parts)
    assert not out.exists()


VILLAGE = Scenario.preset("village")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: Sweep(VILLAGE, 5, days=3),  # type: ignore[arg-type]
            "sweep: grid = 5 is not allowed; expected a table of dotted keys and lists of values",
            id="grid-5",
        ),
        pytest.param(
            lambda: Sweep("village", {}, days=3),  # type: ignore[arg-type]
            "sweep: base = 'village' is not a Scenario",
            id="a-name-for-the-base-scenario",
        ),
        pytest.param(
            lambda: Sweep(VILLAGE, draws=[{}], days=3),
            "sweep: draws[0] must be a non-empty table, got {}",
            id="an-empty-draw",
        ),
        pytest.param(
            lambda: Sweep(VILLAGE, cases=[{"policy.reach": 0.1, 5: 1}], days=3),  # type: ignore[dict-item]
            "sweep: cases[0]: key 5 is not allowed; expected a dotted key (text)",
            id="a-case-key-that-is-not-text",
        ),
        pytest.param(
            lambda: Sweep(VILLAGE, {"policy.reach": [0.1]}, days=np.int64(-1)),  # type: ignore[arg-type]
            "sweep: days = -1; expected an integer ≥ 0",
            id="days-a-negative-numpy-integer",
        ),
        pytest.param(
            lambda: run_sweep("sweep.toml", "out"),  # type: ignore[arg-type]
            "sweep = 'sweep.toml' is not a Sweep (laotie.sweep.load_sweep reads a spec file)",
            id="run-sweep-given-a-file-name",
        ),
        pytest.param(
            lambda: run_sweep(Sweep(VILLAGE, {"policy.reach": [0.1]}, days=1), 5),  # type: ignore[arg-type]
            "out = 5 is not allowed; expected a folder's path",
            id="run-sweep-into-a-number",
        ),
    ],
)
def test_a_bad_sweep_made_in_python_is_named(make: Any, message: str, no_work: None) -> None:
    with pytest.raises(LaotieError) as raised:
        make()
    assert message in str(raised.value)


def test_a_choice_for_the_api_only_is_refused_by_laotie_sweep_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    """training.rule = "targeted" needs the creators laotie.policy gives: a sweep's grid
    that sets it is refused before any run (runs would all fail), naming the spec and key."""
    path = tmp_path / "sweep.toml"
    path.write_text(SPEC + '[grid]\n"training.rule" = ["local", "targeted"]\n', encoding="utf-8")
    line = assert_refused(
        cli(capsys, "sweep", path, "--out", tmp_path / "out", "--quiet"),
        f"{path}: training.rule: rule = 'targeted' takes its targets from the Python API",
    )
    assert line and not (tmp_path / "out").exists()


def test_a_grid_whose_keys_hold_only_together_is_run(tmp_path: Path) -> None:
    """Trained creators need a training day: each alone is refused, the point is not."""
    sweep = Sweep(VILLAGE, {"training.day": [1], "training.n_creators": [2]}, days=3, seed=1)
    assert (run_sweep(sweep, tmp_path / "out").runs["status"] == "ok").all()


# ------------------------------------------------------------------ the store


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "sweep.toml"
    path.write_text(SPEC + '[grid]\n"policy.traffic" = ["head", "inclusive"]\n', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def whole(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep's folder, run without a fault."""
    out = tmp_path_factory.mktemp("whole") / "out"
    run_sweep(load_sweep(spec_file), out).write()
    return out


def test_a_folder_of_another_sweep_is_refused_and_its_runs_kept(
    spec_file: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(spec_file.read_text(encoding="utf-8").replace("seed = 1", "seed = 2"))
    before = {p.name: p.stat().st_mtime_ns for p in (whole / "runs").iterdir()}
    outcome = cli(capsys, "sweep", other, "--out", whole, "--quiet")
    line = assert_refused(
        outcome,
        f"{whole} holds the runs of a different sweep (its sweep.json differs from this spec "
        "at seed: 1 there, 2 here)",
        f"use another folder, or delete {whole}",
    )
    assert outcome.err == line + "\n"  # the refusal alone, before any line about the sweep
    assert {p.name: p.stat().st_mtime_ns for p in (whole / "runs").iterdir()} == before


def test_a_sweep_resumed_after_its_graph_file_changed_names_the_file(
    tmp_path: Path, no_work: None
) -> None:
    """It said only "holds the runs of a different sweep": the changed graph file, the
    likeliest cause, is named."""
    models = Path(laotie.__file__).parents[1] / "models" / "karate_club"
    folder = Path(shutil.copytree(models, tmp_path / "karate"))

    def sweep() -> Sweep:
        scenario = Scenario.from_toml(folder / "scenario.toml")
        return Sweep(scenario, {"policy.traffic": ["head"]}, replications=1, days=2, seed=1)

    out = tmp_path / "out"
    before = sweep()
    laotie.sweep.store.claim(out, before)  # as run_sweep does before its first run
    graph = folder / "karate.graphml"
    graph.write_text(graph.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after = sweep()
    with pytest.raises(LaotieError) as caught:
        run_sweep(after, out)
    assert str(caught.value) == (
        f"{out} holds the runs of a different sweep: the graph file {graph} has changed since "
        f"they ran (sha256 {before.base.graph.sha256[:12]}... in its sweep.json, "
        f"{after.base.graph.sha256[:12]}... now); resuming would mix their results: use "
        f"another folder, or delete {out}"
    )


def test_a_resumed_sweep_deletes_what_a_killed_write_left(
    spec_file: Path, whole: Path, tmp_path: Path
) -> None:
    """A process killed (SIGKILL) while it wrote a run's table or the sweep's file leaves
    its temporary file: never read, but one more with every kill."""
    out = copy_of(whole, tmp_path)
    cut = [
        out / "runs" / ".run_000000_daily.parquet.0123456789ab.part",
        out / ".sweep.json.0123456789ab.part",
        out / ".daily.parquet.0123456789ab.part",
    ]
    for path in cut:
        path.write_bytes(b"half a file")
    run_sweep(load_sweep(spec_file), out).write()
    assert leftovers(out) == []
    assert_same_tables(out, whole)


def copy_of(whole: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(whole, tmp_path / "out"))


@pytest.mark.parametrize(
    ("data", "parts"),
    [
        pytest.param(
            b"\xff\xfe\x00",
            ("sweep.json: cannot read (", "delete {out} to start over"),
            id="binary",
        ),
        pytest.param(
            b"[1, 2]",
            ("sweep.json: cannot read (not a table: list)", "delete {out} to start over"),
            id="a-list",
        ),
        pytest.param(
            b'{"sweep": {',
            ("sweep.json: cannot read (", "delete {out} to start over"),
            id="cut-off",
        ),
    ],
)
def test_a_damaged_sweep_json_is_named_and_the_runs_kept(
    data: bytes,
    parts: tuple[str, ...],
    spec_file: Path,
    whole: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_work: None,
) -> None:
    out = copy_of(whole, tmp_path)
    (out / "sweep.json").write_bytes(data)
    runs = sorted(p.name for p in (out / "runs").iterdir())
    outcome = cli(capsys, "sweep", spec_file, "--out", out, "--quiet")
    assert_refused(outcome, *[part.format(out=out) for part in parts])
    assert sorted(p.name for p in (out / "runs").iterdir()) == runs


def test_runs_without_their_sweep_json_are_refused(
    spec_file: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = copy_of(whole, tmp_path)
    (out / "sweep.json").unlink()
    assert_refused(
        cli(capsys, "sweep", spec_file, "--out", out, "--quiet"),
        f"{out}/runs holds runs of an unknown sweep (sweep.json is missing)",
    )


def test_a_sweep_into_a_folder_of_other_files_is_refused_and_they_are_kept(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "daily.parquet").write_bytes(b"a laotie run's table")
    outcome = cli(capsys, "sweep", spec_file, "--out", out, "--quiet")
    line = assert_refused(
        outcome,
        f"{out}: the folder holds other files (daily.parquet) and no sweep.json (it is not a "
        "sweep's); use an empty or new folder, or the folder of this sweep to resume it",
    )
    assert outcome.err == line + "\n"
    assert [p.name for p in out.iterdir()] == ["daily.parquet"]
    assert (out / "daily.parquet").read_bytes() == b"a laotie run's table"


def test_run_sweep_refuses_a_folder_of_other_files_as_laotie_sweep_does(
    spec_file: Path, tmp_path: Path, no_work: None
) -> None:
    """The rule is claim's, so that the Python API refuses too (run_sweep wrote its runs
    among a laotie run's results)."""
    out = tmp_path / "results"
    out.mkdir()
    names = ["daily.parquet", "figures", "manifest.json", "summary.csv"]
    for name in names:
        (out / name).mkdir() if name == "figures" else (out / name).write_text(name)
    with pytest.raises(LaotieError) as caught:
        run_sweep(load_sweep(spec_file), out)
    assert str(caught.value) == (
        f"{out}: the folder holds other files (daily.parquet, figures, manifest.json, ...) "
        "and no sweep.json (it is not a sweep's); use an empty or new folder, or the folder "
        "of this sweep to resume it"
    )
    assert sorted(p.name for p in out.iterdir()) == names


def test_a_sweep_into_a_file_is_refused(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "out"
    out.write_text("mine")
    outcome = cli(capsys, "sweep", spec_file, "--out", out, "--quiet")
    line = assert_refused(
        outcome, f"{out} exists and is not a folder; a sweep's runs go in a folder"
    )
    assert outcome.err == line + "\n"
    assert out.read_text() == "mine"


@pytest.mark.parametrize("with_its_spec", [False, True], ids=["new-folder", "resumed-folder"])
def test_a_file_where_the_runs_folder_goes_is_refused_before_any_run(
    with_its_spec: bool,
    spec_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_work: None,
) -> None:
    """A file named ``runs`` in the sweep's folder was "[Errno 20] Not a directory" without
    context (a new folder) or refused only after every run was made (a resumed one)."""
    out = tmp_path / "out"
    if with_its_spec:
        laotie.sweep.store.claim(out, load_sweep(spec_file))  # its sweep.json
    else:
        out.mkdir()
    (out / "runs").write_text("mine")
    outcome = cli(capsys, "sweep", spec_file, "--out", out, "--quiet")
    line = assert_refused(
        outcome,
        f"{out}/runs exists and is not a folder; a sweep keeps its runs in that folder",
    )
    assert outcome.err == line + "\n"
    assert (out / "runs").read_text() == "mine"


def test_a_sweep_into_a_folder_that_cannot_be_written_is_refused_before_any_run(
    spec_file: Path, unwritable: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    """What a read-only folder does (injected: the tests may run as root)."""
    shared = unwritable
    out = shared / "out"
    assert_refused(
        cli(capsys, "sweep", spec_file, "--out", out, "--quiet"),
        f"{out}/sweep.json: cannot write ([Errno 13] Permission denied",
    )
    assert list(shared.iterdir()) == []


def rewrite_record(out: Path, run: int, change: Any) -> None:
    path = out / "runs" / f"run_{run:06d}.json"
    path.write_bytes(change(path.read_bytes(), out))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda data, out: data[: len(data) // 2], id="record-cut-in-half"),
        pytest.param(
            lambda data, out: (out / "runs" / "run_000000.json").read_bytes(),
            id="record-of-another-run-copied-over-it",
        ),
        pytest.param(
            lambda data, out: json.dumps(json.loads(data) | {"status": 5}).encode(),
            id="record-with-a-status-that-is-not-text",
        ),
    ],
)
def test_a_damaged_run_record_is_redone_alone(
    change: Any, spec_file: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(whole, tmp_path)
    rewrite_record(out, 1, change)
    kept = (out / "runs" / "run_000000.json").stat().st_mtime_ns
    assert cli(capsys, "sweep", spec_file, "--out", out, "--quiet").status == 0
    assert (out / "runs" / "run_000000.json").stat().st_mtime_ns == kept
    assert_same_tables(out, whole)


def full_disk_at(call: int, monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
    """Make the ``call``-th file that ``module`` writes fail half-written with ENOSPC."""
    calls: list[Path] = []
    real = laotie._io.atomic_write

    def writer(path: Path, write: Any, error: type = LaotieError) -> None:
        calls.append(path)
        if len(calls) == call:

            def half(tmp: Path) -> None:
                tmp.write_bytes(b"half a table")
                raise OSError(errno.ENOSPC, "No space left on device")

            return real(path, half, error)
        return real(path, write, error)

    monkeypatch.setattr(module, "atomic_write", writer)


def test_a_full_disk_while_a_run_is_stored_loses_nothing_once_resumed(
    spec_file: Path,
    whole: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second run's first table cannot be written: the sweep stops with the file named,
    the first run kept, nothing half-written left; once there is room, the same command
    redoes the second run alone, to the same tables."""
    out = tmp_path / "out"
    stored_per_run = len(json.loads((whole / "runs" / "run_000000.json").read_text())["files"])
    # sweep.json, run 0's files and record, then run 1's first table
    full_disk_at(1 + stored_per_run + 1 + 1, monkeypatch, laotie.sweep.store)
    assert_refused(
        cli(capsys, "sweep", spec_file, "--out", out, "--quiet"),
        f"{out}/runs/run_000001_daily.",
        ": cannot write ([Errno 28] No space left on device)",
        ran=True,
    )
    assert leftovers(out) == []
    assert not (out / "runs" / "run_000001.json").exists()
    kept = (out / "runs" / "run_000000.json").stat().st_mtime_ns
    monkeypatch.undo()
    assert cli(capsys, "sweep", spec_file, "--out", out, "--quiet").status == 0
    assert (out / "runs" / "run_000000.json").stat().st_mtime_ns == kept
    assert_same_tables(out, whole)


def test_a_really_full_disk_loses_nothing_once_there_is_room(
    spec_file: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tmpfs with room for about the first run's files: the sweep stops with a named
    error and nothing half-written; once the disk has room, the same command keeps the runs
    stored and gives the tables of a sweep never interrupted."""
    first = [whole / SPEC_FILE_NAME, whole / "runs" / "run_000000.json"]
    first += [whole / "runs" / name for name in json.loads(first[1].read_text())["files"]]
    kb = 4 * (sum(-(-p.stat().st_size // 4096) for p in first) + 2)
    with small_disk(tmp_path / "disk", kb) as disk:
        out = disk / "out"
        line = assert_refused(
            cli(capsys, "sweep", spec_file, "--out", out, "--quiet"),
            "No space left on device",
            ran=True,
        )
        assert line.startswith(f"laotie: error: {out}"), line
        assert leftovers(out) == []
        stored = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("run_*.json")}
        assert stored, "the disk should hold at least the first run"
        grow_disk(disk, 64 * 1024)
        assert cli(capsys, "sweep", spec_file, "--out", out, "--quiet").status == 0
        after = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("run_*.json")}
        assert {name: after[name] for name in stored} == stored  # not run again
        assert_same_tables(out, whole)


def test_a_full_disk_while_the_tables_are_written_loses_no_run(
    spec_file: Path,
    whole: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every run is stored; the first of the final tables cannot be written: nothing
    half-written is left, and the same command writes the tables without redoing a run."""
    out = copy_of(whole, tmp_path)
    records = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    full_disk_at(1, monkeypatch, laotie.sweep.store)  # the daily table (the runs are done)
    assert_refused(
        cli(capsys, "sweep", spec_file, "--out", out, "--quiet"),
        f"{out}/daily.",
        ": cannot write ([Errno 28] No space left on device)",
        ran=True,
    )
    assert leftovers(out) == []
    monkeypatch.undo()
    assert cli(capsys, "sweep", spec_file, "--out", out, "--quiet").status == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == records
    assert_same_tables(out, whole)


def test_a_sweep_with_no_workers_is_refused(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_work: None
) -> None:
    out = tmp_path / "out"
    assert_refused(
        cli(capsys, "sweep", spec_file, "--out", out, "--workers", "0"),
        "workers = 0; expected an integer ≥ 1",
    )
    assert not out.exists()


def test_laotie_sweep_workers_are_capped_by_cores_and_by_memory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``laotie sweep --workers 1000`` asks for no more processes than the usable cores, nor
    than the memory available holds one run's city each (as ``laotie run --workers``)."""
    import laotie.executors as executors

    path = tmp_path / "sweep.toml"
    path.write_text(SPEC.replace("days = 3", "days = 1"), encoding="utf-8")
    monkeypatch.setattr(executors, "usable_cores", lambda: 8)
    outcome = cli(capsys, "sweep", path, "--out", tmp_path / "by-cores", "--workers", "1000")
    assert outcome.status == 0, outcome
    assert "1 runs on 8 local worker processes (1000 asked; 8 usable cores)" in outcome.err
    monkeypatch.setattr(executors, "available_bytes", lambda: 1)  # room for no city at all
    outcome = cli(capsys, "sweep", path, "--out", tmp_path / "by-memory", "--workers", "1000")
    assert outcome.status == 0, outcome
    assert "1 runs in this process (1000 asked; memory for 1, " in outcome.err, outcome.err


def test_a_sweep_takes_numpy_integers_as_integers() -> None:
    """An np.int64 was refused as "days = np.int64(2); expected an integer ≥ 0"."""
    made = Sweep(VILLAGE, {"policy.reach": [0.1]}, days=np.int64(2), replications=np.int64(2))  # type: ignore[arg-type]
    assert (made.days, made.replications) == (2, 2)
    assert type(made.days) is int and type(made.replications) is int
