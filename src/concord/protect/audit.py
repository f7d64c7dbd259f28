"""The tamper-evident audit trail: append an event, verify the chain.

Every entry's ``hash`` is an HMAC-SHA256, under the node's audit key, of the entry's canonical
JSON, which includes ``seq`` and the previous entry's hash. Hence:

* editing any field of an entry changes its hash → the entry no longer verifies;
* deleting or swapping entries leaves a gap in ``seq`` or a ``prev_hash`` that does not match;
* someone who can write to the database but cannot read the key directory cannot forge a
  consistent chain (a plain SHA-256 chain could simply be recomputed after an edit);
* deleting the newest entries is caught by comparing with a head you noted earlier
  (``concord audit verify --expect-head SEQ:HASH``), which verify prints every time.

Events are appended inside the caller's transaction, so an action and its audit entry commit or
roll back together. Details must never contain identifying values (names, contacts): callers
pass pseudonyms, ids, counts and filters only.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Row, String, func, select, text, type_coerce
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry
from concord.errors import InputError
from concord.moments import as_utc
from concord.protect.keyfiles import load_or_create_secret

GENESIS_HASH = "0" * 64
#: PostgreSQL advisory lock id serialising appends (any constant, unique to the audit chain).
_PG_LOCK_ID = 0x434F4E43  # "CONC"
_HEAD_PATTERN = re.compile(r"(\d+):([0-9a-f]{64})")


class AuditFields(Protocol):
    """What an entry's hash covers; :class:`AuditEntry` and verify's raw rows both have it."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def organisation(self) -> str | None: ...
    @property
    def purpose(self) -> str | None: ...
    @property
    def target(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def prev_hash(self) -> str: ...


def _utc_naive(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes, PostgreSQL aware ones: hash the same form for both."""
    return as_utc(moment).replace(tzinfo=None)


def canonical_content(entry: AuditFields) -> bytes:
    """The bytes an entry's hash covers (everything but the hash itself)."""
    body = {
        "seq": entry.seq,
        "at": _utc_naive(entry.at).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "organisation": entry.organisation,
        "purpose": entry.purpose,
        "target": entry.target,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _json_native(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """Details exactly as the JSON column will give them back (dates become strings)."""
    result: dict[str, Any] = json.loads(json.dumps(dict(details or {}), default=str))
    return result


def format_head(seq: int, digest: str) -> str:
    """A head as operators note it and pass it back: ``SEQ:HASH``."""
    return f"{seq}:{digest}"


def parse_head(value: str) -> tuple[int, str]:
    """Read a head noted earlier (``SEQ:HASH``, as verify prints it)."""
    match = _HEAD_PATTERN.fullmatch(value.strip().lower())
    if match is None:
        raise InputError(
            f"{value!r} is not an audit head: expected SEQ:HASH as `concord audit verify` "
            "prints it (a number, a colon and 64 hexadecimal characters)"
        )
    head = (int(match.group(1)), match.group(2))
    _check_expected_head(head)
    return head


def _check_expected_head(head: tuple[int, str]) -> None:
    seq, digest = head
    if seq < 0 or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise InputError(
            f"{format_head(seq, digest)!r} is not an audit head: the sequence number must not "
            "be negative and the hash must be 64 lowercase hexadecimal characters"
        )
    if seq == 0 and digest != GENESIS_HASH:
        raise InputError("the head of an empty audit trail is 0 with a hash of 64 zeros")


@dataclass(frozen=True)
class ChainBreak:
    """The first place at which the chain does not verify, and why.

    ``seq`` is the lowest sequence number that is missing, altered or out of place: every entry
    before it verifies, so an investigation starts there.
    """

    seq: int
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    """What verify checked: ``head_seq``/``head_hash`` are the last entry that verified."""

    entries: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def head(self) -> str:
        """The verified head as ``SEQ:HASH``, to note and pass to a later verify."""
        return format_head(self.head_seq, self.head_hash)


@dataclass(frozen=True)
class _StoredEntry:
    """An entry exactly as the database holds it, read without the ORM.

    Why not ORM objects: the session's identity map would hand back the objects it already
    holds, not what is stored now, so an edit made behind the ORM's back (raw SQL, another
    process) could go unseen inside the same session.
    """

    seq: int
    at: datetime
    actor: str
    action: str
    organisation: str | None
    purpose: str | None
    target: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditTrail:
    """Appends to and verifies the chain with the node's audit key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> AuditTrail:
        return cls(load_or_create_secret(key_dir / "audit.key"))

    def digest(self, entry: AuditFields) -> str:
        return hmac.digest(self._key, canonical_content(entry), "sha256").hex()

    def record(
        self,
        session: Session,
        *,
        actor: str,
        action: str,
        organisation: str | None = None,
        purpose: str | None = None,
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        """Append one event to the chain, in ``session``'s transaction."""
        if session.get_bind().dialect.name == "postgresql":
            # Serialise appenders: two transactions must not both extend the same head.
            session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        head = session.execute(
            select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
        ).first()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        entry = AuditEntry(
            seq=seq,
            at=_utc_naive(at or datetime.now(UTC)).replace(tzinfo=UTC),
            actor=actor,
            action=action,
            organisation=organisation,
            purpose=purpose,
            target=target,
            details=_json_native(details),
            prev_hash=prev_hash,
        )
        entry.hash = self.digest(entry)
        session.add(entry)
        session.flush()
        return entry

    def verify(
        self,
        session: Session,
        *,
        batch_size: int = 5000,
        expect_head: tuple[int, str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> VerifyResult:
        """Walk the whole chain in order; report the first entry that does not verify.

        ``expect_head`` is a ``(seq, hash)`` noted from an earlier verify: a chain that verifies
        on its own but is now shorter, or holds another entry at that seq, had its newest
        entries deleted (and perhaps rewritten), which the chain alone cannot show.
        ``progress`` is called with the number of entries checked so far, once per batch.
        """
        if expect_head is not None:
            _check_expected_head(expect_head)
        expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
        for row in _stored_rows(session, batch_size):
            problem = self._check(row, expected_seq, prev_hash, expect_head)
            if problem is not None:
                return VerifyResult(count, expected_seq - 1, prev_hash, problem)
            count += 1
            expected_seq, prev_hash = expected_seq + 1, str(row.hash)
            if progress is not None and count % batch_size == 0:
                progress(count)
        if progress is not None:
            progress(count)
        broken = None
        if expect_head is not None and expect_head[0] > count:
            deleted = (
                f"entry {expect_head[0]} was"
                if expect_head[0] == count + 1
                else f"entries {count + 1} to {expect_head[0]} were"
            )
            broken = ChainBreak(
                count + 1,
                f"the trail ends at entry {count}, but entry {expect_head[0]} was noted as its "
                f"head earlier: {deleted} deleted",
            )
        return VerifyResult(count, count, prev_hash, broken)

    def _check(
        self,
        row: Row[Any],
        expected_seq: int,
        prev_hash: str,
        expect_head: tuple[int, str] | None,
    ) -> ChainBreak | None:
        """Why the stored ``row`` does not continue the chain verified so far, or None."""
        if row.seq != expected_seq:
            # Rows come in seq order and seq is unique, so the expected one is absent.
            return ChainBreak(
                expected_seq,
                f"entry {expected_seq} is missing (the next entry is {row.seq}): "
                "entries were deleted or renumbered",
            )
        if row.prev_hash != prev_hash:
            return ChainBreak(expected_seq, "does not link to the entry before it")
        try:
            entry = _parse_row(row)
        except (TypeError, ValueError) as exc:
            return ChainBreak(expected_seq, f"its stored content cannot be read ({exc})")
        # Compare bytes: a tampered hash may hold characters compare_digest refuses as str.
        if not hmac.compare_digest(
            str(entry.hash).encode(errors="replace"), self.digest(entry).encode()
        ):
            return ChainBreak(expected_seq, "its content was changed after it was written")
        if (
            expect_head is not None
            and expect_head[0] == expected_seq
            and entry.hash != expect_head[1]
        ):
            return ChainBreak(
                expected_seq,
                f"it is not the entry noted as head earlier (hash {expect_head[1][:12]}…): "
                "the newest entries were deleted and others written in their place, or "
                "this is another node's trail",
            )
        return None


def _stored_rows(session: Session, batch_size: int) -> Iterator[Row[Any]]:
    """All entries by ``seq`` as raw rows, a page at a time (keyset pagination, bounded memory).

    ``at`` and ``details`` are read without SQLAlchemy's type processing so that a value an
    attacker wrote in a form the ORM cannot parse is reported as a break, not a crash.
    """
    table = AuditEntry.__table__
    columns = [
        type_coerce(column, String).label(column.name)
        if column.name in ("at", "details")
        else column
        for column in table.c
    ]
    after: int | None = None
    while True:
        query = select(*columns).order_by(table.c.seq).limit(batch_size)
        if after is not None:
            query = query.where(table.c.seq > after)
        page = session.execute(query).all()
        if not page:
            return
        yield from page
        after = page[-1].seq


def _parse_row(row: Row[Any]) -> _StoredEntry:
    """Turn a raw row into the values the hash covers; ValueError/TypeError if unreadable."""
    at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(row.at)
    details = json.loads(row.details) if isinstance(row.details, str | bytes) else row.details
    return _StoredEntry(
        seq=row.seq,
        at=at,
        actor=row.actor,
        action=row.action,
        organisation=row.organisation,
        purpose=row.purpose,
        target=row.target,
        details=details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def entry_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0
