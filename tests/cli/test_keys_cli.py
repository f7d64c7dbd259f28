"""``concord keys rotate`` and ``concord keys list``."""

from __future__ import annotations

from collections.abc import Callable

from concord.cli.common import migrated_engine
from concord.config import get_settings
from concord.db import session_scope
from concord.db.models import ProtectedValue
from concord.protect.fieldcrypt import FieldCipher, protect_value
from concord.protect.keyring import Keyring
from tests.protect.test_fieldcrypt import make_records

RunCli = Callable[..., tuple[int, str, str]]


def _store(organisation: str, count: int) -> list[int]:
    """Encrypted synthetic names in the CLI's own database and key directory."""
    cipher = FieldCipher(Keyring(get_settings().key_dir))
    engine = migrated_engine()
    with session_scope(engine) as session:
        ids = make_records(session, organisation, count)
        for record_id in ids:
            protect_value(
                session,
                cipher,
                record_id=record_id,
                field="child_name",
                plaintext=f"Synthetic Child {record_id}",
                organisation=organisation,
                purpose="case_management",
                actor="test",
            )
    engine.dispose()
    return ids


def test_list_without_keys(run_cli: RunCli) -> None:
    code, out, _ = run_cli("keys", "list")
    assert code == 0
    assert "No field-encryption keys yet" in out


def test_rotate_then_list(run_cli: RunCli) -> None:
    _store("ngo-ke", 7)
    _store("ngo-my", 2)
    code, out, _ = run_cli("keys", "list")
    assert code == 0
    assert "ngo-ke" in out
    assert "ngo-my" in out
    assert "current" in out

    code, out, err = run_cli(
        "keys", "rotate", "--org", "ngo-ke", "--retire-old", "--grace-seconds", "0"
    )
    assert code == 0, err
    assert "ngo-ke: rotated to key version 2" in out
    assert "re-encrypted" in out
    assert "v1: 7" in out
    assert "versions retired" in out
    assert "Synthetic" not in out

    code, out, _ = run_cli("keys", "list", "--org", "ngo-ke")
    assert code == 0
    rows = [
        [cell.strip() for cell in line.strip("│ ").split("│")]
        for line in out.splitlines()
        if "ngo-ke" in line
    ]
    assert [(row[1], row[3].split()[0], row[4]) for row in rows] == [
        ("1", "retired", "0"),
        ("2", "current", "7"),
    ]
    assert "ngo-my" not in out


def test_rotate_keeps_old_keys_by_default(run_cli: RunCli) -> None:
    _store("ngo-ke", 3)
    code, out, _ = run_cli("keys", "rotate", "--org", "ngo-ke")
    assert code == 0
    assert "v1 (0 values)" in out
    assert Keyring(get_settings().key_dir).dek("ngo-ke", 1)


def test_unreadable_values_are_reported_with_exit_status_1(run_cli: RunCli) -> None:
    first, *_ = _store("ngo-ke", 3)
    engine = migrated_engine()
    with session_scope(engine) as session:
        row = session.get(ProtectedValue, (first, "child_name"))
        assert row is not None
        row.ciphertext = bytes(len(row.ciphertext))
    engine.dispose()
    code, out, _ = run_cli(
        "keys", "rotate", "--org", "ngo-ke", "--retire-old", "--grace-seconds", "0"
    )
    assert code == 1
    assert "1 values could not be decrypted" in out
    assert f"record {first} child_name" in out
    assert "v1 (1 values)" in out


def test_rotate_reports_an_organisation_without_keys(run_cli: RunCli) -> None:
    code, _, err = run_cli("keys", "rotate", "--org", "office-mx")
    assert code == 2
    assert "nothing to rotate" in err
    code, _, err = run_cli("keys", "rotate", "--org", "Not A Slug")
    assert code == 2
    assert "not a valid organisation slug" in err
