"""The lockstep independent cascade against a plain one, exact limits, seeds and bad input."""

from __future__ import annotations

import multiprocessing
import random
import warnings

import networkx as nx
import numpy as np
import pytest

from laotie import ScenarioError, TrustGraph
from laotie.cascade import InfluenceTies, independent_cascade
from laotie.cascade.kernel import _TWO53, _ln


@pytest.fixture(scope="module")
def small() -> TrustGraph:
    """80 nodes, mutual local ties with random trust in each direction, a few follows."""
    rng = np.random.default_rng(5)
    pairs = {tuple(sorted(p)) for p in rng.integers(0, 80, (200, 2)).tolist() if p[0] != p[1]}
    src = [a for a, b in pairs] + [b for a, b in pairs]
    dst = [b for a, b in pairs] + [a for a, b in pairs]
    follows = [(i, 0) for i in range(1, 80, 7) if (i, 0) not in set(zip(src, dst, strict=True))]
    src += [i for i, _ in follows]
    dst += [c for _, c in follows]
    trust = rng.uniform(0.2, 1.0, len(src))
    layer = [0] * (2 * len(pairs)) + [2] * len(follows)
    kind = np.zeros(80, np.int8)
    kind[0] = 2  # node 0 is a local creator, followed by a few
    return TrustGraph.from_edges(80, src, dst, trust, layer, creator_kind=kind)


def plain_cascade(g: TrustGraph, seeds, probability, steps, rng) -> list[int]:  # type: ignore[no-untyped-def]
    """One replication, one tie at a time: newly active j tries each i that trusts j."""
    listeners: dict[int, list[tuple[int, float]]] = {}
    for i in range(g.n_nodes):
        for k in range(g.indptr[i], g.indptr[i + 1]):
            if g.layer[k] != 2:
                listeners.setdefault(int(g.indices[k]), []).append((i, float(g.trust[k])))
    active = set(seeds)
    frontier = list(active)
    counts = [len(active)]
    for _ in range(steps):
        fresh = []
        for j in frontier:
            for i, w in listeners.get(j, []):
                if i not in active and rng.random() < probability * w:
                    active.add(i)
                    fresh.append(i)
        counts.append(len(fresh))
        frontier = fresh
    return counts


def test_agrees_in_distribution_with_a_plain_cascade(small: TrustGraph) -> None:
    seeds, probability, steps, n = [3, 40], 0.6, 6, 600
    ours = independent_cascade(
        small, seeds, probability=probability, steps=steps, replications=n, seed=1
    ).new_active
    rng = random.Random(2)
    plain = np.array([plain_cascade(small, seeds, probability, steps, rng) for _ in range(n)])
    # Mean size and mean new actives per step, within 4 combined standard errors.
    for a, b in [(ours.sum(1), plain.sum(1))] + [(ours[:, t], plain[:, t]) for t in range(1, 4)]:
        se = np.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
        assert abs(a.mean() - b.mean()) < 4 * se + 1e-12
    assert ours.sum(1).mean() > 5 * len(seeds)  # the case is not trivial


def test_probability_zero_activates_only_the_seeds(small: TrustGraph) -> None:
    result = independent_cascade(
        small, [1, 2, 2], probability=0.0, steps=4, replications=70, seed=0
    )
    assert (result.new_active[:, 0] == 2).all() and (result.new_active[:, 1:] == 0).all()


@pytest.mark.parametrize("steps", [0, 1, 2, 5])
def test_probability_one_is_reachability_within_steps(small: TrustGraph, steps: int) -> None:
    seeds = [0, 17]
    result = independent_cascade(
        small,
        seeds,
        probability=1.0,
        edge_probability=np.ones(small.n_edges),
        steps=steps,
        replications=3,
        seed=0,
        return_active=True,
    )
    # Influence runs against the ties: j reaches i when i trusts j (local ties only here).
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(small.n_nodes))
    src = small.sources()
    social = small.layer != 2
    nxg.add_edges_from(zip(small.indices[social].tolist(), src[social].tolist(), strict=True))
    distance = nx.multi_source_dijkstra_path_length(nxg, seeds, cutoff=steps)
    expected = np.bincount(list(distance.values()), minlength=steps + 1)
    assert (result.new_active == expected).all()
    assert result.active_nodes(2).tolist() == sorted(distance)


def test_follow_ties_carry_influence_only_when_asked(small: TrustGraph) -> None:
    kw = {"edge_probability": np.ones(small.n_edges), "probability": 1.0, "steps": 1}
    kw |= {"replications": 1, "seed": 0}
    social = independent_cascade(small, [0], **kw).new_active[0, 1]
    both = independent_cascade(small, [0], layers=("local", "follow"), **kw).new_active[0, 1]
    assert both == social + len(np.flatnonzero(small.indices[small.layer == 2] == 0))


