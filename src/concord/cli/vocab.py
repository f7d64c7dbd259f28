"""``concord vocab``: check, load and browse the shared vocabulary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from concord.cli.common import VocabularyOption, console, migrated_engine, vocabulary_from
from concord.db import session_scope
from concord.vocab.export import default_registry, export_vocabulary, write_export
from concord.vocab.store import load_into_database

app = typer.Typer(help="The shared vocabulary: check, load, show, export.", no_args_is_help=True)


@app.command("check")
def check(vocabulary: VocabularyOption = None) -> None:
    """Check a vocabulary's integrity (the shipped one by default)."""
    vocab = vocabulary_from(vocabulary)
    count = sum(len(s.concepts) for s in vocab.schemes)
    console.print(
        f"[green]ok[/] vocabulary {vocab.version}: {len(vocab.schemes)} schemes, "
        f"{count} concepts, no integrity problems"
    )


@app.command("load")
def load(vocabulary: VocabularyOption = None) -> None:
    """Load the vocabulary into the database (idempotent; refuses to delete concept ids)."""
    vocab = vocabulary_from(vocabulary)
    with session_scope(migrated_engine()) as session:
        result = load_into_database(session, vocab)
    console.print(f"vocabulary {result.version}: {result.message} ({result.concepts} concepts)")


@app.command("schemes")
def schemes(vocabulary: VocabularyOption = None) -> None:
    """List the concept schemes."""
    vocab = vocabulary_from(vocabulary)
    table = Table(title=f"Concord vocabulary {vocab.version}")
    table.add_column("scheme")
    table.add_column("title")
    table.add_column("concepts", justify="right")
    for scheme in vocab.schemes:
        table.add_row(scheme.id, scheme.title.get("en", ""), str(len(scheme.concepts)))
    console.print(table)


@app.command("export")
def export(
    format_name: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help=f"One of: {', '.join(default_registry().names())}.",
            autocompletion=lambda: default_registry().names(),
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", dir_okay=False, help="File to write; default: stdout."),
    ] = None,
    vocabulary: VocabularyOption = None,
) -> None:
    """Export the vocabulary as SKOS (Turtle), JSON, CSV or a MISP taxonomy."""
    vocab = vocabulary_from(vocabulary)
    text = export_vocabulary(vocab, format_name)
    if output is None:
        typer.echo(text, nl=False)
        return
    write_export(text, output)
    console.print(f"wrote vocabulary {vocab.version} as {format_name} to {output}", highlight=False)
