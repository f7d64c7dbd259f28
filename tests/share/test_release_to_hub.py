"""From the release pipeline to the hub: a real release, signed, received and added up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import User
from concord.indicators.definitions import default_registry
from concord.share.bundle import read_bundle
from concord.share.federation import receive_bundle, regional_tables
from concord.share.release import ReleaseRequest, plan_release, run_release
from concord.share.release_bundle import release_bundle
from concord.vocab.model import Vocabulary
from tests.protect.factories import audit_trail, principal
from tests.share.federation_setup import cheap_passwords, node_key, register
from tests.share.release_setup import HUB, PROVIDER, agreement, in_force, parties, records
from tests.share.test_release import TODAY, rows_q3

AUDIT = audit_trail()


def test_a_release_reaches_the_hub(
    session: Session, vocabulary: Vocabulary, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap_passwords(monkeypatch)
    parties(session)
    in_force(session, agreement())
    steward = session.scalars(select(User).where(User.username == "steward-es")).one()
    plan = plan_release(
        session,
        ReleaseRequest("es-to-hub", "2026-Q3"),
        principal=principal(session, steward),
        vocabulary=vocabulary,
        registry=default_registry(None, vocabulary, session),
        frame=records(rows_q3()),
        today=TODAY,
    )
    row = run_release(session, plan, actor="steward-es", audit=AUDIT)
    row.created_at = datetime(2026, 10, 5, tzinfo=UTC)  # a day the agreement is in force
    key = node_key(PROVIDER)
    data = release_bundle(session, row.id, key)
    verified = read_bundle(data, public_key_for=lambda node, key_id: key.public_key)
    assert set(verified.resources) == {t.spec.name for t in plan.tables}
    register(session, key)
    result = receive_bundle(
        session, data, hub_org=HUB, vocabulary_version=vocabulary.version, audit=AUDIT
    )
    assert result.stored
    tables = regional_tables(session)
    assert {t.name for t in tables} == set(verified.resources)
    for table in tables:
        assert table.nodes == [PROVIDER]
        shown = table.cells.filter(table.cells["status"] == "published")
        assert shown["count"].is_between(1, 9).sum() == 0  # no small regional cell
