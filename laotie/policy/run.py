"""Run a policy-design spec into a folder, resumably (``laotie optimise``).

Every evaluation (one set of targets over one phase's replications) is stored as it finishes,
under ``evaluations/``, keyed by the set, the seed and the number of replications. The
selection is deterministic given its evaluations, so running the same spec into the same
folder again replays the stored ones at once and simulates only what is missing: Ctrl-C, a
killed process or a lost machine costs only the sets in flight. A folder holds one spec's
evaluations made by one version of the model (``optimise.json``); another spec, or other
code, is refused there, as a sweep's folder is.

The folder, when done: ``steps.csv`` (each pick, its gain with a 95 % interval and
``p_best``), ``comparison.csv`` (each policy against the best heuristic on fresh
replications), ``values.csv`` (those replications' values), ``sets.json`` (every policy's
targets and the short list) and ``optimise.json``.

A spec of ``target = "levers"`` runs :func:`laotie.policy.tune` instead: each trial's setting
is evaluated over the select phase's replications and stored as it finishes, keyed by the
setting (its sorted ``(key, value)`` pairs); optuna, seeded, asks the same trials again when
told the same values, so a rerun replays them to the same search. Its folder holds
``trials.csv`` (every trial), ``comparison.csv`` (the chosen setting or the Pareto front
against the scenario's own on fresh replications, paired), ``values.csv`` (those
replications' values, by objective), ``settings.json`` (the levers, the settings compared)
and ``optimise.json``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import os
import uuid
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._io import atomic_write, plain, read_errors, read_npz, reading, write_npz
from ..errors import LaotieError
from ..sweep.store import code_fingerprint
from .design import Optimised, optimise
from .levers import LeverProgramme, Tuned, tune
from .spec import OptimiseSpec
from .training import PROGRAMMES

if TYPE_CHECKING:
    from ..executors import Executor
    from ..graph import TrustGraph

__all__ = ["SPEC_FILE", "Stored", "claim", "policy_fingerprint", "run_optimise", "setting_key"]

SPEC_FILE = "optimise.json"


class Stored:
    """An :data:`~laotie.policy.Evaluate` that keeps every set's values in ``folder`` and
    evaluates only the sets not stored yet.

    Each set is stored as soon as it is evaluated: when ``evaluate`` has a method
    ``each(sets, seed, replications)`` yielding ``(position, values)`` as each set's runs
    finish (:meth:`TrainingProgramme.each`), an interruption loses only the sets in flight,
    not the others of the same call.

    Parameters
    ----------
    evaluate : callable
        The evaluation to store (e.g. a :class:`TrainingProgramme`, or a
        :class:`~laotie.policy.LeverProgramme` whose settings are given as sorted tuples of
        ``(key, value)`` pairs).
    folder : pathlib.Path
        Where the values go, one ``.npz`` file per set, seed and number of replications.
    progress : bool, default False
        Show a progress bar of the sets evaluated (stored ones count as done).
    shape : tuple of int, default ()
        The shape of each set's values before the replications: ``()`` for one value per
        replication, ``(objectives,)`` for a :class:`~laotie.policy.LeverProgramme`'s.
    unit : str, default "set"
        What the progress bar counts.

    Attributes
    ----------
    simulated, replayed : int
        Sets evaluated by simulation, and read back from ``folder``, so far.
    """

    def __init__(
        self,
        evaluate: Any,
        folder: Path,
        progress: bool = False,
        *,
        shape: tuple[int, ...] = (),
        unit: str = "set",
    ) -> None:
        self.evaluate = evaluate
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.shape = tuple(int(n) for n in shape)
        self.simulated = 0
        self.replayed = 0
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(desc=f"{unit}s evaluated", unit=unit)

    def path(self, targets: tuple[Hashable, ...], seed: int, replications: int) -> Path:
        """The file of one set's values."""
        key = json.dumps([[plain(t) for t in targets], int(seed), int(replications)])
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npz"

    def __call__(
        self, sets: Sequence[tuple[Hashable, ...]], seed: int, replications: int
    ) -> np.ndarray:
        out = np.empty((len(sets), *self.shape, replications))
        missing = []
        for i, targets in enumerate(sets):
            path = self.path(tuple(targets), seed, replications)
            stored = self._read(path, replications, self.shape)
            if stored is None:
                missing.append(i)
            else:
                out[i] = stored
                self.replayed += 1
        if self.bar is not None:
            self.bar.update(len(sets) - len(missing))
        if missing:
            asked = [sets[i] for i in missing]
            each = getattr(self.evaluate, "each", None)
            finished = (
                each(asked, seed, replications)
                if each is not None
                else enumerate(np.asarray(self.evaluate(asked, seed, replications)))
            )
            for j, row in finished:
                i = missing[j]
                out[i] = row
                path = self.path(tuple(sets[i]), seed, replications)
                arrays = {"values": np.asarray(row, dtype=np.float64)}
                atomic_write(path, functools.partial(write_npz, arrays=arrays))
                self.simulated += 1
                if self.bar is not None:
                    self.bar.update(1)
        return out

    def close(self) -> None:
        """Close the progress bar."""
        if self.bar is not None:
            self.bar.close()

    @staticmethod
    def _read(path: Path, replications: int, shape: tuple[int, ...] = ()) -> np.ndarray | None:
        """A stored set's values, or None when missing or damaged (then evaluated again)."""
        try:
            values = read_npz(path)["values"]
        except read_errors():
            return None
        if values.shape != (*shape, replications) or not np.isfinite(values).all():
            return None
        return values


