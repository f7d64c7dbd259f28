"""Tables holding the loaded vocabulary.

Concept ids are primary keys and never deleted: loading a newer vocabulary updates rows and
marks removed-from-YAML concepts nowhere (the integrity check forbids removal; deprecation
is the only way out). Labels are stored once more in a folded form so that search is case-
and accent-insensitive on every database with a plain indexed ``LIKE``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base


class VocabRelease(Base):
    """One row per vocabulary version ever loaded into this database."""

    __tablename__ = "vocab_release"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    checksum: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    concept_count: Mapped[int] = mapped_column(Integer)


class VocabScheme(Base):
    __tablename__ = "vocab_scheme"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    description: Mapped[dict[str, Any]] = mapped_column(JSON)


class VocabConcept(Base):
    __tablename__ = "vocab_concept"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(ForeignKey("vocab_scheme.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    replaced_by: Mapped[str | None] = mapped_column(String(128))
    notation: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    alt_labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    iccs: Mapped[list[Any]] = mapped_column(JSON)


class VocabConceptBroader(Base):
    __tablename__ = "vocab_concept_broader"

    concept_id: Mapped[str] = mapped_column(ForeignKey("vocab_concept.id"), primary_key=True)
    broader_id: Mapped[str] = mapped_column(
        ForeignKey("vocab_concept.id"), primary_key=True, index=True
    )


class VocabLabel(Base):
    """Every searchable text of a concept: preferred, alternative and discouraged labels."""

    __tablename__ = "vocab_label"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    concept_id: Mapped[str] = mapped_column(ForeignKey("vocab_concept.id"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))  # pref | alt | discouraged
    text: Mapped[str] = mapped_column(Text)
    folded: Mapped[str] = mapped_column(String(512), index=True)


class VocabDiscouragedTerm(Base):
    __tablename__ = "vocab_discouraged_term"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    concept_id: Mapped[str] = mapped_column(ForeignKey("vocab_concept.id"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    term: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    use: Mapped[str | None] = mapped_column(Text)
    fixable: Mapped[bool] = mapped_column(Boolean)
