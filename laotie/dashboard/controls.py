"""The dashboard's widgets, written from the parameters' declarations.

Each parameter is declared once (:func:`laotie.params.param`: default, bounds or choices,
unit, meaning, source); :func:`controls` turns the declarations of the keys a page shows
into :class:`Control` specifications: a slider for a number, a choice for a string with
choices, a switch for a boolean. Nothing here imports Solara, so the specifications can be
checked (and used by another front end) without it.

Examples
--------
>>> from laotie import Scenario
>>> (reach,) = controls(Scenario.load("village"), ["policy.reach"])
>>> reach.widget, reach.low, reach.high, reach.step, reach.unit
('float', 0.0, 1.0, 0.01, 'share')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ScenarioError
from ..params import Param, did_you_mean
from ..scenario import Scenario

__all__ = ["DEFAULT_KEYS", "MAX_RESIDENTS", "Control", "controls", "declared", "default_scale"]

DEFAULT_KEYS: tuple[str, ...] = (
    "policy.traffic",
    "policy.reach",
    "policy.head_exponent",
    "policy.head_cap",
    "policy.discovery_per_active",
    "decision.trust_weight",
    "training.day",
    "training.n_creators",
    "training.rule",
    "training.authenticity_gain",
    "training.content_quality_gain",
    "training.follower_gain",
    "information.n_messages",
)
"""The parameters the dashboard shows unless told otherwise: the platform's traffic policy
(流量分配), the weight of trust (老铁) in a purchase, creator training (培训) and the number of
government messages (whose reach the page plots)."""

MAX_RESIDENTS = 20_000
"""The largest city the dashboard builds by default (:func:`default_scale`): a day of it
takes milliseconds, so that stepping stays interactive."""

WIDE = 100
"""A declared range wider than ``WIDE`` times the magnitude of the value is narrowed on the
slider (:func:`_slider_range`)."""


@dataclass(frozen=True)
class Control:
    """The specification of one widget, written from a parameter's declaration.

    Attributes
    ----------
    key : str
        The dotted key (``"policy.reach"``) that :meth:`Scenario.replace` takes.
    widget : str
        ``"float"`` or ``"int"`` (a slider), ``"choice"`` (a string with choices) or
        ``"switch"`` (a boolean).
    value : bool, int, float or str
        The scenario's value, where the widget starts.
    default : bool, int, float or str
        The declared default.
    low, high, step : float or None
        The slider's range and step (None for a choice or a switch). The range is the
        declared one, narrowed where it is open or very wide (:func:`controls`).
    choices : tuple or None
        The values a choice offers: the declared choices but those for the Python API only
        (:attr:`Param.offered`).
    unit : str
        The declared unit, or ``""``.
    meaning : str
        The declared sentence of meaning.
    allowed : str
        What the declaration allows, in words (:meth:`Param.allowed`).
    source : str
        Where the default comes from (an id of docs/sources.md, or "assumed").
    """

    key: str
    widget: str
    value: Any
    default: Any
    low: float | None
    high: float | None
    step: float | None
    choices: tuple[Any, ...] | None
    unit: str
    meaning: str
    allowed: str
    source: str

    @property
    def help(self) -> str:
        """The declaration in sentences: meaning, unit, what is allowed, default, source."""
        meaning = self.meaning[:1].upper() + self.meaning[1:].rstrip(".") + "."
        unit = f" Unit: {self.unit}." if self.unit else ""
        return (
            f"{meaning}{unit} Allowed: {self.allowed}. Default: {self.default!r}. "
            f"Source: {self.source}."
        )


def declared(key: str) -> Param:
    """The declaration of the dotted parameter ``key``.

    Parameters
    ----------
    key : str
        ``"section.name"``, e.g. ``"decision.trust_weight"`` (``"city.*"`` keys included).

    Returns
    -------
    Param

    Raises
    ------
    ScenarioError
        For an unknown key, with the nearest known one.

    Examples
    --------
    >>> declared("decision.trust_weight").default
    5.0
    """
    section, _, name = key.partition(".")
    kinds = Scenario.sections()
    params = kinds[section].params() if section in kinds else {}
    if name not in params:
        known = [f"{s}.{n}" for s, kind in kinds.items() for n in kind.params()]
        raise ScenarioError(f"unknown parameter {key!r}{did_you_mean(key, known)}")
    return params[name]


def controls(scenario: Scenario, keys: Sequence[str] = DEFAULT_KEYS) -> list[Control]:
    """The widgets of ``keys``, written from their declarations, starting at ``scenario``'s values.

    Parameters
    ----------
    scenario : Scenario
        Gives each widget its starting value, and the run's last day for parameters that
        are a day of the run.
    keys : sequence of str, default :data:`DEFAULT_KEYS`
        Dotted parameter keys, in the order to show them.

    Returns
    -------
    list of Control
        One per key, in order.

    Raises
    ------
    ScenarioError
        For an unknown key (with the nearest known one), a key given twice, a key of
        ``[graph]`` (a graph file's mapping, set in the scenario file), or a value of
        ``scenario`` that only the Python API can use (a choice the widget does not offer).

    Notes
    -----
    A choice offers the declared choices but those for the Python API only
    (:attr:`Param.api_only`: ``training.rule = "targeted"`` needs the creators that
    :mod:`laotie.policy` names, which a page cannot give); the help text still names them.
    A slider spans the declared bounds (an open bound moved in by one step), with two
    exceptions that keep it usable. A parameter whose unit is ``day`` (a day of the run, as
    ``training.day``) stops at the run's last day, ``run.days - 1``, as the scenario's own
    check requires. A range that is open above, or wider than 100 times the larger of the
    value, the default and 1, stops at the round number (1, 2 or 5 times a power of ten) at
    or above 10 times that magnitude (and, when negative values are allowed, starts at its
    opposite): ``policy.discovery_per_active`` (0 to 1,000, default 0.3) gets a 0–10 slider.
    The help text still says the whole declared range. The step is the round number nearest
    a hundredth of the range, or nearest a tenth of the value (or of the default) when that
    is smaller, and at least 1 for an integer.

    Examples
    --------
    >>> from laotie import Scenario
    >>> day, rule = controls(Scenario.load("village"), ["training.day", "training.rule"])
    >>> day.low, day.high, rule.choices
    (-1, 89, ('followers', 'local', 'rural', 'random'))
    """
    seen: set[str] = set()
    out = []
    values = scenario.flat()
    for key in keys:
        if key in seen:
            raise ScenarioError(f"parameter {key!r} is shown twice")
        seen.add(key)
        p = declared(key)
        if key not in values:  # graph.*: where the graph comes from, set in the scenario file
            raise ScenarioError(
                f"{key} maps a graph file ([graph]); it is set in the scenario file, not on "
                "the dashboard"
            )
        value = values[key]
        if value in p.api_only:
            raise ScenarioError(
                f"{key} = {value!r} can only be used from the Python API (the dashboard "
                f"offers {', '.join(repr(c) for c in p.offered or ())})"
            )
        if p.choices is not None or p.kind is bool:
            low = high = step = None
            widget = "switch" if p.kind is bool else "choice"
        else:
            widget = "int" if p.kind is int else "float"
            low, high, step = _slider_range(p, value, scenario)
        out.append(
            Control(
                key=key,
                widget=widget,
                value=value,
                default=p.default,
                low=low,
                high=high,
                step=step,
                choices=p.offered,
                unit=p.unit,
                meaning=p.doc,
                allowed=p.allowed(),
                source=p.source,
            )
        )
    return out


def default_scale(scenario: Scenario, max_residents: int = MAX_RESIDENTS) -> float:
    """The scale at which the dashboard builds ``scenario``'s city: 1, or less for a city
    above ``max_residents`` (always 1 for a scenario whose graph is a file, which is not
    scaled).

    Parameters
    ----------
    scenario : Scenario
        At its own scale.
    max_residents : int, default :data:`MAX_RESIDENTS`
        The most residents to build.

    Returns
    -------
    float
        ``min(1, max_residents / residents)``.

    Examples
    --------
    >>> from laotie import Scenario
    >>> default_scale(Scenario.load("village")), default_scale(Scenario.load("county"))
    (1.0, 0.2)
    """
    if scenario.graph.file:
        return 1.0
    return min(1.0, max_residents / scenario.city.n_residents)


def _slider_range(
    p: Param, value: float, scenario: Scenario
) -> tuple[float | int, float | int, float | int]:
    """A slider's ``(low, high, step)`` from the declaration (:func:`controls`, Notes)."""
    magnitude = max(abs(value), abs(p.default), 1.0)
    reach = _round_up(10 * magnitude)
    low = p.low if p.low is not None else -reach
    high = p.high if p.high is not None else reach
    if p.unit == "day":
        high = min(high, scenario.run.days - 1)
    elif high - max(low, 0) > WIDE * magnitude or p.high is None:
        high = min(high, max(low, 0) + reach)
    if low < 0 and (p.low is None or -low > WIDE * magnitude) and p.unit != "day":
        low = max(low, -reach)
    high = max(high, low)
    step = _round_near((high - low) / 100) if high > low else 1.0
    smallest = min((abs(v) for v in (value, p.default) if v), default=0)
    if smallest:
        step = min(step, _round_near(smallest / 10))
    if p.kind is int:
        step = max(1, round(step))
    if p.low_open:
        low += step
    if p.high_open:
        high -= step
    if p.kind is int:
        return math.ceil(low), math.floor(high), int(step)
    return _clean(low), _clean(high), _clean(step)


def _round_up(x: float) -> float:
    """The smallest of 1, 2 and 5 times a power of ten that is at least ``x`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(x))
    for factor in (1, 2, 5, 10):
        if factor * power >= x * (1 - 1e-12):
            return _clean(factor * power)
    return _clean(10 * power)  # pragma: no cover - the loop ends at 10


def _round_near(x: float) -> float:
    """The one of 1, 2 and 5 times a power of ten nearest ``x`` (> 0) on a log scale."""
    power = 10.0 ** math.floor(math.log10(x))
    return _clean(min((1, 2, 5, 10), key=lambda f: abs(math.log(f * power / x))) * power)


def _clean(x: float) -> float:
    """``x`` without floating-point dust (``0.1 * 0.1`` is 0.010000000000000002)."""
    return float(f"{x:.12g}")
