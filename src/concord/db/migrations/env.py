"""Alembic environment: uses the engine/connection Concord hands over (never a URL in an ini)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from concord.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine: Engine = config.attributes["engine"]
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Concord migrations run online only: use `concord db upgrade`.")
run_migrations_online()
