"""Reading generated exports the way a partner's own tools would: plain readers, declared
encodings, nothing from concord.synth. Every value comes back as text (None for a blank)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import yaml

from concord.synth import OrganisationManifest
from concord.vocab.crosswalk import read_crosswalk
from concord.vocab.crosswalk_check import CrosswalkIndex


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _frame(header: list[str], rows: list[list[Any]]) -> pl.DataFrame:
    data = {
        name: [_text(row[i]) if i < len(row) else None for row in rows]
        for i, name in enumerate(header)
    }
    return pl.DataFrame(data, schema=dict.fromkeys(header, pl.String))


def read_spec(directory: Path, org: OrganisationManifest) -> dict[str, Any]:
    spec = yaml.safe_load((directory / org.mapping).read_text(encoding="utf-8"))
    assert isinstance(spec, dict)
    return spec


def read_export(directory: Path, org: OrganisationManifest) -> tuple[list[str], pl.DataFrame]:
    """(header, rows) of ``org``'s file, read as its mapping spec declares."""
    reader = read_spec(directory, org)["reader"]
    path = directory / org.file
    fmt = reader["format"]
    if fmt in ("csv", "kobo"):
        with path.open(encoding=reader["encoding"], newline="") as handle:
            rows = list(csv.reader(handle, delimiter=reader["delimiter"]))
        return rows[0], _frame(rows[0], rows[1:])
    if fmt == "xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        sheet = book[reader["sheet"]]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        book.close()
        header = [str(h) for h in rows[0]]
        return header, _frame(header, rows[1:])
    text = path.read_text(encoding=reader["encoding"])
    objects = (
        json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    )
    header = list(objects[0]) if objects else []
    if not header:  # an empty file has no keys to tell the columns
        return [], pl.DataFrame()
    for item in objects:
        assert list(item) == header, "every object has the same keys in the same order"
    return header, _frame(header, [[o[k] for k in header] for o in objects])


def crosswalk_index(directory: Path, org: OrganisationManifest) -> CrosswalkIndex:
    return CrosswalkIndex(read_crosswalk(directory / org.crosswalk))


def parts(value: str | None, split: str | None) -> list[str]:
    """The values of one cell (a multi-value cell split on the spec's separator)."""
    if value is None:
        return []
    return value.split(split) if split else [value]
