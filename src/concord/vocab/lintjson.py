"""JSON and JSON Lines for the term linter: refuse what does not parse, and see through escapes.

Why escapes matter: many tools (Python's ``json.dumps`` by default) write "pédopornographie"
as ``"p\\u00e9dopornographie"`` and Chinese entirely as ``\\u`` escapes, so a plain text scan
would miss exactly the terms a multilingual export contains. String literals with escapes are
decoded, linted, and their findings mapped back to the raw characters of the file, so columns
stay exact and ``--fix`` writes the replacement escaped the same way.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import replace
from pathlib import Path

from concord.errors import MalformedFileError
from concord.vocab.linter import Finding, LineCounter, Linter

#: A JSON string literal (valid JSON has no raw line breaks inside one).
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
#: What decodes to one character: a surrogate pair, another escape, or a plain character.
_CHAR = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\.|[^\\]",
    re.DOTALL,
)


def check_json(path: Path, text: str, kind: str) -> None:
    """Refuse JSON (``.json``) and JSON Lines (``.jsonl``) that do not parse, with line/column."""
    if kind == ".json":
        _parse(path, text, line_offset=0)
    elif kind == ".jsonl":
        for number, line in enumerate(text.split("\n")):
            if line.strip():
                _parse(path, line, line_offset=number)


def _parse(path: Path, text: str, *, line_offset: int) -> None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFileError(
            f"{path}: not valid JSON at line {exc.lineno + line_offset}, column {exc.colno}: "
            f"{exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise MalformedFileError(f"{path}: JSON nested too deeply to read") from exc


def lint_json(text: str, linter: Linter) -> list[Finding]:
    """Findings in JSON text, including inside escaped strings; fixes are JSON-escaped."""
    plain = [_escaped_fix(f, ascii_only=False) for f in linter.lint_text(text)]
    literals = [m for m in _STRING.finditer(text) if "\\" in m.group()]
    if not literals:
        return plain
    # A hit never contains a quote, so each plain finding is wholly inside or outside a literal;
    # those inside an escaped literal are found again, properly, from its decoded value.
    starts = [m.start() for m in literals]
    kept = []
    for finding in plain:
        index = bisect_right(starts, finding.offset) - 1
        if index < 0 or finding.offset >= literals[index].end():
            kept.append(finding)
    decoded = [f for m in literals for f in _lint_literal(text, m.start(), m.group(), linter)]
    lines = LineCounter(text)
    for finding in decoded:  # literals are in order, so offsets only grow
        line, column = lines.position(finding.offset)
        end_line, end_column = lines.position(finding.end_offset)
        kept.append(
            replace(finding, line=line, column=column, end_line=end_line, end_column=end_column)
        )
    return sorted(kept, key=lambda f: f.offset)


def _lint_literal(text: str, start: int, literal: str, linter: Linter) -> list[Finding]:
    """Findings in one escaped string literal, at raw offsets of ``text`` (positions unset)."""
    try:
        value = json.loads(literal)
    except ValueError:  # the file was validated; a literal regex cannot see is not ours to judge
        return []
    raw = [start + m.start() for m in _CHAR.finditer(literal, 1, len(literal) - 1)]
    raw.append(start + len(literal) - 1)
    if not isinstance(value, str) or len(raw) != len(value) + 1:
        return []
    ascii_only = "\\u" in literal
    results = []
    for finding in linter.lint_text(value):
        begin, end = raw[finding.offset], raw[finding.end_offset]
        results.append(
            _escaped_fix(
                replace(finding, offset=begin, end_offset=end, text=text[begin:end]),
                ascii_only=ascii_only,
            )
        )
    return results


def _escaped_fix(finding: Finding, *, ascii_only: bool) -> Finding:
    """A fix lands inside a JSON string: escape what JSON needs (and \\u-escape if the string
    already does, so an ASCII-only file stays ASCII-only)."""
    if finding.fix is None:
        return finding
    return replace(finding, fix=json.dumps(finding.fix, ensure_ascii=ascii_only)[1:-1])
