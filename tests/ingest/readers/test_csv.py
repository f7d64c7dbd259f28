"""CsvReader: the contract, then encodings, layout, ragged rows and hostile files."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, ClassVar, cast

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from concord.errors import InputError, MalformedFileError, UnreadableFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers import ROW_COLUMN, CsvReader, sniff_delimiter
from tests.ingest.readers.contract import (
    HEADER,
    ROWS,
    ReaderContract,
    Row,
    assert_names_file,
    expected_frame,
    hostile,
    read_all,
)

OPTIONS = ReaderOptions(format="csv")


def csv_bytes(
    header: list[str],
    rows: Sequence[Row],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "\n",
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows([[cell or "" for cell in row] for row in rows])
    return out.getvalue().encode(encoding)


def physical_rows(rows: Sequence[Row], first: int = 2) -> list[int]:
    """The line each row starts on when written one record after another."""
    numbers = []
    for row in rows:
        numbers.append(first)
        first += 1 + sum((cell or "").count("\n") for cell in row)
    return numbers


def read(path: Path, batch_rows: int = 100_000, **options: str) -> pl.DataFrame | None:
    return read_all(CsvReader(), path, ReaderOptions(format="csv", **options), batch_rows)


def write(tmp_path: Path, content: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


class TestCsvContract(ReaderContract):
    reader: ClassVar[CsvReader] = CsvReader()
    options = OPTIONS
    suffix = ".csv"

    def write(self, path: Path, header: list[str], rows: Sequence[Row]) -> None:
        path.write_bytes(csv_bytes(header, rows))

    def row_numbers(self, rows: Sequence[Row]) -> list[int]:
        return physical_rows(rows)


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    content = csv_bytes(HEADER, ROWS, encoding=encoding)
    if encoding == "utf-16-be":  # big-endian with its byte-order mark
        content = b"\xfe\xff" + content
    frame = read(write(tmp_path, content))
    assert frame is not None
    assert frame.drop(ROW_COLUMN).equals(expected_frame(HEADER, ROWS))
    assert frame[ROW_COLUMN].to_list() == physical_rows(ROWS)


def test_a_late_accent_in_a_cp1252_file_is_found(tmp_path: Path) -> None:
    rows: list[list[str | None]] = [
        [f"C-{i}", "grooming", "plain ascii", "1", "FR"] for i in range(5000)
    ]
    rows.append(["C-last", "sollicitation", "élève signalée à l'école", "13", "FR"])
    frame = read(write(tmp_path, csv_bytes(HEADER, rows, encoding="cp1252")))
    assert frame is not None
    assert frame["narrative"][-1] == "élève signalée à l'école"
    assert frame[ROW_COLUMN][-1] == 5002


@pytest.mark.parametrize(
    "text", ["Pédopornographie, élève", "niña señalada, acción", "exploração não"]
)
def test_cp1252_is_preferred_for_western_text(tmp_path: Path, text: str) -> None:
    content = csv_bytes(["id", "label"], [["1", text]], delimiter=";", encoding="cp1252")
    frame = read(write(tmp_path, content))
    assert frame is not None
    assert frame["label"].to_list() == [text]


def test_an_explicit_encoding_is_used(tmp_path: Path) -> None:
    content = csv_bytes(["id", "label"], [["1", "Größe"]], encoding="latin-1")
    frame = read(write(tmp_path, content), encoding="latin-1")
    assert frame is not None
    assert frame["label"].to_list() == ["Größe"]


def test_explicit_utf8_on_a_cp1252_file_names_the_line(tmp_path: Path) -> None:
    content = csv_bytes(["id", "label"], [["1", "ok"], ["2", "café"]], encoding="cp1252")
    path = write(tmp_path, content)
    with pytest.raises(UnreadableFileError, match=r"not valid UTF-8 at line 3") as caught:
        read(path, encoding="utf-8")
    assert_names_file(caught.value, path)


def test_an_unknown_encoding_is_an_input_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n1,2\n")
    for name in ("klingon-8", "zlib"):
        with pytest.raises(InputError, match="unknown text encoding"):
            read(path, encoding=name)


def test_temporary_copies_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = write(tmp_path, csv_bytes(HEADER, ROWS * 50, encoding="cp1252"))
    assert read(path, batch_rows=7) is not None
    abandoned = CsvReader().batches(path, OPTIONS, batch_rows=7)
    assert isinstance(abandoned, Generator)
    next(abandoned)
    assert list(scratch.iterdir())  # the UTF-8 copy exists while reading
    abandoned.close()
    assert list(scratch.iterdir()) == []


def test_classic_mac_line_ends(tmp_path: Path) -> None:
    frame = read(write(tmp_path, b"a,b\r1,2\r3,4\r"))
    assert frame is not None
    assert frame.rows() == [(2, "1", "2"), (3, "3", "4")]


# --- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id;amount;note\n1;3,5;a\n2;4,25;b\n", ";"),
        ("id,comment\n1,hello; world\n2,x;y;z\n", ","),
        ("id\tname\n1\tA, B\n", "\t"),
        ("id|name|type\n1|a|b\n", "|"),
        ('"a;b",c,d\n1,2,3\n', ","),
        ("just one column\nvalue\n", None),
    ],
)
def test_delimiter_sniffing(text: str, expected: str | None) -> None:
    assert sniff_delimiter(text) == expected


def test_sniffing_a_quote_storm_is_linear() -> None:
    # csv.Sniffer takes ~30 s on this sample; the reader's sniffer must not.
    assert sniff_delimiter(',"' * 32768) in (None, ",", ";", "\t", "|")


@pytest.mark.parametrize(("name", "char"), [("tab", "\t"), ("\t", "\t"), (";", ";")])
def test_an_explicit_delimiter(tmp_path: Path, name: str, char: str) -> None:
    path = write(tmp_path, csv_bytes(["a", "b"], [["1", "x,y"]], delimiter=char))
    frame = read(path, delimiter=name)
    assert frame is not None
    assert frame.rows() == [(2, "1", "x,y")]


def test_a_bad_explicit_delimiter_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="one character"):
        read(write(tmp_path, b"a,b\n1,2\n"), delimiter=";;")


def test_quoted_cells_crlf_and_blank_lines_keep_physical_line_numbers(tmp_path: Path) -> None:
    content = b'a,b\r\n\r\n1,"x\r\ny, z"\r\n\r\n"",""\r\n2,"say ""hi"""\r\n'
    frame = read(write(tmp_path, content))
    assert frame is not None
    assert frame.rows() == [(3, "1", "x\r\ny, z"), (7, "2", 'say "hi"')]


