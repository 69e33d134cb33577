"""An install the user cannot write (issue #23, item 5): numba's cache of the compiled kernels
goes to a folder the user can write, and without one the kernels are compiled in every
process, with one warning, instead of ``RuntimeError: cannot cache function ...: no locator
available``."""

from __future__ import annotations

import functools
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from numba.core import config as numba_config

import laotie
from laotie import _numba_cache
from laotie._numba_cache import ENV, configure

ROOT = Path(__file__).resolve().parents[2]

SIMULATION = (
    "import laotie; "
    "print(laotie.__file__); "
    "r = laotie.simulate(laotie.Scenario.load('village'), days=2, seed=1); "
    "print(r.summary.loc['all', ['exposures', 'orders']].astype(int).tolist())"
)

# Lets the user read and search every folder, and write none: this interpreter may live in
# root's home folder, which nobody cannot enter (its stand-in is another Python's library).
READ_ANY_FOLDER = ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]


@pytest.fixture
def environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No NUMBA_CACHE_DIR and no XDG_CACHE_HOME (restored after the test, even though
    configure sets the first), a home folder in ``tmp_path`` and numba's configuration left
    as it is; returns the absent package folder, which cannot be written."""
    for name in (ENV, "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, "")  # so that the variable's absence is what is restored
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(numba_config, "reload_config", lambda: None)
    return tmp_path / "absent"


def test_the_users_folder_and_a_writable_package_are_left_alone(
    environ: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert configure(tmp_path) is None  # the package folder can be written
    monkeypatch.setenv(ENV, str(tmp_path / "mine"))
    assert configure(environ) is None
    assert os.environ[ENV] == str(tmp_path / "mine")
    assert not (tmp_path / "home").exists()


def test_the_cache_goes_to_xdg_cache_home_then_home_then_the_temporary_folder(
    environ: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reloaded: list[bool] = []
    monkeypatch.setattr(numba_config, "reload_config", lambda: reloaded.append(True))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = tmp_path / "xdg" / "laotie" / "numba"
    assert configure(environ) == expected and os.environ[ENV] == str(expected)
    assert stat.S_IMODE(expected.stat().st_mode) == 0o700
    assert reloaded == [True]  # numba was imported already: it reads the variable again

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # not absolute: ignored (XDG)
    monkeypatch.delenv(ENV)
    expected = tmp_path / "home" / ".cache" / "laotie" / "numba"
    assert configure(environ) == expected and os.environ[ENV] == str(expected)

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv(ENV)
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path / "file"))  # no folder can be made below a file
    expected = tmp_path / "tmp" / f"laotie-numba-{os.getuid()}"
    assert configure(environ) == expected and os.environ[ENV] == str(expected)
    assert stat.S_IMODE(expected.stat().st_mode) == 0o700


def test_without_a_folder_of_its_own_caching_is_off_with_one_warning(
    environ: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uncached: list[str] = []
    monkeypatch.setattr(_numba_cache, "_compile_without_cache", uncached.append)
    monkeypatch.setattr(_numba_cache, "caching_off", False)
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("HOME", str(tmp_path / "file"))
    # A folder in the shared temporary folder that others can write is not used: whoever
    # wrote in it could hand this process their compiled code.
    shared = tmp_path / "tmp" / f"laotie-numba-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.warns(RuntimeWarning) as caught:
        assert configure(environ) is None
    (warning,) = caught
    message = str(warning.message)
    assert message.startswith("laotie: numba cannot cache the compiled kernels")
    assert f"package folder {environ} cannot be written, nor can" in message
    assert str(tmp_path / "file" / ".cache" / "laotie" / "numba") in message
    assert str(shared) in message and message.endswith(f"set {ENV} to a folder you can write")
    assert ENV not in os.environ and uncached == ["laotie"] and _numba_cache.caching_off
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert configure(environ) is None  # once a process
    assert uncached == ["laotie"]


def test_without_a_cache_only_the_packages_kernels_are_compiled_uncached(
    tmp_path: Path,
) -> None:
    # In a process of its own: the switch changes numba's dispatcher for the process.
    for package in ("mine", "other"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "kernels.py").write_text(
            "import numba\n\n\n@numba.njit(cache=True)\ndef double(x):\n    return 2 * x\n"
        )
    code = """if True:
        from numba.core.caching import FunctionCache, NullCache
        from laotie import _numba_cache
        _numba_cache._compile_without_cache("mine")
        import mine.kernels, other.kernels
        assert isinstance(mine.kernels.double._cache, NullCache)
        assert isinstance(other.kernels.double._cache, FunctionCache)
        print(mine.kernels.double(2), other.kernels.double(3))
    """
    path = os.pathsep.join([str(tmp_path), str(ROOT)])
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "4 6\n"
    assert not list((tmp_path / "mine").glob("__pycache__/*.nbi"))
    assert list((tmp_path / "other").glob("__pycache__/*.nbi"))


# As an unprivileged user, for real.


@pytest.fixture(scope="module")
def as_nobody() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run this interpreter as the user nobody with a home folder that does not exist (and
    cannot be made), given variables only; skip where that cannot be done."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root, to run laotie as the user nobody")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs the setpriv command (util-linux), to run laotie as the user nobody")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("needs the user nobody")
    user = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]

    def run(command: list[str], code: str, **variables: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **variables}
        return subprocess.run(
            [*command, sys.executable, "-c", code],
            env=env,
            cwd="/",  # python -c puts its working folder first on sys.path
            capture_output=True,
            text=True,
            timeout=300,
        )

    probe = "import sys, numba, pandas, scipy.sparse; print(sys.version)"
    for command in (user, [*user, *READ_ANY_FOLDER]):
        out = run(command, probe)
        if out.returncode == 0 and out.stdout.strip() == sys.version:
            return functools.partial(run, command)
    pytest.skip(f"the user nobody cannot run {sys.executable} with its packages: {out.stderr}")


@pytest.fixture(scope="module")
def read_only_install(as_nobody: object) -> Iterator[Path]:
    """A copy of the package as a wheel installs it (models/ inside), owned by root and
    closed to others' writing, in a folder that nobody can enter; its ``tmp`` folder is
    nobody's, its ``blocked`` folder root's."""
    top = Path(tempfile.mkdtemp(prefix="laotie-read-only-"))
    try:
        top.chmod(0o755)
        package = top / "site" / "laotie"
        shutil.copytree(
            Path(laotie.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copytree(ROOT / "models", package / "models")
        for folder, _, files in os.walk(top):
            os.chmod(folder, 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        nobody = pwd.getpwnam("nobody")
        (top / "tmp").mkdir()
        os.chown(top / "tmp", nobody.pw_uid, nobody.pw_gid)
        (top / "blocked").mkdir()
        yield top
    finally:
        shutil.rmtree(top)


@pytest.mark.integration  # laotie in processes of their own, as another user
def test_without_a_writable_folder_numba_refuses_to_define_the_kernels(
    as_nobody: Callable[..., subprocess.CompletedProcess[str]], read_only_install: Path
) -> None:
    # What a read-only install did before: with NUMBA_CACHE_DIR set, laotie leaves the
    # folder to the user; here it cannot be written either, so numba has no folder to cache
    # in, as it had none without the variable (package and home folder read-only).
    out = as_nobody(
        SIMULATION,
        PYTHONPATH=str(read_only_install / "site"),
        TMPDIR=str(read_only_install / "tmp"),
        **{ENV: str(read_only_install / "blocked" / "cache")},
    )
    assert out.returncode == 1
    assert "RuntimeError: cannot cache function" in out.stderr
    assert "no locator available" in out.stderr


@pytest.mark.integration  # laotie in processes of their own, as another user
def test_a_read_only_install_caches_its_kernels_in_a_folder_of_the_users(
    as_nobody: Callable[..., subprocess.CompletedProcess[str]], read_only_install: Path
) -> None:
    result = laotie.simulate(laotie.Scenario.load("village"), days=2, seed=1)
    expected = f"{result.summary.loc['all', ['exposures', 'orders']].astype(int).tolist()}\n"
    site, tmp = read_only_install / "site", read_only_install / "tmp"
    first = as_nobody(SIMULATION, PYTHONPATH=str(site), TMPDIR=str(tmp))
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"{site / 'laotie' / '__init__.py'}\n{expected}"  # the copy's
    (cache,) = tmp.iterdir()  # HOME cannot be written: the temporary folder's turn
    assert cache.name == f"laotie-numba-{pwd.getpwnam('nobody').pw_uid}"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert len(list(cache.glob("*/*.nbi"))) >= 10
    assert not list(site.glob("**/__pycache__/*.nbi"))

    again = as_nobody(SIMULATION, PYTHONPATH=str(site), TMPDIR=str(tmp), NUMBA_DEBUG_CACHE="1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.endswith(expected)
    assert "[cache] data loaded from" in again.stdout
    assert "[cache] data saved to" not in again.stdout  # nothing compiled anew


def _fake_package(root: Path) -> Path:
    """A package of two module folders, each with cached kernels beside it."""
    package = root / "pkg"
    for folder in (package, package / "engine"):
        (folder / "__pycache__").mkdir(parents=True)
        (folder / "kernels.py").write_text("x = 1\n")
    return package


def _cached(package: Path, folders: list[Path]) -> list[Path]:
    files = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("kernels.f-3.py311.nbi", "kernels.f-3.py311.1.nbc"):
            (folder / name).write_bytes(b"compiled")
            files.append(folder / name)
    (package / "__pycache__" / "kernels.cpython-311.pyc").write_bytes(b"python's own")
    return files


def test_the_kernels_cached_before_a_change_to_any_module_are_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """numba checks a cached kernel against its own module only; laotie drops all its cached
    kernels (numba's files only) when any of its modules changed since they were cached,
    and keeps them while none did, in the package's folders and in NUMBA_CACHE_DIR."""
    from numba.core.caching import UserProvidedCacheLocator

    from laotie import _numba_cache

    package = _fake_package(tmp_path)
    monkeypatch.delenv(_numba_cache.ENV, raising=False)
    in_tree = [package / "__pycache__", package / "engine" / "__pycache__"]
    files = _cached(package, in_tree)
    assert _numba_cache.drop_stale(package)  # no stamp yet: cached by an unknown version
    assert not any(path.exists() for path in files)
    files = _cached(package, in_tree)
    assert not _numba_cache.drop_stale(package)  # nothing changed
    assert all(path.exists() for path in files)
    (package / "engine" / "kernels.py").write_text("x = 2  # a changed rule\n")
    assert _numba_cache.drop_stale(package)
    assert not any(path.exists() for path in files)
    assert (package / "__pycache__" / "kernels.cpython-311.pyc").exists()

    cache_dir = tmp_path / "numba"
    monkeypatch.setenv(_numba_cache.ENV, str(cache_dir))
    numba_folders = [
        cache_dir / UserProvidedCacheLocator.get_suitable_cache_subpath(str(folder / "x.py"))
        for folder in (package, package / "engine")
    ]
    files = _cached(package, numba_folders)
    assert _numba_cache.drop_stale(package)  # this folder's first stamp
    assert not any(path.exists() for path in files)
    files = _cached(package, numba_folders)
    assert not _numba_cache.drop_stale(package)
    assert all(path.exists() for path in files)
    (package / "kernels.py").write_text("x = 3\n")
    assert _numba_cache.drop_stale(package)
    assert not any(path.exists() for path in files)
    # An editor's lock file (a link to nowhere, as Emacs makes) is no module to stamp.
    (package / "engine" / ".#kernels.py").symlink_to("user@host.1234:1700000000")
    assert not _numba_cache.drop_stale(package)
