"""Crosswalks: an organisation's own codes and labels mapped to Concord concept ids.

A crosswalk is how a French helpline's "Pédopornographie" becomes ``abuse.csam`` without the
helpline changing its case-management system. Two file formats are read, YAML and CSV, each by a
:class:`CrosswalkReader` chosen by file extension; both produce the same :class:`Crosswalk`.

Why every entry keeps its source line: data stewards fix crosswalks in a text editor or a
spreadsheet, so every problem the checker, the suggester or ingestion reports must say
"helpline-fr.yaml line 12", not "entry 7 of scheme abuse_type".

The readers only check *structure* (is this a crosswalk at all?). Whether targets exist, are
deprecated or conflict is :mod:`concord.vocab.crosswalk_check`'s job, so that a steward sees
every content problem at once instead of one exception at a time.
"""

from __future__ import annotations

import codecs
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, NoReturn

from concord.errors import CrosswalkError, UnreadableFileError

#: Crosswalks are hand-edited lists of at most a few thousand lines; a file this large is almost
#: certainly the wrong file (a data export), and refusing early keeps the YAML parser bounded.
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One line of a crosswalk: the organisation's code and/or label, and its Concord target.

    ``target`` is ``None`` when the organisation left the entry unmapped on purpose (or has not
    mapped it yet); ``line`` is the 1-based line of the entry in its source file.
    """

    scheme: str
    line: int
    code: str | None = None
    label: str | None = None
    target: str | None = None
    lang: str | None = None
    note: str | None = None

    @property
    def display(self) -> str:
        """How a person recognises the entry: its label, else its code."""
        return self.label or self.code or ""


@dataclass(frozen=True)
class Crosswalk:
    """A parsed crosswalk file; ``sections`` maps each scheme id to the line that introduces it."""

    organisation: str
    source: str
    entries: tuple[Entry, ...]
    sections: dict[str, int] = field(default_factory=dict)
    version: str | None = None
    language: str | None = None
    description: str | None = None

    def entries_for(self, scheme: str) -> list[Entry]:
        return [e for e in self.entries if e.scheme == scheme]

    def language_of(self, entry: Entry) -> str | None:
        """The language of ``entry``'s label: its own ``lang``, else the file's default."""
        return entry.lang or self.language


class Problems:
    """Collects structural problems so a reader reports all of them in one error.

    Why not raise at the first: a steward fixing a 300-line file wants the whole list, exactly
    as ``concord vocab check`` lists every integrity problem.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))

    def fail(self, line: int, message: str) -> NoReturn:
        """Add a problem that makes reading further pointless, and raise."""
        self.add(line, message)
        raise self.error()

    def raise_if_any(self) -> None:
        if self.items:
            raise self.error()

    def error(self) -> CrosswalkError:
        """One error naming the file and every problem's line, in line order."""
        items = sorted(self.items, key=lambda item: item[0])  # stable: keeps found order
        if len(items) == 1:
            line, message = items[0]
            return CrosswalkError(f"{self.source} line {line}: {message}")
        return CrosswalkError(
            f"{self.source}: {len(items)} problems in the crosswalk",
            details=[f"line {line}: {message}" for line, message in items],
        )


def clean(value: str | None) -> str | None:
    """Trimmed text, or ``None`` for a missing or blank value (a blank target means unmapped)."""
    if value is None:
        return None
    value = value.strip()
    return value or None


class CrosswalkReader(ABC):
    """Reads one crosswalk file format. Register new formats in :data:`READERS`.

    Implementers: ``name`` is a stable lowercase id, ``suffixes`` the lowercase file extensions
    (with the dot). ``parse`` must raise only :class:`concord.errors.ConcordError` subclasses
    (translate parser errors with ``raise ... from exc``), must keep each entry's 1-based source
    line, and must report every structural problem it finds, not just the first.
    """

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    @abstractmethod
    def parse(self, text: str, *, source: str, default_organisation: str) -> Crosswalk:
        """Parse ``text``; ``default_organisation`` is used when the format cannot name one."""


def _readers() -> dict[str, CrosswalkReader]:
    """Suffix → reader, checking that no two readers claim a name or a suffix."""
    from concord.vocab.crosswalk_readers import CsvCrosswalkReader, YamlCrosswalkReader

    by_suffix: dict[str, CrosswalkReader] = {}
    names: set[str] = set()
    for reader in (YamlCrosswalkReader(), CsvCrosswalkReader()):
        if reader.name in names:
            raise CrosswalkError(f"two crosswalk readers are named {reader.name!r}")
        names.add(reader.name)
        for suffix in reader.suffixes:
            if suffix in by_suffix:
                raise CrosswalkError(f"two crosswalk readers claim the extension {suffix!r}")
            by_suffix[suffix] = reader
    return by_suffix


def reader_for(path: Path) -> CrosswalkReader:
    """The reader for ``path``'s extension, or a CrosswalkError listing the ones we know."""
    readers = _readers()
    suffix = path.suffix.lower()
    if suffix not in readers:
        known = ", ".join(sorted(readers))
        what = f"extension {suffix!r}" if suffix else "no extension"
        raise CrosswalkError(
            f"{path}: has {what}; a crosswalk must be one of {known} "
            "(YAML with organisation/mappings, or CSV with scheme,code,label,target columns)"
        )
    return readers[suffix]


def decode(data: bytes, *, source: str) -> str:
    """UTF-8 text of ``data`` (a byte-order mark is dropped), or a clear UnreadableFileError.

    Why no encoding guessing: a wrong guess silently turns "Pédopornographie" into mojibake that
    then fails to match anything; asking for UTF-8 is one click in any spreadsheet program.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFileError(
            f"{source}: is UTF-16 text; save it as UTF-8 (in a spreadsheet: 'CSV UTF-8')"
        )
    if b"\x00" in data:
        raise UnreadableFileError(f"{source}: looks like a binary file, not a crosswalk")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"{source}: is not UTF-8 text (byte {exc.start}); save it as UTF-8 "
            "(in a spreadsheet: 'CSV UTF-8')"
        ) from exc


def read_bytes(path: Path) -> bytes:
    """The file's bytes, with missing, unreadable or oversized files as UnreadableFileError."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UnreadableFileError(
                f"{path}: is {size // 1024} KiB; a crosswalk may be at most "
                f"{MAX_BYTES // (1024 * 1024)} MiB (is this a data export rather than a crosswalk?)"
            )
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise UnreadableFileError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise UnreadableFileError(f"{path}: is a directory, not a crosswalk file") from exc
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror})") from exc


def parse_crosswalk(text: str, *, source: str, fmt: str, default_organisation: str) -> Crosswalk:
    """Parse crosswalk ``text`` in format ``fmt`` (a reader name such as 'yaml' or 'csv')."""
    reader = next((r for r in _readers().values() if r.name == fmt), None)
    if reader is None:
        raise CrosswalkError(f"{source}: unknown crosswalk format {fmt!r}")
    return reader.parse(text, source=source, default_organisation=default_organisation)


def read_crosswalk(path: Path) -> Crosswalk:
    """Read a crosswalk file; the format follows the extension (.yaml/.yml or .csv).

    A CSV file has no place for the organisation's name, so its file name (without extension)
    is used, e.g. ``hotline-es.csv`` → ``hotline-es``.
    """
    reader = reader_for(path)
    text = decode(read_bytes(path), source=str(path))
    return reader.parse(text, source=str(path), default_organisation=path.stem)
