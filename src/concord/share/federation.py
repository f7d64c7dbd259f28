"""The hub side of federation: the nodes it trusts, the bundles it accepts, and revocations.

A hub accepts a bundle only when every one of these holds, and says which one did not:

* the bundle verifies (:func:`concord.share.bundle.read_bundle`) with the public key this hub
  registered for the sending node, under the key id the bundle names;
* its provider is one of the node's organisations (a node speaks only for its own);
* its agreement version is in force here on the day the release was made, lists this hub's
  organisation among its recipients, covers the whole period, has the same level, and shares
  every table the bundle carries (indicators, dimensions, no forbidden cross; record fields);
* it speaks the hub's vocabulary version (counts under two versions do not add up);
* it is not a replay: a release id that was revoked, or that arrived before with other content,
  is refused. The same bundle sent twice is stored once (a retried push changes nothing).

A revocation withdraws a whole release (its tables and package are deleted; the row stays as a
tombstone, so the old bundle is refused if it is ever sent again) or, for a record-level
release, only the rows of the children whose consent was withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import FederationBundle, FederationNode
from concord.errors import BundleError, NotFoundError
from concord.indicators.frame import canonical_dimension
from concord.protect.audit import AuditTrail
from concord.share.agreement import Agreement
from concord.share.bundle import MAX_BUNDLE_BYTES, BundleManifest, VerifiedBundle, read_bundle
from concord.share.nodes import list_nodes, node_key_lookup, register_node, remove_node
from concord.share.regional import RegionalTable, regional_tables
from concord.share.registry import get_agreement, in_force
from concord.share.revocation import read_revocation
from concord.share.tables import crosses

__all__ = [
    "ReceiveResult",
    "RegionalTable",
    "RevokeResult",
    "list_nodes",
    "node_key_lookup",
    "receive_bundle",
    "received_bundles",
    "regional_tables",
    "register_node",
    "remove_node",
    "revoke_release",
]

#: Columns every published count table has besides its dimensions.
COUNT, STATUS, SUBJECT = "count", "status", "subject"


@dataclass(frozen=True)
class ReceiveResult:
    """``stored`` is False when this very bundle was already stored (a retried push)."""

    stored: bool
    release_id: str
    node: str
    sha256: str


@dataclass(frozen=True)
class RevokeResult:
    """What a revocation changed; ``changed`` is False when it had already been applied."""

    release_id: str
    node: str
    whole: bool
    changed: bool
    subjects_removed: int = 0


def _in_force(session: Session, manifest: BundleManifest, hub_org: str) -> Agreement:
    target = f"agreement {manifest.agreement_id} v{manifest.agreement_version}"
    try:
        stored = get_agreement(session, manifest.agreement_id, manifest.agreement_version)
    except NotFoundError as exc:
        raise BundleError(
            f"{target} is not known at this hub: import it and have every party approve it"
        ) from exc
    made_on = manifest.created_at.astimezone(UTC).date()
    current = in_force(session, manifest.agreement_id, at=made_on)
    if current is None or current.version != manifest.agreement_version:
        raise BundleError(f"{target} was not in force at this hub on {made_on} ({stored.status})")
    if hub_org not in current.recipients:
        raise BundleError(
            f"{target} does not list this hub ({hub_org}) among its recipients "
            f"({', '.join(current.recipients)})"
        )
    return current


def _check_policy(
    node: FederationNode, bundle: VerifiedBundle, agreement: Agreement, vocabulary: str
) -> None:
    m = bundle.manifest
    if m.provider not in node.organisations:
        raise BundleError(
            f"node {node.id!r} speaks for {', '.join(node.organisations)}, not for {m.provider!r}"
        )
    if m.provider != agreement.provider:
        raise BundleError(f"the agreement's provider is {agreement.provider!r}, not {m.provider!r}")
    if m.level != agreement.level.value:
        raise BundleError(f"the agreement shares {agreement.level.value}, not {m.level}")
    if m.period_start < agreement.valid_from or m.period_end > agreement.valid_to:
        raise BundleError(
            f"period {m.period} ({m.period_start}..{m.period_end}) is not within the agreement's "
            f"validity ({agreement.valid_from}..{agreement.valid_to})"
        )
    if m.vocabulary_version != vocabulary:
        raise BundleError(
            f"the bundle uses vocabulary version {m.vocabulary_version}; this hub uses "
            f"{vocabulary} (counts under different versions cannot be added up)"
        )
    for name, frame in bundle.resources.items():
        problem = table_problem(agreement, name, frame)
        if problem:
            raise BundleError(f"table {name!r}: {problem}")


def table_problem(agreement: Agreement, name: str, frame: pl.DataFrame) -> str | None:
    """Why the agreement does not share this table, or None when it does."""
    shares = agreement.shares
    if agreement.level.value == "pseudonymised_records":
        if SUBJECT not in frame.columns:
            return "a record-level table needs its 'subject' pseudonym column"
        extra = [c for c in frame.columns if c not in {SUBJECT, *shares.fields}]
        return f"fields not shared by the agreement: {', '.join(extra)}" if extra else None
    if COUNT not in frame.columns or STATUS not in frame.columns:
        return "a count table needs the columns 'count' and 'status'"
    # Table names are ``<indicator>`` or ``<indicator>.<breakdown>`` (share/tables.py).
    if not any(name == i or name.startswith(i + ".") for i in shares.indicators):
        return "not a table of an indicator the agreement shares"
    dims = [c for c in frame.columns if c not in (COUNT, STATUS)]
    shared = {canonical_dimension(d) for d in shares.dimensions}
    problems = [
        f"dimension {d} is not shared" for d in dims if canonical_dimension(d) not in shared
    ]
    problems += [
        f"crosses {' × '.join(combo)}, which the agreement forbids"
        for combo in crosses(dims, agreement.disclosure.never_cross)
    ]
    problems += _disclosure_problems(agreement, frame)
    return "; ".join(problems) or None


def _disclosure_problems(agreement: Agreement, frame: pl.DataFrame) -> list[str]:
    """Defence in depth: the hub refuses a table that breaks the agreement's disclosure rules
    however it was made (a hidden cell with a count, a published cell below ``min_cell``)."""
    k = agreement.disclosure.min_cell
    count, shown = pl.col(COUNT), pl.col(STATUS) == "published"
    leaked = frame.filter(~shown & count.is_not_null()).height
    small = frame.filter(shown & (count > 0) & (count < k)).height
    problems = []
    if leaked:
        problems.append(f"{leaked} hidden cell(s) carry a count")
    if small:
        problems.append(f"{small} published cell(s) are below the agreement's min_cell of {k}")
    return problems


def _json_rows(frame: pl.DataFrame) -> list[list[Any]]:
    temporal = [n for n, t in frame.schema.items() if t.is_temporal()]
    return [list(r) for r in frame.with_columns(pl.col(temporal).cast(pl.String)).rows()]


def _stored_tables(bundle: VerifiedBundle) -> dict[str, Any]:
    tables: dict[str, Any] = {}
    for name, frame in bundle.resources.items():
        if bundle.manifest.level == "aggregate":
            dims = [c for c in frame.columns if c not in (COUNT, STATUS)]
            cells = frame.select(*dims, COUNT, STATUS)
            tables[name] = {"kind": "aggregate", "dimensions": dims, "cells": _json_rows(cells)}
        else:
            tables[name] = {"kind": "records", "columns": frame.columns, "rows": _json_rows(frame)}
    return tables


def _replay(row: FederationBundle, sha256: str) -> bool:
    """True when ``row`` is this very bundle; a refusal when the release id cannot be reused."""
    if row.revoked_at is not None:
        raise BundleError(
            f"release {row.release_id} was revoked on {row.revoked_at:%Y-%m-%d}; a revoked "
            "release is never accepted again"
        )
    if row.sha256 != sha256:
        raise BundleError(
            f"release {row.release_id} was already received with other content; a release "
            "never changes: make a new release instead"
        )
    return True


def receive_bundle(
    session: Session,
    data: bytes,
    *,
    hub_org: str,
    vocabulary_version: str,
    audit: AuditTrail,
    max_bytes: int = MAX_BUNDLE_BYTES,
    now: datetime | None = None,
) -> ReceiveResult:
    """Verify and store a bundle sent to this hub, or refuse it with a :class:`BundleError`."""
    bundle = read_bundle(data, public_key_for=node_key_lookup(session), max_bytes=max_bytes)
    manifest = bundle.manifest
    existing = session.get(FederationBundle, manifest.release_id)
    if existing is not None and _replay(existing, bundle.sha256):
        return ReceiveResult(False, manifest.release_id, bundle.node, bundle.sha256)
    node = session.get(FederationNode, bundle.node)
    if node is None:  # read_bundle's lookup already refused; this keeps mypy and readers sure
        raise BundleError(f"node {bundle.node!r} is not registered")
    agreement = _in_force(session, manifest, hub_org)
    _check_policy(node, bundle, agreement, vocabulary_version)
    moment = now or datetime.now(UTC)
    session.add(
        FederationBundle(
            release_id=manifest.release_id,
            node=node.id,
            agreement_id=manifest.agreement_id,
            agreement_version=manifest.agreement_version,
            period=manifest.period,
            sha256=bundle.sha256,
            vocabulary_version=manifest.vocabulary_version,
            tables=_stored_tables(bundle),
            metadata_={
                "manifest": manifest.to_dict(),
                "key_id": bundle.key_id,
                "rows": {n: f.height for n, f in bundle.resources.items()},
            },
            package=data,
            received_at=moment,
            revoked_at=None,
            revoked_reason=None,
        )
    )
    node.last_received_at = moment
    audit.record(
        session,
        actor=f"node:{node.id}",
        action="federation.receive",
        organisation=manifest.provider,
        purpose=agreement.purpose,
        target=f"release:{manifest.release_id}",
        details={
            "agreement": f"{manifest.agreement_id} v{manifest.agreement_version}",
            "period": manifest.period,
            "sha256": bundle.sha256,
            "tables": sorted(bundle.resources),
        },
    )
    session.flush()
    return ReceiveResult(True, manifest.release_id, node.id, bundle.sha256)


def _withdraw_subjects(row: FederationBundle, subjects: set[str]) -> int:
    tables: dict[str, Any] = {}
    removed = 0
    for name, table in row.tables.items():
        if table.get("kind") != "records":
            tables[name] = table
            continue
        at = table["columns"].index(SUBJECT)
        kept = [r for r in table["rows"] if r[at] not in subjects]
        removed += len(table["rows"]) - len(kept)
        tables[name] = table | {"rows": kept}
    row.tables = tables  # a new object: JSON columns do not track changes inside
    return removed


def revoke_release(
    session: Session, message: bytes, *, audit: AuditTrail, now: datetime | None = None
) -> RevokeResult:
    """Apply a node's signed revocation (see :mod:`concord.share.revocation`)."""
    revocation = read_revocation(message, public_key_for=node_key_lookup(session))
    release_id, node_id = revocation.release_id, revocation.node
    row = session.get(FederationBundle, release_id)
    if row is not None and row.node != node_id:
        raise BundleError(f"release {release_id} was sent by node {row.node!r}; only it may revoke")
    if row is not None and row.revoked_at is not None:
        return RevokeResult(release_id, node_id, revocation.subjects is None, changed=False)
    details: dict[str, Any] = {"reason": revocation.reason}
    if revocation.subjects is None:
        if row is None:
            # Revoked before it arrived (a push still queued): keep a tombstone so that the
            # bundle is refused if it comes later.
            row = FederationBundle(
                release_id=release_id,
                node=node_id,
                agreement_id="",
                agreement_version=0,
                period="",
                sha256="",
                vocabulary_version="",
                tables={},
                metadata_={"revoked_before_receipt": True},
                received_at=now or datetime.now(UTC),
            )
            session.add(row)
        row.revoked_at = revocation.revoked_at
        row.revoked_reason = revocation.reason
        row.tables = {}
        row.package = None
        action, removed = "federation.revoke", 0
    else:
        if row is None:
            raise BundleError(f"release {release_id} is not stored at this hub")
        if row.metadata_.get("manifest", {}).get("level") != "pseudonymised_records":
            raise BundleError(
                f"release {release_id} holds aggregate tables: withdraw subjects from "
                "record-level releases only, or revoke the whole release"
            )
        removed = _withdraw_subjects(row, set(revocation.subjects))
        # The signed package still holds the withdrawn rows: it cannot be kept or re-signed.
        row.package = None
        withdrawals = [*row.metadata_.get("withdrawals", []), {"rows": removed}]
        row.metadata_ = row.metadata_ | {"withdrawals": withdrawals}
        action = "federation.withdraw_subjects"
        details |= {"subjects": len(revocation.subjects), "rows_removed": removed}
    audit.record(
        session,
        actor=f"node:{node_id}",
        action=action,
        target=f"release:{release_id}",
        details=details,
    )
    session.flush()
    return RevokeResult(release_id, node_id, revocation.subjects is None, True, removed)


def received_bundles(session: Session, *, limit: int = 100) -> list[FederationBundle]:
    """The latest bundles this hub received (tombstones included), newest first."""
    query = select(FederationBundle).order_by(FederationBundle.received_at.desc()).limit(limit)
    return list(session.scalars(query))
