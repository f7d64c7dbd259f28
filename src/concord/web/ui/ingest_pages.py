"""Pages for imports: upload (mapping → preview → import with progress → report), batches,
quarantine and the records table. Routes only call ingest/records services and render."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from concord.config import Settings
from concord.errors import InputError
from concord.ingest.batches import get_batch, list_batches
from concord.ingest.catalog import mapping_named
from concord.ingest.jobs import JobRunner
from concord.ingest.mapping import load_mapping
from concord.ingest.preview import preview_file
from concord.ingest.quarantine import STATUSES, export_quarantine, list_quarantine, resubmit
from concord.protect.pseudonyms import PseudonymKeys
from concord.protect.roles import Permission
from concord.records.query import (
    RecordFilter,
    record_countries,
    record_organisations,
    search_records,
)
from concord.vocab.model import Vocabulary
from concord.web.auth import Guard, requires
from concord.web.deps import db_session, settings, vocabulary
from concord.web.templating import render
from concord.web.uploads import (
    mapping_source,
    mappings_for,
    save_upload,
    start_import,
    stored_upload,
)

router = APIRouter(tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
SettingsDep = Annotated[Settings, Depends(settings)]
VocabularyDep = Annotated[Vocabulary, Depends(vocabulary)]
UPLOAD_PATH = "/upload"
RESUBMIT_PATH = "/quarantine/resubmit"
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
PAGE_SIZE = 50
Importer = Annotated[Guard, Depends(requires(Permission.INGEST))]
BatchReader = Annotated[Guard, Depends(requires(Permission.BATCH_READ))]
QuarantineManager = Annotated[Guard, Depends(requires(Permission.QUARANTINE_MANAGE))]
RecordReader = Annotated[Guard, Depends(requires(Permission.RECORD_READ))]


def _jobs(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


@router.get(UPLOAD_PATH, response_class=HTMLResponse)
def upload_form(request: Request, settings: SettingsDep, guard: Importer) -> Response:
    return render(
        request,
        "upload.html",
        {
            "mappings": mappings_for(settings, guard.organisations()),
            "mapping_dir": settings.mapping_dir,
        },
    )


@router.post(UPLOAD_PATH, response_class=HTMLResponse)
def upload_preview(
    request: Request,
    settings: SettingsDep,
    vocab: VocabularyDep,
    guard: Importer,
    mapping: Annotated[str, Form(max_length=128)],
    file: Annotated[UploadFile, File()],
) -> Response:
    """Store the upload, then show how its first rows map (nothing is imported yet)."""
    spec_file = mapping_named(settings.mapping_dir, mapping)
    loaded = load_mapping(spec_file.path)
    guard.check(loaded.spec.source)  # before the file is kept anywhere
    upload_id, target = save_upload(settings, file)
    name = target.name.split("-", 1)[1]
    preview = preview_file(target, loaded, vocab)
    return render(
        request,
        "upload_preview.html",
        {
            "upload_id": upload_id,
            "file_name": name,
            "mapping": spec_file.name,
            "spec": loaded.spec,
            "preview": preview,
        },
    )


@router.post(UPLOAD_PATH + "/{upload_id}/import", response_class=HTMLResponse)
def upload_import(
    request: Request,
    upload_id: str,
    settings: SettingsDep,
    vocab: VocabularyDep,
    guard: Importer,
    mapping: Annotated[str, Form(max_length=128)],
) -> Response:
    """Start the import in the background and go to its progress page."""
    guard.check(mapping_source(settings, mapping))
    path = stored_upload(settings, upload_id)
    job = start_import(
        request, settings, vocab, path, mapping, imported_by=guard.principal.username
    )
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: str, guard: Importer) -> Response:
    job = _jobs(request).get(job_id)
    guard.check(str(job.extra.get("organisation", "")))
    template = "job_status.html" if request.headers.get("HX-Request") else "job.html"
    return render(request, template, {"job": job})


@router.get("/batches", response_class=HTMLResponse)
def batches_page(
    request: Request,
    session: SessionDep,
    guard: BatchReader,
    org: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    return render(
        request,
        "batches.html",
        {
            "batches": list_batches(session, organisations=guard.scope(org or None)),
            "org": org,
        },
    )


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    request: Request, batch_id: int, session: SessionDep, guard: BatchReader
) -> Response:
    batch = get_batch(session, batch_id)
    guard.check(batch.source_org)
    return render(request, "batch.html", {"batch": batch})


@router.get("/quarantine", response_class=HTMLResponse)
def quarantine_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    guard: QuarantineManager,
    batch: int | None = None,
    org: Annotated[str, Query(max_length=128)] = "",
    status: Annotated[str, Query(max_length=16)] = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    allowed = guard.scope(org or None)
    rows = list_quarantine(
        session,
        batch_id=batch,
        status=None if status == "all" else status,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        organisations=allowed,
    )
    guard.audit(
        session,
        "quarantine.read",
        organisation=org or None,
        details={"batch": batch, "status": status, "rows": len(rows.rows), "page": page},
    )
    return render(
        request,
        "quarantine.html",
        {
            "rows": rows,
            "batch": batch,
            "org": org,
            "status": status,
            "statuses": STATUSES,
            "mappings": mappings_for(settings, allowed),
            "page": page,
            "pages": max(1, -(-rows.total // PAGE_SIZE)),
        },
    )


@router.get("/quarantine/export.csv")
def quarantine_export(
    session: SessionDep,
    settings: SettingsDep,
    guard: QuarantineManager,
    batch: int | None = None,
    org: Annotated[str, Query(max_length=128)] = "",
) -> FileResponse:
    """The open rows as a CSV to correct in a spreadsheet and re-submit."""
    allowed = guard.scope(org or None)
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    target = settings.upload_dir / f"quarantine-{uuid.uuid4().hex}.csv"
    count = export_quarantine(
        session, target, batch_id=batch, source_org=org or None, organisations=allowed
    )
    guard.audit(
        session,
        "quarantine.export",
        organisation=org or None,
        details={"batch": batch, "rows": count},
    )
    label = f"batch-{batch}" if batch is not None else org
    return FileResponse(
        target,
        media_type="text/csv",
        filename=f"quarantine-{label}.csv",
        background=BackgroundTask(target.unlink, missing_ok=True),
    )


@router.post(RESUBMIT_PATH, response_class=HTMLResponse)
def quarantine_resubmit(
    request: Request,
    settings: SettingsDep,
    vocab: VocabularyDep,
    guard: QuarantineManager,
    mapping: Annotated[str, Form(max_length=128)],
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import corrected rows now (correction files are small) and show how they reconciled."""
    loaded = load_mapping(mapping_named(settings.mapping_dir, mapping).path)
    guard.check(loaded.spec.source)
    guard.principal.require(Permission.INGEST, loaded.spec.source)
    _, path = save_upload(settings, file)
    report = resubmit(
        request.app.state.engine,
        path,
        loaded,
        vocab,
        keys=PseudonymKeys(settings.key_dir),
        imported_by=guard.principal.username,
    )
    return render(request, "resubmitted.html", {"report": report, "rows": report.to_dict()["rows"]})


