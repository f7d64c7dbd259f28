"""Indicators that live in the database: user-defined definitions (versioned), reference tables
(child population for rates), and early-warning alerts with their acknowledgement.

Shipped definitions are YAML in the package; a definition added through the UI or API is stored
here, one row per version, so a value computed last year can still name the definition it used.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base
from concord.db.models.records import BigId


class IndicatorDefinitionRow(Base):
    __tablename__ = "indicator_definition"
    __table_args__ = (UniqueConstraint("indicator_id", "version", name="uq_indicator_definition"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    indicator_id: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PopulationFigure(Base):
    """Children (0–17) living in a country in a year: the denominator of per-capita rates."""

    __tablename__ = "population_figure"

    country: Mapped[str] = mapped_column(String(64), primary_key=True)  # concept id country.xx
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    children: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(256))


class IndicatorAlert(Base):
    """A significant rise of one indicator in several countries or organisations at once."""

    __tablename__ = "indicator_alert"
    __table_args__ = (
        UniqueConstraint("indicator_id", "period", "dimension", name="uq_indicator_alert"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    indicator_id: Mapped[str] = mapped_column(String(128), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    #: country | source_org: what "several" counts
    dimension: Mapped[str] = mapped_column(String(32))
    members: Mapped[list[Any]] = mapped_column(JSON)  # the countries/organisations that rose
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # per member: scores, trend, reasons
    source: Mapped[str] = mapped_column(String(32))  # local | hub
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
