"""The vocabulary browser: a searchable list of concepts and one page per concept."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from concord.vocab import store
from concord.web.deps import db_session
from concord.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
PAGE_SIZE = 50


@router.get("/vocab", response_class=HTMLResponse)
def vocab_index(
    request: Request,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    scheme: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """Full page on a normal request; only the results block when htmx asks (live search)."""
    concepts, total = store.search_concepts(
        session, q, scheme=scheme or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    release = store.current_release(session)
    context = {
        "q": q,
        "scheme": scheme,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "total": total,
        "concepts": concepts,
        "schemes": store.list_schemes(session),
        "version": release.version if release else None,
    }
    template = "vocab_results.html" if request.headers.get("HX-Request") else "vocab_index.html"
    return render(request, template, context)


@router.get("/vocab/{concept_id}", response_class=HTMLResponse)
def concept_page(request: Request, concept_id: str, session: SessionDep) -> Response:
    concept = store.get_concept(session, concept_id)
    broader, narrower = store.concept_relations(session, concept_id)
    related = {c: store.get_concept(session, c) for c in [*broader, *narrower]}
    if concept.replaced_by:
        related[concept.replaced_by] = store.get_concept(session, concept.replaced_by)
    release = store.current_release(session)
    return render(
        request,
        "concept.html",
        {
            "concept": concept,
            "broader": broader,
            "narrower": narrower,
            "related": related,
            "terms": store.discouraged_terms(session, concept_id),
            "version": release.version if release else None,
        },
    )
