"""The audit chain: what verifies, and that any single tampering is found and named.

Runs on SQLite and PostgreSQL (``session`` fixture). Tampering goes through SQL, not the ORM,
as an attacker with database access but without the key directory would do it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry
from concord.errors import InputError
from concord.protect.audit import GENESIS_HASH, AuditTrail, parse_head

TRAIL = AuditTrail(b"\x01" * 32)
TABLE = AuditEntry.__table__

# Text a database column can hold: no NUL (PostgreSQL refuses it), no lone surrogates (not UTF-8).
texts = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
)
names = texts.filter(bool)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
details_strategy = st.dictionaries(texts, json_values, max_size=4)
moments = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    )
    | st.none(),
)
events = st.fixed_dictionaries(
    {
        "actor": names,
        "action": names,
        "organisation": st.none() | texts,
        "purpose": st.none() | texts,
        "target": st.none() | texts,
        "details": details_strategy,
        "at": moments,
    }
)
hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@contextmanager
def empty_trail(session: Session) -> Iterator[None]:
    """A savepoint with an empty audit table, rolled back afterwards (one per example)."""
    nested = session.begin_nested()
    try:
        session.execute(delete(AuditEntry))
        yield
    finally:
        nested.rollback()


def record_events(session: Session, count: int, trail: AuditTrail = TRAIL) -> list[AuditEntry]:
    return [
        trail.record(
            session,
            actor=f"user-{i % 3}",
            action="record.read" if i % 2 else "consent.granted",
            organisation="helpline-fr",
            purpose="case-management",
            target=f"record:{i}",
            details={"rows": i},
        )
        for i in range(1, count + 1)
    ]


def set_column(session: Session, at_seq: int, **values: Any) -> None:
    session.execute(update(TABLE).where(TABLE.c.seq == at_seq).values(**values))


def delete_seq(session: Session, seq: int) -> None:
    session.execute(delete(TABLE).where(TABLE.c.seq == seq))


def renumber(session: Session, old: int, new: int) -> None:
    set_column(session, old, seq=new)


@dataclass(frozen=True)
class Tampering:
    """What was done, the seq verify must name, and whether the old head is needed to see it."""

    description: str
    broken_seq: int
    needs_head: bool = False


FIELDS = (
    "actor",
    "action",
    "details",
    "at",
    "target",
    "organisation",
    "purpose",
    "prev_hash",
    "hash",
)


def _changed_value(data: st.DataObject, field: str, old: Any) -> Any:
    """A new value for ``field`` whose canonical form differs from ``old`` (no filters to miss)."""
    if field == "at":
        shift = data.draw(
            st.integers(min_value=1, max_value=10**12) | st.integers(-(10**12), -1),
            label="shift µs",
        )
        return old + timedelta(microseconds=shift)
    if field == "details":
        new = data.draw(details_strategy, label="details")
        if new == old:
            new = {} if old.get("x") == 1 else {**old, "x": 1}
        return new
    if field in ("prev_hash", "hash"):
        return data.draw(hex64.filter(lambda h: h != old), label=field)
    if old is not None and field not in ("actor", "action") and data.draw(st.booleans()):
        return None
    return (old or "") + data.draw(names, label="appended")


KINDS = (*FIELDS, "delete", "renumber after delete", "swap")


def tamper(session: Session, data: st.DataObject, chain: list[AuditEntry], kind: str) -> Tampering:
    """Apply one tampering of ``kind`` to the stored chain and say where verify must break."""
    n = len(chain)
    k = data.draw(st.integers(min_value=1, max_value=n), label="seq")
    if kind in FIELDS:
        stored = session.execute(select(TABLE).where(TABLE.c.seq == k)).one()
        set_column(session, k, **{kind: _changed_value(data, kind, getattr(stored, kind))})
        return Tampering(f"changed {kind} of {k}", k)
    if kind == "delete":
        delete_seq(session, k)
        return Tampering(f"deleted {k}", k, needs_head=k == n)
    if kind == "renumber after delete":
        delete_seq(session, k)
        for seq in range(k + 1, n + 1):
            renumber(session, seq, seq - 1)
        return Tampering(f"deleted {k} and renumbered the rest", k, needs_head=k == n)
    j = data.draw(st.sampled_from([s for s in range(1, n + 1) if s != k]), label="other seq")
    renumber(session, k, -1)
    renumber(session, j, k)
    renumber(session, -1, j)
    return Tampering(f"swapped {k} and {j}", min(k, j))


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chain_events=st.lists(events, min_size=1, max_size=6), data=st.data())
def test_any_single_tampering_is_detected_and_named(
    session: Session, kind: str, chain_events: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Change any field of any entry, delete one, renumber, swap: verify names the first seq.

    One parameter per kind of tampering so that each is tried on many random chains (a single
    random choice among them would leave some barely tried).
    """
    assume(kind != "swap" or len(chain_events) > 1)
    with empty_trail(session):
        chain = [TRAIL.record(session, **event) for event in chain_events]
        head = (chain[-1].seq, chain[-1].hash)
        assert TRAIL.verify(session, expect_head=head).ok
        done = tamper(session, data, chain, kind)
        result = TRAIL.verify(session, expect_head=head if done.needs_head else None)
        assert result.broken is not None, done.description
        assert result.broken.seq == done.broken_seq, (done.description, result.broken)
        # Everything before the break still verifies, and verify says up to where.
        assert result.head_seq == result.entries == done.broken_seq - 1
        if result.head_seq:
            assert result.head_hash == chain[result.head_seq - 1].hash


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chain_events=st.lists(events, min_size=1, max_size=6))
def test_any_chain_verifies_after_a_round_trip(
    session: Session, chain_events: list[dict[str, Any]]
) -> None:
    """Whatever the content, what the database gives back hashes as it did when written."""
    with empty_trail(session):
        chain = [TRAIL.record(session, **event) for event in chain_events]
        result = TRAIL.verify(session)
        assert result.ok, result.broken
        assert (result.entries, result.head_seq, result.head_hash) == (
            len(chain),
            len(chain),
            chain[-1].hash,
        )


