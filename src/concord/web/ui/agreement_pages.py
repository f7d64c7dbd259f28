"""Sharing agreements in the browser: the list, one version with its approvals, the YAML
download, an editor that imports a new draft version, and approval by a party's administrator.

Who may do what, and why:
- Reading needs ``release.read`` (or ``org.admin``) in the provider or a recipient: an
  agreement names what one organisation will hand another, which is nobody else's business.
- Drafting needs ``org.admin`` or ``release.write`` in the provider, of the new text *and* of the
  version it replaces, so that nobody can take over an agreement id by naming themselves its
  provider in a "new version".
- Approving needs the administrator role in the party approved for (checked again by
  :func:`concord.share.approve`): approval commits an organisation to the text.

Every rule about versions (a stored version never changes, an identical re-import is a no-op)
lives in :mod:`concord.share.registry`; the editor only shows its answers next to the text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from concord.errors import InputError, NotFoundError, PermissionDeniedError
from concord.protect.purposes import DEFAULT_PURPOSES
from concord.protect.roles import Permission
from concord.share import (
    StoredAgreement,
    approve,
    dump_agreement,
    get_agreement,
    import_agreement,
    list_agreements,
    parse_agreement,
)
from concord.share.registry import DRAFT, effective_status
from concord.web.auth import audit_trail
from concord.web.deps import db_session
from concord.web.templating import render
from concord.web.ui.parties import PartyGuard, requires_any

router = APIRouter(prefix="/agreements", tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
Viewer = Annotated[PartyGuard, Depends(requires_any(Permission.RELEASE_READ, Permission.ORG_ADMIN))]
Editor = Annotated[
    PartyGuard, Depends(requires_any(Permission.ORG_ADMIN, Permission.RELEASE_WRITE))
]
Administrator = Annotated[PartyGuard, Depends(requires_any(Permission.ORG_ADMIN))]
#: Far more than any agreement needs; keeps a pasted file from filling the server's memory.
MAX_TEXT = 100_000

#: What a new agreement starts from: every field, with the choices written beside it.
NEW_TEMPLATE = """\
# A sharing agreement (docs/sharing.md describes every field).
id: {provider}-to-hub          # a stable slug: it names the agreement in releases and audits
version: 1                     # an edit is a new, higher version
title: {provider} to the regional hub, quarterly aggregates
provider: {provider}           # the organisation that shares
recipients:                    # the organisations that receive (at least one)
  - regional-hub
purpose: statistics            # statistics allows aggregates only
legal_basis: State the law or mandate that allows this sharing.
shares:                        # at least one of indicators, dimensions, fields
  indicators: [reports.total, reports.abuse_type]
  dimensions: [country, abuse_type, victim_age_band, month]
level: aggregate               # aggregate | pseudonymised_records (needs consent_required: true)
disclosure:
  min_cell: 10                 # smaller counts are suppressed
  rounding_base: 5             # published counts rounded to a multiple of 5 (or leave out)
  dp: none                     # or {{epsilon: 1.0, period: quarter}}
  never_cross:                 # dimensions never shown together in one table
    - [victim_age_band, country]
