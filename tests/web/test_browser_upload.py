"""Browser test: a data steward uploads a partner file, previews it, imports it, and watches
the import finish with its reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

from concord.config import Settings
from concord.synth import generate_partners
from concord.web.app import create_app
from tests.conftest import fresh_engine
from tests.protect.factories import PASSWORD
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, live_server
from tests.web.logins import create_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def test_upload_preview_and_import(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    data = tmp_path / "partners"
    generate_partners(data, rows_per_org=400, seed=9, organisations=["helpline-fr"])
    engine = fresh_engine("sqlite", tmp_path, "browser_upload")
    settings = Settings(
        database_url=str(engine.url),
        mapping_dir=data,
        upload_dir=tmp_path / "uploads",
        key_dir=tmp_path / "keys",
    )
    app = create_app(settings, engine=engine)
    steward = create_user(engine, {"helpline-fr": ["data_steward"]})
    with live_server(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/upload")  # not logged in: the login page, then back here
            page.fill("input[name=username]", steward)
            page.fill("input[name=password]", PASSWORD)
            page.click("main button[type=submit]")
            page.check("input[value=data_quality]")
            page.click("text=Use this purpose")
            expect(page.locator(".who")).to_contain_text("data_quality")
            page.select_option("#mapping", "helpline-fr")
            page.set_input_files("#file", str(data / "helpline-fr.csv"))
            page.click("main button[type=submit]")  # not the header's log-out button
            expect(page.locator("#preview-records")).to_be_visible()
            expect(page.locator("body")).to_contain_text("Prénom")  # named as dropped
            page.click("#start-import")
            # htmx polls the job until the reconciliation appears
            expect(page.locator("#reconciliation")).to_contain_text("yes", timeout=30_000)
            page.click("text=full quality report")
            expect(page.locator("#fields")).to_contain_text("received_date")
        finally:
            browser.close()
    engine.dispose()
