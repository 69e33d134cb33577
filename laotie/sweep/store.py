"""A sweep's folder: one record and its tables per finished run, written atomically.

Under ``out``: ``sweep.json`` (the sweep and the code that runs it, :func:`claim`) and, in
``runs/``, per run ``run_NNNNNN.json`` (its record: status, parameters, outcomes, summary),
``run_NNNNNN_<table>.parquet`` (or ``.csv`` without pyarrow) and ``run_NNNNNN.npz`` (its
arrays). The record is written last, so a run counts as done only once everything it made is
there: an interrupted sweep loses only the runs in flight.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._io import (
    atomic_write,
    damage,
    json_default,
    manifest,
    parquet_available,
    read_errors,
    reading,
    write_npz,
)
from .._version import __version__
from ..errors import LaotieError

if TYPE_CHECKING:
    from .spec import Sweep

__all__ = [
    "NOT_IN_RUNS",
    "SPEC_FILE",
    "arrays_path",
    "claim",
    "clear_partial",
    "code_fingerprint",
    "done_runs",
    "read_record",
    "read_table",
    "record_path",
    "run_damage",
    "spec_key",
    "store_record",
    "write_table",
]

SPEC_FILE = "sweep.json"


NOT_IN_RUNS = frozenset(
    {
        "__main__.py",
        "_numba_cache.py",
        "audit.py",
        "calibrate",
        "cli",
        "dashboard",
        "executors.py",
        "experiment.py",
        "model.py",
        "plot.py",
        "policy",
        "posterior.py",
        "sensitivity",
        "stats.py",
    }
)
"""The parts of the package that never decide a stored run's numbers: the command line, the
figures, the experiments' reports, the Mesa face and the dashboard (sweeps run the engine,
never the Mesa model or the dashboard's page), where runs execute (tested to give the same
results on any executor), where numba caches the compiled kernels, the modules that choose
parameter sets (calibration, sensitivity, posterior draws, policy design), whose choices the
sweep's spec records (a policy design's stored evaluations are keyed by the policy's own
sources too: :func:`laotie.policy.run.policy_fingerprint`), and the statistics over runs (no
stored run's number comes from them; a generated page's stamp covers them, see
:func:`laotie.experiment.experiment_fingerprint`). Each is a path below ``laotie/`` (a module or
a folder): ``stats.py`` is ``laotie/stats.py``, not ``laotie/graph/stats.py``, whose tail fit
the moments a sweep stores use. :func:`code_fingerprint` leaves them out, so that a change
there does not void a calibration's simulations."""


def code_fingerprint(root: Path | None = None) -> str:
    """laotie's version and a hash of the source files that decide a run's numbers besides
    the scenario and the seed.

    Parameters
    ----------
    root : pathlib.Path, optional
        The package's folder (default: this laotie's).

    Returns
    -------
    str
        ``"<version>+<16 hex digits>"``; the modules of :data:`NOT_IN_RUNS` are left out.
    """
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1] if root is None else root
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any("/".join(parts[:i]) in NOT_IN_RUNS for i in range(1, len(parts) + 1)):
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:16]}"


