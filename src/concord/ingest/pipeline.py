"""One import, end to end: read → map and validate → pseudonymise → de-duplicate → store.

Every row read is accounted for: ``read = stored + quarantined + duplicates`` (stored includes
corrections of records an earlier batch stored). An import is one transaction: if the file
turns out to be broken half-way, nothing of it is kept and the failed batch is recorded with
the reason. Importing the same file with the same mapping again changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from concord.db import session_scope
from concord.db.bulk import DeferredIndexes, defer_indexes, table_size, worth_deferring
from concord.db.models import IngestBatch
from concord.errors import ConcordError, UnreadableFileError
from concord.ingest import store
from concord.ingest.keyfilter import KeyFilter
from concord.ingest.mapping import LoadedMapping
from concord.ingest.protected import KeepPlan, plan_kept_columns, store_kept_values
from concord.ingest.quality import QualityAccumulator
from concord.ingest.readers.base import DEFAULT_BATCH_ROWS, open_batches
from concord.ingest.reconciliation import reconciliation
from concord.ingest.transform import (
    REASONS,
    ROW,
    VALUES,
    BatchMapper,
    BatchResult,
    check_columns,
)
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.pseudonyms import PseudonymKeys
from concord.records.fields import FIELDS, LIST_FIELDS, SCALAR_FIELDS
from concord.vocab.model import Vocabulary

#: Called after each batch with (rows read so far, bytes of the file) for progress bars.
Progress = Callable[[int], None]
KEY = "source_record_key"
COMPARED = [*SCALAR_FIELDS, *LIST_FIELDS]


@dataclass(frozen=True)
class IngestReport:
    batch_id: int
    source_org: str
    file_name: str
    rows_read: int
    rows_stored: int
    rows_updated: int
    rows_quarantined: int
    rows_duplicate: int
    already_imported: bool
    dropped_columns: list[str]
    quality: dict[str, Any]

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_stored + self.rows_quarantined + self.rows_duplicate

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data (CLI ``--format json`` and the API)."""
        return {
            "batch": self.batch_id,
            "source": self.source_org,
            "file": self.file_name,
            "already_imported": self.already_imported,
            "rows": reconciliation(self),
            "reconciles": self.reconciles,
            "dropped_identifying_columns": self.dropped_columns,
            "quality": self.quality,
        }

    @classmethod
    def from_batch(cls, batch: IngestBatch, *, already_imported: bool) -> IngestReport:
        return cls(
            batch_id=batch.id,
            source_org=batch.source_org,
            file_name=batch.file_name,
            rows_read=batch.rows_read,
            rows_stored=batch.rows_stored,
            rows_updated=batch.rows_updated,
            rows_quarantined=batch.rows_quarantined,
            rows_duplicate=batch.rows_duplicate,
            already_imported=already_imported,
            dropped_columns=list(batch.dropped_columns),
            quality=dict(batch.quality),
        )


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError as exc:
        raise UnreadableFileError(f"{path}: no such file") from exc
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    return digest.hexdigest(), size


def ingest_file(
    engine: Engine,
    path: Path,
    mapping: LoadedMapping,
    vocabulary: Vocabulary,
    *,
    keys: PseudonymKeys,
    cipher: FieldCipher | None = None,
    imported_by: str = "cli",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
    today: date | None = None,
    frames: Iterator[pl.DataFrame] | None = None,
) -> IngestReport:
    """Import ``path`` with ``mapping``; see the module docstring for the guarantees.

    ``frames`` replaces reading ``path`` (quarantine re-submission passes corrected rows).
    ``cipher`` encrypts the identifying columns the mapping keeps for a purpose; without it
    every identifying column is dropped.
    """
    spec = mapping.spec
    sha256, size = file_digest(path)
    with session_scope(engine) as session:
        done = store.find_completed_batch(session, spec.source, sha256, mapping.sha256)
        if done is not None:
            return IngestReport.from_batch(done, already_imported=True)
    batch = IngestBatch(
        source_org=spec.source,
        mapping_version=str(spec.version),
        mapping_sha256=mapping.sha256,
        vocabulary_version=vocabulary.version,
        file_name=path.name,
        file_sha256=sha256,
        file_bytes=size,
        imported_by=imported_by,
        started_at=store.now(),
        status="running",
        **_nothing_yet(),
    )
    try:
        with session_scope(engine) as session:
            session.add(batch)
            session.flush()
            run = _Run(session, batch, mapping, vocabulary, keys, today, cipher)
            source = (
                frames
                if frames is not None
                else open_batches(path, spec.reader, batch_rows=batch_rows)
            )
            for frame in source:
                run.add(frame, source=str(path))
                if progress:
                    progress(run.quality.rows_read)
            run.finish()
    except ConcordError as exc:
        _record_failure(engine, batch, exc)
        raise
    return IngestReport.from_batch(batch, already_imported=False)


