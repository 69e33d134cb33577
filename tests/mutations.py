"""Mutation checks: break a rule of the model on purpose and see which tests fail.

``python -m tests.mutations`` copies the project into a temporary folder once per mutation,
applies the mutation there (a textual change of one rule in ``laotie/``, which must match
exactly once, so that a refactoring that moves the rule makes the script fail loudly instead
of testing nothing), runs the tests and reports the ones that failed. A mutation that no test
catches is a hole in the tests. docs/testing.md lists the mutations and what caught them.

    python -m tests.mutations                      # every mutation, the default tests
    python -m tests.mutations --list               # the mutations
    python -m tests.mutations reversed_trust       # one (or several) by name
    python -m tests.mutations reversed_trust --tests tests/engine/test_outcomes.py

The working tree is never modified. Each run takes a few minutes per mutation (the engine's
tests and the oracle comparisons, plus compiling the mutated module's kernels).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TESTS = ("tests/engine", "tests/test_oracle.py")
MEMORY_LIMIT = 8 * 2**30
"""Address space of the test process: a mutation that makes purchases explode then fails its
tests with MemoryError instead of bringing the machine down."""


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` by ``new`` in ``path`` (relative to the project); ``rule`` says in
    plain words what the change breaks."""

    name: str
    path: str
    old: str
    new: str
    rule: str


OUTCOMES = "laotie/engine/rules/outcomes.py"
DECISIONS = "laotie/engine/rules/decisions.py"
TRAINING = "laotie/engine/rules/training.py"
DISCOVERY = "laotie/engine/rules/discovery.py"
STOREFRONT = "laotie/engine/rules/storefront.py"
INFORMATION = "laotie/engine/rules/information.py"
LOYALTY = "laotie/engine/rules/loyalty.py"
WORD_OF_MOUTH = "laotie/engine/rules/word_of_mouth.py"
MONTH = "laotie/engine/rules/month.py"
PRODUCERS = "laotie/engine/rules/producers.py"
ACCOUNTS = "laotie/accounts.py"
GENERATORS = "laotie/graph/generators.py"
MARKET = "laotie/engine/market.py"
GROWTH = "laotie/engine/rules/growth.py"
ACTIVITY = "laotie/engine/rules/activity.py"
MEMORIES = "laotie/engine/memories.py"

