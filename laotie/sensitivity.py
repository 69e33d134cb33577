"""Global sensitivity analysis of a scenario: Sobol indices and Morris screening (SALib).

A :class:`Sensitivity` names a base scenario, numeric parameters (dotted keys) with the range
each may take, one output of a run (:func:`output_names`) and a method:

- ``"sobol"``: Saltelli's sample of ``samples · (D + 2)`` points (``D`` parameters;
  ``samples · (2D + 2)`` with second-order indices) and Sobol's variance decomposition: the
  first-order index ``S1`` of a parameter is the share of the output's variance that it causes
  alone, the total index ``ST`` the share it takes part in, interactions included;
- ``"morris"``: ``samples`` trajectories of ``D + 1`` points that move one parameter at a time
  on a grid of ``num_levels`` levels; ``mu_star``, the mean absolute elementary effect, ranks
  the parameters, ``sigma`` (their spread) flags non-linear effects and interactions.

The points run as one :class:`laotie.sweep.Sweep` of explicit cases, with ``replications``
runs each and common random numbers (replication ``r`` of every point shares the city graph
and the random streams), on any executor, resumable; each point's output is the mean over its
replications. The sample and the bootstrap of the confidence intervals are seeded from the
spec's seed, so the same spec gives the same indices, whatever the number of workers.

Needs SALib (``pip install 'laotie[sensitivity]'``).

Examples
--------
>>> spec = Sensitivity(Scenario.preset("village"), {"decision.trust_weight": [3.0, 6.0],
...                    "policy.reach": [0.1, 0.5]}, "all.conversion", method="morris",
...                    samples=2, days=3, seed=1)
>>> len(spec.cases()), spec.sweep().replications
(6, 1)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_write, plain
from .errors import LaotieError, ScenarioError
from .executors import Executor, add_executor_arguments, executor_for
from .metrics import ROWS
from .params import did_you_mean
from .results import OUTCOME_COLUMNS, SUMMARY_COLUMNS
from .scenario import Scenario, as_points, read_spec, sample_range, spec_scenario
from .sweep import Sweep, SweepResult, run_sweep

__all__ = [
    "RATIOS",
    "Sensitivity",
    "SensitivityResult",
    "add_parser",
    "command",
    "indices",
    "load_sensitivity",
    "output_names",
    "output_values",
    "run_sensitivity",
]

METHODS = ("sobol", "morris")


RATIOS: dict[str, tuple[str, str]] = {
    "trust_traffic_conversion_ratio": ("trust.conversion", "traffic.conversion"),
    "trust_traffic_order_value_ratio": ("trust.order_value", "traffic.order_value"),
}
"""Derived outputs: numerator / denominator, each a ``CHANNEL.METRIC`` of the summary."""

CONFIDENCE = 0.95
BOOTSTRAP = 1000
"""Confidence level and bootstrap resamples of the intervals of the indices."""

# Spawn keys of the sample and of the bootstrap, apart from the runs' keys (replications,
# or run indices) and from the key of Sweep's own sampling (2**31).
_SAMPLE_KEY = 2**31 + 1
_BOOTSTRAP_KEY = 2**31 + 2


def output_names() -> list[str]:
    """Every output a sensitivity analysis can take: the per-run outcomes, ``CHANNEL.METRIC``
    of the per-channel summary, and the ratios of :data:`RATIOS`."""
    return [
        *OUTCOME_COLUMNS,
        *(f"{channel}.{metric}" for channel in ROWS for metric in SUMMARY_COLUMNS),
        *RATIOS,
    ]


def _check_output(output: Any) -> None:
    names = output_names()
    if output not in names:
        channel_metrics = f"CHANNEL.METRIC with CHANNEL one of {', '.join(ROWS)} and METRIC one of "
        raise ScenarioError(
            f"sensitivity: output = {output!r} is unknown{did_you_mean(output, names)}; allowed: "
            f"{', '.join(OUTCOME_COLUMNS)}, {', '.join(RATIOS)}, or {channel_metrics}"
            f"{', '.join(SUMMARY_COLUMNS)} (e.g. trust.conversion)"
        )


def _count(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ScenarioError(f"sensitivity: {name} = {value!r}; expected an integer ≥ {low}")


@dataclass(frozen=True)
class Sensitivity:
    """A sensitivity analysis of one output of a scenario over numeric parameters.

    Parameters
    ----------
    base : Scenario
        The scenario every run starts from.
    parameters : dict of str to [low, high] or None
        Dotted keys of numeric parameters and the range each is sampled in (``None``: the
        declared bounds, which must be finite and closed). Integer parameters are rounded.
    output : str
        What is analysed, one of :func:`output_names` (e.g. ``"trust.conversion"``,
        ``"creator_income_gini"``, ``"trust_traffic_conversion_ratio"``).
    method : {"sobol", "morris"}
        Sobol indices (variance-based) or Morris elementary effects (screening).
    samples : int
        SALib's ``N``: base samples for Sobol (a power of 2), trajectories for Morris.
    replications : int
        Runs per point; the point's output is their mean.
    days : int, optional
        Days per run (default: the scenario's ``run.days``).
    seed : int
        Seeds the runs (spawned per replication), the sample and the bootstrap.
    calc_second_order : bool
        Sobol: also the second-order indices of every pair (``samples · (2D + 2)`` points).
    num_levels : int
        Morris: levels of the grid on which trajectories move.
    """

    base: Scenario
    parameters: Mapping[str, list[float] | None]
    output: str
    method: str = "sobol"
    samples: int = 64
    replications: int = 1
    days: int | None = None
    seed: int = 0
    calc_second_order: bool = False
    num_levels: int = 4

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            hint = did_you_mean(self.method, METHODS)
            raise ScenarioError(
                f"sensitivity: method = {self.method!r}{hint}; expected 'sobol' or 'morris'"
            )
        _count("samples", self.samples, 2)
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ScenarioError(
                f"sensitivity: samples = {self.samples}; Sobol's sample needs a power of 2 "
                f"(e.g. {1 << (self.samples.bit_length() - 1)} or {1 << self.samples.bit_length()})"
            )
        _count("replications", self.replications, 1)
        _count("seed", self.seed, 0)
        if self.days is not None:
            _count("days", self.days, 1)
        if not isinstance(self.calc_second_order, bool):
            raise ScenarioError(
                f"sensitivity: calc_second_order = {self.calc_second_order!r}; "
                f"expected true or false"
            )
        _count("num_levels", self.num_levels, 2)
        _check_output(self.output)
        if not isinstance(self.parameters, Mapping) or not self.parameters:
            raise ScenarioError(
                "sensitivity: parameters must name at least one numeric parameter "
                '(e.g. "decision.trust_weight" = [3.0, 7.0])'
            )
        self.bounds()  # validates every key and range now, not mid-analysis

    def bounds(self) -> dict[str, tuple[float, float]]:
        """The range of every parameter: given, or its declared bounds."""
        return {
            key: sample_range(
                self.base,
                key,
                given,
                where="sensitivity",
                ends=True,
                hint="run a sweep over its values instead",
            )
            for key, given in self.parameters.items()
        }

    def problem(self) -> dict[str, Any]:
        """SALib's problem: ``num_vars``, ``names``, ``bounds``."""
        bounds = self.bounds()
        return {
            "num_vars": len(bounds),
            "names": list(bounds),
            "bounds": [list(b) for b in bounds.values()],
        }

    def design(self) -> np.ndarray:
        """SALib's sample, one row per point (before integer parameters are rounded)."""
        _require_salib()
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(_SAMPLE_KEY,)))
        if self.method == "sobol":
            from SALib.sample import sobol

            return sobol.sample(
                self.problem(),
                self.samples,
                calc_second_order=self.calc_second_order,
                seed=rng,
            )
        from SALib.sample import morris

        return morris.sample(self.problem(), self.samples, num_levels=self.num_levels, seed=rng)

    def cases(self) -> list[dict[str, Any]]:
        """The points as the runs take them: integer parameters rounded to the nearest one."""
        return as_points(list(self.bounds()), self.design())

    def sweep(self) -> Sweep:
        """The sweep that runs every point ``replications`` times (common random numbers)."""
        return Sweep(
            self.base,
            cases=self.cases(),
            replications=self.replications,
            days=self.days,
            seed=self.seed,
        )

    def describe(self) -> str:
        """One line: method, output, parameters, points and runs."""
        points = len(self.design())
        name = "Sobol indices" if self.method == "sobol" else "Morris elementary effects"
        return (
            f"{name} of {self.output} over {len(self.parameters)} parameter(s) of "
            f"{self.base.name!r}: {points} points × {self.replications} replication(s) = "
            f"{points * self.replications} runs of {self.days or self.base.run.days} days, "
            f"seed {self.seed}"
        )


