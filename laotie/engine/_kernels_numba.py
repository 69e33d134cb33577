"""Compiled kernels of the engine's day (optional: needs numba; ``Engine(backend=...)``).

Each kernel fuses the per-element work of one phase of :class:`laotie.engine.Engine` that the
numpy path does in many passes over temporary arrays. The random numbers are the numpy path's
own: the same streams in the same order, drawn here by a copy of numpy's SFC64 (``uniforms``,
``uniforms32``: the numbers numpy's generator gives, tested) and handed to the phases' kernels,
so a kernel only replaces arithmetic, look-ups and selections, and its results are identical.
tests/engine/test_kernels.py runs both paths, one engine and lockstep, on scenarios chosen to
take each kernel's branches (storefront memories, equal utilities, binding budgets with and
without repeat purchases, follow ties in the buffer, two threads) and compares the daily
counts, the state the day writes and a few days' exposures field by field, the utility bit
for bit on random inputs, and the searches against numpy's.
Floating-point expressions are written in the order and the precision the numpy path evaluates
them (a float32 term stays float32 until numpy would promote it); numba does not reorder or
fuse them (fastmath is off).
"""

from __future__ import annotations

import math

import numba
import numpy as np

# ---------------------------------------------------------------- random streams
# numpy's SFC64 (numpy/random/src/sfc64/sfc64.h), step for step, so that a stream drawn here
# gives the numbers of ``Generator(SFC64(seed))`` (draws.Uniforms; tests/engine/test_draws.py).
# A state row is (s0, s1, s2, s3, has_uint32, uinteger), numpy's own state.

_DOUBLE_UNIT = 1.0 / 9007199254740992.0  # 2**-53: numpy's next_double
_FLOAT_UNIT = np.float32(1.0 / 16777216.0)  # 2**-24: numpy's next_float


@numba.njit(cache=True, nogil=True, inline="always")
def _sfc64(s0, s1, s2, s3):  # type: ignore[no-untyped-def]
    """One step of SFC64: the output and the next state (all uint64, wrapping)."""
    out = s0 + s1 + s3
    rotated = (s2 << np.uint64(24)) | (s2 >> np.uint64(40))
    s0 = s1 ^ (s1 >> np.uint64(11))
    s1 = s2 + (s2 << np.uint64(3))
    return out, s0, s1, rotated + out, s3 + np.uint64(1)


@numba.njit(cache=True, nogil=True)
def uniforms(state, counts, out):  # type: ignore[no-untyped-def]
    """The next ``counts[r]`` doubles of each stream r (``Generator.random()``: the top 53
    bits of an output times 2**-53), concatenated in ``out``; the states advance."""
    i = 0
    for r in range(len(counts)):
        s0, s1, s2, s3 = state[r, 0], state[r, 1], state[r, 2], state[r, 3]
        for _ in range(counts[r]):
            x, s0, s1, s2, s3 = _sfc64(s0, s1, s2, s3)
            out[i] = np.float64(np.int64(x >> np.uint64(11))) * _DOUBLE_UNIT
            i += 1
        state[r, 0], state[r, 1], state[r, 2], state[r, 3] = s0, s1, s2, s3


@numba.njit(cache=True, nogil=True)
def uniforms32(state, counts, out):  # type: ignore[no-untyped-def]
    """The next ``counts[r]`` float32 numbers of each stream r (``Generator.random(dtype=
    np.float32)``: the top 24 bits of a 32-bit word times 2**-24, the words taken low half
    first from one output, the high half kept for the next call), concatenated in ``out``."""
    i = 0
    for r in range(len(counts)):
        s0, s1, s2, s3 = state[r, 0], state[r, 1], state[r, 2], state[r, 3]
        has, word = state[r, 4], state[r, 5]
        for _ in range(counts[r]):
            if has:
                x = word
                has = np.uint64(0)
            else:
                v, s0, s1, s2, s3 = _sfc64(s0, s1, s2, s3)
                x = v & np.uint64(0xFFFFFFFF)
                word = v >> np.uint64(32)
                has = np.uint64(1)
            out[i] = np.float32(np.int64(x >> np.uint64(8))) * _FLOAT_UNIT
            i += 1
        state[r, 0], state[r, 1], state[r, 2], state[r, 3] = s0, s1, s2, s3
        state[r, 4], state[r, 5] = has, word


