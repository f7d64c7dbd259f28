"""``concord audit``: Verify and read the tamper-evident audit trail.

Thin, like every command group: filters, pages and exports are those of
:mod:`concord.protect.audit_query`, and verification is ``AuditTrail.verify``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine
from concord.db import session_scope
from concord.protect.audit import VerifyResult, entry_count, parse_head
from concord.protect.audit_query import (
    EXPORT_FORMATS,
    AuditFilter,
    audit_entry_dict,
    count_audit,
    export_audit,
    search_audit,
)

app = typer.Typer(help="Verify and read the tamper-evident audit trail.", no_args_is_help=True)

ActorOption = Annotated[str | None, typer.Option(help="Only entries by this actor.")]
ActionOption = Annotated[
    str | None,
    typer.Option(help="Only this action or those below it (consent matches consent.granted)."),
]
OrgOption = Annotated[str | None, typer.Option("--org", help="Only this organisation.")]
PurposeOption = Annotated[str | None, typer.Option(help="Only this purpose.")]
TargetOption = Annotated[str | None, typer.Option(help="Only entries about this target.")]
SinceOption = Annotated[
    str | None,
    typer.Option(help="From this ISO 8601 date or time on (UTC unless it names a zone)."),
]
UntilOption = Annotated[
    str | None,
    typer.Option(help="Before this ISO 8601 time; a date alone includes that whole day."),
]


def _moment(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    """Parse ``--since``/``--until``; a bare date ends at the next midnight for ``--until``.

    Why: "until 2024-06-30" means to include the 30th; the filter's ``until`` is exclusive.
    """
    if value is None:
        return None
    try:
        if len(value.strip()) == 10:  # YYYY-MM-DD
            day = date.fromisoformat(value.strip())
            return datetime.combine(
                day + timedelta(days=1 if end_of_day else 0), datetime.min.time()
            )
        return datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 date or time (e.g. 2024-06-30 or 2024-06-30T14:00)",
            param_hint=option,
        ) from exc


def _filter(
    actor: str | None,
    action: str | None,
    org: str | None,
    purpose: str | None,
    target: str | None,
    since: str | None,
    until: str | None,
) -> AuditFilter:
    return AuditFilter(
        actor=actor,
        action=action,
        organisation=org,
        purpose=purpose,
        target=target,
        since=_moment(since, "--since"),
        until=_moment(until, "--until", end_of_day=True),
    )


@app.command("verify")
def verify(
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head",
            metavar="SEQ:HASH",
            help="A head printed by an earlier verify: detects deletion of the newest entries.",
        ),
    ] = None,
    output: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Check every entry of the chain; exit status 1 names the first broken entry."""
    head = parse_head(expect_head) if expect_head is not None else None
    trail = audit_trail()
    with session_scope(migrated_engine()) as session:
        total = entry_count(session)
        with Progress(
            TextColumn("[bold]verifying the audit trail"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            # Not in JSON output, and not in a pipe or a cron log, where a bar is only noise.
            disable=output == "json" or not console.is_terminal,
        ) as progress:
            task = progress.add_task("verify", total=total)
            result = trail.verify(
                session,
                expect_head=head,
                progress=lambda done: progress.update(task, completed=done),
            )
    if output == "json":
        console.print_json(json.dumps(_verify_dict(result)))
    else:
        _render_verify(result)
    if not result.ok:
        raise typer.Exit(1)


def _verify_dict(result: VerifyResult) -> dict[str, object]:
    broken = result.broken
    return {
        "ok": result.ok,
        "entries": result.entries,
        "head": result.head,
        "broken": None if broken is None else {"seq": broken.seq, "reason": broken.reason},
    }


def _render_verify(result: VerifyResult) -> None:
    if result.broken is None:
        console.print(f"[green]Audit trail intact:[/] {result.entries:,} entries verified.")
        console.print(
            f"Head: {result.head}\nNote it; `concord audit verify --expect-head {result.head}` "
            "later shows whether the newest entries were deleted since."
        )
        return
    console.print(
        f"[bold red]Audit trail broken at entry {result.broken.seq}:[/] "
        f"{escape(result.broken.reason)}"
    )
    console.print(
        f"{result.entries:,} entries before it verify (last good head {result.head}). "
        "Restore the trail from a backup and investigate who could write to the database."
    )


@app.command("list")
def list_entries(
    actor: ActorOption = None,
    action: ActionOption = None,
    org: OrgOption = None,
    purpose: PurposeOption = None,
    target: TargetOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Entries per page.")] = 50,
    before: Annotated[
        int | None, typer.Option(help="Older page: entries before this seq (see the footer).")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List audit entries, newest first, filtered."""
    audit_filter = _filter(actor, action, org, purpose, target, since, until)
    with session_scope(migrated_engine()) as session:
        total = count_audit(session, audit_filter)
        entries = search_audit(session, audit_filter, limit=limit, before_seq=before)
        rows = [audit_entry_dict(entry) for entry in entries]
    if output == "json":
        console.print_json(json.dumps({"total": total, "entries": rows}))
        return
    table = Table(title=f"Audit trail: {total:,} matching entries, newest first")
    for column in ("seq", "at (UTC)", "actor", "action", "organisation", "purpose", "target"):
        # seq, time and action are what an auditor scans down: never wrapped or cut.
        table.add_column(
            column,
            justify="right" if column == "seq" else "left",
            no_wrap=column in ("seq", "at (UTC)", "action"),
        )
    table.add_column("details", overflow="fold")
    for row in rows:
        table.add_row(
            str(row["seq"]),
            row["at"][:19].replace("T", " "),
            escape(row["actor"]),
            escape(row["action"]),
            escape(row["organisation"] or ""),
            escape(row["purpose"] or ""),
            escape(row["target"] or ""),
            escape(json.dumps(row["details"], ensure_ascii=False)) if row["details"] else "",
        )
    console.print(table)
    if rows and len(rows) == limit:
        console.print(f"Older entries: add --before {rows[-1]['seq']}")


@app.command("export")
def export(
    output_file: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    output_format: Annotated[
        str, typer.Option("--format", help=f"One of {', '.join(EXPORT_FORMATS)}.")
    ] = "jsonl",
    actor: ActorOption = None,
    action: ActionOption = None,
    org: OrgOption = None,
    purpose: PurposeOption = None,
    target: TargetOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
) -> None:
    """Write matching entries, oldest first, to a JSON Lines or CSV file.

    The export itself is recorded in the trail (``audit.export``): who took a copy of it out
    of the node is something an auditor wants to know.
    """
    audit_filter = _filter(actor, action, org, purpose, target, since, until)
    trail = audit_trail()
    with session_scope(migrated_engine()) as session:
        count = export_audit(session, audit_filter, output_file, output_format)
        trail.record(
            session,
            actor=cli_actor(),
            action="audit.export",
            details={
                "format": output_format,
                "entries": count,
                "filter": audit_filter.model_dump(mode="json", exclude_none=True),
            },
        )
    console.print(f"Wrote {count:,} audit entries to {escape(str(output_file))}.")
