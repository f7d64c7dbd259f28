"""The baseline band and trend line drawn over a time series, as rows a chart can plot.

The trends and baselines modules compute these numbers; this module only places them on the
chart's periods and series, and refuses, with the reason, frames that do not fit the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from concord.errors import InputError
from concord.indicators.chart_data import PeriodKind, check_one_row_per


@dataclass(frozen=True)
class Overlay:
    """A baseline band and a trend line to draw over a time series.

    ``baseline`` has ``baseline_low`` and ``baseline_high`` (and optionally ``baseline_mean``),
    either per series (no ``period`` column: the band spans the whole series, a reference level)
    or per period (a ``period`` column: e.g. a seasonal baseline). ``trend`` has either
    ``fitted`` per ``period``, or ``slope`` and ``intercept`` per series, where the line is
    ``intercept + slope * t`` and ``t`` counts periods from the series' first period in the
    result, suppressed periods included (pymannkendall's ``sens_slope`` convention). Both
    frames may carry any of the result's group columns to say which series a row belongs to;
    a frame without group columns applies to every series.
    """

    baseline: pl.DataFrame | None = None
    trend: pl.DataFrame | None = None
    baseline_label: str = "baseline"
    trend_label: str = "trend"


def _overlay_frame(
    frame: pl.DataFrame, groups: list[str], numeric: tuple[str, ...], what: str
) -> pl.DataFrame:
    """``frame`` with checked columns: groups as text, period as a date, numbers as floats.

    A non-finite number (NaN from a fit on too few points) becomes null, which Vega-Lite skips,
    instead of reaching JSON, which cannot hold it.
    """
    known = {*groups, "period", *numeric}
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise InputError(
            f"The {what} overlay has columns the result does not: {', '.join(unknown)}.",
            details=[f"allowed: period, {', '.join(numeric)} and the result's group columns"],
        )
    exprs = [pl.col(c).cast(pl.String) for c in frame.columns if c in groups]
    if "period" in frame.columns:
        exprs.append(pl.col("period").cast(pl.Date))
    for name in numeric:
        if name in frame.columns:
            col = pl.col(name).cast(pl.Float64)
            exprs.append(pl.when(col.is_finite()).then(col).otherwise(None).alias(name))
    try:
        return frame.select(exprs)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"The {what} overlay's columns have the wrong types: {exc}") from exc


def _attach(
    observed: pl.DataFrame, frame: pl.DataFrame, groups: list[str], what: str
) -> pl.DataFrame:
    """Join an overlay frame to the series and periods it applies to."""
    on = [c for c in groups if c in frame.columns]
    if "period" in frame.columns:
        on.append("period")
    if on:
        check_one_row_per(frame, on, f"{what} overlay")
        return observed.join(frame, on=on, how="inner")
    if frame.height > 1:
        raise InputError(f"The {what} overlay has several rows but no column saying which series.")
    return observed.join(frame, how="cross")


def overlay_rows(
    observed: pl.DataFrame, groups: list[str], overlay: Overlay, kind: PeriodKind
) -> list[pl.DataFrame]:
    """The ``baseline`` and ``trend`` layer rows for the series in ``observed``.

    ``observed`` has the group columns, ``period``, ``period_label`` and ``series``.
    """
    frames: list[pl.DataFrame] = []
    base = observed.select([*groups, "period", "period_label", "series"])
    if overlay.baseline is not None:
        numeric = ("baseline_low", "baseline_high", "baseline_mean")
        band = _overlay_frame(overlay.baseline, groups, numeric, "baseline")
        missing = [c for c in numeric[:2] if c not in band.columns]
        if missing:
            raise InputError(f"The baseline overlay lacks {' and '.join(missing)}.")
        if "baseline_mean" not in band.columns:
            band = band.with_columns(baseline_mean=pl.lit(None, dtype=pl.Float64))
        joined = _attach(base, band, groups, "baseline")
        frames.append(
            joined.select(
                "period",
                "period_label",
                "series",
                pl.lit("baseline").alias("layer"),
                pl.col("baseline_low").alias("low"),
                pl.col("baseline_high").alias("high"),
                pl.col("baseline_mean").alias("mean"),
            )
        )
    if overlay.trend is not None:
        line = _overlay_frame(overlay.trend, groups, ("fitted", "slope", "intercept"), "trend")
        if "fitted" in line.columns:
            if "period" not in line.columns or {"slope", "intercept"} & set(line.columns):
                raise InputError(
                    "The trend overlay needs fitted per period, or slope and intercept."
                )
            joined = _attach(base, line, groups, "trend")
        else:
            if not {"slope", "intercept"} <= set(line.columns) or "period" in line.columns:
                raise InputError(
                    "The trend overlay needs fitted per period, or slope and intercept per series."
                )
            joined = _attach(base, line, groups, "trend")
            first = pl.col("period").min().over("series")
            months = (pl.col("period").dt.year() - first.dt.year()) * 12 + (
                pl.col("period").dt.month() - first.dt.month()
            )
            steps = {"month": months, "quarter": months // 3, "year": months // 12}[kind]
            fitted = pl.col("intercept") + pl.col("slope") * steps.cast(pl.Float64)
            # A huge slope or intercept can overflow; JSON has no infinity, so it is no line.
            joined = joined.with_columns(
                fitted=pl.when(fitted.is_finite()).then(fitted).otherwise(None)
            )
        frames.append(
            joined.select(
                "period", "period_label", "series", pl.lit("trend").alias("layer"), "fitted"
            )
        )
    return frames
