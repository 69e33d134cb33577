"""Policy design (燎原-style training): which of the poverty county's creators should a
programme train, and how much more net income reaches poor producers than training the
most-followed ones?

The county's city graph is built once (seed :data:`SEED`); its heads and local creators are
the candidates. :func:`laotie.policy.shortlist` screens them by cheap proxies (every
heuristic's set at the largest budget, then the most followed), and
:func:`laotie.policy.greedy` chooses, creator by creator up to the largest budget, the one
whose training adds most to poor producers' net income change (``producer_net_total``, their
accounts, docs/model.md 3.5), every gain a paired difference over the *select* phase's
replications (common random numbers), with lazy re-evaluation (CELF), a 95 % interval and
``p_best`` for each pick. With unit costs the greedy set of ``b`` creators is the first ``b``
picks, so one search gives the optimised set of every budget.

**Chosen at one parameter value, judged over the posterior.** The selection runs at the
posterior medians of ``mudanjiang_calibrated``'s platform-level parameters (:data:`TRANSFERRED`,
carried over to the county as in ``experiments/poverty_alleviation.py``); the comparison runs
every policy of every budget (the optimised set and the heuristics a planner would use
instead: most followers, most rural, random, equal per region; and no training) over
``draws`` posterior draws × ``fresh`` replications of the *evaluate* phase, none of which
chose anything (:func:`fresh_seed`: seeds disjoint from the selection's), so the optimised
set's advantage is not the winner's curse of the replications that picked it, and it is
judged under the parameters' uncertainty as well as chance. Slot ``d × fresh + r`` of every
policy shares its draw and its random streams: differences between policies are paired.

Intervals: for a policy's gain over no training, a 95 % predictive interval for one new run
(over draws and chance) and the expected gain over the posterior with its 95 % t interval over
the draws (``D − 1`` degrees of freedom); for the difference between two policies, the
expected difference with the same t interval. The answer says the optimised set *beats* a
heuristic only when that interval lies above 0; otherwise the page reports an honest null.

Evaluations are stored as they finish (``select/`` and ``evaluate/draw-NN/``, as ``laotie
optimise`` stores them), so an interrupted run resumes where it stopped.

Run ``python experiments/policy_design.py [--quick] [--out DIR] [--workers N] [--page DIR]``.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from laotie import Scenario
from laotie.errors import LaotieError
from laotie.executors import Executor
from laotie.experiment import (
    Headline,
    Report,
    describe_interval,
    describe_interval_zh,
    expected_columns,
    held_changes,
    preset,
    save_figure,
    uncertainty_columns,
)
from laotie.graph import TrustGraph, city
from laotie.policy import (
    HEURISTICS,
    Selection,
    Stored,
    TrainingProgramme,
    greedy,
    heuristic_sets,
    phase_seed,
    shortlist,
)
from laotie.policy.run import claim
from laotie.posterior import PLATFORM_KEYS, load_posterior

NAME = "policy_design"
QUESTION = (
    "Which of the poverty county's creators should a 燎原-style programme train, and how much "
    "more net income reaches poor producers than training the most-followed ones?"
)
SEED = 20180927
SCENARIO = "poverty_county"
POSTERIOR = "mudanjiang_calibrated"
TRANSFERRED = list(PLATFORM_KEYS)
"""The platform-level parameters carried over from Mudanjiang's posterior (as in the other
county experiments: laotie.posterior.PLATFORM_KEYS)."""
TRAINING_DAY = 30
DAYS = 90
OBJECTIVE = "producer_net_total"
BASELINE = "most followers"
"""The heuristic the question compares with: training the most-followed creators."""
POLICIES = ["optimised", *HEURISTICS]
"""The policies compared at every budget (besides no training)."""
NO_AUDIT = (
    "the policy_design page has no Sobol audit: each audit sample would have to repeat the "
    "whole search; its comparison is judged over the posterior's draws instead, and the "
    "assumed training effects are named on the page"
)
"""Why ``laotie audit policy_design`` has nothing to run."""
PAGE_SOURCES = ("policy",)
"""Besides laotie.experiment.PAGE_SOURCES, the page comes from laotie/policy/ (the short
list, the greedy search, the stored evaluations, the comparison), which the model's
fingerprint leaves out: a change there makes the page stale."""


def settings(quick: bool) -> dict[str, Any]:
    """Scale, days, budgets, the selection's replications, short list, contenders and batch,
    and the comparison's posterior draws × fresh replications."""
    if quick:
        return {
            "scale": 0.05,
            "days": 40,
            "budgets": [1, 2],
            "replications": 3,
            "shortlist": 6,
            "contenders": 1,
            "batch": 1,
            "draws": 2,
            "fresh": 2,
        }
    return {
        "scale": 0.25,
        "days": DAYS,
        "budgets": [5, 10, 20],
        "replications": 8,
        "shortlist": 30,
        "contenders": 2,
        "batch": 2,
        "draws": 16,
        "fresh": 4,
    }


