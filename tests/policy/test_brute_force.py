"""Greedy selection on the simulation itself, against brute force: on a village where every
pair of 10 candidate creators is simulated, the greedy pair's gain is at least (1 − 1/e) of
the best pair's, the guarantee for a monotone submodular objective.

A simulated objective is neither, exactly, and its estimate is noisy: with 6 replications
the best of 45 pairs is mostly the luckiest (measured: the greedy pair at 0.33 of it, whose
own singles gained −1.4 and +5.8 RMB); with 32 the estimate is close to its expectation and
the greedy pair reached 0.96. So the test runs 32 replications (slow: it is run on request)
and allows the one-sided 99 % sampling error of the paired difference."""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence

import numpy as np
import pytest
from scipy import stats

from laotie import Scenario, graph
from laotie.policy import TrainingProgramme, greedy

SEED = 5
REPLICATIONS = 32


@pytest.mark.slow
def test_the_greedy_pair_is_within_the_bound_of_the_best_of_every_pair() -> None:
    village = Scenario.preset("village").replace(
        **{"run.days": 30, "training.day": 5, "training.follower_gain": 10}
    )
    programme = TrainingProgramme(
        village, graph.city(village.city, seed=1), "producer_income_total"
    )
    found = programme.candidates().sort_values("followers", ascending=False, kind="stable")
    candidates = [int(c) for c in found.index[:10]]
    assert len(candidates) == 10
    pairs = list(itertools.combinations(candidates, 2))
    sets = [(), *((c,) for c in candidates), *pairs]
    simulated = programme(sets, SEED, REPLICATIONS)
    known = {frozenset(s): row for s, row in zip(sets, simulated, strict=True)}

    def replay(asked: Sequence[tuple[Hashable, ...]], seed: int, replications: int) -> np.ndarray:
        assert (seed, replications) == (SEED, REPLICATIONS)
        return np.array([known[frozenset(s)] for s in asked])  # every set greedy can ask

    gains = simulated[1 + len(candidates) :] - simulated[0]  # f(S) − f(∅): f(∅) = 0
    best = int(np.argmax(gains.mean(axis=1)))
    assert gains[best].mean() > 0, "training any pair adds nothing: the test would prove nothing"
    chosen = greedy(
        candidates, replay, budget=2, seed=SEED, replications=REPLICATIONS, stop=False
    ).chosen
    mine = [set(p) for p in pairs].index(set(chosen))
    # Greedy's own steps on these numbers: the best single, then its best partner.
    singles = simulated[1 : 1 + len(candidates)].mean(axis=1)
    first = candidates[int(np.argmax(singles))]
    partner = max((p for p in pairs if first in p), key=lambda p: known[frozenset(p)].mean())
    assert set(chosen) == set(partner)
    slack = gains[mine] - (1 - 1 / math.e) * gains[best]
    allowance = stats.t.ppf(0.99, REPLICATIONS - 1) * slack.std(ddof=1) / math.sqrt(REPLICATIONS)
    assert slack.mean() >= -allowance, (gains[mine].mean(), gains[best].mean(), allowance)