_LINEAR_SEARCH = 64
""":func:`_search_right` and :func:`_search_left` halve their range down to this length,
then count: every comparison of the last steps at once (vector instructions, cache lines
fetched together) instead of a chain of dependent loads (a pick among 46 creator slots: 31
to 12 ns)."""


@numba.njit(cache=True, nogil=True, inline="always")
def _search_right(cdf, u, lo, hi):  # type: ignore[no-untyped-def]
    """``lo + cdf[lo:hi].searchsorted(u, side="right")``, without branches on the data
    (selects, which a processor does not mispredict as it does a search's branches). The
    answer stays within [lo, lo + n]; once n is short, it is lo plus the count of entries
    <= u in [lo, lo + n), which for a sorted range is the same."""
    n = hi - lo
    while n > _LINEAR_SEARCH:
        half = n >> 1
        lo = lo + half if cdf[lo + half] <= u else lo
        n -= half
    count = 0
    for j in range(lo, lo + n):
        count += cdf[j] <= u
    return lo + count


@numba.njit(cache=True, nogil=True, inline="always")
def _inverse_cdf(cdf, low, high, r, u):  # type: ignore[no-untyped-def]
    """:func:`laotie.engine.draws.inverse_cdf` of one uniform in the CDF ``cdf[r]``, with
    its look-up table ``(low[r], high[r])`` (rows of 2-d arrays, read in place): the answer
    lies between the bucket's two counts, and only that range is searched."""
    bucket = np.int64(u * low.shape[1])  # exact: the number of buckets is a power of two
    lo, hi = low[r, bucket], high[r, bucket]
    n = hi - lo
    while n > 1:
        half = n >> 1
        lo = lo + half if cdf[r, lo + half] <= u else lo
        n -= half
    return lo + (1 if n == 1 and cdf[r, lo] <= u else 0)


def weights(decision):  # type: ignore[no-untyped-def]
    """The ``weights`` of :func:`_utility` from ``scenario.decision``."""
    d = decision
    return (*np.float32([d.intercept, d.trust_weight, d.quality_weight, 0.5]), d.repeat_weight)


@numba.njit(cache=True, nogil=True, inline="always")
def _utility(weights, trust, quality, factor, price, memory):  # type: ignore[no-untyped-def]
    """:meth:`Engine._utility` of one option: ``weights`` are (intercept, trust, quality,
    0.5) as float32 and the repeat weight as float64, so that the first terms are summed in
    float32, as numpy sums float32 arrays with Python floats, before the price term."""
    intercept, trust_weight, quality_weight, half, repeat_weight = weights
    first = intercept + trust_weight * trust + quality_weight * (quality - half)
    return (np.float64(first) - factor * price) + repeat_weight * np.float64(memory)


@numba.njit(cache=True, nogil=True)
def utilities(weights, trust, quality, factor, price, memory):  # type: ignore[no-untyped-def]
    """:func:`_utility` over arrays (for the tests: the bits of the numpy path)."""
    out = np.empty(len(trust))
    for i in range(len(trust)):
        out[i] = _utility(weights, trust[i], quality[i], factor[i], price[i], memory[i])
    return out


