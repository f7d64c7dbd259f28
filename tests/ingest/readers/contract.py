"""The contract every reader keeps (STYLE.md point 4): each reader's tests subclass this.

A subclass says how to write the shared logical table in its format (``write``), where its rows
are (``row_numbers``) and what a header-only file is; the tests here then check the same
promises for every format: same content, text columns, ``__row__`` first, batching does not
change the result, laziness, and hostile input only ever raises a ConcordError naming the file.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from concord.errors import ConcordError, ConfigurationError, MalformedFileError, UnreadableFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers import ROW_COLUMN, ROW_DTYPE, Reader, default_readers

Row = Sequence[str | None]

HEADER = ["case_id", "incident/type", "narrative", "age", "country"]
#: Quotes, delimiters, a line break, accents, a leading zero, white space and empty cells.
ROWS: list[list[str | None]] = [
    [
        "C-001",
        "grooming sextortion",
        'Contacted via chat, asked for "photos"; reported',
        "14",
        "FR",
    ],
    ["C-002", "csam", "Line one\nLine two", None, "ES"],
    ["C-003", None, "Déjà signalé — niña, São Paulo | ok", "007", "BR"],
    ["C-004", "grooming", "  padded  ", "12", None],
]

_counter = itertools.count()
hostile = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Random bytes (mostly refused as binary) and random text made of the characters that steer
#: CSV and JSON parsers (so that the parsers themselves meet garbage).
garbage = st.one_of(
    st.binary(min_size=1, max_size=3000),
    st.text(st.sampled_from(list(',;|\t\n\r"{}[]:0e-. aé\\')), min_size=1, max_size=400).map(
        str.encode
    ),
)


def many_rows(count: int) -> list[list[str | None]]:
    return [[f"C-{i:05d}", "grooming", f"note {i}", str(i % 18), "FR"] for i in range(count)]


def read_all(
    reader: Reader, path: Path, options: ReaderOptions, batch_rows: int = 100_000
) -> pl.DataFrame | None:
    """All batches concatenated, or None when there were none."""
    frames = list(reader.batches(path, options, batch_rows=batch_rows))
    return pl.concat(frames) if frames else None


def expected_frame(header: list[str], rows: Sequence[Row]) -> pl.DataFrame:
    return pl.DataFrame(
        {name: [row[i] or None for row in rows] for i, name in enumerate(header)},
        schema=dict.fromkeys(header, pl.String),
    )


def assert_names_file(exc: BaseException, path: Path) -> None:
    assert isinstance(exc, ConcordError), f"{type(exc).__name__}: {exc}"
    assert str(path) in str(exc), str(exc)


class ReaderContract:
    """Subclass with ``reader``, ``options``, ``suffix`` and ``write``; name it ``Test...``."""

    reader: ClassVar[Reader]
    options: ClassVar[ReaderOptions]
    suffix: ClassVar[str]

    def write(self, path: Path, header: list[str], rows: Sequence[Row]) -> None:
        raise NotImplementedError

    def row_numbers(self, rows: Sequence[Row]) -> list[int]:
        """``__row__`` of each row as written by :meth:`write` (default: line/row 2, 3, ...)."""
        return list(range(2, len(rows) + 2))

    def header_only_columns(self) -> list[str]:
        return HEADER

    # --- helpers ------------------------------------------------------------------------------

    def path(self, tmp_path: Path, stem: str = "data") -> Path:
        return tmp_path / f"{stem}-{next(_counter)}{self.suffix}"

    def written(self, tmp_path: Path, rows: Sequence[Row] = ROWS) -> Path:
        path = self.path(tmp_path)
        self.write(path, HEADER, rows)
        return path

    def survives(self, path: Path) -> None:
        """Reading either works (all-text batches) or raises a ConcordError naming the file."""
        try:
            self.reader.columns(path, self.options)
            for batch in self.reader.batches(path, self.options, batch_rows=3):
                assert batch.columns[0] == ROW_COLUMN
                assert batch.schema[ROW_COLUMN] == ROW_DTYPE
                assert all(dtype == pl.String for dtype in list(batch.schema.values())[1:])
        except Exception as exc:
            assert_names_file(exc, path)

    # --- the contract -------------------------------------------------------------------------

    def test_is_a_default_reader_with_a_lowercase_name(self) -> None:
        assert self.reader.name == self.reader.name.lower()
        assert type(default_readers().get(self.reader.name)) is type(self.reader)

    def test_reads_the_shared_table(self, tmp_path: Path) -> None:
        frame = read_all(self.reader, self.written(tmp_path), self.options)
        assert frame is not None
        assert frame.drop(ROW_COLUMN).equals(expected_frame(HEADER, ROWS))

    def test_row_column_first_and_every_column_text(self, tmp_path: Path) -> None:
        frame = read_all(self.reader, self.written(tmp_path), self.options)
        assert frame is not None
        assert frame.columns == [ROW_COLUMN, *HEADER]
        assert frame.schema[ROW_COLUMN] == ROW_DTYPE
        assert all(frame.schema[name] == pl.String for name in HEADER)

    def test_row_numbers_point_into_the_file(self, tmp_path: Path) -> None:
        frame = read_all(self.reader, self.written(tmp_path), self.options)
        assert frame is not None
        assert frame[ROW_COLUMN].to_list() == self.row_numbers(ROWS)

    @pytest.mark.parametrize("batch_rows", [1, 2, 3])
    def test_batch_size_does_not_change_the_result(self, tmp_path: Path, batch_rows: int) -> None:
        path = self.written(tmp_path)
        whole = read_all(self.reader, path, self.options)
        batches = list(self.reader.batches(path, self.options, batch_rows=batch_rows))
        assert all(0 < b.height <= batch_rows for b in batches)
        assert whole is not None
        assert pl.concat(batches).equals(whole)

    def test_batches_are_lazy(self, tmp_path: Path) -> None:
        rows = many_rows(250)
        path = self.written(tmp_path, rows)
        batches = self.reader.batches(path, self.options, batch_rows=60)
        assert isinstance(batches, Iterator)
        first = next(batches)
        assert first.height == 60
        rest = list(batches)
        assert len(rest) >= 4
        assert sum(b.height for b in rest) + 60 == 250
        assert pl.concat([first, *rest])[ROW_COLUMN].to_list() == self.row_numbers(rows)

    def test_columns_are_the_batches_columns(self, tmp_path: Path) -> None:
        path = self.written(tmp_path)
        assert self.reader.columns(path, self.options) == HEADER

    def test_empty_file_is_refused(self, tmp_path: Path) -> None:
        path = self.path(tmp_path)
        path.write_bytes(b"")
        with pytest.raises(MalformedFileError) as caught:
            list(self.reader.batches(path, self.options))
        assert_names_file(caught.value, path)
        with pytest.raises(MalformedFileError):
            self.reader.columns(path, self.options)

    def test_header_only_file_has_no_rows(self, tmp_path: Path) -> None:
        path = self.path(tmp_path)
        self.write(path, HEADER, [])
        assert list(self.reader.batches(path, self.options)) == []
        assert self.reader.columns(path, self.options) == self.header_only_columns()

    def test_missing_file_and_directory_are_unreadable(self, tmp_path: Path) -> None:
        for path in (tmp_path / f"missing{self.suffix}", tmp_path):
            with pytest.raises(UnreadableFileError) as caught:
                list(self.reader.batches(path, self.options))
            assert_names_file(caught.value, path)

    def test_batch_rows_must_be_positive(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError):
            list(self.reader.batches(self.written(tmp_path), self.options, batch_rows=0))

    @pytest.mark.parametrize(
        "content",
        [
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00garbage",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
            bytes(range(256)) * 8,
        ],
        ids=["png", "zip", "pdf", "all-bytes"],
    )
    def test_binary_content_is_refused(self, tmp_path: Path, content: bytes) -> None:
        path = self.path(tmp_path)
        path.write_bytes(content)
        with pytest.raises(ConcordError) as caught:
            list(self.reader.batches(path, self.options))
        assert_names_file(caught.value, path)

    # The property tests run an inner @given function: a @given *method* shared by several
    # subclasses trips Hypothesis' differing-executors check (one database key, many classes).

    def test_garbage_bytes_never_escape_as_a_raw_error(self, tmp_path: Path) -> None:
        @hostile
        @given(content=garbage)
        def check(content: bytes) -> None:
            path = self.path(tmp_path, "garbage")
            path.write_bytes(content)
            self.survives(path)

        check()

    def test_truncated_file_never_escapes_as_a_raw_error(self, tmp_path: Path) -> None:
        source = self.written(tmp_path, many_rows(20) + ROWS)
        content = source.read_bytes()

        @hostile
        @given(cut=st.integers(min_value=1, max_value=len(content)))
        def check(cut: int) -> None:
            path = self.path(tmp_path, "cut")
            path.write_bytes(content[:cut])
            self.survives(path)

        check()