def load_sensitivity(path: str | Path) -> Sensitivity:
    """Read a sensitivity spec (TOML).

    Keys: ``scenario`` (a shipped scenario's name or a ``.toml`` file relative to the spec),
    ``method`` (``"sobol"`` or ``"morris"``), ``samples``, ``output``, ``replications``,
    ``days``, ``seed``, ``calc_second_order`` (Sobol), ``num_levels`` (Morris), and a
    ``[parameters]`` table of dotted keys and ``[low, high]`` (``[]``: the declared range).
    """
    path = Path(path)
    allowed = {
        "scenario",
        "method",
        "samples",
        "output",
        "replications",
        "days",
        "seed",
        "parameters",
        "calc_second_order",
        "num_levels",
    }
    data = read_spec(path, "sensitivity spec", allowed, ("scenario", "output", "parameters"))
    method = data.get("method", "sobol")
    wrong = {"sobol": "num_levels", "morris": "calc_second_order"}.get(method)
    if wrong in data:
        raise ScenarioError(f"{path}: {wrong} does not apply to method = {method!r}")
    parameters = data["parameters"]
    if not isinstance(parameters, dict):
        raise ScenarioError(
            f"{path}: parameters = {parameters!r}; expected a table of dotted keys and "
            f'[low, high], e.g. [parameters] "decision.trust_weight" = [3.0, 7.0]'
        )
    try:
        base = spec_scenario(path, data["scenario"])
        return Sensitivity(
            base,
            {key: (None if value == [] else value) for key, value in parameters.items()},
            data["output"],
            method=method,
            samples=data.get("samples", 64),
            replications=data.get("replications", 1),
            days=data.get("days"),
            seed=data.get("seed", 0),
            calc_second_order=data.get("calc_second_order", False),
            num_levels=data.get("num_levels", 4),
        )
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None


