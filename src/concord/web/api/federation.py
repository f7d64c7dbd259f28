"""``/api/federation``: where nodes push signed bundles and revocations to this hub.

Why no login here: a push comes from another node's outbox, not from a person. It is
authenticated by its Ed25519 signature against the key this hub registered for the node, which
is stronger than a session (it covers every byte of the bundle), so these routes are exempt
from CSRF and need no user. Every refusal is a problem document whose ``detail`` is the reason
the node's outbox shows to its steward.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from concord.errors import NotFoundError
from concord.share.bundle import MAX_BUNDLE_BYTES
from concord.share.federation import receive_bundle, revoke_release
from concord.web.auth import audit_trail
from concord.web.deps import db_session

router = APIRouter(prefix="/federation", tags=["federation"])
SessionDep = Annotated[Session, Depends(db_session)]
BUNDLES_PATH = "/api/federation/bundles"
REVOCATIONS_PATH = "/api/federation/revocations"
#: The body limit for bundles (the app's usual limit is for small JSON requests).
BUNDLE_LIMIT = MAX_BUNDLE_BYTES


async def request_body(request: Request) -> bytes:
    """The raw body; a dependency so that the route itself can run in the thread pool."""
    return await request.body()


Body = Annotated[bytes, Depends(request_body)]


def hub_organisation(request: Request) -> str:
    """This hub's organisation: the node id it is configured with."""
    node_id: str | None = request.app.state.settings.node_id
    if not node_id:
        raise NotFoundError(
            "this node is not configured as a hub (CONCORD_NODE_ID): it neither accepts "
            "bundles nor keeps a registry of nodes"
        )
    return node_id


def _raw_body(media_type: str) -> dict[str, Any]:
    """OpenAPI for a raw request body (the route reads it itself)."""
    schema = {"type": "string", "format": "binary"}
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


@router.post(
    "/bundles",
    summary="Receive a signed release bundle (201 stored, 200 already stored)",
    status_code=201,
    responses={200: {"description": "This very bundle was already stored"}},
    openapi_extra=_raw_body("application/zip"),
)
def receive(
    request: Request,
    session: SessionDep,
    hub_org: Annotated[str, Depends(hub_organisation)],
    body: Body,
) -> JSONResponse:
    result = receive_bundle(
        session,
        body,
        hub_org=hub_org,
        vocabulary_version=request.app.state.vocabulary.version,
        audit=audit_trail(request),
        max_bytes=BUNDLE_LIMIT,
    )
    # Committed before answering: the node marks the push delivered on our 2xx, so the bundle
    # must be durable by then (the session dependency would commit only after the response).
    session.commit()
    content: dict[str, Any] = {
        "stored": result.stored,
        "release_id": result.release_id,
        "node": result.node,
        "sha256": result.sha256,
    }
    return JSONResponse(content, status_code=201 if result.stored else 200)


@router.post(
    "/revocations",
    summary="Apply a node's signed revocation of a release",
    openapi_extra=_raw_body("application/json"),
)
def revoke(
    request: Request,
    session: SessionDep,
    _hub_org: Annotated[str, Depends(hub_organisation)],
    body: Body,
) -> dict[str, Any]:
    result = revoke_release(session, body, audit=audit_trail(request))
    session.commit()  # durable before the node is told (see receive)
    return {
        "release_id": result.release_id,
        "node": result.node,
        "whole_release": result.whole,
        "changed": result.changed,
        "subjects_removed": result.subjects_removed,
    }
