"""Reading the audit trail: filter, page, count and export entries.

The auditor's web page and ``concord audit list|export`` both call these functions, so a
filter means the same thing everywhere. Reading never touches the chain: verification is
:meth:`concord.protect.audit.AuditTrail.verify`'s job, and an export carries ``prev_hash`` and
``hash`` so that a reader can see how its entries link.

Pages are keyset-paginated on ``seq`` (newest first) rather than by offset alone: the trail
only grows, and an offset would shift under an auditor paging while events are appended.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry
from concord.errors import InputError
from concord.moments import as_utc

ExportFormat = Literal["jsonl", "csv"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)
#: Columns of an export, in order; ``details`` is a JSON object (a JSON string in CSV).
EXPORT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "organisation",
    "purpose",
    "target",
    "details",
    "prev_hash",
    "hash",
)
# Cells a spreadsheet would evaluate as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class AuditFilter(BaseModel):
    """Which entries to show; every field left empty matches everything.

    ``action`` matches the action itself or any action below it in the dotted hierarchy:
    ``consent`` and ``consent.`` both match ``consent.granted``; ``consent.gr`` does not.
    ``since`` is inclusive and ``until`` exclusive, so consecutive periods never overlap;
    naive datetimes are taken as UTC, the time zone the trail is kept in.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str | None = None
    action: str | None = None
    organisation: str | None = None
    purpose: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: An auditor's reach: entries of these organisations and node-wide entries (logins, user
    #: changes) that belong to no organisation. None: everything (the CLI operator).
    visible_to: tuple[str, ...] | None = None

    @field_validator("actor", "action", "organisation", "purpose", "target", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """An empty form field means "any", not "equal to the empty string"."""
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions this filter stands for (all must hold)."""
        found: list[ColumnElement[bool]] = []
        for name in ("actor", "organisation", "purpose", "target"):
            value = getattr(self, name)
            if value is not None:
                found.append(getattr(AuditEntry, name) == value)
        if self.action is not None:
            found.append(_action_matches(self.action))
        if self.since is not None:
            found.append(AuditEntry.at >= as_utc(self.since))
        if self.until is not None:
            found.append(AuditEntry.at < as_utc(self.until))
        if self.visible_to is not None:
            found.append(
                or_(
                    AuditEntry.organisation.in_(self.visible_to),
                    AuditEntry.organisation.is_(None),
                )
            )
        return found


def _action_matches(action: str) -> ColumnElement[bool]:
    """Exact action, or a dotted prefix.

    Why ``substr`` and not ``LIKE``: SQLite's LIKE ignores case and treats ``_`` as a
    wildcard, PostgreSQL's does not ignore case; ``substr`` compares exactly on both.
    """
    prefix = action if action.endswith(".") else action + "."
    starts = func.substr(AuditEntry.action, 1, len(prefix)) == prefix
    if action.endswith("."):
        return starts
    return or_(AuditEntry.action == action, starts)


def _filtered(audit_filter: AuditFilter | None) -> Select[AuditEntry]:
    query = select(AuditEntry)
    if audit_filter is not None:
        query = query.where(*audit_filter.conditions())
    return query


def search_audit(
    session: Session,
    audit_filter: AuditFilter | None = None,
    *,
    limit: int = 50,
    before_seq: int | None = None,
    offset: int = 0,
) -> list[AuditEntry]:
    """Matching entries, newest first.

    For the next page pass the last ``seq`` of this one as ``before_seq`` (keyset pagination:
    stable while entries are appended, and fast however deep an auditor pages). ``offset``
    skips entries after that, for page-number links.
    """
    if limit < 1:
        raise InputError(f"limit must be at least 1 (got {limit})")
    if offset < 0:
        raise InputError(f"offset must not be negative (got {offset})")
    query = _filtered(audit_filter)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    query = query.order_by(AuditEntry.seq.desc()).offset(offset).limit(limit)
    return list(session.scalars(query))


def count_audit(session: Session, audit_filter: AuditFilter | None = None) -> int:
    """How many entries match."""
    query = select(func.count()).select_from(AuditEntry)
    if audit_filter is not None:
        query = query.where(*audit_filter.conditions())
    return session.scalar(query) or 0


def iter_audit(
    session: Session, audit_filter: AuditFilter | None = None, *, batch_size: int = 1000
) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, fetched a page at a time (bounded memory)."""
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1 (got {batch_size})")
    after: int | None = None
    while True:
        query = _filtered(audit_filter)
        if after is not None:
            query = query.where(AuditEntry.seq > after)
        page = list(session.scalars(query.order_by(AuditEntry.seq).limit(batch_size)))
        if not page:
            return
        yield from page
        after = page[-1].seq


def format_at(moment: datetime) -> str:
    """An entry's time as ISO 8601 in UTC, the same on SQLite (naive) and PostgreSQL (aware)."""
    return as_utc(moment).isoformat(timespec="microseconds")


def audit_entry_dict(entry: AuditEntry) -> dict[str, Any]:
    """One entry as JSON-ready data (CLI ``--format json``, API, exports)."""
    return {
        "seq": entry.seq,
        "at": format_at(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "organisation": entry.organisation,
        "purpose": entry.purpose,
        "target": entry.target,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def export_audit(
    session: Session,
    audit_filter: AuditFilter | None,
    out: IO[str] | Path,
    format: str = "jsonl",
) -> int:
    """Write matching entries, oldest first, as JSON Lines or CSV; returns how many.

    Streams page by page, so memory stays flat however long the trail. ``out`` is an open
    text stream (e.g. a web response buffer) or a path, written as UTF-8. In CSV, ``details``
    is a JSON string, and a cell a spreadsheet would run as a formula is prefixed with ``'``
    (use JSON Lines for the exact values).
    """
    if format not in EXPORT_FORMATS:
        raise InputError(
            f"unknown export format {format!r}: use one of {', '.join(EXPORT_FORMATS)}"
        )
    if isinstance(out, Path):
        try:
            with out.open("w", encoding="utf-8", newline="") as handle:
                return _write(session, audit_filter, handle, format)
        except OSError as exc:
            raise InputError(f"{out}: cannot write the export ({exc.strerror})") from exc
    return _write(session, audit_filter, out, format)


def _write(session: Session, audit_filter: AuditFilter | None, out: IO[str], format: str) -> int:
    count = 0
    if format == "csv":
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for entry in iter_audit(session, audit_filter):
            row = audit_entry_dict(entry)
            row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
            writer.writerow([_csv_cell(row[column]) for column in EXPORT_COLUMNS])
            count += 1
        return count
    for entry in iter_audit(session, audit_filter):
        out.write(json.dumps(audit_entry_dict(entry), ensure_ascii=False) + "\n")
        count += 1
    return count


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    cell = str(value)
    return "'" + cell if cell.startswith(_FORMULA_START) else cell
