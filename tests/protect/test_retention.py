"""Retention rules and runs, on SQLite and PostgreSQL: each dataset and action, the cutoff
boundary, which rule wins, dry runs, auditing, and refused rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from concord.db.models import (
    ApiToken,
    AuditEntry,
    IngestBatch,
    Organisation,
    ProtectedValue,
    QuarantinedRow,
    Record,
    RecordConcept,
    RetentionRule,
    User,
    UserSession,
)
from concord.errors import ConfigurationError, InputError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.protect.retention import (
    MAX_KEEP_DAYS,
    add_rule,
    list_rules,
    plan,
    remove_rule,
    run,
)
from concord.protect.retention_datasets import (
    ANONYMISED_KEY_PREFIX,
    DELETE,
    BatchCallback,
    DatasetRegistry,
    QuarantineDataset,
    RecordsDataset,
    RetentionDataset,
    Scope,
    Selection,
    default_datasets,
)

TODAY = date(2024, 6, 30)
_keys = count(1)


@pytest.fixture
def audit() -> AuditTrail:
    return AuditTrail(b"r" * 32)


# --- rows, made directly with the ORM -------------------------------------------------------


def day(age: int) -> date:
    """The date ``age`` days before TODAY."""
    return TODAY - timedelta(days=age)


def moment(age: int, at: time = time(12)) -> datetime:
    return datetime.combine(day(age), at, tzinfo=UTC)


def batch(session: Session, org: str, *, started_age: int = 0) -> IngestBatch:
    made = IngestBatch(
        source_org=org,
        mapping_version="1",
        mapping_sha256="0" * 64,
        vocabulary_version="1",
        file_name="partner.csv",
        file_sha256=f"{next(_keys):064x}",
        file_bytes=100,
        imported_by="test",
        started_at=moment(started_age),
        status="done",
    )
    session.add(made)
    session.flush()
    return made


def record(
    session: Session,
    org: str,
    received_age: int,
    *,
    occurred: date | None = date(2019, 3, 17),
    protected: tuple[str, ...] = ("name",),
    purpose: str = "case_management",
) -> Record:
    made = Record(
        batch_id=batch(session, org).id,
        source_org=org,
        source_key=f"{next(_keys):064x}",
        subject_key=f"{next(_keys):064x}",
        received_date=day(received_age),
        occurred_date=occurred,
        country="KE",
        subnational_area="Nairobi",
        victim_age_band="age.13_15",
    )
    session.add(made)
    session.flush()
    session.add(RecordConcept(record_id=made.id, field="abuse_types", concept_id="abuse.grooming"))
    for name in protected:
        session.add(protected_value(made, name, purpose=purpose, created_age=received_age))
    session.flush()
    return made


def protected_value(
    owner: Record, field: str, *, purpose: str, created_age: int, at: time = time(12)
) -> ProtectedValue:
    return ProtectedValue(
        record_id=owner.id,
        field=field,
        organisation=owner.source_org,
        purpose=purpose,
        key_version=1,
        ciphertext=b"\x01" * 40,
        created_at=moment(created_age, at),
        created_by="test",
    )


def quarantined(
    session: Session, org: str, *, batch_age: int, resolved_age: int | None = None
) -> QuarantinedRow:
    row = QuarantinedRow(
        batch_id=batch(session, org, started_age=batch_age).id,
        source_org=org,
        row_number=next(_keys),
        reasons=["bad date"],
        values={"date": "31/02/2020"},
        status="open" if resolved_age is None else "discarded",
        resolved_at=None if resolved_age is None else moment(resolved_age),
    )
    session.add(row)
    session.flush()
    return row


def app_user(session: Session) -> User:
    made = User(
        username=f"user{next(_keys)}",
        display_name="Test",
        password_hash="x",
        created_at=moment(1000),
    )
    session.add(made)
    session.flush()
    return made


def exists(session: Session, model: type, key: object) -> bool:
    """Whether the row is still in the database (not what the session remembers)."""
    session.expire_all()
    return session.get(model, key) is not None


def audit_entries(session: Session, prefix: str = "retention.") -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.seq)
    return list(session.scalars(query))


def rule(session: Session, audit: AuditTrail, dataset: str, keep: int, action: str = DELETE,
         **scope: str) -> RetentionRule:  # fmt: skip
    return add_rule(
        session, audit, dataset=dataset, keep_days=keep, action=action, created_by="dpo", **scope
    )


# --- the registry ---------------------------------------------------------------------------


def test_default_datasets_have_stable_lowercase_names() -> None:
    names = default_datasets().names
    assert sorted(names) == ["protected_values", "quarantine", "records", "sessions"]
    assert names[-1] == "records"  # after protected_values: see default_datasets()


def test_registry_refuses_duplicate_and_bad_names() -> None:
    with pytest.raises(ConfigurationError, match="two retention datasets"):
        DatasetRegistry([RecordsDataset(), RecordsDataset()])

    class Shouting(QuarantineDataset):
        name = "Quarantine"

    with pytest.raises(ConfigurationError, match="lowercase"):
        DatasetRegistry([Shouting()])

    class Archiving(QuarantineDataset):
        name = "archive"
        actions: ClassVar[tuple[str, ...]] = ("archive",)

    with pytest.raises(ConfigurationError, match="not archive"):
        DatasetRegistry([Archiving()])


def test_scope_specificity_order() -> None:
    assert (
        Scope("a", "p").specificity
        > Scope("a").specificity
        > Scope(purpose="p").specificity
        > Scope().specificity
    )


# --- rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dataset": "cases"}, "unknown dataset 'cases'.*records"),
        ({"action": "archive"}, "unknown action 'archive'"),
        ({"dataset": "protected_values", "action": "anonymise"}, "can only be deleted"),
        ({"dataset": "sessions", "action": "anonymise"}, "can only be deleted"),
        ({"keep_days": 0}, "from 1 to"),
        ({"keep_days": -5}, "from 1 to"),
        ({"keep_days": MAX_KEEP_DAYS + 1}, "from 1 to"),
        ({"dataset": "sessions", "organisation": "hotline-a"}, "not kept per organisation"),
        ({"purpose": "case_management"}, "records are not kept for a purpose"),
        ({"dataset": "quarantine", "purpose": "case_management"}, "not kept for a purpose"),
        ({"organisation": "hotlin-a"}, "unknown organisation 'hotlin-a'"),
        ({"dataset": "protected_values", "purpose": "marketing"}, "unknown purpose 'marketing'"),
    ],
)
def test_invalid_rules_are_refused_with_a_reason(
    session: Session, audit: AuditTrail, options: dict[str, Any], message: str
) -> None:
    record(session, "hotline-a", 1)
    arguments: dict[str, Any] = {"dataset": "records", "keep_days": 30, "action": DELETE}
    arguments |= options
    with pytest.raises(InputError, match=message):
        add_rule(session, audit, created_by="dpo", **arguments)
    assert list_rules(session) == []


def test_a_second_rule_for_the_same_scope_and_action_is_refused(
    session: Session, audit: AuditTrail
) -> None:
    record(session, "hotline-a", 1)
    first = rule(session, audit, "records", 365, organisation="hotline-a")
    with pytest.raises(InputError, match=f"rule {first.id} already"):
        rule(session, audit, "records", 700, organisation="hotline-a")
    # Another action, or another scope, is a different rule.
    rule(session, audit, "records", 90, "anonymise", organisation="hotline-a")
    rule(session, audit, "records", 700)
    assert len(list_rules(session)) == 3


def test_registered_organisations_and_purposes_are_known_without_data(
    session: Session, audit: AuditTrail
) -> None:
    session.add(Organisation(slug="helpline-z", name="Z", created_at=moment(0)))
    session.flush()
    rule(session, audit, "quarantine", 30, organisation="helpline-z")
    from concord.protect.purposes import ensure_default_purposes

    ensure_default_purposes(session)
    rule(session, audit, "protected_values", 30, purpose="referral")


def test_adding_and_removing_rules_is_audited(session: Session, audit: AuditTrail) -> None:
    record(session, "hotline-a", 1)
    added = rule(session, audit, "records", 365, "anonymise", organisation="hotline-a")
    assert [r.id for r in list_rules(session)] == [added.id]
    remove_rule(session, audit, added.id, "dpo2")
    assert list_rules(session) == []
    entries = audit_entries(session, "retention_rule.")
    assert [(e.action, e.actor, e.organisation) for e in entries] == [
        ("retention_rule.create", "dpo", "hotline-a"),
        ("retention_rule.remove", "dpo2", "hotline-a"),
    ]
    assert entries[0].details == {
        "rule_id": added.id,
        "dataset": "records",
        "keep_days": 365,
        "action": "anonymise",
    }
    with pytest.raises(NotFoundError, match="no retention rule"):
        remove_rule(session, audit, added.id, "dpo")


# --- records ----------------------------------------------------------------------------------


def test_records_delete_at_the_boundary_with_concepts_and_protected_values(
    session: Session, audit: AuditTrail
) -> None:
    kept = record(session, "hotline-a", 30)  # exactly keep_days old: kept
    expired = record(session, "hotline-a", 31)  # one day older: deleted
    other_org = record(session, "hotline-b", 400)
    rule(session, audit, "records", 30, organisation="hotline-a")
    kept_id, expired_id, other_id = kept.id, expired.id, other_org.id

    report = run(session, audit, actor="dpo", today=TODAY)

    (outcome,) = report.outcomes
    assert outcome.cutoff == day(30)
    assert outcome.rows == 1
    assert outcome.counts == {"record": 1, "record_concept": 1, "protected_value": 1}
    assert exists(session, Record, kept_id)
    assert exists(session, Record, other_id)
    assert not exists(session, Record, expired_id)
    assert session.scalar(select(func.count()).where(RecordConcept.record_id == expired_id)) == 0
    assert session.scalar(select(func.count()).where(ProtectedValue.record_id == expired_id)) == 0
    assert session.scalar(select(func.count()).where(ProtectedValue.record_id == kept_id)) == 1


def test_records_anonymise_keeps_statistics_and_removes_what_singles_out(
    session: Session, audit: AuditTrail
) -> None:
    kept = record(session, "hotline-a", 365)
    expired = record(session, "hotline-a", 366, occurred=date(2019, 3, 17))
    undated = record(session, "hotline-a", 400, occurred=None, protected=())
    rule(session, audit, "records", 365, "anonymise")

    report = run(session, audit, actor="dpo", today=TODAY)

    assert report.outcomes[0].counts == {"record": 2, "protected_value": 1}
    session.expire_all()
    assert expired.subject_key is None
    assert expired.subnational_area is None
    assert expired.occurred_date == date(2019, 3, 1)
    assert expired.source_key == f"{ANONYMISED_KEY_PREFIX}{expired.id}"
    # What statistics need stays.
    assert expired.received_date == day(366)
    assert (expired.country, expired.victim_age_band) == ("KE", "age.13_15")
    assert session.scalar(select(func.count()).where(RecordConcept.record_id == expired.id)) == 1
    assert session.scalar(select(func.count()).where(ProtectedValue.record_id == expired.id)) == 0
    assert (undated.subject_key, undated.occurred_date) == (None, None)
    # The record exactly a year old is untouched.
    assert kept.subject_key is not None
    assert kept.subnational_area == "Nairobi"
    assert kept.occurred_date == date(2019, 3, 17)

    # Anonymised records hold nothing more to remove: a second run changes nothing.
    again = run(session, audit, actor="dpo", today=TODAY)
    assert again.outcomes[0].rows == 0


def test_deletion_and_anonymisation_together(session: Session, audit: AuditTrail) -> None:
    young = record(session, "hotline-a", 100)
    middle = record(session, "hotline-a", 500)
    old = record(session, "hotline-a", 4000)
    anonymise = rule(session, audit, "records", 365, "anonymise")
    delete = rule(session, audit, "records", 3650)
    old_id = old.id

    planned = plan(session, today=TODAY)
    # Deletions first; the record deleted is not also counted as anonymised.
    assert [(o.rule_id, o.rows) for o in planned.outcomes] == [(delete.id, 1), (anonymise.id, 1)]
    report = run(session, audit, actor="dpo", today=TODAY)
    assert report.outcomes == planned.outcomes
    assert not exists(session, Record, old_id)
    assert middle.subject_key is None
    assert young.subject_key is not None


def test_deleting_in_small_batches_reaches_every_row(session: Session, audit: AuditTrail) -> None:
    for _ in range(5):
        record(session, "hotline-a", 40)
    rule(session, audit, "records", 30)
    batches: list[tuple[int, int]] = []

    report = run(
        session,
        audit,
        actor="dpo",
        today=TODAY,
        batch_size=2,
        progress=lambda rule_id, rows: batches.append((rule_id, rows)),
    )

    assert report.outcomes[0].rows == 5
    assert [rows for _, rows in batches] == [2, 2, 1]
    assert session.scalar(select(func.count()).select_from(Record)) == 0


# --- protected values, quarantine, sessions ------------------------------------------------


def test_protected_values_deleted_per_purpose_at_the_boundary(
    session: Session, audit: AuditTrail
) -> None:
    owner = record(session, "hotline-a", 5, protected=())
    session.add_all(
        [
            # Any moment of the cutoff day is kept; the last moment of the day before is not.
            protected_value(owner, "name", purpose="referral", created_age=90, at=time(0)),
            protected_value(owner, "phone", purpose="referral", created_age=91, at=time(23, 59)),
            protected_value(owner, "email", purpose="case_management", created_age=900),
        ]
    )
    session.flush()
    rule(session, audit, "protected_values", 90, purpose="referral")

    report = run(session, audit, actor="dpo", today=TODAY)

    assert report.outcomes[0].counts == {"protected_value": 1}
    fields = set(session.scalars(select(ProtectedValue.field)))
    assert fields == {"name", "email"}
    assert exists(session, Record, owner.id)  # the record is a records rule's business


def test_quarantine_ages_from_resolution_or_from_the_import(
    session: Session, audit: AuditTrail
) -> None:
    open_old = quarantined(session, "hotline-a", batch_age=61)
    open_recent = quarantined(session, "hotline-a", batch_age=60)
    resolved_old = quarantined(session, "hotline-a", batch_age=500, resolved_age=61)
    resolved_recent = quarantined(session, "hotline-a", batch_age=500, resolved_age=60)
    other_org = quarantined(session, "hotline-b", batch_age=500)
    rule(session, audit, "quarantine", 60, organisation="hotline-a")
    ids = {
        name: row.id
        for name, row in [
            ("open_old", open_old),
            ("open_recent", open_recent),
            ("resolved_old", resolved_old),
            ("resolved_recent", resolved_recent),
            ("other_org", other_org),
        ]
    }

    report = run(session, audit, actor="dpo", today=TODAY)

    assert report.outcomes[0].counts == {"quarantined_row": 2}
    left = {name for name, id_ in ids.items() if exists(session, QuarantinedRow, id_)}
    assert left == {"open_recent", "resolved_recent", "other_org"}
    # The batches (and their counts) stay.
    assert session.scalar(select(func.count()).select_from(IngestBatch)) == 5


def test_sessions_and_tokens_deleted_some_days_after_they_stopped_working(
    session: Session, audit: AuditTrail
) -> None:
    user = app_user(session)

    def login(expired_age: int) -> str:
        id_hash = f"{next(_keys):064x}"
        session.add(
            UserSession(
                id_hash=id_hash,
                user_id=user.id,
                csrf_token="c",
                created_at=moment(expired_age + 1),
                expires_at=moment(expired_age),
                last_seen_at=moment(expired_age + 1),
            )
        )
        return id_hash

    def token(expired_age: int, revoked_age: int | None = None) -> ApiToken:
        made = ApiToken(
            user_id=user.id,
            name="t",
            token_hash=f"{next(_keys):064x}",
            scopes=["aggregate.read"],
            created_at=moment(800),
            expires_at=moment(expired_age),
            revoked_at=None if revoked_age is None else moment(revoked_age),
        )
        session.add(made)
        return made

    old_login, recent_login, live_login = login(31), login(30), login(-1)
    old_token, recent_token = token(31), token(30)
    revoked_long_ago, live_token = token(-100, revoked_age=31), token(-100)
    session.flush()
    token_ids = {
        "old": old_token.id,
        "recent": recent_token.id,
        "revoked": revoked_long_ago.id,
        "live": live_token.id,
    }
    rule(session, audit, "sessions", 30)

    report = run(session, audit, actor="dpo", today=TODAY)

    assert report.outcomes[0].counts == {"user_session": 1, "api_token": 2}
    assert report.outcomes[0].rows == 3
    assert not exists(session, UserSession, old_login)
    assert exists(session, UserSession, recent_login)
    assert exists(session, UserSession, live_login)
    left = {name for name, id_ in token_ids.items() if exists(session, ApiToken, id_)}
    assert left == {"recent", "live"}


# --- which rule wins ------------------------------------------------------------------------


def test_the_organisations_own_rule_wins_over_the_global_one(
    session: Session, audit: AuditTrail
) -> None:
    long_kept = record(session, "hotline-a", 100)
    too_old_even_there = record(session, "hotline-a", 400)
    elsewhere = record(session, "hotline-b", 100)
    global_rule = rule(session, audit, "records", 30)
    own_rule = rule(session, audit, "records", 365, organisation="hotline-a")
    ids = (long_kept.id, too_old_even_there.id, elsewhere.id)

    report = run(session, audit, actor="dpo", today=TODAY)

    by_rule = {o.rule_id: o.rows for o in report.outcomes}
    assert by_rule == {global_rule.id: 1, own_rule.id: 1}
    assert [exists(session, Record, id_) for id_ in ids] == [True, False, False]


def test_precedence_org_and_purpose_over_org_over_purpose_over_global(
    session: Session, audit: AuditTrail
) -> None:
    a = record(session, "hotline-a", 1, protected=())
    b = record(session, "hotline-b", 1, protected=())
    values = {
        # (owner, field, purpose, age): governed by ...
        "a_p_500": (a, "f1", "referral", 500),  # a+referral (1000): kept
        "a_p_1500": (a, "f2", "referral", 1500),  # a+referral (1000): deleted
        "a_q_500": (a, "f3", "research", 500),  # a (100): deleted
        "a_q_50": (a, "f4", "research", 50),  # a (100): kept
        "b_p_20": (b, "f5", "referral", 20),  # referral (10): deleted
        "b_q_20": (b, "f6", "research", 20),  # everything (50): kept
        "b_q_60": (b, "f7", "research", 60),  # everything (50): deleted
    }
    for owner, field, purpose, age in values.values():
        session.add(protected_value(owner, field, purpose=purpose, created_age=age))
    session.flush()
    rules = {
        "global": rule(session, audit, "protected_values", 50),
        "purpose": rule(session, audit, "protected_values", 10, purpose="referral"),
        "org": rule(session, audit, "protected_values", 100, organisation="hotline-a"),
        "both": rule(
            session, audit, "protected_values", 1000, organisation="hotline-a", purpose="referral"
        ),
    }

    report = run(session, audit, actor="dpo", today=TODAY)

    left = set(session.scalars(select(ProtectedValue.field)))
    assert left == {values[name][1] for name in ("a_p_500", "a_q_50", "b_q_20")}
    rows = {o.rule_id: o.rows for o in report.outcomes}
    assert rows == {
        rules["both"].id: 1,
        rules["org"].id: 1,
        rules["purpose"].id: 1,
        rules["global"].id: 1,
    }
    # Applied most specific first.
    assert [o.rule_id for o in report.outcomes] == [
        rules[name].id for name in ("both", "org", "purpose", "global")
    ]


def test_precedence_is_per_action(session: Session, audit: AuditTrail) -> None:
    """An organisation's own delete rule does not exempt it from the global anonymise rule."""
    old = record(session, "hotline-a", 400)
    rule(session, audit, "records", 3650, organisation="hotline-a")
    rule(session, audit, "records", 365, "anonymise")

    run(session, audit, actor="dpo", today=TODAY)

    session.expire_all()
    assert old.subject_key is None


