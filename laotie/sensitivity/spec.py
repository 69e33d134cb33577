"""What a sensitivity analysis samples and analyses: the spec (:class:`Sensitivity`), read
from TOML by :func:`load_sensitivity`, and the outputs it may take (:func:`output_names`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LaotieError, ScenarioError
from ..metrics import ROWS
from ..params import did_you_mean
from ..results import OUTCOME_COLUMNS, SUMMARY_COLUMNS
from ..scenario import Scenario
from ..sweep import Sweep
from ..sweep.spec import as_points, read_spec, sample_range, spec_scenario

__all__ = [
    "METHODS",
    "RATIOS",
    "Sensitivity",
    "check_output",
    "load_sensitivity",
    "output_names",
    "require_salib",
]

METHODS = ("sobol", "morris")
"""The methods of a sensitivity analysis: Sobol indices and Morris screening."""

RATIOS: dict[str, tuple[str, str]] = {
    "trust_traffic_conversion_ratio": ("trust.conversion", "traffic.conversion"),
    "trust_traffic_order_value_ratio": ("trust.order_value", "traffic.order_value"),
}
"""Derived outputs: numerator / denominator, each a ``CHANNEL.METRIC`` of the summary."""

# Spawn keys of the sample and of the bootstrap, apart from the runs' keys (replications,
# or run indices) and from the key of Sweep's own sampling (2**31).
SAMPLE_KEY = 2**31 + 1
BOOTSTRAP_KEY = 2**31 + 2


def output_names() -> list[str]:
    """Every output a sensitivity analysis can take.

    Returns
    -------
    list of str
        The per-run outcomes, ``CHANNEL.METRIC`` of the per-channel summary, and the ratios
        of :data:`RATIOS`.

    Examples
    --------
    >>> "trust.conversion" in output_names()
    True
    """
    return [
        *OUTCOME_COLUMNS,
        *(f"{channel}.{metric}" for channel in ROWS for metric in SUMMARY_COLUMNS),
        *RATIOS,
    ]


def check_output(output: Any) -> None:
    """Refuse an output that is not one of :func:`output_names`.

    Parameters
    ----------
    output : object
        The output asked for.

    Raises
    ------
    ScenarioError
        Naming the output, the nearest valid one and what is allowed.
    """
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
        check_output(self.output)
        if not isinstance(self.parameters, Mapping) or not self.parameters:
            raise ScenarioError(
                "sensitivity: parameters must name at least one numeric parameter "
                '(e.g. "decision.trust_weight" = [3.0, 7.0])'
            )
        self.bounds()  # validates every key and range now, not mid-analysis

    def bounds(self) -> dict[str, tuple[float, float]]:
        """The range of every parameter: given, or its declared bounds.

        Returns
        -------
        dict of str to (float, float)

        Raises
        ------
        ScenarioError
            For a key or range that is not allowed (:func:`laotie.sweep.spec.sample_range`).
        """
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
        """The analysis as SALib's problem.

        Returns
        -------
        dict
            ``num_vars``, ``names`` (the dotted keys) and ``bounds``.
        """
        bounds = self.bounds()
        return {
            "num_vars": len(bounds),
            "names": list(bounds),
            "bounds": [list(b) for b in bounds.values()],
        }

    def design(self) -> np.ndarray:
        """SALib's sample, seeded from the spec's seed.

        Returns
        -------
        numpy.ndarray
            One row per point, one column per parameter (before integer parameters are
            rounded).

        Raises
        ------
        LaotieError
            When SALib is not installed.
        """
        require_salib()
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(SAMPLE_KEY,)))
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
        """The points as the runs take them.

        Returns
        -------
        list of dict
            One ``{dotted key: value}`` per row of :meth:`design`, integer parameters rounded
            to the nearest integer.
        """
        return as_points(list(self.bounds()), self.design())

    def sweep(self) -> Sweep:
        """The sweep that runs every point ``replications`` times (common random numbers).

        Returns
        -------
        Sweep
            With the points as its cases, and this spec's replications, days and seed.
        """
        return Sweep(
            self.base,
            cases=self.cases(),
            replications=self.replications,
            days=self.days,
            seed=self.seed,
        )

    def describe(self) -> str:
        """The analysis in one line: method, output, parameters, points and runs.

        Returns
        -------
        str
        """
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

    Parameters
    ----------
    path : str or path
        The spec file.

    Returns
    -------
    Sensitivity

    Raises
    ------
    ScenarioError
        Naming the file, for a missing or unreadable file, an unknown key (with the nearest
        one), a key that does not apply to the method, and every problem that
        :class:`Sensitivity` refuses.
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


def require_salib() -> None:
    """Refuse to go on without SALib, with a clear error rather than an ImportError from deep
    inside.

    Raises
    ------
    LaotieError
        When SALib cannot be imported, saying how to install it.
    """
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise LaotieError(
            "sensitivity analysis needs SALib: pip install 'laotie[sensitivity]'"
        ) from None
