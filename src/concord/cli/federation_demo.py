"""``concord demo --federation``: one regional hub and three national nodes on this machine.

Each site is a full Concord node with its own SQLite file, key directory and port. The demo
loads one synthetic partner into each national node, makes each node's signing key, has the
hub trust those keys, puts an agreement between each node and the hub in force (approved by
the DEMO administrator of both parties, in both registries), releases the last complete
quarter at every node, starts the four web apps and pushes the signed bundles to the hub over
real HTTP. The hub's regional view then shows the three countries' tables added up.

Synthetic data and DEMO accounts only. Re-running it is safe: imports are idempotent, keys
and agreements are reused, and a release is made only once per node and quarter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx2
from rich.table import Table
from sqlalchemy import Engine, select

from concord.cli.common import console
from concord.config import Settings
from concord.db import create_db_engine, session_scope, upgrade_database
from concord.db.models import Release
from concord.errors import ConcordError
from concord.indicators.definitions import default_registry
from concord.indicators.warning import store_alerts
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.audit import AuditTrail
from concord.protect.demo_accounts import DEMO_PASSWORD, DemoOrg, ensure_demo_node
from concord.protect.fieldcrypt import FieldCipher
from concord.protect.identity import get_user, load_principal
from concord.protect.keyring import Keyring
from concord.protect.pseudonyms import PseudonymKeys
from concord.share import Agreement, approve, get_agreement, import_agreement
from concord.share.hub_warning import hub_warnings
from concord.share.nodes import register_node
from concord.share.periods import parse_period
from concord.share.push import deliver_due, enqueue_releases
from concord.share.regional import regional_tables
from concord.share.release import ReleaseRequest, plan_release, run_release
from concord.share.release_bundle import write_release_bundle
from concord.share.signing import NodeKey, create_node_key, load_node_key
from concord.synth import generate_partners
from concord.synth.manifest import OrganisationManifest
from concord.vocab.loader import shipped_vocabulary
from concord.vocab.model import Vocabulary
from concord.vocab.store import load_into_database

HUB = DemoOrg("regional-hub", "Regional hub (DEMO)", "ZZ", "hub")
#: The synthetic partners that play national nodes.
NODES = ("hotline-es", "helpline-fr", "ngo-ke")
DEMO_SEED = 7
#: Where the four sites keep their databases, keys and bundles.
FEDERATION_DIR = Path("concord-federation")
_STARTUP_SECONDS = 60


@dataclass(frozen=True)
class Site:
    """One node of the demo: its folder, port and settings."""

    node_id: str
    folder: Path
    port: int
    hub_url: str | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=f"sqlite:///{(self.folder / 'concord.db').resolve()}",
            key_dir=self.folder / "keys",
            bundle_dir=self.folder / "bundles",
            upload_dir=self.folder / "uploads",
            mapping_dir=self.folder / "mappings",
            node_id=self.node_id,
            hub_url=self.hub_url,
            host="127.0.0.1",
            port=self.port,
        )

    def engine(self) -> Engine:
        self.folder.mkdir(parents=True, exist_ok=True)
        engine = create_db_engine(self.settings.database_url)
        upgrade_database(engine)
        return engine

    def audit(self) -> AuditTrail:
        return AuditTrail.from_key_dir(self.settings.key_dir)


def agreement_for(node: str, quarter_start: date) -> Agreement:
    """Each node's quarterly aggregate agreement with the hub (the same shape for all, so
    that the hub can add their tables up)."""
    return Agreement.model_validate(
        {
            "id": f"{node}-to-hub",
            "version": 1,
            "title": f"{node} to the regional hub, quarterly aggregates (DEMO)",
            "provider": node,
            "recipients": [HUB.slug],
            "purpose": "statistics",
            "legal_basis": "DEMO: memorandum of understanding between the parties.",
            "shares": {
                "indicators": ["reports.total", "reports.abuse_type"],
                "dimensions": ["country", "abuse_type", "month"],
            },
            "level": "aggregate",
            "disclosure": {"min_cell": 10},
            "frequency": "quarterly",
            "valid_from": date(quarter_start.year, 1, 1),
            "valid_to": date(quarter_start.year + 1, 12, 31),
            "marking": "AMBER",
            "onward_sharing": "within_recipient",
            "consent_required": False,
        }
    )


#: Quarters each node releases: enough months for the hub's baselines and early warning.
QUARTERS = 6


def complete_quarters(today: date, count: int = QUARTERS) -> list[str]:
    """The last ``count`` quarters that have ended, oldest first."""
    index = (today.year * 12 + today.month - 1) // 3  # the current quarter, counted from year 0
    return [f"{q // 4}-Q{q % 4 + 1}" for q in range(index - count, index)]


def _put_in_force(engine: Engine, audit: AuditTrail, agreement: Agreement) -> None:
    with session_scope(engine) as session:
        import_agreement(session, audit, agreement, actor="demo")
        for org in agreement.parties:
            if org not in get_agreement(session, agreement.id, agreement.version).approved_by:
                approve(
                    session,
                    audit,
                    agreement_id=agreement.id,
                    version=agreement.version,
                    organisation=org,
                    approver_username="demo-admin",
                )


def _ingest(
    site: Site, engine: Engine, vocabulary: Vocabulary, org: OrganisationManifest, data_dir: Path
) -> int:
    settings = site.settings
    report = ingest_file(
        engine,
        data_dir / org.file,
        load_mapping(data_dir / org.mapping),
        vocabulary,
        keys=PseudonymKeys(settings.key_dir),
        cipher=FieldCipher(Keyring(settings.key_dir)),
        imported_by="demo",
    )
    return report.rows_stored


def _node_key(site: Site) -> NodeKey:
    try:
        return load_node_key(site.settings.key_dir)
    except ConcordError:
        return create_node_key(site.settings.key_dir, site.node_id)


def _release(
    site: Site, engine: Engine, vocabulary: Vocabulary, agreement: Agreement, period: str
) -> str:
    """The node's release for ``period`` (made once) and its signed bundle; its id."""
    settings = site.settings
    with session_scope(engine) as session:
        done = session.scalar(
            select(Release.id).where(
                Release.agreement_id == agreement.id,
                Release.period == period,
                Release.status == "released",
            )
        )
        if done is None:
            principal = load_principal(session, get_user(session, "demo-steward"))
            plan = plan_release(
                session,
                ReleaseRequest(agreement.id, period),
                principal=principal,
                vocabulary=vocabulary,
                registry=default_registry(None, vocabulary, session),
                engine=engine,
            )
            if not plan.allowed:
                raise ConcordError(f"{site.node_id}: release refused: {plan.decision.refusals}")
            done = run_release(session, plan, actor="demo-steward", audit=site.audit()).id
        write_release_bundle(session, done, settings.key_dir, settings.bundle_dir)
        return done


