"""Upload → preview → import with progress → report; batches, quarantine and records pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from concord.config import Settings
from concord.synth import generate_partners
from concord.web.app import create_app
from tests.web.logins import sign_in


@pytest.fixture(scope="module")
def partner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("partners")
    generate_partners(folder, rows_per_org=300, seed=5, organisations=["hotline-es", "ngo-ke"])
    return folder


@pytest.fixture(scope="module")
def app_client(
    db: Engine, partner_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    state = tmp_path_factory.mktemp("state")
    settings = Settings(
        database_url=str(db.url),
        mapping_dir=partner_dir,
        upload_dir=state / "uploads",
        key_dir=state / "keys",
        max_upload_bytes=64 * 1024,
        max_import_bytes=50 * 1024 * 1024,
    )
    with TestClient(create_app(settings, engine=db)) as client:
        sign_in(client, db, {"hotline-es": ["data_steward"], "ngo-ke": ["data_steward"]})
        yield client


def _wait_for(client: TestClient, job_url: str) -> str:
    for _ in range(200):
        fragment = client.get(job_url, headers={"HX-Request": "true"}).text
        if "running" not in fragment and "queued" not in fragment:
            return fragment
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_upload_preview_import_and_report(app_client: TestClient, partner_dir: Path) -> None:
    form = app_client.get("/upload")
    assert "hotline-es" in form.text and "ngo-ke" in form.text
    data = (partner_dir / "hotline-es.csv").read_bytes()
    preview = app_client.post(
        "/upload", data={"mapping": "hotline-es"}, files={"file": ("hotline es.csv", data)}
    )
    assert preview.status_code == 200, preview.text
    assert 'id="preview-records"' in preview.text
    assert "Nombre del menor" in preview.text  # named as a column that will be dropped
    action = preview.text.split('action="/upload/')[1].split('"')[0]
    started = app_client.post(
        f"/upload/{action}", data={"mapping": "hotline-es"}, follow_redirects=False
    )
    assert started.status_code == 303
    job_url = started.headers["location"]
    done = _wait_for(app_client, job_url)
    assert "Read = stored + quarantined + duplicates</th><td>yes" in done
    batch_id = done.split('href="/batches/')[1].split('"')[0]
    report = app_client.get(f"/batches/{batch_id}")
    assert 'id="fields"' in report.text and "Why rows were quarantined" in report.text
    assert app_client.get("/api/batches").json()[0]["rows"]["read"] == 300
    assert app_client.get(f"/api/batches/{batch_id}").json()["quality"]["rows"]["read"] == 300
    quarantine = app_client.get("/quarantine", params={"batch": batch_id})
    assert 'id="quarantine"' in quarantine.text and "<li>" in quarantine.text
    records = app_client.get("/api/records", params={"org": "hotline-es", "limit": 5}).json()
    assert records["total"] > 250 and len(records["items"]) == 5
    assert "source_key" not in records["items"][0]
    page = app_client.get("/records", params={"org": "hotline-es"})
    assert 'id="records-table"' in page.text


def test_upload_errors_are_clear(app_client: TestClient) -> None:
    unknown = app_client.post("/upload", data={"mapping": "nope"}, files={"file": ("a.csv", b"x")})
    assert unknown.status_code == 404
    empty = app_client.post(
        "/upload", data={"mapping": "hotline-es"}, files={"file": ("a.csv", b"")}
    )
    assert empty.status_code == 422
    binary = app_client.post(
        "/upload",
        data={"mapping": "hotline-es"},
        files={"file": ("a.csv", b"\x89PNG\r\n\x1a\n\0\0")},
    )
    assert binary.status_code == 422
    assert app_client.get("/jobs/0123").status_code == 404
    bad_date = app_client.get("/records", params={"received_from": "yesterday"})
    assert bad_date.status_code == 422


def test_records_page_shows_labels_and_filters(app_client: TestClient, partner_dir: Path) -> None:
    data = (partner_dir / "ngo-ke.csv").read_bytes()
    preview = app_client.post(
        "/upload", data={"mapping": "ngo-ke"}, files={"file": ("ngo-ke.csv", data)}
    )
    action = preview.text.split('action="/upload/')[1].split('"')[0]
    started = app_client.post(
        f"/upload/{action}", data={"mapping": "ngo-ke"}, follow_redirects=False
    )
    _wait_for(app_client, started.headers["location"])
    everything = app_client.get("/records", headers={"HX-Request": "true"}).text
    kenya = app_client.get(
        "/records", params={"country": "country.ke"}, headers={"HX-Request": "true"}
    ).text
    assert "Kenya" in kenya  # a label, not only the id
    count = int(kenya.split('id="records-count">')[1].split(" ")[0].replace(",", ""))
    total = int(everything.split('id="records-count">')[1].split(" ")[0].replace(",", ""))
    assert 0 < count < total


def test_import_api_and_correction_in_the_browser_flow(
    app_client: TestClient, partner_dir: Path
) -> None:
    assert "hotline-es" in app_client.get("/api/imports/mappings").json()
    data = (partner_dir / "hotline-es.csv").read_bytes().replace(b"\r\n", b"\n")
    started = app_client.post(
        "/api/imports", data={"mapping": "hotline-es"}, files={"file": ("resent.csv", data)}
    )
    assert started.status_code == 202
    status_url = started.json()["status_url"]
    for _ in range(200):
        status = app_client.get(status_url).json()
        if status["state"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status["state"] == "done", status
    assert status["report"]["reconciles"] is True
    batch = app_client.get("/api/batches").json()[-1]["id"]  # the first hotline-es import
    page = app_client.get("/quarantine", params={"batch": batch})
    assert 'id="export-link"' in page.text
    assert "<option selected>hotline-es</option>" in page.text  # the rows' own mapping
    exported = app_client.get("/quarantine/export.csv", params={"batch": batch})
    assert exported.status_code == 200
    assert exported.text.startswith("quarantine_id,")
    rows = exported.text.count("\n") - 1
    assert rows > 0
    response = app_client.post(  # re-submitted unchanged: each row fails again, nothing lost
        "/quarantine/resubmit",
        data={"mapping": "hotline-es"},
        files={"file": ("fixed.csv", exported.content)},
    )
    assert response.status_code == 200, response.text
    open_rows = app_client.get("/api/quarantine", params={"batch": batch}).json()["total"]
    assert open_rows == 0  # the old entries are superseded by the new batch's
    assert "Read = stored + quarantined + duplicates</th><td>yes" in response.text


def test_import_api_errors(app_client: TestClient) -> None:
    missing = app_client.post("/api/imports", files={"file": ("a.csv", b"x")})
    assert missing.status_code == 422
    unknown = app_client.post(
        "/api/imports", data={"mapping": "nope"}, files={"file": ("a.csv", b"x")}
    )
    assert unknown.status_code == 404
    assert app_client.get("/api/imports/0123").status_code == 404
