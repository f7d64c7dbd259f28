"""Releases in the browser: plan one (the policy decision, the risk report and a preview of the
protected tables), run it, see what was released and revoke it. The JSON is under
``/api/releases``.

Who may do what, and why:
- Seeing a release needs ``release.read`` in its provider or a recipient: the recipients are
  who it was made for. A *refused* release is the provider's business only (its reasons name the
  provider's staff and their training), so recipients see released and revoked ones.
- Planning reads the provider's records, so it needs ``release.read`` in the provider.
- Running and revoking need ``release.write`` in the provider; the pipeline checks the rest
  (agreement in force, period over, training, purpose, budget) rule by rule, and stores a
  refusal with its reasons just as the CLI does.

The pages call :mod:`concord.share.release` exactly as ``concord release`` does, and print
cells only through :mod:`concord.web.ui.release_views`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from concord.db.models import Release
from concord.errors import InputError, NotFoundError
from concord.indicators.definitions import default_registry
from concord.protect.pseudonyms import PseudonymKeys
from concord.protect.roles import Permission
from concord.share import Agreement, get_agreement, list_agreements
from concord.share.registry import IN_FORCE, effective_status
from concord.share.release import (
    REFUSED,
    RELEASED,
    ReleasePlan,
    ReleaseRequest,
    get_release,
    list_releases,
    plan_release,
    release_tables,
    resolve_agreement,
    revoke_release,
    run_release,
)
from concord.share.release_bundle import write_release_bundle
from concord.vocab.model import Vocabulary
from concord.web.auth import audit_trail
from concord.web.deps import db_session, vocabulary
from concord.web.deps import settings as app_settings
from concord.web.templating import render
from concord.web.ui import release_views as views
from concord.web.ui.parties import PartyGuard, requires_any

router = APIRouter(prefix="/releases", tags=["pages"], include_in_schema=False)
api = APIRouter(prefix="/releases", tags=["releases"])
SessionDep = Annotated[Session, Depends(db_session)]
VocabularyDep = Annotated[Vocabulary, Depends(vocabulary)]
Reader = Annotated[PartyGuard, Depends(requires_any(Permission.RELEASE_READ))]
Steward = Annotated[PartyGuard, Depends(requires_any(Permission.RELEASE_WRITE))]
AgreementField = Annotated[str, Form(min_length=1, max_length=128)]
PeriodField = Annotated[str, Form(min_length=1, max_length=32)]


class _Agreements:
    """Stored agreement versions read once per request (a list names many releases)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[tuple[str, int], Agreement | None] = {}

    def of(self, row: Release) -> Agreement | None:
        key = (row.agreement_id, row.agreement_version)
        if key not in self.cache:
            try:
                self.cache[key] = get_agreement(self.session, *key).agreement
            except NotFoundError:
                self.cache[key] = None  # only the provider can still see such a release
        return self.cache[key]


def _may_see(guard: PartyGuard, row: Release, agreement: Agreement | None) -> bool:
    if guard.allows(row.provider):
        return True
    return agreement is not None and guard.is_party(agreement) and row.status != REFUSED


def _release(session: Session, guard: PartyGuard, release_id: str) -> Release:
    """The release, once the principal may see it (a refusal hidden from recipients is 404)."""
    row = get_release(session, release_id)
    agreement = _Agreements(session).of(row)
    if agreement is None:
        guard.check(row.provider)
    else:
        guard.check_party(agreement)
    if not _may_see(guard, row, agreement):
        raise NotFoundError(f"no release {release_id!r} for your organisations")
    return row


def _visible_releases(session: Session, guard: PartyGuard) -> list[Release]:
    """Releases the principal may see, newest first."""
    agreements = _Agreements(session)
    return [r for r in list_releases(session) if _may_see(guard, r, agreements.of(r))]


def _plan(
    request: Request,
    session: Session,
    guard: PartyGuard,
    vocab: Vocabulary,
    release: ReleaseRequest,
) -> ReleasePlan:
    """Check the principal may plan for the provider, then plan as ``concord release plan``."""
    stored = resolve_agreement(session, release.agreement_id, release.version)
    guard.check(stored.agreement.provider)
    return plan_release(
        session,
        release,
        principal=guard.principal,
        vocabulary=vocab,
        registry=default_registry(None, vocab, session),
        engine=request.app.state.engine,
        keys=PseudonymKeys(app_settings(request).key_dir),
    )


