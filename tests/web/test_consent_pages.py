"""Consent in the browser flow: look a child up, record, check, withdraw, harm exception with
a second approver. The child's own id never appears in a URL or a page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from concord.config import Settings
from concord.web.app import create_app
from tests.web.logins import sign_in

ORG = "helpline-c"
JSON = {"accept": "application/json"}


@pytest.fixture
def client(db: Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=str(db.url), key_dir=tmp_path / "keys")
    with TestClient(create_app(settings, engine=db)) as test_client:
        yield test_client


def test_record_check_withdraw_and_harm_exception(client: TestClient, db: Engine) -> None:
    sign_in(client, db, {ORG: ["caseworker"]}, purpose="case_management")
    opened = client.post(
        "/consent/lookup", data={"org": ORG, "subject": "CASE-0042"}, follow_redirects=False
    )
    assert opened.status_code == 303
    url = opened.headers["location"]
    assert "CASE-0042" not in url and url.startswith(f"/consent/{ORG}/")
    subject = url.rsplit("/", 1)[1]
    check = f"/api/consent/{ORG}/{subject}/check"
    assert client.get(check, params={"scope": "referral"}).json()["allowed"] is False
    client.post(f"{url}/assess", data={"outcome": "not_capable"})
    client.post(
        f"{url}/record",
        data={"party": "child", "status": "given", "scopes": "referral", "evidence_ref": "A-1"},
    )
    page = client.post(
        f"{url}/record",
        data={
            "party": "caregiver",
            "status": "given",
            "scopes": ["referral", "case_management"],
            "evidence_ref": "F-7",
        },
    )
    assert page.status_code == 200 and "CASE-0042" not in page.text
    decision = client.get(check, params={"scope": "referral"}).json()
    assert decision["allowed"] is True and decision["basis"] == "consent"
    summary = client.get(f"/api/consent/{ORG}/{subject}").json()
    caregiver = next(r for r in summary["records"] if r["party"] == "caregiver")
    client.post(f"{url}/withdraw", data={"consent_id": str(caregiver["id"])})
    refused = client.get(check, params={"scope": "referral"}).json()
    assert refused["allowed"] is False and "withdrawn" in refused["reason"]

    client.post(
        f"{url}/harm",
        data={
            "justification": "imminent risk of further abuse",
            "review_on": (date.today() + timedelta(days=30)).isoformat(),
            "scopes": "referral",
        },
    )
    harm = client.get(f"/api/consent/{ORG}/{subject}").json()["exceptions"][0]
    self_approval = client.post(f"{url}/harm/{harm['id']}/approve", headers=JSON)
    assert self_approval.status_code == 422 and "was requested by" in self_approval.text
    sign_in(client, db, {ORG: ["caseworker"]}, purpose="case_management")
    assert client.post(f"{url}/harm/{harm['id']}/approve").status_code == 200
    allowed = client.get(check, params={"scope": "referral"}).json()
    assert allowed["allowed"] is True and allowed["basis"] == "harm_exception"


def test_auditor_reads_but_cannot_record(client: TestClient, db: Engine) -> None:
    sign_in(client, db, {ORG: ["auditor"]}, purpose="oversight")
    subject = "cd" * 32
    assert client.get(f"/consent/{ORG}/{subject}").status_code == 200
    refused = client.post(
        f"/consent/{ORG}/{subject}/assess", data={"outcome": "capable"}, headers=JSON
    )
    assert refused.status_code == 403
