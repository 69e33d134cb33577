"""Government information and the last mile (docs/model.md, section 3.5, "Information").

Messages posted by government accounts reach users through the same-city feed (快手同城) and
the same-hometown feed (快手同乡), spread along trust ties in the app, and reach people
without the app offline through kin. A centralised baseline channel (city TV, news portal)
is tracked beside them for comparison.

Each resident's state per message is one byte: 0 not informed, else the path that informed
them first (:data:`PATHS`). Random draws are counter-based (a hash of the message, the day,
the person or the tie, and the run's seed), so a draw belongs to its event whatever else
happens: raising the sharing probability can only inform more people, never fewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ...errors import ScenarioError
from ...graph._core import GOV, TrustGraph
from ...scenario import Scenario
from ..sampling import beta
from ..state import sorted_unique
from ..ties import Listeners, expand_rows

__all__ = ["PATHS", "SEEDED", "InformationState", "operator_regions", "resident_ids"]

PATHS: tuple[str, ...] = ("feed", "hometown", "share", "offline")
"""How a resident was informed first: same-city feed, same-hometown feed, shared in the app
by someone they trust, told offline by kin."""
FEED, HOMETOWN, SHARE, OFFLINE = 1, 2, 3, 4
SEEDED = 5
"""The state of a resident given the message on its posting day (a seed of the cascade, what
a policy chooses); not one of :data:`PATHS`: the ``by_`` shares leave seeds out."""
_MESSAGE_SLOTS = 1024  # message index inside the hash keys (at most 1,000 messages)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def hashed_uniform(keys: np.ndarray, salt: np.uint64) -> np.ndarray:
    """Uniform numbers in [0, 1) that depend only on ``keys`` and ``salt`` (SplitMix64)."""
    z = keys.astype(np.uint64) * _GOLDEN + salt
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def operator_regions(graph: TrustGraph, operators: Sequence[str | int] | np.ndarray) -> np.ndarray:
    """The region indices of ``operators`` (region names of the graph, or indices into its
    ``region_names``), checked: the regions whose government accounts' operators the rule
    ``targeted`` trains.

    Raises
    ------
    ScenarioError
        For a name or index that is not one of the graph's regions, or a region named twice.
    """
    names = graph.region_names
    if (
        isinstance(operators, str | bytes | dict)
        or not isinstance(operators, Iterable)
        or (isinstance(operators, np.ndarray) and operators.ndim != 1)
    ):
        raise ScenarioError(
            f"Engine: operators = {operators!r}; expected a list of regions (names or indices)"
        )
    out = []
    for operator in operators:
        if isinstance(operator, str) and operator in names:
            out.append(names.index(operator))
        elif (
            isinstance(operator, int | np.integer)
            and not isinstance(operator, bool)
            and 0 <= operator < len(names)
        ):
            out.append(int(operator))
        else:
            raise ScenarioError(
                f"Engine: operators: {operator!r} is not a region of the graph; expected one "
                f"of {', '.join(names)} or an index 0–{len(names) - 1}"
            )
    twice = sorted({names[i] for i in out if out.count(i) > 1})
    if twice:
        raise ScenarioError(f"Engine: operators names {', '.join(map(repr, twice))} twice")
    return np.array(out, np.int64)


def resident_ids(
    graph: TrustGraph, nodes: Sequence[int] | np.ndarray, keyword: str = "seeds"
) -> np.ndarray:
    """The node ids ``nodes`` given to the engine as ``keyword``, checked and sorted:
    residents (the seeds given every government message on its posting day, the producers
    a programme enrols; what :mod:`laotie.policy` chooses).

    Raises
    ------
    ScenarioError
        For something other than a list of integers, a node id out of the graph's range, a
        node that does not live in the city (a creator outside it), or a node named twice.
    """
    n = graph.n_nodes
    if (
        isinstance(nodes, str | bytes | dict)
        or not isinstance(nodes, Iterable)
        or (isinstance(nodes, np.ndarray) and nodes.ndim != 1)
    ):
        raise ScenarioError(
            f"Engine: {keyword} = {nodes!r}; expected a list of residents' node ids (integers "
            f"0–{n - 1})"
        )
    resident = graph.resident  # once: the property computes the mask over every node
    ids: np.ndarray | None = None
    if isinstance(nodes, np.ndarray) and nodes.dtype.kind in "iu":
        # Integer arrays at once (a city's residents are millions); the first id refused, in
        # the order given, is left for the loop below to name.
        outside = (nodes < 0) | (nodes >= n)
        away = np.zeros(len(nodes), bool)
        away[~outside] = ~resident[nodes[~outside].astype(np.int64)]
        bad = np.flatnonzero(outside | away)
        if len(bad) == 0:
            ids = np.sort(nodes.astype(np.int64))
        nodes = nodes[bad[:1]]
    out = []
    for node in nodes:
        if isinstance(node, bool) or not isinstance(node, int | np.integer):
            raise ScenarioError(
                f"Engine: {keyword}: {node!r} is not a node id; expected an integer 0–{n - 1}"
            )
        if not 0 <= node < n:
            raise ScenarioError(
                f"Engine: {keyword}: node {node} is out of range; the graph's node ids are "
                f"0–{n - 1}"
            )
        if not resident[node]:
            raise ScenarioError(
                f"Engine: {keyword}: node {node} does not live in the city (a creator outside "
                "it); expected residents"
            )
        out.append(int(node))
    if ids is None:
        ids = np.array(sorted(out), np.int64)
    twice = ids[1:][ids[1:] == ids[:-1]]
    if len(twice):
        raise ScenarioError(
            f"Engine: {keyword} names node {twice[0]} twice; expected each resident once"
        )
    return ids


class InformationState:
    """Who knows which government message, and how they learnt it."""

    COUNTS = ("informed", "rural", "users", *PATHS, "baseline", "baseline_rural")

    def __init__(
        self,
        graph: TrustGraph,
        listeners: Listeners,
        scenario: Scenario,
        seed: np.random.SeedSequence,
        operators: np.ndarray | None = None,
        seeds: np.ndarray | None = None,
    ) -> None:
        info = scenario.information
        self.info = info
        # The ties news is shared along, with the trust of the run (of one replication).
        self.listeners = listeners
        n = graph.n_nodes
        self.n = n
        self.n_messages = info.n_messages
        self.post_day = info.first_day + info.interval * np.arange(info.n_messages)
        self.state = np.zeros((info.n_messages, n), np.uint8)
        self.baseline_days: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._scratch = np.zeros(n, np.uint8)
        self.pending: list[np.ndarray] = [np.zeros(0, np.int64)] * info.n_messages
        self.gov = np.flatnonzero(graph.creator_kind == GOV)
        self.gov_region = graph.region[self.gov].astype(np.int64)
        # The accounts trained on training_day: every one, or those of the regions named.
        self.trained = (
            np.ones(len(self.gov), bool)
            if operators is None
            else np.isin(self.gov_region, operators)
        )
        # The residents given every message on its posting day (checked: resident_ids).
        self.seeds = np.zeros(0, np.int64) if seeds is None else np.asarray(seeds, np.int64)
        rng = np.random.default_rng(seed)
        self.quality = beta(
            rng,
            info.gov_quality_mean,
            scenario.creators.content_quality_concentration,
            len(self.gov),
        )
        self.salt = {
            name: np.uint64(value)
            for name, value in zip(
                ("feed", "hometown", "share", "offline", "baseline"),
                rng.integers(0, 2**63, 5, dtype=np.uint64),
                strict=True,
            )
        }
        self.region = graph.region.astype(np.int64)
        self.hometown = graph.hometown.astype(np.int64)
        self.rural = graph.rural
        self.user = graph.user
        self.n_regions = graph.n_regions
        # Creators outside the city are not residents: no baseline, no ties, no feeds.
        resident = graph.resident
        self.tv = np.where(resident, np.where(graph.rural, info.tv_rural, info.tv_urban), 0.0)
        # Running counts per message: COUNTS, and informed residents per region.
        self.counts = np.zeros((info.n_messages, len(self.COUNTS)), np.int64)
        self.by_region = np.zeros((info.n_messages, graph.n_regions), np.int64)
        self.records: list[tuple[int, int, np.ndarray, np.ndarray]] = []
        self.denominators = {
            "residents": graph.n_residents,
            "rural": int(graph.rural.sum()),
            "users": int(graph.user.sum()),
        }
        self.region_residents = np.bincount(self.region[resident], minlength=graph.n_regions)

    def feed_probabilities(self) -> tuple[float, np.ndarray]:
        """Today's same-city probability and same-hometown probability per home region."""
        info = self.info
        city = 1.0 - np.prod(1.0 - info.city_feed * self.quality)
        miss = np.ones(self.n_regions)
        np.multiply.at(miss, self.gov_region, 1.0 - info.hometown_feed * self.quality)
        return float(city), 1.0 - miss

    def step(self, day: int, active_users: np.ndarray) -> None:
        """Spread every posted message for one day; record the day's counts."""
        if self.n_messages == 0:
            return
        info = self.info
        if day == info.training_day:
            gained = np.minimum(1.0, self.quality + info.training_gain).astype(np.float32)
            self.quality = np.where(self.trained, gained, self.quality).astype(np.float32)
        city, home = self.feed_probabilities()
        for m in np.flatnonzero(self.post_day <= day).tolist():
            live = day < self.post_day[m] + info.live_days
            new_people, new_paths = [], []
            if day == self.post_day[m] and len(self.seeds):
                # First in the day's list: a seed's path is SEEDED, whatever the feeds draw.
                new_people.append(self.seeds)
                new_paths.append(np.full(len(self.seeds), SEEDED, np.uint8))
            if live:
                people, paths = self._feeds(m, day, active_users, city, home)
                new_people.append(people)
                new_paths.append(paths)
                self._baseline(m, day)
            if len(self.pending[m]):
                people, paths = self._share(m, self.pending[m])
                new_people.append(people)
                new_paths.append(paths)
            people = np.concatenate(new_people) if new_people else np.zeros(0, np.int64)
            paths = np.concatenate(new_paths) if new_paths else np.zeros(0, np.uint8)
            self._inform(m, people, paths)
            self.pending[m] = people
            self.records.append((int(m), day, self.counts[m].copy(), self.by_region[m].copy()))

    def _feeds(
        self, m: int, day: int, active_users: np.ndarray, city: float, home: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        users = active_users[self.state[m, active_users] == 0].astype(np.int64)
        keys = (np.uint64(day) * np.uint64(self.n) + users.astype(np.uint64)) * np.uint64(
            _MESSAGE_SLOTS
        ) + np.uint64(m)
        by_city = hashed_uniform(keys, self.salt["feed"]) < city
        by_home = ~by_city & (
            hashed_uniform(keys, self.salt["hometown"]) < home[self.hometown[users]]
        )
        people = np.concatenate([users[by_city], users[by_home]])
        paths = np.concatenate(
            [np.full(by_city.sum(), FEED, np.uint8), np.full(by_home.sum(), HOMETOWN, np.uint8)]
        )
        return people, paths

    def _share(self, m: int, sharers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lis = self.listeners
        position, owner = expand_rows(lis.indptr, sharers)
        listener = lis.listener[position]
        open_ = self.state[m][listener] == 0
        position, owner, listener = position[open_], owner[open_], listener[open_]
        keys = position.astype(np.uint64) * np.uint64(_MESSAGE_SLOTS) + np.uint64(m)
        trust = lis.trust[position]
        # Draw only where a path exists: in the app between users, offline along kin ties.
        can_share = np.flatnonzero(self.user[sharers[owner]] & self.user[listener])
        shared = can_share[
            hashed_uniform(keys[can_share], self.salt["share"])
            < self.info.share_prob * trust[can_share]
        ]
        can_tell = np.flatnonzero(lis.kin[position])
        told = can_tell[
            hashed_uniform(keys[can_tell], self.salt["offline"])
            < self.info.offline_prob * trust[can_tell]
        ]
        # A person reached by several ties today: sharing in the app counts before offline.
        mark = self._scratch
        mark[listener[told]] = OFFLINE
        mark[listener[shared]] = SHARE
        people = sorted_unique(listener[np.concatenate([shared, told])]).astype(np.int64)
        paths = mark[people]
        mark[people] = 0
        return people, paths

    def _inform(self, m: int, people: np.ndarray, paths: np.ndarray) -> None:
        if len(people) == 0:
            return
        # Seeds, then feeds, then sharing in the day: keep each person's first path.
        _, first = np.unique(people, return_index=True)
        people, paths = people[first], paths[first]
        self.state[m, people] = paths
        counts = self.counts[m]
        counts[0] += len(people)
        counts[1] += int(self.rural[people].sum())
        counts[2] += int(self.user[people].sum())
        counts[3:7] += np.bincount(paths, minlength=5)[1:5]
        self.by_region[m] += np.bincount(self.region[people], minlength=self.n_regions)

    def _baseline(self, m: int, day: int) -> None:
        since = day - int(self.post_day[m])
        if since == 0:
            # Each resident's day of learning, drawn once: the number of days before the first
            # success of a daily chance p is geometric, floor(log(1 - u) / log(1 - p)).
            u = hashed_uniform(
                np.arange(self.n, dtype=np.uint64) * np.uint64(_MESSAGE_SLOTS) + np.uint64(m),
                self.salt["baseline"],
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                wait = np.floor(np.log1p(-u) / np.log1p(-self.tv))
            wait = np.where(self.tv > 0, np.nan_to_num(wait, nan=0.0), np.inf)
            live = wait < self.info.live_days
            self.baseline_days[m] = (
                np.bincount(wait[live].astype(np.int64), minlength=self.info.live_days),
                np.bincount(
                    wait[live & self.rural].astype(np.int64), minlength=self.info.live_days
                ),
            )
        everyone, rural = self.baseline_days[m]
        self.counts[m, 7] += everyone[since]
        self.counts[m, 8] += rural[since]

    def shares(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Coverage columns from running counts (rows of :attr:`COUNTS`); NaN where undefined."""
        d = self.denominators
        c = dict(zip(self.COUNTS, np.asarray(counts, dtype=np.float64).T, strict=True))
        n_urban = d["residents"] - d["rural"]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = {
                "share_informed": c["informed"] / d["residents"],
                "share_rural": c["rural"] / d["rural"],
                "share_urban": (c["informed"] - c["rural"]) / n_urban,
                "share_users": c["users"] / d["users"],
                "share_non_users": (c["informed"] - c["users"]) / (d["residents"] - d["users"]),
                **{f"by_{p}": c[p] / c["informed"] for p in PATHS},
                "baseline_share": c["baseline"] / d["residents"],
                "baseline_rural": c["baseline_rural"] / d["rural"],
                "baseline_urban": (c["baseline"] - c["baseline_rural"]) / n_urban,
            }
            out["urban_rural_gap"] = out["share_urban"] - out["share_rural"]
        return out

    def frames(self, region_names: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per message and day: coverage overall, rural, urban, users, non-users, by path,
        and the baseline's; and per region (a long table)."""
        records = self.records
        message = np.array([r[0] for r in records], dtype=np.int64)
        day = np.array([r[1] for r in records], dtype=np.int64)
        counts = np.array([r[2] for r in records], dtype=np.float64).reshape(
            len(records), len(self.COUNTS)
        )
        regions = np.array([r[3] for r in records], dtype=np.float64).reshape(
            len(records), self.n_regions
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            frame = pd.DataFrame(
                {
                    "message": message,
                    "day": day,
                    "posted_day": self.post_day[message].astype(np.int64),
                    **self.shares(counts),
                }
            )
            # Regions without residents (the creators outside the city) have no share.
            lived = np.flatnonzero(self.region_residents > 0)
            shares = regions[:, lived] / self.region_residents[lived]
        names = [region_names[r] for r in lived]
        long = pd.DataFrame(
            {
                "message": np.repeat(message, len(names)),
                "day": np.repeat(day, len(names)),
                "region": pd.Categorical(
                    np.tile(np.asarray(names, dtype=object), len(message)), categories=names
                ),
                "share_informed": shares.ravel(),
            }
        )
        return frame, long
