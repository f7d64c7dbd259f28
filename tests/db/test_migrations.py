"""Migrations: they build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from concord.db import Base, upgrade_database
from concord.db.engine import alembic_config, create_db_engine, normalise_url
from concord.errors import ConfigurationError, DatabaseError


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_upgrade_is_idempotent(engine: Engine) -> None:
    before = sorted(inspect(engine).get_table_names())
    upgrade_database(engine)
    assert sorted(inspect(engine).get_table_names()) == before
    assert "vocab_concept" in before


def test_postgres_urls_get_the_psycopg3_driver() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_bad_url_is_a_configuration_error() -> None:
    try:
        create_db_engine("not a url")
    except ConfigurationError as exc:
        assert "is not a database URL" in str(exc)
    else:
        raise AssertionError("expected ConfigurationError")


def test_unreachable_database_is_a_database_error(tmp_path: object) -> None:
    engine = create_db_engine("sqlite:////nonexistent-dir/sub/concord.db")
    try:
        upgrade_database(engine)
    except DatabaseError as exc:
        assert "cannot reach or migrate" in str(exc)
    else:
        raise AssertionError("expected DatabaseError")


def _concept_table_sql(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'record_concept'")
            ).scalar_one()
        )


def test_record_concept_is_clustered_on_sqlite_and_keeps_its_rows(tmp_path: Path) -> None:
    """Migration 0007 rebuilds record_concept WITHOUT ROWID and back, keeping every code."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade_database(engine, "0006")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO ingest_batch (id, source_org, mapping_version, mapping_sha256, "
                "vocabulary_version, file_name, file_sha256, file_bytes, imported_by, "
                "started_at, status, rows_read, rows_stored, rows_quarantined, rows_duplicate, "
                "rows_updated, dropped_columns, quality) VALUES (1, 'org-a', '1', 'x', '1', "
                "'f.csv', 'y', 1, 'cli', '2026-01-01', 'done', 1, 1, 0, 0, 0, '[]', '{}')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO record (id, batch_id, source_org, source_key, received_date) "
                "VALUES (7, 1, 'org-a', 'k', '2026-01-02')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO record_concept VALUES (7, 'abuse_types', 'abuse.grooming'), "
                "(7, 'abuse_types', 'abuse.sextortion')"
            )
        )
    assert "WITHOUT ROWID" not in _concept_table_sql(engine)
    rows = "SELECT record_id, field, concept_id FROM record_concept ORDER BY concept_id"
    upgrade_database(engine)
    assert "WITHOUT ROWID" in _concept_table_sql(engine)
    with engine.connect() as connection:
        assert connection.execute(text(rows)).all() == [
            (7, "abuse_types", "abuse.grooming"),
            (7, "abuse_types", "abuse.sextortion"),
        ]
        indexes = {i["name"] for i in inspect(connection).get_indexes("record_concept")}
    assert "ix_record_concept_field_concept" in indexes
    with engine.begin() as connection:  # the foreign key still cascades
        connection.execute(text("DELETE FROM record WHERE id = 7"))
        assert connection.execute(text(rows)).all() == []
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert "WITHOUT ROWID" not in _concept_table_sql(engine)
    engine.dispose()
