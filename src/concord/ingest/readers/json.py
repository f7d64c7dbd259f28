"""JSON (an array of objects, at the top or under a key path) and JSON Lines → text batches.

Each object becomes one row:

* **nested objects are flattened** with ``/`` — ``{"incident": {"type": "grooming"}}`` gives the
  column ``incident/type``, the same shape as Kobo's group/question names, so one mapping spec
  style fits both; two fields flattening to one name are refused;
* **lists of scalars are joined with** ``|`` (``["grooming", "sextortion"]`` →
  ``grooming|sextortion``; null elements dropped; a mapping spec splits them with
  ``split: "|"``); a list holding objects or lists is kept as compact JSON text;
* **scalars as text**: strings as written, ``true``/``false``, numbers in their shortest form
  with integral values without ``.0`` (``12.0`` → ``12``), ``null``/``""``/``[]`` → null;
  an empty object adds no column.

``__row__`` is the 1-based item number for JSON (the line would be 1 for every item of a
minified file) and the physical line for JSON Lines. Errors give line and column.

Columns are the union of every item's fields in order of first appearance, and every batch has
all of them. A field may first appear in the last item, so the whole file is parsed — and
checked: malformed JSON, non-object items, clashing names — **before the first batch is
yielded**; the parsed batches wait in a temporary folder (Arrow IPC, deleted when done) rather
than in memory, and come back with the columns the file turned out to have. ``columns()``
therefore costs a full parse here (without the temporary files).

Parsing is streamed (:mod:`.jsontext`): memory is bounded by the largest item, and errors
point at the line and column.
"""

from __future__ import annotations

import json
import tempfile
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from concord.errors import MalformedFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers.base import (
    DEFAULT_BATCH_ROWS,
    MAX_COLUMNS,
    ROW_COLUMN,
    Reader,
    check_batch_rows,
    column_names,
    file_size,
    number_text,
    text_frame,
)
from concord.ingest.readers.jsontext import ArrayScanner, text_lines, why
from concord.ingest.readers.textfile import (
    iter_text,
    read_head,
    refuse_binary,
    resolve_encoding,
)

SEPARATOR = "/"
LIST_JOIN = "|"

Flat = dict[str, str | None]


class _JsonFormat(Reader):
    """Shared by both JSON readers (see the module docstring for the two steps)."""

    @abstractmethod
    def _items(
        self, chunks: Iterator[str], source: str, options: ReaderOptions
    ) -> Iterator[tuple[int, Flat]]:
        """(``__row__``, flattened item) for every object in the text."""

    def columns(self, path: Path, options: ReaderOptions) -> list[str]:
        """The union of the items' fields: a full read of the file (JSON has no header)."""
        source = str(path)
        fields = _Fields(source)
        for number, item in self._items(self._text(path, options, source), source, options):
            fields.note(number, item)
        return fields.names()

    def batches(
        self, path: Path, options: ReaderOptions, *, batch_rows: int = DEFAULT_BATCH_ROWS
    ) -> Iterator[pl.DataFrame]:
        check_batch_rows(batch_rows)
        source = str(path)
        return self._read(self._text(path, options, source), source, options, batch_rows)

    def _read(
        self, text: Iterator[str], source: str, options: ReaderOptions, batch_rows: int
    ) -> Iterator[pl.DataFrame]:
        fields = _Fields(source)
        rows: list[Flat] = []
        numbers: list[int] = []
        with tempfile.TemporaryDirectory(
            prefix="concord-json-", ignore_cleanup_errors=True
        ) as folder:
            spilled: list[Path] = []
            for number, item in self._items(text, source, options):
                fields.note(number, item)
                if not any(item.values()):
                    continue  # an object with no values carries nothing, like a blank CSV line
                rows.append(item)
                numbers.append(number)
                if len(rows) >= batch_rows:
                    spilled.append(Path(folder) / f"{len(spilled)}.arrow")
                    _frame(list(_union(rows)), rows, numbers).write_ipc(spilled[-1])
                    rows, numbers = [], []
            names = fields.names()
            for part in spilled:
                yield _aligned(pl.read_ipc(part), names)
                with suppress(OSError):  # still mapped on some systems: the folder goes anyway
                    part.unlink()
        if rows:
            yield _frame(names, rows, numbers)

    @staticmethod
    def _text(path: Path, options: ReaderOptions, source: str) -> Iterator[str]:
        file_size(path)
        head = read_head(path)
        refuse_binary(head, source)
        # No line limit: a minified JSON array is one long line.
        codec = resolve_encoding(path, options.encoding, head, source, max_line=None)
        return iter_text(path, codec, source)


