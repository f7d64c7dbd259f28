"""The quality report of an import: completeness, validity, unmapped codes, timeliness, duplicates.

Accumulated batch by batch (bounded memory: counters, never rows), then frozen into plain JSON
stored with the batch, so a report can be shown years later exactly as it was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from concord.ingest.reconciliation import reconciliation
from concord.ingest.transform import REASONS, BatchResult
from concord.records.fields import FIELDS

#: How many unmapped/unknown values the report lists per field (the rest are counted).
TOP_VALUES = 25


@dataclass
class QualityAccumulator:
    fields: list[str]
    rows_read: int = 0
    rows_stored: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_updated: int = 0
    present: Counter[str] = field(default_factory=Counter)
    invalid: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    delays: Counter[int] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    def add_mapped(self, result: BatchResult) -> None:
        """Count validity over every mapped row, before duplicates are set aside."""
        self.unmapped.update(result.unmapped)
        self.unknown.update(result.unknown)
        if result.quarantined.height:
            prefixes = (
                result.quarantined.select(
                    pl.col(REASONS)
                    .list.eval(pl.element().str.extract(r"^([a-z_]+):", 1))
                    .list.unique()
                    .alias("f")
                )
                .explode("f")
                .drop_nulls()
                .group_by("f")
                .len()
            )
            self.invalid.update(dict(zip(prefixes["f"], prefixes["len"], strict=True)))

    def add_stored(self, records: pl.DataFrame) -> None:
        """Completeness and timeliness over the rows actually stored."""
        for name in self.fields:
            # the partner's key is stored as its pseudonym, under another column name
            column_name = "source_key" if name == "source_record_key" else name
            if column_name not in records.columns:
                continue
            column = records[column_name]
            if column.dtype == pl.List:
                self.present[name] += int((column.list.len() > 0).sum())
            else:
                self.present[name] += column.len() - column.null_count()
        if {"received_date", "occurred_date"} <= set(records.columns):
            delays = (
                records.select(
                    (pl.col("received_date") - pl.col("occurred_date")).dt.total_days().alias("d")
                )
                .drop_nulls()
                .group_by("d")
                .len()
            )
            self.delays.update(dict(zip(delays["d"], delays["len"], strict=True)))

    def add_quarantine_reasons(self, quarantined: pl.DataFrame) -> None:
        for reasons in quarantined[REASONS].to_list():
            for reason in reasons:
                self.reasons[_reason_kind(reason)] += 1

    def report(self) -> dict[str, Any]:
        stored = self.rows_stored
        per_field = {}
        for name in self.fields:
            per_field[name] = {
                "completeness": round(self.present[name] / stored, 4) if stored else None,
                "validity": round(1 - self.invalid[name] / self.rows_read, 4)
                if self.rows_read
                else None,
                "invalid_rows": self.invalid[name],
            }
        return {
            "rows": reconciliation(self),
            "fields": per_field,
            "unmapped": _top(self.unmapped),
            "unknown": _top(self.unknown),
            "quarantine_reasons": dict(self.reasons.most_common()),
            "timeliness": _timeliness(self.delays),
        }


def _top(counter: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"field": name, "value": value, "rows": rows}
        for (name, value), rows in counter.most_common(TOP_VALUES * len(FIELDS))
    ]


def _reason_kind(reason: str) -> str:
    """``"received_date: '32/13/2024' is not a date like %d/%m/%Y"`` → a stable kind."""
    name, _, rest = reason.partition(":")
    rest = rest.strip()
    if rest.startswith("'") and "' " in rest:
        rest = rest.split("' ", 1)[1]
    rest = rest.split(" (", 1)[0]
    return f"{name}: {rest.strip()}"


def _timeliness(delays: Counter[int]) -> dict[str, Any]:
    total = sum(delays.values())
    if not total:
        return {"records_with_both_dates": 0, "median_days": None, "p90_days": None}
    ordered = sorted(delays.items())

    def quantile(q: float) -> int:
        seen = 0
        for days, count in ordered:
            seen += count
            if seen >= q * total:
                return days
        return ordered[-1][0]

    return {
        "records_with_both_dates": total,
        "median_days": quantile(0.5),
        "p90_days": quantile(0.9),
    }
