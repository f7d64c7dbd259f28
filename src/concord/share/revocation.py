"""A signed revocation: a node takes back a release it sent a hub, or some children's rows in it.

A revocation is a small JSON document::

    {"revocation": {"release_id": ..., "node": ..., "reason": ..., "revoked_at": ...,
                    "subjects": null | ["<pseudonym>", ...]},
     "signature": {"algorithm": "ed25519", "node": ..., "key_id": ..., "signature": ...}}

The signature covers the canonical JSON of ``revocation`` (keys sorted, no spaces, UTF-8), so
a hub verifies it with the same key it verifies the node's bundles with. Without ``subjects``
the whole release is withdrawn; with them (consent withdrawn for those children) only their
rows leave a record-level release.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from concord.errors import BundleError
from concord.share.signing import (
    NodeKey,
    PublicKeyLookup,
    check_signature_record,
    signature_record,
)

#: 1 MiB: room for tens of thousands of withdrawn pseudonyms, nothing a hub must fear.
MAX_REVOCATION_BYTES = 1024 * 1024
_WHAT = "the revocation"


@dataclass(frozen=True)
class Revocation:
    """A verified revocation; ``subjects`` is None when the whole release is withdrawn."""

    release_id: str
    node: str
    reason: str
    revoked_at: datetime
    subjects: tuple[str, ...] | None
    key_id: str


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_revocation(
    key: NodeKey,
    *,
    release_id: str,
    reason: str,
    revoked_at: datetime | None = None,
    subjects: list[str] | None = None,
) -> bytes:
    """The signed revocation of ``release_id`` (or of ``subjects``' rows in it) by ``key``'s
    node."""
    if not reason.strip():
        raise BundleError("a revocation needs a reason the hub can show")
    if subjects is not None and not subjects:
        raise BundleError("a consent withdrawal must name at least one subject")
    moment = (revoked_at or datetime.now(UTC)).astimezone(UTC)
    body = {
        "release_id": release_id,
        "node": key.node_id,
        "reason": reason.strip()[:500],
        "revoked_at": moment.isoformat().replace("+00:00", "Z"),
        "subjects": sorted(set(subjects)) if subjects is not None else None,
    }
    document = {"revocation": body, "signature": signature_record(key, _canonical(body))}
    return json.dumps(document, ensure_ascii=False).encode()


def _body(message: bytes) -> tuple[dict[str, Any], Any]:
    if len(message) > MAX_REVOCATION_BYTES:
        raise BundleError(f"a revocation is at most {MAX_REVOCATION_BYTES:,} bytes")
    try:
        document = json.loads(message.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleError("the revocation is not JSON") from exc
    body = document.get("revocation") if isinstance(document, dict) else None
    if not isinstance(body, dict):
        raise BundleError("the revocation has no 'revocation' object")
    return body, document.get("signature")


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BundleError(f"the revocation has no {name}")
    return value


def read_revocation(message: bytes, *, public_key_for: PublicKeyLookup) -> Revocation:
    """Verify a revocation, or refuse it with a :class:`BundleError`."""
    body, signature = _body(message)
    node, key_id = check_signature_record(signature, _canonical(body), public_key_for, what=_WHAT)
    if body.get("node") != node:
        raise BundleError(f"the revocation names node {body.get('node')!r}; {node!r} signed it")
    try:
        revoked_at = datetime.fromisoformat(_field(body, "revoked_at")).astimezone(UTC)
    except ValueError as exc:
        raise BundleError("the revocation's revoked_at is not an ISO 8601 time") from exc
    subjects = body.get("subjects")
    if subjects is not None and not (
        isinstance(subjects, list) and subjects and all(isinstance(s, str) and s for s in subjects)
    ):
        raise BundleError("the revocation's subjects must be a non-empty list of pseudonyms")
    return Revocation(
        release_id=_field(body, "release_id"),
        node=node,
        reason=_field(body, "reason")[:500],
        revoked_at=revoked_at,
        subjects=tuple(subjects) if subjects is not None else None,
        key_id=key_id,
    )
