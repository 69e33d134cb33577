"""The engine against a plain agent-object implementation of the same rules, per simulated day.

The baseline is the test oracle (tests/oracle.py): one Python object per user, creator,
storefront and product, written only from docs/model.md, and shown by the test suite to agree
with the engine in distribution. The per-day cost of each is the difference between a long and
a short run divided by the extra days, so that the set-up of both is left out. Issue #8 asks
for at least 100x at 10 k and 100 k residents.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from laotie import Engine, Scenario, graph

TESTS = Path(__file__).resolve().parents[1] / "tests"


def per_day(run, short: int, long: int, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    """Seconds per simulated day of ``run(days)``, set-up excluded: the best of ``repeat``
    short and long runs, so that a burst of load on the machine does not decide it."""
    times = {short: float("inf"), long: float("inf")}
    for _ in range(repeat):
        for days in (short, long):
            start = time.perf_counter()
            run(days)
            times[days] = min(times[days], time.perf_counter() - start)
    return (times[long] - times[short]) / (long - short)


def measure(residents: int, oracle_days: tuple[int, int]) -> dict[str, float]:
    """Per-day seconds of the oracle and of the engine (one and two threads), and per
    replication-day of the engine running replications in lockstep, on one city."""
    sys.path.insert(0, str(TESTS))
    from oracle import run_oracle

    from laotie.engine import lockstep_size

    scenario = Scenario.preset("mudanjiang", scale=residents / 2_540_000)
    g = graph.city(scenario.city, seed=1)
    together = lockstep_size(g, scenario, 64)

    def engine_run(days: int, threads: int | None, replications: int = 1) -> None:
        seeds = [np.random.SeedSequence(1, spawn_key=(r,)) for r in range(replications)]
        engine = Engine(g, scenario, seed=seeds, threads=threads)
        for _ in range(days):
            engine.step()
        engine.close()

    return {
        "residents": g.n_nodes,
        "oracle": per_day(lambda d: run_oracle(g, scenario, d, 1), *oracle_days),
        "engine_1": per_day(lambda d: engine_run(d, 1), 10, 60),
        "engine_2": per_day(lambda d: engine_run(d, 2), 10, 60),
        "lockstep_replications": together,
        # The engine's default threads: 2 from 500,000 stacked residents.
        "lockstep": per_day(lambda d: engine_run(d, None, together), 5, 25, repeat=2) / together,
    }


def run(quick: bool = False) -> list[dict[str, float]]:
    """Measure at 10 k residents (and 100 k unless ``quick``); print the ratios."""
    cases = [(10_000, (2, 8))] if quick else [(10_000, (2, 8)), (100_000, (1, 5))]
    print(
        f"{'residents':>10} {'oracle ms/day':>14} {'engine ms/day':>14} {'2 threads':>10} "
        f"{'lockstep ms/rep-day':>24} {'ratio':>6} {'2 thr.':>7} {'lockstep':>9}  target"
    )
    rows = []
    for residents, days in cases:
        r = measure(residents, days)
        lockstep = f"{1000 * r['lockstep']:.3f} (R = {r['lockstep_replications']})"
        print(
            f"{r['residents']:>10,} {1000 * r['oracle']:>14.0f} {1000 * r['engine_1']:>14.2f} "
            f"{1000 * r['engine_2']:>10.2f} {lockstep:>24} {r['oracle'] / r['engine_1']:>5.0f}x "
            f"{r['oracle'] / r['engine_2']:>6.0f}x {r['oracle'] / r['lockstep']:>8.0f}x  ≥ 100x"
        )
        rows.append(r)
    return rows
