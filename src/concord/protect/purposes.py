"""The registry of purposes data may be used for, and the ones Concord ships.

Why purposes are data and not an enum: an organisation's legal basis varies by country; a node
can add a purpose (``concord admin purpose add``). The shipped ones follow the field's protocols:
record-level use needs a purpose that justifies it, identifying use even more so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import Organisation, OrganisationPurpose, Purpose
from concord.errors import InputError, NotFoundError
from concord.protect.audit import AuditTrail

_SLUG = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class PurposeSpec:
    slug: str
    name: str
    description: str
    record_level: bool
    identifying: bool


DEFAULT_PURPOSES: tuple[PurposeSpec, ...] = (
    PurposeSpec(
        "case_management",
        "Case management",
        "Handling an individual child's case: contact, follow-up, safety planning.",
        record_level=True,
        identifying=True,
    ),
    PurposeSpec(
        "referral",
        "Referral",
        "Referring an identified child to a service (health, psychosocial, legal).",
        record_level=True,
        identifying=True,
    ),
    PurposeSpec(
        "investigation",
        "Investigation support",
        "Passing a report to law enforcement or a platform for action on content or offenders.",
        record_level=True,
        identifying=True,
    ),
    PurposeSpec(
        "data_quality",
        "Data quality",
        "Checking and correcting imported records (quarantine, duplicates, mappings).",
        record_level=True,
        identifying=False,
    ),
    PurposeSpec(
        "research",
        "Research",
        "Approved research on pseudonymised records; never identifying values.",
        record_level=True,
        identifying=False,
    ),
    PurposeSpec(
        "oversight",
        "Oversight",
        "Audit and compliance review of how data and consent were handled; never identifying "
        "values.",
        record_level=True,
        identifying=False,
    ),
    PurposeSpec(
        "statistics",
        "Statistics",
        "Counts, indicators and trends; aggregates only.",
        record_level=False,
        identifying=False,
    ),
)


def ensure_default_purposes(session: Session) -> int:
    """Insert the shipped purposes that are missing; returns how many were added."""
    existing = set(session.scalars(select(Purpose.slug)))
    added = 0
    for spec in DEFAULT_PURPOSES:
        if spec.slug not in existing:
            session.add(
                Purpose(
                    slug=spec.slug,
                    name=spec.name,
                    description=spec.description,
                    record_level=spec.record_level,
                    identifying=spec.identifying,
                )
            )
            added += 1
    session.flush()
    return added


def add_purpose(
    session: Session,
    audit: AuditTrail,
    *,
    slug: str,
    name: str,
    description: str,
    record_level: bool,
    identifying: bool,
    actor: str,
) -> Purpose:
    if not _SLUG.match(slug):
        raise InputError(
            f"{slug!r} is not a valid purpose id (lowercase letters, digits, underscores)"
        )
    if identifying and not record_level:
        raise InputError("a purpose that allows identifying values must allow records too")
    if session.get(Purpose, slug) is not None:
        raise InputError(f"the purpose {slug!r} already exists")
    purpose = Purpose(
        slug=slug,
        name=name,
        description=description,
        record_level=record_level,
        identifying=identifying,
    )
    session.add(purpose)
    audit.record(
        session,
        actor=actor,
        action="purpose.add",
        target=slug,
        details={"record_level": record_level, "identifying": identifying},
    )
    session.flush()
    return purpose


def get_purpose(session: Session, slug: str) -> Purpose:
    purpose = session.get(Purpose, slug)
    if purpose is None:
        known = ", ".join(session.scalars(select(Purpose.slug).order_by(Purpose.slug)))
        raise NotFoundError(f"no purpose {slug!r}; known purposes: {known or 'none'}")
    return purpose


def allow_purpose(
    session: Session, audit: AuditTrail, *, organisation: str, purpose: str, actor: str
) -> None:
    """Record that ``organisation`` may use data for ``purpose`` (idempotent)."""
    if session.get(Organisation, organisation) is None:
        raise NotFoundError(f"no organisation {organisation!r}")
    get_purpose(session, purpose)
    if session.get(OrganisationPurpose, (organisation, purpose)) is not None:
        return
    session.add(
        OrganisationPurpose(
            organisation=organisation,
            purpose=purpose,
            granted_by=actor,
            granted_at=datetime.now(UTC),
        )
    )
    audit.record(
        session, actor=actor, action="purpose.allow", organisation=organisation, target=purpose
    )
    session.flush()


def revoke_purpose(
    session: Session, audit: AuditTrail, *, organisation: str, purpose: str, actor: str
) -> None:
    row = session.get(OrganisationPurpose, (organisation, purpose))
    if row is None:
        raise NotFoundError(f"{organisation!r} does not hold the purpose {purpose!r}")
    session.delete(row)
    audit.record(
        session, actor=actor, action="purpose.revoke", organisation=organisation, target=purpose
    )
    session.flush()


def organisation_purposes(session: Session, organisation: str) -> set[str]:
    return set(
        session.scalars(
            select(OrganisationPurpose.purpose).where(
                OrganisationPurpose.organisation == organisation
            )
        )
    )
