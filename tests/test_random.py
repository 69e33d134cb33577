"""Seeds are normalised once and never touch global random state."""

from __future__ import annotations

import numpy as np
import pytest

from laotie import ScenarioError
from laotie._random import as_generator, as_seed_sequence, spawn_generators


def test_int_and_sequence_agree() -> None:
    a = as_generator(5).random(3)
    b = as_generator(np.random.SeedSequence(5)).random(3)
    assert np.array_equal(a, b)


def test_generator_is_used_and_advanced() -> None:
    rng = np.random.default_rng(0)
    assert as_generator(rng) is rng
    first, second = as_seed_sequence(rng), as_seed_sequence(rng)
    assert first.entropy != second.entropy


def test_none_draws_fresh_entropy() -> None:
    assert as_seed_sequence(None).entropy != as_seed_sequence(None).entropy


def test_spawned_streams_are_fixed_and_distinct() -> None:
    one = [g.random() for g in spawn_generators(3, 4)]
    two = [g.random() for g in spawn_generators(3, 4)]
    assert one == two
    assert len(set(one)) == 4


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_bad_seeds_are_named(bad: object) -> None:
    with pytest.raises(ScenarioError, match="seed"):
        as_seed_sequence(bad)  # type: ignore[arg-type]
