"""Baselines, trend tests, Sen's slope and its interval, change points and ``assess``."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.errors import InputError
from concord.indicators.baseline import (
    Baseline,
    PeriodKind,
    Series,
    compare_with_baseline,
    deseasonalise,
    period_start,
)
from concord.indicators.changepoints import detect_change_points
from concord.indicators.trends import (
    assess,
    gilbert_interval,
    mann_kendall,
    pairwise_slopes,
    sen_slope,
)

START = date(2020, 1, 1)


def series_of(values: list[float | None], period: PeriodKind = "month") -> Series:
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    origin = (START.year * 12) // months
    return Series(
        periods=[period_start(origin + i, period) for i in range(len(values))],
        values=values,
        period=period,
    )


def seasonal_counts(
    n: int, *, seed: int, level: float = 100.0, amplitude: float = 0.4, slope: float = 0.0
) -> list[float | None]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    mean = level * (1 + amplitude * np.sin(2 * math.pi * t / 12)) + slope * t
    return [float(v) for v in rng.poisson(mean)]


# --- the series itself -------------------------------------------------------------------


def test_series_rejects_what_it_cannot_use() -> None:
    with pytest.raises(InputError, match="not the start of a month"):
        Series(periods=[date(2020, 1, 15)], values=[1.0])
    with pytest.raises(InputError, match="not the start of a quarter"):
        Series(periods=[date(2020, 2, 1)], values=[1.0], period="quarter")
    with pytest.raises(InputError, match="sorted"):
        Series(periods=[date(2020, 2, 1), date(2020, 1, 1)], values=[1.0, 2.0])
    with pytest.raises(InputError, match="one value per period"):
        Series(periods=[date(2020, 1, 1)], values=[1.0, 2.0])
    with pytest.raises(InputError, match="finite"):
        Series(periods=[date(2020, 1, 1)], values=[math.inf])
    with pytest.raises(InputError, match="Unknown period"):
        Series(periods=[], values=[], period="week")  # type: ignore[arg-type]


def test_missing_periods_become_explicit_none_never_zero() -> None:
    series = Series(
        periods=[date(2020, 1, 1), date(2020, 2, 1), date(2020, 5, 1)],
        values=[1.0, float("nan"), 3.0],
    )
    regular = series.regular()
    assert regular.periods == (
        date(2020, 1, 1),
        date(2020, 2, 1),
        date(2020, 3, 1),
        date(2020, 4, 1),
        date(2020, 5, 1),
    )
    assert regular.values == (1.0, None, None, None, 3.0)
    assert regular.n_observed == 2


# --- Mann-Kendall and Sen's slope --------------------------------------------------------


def test_mann_kendall_on_known_series() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 1, 30)
    up = mann_kendall(series_of(list(np.arange(30) * 0.5 + noise)))
    down = mann_kendall(series_of(list(-np.arange(30) * 0.5 + noise)))
    flat = mann_kendall(series_of(list(10 + noise)))
    assert (up.direction, up.significant) == ("increasing", True)
    assert (down.direction, down.significant) == ("decreasing", True)
    assert (flat.direction, flat.significant) == ("no trend", False)
    assert up.p_value is not None and up.p_value < 0.001
    assert flat.p_value is not None and flat.p_value > 0.05


def test_sen_slope_interval_contains_the_true_slope() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(40)
    series = series_of(list(5 + 2.5 * t + rng.normal(0, 4, 40)))
    trend = mann_kendall(series)
    slope = sen_slope(series, trend)
    assert slope.status == "ok" and slope.slope is not None
    assert slope.ci_low is not None and slope.ci_high is not None
    assert slope.ci_low < 2.5 < slope.ci_high
    assert slope.ci_low < slope.slope < slope.ci_high
    assert slope.slope == pytest.approx(float(np.median(pairwise_slopes(series))))
    assert slope.intercept == pytest.approx(5, abs=3)
    assert slope.confidence == pytest.approx(0.95)


def test_sen_interval_covers_the_true_slope_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(200):
        series = series_of(list(0.3 * np.arange(30) + rng.normal(0, 2, 30)))
        slope = sen_slope(series, mann_kendall(series))
        assert slope.ci_low is not None and slope.ci_high is not None
        covered += slope.ci_low <= 0.3 <= slope.ci_high
    assert 0.90 <= covered / 200 <= 0.99


def test_gilbert_interval_narrows_with_a_smaller_variance() -> None:
    slopes = np.linspace(-1, 3, 101)
    wide = gilbert_interval(slopes, var_s=800.0, alpha=0.05)
    narrow = gilbert_interval(slopes, var_s=50.0, alpha=0.05)
    assert wide[0] < narrow[0] < 1 < narrow[1] < wide[1]
    assert gilbert_interval(slopes, var_s=0.0, alpha=0.05) == pytest.approx((1.0, 1.0), abs=0.05)


def test_seasonal_test_and_slope_per_period() -> None:
    covered = 0
    for seed in range(100):
        series = series_of(seasonal_counts(48, seed=seed, slope=0.8))
        seasonal = mann_kendall(series, seasonal=True)
        assert seasonal.status == "ok" and seasonal.direction == "increasing"
        slope = sen_slope(series, seasonal)
        assert slope.method == "seasonal_sen" and slope.slope is not None
        # pymannkendall's seasonal slope (per year, divided by 12) is the median of the
        # within-season slopes the interval is built from.
        assert slope.slope == pytest.approx(
            float(np.median(pairwise_slopes(series, seasonal=True)))
        )
        assert slope.ci_low is not None and slope.ci_high is not None
        covered += slope.ci_low <= 0.8 <= slope.ci_high
    assert 0.88 <= covered / 100 <= 1.0


def test_gaps_keep_their_true_distance_in_time() -> None:
    values: list[float | None] = [2.0 * t for t in range(20)]
    for gap in (3, 4, 5, 11):
        values[gap] = None
    series = series_of(values)
    slope = sen_slope(series, mann_kendall(series))
    assert slope.slope == pytest.approx(2.0)
    assert slope.ci_low == pytest.approx(2.0) and slope.ci_high == pytest.approx(2.0)
    assert mann_kendall(series).n_observed == 16


# --- minimum lengths ---------------------------------------------------------------------


def test_too_short_series_say_how_much_data_they_need() -> None:
    short = series_of([float(v) for v in range(7)])
    mk = mann_kendall(short)
    assert mk.status == "not_enough_data" and "at least 8" in mk.message
    assert mk.direction is None
    seasonal = mann_kendall(series_of([1.0] * 23), seasonal=True)
    assert seasonal.status == "not_enough_data" and "24" in seasonal.message
    changes = detect_change_points(series_of([1.0, 2.0] * 5 + [None, 3.0]))
    assert changes.status == "not_enough_data" and "at least 12" in changes.message
    baseline = compare_with_baseline(series_of([1.0] * 10))
    assert baseline.status == "not_enough_data" and "12 periods" in baseline.message

    result = assess(short)
    assert result.signal is False and result.reasons == ()
    assert result.trend.status == "not_enough_data"
    assert result.slope.status == "not_enough_data"
    assert any("at least 8" in note for note in result.notes)


def test_missing_values_count_against_the_minimum() -> None:
    values: list[float | None] = [float(v) for v in range(10)]
    values[2] = values[5] = values[7] = None
    result = mann_kendall(series_of(values))
    assert result.status == "not_enough_data" and "has 7" in result.message


def test_yearly_series_have_no_seasonal_test_but_a_plain_one_counts() -> None:
    result = assess(series_of([10.0 + 3 * v for v in range(20)], period="year"))
    assert result.seasonal_mann_kendall.status == "not_applicable"
    assert result.trend.method == "mann_kendall" and result.trend.direction == "increasing"
    assert "trend" in result.triggers


# --- baseline comparison and seasonal adjustment -----------------------------------------


def test_baseline_change_and_relative_change() -> None:
    values: list[float | None] = [10.0, 12.0, 8.0, 10.0, 11.0, 9.0, 15.0, None]
    comparison = compare_with_baseline(series_of(values), Baseline(periods=6))
    assert comparison.status == "ok"
    assert comparison.mean == pytest.approx(10.0)
    assert comparison.seasonal_adjustment == "none"
    first, missing = comparison.comparisons
    assert first.change == pytest.approx(5.0) and first.relative_change == pytest.approx(0.5)
    assert first.score is not None and first.score > 0
    assert missing.value is None and missing.score is None and missing.change is None
    assert comparison.latest == first


def test_baseline_by_dates() -> None:
    series = series_of([float(v % 5) for v in range(36)])
    comparison = compare_with_baseline(
        series, Baseline(start=date(2021, 1, 1), end=date(2021, 12, 1))
    )
    assert (comparison.start, comparison.end, comparison.n_periods) == (
        date(2021, 1, 1),
        date(2021, 12, 1),
        12,
    )
    assert comparison.comparisons[0].period == date(2022, 1, 1)
    outside = compare_with_baseline(series, Baseline(start=date(2019, 1, 1), end=date(2019, 12, 1)))
    assert outside.status == "not_enough_data" and "outside the series" in outside.message
    with pytest.raises(InputError):
        Baseline(start=date(2021, 1, 1))
    with pytest.raises(InputError):
        Baseline(start=date(2021, 2, 1), end=date(2021, 1, 1))


def test_a_seasonal_peak_is_not_a_signal() -> None:
    # 40% seasonal swings and no trend: the raw peak is far above the baseline mean, the
    # seasonally adjusted score is not.
    values = seasonal_counts(40, seed=5, amplitude=0.4)  # ends at the April peak
    result = assess(series_of(values))
    assert result.baseline.seasonal_adjustment == "stl"
    latest = result.latest
    assert latest is not None and latest.relative_change is not None
    assert latest.relative_change > 0.2
    assert latest.score is not None and abs(latest.score) < 3
    assert latest.expected is not None and latest.expected == pytest.approx(latest.value, rel=0.15)
    assert result.trend.method == "seasonal_mann_kendall"
    assert result.signal is False, result.reasons


def test_deseasonalise_removes_the_cycle_and_keeps_gaps() -> None:
    values = seasonal_counts(36, seed=6, amplitude=0.5)
    values[14] = None
    adjusted = deseasonalise(series_of(values))
    assert adjusted.method == "stl"
    assert math.isnan(adjusted.values[14])
    raw = np.array([np.nan if v is None else v for v in values])
    assert np.nanstd(adjusted.values) < np.nanstd(raw) / 2
    short = deseasonalise(series_of(values[:20]))
    assert short.method == "none" and "2 full cycles" in short.message


# --- change points -----------------------------------------------------------------------


def test_change_point_found_near_a_planted_step() -> None:
    rng = np.random.default_rng(7)
    values = [float(v) for v in rng.poisson([100] * 30 + [140] * 18)]
    result = detect_change_points(series_of(values))
    assert result.status == "ok"
    assert len(result.change_points) == 1
    point = result.change_points[0]
    planted = period_start(START.year * 12 + 30, "month")
    assert abs((point.period - planted).days) <= 62
    assert point.level_before == pytest.approx(100, rel=0.1)
    assert point.level_after == pytest.approx(140, rel=0.1)
    assert point.relative_change is not None and point.relative_change > 0.25
    assessment = assess(series_of(values))
    assert assessment.signal and "step" in assessment.triggers


def test_no_change_point_in_noise() -> None:
    rng = np.random.default_rng(8)
    result = detect_change_points(series_of([float(v) for v in rng.poisson(100, 48)]))
    assert result.status == "ok" and result.change_points == ()
    assert result.penalty is not None and result.penalty > 0


def test_a_step_inside_the_baseline_does_not_raise_the_signal_by_itself() -> None:
    rng = np.random.default_rng(9)
    values = [float(v) for v in rng.poisson([100] * 5 + [160] * 43)]
    result = assess(series_of(values))
    assert result.change_points.change_points
    assert "step" not in result.triggers


# --- assess end to end -------------------------------------------------------------------


def test_assess_result_is_json_able() -> None:
    values = seasonal_counts(40, seed=10)
    values[3] = None
    result = assess(series_of(values))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["period"] == "month" and data["n_missing"] == 1
    assert data["baseline"]["start"] == "2020-01-01"
    assert isinstance(data["reasons"], list) and isinstance(data["triggers"], list)
    assert data["slope"]["ci_method"] == "gilbert_1987"


def test_a_surge_in_the_latest_period_raises_the_score_rule() -> None:
    values = seasonal_counts(36, seed=11, amplitude=0.2)
    values[-1] = 3 * 100.0
    result = assess(series_of(values))
    assert result.signal and "score" in result.triggers
    assert result.reasons[0].startswith("2022-12-01 is")


def test_short_monthly_series_do_not_signal_from_unadjusted_trends() -> None:
    # 20 months rising with the season: the plain test sees a trend, but with fewer than two
    # cycles it cannot tell it from the season, so it must not raise the signal.
    result = assess(series_of([100.0 + 5 * v for v in range(20)]))
    assert result.mann_kendall.direction == "increasing"
    assert "trend" not in result.triggers
    assert any("Not used for the signal" in note for note in result.notes)


finite_or_missing = st.one_of(
    st.none(),
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=500).map(float),
)


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(finite_or_missing, min_size=0, max_size=60),
    period=st.sampled_from(["month", "quarter", "year"]),
)
def test_assess_never_crashes(values: list[float | None], period: PeriodKind) -> None:
    result = assess(series_of(values, period))
    json.dumps(result.to_dict())
    assert result.n_periods == len(values)
    assert result.n_observed == sum(v is not None for v in values)
    assert result.signal == bool(result.reasons)


@settings(max_examples=40, deadline=None)
@given(
    constant=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    length=st.integers(min_value=8, max_value=60),
    gaps=st.sets(st.integers(min_value=1, max_value=59), max_size=5),
)
def test_constant_series_have_no_trend(constant: float, length: int, gaps: set[int]) -> None:
    values: list[float | None] = [None if i in gaps else constant for i in range(length)]
    result = assess(series_of(values))
    assert result.mann_kendall.direction in ("no trend", None)
    assert result.seasonal_mann_kendall.direction in ("no trend", None)
    assert result.change_points.change_points == ()
    assert result.signal is False
    if result.slope.slope is not None:
        assert result.slope.slope == 0.0


def test_bad_settings_are_rejected_with_a_reason() -> None:
    series = series_of([1.0] * 20)
    with pytest.raises(InputError, match="alpha"):
        assess(series, alpha=1.5)
    with pytest.raises(InputError, match="threshold"):
        assess(series, score_threshold=math.nan)
    with pytest.raises(InputError, match="positive number of periods"):
        Baseline(periods=0)
