"""The app factory: builds the FastAPI app for a given configuration.

Why a factory: tests, the demo and (later) each federation node build their own app with their
own settings and database, with no module-level state.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from concord import __version__
from concord.config import Settings, get_settings
from concord.db import create_db_engine
from concord.ingest.jobs import JobRunner
from concord.protect.audit import AuditTrail
from concord.protect.roles import Permission
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.model import Vocabulary
from concord.web.api import crosswalks as crosswalks_api
from concord.web.api import federation as federation_api
from concord.web.api import imports as imports_api
from concord.web.api import lint as lint_api
from concord.web.api import protect as protect_api
from concord.web.api import records as records_api
from concord.web.api import vocab as vocab_api
from concord.web.auth import csrf_protect
from concord.web.limits import BodySizeLimitMiddleware
from concord.web.problems import install_error_handlers
from concord.web.templating import render
from concord.web.ui import (
    admin_pages,
    agreement_pages,
    auth_pages,
    consent_pages,
    federation_pages,
    indicator_pages,
    ingest_pages,
    lint_pages,
    protect_pages,
    release_pages,
    vocab_pages,
)

UI_DIR = Path(str(files("concord.web") / "ui"))


def _labeller(vocabulary: Vocabulary) -> Callable[[str | None], str]:
    """A template filter: concept id → its English label (the id itself when unknown)."""

    def label(concept_id: str | None) -> str:
        return vocabulary.label_of(concept_id) if concept_id else ""

    return label


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    vocabulary: Vocabulary | None = None,
) -> FastAPI:
    """A Concord web app bound to ``engine`` (or the configured database)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Concord",
        version=__version__,
        description="Shared vocabulary, term checking and crosswalk checks for organisations "
        "working to end online child sexual exploitation and abuse. Errors are RFC 9457 "
        "problem documents.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.engine = engine or create_db_engine(settings.database_url)
    app.state.vocabulary = vocabulary or shipped_vocabulary()
    app.state.linters = {}  # compiled term linters by language selection
    app.state.templates = Jinja2Templates(directory=str(UI_DIR / "templates"))
    app.state.templates.env.filters["label"] = _labeller(app.state.vocabulary)
    # Navigation shows a link only to those holding its permission somewhere.
    app.state.templates.env.globals["Permission"] = Permission
    app.state.jobs = JobRunner()
    app.state.audit = AuditTrail.from_key_dir(settings.key_dir)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_upload_bytes,
        overrides=dict.fromkeys(
            (ingest_pages.UPLOAD_PATH, ingest_pages.RESUBMIT_PATH, imports_api.IMPORT_PATH),
            settings.max_import_bytes,
        )
        | {federation_api.BUNDLES_PATH: federation_api.BUNDLE_LIMIT},
    )
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(UI_DIR / "static")), name="static")

    app.include_router(vocab_api.router, prefix="/api")
    app.include_router(crosswalks_api.router, prefix="/api")
    app.include_router(lint_api.router, prefix="/api")
    app.include_router(lint_pages.router)
    app.include_router(records_api.router, prefix="/api")
    app.include_router(imports_api.router, prefix="/api")
    app.include_router(ingest_pages.router)
    app.include_router(auth_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(protect_pages.router)
    app.include_router(consent_pages.router)
    app.include_router(protect_api.router, prefix="/api")
    app.include_router(indicator_pages.router)
    app.include_router(indicator_pages.api, prefix="/api")
    app.include_router(vocab_pages.router)
    app.include_router(agreement_pages.router)
    app.include_router(release_pages.router)
    app.include_router(release_pages.api, prefix="/api")
    app.include_router(federation_api.router, prefix="/api")
    app.include_router(federation_pages.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> Response:
        return render(request, "home.html", {})

    @app.get("/api/health", tags=["meta"], summary="Liveness and versions")
    def health() -> dict[str, str]:
        return {"status": "ok", "concord": __version__, "vocabulary": app.state.vocabulary.version}

    return app
