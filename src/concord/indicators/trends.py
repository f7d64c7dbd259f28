"""Trend tests, Sen's slope with its confidence interval, and the end-to-end :func:`assess`.

* **Mann-Kendall** (pymannkendall ``original_test``) and, when the series spans two full seasonal
  cycles, the **seasonal Mann-Kendall** of Hirsch & Slack (1984) (``seasonal_test``), which only
  compares a month with the same month of other years, so a seasonal pattern cannot pass for a
  trend. Missing periods are skipped, which Mann-Kendall allows because it only uses the order of
  the observations.
* **Sen's slope** (``sens_slope`` / ``seasonal_sens_slope``) in units per period, with the
  rank-based confidence interval of Gilbert (1987, section 16.5.1): with ``N'`` pairwise slopes
  and ``C = z(1-alpha/2) x sqrt(Var S)`` from the Mann-Kendall variance (ties corrected), the
  bounds are the ``(N'-C)/2``-th and ``((N'+C)/2 + 1)``-th smallest slopes, interpolated between
  ranks. The seasonal interval uses the within-season slopes and the seasonal ``Var S``
  (Gilbert 1987, section 17.6). Pairwise slopes use the true distance in periods, so a gap does
  not shorten time.
* **Change points** and the **baseline comparison** live in
  :mod:`~concord.indicators.changepoints` and :mod:`~concord.indicators.baseline`.

Each test has a minimum length; below it the result has ``status="not_enough_data"`` and a
message that says how many periods are needed: never a made-up trend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from concord.errors import InputError
from concord.indicators.baseline import (
    SEASON_LENGTH,
    Baseline,
    BaselineComparison,
    FloatArray,
    JsonResult,
    PeriodComparison,
    PeriodKind,
    Series,
    Status,
    compare_with_baseline,
    deseasonalise,
    period_index,
)
from concord.indicators.changepoints import (
    MIN_SEGMENT,
    ChangePoint,
    ChangePointResult,
    detect_change_points,
)

Direction = Literal["increasing", "decreasing", "no trend"]
TrendMethod = Literal["mann_kendall", "seasonal_mann_kendall"]
#: What raised a signal: the latest period's score, an upward trend, an upward step.
Trigger = Literal["score", "trend", "step"]

#: Below 8 observations the Mann-Kendall normal approximation is poor and power is negligible.
MIN_MANN_KENDALL_OBSERVED = 8
#: Seasonal Mann-Kendall compares each season across cycles: it needs two full cycles.
MIN_SEASONAL_CYCLES = 2
#: Robust z-score from which the latest period counts as "significantly above the baseline".
#: Not 1.96 or 2.58: the spread comes from only 12 baseline periods (a 12-point MAD is easily
#: 25% off) and from an estimated seasonal pattern, so scores are far heavier-tailed than a
#: normal z. Measured on trend-free simulated series (``benchmarks/trend_detection.py``,
#: 2,000 series): a score >= 3.5 in about 2% of them, >= 4 in about 1%, which leaves room for
#: the trend test's one-sided 2.5% within the 5% false-alarm budget. Sustained changes are caught
#: by the trend and step rules; this rule is for a sudden surge in the latest period.
SCORE_THRESHOLD = 4.0


@dataclass(frozen=True)
class TrendTest(JsonResult):
    """A Mann-Kendall test: ``direction`` is "no trend" unless ``p_value < alpha``."""

    method: TrendMethod
    status: Status
    message: str
    n_observed: int = 0
    direction: Direction | None = None
    significant: bool = False
    p_value: float | None = None
    z: float | None = None
    tau: float | None = None
    s: float | None = None
    var_s: float | None = None


@dataclass(frozen=True)
class SenSlope(JsonResult):
    """Sen's slope per period with its ``confidence`` interval; ``intercept`` is the fitted
    value at the series' first period, so the trend line is ``intercept + slope x index``."""

    method: Literal["sen", "seasonal_sen"]
    status: Status
    message: str
    slope: float | None = None
    intercept: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    ci_method: str = "gilbert_1987"


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise InputError(f"The significance level alpha must lie between 0 and 1; got {alpha}.")


