"""The vocabulary API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from concord.vocab.model import Vocabulary


def test_schemes_lists_every_scheme_with_counts(client: TestClient, vocabulary: Vocabulary) -> None:
    body = client.get("/api/vocab/schemes").json()
    assert body["version"] == vocabulary.version
    counts = {s["id"]: s["concept_count"] for s in body["schemes"]}
    assert counts == {s.id: len(s.concepts) for s in vocabulary.schemes}


def test_concept_search_finds_across_languages(client: TestClient) -> None:
    body = client.get("/api/vocab/concepts", params={"q": "pornografía infantil"}).json()
    assert "abuse.csam" in [item["id"] for item in body["items"]]
    first = body["items"][0]
    assert first["url"].startswith("/api/vocab/concepts/")
    assert set(first["labels"]) >= {"en", "fr", "es", "zh"}


def test_concept_search_pages(client: TestClient) -> None:
    body = client.get(
        "/api/vocab/concepts", params={"scheme": "country", "limit": 5, "offset": 10}
    ).json()
    assert len(body["items"]) == 5
    assert body["total"] >= 249
    assert (body["limit"], body["offset"]) == (5, 10)


def test_concept_detail(client: TestClient, vocabulary: Vocabulary) -> None:
    body = client.get("/api/vocab/concepts/abuse.csam").json()
    expected = vocabulary.get("abuse.csam")
    assert expected is not None
    assert body["definition"]["en"] == expected.definition["en"]
    assert "030221" in body["iccs"]
    assert any(t["term"].casefold() == "child pornography" for t in body["discouraged"])
    assert all(t["use"] for t in body["discouraged"])
    assert sorted(body["narrower"]) == sorted(vocabulary.narrower("abuse.csam"))


def test_unknown_concept_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/vocab/concepts/abuse.nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert "abuse.nope" in body["detail"]


def test_unknown_scheme_filter_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/vocab/concepts", params={"scheme": "nope"})
    assert response.status_code == 404


def test_bad_parameters_are_a_422_problem(client: TestClient) -> None:
    response = client.get("/api/vocab/concepts", params={"limit": 0})
    assert response.status_code == 422
    body = response.json()
    assert body["title"] == "Invalid request"
    assert body["errors"][0]["location"] == "query.limit"


def test_health(client: TestClient, vocabulary: Vocabulary) -> None:
    assert client.get("/api/health").json()["vocabulary"] == vocabulary.version


def test_export_downloads_each_format(client: TestClient, vocabulary: Vocabulary) -> None:
    from concord.vocab.export_skos import from_turtle

    turtle = client.get("/api/vocab/export/skos")
    assert turtle.status_code == 200
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert (
        f"concord-vocabulary-{vocabulary.version}-skos.ttl" in turtle.headers["content-disposition"]
    )
    assert from_turtle(turtle.text) == vocabulary
    misp = client.get("/api/vocab/export/misp").json()
    assert misp["namespace"] == "concord"
    assert client.get("/api/vocab/export/csv-terms").text.startswith("concept,")


def test_unknown_export_format_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/api/vocab/export/pdf")
    assert response.status_code == 422
    assert "choose one of" in response.json()["detail"]
