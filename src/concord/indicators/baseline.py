"""Indicator time series, seasonal adjustment and the comparison of each period with a baseline.

A :class:`Series` holds one value per period (month, quarter or year). Periods missing from the
series and values that are ``None`` (or NaN) are *missing*: they are never filled with 0, never
scored and never tested; the trend and change-point code skips them explicitly.

Seasonal adjustment (:func:`deseasonalise`) uses statsmodels' STL. We chose STL over a
same-calendar-month comparison because the default baseline is a single year: comparing March
with the one baseline March doubles the noise (two single observations) and leaves no baseline
residuals from which to estimate the spread, whereas STL pools every year of the series to
estimate the seasonal pattern and leaves a deseasonalised series whose baseline part has a usable
spread. STL needs at least two full cycles, so shorter series (and yearly ones) are compared
unadjusted, and the result says so.

The score of a period is a *robust z-score*: its deseasonalised value minus the baseline median,
divided by the baseline's scaled median absolute deviation (1.4826 x MAD, which equals the
standard deviation for normal noise). Median and MAD keep one odd baseline month (a campaign, a
platform's bulk report) from inflating the yardstick the way a mean and standard deviation would.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from concord.errors import InputError

PeriodKind = Literal["month", "quarter", "year"]
Status = Literal["ok", "not_enough_data", "not_applicable"]
FloatArray = npt.NDArray[np.float64]

#: Periods per seasonal cycle: 12 months, 4 quarters; yearly series have no season.
SEASON_LENGTH: dict[str, int] = {"month": 12, "quarter": 4, "year": 1}
#: Months covered by one period, used to place dates on a regular grid.
_MONTHS_PER_PERIOD: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
#: Larger than any plausible indicator (counts, rates per 100,000, shares, days); keeping values
#: below it keeps squares and pairwise differences far from float overflow.
MAX_ABS_VALUE = 1e12
#: Default baseline: the first 12 periods (a year of monthly data), as the issue proposes.
DEFAULT_BASELINE_PERIODS = 12
#: A median absolute deviation from fewer observed values is too unstable to score against.
MIN_BASELINE_OBSERVED = 6
#: 1.4826 x MAD estimates the standard deviation of normal noise (1 / Phi^-1(3/4)).
MAD_TO_SD = 1.4826
#: sqrt(pi/2) x mean absolute deviation estimates the standard deviation of normal noise; used
#: only when more than half the baseline values are identical (MAD = 0).
MEAN_AD_TO_SD = math.sqrt(math.pi / 2)
#: Rounds of "fill the gaps with STL's fit, refit" when values are missing; the seasonal
#: pattern settles after two or three.
_GAP_REFITS = 3
#: A spread below this fraction of the series' largest value is rounding, not variation: dividing
#: by it would produce meaningless (even overflowing) scores.
_DEGENERATE_SPREAD = 1e-9


def _jsonable(value: Any) -> Any:
    """Dates as ISO 8601 strings, tuples as lists, non-finite floats as ``None``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class JsonResult:
    """Mixin for the frozen result dataclasses: ``to_dict()`` gives what the API returns."""

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = _jsonable(self)
        return result


def period_index(day: date, period: PeriodKind) -> int:
    """Position of ``day`` on a regular grid of ``period`` steps (months, quarters or years)."""
    return (day.year * 12 + day.month - 1) // _MONTHS_PER_PERIOD[period]