def _observed(series: Series) -> tuple[FloatArray, FloatArray]:
    """Grid positions and values of the observed periods of a regular series."""
    x = series.as_array()
    positions = np.flatnonzero(~np.isnan(x))
    return positions.astype(np.float64), x[positions]


def _seasonal_ready(series: Series) -> str | None:
    """Why the seasonal test cannot run on the regular ``series``, or ``None`` if it can."""
    m = SEASON_LENGTH[series.period]
    if m < 2:
        return "Yearly values have no seasons; the seasonal test does not apply."
    needed = MIN_SEASONAL_CYCLES * m
    if len(series.periods) < needed or series.n_observed < needed:
        return (
            f"The seasonal Mann-Kendall test needs {MIN_SEASONAL_CYCLES} full cycles "
            f"({needed} observed {series.period}s); the series has {series.n_observed}."
        )
    return None


def mann_kendall(series: Series, *, alpha: float = 0.05, seasonal: bool = False) -> TrendTest:
    """Mann-Kendall trend test (``seasonal=True``: Hirsch-Slack seasonal variant)."""
    import pymannkendall as mk  # type: ignore[import-untyped]  # no type information

    _check_alpha(alpha)
    series = series.regular()
    method: TrendMethod = "seasonal_mann_kendall" if seasonal else "mann_kendall"
    n = series.n_observed
    if seasonal:
        why_not = _seasonal_ready(series)
        if why_not is not None:
            status: Status = "not_applicable" if series.period == "year" else "not_enough_data"
            return TrendTest(method=method, status=status, message=why_not, n_observed=n)
    elif n < MIN_MANN_KENDALL_OBSERVED:
        return TrendTest(
            method=method,
            status="not_enough_data",
            message=(
                f"The Mann-Kendall test needs at least {MIN_MANN_KENDALL_OBSERVED} observed "
                f"periods; the series has {n}."
            ),
            n_observed=n,
        )
    x = series.as_array()
    if seasonal:
        result = mk.seasonal_test(x, period=SEASON_LENGTH[series.period], alpha=alpha)
    else:
        result = mk.original_test(x, alpha=alpha)
    p_value = float(result.p)
    significant = bool(p_value < alpha)
    direction: Direction = "no trend"
    if significant:
        direction = "increasing" if result.z > 0 else "decreasing"
    label = "Seasonal Mann-Kendall" if seasonal else "Mann-Kendall"
    return TrendTest(
        method=method,
        status="ok",
        message=f"{label}: {direction} (p = {p_value:.3g}, alpha = {alpha:g}).",
        n_observed=n,
        direction=direction,
        significant=significant,
        p_value=p_value,
        z=float(result.z),
        tau=float(result.Tau),
        s=float(result.s),
        var_s=float(result.var_s),
    )


def pairwise_slopes(series: Series, *, seasonal: bool = False) -> FloatArray:
    """Every slope ``(x_j - x_i) / (t_j - t_i)`` per period between observed periods ``i < j``
    of the regular ``series`` (only same-season pairs when ``seasonal``)."""
    positions, values = _observed(series)
    i, j = np.triu_indices(len(values), k=1)
    if seasonal:
        m = SEASON_LENGTH[series.period]
        same = (positions[j] - positions[i]) % m == 0
        i, j = i[same], j[same]
    slopes: FloatArray = (values[j] - values[i]) / (positions[j] - positions[i])
    return slopes


def gilbert_interval(slopes: FloatArray, var_s: float, alpha: float) -> tuple[float, float]:
    """Gilbert's (1987) rank-based ``1 - alpha`` interval for the median of ``slopes``."""
    from scipy.stats import norm  # type: ignore[import-untyped]  # scipy ships no stubs

    ordered = np.sort(slopes)
    count = len(ordered)
    c = float(norm.ppf(1 - alpha / 2)) * math.sqrt(max(var_s, 0.0))
    ranks = np.arange(count, dtype=np.float64)
    # 1-based ranks (N'-C)/2 and (N'+C)/2 + 1 are 0-based positions (N'-C)/2 - 1 and (N'+C)/2.
    low = np.clip((count - c) / 2 - 1, 0, count - 1)
    high = np.clip((count + c) / 2, 0, count - 1)
    return float(np.interp(low, ranks, ordered)), float(np.interp(high, ranks, ordered))


