"""The quarantine: list, export for correction, and re-submit corrected rows.

A quarantined row keeps every reason and its original values (identifying columns were never
kept). The steward exports them to CSV, corrects the cells, and re-submits the file with the
same mapping: rows that now pass are stored and their quarantine entries closed; rows that
fail again get fresh entries (with the new reasons) and the old ones are marked superseded, so
there is always exactly one open entry per unresolved row.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from concord.db import session_scope
from concord.db.models import QuarantinedRow
from concord.errors import InputError, NotFoundError
from concord.ingest.mapping import LoadedMapping
from concord.ingest.pipeline import IngestReport, ingest_file
from concord.ingest.store import now
from concord.ingest.transform import ROW
from concord.protect.pseudonyms import PseudonymKeys
from concord.vocab.model import Vocabulary

ID_COLUMN = "quarantine_id"
REASONS_COLUMN = "quarantine_reasons"
ROW_COLUMN = "original_row"
META = (ID_COLUMN, ROW_COLUMN, REASONS_COLUMN)
STATUSES = ("open", "resubmitted", "superseded", "discarded")


@dataclass(frozen=True)
class QuarantinePage:
    rows: list[QuarantinedRow]
    total: int


def list_quarantine(
    session: Session,
    *,
    batch_id: int | None = None,
    source_org: str | None = None,
    status: str | None = "open",
    limit: int = 100,
    offset: int = 0,
    organisations: Sequence[str] | None = None,
) -> QuarantinePage:
    """A page of quarantined rows; ``organisations`` limits them to what the caller may see."""
    if status is not None and status not in STATUSES:
        raise InputError(f"unknown quarantine status {status!r}; one of {', '.join(STATUSES)}")
    stmt = select(QuarantinedRow)
    if batch_id is not None:
        stmt = stmt.where(QuarantinedRow.batch_id == batch_id)
    if source_org is not None:
        stmt = stmt.where(QuarantinedRow.source_org == source_org)
    if organisations is not None:
        stmt = stmt.where(QuarantinedRow.source_org.in_(organisations))
    if status is not None:
        stmt = stmt.where(QuarantinedRow.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(QuarantinedRow.batch_id, QuarantinedRow.row_number)
        .limit(limit)
        .offset(offset)
    )
    return QuarantinePage(list(rows), total)


def quarantine_row_dict(row: QuarantinedRow) -> dict[str, Any]:
    """A quarantined row as plain JSON-able data (for the API and ``--format json``)."""
    return {
        "id": row.id,
        "batch": row.batch_id,
        "source": row.source_org,
        "row": row.row_number,
        "status": row.status,
        "reasons": row.reasons,
        "values": row.values,
    }


def export_quarantine(
    session: Session,
    path: Path,
    *,
    batch_id: int | None = None,
    source_org: str | None = None,
    organisations: Sequence[str] | None = None,
) -> int:
    """Write open quarantined rows to a UTF-8 CSV for correction; returns how many."""
    if batch_id is None and source_org is None:
        raise InputError("say which rows to export: a batch id or an organisation")
    rows = list_quarantine(
        session,
        batch_id=batch_id,
        source_org=source_org,
        status="open",
        limit=10_000_000,
        organisations=organisations,
    ).rows
    orgs = {row.source_org for row in rows}
    if len(orgs) > 1:
        raise InputError("rows of several organisations cannot share one correction file")
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row.values if c not in columns)
    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*META, *columns])
            for row in rows:
                writer.writerow(
                    [
                        row.id,
                        row.row_number,
                        " | ".join(row.reasons),
                        *(_cell(row.values.get(c)) for c in columns),
                    ]
                )
    except OSError as exc:
        raise InputError(f"{path}: cannot write the export ({exc.strerror})") from exc
    return len(rows)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def resubmit(
    engine: Engine,
    path: Path,
    mapping: LoadedMapping,
    vocabulary: Vocabulary,
    *,
    keys: PseudonymKeys,
    imported_by: str = "cli",
) -> IngestReport:
    """Import a corrected export (from :func:`export_quarantine`) and close what now passes."""
    frame = _read_corrections(path)
    ids = dict(zip(frame[ROW].to_list(), frame[ID_COLUMN].cast(pl.Int64).to_list(), strict=True))
    with session_scope(engine) as session:
        known = session.execute(
            select(QuarantinedRow.id, QuarantinedRow.status, QuarantinedRow.source_org).where(
                QuarantinedRow.id.in_(list(ids.values()))
            )
        ).all()
    missing = set(ids.values()) - {row[0] for row in known}
    if missing:
        raise NotFoundError(f"{path}: unknown quarantine id(s) {sorted(missing)[:10]}")
    closed = [row[0] for row in known if row[1] != "open"]
    if closed:
        raise InputError(f"{path}: quarantine id(s) {closed[:10]} were already resolved")
    if {row[2] for row in known} - {mapping.spec.source}:
        raise InputError(f"{path}: these rows are not from {mapping.spec.source}")
    data = frame.drop(ID_COLUMN, REASONS_COLUMN, ROW_COLUMN)
    report = ingest_file(
        engine,
        path,
        mapping,
        vocabulary,
        keys=keys,
        imported_by=imported_by,
        frames=iter([data]),
    )
    if report.already_imported:
        return report
    with session_scope(engine) as session:
        failed_lines = set(
            session.scalars(
                select(QuarantinedRow.row_number).where(QuarantinedRow.batch_id == report.batch_id)
            )
        )
        _close(
            session,
            [i for line, i in ids.items() if line in failed_lines],
            "superseded",
            report.batch_id,
        )
        _close(
            session,
            [i for line, i in ids.items() if line not in failed_lines],
            "resubmitted",
            report.batch_id,
        )
    return report


def _close(session: Session, ids: Sequence[int], status: str, batch_id: int) -> None:
    if ids:
        session.execute(
            update(QuarantinedRow)
            .where(QuarantinedRow.id.in_(list(ids)))
            .values(status=status, resolved_at=now(), resolved_batch_id=batch_id)
        )


def _read_corrections(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not a CSV file exported by `concord quarantine export` "
            f"(save it as CSV UTF-8): {exc}"
        ) from exc
    absent = [c for c in META if c not in frame.columns]
    if absent:
        raise InputError(
            f"{path}: lacks the column(s) {', '.join(absent)} that "
            "`concord quarantine export` writes; keep them when correcting"
        )
    if frame.is_empty():
        raise InputError(f"{path}: has no rows to re-submit")
    # Line numbers of the correction file (header is line 1), so new reasons point into it.
    return frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