def _nothing_yet() -> dict[str, Any]:
    """The counts and report of a batch before (or without) any stored row."""
    counts: dict[str, Any] = dict.fromkeys(
        ("rows_read", "rows_stored", "rows_quarantined", "rows_duplicate", "rows_updated"), 0
    )
    return counts | {"dropped_columns": [], "quality": {}}


def _record_failure(engine: Engine, batch: IngestBatch, exc: ConcordError) -> None:
    """Keep a trace of the failed attempt (its rows were rolled back with the transaction)."""
    with session_scope(engine) as session:
        session.add(
            IngestBatch(
                **{
                    c: getattr(batch, c)
                    for c in (
                        "source_org",
                        "mapping_version",
                        "mapping_sha256",
                        "vocabulary_version",
                        "file_name",
                        "file_sha256",
                        "file_bytes",
                        "imported_by",
                        "started_at",
                    )
                },
                finished_at=store.now(),
                status="failed",
                **_nothing_yet(),
                message=str(exc)[:4000],
            )
        )


class _Run:
    """State of one import while its batches stream through."""

    def __init__(
        self,
        session: Session,
        batch: IngestBatch,
        mapping: LoadedMapping,
        vocabulary: Vocabulary,
        keys: PseudonymKeys,
        today: date | None,
        cipher: FieldCipher | None = None,
    ) -> None:
        self.session = session
        self.cipher = cipher
        self.plan = KeepPlan()
        self.values_kept = 0
        self.batch = batch
        self.mapping = mapping
        self.mapper = BatchMapper(mapping, vocabulary, today=today)
        self.keys = keys
        self.quality = QualityAccumulator([f.name for f in FIELDS if f.name in mapping.spec.fields])
        self.checked_columns = False
        self.identifying_seen: set[str] = set()
        #: 64-bit prefixes of the keys this import stored (a filter; hits are checked in SQL)
        self.seen = KeyFilter()
        self.org_had_records = store.has_records(session, mapping.spec.source)
        self.deferred = DeferredIndexes()

    def add(self, frame: pl.DataFrame, *, source: str) -> None:
        spec = self.mapping.spec
        if not self.checked_columns:
            check_columns(frame.columns, self.mapping, source=source)
            self.identifying_seen = {c for c in spec.identifying if c in frame.columns}
            self.plan = plan_kept_columns(self.session, spec, frame.columns, self.cipher)
            self.checked_columns = True
            self.deferred = self._defer_indexes(frame)
        self.quality.rows_read += frame.height
        result = self.mapper.map(frame)
        self.quality.add_mapped(result)
        records = result.records.with_columns(
            pl.Series(
                "source_key",
                self.keys.pseudonymise(spec.source, result.records[KEY].to_list()),
                dtype=pl.String,
            )
        ).drop(KEY)
        if spec.subject is not None and spec.subject in frame.columns:
            records = records.join(self._subject_keys(result.raw), on=ROW, how="left")
        records, repeats, conflicts = _split_repeats(records)
        new, updates, again, clashes = self._against_stored(records)
        clashes = clashes.with_columns(
            pl.lit(
                ["source_record_key: appears again in this file with different content"],
                dtype=pl.List(pl.String),
            ).alias(REASONS)
        )
        quarantined = pl.concat(
            [
                result.quarantined,
                _as_quarantine(conflicts, result),
                _as_quarantine(clashes, result),
            ],
            how="vertical_relaxed",
        )
        org, batch_id = spec.source, self.batch.id
        ids = store.insert_records(self.session, new, batch_id=batch_id, source_org=org)
        stored = len(ids)
        updated = store.update_records(self.session, updates, batch_id=batch_id, source_org=org)
        if self.plan.kept and self.cipher is not None:
            written = new.select(ROW).with_columns(pl.Series("id", ids, dtype=pl.Int64))
            for rows in (written, updates.select(ROW, "id")):
                self.values_kept += store_kept_values(
                    self.session,
                    self.cipher,
                    self.plan,
                    result.raw,
                    rows,
                    organisation=org,
                    actor=self.batch.imported_by,
                )
        store.insert_quarantine(self.session, quarantined, batch_id=batch_id, source_org=org)
        self.quality.add_stored(new)
        self.quality.add_stored(updates)
        self.quality.add_quarantine_reasons(quarantined)
        self.quality.rows_stored += stored + updated
        self.quality.rows_updated += updated
        self.quality.rows_quarantined += quarantined.height
        self.quality.rows_duplicate += repeats + again

    def finish(self) -> None:
        """Close the batch with its reconciliation and quality report."""
        self.deferred.rebuild(self.session)
        batch, quality = self.batch, self.quality
        batch.rows_read = quality.rows_read
        batch.rows_stored = quality.rows_stored
        batch.rows_updated = quality.rows_updated
        batch.rows_quarantined = quality.rows_quarantined
        batch.rows_duplicate = quality.rows_duplicate
        batch.dropped_columns = sorted(self.identifying_seen - set(self.plan.kept))
        batch.quality = quality.report() | {
            "identifying": self.plan.report() | {"values_kept": self.values_kept}
        }
        batch.status = "done"
        batch.finished_at = store.now()
        self.session.flush()

    def _defer_indexes(self, first: pl.DataFrame) -> DeferredIndexes:
        """A large load rebuilds the secondary indexes once at the end instead of updating
        them row by row (SQLite; see :class:`DeferredIndexes`). Its size is estimated from the
        first batch: the file's bytes over the batch's bytes per row."""
        per_row = max(first.estimated_size() / max(first.height, 1), 1.0)
        expected = max(first.height, int(self.batch.file_bytes / per_row))
        if not worth_deferring(expected, table_size(self.session, "record")):
            return DeferredIndexes()
        return defer_indexes(self.session, ["record", "record_concept"])

    def _subject_keys(self, raw: pl.DataFrame) -> pl.DataFrame:
        """ROW → the keyed pseudonym of the partner's child id (null where there is none)."""
        spec = self.mapping.spec
        assert spec.subject is not None
        ids = raw.select(ROW, pl.col(spec.subject).str.strip_chars().alias("subject"))
        present = ids.filter(pl.col("subject").is_not_null() & (pl.col("subject") != ""))
        return present.select(
            ROW,
            pl.Series(
                "subject_key",
                self.keys.subject_keys(spec.source, present["subject"].to_list()),
                dtype=pl.String,
            ),
        )

    def _against_stored(
        self, records: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame, int, pl.DataFrame]:
        """(new, corrections, exact repeats, clashes within this import) against the database.

        Only keys that can exist are looked up: every key when the organisation had records
        before this import, otherwise only keys this import already stored (found through an
        in-memory filter of 64-bit key prefixes, so a first import of millions of rows does
        not query the database once per batch row).
        """
        keys = records["source_key"]
        prefixes = keys.str.slice(0, 16).str.to_integer(base=16, dtype=pl.UInt64).to_numpy()
        if self.org_had_records:
            candidates = keys
        else:
            candidates = keys.filter(pl.Series(self.seen.contains(prefixes)))
        self.seen.add(prefixes)
        no_updates = records.clear().with_columns(pl.lit(0, dtype=pl.Int64).alias("id"))
        if candidates.is_empty():
            return records, no_updates, 0, records.clear()
        existing = store.existing_records(
            self.session, self.mapping.spec.source, candidates.to_list()
        )
        if existing.is_empty():
            return records, no_updates, 0, records.clear()
        joined = records.join(
            existing.select(["id", "batch_id", "source_key", *_present(existing)]),
            on="source_key",
            how="left",
            suffix="__old",
        )
        known = pl.col("id").is_not_null()
        same = pl.all_horizontal(
            [_same(name) for name in _present(records) if f"{name}__old" in joined.columns]
        )
        this_import = pl.col("batch_id") == self.batch.id
        new = joined.filter(~known).select(records.columns)
        repeats = joined.filter(known & same).height
        clashes = joined.filter(known & ~same & this_import).select(records.columns)
        updates = joined.filter(known & ~same & ~this_import).select([*records.columns, "id"])
        return new, updates, repeats, clashes