def sen_slope(series: Series, trend: TrendTest, *, alpha: float = 0.05) -> SenSlope:
    """Sen's slope of ``series`` with Gilbert's interval, using ``trend``'s variance of S.

    ``trend`` is the Mann-Kendall result of the same series: the seasonal slope goes with the
    seasonal test. It is required because the interval is built from its ``var_s``.
    """
    import pymannkendall as mk

    _check_alpha(alpha)
    series = series.regular()
    seasonal = trend.method == "seasonal_mann_kendall"
    method: Literal["sen", "seasonal_sen"] = "seasonal_sen" if seasonal else "sen"
    if trend.status != "ok" or trend.var_s is None:
        return SenSlope(method=method, status=trend.status, message=trend.message)
    x = series.as_array()
    if seasonal:
        m = SEASON_LENGTH[series.period]
        per_cycle, intercept = mk.seasonal_sens_slope(x, period=m)
        slope = float(per_cycle) / m  # pymannkendall's seasonal slope is per full cycle
    else:
        raw_slope, intercept = mk.sens_slope(x)
        slope = float(raw_slope)
    low, high = gilbert_interval(pairwise_slopes(series, seasonal=seasonal), trend.var_s, alpha)
    return SenSlope(
        method=method,
        status="ok",
        message=(
            f"Sen's slope {slope:.4g} per {series.period} "
            f"({100 * (1 - alpha):g}% CI {low:.4g} to {high:.4g}, Gilbert 1987)."
        ),
        slope=slope,
        intercept=float(intercept),
        ci_low=low,
        ci_high=high,
        confidence=1 - alpha,
    )


@dataclass(frozen=True)
class TrendAssessment(JsonResult):
    """Everything :func:`assess` found about one series, and whether it raises a ``signal``.

    ``reasons`` says in words why the signal is raised (empty when it is not) and ``triggers``
    which rules raised it; ``notes`` says which evidence could not be used and why (too short,
    not seasonally adjusted).
    """

    period: PeriodKind
    n_periods: int
    n_observed: int
    n_missing: int
    alpha: float
    score_threshold: float
    baseline: BaselineComparison
    latest: PeriodComparison | None
    mann_kendall: TrendTest
    seasonal_mann_kendall: TrendTest
    trend: TrendTest
    slope: SenSlope
    change_points: ChangePointResult
    signal: bool
    reasons: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    notes: tuple[str, ...]


@dataclass
class _Evidence:
    """Collects what raises the signal (``reasons``, ``triggers``) and what could not be used."""

    reasons: list[str] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def _raise(self, trigger: Trigger, reason: str) -> None:
        self.reasons.append(reason)
        if trigger not in self.triggers:
            self.triggers.append(trigger)

    def score(self, comparison: BaselineComparison, threshold: float) -> None:
        """Rule 1: the latest observed period scores at least ``threshold``."""
        latest = comparison.latest
        if latest is None:
            self.notes.append(comparison.message)
        elif latest.score is None:
            self.notes.append(f"No score for {latest.period.isoformat()}: {comparison.message}")
        elif latest.score >= threshold:
            self._raise(
                "score",
                f"{latest.period.isoformat()} is {latest.score:.1f} robust standard deviations "
                f"above the baseline (threshold {threshold:g}).",
            )

    def trend(self, trend: TrendTest, seasonal: TrendTest, slope: SenSlope) -> None:
        """Rule 2: a significant increasing trend, from a test that respects the seasons."""
        if trend.status != "ok":
            self.notes.append(trend.message)
        elif trend is not seasonal and seasonal.status == "not_enough_data":
            self.notes.append(f"{trend.message} Not used for the signal: {seasonal.message}")
        elif trend.direction == "increasing":
            self._raise("trend", f"Significant upward trend: {trend.message} {slope.message}")

    def step(
        self, changes: ChangePointResult, comparison: BaselineComparison, period: PeriodKind
    ) -> None:
        """Rule 3: an upward change point from the end of the baseline on (less ``MIN_SEGMENT``
        periods, because PELT places a change to within a few periods)."""
        if changes.status != "ok":
            self.notes.append(changes.message)
            return
        if SEASON_LENGTH[period] > 1 and not changes.seasonally_adjusted:
            if changes.change_points:
                self.notes.append(f"Change points not used for the signal: {changes.message}")
            return
        if comparison.end is None:
            self.notes.append(f"Change points not used for the signal: {comparison.message}")
            return
        since = period_index(comparison.end, period) + 1 - MIN_SEGMENT
        for point in changes.change_points:
            if point.change > 0 and period_index(point.period, period) >= since:
                self._raise(
                    "step",
                    f"Upward step from {point.period.isoformat()}: level "
                    f"{point.level_before:.4g} to {point.level_after:.4g}.",
                )


