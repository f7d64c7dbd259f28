"""`concord demo --federation` end to end: four sites, three releases pushed over HTTP, and the
hub's regional tables built from them."""

from __future__ import annotations

import socket
from pathlib import Path

from sqlalchemy import select

from concord.cli.federation_demo import NODES, QUARTERS, federation_demo
from concord.db import create_db_engine, session_scope
from concord.db.models import FederationBundle
from concord.share.regional import regional_tables


def _free_base() -> int:
    """A port with the next three free too (the hub and three nodes)."""
    for base in range(23_100, 29_000, 10):
        sockets = []
        try:
            for port in range(base, base + 4):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no four free ports")


def test_the_federation_demo_pushes_every_node_to_the_hub(tmp_path: Path) -> None:
    federation_demo(tmp_path, rows=400, port=_free_base(), serve=False)
    hub = create_db_engine(f"sqlite:///{tmp_path / 'regional-hub' / 'concord.db'}")
    with session_scope(hub) as session:
        received = session.scalars(select(FederationBundle)).all()
        assert sorted(b.node for b in received) == sorted(NODES * QUARTERS)
        tables = regional_tables(session)
    assert tables, "the hub shows regional tables"
    for table in tables:
        assert sorted(table.nodes) == sorted(NODES)
        shown = table.cells.filter(table.cells["status"] == "published")["count"]
        assert ((shown == 0) | (shown >= 10)).all()
    # Running it again changes nothing: the same releases, stored once at the hub.
    federation_demo(tmp_path, rows=400, port=_free_base(), serve=False)
    with session_scope(hub) as session:
        assert len(session.scalars(select(FederationBundle)).all()) == len(NODES) * QUARTERS
