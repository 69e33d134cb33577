"""Target moments (laotie.moments) on hand-made results whose answers are known by construction,
the Bass fit's recovery of known parameters, and the validation table."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

from laotie import LaotieError, Result, Scenario, graph
from laotie.graph import TrustGraph
from laotie.graph.codes import CITY, FOLLOW, LOCAL
from laotie.metrics import CHANNELS, COUNTS, FAMILIES, ROWS
from laotie.moments import (
    MOMENTS,
    bass_cumulative,
    bass_p,
    bass_q,
    buyers_per_mau,
    dau_per_mau,
    dau_per_resident,
    fan_conversion_ratio,
    fit_bass,
    follower_tail_slope,
    live_room_conversion,
    mau_per_resident,
    monthly_repurchase_traffic,
    monthly_repurchase_trust,
    mutual_ties_per_user,
    non_head_exposure_share,
    order_value_ratio,
    poverty_earner_share,
    producer_net_effect,
    storefront_click_conversion,
    storefront_click_through,
    storefront_conversion,
    storefront_repeat_customers,
    storefront_session_conversion,
    top_sellers_gmv_share,
    traffic_order_value,
    trust_conversion_ratio,
    trust_order_value,
    users_with_followers_share,
    validate,
    word_of_mouth_first_order_share,
)
from laotie.results import OUTCOME_COLUMNS, daily_frame, monthly_frame, summary_frame
from laotie.stats import t_interval

VILLAGE = Scenario.preset("village")


def make_result(
    days: list[dict[str, dict[str, float]]],
    *,
    outcomes: dict[str, float] | None = None,
    monthly: pd.DataFrame | None = None,
) -> Result:
    """A result whose day ``d`` has the counts ``days[d][channel][column]`` (0 elsewhere) on
    the four sub-channels; the family rows are their sums, as the engine's counter makes them."""
    counts = np.zeros((len(days), len(ROWS), len(COUNTS)))
    for d, channels in enumerate(days):
        for channel, values in channels.items():
            for column, value in values.items():
                counts[d, CHANNELS.index(channel), COUNTS.index(column)] = value
    for family, members in FAMILIES.items():
        counts[:, ROWS.index(family)] = counts[:, list(members)].sum(axis=1)
    return Result(
        daily=daily_frame(counts),
        summary=summary_frame(counts),
        outcomes=dict.fromkeys(OUTCOME_COLUMNS, math.nan) | (outcomes or {}),
        creator_income=np.zeros(0),
        producer_income=np.zeros(0),
        order_values=pd.DataFrame(),
        scenario=VILLAGE,
        seed={},
        monthly=monthly_frame([], [], 0, 0) if monthly is None else monthly,
    )


def make_monthly(
    *, residents: int, users: int, dau: list[float], mau: list[int], buyers: list[int]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": range(len(dau)),
            "residents": residents,
            "users": users,
            "dau": dau,
            "mau": mau,
            "buyers_all": buyers,
            "buyers_trust": buyers,
            "buyers_traffic": 0,
        }
    )


# -- T1–T6, T10 -------------------------------------------------------------------------------


def test_storefront_funnel_sums_the_days_before_dividing() -> None:
    # 1,000 impressions, 40 clicks, 2 orders over two days whose own ratios differ.
    result = make_result(
        [
            {"storefront": {"exposures": 600, "clicks": 30, "orders": 2}},
            {"storefront": {"exposures": 400, "clicks": 10, "orders": 0}},
        ]
    )
    assert storefront_click_through(result) == pytest.approx(0.04)
    assert storefront_click_conversion(result) == pytest.approx(0.05)
    assert storefront_conversion(result) == pytest.approx(0.002)


def test_storefront_moments_are_nan_without_a_denominator() -> None:
    result = make_result([{"follow": {"exposures": 10, "clicks": 5, "orders": 1}}])
    for function in (
        storefront_click_through,
        storefront_click_conversion,
        storefront_conversion,
        storefront_session_conversion,
        trust_conversion_ratio,
        order_value_ratio,
    ):
        assert math.isnan(function(result)), function.__name__


def test_session_conversion_is_buyer_days_over_exposed_user_days() -> None:
    # 200 user-days with storefront exposures, 5 of them with a storefront order; the
    # storefront's exposures and orders (different numbers) must not be used.
    result = make_result(
        [
            {"storefront": {"exposures": 900, "exposed_users": 120, "orders": 4, "buyers": 3}},
            {"storefront": {"exposures": 700, "exposed_users": 80, "orders": 3, "buyers": 2}},
        ]
    )
    assert storefront_session_conversion(result) == pytest.approx(0.025)