def test_given_edge_probabilities_replace_trust(small: TrustGraph) -> None:
    ones = np.ones(small.n_edges)
    kw = {"steps": 3, "replications": 50, "seed": 4}
    given = independent_cascade(small, [5], probability=1.0, edge_probability=ones, **kw)
    by_trust = independent_cascade(small, [5], probability=1.0, **kw)
    assert (given.size == given.size[0]).all() and (by_trust.size < given.size).any()
    half = independent_cascade(small, [5], probability=0.5, edge_probability=ones, **kw)
    assert (half.size <= given.size).all()
    zero = independent_cascade(small, [5], edge_probability=0 * ones, probability=1.0, **kw)
    assert (zero.size == 1).all()


def test_same_seed_same_result_other_seed_differs(small: TrustGraph) -> None:
    kw = {"probability": 0.5, "steps": 5, "replications": 100}
    a = independent_cascade(small, [3], seed=7, **kw).new_active
    assert (a == independent_cascade(small, [3], seed=7, **kw).new_active).all()
    seq = np.random.SeedSequence(7)
    assert (a == independent_cascade(small, [3], seed=seq, **kw).new_active).all()
    assert (a != independent_cascade(small, [3], seed=8, **kw).new_active).any()


def test_a_replication_does_not_depend_on_how_many_run(small: TrustGraph) -> None:
    kw = {"probability": 0.5, "steps": 5, "seed": 3}
    many = independent_cascade(small, [3, 9], replications=130, **kw).new_active
    for n in (1, 64, 65, 100):
        few = independent_cascade(small, [3, 9], replications=n, **kw).new_active
        assert (few == many[:n]).all()
    # More steps extend the same cascades.
    longer = independent_cascade(small, [3, 9], replications=130, **(kw | {"steps": 8}))
    longer = longer.new_active
    assert (longer[:, :6] == many).all()


# Per-step totals over the 150 replications and the sizes of the first five, recorded from
# the compiled cascade when it became the only path: a change of the coins' stream, of the
# walk or of the logarithm changes them (if deliberate, record the new ones and say so in the
# CHANGELOG, since users' numbers change). They also depend on the order of the ties within
# each row, which follows the small graph's CSR order (TrustGraph.from_edges).
KNOWN_ANSWERS = [
    (0.7, None, [450, 973, 1143, 1993, 1867, 1422, 860], [49, 66, 67, 69, 67]),
    (0.05, None, [450, 95, 8, 0, 0, 0, 0], [5, 4, 4, 4, 3]),
    (1.0, "ones", [450, 2250, 4200, 4350, 600, 0, 0], [79, 79, 79, 79, 79]),
    (1.0, "mixed", [450, 1668, 2929, 4446, 1867, 235, 18], [78, 77, 77, 76, 77]),
    (1e-3, "mixed", [450, 5, 0, 0, 0, 0, 0], [3, 4, 3, 3, 3]),
    (0.3, "tiny", [450, 254, 175, 168, 91, 48, 30], [12, 4, 4, 7, 16]),
]


@pytest.mark.parametrize(("probability", "given", "per_step", "first_sizes"), KNOWN_ANSWERS)
def test_known_answers_whatever_the_threads(
    small: TrustGraph,
    probability: float,
    given: str | None,
    per_step: list[int],
    first_sizes: list[int],
) -> None:
    """Every path of the walk: skips, thinning, rows whose ties all have the top weight (no
    thinning draw), q = 1 (every tie a candidate), tiny per-tie probabilities (huge skips);
    the replications split into groups of 150, 75, 50 and 21-22, whose words are put
    together at shifted lanes."""
    rng = np.random.default_rng(1)
    edge_probability = {
        None: None,
        "ones": np.ones(small.n_edges),
        "mixed": np.where(rng.random(small.n_edges) < 0.5, 1.0, rng.random(small.n_edges)),
        "tiny": np.where(rng.random(small.n_edges) < 0.5, rng.random(small.n_edges) * 1e-12, 0.9),
    }[given]
    ties = InfluenceTies.from_graph(small, edge_probability=edge_probability)
    kw = {"probability": probability, "steps": 6, "replications": 150, "seed": 9}
    a = independent_cascade(ties, [0, 1, 2], threads=1, return_active=True, **kw)
    assert a.new_active.sum(axis=0).tolist() == per_step
    assert a.size[:5].tolist() == first_sizes
    for threads in (2, 3, 7):
        b = independent_cascade(ties, [0, 1, 2], threads=threads, return_active=True, **kw)
        assert (a.new_active == b.new_active).all()
        assert (a.active_words == b.active_words).all()


