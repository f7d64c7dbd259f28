"""Consent withdrawals travel to the hub as revocations of the subject's rows.

Why: when a child or caregiver withdraws consent, the protection layer marks every disclosure
of that subject (``subject_disclosure.withdrawal_flagged_at``). A record-level release already
at a hub still holds the subject's rows; the node sends the hub a signed revocation naming the
subject by the pseudonym the hub knows (the release pseudonym), and the hub deletes those rows.
The disclosure is then marked as notified, so it is sent once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import FederationOutbox, Release, SubjectDisclosure
from concord.protect.pseudonyms import PseudonymKeys
from concord.share.push import BUNDLE, WITHDRAWAL, enqueue
from concord.share.record_release import release_pseudonym
from concord.share.revocation import sign_revocation
from concord.share.signing import NodeKey


def enqueue_withdrawals(
    session: Session,
    *,
    hub_url: str,
    key: NodeKey,
    keys: PseudonymKeys,
    now: datetime | None = None,
) -> list[str]:
    """Queue a signed revocation of withdrawn subjects' rows for every release sent to
    ``hub_url``; the ids of the releases concerned."""
    moment = now or datetime.now(UTC)
    sent = set(
        session.scalars(
            select(FederationOutbox.release_id).where(
                FederationOutbox.kind == BUNDLE, FederationOutbox.hub_url == hub_url
            )
        )
    )
    flagged = session.scalars(
        select(SubjectDisclosure).where(
            SubjectDisclosure.withdrawal_flagged_at.is_not(None),
            SubjectDisclosure.recipient_notified_at.is_(None),
            SubjectDisclosure.reference.in_(sent),
        )
    ).all()
    by_release: dict[str, list[SubjectDisclosure]] = defaultdict(list)
    for row in flagged:
        by_release[str(row.reference)].append(row)
    queued: list[str] = []
    for release_id, rows in sorted(by_release.items()):
        release = session.get(Release, release_id)
        if release is None:
            continue
        subjects = sorted(
            {
                release_pseudonym(keys, row.organisation, release.agreement_id, row.subject_key)
                for row in rows
            }
        )
        payload = sign_revocation(
            key,
            release_id=release_id,
            reason="consent withdrawn",
            revoked_at=moment,
            subjects=subjects,
        )
        enqueue(
            session,
            kind=WITHDRAWAL,
            release_id=release_id,
            hub_url=hub_url,
            payload=payload,
            now=moment,
        )
        for row in rows:
            row.recipient_notified_at = moment
        queued.append(release_id)
    session.flush()
    return queued
