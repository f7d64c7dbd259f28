"""``concord bundle verify``: check a signed release bundle before trusting or forwarding it.

Exit status 1 means the bundle was refused (a check that found something, like a linter);
the message gives the one reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.markup import escape
from rich.table import Table

from concord.cli.common import console, err_console, migrated_engine
from concord.db import session_scope
from concord.errors import BundleError, InputError, UnreadableFileError
from concord.share.bundle import VerifiedBundle, read_bundle
from concord.share.nodes import node_key_lookup
from concord.share.signing import public_key_from_b64

app = typer.Typer(help="Signed release bundles: verify one.", no_args_is_help=True)


def _show(bundle: VerifiedBundle) -> None:
    m = bundle.manifest
    console.print(f"release: {escape(m.release_id)} (created {m.created_at:%Y-%m-%d %H:%M} UTC)")
    console.print(f"node: {escape(bundle.node)} (key {bundle.key_id})")
    console.print(
        f"agreement: {escape(m.agreement_id)} v{m.agreement_version}, from "
        f"{escape(m.provider)} to {escape(', '.join(m.recipients))} ({m.level})"
    )
    console.print(f"period: {escape(m.period)} ({m.period_start} to {m.period_end})")
    console.print(f"vocabulary: {escape(m.vocabulary_version)}; marking: TLP:{escape(m.marking)}")
    table = Table(title="Resources")
    for column in ("name", "rows", "columns"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for name, frame in bundle.resources.items():
        table.add_row(escape(name), f"{frame.height:,}", escape(", ".join(frame.columns)))
    console.print(table)
    console.print(f"sha256: {bundle.sha256}")
    console.print("[green]signature valid[/]")


@app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="The bundle (.zip).", dir_okay=False)],
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="The sending node's public key (base64).", metavar="B64"),
    ] = None,
    database: Annotated[
        bool, typer.Option("--database", help="Use the keys this hub registered for its nodes.")
    ] = False,
) -> None:
    """Verify a bundle's signature, hashes and schemas, and say what it holds."""
    if (public_key is None) == (not database):
        raise InputError("say which key to check against: --public-key B64 or --database")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {file}: {exc.strerror}") from exc
    try:
        if public_key is not None:
            trusted: Ed25519PublicKey = public_key_from_b64(public_key)
            bundle = read_bundle(data, public_key_for=lambda _node, _key_id: trusted)
        else:
            with session_scope(migrated_engine()) as session:
                bundle = read_bundle(data, public_key_for=node_key_lookup(session))
    except BundleError as exc:
        err_console.print("[bold red]refused:[/]", escape(str(exc)), highlight=False)
        raise typer.Exit(1) from exc
    _show(bundle)
