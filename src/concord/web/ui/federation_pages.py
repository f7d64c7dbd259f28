"""Federation pages: the sync status (as a hub and as a node) and the regional tables.

``/federation`` shows, as a hub, each registered node with its key id and the last bundle it
sent, and the bundles received; as a node, its own key and how pushes to each hub stand
(pending, refused with the hub's reason, the latest error). ``/federation/regional`` shows the
tables the hub adds up from its nodes, after the hub's own disclosure control.

Everything here is aggregate or operational: no record-level data is shown, so the pages need
``release.read`` (or ``federation.manage`` for the status page), not a purpose.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from concord.db.models import FederationBundle
from concord.errors import ConfigurationError
from concord.indicators import charts
from concord.indicators.chart_data import ChartContext
from concord.indicators.definitions import default_registry
from concord.protect.roles import Permission
from concord.share.aggregate import UNKNOWN
from concord.share.cube import TOTAL
from concord.share.federation import received_bundles
from concord.share.hub_warning import hub_series
from concord.share.nodes import bundle_counts, list_nodes, register_node, remove_node
from concord.share.push import item_state, outbox_items, sync_status
from concord.share.regional import regional_tables
from concord.share.signing import NodeKey, load_node_key
from concord.vocab.model import Vocabulary
from concord.web.api.federation import hub_organisation
from concord.web.auth import Guard, audit_trail, requires
from concord.web.deps import db_session, vocabulary
from concord.web.templating import render
from concord.web.ui.parties import PartyGuard, requires_any

router = APIRouter(tags=["pages"], include_in_schema=False)
SessionDep = Annotated[Session, Depends(db_session)]
Viewer = Annotated[
    PartyGuard, Depends(requires_any(Permission.FEDERATION_MANAGE, Permission.RELEASE_READ))
]
Reader = Annotated[Guard, Depends(requires(Permission.RELEASE_READ))]
Manager = Annotated[Guard, Depends(requires(Permission.FEDERATION_MANAGE))]
Short = Annotated[str, Query(max_length=128)]
#: The hub's own threshold for regional cells: fixed here, never a query parameter, so that no
#: reader can ask for smaller cells. 10, like the agreements' default.
REGIONAL_MIN_CELL = 10


def _own_key(request: Request) -> NodeKey | None:
    try:
        return load_node_key(request.app.state.settings.key_dir)
    except ConfigurationError:
        return None


@router.get("/federation", response_class=HTMLResponse)
def federation_page(request: Request, session: SessionDep, _guard: Viewer) -> Response:
    counts = bundle_counts(session)
    nodes = [{"node": node, "bundles": counts.get(node.id, (0, 0))} for node in list_nodes(session)]
    outbox = [{"item": item, "state": item_state(item)} for item in outbox_items(session)]
    hub: str | None = request.app.state.settings.node_id
    context: dict[str, Any] = {
        "node_id": request.app.state.settings.node_id,
        "hub_url": request.app.state.settings.hub_url,
        "key": _own_key(request),
        "nodes": nodes,
        "received": received_bundles(session, limit=25),
        "hubs": sync_status(session),
        "outbox": outbox,
        "can_manage": hub is not None and _guard.principal.can(Permission.FEDERATION_MANAGE, hub),
    }
    return render(request, "federation.html", context)


@router.post("/federation/nodes")
def register_node_form(
    request: Request,
    session: SessionDep,
    guard: Manager,
    node_id: Annotated[str, Form(min_length=1, max_length=64)],
    public_key: Annotated[str, Form(min_length=1, max_length=100)],
    organisations: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    url: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Trust a node's public key (or replace it), as ``concord federation node add``."""
    guard.check(hub_organisation(request))
    orgs = [o.strip() for o in organisations.replace(",", " ").split() if o.strip()]
    register_node(
        session,
        node_id=node_id.strip(),
        name=name.strip() or node_id.strip(),
        public_key_b64=public_key.strip(),
        organisations=orgs or [node_id.strip()],
        url=url.strip() or None,
        actor=guard.principal.username,
        audit=audit_trail(request),
    )
    return RedirectResponse("/federation#nodes", status_code=303)


@router.post("/federation/nodes/{node_id}/remove")
def remove_node_form(
    request: Request, session: SessionDep, guard: Manager, node_id: str
) -> Response:
    """Stop trusting a node; refused while it has bundles stored (the CLI can purge them)."""
    guard.check(hub_organisation(request))
    remove_node(session, node_id, actor=guard.principal.username, audit=audit_trail(request))
    return RedirectResponse("/federation#nodes", status_code=303)


def _choices(session: Session) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(FederationBundle.agreement_id, FederationBundle.period)
        .where(FederationBundle.revoked_at.is_(None))
        .distinct()
    )
    pairs = [(str(agreement), str(period)) for agreement, period in rows]
    return sorted({a for a, _ in pairs}), sorted({p for _, p in pairs}, reverse=True)


def regional_charts(session: Session, vocab: Vocabulary) -> list[dict[str, str]]:
    """One chart per count indicator the nodes release by month: each country's monthly
    count, added over the nodes (a month a node suppressed is drawn as a gap)."""
    out: list[dict[str, str]] = []
    for definition in default_registry(None, vocab, session):
        if definition.kind != "count" or definition.breakdown or definition.status != "active":
            continue
        series = hub_series(session, definition.id, "country")
        if series.is_empty():
            continue
        hidden = int(series["value"].null_count())
        ctx = ChartContext(
            indicator_id=definition.id,
            indicator_name=f"{definition.name}, by country, across the hub's nodes",
            definition_text=definition.description,
            unit=definition.unit_label(),
            vocabulary_version=vocab.version,
            suppressed_cells=hidden,
            period="month",
            higher_is=definition.higher_is,
            caveats=tuple(definition.caveats),
        )
        shaped = series.with_columns(  # the shape of an indicator result (counts only)
            pl.col("country").replace({UNKNOWN: "unknown"}),
            pl.col("value").cast(pl.Int64).alias("numerator"),
            pl.lit(None, dtype=pl.Int64).alias("denominator"),
            pl.col("value").is_null().alias("suppressed"),
        )
        spec = charts.time_series(shaped, ctx, group="country", labeller=vocab.label_of)
        out.append({"title": ctx.indicator_name, "json": json.dumps(spec)})
    return out


@router.get("/federation/regional", response_class=HTMLResponse)
def regional_page(
    request: Request,
    session: SessionDep,
    _guard: Reader,
    vocab: Annotated[Vocabulary, Depends(vocabulary)],
    agreement: Short = "",
    period: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    tables = regional_tables(
        session,
        agreement_id=agreement or None,
        period=period or None,
        min_cell=REGIONAL_MIN_CELL,
    )
    agreements, periods = _choices(session)
    context = {
        "charts": regional_charts(session, vocab),
        "tables": [{"table": t, "rows": t.cells.rows(named=True)} for t in tables],
        "agreements": agreements,
        "periods": periods,
        "form": {"agreement": agreement, "period": period},
        "min_cell": REGIONAL_MIN_CELL,
        "total": TOTAL,
        "unknown": UNKNOWN,
    }
    return render(request, "federation_regional.html", context)