def test_live_room_conversion_counts_follow_and_discovery_not_word_of_mouth() -> None:
    result = make_result(
        [
            {
                "follow": {"clicks": 100, "orders": 1},
                "discovery": {"clicks": 300, "orders": 2},
                "wom": {"clicks": 1000, "orders": 50},
                "storefront": {"clicks": 500, "orders": 40},
            }
        ]
    )
    assert live_room_conversion(result) == pytest.approx(3 / 400)


def test_trust_conversion_ratio_by_channel() -> None:
    result = make_result(
        [
            {
                "follow": {"exposures": 1000, "orders": 30},
                "discovery": {"exposures": 3000, "orders": 6},
                "storefront": {"exposures": 2000, "orders": 10},
            }
        ]
    )
    assert trust_conversion_ratio(result) == pytest.approx(0.03 / 0.005)
    assert trust_conversion_ratio(result, "trust") == pytest.approx((36 / 4000) / 0.005)
    with pytest.raises(LaotieError, match="'folow' is not a channel"):
        trust_conversion_ratio(result, "folow")


def test_fan_conversion_ratio_compares_the_live_rooms_entrants() -> None:
    """Per click (a live-room entrant), follow over discovery; exposures do not enter."""
    result = make_result(
        [
            {
                "follow": {"exposures": 1000, "clicks": 200, "orders": 12},
                "discovery": {"exposures": 9000, "clicks": 500, "orders": 5},
                "storefront": {"exposures": 2000, "clicks": 80, "orders": 1},
            }
        ]
    )
    assert fan_conversion_ratio(result) == pytest.approx((12 / 200) / (5 / 500))
    assert math.isnan(fan_conversion_ratio(make_result([{"follow": {"clicks": 10, "orders": 1}}])))


def test_order_value_ratio_divides_the_families_order_values() -> None:
    # Trust: RMB 700 over 10 follow orders and RMB 0 over 0 discovery orders (70 per order);
    # traffic: RMB 600 over 5 orders (120 per order).
    result = make_result(
        [
            {"follow": {"orders": 6, "gmv": 400}, "storefront": {"orders": 2, "gmv": 300}},
            {"follow": {"orders": 4, "gmv": 300}, "storefront": {"orders": 3, "gmv": 300}},
        ]
    )
    assert order_value_ratio(result) == pytest.approx(70 / 120)
    assert trust_order_value(result) == pytest.approx(70)
    assert traffic_order_value(result) == pytest.approx(120)


def test_outcome_moments_read_the_outcomes() -> None:
    result = make_result(
        [{}],
        outcomes={
            "monthly_repurchase_trust": 0.65,
            "monthly_repurchase_traffic": 0.25,
            "monthly_repurchase_all": 0.5,
            "repeat_customers_storefronts": 0.28,
            "repeat_customers_creators": 0.4,
            "non_head_traffic_share": 0.7,
            "poverty_earner_share": 0.26,
            "producer_net_effect": -0.01,
            "top10_sellers_gmv_share": 0.04,
        },
    )
    assert monthly_repurchase_trust(result) == 0.65
    assert monthly_repurchase_traffic(result) == 0.25
    assert storefront_repeat_customers(result) == 0.28
    assert non_head_exposure_share(result) == 0.7
    assert poverty_earner_share(result) == 0.26
    assert producer_net_effect(result) == -0.01
    assert top_sellers_gmv_share(result) == 0.04


# -- T7, T12 ----------------------------------------------------------------------------------


def test_monthly_moments_average_the_months_ratios() -> None:
    monthly = make_monthly(
        residents=1000, users=600, dau=[100.0, 200.0], mau=[400, 250], buyers=[80, 25]
    )
    result = make_result([{}], monthly=monthly)
    # Means of the monthly ratios (a ratio of sums would give 105 / 650 for T7a).
    assert buyers_per_mau(result) == pytest.approx((0.2 + 0.1) / 2)
    assert dau_per_mau(result) == pytest.approx((0.25 + 0.8) / 2)
    assert mau_per_resident(result) == pytest.approx((0.4 + 0.25) / 2)
    assert dau_per_resident(result) == pytest.approx((0.1 + 0.2) / 2)


