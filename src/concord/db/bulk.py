"""Bulk writes that keep up with column-wise ingestion: COPY on PostgreSQL, executemany on
SQLite, plain tuples instead of ORM objects or dicts (see shared/reference/performance.md).
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session


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
    start = session.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()  # noqa: S608 — table names are ours, never user input
    return list(range(int(start) + 1, int(start) + 1 + count))


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
