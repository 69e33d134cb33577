"""How much memory an engine takes, and how many replications run in one engine.

The estimates are the measured bytes per resident and per tie of the current code
(docs/performance.md); :func:`laotie._memory.check_fits` refuses, before anything is built,
an engine that would not fit.
"""

from __future__ import annotations

import numpy as np

from ..graph._core import HEAD, LOCAL_CREATOR, OUTSIDE, TrustGraph
from ..scenario import Scenario
from .memories import row_bytes
from .ties import count_follows

__all__ = [
    "LISTING_BYTES",
    "LOCKSTEP_BYTES",
    "LOCKSTEP_MAX",
    "LOCKSTEP_NODES",
    "TRAINING_DRAW_BYTES",
    "engine_bytes",
    "listings",
    "lockstep_size",
    "producer_listings",
    "replication_bytes",
]

LOCKSTEP_BYTES = 1_000_000_000
"""The state :func:`lockstep_size` lets the replications of one engine take together."""

LOCKSTEP_MAX = 64
"""At most this many replications in one engine: beyond it the speed-up no longer grows
(docs/performance.md) while the scratch arrays do."""

LOCKSTEP_NODES = 1_000_000
"""At most this many stacked residents in one engine: lockstep spreads the fixed cost of
numpy calls and lets half a million stacked residents pay for the second thread; past a
million stacked residents the gain grows no further and only the memory does
(docs/performance.md)."""


def replication_bytes(graph: TrustGraph, scenario: Scenario, producers: int | None = None) -> int:
    """An estimate of the engine state one replication adds.

    Per resident about 68 bytes of flags, budgets, follow bits and scratch plus one byte per
    government message; 5 per social tie (trust and memory), 17 per follow tie (ids, trust,
    memory, row pointers), 29 per user (the seat table and the list of active users), a
    row of storefront memories per user (:func:`~laotie.engine.memories.row_bytes`: two bits
    per storefront, rounded up to a power of two of bytes), :data:`LISTING_BYTES` per listing
    (:func:`listings`, and the poor producers' specialties' :func:`producer_listings`, with
    32 bytes per producer and storefront, the keys, hashes and order of drawing the
    storefronts that list them: 29 measured) and
    :data:`TRAINING_DRAW_BYTES` per follower the trained creators may gain.

    Parameters
    ----------
    graph : TrustGraph
        The city.
    scenario : Scenario
        The scenario (its storefronts, government messages and producers count).
    producers : int, optional
        The poor producers: those enrolled (``Engine(enrolled=...)``), when given, instead of
        ``producers.n_producers``.

    Returns
    -------
    int
        Bytes.
    """
    n = graph.n_nodes
    follows = count_follows(graph)
    social = graph.n_edges - follows
    users = int(np.count_nonzero(graph.user))
    kinds = graph.creator_kind
    sellers = int(np.count_nonzero((kinds == HEAD) | (kinds == LOCAL_CREATOR) | (kinds == OUTSIDE)))
    trained = min(scenario.training.n_creators, sellers) if scenario.training.day >= 0 else 0
    p = scenario.producers
    n_producers = p.n_producers if producers is None else producers
    drawn = n_producers * scenario.storefronts.n_storefronts if p.channel != "creators" else 0
    return int(
        n * (68 + scenario.information.n_messages)
        + 5 * social
        + 17 * follows
        + users * (29 + row_bytes(scenario.storefronts.n_storefronts))
        + LISTING_BYTES * (listings(scenario, sellers) + producer_listings(scenario, n_producers))
        + 32 * drawn
        + TRAINING_DRAW_BYTES * trained * scenario.training.follower_gain
    )


LISTING_BYTES = 100
"""Bytes per listing while a replication's market is drawn: the listings' sellers, products,
categories, prices and qualities as they are drawn, joined and sorted (an estimate from the
arrays made, not measured)."""

TRAINING_DRAW_BYTES = 48
"""Bytes per follower a trained creator may gain, while the new follows are drawn and
deduplicated (an estimate from the arrays made, not measured)."""


def listings(scenario: Scenario, sellers: int) -> int:
    """The listings of a replication's market: each of ``sellers`` creators' catalogue and
    each storefront's products (or, with a shared catalogue, its products when there are
    more), before the producers' specialties.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    sellers : int
        The city's selling creators.

    Returns
    -------
    int
    """
    own = (
        sellers * scenario.creators.catalogue_size
        + scenario.storefronts.n_storefronts * scenario.storefronts.products_per_storefront
    )
    if scenario.products.catalogue == "shared":
        return max(own, scenario.products.n_products)
    return own


def producer_listings(scenario: Scenario, producers: int) -> int:
    """The listings of ``producers`` poor producers' specialties: at most
    ``producers.listings`` creators and as many storefronts each, by ``producers.channel``.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    producers : int
        The producers (``producers.n_producers``, or those enrolled).

    Returns
    -------
    int
    """
    p = scenario.producers
    channels = 2 if p.channel == "both" else 1
    return producers * p.listings * channels


def engine_bytes(
    graph: TrustGraph, scenario: Scenario, replications: int = 1, producers: int | None = None
) -> int:
    """An estimate of an engine's peak memory beyond the graph.

    The state of each replication (:func:`replication_bytes`) and, shared, the listeners of
    every resident (the transpose of the local and city ties) with the scratch of building
    them, about 20 bytes per social tie. ``Engine`` refuses to start when this is more than
    the memory available.

    Parameters
    ----------
    graph : TrustGraph
        The city.
    scenario : Scenario
        The scenario.
    replications : int, default 1
        Replications in lockstep in the engine.
    producers : int, optional
        The poor producers enrolled (``Engine(enrolled=...)``), when given, instead of
        ``producers.n_producers``.

    Returns
    -------
    int
        Bytes.
    """
    social = graph.n_edges - count_follows(graph)
    return replications * replication_bytes(graph, scenario, producers) + 20 * social


def lockstep_size(
    graph: TrustGraph, scenario: Scenario, replications: int, max_bytes: int = LOCKSTEP_BYTES
) -> int:
    """How many of ``replications`` to run in one engine.

    As many as fit ``max_bytes`` of replication state (:func:`replication_bytes`) and
    :data:`LOCKSTEP_NODES` stacked residents, at most :data:`LOCKSTEP_MAX`, at least one, and
    then balanced so that the engines get equal shares.

    Parameters
    ----------
    graph : TrustGraph
        The city.
    scenario : Scenario
        The scenario.
    replications : int
        Replications to run in all.
    max_bytes : int, default LOCKSTEP_BYTES
        Replication state one engine may hold.

    Returns
    -------
    int
        Replications per engine (1 for ``replications < 1``).

    Examples
    --------
    >>> from laotie import Scenario, graph
    >>> village = Scenario.preset("village")
    >>> lockstep_size(graph.city(village.city, seed=1), village, 100)
    50
    """
    if replications < 1:
        return 1
    fit = max(
        1,
        min(
            replications,
            LOCKSTEP_MAX,
            LOCKSTEP_NODES // max(graph.n_nodes, 1),
            max_bytes // replication_bytes(graph, scenario),
        ),
    )
    engines = -(-replications // fit)
    return -(-replications // engines)