def base(scale: float) -> Scenario:
    """The county at ``scale`` with its producers scaled alike, targeted training on
    TRAINING_DAY (the policy says whom)."""
    county = preset(SCENARIO)
    return preset(
        SCENARIO,
        scale=scale,
        **{
            "producers.n_producers": max(1, round(county.producers.n_producers * scale)),
            "training.rule": "targeted",
            "training.day": TRAINING_DAY,
        },
    )


def check_changes() -> None:
    """Refuse ``--set`` changes to what the experiment varies or decides itself."""
    decided = {key: "every comparison run takes it from a posterior draw" for key in TRANSFERRED}
    decided["run.seed"] = "the selection's and the comparison's seeds come from the experiment"
    decided["run.days"] = "the experiment runs its own days"
    for key in held_changes():
        if key in decided:
            raise LaotieError(
                f"--set {key}: {decided[key]}, so the change could not hold in every run; "
                "--set changes only parameters the experiment leaves alone"
            )


def medians() -> dict[str, Any]:
    """The carried-over parameters at the posterior medians: where the selection runs."""
    flat = load_posterior(POSTERIOR).scenario.flat()
    return {key: flat[key] for key in TRANSFERRED}


def fresh_seed(draw: int) -> int:
    """The seed of the comparison's replications under posterior draw ``draw``: a child of
    the *evaluate* phase's seed (:func:`laotie.policy.phase_seed`), so never a seed of the
    selection."""
    sequence = np.random.SeedSequence(phase_seed(SEED, "evaluate"), spawn_key=(int(draw),))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _stored(
    programme: TrainingProgramme, folder: Path, scenario: Scenario, mode: dict[str, Any]
) -> Stored:
    """``programme``'s evaluations kept in ``folder`` (claimed for this scenario and mode)."""
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "experiment": NAME,
        "scenario": scenario.to_dict(),
        "graph_seed": SEED,
        "days": mode["days"],
        "objective": OBJECTIVE,
    }
    claim(folder, record, what="evaluation")
    return Stored(programme, folder / "evaluations")


def select(
    county: Scenario, graph: TrustGraph, mode: dict[str, Any], out: Path, executor: Executor
) -> tuple[pd.DataFrame, list[Hashable], Selection, float]:
    """The candidates, the short list and the greedy selection up to the largest budget at the
    posterior medians, with the selection's wall time in seconds."""
    scenario = county.replace(**medians())
    programme = TrainingProgramme(scenario, graph, OBJECTIVE, days=mode["days"], executor=executor)
    candidates = programme.candidates()
    budget = max(mode["budgets"])
    listed = shortlist(candidates, budget, mode["shortlist"], SEED)
    start = time.perf_counter()
    selection = greedy(
        listed,
        _stored(programme, out / "select", scenario, mode),
        budget=budget,
        seed=phase_seed(SEED, "select"),
        replications=mode["replications"],
        contenders=mode["contenders"],
        batch=mode["batch"],
        stop=False,
    )
    return candidates, listed, selection, time.perf_counter() - start


def policies(
    candidates: pd.DataFrame, chosen: list[Hashable], budgets: list[int]
) -> dict[tuple[int, str], tuple[Hashable, ...]]:
    """Every policy's creators at every budget: the first ``b`` greedy picks and each
    heuristic's set of ``b``."""
    sets: dict[tuple[int, str], tuple[Hashable, ...]] = {}
    for b in budgets:
        sets[(b, "optimised")] = tuple(chosen[:b])
        for name, targets in heuristic_sets(candidates, b, SEED).items():
            sets[(b, name)] = tuple(targets)
    return sets


