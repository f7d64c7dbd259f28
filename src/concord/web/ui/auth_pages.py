"""Log in, log out, state the purpose of the session, and see one's own access.

Why a purpose page: the field's protocols bind every use of a child's data to a stated purpose.
The purpose chosen here is shown on every record-level page and written with each audited read.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import Purpose, User, UserSession
from concord.errors import AuthenticationError, InputError
from concord.protect import auth
from concord.protect.policy import PERMISSION_TEXT, Principal, decide
from concord.web.auth import (
    SESSION_COOKIE,
    audit_trail,
    current_principal,
    current_user_session,
)
from concord.web.deps import db_session
from concord.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]


def _safe_next(target: str) -> str:
    """Only redirect to a path on this site (never an open redirect to another host)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: Annotated[str, Query(max_length=512)] = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    client = request.client.host if request.client else ""
    try:
        result = auth.login(
            session, audit_trail(request), username=username, password=password, client=client
        )
    except AuthenticationError as exc:
        session.commit()  # keep the failure count and the audit entries
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": exc.message},
            status_code=401,
        )
    response = RedirectResponse(f"/purpose?next={_safe_next(next)}", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_id,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=int(auth.SESSION_ABSOLUTE.total_seconds()),
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        auth.logout(session, audit_trail(request), cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/purpose", response_class=HTMLResponse)
def purpose_form(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    next: Annotated[str, Query(max_length=512)] = "/",
) -> Response:
    held = principal.held_purposes
    purposes = [
        p for p in session.scalars(select(Purpose).order_by(Purpose.name)) if p.slug in held
    ]
    return render(request, "purpose.html", {"purposes": purposes, "next": _safe_next(next)})


@router.post("/purpose")
def purpose_submit(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    row: Annotated[UserSession, Depends(current_user_session)],
    purpose: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    chosen = purpose or None
    if chosen is not None and chosen not in principal.held_purposes:
        raise InputError(f"none of your organisations holds the purpose {chosen!r}")
    user_row = _user(session, row)
    auth.set_session_purpose(session, audit_trail(request), row, user_row, chosen)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/me", response_class=HTMLResponse)
def me(request: Request, principal: PrincipalDep) -> Response:
    """What I may do in each organisation, and for what I hold a role but am refused now."""
    access: dict[str, list[str]] = {}
    refused: dict[str, dict[str, list[str]]] = {}
    for org in principal.organisations:
        access[org] = []
        refused[org] = {}
        for permission in principal.permissions_in(org):
            decision = decide(principal, permission, org)
            if decision.allowed:
                access[org].append(PERMISSION_TEXT[permission])
            else:
                refused[org][PERMISSION_TEXT[permission]] = decision.reasons
    return render(request, "me.html", {"access": access, "refused": refused})


def _user(session: Session, row: UserSession) -> User:
    user = session.get(User, row.user_id)
    if user is None:
        raise AuthenticationError("your account no longer exists")
    return user