@numba.njit(cache=True, nogil=True)
def storefront(  # type: ignore[no-untyped-def]
    counts,
    u,
    ad_cdf,
    ad_low,
    ad_high,
    market,
    weights,
    user,
    listing,
    trust,
    memory,
    quality,
    ref,
    source,
    utility,
):
    """The storefront exposures of :meth:`Engine._storefront_exposures`, written into the
    output arrays (``user`` .. ``source``, and the chosen listing's ``utility``, one entry
    per impression).

    ``u`` holds each impression's uniforms: the storefront, the listing of its catalogue,
    the seat of the viewer and one per listing compared; ``market`` is the tuple of arrays
    and sizes named below; ``weights`` those of :func:`_utility`.
    """
    (
        n_creators,
        S,
        catalogue_ptr,
        active_users,
        active_bounds,
        seats,
        category_key,
        category_ptr,
        by_category,
        storefront_memory,
        listing_seller,
        listing_promise,
        listing_price,
    ) = market
    seat_trust, seat_memory, seat_factor, seat_user, _ = seats
    # Two passes: the first finds the listing and the viewer of each impression (a seat
    # of the seat table, see :func:`activity`) and parks what the second needs of the viewer
    # in the output arrays (the viewer's price factor in ``utility``, whether the viewer
    # remembers storefronts in ``memory``); the second reads the options of each and chooses.
    i = 0
    for r in range(len(counts)):
        first_seat = active_bounds[r]
        seats_r = active_bounds[r + 1] - first_seat
        for _ in range(counts[r]):
            store = n_creators + r * S + _inverse_cdf(ad_cdf, ad_low, ad_high, r, u[i, 0])
            start = catalogue_ptr[store]
            size = catalogue_ptr[store + 1] - start
            listing[i] = start + np.int64(u[i, 1] * size)
            at = first_seat + np.int64(u[i, 2] * seats_r)
            user[i] = active_users[at]
            trust[i] = seat_trust[at]
            ref[i] = seat_user[at]
            memory[i] = seat_memory[at]
            utility[i] = seat_factor[at]
            i += 1
    k = u.shape[1] - 3
    for i in range(len(user)):
        own = listing[i]
        t = trust[i]
        who = ref[i]
        known = memory[i] != 0
        factor = utility[i]
        mem = np.int8(0)
        if known:
            mem = storefront_memory[who, (listing_seller[own] - n_creators) % S]
        best, best_memory = own, mem
        best_utility = _utility(weights, t, listing_promise[own], factor, listing_price[own], mem)
        key = category_key[own]
        lo = category_ptr[key]
        count = category_ptr[key + 1] - lo
        for option in range(k):
            candidate = by_category[lo + np.int64(u[i, 3 + option] * count)]
            mem = np.int8(0)
            if known:
                mem = storefront_memory[who, (listing_seller[candidate] - n_creators) % S]
            value = _utility(
                weights, t, listing_promise[candidate], factor, listing_price[candidate], mem
            )
            # np.argmax: the first of the largest, or the first NaN (without branches,
            # which the processor would mispredict).
            take = (value > best_utility) | ((value != value) & (best_utility == best_utility))
            best = candidate if take else best
            best_memory = mem if take else best_memory
            best_utility = value if take else best_utility
        listing[i] = best
        memory[i] = best_memory
        quality[i] = listing_promise[best]
        source[i] = listing_seller[best] - n_creators
        utility[i] = best_utility


@numba.njit(cache=True, nogil=True, inline="always")
def _quotient(node, nodes, inverse):  # type: ignore[no-untyped-def]
    """``node // nodes`` (a node's replication) for 0 <= node < 2**31, with ``inverse`` =
    1 / nodes: a multiplication, corrected by one where it rounds across a multiple (a
    division takes tens of cycles)."""
    q = np.int64(node * inverse)
    q += np.int64((q + 1) * nodes <= node)
    q -= np.int64(q * nodes > node)
    return q


@numba.njit(cache=True, nogil=True)
def sorted_counts(ids, size, inverse, counts):  # type: ignore[no-untyped-def]
    """Whether the replications ``ids // size`` (``inverse`` = 1 / size) never decrease;
    if so, ``counts`` (zeros on entry) gets the number of entries of each."""
    last, start = 0, 0
    low, high = 0, size  # the ids of replication ``last``
    for i in range(len(ids)):
        if ids[i] < low or ids[i] >= high:
            r = _quotient(ids[i], size, inverse)
            if r < last:
                return False
            counts[last] += i - start
            last, start = r, i
            low = r * size
            high = low + size
    counts[last] += len(ids) - start
    return True


