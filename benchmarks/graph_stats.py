"""The statistics of a whole city's graph (issue #25): ``python -m benchmarks.graph_stats``.

Side by side, each in a fresh process: :meth:`laotie.TrustGraph.stats` (what ``laotie graph``
prints) with this checkout's code and with the code of another commit (default ``main``),
checked out in a temporary git worktree. Both read the same graph, Mudanjiang built with seed
0 as ``laotie graph mudanjiang --scale 1`` builds it (taken from the graph cache, or built
once and saved there by this checkout's code), and both are timed from the graph in memory:
the seconds of the statistics alone and the peak resident memory above the graph (the peak is
reset after the graph is read, through ``/proc/self/clear_refs``; where that cannot be
written, the process's peak is used, which may include reading the graph). Each side runs
``--repeat`` times, alternating; the best time and the largest memory are kept. The
compiled kernels are compiled (and cached) by a small warm-up run first. ``--graph FILE``:
read that saved graph instead (any ``.npz`` of ``TrustGraph.save``).

The goal of #25: the whole city's statistics in ≤ 5 s with ≤ 0.5 GB above the graph.
``--quick``: a tenth of the city.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ._child import run_child

ROOT = Path(__file__).resolve().parents[1]

GRAPH = """
import json, os, tempfile
from laotie import Scenario
from laotie.graph import cache
from laotie.scenario import scenario_graph
scenario = Scenario.preset("mudanjiang", scale={scale!r})
g = scenario_graph(scenario, 0)
folder = cache.cache_folder()
key = cache.graph_key(scenario.city, 0)
path = None if folder is None or key is None else folder / f"{{key}}.npz"
if path is None or not path.exists():
    path = os.path.join({spare!r}, "city.npz")
    g.save(path)
print(json.dumps({{"path": str(path), "residents": g.n_residents, "edges": g.n_edges}}))
"""

DESCRIBE = """
import json
from laotie import graph
g = graph.load({path!r})
print(json.dumps({{"path": {path!r}, "residents": g.n_residents, "edges": g.n_edges}}))
"""

WARM_UP = """
import json
from laotie import graph
graph.mudanjiang(scale=0.001, seed=1).stats()
print(json.dumps({}))
"""

MEASURE = """
import gc, json, resource, time
from laotie import graph

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise KeyError(key)

g = graph.load({path!r})
gc.collect()
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak (VmHWM) to the memory now in use
    reset = True
except OSError:
    reset = False
base = status("VmRSS:")
start = time.perf_counter()
stats = g.stats()
seconds = time.perf_counter() - start
peak = status("VmHWM:") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{
    "seconds": seconds, "above_graph_gb": (peak - base) / 1e9, "graph_gb": g.nbytes / 1e9,
    "peak_reset": reset, "clustering": stats["clustering (sampled)"],
}}))
"""


def child(code: str, checkout: Path) -> dict[str, Any]:
    """Run ``code`` in a fresh Python in ``checkout`` (``python -c`` puts the working folder
    first on the path), with its laotie first on the path too (an editable install may point
    elsewhere) and checked to be the one imported; ``code`` prints one JSON object, which is
    returned."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    return run_child(code, env=env, cwd=checkout, laotie_from=checkout)


def run(
    quick: bool = False, baseline: str = "main", repeat: int = 3, graph: Path | None = None
) -> dict[str, Any]:
    """Measure both sides; print the table and return the rows."""
    scale = 0.1 if quick else 1.0
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", baseline],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="laotie-graph-stats-") as spare:
        old = Path(spare) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), commit],
            capture_output=True,
            check=True,
        )
        try:
            if graph is None:
                city = child(GRAPH.format(scale=scale, spare=spare), ROOT)
            else:
                city = child(DESCRIBE.format(path=str(graph.resolve())), ROOT)
            sides = {f"{baseline} ({commit})": old, "this checkout": ROOT}
            for checkout in sides.values():
                child(WARM_UP, checkout)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sides}
            for _ in range(repeat):
                for name, checkout in sides.items():
                    runs[name].append(child(MEASURE.format(path=city["path"]), checkout))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                capture_output=True,
                check=False,
            )
    rows = {
        name: {
            "seconds": min(r["seconds"] for r in rs),
            "above_graph_gb": max(r["above_graph_gb"] for r in rs),
            "clustering": rs[0]["clustering"],
            "peak_reset": all(r["peak_reset"] for r in rs),
        }
        for name, rs in runs.items()
    }
    graph_gb = runs["this checkout"][0]["graph_gb"]
    where = f"Mudanjiang at scale {scale:g}, seed 0" if graph is None else str(graph)
    print(
        f"{where}: {city['residents']:,} residents, "
        f"{city['edges']:,} ties, {graph_gb:.2f} GB of graph arrays; statistics best of "
        f"{repeat} (time) and largest (memory), each in a fresh process"
    )
    print(f"{'':<22} {'seconds':>8} {'GB above graph':>15} {'clustering':>11}")
    for name, row in rows.items():
        print(
            f"{name:<22} {row['seconds']:>8.2f} {row['above_graph_gb']:>15.2f} "
            f"{row['clustering']:>11.4f}"
        )
    before, after = rows[f"{baseline} ({commit})"], rows["this checkout"]
    print(
        f"ratio {baseline} / this checkout: {before['seconds'] / after['seconds']:.1f}x the time, "
        f"{before['above_graph_gb'] / max(after['above_graph_gb'], 1e-3):.0f}x the memory"
    )
    if not all(row["peak_reset"] for row in rows.values()):
        print("(the peak could not be reset: memory includes reading the graph)")
    if not quick and graph is None:
        met = after["seconds"] <= 5 and after["above_graph_gb"] <= 0.5
        print(
            f"goal: ≤ 5 s and ≤ 0.5 GB above the graph: {after['seconds']:.1f} s, "
            f"{after['above_graph_gb']:.2f} GB, {'met' if met else 'NOT met'}"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.graph_stats")
    parser.add_argument("--quick", action="store_true", help="a tenth of the city")
    parser.add_argument(
        "--baseline", default="main", help="the commit to compare with (default: main)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (default: 3)")
    parser.add_argument("--graph", type=Path, help="a saved graph (.npz) to describe instead")
    args = parser.parse_args()
    run(args.quick, args.baseline, args.repeat, args.graph)


if __name__ == "__main__":
    main()
