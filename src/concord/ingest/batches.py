"""Import batches: the provenance of every record (who, when, which file, mapping, vocabulary)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import IngestBatch
from concord.errors import NotFoundError
from concord.ingest.reconciliation import reconciliation


def batch_summary(batch: IngestBatch) -> dict[str, Any]:
    """A batch as plain JSON-able data (without its quality report)."""
    return {
        "id": batch.id,
        "source": batch.source_org,
        "file": batch.file_name,
        "file_sha256": batch.file_sha256,
        "file_bytes": batch.file_bytes,
        "mapping_version": batch.mapping_version,
        "vocabulary_version": batch.vocabulary_version,
        "imported_by": batch.imported_by,
        "started_at": batch.started_at.isoformat(),
        "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
        "status": batch.status,
        "message": batch.message,
        "rows": reconciliation(batch),
        "dropped_identifying_columns": list(batch.dropped_columns),
    }


def list_batches(
    session: Session,
    *,
    source_org: str | None = None,
    organisations: Sequence[str] | None = None,
) -> list[IngestBatch]:
    """Batches, newest first; ``organisations`` limits them to what the caller may see."""
    stmt = select(IngestBatch).order_by(IngestBatch.id.desc())
    if source_org:
        stmt = stmt.where(IngestBatch.source_org == source_org)
    if organisations is not None:
        stmt = stmt.where(IngestBatch.source_org.in_(organisations))
    return list(session.scalars(stmt))


def get_batch(session: Session, batch_id: int) -> IngestBatch:
    batch = session.get(IngestBatch, batch_id)
    if batch is None:
        raise NotFoundError(f"no import batch {batch_id} (see `concord batches`)")
    return batch
