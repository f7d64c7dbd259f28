"""``concord release plan|run|list|show|bundle|revoke`` from a shell, on synthetic records."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "agreements" / "hotline-es-to-hub.yaml"
Run = Callable[..., tuple[int, str, str]]
ORG, HUB = "hotline-es", "regional-hub"


@pytest.fixture
def node(run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both parties, their administrators, a trained steward, records, the agreement in force."""
    monkeypatch.setenv("CONCORD_NEW_PASSWORD", "a long pass phrase 42")
    monkeypatch.setenv("CONCORD_BUNDLE_DIR", str(tmp_path / "bundles"))
    for org, admin in ((ORG, "ana"), (HUB, "hugo")):
        assert run_cli("admin", "org", "add", org, "--name", org.upper())[0] == 0
        assert run_cli("admin", "purpose", "allow", "--org", org, "statistics")[0] == 0
        assert (
            run_cli("admin", "user", "add", admin, "--org", org, "--role", "administrator")[0] == 0
        )
    assert run_cli("admin", "user", "add", "sara", "--org", ORG, "--role", "data_steward")[0] == 0
    today = datetime.now(UTC).date()
    for course in ("data_protection", "child_safeguarding"):
        code, _, err = run_cli(
            "admin", "training", "sara", "--course", course, "--issuer", "Academy",
            "--completed", str(today - timedelta(days=30)),
            "--expires", str(today + timedelta(days=300)),
        )  # fmt: skip
        assert code == 0, err
    data = tmp_path / "data"
    assert run_cli("synth", str(data), "--rows", "600", "--org", ORG)[0] == 0
    code, _, err = run_cli(
        "ingest", str(data / f"{ORG}.csv"), "--mapping", str(data / f"{ORG}.mapping.yaml")
    )
    assert code == 0, err
    assert run_cli("agreement", "import", str(EXAMPLE))[0] == 0
    for org, admin in ((ORG, "ana"), (HUB, "hugo")):
        code, _, err = run_cli(
            "agreement", "approve", "hotline-es-to-hub", "--version", "1", "--org", org,
            "--by", admin,
        )  # fmt: skip
        assert code == 0, err


RELEASE = ("--agreement", "hotline-es-to-hub", "--period", "2026-08", "--by", "sara")


def test_plan_run_bundle_show_and_revoke(run_cli: Run, node: None, tmp_path: Path) -> None:
    code, out, err = run_cli("release", "plan", *RELEASE, "--cells", "5")
    assert code == 0, err
    assert "Policy decision" in out and "deny" not in out
    assert "Risk report" in out and "few_sources" in out
    code, out, _ = run_cli("release", "plan", *RELEASE, "--json")
    plan = json.loads(out)
    assert plan["allowed"] is True
    for table in plan["tables"]:  # nothing below the agreement's min_cell of 10 is published
        for cell in table["cells"]:
            assert cell[-1] in ("published", "suppressed")
            assert cell[-2] is None or cell[-2] == 0 or cell[-2] >= 10

    code, out, err = run_cli("release", "run", *RELEASE)
    assert code == 0, err
    release_id = re.search(r"Released ([0-9a-f-]{36})", out)[1]  # type: ignore[index]
    assert "No signing key on this node" in out
    assert run_cli("federation", "key", "create", "--node", ORG)[0] == 0
    code, out, err = run_cli("release", "bundle", release_id)
    assert code == 0, err
    assert (tmp_path / "bundles" / f"{release_id}.zip").is_file()

    code, out, _ = run_cli("release", "list")
    assert release_id in out and "released" in out
    code, out, _ = run_cli("release", "show", release_id, "--json")
    shown = json.loads(out)
    assert shown["status"] == "released" and shown["period"] == "2026-08"
    assert all(rule["allowed"] for rule in shown["decision"])

    code, _, err = run_cli("release", "revoke", release_id, "--reason", " ", "--by", "sara")
    assert code != 0 and "why" in err
    code, out, err = run_cli(
        "release", "revoke", release_id, "--reason", "wrong file", "--by", "sara"
    )
    assert code == 0, err
    assert "Revoked" in out


def test_a_denied_release_says_why_and_a_refused_run_fails(run_cli: Run, node: None) -> None:
    future = ("--agreement", "hotline-es-to-hub", "--period", "2099-01", "--by", "sara")
    code, out, _ = run_cli("release", "plan", *future)
    assert code == 0 and "Denied" in out and "period_within_validity" in out
    code, out, _ = run_cli("release", "run", *future)
    assert code == 1 and "Refused" in out
    code, _, err = run_cli("release", "plan", *RELEASE[:4], "--by", "nobody")
    assert code != 0 and "no user 'nobody'" in err
    code, _, err = run_cli("release", "plan", *RELEASE, "--table", ":country")
    assert code != 0 and "INDICATOR:DIM" in err
    code, _, err = run_cli("release", "show", "no-such-release")
    assert code != 0 and "no release" in err
