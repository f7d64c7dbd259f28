"""Protection pages: the auditor's view of the trail, the minimisation report, and a record's
page where a caseworker may reveal an identifying value kept for the purpose in force.

Revealing is the only way a person sees an identifying value: the policy decides
(``identifying.read``: caseworker, current training, a purpose that justifies identifying
data), the value must have been kept for that same purpose, and the decryption is audited
before the value is shown.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import ProtectedValue, Record
from concord.errors import InputError, NotFoundError, PermissionDeniedError
from concord.protect.audit_query import AuditFilter, count_audit, export_audit, search_audit
from concord.protect.fieldcrypt import FieldCipher, reveal
from concord.protect.keyring import Keyring
from concord.protect.minimisation import minimisation_report
from concord.protect.roles import Permission
from concord.records.fields import SCALAR_FIELDS
from concord.records.query import attach_codes
from concord.web.auth import Guard, audit_trail, requires
from concord.web.deps import db_session
from concord.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
Auditor = Annotated[Guard, Depends(requires(Permission.AUDIT_READ))]
Minimiser = Annotated[Guard, Depends(requires(Permission.MINIMISATION_READ))]
RecordReader = Annotated[Guard, Depends(requires(Permission.RECORD_READ))]
Revealer = Annotated[Guard, Depends(requires(Permission.IDENTIFYING_READ))]
Short = Annotated[str, Query(max_length=128)]
PAGE = 50


def audit_filter_for(
    guard: Guard, actor: str, action: str, org: str, since: str, until: str
) -> AuditFilter:
    """The filter from the form, narrowed to what this auditor may see."""
    if org:
        guard.check(org)
    try:
        return AuditFilter(
            actor=actor,
            action=action,
            organisation=org,
            since=datetime.fromisoformat(since) if since else None,
            until=datetime.fromisoformat(until) if until else None,
            visible_to=tuple(guard.organisations()),
        )
    except ValueError as exc:
        raise InputError("since/until: use dates like 2026-11-01") from exc


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    guard: Auditor,
    actor: Short = "",
    action: Short = "",
    org: Short = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    before: int | None = None,
) -> Response:
    where = audit_filter_for(guard, actor, action, org, since, until)
    entries = search_audit(session, where, limit=PAGE, before_seq=before)
    context = {
        "entries": entries,
        "total": count_audit(session, where),
        "form": {"actor": actor, "action": action, "org": org, "since": since, "until": until},
        "next_before": entries[-1].seq if len(entries) == PAGE else None,
        "organisations": guard.organisations(),
    }
    template = "audit_rows.html" if request.headers.get("HX-Request") else "audit.html"
    return render(request, template, context)


@router.get("/audit/export.{fmt}")
def audit_export(
    session: SessionDep,
    guard: Auditor,
    fmt: str,
    actor: Short = "",
    action: Short = "",
    org: Short = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    if fmt not in ("jsonl", "csv"):
        raise NotFoundError("export as .jsonl or .csv")
    where = audit_filter_for(guard, actor, action, org, since, until)
    buffer = io.StringIO()
    count = export_audit(session, where, buffer, fmt)
    guard.audit(
        session,
        "audit.export",
        organisation=org or None,
        details={"format": fmt, "entries": count, "via": "web"},
    )
    media = "text/csv" if fmt == "csv" else "application/x-ndjson"
    return StreamingResponse(
        iter([buffer.getvalue()]),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="audit.{fmt}"'},
    )


@router.get("/minimisation", response_class=HTMLResponse)
def minimisation_page(request: Request, session: SessionDep, guard: Minimiser) -> Response:
    report = minimisation_report(session, guard.organisations())
    return render(request, "minimisation.html", {"report": report})


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(
    request: Request, record_id: int, session: SessionDep, guard: RecordReader
) -> Response:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFoundError(f"no record {record_id}")
    guard.check(record.source_org)
    values = {name: getattr(record, name) for name in SCALAR_FIELDS}
    row = {"id": record.id} | values
    attach_codes(session, [row])
    protected = session.scalars(
        select(ProtectedValue).where(ProtectedValue.record_id == record_id)
    ).all()
    guard.audit(
        session, "record.read", organisation=record.source_org, target=f"record:{record_id}"
    )
    can_reveal = guard.principal.can(Permission.IDENTIFYING_READ, record.source_org)
    return render(
        request,
        "record.html",
        {"record": record, "row": row, "protected": protected, "can_reveal": can_reveal},
    )


@router.post("/records/{record_id}/reveal", response_class=HTMLResponse)
def reveal_value(
    request: Request,
    record_id: int,
    session: SessionDep,
    guard: Revealer,
    field: Annotated[str, Form(max_length=128)],
) -> Response:
    record = session.get(Record, record_id)
    if record is None:
        raise NotFoundError(f"no record {record_id}")
    decision = guard.check(record.source_org)
    stored = session.get(ProtectedValue, (record_id, field))
    if stored is None:
        raise NotFoundError(f"record {record_id} has no protected {field}")
    if stored.purpose != decision.purpose:
        raise PermissionDeniedError(
            f"{field} was kept for the purpose {stored.purpose}; your purpose in force is "
            f"{decision.purpose}",
            details=["identifying values are purpose-bound: change your purpose if you hold it"],
        )
    settings = request.app.state.settings
    value = reveal(
        session,
        FieldCipher(Keyring(settings.key_dir)),
        audit_trail(request),
        record_id=record_id,
        field=field,
        actor=guard.principal.username,
        purpose=stored.purpose,
        organisation=record.source_org,
    )
    session.commit()  # the audit entry is durable before the value leaves the server
    return render(request, "revealed.html", {"field": field, "value": value})
