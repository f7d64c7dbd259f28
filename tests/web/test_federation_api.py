"""The hub's federation endpoints and pages, and a real push from a node's outbox to a hub
served over loopback HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from concord.config import Settings
from concord.db import session_scope
from concord.db.models import FederationBundle
from concord.share.push import BUNDLE, REVOCATION, deliver_due, enqueue, sync_status
from concord.share.revocation import sign_revocation
from concord.web.app import create_app
from tests.conftest import BACKENDS, fresh_engine
from tests.share.federation_setup import (
    ES,
    HUB,
    PT,
    RECORDS,
    TABLE,
    agreement,
    bundle,
    cheap_passwords,
    in_force,
    node_key,
    record_table,
    records_agreement,
    register,
)
from tests.web.browser import live_server
from tests.web.logins import sign_in

ES_KEY, PT_KEY = node_key(ES), node_key(PT)
ZIP = {"content-type": "application/zip", "accept": "application/json"}


def hub_database(engine: Engine) -> None:
    with session_scope(engine) as session:
        in_force(session, agreement(ES), agreement(PT), records_agreement())
        register(session, ES_KEY)
        register(session, PT_KEY)


@pytest.fixture(scope="module", params=BACKENDS)
def hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Engine]]:
    folder = tmp_path_factory.mktemp("federation-hub")
    engine = fresh_engine(request.param, folder, "federation_api")
    with pytest.MonkeyPatch.context() as patch:
        cheap_passwords(patch)
        hub_database(engine)
        settings = Settings(database_url=str(engine.url), key_dir=folder / "keys", node_id=HUB)
        with TestClient(create_app(settings, engine=engine)) as client:
            yield client, engine
    engine.dispose()


def release_id() -> str:
    return str(uuid.uuid4())


def test_a_bundle_is_stored_once(hub: tuple[TestClient, Engine]) -> None:
    client, engine = hub
    rid = release_id()
    data = bundle(ES_KEY, agreement(ES), release_id=rid)
    first = client.post("/api/federation/bundles", content=data, headers=ZIP)
    assert first.status_code == 201, first.text
    assert first.json() == {
        "stored": True,
        "release_id": rid,
        "node": ES,
        "sha256": first.json()["sha256"],
    }
    again = client.post("/api/federation/bundles", content=data, headers=ZIP)
    assert again.status_code == 200
    assert again.json()["stored"] is False
    with session_scope(engine) as session:
        assert session.scalars(select(FederationBundle.release_id)).all().count(rid) == 1


def test_refusals_are_problem_documents_with_the_reason(hub: tuple[TestClient, Engine]) -> None:
    client, _ = hub
    response = client.post("/api/federation/bundles", content=b"not a zip", headers=ZIP)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Bundle refused"
    assert problem["type"].endswith("/bundle")
    assert "not a ZIP" in problem["detail"]
    stranger = bundle(node_key("hotline-fr"), agreement(ES), provider=ES)
    refused = client.post("/api/federation/bundles", content=stranger, headers=ZIP)
    assert "is not registered at this hub" in refused.json()["detail"]


def test_revocation_then_replay(hub: tuple[TestClient, Engine]) -> None:
    client, engine = hub
    rid = release_id()
    data = bundle(PT_KEY, agreement(PT), release_id=rid)
    assert client.post("/api/federation/bundles", content=data, headers=ZIP).status_code == 201
    message = sign_revocation(PT_KEY, release_id=rid, reason="sent too early")
    revoked = client.post("/api/federation/revocations", content=message)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["whole_release"] is True
    replay = client.post("/api/federation/bundles", content=data, headers=ZIP)
    assert replay.status_code == 422
    assert "was revoked" in replay.json()["detail"]
    with session_scope(engine) as session:
        row = session.get(FederationBundle, rid)
        assert row is not None
        assert row.tables == {}


def test_consent_withdrawal_over_the_api(hub: tuple[TestClient, Engine]) -> None:
    client, engine = hub
    rid = release_id()
    frame = record_table(["child-a", "child-b"])
    data = bundle(ES_KEY, records_agreement(), tables={RECORDS: frame}, release_id=rid)
    assert client.post("/api/federation/bundles", content=data, headers=ZIP).status_code == 201
    message = sign_revocation(ES_KEY, release_id=rid, reason="consent", subjects=["child-b"])
    answer = client.post("/api/federation/revocations", content=message).json()
    assert answer["subjects_removed"] == 1
    with session_scope(engine) as session:
        row = session.get(FederationBundle, rid)
        assert row is not None
        assert [r[0] for r in row.tables[RECORDS]["rows"]] == ["child-a"]


def test_pushes_need_no_csrf_token_even_with_a_session(hub: tuple[TestClient, Engine]) -> None:
    client, engine = hub
    sign_in(client, engine, {HUB: ["administrator"]}, purpose=None)
    client.headers.pop("X-CSRF-Token", None)
    data = bundle(ES_KEY, agreement(ES), release_id=release_id())
    assert client.post("/api/federation/bundles", content=data, headers=ZIP).status_code == 201
    client.cookies.clear()


def test_a_node_that_is_not_a_hub_accepts_no_bundles(client: TestClient) -> None:
    response = client.post("/api/federation/bundles", content=b"x", headers=ZIP)
    assert response.status_code == 404
    assert "CONCORD_NODE_ID" in response.json()["detail"]


def test_the_status_and_regional_pages(hub: tuple[TestClient, Engine]) -> None:
    client, engine = hub
    rid = release_id()
    counts = {"_total": 30, "ES": None, "PT": None}
    pt = bundle(PT_KEY, agreement(PT), counts, release_id=rid, period="2026-Q2")
    assert client.post("/api/federation/bundles", content=pt, headers=ZIP).status_code == 201
    es = bundle(ES_KEY, agreement(ES), release_id=release_id(), period="2026-Q2")
    assert client.post("/api/federation/bundles", content=es, headers=ZIP).status_code == 201
    sign_in(client, engine, {HUB: ["analyst"]}, purpose=None)
    status = client.get("/federation")
    assert status.status_code == 200
    assert ES_KEY.key_id in status.text
    assert rid in status.text
    regional = client.get("/federation/regional?period=2026-Q2")
    assert regional.status_code == 200
    assert TABLE in regional.text
    assert "70" in regional.text  # 40 + 30, both published
    assert 'class="badge warn">incomplete' in regional.text
    sign_in(client, engine, {HUB: ["viewer"]}, purpose=None)
    assert client.get("/federation", headers={"accept": "application/json"}).status_code == 403
    client.cookies.clear()


def test_a_real_push_from_a_node_to_a_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node → hub over loopback HTTP: deliver, revoke, and a changed bundle refused for good."""
    cheap_passwords(monkeypatch)
    hub_engine = fresh_engine("sqlite", tmp_path, "hub")
    node_engine = fresh_engine("sqlite", tmp_path, "node")
    hub_database(hub_engine)
    settings = Settings(database_url=str(hub_engine.url), key_dir=tmp_path / "keys", node_id=HUB)
    rid = release_id()
    data = bundle(ES_KEY, agreement(ES), release_id=rid)
    with live_server(create_app(settings, engine=hub_engine)) as base:
        with session_scope(node_engine) as session:
            enqueue(session, kind=BUNDLE, release_id=rid, hub_url=base, payload=data)
            revocation = sign_revocation(ES_KEY, release_id=rid, reason="wrong figures")
            enqueue(session, kind=REVOCATION, release_id=rid, hub_url=base, payload=revocation)
        with session_scope(node_engine) as session, httpx2.Client(timeout=10) as http:
            results = deliver_due(session, http)
        assert [(r.kind, r.outcome) for r in results] == [
            (BUNDLE, "delivered"),
            (REVOCATION, "delivered"),
        ]
        with session_scope(hub_engine) as session:
            row = session.get(FederationBundle, rid)
            assert row is not None
            assert row.revoked_reason == "wrong figures"
            assert row.package is None
        changed = bundle(ES_KEY, agreement(ES), {"_total": 41}, release_id=rid)
        with session_scope(node_engine) as session, httpx2.Client(timeout=10) as http:
            enqueue(session, kind=BUNDLE, release_id=rid, hub_url=base, payload=changed)
            (refused,) = deliver_due(session, http)
            assert refused.outcome == "refused"
            assert refused.status_code == 422
            assert "was revoked" in refused.message
            (status,) = sync_status(session)
            assert (status.delivered, status.refused, status.pending) == (2, 1, 0)
    hub_engine.dispose()
    node_engine.dispose()


