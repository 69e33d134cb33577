"""The dashboard without a browser: widgets written from the declarations, the numbers of a
run and of a comparison against the library's, the page rendered by Solara in the test
process, and the command's errors. The page in a real browser: test_dashboard_browser.py."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from laotie import Scenario, ScenarioError, simulate
from laotie.cli import main
from laotie.dashboard import (
    DEFAULT_KEYS,
    MEASURES,
    Simulation,
    compare,
    controls,
    declared,
    default_scale,
    measure_values,
)
from laotie.dashboard.charts import comparison_figure, run_figure
from laotie.runs import replicate
from laotie.scenario import shipped_scenarios
from laotie.stats import paired


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal dicts of floats, NaN equal to NaN."""
    return a.keys() == b.keys() and all(
        (np.isnan(a[k]) and np.isnan(b[k])) or a[k] == pytest.approx(b[k], rel=1e-12) for k in a
    )


# -- widgets from the declarations ---------------------------------------------------------


def test_default_widgets_come_from_the_declarations() -> None:
    scenario = Scenario.load("village")
    specs = controls(scenario)
    assert [s.key for s in specs] == list(DEFAULT_KEYS)
    for spec in specs:
        p = declared(spec.key)
        assert spec.value == scenario.flat()[spec.key]
        assert (spec.default, spec.unit, spec.meaning, spec.allowed, spec.source) == (
            p.default,
            p.unit,
            p.doc,
            p.allowed(),
            p.source,
        )
        assert p.doc[1:].rstrip(".") in spec.help and p.allowed() in spec.help
        if p.choices is not None:
            assert spec.widget == "choice" and spec.choices == p.offered
            continue
        assert spec.widget == {float: "float", int: "int"}[p.kind]
        assert spec.low <= spec.value <= spec.high and spec.step > 0
        assert p.low is None or spec.low >= p.low
        assert p.high is None or spec.high <= p.high
    by_key = {s.key: s for s in specs}
    assert (by_key["policy.reach"].low, by_key["policy.reach"].high) == (0.0, 1.0)
    assert by_key["policy.reach"].step == 0.01
    assert (by_key["decision.trust_weight"].low, by_key["decision.trust_weight"].high) == (-50, 50)
    # 0 to 1,000 declared, default 0.3: the slider stops at 10 (the help says the whole range),
    # in steps near a tenth of the value.
    discovery = by_key["policy.discovery_per_active"]
    assert (discovery.low, discovery.high, discovery.step) == (0.0, 10.0, 0.02)
    assert "0 ≤ value ≤ 1000" in discovery.help
    # A day of the run stops at the run's last day.
    assert (by_key["training.day"].low, by_key["training.day"].high) == (-1, 89)
    assert by_key["training.day"].step == 1


def test_every_parameter_of_every_shipped_scenario_gets_a_usable_widget() -> None:
    for name in shipped_scenarios():
        scenario = Scenario.load(name)
        for spec in controls(scenario, list(scenario.flat())):
            if spec.widget in ("float", "int"):
                assert spec.low <= spec.value <= spec.high, (name, spec)
                assert spec.step > 0 and spec.high > spec.low, (name, spec)
                # Every slider position is allowed by the declaration.
                p = declared(spec.key)
                p.check(spec.low, spec.key, "test")
                p.check(spec.high, spec.key, "test")
            else:
                assert spec.widget in ("choice", "switch")


def test_a_choice_for_the_python_api_only_is_not_offered() -> None:
    # training.rule 'targeted' needs the creators laotie.policy names: no widget can give them.
    (rule,) = controls(Scenario.load("village"), ["training.rule"])
    assert "targeted" in declared("training.rule").choices
    assert rule.widget == "choice" and "targeted" not in rule.choices
    assert rule.choices == ("followers", "local", "rural", "random")
    assert "from the Python API also 'targeted'" in rule.help
    targeted = Scenario.load("village", **{"training.rule": "targeted"})
    with pytest.raises(ScenarioError, match=r"training.rule = 'targeted' can only be used from"):
        controls(targeted, ["training.rule"])


def test_open_bounds_are_moved_in_by_a_step() -> None:
    (enter,) = controls(Scenario.load("village"), ["creators.enter_prob"])
    assert enter.low == enter.step == 0.01 and enter.high == 1.0


