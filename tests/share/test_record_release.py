"""Record-level releases: only consented subjects, new pseudonyms, k-anonymity in the risk
report, disclosures noted, and a later withdrawal sent to the hub as a revocation."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from concord.db.models import FederationOutbox, Record, SubjectDisclosure, User
from concord.indicators.definitions import default_registry
from concord.indicators.frame import (
    _pages,  # the session-bound reader load_frame uses
    empty_frame,
)
from concord.protect import consent
from concord.protect.consent_terms import sharing_agreement_scope
from concord.protect.pseudonyms import PseudonymKeys
from concord.share.bundle import read_bundle
from concord.share.push import BUNDLE, WITHDRAWAL, enqueue
from concord.share.record_release import RECORDS_TABLE, release_pseudonym
from concord.share.release import ReleasePlan, ReleaseRequest, plan_release, run_release
from concord.share.release_bundle import release_bundle
from concord.share.revocation import read_revocation
from concord.share.signing import create_node_key
from concord.share.withdrawals import enqueue_withdrawals
from concord.vocab.model import Vocabulary
from tests.protect.factories import audit_trail, ingest_batch, principal
from tests.share.release_setup import PROVIDER, agreement, in_force, parties

AUDIT = audit_trail()
TODAY = date(2026, 11, 20)
FIELDS = ["abuse_types", "victim_age_band", "country", "received_date"]
HUB_URL = "http://hub.example"


def records_agreement() -> object:
    return agreement(
        id="es-records",
        purpose="research",
        level="pseudonymised_records",
        consent_required=True,
        shares={"indicators": [], "dimensions": [], "fields": FIELDS},
        disclosure={"min_cell": 3, "never_cross": []},
    )


def add_records(session: Session, keys: PseudonymKeys, children: int) -> list[str]:
    """Two reports for each child, and one report without a subject; the subject keys."""
    batch = ingest_batch(session, PROVIDER)
    subjects = [keys.subject_key(PROVIDER, f"child-{i}") for i in range(children)]
    for index, subject in enumerate([*subjects, *subjects, None]):
        session.add(
            Record(
                batch_id=batch.id,
                source_org=PROVIDER,
                source_key=uuid.uuid4().hex,
                subject_key=subject,
                received_date=date(2026, 7, 1) + timedelta(days=index % 60),
                country="country.es",
                victim_age_band="age.13_15" if index % 2 else "age.16_17",
            )
        )
    session.flush()
    return subjects


def consent_to(session: Session, subject: str, scope: str) -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    consent.assess_capacity(
        session,
        AUDIT,
        organisation=PROVIDER,
        subject_key=subject,
        assessed_by="assessor",
        outcome="capable",
        notes="talked with the young person",
        at=at,
    )
    for party in ("child", "caregiver"):
        consent.record_consent(
            session,
            AUDIT,
            organisation=PROVIDER,
            subject_key=subject,
            party=party,
            status="given",
            scopes=[scope],
            evidence_ref="form-1",
            recorded_by="caseworker",
            given_at=at,
        )


def plan(
    session: Session, engine: Engine, vocabulary: Vocabulary, keys: PseudonymKeys
) -> ReleasePlan:
    steward = session.scalars(select(User).where(User.username == "steward-es")).one()
    return plan_release(
        session,
        ReleaseRequest("es-records", "2026-Q3"),
        principal=principal(session, steward),
        vocabulary=vocabulary,
        registry=default_registry(None, vocabulary, session),
        frame=pl.concat([empty_frame(), *_pages(session, [PROVIDER], None, None, 10_000)]),
        today=TODAY,
        keys=keys,
    )


@pytest.fixture
def keys(tmp_path: Path) -> PseudonymKeys:
    return PseudonymKeys(tmp_path / "keys")


def test_only_consented_subjects_leave_under_new_pseudonyms(
    session: Session, engine: Engine, vocabulary: Vocabulary, keys: PseudonymKeys
) -> None:
    parties(session)
    in_force(session, records_agreement())
    subjects = add_records(session, keys, children=4)
    scope = sharing_agreement_scope("es-records")
    for subject in subjects[:3]:
        consent_to(session, subject, scope)
    session.flush()
    result = plan(session, engine, vocabulary, keys)
    assert result.allowed, result.decision.refusals
    assert result.tables == []
    assert result.records is not None
    released = result.records.frame
    assert released.columns == ["subject", *FIELDS]
    assert released.height == 6  # two reports for each of the three consenting children
    assert set(released["subject"]) == {
        release_pseudonym(keys, PROVIDER, "es-records", s) for s in subjects[:3]
    }
    assert not set(released["subject"]) & set(subjects)  # never the node's own subject key
    assert set(released["received_date"]) <= {"2026-07", "2026-08"}  # months, not dates
    risk = result.risk_report["records"]
    assert risk["excluded"] == {"no_subject": 1, "no_consent": 2}
    assert risk["quasi_identifiers"] == ["victim_age_band", "country", "received_date"]
    assert risk["k"] >= 1 and 0 <= risk["uniqueness"] <= 1
    row = run_release(session, result, actor="steward-es", audit=AUDIT)
    noted = session.scalars(
        select(SubjectDisclosure).where(SubjectDisclosure.reference == row.id)
    ).all()
    assert sorted(d.subject_key for d in noted) == sorted(subjects[:3])
    assert {d.recipient for d in noted} == {"regional-hub"}


def test_a_withdrawal_travels_as_a_signed_revocation_of_that_subject(
    session: Session, engine: Engine, vocabulary: Vocabulary, keys: PseudonymKeys, tmp_path: Path
) -> None:
    parties(session)
    in_force(session, records_agreement())
    subjects = add_records(session, keys, children=3)
    scope = sharing_agreement_scope("es-records")
    for subject in subjects:
        consent_to(session, subject, scope)
    session.flush()
    row = run_release(session, plan(session, engine, vocabulary, keys), actor="s", audit=AUDIT)
    node_key = create_node_key(tmp_path / "node", PROVIDER)
    bundle = release_bundle(session, row.id, node_key)
    verified = read_bundle(bundle, public_key_for=lambda node, key_id: node_key.public_key)
    assert verified.manifest.level == "pseudonymised_records"
    assert verified.resources[RECORDS_TABLE].height == 6
    enqueue(session, kind=BUNDLE, release_id=row.id, hub_url=HUB_URL, payload=bundle)
    consent.withdraw_consent(
        session,
        AUDIT,
        by="caseworker",
        organisation=PROVIDER,
        subject_key=subjects[1],
        party="child",
        scopes=None,
    )
    queued = enqueue_withdrawals(session, hub_url=HUB_URL, key=node_key, keys=keys)
    assert queued == [row.id]
    item = session.scalars(
        select(FederationOutbox).where(FederationOutbox.kind == WITHDRAWAL)
    ).one()
    message = read_revocation(item.payload, public_key_for=lambda node, key_id: node_key.public_key)
    assert list(message.subjects or []) == [
        release_pseudonym(keys, PROVIDER, "es-records", subjects[1])
    ]
    assert message.release_id == row.id == json.loads(item.payload)["revocation"]["release_id"]
    # sent once: the disclosure is marked as notified
    assert enqueue_withdrawals(session, hub_url=HUB_URL, key=node_key, keys=keys) == []


def test_a_record_agreement_without_releasable_fields_is_denied(
    session: Session, engine: Engine, vocabulary: Vocabulary, keys: PseudonymKeys
) -> None:
    parties(session)
    bad = records_agreement().model_copy(  # type: ignore[attr-defined]
        update={
            "shares": records_agreement().shares.model_copy(  # type: ignore[attr-defined]
                update={"fields": ["subnational_area", "country"]}
            )
        }
    )
    in_force(session, bad)
    result = plan(session, engine, vocabulary, keys)
    outcome = {o.rule: o for o in result.decision.outcomes}["fields_shared"]
    assert not outcome.allowed and "subnational_area" in outcome.reason
    assert result.records is None
