"""The rows a chart or an export may show, taken from an indicator result.

An indicator result is a Polars frame with ``period`` (a date: the period start), zero or more
string group columns (``country``, ``source_org``, ``abuse_type``...), ``numerator``,
``denominator``, ``value`` (null when suppressed) and ``suppressed``. Charts and exports both
start from :func:`disclosed`, so that what disclosure control hid can never reach a picture, a
spreadsheet or the JSON sent to a browser — not even in a field no tooltip shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl

from concord.errors import InputError

PeriodKind = Literal["month", "quarter", "year"]
HigherIs = Literal["better", "worse", "neutral"]
Labeller = Callable[[str], str]

#: The columns every result has; any other column is a group column.
MEASURE_COLUMNS = ("period", "numerator", "denominator", "value", "suppressed")
#: Shown where a group value is missing (a record without a country, say).
UNKNOWN_LABEL = "(unknown)"


@dataclass(frozen=True)
class ChartContext:
    """What a reader must know to read an indicator's numbers, carried by every chart and export.

    The issue asks that every chart state the definition, the vocabulary version and any
    suppressed cells: a number without them invites comparisons the data cannot support.

    ``unit`` is what ``value`` counts ("reports", "%", "per 100,000 children", "days"); a "%"
    value is already in percent (12.5 means 12.5%). ``min_cell_size`` is the disclosure-control
    threshold ("fewer than N" in the notes); ``None`` when the caller does not know it.
    ``caveats`` are extra plain-language notes for the export's ``about`` sheet.
    """

    indicator_id: str
    indicator_name: str
    definition_text: str
    unit: str
    vocabulary_version: str
    suppressed_cells: int
    period: PeriodKind
    higher_is: HigherIs
    min_cell_size: int | None = None
    caveats: tuple[str, ...] = ()


def suppression_note(ctx: ChartContext) -> str:
    """``"3 cells suppressed (fewer than 5)"``: the sentence the issue requires on every chart."""
    n = ctx.suppressed_cells
    count = "no cells" if n == 0 else f"{n:,} cell{'s' if n != 1 else ''}"
    rule = (
        f"fewer than {ctx.min_cell_size}"
        if ctx.min_cell_size is not None
        else "below the disclosure-control threshold"
    )
    return f"{count} suppressed ({rule})".capitalize()


def suppressed_tooltip(ctx: ChartContext) -> str:
    """What a suppressed period says when pointed at; never its number, which is hidden."""
    if ctx.min_cell_size is None:
        return "suppressed: below the disclosure-control threshold"
    return f"suppressed: fewer than {ctx.min_cell_size}"


def result_groups(result: pl.DataFrame) -> list[str]:
    """The group columns of ``result``, after checking it keeps the result contract.

    Raises :class:`InputError` naming every broken rule, so that a caller (a route, a CLI
    command) can show the reason instead of a stack trace from deep inside Vega-Lite.
    """
    problems: list[str] = []
    schema = result.schema
    for name in MEASURE_COLUMNS:
        if name not in schema:
            problems.append(f"column {name!r} is missing")
    checks: dict[str, Callable[[pl.DataType], bool]] = {
        "period": lambda t: t == pl.Date or isinstance(t, pl.Datetime) or t == pl.Null,
        "numerator": lambda t: t.is_numeric() or t == pl.Null,
        "denominator": lambda t: t.is_numeric() or t == pl.Null,
        "value": lambda t: t.is_numeric() or t == pl.Null,
        "suppressed": lambda t: t in (pl.Boolean, pl.Null),
    }
    for name, ok in checks.items():
        if name in schema and not ok(schema[name]):
            problems.append(f"column {name!r} has type {schema[name]}, which a result cannot have")
    if "period" in schema and (empty := result.get_column("period").null_count()):
        problems.append(f"column 'period' is empty in {empty} row(s); every row needs its period")
    groups = [c for c in result.columns if c not in MEASURE_COLUMNS]
    for name in groups:
        dtype = schema[name]
        if not (dtype in (pl.String, pl.Categorical, pl.Null) or isinstance(dtype, pl.Enum)):
            problems.append(f"group column {name!r} has type {dtype}; group values are text")
    if problems:
        raise InputError("This is not an indicator result.", details=problems)
    return groups


def disclosed(result: pl.DataFrame) -> pl.DataFrame:
    """``result`` with nothing disclosure control hid: the one table charts and exports use.

    On a suppressed row numerator, denominator and value are all blanked. Why the numerator and
    denominator too: a suppressed cell's small count is exactly what must not leave, and a spec
    is JSON a browser can read whatever the tooltip shows. A row whose ``suppressed`` flag is
    null is treated as suppressed: when we do not know it is safe, we do not show it. A
    non-finite value (NaN, infinity: a division by zero upstream) becomes null, "no value".
    """
    groups = result_groups(result)
    hidden = pl.col("suppressed").fill_null(value=True)
    value = pl.col("value").cast(pl.Float64)

    def numeric(name: str) -> pl.Expr:
        dtype = result.schema[name]
        if dtype.is_integer() or dtype == pl.Null:
            return pl.col(name).cast(pl.Int64)
        number = pl.col(name).cast(pl.Float64)  # a population estimate may be fractional
        return pl.when(number.is_finite()).then(number).otherwise(None)

    return result.select(
        pl.col("period").cast(pl.Date),
        *[pl.col(g).cast(pl.String) for g in groups],
        pl.when(hidden).then(None).otherwise(numeric("numerator")).alias("numerator"),
        pl.when(hidden).then(None).otherwise(numeric("denominator")).alias("denominator"),
        pl.when(hidden | value.is_nan() | value.is_infinite())
        .then(None)
        .otherwise(value)
        .alias("value"),
        hidden.alias("suppressed"),
    ).sort(["period", *groups], nulls_last=True)


def check_one_row_per(table: pl.DataFrame, keys: list[str], what: str) -> None:
    """Refuse a table with several rows per ``keys``: a chart would draw them on top of each other.

    The usual cause is a result disaggregated by a column the chart does not split by; the
    message names those columns so the caller knows what to filter or split on.
    """
    if table.is_empty():
        return
    if table.select(keys).is_duplicated().any():
        varying = [
            c
            for c in table.columns
            if c not in (*MEASURE_COLUMNS, *keys) and table.get_column(c).n_unique() > 1
        ]
        hint = (
            f"it varies by {', '.join(varying)}: filter it or split the chart by one of them"
            if varying
            else "it has duplicate rows"
        )
        raise InputError(f"The {what} needs one row per {' and '.join(keys)}, but {hint}.")


def labels_for(values: list[str | None], labeller: Labeller | None) -> dict[str | None, str]:
    """A display label per group value, unique so that two ids never merge into one bar.

    A labeller may map two concept ids to the same words (a label edited in a later vocabulary
    version, say); the id is then appended to tell them apart.
    """
    raw = {v: (UNKNOWN_LABEL if v is None else (labeller(v) if labeller else v)) for v in values}
    counts: dict[str, int] = {}
    for label in raw.values():
        counts[label] = counts.get(label, 0) + 1
    return {
        v: (f"{label} ({v})" if counts[label] > 1 and v is not None else label)
        for v, label in raw.items()
    }


def period_label(start: date, kind: PeriodKind) -> str:
    """``2024-03``, ``2024-Q1`` or ``2024``: how people name the period, not its first day."""
    if kind == "year":
        return f"{start.year}"
    if kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def count_label(value: float | None) -> str:
    """A numerator or denominator for a tooltip: a dash when absent, never a misleading 0."""
    return "—" if value is None else format_value(float(value))


def format_value(value: float | None) -> str:
    """A value as a reader wants it: whole counts with separators, rates with a few digits."""
    if value is None or not math.isfinite(value):
        return "no value"
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


#: What a period with no value (and not suppressed) says: nothing to divide, or nothing counted.
NO_VALUE_NOTE = "no value for this period"


@dataclass(frozen=True)
class Observed:
    """A result ready to chart: one row per period (and series), labelled, plus its groups."""

    rows: pl.DataFrame
    groups: list[str]
    series_order: list[str]


def observed_rows(
    result: pl.DataFrame,
    ctx: ChartContext,
    key: str | None,
    labeller: Labeller | None,
    what: str,
) -> Observed:
    """The disclosed result with the fields a chart reads: ``layer`` says what a row is.

    ``layer`` is ``value`` (plotted), ``suppressed`` (marked, never plotted) or ``missing``
    (not suppressed but without a value: a gap). ``series`` is the display label of ``key``.
    """
    table = disclosed(result)
    groups = [c for c in table.columns if c not in MEASURE_COLUMNS]
    if key is not None and key not in groups:
        have = ", ".join(groups) or "no group columns"
        raise InputError(
            f"The result has no column {key!r} to split the {what} by (it has {have})."
        )
    keys = ["period", key] if key is not None else ["period"]
    check_one_row_per(table, keys, what)
    if key is not None:
        column = table.get_column(key).to_list()
        labels = labels_for(sorted(set(column), key=lambda v: (v is None, v or "")), labeller)
        series = [labels[v] for v in column]
        order = list(labels.values())
    else:
        series, order = [ctx.indicator_name] * table.height, [ctx.indicator_name]
    periods = table.get_column("period").to_list()
    values = table.get_column("value").to_list()
    hidden = table.get_column("suppressed").to_list()
    rows = table.with_columns(
        pl.Series("series", series, dtype=pl.String),
        pl.Series("period_label", [period_label(p, ctx.period) for p in periods], dtype=pl.String),
        pl.Series(
            "layer",
            [
                "suppressed" if h else ("missing" if v is None else "value")
                for h, v in zip(hidden, values, strict=True)
            ],
            dtype=pl.String,
        ),
        pl.Series("value_label", [format_value(v) for v in values], dtype=pl.String),
        *[
            pl.Series(
                f"{name}_label",
                [count_label(v) for v in table.get_column(name).to_list()],
                dtype=pl.String,
            )
            for name in ("numerator", "denominator")
        ],
        pl.Series(
            "note",
            [
                suppressed_tooltip(ctx) if h else (NO_VALUE_NOTE if v is None else None)
                for h, v in zip(hidden, values, strict=True)
            ],
            dtype=pl.String,
        ),
    )
    return Observed(rows=rows, groups=groups, series_order=order)


def records(frames: list[pl.DataFrame], fields: list[str]) -> list[dict[str, object]]:
    """Rows as JSON-ready dicts with ISO dates: the inline ``values`` of a Vega-Lite spec."""
    if not frames:
        return []
    table = pl.concat(frames, how="diagonal_relaxed")
    present = [f for f in fields if f in table.columns]
    if "period" in table.columns:
        table = table.with_columns(pl.col("period").dt.strftime("%Y-%m-%d"))
    return table.select(present).to_dicts()