def _per_run(result: SweepResult, name: str) -> pd.Series:
    """One output's value per run (indexed by run)."""
    if name in OUTCOME_COLUMNS:
        return result.outcomes.set_index("run")[name].astype(float)
    channel, _, metric = name.partition(".")
    rows = result.summary[result.summary["channel"] == channel]
    return rows.set_index("run")[metric].astype(float)


def output_values(result: SweepResult, output: str) -> pd.DataFrame:
    """The output at every point of a finished sweep: one row per point, its parameters and
    ``value``, the mean over replications (for a ratio, the ratio of the means).

    Raises
    ------
    LaotieError
        When a run failed or is missing, or when a point's value is not finite (e.g. a
        conversion without exposures), naming how many points and the first of them.
    """
    _check_output(output)
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
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_BOOTSTRAP_KEY,)))
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


def _require_salib() -> None:
    """A clear error, not an ImportError from deep inside, when SALib is missing."""
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise LaotieError(
            "sensitivity analysis needs SALib: pip install 'laotie[sensitivity]'"
        ) from None


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
    _require_salib()
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

    def plot(self, ax: Any = None) -> Any:
        """Bars of the indices with their 95 % intervals; returns the matplotlib Axes.

        Sobol: ``S1`` and ``ST`` side by side. Morris: ``mu_star`` (with its interval) and
        ``sigma`` side by side.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 1.6 + 0.6 * len(self.indices)))
        table = self.indices
        y = np.arange(len(table))
        height = 0.38
        if self.spec.method == "sobol":
            bars = [("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")]
            label = "Sobol index (share of the output's variance)"
        else:
            bars = [("mu_star", "mu_star_conf", "μ* (mean |effect|)"), ("sigma", None, "σ")]
            label = f"effect on {self.spec.output} over the parameter's range"
        for i, (column, conf, name) in enumerate(bars):
            ax.barh(
                y + (i - 0.5) * height,
                table[column],
                height,
                xerr=table[conf] if conf else None,
                capsize=3,
                label=name,
            )
        ax.set_yticks(y, table["parameter"])
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(label)
        ax.set_title(
            f"{self.spec.output}\n{self.spec.method.capitalize()}: {len(self.points)} points × "
            f"{self.spec.replications} replication(s), {self.spec.days or self.spec.base.run.days}"
            f" days",
            fontsize="medium",
        )
        ax.legend(loc="best")
        return ax

    def markdown(self) -> str:
        """The spec in one sentence, then the table of indices (and of second-order ones)."""
        from .experiment import markdown

        lines = [self.spec.describe() + ".", "", markdown(self.indices)]
        if self.second_order is not None:
            lines += ["", "Second-order indices:", "", markdown(self.second_order)]
        return "\n".join(lines) + "\n"

    def write(self, out: str | Path) -> list[Path]:
        """Write ``indices.csv``, ``indices.md``, ``points.csv`` (the output at every point),
        ``second_order.csv`` (if any) and ``sensitivity.png`` under ``out``, atomically."""
        import matplotlib.pyplot as plt

        out = Path(out)
        tables = {"indices": self.indices, "points": self.points}
        if self.second_order is not None:
            tables["second_order"] = self.second_order
        written = []
        for name, table in tables.items():
            atomic_write(out / f"{name}.csv", lambda p, t=table: t.to_csv(p, index=False))
            written.append(out / f"{name}.csv")
        text = self.markdown()
        atomic_write(out / "indices.md", lambda p: p.write_text(text, encoding="utf-8"))
        written.append(out / "indices.md")
        ax = self.plot()
        try:
            ax.figure.tight_layout()
            atomic_write(
                out / "sensitivity.png", lambda p: ax.figure.savefig(p, dpi=120, format="png")
            )
        finally:
            plt.close(ax.figure)
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
    out : path
        The runs go to ``out/sweep/runs`` as they finish; running again skips those done.
    executor, workers, scheduler
        Where the runs execute (see :func:`laotie.sweep.run_sweep`); the indices do not
        depend on it.
    progress : bool
        Show a progress bar across runs.

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


_EXAMPLE = """\
example spec (trust_traffic.toml):
  scenario = "county"
  method = "sobol"          # or "morris" (screening: fewer runs)
  samples = 16              # Sobol: N, a power of 2; Morris: trajectories
  output = "trust_traffic_conversion_ratio"
  replications = 1
  days = 30
  seed = 1
  [parameters]
  "decision.trust_weight" = [3.0, 7.0]
  "policy.reach" = [0.1, 0.5]
  "storefronts.trust" = []   # [] : the declared range (0 to 1)

