"""``concord agreement``: import, list, show and approve from a shell."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from concord.share import parse_agreement

EXAMPLE = Path(__file__).parents[2] / "examples" / "agreements" / "hotline-es-to-hub.yaml"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def admins(run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONCORD_NEW_PASSWORD", "a long pass phrase 42")
    for org, username in (("hotline-es", "ana"), ("regional-hub", "hugo")):
        assert run_cli("admin", "org", "add", org, "--name", org.upper())[0] == 0
        code, _, err = run_cli(
            "admin", "user", "add", username, "--org", org, "--role", "administrator"
        )
        assert code == 0, err


def test_import_list_show_and_approve(run_cli: Run, admins: None) -> None:
    code, out, err = run_cli("agreement", "import", str(EXAMPLE))
    assert code == 0, err
    assert "hotline-es-to-hub v1: draft" in out
    assert "hotline-es, regional-hub" in out

    code, out, _ = run_cli("agreement", "list")
    assert code == 0
    assert "hotline-es-to-hub" in out
    assert "draft" in out

    code, out, _ = run_cli("agreement", "show", "hotline-es-to-hub")
    assert code == 0
    original = parse_agreement(EXAMPLE.read_text(encoding="utf-8"), source="example")
    assert parse_agreement(out, source="shown") == original

    code, out, err = run_cli(
        "agreement", "approve", "hotline-es-to-hub", "--version", "1", "--org", "hotline-es",
        "--by", "ana",
    )  # fmt: skip
    assert code == 0, err
    assert "waiting for regional-hub" in out
    code, out, err = run_cli(
        "agreement", "approve", "hotline-es-to-hub", "--version", "1", "--org", "regional-hub",
        "--by", "hugo",
    )  # fmt: skip
    assert code == 0, err
    assert "is in force" in out

    code, out, _ = run_cli(
        "agreement", "show", "hotline-es-to-hub", "--version", "1", "--format", "json"
    )
    shown = json.loads(out)
    assert shown["status"] in ("in_force", "expired")
    assert shown["approved_by"] == {"hotline-es": "ana", "regional-hub": "hugo"}


def test_errors_are_one_line_messages(run_cli: Run, admins: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 0\n", encoding="utf-8")
    code, _, err = run_cli("agreement", "import", str(bad))
    assert code == 2
    assert "the agreement has" in err
    assert "version" in err

    assert run_cli("agreement", "import", str(EXAMPLE))[0] == 0
    code, _, err = run_cli(
        "agreement", "approve", "hotline-es-to-hub", "--version", "1", "--org", "hotline-es",
        "--by", "hugo",
    )  # fmt: skip
    assert code != 0
    assert "only an active administrator" in err

    code, _, err = run_cli("agreement", "show", "nope")
    assert code != 0
    assert "no agreement 'nope'" in err
    code, _, err = run_cli("agreement", "show", "hotline-es-to-hub", "--format", "xml")
    assert code != 0


def test_list_when_empty(run_cli: Run) -> None:
    code, out, _ = run_cli("agreement", "list")
    assert code == 0
    assert "No agreements yet" in out