class _Fields:
    """The union of the items' field names, in order of first appearance, kept in bounds."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen: dict[str, None] = {}

    def note(self, number: int, item: Flat) -> None:
        seen = self.seen
        for name in item:
            if name not in seen:
                seen[name] = None
                if len(seen) > MAX_COLUMNS:
                    raise MalformedFileError(
                        f"{self.source}: item {number} brings the number of distinct fields over "
                        f"{MAX_COLUMNS:,}; is this an object keyed by id rather than a list of "
                        "records?"
                    )

    def names(self) -> list[str]:
        return column_names(list(self.seen), source=self.source, where="set of fields")


class JsonReader(_JsonFormat):
    """A JSON array of objects; ``__row__`` is the item number.

    The array is the whole document, or the value at the key path ``options.records``
    (``results``, ``data.items``) — see :class:`.jsontext.ArrayScanner`.
    """

    name: ClassVar[str] = "json"

    def _items(
        self, chunks: Iterator[str], source: str, options: ReaderOptions
    ) -> Iterator[tuple[int, Flat]]:
        path = tuple(options.records.split(".")) if options.records else ()
        scanner = ArrayScanner(chunks, source, path)
        for number, value in scanner.items():
            if not isinstance(value, dict):
                raise MalformedFileError(
                    f"{source} {scanner.where_item()}: item {number} is {kind(value)}, not an "
                    "object; each item of the array must be one record"
                )
            yield number, flatten(value, source=source, where=f"item {number}")


class JsonLinesReader(_JsonFormat):
    """One JSON object per line (blank lines skipped); ``__row__`` is the line number."""

    name: ClassVar[str] = "jsonl"

    def _items(
        self, chunks: Iterator[str], source: str, options: ReaderOptions
    ) -> Iterator[tuple[int, Flat]]:
        decoder = json.JSONDecoder()
        for number, line in text_lines(chunks, source):
            text = line.strip()
            if not text:
                continue
            try:
                value = decoder.decode(text.removeprefix("\ufeff"))
            except json.JSONDecodeError as exc:
                raise MalformedFileError(
                    f"{source} line {number} column {exc.colno}: {exc.msg}"
                ) from exc
            except (ValueError, RecursionError) as exc:
                raise MalformedFileError(f"{source} line {number}: {why(exc)}") from exc
            if not isinstance(value, dict):
                raise MalformedFileError(
                    f"{source} line {number}: is {kind(value)}, not an object; JSON Lines "
                    "holds one record object per line"
                )
            yield number, flatten(value, source=source, where=f"line {number}")


def flatten(item: dict[str, Any], *, source: str, where: str) -> Flat:
    """One record's fields as text, nested objects joined with ``/``."""
    out: Flat = {}
    try:
        _flatten_into(item, "", out, source, where)
    except RecursionError as exc:
        raise MalformedFileError(f"{source} {where}: objects nest too deeply") from exc
    return out


def _flatten_into(obj: dict[str, Any], prefix: str, out: Flat, source: str, where: str) -> None:
    # The hot loop of JSON reading: exact type checks first, the general case in value_text.
    for key, value in obj.items():
        if not key:
            raise MalformedFileError(f"{source} {where}: a field has an empty name")
        name = prefix + key if prefix else key
        kind_ = type(value)
        if kind_ is dict:
            _flatten_into(value, name + SEPARATOR, out, source, where)
            continue
        if name in out:
            raise MalformedFileError(
                f"{source} {where}: two fields are both named {name!r} once nested objects "
                f"are flattened with {SEPARATOR!r}"
            )
        out[name] = value if kind_ is str or value is None else value_text(value)


def value_text(value: object) -> str | None:
    """A JSON value as cell text (see the module docstring)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, list):
        if any(isinstance(v, dict | list) for v in value):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        parts = [v if type(v) is str else value_text(v) for v in value if v is not None]
        return LIST_JOIN.join(p for p in parts if p is not None) or None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def kind(value: object) -> str:
    """What a JSON value is, in words, for error messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true/false"
    if value is None:
        return "null"
    return "a number"


def _frame(names: list[str], rows: list[Flat], numbers: list[int]) -> pl.DataFrame:
    return text_frame(names, [[row.get(name) for row in rows] for name in names], numbers)


def _union(rows: list[Flat]) -> dict[str, None]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return names


def _aligned(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """A spilled batch with every field of the file, in the file's order (absent ones null)."""
    present = set(frame.columns)
    return frame.select(
        ROW_COLUMN,
        *[pl.col(n) if n in present else pl.lit(None, dtype=pl.String).alias(n) for n in names],
    )
