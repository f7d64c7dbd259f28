"""Demo accounts: one per role, labelled, idempotent, and never added to a node with real users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import User
from concord.protect.auth import login
from concord.protect.demo_accounts import DEMO_PASSWORD, DemoOrg, ensure_demo_node
from concord.protect.identity import load_principal
from concord.protect.roles import Permission
from tests.protect.factories import audit_trail, user

ORGS = [
    DemoOrg("helpline-d", "Helpline D", "FR", "child helpline"),
    DemoOrg("hotline-d", "Hotline D", "ES", "hotline"),
]


def test_one_labelled_account_per_role_and_idempotent(session: Session) -> None:
    accounts = ensure_demo_node(session, audit_trail(), ORGS)
    assert {a.role for a in accounts} == {
        "administrator",
        "data_steward",
        "analyst",
        "caseworker",
        "auditor",
        "viewer",
    }
    again = ensure_demo_node(session, audit_trail(), ORGS)
    assert [a.username for a in again] == [a.username for a in accounts]
    demo_users = session.scalars(select(User).where(User.is_demo.is_(True))).all()
    assert len(demo_users) == len(accounts)
    login(session, audit_trail(), username="demo-caseworker", password=DEMO_PASSWORD)
    untrained = session.scalars(select(User).where(User.username == "demo-untrained")).one()
    principal = load_principal(session, untrained, purpose="research")
    assert principal.can(Permission.AGGREGATE_READ, "hotline-d")
    assert not principal.can(Permission.RECORD_READ, "hotline-d")
    caseworker = session.scalars(select(User).where(User.username == "demo-caseworker")).one()
    cw = load_principal(session, caseworker, purpose="case_management")
    assert cw.can(Permission.IDENTIFYING_READ, "helpline-d")
    assert "hotline-d" not in cw.organisations  # a hotline does not manage cases


def test_no_demo_accounts_on_a_node_with_real_users(session: Session) -> None:
    user(session, "real-person")
    assert ensure_demo_node(session, audit_trail(), ORGS) == []
    assert session.scalars(select(User).where(User.is_demo.is_(True))).all() == []
