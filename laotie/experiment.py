"""Experiments: the questions of the design, answered by the model with uncertainty.

Each experiment is one module in ``experiments/`` (shipped inside the package as
``laotie/experiments`` in a wheel). A module defines

- ``NAME`` and ``QUESTION`` (one sentence);
- ``run(quick: bool, out: Path, executor: Executor) -> Report``: runs its sweeps with the
  many-runs machinery (:mod:`laotie.sweep`: spawned seeds, common random numbers between
  arms), under ``out``, and returns the tables and figures it made. It builds its scenarios
  with :func:`preset` and runs its sweeps with :func:`run_sweep` (this module's), so that a
  user's ``--set`` changes (:func:`run_experiment`'s ``changes``) reach every run and are
  refused where the experiment varies or sets the parameter itself;
- optionally ``audit(quick, out, executor)``, the Sobol audit ``laotie audit NAME`` runs, or
  ``NO_AUDIT``, a sentence saying why there is none;
- optionally ``PAGE_SOURCES``, a tuple of literal strings naming the files or folders under
  ``laotie/`` (a folder: every ``.py`` in it) that turn its runs into its page besides
  :data:`PAGE_SOURCES` and the model's code, e.g. ``("policy",)``: the page's stamp covers
  them, so a change there makes the page stale (:func:`page_sources`).

``laotie experiment NAME [--quick] [--out DIR] [--set KEY=VALUE ...]`` and
``python experiments/NAME.py`` run one; :meth:`Report.write` writes every table as CSV and
Markdown (means with 95 % intervals), the figures, and ``report.md`` which says which command
produced them. ``--page DIR`` also
publishes the report as ``DIR/NAME.md`` with its tables (``DIR/NAME/``) and figures
(``DIR/figures/``): a generated page, stamped with laotie's version, the fingerprint of the
model's sources and a hash of the experiment's code (:func:`page_stamp`), so that a test can
tell when a shipped page no longer matches the code (:func:`stale`).

A report leads with its answer in three plain lines, in English and in 中文, then its headline
numbers, each labelled (:data:`LABELS`): *input* (set by a parameter), *calibrated* (fitted to a
target), *predicted* (a held-out target or an out-of-sample quantity) or *counterfactual* (a
policy arm or a difference between arms).
"""

from __future__ import annotations

import argparse
import ast
import functools
import hashlib
import importlib
import json
import re
import shlex
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._io import atomic_write, plain
from ._version import __version__
from .errors import LaotieError
from .executors import Executor, executor_for
from .params import did_you_mean
from .stats import decompose, t_interval
from .sweep.store import code_fingerprint

if TYPE_CHECKING:
    from .scenario import Scenario
    from .sweep import Sweep, SweepResult

__all__ = [
    "LABELS",
    "PAGE_SOURCES",
    "Headline",
    "Report",
    "check_held",
    "default_out",
    "describe_interval",
    "describe_interval_zh",
    "expected_columns",
    "experiment_fingerprint",
    "experiment_names",
    "held_changes",
    "holding",
    "interval_columns",
    "interval_table",
    "load_experiment",
    "main",
    "page_sources",
    "page_stamp",
    "preset",
    "read_stamp",
    "run_experiment",
    "run_sweep",
    "save_figure",
    "stale",
    "sweep_columns",
    "toml_value",
    "uncertainty_columns",
    "unfinished_note",
]

LABELS = {
    "input": "set by a parameter (an assumption, not a finding)",
    "calibrated": "fitted to a real-world target",
    "predicted": "a held-out target or an out-of-sample quantity",
    "counterfactual": "a policy arm, or a difference between arms",
}
"""The label of every headline number, and what it means."""

_SHARE = "_from_parameters"
"""The suffix of a column giving the share of a predictive interval's spread due to the
parameters (:func:`uncertainty_columns`)."""

STAMP = re.compile(
    r"<!-- laotie-page command=`(?P<command>[^`]*)` version=(?P<version>\S+) "
    r"model=(?P<model>\S+) experiment=(?P<experiment>\S+) -->"
)

_PLACES = (
    Path(__file__).resolve().parent / "experiments",  # installed wheel
    Path(__file__).resolve().parents[1] / "experiments",  # source checkout or editable install
)


def _folder() -> Path:
    for place in _PLACES:
        if place.is_dir():
            return place
    raise LaotieError("the experiments folder is missing from this installation")


def experiment_names() -> list[str]:
    """The experiments shipped in ``experiments/``.

    Returns
    -------
    list of str
        Their names, sorted.

    Raises
    ------
    LaotieError
        When the experiments folder is missing from the installation.
    """
    return sorted(p.stem for p in _folder().glob("*.py") if not p.name.startswith(("_", "test")))


