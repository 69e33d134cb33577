"""A simulated year of the whole city: graph build, engine set-up and 365 days, each timed.

Runs in a fresh process so that the peak resident memory is the run's own. The mission's
target: the whole Mudanjiang city (2.54 M residents) for a year in about a minute of
simulation on a 2-core machine, within 6 GB (the graph build is reported separately).
"""

from __future__ import annotations

import numpy as np

from ._child import run_child

CHILD = """
import json, resource, time
from laotie import Engine, Scenario, graph
# Load the compiled kernels first (a few days of a village), so that the year is timed
# without their one-off loading, which would flatten the fit of goal 4.
warm = time.perf_counter()
village = Scenario.preset("village")
Engine(graph.city(village.city, seed=1), village, seed=1).run(3)
scenario = Scenario.preset({preset!r}, scale={scale!r}).replace(**{changes!r})
start = time.perf_counter()
g = graph.city(scenario.city, seed=1)
built = time.perf_counter()
engine = Engine(g, scenario, seed=2)
ready = time.perf_counter()
for _ in range({days!r}):
    engine.step()
done = time.perf_counter()
print(json.dumps({{
    "residents": g.n_nodes, "edges": g.n_edges, "warm_s": start - warm, "graph_s": built - start,
    "setup_s": ready - built, "days": {days!r}, "simulate_s": done - ready,
    "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
}}))
"""


def measure(
    scale: float,
    days: int,
    changes: dict[str, object] | None = None,
    preset: str = "mudanjiang",
) -> dict[str, float]:
    """Run ``days`` days of the shipped scenario ``preset`` (Mudanjiang) at ``scale`` (with
    the scenario ``changes``) in a fresh process; return the figures."""
    return run_child(
        CHILD.format(scale=scale, days=days, changes=dict(changes or {}), preset=preset)
    )


SMALL = 10_000 / 2_540_000
MEDIUM = 100_000 / 2_540_000


def exponent(rows: list[dict[str, float]]) -> float:
    """Least-squares slope of log(time per day) against log(residents)."""
    x = np.log([r["residents"] for r in rows])
    y = np.log([r["simulate_s"] / r["days"] for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def run(quick: bool = False) -> list[dict[str, float]]:
    """Measure and print; the full mode runs 10 k residents to the whole city for 365 days.

    The exponent of time per day against residents (issue #8, goal 4) is fitted over every
    size measured and printed last. "warm-up s" is the village run that loads the compiled
    kernels before anything is timed (with numba; numpy's own start-up otherwise).
    """
    if quick:
        cases = [(SMALL, 30), (0.1, 30)]
    else:
        cases = [(SMALL, 365), (MEDIUM, 365), (0.1, 365), (1.0, 365)]
    print(
        f"{'scale':>6} {'residents':>10} {'days':>5} {'graph s':>8} {'set-up s':>9} "
        f"{'simulate s':>11} {'ms/day':>7} {'peak RSS GB':>12} {'warm-up s':>10}  target"
    )
    rows = []
    for scale, days in cases:
        r = measure(scale, days)
        target = "≈ 60 s, ≤ 6 GB" if scale == 1.0 else ""
        print(
            f"{scale:>6.4g} {r['residents']:>10,} {days:>5} {r['graph_s']:>8.1f} "
            f"{r['setup_s']:>9.1f} {r['simulate_s']:>11.1f} "
            f"{1000 * r['simulate_s'] / days:>7.1f} {r['peak_rss_gb']:>12.2f} "
            f"{r['warm_s']:>10.1f}  {target}"
        )
        rows.append(r)
    print(
        f"time per day grows as residents^{exponent(rows):.2f} from {rows[0]['residents']:,} "
        f"to {rows[-1]['residents']:,} residents (least squares over {len(rows)} sizes)"
    )
    return rows
