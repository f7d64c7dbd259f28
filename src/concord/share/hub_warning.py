"""Early warning at a hub, from the bundles nodes pushed.

Why at the hub too: a sextortion surge shows first as the same indicator rising in several
countries at once, and only the hub sees several countries. It runs the same analysis as a node
(:func:`concord.indicators.warning.early_warning`: each member's latest month against its
own baseline, an alert when several rise together) on monthly series rebuilt from the
released tables: per providing organisation (the table's grand total per month) or per country
(the country's cells, added over the nodes).

A cell a node suppressed stays unknown here (a null value: no claim is made about that
member in that month), and tables of revoked releases are gone before this reads them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

import polars as pl
from sqlalchemy.orm import Session

from concord.indicators.baseline import Baseline
from concord.indicators.definitions import IndicatorDefinition
from concord.indicators.warning import AlertCandidate, early_warning
from concord.share.cube import TOTAL
from concord.share.regional import latest_bundles
from concord.share.tables import MONTH

#: The series a hub can rebuild: by providing organisation, or by country.
HUB_DIMENSIONS = ("source_org", "country")


def hub_series(session: Session, indicator: str, dimension: str) -> pl.DataFrame:
    """``period`` (month start), ``dimension`` and ``value`` (null when a node hid the cell)."""
    if dimension not in HUB_DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(HUB_DIMENSIONS)}")
    values: dict[tuple[date, str], float | None] = {}
    latest: dict[tuple[str, date, str], tuple[object, float | None]] = {}
    for bundle in latest_bundles(session, None, None):
        for name, table in bundle.tables.items():
            if table.get("kind") == "records" or not name.startswith(f"{indicator}.by-"):
                continue
            dims = list(table["dimensions"])
            if MONTH not in dims or (dimension == "country" and "country" not in dims):
                continue
            for key, count in _series_cells(dims, table["cells"], dimension, bundle.metadata_):
                member_month = (bundle.node, key[0], key[1])
                seen = latest.get(member_month)
                if seen is None or seen[0] < bundle.received_at:  # type: ignore[operator]
                    latest[member_month] = (bundle.received_at, count)
    grouped: dict[tuple[date, str], list[float | None]] = defaultdict(list)
    for (_node, month, member), (_when, count) in latest.items():
        grouped[(month, member)].append(count)
    for key, counts in grouped.items():
        values[key] = None if any(c is None for c in counts) else float(sum(c or 0 for c in counts))
    rows = [(month, member, value) for (month, member), value in sorted(values.items())]
    return pl.DataFrame(
        rows,
        schema={"period": pl.Date(), dimension: pl.String(), "value": pl.Float64()},
        orient="row",
    )


def _series_cells(
    dims: list[str], cells: Iterable[list[object]], dimension: str, metadata: dict[str, object]
) -> Iterable[tuple[tuple[date, str], float | None]]:
    """(month, member) → count of the cells that total every other dimension."""
    month_at = dims.index(MONTH)
    member_at = dims.index("country") if dimension == "country" else None
    manifest = metadata.get("manifest", {}) if isinstance(metadata, dict) else {}
    provider = str(manifest.get("provider", "")) if isinstance(manifest, dict) else ""
    for cell in cells:
        month = cell[month_at]
        if month == TOTAL or not isinstance(month, str):
            continue
        others = [i for i in range(len(dims)) if i not in (month_at, member_at)]
        if any(cell[i] != TOTAL for i in others):
            continue
        member = str(cell[member_at]) if member_at is not None else provider
        if member == TOTAL or not member:
            continue
        count = cell[len(dims)]
        year, mon = (int(part) for part in month.split("-"))
        yield (date(year, mon, 1), member), (float(count) if count is not None else None)  # type: ignore[arg-type]


def hub_warnings(
    session: Session, definitions: Iterable[IndicatorDefinition], *, dimension: str = "country"
) -> list[AlertCandidate]:
    """Early-warning candidates from the federated tables, as a node computes them locally."""
    candidates: list[AlertCandidate] = []
    for definition in definitions:
        if definition.status != "active" or definition.kind != "count":
            continue
        if definition.higher_is == "better" or definition.breakdown:
            continue
        series = hub_series(session, definition.id, dimension)
        if series.is_empty():
            continue
        candidates += early_warning(
            definition.id,
            series,
            dimension=dimension,
            period="month",
            baseline=Baseline(periods=definition.baseline_window()),
        )
    return candidates