def test_each_tie_succeeds_with_its_probability_independently() -> None:
    """A star: node 0 influences 60 listeners. Over many replications, listener i is
    activated in step 1 with probability ``probability * w_i`` (first and last tie of the row
    included, where an off-by-one in the skips would show), and the number activated has the
    variance of independent coins."""
    n_ties, probability, n = 60, 0.4, 20_000
    weight = np.random.default_rng(3).uniform(0.0, 1.0, n_ties)
    weight[[0, 7, 59]] = weight.max()  # ties at the row's top weight take no thinning draw
    weight[30] = 0.0
    ties = InfluenceTies(
        indptr=np.r_[0, np.full(n_ties + 1, n_ties)].astype(np.int64),
        target=np.arange(1, n_ties + 1, dtype=np.int32),
        weight=weight,
        edge=np.arange(n_ties, dtype=np.int64),
    )
    result = independent_cascade(
        ties,
        [0],
        probability=probability,
        steps=1,
        replications=n,
        seed=11,
        return_active=True,
    )
    p = probability * weight
    words = result.active_words[1:]  # listener v is row v
    frequency = np.array([sum(bin(int(x)).count("1") for x in row) for row in words]) / n
    se = np.sqrt(p * (1 - p) / n)
    # 60 simultaneous two-sided tests at 4.5 standard errors: about 4e-4 to fail by chance.
    assert (np.abs(frequency - p) <= 4.5 * se).all()
    assert frequency[30] == 0.0
    # K, the number activated, sums independent coins: cumulants k2 = sum p(1-p) and
    # k4 = sum p(1-p)(1-6p(1-p)); the sample variance has standard error sqrt((k4 + 2 k2^2) / n).
    k = result.new_active[:, 1]
    k2 = p @ (1 - p)
    k4 = (p * (1 - p) * (1 - 6 * p * (1 - p))).sum()
    assert abs(k.mean() - p.sum()) <= 4.5 * np.sqrt(k2 / n)
    assert abs(k.var(ddof=1) - k2) <= 4.5 * np.sqrt((k4 + 2 * k2**2) / n)


def test_the_logarithm_is_accurate() -> None:
    """The skips' logarithm (a fixed polynomial, so that the coins do not depend on the
    machine's libm) against numpy's, on uniforms as the kernel draws them and at the edges of
    its range reduction."""
    n = np.random.default_rng(2).integers(0, 2**53, 200_000, dtype=np.uint64) + np.uint64(1)
    edges = [_TWO53, 1.0, 0.5, np.sqrt(0.5), np.nextafter(np.sqrt(0.5), 0)]
    x = np.r_[n.astype(np.float64) * _TWO53, edges]
    ours = np.array([_ln(value) for value in x.tolist()])
    exact = np.log(x)
    # Within 8 units in the last place (about 5 at worst, measured); a wrong coefficient or
    # range reduction would be off by far more.
    close = np.abs(ours - exact) <= 8 * np.spacing(np.abs(exact)) + 1e-300
    assert close.all() and ours[-4] == 0.0


def test_threads_are_checked_and_a_state_too_big_is_refused() -> None:
    ties = InfluenceTies(
        indptr=np.zeros(100_001, np.int64),
        target=np.zeros(0, np.int32),
        weight=np.zeros(0),
        edge=np.zeros(0, np.int64),
    )
    with pytest.raises(ScenarioError, match=r"threads = 0 is not allowed; expected an integer"):
        independent_cascade(ties, [0], threads=0)
    with pytest.raises(
        ScenarioError,
        match=r"1,048,576 replications of 20 steps on 100,000 nodes need about \d+\.\d GB "
        r"of state; at most 8 GB",
    ):
        independent_cascade(ties, [0], replications=2**20)
    # The counts per replication and step are part of the state.
    with pytest.raises(ScenarioError, match=r"of 1,000,000,000 steps .* need about"):
        independent_cascade(ties, [0], steps=10**9)


def star(weight: np.ndarray) -> InfluenceTies:
    """Node 0 influences nodes 1 .. len(weight)."""
    n = len(weight)
    return InfluenceTies(
        indptr=np.r_[0, np.full(n + 1, n)].astype(np.int64),
        target=np.arange(1, n + 1, dtype=np.int32),
        weight=weight,
        edge=np.arange(n, dtype=np.int64),
    )


