"""Browser test: a person opens the vocabulary, searches, and reaches a concept page."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from concord.config import Settings
from concord.web.app import create_app
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, live_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]


def test_search_the_vocabulary_and_open_a_concept(engine: Engine) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = create_app(Settings(database_url=str(engine.url)), engine=engine)
    with live_server(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/vocab")
            expect(page.locator("h1")).to_contain_text("Shared vocabulary")
            # htmx live search: typing replaces the results without a page load
            page.fill("#q", "pornografía infantil")
            expect(page.locator("#result-count")).to_contain_text("matching")
            expect(page.locator("#results table")).to_contain_text("abuse.csam")
            assert "q=" in page.url  # the search is bookmarkable
            page.click("#results a[href='/vocab/abuse.csam']")
            expect(page.locator("h1")).to_contain_text("child sexual abuse material")
            expect(page.locator("table.avoid")).to_contain_text("child pornography")
        finally:
            browser.close()
