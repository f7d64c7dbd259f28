"""Sharing agreements: one row per version of an agreement, and each party's approval of it.

Why a row per version and a JSON body: an agreement is edited as a YAML document; a release made
last year must still name the exact text it was made under, so a stored version is never changed
(an edit is a new row). Approvals belong to one version: approving version 2 says nothing about 3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base
from concord.db.models.records import BigId


class SharingAgreement(Base):
    """One version of an agreement; ``status`` is draft | in_force | superseded | expired."""

    __tablename__ = "sharing_agreement"
    __table_args__ = (UniqueConstraint("agreement_id", "version", name="uq_sharing_agreement"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agreement_id: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AgreementApproval(Base):
    """An authorised person of one party approved one version of an agreement."""

    __tablename__ = "agreement_approval"

    agreement: Mapped[int] = mapped_column(
        ForeignKey("sharing_agreement.id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str] = mapped_column(String(64), primary_key=True)
    approved_by: Mapped[str] = mapped_column(String(128))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
