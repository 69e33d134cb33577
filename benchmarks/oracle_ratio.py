"""The engine against a plain agent-object implementation of the same rules, per simulated day.

The baseline is the test oracle (tests/oracle.py): one Python object per user, creator,
storefront and product, written only from docs/model.md, and shown by the test suite to agree
with the engine in distribution. Issue #8 asks for at least 100x at 10 k and 100 k residents.

Both are timed over the same days of a run (a day's work grows as follows, memories and
recommendations accumulate, so the windows must match): the days ``WINDOW`` after the
set-up, each day timed on its own, the best of ``repeat`` runs. The engine is timed four
ways: one engine with one thread and with two; R replications in lockstep in one engine
with one thread (per replication-day); and ``replicate(..., workers=2)``, two such engines
(one thread each) in two processes
(the machine's two cores; per replication-day, timed as the difference of runs to the
end of ``LONG_WINDOW`` and to its start, each the longer of the two engines' own times for
their days, measured in their processes without the set-up (``info["simulation_seconds"]``),
the best of ``repeat`` runs for each end, so that neither the set-up nor the processes' start
nor the pickling of the graph counts).
The oracle is single-threaded Python: the two-process figure is the machine's throughput,
and the others are per core.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from laotie import Engine, Scenario, graph
from laotie.runs import replicate

TESTS = Path(__file__).resolve().parents[1] / "tests"
WINDOW = {10_000: (5, 45), 100_000: (3, 11)}
LONG_WINDOW = {10_000: (5, 45), 100_000: (3, 43)}
"""The two-process figure's window: long enough that the engines' days dwarf the noise of
starting processes (at 100 k longer than the oracle's, whose days cost most; the engine's
later days cost more than its early ones, so this is the harder test)."""


def window(make: Callable[[], Any], days: tuple[int, int], repeat: int) -> float:
    """Seconds per day of the steps ``days[0] .. days[1] - 1`` of ``model = make()`` (an
    engine or the oracle), the best of ``repeat`` runs (so that a burst of load on the
    machine does not decide)."""
    best = float("inf")
    for _ in range(repeat):
        model = make()
        for _ in range(days[0]):
            model.step()
        start = time.perf_counter()
        for _ in range(days[1] - days[0]):
            model.step()
        best = min(best, (time.perf_counter() - start) / (days[1] - days[0]))
        if isinstance(model, Engine):
            model.close()
    return best


def measure(residents: int, repeat: int = 3) -> dict[str, float]:
    """Per-day seconds of the oracle and of the engine (one and two threads), and per
    replication-day of the engine running replications in lockstep, in one process and in
    two, on one city."""
    sys.path.insert(0, str(TESTS))
    from oracle import Market as Oracle

    from laotie.engine import lockstep_size

    scenario = Scenario.preset("mudanjiang", scale=residents / 2_540_000)
    g = graph.city(scenario.city, seed=1)
    together = lockstep_size(g, scenario, 64)
    days = WINDOW[residents]

    def engine(threads: int | None, replications: int = 1) -> Callable[[], Engine]:
        def make() -> Engine:
            seeds = [np.random.SeedSequence(1, spawn_key=(r,)) for r in range(replications)]
            return Engine(g, scenario, seed=seeds, threads=threads)

        return make

    def processes(days: int) -> float:
        """The longer of the two engines' times for their days (timed in their processes,
        without the set-up; the two run side by side)."""
        results = replicate(
            scenario, 2 * together, days=days, seed=1, graph=g, workers=2, lockstep=together
        )
        engines: dict[int, float] = {}
        for result in results:
            group = result.info["replication"] // together
            engines[group] = engines.get(group, 0.0) + result.info["simulation_seconds"]
        return max(engines.values())

    long = LONG_WINDOW[residents]
    # Each run's days without its set-up, the best of ``repeat`` for each end of the window
    # (the best of differences would pair a lucky long run with an unlucky short one).
    spread = min(processes(long[1]) for _ in range(repeat)) - min(
        processes(long[0]) for _ in range(repeat)
    )
    return {
        "residents": g.n_nodes,
        "window": days,
        "oracle": window(lambda: Oracle(g, scenario, 1), days, max(1, repeat - 1)),
        "engine_1": window(engine(1), days, repeat),
        "engine_2": window(engine(2), days, repeat),
        "lockstep_replications": together,
        # One thread (the default would take two from 500,000 stacked residents): per core.
        "lockstep": window(engine(1, together), days, repeat) / together,
        "processes": spread / (long[1] - long[0]) / (2 * together),
        "processes_window": long,
    }


def run(quick: bool = False) -> list[dict[str, float]]:
    """Measure at 10 k residents (and 100 k unless ``quick``); print the ratios."""
    cases = [10_000] if quick else [10_000, 100_000]
    print(
        f"{'residents':>10} {'days':>6} {'oracle':>8} {'engine':>8} {'2 threads':>10} "
        f"{'lockstep (R)':>14} {'2 processes':>12}   ratios (target ≥ 100x)"
    )
    print(
        f"{'':>10} {'':>6} {'ms/day':>8} {'ms/day':>8} {'ms/day':>10} {'ms/rep-day':>14} "
        f"{'ms/rep-day':>12}"
    )
    rows = []
    for residents in cases:
        r = measure(residents)
        ratios = "  ".join(
            f"{r['oracle'] / r[key]:.0f}x"
            for key in ("engine_1", "engine_2", "lockstep", "processes")
        )
        lockstep = f"{1000 * r['lockstep']:.3f} ({r['lockstep_replications']})"
        days = "{}-{}".format(*r["window"])
        print(
            f"{r['residents']:>10,} {days:>6} {1000 * r['oracle']:>8.1f} "
            f"{1000 * r['engine_1']:>8.3f} {1000 * r['engine_2']:>10.3f} {lockstep:>14} "
            f"{1000 * r['processes']:>12.3f}   {ratios}"
            "  (2 processes: days {}-{})".format(*r["processes_window"])
        )
        rows.append(r)
    return rows