def test_a_hub_administrator_trusts_and_removes_a_node_from_the_page(
    hub: tuple[TestClient, Engine],
) -> None:
    client, engine = hub
    key = node_key("ngo-new")
    form = {"node_id": "ngo-new", "public_key": key.public_key_b64, "organisations": "ngo-new"}
    sign_in(client, engine, {HUB: ["analyst"]}, purpose=None)
    page = client.get("/federation")
    assert 'id="register-node"' not in page.text  # readers see the registry, not the form
    assert client.post("/federation/nodes", data=form).status_code == 403
    sign_in(client, engine, {"ngo-elsewhere": ["administrator"]}, purpose=None)
    assert client.post("/federation/nodes", data=form).status_code == 403  # not the hub's admin
    token = sign_in(client, engine, {HUB: ["administrator"]}, purpose=None)
    page = client.get("/federation")
    assert 'id="register-node"' in page.text
    client.headers.pop("X-CSRF-Token", None)
    assert client.post("/federation/nodes", data=form).status_code == 403  # no CSRF token
    added = client.post(
        "/federation/nodes", data=form | {"csrf_token": token}, follow_redirects=False
    )
    assert added.status_code == 303
    assert key.key_id in client.get("/federation").text
    bad = client.post(
        "/federation/nodes", data=form | {"public_key": "not a key", "csrf_token": token}
    )
    assert bad.status_code == 422
    removed = client.post(
        "/federation/nodes/ngo-new/remove", data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert key.key_id not in client.get("/federation").text
    client.cookies.clear()


def test_a_node_that_is_not_a_hub_has_no_registry_to_manage(client: TestClient) -> None:
    response = client.post("/federation/nodes", data={"node_id": "x", "public_key": "y"})
    assert response.status_code in (401, 404)
