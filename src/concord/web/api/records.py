"""``/api/batches``, ``/api/quarantine`` and ``/api/records``: imports and what they produced.

Each route asks the access policy through a :class:`~concord.web.auth.Guard`: batches need
``batch.read``, quarantined rows (original values) ``quarantine.manage``, records
``record.read`` with a stated purpose and current training. Reads of rows are audited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from concord.ingest.batches import batch_summary, get_batch, list_batches
from concord.ingest.quarantine import list_quarantine, quarantine_row_dict
from concord.protect.roles import Permission
from concord.records.query import RecordFilter, search_records
from concord.web.auth import Guard, requires
from concord.web.deps import db_session

router = APIRouter(tags=["records"])
SessionDep = Annotated[Session, Depends(db_session)]
Slug = Annotated[str | None, Query(max_length=128)]
BatchReader = Annotated[Guard, Depends(requires(Permission.BATCH_READ))]
QuarantineManager = Annotated[Guard, Depends(requires(Permission.QUARANTINE_MANAGE))]
RecordReader = Annotated[Guard, Depends(requires(Permission.RECORD_READ))]


@router.get("/batches", summary="Import batches with their reconciliation")
def batches(session: SessionDep, guard: BatchReader, org: Slug = None) -> list[dict[str, Any]]:
    allowed = guard.scope(org)
    return [batch_summary(b) for b in list_batches(session, organisations=allowed)]


@router.get("/batches/{batch_id}", summary="One import batch with its quality report")
def batch(batch_id: int, session: SessionDep, guard: BatchReader) -> dict[str, Any]:
    found = get_batch(session, batch_id)
    guard.check(found.source_org)
    return batch_summary(found) | {"quality": found.quality}


@router.get("/quarantine", summary="Quarantined rows with every reason")
def quarantine(
    session: SessionDep,
    guard: QuarantineManager,
    batch: int | None = None,
    org: Slug = None,
    status: Annotated[str, Query(max_length=16)] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    allowed = guard.scope(org)
    page = list_quarantine(
        session,
        batch_id=batch,
        status=None if status == "all" else status,
        limit=limit,
        offset=offset,
        organisations=allowed,
    )
    guard.audit(
        session,
        "quarantine.read",
        organisation=org,
        details={"batch": batch, "status": status, "rows": len(page.rows), "via": "api"},
    )
    return {"total": page.total, "items": [quarantine_row_dict(r) for r in page.rows]}


@router.get("/records", summary="Harmonised records (pseudonymised; no identifying fields)")
def records(
    session: SessionDep,
    guard: RecordReader,
    org: Slug = None,
    country: Slug = None,
    abuse_type: Slug = None,
    received_from: date | None = None,
    received_to: date | None = None,
    batch: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    allowed = tuple(guard.scope(org))
    where = RecordFilter(
        None, country, abuse_type, received_from, received_to, batch, allowed_orgs=allowed
    )
    page = search_records(session, where, limit=limit, offset=offset)
    guard.audit(
        session,
        "records.read",
        organisation=org,
        details={
            "filter": {"country": country, "abuse_type": abuse_type, "batch": batch},
            "rows": len(page.items),
            "via": "api",
        },
    )
    return {
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "purpose": guard.principal.purpose,
        "items": page.items,
    }
