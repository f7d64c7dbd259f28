"""``/api/crosswalks``: check an organisation's crosswalk against the shared vocabulary."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from concord.vocab.crosswalk import parse_crosswalk
from concord.vocab.crosswalk_check import check_crosswalk
from concord.vocab.crosswalk_suggest import suggest
from concord.vocab.model import Vocabulary
from concord.web.deps import vocabulary

router = APIRouter(prefix="/crosswalks", tags=["crosswalks"])
VocabularyDep = Annotated[Vocabulary, Depends(vocabulary)]


class CrosswalkIn(BaseModel):
    """A crosswalk file's text, as it would be saved on disk."""

    content: str = Field(description="The YAML or CSV text of the crosswalk.")
    format: Literal["yaml", "csv"] = "yaml"
    organisation: str = Field(
        default="unnamed",
        max_length=128,
        description="Organisation name for CSV crosswalks (YAML files name their own).",
    )
    suggestions: bool = Field(
        default=True, description="Also propose targets for unmapped labels (never applied)."
    )


@router.post(
    "/check",
    summary="Report unmapped, ambiguous, unknown, deprecated and wrong-scheme mappings",
)
def check(body: CrosswalkIn, vocab: VocabularyDep) -> dict[str, Any]:
    crosswalk = parse_crosswalk(
        body.content,
        source=f"crosswalk.{body.format}",
        fmt=body.format,
        default_organisation=body.organisation,
    )
    report = check_crosswalk(crosswalk, vocab).to_dict()
    if body.suggestions:
        report["suggestions"] = [s.to_dict() for s in suggest(crosswalk, vocab)]
    return report
