"""Early warning (shared risk analysis): an alert when one indicator rises significantly above
its baseline in several countries or organisations in the same period — a sextortion surge
seen by three hotlines at once is a different thing from one hotline's bad month.

Each series (one country, or one organisation) is assessed on its own with
:func:`concord.indicators.trends.assess`; an alert is raised for a period when at least
``min_members`` series signal *in that period*. The evidence behind the alert (each member's
score, trend and reasons) is stored with it, so whoever reads the alert can judge it. Computed
locally on a node's own records and, at a hub, on federated bundles (same function, other input).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import IndicatorAlert
from concord.errors import InputError, NotFoundError
from concord.indicators.baseline import Baseline, PeriodKind, Series
from concord.indicators.trends import assess
from concord.protect.audit import AuditTrail

#: "Several": two places rising together is already worth a look; a hub can ask for more.
MIN_MEMBERS = 2
#: Members that are not places: "unknown country" must not count towards "several".
NOT_A_PLACE = frozenset({"country.zz"})
DIMENSIONS = ("country", "source_org")


@dataclass(frozen=True)
class AlertCandidate:
    indicator_id: str
    period: date
    dimension: str
    members: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        where = ", ".join(self.members)
        return (
            f"{self.indicator_id} rose significantly above its baseline in {len(self.members)} "
            f"{'countries' if self.dimension == 'country' else 'organisations'} in "
            f"{self.period.isoformat()}: {where}"
        )


def early_warning(
    indicator_id: str,
    values: pl.DataFrame,
    *,
    dimension: str,
    period: PeriodKind = "month",
    baseline: Baseline | None = None,
    min_members: int = MIN_MEMBERS,
    at: date | None = None,
) -> list[AlertCandidate]:
    """Alerts for ``values`` (columns ``period``, ``dimension``, ``value``; suppressed cells as
    null values) — the latest period, or ``at``."""
    if dimension not in values.columns or not {"period", "value"} <= set(values.columns):
        raise InputError(
            f"early warning needs the columns period, {dimension} and value; got "
            f"{', '.join(values.columns)}"
        )
    if min_members < 2:
        raise InputError("an early-warning alert needs at least 2 countries or organisations")
    if values.is_empty():
        return []
    if at is not None:
        target = at
    else:
        latest = values["period"].max()
        if not isinstance(latest, date):
            raise InputError("the period column must hold dates (period starts)")
        target = latest
    members: list[str] = []
    evidence: dict[str, Any] = {}
    for (member,), group in values.sort("period").group_by([dimension], maintain_order=True):
        rows = group.filter(pl.col("period") <= target)
        if str(member) in NOT_A_PLACE or rows.is_empty() or rows["period"].max() != target:
            continue
        if rows.filter(pl.col("period") == target)["value"].is_null().all():
            continue  # its latest cell is suppressed (or empty): no claim about this period
        series = Series(
            periods=rows["period"].to_list(),
            values=[None if v is None else float(v) for v in rows["value"].to_list()],
            period=period,
        )
        assessment = assess(series, baseline=baseline)
        if assessment.signal:
            members.append(str(member))
            last = assessment.latest
            evidence[str(member)] = {
                "reasons": list(assessment.reasons),
                "score": last.score if last is not None else None,
                "value": last.value if last is not None else None,
                "trend": assessment.trend.direction,
                "p_value": assessment.trend.p_value,
            }
    if len(members) < min_members:
        return []
    return [AlertCandidate(indicator_id, target, dimension, sorted(members), evidence)]


def store_alerts(
    session: Session, candidates: Sequence[AlertCandidate], *, source: str = "local"
) -> list[IndicatorAlert]:
    """Keep new alerts; the same indicator, period and dimension is stored once (re-running the
    analysis updates the evidence of an open alert, never duplicates it)."""
    stored = []
    for candidate in candidates:
        existing = session.scalar(
            select(IndicatorAlert).where(
                IndicatorAlert.indicator_id == candidate.indicator_id,
                IndicatorAlert.period == candidate.period,
                IndicatorAlert.dimension == candidate.dimension,
            )
        )
        if existing is None:
            existing = IndicatorAlert(
                indicator_id=candidate.indicator_id,
                period=candidate.period,
                dimension=candidate.dimension,
                source=source,
                created_at=datetime.now(UTC),
                status="open",
            )
            session.add(existing)
        if existing.status == "open":
            existing.members = candidate.members
            existing.evidence = candidate.evidence
            existing.summary = candidate.summary
        stored.append(existing)
    session.flush()
    return stored


def list_alerts(session: Session, *, status: str | None = None) -> list[IndicatorAlert]:
    query = select(IndicatorAlert).order_by(IndicatorAlert.period.desc(), IndicatorAlert.id)
    if status is not None:
        query = query.where(IndicatorAlert.status == status)
    return list(session.scalars(query))


def acknowledge(
    session: Session, audit: AuditTrail, *, alert_id: int, by: str, note: str = ""
) -> IndicatorAlert:
    alert = session.get(IndicatorAlert, alert_id)
    if alert is None:
        raise NotFoundError(f"no alert {alert_id}")
    alert.status = "acknowledged"
    alert.acknowledged_by = by
    alert.acknowledged_at = datetime.now(UTC)
    alert.note = note or None
    audit.record(
        session,
        actor=by,
        action="alert.acknowledge",
        target=f"alert:{alert_id}",
        details={"indicator": alert.indicator_id, "period": alert.period.isoformat()},
    )
    session.flush()
    return alert


def alert_dict(alert: IndicatorAlert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "indicator": alert.indicator_id,
        "period": alert.period.isoformat(),
        "dimension": alert.dimension,
        "members": alert.members,
        "evidence": alert.evidence,
        "summary": alert.summary,
        "source": alert.source,
        "status": alert.status,
        "acknowledged_by": alert.acknowledged_by,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "note": alert.note,
    }
