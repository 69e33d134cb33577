"""The dashboard's second mode: two variants of a scenario (two policies) side by side, each
over a few replications, with intervals.

Both variants run with the same seed through :func:`laotie.runs.replicate`, so replication
``r`` of each shares the city graph (when the variants do not change the city) and the
random streams: common random numbers, which make the paired difference precise. The means,
differences and intervals are :func:`laotie.stats.paired`'s. Nothing here imports Solara.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ScenarioError
from ..runs import replicate
from ..scenario import Scenario
from ..stats import paired
from .measures import MEASURES, measure_values

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True)
class Comparison:
    """Two variants of a scenario over the same replications.

    Attributes
    ----------
    scenario : Scenario
        The scenario both variants start from.
    labels : tuple of str
        The variants' labels; the first is the baseline of the differences.
    changes : tuple of dict
        Each variant's changes to the scenario (dotted keys).
    table : pandas.DataFrame
        One row per measure (:data:`~laotie.dashboard.measures.MEASURES`), the columns of
        :func:`laotie.stats.paired` for each variant: ``<label>``, ``<label>_low``,
        ``<label>_high`` (the mean and its interval), and for the second variant
        ``difference``, ``difference_low``, ``difference_high`` and ``relative`` (second
        minus first), ``n`` (replications where both are defined) and ``label``, ``unit``.
    values : pandas.DataFrame
        Every replication's value: one row per measure and replication, one column per
        variant.
    replications : int
        Replications of each variant.
    seed : int
        The seed of both variants' runs.
    level : float
        Confidence level of the intervals.
    seconds : float
        Wall time of both runs.
    """

    scenario: Scenario
    labels: tuple[str, str]
    changes: tuple[dict[str, Any], dict[str, Any]]
    table: pd.DataFrame
    values: pd.DataFrame
    replications: int
    seed: int
    level: float
    seconds: float

    def describe(self) -> tuple[str, str, str]:
        """The variants in words: where each differs from the other, and what both change.

        Returns
        -------
        tuple of str
            ``"key = value, ..."`` for the first variant and for the second (the keys where
            they differ), and for the changes to the scenario that both make (``""`` when
            none).

        Examples
        --------
        >>> from laotie import Scenario
        >>> result = compare(Scenario.load("village"), {"policy.traffic": "head"}, {},
        ...                  replications=2, days=2)
        >>> result.describe()
        ("policy.traffic = 'head'", "policy.traffic = 'inclusive'", '')
        """
        flat = self.scenario.flat()
        keys = list(dict.fromkeys([*self.changes[0], *self.changes[1]]))
        a = {key: self.changes[0].get(key, flat[key]) for key in keys}
        b = {key: self.changes[1].get(key, flat[key]) for key in keys}

        def words(values: dict[str, Any], which: list[str]) -> str:
            return ", ".join(f"{key} = {values[key]!r}" for key in which)

        differ = [key for key in keys if a[key] != b[key]]
        both = [key for key in keys if a[key] == b[key]]
        return words(a, differ), words(b, differ), words(a, both)


def compare(
    scenario: Scenario,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    replications: int = 5,
    seed: int | None = None,
    days: int | None = None,
    level: float = 0.95,
    labels: tuple[str, str] = ("A", "B"),
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Run two variants of ``scenario`` with common random numbers and compare their measures.

    Parameters
    ----------
    scenario : Scenario
        The scenario both variants start from, at the scale to build.
    a, b : mapping of str to value
        Each variant's changes (dotted keys, as for :meth:`Scenario.replace`); ``a`` is the
        baseline of the differences.
    replications : int, default 5
        Replications of each variant (at least 2, for an interval).
    seed : int, optional
        The seed of both runs (default: the scenario's ``run.seed``).
    days : int, optional
        Days to simulate (default: the scenario's ``run.days``).
    level : float, default 0.95
        Confidence level of the intervals.
    labels : tuple of str, default ("A", "B")
        The variants' names in the table.
    progress : callable, optional
        Called with a sentence before each variant runs.

    Returns
    -------
    Comparison

    Raises
    ------
    ScenarioError
        For a change that is not allowed, fewer than 2 replications, or labels that are not
        two different strings.

    Examples
    --------
    >>> from laotie import Scenario
    >>> result = compare(
    ...     Scenario.load("village"), {"policy.traffic": "head"},
    ...     {"policy.traffic": "inclusive"}, replications=2, days=10, seed=1,
    ... )
    >>> list(result.table.columns[:3])
    ['A', 'A_low', 'A_high']
    """
    if replications < 2:
        raise ScenarioError(f"replications = {replications}: at least 2, for an interval")
    if len(labels) != 2 or labels[0] == labels[1]:
        raise ScenarioError(f"labels = {labels!r}: two different names")
    variants = (scenario.replace(**dict(a)), scenario.replace(**dict(b)))
    seed = scenario.run.seed if seed is None else seed
    start = time.perf_counter()
    runs = []
    for label, variant in zip(labels, variants, strict=True):
        if progress is not None:
            progress(f"running {label}: {replications} replications ...")
        results = replicate(variant, replications, days=days, seed=seed)
        runs.append([measure_values(r) for r in results])
    seconds = time.perf_counter() - start
    rows = []
    values = []
    first, second = labels
    for key, measure in MEASURES.items():
        wide = pd.DataFrame(
            {label: [v[key] for v in run] for label, run in zip(labels, runs, strict=True)}
        )
        compared = paired(wide, first, level=level)
        row: dict[str, Any] = {"measure": key, "label": measure.label, "unit": measure.unit}
        for label in labels:
            row[label] = compared.at[label, "mean"]
            row[f"{label}_low"] = compared.at[label, "mean_low"]
            row[f"{label}_high"] = compared.at[label, "mean_high"]
        for column in ("difference", "difference_low", "difference_high", "relative", "n"):
            row[column] = compared.at[second, column]
        rows.append(row)
        values.append(wide.rename_axis("replication").reset_index().assign(measure=key))
    table = pd.DataFrame(rows).set_index("measure")
    ordered = [c for label in labels for c in (label, f"{label}_low", f"{label}_high")]
    differences = ["difference", "difference_low", "difference_high", "relative", "n"]
    table = table[[*ordered, *differences, "label", "unit"]]
    long = pd.concat(values, ignore_index=True)[["measure", "replication", *labels]]
    return Comparison(
        scenario=scenario,
        labels=(first, second),
        changes=(dict(a), dict(b)),
        table=table,
        values=long,
        replications=replications,
        seed=seed,
        level=level,
        seconds=seconds,
    )
