"""Indicator charts as Vega-Lite specs, and their SVG/PNG renderings.

Pure functions from an indicator result (see :mod:`concord.indicators.chart_data`) to a
JSON-able Vega-Lite spec: the web UI embeds the spec with the vendored vega-embed, exports
render it with vl-convert (no browser), and tests read it as data. Three rules hold for every
chart, because the issue requires them and because a chart is copied out of context:

* it states the indicator's definition, the vocabulary version and how many cells disclosure
  control suppressed (title and subtitle, so they survive an SVG/PNG export);
* a suppressed period is *marked* (a dotted grey rule that says "suppressed: fewer than N"),
  never plotted — not as zero, not joined over by the line;
* data travel inline (``data.values``, dates as ISO strings), so a spec is self-contained and
  rendering never reaches the network.
"""

from __future__ import annotations

import textwrap
from datetime import date
from typing import Any, Literal

import altair as alt
import polars as pl
import vl_convert as vlc
from altair.utils.schemapi import Undefined, UndefinedType

from concord.errors import InputError
from concord.indicators.chart_data import (
    ChartContext,
    Labeller,
    Observed,
    observed_rows,
    period_label,
    records,
    suppression_note,
)
from concord.indicators.chart_overlay import Overlay, overlay_rows

__all__ = [
    "ChartContext",
    "Labeller",
    "Overlay",
    "Spec",
    "breakdown_bars",
    "caption_lines",
    "render_png",
    "render_svg",
    "small_multiples",
    "time_series",
]

#: A Vega-Lite specification as plain JSON-able data.
Spec = dict[str, Any]
ChartKind = Literal["time_series", "small_multiples", "breakdown_bars"]

_WRAP = 100  # characters per subtitle line: about the width of a 640-pixel chart
_COLOUR = "#1f6f8b"
_GREY = "#8a8a8a"
_AXIS_FORMAT = {"month": "%b %Y", "quarter": "%Y Q%q", "year": "%Y"}
# One tick per period at most: a monthly series must not get mid-month ticks.
_TICKS = {
    "month": {"interval": "month", "step": 1},
    "quarter": {"interval": "month", "step": 3},
    "year": {"interval": "year", "step": 1},
}
_HIGHER = {"better": "Higher is better", "worse": "Higher is worse", "neutral": ""}
_SERIES_FIELDS = [
    "layer",
    "series",
    "period",
    "period_label",
    "value",
    "value_label",
    "numerator_label",
    "denominator_label",
    "note",
    "low",
    "high",
    "mean",
    "fitted",
]


def caption_lines(ctx: ChartContext, notes: list[str] | None = None) -> list[str]:
    """The subtitle every chart carries: definition, unit, vocabulary version, suppressed cells.

    Lines are wrapped because Vega-Lite does not wrap titles; ``notes`` explain the marks (band,
    dashed line, rules) in words, since a legend cannot show what a band or a rule means.
    """
    lines = textwrap.wrap(ctx.definition_text, _WRAP) or ["(no definition given)"]
    facts = [
        f"Unit: {ctx.unit}",
        _HIGHER[ctx.higher_is],
        f"Vocabulary version {ctx.vocabulary_version}",
        suppression_note(ctx),
    ]
    lines += textwrap.wrap(". ".join(f for f in facts if f) + ".", _WRAP)
    for note in notes or []:
        lines += textwrap.wrap(note, _WRAP)
    return lines


def _words(column: str) -> str:
    """A column name as an axis or legend title: ``abuse_type`` reads "abuse type"."""
    return column.replace("_", " ")


def _inline(spec: Spec) -> Spec:
    """Put Altair's consolidated ``datasets`` back inline as ``data.values``.

    Altair names each dataset by hash at the top level; inline values keep the spec readable on
    its own (and by the tests) and equally valid. Done here rather than by switching Altair's
    global ``consolidate_datasets`` flag, which would change it for every other caller.
    """
    datasets = spec.pop("datasets", {})

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and set(data) == {"name"} and data["name"] in datasets:
                node["data"] = {"values": datasets[data["name"]]}
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(spec)
    return spec