examples:
  laotie sensitivity experiments/sensitivity/trust_traffic.toml --out out/sensitivity
  laotie sensitivity trust_traffic.toml --out out/tt --workers 2
"""


def add_parser(sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``laotie sensitivity SPEC --out DIR`` to the subparsers ``sub``."""
    parser = sub.add_parser(
        "sensitivity",
        parents=[common],
        help="Sobol or Morris sensitivity of an output to a scenario's parameters (SALib)",
        description=(
            "Global sensitivity analysis (敏感性分析): sample a spec's [parameters] within "
            "their ranges (Sobol or Morris, SALib), run every point with its replications "
            "(common random numbers), and estimate how much of an output, e.g. the trust "
            "(老铁) / traffic conversion ratio, each parameter explains. Writes indices.csv, "
            "indices.md, points.csv and sensitivity.png under --out; the runs are stored under "
            "--out/sweep, so running the same command again resumes."
        ),
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("spec", type=Path, help="the sensitivity spec (TOML)")
    parser.add_argument("--out", metavar="DIR", type=Path, required=True, help="results folder")
    add_executor_arguments(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=command)
    return parser


def command(args: argparse.Namespace) -> int:
    """``laotie sensitivity SPEC --out DIR [--workers N] [--scheduler ADDRESS] [--quiet]``."""
    import matplotlib

    # The command draws only into files: no window, whatever the environment says.
    matplotlib.use("Agg")
    spec = load_sensitivity(args.spec)
    executor = executor_for(args.workers, args.scheduler)
    print(f"{spec.describe()}; on {executor.describe()}, into {args.out}", file=sys.stderr)
    start = time.perf_counter()
    try:
        result = run_sensitivity(spec, args.out, executor=executor, progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"laotie: interrupted; the finished runs are kept in {args.out}/sweep: run the "
            f"same command again to resume",
            file=sys.stderr,
        )
        return 130
    written = result.write(args.out)
    print(result.markdown())
    print(f"Done in {time.perf_counter() - start:.0f} s; results in {args.out}")
    print("  " + ", ".join(p.name for p in written))
    return 0
