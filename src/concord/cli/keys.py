"""``concord keys``: Manage field-encryption keys (rotation re-encrypts without downtime)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine
from concord.config import get_settings
from concord.db import session_scope
from concord.protect.keyring import Keyring
from concord.protect.rotation import (
    RETIRE_GRACE,
    RotationProgress,
    RotationReport,
    key_usage,
    rotate_keys,
)

app = typer.Typer(
    help="Manage field-encryption keys (rotation re-encrypts without downtime).",
    no_args_is_help=True,
)


@app.command("rotate")
def rotate(
    org: Annotated[str, typer.Option("--org", help="Organisation whose data key to rotate.")],
    retire_old: Annotated[
        bool,
        typer.Option(
            "--retire-old/--keep-old",
            help="Destroy old key versions once no value uses them. Database backups taken "
            "before the rotation then cannot be read for those values.",
        ),
    ] = False,
    grace_seconds: Annotated[
        int,
        typer.Option(
            help="Before retiring, wait until the new key has been current this long, so "
            "writers that chose the old key just before the rotation have committed.",
            min=0,
        ),
    ] = int(RETIRE_GRACE.total_seconds()),
    batch_size: Annotated[
        int, typer.Option(help="Values re-encrypted per committed transaction.", min=1)
    ] = 1000,
) -> None:
    """Add a new key version and re-encrypt every value; readers keep working throughout.

    Run it again after an interruption: it finishes the rotation it started.
    """
    engine = migrated_engine()
    keyring = Keyring(get_settings().key_dir)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def show(step: RotationProgress) -> None:
            if step.phase == "waiting":
                label = f"waiting {step.wait_seconds:.0f}s for writers still using the old key"
            else:
                label = f"{step.phase} {org}"
            if step.phase not in tasks:
                tasks[step.phase] = bar.add_task(escape(label), total=step.total or None)
            bar.update(tasks[step.phase], completed=step.done, total=step.total or None)

        report = rotate_keys(
            engine,
            keyring,
            org,
            actor=cli_actor(),
            audit=audit_trail(),
            batch_size=batch_size,
            retire_old=retire_old,
            retire_grace=timedelta(seconds=grace_seconds),
            progress=show,
        )
    render_rotation(report)
    if not report.complete:
        raise typer.Exit(1)


def render_rotation(report: RotationReport) -> None:
    """The summary of one rotation, and what still needs a person."""
    verb = "resumed and finished" if report.resumed else "rotated"
    table = Table(title=escape(f"{report.organisation}: {verb} to key version {report.to_version}"))
    table.add_column("")
    table.add_column("count", justify="right")
    before = ", ".join(f"v{v}: {n:,}" for v, n in sorted(report.stale_at_start.items()))
    table.add_row("values under older keys at start", escape(before) or "0")
    table.add_row("re-encrypted", f"{report.reencrypted:,}")
    table.add_row("batches committed", f"{report.batches:,}")
    table.add_row("unreadable (kept as they are)", f"{report.unreadable:,}")
    table.add_row("versions retired", ", ".join(f"v{v}" for v in report.retired) or "none")
    kept = ", ".join(f"v{v} ({n:,} values)" for v, n in sorted(report.kept.items()))
    table.add_row("old versions kept", kept or "none")
    console.print(table)
    if report.unreadable:
        sample = ", ".join(f"record {r} {f}" for r, f in report.unreadable_sample)
        console.print(
            f"[bold red]{report.unreadable:,} values could not be decrypted[/] (altered, moved "
            "or under a retired key) and still use their old key; report them to your data "
            f"protection lead. First ones: {escape(sample)}"
        )


@app.command("list")
def list_keys(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organisation (default: all).")
    ] = None,
) -> None:
    """Key versions per organisation: created, current or retired, and how many values use each."""
    engine = migrated_engine()
    keyring = Keyring(get_settings().key_dir)
    with session_scope(engine) as session:
        usage = key_usage(session, keyring, org)
    if not usage:
        console.print("No field-encryption keys yet" + (f" for {escape(org)}." if org else "."))
        return
    table = Table(title="Field-encryption keys")
    for column in ("organisation", "version", "created", "status", "values"):
        table.add_column(column, justify="right" if column in ("version", "values") else "left")
    for key in usage:
        if not key.in_keyring:
            status = "[bold red]missing from the key directory[/]"
        elif key.retired_at is not None:
            status = f"retired {key.retired_at:%Y-%m-%d}"
        elif key.current:
            status = "[green]current[/]" + (
                " (rotation in progress)" if key.rotation_in_progress else ""
            )
        else:
            status = "old, readable"
        created = f"{key.created_at:%Y-%m-%d %H:%M} UTC" if key.created_at else "?"
        table.add_row(
            escape(key.organisation), str(key.version), created, status, f"{key.values:,}"
        )
    console.print(table)