def load_experiment(name: str) -> ModuleType:
    """The module of experiment ``name``, importable by worker processes too.

    Parameters
    ----------
    name : str
        One of :func:`experiment_names`.

    Returns
    -------
    types.ModuleType
        With ``NAME``, ``QUESTION`` and ``run``.

    Raises
    ------
    LaotieError
        For an unknown name (with the nearest one), or when another module of that name is
        already imported.
    """
    names = experiment_names()
    if name not in names:
        raise LaotieError(
            f"unknown experiment {name!r}{did_you_mean(name, names)}; "
            f"experiments: {', '.join(names)}"
        )
    # Imported by its plain name from the experiments folder, put on sys.path: worker
    # processes inherit sys.path, so they can unpickle the module's functions; Dask workers
    # elsewhere get them by value.
    folder = str(_folder())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = importlib.import_module(name)
    if Path(module.__file__ or "").resolve().parent != Path(folder).resolve():
        raise LaotieError(
            f"experiment {name!r}: another module of that name ({module.__file__}) is already "
            f"imported; run the experiment in a fresh Python"
        )
    try:
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)
    except ImportError:  # no Dask: process pools need no more than sys.path
        pass
    return module


_HELD: ContextVar[Mapping[str, Any] | None] = ContextVar("laotie_held_changes", default=None)
"""The ``--set`` changes of the experiment running in this context (:func:`holding`)."""


def held_changes() -> dict[str, Any]:
    """The ``--set`` changes of the experiment running in this context.

    Returns
    -------
    dict of str to value
        Dotted keys and values; empty outside :func:`holding` (and so outside
        :func:`run_experiment` with changes).
    """
    return dict(_HELD.get() or {})


@contextmanager
def holding(changes: Mapping[str, Any]) -> Iterator[None]:
    """Hold ``changes`` in every scenario :func:`preset` builds and every sweep
    :func:`run_sweep` runs, in this context (what :func:`run_experiment` does with its
    ``changes``).

    Parameters
    ----------
    changes : dict of str to value
        Dotted keys and their values, as ``laotie experiment --set`` gives them.

    Yields
    ------
    None
    """
    token = _HELD.set(dict(changes))
    try:
        yield
    finally:
        _HELD.reset(token)


def _refusal(key: str, why: str) -> LaotieError:
    return LaotieError(
        f"--set {key}: {why}, so the change could not hold in every run; --set changes "
        f"only parameters the experiment leaves alone (`laotie params` lists them all)"
    )


def preset(name: str, scale: float = 1.0, **keys: Any) -> Scenario:
    """A shipped scenario as an experiment builds it: :meth:`Scenario.preset` with the
    running experiment's ``--set`` changes (:func:`held_changes`) besides ``keys``.

    Parameters
    ----------
    name : str
        A shipped scenario or city preset.
    scale : float, default 1.0
        Multiplies every region's population.
    **keys
        The dotted keys the experiment sets itself.

    Returns
    -------
    Scenario

    Raises
    ------
    LaotieError
        When a change names a key the experiment sets itself.
    ScenarioError
        For an unknown key or a value out of its bounds (named).
    """
    from .scenario import Scenario

    changes = held_changes()
    for key in sorted(set(changes) & set(keys)):
        raise _refusal(key, f"the experiment sets it to {keys[key]!r} on {name} itself")
    return Scenario.preset(name, scale=scale, **keys, **changes)


def check_held(sweep: Sweep) -> None:
    """Refuse a sweep that would not hold the running experiment's ``--set`` changes: one that
    varies a changed key (an arm, its grid, its sample, or a draw of the posterior) or whose
    base gives it another value.

    Parameters
    ----------
    sweep : Sweep

    Raises
    ------
    LaotieError
        Naming the key and what sets it.
    """
    changes = held_changes()
    if not changes:
        return
    varied: dict[str, str] = {}
    for key in {key for draw in sweep.draws for key in draw}:
        varied[key] = "every run takes it from a draw of the calibrated posterior"
    for key, values in sweep.sample.items():
        varied[key] = f"the experiment samples it over {values or 'its bounds'}"
    for key, values in sweep.grid.items():
        varied[key] = f"the experiment's grid varies it over {list(values)}"
    for case in sweep.cases:
        for key, value in case.items():
            varied.setdefault(key, f"an arm of the experiment sets it ({key} = {value!r})")
    # The sweep gives every run its days and its seed, whatever the scenario's run section.
    varied["run.seed"] = "every run's seed comes from the experiment's sweep"
    if sweep.days is not None and changes.get("run.days") != sweep.days:
        varied["run.days"] = f"the experiment runs {sweep.days} days itself"
    flat = sweep.base.flat()
    for key, value in changes.items():
        if key in varied:
            raise _refusal(key, varied[key])
        if key in flat and flat[key] != value:
            raise _refusal(key, f"the experiment sets it to {flat[key]!r} itself")


