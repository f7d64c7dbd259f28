"""POST /api/lint and the term checker page."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_lint_finds_terms_with_replacement_and_position(client: TestClient) -> None:
    text = "Line one.\nReports of Child Pornography rose; la pédopornographie aussi."
    body = client.post("/api/lint", json={"text": text}).json()
    assert body["summary"]["findings"] == 2
    first, second = body["findings"]
    assert (first["line"], first["column"]) == (2, 12)
    assert first["concept_id"] == "abuse.csam"
    assert first["replacement"] == "child sexual abuse material"
    assert first["reason"]
    assert second["lang"] == "fr"


def test_lint_fix_returns_fixed_text(client: TestClient) -> None:
    body = client.post(
        "/api/lint", json={"text": "CHILD PORNOGRAPHY is a crime.", "fix": True}
    ).json()
    assert body["fixed_text"] == "CHILD SEXUAL ABUSE MATERIAL is a crime."


def test_lint_clean_text_and_language_filter(client: TestClient) -> None:
    assert client.post("/api/lint", json={"text": "grooming"}).json()["findings"] == []
    body = client.post(
        "/api/lint", json={"text": "pornografía infantil", "languages": ["fr"]}
    ).json()
    assert body["findings"] == []


def test_lint_unknown_language_is_a_problem(client: TestClient) -> None:
    response = client.post("/api/lint", json={"text": "x", "languages": ["xx"]})
    assert response.status_code == 422
    assert "unknown language" in response.json()["detail"]


def test_lint_hostile_input(client: TestClient) -> None:
    hostile = "\x00\ufeff\u202e<script>child pornography</script>\ud7ff" * 10
    body = client.post("/api/lint", json={"text": hostile}).json()
    assert body["summary"]["findings"] == 10
    assert client.post("/api/lint", content=b"\xff\xfe not json").status_code == 422


def test_term_checker_page_highlights_and_escapes(client: TestClient) -> None:
    page = client.post("/lint", data={"text": "<b>child porn</b> and kiddie porn"})
    assert page.status_code == 200
    assert '<mark class="finding"' in page.text
    assert "<b>child" not in page.text
    assert "&lt;b&gt;" in page.text
    assert "child sexual abuse material" in page.text
