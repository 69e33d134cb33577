"""Known results the engine must reproduce in its limits: the Bass model and the cascade.

Both tests set the parameters so that every rule of docs/model.md sections 3.4–3.5 that is not
under test is switched off or made certain, derive from the documented rules the exact
probability law the engine must follow, and compare the mean over many fixed seeds with the
law within four standard errors of the Monte Carlo mean. No other slack is added: where a
comparison target is an approximation (the mean-field Bass recursion), its deterministic gap
from the exact expectation is computed and asserted to be small first.

How each limit is reached through the documented rules:

* **Activity certain.** ``activity_mean`` is declared open below 1, so it cannot be 1. With
  mean ``1 - 1e-15`` and the largest allowed concentration ``1e6`` the Beta shapes are
  ``(1e6, 1e-9)``: ``1 - p_i`` has mean 1e-15, far below the float32 spacing just under 1
  (6e-8), so every ``p_i`` is stored as exactly 1.0 (asserted for every run) and
  ``random() < 1.0`` always holds: every user is active every day, with no residual to
  account for.
* **Satisfaction certain.** ``quality_noise = 0`` and ``tolerance = 1``: the experienced
  quality is ``x = q >= 0 >= Q - 1`` for any promise ``Q <= 1``, so every order satisfies and
  recommends (asserted: recommendations = buyers).
* **Known conversion.** ``quality_weight = price_weight = repeat_weight = 0``, so
  ``u = intercept + trust_weight * T`` with ``T`` an exactly representable float32 (0.25, 0.5)
  or the edge's own weight; the engine computes ``u`` partly in float32 (relative error
  ~1e-7 on σ(u), negligible against standard errors of order 1e-2 of the means).
* **Single purchase** (``repeat_purchases = False``): a user's first accepted candidate is
  their only order, so cumulative orders are cumulative adopters. Budgets are made huge
  (``budget_mean = 1e7``) so that they never bind.
"""

from __future__ import annotations

import math
import random

import networkx as nx
import numpy as np
import pytest
from scipy.special import expit, logit
from scipy.stats import binom

from laotie import CitySpec, Engine, Region, Scenario, TrustGraph, graph
from laotie.metrics import COUNTS, DISCOVERY, FOLLOW, ROWS, STOREFRONT, WOM

ALL = ROWS.index("all")
ORDERS = COUNTS.index("orders")
CERTAIN = {
    "population.activity_mean": 1 - 1e-15,
    "population.activity_concentration": 1e6,
    "population.repeat_purchases": False,
    "population.budget_mean": 1e7,
    "outcomes.quality_noise": 0.0,
    "outcomes.tolerance": 1.0,
    "decision.quality_weight": 0.0,
    "decision.price_weight": 0.0,
    "decision.repeat_weight": 0.0,
}


def all_active(engine: Engine) -> bool:
    m = engine.market
    # p_active is indexed like market.users (older versions: by node id).
    p = m.p_active if len(m.p_active) == m.n_users else m.p_active[m.users]
    return bool(np.all(p == 1.0))


