"""Speed a user feels (issue #25): ``python -m benchmarks.user_speed [--quick] [--write-docs]``.

Each goal of #25 measured side by side in one run: this checkout's code and a baseline
revision (default :data:`BASELINE`, the code before #25's work) checked out in a temporary
git worktree. Every measurement runs in a fresh Python process (its peak resident memory its
own), with ``PYTHONPATH`` pointing at the code measured and a working folder outside both, and
a graph cache of its own (``LAOTIE_GRAPH_CACHE``; the baseline has none):

- ``laotie run mudanjiang`` end to end (a process of its own: import, graph, set-up, 90 days,
  tables): cold (the graph built, and saved to the cache) and warm (read from it);
- the whole city's graph built (cache off), the engine's set-up on it, and a simulated
  year's days, in one process;
- a saved city read back (this code only: the baseline has no cache);
- ``laotie graph`` statistics, if :mod:`benchmarks.graph_stats` is present;
- run-years per hour at 5 % scale through the sweep machinery on 2 workers, for the default
  scenario (a year a run; and whether the outcomes equal the baseline's serial runs) and for
  the calibrated one (what calibration and the experiments run; 120 days a run, as the
  baseline takes minutes for each);
- time per day against the city's size (the exponent of a log-log fit).

``--quick`` measures a tenth of the city (the 5 % sweep with fewer runs) as a smoke check.
``--write-docs`` replaces the block between the markers in docs/performance.md with the
tables printed, so that no figure there is typed by hand.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._child import run_child

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "020039d"
"""The code before #25's work (the head of main at the start of the twenty-second session)."""
DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- user_speed:start -->", "<!-- user_speed:end -->"

WARM_UP = """
import json
from laotie import Engine, Scenario, graph
village = Scenario.preset("village")
Engine(graph.city(village.city, seed=0), village, seed=0).run(3)
print(json.dumps({}))
"""
"""Compile (and cache) the code's kernels, so that no measurement pays for compiling."""

END_TO_END = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(
    [sys.executable, "-m", "laotie", "run", "mudanjiang", "--scale", {scale!r}, "--quiet"],
    check=True, stdout=subprocess.DEVNULL,
)
print(json.dumps({{
    "seconds": time.perf_counter() - start,
    "peak_rss_gb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e6,
}}))
"""

CITY = """
import json, os, resource, time
os.environ["LAOTIE_GRAPH_CACHE"] = "0"
from laotie import Engine, Scenario, graph
def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
scenario = Scenario.preset("mudanjiang", scale={scale!r})
start = time.perf_counter()
g = graph.city(scenario.city, seed=0)
build, build_rss = time.perf_counter() - start, rss()
start = time.perf_counter()
engine = Engine(g, scenario, seed=1)
setup = time.perf_counter() - start
start = time.perf_counter()
engine.run({days})
print(json.dumps({{
    "residents": g.n_nodes, "edges": g.n_edges, "build": build, "build_rss_gb": build_rss,
    "setup": setup, "days": {days}, "year": time.perf_counter() - start,
    "peak_rss_gb": rss(),
}}))
"""

READ = """
import json, resource, time
from laotie import Scenario
from laotie.scenario import scenario_graph
scenario = Scenario.preset("mudanjiang", scale={scale!r})
start = time.perf_counter()
g = scenario_graph(scenario, 7)  # built and saved by the first call, read by the second
print(json.dumps({{
    "seconds": time.perf_counter() - start,
    "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
}}))
"""

SWEEP = """
import json, tempfile, time
from laotie import Scenario
from laotie.sweep import Sweep, run_sweep
def main():
    sweep = Sweep(
        Scenario.preset({scenario!r}, scale={scale!r}),
        {{"policy.traffic": ["head", "inclusive"]}},
        replications={replications}, days={days}, seed=1,
    )
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = run_sweep(sweep, folder, workers={workers})
        seconds = time.perf_counter() - start
    print(json.dumps({{
        "seconds": seconds, "runs": len(result.runs), "days": {days},
        "ok": int((result.runs["status"] == "ok").sum()),
        "outcomes": result.outcomes.sort_values("run").to_dict(orient="list"),
    }}))
if __name__ == "__main__":
    main()
