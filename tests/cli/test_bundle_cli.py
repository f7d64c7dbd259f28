"""``concord bundle verify`` and ``concord federation``: keys, nodes, pushes and status."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from concord.cli.common import migrated_engine
from concord.config import get_settings
from concord.db import session_scope
from concord.db.models import Release
from concord.share.bundle import bundle_path, bundle_sha256
from concord.share.signing import load_node_key
from tests.share.federation_setup import ES, TABLE, agreement, bundle, node_key

Run = Callable[..., tuple[int, str, str]]
KEY = node_key(ES)


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    path = tmp_path / "release.zip"
    path.write_bytes(bundle(KEY, agreement(ES), release_id="r-1"))
    return path


def test_verify_with_the_nodes_public_key(run_cli: Run, signed: Path) -> None:
    code, out, _ = run_cli("bundle", "verify", str(signed), "--public-key", KEY.public_key_b64)
    assert code == 0
    assert "node: hotline-es" in out
    assert KEY.key_id in out
    assert "agreement: hotline-es-to-hub v1" in out
    assert "period: 2026-Q3" in out
    assert TABLE in out
    assert "signature valid" in out


def test_a_tampered_bundle_is_refused_with_exit_status_1(
    run_cli: Run, signed: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(signed) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    name = f"data/{TABLE}.csv"
    files[name] = files[name].replace(b"25", b"52")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry, content in files.items():
            archive.writestr(entry, content)
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(buffer.getvalue())
    code, _, err = run_cli("bundle", "verify", str(tampered), "--public-key", KEY.public_key_b64)
    assert code == 1
    assert "refused:" in err
    assert "was altered" in err
    other = node_key(ES).public_key_b64
    code, _, err = run_cli("bundle", "verify", str(signed), "--public-key", other)
    assert code == 1
    assert "not node hotline-es's key" in err


def test_verify_needs_one_key_source(run_cli: Run, signed: Path) -> None:
    code, _, err = run_cli("bundle", "verify", str(signed))
    assert code == 2
    assert "--public-key B64 or --database" in err


def test_verify_against_the_hubs_registry(run_cli: Run, signed: Path) -> None:
    code, _, err = run_cli("bundle", "verify", str(signed), "--database")
    assert code == 1
    assert "'hotline-es' is not registered" in err
    code, out, _ = run_cli(
        "federation", "node", "add", ES, "--public-key", KEY.public_key_b64, "--org", ES
    )
    assert code == 0, out
    assert KEY.key_id in out
    code, out, _ = run_cli("bundle", "verify", str(signed), "--database")
    assert code == 0
    assert "signature valid" in out
    code, out, _ = run_cli("federation", "node", "list")
    assert ES in out and KEY.key_id in out
    code, out, _ = run_cli("federation", "node", "remove", ES)
    assert code == 0
    assert "removed (0 bundle(s) deleted)" in out


def test_key_create_and_show(run_cli: Run) -> None:
    code, _, err = run_cli("federation", "key", "show")
    assert code == 2
    assert "concord federation key create --node <id>" in err
    code, out, _ = run_cli("federation", "key", "create", "--node", ES)
    assert code == 0
    key = load_node_key(get_settings().key_dir)
    assert key.public_key_b64 in out
    assert f"concord federation node add {ES}" in out
    code, _, err = run_cli("federation", "key", "create", "--node", ES)
    assert code == 2
    assert "--overwrite" in err
    code, out, _ = run_cli("federation", "key", "show")
    assert key.key_id in out


def test_push_queues_released_bundles_and_reports_failures(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONCORD_BUNDLE_DIR", str(tmp_path / "bundles"))
    get_settings.cache_clear()
    data = bundle(KEY, agreement(ES), release_id="r-5")
    path = bundle_path(tmp_path / "bundles", "r-5")
    path.parent.mkdir()
    path.write_bytes(data)
    with session_scope(migrated_engine()) as session:
        session.add(
            Release(
                id="r-5",
                agreement_id=f"{ES}-to-hub",
                agreement_version=1,
                provider=ES,
                period="2026-Q3",
                period_start=datetime(2026, 7, 1, tzinfo=UTC).date(),
                period_end=datetime(2026, 9, 30, tzinfo=UTC).date(),
                status="released",
                decision=[],
                risk_report={},
                method={},
                vocabulary_version="1.0.0",
                bundle_sha256=bundle_sha256(data),
                created_by="steward",
                created_at=datetime.now(UTC),
            )
        )
    code, _, err = run_cli("federation", "push")
    assert code == 2
    assert "CONCORD_HUB_URL" in err
    # Port 9 (discard) on loopback: nothing listens, the push fails and is retried later.
    code, out, _ = run_cli("federation", "push", "--hub", "http://127.0.0.1:9")
    assert code == 0, out
    assert "queued 1 bundle(s) and 0 revocation(s)" in out
    assert "retry" in out
    code, out, _ = run_cli("federation", "status")
    assert code == 0
    assert "http://127.0.0.1:9" in out
    assert "ConnectError" in out
