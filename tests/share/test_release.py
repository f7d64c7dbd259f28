"""The release pipeline: every policy rule allows and denies, protected tables, budget
accounting, differencing between releases, storage and revocation (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import AuditEntry, Release, ReleaseTable
from concord.errors import InputError
from concord.indicators.definitions import default_registry
from concord.share.release import (
    ReleasePlan,
    ReleaseRequest,
    epsilon_spent,
    plan_release,
    revoke_release,
    run_release,
)
from concord.share.suppression import recoverable
from concord.vocab.model import Vocabulary
from tests.protect.factories import audit_trail, organisation, principal, user
from tests.share.release_setup import PROVIDER, agreement, in_force, many, parties, records

TODAY = date(2026, 11, 20)
AUDIT = audit_trail()


def rows_q3(extra: int = 0) -> list[dict[str, Any]]:
    """Reports of 2026-Q3: big cells, a few small ones, and ``extra`` late reports."""
    rows: list[dict[str, Any]] = []
    for month, day in ((7, 3), (8, 12), (9, 25)):
        received = date(2026, month, day)
        rows += many(
            40,
            country="country.es",
            abuse_types=["abuse.csam"],
            received_date=received,
            victim_age_band="age.13_15",
        )
        rows += many(
            25,
            country="country.es",
            abuse_types=["abuse.online_grooming"],
            received_date=received,
            victim_age_band="age.16_17",
        )
        rows += many(
            3,
            country="country.pt",
            abuse_types=["abuse.sexual_extortion"],
            received_date=received,
            victim_age_band="age.13_15",
        )
        rows += many(
            30,
            country="country.pt",
            abuse_types=["abuse.csam"],
            received_date=received,
            victim_age_band="age.16_17",
        )
    rows += many(
        extra,
        country="country.es",
        abuse_types=["abuse.csam"],
        received_date=date(2026, 8, 20),
        victim_age_band="age.13_15",
    )
    return rows


def plan(
    session: Session,
    vocabulary: Vocabulary,
    *,
    frame: pl.DataFrame | None = None,
    username: str = "steward-es",
    period: str = "2026-Q3",
    **request: Any,
) -> ReleasePlan:
    who = principal(session, session.scalars(select_user(username)).one())
    return plan_release(
        session,
        ReleaseRequest(request.pop("agreement_id", "es-to-hub"), period, **request),
        principal=who,
        vocabulary=vocabulary,
        registry=default_registry(None, vocabulary, session),
        frame=frame if frame is not None else records(rows_q3()),
        today=TODAY,
    )


def select_user(username: str) -> Any:
    from concord.db.models import User

    return select(User).where(User.username == username)


@pytest.fixture
def ready(session: Session) -> Session:
    parties(session)
    in_force(session, agreement())
    return session


def test_an_allowed_plan_publishes_no_small_cell(ready: Session, vocabulary: Vocabulary) -> None:
    result = plan(ready, vocabulary)
    assert result.allowed, result.decision.refusals
    names = sorted(t.spec.name for t in result.tables)
    # age band and country never appear together (never_cross)
    assert names == [
        "reports.abuse_type.by-abuse_type-country-month",
        "reports.abuse_type.by-abuse_type-victim_age_band-month",
        "reports.total.by-country-month",
        "reports.total.by-victim_age_band-month",
    ]
    for table in result.tables:
        counts = table.published["count"].drop_nulls()
        assert ((counts == 0) | (counts >= 10)).all(), table.spec.name
        # which hidden cells were the small ones is itself disclosive: the bundle says only this
        assert table.published["status"].is_in(["published", "suppressed"]).all()
    pt = next(t for t in result.tables if t.spec.name == "reports.total.by-country-month")
    hidden = pt.published.filter(pl.col("country") == "country.pt", pl.col("month") == "2026-07")
    assert hidden["count"].to_list() == [33]  # 3 + 30: publishable
    abuse = next(t for t in result.tables if "abuse_type-country" in t.spec.name)
    small = abuse.protected.filter(pl.col("abuse_type") == "abuse.sexual_extortion")
    assert small.filter(pl.col("status") == "primary").height >= 3
    assert abuse.protected.filter(pl.col("status") == "secondary").height >= 1
    assert abuse.published.filter(pl.col("status") == "suppressed")["count"].null_count() == (
        abuse.protected.filter(pl.col("status") != "published").height
    )
    risk = result.risk_report
    assert {t["table"] for t in risk["tables"]} == set(names)
    assert any(f["flag"] == "few_sources" for f in risk["reliability"])
    assert risk["context"]["coverage"]["months_with_records"] == ["2026-07", "2026-08", "2026-09"]
    assert risk["context"]["known_gaps"] == []


DENIALS: list[tuple[str, dict[str, Any], str]] = [
    ("period_within_validity", {"period": "2025-Q4"}, "not within"),
    ("period_complete", {"period": "2026-Q4"}, "has not ended"),
    ("frequency", {"period": "2026-07"}, "quarterly"),
    ("indicators_shared", {"tables": ("reports.sexual_extortion:country",)}, "not among"),
    ("indicators_shared", {"tables": ("reports.self_generated_share:country",)}, "not among"),
    ("dimensions_shared", {"tables": ("reports.total:victim_sex",)}, "not among the shared"),
    ("dimensions_shared", {"tables": ("reports.total:galaxy",)}, "not a dimension"),
    ("never_cross", {"tables": ("reports.total:country,victim_age_band",)}, "crosses"),
]


@pytest.mark.parametrize(("rule", "request_", "words"), DENIALS)
def test_each_rule_denies(
    ready: Session, vocabulary: Vocabulary, rule: str, request_: dict[str, Any], words: str
) -> None:
    result = plan(ready, vocabulary, **request_)
    assert not result.allowed
    outcome = {o.rule: o for o in result.decision.outcomes}[rule]
    assert not outcome.allowed
    assert words in outcome.reason
    assert result.tables == []
    others = [o.rule for o in result.decision.outcomes if not o.allowed and o.rule != rule]
    assert others == [], others


def test_every_rule_is_reported_when_allowed(ready: Session, vocabulary: Vocabulary) -> None:
    outcomes = plan(ready, vocabulary).decision.outcomes
    assert [o.rule for o in outcomes] == [
        "agreement_in_force",
        "period_within_validity",
        "period_complete",
        "frequency",
        "releaser_authorised",
        "releaser_training",
        "purpose_held",
        "indicators_shared",
        "dimensions_shared",
        "never_cross",
        "consent",
        "privacy_budget",
    ]
    assert all(o.allowed and o.reason for o in outcomes)


def test_a_draft_agreement_is_denied(session: Session, vocabulary: Vocabulary) -> None:
    parties(session)
    from concord.share import import_agreement

    import_agreement(session, AUDIT, agreement(), actor="test")
    outcome = plan(session, vocabulary).decision.outcomes[0]
    assert (outcome.rule, outcome.allowed) == ("agreement_in_force", False)
    assert "waiting for approval by hotline-es, regional-hub" in outcome.reason


def test_people_without_role_training_or_purpose_are_denied(
    ready: Session, vocabulary: Vocabulary
) -> None:
    user(ready, "analyst-es", roles={PROVIDER: ["analyst"]})
    user(ready, "untrained-es", roles={PROVIDER: ["data_steward"]}, trained=False)
    denied = {
        o.rule
        for o in plan(ready, vocabulary, username="analyst-es").decision.outcomes
        if not o.allowed
    }
    assert denied == {"releaser_authorised"}
    denied = {
        o.rule
        for o in plan(ready, vocabulary, username="untrained-es").decision.outcomes
        if not o.allowed
    }
    assert denied == {"releaser_training"}


def test_a_provider_without_the_purpose_is_denied(session: Session, vocabulary: Vocabulary) -> None:
    organisation(session, PROVIDER, holds=("case_management",))
    parties(session)
    in_force(session, agreement())
    from concord.protect import purposes

    purposes.revoke_purpose(
        session, AUDIT, organisation=PROVIDER, purpose="statistics", actor="test"
    )
    outcome = {o.rule: o for o in plan(session, vocabulary).decision.outcomes}["purpose_held"]
    assert not outcome.allowed


def test_run_stores_the_release_its_tables_and_an_audit_entry(
    ready: Session, vocabulary: Vocabulary
) -> None:
    result = plan(ready, vocabulary)
    row = run_release(ready, result, actor="steward-es", audit=AUDIT)
    assert row.status == "released"
    stored = ready.scalars(select(ReleaseTable).where(ReleaseTable.release == row.id)).all()
    assert {t.name for t in stored} == {t.spec.name for t in result.tables}
    entry = ready.scalars(select(AuditEntry).where(AuditEntry.target == row.id)).one()
    assert entry.action == "release.released"


def test_a_refused_run_is_stored_with_its_reasons(ready: Session, vocabulary: Vocabulary) -> None:
    row = run_release(ready, plan(ready, vocabulary, period="2026-Q4"), actor="x", audit=AUDIT)
    assert row.status == "refused"
    assert any(not o["allowed"] for o in row.decision)
    assert ready.scalars(select(ReleaseTable).where(ReleaseTable.release == row.id)).all() == []


def published(result: ReleasePlan, name: str) -> dict[tuple[Any, ...], int]:
    table = next(t for t in result.tables if t.spec.name == name)
    dims = list(table.spec.dimensions)
    return {
        tuple(r[:-2]): r[-2]
        for r in table.published.select(*dims, "count", "status").iter_rows()
        if r[-2] is not None
    }


def test_a_differencing_attack_on_two_overlapping_releases_fails(
    ready: Session, vocabulary: Vocabulary
) -> None:
    first = plan(ready, vocabulary)
    run_release(ready, first, actor="steward-es", audit=AUDIT)
    # Three reports arrive late; the quarter is released again.
    second = plan(ready, vocabulary, frame=records(rows_q3(extra=3)))
    run_release(ready, second, actor="steward-es", audit=AUDIT)
    exposed = []
    for table in first.tables:
        before, after = published(first, table.spec.name), published(second, table.spec.name)
        for key in before.keys() & after.keys():
            if 0 < abs(after[key] - before[key]) < 10:
                exposed.append((table.spec.name, key, before[key], after[key]))
    assert exposed == []
    late = next(t for t in second.tables if t.spec.name == "reports.total.by-country-month")
    statuses = late.protected.filter(
        pl.col("month") == "2026-08", pl.col("country") == "country.es"
    )
    assert statuses["status"].to_list() == ["differencing"]
    # and the cell cannot be recomputed from the margins of the second release either
    assert late.published.filter(pl.col("status") != "published").height >= 2
    assert recoverable(late.protected, list(late.spec.dimensions)) == []


def test_rounding_publishes_multiples_of_the_base(session: Session, vocabulary: Vocabulary) -> None:
    parties(session)
    in_force(session, agreement(disclosure={"min_cell": 10, "rounding_base": 5, "never_cross": []}))
    result = plan(session, vocabulary)
    for table in result.tables:
        assert (table.published["count"].drop_nulls() % 5 == 0).all()
    assert result.method["rounding_base"] == 5


def test_the_privacy_budget_is_accounted_and_refuses_once_spent(
    session: Session, vocabulary: Vocabulary
) -> None:
    parties(session)
    dp = {"min_cell": 10, "dp": {"epsilon": 1.0, "period": "quarter"}}
    in_force(session, agreement(disclosure=dp))
    first = plan(session, vocabulary, epsilon=0.6)
    assert first.allowed
    assert first.method["differential_privacy"]["epsilon"] == pytest.approx(0.6)
    run_release(session, first, actor="steward-es", audit=AUDIT)
    assert epsilon_spent(session, "es-to-hub", "2026-Q3") == pytest.approx(0.6)
    too_much = plan(session, vocabulary, epsilon=0.6)
    budget = {o.rule: o for o in too_much.decision.outcomes}["privacy_budget"]
    assert not budget.allowed and "spent" in budget.reason
    rest = plan(session, vocabulary)  # the default spends what is left
    assert rest.allowed and rest.epsilon == pytest.approx(0.4)
    row = run_release(session, rest, actor="steward-es", audit=AUDIT)
    revoke_release(session, row.id, reason="mistake", actor="steward-es", audit=AUDIT)
    # revoking gives no budget back
    assert not plan(session, vocabulary, epsilon=0.01).allowed
    assert session.scalars(select(Release).where(Release.status == "refused")).all() == []


def test_noise_changes_counts_but_never_publishes_small_cells(
    session: Session, vocabulary: Vocabulary
) -> None:
    parties(session)
    in_force(
        session, agreement(disclosure={"min_cell": 10, "dp": {"epsilon": 0.5, "period": "quarter"}})
    )
    result = plan(session, vocabulary)
    for table in result.tables:
        counts = table.published["count"].drop_nulls()
        assert ((counts == 0) | (counts >= 10)).all()
    assert result.method["differencing"] is None


def test_revocation_needs_a_reason_and_a_released_release(
    ready: Session, vocabulary: Vocabulary
) -> None:
    row = run_release(ready, plan(ready, vocabulary), actor="steward-es", audit=AUDIT)
    with pytest.raises(InputError, match="why"):
        revoke_release(ready, row.id, reason=" ", actor="steward-es", audit=AUDIT)
    revoke_release(ready, row.id, reason="wrong month", actor="steward-es", audit=AUDIT)
    assert row.status == "revoked"
    with pytest.raises(InputError, match="revoked"):
        revoke_release(ready, row.id, reason="again", actor="steward-es", audit=AUDIT)


def test_a_bad_period_is_a_clear_error(ready: Session, vocabulary: Vocabulary) -> None:
    with pytest.raises(InputError, match="not one Concord reads"):
        plan(ready, vocabulary, period="Q3 2026")
