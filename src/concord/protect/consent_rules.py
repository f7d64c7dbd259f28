"""The one question everything else asks of the consent registry: "may this organisation use
subject S's data for scope P at this moment, and why (not)?".

The rules, following child-protection practice (the child's views are always sought; a
caregiver consents unless that is inappropriate; the child's objection counts):

1. **Latest statement wins.** For each party (child, caregiver) and scope, the statement that
   counts is the party's latest record covering the scope (by ``given_at``, then id) made at
   or before the moment asked about. A not-applicable record covers every scope. A later
   "given" overrides an earlier refusal; a later refusal or withdrawal overrides consent. A
   withdrawn not-applicable record (its reason no longer holds) leaves the party with no
   statement: older consent is not revived.
2. **An objection denies.** If either party's statement is a refusal, or consent that has been
   withdrawn (``withdrawn_at`` at or before the moment), use is denied — whatever the child's
   capacity. Withdrawal therefore stops every use from its moment on.
3. **Child assessed capable** (the latest assessment at that moment says so): the child's own
   assent covering the scope is required (a not-applicable record for a capable child does not
   count), and caregiver consent covering the scope is required unless the caregiver's is
   recorded not applicable with a reason (e.g. the caregiver is the alleged offender, or local
   law lets a competent child consent alone).
4. **Child not capable, or not assessed**: caregiver consent covering the scope is required —
   not-applicable is not enough, because then nobody able to consent has agreed — and the
   child's assent must have been sought: recorded as given, or recorded not applicable with
   a reason (e.g. a baby who cannot yet express a view).
5. **The harm exception.** When consent does not allow a use, an approved, unended harm
   exception covering the scope whose review date is not past allows it, with basis
   ``harm_exception`` (see :mod:`concord.protect.harm`). When consent allows, the basis is
   consent: it is the better footing, and it outlives the exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import CapacityAssessment, ConsentRecord
from concord.moments import as_utc
from concord.protect.consent_terms import (
    CAPABLE,
    CAREGIVER,
    CHILD,
    GIVEN,
    NOT_APPLICABLE,
    REFUSED,
    check_subject,
    day,
    scope_label,
    validate_scope,
)
from concord.protect.harm import exception_in_force, exception_sentence

BASIS_CONSENT = "consent"
BASIS_HARM_EXCEPTION = "harm_exception"
BASIS_NONE = "none"

#: A party's standing when its latest covering record is consent since withdrawn, or when it
#: has no statement at all (otherwise the standing is the record's own status).
WITHDRAWN = "withdrawn"
NO_STATEMENT = "none"


@dataclass(frozen=True)
class ConsentDecision:
    """The answer to "may the organisation use this subject's data for this scope?"."""

    allowed: bool
    basis: str  # consent | harm_exception | none
    #: A sentence a caseworker understands; it names dates and parties, never free text
    #: typed into a record (which may identify people).
    reason: str
    scope: str
    at: datetime
    #: The consent records the answer rests on (the child's and the caregiver's, when allowed).
    consent_ids: tuple[int, ...] = ()
    harm_exception_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "basis": self.basis,
            "reason": self.reason,
            "scope": self.scope,
            "at": self.at.isoformat(),
            "consent_ids": list(self.consent_ids),
            "harm_exception_id": self.harm_exception_id,
        }


def may_use(
    session: Session,
    *,
    organisation: str,
    subject_key: str,
    scope: str,
    at: datetime | None = None,
) -> ConsentDecision:
    """May ``organisation`` use ``subject_key``'s data for ``scope`` at ``at`` (default: now)?

    Applies the rules in the module docstring and always says why. ``at`` is a moment, not a
    day, because a withdrawal takes effect at once: a check one second after it denies.
    """
    check_subject(organisation, subject_key)
    validate_scope(scope)
    when = as_utc(at) if at is not None else datetime.now(UTC)
    decision = consent_decision(
        subject_records(session, organisation, subject_key),
        latest_assessment(session, organisation, subject_key, when),
        scope,
        when,
    )
    if decision.allowed:
        return decision
    exception = exception_in_force(
        session, organisation=organisation, subject_key=subject_key, scope=scope, at=when
    )
    if exception is None:
        return decision
    return ConsentDecision(
        allowed=True,
        basis=BASIS_HARM_EXCEPTION,
        reason=f"{exception_sentence(exception, scope)} (consent alone does not allow it: "
        f"{decision.reason})",
        scope=scope,
        at=when,
        harm_exception_id=exception.id,
    )


def latest_assessment(
    session: Session, organisation: str, subject_key: str, at: datetime
) -> CapacityAssessment | None:
    """The assessment that counts at ``at``: the latest made at or before it."""
    rows = session.scalars(
        select(CapacityAssessment).where(
            CapacityAssessment.organisation == organisation,
            CapacityAssessment.subject_key == subject_key,
        )
    )
    when = as_utc(at)
    made = [a for a in rows if as_utc(a.assessed_at) <= when]
    return max(made, key=lambda a: (as_utc(a.assessed_at), a.id), default=None)


def subject_records(session: Session, organisation: str, subject_key: str) -> list[ConsentRecord]:
    """Every consent record of a subject, oldest first. Few per child: rules run in Python."""
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(
                ConsentRecord.organisation == organisation,
                ConsentRecord.subject_key == subject_key,
            )
            .order_by(ConsentRecord.given_at, ConsentRecord.id)
        )
    )


@dataclass(frozen=True)
class Standing:
    """One party's position on one scope at one moment, and the record it comes from."""

    party: str
    state: str  # given | refused | not_applicable | withdrawn | none
    record: ConsentRecord | None


