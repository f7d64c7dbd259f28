"""Streaming JSON text: the items of a top-level array, and the lines of JSON Lines.

Why not ``json.load``: it holds the whole file. Why not ``ijson``: its errors carry no line or
column, and a data steward needs both. The array is parsed with the standard library's C
scanner (``JSONDecoder.raw_decode``) one item at a time over a sliding buffer of 1 MiB chunks,
so memory is bounded by the largest item and every error points at its line and column.

With a key path (the reader option ``records: results`` or ``data.items``), the array is found
inside objects the same way: each enclosing object is scanned member by member, the values of
other keys are parsed one at a time and dropped (each bounded like an item), the scanner
descends into the named key and reads its array item by item, then checks the rest of each
enclosing object. KoboToolbox's API export ``{"count": 3, "next": null, "results": [...]}``
is read this way without holding more than one record.
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
#: Keys named in the error for a key path that is not there (a record object has a few dozen).
MAX_KEYS_LISTED = 20
_SPACE = re.compile(r"[ \t\n\r]*")
_KINDS = {"{": "an object", "[": "an array", '"': "a string", "t": "true/false", "f": "true/false"}


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
    """Items of a JSON array (top-level or at a key path), parsed one at a time from a buffer."""

    def __init__(self, chunks: Iterator[str], source: str, path: tuple[str, ...] = ()) -> None:
        self.chunks = chunks
        self.source = source
        self.path = path  # the keys leading to the array; () for a top-level array
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
        if self.path:
            self._descend()
        elif first != "[":
            what = "an object" if first == "{" else f"{first!r}"
            hint = (
                "; records under a key, such as KoboToolbox's API export "
                '{"results": [...]}, are read with the reader option records: results'
                if first == "{"
                else ""
            )
            raise self._error(
                self.pos,
                f"the file starts with {what}; Concord's JSON format is an array of record "
                f"objects [{{...}}, {{...}}] (one object per line is format 'jsonl'){hint}",
            )
        yield from self._array()
        for _ in self.path:  # the rest of each enclosing object, innermost first
            while self._key(first=False) is not None:
                self._skip_value()
        if self._peek() != "":
            end = "object's closing '}'" if self.path else "array's closing ']'"
            raise self._error(self.pos, f"unexpected data after the {end}")

    def _array(self) -> Iterator[tuple[int, Any]]:
        """The items of the array that starts at the next character."""
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

    def _descend(self) -> None:
        """Move to the array at ``self.path``, parsing and dropping the values of other keys."""
        dotted = ".".join(self.path)
        for depth, wanted in enumerate(self.path):
            here = f"{'.'.join(self.path[:depth])!r}" if depth else "the top level"
            found = self._peek()
            if found != "{":
                raise self._error(
                    self.pos, f"records {dotted!r}: {here} is {_kind(found)}, not an object"
                )
            self.pos += 1
            keys: list[str] = []
            while (key := self._key(first=not keys)) != wanted:
                if key is None:
                    listed = ", ".join(repr(k) for k in keys[:MAX_KEYS_LISTED]) or "none"
                    more = (
                        f" and {len(keys) - MAX_KEYS_LISTED} more"
                        if len(keys) > MAX_KEYS_LISTED
                        else ""
                    )
                    raise MalformedFileError(
                        f"{self.source}: records {dotted!r}: {here} has no key {wanted!r} "
                        f"(keys found: {listed}{more})"
                    )
                keys.append(key)
                self._skip_value()
        found = self._peek()
        if found != "[":
            raise self._error(
                self.pos,
                f"records {dotted!r} is {_kind(found)}, not an array of record objects",
            )

    def _skip_value(self) -> None:
        """Parse and drop the value of a key off the path (bounded like an item)."""
        self._peek()  # raw_decode does not skip the white space before a value
        self._value()

    def _key(self, *, first: bool) -> str | None:
        """The next member's key, consuming it and its ':'; None at the object's '}'.

        ``first``: no member has been read yet, so no ',' comes before this one.
        """
        found = self._peek()
        if found == "}":
            self.pos += 1
            return None
        if not first:
            self.pos += 1
            if found != ",":
                self._unexpected(found, "',' or '}' after an object's member", "object")
            found = self._peek()
        if found != '"':
            self.pos += 1
            self._unexpected(found, "a key in double quotes", "object")
        key = self._value()
        found = self._peek()
        self.pos += 1
        if found != ":":
            self._unexpected(found, "':' after a key", "object")
        return str(key)

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

    def _unexpected(self, found: str, expected: str, what: str = "array") -> None:
        if found == "":
            raise MalformedFileError(
                f"{self.source}: the file ends before the {what} is closed (cut off?)"
            )
        raise self._error(self.pos - 1, f"expected {expected}, found {found!r}")


def _kind(first: str) -> str:
    """What a JSON value is, in words, from its first character ("" at the end of the file)."""
    if first == "":
        return "missing (the file ends)"
    if first in _KINDS:
        return _KINDS[first]
    if first == "n":
        return "null"
    return "a number" if first in "-0123456789" else f"{first!r} (not JSON)"
