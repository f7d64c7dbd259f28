"""KoboToolbox / ODK form exports: the CSV reader with Kobo's conventions, or its XLSX export.

What a Kobo export looks like, and what this reader does with it:

* **CSV, ``;`` or ``,``** (Kobo's default is ``;``, so ``;`` is the fallback when sniffing
  finds nothing), usually UTF-8 with a byte-order mark — all handled by :class:`CsvReader`.
* **Column names** are ``group/question`` paths (``incident/type``) with the "XML values and
  headers" export, or the question labels with the "labels" export; both are kept exactly as
  written, because mapping specs refer to them. Labels can repeat (two "Other, specify"), and
  duplicate names are refused with a hint to export XML headers instead.
* **Select-multiple questions** come as one column of space-separated option names
  (``grooming sextortion``; a mapping spec splits it with ``split: " "``) plus one 0/1 column
  per option (``incident/type/grooming``); :func:`select_multiple_options` finds those groups.
* **Metadata** columns (``_uuid``, ``_submission_time``, ``_index``, ``_id``, ``start``,
  ``end``, ``__version__``...) are ordinary text columns, kept as exported.
* **XLSX exports** (a ZIP file) are read by :class:`ExcelReader`: the main table is the first
  sheet, each repeat group a later sheet (pick it with ``sheet``).

ODK Central's CSV exports (``meta-instanceID``, ``-`` as group separator) read the same way.
``__row__`` is the CSV line or the sheet row, as for the underlying reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import polars as pl

from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers.base import DEFAULT_BATCH_ROWS, file_size
from concord.ingest.readers.csv import CsvReader
from concord.ingest.readers.excel import ExcelReader
from concord.ingest.readers.textfile import read_head

_ZIP = b"PK\x03\x04"


class KoboReader(CsvReader):
    """A Kobo/ODK export, CSV or XLSX (see the module docstring)."""

    name: ClassVar[str] = "kobo"
    default_delimiter: ClassVar[str] = ";"
    binary_hint: ClassVar[str] = " (Kobo exports are CSV or XLSX)"
    duplicate_hint: ClassVar[str] = (
        "; a Kobo export 'with labels' can repeat a label: export again with "
        "'XML values and headers'"
    )

    def columns(self, path: Path, options: ReaderOptions) -> list[str]:
        if _is_workbook(path):
            return ExcelReader().columns(path, options)
        return super().columns(path, options)

    def batches(
        self, path: Path, options: ReaderOptions, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pl.DataFrame]:
        if _is_workbook(path):
            return ExcelReader().batches(path, options, batch_rows=batch_rows)
        return super().batches(path, options, batch_rows=batch_rows)


def _is_workbook(path: Path) -> bool:
    file_size(path)
    return read_head(path, len(_ZIP)) == _ZIP


def select_multiple_options(names: list[str], separator: str = "/") -> dict[str, list[str]]:
    """Select-multiple questions and their option columns' suffixes, in column order.

    ``["incident/type", "incident/type/grooming", "incident/type/sextortion"]`` →
    ``{"incident/type": ["grooming", "sextortion"]}``: a column is an option column when the
    name without its last segment is itself a column (groups are never columns of their own).
    """
    present = set(names)
    options: dict[str, list[str]] = {}
    for name in names:
        parent, sep, option = name.rpartition(separator)
        if sep and parent in present and option:
            options.setdefault(parent, []).append(option)
    return options