@numba.njit(cache=True, nogil=True)
def day_counts(  # type: ignore[no-untyped-def]
    nodes, exposure_users, order_channel, order_user, values, row_bits, flags, out, distinct
):
    """The per-channel counts and every row's distinct users of
    :meth:`laotie.metrics.DayCounter.count`: into ``out`` (replications x rows x counts,
    zeros on entry) columns 0 (exposures), 2 (orders) and 4, 5, 6 (the order sums
    ``values[0..2]``, added in order as ``np.bincount`` adds its weights) of the channel
    rows; into ``distinct`` (replications x rows x 2) every row's distinct exposed users and
    buyers. ``flags`` is the counter's scratch of one byte per node, zero on entry and on
    return."""
    k = len(exposure_users)
    inverse = 1.0 / nodes
    touched = np.empty(len(order_user) + sum([len(e) for e in exposure_users]), np.int64)
    n_touched = 0
    for c in range(k):
        users = exposure_users[c]
        bit = np.uint8(1 << c)
        # Exposures come in runs of one replication: counted in a register, added per run.
        current, run = -1, 0
        for i in range(len(users)):
            node = users[i]
            r = _quotient(node, nodes, inverse)
            if r != current:
                if run:
                    out[current, c, 0] += run
                current, run = r, 0
            run += 1
            # A node's first flag of the day puts it on the list (without a branch).
            held = flags[node]
            touched[n_touched] = node
            n_touched += held == 0
            flags[node] = held | bit
        if run:
            out[current, c, 0] += run
    for i in range(len(order_user)):
        node = order_user[i]
        c = order_channel[i]
        r = _quotient(node, nodes, inverse)
        out[r, c, 2] += 1
        for column in range(3):
            out[r, c, 4 + column] += values[column, i]
        if flags[node] == 0:
            touched[n_touched] = node
            n_touched += 1
        flags[node] |= np.uint8(1 << (4 + c))
    # Each replication's histogram of flag bytes (one increment per node, instead of one
    # per row and node), then the rows' distinct users from the histogram.
    histogram = np.zeros((distinct.shape[0], 256), np.int64)
    for i in range(n_touched):
        node = touched[i]
        histogram[_quotient(node, nodes, inverse), flags[node]] += 1
        flags[node] = 0
    for r in range(distinct.shape[0]):
        for held in range(1, 256):
            count = histogram[r, held]
            if count:
                for row in range(len(row_bits)):
                    distinct[r, row, 0] += count * ((held & row_bits[row]) != 0)
                    distinct[r, row, 1] += count * ((held & (row_bits[row] << 4)) != 0)


@numba.njit(cache=True, nogil=True, inline="always")
def _search_left(keys, key, lo, hi):  # type: ignore[no-untyped-def]
    """``lo + keys[lo:hi].searchsorted(key)`` (side "left"), with selects, then counting
    the keys below ``key`` in a short range (see :func:`_search_right`)."""
    n = hi - lo
    while n > _LINEAR_SEARCH:
        half = n >> 1
        lo = lo + half if keys[lo + half] < key else lo
        n -= half
    count = 0
    for j in range(lo, lo + n):
        count += keys[j] < key
    return lo + count


@numba.njit(cache=True, nogil=True, inline="always")
def _find(follows, user, creator, bits):  # type: ignore[no-untyped-def]
    """:meth:`laotie.engine.market.Follows.find` of one pair: (kind, index), kind 0 none,
    1 main (searched in the creator's row, sorted by user), 2 buffer. ``bits`` are the
    user's follow bits (:attr:`~laotie.engine.market.Follows.bits`): if the creator's bit is
    clear there is no tie, and nothing is searched."""
    if (bits >> np.uint64(creator & 63)) & np.uint64(1) == 0:
        return 0, -1
    indptr, main_user, n, buffer_keys, buffer_order = follows
    lo, hi = indptr[creator], indptr[creator + 1]
    at = _search_left(main_user, user, lo, hi)
    if at < hi and main_user[at] == user:
        return 1, at
    key = np.int64(creator) * n + user
    at = _search_left(buffer_keys, key, 0, len(buffer_keys))
    if at < len(buffer_keys) and buffer_keys[at] == key:
        return 2, buffer_order[at]
    return 0, -1


