"""`concord admin`: the first administrator, users, roles, training, purposes, tokens, and the
minimisation report — each change audited."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from concord.cli.common import migrated_engine
from concord.db import session_scope
from concord.protect.audit_query import count_audit
from concord.protect.auth import login, principal_for_token
from tests.protect.factories import audit_trail

Run = Callable[..., tuple[int, str, str]]
PASSWORD = "a long pass phrase 42"


@pytest.fixture(autouse=True)
def new_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCORD_NEW_PASSWORD", PASSWORD)


def test_first_admin_then_users_training_purposes_and_a_token(run_cli: Run) -> None:
    code, out, err = run_cli("admin", "create", "root", "--org", "hub", "--org-name", "The Hub")
    assert code == 0, err
    assert "Created node administrator root" in out
    assert run_cli("admin", "org", "add", "ngo-q", "--name", "NGO Q", "--country", "KE")[0] == 0
    assert run_cli("admin", "purpose", "allow", "--org", "ngo-q", "case_management")[0] == 0
    code, out, err = run_cli(
        "admin", "user", "add", "amina", "--org", "ngo-q", "--role", "caseworker", "--name", "Amina"
    )
    assert code == 0, err
    code, out, _ = run_cli(
        "admin",
        "training",
        "amina",
        "--course",
        "data_protection",
        "--issuer",
        "Academy",
        "--completed",
        "2026-01-10",
        "--expires",
        "2027-01-10",
    )
    assert "still missing: no child safeguarding training" in out
    run_cli(
        "admin",
        "training",
        "amina",
        "--course",
        "child_safeguarding",
        "--issuer",
        "Academy",
        "--completed",
        "2026-01-10",
        "--expires",
        "2027-01-10",
    )
    code, out, _ = run_cli("admin", "user", "list", "--org", "ngo-q")
    assert "amina" in out and "caseworker" in out and "current" in out
    code, out, _ = run_cli(
        "admin",
        "token",
        "create",
        "amina",
        "--name",
        "reports",
        "--scope",
        "aggregate.read",
        "--days",
        "30",
    )
    secret = next(line for line in out.splitlines() if line.startswith("cct_"))
    with session_scope(migrated_engine()) as session:
        assert principal_for_token(session, secret).username == "amina"
        login(session, audit_trail(), username="amina", password=PASSWORD)
        assert count_audit(session) > 0
    code, out, _ = run_cli("admin", "org", "list")
    assert "ngo-q" in out and "case_management" in out


def test_clear_errors(run_cli: Run) -> None:
    run_cli("admin", "create", "root", "--org", "hub")
    code, _, err = run_cli("admin", "user", "grant", "nobody", "--org", "hub", "--role", "viewer")
    assert code == 2 and "no user 'nobody'" in err
    code, _, err = run_cli("admin", "user", "add", "bob", "--org", "hub", "--role", "boss")
    assert code == 2 and "unknown role 'boss'" in err
    code, _, err = run_cli(
        "admin",
        "training",
        "root",
        "--course",
        "first_aid",
        "--issuer",
        "x",
        "--completed",
        "2026-01-01",
        "--expires",
        "2027-01-01",
    )
    assert code == 2 and "unknown training" in err
    code, _, err = run_cli(
        "admin",
        "training",
        "root",
        "--course",
        "data_protection",
        "--issuer",
        "x",
        "--completed",
        "yesterday",
        "--expires",
        "2027-01-01",
    )
    assert code == 2 and "not a date" in err


def test_minimisation_report_json(run_cli: Run) -> None:
    run_cli("admin", "create", "root", "--org", "hub")
    code, out, _ = run_cli("admin", "minimisation", "--format", "json")
    assert code == 0 and json.loads(out) == {"held": [], "subject_pseudonyms": {}}
