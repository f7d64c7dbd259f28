"""What retention can act on: the datasets, how each one's age is measured, and what deleting or
anonymising it means.

Each dataset is a :class:`RetentionDataset` with a stable lowercase name (the ``dataset`` stored in
``retention_rule``). Whether rules may be narrowed to an organisation or a purpose is a capability
(:class:`ScopedByOrganisation`, :class:`ScopedByPurpose`), not a flag. The built-in datasets are
registered in :func:`default_datasets` through the same :class:`DatasetRegistry` door a plug-in
would use.

Ages are whole days, in UTC: with ``cutoff = today - keep_days``, a row dated on the cutoff day
(exactly ``keep_days`` old) is kept, a row dated the day before has expired. Timestamps are
compared with the start (00:00 UTC) of the cutoff day, so any moment of the cutoff day is kept.

Each dataset's ``count`` and ``apply`` share one SQL predicate, so a dry run counts exactly the
rows a run would change.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    and_,
    delete,
    exists,
    extract,
    false,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from concord.db.models import (
    ApiToken,
    IngestBatch,
    Organisation,
    ProtectedValue,
    Purpose,
    QuarantinedRow,
    Record,
    RecordConcept,
    UserSession,
)
from concord.errors import ConfigurationError, InputError

DELETE = "delete"
ANONYMISE = "anonymise"
#: Every action a rule can name; a dataset supports some of them.
ACTIONS: tuple[str, ...] = (DELETE, ANONYMISE)
#: ``source_key`` of an anonymised record: ``anon:<record id>``. Not a pseudonym any more, so
#: neither the partner's record key nor a re-import can be matched to the record again.
ANONYMISED_KEY_PREFIX = "anon:"

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")  # fits retention_rule.dataset (32 characters)

#: Called after each batch with the number of rows it changed (progress display).
BatchCallback = Callable[[int], None]


@dataclass(frozen=True)
class Scope:
    """Which rows a rule is about: one organisation's or every organisation's (``None``), for one
    purpose or any (``None``)."""

    organisation: str | None = None
    purpose: str | None = None

    @property
    def specificity(self) -> int:
        """organisation + purpose (3) > organisation (2) > purpose (1) > everything (0).

        Why the organisation outranks the purpose: retention periods come first from each
        organisation's own legal obligations; a purpose-wide default must not shorten them.
        """
        return (2 if self.organisation is not None else 0) + (1 if self.purpose is not None else 0)


@dataclass(frozen=True)
class Selection:
    """The rows one rule governs: in its scope, not in the scope of a more specific rule for the
    same dataset and action (``overridden``), and dated before ``cutoff``.

    ``spared`` (anonymise rules only) are the delete selections of the same dataset: rows a
    delete rule removes in the same run are not counted as anonymised too.
    """

    scope: Scope
    cutoff: date
    overridden: tuple[Scope, ...] = ()
    spared: tuple[Selection, ...] = ()

    @property
    def cutoff_moment(self) -> datetime:
        """The start of the cutoff day in UTC, for timestamp columns."""
        return datetime.combine(self.cutoff, time.min, tzinfo=UTC)


class RetentionDataset(ABC):
    """One kind of data retention rules can delete or anonymise."""

    #: Stable, unique, lowercase: stored in ``retention_rule.dataset``.
    name: ClassVar[str]
    #: One line for people: what the rows are and from when their age is measured.
    summary: ClassVar[str]
    #: The actions it supports (a subset of :data:`ACTIONS`).
    actions: ClassVar[tuple[str, ...]]

    @abstractmethod
    def count(self, session: Session, selection: Selection, action: str) -> dict[str, int]:
        """Rows ``action`` would change now, per table, the dataset's own table first.

        Implementers: change nothing, and use the same predicate as :meth:`apply` so a dry run
        and a run agree.
        """

    @abstractmethod
    def apply(
        self,
        session: Session,
        selection: Selection,
        action: str,
        *,
        batch_size: int,
        on_batch: BatchCallback | None = None,
    ) -> dict[str, int]:
        """Delete or anonymise what ``selection`` covers, per table like :meth:`count`.

        Implementers: work in batches of at most ``batch_size`` rows (bounded memory and
        statement size) with Core statements, in the caller's transaction; never write an
        audit entry (the caller does, with the counts).
        """

    def rows(self, counts: dict[str, int]) -> int:
        """The headline count: rows of the dataset's own table (the first in ``counts``)."""
        return next(iter(counts.values()), 0)


