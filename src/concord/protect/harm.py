"""The "concern of potential harm" exception: using a child's data without consent.

Child-protection practice allows it when asking for consent, or respecting a refusal, would put
the child at risk (the caregiver is the alleged offender, a child in danger refuses a referral).
Because it overrides the people the data is about, it is fenced in:

* it is **justified** in writing, for named scopes only;
* it is **approved by someone other than the requester** (four eyes: nobody overrides consent
  alone);
* it carries a **review date** at most :data:`MAX_REVIEW_DAYS` after the request, after which
  it stops allowing anything until a new exception is requested and approved;
* it can be **ended** at any time (the concern has passed, consent was obtained).

It is *in force* at a moment only when approved, not ended, and the moment's date (UTC) is on
or before the review date. Every change is written to the audit trail; the justification is
free text and may name people, so it stays in the table and never goes into the audit details.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import HarmException
from concord.errors import InputError, NotFoundError
from concord.moments import as_utc
from concord.protect.audit import AuditTrail
from concord.protect.consent_terms import (
    check_subject,
    day,
    moment,
    require_text,
    scope_label,
    validate_scope,
    validate_scopes,
)

#: Longest time an exception may run before someone must look at it again. Why 90 days: a use
#: without consent must be re-examined at least every quarter (the concern may have passed or
#: consent become possible); a longer need is met by requesting a fresh exception.
MAX_REVIEW_DAYS = 90

REQUESTED = "requested"
IN_FORCE = "in_force"
EXPIRED = "expired"
ENDED = "ended"


def request_harm_exception(
    session: Session,
    audit: AuditTrail,
    *,
    organisation: str,
    subject_key: str,
    scopes: Iterable[str],
    justification: str,
    requested_by: str,
    review_on: date,
    at: datetime | None = None,
) -> HarmException:
    """Ask for an exception; it allows nothing until someone else approves it."""
    check_subject(organisation, subject_key)
    checked = validate_scopes(scopes)
    if not checked:
        raise InputError("a harm exception must name the scopes it covers")
    reason = require_text(justification, "a justification of the concern of potential harm")
    requester = require_text(requested_by, "who requests the exception")
    when = moment(at, "the request time")
    if review_on < when.date():
        raise InputError(f"the review date {review_on.isoformat()} is already past")
    if review_on > when.date() + timedelta(days=MAX_REVIEW_DAYS):
        raise InputError(
            f"the review date must be within {MAX_REVIEW_DAYS} days of the request "
            f"(by {(when.date() + timedelta(days=MAX_REVIEW_DAYS)).isoformat()}); request a new "
            "exception when it is due"
        )
    exception = HarmException(
        organisation=organisation,
        subject_key=subject_key,
        scopes=checked,
        justification=reason,
        requested_by=requester,
        requested_at=when,
        review_on=review_on,
    )
    session.add(exception)
    session.flush()
    _audit(session, audit, exception, "harm_exception.request", requester, when)
    return exception


def approve_harm_exception(
    session: Session,
    audit: AuditTrail,
    *,
    exception_id: int,
    approver: str,
    organisation: str | None = None,
    subject_key: str | None = None,
    at: datetime | None = None,
) -> HarmException:
    """Approve a requested exception; the approver must not be the requester.

    ``organisation`` and ``subject_key``, when given, must match the exception (the CLI passes
    them so an id typed wrong cannot approve another child's exception).
    """
    exception = get_harm_exception(session, exception_id, organisation, subject_key)
    who = require_text(approver, "the approver")
    when = moment(at, "the approval time")
    if who.casefold() == exception.requested_by.strip().casefold():
        raise InputError(
            f"harm exception #{exception.id} was requested by {exception.requested_by}; "
            "another person must approve it"
        )
    if exception.ended_at is not None:
        raise InputError(f"harm exception #{exception.id} was ended; request a new one")
    if exception.approved_at is not None:
        raise InputError(
            f"harm exception #{exception.id} was already approved by {exception.approved_by} "
            f"on {day(exception.approved_at)}"
        )
    if when.date() > exception.review_on:
        raise InputError(
            f"harm exception #{exception.id} passed its review date "
            f"{exception.review_on.isoformat()}; request a new one"
        )
    if when < as_utc(exception.requested_at):
        raise InputError("the approval time is before the request")
    exception.approved_by = who
    exception.approved_at = when
    session.flush()
    _audit(session, audit, exception, "harm_exception.approve", who, when)
    return exception


def end_harm_exception(
    session: Session,
    audit: AuditTrail,
    *,
    exception_id: int,
    by: str,
    organisation: str | None = None,
    subject_key: str | None = None,
    at: datetime | None = None,
) -> HarmException:
    """End an exception (requested or approved) now: from this moment it allows nothing."""
    exception = get_harm_exception(session, exception_id, organisation, subject_key)
    who = require_text(by, "who ends the exception")
    when = moment(at, "the end time")
    if exception.ended_at is not None:
        raise InputError(
            f"harm exception #{exception.id} was already ended on {day(exception.ended_at)}"
        )
    if when < as_utc(exception.requested_at):
        raise InputError("the end time is before the request")
    exception.ended_at = when
    session.flush()
    _audit(session, audit, exception, "harm_exception.end", who, when)
    return exception


def get_harm_exception(
    session: Session,
    exception_id: int,
    organisation: str | None = None,
    subject_key: str | None = None,
) -> HarmException:
    exception = session.get(HarmException, exception_id)
    if exception is None or (
        (organisation is not None and exception.organisation != organisation)
        or (subject_key is not None and exception.subject_key != subject_key)
    ):
        raise NotFoundError(f"no harm exception #{exception_id} for this subject")
    return exception


def exception_state(exception: HarmException, at: datetime) -> str:
    """requested, in_force, expired or ended at moment ``at``."""
    when = as_utc(at)
    if exception.ended_at is not None and as_utc(exception.ended_at) <= when:
        return ENDED
    if when.date() > exception.review_on:
        return EXPIRED
    if exception.approved_at is not None and as_utc(exception.approved_at) <= when:
        return IN_FORCE
    return REQUESTED


def exception_in_force(
    session: Session, *, organisation: str, subject_key: str, scope: str, at: datetime
) -> HarmException | None:
    """The exception in force at ``at`` covering ``scope`` (the latest approved), or None."""
    validate_scope(scope)
    candidates = session.scalars(
        select(HarmException)
        .where(
            HarmException.organisation == organisation,
            HarmException.subject_key == subject_key,
            HarmException.approved_at.is_not(None),
        )
        .order_by(HarmException.id)
    )
    in_force = [e for e in candidates if scope in e.scopes and exception_state(e, at) == IN_FORCE]
    return max(
        in_force, key=lambda e: (as_utc(e.approved_at or e.requested_at), e.id), default=None
    )


def exception_sentence(exception: HarmException, scope: str) -> str:
    """Why the exception allows ``scope``, for a caseworker."""
    approved = day(exception.approved_at) if exception.approved_at else "?"
    return (
        f"harm exception #{exception.id} for {scope_label(scope)} approved by "
        f"{exception.approved_by} on {approved}, in force until its review on "
        f"{exception.review_on.isoformat()}"
    )


def _audit(
    session: Session,
    audit: AuditTrail,
    exception: HarmException,
    action: str,
    actor: str,
    when: datetime,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        organisation=exception.organisation,
        target=f"harm_exception:{exception.id}",
        details={
            "subject_key": exception.subject_key,
            "scopes": list(exception.scopes),
            "review_on": exception.review_on.isoformat(),
            "requested_by": exception.requested_by,
            # The audit entry is stamped when it is written; the moment the change took
            # effect (which may be earlier, e.g. a paper approval entered later) goes here.
            "effective_at": when.isoformat(),
        },
    )
