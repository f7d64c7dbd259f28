"""``concord alerts``: run the early-warning analysis, list, acknowledge and export alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine
from concord.db import session_scope
from concord.errors import InputError
from concord.indicators.service import IndicatorService, warnings_for
from concord.indicators.warning import (
    DIMENSIONS,
    acknowledge,
    alert_dict,
    list_alerts,
    store_alerts,
)
from concord.share.hub_warning import hub_warnings
from concord.vocab.loader import shipped_vocabulary

app = typer.Typer(
    help="Early warning: an indicator rising above its baseline in several countries at once.",
    no_args_is_help=True,
)


@app.command("run")
def run(
    dimension: Annotated[str, typer.Option(help="country or source_org")] = "country",
    hub: Annotated[
        bool,
        typer.Option(
            "--hub", help="At a hub: assess the tables nodes pushed, not this node's records."
        ),
    ] = False,
) -> None:
    """Assess every record-based indicator per country (or organisation) and store alerts."""
    if dimension not in DIMENSIONS:
        raise InputError(f"--dimension must be one of {', '.join(DIMENSIONS)}")
    engine = migrated_engine()
    vocabulary = shipped_vocabulary()
    service = IndicatorService(engine, vocabulary)
    where = "the federated tables" if hub else "this node's records"
    with console.status(f"assessing every indicator per {dimension} over {where}"):
        if hub:
            with session_scope(engine) as session:
                candidates = hub_warnings(session, list(service.registry()), dimension=dimension)
        else:
            candidates = warnings_for(
                service, list(service.registry()), organisations=None, dimension=dimension
            )
    with session_scope(engine) as session:
        stored = store_alerts(session, candidates, source="hub" if hub else "local")
        audit_trail().record(
            session,
            actor=cli_actor(),
            action="alerts.run",
            details={"alerts": len(candidates), "source": "hub" if hub else "local"},
        )
        open_now = [
            (a.id, a.indicator_id, a.period, list(a.members)) for a in stored if a.status == "open"
        ]
    if not open_now:
        console.print(
            "No open alert: no indicator rose significantly in several places at once "
            "(or every such alert was already acknowledged)."
        )
    for alert_id, indicator, period, members in open_now:
        where = ", ".join(vocabulary.label_of(m) for m in members)
        console.print(f"[bold red]alert {alert_id}[/] {indicator} in {period.isoformat()}: {where}")


@app.command("list")
def list_(
    status: Annotated[str, typer.Option(help="open, acknowledged or all")] = "open",
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Alerts with their evidence."""
    if status not in ("open", "acknowledged", "all"):
        raise InputError("--status must be open, acknowledged or all")
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
