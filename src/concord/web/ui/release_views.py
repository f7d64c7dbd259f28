"""What release pages and the release API show: cells made safe to print, and documents.

Why a module of its own: the one rule that must never break — a suppressed cell shows as a
marker, never as a number — is kept in one function (:func:`cell_rows`) that every page and
preview goes through, and it reads only what is published (never the protected counts a plan
holds before suppression).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from concord.db.models import Release, ReleaseTable
from concord.share.aggregate import UNKNOWN
from concord.share.cube import TOTAL
from concord.share.periods import period_containing
from concord.share.release import ProtectedTable

PUBLISHED = "published"
#: Cells shown on a plan preview and a release page; the JSON API carries every cell.
PREVIEW_CELLS = 50
PAGE_CELLS = 500

Labeller = Callable[[str], str]


@dataclass(frozen=True)
class CellRow:
    """One cell as printed: dimension labels, then the count or the suppression marker."""

    values: list[str]
    shown: str
    status: str

    @property
    def suppressed(self) -> bool:
        return self.status != PUBLISHED


@dataclass(frozen=True)
class TableView:
    name: str
    dimensions: list[str]
    rows: list[CellRow]
    total_cells: int

    @property
    def more(self) -> int:
        return self.total_cells - len(self.rows)


def _value(value: Any, label: Labeller) -> str:
    if value is None or value == UNKNOWN:
        return "unknown"
    if value == TOTAL:
        return "Total"
    return label(str(value))


def cell_rows(
    cells: Sequence[Sequence[Any]], dimensions: int, label: Labeller, limit: int
) -> list[CellRow]:
    """``[dims..., count, status]`` cells as rows; only a published cell shows its count."""
    rows: list[CellRow] = []
    for cell in cells[:limit]:
        count, status = cell[dimensions], str(cell[dimensions + 1])
        if status == PUBLISHED:
            shown = f"{int(count):,}" if count is not None else "not published"
        else:
            # a release says only "suppressed": which cells were the small ones is disclosive
            shown = "suppressed" if status == "suppressed" else f"suppressed ({status})"
        rows.append(CellRow([_value(v, label) for v in cell[:dimensions]], shown, status))
    return rows


def plan_tables(tables: Sequence[ProtectedTable], label: Labeller) -> list[TableView]:
    """Previews of a plan's protected tables, from what would be published."""
    views = []
    for t in tables:
        dims = list(t.spec.dimensions)
        cells = t.cells
        views.append(
            TableView(
                t.spec.name, dims, cell_rows(cells, len(dims), label, PREVIEW_CELLS), len(cells)
            )
        )
    return views


def release_table_views(tables: Sequence[ReleaseTable], label: Labeller) -> list[TableView]:
    return [
        TableView(
            t.name,
            list(t.dimensions),
            cell_rows(t.cells, len(t.dimensions), label, PAGE_CELLS),
            len(t.cells),
        )
        for t in tables
    ]


def period_examples(today: date) -> list[str]:
    """Labels a steward might want now: last month, last quarter, last year, a range."""
    last_month = period_containing(today.replace(day=1) - timedelta(days=1), "month")
    quarter = period_containing(today, "quarter")
    last_quarter = period_containing(quarter.start - timedelta(days=1), "quarter")
    months = last_quarter.months
    return [
        last_quarter.label,
        last_month.label,
        str(today.year - 1),
        f"{months[0]}..{months[-1]}",
    ]


def release_summary(row: Release) -> dict[str, Any]:
    """One release as a line of a list (API and page)."""
    return {
        "id": row.id,
        "agreement": row.agreement_id,
        "version": row.agreement_version,
        "provider": row.provider,
        "period": row.period,
        "status": row.status,
        "epsilon": row.epsilon,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "revoked_reason": row.revoked_reason,
    }


def release_document(row: Release, tables: Sequence[ReleaseTable]) -> dict[str, Any]:
    """One release in full: decision, risk report, method and every published cell (a
    suppressed cell's count is null, as stored)."""
    return release_summary(row) | {
        "period_start": row.period_start.isoformat(),
        "period_end": row.period_end.isoformat(),
        "budget_period": row.budget_period,
        "vocabulary_version": row.vocabulary_version,
        "decision": row.decision,
        "risk_report": row.risk_report,
        "method": row.method,
        "tables": [
            {"name": t.name, "dimensions": list(t.dimensions), "cells": t.cells} for t in tables
        ],
    }
