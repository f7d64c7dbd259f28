"""Federation: the nodes a hub knows, the bundles it received, and a node's outbox.

Why these tables: a hub accepts a bundle only from a node whose public key it registered; it
stores each bundle once (by release id and content hash) so a retried push changes nothing, and
keeps revoked releases as tombstones so a replayed old bundle is refused. A node keeps an
outbox so a failed push is retried with back-off and the sync status page can say when each
exchange last succeeded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from concord.db.models.base import Base
from concord.db.models.records import BigId


class FederationNode(Base):
    """A node the hub accepts bundles from: its Ed25519 public key and its organisations."""

    __tablename__ = "federation_node"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Raw 32-byte Ed25519 public key, base64.
    public_key: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(64))
    organisations: Mapped[list[str]] = mapped_column(JSON)
    url: Mapped[str | None] = mapped_column(String(500))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FederationBundle(Base):
    """A bundle the hub accepted (or a tombstone once its provider revoked it)."""

    __tablename__ = "federation_bundle"

    release_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    node: Mapped[str] = mapped_column(ForeignKey("federation_node.id"), index=True)
    agreement_id: Mapped[str] = mapped_column(String(128), index=True)
    agreement_version: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    vocabulary_version: Mapped[str] = mapped_column(String(64))
    #: The published tables, as in :class:`concord.db.models.releases.ReleaseTable` cells.
    tables: Mapped[dict[str, Any]] = mapped_column(JSON)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    package: Mapped[bytes | None] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(500))


class FederationOutbox(Base):
    """A push a node owes a hub: retried with back-off until it is delivered."""

    __tablename__ = "federation_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: ``bundle`` or ``revocation``.
    kind: Mapped[str] = mapped_column(String(16))
    release_id: Mapped[str] = mapped_column(String(36), index=True)
    hub_url: Mapped[str] = mapped_column(String(500))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