@router.get("/records", response_class=HTMLResponse)
def records_page(
    request: Request,
    session: SessionDep,
    guard: RecordReader,
    org: Annotated[str, Query(max_length=128)] = "",
    country: Annotated[str, Query(max_length=64)] = "",
    abuse_type: Annotated[str, Query(max_length=128)] = "",
    received_from: Annotated[str, Query(max_length=10)] = "",
    received_to: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    allowed = guard.organisations()
    where = RecordFilter(
        None,
        country or None,
        abuse_type or None,
        _date(received_from, "received from"),
        _date(received_to, "received to"),
        allowed_orgs=tuple(guard.scope(org or None)),
    )
    found = search_records(session, where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    guard.audit(
        session,
        "records.read",
        organisation=org or None,
        details={
            "filter": {"country": country, "abuse_type": abuse_type},
            "rows": len(found.items),
            "page": page,
        },
    )
    vocab: Vocabulary = request.app.state.vocabulary
    abuse = vocab.scheme("abuse_type")
    context = {
        "records": found,
        "org": org,
        "country": country,
        "abuse_type": abuse_type,
        "received_from": received_from,
        "received_to": received_to,
        "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "organisations": [o for o in record_organisations(session) if o in allowed],
        "countries": record_countries(session),
        "abuse_types": abuse.concepts if abuse else [],
        "vocab": vocab,
    }
    template = "records_table.html" if request.headers.get("HX-Request") else "records.html"
    return render(request, template, context)


def _date(text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{what}: {text!r} is not a date like 2025-01-31") from exc
