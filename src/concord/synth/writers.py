"""Writing one organisation's rows in its own file format, a chunk at a time.

Each format is a :class:`FileWriter` registered by its mapping-spec name, the same way an outside
package would add one. A writer opens a :class:`Sink`, receives chunks in order and closes it,
so memory stays bounded however many rows are written. Output is byte-for-byte deterministic:
no timestamps, no random ordering (the xlsx creation date is fixed for that reason).
"""

from __future__ import annotations

import codecs
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import IO, ClassVar

import polars as pl
import xlsxwriter  # type: ignore[import-untyped]  # XlsxWriter ships no type information

from concord.errors import ConfigurationError, UnreadableFileError
from concord.synth.model import Format, Profile

#: Fixed document dates keep .xlsx files byte-identical between runs.
XLSX_CREATED = dt.datetime(2026, 10, 1, 0, 0, 0)


class Sink(ABC):
    """An open output file: chunks go in with :meth:`write`, :meth:`close` finishes it."""

    @abstractmethod
    def write(self, frame: pl.DataFrame) -> None:
        """Append ``frame``'s rows (columns already in the file's order)."""

    @abstractmethod
    def close(self) -> None:
        """Finish the file (closing brackets, zip directory) and release it."""


class FileWriter(ABC):
    """Writes one file format. Implementers: ``name`` is the mapping spec's ``reader.format``."""

    name: ClassVar[Format]

    @abstractmethod
    def open(self, path: Path, profile: Profile) -> Sink:
        """Create ``path`` and write what comes before the rows (a header, a bracket)."""


def _open_binary(path: Path) -> IO[bytes]:
    try:
        return path.open("wb")
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be written ({exc.strerror})") from exc


class _CsvSink(Sink):
    def __init__(self, path: Path, profile: Profile) -> None:
        reader = profile.reader
        self._file = _open_binary(path)
        self._separator = reader.delimiter or ","
        self._terminator = reader.line_terminator
        # "utf-8-sig" would put a byte-order mark before every chunk: write it once instead.
        self._encoding = "utf-8" if reader.encoding == "utf-8-sig" else reader.encoding
        if reader.encoding == "utf-8-sig":
            self._file.write(codecs.BOM_UTF8)
        header = pl.DataFrame({c: [] for c in profile.columns}, schema_overrides=None)
        self._emit(header, include_header=True)

    def _emit(self, frame: pl.DataFrame, *, include_header: bool) -> None:
        text = frame.write_csv(
            separator=self._separator,
            line_terminator=self._terminator,
            include_header=include_header,
        )
        self._file.write(text.encode(self._encoding))

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self._emit(frame, include_header=False)

    def close(self) -> None:
        self._file.close()


class CsvWriter(FileWriter):
    """Delimited text in the organisation's encoding (cp1252, UTF-8 with or without BOM)."""

    name = Format.CSV

    def open(self, path: Path, profile: Profile) -> Sink:
        return _CsvSink(path, profile)


class KoboWriter(CsvWriter):
    """A KoboToolbox CSV export: CSV whose header already carries the group paths."""

    name = Format.KOBO


class _JsonLinesSink(Sink):
    def __init__(self, path: Path, *, array: bool) -> None:
        self._file = _open_binary(path)
        self._array = array
        self._first = True
        if array:
            self._file.write(b"[")

    def write(self, frame: pl.DataFrame) -> None:
        if not frame.height:
            return
        text = frame.write_ndjson()
        if self._array:  # one object per line, commas between: still valid JSON
            text = ("\n" if self._first else ",\n") + text.rstrip("\n").replace("\n", ",\n")
        self._first = False
        self._file.write(text.encode("utf-8"))

    def close(self) -> None:
        if self._array:
            self._file.write(b"]\n" if self._first else b"\n]\n")
        self._file.close()


class JsonLinesWriter(FileWriter):
    """One JSON object per line (UTF-8)."""

    name = Format.JSONL

    def open(self, path: Path, profile: Profile) -> Sink:
        return _JsonLinesSink(path, array=False)


class JsonArrayWriter(FileWriter):
    """A single JSON array of objects, as an API dump delivers it."""

    name = Format.JSON

    def open(self, path: Path, profile: Profile) -> Sink:
        return _JsonLinesSink(path, array=True)


class _XlsxSink(Sink):
    def __init__(self, path: Path, profile: Profile) -> None:
        # constant_memory streams each row to disk; the string_* options keep "=..." or
        # "0123" as the text the organisation typed.
        self._book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self._book.set_properties({"created": XLSX_CREATED, "author": profile.name})
        self._sheet = self._book.add_worksheet(profile.reader.sheet or "Sheet1")
        self._sheet.write_row(0, 0, profile.columns)
        self._row = 1
        self._path = path

    def write(self, frame: pl.DataFrame) -> None:
        # constant_memory flushes a row when the next one starts: write strictly row by row.
        sheet = self._sheet
        writes = [
            sheet.write_number if s.dtype.is_integer() else sheet.write_string
            for s in frame.iter_columns()
        ]
        for row, values in enumerate(frame.iter_rows(), start=self._row):
            for column, value in enumerate(values):
                if value is not None:
                    writes[column](row, column, value)
        self._row += frame.height

    def close(self) -> None:
        try:
            self._book.close()
        except OSError as exc:
            raise UnreadableFileError(f"{self._path}: cannot be written ({exc})") from exc


class XlsxFileWriter(FileWriter):
    """An Excel workbook with one sheet, streamed row by row."""

    name = Format.XLSX

    def open(self, path: Path, profile: Profile) -> Sink:
        return _XlsxSink(path, profile)


def build_writers(writers: Iterable[FileWriter]) -> dict[Format, FileWriter]:
    """Format → writer, refusing two writers for one format."""
    registry: dict[Format, FileWriter] = {}
    for writer in writers:
        if writer.name in registry:
            raise ConfigurationError(f"two synthetic file writers are named {writer.name!r}")
        registry[writer.name] = writer
    return registry


WRITERS = build_writers(
    (CsvWriter(), KoboWriter(), JsonLinesWriter(), JsonArrayWriter(), XlsxFileWriter())
)


def writer_for(profile: Profile) -> FileWriter:
    try:
        return WRITERS[profile.reader.format]
    except KeyError:
        raise ConfigurationError(
            f"{profile.slug}: no writer for format {profile.reader.format!r}"
        ) from None
