"""The raw counts behind a release table, before any disclosure control.

Why reuse :func:`concord.indicators.compute.compute`: a released number must mean exactly what
the indicator means on the dashboard (same filters, same multi-valued counting), so the
release asks the indicator for its cells with the indicator's own suppression switched off
(the release applies the agreement's stricter, complementary disclosure control instead).
"""

from __future__ import annotations

import polars as pl

from concord.errors import InputError
from concord.indicators.compute import compute
from concord.indicators.definitions import Disclosure, IndicatorDefinition
from concord.indicators.frame import dimension_named
from concord.share.periods import ReleasePeriod
from concord.share.tables import MONTH, TableSpec
from concord.vocab.model import Vocabulary

#: A dimension value the records do not know (a null): an ordinary category of a release table.
UNKNOWN = "_unknown"


def bound_contributions(frame: pl.DataFrame, spec: TableSpec, per_record: int) -> pl.DataFrame:
    """Keep at most ``per_record`` values of each multi-valued dimension of ``spec``.

    Differential privacy needs to know how many cells one record can change (its
    sensitivity); a report coded with eight abuse types would otherwise count eight times.
    """
    columns = [
        dim.column
        for name in spec.dimensions
        if (dim := dimension_named(name)) is not None and dim.is_list
    ]
    if not columns:
        return frame
    return frame.with_columns(pl.col(c).list.head(per_record) for c in columns)


def sensitivity(spec: TableSpec, per_record: int) -> int:
    """How many cells of the table one record can add 1 to, after :func:`bound_contributions`."""
    lists = sum(
        1 for name in spec.dimensions if (dim := dimension_named(name)) is not None and dim.is_list
    )
    return int(per_record**lists)


def count_cells(
    definition: IndicatorDefinition,
    frame: pl.DataFrame,
    vocabulary: Vocabulary,
    spec: TableSpec,
    period: ReleasePeriod,
) -> pl.DataFrame:
    """One row per non-empty cell of ``spec`` in ``period``: its dimensions and ``count``."""
    if definition.kind != "count" or definition.source != "records":
        raise InputError(
            f"{definition.id} is a {definition.kind}; releases carry counts of records "
            "(shares and rates are computed from released counts by the recipient)"
        )
    by = [d for d in spec.dimensions if d != MONTH]
    raw = definition.model_copy(update={"disclosure": Disclosure(min_cell=0)})
    result = compute(raw, frame, vocabulary, by=by, start=period.start, end=period.end)
    data = result.data
    dims = list(spec.dimensions)
    if not data.height:
        return pl.DataFrame(schema={**{d: pl.String() for d in dims}, "count": pl.Int64()})
    keyed = data.with_columns(
        pl.col("period").dt.strftime("%Y-%m").alias(MONTH),
        *(pl.col(d).cast(pl.String).fill_null(UNKNOWN) for d in by),
    )
    cells = keyed.group_by(dims).agg(pl.col("numerator").sum().cast(pl.Int64).alias("count"))
    return cells.sort(dims)
