"""The consent registry: capacity assessments, child assent and caregiver consent, and a
summary of everything held about one subject. The public entry point for consent.

Recording rules (:func:`record_consent`), each refusal saying what to do instead:

* given and refused statements name their scopes; a not-applicable record names none (it is
  about the party, not a use: "the caregiver is the alleged offender") and needs a reason;
* given consent needs an evidence reference: the organisation must be able to show later that
  consent was given (the signed form, the recorded call, the case note);
* a child's given assent is tied to a capacity assessment (the latest unless one is named), so
  the child is assessed first and it is clear whether their word is consent or assent; a
  child assessed capable cannot be recorded as not applicable;
* a child's refusal is recorded whether or not an assessment exists: an objection is never
  turned away;
* facts are recorded after they happen: no time may lie in the future (back-dating a paper
  form is allowed; the audit entry still carries the moment it was written).

Decisions ("may X use S's data for P?") live in :mod:`concord.protect.consent_rules`, harm
exceptions in :mod:`concord.protect.harm`, withdrawal and disclosures in
:mod:`concord.protect.withdrawal`; all are re-exported here, so callers import one module.
Only pseudonyms (``subject_key``) reach these modules; free text (notes, reasons, evidence
references) stays in its table and never enters the audit details.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import CapacityAssessment, ConsentRecord, HarmException, SubjectDisclosure
from concord.errors import InputError, NotFoundError
from concord.moments import as_utc
from concord.protect.audit import AuditTrail
from concord.protect.consent_rules import (
    BASIS_CONSENT,
    BASIS_HARM_EXCEPTION,
    BASIS_NONE,
    ConsentDecision,
    latest_assessment,
    may_use,
)
from concord.protect.consent_terms import (
    CAPABLE,
    CAREGIVER,
    GIVEN,
    NOT_APPLICABLE,
    OUTCOMES,
    PARTIES,
    SIMPLE_SCOPES,
    STATUSES,
    check_choice,
    check_subject,
    day,
    moment,
    require_text,
    validate_scopes,
)
from concord.protect.harm import (
    approve_harm_exception,
    end_harm_exception,
    exception_state,
    request_harm_exception,
)
from concord.protect.withdrawal import (
    FlaggedDisclosure,
    RecordedDisclosure,
    WithdrawalReport,
    record_disclosure,
    withdraw_consent,
)

__all__ = [
    "BASIS_CONSENT",
    "BASIS_HARM_EXCEPTION",
    "BASIS_NONE",
    "ConsentDecision",
    "ConsentSummary",
    "FlaggedDisclosure",
    "RecordedDisclosure",
    "WithdrawalReport",
    "approve_harm_exception",
    "assess_capacity",
    "end_harm_exception",
    "exception_state",
    "latest_assessment",
    "may_use",
    "record_consent",
    "record_disclosure",
    "request_harm_exception",
    "subject_consent_summary",
    "withdraw_consent",
]


@dataclass(frozen=True)
class ConsentSummary:
    """Everything the registry holds about one subject, and what it allows now."""

    organisation: str
    subject_key: str
    at: datetime
    assessments: list[CapacityAssessment] = field(default_factory=list)
    records: list[ConsentRecord] = field(default_factory=list)
    exceptions: list[HarmException] = field(default_factory=list)
    disclosures: list[SubjectDisclosure] = field(default_factory=list)
    #: One decision per scope in play: the simple scopes and every scope named anywhere above.
    decisions: list[ConsentDecision] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the CLI's ``--format json`` and the API. It includes free text
        (evidence references, not-applicable reasons): it is for the organisation's own staff."""

        def when(moment_: datetime | None) -> str | None:
            return as_utc(moment_).isoformat() if moment_ is not None else None

        return {
            "organisation": self.organisation,
            "subject_key": self.subject_key,
            "at": self.at.isoformat(),
            "decisions": [d.to_dict() for d in self.decisions],
            "assessments": [
                {
                    "id": a.id,
                    "assessed_at": when(a.assessed_at),
                    "assessed_by": a.assessed_by,
                    "outcome": a.outcome,
                    "notes": a.notes,
                }
                for a in self.assessments
            ],
            "records": [
                {
                    "id": r.id,
                    "party": r.party,
                    "status": r.status,
                    "scopes": list(r.scopes),
                    "given_at": when(r.given_at),
                    "withdrawn_at": when(r.withdrawn_at),
                    "evidence_ref": r.evidence_ref,
                    "not_applicable_reason": r.not_applicable_reason,
                    "capacity_assessment_id": r.capacity_assessment_id,
                    "recorded_by": r.recorded_by,
                }
                for r in self.records
            ],
            "exceptions": [
                {
                    "id": e.id,
                    "scopes": list(e.scopes),
                    "state": exception_state(e, self.at),
                    "justification": e.justification,
                    "requested_by": e.requested_by,
                    "requested_at": when(e.requested_at),
                    "approved_by": e.approved_by,
                    "approved_at": when(e.approved_at),
                    "review_on": e.review_on.isoformat(),
                    "ended_at": when(e.ended_at),
                }
                for e in self.exceptions
            ],
            "disclosures": [
                {
                    "id": d.id,
                    "recipient": d.recipient,
                    "scope": d.scope,
                    "reference": d.reference,
                    "disclosed_at": when(d.disclosed_at),
                    "withdrawal_flagged_at": when(d.withdrawal_flagged_at),
                    "recipient_notified_at": when(d.recipient_notified_at),
                }
                for d in self.disclosures
            ],
        }


