"""Bad graph files and damaged result folders: each is refused with one named error (the
file, what is wrong in it, what is allowed), through the Python API and the command line
alike; never a traceback, never read as valid. (The manifest's own checks of a result's
files are in test_damaged_data.py.)"""

from __future__ import annotations

import errno
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import laotie.results
from laotie import GraphError, LaotieError, Result, Scenario, simulate
from laotie.graph import read_graph
from laotie.graph.generators import city
from tests.reliability.faults import assert_refused, cli, leftovers


@pytest.fixture(scope="module")
def saved_graph(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a village's graph saved as .npz."""
    path = tmp_path_factory.mktemp("graph") / "village.npz"
    city(Scenario.preset("village").city, seed=1).save(path)
    return path.read_bytes()


def npz_with(data: bytes, path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """Write to ``path`` the saved graph ``data`` with ``change`` made to its arrays."""
    path.write_bytes(data)
    with np.load(path) as stored:
        arrays = {name: stored[name].copy() for name in stored.files}
    change(arrays)
    np.savez(path, **arrays)  # type: ignore[arg-type]


def flipped(data: bytes) -> bytes:
    """``data`` with 64 bytes in its middle overwritten (a stored array's checksum fails)."""
    middle = len(data) // 2
    return data[:middle] + b"\xff" * 64 + data[middle + 64 :]


def out_of_range(arrays: dict[str, np.ndarray]) -> None:
    arrays["indices"][0] = 1_000_000


def without_trust(arrays: dict[str, np.ndarray]) -> None:
    del arrays["trust"]


GRAPHML = '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'


def case(
    name: str,
    content: str | bytes | Callable[[bytes, Path], None],
    *parts: str,
    id: str,
    options: dict[str, str] | None = None,
    marks: Any = (),
) -> Any:
    """A graph file ``name`` holding ``content`` (or written by it from the saved graph's
    bytes), read with the keywords ``options`` of read_graph."""
    return pytest.param(name, content, options or {}, parts, id=id, marks=marks)


GRAPHS = [
    case("g.npz", b"", "g.npz: not a laotie graph file", id="zero-byte-npz"),
    case(
        "g.npz",
        lambda data, path: path.write_bytes(data[: len(data) // 2]),
        "g.npz: not a laotie graph file",
        id="truncated-npz",
    ),
    case(
        "g.npz",
        lambda data, path: path.write_bytes(flipped(data)),
        "g.npz: not a laotie graph file",
        id="corrupted-npz",
    ),
    case(
        "g.npz",
        lambda data, path: npz_with(data, path, out_of_range),
        "g.npz: 1 edge(s) point to unknown node ids (valid ids are 0 .. 1999), e.g. 1000000",
        id="npz-node-id-out-of-range",
    ),
    case(
        "g.npz",
        lambda data, path: npz_with(data, path, without_trust),
        "g.npz: not a laotie graph file (no array 'trust'; it holds 'creator_kind', 'header', ",
        id="npz-without-an-array",
    ),
    case(
        "e.csv",
        "source,trust\na,0.5\n",
        "e.csv: no column(s) 'target'; the columns are 'source', 'trust'",
        id="csv-without-a-target-column",
    ),
    case(
        "e.txt",
        "1 2\n2 3\n3\n4 5\n",
        "e.txt: 1 row(s) have no value in column 'target', e.g. rows 3",
        id="edge-list-line-without-a-target",
    ),
    case(
        "e.txt",
        "1 2\n2 3\nx y z w\n4 5\n",
        "e.txt: not a readable edgelist file (",
        "Expected 2 fields in line 3, saw 4",
        id="edge-list-line-of-four-fields",
    ),
    case(
        "e.txt",
        "source target\n1 2\n2 3\n",
        "e.txt: the first line (source target) names columns, but a whitespace edge list has "
        "no header",
        id="edge-list-with-a-header",
    ),
    case(
        "g.graphml",
        GRAPHML + '<graph edgedefault="undirected"></graph></graphml>',
        "g.graphml: the GRAPHML file has no nodes (and so no ties)",
        id="graphml-without-nodes-or-ties",
    ),
    case(
        "g.graphml",
        GRAPHML + '<graph><node id="a"',
        "g.graphml: not a readable GRAPHML file (unclosed token: line 1",
        id="graphml-cut-off",
    ),
    case("e.txt", "1 1\n1 2\n", "e.txt: 1 edge(s) are self-loops, e.g. 1→1", id="self-loop"),
    case(
        "e.txt",
        "1 2 -3\n2 3 1\n",
        "e.txt: 1 tie(s) have a 'weight' that is not in (0, 1] (transform 'identity'), e.g. "
        "rows 1 (values -3.0)",
        id="negative-trust",
        options={"trust": "weight"},
    ),
    case(
        "e.txt",
        "1 2 nan\n2 3 1\n",
        "e.txt: 1 tie(s) have a 'weight' that is not a finite number",
        id="nan-trust",
        options={"trust": "weight"},
    ),
    case(
        "e.txt",
        b"\x00\xff\xfe\x01\x02" * 100,
        "e.txt: not a readable edge list ('utf-8' codec can't decode byte 0xff",
        id="binary-edge-list",
    ),
    case(
        "e.csv",
        "source,target\na,b\n".encode("utf-16"),
        "e.csv: not a readable CSV file ('utf-8' codec can't decode byte 0xff",
        id="utf16-csv",
    ),
    case(
        "e.txt.gz",
        b"not gzip at all",
        "e.txt.gz: not a readable edge list (Not a gzipped file",
        id="gz-that-is-not-gzip",
    ),
    case(
        "e.doc",
        "1 2\n",
        "e.doc: unknown file type '.doc'; use one of .csv, .edgelist",
        id="unknown-file-type",
    ),
    case("e.csv", "", "e.csv: not a readable CSV file (No columns to parse", id="empty-csv"),
    case(
        "e.csv",
        "source,target\n",
        "e.csv: the edge list has no ties (and no node list nodes)",
        id="csv-header-only",
    ),
    case(
        "e.txt",
        "1 2\n2 3\n",
        "e.txt: creators = 'nonsense': unknown rule 'nonsense'; allowed for creators: attr:NAME, "
        "top-degree:K",
        id="unknown-creators-rule",
        options={"creators": "nonsense"},
    ),
]


FLAGS = {"trust": "--trust-attr", "creators": "--creators"}
"""The flags of laotie graph --from for read_graph's keywords used here."""


@pytest.mark.parametrize(("name", "content", "options", "parts"), GRAPHS)
def test_a_bad_graph_file_is_named(
    name: str,
    content: str | bytes | Callable[[bytes, Path], None],
    options: dict[str, str],
    parts: tuple[str, ...],
    saved_graph: bytes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_work: None,
) -> None:
    """By ``read_graph``, ``laotie graph --from`` and, read without mapping, ``laotie run
    --graph``."""
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content(saved_graph, path)
    with pytest.raises(GraphError) as raised:
        read_graph(path, **options)  # type: ignore[arg-type]
    message = str(raised.value)
    assert message.startswith(str(tmp_path)), message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"
    flags = [text for key, value in options.items() for text in (FLAGS[key], value)]
    assert_refused(cli(capsys, "graph", "--from", path, *flags), *parts)
    if not options:
        assert_refused(cli(capsys, "run", "village", "--graph", path, "--days", "3"), *parts)


def test_a_node_list_without_a_node_an_edge_names_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "e.csv").write_text("source,target\na,b\n", encoding="utf-8")
    (tmp_path / "n.csv").write_text("id\na\n", encoding="utf-8")
    message = "e.csv: 1 row(s) have a target that is not a node of"
    with pytest.raises(GraphError, match=re.escape(message)):
        read_graph(tmp_path / "e.csv", nodes=tmp_path / "n.csv")
    outcome = cli(capsys, "graph", "--from", tmp_path / "e.csv", "--nodes", tmp_path / "n.csv")
    assert_refused(outcome, message, "n.csv, e.g. rows 1 (target 'b')")


# ---------------------------------------------------------------------- result folders


@pytest.fixture(scope="module")
def saved_result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("result") / "village"
    simulate(Scenario.preset("village"), days=3, seed=1).save(folder)
    return folder


def edit_meta(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    """Change ``result.json`` by hand."""

    def edit(folder: Path) -> None:
        path = folder / "result.json"
        meta = json.loads(path.read_text(encoding="utf-8"))
        change(meta)
        path.write_text(json.dumps(meta), encoding="utf-8")

    return edit


def write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def cut_in_half(name: str) -> Callable[[Path], None]:
    def cut(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    return cut


def delete_daily(folder: Path) -> None:
    next(folder.glob("daily.*")).unlink()


def harm(change: Callable[[Path], object], *parts: str, id: str, marks: Any = ()) -> Any:
    return pytest.param(change, parts, id=id, marks=marks)


RESULTS = [
    harm(
        write("result.json", b"\xff\xfe\x00\x01"),
        "result.json: cannot read (UnicodeDecodeError",
        id="result-json-binary",
    ),
    harm(
        cut_in_half("result.json"),
        "result.json: cannot read (JSONDecodeError",
        id="result-json-cut-in-half",
    ),
    harm(
        write("result.json", b"[1, 2]"),
        "result.json: not a laotie result file",
        id="result-json-a-list",
    ),
    harm(
        lambda folder: (folder / "result.json").unlink(),
        ": not a complete result: result.json is missing",
        id="result-json-deleted",
    ),
    harm(
        edit_meta(lambda meta: meta.__setitem__("frames", list(meta["frames"]))),
        "result.json: damaged result: frames is not a table (list)",
        id="a-table-of-result-json-made-a-list",
    ),
    harm(
        edit_meta(lambda meta: meta.pop("outcomes")), "result.json", "outcomes", id="outcomes-out"
    ),
    harm(
        edit_meta(lambda meta: meta.__setitem__("format_version", 99)),
        "result.json: written by a newer laotie (format version 99); upgrade laotie to read it",
        id="newer-format",
    ),
    harm(
        edit_meta(lambda meta: meta.__setitem__("format_version", "2")),
        "result.json: format_version is not an integer",
        id="format-version-as-text",
    ),
    harm(
        edit_meta(lambda meta: meta["scenario"]["policy"].__setitem__("reach", 5)),
        "result.json [scenario] [policy]: reach = 5 is not allowed; expected a number, 0 ≤ "
        "value ≤ 1",
        id="saved-scenario-edited-out-of-bounds",
    ),
    harm(delete_daily, ": not a complete result: daily.", "is missing", id="daily-deleted"),
    harm(
        lambda folder: (
            edit_meta(lambda meta: (meta.pop("files"), meta.__setitem__("format_version", 1)))(
                folder
            ),
            cut_in_half("arrays.npz")(folder),
        ),
        "arrays.npz: cannot read (BadZipFile",
        id="arrays-cut-in-a-result-saved-before-manifests",
    ),
    harm(
        cut_in_half("arrays.npz"),
        ": damaged result: arrays.npz has ",
        "were written (checked against the manifest in result.json); save or run it again",
        id="arrays-cut-in-half",
    ),
    harm(
        lambda folder: (
            edit_meta(lambda meta: meta["files"].pop("summary.csv"))(folder),
            cut_in_half("summary.csv")(folder),
        ),
        ": damaged result: summary.csv is not in the manifest (checked against the manifest",
        id="a-table-taken-out-of-the-manifest-then-cut",
    ),
    harm(
        edit_meta(lambda meta: meta.__setitem__("files", {})),
        ": damaged result: daily.",
        "is not in the manifest; summary.csv is not in the manifest;",
        id="the-manifest-emptied",
    ),
    harm(
        edit_meta(lambda meta: meta["frames"]["summary"].__setitem__("file", 5)),
        "result.json: damaged result: a table's file is 5; expected the name of a file in the "
        "result's folder",
        id="a-tables-file-a-number",
    ),
    harm(
        edit_meta(lambda meta: meta["frames"]["summary"].__setitem__("file", "../other/s.csv")),
        "result.json: damaged result: a table's file is '../other/s.csv'; expected the name",
        id="a-tables-file-in-another-folder",
    ),
    harm(
        edit_meta(lambda meta: meta["files"]["summary.csv"].__setitem__("bytes", True)),
        ": damaged result: the manifest's entry 'summary.csv' is malformed: {'bytes': True,",
        id="a-manifest-entry-of-true-bytes",
    ),
]


@pytest.mark.parametrize(("change", "parts"), RESULTS)
def test_a_damaged_result_folder_is_named(
    change: Callable[[Path], object], parts: tuple[str, ...], saved_result: Path, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(saved_result, tmp_path / "village"))
    change(folder)
    with pytest.raises(LaotieError) as raised:
        Result.load(folder)
    message = str(raised.value)
    assert message.startswith(str(folder)), message
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


def test_a_full_disk_while_saving_over_a_result_leaves_it_refused_not_mixed(
    saved_result: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old result.json is removed first, so the half-new, half-old folder is refused as
    incomplete; no temporary file is left."""
    folder = Path(shutil.copytree(saved_result, tmp_path / "village"))
    other = simulate(Scenario.preset("village"), days=3, seed=2)
    write_csv = laotie.results._write_csv
    writes = []

    def full(frame: object, path: Path) -> None:
        writes.append(path)
        if len(writes) == 2:
            path.write_bytes(b"half a table")
            raise OSError(errno.ENOSPC, "No space left on device")
        write_csv(frame, path)  # type: ignore[arg-type]

    monkeypatch.setattr(laotie.results, "_write_csv", full)
    with pytest.raises(LaotieError, match=r": cannot write \(\[Errno 28\] No space left on device"):
        other.save(folder, overwrite=True)
    assert leftovers(folder) == []
    with pytest.raises(LaotieError, match="not a complete result: result.json is missing"):
        Result.load(folder)


def test_saving_below_a_file_is_named(saved_result: Path, tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")
    result = simulate(Scenario.preset("village"), days=2, seed=1)
    with pytest.raises(LaotieError, match=r"a_file/result: cannot write \(\[Errno 20\] Not a dir"):
        result.save(tmp_path / "a_file" / "result")
