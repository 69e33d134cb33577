"""``.npz`` files written and read past the page cache (laotie._io.write_npz, read_npz).

The reader must give what ``np.load`` gives, array for array, and make the zip's checks: a
damaged member is refused wherever the damage falls. The page-cache advice is checked by
recording the calls: a large file is dropped from the cache while it is written and read.
"""

from __future__ import annotations

import gc
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import laotie._io as lio
from laotie._io import Archive, read_errors, read_npz, write_npz

STEP = 4096 * 3
"""A small PAST_CACHE for the tests, so that a few hundred kB take many steps; not a multiple
of the arrays' items, so that steps end inside an item."""


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lio, "PAST_CACHE", STEP + 8)


def _arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    return {
        "f4": rng.random(70_001, dtype=np.float32),
        "i8": rng.integers(-(2**62), 2**62, size=(301, 17)),
        "big_endian": rng.integers(0, 2**31, size=5_000).astype(">i4"),
        "flags": rng.random(40_003) < 0.3,
        "i1": rng.integers(-128, 128, size=9, dtype=np.int8),
        "c16": rng.random(33) + 1j * rng.random(33),
        "scalar": np.array(2.5),
        "empty": np.zeros((2, 0, 3), np.int32),
        "text": np.array("héllo, 老铁"),
    }