def test_a_chain_of_many_entries_verifies_across_batches(session: Session) -> None:
    with empty_trail(session):
        chain = record_events(session, 23)
        seen: list[int] = []
        result = TRAIL.verify(session, batch_size=5, progress=seen.append)
        assert result.ok
        assert (result.entries, result.head_seq, result.head_hash) == (23, 23, chain[-1].hash)
        assert result.head == f"23:{chain[-1].hash}"
        assert seen == [5, 10, 15, 20, 23]
        assert [e.seq for e in chain] == list(range(1, 24))
        assert chain[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in pairwise(chain))


def test_an_empty_trail_verifies(session: Session) -> None:
    with empty_trail(session):
        result = TRAIL.verify(session)
        assert result.ok and result.entries == 0
        assert result.head == f"0:{GENESIS_HASH}"
        assert TRAIL.verify(session, expect_head=(0, GENESIS_HASH)).ok


def test_raw_sql_update_is_detected_in_the_same_session(session: Session) -> None:
    """An edit behind the ORM's back is seen even though the session holds the old objects."""
    with empty_trail(session):
        record_events(session, 5)
        session.execute(text("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 3"))
        result = TRAIL.verify(session)
        assert result.broken is not None
        assert result.broken.seq == 3
        assert "changed" in result.broken.reason
        assert result.head_seq == 2


def test_raw_sql_delete_names_the_missing_entry(session: Session) -> None:
    with empty_trail(session):
        record_events(session, 5)
        session.execute(text("DELETE FROM audit_entry WHERE seq = 2"))
        result = TRAIL.verify(session)
        assert result.broken is not None
        assert result.broken.seq == 2
        assert "missing" in result.broken.reason


def test_an_attacker_recomputing_hashes_without_the_key_is_detected(session: Session) -> None:
    """Rewriting an entry and recomputing its hash needs the key; any other key fails."""
    with empty_trail(session):
        record_events(session, 3)
        stored = session.execute(select(TABLE).where(TABLE.c.seq == 2)).one()._asdict()
        forged = AuditEntry(**{**stored, "actor": "someone-else"})
        set_column(session, 2, actor="someone-else", hash=AuditTrail(b"\x02" * 32).digest(forged))
        result = TRAIL.verify(session)
        assert result.broken is not None and result.broken.seq == 2


def test_a_chain_verified_with_another_key_fails_at_the_first_entry(session: Session) -> None:
    with empty_trail(session):
        record_events(session, 4)
        result = AuditTrail(b"\x02" * 32).verify(session)
        assert result.broken is not None
        assert result.broken.seq == 1 and result.entries == 0


