"""The risk report in front of every release: what could identify a child, what could mislead.

Why both: protocols in the field ask, before anything leaves an organisation, whether it is
traceable back to individuals (small cells, unique combinations) *and* whether it is unreliable,
inaccurate or out of context. The report answers the first with counts of protected cells (or
k-anonymity for record-level data) and the second with reliability flags and the context that
must travel with the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import IndicatorDefinitionRow, VocabRelease
from concord.indicators.compute import MULTI_VALUED
from concord.indicators.definitions import IndicatorDefinition
from concord.indicators.frame import dimension_named
from concord.share.periods import ReleasePeriod
from concord.share.tables import MONTH, TableSpec

#: Below this share of records with a dimension known, the table is flagged as unreliable.
COMPLETENESS_THRESHOLD = 0.8
#: Fewer contributing organisations than this, and the numbers describe few reporting channels.
FEW_SOURCES = 3


def table_risk(name: str, protected: pl.DataFrame, min_cell: int) -> dict[str, Any]:
    """Counts of a protected table's cells by status (see :mod:`concord.share.suppression`)."""
    statuses = dict(protected.group_by("status").len().iter_rows()) if protected.height else {}
    total = protected.height
    hidden = total - int(statuses.get("published", 0))
    below = int(((protected["count"] > 0) & (protected["count"] < min_cell)).sum()) if total else 0
    return {
        "table": name,
        "cells": total,
        "published": int(statuses.get("published", 0)),
        "suppressed": hidden,
        "below_threshold": below,
        "by_status": {str(k): int(v) for k, v in sorted(statuses.items())},
        "suppressed_share": round(hidden / total, 4) if total else 0.0,
    }


def reliability_flags(
    session: Session,
    frame: pl.DataFrame,
    tables: Sequence[TableSpec],
    definitions: Mapping[str, IndicatorDefinition],
    period: ReleasePeriod,
) -> list[dict[str, str]]:
    """Reasons a reader should be careful with these numbers (none is a refusal)."""
    flags: list[dict[str, str]] = []
    if frame.height == 0:
        flags.append(
            {"flag": "no_records", "detail": f"no records were received in {period.label}"}
        )
        return flags
    sources = frame["source_org"].n_unique() if "source_org" in frame.columns else 0
    if sources < FEW_SOURCES:
        flags.append(
            {
                "flag": "few_sources",
                "detail": f"{sources} organisation(s) contributed: the figures describe few "
                "reporting channels",
            }
        )
    for dim in sorted({d for spec in tables for d in spec.dimensions if d != MONTH}):
        known = _known_share(frame, dim)
        if known is not None and known < COMPLETENESS_THRESHOLD:
            flags.append(
                {
                    "flag": "low_completeness",
                    "detail": f"{dim} is known for {known:.0%} of records (below "
                    f"{COMPLETENESS_THRESHOLD:.0%}); its unknown cells are large",
                }
            )
    start = datetime.combine(period.start, time.min, tzinfo=UTC)
    end = datetime.combine(period.end, time.max, tzinfo=UTC)
    changed = session.execute(
        select(IndicatorDefinitionRow.indicator_id, IndicatorDefinitionRow.version).where(
            IndicatorDefinitionRow.indicator_id.in_(list(definitions)),
            IndicatorDefinitionRow.version > 1,
            IndicatorDefinitionRow.created_at.between(start, end),
        )
    ).all()
    for indicator_id, version in changed:
        flags.append(
            {
                "flag": "definition_changed",
                "detail": f"{indicator_id} changed to version {version} within {period.label}",
            }
        )
    vocab = session.scalars(
        select(VocabRelease.version).where(VocabRelease.loaded_at.between(start, end))
    ).all()
    flags.extend(
        {"flag": "vocabulary_changed", "detail": f"vocabulary {v} was loaded within {period.label}"}
        for v in vocab
    )
    return flags


def _known_share(frame: pl.DataFrame, name: str) -> float | None:
    dim = dimension_named(name)
    if dim is None or dim.column not in frame.columns or not frame.height:
        return None
    column = pl.col(dim.column)
    known = column.list.len() > 0 if dim.is_list else column.is_not_null()
    return float(frame.select(known.fill_null(value=False).mean()).item())


def release_context(
    frame: pl.DataFrame,
    tables: Sequence[TableSpec],
    definitions: Mapping[str, IndicatorDefinition],
    period: ReleasePeriod,
    vocabulary_version: str,
) -> dict[str, Any]:
    """What must travel with the numbers: definitions, coverage and known gaps."""
    # Unique months first, formatted after: formatting ten million dates would take seconds.
    day = pl.col("received_date")
    month_index = (day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1).unique()
    months = sorted(
        f"{m // 12:04d}-{m % 12 + 1:02d}"
        for m in frame.select(month_index.drop_nulls()).to_series().to_list()
    )
    sources = sorted(str(s) for s in frame["source_org"].unique().drop_nulls().to_list())
    caveats = [c for spec in tables for c in definitions[spec.indicator].caveats]
    if any(
        (d := dimension_named(n)) is not None and d.is_list for s in tables for n in s.dimensions
    ):
        caveats.append(MULTI_VALUED)
    caveats.append(
        "Totals (the _total rows) add up the cells below them, so a report counted under two "
        "abuse types counts twice in a total over abuse types."
    )
    return {
        "vocabulary_version": vocabulary_version,
        "definitions": [
            {
                "id": d.id,
                "version": d.version,
                "name": d.name,
                "description": d.description,
            }
            for d in (definitions[i] for i in sorted({s.indicator for s in tables}))
        ],
        "coverage": {
            "period": period.label,
            "records": frame.height,
            "sources": sources,
            "months_with_records": months,
        },
        "known_gaps": [m for m in period.months if m not in months],
        "caveats": list(dict.fromkeys(caveats)),
    }
