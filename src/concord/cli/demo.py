"""``concord demo``: set up the embedded database, load the vocabulary, start the web app."""

from __future__ import annotations

import typer
import uvicorn

from concord.cli.common import console, migrated_engine
from concord.config import get_settings
from concord.db import session_scope
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.store import load_into_database


def demo(
    host: str = typer.Option(None, help="Address to listen on (default CONCORD_HOST)."),
    port: int = typer.Option(None, help="Port to listen on (default CONCORD_PORT)."),
    serve: bool = typer.Option(True, help="Start the web app; --no-serve only sets up."),
) -> None:
    """Prepare the database with the shipped vocabulary and start the web app."""
    settings = get_settings()
    engine = migrated_engine()
    with session_scope(engine) as session:
        result = load_into_database(session, shipped_vocabulary())
    console.print(
        f"Database: [bold]{engine.url.render_as_string()}[/] "
        f"(vocabulary {result.version}, {result.concepts} concepts, {result.message})"
    )
    if not serve:
        return
    from concord.web.app import create_app

    address = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"Concord is running at [bold link={address}]{address}[/]  (Ctrl+C to stop)")
    console.print(f"  vocabulary: {address}/vocab    API docs: {address}/api/docs")
    uvicorn.run(
        create_app(settings, engine=engine),
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
    )
