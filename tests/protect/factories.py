"""Test helpers: organisations, users with roles and training, and principals, in one call."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from concord.db.models import IngestBatch, Organisation, User
from concord.protect import identity, purposes, training
from concord.protect.audit import AuditTrail
from concord.protect.policy import Principal

PASSWORD = "correct horse battery staple"
AUDIT_KEY = b"k" * 32


def audit_trail() -> AuditTrail:
    return AuditTrail(AUDIT_KEY)


def organisation(
    session: Session,
    slug: str,
    *,
    holds: tuple[str, ...] = (
        "case_management",
        "statistics",
        "data_quality",
        "research",
        "oversight",
    ),
) -> Organisation:
    audit = audit_trail()
    purposes.ensure_default_purposes(session)
    org = session.get(Organisation, slug) or identity.create_organisation(
        session, audit, slug=slug, name=slug.upper(), actor="test"
    )
    for purpose in holds:
        purposes.allow_purpose(session, audit, organisation=slug, purpose=purpose, actor="test")
    return org


def user(
    session: Session,
    username: str,
    *,
    roles: dict[str, list[str]] | None = None,
    trained: bool = True,
    expires_in_days: int = 365,
    node_admin: bool = False,
) -> User:
    audit = audit_trail()
    created = identity.create_user(
        session, audit, username=username, password=PASSWORD, actor="test", node_admin=node_admin
    )
    for org, names in (roles or {}).items():
        organisation(session, org)
        for role in names:
            identity.grant_role(
                session, audit, user=created, organisation=org, role=role, actor="test"
            )
    if trained:
        today = datetime.now(UTC).date()
        for course in ("data_protection", "child_safeguarding"):
            training.record_training(
                session,
                audit,
                user_id=created.id,
                course=course,
                issuer="Test Academy",
                completed_on=today - timedelta(days=10),
                expires_on=today + timedelta(days=expires_in_days),
                actor="test",
            )
    return created


def principal(
    session: Session, created: User, *, purpose: str | None = None, today: date | None = None
) -> Principal:
    return identity.load_principal(session, created, purpose=purpose, today=today)


def ingest_batch(session: Session, org: str) -> IngestBatch:
    """A finished import batch of ``org`` to hang hand-made records on."""
    batch = IngestBatch(
        source_org=org,
        mapping_version="1",
        mapping_sha256="0" * 64,
        vocabulary_version="test",
        file_name="synthetic.csv",
        file_sha256=uuid.uuid4().hex * 2,
        file_bytes=0,
        imported_by="test",
        started_at=datetime.now(UTC),
        status="done",
    )
    session.add(batch)
    session.flush()
    return batch
