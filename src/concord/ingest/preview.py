"""A preview of how the first rows of a file map, before anything is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from concord.ingest.mapping import LoadedMapping
from concord.ingest.readers.base import open_batches
from concord.ingest.transform import REASONS, ROW, BatchMapper, check_columns
from concord.vocab.model import Vocabulary

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Preview:
    columns: list[str]
    records: list[dict[str, Any]]
    quarantined: list[dict[str, Any]]
    dropped: list[str]


def preview_file(
    path: Path,
    mapping: LoadedMapping,
    vocabulary: Vocabulary,
    *,
    rows: int = PREVIEW_ROWS,
    today: date | None = None,
) -> Preview:
    """Map the first ``rows`` rows of ``path`` (read-only; nothing is stored)."""
    frame = next(iter(open_batches(path, mapping.spec.reader, batch_rows=rows)), None)
    if frame is None:
        return Preview([], [], [], [])
    check_columns(frame.columns, mapping, source=path.name)
    result = BatchMapper(mapping, vocabulary, today=today).map(frame)
    return Preview(
        columns=[c for c in frame.columns if c != ROW],
        records=result.records.drop("source_record_key").to_dicts(),
        quarantined=[
            {"row": r[ROW], "reasons": r[REASONS]}
            for r in result.quarantined.select(ROW, REASONS).to_dicts()
        ],
        dropped=[c for c in mapping.spec.identifying if c in frame.columns],
    )
