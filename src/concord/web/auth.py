"""Who is asking, and may they: the web layer's door to the access policy.

* A browser logs in at ``/login`` and gets an HttpOnly, SameSite=Lax cookie (``Secure`` over
  HTTPS) holding a random session id; the database keeps only its hash.
* An API client sends ``Authorization: Bearer cct_...`` (a scoped token).
* Every state-changing request made with the cookie must carry the session's CSRF token
  (``X-CSRF-Token`` header, set for htmx by the page, or a ``csrf_token`` form field).

Routes never decide access themselves: they depend on :func:`requires` and then call
:meth:`Guard.check` for the organisation whose data they touch; :class:`Guard` asks the policy.
Record-level reads are written to the audit trail through :meth:`Guard.audit`.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from concord.db.models import UserSession
from concord.errors import AuthenticationError, PermissionDeniedError
from concord.protect.audit import AuditTrail
from concord.protect.auth import principal_for_token, session_for
from concord.protect.identity import load_principal
from concord.protect.policy import PERMISSION_TEXT, Decision, Principal, decide
from concord.protect.roles import Permission
from concord.web.deps import db_session

SESSION_COOKIE = "concord_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Paths a cookie-less or pre-login browser must be able to POST to, and the federation pushes,
#: which another node signs (the signature, not a session, authenticates them).
CSRF_EXEMPT = frozenset({"/login", "/api/federation/bundles", "/api/federation/revocations"})


def audit_trail(request: Request) -> AuditTrail:
    trail: AuditTrail = request.app.state.audit
    return trail


def load_request_principal(request: Request, session: Session) -> Principal | None:
    """The principal of this request (token or session cookie), cached on ``request.state``."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    principal: Principal | None = None
    request.state.user_session = None
    request.state.csrf_token = ""  # a plain copy: pages render it even after a rollback
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError("send the API token as `Authorization: Bearer <token>`")
        principal = principal_for_token(session, secret.strip())
    else:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        found = session_for(session, cookie) if cookie else None
        if found is not None:
            row, user = found
            request.state.user_session = row
            request.state.csrf_token = row.csrf_token
            principal = load_principal(session, user, purpose=row.purpose)
    request.state.principal = principal
    return principal


def optional_principal(
    request: Request, session: Annotated[Session, Depends(db_session)]
) -> Principal | None:
    return load_request_principal(request, session)


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise AuthenticationError("log in to see this page (or send an API token)")
    return principal


def current_user_session(
    request: Request, _: Annotated[Principal, Depends(current_principal)]
) -> UserSession:
    row: UserSession | None = request.state.user_session
    if row is None:
        raise AuthenticationError("this needs a browser session (log in at /login)")
    return row


async def csrf_protect(request: Request, session: Annotated[Session, Depends(db_session)]) -> None:
    """Refuse a cookie-authenticated state change without the session's CSRF token."""
    if request.method in _SAFE_METHODS or request.url.path in CSRF_EXEMPT:
        return
    if "authorization" in request.headers or SESSION_COOKIE not in request.cookies:
        return  # bearer tokens are not sent by browsers on their own; no cookie, no session
    load_request_principal(request, session)
    row: UserSession | None = request.state.user_session
    if row is None:
        return  # an expired cookie: the route's own authentication check answers
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent, row.csrf_token):
        raise PermissionDeniedError(
            "this form was not sent from a Concord page of your session (missing or wrong "
            "CSRF token); reload the page and try again"
        )


@dataclass
class Guard:
    """A principal holding one permission somewhere; checks it per organisation."""

    principal: Principal
    permission: Permission
    request: Request

    def check(self, organisation: str) -> Decision:
        """The decision for ``organisation``; raises :class:`PermissionDeniedError` when refused."""
        return self.principal.require(self.permission, organisation)

    def organisations(self) -> list[str]:
        """Organisations whose data this request may touch under the permission."""
        return self.principal.organisations_with(self.permission)

    def scope(self, requested: str | None) -> list[str]:
        """``[requested]`` after checking it, or every allowed organisation."""
        if requested:
            self.check(requested)
            return [requested]
        return self.organisations()

    def audit(
        self,
        session: Session,
        action: str,
        *,
        organisation: str | None,
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a use of record-level data (who, which purpose, what, how many)."""
        audit_trail(self.request).record(
            session,
            actor=self.principal.username,
            action=action,
            organisation=organisation,
            purpose=self.principal.purpose,
            target=target,
            details=details,
        )


def requires(permission: Permission) -> Callable[..., Guard]:
    """A dependency: the request's principal must hold ``permission`` in some organisation.

    Refuses at once (with the reasons for the principal's own organisations) when it holds it
    nowhere, so a route never renders half a page before refusing.
    """

    def dependency(
        request: Request, principal: Annotated[Principal, Depends(current_principal)]
    ) -> Guard:
        guard = Guard(principal, permission, request)
        if not guard.organisations():
            reasons: list[str] = []
            for org in principal.organisations or ["any organisation"]:
                for reason in decide(principal, permission, org).reasons:
                    if reason not in reasons:
                        reasons.append(reason)
            raise PermissionDeniedError(
                f"you may not {PERMISSION_TEXT[permission]}", details=reasons
            )
        return guard

    dependency.__name__ = f"requires_{permission.name.lower()}"
    return dependency
