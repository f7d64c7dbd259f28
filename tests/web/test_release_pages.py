"""Releases in the browser: a plan that lists why it is denied, a plan that is allowed and run,
the stored release (cells suppressed as markers, never numbers), revocation with a reason, the
JSON, and who may see or act (recipients see, outsiders do not, only stewards run and revoke)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from concord.config import Settings
from concord.web.app import create_app
from tests.web.logins import sign_in
from tests.web.sharing import (
    JSON,
    Parties,
    add_records,
    in_force,
    parties,
    post_forms_without_csrf,
    quarters,
    store,
)

CELL_ROW = re.compile(r'<tr data-status="(\w+)">(.*?)</tr>', re.S)
#: Spain and France are large; Portugal's 3 is a small cell, so France is suppressed with it
#: (otherwise the total minus Spain would give Portugal away).
COUNTS = {"country.es": 40, "country.fr": 30, "country.pt": 3}


@pytest.fixture
def client(db: Engine, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=str(db.url), key_dir=tmp_path / "keys")
    with TestClient(create_app(settings, engine=db)) as test_client:
        yield test_client


@pytest.fixture
def p(db: Engine) -> Parties:
    found = parties(db)
    _, _, day = quarters()
    add_records(db, found.provider, day, COUNTS)
    return found


def by_country() -> dict[str, object]:
    """Reports by country, quarterly, valid for long enough that the tests never date."""
    return {
        "shares": {"indicators": ["reports.total"], "dimensions": ["country"]},
        "disclosure": {"min_cell": 10, "never_cross": []},
        "valid_from": "2020-01-01",
        "valid_to": "2099-12-31",
    }


def cells(html: str) -> list[tuple[str, str]]:
    """(status, the row's cells as text) of every printed cell."""
    return [(status, re.sub(r"<[^>]+>", " ", row)) for status, row in CELL_ROW.findall(html)]


def assert_no_suppressed_number(html: str) -> None:
    printed = cells(html)
    # a release never says which hidden cells were the small ones
    assert {s for s, _ in printed} == {"published", "suppressed"}, printed
    for status, row in printed:
        if status != "published":
            assert not re.search(r"\d", row), row
            assert "suppressed" in row


def test_a_plan_lists_every_reason_it_is_denied(client: TestClient, db: Engine, p: Parties) -> None:
    agreed = p.agreement(**by_country())
    store(db, agreed, approvers={p.provider: p.provider_admin})  # the hub has not approved
    now, _, _ = quarters()
    sign_in(client, db, {p.provider: ["data_steward"]})
    page = client.get("/releases/plan", params={"agreement": agreed.id, "period": now})
    assert page.status_code == 200
    denied = dict(
        re.findall(r'<tr class="denied"><td><code>(\w+)</code>.*?<td>([^<]*)</td></tr>', page.text)
    )
    assert set(denied) == {"agreement_in_force", "period_complete"}, denied
    assert f"is draft (waiting for approval by {p.hub})" in denied["agreement_in_force"]
    assert "has not ended yet" in denied["period_complete"]
    assert 'id="run-form"' not in page.text

    # the plan form itself, and a period Concord cannot read
    form = client.get("/releases/plan")
    assert form.status_code == 200 and 'name="period"' in form.text
    unread = client.get("/releases/plan", params={"agreement": agreed.id, "period": "soon"})
    assert unread.status_code == 422 and "is not one Concord reads" in unread.text

    # running anyway stores the refusal, which the provider sees and the recipients do not
    run = client.post(
        "/releases", data={"agreement": agreed.id, "period": now}, follow_redirects=False
    )
    assert run.status_code == 303
    refused = client.get(run.headers["location"])
    assert "refused" in refused.text and 'id="revoke-form"' not in refused.text
    sign_in(client, db, {p.hub: ["analyst"]}, purpose="research")
    assert client.get(run.headers["location"], headers=JSON).status_code == 404
    assert run.headers["location"].rsplit("/", 1)[1] not in client.get("/releases").text


def test_plan_run_show_and_revoke(client: TestClient, db: Engine, p: Parties) -> None:
    agreed = p.agreement(**by_country())
    in_force(db, p, agreed)
    _, last, _ = quarters()
    sign_in(client, db, {p.provider: ["data_steward"]})
    plan = client.get("/releases/plan", params={"agreement": agreed.id, "period": last})
    assert plan.status_code == 200
    assert 'class="denied"' not in plan.text and "allowed" in plan.text
    assert agreed.id in re.search(r'<select name="agreement".*?</select>', plan.text, re.S)[0]
    assert "reports.total.by-country" in plan.text
    assert "few sources" in plan.text  # a reliability flag, as a warning
    assert_no_suppressed_number(plan.text)
    assert post_forms_without_csrf(plan.text) == []
    assert 'id="run-form"' in plan.text

    run = client.post(
        "/releases", data={"agreement": agreed.id, "period": last}, follow_redirects=False
    )
    assert run.status_code == 303
    url = run.headers["location"]
    release_id = url.rsplit("/", 1)[1]
    page = client.get(url)
    assert page.status_code == 200
    assert "released" in page.text and "Spain" in page.text
    assert_no_suppressed_number(page.text)
    published = {row.split()[0]: row.split()[-1] for s, row in cells(page.text) if s == "published"}
    assert published == {"Total": "73", "Spain": "40"}
    assert post_forms_without_csrf(page.text) == []
    assert 'id="revoke-form"' in page.text
    assert release_id in client.get("/releases").text

    document = client.get(f"/api/releases/{release_id}").json()
    assert document["status"] == "released" and document["period"] == last
    (table,) = document["tables"]
    assert all(c[1] is None for c in table["cells"] if c[2] != "published")
    assert [r["id"] for r in client.get("/api/releases").json()] == [release_id]

    # the recipient sees it, but cannot revoke it
    sign_in(client, db, {p.hub: ["analyst"]}, purpose="research")
    seen = client.get(url)
    assert seen.status_code == 200 and 'id="revoke-form"' not in seen.text
    revoke = f"{url}/revoke"
    assert client.post(revoke, data={"reason": "mine"}, headers=JSON).status_code == 403

    # an outsider neither sees nor acts
    sign_in(client, db, {p.outsider: ["data_steward"]})
    assert client.get(url, headers=JSON).status_code == 403
    assert client.get(f"/api/releases/{release_id}").status_code == 403
    assert client.get("/api/releases").json() == []
    assert client.post(revoke, data={"reason": "x"}, headers=JSON).status_code == 403
    hers = client.post("/releases", data={"agreement": agreed.id, "period": last}, headers=JSON)
    assert hers.status_code == 403
    plan = client.get(
        "/releases/plan", params={"agreement": agreed.id, "period": last}, headers=JSON
    )
    assert plan.status_code == 403

    # the steward revokes, with a reason
    sign_in(client, db, {p.provider: ["data_steward"]})
    blank = client.post(revoke, data={"reason": "  "}, headers=JSON)
    assert blank.status_code == 422 and "why" in blank.json()["detail"]
    assert client.get(f"/api/releases/{release_id}").json()["status"] == "released"
    done = client.post(revoke, data={"reason": "a wrong mapping"}, follow_redirects=False)
    assert done.status_code == 303
    page = client.get(url)
    assert "revoked" in page.text and "a wrong mapping" in page.text
    assert 'id="revoke-form"' not in page.text


def test_navigation_and_lists_follow_the_permission(client: TestClient, db: Engine) -> None:
    sign_in(client, db, {"nav-only": ["viewer"]})
    home = client.get("/").text
    assert '<a href="/releases">' not in home and '<a href="/agreements">' not in home
    assert client.get("/releases", headers=JSON).status_code == 403
    assert client.get("/api/releases").status_code == 403
    sign_in(client, db, {"nav-only": ["auditor"]}, purpose="oversight")
    home = client.get("/").text
    assert '<a href="/releases">' in home and '<a href="/agreements">' in home
    assert client.get("/releases").status_code == 200


def test_a_steward_chooses_how_much_privacy_budget_a_release_spends(
    client: TestClient, db: Engine, p: Parties
) -> None:
    rules = by_country() | {
        "disclosure": {
            "min_cell": 10,
            "never_cross": [],
            "dp": {"epsilon": 1.0, "period": "quarter"},
        }
    }
    agreed = p.agreement(**rules)
    in_force(db, p, agreed)
    _, last, _ = quarters()
    sign_in(client, db, {p.provider: ["data_steward"]})
    asked = {"agreement": agreed.id, "period": last}
    plan = client.get("/releases/plan", params=asked | {"epsilon": "0,4"})
    assert plan.status_code == 200 and "spends ε = 0.4" in plan.text
    assert 'name="epsilon" value="0.4"' in plan.text  # carried into the run form
    bad = client.get("/releases/plan", params=asked | {"epsilon": "lots"})
    assert bad.status_code == 422 and "must be a number" in bad.text
    run = client.post("/releases", data=asked | {"epsilon": "0.4"}, follow_redirects=False)
    release_id = run.headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/api/releases/{release_id}").json()["epsilon"] == 0.4
    # what is left is 0.6: asking for 0.7 is refused by the policy decision
    over = client.get("/releases/plan", params=asked | {"epsilon": "0.7"})
    assert "is spent: 0.4 used, 0.7 requested" in over.text
