"""Migrations: they build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from concord.db import Base, upgrade_database
from concord.db.engine import create_db_engine, normalise_url
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
