"""Excel workbooks (.xlsx/.xlsm) → all-text batches, streamed with openpyxl's read-only mode.

* **Sheet**: ``options.sheet`` by name (exact, else ignoring case) or 0-based index; the first
  sheet by default (a Kobo XLSX export's main table; its repeat groups are later sheets).
* **Header**: the first row with any value from row ``header_row`` on (default 1; the rows
  above it — a title, an export date — are skipped); it ends at its last non-empty cell. Blank names
  become ``column_N``, duplicates are refused (see :func:`.base.column_names`).
* **``__row__``** is the sheet's own row number — what Excel shows in the margin.
* **Cells become text as Excel shows them by default**: integers without ``.0`` (``12.0`` →
  ``"12"``), other numbers in shortest round-trip form (``0.1``), dates ``YYYY-MM-DD``,
  date-times ``YYYY-MM-DDTHH:MM:SS`` (rounded to the second), times ``HH:MM:SS``, booleans
  ``TRUE``/``FALSE``, formulas their cached value (a workbook never opened in Excel has none:
  null), error values as written (``#N/A``). Read-only mode cannot see cell formats, so a
  date-time at exactly midnight is written as a date — that is how Excel stores a plain date.
* **Rows**: completely empty rows are skipped; a value to the right of the header's last
  column is refused with its cell reference (same rule as CSV's surplus fields: nothing is
  guessed or dropped).

Why the ZIP is inspected before openpyxl sees it: an .xlsx is a ZIP archive, and a crafted or
corrupt one can claim gigabytes of XML. The sheet is streamed, but the shared-strings table is
loaded whole, so its declared size is capped, as is the total (see the constants).
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar

import openpyxl
import polars as pl
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from concord.errors import InputError, MalformedFileError, UnreadableFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers.base import (
    DEFAULT_BATCH_ROWS,
    Reader,
    SurplusValues,
    check_batch_rows,
    column_names,
    file_size,
    number_text,
    text_frame,
)
from concord.ingest.readers.textfile import read_head

#: Declared uncompressed size of the whole archive: a full Excel sheet (1,048,576 rows) of a
#: few dozen columns is well under this.
MAX_UNPACKED_BYTES = 4 * 1024**3
#: The shared-strings table is parsed into memory whole.
MAX_SHARED_STRINGS_BYTES = 512 * 1024**2
_HALF_SECOND = timedelta(microseconds=500_000)


class ExcelReader(Reader):
    """``.xlsx``/``.xlsm`` workbooks (see the module docstring for sheets, cells and rows)."""

    name: ClassVar[str] = "xlsx"

    def columns(self, path: Path, options: ReaderOptions) -> list[str]:
        source = str(path)
        with _workbook(path, source) as book:
            sheet = _sheet(book, options.sheet, source)
            return _header(_rows(sheet, source), sheet, source, options.header_row)

    def batches(
        self, path: Path, options: ReaderOptions, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pl.DataFrame]:
        check_batch_rows(batch_rows)
        source = str(path)
        _check_archive(path, source)  # refused before the first batch is asked for
        return self._read(path, source, options, batch_rows)

    def _read(
        self, path: Path, source: str, options: ReaderOptions, batch_rows: int
    ) -> Iterator[pl.DataFrame]:
        with _workbook(path, source) as book:
            sheet = _sheet(book, options.sheet, source)
            rows = _rows(sheet, source)
            names = _header(rows, sheet, source, options.header_row)
            width = len(names)
            values: list[list[str | None]] = []
            numbers: list[int] = []
            surplus = SurplusValues()
            for number, row in rows:
                cells = [cell_text(v) for v in row]
                if not any(cells):
                    continue
                if len(cells) > width:
                    extra = next((i for i, v in enumerate(cells[width:], width) if v), None)
                    if extra is not None:
                        surplus.add(f"cell {get_column_letter(extra + 1)}{number}")
                        continue
                    del cells[width:]
                if surplus:
                    continue
                cells.extend([None] * (width - len(cells)))
                values.append(cells)
                numbers.append(number)
                if len(values) >= batch_rows:
                    yield text_frame(names, list(zip(*values, strict=True)), numbers)
                    values, numbers = [], []
            if surplus:
                raise surplus.error(
                    f"{source}: {surplus.count} row(s) have values to the right of the "
                    f"header's last column ({get_column_letter(width)}); give those columns a "
                    "header or move the values"
                )
            if values:
                yield text_frame(names, list(zip(*values, strict=True)), numbers)


def cell_text(value: object) -> str | None:
    """A cell's value as text (see the module docstring), None for an empty cell."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, date | time | timedelta):
        return temporal_text(value)
    return str(value)