def assess_capacity(
    session: Session,
    audit: AuditTrail,
    *,
    organisation: str,
    subject_key: str,
    assessed_by: str,
    outcome: str,
    notes: str = "",
    at: datetime | None = None,
) -> CapacityAssessment:
    """Record who assessed the child's capacity to consent, when, and the outcome.

    The latest assessment is the one that counts; a new one is recorded (never an edit) when a
    child grows or circumstances change, so earlier decisions can still be explained.
    """
    check_subject(organisation, subject_key)
    check_choice(outcome, OUTCOMES, "the outcome")
    assessor = require_text(assessed_by, "who assessed the child")
    when = moment(at, "the assessment time")
    assessment = CapacityAssessment(
        organisation=organisation,
        subject_key=subject_key,
        assessed_by=assessor,
        assessed_at=when,
        outcome=outcome,
        notes=notes.strip(),
    )
    session.add(assessment)
    session.flush()
    audit.record(
        session,
        actor=assessor,
        action="consent.capacity_assess",
        organisation=organisation,
        target=f"capacity_assessment:{assessment.id}",
        details={
            "subject_key": subject_key,
            "outcome": outcome,
            "effective_at": when.isoformat(),
        },
    )
    return assessment


def record_consent(
    session: Session,
    audit: AuditTrail,
    *,
    organisation: str,
    subject_key: str,
    party: str,
    status: str,
    scopes: Iterable[str] = (),
    evidence_ref: str | None = None,
    not_applicable_reason: str | None = None,
    capacity_assessment_id: int | None = None,
    recorded_by: str,
    given_at: datetime | None = None,
) -> ConsentRecord:
    """Record a child's assent or a caregiver's consent, refusal, or why it is not applicable.

    See the module docstring for the recording rules; each refusal says what to do instead.
    """
    check_subject(organisation, subject_key)
    check_choice(party, PARTIES, "the party")
    check_choice(status, STATUSES, "the status")
    recorder = require_text(recorded_by, "who records the consent")
    when = moment(given_at, "the time consent was given")
    checked = validate_scopes(scopes)
    reason: str | None = None
    if status == NOT_APPLICABLE:
        if checked:
            raise InputError(
                "a not-applicable record is about the party, not a use: leave the scopes out "
                "(it covers every scope)"
            )
        reason = require_text(not_applicable_reason, "the reason consent is not applicable")
    else:
        if not checked:
            raise InputError(f"name the scopes this {status.replace('_', ' ')} statement covers")
        if not_applicable_reason:
            raise InputError("a reason for not applicable goes only with status not_applicable")
    evidence = (evidence_ref or "").strip() or None
    if status == GIVEN and evidence is None:
        raise InputError(
            "given consent needs an evidence reference (the signed form, the recorded call, "
            "the case note) so it can be shown later"
        )
    assessment = _assessment_for(
        session, organisation, subject_key, party, status, capacity_assessment_id, when
    )
    record = ConsentRecord(
        organisation=organisation,
        subject_key=subject_key,
        party=party,
        status=status,
        not_applicable_reason=reason,
        scopes=checked,
        evidence_ref=evidence,
        capacity_assessment_id=assessment.id if assessment else None,
        given_at=when,
        recorded_by=recorder,
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        actor=recorder,
        action="consent.record",
        organisation=organisation,
        target=f"consent_record:{record.id}",
        details={
            "subject_key": subject_key,
            "party": party,
            "status": status,
            "scopes": checked,
            "capacity_assessment_id": record.capacity_assessment_id,
            "has_evidence": evidence is not None,
            "effective_at": when.isoformat(),
        },
    )
    return record


