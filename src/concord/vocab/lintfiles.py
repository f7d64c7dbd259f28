"""Lint files and directories for discouraged terms, and fix them in place.

The matcher (:mod:`concord.vocab.linter`) works on text; this module is everything between a
path and that text: which files to read, refusing what is not text (with a reason, never a
traceback), decoding, CSV/TSV cells (:mod:`~concord.vocab.lintcsv`), JSON
(:mod:`~concord.vocab.lintjson`), and writing fixes back without changing the file's encoding,
byte-order mark or line endings. One unreadable file never stops the others: it becomes a
:class:`FileProblem` and the run goes on.
"""

from __future__ import annotations

import codecs
import os
import tempfile
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import charset_normalizer

from concord.config import get_settings
from concord.errors import ConcordError, InputError, UnreadableFileError
from concord.vocab.lintcsv import TableCell, cells_of, delimiter_for
from concord.vocab.linter import Finding, Linter, apply_fixes
from concord.vocab.lintjson import check_json, lint_json

#: What a directory walk picks up; a file named explicitly is linted whatever its extension.
LINTABLE_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".jsonl", ".yaml", ".yml"}
    | {".html", ".rst"}
)
#: Like git and grep: a NUL byte early on means a binary file.
BINARY_SNIFF_BYTES = 8 * 1024
# UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Document:
    """A decoded text file and what it takes to write it back byte for byte."""

    text: str
    encoding: str
    bom: bytes = b""
    detected: bool = False  # True: not UTF-8, the encoding is charset_normalizer's best guess


@dataclass(frozen=True)
class FileFinding:
    """A finding in a file; ``cell`` says where in a CSV/TSV table it is."""

    path: Path
    finding: Finding
    cell: TableCell | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            **self.finding.to_dict(),
            "cell": asdict(self.cell) if self.cell else None,
        }


@dataclass(frozen=True)
class FileProblem:
    """A file that could not be linted, and why (the error's title and message)."""

    path: Path
    title: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "error": self.title, "message": self.message}


@dataclass
class FileReport:
    """One linted file. ``findings`` are what remains (in the file as it is now, after any
    fix); ``fixed`` are the hits ``--fix`` replaced, at their positions before the fix."""

    path: Path
    encoding: str
    encoding_detected: bool
    bom: bool
    findings: list[FileFinding] = field(default_factory=list)
    fixed: list[FileFinding] = field(default_factory=list)


@dataclass
class LintResult:
    """Everything one ``concord lint`` run found, fixed and could not read."""

    files: list[FileReport] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def findings(self) -> list[FileFinding]:
        return [f for report in self.files for f in report.findings]

    @property
    def fixed(self) -> list[FileFinding]:
        return [f for report in self.files for f in report.fixed]

    def summary(self) -> dict[str, int]:
        return {
            "files_checked": len(self.files),
            "files_with_findings": sum(1 for r in self.files if r.findings),
            "findings": len(self.findings),
            "fixed": len(self.fixed),
            "fixable": sum(1 for f in self.findings if f.finding.fixable),
            "problems": len(self.problems),
        }


def lint_paths(
    paths: Sequence[Path],
    linter: Linter,
    *,
    fix: bool = False,
    max_bytes: int | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> LintResult:
    """Lint (and with ``fix``, rewrite) every file under ``paths``; never stops at a bad file."""
    limit = get_settings().lint_max_bytes if max_bytes is None else max_bytes
    files, problems = collect_files(paths)
    result = LintResult(problems=problems)
    for path in files:
        if on_file is not None:
            on_file(path)
        try:
            result.files.append(lint_file(path, linter, fix=fix, max_bytes=limit))
        except ConcordError as exc:
            result.problems.append(FileProblem(path, exc.title, str(exc)))
    return result


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[FileProblem]]:
    """Files to lint (each once, in a stable order) and the paths that cannot be linted."""
    found: dict[Path, Path] = {}
    problems: list[FileProblem] = []
    for path in paths:
        if path.is_dir():
            inside = _walk(path)
            if not inside:
                problems.append(
                    FileProblem(
                        path,
                        UnreadableFileError.title,
                        f"{path}: the directory has no files to lint (looked for "
                        f"{', '.join('*' + s for s in sorted(LINTABLE_SUFFIXES))})",
                    )
                )
            for file in inside:
                found.setdefault(file.resolve(), file)
        elif path.is_file():
            found.setdefault(path.resolve(), path)
        elif path.exists():
            problems.append(
                FileProblem(path, UnreadableFileError.title, f"{path}: not a regular file")
            )
        else:
            problems.append(
                FileProblem(path, UnreadableFileError.title, f"{path}: no such file or directory")
            )
    return list(found.values()), problems


def _walk(directory: Path) -> list[Path]:
    """Lintable files below ``directory``, sorted; hidden entries (.git, .venv) are skipped."""
    files: list[Path] = []
    for root, dirs, names in os.walk(directory):  # followlinks=False: no symlink loops
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [
            Path(root) / name
            for name in sorted(names)
            if not name.startswith(".") and Path(name).suffix.lower() in LINTABLE_SUFFIXES
        ]
    return files


def lint_file(path: Path, linter: Linter, *, fix: bool = False, max_bytes: int) -> FileReport:
    """Lint one file; with ``fix``, write the fixable replacements back atomically."""
    document = read_document(path, max_bytes=max_bytes)
    kind = path.suffix.lower()
    check_json(path, document.text, kind)
    findings = _lint(path, document.text, linter, kind)
    report = FileReport(path, document.encoding, document.detected, bool(document.bom))
    fixable = [f for f in findings if f.finding.fixable]
    if fix and fixable:
        new_text = apply_fixes(document.text, (f.finding for f in fixable))
        write_document(path, document, new_text)
        report.fixed = fixable
        report.findings = _lint(path, new_text, linter, kind)
    else:
        report.findings = findings
    return report


