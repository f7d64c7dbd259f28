"""JsonReader and JsonLinesReader: the contract, flattening, and malformed documents."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest

from concord.errors import MalformedFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers import ROW_COLUMN, JsonLinesReader, JsonReader
from concord.ingest.readers.json import flatten, value_text
from concord.ingest.readers.textfile import CHUNK_BYTES
from tests.ingest.readers.contract import ReaderContract, Row, assert_names_file, read_all


def records(header: list[str], rows: Sequence[Row]) -> list[dict[str, Any]]:
    # Empty cells alternate between null and a missing key; the first record names every
    # field so that the union of fields keeps the header's order.
    out = []
    for n, row in enumerate(rows):
        item: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=True):
            if cell is not None or n == 0 or n % 2:
                item[name] = cell
        out.append(item)
    return out


class TestJsonContract(ReaderContract):
    reader: ClassVar[JsonReader] = JsonReader()
    options = ReaderOptions(format="json")
    suffix = ".json"

    def write(self, path: Path, header: list[str], rows: Sequence[Row]) -> None:
        path.write_text(json.dumps(records(header, rows), indent=2, ensure_ascii=False))

    def row_numbers(self, rows: Sequence[Row]) -> list[int]:
        return list(range(1, len(rows) + 1))

    def header_only_columns(self) -> list[str]:
        return []  # "[]" has no fields to name


class TestJsonLinesContract(ReaderContract):
    reader: ClassVar[JsonLinesReader] = JsonLinesReader()
    options = ReaderOptions(format="jsonl")
    suffix = ".jsonl"

    def write(self, path: Path, header: list[str], rows: Sequence[Row]) -> None:
        lines = [json.dumps(item, ensure_ascii=False) for item in records(header, rows)]
        path.write_text("\n".join(lines) + "\n")

    def row_numbers(self, rows: Sequence[Row]) -> list[int]:
        return list(range(1, len(rows) + 1))

    def header_only_columns(self) -> list[str]:
        return []


def read_json(
    tmp_path: Path, text: str, fmt: str = "json", batch_rows: int = 100_000
) -> pl.DataFrame | None:
    path = tmp_path / f"f.{fmt}"
    path.write_text(text, encoding="utf-8")
    reader = JsonReader() if fmt == "json" else JsonLinesReader()
    return read_all(reader, path, ReaderOptions(format=fmt), batch_rows)


def refused(tmp_path: Path, text: str, fmt: str = "json") -> MalformedFileError:
    path = tmp_path / f"bad.{fmt}"
    path.write_text(text, encoding="utf-8")
    reader = JsonReader() if fmt == "json" else JsonLinesReader()
    options = ReaderOptions(format=fmt)
    with pytest.raises(MalformedFileError) as caught:
        list(reader.batches(path, options))
    with pytest.raises(MalformedFileError):
        reader.columns(path, options)
    assert_names_file(caught.value, path)
    return caught.value


# --- flattening ------------------------------------------------------------------------------


def test_nested_objects_and_lists_are_flattened() -> None:
    item = {
        "id": 7,
        "incident": {"type": ["grooming", "sextortion"], "platform": {"name": "chat"}},
        "age": 12.0,
        "score": 0.25,
        "flag": True,
        "none": None,
        "empty": [],
        "gaps": ["a", None, 3],
        "contacts": [{"kind": "email"}],
        "meta": {},
    }
    assert flatten(item, source="f", where="item 1") == {
        "id": "7",
        "incident/type": "grooming|sextortion",
        "incident/platform/name": "chat",
        "age": "12",
        "score": "0.25",
        "flag": "true",
        "none": None,
        "empty": None,
        "gaps": "a|3",
        "contacts": '[{"kind":"email"}]',
    }


def test_value_text_of_scalars() -> None:
    assert [value_text(v) for v in (None, "", "x", False, 10**30, 1e300)] == [
        None,
        "",
        "x",
        "false",
        str(10**30),
        "1e+300",
    ]


def test_fields_are_the_union_in_order_of_first_appearance(tmp_path: Path) -> None:
    items = [{"a": "1"}, {"b": {"c": "2"}}, *[{"a": str(i)} for i in range(20)], {"z": "late"}]
    frame = read_json(tmp_path, json.dumps(items), batch_rows=5)
    assert frame is not None
    assert frame.columns == [ROW_COLUMN, "a", "b/c", "z"]
    assert frame["z"].to_list()[-1] == "late"
    assert frame[ROW_COLUMN].to_list() == list(range(1, 24))


def test_objects_without_values_are_skipped(tmp_path: Path) -> None:
    frame = read_json(tmp_path, '[{"a": "1"}, {}, {"a": null}, {"a": "2"}]')
    assert frame is not None
    assert frame.rows() == [(1, "1"), (4, "2")]


def test_items_larger_than_a_chunk_and_numbers_cut_by_a_chunk(tmp_path: Path) -> None:
    big = "x" * (CHUNK_BYTES + 10)
    # Pad so that a number straddles the 1 MiB boundary of the second chunk.
    prefix = f'[{{"a": "{big}"}}, {{"a": "pad'
    pad = 2 * CHUNK_BYTES - len(prefix) - len('", "n": 12') + 2
    text = prefix + "p" * pad + '", "n": 123456}]'
    frame = read_json(tmp_path, text)
    assert frame is not None
    assert frame["a"][0] == big
    assert frame["n"].to_list() == [None, "123456"]


# --- malformed documents ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"data": []}', "line 1 column 1: the file starts with an object"),
        ("  \n ", "only white space"),
        ('[{"a": 1},\n {"a": 2,}]', "line 2 column 10: Expecting property name"),
        ('[{"a": 1}, 2]', "item 2 is a number, not an object"),
        ('[{"a": 1},\n  [1]]', "line 2 column 3: item 2 is an array"),
        ('[{"a": 1}, ]', "trailing comma"),
        ('[{"a": 1}] [', "after the array's closing"),
        ('[{"a": 1} {"a": 2}]', "expected ',' or ']' after item 1"),
        ('[{"a": 1}, {"a": ', "Expecting value"),
        ('[{"a": 1}', "ends before the array is closed"),
        ('[{"a": {"b": 1}, "a/b": 2}]', "two fields are both named 'a/b'"),
        ('[{"": 1}]', "empty name"),
        ('[{"__row__": 1}]', "reserved"),
        ("[" * 100_000, "nest too deeply"),
        ('[{"n": ' + "9" * 5000 + "}]", "digits"),
    ],
)
def test_malformed_json_is_refused_with_its_place(tmp_path: Path, text: str, message: str) -> None:
    assert message in str(refused(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1}\n{"a": 2\n', "line 2 column 8: Expecting ',' delimiter"),
        ('{"a": 1}\n\n[1, 2]\n', "line 3: is an array, not an object"),
        ('{"a": 1}\n"text"\n', "line 2: is a string"),
        ('{"a": 1} {"a": 2}\n', "line 1 column 10: Extra data"),
        ("[" * 100_000, "nest too deeply"),
    ],
)
def test_malformed_json_lines_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    assert message in str(refused(tmp_path, text, "jsonl"))


def test_json_lines_skip_blank_lines_and_keep_line_numbers(tmp_path: Path) -> None:
    frame = read_json(tmp_path, '\n{"a": "1"}\r\n  \n{"a": "2", "b": {"c": true}}', "jsonl")
    assert frame is not None
    assert frame.rows() == [(2, "1", None), (4, "2", "true")]


def test_an_enormous_json_line_is_refused(tmp_path: Path) -> None:
    text = '{"a": "' + "x" * (9 * 1024 * 1024) + '"}\n'
    assert "line 1 is longer than 8 Mi" in str(refused(tmp_path, text, "jsonl"))


def test_legacy_and_utf16_encodings(tmp_path: Path) -> None:
    for encoding in ("cp1252", "utf-16"):
        path = tmp_path / f"{encoding}.json"
        path.write_bytes('[{"label": "Pédopornographie — élève"}]'.encode(encoding))
        frame = read_all(JsonReader(), path, ReaderOptions(format="json"))
        assert frame is not None
        assert frame["label"].to_list() == ["Pédopornographie — élève"]


def test_the_whole_file_is_checked_before_the_first_batch(tmp_path: Path) -> None:
    path = tmp_path / "late.json"
    path.write_text(json.dumps([{"a": str(i)} for i in range(50)])[:-1] + ", 5]")
    batches = JsonReader().batches(path, ReaderOptions(format="json"), batch_rows=10)
    with pytest.raises(MalformedFileError, match="item 51 is a number"):
        next(batches)


def test_parsed_batches_wait_on_disk_and_are_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps({"a": str(i), f"k{i // 10}": "x"}) for i in range(45)))
    batches = JsonLinesReader().batches(path, ReaderOptions(format="jsonl"), batch_rows=10)
    first = next(batches)
    assert first.columns == [ROW_COLUMN, "a", "k0", "k1", "k2", "k3", "k4"]
    assert len(list(scratch.iterdir())) == 1  # the folder of parsed batches
    assert sum(b.height for b in batches) == 35
    assert list(scratch.iterdir()) == []


# --- records under a key path ----------------------------------------------------------------


def read_records(tmp_path: Path, text: str, records: str) -> pl.DataFrame | None:
    path = tmp_path / "f.json"
    path.write_text(text, encoding="utf-8")
    options = ReaderOptions(format="json", records=records)
    assert JsonReader().columns(path, options) == ([] if "[]" in text else ["_id", "incident/type"])
    return read_all(JsonReader(), path, options)


def test_records_under_a_key_as_in_a_kobo_api_export(tmp_path: Path) -> None:
    kobo = {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {"_id": 1, "incident": {"type": "grooming"}},
            {"_id": 2, "incident": {"type": "csam"}},
        ],
        "after": {"ignored": [1, 2, {"deep": True}]},
    }
    frame = read_records(tmp_path, json.dumps(kobo, indent=2), "results")
    assert frame is not None
    assert frame.rows() == [(1, "1", "grooming"), (2, "2", "csam")]


def test_records_two_levels_down_across_chunks(tmp_path: Path) -> None:
    # A sibling value larger than a chunk is skipped without disturbing the scan.
    big = "x" * (CHUNK_BYTES + 10)
    text = json.dumps(
        {
            "meta": {"note": big},
            "data": {"total": 1, "items": [{"_id": 7, "incident": {"type": "csam"}}]},
        }
    )
    frame = read_records(tmp_path, text, "data.items")
    assert frame is not None
    assert frame.rows() == [(1, "7", "csam")]
    assert read_records(tmp_path, '{"data": {"items": []}}', "data.items") is None


@pytest.mark.parametrize(
    ("text", "records", "message"),
    [
        (
            '{"count": 0, "next": null}',
            "results",
            r"records 'results': the top level has no key 'results' "
            r"\(keys found: 'count', 'next'\)",
        ),
        (
            '{"data": {"rows": []}}',
            "data.items",
            r"'data' has no key 'items' \(keys found: 'rows'\)",
        ),
        ('{"results": {"a": 1}}', "results", "records 'results' is an object, not an array"),
        ('{"results": null}', "results", "records 'results' is null, not an array"),
        ('{"data": 3}', "data.items", "'data' is a number, not an object"),
        ('[{"a": 1}]', "results", "the top level is an array, not an object"),
        ('{"results": [{"a": 1}]', "results", "ends before the object is closed"),
        ('{"results": [{"a": 1}]} []', "results", "unexpected data after the object's closing"),
        ('{"n": 1 "results": []}', "results", "expected ',' or '}'"),
        ('{"results": [1]}', "results", "item 1 is a number, not an object"),
    ],
)
def test_records_path_problems_are_clear(
    tmp_path: Path, text: str, records: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    options = ReaderOptions(format="json", records=records)
    with pytest.raises(MalformedFileError, match=message) as caught:
        list(JsonReader().batches(path, options))
    with pytest.raises(MalformedFileError, match=message):
        JsonReader().columns(path, options)
    assert_names_file(caught.value, path)


def test_an_object_without_records_suggests_the_option(tmp_path: Path) -> None:
    assert "records: results" in str(refused(tmp_path, '{"count": 1, "results": []}'))
