"""Bulk writes that keep up with column-wise ingestion: COPY on PostgreSQL, executemany on
SQLite, plain tuples instead of ORM objects or dicts (see shared/reference/performance.md).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import Index, text
from sqlalchemy.orm import Session

from concord.db.models import Base

#: Below this many new rows, keeping indexes up to date row by row costs less than rebuilding.
DEFER_INDEXES_MIN_ROWS = 100_000


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` new primary keys for ``table`` that no other writer will use.

    PostgreSQL draws them from the table's sequence. SQLite has one writer at a time, and the
    caller's transaction already holds the write lock (it wrote its batch row first), so the
    next ``count`` numbers after the current maximum are ours.
    """
    if count == 0:
        return []
    if session.connection().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table, "count": count},
        )
        return [int(row[0]) for row in rows]
    start = table_size(session, table)
    return list(range(start + 1, start + 1 + count))


def bulk_insert(session: Session, table: str, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` (columns named like the table's) as fast as the database can.

    PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` fed with CSV that polars writes in native
    code — an order of magnitude faster than sending rows one by one. Empty strings never reach
    here (ingestion turns empty cells into nulls), so CSV's "empty means NULL" is exact.
    SQLite: one ``executemany`` of plain tuples.
    """
    if frame.is_empty():
        return
    connection = session.connection()
    names = ", ".join(frame.columns)
    if connection.dialect.name == "postgresql":
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="")
        driver: Any = connection.connection.driver_connection  # a psycopg 3 Connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(buffer.getbuffer())
        return
    placeholders = ", ".join("?" for _ in frame.columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({names}) VALUES ({placeholders})",  # noqa: S608 — our names
        list(frame.iter_rows()),
    )


@dataclass
class DeferredIndexes:
    """Secondary indexes dropped for a bulk load; :meth:`rebuild` creates them again.

    Why: SQLite updates every index of a table for each inserted row, in the random order of
    the rows' keys; building an index once from the finished table is a sort, several times
    cheaper per row (docs/performance.md). Only non-unique indexes are dropped: the unique ones
    keep guarding the data while it is loaded. SQLite's DDL is transactional, so an import that
    fails rolls the drop back with its rows; readers in other connections keep seeing the old
    snapshot (WAL) and are never blocked. PostgreSQL is left alone: there ``DROP INDEX`` would
    lock every reader of the table out until the import commits.
    """

    indexes: list[Index] = field(default_factory=list)

    def rebuild(self, session: Session) -> None:
        connection = session.connection()
        for index in self.indexes:
            index.create(connection, checkfirst=True)
        self.indexes = []


def worth_deferring(new_rows: int, stored_rows: int) -> bool:
    """Whether rebuilding beats maintaining: the load is large, and at least as large as what
    the table already holds (a rebuild reads the whole table, old rows included)."""
    return new_rows >= DEFER_INDEXES_MIN_ROWS and new_rows >= stored_rows


def defer_indexes(session: Session, tables: list[str]) -> DeferredIndexes:
    """Drop the non-unique indexes of ``tables`` inside the session's transaction (SQLite
    only; elsewhere nothing is dropped). Call :meth:`DeferredIndexes.rebuild` before commit."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return DeferredIndexes()
    dropped = [
        index for name in tables for index in Base.metadata.tables[name].indexes if not index.unique
    ]
    for index in dropped:
        index.drop(connection, checkfirst=True)
    return DeferredIndexes(dropped)


def table_size(session: Session, table: str) -> int:
    """An upper bound of the rows in ``table`` (its largest id), read from the primary key
    index instead of counting."""
    found = session.execute(text(f"SELECT MAX(id) FROM {table}")).scalar()  # noqa: S608 — ours
    return int(found or 0)
