"""Indicator results as files people open: CSV (data only) and Excel (data and an ``about`` sheet).

Both start from :func:`~concord.indicators.chart_data.disclosed`, so a suppressed cell leaves
as blanks with ``suppressed`` true — never its small count, and never a zero that a reader would
add up. Why CSV carries no metadata: ``#`` comment lines break Excel, LibreOffice and most CSV
readers, and a download is one file; the Excel export is where definition, vocabulary version,
suppression and caveats travel with the numbers.

Both neutralise *formula injection*: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is run as a formula by spreadsheet programs. Group values (an
organisation's name, say) come from partners, so they are never trusted to be plain text.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import polars as pl
import xlsxwriter  # type: ignore[import-untyped]  # XlsxWriter ships no type information

from concord.errors import InputError
from concord.indicators.chart_data import (
    MEASURE_COLUMNS,
    ChartContext,
    disclosed,
    period_label,
    suppression_note,
)

__all__ = ["FORMULA_PREFIXES", "export_table", "to_csv", "to_excel"]

#: First characters that make a spreadsheet treat text as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = "^[=+\\-@\t\r]"  # FORMULA_PREFIXES as a regular-expression class
#: Excel's row limit, header included.
_EXCEL_MAX_ROWS = 1_048_576
_DIRECTION = {"better": "higher is better", "worse": "higher is worse", "neutral": "neither"}


def export_table(result: pl.DataFrame) -> pl.DataFrame:
    """The rows and columns both exports write: period, groups, numerator, denominator, value,
    suppressed — with suppressed cells blanked (see ``disclosed``)."""
    table = disclosed(result)
    groups = [c for c in table.columns if c not in MEASURE_COLUMNS]
    return table.select("period", *groups, "numerator", "denominator", "value", "suppressed")


def to_csv(result: pl.DataFrame, ctx: ChartContext) -> bytes:
    """The result as UTF-8 CSV, data only: one header row, ISO dates, blanks for no value.

    ``ctx`` is taken so that both exporters share one signature (a route picks one by format)
    and is otherwise unused: CSV has no place for metadata that every reader understands.
    """
    del ctx
    table = export_table(result)
    text = [c for c, t in table.schema.items() if t == pl.String]
    safe = table.with_columns(
        pl.when(pl.col(c).str.contains(_FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )
    return safe.write_csv(date_format="%Y-%m-%d").encode("utf-8")


def _about_rows(ctx: ChartContext, table: pl.DataFrame) -> list[tuple[str, str | int]]:
    """The ``about`` sheet: what a reader needs to use the numbers without misreading them."""
    rule = (
        f"cells counting fewer than {ctx.min_cell_size} are suppressed"
        if ctx.min_cell_size is not None
        else "cells below the disclosure-control threshold are suppressed"
    )
    first, last = table.get_column("period").min(), table.get_column("period").max()
    span = (
        f"{period_label(first, ctx.period)} to {period_label(last, ctx.period)}"
        if isinstance(first, date) and isinstance(last, date)
        else "none"
    )
    caveats = [
        "A blank value is not zero: it was suppressed (see the suppressed column) or there was "
        "nothing to compute it from.",
        f"Suppressed cells: {rule}; their value, numerator and denominator are left blank.",
        "Figures use the shared vocabulary version above; figures computed with another "
        "version may count differently.",
        *ctx.caveats,
    ]
    return [
        ("Indicator", ctx.indicator_name),
        ("Indicator id", ctx.indicator_id),
        ("Definition", ctx.definition_text),
        ("Unit", ctx.unit),
        ("Period", ctx.period),
        ("Direction", _DIRECTION[ctx.higher_is]),
        ("Vocabulary version", ctx.vocabulary_version),
        ("Suppressed cells", ctx.suppressed_cells),
        ("Suppression", suppression_note(ctx)),
        ("Periods", span),
        ("Rows in data", table.height),
        *[("Caveat", c) for c in caveats],
    ]


class _Sheet:
    """Typed writes to an XlsxWriter worksheet; text always goes in as text, never a formula."""

    def __init__(self, book: Any, name: str) -> None:
        self.sheet = book.add_worksheet(name)
        self.text = book.add_format({"text_wrap": False})
        # quote_prefix: Excel keeps the cell text even if a user edits it and presses Enter.
        self.quoted = book.add_format({"quote_prefix": True})
        self.bold = book.add_format({"bold": True})
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})

    def write_text(self, row: int, col: int, value: str, *, wrap: bool = False) -> None:
        risky = value.startswith(FORMULA_PREFIXES)
        style = self.quoted if risky else (self.wrap if wrap else self.text)
        self.sheet.write_string(row, col, value, style)

    def write_cell(self, row: int, col: int, value: object) -> None:
        if value is None:
            self.sheet.write_blank(row, col, None)
        elif isinstance(value, bool):
            self.sheet.write_boolean(row, col, value)
        elif isinstance(value, int | float):
            self.sheet.write_number(row, col, value)
        elif isinstance(value, date):
            self.sheet.write_datetime(row, col, value, self.date)
        else:
            self.write_text(row, col, str(value))


def to_excel(result: pl.DataFrame, ctx: ChartContext) -> bytes:
    """The result as an .xlsx workbook: a ``data`` sheet and an ``about`` sheet.

    ``about`` carries the definition, vocabulary version, suppressed cells and caveats — the
    issue's "every chart states them" applied to the data a chart is made from.
    """
    table = export_table(result)
    if table.height + 1 > _EXCEL_MAX_ROWS:
        raise InputError(
            f"The result has {table.height:,} rows, more than an Excel sheet holds; "
            "export it as CSV instead."
        )
    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        # Belt and braces: even a write() that guesses types must not make formulas or links.
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(buffer, options) as book:
        data = _Sheet(book, "data")
        for col, name in enumerate(table.columns):
            data.sheet.write_string(0, col, name, data.bold)
        for row, values in enumerate(table.iter_rows(), start=1):
            for col, value in enumerate(values):
                data.write_cell(row, col, value)
        data.sheet.freeze_panes(1, 0)
        data.sheet.autofilter(0, 0, max(table.height, 1), len(table.columns) - 1)
        data.sheet.set_column(0, len(table.columns) - 1, 14)
        data.sheet.set_column(0, 0, 12)

        about = _Sheet(book, "about")
        about.sheet.set_column(0, 0, 20)
        about.sheet.set_column(1, 1, 90)
        for row, (label, value) in enumerate(_about_rows(ctx, table)):
            about.sheet.write_string(row, 0, label, about.bold)
            if isinstance(value, int):
                about.sheet.write_number(row, 1, value)
            else:
                about.write_text(row, 1, value, wrap=True)
    return buffer.getvalue()
