"""Field encryption: round trips, binding to record, field and organisation, and audited reads."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry, IngestBatch, ProtectedValue, Record
from concord.errors import DecryptionError, InputError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.protect.fieldcrypt import (
    NONCE_BYTES,
    TAG_BYTES,
    FieldCipher,
    associated_data,
    protect_value,
    reveal,
)
from concord.protect.keyring import Keyring


def make_records(session: Session, organisation: str, count: int) -> list[int]:
    """``count`` minimal synthetic records of ``organisation`` (protected values need one)."""
    batch = IngestBatch(
        source_org=organisation,
        mapping_version="1",
        mapping_sha256="0" * 64,
        vocabulary_version="test",
        file_name="synthetic.csv",
        file_sha256=secrets.token_hex(32),
        file_bytes=0,
        imported_by="test",
        started_at=datetime.now(UTC),
        status="done",
    )
    session.add(batch)
    session.flush()
    records = [
        Record(
            batch_id=batch.id,
            source_org=organisation,
            source_key=secrets.token_hex(32),
            received_date=date(2024, 1, 1),
        )
        for _ in range(count)
    ]
    session.add_all(records)
    session.flush()
    return [record.id for record in records]


@pytest.fixture(scope="module")
def cipher(tmp_path_factory: pytest.TempPathFactory) -> FieldCipher:
    # Module scope: hypothesis must not share a function-scoped fixture between examples.
    return FieldCipher(Keyring(tmp_path_factory.mktemp("keys")))


@given(text=st.text(), record_id=st.integers(min_value=1, max_value=2**63 - 1))
@example(text="", record_id=1)
@example(text="\U0001f9d2 Ñandú 子供 \U00010348", record_id=7)  # non-BMP and combining scripts
@example(text="\x00" * 3 + "\ud7ff\ue000\uffff", record_id=2)
def test_round_trip_of_any_text(cipher: FieldCipher, text: str, record_id: int) -> None:
    version, blob = cipher.encrypt("ngo-ke", record_id, "child_name", text)
    assert len(blob) == NONCE_BYTES + len(text.encode()) + TAG_BYTES
    assert cipher.decrypt("ngo-ke", record_id, "child_name", version, blob) == text


def test_the_same_value_never_encrypts_to_the_same_bytes(cipher: FieldCipher) -> None:
    _, first = cipher.encrypt("ngo-ke", 1, "phone", "+254 700 000000")
    _, second = cipher.encrypt("ngo-ke", 1, "phone", "+254 700 000000")
    assert first != second
    assert b"254 700" not in first


def test_a_column_is_encrypted_at_once_under_one_version(cipher: FieldCipher) -> None:
    ids = list(range(100, 150))
    names = [f"Synthetic Child {i}" for i in ids]
    version, blobs = cipher.encrypt_column("ngo-ke", "child_name", ids, names)
    assert len(blobs) == 50
    assert len({blob[:NONCE_BYTES] for blob in blobs}) == 50
    assert [
        cipher.decrypt("ngo-ke", i, "child_name", version, b)
        for i, b in zip(ids, blobs, strict=True)
    ] == (names)
    with pytest.raises(InputError, match="2 record ids but 1 values"):
        cipher.encrypt_column("ngo-ke", "child_name", [1, 2], ["x"])


@pytest.mark.parametrize("position", [0, NONCE_BYTES - 1, NONCE_BYTES, -TAG_BYTES, -1])
def test_a_tampered_value_is_refused(cipher: FieldCipher, position: int) -> None:
    version, blob = cipher.encrypt("ngo-ke", 5, "address", "12 Synthetic Road")
    tampered = bytearray(blob)
    tampered[position] ^= 0x01
    with pytest.raises(DecryptionError, match="altered") as caught:
        cipher.decrypt("ngo-ke", 5, "address", version, bytes(tampered))
    assert "Synthetic Road" not in str(caught.value)


def test_a_truncated_value_is_refused(cipher: FieldCipher) -> None:
    version, blob = cipher.encrypt("ngo-ke", 5, "address", "")
    with pytest.raises(DecryptionError, match="truncated"):
        cipher.decrypt("ngo-ke", 5, "address", version, blob[:-1])


@pytest.mark.parametrize(
    ("organisation", "record_id", "field"),
    [
        ("ngo-ke", 43, "child_name"),  # moved to another record
        ("ngo-ke", 42, "caregiver_name"),  # moved to another field
        ("ngo-my", 42, "child_name"),  # read with another organisation's key
    ],
)
def test_a_value_moved_elsewhere_is_refused(
    cipher: FieldCipher, organisation: str, record_id: int, field: str
) -> None:
    cipher.keyring.current_version("ngo-my")
    version, blob = cipher.encrypt("ngo-ke", 42, "child_name", "Synthetic Child")
    with pytest.raises(DecryptionError, match="copied from another record, field or organ"):
        cipher.decrypt(organisation, record_id, field, version, blob)


def test_another_key_version_does_not_decrypt(tmp_path: Path) -> None:
    cipher = FieldCipher(Keyring(tmp_path))
    version, blob = cipher.encrypt("ngo-ke", 1, "child_name", "Synthetic Child")
    newer = cipher.keyring.add_version("ngo-ke")
    assert cipher.decrypt("ngo-ke", 1, "child_name", version, blob) == "Synthetic Child"
    with pytest.raises(DecryptionError):
        cipher.decrypt("ngo-ke", 1, "child_name", newer, blob)
    assert cipher.encrypt("ngo-ke", 1, "child_name", "x")[0] == newer


def test_a_retired_key_version_is_reported(tmp_path: Path) -> None:
    cipher = FieldCipher(Keyring(tmp_path))
    version, blob = cipher.encrypt("ngo-ke", 1, "child_name", "Synthetic Child")
    cipher.keyring.add_version("ngo-ke")
    cipher.keyring.retire("ngo-ke", version)
    with pytest.raises(DecryptionError, match="was retired"):
        cipher.decrypt("ngo-ke", 1, "child_name", version, blob)


def test_text_that_cannot_be_encoded_is_an_input_error(cipher: FieldCipher) -> None:
    with pytest.raises(InputError, match="unpaired surrogate"):
        cipher.encrypt("ngo-ke", 1, "child_name", "broken \ud800 text")


@pytest.mark.parametrize("field", ["", "x" * 129])
def test_field_names_are_checked(cipher: FieldCipher, field: str) -> None:
    with pytest.raises(InputError, match="1 to 128 characters"):
        cipher.encrypt("ngo-ke", 1, field, "value")


def test_associated_data_is_unambiguous() -> None:
    assert associated_data("ab", 1, "c") != associated_data("a", 1, "bc")
    assert associated_data("a", 11, "x") != associated_data("a", 1, "1x")


# -- reading through reveal(): audited --------------------------------------------------------

AUDIT = AuditTrail(b"k" * 32)


def _decrypt_entries(session: Session) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "protected_value.decrypt")
            .order_by(AuditEntry.seq)
        )
    )


def test_reveal_decrypts_and_audits_without_the_value(session: Session, tmp_path: Path) -> None:
    cipher = FieldCipher(Keyring(tmp_path))
    (record_id,) = make_records(session, "ngo-ke", 1)
    protect_value(
        session,
        cipher,
        record_id=record_id,
        field="child_name",
        plaintext="Synthetic Child Amani",
        organisation="ngo-ke",
        purpose="case_management",
        actor="caseworker1",
    )
    before = len(_decrypt_entries(session))
    value = reveal(
        session,
        cipher,
        AUDIT,
        record_id=record_id,
        field="child_name",
        actor="caseworker1",
        purpose="case_management",
        organisation="ngo-ke",
    )
    assert value == "Synthetic Child Amani"
    entries = _decrypt_entries(session)
    assert len(entries) == before + 1
    entry = entries[-1]
    assert (entry.actor, entry.organisation, entry.purpose) == (
        "caseworker1",
        "ngo-ke",
        "case_management",
    )
    assert entry.target == f"record:{record_id}"
    assert entry.details == {"record_id": record_id, "field": "child_name", "key_version": 1}
    assert "Amani" not in repr(entry.details)


def test_reveal_of_another_organisations_value_is_not_found(
    session: Session, tmp_path: Path
) -> None:
    cipher = FieldCipher(Keyring(tmp_path))
    (record_id,) = make_records(session, "ngo-ke", 1)
    protect_value(
        session,
        cipher,
        record_id=record_id,
        field="child_name",
        plaintext="Synthetic Child",
        organisation="ngo-ke",
        purpose="case_management",
        actor="caseworker1",
    )
    before = len(_decrypt_entries(session))
    for organisation, field in (("ngo-my", "child_name"), ("ngo-ke", "phone")):
        with pytest.raises(NotFoundError):
            reveal(
                session,
                cipher,
                AUDIT,
                record_id=record_id,
                field=field,
                actor="someone",
                purpose="case_management",
                organisation=organisation,
            )
    assert len(_decrypt_entries(session)) == before


def test_reveal_of_a_tampered_value_raises(session: Session, tmp_path: Path) -> None:
    cipher = FieldCipher(Keyring(tmp_path))
    first, second = make_records(session, "ngo-ke", 2)
    for record_id in (first, second):
        protect_value(
            session,
            cipher,
            record_id=record_id,
            field="child_name",
            plaintext=f"Synthetic Child {record_id}",
            organisation="ngo-ke",
            purpose="case_management",
            actor="caseworker1",
        )
    # Someone with database access copies one child's name onto another record.
    stolen = session.get(ProtectedValue, (first, "child_name"))
    target = session.get(ProtectedValue, (second, "child_name"))
    assert stolen is not None
    assert target is not None
    target.ciphertext = stolen.ciphertext
    session.flush()
    with pytest.raises(DecryptionError, match=f"record {second}"):
        reveal(
            session,
            cipher,
            AUDIT,
            record_id=second,
            field="child_name",
            actor="caseworker1",
            purpose="case_management",
            organisation="ngo-ke",
        )


def test_protect_value_replaces_an_earlier_value(session: Session, tmp_path: Path) -> None:
    cipher = FieldCipher(Keyring(tmp_path))
    (record_id,) = make_records(session, "ngo-ke", 1)
    for name in ("First Name", "Corrected Name"):
        protect_value(
            session,
            cipher,
            record_id=record_id,
            field="child_name",
            plaintext=name,
            organisation="ngo-ke",
            purpose="case_management",
            actor="caseworker1",
        )
    row = session.get(ProtectedValue, (record_id, "child_name"))
    assert row is not None
    assert cipher.decrypt("ngo-ke", record_id, "child_name", row.key_version, row.ciphertext) == (
        "Corrected Name"
    )
