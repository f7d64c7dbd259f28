"""From integer arrays to the organisation's own columns: one polars column per field.

Every column is built with vectorised gathers and string expressions; no Python loop runs per
row. Exact duplicates and repeated keys are applied last, by gathering rows, so a copied row is
byte-identical to its original.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import singledispatch
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from concord.errors import ConfigurationError
from concord.synth import identities
from concord.synth.calendar import Calendar, day_number, year_of
from concord.synth.generate import Chunk
from concord.synth.messiness import Plan
from concord.synth.model import (
    AgeBandField,
    AreaField,
    CountField,
    DateField,
    ExactAgeField,
    Field,
    FlagField,
    IdentifyingField,
    KeyField,
    KoboMeta,
    LabelField,
    Profile,
    StatusField,
)
from concord.synth.tables import LabelTable, tables_for

PolarsType = pl.DataType | type[pl.DataType]
#: KoboToolbox form versions: the network revised its form at the start of 2025.
KOBO_VERSIONS = ("vHnS6yTfQm2KxBv9eW3pLd", "vP8cRw4ZtJq7LmXe2NbKs5")
KOBO_REVISION_DAY = day_number(date(2025, 1, 1))
#: Share of yes/no answers written with one of the organisation's other spellings ("oui", "O").
ALTERNATIVE_SPELLING_RATE = 0.05
#: Nairobi's offset, which KoboCollect writes into ``start`` and ``end``.
KOBO_TZ = "+03:00"


def _series(values: npt.NDArray[Any], dtype: PolarsType) -> pl.Series:
    return pl.Series(values).cast(dtype)


def _blank(series: pl.Series, missing: npt.NDArray[np.bool_]) -> pl.Series:
    """``series`` with the ``missing`` rows set to null."""
    indices = np.flatnonzero(missing)
    if len(indices) == 0:
        return series
    return series.scatter(indices, None)


def _timestamps(days: npt.NDArray[np.int32], secs: npt.NDArray[np.int32], fmt: str) -> pl.Series:
    if any(code in fmt for code in ("%H", "%M", "%S")):
        micros = (days.astype(np.int64) * 86_400 + secs.astype(np.int64)) * 1_000_000
        return _series(micros, pl.Int64).cast(pl.Datetime("us"))
    return _series(days, pl.Int32).cast(pl.Date)


def render_date(days: npt.NDArray[np.int32], secs: npt.NDArray[np.int32], fmt: str,
                known: npt.NDArray[np.bool_],
                invalid: npt.NDArray[np.bool_] | None = None) -> pl.Series:  # fmt: skip
    """Dates as the organisation writes them; ``invalid`` rows become the 31st of February."""
    stamps = _timestamps(days, secs, fmt)
    text = stamps.dt.strftime(fmt)
    if invalid is not None and invalid.any():
        impossible = stamps.dt.strftime(fmt.replace("%d", "31").replace("%m", "02"))
        text = impossible.zip_with(pl.Series(invalid), text)
    return _blank(text, ~known)


def render_labels(table: LabelTable, primary: npt.NDArray[np.int32],
                  secondary: npt.NDArray[np.int32] | None) -> pl.Series:  # fmt: skip
    """The column's text; a second value joins the first with the field's separator."""
    first = table.gather(primary)
    item = table.item
    if secondary is None or not isinstance(item, LabelField) or item.split is None:
        return first
    frame = pl.DataFrame({"a": first, "b": table.gather(secondary)})
    joined = frame.select(
        pl.when(pl.col("a").is_null())
        .then(None)
        .otherwise(pl.concat_str(["a", "b"], separator=item.split, ignore_nulls=True))
    )
    return joined.to_series()


def _options(item: LabelField, primary: npt.NDArray[np.int32],
             secondary: npt.NDArray[np.int32] | None) -> list[pl.Series]:  # fmt: skip
    """KoboToolbox's 0/1 column per select_multiple option (blank when unanswered)."""
    result = []
    for index in range(len(item.choices)):
        chosen = primary == index
        if secondary is not None:
            chosen |= secondary == index
        text = pl.Series(np.where(chosen, "1", "0"), dtype=pl.String)
        result.append(_blank(text, primary < 0))
    return result


