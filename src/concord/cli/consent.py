"""``concord consent``: Record and check consent, capacity assessments and harm exceptions.

Every command names the organisation (``--org``) and the child by the organisation's own id
(``--subject``); the id is pseudonymised with the organisation's key at once and never stored
or printed. Changes are audited under the operating-system user, or ``--by NAME`` when an
operator enters something done by a colleague (an assessment, a paper form).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine, parse_date
from concord.config import get_settings
from concord.db import session_scope
from concord.errors import InputError
from concord.moments import as_utc
from concord.protect import consent
from concord.protect.audit import AuditTrail
from concord.protect.pseudonyms import PseudonymKeys

app = typer.Typer(
    help="Record and check consent, capacity assessments and harm exceptions.", no_args_is_help=True
)
harm_app = typer.Typer(
    help="The 'concern of potential harm' exception: request, approve (by someone else), end.",
    no_args_is_help=True,
)
app.add_typer(harm_app, name="harm")

OrgOption = Annotated[str, typer.Option("--org", help="The organisation (its slug).")]
SubjectOption = Annotated[
    str,
    typer.Option("--subject", help="The organisation's own id of the child (pseudonymised)."),
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who did it (default: the operating-system user as cli:NAME)."),
]
_SCOPE_HELP = (
    "case_management, referral, research, sharing:org:<slug> or sharing:agreement:<id>; "
    "repeat for several."
)
ScopesOption = Annotated[list[str] | None, typer.Option("--scope", help=_SCOPE_HELP)]
RequiredScopesOption = Annotated[list[str], typer.Option("--scope", help=_SCOPE_HELP)]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="When it happened (ISO 8601, UTC unless an offset is given)."),
]
FormatOption = Annotated[str, typer.Option("--format", help="text or json.")]


@contextmanager
def _db(org: str, subject: str) -> Iterator[tuple[Session, AuditTrail, str]]:
    """A committed-on-success session, the audit trail, and the subject's pseudonym."""
    if not subject.strip():
        raise InputError("--subject: give the organisation's id of the child")
    subject_key = PseudonymKeys(get_settings().key_dir).subject_key(org, subject)
    with session_scope(migrated_engine()) as session:
        yield session, audit_trail(), subject_key