def run_sweep(sweep: Sweep, out: Path, **options: Any) -> SweepResult:
    """:func:`laotie.sweep.run_sweep` for an experiment: the same, after :func:`check_held`.

    Parameters
    ----------
    sweep : Sweep
    out : pathlib.Path
        The sweep's folder.
    **options
        As for :func:`laotie.sweep.run_sweep` (``executor``, ``progress``).

    Returns
    -------
    SweepResult
    """
    from .sweep import run_sweep as run

    check_held(sweep)
    return run(sweep, out, **options)


@dataclass(frozen=True)
class Headline:
    """A headline number of a report, labelled.

    Attributes
    ----------
    quantity : str
        What it is, in plain words.
    value : str
        The number with its interval (e.g. from :func:`describe_interval`).
    label : str
        One of :data:`LABELS`.
    basis : str
        What it rests on: the target it was fitted to or predicts, the parameter that sets
        it, or the arms it compares.

    Raises
    ------
    LaotieError
        For a label that is not one of :data:`LABELS`.
    """

    quantity: str
    value: str
    label: str
    basis: str

    def __post_init__(self) -> None:
        if self.label not in LABELS:
            raise LaotieError(
                f"headline {self.quantity!r}: label = {self.label!r}; expected one of "
                f"{', '.join(LABELS)}"
            )


@dataclass
class Report:
    """What an experiment produced: named tables, figures and plain-words findings.

    Attributes
    ----------
    name : str
        The experiment's name.
    question : str
        The question it answers, in one sentence.
    tables : dict of str to pandas.DataFrame
        The tables, by file name (without suffix).
    figures : list of pathlib.Path
        The figures written.
    findings : list of str
        What the tables say, in plain words.
    assumptions : list of str
        What the answer rests on.
    command : str
        The command that produced the report.
    seconds : float
        Wall time of the run.
    quick : bool
        Whether it ran in quick mode.
    answer : list of str
        The answer to the question in three plain lines.
    answer_zh : list of str
        The same in Chinese.
    headlines : list of Headline
        The headline numbers, labelled.
    method : str
        How the experiment answers the question (Markdown).
    audit : pandas.DataFrame or None
        What drives each headline outcome (:mod:`laotie.audit`), when audited.
    run_seconds : float
        The seconds its simulations took, summed over runs (NaN: not known); a rerun that
        finds its runs stored takes far less wall time than this.
    changes : dict of str to value
        The ``--set`` changes every run held (:func:`run_experiment`); empty for the shipped
        scenarios.
    """

    name: str
    question: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    command: str = ""
    seconds: float = float("nan")
    quick: bool = False
    answer: list[str] = field(default_factory=list)
    answer_zh: list[str] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)
    method: str = ""
    audit: pd.DataFrame | None = None
    run_seconds: float = float("nan")
    changes: dict[str, Any] = field(default_factory=dict)

    def write(self, out: Path) -> list[Path]:
        """Write ``<table>.csv`` and ``<table>.md`` per table and ``report.md``, atomically.

        Parameters
        ----------
        out : pathlib.Path
            The experiment's folder.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        written = []
        for name, table in self.tables.items():
            atomic_write(out / f"{name}.csv", functools.partial(table.to_csv, index=False))
            atomic_write(out / f"{name}.md", functools.partial(_write_text, markdown(table)))
            written += [out / f"{name}.csv", out / f"{name}.md"]
        atomic_write(out / "report.md", functools.partial(_write_text, self.markdown(out)))
        written.append(out / "report.md")
        return written

    def markdown(self, out: Path | None = None, figures: str | None = None) -> str:
        """The report as a Markdown page: the question, the answer (English and 中文), the
        headline numbers with their labels, the tables, the figures, the audit, the
        assumptions, the method and the command that produced it.

        Parameters
        ----------
        out : pathlib.Path, optional
            The folder the page is written in: figures are linked relative to it.
        figures : str, optional
            Link figures as ``<figures>/<file name>`` instead.

        Returns
        -------
        str
        """
        mode = "quick mode" if self.quick else "full mode"
        lines = [
            f"# {self.name}",
            "",
            f"**Question.** {self.question}",
            "",
        ]
        if self.answer:
            lines += ["**Answer.**", ""] + [f"{line}  " for line in self.answer] + [""]
        if self.answer_zh:
            lines += ["**回答。**", ""] + [f"{line}  " for line in self.answer_zh] + [""]
        if np.isnan(self.run_seconds):
            timing = f"{self.seconds:.0f} s of wall time"
        else:
            timing = (
                f"its simulations took {self.run_seconds:,.0f} s of worker time in all; this "
                f"report took {self.seconds:.0f} s of wall time, reusing any runs already "
                f"stored"
            )
        lines += [
            f"Produced by `{self.command}` ({mode}; {timing}) with laotie {__version__}.",
            "",
        ]
        if self.changes:
            held = ", ".join(
                f"`{key} = {toml_value(value)}`" for key, value in self.changes.items()
            )
            lines += [
                f"**Changed from the shipped scenarios** (`--set`, in every run): {held}. The "
                "labels *calibrated* and *predicted* below describe the shipped scenarios: "
                "a changed parameter leaves the calibration's fit untested.",
                "",
            ]
        if self.headlines:
            headlines = pd.DataFrame(
                [
                    {"quantity": h.quantity, "value": h.value, "label": h.label, "basis": h.basis}
                    for h in self.headlines
                ]
            )
            lines += ["## Headline numbers", "", markdown(headlines), ""]
            used = sorted({h.label for h in self.headlines}, key=list(LABELS).index)
            lines += [f"- *{label}*: {LABELS[label]}." for label in used] + [""]
        if self.findings:
            lines += ["## Findings", ""] + [f"- {f}" for f in self.findings] + [""]
        for name, table in self.tables.items():
            lines += [f"## {name}", "", markdown(table), ""]
        for figure in self.figures:
            if figures is not None:
                where = f"{figures}/{figure.name}"
            else:
                where = str(figure.relative_to(out) if out is not None else figure)
            lines += [f"![{figure.stem}]({where})", ""]
        if self.audit is not None:
            lines += ["## Audit: what drives each headline outcome", "", markdown(self.audit), ""]
        if self.assumptions:
            lines += ["## Assumptions", ""] + [f"- {a}" for a in self.assumptions] + [""]
        if self.method:
            lines += ["## How the experiment answers it", "", self.method.strip(), ""]
        return "\n".join(lines)

    def publish(self, folder: Path) -> list[Path]:
        """Write the report as a generated page: ``folder/<name>.md`` (stamped, see
        :func:`page_stamp`), its tables as ``folder/<name>/<table>.csv`` and its figures in
        ``folder/figures/``, atomically, file by file.

        Parameters
        ----------
        folder : pathlib.Path
            E.g. ``docs/experiments``.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        written = []
        tables = folder / self.name
        tables.mkdir(parents=True, exist_ok=True)
        for old in tables.glob("*.csv"):
            if old.stem not in self.tables:
                old.unlink()  # a table the experiment no longer makes must not linger
        for name, table in self.tables.items():
            atomic_write(tables / f"{name}.csv", functools.partial(table.to_csv, index=False))
            written.append(tables / f"{name}.csv")
        (folder / "figures").mkdir(parents=True, exist_ok=True)
        for figure in self.figures:
            target = folder / "figures" / figure.name
            atomic_write(target, functools.partial(_copy, figure))
            written.append(target)
        page = page_stamp(self.name, self.command) + "\n\n" + self.markdown(figures="figures")
        atomic_write(folder / f"{self.name}.md", functools.partial(_write_text, page))
        written.append(folder / f"{self.name}.md")
        return written


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


