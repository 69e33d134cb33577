"""Distance from the machine's limit (issue #8, goal 5): memory bandwidth and a day's bytes.

Bandwidth: STREAM-like copy (``b[:] = a``) and triad (``a = b + s * c``) with numpy on float64
arrays far larger than the caches, best of several runs, counted the STREAM way (copy 16 and
triad 24 bytes per element; numpy's triad makes two passes, so it moves more than it is
credited with, and write-allocate traffic is not counted either: the figure is conservative
for the triad and optimistic for nothing).

A day's bytes: a real engine day is instrumented. The engine reads ties in two places, the
rows of the posting creators' followers (the follow rule) and the rows of the live
recommenders' listeners (the word-of-mouth rule); the entries of those rows are counted over
several days, as each rule is called, and charged at the bytes of their arrays (followers:
int32 user, float32 trust, int8 memory = 9 bytes; listeners:
int32 listener, float32 trust, int8 memory, bool kin = 10 bytes). To that is added one pass
over every one-dimensional per-resident and per-user state array of the engine (their sizes,
read from the engine; the government-message state is left out, as messages are off by
default). This is the traffic the day cannot avoid; the exposures, decisions and temporaries
the engine builds on top are not counted, so the time at bandwidth is a lower bound.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._child import run_child

CHILD = """
import json, time
import numpy as np
import laotie.engine.engine as conductor
from laotie import Engine, Scenario, graph
scenario = Scenario.preset("mudanjiang", scale={scale!r})
g = graph.city(scenario.city, seed=1)
engine = Engine(g, scenario, seed=2, threads=1)
for _ in range(5):
    engine.step()
counts = {{"follow": 0, "listen": 0}}
follow_exposures, word_of_mouth = conductor.follow_exposures, conductor.word_of_mouth_exposures
def rows(indptr, at):
    return int((indptr[at + 1] - indptr[at]).sum())
def counted_follow(market, today, posts, *args):
    counts["follow"] += rows(market.follows.indptr, market.creator_node[posts.posting])
    return follow_exposures(market, today, posts, *args)
def counted_word_of_mouth(recommendations, day, market, today, stream, params):
    live = recommendations.live(day, params.days).user % market.layout.nodes
    counts["listen"] += rows(market.listeners.indptr, live)
    return word_of_mouth(recommendations, day, market, today, stream, params)
conductor.follow_exposures = counted_follow
conductor.word_of_mouth_exposures = counted_word_of_mouth
start = time.perf_counter()
for _ in range({days!r}):
    engine.step()
seconds = time.perf_counter() - start
n, users = g.n_nodes, int(g.user.sum())
state = 0
seen = set()
def walk(obj, depth):
    global state
    if id(obj) in seen or depth > 3:
        return
    seen.add(id(obj))
    for value in getattr(obj, "__dict__", {{}}).values():
        if isinstance(value, np.ndarray) and value.shape in ((n,), (users,)):
            state += value.nbytes
        elif (type(value).__module__.startswith("laotie") and hasattr(value, "__dict__")
              and value is not engine.information):
            walk(value, depth + 1)
walk(engine, 0)
print(json.dumps({{
    "residents": n, "follow_entries": counts["follow"] / {days!r},
    "listen_entries": counts["listen"] / {days!r}, "state_bytes": state,
    "ms_per_day_instrumented": 1000 * seconds / {days!r},
}}))
"""


def stream(n_elements: int, repeat: int = 5) -> dict[str, float]:
    """Best-of-``repeat`` copy and triad bandwidth in GB/s (STREAM byte counts)."""
    a = np.ones(n_elements)
    b = np.full(n_elements, 2.0)
    c = np.full(n_elements, 0.5)
    copy, triad = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        np.copyto(b, a)
        copy.append(time.perf_counter() - start)
        start = time.perf_counter()
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)
        triad.append(time.perf_counter() - start)
    return {
        "copy_gbs": 16 * n_elements / min(copy) / 1e9,
        "triad_gbs": 24 * n_elements / min(triad) / 1e9,
        "array_mb": 8 * n_elements / 1e6,
    }


def day_bytes(scale: float, days: int) -> dict[str, Any]:
    """Instrument ``days`` engine days at ``scale`` in a fresh process; bytes per day."""
    r = run_child(CHILD.format(scale=scale, days=days))
    r["tie_bytes"] = 9 * r["follow_entries"] + 10 * r["listen_entries"]
    r["bytes"] = r["tie_bytes"] + r["state_bytes"]
    return r


def run(quick: bool = False, ms_per_day: float | None = None) -> dict[str, Any]:
    """Measure the bandwidth and a day's bytes; print them beside the measured day.

    The day is the whole city's (scale 0.1 with ``quick``); ``ms_per_day`` is its measured
    time per day from ``engine_year`` in the same run, at the same scale.
    """
    bw = stream(2**24 if quick else 2**26)
    print(
        f"memory bandwidth (numpy, {bw['array_mb']:.0f} MB arrays, best of 5): "
        f"copy {bw['copy_gbs']:.1f} GB/s, triad {bw['triad_gbs']:.1f} GB/s"
    )
    scale = 0.1 if quick else 1.0
    day = day_bytes(scale, 10)
    at_bandwidth_ms = 1000 * day["bytes"] / (bw["triad_gbs"] * 1e9)
    print(
        f"a day at scale {scale:g} ({day['residents']:,} residents): ties read "
        f"{day['tie_bytes'] / 1e6:,.0f} MB ({day['follow_entries'] / 1e6:.2f} M follower and "
        f"{day['listen_entries'] / 1e6:.2f} M listener entries), state "
        f"{day['state_bytes'] / 1e6:,.0f} MB; total {day['bytes'] / 1e6:,.0f} MB"
    )
    measured = "" if ms_per_day is None else f"; measured {ms_per_day:.1f} ms per day"
    ratio = "" if ms_per_day is None else f" ({ms_per_day / at_bandwidth_ms:.1f}x that)"
    print(f"time at triad bandwidth: {at_bandwidth_ms:.1f} ms per day{measured}{ratio}")
    return bw | {
        "day_bytes": day["bytes"],
        "at_bandwidth_ms": at_bandwidth_ms,
        "ms_per_day": ms_per_day,
        "scale": scale,
        "ms_per_day_instrumented": day["ms_per_day_instrumented"],
    }
