"""POST /api/crosswalks/check."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

EXAMPLES = Path(__file__).parents[2] / "examples" / "crosswalks"


def test_broken_example_reports_issues_with_lines(client: TestClient) -> None:
    content = (EXAMPLES / "broken.yaml").read_text(encoding="utf-8")
    body = client.post("/api/crosswalks/check", json={"content": content}).json()
    assert body["ok"] is False
    kinds = {issue["kind"] for issue in body["issues"]}
    assert {"unmapped", "unknown_target", "wrong_scheme", "ambiguous"} <= kinds
    assert all(issue["line"] >= 1 for issue in body["issues"])
    assert isinstance(body["suggestions"], list)


def test_csv_crosswalk(client: TestClient) -> None:
    content = (EXAMPLES / "hotline-es.csv").read_text(encoding="utf-8")
    body = client.post(
        "/api/crosswalks/check",
        json={"content": content, "format": "csv", "organisation": "hotline-es"},
    ).json()
    assert body["organisation"] == "hotline-es"
    assert body["errors"] == 0


def test_malformed_yaml_is_a_problem_with_a_line(client: TestClient) -> None:
    response = client.post("/api/crosswalks/check", json={"content": "mappings: [\n  - a: :\n"})
    assert response.status_code == 422
    assert "line" in response.json()["detail"]


def test_wrong_shape_is_a_problem(client: TestClient) -> None:
    response = client.post("/api/crosswalks/check", json={"content": 42, "format": "xml"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
