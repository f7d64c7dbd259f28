"""Shared fixtures: the shipped vocabulary, and migrated databases (SQLite always, PostgreSQL
when CONCORD_TEST_DATABASE_URL is set) with one rolled-back transaction per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from concord.db import create_db_engine, session_scope, upgrade_database
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.model import Vocabulary
from concord.vocab.store import load_into_database

PG_URL = os.environ.get("CONCORD_TEST_DATABASE_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="CONCORD_TEST_DATABASE_URL not set"),
    ),
]


@pytest.fixture(scope="session")
def vocabulary() -> Vocabulary:
    return shipped_vocabulary()


def fresh_database_url(backend: str, tmp_dir: Path) -> str:
    """A URL to an empty database of ``backend``; PostgreSQL's public schema is recreated."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / 'concord-test.db'}"
    assert PG_URL is not None
    engine = create_db_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database with the shipped vocabulary loaded, shared by the whole session."""
    url = fresh_database_url(request.param, tmp_path_factory.mktemp(request.param))
    db_engine = create_db_engine(url)
    upgrade_database(db_engine)
    with session_scope(db_engine) as session:
        load_into_database(session, shipped_vocabulary())
    yield db_engine
    db_engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    db_session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield db_session
    finally:
        db_session.close()
        transaction.rollback()
        connection.close()


def fresh_engine(backend: str, tmp_dir: Path, name: str) -> Engine:
    """A new, migrated, empty database of its own (PostgreSQL: a schema of its own), for tests
    that write and must not see or leave data elsewhere."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / f'{name}.db'}"
    else:
        assert PG_URL is not None
        admin = create_db_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        admin.dispose()
        separator = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{separator}options=-csearch_path%3D{name}"
    db_engine = create_db_engine(url)
    upgrade_database(db_engine)
    with session_scope(db_engine) as session:
        load_into_database(session, shipped_vocabulary())
    return db_engine