MUTATIONS = (
    Mutation(
        "reversed_trust",
        OUTCOMES,
        "satisfied, trust + o.trust_gain * (1 - trust), trust - o.trust_loss * trust",
        "satisfied, trust - o.trust_loss * trust, trust + o.trust_gain * (1 - trust)",
        "the trust update reversed: satisfied buyers lose trust, disappointed ones gain it",
    ),
    Mutation(
        "swapped_gain_and_loss",
        OUTCOMES,
        "satisfied, trust + o.trust_gain * (1 - trust), trust - o.trust_loss * trust",
        "satisfied, trust + o.trust_loss * (1 - trust), trust - o.trust_gain * trust",
        "trust_gain and trust_loss swapped",
    ),
    Mutation(
        "no_follow_trust_write",
        OUTCOMES,
        "            tie_trust[1][ref[i]] = new_trust[i]\n"
        "            tie_memory[1][ref[i]] = memory\n",
        "            pass\n",
        "the new trust and memory of follow ties (main arrays) never written",
    ),
    Mutation(
        "no_social_trust_write",
        OUTCOMES,
        "            tie_trust[0][ref[i]] = new_trust[i]\n"
        "            tie_memory[0][ref[i]] = memory\n",
        "            pass\n",
        "the new trust and memory of social ties (word of mouth) never written",
    ),
    Mutation(
        "no_storefront_trust_write",
        OUTCOMES,
        "            storefront_trust[user[i]] = new_trust[i]\n",
        "",
        "the new trust in storefronts never written",
    ),
    Mutation(
        "no_memory_write",
        OUTCOMES,
        "        (m.listeners.memory, f.memory, f.buffer_memory),\n",
        "        (m.listeners.memory.copy(), f.memory.copy(), f.buffer_memory.copy()),\n",
        "the memory of ties (+1 / -1) never written",
    ),
    Mutation(
        "satisfaction_flipped",
        OUTCOMES,
        "orders.satisfied = experienced >= b.quality - tolerance[replication, kind]",
        "orders.satisfied = experienced < b.quality - tolerance[replication, kind]",
        "buyers satisfied exactly when they should be disappointed",
    ),
    Mutation(
        "word_of_mouth_comparison_flipped",
        "laotie/engine/rules/word_of_mouth.py",
        "if draw < (prob * tie_trust[position] if trust_scaled else prob):",
        "if draw >= (prob * tie_trust[position] if trust_scaled else prob):",
        "a recommendation heard with probability 1 - prob instead of prob",
    ),
    Mutation(
        "budget_ignored",
        DECISIONS,
        "            fits = cumulative - before <= room\n",
        "            fits = True\n",
        "budgets never bind (with repeat purchases)",
    ),
    Mutation(
        "basket_items_dropped",
        DECISIONS,
        "items = 1 + poisson(lam, stream.per_entry(replication))",
        "items = 1 + 0 * poisson(lam, stream.per_entry(replication))",
        "every order has one item",
    ),
    Mutation(
        "price_term_sign",
        DECISIONS,
        "return (np.float64(first) - factor * price)",
        "return (np.float64(first) + factor * price)",
        "a higher price makes a purchase more likely",
    ),
    Mutation(
        "memory_term_dropped",
        DECISIONS,
        "+ weights.repeat_weight * np.float64(memory)",
        "+ 0.0 * np.float64(memory)",
        "past satisfaction with the source ignored by the logit",
    ),
    Mutation(
        "reach_ignored",
        "laotie/engine/rules/follow.py",
        "k += draws[i] < reach[seller]",
        "k += draws[i] < 1.0",
        "every active follower sees every post (reach ignored)",
    ),
    Mutation(
        "head_cap_ignored",
        "laotie/engine/rules/posts.py",
        "    if capped.any():\n",
        "    if False:\n",
        "the inclusive policy's cap on head KOLs' exposures never applied",
    ),
    Mutation(
        "storefront_keeps_its_own_product",
        "laotie/engine/rules/storefront.py",
        "take = (value > best_utility) | ((value != value) & (best_utility == best_utility))",
        "take = False",
        "price comparison (比价) never switches to a better product",
    ),
    Mutation(
        "strangers_never_follow",
        OUTCOMES,
        "follow = stranger[stream.per_entry(replication[stranger]) < follow_prob]",
        "follow = stranger[stream.per_entry(replication[stranger]) < 0.0]",
        "satisfied strangers from discovery never follow",
    ),
    Mutation(
        "discovery_reads_the_wrong_tie",
        "laotie/engine/rules/discovery.py",
        "trust, memory, code = buffer_trust[index], buffer_memory[index], REF_BUFFER",
        "trust, memory, code = main_trust[index], buffer_memory[index], REF_BUFFER",
        "discovery reads a buffered follow tie's trust from the main arrays",
    ),
    Mutation(
        "word_of_mouth_first_replications_ties",
        "laotie/engine/rules/word_of_mouth.py",
        "            position = row + r * n_ties\n",
        "            position = row\n",
        "lockstep replications hear word of mouth through replication 0's trust",
    ),
    Mutation(
        "month_never_resets",
        "laotie/engine/rules/month.py",
        "    L.spent[:] = 0\n",
        "",
        "spending never resets at the start of a month",
    ),
    Mutation(
        "training_no_authenticity_gain",
        TRAINING,
        "m.authenticity[chosen] = np.minimum(1, m.authenticity[chosen] + t.authenticity_gain)",
        "m.authenticity[chosen] = np.minimum(1, m.authenticity[chosen])",
        "training adds no authenticity",
    ),
    Mutation(
        "training_no_content_quality_gain",
        TRAINING,
        "m.content_quality[chosen] = np.minimum(1,"
        " m.content_quality[chosen] + t.content_quality_gain)",
        "m.content_quality[chosen] = np.minimum(1, m.content_quality[chosen])",
        "training adds no content quality",
    ),
    Mutation(
        "training_gain_uncapped",
        TRAINING,
        "m.authenticity[chosen] = np.minimum(1, m.authenticity[chosen] + t.authenticity_gain)",
        "m.authenticity[chosen] = m.authenticity[chosen] + t.authenticity_gain",
        "training's authenticity gain not capped at 1",
    ),
    Mutation(
        "training_content_quality_uncapped",
        TRAINING,
        "m.content_quality[chosen] = np.minimum(1,"
        " m.content_quality[chosen] + t.content_quality_gain)",
        "m.content_quality[chosen] = m.content_quality[chosen] + t.content_quality_gain",
        "training's content-quality gain not capped at 1",
    ),
    Mutation(
        "training_promises_not_recomputed",
        TRAINING,
        "    m.update_promises()\n",
        "",
        "promises not recomputed after training",
    ),
    Mutation(
        "training_follows_at_zero_trust",
        TRAINING,
        "np.full(len(first), scenario.creators.stranger_trust, np.float32)",
        "np.zeros(len(first), np.float32)",
        "training's new follow ties start at trust 0 instead of creators.stranger_trust",
    ),
    Mutation(
        "training_follows_with_memory",
        TRAINING,
        "            np.zeros(len(first), np.int8),\n",
        "            np.ones(len(first), np.int8),\n",
        "training's new follow ties start with memory +1 instead of 0",
    ),
    Mutation(
        "training_creator_follows_itself",
        TRAINING,
        "keep = (user != creator) & (kind == 0)",
        "keep = kind == 0",
        "a trained creator may gain itself as a follower",
    ),
    Mutation(
        "training_followers_follow_again",
        TRAINING,
        "keep = (user != creator) & (kind == 0)",
        "keep = user != creator",
        "a trained creator's existing followers get a second tie",
    ),
    Mutation(
        "discovery_heads_under_inclusive",
        DISCOVERY,
        "        eligible = np.flatnonzero(~m.is_head[posting])\n",
        "        eligible = np.arange(len(posting))\n",
        "under inclusive, head KOLs get discovery traffic",
    ),
    Mutation(
        "discovery_weight_without_one_plus",
        DISCOVERY,
        "weight = m.content_quality[posting] * (1.0 + followers) ** p.head_exponent",
        "weight = m.content_quality[posting] * followers ** p.head_exponent",
        "discovery weight cq · F^h instead of cq · (1 + F)^h under head",
    ),
    Mutation(
        "discovery_weight_ignores_followers",
        DISCOVERY,
        "weight = m.content_quality[posting] * (1.0 + followers) ** p.head_exponent",
        "weight = m.content_quality[posting] * (1.0 + 0 * followers) ** p.head_exponent",
        "discovery weight ignores followers under head",
    ),
    Mutation(
        "discovery_weight_ignores_content_quality",
        DISCOVERY,
        "        weight = m.content_quality[posting[eligible]]\n",
        "        weight = np.ones(len(eligible))\n",
        "discovery weight ignores content quality under inclusive",
    ),
    Mutation(
        "storefront_ad_tables_swapped",
        STOREFRONT,
        "        ad_low=m.ad_low,\n        ad_high=m.ad_high,\n",
        "        ad_low=m.ad_high,\n        ad_high=m.ad_low,\n",
        "the ad shares' look-up tables swapped: a biased storefront draw",
    ),
    Mutation(
        "basket_trust_effect_ignored",
        DECISIONS,
        "lam = d.basket_extra_items * (1 + d.basket_trust_effect * c.trust)",
        "lam = d.basket_extra_items * (1 + 0 * c.trust)",
        "basket_trust_effect ignored",
    ),
    Mutation(
        "first_order_of_the_day_decides",
        OUTCOMES,
        "    reversed_keys = key[index][::-1]\n"
        "    _, first = np.unique(reversed_keys, return_index=True)\n"
        "    return index[::-1][first]\n",
        "    _, first = np.unique(key[index], return_index=True)\n    return index[first]\n",
        "the first, not the last, of a day's orders through a source sets its trust and memory",
    ),
    Mutation(
        "sharing_ignores_trust",
        INFORMATION,
        "            < self.info.share_prob * trust[can_share]\n",
        "            < self.info.share_prob\n",
        "sharing in the app not weighted by trust",
    ),
    Mutation(
        "hometown_feed_by_region",
        INFORMATION,
        "< home[self.hometown[users]]",
        "< home[self.region[users]]",
        "the hometown feed looked up by region instead of hometown",
    ),
    Mutation(
        "offline_along_city_ties",
        INFORMATION,
        "        can_tell = np.flatnonzero(lis.kin[position])\n",
        "        can_tell = np.arange(len(position))\n",
        "offline telling along city ties too, not kin only",
    ),
    Mutation(
        "offline_ignores_trust",
        INFORMATION,
        "            < self.info.offline_prob * trust[can_tell]\n",
        "            < self.info.offline_prob\n",
        "offline telling not weighted by trust",
    ),
    Mutation(
        "sharing_with_non_users",
        INFORMATION,
        "can_share = np.flatnonzero(self.user[sharers[owner]] & self.user[listener])",
        "can_share = np.arange(len(listener))",
        "sharing in the app reaches non-users (and from them)",
    ),
    Mutation(
        "offline_before_app",
        INFORMATION,
        "        mark[listener[told]] = OFFLINE\n        mark[listener[shared]] = SHARE\n",
        "        mark[listener[shared]] = SHARE\n        mark[listener[told]] = OFFLINE\n",
        "a person reached in the app and offline counts as offline",
    ),
    Mutation(
        "feeds_reach_non_users",
        INFORMATION,
        "        users = active_users[self.state[m, active_users] == 0].astype(np.int64)\n",
        "        users = np.flatnonzero(self.state[m] == 0).astype(np.int64)\n",
        "the feeds reach inactive users and non-users",
    ),
    Mutation(
        "click_ignored",
        DECISIONS,
        "            draw = draw / attention\n",
        "            pass\n",
        "the funnel's click stage does not gate the purchase (clicked or not, σ(u) decides)",
    ),
    Mutation(
        "clicks_miscounted",
        DECISIONS,
        "        run += draw < attention",
        "        run += draw <= attention / 2",
        "clicks are counted with the wrong threshold",
    ),
    Mutation(
        "attention_swapped",
        STOREFRONT,
        "clicks(impressions, s.click_prob, today, stream)",
        "clicks(impressions, scenario.creators.enter_prob, today, stream)",
        "storefront impressions use the creators' entry probability",
    ),
    Mutation(
        "operators_inverted",
        INFORMATION,
        "else np.isin(self.gov_region, operators)",
        "else ~np.isin(self.gov_region, operators)",
        "information's rule 'targeted' trains the operators of the regions not named",
    ),
    Mutation(
        "operators_negative_index",
        INFORMATION,
        "            and 0 <= operator < len(names)",
        "            and operator < len(names)",
        "a negative region index is taken (from the end) instead of refused",
    ),
    Mutation(
        "seeds_never_told",
        INFORMATION,
        "            if day == self.post_day[m] and len(self.seeds):\n",
        "            if False:\n",
        "residents given as seeds are never told the message",
    ),
    Mutation(
        "seeds_told_a_day_late",
        INFORMATION,
        "            if day == self.post_day[m] and len(self.seeds):\n",
        "            if day == self.post_day[m] + 1 and len(self.seeds):\n",
        "seeds are told the message the day after its posting",
    ),
    Mutation(
        "seeds_after_the_feeds",
        INFORMATION,
        "            people = np.concatenate(new_people) if new_people else np.zeros(0, np.int64)\n"
        "            paths = np.concatenate(new_paths) if new_paths else np.zeros(0, np.uint8)\n",
        "            people = np.concatenate(new_people[::-1]) if new_people else "
        "np.zeros(0, np.int64)\n"
        "            paths = np.concatenate(new_paths[::-1]) if new_paths else "
        "np.zeros(0, np.uint8)\n",
        "a seed the feeds reach on the posting day counts as reached by the feeds",
    ),
    Mutation(
        "seeds_outside_the_city",
        INFORMATION,
        "        if not resident[node]:\n",
        "        if False:\n",
        "a creator outside the city is taken as a seed instead of refused",
    ),
    Mutation(
        "enrolled_drawn_by_position",
        "laotie/engine/market.py",
        "        drawn, take = (n_spec, slice(None)) if enrolled is None else (n, producers)\n",
        "        drawn, take = n_spec, slice(None)\n",
        "enrolled producers' offline incomes and specialties drawn by position, not by node",
    ),
    Mutation(
        "enrolled_listed_by_position",
        "laotie/engine/market.py",
        '        salt = _salt(rng) if by_node and rule != "followers" else None\n',
        "        salt = None\n",
        "enrolled producers' creator listings drawn by position, not by node",
    ),
    Mutation(
        "enrolled_storefronts_by_position",
        "laotie/engine/market.py",
        "            if enrolled is None:\n                keys = by_storefronts.random(",
        "            if True:\n                keys = by_storefronts.random(",
        "enrolled producers' storefront listings drawn by position, not by node",
    ),
    Mutation(
        "enrolled_ignored",
        "laotie/engine/market.py",
        "        if enrolled is not None:\n            producers = np.asarray(",
        "        if False:\n            producers = np.asarray(",
        "the producers are drawn even when the engine is given whom to enrol",
    ),
    Mutation(
        "enrolled_listings_unsalted",
        "laotie/engine/market.py",
        "    return np.uint64(rng.integers(0, 2**63, dtype=np.uint64))\n",
        "    rng.integers(0, 2**63, dtype=np.uint64)\n    return np.uint64(12345)\n",
        "enrolled producers' listings hashed without the replication's salt: the same sellers "
        "in every replication and seed",
    ),
    Mutation(
        "clicks_skipped_above_half",
        STOREFRONT,
        "    if click_prob >= 1:",
        "    if click_prob > 0.5:",
        "every impression counts as clicked when the click probability is above 0.5",
    ),
    Mutation(
        "reach_counts_unposted",
        "laotie/results.py",
        "    posted = information.post_day < days",
        "    posted = information.post_day <= days",
        "the information outcomes average in a message posted the day after the run",
    ),
    Mutation(
        "unclicked_uncounted",
        "laotie/engine/engine.py",
        "                by_channel[STOREFRONT].append(users)\n",
        "",
        "the viewers of impressions not clicked are not counted as exposed users",
    ),
    Mutation(
        "unclicked_seat_unscaled",
        STOREFRONT,
        "(w - click_prob) / keep * seats",
        "(w - click_prob) * seats",
        "an impression not clicked is shown to one of the first seats only (a biased viewer)",
    ),
    Mutation(
        "rate_ignored",
        OUTCOMES,
        '    if outcomes.satisfaction == "tolerance":',
        "    if True:",
        "satisfaction = 'rate' keeps the fixed tolerance",
    ),
    Mutation(
        "rate_types_swapped",
        OUTCOMES,
        "    kind = (m.listing_seller[b.listing] >= m.n_creators).astype(np.int64)",
        "    kind = (m.listing_seller[b.listing] < m.n_creators).astype(np.int64)",
        "creators' orders judged with the storefronts' tolerance and the reverse",
    ),
    Mutation(
        "wom_trust_scaling_ignored",
        WORD_OF_MOUTH,
        "if draw < (prob * tie_trust[position] if trust_scaled else prob):",
        "if draw < prob:",
        "word_of_mouth.trust_scaled has no effect",
    ),
    Mutation(
        "first_orders_every_day",
        OUTCOMES,
        "        if not ever_ordered[buyer]:\n",
        "        if not (user[:i] == buyer).any():\n",
        "every buyer's first order of the day counts as their first order ever",
    ),
    Mutation(
        "buffer_marks_not_reset",
        "laotie/engine/rules/follow.py",
        "    for c in creators:\n        marks[c] = 0\n",
        "",
        "the marks of a day's posting creators are left set: later days show the buffer's "
        "follow ties of creators who do not post",
    ),
    Mutation(
        "follow_bits_shifted",
        "laotie/engine/ties.py",
        "        bits[user[i]] |= creator_mask(creator[i])",
        "        bits[user[i]] |= creator_mask(creator[i]) >> np.uint64(1)",
        "a tie sets the wrong follow bits: the kernels take some followers for strangers",
    ),
    Mutation(
        "storefront_chunks_write_the_first_rows",
        STOREFRONT,
        "rows = ExposureFields(*(field[lo:hi] for field in fields))",
        "rows = ExposureFields(*(field[: hi - lo] for field in fields))",
        "every storefront chunk writes its exposures over the first chunk's rows",
    ),
    Mutation(
        "activity_drawn_ahead_ignored",
        "laotie/engine/engine.py",
        "        drawn, self._drawn = self._drawn, None\n        return drawn",
        "        self._drawn = None\n        return None",
        "the activity uniforms drawn ahead are dropped: the day draws its own, a day later",
    ),
    Mutation(
        "followers_per_seller_not_counted",
        "laotie/engine/rules/follow.py",
        "        counts[posted] += np.int64(n - start)",
        "        counts[posted] += 0 * np.int64(n - start)",
        "the posting creators' active followers are not counted: reach as with none",
    ),
    Mutation(
        "seen_sellers_not_moved",
        "laotie/engine/rules/follow.py",
        "        sellers[k] = seller\n",
        "",
        "the follow ties that see a post keep another tie's seller",
    ),
    Mutation(
        "follow_ties_of_the_first_row_lost",
        "laotie/engine/ties.py",
        "        if layer[k] == FOLLOW:\n            while indptr[i + 1] <= k:",
        "        if layer[k] == FOLLOW and k >= indptr[1]:\n            while indptr[i + 1] <= k:",
        "the engine's follow ties leave out those of the graph's first row",
    ),
    Mutation(
        "active_bits_last_word_kept",
        "laotie/engine/rules/activity.py",
        "    active_bits[word_at] = word\n    return np.int64(n) - lo",
        "    return np.int64(n) - lo",
        "the last word of the active users' bits keeps yesterday's flags",
    ),
    Mutation(
        "month_active_overwritten_by_activity",
        "laotie/engine/rules/activity.py",
        "    ledger.month_active |= today.active_bits",
        "    ledger.month_active[:] = today.active_bits",
        "the activity overwrites the month's active users: MAU counts the last day's users only",
    ),
    Mutation(
        "warnings_raise_trust",
        WORD_OF_MOUTH,
        "    factor = (1 - trust_loss * heard.trust.astype(np.float64)).astype(np.float32)",
        "    factor = (1 + trust_loss * heard.trust.astype(np.float64)).astype(np.float32)",
        "a warning raises the listener's trust in the seller",
    ),
    Mutation(
        "warnings_spare_storefronts",
        WORD_OF_MOUTH,
        "    m.storefront_memory.set(who, m.listing_store_column[heard.listing[by_store]], -1)",
        "    pass",
        "a warning about a storefront leaves the listener's memory of it",
    ),
    Mutation(
        "warnings_spare_new_follows",
        WORD_OF_MOUTH,
        "    for code, trust in ((1, f.trust), (2, f.buffer_trust)):",
        "    for code, trust in ((1, f.trust),):",
        "a warning leaves the trust of follow ties made during the run",
    ),
    Mutation(
        "returns_show_the_first_listing",
        LOYALTY,
        "    listing = m.shelf_draw(seller, stream.per_entry(user // nodes))",
        "    listing = m.shelf_draw(seller, 0 * stream.per_entry(user // nodes))",
        "a return visit always shows the seller's first listing",
    ),
    Mutation(
        "loyalty_without_decay",
        LOYALTY,
        "        return self.level[at] * np.exp2(-(day - self.day[at]) / half_life)",
        "        return self.level[at]",
        "loyalty does not decay without contact",
    ),
    Mutation(
        "loyalty_survives_disappointment",
        LOYALTY,
        "    ended = at[present & ~happy]",
        "    ended = at[present & ~happy & False]",
        "a disappointing order does not end the buyer's loyalty",
    ),
    Mutation(
        "returns_ignore_loyalty",
        LOYALTY,
        "    chance = np.where(store, params.return_storefronts, params.return_creators) * level",
        "    chance = np.where(store, params.return_storefronts, params.return_creators)",
        "return visits come at the full rate whatever the loyalty",
    ),
    Mutation(
        "returns_without_loyalty_bonus",
        LOYALTY,
        "        exposures.utility += params.weight * level[k]",
        "        pass",
        "a return visit's utility lacks weight · L",
    ),
    Mutation(
        "displacement_uncapped",
        PRODUCERS,
        "    displaced = np.minimum(p.displacement * revenue, offline * days)",
        "    displaced = p.displacement * revenue",
        "displaced offline income is not capped at what the producer sold offline",
    ),
    Mutation(
        "fixed_cost_for_unlisted",
        PRODUCERS,
        "    fixed = np.where(np.asarray(listed, bool), p.fixed_cost * days, 0.0)",
        "    fixed = np.full(len(revenue), p.fixed_cost * days)",
        "producers nobody lists pay the fixed cost of selling online",
    ),
    Mutation(
        "offline_income_mean_is_median",
        PRODUCERS,
        "    return lognormal(rng, p.offline_income, p.offline_dispersion, n)",
        "    return rng.lognormal(np.log(p.offline_income), p.offline_dispersion, n)",
        "offline incomes have offline_income as their median, not their mean",
    ),
    Mutation(
        "storefront_sales_counted_in_units",
        ACCOUNTS,
        "        share = gmv / total_gmv if total_gmv else np.full(k, np.nan)",
        "        share = gmv / gmv.sum() if total_gmv else np.full(k, np.nan)",
        "units' GMV shares add up to 1 although storefronts' sales belong to no unit",
    ),
    Mutation(
        "user_weight_ignored",
        GENERATORS,
        "    if (weight != 1.0).any():",
        "    if False:",
        "a unit's user_weight does not change who is a user",
    ),
    Mutation(
        "outside_creators_not_heads",
        MARKET,
        "        self.is_head = (kinds[creators] == HEAD) | (kinds[creators] == OUTSIDE)",
        "        self.is_head = kinds[creators] == HEAD",
        "creators outside the city are not heads for the traffic policy",
    ),
    Mutation(
        "outside_creators_trained",
        TRAINING,
        "        pool = pool[m.creator_resident[pool]]  # the city trains its own creators",
        "        pass",
        "the city's training reaches creators outside the city",
    ),
    Mutation(
        "outside_creators_are_residents",
        INFORMATION,
        '            "residents": graph.n_residents,',
        '            "residents": n,',
        "government messages' shares count creators outside the city as residents",
    ),
    Mutation(
        "adoption_without_ties",
        GROWTH,
        "    p_adopt = -np.expm1(-(g.external + g.social * f) / 12.0)",
        "    p_adopt = -np.expm1(-(g.external + g.social) / 12.0)",
        "adoption ignores how many of the user's ties use the platform",
    ),
    Mutation(
        "churn_hits_creators",
        GROWTH,
        "        stays = ~(u < g.churn) | is_creator[users]",
        "        stays = ~(u < g.churn)",
        "creators leave the platform they sell on",
    ),
    Mutation(
        "non_users_active",
        ACTIVITY,
        "        awake = (draws[i] < p_active[i]) & adopted[i]",
        "        awake = draws[i] < p_active[i]",
        "users who do not use the platform are active",
    ),
    Mutation(
        "closed_storefronts_compared",
        MARKET,
        "        store_listings = np.flatnonzero("
        "open_seller[self.listing_seller] & self.listing_on_shelf)",
        "        store_listings = np.flatnonzero("
        "(self.listing_seller >= self.n_creators) & self.listing_on_shelf)",
        "shoppers compare closed storefronts' listings",
    ),
    Mutation(
        "offline_specialties_compared",
        MARKET,
        "        store_listings = np.flatnonzero("
        "open_seller[self.listing_seller] & self.listing_on_shelf)",
        "        store_listings = np.flatnonzero(open_seller[self.listing_seller])",
        "shoppers compare the specialties of producers not online",
    ),
    Mutation(
        "offline_specialties_on_shelf",
        MARKET,
        "        online = np.concatenate([self.producer_online, [True]])  # [-1]: no producer",
        "        online = np.ones(len(self.producer_online) + 1, bool)",
        "the specialties of producers not online are on the sellers' shelves",
    ),
    Mutation(
        "producer_entry_diluted",
        GROWTH,
        "        mean = net[producers][online].mean() if online.any() else 0.0",
        "        mean = net[producers].mean() if online.any() else 0.0",
        "producers' entry compares with the mean net income of every producer, not of those online",
    ),
    Mutation(
        "unlisted_producers_enter",
        GROWTH,
        "            m.producer_listed[producers]\n            & ~online",
        "            ~online",
        "producers whose specialty no seller lists go online",
    ),
    Mutation(
        "entry_day_forgotten",
        GROWTH,
        "        m.producer_since[producers][enters] = day\n",
        "",
        "producers who enter are counted online from the first day",
    ),
    Mutation(
        "accounts_over_the_whole_run",
        ACCOUNTS,
        "        m.producer_days_online,\n    )",
        "        engine.day,\n    )",
        "producers' accounts run over the whole run, not their days online",
    ),
    Mutation(
        "entry_ignores_income",
        GROWTH,
        "    return g.entry_rate * max(0.0, 1.0 - threshold / mean)",
        "    return g.entry_rate",
        "sellers enter whether or not it pays",
    ),
    Mutation(
        "entry_averages_earners_only",
        GROWTH,
        "        mean = income[creators][selling].mean() if selling.any() else 0.0",
        "        earned = selling & (income[creators] > 0)\n"
        "        mean = income[creators][earned].mean() if earned.any() else 0.0",
        "creators' entry compares with the mean income of the creators who earned, not of all "
        "who sold",
    ),
    Mutation(
        "propensity_ignored",
        DECISIONS,
        "            u = u + m.propensity[e.user]",
        "            u = u + 0.0",
        "users' purchase propensity never enters the purchase logit",
    ),
    Mutation(
        "propensity_on_the_market_stream",
        MARKET,
        "            own = np.random.Generator(bits.jumped())",
        "            own = rng",
        "the propensities drawn from the market's own stream, so that every later draw of the "
        "market changes with their dispersion (sweeps over it no longer paired)",
    ),
    Mutation(
        "repeat_customers_across_days_only",
        OUTCOMES,
        "    again = keys[(known | (orders > 1)) & ~L.repeat_pairs.contains(keys)]",
        "    again = keys[known & ~L.repeat_pairs.contains(keys)]",
        "a buyer who orders twice from a seller on one day is not its repeat customer",
    ),
    Mutation(
        "repeat_customers_counted_per_order",
        OUTCOMES,
        "    again = keys[(known | (orders > 1)) & ~L.repeat_pairs.contains(keys)]",
        "    again = keys[known | (orders > 1)]",
        "a repeat customer counted again at every later order, not once",
    ),
    Mutation(
        "npz_crc_not_compared",
        "laotie/_io.py",
        "    if running[0] != info.CRC:",
        "    if False:",
        "a damaged saved graph whose arrays still parse is read as valid (CRC-32 not checked)",
    ),
    Mutation(
        "npz_written_into_the_page_cache",
        "laotie/_io.py",
        "        if end - self._sent >= PAST_CACHE:",
        "        if False:",
        "a large file is written into the page cache, none of it dropped until it is closed",
    ),
    Mutation(
        "word_of_mouth_heard_by_the_inactive",
        WORD_OF_MOUTH,
        "            if not (word >> (hearer & np.uint64(63))) & np.uint64(1):",
        "            if False:",
        "a recommendation is heard by listeners who are not active today",
    ),
    Mutation(
        "word_of_mouth_bit_of_the_wrong_listener",
        WORD_OF_MOUTH,
        "            if not (word >> (hearer & np.uint64(63))) & np.uint64(1):",
        "            if not (word >> (hearer & np.uint64(31))) & np.uint64(1):",
        "word of mouth reads another listener's activity bit",
    ),
    Mutation(
        "storefront_memory_column_shifted",
        MARKET,
        "            store >= 0, store % max(layout.storefronts, 1), -1",
        "            store >= 0, (store + 1) % max(layout.storefronts, 1), -1",
        "a storefront impression reads the viewer's memory of the next storefront",
    ),
    Mutation(
        "purchase_bound_too_tight",
        DECISIONS,
        "SIXTH = 1.0 / 6.0",
        "SIXTH = 1.0 / 5.0",
        "the bound that refuses draws without exp is below some purchase probabilities",
    ),
    Mutation(
        "day_order_ties_not_by_position",
        DECISIONS,
        '        by_rank = np.argsort(rank, kind="stable")',
        "        by_rank = np.argsort(rank)",
        "equal ranks of the day's order are not broken by position (lexsort's order)",
    ),
    Mutation(
        "storefront_memory_wipes_its_byte",
        MEMORIES,
        "    kept = np.int64(table[who, at]) & ~(np.int64(3) << shift)",
        "    kept = np.int64(0)",
        "remembering one storefront forgets the three others of its byte",
    ),
    Mutation(
        "storefront_memory_read_from_the_neighbours_bits",
        MEMORIES,
        "    bits = (np.int64(table[who, column >> 2]) >> ((column & 3) << 1)) & 3",
        "    bits = (np.int64(table[who, column >> 2]) >> ((column & 3) << 1) + 1) & 3",
        "a compiled read of a storefront memory takes one bit of the next storefront's",
    ),
    Mutation(
        "return_visit_memory_of_the_first_storefront",
        LOYALTY,
        "        memory=m.storefront_memory.get(index, m.listing_store_column[listing]),",
        "        memory=m.storefront_memory.get(index, np.zeros(len(listing), np.int64)),",
        "a storefront return visit carries the memory of the replication's first storefront",
    ),
    Mutation(
        "day_counts_read_past_the_viewers",
        "laotie/engine/counts.py",
        "            if i + FLAGS_AHEAD < len(users):",
        "            if i + FLAGS_AHEAD <= len(users):",
        "the day counts read one viewer past the end of the day's exposures (to ask for a flag)",
    ),
    Mutation(
        "discovery_reads_past_the_seats",
        "laotie/engine/rules/discovery.py",
        "            if i + SEATS_AHEAD < len(seat):",
        "            if i + SEATS_AHEAD <= len(seat):",
        "discovery reads one seat past the end of the day's impressions (to ask for it)",
    ),
    Mutation(
        "key_look_up_past_the_set",
        "laotie/engine/state.py",
        "        found[i] = lo < n and sorted_keys[lo] == key",
        "        found[i] = sorted_keys[min(lo, n)] == key",
        "a key above every key of the set is compared with the entry past the set's end",
    ),
)