def test_unknown_or_repeated_keys_are_refused() -> None:
    with pytest.raises(ScenarioError, match="did you mean 'policy.reach'"):
        controls(Scenario.load("village"), ["policy.reech"])
    with pytest.raises(ScenarioError, match="did you mean"):
        declared("polcy.reach")
    with pytest.raises(ScenarioError, match="shown twice"):
        controls(Scenario.load("village"), ["policy.reach", "policy.reach"])


def test_default_scale_keeps_the_city_interactive() -> None:
    assert default_scale(Scenario.load("village")) == 1.0
    for name in shipped_scenarios():
        scenario = Scenario.load(name)
        scaled = scenario.city.scaled(default_scale(scenario))
        assert scaled.n_residents <= 20_000 + len(scenario.city.regions)


# -- the numbers ----------------------------------------------------------------------------


def test_a_run_stepped_day_by_day_equals_simulate() -> None:
    scenario = Scenario.load("village", **{"information.n_messages": 2})
    sim = Simulation(scenario, seed=3)
    assert sim.snapshot().day == 0
    assert sim.step(30) == 30 and sim.step(100) == 60 and sim.finished
    snapshot = sim.snapshot()
    assert (snapshot.day, snapshot.days, snapshot.finished) == (90, 90, True)
    expected = measure_values(simulate(scenario, seed=3))
    assert same(snapshot.measures, expected)
    assert snapshot.measures.keys() == MEASURES.keys()
    assert 0 < snapshot.measures["information_share_informed"] < 1
    # The figure's lines end at the table's numbers.
    last = snapshot.cumulative("trust").iloc[-1]
    assert last["conversion"] == pytest.approx(expected["trust_conversion"])
    assert last["order_value"] == pytest.approx(expected["trust_order_value"])
    gmv = snapshot.cumulative("all")["gmv"].iloc[-1]
    assert gmv == pytest.approx(expected["all_gmv"])
    repeat = snapshot.cumulative("all")["repeat_share"].iloc[-1]
    assert repeat == pytest.approx(expected["all_repeat_share"])


def test_comparison_is_replicate_and_paired() -> None:
    scenario = Scenario.load("village")
    a, b = {"policy.traffic": "head"}, {"policy.traffic": "inclusive"}
    result = compare(scenario, a, b, replications=3, days=20, seed=5)
    for label, changes in (("A", a), ("B", b)):
        runs = replicate(scenario.replace(**changes), 3, days=20, seed=5)
        values = [measure_values(r) for r in runs]
        for key in MEASURES:
            got = result.values[result.values["measure"] == key][label].to_numpy()
            np.testing.assert_array_equal(got, [v[key] for v in values])
    gmv = result.values[result.values["measure"] == "all_gmv"].set_index("replication")
    expected = paired(gmv[["A", "B"]], "A")
    row = result.table.loc["all_gmv"]
    assert row["A"] == expected.at["A", "mean"] and row["B_low"] == expected.at["B", "mean_low"]
    assert row["difference"] == expected.at["B", "difference"]
    assert row["difference_high"] == expected.at["B", "difference_high"]
    assert row["n"] == 3 and row["label"] == MEASURES["all_gmv"].label
    assert np.isnan(result.table.loc["information_share_informed", "A"])


def test_comparison_refuses_bad_input() -> None:
    scenario = Scenario.load("village")
    with pytest.raises(ScenarioError, match="at least 2"):
        compare(scenario, {}, {}, replications=1)
    with pytest.raises(ScenarioError, match="did you mean 'traffic'"):
        compare(scenario, {"policy.trafic": "head"}, {}, replications=2, days=2)
    with pytest.raises(ScenarioError, match="two different names"):
        compare(scenario, {}, {}, labels=("A", "A"))


def test_figures_draw_every_panel() -> None:
    scenario = Scenario.load("village", **{"run.days": 10})
    sim = Simulation(scenario, seed=1)
    empty = run_figure(sim.snapshot())
    sim.step(10)
    figure = run_figure(sim.snapshot())
    assert len(figure.axes) == len(empty.axes) == 6
    texts = [t.get_text() for t in figure.axes[5].texts]
    assert "no government messages\n(information.n_messages = 0)" in texts
    result = compare(scenario, {}, {"decision.trust_weight": 6.0}, replications=2)
    assert len(comparison_figure(result).axes) == len(MEASURES)


