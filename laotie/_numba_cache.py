"""Where numba caches laotie's compiled kernels when the package folder cannot be written.

numba caches a ``cache=True`` kernel in the ``__pycache__`` folder beside its module, else in
the user's cache folder (``~/.cache/numba``), and refuses to define the kernel at all when it
can write neither (``RuntimeError: cannot cache function '_sfc64': no locator available``):
an install the user cannot write, run with a home folder the user cannot write either (a
service account, a container run as another user), could not even ``import laotie``.
This module calls :func:`configure` when it is imported, which ``laotie/__init__.py`` does
first, before any module that defines a kernel: it points numba at a folder the user can write.

It then calls :func:`drop_stale`. numba checks a cached kernel against its own module's file
only (size and modification time), not against the modules whose kernels and constants it
compiled in (numba's documentation, "Cache invalidation fails to recognize changes in
functions defined in a different file"; numba issues 1833, 9304): a kernel of
``rules/discovery.py`` that inlined ``ties.find_tie`` kept the old ``find_tie`` after a
change to ``ties.py`` alone, and gave wrong numbers without a word. So laotie's cached
kernels are all dropped when any of its modules changed since they were cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import tempfile
import warnings
from pathlib import Path

__all__ = ["ENV", "cache_folders", "configure", "drop_stale", "sources_stamp"]

ENV = "NUMBA_CACHE_DIR"

#: Whether the last resort was taken: laotie's kernels are compiled anew in every process.
caching_off = False


def cache_folders() -> list[Path]:
    """Return the folders tried for the kernels' cache, in order.

    Returns
    -------
    list of pathlib.Path
        ``$XDG_CACHE_HOME/laotie/numba`` (when that variable holds an absolute path) or
        ``~/.cache/laotie/numba``, then ``laotie-numba-<uid>`` in :func:`tempfile.gettempdir`.
    """
    folders = []
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        folders.append(Path(xdg) / "laotie" / "numba")
    else:
        home = os.path.expanduser("~")
        if os.path.isabs(home):
            folders.append(Path(home) / ".cache" / "laotie" / "numba")
    with contextlib.suppress(FileNotFoundError):  # no temporary folder can be written
        folders.append(Path(tempfile.gettempdir()) / f"laotie-numba-{_user()}")
    return folders


def configure(package: str | os.PathLike[str]) -> Path | None:
    """Point numba's cache at a writable folder when the package folder cannot be written.

    Nothing changes when ``NUMBA_CACHE_DIR`` is set (the user's choice stands) or when the
    package folder can be written (numba caches beside the modules). Otherwise
    ``NUMBA_CACHE_DIR`` is set to the first of :func:`cache_folders` that can be made and
    written and is the user's own, closed to others (numba runs the pickled code it finds in
    its cache, and the temporary folder is shared). numba reads the variable when it is first
    imported; its configuration is reloaded when it already was. When no folder will do,
    laotie's kernels are compiled in every process, without a cache, with one warning.

    Parameters
    ----------
    package : str or os.PathLike
        The package folder, ``laotie/``.

    Returns
    -------
    pathlib.Path or None
        The folder ``NUMBA_CACHE_DIR`` was set to, or None when it was left alone.

    Warns
    -----
    RuntimeWarning
        When no folder will do and the kernels are compiled in every process (once a
        process).

    Notes
    -----
    ``NUMBA_CACHE_DIR`` applies to every numba function of the process that asks for a cache,
    not only laotie's, and is inherited by worker processes.
    """
    global caching_off
    if os.environ.get(ENV) or os.access(package, os.W_OK):
        return None
    folders = cache_folders()
    for folder in folders:
        if _writable(folder):
            os.environ[ENV] = str(folder)
            if "numba" in sys.modules:
                from numba.core import config

                config.reload_config()
            return folder
    if not caching_off:
        caching_off = True
        _compile_without_cache(__name__.rpartition(".")[0])
        tried = ", ".join(str(folder) for folder in folders)
        warnings.warn(
            f"laotie: numba cannot cache the compiled kernels: the package folder {package} "
            f"cannot be written, nor can {tried} (or they are not yours alone), so every "
            f"process compiles them anew; set {ENV} to a folder you can write",
            RuntimeWarning,
            stacklevel=2,
        )
    return None


def _user() -> str:
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        return str(getuid())
    return os.environ.get("USERNAME", "user")


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
        if not stat.S_ISDIR(info.st_mode):
            return False
        getuid = getattr(os, "getuid", None)
        if getuid is not None and (info.st_uid != getuid() or info.st_mode & 0o022):
            return False
        # numba's own check of a cache folder: a file can be made in it.
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _compile_without_cache(package: str) -> None:
    # numba has no switch to turn caching off, and without a writable folder a kernel with
    # cache=True cannot even be defined; its dispatchers of this package keep numba's null
    # cache instead (other packages' are untouched).
    from numba.core.dispatcher import Dispatcher

    enable_caching = Dispatcher.enable_caching

    def enable_caching_outside(self: Dispatcher) -> None:
        if not getattr(self.py_func, "__module__", "").startswith(package + "."):
            enable_caching(self)

    Dispatcher.enable_caching = enable_caching_outside  # type: ignore[method-assign]


STAMP = "laotie-kernel-sources.stamp"
"""The file, beside laotie's cached kernels, that holds :func:`sources_stamp` of the modules
they were compiled from."""


def sources_stamp(package: Path) -> str:
    """A digest of the path, size and modification time of every module under ``package``."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        try:
            info = path.stat()
        except OSError:  # a dangling link (an editor's lock file) or a file just removed
            continue
        digest.update(f"{path.relative_to(package)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def kernel_folders(package: Path) -> list[Path]:
    """The folders where numba caches the kernels of ``package``'s modules: each module
    folder's ``__pycache__`` and, with ``NUMBA_CACHE_DIR`` set, numba's folder for it there."""
    from numba.core.caching import UserProvidedCacheLocator

    sources = sorted(
        {path.parent for path in package.rglob("*.py") if "__pycache__" not in path.parts}
    )
    folders = [folder / "__pycache__" for folder in sources]
    cache_dir = os.environ.get(ENV)
    if cache_dir:
        folders += [
            Path(cache_dir)
            / UserProvidedCacheLocator.get_suitable_cache_subpath(str(folder / "_.py"))
            for folder in sources
        ]
    return folders


def drop_stale(package: Path) -> bool:
    """Remove the cached kernels of ``package`` if any of its modules changed since they were
    cached (:func:`sources_stamp` against the :data:`STAMP` file kept with them), and record
    the modules' stamp; returns whether kernels were dropped. Best effort: a folder that
    cannot be read or written is left as it is."""
    if caching_off:
        return False
    stamp = sources_stamp(package)
    cache_dir = os.environ.get(ENV)
    record = (
        Path(cache_dir)
        / f"{package.name}-{hashlib.sha1(str(package.resolve()).encode()).hexdigest()[:16]}-{STAMP}"
        if cache_dir
        else package / "__pycache__" / STAMP
    )
    with contextlib.suppress(OSError):
        if record.read_text() == stamp:
            return False
    dropped = False
    for folder in kernel_folders(package):
        with contextlib.suppress(OSError):
            for cached in list(folder.glob("*.nb[ic]")):
                with contextlib.suppress(OSError):
                    cached.unlink()
                    dropped = True
    with contextlib.suppress(OSError):
        record.parent.mkdir(parents=True, exist_ok=True)
        temporary = record.with_name(f"{record.name}.{os.getpid()}")
        temporary.write_text(stamp)
        os.replace(temporary, record)
    return dropped


configure(Path(__file__).parent)
drop_stale(Path(__file__).parent)
