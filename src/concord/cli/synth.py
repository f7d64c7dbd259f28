"""``concord synth``: write fictional partner organisations' exports for demos, tests, benchmarks.

Thin by design: it parses options, calls :func:`concord.synth.generate_partners` with a Rich
progress callback, and renders the manifest as a table.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from concord.cli.common import console
from concord.synth import (
    DEFECTS,
    Messiness,
    SynthManifest,
    generate_partners,
    get_profile,
    organisations,
)


def _format_of(slug: str) -> str:
    reader = get_profile(slug).reader
    details = [reader.encoding] if str(reader.format) != "xlsx" else []
    if reader.delimiter is not None:
        details.append(f"sep {reader.delimiter!r}")
    if reader.sheet is not None:
        details.append(f"sheet {reader.sheet!r}")
    return f"{reader.format} ({', '.join(details)})" if details else str(reader.format)


def _list() -> None:
    table = Table(title="Synthetic organisations (fictional)")
    for column in ("organisation", "name", "kind", "country", "language", "format"):
        table.add_column(column)
    for profile in organisations():
        table.add_row(
            profile.slug,
            Text(profile.name),
            profile.kind,
            profile.country,
            profile.language,
            Text(_format_of(profile.slug)),
        )
    console.print(table)


def _summary(manifest: SynthManifest, out_dir: Path, seconds: float) -> None:
    table = Table(title=f"Synthetic partner data (seed {manifest.seed})")
    table.add_column("organisation", no_wrap=True)
    table.add_column("country")
    table.add_column("language")
    table.add_column("format")
    table.add_column("rows", justify="right")
    table.add_column("file", overflow="fold")
    table.add_column("planted\nproblems", justify="right")
    for org in manifest.organisations:
        defects = sum(n for kind, n in org.planted.items() if kind in DEFECTS)
        table.add_row(
            org.slug,
            org.country,
            org.language,
            org.format,
            f"{org.rows:,}",
            Text(org.file),
            f"{defects:,}",
        )
    console.print(table)
    rows = sum(o.rows for o in manifest.organisations)
    variants = sum(o.planted.get("label_variant", 0) for o in manifest.organisations)
    console.print(
        Text(
            f"{rows:,} rows in {seconds:.1f} s, written to {out_dir}. Planted problems are "
            f"defects ingestion must catch; {variants:,} harmless spelling variants were planted "
            "too. Ground truth: manifest.json (counts and keys per problem) and "
            "<org>.planted.csv (every planted problem by row)."
        )
    )
    for org in manifest.organisations:
        for note in org.notes:
            console.print(Text(f"note: {org.slug}: {note}"), style="yellow")


def synth(
    out_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Folder to write the files to (created if missing).",
            file_okay=False,
            metavar="OUT_DIR",
        ),
    ] = None,
    rows: Annotated[int, typer.Option("--rows", "-n", min=0, help="Rows per organisation.")] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed and rows: byte-identical files.")] = 7,
    org: Annotated[
        list[str] | None,
        typer.Option("--org", help="Only this organisation (repeat for several); see --list."),
    ] = None,
    messiness: Annotated[
        float,
        typer.Option(
            "--messiness",
            min=0.0,
            help="Multiply every planted-problem rate (0: clean files, 2: twice as messy).",
        ),
    ] = 1.0,
    list_only: Annotated[
        bool, typer.Option("--list", help="List the organisations and exit.")
    ] = False,
) -> None:
    """Write synthetic partner exports (never real data) with their mapping specs, crosswalks and
    a ground-truth manifest of every planted problem."""
    if list_only:
        _list()
        return
    if out_dir is None:
        raise typer.BadParameter("give the folder to write to", param_hint="OUT_DIR")
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(slug: str, done: int, total: int) -> None:
            if slug not in tasks:
                tasks[slug] = progress.add_task(slug, total=total)
            progress.update(tasks[slug], completed=done, total=total)

        manifest = generate_partners(
            out_dir,
            rows_per_org=rows,
            seed=seed,
            organisations=org or None,
            messiness=Messiness.scaled(messiness),
            progress=report,
        )
    _summary(manifest, out_dir, time.perf_counter() - started)
