"""Government information and the last mile: the limits and couplings issue #5 names."""

from __future__ import annotations

import re

import numpy as np
import pytest

from laotie import CitySpec, Engine, Region, Scenario, TrustGraph, graph
from laotie.engine.rules.information import FEED, HOMETOWN, OFFLINE, SHARE, hashed_uniform
from laotie.graph._core import GOV, LOCAL_CREATOR

MESSAGE = {"information.n_messages": 1, "information.first_day": 0, "information.live_days": 5}


def run(g: TrustGraph, scenario: Scenario, days: int, seed: int = 1) -> Engine:
    engine = Engine(g, scenario, seed=seed)
    for _ in range(days):
        engine.step()
    return engine


@pytest.fixture(scope="module")
def county() -> tuple[TrustGraph, Scenario]:
    scenario = Scenario.preset("county", scale=0.3).replace(**MESSAGE)
    return graph.city(scenario.city, seed=3), scenario


def test_without_sharing_coverage_is_the_feeds_reach(county: tuple[TrustGraph, Scenario]) -> None:
    g, base = county
    scenario = base.replace(**{"information.share_prob": 0.0, "information.offline_prob": 0.0})
    engine = run(g, scenario, days=5)
    info, m = engine.information, engine.market
    city, home = info.feed_probabilities()
    q = 1 - (1 - city) * (1 - home[g.hometown[m.users]])
    p = m.p_active.astype(np.float64)
    frame, _ = info.frames(g.region_names)
    for day in range(5):
        # Each day an uninformed user is active with p and then sees a feed with q.
        reached = 1 - (1 - p * q) ** (day + 1)
        expected = reached.mean()
        sd = np.sqrt((reached * (1 - reached)).sum()) / len(p)
        observed = frame.loc[frame.day == day, "share_users"].item()
        assert abs(observed - expected) <= 4 * sd, (day, observed, expected, sd)
    assert frame["share_non_users"].max() == 0
    assert set(np.unique(info.state[0])) <= {0, FEED, HOMETOWN}


def test_coverage_never_decreases_with_the_sharing_probability(
    county: tuple[TrustGraph, Scenario],
) -> None:
    g, base = county
    previous_state, previous_curve = None, None
    for share in (0.0, 0.01, 0.05, 0.3):
        engine = run(g, base.replace(**{"information.share_prob": share}), days=10, seed=5)
        state = engine.information.state[0] > 0
        frame, _ = engine.information.frames(g.region_names)
        curve = frame["share_informed"].to_numpy()
        if previous_state is not None:
            assert np.all(state[previous_state])  # everyone informed before still is
            assert np.all(curve >= previous_curve)  # day by day
        previous_state, previous_curve = state, curve
    assert previous_curve[-1] > 0


def isolated_city(b_has_gov: bool) -> TrustGraph:
    spec = CitySpec(
        regions=(Region("A", 1500, 0.5), Region("B", 1000, 0.5)),
        city_degree=0.0,  # no tie crosses the regions
        migrant_share=0.0,
        local_degree=12.0,
        group_size=60,
        creator_share=0.02,
        min_followers=5,
    )
    g = graph.city(spec, seed=2)
    kinds = g.creator_kind.copy()
    if not b_has_gov:
        kinds[(kinds == GOV) & (g.region == 1)] = LOCAL_CREATOR
    return TrustGraph(
        g.indptr,
        g.indices,
        g.trust,
        g.layer,
        region=g.region,
        hometown=g.hometown,
        rural=g.rural,
        user=g.user,
        creator_kind=kinds,
        region_names=g.region_names,
    )


def test_an_isolated_region_is_reached_only_through_the_feeds() -> None:
    busy = {"information.share_prob": 0.5, "information.offline_prob": 0.5}
    scenario = Scenario(city=CitySpec(regions=(Region("A", 1, 0.5),))).replace(**MESSAGE, **busy)
    # No feed reaches B: no same-city feed, no government account of B's hometown.
    silent = scenario.replace(**{"information.city_feed": 0.0, "information.hometown_feed": 0.9})
    g = isolated_city(b_has_gov=False)
    state = run(g, silent, days=8).information.state[0]
    assert state[g.region == 0].any()  # A is informed (feed and sharing) ...
    assert not state[g.region == 1].any()  # ... and nothing crosses to B
    # With B's own account, B is reached, and its informed trace back to a feed.
    g = isolated_city(b_has_gov=True)
    state = run(g, silent, days=8).information.state[0]
    in_b = state[g.region == 1]
    assert in_b.any() and np.isin(in_b[in_b > 0], (FEED, HOMETOWN)).any()