def _finish(chart: alt.TopLevelMixin, ctx: ChartContext, kind: ChartKind, notes: list[str]) -> Spec:
    """Title, accessible description and machine-readable metadata; then validate and inline.

    ``to_dict`` validates against the Vega-Lite schema Altair ships, so an invalid spec fails
    here, in Python, rather than as a blank box in someone's browser.
    """
    lines = caption_lines(ctx, notes)
    titled = chart.properties(
        title=alt.Title(text=ctx.indicator_name, subtitle=lines, anchor="start"),
        description=f"{ctx.indicator_name}. " + " ".join(lines),
        usermeta={
            "concord": {
                "chart": kind,
                "indicator_id": ctx.indicator_id,
                "unit": ctx.unit,
                "vocabulary_version": ctx.vocabulary_version,
                "suppressed_cells": ctx.suppressed_cells,
                "min_cell_size": ctx.min_cell_size,
            }
        },
    )
    return _inline(titled.to_dict())


def _x(ctx: ChartContext) -> alt.X:
    # A UTC scale: periods are calendar dates, and a viewer west of Greenwich must not see
    # "2024-01-01" drawn (and labelled) as 31 December 2023.
    return alt.X(
        "period:T",
        title="period",
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format=_AXIS_FORMAT[ctx.period], tickCount=_TICKS[ctx.period]),
    )


def _tooltips(ctx: ChartContext, series_title: str | None) -> list[alt.Tooltip]:
    tips = [alt.Tooltip("series:N", title=series_title)] if series_title else []
    return [
        *tips,
        alt.Tooltip("period_label:N", title="period"),
        alt.Tooltip("value_label:N", title=f"value ({ctx.unit})"),
        alt.Tooltip("numerator_label:N", title="numerator"),
        alt.Tooltip("denominator_label:N", title="denominator"),
    ]


def _layers_for(layer: str | list[str]) -> dict[str, Any]:
    return {"field": "layer", "oneOf": [layer] if isinstance(layer, str) else layer}