PAGE_SOURCES = ("experiment.py", "stats.py", "audit.py", "posterior.py", "calibrate/targets.py")
"""The modules besides the model's (:func:`laotie.sweep.store.code_fingerprint`) that turn an
experiment's runs into its page; an experiment module adds its own with an attribute of the
same name (:func:`page_sources`)."""

_PACKAGE = Path(__file__).resolve().parent


def experiment_fingerprint(name: str) -> str:
    """A hash of what turns an experiment's runs into its page besides the model's code: the
    experiment's module, :data:`PAGE_SOURCES`, the sources the module declares
    (:func:`page_sources`) and the shipped scenarios' files (``models/``: scenario files,
    posterior draws, targets).

    Parameters
    ----------
    name : str
        One of :func:`experiment_names`.

    Returns
    -------
    str
        16 hex digits.

    Raises
    ------
    LaotieError
        When the module's ``PAGE_SOURCES`` is not a tuple of paths under ``laotie/``.
    """
    from .scenario import MODELS_DIRS

    module = _folder() / f"{name}.py"
    paths = [module, *(_PACKAGE / source for source in PAGE_SOURCES)]
    models = next((folder for folder in MODELS_DIRS if folder.is_dir()), None)
    if models is not None:
        paths += sorted(p for p in models.rglob("*") if p.suffix in (".toml", ".csv"))
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for path in page_sources(module):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def page_sources(module: Path) -> list[Path]:
    """The package's sources an experiment module declares in its ``PAGE_SOURCES``: what
    turns its runs into its page besides :data:`PAGE_SOURCES` and the model's code (a policy
    search, say, which the model's fingerprint leaves out).

    ``PAGE_SOURCES`` is a tuple of literal strings, each a file or a folder under ``laotie/``
    (``("policy",)``); a folder stands for every ``.py`` file in it and below. The module is
    read, not imported.

    Parameters
    ----------
    module : pathlib.Path
        The experiment's ``.py`` file.

    Returns
    -------
    list of pathlib.Path
        The files, each folder's sorted by path; empty when the module declares none.

    Raises
    ------
    LaotieError
        Naming the module, the attribute and the value: not a tuple of strings, or a name
        that is not a file or folder under ``laotie/``.
    """
    declared = _literal_attribute(module, "PAGE_SOURCES")
    if declared is None:
        return []
    allowed = "a tuple of files or folders under laotie/, e.g. ('policy',)"
    if not isinstance(declared, tuple) or not all(isinstance(s, str) for s in declared):
        raise LaotieError(
            f"{module}: PAGE_SOURCES = {declared!r} is not allowed; expected {allowed}"
        )
    files: list[Path] = []
    for source in declared:
        path = (_PACKAGE / source).resolve()
        if not path.is_relative_to(_PACKAGE) or not (path.is_file() or path.is_dir()):
            raise LaotieError(
                f"{module}: PAGE_SOURCES names {source!r}, which is not a file or folder under "
                f"{_PACKAGE}; expected {allowed}"
            )
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def _literal_attribute(module: Path, name: str) -> Any:
    """The value of the module-level ``name = <literal>`` in ``module`` (its last), or None."""
    found = None
    for node in ast.parse(module.read_bytes(), filename=str(module)).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not any(isinstance(target, ast.Name) and target.id == name for target in targets):
            continue
        try:
            found = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError):
            raise LaotieError(
                f"{module}: {name} = {ast.unparse(value)} is not allowed; expected literal "
                "strings (the module is read, not imported)"
            ) from None
    return found


