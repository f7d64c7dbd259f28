"""Retention: rules saying how long each kind of data is kept, and a run that deletes or
anonymises what has expired.

A rule names a dataset (see :mod:`concord.protect.retention_datasets`), a number of days to
keep, an action (``delete`` or ``anonymise``), and optionally an organisation and a purpose.

**Which rule wins.** Where several rules for the same dataset and action cover a row, only the
most specific applies: organisation + purpose > organisation > purpose > every organisation.
So a global "delete records after 5 years" and "delete hotline-a's records after 10 years"
keep hotline-a's records 10 years and everyone else's 5, whichever is shorter. Precedence is
per action: an organisation's own ``delete`` rule does not switch off a global ``anonymise``
rule (anonymise after 1 year, delete after 10 is the usual pair). Two rules with the same
dataset, scope and action are refused, so exactly one rule governs each row and action.

**A run** applies every rule, datasets in registry order and, within one, deletions before
anonymisation (so nothing is anonymised and then deleted in the same run), in batches, inside
the caller's transaction. It writes one audit entry per rule applied, even when it changed
nothing (evidence that the rule is enforced): action ``retention.delete`` or
``retention.anonymise``, details with the rule, the cutoff and counts, never values. The audit
trail itself is never subject to retention.

**A dry run** counts the same rows with the same SQL and changes nothing, the audit trail
included: it reveals only counts, needs no write access, and a trail that lists only what
happened stays meaningful.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import RetentionRule
from concord.errors import InputError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.protect.retention_datasets import (
    ACTIONS,
    ANONYMISE,
    DELETE,
    DatasetRegistry,
    RetentionDataset,
    Scope,
    ScopedByOrganisation,
    ScopedByPurpose,
    Selection,
    default_datasets,
)

__all__ = [
    "ACTIONS",
    "ANONYMISE",
    "DEFAULT_BATCH_SIZE",
    "DELETE",
    "MAX_KEEP_DAYS",
    "RetentionPlan",
    "RetentionReport",
    "RuleOutcome",
    "add_rule",
    "list_rules",
    "plan",
    "remove_rule",
    "run",
]

#: 100 years: anything longer is a typo (and date arithmetic must not overflow).
MAX_KEEP_DAYS = 36_600
#: Rows per statement: small enough for SQLite's bound-parameter limit and short locks,
#: large enough that a million rows take a thousand round trips, not a million.
DEFAULT_BATCH_SIZE = 1000

#: Called after each batch with the rule's id and the rows that batch changed.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule changes (a plan, a dry run) or changed (a run)."""

    rule_id: int
    dataset: str
    organisation: str | None
    purpose: str | None
    action: str
    keep_days: int
    #: Rows dated before this day have expired.
    cutoff: date
    #: The headline count: rows of the dataset deleted or anonymised.
    rows: int
    #: Rows per table, including what goes with them (a record's coded values and protected
    #: values).
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "dataset": self.dataset,
            "organisation": self.organisation,
            "purpose": self.purpose,
            "action": self.action,
            "keep_days": self.keep_days,
            "cutoff": self.cutoff.isoformat(),
            "rows": self.rows,
            "counts": dict(self.counts),
        }


@dataclass(frozen=True)
class RetentionPlan:
    """What a run on ``today`` would do, rule by rule, in the order it would do it."""

    today: date
    outcomes: tuple[RuleOutcome, ...]

    def total(self, action: str) -> int:
        return sum(o.rows for o in self.outcomes if o.action == action)


@dataclass(frozen=True)
class RetentionReport(RetentionPlan):
    """What a run did (or, with ``dry_run``, would have done: nothing was changed)."""

    dry_run: bool = False