def run_optimise(
    spec: OptimiseSpec,
    out: str | Path,
    *,
    executor: Executor | None = None,
    graph: TrustGraph | None = None,
    progress: bool = False,
) -> Optimised | Tuned:
    """Run ``spec`` into the folder ``out``, reusing the evaluations stored there.

    Parameters
    ----------
    spec : OptimiseSpec
    out : str or path
        The folder (made if missing). Running again into it resumes.
    executor : Executor, optional
        Where the sets' simulations run (default: this process); results never depend on it.
    graph : TrustGraph, optional
        The city (default: built from the scenario with ``spec``'s graph seed). The folder's
        evaluations are known by the spec, not by the graph: give another graph another
        folder.
    progress : bool, default False
        Show progress bars.

    Returns
    -------
    Optimised or Tuned
        :class:`Optimised` for the targets of sets (:data:`~laotie.policy.TARGETS` but
        ``"levers"``),
        :class:`~laotie.policy.Tuned` for ``"levers"``.

    Raises
    ------
    LaotieError
        If ``out`` is a file, or holds another spec's evaluations, or evaluations made by
        other code (:func:`policy_fingerprint`); for target ``"levers"`` without optuna
        (before the folder is made).
    """
    from ..graph import city

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise LaotieError(f"{out} is a file; expected a folder for the results (made if missing)")
    if spec.target == "levers" and importlib.util.find_spec("optuna") is None:
        raise LaotieError(
            f"{spec.where}: target = 'levers' needs optuna; install it with pip install "
            "'laotie[policy]'"
        )
    out.mkdir(parents=True, exist_ok=True)
    _claim(out, spec)
    settings = spec.to_dict()
    if graph is None:
        graph = city(spec.scenario.city, seed=settings["graph_seed"])
    if spec.target == "levers":
        return _run_levers(spec, out, graph, executor, progress)
    weights = cast("str | Mapping[str, float]", spec.objective)  # no directions (checked)
    kind = PROGRAMMES[spec.target]
    programme = kind(spec.scenario, graph, weights, days=spec.run_days, executor=executor)
    stored = Stored(programme, out / "evaluations", progress=progress)
    # One pool of workers for the whole search (it maps batch after batch), not one per batch.
    with contextlib.ExitStack() as kept:
        if executor is not None:
            kept.enter_context(executor)
        try:
            found = optimise(
                programme.candidates(),
                stored,
                budget=spec.budget,
                seed=spec.seed,
                replications=spec.replications,
                fresh=spec.fresh,
                size=spec.shortlist,
                contenders=spec.contenders,
                batch=cast(int, spec.batch),  # resolved by the spec
                stop=spec.stop,
            )
        finally:
            stored.close()
    names = programme.candidates()["region"] if spec.target == "operators" else None
    _write(out, found, names)
    return found


