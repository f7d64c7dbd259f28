"""Large imports rebuild secondary indexes at the end (SQLite), and never lose them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select

from concord.db import Base, bulk, session_scope
from concord.db.models import Record, RecordConcept
from concord.errors import InputError
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.pseudonyms import PseudonymKeys
from concord.synth import SynthManifest, generate_partners
from concord.vocab.model import Vocabulary
from tests.conftest import BACKENDS, fresh_engine

ORG = "hotline-es"


@pytest.fixture(scope="module")
def partners(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthManifest]:
    folder = tmp_path_factory.mktemp("partners")
    return folder, generate_partners(folder, rows_per_org=400, seed=5, organisations=[ORG])


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = fresh_engine(request.param, tmp_path, "deferred_indexes")
    yield engine
    engine.dispose()


@pytest.fixture
def every_import_is_large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a 400-row file count as a large load, so the deferral path runs in a test."""
    monkeypatch.setattr(bulk, "DEFER_INDEXES_MIN_ROWS", 1)


def _indexes(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    return {
        str(index["name"])
        for table in ("record", "record_concept")
        for index in inspector.get_indexes(table)
    }


def _expected() -> set[str]:
    return {
        str(index.name)
        for table in ("record", "record_concept")
        for index in Base.metadata.tables[table].indexes
    }


def test_rebuilding_pays_only_for_large_loads_at_least_the_table_size() -> None:
    assert not bulk.worth_deferring(bulk.DEFER_INDEXES_MIN_ROWS - 1, 0)
    assert bulk.worth_deferring(bulk.DEFER_INDEXES_MIN_ROWS, 0)
    assert bulk.worth_deferring(500_000, 500_000)
    assert not bulk.worth_deferring(500_000, 500_001)


@pytest.mark.usefixtures("every_import_is_large")
def test_a_large_import_ends_with_every_index_and_every_row(
    db: Engine,
    partners: tuple[Path, SynthManifest],
    vocabulary: Vocabulary,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, manifest = partners
    entry = manifest.organisation(ORG)
    mapping = load_mapping(folder / entry.mapping)
    dropped: list[list[str]] = []
    original = bulk.defer_indexes

    def watching(session: object, tables: list[str]) -> bulk.DeferredIndexes:
        deferred = original(session, tables)  # type: ignore[arg-type]
        dropped.append([str(i.name) for i in deferred.indexes])
        return deferred

    monkeypatch.setattr("concord.ingest.pipeline.defer_indexes", watching)
    report = ingest_file(
        db, folder / entry.file, mapping, vocabulary, keys=PseudonymKeys(tmp_path), batch_rows=100
    )
    assert report.reconciles
    # SQLite dropped every secondary index; PostgreSQL (readers would be locked out) none.
    expected_drops = set() if db.dialect.name == "postgresql" else _expected()
    assert dropped and set(dropped[0]) == expected_drops
    assert _expected() <= _indexes(db)
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == report.rows_stored
        codes = session.scalar(select(func.count()).select_from(RecordConcept))
    assert codes and codes > 0


@pytest.mark.usefixtures("every_import_is_large")
def test_a_failed_large_import_leaves_the_indexes_in_place(
    db: Engine, partners: tuple[Path, SynthManifest], vocabulary: Vocabulary, tmp_path: Path
) -> None:
    folder, manifest = partners
    entry = manifest.organisation(ORG)
    broken = tmp_path / "broken.csv"
    text = (folder / entry.file).read_text(encoding="utf-8-sig")
    broken.write_text(text + 'x,"unterminated\n', encoding="utf-8")
    with pytest.raises(InputError):
        ingest_file(
            db,
            broken,
            load_mapping(folder / entry.mapping),
            vocabulary,
            keys=PseudonymKeys(tmp_path),
            batch_rows=100,
        )
    assert _expected() <= _indexes(db)
    with session_scope(db) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == 0
