"""Purpose-bound collection at import: which identifying columns are kept, encrypted, and why.

A mapping may keep an identifying column only by naming a purpose (``keep:``); the column is
kept only if the organisation holds that purpose (and allows identifying data for it) and the
node has an encryption key ring. Anything else is dropped and the import report says why.
Kept values never touch the ``record`` table: each is encrypted with AES-GCM, bound to its
record and column, and stored in ``protected_value``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from concord.db.models import ProtectedValue, Purpose
from concord.ingest.mapping import MappingSpec
from concord.ingest.store import now
from concord.ingest.transform import ROW
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.purposes import organisation_purposes


@dataclass
class KeepPlan:
    """Kept column → purpose, and dropped identifying column → why it was not kept."""

    kept: dict[str, str] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    def report(self) -> dict[str, dict[str, str]]:
        return {"kept": dict(self.kept), "dropped": dict(self.dropped)}


def plan_kept_columns(
    session: Session, spec: MappingSpec, columns: list[str], cipher: FieldCipher | None
) -> KeepPlan:
    """Decide, once per import, which identifying columns present in the file are kept."""
    plan = KeepPlan()
    held = organisation_purposes(session, spec.source)
    for column in spec.identifying:
        if column not in columns:
            continue
        purpose = spec.keep.get(column)
        if column == spec.subject:
            plan.dropped[column] = "kept only as a keyed pseudonym (subject_key)"
        elif purpose is None:
            plan.dropped[column] = "identifying, and the mapping names no purpose to keep it"
        elif purpose not in held:
            plan.dropped[column] = f"{spec.source} does not hold the purpose {purpose}"
        elif not _identifying_purpose(session, purpose):
            plan.dropped[column] = f"the purpose {purpose} does not justify identifying values"
        elif cipher is None:
            plan.dropped[column] = "no encryption key ring is configured on this node"
        else:
            plan.kept[column] = purpose
    return plan


def _identifying_purpose(session: Session, purpose: str) -> bool:
    found = session.get(Purpose, purpose)
    return found is not None and found.identifying


def store_kept_values(
    session: Session,
    cipher: FieldCipher,
    plan: KeepPlan,
    raw: pl.DataFrame,
    stored: pl.DataFrame,
    *,
    organisation: str,
    actor: str,
) -> int:
    """Encrypt the kept columns of the rows just stored (``stored``: ROW and record ``id``).

    Earlier values of the same records (a corrected re-import) are replaced. Returns how many
    values were stored.
    """
    if not plan.kept or stored.is_empty():
        return 0
    frame = stored.select(ROW, "id").join(raw.select(ROW, *plan.kept), on=ROW, how="inner")
    ids = frame["id"].to_list()
    session.execute(
        delete(ProtectedValue).where(
            ProtectedValue.record_id.in_(ids), ProtectedValue.field.in_(list(plan.kept))
        )
    )
    count = 0
    created = now()
    for column, purpose in plan.kept.items():
        values = frame.select("id", pl.col(column).str.strip_chars().alias("value")).filter(
            pl.col("value").is_not_null() & (pl.col("value") != "")
        )
        if values.is_empty():
            continue
        record_ids = values["id"].to_list()
        version, blobs = cipher.encrypt_column(
            organisation, column, record_ids, values["value"].to_list()
        )
        session.execute(
            insert(ProtectedValue),
            [
                {
                    "record_id": record_id,
                    "field": column,
                    "organisation": organisation,
                    "purpose": purpose,
                    "key_version": version,
                    "ciphertext": blob,
                    "created_at": created,
                    "created_by": actor,
                }
                for record_id, blob in zip(record_ids, blobs, strict=True)
            ],
        )
        count += len(record_ids)
    session.flush()
    return count