def period_start(index: int, period: PeriodKind) -> date:
    """Inverse of :func:`period_index`: the first day of the period at ``index``."""
    months = index * _MONTHS_PER_PERIOD[period]
    return date(months // 12, months % 12 + 1, 1)


def _check_period_start(day: date, period: PeriodKind) -> None:
    months = _MONTHS_PER_PERIOD[period]
    if day.day != 1 or (day.month - 1) % months != 0:
        raise InputError(
            f"{day.isoformat()} is not the start of a {period}: periods are given by their first "
            f"day (a month's 1st, a quarter's 1 Jan/Apr/Jul/Oct, a year's 1 Jan)."
        )


@dataclass(frozen=True)
class Series:
    """One indicator's values per period, sorted by period start.

    ``periods`` are period starts (``date(2024, 3, 1)`` for March 2024). Gaps between periods
    are allowed and mean "no value for these periods": :meth:`regular` makes them explicit as
    ``None``. A ``None`` or NaN value is missing, never zero. Infinite values and values beyond
    ``MAX_ABS_VALUE`` are rejected with :class:`~concord.errors.InputError`.
    """

    periods: Sequence[date]
    values: Sequence[float | None]
    period: PeriodKind = "month"

    def __post_init__(self) -> None:
        if self.period not in SEASON_LENGTH:
            raise InputError(
                f"Unknown period {self.period!r}: use one of {', '.join(SEASON_LENGTH)}."
            )
        if len(self.periods) != len(self.values):
            raise InputError(
                f"A series needs one value per period: got {len(self.periods)} periods and "
                f"{len(self.values)} values."
            )
        periods = tuple(self.periods)
        for day in periods:
            _check_period_start(day, self.period)
        for earlier, later in itertools.pairwise(periods):
            if later <= earlier:
                raise InputError(
                    f"Periods must be sorted with no duplicates: {later.isoformat()} follows "
                    f"{earlier.isoformat()}."
                )
        values: list[float | None] = []
        for day, value in zip(periods, self.values, strict=True):
            if value is None or math.isnan(value):
                values.append(None)
                continue
            if not math.isfinite(value) or abs(value) > MAX_ABS_VALUE:
                raise InputError(
                    f"The value for {day.isoformat()} ({value}) is not a plausible indicator "
                    f"value: values must be finite and within ±{MAX_ABS_VALUE:g}."
                )
            values.append(float(value))
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "values", tuple(values))

    def regular(self) -> Series:
        """The same series on a gap-free grid, with ``None`` for every period that was absent."""
        if not self.periods:
            return self
        first = period_index(self.periods[0], self.period)
        last = period_index(self.periods[-1], self.period)
        by_index = {
            period_index(d, self.period): v for d, v in zip(self.periods, self.values, strict=True)
        }
        indices = range(first, last + 1)
        return Series(
            periods=[period_start(i, self.period) for i in indices],
            values=[by_index.get(i) for i in indices],
            period=self.period,
        )

    def as_array(self) -> FloatArray:
        """Values as floats, NaN where missing (the NaN never leaves this module's callers)."""
        return np.array([np.nan if v is None else v for v in self.values], dtype=np.float64)

    @property
    def n_observed(self) -> int:
        return sum(v is not None for v in self.values)


@dataclass(frozen=True)
class Baseline:
    """Which periods form the baseline: the first ``periods`` periods, or ``start``..``end``.

    Use ``Baseline()`` for the default (first 12 periods), ``Baseline(periods=24)``, or
    ``Baseline(start=date(2022, 1, 1), end=date(2022, 12, 1))`` (both ends inclusive).
    """

    periods: int | None = DEFAULT_BASELINE_PERIODS
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise InputError("A baseline given by dates needs both a start and an end.")
        if self.start is not None and self.end is not None:
            object.__setattr__(self, "periods", None)
            if self.end < self.start:
                raise InputError(
                    f"The baseline ends ({self.end.isoformat()}) before it starts "
                    f"({self.start.isoformat()})."
                )
        elif self.periods is None or self.periods < 1:
            raise InputError("A baseline needs a positive number of periods or start/end dates.")

    def window(self, series: Series) -> tuple[int, int] | str:
        """Positions ``[first, stop)`` of the window in the regular ``series``, or why not."""
        n = len(series.periods)
        if self.periods is not None:
            if n < self.periods:
                return f"The baseline window needs {self.periods} periods; the series has {n}."
            return 0, self.periods
        start, end = self.start, self.end
        if start is None or end is None:  # __post_init__ sets both or neither
            raise InputError("A baseline given by dates needs both a start and an end.")
        _check_period_start(start, series.period)
        _check_period_start(end, series.period)
        if n == 0:
            return "The series is empty, so it has no baseline window."
        origin = period_index(series.periods[0], series.period)
        first = period_index(start, series.period) - origin
        stop = period_index(end, series.period) - origin + 1
        if first < 0 or stop > n:
            return (
                f"The baseline {start.isoformat()}..{end.isoformat()} lies outside the "
                f"series ({series.periods[0].isoformat()}..{series.periods[-1].isoformat()})."
            )
        return first, stop