def copy_project(target: Path) -> None:
    """The tracked files of the project (and the compiled kernels' caches, with their
    times, so that only the mutated module compiles again)."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for cache in (ROOT / "laotie").rglob("__pycache__"):
        shutil.copytree(cache, target / cache.relative_to(ROOT), dirs_exist_ok=True)


def apply(mutation: Mutation, root: Path) -> None:
    path = root / mutation.path
    text = path.read_text(encoding="utf-8")
    found = text.count(mutation.old)
    if found != 1:
        raise SystemExit(
            f"mutation {mutation.name}: the text to replace occurs {found} times in "
            f"{mutation.path} (expected once); update tests/mutations.py to the code"
        )
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")


def run(mutation: Mutation | None, tests: list[str]) -> tuple[list[str], float]:
    """The tests that fail with ``mutation`` applied (None: the code as it is), and the
    seconds it took."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="laotie-mutation-") as folder:
        root = Path(folder)
        copy_project(root)
        if mutation is not None:
            apply(mutation, root)
        env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", *tests],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            preexec_fn=_limit_memory,
        )
    failed = sorted(set(re.findall(r"^FAILED (\S+)", done.stdout, re.MULTILINE)))
    if done.returncode not in (0, 1) or (done.returncode == 1 and not failed):
        failed = [f"(pytest exited with {done.returncode}: {done.stdout[-300:]!r})"]
    return failed, time.perf_counter() - start


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.mutations", description=__doc__)
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and stop")
    parser.add_argument(
        "--tests",
        action="append",
        metavar="PATH",
        help="a test path to run (repeat for several; default: "
        + " and ".join(DEFAULT_TESTS)
        + ")",
    )
    args = parser.parse_args()
    known = {m.name: m for m in MUTATIONS}
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:34} {m.path}: {m.rule}")
        return
    unknown = [name for name in args.names if name not in known]
    if unknown:
        raise SystemExit(f"unknown mutation(s) {unknown}; known: {sorted(known)}")
    chosen = [known[name] for name in args.names] or list(MUTATIONS)
    tests = args.tests or list(DEFAULT_TESTS)
    baseline, seconds = run(None, tests)
    if baseline:
        raise SystemExit(f"the tests fail without a mutation ({seconds:.0f} s): {baseline}")
    print(f"without a mutation the tests pass ({seconds:.0f} s)")
    survivors = []
    for mutation in chosen:
        failed, seconds = run(mutation, tests)
        verdict = f"caught by {len(failed)} test(s)" if failed else "NOT CAUGHT"
        print(f"\n{mutation.name} ({mutation.rule}): {verdict}, {seconds:.0f} s")
        for test in failed:
            print(f"    {test}")
        if not failed:
            survivors.append(mutation.name)
    if survivors:
        raise SystemExit(f"\nmutations no test caught: {', '.join(survivors)}")


if __name__ == "__main__":
    main()