def page_stamp(name: str, command: str) -> str:
    """The first line of a generated page: the command, laotie's version, the model's
    fingerprint and the experiment's (an HTML comment, invisible on the rendered page).

    Parameters
    ----------
    name : str
        The experiment.
    command : str
        The command that generated the page.

    Returns
    -------
    str
    """
    return (
        f"<!-- laotie-page command=`{command}` version={__version__} "
        f"model={code_fingerprint()} experiment={experiment_fingerprint(name)} -->"
    )


def read_stamp(page: Path) -> dict[str, str] | None:
    """The stamp of a generated page (``command``, ``version``, ``model``, ``experiment``),
    or None when the page carries none.

    Parameters
    ----------
    page : pathlib.Path

    Returns
    -------
    dict of str to str or None
    """
    match = STAMP.search(page.read_text(encoding="utf-8"))
    return match.groupdict() if match else None


def stale(page: Path) -> str | None:
    """Why a generated page no longer matches the code, or None when it does.

    Parameters
    ----------
    page : pathlib.Path
        ``<folder>/<experiment>.md``, written by :meth:`Report.publish`.

    Returns
    -------
    str or None
        What differs and the command that regenerates the page.
    """
    stamp = read_stamp(page)
    if stamp is None:
        return f"{page} carries no laotie-page stamp: it was not generated by --page"
    now = {"model": code_fingerprint(), "experiment": experiment_fingerprint(page.stem)}
    changed = [f"{key} {stamp[key]} → {now[key]}" for key in now if stamp[key] != now[key]]
    if not changed:
        return None
    return (
        f"{page} was generated from other sources ({'; '.join(changed)}): rerun "
        f"`{stamp['command']}`"
    )


def unfinished_note(result: SweepResult) -> list[str]:
    """A line for a report's assumptions when some of a sweep's runs did not finish (the
    tables leave them out; running the experiment again with the same folder retries them).

    Parameters
    ----------
    result : SweepResult

    Returns
    -------
    list of str
        Empty when every run finished.
    """
    failed = result.runs[result.runs["status"] != "ok"]
    if not len(failed):
        return []
    return [
        f"{len(failed)} of {len(result.runs)} runs did not finish and are left out of the "
        "tables (running the experiment again with the same folder retries them)."
    ]