@numba.njit(cache=True, nogil=True)
def discovery_picks(  # type: ignore[no-untyped-def]
    counts,
    u,
    cdf,
    table,
    post_of,
    posting,
    seat,
    active_users,
    creator_node,
    user,
    pick,
):
    """The posts the viewers of :meth:`Engine._discovery_exposures` see, from its draws
    (the viewers' seats, positions in ``active_users``, and the uniforms of the posts they
    see): each viewer into ``user``, its seat into ``seat`` (overwritten in order) and the
    post (an index into ``posting``) into ``pick``, skipping a creator's view of its own
    post; returns how many were written.

    ``cdf``: one row per replication (its creator slots); slot k of replication r holds the
    post ``post_of[r * cdf.shape[1] + k]``. ``table``: the rows' look-up tables (low, high;
    :func:`_inverse_cdf`), or two arrays of no columns to search the rows directly."""
    width = cdf.shape[1]
    low, high = table
    i = 0
    out = 0
    for r in range(len(counts)):
        row = cdf[r]
        for _ in range(counts[r]):
            if low.shape[1]:
                slot = _inverse_cdf(cdf, low, high, r, u[i])
            else:
                slot = _search_right(row, u[i], 0, width)
            chosen = post_of[r * width + slot]
            at = seat[i]
            viewer = active_users[at]
            i += 1
            user[out] = viewer
            seat[out] = at
            pick[out] = chosen
            out += viewer != creator_node[posting[chosen]]
    return out


@numba.njit(cache=True, nogil=True)
def discovery_fields(  # type: ignore[no-untyped-def]
    order,
    seat,
    seats,
    posting,
    featured,
    creator_node,
    follows,
    trusts,
    codes,
    stranger_trust,
    listing_promise,
    prices,
    out,
):
    """The fields (``out``, see :func:`_exposure`) of the discovery exposures whose viewers
    are ``out``'s users (sitting at
    ``seat`` of the seat table ``seats``, see :func:`activity`) and posts ``ref`` (indices
    into ``posting``; replaced by where the viewer's tie to the creator lives), taken in
    ``order`` (sorted by creator and viewer, so that the look-ups of ties walk the
    follow arrays in order).

    ``follows``: what :func:`_find` reads; ``trusts``: the follow ties' (trust, memory,
    buffer trust, buffer memory); ``codes``: ``ref_kind`` of a tie in the main arrays, in the
    buffer and of none; ``prices``: the :func:`_utility` weights and the listings' prices."""
    main_trust, main_memory, buffer_trust, buffer_memory = trusts
    in_main, in_buffer, in_none = codes
    weights, listing_price = prices
    _, _, seat_factor, _, seat_bits = seats
    user, ref = out[0], out[6]
    for j in range(len(order)):
        i = order[j]
        at = seat[i]
        viewer = user[i]
        chosen = ref[i]
        seller = posting[chosen]
        kind, index = _find(follows, viewer, creator_node[seller], seat_bits[at])
        if kind == 1:
            t, mem, code = main_trust[index], main_memory[index], in_main
        elif kind == 2:
            t, mem, code = buffer_trust[index], buffer_memory[index], in_buffer
        else:
            t, mem, code = stranger_trust, np.int8(0), in_none
        _exposure(
            out,
            i,
            (viewer, featured[chosen], t, mem, code, index, seller),
            weights,
            seat_factor[at],
            listing_promise,
            listing_price,
        )


@numba.njit(cache=True, nogil=True, inline="always")
def _exposure(  # type: ignore[no-untyped-def]
    out, n, fields, weights, factor, listing_promise, listing_price
):
    """Write exposure ``n`` into ``out`` = (user, listing, trust, memory, quality, ref_kind,
    ref, source, utility) from ``fields`` = (viewer, listing, trust, memory, ref_kind, ref,
    source): the quality is the listing's promise, the utility :func:`_utility`'s with the
    viewer's price ``factor``."""
    user, listing, trust, memory, quality, ref_kind, ref, source, utility = out
    viewer, item, t, mem, code, where, seller = fields
    user[n] = viewer
    listing[n] = item
    trust[n] = t
    memory[n] = mem
    quality[n] = listing_promise[item]
    ref_kind[n] = code
    ref[n] = where
    source[n] = seller
    utility[n] = _utility(weights, t, listing_promise[item], factor, listing_price[item], mem)


