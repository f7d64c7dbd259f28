"""The reader contract: one partner file in, a stream of all-text polars batches out.

Every reader (CSV, Kobo, Excel, JSON, JSON Lines, and any an outside package registers) yields
the same shape, so that mapping, validation and quarantine never care where a row came from:

* a first column :data:`ROW_COLUMN` (``__row__``, Int64) — where a data steward finds the row in
  the file: the physical line for text formats, the sheet row for spreadsheets, the 1-based item
  for a JSON array (each reader's docstring says which);
* then the file's own column names, in file order, every one ``pl.String``; an empty cell is
  null and whitespace is kept exactly (trimming is the mapping layer's decision, not ours).

Why strings only: a reader that guesses types ("007" → 7, "1/2" → a date) destroys what the
partner wrote before anyone can see it. Parsing is the mapping spec's job, with its formats.

Why ``__row__`` travels with the data: a quarantined row must say "line 4,812", never "row 17 of
batch 3" — the steward fixes the file, not our batches.

Built-ins are registered the way a plug-in would be (STYLE.md point 1): :func:`default_readers`
builds a :class:`ReaderRegistry` explicitly; nothing registers itself at import time.
"""

from __future__ import annotations

import math
import re
import stat
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import polars as pl

from concord.errors import ConfigurationError, InputError, MalformedFileError, UnreadableFileError
from concord.ingest.mapping import ReaderOptions

#: The row-locator column every batch starts with.
ROW_COLUMN = "__row__"
#: Its type: signed so that arithmetic (``__row__ - 1``) never wraps around.
ROW_DTYPE = pl.Int64
#: Default rows per batch: ~100k rows × a dozen text columns is tens of MB — large enough for
#: polars to be efficient, small enough that several batches fit in memory at once.
DEFAULT_BATCH_ROWS = 100_000
#: Rows with surplus values named in an error; the rest are counted.
MAX_LISTED = 20
#: More columns than this is not a case table (an object keyed by id, a transposed export).
MAX_COLUMNS = 10_000

#: Floats up to this are integers exactly, so ``12.0`` can be written ``12`` without loss.
_EXACT_FLOAT_INTS = 2**53

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Reader(ABC):
    """Reads one file format into all-text batches (see the module docstring for the shape).

    Implementers: ``name`` is a stable, unique, lowercase id — it is the ``format`` a mapping
    spec names, so never rename it. Raise only :class:`concord.errors.ConcordError` subclasses
    (translate parser errors with ``raise ... from exc``) and name the file, plus the line, row
    or item where known, in every message.
    """

    name: ClassVar[str]

    @abstractmethod
    def batches(
        self, path: Path, options: ReaderOptions, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pl.DataFrame]:
        """Yield the file's rows in batches of at most ``batch_rows`` rows.

        Must be lazy (a generator) and hold at most a few batches in memory whatever the file's
        size. Every batch has the same columns: ``__row__`` then the file's columns (see
        :func:`text_frame`). Never yield an empty batch; a file with a header and no rows yields
        nothing; an empty (0-byte) file is a MalformedFileError (:func:`file_size`). Rows with
        no value at all (blank lines) are skipped, not yielded. An error
        found part-way (a ragged row near the end of a CSV) is raised after the batches before
        it, so callers that must be all-or-nothing stage the batches before committing.
        """

    @abstractmethod
    def columns(self, path: Path, options: ReaderOptions) -> list[str]:
        """The file's column names in order (without ``__row__``), for previews and spec checks.

        Should read as little as the format allows (the header of a CSV or sheet); formats
        without a header (JSON) say in their docstring what this costs.
        """


