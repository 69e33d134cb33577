"""The dashboard page, written with Solara: :func:`Dashboard` for a notebook, :func:`Page` for
the server (``laotie dashboard``, or ``solara run laotie.dashboard.app``).

Why Solara directly, and not Mesa's ``SolaraViz``: the page needs what SolaraViz does not
give. Its widgets carry each parameter's unit, meaning and source, and its sliders change
range with the scenario picked on the page (a day of the run stops at the scenario's last
day), while SolaraViz takes a fixed ``model_params`` dictionary and shows labels only; it
has a second mode, two variants over replications with intervals, which is not a Mesa
model's step-by-step view; and it reports its numbers in the page's own text, so a browser
test can read them. SolaraViz is also marked experimental (its API changes between minor
versions). The page still runs the Mesa face: a single run is a
:class:`~laotie.model.LaotieModel` stepped day by day.

The state of a page lives in its components (``use_reactive``), so every browser tab and
every notebook cell has its own runs.
"""

from __future__ import annotations

import html
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import solara
import solara.lab

from ..errors import LaotieError
from ..scenario import Scenario, shipped_scenarios
from .charts import comparison_figure, run_figure
from .compare import Comparison, compare
from .controls import DEFAULT_KEYS, MAX_RESIDENTS, Control, controls, default_scale
from .measures import MEASURES, Simulation, Snapshot, format_value
from .server import CONFIG_VARIABLE

__all__ = ["UNCALIBRATED", "Dashboard", "Page"]

UNCALIBRATED = (
    "The numbers on this page come mostly from assumed parameters (参数多为假设): only the "
    "mudanjiang_calibrated scenario sets 18 of them by calibration to real-world targets; "
    "every other parameter, and every other scenario, keeps its assumed default "
    "(docs/calibration.md). Read them as directions and orders of magnitude under stated "
    "assumptions, not as forecasts."
)
"""The note every view of the page shows."""

REFRESH_SECONDS = 0.5
"""While a run goes on to its end, the page redraws at most this often."""


@solara.component
def Page() -> None:
    """The page the dashboard's server shows: :func:`Dashboard` with the settings of
    ``laotie dashboard`` (the environment variable :data:`CONFIG_VARIABLE`), or its
    defaults."""
    text = os.environ.get(CONFIG_VARIABLE, "")
    settings = json.loads(text) if text else {}
    Dashboard(**settings)


@solara.component
def Dashboard(
    scenario: str = "village",
    scale: float | None = None,
    keys: Sequence[str] = DEFAULT_KEYS,
    seed: int | None = None,
    changes: dict[str, Any] | None = None,
    max_residents: int = MAX_RESIDENTS,
) -> None:
    """The dashboard: pick a scenario, move its parameters, run it day by day or to the end,
    or compare two variants over replications.

    Parameters
    ----------
    scenario : str, default "village"
        The scenario shown first: a shipped scenario's name or a scenario file.
    scale : float, optional
        Its scale (default: :func:`~laotie.dashboard.controls.default_scale`, at most
        ``max_residents`` residents). Scenarios picked on the page use their default scale.
    keys : sequence of str, default :data:`~laotie.dashboard.controls.DEFAULT_KEYS`
        The parameters to show, as dotted keys.
    seed : int, optional
        The seed of the runs (default: each scenario's ``run.seed``).
    changes : dict, optional
        Changes to the first scenario (dotted keys), as ``laotie run --set`` makes them.
    max_residents : int, default 20,000
        The largest city built at a scenario's default scale.
    """
    names = shipped_scenarios()
    if scenario not in names:
        names = [scenario, *names]
    name = solara.use_reactive(scenario)

    def load() -> Scenario | str:
        try:
            if name.value == scenario:
                first = Scenario.load(scenario, **(changes or {}))
                chosen = default_scale(first, max_residents) if scale is None else scale
                loaded = Scenario.load(scenario, scale=chosen, **(changes or {}))
            else:
                found = Scenario.load(name.value)
                loaded = Scenario.load(name.value, scale=default_scale(found, max_residents))
            # Keys or values the widgets cannot show are the page's error, like a bad file's.
            controls(loaded, keys)
            return loaded
        except LaotieError as err:
            return str(err)

    base = solara.use_memo(load, [name.value])
    solara.Title("laotie dashboard")
    with solara.Column(classes=["laotie-dashboard"], style={"padding": "12px"}):
        solara.HTML(
            tag="h2",
            unsafe_innerHTML="laotie 老铁: trust-driven against traffic-driven commerce",
            style="margin: 0",
        )
        solara.Warning(UNCALIBRATED, dense=True, classes=["laotie-uncalibrated"])
        with solara.Row(style={"align-items": "center"}):
            solara.Select("scenario", values=names, value=name, classes=["laotie-scenario"])
            if isinstance(base, Scenario):
                people = (
                    f"the graph {Path(base.graph.file).name}"
                    if base.graph.file
                    else f"{base.city.n_residents:,} residents"
                )
                solara.Text(f"{people}, {base.run.days} days: {base.description}")
        if not isinstance(base, Scenario):
            solara.Error(base)
            return
        first_seed = base.run.seed if seed is None else seed
        with solara.lab.Tabs():
            with solara.lab.Tab("Run"):
                RunView(base, list(keys), first_seed).key(f"run-{name.value}")
            with solara.lab.Tab("Compare two policies"):
                CompareView(base, list(keys), first_seed).key(f"compare-{name.value}")


