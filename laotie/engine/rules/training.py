"""Creator training (docs/model.md 3.5, "Training").

On ``training.day``, ``n_creators`` selling creators of each replication are chosen:
``followers``, those with the most followers (ties by lower id); ``local``, uniformly among
local creators; ``rural``, uniformly among creators living in rural areas; ``random``,
uniformly among selling creators (all of the pool if it is smaller); ``targeted``, the
creators given to the engine (:func:`targeted`: what :mod:`laotie.policy` chooses), in the
order given (each one's new followers are drawn in that order), the same in every
replication, however many (``n_creators`` is not used). A random choice takes
the first ``n_creators`` of one random order of the pool, so with the same seed a larger
``n_creators`` trains a superset of a smaller one's creators. Each gains
``authenticity_gain`` and ``content_quality_gain`` (capped at 1; promises are recomputed)
and up to ``follower_gain`` followers: users drawn uniformly with replacement, dropping the
creator and existing followers; new follow ties start at trust ``creators.stranger_trust``,
memory 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import ScenarioError
from ...scenario import Scenario
from ..market import Market

__all__ = ["targeted", "train"]


def targeted(market: Market, nodes: Sequence[int] | np.ndarray) -> np.ndarray:
    """The creator ids (within a replication) of the graph nodes ``nodes``, in their order,
    checked.

    Raises
    ------
    ScenarioError
        For a node that is not a creator living in the city, or one named twice.
    """
    m = market
    nodes = np.asarray(nodes)
    if nodes.ndim == 1 and nodes.size == 0:
        return np.zeros(0, np.int64)
    if nodes.ndim != 1 or (len(nodes) and not np.issubdtype(nodes.dtype, np.integer)):
        raise ScenarioError(f"Engine: trained = {nodes!r}; expected a list of node ids")
    # A graph node is a node of replication 0, whose seller ids are the creator ids within a
    # replication (the same in every replication: they share the graph); -1 for others.
    inside = (nodes >= 0) & (nodes < m.layout.nodes)
    ids = np.where(inside, m.seller_of_node[np.where(inside, nodes, 0)], -1).astype(np.int64)
    bad = nodes[(ids < 0) | ~m.creator_resident[np.maximum(ids, 0)]]
    if len(bad):
        raise ScenarioError(
            f"Engine: trained: node {bad[0]} is not a creator living in the city (the city "
            f"trains its own creators; {len(bad)} such node(s))"
        )
    if len(np.unique(ids)) != len(ids):
        raise ScenarioError("Engine: trained names a creator twice")
    return ids


def train(
    market: Market,
    rngs: list[np.random.Generator],
    scenario: Scenario,
    targets: np.ndarray | None = None,
) -> np.ndarray:
    """Train the chosen creators of every replication (``rngs``: each replication's
    training generator; ``targets``: the creator ids of the rule ``targeted``, from
    :func:`targeted`, in any order: the same set trains the same way); return their seller ids,
    sorted."""
    m = market
    t = scenario.training
    C, U = m.layout.creators, m.layout.users
    picked, creators, users = [], [], []
    for r, rng in enumerate(rngs):
        pool = np.arange(r * C, (r + 1) * C)
        pool = pool[m.creator_resident[pool]]  # the city trains its own creators
        if t.rule == "local":
            pool = pool[~m.is_head[pool]]
        elif t.rule == "rural":
            pool = pool[m.rural[m.creator_node[pool]]]
        k = min(t.n_creators, len(pool))
        if t.rule == "targeted":
            chosen = r * C + (np.zeros(0, np.int64) if targets is None else targets)
            k = len(chosen)
        elif t.rule == "followers":
            followers = m.follows.count[m.creator_node[pool]]
            chosen = pool[np.lexsort((pool, -followers))[:k]]
        else:
            # A prefix of one random order: a larger k trains a superset of a smaller k's
            # creators (with the same seed), so that sweeps over k compare like with like.
            chosen = rng.permutation(pool)[:k]
        # The set decides, not its listing: the new followers are drawn creator by creator in
        # the order of their ids, whatever order a rule or a policy named them in.
        chosen = np.sort(chosen)
        picked.append(chosen)
        if t.follower_gain == 0 or k == 0 or U == 0:
            continue
        creator = np.repeat(m.creator_node[chosen], t.follower_gain)
        creators.append(creator)
        users.append(m.users[r * U + rng.integers(0, U, len(creator))])
    chosen = np.concatenate(picked).astype(np.int64)
    m.authenticity[chosen] = np.minimum(1, m.authenticity[chosen] + t.authenticity_gain)
    m.content_quality[chosen] = np.minimum(1, m.content_quality[chosen] + t.content_quality_gain)
    m.update_promises()
    if creators:
        creator, user = np.concatenate(creators), np.concatenate(users)
        kind, _ = m.follows.find(user, creator)
        keep = (user != creator) & (kind == 0)
        user, creator = user[keep], creator[keep]
        _, first = np.unique(user.astype(np.int64) * m.n_nodes + creator, return_index=True)
        first = np.sort(first)
        m.follows.add(
            user[first],
            creator[first],
            np.full(len(first), scenario.creators.stranger_trust, np.float32),
            np.zeros(len(first), np.int8),
        )
    return np.sort(chosen)