class ReaderRegistry:
    """Format name → reader; built explicitly, refusing two readers with one name."""

    def __init__(self, readers: Iterable[Reader] = ()) -> None:
        self._readers: dict[str, Reader] = {}
        for reader in readers:
            self.register(reader)

    def register(self, reader: Reader) -> None:
        name = getattr(type(reader), "name", None)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(
                f"reader {type(reader).__qualname__} needs a lowercase name such as 'csv' "
                f"(got {name!r})"
            )
        if name in self._readers:
            raise ConfigurationError(
                f"two readers are named {name!r}: {type(self._readers[name]).__qualname__} "
                f"and {type(reader).__qualname__}"
            )
        self._readers[name] = reader

    def names(self) -> list[str]:
        return sorted(self._readers)

    def get(self, name: str) -> Reader:
        try:
            return self._readers[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise InputError(f"no reader for format {name!r}; known formats: {known}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._readers

    def open_batches(
        self, path: Path, options: ReaderOptions, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pl.DataFrame]:
        return self.get(options.format).batches(path, options, batch_rows=batch_rows)

    def columns(self, path: Path, options: ReaderOptions) -> list[str]:
        return self.get(options.format).columns(path, options)


def default_readers() -> ReaderRegistry:
    """A fresh registry holding the built-in readers (an app adds plug-ins to its own copy)."""
    from concord.ingest.readers.csv import CsvReader
    from concord.ingest.readers.excel import ExcelReader
    from concord.ingest.readers.json import JsonLinesReader, JsonReader
    from concord.ingest.readers.kobo import KoboReader

    return ReaderRegistry(
        [CsvReader(), KoboReader(), ExcelReader(), JsonReader(), JsonLinesReader()]
    )


def open_batches(
    path: Path,
    options: ReaderOptions,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    registry: ReaderRegistry | None = None,
) -> Iterator[pl.DataFrame]:
    """The batches of ``path`` read by the reader ``options.format`` names."""
    return (registry or default_readers()).open_batches(path, options, batch_rows=batch_rows)


# --- helpers shared by the readers -------------------------------------------------------------


def check_batch_rows(batch_rows: int) -> None:
    if batch_rows < 1:
        raise ConfigurationError(f"batch_rows must be at least 1, not {batch_rows}")


def file_size(path: Path) -> int:
    """The size of a readable regular file; missing, directory, unreadable → UnreadableFileError.

    An empty file is refused here, by every reader: it has no header and no records, and is
    almost always a failed export or upload rather than "nothing to report".
    """
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise UnreadableFileError(f"{path}: no such file") from exc
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise UnreadableFileError(f"{path}: is a directory, not a data file")
    if not stat.S_ISREG(info.st_mode):  # a pipe or device would block or never end
        raise UnreadableFileError(f"{path}: is not a regular file")
    size = info.st_size
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise MalformedFileError(f"{path}: is empty (0 bytes): no header and no records")
    return size


def column_names(
    raw: Sequence[str | None], *, source: str, where: str = "header", hint: str = ""
) -> list[str]:
    """Checked column names: a blank name becomes ``column_N``; duplicates are refused.

    Why blank names are named, not refused: spreadsheets often end the header with a stray
    delimiter (``a;b;c;``); the position is what a steward sees. Why duplicates are refused:
    a mapping spec picks a column by name, so two "Date" columns would silently pick one.
    ``hint`` is appended to the error (a format-specific way out).
    """
    names = [
        name if name is not None and name.strip() else f"column_{i}"
        for i, name in enumerate(raw, start=1)
    ]
    if len(names) > MAX_COLUMNS:
        raise MalformedFileError(
            f"{source}: the {where} has {len(names):,} columns; more than {MAX_COLUMNS:,} is "
            "not a table of records"
        )
    problems: list[str] = []
    if ROW_COLUMN in names:
        problems.append(f"column {ROW_COLUMN!r} is reserved for Concord's row numbers")
    for name, count in Counter(names).items():
        if count > 1:
            positions = [str(i) for i, n in enumerate(names, start=1) if n == name]
            problems.append(
                f"column {name!r} appears {count} times (columns {', '.join(positions)})"
            )
    if problems:
        raise MalformedFileError(
            f"{source}: the {where} has {len(problems)} problem(s); every column needs its own "
            f"name so that a mapping spec can refer to it{hint}",
            details=problems,
        )
    return names


class SurplusValues:
    """Rows with values beyond the header's last column, for one error listing them all.

    Why one error for all: a steward fixing the quoting wants every line at once, exactly as
    ``concord vocab check`` lists every problem (the first :data:`MAX_LISTED` are named).
    """

    def __init__(self) -> None:
        self.count = 0
        self.listed: list[str] = []

    def __bool__(self) -> bool:
        return self.count > 0

    def add(self, where: str) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(where)

    def error(self, message: str) -> MalformedFileError:
        more = [f"... and {self.count - len(self.listed)} more"] if self.count > MAX_LISTED else []
        return MalformedFileError(message, details=self.listed + more)


def number_text(value: float) -> str:
    """``12.0`` → ``"12"``; otherwise the shortest text that reads back as the same number.

    Why: spreadsheets and JSON producers store counts and ages as floats, and ``"12.0"`` would
    fail a mapping spec's integer rule or age-band lookup that ``"12"`` passes.
    """
    if isinstance(value, int):
        return str(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < _EXACT_FLOAT_INTS:
        return str(int(value))
    return repr(value)


def empty_to_null(names: Iterable[str]) -> list[pl.Expr]:
    """Expressions turning ``""`` into null in each text column (the "empty cell" rule)."""
    return [
        pl.when(pl.col(n).str.len_bytes() == 0).then(None).otherwise(pl.col(n)).alias(n)
        for n in names
    ]


def text_frame(
    names: Sequence[str], columns: Sequence[Sequence[str | None]], rows: Sequence[int]
) -> pl.DataFrame:
    """A batch from Python lists: ``__row__`` then each column as text, ``""`` as null.

    For readers that parse in Python (spreadsheets, JSON, CSV's tolerant path); the fast CSV
    path builds its batches in polars directly.
    """
    data: dict[str, pl.Series] = {ROW_COLUMN: pl.Series(ROW_COLUMN, rows, dtype=ROW_DTYPE)}
    for name, values in zip(names, columns, strict=True):
        data[name] = pl.Series(name, values, dtype=pl.String)
    return pl.DataFrame(data).with_columns(empty_to_null(names))
