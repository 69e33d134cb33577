"""Posterior draws of a calibrated scenario: the parameter uncertainty that later runs carry.

A calibrated scenario (``laotie calibrate``, docs/calibration.md) ships as a folder with
``scenario.toml`` (its free parameters at their posterior medians) and ``posterior.csv`` beside
it: one row per posterior draw, one column per free parameter (a dotted key). Experiments and
sweeps run over a subset of those draws (:meth:`Posterior.draws`, ``Sweep(draws=...)``) times
replications, so that their intervals include what the calibration left uncertain as well as
chance (:func:`laotie.stats.decompose`).

Examples
--------
>>> posterior = load_posterior("mudanjiang_calibrated")
>>> len(posterior.draws(3, seed=1))
3
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import reading
from .errors import ScenarioError
from .params import did_you_mean
from .scenario import Scenario, scenario_path
from .sweep.spec import as_points

__all__ = ["PLATFORM_KEYS", "POSTERIOR_FILE", "Posterior", "load_posterior"]

POSTERIOR_FILE = "posterior.csv"

PLATFORM_KEYS = (
    "decision.intercept",
    "decision.trust_weight",
    "decision.basket_trust_effect",
    "storefronts.click_prob",
    "storefronts.impressions_per_active",
    "creators.enter_prob",
    "population.activity_mean",
    "population.activity_concentration",
    "population.propensity_dispersion",
    "loyalty.return_creators",
    "loyalty.return_storefronts",
    "loyalty.weight",
    "loyalty.half_life",
)
"""The free parameters of ``mudanjiang_calibrated`` that describe how people use the app (the
purchase logit, activity, loyalty, storefront traffic, creators' entry) rather than the city's
trust graph or its price levels: what a scenario without a posterior of its own may carry over
(``Posterior.draws(keys=list(PLATFORM_KEYS))``), as the poverty-county experiments do."""


@dataclass(frozen=True)
class Posterior:
    """The posterior draws of a calibrated scenario.

    Attributes
    ----------
    scenario : Scenario
        The calibrated scenario (its free parameters at the posterior medians).
    table : pandas.DataFrame
        One row per draw, one column per free parameter (dotted keys).
    path : pathlib.Path
        The ``posterior.csv`` the draws were read from.
    """

    scenario: Scenario
    table: pd.DataFrame
    path: Path

    @property
    def keys(self) -> list[str]:
        """The free parameters (dotted keys), in the file's order.

        Returns
        -------
        list of str
        """
        return list(self.table.columns)

    def draws(self, n: int, seed: int, keys: list[str] | None = None) -> list[dict[str, Any]]:
        """``n`` distinct draws, chosen at random with ``seed`` (the same ``n`` and ``seed``
        always choose the same draws, whatever ``keys``).

        Parameters
        ----------
        n : int
            How many, at most the number of stored draws.
        seed : int
            Chooses which.
        keys : list of str, optional
            Only these free parameters (all by default): to carry a calibrated scenario's
            platform-level parameters over to another scenario, the others staying as that
            scenario sets them. Each draw keeps its joint values (rows are not mixed).

        Returns
        -------
        list of dict
            One ``{dotted key: value}`` per draw (integer parameters rounded), ready for
            :meth:`Scenario.replace` or ``Sweep(draws=...)``.

        Raises
        ------
        ScenarioError
            For ``n`` that is not an integer from 1 to the number of draws, a seed that is
            not an integer ≥ 0, or a key that is not a free parameter of this posterior.
        """
        if isinstance(keys, str) or (keys is not None and not list(keys)):
            raise ScenarioError(
                f"{self.path}: keys = {keys!r}; expected a non-empty list of its free parameters"
            )
        chosen = self.keys if keys is None else list(dict.fromkeys(keys))
        for key in chosen:
            if key not in self.table.columns:
                raise ScenarioError(
                    f"{self.path}: {key!r} is not one of its free parameters"
                    f"{did_you_mean(key, self.keys)}; they are {', '.join(self.keys)}"
                )
        total = len(self.table)
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= total:
            raise ScenarioError(
                f"{self.path}: {n!r} draws asked for; expected an integer from 1 to {total}"
            )
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ScenarioError(f"{self.path}: seed = {seed!r}; expected an integer ≥ 0")
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2**31 + 1,)))
        rows = np.sort(rng.choice(total, size=int(n), replace=False))
        return as_points(chosen, self.table[chosen].to_numpy(float)[rows])

    def intervals(self, level: float = 0.9) -> pd.DataFrame:
        """Each parameter's median and central ``level`` interval over the draws.

        Parameters
        ----------
        level : float, default 0.9

        Returns
        -------
        pandas.DataFrame
            Indexed by parameter: ``median``, ``low``, ``high``.
        """
        tail = (1 - level) / 2
        return pd.DataFrame(
            {
                "median": self.table.median(),
                "low": self.table.quantile(tail),
                "high": self.table.quantile(1 - tail),
            }
        ).rename_axis("parameter")


def load_posterior(source: str | os.PathLike[str]) -> Posterior:
    """The posterior of a calibrated scenario: a shipped name, its folder or its ``.toml``.

    Parameters
    ----------
    source : str or os.PathLike
        ``"mudanjiang_calibrated"``, ``"models/mudanjiang_calibrated"`` or the scenario
        file; ``posterior.csv`` must be beside the scenario file.

    Returns
    -------
    Posterior

    Raises
    ------
    ScenarioError
        Naming the file: when there is no ``posterior.csv`` (the scenario is not
        calibrated), it cannot be read, has no rows, a column that is not a parameter of the
        scenario, a value that is missing or not a number, or a value the parameter does not
        allow.
    """
    path = Path(source)
    if path.is_dir():
        path = path / "scenario.toml"
    if not (path.suffix == ".toml" or path.exists()):
        shipped = scenario_path(str(source))
        if shipped is None:
            Scenario.preset(str(source))  # the usual "unknown scenario" error
            raise ScenarioError(f"scenario {str(source)!r} has no posterior draws")
        path = shipped
    scenario = Scenario.from_toml(path)
    file = path.parent / POSTERIOR_FILE
    if not file.is_file():
        raise ScenarioError(
            f"{file}: no such file: scenario {scenario.name!r} has no posterior draws (only a "
            f"calibrated scenario has them; `laotie calibrate` writes one)"
        )
    with reading(file, ScenarioError, what="cannot be read as CSV", named=False):
        table = pd.read_csv(file, index_col=False, dtype=str, keep_default_na=False)
    if table.empty:
        raise ScenarioError(f"{file}: no draws (a header and at least one row are needed)")
    flat = scenario.flat()
    sections = Scenario.sections()
    for column in table.columns:
        if column not in flat:
            raise ScenarioError(
                f"{file}: column {column!r} is not a parameter of scenario "
                f"{scenario.name!r}{did_you_mean(str(column), list(flat))}"
            )
        values = pd.to_numeric(table[column].str.strip(), errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(float)))
        if bad.size:
            raise ScenarioError(
                f"{file}: row {bad[0] + 2}, column {column!r}: {table[column].iloc[bad[0]]!r} "
                f"is not a finite number"
            )
        section, _, name = column.partition(".")
        if sections[section].params()[name].kind is int:
            fraction = np.flatnonzero(values.to_numpy(float) % 1 != 0)
            if fraction.size:
                raise ScenarioError(
                    f"{file}: row {fraction[0] + 2}, column {column!r}: "
                    f"{table[column].iloc[fraction[0]]!r} is not an integer, which {column} is"
                )
        table[column] = values.astype(float)
    for i, point in enumerate(as_points(list(table.columns), table.to_numpy(float))):
        try:
            scenario.replace(**point)
        except ScenarioError as err:
            raise ScenarioError(f"{file}: row {i + 2}: {err}") from None
    return Posterior(scenario=scenario, table=table, path=file)
