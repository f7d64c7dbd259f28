"""The term checker page: paste a text, see what to replace, with what, and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape

from concord.vocab.linter import Finding
from concord.web.api.lint import linter_for
from concord.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def highlight(text: str, findings: list[Finding]) -> Markup:
    """``text`` HTML-escaped, with each finding wrapped in a <mark> that explains it."""
    parts: list[str] = []
    position = 0
    for f in sorted(findings, key=lambda f: f.offset):
        if f.offset < position:
            continue
        parts.append(str(escape(text[position : f.offset])))
        title = escape(f"{f.term} → {f.replacement or '?'}: {f.reason}")
        parts.append(f'<mark class="finding" title="{title}">{escape(f.text)}</mark>')
        position = f.end_offset
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))  # noqa: S704 — every piece above is escaped


@router.get("/lint", response_class=HTMLResponse)
def lint_form(request: Request) -> Response:
    return render(request, "lint.html", {"text": "", "checked": False})


@router.post("/lint", response_class=HTMLResponse)
def lint_submit(request: Request, text: Annotated[str, Form(max_length=200_000)] = "") -> Response:
    linter = linter_for(request, None)
    fixed, findings = linter.fix_text(text)
    context = {
        "text": text,
        "checked": True,
        "findings": findings,
        "highlighted": highlight(text, findings),
        "fixed": fixed,
    }
    template = "lint_results.html" if request.headers.get("HX-Request") else "lint.html"
    return render(request, template, context)
