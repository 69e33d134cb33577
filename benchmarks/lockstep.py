"""Lockstep replications against one replication at a time (issue #6): the market engine
and the cascade.

The engine: ``Engine(graph, scenario, seed=[s_0, ..., s_R-1])`` runs R replications whose
numbers are identical to R engines run one by one (tests/engine/test_lockstep.py); its time
per replication-day is measured beside one engine's time per day in the same run
(``benchmarks/oracle_ratio.py`` measures both) and printed here as the speed-up.

The cascade:
``laotie.independent_cascade`` runs R replications in lockstep: bit ``r`` of a node's words is
replication ``r``, each step visits the frontier of all replications once (a node's row read
once for every replication it is new in), and the replications are split between the
machine's threads. The baseline is the same function called R times with one replication each
(seeds 0 .. R-1, so that the R cascades are independent, as the lockstep ones are; one
replication runs in one thread): the same results in distribution. Graph: the users of
Mudanjiang and their local and city ties (see ``benchmarks/cascade.py``), 20 steps, seeds
0.1 % of the users.
"""

from __future__ import annotations

import json
from typing import Any

from ._child import run_child
from .cascade import N_USERS_CITY, ROOT, STEPS, users_graph

REPLICATIONS = 100


def child(n_users: int, probabilities: list[float]) -> None:
    """Measure in this process; print one JSON object."""
    import time

    import numpy as np

    from laotie.cascade import InfluenceTies, independent_cascade

    ties = InfluenceTies.from_graph(users_graph(n_users / N_USERS_CITY))
    seeds = np.random.default_rng(0).choice(ties.n_nodes, max(1, ties.n_nodes // 1000), False)
    rows = []
    for p in probabilities:
        kw: dict[str, Any] = {"probability": p, "steps": STEPS}
        independent_cascade(ties, seeds, replications=1, seed=0, **kw)  # compile, warm caches
        start = time.perf_counter()
        together = independent_cascade(ties, seeds, replications=REPLICATIONS, seed=1, **kw)
        lockstep = time.perf_counter() - start
        start = time.perf_counter()
        sizes = [
            independent_cascade(ties, seeds, replications=1, seed=s, **kw).size[0]
            for s in range(REPLICATIONS)
        ]
        separate = time.perf_counter() - start
        rows.append(
            {
                "nodes": ties.n_nodes,
                "probability": p,
                "lockstep_s": lockstep,
                "separate_s": separate,
                "lockstep_mean_size": float(together.size.mean()),
                "separate_mean_size": float(np.mean(sizes)),
            }
        )
    print(json.dumps(rows))


def run_engine(rows: list[dict[str, Any]]) -> None:
    """Print the engine's lockstep speed-up from the per-day figures of ``oracle_ratio``."""
    print("the market engine: R replications in one engine against one engine per replication")
    print(f"{'residents':>10} {'R':>4} {'one engine':>14} {'lockstep':>18} {'speed-up':>9}")
    for r in rows:
        print(
            f"{r['residents']:>10,} {r['lockstep_replications']:>4} "
            f"{1000 * r['engine_1']:>8.3f} ms/day {1000 * r['lockstep']:>8.3f} ms/rep-day "
            f"{r['engine_1'] / r['lockstep']:>8.1f}x"
        )
    print("the word-of-mouth cascade:")


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure at 10 k users (and 100 k unless ``quick``); print the speed-ups."""
    sizes = [10_000] if quick else [10_000, 100_000]
    print(
        f"{REPLICATIONS} replications x {STEPS} steps: one lockstep call against "
        f"{REPLICATIONS} calls of one replication"
    )
    print(
        f"{'users':>9} {'p':>5} {'lockstep':>10} {'separate':>10} {'speed-up':>9} "
        f"{'mean size (lockstep / separate)':>33}"
    )
    rows: list[dict[str, Any]] = []
    for n in sizes:
        code = (
            f"import sys; sys.path.insert(0, {str(ROOT)!r}); from benchmarks.lockstep import "
            f"child; child({n!r}, [0.05, 0.1])"
        )
        for r in run_child(code):  # type: ignore[union-attr]
            print(
                f"{r['nodes']:>9,} {r['probability']:>5g} {r['lockstep_s']:>9.2f}s "
                f"{r['separate_s']:>9.2f}s {r['separate_s'] / r['lockstep_s']:>8.1f}x "
                f"{r['lockstep_mean_size']:>16,.0f} / {r['separate_mean_size']:,.0f}"
            )
            rows.append(r)
    return rows
