"""The one place errors become responses: RFC 9457 problem JSON for ``/api``, a page for the UI.

Why one function: every endpoint must fail the same way (clients parse ``type``, ``title``,
``status``, ``detail``), and a test checks that shape across endpoints.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from concord.errors import AuthenticationError, ConcordError
from concord.web.templating import render

PROBLEM_BASE = "https://w3id.org/concord/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    kind: str | None = None,
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (kind or phrase.lower().replace(" ", "-")),
        "title": title or phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, body: dict[str, Any]) -> Response:
    """Problem JSON for the API (and clients asking for JSON), a small HTML page otherwise."""
    if wants_html(request):
        return render(request, "error.html", {"problem": body}, status_code=body["status"])
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE)


def _kind_of(exc: ConcordError) -> str:
    name = type(exc).__name__.removesuffix("Error")
    return "".join("-" + c.lower() if c.isupper() else c for c in name).lstrip("-") or "error"


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through :func:`error_response`."""

    async def concord_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConcordError)
        if isinstance(exc, AuthenticationError) and wants_html(request):
            # a browser without a session goes to the login page and comes back afterwards
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        body = problem(
            exc.status_code,
            exc.message,
            title=exc.title,
            kind=_kind_of(exc),
            instance=request.url.path,
            errors=exc.details or None,
        )
        return error_response(request, body)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"location": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors()
        ]
        body = problem(
            422,
            "the request does not have the expected shape",
            title="Invalid request",
            kind="invalid-request",
            instance=request.url.path,
            errors=errors,
        )
        return error_response(request, body)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        body = problem(exc.status_code, detail, instance=request.url.path)
        response = error_response(request, body)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    app.add_exception_handler(ConcordError, concord_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