# -- the page, rendered by Solara without a browser ----------------------------------------


def test_the_page_renders_and_runs_in_the_test_process() -> None:
    solara = pytest.importorskip("solara")
    import ipyvuetify as v

    from laotie.dashboard import Dashboard

    _, rc = solara.render(Dashboard(scenario="village", changes={"run.days": 20}))

    def html(css: str) -> list[dict]:
        found = rc.find(solara.widgets.HTML).widgets
        return [w.attributes for w in found if css in w.attributes.get("class", "")]

    def button(label: str):
        found = rc.find(v.Btn, children=[label])
        found.assert_single()
        return found.widget

    try:
        assert next(w.children for w in rc.find(v.Alert).widgets)[0].startswith(
            "The numbers on this page come mostly from assumed parameters"
        )
        assert html("laotie-status")[0]["data-day"] == "0"
        button("Step a day").click()
        assert html("laotie-status")[0]["data-day"] == "1"
        button("Run to the end").click()
        deadline = time.monotonic() + 60
        while html("laotie-measures")[0]["data-day"] != "20" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert html("laotie-status")[0]["data-day"] == "20"
        assert button("Run to the end").disabled
        # The widgets show the declarations' values.
        values = {a["data-key"]: a["data-value"] for a in html("laotie-value")}
        assert values["decision.trust_weight"] == "5.0"
        assert values["policy.traffic"] == '"inclusive"'
    finally:
        rc.close()


def test_the_page_shows_a_value_no_widget_offers_as_an_error() -> None:
    solara = pytest.importorskip("solara")
    import ipyvuetify as v

    from laotie.dashboard import Dashboard

    _, rc = solara.render(Dashboard(scenario="village", changes={"training.rule": "targeted"}))
    try:
        texts = [str(w.children) for w in rc.find(v.Alert).widgets]
        assert any("can only be used from the Python API" in t for t in texts), texts
        assert not rc.find(v.Btn, children=["Step a day"]).widgets
    finally:
        rc.close()


# -- the command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dashboard", "vilage", "--no-browser"], "did you mean 'village'"),
        (["dashboard", "--show", "policy.reech", "--no-browser"], "did you mean 'policy.reach'"),
        (["dashboard", "--set", "policy.reach=2", "--no-browser"], "reach = 2 is not allowed"),
        (
            ["dashboard", "--set", "training.rule=targeted", "--no-browser"],
            "training.rule = 'targeted' can only be used from the Python API",
        ),
        (["dashboard", "--scale", "0", "--no-browser"], "scale"),
        (["dashboard", "--port", "70000", "--no-browser"], "--port 70000: expected a port"),
        (["dashboard", "--port", "-5", "--no-browser"], "--port -5: expected a port"),
        (["dashboard", "--seed", "-1", "--no-browser"], "--seed -1: expected an integer"),
    ],
)
def test_the_command_refuses_bad_input_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.startswith("laotie: error: ") and err.count("\n") == 1
    assert message in err


def test_the_command_says_how_to_install_solara(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from laotie.dashboard import server

    monkeypatch.setattr(server, "find_spec", lambda name: None)
    assert main(["dashboard", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "needs Solara" in err and "pip install 'laotie[dashboard]'" in err


def test_the_command_refuses_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("solara")
    with socket.socket() as taken:
        taken.bind(("localhost", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port), "--no-browser"]) == 2
    assert f"port {port} on localhost is in use" in capsys.readouterr().err


@pytest.mark.integration  # a Jupyter kernel
def test_the_page_displays_in_a_notebook_cell(tmp_path) -> None:
    pytest.importorskip("solara")
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    cells = [
        'from laotie.dashboard import Dashboard\nDashboard(scenario="village")',
        'from laotie.dashboard import show\nshow("county", seed=2)',
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    # ipykernel's own kernel spec, which starts this interpreter (as tests/test_notebooks.py).
    kernel = KernelManager(
        kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[])
    )
    nbclient.NotebookClient(
        notebook, km=kernel, timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    for cell in notebook.cells:
        kinds = [kind for output in cell.outputs for kind in output.get("data", {})]
        assert "application/vnd.jupyter.widget-view+json" in kinds, cell.outputs
