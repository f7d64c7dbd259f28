"""`concord audit verify | list | export` from the command line (SQLite per test)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from concord.cli.common import audit_trail, migrated_engine
from concord.db import session_scope

Run = Callable[..., tuple[int, str, str]]
START = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


def write_entries(count: int) -> list[str]:
    """Append ``count`` entries to the CLI's database and key; returns their hashes."""
    engine = migrated_engine()
    trail = audit_trail()
    try:
        with session_scope(engine) as session:
            return [
                trail.record(
                    session,
                    actor="anna" if i % 2 else "ben",
                    action="consent.granted" if i % 3 == 0 else "record.read",
                    organisation="helpline-fr",
                    target=f"record:{i}",
                    details={"rows": i},
                    at=START + timedelta(days=i),
                ).hash
                for i in range(1, count + 1)
            ]
    finally:
        engine.dispose()


def tamper(statement: str) -> None:
    """Edit the database as an attacker with SQL access (but not the key directory) would."""
    engine = migrated_engine()
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def printed_head(out: str) -> str:
    match = re.search(r"Head: (\d+:[0-9a-f]{64})", out)
    assert match, out
    return match.group(1)


def test_verify_an_empty_trail(run_cli: Run) -> None:
    code, out, err = run_cli("audit", "verify")
    assert code == 0, err
    assert "0 entries verified" in out
    assert printed_head(out) == "0:" + "0" * 64


def test_verify_an_intact_trail_prints_the_head_to_note(run_cli: Run) -> None:
    hashes = write_entries(6)
    code, out, err = run_cli("audit", "verify")
    assert code == 0, err
    assert "intact" in out and "6 entries verified" in out
    assert printed_head(out) == f"6:{hashes[-1]}"
    code, out, _ = run_cli("audit", "verify", "--expect-head", f"6:{hashes[-1]}")
    assert code == 0


def test_an_edit_with_raw_sql_fails_and_names_the_entry(run_cli: Run) -> None:
    write_entries(6)
    tamper("""UPDATE audit_entry SET details = '{"rows": 999}' WHERE seq = 4""")
    code, out, _ = run_cli("audit", "verify")
    assert code == 1
    assert "broken at entry 4" in out and "changed" in out
    assert "3 entries before it verify" in out


def test_a_deleted_entry_fails_and_is_named(run_cli: Run) -> None:
    write_entries(6)
    tamper("DELETE FROM audit_entry WHERE seq = 2")
    code, out, _ = run_cli("audit", "verify", "--format", "json")
    assert code == 1
    result = json.loads(out)
    assert result["ok"] is False and result["broken"]["seq"] == 2
    assert "missing" in result["broken"]["reason"]
    assert result["entries"] == 1


def test_truncation_needs_the_noted_head(run_cli: Run) -> None:
    write_entries(6)
    _, out, _ = run_cli("audit", "verify")
    noted = printed_head(out)
    tamper("DELETE FROM audit_entry WHERE seq > 4")
    code, _, _ = run_cli("audit", "verify")
    assert code == 0  # the chain alone cannot show it
    code, out, _ = run_cli("audit", "verify", "--expect-head", noted)
    assert code == 1
    assert "broken at entry 5" in out and "entries 5 to 6 were deleted" in out


def test_a_malformed_head_is_a_usage_error(run_cli: Run) -> None:
    code, _, err = run_cli("audit", "verify", "--expect-head", "6:nothex")
    assert code == 2
    assert "SEQ:HASH" in err


def test_verify_json_output(run_cli: Run) -> None:
    hashes = write_entries(2)
    code, out, _ = run_cli("audit", "verify", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "ok": True,
        "entries": 2,
        "head": f"2:{hashes[-1]}",
        "broken": None,
    }


def test_list_filters_and_pages(run_cli: Run) -> None:
    write_entries(7)
    code, out, err = run_cli("audit", "list", "--format", "json")
    assert code == 0, err
    listed = json.loads(out)
    assert listed["total"] == 7
    assert [e["seq"] for e in listed["entries"]] == [7, 6, 5, 4, 3, 2, 1]
    _, out, _ = run_cli("audit", "list", "--actor", "anna", "--format", "json")
    assert [e["seq"] for e in json.loads(out)["entries"]] == [7, 5, 3, 1]
    _, out, _ = run_cli("audit", "list", "--action", "consent", "--format", "json")
    assert [e["seq"] for e in json.loads(out)["entries"]] == [6, 3]
    _, out, _ = run_cli(
        "audit", "list", "--since", "2024-06-03", "--until", "2024-06-05", "--format", "json"
    )
    # --until with a bare date includes that day: entries at 06-03, 06-04 and 06-05 09:00.
    assert [e["seq"] for e in json.loads(out)["entries"]] == [4, 3, 2]
    _, out, _ = run_cli("audit", "list", "--org", "ngo-ke", "--format", "json")
    assert json.loads(out) == {"total": 0, "entries": []}
    _, out, _ = run_cli("audit", "list", "--limit", "3", "--before", "5", "--format", "json")
    assert [e["seq"] for e in json.loads(out)["entries"]] == [4, 3, 2]


def test_list_table(run_cli: Run) -> None:
    write_entries(4)
    code, out, _ = run_cli("audit", "list", "--limit", "2")
    assert code == 0
    assert "4 matching entries" in out
    assert "record.read" in out and "consent.granted" in out
    assert "2024-06-05 09:00:00" in out
    assert "Older entries: add --before 3" in out


def test_list_refuses_a_bad_date(run_cli: Run) -> None:
    code, _, err = run_cli("audit", "list", "--since", "last week")
    assert code == 2
    assert "ISO 8601" in err


def test_export_jsonl_and_csv_and_the_export_is_audited(run_cli: Run, tmp_path: Path) -> None:
    write_entries(5)
    target = tmp_path / "audit.jsonl"
    code, out, err = run_cli("audit", "export", "--output", str(target), "--actor", "anna")
    assert code == 0, err
    assert "Wrote 3 audit entries" in out
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [line["seq"] for line in lines] == [1, 3, 5]
    table = tmp_path / "audit.csv"
    code, _, _ = run_cli("audit", "export", "-o", str(table), "--format", "csv")
    assert code == 0
    with table.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6  # the five entries and the first export's own entry
    assert rows[-1]["action"] == "audit.export"
    assert json.loads(rows[-1]["details"]) == {
        "format": "jsonl",
        "entries": 3,
        "filter": {"actor": "anna"},
    }
    code, out, _ = run_cli("audit", "verify")
    assert code == 0 and "7 entries verified" in out


def test_export_refuses_an_unknown_format(run_cli: Run, tmp_path: Path) -> None:
    code, _, err = run_cli("audit", "export", "-o", str(tmp_path / "a.xml"), "--format", "xml")
    assert code == 2
    assert "unknown export format" in err
    assert not (tmp_path / "a.xml").exists()
