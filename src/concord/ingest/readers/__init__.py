"""Readers: partner files (CSV, Kobo/ODK, Excel, JSON, JSON Lines) → all-text polars batches.

Every reader yields batches whose first column is ``__row__`` (where a steward finds the row in
the file) followed by the file's own columns as text; see :mod:`.base` for the contract and each
reader's module for its format's rules. Choose a reader with a :class:`ReaderRegistry` (the app
builds one with :func:`default_readers` and may register plug-ins) or :func:`open_batches`.
"""

from concord.ingest.readers.base import (
    DEFAULT_BATCH_ROWS,
    ROW_COLUMN,
    ROW_DTYPE,
    Reader,
    ReaderRegistry,
    default_readers,
    open_batches,
)
from concord.ingest.readers.csv import CsvReader, sniff_delimiter
from concord.ingest.readers.excel import ExcelReader
from concord.ingest.readers.json import JsonLinesReader, JsonReader
from concord.ingest.readers.kobo import KoboReader, select_multiple_options

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "ROW_COLUMN",
    "ROW_DTYPE",
    "CsvReader",
    "ExcelReader",
    "JsonLinesReader",
    "JsonReader",
    "KoboReader",
    "Reader",
    "ReaderRegistry",
    "default_readers",
    "open_batches",
    "select_multiple_options",
    "sniff_delimiter",
]
