"""The node's outbox: delivered once, retried with growing back-off, stopped by a refusal."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import FederationOutbox, Release
from concord.moments import as_utc
from concord.share.bundle import bundle_path, bundle_sha256
from concord.share.push import (
    BUNDLE,
    MAX_DELAY,
    NEVER,
    REVOCATION,
    backoff_delay,
    deliver_due,
    enqueue,
    enqueue_releases,
    item_state,
    sync_status,
)
from concord.share.revocation import read_revocation
from tests.share.federation_setup import ES, agreement, bundle, node_key

HUB_URL = "http://hub.test:8000"
NOW = datetime(2026, 10, 6, 9, 0, tzinfo=UTC)
KEY = node_key(ES)
Handler = Callable[[httpx2.Request], httpx2.Response]


def client(handler: Handler) -> httpx2.Client:
    return httpx2.Client(transport=httpx2.MockTransport(handler))


def answering(status: int, body: dict[str, object] | None = None) -> Handler:
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(status, json=body or {"stored": True})

    handle.seen = seen  # type: ignore[attr-defined]
    return handle


def unreachable(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


def queue(session: Session, kind: str = BUNDLE, release_id: str = "r-1") -> FederationOutbox:
    return enqueue(
        session, kind=kind, release_id=release_id, hub_url=HUB_URL, payload=b"zip", now=NOW
    )


def no_jitter() -> float:
    return 0.0


def test_enqueue_is_idempotent(session: Session) -> None:
    first = queue(session)
    assert queue(session).id == first.id
    assert len(session.scalars(select(FederationOutbox)).all()) == 1
    assert item_state(first) == "pending"


def test_a_delivered_item_is_sent_once(session: Session) -> None:
    item = queue(session)
    handler = answering(201)
    (result,) = deliver_due(session, client(handler), now=NOW)
    assert result.outcome == "delivered"
    assert result.message == "stored"
    request = handler.seen[0]  # type: ignore[attr-defined]
    assert str(request.url) == HUB_URL + "/api/federation/bundles"
    assert request.headers["content-type"] == "application/zip"
    assert request.content == b"zip"
    assert item.delivered_at is not None
    assert deliver_due(session, client(handler), now=NOW + timedelta(days=1)) == []


def test_failures_back_off_exponentially(session: Session) -> None:
    item = queue(session)
    moment = NOW
    waits: list[timedelta] = []
    for attempt in range(1, 5):
        (result,) = deliver_due(session, client(unreachable), now=moment, jitter=no_jitter)
        assert result.outcome == "retry"
        assert item.attempts == attempt
        assert "ConnectError" in (item.last_error or "")
        waits.append(as_utc(item.next_attempt_at) - moment)
        # not due before its time
        assert deliver_due(session, client(unreachable), now=moment + waits[-1] / 2) == []
        moment += waits[-1]
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert item_state(item) == "retrying"
    (result,) = deliver_due(session, client(answering(200)), now=moment)
    assert result.outcome == "delivered"
    assert result.message == "already stored"
    assert item.last_error is None


def test_server_errors_and_rate_limits_are_retried(session: Session) -> None:
    item = queue(session)
    (result,) = deliver_due(session, client(answering(503, {"detail": "down"})), now=NOW)
    assert result.outcome == "retry"
    assert "503" in result.message and "down" in result.message
    (result,) = deliver_due(
        session, client(answering(429)), now=as_utc(item.next_attempt_at), jitter=no_jitter
    )
    assert result.outcome == "retry"
    assert item.attempts == 2


def test_a_refusal_is_permanent_and_shows_the_hubs_reason(session: Session) -> None:
    item = queue(session)
    problem = {"title": "Bundle refused", "detail": "release r-1 was revoked on 2026-10-01"}
    (result,) = deliver_due(session, client(answering(422, problem)), now=NOW)
    assert result.outcome == "refused"
    assert result.next_attempt_at is None
    assert "was revoked" in (item.last_error or "")
    assert as_utc(item.next_attempt_at) == NEVER
    assert item_state(item) == "refused"
    assert deliver_due(session, client(answering(201)), now=NOW + timedelta(days=3650)) == []
    (status,) = sync_status(session)
    assert (status.refused, status.pending, status.delivered) == (1, 0, 0)
    assert status.last_error is not None and "was revoked" in status.last_error


def test_the_delay_is_capped_and_jittered_down() -> None:
    assert backoff_delay(1, 0.0) == timedelta(seconds=30)
    assert backoff_delay(40, 0.0) == MAX_DELAY
    assert backoff_delay(3, 0.5) == timedelta(seconds=108)  # 120 s less 10 %
    assert all(backoff_delay(n, 0.999) <= backoff_delay(n, 0.0) for n in range(1, 30))


def test_a_revocation_waits_for_its_bundle(session: Session) -> None:
    queue(session, BUNDLE)
    queue(session, REVOCATION)
    (first,) = deliver_due(session, client(unreachable), now=NOW, jitter=no_jitter)
    assert first.kind == BUNDLE  # the revocation did not overtake it
    later = NOW + timedelta(minutes=1)
    results = deliver_due(session, client(answering(201)), now=later)
    assert [r.kind for r in results] == [BUNDLE, REVOCATION]
    assert results[1].outcome == "delivered"
    (status,) = sync_status(session)
    assert status.delivered == 2
    assert status.last_delivered_at == later


def test_enqueue_releases_queues_bundles_then_revocations(session: Session, tmp_path: Path) -> None:
    data = bundle(KEY, agreement(ES), release_id="r-7")
    bundle_path(tmp_path, "r-7").write_bytes(data)
    release = Release(
        id="r-7",
        agreement_id=f"{ES}-to-hub",
        agreement_version=1,
        provider=ES,
        period="2026-Q3",
        period_start=NOW.date(),
        period_end=NOW.date(),
        status="released",
        decision=[],
        risk_report={},
        method={},
        vocabulary_version="1.0.0",
        # the release may note the hash of the whole file instead of the bundle's identity
        bundle_sha256=hashlib.sha256(data).hexdigest(),
        created_by="steward",
        created_at=NOW,
    )
    assert bundle_sha256(data) != release.bundle_sha256
    missing = Release(
        **{c: getattr(release, c) for c in ("agreement_id", "agreement_version", "provider")},
        id="r-8",
        period="2026-Q3",
        period_start=NOW.date(),
        period_end=NOW.date(),
        status="released",
        decision=[],
        risk_report={},
        method={},
        vocabulary_version="1.0.0",
        bundle_sha256="0" * 64,
        created_by="steward",
        created_at=NOW,
    )
    session.add_all([release, missing])
    session.flush()
    report = enqueue_releases(session, bundle_dir=tmp_path, hub_url=HUB_URL, key=KEY, now=NOW)
    assert report.bundles == ["r-7"]
    assert report.revocations == []
    assert report.problems == [f"release r-8: no bundle file {tmp_path / 'r-8.zip'}"]
    again = enqueue_releases(session, bundle_dir=tmp_path, hub_url=HUB_URL, key=KEY, now=NOW)
    assert again.bundles == []

    release.status, release.revoked_reason, release.revoked_at = "revoked", "a typo", NOW
    session.flush()
    report = enqueue_releases(session, bundle_dir=tmp_path, hub_url=HUB_URL, key=KEY, now=NOW)
    assert report.revocations == ["r-7"]
    revocation = session.scalars(
        select(FederationOutbox).where(FederationOutbox.kind == REVOCATION)
    ).one()
    found = read_revocation(revocation.payload, public_key_for=lambda n, k: KEY.public_key)
    assert (found.release_id, found.reason, found.subjects) == ("r-7", "a typo", None)
    assert json.loads(revocation.payload)["revocation"]["node"] == ES


@pytest.mark.parametrize("url", ["ftp://hub", "hub.test"])
def test_hub_urls_are_http(session: Session, url: str) -> None:
    from concord.errors import InputError

    with pytest.raises(InputError, match="http"):
        enqueue(session, kind=BUNDLE, release_id="r", hub_url=url, payload=b"")
