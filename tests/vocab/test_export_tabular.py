"""JSON and CSV exports: they parse back with the standard library and say what the model says."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings

from concord.errors import MalformedFileError, VocabularyError
from concord.vocab.export_tabular import (
    TERM_COLUMNS,
    concept_columns,
    from_json,
    to_csv,
    to_json,
    to_terms_csv,
)
from concord.vocab.model import Vocabulary
from tests.vocab.export_samples import sample_vocabulary, vocabularies


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_concept_csv_has_one_row_per_concept_and_the_right_columns() -> None:
    vocabulary = sample_vocabulary()
    text = to_csv(vocabulary)
    header = next(csv.reader(io.StringIO(text, newline="")))
    assert header == [
        "scheme",
        "id",
        "status",
        "replaced_by",
        "notation",
        "iccs",
        "broader",
        "label_en",
        "label_fr",
        "label_zh",
        "definition_en",
        "alt_labels_en",
        "alt_labels_fr",
        "alt_labels_zh",
        "note",
    ]
    assert header == concept_columns(vocabulary)
    rows = _rows(text)
    assert [r["id"] for r in rows] == [c.id for _, c in vocabulary.concepts()]


def test_concept_csv_keeps_tricky_text() -> None:
    rows = {r["id"]: r for r in _rows(to_csv(sample_vocabulary()))}
    csam = rows["abuse.csam"]
    assert csam["scheme"] == "abuse_type"
    assert csam["iccs"] == "030101;0301"
    assert csam["notation"] == "C-1"
    assert csam["label_zh"] == "儿童性虐待材料"
    assert csam["label_fr"] == "Matériel d'abus sexuel sur enfant"
    assert csam["definition_en"] == 'Material "depicting"\nsexual abuse of a child.'
    assert csam["note"] == 'Scope: "all" media,\r\nincluding video \\ stills'
    assert csam["alt_labels_en"] == 'CSAM;CSAM;abuse "material";a; b'
    assert csam["alt_labels_fr"] == ""
    assert rows["abuse.csam.generated"]["broader"] == "abuse.csam"
    old = rows["abuse.old_term"]
    assert (old["status"], old["replaced_by"]) == ("deprecated", "abuse.csam")
    assert rows["abuse.grooming"]["replaced_by"] == ""


def test_terms_csv_has_one_row_per_discouraged_term() -> None:
    text = to_terms_csv(sample_vocabulary())
    assert next(csv.reader(io.StringIO(text, newline=""))) == TERM_COLUMNS
    rows = _rows(text)
    assert [(r["concept"], r["lang"], r["term"], r["replacement"], r["fixable"]) for r in rows] == [
        ("abuse.csam", "en", "child pornography", "Child sexual abuse material", "true"),
        ("abuse.csam", "fr", "pédopornographie", "matériel d'abus sexuel", "false"),
        ("abuse.grooming", "en", "seduction", "Grooming", "false"),
    ]
    assert rows[1]["reason"] == 'Implies "consent"'


def test_csv_uses_crlf_and_is_deterministic() -> None:
    text = to_csv(sample_vocabulary())
    assert text.endswith("\r\n")
    assert text == to_csv(sample_vocabulary())


def test_json_loads_validates_back_and_carries_narrower() -> None:
    vocabulary = sample_vocabulary()
    text = to_json(vocabulary)
    data = json.loads(text)
    assert (data["format"], data["format_version"], data["version"]) == (
        "concord-vocabulary",
        1,
        "1.2.3",
    )
    assert "exported_at" not in data
    concepts = {c["id"]: c for s in data["schemes"] for c in s["concepts"]}
    assert concepts["abuse.csam"]["narrower"] == ["abuse.csam.generated"]
    assert concepts["abuse.grooming"]["narrower"] == []
    assert concepts["abuse.csam"]["uri"] == "https://w3id.org/concord/vocab/concept/abuse.csam"
    assert data["changelog"][0]["date"] == "2024-05-01"
    assert "儿童性虐待材料" in text  # readable, not \\u-escaped
    assert from_json(text) == vocabulary
    # Without the derived keys the body is exactly the model.
    for scheme in data["schemes"]:
        del scheme["uri"]
        for concept in scheme["concepts"]:
            del concept["uri"], concept["narrower"]
    del data["format"], data["format_version"]
    assert Vocabulary.model_validate(data) == vocabulary


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vocabularies())
def test_generated_vocabularies_round_trip_through_json_and_csv(vocabulary: Vocabulary) -> None:
    assert from_json(to_json(vocabulary)) == vocabulary
    rows = _rows(to_csv(vocabulary))
    assert len(rows) == sum(len(s.concepts) for s in vocabulary.schemes)
    for row, (scheme, concept) in zip(rows, vocabulary.concepts(), strict=True):
        assert (row["scheme"], row["id"]) == (scheme.id, concept.id)
        assert row["label_en"] == concept.labels["en"]
        assert row["note"] == (concept.note or "")
    terms = _rows(to_terms_csv(vocabulary))
    assert [r["term"] for r in terms] == [
        t.term for _, c in vocabulary.concepts() for t in c.discouraged
    ]


def test_shipped_vocabulary_exports(vocabulary: Vocabulary) -> None:
    assert from_json(to_json(vocabulary)) == vocabulary
    assert len(_rows(to_csv(vocabulary))) == sum(len(s.concepts) for s in vocabulary.schemes)
    terms = _rows(to_terms_csv(vocabulary))
    assert len(terms) == sum(len(c.discouraged) for _, c in vocabulary.concepts())
    assert all(r["replacement"] for r in terms)


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("{not json", MalformedFileError, r"export\.json line 1, column 2"),
        ("[]", VocabularyError, "not a Concord vocabulary export"),
        ('{"format": "concord-vocabulary", "format_version": 99}', VocabularyError, "99"),
        (
            '{"format": "concord-vocabulary", "format_version": 1, "schemes": 5}',
            VocabularyError,
            "expected shape",
        ),
        (
            '{"format": "concord-vocabulary", "format_version": 1, "version": "x"}',
            VocabularyError,
            "expected shape",
        ),
    ],
)
def test_bad_json_is_reported(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        from_json(text, source="export.json")