@numba.njit(cache=True, nogil=True, inline="always")
def _seen(  # type: ignore[no-untyped-def]
    n, candidates, ties, code, rho, listing_of, listing_promise, prices, out
):
    """:func:`follow_fields` of one part (main arrays or buffer), from output row ``n``;
    returns the next output row."""
    rows, sellers, draws = candidates
    tie_user, tie_trust, tie_memory = ties
    weights, price_factor, listing_price = prices
    for i in range(len(rows)):
        seller = sellers[i]
        if draws[i] < rho[seller]:
            row = rows[i]
            viewer = tie_user[row]
            fields = (
                viewer,
                listing_of[seller],
                tie_trust[row],
                tie_memory[row],
                code,
                row,
                seller,
            )
            _exposure(out, n, fields, weights, price_factor[viewer], listing_promise, listing_price)
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def follow_fields(  # type: ignore[no-untyped-def]
    main, extra, rho, listing_of, follows, codes, listing_promise, prices, out
):
    """The follow exposures of :meth:`Engine._follow_exposures` from its candidates, written
    in order into ``out`` (see :func:`_exposure`); returns how many.

    ``main`` and ``extra`` are the awake followers' ties in the main arrays and in the
    buffer: (positions, posting sellers, uniforms); a tie's follower sees the post if its
    uniform is below the seller's reach ``rho``. ``follows``: the ties' (users, trusts,
    memories) of the main arrays and of the buffer; ``codes``: ``ref_kind`` of a main and
    of a buffer tie; ``prices``: the :func:`_utility` weights, the users' price factors and
    the listings' prices."""
    n = _seen(0, main, follows[0], codes[0], rho, listing_of, listing_promise, prices, out)
    return _seen(n, extra, follows[1], codes[1], rho, listing_of, listing_promise, prices, out)


@numba.njit(cache=True, nogil=True)
def exposure_utilities(  # type: ignore[no-untyped-def]
    weights, user, listing, trust, quality, memory, price_factor, listing_price, out
):
    """:meth:`Engine._utility` of every exposure, into ``out``."""
    for i in range(len(user)):
        out[i] = _utility(
            weights,
            trust[i],
            quality[i],
            price_factor[user[i]],
            listing_price[listing[i]],
            memory[i],
        )


@numba.njit(cache=True, nogil=True)
def candidates(draws, utility, out):  # type: ignore[no-untyped-def]
    """The exposures whose draw is below their purchase probability (:meth:`Engine._decide`):
    their indices, in order, into ``out``; returns how many. The probability is
    ``scipy.special.expit``'s, ``1 / (1 + exp(-utility))`` with the same libm ``exp``, so the
    bits are the same (a test compares them, extremes and NaN included).

    Most draws are refused without ``exp``: since exp(-x) >= 1 - x, the probability is at
    most 1 / (2 - x) for x < 1, and a draw at least that (with a margin of 1e-9, far above
    the rounding of either side) is not below the probability."""
    n = 0
    for i in range(len(draws)):
        x = utility[i]
        draw = draws[i]
        out[n] = i
        if x < 1.0 and draw * (2.0 - x) >= 1.000000001:
            continue
        n += draw < 1.0 / (1.0 + math.exp(-x))
    return n


@numba.njit(cache=True, nogil=True)
def budgets(  # type: ignore[no-untyped-def]
    order, user, value, budget, spent, ever_ordered, repeat_purchases, nodes, accept, blocked
):
    """Which candidate orders the buyers' budgets accept and block (:meth:`Engine._decide`):
    ``order`` sorts them by buyer and the day's rank; with repeat purchases each buyer's
    running total is, as in the numpy path, the replication's cumulative sum less the sum
    before the buyer's first order, and must fit the budget left; without, only a buyer's
    first order counts, if the buyer never ordered. ``accept`` and ``blocked`` are indexed
    like ``user`` (zeros on entry)."""
    cumulative = 0.0
    before = 0.0
    replication = -1
    previous = -1
    for j in range(len(order)):
        i = order[j]
        buyer = user[i]
        if buyer // nodes != replication:
            replication = buyer // nodes
            cumulative = 0.0
        first = buyer != previous
        previous = buyer
        room = budget[buyer] - spent[buyer] + 1e-9
        if repeat_purchases:
            if first:
                before = cumulative
            cumulative = cumulative + value[i]
            fits = cumulative - before <= room
            accept[i] = fits
            blocked[i] = not fits
        elif first and not ever_ordered[buyer]:
            fits = value[i] <= room
            accept[i] = fits
            blocked[i] = not fits


@numba.njit(cache=True, nogil=True)
def wom_counts(rec_user, indptr, nodes, counts):  # type: ignore[no-untyped-def]
    """The listener ties of the recommenders ``rec_user`` (stacked ids), added to their
    replications' ``counts``: the word-of-mouth draws of the day (one per tie)."""
    inverse = 1.0 / nodes
    for j in range(len(rec_user)):
        node = rec_user[j]
        r = _quotient(node, nodes, inverse)
        local = node - r * nodes
        counts[r] += indptr[local + 1] - indptr[local]


