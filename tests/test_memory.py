"""Memory estimates are checked before a city or an engine is built: refuse, with the estimate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from laotie import Engine, Scenario, ScenarioError, _memory, graph
from laotie.engine.sizing import engine_bytes, replication_bytes


@pytest.fixture
def scenario() -> Scenario:
    return Scenario.preset("village")


def test_the_machine_reports_its_available_memory() -> None:
    available = _memory.available_bytes()
    assert available is not None and 0 < available < 2**50


def test_a_cgroup_limit_is_read(tmp_path: Path) -> None:
    """In a container the limit of its cgroup, not the machine's free memory, is the room."""
    assert _memory.cgroup_room(str(tmp_path)) is None  # no cgroup files: no limit known
    (tmp_path / "memory.max").write_text("max\n")
    (tmp_path / "memory.current").write_text("1000\n")
    assert _memory.cgroup_room(str(tmp_path)) is None  # no limit
    (tmp_path / "memory.max").write_text("4000000000\n")
    assert _memory.cgroup_room(str(tmp_path)) == 4_000_000_000 - 1000
    (tmp_path / "memory.current").write_text("5000000000\n")
    assert _memory.cgroup_room(str(tmp_path)) == 0
    # Reclaimable page cache counts as room: a container that read files sits near its limit.
    (tmp_path / "memory.current").write_text("3990000000\n")
    (tmp_path / "memory.stat").write_text("anon 1000000000\ninactive_file 2500000000\n")
    assert _memory.cgroup_room(str(tmp_path)) == 4_000_000_000 - 3_990_000_000 + 2_500_000_000


@pytest.mark.parametrize("preset", ["village", "county"])
def test_the_city_estimate_follows_the_graph_built(preset: str) -> None:
    spec = Scenario.preset(preset).city
    g = graph.city(spec, seed=1)
    ties = spec.n_residents * (spec.local_degree + spec.city_degree) + 2 * spec.n_users
    assert abs(ties - g.n_edges) <= 0.05 * g.n_edges
    assert spec.memory_estimate() >= 3 * g.nbytes  # the build's peak holds the graph thrice


