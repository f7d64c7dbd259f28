"""``concord alerts``: run the early-warning analysis, list, acknowledge and export alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine
from concord.db import session_scope
from concord.indicators.service import IndicatorService, warnings_for
from concord.indicators.warning import acknowledge, alert_dict, list_alerts, store_alerts
from concord.vocab.loader import shipped_vocabulary

app = typer.Typer(
    help="Early warning: an indicator rising above its baseline in several countries at once.",
    no_args_is_help=True,
)


@app.command("run")
def run(
    dimension: Annotated[str, typer.Option(help="country or source_org")] = "country",
) -> None:
    """Assess every record-based indicator per country (or organisation) and store alerts."""
    engine = migrated_engine()
    service = IndicatorService(engine, shipped_vocabulary())
    with console.status("assessing every indicator per " + dimension):
        candidates = warnings_for(
            service, list(service.registry()), organisations=None, dimension=dimension
        )
    with session_scope(engine) as session:
        store_alerts(session, candidates)
        audit_trail().record(
            session, actor=cli_actor(), action="alerts.run", details={"alerts": len(candidates)}
        )
    if not candidates:
        console.print("No indicator rose significantly in several places at once.")
    for candidate in candidates:
        console.print(f"[bold red]alert[/] {candidate.summary}")


@app.command("list")
def list_(
    status: Annotated[str, typer.Option(help="open, acknowledged or all")] = "open",
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Alerts with their evidence."""
    with session_scope(migrated_engine()) as session:
        alerts = [
            alert_dict(a) for a in list_alerts(session, status=None if status == "all" else status)
        ]
    if output == "json":
        console.print_json(data=alerts)
        return
    table = Table("id", "period", "indicator", "where", "status")
    for alert in alerts:
        table.add_row(
            str(alert["id"]),
            alert["period"],
            alert["indicator"],
            ", ".join(alert["members"]),
            alert["status"],
        )
    console.print(table if alerts else f"No {status} alerts.")


@app.command("ack")
def ack(
    alert_id: int,
    note: Annotated[str, typer.Option(help="What was done about it.")] = "",
) -> None:
    """Acknowledge an alert (recorded in the audit trail)."""
    with session_scope(migrated_engine()) as session:
        acknowledge(session, audit_trail(), alert_id=alert_id, by=cli_actor(), note=note)
    console.print(f"Alert {alert_id} acknowledged.")


@app.command("export")
def export(output: Annotated[Path, typer.Option("--output", "-o")]) -> None:
    """Every alert with its evidence as JSON."""
    with session_scope(migrated_engine()) as session:
        alerts = [alert_dict(a) for a in list_alerts(session)]
    output.write_text(json.dumps(alerts, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(f"{len(alerts)} alert(s) written to {output}")