def _moment(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        raise InputError(
            f"{option}: {value!r} is not a time like 2026-03-31T14:00 or 2026-03-31"
        ) from None


def _short(subject_key: str) -> str:
    """How output names a subject: the start of its pseudonym, never the child's id."""
    return f"subject {subject_key[:12]}…"


@app.command("assess")
def assess(
    org: OrgOption,
    subject: SubjectOption,
    outcome: Annotated[str, typer.Option("--outcome", help="capable or not_capable.")],
    notes: Annotated[str, typer.Option("--notes", help="How it was assessed.")] = "",
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Record an assessment of the child's capacity to consent (the latest one counts)."""
    with _db(org, subject) as (session, audit, subject_key):
        assessment = consent.assess_capacity(
            session,
            audit,
            organisation=org,
            subject_key=subject_key,
            assessed_by=by or cli_actor(),
            outcome=outcome,
            notes=notes,
            at=_moment(at, "--at"),
        )
    console.print(
        f"Capacity assessment #{assessment.id} for {_short(subject_key)}: "
        f"[bold]{outcome.replace('_', ' ')}[/] (by {escape(assessment.assessed_by)})"
    )


@app.command("record")
def record(
    org: OrgOption,
    subject: SubjectOption,
    party: Annotated[str, typer.Option("--party", help="child or caregiver.")],
    status: Annotated[str, typer.Option("--status", help="given, refused or not_applicable.")],
    scope: ScopesOption = None,
    evidence: Annotated[
        str | None,
        typer.Option("--evidence", help="Where the proof is (form number, case note id)."),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="Why consent is not applicable (with not_applicable)."),
    ] = None,
    assessment: Annotated[
        int | None,
        typer.Option("--assessment", help="The capacity assessment (default: the latest)."),
    ] = None,
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Record a child's assent or a caregiver's consent, a refusal, or why it does not apply."""
    with _db(org, subject) as (session, audit, subject_key):
        row = consent.record_consent(
            session,
            audit,
            organisation=org,
            subject_key=subject_key,
            party=party,
            status=status,
            scopes=scope or (),
            evidence_ref=evidence,
            not_applicable_reason=reason,
            capacity_assessment_id=assessment,
            recorded_by=by or cli_actor(),
            given_at=_moment(at, "--at"),
        )
    covers = ", ".join(row.scopes) or "every scope"
    console.print(
        f"Consent record #{row.id} for {_short(subject_key)}: {party} "
        f"[bold]{status.replace('_', ' ')}[/] ({escape(covers)})"
    )


@app.command("withdraw")
def withdraw(
    org: OrgOption,
    subject: SubjectOption,
    consent_id: Annotated[
        int | None, typer.Option("--id", help="One consent record to withdraw.")
    ] = None,
    party: Annotated[
        str | None,
        typer.Option("--party", help="Withdraw every consent of this party (child, caregiver)."),
    ] = None,
    scope: ScopesOption = None,
    by: ByOption = None,
    at: AtOption = None,
    output: FormatOption = "text",
) -> None:
    """Withdraw consent (all of it, or --scope only) and list what recipients must be told."""
    if consent_id is None and party is None:
        raise InputError("name the record (--id) or the party (--party) whose consent ends")
    with _db(org, subject) as (session, audit, subject_key):
        report = consent.withdraw_consent(
            session,
            audit,
            by=by or cli_actor(),
            consent_id=consent_id,
            organisation=org,
            subject_key=subject_key,
            party=party,
            scopes=scope or None,
            at=_moment(at, "--at"),
        )
    if output == "json":
        console.print_json(json.dumps(report.to_dict()))
        return
    ids = ", ".join(f"#{i}" for i in report.withdrawn)
    console.print(
        f"Withdrawn: {report.party} consent record {ids} for {_short(subject_key)} "
        f"({escape(', '.join(report.scopes) or 'not-applicable record')}); it no longer "
        f"counts from {report.at.isoformat(timespec='seconds')}."
    )
    if report.continued:
        kept = ", ".join(f"#{i}" for i in report.continued)
        console.print(f"The scopes not withdrawn continue in record {kept}.")
    if not report.flagged:
        console.print("Nothing shared about this subject in those scopes.")
        return
    table = Table(title="Already shared: tell these recipients")
    for column in ("disclosure", "recipient", "scope", "reference", "disclosed"):
        table.add_column(column)
    for item in report.flagged:
        table.add_row(
            f"#{item.id}",
            escape(item.recipient),
            escape(item.scope),
            escape(item.reference or ""),
            item.disclosed_at.date().isoformat(),
        )
    console.print(table)


@app.command("check")
def check(
    org: OrgOption,
    subject: SubjectOption,
    scope: Annotated[str, typer.Option("--scope", help="The use to check.")],
    at: Annotated[
        str | None, typer.Option("--at", help="Check as of this moment (default: now).")
    ] = None,
    output: FormatOption = "text",
) -> None:
    """May the organisation use this child's data for --scope? Exit 0 allowed, 1 denied."""
    with _db(org, subject) as (session, _audit, subject_key):
        decision = consent.may_use(
            session,
            organisation=org,
            subject_key=subject_key,
            scope=scope,
            at=_moment(at, "--at"),
        )
    if output == "json":
        console.print_json(json.dumps(decision.to_dict()))
    else:
        verdict = "[bold green]allowed[/]" if decision.allowed else "[bold red]denied[/]"
        console.print(f"{escape(scope)}: {verdict} (basis: {decision.basis})")
        console.print(escape(decision.reason))
    if not decision.allowed:
        raise typer.Exit(1)


@harm_app.command("request")
def harm_request(
    org: OrgOption,
    subject: SubjectOption,
    scope: RequiredScopesOption,
    justification: Annotated[
        str, typer.Option("--justification", help="The concern of potential harm.")
    ],
    review_on: Annotated[
        str, typer.Option("--review-on", help="Review date (YYYY-MM-DD, within 90 days).")
    ],
    by: ByOption = None,
) -> None:
    """Request an exception to use the data without consent; someone else must approve it."""
    with _db(org, subject) as (session, audit, subject_key):
        exception = consent.request_harm_exception(
            session,
            audit,
            organisation=org,
            subject_key=subject_key,
            scopes=scope,
            justification=justification,
            requested_by=by or cli_actor(),
            review_on=parse_date(review_on, "--review-on"),
        )
    console.print(
        f"Harm exception #{exception.id} requested for {_short(subject_key)} "
        f"({escape(', '.join(exception.scopes))}); it allows nothing until another person "
        f"approves it (concord consent harm approve --id {exception.id} --approver NAME)."
    )


@harm_app.command("approve")
def harm_approve(
    org: OrgOption,
    subject: SubjectOption,
    exception_id: Annotated[int, typer.Option("--id", help="The exception to approve.")],
    approver: Annotated[str, typer.Option("--approver", help="Who approves (not the requester).")],
) -> None:
    """Approve a requested exception; it is in force until ended or past its review date."""
    with _db(org, subject) as (session, audit, subject_key):
        exception = consent.approve_harm_exception(
            session,
            audit,
            exception_id=exception_id,
            approver=approver,
            organisation=org,
            subject_key=subject_key,
        )
    console.print(
        f"Harm exception #{exception.id} approved by {escape(approver)}; in force until "
        f"its review on {exception.review_on.isoformat()}."
    )


@harm_app.command("end")
def harm_end(
    org: OrgOption,
    subject: SubjectOption,
    exception_id: Annotated[int, typer.Option("--id", help="The exception to end.")],
    by: ByOption = None,
) -> None:
    """End an exception now: from this moment it allows nothing."""
    with _db(org, subject) as (session, audit, subject_key):
        exception = consent.end_harm_exception(
            session,
            audit,
            exception_id=exception_id,
            by=by or cli_actor(),
            organisation=org,
            subject_key=subject_key,
        )
    console.print(f"Harm exception #{exception.id} ended.")


@app.command("show")
def show(org: OrgOption, subject: SubjectOption, output: FormatOption = "text") -> None:
    """Everything recorded about the child's consent, and what it allows now."""
    with _db(org, subject) as (session, _audit, subject_key):
        summary = consent.subject_consent_summary(session, org, subject_key)
    if output == "json":
        console.print_json(json.dumps(summary.to_dict()))
        return
    console.print(f"[bold]{_short(subject_key)}[/] in {escape(org)}")
    decisions = Table(title="What consent allows now")
    for column in ("scope", "allowed", "basis", "reason"):
        decisions.add_column(column, overflow="fold")
    for d in summary.decisions:
        decisions.add_row(escape(d.scope), "yes" if d.allowed else "no", d.basis, escape(d.reason))
    console.print(decisions)
    _rows_table(
        "Capacity assessments",
        ("id", "assessed", "by", "outcome"),
        [(f"#{a.id}", _day(a.assessed_at), a.assessed_by, a.outcome) for a in summary.assessments],
    )
    _rows_table(
        "Consent records",
        ("id", "party", "status", "scopes", "given", "withdrawn", "evidence", "reason"),
        [
            (
                f"#{r.id}",
                r.party,
                r.status,
                ", ".join(r.scopes),
                _day(r.given_at),
                _day(r.withdrawn_at),
                r.evidence_ref or "",
                r.not_applicable_reason or "",
            )
            for r in summary.records
        ],
    )
    _rows_table(
        "Harm exceptions",
        ("id", "scopes", "state", "requested by", "approved by", "review on"),
        [
            (
                f"#{e.id}",
                ", ".join(e.scopes),
                consent.exception_state(e, summary.at),
                e.requested_by,
                e.approved_by or "",
                e.review_on.isoformat(),
            )
            for e in summary.exceptions
        ],
    )
    _rows_table(
        "Shared about this child",
        ("id", "recipient", "scope", "disclosed", "withdrawal flagged", "recipient told"),
        [
            (
                f"#{d.id}",
                d.recipient,
                d.scope,
                _day(d.disclosed_at),
                _day(d.withdrawal_flagged_at),
                _day(d.recipient_notified_at),
            )
            for d in summary.disclosures
        ],
    )


def _day(moment: datetime | None) -> str:
    return as_utc(moment).date().isoformat() if moment is not None else ""


def _rows_table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)
