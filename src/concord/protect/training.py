"""Staff training: the two courses required before anyone handles data about a child.

The field's protocols say only staff trained in data protection *and* child safeguarding may
handle personal data. Without both current, a user sees aggregates only; 30 days before one
expires, the user is warned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import TrainingRecord, User
from concord.errors import InputError, NotFoundError
from concord.protect.audit import AuditTrail

WARN_BEFORE = timedelta(days=30)


class Course(StrEnum):
    DATA_PROTECTION = "data_protection"
    CHILD_SAFEGUARDING = "child_safeguarding"


COURSE_NAMES = {
    Course.DATA_PROTECTION: "data protection",
    Course.CHILD_SAFEGUARDING: "child safeguarding",
}


@dataclass(frozen=True)
class CourseStatus:
    course: Course
    expires_on: date | None  # None: never completed

    def valid(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on >= today

    def expiring(self, today: date) -> bool:
        return (
            self.valid(today)
            and self.expires_on is not None
            and (self.expires_on - today <= WARN_BEFORE)
        )

    def describe(self, today: date) -> str:
        name = COURSE_NAMES[self.course]
        if self.expires_on is None:
            return f"no {name} training on record"
        if self.expires_on < today:
            return f"{name} training expired on {self.expires_on.isoformat()}"
        return f"{name} training valid until {self.expires_on.isoformat()}"


@dataclass(frozen=True)
class TrainingStatus:
    courses: tuple[CourseStatus, ...]
    today: date

    @property
    def current(self) -> bool:
        """Both courses valid today: record-level data may be handled."""
        return all(c.valid(self.today) for c in self.courses)

    @property
    def missing(self) -> list[str]:
        return [c.describe(self.today) for c in self.courses if not c.valid(self.today)]

    @property
    def warnings(self) -> list[str]:
        return [
            f"{COURSE_NAMES[c.course]} training expires on {c.expires_on} — renew it to keep "
            "access to records"
            for c in self.courses
            if c.expiring(self.today)
        ]


def training_status(session: Session, user_id: int, today: date | None = None) -> TrainingStatus:
    """The latest expiry of each required course for ``user_id``."""
    today = today or datetime.now(UTC).date()
    latest: dict[str, date] = {}
    for kind, expires in session.execute(
        select(TrainingRecord.kind, TrainingRecord.expires_on).where(
            TrainingRecord.user_id == user_id
        )
    ):
        if kind not in latest or expires > latest[kind]:
            latest[kind] = expires
    return TrainingStatus(tuple(CourseStatus(c, latest.get(c.value)) for c in Course), today)


def record_training(
    session: Session,
    audit: AuditTrail,
    *,
    user_id: int,
    course: str,
    issuer: str,
    completed_on: date,
    expires_on: date,
    actor: str,
) -> TrainingRecord:
    try:
        kind = Course(course)
    except ValueError:
        names = ", ".join(c.value for c in Course)
        raise InputError(f"unknown training {course!r}; required courses are: {names}") from None
    if expires_on <= completed_on:
        raise InputError("a training must expire after the date it was completed")
    if completed_on > datetime.now(UTC).date():
        raise InputError("a training cannot be completed in the future")
    if not issuer.strip():
        raise InputError("say who issued the training (the issuer)")
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    record = TrainingRecord(
        user_id=user_id,
        kind=kind.value,
        issuer=issuer.strip(),
        completed_on=completed_on,
        expires_on=expires_on,
        recorded_by=actor,
        recorded_at=datetime.now(UTC),
    )
    session.add(record)
    audit.record(
        session,
        actor=actor,
        action="training.record",
        target=user.username,
        details={"course": kind.value, "expires_on": expires_on.isoformat(), "issuer": issuer},
    )
    session.flush()
    return record
