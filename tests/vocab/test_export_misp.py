"""MISP taxonomy export: the misp-taxonomies ``machinetag.json`` shape and machine-tag form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from concord.errors import VocabularyError
from concord.vocab.export_misp import machine_tag, misp_version, to_misp_json, to_misp_taxonomy
from concord.vocab.model import Vocabulary
from tests.vocab.export_samples import sample_vocabulary, vocabularies

# The keys misp-taxonomies' schema.json allows (it sets additionalProperties: false).
TOP_KEYS = {
    "namespace",
    "description",
    "version",
    "expanded",
    "refs",
    "type",
    "predicates",
    "values",
}
PREDICATE_KEYS = {"value", "expanded", "description", "colour", "numerical_value", "exclusive"}
ENTRY_KEYS = {"value", "expanded", "description", "colour", "numerical_value"}


def _check_shape(taxonomy: dict[str, Any], vocabulary: Vocabulary) -> None:
    assert {"namespace", "description", "version", "predicates"} <= set(taxonomy) <= TOP_KEYS
    assert taxonomy["namespace"] == "concord"
    assert isinstance(taxonomy["version"], int)
    predicates = [p["value"] for p in taxonomy["predicates"]]
    assert predicates == [s.id for s in vocabulary.schemes]  # one predicate per scheme
    assert all(set(p) <= PREDICATE_KEYS for p in taxonomy["predicates"])
    assert len({v["predicate"] for v in taxonomy["values"]}) == len(taxonomy["values"])
    for block in taxonomy["values"]:
        assert block["predicate"] in predicates
        values = [e["value"] for e in block["entry"]]
        assert len(values) == len(set(values)), f"duplicate entries in {block['predicate']}"
        assert all(set(e) <= ENTRY_KEYS and e["value"] for e in block["entry"])
    tags = {
        f'{taxonomy["namespace"]}:{block["predicate"]}="{entry["value"]}"'
        for block in taxonomy["values"]
        for entry in block["entry"]
    }
    assert tags == {machine_tag(vocabulary, c.id) for _, c in vocabulary.concepts()}


def test_sample_taxonomy_shape_and_content() -> None:
    vocabulary = sample_vocabulary()
    taxonomy = to_misp_taxonomy(vocabulary)
    _check_shape(taxonomy, vocabulary)
    assert taxonomy["version"] == 10203
    assert taxonomy["predicates"][0] == {
        "value": "abuse_type",
        "expanded": "Abuse type",
        "description": 'Kinds of "abuse"',
    }
    # A scheme without concepts is a predicate without values.
    assert [v["predicate"] for v in taxonomy["values"]] == ["abuse_type"]
    entries = {e["value"]: e for e in taxonomy["values"][0]["entry"]}
    assert entries["csam"] == {
        "value": "csam",
        "expanded": "Child sexual abuse material",
        "description": 'Material "depicting"\nsexual abuse of a child.',
    }
    assert entries["csam.generated"]["expanded"] == "AI-generated CSAM"


def test_machine_tag_form() -> None:
    vocabulary = sample_vocabulary()
    assert machine_tag(vocabulary, "abuse.csam") == 'concord:abuse_type="csam"'
    assert machine_tag(vocabulary, "abuse.csam.generated") == 'concord:abuse_type="csam.generated"'
    with pytest.raises(VocabularyError, match="no concept"):
        machine_tag(vocabulary, "abuse.nope")


def test_deprecated_concepts_are_kept_and_marked() -> None:
    taxonomy = to_misp_taxonomy(sample_vocabulary())
    old = next(e for e in taxonomy["values"][0]["entry"] if e["value"] == "old_term")
    assert old["expanded"] == "Old term (deprecated)"
    assert old["description"] == 'Deprecated: use concord:abuse_type="csam" instead. Superseded.'


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.0.1", 1), ("1.0.0", 10000), ("2.13.7", 21307), ("10.99.99", 109999)],
)
def test_version_is_an_integer_from_semver(version: str, expected: int) -> None:
    assert misp_version(version) == expected


def test_version_parts_above_99_are_refused() -> None:
    with pytest.raises(VocabularyError, match="below 100"):
        misp_version("1.100.0")


def test_json_text_is_deterministic_and_readable() -> None:
    text = to_misp_json(sample_vocabulary())
    assert json.loads(text) == to_misp_taxonomy(sample_vocabulary())
    assert text == to_misp_json(sample_vocabulary())
    assert "Matériel" not in text  # labels are English only
    assert text.endswith("}\n")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vocabularies())
def test_generated_vocabularies_give_valid_taxonomies(vocabulary: Vocabulary) -> None:
    _check_shape(json.loads(to_misp_json(vocabulary)), vocabulary)


def test_shipped_vocabulary_taxonomy(vocabulary: Vocabulary) -> None:
    taxonomy = to_misp_taxonomy(vocabulary)
    _check_shape(taxonomy, vocabulary)
    assert machine_tag(vocabulary, "abuse.csam") == 'concord:abuse_type="csam"'