def test_non_users_are_informed_only_offline(county: tuple[TrustGraph, Scenario]) -> None:
    g, base = county
    engine = run(g, base.replace(**{"information.offline_prob": 0.3}), days=8)
    state = engine.information.state[0]
    assert set(np.unique(state[~g.user])) == {0, OFFLINE}
    assert np.isin(state[g.user], (0, FEED, HOMETOWN, SHARE, OFFLINE)).all()
    quiet = run(g, base.replace(**{"information.offline_prob": 0.0}), days=8)
    assert not quiet.information.state[0][~g.user].any()


def test_training_raises_the_posts_quality(county: tuple[TrustGraph, Scenario]) -> None:
    g, base = county
    scenario = base.replace(**{"information.training_day": 2, "run.days": 10})
    engine = Engine(g, scenario, seed=1)
    before = engine.information.quality.copy()
    for _ in range(3):
        engine.step()
    gain = scenario.information.training_gain
    np.testing.assert_allclose(engine.information.quality, np.minimum(1, before + gain), rtol=1e-6)


def test_targeted_training_trains_the_operators_of_the_regions_named(
    county: tuple[TrustGraph, Scenario],
) -> None:
    g, base = county
    trained = base.replace(**{"information.training_day": 2, "run.days": 10})
    targeted = trained.replace(**{"information.training_rule": "targeted"})
    assert g.n_regions >= 2
    gain = trained.information.training_gain
    first = g.region_names[0]
    engine = Engine(g, targeted, seed=1, operators=[first])
    before = engine.information.quality.copy()
    for _ in range(3):
        engine.step()
    mine = engine.information.gov_region == 0
    assert mine.any() and (~mine).any()
    quality = engine.information.quality
    np.testing.assert_allclose(quality[mine], np.minimum(1, before[mine] + gain), rtol=1e-6)
    np.testing.assert_array_equal(quality[~mine], before[~mine])
    # Every region named (by name or index) is the rule 'all', number for number.
    everyone = [*g.region_names[:1], *range(1, g.n_regions)]
    a = Engine(g, trained, seed=4)
    b = Engine(g, targeted, seed=4, operators=everyone)
    a.run(6)
    b.run(6)
    np.testing.assert_array_equal(np.array(a.history), np.array(b.history))
    np.testing.assert_array_equal(a.information.state, b.information.state)
    # No region named: nobody's operator is trained, as without training.
    c = Engine(g, targeted, seed=4, operators=[])
    d = Engine(g, base, seed=4)
    c.run(6)
    d.run(6)
    np.testing.assert_array_equal(c.information.state, d.information.state)


@pytest.mark.parametrize(
    ("rule", "operators", "message"),
    [
        ("all", ["x"], "information.training_rule = 'all' with operators"),
        ("targeted", None, "information.training_rule = 'targeted' with no operators"),
        ("targeted", ["Atlantis"], "operators: 'Atlantis' is not a region of the graph"),
        ("targeted", [99], "operators: 99 is not a region of the graph"),
        ("targeted", [-1], "operators: -1 is not a region of the graph"),
        ("targeted", ["n_regions"], "is not a region of the graph; expected one of"),
        ("targeted", [True], "operators: True is not a region of the graph"),
        ("targeted", [0, 1, 0], "first region"),
        ("targeted", "abc", "operators = 'abc'; expected a list of regions"),
        ("targeted", b"ab", "operators = b'ab'; expected a list of regions"),
        ("targeted", {"x": 1}, "operators = {'x': 1}; expected a list of regions"),
        ("targeted", 3, "operators = 3; expected a list of regions"),
        ("targeted", np.array(2), "operators = array(2); expected a list of regions"),
        ("targeted", np.array([[0]]), "operators = array([[0]]); expected a list of regions"),
        ("targeted", object(), "operators = <object object at"),
    ],
)
def test_operators_are_checked(
    county: tuple[TrustGraph, Scenario], rule: str, operators: object, message: str
) -> None:
    from laotie import ScenarioError

    g, base = county
    if operators == ["n_regions"]:  # one past the last index
        operators, message = [g.n_regions], f"operators: {g.n_regions} is not a region"
    if message == "first region":  # named twice, by its index and again
        message = f"operators names {g.region_names[0]!r} twice"
    with pytest.raises(ScenarioError, match=re.escape(message)):
        Engine(g, base.replace(**{"information.training_rule": rule}), seed=1, operators=operators)


