"""``/api/vocab``: the shared vocabulary as loaded in this node's database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from concord.db.models import VocabConcept
from concord.errors import NotFoundError
from concord.vocab import store
from concord.vocab.export import default_registry
from concord.vocab.model import Vocabulary
from concord.web.deps import db_session, vocabulary

router = APIRouter(prefix="/vocab", tags=["vocabulary"])
SessionDep = Annotated[Session, Depends(db_session)]
VocabularyDep = Annotated[Vocabulary, Depends(vocabulary)]


class SchemeOut(BaseModel):
    id: str
    prefix: str
    title: dict[str, str]
    description: dict[str, str]
    concept_count: int


class SchemesOut(BaseModel):
    version: str
    schemes: list[SchemeOut]


class ConceptSummary(BaseModel):
    id: str
    scheme: str
    label: str
    labels: dict[str, str]
    status: str
    notation: str | None
    url: str


class ConceptPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ConceptSummary]


class DiscouragedOut(BaseModel):
    term: str
    lang: str
    reason: str
    use: str | None
    fixable: bool


class ConceptOut(ConceptSummary):
    alt_labels: dict[str, list[str]]
    definition: dict[str, str]
    note: str | None
    iccs: list[str]
    broader: list[str]
    narrower: list[str]
    replaced_by: str | None
    discouraged: list[DiscouragedOut]


def _version(session: Session) -> str:
    release = store.current_release(session)
    if release is None:
        raise NotFoundError("no vocabulary is loaded yet: run `concord vocab load`")
    return release.version


def _summary(concept: VocabConcept) -> ConceptSummary:
    return ConceptSummary(
        id=concept.id,
        scheme=concept.scheme_id,
        label=concept.labels.get("en", concept.id),
        labels=concept.labels,
        status=concept.status,
        notation=concept.notation,
        url=f"/api/vocab/concepts/{concept.id}",
    )


@router.get("/schemes", summary="List the concept schemes")
def list_schemes(session: SessionDep) -> SchemesOut:
    version = _version(session)
    return SchemesOut(
        version=version,
        schemes=[
            SchemeOut(
                id=s.id,
                prefix=s.prefix,
                title=s.title,
                description=s.description,
                concept_count=count,
            )
            for s, count in store.list_schemes(session)
        ],
    )


@router.get("/concepts", summary="Search concepts by label, term or id, in any language")
def list_concepts(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Text to look for")] = None,
    scheme: Annotated[str | None, Query(max_length=64)] = None,
    include_deprecated: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ConceptPage:
    _version(session)
    items, total = store.search_concepts(
        session,
        q,
        scheme=scheme,
        include_deprecated=include_deprecated,
        limit=limit,
        offset=offset,
    )
    return ConceptPage(total=total, limit=limit, offset=offset, items=[_summary(c) for c in items])


@router.get("/concepts/{concept_id}", summary="One concept with labels, definition and terms")
def get_concept(concept_id: str, session: SessionDep) -> ConceptOut:
    concept = store.get_concept(session, concept_id)
    broader, narrower = store.concept_relations(session, concept_id)
    return ConceptOut(
        **_summary(concept).model_dump(),
        alt_labels=concept.alt_labels,
        definition=concept.definition,
        note=concept.note,
        iccs=concept.iccs,
        broader=broader,
        narrower=narrower,
        replaced_by=concept.replaced_by,
        discouraged=[
            DiscouragedOut(term=t.term, lang=t.lang, reason=t.reason, use=t.use, fixable=t.fixable)
            for t in store.discouraged_terms(session, concept_id)
        ],
    )


@router.get(
    "/export/{format_name}",
    summary="Download the vocabulary as SKOS/Turtle, JSON, CSV, CSV of terms, or a MISP taxonomy",
    response_class=Response,
)
def export(format_name: str, vocab: VocabularyDep) -> Response:
    fmt = default_registry().get(format_name)
    filename = f"concord-vocabulary-{vocab.version}-{fmt.name}{fmt.suffix}"
    return Response(
        fmt.render(vocab),
        media_type=fmt.media_type,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
