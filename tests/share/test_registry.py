"""Stored agreements: versions never change, every party approves, then it is in force."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry
from concord.errors import InputError, NotFoundError, PermissionDeniedError
from concord.share import (
    Agreement,
    approve,
    export_agreement,
    get_agreement,
    import_agreement,
    in_force,
    list_agreements,
    parse_agreement,
)
from concord.share.registry import effective_status
from tests.protect.factories import audit_trail, organisation, user

AUDIT = audit_trail()


def make(version: int = 1, **changes: Any) -> Agreement:
    body: dict[str, Any] = {
        "id": "ngo-a-to-hub",
        "version": version,
        "title": "NGO A to hub and NGO B",
        "provider": "ngo-a",
        "recipients": ["hub", "ngo-b"],
        "purpose": "statistics",
        "legal_basis": "Memorandum of understanding.",
        "shares": {"indicators": ["reports.abuse_type"]},
        "level": "aggregate",
        "frequency": "monthly",
        "valid_from": date(2026, 1, 1),
        "valid_to": date(2026, 12, 31),
        "marking": "GREEN",
        "onward_sharing": "within_recipient",
        "consent_required": False,
    }
    return Agreement.model_validate(body | changes)


@pytest.fixture
def parties(session: Session) -> None:
    for org in ("ngo-a", "hub", "ngo-b", "ngo-c"):
        organisation(session, org)
    user(session, "admin-a", roles={"ngo-a": ["administrator"]}, trained=False)
    user(session, "admin-hub", roles={"hub": ["administrator"]}, trained=False)
    user(session, "admin-b", roles={"ngo-b": ["administrator"]}, trained=False)
    user(session, "admin-c", roles={"ngo-c": ["administrator"]}, trained=False)
    user(session, "analyst-a", roles={"ngo-a": ["analyst", "data_steward"]}, trained=False)


def approve_all(session: Session, version: int, orgs: tuple[str, ...] = ("a", "hub", "b")) -> None:
    slugs = {"a": "ngo-a", "hub": "hub", "b": "ngo-b"}
    for short in orgs:
        approve(
            session,
            AUDIT,
            agreement_id="ngo-a-to-hub",
            version=version,
            organisation=slugs[short],
            approver_username=f"admin-{short}",
        )


def actions(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("agreement.%"))
            .order_by(AuditEntry.seq)
        )
    )


def test_import_stores_a_draft_and_is_audited(session: Session) -> None:
    stored = import_agreement(session, AUDIT, make(), actor="steward")
    assert stored.status == "draft"
    assert stored.waiting_for == ["ngo-a", "hub", "ngo-b"]
    assert actions(session) == ["agreement.import"]


def test_identical_reimport_is_a_no_op(session: Session) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    import_agreement(session, AUDIT, make(), actor="steward")
    assert len(list_agreements(session)) == 1
    assert actions(session) == ["agreement.import"]


def test_an_edit_needs_a_higher_version(session: Session) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    with pytest.raises(InputError, match="already stored with a different text"):
        import_agreement(session, AUDIT, make(title="Changed"), actor="steward")
    import_agreement(session, AUDIT, make(3, title="Changed"), actor="steward")
    with pytest.raises(InputError, match="must be version 4 or higher, not 2"):
        import_agreement(session, AUDIT, make(2, title="Other"), actor="steward")
    assert [s.agreement.version for s in list_agreements(session)] == [1, 3]
    assert get_agreement(session, "ngo-a-to-hub", 1).agreement.title == "NGO A to hub and NGO B"
    assert get_agreement(session, "ngo-a-to-hub").agreement.version == 3


def test_import_checks_cross_field_rules_too(session: Session) -> None:
    bad = make(valid_to=date(2025, 1, 1))
    with pytest.raises(InputError, match="1 problem"):
        import_agreement(session, AUDIT, bad, actor="steward")


@pytest.mark.usefixtures("parties")
def test_in_force_only_after_every_party_approves(session: Session) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    on = date(2026, 6, 1)
    first = approve(
        session,
        AUDIT,
        agreement_id="ngo-a-to-hub",
        version=1,
        organisation="ngo-a",
        approver_username="admin-a",
    )
    assert first.recorded and not first.in_force
    assert first.waiting_for == ["hub", "ngo-b"]
    assert in_force(session, "ngo-a-to-hub", at=on) is None
    approve_all(session, 1, ("hub",))
    assert in_force(session, "ngo-a-to-hub", at=on) is None
    assert get_agreement(session, "ngo-a-to-hub").status == "draft"
    approve_all(session, 1, ("b",))
    found = in_force(session, "ngo-a-to-hub", at=on)
    assert found is not None
    assert found.version == 1
    stored = get_agreement(session, "ngo-a-to-hub")
    assert stored.approved_by == {"ngo-a": "admin-a", "hub": "admin-hub", "ngo-b": "admin-b"}
    assert actions(session)[-1] == "agreement.in_force"
    assert actions(session).count("agreement.approve") == 3


@pytest.mark.usefixtures("parties")
def test_approving_twice_is_a_no_op(session: Session) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    approve_all(session, 1, ("a",))
    again = approve(
        session,
        AUDIT,
        agreement_id="ngo-a-to-hub",
        version=1,
        organisation="ngo-a",
        approver_username="admin-a",
    )
    assert not again.recorded
    assert actions(session).count("agreement.approve") == 1


@pytest.mark.usefixtures("parties")
@pytest.mark.parametrize(
    ("organisation_slug", "username", "message"),
    [
        ("ngo-c", "admin-c", "not a party"),
        ("ngo-a", "analyst-a", "only an active administrator"),
        ("ngo-a", "admin-hub", "only an active administrator"),
    ],
)
def test_non_party_and_non_admin_are_refused(
    session: Session, organisation_slug: str, username: str, message: str
) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    with pytest.raises(PermissionDeniedError, match=message):
        approve(
            session,
            AUDIT,
            agreement_id="ngo-a-to-hub",
            version=1,
            organisation=organisation_slug,
            approver_username=username,
        )
    assert get_agreement(session, "ngo-a-to-hub").approved_by == {}


@pytest.mark.usefixtures("parties")
def test_unknown_agreement_version_or_user(session: Session) -> None:
    with pytest.raises(NotFoundError):
        approve_all(session, 1, ("a",))
    import_agreement(session, AUDIT, make(), actor="steward")
    with pytest.raises(NotFoundError, match="version 2"):
        approve_all(session, 2, ("a",))
    with pytest.raises(NotFoundError, match="no user"):
        approve(
            session,
            AUDIT,
            agreement_id="ngo-a-to-hub",
            version=1,
            organisation="ngo-a",
            approver_username="ghost",
        )


@pytest.mark.usefixtures("parties")
def test_a_new_version_supersedes_the_old_only_once_approved(session: Session) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    approve_all(session, 1)
    import_agreement(session, AUDIT, make(2, marking="AMBER"), actor="steward")
    on = date(2026, 6, 1)
    current = in_force(session, "ngo-a-to-hub", at=on)
    assert current is not None
    assert current.version == 1
    approve_all(session, 2, ("a", "hub"))
    assert get_agreement(session, "ngo-a-to-hub", 1).status == "in_force"
    result = approve(
        session,
        AUDIT,
        agreement_id="ngo-a-to-hub",
        version=2,
        organisation="ngo-b",
        approver_username="admin-b",
    )
    assert result.in_force
    assert result.superseded == [1]
    assert get_agreement(session, "ngo-a-to-hub", 1).status == "superseded"
    current = in_force(session, "ngo-a-to-hub", at=on)
    assert current is not None
    assert current.version == 2
    late = approve(
        session,
        AUDIT,
        agreement_id="ngo-a-to-hub",
        version=1,
        organisation="hub",
        approver_username="admin-hub",
    )
    assert not late.recorded
    assert not late.in_force


@pytest.mark.usefixtures("parties")
def test_validity_dates_are_respected(session: Session) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    approve_all(session, 1)
    assert in_force(session, "ngo-a-to-hub", at=date(2025, 12, 31)) is None
    assert in_force(session, "ngo-a-to-hub", at=date(2026, 1, 1)) is not None
    assert in_force(session, "ngo-a-to-hub", at=date(2026, 12, 31)) is not None
    assert in_force(session, "ngo-a-to-hub", at=date(2027, 1, 1)) is None
    stored = get_agreement(session, "ngo-a-to-hub")
    assert effective_status(stored, date(2026, 6, 1)) == "in_force"
    assert effective_status(stored, date(2027, 1, 1)) == "expired"


def test_export_round_trips(session: Session) -> None:
    import_agreement(session, AUDIT, make(), actor="steward")
    text = export_agreement(session, "ngo-a-to-hub", 1)
    assert parse_agreement(text, source="export") == make()