def test_a_probability_that_rounds_to_zero_activates_nobody() -> None:
    """probability * largest weight can underflow to 0: no tie may then succeed (ln(1 - 0)
    is -0.0, which must not read as q = 1)."""
    ties = star(np.full(5, 1e-300))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor warn about the huge skips of tiny probabilities
        for p in (1e-30, 5e-324):
            result = independent_cascade(ties, [0], probability=p, steps=2, replications=50, seed=1)
            assert (result.size == 1).all()
        result = independent_cascade(
            star(np.array([0.4, 1e-300])),
            [0],
            probability=1e-12,
            replications=50,
            seed=1,
        )
        assert (result.size == 1).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target": np.array([1, 9], np.int32)}, r"target\[1\] = .*9.* expected node ids 0 \.\. 2"),
        ({"target": np.array([1, -1], np.int32)}, r"target\[1\] = .*-1.* not allowed"),
        ({"weight": np.array([0.5, np.nan])}, r"weight\[1\] = .*nan.* expected trust or prob"),
        ({"weight": np.array([0.5, 2.0])}, r"weight\[1\] = .*2\.0.* 0 ≤ value ≤ 1"),
        ({"weight": np.array([0.5])}, r"target, weight and edge have 2, 1 and 2 entries"),
        ({"indptr": np.array([0, 1, 1, 1])}, r"indptr must start at 0, never decrease and end"),
        ({"indptr": np.array([0, 2, 1, 2])}, r"indptr must start at 0, never decrease"),
        ({"target": np.array([1.0, 2.0])}, r"target has dtype float64; expected integers"),
        ({"weight": np.array(["a", "b"])}, r"weight has dtype <U1; expected real numbers"),
        ({"edge": [0, 1]}, r"edge must be a 1-d numpy array"),
    ],
)
def test_hand_built_ties_are_validated(change: dict, message: str) -> None:
    arrays = {
        "indptr": np.array([0, 2, 2, 2]),
        "target": np.array([1, 2], np.int32),
        "weight": np.array([0.5, 0.25]),
        "edge": np.array([0, 1]),
    }
    with pytest.raises(ScenarioError, match="InfluenceTies: " + message):
        InfluenceTies(**(arrays | change))


def test_hand_built_ties_of_other_dtypes_and_layouts() -> None:
    """float16 weights, int64 targets, and target/weight that are reversed views of one
    record array (which ``packed`` must not take as the kernel's layout) give the cascades
    of the same ties built plainly (int32 targets, float64 or float32 weights, contiguous)."""
    record = np.zeros(3, np.dtype([("target", np.int32), ("weight", np.float32)], align=True))
    record["target"] = [3, 2, 1]
    record["weight"] = [0.9, 0.1, 0.5]
    indptr = np.array([0, 3, 3, 3, 3])
    cases = [
        (
            star(np.array([0.9, 0.1, 0.5], np.float16)),
            star(np.array([0.9, 0.1, 0.5], np.float16).astype(np.float64)),
        ),
        (
            InfluenceTies(indptr, np.array([1, 2, 3]), np.array([0.9, 0.1, 0.5]), np.arange(3)),
            star(np.array([0.9, 0.1, 0.5])),
        ),
        (
            InfluenceTies(indptr, record["target"][::-1], record["weight"][::-1], np.arange(3)),
            InfluenceTies(
                indptr,
                np.array([1, 2, 3], np.int32),
                np.array([0.5, 0.1, 0.9], np.float32),
                np.arange(3),
            ),
        ),
    ]
    kw = {"probability": 0.8, "steps": 2, "replications": 300, "seed": 5, "return_active": True}
    for ties, plain in cases:
        a = independent_cascade(ties, [0], **kw)
        b = independent_cascade(plain, [0], **kw)
        assert (a.active_words == b.active_words).all() and (a.new_active == b.new_active).all()
    # In the reversed views listeners 1, 2, 3 have weights 0.5, 0.1, 0.9 (not 0.9, 0.1, 0.5).
    won = np.array([sum(bin(int(x)).count("1") for x in a.active_words[v]) for v in (1, 2, 3)])
    p = 0.8 * np.array([0.5, 0.1, 0.9])
    assert (np.abs(won / 300 - p) <= 4.5 * np.sqrt(p * (1 - p) / 300)).all()


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_threads_work_in_a_forked_child(small: TrustGraph) -> None:
    """The pools of threads kept between calls do not survive a fork: a child must start
    its own instead of waiting for threads that do not exist."""
    kw = {"probability": 0.5, "steps": 3, "replications": 20, "seed": 1, "threads": 2}
    expected = independent_cascade(small, [0], **kw).new_active
    child = multiprocessing.get_context("fork").Process(
        target=_cascade_in_child, args=(small, kw, expected)
    )
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0


def _cascade_in_child(graph: TrustGraph, kw: dict, expected: np.ndarray) -> None:
    ok = (independent_cascade(graph, [0], **kw).new_active == expected).all()
    raise SystemExit(0 if ok else 1)
