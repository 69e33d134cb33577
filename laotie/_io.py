"""Writing files so that an interrupted write never leaves a half-written file, manifests
(each file's size and SHA-256) so that a damaged file is never read as valid, and the one
reader of TOML files (scenarios and spec files)."""

from __future__ import annotations

import errno
import hashlib
import io
import math
import os
import struct
import sys
import tokenize
import tomllib
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LaotieError, ScenarioError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Archive",
    "atomic_write",
    "damage",
    "file_sha256",
    "json_default",
    "manifest",
    "parquet_available",
    "plain",
    "read_errors",
    "read_npz",
    "read_toml",
    "reading",
    "write_manifest",
    "write_npz",
]


def atomic_write(
    path: Path, write: Callable[[Path], object], error: type[LaotieError] = LaotieError
) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The rename is atomic, so ``path`` is either the old file or the complete new one.
    Failures raise ``error`` naming ``path``; the temporary file is removed.
    """
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.part"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not tempfile.mkstemp: its files are private (mode 0600) and os.replace keeps that.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as err:
        raise error(f"{path}: cannot write ({err})") from err
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise error(f"{path}: cannot write ({err})") from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def json_default(value: object) -> object:
    """``json.dumps`` default for numpy values: scalars as Python numbers, arrays as lists."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def parquet_available() -> bool:
    """Whether pyarrow, which writes and reads Parquet, can be imported."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def plain(value: object) -> object:
    """A numpy scalar as the Python value it holds; anything else unchanged."""
    import numpy as np

    return value.item() if isinstance(value, np.generic) else value


PAST_CACHE = 64 << 20
"""Bytes of a large file between two page-cache advices of :func:`write_npz` and
:func:`read_npz`: what is written is sent to disk, what was read or written more than this
before is dropped from the page cache."""

_ADVISE = getattr(os, "posix_fadvise", None)  # Linux and some Unixes; elsewhere no advice


def _advise(fd: int, start: int, length: int, advice: str) -> None:
    """``posix_fadvise`` of ``[start, start + length)`` (named advice), where the system has
    it; an advice the file refuses (a pipe, some file systems) is ignored."""
    if _ADVISE is not None and length > 0:
        with suppress(OSError):  # advice only: the bytes are the same without
            _ADVISE(fd, start, length, getattr(os, advice))


class _PastCache(io.FileIO):
    """A file written past the page cache: every :data:`PAST_CACHE` bytes, the pages just
    written are sent to disk (without waiting) and the pages sent before are dropped.

    A file of 1.4 GB written to the page cache needs 1.4 GB of fresh memory, which a virtual
    machine that hands free memory back to its host maps again page by page (13 s for a saved
    city; docs/performance.md, "Saved graphs past the page cache"). Dropped pages are reused
    by the next ones: the same file is written in about 2 s.
    """

    _sent = 0  # advised to disk up to here
    _dropped = 0  # dropped from the page cache up to here

    def write(self, data: Any) -> int:
        # Every byte, or the OSError of the write that fails: a raw write may write fewer
        # bytes than asked (a full disk, a size limit), and zipfile does not look.
        view = memoryview(data).cast("B")
        written = 0
        while written < len(view):
            count = super().write(view[written:])
            if not count:
                raise OSError(errno.EIO, f"{self.name}: a write wrote nothing")
            written += count
        end = self.tell()
        if end - self._sent >= PAST_CACHE:
            _advise(self.fileno(), self._sent, end - self._sent, "POSIX_FADV_DONTNEED")
            # Pages sent a step ago are on disk by now (or stay cached, if not yet): drop them.
            drop = self._sent - PAST_CACHE
            if drop > self._dropped:
                _advise(self.fileno(), self._dropped, drop - self._dropped, "POSIX_FADV_DONTNEED")
                self._dropped = drop
            self._sent = end
        return written

    def close(self) -> None:
        if not self.closed and self._sent:
            _advise(self.fileno(), 0, self.seek(0, os.SEEK_END), "POSIX_FADV_DONTNEED")
        super().close()


class Archive(zipfile.ZipFile):
    """zipfile's archive, whose :meth:`close` also works on an archive whose ``__init__`` was
    cut short (a Ctrl-C between its first attributes and the rest): ``__del__`` calls it, and
    on such an archive it raised ``AttributeError``, which Python prints to stderr as an
    "Exception ignored in ZipFile.__del__" with a traceback, after the interrupted command's
    own message. These are the defaults of the attributes ``close`` reads that ``__init__``
    sets last: nothing to close and nothing being written. (An archive for writing cut short
    after it marked itself modified, which only a tracer's exception seems able to reach, is
    left as zipfile leaves it: a default there would write a directory into the file.)"""

    fp = None
    _writing = False
    _fileRefCnt = 1


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to the uncompressed ``.npz`` file ``path``, each under its name as
    ``np.savez`` writes them (a zip of ``.npy`` members, ZIP64 allowed); a large file is
    written past the page cache (:class:`_PastCache`). An object array is refused (a
    ``ValueError`` naming the array; ``path`` is a caller's temporary file, so the caller
    names its own), where ``np.savez`` would pickle it: no reader here reads one back. The
    file is then left half written, for the caller's atomic write to discard."""
    import numpy as np
    from numpy.lib import format as npy

    with _PastCache(path, "wb") as handle, Archive(handle, "w", zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            values = np.asanyarray(array)
            if values.dtype.hasobject:
                raise ValueError(
                    f"array {name!r} holds Python objects (dtype {values.dtype}); "
                    "only plain arrays are written"
                )
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                npy.write_array(member, values, allow_pickle=False)


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip member's local header (APPNOTE 4.3.7)


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``, by name: what ``np.load`` gives, with
    ``allow_pickle=False``, for its ``.npy`` members (other members are not read).

    Arrays stored plainly (uncompressed, C order, as :func:`write_npz` and ``np.savez``
    write them) are read straight into their memory, past the page cache, while a second
    thread checks each member's CRC-32: the zip checks ``np.load`` makes, without its copies
    through 256 kB chunks. Other members (compressed, Fortran order, newer ``.npy``
    versions) are read by numpy.

    Raises
    ------
    What reading a damaged file raises (see :func:`read_errors`): ``zipfile.BadZipFile`` for a
    member whose CRC or size does not match, or that is encrypted; ``ValueError`` for an
    object array or a bad ``.npy`` header (``tokenize.TokenError`` for some);
    ``EOFError`` for a truncated member; ``OSError`` for an unreadable file.
    """
    from numpy.lib import format as npy

    arrays: dict[str, np.ndarray] = {}
    with (
        open(path, "rb", buffering=0) as raw,
        Archive(raw) as archive,
        ThreadPoolExecutor(1, thread_name_prefix="laotie-crc") as crc,
    ):
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue  # not an array (np.load gives such a member's bytes)
            if info.flag_bits & 0x1:
                raise zipfile.BadZipFile(f"{info.filename}: encrypted (not read)")
            name = info.filename.removesuffix(".npy")
            array = (
                _read_stored(raw, info, crc) if info.compress_type == zipfile.ZIP_STORED else None
            )
            if array is None:
                with archive.open(info) as member:
                    array = npy.read_array(member, allow_pickle=False)
            arrays[name] = array
    return arrays


def _read_stored(raw: Any, info: zipfile.ZipInfo, crc: ThreadPoolExecutor) -> np.ndarray | None:
    """The array of the stored (uncompressed) member ``info`` of the open zip file ``raw``,
    read into its memory with the CRC-32 checked in ``crc``'s thread; None for a member that
    is not a plain array in C order (numpy reads it)."""
    import numpy as np
    from numpy.lib import format as npy

    raw.seek(info.header_offset)
    fields = _LOCAL_HEADER.unpack(_exactly(raw, _LOCAL_HEADER.size, info))
    if fields[0] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{info.filename}: bad magic number for its header")
    start = info.header_offset + _LOCAL_HEADER.size + fields[10] + fields[11]
    raw.seek(start)
    version = npy.read_magic(raw)
    if version == (1, 0):
        shape, fortran, dtype = npy.read_array_header_1_0(raw)
    elif version == (2, 0):
        shape, fortran, dtype = npy.read_array_header_2_0(raw)
    else:
        return None
    if fortran or dtype.hasobject:
        return None  # numpy's reader reorders, or refuses object arrays by name
    data = raw.tell()
    size = math.prod(shape) * dtype.itemsize  # Python ints: a damaged shape cannot overflow
    if data - start + size != info.file_size:
        raise zipfile.BadZipFile(f"{info.filename}: its array and the zip's size disagree")
    raw.seek(start)
    running = [zlib.crc32(_exactly(raw, data - start, info))]

    def add(chunk: memoryview) -> None:
        running[0] = zlib.crc32(chunk, running[0])  # the GIL released: beside the reads

    array = np.empty(shape, dtype)
    view = memoryview(array.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
    fd, done, dropped = raw.fileno(), 0, start
    _advise(fd, data, 2 * PAST_CACHE, "POSIX_FADV_WILLNEED")
    added = []
    while done < size:
        _advise(fd, data + done + PAST_CACHE, PAST_CACHE, "POSIX_FADV_WILLNEED")
        chunk = view[done : done + PAST_CACHE]
        got = raw.readinto(chunk)
        if not got:
            raise EOFError(f"{info.filename}: the file ends inside the array (truncated)")
        added.append(crc.submit(add, chunk[:got]))
        done += got
        if data + done - PAST_CACHE > dropped:
            _advise(fd, dropped, data + done - PAST_CACHE - dropped, "POSIX_FADV_DONTNEED")
            dropped = data + done - PAST_CACHE
    for future in added:
        future.result()
    _advise(fd, dropped, data + size - dropped, "POSIX_FADV_DONTNEED")
    if running[0] != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    return array


def _exactly(raw: Any, count: int, info: zipfile.ZipInfo) -> bytes:
    """``count`` bytes read from ``raw``; EOFError naming the member when the file ends."""
    data = raw.read(count)
    if len(data) != count:
        raise EOFError(f"{info.filename}: the file ends inside its header (truncated)")
    return bytes(data)


def read_errors() -> tuple[type[BaseException], ...]:
    """What reading a damaged or foreign file raises, in the libraries laotie reads with: the
    one list of decoding and format errors, for :func:`reading` and for the readers that
    treat a damaged file as missing (a sweep run's record).

    ``OSError`` (a missing or unreadable file, a folder in a file's place, pyarrow's I/O
    errors), ``ValueError`` (not UTF-8, not JSON or TOML, pandas' parser errors, numpy's bad
    headers, pyarrow's invalid data), ``KeyError`` / ``IndexError`` / ``TypeError`` (a file
    of the right format without the expected contents, a ``.npy`` given for a ``.npz``),
    ``EOFError`` (an empty ``.npz``), ``zipfile.BadZipFile`` (a truncated or damaged one),
    ``tokenize.TokenError`` (a damaged ``.npy`` header, which numpy parses as a Python
    literal), ``RecursionError`` (JSON nested too deeply to parse),
    ``NotImplementedError`` (pyarrow's unsupported features), and, when their library has
    been imported (it cannot have raised before), every pyarrow error, XML parser errors
    (GraphML and GEXF, read by networkx) and networkx's own errors.
    """
    errors: tuple[type[BaseException], ...] = (
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        EOFError,
        zipfile.BadZipFile,
        tokenize.TokenError,
        RecursionError,
        NotImplementedError,
    )
    arrow = sys.modules.get("pyarrow.lib")
    if arrow is not None:
        errors += (arrow.ArrowException,)
    tree = sys.modules.get("xml.etree.ElementTree")
    if tree is not None:
        errors += (tree.ParseError,)
    expat = sys.modules.get("xml.parsers.expat")
    if expat is not None:
        errors += (expat.ExpatError,)
    networkx = sys.modules.get("networkx.exception")
    if networkx is not None:
        errors += (networkx.NetworkXException,)
    return errors


@contextmanager
def reading(
    path: str | os.PathLike[str],
    error: type[LaotieError] = LaotieError,
    hint: str = "",
    *,
    what: str = "cannot read",
    named: bool = True,
) -> Iterator[None]:
    """Turn what reading ``path`` raises (:func:`read_errors`) into ``error`` naming the file,
    ``what`` went wrong and the library's message (after the exception's name, unless
    ``named`` is false), then ``hint`` (what to do about it). A
    :class:`~laotie.LaotieError` raised inside passes unchanged.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "r.json"
    >>> _ = bad.write_text("[1, 2")
    >>> try:
    ...     with reading(bad, hint="; delete"):
    ...         json.loads(bad.read_text())
    ... except LaotieError as err:
    ...     print(str(err).replace(str(bad), "r.json"))
    r.json: cannot read (JSONDecodeError: Expecting ',' delimiter: ...); delete
    """
    try:
        yield
    except LaotieError:
        raise
    except read_errors() as err:
        detail = f"{type(err).__name__}: {err}" if named else str(err)
        raise error(f"{path}: {what} ({detail}){hint}") from err


def read_toml(path: Path, kind: str) -> dict[str, Any]:
    """Read a TOML file: UTF-8 text, with or without a byte-order mark (as Windows Notepad
    saves UTF-8).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    kind : str
        What the file is, for messages: ``"scenario"``, ``"sweep"``, ``"targets"``...

    Returns
    -------
    dict
        The parsed table.

    Raises
    ------
    ScenarioError
        Naming the file: missing, not UTF-8 or not valid TOML; anything else reading it
        raises (:func:`read_errors`: a folder in its place, no permission) as
        :func:`reading` words it.
    """
    with reading(path, ScenarioError):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ScenarioError(f"{path}: no such {kind} file") from None
        except UnicodeDecodeError:
            raise ScenarioError(f"{path}: not UTF-8 text; save the {kind} file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML ({err})") from None


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, read a megabyte at a time.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest(folder: Path, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The manifest of the files ``names`` in ``folder``: each one's size and SHA-256.

    Parameters
    ----------
    folder : pathlib.Path
        Where the files are.
    names : iterable of str
        Their names, relative to ``folder``.

    Returns
    -------
    dict
        ``{name: {"bytes": int, "sha256": str}}``, to be stored beside them (written last)
        and checked by :func:`damage` before they are read.
    """
    return {
        name: {"bytes": (folder / name).stat().st_size, "sha256": file_sha256(folder / name)}
        for name in names
    }


def damage(folder: Path, files: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What is wrong with the files a :func:`manifest` lists: missing, another size or
    another checksum (a truncated, replaced or edited file).

    Parameters
    ----------
    folder : pathlib.Path
        Where the files are.
    files : mapping
        The manifest (anything else, or a malformed entry, is reported as damage).

    Returns
    -------
    list of str
        One phrase per damaged file (``"daily.csv is missing"``) or malformed entry; empty
        when every file is as written.
    """
    if not isinstance(files, Mapping):
        return [f"the manifest is not a table of files ({type(files).__name__})"]
    problems = []
    for name, expected in files.items():
        if (
            not isinstance(name, str)
            or not isinstance(expected, Mapping)
            or not isinstance(expected.get("bytes"), int)
            or isinstance(expected.get("bytes"), bool)
            or not isinstance(expected.get("sha256"), str)
        ):
            problems.append(f"the manifest's entry {name!r} is malformed: {expected!r}")
            continue
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            problems.append(f"{name} is missing")
            continue
        if size != expected["bytes"]:
            problems.append(f"{name} has {size} bytes where {expected['bytes']} were written")
        elif file_sha256(path) != expected["sha256"]:
            problems.append(f"{name} is not the file that was written (its SHA-256 differs)")
    return problems


MANIFEST = "manifest.json"
"""The manifest of a run folder (``laotie run --out``), written last."""


def write_manifest(folder: Path, paths: Iterable[Path]) -> Path:
    """Write ``folder/manifest.json``: the :func:`manifest` of ``paths`` (files under
    ``folder``), so that a reader can tell a complete, unchanged folder from a damaged one.

    Parameters
    ----------
    folder : pathlib.Path
        The folder.
    paths : iterable of pathlib.Path
        The files written in it (their names are stored relative to ``folder``).

    Returns
    -------
    pathlib.Path
        The manifest's path.
    """
    import json

    names = [path.relative_to(folder).as_posix() for path in paths]
    text = json.dumps({"files": manifest(folder, names)}, indent=1)
    atomic_write(folder / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))
    return folder / MANIFEST
