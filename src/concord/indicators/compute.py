"""Computing an indicator: one column-wise Polars aggregation per definition, then disclosure.

Every result has the same shape, whatever the kind: ``period`` (the first day of the month,
quarter or year), one text column per breakdown (``country``, ``abuse_type``...), ``numerator``,
``denominator``, ``value`` and ``suppressed``. What each holds:

========  ==========================  ==============================  ======================
kind      numerator                   denominator                     value
========  ==========================  ==============================  ======================
count     matching records            null                            numerator
share     matching records            records in the denominator      percent (0-100)
rate      matching records            children in the country-year    numerator / den × per
median    records with a value        null                            the median (days)
========  ==========================  ==============================  ======================

Disclosure: a cell built from fewer than ``disclosure.min_cell`` records (or whose numerator
counts fewer, but not zero) is *suppressed*: its numerator, denominator and value are null and
``suppressed`` is true. It is never dropped, so a reader sees that something was withheld.
Within a series (one combination of breakdown values) every period between its first and last
is present: a period without matching records is a real zero, not a gap a trend test would
silently skip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import polars as pl

from concord.errors import InputError
from concord.indicators.definitions import IndicatorDefinition
from concord.indicators.frame import (
    LIST_COLUMNS,
    MONTH,
    Dimension,
    Filter,
    FilterValue,
    date_mask,
    dimension_named,
    filter_mask,
    missing_columns,
    month_key,
    month_start,
    resolve_filter,
    with_month,
)
from concord.indicators.population import (
    PopulationTable,
    divide_by_population,
    shipped_population,
)
from concord.vocab.model import Vocabulary

#: Months in each period.
STEPS = {"month": 1, "quarter": 3, "year": 12}
MEASURES = ("numerator", "denominator", "value", "suppressed")
_PERIOD = "_period"
_RECORDS = "_records"  # records behind a cell's figures (disclosure)
_MATCHING = "_matching"  # records counted in its numerator (disclosure)
MULTI_VALUED = (
    "A report with several values of a multi-valued field (abuse types, platform types, "
    "actions) is counted once under each, so the rows add up to more than the number of reports."
)


@dataclass(frozen=True)
class IndicatorResult:
    """An indicator's values and everything a reader needs to read them correctly."""

    definition: IndicatorDefinition
    data: pl.DataFrame
    vocabulary_version: str
    by: tuple[str, ...] = ()
    filters: Mapping[str, list[FilterValue]] = field(default_factory=dict)
    start: date | None = None
    end: date | None = None
    caveats: tuple[str, ...] = ()
    #: False for an indicator that cannot be computed (yet): ``reason`` says why, and ``data``
    #: is empty — never a made-up number.
    available: bool = True
    reason: str | None = None

    @property
    def suppressed_cells(self) -> int:
        return int(self.data["suppressed"].sum()) if self.data.height else 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data: the metadata and one mapping per row (dates in ISO 8601)."""
        d = self.definition
        rows = self.data.with_columns(pl.col("period").dt.to_string("%Y-%m-%d")).to_dicts()
        return {
            "indicator": d.id,
            "version": d.version,
            "name": d.name,
            "description": d.description,
            "kind": d.kind,
            "unit": d.unit_label(),
            "period": d.period,
            "higher_is": d.higher_is,
            "vocabulary_version": self.vocabulary_version,
            "by": list(self.by),
            "filters": {k: list(v) for k, v in self.filters.items()},
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "min_cell": d.disclosure.min_cell,
            "suppressed_cells": self.suppressed_cells,
            "available": self.available,
            "reason": self.reason,
            "caveats": list(self.caveats),
            "rows": rows,
        }


def result_schema(by: Sequence[str]) -> dict[str, pl.DataType]:
    return {
        "period": pl.Date(),
        **{name: pl.String() for name in by},
        "numerator": pl.Int64(),
        "denominator": pl.Int64(),
        "value": pl.Float64(),
        "suppressed": pl.Boolean(),
    }


def compute(
    definition: IndicatorDefinition,
    frame: pl.DataFrame,
    vocabulary: Vocabulary,
    *,
    by: Sequence[str] = (),
    filters: Mapping[str, Any] | None = None,
    start: date | None = None,
    end: date | None = None,
    batches: pl.DataFrame | None = None,
    population: PopulationTable | None = None,
    releases: pl.DataFrame | None = None,
) -> IndicatorResult:
    """Compute ``definition`` over a record frame (see :mod:`concord.indicators.frame`).

    ``by`` adds breakdowns to the definition's own; ``filters`` restricts the records
    (``{"country": "FR"}``, ``{"source_org": [...]}``; concepts include narrower ones);
    ``start``/``end`` bound the received date (inclusive). ``batches`` is needed by indicators
    computed from import reports, ``releases`` by the release schedule
    (:func:`concord.indicators.schedule.load_release_schedule`), ``population`` by rates
    (default: the shipped illustrative table, which every result then flags).
    """
    dims = _dimensions(definition, by)
    flt = resolve_filter(filters or {}, vocabulary, source="indicator filter")
    template = IndicatorResult(
        definition=definition,
        data=pl.DataFrame(schema=result_schema(dims)),
        vocabulary_version=vocabulary.version,
        by=tuple(dims),
        filters=flt,
        start=start,
        end=end,
        caveats=tuple(definition.caveats),
    )
    if definition.status == "planned":
        return replace(
            template, available=False, reason=f"not available yet: needs {definition.needs}"
        )
    step = STEPS[definition.period]
    if definition.source == "batches":
        if batches is None:
            reason = "needs the import batches' quality reports (frame.load_batch_quality)"
            return replace(template, available=False, reason=reason)
        cells = _batch_cells(batches, flt, (start, end), step, dims)
    elif definition.source == "releases":
        if releases is None:
            reason = "needs the release schedule (schedule.load_release_schedule)"
            return replace(template, available=False, reason=reason)
        cells = _release_cells(releases, flt, (start, end), step, dims)
    else:
        cells = _record_cells(definition, frame, vocabulary, dims, flt, start, end, step)
    filled = _fill_periods(cells, dims, step)
    caveats = list(definition.caveats)
    if definition.kind == "rate":
        table = population or shipped_population()
        per = definition.denominator.per if definition.denominator else None
        year = (pl.col(_PERIOD) // 12).cast(pl.Int32)
        filled = divide_by_population(filled, table, per=per or 1, year=year)
        caveats += table.caveats()
    if any(_is_list(d) for d in dims) and not any(_is_list(d) for d in definition.breakdown):
        caveats.append(MULTI_VALUED)
    return replace(template, data=_disclose(filled, definition, dims), caveats=tuple(caveats))


def compute_all(
    definitions: Iterable[IndicatorDefinition],
    frame: pl.DataFrame,
    vocabulary: Vocabulary,
    *,
    filters: Mapping[str, Any] | None = None,
    start: date | None = None,
    end: date | None = None,
    batches: pl.DataFrame | None = None,
    population: PopulationTable | None = None,
    releases: pl.DataFrame | None = None,
) -> dict[str, IndicatorResult]:
    """Every definition over the same frame (its month key computed once), by id."""
    prepared = with_month(frame) if "received_date" in frame.columns else frame
    return {
        d.id: compute(
            d,
            prepared,
            vocabulary,
            filters=filters,
            start=start,
            end=end,
            batches=batches,
            population=population,
            releases=releases,
        )
        for d in definitions
    }


def _dimensions(definition: IndicatorDefinition, by: Sequence[str]) -> list[str]:
    allowed = definition.dimensions()
    dims = list(definition.breakdown)
    problems = []
    for name in by:
        dim = dimension_named(name)
        if dim is None or dim.name not in allowed:
            problems.append(
                f"{definition.id} cannot be broken down by {name!r}; it can be by: "
                + (", ".join(allowed) or "nothing")
            )
        else:
            dims.append(dim.name)
    if problems:
        raise InputError(problems[0], details=problems[1:])
    return list(dict.fromkeys(_dimension(d).name for d in dims))


def _dimension(name: str) -> Dimension:
    dim = dimension_named(name)
    if dim is None:  # only a definition that skipped validation gets here
        raise InputError(f"{name!r} is not a dimension an indicator can be broken down by")
    return dim


def _is_list(name: str) -> bool:
    dim = dimension_named(name)
    return dim is not None and dim.is_list


def _record_cells(
    d: IndicatorDefinition,
    frame: pl.DataFrame,
    vocabulary: Vocabulary,
    dims: list[str],
    flt: Filter,
    start: date | None,
    end: date | None,
    step: int,
) -> pl.LazyFrame:
    columns = {_dimension(n).column: n for n in dims}
    row_filter, inputs, aggs, extra = _measure(d, vocabulary)
    needed = {"received_date", *columns, *flt, *d.numerator, *extra}
    missing = missing_columns(frame, needed | set(d.denominator.filter if d.denominator else ()))
    if missing:
        raise InputError(f"the record frame lacks column(s) {d.id} needs", details=missing)
    base = filter_mask(flt, vocabulary) & date_mask("received_date", start, end)
    period = pl.col(MONTH) if MONTH in frame.columns else month_key(pl.col("received_date"))
    keys = [
        (period // step * step).alias(_PERIOD),
        *(pl.col(c).alias(n) for c, n in columns.items()),
    ]
    return _grouped(frame.lazy().filter(base & row_filter), keys, inputs, dims, aggs)


def _measure(
    d: IndicatorDefinition, vocabulary: Vocabulary
) -> tuple[pl.Expr, list[pl.Expr], list[pl.Expr], set[str]]:
    """What a definition computes per cell: (which records, per-record inputs, aggregations,
    columns it needs besides its filters)."""
    n = pl.len().cast(pl.Int64)
    numerator = filter_mask(d.numerator, vocabulary)
    none = pl.lit(None, pl.Int64)
    if d.kind == "share" and d.value is None:
        within = (
            filter_mask(d.denominator.filter, vocabulary) if d.denominator else pl.lit(value=True)
        )
        hits = pl.col("_x").sum().cast(pl.Int64)
        return within, [numerator.cast(pl.UInt32).alias("_x")], _aggs(hits, n, n, hits), set()
    if d.value == "fields_present":
        present = pl.sum_horizontal(_present(c) for c in d.fields).alias("_x")
        total = pl.col("_x").sum().cast(pl.Int64)
        return numerator, [present], _aggs(total, n * len(d.fields), n, n), set(d.fields)
    if d.value == "delay_days":
        known = numerator & pl.col("occurred_date").is_not_null()
        delay = (pl.col("received_date") - pl.col("occurred_date")).dt.total_days().alias("_x")
        median = pl.col("_x").median()
        return known, [delay], _aggs(n, none, n, n, median), {"occurred_date"}
    if d.value == "organisations":
        orgs = pl.col("_x").n_unique().cast(pl.Int64)
        return (
            numerator,
            [pl.col("source_org").alias("_x")],
            _aggs(orgs, none, n, n),
            {"source_org"},
        )
    return numerator, [], _aggs(n, none, n, n), set()


def _aggs(
    numerator: pl.Expr,
    denominator: pl.Expr,
    records: pl.Expr,
    matching: pl.Expr,
    value: pl.Expr | None = None,
) -> list[pl.Expr]:
    """The aggregations every cell carries: its figures and the record counts that decide
    whether disclosure control hides it."""
    aggs = [
        numerator.alias("numerator"),
        denominator.alias("denominator"),
        records.alias(_RECORDS),
        matching.alias(_MATCHING),
    ]
    return [*aggs, value.alias("value")] if value is not None else aggs


def _present(column: str) -> pl.Expr:
    col = pl.col(column)
    known = (col.list.len() > 0) if column in LIST_COLUMNS else col.is_not_null()
    return known.fill_null(value=False).cast(pl.Int32)


def _grouped(
    lf: pl.LazyFrame,
    keys: list[pl.Expr],
    inputs: list[pl.Expr],
    dims: list[str],
    aggs: list[pl.Expr],
) -> pl.LazyFrame:
    """Group by period and breakdowns; a multi-valued breakdown counts a record under each
    of its codes (a record without any codes counts once, under null: never dropped)."""
    lf = lf.select(*keys, *inputs)
    exploded = [n for n in dims if _is_list(n)]
    if exploded:
        lf = lf.explode(exploded, empty_as_null=True, keep_nulls=True)
    grouped = lf.group_by(_PERIOD, *dims).agg(aggs)
    return grouped.with_columns(pl.col(n).cast(pl.String) for n in dims)


@dataclass(frozen=True)
class _Events:
    """A table of dated events per organisation (imports, scheduled releases), not records:
    what it is called in messages and which column dates each row."""

    what: str
    unit: str
    date_column: str


_IMPORTS = _Events("import reports", "import", "imported_date")
_SCHEDULE = _Events("the release schedule", "scheduled release", "due_date")


def _event_cells(
    events: pl.DataFrame,
    kind: _Events,
    flt: Filter,
    window: tuple[date | None, date | None],
    step: int,
    dims: list[str],
    measure: tuple[list[pl.Expr], list[pl.Expr]],
) -> pl.LazyFrame:
    """Group per-organisation events by period (and organisation) with ``measure`` (inputs,
    aggregations); only ``source_org`` can filter or break them down."""
    other = [name for name in flt if name != "source_org"]
    if other:
        raise InputError(
            f"an indicator computed from {kind.what} can only be filtered by source_org",
            details=[f"{name!r} is not known per {kind.unit}" for name in other],
        )
    mask = date_mask(kind.date_column, *window)
    if flt.get("source_org"):
        mask = mask & pl.col("source_org").is_in(flt["source_org"])
    keys = [(month_key(pl.col(kind.date_column)) // step * step).alias(_PERIOD)]
    keys += [pl.col("source_org").alias(n) for n in dims]
    inputs, aggs = measure
    return _grouped(events.lazy().filter(mask), keys, inputs, dims, aggs)


def _batch_cells(
    batches: pl.DataFrame,
    flt: Filter,
    window: tuple[date | None, date | None],
    step: int,
    dims: list[str],
) -> pl.LazyFrame:
    """Coded values mapped / coded values imported, by the date of the import."""
    mapped = pl.col("coded_mapped").sum().cast(pl.Int64)
    values = pl.col("coded_values").sum().cast(pl.Int64)
    measure = ([pl.col("coded_mapped", "coded_values")], _aggs(mapped, values, values, mapped))
    return _event_cells(batches, _IMPORTS, flt, window, step, dims, measure)


def _release_cells(
    schedule: pl.DataFrame,
    flt: Filter,
    window: tuple[date | None, date | None],
    step: int,
    dims: list[str],
) -> pl.LazyFrame:
    """Scheduled releases by the period of their due date: delivered on time / scheduled."""
    on_time = pl.col("_on_time").sum().cast(pl.Int64)
    scheduled = pl.len().cast(pl.Int64)
    measure = (
        [pl.col("on_time").cast(pl.Int64).alias("_on_time")],
        _aggs(on_time, scheduled, scheduled, on_time),
    )
    return _event_cells(schedule, _SCHEDULE, flt, window, step, dims, measure)


def _fill_periods(cells: pl.LazyFrame, dims: list[str], step: int) -> pl.DataFrame:
    """Add the periods a series has no records in, between its first and last, as zeros."""
    done = cells.collect()
    if not done.height:
        return done
    bounds = [pl.col(_PERIOD).min().alias("_lo"), pl.col(_PERIOD).max().alias("_hi")]
    grid = done.group_by(dims).agg(bounds) if dims else done.select(bounds)
    grid = grid.select(
        *dims, pl.int_ranges("_lo", pl.col("_hi") + step, step, dtype=pl.Int32).alias(_PERIOD)
    ).explode(_PERIOD)
    filled = grid.join(done, on=[_PERIOD, *dims], how="left", nulls_equal=True)
    zero = pl.col("numerator", _RECORDS, _MATCHING).fill_null(0)
    has_denominator = done["denominator"].null_count() < done.height
    fills = [zero]
    if has_denominator:
        fills.append(pl.col("denominator").fill_null(0))
    return filled.with_columns(fills)


def _disclose(cells: pl.DataFrame, d: IndicatorDefinition, dims: list[str]) -> pl.DataFrame:
    """Compute ``value`` where the kind needs it, then suppress small cells (see module doc)."""
    if not cells.height:
        return pl.DataFrame(schema=result_schema(dims))
    if d.kind == "share":
        value = (
            pl.when(pl.col("denominator") > 0)
            .then(pl.col("numerator") * 100 / pl.col("denominator"))
            .otherwise(None)
        )
    elif d.kind == "count":
        value = pl.col("numerator").cast(pl.Float64)
    else:
        value = pl.col("value")
    k = d.disclosure.min_cell
    records, matching = pl.col(_RECORDS), pl.col(_MATCHING)
    small = (records > 0) & ((records < k) | ((matching > 0) & (matching < k)))
    hidden = [
        pl.when(small).then(None).otherwise(expr).alias(name)
        for name, expr in (
            ("numerator", pl.col("numerator").cast(pl.Int64)),
            ("denominator", pl.col("denominator").cast(pl.Int64)),
            ("value", value.cast(pl.Float64)),
        )
    ]
    out = cells.select(
        month_start(pl.col(_PERIOD)).alias("period"),
        *(pl.col(n).cast(pl.String) for n in dims),
        *hidden,
        small.alias("suppressed"),
    )
    return out.sort(["period", *dims], nulls_last=True)
