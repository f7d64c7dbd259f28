"""Login, lockout, sessions and API tokens: secrets stored only as hashes, every attempt audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import ApiToken, AuditEntry, UserSession
from concord.errors import AuthenticationError, InputError
from concord.protect import auth
from concord.protect.passwords import check_password_rules
from concord.protect.roles import Permission
from tests.protect.factories import PASSWORD, audit_trail, user


def test_login_opens_a_session_stored_only_as_a_hash(session: Session) -> None:
    user(session, "alice", roles={"org-a": ["analyst"]})
    result = auth.login(session, audit_trail(), username="alice", password=PASSWORD)
    stored = session.scalars(select(UserSession)).all()
    assert len(stored) == 1 and stored[0].id_hash != result.session_id
    assert result.session_id not in stored[0].id_hash
    found = auth.session_for(session, result.session_id)
    assert found is not None and found[1].username == "alice"
    assert auth.session_for(session, result.session_id + "x") is None
    actions = session.scalars(select(AuditEntry.action)).all()
    assert "login" in actions


def test_wrong_passwords_lock_the_account_and_are_audited(session: Session) -> None:
    user(session, "bob")
    for _ in range(auth.MAX_FAILURES):
        with pytest.raises(AuthenticationError, match="wrong username or password"):
            auth.login(session, audit_trail(), username="bob", password="not the password!")
    with pytest.raises(AuthenticationError, match="locked"):
        auth.login(session, audit_trail(), username="bob", password=PASSWORD)
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions.count("login.failed") == auth.MAX_FAILURES
    assert "login.lockout" in actions and "login.locked" in actions


def test_unknown_user_gets_the_same_message(session: Session) -> None:
    with pytest.raises(AuthenticationError, match="wrong username or password"):
        auth.login(session, audit_trail(), username="nobody", password=PASSWORD)


def test_idle_session_expires(session: Session) -> None:
    user(session, "carol")
    result = auth.login(session, audit_trail(), username="carol", password=PASSWORD)
    row = session.scalars(select(UserSession)).one()
    row.last_seen_at = datetime.now(UTC) - auth.SESSION_IDLE - timedelta(minutes=1)
    session.flush()
    assert auth.session_for(session, result.session_id) is None


def test_tokens_are_scoped_hashed_expiring_and_revocable(session: Session) -> None:
    owner = user(session, "dave", roles={"org-a": ["analyst"]})
    issued = auth.create_token(
        session,
        audit_trail(),
        user=owner,
        name="reports",
        scopes=["aggregate.read"],
        purpose=None,
        days=30,
        actor="test",
    )
    assert session.scalars(select(ApiToken.token_hash)).one() != issued.secret
    principal = auth.principal_for_token(session, issued.secret)
    assert principal.scopes == frozenset({Permission.AGGREGATE_READ}) and principal.via == "token"
    issued.token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.flush()
    with pytest.raises(AuthenticationError, match="expired"):
        auth.principal_for_token(session, issued.secret)
    issued.token.expires_at = datetime.now(UTC) + timedelta(days=1)
    auth.revoke_token(session, audit_trail(), token_id=issued.token.id, actor="test")
    with pytest.raises(AuthenticationError, match="revoked"):
        auth.principal_for_token(session, issued.secret)
    with pytest.raises(InputError, match="unknown scope"):
        auth.create_token(
            session,
            audit_trail(),
            user=owner,
            name="x",
            scopes=["everything"],
            purpose=None,
            days=1,
            actor="test",
        )


@pytest.mark.parametrize("weak", ["short", "aaaaaaaaaaaaaaaa", "erin-is-my-password"])
def test_weak_passwords_are_refused(weak: str) -> None:
    with pytest.raises(InputError):
        check_password_rules(weak, username="erin")
