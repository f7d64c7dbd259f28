"""The minimisation report: which identifying fields are held, for which purpose, since when,
and by whom — the question a data protection officer asks first.

Counts only; no value is ever decrypted to build it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from concord.db.models import ProtectedValue, Record


@dataclass(frozen=True)
class HeldField:
    organisation: str
    field: str
    purpose: str
    values: int
    since: datetime
    latest: datetime
    stored_by: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "organisation": self.organisation,
            "field": self.field,
            "purpose": self.purpose,
            "values": self.values,
            "since": self.since.isoformat(),
            "latest": self.latest.isoformat(),
            "stored_by": self.stored_by,
        }


@dataclass(frozen=True)
class MinimisationReport:
    held: list[HeldField]
    #: organisation → records carrying a subject pseudonym (a child recognisable across reports)
    subject_pseudonyms: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        return {
            "held": [h.to_dict() for h in self.held],
            "subject_pseudonyms": self.subject_pseudonyms,
        }


def minimisation_report(
    session: Session, organisations: Sequence[str] | None = None
) -> MinimisationReport:
    """Identifying values held per organisation, field and purpose (all when ``None``)."""
    query = select(
        ProtectedValue.organisation,
        ProtectedValue.field,
        ProtectedValue.purpose,
        func.count(),
        func.min(ProtectedValue.created_at),
        func.max(ProtectedValue.created_at),
    ).group_by(ProtectedValue.organisation, ProtectedValue.field, ProtectedValue.purpose)
    if organisations is not None:
        query = query.where(ProtectedValue.organisation.in_(organisations))
    held = []
    for org, field, purpose, count, since, latest in session.execute(
        query.order_by(ProtectedValue.organisation, ProtectedValue.field)
    ):
        stored_by = sorted(
            session.scalars(
                select(ProtectedValue.created_by)
                .distinct()
                .where(
                    ProtectedValue.organisation == org,
                    ProtectedValue.field == field,
                    ProtectedValue.purpose == purpose,
                )
            )
        )
        held.append(HeldField(org, field, purpose, int(count), since, latest, stored_by))
    subjects = select(Record.source_org, func.count()).where(Record.subject_key.is_not(None))
    if organisations is not None:
        subjects = subjects.where(Record.source_org.in_(organisations))
    pseudonyms = {org: int(n) for org, n in session.execute(subjects.group_by(Record.source_org))}
    return MinimisationReport(held, pseudonyms)