def prepare(root: Path, *, rows: int, port: int, today: date | None = None) -> list[Site]:
    """Build the four sites, their data, keys and agreements, and each node's release."""
    hub = Site(HUB.slug, root / HUB.slug, port, None)
    nodes = [Site(n, root / n, port + i + 1, hub.url) for i, n in enumerate(NODES)]
    vocabulary = shipped_vocabulary()
    data_dir = root / "partners"
    with console.status("generating synthetic partner files (no real data, ever)"):
        manifest = generate_partners(data_dir, rows_per_org=rows, seed=DEMO_SEED)
    partners = {o.slug: o for o in manifest.organisations}
    periods = complete_quarters(today or datetime.now(UTC).date())
    first = parse_period(periods[0])
    hub_engine = hub.engine()
    with session_scope(hub_engine) as session:
        load_into_database(session, vocabulary)
        ensure_demo_node(
            session,
            hub.audit(),
            [
                HUB,
                *(DemoOrg(o.slug, o.name, o.country, o.kind) for o in (partners[n] for n in NODES)),
            ],
        )
    table = Table(title=f"Federation demo: releases of {periods[0]} to {periods[-1]}")
    for column in ("site", "url", "records", "releases", "key id"):
        table.add_column(column)
    table.add_row(HUB.slug, hub.url, "-", "(the hub)", "-")
    for site in nodes:
        org = partners[site.node_id]
        engine = site.engine()
        with session_scope(engine) as session:
            load_into_database(session, vocabulary)
            ensure_demo_node(
                session, site.audit(), [DemoOrg(org.slug, org.name, org.country, org.kind), HUB]
            )
        with console.status(f"{site.node_id}: ingesting its synthetic partner file"):
            stored = _ingest(site, engine, vocabulary, org, data_dir)
        key = _node_key(site)
        agreement = agreement_for(site.node_id, first.start)
        _put_in_force(engine, site.audit(), agreement)
        _put_in_force(hub_engine, hub.audit(), agreement)
        with session_scope(hub_engine) as session:
            register_node(
                session,
                node_id=site.node_id,
                name=org.name,
                public_key_b64=key.public_key_b64,
                organisations=[site.node_id],
                url=site.url,
                actor="demo",
                audit=hub.audit(),
            )
        with console.status(f"{site.node_id}: releasing {len(periods)} quarters"):
            made = [_release(site, engine, vocabulary, agreement, p) for p in periods]
        table.add_row(site.node_id, site.url, f"{stored:,}", f"{len(made)} releases", key.key_id)
    console.print(table)
    return [hub, *nodes]


