"""Where a day's time goes: each rule that ``Engine.step`` calls, timed (docs/performance.md,
the per-phase tables).

``python -m benchmarks.phases`` times 64 lockstep replications of 10,000 residents (per
replication-day, the best of 5 engines over days 5-44) and the whole city (one engine, days
5-14, per day); ``--quick`` only the 10,000-resident rows with fewer days. Each rule the
conductor (``laotie.engine.engine``) calls is wrapped in a ``perf_counter`` timer; "the rest"
is the day minus the phases. One thread, so that the phases do not overlap.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from laotie import Engine, Scenario, graph
from laotie.engine import engine as conductor

PHASES = {
    "storefront": ("storefront_exposures",),
    "discovery": ("discovery_exposures",),
    "follow": ("follow_exposures",),
    "decisions": ("Candidates.add", "Candidates.decide"),
    "day counts": ("count",),
    "activity": ("activity",),
    "word of mouth": ("word_of_mouth_exposures",),
    "outcomes": ("apply_outcomes",),
}
"""The rows of the table and the rules they time: names in the conductor's namespace (a
class's method as ``Class.method``); ``count`` is the engine's day counter's."""


def owner_of(engine: Engine, name: str) -> tuple[Any, str]:
    """Where the rule ``name`` of :data:`PHASES` is looked up, and its attribute's name."""
    if name == "count":
        return engine._counter, name
    if "." in name:
        cls, attribute = name.split(".")
        return getattr(conductor, cls), attribute
    return conductor, name


def _timed(engine: Engine, totals: Counter[str]) -> list[tuple[Any, str, Any]]:
    """Wrap the rules the conductor calls (and the engine's day counter) so that they add to
    ``totals``; return what to restore."""
    restore = []

    def wrap(owner: Any, name: str, row: str) -> None:
        rule: Callable[..., Any] = getattr(owner, name)
        restore.append((owner, name, rule))

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return rule(*args, **kwargs)
            finally:
                totals[row] += time.perf_counter() - start

        setattr(owner, name, timed)

    for row, names in PHASES.items():
        for name in names:
            wrap(*owner_of(engine, name), row)
    return restore


def measure(
    city: graph.TrustGraph,
    scenario: Scenario,
    replications: int,
    days: tuple[int, int],
    repeat: int,
) -> dict[str, float]:
    """Seconds per replication-day of each phase and of the day, for the engine whose day
    was fastest of ``repeat`` (set up afresh each time, days ``days[0] .. days[1] - 1``)."""
    seeds = [np.random.SeedSequence(1, spawn_key=(r,)) for r in range(replications)]
    best: dict[str, float] | None = None
    for _ in range(repeat):
        engine = Engine(city, scenario, seed=seeds, threads=1)
        engine.run(days[0])
        totals: Counter[str] = Counter()
        restore = _timed(engine, totals)
        start = time.perf_counter()
        try:
            engine.run(days[1] - days[0])
        finally:
            for owner, name, rule in restore:
                setattr(owner, name, rule)
        day = time.perf_counter() - start
        scale = 1 / ((days[1] - days[0]) * replications)
        row = {name: totals[name] * scale for name in PHASES}
        row["the rest"] = (day - sum(totals.values())) * scale
        row["day"] = day * scale
        engine.close()
        if best is None or row["day"] < best["day"]:
            best = row
    assert best is not None
    return best


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Print the per-phase table (ms per day, per replication-day in lockstep)."""
    setups = [(10_000, 64, (5, 25) if quick else (5, 45), 2 if quick else 5)]
    if not quick:
        setups.append((2_540_000, 1, (5, 15), 1))
    columns = []
    for residents, replications, days, repeat in setups:
        scenario = Scenario.preset("mudanjiang", scale=residents / 2_540_000)
        city = graph.city(scenario.city, seed=1)
        figures = measure(city, scenario, replications, days, repeat)
        columns.append({"label": f"{residents:,} x {replications}", **figures})
    rows = [*PHASES, "the rest", "day"]
    print("ms per day (per replication-day with R > 1), one thread")
    print(f"{'phase':<15}" + "".join(f"{c['label']:>26}" for c in columns))
    for name in rows:
        print(f"{name:<15}" + "".join(f"{1000 * c[name]:>26.4f}" for c in columns))
    return columns


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 residents only, fewer days")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
