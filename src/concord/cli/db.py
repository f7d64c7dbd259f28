"""``concord db``: migrate the database and say where it stands."""

from __future__ import annotations

import typer
from sqlalchemy import inspect

from concord.cli.common import console, migrated_engine

app = typer.Typer(
    help="Create or migrate the database (CONCORD_DATABASE_URL).", no_args_is_help=True
)


@app.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration to the configured database."""
    engine = migrated_engine()
    tables = sorted(inspect(engine).get_table_names())
    console.print(
        f"Database [bold]{engine.url.render_as_string()}[/] is up to date ({len(tables)} tables)."
    )
