"""Demo accounts: clearly labelled users, one per role, so a visitor can see what each role
sees — including a user whose training is missing, who sees aggregates only.

Why a fixed password: the demo runs on the visitor's own machine with synthetic data; every
account is flagged ``is_demo`` and shown with a DEMO badge in the UI. ``concord demo`` never
creates these accounts on a node that already has non-demo users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import Organisation, User
from concord.protect import identity, purposes, training
from concord.protect.audit import AuditTrail

DEMO_PASSWORD = "demo-only-password"  # noqa: S105 - published on purpose: demo accounts only
ACTOR = "demo"
#: Purposes every demo organisation holds; helplines and NGOs also manage cases and refer.
COMMON_PURPOSES = ("statistics", "data_quality", "research", "oversight")
CASE_PURPOSES = ("case_management", "referral")
CASE_KINDS = ("child helpline", "ngo", "country office")


@dataclass(frozen=True)
class DemoOrg:
    slug: str
    name: str
    country: str
    kind: str


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    organisations: str
    trained: bool
    note: str


def _accounts(orgs: list[DemoOrg]) -> list[tuple[str, str, list[str], bool, str]]:
    every = [o.slug for o in orgs]
    case_orgs = [o.slug for o in orgs if o.kind.lower() in CASE_KINDS] or every[:1]
    return [
        ("demo-admin", "administrator", every, True, "node administrator: users, purposes"),
        ("demo-steward", "data_steward", every, True, "imports, quarantine, records"),
        ("demo-analyst", "analyst", every, True, "pseudonymised records for research"),
        ("demo-caseworker", "caseworker", case_orgs, True, "reveals identifying values, consent"),
        ("demo-auditor", "auditor", every, True, "audit trail and consent oversight"),
        ("demo-untrained", "analyst", every, False, "training missing: aggregates only"),
        ("demo-viewer", "viewer", every, True, "aggregates only"),
    ]


def ensure_demo_node(session: Session, audit: AuditTrail, orgs: list[DemoOrg]) -> list[DemoAccount]:
    """Register the demo organisations with their purposes, and the demo accounts.

    Idempotent. Returns the accounts (empty when the node has real, non-demo users: a demo
    must never add a known password to a real node).
    """
    purposes.ensure_default_purposes(session)
    for org in orgs:
        if session.get(Organisation, org.slug) is None:
            identity.create_organisation(
                session,
                audit,
                slug=org.slug,
                name=org.name,
                country=org.country,
                kind=org.kind,
                actor=ACTOR,
            )
        held = COMMON_PURPOSES + (CASE_PURPOSES if org.kind.lower() in CASE_KINDS else ())
        for purpose in held:
            purposes.allow_purpose(
                session, audit, organisation=org.slug, purpose=purpose, actor=ACTOR
            )
    if session.scalar(select(User.id).where(User.is_demo.is_(False)).limit(1)) is not None:
        return []
    today = datetime.now(UTC).date()
    accounts = []
    for username, role, where, trained, note in _accounts(orgs):
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = identity.create_user(
                session,
                audit,
                username=username,
                password=DEMO_PASSWORD,
                actor=ACTOR,
                display_name=f"Demo {role.replace('_', ' ')}",
                node_admin=username == "demo-admin",
                is_demo=True,
            )
            if trained:
                for course in ("data_protection", "child_safeguarding"):
                    training.record_training(
                        session,
                        audit,
                        user_id=user.id,
                        course=course,
                        issuer="Concord demo (synthetic)",
                        completed_on=today - timedelta(days=30),
                        expires_on=today + timedelta(days=335),
                        actor=ACTOR,
                    )
        for slug in where:
            identity.grant_role(
                session, audit, user=user, organisation=slug, role=role, actor=ACTOR
            )
        accounts.append(
            DemoAccount(
                username,
                role,
                ", ".join(where) if len(where) < 3 else "every demo organisation",
                trained,
                note,
            )
        )
    return accounts