# ============================================================================ Bass limit
#
# Complete graph of N users with mutual local ties of trust W = 0.5, no creators (follow and
# discovery exposures are empty), one storefront with one product, no comparisons.
#
# Innovation (ads). Every day M = round(impressions_per_active * N) impressions each pick a
# viewer uniformly among the N active users, with replacement; each exposure becomes a
# candidate with probability s = σ(intercept + trust_weight * τ), τ = storefronts.trust. A
# given non-adopter gets no storefront candidate with probability (1 - s/N)^M =: 1 - p.
#
# Imitation (word of mouth, `days` huge so every past buyer recommends every day). Each of
# the A_t adopters has exactly one (satisfied) order, hence one live recommendation; each
# reaches each of the N - 1 other users independently with probability `prob` and converts
# with c = σ(intercept + trust_weight * W). A non-adopter gets no wom candidate with
# probability (1 - prob * c)^{A_t} =: (1 - q/(N - 1))^{A_t}, i.e. q = (N - 1) * prob * c.
#
# Storefront and wom draws are independent, so each non-adopter adopts on day t with
#     h(A_t) = 1 - (1 - p) (1 - q/(N - 1))^{A_t},
# the discrete Bass hazard (to first order in p and q it is the textbook p + q A_t/(N - 1);
# the textbook linear recursion a + (p + q a/(N - 1))(N - a) differs from it by O(pq, q²)
# terms that accumulate to 7 and 13 standard errors for the two pairs below, so it is an
# approximation of this model, not its limit).
#
# Exact law. Given A_t = a, the wom events are independent across non-adopters, but the
# storefront hits are not (M impressions are shared out multinomially). The number H of
# distinct non-adopters with a storefront candidate follows the occupancy law of M balls,
# each landing on a given non-adopter with probability s/N (on nobody with 1 - (N - a)s/N);
# the remaining N - a - H adopt by wom independently: A_{t+1} = a + H + Bin(N - a - H, r_a),
# r_a = 1 - (1 - q/(N - 1))^a. Propagating this Markov chain from A_0 = 0 gives the exact
# mean and variance of A_t for every day. The mean-field recursion a_{t+1} = a_t + (N - a_t)
# h(a_t) is the "discrete Bass recursion"; its deterministic (Jensen) gap from the exact mean
# is computed and asserted to be at most one standard error before it is used as a target.
#
# Tolerance: the mean of R = 100 independent runs has standard error sd_t / sqrt(R) with
# sd_t the exact standard deviation of A_t; every day's sample mean must lie within 4 SE of
# the exact mean and of the recursion. The sample variance must lie within 4 of its own
# standard errors, sqrt((μ4 - σ⁴ (R - 3)/(R - 1)) / R), of the exact variance (μ4: exact
# fourth central moment), which checks that impressions and recommendations are drawn as
# independently as documented.

N_BASS = 400
IMPRESSIONS = 24  # M: storefront impressions per day (impressions_per_active = 0.06)
W_EDGE = 0.5  # trust on every tie (exact in float32)
STORE_TRUST = 0.25  # storefronts.trust (exact in float32)
TRUST_WEIGHT = 2.0
BASS_DAYS = 30
BASS_RUNS = 100


@pytest.fixture(scope="module")
def complete_graph() -> TrustGraph:
    g = nx.complete_graph(N_BASS)
    nx.set_edge_attributes(g, W_EDGE, "trust")
    return TrustGraph.from_networkx(g)


def bass_parameters(p: float, q: float) -> dict[str, float]:
    """Storefront conversion s, wom conversion c and the scenario values giving (p, q)."""
    s = N_BASS * (1 - (1 - p) ** (1 / IMPRESSIONS))
    intercept = float(logit(s)) - TRUST_WEIGHT * STORE_TRUST
    c = float(expit(intercept + TRUST_WEIGHT * W_EDGE))
    prob = q / ((N_BASS - 1) * c)
    assert 0 < s < 1 and 0 < prob < 1
    return {"s": s, "c": c, "intercept": intercept, "prob": prob}


def bass_scenario(p: float, q: float) -> Scenario:
    k = bass_parameters(p, q)
    return Scenario(city=CitySpec(regions=(Region("all", N_BASS, 0.5),))).replace(
        **CERTAIN,
        **{
            "storefronts.n_storefronts": 1,
            "storefronts.products_per_storefront": 1,
            "storefronts.comparisons": 0,
            "storefronts.impressions_per_active": IMPRESSIONS / N_BASS,
            "storefronts.trust": STORE_TRUST,
            "word_of_mouth.days": 100_000,
            "word_of_mouth.prob": k["prob"],
            "decision.intercept": k["intercept"],
            "decision.trust_weight": TRUST_WEIGHT,
        },
    )


