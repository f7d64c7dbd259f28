"""``concord ingest``, ``concord batches``, ``concord quality`` and ``concord quarantine``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from concord.cli.common import VocabularyOption, console, migrated_engine, vocabulary_from
from concord.config import get_settings
from concord.db import session_scope
from concord.ingest.batches import batch_summary, get_batch, list_batches
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import IngestReport, ingest_file
from concord.ingest.quarantine import (
    STATUSES,
    export_quarantine,
    list_quarantine,
    quarantine_row_dict,
    resubmit,
)
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys

MappingOption = Annotated[
    Path, typer.Option("--mapping", "-m", help="The source's mapping spec (YAML).", exists=True)
]
FormatOption = Annotated[str, typer.Option("--format", help="text (tables) or json.")]


def ingest(
    files: Annotated[list[Path], typer.Argument(help="Partner files to import.")],
    mapping: MappingOption,
    batch_rows: Annotated[int, typer.Option(help="Rows per processing batch.", min=1)] = 100_000,
    user: Annotated[str, typer.Option(help="Who imports (recorded with the batch).")] = "cli",
    output: FormatOption = "text",
    vocabulary: VocabularyOption = None,
) -> None:
    """Import partner files into harmonised records; bad rows are quarantined with reasons."""
    loaded = load_mapping(mapping)
    vocab = vocabulary_from(vocabulary)
    engine = migrated_engine()
    keys = PseudonymKeys(get_settings().key_dir)
    cipher = FieldCipher(Keyring(get_settings().key_dir))
    reports = []
    for path in files:
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=output == "json",
        ) as progress:
            task = progress.add_task(f"importing {path.name}", total=None)
            report = ingest_file(
                engine,
                path,
                loaded,
                vocab,
                keys=keys,
                cipher=cipher,
                imported_by=user,
                batch_rows=batch_rows,
                progress=lambda rows, t=task: progress.update(t, completed=rows),  # type: ignore[misc]
            )
        reports.append(report)
        if output != "json":
            render_report(report)
    if output == "json":
        console.print_json(json.dumps([r.to_dict() for r in reports]))


def render_report(report: IngestReport) -> None:
    """The reconciliation table and the quality summary of one import."""
    title = f"{report.file_name} → batch {report.batch_id} ({report.source_org})"
    if report.already_imported:
        console.print(
            f"[yellow]{escape(report.file_name)} was already imported as batch "
            f"{report.batch_id} with this mapping; nothing changed.[/]"
        )
    table = Table(title=escape(title), show_header=True)
    table.add_column("rows")
    table.add_column("count", justify="right")
    table.add_row("read", f"{report.rows_read:,}")
    table.add_row(
        "stored",
        f"{report.rows_stored:,}"
        + (f" ({report.rows_updated:,} corrections)" if report.rows_updated else ""),
    )
    table.add_row("quarantined", f"{report.rows_quarantined:,}")
    table.add_row("skipped as duplicates", f"{report.rows_duplicate:,}")
    verdict = "[green]yes[/]" if report.reconciles else "[bold red]NO[/]"
    table.add_row("read = stored + quarantined + duplicates", verdict)
    console.print(table)
    identifying = report.quality.get("identifying", {})
    for column, why in identifying.get("dropped", {}).items():
        console.print(f"Identifying column [bold]{escape(column)}[/] dropped: {escape(why)}")
    if not identifying and report.dropped_columns:  # batches imported before purposes existed
        console.print(
            "Identifying columns dropped, never stored: "
            + escape(", ".join(report.dropped_columns))
        )
    for column, purpose in identifying.get("kept", {}).items():
        console.print(
            f"Identifying column [bold]{escape(column)}[/] kept encrypted for the purpose "
            f"{escape(purpose)}"
        )
    render_quality(report.quality, brief=True)


def render_quality(quality: dict[str, Any], *, brief: bool = False) -> None:
    reasons = quality.get("quarantine_reasons", {})
    if reasons:
        table = Table(title="Why rows were quarantined")
        table.add_column("reason")
        table.add_column("rows", justify="right")
        for reason, count in list(reasons.items())[: 10 if brief else None]:
            table.add_row(escape(reason), f"{count:,}")
        console.print(table)
    unknown = quality.get("unknown", [])
    if unknown:
        table = Table(title="Values not in the crosswalk (run `concord crosswalk suggest`)")
        for column in ("field", "value", "rows"):
            table.add_column(column)
        for item in unknown[: 10 if brief else None]:
            table.add_row(item["field"], escape(item["value"]), f"{item['rows']:,}")
        console.print(table)
    if brief:
        return
    fields = Table(title="Fields")
    for column in ("field", "completeness", "validity", "invalid rows"):
        fields.add_column(column, justify="left" if column == "field" else "right")
    for name, stats in quality.get("fields", {}).items():
        fields.add_row(
            name, _pct(stats["completeness"]), _pct(stats["validity"]), f"{stats['invalid_rows']:,}"
        )
    console.print(fields)
    timeliness = quality.get("timeliness", {})
    if timeliness.get("median_days") is not None:
        console.print(
            f"Timeliness: median {timeliness['median_days']} days between incident and report "
            f"(90% within {timeliness['p90_days']} days; "
            f"{timeliness['records_with_both_dates']:,} records with both dates)"
        )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def batches(
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    output: FormatOption = "text",
) -> None:
    """List import batches: who, when, which file and mapping, and how they reconciled."""
    with session_scope(migrated_engine()) as session:
        rows = list_batches(session, source_org=org)
        if output == "json":
            console.print_json(json.dumps([batch_summary(b) for b in rows]))
            return
        table = Table(title="Import batches")
        for column in (
            "id",
            "source",
            "file",
            "when",
            "status",
            "read",
            "stored",
            "quarantined",
            "duplicates",
        ):
            table.add_column(
                column,
                justify="right"
                if column in ("id", "read", "stored", "quarantined", "duplicates")
                else "left",
            )
        for b in rows:
            table.add_row(
                str(b.id),
                b.source_org,
                escape(b.file_name),
                b.started_at.strftime("%Y-%m-%d %H:%M"),
                b.status,
                f"{b.rows_read:,}",
                f"{b.rows_stored:,}",
                f"{b.rows_quarantined:,}",
                f"{b.rows_duplicate:,}",
            )
        console.print(table)


def quality(
    batch_id: Annotated[int, typer.Argument(help="Batch id (see `concord batches`).")],
    output: FormatOption = "text",
) -> None:
    """The quality report of one import batch."""
    with session_scope(migrated_engine()) as session:
        batch = get_batch(session, batch_id)
        if output == "json":
            console.print_json(json.dumps(batch_summary(batch) | {"quality": batch.quality}))
            return
        console.print(
            f"[bold]Batch {batch.id}[/] {escape(batch.file_name)} "
            f"({batch.source_org}, mapping v{batch.mapping_version}, "
            f"vocabulary {batch.vocabulary_version})"
        )
        render_quality(batch.quality)


quarantine_app = typer.Typer(
    help="Rows that failed validation: list, export, re-submit.", no_args_is_help=True
)


@quarantine_app.command("list")
def quarantine_list(
    batch: Annotated[int | None, typer.Option(help="Only this batch.")] = None,
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    status: Annotated[str, typer.Option(help=f"One of {', '.join(STATUSES)}, or all.")] = "open",
    limit: Annotated[int, typer.Option(min=1)] = 50,
    output: FormatOption = "text",
) -> None:
    """List quarantined rows with every reason."""
    with session_scope(migrated_engine()) as session:
        page = list_quarantine(
            session,
            batch_id=batch,
            source_org=org,
            status=None if status == "all" else status,
            limit=limit,
        )
        if output == "json":
            console.print_json(
                json.dumps(
                    {
                        "total": page.total,
                        "rows": [quarantine_row_dict(r) for r in page.rows],
                    }
                )
            )
            return
        table = Table(title=f"Quarantine ({page.total:,} rows, showing {len(page.rows)})")
        for column in ("id", "batch", "source", "row", "reasons"):
            table.add_column(column)
        for r in page.rows:
            table.add_row(
                str(r.id),
                str(r.batch_id),
                r.source_org,
                str(r.row_number),
                escape("\n".join(r.reasons)),
            )
        console.print(table)


@quarantine_app.command("export")
def quarantine_export(
    output_file: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write.")],
    batch: Annotated[int | None, typer.Option(help="Rows of this batch.")] = None,
    org: Annotated[str | None, typer.Option(help="Rows of this organisation.")] = None,
) -> None:
    """Write open quarantined rows to a CSV to correct and re-submit."""
    with session_scope(migrated_engine()) as session:
        count = export_quarantine(session, output_file, batch_id=batch, source_org=org)
    console.print(
        f"Wrote {count:,} rows to {escape(str(output_file))}. Correct the cells, keep "
        "the quarantine_* columns, then run `concord quarantine resubmit`."
    )


@quarantine_app.command("resubmit")
def quarantine_resubmit(
    corrected: Annotated[Path, typer.Argument(help="The corrected export.", exists=True)],
    mapping: MappingOption,
    user: Annotated[str, typer.Option(help="Who re-submits.")] = "cli",
    vocabulary: VocabularyOption = None,
) -> None:
    """Import corrected rows; entries that now pass are closed, failures stay quarantined."""
    report = resubmit(
        migrated_engine(),
        corrected,
        load_mapping(mapping),
        vocabulary_from(vocabulary),
        keys=PseudonymKeys(get_settings().key_dir),
        imported_by=user,
    )
    render_report(report)
