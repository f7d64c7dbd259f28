"""Where each cell of a CSV/TSV text lies, so the term linter can say "header, column X".

Why not the ``csv`` module: it yields cell values, not their offsets in the text, and the
linter needs offsets to report columns and to fix a cell in place. The tokenizer below follows
RFC 4180 (quoted cells, doubled quotes, line breaks inside quotes) and, like ``csv``, is lenient
with stray quotes instead of refusing the file. The first row is taken to be the header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

#: The delimiters a ``.csv`` file may use (semicolons are common where "," is the decimal mark).
CSV_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 32 * 1024
_QUOTED = re.compile(r'"(?:[^"]|"")*"')


@dataclass(frozen=True)
class TableCell:
    """A cell's place in a table: the header or a data row (1 = first row after the header)."""

    part: Literal["header", "cell"]
    column: int  # 1-based
    column_name: str | None
    row: int | None = None

    def describe(self) -> str:
        name = f"column {self.column_name!r}" if self.column_name else f"column {self.column}"
        return f"header, {name}" if self.part == "header" else f"row {self.row}, {name}"


@dataclass
class Cells:
    """Offsets of every cell, in order, as parallel lists (a big file has millions of cells)."""

    header: list[str] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    records: list[int] = field(default_factory=list)
    columns: list[int] = field(default_factory=list)
    quoted: list[bool] = field(default_factory=list)

    def location(self, index: int) -> TableCell:
        record, column = self.records[index], self.columns[index]
        name = self.header[column] if column < len(self.header) else None
        if record == 0:
            return TableCell("header", column + 1, name)
        return TableCell("cell", column + 1, name, row=record)


def delimiter_for(text: str, suffix: str) -> str:
    """Tab for ``.tsv``; for ``.csv`` the candidate that occurs most in the header row.

    Why the header and not ``csv.Sniffer``: the sniffer wants every sampled row to agree and
    gives up on real files with a ragged row; a header row is short, written by hand, and
    almost never contains its own delimiter inside quotes.
    """
    if suffix == ".tsv":
        return "\t"
    header = _QUOTED.sub("", text[:_SNIFF_CHARS]).split("\n", 1)[0]
    counts = {d: header.count(d) for d in CSV_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])  # ties: the first listed, a comma
    return best if counts[best] else ","


def cells_of(text: str, delimiter: str) -> Cells:
    """Every cell of ``text`` with its offsets (quotes included), record and column."""
    d = re.escape(delimiter)
    cell = rf'"(?:[^"]+|"")*(?:"|\Z)[^{d}\r\n]*|[^{d}\r\n]*'
    pattern = re.compile(rf"({cell})({d}|\r\n|\n|\r|\Z)")
    cells = Cells()
    pos = record = column = 0
    while True:
        match = pattern.match(text, pos)
        if match is None:  # cannot happen (every branch may match empty); stop rather than spin
            break
        value, separator = match.group(1), match.group(2)
        cells.starts.append(match.start(1))
        cells.ends.append(match.end(1))
        cells.records.append(record)
        cells.columns.append(column)
        cells.quoted.append(value.startswith('"'))
        if record == 0:
            cells.header.append(_unquote(value))
        if not separator:
            break
        pos = match.end()
        if separator == delimiter:
            column += 1
        else:
            record, column = record + 1, 0
    return cells


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('""', '"')
    return value
