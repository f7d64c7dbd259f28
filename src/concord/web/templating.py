"""Rendering pages: the app's Jinja2 environment, reached through the request.

Every page gets ``principal`` (who is logged in, their purpose and training, or None) and
``csrf_token`` (for forms and htmx requests), whether or not its route needed a login.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from concord.errors import ConcordError


def _page_identity(request: Request) -> dict[str, Any]:
    if not hasattr(request.state, "principal"):
        from concord.web.auth import load_request_principal

        with Session(bind=request.app.state.engine, expire_on_commit=False) as session:
            try:
                load_request_principal(request, session)
                session.commit()
            except ConcordError:
                request.state.principal = None
                request.state.csrf_token = ""
    return {
        "principal": request.state.principal,
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render template ``name`` with ``context`` using the app's templates."""
    templates: Jinja2Templates = request.app.state.templates
    full = _page_identity(request) | context
    return templates.TemplateResponse(request, name, full, status_code=status_code)