def _key(item: KeyField, chunk: Chunk, calendar: Calendar, rng: np.random.Generator) -> pl.Series:
    rows = chunk.start + np.arange(chunk.n, dtype=np.int64)
    if item.style == "uuid":
        raw = rng.integers(0, 256, (chunk.n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        hexes = pl.Series(np.frombuffer(raw.tobytes().hex().encode(), dtype="S32").astype("U32"))
        parts = [
            hexes.str.slice(a, b - a) for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
        ]
        return pl.DataFrame(parts).select(pl.concat_str(pl.all(), separator="-")).to_series()
    if item.style == "year_seq":
        years = year_of(chunk.submitted)
        numbers = rows - calendar.first_row_of_year(years) + 1
        body = _series(years, pl.Int64).cast(pl.String) + "-"
        return item.prefix + body + _series(numbers, pl.Int64).cast(pl.String).str.zfill(item.width)
    return item.prefix + _series(rows + 1, pl.Int64).cast(pl.String).str.zfill(item.width)


@dataclass(frozen=True)
class _Context:
    profile: Profile
    chunk: Chunk
    calendar: Calendar
    rng: np.random.Generator


@singledispatch
def _column(item: Field, ctx: _Context) -> list[pl.Series]:
    """The column(s) of one field (a select_multiple also yields its option columns)."""
    raise ConfigurationError(f"synthetic profiles cannot hold a {type(item).__name__} field")


@_column.register
def _(item: LabelField, ctx: _Context) -> list[pl.Series]:
    primary = ctx.chunk.primary[item.column]
    secondary = ctx.chunk.secondary.get(item.column)
    columns = [render_labels(tables_for(ctx.profile)[item.column], primary, secondary)]
    if item.option_columns:
        columns.extend(_options(item, primary, secondary))
    return columns


@_column.register
def _(item: AgeBandField, ctx: _Context) -> list[pl.Series]:
    table = tables_for(ctx.profile)[item.column]
    return [render_labels(table, ctx.chunk.primary[item.column], None)]


@_column.register
def _(item: KeyField, ctx: _Context) -> list[pl.Series]:
    return [_key(item, ctx.chunk, ctx.calendar, ctx.rng)]


@_column.register
def _(item: DateField, ctx: _Context) -> list[pl.Series]:
    c = ctx.chunk
    if item.field == "received_date":
        return [render_date(c.day, c.secs, item.fmt, c.received_known, c.received_invalid)]
    return [render_date(c.occurred, c.occurred_secs, item.fmt, c.occurred_known)]


@_column.register
def _(item: ExactAgeField, ctx: _Context) -> list[pl.Series]:
    return [_blank(_series(ctx.chunk.age, pl.Int16), ~ctx.chunk.age_known)]


@_column.register
def _(item: CountField, ctx: _Context) -> list[pl.Series]:
    return [_series(ctx.chunk.count, pl.Int16)]


@_column.register
def _(item: FlagField, ctx: _Context) -> list[pl.Series]:
    values = ctx.chunk.flags[item.column]
    texts = [item.true_text, item.false_text, *item.also_true, *item.also_false, None]
    index = np.where(values == 1, 0, np.where(values == 0, 1, len(texts) - 1))
    alternative = ctx.rng.random(len(values)) < ALTERNATIVE_SPELLING_RATE
    if item.also_true:
        pick = 2 + ctx.rng.integers(0, len(item.also_true), len(values))
        index = np.where(alternative & (values == 1), pick, index)
    if item.also_false:
        pick = 2 + len(item.also_true) + ctx.rng.integers(0, len(item.also_false), len(values))
        index = np.where(alternative & (values == 0), pick, index)
    return [pl.Series(texts, dtype=pl.String).gather(_series(index, pl.UInt32))]


@_column.register
def _(item: StatusField, ctx: _Context) -> list[pl.Series]:
    texts = pl.Series([v.text for v in item.values], dtype=pl.String)
    return [texts.gather(_series(ctx.chunk.status, pl.UInt32))]


@_column.register
def _(item: AreaField, ctx: _Context) -> list[pl.Series]:
    areas = pl.Series([*item.areas, None], dtype=pl.String)
    index = np.where(ctx.chunk.area < 0, len(item.areas), ctx.chunk.area)
    return [areas.gather(_series(index, pl.UInt32))]


@_column.register
def _(item: IdentifyingField, ctx: _Context) -> list[pl.Series]:
    profile, n, rng = ctx.profile, ctx.chunk.n, ctx.rng
    makers = {
        "first_name": lambda: identities.first_names(profile.country, n, rng),
        "phone": lambda: identities.phones(profile.country, n, rng),
        "handle": lambda: identities.handles(profile.country, n, rng),
        "narrative": lambda: identities.narrative_texts(profile.language, n, rng),
    }
    values = makers[item.kind]()
    return [_blank(values, rng.random(n) < item.missing_rate)]


def _kobo_time(kind: str, chunk: Chunk, rng: np.random.Generator) -> pl.Series:
    secs = chunk.secs.astype(np.int64)
    if kind == "start":  # the interview began a few minutes before it was saved
        secs = secs - rng.integers(300, 2400, chunk.n)
    stamps = _timestamps(chunk.submitted, secs.astype(np.int32), "%H")
    if kind == "submitted":
        return stamps.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.000") + KOBO_TZ


def _kobo_constant(value: str, n: int) -> pl.Series:
    return pl.Series([value], dtype=pl.String).gather(pl.Series(np.zeros(n, np.uint32)))


@_column.register
def _(item: KoboMeta, ctx: _Context) -> list[pl.Series]:
    chunk, rng, n = ctx.chunk, ctx.rng, ctx.chunk.n
    rows = chunk.start + np.arange(n, dtype=np.int64)
    if item.kind in ("start", "end", "submitted"):
        return [_kobo_time(item.kind, chunk, rng)]
    makers = {
        "today": lambda: _series(chunk.submitted, pl.Int32).cast(pl.Date).dt.strftime("%Y-%m-%d"),
        "version": lambda: pl.Series(KOBO_VERSIONS, dtype=pl.String).gather(
            _series((chunk.submitted >= KOBO_REVISION_DAY).astype(np.int64), pl.UInt32)
        ),
        "id": lambda: _series(rows + 180_000_001, pl.Int64),
        "index": lambda: _series(rows + 1, pl.Int64),
        "validation": lambda: _blank(
            _kobo_constant("validation_status_approved", n), rng.random(n) < 0.3
        ),
        "status": lambda: _kobo_constant("submitted_via_web", n),
        "by": lambda: (
            "enumerator_" + _series(rng.integers(1, 13, n), pl.Int64).cast(pl.String).str.zfill(2)
        ),
    }
    return [makers[item.kind]()]


def render(profile: Profile, chunk: Chunk, plan: Plan, calendar: Calendar,
           rng: np.random.Generator) -> pl.DataFrame:  # fmt: skip
    """The chunk as the organisation's file rows, planted duplicates included."""
    series: list[pl.Series] = []
    context = _Context(profile, chunk, calendar, rng)
    for item in profile.fields:
        series.extend(_column(item, context))
    frame = pl.DataFrame([s.rename(name) for s, name in zip(series, profile.columns, strict=True)])
    identity = np.arange(chunk.n, dtype=np.int64)
    if not np.array_equal(plan.source, identity):
        frame = frame.select(pl.all().gather(_series(plan.source, pl.UInt32)))
    if not np.array_equal(plan.key_source, identity):
        key = next(f.column for f in profile.fields if isinstance(f, KeyField))
        frame = frame.with_columns(pl.col(key).gather(_series(plan.key_source, pl.UInt32)))
    return frame