def _environment(site: Site) -> dict[str, str]:
    settings = site.settings
    env = dict(os.environ)
    env |= {
        "CONCORD_DATABASE_URL": settings.database_url,
        "CONCORD_KEY_DIR": str(settings.key_dir.resolve()),
        "CONCORD_BUNDLE_DIR": str(settings.bundle_dir.resolve()),
        "CONCORD_UPLOAD_DIR": str(settings.upload_dir.resolve()),
        "CONCORD_MAPPING_DIR": str(settings.mapping_dir.resolve()),
        "CONCORD_NODE_ID": site.node_id,
    }
    if site.hub_url:
        env["CONCORD_HUB_URL"] = site.hub_url
    return env


@contextmanager
def running(sites: list[Site]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start each site's web app in its own process; stop them all on the way out."""
    processes = [
        subprocess.Popen(  # noqa: S603  (our own interpreter, our own module, fixed arguments)
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "concord.web.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(site.port),
                "--log-level",
                "warning",
            ],
            env=_environment(site),
        )
        for site in sites
    ]
    try:
        for site, process in zip(sites, processes, strict=True):
            _wait_for(site, process)
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for(site: Site, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConcordError(
                f"{site.node_id}'s web app stopped at start (port {site.port} in use?)"
            )
        try:
            if httpx2.get(f"{site.url}/login", timeout=2).status_code < 500:
                return
        except httpx2.HTTPError:
            time.sleep(0.3)
    raise ConcordError(f"{site.node_id}'s web app did not start within {_STARTUP_SECONDS} s")


def push_all(sites: list[Site]) -> None:
    """Each national node pushes its queued bundles to the hub, over HTTP."""
    table = Table(title="Pushes to the hub")
    for column in ("node", "release", "outcome", "message"):
        table.add_column(column)
    for site in sites:
        if site.hub_url is None:
            continue
        settings = site.settings
        with session_scope(site.engine()) as session:
            enqueue_releases(
                session,
                bundle_dir=settings.bundle_dir,
                hub_url=site.hub_url,
                key=load_node_key(settings.key_dir),
            )
            session.commit()
            with httpx2.Client(timeout=30) as client:
                results = deliver_due(session, client)
        for r in results:
            table.add_row(site.node_id, r.release_id, r.outcome, r.message)
    console.print(table)


def show_regional(hub: Site) -> None:
    vocabulary = shipped_vocabulary()
    with session_scope(hub.engine()) as session:
        tables = regional_tables(session)
        registry = default_registry(None, vocabulary, session)
        stored = store_alerts(session, hub_warnings(session, list(registry)), source="hub")
        alerts = [a.summary for a in stored]
    summary = Table(title="Regional tables at the hub")
    for column in ("table", "period", "nodes", "cells", "published", "hidden"):
        summary.add_column(column, overflow="fold")
    for t in tables:
        shown = int((t.cells["status"] == "published").sum())
        summary.add_row(
            t.name,
            t.period,
            ", ".join(t.nodes),
            f"{t.cells.height:,}",
            f"{shown:,}",
            f"{t.cells.height - shown:,}",
        )
    console.print(summary)
    if alerts:
        for summary_text in alerts:
            console.print(f"[bold red]hub alert[/] {summary_text}")
    else:
        console.print("Early warning at the hub: no indicator rose in several countries at once.")


def federation_demo(root: Path, *, rows: int, port: int, serve: bool) -> None:
    """Prepare the sites, start them, push, show the regional view (and keep serving)."""
    sites = prepare(root, rows=rows, port=port)
    hub = sites[0]
    with running(sites):
        push_all(sites)
        show_regional(hub)
        regional = f"{hub.url}/federation/regional"
        if not serve:
            return
        console.print(
            f"The hub's regional view: [bold link={regional}]{regional}[/] "
            f"(sign in as demo-analyst, password {DEMO_PASSWORD})."
        )
        for site in sites[1:]:
            console.print(f"  {site.node_id}: {site.url}/releases")
        console.print("Ctrl+C stops all four.")
        try:
            import webbrowser

            webbrowser.open(regional)
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            console.print("stopping")