def _run_levers(
    spec: OptimiseSpec,
    out: Path,
    graph: TrustGraph,
    executor: Executor | None,
    progress: bool,
) -> Tuned:
    """A levers spec's search and comparison, every setting's evaluation stored."""
    programme = LeverProgramme(
        spec.scenario, graph, spec.objective, days=spec.run_days, executor=executor
    )
    stored = Stored(
        programme,
        out / "evaluations",
        progress=progress,
        shape=(len(programme.directions),),
        unit="setting",
    )
    with contextlib.ExitStack() as kept:
        if executor is not None:
            kept.enter_context(executor)
        try:
            found = tune(
                functools.partial(_stored_settings, stored),
                spec.checked_levers,
                seed=spec.seed,
                trials=cast(int, spec.trials),  # resolved by the spec
                replications=spec.replications,
                fresh=spec.fresh,
                batch=cast(int, spec.batch),
                directions=programme.directions,
            )
        finally:
            stored.close()
    _write_levers(out, found)
    return found


def setting_key(setting: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A setting of levers as the key its stored values are found by: its ``(key, value)``
    pairs, sorted by key, each value a plain Python number.

    Parameters
    ----------
    setting : dict of str to float

    Returns
    -------
    tuple of (str, float)
    """
    return tuple(sorted((str(key), plain(value)) for key, value in setting.items()))


def _stored_settings(
    stored: Stored, settings: Sequence[Mapping[str, float]], seed: int, replications: int
) -> np.ndarray:
    """``tune``'s evaluator over ``stored``: each setting by its :func:`setting_key` (a
    :class:`LeverProgramme` takes the pairs as a setting)."""
    return stored([setting_key(s) for s in settings], seed, replications)


def policy_fingerprint(folder: Path | None = None) -> str:
    """The model's fingerprint and a hash of this package's sources: what decides a stored
    evaluation besides its spec (:data:`laotie.sweep.store.NOT_IN_RUNS` leaves the policy
    package out of the model's fingerprint, as it never decides a sweep's run).

    Parameters
    ----------
    folder : pathlib.Path, optional
        The policy package's folder (default: this one).

    Returns
    -------
    str
        ``"<code_fingerprint()>+<16 hex digits>"``.
    """
    digest = hashlib.sha256()
    for path in sorted((folder or Path(__file__).parent).glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{code_fingerprint()}+{digest.hexdigest()[:16]}"


def _claim(out: Path, spec: OptimiseSpec) -> None:
    """Mark ``out`` as ``spec``'s folder, or refuse it when it holds another's."""
    claim(out, spec.to_dict())


def claim(out: Path, settings: dict[str, Any], what: str = "optimisation") -> None:
    """Mark ``out`` as the folder of the evaluations that ``settings`` decide, or refuse it
    when it holds another's, or evaluations made by other code (:func:`policy_fingerprint`).

    Parameters
    ----------
    out : pathlib.Path
        The folder; its evaluations go in ``out / "evaluations"``.
    settings : dict
        Everything besides the code that decides a stored evaluation (JSON-ready), e.g. a
        spec's :meth:`~laotie.policy.OptimiseSpec.to_dict`.
    what : str, default "optimisation"
        What the folder holds, for the messages.

    Raises
    ------
    LaotieError
        Naming the folder and what differs, with what to do.
    """
    code = policy_fingerprint()
    text = json.dumps({"spec": settings, "code": code}, indent=1, default=plain)
    path = out / SPEC_FILE
    if not path.exists():
        if (out / "evaluations").exists() and any((out / "evaluations").iterdir()):
            raise LaotieError(
                f"{out}/evaluations holds evaluations of an unknown {what} ({SPEC_FILE} "
                f"is missing); use another folder, or delete {out}"
            )
        try:
            _create(path, text)
            return
        except FileExistsError:  # another run claimed the folder meanwhile: compare
            pass
    with reading(path, hint=f"; delete {out} to start over"):
        stored = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(stored, dict):
        raise LaotieError(
            f"{path}: not a record of an {what} (a JSON object with its spec and "
            f"code); delete {out} to start over"
        )
    if stored.get("spec") != json.loads(text)["spec"]:
        differs = _first_difference(stored.get("spec"), json.loads(text)["spec"])
        raise LaotieError(
            f"{out} holds the evaluations of a different {what} (its {SPEC_FILE} "
            f"differs from this one's settings{differs}); use another folder, or delete {out}"
        )
    if stored.get("code") != code:
        raise LaotieError(
            f"{out} holds evaluations made by other code (laotie {stored.get('code')}, now "
            f"{code}); resuming would mix their numbers: use another folder, or delete {out}"
        )


def _first_difference(stored: Any, now: Any, key: str = "") -> str:
    """Where two records first differ, as ``": KEY is A there, B here"`` (empty when they
    do not differ)."""
    if isinstance(stored, dict) and isinstance(now, dict):
        for name in [*now, *(k for k in stored if k not in now)]:
            found = _first_difference(
                stored.get(name, "missing"), now.get(name, "missing"), f"{key}.{name}"
            )
            if found:
                return found
        return ""
    if stored == now:
        return ""
    return f": {key.removeprefix('.') or 'the record'} is {stored!r} there, {now!r} here"


def _create(path: Path, text: str) -> None:
    """Write ``path`` whole, unless it exists (FileExistsError): of two runs claiming one
    folder at once, one claims it and the other compares its spec with that claim."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, path)  # atomic, and never over an existing file
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: whole, though not exclusive
            os.replace(tmp, path)
    except FileExistsError:
        raise
    except OSError as err:
        raise LaotieError(f"{path}: cannot write ({err})") from err
    finally:
        tmp.unlink(missing_ok=True)