@dataclass(frozen=True)
class Deseasonalised:
    """A regular series with its seasonal component removed (or not, and why)."""

    values: FloatArray = field(repr=False)
    seasonal: FloatArray = field(repr=False)
    method: Literal["stl", "none"]
    message: str


def _periodic_window(n: int) -> int:
    """An odd seasonal window longer than the series: STL's "periodic" seasonal pattern."""
    return 10 * n + 1


def _stl_seasonal(filled: FloatArray, period: int) -> tuple[FloatArray, FloatArray]:
    """Seasonal and trend components of a gap-free series (statsmodels STL, periodic)."""
    from statsmodels.tsa.seasonal import STL  # type: ignore[import-untyped]  # no type information

    fit = STL(
        filled, period=period, seasonal=_periodic_window(len(filled)), seasonal_deg=0, robust=False
    ).fit()
    return np.asarray(fit.seasonal, dtype=np.float64), np.asarray(fit.trend, dtype=np.float64)


def deseasonalise(series: Series) -> Deseasonalised:
    """Remove the seasonal pattern with STL when the series has two full cycles.

    ``series`` must be regular. Settings, and why:

    * **periodic** seasonal pattern (a seasonal window longer than the series, local-constant
      fit): with three or four years of data the pattern cannot be estimated to drift, and a
      shorter window lets the seasonal component absorb the noise of single months;
    * **not robust**: with so few cycles STL's robustness weights leave some months' seasonal
      value resting on one or two years, which made deseasonalised values noisier (and false
      alarms more frequent) in ``benchmarks/trend_detection.py``; resistance to odd months comes
      from the median and MAD of the baseline score instead;
    * **gaps**: STL needs a complete series, so missing values are first interpolated, then
      replaced by STL's own fit (trend + seasonal) and STL is refitted, a few rounds; a gap
      therefore does not bend the seasonal pattern of its month. The result keeps NaN at every
      missing period: a filled value is never scored or tested.
    """
    x = series.as_array()
    m = SEASON_LENGTH[series.period]
    zeros = np.zeros_like(x)
    if m < 2:
        return Deseasonalised(x, zeros, "none", "Yearly values have no season to remove.")
    observed = ~np.isnan(x)
    if len(x) < 2 * m or int(observed.sum()) < 2 * m:
        return Deseasonalised(
            x,
            zeros,
            "none",
            f"Seasonal adjustment needs 2 full cycles ({2 * m} observed {series.period}s); "
            f"the series has {int(observed.sum())}, so values are compared unadjusted.",
        )
    scale = float(np.max(np.abs(x[observed])))
    if scale == 0.0:
        return Deseasonalised(x, zeros, "none", "All values are zero; there is no season.")
    positions = np.arange(len(x), dtype=np.float64)
    # STL works on the series divided by its largest value so that tiny or huge magnitudes do not
    # reach the loess weights as subnormal or overflowing numbers; the seasonal part is scaled back.
    filled = np.interp(positions, positions[observed], x[observed]) / scale
    seasonal, trend = _stl_seasonal(filled, m)
    for _ in range(_GAP_REFITS if not observed.all() else 0):
        filled[~observed] = (trend + seasonal)[~observed]
        seasonal, trend = _stl_seasonal(filled, m)
    seasonal = seasonal * scale
    if not np.all(np.isfinite(seasonal)):
        return Deseasonalised(x, zeros, "none", "STL did not converge; values are unadjusted.")
    return Deseasonalised(
        x - seasonal, seasonal, "stl", f"Seasonally adjusted with STL (period {m})."
    )


@dataclass(frozen=True)
class PeriodComparison(JsonResult):
    """One period after the baseline, compared with it.

    ``change``/``relative_change`` compare the raw value with the baseline mean (what a reader
    sees on a chart); ``expected`` is the baseline level plus this period's seasonal component,
    and ``score`` is the robust z-score of the seasonally adjusted value (see the module text).
    """

    period: date
    value: float | None
    change: float | None
    relative_change: float | None
    expected: float | None
    adjusted_value: float | None
    score: float | None


