"""``/api/batches``, ``/api/quarantine`` and ``/api/records``: imports and what they produced."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from concord.ingest.batches import batch_summary, get_batch, list_batches
from concord.ingest.quarantine import list_quarantine, quarantine_row_dict
from concord.records.query import RecordFilter, search_records
from concord.web.deps import db_session

router = APIRouter(tags=["records"])
SessionDep = Annotated[Session, Depends(db_session)]
Slug = Annotated[str | None, Query(max_length=128)]


@router.get("/batches", summary="Import batches with their reconciliation")
def batches(session: SessionDep, org: Slug = None) -> list[dict[str, Any]]:
    return [batch_summary(b) for b in list_batches(session, source_org=org)]


@router.get("/batches/{batch_id}", summary="One import batch with its quality report")
def batch(batch_id: int, session: SessionDep) -> dict[str, Any]:
    found = get_batch(session, batch_id)
    return batch_summary(found) | {"quality": found.quality}


@router.get("/quarantine", summary="Quarantined rows with every reason")
def quarantine(
    session: SessionDep,
    batch: int | None = None,
    org: Slug = None,
    status: Annotated[str, Query(max_length=16)] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    page = list_quarantine(
        session,
        batch_id=batch,
        source_org=org,
        status=None if status == "all" else status,
        limit=limit,
        offset=offset,
    )
    return {
        "total": page.total,
        "items": [quarantine_row_dict(r) for r in page.rows],
    }


@router.get("/records", summary="Harmonised records (pseudonymised; no identifying fields)")
def records(
    session: SessionDep,
    org: Slug = None,
    country: Slug = None,
    abuse_type: Slug = None,
    received_from: date | None = None,
    received_to: date | None = None,
    batch: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    where = RecordFilter(org, country, abuse_type, received_from, received_to, batch)
    page = search_records(session, where, limit=limit, offset=offset)
    return {"total": page.total, "limit": limit, "offset": offset, "items": page.items}
