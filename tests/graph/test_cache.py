"""The cache of built city graphs (laotie.graph.cache): a graph read from it is the graph a
build gives; its key changes with everything that decides the graph; it stays within its size
limit; a damaged or unwritable cache never stops a run."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from laotie import GraphError, Scenario
from laotie.graph import cache, city
from laotie.graph.cache import cache_limit, cached_city, graph_key
from laotie.scenario import scenario_graph

ARRAYS = ("indptr", "indices", "trust", "layer", "region", "rural", "user", "creator_kind")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own, caching the smallest cities too."""
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE", str(tmp_path / "graphs"))
    monkeypatch.delenv("LAOTIE_GRAPH_CACHE_GB", raising=False)
    monkeypatch.setattr(cache, "MIN_RESIDENTS", 0)
    return tmp_path / "graphs"


def spec(name: str = "village"):  # type: ignore[no-untyped-def]
    return Scenario.preset(name).city


def same(a, b) -> None:  # type: ignore[no-untyped-def]
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.region_names == b.region_names and a.meta == b.meta


def test_a_cached_graph_is_the_graph_a_build_gives(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = cached_city(spec(), seed=3)
    assert len(list(folder.glob("*.npz"))) == 1

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again instead of read")

    monkeypatch.setattr(cache, "city", no_build)
    read = cached_city(spec(), seed=3)
    same(read, built)
    # The scenario's graph goes through the cache.
    same(scenario_graph(Scenario.preset("village"), 3), built)


def test_the_key_is_everything_that_decides_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    village, county = spec(), spec("county")
    key = graph_key(village, 3)
    # The same city and seed, given again (a spec made anew, a SeedSequence made anew): the
    # same key, so that the next run finds the graph.
    assert key is not None and graph_key(spec(), 3) == key
    child = np.random.SeedSequence(3, spawn_key=(1,))
    assert graph_key(village, np.random.SeedSequence(3, spawn_key=(1,))) == graph_key(
        village, child
    )
    # An int and the SeedSequence it stands for build the same city: one key.
    assert graph_key(village, np.random.SeedSequence(3)) == key
    assert graph_key(village, np.int64(3)) == key
    same(city(village, seed=3), city(village, seed=np.random.SeedSequence(3)))
    assert graph_key(village, 4) != key
    assert graph_key(county, 3) != key
    assert graph_key(village, np.random.SeedSequence(3, spawn_key=(1,))) != graph_key(
        village, np.random.SeedSequence(3)
    )
    assert graph_key(village, None) is None
    assert graph_key(village, np.random.default_rng(3)) is None
    # The libraries whose numbers the build uses: another version, another key.
    for library in (cache.np, cache.scipy, cache.numba):
        with monkeypatch.context() as patch:
            patch.setattr(library, "__version__", "0.0.other")
            assert graph_key(village, 3) != key
    assert graph_key(village, 3) == key
    monkeypatch.setattr(cache, "_sources_digest", lambda: "other code")
    assert graph_key(village, 3) != key


def test_seeds_that_do_not_say_their_graph_and_small_cities_are_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE", str(tmp_path / "graphs"))
    cached_city(spec(), seed=3)  # the village: below MIN_RESIDENTS
    assert not (tmp_path / "graphs").exists()
    monkeypatch.setattr(cache, "MIN_RESIDENTS", 0)
    cached_city(spec(), seed=np.random.default_rng(1))
    cached_city(spec(), seed=None)
    assert not (tmp_path / "graphs").exists()


@pytest.mark.parametrize("off", ["0", "off"])
def test_the_cache_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, off: str
) -> None:
    monkeypatch.setattr(cache, "MIN_RESIDENTS", 0)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE", off)
    cached_city(spec(), seed=3)
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE", str(tmp_path / "graphs"))
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE_GB", "0")
    cached_city(spec(), seed=3)
    assert list(tmp_path.rglob("*.npz")) == []
    # The default folder: the user's cache folder.
    monkeypatch.delenv("LAOTIE_GRAPH_CACHE")
    assert cache.cache_folder() == tmp_path / "xdg" / "laotie" / "graphs"


def test_a_damaged_graph_is_built_again(folder: Path) -> None:
    built = cached_city(spec(), seed=3)
    (path,) = folder.glob("*.npz")
    path.write_bytes(path.read_bytes()[:1000])  # truncated: a killed copy, a disk error
    same(cached_city(spec(), seed=3), built)
    same(cache.load(path), built)  # saved again, whole


def test_the_least_recently_used_graphs_go_first(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached_city(spec(), seed=1)
    (first,) = folder.glob("*.npz")
    size = first.stat().st_size
    # Room for two graphs of this size: the third saved removes the least recently used.
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE_GB", str(2.5 * size / 1e9))
    cached_city(spec(), seed=2)
    second = next(p for p in folder.glob("*.npz") if p != first)
    import os

    os.utime(first, (1, 1))
    os.utime(second, (2, 2))
    cached_city(spec(), seed=1)  # read: first becomes the most recently used
    cached_city(spec(), seed=3)
    held = set(folder.glob("*.npz"))
    assert first in held and second not in held and len(held) == 2


def test_an_unwritable_cache_warns_once_and_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE", str(blocker / "graphs"))
    monkeypatch.setattr(cache, "MIN_RESIDENTS", 0)
    monkeypatch.setattr(cache, "_warned", set())
    with pytest.warns(RuntimeWarning, match="cannot be written"):
        graph = cached_city(spec(), seed=3)
    assert graph.n_nodes == spec().n_residents
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached_city(spec(), seed=4)  # said once


@pytest.mark.parametrize("value", ["-1", "lots", "nan"])
def test_a_bad_size_limit_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LAOTIE_GRAPH_CACHE_GB", value)
    with pytest.raises(GraphError, match=f"LAOTIE_GRAPH_CACHE_GB = '{value}'; expected a number"):
        cache_limit()


def test_the_key_covers_the_code_that_builds_cities_only(tmp_path: Path) -> None:
    import shutil

    folder = Path(cache.__file__).parent
    for path in folder.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    before = cache.sources_digest(tmp_path)
    assert before == cache._sources_digest()
    (tmp_path / "stats.py").write_text((folder / "stats.py").read_text() + "\n# a comment\n")
    assert cache.sources_digest(tmp_path) == before  # statistics build no city
    (tmp_path / "generators.py").write_text((folder / "generators.py").read_text() + "\n# c\n")
    assert cache.sources_digest(tmp_path) != before
