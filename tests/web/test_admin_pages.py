"""Administration pages: who may change what, and that each change takes effect and is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from concord.config import Settings
from concord.db import session_scope
from concord.db.models import AuditEntry, Membership, OrganisationPurpose, TrainingRecord
from concord.web.app import create_app
from tests.web.logins import sign_in


@pytest.fixture
def client(db: Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=str(db.url), key_dir=tmp_path / "keys")
    with TestClient(create_app(settings, engine=db)) as test_client:
        yield test_client


def test_node_admin_creates_an_org_adds_a_user_grants_and_trains(
    client: TestClient, db: Engine
) -> None:
    sign_in(client, db, {"hub": ["administrator"]}, purpose=None, node_admin=True)
    assert (
        client.post(
            "/admin/organisations", data={"slug": "hotline-pt", "name": "Linha PT", "country": "pt"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/admin/organisations/hotline-pt/purposes", data={"purpose": "research"}
        ).status_code
        == 200
    )
    created = client.post(
        "/admin/organisations/hotline-pt/users",
        data={"username": "rita", "password": "a long pass phrase 42", "role": "analyst"},
    )
    assert created.status_code == 200 and "rita" in created.text
    client.post(
        "/admin/organisations/hotline-pt/roles", data={"username": "rita", "role": "viewer"}
    )
    for course in ("data_protection", "child_safeguarding"):
        response = client.post(
            "/admin/organisations/hotline-pt/training",
            data={
                "username": "rita",
                "course": course,
                "issuer": "PT Academy",
                "completed_on": "2026-01-10",
                "expires_on": "2027-01-10",
            },
        )
        assert response.status_code == 200
    assert "current" in response.text
    with session_scope(db) as session:
        roles = set(
            session.scalars(select(Membership.role).where(Membership.organisation == "hotline-pt"))
        )
        assert roles == {"analyst", "viewer"}
        assert (
            session.scalar(
                select(OrganisationPurpose.purpose).where(
                    OrganisationPurpose.organisation == "hotline-pt"
                )
            )
            == "research"
        )
        assert len(session.scalars(select(TrainingRecord)).all()) >= 2
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {
        "organisation.create",
        "user.create",
        "role.grant",
        "training.record",
        "purpose.allow",
    } <= actions


def test_org_admin_cannot_grant_itself_purposes_or_touch_other_orgs(
    client: TestClient, db: Engine
) -> None:
    sign_in(client, db, {"org-own": ["administrator"]}, purpose=None)
    assert client.get("/admin/organisations/org-own").status_code == 200
    refused = client.post("/admin/organisations/org-own/purposes", data={"purpose": "referral"})
    assert refused.status_code == 403 and "node administrator" in refused.text
    sign_in(client, db, {"org-other": ["analyst"]}, purpose=None)  # creates org-other
    sign_in(client, db, {"org-own": ["administrator"]}, purpose=None)
    other = client.get("/admin/organisations/org-other", headers={"accept": "application/json"})
    assert other.status_code == 403


def test_analyst_is_refused_and_missing_csrf_is_refused(client: TestClient, db: Engine) -> None:
    sign_in(client, db, {"org-a": ["analyst"]}, purpose=None)
    assert client.get("/admin", headers={"accept": "application/json"}).status_code == 403
    sign_in(client, db, {"org-a": ["administrator"]}, purpose=None)
    token = client.headers.pop("X-CSRF-Token")
    forged = client.post(
        "/admin/organisations/org-a/roles", data={"username": "x", "role": "viewer"}
    )
    assert forged.status_code == 403 and "CSRF" in forged.text
    client.headers["X-CSRF-Token"] = token


def test_anonymous_browser_is_sent_to_login(client: TestClient) -> None:
    client.cookies.clear()
    response = client.get("/admin", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin"
    assert client.get("/api/records").status_code == 401