def _series_layers(
    ctx: ChartContext,
    observed: Observed,
    overlay: Overlay | None,
    colour_by: str | None,
    series_title: str | None,
) -> tuple[list[alt.Chart], list[str], list[dict[str, object]]]:
    """The layers of a time series (or one small multiple), the notes that explain them, data."""
    frames = [observed.rows]
    if overlay is not None:
        frames += overlay_rows(observed.rows, observed.groups, overlay, ctx.period)
    values = records(frames, _SERIES_FIELDS)
    present = {str(r["layer"]) for r in values}
    x, y_title = _x(ctx), ctx.unit
    # One colour per series when grouped (the marks take it from the encoding), else one colour.
    # Opaque legend symbols: Vega-Lite takes them from the first layer, the pale band.
    colour: alt.Color | UndefinedType = Undefined
    if colour_by:
        colour = alt.Color(
            "series:N",
            title=_words(colour_by),
            scale=alt.Scale(domain=observed.series_order),
            legend=alt.Legend(symbolOpacity=1, symbolType="circle"),
        )
    mark_colour: str | UndefinedType = Undefined if colour_by else _COLOUR
    layers: list[alt.Chart] = []
    notes: list[str] = []
    if overlay is not None and overlay.baseline is not None:
        band = alt.Chart(name="baseline").mark_area(opacity=0.18, color=mark_colour)
        layers.append(
            band.encode(
                x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q", color=colour
            ).transform_filter(_layers_for("baseline"))
        )
        if any(r.get("mean") is not None for r in values):
            mean = alt.Chart(name="baseline-mean").mark_line(
                strokeDash=[1, 3], opacity=0.7, color=mark_colour
            )
            layers.append(
                mean.encode(x=x, y=alt.Y("mean:Q", title=y_title), color=colour).transform_filter(
                    _layers_for("baseline")
                )
            )
        notes.append(f"Shaded band: {overlay.baseline_label}.")
    if overlay is not None and overlay.trend is not None:
        trend = alt.Chart(name="trend").mark_line(
            strokeDash=[6, 4], strokeWidth=1.5, color=mark_colour
        )
        layers.append(
            trend.encode(x=x, y=alt.Y("fitted:Q", title=y_title), color=colour).transform_filter(
                _layers_for("trend")
            )
        )
        notes.append(f"Dashed line: {overlay.trend_label}.")
    # invalid="break-paths-filter-domains": a null value breaks the line. Vega-Lite's "show"
    # (or null) would draw it as zero, the one thing a suppressed cell must never look like.
    line = alt.Chart(name="value-line").mark_line(
        invalid="break-paths-filter-domains", strokeWidth=2, color=mark_colour
    )
    points = alt.Chart(name="value-points").mark_point(
        filled=True, size=36, invalid="break-paths-filter-domains", color=mark_colour
    )
    y = alt.Y("value:Q", title=y_title)
    layers += [
        line.encode(x=x, y=y, color=colour).transform_filter(
            _layers_for(["value", "suppressed", "missing"])
        ),
        points.encode(
            x=x, y=y, tooltip=_tooltips(ctx, series_title), color=colour
        ).transform_filter(_layers_for("value")),
    ]
    if "suppressed" in present:
        rule = alt.Chart(name="suppressed").mark_rule(
            color=_GREY, strokeDash=[2, 3], strokeWidth=1.5
        )
        tips = [alt.Tooltip("series:N", title=series_title)] if series_title else []
        tips += [
            alt.Tooltip("period_label:N", title="period"),
            alt.Tooltip("note:N", title="value"),
        ]
        layers.append(rule.encode(x=x, tooltip=tips).transform_filter(_layers_for("suppressed")))
        notes.append("Dotted grey lines: suppressed periods (no value is shown for them).")
    if "missing" in present:
        notes.append("Gaps in the line: periods without a value.")
    return layers, notes, values


def time_series(
    result: pl.DataFrame,
    ctx: ChartContext,
    *,
    overlay: Overlay | None = None,
    group: str | None = None,
    labeller: Labeller | None = None,
) -> Spec:
    """``value`` over ``period`` as line and points, with optional baseline band and trend line.

    ``group`` names a group column to draw one coloured line per value (``country``); without
    it the result must have one row per period. ``labeller`` turns group values (concept ids
    such as ``abuse.grooming``) into the words shown in the legend and tooltips.
    """
    observed = observed_rows(result, ctx, group, labeller, "time series")
    layers, notes, values = _series_layers(
        ctx, observed, overlay, group, _words(group) if group else None
    )
    chart = alt.layer(*layers, data=alt.InlineData(values=values)).properties(width=640, height=280)
    return _finish(chart, ctx, "time_series", notes)


def small_multiples(
    result: pl.DataFrame,
    ctx: ChartContext,
    facet: str = "country",
    overlay: Overlay | None = None,
    *,
    labeller: Labeller | None = None,
    columns: int = 4,
    independent_y: bool = False,
) -> Spec:
    """One small time series per value of ``facet`` (country, organisation), in a grid.

    The y scale is shared by default so that panels compare honestly; ``independent_y`` gives
    each its own, to compare shapes when sizes differ by orders of magnitude (say, counts from
    a large and a small country).
    """
    observed = observed_rows(result, ctx, facet, labeller, "small multiples")
    layers, notes, values = _series_layers(ctx, observed, overlay, None, _words(facet))
    inner = alt.layer(*layers, data=alt.InlineData(values=values)).properties(width=180, height=110)
    chart = inner.facet(
        facet=alt.Facet(
            "series:N",
            title=_words(facet),
            sort=observed.series_order,
            header=alt.Header(labelFontWeight="bold", labelAnchor="start"),
        ),
        columns=max(1, columns),
    ).resolve_scale(y="independent" if independent_y else "shared")
    return _finish(chart, ctx, "small_multiples", notes)


