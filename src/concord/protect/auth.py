"""Logging in: password check with throttling and lockout, browser sessions, API tokens.

Session ids and API tokens are random (``secrets``), given to the client once, and stored only as
their SHA-256: a copy of the database does not let anyone log in. (SHA-256 and not Argon2 here
because these are 256-bit random values, not guessable passwords.)

Throttling: after :data:`MAX_FAILURES` consecutive wrong passwords the account is locked for
:data:`LOCKOUT`; each failure is audited, so an auditor sees password guessing. An unknown
username costs the same time as a wrong password (no username enumeration).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from concord.db.models import ApiToken, User, UserSession
from concord.errors import AuthenticationError, InputError
from concord.moments import as_utc
from concord.protect.audit import AuditTrail
from concord.protect.identity import load_principal
from concord.protect.passwords import hash_password, needs_rehash, verify_password
from concord.protect.policy import Principal
from concord.protect.purposes import get_purpose
from concord.protect.roles import Permission

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=2)
SESSION_ABSOLUTE = timedelta(hours=12)
TOKEN_PREFIX = "cct_"  # noqa: S105 - a public prefix that makes leaked tokens greppable, not a secret
MAX_TOKEN_DAYS = 366


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LoginResult:
    user: User
    session_id: str  # the cookie value; shown once, stored only hashed
    csrf_token: str


def login(
    session: Session, audit: AuditTrail, *, username: str, password: str, client: str = ""
) -> LoginResult:
    """Check the password and open a session, or raise :class:`AuthenticationError`."""
    now = _now()
    user = session.scalar(select(User).where(User.username == username))
    if user is not None and user.locked_until is not None and as_utc(user.locked_until) > now:
        verify_password(None, password)  # same cost as any other attempt
        audit.record(
            session,
            actor=username[:128],
            action="login.locked",
            target=username[:128],
            details={"client": client},
        )
        raise AuthenticationError(
            "this account is locked after too many wrong passwords; try again after "
            f"{as_utc(user.locked_until):%H:%M} UTC or ask an administrator"
        )
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        if user is not None and not ok:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                audit.record(
                    session,
                    actor=username[:128],
                    action="login.lockout",
                    target=username[:128],
                    details={"failures": user.failed_logins},
                )
        audit.record(
            session,
            actor=username[:128],
            action="login.failed",
            target=username[:128],
            details={
                "client": client,
                "reason": "inactive" if user is not None and ok else "credentials",
            },
        )
        session.flush()
        raise AuthenticationError("wrong username or password, or the account is not active")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id_hash=_digest(session_id),
            user_id=user.id,
            csrf_token=csrf,
            purpose=None,
            created_at=now,
            expires_at=now + SESSION_ABSOLUTE,
            last_seen_at=now,
        )
    )
    audit.record(
        session,
        actor=user.username,
        action="login",
        target=user.username,
        details={"client": client},
    )
    session.flush()
    return LoginResult(user, session_id, csrf)


def session_for(session: Session, session_id: str) -> tuple[UserSession, User] | None:
    """The live session for a cookie value (idle and absolute expiry enforced)."""
    if not session_id or len(session_id) > 128:
        return None
    row = session.get(UserSession, _digest(session_id))
    if row is None:
        return None
    now = _now()
    if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + SESSION_IDLE <= now:
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if now - as_utc(row.last_seen_at) > timedelta(minutes=1):  # avoid a write per request
        row.last_seen_at = now
    return row, user


def logout(session: Session, audit: AuditTrail, session_id: str) -> None:
    found = session_for(session, session_id)
    if found is None:
        return
    row, user = found
    session.delete(row)
    audit.record(session, actor=user.username, action="logout", target=user.username)


def set_session_purpose(
    session: Session, audit: AuditTrail, row: UserSession, user: User, purpose: str | None
) -> None:
    """State (or clear) the purpose in force for this session; audited."""
    if purpose is not None:
        get_purpose(session, purpose)
    row.purpose = purpose
    audit.record(
        session, actor=user.username, action="purpose.state", purpose=purpose, target=user.username
    )
    session.flush()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once


def create_token(
    session: Session,
    audit: AuditTrail,
    *,
    user: User,
    name: str,
    scopes: list[str],
    purpose: str | None,
    days: int,
    actor: str,
) -> IssuedToken:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InputError(f"a token must expire within 1 to {MAX_TOKEN_DAYS} days")
    parsed: list[str] = []
    for scope in scopes:
        try:
            parsed.append(Permission(scope).value)
        except ValueError:
            names = ", ".join(p.value for p in Permission)
            raise InputError(f"unknown scope {scope!r}; scopes are: {names}") from None
    if not parsed:
        raise InputError("give the token at least one scope (e.g. aggregate.read)")
    if purpose is not None:
        get_purpose(session, purpose)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=_digest(secret),
        scopes=sorted(set(parsed)),
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        target=user.username,
        purpose=purpose,
        details={"token_id": token.id, "scopes": token.scopes, "days": days},
    )
    return IssuedToken(token, secret)


def revoke_token(session: Session, audit: AuditTrail, *, token_id: int, actor: str) -> None:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise InputError(f"no API token with id {token_id}")
    token.revoked_at = _now()
    audit.record(session, actor=actor, action="token.revoke", details={"token_id": token_id})
    session.flush()


def principal_for_token(session: Session, secret: str) -> Principal:
    """The principal a bearer token stands for, or :class:`AuthenticationError`."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 128:
        raise AuthenticationError("this is not a Concord API token")
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
    now = _now()
    if token is None or token.revoked_at is not None or as_utc(token.expires_at) <= now:
        raise AuthenticationError("the API token is unknown, revoked or expired")
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("the API token's user is not active")
    if token.last_used_at is None or now - as_utc(token.last_used_at) > timedelta(minutes=5):
        token.last_used_at = now
    return load_principal(
        session,
        user,
        purpose=token.purpose,
        scopes=frozenset(Permission(s) for s in token.scopes),
        via="token",
    )


def purge_expired_sessions(session: Session) -> int:
    result = session.execute(delete(UserSession).where(UserSession.expires_at <= _now()))
    return int(getattr(result, "rowcount", 0) or 0)
