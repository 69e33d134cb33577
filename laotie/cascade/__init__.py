"""Word of mouth alone: a lockstep independent cascade on the trust graph (口碑传播).

In the independent cascade (Kempe, Kleinberg and Tardos 2003) every node that becomes active
gets one chance, in the next step, to activate each of its neighbours, independently with the
tie's probability. Influence flows the way word of mouth flows in the engine
(:class:`laotie.engine.market.Listeners`): from a person ``j`` to the people who trust ``j``.
Resident ``i`` trusting ``j`` (the graph's tie ``i → j``, trust ``w[i, j]``) is the channel
``j ⇒ i``, taken with probability ``probability * w[i, j]``, or with a per-tie probability
that you give.

The coins. When node ``u`` becomes active in replication ``r`` it draws, once, which of its
ties succeed: it walks its row of ties with geometric skips at the row's largest
probability ``q = probability * max(w)`` (a skip of ``floor(ln U / ln(1 - q))`` ties, so
each tie is a candidate with probability ``q``, independently) and keeps a candidate ``e``
with probability ``w_e / max(w)`` (thinning), so that tie ``e`` succeeds with probability
``probability * w_e``, independently of every other tie. The work is proportional to the
ties that succeed, not to the ties of the row. The uniform numbers come from a counter-based
stream (SplitMix64) keyed by the node, the replication and the seed, so replication ``r``
gives the same cascade whatever the number of replications or of threads, and a cascade run
for more steps extends the shorter one. The logarithm of the skip is a fixed polynomial
(within about 5 units in the last place of the exact logarithm), not the machine's libm, so
that the cascades are the same bits on every machine.

Replications run in lockstep: the state of a node is bit-packed, one bit per replication,
and each step visits only the nodes that became active in the last step (the frontier). The
replications are split into contiguous groups run in parallel threads, each with its own
state.

The modules: :mod:`~laotie.cascade.checks` checks the arguments,
:mod:`~laotie.cascade.ties` prepares the influence ties (:class:`InfluenceTies`),
:mod:`~laotie.cascade.run` runs a call (:func:`independent_cascade`, :class:`CascadeResult`)
and :mod:`~laotie.cascade.kernel` is the rule itself, compiled with numba.
"""

from .run import MAX_REPLICATIONS, MAX_STATE_BYTES, CascadeResult, independent_cascade
from .ties import InfluenceTies

__all__ = [
    "MAX_REPLICATIONS",
    "MAX_STATE_BYTES",
    "CascadeResult",
    "InfluenceTies",
    "independent_cascade",
]
