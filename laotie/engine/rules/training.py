"""Creator training (docs/model.md 3.5, "Training").

On ``training.day``, ``n_creators`` selling creators of each replication are chosen:
``followers``, those with the most followers (ties by lower id); ``local``, uniformly among
local creators; ``rural``, uniformly among creators living in rural areas; ``random``,
uniformly among selling creators (all of the pool if it is smaller). A random choice takes
the first ``n_creators`` of one random order of the pool, so with the same seed a larger
``n_creators`` trains a superset of a smaller one's creators. Each gains
``authenticity_gain`` and ``content_quality_gain`` (capped at 1; promises are recomputed)
and up to ``follower_gain`` followers: users drawn uniformly with replacement, dropping the
creator and existing followers; new follow ties start at trust ``creators.stranger_trust``,
memory 0.
"""

from __future__ import annotations

import numpy as np

from ...scenario import Scenario
from ..market import Market

__all__ = ["train"]


def train(market: Market, rngs: list[np.random.Generator], scenario: Scenario) -> np.ndarray:
    """Train the chosen creators of every replication (``rngs``: each replication's
    training generator); return their seller ids, sorted."""
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
        if t.rule == "followers":
            followers = m.follows.count[m.creator_node[pool]]
            chosen = pool[np.lexsort((pool, -followers))[:k]]
        else:
            # A prefix of one random order: a larger k trains a superset of a smaller k's
            # creators (with the same seed), so that sweeps over k compare like with like.
            chosen = rng.permutation(pool)[:k]
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
