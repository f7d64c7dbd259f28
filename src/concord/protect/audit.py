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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry
from concord.protect.keyfiles import load_or_create_secret

GENESIS_HASH = "0" * 64
#: PostgreSQL advisory lock id serialising appends (any constant, unique to the audit chain).
_PG_LOCK_ID = 0x434F4E43  # "CONC"


def _utc_naive(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes, PostgreSQL aware ones: hash the same form for both."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def canonical_content(entry: AuditEntry) -> bytes:
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


@dataclass(frozen=True)
class ChainBreak:
    """The first entry at which the chain does not verify, and why."""

    seq: int
    reason: str


@dataclass(frozen=True)
class VerifyResult:
    entries: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


class AuditTrail:
    """Appends to and verifies the chain with the node's audit key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> AuditTrail:
        return cls(load_or_create_secret(key_dir / "audit.key"))

    def digest(self, entry: AuditEntry) -> str:
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

    def verify(self, session: Session, *, batch_size: int = 5000) -> VerifyResult:
        """Walk the whole chain in order; report the first entry that does not verify."""
        expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
        for entry in _entries_in_order(session, batch_size):
            if entry.seq != expected_seq:
                return VerifyResult(
                    count,
                    expected_seq - 1,
                    prev_hash,
                    ChainBreak(
                        entry.seq,
                        f"expected entry {expected_seq} here: entries are missing or reordered",
                    ),
                )
            if entry.prev_hash != prev_hash:
                return VerifyResult(
                    count,
                    expected_seq - 1,
                    prev_hash,
                    ChainBreak(entry.seq, "does not link to the entry before it"),
                )
            if not hmac.compare_digest(entry.hash, self.digest(entry)):
                return VerifyResult(
                    count,
                    expected_seq - 1,
                    prev_hash,
                    ChainBreak(entry.seq, "its content was changed after it was written"),
                )
            count += 1
            expected_seq, prev_hash = entry.seq + 1, entry.hash
        return VerifyResult(count, expected_seq - 1, prev_hash, None)


def _entries_in_order(session: Session, batch_size: int) -> Iterator[AuditEntry]:
    """All entries by ``seq``, a page at a time (keyset pagination, bounded memory)."""
    after = None
    while True:
        query = select(AuditEntry).order_by(AuditEntry.seq).limit(batch_size)
        if after is not None:
            query = query.where(AuditEntry.seq > after)
        page = list(session.scalars(query))
        if not page:
            return
        yield from page
        after = page[-1].seq
        for entry in page:
            session.expunge(entry)


def entry_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0
