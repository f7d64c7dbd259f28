"""Streaming JSON text: the items of a top-level array, and the lines of JSON Lines.

Why not ``json.load``: it holds the whole file. Why not ``ijson``: its errors carry no line or
column, and a data steward needs both. The array is parsed with the standard library's C
scanner (``JSONDecoder.raw_decode``) one item at a time over a sliding buffer of 1 MiB chunks,
so memory is bounded by the largest item and every error points at its line and column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from concord.errors import MalformedFileError
from concord.ingest.readers.textfile import MAX_LINE_BYTES

#: The largest single item of a JSON array (a case record is a few KiB).
MAX_ITEM_CHARS = 16 * 1024 * 1024
_SPACE = re.compile(r"[ \t\n\r]*")


def why(exc: BaseException) -> str:
    """A parser failure other than a syntax error, in words."""
    if isinstance(exc, RecursionError):
        return "arrays or objects nest too deeply"
    return str(exc)  # e.g. an integer with more digits than Python converts


def text_lines(chunks: Iterator[str], source: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, line) of decoded text, refusing a line over 8 Mi characters."""
    rest = ""
    number = 0
    for chunk in chunks:
        parts = (rest + chunk).split("\n")
        rest = parts.pop()
        for part in parts:
            number += 1
            yield number, part
        if len(rest) > MAX_LINE_BYTES:
            raise MalformedFileError(
                f"{source}: line {number + 1} is longer than {MAX_LINE_BYTES // 1024**2} Mi "
                "characters; a JSON Lines record is never that long"
            )
    if rest:
        yield number + 1, rest


class ArrayScanner:
    """Items of a top-level JSON array, parsed one at a time from a sliding text buffer."""

    def __init__(self, chunks: Iterator[str], source: str) -> None:
        self.chunks = chunks
        self.source = source
        self.decoder = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.line = 1  # the line of buf[0]
        self.column = 0  # characters before buf[0] on its line
        self.start = 0  # where the last item starts in buf
        self.eof = False

    def items(self) -> Iterator[tuple[int, Any]]:
        """(item number, value) for each item, checking the punctuation between them.

        :meth:`where_item` says where the item just yielded starts (computed only on demand:
        counting lines for every item would make a minified file quadratic).
        """
        first = self._peek()
        if first == "":
            raise MalformedFileError(f"{self.source}: is empty (only white space)")
        if first != "[":
            what = "an object" if first == "{" else f"{first!r}"
            raise self._error(
                self.pos,
                f"the file starts with {what}; Concord's JSON format is an array of record "
                "objects [{...}, {...}] (one object per line is format 'jsonl')",
            )
        self.pos += 1
        number = 0
        if self._peek() == "]":
            self.pos += 1
        else:
            while True:
                number += 1
                yield number, self._value()
                separator = self._peek()
                self.pos += 1
                if separator == "]":
                    break
                if separator != ",":
                    self._unexpected(separator, f"',' or ']' after item {number}")
                if self._peek() == "]":
                    raise self._error(self.pos, "a comma before ']' (trailing comma)")
        if self._peek() != "":
            raise self._error(self.pos, "unexpected data after the array's closing ']'")

    def _value(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof and len(self.buf) - self.pos <= MAX_ITEM_CHARS:
                    self._more()  # the item may simply go on in the next chunk
                    continue
                big = "" if self.eof else f" (or the item is over {MAX_ITEM_CHARS:,} characters)"
                raise self._error(exc.pos, exc.msg + big) from exc
            except (ValueError, RecursionError) as exc:
                raise self._error(self.pos, why(exc)) from exc
            if end == len(self.buf) and not self.eof:
                self._more()  # a number cut by the chunk boundary would parse as a shorter one
                continue
            self.start, self.pos = self.pos, end
            return value

    def where_item(self) -> str:
        """ "line L column C" of the item last yielded."""
        return self._where(self.start)

    def _peek(self) -> str:
        """The next character that is not white space ("" at the end), reading as needed."""
        while True:
            match = _SPACE.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _more(self) -> bool:
        """Drop the parsed part of the buffer, append the next chunk; False at the end."""
        newlines = self.buf.count("\n", 0, self.pos)
        self.line += newlines
        if newlines:
            self.column = self.pos - self.buf.rfind("\n", 0, self.pos) - 1
        else:
            self.column += self.pos
        self.buf = self.buf[self.pos :]
        self.pos = 0
        chunk = next(self.chunks, None)
        if chunk is None:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _where(self, pos: int) -> str:
        line = self.line + self.buf.count("\n", 0, pos)
        start = self.buf.rfind("\n", 0, pos)
        column = pos - start if start >= 0 else self.column + pos + 1
        return f"line {line} column {column}"

    def _error(self, pos: int, message: str) -> MalformedFileError:
        return MalformedFileError(f"{self.source} {self._where(pos)}: {message}")

    def _unexpected(self, found: str, expected: str) -> None:
        if found == "":
            raise MalformedFileError(
                f"{self.source}: the file ends before the array is closed (cut off?)"
            )
        raise self._error(self.pos - 1, f"expected {expected}, found {found!r}")
