"""Withdrawal of consent, and what was shared about a subject, so a withdrawal reaches it.

:func:`withdraw_consent` sets ``withdrawn_at`` — from that moment
:func:`~concord.protect.consent_rules.may_use` denies — and marks every disclosure of the
subject in the withdrawn scopes that is not marked yet (``withdrawal_flagged_at``), so the
federation layer can tell the recipients. Withdrawing some scopes of a record withdraws the
record and carries the other scopes on in a new record with the same ``given_at`` and
evidence: the record stays as it was agreed, and "latest statement wins" keeps the rest.

:func:`record_disclosure` is how sharing and referrals note a release, and it refuses one that
consent does not allow — so the register of what left the organisation is complete enough for
a withdrawal to reach every recipient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import ConsentRecord, SubjectDisclosure
from concord.errors import ConsentDeniedError, InputError, NotFoundError
from concord.moments import as_utc
from concord.protect.audit import AuditTrail
from concord.protect.consent_rules import ConsentDecision, may_use, subject_records
from concord.protect.consent_terms import (
    GIVEN,
    NOT_APPLICABLE,
    PARTIES,
    REFUSED,
    SHARING_ORG_PREFIX,
    check_choice,
    check_subject,
    day,
    moment,
    require_text,
    scope_label,
    validate_scope,
    validate_scopes,
)


@dataclass(frozen=True)
class FlaggedDisclosure:
    """Something already shared that its recipient must now be told was withdrawn."""

    id: int
    recipient: str
    scope: str
    reference: str | None
    disclosed_at: datetime


@dataclass(frozen=True)
class WithdrawalReport:
    """What a withdrawal changed, and which recipients must be told."""

    organisation: str
    subject_key: str
    party: str
    at: datetime
    withdrawn: tuple[int, ...]
    #: Records created to keep the scopes that were *not* withdrawn (partial withdrawal).
    continued: tuple[int, ...]
    scopes: tuple[str, ...]
    flagged: tuple[FlaggedDisclosure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "subject_key": self.subject_key,
            "party": self.party,
            "at": self.at.isoformat(),
            "withdrawn": list(self.withdrawn),
            "continued": list(self.continued),
            "scopes": list(self.scopes),
            "flagged": [
                {
                    "id": f.id,
                    "recipient": f.recipient,
                    "scope": f.scope,
                    "reference": f.reference,
                    "disclosed_at": f.disclosed_at.isoformat(),
                }
                for f in self.flagged
            ],
        }


@dataclass(frozen=True)
class RecordedDisclosure:
    disclosure: SubjectDisclosure
    decision: ConsentDecision


def withdraw_consent(
    session: Session,
    audit: AuditTrail,
    *,
    by: str,
    consent_id: int | None = None,
    organisation: str | None = None,
    subject_key: str | None = None,
    party: str | None = None,
    scopes: Iterable[str] | None = None,
    at: datetime | None = None,
) -> WithdrawalReport:
    """Withdraw consent from ``at`` (default: now) and mark what was already shared.

    Name either one record (``consent_id``; ``organisation``/``subject_key``/``party``, when
    given too, must match it) or a party (``organisation``, ``subject_key``, ``party``): then
    every consent of that party in force is withdrawn. ``scopes`` narrows either to those
    scopes. A refusal cannot be withdrawn (record the consent now given instead); withdrawing a
    not-applicable record says its reason no longer holds, which marks nothing, as nothing was
    consented to.
    """
    who = require_text(by, "who records the withdrawal")
    when = moment(at, "the withdrawal time")
    wanted = None if scopes is None else set(validate_scopes(scopes))
    if consent_id is not None:
        targets = [_record_to_withdraw(session, consent_id, organisation, subject_key, party)]
    else:
        if organisation is None or subject_key is None or party is None:
            raise InputError("name the consent record, or the organisation, subject and party")
        targets = _records_in_force(session, organisation, subject_key, party, wanted, when)
    first = targets[0]
    plan: list[tuple[ConsentRecord, list[str], list[str]]] = []
    for record in targets:  # check everything before changing anything
        if as_utc(record.given_at) > when:
            raise InputError(f"consent record #{record.id} was given after the withdrawal time")
        if record.status == NOT_APPLICABLE and wanted:
            raise InputError("a not-applicable record covers every scope; withdraw it whole")
        ending = [s for s in record.scopes if wanted is None or s in wanted]
        if record.status == GIVEN and not ending:
            raise InputError(f"consent record #{record.id} does not cover {sorted(wanted or [])}")
        plan.append((record, ending, [s for s in record.scopes if s not in ending]))
    withdrawn: list[int] = []
    continued: list[int] = []
    withdrawn_scopes: set[str] = set()
    for record, ending, keeping in plan:
        record.withdrawn_at = when
        carried = _carry_on(session, record, keeping, who) if keeping else None
        session.flush()
        withdrawn.append(record.id)
        withdrawn_scopes.update(ending)
        if carried is not None:
            continued.append(carried.id)
        audit.record(
            session,
            actor=who,
            action="consent.withdraw",
            organisation=record.organisation,
            target=f"consent_record:{record.id}",
            details={
                "subject_key": record.subject_key,
                "party": record.party,
                "status": record.status,
                "scopes": ending,
                "continued_as": carried.id if carried else None,
                "effective_at": when.isoformat(),
            },
        )
    flagged = _flag_disclosures(
        session, audit, first.organisation, first.subject_key, withdrawn_scopes, when, who
    )
    return WithdrawalReport(
        organisation=first.organisation,
        subject_key=first.subject_key,
        party=first.party,
        at=when,
        withdrawn=tuple(withdrawn),
        continued=tuple(continued),
        scopes=tuple(sorted(withdrawn_scopes)),
        flagged=flagged,
    )


def _record_to_withdraw(
    session: Session,
    consent_id: int,
    organisation: str | None,
    subject_key: str | None,
    party: str | None,
) -> ConsentRecord:
    record = session.get(ConsentRecord, consent_id)
    if record is None or any(
        given is not None and given != actual
        for given, actual in (
            (organisation, record.organisation),
            (subject_key, record.subject_key),
            (party, record.party),
        )
    ):
        raise NotFoundError(f"no consent record #{consent_id} for this subject and party")
    if record.status == REFUSED:
        raise InputError(
            f"consent record #{consent_id} is a refusal; to change it, record the consent now given"
        )
    if record.withdrawn_at is not None:
        raise InputError(
            f"consent record #{consent_id} was already withdrawn on {day(record.withdrawn_at)}"
        )
    return record


def _records_in_force(
    session: Session,
    organisation: str,
    subject_key: str,
    party: str,
    wanted: set[str] | None,
    when: datetime,
) -> list[ConsentRecord]:
    """The party's given, unwithdrawn records covering any of ``wanted`` (all when None)."""
    check_subject(organisation, subject_key)
    check_choice(party, PARTIES, "the party")
    targets = [
        r
        for r in subject_records(session, organisation, subject_key)
        if r.party == party
        and r.status == GIVEN
        and r.withdrawn_at is None
        and as_utc(r.given_at) <= when
        and (wanted is None or wanted.intersection(r.scopes))
    ]
    if not targets:
        what = "any scope" if wanted is None else ", ".join(scope_label(s) for s in sorted(wanted))
        raise InputError(f"no consent of the {party} covering {what} is in force to withdraw")
    return targets