def compare_over_draws(
    county: Scenario,
    graph: TrustGraph,
    sets: dict[tuple[int, str], tuple[Hashable, ...]],
    mode: dict[str, Any],
    out: Path,
    executor: Executor,
) -> pd.DataFrame:
    """The objective of no training and of every policy, one row per slot (draw × fresh
    replication), one column per distinct set (:func:`label`), paired by slot."""
    distinct = sorted({tuple(sorted(s)) for s in sets.values()} | {()}, key=lambda s: (len(s), s))
    draws = load_posterior(POSTERIOR).draws(mode["draws"], seed=SEED, keys=TRANSFERRED)
    rows = []
    for d, draw in enumerate(draws):
        scenario = county.replace(**draw)
        programme = TrainingProgramme(
            scenario, graph, OBJECTIVE, days=mode["days"], executor=executor
        )
        store = _stored(programme, out / "evaluate" / f"draw-{d:02d}", scenario, mode)
        values = store(distinct, fresh_seed(d), mode["fresh"])
        rows.append(pd.DataFrame(values.T, columns=[label(s) for s in distinct]))
    frame = pd.concat(rows, ignore_index=True)
    frame.index.name = "slot"
    return frame


def label(targets: tuple[Hashable, ...]) -> str:
    """A set's column in the comparison's values: its creators' ids, sorted ("none": empty)."""
    return " ".join(str(t) for t in sorted(targets)) or "none"


def _column(values: pd.DataFrame, targets: tuple[Hashable, ...]) -> pd.Series:
    return values[label(targets)]


def comparison_table(
    values: pd.DataFrame, sets: dict[tuple[int, str], tuple[Hashable, ...]], fresh: int
) -> pd.DataFrame:
    """Per budget and policy: the gain over no training (95 % predictive interval and
    expected gain with its confidence interval over the draws), and the expected difference
    from training the most followed and from the best heuristic at that budget."""
    draws = np.asarray(values.index, dtype=int) // fresh
    none = _column(values, ())
    rows = []
    for b in sorted({b for b, _ in sets}):
        gains = {name: _column(values, sets[(b, name)]) - none for name in POLICIES}
        best = max(HEURISTICS, key=lambda name: float(gains[name].mean()))
        for name in POLICIES:
            gain = gains[name]
            rows.append(
                {
                    "budget": b,
                    "policy": name,
                    "creators": len(sets[(b, name)]),
                    **uncertainty_columns(gain.to_numpy(float), draws, "gain", "linear"),
                    **expected_columns(gain.to_numpy(float), draws, "expected_gain"),
                    **expected_columns(
                        (gain - gains[BASELINE]).to_numpy(float), draws, "vs_most_followers"
                    ),
                    "best_heuristic": best,
                    **expected_columns(
                        (gain - gains[best]).to_numpy(float), draws, "vs_best_heuristic"
                    ),
                }
            )
    return pd.DataFrame(rows)


def no_training(values: pd.DataFrame, fresh: int) -> dict[str, float]:
    """Poor producers' net income change without training, over draws × replications."""
    draws = np.asarray(values.index, dtype=int) // fresh
    return uncertainty_columns(_column(values, ()).to_numpy(float), draws, "none", "linear")


def steps_table(selection: Selection, candidates: pd.DataFrame) -> pd.DataFrame:
    """Each pick of the search with its creator's proxies."""
    steps = selection.steps.copy()
    about = candidates.loc[steps["target"], ["kind", "followers", "rural", "region"]]
    for column in about:
        steps[column] = about[column].to_numpy()
    order = ["step", "target", "kind", "followers", "rural", "region"]
    return steps[order + [c for c in steps.columns if c not in order]]