def temporal_text(value: date | time | timedelta) -> str:
    """ISO 8601 for dates and times (to the second); ``H:MM:SS`` for durations."""
    if isinstance(value, datetime):
        moment = (value + _HALF_SECOND).replace(microsecond=0)
        if moment.time() == time(0):
            return moment.date().isoformat()
        return moment.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        moment = datetime.combine(date(2000, 1, 1), value) + _HALF_SECOND
        return moment.time().replace(microsecond=0).isoformat(timespec="seconds")
    seconds = round(value.total_seconds())  # durations such as [h]:mm:ss
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _check_archive(path: Path, source: str) -> None:
    """Refuse what is not an .xlsx, or an archive that would unpack to too much."""
    file_size(path)
    head = read_head(path, 8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFileError(
            f"{source}: is an old Excel .xls workbook; open it in Excel or LibreOffice and "
            "save it as .xlsx (or export CSV)"
        )
    if not head.startswith(b"PK\x03\x04"):
        raise UnreadableFileError(
            f"{source}: is not an Excel .xlsx workbook (an .xlsx is a ZIP archive; this file "
            "is not one — a CSV file renamed? then use format 'csv')"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(f"{source}: is a damaged or incomplete ZIP/.xlsx file") from exc
    if "xl/workbook.xml" not in members:
        raise UnreadableFileError(
            f"{source}: is a ZIP archive but not an Excel workbook (no xl/workbook.xml)"
        )
    total = sum(info.file_size for info in members.values())
    strings = members.get("xl/sharedStrings.xml")
    if total > MAX_UNPACKED_BYTES or (strings and strings.file_size > MAX_SHARED_STRINGS_BYTES):
        raise UnreadableFileError(
            f"{source}: unpacks to {total // 1024**2:,} MiB, more than a workbook of records "
            f"can hold (limit {MAX_UNPACKED_BYTES // 1024**3} GiB, shared strings "
            f"{MAX_SHARED_STRINGS_BYTES // 1024**2} MiB); split the export or save it as CSV"
        )


@contextmanager
def _workbook(path: Path, source: str) -> Iterator[Workbook]:
    """``path`` opened read-only (closed on exit); any openpyxl error as UnreadableFileError."""
    _check_archive(path, source)
    with path.open("rb") as handle:
        try:
            with _quiet():
                # A file object, not the path: openpyxl refuses names not ending in .xlsx.
                book = openpyxl.load_workbook(
                    handle, read_only=True, data_only=True, keep_links=False
                )
        except Exception as exc:  # a hostile file can make the XML/ZIP layers raise anything
            raise UnreadableFileError(
                f"{source}: cannot be read as an Excel workbook ({_reason(exc)})"
            ) from exc
        try:
            yield book
        finally:
            book.close()


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence openpyxl's notes on features Concord does not read (styles, data validation).

    They are not about the data, and pytest (``filterwarnings = error``) would turn them into
    failures on perfectly good workbooks.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


def _sheet(book: Workbook, wanted: str | int | None, source: str) -> ReadOnlyWorksheet:
    sheets = [ws for ws in book.worksheets if isinstance(ws, ReadOnlyWorksheet)]
    names = [ws.title for ws in sheets]
    listing = ", ".join(repr(n) for n in names) or "none"
    if not sheets:
        raise UnreadableFileError(f"{source}: has no worksheet")
    if wanted is None:
        return sheets[0]
    if isinstance(wanted, int):
        if 0 <= wanted < len(sheets):
            return sheets[wanted]
        raise InputError(
            f"{source}: has no sheet number {wanted} (sheets are counted from 0; "
            f"it has {len(sheets)}: {listing})"
        )
    exact = [ws for ws in sheets if ws.title == wanted]
    loose = [ws for ws in sheets if ws.title.casefold() == wanted.casefold()]
    if exact or loose:
        return (exact or loose)[0]
    raise InputError(f"{source}: has no sheet named {wanted!r}; its sheets are {listing}")


def _rows(sheet: ReadOnlyWorksheet, source: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(sheet row number, values) for every row, openpyxl errors as UnreadableFileError.

    Why ``reset_dimensions``: read-only mode trusts the sheet's declared size, and some
    exporters declare ``A1:A1`` — every row would be cut to its first cell.
    """
    # typeshed's openpyxl stubs describe iter_rows on Worksheet only and leave
    # reset_dimensions untyped, so the read-only sheet is driven through ``Any``.
    worksheet: Any = sheet
    worksheet.reset_dimensions()
    iterator: Iterator[tuple[Any, ...]] = worksheet.iter_rows(values_only=True)
    number = 0
    while True:
        try:
            with _quiet():
                row = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # a damaged sheet can raise anything from the XML layer
            raise UnreadableFileError(
                f"{source}: the sheet {sheet.title!r} cannot be read after row {number} "
                f"({_reason(exc)})"
            ) from exc
        number += 1
        yield number, tuple(row)


def _header(
    rows: Iterator[tuple[int, tuple[Any, ...]]],
    sheet: ReadOnlyWorksheet,
    source: str,
    header_row: int = 1,
) -> list[str]:
    """The names in the first row with a value from ``header_row`` on.

    An empty sheet is refused like an empty file.
    """
    last = 0
    for number, row in rows:
        last = number
        if number < header_row:
            continue  # a title or an export date above the header
        cells = [cell_text(v) for v in row]
        while cells and cells[-1] is None:
            cells.pop()
        if cells:
            return column_names(cells, source=source, where=f"header (row {number})")
    if header_row > 1:
        raise MalformedFileError(
            f"{source}: the sheet {sheet.title!r} has no header row on or after row "
            f"{header_row} (header_row); it has {last} row(s)"
        )
    raise MalformedFileError(f"{source}: the sheet {sheet.title!r} is empty: no header row")