@solara.component
def Controls(
    specs: list[Control], values: dict[str, Any], on_change: Callable[[str, Any], None]
) -> None:
    """One widget per parameter, with its range, unit and meaning from its declaration.

    Parameters
    ----------
    specs : list of Control
        The widgets (:func:`~laotie.dashboard.controls.controls`).
    values : dict
        The current value of each key.
    on_change : callable
        Called with the key and the new value.
    """
    for spec in specs:
        value = values[spec.key]

        def change(new: Any, key: str = spec.key) -> None:
            on_change(key, new)

        css = "laotie-key-" + spec.key.replace(".", "-")
        with solara.Column(gap="0px", classes=["laotie-control", css]):
            with solara.Tooltip(spec.help):
                if spec.widget == "choice":
                    solara.Select(
                        spec.key,
                        values=list(spec.choices or ()),
                        value=value,
                        on_value=change,
                        dense=True,
                    )
                elif spec.widget == "switch":
                    solara.Checkbox(label=spec.key, value=bool(value), on_value=change)
                else:
                    # The key above the slider, so that long keys leave the slider its width.
                    solara.Text(spec.key, style={"font-size": "0.85em", "color": "#444"})
            if spec.widget == "float":
                solara.SliderFloat(
                    "",
                    value=float(value),
                    min=float(spec.low),  # type: ignore[arg-type]
                    max=float(spec.high),  # type: ignore[arg-type]
                    step=float(spec.step),  # type: ignore[arg-type]
                    on_value=change,
                )
            elif spec.widget == "int":
                solara.SliderInt(
                    "",
                    value=int(value),
                    min=int(spec.low),  # type: ignore[arg-type]
                    max=int(spec.high),  # type: ignore[arg-type]
                    step=int(spec.step),  # type: ignore[arg-type]
                    on_value=change,
                )
            shown = format_value(value, spec.unit) if spec.widget in ("float", "int") else value
            solara.HTML(
                tag="div",
                unsafe_innerHTML=html.escape(f"= {shown}: {spec.meaning}"),
                style="font-size: 0.75em; color: #666; margin: 0 0 8px 0",
                classes=["laotie-value"],
                attributes={
                    "data-key": spec.key,
                    "data-value": json.dumps(value),
                    "title": spec.help,
                },
            )


def _variant(
    base: Scenario, values: dict[str, Any]
) -> tuple[dict[str, Any], Scenario | None, str | None]:
    """The changes of ``values`` from ``base``, the scenario they make, and the error that
    refuses it (None when allowed)."""
    flat = base.flat()
    changed = {key: value for key, value in values.items() if flat[key] != value}
    try:
        return changed, base.replace(**changed), None
    except LaotieError as err:
        return changed, None, str(err)


