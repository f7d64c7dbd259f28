"""Administration pages: organisations, their users and roles, training and purposes.

An organisation's administrators manage its users, roles and training; only node
administrators create organisations and decide which purposes an organisation holds (its legal
basis is not something it should grant itself). Every change goes through the protect services,
which audit it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import Membership, Organisation, Purpose, User
from concord.errors import InputError, NotFoundError, PermissionDeniedError
from concord.protect import identity, purposes, training
from concord.protect.roles import Permission, Role
from concord.protect.training import Course
from concord.web.auth import Guard, audit_trail, requires
from concord.web.deps import db_session
from concord.web.templating import render

router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
Admin = Annotated[Guard, Depends(requires(Permission.ORG_ADMIN))]
Text = Annotated[str, Form(max_length=256)]


def _back(org: str) -> Response:
    return RedirectResponse(f"/admin/organisations/{org}", status_code=303)


def _node_admin(guard: Guard) -> None:
    if not guard.principal.node_admin:
        raise PermissionDeniedError(
            "only a node administrator can create organisations or change their purposes"
        )


def _member(session: Session, org: str, username: str) -> User:
    user = identity.get_user(session, username)
    if (
        session.scalar(
            select(Membership.user_id).where(
                Membership.user_id == user.id, Membership.organisation == org
            )
        )
        is None
    ):
        raise NotFoundError(f"{username} has no role in {org}")
    return user


@router.get("", response_class=HTMLResponse)
def admin_home(request: Request, session: SessionDep, guard: Admin) -> Response:
    allowed = guard.organisations()
    orgs = session.scalars(
        select(Organisation).where(Organisation.slug.in_(allowed)).order_by(Organisation.slug)
    ).all()
    return render(request, "admin_home.html", {"orgs": orgs})


@router.post("/organisations")
def create_org(
    request: Request,
    session: SessionDep,
    guard: Admin,
    slug: Annotated[str, Form(max_length=64)],
    name: Text,
    country: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    _node_admin(guard)
    identity.create_organisation(
        session,
        audit_trail(request),
        slug=slug.strip(),
        name=name,
        country=country.strip().upper() or None,
        actor=guard.principal.username,
    )
    return _back(slug.strip())


@router.get("/organisations/{org}", response_class=HTMLResponse)
def org_page(request: Request, org: str, session: SessionDep, guard: Admin) -> Response:
    guard.check(org)
    organisation = identity.get_organisation(session, org)
    return render(
        request,
        "admin_org.html",
        {
            "org": organisation,
            "users": identity.list_users(session, org),
            "held": sorted(purposes.organisation_purposes(session, org)),
            "all_purposes": session.scalars(select(Purpose).order_by(Purpose.slug)).all(),
            "roles": [r.value for r in Role],
            "courses": [c.value for c in Course],
            "node_admin": guard.principal.node_admin,
        },
    )


@router.post("/organisations/{org}/users")
def add_user(
    request: Request,
    org: str,
    session: SessionDep,
    guard: Admin,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[str, Form(max_length=32)],
    display_name: Text = "",
) -> Response:
    guard.check(org)
    audit = audit_trail(request)
    user = identity.create_user(
        session,
        audit,
        username=username.strip(),
        password=password,
        display_name=display_name or None,
        actor=guard.principal.username,
    )
    identity.grant_role(
        session, audit, user=user, organisation=org, role=role, actor=guard.principal.username
    )
    return _back(org)


@router.post("/organisations/{org}/roles")
def grant(
    request: Request,
    org: str,
    session: SessionDep,
    guard: Admin,
    username: Annotated[str, Form(max_length=128)],
    role: Annotated[str, Form(max_length=32)],
    action: Annotated[str, Form(max_length=8)] = "grant",
) -> Response:
    guard.check(org)
    user = identity.get_user(session, username.strip())
    audit = audit_trail(request)
    if action == "revoke":
        if user.id == guard.principal.user_id and role == Role.ADMINISTRATOR.value:
            raise InputError("you cannot take away your own administrator role")
        identity.revoke_role(
            session,
            audit,
            user=user,
            organisation=org,
            role=role,
            actor=guard.principal.username,
        )
    else:
        identity.grant_role(
            session,
            audit,
            user=user,
            organisation=org,
            role=role,
            actor=guard.principal.username,
        )
    return _back(org)


@router.post("/organisations/{org}/training")
def add_training(
    request: Request,
    org: str,
    session: SessionDep,
    guard: Admin,
    username: Annotated[str, Form(max_length=128)],
    course: Annotated[str, Form(max_length=32)],
    issuer: Text,
    completed_on: Annotated[date, Form()],
    expires_on: Annotated[date, Form()],
) -> Response:
    guard.check(org)
    user = _member(session, org, username.strip())
    training.record_training(
        session,
        audit_trail(request),
        user_id=user.id,
        course=course,
        issuer=issuer,
        completed_on=completed_on,
        expires_on=expires_on,
        actor=guard.principal.username,
    )
    return _back(org)


@router.post("/organisations/{org}/users/{username}/deactivate")
def deactivate(
    request: Request, org: str, username: str, session: SessionDep, guard: Admin
) -> Response:
    guard.check(org)
    user = _member(session, org, username)
    if user.id == guard.principal.user_id:
        raise InputError("you cannot deactivate yourself")
    identity.set_active(
        session, audit_trail(request), user=user, active=False, actor=guard.principal.username
    )
    return _back(org)


@router.post("/organisations/{org}/purposes")
def change_purpose(
    request: Request,
    org: str,
    session: SessionDep,
    guard: Admin,
    purpose: Annotated[str, Form(max_length=64)],
    action: Annotated[str, Form(max_length=8)] = "allow",
) -> Response:
    _node_admin(guard)
    audit = audit_trail(request)
    if action == "revoke":
        purposes.revoke_purpose(
            session, audit, organisation=org, purpose=purpose, actor=guard.principal.username
        )
    else:
        purposes.allow_purpose(
            session, audit, organisation=org, purpose=purpose, actor=guard.principal.username
        )
    return _back(org)