def test_monthly_moments_are_nan_before_a_complete_month() -> None:
    result = make_result([{}])
    assert len(result.monthly) == 0
    for function in (buyers_per_mau, dau_per_mau, mau_per_resident, dau_per_resident):
        assert math.isnan(function(result))


def test_monthly_moments_of_a_real_run_use_the_engines_frame() -> None:
    from laotie import simulate

    result = simulate(VILLAGE, days=31, seed=3)
    (row,) = result.monthly.itertuples()
    assert mau_per_resident(result) == pytest.approx(row.mau / row.residents)
    assert 0 < dau_per_mau(result) <= 1


def test_each_moment_is_defined_from_its_min_days_and_not_a_day_before() -> None:
    """``Moment.min_days`` is what the targets file's check of ``days`` relies on."""
    from laotie import simulate
    from laotie.graph import city

    g = city(VILLAGE.city, seed=2)
    by_days = {d: simulate(VILLAGE, days=d, seed=2, graph=g) for d in (29, 30, 60, 61)}
    assert {m.min_days for m in MOMENTS} == {1, 30, 61}
    for m in MOMENTS:
        if m.min_days == 1:
            continue
        before, at = m.min_days - 1, m.min_days
        assert math.isnan(m(by_days[before], g)), (m.id, before)
        assert math.isfinite(m(by_days[at], g)), (m.id, at)


# -- T9, T11: the graph -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_graph() -> TrustGraph:
    """Five residents, node 3 not a user. Mutual ties 0–1 and 1–2 (local), 0–2 (city) and
    2–3 (local, with a non-user); follows 0, 1, 2 → 4 and 4 → 0."""
    pairs = [(0, 1, LOCAL), (1, 2, LOCAL), (0, 2, CITY), (2, 3, LOCAL)]
    src, dst, layer = [], [], []
    for a, b, code in pairs:
        src += [a, b]
        dst += [b, a]
        layer += [code, code]
    for a, b in [(0, 4), (1, 4), (2, 4), (4, 0)]:
        src.append(a)
        dst.append(b)
        layer.append(FOLLOW)
    return TrustGraph.from_edges(
        5,
        src,
        dst,
        [0.5] * len(src),
        layer,
        region=[0] * 5,
        user=[True, True, True, False, True],
        creator_kind=[2, 0, 0, 0, 2],
    )


def test_mutual_ties_count_ties_between_users_over_mau(tiny_graph: TrustGraph) -> None:
    # Ties between two users: 0–1, 1–2, 0–2, each stored twice (2–3 has a non-user); 4 users.
    assert mutual_ties_per_user(tiny_graph) == pytest.approx(6 / 4)
    monthly = make_monthly(residents=5, users=4, dau=[1.0, 1.0], mau=[1, 3], buyers=[0, 0])
    assert mutual_ties_per_user(tiny_graph, make_result([{}], monthly=monthly)) == 3.0
    assert math.isnan(mutual_ties_per_user(tiny_graph, make_result([{}])))


def test_followers_share_counts_accounts_at_the_threshold(tiny_graph: TrustGraph) -> None:
    # Node 4 has 3 followers, node 0 one.
    assert users_with_followers_share(tiny_graph, threshold=3) == pytest.approx(1 / 4)
    assert users_with_followers_share(tiny_graph, threshold=1) == pytest.approx(2 / 4)
    assert users_with_followers_share(tiny_graph, threshold=4) == 0.0
    monthly = make_monthly(residents=5, users=4, dau=[1.0], mau=[2], buyers=[0])
    result = make_result([{}], monthly=monthly)
    assert users_with_followers_share(tiny_graph, result, threshold=3) == 0.5


def test_follower_tail_slope_is_the_graph_statistic(city_100k: graph.TrustGraph) -> None:
    slope = follower_tail_slope(city_100k)
    assert slope == city_100k.stats()["follower tail exponent"]
    assert np.isfinite(slope)


# -- T16: the Bass fit ------------------------------------------------------------------------


def bass_daily(p: float, q: float, m: float, days: int, days_per_year: float = 365) -> np.ndarray:
    """Expected adoptions per day: the increments of m F(t) at the ends of the days."""
    return np.diff(bass_cumulative(np.arange(days + 1) / days_per_year, p, q, m))


