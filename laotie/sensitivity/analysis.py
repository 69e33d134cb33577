"""Running a sensitivity analysis and estimating its indices: the points run as one sweep
(:func:`run_sensitivity`), each point's output (:func:`output_values`) goes to SALib
(:func:`indices`), and :class:`SensitivityResult` holds and writes what it found."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._io import atomic_write, plain
from ..errors import LaotieError
from ..executors import Executor, executor_for
from ..results import OUTCOME_COLUMNS
from ..sweep import SweepResult, run_sweep
from .spec import BOOTSTRAP_KEY, RATIOS, Sensitivity, check_output, require_salib

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "BOOTSTRAP",
    "CONFIDENCE",
    "SensitivityResult",
    "indices",
    "output_values",
    "run_sensitivity",
]

CONFIDENCE = 0.95
BOOTSTRAP = 1000
"""Confidence level and bootstrap resamples of the intervals of the indices."""


def _per_run(result: SweepResult, name: str) -> pd.Series:
    """One output's value per run (indexed by run)."""
    if name in OUTCOME_COLUMNS:
        return result.outcomes.set_index("run")[name].astype(float)
    channel, _, metric = name.partition(".")
    rows = result.summary[result.summary["channel"] == channel]
    return rows.set_index("run")[metric].astype(float)


def output_values(result: SweepResult, output: str) -> pd.DataFrame:
    """The output at every point of a finished sweep.

    Parameters
    ----------
    result : SweepResult
        The sweep of a sensitivity analysis (:meth:`Sensitivity.sweep`), every run finished.
    output : str
        One of :func:`output_names`.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``point``, its parameters and ``value``, the mean over
        replications (for a ratio, the ratio of the means).

    Raises
    ------
    LaotieError
        When a run failed or is missing, or when a point's value is not finite (e.g. a
        conversion without exposures), naming how many points and the first of them.
    """
    check_output(output)
    runs = result.runs
    bad = runs[runs["status"] != "ok"]
    if len(bad):
        first = bad.iloc[0]
        raise LaotieError(
            f"{len(bad)} of {len(runs)} runs did not finish (run {first['run']}: "
            f"{first['status']} {first['error']}); their records are under {result.out}: run "
            f"again to retry them"
        )
    means = []
    for part in RATIOS.get(output, (output,)):
        values = runs.assign(value=runs["run"].map(_per_run(result, part)))
        wide = values.pivot(index="point", columns="replication", values="value")
        # skipna=False: one undefined replication makes the point's mean undefined.
        means.append(wide.mean(axis=1, skipna=False))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = means[0] / means[1] if len(means) == 2 else means[0]
    table = runs.drop_duplicates("point").set_index("point")
    params = [c for c in table.columns if c not in {"run", "replication", "seed", "status"}]
    params = [c for c in params if c not in {"error", "seconds"}]
    table = table[params].assign(value=value.astype(float))
    undefined = table[~np.isfinite(table["value"])]
    if len(undefined):
        point = undefined.index[0]
        where = ", ".join(f"{key}={plain(table.at[point, key])}" for key in params)
        raise LaotieError(
            f"output {output} is undefined (NaN or infinite) at {len(undefined)} of "
            f"{len(table)} points, e.g. point {point} ({where}): a ratio whose denominator is 0 "
            f"there (no exposures, orders or income). Narrow the ranges, run more days, or "
            f"choose another output"
        )
    return table.reset_index()


def _analyse(
    problem: dict[str, Any],
    X: np.ndarray,
    Y: np.ndarray,
    method: str,
    *,
    calc_second_order: bool = False,
    num_levels: int = 4,
    seed: int = 0,
) -> dict[str, Any]:
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(BOOTSTRAP_KEY,)))
    Y = np.asarray(Y, dtype=float)
    if method == "sobol":
        from SALib.analyze import sobol

        if np.ptp(Y) == 0:
            raise LaotieError(
                f"the output is {Y[0]:g} at every point: no parameter changes it, and Sobol "
                f"indices (shares of its variance) are undefined"
            )
        return sobol.analyze(
            problem,
            Y,
            calc_second_order=calc_second_order,
            num_resamples=BOOTSTRAP,
            conf_level=CONFIDENCE,
            seed=rng,
        )
    if method == "morris":
        from SALib.analyze import morris

        return morris.analyze(
            problem,
            np.asarray(X, dtype=float),
            Y,
            num_resamples=BOOTSTRAP,
            conf_level=CONFIDENCE,
            num_levels=num_levels,
            seed=rng,
        )
    raise LaotieError(f"method = {method!r}; expected 'sobol' or 'morris'")


_COLUMNS = {
    "sobol": ["S1", "S1_conf", "ST", "ST_conf"],
    "morris": ["mu", "mu_star", "mu_star_conf", "sigma"],
}


def _table(analysis: Mapping[str, Any], names: list[str], method: str) -> pd.DataFrame:
    table = pd.DataFrame({"parameter": names})
    for column in _COLUMNS[method]:
        table[column] = np.asarray(analysis[column], dtype=float)
    return table


