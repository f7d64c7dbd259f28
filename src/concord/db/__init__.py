"""Database layer: engine and sessions, the ORM models and Alembic migrations."""

from concord.db.engine import create_db_engine, session_scope, upgrade_database
from concord.db.models import Base

__all__ = ["Base", "create_db_engine", "session_scope", "upgrade_database"]
