"""Bad arguments to the Python API (``simulate``, ``replicate``, ``Scenario``): each is one
named error before any work starts (no city graph built, no engine run), the same checks
the command line makes."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import pytest

import laotie.engine.engine
import laotie.graph.generators
from laotie import Engine, LaotieError, Scenario, ScenarioError, simulate
from laotie._memory import ENVIRONMENT
from laotie.graph import CitySpec, TrustGraph
from laotie.graph.generators import city
from laotie.runs import replicate
from tests.reliability.faults import WorkStarted

VILLAGE = Scenario.preset("village")


@pytest.fixture(scope="module")
def village_graph() -> TrustGraph:
    return city(VILLAGE.city, seed=1)


TRAINING_ON_DAY_5 = VILLAGE.replace(**{"training.day": 5, "training.n_creators": 2})


def case(call: Callable[..., object], message: str, id: str, marks: object = ()) -> object:
    return pytest.param(call, message, id=id, marks=marks)


CALLS = [
    case(
        lambda g: VILLAGE.replace(**{"city.regions": 1}),
        "CitySpec: regions must be a list of Region objects or tables with keys name, "
        "population, urban_share; got 1",
        id="regions-a-number",
    ),
    case(
        lambda g: VILLAGE.replace(**{"city.regions": [{"name": "x", "people": 3}]}),
        "CitySpec: regions[0]: unknown key 'people' (valid keys: name, population, "
        "urban_share, name_zh, poverty, user_weight, source)",
        id="regions-a-table-with-a-wrong-key",
    ),
    case(
        lambda g: CitySpec(regions=[{"name": "x", "populaton": 3, "urban_share": 0.5}]),
        "CitySpec: regions[0]: unknown key 'populaton'; did you mean 'population'? (valid "
        "keys: name, population, urban_share, name_zh, poverty, user_weight, source)",
        id="regions-a-table-with-a-misspelt-key",
    ),
    case(
        lambda g: CitySpec(regions=[{"name": "x", "population": 3}]),
        "CitySpec: regions[0] lacks urban_share",
        id="regions-a-table-without-a-required-key",
    ),
    case(
        lambda g: simulate(VILLAGE, days=100_001),
        "days = 100001: Run: days = 100001 is not allowed; expected an integer, 0 ≤ value ≤ "
        "100000 days",
        id="days-above-the-bound",
    ),
    case(
        lambda g: simulate(TRAINING_ON_DAY_5, days=3),
        "days = 3: scenario 'village': training.day = 5 is not within run.days = 3; the "
        "training would never happen",
        id="training-after-the-last-day-of-the-run",
    ),
    case(
        lambda g: simulate(VILLAGE, days="3"),
        "days = '3' is not allowed; expected an integer ≥ 0",
        id="days-as-text",
    ),
    case(
        lambda g: simulate(VILLAGE, days=3, seed=-1),
        "seed = -1: a seed must be a non-negative integer",
        id="negative-seed",
    ),
    case(
        lambda g: simulate(VILLAGE, days=3, seed="1"),
        "seed = '1' (type str): a seed must be a non-negative int, a numpy SeedSequence, a "
        "numpy Generator or None",
        id="seed-as-text",
    ),
    case(
        lambda g: replicate(VILLAGE, -1, days=3),
        "replications = -1 is not allowed; expected an integer, 0 ≤ value ≤ 100,000",
        id="negative-replications",
    ),
    case(
        lambda g: replicate(VILLAGE, "2", days=3),
        "replications = '2' is not allowed; expected an integer, 0 ≤ value ≤ 100,000",
        id="replications-as-text",
    ),
    case(
        lambda g: replicate(VILLAGE, 10**12, days=3),
        "replications = 1000000000000 is not allowed; expected an integer, 0 ≤ value ≤ 100,000",
        id="a-trillion-replications",
    ),
    case(
        lambda g: replicate(VILLAGE, 2, days=3, workers=0),
        "workers = 0 is not allowed; expected an integer ≥ 1",
        id="no-workers",
    ),
    case(
        lambda g: replicate(VILLAGE, 2, days=3, lockstep=0, graph=g),
        "lockstep = 0 is not allowed; expected an integer ≥ 1",
        id="lockstep-0",
    ),
    case(
        lambda g: replicate(VILLAGE, 2, days=3, vary_graph=True, graph=g),
        "vary_graph builds a graph per replication: do not also give graph=",
        id="a-graph-and-a-graph-per-replication",
    ),
    case(
        lambda g: replicate(VILLAGE, 2, days=3, vary_graph=True, lockstep=2),
        "lockstep = 2 is not allowed with vary_graph",
        id="lockstep-with-a-graph-per-replication",
    ),
    case(
        lambda g: simulate("village", days=3),
        "scenario = 'village' is not a Scenario (Scenario.load('village') reads one)",
        id="a-name-for-a-scenario",
    ),
    case(
        lambda g: simulate(VILLAGE, days=3, graph="village.npz"),
        "graph = 'village.npz' is not a TrustGraph (laotie.graph.read_graph reads a file)",
        id="a-file-name-for-a-graph",
    ),
    case(
        lambda g: simulate(VILLAGE, days=3, graph=TrustGraph.from_networkx(nx.Graph())),
        "the graph given to the run has no nodes",
        id="a-graph-without-nodes",
    ),
    case(
        lambda g: Scenario.preset("vilage"),
        "unknown scenario 'vilage'; did you mean 'village'? (known: county, karate_club, "
        "mudanjiang",
        id="unknown-preset",
    ),
    case(
        lambda g: Scenario.preset("village", scale=float("nan")),
        "scale = nan is not allowed; expected a number > 0",
        id="nan-scale",
    ),
    case(
        lambda g: VILLAGE.replace(**{"polcy.reach": 0.5}),
        "Scenario: unknown section 'polcy'; did you mean 'policy'? (sections: city,",
        id="unknown-section",
    ),
    case(
        lambda g: VILLAGE.replace(**{"policy.reech": 0.5}),
        "Scenario [policy]: unknown key 'reech'; did you mean 'reach'? (valid keys: traffic,",
        id="unknown-key",
    ),
    case(
        lambda g: VILLAGE.replace(policy=5),
        "Scenario: policy must be a Policy, got int",
        id="a-number-for-a-section",
    ),
    case(
        lambda g: VILLAGE.replace(**{"city.regions": ()}),
        "the city has no regions; a city that laotie builds needs at least one",
        id="a-city-without-regions",
    ),
    case(
        lambda g: Engine(g, "village"),  # type: ignore[arg-type]
        "Engine: scenario = 'village' (str); expected a laotie Scenario (Scenario.preset(name)",
        id="engine-scenario-by-name",
    ),
    case(
        lambda g: Engine("city.npz", VILLAGE),  # type: ignore[arg-type]
        "Engine: graph = 'city.npz' (str); expected a laotie TrustGraph (laotie.graph.city(",
        id="engine-graph-by-path",
    ),
    *(
        case(
            lambda g, days=days: _unstarted(g).run(days),
            f"Engine.run: days = {shown}; expected an integer from 0 to 100,000",
            id=f"engine-run-{label}",
        )
        for days, shown, label in [
            ("5", "'5' (str)", "text"),
            (2.5, "2.5 (float)", "fraction"),
            (-1, "-1 (int)", "negative"),
            (10**12, "1000000000000 (int)", "unbounded"),
            (True, "True (bool)", "bool"),
        ]
    ),
]


def _unstarted(g: TrustGraph) -> Engine:
    """An engine on ``g`` whose days, were they stepped, would fail the test."""
    engine = Engine(g, VILLAGE, seed=1)
    engine.step = _no_step  # type: ignore[method-assign]
    return engine


def _no_step() -> None:
    raise WorkStarted("Engine.step")


@pytest.mark.parametrize(("call", "message"), CALLS)
def test_a_bad_argument_is_named_before_any_work(
    call: Callable[[TrustGraph], object], message: str, village_graph: TrustGraph, no_work: None
) -> None:
    with pytest.raises(LaotieError) as raised:
        call(village_graph)
    assert message in str(raised.value)


def test_a_city_that_cannot_fit_in_memory_is_refused_before_it_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two billion residents (within the population's bound, 10,000,000,000 a region):
    refused with the estimate, no array allocated."""
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    monkeypatch.setattr(laotie.graph.generators, "as_seed_sequence", _began)
    huge = Scenario.preset("village", scale=1e6)
    with pytest.raises(ScenarioError, match=r"a city of 2,000,000,000 residents needs about"):
        simulate(huge, days=1, seed=1)