frequency: quarterly           # monthly | quarterly | yearly | ad_hoc
valid_from: {start}
valid_to: {end}
marking: AMBER                 # TLP 2.0: CLEAR | GREEN | AMBER | AMBER+STRICT | RED
onward_sharing: within_recipient   # none | within_recipient | as_marking | your own rule
consent_required: false
"""


def new_template(provider: str, today: date | None = None) -> str:
    """The commented starting text of a new agreement, valid once its placeholders are real."""
    day = today or datetime.now(UTC).date()
    return NEW_TEMPLATE.format(
        provider=provider or "my-organisation",
        start=date(day.year, 1, 1).isoformat(),
        end=date(day.year + 1, 12, 31).isoformat(),
    )


def _known_purposes(guard: PartyGuard) -> set[str]:
    # As the registry checks on import: the purposes registered on this node, and the shipped
    # ones even before they are seeded.
    return set(guard.principal.purposes) | {p.slug for p in DEFAULT_PURPOSES}


def _latest(session: Session, agreement_id: str) -> StoredAgreement | None:
    try:
        return get_agreement(session, agreement_id)
    except NotFoundError:
        return None


def _versions(session: Session, guard: PartyGuard, agreement_id: str) -> list[StoredAgreement]:
    """The versions of one agreement the principal is party to (parties may change)."""
    return [
        s
        for s in list_agreements(session)
        if s.agreement.id == agreement_id and guard.is_party(s.agreement)
    ]


def _visible(
    session: Session, guard: PartyGuard, agreement_id: str, version: int | None
) -> StoredAgreement:
    stored = get_agreement(session, agreement_id, version)
    guard.check_party(stored.agreement)
    return stored


def _editor(
    request: Request,
    guard: PartyGuard,
    *,
    text: str,
    base: StoredAgreement | None = None,
    error: InputError | None = None,
) -> Response:
    problems: list[str] = []
    if error is not None:
        problems = error.details or [error.message]
    return render(
        request,
        "agreement_edit.html",
        {
            "text": text,
            "base": base,
            "summary": error.message if error is not None else "",
            "problems": problems,
            "purposes": sorted(_known_purposes(guard)),
        },
        status_code=422 if error is not None else 200,
    )


@router.get("", response_class=HTMLResponse)
def agreements_page(request: Request, session: SessionDep, guard: Viewer) -> Response:
    rows = [
        {"stored": s, "status": effective_status(s)}
        for s in list_agreements(session)
        if guard.is_party(s.agreement)
    ]
    editor = PartyGuard(guard.principal, (Permission.ORG_ADMIN, Permission.RELEASE_WRITE))
    return render(
        request,
        "agreements.html",
        {"rows": rows, "can_draft": bool(editor.organisations())},
    )


@router.get("/new", response_class=HTMLResponse)
def new_page(request: Request, guard: Editor) -> Response:
    orgs = guard.organisations()
    return _editor(request, guard, text=new_template(orgs[0] if orgs else ""))


@router.post("")
def import_page(
    request: Request,
    session: SessionDep,
    guard: Editor,
    text: Annotated[str, Form(max_length=MAX_TEXT)],
) -> Response:
    try:
        agreement = parse_agreement(text, source="agreement", known_purposes=_known_purposes(guard))
    except InputError as exc:
        return _editor(request, guard, text=text, error=exc)
    guard.check(agreement.provider)
    latest = _latest(session, agreement.id)
    if latest is not None and latest.agreement.provider != agreement.provider:
        guard.check(latest.agreement.provider)
    try:
        stored = import_agreement(
            session, audit_trail(request), agreement, actor=guard.principal.username
        )
    except InputError as exc:
        return _editor(request, guard, text=text, base=latest, error=exc)
    target = f"/agreements/{stored.agreement.id}?version={stored.agreement.version}"
    return RedirectResponse(target, status_code=303)


@router.get("/{agreement_id}", response_class=HTMLResponse)
def agreement_page(
    request: Request,
    agreement_id: str,
    session: SessionDep,
    guard: Viewer,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    stored = _visible(session, guard, agreement_id, version)
    agreement = stored.agreement
    editor = PartyGuard(guard.principal, (Permission.ORG_ADMIN, Permission.RELEASE_WRITE))
    approve_for = (
        [o for o in guard.administers(agreement) if o in stored.waiting_for]
        if stored.status == DRAFT
        else []
    )
    return render(
        request,
        "agreement.html",
        {
            "stored": stored,
            "a": agreement,
            "status": effective_status(stored),
            "versions": [
                {"stored": s, "status": effective_status(s)}
                for s in _versions(session, guard, agreement_id)
            ],
            "purpose_name": _purpose_name(guard, agreement.purpose),
            "can_edit": editor.allows(agreement.provider),
            "approve_for": approve_for,
        },
    )


def _purpose_name(guard: PartyGuard, slug: str) -> str:
    info = guard.principal.purposes.get(slug)
    return info.name if info is not None else slug


@router.get("/{agreement_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, agreement_id: str, session: SessionDep, guard: Editor) -> Response:
    latest = get_agreement(session, agreement_id)
    guard.check(latest.agreement.provider)
    # Why the next version number is filled in: a stored version never changes, so every edit
    # is a new version; starting from the latest saves a refused first attempt.
    bumped = latest.agreement.model_copy(update={"version": latest.agreement.version + 1})
    return _editor(request, guard, text=dump_agreement(bumped), base=latest)


@router.get("/{agreement_id}/v{version}.yaml")
def agreement_yaml(agreement_id: str, version: int, session: SessionDep, guard: Viewer) -> Response:
    stored = _visible(session, guard, agreement_id, version)
    name = f"{agreement_id}-v{version}.yaml"
    return Response(
        dump_agreement(stored.agreement),
        media_type="application/yaml",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.post("/{agreement_id}/v{version}/approve")
def approve_page(
    request: Request,
    agreement_id: str,
    version: int,
    session: SessionDep,
    guard: Administrator,
    organisation: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    stored = get_agreement(session, agreement_id, version)
    agreement = stored.agreement
    mine = guard.administers(agreement)
    chosen = organisation.strip() or next(
        (o for o in mine if o in stored.waiting_for), mine[0] if mine else ""
    )
    if not chosen:
        raise PermissionDeniedError(
            f"only an administrator of a party ({', '.join(agreement.parties)}) can approve "
            f"{agreement_id} v{version}, and you are the administrator of none of them",
            details=[
                "each party's own administrator approves for that party: ask one of theirs",
            ],
        )
    approve(
        session,
        audit_trail(request),
        agreement_id=agreement_id,
        version=version,
        organisation=chosen,
        approver_username=guard.principal.username,
    )
    return RedirectResponse(f"/agreements/{agreement_id}?version={version}", status_code=303)
