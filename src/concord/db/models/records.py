"""Harmonised records, import batches and the quarantine.

One ``record`` row per report or incident, whatever partner file it came from. Coded fields hold
vocabulary concept ids only; multi-valued codes (abuse types, platform types, actions) live in
``record_concept`` so indicators can count "records with abuse type X or anything narrower"
with one indexed join. The partner's own record key is never stored: only its keyed pseudonym.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base

#: SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class IngestBatch(Base):
    """One import of one file with one mapping: who, when, what, and how it reconciled."""

    __tablename__ = "ingest_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_org: Mapped[str] = mapped_column(String(64), index=True)
    mapping_version: Mapped[str] = mapped_column(String(32))
    mapping_sha256: Mapped[str] = mapped_column(String(64))
    vocabulary_version: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(512))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    file_bytes: Mapped[int] = mapped_column(BigInteger)
    imported_by: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_duplicate: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Rows that corrected a record stored by an earlier batch (counted within rows_stored).
    rows_updated: Mapped[int] = mapped_column(BigInteger, default=0)
    dropped_columns: Mapped[list[Any]] = mapped_column(JSON, default=list)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class Record(Base):
    """One harmonised report/incident."""

    __tablename__ = "record"
    __table_args__ = (
        UniqueConstraint("source_org", "source_key", name="uq_record_source_org_key"),
        Index("ix_record_org_received", "source_org", "received_date"),
        Index("ix_record_country_received", "country", "received_date"),
        Index("ix_record_org_subject", "source_org", "subject_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    source_org: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA256 pseudonym of the partner's record key (never the key itself).
    source_key: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA256 pseudonym of the partner's id of the child, when the file has one: the same
    #: child is recognised across reports inside one organisation, never across organisations.
    subject_key: Mapped[str | None] = mapped_column(String(64))
    received_date: Mapped[date] = mapped_column(Date, index=True)
    occurred_date: Mapped[date | None] = mapped_column(Date)
    country: Mapped[str | None] = mapped_column(String(64))
    subnational_area: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str | None] = mapped_column(String(128))
    reporter_type: Mapped[str | None] = mapped_column(String(128))
    victim_count: Mapped[int | None] = mapped_column(Integer)
    victim_age_band: Mapped[str | None] = mapped_column(String(128))
    victim_sex: Mapped[str | None] = mapped_column(String(128))
    offender_relationship: Mapped[str | None] = mapped_column(String(128))
    offender_age_band: Mapped[str | None] = mapped_column(String(128))
    content_category: Mapped[str | None] = mapped_column(String(128))
    self_generated: Mapped[bool | None] = mapped_column(Boolean)
    ai_generated: Mapped[bool | None] = mapped_column(Boolean)
    referral_made: Mapped[bool | None] = mapped_column(Boolean)
    case_status: Mapped[str | None] = mapped_column(String(32))


class RecordConcept(Base):
    """A multi-valued coded field of a record (abuse types, platform types, actions taken)."""

    __tablename__ = "record_concept"
    #: On SQLite the table is clustered on its key (WITHOUT ROWID, migration 0007): one B-tree
    #: instead of a rowid table plus a key index.
    __table_args__ = (
        Index("ix_record_concept_field_concept", "field", "concept_id"),
        {"sqlite_with_rowid": False},
    )

    record_id: Mapped[int] = mapped_column(
        ForeignKey("record.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    concept_id: Mapped[str] = mapped_column(String(128), primary_key=True)


class QuarantinedRow(Base):
    """A row that failed validation: every reason, and its original (non-identifying) values."""

    __tablename__ = "quarantined_row"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batch.id"), index=True)
    source_org: Mapped[str] = mapped_column(String(64), index=True)
    row_number: Mapped[int] = mapped_column(BigInteger)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|resubmitted|discarded
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batch.id"))