def test_a_city_that_cannot_fit_is_refused_before_it_is_built(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    need = scenario.city.memory_estimate()
    monkeypatch.setattr(_memory, "available_bytes", lambda: need - 1)
    message = (
        rf"laotie.graph.city: a city of {scenario.city.n_residents:,} residents needs about "
        rf"\d+ MB of memory and \d+ MB are available: use fewer residents "
        r"\(a smaller --scale\) or lower degrees "
        r"\(the estimate is approximate; set LAOTIE_MEMORY_CHECK=0 to try anyway\)"
    )
    with pytest.raises(ScenarioError, match=message):
        graph.city(scenario.city, seed=1)
    monkeypatch.setattr(_memory, "available_bytes", lambda: need)
    graph.city(scenario.city, seed=1)  # exactly enough
    monkeypatch.setattr(_memory, "available_bytes", lambda: 0)
    monkeypatch.setenv("LAOTIE_MEMORY_CHECK", "0")
    graph.city(scenario.city, seed=1)  # the user takes the risk


def test_an_engine_that_cannot_fit_is_refused(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    g = graph.city(scenario.city, seed=1)
    one = engine_bytes(g, scenario)
    three = engine_bytes(g, scenario, 3)
    assert three - one == 2 * replication_bytes(g, scenario)
    monkeypatch.setattr(_memory, "available_bytes", lambda: (one + three) // 2)
    Engine(g, scenario, seed=1)
    with pytest.raises(
        ScenarioError,
        match=rf"Engine: 3 replication\(s\) of a city of {g.n_nodes:,} residents needs about "
        r"\d+ MB of memory and \d+ MB are available: use fewer lockstep replications",
    ):
        Engine(g, scenario, seed=[1, 2, 3])
    monkeypatch.setattr(_memory, "available_bytes", lambda: None)  # unknown: no check
    assert Engine(g, scenario, seed=np.arange(3)).replications == 3


def _resident_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * _memory.PAGE


def test_touch_maps_the_pages_and_keeps_the_values() -> None:
    rng = np.random.default_rng(0)
    arrays = [
        rng.random((300, 7)),
        rng.integers(-5, 5, 10_001).astype(np.int8),
        rng.random(9) < 0.5,
    ]
    copies = [a.copy() for a in arrays]
    _memory.touch(*arrays)
    for array, copy in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(array, copy)
    with pytest.raises(ValueError, match="contiguous"):
        _memory.touch(np.zeros((10, 10))[:, ::2])
    if not Path("/proc/self/statm").exists():
        pytest.skip("resident memory is read from /proc (Linux)")
    # 64 MB of fresh anonymous memory (what a large np.zeros usually gets, though the
    # allocator may hand out pages already in use) is not resident until written; touched,
    # all of it is.
    import mmap

    block = mmap.mmap(-1, 64 << 20)
    zeros = np.frombuffer(block, np.uint8)
    before = _resident_bytes()
    _memory.touch(zeros)
    assert _resident_bytes() - before >= 60 << 20
    assert not zeros.any()
    del zeros
    block.close()


class _Switch:
    """A stand-in for numpy's huge-page switch: holds the setting, returns the previous."""

    def __init__(self, advised: bool) -> None:
        self.advised = advised

    def __call__(self, advised: bool) -> bool:
        before, self.advised = self.advised, advised
        return before


@pytest.mark.parametrize("before", [True, False])
def test_small_pages_withholds_the_advice_and_restores_the_setting(
    before: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside, no huge-page advice; after (an error too), the setting as it was, a user's
    own ``NUMPY_MADVISE_HUGEPAGE=0`` included."""
    switch = _Switch(before)
    monkeypatch.setattr(_memory, "_SWITCH", switch)
    with _memory.small_pages():
        assert switch.advised is False
        with _memory.small_pages():
            assert switch.advised is False
        assert switch.advised is False
    assert switch.advised is before
    with pytest.raises(KeyError), _memory.small_pages():
        assert switch.advised is False
        raise KeyError("x")
    assert switch.advised is before


def test_small_pages_blocks_that_overlap_restore_the_setting_when_the_last_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Blocks of two threads need not close in the order they opened: the first to close
    must not bring the advice back under the other, nor the last leave it withheld."""
    switch = _Switch(True)
    monkeypatch.setattr(_memory, "_SWITCH", switch)
    first, second = _memory.small_pages(), _memory.small_pages()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert switch.advised is False
    second.__exit__(None, None, None)
    assert switch.advised is True


def test_small_pages_is_numpys_own_setting() -> None:
    """Where numpy has the switch (Linux builds), the blocks act on it."""
    if _memory._SWITCH is None:
        pytest.skip("this numpy has no huge-page switch")
    from numpy._core import multiarray

    before = multiarray._get_madvise_hugepage()  # False under NUMPY_MADVISE_HUGEPAGE=0
    with _memory.small_pages():
        assert multiarray._get_madvise_hugepage() is False
    assert multiarray._get_madvise_hugepage() is before


def test_a_city_is_built_and_a_saved_graph_read_with_small_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The graph's arrays are written and read in order: built or read without the advice
    (docs/performance.md), and the advice is back for the engine's arrays after."""
    switch = _Switch(True)
    monkeypatch.setattr(_memory, "_SWITCH", switch)
    seen: list[bool] = []
    from laotie.graph import generators, io

    def spy(real):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(switch.advised)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(generators, "merged_csr", spy(generators.merged_csr))
    monkeypatch.setattr(io, "TrustGraph", spy(io.TrustGraph))
    built = graph.city(Scenario.preset("village").city, seed=3)
    assert seen == [False] and switch.advised is True
    built.save(tmp_path / "g.npz")
    assert graph.load(tmp_path / "g.npz").equals(built)
    assert seen == [False, False] and switch.advised is True