def _assessment_for(
    session: Session,
    organisation: str,
    subject_key: str,
    party: str,
    status: str,
    assessment_id: int | None,
    when: datetime,
) -> CapacityAssessment | None:
    """The capacity assessment a child's record rests on (none for a caregiver's)."""
    if party == CAREGIVER:
        if assessment_id is not None:
            raise InputError("a capacity assessment is the child's; caregiver consent has none")
        return None
    if assessment_id is not None:
        assessment = session.get(CapacityAssessment, assessment_id)
        if assessment is None or (assessment.organisation, assessment.subject_key) != (
            organisation,
            subject_key,
        ):
            raise NotFoundError(f"no capacity assessment #{assessment_id} for this subject")
        if as_utc(assessment.assessed_at) > when:
            raise InputError(f"capacity assessment #{assessment_id} is later than the assent")
    else:
        assessment = latest_assessment(session, organisation, subject_key, when)
    if status == GIVEN and assessment is None:
        raise InputError(
            "assess the child's capacity to consent before recording their assent "
            "(concord consent assess), so it is clear whether it is consent or assent"
        )
    if status == NOT_APPLICABLE and assessment is not None and assessment.outcome == CAPABLE:
        raise InputError(
            f"the child was assessed capable on {day(assessment.assessed_at)}: their own "
            "assent is needed and cannot be recorded as not applicable"
        )
    return assessment


def subject_consent_summary(
    session: Session, organisation: str, subject_key: str, *, at: datetime | None = None
) -> ConsentSummary:
    """Everything about one subject, oldest first, with a decision for every scope in play."""
    check_subject(organisation, subject_key)
    when = as_utc(at) if at is not None else datetime.now(UTC)

    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            session.scalars(
                select(model)
                .where(model.organisation == organisation, model.subject_key == subject_key)
                .order_by(order, model.id)
            )
        )

    assessments = rows(CapacityAssessment, CapacityAssessment.assessed_at)
    records = rows(ConsentRecord, ConsentRecord.given_at)
    exceptions = rows(HarmException, HarmException.requested_at)
    disclosures = rows(SubjectDisclosure, SubjectDisclosure.disclosed_at)
    in_play = set(SIMPLE_SCOPES)
    for item in (*records, *exceptions):
        in_play.update(item.scopes)
    in_play.update(d.scope for d in disclosures)
    decisions = [
        may_use(session, organisation=organisation, subject_key=subject_key, scope=s, at=when)
        for s in sorted(in_play)
    ]
    return ConsentSummary(
        organisation, subject_key, when, assessments, records, exceptions, disclosures, decisions
    )
