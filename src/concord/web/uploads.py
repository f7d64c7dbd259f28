"""Shared by the upload page and the import API: keep an uploaded file, start its import."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from fastapi import Request, UploadFile

from concord.config import Settings
from concord.errors import ConcordError, InputError, NotFoundError
from concord.ingest.catalog import MappingFile, available_mappings, mapping_named
from concord.ingest.jobs import Job, JobRunner
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys
from concord.vocab.model import Vocabulary

_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def save_upload(settings: Settings, file: UploadFile) -> tuple[str, Path]:
    """Copy an upload to the upload directory in chunks; returns (upload id, path)."""
    upload_id = uuid.uuid4().hex
    name = _SAFE_NAME.sub("_", Path(file.filename or "upload").name)[:100] or "upload"
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    target = settings.upload_dir / f"{upload_id}-{name}"
    with target.open("wb") as out:
        shutil.copyfileobj(file.file, out, length=1 << 20)
    if target.stat().st_size == 0:
        target.unlink()
        raise InputError("the uploaded file is empty")
    return upload_id, target


def stored_upload(settings: Settings, upload_id: str) -> Path:
    if not _UPLOAD_ID.match(upload_id):
        raise InputError("malformed upload id")
    matches = list(settings.upload_dir.glob(f"{upload_id}-*"))
    if not matches:
        raise NotFoundError("this upload is no longer on the server; upload the file again")
    return matches[0]


def start_import(
    request: Request,
    settings: Settings,
    vocabulary: Vocabulary,
    path: Path,
    mapping: str,
    *,
    imported_by: str,
) -> Job:
    """Import ``path`` with the named mapping in the background; returns the job to poll."""
    loaded = load_mapping(mapping_named(settings.mapping_dir, mapping).path)
    engine = request.app.state.engine
    keys = PseudonymKeys(settings.key_dir)
    cipher = FieldCipher(Keyring(settings.key_dir))
    runner: JobRunner = request.app.state.jobs
    job = runner.start(
        path.name.split("-", 1)[1],
        lambda progress: ingest_file(
            engine,
            path,
            loaded,
            vocabulary,
            keys=keys,
            cipher=cipher,
            imported_by=imported_by,
            progress=progress,
        ),
    )
    job.extra["organisation"] = loaded.spec.source
    return job


def mapping_source(settings: Settings, mapping: str) -> str:
    """The organisation whose data a named mapping imports (checked before any upload is kept)."""
    return load_mapping(mapping_named(settings.mapping_dir, mapping).path).spec.source


def mappings_for(settings: Settings, organisations: Sequence[str]) -> list[MappingFile]:
    """The mapping specs that import into one of ``organisations`` (what the user may import).

    A spec that does not load is listed too: choosing it shows the user its problems.
    """
    allowed = set(organisations)
    chosen = []
    for spec_file in available_mappings(settings.mapping_dir):
        try:
            source = load_mapping(spec_file.path).spec.source
        except ConcordError:
            chosen.append(spec_file)
            continue
        if source in allowed:
            chosen.append(spec_file)
    return chosen