class ScopedByOrganisation(ABC):
    """A dataset whose rules may be narrowed to one organisation's rows."""

    @abstractmethod
    def organisation_column(self) -> InstrumentedAttribute[str]:
        """The column naming the organisation a row belongs to."""

    def knows_organisation(self, session: Session, organisation: str) -> bool:
        """Registered, or the owner of some of this dataset's rows (nodes that import before
        registering organisations still get rules; a typo is still refused)."""
        if session.get(Organisation, organisation) is not None:
            return True
        column = self.organisation_column()
        return session.scalar(select(exists().where(column == organisation))) or False


class ScopedByPurpose(ABC):
    """A dataset whose rows are kept for a purpose, so rules may be narrowed to one purpose."""

    @abstractmethod
    def purpose_column(self) -> InstrumentedAttribute[str]:
        """The column naming the purpose a row is kept for."""

    def knows_purpose(self, session: Session, purpose: str) -> bool:
        """Registered, or the purpose of some of this dataset's rows."""
        if session.get(Purpose, purpose) is not None:
            return True
        column = self.purpose_column()
        return session.scalar(select(exists().where(column == purpose))) or False


def in_scope(dataset: RetentionDataset, scope: Scope) -> ColumnElement[bool]:
    """SQL: the row belongs to ``scope``.

    A scope the dataset cannot express (an organisation for ``sessions``) matches nothing:
    silently dropping the narrowing would turn one organisation's rule into everyone's.
    """
    conditions: list[ColumnElement[bool]] = []
    if scope.organisation is not None:
        if not isinstance(dataset, ScopedByOrganisation):
            return false()
        conditions.append(dataset.organisation_column() == scope.organisation)
    if scope.purpose is not None:
        if not isinstance(dataset, ScopedByPurpose):
            return false()
        conditions.append(dataset.purpose_column() == scope.purpose)
    return and_(true(), *conditions)


def governed(dataset: RetentionDataset, selection: Selection) -> ColumnElement[bool]:
    """SQL: the row is in the rule's scope and no more specific rule's scope covers it."""
    overridden = [in_scope(dataset, scope) for scope in selection.overridden]
    return and_(in_scope(dataset, selection.scope), not_(or_(false(), *overridden)))


def _count(session: Session, column: Any, where: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count(column)).where(where)) or 0


def _pages(
    session: Session, columns: list[Any], where: ColumnElement[bool], size: int
) -> Iterator[list[Any]]:
    """Pages of up to ``size`` matching rows, until none match.

    No offset or keyset: each page is changed before the next is read, so the same query
    returns the next rows (and a page that changes nothing would loop, so callers must change
    every row of a page so that it no longer matches).
    """
    while True:
        page = list(session.execute(select(*columns).where(where).limit(size)))
        if not page:
            return
        yield page


def _deleted(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)


class RecordsDataset(RetentionDataset, ScopedByOrganisation):
    """Harmonised records, aged from ``received_date`` (when the organisation got the report).

    ``delete`` removes the record, its coded values (``record_concept``) and its protected
    values. ``anonymise`` keeps the record for statistics and removes what could single a child
    out or link the row back to a case file:

    * ``subject_key`` → NULL (the child's pseudonym: links reports about the same child);
    * ``subnational_area`` → NULL (with a date and an age band it can point to one child);
    * ``occurred_date`` → the first day of its month (the exact day identifies an incident);
    * ``source_key`` → ``anon:<record id>`` (the pseudonym of the partner's record key would
      link the row back to the partner's case file, and a re-import of the old file would
      otherwise "correct" the record and restore what was removed);
    * its protected values (encrypted names, contacts) are deleted.

    Kept: ``received_date`` (what the age is measured from, and what indicators count by
    month), country, the coded fields and ``record_concept``. Anonymised records are still
    record-level rows: anything that leaves the node goes through disclosure control.
    """

    name = "records"
    summary = "harmonised records, aged from the date the report was received"
    actions = (DELETE, ANONYMISE)

    def organisation_column(self) -> InstrumentedAttribute[str]:
        return Record.source_org

    def _where(self, selection: Selection, action: str) -> ColumnElement[bool]:
        where = and_(governed(self, selection), Record.received_date < selection.cutoff)
        if action == ANONYMISE:
            spared = [self._where(s, DELETE) for s in selection.spared]
            # Only records that still hold something to remove: a second run changes nothing.
            where = and_(where, _identifying_left(), not_(or_(false(), *spared)))
        return where

    def count(self, session: Session, selection: Selection, action: str) -> dict[str, int]:
        where = self._where(selection, action)
        ids = select(Record.id).where(where)
        counts = {"record": _count(session, Record.id, where)}
        if action == DELETE:
            counts["record_concept"] = _count(
                session, RecordConcept.record_id, RecordConcept.record_id.in_(ids)
            )
        counts["protected_value"] = _count(
            session, ProtectedValue.record_id, ProtectedValue.record_id.in_(ids)
        )
        return counts

    def apply(
        self,
        session: Session,
        selection: Selection,
        action: str,
        *,
        batch_size: int,
        on_batch: BatchCallback | None = None,
    ) -> dict[str, int]:
        counts = dict.fromkeys(("record", "record_concept", "protected_value"), 0)
        if action == ANONYMISE:
            del counts["record_concept"]
        columns = [Record.id, Record.occurred_date]
        for page in _pages(session, columns, self._where(selection, action), batch_size):
            ids = [row.id for row in page]
            # Children first, explicitly: clearer than relying on ON DELETE CASCADE (which
            # SQLite only honours with PRAGMA foreign_keys=ON), and one statement per table.
            counts["protected_value"] += _deleted(
                session, delete(ProtectedValue).where(ProtectedValue.record_id.in_(ids))
            )
            if action == DELETE:
                counts["record_concept"] += _deleted(
                    session, delete(RecordConcept).where(RecordConcept.record_id.in_(ids))
                )
                counts["record"] += _deleted(session, delete(Record).where(Record.id.in_(ids)))
            else:
                session.execute(
                    update(Record),
                    [
                        {
                            "id": row.id,
                            "subject_key": None,
                            "subnational_area": None,
                            "occurred_date": _first_of_month(row.occurred_date),
                            "source_key": f"{ANONYMISED_KEY_PREFIX}{row.id}",
                        }
                        for row in page
                    ],
                )
                counts["record"] += len(page)
            if on_batch is not None:
                on_batch(len(page))
        return counts