def _equal(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert list(got) == list(want)
    for name, array in want.items():
        assert got[name].dtype == array.dtype, name
        assert got[name].shape == array.shape, name
        assert np.array_equal(got[name], array), name


@pytest.mark.usefixtures("small_steps")
def test_read_npz_gives_what_np_load_gives(tmp_path: Path) -> None:
    arrays = _arrays()
    path = tmp_path / "a.npz"
    write_npz(path, arrays)
    with np.load(path, allow_pickle=False) as data:
        loaded = {name: data[name] for name in data.files}
    _equal(loaded, arrays)
    _equal(read_npz(path), arrays)


@pytest.mark.parametrize("write", ["compressed", "fortran"])
def test_members_numpy_must_read_are_read_by_numpy(tmp_path: Path, write: str) -> None:
    arrays = _arrays()
    path = tmp_path / "a.npz"
    if write == "compressed":
        np.savez_compressed(path, **arrays)
    else:
        arrays["fortran"] = np.asfortranarray(np.arange(12.0).reshape(3, 4))
        np.savez(path, **arrays)
    _equal(read_npz(path), arrays)


def test_an_object_array_is_refused_as_np_load_refuses_it(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez(path, ok=np.arange(3), objects=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(ValueError, match="allow_pickle"):
        read_npz(path)


def test_write_npz_refuses_an_object_array_before_a_reader_would(tmp_path: Path) -> None:
    """An object array is refused when written (np.savez would pickle it, and every reader
    here refuses it), and the file is left to its caller's atomic write to discard."""
    with pytest.raises(ValueError, match="array 'objects' holds Python objects"):
        write_npz(tmp_path / "a.npz", {"objects": np.array([{"a": 1}, None], dtype=object)})


def _cut_short(cls: type[zipfile.ZipFile]) -> zipfile.ZipFile:
    """An archive whose ``__init__`` was interrupted right after it set its file (as a
    Ctrl-C there leaves one): the attributes set before ``fp`` and ``fp`` itself."""
    archive = cls.__new__(cls)
    archive._didModify = False
    archive.mode = "w"
    archive._filePassed = 1
    archive.fp = io.BytesIO()
    return archive


def test_an_archive_cut_short_in_its_set_up_closes_quietly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``Archive.close`` (called by ``__del__``) works on an archive whose ``__init__`` an
    interrupt cut short, where zipfile's raised AttributeError, which Python printed to
    stderr with a traceback after an interrupted command's own message (a flaky signal
    test caught it); the file passed in is left open, as zipfile leaves it."""
    unraisable: list[object] = []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    plain = _cut_short(zipfile.ZipFile)
    with pytest.raises(AttributeError):
        plain.close()
    del plain  # its __del__ raises again: what Python printed
    gc.collect()
    assert len(unraisable) == 1
    unraisable.clear()
    archive = _cut_short(Archive)
    handle = archive.fp
    archive.close()
    assert archive.fp is None and not handle.closed
    del archive
    bare = Archive.__new__(Archive)  # cut short before any attribute
    bare.close()
    del bare
    gc.collect()
    assert unraisable == []


def _data_offset(path: Path, member: str) -> tuple[int, int]:
    """Where the member's array starts in the file, and its size in bytes."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member + ".npy")
        with archive.open(info) as handle:
            whole = handle.read()
    raw = path.read_bytes()
    start = raw.index(whole)
    array = np.lib.format.read_array(io.BytesIO(whole))
    return start + len(whole) - array.nbytes, array.nbytes


@pytest.mark.usefixtures("small_steps")
@pytest.mark.parametrize("where", ["first byte", "a middle step", "last byte", "npy header"])
def test_a_damaged_member_is_refused_wherever_the_damage_falls(tmp_path: Path, where: str) -> None:
    path = tmp_path / "a.npz"
    write_npz(path, _arrays())
    start, size = _data_offset(path, "f4")
    at = {
        "first byte": start,
        "a middle step": start + 5 * STEP + 1,
        "last byte": start + size - 1,
        "npy header": start - 10,
    }[where]
    raw = bytearray(path.read_bytes())
    # A tab for a space of the header's padding still parses: only the CRC can tell.
    raw[at] = ord("\t") if where == "npy header" else raw[at] ^ 0x20
    path.write_bytes(bytes(raw))
    with pytest.raises(zipfile.BadZipFile, match="CRC-32 for file 'f4.npy'"):
        read_npz(path)


@pytest.mark.usefixtures("small_steps")
def test_a_truncated_file_is_a_read_error(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    write_npz(path, _arrays())
    raw = path.read_bytes()
    for keep in (len(raw) // 2, len(raw) - 30, 100):
        path.write_bytes(raw[:keep])
        with pytest.raises(read_errors()):
            read_npz(path)


def test_a_member_whose_size_disagrees_with_its_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    write_npz(path, {"a": np.arange(1000, dtype=np.int64)})
    raw = bytearray(path.read_bytes())
    at = raw.index(b"(1000,)")
    raw[at : at + 7] = b"(999,) "  # the same header length, 8 bytes fewer than the zip holds
    path.write_bytes(bytes(raw))
    with pytest.raises(zipfile.BadZipFile, match="its array and the zip's size disagree"):
        read_npz(path)


class _Advice:
    """Records posix_fadvise calls: (advice name, start, length)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.names = {getattr(lio.os, n): n for n in ("POSIX_FADV_DONTNEED", "POSIX_FADV_WILLNEED")}

    def __call__(self, fd: int, start: int, length: int, advice: int) -> None:
        self.calls.append((self.names[advice], start, length))

    def dropped(self) -> np.ndarray:
        """Which bytes some DONTNEED covered (length 0: to the end of the file)."""
        size = max(s + n for _, s, n in self.calls) + 1
        covered = np.zeros(size, bool)
        for advice, start, length in self.calls:
            if advice == "POSIX_FADV_DONTNEED":
                covered[start : start + length if length else size] = True
        return covered


needs_fadvise = pytest.mark.skipif(
    not hasattr(lio.os, "posix_fadvise"), reason="no posix_fadvise on this system"
)


@needs_fadvise
@pytest.mark.usefixtures("small_steps")
def test_a_large_file_is_dropped_from_the_page_cache_as_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advice = _Advice()
    monkeypatch.setattr(lio, "_ADVISE", advice)
    path = tmp_path / "a.npz"
    arrays = _arrays()
    write_npz(path, arrays)
    size = path.stat().st_size
    assert advice.dropped()[:size].all()  # by the end, all of it
    # ...and while writing: pages more than a step behind were dropped before the close.
    before_close = advice.calls[:-1]
    assert advice.calls[-1] == ("POSIX_FADV_DONTNEED", 0, size)
    behind = [c for c in before_close if c[1] + c[2] <= size - 2 * STEP]
    assert sum(length for _, _, length in behind) > size // 2
    # Each step is advised twice before the close: sent to disk once written, dropped a
    # step later.
    times = np.zeros(size, np.int64)
    for _, start, length in before_close:
        times[start : start + length] += 1
    assert (times[: size // 2] >= 2).all()
    _equal(read_npz(path), arrays)


@needs_fadvise
@pytest.mark.usefixtures("small_steps")
def test_a_large_member_is_read_ahead_and_dropped_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.npz"
    write_npz(path, _arrays())
    advice = _Advice()
    monkeypatch.setattr(lio, "_ADVISE", advice)
    read_npz(path)
    start, size = _data_offset(path, "f4")
    assert advice.dropped()[start : start + size].all()
    ahead = [
        s for a, s, _ in advice.calls if a == "POSIX_FADV_WILLNEED" and start < s < start + size
    ]
    assert len(ahead) > 5 and max(ahead) >= start + size - 2 * (STEP + 8)


@pytest.mark.usefixtures("small_steps")
def test_without_the_advice_the_files_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrays = _arrays()
    write_npz(tmp_path / "advised.npz", arrays)
    monkeypatch.setattr(lio, "_ADVISE", None)
    write_npz(tmp_path / "plain.npz", arrays)
    assert (tmp_path / "advised.npz").read_bytes() == (tmp_path / "plain.npz").read_bytes()
    _equal(read_npz(tmp_path / "advised.npz"), arrays)


@pytest.mark.usefixtures("small_steps")
def test_advice_a_file_refuses_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(fd: int, start: int, length: int, advice: int) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(lio, "_ADVISE", refuse)
    arrays = _arrays()
    write_npz(tmp_path / "a.npz", arrays)
    _equal(read_npz(tmp_path / "a.npz"), arrays)


def test_a_zip_written_without_numpys_extra_fields_is_read(tmp_path: Path) -> None:
    """Members whose local headers carry no extra field (zipfile.writestr; np.savez writes a
    zip64 one): the array starts where the header says."""
    arrays = _arrays()
    path = tmp_path / "plain.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array)
            archive.writestr(name + ".npy", buffer.getvalue())
    _equal(read_npz(path), arrays)


def test_members_that_are_not_arrays_are_left_unread(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    write_npz(path, {"a": np.arange(5)})
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("README.txt", "not an array")
        archive.writestr("folder/", "")
    _equal(read_npz(path), {"a": np.arange(5)})


def _flag_encrypted(path: Path) -> None:
    """Set the 'encrypted' bit of every member, in its local header and the directory."""
    raw = bytearray(path.read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = raw.find(signature)
        while start >= 0:
            raw[start + at] |= 0x1
            start = raw.find(signature, start + 4)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("write", ["stored", "compressed"])
def test_an_encrypted_member_is_refused_as_a_damaged_zip(tmp_path: Path, write: str) -> None:
    path = tmp_path / "a.npz"
    if write == "stored":
        write_npz(path, {"a": np.arange(5)})
    else:
        np.savez_compressed(path, a=np.arange(5))
    _flag_encrypted(path)
    with pytest.raises(zipfile.BadZipFile, match="a.npy: encrypted"):
        read_npz(path)


def test_a_member_whose_local_header_is_damaged_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    write_npz(path, {"a": np.arange(5), "b": np.arange(3)})
    raw = bytearray(path.read_bytes())
    second = raw.find(b"PK\x03\x04", 4)
    raw[second + 2] = ord("X")
    path.write_bytes(bytes(raw))
    with pytest.raises(zipfile.BadZipFile, match="b.npy: bad magic number"):
        read_npz(path)


def test_a_shape_too_large_for_any_file_is_a_damaged_member(tmp_path: Path) -> None:
    """A header whose shape overflows int64 (a damaged or crafted file) is refused as a
    damaged zip, not with an OverflowError."""
    text = "{'descr': '<i8', 'fortran_order': False, 'shape': (36893488147419103232,), }"
    text += " " * (-(len(text) + 11) % 64) + "\n"
    member = b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")
    path = tmp_path / "a.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.npy", member + bytes(64))
    with pytest.raises(zipfile.BadZipFile, match="its array and the zip's size disagree"):
        read_npz(path)


SHORT_WRITE = """
import os, resource, signal, sys
import numpy as np
from laotie import GraphError, TrustGraph
from laotie._io import write_npz
from laotie.graph import save
folder = sys.argv[1]
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not the process
arrays = {"a": np.arange(1000)}
write_npz(os.path.join(folder, "full.npz"), arrays)
size = os.path.getsize(os.path.join(folder, "full.npz"))
g = TrustGraph.from_edges(3, [0, 1], [1, 0], [0.5, 1.0], [0, 0])
save(g, os.path.join(folder, "g.npz"))
graph_size = os.path.getsize(os.path.join(folder, "g.npz"))
resource.setrlimit(resource.RLIMIT_FSIZE, (min(size, graph_size) - 5, resource.RLIM_INFINITY))
try:
    write_npz(os.path.join(folder, "short.npz"), arrays)
except OSError as err:
    print("write_npz:", err.errno)
try:
    save(g, os.path.join(folder, "g2.npz"))
except GraphError as err:
    print("save:", "cannot write" in str(err))
print(sorted(os.listdir(folder)))
"""


@pytest.mark.skipif(not hasattr(lio.os, "posix_fadvise"), reason="a Linux size limit")
def test_a_write_the_disk_cuts_short_is_an_error(tmp_path: Path) -> None:
    """A raw write may write fewer bytes than asked (a full disk, a file size limit) and
    zipfile does not look: the writer writes every byte or raises, and an atomic save
    leaves no file."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", SHORT_WRITE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "write_npz: 27"  # EFBIG: the write after the partial one
    assert lines[1] == "save: True"
    assert lines[2] == "['full.npz', 'g.npz', 'short.npz']"  # short.npz: write_npz's own
