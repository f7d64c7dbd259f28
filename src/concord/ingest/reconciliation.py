"""The reconciliation of an import — read = stored + quarantined + duplicates — as data.

Batches, import reports and quality reports all carry the same counts; one function turns
them into the same JSON everywhere.
"""

from __future__ import annotations

from typing import Protocol


class HasCounts(Protocol):
    @property
    def rows_read(self) -> int: ...
    @property
    def rows_stored(self) -> int: ...
    @property
    def rows_updated(self) -> int: ...
    @property
    def rows_quarantined(self) -> int: ...
    @property
    def rows_duplicate(self) -> int: ...


def reconciliation(counts: HasCounts) -> dict[str, int]:
    """``read``, ``stored`` (``updated`` of them were corrections), ``quarantined``,
    ``duplicates``."""
    return {
        "read": counts.rows_read,
        "stored": counts.rows_stored,
        "updated": counts.rows_updated,
        "quarantined": counts.rows_quarantined,
        "duplicates": counts.rows_duplicate,
    }
