"""Protected data: encrypted identifying values, consent, the harm exception, what was shared
about a subject, and retention rules.

Subjects (children) are known only by a keyed pseudonym (``subject_key``) computed with their
organisation's secret, so consent can be checked without the database knowing who the child is.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base
from concord.db.models.records import BigId


class ProtectedValue(Base):
    """An identifying value kept for a purpose, encrypted with AES-GCM.

    ``ciphertext`` carries the key version and nonce; the associated data binds it to this
    record and field, so it cannot be moved to another record or field and still decrypt.
    """

    __tablename__ = "protected_value"
    __table_args__ = (Index("ix_protected_value_org_field", "organisation", "field"),)

    record_id: Mapped[int] = mapped_column(
        ForeignKey("record.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(String(128), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    key_version: Mapped[int] = mapped_column(Integer, index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class CapacityAssessment(Base):
    """An assessment of a child's capacity to consent: by whom, when, with what outcome."""

    __tablename__ = "capacity_assessment"
    __table_args__ = (Index("ix_capacity_assessment_org_subject", "organisation", "subject_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(64))
    assessed_by: Mapped[str] = mapped_column(String(128))
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16))  # capable | not_capable
    notes: Mapped[str] = mapped_column(Text, default="")


class ConsentRecord(Base):
    """Child assent or caregiver consent for some scopes, or why it is not applicable."""

    __tablename__ = "consent_record"
    __table_args__ = (Index("ix_consent_record_org_subject", "organisation", "subject_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(64))
    party: Mapped[str] = mapped_column(String(16))  # child | caregiver
    status: Mapped[str] = mapped_column(String(16))  # given | refused | not_applicable
    #: Why consent from this party is not applicable (e.g. the caregiver is the alleged offender).
    not_applicable_reason: Mapped[str | None] = mapped_column(Text)
    #: case_management, referral, research, sharing:org:<slug>, sharing:agreement:<id>
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    evidence_ref: Mapped[str | None] = mapped_column(String(256))
    capacity_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("capacity_assessment.id"))
    given_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(128))


class HarmException(Base):
    """Use without consent where there is concern of potential harm: justified, approved by
    someone other than the requester, and reviewed by a date."""

    __tablename__ = "harm_exception"
    __table_args__ = (Index("ix_harm_exception_org_subject", "organisation", "subject_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    justification: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_on: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SubjectDisclosure(Base):
    """Something about a subject left this organisation (a record-level release, a referral).

    When consent is withdrawn, ``withdrawal_flagged_at`` is set so the recipient can be told;
    the federation layer sends those marks on as revocations.
    """

    __tablename__ = "subject_disclosure"
    __table_args__ = (Index("ix_subject_disclosure_org_subject", "organisation", "subject_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(String(64))
    subject_key: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(128))
    reference: Mapped[str | None] = mapped_column(String(256))
    disclosed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawal_flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recipient_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RetentionRule(Base):
    """How long one kind of data is kept (per organisation and purpose, or everywhere)."""

    __tablename__ = "retention_rule"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: records | protected_values | quarantine | sessions
    dataset: Mapped[str] = mapped_column(String(32))
    organisation: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(64))
    keep_days: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # delete | anonymise
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