def standing(records: list[ConsentRecord], party: str, scope: str, at: datetime) -> Standing:
    """Rule 1: the party's latest record covering ``scope`` at ``at`` decides."""
    covering = [
        r
        for r in records
        if r.party == party
        and as_utc(r.given_at) <= at
        and (r.status == NOT_APPLICABLE or scope in r.scopes)
    ]
    latest = max(covering, key=lambda r: (as_utc(r.given_at), r.id), default=None)
    if latest is None:
        return Standing(party, NO_STATEMENT, None)
    withdrawn = latest.withdrawn_at is not None and as_utc(latest.withdrawn_at) <= at
    if latest.status == GIVEN and withdrawn:
        return Standing(party, WITHDRAWN, latest)
    if latest.status == NOT_APPLICABLE and withdrawn:
        return Standing(party, NO_STATEMENT, None)
    return Standing(party, latest.status, latest)


def consent_decision(
    records: list[ConsentRecord],
    assessment: CapacityAssessment | None,
    scope: str,
    when: datetime,
) -> ConsentDecision:
    """Rules 2-4: what consent alone allows (the harm exception is :func:`may_use`'s part)."""
    label = scope_label(scope)
    child = standing(records, CHILD, scope, when)
    carer = standing(records, CAREGIVER, scope, when)
    capable = assessment is not None and assessment.outcome == CAPABLE
    if assessment is None:
        capacity = "not assessed for capacity"
    else:
        outcome = "capable" if capable else "not capable"
        capacity = f"assessed {outcome} on {day(assessment.assessed_at)}"

    problems = [_objection(s, label) for s in (child, carer) if s.state in (REFUSED, WITHDRAWN)]
    if capable and child.state == NO_STATEMENT:
        problems.append(f"the child, {capacity}, has not assented to {label}")
    elif capable and child.state == NOT_APPLICABLE:
        problems.append(
            f"the child was {capacity}, so their own assent to {label} is needed (a "
            "not-applicable record does not count for a capable child)"
        )
    elif child.state == NO_STATEMENT:
        problems.append(
            f"the child's assent to {label} has not been sought (record it, or why it is not "
            "applicable)"
        )
    if carer.state == NO_STATEMENT:
        problems.append(f"no caregiver consent covers {label}")
    elif carer.state == NOT_APPLICABLE and not capable:
        problems.append(
            f"caregiver consent is recorded not applicable and the child is {capacity}, so "
            f"nobody able to consent has agreed to {label} (assess capacity, record another "
            "caregiver's consent, or request a harm exception)"
        )
    if problems or child.record is None or carer.record is None:
        return ConsentDecision(False, BASIS_NONE, "; ".join(problems), scope, when)

    carer_on = day(carer.record.given_at)
    child_on = day(child.record.given_at)
    if carer.state == GIVEN:
        carer_part = f"caregiver consented to {label} on {carer_on}"
    else:
        carer_part = f"caregiver consent recorded not applicable on {carer_on}"
    if child.state == GIVEN:
        child_part = f"the child, {capacity}, assented to {label} on {child_on}"
    else:
        child_part = f"the child's assent was recorded not applicable on {child_on} ({capacity})"
    # The party whose agreement carries the decision comes first.
    reason = f"{child_part}; {carer_part}" if capable else f"{carer_part}; {child_part}"
    return ConsentDecision(
        True, BASIS_CONSENT, reason, scope, when, (child.record.id, carer.record.id)
    )


def _objection(party: Standing, label: str) -> str:
    """The sentence for a refusal or a withdrawal."""
    record = party.record
    if party.state == WITHDRAWN and record is not None and record.withdrawn_at is not None:
        who = "the child's assent" if party.party == CHILD else "caregiver consent"
        return f"{who} to {label} withdrawn on {day(record.withdrawn_at)}"
    refuser = "the child" if party.party == CHILD else "the caregiver"
    on = f" on {day(record.given_at)}" if record is not None else ""
    return f"{refuser} refused {label}{on}"