@solara.component
def RunView(base: Scenario, keys: list[str], first_seed: int) -> None:
    """One run of the scenario: parameters, buttons to step a day or run to the end, the
    run's measures so far and its figure.

    Parameters
    ----------
    base : Scenario
        The scenario picked, at its scale.
    keys : list of str
        The parameters to show.
    first_seed : int
        The seed the page starts with.
    """
    specs = solara.use_memo(lambda: controls(base, keys), [])
    values = solara.use_reactive({spec.key: spec.value for spec in specs})
    seed = solara.use_reactive(first_seed)
    simulation: solara.Reactive[Simulation | None] = solara.use_reactive(None)
    # The latest snapshot and its revision (which the figure is drawn once for).
    shown: solara.Reactive[tuple[int, Snapshot] | None] = solara.use_reactive(None)
    changed, variant, problem = _variant(base, values.value)

    def publish(sim: Simulation) -> None:
        if simulation.value is not sim:  # restarted meanwhile: a stale run is not shown
            return
        revision = shown.value[0] + 1 if shown.value else 1
        shown.set((revision, sim.snapshot()))

    def current() -> Simulation:
        if simulation.value is None:
            if variant is None:
                raise LaotieError(problem or "no scenario")
            simulation.set(Simulation(variant, seed=seed.value))
        return simulation.value  # type: ignore[return-value]

    def run_to_end() -> None:
        sim = current()
        last = time.monotonic()
        while not sim.finished:
            sim.step(1)
            if not task.is_current():  # stopped (or restarted: then publish shows nothing)
                publish(sim)
                return
            if time.monotonic() - last >= REFRESH_SECONDS:
                publish(sim)
                last = time.monotonic()
        publish(sim)

    task = solara.lab.use_task(run_to_end, dependencies=None, raise_error=False)

    def restart() -> None:
        if task.pending:
            task.cancel()
        simulation.set(None)
        shown.set(None)

    def set_value(key: str, value: Any) -> None:
        values.set({**values.value, key: value})
        restart()

    def set_seed(value: int) -> None:
        seed.set(value)
        restart()

    def step() -> None:
        sim = current()
        sim.step(1)
        publish(sim)

    sim = simulation.value
    finished = sim is not None and sim.finished
    with solara.Columns([1, 2]):
        with solara.Column(), solara.Card("Parameters", margin=0):
            Controls(specs, values.value, set_value)
            solara.InputInt("seed", value=seed.value, on_value=set_seed)
        with solara.Column():
            with solara.Row():
                solara.Button(
                    "Step a day",
                    on_click=step,
                    disabled=task.pending or finished or variant is None,
                    color="primary",
                    classes=["laotie-step"],
                )
                solara.Button(
                    "Run to the end",
                    on_click=task,
                    disabled=task.pending or finished or variant is None,
                    color="primary",
                    classes=["laotie-run"],
                )
                solara.Button(
                    "Stop", on_click=task.cancel, disabled=not task.pending, classes=["laotie-stop"]
                )
                solara.Button("Reset", on_click=restart, classes=["laotie-reset"])
            if problem:
                solara.Error(problem, classes=["laotie-problem"])
            if task.error:
                solara.Error(f"the run failed: {task.exception}")
            solara.ProgressLinear(task.pending)
            if changed:
                words = ", ".join(f"{key} = {value!r}" for key, value in changed.items())
                solara.Text(f"Changed from {base.name}: {words}")
            if shown.value is None:
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=(
                        f"Day 0 of {base.run.days}: press <b>Step a day</b> or <b>Run to the "
                        "end</b> to start a run with these parameters."
                    ),
                    classes=["laotie-status"],
                    attributes={"data-day": "0", "data-days": str(base.run.days)},
                )
            else:
                revision, snapshot = shown.value
                RunResults(snapshot, revision)


@solara.component
def RunResults(snapshot: Snapshot, revision: int) -> None:
    """A run's day, its measures so far as a table, and its figure.

    Parameters
    ----------
    snapshot : Snapshot
        The run as it stands.
    revision : int
        Increases with every snapshot; the figure is drawn once per revision.
    """
    solara.HTML(
        tag="div",
        unsafe_innerHTML=html.escape(
            f"Day {snapshot.day} of {snapshot.days} ({snapshot.scenario.name}, seed "
            f"{snapshot.seed})" + (": the run is complete" if snapshot.finished else "")
        ),
        classes=["laotie-status"],
        attributes={"data-day": str(snapshot.day), "data-days": str(snapshot.days)},
    )
    rows = "".join(
        f'<tr data-measure="{key}" data-value="{snapshot.measures[key]!r}" '
        f'title="{html.escape(measure.meaning)}"><th style="text-align: left">'
        f"{html.escape(measure.label)} {html.escape(measure.term)}</th>"
        f'<td style="text-align: right; padding-left: 16px">'
        f"{html.escape(format_value(snapshot.measures[key], measure.unit))}</td></tr>"
        for key, measure in MEASURES.items()
    )
    solara.HTML(
        tag="table",
        unsafe_innerHTML=f"<caption>so far (days 1 to {snapshot.day})</caption>{rows}",
        classes=["laotie-measures"],
        attributes={"data-day": str(snapshot.day)},
    )
    figure = solara.use_memo(lambda: run_figure(snapshot), [revision])
    with solara.Column(classes=["laotie-run-figure"]):
        solara.FigureMatplotlib(figure, dependencies=[revision], format="png")


