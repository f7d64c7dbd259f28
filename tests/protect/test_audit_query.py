"""Filtering, paging, counting and exporting the audit trail (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry
from concord.errors import InputError
from concord.protect.audit import AuditTrail
from concord.protect.audit_query import (
    EXPORT_COLUMNS,
    AuditFilter,
    audit_entry_dict,
    count_audit,
    export_audit,
    iter_audit,
    search_audit,
)

TRAIL = AuditTrail(b"\x01" * 32)
START = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)

# (actor, action, organisation, purpose, target); entry i happens at START + i hours.
EVENTS = [
    ("anna", "user.login", "helpline-fr", None, None),
    ("anna", "consent.granted", "helpline-fr", "case-management", "child:p1"),
    ("ben", "consent.withdrawn", "helpline-fr", "case-management", "child:p1"),
    ("ben", "consentx.other", "ngo-ke", None, None),
    ("cara", "record.read", "ngo-ke", "statistics", "record:7"),
    ("cara", "retention.purge_run", "ngo-ke", None, None),
    ("anna", "retentionxpurge_run", "helpline-fr", None, None),
    ("ben", "record.decrypt", "helpline-fr", "case-management", "record:7"),
    ("anna", "consent", "helpline-fr", None, "child:p2"),
    ("cara", "user.login", "ngo-ke", None, None),
]


@pytest.fixture
def trail(session: Session) -> Iterator[list[AuditEntry]]:
    """A known trail of ten entries in a savepoint of its own."""
    nested = session.begin_nested()
    session.execute(delete(AuditEntry))
    entries = [
        TRAIL.record(
            session,
            actor=actor,
            action=action,
            organisation=org,
            purpose=purpose,
            target=target,
            details={"i": i, "note": "Zoë"},
            at=START + timedelta(hours=i),
        )
        for i, (actor, action, org, purpose, target) in enumerate(EVENTS)
    ]
    yield entries
    nested.rollback()


def seqs(entries: list[AuditEntry]) -> list[int]:
    return [e.seq for e in entries]


def matching(session: Session, **criteria: object) -> list[int]:
    return seqs(search_audit(session, AuditFilter.model_validate(criteria), limit=100))


def test_everything_newest_first(session: Session, trail: list[AuditEntry]) -> None:
    assert seqs(search_audit(session)) == list(range(10, 0, -1))
    assert count_audit(session) == 10


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"actor": "anna"}, [9, 7, 2, 1]),
        ({"organisation": "ngo-ke"}, [10, 6, 5, 4]),
        ({"purpose": "case-management"}, [8, 3, 2]),
        ({"target": "record:7"}, [8, 5]),
        ({"actor": "anna", "organisation": "helpline-fr", "target": "child:p1"}, [2]),
        ({"actor": "nobody"}, []),
        ({"actor": "", "organisation": "  "}, list(range(10, 0, -1))),
    ],
)
def test_exact_filters_combine(
    session: Session, trail: list[AuditEntry], criteria: dict[str, str], expected: list[int]
) -> None:
    assert matching(session, **criteria) == expected
    assert count_audit(session, AuditFilter.model_validate(criteria)) == len(expected)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("consent", [9, 3, 2]),  # the action itself and those below it, not consentx.*
        ("consent.", [3, 2]),  # only those below it
        ("consent.granted", [2]),
        ("consent.gr", []),  # a dotted prefix, not any prefix
        ("retention.purge_run", [6]),  # "_" is not a wildcard
        ("retention.", [6]),
        ("Consent", []),  # case matters on both databases
        ("user", [10, 1]),
    ],
)
def test_action_matches_itself_or_a_dotted_prefix(
    session: Session, trail: list[AuditEntry], action: str, expected: list[int]
) -> None:
    assert matching(session, action=action) == expected


def test_since_is_inclusive_and_until_exclusive(session: Session, trail: list[AuditEntry]) -> None:
    since, until = START + timedelta(hours=2), START + timedelta(hours=5)
    assert matching(session, since=since, until=until) == [5, 4, 3]
    assert matching(session, since=since) == list(range(10, 2, -1))
    assert matching(session, until=until) == [5, 4, 3, 2, 1]


def test_times_in_other_zones_and_naive_times_mean_the_same_instant(
    session: Session, trail: list[AuditEntry]
) -> None:
    """Naive means UTC; an aware time in another zone is converted, on both databases."""
    naive = datetime(2024, 6, 1, 11, 0)
    paris = datetime(2024, 6, 1, 13, 0, tzinfo=timezone(timedelta(hours=2)))
    assert matching(session, since=naive) == matching(session, since=paris)
    assert matching(session, since=paris)[-1] == 3


def test_keyset_pages_cover_every_entry_once(session: Session, trail: list[AuditEntry]) -> None:
    pages: list[list[int]] = []
    before: int | None = None
    while True:
        page = search_audit(session, limit=3, before_seq=before)
        if not page:
            break
        pages.append(seqs(page))
        before = page[-1].seq
    assert pages == [[10, 9, 8], [7, 6, 5], [4, 3, 2], [1]]


def test_pages_stay_put_while_entries_are_appended(
    session: Session, trail: list[AuditEntry]
) -> None:
    first = search_audit(session, limit=4)
    TRAIL.record(session, actor="dan", action="user.login")
    second = search_audit(session, limit=4, before_seq=first[-1].seq)
    assert seqs(second) == [6, 5, 4, 3]


def test_offset_and_filtered_pages(session: Session, trail: list[AuditEntry]) -> None:
    anna = AuditFilter(actor="anna")
    assert seqs(search_audit(session, anna, limit=2, offset=1)) == [7, 2]
    assert seqs(search_audit(session, anna, limit=2, before_seq=7)) == [2, 1]


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (-1, 0), (5, -1)])
def test_bad_page_arguments_are_refused(session: Session, limit: int, offset: int) -> None:
    with pytest.raises(InputError):
        search_audit(session, limit=limit, offset=offset)


def test_iter_audit_is_oldest_first_across_batches(
    session: Session, trail: list[AuditEntry]
) -> None:
    assert seqs(list(iter_audit(session, batch_size=3))) == list(range(1, 11))
    assert seqs(list(iter_audit(session, AuditFilter(actor="ben"), batch_size=1))) == [3, 4, 8]


def test_export_jsonl_to_a_stream(session: Session, trail: list[AuditEntry]) -> None:
    out = io.StringIO()
    count = export_audit(session, AuditFilter(action="consent"), out, "jsonl")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert count == len(lines) == 3
    assert [line["seq"] for line in lines] == [2, 3, 9]
    assert tuple(lines[0]) == EXPORT_COLUMNS
    assert lines[0]["at"] == "2024-06-01T10:00:00.000000+00:00"
    assert lines[0]["details"] == {"i": 1, "note": "Zoë"}
    assert lines[0]["hash"] == trail[1].hash and lines[1]["prev_hash"] == trail[1].hash
    assert lines == [audit_entry_dict(trail[i - 1]) for i in (2, 3, 9)]


def test_export_csv_to_a_file(session: Session, trail: list[AuditEntry], tmp_path: Path) -> None:
    target = tmp_path / "audit.csv"
    assert export_audit(session, None, target, "csv") == 10
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [int(r["seq"]) for r in rows] == list(range(1, 11))
    assert json.loads(rows[1]["details"]) == {"i": 1, "note": "Zoë"}
    assert rows[0]["purpose"] == ""  # None is an empty cell
    assert rows[1]["target"] == "child:p1"


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(session: Session) -> None:
    nested = session.begin_nested()
    try:
        session.execute(delete(AuditEntry))
        TRAIL.record(session, actor="=HYPERLINK(1)", action="user.login", target="@x")
        out = io.StringIO()
        export_audit(session, None, out, "csv")
        row = next(csv.DictReader(io.StringIO(out.getvalue())))
        assert row["actor"] == "'=HYPERLINK(1)" and row["target"] == "'@x"
    finally:
        nested.rollback()


def test_export_refuses_an_unknown_format_and_an_unwritable_file(
    session: Session, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="unknown export format"):
        export_audit(session, None, io.StringIO(), "xml")
    with pytest.raises(InputError, match="cannot write"):
        export_audit(session, None, tmp_path / "missing" / "audit.jsonl")


def test_filters_are_strict_about_their_fields() -> None:
    with pytest.raises(ValueError, match="extra"):
        AuditFilter.model_validate({"user": "anna"})
    assert AuditFilter(actor=" anna ").actor == "anna"