def test_details_round_trip_dates_and_non_ascii(session: Session) -> None:
    with empty_trail(session):
        details = {
            "since": date(2024, 2, 29),
            "at": datetime(2024, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2))),
            "amount": Decimal("1.50"),
            "names": ["Zoë", "東京", "مرحبا", "🚸"],
            "nested": {"ключ": [1, 2.5, None, True]},
        }
        entry = TRAIL.record(
            session,
            actor="анна",
            action="record.read",
            organisation="helpline-ß",
            target="record:é",
            details=details,
            at=datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
        )
        session.expire_all()
        stored = session.get(AuditEntry, entry.seq)
        assert stored is not None
        assert stored.details["since"] == "2024-02-29"
        assert stored.details["at"] == "2024-03-01 12:30:00+02:00"
        assert stored.details["amount"] == "1.50"
        assert stored.details["names"][3] == "🚸"
        at = stored.at if stored.at.tzinfo else stored.at.replace(tzinfo=UTC)
        assert at == datetime(2024, 3, 2, 4, 59, 59, 999999, tzinfo=UTC)
        assert TRAIL.verify(session).ok


def test_truncating_the_newest_entries_is_detected_with_the_noted_head(
    session: Session,
) -> None:
    with empty_trail(session):
        chain = record_events(session, 5)
        noted = parse_head(TRAIL.verify(session).head)
        assert noted == (5, chain[-1].hash)
        session.execute(text("DELETE FROM audit_entry WHERE seq >= 4"))
        assert TRAIL.verify(session).ok  # the chain alone cannot show it
        result = TRAIL.verify(session, expect_head=noted)
        assert result.broken is not None
        assert result.broken.seq == 4
        assert "entries 4 to 5 were deleted" in result.broken.reason
        assert result.head_seq == 3


def test_truncation_then_new_entries_is_detected_with_the_noted_head(session: Session) -> None:
    """The application keeps appending after a truncation: the noted head is then replaced."""
    with empty_trail(session):
        chain = record_events(session, 5)
        noted = (5, chain[-1].hash)
        session.execute(text("DELETE FROM audit_entry WHERE seq = 5"))
        session.expunge_all()  # as in the application's next request: a fresh session
        TRAIL.record(session, actor="user-9", action="user.login")
        TRAIL.record(session, actor="user-9", action="user.logout")
        assert TRAIL.verify(session).ok
        result = TRAIL.verify(session, expect_head=noted)
        assert result.broken is not None
        assert result.broken.seq == 5
        assert "noted as head" in result.broken.reason


def test_an_older_or_current_noted_head_verifies(session: Session) -> None:
    with empty_trail(session):
        chain = record_events(session, 5)
        assert TRAIL.verify(session, expect_head=(3, chain[2].hash)).ok
        assert TRAIL.verify(session, expect_head=(5, chain[4].hash)).ok


def test_a_truncated_single_entry_is_named(session: Session) -> None:
    with empty_trail(session):
        chain = record_events(session, 2)
        delete_seq(session, 2)
        result = TRAIL.verify(session, expect_head=(2, chain[1].hash))
        assert result.broken is not None and result.broken.seq == 2
        assert "entry 2 was deleted" in result.broken.reason


@pytest.mark.parametrize(
    "value",
    ["", "5", "5:abc", "x:" + "a" * 64, "-1:" + "a" * 64, "0:" + "a" * 64, "5:" + "g" * 64],
)
def test_a_malformed_head_is_refused(value: str) -> None:
    with pytest.raises(InputError):
        parse_head(value)


def test_a_head_is_read_as_verify_prints_it() -> None:
    assert parse_head(f" 12:{'AB' * 32} ") == (12, "ab" * 32)


def test_verify_refuses_a_malformed_expected_head(session: Session) -> None:
    with pytest.raises(InputError):
        TRAIL.verify(session, expect_head=(3, "not-a-hash"))


def test_a_hash_with_non_ascii_characters_is_a_break_not_a_crash(session: Session) -> None:
    with empty_trail(session):
        record_events(session, 3)
        set_column(session, 2, hash="é" * 64)
        result = TRAIL.verify(session)
        assert result.broken is not None and result.broken.seq == 2


def test_unreadable_stored_values_are_a_break_not_a_crash(session: Session) -> None:
    """SQLite stores any text in any column; what cannot be parsed is reported, not raised."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses text that is not a timestamp or JSON")
    with empty_trail(session):
        record_events(session, 4)
        session.execute(text("UPDATE audit_entry SET at = 'yesterday' WHERE seq = 2"))
        session.execute(text("UPDATE audit_entry SET details = '{not json' WHERE seq = 3"))
        result = TRAIL.verify(session)
        assert result.broken is not None and result.broken.seq == 2
        assert "cannot be read" in result.broken.reason
        session.execute(
            text("UPDATE audit_entry SET at = :at WHERE seq = 2"),
            {"at": "2020-01-01 00:00:00.000000"},
        )
        result = TRAIL.verify(session)
        assert result.broken is not None and result.broken.seq == 2
        assert "changed" in result.broken.reason
