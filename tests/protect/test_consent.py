"""The consent registry: every rule of ``may_use`` with its reason, withdrawal and the marks it
leaves on disclosures, the harm exception's four-eyes approval and review date, recording
checks, and the audit entries each change writes.

Runs on SQLite and PostgreSQL (``session`` fixture). Times are fixed in the past (recording
refuses the future) so reasons can be matched to the day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry, ConsentRecord, SubjectDisclosure
from concord.errors import ConsentDeniedError, InputError, NotFoundError
from concord.moments import as_utc
from concord.protect import consent
from concord.protect.audit import AuditTrail
from concord.protect.consent_terms import (
    scope_label,
    sharing_agreement_scope,
    sharing_org_scope,
    validate_scope,
    validate_scopes,
)
from concord.protect.harm import MAX_REVIEW_DAYS

TRAIL = AuditTrail(b"\x02" * 32)
ORG = "helpline-fr"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def key(label: str) -> str:
    """A subject pseudonym (tests do not need the organisation's key)."""
    return hashlib.sha256(label.encode()).hexdigest()


SUBJECT = key("child-1")
OTHER = key("child-2")


def t(days: float = 0, hours: float = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours)


@dataclass
class Registry:
    """Short calls for the scenarios; every change goes through the service functions."""

    session: Session
    subject: str = SUBJECT

    def assess(self, outcome: str, at: datetime, by: str = "assessor") -> int:
        row = consent.assess_capacity(
            self.session,
            TRAIL,
            organisation=ORG,
            subject_key=self.subject,
            assessed_by=by,
            outcome=outcome,
            notes="talked with the child at school",
            at=at,
        )
        return row.id

    def record(
        self, party: str, status: str, scopes: list[str], at: datetime, **extra: Any
    ) -> ConsentRecord:
        if status == "given":
            extra.setdefault("evidence_ref", "form-2025-113")
        if status == "not_applicable":
            extra.setdefault("not_applicable_reason", "caregiver is the alleged offender")
        return consent.record_consent(
            self.session,
            TRAIL,
            organisation=ORG,
            subject_key=self.subject,
            party=party,
            status=status,
            scopes=scopes,
            recorded_by="caseworker",
            given_at=at,
            **extra,
        )

    def check(self, scope: str, at: datetime) -> consent.ConsentDecision:
        return consent.may_use(
            self.session, organisation=ORG, subject_key=self.subject, scope=scope, at=at
        )

    def withdraw(self, party: str, scopes: list[str] | None, at: datetime) -> Any:
        return consent.withdraw_consent(
            self.session,
            TRAIL,
            by="caseworker",
            organisation=ORG,
            subject_key=self.subject,
            party=party,
            scopes=scopes,
            at=at,
        )

    def disclose(self, recipient: str, scope: str, at: datetime) -> SubjectDisclosure:
        return consent.record_disclosure(
            self.session,
            organisation=ORG,
            subject_key=self.subject,
            recipient=recipient,
            scope=scope,
            reference=f"bundle-{recipient}",
            at=at,
        ).disclosure

    def harm(self, scopes: list[str], at: datetime, review_on: date | None = None) -> int:
        row = consent.request_harm_exception(
            self.session,
            TRAIL,
            organisation=ORG,
            subject_key=self.subject,
            scopes=scopes,
            justification="child disclosed ongoing abuse at home",
            requested_by="alice",
            review_on=review_on or (at + timedelta(days=30)).date(),
            at=at,
        )
        return row.id

    def approve(self, exception_id: int, at: datetime, approver: str = "bob") -> None:
        consent.approve_harm_exception(
            self.session, TRAIL, exception_id=exception_id, approver=approver, at=at
        )


@pytest.fixture
def reg(session: Session) -> Registry:
    return Registry(session)


def consented(reg: Registry, scopes: list[str], outcome: str = "not_capable") -> None:
    """A child assessed ``outcome`` who assented, and a caregiver who consented, on day 0."""
    reg.assess(outcome, t())
    reg.record("child", "given", scopes, t(hours=1))
    reg.record("caregiver", "given", scopes, t(hours=2))


# --- scopes ---------------------------------------------------------------------------------


def test_scopes_simple_and_named_sharing_are_accepted() -> None:
    for scope in ("case_management", "referral", "research"):
        assert validate_scope(scope) == scope
    assert sharing_org_scope("police-fr") == "sharing:org:police-fr"
    assert sharing_agreement_scope("DSA-2026.04") == "sharing:agreement:DSA-2026.04"
    assert validate_scopes(["research", " referral", "research"]) == ["referral", "research"]
    assert scope_label("sharing:org:police-fr") == "sharing with police-fr"
    assert scope_label("case_management") == "case management"


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        ("marketing", "unknown consent scope 'marketing'.*known scopes: case_management"),
        ("sharing", "must name the organisation or the agreement"),
        ("sharing:partners", "must name the organisation or the agreement"),
        ("sharing:org:Police FR", "must be an organisation slug"),
        ("sharing:org:", "must be an organisation slug"),
        ("sharing:agreement:a b", "agreement id"),
    ],
)
def test_unknown_or_vague_scopes_are_refused_with_the_known_ones(scope: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_scope(scope)


# --- consent rules: allow paths -------------------------------------------------------------


def test_not_capable_child_assent_and_caregiver_consent_allow(reg: Registry) -> None:
    consented(reg, ["referral"])
    decision = reg.check("referral", t(1))
    assert decision.allowed and decision.basis == "consent"
    assert decision.reason == (
        "caregiver consented to referral on 2025-03-01; the child, assessed not capable on "
        "2025-03-01, assented to referral on 2025-03-01"
    )
    assert len(decision.consent_ids) == 2 and decision.harm_exception_id is None


def test_capable_child_assent_and_caregiver_consent_allow(reg: Registry) -> None:
    consented(reg, ["referral"], outcome="capable")
    decision = reg.check("referral", t(1))
    assert decision.allowed
    assert decision.reason.startswith(
        "the child, assessed capable on 2025-03-01, assented to referral on 2025-03-01; "
        "caregiver consented to referral"
    )


def test_capable_child_alone_suffices_when_caregiver_consent_is_not_applicable(
    reg: Registry,
) -> None:
    reg.assess("capable", t())
    reg.record("child", "given", ["referral"], t(hours=1))
    reg.record("caregiver", "not_applicable", [], t(hours=2))
    decision = reg.check("referral", t(1))
    assert decision.allowed and decision.basis == "consent"
    assert "caregiver consent recorded not applicable on 2025-03-01" in decision.reason


def test_unassessed_child_whose_assent_is_not_applicable_with_caregiver_consent(
    reg: Registry,
) -> None:
    reg.record(
        "child", "not_applicable", [], t(), not_applicable_reason="infant, cannot express a view"
    )
    reg.record("caregiver", "given", ["case_management"], t(hours=1))
    decision = reg.check("case_management", t(1))
    assert decision.allowed
    assert decision.reason == (
        "caregiver consented to case management on 2025-03-01; the child's assent was recorded "
        "not applicable on 2025-03-01 (not assessed for capacity)"
    )


def test_later_consent_overrides_an_earlier_refusal(reg: Registry) -> None:
    reg.assess("not_capable", t())
    reg.record("child", "given", ["referral"], t(hours=1))
    reg.record("caregiver", "refused", ["referral"], t(hours=2))
    assert not reg.check("referral", t(1)).allowed
    reg.record("caregiver", "given", ["referral"], t(2))
    assert reg.check("referral", t(3)).allowed
    assert not reg.check("referral", t(1)).allowed  # history is kept: asked as of day 1


# --- consent rules: deny paths --------------------------------------------------------------


def test_nothing_recorded_denies_and_says_what_is_missing(reg: Registry) -> None:
    decision = reg.check("referral", t())
    assert not decision.allowed and decision.basis == "none"
    assert decision.reason == (
        "the child's assent to referral has not been sought (record it, or why it is not "
        "applicable); no caregiver consent covers referral"
    )


def test_no_consent_covers_another_scope(reg: Registry) -> None:
    consented(reg, ["referral", "sharing:org:police-fr"])
    research = reg.check("research", t(1))
    assert not research.allowed
    assert "no caregiver consent covers research" in research.reason
    other_org = reg.check("sharing:org:health-fr", t(1))
    assert not other_org.allowed
    assert "no caregiver consent covers sharing with health-fr" in other_org.reason
    assert reg.check("sharing:org:police-fr", t(1)).allowed


def test_consent_of_one_subject_does_not_cover_another(session: Session) -> None:
    consented(Registry(session), ["referral"])
    assert not Registry(session, OTHER).check("referral", t(1)).allowed


def test_caregiver_refusal_denies_even_for_a_capable_child_who_assented(reg: Registry) -> None:
    reg.assess("capable", t())
    reg.record("child", "given", ["referral"], t(hours=1))
    reg.record("caregiver", "refused", ["referral"], t(hours=2))
    decision = reg.check("referral", t(1))
    assert not decision.allowed
    assert decision.reason == "the caregiver refused referral on 2025-03-01"


def test_a_not_capable_childs_refusal_denies_despite_caregiver_consent(reg: Registry) -> None:
    reg.record("child", "refused", ["research"], t())  # no assessment needed to object
    reg.record("caregiver", "given", ["research"], t(hours=1))
    decision = reg.check("research", t(1))
    assert not decision.allowed
    assert decision.reason == "the child refused research on 2025-03-01"


def test_capable_child_must_assent_themselves(reg: Registry) -> None:
    reg.assess("capable", t())
    reg.record("caregiver", "given", ["referral"], t(hours=1))
    decision = reg.check("referral", t(1))
    assert not decision.allowed
    assert decision.reason == (
        "the child, assessed capable on 2025-03-01, has not assented to referral"
    )


def test_not_applicable_assent_stops_counting_once_the_child_is_assessed_capable(
    reg: Registry,
) -> None:
    reg.assess("not_capable", t())
    reg.record("child", "not_applicable", [], t(hours=1), not_applicable_reason="too young")
    reg.record("caregiver", "given", ["referral"], t(hours=2))
    assert reg.check("referral", t(1)).allowed
    reg.assess("capable", t(400))
    decision = reg.check("referral", t(401))
    assert not decision.allowed
    assert decision.reason.startswith(
        "the child was assessed capable on 2026-04-05, so their own assent to referral is needed"
    )


def test_capable_child_still_needs_caregiver_consent_unless_not_applicable(
    reg: Registry,
) -> None:
    reg.assess("capable", t())
    reg.record("child", "given", ["referral"], t(hours=1))
    decision = reg.check("referral", t(1))
    assert not decision.allowed
    assert decision.reason == "no caregiver consent covers referral"


def test_nobody_able_to_consent_when_caregiver_not_applicable_and_child_not_capable(
    reg: Registry,
) -> None:
    reg.assess("not_capable", t())
    reg.record("child", "given", ["referral"], t(hours=1))
    reg.record("caregiver", "not_applicable", [], t(hours=2))
    decision = reg.check("referral", t(1))
    assert not decision.allowed
    assert decision.reason.startswith(
        "caregiver consent is recorded not applicable and the child is assessed not capable on "
        "2025-03-01, so nobody able to consent has agreed to referral"
    )
    assert "request a harm exception" in decision.reason


def test_every_problem_is_named_at_once(reg: Registry) -> None:
    reg.record("child", "refused", ["referral"], t())
    decision = reg.check("referral", t(1))
    assert decision.reason == (
        "the child refused referral on 2025-03-01; no caregiver consent covers referral"
    )


def test_a_record_given_later_does_not_count_earlier(reg: Registry) -> None:
    consented(reg, ["referral"])
    assert not reg.check("referral", t(hours=1, days=0)).allowed  # before the caregiver's


# --- withdrawal -----------------------------------------------------------------------------


def test_withdrawal_stops_use_at_its_moment(reg: Registry) -> None:
    consented(reg, ["referral"])
    moment = t(10, hours=3)
    report = reg.withdraw("caregiver", None, moment)
    assert report.scopes == ("referral",) and report.party == "caregiver"
    assert reg.check("referral", moment - timedelta(microseconds=1)).allowed
    at_once = reg.check("referral", moment)
    assert not at_once.allowed
    assert at_once.reason == "caregiver consent to referral withdrawn on 2025-03-11"
    assert not reg.check("referral", t(100)).allowed


def test_childs_withdrawal_denies_and_names_the_child(reg: Registry) -> None:
    consented(reg, ["referral"], outcome="capable")
    reg.withdraw("child", ["referral"], t(5))
    assert reg.check("referral", t(6)).reason == (
        "the child's assent to referral withdrawn on 2025-03-06"
    )


def test_withdrawal_flags_what_was_shared_in_those_scopes_only(reg: Registry) -> None:
    consented(reg, ["referral", "research", "sharing:org:police-fr"])
    to_police = reg.disclose("police-fr", "sharing:org:police-fr", t(1))
    referred = reg.disclose("health-service", "referral", t(2))
    researched = reg.disclose("university", "research", t(3))
    other = Registry(reg.session, OTHER)
    consented(other, ["referral"])
    other_referral = other.disclose("health-service", "referral", t(2))

    report = reg.withdraw("caregiver", ["referral", "sharing:org:police-fr"], t(4))
    assert {f.id for f in report.flagged} == {to_police.id, referred.id}
    flagged = next(f for f in report.flagged if f.id == referred.id)
    assert flagged.recipient == "health-service" and flagged.reference == "bundle-health-service"
    reg.session.expire_all()
    assert flagged_at(reg.session, to_police.id) == t(4)
    assert flagged_at(reg.session, researched.id) is None
    assert flagged_at(reg.session, other_referral.id) is None
    # Research continues on the rest of the record; what is flagged is not flagged twice.
    assert reg.check("research", t(5)).allowed
    assert report.continued and report.to_dict()["flagged"][0]["recipient"]
    second = reg.withdraw("child", ["referral"], t(6))
    assert second.flagged == ()


def flagged_at(session: Session, disclosure_id: int) -> datetime | None:
    row = session.get(SubjectDisclosure, disclosure_id)
    assert row is not None
    moment = row.withdrawal_flagged_at
    return None if moment is None else as_utc(moment)


def test_partial_withdrawal_carries_the_other_scopes_on(reg: Registry) -> None:
    consented(reg, ["referral", "research"])
    report = reg.withdraw("caregiver", ["research"], t(2))
    (withdrawn,) = report.withdrawn
    (carried_id,) = report.continued
    original = reg.session.get(ConsentRecord, withdrawn)
    carried = reg.session.get(ConsentRecord, carried_id)
    assert original is not None and carried is not None
    assert original.withdrawn_at is not None and carried.withdrawn_at is None
    assert carried.scopes == ["referral"] and carried.evidence_ref == original.evidence_ref
    assert not reg.check("research", t(3)).allowed
    assert reg.check("referral", t(3)).allowed


def test_withdrawal_by_id_of_some_scopes(reg: Registry) -> None:
    consented(reg, ["referral", "research"])
    child = reg.session.scalars(select(ConsentRecord).where(ConsentRecord.party == "child")).one()
    report = consent.withdraw_consent(
        reg.session, TRAIL, by="caseworker", consent_id=child.id, scopes=["referral"], at=t(2)
    )
    assert report.withdrawn == (child.id,) and report.scopes == ("referral",)
    assert not reg.check("referral", t(3)).allowed and reg.check("research", t(3)).allowed
    with pytest.raises(InputError, match="does not cover"):
        consent.withdraw_consent(
            reg.session, TRAIL, by="x", consent_id=report.continued[0], scopes=["referral"]
        )


def test_withdrawal_covers_every_record_of_the_party_in_that_scope(reg: Registry) -> None:
    consented(reg, ["referral"])
    reg.record("caregiver", "given", ["referral", "research"], t(1))
    report = reg.withdraw("caregiver", ["referral"], t(2))
    assert len(report.withdrawn) == 2
    assert not reg.check("referral", t(3)).allowed
    assert reg.check("research", t(3)).reason == (
        "the child's assent to research has not been sought (record it, or why it is not "
        "applicable)"
    )


def test_withdrawal_by_id_checks_the_subject_and_what_can_be_withdrawn(reg: Registry) -> None:
    consented(reg, ["referral"])
    refusal = reg.record("child", "refused", ["research"], t(1))
    carer = reg.session.scalars(
        select(ConsentRecord).where(ConsentRecord.party == "caregiver")
    ).first()
    assert carer is not None

    def by_id(record_id: int, subject: str = SUBJECT) -> Any:
        return consent.withdraw_consent(
            reg.session,
            TRAIL,
            by="caseworker",
            consent_id=record_id,
            organisation=ORG,
            subject_key=subject,
            at=t(2),
        )

    with pytest.raises(NotFoundError, match=f"no consent record #{carer.id}"):
        by_id(carer.id, OTHER)
    with pytest.raises(InputError, match="is a refusal"):
        by_id(refusal.id)
    assert by_id(carer.id).withdrawn == (carer.id,)
    with pytest.raises(InputError, match="already withdrawn on 2025-03-03"):
        by_id(carer.id)
    with pytest.raises(InputError, match="no consent of the caregiver covering any scope"):
        reg.withdraw("caregiver", None, t(3))
    with pytest.raises(NotFoundError):
        by_id(999_999)


def test_withdrawal_time_must_follow_the_consent_and_not_lie_ahead(reg: Registry) -> None:
    consented(reg, ["referral"])
    with pytest.raises(InputError, match="in force to withdraw"):
        reg.withdraw("caregiver", None, t(-1))
    with pytest.raises(InputError, match="in the future"):
        reg.withdraw("caregiver", None, datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(InputError, match="name the consent record"):
        consent.withdraw_consent(reg.session, TRAIL, by="x", organisation=ORG)


def test_withdrawing_not_applicable_means_the_caregiver_must_now_consent(reg: Registry) -> None:
    reg.assess("capable", t())
    reg.record("child", "given", ["referral"], t(hours=1))
    not_applicable = reg.record("caregiver", "not_applicable", [], t(hours=2))
    assert reg.check("referral", t(1)).allowed
    report = consent.withdraw_consent(
        reg.session, TRAIL, by="caseworker", consent_id=not_applicable.id, at=t(2)
    )
    assert report.scopes == () and report.flagged == ()
    assert reg.check("referral", t(3)).reason == "no caregiver consent covers referral"


# --- the harm exception ---------------------------------------------------------------------


def test_harm_exception_needs_another_approver_then_allows(reg: Registry) -> None:
    reg.record("caregiver", "refused", ["referral"], t())
    exception_id = reg.harm(["referral"], t(1))
    assert not reg.check("referral", t(1, hours=1)).allowed  # requested only
    with pytest.raises(InputError, match="requested by alice; another person must approve"):
        reg.approve(exception_id, t(2), approver=" Alice ")
    reg.approve(exception_id, t(2))
    decision = reg.check("referral", t(3))
    assert decision.allowed and decision.basis == "harm_exception"
    assert decision.harm_exception_id == exception_id
    assert decision.reason.startswith(
        f"harm exception #{exception_id} for referral approved by bob on 2025-03-03, in force "
        "until its review on 2025-04-01 (consent alone does not allow it: the caregiver refused"
    )
    assert not reg.check("research", t(3)).allowed  # only its scopes
    assert not reg.check("referral", t(1, hours=12)).allowed  # before the approval


def test_harm_exception_lapses_after_its_review_date(reg: Registry) -> None:
    exception_id = reg.harm(["case_management"], t(), review_on=date(2025, 3, 10))
    reg.approve(exception_id, t(1))
    assert reg.check("case_management", datetime(2025, 3, 10, 23, 59, tzinfo=UTC)).allowed
    assert not reg.check("case_management", datetime(2025, 3, 11, tzinfo=UTC)).allowed
    with pytest.raises(InputError, match="passed its review date"):
        consent.approve_harm_exception(
            reg.session,
            TRAIL,
            exception_id=reg.harm(["referral"], t(), review_on=date(2025, 3, 2)),
            approver="bob",
            at=t(5),
        )


def test_ended_harm_exception_allows_nothing_more(reg: Registry) -> None:
    exception_id = reg.harm(["referral"], t())
    reg.approve(exception_id, t(1))
    consent.end_harm_exception(reg.session, TRAIL, exception_id=exception_id, by="bob", at=t(2))
    assert reg.check("referral", t(1, hours=12)).allowed
    assert not reg.check("referral", t(2)).allowed
    with pytest.raises(InputError, match="was ended"):
        reg.approve(exception_id, t(3), approver="carol")
    with pytest.raises(InputError, match="already ended"):
        consent.end_harm_exception(reg.session, TRAIL, exception_id=exception_id, by="bob", at=t(3))


def test_harm_exception_request_checks(reg: Registry) -> None:
    with pytest.raises(InputError, match="must name the scopes"):
        reg.harm([], t())
    with pytest.raises(InputError, match=f"within {MAX_REVIEW_DAYS} days"):
        reg.harm(["referral"], t(), review_on=(t() + timedelta(days=MAX_REVIEW_DAYS + 1)).date())
    with pytest.raises(InputError, match="already past"):
        reg.harm(["referral"], t(), review_on=date(2025, 2, 1))
    with pytest.raises(InputError, match="justification"):
        consent.request_harm_exception(
            reg.session,
            TRAIL,
            organisation=ORG,
            subject_key=SUBJECT,
            scopes=["referral"],
            justification="  ",
            requested_by="alice",
            review_on=date(2025, 3, 5),
            at=t(),
        )
    exception_id = reg.harm(["referral"], t())
    reg.approve(exception_id, t(1))
    with pytest.raises(InputError, match="already approved by bob"):
        reg.approve(exception_id, t(2), approver="carol")
    with pytest.raises(NotFoundError):
        consent.approve_harm_exception(
            reg.session, TRAIL, exception_id=exception_id, approver="carol", subject_key=OTHER
        )


def test_consent_is_the_basis_when_it_allows_even_with_an_exception(reg: Registry) -> None:
    consented(reg, ["referral"])
    reg.approve(reg.harm(["referral"], t(1)), t(2))
    decision = reg.check("referral", t(3))
    assert decision.allowed and decision.basis == "consent"


def test_harm_exception_overrides_a_withdrawal(reg: Registry) -> None:
    consented(reg, ["referral"])
    reg.withdraw("caregiver", None, t(1))
    reg.approve(reg.harm(["referral"], t(2)), t(3))
    decision = reg.check("referral", t(4))
    assert decision.basis == "harm_exception"
    assert "caregiver consent to referral withdrawn on 2025-03-02" in decision.reason


# --- recording checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("party", "status", "scopes", "extra", "message"),
    [
        ("caregiver", "not_applicable", [], {"not_applicable_reason": " "}, "reason"),
        ("caregiver", "not_applicable", ["referral"], {}, "leave the scopes out"),
        ("caregiver", "given", ["referral"], {"evidence_ref": None}, "evidence reference"),
        ("caregiver", "given", [], {}, "name the scopes this given statement covers"),
        ("caregiver", "refused", ["referral"], {"not_applicable_reason": "x"}, "only with"),
        ("child", "given", ["referral"], {}, "assess the child's capacity"),
        ("caregiver", "given", ["referral"], {"capacity_assessment_id": 1}, "the child's"),
        ("parent", "given", ["referral"], {}, "the party must be one of child, caregiver"),
        ("child", "maybe", ["referral"], {}, "the status must be one of"),
        ("caregiver", "given", ["advertising"], {}, "unknown consent scope"),
    ],
)
def test_record_consent_refuses_with_a_reason(
    reg: Registry,
    party: str,
    status: str,
    scopes: list[str],
    extra: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(InputError, match=message):
        reg.record(party, status, scopes, t(), **extra)


def test_child_records_are_tied_to_a_capacity_assessment(reg: Registry) -> None:
    first = reg.assess("not_capable", t())
    second = reg.assess("capable", t(30))
    early = reg.record("child", "given", ["referral"], t(1))
    late = reg.record("child", "given", ["research"], t(31))
    named = reg.record("child", "refused", ["case_management"], t(32), capacity_assessment_id=first)
    assert (early.capacity_assessment_id, late.capacity_assessment_id) == (first, second)
    assert named.capacity_assessment_id == first
    with pytest.raises(InputError, match="assessed capable on 2025-03-31"):
        reg.record("child", "not_applicable", [], t(33), not_applicable_reason="too young")
    with pytest.raises(InputError, match="later than the assent"):
        reg.record("child", "given", ["referral"], t(10), capacity_assessment_id=second)
    other = Registry(reg.session, OTHER).assess("capable", t())
    with pytest.raises(NotFoundError, match=f"no capacity assessment #{other}"):
        reg.record("child", "given", ["referral"], t(40), capacity_assessment_id=other)


def test_subjects_must_be_pseudonyms_and_times_not_in_the_future(reg: Registry) -> None:
    with pytest.raises(InputError, match="never the organisation's own child id"):
        consent.may_use(reg.session, organisation=ORG, subject_key="child-1", scope="referral")
    with pytest.raises(InputError, match="not a valid organisation slug"):
        consent.may_use(reg.session, organisation="Help FR", subject_key=SUBJECT, scope="referral")
    with pytest.raises(InputError, match="in the future"):
        reg.assess("capable", datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(InputError, match="the outcome must be one of capable, not_capable"):
        reg.assess("maybe", t())


# --- disclosures ----------------------------------------------------------------------------


def test_record_disclosure_refuses_what_consent_does_not_allow(reg: Registry) -> None:
    with pytest.raises(ConsentDeniedError, match="consent does not allow referral") as raised:
        reg.disclose("health-service", "referral", t())
    assert raised.value.details == [
        "the child's assent to referral has not been sought (record it, or why it is not "
        "applicable); no caregiver consent covers referral"
    ]
    consented(reg, ["sharing:org:police-fr"])
    with pytest.raises(InputError, match="does not cover sending to health-fr"):
        reg.disclose("health-fr", "sharing:org:police-fr", t(1))
    recorded = consent.record_disclosure(
        reg.session,
        organisation=ORG,
        subject_key=SUBJECT,
        recipient="police-fr",
        scope="sharing:org:police-fr",
        at=t(1),
    )
    assert recorded.decision.allowed and recorded.disclosure.id is not None


# --- audit and summary ----------------------------------------------------------------------


def test_every_change_is_audited_without_free_text(reg: Registry) -> None:
    reg.session.execute(delete(AuditEntry))  # a chain of this test's entries only (rolled back)
    consented(reg, ["referral", "research"])
    reg.disclose("health-service", "referral", t(1))
    reg.withdraw("caregiver", ["referral"], t(2))
    exception_id = reg.harm(["referral"], t(3))
    reg.approve(exception_id, t(4))
    consent.end_harm_exception(reg.session, TRAIL, exception_id=exception_id, by="bob", at=t(5))
    entries = list(reg.session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [e.action for e in entries] == [
        "consent.capacity_assess",
        "consent.record",
        "consent.record",
        "consent.withdraw",
        "disclosure.withdrawal_flag",
        "harm_exception.request",
        "harm_exception.approve",
        "harm_exception.end",
    ]
    assert all(e.organisation == ORG and e.details["subject_key"] == SUBJECT for e in entries)
    assert entries[3].details["scopes"] == ["referral"]
    assert entries[3].details["continued_as"] is not None
    assert entries[6].actor == "bob" and entries[6].target == f"harm_exception:{exception_id}"
    dumped = json.dumps([e.details for e in entries])
    for free_text in ("form-2025-113", "at school", "ongoing abuse", "bundle-"):
        assert free_text not in dumped
    assert TRAIL.verify(reg.session).ok


def test_summary_lists_everything_and_decides_every_scope_in_play(reg: Registry) -> None:
    consented(reg, ["referral", "sharing:agreement:DSA-7"])
    reg.disclose("hub", "sharing:agreement:DSA-7", t(1))
    reg.harm(["case_management"], t(2))
    summary = consent.subject_consent_summary(reg.session, ORG, SUBJECT, at=t(3))
    assert len(summary.assessments) == 1 and len(summary.records) == 2
    assert len(summary.exceptions) == 1 and len(summary.disclosures) == 1
    assert consent.exception_state(summary.exceptions[0], t(3)) == "requested"
    decided = {d.scope: d.allowed for d in summary.decisions}
    assert decided == {
        "case_management": False,
        "referral": True,
        "research": False,
        "sharing:agreement:DSA-7": True,
    }
    as_json = json.loads(json.dumps(summary.to_dict()))
    assert as_json["exceptions"][0]["state"] == "requested"
    assert as_json["disclosures"][0]["recipient"] == "hub"
    empty = consent.subject_consent_summary(reg.session, ORG, OTHER)
    assert empty.records == [] and all(not d.allowed for d in empty.decisions)


# --- any sequence of events -----------------------------------------------------------------

SCOPES = ("referral", "research")
PARTY = st.sampled_from(("child", "caregiver"))
events = st.lists(
    st.one_of(
        st.tuples(st.just("assess"), st.sampled_from(("capable", "not_capable"))),
        st.tuples(
            st.just("record"),
            PARTY,
            st.sampled_from(("given", "refused")),
            st.lists(st.sampled_from(SCOPES), min_size=1, max_size=2, unique=True),
        ),
        st.tuples(st.just("not_applicable"), PARTY),
        st.tuples(st.just("withdraw"), PARTY, st.sampled_from(SCOPES)),
        st.tuples(st.just("harm"), st.sampled_from(SCOPES), st.booleans(), st.booleans()),
        st.tuples(st.just("disclose"), st.sampled_from(SCOPES)),
    ),
    max_size=14,
)


BOTH = list(SCOPES)
#: Starting points from which consent allows use, so that random events also break it (a
#: random history alone rarely assembles an assessment, an assent and a consent in order).
SETUPS: dict[str, list[tuple[Any, ...]]] = {
    "nothing": [],
    "capable child and caregiver": [
        ("assess", "capable"),
        ("record", "child", "given", BOTH),
        ("record", "caregiver", "given", BOTH),
    ],
    "not capable child and caregiver": [
        ("assess", "not_capable"),
        ("record", "child", "given", BOTH),
        ("record", "caregiver", "given", BOTH),
    ],
    "capable child, caregiver not applicable": [
        ("assess", "capable"),
        ("record", "child", "given", BOTH),
        ("not_applicable", "caregiver"),
    ],
    "baby, caregiver consents": [
        ("not_applicable", "child"),
        ("record", "caregiver", "given", BOTH),
    ],
}


@dataclass
class Model:
    """What the rules say, kept from the events alone (no database)."""

    capable: bool = False
    last: dict[tuple[str, str], str] = field(default_factory=dict)
    harm_in_force: set[str] = field(default_factory=set)
    disclosures: list[tuple[int, str, bool]] = field(default_factory=list)

    def allows(self, scope: str) -> bool:
        child, carer = self.last.get(("child", scope)), self.last.get(("caregiver", scope))
        if "refused" in (child, carer) or "withdrawn" in (child, carer):
            return False
        if self.capable:
            return child == "given" and carer in ("given", "not_applicable")
        return carer == "given" and child in ("given", "not_applicable")


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    nested = session.begin_nested()
    try:
        yield
    finally:
        nested.rollback()


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(setup=st.sampled_from(sorted(SETUPS)), later=events)
def test_any_history_matches_the_rules(
    session: Session, setup: str, later: list[tuple[Any, ...]]
) -> None:
    """After any events, ``may_use`` agrees with the rules computed from the events alone —
    in particular a refusal or withdrawal by either party denies unless a harm exception is in
    force — disclosures succeed exactly when allowed, and a withdrawal flags every earlier
    disclosure in its scope."""
    history = SETUPS[setup] + later
    with savepoint(session):
        reg, model = Registry(session), Model()
        for step, event in enumerate(history):
            at = t(hours=step + 1)
            apply(reg, model, event, at)
        end = t(hours=len(history) + 1)
        for scope in SCOPES:
            decision = reg.check(scope, end)
            expected = model.allows(scope)
            assert decision.allowed == (expected or scope in model.harm_in_force), decision
            basis = "consent" if expected else "harm_exception" if decision.allowed else "none"
            assert decision.basis == basis, decision
            hypothesis_event(f"{scope}: {basis}")
        for disclosure_id, _scope, flagged in model.disclosures:
            row = session.get(SubjectDisclosure, disclosure_id)
            assert row is not None and (row.withdrawal_flagged_at is not None) == flagged


def apply(reg: Registry, model: Model, event: tuple[Any, ...], at: datetime) -> None:
    """Apply one event through the service and, when it is accepted, to the model."""
    try:
        STEPS[event[0]](reg, model, event[1:], at)
    except InputError:
        return


def _assess(reg: Registry, model: Model, args: tuple[Any, ...], at: datetime) -> None:
    reg.assess(args[0], at)
    model.capable = args[0] == "capable"


def _record(reg: Registry, model: Model, args: tuple[Any, ...], at: datetime) -> None:
    party, status, scopes = args
    reg.record(party, status, scopes, at)
    model.last.update({(party, s): status for s in scopes})


def _not_applicable(reg: Registry, model: Model, args: tuple[Any, ...], at: datetime) -> None:
    reg.record(args[0], "not_applicable", [], at, not_applicable_reason="n/a")
    model.last.update({(args[0], s): "not_applicable" for s in SCOPES})


def _withdraw(reg: Registry, model: Model, args: tuple[Any, ...], at: datetime) -> None:
    party, scope = args
    report = reg.withdraw(party, [scope], at)
    assert report.scopes == (scope,)
    if model.last.get((party, scope)) == "given":
        model.last[(party, scope)] = "withdrawn"
    model.disclosures = [(i, s, flagged or s == scope) for i, s, flagged in model.disclosures]


def _harm(reg: Registry, model: Model, args: tuple[Any, ...], at: datetime) -> None:
    scope, approve, end = args
    exception_id = reg.harm([scope], at)
    if approve:
        reg.approve(exception_id, at + timedelta(minutes=1))
    if end:
        consent.end_harm_exception(
            reg.session, TRAIL, exception_id=exception_id, by="carol", at=at + timedelta(minutes=2)
        )
    if approve and not end:
        model.harm_in_force.add(scope)


def _disclose(reg: Registry, model: Model, args: tuple[Any, ...], at: datetime) -> None:
    scope = args[0]
    allowed = model.allows(scope) or scope in model.harm_in_force
    hypothesis_event(f"disclosure {'allowed' if allowed else 'denied'}")
    try:
        row = reg.disclose("recipient", scope, at)
    except ConsentDeniedError:
        assert not allowed
    else:
        assert allowed
        model.disclosures.append((row.id, scope, False))


STEPS = {
    "assess": _assess,
    "record": _record,
    "not_applicable": _not_applicable,
    "withdraw": _withdraw,
    "harm": _harm,
    "disclose": _disclose,
}
