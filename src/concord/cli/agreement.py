"""``concord agreement``: import, list, show and approve sharing agreements.

Thin on purpose: each command reads its input, calls :mod:`concord.share` and renders the
result. Imports are audited under the operating-system user; approvals under the Concord user
who approves (``--by``), since it is that person's authority that binds their organisation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine
from concord.db import session_scope
from concord.errors import InputError
from concord.share import approve as approve_agreement
from concord.share import get_agreement, import_agreement, list_agreements
from concord.share.agreement import agreement_from_document, dump_agreement
from concord.share.registry import effective_status
from concord.yamlio import read_yaml

app = typer.Typer(help="Sharing agreements: import, list, show, approve.", no_args_is_help=True)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="The agreement, in YAML.", dir_okay=False)],
) -> None:
    """Import an agreement as a draft; an edit needs a higher version."""
    agreement = agreement_from_document(read_yaml(file), source=str(file))
    with session_scope(migrated_engine()) as session:
        stored = import_agreement(session, audit_trail(), agreement, actor=cli_actor())
        console.print(
            f"{escape(agreement.id)} v{agreement.version}: {stored.status}; "
            f"waiting for approval by {escape(', '.join(stored.waiting_for) or 'nobody')}"
        )


@app.command("list")
def list_() -> None:
    """List every stored version with its status and approvals."""
    with session_scope(migrated_engine()) as session:
        found = list_agreements(session)
        if not found:
            console.print("No agreements yet (`concord agreement import FILE`).")
            return
        table = Table(title="Sharing agreements")
        for column in ("id", "version", "title", "provider", "recipients", "status", "waiting"):
            table.add_column(column, justify="right" if column == "version" else "left")
        for stored in found:
            a = stored.agreement
            table.add_row(
                escape(a.id),
                str(a.version),
                escape(a.title),
                escape(a.provider),
                escape(", ".join(a.recipients)),
                effective_status(stored),
                escape(", ".join(stored.waiting_for) or "-"),
            )
        console.print(table)


@app.command("show")
def show(
    agreement_id: Annotated[str, typer.Argument(metavar="ID", help="The agreement id.")],
    version: Annotated[
        int | None, typer.Option("--version", help="Which version (default: the latest).")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="yaml (the importable text) or json.")
    ] = "yaml",
) -> None:
    """Print one version of an agreement."""
    if output_format not in ("yaml", "json"):
        raise InputError(f"--format must be yaml or json, not {output_format!r}")
    with session_scope(migrated_engine()) as session:
        stored = get_agreement(session, agreement_id, version)
    if output_format == "json":
        body = {
            "agreement": stored.agreement.body(),
            "status": effective_status(stored),
            "approved_by": stored.approved_by,
            "waiting_for": stored.waiting_for,
        }
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        typer.echo(dump_agreement(stored.agreement), nl=False)


@app.command("approve")
def approve(
    agreement_id: Annotated[str, typer.Argument(metavar="ID", help="The agreement id.")],
    version: Annotated[int, typer.Option("--version", help="The version being approved.")],
    org: Annotated[str, typer.Option("--org", help="The party approving.")],
    by: Annotated[str, typer.Option("--by", help="Username of an administrator of --org.")],
) -> None:
    """Approve one version for one party; it takes effect once every party has approved."""
    with session_scope(migrated_engine()) as session:
        result = approve_agreement(
            session,
            audit_trail(),
            agreement_id=agreement_id,
            version=version,
            organisation=org,
            approver_username=by,
        )
    if result.in_force:
        replaced = (
            f"; supersedes v{', v'.join(map(str, result.superseded))}" if result.superseded else ""
        )
        console.print(f"{escape(agreement_id)} v{version} is in force{replaced}")
    else:
        console.print(
            f"{escape(agreement_id)} v{version}: approved by {escape(org)}; "
            f"waiting for {escape(', '.join(result.waiting_for))}"
        )
