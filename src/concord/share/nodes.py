"""The nodes a hub trusts: each node's Ed25519 public key and the organisations it speaks for.

Why a registry and not certificates: a hub's administrator registers each node by hand, after
checking its public key out of band (read aloud, sent on paper); there are a few dozen nodes,
not thousands, and no certificate authority all the parties would trust. Registering a new key
replaces the old one at once, and the audit entry names both.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from concord.db.models import FederationBundle, FederationNode
from concord.errors import BundleError, InputError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.share.signing import PublicKeyLookup, key_id_of, public_key_from_b64
from concord.slugs import ORG_SLUG


def register_node(
    session: Session,
    *,
    node_id: str,
    name: str,
    public_key_b64: str,
    organisations: list[str],
    url: str | None,
    actor: str,
    audit: AuditTrail,
) -> FederationNode:
    """Trust ``node_id``'s public key for bundles from ``organisations``.

    Registering again updates the node; a new key replaces the old one at once (bundles signed
    with the old key are refused from then on), and the audit entry names both key ids.
    """
    if not ORG_SLUG.match(node_id):
        raise InputError(f"node id {node_id!r}: lowercase letters, digits, - and _")
    bad = [o for o in organisations if not ORG_SLUG.match(o)]
    if not organisations or bad:
        raise InputError(
            "name the organisations the node speaks for (organisation ids)"
            + (f"; not ids: {', '.join(map(repr, bad))}" if bad else "")
        )
    if url is not None and not url.startswith(("http://", "https://")):
        raise InputError(f"node url {url!r} must start with http:// or https://")
    key_id = key_id_of(public_key_from_b64(public_key_b64))
    orgs = sorted(set(organisations))
    node = session.get(FederationNode, node_id)
    previous = node.key_id if node is not None else None
    if node is None:
        node = FederationNode(id=node_id, added_at=datetime.now(UTC), last_received_at=None)
        session.add(node)
    elif (node.name, node.key_id, node.organisations, node.url) == (name, key_id, orgs, url):
        return node
    node.name = name.strip() or node_id
    node.public_key = public_key_b64.strip()
    node.key_id = key_id
    node.organisations = orgs
    node.url = url
    audit.record(
        session,
        actor=actor,
        action="federation.node.register",
        target=f"node:{node_id}",
        details={"key_id": key_id, "replaced_key": previous, "organisations": orgs},
    )
    session.flush()
    return node


def list_nodes(session: Session) -> list[FederationNode]:
    """Every registered node, by id."""
    return list(session.scalars(select(FederationNode).order_by(FederationNode.id)))


def remove_node(
    session: Session, node_id: str, *, actor: str, audit: AuditTrail, purge: bool = False
) -> int:
    """Stop trusting ``node_id``; returns how many stored bundles were deleted with it.

    Why refuse by default when bundles are stored: removing the node would delete what it sent
    (and the tombstones that keep revoked releases from being replayed). ``purge`` says so.
    """
    node = session.get(FederationNode, node_id)
    if node is None:
        raise NotFoundError(f"no node {node_id!r} is registered (concord federation node list)")
    stored = list(session.scalars(select(FederationBundle).where(FederationBundle.node == node_id)))
    if stored and not purge:
        raise InputError(
            f"node {node_id!r} has {len(stored)} bundle(s) stored here; removing it deletes "
            "them too (use --purge to do so)"
        )
    for bundle in stored:
        session.delete(bundle)
    session.flush()
    session.delete(node)
    audit.record(
        session,
        actor=actor,
        action="federation.node.remove",
        target=f"node:{node_id}",
        details={"key_id": node.key_id, "bundles_deleted": len(stored)},
    )
    session.flush()
    return len(stored)


def node_key_lookup(session: Session) -> PublicKeyLookup:
    """The registry as a key lookup for :func:`read_bundle`, with a precise reason on refusal."""

    def lookup(node_id: str, key_id: str) -> Ed25519PublicKey:
        node = session.get(FederationNode, node_id)
        if node is None:
            raise BundleError(
                f"node {node_id!r} is not registered at this hub: an administrator registers "
                "its public key first (concord federation node add)"
            )
        if node.key_id != key_id:
            raise BundleError(
                f"signed with key {key_id}, but node {node_id!r} is registered with key "
                f"{node.key_id}: if the node rotated its key, register the new public key"
            )
        return public_key_from_b64(node.public_key)

    return lookup


def bundle_counts(session: Session) -> dict[str, tuple[int, int]]:
    """Per node: (bundles stored, of which revoked)."""
    rows = session.execute(
        select(
            FederationBundle.node,
            func.count(),
            func.count(FederationBundle.revoked_at),
        ).group_by(FederationBundle.node)
    )
    return {str(node): (int(total), int(revoked)) for node, total, revoked in rows}
