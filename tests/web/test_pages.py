"""The vocabulary pages, rendered server-side."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_vocab_page_lists_and_searches(client: TestClient) -> None:
    page = client.get("/vocab", params={"q": "grooming"})
    assert page.status_code == 200
    assert "abuse.grooming" in page.text
    assert "<html" in page.text


def test_htmx_request_gets_only_the_results(client: TestClient) -> None:
    fragment = client.get("/vocab", params={"q": "grooming"}, headers={"HX-Request": "true"})
    assert "abuse.grooming" in fragment.text
    assert "<html" not in fragment.text


def test_search_text_is_escaped(client: TestClient) -> None:
    page = client.get("/vocab", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_concept_page_shows_definition_labels_and_terms_to_avoid(client: TestClient) -> None:
    page = client.get("/vocab/abuse.csam")
    assert page.status_code == 200
    for text in ("Definition", "Terms to avoid", "030221", "Français", "中文"):
        assert text in page.text


def test_missing_concept_page_is_friendly_html(client: TestClient) -> None:
    page = client.get("/vocab/abuse.nope", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "<html" in page.text
    assert "abuse.nope" in page.text


def test_home(client: TestClient) -> None:
    assert "Browse the vocabulary" in client.get("/").text