def test_the_reach_outcomes_average_the_messages_posted_in_the_run(
    county: tuple[TrustGraph, Scenario],
) -> None:
    from laotie.results import OUTCOME_BOUNDS, run_outcomes

    g, base = county
    # Four messages on days 0, 4, 8 and 12: a 9-day run (days 0-8) posts three, the third on
    # its last day; the fourth is never posted.
    scenario = base.replace(**{"information.n_messages": 4, "information.interval": 4})
    engine = run(g, scenario, days=9)
    out = run_outcomes(engine.replication(0))
    frame, _ = engine.information.frames(g.region_names)
    last = frame[frame.day == 8].set_index("message")
    assert list(last.index) == [0, 1, 2]
    assert out["information_reach"] == pytest.approx(last.share_informed.mean(), rel=1e-12)
    assert out["information_rural_reach"] == pytest.approx(last.share_rural.mean(), rel=1e-12)
    assert 0 < out["information_rural_reach"] < 1
    assert last.share_informed[2] < last.share_informed[0]  # a day old: the mean tells
    # An 8-day run (days 0-7): the third message, due on day 8, is not averaged in.
    short = run_outcomes(run(g, scenario, days=8).replication(0))
    frame, _ = run(g, scenario, days=8).information.frames(g.region_names)
    mean = frame[frame.day == 7].share_informed.mean()
    assert frame.message.max() == 1
    assert short["information_reach"] == pytest.approx(mean, rel=1e-12)
    assert OUTCOME_BOUNDS["information_reach"] == (0.0, 1.0)
    quiet = run(g, base.replace(**{"information.n_messages": 0}), days=2)
    outcomes = run_outcomes(quiet.replication(0))
    assert np.isnan(outcomes["information_reach"]) and np.isnan(outcomes["information_rural_reach"])


def test_hashed_uniforms_are_uniform_and_keyed() -> None:
    keys = np.arange(200_000, dtype=np.uint64)
    u = hashed_uniform(keys, np.uint64(12345))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / len(u))
    assert np.array_equal(u, hashed_uniform(keys, np.uint64(12345)))
    assert not np.array_equal(u, hashed_uniform(keys, np.uint64(12346)))


def test_information_reaches_every_face(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from laotie import LaotieModel, simulate
    from laotie.cli import main

    scenario = Scenario.preset("village").replace(
        **{"information.n_messages": 2, "information.first_day": 2, "information.interval": 5}
    )
    result = simulate(scenario, days=12, seed=4)
    frame = result.information
    assert sorted(frame["message"].unique()) == [0, 1]
    assert frame.groupby("message")["day"].min().tolist() == [2, 7]
    assert (frame.groupby("message")["share_informed"].diff().dropna() >= 0).all()
    assert set(result.information_regions["region"].cat.categories) == {"Village", "Town"}
    assert list(result.messages["message"]) == [0, 1]
    # The Mesa model collects the latest message's coverage, the same as simulate's.
    model = LaotieModel(scenario, seed=4)
    for _ in range(12):
        model.step()
    collected = model.datacollector.get_model_vars_dataframe()["information_share_informed"]
    assert collected.iloc[:2].isna().all()
    last = frame[frame["message"] == 1]["share_informed"].iloc[-1]
    assert collected.iloc[-1] == last
    # The plot draws one line per region plus rural, urban and the baseline.
    ax = result.plot("coverage", message=1)
    assert len(ax.get_lines()) == 2 + 3
    plt.close("all")
    # The command line prints the messages table and writes the information files.
    path = tmp_path / "village.toml"
    path.write_text(scenario.replace(**{"run.days": 12}).to_toml(), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(path), "--quiet", "--out", str(out), "--seed", "4"]) == 0
    printed = capsys.readouterr().out
    assert "Government messages" in printed and "days_to_50" in printed
    assert (out / "information.csv").exists() and (out / "figures" / "coverage.png").exists()