def add_rule(
    session: Session,
    audit: AuditTrail,
    *,
    dataset: str,
    keep_days: int,
    action: str,
    created_by: str,
    organisation: str | None = None,
    purpose: str | None = None,
    datasets: DatasetRegistry | None = None,
) -> RetentionRule:
    """Add a rule after checking it makes sense for its dataset; audited."""
    registry = datasets or default_datasets()
    found = registry.get(dataset)
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r}: use {' or '.join(ACTIONS)}")
    if action not in found.actions:
        raise InputError(
            f"the {dataset} dataset can only be {' or '.join(found.actions)}d, "
            f"not {action}d ({found.summary})"
        )
    if isinstance(keep_days, bool) or not 1 <= keep_days <= MAX_KEEP_DAYS:
        raise InputError(
            f"keep days must be a whole number of days from 1 to {MAX_KEEP_DAYS:,}, "
            f"not {keep_days!r}"
        )
    _check_scope(session, found, organisation, purpose)
    clash = session.scalar(
        select(RetentionRule.id).where(
            RetentionRule.dataset == dataset,
            RetentionRule.action == action,
            _is(RetentionRule.organisation, organisation),
            _is(RetentionRule.purpose, purpose),
        )
    )
    if clash is not None:
        raise InputError(
            f"retention rule {clash} already says when to {action} {dataset} "
            f"{_scope_words(organisation, purpose)}; remove it first "
            f"(`concord retention remove {clash}`)"
        )
    rule = RetentionRule(
        dataset=dataset,
        organisation=organisation,
        purpose=purpose,
        keep_days=keep_days,
        action=action,
        created_by=created_by,
        created_at=datetime.now(UTC),
        details={},
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        actor=created_by,
        action="retention_rule.create",
        organisation=organisation,
        purpose=purpose,
        target=f"retention_rule:{rule.id}",
        details=_rule_details(rule),
    )
    return rule


def _check_scope(
    session: Session, dataset: RetentionDataset, organisation: str | None, purpose: str | None
) -> None:
    if organisation is not None:
        if not isinstance(dataset, ScopedByOrganisation):
            raise InputError(
                f"{dataset.name} are not kept per organisation: leave out the organisation"
            )
        if not dataset.knows_organisation(session, organisation):
            raise InputError(
                f"unknown organisation {organisation!r}: it is not registered "
                f"(`concord admin org list`) and owns no {dataset.name}"
            )
    if purpose is not None:
        if not isinstance(dataset, ScopedByPurpose):
            raise InputError(
                f"{dataset.name} are not kept for a purpose, so a rule for them cannot name "
                "one: leave out the purpose"
            )
        if not dataset.knows_purpose(session, purpose):
            raise InputError(
                f"unknown purpose {purpose!r}: it is not registered "
                f"(`concord admin purpose list`) and no {dataset.name} are kept for it"
            )


def _is(column: Any, value: str | None) -> Any:
    return column.is_(None) if value is None else column == value


def _scope_words(organisation: str | None, purpose: str | None) -> str:
    org = f"of {organisation}" if organisation else "of every organisation"
    return org + (f" kept for {purpose}" if purpose else "")


def _rule_details(rule: RetentionRule) -> dict[str, Any]:
    return {
        "rule_id": rule.id,
        "dataset": rule.dataset,
        "keep_days": rule.keep_days,
        "action": rule.action,
    }


def list_rules(session: Session) -> list[RetentionRule]:
    """Every rule, oldest first."""
    return list(session.scalars(select(RetentionRule).order_by(RetentionRule.id)))


def remove_rule(session: Session, audit: AuditTrail, rule_id: int, by: str) -> RetentionRule:
    """Remove a rule (data it covered is then kept until another rule covers it); audited."""
    rule = session.get(RetentionRule, rule_id)
    if rule is None:
        raise NotFoundError(f"no retention rule {rule_id} (see `concord retention rules`)")
    audit.record(
        session,
        actor=by,
        action="retention_rule.remove",
        organisation=rule.organisation,
        purpose=rule.purpose,
        target=f"retention_rule:{rule.id}",
        details=_rule_details(rule),
    )
    session.delete(rule)
    session.flush()
    return rule


@dataclass(frozen=True)
class _Step:
    rule: RetentionRule
    dataset: RetentionDataset
    selection: Selection


