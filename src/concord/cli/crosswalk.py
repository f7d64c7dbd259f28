"""``concord crosswalk``: check an organisation's crosswalk, and propose targets for it.

Exit status follows the checker convention of :mod:`concord.errors`: 0 when the crosswalk can be
used (warnings allowed), 1 when ``check`` found an error, 2 when the file cannot be read or is
not a crosswalk at all (raised as a ConcordError and turned into a message by ``main``).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from concord.cli.common import VocabularyOption, console, vocabulary_from
from concord.errors import InputError
from concord.vocab.crosswalk import Crosswalk, read_crosswalk, reader_for
from concord.vocab.crosswalk_check import CheckReport, Severity, check_crosswalk
from concord.vocab.crosswalk_suggest import DEFAULT_MIN_CONFIDENCE, Suggestion, suggest
from concord.vocab.crosswalk_writer import choose_targets, render_suggested_yaml

app = typer.Typer(
    help="Crosswalks: an organisation's own codes and labels mapped to Concord concepts.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


FileArgument = Annotated[
    Path, typer.Argument(help="The crosswalk: .yaml/.yml, or .csv with scheme,code,label,target.")
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="text (a table) or json (for scripts).")
]


def _echo_json(document: dict[str, Any]) -> None:
    # Plain echo, not Rich: machine output must not be wrapped or highlighted.
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _cell(value: object) -> Text:
    """A table cell that shows user text literally (a label may contain '[bold]')."""
    return Text("" if value is None else str(value))


@app.command("check")
def check(
    file: FileArgument,
    output_format: FormatOption = OutputFormat.TEXT,
    vocabulary: VocabularyOption = None,
) -> None:
    """Check a crosswalk against the vocabulary; exit 1 if it has errors."""
    crosswalk = read_crosswalk(file)
    report = check_crosswalk(crosswalk, vocabulary_from(vocabulary))
    if output_format is OutputFormat.JSON:
        _echo_json(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: CheckReport) -> None:
    crosswalk = report.crosswalk
    summary = (
        f"{crosswalk.source}: {crosswalk.organisation}, {len(crosswalk.entries)} entries, "
        f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) "
        f"(vocabulary {report.vocabulary_version})"
    )
    if not report.issues:
        console.print(Text.assemble(("ok ", "green"), summary))
        return
    table = Table(title=Text(crosswalk.source))
    table.add_column("line", justify="right", no_wrap=True)
    # Ids fold instead of being cut with "…": a steward copies them into the file.
    for column in ("kind", "scheme", "label", "target"):
        table.add_column(column, overflow="fold")
    table.add_column("message", ratio=1)
    for issue in report.issues:
        style = "red" if issue.severity is Severity.ERROR else "yellow"
        message = Text(issue.message)
        if issue.suggestion:
            message.append(f"\n→ {issue.suggestion}", style="cyan")
        table.add_row(
            _cell(issue.line),
            Text(str(issue.kind), style=style),
            _cell(issue.scheme),
            _cell(issue.label or issue.code),
            _cell(issue.target),
            message,
        )
    console.print(table)
    console.print(
        Text.assemble(("ok " if report.ok else "failed ", "green" if report.ok else "red"), summary)
    )


def _check_output(output: Path, source: Path, *, force: bool) -> None:
    """Refuse to overwrite the input (ever) or another existing file (unless --force)."""
    if output.resolve() == source.resolve() or (
        output.exists() and source.exists() and output.samefile(source)
    ):
        raise InputError(
            f"{output}: --output must be a new file; suggest never edits the crosswalk it reads"
        )
    if output.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"{output}: --output writes a YAML crosswalk; give it a .yaml name")
    if output.exists() and not force:
        raise InputError(f"{output}: already exists; choose a new name or add --force")


@app.command("suggest")
def suggest_command(
    file: FileArgument,
    output_format: FormatOption = OutputFormat.TEXT,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write a NEW YAML crosswalk with the best proposals filled in, for review.",
        ),
    ] = None,
    min_confidence: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Leave out proposals below this confidence (0–1)."),
    ] = DEFAULT_MIN_CONFIDENCE,
    limit: Annotated[int, typer.Option(min=1, max=10, help="Proposals per entry.")] = 3,
    force: Annotated[
        bool, typer.Option("--force", help="Let --output replace an existing file.")
    ] = False,
    vocabulary: VocabularyOption = None,
) -> None:
    """Propose concepts for unmapped entries; never edits FILE."""
    reader_for(file)  # an unknown extension is reported before anything else
    if output is not None:
        _check_output(output, file, force=force)
    crosswalk = read_crosswalk(file)
    vocab = vocabulary_from(vocabulary)
    suggestions = suggest(crosswalk, vocab, limit, min_confidence=min_confidence)
    filled = 0
    if output is not None:
        choices = choose_targets(crosswalk, suggestions, min_confidence)
        filled = sum(1 for c in choices.values() if c.target is not None)
        text = render_suggested_yaml(
            crosswalk, suggestions, vocabulary_version=vocab.version, min_confidence=min_confidence
        )
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{output}: cannot be written ({exc.strerror})") from exc
    unmatched = _unmatched(crosswalk, suggestions, {s.id for s in vocab.schemes})
    if output_format is OutputFormat.JSON:
        _echo_json(
            {
                "source": crosswalk.source,
                "organisation": crosswalk.organisation,
                "vocabulary_version": vocab.version,
                "min_confidence": min_confidence,
                "unmapped": sum(1 for e in crosswalk.entries if e.target is None),
                "suggestions": [s.to_dict() for s in suggestions],
                "without_suggestion": unmatched,
                "output": str(output) if output else None,
                "filled": filled,
            }
        )
        return
    _print_suggestions(crosswalk, suggestions, unmatched)
    if output is not None:
        console.print(
            Text(
                f"wrote {output}: {filled} target(s) filled in, each marked "
                "'# suggested ... — review'"
            )
        )


def _unmatched(
    crosswalk: Crosswalk, suggestions: list[Suggestion], schemes: set[str]
) -> list[dict[str, Any]]:
    """Unmapped entries for which nothing was proposed, with why."""
    proposed = {(s.scheme, s.line) for s in suggestions}
    return [
        {
            "line": e.line,
            "scheme": e.scheme,
            "code": e.code,
            "label": e.label,
            "reason": "no candidate at or above the minimum confidence"
            if e.scheme in schemes
            else f"{e.scheme!r} is not a scheme of the vocabulary",
        }
        for e in crosswalk.entries
        if e.target is None and (e.scheme, e.line) not in proposed
    ]


def _print_suggestions(
    crosswalk: Crosswalk, suggestions: list[Suggestion], unmatched: list[dict[str, Any]]
) -> None:
    unmapped = sum(1 for e in crosswalk.entries if e.target is None)
    if not unmapped:
        console.print(Text(f"{crosswalk.source}: every entry has a target; nothing to suggest"))
        return
    table = Table(title=Text(f"{crosswalk.source}: proposals for {unmapped} unmapped entries"))
    table.add_column("line", justify="right", no_wrap=True)
    for column in ("scheme", "label", "proposal"):
        table.add_column(column, overflow="fold")
    table.add_column("confidence", justify="right", no_wrap=True)
    table.add_column("why", ratio=1, overflow="fold")
    rows: list[tuple[int, Text, Text, Text, Text, Text]] = []
    for s in suggestions:
        proposal = Text(s.concept_id)
        proposal.append(f"\n{s.concept_label}", style="dim")
        rows.append(
            (s.line or 0, _cell(s.scheme), _cell(s.label or s.code), proposal,
             _cell(f"{s.confidence:.2f}"), _cell(f"{s.method}: {s.why}"))
        )  # fmt: skip
    for u in unmatched:
        rows.append(
            (u["line"], _cell(u["scheme"]), _cell(u["label"] or u["code"]), _cell("—"),
             _cell(""), _cell(u["reason"]))
        )  # fmt: skip
    for line, *cells in sorted(rows, key=lambda r: r[0]):
        table.add_row(_cell(line), *cells)
    console.print(table)
