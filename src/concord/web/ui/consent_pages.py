"""Consent recording: look a child up by the organisation's own id (pseudonymised at once),
see what the registry holds and allows, and record assessments, consent, withdrawals and harm
exceptions.

Why the child's id travels only in a POST body: URLs end up in access logs and browser history;
from the lookup on, pages are addressed by the pseudonym.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from concord.errors import NotFoundError
from concord.protect import consent
from concord.protect.consent_terms import OUTCOMES, PARTIES, SIMPLE_SCOPES, STATUSES
from concord.protect.pseudonyms import PseudonymKeys
from concord.protect.roles import Permission
from concord.web.auth import Guard, audit_trail, requires
from concord.web.deps import db_session
from concord.web.templating import render

router = APIRouter(prefix="/consent", tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
Reader = Annotated[Guard, Depends(requires(Permission.CONSENT_READ))]
Writer = Annotated[Guard, Depends(requires(Permission.CONSENT_WRITE))]
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=256)]


def _subject_url(org: str, subject_key: str) -> str:
    return f"/consent/{org}/{subject_key}"


def _back(org: str, subject_key: str) -> Response:
    return RedirectResponse(_subject_url(org, subject_key), status_code=303)


@router.get("", response_class=HTMLResponse)
def consent_home(request: Request, guard: Reader) -> Response:
    return render(request, "consent_lookup.html", {"organisations": guard.organisations()})


@router.post("/lookup")
def lookup(
    request: Request,
    guard: Reader,
    org: Annotated[str, Form(max_length=64)],
    subject: Annotated[str, Form(min_length=1, max_length=256)],
) -> Response:
    guard.check(org)
    keys = PseudonymKeys(request.app.state.settings.key_dir)
    return _back(org, keys.subject_key(org, subject))


@router.get("/{org}/{subject_key}", response_class=HTMLResponse)
def subject_page(
    request: Request, org: str, subject_key: str, session: SessionDep, guard: Reader
) -> Response:
    guard.check(org)
    summary = consent.subject_consent_summary(session, org, subject_key)
    guard.audit(session, "consent.read", organisation=org, target=f"subject:{subject_key}")
    return render(
        request,
        "consent_subject.html",
        {
            "summary": summary,
            "org": org,
            "subject_key": subject_key,
            "can_write": guard.principal.can(Permission.CONSENT_WRITE, org),
            "parties": PARTIES,
            "statuses": STATUSES,
            "outcomes": OUTCOMES,
            "scopes": SIMPLE_SCOPES,
            "state": consent.exception_state,
        },
    )


@router.post("/{org}/{subject_key}/assess")
def assess(
    request: Request,
    org: str,
    subject_key: str,
    session: SessionDep,
    guard: Writer,
    outcome: Annotated[str, Form(max_length=16)],
    notes: Text = "",
) -> Response:
    guard.check(org)
    consent.assess_capacity(
        session,
        audit_trail(request),
        organisation=org,
        subject_key=subject_key,
        assessed_by=guard.principal.username,
        outcome=outcome,
        notes=notes,
    )
    return _back(org, subject_key)


@router.post("/{org}/{subject_key}/record")
def record(
    request: Request,
    org: str,
    subject_key: str,
    session: SessionDep,
    guard: Writer,
    party: Annotated[str, Form(max_length=16)],
    status: Annotated[str, Form(max_length=16)],
    scopes: Annotated[list[str] | None, Form()] = None,
    other_scope: Short = "",
    evidence_ref: Short = "",
    not_applicable_reason: Text = "",
) -> Response:
    guard.check(org)
    chosen = [*(scopes or []), *([other_scope.strip()] if other_scope.strip() else [])]
    consent.record_consent(
        session,
        audit_trail(request),
        organisation=org,
        subject_key=subject_key,
        party=party,
        status=status,
        scopes=chosen,
        evidence_ref=evidence_ref or None,
        not_applicable_reason=not_applicable_reason or None,
        recorded_by=guard.principal.username,
    )
    return _back(org, subject_key)


@router.post("/{org}/{subject_key}/withdraw")
def withdraw(
    request: Request,
    org: str,
    subject_key: str,
    session: SessionDep,
    guard: Writer,
    consent_id: Annotated[int, Form()],
) -> Response:
    guard.check(org)
    consent.withdraw_consent(
        session,
        audit_trail(request),
        by=guard.principal.username,
        consent_id=consent_id,
        organisation=org,
        subject_key=subject_key,
    )
    return _back(org, subject_key)


@router.post("/{org}/{subject_key}/harm")
def request_harm(
    request: Request,
    org: str,
    subject_key: str,
    session: SessionDep,
    guard: Writer,
    justification: Text,
    review_on: Annotated[date, Form()],
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    guard.check(org)
    consent.request_harm_exception(
        session,
        audit_trail(request),
        organisation=org,
        subject_key=subject_key,
        scopes=scopes or [],
        justification=justification,
        requested_by=guard.principal.username,
        review_on=review_on,
    )
    return _back(org, subject_key)


@router.post("/{org}/{subject_key}/harm/{exception_id}/{action}")
def decide_harm(
    request: Request,
    org: str,
    subject_key: str,
    exception_id: int,
    action: str,
    session: SessionDep,
    guard: Writer,
) -> Response:
    guard.check(org)
    audit = audit_trail(request)
    if action == "approve":
        consent.approve_harm_exception(
            session,
            audit,
            exception_id=exception_id,
            approver=guard.principal.username,
            organisation=org,
            subject_key=subject_key,
        )
    elif action == "end":
        consent.end_harm_exception(
            session,
            audit,
            exception_id=exception_id,
            by=guard.principal.username,
            organisation=org,
            subject_key=subject_key,
        )
    else:
        raise NotFoundError(f"unknown action {action!r}: approve or end")
    return _back(org, subject_key)
