"""Policy design's cost (issue #24): a selection of 20 creators among the poverty county's
candidates, by greedy selection with lazy re-evaluation (CELF) over simulated paired gains.

    python -m benchmarks.policy_selection              # 25 % of the county, 90 days
    python -m benchmarks.policy_selection --quick      # 5 % of the county, 40 days, 5 picks
    python -m benchmarks.policy_selection --own-only   # without the calibrated parameters

Goal: 20 creators chosen in ≤ 10 minutes on this machine. Measured side by side: the county
with its own parameters on one and on two worker processes (one pool kept for the whole
search; the same set chosen), and on two workers with Mudanjiang's calibrated platform
parameters at the posterior medians
(what ``experiments/policy_design.py`` chooses with; its storefronts show each active user
about 125 impressions a day instead of 1, of which only the clicked ones are drawn whole).
The baseline is plain greedy selection, which evaluates every candidate left at every step:
the ratio of its evaluations to CELF's is CELF's saving (plain greedy's count is exact, not
simulated).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

SETTINGS = {
    "full": {"scale": 0.25, "days": 90, "budget": 20, "replications": 4, "shortlist": 30},
    "quick": {"scale": 0.05, "days": 40, "budget": 5, "replications": 4, "shortlist": 10},
}


def _experiment() -> Any:
    """The policy_design experiment's module (its county, seed and posterior medians)."""
    folder = Path(__file__).resolve().parents[1] / "experiments"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    import policy_design

    return policy_design


def plain_greedy_evaluations(candidates: int, budget: int) -> int:
    """Sets plain greedy evaluates: the empty set, then every candidate left at each step."""
    return 1 + sum(candidates - k for k in range(min(budget, candidates)))


def measure(setting: dict[str, Any], calibrated: bool, workers: int) -> dict[str, Any]:
    """One selection, timed: wall seconds, sets evaluated, the short list's length."""
    from laotie.executors import executor_for
    from laotie.graph import city
    from laotie.policy import TrainingProgramme, greedy, phase_seed, shortlist

    design = _experiment()
    county = design.base(setting["scale"]).replace(**{"training.day": 30})
    scenario = county.replace(**design.medians()) if calibrated else county
    graph = city(scenario.city, seed=design.SEED)
    executor = executor_for(workers)
    programme = TrainingProgramme(
        scenario, graph, design.OBJECTIVE, days=setting["days"], executor=executor
    )
    candidates = programme.candidates()
    listed = shortlist(candidates, setting["budget"], setting["shortlist"], design.SEED)
    start = time.perf_counter()
    with executor:
        selection = greedy(
            listed,
            programme,
            budget=setting["budget"],
            seed=phase_seed(design.SEED, "select"),
            replications=setting["replications"],
            contenders=2,
            batch=2,
            stop=False,
        )
    seconds = time.perf_counter() - start
    return {
        "parameters": "calibrated medians" if calibrated else "county's own",
        "workers": workers,
        "candidates": len(candidates),
        "shortlist": len(listed),
        "seconds": seconds,
        "evaluations": selection.evaluations,
        "plain": plain_greedy_evaluations(len(listed), setting["budget"]),
        "chosen": selection.chosen,
    }


def run(quick: bool = False, calibrated: bool = True) -> list[dict[str, Any]]:
    """Measure every setting side by side and print them with the goal and CELF's saving
    (``calibrated=False``: the county's own parameters only)."""
    setting = SETTINGS["quick" if quick else "full"]
    print(
        f"poverty_county at {setting['scale']:.0%}, {setting['days']} days, "
        f"{setting['budget']} creators, {setting['replications']} replications per set"
    )
    print(
        f"{'parameters':<20} {'workers':>7} {'candidates':>10} {'short list':>10} "
        f"{'seconds':>8} {'sets (CELF)':>11} {'sets (plain)':>12} {'saving':>7} {'≤ 600 s':>7}"
    )
    rows = []
    tried = [(False, (1, 2))] + ([(True, (2,))] if calibrated else [])
    for at_medians, workers_tried in tried:
        for workers in workers_tried:
            r = measure(setting, at_medians, workers)
            rows.append(r)
            print(
                f"{r['parameters']:<20} {r['workers']:>7} {r['candidates']:>10} "
                f"{r['shortlist']:>10} {r['seconds']:>8.1f} {r['evaluations']:>11} "
                f"{r['plain']:>12} {r['plain'] / r['evaluations']:>6.1f}x "
                f"{'yes' if r['seconds'] <= 600 else 'NO':>7}"
            )
        if len(workers_tried) == 2:
            one, two = rows[-2:]
            assert one["chosen"] == two["chosen"], "one worker and two chose different sets"
            print(f"  two workers / one: {two['seconds'] / one['seconds']:.2f}x the time, same set")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.policy_selection", description=__doc__
    )
    parser.add_argument("--quick", action="store_true", help="5 %% of the county, 5 picks")
    parser.add_argument(
        "--own-only",
        action="store_true",
        help="the county's own parameters only (the calibrated row adds about two minutes)",
    )
    args = parser.parse_args()
    run(args.quick, calibrated=not args.own_only)


if __name__ == "__main__":
    main()
