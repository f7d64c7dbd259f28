"""Protection against differencing: two releases must not be subtracted to expose a small cell.

Why: a steward re-releases a quarter after late reports arrive, or releases overlapping
periods. If a cell read 12 in the first release and 15 in the second, the three late reports
are exposed as surely as a published 3. So every cell a new release would publish is compared
with the same cell (same table, same dimension values) in every earlier release under the
agreement; a difference between 1 and ``min_cell - 1`` makes the new cell sensitive, and
suppression then hides it and whatever would let a reader recompute it.

Not covered: cells of tables with *different* dimensions (their margins are compared, since a
release carries every margin), and releases under other agreements to other recipients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import Release, ReleaseTable

#: Statuses of releases whose tables a recipient may hold (a revoked copy may be kept).
_HELD = ("released", "revoked")

Key = tuple[str | None, ...]


def earlier_values(
    session: Session, agreement_id: str, table: str, dimensions: Sequence[str]
) -> dict[Key, set[int]]:
    """Every value each cell of ``table`` was published with in earlier, unrevoked releases."""
    rows = session.scalars(
        select(ReleaseTable)
        .join(Release, Release.id == ReleaseTable.release)
        .where(
            Release.agreement_id == agreement_id,
            Release.status.in_(_HELD),
            ReleaseTable.name == table,
        )
    )
    width = len(dimensions)
    values: dict[Key, set[int]] = defaultdict(set)
    for row in rows:
        if list(row.dimensions) != list(dimensions):
            continue
        for cell in row.cells:
            count = cell[width]
            if count is not None:
                values[tuple(cell[:width])].add(int(count))
    return values


def differencing_risk(
    published: pl.DataFrame,
    dimensions: Sequence[str],
    earlier: dict[Key, set[int]],
    min_cell: int,
) -> pl.Series:
    """A mask of the cells whose difference from an earlier published value is small."""
    if not earlier or not published.height:
        return pl.Series("differencing", [False] * published.height, dtype=pl.Boolean)
    flags: list[bool] = []
    for row in published.select(*dimensions, "count").iter_rows():
        count = row[-1]
        before = earlier.get(tuple(row[:-1]))
        flags.append(
            count is not None
            and before is not None
            and any(0 < abs(count - old) < min_cell for old in before)
        )
    return pl.Series("differencing", flags, dtype=pl.Boolean)
