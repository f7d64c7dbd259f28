"""The tolerant CSV path: Python's ``csv`` module for files polars refuses part-way.

polars stops at a row with more fields than the header and at a quote inside an unquoted cell
(``5" screen``), both common in hand-edited partner files. Rather than refuse the file, reading
continues from the first line polars did not deliver, with the C-accelerated ``csv`` reader in
its lenient mode — about three times slower, so it is only used where needed — applying the
same rules (see :mod:`concord.ingest.readers.csv`) and the same ``__row__`` numbering.

The file given here is always UTF-8 (a copy when the original was not) and split on LF only,
so physical line numbers agree with the polars path.
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from itertools import islice
from pathlib import Path

import polars as pl

from concord.errors import MalformedFileError
from concord.ingest.readers.base import SurplusValues, text_frame

#: The csv module refuses cells over 128 KiB by default; polars has no such limit, so the two
#: paths would disagree on a long narrative. A cell this long is a quote that never closes.
MAX_CELL_CHARS = 16 * 1024 * 1024


def split_lines(text: str) -> Iterator[str]:
    """``text`` in lines ending with LF (kept), like reading a file in binary mode.

    Why not ``str.splitlines``: it also splits on form feeds, U+2028 and lone CRs, which are
    data inside a cell, and would shift every line number after them.
    """
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start : end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]


@contextmanager
def _lines_from(path: Path, first_line: int) -> Iterator[Iterator[str]]:
    """The decoded lines of a UTF-8 file from the 1-based ``first_line`` on."""
    with path.open("rb") as handle:
        for _ in islice(handle, first_line - 1):
            pass
        yield (raw.decode("utf-8") for raw in handle)


def _allow_long_cells() -> None:
    # A process-wide setting; it is only ever raised, never lowered, so no other user of the
    # csv module can be surprised by a smaller limit.
    if csv.field_size_limit() < MAX_CELL_CHARS:
        csv.field_size_limit(MAX_CELL_CHARS)


def _explain(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"a cell is longer than {MAX_CELL_CHARS // (1024 * 1024)} Mi characters; "
            "is a quote never closed?"
        )
    if "new-line character seen in unquoted field" in text:
        return "a line break (a lone carriage return?) inside a cell that is not quoted"
    return text


def tolerant_batches(
    path: Path,
    source: str,
    delimiter: str,
    names: list[str],
    first_line: int,
    batch_rows: int,
    *,
    max_batches: int | None = None,
) -> Generator[pl.DataFrame, None, int | None]:
    """Batches of the records starting at ``first_line``, with the ragged-row rules.

    Stops after ``max_batches`` batches and returns the line where the next record starts, so
    the caller can hand the rest back to polars; returns None once the file is read. Once a row
    with surplus values is found nothing more is yielded, but the rest of the file is still
    scanned so that the error lists every such line at once.
    """
    _allow_long_cells()
    width = len(names)
    rows: list[list[str]] = []
    numbers: list[int] = []
    surplus = SurplusValues()
    last_start = yielded = 0
    with closing(_records(path, source, delimiter, first_line)) as records:
        for start, end, record in records:
            last_start = start
            if len(record) > width:
                if any(record[width:]):
                    surplus.add(f"line {start}: {len(record)} fields")
                    continue
                del record[width:]  # trailing delimiters: the surplus cells are all empty
            if surplus:
                continue
            record.extend([""] * (width - len(record)))
            rows.append(record)
            numbers.append(start)
            if len(rows) >= batch_rows:
                yield text_frame(names, list(zip(*rows, strict=True)), numbers)
                rows, numbers = [], []
                yielded += 1
                if max_batches is not None and yielded >= max_batches:
                    return end + 1
    if last_start:
        check_last_record(path, source, delimiter, last_start)
    if surplus:
        raise surplus.error(
            f"{source}: {surplus.count} row(s) have values beyond the header's {width} "
            "columns; nothing was guessed — quote the cells that contain the delimiter, or "
            "name the extra columns in the header"
        )
    if rows:
        yield text_frame(names, list(zip(*rows, strict=True)), numbers)
    return None


def _records(
    path: Path, source: str, delimiter: str, first_line: int
) -> Generator[tuple[int, int, list[str]]]:
    """(start line, end line, cells) of each record with a value, from ``first_line`` on."""
    with _lines_from(path, first_line) as lines:
        reader = csv.reader(lines, delimiter=delimiter, strict=False)
        end = first_line - 1
        while True:
            start = end + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise MalformedFileError(f"{source} line {start}: {_explain(exc)}") from exc
            end = first_line - 1 + reader.line_num
            if any(record):  # a blank line or a row of empty cells carries nothing
                yield start, end, record


def check_last_record(path: Path, source: str, delimiter: str, start_line: int) -> None:
    """Refuse a file whose last record, starting at ``start_line``, ends inside quotes.

    Only the strict reader notices the end of the file inside a quoted cell; the lenient one
    (and polars, on some files) would return the rest of the file as that cell's value.
    """
    _allow_long_cells()
    with _lines_from(path, start_line) as lines:
        reader = csv.reader(lines, delimiter=delimiter, strict=True)
        try:
            for _ in reader:
                pass
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise MalformedFileError(
                    f"{source} line {start_line}: a quoted cell opened in this row is never "
                    "closed (the file ends inside quotes)"
                ) from exc
            if "field larger than field limit" in str(exc):
                raise MalformedFileError(f"{source} line {start_line}: {_explain(exc)}") from exc
            # Other strict-mode complaints (``"ab"c``) are what the lenient reader accepts.
