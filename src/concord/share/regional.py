"""Regional tables at a hub: the nodes' published tables added up, then protected again.

For each table name and period, the hub takes the latest non-revoked bundle of every node and
adds the nodes' counts cell by cell. Rules, and why:

* A cell one node suppressed is *incomplete* at the hub: its regional total is unknown, and
  showing the sum of the others would let a reader subtract it from a node's own margin.
* A cell that a node's table does not list counts as zero there: a published cube lists every
  cell the node has, and a missing country simply had no reports.
* The hub applies its own disclosure control to what it shows (:mod:`concord.share.suppression`):
  each node's cells passed its own threshold, but a regional cell can still be small (for
  example 3 + 0), and an incomplete cell must not be recomputable from the regional margins
  (regional margin minus the other regional cells, minus the other nodes' published cell,
  would give back the very cell the node suppressed).

Nothing is stored: a revocation at the hub is reflected the next time the tables are read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import FederationBundle
from concord.errors import InputError
from concord.share.cube import COUNT, TOTAL, build_cube
from concord.share.suppression import PUBLISHED, STATUS, SUPPRESSED, suppress

INCOMPLETE = "incomplete"
#: Statuses a node gives a cell it did not publish (its count should be null already).
HIDDEN_AT_NODE = ("primary", "secondary", "differencing", SUPPRESSED)
_NODE, _MISSING = "_node", "_incomplete"


@dataclass(frozen=True)
class RegionalTable:
    """One table name and period, summed over ``nodes``; ``cells`` has the dimensions,
    ``count`` (null when not shown) and ``status`` (published, incomplete or suppressed);
    ``protection`` says which disclosure control the hub applied."""

    name: str
    period: str
    dimensions: list[str]
    nodes: list[str]
    agreements: list[str]
    cells: pl.DataFrame
    protection: str


def latest_bundles(
    session: Session, agreement_id: str | None, period: str | None
) -> list[FederationBundle]:
    """The latest non-revoked bundle per node × agreement × period."""
    query = select(FederationBundle).where(FederationBundle.revoked_at.is_(None))
    if agreement_id:
        query = query.where(FederationBundle.agreement_id == agreement_id)
    if period:
        query = query.where(FederationBundle.period == period)
    latest: dict[tuple[str, str, str], FederationBundle] = {}
    for row in session.scalars(
        query.order_by(FederationBundle.received_at, FederationBundle.release_id)
    ):
        latest[(row.node, row.agreement_id, row.period)] = row
    return list(latest.values())


def _frame(dims: list[str], cells: list[list[Any]], node: str) -> pl.DataFrame:
    """A node's stored cells; a cell it hid gets a null count whatever it stored."""
    schema = {**dict.fromkeys(dims, pl.String), COUNT: pl.Int64, STATUS: pl.String}
    frame = pl.DataFrame(cells, schema=schema, orient="row")
    hidden = pl.col(STATUS).is_in(HIDDEN_AT_NODE)
    count = pl.when(hidden).then(None).otherwise(pl.col(COUNT)).alias(COUNT)
    return frame.select(*dims, count).with_columns(pl.lit(node).alias(_NODE))


def _combine(frames: list[pl.DataFrame], dims: list[str]) -> pl.DataFrame:
    """Sum over nodes; a cell any node hid (null count) is incomplete."""
    stacked = pl.concat(frames)
    summed = [pl.col(COUNT).sum().alias(COUNT), pl.col(COUNT).is_null().any().alias(_MISSING)]
    if not dims:
        return stacked.select(summed)
    keys: list[pl.Expr] = []
    for d in dims:  # each dimension's total first, as in a cube
        keys += [pl.col(d).ne_missing(TOTAL), pl.col(d)]
    return stacked.group_by(dims).agg(summed).sort(keys, nulls_last=True)


