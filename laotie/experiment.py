"""Experiments: the questions of the design, answered by the model with uncertainty.

Each experiment is one module in ``experiments/`` (shipped inside the package as
``laotie/experiments`` in a wheel). A module defines

- ``NAME`` and ``QUESTION`` (one sentence);
- ``run(quick: bool, out: Path, executor: Executor) -> Report``: runs its sweeps with the
  many-runs machinery (:mod:`laotie.sweep`: spawned seeds, common random numbers between
  arms), under ``out``, and returns the tables and figures it made.

``laotie experiment NAME [--quick] [--out DIR]`` and ``python experiments/NAME.py`` run one;
:meth:`Report.write` writes every table as CSV and Markdown (means with 95 % intervals), the
figures, and ``report.md`` which says which command produced them.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write
from .errors import LaotieError
from .executors import Executor, executor_for
from .params import did_you_mean
from .stats import t_interval

__all__ = [
    "Report",
    "describe_interval",
    "experiment_names",
    "interval_columns",
    "interval_table",
    "load_experiment",
    "main",
    "run_experiment",
    "save_figure",
]

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

    def markdown(self, out: Path | None = None) -> str:
        """The report as a Markdown page: question, command, findings, tables, figures.

        Parameters
        ----------
        out : pathlib.Path, optional
            The folder the page is written in: figures are linked relative to it.

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
            f"Produced by `{self.command}` ({mode}, {self.seconds:.0f} s).",
            "",
        ]
        if self.findings:
            lines += ["## Findings", ""] + [f"- {f}" for f in self.findings] + [""]
        if self.assumptions:
            lines += ["## Assumptions", ""] + [f"- {a}" for a in self.assumptions] + [""]
        for name, table in self.tables.items():
            lines += [f"## {name}", "", markdown(table), ""]
        for figure in self.figures:
            where = figure.relative_to(out) if out is not None else figure
            lines += [f"![{figure.stem}]({where})", ""]
        return "\n".join(lines)


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
        ``"mean (95 % CI low to high)"``.
    """
    return (
        f"{row[column]:{fmt}} (95 % CI {row[f'{column}_low']:{fmt}} to "
        f"{row[f'{column}_high']:{fmt}})"
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
        low, high = f"{column}_low", f"{column}_high"
        if low in columns and high in columns:
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

    Returns
    -------
    Report
    """
    module = load_experiment(name)
    out = Path(out) if out is not None else Path("out") / name
    executor = executor or executor_for(1)
    start = time.perf_counter()
    report: Report = module.run(quick=quick, out=out, executor=executor)
    report.seconds = time.perf_counter() - start
    report.quick = quick
    report.command = command or f"laotie experiment {name}{' --quick' if quick else ''}"
    report.write(out)
    return report


def main(argv: Sequence[str] | None = None, name: str | None = None) -> int:
    """``python experiments/NAME.py [--quick] [--out DIR] [--workers N]``.

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
    args = parser.parse_args(argv)
    if name is None:
        raise LaotieError("experiment.main needs the experiment's name")
    import matplotlib

    matplotlib.use("Agg")  # the command draws only into files
    out = args.out if args.out is not None else Path("out") / name
    report = run_experiment(
        name,
        quick=args.quick,
        out=out,
        executor=executor_for(args.workers),
        command=shlex.join(["python", f"experiments/{name}.py", *(argv or sys.argv[1:])]),
    )
    print(report.markdown(out))
    print(f"\nResults in {out} ({report.seconds:.0f} s)")
    return 0
