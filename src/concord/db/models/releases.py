"""Releases made under agreements, and what each one published.

Why keep published tables: a new release is checked against earlier releases under the same
agreement (subtracting two releases must not expose a small cell), and the differential
privacy budget is accounted from the epsilon each release spent. A release row is written for
refused releases too, so a steward can see why a release did not happen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base


class Release(Base):
    """One run of the release pipeline; ``status`` is released | refused | revoked."""

    __tablename__ = "release"

    #: A UUID: the id travels in the signed bundle and names the release at the hub.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(String(128), index=True)
    agreement_version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    #: The policy decision: every rule with its outcome and reason.
    decision: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    risk_report: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: How the tables were protected: threshold, rounding, DP mechanism and scale.
    method: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Privacy-loss budget accounting: epsilon spent, and the budget period it counts against.
    epsilon: Mapped[float | None] = mapped_column(Float)
    budget_period: Mapped[str | None] = mapped_column(String(16))
    vocabulary_version: Mapped[str] = mapped_column(String(64))
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(500))


class ReleaseTable(Base):
    """One published table of a release: its dimensions and its cells as published.

    ``cells`` is a list of ``[dim values..., count or None, status]``; a JSON list keeps a
    35,000-cell table one row, written and read in one statement.
    """

    __tablename__ = "release_table"

    release: Mapped[str] = mapped_column(
        ForeignKey("release.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    dimensions: Mapped[list[str]] = mapped_column(JSON)
    cells: Mapped[list[list[Any]]] = mapped_column(JSON)