def assess(
    series: Series,
    *,
    baseline: Baseline | None = None,
    alpha: float = 0.05,
    score_threshold: float = SCORE_THRESHOLD,
) -> TrendAssessment:
    """Baseline comparison, trend tests, slope and change points of ``series``, and a signal.

    The **signal** is raised when any of these holds (each reason is listed in ``reasons``):

    1. the latest observed period's seasonally adjusted robust z-score is at least
       ``score_threshold``;
    2. the trend test (seasonal Mann-Kendall when available) finds an *increasing* trend with
       ``p < alpha``;
    3. a change point at or after the end of the baseline (less ``MIN_SEGMENT`` periods of
       localisation slack) raises the level.

    For monthly and quarterly series, (2) and (3) only count when the seasonal pattern has been
    accounted for (seasonal test; seasonally adjusted change points): over less than two cycles
    a seasonal rise would otherwise pass for a trend. The rates this rule achieves are measured
    by ``benchmarks/trend_detection.py``.
    """
    _check_alpha(alpha)
    if not math.isfinite(score_threshold):
        raise InputError(f"The score threshold must be a finite number; got {score_threshold}.")
    baseline = baseline or Baseline()
    regular = series.regular()
    adjusted = deseasonalise(regular)
    comparison = compare_with_baseline(regular, baseline, adjusted=adjusted)
    plain = mann_kendall(regular, alpha=alpha)
    seasonal = mann_kendall(regular, alpha=alpha, seasonal=True)
    trend = seasonal if seasonal.status == "ok" else plain
    slope = sen_slope(regular, trend, alpha=alpha)
    changes = detect_change_points(regular, adjusted=adjusted)

    evidence = _Evidence()
    latest = comparison.latest
    evidence.score(comparison, score_threshold)
    evidence.trend(trend, seasonal, slope)
    evidence.step(changes, comparison, regular.period)
    return TrendAssessment(
        period=regular.period,
        n_periods=len(regular.periods),
        n_observed=regular.n_observed,
        n_missing=len(regular.periods) - regular.n_observed,
        alpha=alpha,
        score_threshold=score_threshold,
        baseline=comparison,
        latest=latest,
        mann_kendall=plain,
        seasonal_mann_kendall=seasonal,
        trend=trend,
        slope=slope,
        change_points=changes,
        signal=bool(evidence.reasons),
        reasons=tuple(evidence.reasons),
        triggers=tuple(evidence.triggers),
        notes=tuple(evidence.notes),
    )


__all__ = [
    "SCORE_THRESHOLD",
    "Baseline",
    "BaselineComparison",
    "ChangePoint",
    "ChangePointResult",
    "Direction",
    "PeriodComparison",
    "SenSlope",
    "Series",
    "TrendAssessment",
    "TrendTest",
    "Trigger",
    "assess",
    "compare_with_baseline",
    "deseasonalise",
    "detect_change_points",
    "gilbert_interval",
    "mann_kendall",
    "pairwise_slopes",
    "sen_slope",
]