def _write(out: Path, found: Optimised, names: Mapping[Any, str] | None = None) -> None:
    """The folder's tables (each written whole, or not at all); ``names``: each target's
    name, by id, for targets whose ids are not self-explaining (regions' indices)."""
    steps = found.selection.steps.assign(rule=found.selection.rule)
    atomic_write(out / "steps.csv", lambda p: steps.to_csv(p, index=False))
    atomic_write(out / "comparison.csv", lambda p: found.table.to_csv(p, index=False))
    values = found.values.rename_axis("replication")
    atomic_write(out / "values.csv", lambda p: values.to_csv(p))
    sets = {
        "sets": {name: [plain(t) for t in targets] for name, targets in found.sets.items()},
        "shortlist": [plain(t) for t in found.shortlist],
        "stopped": found.selection.stopped,
        "evaluations": found.selection.evaluations,
    }
    if names is not None:
        named = {*found.shortlist, *(t for targets in found.sets.values() for t in targets)}
        sets["names"] = {str(plain(t)): str(names[t]) for t in sorted(named)}
    text = json.dumps(sets, indent=1, ensure_ascii=False)
    atomic_write(out / "sets.json", lambda p: p.write_text(text, encoding="utf-8"))


def _write_levers(out: Path, found: Tuned) -> None:
    """A levers search's tables (each written whole, or not at all)."""
    import pandas as pd

    atomic_write(out / "trials.csv", lambda p: found.trials.to_csv(p, index=False))
    atomic_write(out / "comparison.csv", lambda p: found.table.to_csv(p, index=False))
    values = pd.concat(
        [
            frame.rename_axis("replication").reset_index().assign(objective=name)
            for name, frame in found.values.items()
        ],
        ignore_index=True,
    )
    values = values[["objective", "replication", *found.settings]]
    atomic_write(out / "values.csv", lambda p: values.to_csv(p, index=False))
    chosen = found.trials.loc[found.trials["chosen"], "trial"]
    record = {
        "levers": {
            lever.key: {
                "low": plain(lever.low),
                "high": plain(lever.high),
                "integer": lever.integer,
                "current": plain(lever.current),
            }
            for lever in found.levers
        },
        "directions": found.directions,
        "settings": {
            name: {key: plain(value) for key, value in setting.items()}
            for name, setting in found.settings.items()
        },
        "chosen_trials": [int(t) for t in chosen],
        "trials": len(found.trials),
    }
    text = json.dumps(record, indent=1, ensure_ascii=False)
    atomic_write(out / "settings.json", lambda p: p.write_text(text, encoding="utf-8"))
