"""Database side of ingestion: batches, bulk record writes, existing-record lookups, quarantine.

Writes are set-based (SQLAlchemy "insertmanyvalues": multi-row INSERT ... RETURNING on both
SQLite and PostgreSQL), never one ORM object per row.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import polars as pl
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from concord.db.bulk import bulk_insert, reserve_ids
from concord.db.models import IngestBatch, QuarantinedRow, Record, RecordConcept
from concord.ingest.transform import REASONS, ROW, VALUES
from concord.records.fields import LIST_FIELDS, SCALAR_FIELDS
from concord.records.query import attach_codes

#: Keys looked up per query when checking against earlier imports (bounded IN lists).
LOOKUP_CHUNK = 5000


def now() -> datetime:
    return datetime.now(UTC)


def find_completed_batch(
    session: Session, source_org: str, file_sha256: str, mapping_sha256: str
) -> IngestBatch | None:
    return session.scalars(
        select(IngestBatch)
        .where(
            IngestBatch.source_org == source_org,
            IngestBatch.file_sha256 == file_sha256,
            IngestBatch.mapping_sha256 == mapping_sha256,
            IngestBatch.status == "done",
        )
        .order_by(IngestBatch.id)
        .limit(1)
    ).first()


def has_records(session: Session, source_org: str) -> bool:
    found = session.scalar(select(Record.id).where(Record.source_org == source_org).limit(1))
    return found is not None


def existing_records(session: Session, source_org: str, keys: list[str]) -> pl.DataFrame:
    """Stored records of ``source_org`` with these pseudonymised keys, in comparable form."""
    rows: list[dict[str, Any]] = []
    columns = [Record.id, Record.batch_id, Record.source_key] + [
        getattr(Record, name) for name in SCALAR_FIELDS
    ]
    for start in range(0, len(keys), LOOKUP_CHUNK):
        chunk = keys[start : start + LOOKUP_CHUNK]
        found = session.execute(
            select(*columns).where(Record.source_org == source_org, Record.source_key.in_(chunk))
        ).mappings()
        rows.extend(dict(row) for row in found)
    attach_codes(session, rows)
    schema = {"id": pl.Int64, "batch_id": pl.Int64, "source_key": pl.String}
    return (
        pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
        if rows
        else (pl.DataFrame(schema=schema))
    )


def _record_frame(frame: pl.DataFrame, batch_id: int, source_org: str) -> pl.DataFrame:
    """The record columns in table order, with values every driver accepts as they are."""
    present = [name for name in SCALAR_FIELDS if name in frame.columns]
    return frame.select(
        pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        pl.lit(source_org).alias("source_org"),
        pl.col("source_key"),
        *[pl.col(name) for name in present],
        *([pl.col("subject_key")] if "subject_key" in frame.columns else []),
    )


def _concept_rows(frame: pl.DataFrame, ids: list[int] | pl.Series) -> pl.DataFrame:
    """(record_id, field, concept_id) for every multi-valued code, exploded column-wise, in
    key order (the order of the table's clustered primary key: appended, never inserted)."""
    parts = [
        frame.select(
            pl.Series("record_id", ids, dtype=pl.Int64),
            pl.lit(name).alias("field"),
            pl.col(name).alias("concept_id"),
        )
        .explode("concept_id")
        .drop_nulls("concept_id")
        .unique(maintain_order=True)
        for name in LIST_FIELDS
        if name in frame.columns
    ]
    return pl.concat(parts).sort("record_id", "field", "concept_id") if parts else pl.DataFrame()


def _sqlite_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text, the way SQLAlchemy stores them in SQLite (no sqlite3 adapters)."""
    return frame.with_columns(
        pl.col(name).dt.to_string("%Y-%m-%d")
        for name, dtype in frame.schema.items()
        if dtype == pl.Date
    )


def insert_records(
    session: Session, frame: pl.DataFrame, *, batch_id: int, source_org: str
) -> list[int]:
    """Insert new harmonised records and their multi-valued codes; returns their ids, in the
    frame's order.

    Rows are written in the order of their pseudonymised keys, and ids are handed out in that
    order: the unique (source_org, source_key) index then takes each batch as one sorted run
    instead of random probes, and the id index is still appended to (docs/performance.md).
    """
    if frame.is_empty():
        return []
    reserved = np.sort(np.asarray(reserve_ids(session, "record", frame.height), dtype=np.int64))
    rank = frame["source_key"].rank("ordinal").to_numpy() - 1
    ids = pl.Series("id", reserved[rank], dtype=pl.Int64)
    table = _record_frame(frame, batch_id, source_org).insert_column(0, ids).sort("source_key")
    codes = _concept_rows(frame, ids)
    if session.connection().dialect.name != "postgresql":
        table = _sqlite_ready(table)
    bulk_insert(session, "record", table)
    bulk_insert(session, "record_concept", codes)
    return ids.to_list()


def update_records(session: Session, frame: pl.DataFrame, *, batch_id: int, source_org: str) -> int:
    """Replace stored records (matched by ``id``) with corrected content from a later batch."""
    if frame.is_empty():
        return 0
    ids = frame["id"].to_list()
    rows = _record_frame(frame, batch_id, source_org).drop("source_key", "source_org").to_dicts()
    for row, record_id in zip(rows, ids, strict=True):
        row["record_pk"] = record_id
    values: dict[str, Any] = {name: bindparam(name) for name in rows[0] if name != "record_pk"}
    table = cast(Table, Record.__table__)  # Core, not ORM: executemany UPDATE by a bound id
    session.execute(update(table).where(table.c.id == bindparam("record_pk")).values(values), rows)
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        session.execute(delete(RecordConcept).where(RecordConcept.record_id.in_(chunk)))
    bulk_insert(session, "record_concept", _concept_rows(frame, ids))
    return len(ids)


def insert_quarantine(
    session: Session, frame: pl.DataFrame, *, batch_id: int, source_org: str
) -> int:
    """Quarantine rows with every reason and their original, non-identifying values."""
    if frame.is_empty():
        return 0
    rows = [
        {
            "batch_id": batch_id,
            "source_org": source_org,
            "row_number": row_number,
            "reasons": list(reasons),
            "values": json.loads(values),
            "status": "open",
        }
        for row_number, reasons, values in zip(
            frame[ROW].to_list(), frame[REASONS].to_list(), frame[VALUES].to_list(), strict=True
        )
    ]
    session.execute(insert(QuarantinedRow), rows)
    return len(rows)
