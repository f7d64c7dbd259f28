"""``concord lint``: flag stigmatising or discouraged terms in documents, as ruff does for code.

Exit status, so CI jobs and pre-commit hooks can gate on it: 0 nothing found, 1 discouraged
terms found (after ``--fix``: only if some remain), 2 a file could not be read or bad usage.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from concord.cli.common import VocabularyOption, console, err_console, vocabulary_from
from concord.errors import InputError
from concord.vocab.linter import Linter
from concord.vocab.lintfiles import FileFinding, LintResult, lint_paths
from concord.vocab.model import Vocabulary

#: Bumped when the JSON document changes incompatibly (scripts parse it).
JSON_FORMAT_VERSION = 1


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def exit_status(result: LintResult) -> int:
    """2 when a file could not be read, else 1 when discouraged terms remain, else 0."""
    if result.problems:
        return 2
    return 1 if result.findings else 0


def parse_languages(value: str | None) -> list[str] | None:
    """``"en, FR"`` -> ``["en", "fr"]``; ``None`` means every language of the vocabulary."""
    if value is None:
        return None
    languages = [code.strip().lower() for code in value.split(",") if code.strip()]
    if not languages:
        raise InputError("--lang needs at least one language code, e.g. --lang en,fr")
    return languages


def lint(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files or directories (searched recursively for .txt, .md, .csv, .json, "
            ".yaml, .html, .rst, ...) to check.",
            metavar="PATH",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="text for people, json for scripts (one document)."),
    ] = OutputFormat.text,
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Rewrite files with the preferred terms where the replacement is unambiguous "
            "(encoding, byte-order mark and line endings are kept).",
        ),
    ] = False,
    vocabulary: VocabularyOption = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Only terms of these languages, comma-separated: en,fr."),
    ] = None,
) -> None:
    """Flag discouraged terms (e.g. "child pornography") and suggest the preferred ones.

    Exit status: 0 nothing found, 1 terms found (after --fix: terms remain), 2 a path could not
    be linted or the command was misused.
    """
    vocab = vocabulary_from(vocabulary)
    linter = Linter(vocab, parse_languages(lang))
    if err_console.is_terminal:
        with err_console.status("Linting…") as status:
            result = lint_paths(
                paths, linter, fix=fix, on_file=lambda p: status.update(f"Linting {p}")
            )
    else:
        result = lint_paths(paths, linter, fix=fix)
    if output_format is OutputFormat.json:
        document = json_document(result, vocab, linter)
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        _print_text(result, fix=fix)
    raise typer.Exit(exit_status(result))


def json_document(result: LintResult, vocab: Vocabulary, linter: Linter) -> dict[str, Any]:
    """The ``--format json`` document: findings, what was fixed, problems, per-file, summary."""
    return {
        "format_version": JSON_FORMAT_VERSION,
        "vocabulary": {"version": vocab.version, "languages": list(linter.languages)},
        "findings": [f.to_dict() for f in result.findings],
        "fixed": [f.to_dict() for f in result.fixed],
        "problems": [p.to_dict() for p in result.problems],
        "files": [
            {
                "path": str(report.path),
                "encoding": report.encoding,
                "encoding_detected": report.encoding_detected,
                "bom": report.bom,
                "findings": len(report.findings),
                "fixed": len(report.fixed),
            }
            for report in result.files
        ],
        "summary": {**result.summary(), "exit_status": exit_status(result)},
    }


def _finding_line(item: FileFinding) -> Text:
    """``path:line:col: term → replacement (concept, lang) — reason``, built as Rich Text so
    brackets in paths or documents are never read as markup."""
    f = item.finding
    line = Text()
    line.append(f"{item.path}:{f.line}:{f.column}:", style="bold")
    line.append(" ")
    line.append(re.sub(r"\s+", " ", f.text), style="bold red")
    line.append(" → ")
    line.append(f.replacement or "(no replacement)", style="green")
    line.append(f" ({f.concept_id}, {f.lang}) — {f.reason}")
    if item.cell is not None:
        line.append(f" [{item.cell.describe()}]", style="dim")
    if f.fixable:
        line.append(" [fixable]", style="cyan")
    elif f.note:
        line.append(f" [{f.note}]", style="yellow")
    return line


def _print_text(result: LintResult, *, fix: bool) -> None:
    for report in result.files:
        if report.encoding_detected:
            err_console.print(
                Text(
                    f"note: {report.path}: not UTF-8; read as {report.encoding} (detected)"
                    + ("; --fix kept that encoding" if report.fixed else ""),
                    style="yellow",
                ),
                soft_wrap=True,
            )
    for problem in result.problems:
        err_console.print(Text(f"error: {problem.message}", style="red"), soft_wrap=True)
    for item in result.findings:
        console.print(_finding_line(item), soft_wrap=True)
    summary = result.summary()
    checked = f"{summary['files_checked']} file(s) checked"
    parts = []
    if fix:
        parts.append(f"fixed {summary['fixed']} term(s)")
    if summary["findings"] and fix:
        parts.append(
            f"{summary['findings']} term(s) need a human edit in "
            f"{summary['files_with_findings']} of {checked}"
        )
    elif summary["findings"]:
        parts.append(
            f"found {summary['findings']} discouraged term(s) in "
            f"{summary['files_with_findings']} of {checked}"
            + (f", {summary['fixable']} fixable with --fix" if summary["fixable"] else "")
        )
    else:
        parts.append(
            f"no discouraged terms remain in {checked}"
            if fix
            else f"no discouraged terms in {checked}"
        )
    if summary["problems"]:
        parts.append(f"{summary['problems']} path(s) could not be linted")
    text = "; ".join(parts)
    style = "red" if summary["problems"] else "yellow" if summary["findings"] else "green"
    console.print(Text(text[0].upper() + text[1:] + ".", style=style), soft_wrap=True)
