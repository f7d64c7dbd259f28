"""Stored agreements: import versions, collect each party's approval, find the one in force.

Rules, and why:
- A stored version is never changed. An edit is a new, higher version; re-importing the same
  text is a no-op (so a steward can re-run an import safely), and the same version number with a
  different body is refused (two texts must never share a version a release may cite).
- An agreement takes effect only once an administrator of *every* party has approved that exact
  version: no organisation can be bound by a text it has not accepted. When it takes effect, the
  version in force before it is superseded.
- Every import and approval is written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from concord.db.models import AgreementApproval, Purpose, SharingAgreement
from concord.errors import InputError, NotFoundError, PermissionDeniedError
from concord.protect.audit import AuditTrail
from concord.protect.identity import get_user, roles_of
from concord.protect.purposes import DEFAULT_PURPOSES
from concord.protect.roles import Role
from concord.share.agreement import Agreement, dump_agreement, validate_agreement

DRAFT = "draft"
IN_FORCE = "in_force"
SUPERSEDED = "superseded"
EXPIRED = "expired"


@dataclass(frozen=True)
class StoredAgreement:
    """One stored version with its status and who has approved it so far."""

    agreement: Agreement
    status: str
    approved_by: dict[str, str]  # organisation -> username
    created_by: str
    created_at: datetime

    @property
    def waiting_for(self) -> list[str]:
        """Parties whose approval is still missing, in party order."""
        return [p for p in self.agreement.parties if p not in self.approved_by]


@dataclass(frozen=True)
class ApprovalResult:
    """What an approval changed: whether it was new, and whether the version is now in force."""

    recorded: bool
    in_force: bool
    waiting_for: list[str]
    superseded: list[int]  # versions this one replaced


def _known_purposes(session: Session) -> set[str]:
    # A node may add purposes of its own; the shipped ones are valid even before they are seeded.
    return set(session.scalars(select(Purpose.slug))) | {p.slug for p in DEFAULT_PURPOSES}


def _row(session: Session, agreement_id: str, version: int | None) -> SharingAgreement:
    query = select(SharingAgreement).where(SharingAgreement.agreement_id == agreement_id)
    if version is not None:
        query = query.where(SharingAgreement.version == version)
    row = session.scalar(query.order_by(SharingAgreement.version.desc()).limit(1))
    if row is None:
        which = f"version {version} of " if version is not None else ""
        raise NotFoundError(f"no {which}agreement {agreement_id!r} (see `concord agreement list`)")
    return row


def _stored(session: Session, row: SharingAgreement) -> StoredAgreement:
    approvals = session.execute(
        select(AgreementApproval.organisation, AgreementApproval.approved_by).where(
            AgreementApproval.agreement == row.id
        )
    )
    return StoredAgreement(
        agreement=Agreement.model_validate(row.body),
        status=row.status,
        approved_by={str(org): str(by) for org, by in approvals},
        created_by=row.created_by,
        created_at=row.created_at,
    )


def import_agreement(
    session: Session, audit: AuditTrail, agreement: Agreement, *, actor: str
) -> StoredAgreement:
    """Store ``agreement`` as a draft version; an identical re-import returns the stored one."""
    validate_agreement(
        agreement, source=f"agreement {agreement.id}", known_purposes=_known_purposes(session)
    )
    body = agreement.body()
    same = session.scalar(
        select(SharingAgreement).where(
            SharingAgreement.agreement_id == agreement.id,
            SharingAgreement.version == agreement.version,
        )
    )
    if same is not None:
        if same.body == body:
            return _stored(session, same)
        raise InputError(
            f"version {agreement.version} of agreement {agreement.id!r} is already stored with a "
            "different text; a stored version never changes, so give the edit a higher version"
        )
    latest = session.scalar(
        select(func.max(SharingAgreement.version)).where(
            SharingAgreement.agreement_id == agreement.id
        )
    )
    if latest is not None and agreement.version < latest:
        raise InputError(
            f"agreement {agreement.id!r} is already at version {latest}; "
            f"an edit must be version {latest + 1} or higher, not {agreement.version}"
        )
    row = SharingAgreement(
        agreement_id=agreement.id,
        version=agreement.version,
        body=body,
        status=DRAFT,
        created_by=actor,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    audit.record(
        session,
        actor=actor,
        action="agreement.import",
        organisation=agreement.provider,
        purpose=agreement.purpose,
        target=f"{agreement.id} v{agreement.version}",
        details={"parties": agreement.parties, "level": agreement.level.value},
    )
    session.flush()
    return _stored(session, row)


def approve(
    session: Session,
    audit: AuditTrail,
    *,
    agreement_id: str,
    version: int,
    organisation: str,
    approver_username: str,
) -> ApprovalResult:
    """Record ``organisation``'s approval of one version; it takes effect once all parties agree.

    Only a party may approve, and only through a person holding the administrator role in that
    organisation (the person who may commit it). Approving twice is a no-op.
    """
    row = _row(session, agreement_id, version)
    agreement = Agreement.model_validate(row.body)
    target = f"{agreement_id} v{version}"
    if organisation not in agreement.parties:
        raise PermissionDeniedError(
            f"{organisation!r} is not a party to {target}; parties: {', '.join(agreement.parties)}"
        )
    user = get_user(session, approver_username)
    if not user.is_active or Role.ADMINISTRATOR not in roles_of(session, user.id).get(
        organisation, frozenset()
    ):
        raise PermissionDeniedError(
            f"{approver_username!r} cannot approve for {organisation!r}: only an active "
            f"administrator of {organisation!r} can commit it to an agreement"
        )
    if session.get(AgreementApproval, (row.id, organisation)) is not None:
        stored = _stored(session, row)
        return ApprovalResult(False, row.status == IN_FORCE, stored.waiting_for, [])
    if row.status != DRAFT:
        raise InputError(f"{target} is {row.status}; only a draft can be approved")
    newer_in_force = session.scalar(
        select(SharingAgreement.version).where(
            SharingAgreement.agreement_id == agreement_id,
            SharingAgreement.status == IN_FORCE,
            SharingAgreement.version > version,
        )
    )
    if newer_in_force is not None:
        raise InputError(f"version {newer_in_force} of {agreement_id!r} is already in force")
    session.add(
        AgreementApproval(
            agreement=row.id,
            organisation=organisation,
            approved_by=approver_username,
            approved_at=datetime.now(UTC),
        )
    )
    audit.record(
        session,
        actor=approver_username,
        action="agreement.approve",
        organisation=organisation,
        purpose=agreement.purpose,
        target=target,
    )
    session.flush()
    waiting = _stored(session, row).waiting_for
    if waiting:
        return ApprovalResult(True, False, waiting, [])
    return ApprovalResult(True, True, [], _take_effect(session, audit, row, approver_username))


def _take_effect(
    session: Session, audit: AuditTrail, row: SharingAgreement, actor: str
) -> list[int]:
    earlier = list(
        session.scalars(
            select(SharingAgreement).where(
                SharingAgreement.agreement_id == row.agreement_id,
                SharingAgreement.status == IN_FORCE,
                SharingAgreement.version < row.version,
            )
        )
    )
    for old in earlier:
        old.status = SUPERSEDED
    row.status = IN_FORCE
    superseded = [old.version for old in earlier]
    audit.record(
        session,
        actor=actor,
        action="agreement.in_force",
        organisation=str(row.body["provider"]),
        target=f"{row.agreement_id} v{row.version}",
        details={"superseded": superseded},
    )
    session.flush()
    return superseded


def in_force(session: Session, agreement_id: str, at: date | None = None) -> Agreement | None:
    """The version in force on ``at`` (default today), or None.

    ``valid_to`` is the last day the agreement covers (inclusive), as written in protocols.
    """
    day = at or datetime.now(UTC).date()
    row = session.scalar(
        select(SharingAgreement).where(
            SharingAgreement.agreement_id == agreement_id, SharingAgreement.status == IN_FORCE
        )
    )
    if row is None:
        return None
    agreement = Agreement.model_validate(row.body)
    return agreement if agreement.valid_from <= day <= agreement.valid_to else None


def get_agreement(
    session: Session, agreement_id: str, version: int | None = None
) -> StoredAgreement:
    """One version (default: the latest) with its status and approvals."""
    return _stored(session, _row(session, agreement_id, version))


def list_agreements(session: Session) -> Sequence[StoredAgreement]:
    """Every stored version, by id then version."""
    rows = session.scalars(
        select(SharingAgreement).order_by(SharingAgreement.agreement_id, SharingAgreement.version)
    )
    return [_stored(session, row) for row in rows]


def effective_status(stored: StoredAgreement, today: date | None = None) -> str:
    """The status to show: an in-force version past its ``valid_to`` reads as expired."""
    day = today or datetime.now(UTC).date()
    if stored.status == IN_FORCE and day > stored.agreement.valid_to:
        return EXPIRED
    return stored.status


def export_agreement(session: Session, agreement_id: str, version: int | None = None) -> str:
    """The stored text of one version (default: the latest) as YAML."""
    return dump_agreement(get_agreement(session, agreement_id, version).agreement)
