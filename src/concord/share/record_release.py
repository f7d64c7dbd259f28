"""Record-level releases: pseudonymised records of the subjects whose consent covers the
agreement, and how identifiable they are.

Why consent per subject: record-level data about a child leaves an organisation only with the
consent the protection layer holds (or a recorded harm exception), checked at the moment of
release; every subject included is noted as a disclosure, so a later withdrawal can be sent on
to the recipients as a revocation of that subject's rows.

Why new pseudonyms: the recipient gets, per agreement, a keyed pseudonym of the subject
(HMAC with the provider's key), never the provider's own subject key, so two recipients (or
two agreements) cannot join their copies on it.

Dates leave as months (``2026-07``): an exact date is one of the strongest quasi-identifiers
and no shared indicator needs it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import Record
from concord.indicators.frame import LIST_COLUMNS, RECORD_SCHEMA
from concord.protect.consent_rules import may_use
from concord.protect.consent_terms import sharing_agreement_scope
from concord.protect.pseudonyms import PseudonymKeys
from concord.protect.withdrawal import record_disclosure

#: The table a record-level release publishes.
RECORDS_TABLE = "records"
SUBJECT = "subject"
#: Record fields that may be shared at record level: the harmonised, coded fields. Free text
#: (``subnational_area``), partner keys and identifying values never leave.
RELEASABLE_FIELDS = tuple(c for c in RECORD_SCHEMA if c not in ("id", "source_org"))
#: Fields that, combined, could single a child out (the k-anonymity of the release is
#: computed over those the agreement shares).
QUASI_IDENTIFIERS = (
    "country",
    "victim_age_band",
    "victim_sex",
    "offender_age_band",
    "offender_relationship",
    "received_date",
    "occurred_date",
)
_DATES = ("received_date", "occurred_date")
_RELEASE_DOMAIN = b"concord-release-subject:"


def field_problems(fields: Sequence[str]) -> list[str]:
    """Shared fields a record-level release cannot carry."""
    return [
        f"{name!r} cannot be shared at record level (releasable: {', '.join(RELEASABLE_FIELDS)})"
        for name in fields
        if name not in RELEASABLE_FIELDS
    ]


def release_pseudonym(
    keys: PseudonymKeys, organisation: str, agreement_id: str, subject_key: str
) -> str:
    """The subject's pseudonym for the recipients of one agreement."""
    message = _RELEASE_DOMAIN + f"{agreement_id}:{subject_key}".encode()
    return hmac.digest(keys.key_for(organisation), message, hashlib.sha256).hex()[:32]


@dataclass(frozen=True)
class RecordSelection:
    """The records a release would publish, and who was left out and why."""

    frame: pl.DataFrame  # subject, then the shared fields (text; lists joined with "|")
    subjects: dict[str, str]  # release pseudonym -> subject key (stays on the node)
    excluded: dict[str, int] = field(default_factory=dict)
    harm_exceptions: int = 0

    @property
    def cells(self) -> list[list[Any]]:
        return [list(row) for row in self.frame.iter_rows()]


def select_records(
    session: Session,
    frame: pl.DataFrame,
    *,
    organisation: str,
    agreement_id: str,
    fields: Sequence[str],
    keys: PseudonymKeys,
    at: datetime,
) -> RecordSelection:
    """Records of ``frame`` whose subject's consent covers the agreement at ``at``."""
    scope = sharing_agreement_scope(agreement_id)
    ids = frame["id"].to_list() if frame.height else []
    subject_of: dict[int, str | None] = {}
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        rows = session.execute(select(Record.id, Record.subject_key).where(Record.id.in_(part)))
        subject_of.update((int(record_id), subject) for record_id, subject in rows)
    decisions: dict[str, bool] = {}
    exceptions = 0
    for known in {s for s in subject_of.values() if s}:
        decision = may_use(
            session, organisation=organisation, subject_key=known, scope=scope, at=at
        )
        decisions[known] = decision.allowed
        exceptions += int(decision.allowed and decision.basis == "harm_exception")
    keep: list[bool] = []
    excluded = {"no_subject": 0, "no_consent": 0}
    pseudonyms: list[str | None] = []
    subjects: dict[str, str] = {}
    for record_id in ids:
        subject = subject_of.get(record_id)
        allowed = bool(subject) and decisions.get(subject or "", False)
        if not subject:
            excluded["no_subject"] += 1
        elif not allowed:
            excluded["no_consent"] += 1
        alias = (
            release_pseudonym(keys, organisation, agreement_id, subject)
            if subject and allowed
            else None
        )
        if alias is not None and subject:
            subjects[alias] = subject
        keep.append(alias is not None)
        pseudonyms.append(alias)
    chosen = frame.with_columns(pl.Series(SUBJECT, pseudonyms, dtype=pl.String)).filter(
        pl.Series(keep, dtype=pl.Boolean)
    )
    out = chosen.select(SUBJECT, *(_as_text(name) for name in fields)).sort(SUBJECT)
    return RecordSelection(out, subjects, excluded, exceptions)


def _as_text(name: str) -> pl.Expr:
    column = pl.col(name)
    if name in LIST_COLUMNS:
        return column.cast(pl.List(pl.String)).list.sort().list.join("|").alias(name)
    if name in _DATES:
        return column.dt.strftime("%Y-%m").alias(name)
    return column.cast(pl.String).alias(name)


def k_anonymity(records: pl.DataFrame, fields: Sequence[str], min_cell: int) -> dict[str, Any]:
    """The smallest group of records sharing every quasi-identifier, and how many are unique."""
    qis = [f for f in fields if f in QUASI_IDENTIFIERS]
    if not records.height or not qis:
        return {
            "quasi_identifiers": qis,
            "records": records.height,
            "k": None,
            "unique_records": 0,
            "uniqueness": 0.0,
            "below_threshold": 0,
        }
    sizes = records.group_by(qis).len()["len"]
    unique = int(sizes.filter(sizes == 1).len())
    below = int(sizes.filter(sizes < min_cell).sum())
    return {
        "quasi_identifiers": qis,
        "records": records.height,
        "k": int(sizes.min()),  # type: ignore[arg-type]
        "unique_records": unique,
        "uniqueness": round(unique / records.height, 4),
        "below_threshold": below,
    }


def record_disclosures(
    session: Session,
    selection: RecordSelection,
    *,
    organisation: str,
    agreement_id: str,
    recipients: Sequence[str],
    release_id: str,
    at: datetime,
) -> int:
    """Note each included subject as disclosed to each recipient (consent re-checked)."""
    scope = sharing_agreement_scope(agreement_id)
    count = 0
    for subject in sorted(set(selection.subjects.values())):
        for recipient in recipients:
            record_disclosure(
                session,
                organisation=organisation,
                subject_key=subject,
                recipient=recipient,
                scope=scope,
                reference=release_id,
                at=at,
            )
            count += 1
    return count