def sets_table(
    sets: dict[tuple[int, str], tuple[Hashable, ...]], candidates: pd.DataFrame
) -> pd.DataFrame:
    """Per budget and policy: its creators and what they look like by the proxies."""
    rows = []
    for (b, name), targets in sets.items():
        chosen = candidates.loc[list(targets)]
        optimised = set(sets[(b, "optimised")])
        rows.append(
            {
                "budget": b,
                "policy": name,
                "creators": label(targets),
                "heads": int((chosen["kind"] == "head").sum()),
                "median_followers": float(chosen["followers"].median()),
                "rural_share": float(chosen["rural"].mean()),
                "regions": int(chosen["region"].nunique()),
                "shared_with_optimised": len(optimised & set(targets)),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- words
def _rmb(row: pd.Series, column: str) -> str:
    return describe_interval(row, column, "+,.0f")


def _rmb_zh(row: pd.Series, column: str) -> str:
    return describe_interval_zh(row, column, "+,.0f")


def verdict(row: pd.Series, column: str, other: str, other_zh: str) -> tuple[str, str]:
    """Whether the optimised set beats ``other``, by the expected difference's interval."""
    if row[f"{column}_low"] > 0:
        return f"clearly more than {other}", f"明显多于{other_zh}"
    if row[f"{column}_high"] < 0:
        return f"clearly less than {other}", f"明显少于{other_zh}"
    return (
        f"not distinguishable from {other}: the interval contains 0, an honest null",
        f"与{other_zh}无法区分：区间包含 0，如实报告的零结果",
    )


_ZH = {
    "most followers": "培训粉丝最多的达人",
    "most rural": "培训最偏远（农村）的达人",
    "random": "随机培训",
    "equal per region": "各乡镇平均分配",
    "optimised": "优化选出的名单",
}


def _zh(name: str) -> str:
    return next((zh for en, zh in _ZH.items() if name.endswith(en)), name)


def headlines(table: pd.DataFrame, none: dict[str, float], budget: int) -> list[Headline]:
    rows = table[table["budget"] == budget].set_index("policy")
    optimised = rows.loc["optimised"]
    basis = (
        f"{budget} creators trained on day {TRAINING_DAY}, chosen at the posterior medians, "
        "judged on fresh replications over posterior draws; the training's effects assumed"
    )
    return [
        Headline(
            "poor producers' net income change without training (RMB)",
            describe_interval(pd.Series(none), "none", ",.0f"),
            "predicted",
            "out of sample: the county is not calibrated; Mudanjiang's platform parameters "
            "carried over (an assumption); producers' accounts assumed",
        ),
        Headline(
            f"expected net income gained by the optimised {budget} (RMB)",
            _rmb(optimised, "expected_gain"),
            "counterfactual",
            basis + "; optimised − no training, paired",
        ),
        Headline(
            f"optimised {budget} − the {budget} most followed, expected (RMB)",
            _rmb(optimised, "vs_most_followers"),
            "counterfactual",
            basis + "; paired",
        ),
        Headline(
            f"optimised {budget} − the best heuristic ({optimised['best_heuristic']}), "
            "expected (RMB)",
            _rmb(optimised, "vs_best_heuristic"),
            "counterfactual",
            basis + "; paired; the best heuristic chosen on the same replications (favours it)",
        ),
    ]


def describe_choice(sets: pd.DataFrame, budget: int) -> tuple[str, str]:
    """What the optimised set looks like beside the most-followed set."""
    rows = sets[sets["budget"] == budget].set_index("policy")
    mine, top = rows.loc["optimised"], rows.loc[BASELINE]
    english = (
        f"The search picks {budget} creators ({mine['heads']} head account"
        f"{'' if mine['heads'] == 1 else 's'}) with a median "
        f"of {mine['median_followers']:,.0f} followers, {mine['rural_share']:.0%} living in "
        f"rural areas, across {mine['regions']} townships; the {budget} most followed have a "
        f"median of {top['median_followers']:,.0f}, {top['rural_share']:.0%} rural, and share "
        f"{top['shared_with_optimised']} creators with it."
    )
    chinese = (
        f"搜索选出的 {budget} 名达人（其中头部账号 {mine['heads']} 个）粉丝数中位数为 "
        f"{mine['median_followers']:,.0f}，{mine['rural_share']:.0%} 住在农村，分布在 "
        f"{mine['regions']} 个乡镇；粉丝最多的 {budget} 人粉丝中位数为 "
        f"{top['median_followers']:,.0f}，{top['rural_share']:.0%} 住在农村，两份名单重合 "
        f"{top['shared_with_optimised']} 人。"
    )
    return english, chinese


def answers(
    table: pd.DataFrame, sets: pd.DataFrame, budget: int, mode: dict[str, Any]
) -> tuple[list[str], list[str]]:
    optimised = table[(table["budget"] == budget) & (table["policy"] == "optimised")].iloc[0]
    best = str(optimised["best_heuristic"])
    versus_top, versus_top_zh = verdict(
        optimised, "vs_most_followers", f"training the {budget} most followed", _zh(BASELINE)
    )
    versus_best, versus_best_zh = verdict(
        optimised, "vs_best_heuristic", f"the rule '{best}'", _zh(best)
    )
    choice, choice_zh = describe_choice(sets, budget)
    english = [
        choice,
        f"Trained on day {TRAINING_DAY}, they add on average {_rmb(optimised, 'expected_gain')} "
        f"RMB to poor producers' net income over {mode['days']} days; that is "
        f"{_rmb(optimised, 'vs_most_followers')} RMB against training the {budget} most "
        f"followed ({versus_top}) and {_rmb(optimised, 'vs_best_heuristic')} RMB against the "
        f"best rule of thumb, '{best}' ({versus_best}).",
        f"Chosen at the posterior medians on {mode['replications']} replications, judged on "
        f"{mode['draws']} posterior draws × {mode['fresh']} fresh replications that chose "
        "nothing; the training's effects and the county's parameters are assumed, so the "
        "ranking is a property of the model, not yet a finding about the county.",
    ]
    chinese = [
        choice_zh,
        f"第 {TRAINING_DAY} 天培训这些达人，{mode['days']} 天内贫困户净收入平均增加"
        f"{_rmb_zh(optimised, 'expected_gain')} 元；比培训粉丝最多的 {budget} 人多"
        f"{_rmb_zh(optimised, 'vs_most_followers')} 元（{versus_top_zh}），比最好的经验规则"
        f"（{_zh(best)}）多{_rmb_zh(optimised, 'vs_best_heuristic')} 元（{versus_best_zh}）。",
        f"名单在后验中位数下用 {mode['replications']} 次重复选出，再在 {mode['draws']} 个后验"
        f"抽样 × {mode['fresh']} 次未参与选择的新重复上评估；培训效果和县里的参数是假设值，"
        "这个排序是模型的性质，还不是关于该县的结论。",
    ]
    return english, chinese


def findings(
    table: pd.DataFrame,
    steps: pd.DataFrame,
    selection: Selection,
    listed: list[Hashable],
    n_candidates: int,
    seconds: float,
) -> list[str]:
    out = []
    for b in sorted(table["budget"].unique()):
        rows = table[table["budget"] == b].set_index("policy")
        mine = rows.loc["optimised"]
        words = "; ".join(f"{name} {rows.at[name, 'expected_gain']:+,.0f}" for name in POLICIES)
        out.append(
            f"Budget {b}: expected gain over no training (RMB) {words}; optimised − most "
            f"followers {_rmb(mine, 'vs_most_followers')}, − best heuristic "
            f"({mine['best_heuristic']}) {_rmb(mine, 'vs_best_heuristic')}."
        )
    sure = steps["p_best"].dropna()
    if len(sure):
        doubtful = int((sure < 0.5).sum())
        out.append(
            f"How sure each pick is: p_best has median {sure.median():.2f} (lowest "
            f"{sure.min():.2f}) over {len(sure)} steps; "
            + (
                f"{doubtful} picks are less likely than not to beat their contenders: the "
                "order of those picks rests on chance more than on the model."
                if doubtful
                else "every pick is more likely than not to beat its contenders."
            )
        )
    out.append(
        f"The simulation judged {len(listed)} of the county's {n_candidates} candidate "
        f"creators (the short list) with {selection.evaluations} set evaluations in all (the "
        "first step evaluates the whole short list, later steps few, lazily); "
        f"selection wall time in this run {seconds:,.0f} s (near 0 when its evaluations were "
        "stored by an earlier run)."
    )
    return out


def method(mode: dict[str, Any]) -> str:
    budgets = ", ".join(map(str, mode["budgets"]))
    return f"""
`poverty_county` (`experiments/policy_design.py`) at {mode["scale"]:.0%} of its residents, its
poor producers scaled alike, {mode["days"]} days, one city graph (seed {SEED}); the candidates
are its heads and local creators. Objective: poor producers' net income change over the run
(`{OBJECTIVE}`).

1. **Screen.** The short list holds every heuristic's set at the largest budget, then the
   most followed up to {mode["shortlist"]} creators (`laotie.policy.shortlist`; more when the
   heuristics' sets together are more: the findings give its length).
2. **Select** at the posterior medians of `{POSTERIOR}`'s {len(TRANSFERRED)} platform-level
   parameters: greedy selection with lazy re-evaluation (CELF, `laotie.policy.greedy`) up to
   {max(mode["budgets"])} creators, each candidate's gain the mean paired difference over
   {mode["replications"]} replications of the *select* phase (common random numbers), the
   pick and {mode["contenders"]} contenders evaluated afresh at every step for `p_best`
   (a paired bootstrap), {mode["batch"]} stale candidates evaluated at once. With unit costs
   the optimised set of a budget b is the first b picks.
3. **Compare** at budgets {budgets}: the optimised set, the heuristics' sets (most
   followers, most rural, random, equal per region) and no training, on
   {mode["draws"]} posterior draws × {mode["fresh"]} replications each, whose seeds are
   children of the *evaluate* phase's seed and never the selection's. Gains over no training
   get a 95 % predictive interval for one run (`laotie.stats.decompose`) and the expected
   gain a 95 % t interval over the draws; differences between policies are paired slot by
   slot, their expected value with the same t interval. "Best heuristic" is the heuristic of
   largest mean gain on these replications (which favours it a little).

No Sobol audit: each sample would repeat the whole search (`NO_AUDIT`).
"""


def run(*, quick: bool, out: Path, executor: Executor) -> Report:
    """Screen, select at the posterior medians, compare over the posterior; tabulate, plot."""
    check_changes()
    mode = settings(quick)
    county = base(mode["scale"])
    graph = city(county.city, seed=SEED)
    budgets: list[int] = mode["budgets"]
    with executor:  # one pool of workers for the search and the comparison
        candidates, listed, selection, seconds = select(county, graph, mode, out, executor)
        sets = policies(candidates, selection.chosen, budgets)
        values = compare_over_draws(county, graph, sets, mode, out, executor)
    table = comparison_table(values, sets, mode["fresh"])
    steps = steps_table(selection, candidates)
    chosen = sets_table(sets, candidates)
    none = no_training(values, mode["fresh"])
    top = max(budgets)
    english, chinese = answers(table, chosen, top, mode)
    t = county.training
    return Report(
        name=NAME,
        question=QUESTION,
        tables={"comparison": table, "steps": steps, "sets": chosen},
        figures=[_plot(table, steps, out / "figures")],
        findings=findings(table, steps, selection, listed, len(candidates), seconds),
        assumptions=[
            f"Scenario {SCENARIO!r} at {mode['scale']:.0%} of its residents "
            f"({county.city.n_residents:,}, {county.producers.n_producers} poor producers, "
            f"{len(candidates)} candidate creators), {mode['days']} days, seed {SEED}.",
            f"Carried over, not calibrated on the county: {POSTERIOR}'s platform-level "
            f"parameters ({', '.join(TRANSFERRED)}), at their medians while choosing and one "
            "posterior draw per comparison slot; the county keeps its own trust-graph shape "
            "and prices.",
            f"Training (assumed): each trained creator gains authenticity "
            f"+{t.authenticity_gain}, content quality +{t.content_quality_gain} and up to "
            f"{t.follower_gain} new followers on day {TRAINING_DAY} (docs/model.md 3.5); every "
            "creator costs the same (1), so the budget is a number of creators.",
            "The planner knows each creator's followers, home region and whether they live in "
            "a rural area (the heuristics' proxies) and can train exactly the creators chosen.",
        ],
        answer=english,
        answer_zh=chinese,
        headlines=headlines(table, none, top),
        method=method(mode),
    )


def _plot(table: pd.DataFrame, steps: pd.DataFrame, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    offsets = np.linspace(-0.25, 0.25, len(POLICIES))
    budgets = sorted(table["budget"].unique())
    for offset, name in zip(offsets, POLICIES, strict=True):
        rows = table[table["policy"] == name].sort_values("budget")
        y = rows["expected_gain"].to_numpy(float)
        err = np.vstack(
            [
                y - rows["expected_gain_low"].to_numpy(float),
                rows["expected_gain_high"].to_numpy(float) - y,
            ]
        )
        x = np.arange(len(budgets)) + offset
        ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label=name)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(budgets)), [str(b) for b in budgets])
    ax.set_xlabel("creators trained (budget)")
    ax.set_title(
        "poor producers' net income gain over no training\n(RMB, expected, 95 % CI over draws)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.bar(steps["step"], steps["p_best"].fillna(0), color="tab:orange")
    ax.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, 1)
    ax.set_xlabel("pick (step of the greedy search)")
    ax.set_title("p_best: probability the pick beats its contenders", fontsize=9)
    fig.tight_layout()
    path = folder / f"{NAME}_budgets.png"
    save_figure(fig, path)
    return path


if __name__ == "__main__":
    from laotie.experiment import main

    raise SystemExit(main(name=NAME))