def claim(out: Path, sweep: Sweep) -> None:
    """Mark ``out`` as this sweep's folder (``sweep.json``).

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.
    sweep : Sweep
        The sweep about to run there.

    Raises
    ------
    LaotieError
        If ``out`` holds the runs of another sweep, or of this sweep made by other code
        (:func:`code_fingerprint`): resuming would mix their numbers; if ``out`` is a file,
        its ``sweep.json`` cannot be read, or it holds other files and no ``sweep.json``
        (the results of a ``laotie run``, say: a sweep would write among them).
    """
    spec = sweep.to_dict()
    code = code_fingerprint()
    if out.exists() and not out.is_dir():
        raise LaotieError(f"{out} exists and is not a folder; a sweep's runs go in a folder")
    if (out / "runs").exists() and not (out / "runs").is_dir():
        raise LaotieError(
            f"{out / 'runs'} exists and is not a folder; a sweep keeps its runs in that folder: "
            f"move the file away, or use another folder"
        )
    path = out / SPEC_FILE
    if path.exists():
        with reading(path, hint=f"; delete {out} to start over"):
            stored = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(stored, dict):
            raise LaotieError(
                f"{path}: cannot read (not a table: {type(stored).__name__}); delete {out} to "
                "start over"
            )
        # In order: the order of a grid's or sample's keys decides which run is which point.
        now = json.loads(json.dumps(spec, default=json_default))
        if json.dumps(stored.get("sweep")) != json.dumps(now):
            at, there, here = _difference(stored.get("sweep"), now)
            if at[-2:] == ("graph", "sha256"):
                file = now["base"]["graph"]["from"] if at[0] == "base" else "the graph file"
                what = (
                    f": the graph file {file} has changed since they ran (sha256 {there[:12]}... "
                    f"in its {SPEC_FILE}, {here[:12]}... now)"
                )
            else:
                key = ".".join(map(str, at)) or "its top level"
                what = (
                    f" (its {SPEC_FILE} differs from this spec at {key}: {there!r} there, "
                    f"{here!r} here)"
                )
            raise LaotieError(
                f"{out} holds the runs of a different sweep{what}; resuming would mix their "
                f"results: use another folder, or delete {out}"
            )
        if stored.get("code") != code:
            raise LaotieError(
                f"{out} holds runs made by other code (laotie {stored.get('code')}, now "
                f"{code}); resuming would mix their numbers: use another folder, or delete {out}"
            )
        return
    if (out / "runs").exists() and any((out / "runs").iterdir()):
        raise LaotieError(f"{out}/runs holds runs of an unknown sweep ({SPEC_FILE} is missing)")
    # A folder of other files (a laotie run's results, say) is not a sweep's to write into.
    others = sorted(p.name for p in out.iterdir() if p.name != "runs") if out.is_dir() else []
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise LaotieError(
            f"{out}: the folder holds other files ({shown}) and no {SPEC_FILE} (it is not a "
            "sweep's); use an empty or new folder, or the folder of this sweep to resume it"
        )
    text = json.dumps({"sweep": spec, "code": code}, default=json_default, indent=1)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def clear_partial(out: Path) -> list[Path]:
    """Delete the temporary files of writes that a killed process left half-done in the
    sweep's folder (``.NAME.*.part``, :func:`laotie._io.atomic_write`'s): never read, they
    would pile up with every SIGKILL. Called as a sweep starts or resumes, when no other
    process writes there (two sweeps running in one folder at once are not supported).

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.

    Returns
    -------
    list of pathlib.Path
        The files deleted.
    """
    found = [p for folder in (out, out / "runs") for p in folder.glob(".*.part") if p.is_file()]
    for path in found:
        path.unlink(missing_ok=True)
    return found


def _difference(
    there: Any, here: Any, at: tuple[Any, ...] = ()
) -> tuple[tuple[Any, ...], Any, Any]:
    """Where two sweeps' plain forms (:meth:`Sweep.to_dict`, from JSON) first differ: the
    path of keys and indices, and the value in each (a table's keys, in order, when they
    differ)."""
    if isinstance(there, dict) and isinstance(here, dict):
        if list(there) != list(here):
            return at, list(there), list(here)
        for key in there:
            if json.dumps(there[key]) != json.dumps(here[key]):
                return _difference(there[key], here[key], (*at, key))
    if isinstance(there, list) and isinstance(here, list) and len(there) == len(here):
        for i, (a, b) in enumerate(zip(there, here, strict=True)):
            if json.dumps(a) != json.dumps(b):
                return _difference(a, b, (*at, i))
    return at, there, here


def record_path(out: Path, run: int) -> Path:
    """The record of run ``run`` under the sweep folder ``out``.

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.
    run : int
        The run's index.

    Returns
    -------
    pathlib.Path
        ``out/runs/run_NNNNNN.json``.
    """
    return out / "runs" / f"run_{run:06d}.json"


def arrays_path(out: Path, run: int) -> Path:
    """The arrays (creators' and producers' incomes) of run ``run`` under ``out``.

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.
    run : int
        The run's index.

    Returns
    -------
    pathlib.Path
        ``out/runs/run_NNNNNN.npz``.
    """
    return out / "runs" / f"run_{run:06d}.npz"


