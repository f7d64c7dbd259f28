"""Two provider nodes, a hub and agreements in force between them, and bundles built by hand:
what the bundle, federation, push and web federation tests share."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from concord.share import Agreement
from concord.share.bundle import BundleManifest, BundleResource, write_bundle
from concord.share.federation import register_node
from concord.share.signing import NodeKey
from tests.protect.factories import audit_trail, organisation, user
from tests.share.release_setup import approved

ES, PT, HUB = "hotline-es", "hotline-pt", "regional-hub"
VOCABULARY = "1.0.0"
#: Every bundle is made on this day: the agreements are in force then, whatever today is.
MADE = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
TABLE = "reports.abuse_type.by-country"
RECORDS = "records"
AUDIT = audit_trail()


def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash the administrators' passwords cheaply: each test creates three, and Argon2's real
    cost (a third of a second each) would make these tests slow for nothing they check."""
    from concord.protect import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)


def agreement(provider: str = ES, **changes: Any) -> Agreement:
    """An aggregate agreement from ``provider`` to the hub."""
    body: dict[str, Any] = {
        "id": f"{provider}-to-hub",
        "version": 1,
        "title": f"{provider} to the regional hub",
        "provider": provider,
        "recipients": [HUB],
        "purpose": "statistics",
        "legal_basis": "Memorandum of understanding.",
        "shares": {
            "indicators": ["reports.abuse_type"],
            "dimensions": ["country", "abuse_type", "victim_age_band"],
        },
        "level": "aggregate",
        "disclosure": {"min_cell": 10, "never_cross": [["victim_age_band", "country"]]},
        "frequency": "quarterly",
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2027, 12, 31),
        "marking": "AMBER",
        "onward_sharing": "within_recipient",
        "consent_required": False,
    }
    return Agreement.model_validate(body | changes)


def records_agreement() -> Agreement:
    """A record-level agreement (research, with consent) from ES to the hub."""
    return agreement(
        id="es-records-to-hub",
        purpose="research",
        level="pseudonymised_records",
        consent_required=True,
        shares={"fields": ["country", "victim_age_band"]},
        disclosure={"min_cell": 10},
    )


def in_force(session: Session, *agreements: Agreement) -> None:
    """The parties, an administrator of each, and every agreement imported and approved."""
    for org in (ES, PT, HUB):
        organisation(session, org)
        user(session, f"admin-{org}", roles={org: ["administrator"]}, trained=False)
    for agreed in agreements:
        approved(session, agreed, {org: f"admin-{org}" for org in agreed.parties})


def node_key(node: str = ES) -> NodeKey:
    return NodeKey(node, Ed25519PrivateKey.generate())


def register(session: Session, key: NodeKey, organisations: list[str] | None = None) -> None:
    register_node(
        session,
        node_id=key.node_id,
        name=key.node_id.upper(),
        public_key_b64=key.public_key_b64,
        organisations=organisations or [key.node_id],
        url=None,
        actor="test",
        audit=AUDIT,
    )


def count_table(counts: dict[str, int | None]) -> pl.DataFrame:
    """A one-dimension cube by country: ``None`` is a suppressed cell."""
    return pl.DataFrame(
        {
            "country": list(counts),
            "count": list(counts.values()),
            "status": ["published" if c is not None else "suppressed" for c in counts.values()],
        },
        schema={"country": pl.String, "count": pl.Int64, "status": pl.String},
    )


def record_table(subjects: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "subject": subjects,
            "country": ["ES"] * len(subjects),
            "victim_age_band": ["age.13_15"] * len(subjects),
        }
    )


def manifest(key: NodeKey, agreed: Agreement, **changes: Any) -> BundleManifest:
    values: dict[str, Any] = {
        "release_id": str(uuid.uuid4()),
        "node": key.node_id,
        "agreement_id": agreed.id,
        "agreement_version": agreed.version,
        "provider": agreed.provider,
        "recipients": tuple(agreed.recipients),
        "level": agreed.level.value,
        "period": "2026-Q3",
        "period_start": date(2026, 7, 1),
        "period_end": date(2026, 9, 30),
        "created_at": MADE,
        "vocabulary_version": VOCABULARY,
        "marking": agreed.marking.value,
        "onward_sharing": str(agreed.onward_sharing),
        "method": {"min_cell": 10},
        "risk_report": {"level": "low"},
        "decision": [{"rule": "in_force", "ok": True, "reason": "approved by every party"}],
    }
    return BundleManifest(**(values | changes))


def bundle(
    key: NodeKey,
    agreed: Agreement,
    counts: dict[str, int | None] | None = None,
    *,
    tables: dict[str, pl.DataFrame] | None = None,
    **changes: Any,
) -> bytes:
    """A signed bundle holding one count table (or ``tables``)."""
    frames = tables or {TABLE: count_table(counts or {"_total": 40, "ES": 25, "PT": 15})}
    resources = [BundleResource(n, f, f"{n} for the test") for n, f in frames.items()]
    return write_bundle(manifest(key, agreed, **changes), resources, key)