def exact_bass_moments(
    n: int, m: int, s: float, r: float, days: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact mean, variance and fourth central moment of A_1 .. A_days (see above)."""
    transition = np.zeros((n + 1, n + 1))
    for a in range(n + 1):
        left = n - a
        hits = np.zeros(min(m, left) + 1)
        hits[0] = 1.0
        k = np.arange(len(hits))
        for _ in range(m):  # one impression at a time: it lands on a new non-adopter or not
            new = s * (left - k) / n
            moved = np.zeros_like(hits)
            moved[1:] = hits[:-1] * new[:-1]
            hits = hits * (1 - new) + moved
        wom = 1 - (1 - r) ** a
        for h, ph in enumerate(hits):
            extra = np.arange(left - h + 1)
            transition[a, a + h + extra] += ph * binom.pmf(extra, left - h, wom)
    law = np.zeros(n + 1)
    law[0] = 1.0
    x = np.arange(n + 1)
    mean, var, mu4 = [], [], []
    for _ in range(days):
        law = law @ transition
        mu = law @ x
        mean.append(mu)
        var.append(law @ (x - mu) ** 2)
        mu4.append(law @ (x - mu) ** 4)
    return np.array(mean), np.array(var), np.array(mu4)


def bass_recursion(n: int, p: float, q: float, days: int) -> np.ndarray:
    a, out = 0.0, []
    for _ in range(days):
        a += (n - a) * (1 - (1 - p) * (1 - q / (n - 1)) ** a)
        out.append(a)
    return np.array(out)


@pytest.mark.parametrize(("p", "q"), [(0.03, 0.1), (0.02, 0.25)])
def test_bass_limit(complete_graph: TrustGraph, p: float, q: float) -> None:
    scenario = bass_scenario(p, q)
    k = bass_parameters(p, q)
    adopters = np.zeros((BASS_RUNS, BASS_DAYS))
    # The runs as replications of one lockstep engine: each gives the numbers of a run with
    # its seed alone (tests/engine/test_lockstep.py).
    engine = Engine(complete_graph, scenario, seed=list(range(BASS_RUNS)))
    assert all_active(engine)
    for day in range(BASS_DAYS):
        counts = engine.step()
        adopters[:, day] = engine.ledger.ever_ordered.reshape(BASS_RUNS, -1).sum(axis=1)
        assert (counts[:, FOLLOW, 0] == 0).all() and (counts[:, DISCOVERY, 0] == 0).all()
        assert (counts[:, STOREFRONT, 0] == IMPRESSIONS).all()
        # Every order satisfied and recommends; nothing expires.
        recommenders = engine.recommendations.exposures.user // N_BASS
        np.testing.assert_array_equal(
            np.bincount(recommenders, minlength=BASS_RUNS), adopters[:, day]
        )
    for run in range(BASS_RUNS):
        history = engine.replication(run).history
        assert adopters[run, -1] == sum(h[ALL, ORDERS] for h in history)

    mean, var, mu4 = exact_bass_moments(N_BASS, IMPRESSIONS, k["s"], q / (N_BASS - 1), BASS_DAYS)
    se = np.sqrt(var / BASS_RUNS)
    recursion = bass_recursion(N_BASS, p, q, BASS_DAYS)
    # The recursion is close enough to the exact mean to be a 4-SE target (Jensen gap <= 1 SE).
    assert np.all(np.abs(recursion - mean) <= se)

    sample = adopters.mean(axis=0)
    assert np.all(np.abs(sample - mean) <= 4 * se), np.round((sample - mean) / se, 2)
    assert np.all(np.abs(sample - recursion) <= 4 * se), np.round((sample - recursion) / se, 2)

    r = BASS_RUNS
    sample_var = adopters.var(axis=0, ddof=1)
    var_se = np.sqrt((mu4 - var**2 * (r - 3) / (r - 1)) / r)
    assert np.all(np.abs(sample_var - var) <= 4 * var_se), np.round((sample_var - var) / var_se, 2)


def test_bass_first_day_is_pure_innovation(complete_graph: TrustGraph) -> None:
    """Day 0 has no recommendations: its buyers have mean N p exactly (other seeds)."""
    p, q = 0.03, 0.1
    seeds = [1000 + run for run in range(BASS_RUNS)]
    first = Engine(complete_graph, bass_scenario(p, q), seed=seeds).step()[:, ALL, ORDERS]
    mean, var, _ = exact_bass_moments(N_BASS, IMPRESSIONS, bass_parameters(p, q)["s"], 0, 1)
    assert mean[0] == pytest.approx(N_BASS * p, rel=1e-9)
    assert abs(np.mean(first) - mean[0]) <= 4 * math.sqrt(var[0] / BASS_RUNS)


# ============================================================================ cascade limit
#
# Word of mouth alone (no creators, no storefront impressions, no discovery), days = 1, no
# trust updates, single purchase, satisfaction certain, everyone active. A buyer j of day t
# recommends on day t + 1 only; each user i with a social tie i → j is reached with
# probability `prob` and buys with σ(intercept + trust_weight * w_ij), independently of
# everything else; a user who already bought cannot buy again. This is exactly the
# independent-cascade model with edge probability prob * σ(intercept + trust_weight * w_ij)
# from recommender j to listener i, generation g of the cascade being the buyers of day
# g - 1. Non-users are never active, so they never buy or recommend.
#
# The seed buyers are placed with `Engine.recommend` (docs/model.md, Outcomes): each
# recommends from day 0 and counts as having ordered.
#
# Trust is made asymmetric so that a direction error (using w_ji) would show: listeners
# with even ids are credulous (w = 0.5 + 0.5 w_graph), odd ones sceptical (w = 0.5 w_graph),
# and the seeds are sceptical.
#
# Tolerances: the engine's mean final size (R_e runs) and the plain-Python cascade's
# (R_ic runs) must agree within 4 sqrt(se_e² + se_ic²), with sample standard errors. The
# first generation's mean has a closed form, sum over users i of
# 1 - prod_{seeds j} (1 - p_ij), and must match within 4 se_e.

CASCADE_RUNS = 400
IC_RUNS = 20_000
PROB = 0.3
CASCADE_INTERCEPT = -2.0
CASCADE_TRUST_WEIGHT = 4.0


@pytest.fixture(scope="module")
def cascade_graph() -> TrustGraph:
    spec = CitySpec(
        regions=(Region("A", 200, 0.6), Region("B", 150, 0.3)),
        local_degree=8,
        city_degree=3,
        group_size=40,
        user_share=0.8,
        creator_share=0.0,
        gov_accounts_per_region=0,
    )
    g = graph.city(spec, seed=5)
    src = g.sources()
    trust = np.where(src % 2 == 0, 0.5 + 0.5 * g.trust, 0.5 * g.trust)
    return TrustGraph.from_edges(
        g.n_nodes,
        src,
        g.indices,
        trust,
        g.layer,
        region=g.region,
        hometown=g.hometown,
        rural=g.rural,
        user=g.user,
        creator_kind=g.creator_kind,
        region_names=g.region_names,
    )


def cascade_scenario() -> Scenario:
    return Scenario(city=CitySpec(regions=(Region("all", 350, 0.5),))).replace(
        **CERTAIN,
        **{
            "storefronts.n_storefronts": 1,
            "storefronts.products_per_storefront": 1,
            "storefronts.impressions_per_active": 0.0,
            "policy.discovery_per_active": 0.0,
            "word_of_mouth.days": 1,
            "word_of_mouth.prob": PROB,
            "outcomes.trust_gain": 0.0,
            "outcomes.trust_loss": 0.0,
            "decision.intercept": CASCADE_INTERCEPT,
            "decision.trust_weight": CASCADE_TRUST_WEIGHT,
        },
    )


def cascade_seeds(g: TrustGraph) -> np.ndarray:
    users = np.flatnonzero(g.user & (np.arange(g.n_nodes) % 2 == 1))
    return users[[0, len(users) // 3, 2 * len(users) // 3]]


def edge_probabilities(g: TrustGraph) -> dict[int, list[tuple[int, float]]]:
    """Recommender j -> [(listener i, prob * σ(intercept + trust_weight * w_ij))]."""
    out: dict[int, list[tuple[int, float]]] = {}
    social = g.layer != 2
    for i, j, w in zip(g.sources()[social], g.indices[social], g.trust[social], strict=True):
        if g.user[i]:
            u = CASCADE_INTERCEPT + CASCADE_TRUST_WEIGHT * float(w)
            out.setdefault(int(j), []).append((int(i), PROB / (1 + math.exp(-u))))
    return out


def independent_cascade(
    edges: dict[int, list[tuple[int, float]]], seeds: list[int], rnd: random.Random
) -> list[int]:
    """Sizes of the generations after the seeds (each edge tried once)."""
    active = set(seeds)
    front, sizes = list(seeds), []
    while front:
        new = []
        for j in front:
            for i, p in edges.get(j, ()):
                if i not in active and rnd.random() < p:
                    active.add(i)
                    new.append(i)
        if new:
            sizes.append(len(new))
        front = new
    return sizes


def engine_cascades(
    g: TrustGraph, scenario: Scenario, seeds: np.ndarray, runs: int
) -> list[list[int]]:
    """Each run's generation sizes: the runs as replications of one lockstep engine (each
    gives the numbers of a run with its seed alone), stepped until every cascade has ended
    (a day without orders: nothing recommends after it)."""
    engine = Engine(g, scenario, seed=list(range(runs)))
    assert all_active(engine)
    engine.recommend(seeds, listing=0, quality=1.0)
    days = []
    while True:
        counts = engine.step()
        assert (counts[:, ALL, ORDERS] == counts[:, WOM, ORDERS]).all()
        if not counts[:, ALL, ORDERS].any():
            break
        days.append(counts[:, ALL, ORDERS].astype(int))
    sizes = []
    bought = engine.ledger.ever_ordered.reshape(runs, -1)
    for run in range(runs):
        mine = [int(day[run]) for day in days]
        mine = mine[: mine.index(0)] if 0 in mine else mine
        assert bought[run].sum() == len(seeds) + sum(mine)
        assert not bought[run][~g.user].any()
        sizes.append(mine)
    return sizes


def test_cascade_limit(cascade_graph: TrustGraph) -> None:
    g = cascade_graph
    seeds = cascade_seeds(g)
    scenario = cascade_scenario()
    edges = edge_probabilities(g)

    ours = engine_cascades(g, scenario, seeds, CASCADE_RUNS)
    rnd = random.Random(2024)
    theirs = [independent_cascade(edges, seeds.tolist(), rnd) for _ in range(IC_RUNS)]

    final_e = np.array([sum(s) for s in ours], float)
    final_ic = np.array([sum(s) for s in theirs], float)
    se = math.sqrt(final_e.var(ddof=1) / CASCADE_RUNS + final_ic.var(ddof=1) / IC_RUNS)
    assert abs(final_e.mean() - final_ic.mean()) <= 4 * se, (final_e.mean(), final_ic.mean(), se)

    # Generations 1 and 2 (the cascade's timing: days = 1 means one generation per day).
    for gen in (0, 1):
        a = np.array([s[gen] if len(s) > gen else 0 for s in ours], float)
        b = np.array([s[gen] if len(s) > gen else 0 for s in theirs], float)
        se = math.sqrt(a.var(ddof=1) / CASCADE_RUNS + b.var(ddof=1) / IC_RUNS)
        assert abs(a.mean() - b.mean()) <= 4 * se, (gen, a.mean(), b.mean(), se)

    # The first generation in closed form, and with the direction of trust reversed (w_ji):
    # the engine must match the first and, for the test to have power, not the second.
    first = np.array([s[0] if s else 0 for s in ours], float)
    se = first.std(ddof=1) / math.sqrt(CASCADE_RUNS)
    right, wrong = first_generation(g, seeds), first_generation(g, seeds, reverse=True)
    assert abs(first.mean() - right) <= 4 * se, (first.mean(), right, se)
    assert abs(first.mean() - wrong) > 8 * se, (first.mean(), wrong, se)


def first_generation(g: TrustGraph, seeds: np.ndarray, reverse: bool = False) -> float:
    """Expected buyers on day 0: sum over users i of 1 - prod_{seeds j} (1 - p_ij)."""
    trust = {}
    for i, j, w, layer in zip(g.sources(), g.indices, g.trust, g.layer, strict=True):
        if layer != 2:
            trust[int(i), int(j)] = float(w)
    seed_set = set(seeds.tolist())
    miss: dict[int, float] = {}
    for (i, j), w in trust.items():
        if j in seed_set and i not in seed_set and g.user[i]:
            w = trust[j, i] if reverse else w
            u = CASCADE_INTERCEPT + CASCADE_TRUST_WEIGHT * w
            miss[i] = miss.get(i, 1.0) * (1 - PROB / (1 + math.exp(-u)))
    return sum(1 - v for v in miss.values())