@pytest.mark.parametrize(
    ("p", "q", "m", "days"),
    [
        (0.03, 0.38, 1e6, 20 * 365),  # the literature's averages, past the peak (6.2 years)
        (2.0, 30.0, 1e5, 365),  # a simulated city's speed: most adopt within months
        (5.0, 0.0, 1e4, 365),  # innovation only: q on its bound
    ],
)
def test_bass_fit_recovers_noiseless_parameters(p: float, q: float, m: float, days: int) -> None:
    fit = fit_bass(bass_daily(p, q, m, days))
    # Noiseless data: the least-squares minimum is the truth (residuals 0), so only the
    # optimiser's tolerance (1e-8 relative) separates them.
    assert fit.p == pytest.approx(p, rel=1e-5)
    assert fit.q == pytest.approx(q, rel=1e-5, abs=1e-6)
    assert fit.m == pytest.approx(m, rel=1e-5)
    assert fit.days == days


@pytest.mark.parametrize(
    ("p", "q", "m", "days", "days_per_year"),
    [(2.0, 30.0, 1e5, 365, 365), (0.03, 0.38, 1e5, 240, 12)],
)
def test_bass_fit_on_poisson_counts_is_unbiased_with_honest_standard_errors(
    p: float, q: float, m: float, days: int, days_per_year: float
) -> None:
    """K series of Poisson counts around the Bass curve. If the estimates are unbiased and
    their standard errors right, z = (estimate - truth) / s.e. is about N(0, 1): the mean of
    K z-scores lies within 3 / sqrt(K) of 0 and their standard deviation within
    3 / sqrt(2 (K - 1)) of 1 (three standard errors of each, so each check fails by chance
    about once in 400). A fit in the wrong time unit misses by thousands of standard
    errors; standard errors too large or too small move the spread away from 1."""
    rng = np.random.default_rng(20261204)
    expected = bass_daily(p, q, m, days, days_per_year)
    truth = np.array([p, q, m])
    k = 40
    z = np.empty((k, 3))
    for i in range(k):
        fit = fit_bass(rng.poisson(expected), days_per_year=days_per_year)
        z[i] = (np.array([fit.p, fit.q, fit.m]) - truth) / [fit.p_se, fit.q_se, fit.m_se]
    assert np.all(np.abs(z.mean(axis=0)) < 3 / np.sqrt(k)), z.mean(axis=0)
    assert np.all(np.abs(z.std(axis=0, ddof=1) - 1) < 3 / np.sqrt(2 * (k - 1))), z.std(axis=0)


def test_bass_fit_widens_its_errors_for_overdispersed_counts() -> None:
    """Four times a Poisson series has the relative noise of the series itself, twice that
    of Poisson counts with its mean: its standard errors must be those of the series (the
    residuals' dispersion is 4), not half of them (what assuming Poisson counts would give).
    Every month here expects at least one adoption, so the fit of 4 x is the fit of x scaled
    and the two agree to the optimiser's tolerance."""
    rng = np.random.default_rng(7)
    counts = rng.poisson(bass_daily(0.03, 0.38, 1e5, 240, days_per_year=12))
    plain = fit_bass(counts, days_per_year=12)
    clumped = fit_bass(4 * counts, days_per_year=12)
    assert clumped.p == pytest.approx(plain.p, rel=1e-5)
    assert clumped.m == pytest.approx(4 * plain.m, rel=1e-5)
    assert clumped.p_se == pytest.approx(plain.p_se, rel=1e-4)
    assert clumped.q_se == pytest.approx(plain.q_se, rel=1e-4)


def test_bass_fit_refuses_what_it_cannot_fit() -> None:
    with pytest.raises(LaotieError, match="one-dimensional array of finite counts"):
        fit_bass([1, -1, 3, 4])
    with pytest.raises(LaotieError, match="one-dimensional"):
        fit_bass(np.ones((3, 3)))
    with pytest.raises(LaotieError, match="need at least 4 days and 3 days with adoptions"):
        fit_bass([0, 5, 0, 0, 3, 0])
    with pytest.raises(LaotieError, match="need at least 4 days"):
        fit_bass([1, 2, 3])


def test_bass_moments_fit_the_first_orders_of_channel_all() -> None:
    # First orders on the Bass curve, split over channels (the fit must read "all").
    expected = np.round(bass_daily(2.0, 30.0, 1e6, 365))
    wom = np.floor(expected / 4)
    days = [
        {"wom": {"first_orders": w}, "storefront": {"first_orders": e - w}}
        for e, w in zip(expected, wom, strict=True)
    ]
    result = make_result(days)
    assert bass_p(result) == pytest.approx(2.0, rel=1e-3)
    assert bass_q(result) == pytest.approx(30.0, rel=1e-3)
    assert word_of_mouth_first_order_share(result) == pytest.approx(wom.sum() / expected.sum())


