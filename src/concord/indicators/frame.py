"""The record frame: every record an indicator needs, as one Polars DataFrame, read once.

Why a frame and not SQL per indicator: the shipped indicators all group the same records by a
period and a few coded fields. Reading the records once (in bounded chunks, from SQLite or
PostgreSQL) and computing every indicator column-wise on the frame is both simpler and fast
enough for ten million records on a laptop (see ``benchmarks/indicators.py``). Any frame with
the same columns works — the benchmark builds one directly, the tests build small ones by hand.

Coded columns are ``Categorical`` (a few dozen distinct concept ids per column: grouping on
categories is much faster than on strings); multi-valued codes are list columns. A frame may
leave out columns an indicator does not use: :func:`missing_columns` says what is needed.

Filters live here too, because they are statements about these columns: a filter maps a
field to the values that match, is checked against the vocabulary (:func:`filter_problems`),
and becomes one Polars expression (:func:`filter_mask`) in which a concept also matches its
narrower concepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from concord.db import session_scope
from concord.db.models import IngestBatch, Record, RecordConcept
from concord.errors import InputError
from concord.records.fields import FIELDS, FieldKind, RecordField, field_named
from concord.vocab.model import Vocabulary

FilterValue = str | bool | int
#: Harmonised field → the values that match (OR within a field, AND across fields).
Filter = dict[str, list[FilterValue]]

#: Record fields an indicator can filter or break down by, and the frame column of each.
_INDICATOR_KINDS = (FieldKind.CONCEPT, FieldKind.CONCEPTS, FieldKind.BOOLEAN, FieldKind.ENUM)
_DTYPES: dict[FieldKind, pl.DataType] = {
    FieldKind.DATE: pl.Date(),
    FieldKind.CONCEPT: pl.Categorical(),
    FieldKind.CONCEPTS: pl.List(pl.Categorical()),
    FieldKind.INTEGER: pl.Int32(),
    FieldKind.BOOLEAN: pl.Boolean(),
    FieldKind.ENUM: pl.Categorical(),
}

#: The columns of a record frame and their types (``subnational_area`` is free text and the
#: partner's key is a pseudonym: neither is ever an indicator's business, so neither is read).
RECORD_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "source_org": pl.Categorical(),
    **{f.name: _DTYPES[f.kind] for f in FIELDS if f.kind in _DTYPES},
}
LIST_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind is FieldKind.CONCEPTS)
SCALAR_COLUMNS: tuple[str, ...] = tuple(
    c for c in RECORD_SCHEMA if c not in (*LIST_COLUMNS, "id", "source_org")
)
#: Derived column: months since year 0 of ``received_date`` (integer keys group fastest, and
#: quarters and years follow by integer division).
MONTH = "_month"

#: One row per completed import: what :func:`load_batch_quality` returns.
BATCH_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.Int64(),
    "source_org": pl.Categorical(),
    "imported_date": pl.Date(),
    "coded_values": pl.Int64(),
    "coded_mapped": pl.Int64(),
}


@dataclass(frozen=True)
class Dimension:
    """Something an indicator can be broken down by: a frame column, maybe multi-valued."""

    name: str
    column: str
    is_list: bool
    field: RecordField | None  # None for ``source_org`` (not a field of the record itself)


def _dimensions() -> dict[str, Dimension]:
    dims = {"source_org": Dimension("source_org", "source_org", is_list=False, field=None)}
    for f in FIELDS:
        if f.kind not in _INDICATOR_KINDS:
            continue
        # A multi-valued field is named by its scheme (``abuse_type``): each row of the result
        # is one abuse type, not a list of them.
        name = f.scheme if f.kind is FieldKind.CONCEPTS and f.scheme else f.name
        dims[name] = Dimension(name, f.name, f.kind is FieldKind.CONCEPTS, f)
    return dims


#: Every dimension by its canonical name (``abuse_type``, ``country``, ``source_org``, ...).
DIMENSIONS: dict[str, Dimension] = _dimensions()
_ALIASES = {d.column: d.name for d in DIMENSIONS.values()}


def dimension_named(name: str) -> Dimension | None:
    """The dimension called ``name`` (canonical, or the field's own name: ``abuse_types``)."""
    return DIMENSIONS.get(name) or DIMENSIONS.get(_ALIASES.get(name, ""))


def canonical_dimension(name: str) -> str:
    """A dimension's canonical name (``abuse_types`` → ``abuse_type``); any other name as is."""
    dim = dimension_named(name)
    return dim.name if dim is not None else name


def empty_frame() -> pl.DataFrame:
    """A record frame without records (an empty database)."""
    return pl.DataFrame(schema=RECORD_SCHEMA)


def missing_columns(frame: pl.DataFrame, needed: Iterable[str]) -> list[str]:
    return sorted({c for c in needed if c not in frame.columns})


def with_month(frame: pl.DataFrame, column: str = "received_date") -> pl.DataFrame:
    """``frame`` with the :data:`MONTH` key of ``column`` (computed once, reused by every
    indicator of a :func:`~concord.indicators.compute.compute_all`)."""
    if MONTH in frame.columns:
        return frame
    return frame.with_columns(month_key(pl.col(column)).alias(MONTH))


def month_key(day: pl.Expr) -> pl.Expr:
    return (day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1).cast(pl.Int32)


def month_start(key: pl.Expr) -> pl.Expr:
    """The first day of the month ``key`` (the inverse of :func:`month_key`)."""
    return pl.date(key // 12, key % 12 + 1, 1)


# --- reading from the database ----------------------------------------------------------------

#: Records read per query: bounds memory on the Python side whatever the table's size.
CHUNK_ROWS = 50_000
Progress = Callable[[int], None]
_SCALAR_SQL = list(SCALAR_COLUMNS)


def load_frame(
    engine: Engine,
    *,
    organisations: Sequence[str] | None = None,
    received_from: date | None = None,
    received_to: date | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Every record (optionally of some organisations, received in a date range) as a frame.

    Reads in keyset pages of ``chunk_rows`` records, each with its codes from
    ``record_concept``, so memory on the Python side stays bounded by one page plus the
    (compact, categorical) frame being built.
    """
    parts: list[pl.DataFrame] = []
    read = 0
    with session_scope(engine) as session:
        for chunk in _pages(session, organisations, received_from, received_to, chunk_rows):
            parts.append(chunk)
            read += chunk.height
            if progress:
                progress(read)
    if not parts:
        return empty_frame()
    return pl.concat(parts, how="vertical")


def _pages(
    session: Session,
    organisations: Sequence[str] | None,
    received_from: date | None,
    received_to: date | None,
    chunk_rows: int,
) -> Iterator[pl.DataFrame]:
    where: list[Any] = []
    if organisations is not None:
        where.append(Record.source_org.in_(list(organisations)))
    if received_from is not None:
        where.append(Record.received_date >= received_from)
    if received_to is not None:
        where.append(Record.received_date <= received_to)
    columns = [Record.id, Record.source_org, *(getattr(Record, c) for c in _SCALAR_SQL)]
    last = None
    while True:
        stmt = select(*columns).where(*where).order_by(Record.id).limit(chunk_rows)
        if last is not None:
            stmt = stmt.where(Record.id > last)
        rows = session.execute(stmt).all()
        if not rows:
            return
        frame = pl.DataFrame(
            [tuple(r) for r in rows],
            schema={"id": pl.Int64(), "source_org": pl.String(), **_sql_schema()},
            orient="row",
        )
        first, last = int(frame["id"][0]), int(frame["id"][-1])
        codes = session.execute(
            select(RecordConcept.record_id, RecordConcept.field, RecordConcept.concept_id)
            .join(Record, Record.id == RecordConcept.record_id)
            .where(Record.id >= first, Record.id <= last, *where)
        ).all()
        yield _conform(_attach_codes(frame, codes))
        if len(rows) < chunk_rows:
            return


def _sql_schema() -> dict[str, pl.DataType]:
    """Scalar columns as they come from SQL (text, before they become categories)."""
    return {
        c: pl.String() if isinstance(RECORD_SCHEMA[c], pl.Categorical) else RECORD_SCHEMA[c]
        for c in _SCALAR_SQL
    }


def _attach_codes(frame: pl.DataFrame, codes: Sequence[Any]) -> pl.DataFrame:
    long = pl.DataFrame(
        [tuple(r) for r in codes],
        schema={"id": pl.Int64(), "field": pl.String(), "concept_id": pl.String()},
        orient="row",
    )
    for name in LIST_COLUMNS:
        lists = (
            long.filter(pl.col("field") == name)
            .group_by("id")
            .agg(pl.col("concept_id").sort().alias(name))
        )
        frame = frame.join(lists, on="id", how="left")
    return frame


def _conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Cast to :data:`RECORD_SCHEMA`; a record without codes gets an empty list, not null."""
    casts = []
    for name, dtype in RECORD_SCHEMA.items():
        if name not in frame.columns:
            continue
        column = pl.col(name)
        if name in LIST_COLUMNS:
            column = column.fill_null(pl.lit([], dtype=pl.List(pl.String())))
        casts.append(column.cast(dtype))
    return frame.select(casts)


def load_batch_quality(engine: Engine) -> pl.DataFrame:
    """One row per completed import: how many coded values it brought and how many mapped.

    Why from the batches' quality reports: a value the crosswalk leaves unmapped is stored as
    "no value" (and an unknown one quarantines its row), so the records alone cannot tell a
    partner's unmapped label from a blank cell. The report counts both at import time.
    ``coded_mapped`` is the number of coded values stored (field completeness × rows stored,
    summed over coded fields); ``coded_values`` adds the values reported unmapped or unknown.
    The report lists the most frequent unmapped values of each field, so on a source with
    hundreds of distinct unmapped labels the share is slightly optimistic.
    """
    coded = {f.name for f in FIELDS if f.kind in (FieldKind.CONCEPT, FieldKind.CONCEPTS)}
    rows: list[tuple[Any, ...]] = []
    with session_scope(engine) as session:
        batches = session.execute(
            select(
                IngestBatch.id,
                IngestBatch.source_org,
                IngestBatch.finished_at,
                IngestBatch.started_at,
                IngestBatch.rows_stored,
                IngestBatch.quality,
            )
            .where(IngestBatch.status == "done")
            .order_by(IngestBatch.id)
        ).all()
        for batch_id, org, finished, started, stored, quality in batches:
            mapped = _mapped_values(quality or {}, coded, stored)
            missed = sum(
                int(item.get("rows", 0))
                for key in ("unmapped", "unknown")
                for item in (quality or {}).get(key, [])
                if item.get("field") in coded
            )
            when = (finished or started).date()
            rows.append((batch_id, org, when, mapped + missed, mapped))
    return pl.DataFrame(rows, schema=BATCH_SCHEMA, orient="row")


def _mapped_values(quality: dict[str, Any], coded: set[str], stored: int) -> int:
    total = 0
    for name, stats in quality.get("fields", {}).items():
        completeness = stats.get("completeness") if isinstance(stats, dict) else None
        if name in coded and completeness is not None:
            total += round(float(completeness) * stored)
    return total


# --- filters: which records an indicator (or a user) selects ------------------------------


def filter_problems(flt: Mapping[str, Sequence[Any]], vocabulary: Vocabulary) -> list[str]:
    """Problems of one filter (``field → values``), each prefixed by its field name."""
    problems: list[str] = []
    for name, values in flt.items():
        problems += [f"{name}: {p}" for p in _filter_field_problems(name, values, vocabulary)]
    return problems


def _filter_field_problems(name: str, values: Sequence[Any], vocabulary: Vocabulary) -> list[str]:
    if not values:
        return ["needs at least one value"]
    if name == "source_org":  # organisations are slugs, not vocabulary concepts
        return [f"{v!r} is not an organisation slug" for v in values if not isinstance(v, str)]
    return _field_value_problems(name, values, vocabulary)


def _field_value_problems(name: str, values: Sequence[Any], vocabulary: Vocabulary) -> list[str]:
    try:
        field = field_named(name)
    except InputError as exc:
        return [exc.message]
    if field.kind in (FieldKind.CONCEPT, FieldKind.CONCEPTS):
        return [p for v in values if (p := _concept_problem(v, field.scheme or "", vocabulary))]
    if field.kind is FieldKind.BOOLEAN:
        return [f"{v!r} is not true or false" for v in values if not isinstance(v, bool)]
    if field.kind is not FieldKind.ENUM:
        return [f"a {field.kind} field cannot filter an indicator (use a coded or yes/no field)"]
    allowed = ", ".join(field.values)
    return [f"{v!r} is not one of {allowed}" for v in values if v not in field.values]


def _concept_problem(value: Any, scheme: str, vocabulary: Vocabulary) -> str | None:
    if not isinstance(value, str):
        return f"{value!r} is not a concept id"
    found = vocabulary.scheme_of(value)
    if found is None:
        return f"{value!r} is not a concept of vocabulary {vocabulary.version}"
    if found.id != scheme:
        return f"{value!r} belongs to scheme {found.id!r}, but this field takes {scheme!r} codes"
    return None


def expand_concepts(values: Iterable[FilterValue], vocabulary: Vocabulary) -> list[FilterValue]:
    """The values with every narrower concept added (order kept, no duplicates)."""
    out: list[FilterValue] = []
    for value in values:
        out.append(value)
        if isinstance(value, str):
            out += sorted(vocabulary.descendants(value))
    return list(dict.fromkeys(out))


def resolve_filter(
    flt: Mapping[str, Any], vocabulary: Vocabulary, *, source: str = "filter"
) -> Filter:
    """A user's filter (``country="FR"``, ``source_org=["a", "b"]``) made canonical and checked.

    A single value becomes a list; a country (or any concept) may be given by its notation
    (``FR``) instead of its id (``country.fr``). Raises :class:`InputError` listing every problem.
    """
    canonical: Filter = {}
    for name, raw in flt.items():
        values = list(raw) if isinstance(raw, (list, tuple, set, frozenset)) else [raw]
        field = dimension_named(name)
        column = field.column if field else name
        scheme = field.field.scheme if field and field.field else None
        canonical[column] = [_by_notation(v, scheme, vocabulary) for v in values]
    problems = filter_problems(canonical, vocabulary)
    if problems:
        raise InputError(f"{source}: {len(problems)} problem(s)", details=problems)
    return canonical


def _by_notation(value: Any, scheme: str | None, vocabulary: Vocabulary) -> Any:
    if not scheme or not isinstance(value, str) or vocabulary.get(value) is not None:
        return value
    found = vocabulary.scheme(scheme)
    for concept in found.concepts if found else []:
        if concept.notation and concept.notation.lower() == value.lower():
            return concept.id
    return value


def filter_mask(flt: Filter, vocabulary: Vocabulary) -> pl.Expr:
    """True for records matching every field of ``flt`` (concepts include narrower ones)."""
    expr = pl.lit(value=True)
    for column, values in flt.items():
        wanted = expand_concepts(values, vocabulary)
        if column in LIST_COLUMNS:
            test = pl.col(column).list.eval(pl.element().is_in(wanted)).list.any()
        else:
            test = pl.col(column).is_in(wanted)
        expr = expr & test.fill_null(value=False)
    return expr


def date_mask(column: str, start: date | None, end: date | None) -> pl.Expr:
    expr = pl.lit(value=True)
    if start is not None:
        expr = expr & (pl.col(column) >= start)
    if end is not None:
        expr = expr & (pl.col(column) <= end)
    return expr