def _identifying_left() -> ColumnElement[bool]:
    """SQL: the record still holds something anonymisation removes."""
    return or_(
        not_(Record.source_key.startswith(ANONYMISED_KEY_PREFIX, autoescape=True)),
        Record.subject_key.is_not(None),
        Record.subnational_area.is_not(None),
        and_(Record.occurred_date.is_not(None), extract("day", Record.occurred_date) != 1),
        exists().where(ProtectedValue.record_id == Record.id),
    )


def _first_of_month(day: date | None) -> date | None:
    return None if day is None else day.replace(day=1)


class ProtectedValuesDataset(RetentionDataset, ScopedByOrganisation, ScopedByPurpose):
    """Encrypted identifying values (names, contacts) kept for a purpose, aged from when they
    were stored. Only ``delete``: an encrypted value has nothing to keep once it is anonymised.
    The record they belong to stays (a records rule decides about it)."""

    name = "protected_values"
    summary = "encrypted identifying values kept for a purpose, aged from when they were stored"
    actions = (DELETE,)

    def organisation_column(self) -> InstrumentedAttribute[str]:
        return ProtectedValue.organisation

    def purpose_column(self) -> InstrumentedAttribute[str]:
        return ProtectedValue.purpose

    def _where(self, selection: Selection) -> ColumnElement[bool]:
        return and_(governed(self, selection), ProtectedValue.created_at < selection.cutoff_moment)

    def count(self, session: Session, selection: Selection, action: str) -> dict[str, int]:
        return {
            "protected_value": _count(session, ProtectedValue.record_id, self._where(selection))
        }

    def apply(
        self,
        session: Session,
        selection: Selection,
        action: str,
        *,
        batch_size: int,
        on_batch: BatchCallback | None = None,
    ) -> dict[str, int]:
        total = 0
        key = [ProtectedValue.record_id, ProtectedValue.field]
        for page in _pages(session, key, self._where(selection), batch_size):
            pairs = [(row.record_id, row.field) for row in page]
            total += _deleted(session, delete(ProtectedValue).where(tuple_(*key).in_(pairs)))
            if on_batch is not None:
                on_batch(len(page))
        return {"protected_value": total}


class QuarantineDataset(RetentionDataset, ScopedByOrganisation):
    """Quarantined rows (rows that failed validation, with their original values). A resolved
    row (resubmitted or discarded) ages from ``resolved_at``; an open one from the start of the
    import that quarantined it. The batch itself, and its counts, are kept."""

    name = "quarantine"
    summary = "quarantined rows, aged from resolution, or from their import when still open"
    actions = (DELETE,)

    def organisation_column(self) -> InstrumentedAttribute[str]:
        return QuarantinedRow.source_org

    def _where(self, selection: Selection) -> ColumnElement[bool]:
        moment = selection.cutoff_moment
        old_batches = select(IngestBatch.id).where(IngestBatch.started_at < moment)
        return and_(
            governed(self, selection),
            or_(
                and_(QuarantinedRow.resolved_at.is_not(None), QuarantinedRow.resolved_at < moment),
                and_(
                    QuarantinedRow.resolved_at.is_(None), QuarantinedRow.batch_id.in_(old_batches)
                ),
            ),
        )

    def count(self, session: Session, selection: Selection, action: str) -> dict[str, int]:
        return {"quarantined_row": _count(session, QuarantinedRow.id, self._where(selection))}

    def apply(
        self,
        session: Session,
        selection: Selection,
        action: str,
        *,
        batch_size: int,
        on_batch: BatchCallback | None = None,
    ) -> dict[str, int]:
        total = 0
        for page in _pages(session, [QuarantinedRow.id], self._where(selection), batch_size):
            ids = [row.id for row in page]
            total += _deleted(session, delete(QuarantinedRow).where(QuarantinedRow.id.in_(ids)))
            if on_batch is not None:
                on_batch(len(page))
        return {"quarantined_row": total}


