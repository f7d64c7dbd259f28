"""Early warning at a hub: monthly series rebuilt from the tables nodes pushed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from concord.db.models import FederationBundle, FederationNode
from concord.indicators.definitions import shipped_definitions
from concord.share.cube import TOTAL
from concord.share.hub_warning import hub_series, hub_warnings
from concord.vocab.model import Vocabulary
from concord.web.ui.federation_pages import regional_charts

NODES = {"hotline-es": "country.es", "helpline-fr": "country.fr", "ngo-ke": "country.ke"}
MONTHS = [date(2024 + m // 12, m % 12 + 1, 1) for m in range(24)]  # 2024-01 .. 2025-12


def month(day: date) -> str:
    return day.strftime("%Y-%m")


def counts(node: str, surge: bool) -> list[int]:
    """A steady, slightly noisy series; the last month triples when ``surge``."""
    # the same seasonal pattern every year (40-52), then a tripled December, or a usual one
    base = [40 + (i % 12) * 7 % 13 + len(node) % 3 for i in range(len(MONTHS))]
    if surge:
        base[-1] *= 3
    return base


def push(session: Session, node: str, series: list[int], *, hide_last: bool = False) -> None:
    session.add(
        FederationNode(
            id=node,
            name=node,
            public_key="A" * 44,
            key_id="0" * 16,
            organisations=[node],
            url=None,
            added_at=datetime.now(UTC),
        )
    )
    session.flush()
    country = NODES[node]
    cells = []
    for index, (day, n) in enumerate(zip(MONTHS, series, strict=True)):
        hidden = hide_last and index == len(MONTHS) - 1
        status = "suppressed" if hidden else "published"
        value = None if hidden else n
        cells.append([TOTAL, month(day), value, status])
        cells.append([country, month(day), value, status])
    session.add(
        FederationBundle(
            release_id=f"release-{node}",
            node=node,
            agreement_id=f"{node}-to-hub",
            agreement_version=1,
            period="2024-01..2025-12",
            sha256="0" * 64,
            vocabulary_version="1.0.0",
            tables={
                "reports.sexual_extortion.by-country-month": {
                    "kind": "aggregate",
                    "dimensions": ["country", "month"],
                    "cells": cells,
                }
            },
            metadata_={"manifest": {"provider": node}},
            package=None,
            received_at=datetime.now(UTC) - timedelta(minutes=len(node)),
        )
    )
    session.flush()


def test_a_surge_in_two_countries_raises_a_hub_alert(session: Session) -> None:
    push(session, "hotline-es", counts("hotline-es", surge=True))
    push(session, "helpline-fr", counts("helpline-fr", surge=True))
    push(session, "ngo-ke", counts("ngo-ke", surge=False))
    series = hub_series(session, "reports.sexual_extortion", "country")
    assert series.height == 3 * len(MONTHS)
    assert set(series["country"]) == set(NODES.values())
    alerts = hub_warnings(session, shipped_definitions(), dimension="country")
    assert [a.indicator_id for a in alerts] == ["reports.sexual_extortion"]
    assert sorted(alerts[0].members) == ["country.es", "country.fr"]
    assert alerts[0].period == MONTHS[-1]
    by_org = hub_warnings(session, shipped_definitions(), dimension="source_org")
    assert sorted(by_org[0].members) == ["helpline-fr", "hotline-es"]


def test_no_claim_where_a_node_hid_the_cell(session: Session) -> None:
    push(session, "hotline-es", counts("hotline-es", surge=True), hide_last=True)
    push(session, "helpline-fr", counts("helpline-fr", surge=True))
    push(session, "ngo-ke", counts("ngo-ke", surge=False))
    series = hub_series(session, "reports.sexual_extortion", "country")
    last = series.filter(series["period"] == MONTHS[-1])
    assert dict(zip(last["country"], last["value"], strict=True))["country.es"] is None
    # one country surging is not a multi-country alert
    assert hub_warnings(session, shipped_definitions(), dimension="country") == []


def test_the_regional_view_charts_each_country_over_the_nodes(
    session: Session, vocabulary: Vocabulary
) -> None:
    push(session, "hotline-es", counts("hotline-es", surge=True), hide_last=True)
    push(session, "helpline-fr", counts("helpline-fr", surge=False))
    drawn = regional_charts(session, vocabulary)
    assert [c["title"] for c in drawn] == [
        "Reports involving sexual extortion, by country, across the hub's nodes"
    ]
    spec = json.loads(drawn[0]["json"])
    text = json.dumps(spec)
    assert "Spain" in text and "France" in text  # countries by name, not concept id
    assert "1 cell suppressed" in text  # the month hotline-es hid is a gap, and said so
