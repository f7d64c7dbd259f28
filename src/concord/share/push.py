"""The node side of federation: an outbox of bundles and revocations, delivered with back-off.

Why an outbox and not a direct upload: hubs are often reached over poor links. A release is
queued once; :func:`deliver_due` sends whatever is due and, when the hub cannot be reached or
answers with a server error, tries again later, waiting twice as long each time. A hub that
*refuses* (any 4xx but a timeout or rate limit) has read the bundle and said why: retrying
would only repeat the refusal, so the item stops and its reason is shown until a person acts.

A revocation waits while its release's bundle to the same hub is still pending, so a hub always
learns about a release before it learns that some rows of it were withdrawn.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import FederationOutbox, Release
from concord.errors import InputError
from concord.moments import as_utc
from concord.share.bundle import bundle_path, bundle_sha256
from concord.share.revocation import sign_revocation
from concord.share.signing import NodeKey

BUNDLE, REVOCATION = "bundle", "revocation"
#: A revocation of some subjects' rows only (consent withdrawn): :mod:`concord.share.withdrawals`.
WITHDRAWAL = "withdrawal"
PATHS = {
    BUNDLE: "/api/federation/bundles",
    REVOCATION: "/api/federation/revocations",
    WITHDRAWAL: "/api/federation/revocations",
}
MEDIA_TYPES = {
    BUNDLE: "application/zip",
    REVOCATION: "application/json",
    WITHDRAWAL: "application/json",
}
#: The next attempt of an item the hub refused: never (None already means "not delivered").
NEVER = datetime(9999, 12, 31, tzinfo=UTC)
#: 30 s after the first failure, doubling: a hub back within minutes gets the bundle within
#: minutes, while a hub down for a day is asked only a few times an hour.
BASE_DELAY = timedelta(seconds=30)
#: 6 h at most, so a hub that comes back is served the same working day.
MAX_DELAY = timedelta(hours=6)
#: 4xx answers that mean "try later", not "no".
_TRANSIENT = frozenset({408, 425, 429})
#: Release statuses of the release pipeline (concord.share.release).
_RELEASED, _REVOKED = "released", "revoked"

Jitter = Callable[[], float]


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt did: ``outcome`` is delivered, retry or refused."""

    item_id: int
    kind: str
    release_id: str
    hub_url: str
    outcome: str
    status_code: int | None
    message: str
    attempts: int
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class HubSyncStatus:
    """For the status page: how exchanges with one hub stand."""

    hub_url: str
    delivered: int
    pending: int
    refused: int
    last_delivered_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str | None


@dataclass
class QueueReport:
    """What :func:`enqueue_releases` queued, and what it could not."""

    bundles: list[str] = field(default_factory=list)
    revocations: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def item_state(item: FederationOutbox) -> str:
    """delivered, refused (the hub said no: no more attempts), retrying or pending."""
    if item.delivered_at is not None:
        return "delivered"
    if as_utc(item.next_attempt_at) >= NEVER:
        return "refused"
    return "retrying" if item.attempts else "pending"


def enqueue(
    session: Session,
    *,
    kind: str,
    release_id: str,
    hub_url: str,
    payload: bytes,
    now: datetime | None = None,
) -> FederationOutbox:
    """Queue ``payload`` for ``hub_url``; queuing the same payload again returns the queued item."""
    if kind not in PATHS:
        raise InputError(f"an outbox item is a {' or a '.join(PATHS)}, not {kind!r}")
    if not hub_url.startswith(("http://", "https://")):
        raise InputError(f"hub url {hub_url!r} must start with http:// or https://")
    same = session.scalars(
        select(FederationOutbox).where(
            FederationOutbox.kind == kind,
            FederationOutbox.release_id == release_id,
            FederationOutbox.hub_url == hub_url,
        )
    )
    for item in same:
        if item.payload == payload:
            return item
    moment = now or datetime.now(UTC)
    item = FederationOutbox(
        kind=kind,
        release_id=release_id,
        hub_url=hub_url,
        payload=payload,
        attempts=0,
        next_attempt_at=moment,
        last_error=None,
        created_at=moment,
        delivered_at=None,
    )
    session.add(item)
    session.flush()
    return item


