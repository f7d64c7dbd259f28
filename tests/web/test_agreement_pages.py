"""Sharing agreements in the browser: list and show for the parties only, the editor (every
problem listed, a new version stored as a draft, a changed text under a stored version
refused), approval by a party's administrator only, and CSRF on every form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from concord.config import Settings
from concord.db import session_scope
from concord.share import get_agreement, parse_agreement
from concord.web.app import create_app
from tests.web.logins import sign_in
from tests.web.sharing import (
    JSON,
    Parties,
    in_force,
    parties,
    post_forms_without_csrf,
    store,
    textarea,
    yaml_of,
)


@pytest.fixture
def client(db: Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=str(db.url), key_dir=tmp_path / "keys")
    with TestClient(create_app(settings, engine=db)) as test_client:
        yield test_client


@pytest.fixture
def p(db: Engine) -> Parties:
    return parties(db)


def test_the_parties_see_the_list_the_terms_and_the_yaml(
    client: TestClient, db: Engine, p: Parties
) -> None:
    agreed = p.agreement()
    store(db, agreed, approvers={p.provider: p.provider_admin})
    sign_in(client, db, {p.hub: ["analyst"]}, purpose="research")
    listing = client.get("/agreements")
    assert listing.status_code == 200
    row = re.search(
        rf"<tr><td><a href=\"/agreements/{agreed.id}\?version=1\">.*?</tr>", listing.text, re.S
    )
    assert row, listing.text
    assert "tlp-amber" in row[0] and "draft" in row[0] and p.hub in row[0]
    assert '<a href="/agreements">Agreements</a>' in listing.text  # the navigation link

    page = client.get(f"/agreements/{agreed.id}")
    assert page.status_code == 200
    for shown in (
        agreed.title,
        agreed.legal_basis,
        "reports.abuse_type",
        "victim_age_band × country",
        "within recipient",
        "TLP:AMBER",
        p.provider_admin,  # the provider approved
        "waiting for approval by",
    ):
        assert shown in page.text, shown
    assert 'id="approve-form"' not in page.text  # an analyst approves nothing

    download = client.get(f"/agreements/{agreed.id}/v1.yaml")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/yaml")
    assert parse_agreement(download.text, source="download") == agreed


def test_other_organisations_neither_see_nor_act(
    client: TestClient, db: Engine, p: Parties
) -> None:
    agreed = p.agreement()
    store(db, agreed)
    sign_in(client, db, {p.outsider: ["administrator"]}, purpose=None)
    assert agreed.id not in client.get("/agreements").text
    for url in (f"/agreements/{agreed.id}", f"/agreements/{agreed.id}/v1.yaml"):
        assert client.get(url, headers=JSON).status_code == 403, url
    assert client.get(f"/agreements/{agreed.id}/edit", headers=JSON).status_code == 403
    refused = client.post(f"/agreements/{agreed.id}/v1/approve", headers=JSON)
    assert refused.status_code == 403
    assert "administrator of none of them" in refused.json()["detail"]
    # naming one of the parties does not help
    named = client.post(
        f"/agreements/{agreed.id}/v1/approve", data={"organisation": p.hub}, headers=JSON
    )
    assert named.status_code == 403 and "only an active administrator" in named.json()["detail"]
    # nor does "editing" it as a new version that names the outsider as the provider
    taken = p.agreement(version=2, provider=p.outsider)
    hijack = client.post("/agreements", data={"text": yaml_of(taken)}, headers=JSON)
    assert hijack.status_code == 403
    with session_scope(db) as session:
        assert get_agreement(session, agreed.id).agreement.version == 1

    sign_in(client, db, {p.provider: ["viewer"]})
    assert client.get("/agreements", headers=JSON).status_code == 403
    assert '<a href="/agreements">' not in client.get("/").text


def test_the_new_agreement_form_starts_from_a_valid_agreement(
    client: TestClient, db: Engine, p: Parties
) -> None:
    sign_in(client, db, {p.provider: ["data_steward"]})
    page = client.get("/agreements/new")
    assert page.status_code == 200
    assert 'id="field-guide"' in page.text
    for term in ("min_cell", "rounding_base", "never_cross", "marking", "onward_sharing"):
        assert f"<code>{term}</code>" in page.text
    assert post_forms_without_csrf(page.text) == []
    text = textarea(page.text, "text")
    assert text.lstrip().startswith("#")  # commented
    drafted = parse_agreement(text, source="template")
    assert drafted.provider == p.provider
    created = client.post("/agreements", data={"text": text}, follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] == f"/agreements/{drafted.id}?version=1"


def test_a_bad_agreement_lists_every_problem_and_stores_nothing(
    client: TestClient, db: Engine, p: Parties
) -> None:
    sign_in(client, db, {p.provider: ["administrator"]}, purpose=None)
    broken = (
        yaml_of(p.agreement(id=f"{p.provider}-broken"))
        .replace("marking: AMBER", "marking: PURPLE")
        .replace("min_cell: 10", "min_cell: 0")
        .replace("title:", "titel:")
    )
    answer = client.post("/agreements", data={"text": broken})
    assert answer.status_code == 422
    problems = re.search(r'<div class="warning" id="problems".*?</div>', answer.text, re.S)
    assert problems, answer.text
    for field in ("marking", "disclosure.min_cell", "title", "titel"):
        assert field in problems[0], field
    assert "PURPLE" in textarea(answer.text, "text")  # the text is kept for fixing
    assert post_forms_without_csrf(answer.text) == []

    crossed = yaml_of(p.agreement(id=f"{p.provider}-crossed")).replace(
        "valid_to: 2027-12-31", "valid_to: 2025-12-31"
    )
    answer = client.post("/agreements", data={"text": crossed.replace("statistics", "gossip")})
    assert answer.status_code == 422
    assert "valid_to" in answer.text and "gossip" in answer.text

    syntax = client.post("/agreements", data={"text": "id: [unclosed\ntitle: x\n"})
    assert syntax.status_code == 422 and "line" in syntax.text
    assert client.get(f"/agreements/{p.provider}-broken", headers=JSON).status_code == 404


def test_an_edit_is_a_new_draft_version_and_a_stored_version_never_changes(
    client: TestClient, db: Engine, p: Parties
) -> None:
    agreed = p.agreement()
    in_force(db, p, agreed)
    sign_in(client, db, {p.provider: ["data_steward"]})
    page = client.get(f"/agreements/{agreed.id}")
    assert f'href="/agreements/{agreed.id}/edit"' in page.text and "in force" in page.text
    editor = client.get(f"/agreements/{agreed.id}/edit")
    assert editor.status_code == 200
    text = textarea(editor.text, "text")
    assert "version: 2" in text
    edited = text.replace("min_cell: 10", "min_cell: 15")
    saved = client.post("/agreements", data={"text": edited}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/agreements/{agreed.id}?version=2"
    shown = client.get(saved.headers["location"])
    assert "15 (smaller counts are suppressed)" in shown.text and "draft" in shown.text
    assert "v1" in shown.text and "in force" in shown.text  # v1 stays in force until approved

    again = client.post("/agreements", data={"text": edited}, follow_redirects=False)
    assert again.status_code == 303  # the same text again changes nothing
    changed = client.post(
        "/agreements", data={"text": edited.replace("min_cell: 15", "min_cell: 20")}
    )
    assert changed.status_code == 422
    assert "already stored with a different text" in changed.text
    first = client.post("/agreements", data={"text": yaml_of(agreed)}, follow_redirects=False)
    assert first.status_code == 303  # v1 as stored: a no-op
    rewritten = client.post(
        "/agreements", data={"text": yaml_of(agreed.model_copy(update={"title": "New"}))}
    )
    assert rewritten.status_code == 422 and "already stored with a different text" in rewritten.text

    sign_in(client, db, {p.provider: ["analyst"]}, purpose="research")
    assert client.get(f"/agreements/{agreed.id}/edit", headers=JSON).status_code == 403
    refused = client.post(
        "/agreements", data={"text": edited.replace("version: 2", "version: 3")}, headers=JSON
    )
    assert refused.status_code == 403


def test_only_an_administrator_of_a_party_approves(
    client: TestClient, db: Engine, p: Parties
) -> None:
    agreed = p.agreement()
    store(db, agreed)
    url = f"/agreements/{agreed.id}/v1/approve"

    sign_in(client, db, {p.provider: ["data_steward"]})
    steward = client.post(url, headers=JSON)
    assert steward.status_code == 403  # stewards draft, administrators commit

    sign_in(client, db, {p.provider: ["administrator"]}, purpose=None)
    page = client.get(f"/agreements/{agreed.id}")
    assert 'id="approve-form"' in page.text
    assert post_forms_without_csrf(page.text) == []
    approved = client.post(url, follow_redirects=False)
    assert approved.status_code == 303
    page = client.get(approved.headers["location"])
    assert "waiting for approval by" in page.text and 'id="approve-form"' not in page.text

    sign_in(client, db, {p.hub: ["administrator"]}, purpose=None)
    assert client.post(url, data={"organisation": p.hub}, follow_redirects=False).status_code == 303
    page = client.get(f"/agreements/{agreed.id}")
    assert "in force" in page.text and "waiting for approval by" not in page.text


def test_forms_need_the_csrf_token(client: TestClient, db: Engine, p: Parties) -> None:
    store(db, p.agreement())
    sign_in(client, db, {p.provider: ["administrator"]}, purpose=None)
    client.headers.pop("X-CSRF-Token")
    refused = client.post(
        f"/agreements/{p.provider}-to-hub/v1/approve", headers=JSON, data={"x": "1"}
    )
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
