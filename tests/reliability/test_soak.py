"""The soak test (issue #23; slow: ``pytest -m slow tests/reliability/test_soak.py``, about
two minutes): three simulated years of the whole city at 10 % scale, calibrated, with no NaN,
no bound of a count or a trust violated, and memory flat after the first month.

"Flat" is measured, not assumed: over a run of 1,095 days the resident memory grew from
753 MB (day 30) to 806 MB (day 1,080) on the reference machine, about 1.5 MB a month, as
the (seller, buyer) pairs with orders and the new follow ties accumulate (both grow with
what happened, as they must). The test allows 10 % of the first month's memory in all and
no acceleration: the third year may not grow by more than twice the second year's growth
plus 10 MB (a leak per day or per order would grow at least as fast every year).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from laotie import Engine, Scenario
from laotie.engine.rules.month import MONTH_DAYS
from laotie.metrics import COUNTS, ROWS
from laotie.results import OUTCOME_BOUNDS, run_outcomes
from laotie.scenario import scenario_graph

DAYS = 3 * 365
INTEGER = [COUNTS.index(name) for name in COUNTS if name != "gmv"]


def resident_mb() -> float:
    """This process's resident memory now (not its peak), in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def check_day(counts: np.ndarray, day: int) -> None:
    """A day's counts: finite, at least 0, whole where they count, and the funnel's order."""
    assert np.isfinite(counts).all() and (counts >= 0).all(), day
    assert (counts[:, INTEGER] == np.round(counts[:, INTEGER])).all(), day
    c = {name: counts[:, i] for i, name in enumerate(COUNTS)}
    assert (c["clicks"] <= c["exposures"]).all(), day
    assert (c["orders"] + c["budget_blocked"] <= c["clicks"]).all(), day
    assert (c["exposed_users"] <= c["exposures"]).all(), day
    assert (c["buyers"] <= c["orders"]).all() and (c["buyers"] <= c["exposed_users"]).all(), day
    assert ((c["gmv"] > 0) == (c["orders"] > 0)).all(), day


def check_state(engine: Engine, day: int) -> None:
    """The trust and memory the engine carries: within their bounds."""
    m = engine.market
    for trust in (m.follows.trust, m.follows.buffer_trust, m.listeners.trust):
        assert np.isfinite(trust).all() and (trust >= 0).all() and (trust <= 1).all(), day
    assert ((m.storefront_trust >= 0) & (m.storefront_trust <= 1)).all(), day
    assert np.isin(np.unique(m.storefront_memory.dense()), (-1, 0, 1)).all(), day


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux's /proc")
def test_three_years_of_the_city_at_a_tenth_stay_finite_bounded_and_flat() -> None:
    scenario = Scenario.preset("mudanjiang_calibrated", scale=0.1)
    engine = Engine(scenario_graph(scenario, 1), scenario, seed=1)
    memory: dict[int, float] = {}
    for day in range(DAYS):
        check_day(engine.step(), day)
        if (day + 1) % MONTH_DAYS == 0:
            check_state(engine, day)
            memory[day + 1] = resident_mb()
    assert len(engine.history) == DAYS and engine.day == DAYS
    assert engine.history[-1].shape == (len(ROWS), len(COUNTS))
    outcomes = run_outcomes(engine.replication(0))
    for name, (low, high) in OUTCOME_BOUNDS.items():
        value = outcomes[name]
        assert np.isnan(value) or low <= value <= high, (name, value)
    first = memory[MONTH_DAYS]
    last = memory[max(memory)]
    assert last <= 1.10 * first, memory
    year_two = memory[720] - memory[360]
    year_three = memory[max(memory)] - memory[720]
    assert year_three <= 2 * max(year_two, 0.0) + 10, memory