@dataclass(frozen=True)
class BaselineComparison(JsonResult):
    """The baseline window's statistics and every later period compared with them."""

    status: Status
    message: str
    start: date | None = None
    end: date | None = None
    n_periods: int = 0
    n_observed: int = 0
    mean: float | None = None
    median: float | None = None
    adjusted_median: float | None = None
    scale: float | None = None
    seasonal_adjustment: Literal["stl", "none"] = "none"
    comparisons: tuple[PeriodComparison, ...] = ()

    @property
    def latest(self) -> PeriodComparison | None:
        """The last period with a value, if any period after the baseline has one."""
        for comparison in reversed(self.comparisons):
            if comparison.value is not None:
                return comparison
        return None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def robust_scale(values: FloatArray, magnitude: float) -> float | None:
    """1.4826 x MAD of ``values`` (NaN-free), or the mean-deviation estimate when MAD is 0;
    ``None`` when even that is negligible next to ``magnitude`` (no variation to score against)."""
    centre = float(np.median(values))
    deviations = np.abs(values - centre)
    scale = MAD_TO_SD * float(np.median(deviations))
    if scale <= _DEGENERATE_SPREAD * magnitude:
        scale = MEAN_AD_TO_SD * float(np.mean(deviations))
    if scale <= _DEGENERATE_SPREAD * magnitude or scale == 0.0:
        return None
    return scale


def compare_with_baseline(
    series: Series,
    baseline: Baseline | None = None,
    *,
    adjusted: Deseasonalised | None = None,
) -> BaselineComparison:
    """Compare each period after the baseline window with the baseline.

    ``series`` is made regular first. Pass ``adjusted`` to reuse a :func:`deseasonalise` result
    of the same regular series.
    """
    baseline = baseline or Baseline()
    series = series.regular()
    window = baseline.window(series)
    if isinstance(window, str):
        return BaselineComparison(status="not_enough_data", message=window)
    first, stop = window
    x = series.as_array()
    base = x[first:stop]
    base_observed = base[~np.isnan(base)]
    info: dict[str, Any] = {
        "start": series.periods[first],
        "end": series.periods[stop - 1],
        "n_periods": stop - first,
        "n_observed": len(base_observed),
    }
    if len(base_observed) < MIN_BASELINE_OBSERVED:
        return BaselineComparison(
            status="not_enough_data",
            message=(
                f"The baseline needs at least {MIN_BASELINE_OBSERVED} observed periods; "
                f"it has {len(base_observed)}."
            ),
            **info,
        )
    adjusted = adjusted or deseasonalise(series)
    adj_base = adjusted.values[first:stop]
    adj_base = adj_base[~np.isnan(adj_base)]
    mean = float(np.mean(base_observed))
    adj_median = float(np.median(adj_base))
    observed_all = x[~np.isnan(x)]
    magnitude = float(np.max(np.abs(observed_all)))
    scale = robust_scale(adj_base, magnitude)
    comparisons = []
    for i in range(stop, len(x)):
        value = series.values[i]
        change = None if value is None else value - mean
        adj = None if value is None else float(adjusted.values[i])
        comparisons.append(
            PeriodComparison(
                period=series.periods[i],
                value=value,
                change=change,
                relative_change=(
                    None if change is None or mean == 0.0 else _finite(change / abs(mean))
                ),
                expected=adj_median + float(adjusted.seasonal[i]),
                adjusted_value=adj,
                score=(None if adj is None or scale is None else (adj - adj_median) / scale),
            )
        )
    if not comparisons:
        status: Status = "not_enough_data"
        message = "The series ends inside the baseline window; there is nothing to compare yet."
    else:
        status = "ok"
        message = adjusted.message
        if scale is None:
            message += " The baseline has no variation, so no score is computed."
    return BaselineComparison(
        status=status,
        message=message,
        mean=mean,
        median=float(np.median(base_observed)),
        adjusted_median=adj_median,
        scale=scale,
        seasonal_adjustment=adjusted.method,
        comparisons=tuple(comparisons),
        **info,
    )