def _choices(session: Session, guard: PartyGuard) -> list[Agreement]:
    """Agreements in force that the principal may release (or, holding ``release.write``
    nowhere, may at least plan): what the plan form offers."""
    writer = PartyGuard(guard.principal, (Permission.RELEASE_WRITE,))
    orgs = set(writer.organisations()) or set(guard.organisations())
    return [
        s.agreement
        for s in list_agreements(session)
        if effective_status(s) == IN_FORCE and s.agreement.provider in orgs
    ]


def _epsilon(text: str) -> float | None:
    """The privacy budget a steward asks to spend; empty means what is left this period."""
    if not text.strip():
        return None
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        raise InputError(f"ε must be a number like 0.5, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"ε must be a positive number, not {text!r}")
    return value


@router.get("", response_class=HTMLResponse)
def releases_page(request: Request, session: SessionDep, guard: Reader) -> Response:
    return render(
        request,
        "releases.html",
        {
            "releases": _visible_releases(session, guard),
            "can_plan": bool(guard.organisations()),
        },
    )


@router.get("/plan", response_class=HTMLResponse)
def plan_page(
    request: Request,
    session: SessionDep,
    guard: Reader,
    vocab: VocabularyDep,
    agreement: Annotated[str, Query(max_length=128)] = "",
    period: Annotated[str, Query(max_length=32)] = "",
    version: Annotated[int | None, Query(ge=1)] = None,
    epsilon: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    spend = _epsilon(epsilon)
    context: dict[str, Any] = {
        "choices": _choices(session, guard),
        "agreement": agreement,
        "period": period,
        "epsilon": spend,
        "examples": views.period_examples(datetime.now(UTC).date()),
        "plan": None,
        "error": None,
    }
    if agreement and period:
        try:
            plan = _plan(
                request,
                session,
                guard,
                vocab,
                ReleaseRequest(agreement, period, epsilon=spend, version=version),
            )
        except InputError as exc:
            context["error"] = exc
            return render(request, "release_plan.html", context, status_code=422)
        provider = plan.stored.agreement.provider
        context |= {
            "plan": plan,
            "tables": views.plan_tables(plan.tables, vocab.label_of),
            "can_run": plan.allowed and guard.principal.can(Permission.RELEASE_WRITE, provider),
        }
    return render(request, "release_plan.html", context)


@router.post("")
def run_page(
    request: Request,
    session: SessionDep,
    guard: Steward,
    vocab: VocabularyDep,
    agreement: AgreementField,
    period: PeriodField,
    version: Annotated[int | None, Form(ge=1)] = None,
    epsilon: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    # Planned again here, not taken from the page: the records, the budget and earlier releases
    # may have changed since the preview, and what is stored must be what the rules allow now.
    request_ = ReleaseRequest(agreement, period, epsilon=_epsilon(epsilon), version=version)
    plan = _plan(request, session, guard, vocab, request_)
    row = run_release(session, plan, actor=guard.principal.username, audit=audit_trail(request))
    if row.status == RELEASED:
        # Signed now, so `concord federation push` finds it; a node without a signing key
        # still releases (`concord release bundle ID` writes the bundle later).
        config = app_settings(request)
        write_release_bundle(session, row.id, config.key_dir, config.bundle_dir)
    return RedirectResponse(f"/releases/{row.id}", status_code=303)


@router.get("/{release_id}", response_class=HTMLResponse)
def release_page(
    request: Request, release_id: str, session: SessionDep, guard: Reader, vocab: VocabularyDep
) -> Response:
    row = _release(session, guard, release_id)
    return render(
        request,
        "release.html",
        {
            "release": row,
            "a": _Agreements(session).of(row),
            "tables": views.release_table_views(release_tables(session, row.id), vocab.label_of),
            "can_revoke": row.status == RELEASED
            and guard.principal.can(Permission.RELEASE_WRITE, row.provider),
        },
    )


@router.post("/{release_id}/revoke")
def revoke_page(
    request: Request,
    release_id: str,
    session: SessionDep,
    guard: Steward,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    row = get_release(session, release_id)
    guard.check(row.provider)
    revoke_release(
        session,
        release_id,
        reason=reason,
        actor=guard.principal.username,
        audit=audit_trail(request),
    )
    return RedirectResponse(f"/releases/{release_id}", status_code=303)


@api.get("", summary="Releases under agreements your organisations are party to, newest first")
def api_releases(session: SessionDep, guard: Reader) -> list[dict[str, Any]]:
    return [views.release_summary(r) for r in _visible_releases(session, guard)]


@api.get("/{release_id}", summary="One release: decision, risk report, method and its cells")
def api_release(release_id: str, session: SessionDep, guard: Reader) -> dict[str, Any]:
    row = _release(session, guard, release_id)
    return views.release_document(row, release_tables(session, row.id))