def backoff_delay(attempts: int, jitter: float) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 30 s × 2^(attempts-1), at most 6 h,
    shortened by up to 20 % (``jitter`` in [0, 1)).

    Why jitter: when a hub comes back after an outage, nodes that failed together must not all
    retry in the same second.
    """
    doublings = min(max(attempts - 1, 0), 20)  # 2**20 × 30 s is far past the cap already
    base = min(BASE_DELAY * (1 << doublings), MAX_DELAY)
    return base * (1.0 - 0.2 * min(max(jitter, 0.0), 1.0))


def _reason(response: httpx2.Response) -> str:
    """The hub's reason: the problem document's detail (and errors), or the start of the body."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        errors = body.get("errors")
        extra = f" ({'; '.join(map(str, errors))})" if isinstance(errors, list) and errors else ""
        return str(body["detail"]) + extra
    return json.dumps(body)[:300]


def _waits_for_bundle(session: Session, item: FederationOutbox) -> bool:
    if item.kind not in (REVOCATION, WITHDRAWAL):
        return False
    pending = session.scalars(
        select(FederationOutbox).where(
            FederationOutbox.kind == BUNDLE,
            FederationOutbox.release_id == item.release_id,
            FederationOutbox.hub_url == item.hub_url,
            FederationOutbox.delivered_at.is_(None),
        )
    )
    return any(item_state(b) != "refused" for b in pending)


def _attempt(
    client: httpx2.Client, item: FederationOutbox, moment: datetime, jitter: Jitter
) -> DeliveryResult:
    url = item.hub_url.rstrip("/") + PATHS[item.kind]
    status: int | None = None
    try:
        response = client.post(
            url, content=item.payload, headers={"content-type": MEDIA_TYPES[item.kind]}
        )
    except (httpx2.HTTPError, httpx2.InvalidURL) as exc:
        outcome, message = (
            "retry",
            f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
        )
    else:
        status = response.status_code
        if response.is_success:
            outcome = "delivered"
            message = "stored" if status == 201 else "already stored"
        elif 400 <= status < 500 and status not in _TRANSIENT:
            outcome, message = "refused", f"refused by the hub ({status}): {_reason(response)}"
        else:
            outcome, message = "retry", f"the hub answered {status}: {_reason(response)}"
    item.attempts += 1
    if outcome == "delivered":
        item.delivered_at, item.last_error = moment, None
    elif outcome == "refused":
        item.next_attempt_at, item.last_error = NEVER, message[:1000]
    else:
        item.next_attempt_at = moment + backoff_delay(item.attempts, jitter())
        item.last_error = message[:1000]
    return DeliveryResult(
        item_id=item.id,
        kind=item.kind,
        release_id=item.release_id,
        hub_url=item.hub_url,
        outcome=outcome,
        status_code=status,
        message=message,
        attempts=item.attempts,
        next_attempt_at=item.next_attempt_at if outcome == "retry" else None,
    )


def deliver_due(
    session: Session,
    client: httpx2.Client,
    *,
    now: datetime | None = None,
    jitter: Jitter | None = None,
) -> list[DeliveryResult]:
    """Send every outbox item that is due, oldest first; the caller commits."""
    moment = now or datetime.now(UTC)
    draw = jitter or secrets.SystemRandom().random
    due = session.scalars(
        select(FederationOutbox)
        .where(FederationOutbox.delivered_at.is_(None), FederationOutbox.next_attempt_at <= moment)
        .order_by(FederationOutbox.id)
    ).all()
    results: list[DeliveryResult] = []
    for item in due:
        if _waits_for_bundle(session, item):
            continue
        results.append(_attempt(client, item, moment, draw))
        session.flush()
    return results