@numba.njit(cache=True, nogil=True)
def wom_exposures(recs, listeners, nodes, active, u, first, prob, ref_social, out):  # type: ignore[no-untyped-def]
    """The word-of-mouth exposures of :meth:`Engine._wom_exposures`: each recommendation
    (``recs`` = user, listing, experienced quality) reaches each listener tie of its
    recommender with one draw of the tie's replication (``u[first[r]]``, ``first[r]``
    advancing), and is heard if the listener is active and the draw below ``prob``. Writes
    the heard ones into ``out`` (user, listing, trust, memory, quality clipped to [0, 1],
    ref_kind, ref: the tie's position in the stacked ``listeners`` arrays, source; not the
    utility); returns how many. ``listeners`` = (indptr, listener, trust, memory, ties per
    replication)."""
    rec_user, rec_listing, rec_quality = recs
    indptr, listener, tie_trust, tie_memory, n_ties = listeners
    user, listing, trust, memory, quality, ref_kind, ref, source, _ = out
    inverse = 1.0 / nodes
    zero, one = np.float32(0.0), np.float32(1.0)
    n = 0
    for j in range(len(rec_user)):
        node = rec_user[j]
        r = _quotient(node, nodes, inverse)
        local = node - r * nodes
        q = rec_quality[j]
        q = zero if q < zero else (one if q > one else q)  # np.clip (NaN stays NaN)
        for row in range(indptr[local], indptr[local + 1]):
            draw = u[first[r]]
            first[r] += 1
            hearer = listener[row] + r * nodes
            if active[hearer] and draw < prob:
                position = row + r * n_ties
                user[n] = hearer
                listing[n] = rec_listing[j]
                trust[n] = tie_trust[position]
                memory[n] = tie_memory[position]
                quality[n] = q
                ref_kind[n] = ref_social
                ref[n] = position
                source[n] = node
                n += 1
    return n


@numba.njit(cache=True, nogil=True)
def activity(draws, p_active, users, active, out, viewer, seats):  # type: ignore[no-untyped-def]
    """Today's active users (:meth:`Engine._activity`): the users whose draw is below
    their activity probability, in order, into ``out``, and every user's flag in ``active``
    (yesterday's flags are overwritten); returns how many.

    ``seats`` gets what the day's exposures read of each active user, in the same order
    (the seat table): its storefront trust, whether it remembers storefronts, its price
    factor, its user index and its follow bits, gathered from ``viewer`` = (storefront
    trust, storefront memory flags, price factors, follow bits), all read in increasing node
    order. The exposures then read a viewer's numbers in one small table instead of in four
    city-wide arrays (none of them changes before the day's orders)."""
    storefront_trust, has_memory, price_factor, follow_bits = viewer
    seat_trust, seat_memory, seat_factor, seat_user, seat_bits = seats
    n = 0
    for i in range(len(draws)):
        # Written whether or not the user is active, and counted only if so (no branch).
        awake = draws[i] < p_active[i]
        out[n] = users[i]
        seat_user[n] = i
        active[users[i]] = awake
        n += awake
    # The seats, in a second pass over the active users only (in increasing node order).
    for j in range(n):
        node = out[j]
        seat_trust[j] = storefront_trust[node]
        seat_memory[j] = has_memory[seat_user[j]]
        seat_factor[j] = price_factor[node]
        seat_bits[j] = follow_bits[node]
    return n


@numba.njit(cache=True, nogil=True)
def awake_followers(posting, creator_node, indptr, follower, active, rows, seller):  # type: ignore[no-untyped-def]
    """The follow ties (in the main arrays) of today's posting creators whose follower is
    active, in order (:meth:`Engine._follow_exposures`): their positions into ``rows`` and
    posting sellers into ``seller``; returns how many."""
    n = 0
    for p in range(len(posting)):
        creator = creator_node[posting[p]]
        for row in range(indptr[creator], indptr[creator + 1]):
            if active[follower[row]]:
                rows[n] = row
                seller[n] = posting[p]
                n += 1
    return n