def _lint(path: Path, text: str, linter: Linter, kind: str) -> list[FileFinding]:
    if kind in (".csv", ".tsv"):
        found = _lint_table(path, text, linter, delimiter_for(text, kind))
    elif kind in (".json", ".jsonl"):
        found = [FileFinding(path, f) for f in lint_json(text, linter)]
    else:
        found = [FileFinding(path, f) for f in linter.lint_text(text)]
    return _not_suppressed(found, text)


#: Markers for text that must quote a term (a legal title, a glossary, these docs), like noqa.
IGNORE_LINE = "concord: ignore"
IGNORE_NEXT_LINE = "concord: ignore-next-line"
IGNORE_FILE = "concord: ignore-file"


def _not_suppressed(findings: list[FileFinding], text: str) -> list[FileFinding]:
    """Drop findings on lines marked ``concord: ignore`` (or after ``ignore-next-line``);
    a file containing ``concord: ignore-file`` has none."""
    if not findings:
        return findings
    folded = text.casefold()
    if IGNORE_FILE in folded:
        return []
    if IGNORE_LINE not in folded:
        return findings
    lines = folded.split("\n")
    silenced = set()
    for number, line in enumerate(lines, start=1):
        if IGNORE_NEXT_LINE in line:
            silenced.add(number + 1)
        elif IGNORE_LINE in line:
            silenced.add(number)
    return [f for f in findings if f.finding.line not in silenced]


def _lint_table(path: Path, text: str, linter: Linter, delimiter: str) -> list[FileFinding]:
    """Findings in a CSV/TSV file, each inside one cell (never across a tab or a row break).

    Why lint the whole text first: one regex scan is fast; only the rare hit that crosses a
    cell boundary sends its cells through a second, cell-by-cell pass.
    """
    cells = cells_of(text, delimiter)
    starts = cells.starts
    kept: list[tuple[Finding, int]] = []
    redo: set[int] = set()
    for finding in linter.lint_text(text):
        first = bisect_right(starts, finding.offset) - 1
        if first >= 0 and finding.end_offset <= cells.ends[first]:
            kept.append((finding, first))
        else:
            last = bisect_right(starts, finding.end_offset - 1) - 1
            redo.update(range(max(first, 0), last + 1))
    if redo:
        kept = [(f, i) for f, i in kept if i not in redo]
        spans = [(starts[i], cells.ends[i]) for i in sorted(redo)]
        for finding in linter.lint_ranges(text, spans):
            kept.append((finding, bisect_right(starts, finding.offset) - 1))
        kept.sort(key=lambda pair: pair[0].offset)
    results = []
    for finding, index in kept:
        fixed = finding
        if finding.fix is not None:
            fixed = _cell_safe_fix(finding, cells.quoted[index], delimiter)
        results.append(FileFinding(path, fixed, cells.location(index)))
    return results


def _cell_safe_fix(finding: Finding, quoted: bool, delimiter: str) -> Finding:
    """The finding with a fix that keeps the CSV cell intact, or no fix when none can."""
    fix = finding.fix or ""
    if quoted:
        return replace(finding, fix=fix.replace('"', '""'))
    if any(c in fix for c in (delimiter, '"', "\n", "\r")):
        return replace(
            finding, fix=None, fixable=False, note="the replacement would split the CSV cell"
        )
    return finding


def read_document(path: Path, *, max_bytes: int) -> Document:
    """Read a text file: size limit, binary check, UTF-8/BOM, else a detected encoding."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableFileError(
                f"{path}: {_size(size)} is over the {_size(max_bytes)} limit for linting "
                "(CONCORD_LINT_MAX_BYTES)"
            )
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise UnreadableFileError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise UnreadableFileError(f"{path}: is a directory") from exc
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    if len(data) > max_bytes:  # it grew since stat
        raise UnreadableFileError(f"{path}: over the {_size(max_bytes)} limit for linting")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return Document(data[len(bom) :].decode(encoding), encoding, bom)
            except UnicodeDecodeError as exc:
                raise UnreadableFileError(
                    f"{path}: starts with a {encoding} byte-order mark but is not {encoding} "
                    f"(byte {exc.start + len(bom)})"
                ) from exc
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise UnreadableFileError(
            f"{path}: looks like a binary file (NUL bytes); concord lint reads text files only"
        )
    try:
        return Document(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        raise UnreadableFileError(
            f"{path}: not UTF-8, and no other text encoding fits; is it a binary file?"
        )
    # Short Western texts often fit cp1250 and cp1252 equally well ("à" vs "ŕ"); on a tie,
    # prefer cp1252, the usual legacy encoding of en/fr/es documents (Windows, Latin-1).
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    chosen = next((m for m in tied if m.encoding == "cp1252"), best)
    return Document(str(chosen), chosen.encoding, detected=True)


def write_document(path: Path, document: Document, text: str) -> None:
    """Write ``text`` in the document's encoding and BOM, atomically (temp file + rename)."""
    try:
        data = document.bom + text.encode(document.encoding)
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{path}: the replacement {exc.object[exc.start : exc.end]!r} cannot be written "
            f"in the file's encoding ({document.encoding}); the file was left unchanged"
        ) from exc
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp.chmod(path.stat().st_mode & 0o7777)
        temp.replace(path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot be rewritten ({exc.strerror}); left unchanged") from exc


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"
