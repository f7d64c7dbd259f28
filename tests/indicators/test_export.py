"""CSV and Excel exports: round trips, suppressed cells blank, formula injection neutralised."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from concord.errors import InputError
from concord.indicators.charts import ChartContext
from concord.indicators.export import export_table, to_csv, to_excel
from tests.indicators.test_charts import (
    CTX,
    SCHEMA,
    SECRET_DENOMINATOR,
    make_result,
    month,
    results,
)

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


def org_result() -> pl.DataFrame:
    """One row per organisation, some of whose names would run as formulas."""
    names = ["Fundación Ñandú", *HOSTILE]
    rows = [
        {
            "period": month(0),
            "source_org": name,
            "numerator": 10 + i,
            "denominator": 100,
            "value": -1.5 if i == 1 else 0.1 * (10 + i),
            "suppressed": False,
        }
        for i, name in enumerate(names)
    ]
    rows.append(
        {
            "period": month(1),
            "source_org": "Small hotline",
            "numerator": 2,
            "denominator": SECRET_DENOMINATOR,
            "value": 0.002,
            "suppressed": True,
        }
    )
    return pl.DataFrame(rows, schema={**SCHEMA, "source_org": pl.String})


def read_csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(
        io.BytesIO(data), try_parse_dates=True, schema_overrides={"source_org": pl.String}
    )


def test_csv_round_trips_and_blanks_suppressed_cells() -> None:
    result = make_result(["KE", "UG"], months=3, suppressed={("UG", 1)})
    data = to_csv(result, CTX)
    back = read_csv(data)
    assert back.columns == ["period", "country", "numerator", "denominator", "value", "suppressed"]
    assert back.height == 6 and back.get_column("period").dtype == pl.Date
    hidden = back.filter(pl.col("suppressed"))
    assert hidden.select("country", "numerator", "denominator", "value").rows() == [
        ("UG", None, None, None)
    ]
    shown = back.filter(~pl.col("suppressed")).sort("period", "country")
    expected = export_table(result).filter(~pl.col("suppressed")).sort("period", "country")
    assert shown.equals(expected)
    assert str(SECRET_DENOMINATOR).encode() not in data
    assert data.startswith(b"period,country,")  # data only: no comment or metadata lines


def test_csv_neutralises_formulas_and_keeps_text_and_numbers() -> None:
    data = to_csv(org_result(), CTX)
    back = read_csv(data)
    orgs = back.get_column("source_org").to_list()
    assert "Fundación Ñandú" in orgs  # UTF-8, unchanged
    for hostile in HOSTILE:
        assert f"'{hostile}" in orgs
        assert hostile not in orgs
    assert -1.5 in back.get_column("value").to_list()  # a negative number is a number, not text


def cells(sheet: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_excel_has_data_and_about_sheets() -> None:
    ctx = ChartContext(
        **{**CTX.__dict__, "caveats": ("Two partners changed their forms in 2024.",)}
    )
    result = make_result(["KE"], months=3, suppressed={("KE", 2)})
    book = openpyxl.load_workbook(io.BytesIO(to_excel(result, ctx)))
    assert book.sheetnames == ["data", "about"]
    rows = cells(book["data"])
    assert rows[0] == ["period", "country", "numerator", "denominator", "value", "suppressed"]
    assert rows[1] == [datetime(2024, 1, 1), "KE", 10, 1000, 10.0, False]
    assert rows[3] == [datetime(2024, 3, 1), "KE", None, None, None, True]
    about = {r[0]: r[1] for r in cells(book["about"]) if r[0] != "Caveat"}
    assert about["Definition"] == CTX.definition_text
    assert about["Vocabulary version"] == "2025.1"
    assert about["Suppressed cells"] == 2
    assert about["Suppression"] == "2 cells suppressed (fewer than 5)"
    assert about["Periods"] == "2024-01 to 2024-03"
    assert about["Rows in data"] == 3
    caveats = [r[1] for r in cells(book["about"]) if r[0] == "Caveat"]
    assert any("A blank value is not zero" in c for c in caveats)
    assert "Two partners changed their forms in 2024." in caveats


def test_excel_writes_formula_like_text_as_text() -> None:
    ctx = ChartContext(**{**CTX.__dict__, "indicator_name": "=cmd|' /C calc'!A0"})
    book = openpyxl.load_workbook(io.BytesIO(to_excel(org_result(), ctx)))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    orgs = {c.value: c for c in book["data"]["B"][1:]}
    for hostile in HOSTILE:
        # XLSX stores a carriage return as _x000D_; Excel reads it back, openpyxl does not.
        cell = orgs[hostile.replace("\r", "_x000D_")]
        assert cell.data_type == "s"
        assert cell.quotePrefix  # stays text even after a user edits the cell
    assert not orgs["Fundación Ñandú"].quotePrefix
    name = book["about"]["B1"]
    assert name.value == "=cmd|' /C calc'!A0" and name.data_type == "s" and name.quotePrefix
    assert -1.5 in [c.value for c in book["data"]["E"]]  # a negative number stays a number


def test_exports_refuse_what_is_not_a_result() -> None:
    bad = pl.DataFrame({"period": [date(2024, 1, 1)], "count": [3]})
    for export in (to_csv, to_excel):
        with pytest.raises(InputError, match="not an indicator result"):
            export(bad, CTX)


def test_empty_result_exports_headers_only() -> None:
    empty = make_result(["KE"], months=0)
    assert read_csv(to_csv(empty, CTX)).height == 0
    book = openpyxl.load_workbook(io.BytesIO(to_excel(empty, CTX)))
    assert cells(book["data"]) == [
        ["period", "country", "numerator", "denominator", "value", "suppressed"]
    ]
    about = {r[0]: r[1] for r in cells(book["about"])}
    assert about["Periods"] == "none"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(result=results())
def test_any_small_result_exports_and_reads_back(result: pl.DataFrame) -> None:
    hidden = result.get_column("suppressed").fill_null(value=True)
    back = read_csv(to_csv(result, CTX)) if result.height else None
    if back is not None:
        assert back.height == result.height
        blanked = back.filter(pl.col("suppressed")).select("numerator", "denominator", "value")
        assert blanked.null_count().row(0) == (int(hidden.sum()),) * 3
    book = openpyxl.load_workbook(io.BytesIO(to_excel(result, CTX)))
    rows = cells(book["data"])[1:]
    assert len(rows) == result.height
    for row in rows:
        if row[-1]:
            assert row[2:5] == [None, None, None]


def test_fractional_and_non_finite_denominators_export_cleanly() -> None:
    # A denominator from a population estimate may be fractional, or broken upstream.
    result = make_result(months=3).with_columns(
        denominator=pl.Series([1234.5, float("nan"), float("inf")])
    )
    back = read_csv(to_csv(result, CTX))
    assert back.get_column("denominator").to_list() == [1234.5, None, None]
    book = openpyxl.load_workbook(io.BytesIO(to_excel(result, CTX)))
    assert [c.value for c in book["data"]["C"]] == ["denominator", 1234.5, None, None]
