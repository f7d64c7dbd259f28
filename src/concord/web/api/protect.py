"""``/api/me``, ``/api/consent`` and ``/api/audit``: the protection layer for other tools.

``/api/consent/{org}/{subject_key}/check?scope=`` answers "may we use this child's data for
this scope?" with the reason — what a referral or sharing tool asks before it acts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from concord.protect import consent
from concord.protect.audit_query import audit_entry_dict, search_audit
from concord.protect.policy import PERMISSION_TEXT, Principal
from concord.protect.roles import Permission
from concord.web.auth import Guard, current_principal, requires
from concord.web.deps import db_session
from concord.web.ui.protect_pages import audit_filter_for

router = APIRouter(tags=["protection"])
SessionDep = Annotated[Session, Depends(db_session)]
Short = Annotated[str, Query(max_length=128)]


@router.get("/me", summary="Who I am, my purpose, training and what I may do where")
def me(principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, Any]:
    return {
        "username": principal.username,
        "purpose": principal.purpose,
        "via": principal.via,
        "demo": principal.is_demo,
        "training": {
            "current": principal.training.current,
            "missing": principal.training.missing,
            "warnings": principal.training.warnings,
        },
        "organisations": {
            org: {
                "roles": sorted(r.value for r in principal.roles[org]),
                "may": sorted(p.value for p in Permission if principal.can(p, org)),
            }
            for org in principal.organisations
        },
        "permissions": {p.value: PERMISSION_TEXT[p] for p in Permission},
    }


@router.get(
    "/consent/{org}/{subject_key}/check",
    summary="May this organisation use this child's data for a scope? With the reason",
)
def consent_check(
    org: str,
    subject_key: str,
    session: SessionDep,
    guard: Annotated[Guard, Depends(requires(Permission.CONSENT_READ))],
    scope: Annotated[str, Query(max_length=200)],
) -> dict[str, Any]:
    guard.check(org)
    decision = consent.may_use(session, organisation=org, subject_key=subject_key, scope=scope)
    guard.audit(
        session,
        "consent.check",
        organisation=org,
        target=f"subject:{subject_key}",
        details={"scope": scope, "allowed": decision.allowed, "via": "api"},
    )
    return decision.to_dict()


@router.get("/consent/{org}/{subject_key}", summary="Everything the consent registry holds")
def consent_summary(
    org: str,
    subject_key: str,
    session: SessionDep,
    guard: Annotated[Guard, Depends(requires(Permission.CONSENT_READ))],
) -> dict[str, Any]:
    guard.check(org)
    summary = consent.subject_consent_summary(session, org, subject_key)
    guard.audit(
        session,
        "consent.read",
        organisation=org,
        target=f"subject:{subject_key}",
        details={"via": "api"},
    )
    return summary.to_dict()


@router.get("/audit", summary="Audit entries, newest first (auditors)")
def audit_entries(
    session: SessionDep,
    guard: Annotated[Guard, Depends(requires(Permission.AUDIT_READ))],
    actor: Short = "",
    action: Short = "",
    org: Short = "",
    since: Annotated[str, Query(max_length=32)] = "",
    until: Annotated[str, Query(max_length=32)] = "",
    before: int | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    where = audit_filter_for(guard, actor, action, org, since, until)
    entries = search_audit(session, where, limit=limit, before_seq=before)
    return {
        "items": [audit_entry_dict(e) for e in entries],
        "next_before": entries[-1].seq if len(entries) == limit else None,
    }
