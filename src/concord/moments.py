"""Datetimes as the database gives them back, made comparable.

SQLite stores UTC wall time and returns naive datetimes; PostgreSQL returns aware ones (in the
session's zone). Every comparison, format or hash of a stored time goes through :func:`as_utc`
so both databases behave the same; a naive datetime from a caller is taken to be UTC too.
"""

from __future__ import annotations

from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
