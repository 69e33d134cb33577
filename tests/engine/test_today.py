"""Today's activity as bits (laotie/engine/state.py): the bool view and the look-up by node
read the bits the rules write, 64 nodes a word, the last word partly used."""

from __future__ import annotations

import numpy as np
import pytest

from laotie.engine.state import Today, unpacked


@pytest.mark.parametrize("nodes", [1, 63, 64, 65, 130, 1000])
def test_the_bits_read_as_flags_and_by_node(nodes: int) -> None:
    rng = np.random.default_rng(nodes)
    flags = rng.random(nodes) < 0.3
    today = Today.of(nodes)
    for node in np.flatnonzero(flags):
        today.active_bits[node >> 6] |= np.uint64(1) << np.uint64(node & 63)
    np.testing.assert_array_equal(today.active, flags)
    asked = rng.integers(0, nodes, 50)
    np.testing.assert_array_equal(today.is_active(asked), flags[asked])
    with pytest.raises(ValueError, match="read-only"):
        today.active[0] = True  # a copy: writing it would change nothing
    np.testing.assert_array_equal(unpacked(today.active_bits, nodes), flags)


def test_a_look_up_refuses_what_is_not_a_node() -> None:
    today = Today.of(100)
    # The last word's padding (100 .. 127) and negative ids are not nodes.
    for node in (100, 127, -1):
        with pytest.raises(IndexError, match=rf"nodes in 0 .. 99, not {node} .. {node}"):
            today.is_active(np.array([node]))
    with pytest.raises(TypeError, match="dtype bool; expected integers"):
        today.is_active(np.ones(100, bool))
    with pytest.raises(TypeError, match="dtype float64"):
        today.is_active(np.array([1.0]))
    assert not today.is_active(np.zeros(0, np.int64)).size
