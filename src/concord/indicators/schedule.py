"""Releases that agreements schedule, and whether each was delivered on time.

Why here, reading the tables directly: the collaboration indicator "releases delivered on
schedule" counts what agreements promise (a monthly agreement promises a release per month)
against what the node released, the way :func:`concord.indicators.frame.load_batch_quality`
counts import reports; the sharing layer builds on indicators, not the other way round.

Rules: every version of an agreement that was ever in force schedules one release per
month, quarter or year (by its ``frequency``; ``ad_hoc`` schedules none) for each period that
lies within its validity and has ended; a release is due :data:`GRACE_DAYS` after its period
ends, and counts once it is due (or delivered). It was delivered on time when a release of
that agreement and period (later revoked or not) was made by the due date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from concord.db import session_scope
from concord.db.models import Release, SharingAgreement

#: Days after the end of a period by which its release is due.
GRACE_DAYS = 30
_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}

#: One row per scheduled release.
SCHEDULE_SCHEMA: dict[str, pl.DataType] = {
    "source_org": pl.String(),
    "agreement_id": pl.String(),
    "period": pl.String(),
    "due_date": pl.Date(),
    "delivered_on": pl.Date(),
    "on_time": pl.Boolean(),
}


def _label(year: int, month: int, step: int) -> str:
    if step == 1:
        return f"{year:04d}-{month:02d}"
    if step == 3:
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}"


def scheduled_periods(body: dict[str, Any], today: date) -> list[tuple[str, date]]:
    """(period label, due date) of every release ``body`` schedules that has ended by today."""
    step = _MONTHS.get(str(body.get("frequency")))
    if step is None:
        return []
    start = date.fromisoformat(str(body["valid_from"]))
    end = date.fromisoformat(str(body["valid_to"]))
    index = start.year * 12 + start.month - 1
    index -= index % step  # the period that contains valid_from
    out: list[tuple[str, date]] = []
    while True:
        year, month = divmod(index, 12)
        first = date(year, month + 1, 1)
        following = index + step
        last = date(following // 12, following % 12 + 1, 1) - timedelta(days=1)
        if first > end or last >= today:
            break
        if first >= start and last <= end:  # a period the agreement covers in full
            out.append((_label(year, month + 1, step), last + timedelta(days=GRACE_DAYS)))
        index = following
    return out


def load_release_schedule(engine: Engine, *, today: date | None = None) -> pl.DataFrame:
    """Every release scheduled so far, with when it was delivered (see the module doc)."""
    with session_scope(engine) as session:
        return release_schedule(session, today=today)


def release_schedule(session: Session, *, today: date | None = None) -> pl.DataFrame:
    """:func:`load_release_schedule` within an open session."""
    day = today or datetime.now(UTC).date()
    versions = session.execute(
        select(SharingAgreement.agreement_id, SharingAgreement.body)
        .where(SharingAgreement.status != "draft")
        .order_by(SharingAgreement.agreement_id, SharingAgreement.version)
    ).all()
    made = session.execute(
        select(Release.agreement_id, Release.period, func.min(Release.created_at))
        .where(Release.status.in_(("released", "revoked")))
        .group_by(Release.agreement_id, Release.period)
    ).all()
    delivered = {(a, p): when.date() for a, p, when in made}
    rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    for agreement_id, body in versions:
        for period, due in scheduled_periods(body, day):
            if due > day and (agreement_id, period) not in delivered:
                continue  # not due yet, and not delivered early
            on = delivered.get((agreement_id, period))
            rows[(agreement_id, period)] = (
                str(body["provider"]),
                agreement_id,
                period,
                due,
                on,
                on is not None and on <= due,
            )
    return pl.DataFrame(list(rows.values()), schema=SCHEDULE_SCHEMA, orient="row")