# --- dry runs and auditing ------------------------------------------------------------------


def test_dry_run_changes_nothing_and_writes_no_audit_entry(
    session: Session, audit: AuditTrail
) -> None:
    doomed = record(session, "hotline-a", 100)
    faded = record(session, "hotline-b", 100)
    rule(session, audit, "records", 30, organisation="hotline-a")
    rule(session, audit, "records", 30, "anonymise", organisation="hotline-b")
    entries_before = session.scalar(select(func.count()).select_from(AuditEntry))

    dry = run(session, audit, actor="dpo", dry_run=True, today=TODAY)

    assert dry.dry_run
    assert [o.rows for o in dry.outcomes] == [1, 1]
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries_before
    assert exists(session, Record, doomed.id)
    assert faded.subject_key is not None
    assert session.scalar(select(func.count()).select_from(ProtectedValue)) == 2

    real = run(session, audit, actor="dpo", today=TODAY)
    assert real.outcomes == dry.outcomes  # the dry run said exactly what the run did


def test_a_dry_run_may_look_ahead_but_a_run_may_not(session: Session, audit: AuditTrail) -> None:
    record(session, "hotline-a", 10)
    rule(session, audit, "records", 30)
    future = datetime.now(UTC).date() + timedelta(days=30)
    assert run(session, audit, actor="dpo", dry_run=True, today=future).outcomes[0].rows == 1
    with pytest.raises(InputError, match="later than today"):
        run(session, audit, actor="dpo", today=future)
    with pytest.raises(InputError, match="batch size"):
        run(session, audit, actor="dpo", today=TODAY, batch_size=0)