def test_listings_that_cannot_fit_in_memory_are_refused_before_the_market_is_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ten billion listings (100,000 storefronts of 100,000 products each)."""
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    monkeypatch.setattr(laotie.engine.engine, "Market", _began)
    crowded = VILLAGE.replace(
        **{"storefronts.n_storefronts": 100_000, "storefronts.products_per_storefront": 100_000}
    )
    with pytest.raises(ScenarioError, match=r"Engine: 1 replication\(s\) .* needs about"):
        simulate(crowded, days=1, seed=1)


def _began(*args: object, **kwargs: object) -> None:
    raise WorkStarted("the build began before the memory check")


def test_training_draws_that_cannot_fit_in_memory_are_refused_before_the_market_is_drawn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fifty trained creators gaining up to 100,000 followers each draw five million new
    follows: refused when the memory left (100 MB here) cannot hold them."""
    import laotie._memory

    monkeypatch.delenv(ENVIRONMENT, raising=False)
    monkeypatch.setattr(laotie._memory, "available_bytes", lambda: 100_000_000)
    monkeypatch.setattr(laotie.engine.engine, "Market", _began)
    trained = VILLAGE.replace(
        **{"training.day": 1, "training.n_creators": 50, "training.follower_gain": 100_000}
    )
    with pytest.raises(ScenarioError, match=r"Engine: 1 replication\(s\) .* needs about"):
        simulate(trained, days=3, seed=1)
