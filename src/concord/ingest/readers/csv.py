"""CSV/TSV partner exports → all-text batches, fast with polars and never losing a row.

How a file is read:

1. **Bytes.** Missing, empty and binary files (ZIP/xlsx, images, PDF, NUL bytes) are refused;
   the encoding is detected (``encoding: auto``: UTF-8 with or without BOM, UTF-16/32 with BOM,
   else a legacy code page, cp1252 preferred — see :mod:`.textfile`) or taken from the spec.
   Anything but UTF-8, and classic-Mac files whose lines end in a lone CR, is first copied to a
   temporary UTF-8 file in 1 MiB chunks (deleted when the batches are done or abandoned).
   A physical line over 8 MiB is refused: that is a file without line breaks, not a table.
2. **Layout.** The delimiter (``auto``: ``,`` ``;`` tab or ``|``) is the candidate that splits the
   header into the most columns *and* splits the rows of the first 64 KiB consistently — see
   :func:`sniff_delimiter` for why ``csv.Sniffer`` is not used. The header is the first non-blank
   record from line ``header_row`` on (default 1; the lines above it — a title, an export
   date — are skipped unread); a blank name becomes ``column_N``, duplicate names are refused.
3. **Rows.** polars scans the file in streaming batches. Each row's ``__row__`` is the
   **physical line where the record starts** (line 1 is the header), computed in polars from
   the line breaks inside the row's quoted cells, so a steward can jump to it in any editor.
   Blank lines and rows whose cells are all empty are skipped (they carry nothing).

Ragged rows, decided so that every row stays accountable:

* **too few fields** — padded with nulls: every value the partner wrote is kept, in its
  column (exporters that drop trailing empty cells do this);
* **too many fields, the surplus all empty** — the surplus is dropped (trailing delimiters);
* **too many fields with values in the surplus** — a :class:`MalformedFileError` listing every
  such line (up to 20 named), because the values cannot be placed in a column without guessing
  (usually an unquoted delimiter inside a free-text cell; the steward fixes the quoting).

polars refuses some files Python's ``csv`` accepts (ragged rows, a stray quote inside an
unquoted cell such as ``5" screen``). Then one batch from the first unread line is read by a
tolerant Python parser (:mod:`.csvtolerant`: slower, same rules, same ``__row__``) and polars
takes over again after it (see :func:`read_layout`), so such a file is read, not refused, at
nearly full speed. A quoted cell that never closes is refused with the line it opens on.

The checks of step 1 run when :meth:`CsvReader.batches` is called (a missing, binary or
undecodable file fails at once); rows are read as the batches are asked for. Errors found
part-way are raised after the batches before them (see :meth:`Reader.batches`).
"""

from __future__ import annotations

import codecs
import csv
import os
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl

from concord.errors import InputError, MalformedFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers.base import (
    DEFAULT_BATCH_ROWS,
    ROW_COLUMN,
    ROW_DTYPE,
    Reader,
    check_batch_rows,
    column_names,
    file_size,
)
from concord.ingest.readers.csvtolerant import check_last_record, split_lines, tolerant_batches
from concord.ingest.readers.textfile import (
    HEAD_BYTES,
    MAX_LINE_BYTES,
    UTF8,
    UTF8_SIG,
    bom_codec,
    codec_name,
    guess_legacy,
    read_head,
    refuse_binary,
    resolve_encoding,
    transcode,
)

#: A header longer than this is not a header (Kobo exports with 500 long group/question names
#: stay well under 100 KiB).
MAX_HEADER_BYTES = 1024 * 1024
CANDIDATE_DELIMITERS = ",;\t|"
#: How often polars may refuse a file before the tolerant parser reads the rest.
POLARS_ATTEMPTS = 3
_DELIMITER_WORDS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_LINES = "__lines__"


@dataclass(frozen=True)
class CsvLayout:
    """What reading needs to know: the UTF-8 file, its delimiter, columns and header size."""

    path: Path
    source: str
    delimiter: str
    names: list[str]
    header_lines: int


