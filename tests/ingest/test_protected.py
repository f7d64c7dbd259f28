"""Purpose-bound collection at import: identifying columns kept only for a held purpose,
encrypted and bound to their record; the child's id stored only as a pseudonym."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from concord.db import session_scope
from concord.db.models import ProtectedValue, Record
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys
from concord.vocab.model import Vocabulary
from tests.conftest import BACKENDS, fresh_engine
from tests.protect.factories import organisation

SPEC = """
source: {org}
version: 1
reader: {{format: csv}}
identifying: [child, name, phone]
subject: child
keep: {{name: case_management, phone: research}}
fields:
  source_record_key: {{column: id}}
  received_date: {{column: received, date_format: "%Y-%m-%d"}}
"""
ROWS = [
    ("R1", "2026-01-05", "C-7", "Amina", "+33 6 00 00 00 01"),
    ("R2", "2026-01-06", "C-7", "Amina", ""),
    ("R3", "2026-01-07", "C-9", "", "+33 6 00 00 00 03"),
    ("R4", "not a date", "C-9", "Lucas", ""),  # quarantined: its name must not be kept
]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = fresh_engine(request.param, tmp_path, "protected_ingest")
    yield engine
    engine.dispose()


def _files(tmp_path: Path, org: str) -> tuple[Path, Path]:
    data = tmp_path / "reports.csv"
    lines = ["id,received,child,name,phone", *(",".join(row) for row in ROWS)]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spec = tmp_path / "reports.mapping.yaml"
    spec.write_text(SPEC.format(org=org), encoding="utf-8")
    return data, spec


def test_kept_for_a_held_purpose_encrypted_and_bound(
    db: Engine, tmp_path: Path, vocabulary: Vocabulary
) -> None:
    with session_scope(db) as session:
        organisation(session, "helpline-x", holds=("case_management", "research"))
    data, spec = _files(tmp_path, "helpline-x")
    keys, keyring = PseudonymKeys(tmp_path / "keys"), Keyring(tmp_path / "keys")
    cipher = FieldCipher(keyring)
    report = ingest_file(db, data, load_mapping(spec), vocabulary, keys=keys, cipher=cipher)
    identifying = report.quality["identifying"]
    assert identifying["kept"] == {"name": "case_management"}
    assert (
        identifying["dropped"]["phone"]
        == "the purpose research does not justify identifying values"
    )
    assert "pseudonym" in identifying["dropped"]["child"]
    assert report.rows_stored == 3 and report.rows_quarantined == 1
    with session_scope(db) as session:
        values = session.scalars(select(ProtectedValue)).all()
        records = {r.id: r for r in session.scalars(select(Record))}
        assert len(values) == 2  # R1 and R2 have a name; R3's is empty; R4 was quarantined
        names = {
            cipher.decrypt("helpline-x", v.record_id, v.field, v.key_version, v.ciphertext)
            for v in values
        }
        assert names == {"Amina"} and all(v.purpose == "case_management" for v in values)
        assert all(b"Amina" not in bytes(v.ciphertext) for v in values)
        subjects = {r.subject_key for r in records.values()}
        assert subjects == {
            keys.subject_key("helpline-x", "C-7"),
            keys.subject_key("helpline-x", "C-9"),
        }
        dumped = " ".join(str(vars(r)) for r in records.values())
        for secret in ("Amina", "C-7", "+33 6"):
            assert secret not in dumped
    again = ingest_file(db, data, load_mapping(spec), vocabulary, keys=keys, cipher=cipher)
    assert again.already_imported
    with session_scope(db) as session:
        assert len(session.scalars(select(ProtectedValue)).all()) == 2


def test_dropped_when_the_organisation_does_not_hold_the_purpose(
    db: Engine, tmp_path: Path, vocabulary: Vocabulary
) -> None:
    with session_scope(db) as session:
        organisation(session, "hotline-y", holds=("statistics",))
    data, spec = _files(tmp_path, "hotline-y")
    report = ingest_file(
        db,
        data,
        load_mapping(spec),
        vocabulary,
        keys=PseudonymKeys(tmp_path / "k"),
        cipher=FieldCipher(Keyring(tmp_path / "k")),
    )
    dropped = report.quality["identifying"]["dropped"]
    assert dropped["name"] == "hotline-y does not hold the purpose case_management"
    assert report.quality["identifying"]["kept"] == {}
    with session_scope(db) as session:
        assert session.scalars(select(ProtectedValue)).all() == []


def test_keep_must_name_an_identifying_column(tmp_path: Path) -> None:
    from concord.errors import InputError

    spec = tmp_path / "bad.mapping.yaml"
    spec.write_text(
        SPEC.format(org="x").replace("identifying: [child, name, phone]", "identifying: [child]"),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_mapping(spec)
    assert any(
        "keep: 'name' must also be listed under 'identifying'" in d for d in info.value.details
    )
