"""``concord federation``: this node's signing key, the nodes a hub trusts, pushes and status.

On a node: ``key create`` once, give the printed public key to the hub's administrator, then
``push`` (from cron, say) sends released bundles and revocations, retrying with back-off.
On a hub: ``node add`` registers a node's public key and organisations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import httpx2
import typer
from rich.markup import escape
from rich.table import Table

from concord.cli.common import audit_trail, cli_actor, console, migrated_engine
from concord.config import get_settings
from concord.db import session_scope
from concord.errors import ConfigurationError
from concord.moments import as_utc
from concord.protect.pseudonyms import PseudonymKeys
from concord.share.nodes import list_nodes, register_node, remove_node
from concord.share.push import deliver_due, enqueue_releases, sync_status
from concord.share.signing import create_node_key, load_node_key
from concord.share.withdrawals import enqueue_withdrawals

app = typer.Typer(
    help="Federation: signing key, trusted nodes, pushes to the hub.", no_args_is_help=True
)
key_app = typer.Typer(help="This node's Ed25519 signing key.", no_args_is_help=True)
node_app = typer.Typer(help="The nodes this hub accepts bundles from.", no_args_is_help=True)
app.add_typer(key_app, name="key")
app.add_typer(node_app, name="node")

#: A hub gets 30 s per request: a 200 MiB bundle over a slow link still fits, a dead hub does not
#: hold the push for long.
HTTP_TIMEOUT = 30.0


def _when(moment: datetime | None) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


@key_app.command("create")
def key_create(
    node: Annotated[str, typer.Option("--node", help="This node's id (its organisation slug).")],
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite", help="Replace an existing key (every hub must re-register it)."
        ),
    ] = False,
) -> None:
    """Create the node's signing key in CONCORD_KEY_DIR."""
    key = create_node_key(get_settings().key_dir, node, overwrite=overwrite)
    console.print(f"node {escape(key.node_id)}: key {key.key_id}")
    console.print(f"public key: {key.public_key_b64}")
    console.print(
        "Give the public key to the hub's administrator, who registers it with\n"
        f"  concord federation node add {escape(key.node_id)} --public-key {key.public_key_b64} "
        "--org ORGANISATION"
    )


@key_app.command("show")
def key_show() -> None:
    """Print the node id, key id and public key."""
    key = load_node_key(get_settings().key_dir)
    console.print(f"node: {escape(key.node_id)}")
    console.print(f"key id: {key.key_id}")
    console.print(f"public key: {key.public_key_b64}")


@node_app.command("add")
def node_add(
    node_id: Annotated[str, typer.Argument(metavar="NODE", help="The node's id.")],
    public_key: Annotated[str, typer.Option("--public-key", help="Its public key (base64).")],
    org: Annotated[
        list[str], typer.Option("--org", help="An organisation the node speaks for (repeat).")
    ],
    name: Annotated[str | None, typer.Option("--name", help="A name people read.")] = None,
    url: Annotated[str | None, typer.Option("--url", help="The node's address.")] = None,
) -> None:
    """Register a node (again: a new key replaces the old one)."""
    with session_scope(migrated_engine()) as session:
        node = register_node(
            session,
            node_id=node_id,
            name=name or node_id,
            public_key_b64=public_key,
            organisations=org,
            url=url,
            actor=cli_actor(),
            audit=audit_trail(),
        )
        console.print(
            f"node {escape(node.id)} registered with key {node.key_id} for "
            f"{escape(', '.join(node.organisations))}"
        )


@node_app.command("list")
def node_list() -> None:
    """List the registered nodes."""
    with session_scope(migrated_engine()) as session:
        nodes = list_nodes(session)
        if not nodes:
            console.print("No nodes registered (`concord federation node add`).")
            return
        table = Table(title="Registered nodes")
        for column in ("node", "name", "organisations", "key id", "last bundle"):
            table.add_column(column)
        for node in nodes:
            table.add_row(
                escape(node.id),
                escape(node.name),
                escape(", ".join(node.organisations)),
                node.key_id,
                _when(node.last_received_at),
            )
        console.print(table)


@node_app.command("remove")
def node_remove(
    node_id: Annotated[str, typer.Argument(metavar="NODE", help="The node's id.")],
    purge: Annotated[
        bool, typer.Option("--purge", help="Also delete the bundles it sent.")
    ] = False,
) -> None:
    """Stop accepting bundles from a node."""
    with session_scope(migrated_engine()) as session:
        deleted = remove_node(session, node_id, actor=cli_actor(), audit=audit_trail(), purge=purge)
    console.print(f"node {escape(node_id)} removed ({deleted} bundle(s) deleted)")


@app.command("push")
def push(
    hub: Annotated[
        str | None, typer.Option("--hub", help="The hub's URL (default: CONCORD_HUB_URL).")
    ] = None,
) -> None:
    """Queue released bundles (and revocations) for the hub, then send what is due."""
    settings = get_settings()
    hub_url = hub or settings.hub_url
    if not hub_url:
        raise ConfigurationError("no hub: pass --hub URL or set CONCORD_HUB_URL")
    try:
        key = load_node_key(settings.key_dir)
    except ConfigurationError:
        key = None  # bundles are already signed; only new revocations need the key
    with session_scope(migrated_engine()) as session:
        report = enqueue_releases(session, bundle_dir=settings.bundle_dir, hub_url=hub_url, key=key)
        if key is not None:  # consent withdrawals since the last push, as signed revocations
            withdrawn = enqueue_withdrawals(
                session, hub_url=hub_url, key=key, keys=PseudonymKeys(settings.key_dir)
            )
            report.revocations.extend(withdrawn)
        session.commit()
        with httpx2.Client(timeout=HTTP_TIMEOUT) as client:
            results = deliver_due(session, client)
    for problem in report.problems:
        console.print(f"[yellow]not queued:[/] {escape(problem)}")
    console.print(
        f"queued {len(report.bundles)} bundle(s) and {len(report.revocations)} revocation(s)"
    )
    if not results:
        console.print("Nothing due to send.")
        return
    table = Table(title=f"Pushes to {escape(hub_url)}")
    for column in ("kind", "release", "outcome", "attempts", "next attempt", "message"):
        table.add_column(column)
    for r in results:
        colour = {"delivered": "green", "refused": "red"}.get(r.outcome, "yellow")
        table.add_row(
            r.kind,
            escape(r.release_id),
            f"[{colour}]{r.outcome}[/]",
            str(r.attempts),
            _when(r.next_attempt_at),
            escape(r.message),
        )
    console.print(table)


@app.command("status")
def status() -> None:
    """How pushes to each hub stand: delivered, pending, refused, the latest error."""
    with session_scope(migrated_engine()) as session:
        hubs = sync_status(session)
    if not hubs:
        console.print("Nothing was ever queued for a hub (`concord federation push`).")
        return
    table = Table(title="Sync status")
    for column in ("hub", "delivered", "pending", "refused", "last delivery", "next", "error"):
        table.add_column(column)
    for h in hubs:
        table.add_row(
            escape(h.hub_url),
            str(h.delivered),
            str(h.pending),
            str(h.refused),
            _when(h.last_delivered_at),
            _when(h.next_attempt_at),
            escape(h.last_error or "-"),
        )
    console.print(table)