def _present(frame: pl.DataFrame) -> list[str]:
    return [name for name in COMPARED if name in frame.columns]


def _same(name: str) -> pl.Expr:
    new, old = pl.col(name), pl.col(f"{name}__old")
    if name in LIST_FIELDS:
        new, old = new.list.sort(), old.list.sort()
    return new.eq_missing(old)


def _split_repeats(records: pl.DataFrame) -> tuple[pl.DataFrame, int, pl.DataFrame]:
    """Within one batch: keep one of identical repeats; quarantine keys with differing rows."""
    repeated = records["source_key"].is_duplicated()
    if not repeated.any():
        return (
            records,
            0,
            records.clear().with_columns(pl.lit([], dtype=pl.List(pl.String)).alias(REASONS)),
        )
    single, multiple = records.filter(~repeated), records.filter(repeated)
    variants = pl.struct(_present(multiple)).n_unique().over("source_key")
    conflicting = multiple.filter(variants > 1).with_columns(
        pl.concat_list(
            pl.format(
                "source_record_key: appears {} times in this file with different content",
                pl.len().over("source_key"),
            )
        ).alias(REASONS)
    )
    consistent = multiple.filter(variants == 1)
    kept = consistent.unique(subset=["source_key"], keep="first", maintain_order=True)
    merged = pl.concat([single, kept]).sort(ROW)
    return merged, consistent.height - kept.height, conflicting


def _as_quarantine(frame: pl.DataFrame, result: BatchResult) -> pl.DataFrame:
    """Harmonised rows set aside after mapping, with their original values for the steward."""
    reasons = frame.select(ROW, REASONS)
    return reasons.join(result.values_for(reasons[ROW]), on=ROW).select(ROW, REASONS, VALUES)