class SessionsDataset(RetentionDataset):
    """Login sessions aged from when they expired, and API tokens from when they stopped
    working (expired or revoked, whichever came first). Kept a while after that so a security
    review can still see who was logged in; never per organisation (a user may belong to
    several), never per purpose."""

    name = "sessions"
    summary = "expired login sessions and expired or revoked API tokens, aged from then"
    actions = (DELETE,)

    def rows(self, counts: dict[str, int]) -> int:
        return counts["user_session"] + counts["api_token"]

    @staticmethod
    def _sessions(selection: Selection) -> ColumnElement[bool]:
        return UserSession.expires_at < selection.cutoff_moment

    @staticmethod
    def _tokens(selection: Selection) -> ColumnElement[bool]:
        moment = selection.cutoff_moment
        # revoked_at < moment is NULL (not true) for a token never revoked.
        return or_(ApiToken.expires_at < moment, ApiToken.revoked_at < moment)

    def count(self, session: Session, selection: Selection, action: str) -> dict[str, int]:
        return {
            "user_session": _count(session, UserSession.id_hash, self._sessions(selection)),
            "api_token": _count(session, ApiToken.id, self._tokens(selection)),
        }

    def apply(
        self,
        session: Session,
        selection: Selection,
        action: str,
        *,
        batch_size: int,
        on_batch: BatchCallback | None = None,
    ) -> dict[str, int]:
        counts = {"user_session": 0, "api_token": 0}
        for page in _pages(session, [UserSession.id_hash], self._sessions(selection), batch_size):
            hashes = [row.id_hash for row in page]
            counts["user_session"] += _deleted(
                session, delete(UserSession).where(UserSession.id_hash.in_(hashes))
            )
            if on_batch is not None:
                on_batch(len(page))
        for page in _pages(session, [ApiToken.id], self._tokens(selection), batch_size):
            ids = [row.id for row in page]
            counts["api_token"] += _deleted(session, delete(ApiToken).where(ApiToken.id.in_(ids)))
            if on_batch is not None:
                on_batch(len(page))
        return counts


class DatasetRegistry:
    """The datasets retention rules may name, in the order a run applies them."""

    def __init__(self, datasets: Iterable[RetentionDataset] = ()) -> None:
        self._by_name: dict[str, RetentionDataset] = {}
        for dataset in datasets:
            self.register(dataset)

    def register(self, dataset: RetentionDataset) -> None:
        """Add a dataset; its name must be lowercase, unique, and its actions known."""
        name = getattr(dataset, "name", None)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigurationError(
                f"retention dataset name {name!r} must be lowercase letters, digits or '_' "
                "(at most 32, starting with a letter)"
            )
        if name in self._by_name:
            raise ConfigurationError(f"two retention datasets are called {name!r}")
        unknown = set(dataset.actions) - set(ACTIONS)
        if not dataset.actions or unknown:
            raise ConfigurationError(
                f"retention dataset {name!r} must support some of {', '.join(ACTIONS)}"
                + (f", not {', '.join(sorted(unknown))}" if unknown else "")
            )
        self._by_name[name] = dataset

    def get(self, name: str) -> RetentionDataset:
        dataset = self._by_name.get(name)
        if dataset is None:
            raise InputError(
                f"unknown dataset {name!r}: retention rules apply to {', '.join(self.names)}"
            )
        return dataset

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def position(self, name: str) -> int:
        return self.names.index(name)

    def __iter__(self) -> Iterator[RetentionDataset]:
        return iter(self._by_name.values())


def default_datasets() -> DatasetRegistry:
    """The built-in datasets, registered like a plug-in's would be.

    Why this order: a run applies datasets in it, and ``records`` comes last because deleting
    a record also deletes its protected values; applying ``protected_values`` rules first keeps
    each rule's count equal to what the dry run said.
    """
    return DatasetRegistry(
        [ProtectedValuesDataset(), QuarantineDataset(), SessionsDataset(), RecordsDataset()]
    )
