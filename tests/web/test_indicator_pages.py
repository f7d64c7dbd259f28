"""The indicators dashboard and API: charts with the required statements, country filter,
exports, alerts; and, in the browser, a chart that changes when the country changes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from concord.config import Settings
from concord.ingest.mapping import load_mapping
from concord.ingest.pipeline import ingest_file
from concord.protect.pseudonyms import PseudonymKeys
from concord.synth import generate_partners
from concord.vocab.model import Vocabulary
from concord.web.app import create_app
from tests.conftest import fresh_engine
from tests.protect.factories import PASSWORD
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, live_server
from tests.web.logins import create_user, sign_in

ORGS = ["helpline-fr", "hotline-es", "ngo-ke"]
JSON = {"accept": "application/json"}


@pytest.fixture(scope="module")
def node(
    tmp_path_factory: pytest.TempPathFactory, vocabulary: Vocabulary
) -> Iterator[tuple[Engine, Settings]]:
    folder = tmp_path_factory.mktemp("indicators")
    generate_partners(folder / "data", rows_per_org=700, seed=11, organisations=ORGS)
    engine = fresh_engine("sqlite", folder, "indicator_pages")
    keys = PseudonymKeys(folder / "keys")
    for org in ORGS:
        ingest_file(
            engine,
            folder / "data" / f"{org}.csv",
            load_mapping(folder / "data" / f"{org}.mapping.yaml"),
            vocabulary,
            keys=keys,
        )
    yield engine, Settings(database_url=str(engine.url), key_dir=folder / "keys")
    engine.dispose()


@pytest.fixture
def client(node: tuple[Engine, Settings]) -> Iterator[TestClient]:
    engine, settings = node
    with TestClient(create_app(settings, engine=engine)) as test_client:
        sign_in(test_client, engine, {org: ["viewer"] for org in ORGS}, purpose=None, trained=False)
        yield test_client


def test_dashboard_states_definition_vocabulary_and_suppression(client: TestClient) -> None:
    listing = client.get("/indicators")
    assert listing.status_code == 200 and "reports.total" in listing.text
    page = client.get("/indicators/reports.total")
    assert page.status_code == 200
    assert "cell(s) suppressed" in page.text and "vocabulary" in page.text
    specs = [
        json.loads(part.split("</script>")[0])
        for part in page.text.split('<script type="application/json">')[1:]
    ]
    assert specs, "no chart on the page"
    subtitle = json.dumps(specs[0])
    assert "Vocabulary version" in subtitle and "suppressed" in subtitle


def test_country_filter_changes_the_numbers(client: TestClient) -> None:
    everything = client.get("/api/indicators/reports.total").json()
    kenya = client.get("/api/indicators/reports.total", params={"country": "KE"}).json()
    total = sum(r["numerator"] or 0 for r in everything["rows"])
    only_ke = sum(r["numerator"] or 0 for r in kenya["rows"])
    assert 0 < only_ke < total


def test_exports_and_the_release_schedule_indicator(client: TestClient) -> None:
    csv = client.get("/indicators/reports.total/data.csv")
    assert csv.status_code == 200 and csv.text.startswith("period")
    xlsx = client.get("/indicators/reports.total/data.xlsx")
    assert xlsx.content[:2] == b"PK"
    svg = client.get("/indicators/reports.total/chart.svg")
    assert svg.status_code == 200 and "<svg" in svg.text
    schedule = client.get("/indicators/collaboration.releases_on_schedule")
    # computed from the node's agreements and releases (none here: nothing scheduled yet)
    assert schedule.status_code == 200 and "Not available yet" not in schedule.text
    assert client.get("/indicators/no.such", headers=JSON).status_code == 404


def test_alerts_run_list_and_acknowledge(client: TestClient, node: tuple[Engine, Settings]) -> None:
    refused = client.post("/indicators/alerts/run", headers=JSON)  # a viewer: aggregates only
    assert refused.status_code == 403
    sign_in(client, node[0], {org: ["analyst"] for org in ORGS}, purpose=None)
    assert client.post("/indicators/alerts/run").status_code == 200
    alerts = client.get("/api/indicators/alerts").json()
    assert isinstance(alerts, list)
    for alert in alerts:
        assert len(alert["members"]) >= 2 and alert["evidence"]


DEFINITION = """
id: local.grooming_share
version: 1
name: Share of reports involving grooming
description: Reports whose abuse types include grooming, as a share of all reports.
kind: share
numerator: {abuse_types: [abuse.grooming]}
period: quarter
higher_is: worse
"""


def test_user_defined_indicator_is_checked_stored_and_computed(
    client: TestClient, node: tuple[Engine, Settings]
) -> None:
    refused = client.post("/api/indicators", content=DEFINITION, headers=JSON)
    assert refused.status_code == 403  # a viewer
    sign_in(client, node[0], {org: ["analyst"] for org in ORGS}, purpose=None)
    saved = client.post("/api/indicators", content=DEFINITION)
    assert saved.status_code == 200 and saved.json() == {"saved": ["local.grooming_share"]}
    values = client.get("/api/indicators/local.grooming_share").json()
    assert values["unit"] == "%" and values["rows"]
    bad = client.post("/api/indicators", content=DEFINITION.replace("abuse.grooming", "abuse.nope"))
    assert bad.status_code == 422 and "abuse.nope" in bad.text
    changed = client.post("/api/indicators", content=DEFINITION.replace("higher_is: worse", ""))
    assert changed.status_code == 422 and "version 2" in changed.text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_dashboard_in_the_browser(node: tuple[Engine, Settings]) -> None:
    from playwright.sync_api import expect, sync_playwright

    engine, settings = node
    viewer = create_user(engine, {org: ["viewer"] for org in ORGS}, trained=False)
    app = create_app(settings, engine=engine)
    with live_server(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/indicators/reports.total")
            page.fill("input[name=username]", viewer)
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.click("text=Continue without a purpose")
            chart = page.locator("#chart-0 .vega-target svg")
            expect(chart).to_be_visible(timeout=15_000)
            before = page.locator("#chart-0 .vega-target").inner_html()
            page.select_option("#country", "country.ke")
            expect(page.locator("#chart-meta")).to_contain_text("Kenya", timeout=15_000)
            expect(page.locator("#chart-0 .vega-target svg")).to_be_visible(timeout=15_000)
            after = page.locator("#chart-0 .vega-target").inner_html()
            assert after != before
        finally:
            browser.close()