def _stand_in(combined: pl.DataFrame, dims: list[str]) -> pl.DataFrame:
    """An additive cube with ``combined``'s rows, for choosing what to hide.

    Why a stand-in: an incomplete cell's regional value is unknown (here: the sum of the nodes
    that published it), and rounded node tables need not add up exactly, but suppression reasons
    about the cube's lines, which only its shape decides. The finest cells are kept and every
    margin is recomputed as their sum; the counts only rank which cells are cheapest to hide.
    """
    finest = combined.filter(pl.all_horizontal(pl.col(d).ne_missing(TOTAL) for d in dims))
    cube = build_cube(finest.select(*dims, pl.col(COUNT).fill_null(0)), dims)
    aligned = combined.select(dims).join(
        cube, on=dims, how="left", nulls_equal=True, maintain_order="left"
    )
    if aligned.height != combined.height or aligned[COUNT].null_count():
        raise InputError("a margin of the regional table has no cells under it")
    return aligned


def _protect(combined: pl.DataFrame, dims: list[str], min_cell: int) -> tuple[pl.DataFrame, str]:
    """The hub's own disclosure control, and a line saying which was applied.

    Incomplete cells and small cells (``0 < count < min_cell``) are hidden, and secondary
    suppression hides enough others that none can be recomputed from the regional margins.
    Hidden cells read "suppressed" whether small or secondary: telling them apart would tell a
    reader which cells are the small ones.
    """
    incomplete = combined[_MISSING]
    counts = combined[COUNT].fill_null(0)
    primary = incomplete | ((counts > 0) & (counts < min_cell))
    method = f"primary and secondary suppression below {min_cell}"
    try:
        if not dims:
            raise InputError("a single total has no margins")
        # min_cell=1: the small cells are decided here, on the regional counts, not on the
        # stand-in's; they go in as sensitive.
        protected = suppress(_stand_in(combined, dims), dims, min_cell=1, sensitive=primary)
        hidden = protected[STATUS] != PUBLISHED
    except InputError as exc:
        # Not a cube (a node sent a table without its margins): no margin can give a hidden
        # cell away, so primary suppression is all there is to do.
        hidden = primary
        method = f"primary suppression below {min_cell} ({exc.message})"
    status = (
        pl.when(incomplete)
        .then(pl.lit(INCOMPLETE))
        .when(hidden)
        .then(pl.lit(SUPPRESSED))
        .otherwise(pl.lit(PUBLISHED))
    )
    shown = pl.when(hidden | incomplete).then(None).otherwise(pl.col(COUNT)).cast(pl.Int64)
    return combined.select(*dims, shown.alias(COUNT), status.alias(STATUS)), method


def regional_tables(
    session: Session,
    *,
    agreement_id: str | None = None,
    period: str | None = None,
    min_cell: int = 10,
) -> list[RegionalTable]:
    """The regional tables, one per table name, period and set of dimensions, sorted."""
    groups: dict[tuple[str, str, tuple[str, ...]], dict[str, FederationBundle]] = defaultdict(dict)
    for row in sorted(latest_bundles(session, agreement_id, period), key=lambda r: r.received_at):
        for name, table in row.tables.items():
            if table.get("kind") == "aggregate":
                key = (name, row.period, tuple(table["dimensions"]))
                # One bundle per node: the same table sent under two agreements counts once.
                groups[key][row.node] = row
    tables: list[RegionalTable] = []
    for (name, period_label, dim_tuple), by_node in sorted(groups.items()):
        dims = list(dim_tuple)
        frames = [_frame(dims, row.tables[name]["cells"], node) for node, row in by_node.items()]
        cells, protection = _protect(_combine(frames, dims), dims, min_cell)
        tables.append(
            RegionalTable(
                name=name,
                period=period_label,
                dimensions=dims,
                nodes=sorted(by_node),
                agreements=sorted({row.agreement_id for row in by_node.values()}),
                cells=cells,
                protection=protection,
            )
        )
    return tables