def sync_status(session: Session) -> list[HubSyncStatus]:
    """Per hub: deliveries, pending and refused items, and the latest error, by hub url."""
    items = session.scalars(select(FederationOutbox).order_by(FederationOutbox.id)).all()
    hubs: dict[str, list[FederationOutbox]] = {}
    for item in items:
        hubs.setdefault(item.hub_url, []).append(item)
    statuses: list[HubSyncStatus] = []
    for hub_url, queued in sorted(hubs.items()):
        states = [item_state(i) for i in queued]
        delivered = [as_utc(i.delivered_at) for i in queued if i.delivered_at is not None]
        waiting = [
            as_utc(i.next_attempt_at)
            for i, s in zip(queued, states, strict=True)
            if s in ("pending", "retrying")
        ]
        errors = [
            i.last_error
            for i, s in zip(queued, states, strict=True)
            if s != "delivered" and i.last_error
        ]
        statuses.append(
            HubSyncStatus(
                hub_url=hub_url,
                delivered=len(delivered),
                pending=len(waiting),
                refused=states.count("refused"),
                last_delivered_at=max(delivered, default=None),
                next_attempt_at=min(waiting, default=None),
                last_error=errors[-1] if errors else None,
            )
        )
    return statuses


def outbox_items(session: Session, *, limit: int = 50) -> list[FederationOutbox]:
    """The latest outbox items, newest first."""
    query = select(FederationOutbox).order_by(FederationOutbox.id.desc()).limit(limit)
    return list(session.scalars(query))


def _is_bundle_of(release: Release, data: bytes) -> bool:
    """Whether ``data`` is the bundle the release noted: by the bundle's identity (the hash of
    its ``datapackage.json``, what a hub records) or by the hash of the whole file."""
    noted = release.bundle_sha256
    return noted in (bundle_sha256(data), hashlib.sha256(data).hexdigest())


def enqueue_releases(
    session: Session,
    *,
    bundle_dir: Path,
    hub_url: str,
    key: NodeKey | None,
    now: datetime | None = None,
) -> QueueReport:
    """Queue for ``hub_url`` every released bundle not queued for it yet, and a signed
    revocation for every revoked release whose bundle was queued for it."""
    report = QueueReport()
    rows = session.execute(
        select(FederationOutbox.kind, FederationOutbox.release_id).where(
            FederationOutbox.hub_url == hub_url
        )
    )
    queued = {(str(kind), str(release_id)) for kind, release_id in rows}
    releases = session.scalars(
        select(Release)
        .where(Release.status.in_((_RELEASED, _REVOKED)), Release.bundle_sha256.is_not(None))
        .order_by(Release.created_at)
    )
    for release in releases:
        if release.status == _RELEASED and (BUNDLE, release.id) not in queued:
            path = bundle_path(bundle_dir, release.id)
            if not path.is_file():
                report.problems.append(f"release {release.id}: no bundle file {path}")
                continue
            data = path.read_bytes()
            if not _is_bundle_of(release, data):
                report.problems.append(f"release {release.id}: {path} is not its bundle")
                continue
            enqueue(
                session, kind=BUNDLE, release_id=release.id, hub_url=hub_url, payload=data, now=now
            )
            report.bundles.append(release.id)
        elif release.status == _REVOKED and (BUNDLE, release.id) in queued:
            if (REVOCATION, release.id) in queued:
                continue
            if key is None:
                report.problems.append(
                    f"release {release.id}: signing its revocation needs the key"
                )
                continue
            payload = sign_revocation(
                key,
                release_id=release.id,
                reason=release.revoked_reason or "revoked by the provider",
                revoked_at=as_utc(release.revoked_at) if release.revoked_at else now,
            )
            enqueue(
                session,
                kind=REVOCATION,
                release_id=release.id,
                hub_url=hub_url,
                payload=payload,
                now=now,
            )
            report.revocations.append(release.id)
    return report
