"""``concord demo``: a ready-to-explore node on the embedded database, with synthetic data only.

It migrates the database, loads the shipped vocabulary, generates the synthetic partners
(deterministic seed), ingests every one of them through its own mapping spec and crosswalk,
shows the reconciliation, and starts the web app. Re-running it is safe: imports are
idempotent, so the second run changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.table import Table

from concord.cli.common import console, migrated_engine
from concord.config import get_settings
from concord.db import session_scope
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.audit import AuditTrail
from concord.protect.demo_accounts import DEMO_PASSWORD, DemoAccount, DemoOrg, ensure_demo_node
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys
from concord.synth import generate_partners
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.store import load_into_database

DEMO_SEED = 7
DEMO_DATA = Path("concord-demo-data")


def demo(
    host: Annotated[str | None, typer.Option(help="Address (default CONCORD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CONCORD_PORT).")] = None,
    serve: Annotated[
        bool, typer.Option(help="Start the web app; --no-serve only prepares.")
    ] = True,
    rows: Annotated[int, typer.Option(min=10, help="Synthetic rows per organisation.")] = 2000,
    data_dir: Annotated[
        Path, typer.Option(help="Where the synthetic partner files are written.")
    ] = DEMO_DATA,
    federation: Annotated[
        bool,
        typer.Option(
            "--federation",
            help="Instead: a regional hub and three national nodes (ports PORT..PORT+3, "
            "folders under ./concord-federation), releasing and pushing signed bundles.",
        ),
    ] = False,
) -> None:
    """Prepare a demo node (vocabulary + seven synthetic partners ingested), start the web app."""
    settings = get_settings()
    if federation:
        from concord.cli.federation_demo import FEDERATION_DIR, federation_demo

        federation_demo(FEDERATION_DIR, rows=rows, port=port or settings.port, serve=serve)
        return
    engine = migrated_engine()
    vocabulary = shipped_vocabulary()
    with session_scope(engine) as session:
        result = load_into_database(session, vocabulary)
    console.print(
        f"Database: [bold]{engine.url.render_as_string()}[/] "
        f"(vocabulary {result.version}, {result.concepts} concepts, {result.message})"
    )
    with console.status("generating synthetic partner files (no real data, ever)"):
        manifest = generate_partners(data_dir, rows_per_org=rows, seed=DEMO_SEED)
    keys = PseudonymKeys(settings.key_dir)
    cipher = FieldCipher(Keyring(settings.key_dir))
    with session_scope(engine) as session:
        accounts = ensure_demo_node(
            session,
            AuditTrail.from_key_dir(settings.key_dir),
            [DemoOrg(o.slug, o.name, o.country, o.kind) for o in manifest.organisations],
        )
    table = Table(title=f"Synthetic partners ingested (files in {data_dir})")
    for column in (
        "organisation",
        "country",
        "format",
        "read",
        "stored",
        "quarantined",
        "duplicates",
        "batch",
    ):
        table.add_column(
            column, justify="left" if column in ("organisation", "country", "format") else "right"
        )
    for org in manifest.organisations:
        with console.status(f"ingesting {org.slug}"):
            report = ingest_file(
                engine,
                data_dir / org.file,
                load_mapping(data_dir / org.mapping),
                vocabulary,
                keys=keys,
                cipher=cipher,
                imported_by="demo",
            )
        table.add_row(
            org.slug,
            org.country,
            org.format,
            f"{report.rows_read:,}",
            f"{report.rows_stored:,}",
            f"{report.rows_quarantined:,}",
            f"{report.rows_duplicate:,}",
            f"{report.batch_id}" + (" (already)" if report.already_imported else ""),
        )
    console.print(table)
    console.print(
        "See why rows were quarantined: [bold]uv run concord quarantine list[/]; "
        "quality per import: [bold]uv run concord quality BATCH[/]"
    )
    _show_accounts(accounts)
    if not serve:
        return
    from concord.web.app import create_app

    address = f"http://{host or settings.host}:{port or settings.port}"
    console.print(f"Concord is running at [bold link={address}]{address}[/]  (Ctrl+C to stop)")
    console.print(f"  vocabulary: {address}/vocab    API docs: {address}/api/docs")
    uvicorn.run(
        create_app(settings.model_copy(update={"mapping_dir": data_dir}), engine=engine),
        host=host or settings.host,
        port=port or settings.port,
        log_level="warning",
    )


def _show_accounts(accounts: list[DemoAccount]) -> None:
    if not accounts:
        console.print("This node has real users: no demo accounts were added.")
        return
    table = Table(title=f"DEMO accounts — password for all: {DEMO_PASSWORD}")
    for column in ("username", "role", "organisations", "training", "sees"):
        table.add_column(column)
    for account in accounts:
        table.add_row(
            account.username,
            account.role,
            account.organisations,
            "current" if account.trained else "[yellow]missing[/]",
            account.note,
        )
    console.print(table)