class CsvReader(Reader):
    """Delimited text (see the module docstring for encodings, layout and ragged rows)."""

    name: ClassVar[str] = "csv"
    #: Used when sniffing finds no delimiter that splits the header.
    default_delimiter: ClassVar[str] = ","
    #: Appended to "is a ZIP archive, not a text file" and similar refusals.
    binary_hint: ClassVar[str] = " (for an Excel workbook use format 'xlsx')"
    #: Appended to the error for duplicate column names.
    duplicate_hint: ClassVar[str] = ""

    def columns(self, path: Path, options: ReaderOptions) -> list[str]:
        """The header, from the first MiB only (no full-file encoding scan)."""
        source = str(path)
        size = file_size(path)
        head = read_head(path, MAX_HEADER_BYTES)
        refuse_binary(head[:HEAD_BYTES], source, hint=self.binary_hint)
        codec = self._head_codec(path, options.encoding, head, source)
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        text = decoder.decode(head, final=len(head) == size)
        if "\n" not in text:
            text = text.replace("\r", "\n")
        delimiter = self._delimiter(options.delimiter, _body(text, options.header_row), source)
        names, _ = read_header(
            text,
            delimiter,
            source,
            truncated=len(head) < size,
            hint=self.duplicate_hint,
            first_line=options.header_row,
        )
        return names

    def batches(
        self, path: Path, options: ReaderOptions, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pl.DataFrame]:
        check_batch_rows(batch_rows)
        source = str(path)
        file_size(path)  # missing / empty / unreadable are refused before anything else
        head = read_head(path)
        refuse_binary(head, source, hint=self.binary_hint)
        cr_only = b"\r" in head and b"\n" not in head
        codec = resolve_encoding(
            path, options.encoding, head, source, max_line=None if cr_only else MAX_LINE_BYTES
        )
        return self._read(path, source, codec, cr_only, options, batch_rows)

    def _read(
        self,
        path: Path,
        source: str,
        codec: str,
        cr_only: bool,
        options: ReaderOptions,
        batch_rows: int,
    ) -> Iterator[pl.DataFrame]:
        # A generator of its own so that checks in ``batches`` run when it is called, while the
        # temporary copy lives exactly as long as the iteration.
        copy: Path | None = None
        try:
            if codec not in (UTF8, UTF8_SIG) or cr_only:
                copy = _utf8_copy(path, codec, source, cr_only=cr_only)
            layout = self.layout(copy or path, source, options.delimiter, options.header_row)
            yield from read_layout(layout, batch_rows)
        finally:
            if copy is not None:
                with suppress(OSError):
                    copy.unlink()

    def layout(
        self, utf8_path: Path, source: str, delimiter: str, header_row: int = 1
    ) -> CsvLayout:
        """Delimiter, column names and header size (lines to its end) of a UTF-8 file."""
        head = read_head(utf8_path, MAX_HEADER_BYTES)
        size = utf8_path.stat().st_size
        text = codecs.getincrementaldecoder(UTF8_SIG)().decode(head, final=len(head) == size)
        chosen = self._delimiter(delimiter, _body(text, header_row), source)
        names, header_lines = read_header(
            text,
            chosen,
            source,
            truncated=len(head) < size,
            hint=self.duplicate_hint,
            first_line=header_row,
        )
        return CsvLayout(utf8_path, source, chosen, names, header_lines)

    def _delimiter(self, requested: str, text: str, source: str) -> str:
        if requested == "auto":
            return sniff_delimiter(text[:HEAD_BYTES]) or self.default_delimiter
        delimiter = _DELIMITER_WORDS.get(requested.lower(), requested)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise InputError(
                f"{source}: the delimiter must be one character such as ',' ';' '|' or 'tab' "
                f"(got {requested!r})"
            )
        return delimiter

    @staticmethod
    def _head_codec(path: Path, requested: str, head: bytes, source: str) -> str:
        bom = bom_codec(head)
        if requested != "auto":
            codec = codec_name(requested, source)
            return UTF8_SIG if bom == UTF8_SIG and codec == UTF8 else codec
        if bom is not None:
            return bom
        try:
            codecs.getincrementaldecoder(UTF8)().decode(head, final=False)
        except UnicodeDecodeError as exc:
            return guess_legacy(path, exc.start, head, source)
        return UTF8


def _utf8_copy(path: Path, codec: str, source: str, *, cr_only: bool) -> Path:
    handle, name = tempfile.mkstemp(prefix="concord-", suffix=".csv")
    copy = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            transcode(path, codec, out, source, max_line=MAX_LINE_BYTES, cr_newlines=cr_only)
    except BaseException:
        copy.unlink()
        raise
    return copy


def sniff_delimiter(text: str) -> str | None:
    """The candidate delimiter that best splits ``text``'s rows, or None for one column.

    For each of ``, ; tab |`` the sample is parsed as CSV (quotes respected); a candidate must
    split the header into at least two columns, and the winner is the one for which most data
    rows have the header's width, then the widest header. Why not ``csv.Sniffer``: its regular
    expressions are quadratic — 64 KiB of ``,"`` takes it about 30 seconds — and it gives up on
    samples with one ragged row; parsing with the C ``csv`` reader is linear and robust.
    """
    cut = text.rfind("\n")
    sample = text[: cut + 1] if cut > 0 else text
    best: tuple[float, int] | None = None
    chosen = None
    for delimiter in CANDIDATE_DELIMITERS:
        try:
            rows = [row for row in csv.reader(split_lines(sample), delimiter=delimiter) if row]
        except csv.Error:  # a cell over the csv module's size limit: not this delimiter
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width, data = len(rows[0]), rows[1:]
        agreeing = sum(len(row) == width for row in data) / len(data) if data else 1.0
        if best is None or (agreeing, width) > best:
            best, chosen = (agreeing, width), delimiter
    return chosen


