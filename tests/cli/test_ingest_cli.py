"""`concord ingest`, `batches`, `quality` and `quarantine` from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from concord.synth import generate_partners

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def partner(tmp_path: Path) -> tuple[Path, Path]:
    generate_partners(tmp_path / "data", rows_per_org=300, seed=3, organisations=["helpline-fr"])
    folder = tmp_path / "data"
    return folder / "helpline-fr.csv", folder / "helpline-fr.mapping.yaml"


def test_ingest_shows_reconciliation_then_lists_and_exports(
    run_cli: Run, partner: tuple[Path, Path], tmp_path: Path
) -> None:
    data, mapping = partner
    code, out, err = run_cli("ingest", str(data), "--mapping", str(mapping))
    assert code == 0, err
    assert "read = stored + quarantined + duplicates" in out and "yes" in out
    assert "dropped: identifying, and the mapping names no purpose" in out
    code, out, _ = run_cli("ingest", str(data), "--mapping", str(mapping))
    assert "already imported" in out
    code, out, _ = run_cli("batches", "--format", "json")
    batches = json.loads(out)
    assert len(batches) == 1 and batches[0]["rows"]["read"] == 300
    code, out, _ = run_cli("quality", str(batches[0]["id"]), "--format", "json")
    quality = json.loads(out)["quality"]
    assert quality["rows"]["read"] == 300
    assert quality["fields"]["received_date"]["completeness"] == 1.0
    assert quality["fields"]["source_record_key"]["completeness"] == 1.0
    assert "offender_age_band" not in quality["fields"]  # not in this source's mapping spec
    code, out, _ = run_cli("quality", str(batches[0]["id"]))
    assert "completeness" in out
    code, out, _ = run_cli("quarantine", "list", "--format", "json")
    listed = json.loads(out)
    assert listed["total"] == batches[0]["rows"]["quarantined"] > 0
    assert all(row["reasons"] for row in listed["rows"])
    target = tmp_path / "fix.csv"
    code, out, _ = run_cli("quarantine", "export", "--org", "helpline-fr", "-o", str(target))
    assert code == 0 and target.read_text(encoding="utf-8").startswith("quarantine_id,")


def test_ingest_json_output(run_cli: Run, partner: tuple[Path, Path]) -> None:
    data, mapping = partner
    code, out, _ = run_cli("ingest", str(data), "--mapping", str(mapping), "--format", "json")
    assert code == 0
    (report,) = json.loads(out)
    assert report["reconciles"] is True
    assert report["rows"]["read"] == 300


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (b"", "empty"),
        (b"a;b\n1;2\n", "lacks column"),
    ],
)
def test_bad_files_get_a_message_not_a_traceback(
    run_cli: Run, partner: tuple[Path, Path], tmp_path: Path, content: bytes, expected: str
) -> None:
    _, mapping = partner
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    code, _, err = run_cli("ingest", str(bad), "--mapping", str(mapping))
    assert code == 2
    assert expected in err.lower()
    assert "Traceback" not in err


def test_unknown_batch_and_bad_status(run_cli: Run) -> None:
    code, _, err = run_cli("quality", "999")
    assert code == 2 and "no import batch 999" in err
    code, _, err = run_cli("quarantine", "list", "--status", "weird")
    assert code == 2 and "unknown quarantine status" in err