def test_every_rule_applied_is_audited_with_counts_not_values(
    session: Session, audit: AuditTrail
) -> None:
    record(session, "hotline-a", 100)
    delete = rule(session, audit, "records", 30, organisation="hotline-a")
    nothing = rule(session, audit, "quarantine", 30)

    run(session, audit, actor="dpo", today=TODAY)

    entries = audit_entries(session)
    assert [(e.action, e.actor, e.target) for e in entries] == [
        ("retention.delete", "dpo", f"retention_rule:{nothing.id}"),
        ("retention.delete", "dpo", f"retention_rule:{delete.id}"),
    ]
    assert entries[1].organisation == "hotline-a"
    assert entries[1].details == {
        "rule_id": delete.id,
        "dataset": "records",
        "keep_days": 30,
        "action": "delete",
        "cutoff": day(30).isoformat(),
        "count": 1,
        "counts": {"record": 1, "record_concept": 1, "protected_value": 1},
    }
    assert entries[0].details["count"] == 0  # evidence the rule was enforced


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ({"action": "anonymise"}, "can only delete"),
        ({"organisation": "hotline-a"}, "names an organisation or purpose"),
        ({"dataset": "records", "purpose": "referral"}, "names an organisation or purpose"),
    ],
)
def test_a_stored_rule_the_dataset_cannot_apply_stops_the_run(
    session: Session, audit: AuditTrail, stored: dict[str, Any], message: str
) -> None:
    """Rules written around add_rule (SQL, an older version) are refused, not reinterpreted."""
    user = app_user(session)
    session.add(
        UserSession(
            id_hash="f" * 64,
            user_id=user.id,
            csrf_token="c",
            created_at=moment(400),
            expires_at=moment(400),
            last_seen_at=moment(400),
        )
    )
    values: dict[str, Any] = {"dataset": "sessions", "keep_days": 30, "action": DELETE}
    session.add(RetentionRule(**(values | stored), created_by="sql", created_at=moment(0)))
    session.flush()
    with pytest.raises(InputError, match=message):
        run(session, audit, actor="dpo", today=TODAY)
    with pytest.raises(InputError, match=message):
        plan(session, today=TODAY)
    assert exists(session, UserSession, "f" * 64)


class _NoRows(RetentionDataset):
    """A plug-in dataset: registered through the same door as the built-in ones."""

    name = "nothing"
    summary = "nothing at all"
    actions = (DELETE,)

    def count(self, session: Session, selection: Selection, action: str) -> dict[str, int]:
        return {"nothing": 0}

    def apply(
        self,
        session: Session,
        selection: Selection,
        action: str,
        *,
        batch_size: int,
        on_batch: BatchCallback | None = None,
    ) -> dict[str, int]:
        return {"nothing": 0}


def test_a_plug_in_dataset_takes_rules(session: Session, audit: AuditTrail) -> None:
    registry = default_datasets()
    registry.register(_NoRows())
    add_rule(
        session, audit, dataset="nothing", keep_days=1, action=DELETE, created_by="dpo",
        datasets=registry,
    )  # fmt: skip
    with pytest.raises(InputError, match="unknown dataset 'nothing'"):
        plan(session, today=TODAY)
    assert plan(session, today=TODAY, datasets=registry).outcomes[0].rows == 0
