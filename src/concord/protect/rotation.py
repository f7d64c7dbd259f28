"""Key rotation without downtime: a new data key, every value re-encrypted in small batches.

How readers keep working: the new key version becomes current first (new values use it at
once), and old versions stay in the keyring, so every stored value stays readable whichever
version it is under at the moment it is read. Values move to the new version a batch at a time,
each batch its own committed transaction, so no table is locked for long and an interruption
loses at most one batch of work.

How an interrupted rotation resumes: :meth:`Keyring.begin_rotation` marks the rotation in the
keyring in the same atomic write that adds the new version; running :func:`rotate_keys` again
sees the mark and finishes that rotation instead of starting another.

Why retiring waits (``retire_grace``): a process that chose the old version just before the
rotation (an import encrypting a column) may commit its values a moment after the last batch.
Retiring destroys the old key, so those values would be lost. Rotation therefore waits until
the new version has been current for ``retire_grace``, re-encrypts any such late values, and
only then retires versions that no stored value uses. Retiring is off by default: a database
backup from before the rotation needs the old key to be restored.

Auditing: the rotation decrypts values only to encrypt them again (no plaintext leaves the
process or reaches a person), so it is recorded as one ``keys.rotate`` entry with counts, not
one ``protected_value.decrypt`` entry per value as a person's read is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.orm import Session

from concord.db import session_scope
from concord.db.models import ProtectedValue
from concord.errors import ConfigurationError, DecryptionError, InputError, NotFoundError
from concord.protect.audit import AuditTrail
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.keyring import Keyring, validate_organisation

#: Longest we expect between a writer choosing a key version and committing the values it
#: encrypted (an import commits each batch of rows within seconds); generous on purpose.
RETIRE_GRACE = timedelta(minutes=2)
#: How many unreadable values a report names (ids only); the count is always complete.
UNREADABLE_SAMPLE = 20

Phase = Literal["re-encrypting", "waiting", "catching up", "retiring"]


@dataclass(frozen=True)
class RotationProgress:
    """Where a rotation is: ``done`` of ``total`` values in this phase."""

    phase: Phase
    done: int
    total: int
    wait_seconds: float = 0.0


@dataclass
class RotationReport:
    """What a rotation did: ids and counts only, never a value."""

    organisation: str
    to_version: int
    resumed: bool
    #: Values per old version when this run started.
    stale_at_start: dict[int, int]
    reencrypted: int = 0
    batches: int = 0
    #: Values that could not be decrypted (altered, moved, key retired): they keep their
    #: version, which is then never retired.
    unreadable: int = 0
    unreadable_sample: list[tuple[int, str]] = field(default_factory=list)
    retired: list[int] = field(default_factory=list)
    #: Old versions left in the keyring, with how many values still use each.
    kept: dict[int, int] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every readable value is under the new version and none was unreadable."""
        return self.unreadable == 0


ProgressCallback = Callable[[RotationProgress], None]


def values_per_version(session: Session, organisation: str) -> dict[int, int]:
    """How many protected values of ``organisation`` each key version encrypts."""
    rows = session.execute(
        select(ProtectedValue.key_version, func.count())
        .where(ProtectedValue.organisation == organisation)
        .group_by(ProtectedValue.key_version)
    )
    return {int(version): int(count) for version, count in rows}


@dataclass(frozen=True)
class KeyUsage:
    """One key version of one organisation, and how many stored values it encrypts."""

    organisation: str
    version: int
    #: None when values use a version the keyring does not have (a lost or stale key dir).
    created_at: datetime | None
    current: bool
    retired_at: datetime | None
    values: int
    rotation_in_progress: bool

    @property
    def in_keyring(self) -> bool:
        return self.created_at is not None


def key_usage(
    session: Session, keyring: Keyring, organisation: str | None = None
) -> list[KeyUsage]:
    """Every key version (of one organisation, or of all with keys or values) and its use."""
    if organisation is not None:
        organisations = [validate_organisation(organisation)]
    else:
        in_db = session.scalars(select(ProtectedValue.organisation).distinct())
        organisations = sorted(set(keyring.organisations()) | set(in_db))
    usage = []
    for org in organisations:
        counts = values_per_version(session, org)
        rotating = keyring.rotation_in_progress(org) is not None
        known = {v.version: v for v in keyring.versions(org)}
        for number in sorted(set(known) | set(counts)):
            version = known.get(number)
            usage.append(
                KeyUsage(
                    organisation=org,
                    version=number,
                    created_at=version.created_at if version else None,
                    current=bool(version and version.current),
                    retired_at=version.retired_at if version else None,
                    values=counts.get(number, 0),
                    rotation_in_progress=rotating,
                )
            )
    return usage