def _table_path(out: Path, run: int, name: str) -> Path:
    suffix = ".parquet" if parquet_available() else ".csv"
    return out / "runs" / f"run_{run:06d}_{name}{suffix}"


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` atomically as Parquet or CSV, as the suffix of ``path`` says.

    Parameters
    ----------
    path : pathlib.Path
        The file (``.parquet`` or ``.csv``).
    frame : pandas.DataFrame
        The table; its index is not written.
    """
    if path.suffix == ".parquet":
        atomic_write(path, lambda p: frame.to_parquet(p, index=False))
    else:
        atomic_write(path, lambda p: frame.to_csv(p, index=False))


def read_table(
    out: Path, run: int, name: str, record: dict[str, Any] | None = None
) -> pd.DataFrame | None:
    """Table ``name`` of run ``run`` (Parquet or CSV, whichever was written).

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.
    run : int
        The run's index.
    name : str
        The table (``daily``, ``messages``, ``information``, ``information_regions``,
        ``monthly``).
    record : dict, optional
        The run's record, when the caller has read it already (read from disk otherwise).

    Returns
    -------
    pandas.DataFrame or None
        None when the run has no such table among the files its record lists.

    Raises
    ------
    LaotieError
        Naming the file, when a table the record lists is a folder, is missing, is not the
        file that was written (its size or SHA-256, :func:`laotie._io.damage`) or cannot be
        read: a damaged table is never read as the run's (pyarrow would read a folder as an
        empty table).
    """
    if record is None:
        record = read_record(record_path(out, run))
    listed = record.get("files", {}) if record is not None else {}
    if not isinstance(listed, dict):
        return None
    redo = f"run the sweep again to redo run {run}"
    for suffix in (".parquet", ".csv"):
        path = out / "runs" / f"run_{run:06d}_{name}{suffix}"
        # Only what the run's manifest lists: a file put beside it later is not the run's.
        if path.name not in listed:
            continue
        if path.is_dir():
            raise LaotieError(
                f"{path}: a folder, where run {run}'s {name} table was written (its record "
                f"lists the file); delete the folder and {redo}"
            )
        problems = damage(out / "runs", {path.name: listed[path.name]})
        if problems:
            raise LaotieError(f"{path}: damaged ({problems[0]}); {redo}")
        with reading(path, hint=f"; delete it and {redo}"):
            return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    return None


def store_record(out: Path, record: dict[str, Any]) -> None:
    """Write a finished run's tables and arrays, then its record.

    The record is written last: a run counts as done only once everything it made is there.

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.
    record : dict
        What the run made: ``_daily``, ``_tables`` and ``_arrays`` are written to their own
        files (and taken out of ``record``), the rest as the JSON record.
    """
    run = record["run"]
    written = []
    daily = record.pop("_daily", None)
    if daily is not None:
        written.append(_table_path(out, run, "daily"))
        write_table(written[-1], daily)
    for name, table in record.pop("_tables", {}).items():
        if len(table):  # government messages only
            written.append(_table_path(out, run, name))
            write_table(written[-1], table)
    arrays = record.pop("_arrays", None)
    if arrays is not None:
        written.append(arrays_path(out, run))
        atomic_write(written[-1], lambda p: write_npz(p, arrays))
    # The record is the run's manifest: a file changed since is found before it is read.
    record["files"] = manifest(out / "runs", [path.name for path in written])
    text = json.dumps(record, default=json_default, allow_nan=True, indent=1)
    atomic_write(record_path(out, run), lambda p: p.write_text(text, encoding="utf-8"))


def run_damage(out: Path, record: dict[str, Any]) -> list[str]:
    """What is wrong with the files of a finished run (its record's manifest): empty when
    each is as written. A record without a manifest is damaged too (laotie's own records
    have had one since stores began to carry them, and older stores are refused as made by
    other code).

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.
    record : dict
        The run's record.

    Returns
    -------
    list of str
        One phrase per damaged file.
    """
    files = record.get("files")
    run = record.get("run")
    if files is None:
        return [f"the record of run {run} lists no files (its manifest is missing)"]
    problems = damage(out / "runs", files)
    if not problems and record.get("status") == "ok" and isinstance(run, int):
        # A finished run always wrote its daily table and its arrays: a manifest without
        # them (an entry taken out) would leave the run out of the sweep's tables unseen.
        daily = f"run_{run:06d}_daily."
        if not any(name.startswith(daily) for name in files):
            problems.append(f"the record of run {run} does not list its daily table")
        if arrays_path(out, run).name not in files:
            problems.append(f"the record of run {run} does not list its arrays")
    return problems


def done_runs(out: Path, spec: str) -> set[int]:
    """The runs under ``out`` whose record says they finished without error, under ``spec``.

    Parameters
    ----------
    out : pathlib.Path
        The sweep's folder.
    spec : str
        The sweep's :func:`spec_key`.

    Returns
    -------
    set of int
        Their indices. Unreadable records, runs stored under another spec (``sweep.json``
        changed after they ran) and runs whose files are not as their record's manifest says
        (missing, truncated, replaced) are left out: those runs are run again.
    """
    done = set()
    for path in (out / "runs").glob("run_*.json"):
        record = read_record(path)
        if (
            record is not None
            and record.get("status") == "ok"
            and record.get("spec") == spec
            and not run_damage(out, record)
        ):
            done.add(record["run"])
    return done


def spec_key(sweep: Sweep) -> str:
    """A hash of everything that decides a sweep's runs (:meth:`Sweep.to_dict`, keys in their
    order): every run's record carries it, so that a run stored under another spec (the base
    scenario, days, replications, a point or a draw changed in ``sweep.json`` by hand) is
    never read as this spec's, and is run again.

    Parameters
    ----------
    sweep : Sweep

    Returns
    -------
    str
        16 hex digits.
    """
    text = json.dumps(sweep.to_dict(), default=json_default)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_record(path: Path) -> dict[str, Any] | None:
    """A run's record, or None when it cannot be read or is not a record (a JSON object
    with an integer ``run`` and a ``status``): such a run counts as not done."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except read_errors():
        return None
    if (
        not isinstance(record, dict)
        or not isinstance(record.get("run"), int)
        or not isinstance(record.get("status"), str)
    ):
        return None
    return record