def _steps(session: Session, registry: DatasetRegistry, today: date) -> list[_Step]:
    """Every rule with the rows it governs, in the order a run applies them."""
    rules = list_rules(session)
    for rule in rules:
        # Rules are checked when added, but the table can be written by other means (SQL, an
        # older version): refuse to run rather than apply a rule that means something else.
        dataset = registry.get(rule.dataset)
        if rule.action not in dataset.actions:
            raise InputError(
                f"retention rule {rule.id} would {rule.action} {rule.dataset}, which this node "
                f"can only {' or '.join(dataset.actions)}: remove it"
            )
        unscoped = (
            rule.organisation is not None and not isinstance(dataset, ScopedByOrganisation)
        ) or (rule.purpose is not None and not isinstance(dataset, ScopedByPurpose))
        if unscoped:
            raise InputError(
                f"retention rule {rule.id} names an organisation or purpose, which "
                f"{rule.dataset} are not kept by: remove it"
            )
    rules.sort(
        key=lambda r: (
            registry.position(r.dataset),
            ACTIONS.index(r.action),
            -_scope(r).specificity,
            r.id,
        )
    )
    steps: list[_Step] = []
    for rule in rules:
        peers = [r for r in rules if (r.dataset, r.action) == (rule.dataset, rule.action)]
        overridden = tuple(
            _scope(r) for r in peers if _scope(r).specificity > _scope(rule).specificity
        )
        # Deletions come first in ``rules``, so their selections already exist here.
        spared = tuple(
            s.selection
            for s in steps
            if rule.action == ANONYMISE
            and (s.rule.dataset, s.rule.action) == (rule.dataset, DELETE)
        )
        cutoff = today - timedelta(days=rule.keep_days)
        selection = Selection(_scope(rule), cutoff, overridden, spared)
        steps.append(_Step(rule, registry.get(rule.dataset), selection))
    return steps


def _scope(rule: RetentionRule) -> Scope:
    return Scope(rule.organisation, rule.purpose)


def _outcome(step: _Step, counts: dict[str, int]) -> RuleOutcome:
    rule = step.rule
    return RuleOutcome(
        rule_id=rule.id,
        dataset=rule.dataset,
        organisation=rule.organisation,
        purpose=rule.purpose,
        action=rule.action,
        keep_days=rule.keep_days,
        cutoff=step.selection.cutoff,
        rows=step.dataset.rows(counts),
        counts=counts,
    )


def _today() -> date:
    return datetime.now(UTC).date()


def plan(
    session: Session, *, today: date | None = None, datasets: DatasetRegistry | None = None
) -> RetentionPlan:
    """What a run on ``today`` (default: today in UTC) would delete or anonymise; changes
    nothing."""
    day = today or _today()
    steps = _steps(session, datasets or default_datasets(), day)
    outcomes = tuple(
        _outcome(s, s.dataset.count(session, s.selection, s.rule.action)) for s in steps
    )
    return RetentionPlan(day, outcomes)


def run(
    session: Session,
    audit: AuditTrail,
    *,
    actor: str,
    dry_run: bool = False,
    today: date | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    datasets: DatasetRegistry | None = None,
    progress: ProgressCallback | None = None,
) -> RetentionReport:
    """Apply every rule (see the module docstring for order, precedence and auditing).

    ``today`` may be earlier than the real date (that deletes less), but later only in a dry
    run: a run "from the future" would delete data before its time.
    """
    if batch_size < 1:
        raise InputError(f"batch size must be at least 1, not {batch_size}")
    day = today or _today()
    if dry_run:
        planned = plan(session, today=day, datasets=datasets)
        return RetentionReport(day, planned.outcomes, dry_run=True)
    if day > _today():
        raise InputError(
            f"{day.isoformat()} is later than today: only a dry run may look ahead "
            "(a run would delete data before its retention period ends)"
        )
    outcomes: list[RuleOutcome] = []
    for step in _steps(session, datasets or default_datasets(), day):
        rule = step.rule
        on_batch = None if progress is None else _bind(progress, rule.id)
        counts = step.dataset.apply(
            session, step.selection, rule.action, batch_size=batch_size, on_batch=on_batch
        )
        outcome = _outcome(step, counts)
        audit.record(
            session,
            actor=actor,
            action=f"retention.{rule.action}",
            organisation=rule.organisation,
            purpose=rule.purpose,
            target=f"retention_rule:{rule.id}",
            details={
                **_rule_details(rule),
                "cutoff": outcome.cutoff.isoformat(),
                "count": outcome.rows,
                "counts": counts,
            },
        )
        outcomes.append(outcome)
    # The statements above bypass the ORM's identity map: objects the caller still holds must
    # be reloaded (or found deleted) rather than show what was just removed.
    session.expire_all()
    return RetentionReport(day, tuple(outcomes), dry_run=False)


def _bind(progress: ProgressCallback, rule_id: int) -> Callable[[int], None]:
    return lambda rows: progress(rule_id, rows)