def breakdown_bars(
    result: pl.DataFrame,
    ctx: ChartContext,
    by: str = "abuse_type",
    period: date | None = None,
    *,
    labeller: Labeller | None = None,
) -> Spec:
    """Bars of ``value`` by ``by`` for one period: the latest in the result unless ``period``.

    Bars are sorted largest first; a suppressed category keeps its row, labelled "suppressed:
    fewer than N" instead of a bar, so that readers see it exists but not its size.
    """
    observed = observed_rows(result, ctx, by, labeller, "breakdown")
    rows = observed.rows
    periods = set(rows.get_column("period").to_list())
    if period is not None and period not in periods:
        shown = ", ".join(period_label(p, ctx.period) for p in sorted(periods)) or "none"
        raise InputError(
            f"The result has no rows for period {period.isoformat()} (periods: {shown})."
        )
    chosen = period if period is not None else (max(periods) if periods else None)
    rows = rows.filter(pl.col("period") == chosen) if chosen else rows.clear()
    rows = rows.sort(["value", "series"], descending=[True, False], nulls_last=True)
    order = rows.get_column("series").to_list()
    values = records([rows], _SERIES_FIELDS)
    y = alt.Y("series:N", title=_words(by), sort=order, axis=alt.Axis(labelLimit=320))
    bars = alt.Chart(name="bars").mark_bar(color=_COLOUR)
    labels = alt.Chart(name="bar-labels").mark_text(align="left", baseline="middle", dx=4)
    gaps = alt.Chart(name="suppressed").mark_text(
        align="left", baseline="middle", dx=4, color=_GREY, fontStyle="italic"
    )
    x = alt.X("value:Q", title=ctx.unit)
    chart = alt.layer(
        bars.encode(x=x, y=y, tooltip=_tooltips(ctx, _words(by))).transform_filter(
            _layers_for("value")
        ),
        labels.encode(x=x, y=y, text="value_label:N").transform_filter(_layers_for("value")),
        # Suppressed and empty categories get words at the axis (a pixel position, not the
        # value 0 on the scale): they exist, but their size is not shown.
        gaps.encode(
            x=alt.value(0), y=y, text="note:N", tooltip=alt.Tooltip("note:N")
        ).transform_filter(_layers_for(["suppressed", "missing"])),
        data=alt.InlineData(values=values),
    ).properties(width=520, height=alt.Step(24))
    when = f"Period: {period_label(chosen, ctx.period)}." if chosen else "No data to show."
    return _finish(chart, ctx, "breakdown_bars", [when])


def _vegalite_version() -> str | None:
    """The Vega-Lite version Altair wrote the spec for, if vl-convert has it (else its latest)."""
    wanted = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return wanted if wanted in vlc.get_vegalite_versions() else None


def render_svg(spec: Spec) -> str:
    """The chart as an SVG document, rendered without a browser.

    ``allowed_base_urls=[]`` forbids fetching data: our specs are inline, and a spec that
    asks for a URL (a user-edited one, later) must not make the server fetch it.
    """
    try:
        return vlc.vegalite_to_svg(spec, vl_version=_vegalite_version(), allowed_base_urls=[])
    except ValueError as exc:
        raise InputError(f"The chart could not be rendered: {exc}") from exc


def render_png(spec: Spec, scale: float = 2) -> bytes:
    """The chart as a PNG image; ``scale=2`` gives a sharp image on high-density screens."""
    try:
        return vlc.vegalite_to_png(
            spec, vl_version=_vegalite_version(), scale=scale, allowed_base_urls=[]
        )
    except ValueError as exc:
        raise InputError(f"The chart could not be rendered: {exc}") from exc
