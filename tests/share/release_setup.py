"""A provider, a hub and an agreement in force between them, and hand-built record frames:
what the release tests share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from concord.db.models import User
from concord.indicators.frame import LIST_COLUMNS
from concord.share import Agreement, approve, import_agreement
from tests.indicators.test_compute import TEXT_SCHEMA
from tests.protect.factories import audit_trail, organisation, user

PROVIDER = "hotline-es"
HUB = "regional-hub"


def agreement(**changes: Any) -> Agreement:
    body: dict[str, Any] = {
        "id": "es-to-hub",
        "version": 1,
        "title": "Hotline ES to the regional hub",
        "provider": PROVIDER,
        "recipients": [HUB],
        "purpose": "statistics",
        "legal_basis": "Memorandum of understanding.",
        "shares": {
            "indicators": ["reports.total", "reports.abuse_type"],
            "dimensions": ["country", "abuse_type", "victim_age_band", "month"],
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
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = body[key] | value
        else:
            body[key] = value
    return Agreement.model_validate(body)


def parties(session: Session) -> User:
    """The provider and the hub, an administrator of each, and a trained steward; the steward."""
    organisation(session, PROVIDER)
    organisation(session, HUB)
    user(session, "admin-es", roles={PROVIDER: ["administrator"]}, trained=False)
    user(session, "admin-hub", roles={HUB: ["administrator"]}, trained=False)
    return user(session, "steward-es", roles={PROVIDER: ["data_steward"]})


def approved(session: Session, agreed: Agreement, approvers: Mapping[str, str]) -> None:
    """Import ``agreed``; each ``organisation: administrator`` of ``approvers`` approves it."""
    audit = audit_trail()
    import_agreement(session, audit, agreed, actor="test")
    for org, admin in approvers.items():
        approve(
            session,
            audit,
            agreement_id=agreed.id,
            version=agreed.version,
            organisation=org,
            approver_username=admin,
        )


def in_force(session: Session, agreed: Agreement) -> None:
    approved(session, agreed, {PROVIDER: "admin-es", HUB: "admin-hub"})


def records(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """A record frame from partial rows (the rest empty), for the provider."""
    defaults: dict[str, Any] = {name: [] for name in LIST_COLUMNS}
    defaults |= {"source_org": PROVIDER, "received_date": date(2026, 7, 15)}
    full = [{"id": i + 1} | defaults | row for i, row in enumerate(rows)]
    return pl.DataFrame(full, schema=TEXT_SCHEMA, orient="row")


def many(count: int, **row: Any) -> list[dict[str, Any]]:
    return [row] * count