def test_bass_moments_are_nan_when_the_fit_fails() -> None:
    result = make_result([{"follow": {"first_orders": 1}}, {}])
    assert math.isnan(bass_p(result)) and math.isnan(bass_q(result))
    assert math.isnan(word_of_mouth_first_order_share(make_result([{}])))


# -- the registry and validate ----------------------------------------------------------------


def test_registry_ids_bands_and_docstrings() -> None:
    ids = [m.id for m in MOMENTS]
    assert len(set(ids)) == len(ids)
    for moment in MOMENTS:
        assert moment.low < moment.high, moment.id
        function = moment.function
        if isinstance(function, functools.partial):
            function = function.func
        assert moment.id in (function.__doc__ or ""), moment.id
        if moment.band.startswith("≈"):
            # The module's rule for a point value x: x ± 25 %.
            point = (moment.low + moment.high) / 2
            assert moment.high / moment.low == pytest.approx(1.25 / 0.75), moment.id
            assert f"{point * (100 if moment.unit == 'share' else 1):g}" in moment.band


def test_validate_averages_replications_and_flags_the_band() -> None:
    # T1a 0.04 and 0.045 (mean inside 3–5 %); T1b 0.05 in both (outside 0.375–0.625 %).
    results = [
        make_result([{"storefront": {"exposures": 1000, "clicks": 40, "orders": 2}}]),
        make_result([{"storefront": {"exposures": 1000, "clicks": 45, "orders": 2}}]),
    ]
    table = validate(results).set_index("id")
    assert list(table.reset_index().columns) == [
        "id",
        "moment",
        "low",
        "high",
        "value",
        "ci_low",
        "ci_high",
        "inside",
    ]
    assert table.loc["T1a", "value"] == pytest.approx(0.0425)
    expected = t_interval(np.array([0.04, 0.045]))
    assert tuple(table.loc["T1a", ["value", "ci_low", "ci_high"]]) == expected
    assert bool(table.loc["T1a", "inside"]) is True
    assert table.loc["T1b", "value"] == pytest.approx(2 / 42.5, rel=0.01)
    assert bool(table.loc["T1b", "inside"]) is False
    # Undefined here (no months, no trust orders): NaN and not inside.
    assert math.isnan(table.loc["T7a", "value"]) and not table.loc["T7a", "inside"]
    # Without a graph the graph moments are left out.
    assert not {"T9a", "T9b", "T9c", "T11"} & set(table.index)


def test_validate_band_edges_are_inside() -> None:
    # Exactly 3 % click-through: the band's low edge is inside; 2.9 % is not.
    at_edge = make_result([{"storefront": {"exposures": 1000, "clicks": 30}}])
    below = make_result([{"storefront": {"exposures": 1000, "clicks": 29}}])
    assert bool(validate([at_edge]).set_index("id").loc["T1a", "inside"]) is True
    assert bool(validate([below]).set_index("id").loc["T1a", "inside"]) is False


def test_validate_with_one_result_has_no_interval_and_with_a_graph_the_graph_moments(
    tiny_graph: TrustGraph,
) -> None:
    monthly = make_monthly(residents=5, users=4, dau=[1.0], mau=[2], buyers=[0])
    table = validate([make_result([{}], monthly=monthly)], tiny_graph).set_index("id")
    assert table["ci_low"].isna().all() and table["ci_high"].isna().all()
    assert table.loc["T11", "value"] == 3.0
    assert list(table.index) == [m.id for m in MOMENTS]


def test_validate_needs_results() -> None:
    with pytest.raises(LaotieError, match="no results"):
        validate([])


def test_a_result_from_before_the_demand_side_measures_is_refused_clearly() -> None:
    from laotie import moments, simulate

    result = simulate(Scenario.preset("village"), days=3, seed=1)
    old = ["clicks", "first_orders", "disappointed", "click_through"]
    result.summary = result.summary.drop(columns=old)
    result.daily = result.daily.drop(columns=old)
    with pytest.raises(LaotieError, match=r"summary has no clicks, first_orders, disappointed"):
        moments.storefront_click_through(result)
    with pytest.raises(LaotieError, match="before the demand side"):
        moments.validate([result, result])
