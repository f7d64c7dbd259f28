"""The release schedule behind collaboration.releases_on_schedule."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from concord.db.models import Release
from concord.indicators.schedule import release_schedule, scheduled_periods
from tests.share.release_setup import agreement, in_force, parties

TODAY = date(2026, 11, 20)


def body(**changes: Any) -> dict[str, Any]:
    return agreement(**changes).body()


def test_a_monthly_agreement_schedules_each_ended_month_it_covers() -> None:
    periods = scheduled_periods(
        body(frequency="monthly", valid_from=date(2026, 3, 15), valid_to=date(2026, 12, 31)),
        TODAY,
    )
    # March is only partly covered; November has not ended
    assert [p for p, _ in periods] == [f"2026-{m:02d}" for m in range(4, 11)]
    assert dict(periods)["2026-04"] == date(2026, 5, 30)  # due 30 days after the month


def test_quarters_years_and_ad_hoc() -> None:
    quarterly = scheduled_periods(body(frequency="quarterly"), TODAY)
    assert [p for p, _ in quarterly] == ["2026-Q1", "2026-Q2", "2026-Q3"]
    yearly = scheduled_periods(body(frequency="yearly", valid_from=date(2024, 1, 1)), TODAY)
    assert [p for p, _ in yearly] == ["2024", "2025"]
    assert scheduled_periods(body(frequency="ad_hoc"), TODAY) == []


def release(session: Session, period: str, made: datetime, status: str = "released") -> None:
    session.add(
        Release(
            id=f"r-{period}-{status}",
            agreement_id="es-to-hub",
            agreement_version=1,
            provider="hotline-es",
            period=period,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
            status=status,
            decision=[],
            risk_report={},
            method={},
            vocabulary_version="1.0.0",
            created_by="steward-es",
            created_at=made,
        )
    )


def test_the_schedule_says_which_releases_came_on_time(session: Session) -> None:
    parties(session)
    in_force(session, agreement())  # quarterly, 2026-01-01 to 2027-12-31
    release(session, "2026-Q1", datetime(2026, 4, 20, tzinfo=UTC))  # due 30 April: on time
    release(session, "2026-Q2", datetime(2026, 9, 1, tzinfo=UTC), status="revoked")  # late
    release(session, "2026-Q2", datetime(2026, 9, 5, tzinfo=UTC), status="refused")
    session.flush()
    rows = {r["period"]: r for r in release_schedule(session, today=TODAY).to_dicts()}
    assert set(rows) == {"2026-Q1", "2026-Q2", "2026-Q3"}  # Q4 has not ended
    assert rows["2026-Q1"]["on_time"] is True
    assert rows["2026-Q2"]["on_time"] is False  # made (then revoked) after it was due
    assert rows["2026-Q2"]["delivered_on"] == date(2026, 9, 1)
    assert rows["2026-Q3"]["delivered_on"] is None  # due on 30 October, never made
    assert rows["2026-Q3"]["source_org"] == "hotline-es"
