"""The access policy: role, token scope, training gate and purpose, each rule allowing and
refusing, with the reasons a user is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from concord.errors import PermissionDeniedError
from concord.protect.policy import decide
from concord.protect.roles import ROLE_PERMISSIONS, SENSITIVITY, Permission, Role, Sensitivity
from tests.protect.factories import principal, user


def test_aggregate_needs_only_a_role(session: Session) -> None:
    viewer = principal(session, user(session, "vic", roles={"org-a": ["viewer"]}, trained=False))
    assert decide(viewer, Permission.AGGREGATE_READ, "org-a").allowed
    refused = decide(viewer, Permission.AGGREGATE_READ, "org-b")
    assert not refused.allowed and "your roles in org-b (none)" in refused.reasons[0]


def test_records_need_training_purpose_and_a_held_purpose(session: Session) -> None:
    analyst = user(session, "ana", roles={"org-a": ["analyst"]})
    assert decide(
        principal(session, analyst, purpose="research"), Permission.RECORD_READ, "org-a"
    ).allowed
    no_purpose = decide(principal(session, analyst), Permission.RECORD_READ, "org-a")
    assert not no_purpose.allowed and "state the purpose" in no_purpose.reasons[0]
    stats = decide(
        principal(session, analyst, purpose="statistics"), Permission.RECORD_READ, "org-a"
    )
    assert not stats.allowed and "aggregates only" in stats.reasons[0]
    not_held = decide(
        principal(session, analyst, purpose="referral"), Permission.RECORD_READ, "org-a"
    )
    assert not not_held.allowed and "does not hold the purpose referral" in not_held.reasons[0]


def test_untrained_user_sees_aggregates_only_and_is_told_why(session: Session) -> None:
    analyst = user(session, "una", roles={"org-a": ["analyst"]}, trained=False)
    p = principal(session, analyst, purpose="research")
    assert decide(p, Permission.AGGREGATE_READ, "org-a").allowed
    refused = decide(p, Permission.RECORD_READ, "org-a")
    assert not refused.allowed
    assert any("no data protection training" in r for r in refused.reasons)
    assert any("no child safeguarding training" in r for r in refused.reasons)
    with pytest.raises(PermissionDeniedError) as info:
        p.require(Permission.RECORD_READ, "org-a")
    assert info.value.status_code == 403 and info.value.details == refused.reasons


def test_expired_training_refuses_and_expiring_training_warns(session: Session) -> None:
    cw = user(session, "cara", roles={"org-a": ["caseworker"]}, expires_in_days=20)
    today = datetime.now(UTC).date()
    soon = principal(session, cw, purpose="case_management", today=today)
    assert decide(soon, Permission.RECORD_READ, "org-a").allowed
    assert soon.training.warnings and "expires on" in soon.training.warnings[0]
    later = principal(session, cw, purpose="case_management", today=today + timedelta(days=21))
    refused = decide(later, Permission.RECORD_READ, "org-a")
    assert not refused.allowed and "training expired on" in refused.reasons[0]


def test_identifying_values_need_a_purpose_that_justifies_them(session: Session) -> None:
    cw = user(session, "cid", roles={"org-a": ["caseworker"]})
    assert decide(
        principal(session, cw, purpose="case_management"), Permission.IDENTIFYING_READ, "org-a"
    ).allowed
    research = decide(
        principal(session, cw, purpose="research"), Permission.IDENTIFYING_READ, "org-a"
    )
    assert not research.allowed and "does not justify identifying" in research.reasons[0]
    steward = user(session, "stew", roles={"org-a": ["data_steward"]})
    refused = decide(
        principal(session, steward, purpose="case_management"), Permission.IDENTIFYING_READ, "org-a"
    )
    assert not refused.allowed and "data_steward" in refused.reasons[0]


def test_token_scopes_narrow_what_a_role_allows(session: Session) -> None:
    from dataclasses import replace

    analyst = principal(
        session, user(session, "tok", roles={"org-a": ["analyst"]}), purpose="research"
    )
    scoped = replace(analyst, scopes=frozenset({Permission.AGGREGATE_READ}), via="token")
    assert decide(scoped, Permission.AGGREGATE_READ, "org-a").allowed
    refused = decide(scoped, Permission.RECORD_READ, "org-a")
    assert not refused.allowed and "not scoped for record.read" in refused.reasons[0]


def test_node_admin_administers_every_org_but_sees_no_records(session: Session) -> None:
    admin = principal(
        session,
        user(session, "root", node_admin=True, roles={"org-a": ["administrator"]}),
        purpose="case_management",
    )
    assert decide(admin, Permission.ORG_ADMIN, "org-z").allowed
    assert not decide(admin, Permission.RECORD_READ, "org-a").allowed


@pytest.mark.parametrize("role", list(Role))
def test_only_caseworkers_reveal_identifying_values(role: Role) -> None:
    assert (Permission.IDENTIFYING_READ in ROLE_PERMISSIONS[role]) == (role is Role.CASEWORKER)


def test_every_permission_has_a_sensitivity() -> None:
    assert set(SENSITIVITY) == set(Permission)
    assert SENSITIVITY[Permission.IDENTIFYING_READ] is Sensitivity.IDENTIFYING