def rotate_keys(
    engine: Engine,
    keyring: Keyring,
    organisation: str,
    *,
    actor: str,
    audit: AuditTrail,
    batch_size: int = 1000,
    retire_old: bool = False,
    retire_grace: timedelta = RETIRE_GRACE,
    progress: ProgressCallback | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RotationReport:
    """Rotate ``organisation``'s data key, or finish a rotation that was interrupted.

    Adds a key version, re-encrypts every value under an older one (``batch_size`` values per
    committed transaction), optionally retires old versions no value uses any more, and
    appends one audit entry (``keys.rotate``) with the counts. ``sleep`` is injectable so
    tests need not wait out ``retire_grace``.
    """
    validate_organisation(organisation)
    if batch_size < 1:
        raise InputError("the rotation batch size must be at least 1")
    if not keyring.exists(organisation):
        _refuse_missing_keyring(engine, keyring, organisation)
    target, resumed = keyring.begin_rotation(organisation, actor)
    with session_scope(engine) as session:
        stale = {v: n for v, n in values_per_version(session, organisation).items() if v != target}
    report = RotationReport(organisation, target, resumed, stale)
    cipher = FieldCipher(keyring)
    _reencrypt(engine, cipher, report, batch_size, "re-encrypting", sum(stale.values()), progress)

    old = [v for v in keyring.versions(organisation) if not v.current and not v.retired]
    if retire_old and old:
        created = next(v.created_at for v in keyring.versions(organisation) if v.current)
        wait = min(created + retire_grace - datetime.now(UTC), retire_grace).total_seconds()
        if wait > 0:
            if progress:
                progress(RotationProgress("waiting", 0, 0, wait_seconds=wait))
            sleep(wait)
        with session_scope(engine) as session:
            late = sum(
                n for v, n in values_per_version(session, organisation).items() if v != target
            )
        _reencrypt(engine, cipher, report, batch_size, "catching up", late, progress)
    with session_scope(engine) as session:
        in_use = values_per_version(session, organisation)
    for version in old:
        count = in_use.get(version.version, 0)
        if retire_old and count == 0:
            if progress:
                progress(RotationProgress("retiring", len(report.retired), len(old)))
            keyring.retire(organisation, version.version)
            report.retired.append(version.version)
        else:
            report.kept[version.version] = count

    with session_scope(engine) as session:
        audit.record(
            session,
            actor=actor,
            action="keys.rotate",
            organisation=organisation,
            target=f"keyring:{organisation}",
            details={
                "to_version": target,
                "resumed": resumed,
                "stale_at_start": {str(v): n for v, n in sorted(stale.items())},
                "reencrypted": report.reencrypted,
                "batches": report.batches,
                "unreadable": report.unreadable,
                "unreadable_sample": [
                    {"record_id": r, "field": f} for r, f in report.unreadable_sample
                ],
                "retired": report.retired,
                "kept": {str(v): n for v, n in sorted(report.kept.items())},
            },
        )
    # Only now is the rotation over: a crash before this line resumes (and audits) it.
    keyring.finish_rotation(organisation)
    return report


def _reencrypt(
    engine: Engine,
    cipher: FieldCipher,
    report: RotationReport,
    batch_size: int,
    phase: Phase,
    total: int,
    progress: ProgressCallback | None,
) -> None:
    """Move every value not under ``report.to_version`` to it, one committed batch at a time.

    Why keyset pagination rather than "the first N stale values" again and again: a value that
    cannot be decrypted stays stale, and would otherwise be selected forever. Rows are locked
    (``FOR UPDATE`` on PostgreSQL; SQLite has one writer at a time) so an edit made while the
    batch is processed is not overwritten by the re-encrypted old value.
    """
    organisation, target = report.organisation, report.to_version
    unreadable, done = 0, 0
    after: tuple[int, str] | None = None
    if progress:
        progress(RotationProgress(phase, 0, total))
    while True:
        with session_scope(engine) as session:
            query = select(ProtectedValue).where(
                ProtectedValue.organisation == organisation,
                ProtectedValue.key_version != target,
            )
            if after is not None:
                query = query.where(
                    or_(
                        ProtectedValue.record_id > after[0],
                        and_(ProtectedValue.record_id == after[0], ProtectedValue.field > after[1]),
                    )
                )
            query = (
                query.order_by(ProtectedValue.record_id, ProtectedValue.field)
                .limit(batch_size)
                .with_for_update()
            )
            rows = list(session.scalars(query))
            if not rows:
                break
            for row in rows:
                try:
                    plaintext = cipher.decrypt(
                        organisation, row.record_id, row.field, row.key_version, row.ciphertext
                    )
                except DecryptionError:
                    unreadable += 1
                    if len(report.unreadable_sample) < UNREADABLE_SAMPLE and (
                        (row.record_id, row.field) not in report.unreadable_sample
                    ):
                        report.unreadable_sample.append((row.record_id, row.field))
                    continue
                _, row.ciphertext = cipher.encrypt(
                    organisation, row.record_id, row.field, plaintext, version=target
                )
                row.key_version = target
                report.reencrypted += 1
            after = (rows[-1].record_id, rows[-1].field)
            done += len(rows)
        report.batches += 1  # committed
        if progress:
            progress(RotationProgress(phase, done, max(total, done)))
    # The last pass sees every value still unreadable (they stay under their old version).
    report.unreadable = unreadable


def _refuse_missing_keyring(engine: Engine, keyring: Keyring, organisation: str) -> None:
    """No keyring: harmless if nothing is encrypted, a lost key directory otherwise."""
    with session_scope(engine) as session:
        stored = sum(values_per_version(session, organisation).values())
    if stored:
        raise ConfigurationError(
            f"{stored} protected values of {organisation} are encrypted, but "
            f"{keyring.path(organisation).name} is missing from {keyring.key_dir} "
            "(CONCORD_KEY_DIR): restore the key directory from its backup before rotating"
        )
    raise NotFoundError(
        f"{organisation} has no field-encryption keys yet: nothing is encrypted, so there is "
        "nothing to rotate"
    )
