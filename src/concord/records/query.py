"""Reading harmonised records back: filtered, paged, with their multi-valued codes.

Only harmonised values leave this module — never a partner's key (it is a pseudonym) and no
identifying field (none is stored). Access control on record-level reads arrives with the
data-protection layer; until then the web app is meant to run on a trusted local address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from concord.db.models import Record, RecordConcept
from concord.records.fields import LIST_FIELDS, SCALAR_FIELDS

#: Ids per IN-list when fetching codes (keeps every query's parameter count bounded).
ID_CHUNK = 5000


@dataclass(frozen=True)
class RecordFilter:
    source_org: str | None = None
    country: str | None = None
    abuse_type: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    batch_id: int | None = None
    #: The organisations the caller may see (None: no restriction, for the CLI operator).
    allowed_orgs: tuple[str, ...] | None = None

    def apply(self, stmt: Select[Any]) -> Select[Any]:
        if self.allowed_orgs is not None:
            stmt = stmt.where(Record.source_org.in_(self.allowed_orgs))
        if self.source_org:
            stmt = stmt.where(Record.source_org == self.source_org)
        if self.country:
            stmt = stmt.where(Record.country == self.country)
        if self.received_from:
            stmt = stmt.where(Record.received_date >= self.received_from)
        if self.received_to:
            stmt = stmt.where(Record.received_date <= self.received_to)
        if self.batch_id is not None:
            stmt = stmt.where(Record.batch_id == self.batch_id)
        if self.abuse_type:
            matching = select(RecordConcept.record_id).where(
                RecordConcept.field == "abuse_types", RecordConcept.concept_id == self.abuse_type
            )
            stmt = stmt.where(Record.id.in_(matching))
        return stmt


@dataclass(frozen=True)
class RecordPage:
    total: int
    items: list[dict[str, Any]]


def search_records(
    session: Session, where: RecordFilter, *, limit: int = 50, offset: int = 0
) -> RecordPage:
    """One page of records (newest received first) as plain dicts, and the total."""
    total = session.scalar(where.apply(select(func.count()).select_from(Record))) or 0
    columns = [Record.id, Record.source_org, Record.batch_id] + [
        getattr(Record, name) for name in SCALAR_FIELDS
    ]
    rows = [
        dict(row)
        for row in session.execute(
            where.apply(select(*columns))
            .order_by(Record.received_date.desc(), Record.id.desc())
            .limit(limit)
            .offset(offset)
        ).mappings()
    ]
    attach_codes(session, rows)
    return RecordPage(total, rows)


def attach_codes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add each multi-valued field (sorted concept ids, ``[]`` when none) to record rows that
    carry their ``id``."""
    ids = [row["id"] for row in rows]
    codes: dict[int, dict[str, list[str]]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        for record_id, name, concept_id in session.execute(
            select(RecordConcept.record_id, RecordConcept.field, RecordConcept.concept_id)
            .where(RecordConcept.record_id.in_(ids[start : start + ID_CHUNK]))
            .order_by(RecordConcept.concept_id)
        ):
            codes.setdefault(record_id, {}).setdefault(name, []).append(concept_id)
    for row in rows:
        for name in LIST_FIELDS:
            row[name] = codes.get(row["id"], {}).get(name, [])


def record_organisations(session: Session) -> list[str]:
    return list(session.scalars(select(Record.source_org).distinct().order_by(Record.source_org)))


def record_countries(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Record.country)
            .where(Record.country.is_not(None))
            .distinct()
            .order_by(Record.country)
        )
    )
