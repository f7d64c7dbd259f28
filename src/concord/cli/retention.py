"""``concord retention``: retention rules, and deleting or anonymising what has expired.

Thin on purpose: each command parses its options, calls :mod:`concord.protect.retention` and
renders the result. Rule changes and runs are written to the audit trail under the
operating-system user who ran the command; a dry run writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine
from concord.db import session_scope
from concord.protect import retention
from concord.protect.retention_datasets import default_datasets

app = typer.Typer(
    help="Retention rules, and deleting or anonymising what has expired.", no_args_is_help=True
)


@app.command("rules")
def rules() -> None:
    """List the retention rules (most specific wins: org+purpose > org > purpose > all)."""
    with session_scope(migrated_engine()) as session:
        found = retention.list_rules(session)
        if not found:
            console.print(
                "No retention rules: nothing is deleted or anonymised until you add one "
                "(`concord retention add`)."
            )
            return
        table = Table(title="Retention rules")
        for column in ("id", "dataset", "organisation", "purpose", "keep days", "action"):
            table.add_column(column, justify="right" if column in ("id", "keep days") else "left")
        table.add_column("added by")
        table.add_column("added")
        for rule in found:
            table.add_row(
                str(rule.id),
                rule.dataset,
                escape(rule.organisation or "(all)"),
                escape(rule.purpose or "(any)"),
                f"{rule.keep_days:,}",
                rule.action,
                escape(rule.created_by),
                rule.created_at.strftime("%Y-%m-%d"),
            )
        console.print(table)


@app.command("add")
def add(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", help=f"What the rule is about: {', '.join(default_datasets().names)}."
        ),
    ],
    keep_days: Annotated[int, typer.Option("--keep-days", help="Days to keep a row (at least 1).")],
    action: Annotated[str, typer.Option("--action", help="delete, or anonymise (records only).")],
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organisation's rows (default: all).")
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option("--purpose", help="Only rows kept for this purpose (protected_values)."),
    ] = None,
) -> None:
    """Add a retention rule."""
    with session_scope(migrated_engine()) as session:
        rule = retention.add_rule(
            session,
            audit_trail(),
            dataset=dataset,
            keep_days=keep_days,
            action=action,
            organisation=org,
            purpose=purpose,
            created_by=cli_actor(),
        )
        rule_id = rule.id
    console.print(
        f"Added retention rule {rule_id}: {action} {escape(dataset)}"
        f"{escape(f' of {org}') if org else ''}{escape(f' kept for {purpose}') if purpose else ''}"
        f" after {keep_days:,} days."
    )


@app.command("remove")
def remove(
    rule_id: Annotated[int, typer.Argument(help="Rule id (see `concord retention rules`).")],
) -> None:
    """Remove a retention rule (what it covered is kept until another rule covers it)."""
    with session_scope(migrated_engine()) as session:
        retention.remove_rule(session, audit_trail(), rule_id, cli_actor())
    console.print(f"Removed retention rule {rule_id}.")


@app.command("run")
def run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
    ] = False,
    today: Annotated[
        datetime | None,
        typer.Option(
            "--today",
            formats=["%Y-%m-%d"],
            help="Measure ages from this day (YYYY-MM-DD, UTC; later than today only with "
            "--dry-run). Default: today.",
        ),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per delete/update statement.")
    ] = retention.DEFAULT_BATCH_SIZE,
) -> None:
    """Delete or anonymise everything older than its rule allows; audited."""
    with (
        session_scope(migrated_engine()) as session,
        Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=dry_run,
        ) as progress,
    ):
        task = progress.add_task("applying retention rules", total=None)
        report = retention.run(
            session,
            audit_trail(),
            actor=cli_actor(),
            dry_run=dry_run,
            today=today.date() if today else None,
            batch_size=batch_size,
            progress=lambda _rule, rows: progress.advance(task, rows),
        )
    render_report(report)


def render_report(report: retention.RetentionReport) -> None:
    """One row per rule: what was (or would be) deleted or anonymised, per table too (a
    record's coded values and protected values go with it)."""
    if not report.outcomes:
        console.print(
            "No retention rules: nothing was deleted or anonymised (`concord retention add`)."
        )
        return
    title = (
        f"Retention dry run for {report.today.isoformat()}: nothing was changed"
        if report.dry_run
        else f"Retention run for {report.today.isoformat()}"
    )
    table = Table(title=title)
    for column in ("rule", "dataset", "organisation", "purpose", "action", "keep days"):
        table.add_column(column, justify="right" if column in ("rule", "keep days") else "left")
    table.add_column("dated before")
    table.add_column("rows", justify="right")
    table.add_column("per table")
    for outcome in report.outcomes:
        table.add_row(
            str(outcome.rule_id),
            outcome.dataset,
            escape(outcome.organisation or "(all)"),
            escape(outcome.purpose or "(any)"),
            outcome.action,
            f"{outcome.keep_days:,}",
            outcome.cutoff.isoformat(),
            f"{outcome.rows:,}",
            ", ".join(f"{n:,} {name}" for name, n in outcome.counts.items()),
        )
    console.print(table)
    deleted, anonymised = report.total(retention.DELETE), report.total(retention.ANONYMISE)
    rows = f"row{'' if deleted == 1 else 's'}"
    if report.dry_run:
        console.print(f"Would delete {deleted:,} {rows} and anonymise {anonymised:,}.")
    else:
        console.print(f"Deleted {deleted:,} {rows}, anonymised {anonymised:,}.")
