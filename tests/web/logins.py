"""Signing test clients in: a user with roles, training and a purpose, in one call."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from concord.db import session_scope
from concord.db.models import User, UserSession
from tests.protect.factories import PASSWORD, user

STEWARD_ROLES = ["data_steward"]


def create_user(
    engine: Engine,
    roles: dict[str, list[str]],
    *,
    trained: bool = True,
    username: str | None = None,
    node_admin: bool = False,
) -> str:
    """A committed user (unique name unless given) with roles and, by default, training."""
    name = username or f"u-{uuid.uuid4().hex[:10]}"
    with session_scope(engine) as session:
        user(session, name, roles=roles, trained=trained, node_admin=node_admin)
    return name


def sign_in(
    client: TestClient,
    engine: Engine,
    roles: dict[str, list[str]],
    *,
    purpose: str | None = "data_quality",
    trained: bool = True,
    node_admin: bool = False,
) -> str:
    """Log ``client`` in as a new user and state ``purpose``; returns the CSRF token, which is
    also set as the client's default ``X-CSRF-Token`` header (as the pages do for htmx)."""
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    name = create_user(engine, roles, trained=trained, node_admin=node_admin)
    response = client.post(
        "/login", data={"username": name, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    with session_scope(engine) as session:
        user_id = session.scalar(select(User.id).where(User.username == name))
        csrf = session.scalars(
            select(UserSession.csrf_token).where(UserSession.user_id == user_id)
        ).one()
    client.headers["X-CSRF-Token"] = csrf
    if purpose is not None:
        chosen = client.post("/purpose", data={"purpose": purpose}, follow_redirects=False)
        assert chosen.status_code == 303, chosen.text
    return csrf
