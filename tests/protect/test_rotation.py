"""Key rotation across committed batches, on SQLite and PostgreSQL: every value stays readable,
an interrupted rotation resumes, old keys are retired only when nothing uses them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from concord.db import session_scope
from concord.db.models import AuditEntry, ProtectedValue
from concord.errors import ConfigurationError, DecryptionError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.protect.fieldcrypt import FieldCipher, protect_value
from concord.protect.keyring import Keyring
from concord.protect.rotation import RotationProgress, key_usage, rotate_keys, values_per_version
from tests.conftest import BACKENDS, fresh_engine
from tests.protect.test_fieldcrypt import make_records

AUDIT = AuditTrail(b"r" * 32)
NO_GRACE = timedelta(0)


@pytest.fixture(scope="module", params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    engine = fresh_engine(request.param, tmp_path_factory.mktemp("db"), "key_rotation")
    yield engine
    engine.dispose()


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys")


def _store(engine: Engine, keyring: Keyring, organisation: str, count: int) -> dict[int, str]:
    """``count`` records of ``organisation`` with an encrypted name each: {record id: name}."""
    cipher = FieldCipher(keyring)
    with session_scope(engine) as session:
        ids = make_records(session, organisation, count)
        names = {record_id: f"Synthetic Child {record_id} \U0001f9d2" for record_id in ids}
        for record_id, name in names.items():
            protect_value(
                session,
                cipher,
                record_id=record_id,
                field="child_name",
                plaintext=name,
                organisation=organisation,
                purpose="case_management",
                actor="test",
            )
    return names


def _read_all(engine: Engine, keyring: Keyring, organisation: str) -> dict[int, str]:
    """Every value decrypted by a reader of its own (as another process would)."""
    cipher = FieldCipher(Keyring(keyring.key_dir))
    with session_scope(engine) as session:
        rows = session.scalars(
            select(ProtectedValue).where(ProtectedValue.organisation == organisation)
        )
        return {
            row.record_id: cipher.decrypt(
                organisation, row.record_id, row.field, row.key_version, row.ciphertext
            )
            for row in rows
        }


def _versions(engine: Engine, organisation: str) -> dict[int, int]:
    with session_scope(engine) as session:
        return values_per_version(session, organisation)


def _rotation_entries(engine: Engine, organisation: str) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "keys.rotate", AuditEntry.organisation == organisation)
                .order_by(AuditEntry.seq)
            )
        )


def test_rotation_moves_every_value_and_readers_keep_working(db: Engine, keyring: Keyring) -> None:
    names = _store(db, keyring, "rot-basic", 25)
    _store(db, keyring, "rot-bystander", 3)  # another organisation is left alone
    seen: list[RotationProgress] = []

    def reader_during_rotation(step: RotationProgress) -> None:
        seen.append(step)
        # Between committed batches, values are under both versions and all still readable.
        assert _read_all(db, keyring, "rot-basic") == names

    report = rotate_keys(
        db,
        keyring,
        "rot-basic",
        actor="cli:steward",
        audit=AUDIT,
        batch_size=10,
        progress=reader_during_rotation,
    )
    assert (report.to_version, report.resumed) == (2, False)
    assert report.stale_at_start == {1: 25}
    assert (report.reencrypted, report.batches, report.unreadable) == (25, 3, 0)
    assert report.complete
    assert report.retired == []
    assert report.kept == {1: 0}  # kept by default: old backups stay readable
    assert [(s.done, s.total) for s in seen if s.phase == "re-encrypting"] == [
        (0, 25),
        (10, 25),
        (20, 25),
        (25, 25),
    ]
    assert _versions(db, "rot-basic") == {2: 25}
    assert _versions(db, "rot-bystander") == {1: 3}
    assert _read_all(db, keyring, "rot-basic") == names
    assert keyring.current_version("rot-basic") == 2
    assert keyring.rotation_in_progress("rot-basic") is None

    (entry,) = _rotation_entries(db, "rot-basic")
    assert entry.actor == "cli:steward"
    assert entry.details["reencrypted"] == 25
    assert entry.details["stale_at_start"] == {"1": 25}
    assert entry.details["to_version"] == 2
    assert "Synthetic" not in repr(entry.details)


def test_an_interrupted_rotation_resumes_without_a_new_version(
    db: Engine, keyring: Keyring
) -> None:
    names = _store(db, keyring, "rot-resume", 30)

    class SimulatedCrashError(Exception):
        pass

    def crash_after_first_batch(step: RotationProgress) -> None:
        if step.done >= 10:
            raise SimulatedCrashError

    with pytest.raises(SimulatedCrashError):
        rotate_keys(
            db,
            keyring,
            "rot-resume",
            actor="cli:steward",
            audit=AUDIT,
            batch_size=10,
            progress=crash_after_first_batch,
        )
    assert _versions(db, "rot-resume") == {1: 20, 2: 10}  # the first batch was committed
    assert _read_all(db, keyring, "rot-resume") == names
    assert keyring.rotation_in_progress("rot-resume") is not None
    assert _rotation_entries(db, "rot-resume") == []

    report = rotate_keys(
        db, Keyring(keyring.key_dir), "rot-resume", actor="cli:steward", audit=AUDIT, batch_size=10
    )
    assert (report.to_version, report.resumed) == (2, True)
    assert report.stale_at_start == {1: 20}
    assert report.reencrypted == 20
    assert _versions(db, "rot-resume") == {2: 30}
    assert [v.version for v in keyring.versions("rot-resume")] == [1, 2]
    assert _read_all(db, keyring, "rot-resume") == names
    assert keyring.rotation_in_progress("rot-resume") is None
    (entry,) = _rotation_entries(db, "rot-resume")
    assert entry.details["resumed"] is True

    # A finished rotation is not resumed again: the next run is a new rotation.
    assert rotate_keys(db, keyring, "rot-resume", actor="x", audit=AUDIT).to_version == 3


def test_old_versions_are_retired_once_unused(db: Engine, keyring: Keyring) -> None:
    names = _store(db, keyring, "rot-retire", 12)
    rotate_keys(db, keyring, "rot-retire", actor="x", audit=AUDIT)  # v2, v1 kept
    report = rotate_keys(
        db, keyring, "rot-retire", actor="x", audit=AUDIT, retire_old=True, retire_grace=NO_GRACE
    )
    assert report.to_version == 3
    assert report.retired == [1, 2]
    assert report.kept == {}
    assert _read_all(db, keyring, "rot-retire") == names
    with pytest.raises(DecryptionError, match="retired"):
        keyring.dek("rot-retire", 1)
    assert [(v.version, v.retired) for v in keyring.versions("rot-retire")] == [
        (1, True),
        (2, True),
        (3, False),
    ]
    assert _rotation_entries(db, "rot-retire")[-1].details["retired"] == [1, 2]


def test_a_version_still_in_use_is_never_retired(db: Engine, keyring: Keyring) -> None:
    names = _store(db, keyring, "rot-unreadable", 8)
    damaged = min(names)
    with session_scope(db) as session:
        row = session.get(ProtectedValue, (damaged, "child_name"))
        assert row is not None
        row.ciphertext = row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1])

    report = rotate_keys(
        db,
        keyring,
        "rot-unreadable",
        actor="x",
        audit=AUDIT,
        batch_size=3,
        retire_old=True,
        retire_grace=NO_GRACE,
    )
    assert (report.reencrypted, report.unreadable) == (7, 1)
    assert report.unreadable_sample == [(damaged, "child_name")]
    assert not report.complete
    assert report.retired == []
    assert report.kept == {1: 1}
    assert keyring.dek("rot-unreadable", 1)  # still there: the damaged value needs it
    assert _versions(db, "rot-unreadable") == {1: 1, 2: 7}
    entry = _rotation_entries(db, "rot-unreadable")[-1]
    assert entry.details["unreadable"] == 1
    assert entry.details["unreadable_sample"] == [{"record_id": damaged, "field": "child_name"}]


def test_retiring_waits_for_writers_that_chose_the_old_key(db: Engine, keyring: Keyring) -> None:
    names = _store(db, keyring, "rot-late", 5)
    late_writer = FieldCipher(Keyring(keyring.key_dir))
    late_writer.keyring.current_version("rot-late")  # chose version 1 before the rotation
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        # While rotation waits, a slow import commits a value it encrypted under version 1.
        with session_scope(db) as session:
            (record_id,) = make_records(session, "rot-late", 1)
            version, blob = late_writer.encrypt(
                "rot-late", record_id, "child_name", "Late Child", version=1
            )
            session.add(
                ProtectedValue(
                    record_id=record_id,
                    field="child_name",
                    organisation="rot-late",
                    purpose="case_management",
                    key_version=version,
                    ciphertext=blob,
                    created_at=keyring.versions("rot-late")[0].created_at,
                    created_by="slow-import",
                )
            )
        names[record_id] = "Late Child"

    report = rotate_keys(
        db,
        keyring,
        "rot-late",
        actor="x",
        audit=AUDIT,
        retire_old=True,
        retire_grace=timedelta(minutes=5),
        sleep=sleep,
    )
    assert len(waits) == 1
    assert 250 < waits[0] <= 300
    assert report.reencrypted == 6  # five, then the late one
    assert report.retired == [1]
    assert _versions(db, "rot-late") == {2: 6}
    assert _read_all(db, keyring, "rot-late") == names


def test_rotation_without_keys(db: Engine, keyring: Keyring, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="nothing to rotate"):
        rotate_keys(db, keyring, "rot-nothing", actor="x", audit=AUDIT)
    _store(db, keyring, "rot-lost", 2)
    lost = Keyring(tmp_path / "empty-key-dir")
    with pytest.raises(ConfigurationError, match=r"2 protected values .* dek-rot-lost\.json"):
        rotate_keys(db, lost, "rot-lost", actor="x", audit=AUDIT)
    assert not lost.exists("rot-lost")


def test_key_usage_counts_values_per_version(db: Engine, keyring: Keyring, tmp_path: Path) -> None:
    _store(db, keyring, "rot-usage", 4)
    rotate_keys(db, keyring, "rot-usage", actor="x", audit=AUDIT)
    _store(db, keyring, "rot-usage", 1)
    with session_scope(db) as session:
        usage = key_usage(session, keyring, "rot-usage")
        missing = key_usage(session, Keyring(tmp_path / "other"), "rot-usage")
    assert [(u.version, u.current, u.values, u.in_keyring) for u in usage] == [
        (1, False, 0, True),
        (2, True, 5, True),
    ]
    assert [(u.version, u.in_keyring, u.values) for u in missing] == [(2, False, 5)]
