"""Where numba caches laotie's compiled kernels when the package folder cannot be written.

numba caches a ``cache=True`` kernel in the ``__pycache__`` folder beside its module, else in
the user's cache folder (``~/.cache/numba``), and refuses to define the kernel at all when it
can write neither (``RuntimeError: cannot cache function '_sfc64': no locator available``):
an install the user cannot write, run with a home folder the user cannot write either (a
service account, a container run as another user), could not even ``import laotie``.
This module calls :func:`configure` when it is imported, which ``laotie/__init__.py`` does
first, before any module that defines a kernel: it points numba at a folder the user can write.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
import warnings
from pathlib import Path

__all__ = ["ENV", "cache_folders", "configure"]

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


configure(Path(__file__).parent)
