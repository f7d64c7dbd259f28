"""Audit viewer, minimisation report and the audited reveal of an identifying value."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from concord.config import Settings
from concord.db import session_scope
from concord.db.models import AuditEntry, ProtectedValue, Record
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys
from concord.vocab.model import Vocabulary
from concord.web.app import create_app
from tests.protect.factories import organisation
from tests.web.logins import sign_in

ORG = "helpline-z"
SPEC = """
source: helpline-z
version: 1
reader: {format: csv}
identifying: [name]
keep: {name: case_management}
fields:
  source_record_key: {column: id}
  received_date: {column: received, date_format: "%Y-%m-%d"}
"""


@pytest.fixture(scope="module")
def client(
    db: Engine, tmp_path_factory: pytest.TempPathFactory, vocabulary: Vocabulary
) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("state")
    keys = folder / "keys"
    with session_scope(db) as session:
        organisation(session, ORG, holds=("case_management", "statistics", "research"))
    data = folder / "z.csv"
    data.write_text("id,received,name\nZ1,2026-02-01,Noor\nZ2,2026-02-02,\n", encoding="utf-8")
    spec = folder / "z.mapping.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    ingest_file(
        db,
        data,
        load_mapping(spec),
        vocabulary,
        keys=PseudonymKeys(keys),
        cipher=FieldCipher(Keyring(keys)),
    )
    settings = Settings(database_url=str(db.url), key_dir=keys)
    with TestClient(create_app(settings, engine=db)) as test_client:
        yield test_client


def _record_with_name(db: Engine) -> int:
    with session_scope(db) as session:
        return session.scalars(select(ProtectedValue.record_id)).one()


def test_caseworker_reveals_a_value_and_the_reveal_is_audited(
    client: TestClient, db: Engine
) -> None:
    record_id = _record_with_name(db)
    sign_in(client, db, {ORG: ["caseworker"]}, purpose="case_management")
    page = client.get(f"/records/{record_id}")
    assert page.status_code == 200 and "Reveal (audited)" in page.text
    assert "Noor" not in page.text
    shown = client.post(f"/records/{record_id}/reveal", data={"field": "name"})
    assert shown.status_code == 200 and "Noor" in shown.text
    with session_scope(db) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "protected_value.decrypt")
        ).one()
        assert entry.purpose == "case_management" and "Noor" not in str(entry.details)


def test_reveal_refused_for_analyst_wrong_purpose_and_untrained(
    client: TestClient, db: Engine
) -> None:
    record_id = _record_with_name(db)
    sign_in(client, db, {ORG: ["analyst"]}, purpose="research")
    assert "Reveal (audited)" not in client.get(f"/records/{record_id}").text
    assert client.post(f"/records/{record_id}/reveal", data={"field": "name"}).status_code == 403
    sign_in(client, db, {ORG: ["caseworker"]}, purpose="research")
    refused = client.post(f"/records/{record_id}/reveal", data={"field": "name"})
    assert refused.status_code == 403 and "does not justify identifying" in refused.text
    sign_in(client, db, {ORG: ["caseworker"]}, purpose="case_management", trained=False)
    untrained = client.get(f"/records/{record_id}", headers={"accept": "application/json"})
    assert untrained.status_code == 403 and "training" in untrained.text


def test_auditor_sees_and_filters_the_trail_and_exports_it(client: TestClient, db: Engine) -> None:
    sign_in(client, db, {ORG: ["auditor"]}, purpose=None)
    page = client.get("/audit", params={"action": "login"})
    assert page.status_code == 200 and "login" in page.text
    exported = client.get("/audit/export.csv", params={"action": "records"})
    assert exported.status_code == 200 and exported.text.startswith("seq,")
    with session_scope(db) as session:
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export")).first()
            is not None
        )
    outsider = client.get(
        "/audit", params={"org": "another-org"}, headers={"accept": "application/json"}
    )
    assert outsider.status_code == 403


def test_minimisation_report_lists_fields_purpose_and_who(client: TestClient, db: Engine) -> None:
    sign_in(client, db, {ORG: ["data_steward"]}, purpose=None)
    page = client.get("/minimisation")
    assert page.status_code == 200
    assert "name" in page.text and "case_management" in page.text and "cli" in page.text
    sign_in(client, db, {ORG: ["analyst"]}, purpose=None)
    assert client.get("/minimisation", headers={"accept": "application/json"}).status_code == 403


def test_records_never_contain_the_kept_value(db: Engine) -> None:
    with session_scope(db) as session:
        assert all("Noor" not in str(vars(r)) for r in session.scalars(select(Record)))
