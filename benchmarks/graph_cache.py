"""A city graph built once and read back (issue #25): ``python -m benchmarks.graph_cache``.

Side by side, each in a fresh process with its own peak memory: the scenario's city built
without the cache (``LAOTIE_GRAPH_CACHE=0``), built and saved into an empty cache, and read
from it (:func:`laotie.scenario.scenario_graph` each time, the way every run gets its city).
The goal of #25: a saved whole city read in ≤ 3 s. ``--quick``: a tenth of the city.
"""

from __future__ import annotations

import argparse
import os
import tempfile

from ._child import run_child

CHILD = """
import json, os, resource, time
os.environ["LAOTIE_GRAPH_CACHE"] = {folder!r}
from laotie import Scenario
from laotie.scenario import scenario_graph
scenario = Scenario.preset("mudanjiang", scale={scale!r})
start = time.perf_counter()
g = scenario_graph(scenario, {seed!r})
seconds = time.perf_counter() - start
print(json.dumps({{
    "residents": g.n_nodes, "edges": g.n_edges, "seconds": seconds,
    "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
}}))
"""


def measure(scale: float, folder: str, seed: int = 0) -> dict[str, float]:
    """The city at ``scale`` through the cache in ``folder`` ("0": no cache), in a fresh
    process."""
    return run_child(CHILD.format(folder=folder, scale=scale, seed=seed))


def run(quick: bool = False) -> list[tuple[str, dict[str, float]]]:
    """Measure build, build-and-save and read; print and return the rows."""
    scale = 0.1 if quick else 1.0
    with tempfile.TemporaryDirectory(prefix="laotie-graph-cache-") as folder:
        rows = [
            ("built, no cache", measure(scale, "0")),
            ("built and saved", measure(scale, folder)),
            ("read from the cache", measure(scale, folder)),
        ]
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    build = rows[0][1]["seconds"]
    print(
        f"Mudanjiang at scale {scale:g}: {rows[0][1]['residents']:,} residents, "
        f"{rows[0][1]['edges']:,} ties; the cached file {size / 1e9:.2f} GB"
    )
    print(f"{'':<22} {'seconds':>8} {'x build':>8} {'peak RSS GB':>12}")
    for name, row in rows:
        print(
            f"{name:<22} {row['seconds']:>8.1f} {row['seconds'] / build:>8.2f} "
            f"{row['peak_rss_gb']:>12.2f}"
        )
    read = rows[2][1]["seconds"]
    if not quick:
        print(f"goal: read in ≤ 3 s: {read:.1f} s, {'met' if read <= 3 else 'NOT met'}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.graph_cache")
    parser.add_argument("--quick", action="store_true", help="a tenth of the city")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
