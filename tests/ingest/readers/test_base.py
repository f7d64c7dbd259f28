"""The reader registry and the helpers every reader shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, get_args

import polars as pl
import pytest

from concord.errors import ConfigurationError, InputError, MalformedFileError, UnreadableFileError
from concord.ingest.mapping import ReaderFormat, ReaderOptions
from concord.ingest.readers import (
    ROW_COLUMN,
    CsvReader,
    Reader,
    ReaderRegistry,
    default_readers,
    open_batches,
)
from concord.ingest.readers.base import column_names, file_size, number_text, text_frame


class TsvReader(Reader):
    """A plug-in as an outside package would write one."""

    name: ClassVar[str] = "tsv"

    def batches(
        self, path: Path, options: ReaderOptions, *, batch_rows: int = 100_000
    ) -> Iterator[pl.DataFrame]:
        yield text_frame(["a"], [["x"]], [2])

    def columns(self, path: Path, options: ReaderOptions) -> list[str]:
        return ["a"]


class Nameless(TsvReader):
    name: ClassVar[str] = "Not A Name"


def test_every_format_a_spec_can_name_has_a_default_reader() -> None:
    assert default_readers().names() == sorted(get_args(ReaderFormat))


def test_default_readers_is_a_fresh_registry_each_time() -> None:
    mine = default_readers()
    mine.register(TsvReader())
    assert "tsv" in mine
    assert "tsv" not in default_readers()


def test_duplicate_and_bad_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="two readers are named 'csv'"):
        ReaderRegistry([CsvReader(), CsvReader()])
    with pytest.raises(ConfigurationError, match="lowercase name"):
        ReaderRegistry([Nameless()])


def test_an_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="known formats: csv, json, jsonl, kobo, xlsx"):
        default_readers().get("parquet")


def test_open_batches_dispatches_on_the_format(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    batches = list(open_batches(path, ReaderOptions(format="csv")))
    assert batches[0].rows() == [(2, "1", "2")]
    registry = ReaderRegistry([TsvReader()])
    options = ReaderOptions.model_construct(format="tsv")  # type: ignore[arg-type]
    assert next(registry.open_batches(path, options)).rows() == [(2, "x")]
    assert registry.columns(path, options) == ["a"]


def test_column_names() -> None:
    assert column_names(["a", "", None, " "], source="f") == [
        "a",
        "column_2",
        "column_3",
        "column_4",
    ]
    with pytest.raises(MalformedFileError) as caught:
        column_names(["a", "b", "a", ROW_COLUMN], source="f.csv", hint="; try again")
    assert str(caught.value).startswith("f.csv: the header has 2 problem(s)")
    assert "try again" in str(caught.value)
    with pytest.raises(MalformedFileError, match="not a table"):
        column_names([f"c{i}" for i in range(10_001)], source="f")


def test_number_text() -> None:
    assert [number_text(v) for v in (3, 3.0, -0.0, 2.5, 1e-7, 2.0**60, float("nan"))] == [
        "3",
        "3",
        "0",
        "2.5",
        "1e-07",
        "1.152921504606847e+18",
        "nan",
    ]


def test_text_frame_turns_empty_strings_into_nulls() -> None:
    frame = text_frame(["a", "b"], [["", " "], [None, "x"]], [5, 7])
    assert frame.schema == pl.Schema({ROW_COLUMN: pl.Int64, "a": pl.String, "b": pl.String})
    assert frame.rows() == [(5, None, None), (7, " ", "x")]


def test_file_size_refusals(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(MalformedFileError, match="is empty"):
        file_size(empty)
    with pytest.raises(UnreadableFileError, match="no such file"):
        file_size(tmp_path / "nope.csv")
    with pytest.raises(UnreadableFileError, match="is a directory"):
        file_size(tmp_path)
