"""Every API error has the same RFC 9457 shape, whatever raised it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def _assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/vocab/concepts/abuse.nope", {}, 404),
        ("GET", "/api/vocab/concepts", {"params": {"scheme": "nope"}}, 404),
        ("GET", "/api/vocab/concepts", {"params": {"limit": "many"}}, 422),
        ("GET", "/api/vocab/concepts", {"params": {"q": "x" * 5000}}, 422),
        ("GET", "/api/vocab/export/docx", {}, 422),
        ("GET", "/api/no/such/route", {}, 404),
        ("DELETE", "/api/vocab/schemes", {}, 405),
    ],
)
def test_errors_are_problem_documents(
    client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    _assert_problem(client.request(method, path, **kwargs), status)


def test_oversized_body_is_refused_before_reading(client: TestClient) -> None:
    body = _assert_problem(client.post("/api/vocab/schemes", content=b"x" * 100_000), 413)
    assert "larger than the limit" in body["detail"]


def test_oversized_streamed_body_is_refused(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"y" * 4096

    _assert_problem(client.post("/api/lint", content=chunks()), 413)
