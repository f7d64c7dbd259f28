"""Organisations, users and their roles: create, change, and load as a :class:`Principal`.

Every change is audited (who changed whose permissions, when). Passwords are checked against the
rules and stored only as Argon2id hashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import Membership, Organisation, OrganisationPurpose, Purpose, User
from concord.errors import InputError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.protect.passwords import check_password_rules, hash_password
from concord.protect.policy import Principal, PurposeInfo
from concord.protect.roles import Permission, Role, parse_role
from concord.protect.training import training_status
from concord.slugs import ORG_SLUG

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,127}$")


def create_organisation(
    session: Session,
    audit: AuditTrail,
    *,
    slug: str,
    name: str,
    actor: str,
    country: str | None = None,
    kind: str | None = None,
) -> Organisation:
    if not ORG_SLUG.match(slug):
        raise InputError(
            f"{slug!r} is not a valid organisation id (lowercase letters, digits, '-' or '_')"
        )
    if session.get(Organisation, slug) is not None:
        raise InputError(f"the organisation {slug!r} already exists")
    org = Organisation(
        slug=slug,
        name=name.strip() or slug,
        country=country,
        kind=kind,
        created_at=datetime.now(UTC),
    )
    session.add(org)
    audit.record(
        session,
        actor=actor,
        action="organisation.create",
        organisation=slug,
        target=slug,
        details={"name": org.name},
    )
    session.flush()
    return org


def get_organisation(session: Session, slug: str) -> Organisation:
    org = session.get(Organisation, slug)
    if org is None:
        raise NotFoundError(f"no organisation {slug!r} (see `concord admin org list`)")
    return org


def create_user(
    session: Session,
    audit: AuditTrail,
    *,
    username: str,
    password: str,
    actor: str,
    display_name: str | None = None,
    node_admin: bool = False,
    is_demo: bool = False,
) -> User:
    if not _USERNAME.match(username):
        raise InputError(
            f"{username!r} is not a valid username (letters, digits, '.', '_', '@', '-')"
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError(f"the user {username!r} already exists")
    check_password_rules(password, username=username)
    user = User(
        username=username,
        display_name=(display_name or username).strip(),
        password_hash=hash_password(password),
        node_admin=node_admin,
        is_demo=is_demo,
        is_active=True,
        failed_logins=0,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        target=username,
        details={"node_admin": node_admin, "demo": is_demo},
    )
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user {username!r} (see `concord admin user list`)")
    return user


def set_password(
    session: Session, audit: AuditTrail, *, user: User, password: str, actor: str
) -> None:
    check_password_rules(password, username=user.username)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor=actor, action="user.password", target=user.username)
    session.flush()


def set_active(
    session: Session, audit: AuditTrail, *, user: User, active: bool, actor: str
) -> None:
    user.is_active = active
    audit.record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        target=user.username,
    )
    session.flush()


def grant_role(
    session: Session, audit: AuditTrail, *, user: User, organisation: str, role: str, actor: str
) -> Membership:
    parsed = parse_role(role)
    get_organisation(session, organisation)
    existing = session.get(Membership, (user.id, organisation, parsed.value))
    if existing is not None:
        return existing
    membership = Membership(
        user_id=user.id,
        organisation=organisation,
        role=parsed.value,
        granted_by=actor,
        granted_at=datetime.now(UTC),
    )
    session.add(membership)
    audit.record(
        session,
        actor=actor,
        action="role.grant",
        organisation=organisation,
        target=user.username,
        details={"role": parsed.value},
    )
    session.flush()
    return membership


def revoke_role(
    session: Session, audit: AuditTrail, *, user: User, organisation: str, role: str, actor: str
) -> None:
    parsed = parse_role(role)
    membership = session.get(Membership, (user.id, organisation, parsed.value))
    if membership is None:
        raise NotFoundError(f"{user.username} is not {parsed.value} in {organisation}")
    session.delete(membership)
    audit.record(
        session,
        actor=actor,
        action="role.revoke",
        organisation=organisation,
        target=user.username,
        details={"role": parsed.value},
    )
    session.flush()


def roles_of(session: Session, user_id: int) -> dict[str, frozenset[Role]]:
    roles: dict[str, set[Role]] = {}
    for org, role in session.execute(
        select(Membership.organisation, Membership.role).where(Membership.user_id == user_id)
    ):
        roles.setdefault(org, set()).add(Role(role))
    return {org: frozenset(values) for org, values in roles.items()}


def load_principal(
    session: Session,
    user: User,
    *,
    purpose: str | None = None,
    scopes: frozenset[Permission] | None = None,
    via: str = "session",
    today: date | None = None,
) -> Principal:
    """Everything the policy needs about ``user`` for one request (a handful of small queries)."""
    org_purposes: dict[str, set[str]] = {}
    for org, slug in session.execute(
        select(OrganisationPurpose.organisation, OrganisationPurpose.purpose)
    ):
        org_purposes.setdefault(org, set()).add(slug)
    purposes = {
        p.slug: PurposeInfo(p.slug, p.name, p.record_level, p.identifying)
        for p in session.scalars(select(Purpose))
    }
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=roles_of(session, user.id),
        training=training_status(session, user.id, today),
        purpose=purpose,
        org_purposes={org: frozenset(v) for org, v in org_purposes.items()},
        purposes=purposes,
        node_admin=user.node_admin,
        is_demo=user.is_demo,
        scopes=scopes,
        via=via,
    )


@dataclass(frozen=True)
class UserSummary:
    username: str
    display_name: str
    active: bool
    node_admin: bool
    demo: bool
    roles: dict[str, list[str]]
    training: list[str]
    training_current: bool
    locked_until: datetime | None


def list_users(session: Session, organisation: str | None = None) -> list[UserSummary]:
    query = select(User).order_by(User.username)
    if organisation is not None:
        query = query.where(
            User.id.in_(select(Membership.user_id).where(Membership.organisation == organisation))
        )
    summaries = []
    for user in session.scalars(query):
        status = training_status(session, user.id)
        summaries.append(
            UserSummary(
                username=user.username,
                display_name=user.display_name,
                active=user.is_active,
                node_admin=user.node_admin,
                demo=user.is_demo,
                roles={
                    o: sorted(r.value for r in rs) for o, rs in roles_of(session, user.id).items()
                },
                training=[c.describe(status.today) for c in status.courses],
                training_current=status.current,
                locked_until=user.locked_until,
            )
        )
    return summaries
