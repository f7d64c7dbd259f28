"""KoboReader: the contract on Kobo-style CSV, then Kobo's own conventions."""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from concord.errors import MalformedFileError
from concord.ingest.mapping import ReaderOptions
from concord.ingest.readers import KoboReader, select_multiple_options
from tests.ingest.readers.contract import ReaderContract, Row, read_all
from tests.ingest.readers.test_csv import csv_bytes, physical_rows
from tests.ingest.readers.test_excel import write_book

OPTIONS = ReaderOptions(format="kobo")

#: A KoboToolbox "XML values and headers" export: ``;``, every cell quoted, BOM, metadata.
KOBO_EXPORT = (
    '"start";"end";"incident/type";"incident/type/grooming";"incident/type/sextortion";'
    '"incident/type/csam";"child/age";"child/narrative";"_id";"_uuid";"_submission_time";'
    '"_index";"__version__"\n'
    '"2024-03-05T10:15:00.000+01:00";"2024-03-05T10:22:11.000+01:00";"grooming sextortion";'
    '"1";"1";"0";"14";"Contact via jeu en ligne; demande de photos";"101";'
    '"0b8c6f0e-7d5c-4b8e-9d5e-1f2a3b4c5d6e";"2024-03-05T09:22:15";"1";"vXk3"\n'
    '"2024-03-06T08:00:00.000+01:00";"2024-03-06T08:04:00.000+01:00";"csam";"0";"0";"1";"";'
    '"Signalement\nsur deux lignes";"102";"5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b";'
    '"2024-03-06T07:04:30";"2";"vXk3"\n'
)


class TestKoboContract(ReaderContract):
    reader: ClassVar[KoboReader] = KoboReader()
    options = OPTIONS
    suffix = ".csv"

    def write(self, path: Path, header: list[str], rows: Sequence[Row]) -> None:
        path.write_bytes(codecs.BOM_UTF8 + csv_bytes(header, rows, delimiter=";"))

    def row_numbers(self, rows: Sequence[Row]) -> list[int]:
        return physical_rows(rows)


def test_a_kobo_export_keeps_group_paths_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "kobo.csv"
    path.write_bytes(codecs.BOM_UTF8 + KOBO_EXPORT.encode())
    names = KoboReader().columns(path, OPTIONS)
    assert names[:3] == ["start", "end", "incident/type"]
    assert names[-4:] == ["_uuid", "_submission_time", "_index", "__version__"]
    frame = read_all(KoboReader(), path, OPTIONS)
    assert frame is not None
    assert frame["__row__"].to_list() == [2, 3]
    assert frame["incident/type"].to_list() == ["grooming sextortion", "csam"]
    assert frame["child/narrative"][1] == "Signalement\nsur deux lignes"
    assert frame["child/age"].to_list() == ["14", None]
    assert select_multiple_options(names) == {"incident/type": ["grooming", "sextortion", "csam"]}


def test_select_multiple_options_ignores_groups_and_plain_paths() -> None:
    names = ["group/q1", "group/q2", "group/q2/a", "group/q2/b", "other/x/y"]
    assert select_multiple_options(names) == {"group/q2": ["a", "b"]}
    assert select_multiple_options(["a-b", "a-b-c"], separator="-") == {"a-b": ["c"]}


def test_repeated_labels_suggest_an_xml_header_export(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text('"Type";"Other, specify";"Other, specify"\n"x";"a";"b"\n', encoding="utf-8")
    with pytest.raises(MalformedFileError, match="XML values and headers"):
        read_all(KoboReader(), path, OPTIONS)


def test_a_single_column_export_falls_back_to_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("_uuid\nabc\n", encoding="utf-8")
    assert KoboReader().columns(path, OPTIONS) == ["_uuid"]


def test_an_xlsx_export_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "kobo.xlsx"
    write_book(
        path,
        {
            "Form": [["incident/type", "_uuid"], ["grooming", "u-1"]],
            "repeat_child": [["child/age", "_parent_index"], [14, 1]],
        },
    )
    assert KoboReader().columns(path, OPTIONS) == ["incident/type", "_uuid"]
    frame = read_all(KoboReader(), path, ReaderOptions(format="kobo", sheet="repeat_child"))
    assert frame is not None
    assert frame.rows() == [(2, "14", "1")]
