"""``concord release``: plan, run, list, show and revoke releases under sharing agreements.

``plan`` prints the policy decision, the risk report and the protected tables without storing
anything; ``run`` stores the release (or the refusal and its reasons), spends privacy budget and
writes the signed bundle when this node has a signing key. Both act for a Concord user
(``--by``): releasing is that person's responsibility, checked against their role and training.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import polars as pl
import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from concord.cli.common import (
    VocabularyOption,
    audit_trail,
    console,
    migrated_engine,
    vocabulary_from,
)
from concord.config import get_settings
from concord.db import session_scope
from concord.indicators.definitions import default_registry
from concord.protect.identity import get_user, load_principal
from concord.protect.pseudonyms import PseudonymKeys
from concord.share.release import (
    ReleasePlan,
    ReleaseRequest,
    get_release,
    list_releases,
    plan_release,
    release_tables,
    revoke_release,
    run_release,
)
from concord.share.release_bundle import write_release_bundle

app = typer.Typer(
    help="Releases under sharing agreements: plan, run, list, show, revoke.", no_args_is_help=True
)

AgreementOption = Annotated[str, typer.Option("--agreement", help="The agreement id.")]
PeriodOption = Annotated[
    str, typer.Option("--period", help="2026-Q3, 2026-07, 2026 or 2026-07..2026-09.")
]
ByOption = Annotated[str, typer.Option("--by", help="Username of the person releasing.")]
TablesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--table",
        help="INDICATOR:DIM,DIM (repeat); default: each shared indicator by the shared dimensions.",
    ),
]
EpsilonOption = Annotated[
    float | None,
    typer.Option("--epsilon", help="Privacy budget to spend (default: what is left this period)."),
]
VersionOption = Annotated[
    int | None, typer.Option("--version", help="Agreement version (default: the one in force).")
]


def _plan(
    agreement: str,
    period: str,
    by: str,
    tables: list[str] | None,
    epsilon: float | None,
    version: int | None,
    vocabulary: VocabularyOption,
) -> tuple[ReleasePlan, Engine]:
    engine = migrated_engine()
    vocab = vocabulary_from(vocabulary)
    request = ReleaseRequest(agreement, period, tuple(tables or ()), epsilon, version)
    with session_scope(engine) as session:
        registry = default_registry(None, vocab, session)
        principal = load_principal(session, get_user(session, by))
        plan = plan_release(
            session,
            request,
            principal=principal,
            vocabulary=vocab,
            registry=registry,
            engine=engine,
            keys=PseudonymKeys(get_settings().key_dir),
        )
    return plan, engine


@app.command("plan")
def plan(
    agreement: AgreementOption,
    period: PeriodOption,
    by: ByOption,
    table: TablesOption = None,
    epsilon: EpsilonOption = None,
    version: VersionOption = None,
    show_cells: Annotated[
        int, typer.Option("--cells", help="Print up to this many cells of each table.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    vocabulary: VocabularyOption = None,
) -> None:
    """Show what a release would publish, and why, without storing anything."""
    result, _ = _plan(agreement, period, by, table, epsilon, version, vocabulary)
    if as_json:
        typer.echo(json.dumps(plan_document(result), indent=2, ensure_ascii=False, default=str))
        return
    render_plan(result, show_cells=show_cells)


@app.command("run")
def run(
    agreement: AgreementOption,
    period: PeriodOption,
    by: ByOption,
    table: TablesOption = None,
    epsilon: EpsilonOption = None,
    version: VersionOption = None,
    vocabulary: VocabularyOption = None,
) -> None:
    """Make the release: store it, spend the budget, write the signed bundle."""
    result, engine = _plan(agreement, period, by, table, epsilon, version, vocabulary)
    render_plan(result, show_cells=0)
    with session_scope(engine) as session:
        row = run_release(session, result, actor=by, audit=audit_trail())
        status, release_id = row.status, row.id
    if status != "released":
        console.print(f"[red]Refused[/red]: release {release_id} stored with its reasons.")
        raise typer.Exit(1)
    console.print(f"[green]Released[/green] {release_id}")
    _write_bundle(engine, release_id)


def _write_bundle(engine: Engine, release_id: str) -> None:
    settings = get_settings()
    with session_scope(engine) as session:
        path = write_release_bundle(session, release_id, settings.key_dir, settings.bundle_dir)
    if path is None:
        console.print(
            "No signing key on this node, so no bundle was written: "
            "`concord federation key create --node ID`, then `concord release bundle "
            f"{release_id}`."
        )
    else:
        console.print(f"Signed bundle: {escape(str(path))}")


@app.command("bundle")
def bundle(
    release_id: Annotated[str, typer.Argument(metavar="RELEASE", help="The release id.")],
) -> None:
    """Write (again) the signed bundle of a release."""
    _write_bundle(migrated_engine(), release_id)


@app.command("list")
def list_(
    agreement: Annotated[str | None, typer.Option("--agreement", help="Only this one.")] = None,
) -> None:
    """Every release, newest first."""
    with session_scope(migrated_engine()) as session:
        rows = list_releases(session, agreement)
        if not rows:
            console.print("No releases yet (`concord release plan --agreement A --period P`).")
            return
        out = Table(title="Releases")
        for column in ("release", "agreement", "period", "status", "ε", "by", "when"):
            out.add_column(column, overflow="fold")
        for r in rows:
            out.add_row(
                r.id,
                f"{escape(r.agreement_id)} v{r.agreement_version}",
                r.period,
                r.status,
                f"{r.epsilon:g}" if r.epsilon is not None else "-",
                escape(r.created_by),
                r.created_at.strftime("%Y-%m-%d %H:%M"),
            )
        console.print(out)


@app.command("show")
def show(
    release_id: Annotated[str, typer.Argument(metavar="RELEASE", help="The release id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """One release: decision, risk report, method and its tables."""
    with session_scope(migrated_engine()) as session:
        row = get_release(session, release_id)
        tables = release_tables(session, release_id)
        document: dict[str, Any] = {
            "release": row.id,
            "agreement": row.agreement_id,
            "version": row.agreement_version,
            "period": row.period,
            "status": row.status,
            "revoked_reason": row.revoked_reason,
            "decision": row.decision,
            "risk_report": row.risk_report,
            "method": row.method,
            "epsilon": row.epsilon,
            "tables": [
                {"name": t.name, "dimensions": t.dimensions, "cells": len(t.cells)} for t in tables
            ],
        }
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
        return
    console.print(
        f"Release {row.id}: {escape(row.agreement_id)} v{row.agreement_version}, "
        f"{row.period}, {row.status}"
    )
    _decision_table(document["decision"])
    for t in document["tables"]:
        console.print(f"  {escape(t['name'])}: {t['cells']} cells")


@app.command("revoke")
def revoke(
    release_id: Annotated[str, typer.Argument(metavar="RELEASE", help="The release id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the recipients.")],
    by: ByOption,
) -> None:
    """Revoke a release; `concord federation push` tells the hub, which deletes it."""
    with session_scope(migrated_engine()) as session:
        get_user(session, by)
        row = revoke_release(session, release_id, reason=reason, actor=by, audit=audit_trail())
        console.print(f"Revoked {row.id}: {escape(row.revoked_reason or '')}")


def plan_document(plan: ReleasePlan) -> dict[str, Any]:
    """The plan as plain JSON: what a UI or a script reads."""
    return {
        "release": plan.release_id,
        "agreement": plan.stored.agreement.id,
        "version": plan.stored.agreement.version,
        "period": plan.period.label,
        "allowed": plan.allowed,
        "decision": plan.decision.to_list(),
        "risk_report": plan.risk_report,
        "method": plan.method,
        "epsilon": plan.epsilon,
        "budget_period": plan.budget_period,
        "tables": [
            {"name": t.spec.name, "dimensions": list(t.spec.dimensions), "cells": t.cells}
            for t in plan.tables
        ],
    }


def _decision_table(decision: list[dict[str, Any]]) -> None:
    out = Table(title="Policy decision")
    out.add_column("rule")
    out.add_column("outcome")
    out.add_column("reason")
    for o in decision:
        mark = "[green]allow[/green]" if o["allowed"] else "[red]deny[/red]"
        out.add_row(o["rule"], mark, escape(o["reason"]))
    console.print(out)


def render_plan(plan: ReleasePlan, *, show_cells: int) -> None:
    """The decision, the risk report and a summary of each protected table."""
    a = plan.stored.agreement
    console.print(
        f"Release of {escape(a.id)} v{a.version} for {plan.period.label} "
        f"({escape(a.provider)} → {escape(', '.join(a.recipients))}, marking {a.marking.value})"
    )
    _decision_table(plan.decision.to_list())
    if not plan.allowed:
        console.print("[red]Denied[/red]: nothing would be released.")
        return
    out = Table(title="Risk report: protected tables")
    for column in ("table", "cells", "published", "primary", "secondary", "differencing"):
        out.add_column(column, justify="left" if column == "table" else "right", overflow="fold")
    for t in plan.risk_report["tables"]:
        by = t["by_status"]
        out.add_row(
            escape(t["table"]),
            str(t["cells"]),
            str(t["published"]),
            str(by.get("primary", 0)),
            str(by.get("secondary", 0)),
            str(by.get("differencing", 0)),
        )
    console.print(out)
    for flag in plan.risk_report["reliability"]:
        console.print(f"[yellow]⚠ {escape(flag['flag'])}[/yellow]: {escape(flag['detail'])}")
    gaps = plan.risk_report["context"]["known_gaps"]
    if gaps:
        console.print(f"Months without records: {', '.join(gaps)}")
    if plan.epsilon is not None:
        console.print(f"Differential privacy: spends ε = {plan.epsilon:g} ({plan.budget_period})")
    for t in plan.tables[: 99 if show_cells else 0]:
        console.print(f"[bold]{escape(t.spec.name)}[/bold]")
        with pl.Config(tbl_rows=show_cells, tbl_cols=-1):
            console.print(t.published.head(show_cells))