def _carry_on(
    session: Session, record: ConsentRecord, scopes: list[str], who: str
) -> ConsentRecord:
    """A new record for the scopes a partial withdrawal keeps: same moment, same evidence.

    Why a new record and not an edit: the withdrawn record stays as it was agreed, and the
    rule "latest statement wins" (same ``given_at``, higher id) keeps the remaining scopes.
    """
    carried = ConsentRecord(
        organisation=record.organisation,
        subject_key=record.subject_key,
        party=record.party,
        status=record.status,
        not_applicable_reason=record.not_applicable_reason,
        scopes=scopes,
        evidence_ref=record.evidence_ref,
        capacity_assessment_id=record.capacity_assessment_id,
        given_at=record.given_at,
        recorded_by=who,
    )
    session.add(carried)
    return carried


def _flag_disclosures(
    session: Session,
    audit: AuditTrail,
    organisation: str,
    subject_key: str,
    scopes: set[str],
    when: datetime,
    who: str,
) -> tuple[FlaggedDisclosure, ...]:
    """Mark every unmarked disclosure of the subject in ``scopes`` so recipients are told.

    All of them, whenever they were made: a recipient holding the data must learn that the
    consent behind it is gone, even if the data left under a harm exception.
    """
    if not scopes:
        return ()
    rows = list(
        session.scalars(
            select(SubjectDisclosure)
            .where(
                SubjectDisclosure.organisation == organisation,
                SubjectDisclosure.subject_key == subject_key,
                SubjectDisclosure.scope.in_(sorted(scopes)),
                SubjectDisclosure.withdrawal_flagged_at.is_(None),
            )
            .order_by(SubjectDisclosure.id)
        )
    )
    for row in rows:
        row.withdrawal_flagged_at = when
    session.flush()
    if rows:
        audit.record(
            session,
            actor=who,
            action="disclosure.withdrawal_flag",
            organisation=organisation,
            target=f"subject:{subject_key}",
            details={
                "subject_key": subject_key,
                "disclosure_ids": [r.id for r in rows],
                "scopes": sorted(scopes),
            },
        )
    return tuple(
        FlaggedDisclosure(r.id, r.recipient, r.scope, r.reference, as_utc(r.disclosed_at))
        for r in rows
    )


def record_disclosure(
    session: Session,
    *,
    organisation: str,
    subject_key: str,
    recipient: str,
    scope: str,
    reference: str | None = None,
    at: datetime | None = None,
) -> RecordedDisclosure:
    """Note that something about the subject left the organisation, if consent allows it.

    Used by sharing and referrals at the moment of release, which they audit themselves.
    Refuses with :class:`ConsentDeniedError` (carrying the reason) when :func:`may_use` denies, and
    a ``sharing:org:<slug>`` release whose recipient is another organisation.
    """
    check_subject(organisation, subject_key)
    validate_scope(scope)
    to = require_text(recipient, "the recipient")
    if scope.startswith(SHARING_ORG_PREFIX) and to != scope.removeprefix(SHARING_ORG_PREFIX):
        raise InputError(f"consent for {scope_label(scope)} does not cover sending to {to}")
    when = moment(at, "the disclosure time")
    decision = may_use(
        session, organisation=organisation, subject_key=subject_key, scope=scope, at=when
    )
    if not decision.allowed:
        raise ConsentDeniedError(
            f"consent does not allow {scope_label(scope)} of this subject's data",
            details=[decision.reason],
        )
    disclosure = SubjectDisclosure(
        organisation=organisation,
        subject_key=subject_key,
        recipient=to,
        scope=scope,
        reference=(reference or "").strip() or None,
        disclosed_at=when,
    )
    session.add(disclosure)
    session.flush()
    return RecordedDisclosure(disclosure, decision)
