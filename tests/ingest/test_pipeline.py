"""End-to-end imports of the synthetic partners, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from concord.db import session_scope
from concord.db.models import IngestBatch, QuarantinedRow, Record
from concord.errors import InputError
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.ingest.quarantine import export_quarantine, list_quarantine, resubmit
from concord.protect.pseudonyms import PseudonymKeys
from concord.synth import SynthManifest, generate_partners
from concord.vocab.model import Vocabulary
from tests.conftest import BACKENDS, fresh_engine

ROWS = 600
#: Planted problems that must never reach the records table.
DEFECTS = (
    "future_date",
    "date_before_1990",
    "invalid_date",
    "occurred_after_received",
    "impossible_age",
    "unknown_code",
    "label_typo",
)


@pytest.fixture(scope="module")
def partners(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthManifest]:
    folder = tmp_path_factory.mktemp("partners")
    return folder, generate_partners(folder, rows_per_org=ROWS, seed=11)


@pytest.fixture(scope="module", params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    engine = fresh_engine(request.param, tmp_path_factory.mktemp("db"), "ingest_pipeline")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> PseudonymKeys:
    return PseudonymKeys(tmp_path_factory.mktemp("keys"))


def _count(engine: Engine, model: type, **where: object) -> int:
    with session_scope(engine) as session:
        stmt = select(func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return session.scalar(stmt) or 0


ORGS = ["helpline-fr", "hotline-es", "hotline-uk", "ngo-ke", "office-mx", "platform-th", "ngo-my"]


@pytest.mark.parametrize("org", ORGS)
def test_every_partner_reconciles_and_planted_defects_are_caught(
    db: Engine,
    partners: tuple[Path, SynthManifest],
    keys: PseudonymKeys,
    vocabulary: Vocabulary,
    org: str,
) -> None:
    folder, manifest = partners
    entry = manifest.organisation(org)
    report = ingest_file(
        db, folder / entry.file, load_mapping(folder / entry.mapping), vocabulary, keys=keys
    )
    assert report.rows_read == entry.rows
    assert report.reconciles
    assert report.rows_quarantined > 0 and report.rows_stored > 0.8 * entry.rows
    assert report.dropped_columns, "identifying columns must be reported as dropped"
    planted = [k for kind in DEFECTS for k in entry.planted_keys.get(kind, [])]
    pseudonyms = keys.pseudonymise(org, planted)
    with session_scope(db) as session:
        leaked = session.scalar(
            select(func.count())
            .select_from(Record)
            .where(Record.source_org == org, Record.source_key.in_(pseudonyms))
        )
        assert leaked == 0, "a planted defect was stored as a record"
        stored_keys = set(
            session.scalars(select(Record.source_key).where(Record.source_org == org))
        )
    assert not {k for k in stored_keys if not all(c in "0123456789abcdef" for c in k)}
    assert all(len(k) == 64 for k in stored_keys)  # pseudonyms, never the partner's key


def test_reimport_changes_nothing(
    db: Engine, partners: tuple[Path, SynthManifest], keys: PseudonymKeys, vocabulary: Vocabulary
) -> None:
    folder, manifest = partners
    entry = manifest.organisation("hotline-es")
    mapping = load_mapping(folder / entry.mapping)
    first = ingest_file(db, folder / entry.file, mapping, vocabulary, keys=keys)
    before = (_count(db, Record), _count(db, QuarantinedRow), _count(db, IngestBatch))
    again = ingest_file(db, folder / entry.file, mapping, vocabulary, keys=keys)
    assert again.already_imported and again.batch_id == first.batch_id
    assert (_count(db, Record), _count(db, QuarantinedRow), _count(db, IngestBatch)) == before


def test_a_copy_with_one_correction_updates_only_that_record(
    db: Engine,
    partners: tuple[Path, SynthManifest],
    keys: PseudonymKeys,
    vocabulary: Vocabulary,
    tmp_path: Path,
) -> None:
    folder, manifest = partners
    entry = manifest.organisation("ngo-my")
    mapping = load_mapping(folder / entry.mapping)
    ingest_file(db, folder / entry.file, mapping, vocabulary, keys=keys)
    lines = (folder / entry.file).read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    count_col = header.index(mapping.spec.fields["victim_count"].column or "")
    row = next(csv.reader([lines[5]]))
    row[count_col] = "7"
    out = tmp_path / "ngo-my-resent.csv"
    with out.open("w", encoding="utf-8", newline="") as handle:
        handle.writelines(lines[:5])
        csv.writer(handle, lineterminator="\n").writerow(row)
        handle.writelines(lines[6:])
    records = _count(db, Record)
    report = ingest_file(db, out, mapping, vocabulary, keys=keys)
    assert report.reconciles
    assert report.rows_updated == 1
    assert _count(db, Record) == records


def test_quarantine_export_correct_and_resubmit(
    db: Engine,
    partners: tuple[Path, SynthManifest],
    keys: PseudonymKeys,
    vocabulary: Vocabulary,
    tmp_path: Path,
) -> None:
    folder, manifest = partners
    entry = manifest.organisation("office-mx")
    mapping = load_mapping(folder / entry.mapping)
    report = ingest_file(db, folder / entry.file, mapping, vocabulary, keys=keys)
    with session_scope(db) as session:
        page = list_quarantine(session, batch_id=report.batch_id)
        assert page.total == report.rows_quarantined
        assert all(row.reasons for row in page.rows)
        exported = tmp_path / "fix.csv"
        count = export_quarantine(session, exported, batch_id=report.batch_id)
    assert count == page.total
    with exported.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    future = [r for r in rows if "is in the future" in r["quarantine_reasons"]]
    assert future, "the synthetic data plants future dates"
    received = mapping.spec.fields["received_date"]
    for r in future:
        r[received.column or ""] = "01/06/2025"
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(future)
    again = resubmit(db, fixed, mapping, vocabulary, keys=keys)
    assert again.reconciles
    assert again.rows_stored == len(future)
    with session_scope(db) as session:
        still_open = list_quarantine(session, batch_id=report.batch_id).total
    assert still_open == page.total - len(future)
    with pytest.raises(InputError, match="already resolved"):
        resubmit(db, fixed, mapping, vocabulary, keys=keys)


def test_a_file_broken_half_way_keeps_nothing(
    db: Engine,
    partners: tuple[Path, SynthManifest],
    keys: PseudonymKeys,
    vocabulary: Vocabulary,
    tmp_path: Path,
) -> None:
    folder, manifest = partners
    entry = manifest.organisation("hotline-es")
    mapping = load_mapping(folder / entry.mapping)
    broken = tmp_path / "broken.csv"
    text = (folder / entry.file).read_text(encoding="utf-8-sig")
    broken.write_text(text + 'x,"unterminated\n', encoding="utf-8")
    records = _count(db, Record)
    with pytest.raises(InputError):
        ingest_file(db, broken, mapping, vocabulary, keys=keys, batch_rows=100)
    assert _count(db, Record) == records
    assert _count(db, IngestBatch, status="failed") >= 1


def test_missing_mapped_column_is_refused(
    db: Engine,
    keys: PseudonymKeys,
    vocabulary: Vocabulary,
    tmp_path: Path,
    partners: tuple[Path, SynthManifest],
) -> None:
    folder, manifest = partners
    entry = manifest.organisation("hotline-es")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks column"):
        ingest_file(db, other, load_mapping(folder / entry.mapping), vocabulary, keys=keys)


def test_a_kobo_api_shaped_json_export_is_ingested(
    db: Engine,
    partners: tuple[Path, SynthManifest],
    keys: PseudonymKeys,
    vocabulary: Vocabulary,
    tmp_path: Path,
) -> None:
    # The records wrapped as KoboToolbox's API returns them, read with ``records: results``.
    folder, manifest = partners
    entry = manifest.organisation("platform-th")
    items = json.loads((folder / entry.file).read_text(encoding="utf-8"))
    wrapped = tmp_path / "platform-th-api.json"
    wrapped.write_text(
        json.dumps({"count": len(items), "next": None, "previous": None, "results": items}),
        encoding="utf-8",
    )
    spec = (folder / entry.mapping).read_text(encoding="utf-8")
    assert "reader: {format: json, encoding: utf-8}" in spec
    mapping_path = folder / "platform-th-api.mapping.yaml"
    mapping_path.write_text(
        spec.replace(
            "reader: {format: json, encoding: utf-8}",
            "reader: {format: json, encoding: utf-8, records: results}",
        ),
        encoding="utf-8",
    )
    report = ingest_file(db, wrapped, load_mapping(mapping_path), vocabulary, keys=keys)
    assert report.rows_read == entry.rows
    assert report.reconciles