def test_white_space_is_kept_and_empty_cells_are_null(tmp_path: Path) -> None:
    frame = read(write(tmp_path, b'a,b,c\n " x ",,""\n'))
    assert frame is not None
    assert frame.rows() == [(2, ' " x "', None, None)]


def test_header_problems(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b,a,__row__,b\n1,2,3,4,5\n")
    with pytest.raises(MalformedFileError) as caught:
        read(path)
    assert_names_file(caught.value, path)
    assert "column 'a' appears 2 times (columns 1, 3)" in str(caught.value)
    assert "reserved" in str(caught.value)


def test_blank_header_names_are_numbered(tmp_path: Path) -> None:
    path = write(tmp_path, b"a;;c;\n1;2;3;\n")
    assert CsvReader().columns(path, OPTIONS) == ["a", "column_2", "c", "column_4"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\n\n  \n", "no header row"),
        (b'a,"b\n1,2\n', "header row cannot be read"),
    ],
)
def test_files_without_a_usable_header(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(MalformedFileError, match=message) as caught:
        read(path)
    assert_names_file(caught.value, path)


# --- ragged rows and quotes ------------------------------------------------------------------


def test_short_rows_are_padded_and_empty_surplus_is_dropped(tmp_path: Path) -> None:
    frame = read(write(tmp_path, b"a,b,c\n1\n2,x,y,,\n3,4\n"))
    assert frame is not None
    assert frame.rows() == [(2, "1", None, None), (3, "2", "x", "y"), (4, "3", "4", None)]


def test_rows_with_surplus_values_are_all_listed(tmp_path: Path) -> None:
    good = b"".join(b"%d,x,y\n" % i for i in range(300))
    content = b"a,b,c\n" + good + b"1,Paris, France,z\n" + good + b"2,a,b,c,d\n"
    path = write(tmp_path, content)
    delivered: list[pl.DataFrame] = []
    with pytest.raises(MalformedFileError) as caught:
        delivered.extend(CsvReader().batches(path, OPTIONS, batch_rows=100))
    assert_names_file(caught.value, path)
    assert caught.value.details == ["line 302: 4 fields", "line 603: 5 fields"]
    assert all(max(b[ROW_COLUMN].to_list()) < 302 for b in delivered)  # nothing after the first


def test_stray_quotes_are_read_with_the_same_line_numbers(tmp_path: Path) -> None:
    rows = [[str(i), f"note\n{i}", "x"] for i in range(50)]
    content = csv_bytes(["a", "b", "c"], rows) + b'50,5" screen,x\n51,"ok",y\n'
    frame = read(write(tmp_path, content), batch_rows=8)
    assert frame is not None
    assert frame[ROW_COLUMN].to_list() == [*physical_rows(rows), 102, 103]
    assert frame["b"].to_list()[-2:] == ['5" screen', "ok"]


@pytest.mark.parametrize("every", [0, 7])
def test_polars_takes_over_again_after_a_stray_quote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    from concord.ingest.readers.csvtolerant import tolerant_batches as original

    tolerant_rows: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> Generator[pl.DataFrame, None, int | None]:
        gen = original(*args, **kwargs)
        try:
            while True:
                batch = next(gen)
                tolerant_rows.append(batch.height)
                yield batch
        except StopIteration as stop:
            return cast("int | None", stop.value)

    monkeypatch.setattr("concord.ingest.readers.csv.tolerant_batches", spy)
    lines = [
        f"{i},{'5' + chr(34) + ' screen' if i == 250 or (every and i % every == 0) else i}"
        for i in range(1000)
    ]
    path = write(tmp_path, ("a,b\n" + "\n".join(lines) + "\n").encode())
    frame = read(path, batch_rows=100)
    assert frame is not None
    assert frame[ROW_COLUMN].to_list() == list(range(2, 1002))
    assert frame["b"][250] == '5" screen'
    if every:  # refused again and again: the tolerant parser reads the rest
        assert sum(tolerant_rows) > 500
    else:  # one stray quote: tolerant batches around it, polars for most of the rest
        # (how many depends on where polars' own chunks fall, which varies with load)
        assert tolerant_rows and sum(tolerant_rows) <= 300


@pytest.mark.parametrize(
    ("content", "line"),
    [(b'a,b\n1,2\n3,"never closed\n4,5\n', 3), (b'a,b\n1,"x\n', 2), (b'a,b\n1,2\n3,"x', 3)],
)
def test_an_unterminated_quote_is_refused_with_its_line(
    tmp_path: Path, content: bytes, line: int
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(MalformedFileError, match=f"line {line}: a quoted cell") as caught:
        read(path)
    assert_names_file(caught.value, path)


# --- hostile files ---------------------------------------------------------------------------


def test_nul_bytes_are_refused_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\n" + b"1,2\n" * 20000 + b"3,\x00\n")
    with pytest.raises(UnreadableFileError, match="NUL byte at line 20002") as caught:
        read(path)
    assert_names_file(caught.value, path)


def test_a_zip_file_suggests_the_xlsx_format(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="use format 'xlsx'"):
        read(write(tmp_path, b"PK\x03\x04" + b"\x00" * 40))


@pytest.mark.parametrize("where", ["header", "row"])
def test_an_enormous_line_is_refused(tmp_path: Path, where: str) -> None:
    huge = b"x" * (20 * 1024 * 1024)
    content = huge if where == "header" else b"a,b\n1,2\n3," + huge + b"\n"
    path = write(tmp_path, content)
    with pytest.raises(MalformedFileError, match="longer than 8 MiB") as caught:
        read(path)
    assert_names_file(caught.value, path)
    if where == "header":
        with pytest.raises(MalformedFileError, match="does not end within"):
            CsvReader().columns(path, OPTIONS)


cells = st.text(st.sampled_from(list('ab ,;"\n\r|\té€')), max_size=8)


@hostile
@given(rows=st.lists(st.lists(cells, min_size=3, max_size=3), max_size=25))
def test_any_table_written_by_csv_writer_reads_back(tmp_path: Path, rows: list[list[str]]) -> None:
    # CRLF line ends: csv.writer quotes a cell holding a CR only when CR ends its lines.
    path = tmp_path / "table.csv"
    path.write_bytes(csv_bytes(["a", "b", "c"], rows, newline="\r\n"))
    frame = read(path, batch_rows=4, delimiter=",")
    kept = [(n, row) for n, row in zip(physical_rows(rows), rows, strict=True) if any(row)]
    if not kept:
        assert frame is None
        return
    assert frame is not None
    assert frame[ROW_COLUMN].to_list() == [n for n, _ in kept]
    assert frame.drop(ROW_COLUMN).equals(expected_frame(["a", "b", "c"], [r for _, r in kept]))


def test_a_byte_the_named_encoding_cannot_decode_names_its_line(tmp_path: Path) -> None:
    content = b"a,b\n" + b"1,x\n" * 3000 + b"2,\x81\n"  # 0x81 is undefined in cp1252
    path = write(tmp_path, content)
    with pytest.raises(UnreadableFileError, match="not valid cp1252 at line 3002") as caught:
        read(path, encoding="cp1252")
    assert_names_file(caught.value, path)


def test_a_pipe_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        read(fifo)


# --- header_row ------------------------------------------------------------------------------


def test_header_row_skips_a_title_and_keeps_physical_line_numbers(tmp_path: Path) -> None:
    # The title holds a delimiter and an unbalanced quote: lines above the header are not parsed.
    content = b'Export "Q1, 2024\nExported: 2024-04-01\n\ncase_id,age\nC-1,12\n\nC-2,14\n'
    path = write(tmp_path, content)
    assert CsvReader().columns(path, ReaderOptions(format="csv", header_row=3)) == [
        "case_id",
        "age",
    ]
    frame = read_all(CsvReader(), path, ReaderOptions(format="csv", header_row=3))
    assert frame is not None
    assert frame.rows() == [(5, "C-1", "12"), (7, "C-2", "14")]


def test_header_row_on_a_cp1252_file_with_the_tolerant_path(tmp_path: Path) -> None:
    content = 'Rapport février\n\ncase_id,note\nC-1,5" écran\nC-2,ok\n'.encode("cp1252")
    options = ReaderOptions(format="csv", header_row=2)
    frame = read_all(CsvReader(), write(tmp_path, content), options)
    assert frame is not None
    assert frame.rows() == [(4, "C-1", '5" écran'), (5, "C-2", "ok")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Title\na,b\n", "header_row is 5 but the file has only 2 line"),
        (b"Title\na,b\n\n\n\n", "no header row on or after line 5"),
    ],
)
def test_header_row_beyond_the_end_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, content)
    options = ReaderOptions(format="csv", header_row=5)
    with pytest.raises(MalformedFileError, match=message):
        CsvReader().columns(path, options)
    with pytest.raises(MalformedFileError, match=message):
        list(CsvReader().batches(path, options))