@solara.component
def CompareView(base: Scenario, keys: list[str], first_seed: int) -> None:
    """Two variants of the scenario (two policies) side by side over replications.

    Parameters
    ----------
    base : Scenario
        The scenario picked, at its scale.
    keys : list of str
        The parameters to show for each variant.
    first_seed : int
        The seed both variants run with.
    """
    specs = solara.use_memo(lambda: controls(base, keys), [])
    start = {spec.key: spec.value for spec in specs}
    policy = {"policy.traffic": ("head", "inclusive")} if "policy.traffic" in start else {}
    values_a = solara.use_reactive({**start, **{k: v[0] for k, v in policy.items()}})
    values_b = solara.use_reactive({**start, **{k: v[1] for k, v in policy.items()}})
    replications = solara.use_reactive(5)
    seed = solara.use_reactive(first_seed)
    outcome: solara.Reactive[tuple[int, Comparison] | None] = solara.use_reactive(None)
    message = solara.use_reactive("")
    changed_a, _, problem_a = _variant(base, values_a.value)
    changed_b, _, problem_b = _variant(base, values_b.value)

    def run() -> None:
        result = compare(
            base,
            changed_a,
            changed_b,
            replications=replications.value,
            seed=seed.value,
            progress=message.set,
        )
        message.set(f"done in {result.seconds:.1f} s")
        revision = outcome.value[0] + 1 if outcome.value else 1
        outcome.set((revision, result))

    task = solara.lab.use_task(run, dependencies=None, raise_error=False)
    with solara.Columns([1, 1, 2]):
        for label, values, problem in (("A", values_a, problem_a), ("B", values_b, problem_b)):
            card = solara.Card(f"Policy {label}", margin=0, classes=[f"laotie-variant-{label}"])
            with solara.Column(), card:

                def change(key: str, value: Any, values: Any = values) -> None:
                    values.set({**values.value, key: value})

                Controls(specs, values.value, change)
                if problem:
                    solara.Error(problem)
        with solara.Column():
            solara.SliderInt(
                "replications of each policy", value=replications, min=2, max=20, step=1
            )
            solara.InputInt("seed", value=seed)
            solara.Button(
                "Compare",
                on_click=task,
                disabled=task.pending or bool(problem_a or problem_b),
                color="primary",
                classes=["laotie-compare"],
            )
            solara.ProgressLinear(task.pending)
            if message.value:
                solara.Text(message.value)
            if task.error:
                solara.Error(f"the comparison failed: {task.exception}")
            if outcome.value is not None:
                revision, result = outcome.value
                ComparisonResults(result, revision)


@solara.component
def ComparisonResults(result: Comparison, revision: int) -> None:
    """Two variants' measures with intervals, as a table and a figure.

    Parameters
    ----------
    result : Comparison
        The two variants' runs.
    revision : int
        Increases with every comparison; the figure is drawn once per revision.
    """
    a, b = result.labels
    level = round(100 * result.level)
    words_a, words_b, words_both = result.describe()
    solara.Text(f"{a}: {words_a or 'the same as ' + b}")
    solara.Text(f"{b}: {words_b or 'the same as ' + a}")
    if words_both:
        solara.Text(f"both: {words_both}")

    def cell(row: Any, column: str, unit: str) -> str:
        low, high = row[f"{column}_low"], row[f"{column}_high"]
        interval = f"[{format_value(low, unit)}, {format_value(high, unit)}]"
        return (
            f'<td style="text-align: right; padding-left: 16px">'
            f"{html.escape(format_value(row[column], unit))}<br>"
            f'<small style="color: #666">{html.escape(interval)}</small></td>'
        )

    rows = "".join(
        f'<tr data-measure="{key}" data-a="{row[a]!r}" data-b="{row[b]!r}" '
        f'data-difference="{row["difference"]!r}" title="{html.escape(MEASURES[key].meaning)}">'
        f'<th style="text-align: left">{html.escape(row["label"])} '
        f"{html.escape(MEASURES[key].term)}</th>"
        + "".join(cell(row, column, row["unit"]) for column in (a, b, "difference"))
        + "</tr>"
        for key, row in result.table.iterrows()
    )
    header = f"<tr><th></th><th>{a}</th><th>{b}</th><th>{b} − {a} (paired)</th></tr>"
    solara.HTML(
        tag="table",
        unsafe_innerHTML=(
            f"<caption>means and {level} % intervals over {result.replications} replications "
            f"each (seed {result.seed})</caption>{header}{rows}"
        ),
        classes=["laotie-comparison"],
    )
    figure = solara.use_memo(lambda: comparison_figure(result), [revision])
    with solara.Column(classes=["laotie-comparison-figure"]):
        solara.FigureMatplotlib(figure, dependencies=[revision], format="png")