def _body(text: str, first_line: int) -> str:
    """``text`` from its 1-based physical line ``first_line`` on ("" when it has fewer lines)."""
    start = 0
    for _ in range(first_line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start:]


def read_header(
    text: str,
    delimiter: str,
    source: str,
    *,
    truncated: bool,
    hint: str = "",
    first_line: int = 1,
) -> tuple[list[str], int]:
    """Column names and the number of physical lines up to the header's end.

    ``text`` is the decoded start of the file; ``truncated`` says the file goes on after it.
    The header is the first non-blank record from line ``first_line`` on; the lines above are
    not parsed at all (a title line may hold an unbalanced quote), only counted.
    """
    above = first_line - 1
    body = _body(text, first_line)
    if above and not body and not truncated:
        lines = text.count("\n") + (not text.endswith("\n"))
        raise MalformedFileError(
            f"{source}: header_row is {first_line} but the file has only {lines} line(s)"
        )
    reader = csv.reader(split_lines(body), delimiter=delimiter, strict=True)
    try:
        for record in reader:
            if record and any(cell.strip() for cell in record):
                if truncated and reader.line_num >= body.count("\n") + (not body.endswith("\n")):
                    break  # the record reached the end of what was read: it may go on
                return column_names(record, source=source, hint=hint), above + reader.line_num
    except csv.Error as exc:
        if not truncated:
            raise MalformedFileError(
                f"{source} line {above + reader.line_num}: the header row cannot be read "
                f"({exc}); is a quote never closed?"
            ) from exc
    else:
        if not truncated:
            where = f" on or after line {first_line} (header_row)" if above else ""
            raise MalformedFileError(f"{source}: has no header row{where}, only blank lines")
    raise MalformedFileError(
        f"{source}: the header row does not end within the first "
        f"{MAX_HEADER_BYTES // 1024} KiB; is a quote never closed, or is this not a CSV file?"
    )


def read_layout(layout: CsvLayout, batch_rows: int) -> Iterator[pl.DataFrame]:
    """The batches of a UTF-8 file whose layout is known: polars, tolerant where refused.

    When polars refuses the file at some line (a ragged row, a stray quote), one batch is read
    from there by the tolerant parser and polars resumes after it — so one odd row does not
    slow down the rest of a big file. After :data:`POLARS_ATTEMPTS` refusals the tolerant
    parser reads to the end (each resumption rescans the skipped lines).

    One polars batch is held back so that the final record can be checked for a quote that
    never closes before it is handed out (a half-read record must not reach the records).
    """
    line: int | None = layout.header_lines + 1
    attempts = 0
    while line is not None:
        held: pl.DataFrame | None = None
        last_start = 0
        try:
            for batch, start, after in _polars_batches(layout, batch_rows, line):
                last_start, line = start, after
                if held is not None:
                    yield held
                held = batch if batch.height else None
        except (pl.exceptions.PolarsError, OSError):
            attempts += 1
        else:
            if last_start:
                check_last_record(layout.path, layout.source, layout.delimiter, last_start)
            if held is not None:
                yield held
            return
        # polars refused the file from ``line`` on: the tolerant parser reports what is really
        # wrong, if anything, and tells where polars may take over again.
        if held is not None:
            yield held
        line = yield from tolerant_batches(
            layout.path,
            layout.source,
            layout.delimiter,
            layout.names,
            line,
            batch_rows,
            max_batches=1 if attempts < POLARS_ATTEMPTS else None,
        )


def _polars_batches(
    layout: CsvLayout, batch_rows: int, first_line: int
) -> Iterator[tuple[pl.DataFrame, int, int]]:
    """(batch without blank rows, start line of its last record, first line after it)."""
    names = layout.names
    frame = pl.scan_csv(
        layout.path,
        has_header=False,
        separator=layout.delimiter,
        skip_lines=first_line - 1,
        schema=dict.fromkeys(names, pl.String),
        null_values=[""],
        quote_char='"',
        raise_if_empty=False,
    )
    # A record spans 1 + (line breaks inside its quoted cells) physical lines.
    spans = 1 + pl.sum_horizontal(
        [pl.col(n).str.count_matches("\n", literal=True).fill_null(0) for n in names]
    )
    line = first_line
    for raw in frame.collect_batches(chunk_size=batch_rows):
        if raw.height == 0:
            continue
        numbered = raw.with_columns(spans.cast(ROW_DTYPE).alias(_LINES)).select(
            (pl.col(_LINES).cum_sum() - pl.col(_LINES) + line).alias(ROW_COLUMN),
            *names,
            _LINES,
        )
        last_start = int(numbered[ROW_COLUMN][-1])
        line = last_start + int(numbered[_LINES][-1])
        kept = numbered.filter(pl.any_horizontal(pl.col(names).is_not_null())).drop(_LINES)
        yield kept, last_start, line
