"""The indicators dashboard: each shared indicator as a time series with its baseline band and
trend line, small multiples by country, a breakdown, a country filter, and exports; the
early-warning alerts. The matching JSON is under ``/api/indicators``.

Everything here is aggregate (``aggregate.read``): computed over the records of the
organisations the user may see, with small cells suppressed before anything is drawn.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from concord.errors import NotFoundError
from concord.indicators import charts
from concord.indicators.compute import IndicatorResult
from concord.indicators.definitions import parse_definitions, save_definition
from concord.indicators.export import to_csv, to_excel
from concord.indicators.service import IndicatorService, overlay_for, warnings_for
from concord.indicators.warning import acknowledge, alert_dict, list_alerts, store_alerts
from concord.protect.roles import Permission
from concord.web.auth import Guard, audit_trail, requires
from concord.web.deps import db_session
from concord.web.templating import render
from concord.yamlio import parse_yaml

router = APIRouter(tags=["pages"], include_in_schema=False)
api = APIRouter(prefix="/indicators", tags=["indicators"])
SessionDep = Annotated[Session, Depends(db_session)]
Reader = Annotated[Guard, Depends(requires(Permission.AGGREGATE_READ))]
#: Running the analysis and acknowledging alerts is work for analysts and data stewards
#: (``batch.read``), not for every viewer of aggregates.
Analyst = Annotated[Guard, Depends(requires(Permission.BATCH_READ))]
Country = Annotated[str, Query(max_length=64)]


def service(request: Request) -> IndicatorService:
    found: IndicatorService | None = getattr(request.app.state, "indicators", None)
    if found is None:
        found = IndicatorService(request.app.state.engine, request.app.state.vocabulary)
        request.app.state.indicators = found
    return found


ServiceDep = Annotated[IndicatorService, Depends(service)]


def _result(
    indicators: IndicatorService, guard: Guard, indicator_id: str, country: str, by: str = ""
) -> IndicatorResult:
    definition = indicators.registry().get(indicator_id)
    filters = {"country": country} if country else {}
    return indicators.result(
        definition,
        organisations=guard.organisations(),
        by=[by] if by else [],
        filters=filters,
    )


def dashboard_charts(
    indicators: IndicatorService, guard: Guard, result: IndicatorResult, country: str
) -> list[dict[str, Any]]:
    """The specs a dashboard shows for ``result``: the series (with overlay), by country, and a
    breakdown (those two computed here, by the dimension they show)."""
    indicator_id = result.definition.id
    if not result.available:
        return []
    ctx = indicators.chart_context(result)
    label = indicators.vocabulary.label_of
    specs: list[dict[str, Any]] = []
    definition = result.definition
    breakdown = definition.breakdown[0] if definition.breakdown else None
    if breakdown:
        specs.append(
            {
                "title": "Over time",
                "spec": charts.time_series(result.data, ctx, group=breakdown, labeller=label),
            }
        )
        specs.append(
            {
                "title": "Latest period",
                "spec": charts.breakdown_bars(result.data, ctx, by=breakdown, labeller=label),
            }
        )
        return specs
    overlay, _ = overlay_for(result)
    specs.append(
        {
            "title": "Over time, with baseline and trend",
            "spec": charts.time_series(result.data, ctx, overlay=overlay),
        }
    )
    dims = definition.dimensions()
    if not country and "country" in dims:
        by_country = _result(indicators, guard, indicator_id, "", "country")
        if by_country.data.height:
            specs.append(
                {
                    "title": "By country",
                    "spec": charts.small_multiples(
                        by_country.data,
                        indicators.chart_context(by_country),
                        facet="country",
                        labeller=label,
                    ),
                }
            )
    if "abuse_type" in dims:
        by_type = _result(indicators, guard, indicator_id, country, "abuse_type")
        if by_type.data.height:
            specs.append(
                {
                    "title": "By abuse type",
                    "spec": charts.breakdown_bars(
                        by_type.data,
                        indicators.chart_context(by_type),
                        by="abuse_type",
                        labeller=label,
                    ),
                }
            )
    return specs


@router.get("/indicators", response_class=HTMLResponse)
def indicators_page(
    request: Request, session: SessionDep, guard: Reader, indicators: ServiceDep
) -> Response:
    return render(
        request,
        "indicators.html",
        {
            "definitions": list(indicators.registry()),
            "open_alerts": len(list_alerts(session, status="open")),
        },
    )


@router.get("/indicators/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, session: SessionDep, guard: Reader) -> Response:
    return render(request, "alerts.html", {"alerts": list_alerts(session)})


@router.post("/indicators/alerts/run")
def run_alerts(
    request: Request, session: SessionDep, guard: Analyst, indicators: ServiceDep
) -> Response:
    registry = indicators.registry()
    candidates = warnings_for(indicators, list(registry), organisations=guard.organisations())
    store_alerts(session, candidates)
    guard.audit(session, "alerts.run", organisation=None, details={"alerts": len(candidates)})
    return RedirectResponse("/indicators/alerts", status_code=303)


@router.post("/indicators/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    request: Request,
    alert_id: int,
    session: SessionDep,
    guard: Analyst,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    acknowledge(
        session, audit_trail(request), alert_id=alert_id, by=guard.principal.username, note=note
    )
    return RedirectResponse("/indicators/alerts", status_code=303)


def define(session: Session, indicators: IndicatorService, guard: Guard, text: str) -> list[str]:
    """Validate and store the definition(s) in ``text`` (YAML or JSON); returns their ids."""
    definitions = parse_definitions(parse_yaml(text, source="definition"), source="definition")
    saved = []
    for definition in definitions:
        save_definition(
            session, definition, indicators.vocabulary, created_by=guard.principal.username
        )
        saved.append(definition.id)
    guard.audit(session, "indicator.define", organisation=None, details={"ids": saved})
    return saved


@router.post("/indicators/definitions")
def define_page(
    request: Request,
    session: SessionDep,
    guard: Analyst,
    indicators: ServiceDep,
    definition: Annotated[str, Form(max_length=100_000)],
) -> Response:
    saved = define(session, indicators, guard, definition)
    return RedirectResponse(f"/indicators/{saved[0]}", status_code=303)


@router.get("/indicators/{indicator_id}", response_class=HTMLResponse)
def indicator_page(
    request: Request,
    indicator_id: str,
    guard: Reader,
    indicators: ServiceDep,
    country: Country = "",
) -> Response:
    result = _result(indicators, guard, indicator_id, country)
    specs = dashboard_charts(indicators, guard, result, country)
    countries = (
        sorted(
            c for c in indicators.frame(guard.organisations())["country"].unique().to_list() if c
        )
        if result.definition.source == "records"
        else []
    )
    context = {
        "result": result,
        "definition": result.definition,
        "charts": [{"title": c["title"], "json": json.dumps(c["spec"])} for c in specs],
        "country": country,
        "countries": countries,
        "vocab": indicators.vocabulary,
    }
    template = "indicator_charts.html" if request.headers.get("HX-Request") else "indicator.html"
    return render(request, template, context)


@router.get("/indicators/{indicator_id}/chart.{fmt}")
def indicator_chart(
    indicator_id: str,
    fmt: str,
    guard: Reader,
    indicators: ServiceDep,
    country: Country = "",
    chart: Annotated[int, Query(ge=0, le=5)] = 0,
) -> Response:
    result = _result(indicators, guard, indicator_id, country)
    specs = dashboard_charts(indicators, guard, result, country)
    if fmt not in ("svg", "png") or chart >= len(specs):
        raise NotFoundError("charts export as .svg or .png; this indicator has no such chart")
    name = f"{indicator_id}{'-' + country if country else ''}-{chart}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    if fmt == "svg":
        return Response(
            charts.render_svg(specs[chart]["spec"]), media_type="image/svg+xml", headers=headers
        )
    return Response(
        charts.render_png(specs[chart]["spec"]), media_type="image/png", headers=headers
    )


@router.get("/indicators/{indicator_id}/data.{fmt}")
def indicator_data(
    indicator_id: str,
    fmt: str,
    guard: Reader,
    indicators: ServiceDep,
    country: Country = "",
) -> Response:
    result = _result(indicators, guard, indicator_id, country)
    ctx = indicators.chart_context(result)
    name = f"{indicator_id}{'-' + country if country else ''}"
    if fmt == "csv":
        return Response(
            to_csv(result.data, ctx),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt == "xlsx":
        return Response(
            to_excel(result.data, ctx),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"content-disposition": f'attachment; filename="{name}.xlsx"'},
        )
    raise NotFoundError("data exports as .csv or .xlsx")


@api.get("", summary="The shared indicators this node computes")
def list_indicators(guard: Reader, indicators: ServiceDep) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "version": d.version,
            "name": d.name,
            "kind": d.kind,
            "period": d.period,
            "unit": d.unit_label(),
            "status": d.status,
        }
        for d in list(indicators.registry())
    ]


@api.post("", summary="Add a user-defined indicator (YAML or JSON body), versioned")
async def define_api(
    request: Request, session: SessionDep, guard: Analyst, indicators: ServiceDep
) -> dict[str, Any]:
    body = (await request.body()).decode("utf-8", errors="replace")
    return {"saved": define(session, indicators, guard, body)}


@api.get("/alerts", summary="Early-warning alerts")
def api_alerts(
    session: SessionDep, guard: Reader, status: Annotated[str, Query(max_length=16)] = ""
) -> list[dict[str, Any]]:
    return [alert_dict(a) for a in list_alerts(session, status=status or None)]


@api.get("/{indicator_id}", summary="One indicator's values, with suppressed cells flagged")
def indicator_values(
    indicator_id: str,
    guard: Reader,
    indicators: ServiceDep,
    country: Country = "",
    by: Annotated[str, Query(max_length=64)] = "",
) -> dict[str, Any]:
    result = _result(indicators, guard, indicator_id, country, by)
    body = result.to_dict()
    _, assessment = overlay_for(result)
    body["trend"] = assessment.to_dict() if assessment is not None else None
    return body
