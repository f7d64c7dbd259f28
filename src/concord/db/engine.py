"""Engine creation, sessions and migrations.

SQLite is the embedded default and PostgreSQL (psycopg 3) the production database; the URL
decides. Schema changes only ever happen through Alembic (:func:`upgrade_database`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from concord.errors import ConfigurationError, DatabaseError

MIGRATIONS_DIR = Path(str(files("concord.db") / "migrations"))


def normalise_url(url: str) -> str:
    """Let users write ``postgresql://`` and still get the psycopg 3 driver we ship."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys enforced (off by default there)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as exc:
        raise ConfigurationError(
            f"CONCORD_DATABASE_URL {url!r} is not a database URL "
            "(expected e.g. sqlite:///./concord.db or postgresql://user@host/db)"
        ) from exc
    engine = create_engine(parsed, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings.

    foreign_keys: off by default in SQLite. WAL: pages can read while an import writes, and
    with synchronous=NORMAL a commit is still durable against a crash of Concord (not of the
    machine's power). cache_size (negative = KiB): index inserts of random pseudonym keys
    thrash SQLite's 2 MB default cache; 128 MB makes bulk imports several times faster.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-131072")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply every pending migration (idempotent)."""
    try:
        with engine.begin() as connection:
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot reach or migrate the database at {engine.url.render_as_string()}: {exc.orig}"
        ) from exc


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on any error."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        raise DatabaseError(f"database operation failed: {exc}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