"""

SIZES = """
import json, os, time
os.environ["LAOTIE_GRAPH_CACHE"] = "0"
from laotie import Engine, Scenario, graph
rows = []
for scale in {scales!r}:
    scenario = Scenario.preset("mudanjiang", scale=scale)
    engine = Engine(graph.city(scenario.city, seed=0), scenario, seed=1)
    engine.run(10)
    start = time.perf_counter()
    engine.run({days})
    rows.append({{"residents": engine.graph.n_nodes,
                  "ms_per_day": 1000 * (time.perf_counter() - start) / {days}}})
print(json.dumps(rows))
"""


class Code:
    """A version of the code: where it lives and how to run a child with it."""

    def __init__(self, name: str, root: Path, cache: Path) -> None:
        self.name, self.root, self.cache = name, root, cache
        cache.mkdir(parents=True, exist_ok=True)

    def env(self, cache: bool = True) -> dict[str, str]:
        return os.environ | {
            "PYTHONPATH": str(self.root),
            "LAOTIE_GRAPH_CACHE": str(self.cache) if cache else "0",
            "PYTHONWARNINGS": "ignore",
        }

    def run(self, code: str, cache: bool = True) -> Any:
        return run_child(code, env=self.env(cache), cwd=self.cache.parent, laotie_from=self.root)


def _worktree(rev: str, folder: Path) -> Path:
    path = folder / "baseline"
    # Worktrees a killed benchmark left registered (their folders gone) are forgotten first.
    subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], check=False, capture_output=True)
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev],
        check=True,
        capture_output=True,
    )
    return path


def _exponent(rows: list[dict[str, float]]) -> float:
    x = np.log([r["residents"] for r in rows])
    y = np.log([r["ms_per_day"] for r in rows])
    return float(np.polyfit(x, y, 1)[0])


def measure(quick: bool, baseline: str) -> dict[str, Any]:
    """Every measurement, for this code and the baseline; returns the figures."""
    scale = 0.1 if quick else 1.0
    sweep_scale, replications = 0.05, 2 if quick else 6
    out: dict[str, Any] = {"scale": scale, "baseline": baseline, "quick": quick}
    with tempfile.TemporaryDirectory(prefix="laotie-user-speed-") as tmp:
        folder = Path(tmp)
        base_root = _worktree(baseline, folder)
        try:
            new = Code("this code", ROOT, folder / "cache-new")
            old = Code(f"baseline {baseline}", base_root, folder / "cache-old")
            for code in (new, old):
                code.run(WARM_UP, cache=False)
            print("end to end (laotie run mudanjiang)…", flush=True)
            out["e2e_old"] = old.run(END_TO_END.format(scale=str(scale)))
            out["e2e_cold"] = new.run(END_TO_END.format(scale=str(scale)))
            out["e2e_warm"] = new.run(END_TO_END.format(scale=str(scale)))
            new.run(READ.format(scale=scale))
            out["read"] = new.run(READ.format(scale=scale))
            print("graph, set-up and a year…", flush=True)
            out["city_old"] = old.run(CITY.format(scale=scale, days=365), cache=False)
            out["city_new"] = new.run(CITY.format(scale=scale, days=365), cache=False)
            try:
                from . import graph_stats
            except ImportError:
                out["stats"] = None
            else:
                print("graph statistics…", flush=True)
                # Its children inherit this environment: a cache of their own, not the user's.
                users = os.environ.get("LAOTIE_GRAPH_CACHE")
                os.environ["LAOTIE_GRAPH_CACHE"] = str(folder / "cache-stats")
                try:
                    rows = graph_stats.run(quick, baseline, repeat=1)
                finally:
                    if users is None:
                        del os.environ["LAOTIE_GRAPH_CACHE"]
                    else:
                        os.environ["LAOTIE_GRAPH_CACHE"] = users
                now = rows.pop("this checkout")
                (before,) = rows.values()
                out["stats"] = {
                    side: {"seconds": r["seconds"], "above_gb": r["above_graph_gb"]}
                    for side, r in (("new", now), ("old", before))
                }
            print("run-years per hour (sweeps at 5 % scale)…", flush=True)
            sweep = {"scale": sweep_scale, "replications": replications}
            default = sweep | {"scenario": "mudanjiang", "days": 365}
            out["sweep_old_1"] = old.run(SWEEP.format(workers=1, **default), cache=False)
            out["sweep_old_2"] = old.run(SWEEP.format(workers=2, **default), cache=False)
            out["sweep_new_2"] = new.run(SWEEP.format(workers=2, **default), cache=False)
            # The calibrated scenario (what calibration and the experiments run): a third of
            # a year, two replications, as the baseline takes minutes a run.
            calibrated = {
                "scale": sweep_scale,
                "replications": 2,
                "scenario": "mudanjiang_calibrated",
                "days": 30 if quick else 120,
            }
            out["calibrated_old_2"] = old.run(SWEEP.format(workers=2, **calibrated), cache=False)
            out["calibrated_new_2"] = new.run(SWEEP.format(workers=2, **calibrated), cache=False)
            print("time per day against size…", flush=True)
            scales = [0.02, 0.05] if quick else [0.02, 0.05, 0.1, 0.25]
            rows = new.run(SIZES.format(scales=scales, days=30 if quick else 60), cache=False)
            c = out["city_new"]
            rows.append({"residents": c["residents"], "ms_per_day": 1000 * c["year"] / c["days"]})
            out["sizes"] = rows
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base_root)],
                check=False,
                capture_output=True,
            )
    return out


def _met(ok: bool) -> str:
    return "yes" if ok else "NO"


def tables(m: dict[str, Any]) -> str:
    """The figures as markdown: the goals table, then time per day against size."""
    whole = not m["quick"]
    name = "mudanjiang" if whole else "mudanjiang --scale 0.1"
    o, cold, warm = m["e2e_old"], m["e2e_cold"], m["e2e_warm"]
    co, cn = m["city_old"], m["city_new"]
    rows = [
        ("goal", "target", "this code", f"baseline {m['baseline']}", "ratio", "met?"),
        (
            f"`laotie run {name}` end to end, graph built",
            "≤ 30 s, ≤ 4 GB",
            f"{cold['seconds']:.1f} s, {cold['peak_rss_gb']:.2f} GB",
            f"{o['seconds']:.1f} s, {o['peak_rss_gb']:.2f} GB",
            f"{o['seconds'] / cold['seconds']:.1f}x",
            _met(cold["seconds"] <= 30 and cold["peak_rss_gb"] <= 4) if whole else "(quick)",
        ),
        (
            f"`laotie run {name}` end to end, graph cached",
            "≤ 30 s, ≤ 4 GB",
            f"{warm['seconds']:.1f} s, {warm['peak_rss_gb']:.2f} GB",
            f"{o['seconds']:.1f} s, {o['peak_rss_gb']:.2f} GB",
            f"{o['seconds'] / warm['seconds']:.1f}x",
            _met(warm["seconds"] <= 30 and warm["peak_rss_gb"] <= 4) if whole else "(quick)",
        ),
        (
            "graph build",
            "≤ 12 s",
            f"{cn['build']:.1f} s, {cn['build_rss_gb']:.2f} GB",
            f"{co['build']:.1f} s, {co['build_rss_gb']:.2f} GB",
            f"{co['build'] / cn['build']:.1f}x",
            _met(cn["build"] <= 12) if whole else "(quick)",
        ),
        (
            "engine set-up",
            "≤ 5 s",
            f"{cn['setup']:.1f} s",
            f"{co['setup']:.1f} s",
            f"{co['setup'] / cn['setup']:.1f}x",
            _met(cn["setup"] <= 5) if whole else "(quick)",
        ),
        (
            "a city year's days",
            "≤ 15 s",
            f"{cn['year']:.1f} s ({1000 * cn['year'] / cn['days']:.0f} ms/day)",
            f"{co['year']:.1f} s",
            f"{co['year'] / cn['year']:.1f}x",
            _met(cn["year"] <= 15) if whole else "(quick)",
        ),
        (
            "a saved city read",
            "≤ 3 s",
            f"{m['read']['seconds']:.1f} s, {m['read']['peak_rss_gb']:.2f} GB",
            f"(no cache: built, {co['build']:.1f} s)",
            f"{co['build'] / m['read']['seconds']:.1f}x",
            _met(m["read"]["seconds"] <= 3) if whole else "(quick)",
        ),
    ]
    stats = m.get("stats")
    if stats:
        rows.append(
            (
                "`laotie graph` statistics",
                "≤ 5 s, ≤ 0.5 GB above the graph",
                f"{stats['new']['seconds']:.1f} s, {stats['new']['above_gb']:.2f} GB",
                f"{stats['old']['seconds']:.1f} s, {stats['old']['above_gb']:.2f} GB",
                f"{stats['old']['seconds'] / stats['new']['seconds']:.1f}x",
                _met(stats["new"]["seconds"] <= 5 and stats["new"]["above_gb"] <= 0.5)
                if whole
                else "(quick)",
            )
        )
    s1, s2, n2 = m["sweep_old_1"], m["sweep_old_2"], m["sweep_new_2"]

    def per_hour(s: dict[str, Any]) -> float:
        """Run-years per hour: simulated years (runs x days / 365) per hour of wall time."""
        return 3600 * s["ok"] * s["days"] / 365 / s["seconds"]

    # The outcomes both codes report (this code may report more), run for run.
    same = all(
        s1["outcomes"][k] == n2["outcomes"][k] for k in s1["outcomes"] if k in n2["outcomes"]
    )
    rows.append(
        (
            f"run-years per hour, 5 % scale, sweep of {n2['runs']} runs, 2 workers",
            "≥ 2x",
            f"{per_hour(n2):,.0f} ({n2['ok']}/{n2['runs']} ok)",
            f"{per_hour(s2):,.0f} (serial {per_hour(s1):,.0f})",
            f"{per_hour(n2) / per_hour(s2):.2f}x",
            _met(per_hour(n2) >= 2 * per_hour(s2)),
        )
    )
    c2, n2c = m["calibrated_old_2"], m["calibrated_new_2"]
    rows.append(
        (
            f"run-years per hour, calibrated scenario, 5 % scale, {n2c['runs']} runs × "
            f"{n2c['days']} days, 2 workers",
            "≥ 2x",
            f"{per_hour(n2c):,.0f} ({n2c['ok']}/{n2c['runs']} ok)",
            f"{per_hour(c2):,.0f}",
            f"{per_hour(n2c) / per_hour(c2):.2f}x",
            _met(per_hour(n2c) >= 2 * per_hour(c2)),
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines.append("")
    lines.append(
        "The sweep's outcomes "
        + (
            "equal the baseline's serial runs, run for run (the outcomes both report)."
            if same
            else "differ from the baseline's serial runs (the code changed the random "
            "numbers drawn: same distributions, other draws)."
        )
    )
    sizes = m["sizes"]
    lines += [
        "",
        "Time per day against the city's size (this code, one engine, after 10 days):",
        "",
        "| residents | ms per day |",
        "|---|---|",
        *[f"| {r['residents']:,} | {r['ms_per_day']:.1f} |" for r in sizes],
        "",
        f"Exponent of a log-log fit: {_exponent(sizes):.2f} (goal ≤ 1.1: "
        f"{_met(_exponent(sizes) <= 1.1)}).",
    ]
    return "\n".join(lines)


def write_docs(text: str, m: dict[str, Any]) -> None:
    """Replace the block between the markers of docs/performance.md with ``text``."""
    doc = DOC.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{DOC}: the markers {START} and {END} are missing")
    head = (
        f"`python -m benchmarks.user_speed{' --quick' if m['quick'] else ''} --write-docs` "
        f"({datetime.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; baseline {m['baseline']} in a temporary worktree, "
        "each row a fresh process):"
    )
    before, rest = doc.split(START, 1)
    _, after = rest.split(END, 1)
    DOC.write_text(f"{before}{START}\n{head}\n\n{text}\n{END}{after}", encoding="utf-8")


def run(quick: bool = False, baseline: str = BASELINE, docs: bool = False) -> dict[str, Any]:
    """Measure, print the tables (and write them into the docs on request)."""
    m = measure(quick, baseline)
    text = tables(m)
    print(text)
    if docs:
        write_docs(text, m)
        print(f"wrote {DOC.relative_to(ROOT)}")
    return m


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.user_speed", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the city")
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    run(args.quick, args.baseline, args.write_docs)


if __name__ == "__main__":
    main()