def indices(
    problem: dict[str, Any],
    X: np.ndarray,
    Y: np.ndarray,
    method: str,
    *,
    calc_second_order: bool = False,
    num_levels: int = 4,
    seed: int = 0,
) -> pd.DataFrame:
    """Sensitivity indices of outputs ``Y`` at SALib's sample ``X`` of ``problem``.

    Parameters
    ----------
    problem : dict
        SALib's problem (``num_vars``, ``names``, ``bounds``).
    X : numpy.ndarray
        The sample, as SALib made it (Morris uses it to tell which parameter moved).
    Y : numpy.ndarray
        One output per row of ``X``.
    method : {"sobol", "morris"}
    calc_second_order, num_levels
        As the sample was made.
    seed : int
        Seeds the bootstrap of the confidence intervals (95 %, 1,000 resamples).

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``
        (Sobol; ``_conf`` is the half-width of the interval) or ``mu``, ``mu_star``,
        ``mu_star_conf``, ``sigma`` (Morris; effects of moving a parameter over its whole
        range, in the output's unit).

    Examples
    --------
    >>> from SALib.sample import morris
    >>> problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 2]]}
    >>> X = morris.sample(problem, 4, seed=1)
    >>> indices(problem, X, 3 * X[:, 0] + X[:, 1], "morris")["mu_star"].round(6).tolist()
    [3.0, 2.0]
    """
    require_salib()
    analysis = _analyse(
        problem,
        X,
        Y,
        method,
        calc_second_order=calc_second_order,
        num_levels=num_levels,
        seed=seed,
    )
    return _table(analysis, list(problem["names"]), method)


@dataclass
class SensitivityResult:
    """What a sensitivity analysis found.

    Attributes
    ----------
    spec : Sensitivity
        The analysis.
    indices : pandas.DataFrame
        One row per parameter (see :func:`indices`).
    second_order : pandas.DataFrame or None
        Sobol with ``calc_second_order``: ``parameter_1``, ``parameter_2``, ``S2``, ``S2_conf``.
    points : pandas.DataFrame
        One row per point: ``point``, the parameters as run, ``value`` (the output).
    sweep : SweepResult
        Every run (its tables: runs, summary, outcomes, daily).
    """

    spec: Sensitivity
    indices: pd.DataFrame
    second_order: pd.DataFrame | None
    points: pd.DataFrame
    sweep: SweepResult

    def plot(self, ax: Axes | None = None) -> Axes:
        """Bars of the indices with their 95 % intervals (:func:`laotie.plot.sensitivity_indices`).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from ..plot import sensitivity_indices

        return sensitivity_indices(self, ax=ax)

    def markdown(self) -> str:
        """The findings as Markdown: the spec in one sentence, then the table of indices (and
        of second-order ones).

        Returns
        -------
        str
        """
        from ..experiment import markdown

        lines = [self.spec.describe() + ".", "", markdown(self.indices)]
        if self.second_order is not None:
            lines += ["", "Second-order indices:", "", markdown(self.second_order)]
        return "\n".join(lines) + "\n"

    def write(self, out: str | Path) -> list[Path]:
        """Write the findings under ``out``, each file atomically.

        Parameters
        ----------
        out : str or path
            The folder: ``indices.csv``, ``indices.md``, ``points.csv`` (the output at every
            point), ``second_order.csv`` (if any) and ``sensitivity.png`` go there.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        out = Path(out)
        tables = {"indices": self.indices, "points": self.points}
        if self.second_order is not None:
            tables["second_order"] = self.second_order
        written = []
        for name, table in tables.items():
            atomic_write(out / f"{name}.csv", functools.partial(table.to_csv, index=False))
            written.append(out / f"{name}.csv")
        text = self.markdown()
        atomic_write(out / "indices.md", lambda p: p.write_text(text, encoding="utf-8"))
        written.append(out / "indices.md")
        drawn = self.plot().figure
        figure = drawn if isinstance(drawn, Figure) else drawn.figure
        try:
            figure.tight_layout()
            atomic_write(
                out / "sensitivity.png", functools.partial(figure.savefig, dpi=120, format="png")
            )
        finally:
            plt.close(figure)
        written.append(out / "sensitivity.png")
        return written


def run_sensitivity(
    spec: Sensitivity,
    out: str | Path,
    *,
    executor: Executor | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> SensitivityResult:
    """Run every point of ``spec`` (a sweep under ``out/sweep``, resumable) and analyse.

    Parameters
    ----------
    spec : Sensitivity
        The analysis.
    out : str or path
        The runs go to ``out/sweep/runs`` as they finish; running again skips those done.
    executor, workers, scheduler
        Where the runs execute (see :func:`laotie.sweep.run_sweep`); the indices do not
        depend on it.
    progress : bool, default False
        Show a progress bar across runs.

    Returns
    -------
    SensitivityResult
        The indices, the output at every point and the sweep's runs.

    Raises
    ------
    LaotieError
        If a run failed, or the output is undefined at some point (see :func:`output_values`).
    """
    if executor is None:
        executor = executor_for(workers, scheduler)
    result = run_sweep(spec.sweep(), Path(out) / "sweep", executor=executor, progress=progress)
    points = output_values(result, spec.output)
    problem = spec.problem()
    analysis = _analyse(
        problem,
        spec.design(),
        points["value"].to_numpy(),
        spec.method,
        calc_second_order=spec.calc_second_order,
        num_levels=spec.num_levels,
        seed=spec.seed,
    )
    second = None
    if spec.method == "sobol" and spec.calc_second_order:
        names = problem["names"]
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
        second = pd.DataFrame(
            {
                "parameter_1": [names[i] for i, _ in pairs],
                "parameter_2": [names[j] for _, j in pairs],
                "S2": [float(analysis["S2"][i, j]) for i, j in pairs],
                "S2_conf": [float(analysis["S2_conf"][i, j]) for i, j in pairs],
            }
        )
    return SensitivityResult(
        spec=spec,
        indices=_table(analysis, problem["names"], spec.method),
        second_order=second,
        points=points,
        sweep=result,
    )
