"""``/api/imports``: upload a partner file for import and follow the import's progress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from concord.config import Settings
from concord.ingest.jobs import JobRunner
from concord.protect.roles import Permission
from concord.vocab.model import Vocabulary
from concord.web.auth import Guard, requires
from concord.web.deps import settings, vocabulary
from concord.web.uploads import mapping_source, mappings_for, save_upload, start_import

router = APIRouter(prefix="/imports", tags=["imports"])
SettingsDep = Annotated[Settings, Depends(settings)]
VocabularyDep = Annotated[Vocabulary, Depends(vocabulary)]
Importer = Annotated[Guard, Depends(requires(Permission.INGEST))]
IMPORT_PATH = "/api/imports"


@router.get("/mappings", summary="Mapping specs this node can import with")
def mappings(config: SettingsDep, guard: Importer) -> list[str]:
    return [m.name for m in mappings_for(config, guard.organisations())]


@router.post("", summary="Upload a file and import it in the background", status_code=202)
def create_import(
    request: Request,
    config: SettingsDep,
    vocab: VocabularyDep,
    guard: Importer,
    mapping: Annotated[str, Form(max_length=128, description="A name from /mappings")],
    file: Annotated[UploadFile, File(description="The partner's file")],
) -> JSONResponse:
    guard.check(mapping_source(config, mapping))  # before the file is kept anywhere
    _, path = save_upload(config, file)
    job = start_import(request, config, vocab, path, mapping, imported_by=guard.principal.username)
    return JSONResponse(
        {"job": job.id, "state": job.state, "status_url": f"{IMPORT_PATH}/{job.id}"},
        status_code=202,
        headers={"location": f"{IMPORT_PATH}/{job.id}"},
    )


@router.get("/{job_id}", summary="Progress, then the reconciliation and quality report")
def import_status(job_id: str, request: Request, guard: Importer) -> dict[str, Any]:
    runner: JobRunner = request.app.state.jobs
    job = runner.get(job_id)
    guard.check(str(job.extra.get("organisation", "")))
    return {
        "job": job.id,
        "file": job.label,
        "state": job.state,
        "rows_read": job.rows,
        "error": job.error,
        "report": job.report.to_dict() if job.report else None,
    }
