"""``concord retention``: rules, add, remove, and run (with --dry-run and --today)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select

from concord.cli.common import migrated_engine
from concord.db import session_scope
from concord.db.models import AuditEntry, IngestBatch, Record

RunCli = Callable[..., tuple[int, str, str]]


def _records(engine: Engine, org: str, *received: date) -> None:
    with session_scope(engine) as session:
        batch = IngestBatch(
            source_org=org,
            mapping_version="1",
            mapping_sha256="0" * 64,
            vocabulary_version="1",
            file_name="partner.csv",
            file_sha256=org.ljust(64, "0"),
            file_bytes=1,
            imported_by="test",
            started_at=datetime(2024, 1, 1, tzinfo=UTC),
            status="done",
        )
        session.add(batch)
        session.flush()
        for number, day in enumerate(received):
            session.add(
                Record(
                    batch_id=batch.id,
                    source_org=org,
                    source_key=f"{org}-{number}",
                    subject_key=f"child-{number}",
                    received_date=day,
                    occurred_date=day,
                    subnational_area="Mombasa",
                )
            )


def _count(engine: Engine, *where: object) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Record).where(*where)) or 0


def test_add_list_and_remove_rules(run_cli: RunCli) -> None:
    code, out, _ = run_cli("retention", "rules")
    assert code == 0
    assert "No retention rules" in out

    _records(migrated_engine(), "hotline-a", date(2024, 1, 1))
    code, out, err = run_cli(
        "retention", "add", "--dataset", "records", "--keep-days", "365",
        "--action", "anonymise", "--org", "hotline-a",
    )  # fmt: skip
    assert code == 0, err
    assert "Added retention rule 1: anonymise records of hotline-a after 365 days" in out

    code, out, _ = run_cli("retention", "rules")
    assert code == 0
    assert "hotline-a" in out
    assert "anonymise" in out
    assert "(any)" in out

    code, out, _ = run_cli("retention", "remove", "1")
    assert code == 0
    assert "Removed retention rule 1" in out
    assert "No retention rules" in run_cli("retention", "rules")[1]
    with session_scope(migrated_engine()) as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions == ["retention_rule.create", "retention_rule.remove"]


def test_invalid_rules_and_unknown_ids_are_refused(run_cli: RunCli) -> None:
    code, _, err = run_cli(
        "retention", "add", "--dataset", "protected_values", "--keep-days", "30",
        "--action", "anonymise",
    )  # fmt: skip
    assert code == 2
    assert "can only be deleted" in err

    code, _, err = run_cli(
        "retention", "add", "--dataset", "cases", "--keep-days", "30", "--action", "delete"
    )
    assert code == 2
    assert "unknown dataset 'cases'" in err

    code, _, err = run_cli(
        "retention", "add", "--dataset", "records", "--keep-days", "0", "--action", "delete"
    )
    assert code == 2
    assert "from 1 to" in err

    code, _, err = run_cli("retention", "remove", "42")
    assert code == 2
    assert "no retention rule 42" in err


def test_run_dry_run_then_for_real(run_cli: RunCli) -> None:
    engine = migrated_engine()
    _records(engine, "hotline-a", date(2024, 5, 31), date(2024, 5, 30), date(2023, 1, 1))
    _records(engine, "hotline-b", date(2023, 1, 1))
    for args in (
        ("--dataset", "records", "--keep-days", "30", "--action", "anonymise"),
        ("--dataset", "records", "--keep-days", "365", "--action", "delete", "--org", "hotline-a"),
    ):
        assert run_cli("retention", "add", *args)[0] == 0

    code, out, err = run_cli("retention", "run", "--dry-run", "--today", "2024-06-30")
    assert code == 0, err
    assert "dry run for 2024-06-30: nothing was changed" in out
    assert "Would delete 1 row and anonymise 2." in out
    assert "2023-07-01" in out  # the delete rule's cutoff
    assert _count(engine) == 4
    assert _count(engine, Record.subject_key.is_(None)) == 0

    code, out, err = run_cli("retention", "run", "--today", "2024-06-30")
    assert code == 0, err
    assert "Retention run for 2024-06-30" in out
    assert "Deleted 1 row, anonymised 2." in out
    assert "1 record, 0 record_concept, 0 protected_value" in out
    assert _count(engine) == 3
    # hotline-a's record received on 2024-05-31 is exactly 30 days old: kept as it was.
    assert _count(engine, Record.subject_key.is_not(None)) == 1
    with session_scope(engine) as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("retention.%")))
        )
    assert sorted(actions) == ["retention.anonymise", "retention.delete"]


def test_run_without_rules_and_into_the_future(run_cli: RunCli) -> None:
    code, out, _ = run_cli("retention", "run")
    assert code == 0
    assert "No retention rules" in out

    future = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    code, _, err = run_cli("retention", "run", "--today", future)
    assert code == 2
    assert "only a dry run may look ahead" in err
    assert run_cli("retention", "run", "--today", future, "--dry-run")[0] == 0

    code, _, err = run_cli("retention", "run", "--today", "30/06/2024")
    assert code == 2
    assert "--today" in err