def _write_text(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")


def interval_columns(values: Any, name: str) -> dict[str, float]:
    """The mean of ``values`` and its 95 % t interval, as the columns of a table row.

    Parameters
    ----------
    values : array_like of float
        One value per replication (NaN ignored).
    name : str
        The column's name.

    Returns
    -------
    dict of str to float
        ``{name, name_low, name_high}``: the columns that :func:`markdown` shows as
        ``name [95 % CI]``.

    Examples
    --------
    >>> interval_columns([1.0, 2.0, 3.0], "gmv")["gmv"]
    2.0
    """
    mean, low, high = t_interval(np.asarray(values, dtype=float))
    return {name: mean, f"{name}_low": low, f"{name}_high": high}


def uncertainty_columns(
    values: Any,
    draws: Any,
    name: str,
    scale: str = "auto",
    bounds: tuple[float | None, float | None] = (None, None),
) -> dict[str, float]:
    """Runs over parameter draws × replications as the columns of a table row: the mean,
    the central 95 % interval of one run's value, and the share of the spread that comes
    from the parameters (:func:`laotie.stats.decompose`).

    Parameters
    ----------
    values : array_like of float
        One value per run (NaN ignored).
    draws : array_like of int
        The parameter draw of each run.
    name : str
        The column's name.
    scale : {"auto", "positive", "linear"}, default "auto"
        Where the interval is computed (:func:`laotie.stats.decompose`): ``"positive"`` for a
        ratio or a count that is not a share, ``"linear"`` for a difference, whose sign is not
        known in advance.
    bounds : tuple of (float or None), default (None, None)
        The lowest and highest value the quantity can take (the interval is clipped to them).

    Returns
    -------
    dict of str to float
        ``{name, name_low, name_high, name_from_parameters}``: :func:`markdown` shows the
        first three as ``name [95 % PI]`` and the last as a percentage.
    """
    split = decompose(
        np.asarray(values, dtype=float), np.asarray(draws), scale=scale, bounds=bounds
    )
    return {
        name: split["mean"],
        f"{name}_low": split["low"],
        f"{name}_high": split["high"],
        f"{name}_from_parameters": split["param_share"],
    }


def expected_columns(
    values: Any,
    draws: Any,
    name: str,
    bounds: tuple[float | None, float | None] = (None, None),
) -> dict[str, float]:
    """Runs over parameter draws × replications as the expected value over the posterior: the
    mean of the draws' means and its 95 % t interval over the draws (``D − 1`` degrees of
    freedom). A confidence interval for the mean effect, where :func:`uncertainty_columns`
    gives a predictive interval for one run: use it to say whether an effect exists on
    average, the other to say how much one run can vary.

    Parameters
    ----------
    values : array_like of float
        One value per run (NaN ignored).
    draws : array_like of int
        The parameter draw of each run.
    name : str
        The column's name.
    bounds : tuple of (float or None), default (None, None)
        The lowest and highest value the quantity can take (the interval is clipped to them).

    Returns
    -------
    dict of str to float
        ``{name, name_low, name_high}`` (:func:`markdown` shows ``name [95 % CI]``).

    Examples
    --------
    >>> row = expected_columns([1.0, 3.0, 2.0, 4.0], [0, 0, 1, 1], "gain")
    >>> row["gain"], round(row["gain_low"], 2), round(row["gain_high"], 2)
    (2.5, -3.85, 8.85)
    """
    per_draw = pd.Series(np.asarray(values, dtype=float)).groupby(np.asarray(draws)).mean()
    mean, low, high = t_interval(per_draw.to_numpy(float))
    floor, ceiling = bounds
    low = low if floor is None else max(low, floor)
    high = high if ceiling is None else min(high, ceiling)
    return {name: mean, f"{name}_low": low, f"{name}_high": high}


def sweep_columns(
    result: SweepResult,
    values: pd.Series,
    name: str,
    scale: str = "auto",
    bounds: tuple[float | None, float | None] = (None, None),
) -> dict[str, float]:
    """A sweep's values of one arm (one per replication slot, as :meth:`SweepResult.values`
    gives them) as the columns of a table row: over parameter draws × replications when the
    sweep has draws (:func:`uncertainty_columns`), else the mean and its t interval
    (:func:`interval_columns`).

    Parameters
    ----------
    result : SweepResult
        The sweep the values come from.
    values : pandas.Series
        Indexed by replication slot.
    name : str
        The column's name.
    scale, bounds
        As for :func:`uncertainty_columns` (without draws, the t interval ignores them).

    Returns
    -------
    dict of str to float
    """
    if result.sweep.draws:
        draws = np.asarray(values.index, dtype=int) // result.sweep.replications
        return uncertainty_columns(values.to_numpy(float), draws, name, scale, bounds)
    return interval_columns(values, name)


def describe_interval(row: pd.Series, column: str, fmt: str = ".3g") -> str:
    """A table row's ``column`` and its interval, for the findings' plain words.

    Parameters
    ----------
    row : pandas.Series
        A row with ``column``, ``<column>_low`` and ``<column>_high``.
    column : str
        The column.
    fmt : str, default ".3g"
        The format of the numbers.

    Returns
    -------
    str
        ``"mean (95 % CI low to high)"``; ``PI`` for a predictive interval over parameter
        draws (a row with ``<column>_from_parameters``).
    """
    return _described(row, column, fmt, ("PI", "CI"), "{mean} (95 % {kind} {low} to {high})")


def describe_interval_zh(row: pd.Series, column: str, fmt: str = ".3g") -> str:
    """:func:`describe_interval` in Chinese, for the answers in 中文.

    Parameters
    ----------
    row : pandas.Series
        A row with ``column``, ``<column>_low`` and ``<column>_high``.
    column : str
        The column.
    fmt : str, default ".3g"
        The format of the numbers.

    Returns
    -------
    str
        ``"mean（95 % 预测区间 low 至 high）"`` (``置信区间`` for a confidence interval).
    """
    return _described(
        row, column, fmt, ("预测区间", "置信区间"), "{mean}（95 % {kind} {low} 至 {high}）"
    )


def _described(row: pd.Series, column: str, fmt: str, kinds: tuple[str, str], template: str) -> str:
    """``template`` filled with the row's mean, bounds and the interval's kind: the first of
    ``kinds`` for a predictive interval (a row with ``<column>_from_parameters``), else the
    second."""
    return template.format(
        mean=f"{row[column]:{fmt}}",
        low=f"{row[f'{column}_low']:{fmt}}",
        high=f"{row[f'{column}_high']:{fmt}}",
        kind=kinds[0] if f"{column}{_SHARE}" in row.index else kinds[1],
    )


def save_figure(figure: Any, path: Path, dpi: int = 110) -> Path:
    """Write ``figure`` as a PNG at ``path`` atomically, close it, and return ``path``.

    Experiments draw with pyplot but never choose matplotlib's backend: the command line
    (``laotie experiment``, ``python experiments/NAME.py``) picks the headless one, and a
    notebook keeps its own.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    path : pathlib.Path
        The PNG file.
    dpi : int, default 110
        Resolution.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib.pyplot as plt

    atomic_write(path, lambda p: figure.savefig(p, format="png", dpi=dpi))
    plt.close(figure)
    return path


def interval_table(compared: pd.DataFrame, digits: int = 4) -> pd.Series:
    """``mean [low, high]`` strings from a table with ``mean``, ``mean_low``, ``mean_high``.

    Parameters
    ----------
    compared : pandas.DataFrame
        E.g. :func:`laotie.stats.paired`'s table.
    digits : int, default 4
        Significant digits.

    Returns
    -------
    pandas.Series
        One string per row, with the table's index.
    """
    return pd.Series(
        [
            _interval(row["mean"], row["mean_low"], row["mean_high"], digits)
            for _, row in compared.iterrows()
        ],
        index=compared.index,
    )


def _number(value: float, digits: int) -> str:
    """``digits`` significant digits; large numbers in full with thousands separators."""
    if abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def _interval(mean: float, low: float, high: float, digits: int) -> str:
    if np.isnan(mean):
        return "–"
    if np.isnan(low):
        return _number(mean, digits)
    return f"{_number(mean, digits)} [{_number(low, digits)}, {_number(high, digits)}]"


def markdown(table: pd.DataFrame, digits: int = 4) -> str:
    """A Markdown table; ``x``, ``x_low``, ``x_high`` columns become one ``x [low, high]``.

    With an ``x_from_parameters`` column too (:func:`uncertainty_columns`) the interval is a
    95 % predictive interval (``PI``) over parameter draws and chance, and the share of its
    spread that comes from the parameters follows as a percentage.

    Parameters
    ----------
    table : pandas.DataFrame
        The table (its index is not shown).
    digits : int, default 4
        Significant digits of the numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> print(markdown(pd.DataFrame({"x": [1.0], "x_low": [0.5], "x_high": [1.5]})))
    | x [95 % CI] |
    |---|
    | 1 [0.5, 1.5] |
    """
    columns = list(table.columns)
    shown: dict[str, list[str]] = {}
    for column in columns:
        if column.endswith(("_low", "_high")) and column.rsplit("_", 1)[0] in columns:
            continue
        if column.endswith(_SHARE) and column.removesuffix(_SHARE) in columns:
            continue
        low, high = f"{column}_low", f"{column}_high"
        if low in columns and high in columns and f"{column}{_SHARE}" in columns:
            shown[f"{column} [95 % PI]"] = [
                _interval(m, lo, hi, digits)
                for m, lo, hi in zip(table[column], table[low], table[high], strict=True)
            ]
            shown[f"{column}: from parameters"] = [
                "–" if np.isnan(v) else f"{v:.0%}" for v in table[f"{column}{_SHARE}"]
            ]
        elif low in columns and high in columns:
            shown[f"{column} [95 % CI]"] = [
                _interval(m, lo, hi, digits)
                for m, lo, hi in zip(table[column], table[low], table[high], strict=True)
            ]
        else:
            shown[column] = [_cell(v, digits) for v in table[column]]
    header = "| " + " | ".join(shown) + " |"
    rule = "|" + "|".join("---" for _ in shown) + "|"
    body = ["| " + " | ".join(row) + " |" for row in zip(*shown.values(), strict=True)]
    return "\n".join([header, rule, *body])


def _cell(value: Any, digits: int) -> str:
    if isinstance(value, float | np.floating):
        return "–" if np.isnan(value) else _number(float(value), digits)
    return str(value)


def run_experiment(
    name: str,
    *,
    quick: bool = False,
    out: str | Path | None = None,
    executor: Executor | None = None,
    command: str | None = None,
    page: str | Path | None = None,
    changes: Mapping[str, Any] | None = None,
) -> Report:
    """Run experiment ``name``; write and return its report.

    Runs already stored under ``out`` are not run again (see :mod:`laotie.sweep`).

    Parameters
    ----------
    name : str
        One of :func:`experiment_names`.
    quick : bool, default False
        Small scale, few replications.
    out : str or path, optional
        The experiment's folder (default: ``out/<name>``).
    executor : Executor, optional
        Where the runs execute (default: this process).
    command : str, optional
        The command to name in the report (default: the ``laotie experiment`` command).
    page : str or path, optional
        Also publish the report as a generated page in this folder (:meth:`Report.publish`).
    changes : dict of str to value, optional
        Dotted keys held at these values in every run (``laotie experiment --set``): applied
        to every scenario the experiment builds (:func:`preset`); refused, before any run,
        for a key the experiment varies (its arms, grid or posterior draws) or sets itself.
        An audit leaves a changed key out of what it samples. The report says what changed.

    Returns
    -------
    Report

    Raises
    ------
    LaotieError
        For an unknown experiment, an unwritable ``page`` or a change that cannot hold.
    """
    module = load_experiment(name)
    changes = {key: plain(value) for key, value in (changes or {}).items()}
    out = Path(out) if out is not None else default_out(name, changes)
    if page is not None:  # a folder that cannot be written fails now, not after the runs
        try:
            Path(page).mkdir(parents=True, exist_ok=True)
            probe = Path(page) / f".{name}.writable"
            probe.touch()
            probe.unlink()
        except OSError as err:
            raise LaotieError(
                f"--page {page}: cannot write there ({err.strerror or err}); give a folder"
            ) from None
    executor = executor or executor_for(1)
    start = time.perf_counter()
    with holding(changes):
        report: Report = module.run(quick=quick, out=out, executor=executor)
    report.seconds = time.perf_counter() - start
    report.quick = quick
    report.changes = changes
    if command is None:
        words = ["laotie", "experiment", name] + (["--quick"] if quick else [])
        words += [f"--set={key}={toml_value(value)}" for key, value in changes.items()]
        command = shlex.join(words + (["--page", str(page)] if page is not None else []))
    report.command = command
    report.write(out)
    if page is not None:
        report.publish(Path(page))
    return report


def default_out(name: str, changes: Mapping[str, Any] | None = None) -> Path:
    """Where an experiment's results go unless told: ``out/NAME``, or, with ``--set``
    changes, ``out/NAME-set-HASH`` (a hash of the changes), so that a changed experiment never
    meets the shipped one's stored runs.

    Parameters
    ----------
    name : str
    changes : dict of str to value, optional

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> default_out("last_mile").as_posix()
    'out/last_mile'
    >>> default_out("last_mile", {"information.n_messages": 2}).as_posix()
    'out/last_mile-set-...'
    """
    if not changes:
        return Path("out") / name
    text = json.dumps(sorted(changes.items()), default=str)
    return Path("out") / f"{name}-set-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def toml_value(value: Any) -> str:
    """A ``--set`` value as the command line takes it back (TOML), numpy's scalars as the
    values they hold.

    Parameters
    ----------
    value : bool, int, float, str or a numpy scalar

    Returns
    -------
    str

    Examples
    --------
    >>> [toml_value(v) for v in (True, 0.5, np.float64(0.6), np.int64(3), "head")]
    ['true', '0.5', '0.6', '3', '"head"']
    """
    value = plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def main(argv: Sequence[str] | None = None, name: str | None = None) -> int:
    """``python experiments/NAME.py [--quick] [--out DIR] [--workers N] [--set KEY=VALUE]``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: the command line's).
    name : str
        The experiment.

    Returns
    -------
    int
        The exit status.
    """
    parser = argparse.ArgumentParser(prog=f"python experiments/{name}.py")
    parser.add_argument("--quick", action="store_true", help="small scale, few replications")
    parser.add_argument("--out", type=Path, help="results folder (default: out/NAME)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--page", type=Path, help="also publish the report as DIR/NAME.md")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="hold a parameter at a value in every run (repeatable)",
    )
    args = parser.parse_args(argv)
    if name is None:
        raise LaotieError("experiment.main needs the experiment's name")
    import matplotlib

    from .cli._common import parse_overrides

    matplotlib.use("Agg")  # the command draws only into files
    try:
        changes = parse_overrides(args.set)
        out = args.out if args.out is not None else default_out(name, changes)
        report = run_experiment(
            name,
            quick=args.quick,
            out=out,
            executor=executor_for(args.workers),
            command=shlex.join(["python", f"experiments/{name}.py", *(argv or sys.argv[1:])]),
            page=args.page,
            changes=changes,
        )
    except LaotieError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    print(report.markdown(out))
    print(f"\nResults in {out} ({report.seconds:.0f} s)")
    return 0
