"""``POST /api/lint``: the term linter for any text a client sends."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from concord.errors import InputError
from concord.vocab.linter import Linter
from concord.vocab.model import Vocabulary
from concord.web.deps import vocabulary

router = APIRouter(tags=["linter"])
VocabularyDep = Annotated[Vocabulary, Depends(vocabulary)]


class LintIn(BaseModel):
    text: str = Field(description="The text to check (plain text, Markdown, a CSV header, ...).")
    languages: list[str] | None = Field(
        default=None, description="Only check terms of these languages (default: all shipped)."
    )
    fix: bool = Field(default=False, description="Also return the text with fixes applied.")


def linter_for(request: Request, languages: list[str] | None) -> Linter:
    """The app's linter for a language selection, compiled once and then reused."""
    vocab: Vocabulary = request.app.state.vocabulary
    unknown = sorted(set(languages or []) - set(vocab.languages))
    if unknown:
        raise InputError(
            f"unknown language(s) {', '.join(unknown)}; the vocabulary has "
            + ", ".join(vocab.languages)
        )
    key = tuple(sorted(languages)) if languages else None
    cache: dict[tuple[str, ...] | None, Linter] = request.app.state.linters
    if key not in cache:
        cache[key] = Linter(vocab, languages=key)
    return cache[key]


def lint_payload(linter: Linter, text: str, *, fix: bool, version: str) -> dict[str, Any]:
    """The findings of ``text`` (and the fixed text when asked), as the API returns them."""
    if fix:
        fixed, findings = linter.fix_text(text)
    else:
        fixed, findings = None, linter.lint_text(text)
    body: dict[str, Any] = {
        "vocabulary": version,
        "findings": [f.to_dict() for f in findings],
        "summary": {
            "findings": len(findings),
            "fixable": sum(1 for f in findings if f.fix is not None),
        },
    }
    if fixed is not None:
        body["fixed_text"] = fixed
    return body


@router.post("/lint", summary="Find discouraged terms, with the preferred term and why")
def lint(body: LintIn, request: Request, vocab: VocabularyDep) -> dict[str, Any]:
    linter = linter_for(request, body.languages)
    return lint_payload(linter, body.text, fix=body.fix, version=vocab.version)
