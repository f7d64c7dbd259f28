"""ExcelReader: the contract, then cell conversion, sheets, ragged cells and damaged files."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar

import openpyxl
import pytest

from concord.errors import InputError, MalformedFileError, UnreadableFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers import ROW_COLUMN, ExcelReader
from concord.ingest.readers import excel as excel_module
from concord.ingest.readers.excel import cell_text
from tests.ingest.readers.contract import (
    HEADER,
    ROWS,
    ReaderContract,
    Row,
    assert_names_file,
    read_all,
)

OPTIONS = ReaderOptions(format="xlsx")


def write_book(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    book.save(path)


def read(
    path: Path, batch_rows: int = 100_000, sheet: str | int | None = None
) -> list[tuple[object, ...]]:
    frame = read_all(ExcelReader(), path, ReaderOptions(format="xlsx", sheet=sheet), batch_rows)
    return [] if frame is None else frame.rows()


class TestExcelContract(ReaderContract):
    reader: ClassVar[ExcelReader] = ExcelReader()
    options = OPTIONS
    suffix = ".xlsx"

    def write(self, path: Path, header: list[str], rows: Sequence[Row]) -> None:
        write_book(path, {"Cases": [header, *rows]})


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12, "12"),
        (12.0, "12"),
        (0.1, "0.1"),
        (-3.5, "-3.5"),
        (1e20, "1e+20"),
        (True, "TRUE"),
        (False, "FALSE"),
        ("", None),
        (" x ", " x "),
        (datetime(2024, 3, 5), "2024-03-05"),
        (datetime(2024, 3, 5, 10, 22, 10, 999_700), "2024-03-05T10:22:11"),
        (date(2024, 3, 5), "2024-03-05"),
        (time(9, 5, 7), "09:05:07"),
        (time(9, 5, 7, 999_990), "09:05:08"),
        (timedelta(hours=27, minutes=3), "27:03:00"),
    ],
)
def test_cell_text(value: object, text: str | None) -> None:
    assert cell_text(value) == text


def test_typed_cells_come_back_as_excel_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "typed.xlsx"
    write_book(
        path,
        {
            "S": [
                ["n", "f", "d", "dt", "b", "s"],
                [14, 12.0, date(2024, 3, 5), datetime(2024, 3, 5, 10, 22, 11), True, "007"],
            ]
        },
    )
    assert read(path) == [(2, "14", "12", "2024-03-05", "2024-03-05T10:22:11", "TRUE", "007")]


def test_rows_are_sheet_rows_and_empty_rows_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "gaps.xlsx"
    write_book(path, {"S": [[], [None, None], ["a", "b"], ["1", "x"], [], [None, "y"]]})
    assert ExcelReader().columns(path, OPTIONS) == ["a", "b"]
    assert read(path) == [(4, "1", "x"), (6, None, "y")]


def test_sheets_by_name_case_or_index(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    write_book(path, {"Main": [["a"], ["1"]], "Repeat": [["b"], ["2"]]})
    assert read(path) == [(2, "1")]
    assert read(path, sheet="Repeat") == [(2, "2")]
    assert read(path, sheet="repeat") == [(2, "2")]
    assert read(path, sheet=1) == [(2, "2")]
    for wrong in ("Other", 2):
        with pytest.raises(InputError, match="'Main', 'Repeat'") as caught:
            read(path, sheet=wrong)
        assert_names_file(caught.value, path)


def test_values_right_of_the_header_are_refused_with_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "ragged.xlsx"
    write_book(path, {"S": [["a", "b"], ["1", "2", "note"], ["3", "4"], [None, None, None, "x"]]})
    with pytest.raises(MalformedFileError, match=r"header's last column \(B\)") as caught:
        read(path)
    assert_names_file(caught.value, path)
    assert caught.value.details == ["cell C2", "cell D4"]


def test_an_empty_sheet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_book(path, {"S": []})
    with pytest.raises(MalformedFileError, match="'S' is empty"):
        read(path)


def test_a_wrong_declared_dimension_does_not_cut_rows(tmp_path: Path) -> None:
    path = tmp_path / "dims.xlsx"
    write_book(path, {"S": [["a", "b", "c"], ["1", "2", "3"]]})
    fixed = tmp_path / "dims-a1.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(fixed, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b'<dimension ref="A1:C2" />', b'<dimension ref="A1" />')
                assert b'<dimension ref="A1" />' in data
            dst.writestr(info, data)
    assert read(fixed) == [(2, "1", "2", "3")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n1,2\n", "not an Excel .xlsx workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel .xls"),
        (b"PK\x03\x04" + b"\x00" * 100, "damaged or incomplete"),
    ],
)
def test_files_that_are_not_workbooks(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "not.xlsx"
    path.write_bytes(content)
    for call in (lambda: read(path), lambda: ExcelReader().columns(path, OPTIONS)):
        with pytest.raises(UnreadableFileError, match=message) as caught:
            call()
        assert_names_file(caught.value, path)


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnreadableFileError, match=r"no xl/workbook\.xml"):
        read(path)


def test_a_workbook_with_broken_xml(tmp_path: Path) -> None:
    path = tmp_path / "good.xlsx"
    write_book(path, {"S": [["a"], ["1"]]})
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data[: len(data) // 2]
            dst.writestr(info, data)
    with pytest.raises(UnreadableFileError) as caught:
        read(broken)
    assert_names_file(caught.value, broken)


def test_an_archive_that_unpacks_too_large_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real zip bomb takes seconds to build; lowering the cap shows the guard the same way.
    path = tmp_path / "bomb.xlsx"
    write_book(path, {"S": [["a"], *[["x" * 100] for _ in range(50)]]})
    monkeypatch.setattr(excel_module, "MAX_UNPACKED_BYTES", 1024)
    with pytest.raises(UnreadableFileError, match="unpacks to") as caught:
        read(path)
    assert_names_file(caught.value, path)


def test_the_contract_table_keeps_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_book(path, {"S": [HEADER, *ROWS]})
    rows = read(path)
    assert rows[1][3] == "Line one\nLine two"
    assert [r[0] for r in rows] == [2, 3, 4, 5]
    assert ROW_COLUMN == "__row__"


def test_header_row_skips_a_title_and_keeps_sheet_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "titled.xlsx"
    title = ["Monthly report", None, "exported 2024-04-01"]
    write_book(path, {"S": [title, [], ["a", "b"], ["1", "x"], [], [None, "y"]]})
    options = ReaderOptions(format="xlsx", header_row=2)
    assert ExcelReader().columns(path, options) == ["a", "b"]
    frame = read_all(ExcelReader(), path, options)
    assert frame is not None
    assert frame.rows() == [(4, "1", "x"), (6, None, "y")]


def test_header_row_beyond_the_last_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.xlsx"
    write_book(path, {"S": [["Title"], ["a", "b"], ["1", "2"]]})
    options = ReaderOptions(format="xlsx", header_row=9)
    with pytest.raises(MalformedFileError, match="no header row on or after row 9"):
        ExcelReader().columns(path, options)
    with pytest.raises(MalformedFileError, match="no header row on or after row 9"):
        list(ExcelReader().batches(path, options))
